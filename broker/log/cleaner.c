/* cleaner.c: log compaction (cleanup.policy=compact): keeps the latest record
 * of each key in the sealed segments, drops tombstones once they are older
 * than delete.retention.ms, and never changes an offset.
 *
 * Design note. A pass is a job run on the cleaner thread (one for the
 * process), so that the broker's loop never waits for it:
 *
 *   log thread                         cleaner thread
 *   rb__log_maybe_compact:
 *     snapshot the segments (dup'd fds,
 *     sizes) ---- job ---------------> 1. map: every uncompressed,
 *                                         non-transactional record of every
 *                                         segment (the active one up to its
 *                                         snapshot size) gives key -> latest
 *                                         offset
 *                                      2. rewrite: each sealed segment is
 *                                         copied to <base>.log.cleaned keeping
 *                                         the latest record of each key (and
 *                                         no expired tombstone), fsynced, and
 *                                         indexed in memory
 *   rb__log_maybe_compact (later) <--- done
 *     swap: for each copy whose segment
 *     is still there unchanged: remove
 *     its index files, rename the copy
 *     over the .log (atomic), take the
 *     copy's fd and indexes
 *
 * A batch that keeps all its records is copied byte for byte; one that keeps
 * some is rebuilt with the same base offset, lastOffsetDelta, producer fields
 * and timestamps; one that keeps none is dropped, or kept empty if it carries
 * a producer id (its sequence range is producer state). Segments deleted by
 * retention meanwhile lose their copy. A crash at any point leaves either file
 * whole; a leftover .cleaned file is deleted at open; missing indexes are
 * rebuilt. Closing the log cancels a running job and waits for it.
 * What is never compacted: the active segment; compressed batches (their
 * records are opaque here) and transactional or control batches (an aborted
 * record must not hide a committed one) -- these are copied as they are and
 * do not take part in the map.
 * A pass runs when the sealed bytes written since the last pass are at least
 * half of all sealed bytes (Kafka's min.cleanable.dirty.ratio default). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "common/buf.h"
#include "common/log.h"

#include "broker/log/batch.h"
#include "broker/log/log-private.h"

/* One segment as the job sees it. */
typedef struct clean_seg {
    rb_segment_t *reader; /* detached: a dup'd fd, the snapshot size */
    bool sealed;
    int64_t old_size;
    /* results, for a sealed segment that changed: */
    rb_segment_t *copy; /* the .cleaned file (fd, size, indexes) */
} clean_seg_t;

struct rb_clean_job {
    pthread_mutex_t mu; /* pthread, not GMutex: ThreadSanitizer understands it */
    pthread_cond_t cond;
    int refs;  /* the log's and the thread's */
    bool done; /* the thread is finished with it */
    gint cancel;
    int64_t horizon; /* tombstones in batches older than this go */
    int32_t interval;
    clean_seg_t *segs;
    size_t n;
    bool failed;
    unsigned keys;
};

#define WRITE_CHUNK (1024 * 1024)

static bool compactable(const uint8_t *batch)
{
    int16_t attributes = rb_batch_attributes(batch);
    return (attributes & (RB_BATCH_ATTR_COMPRESSION_MASK | RB_BATCH_ATTR_TRANSACTIONAL |
                          RB_BATCH_ATTR_CONTROL)) == 0;
}

/* Calls fn on every batch of seg (whole, through w). Returns 0 or -1 (also
 * when cancel becomes set). */
typedef int (*batch_fn)(const uint8_t *batch, size_t size, void *ctx);
static int each_batch(rb_segment_t *seg, rb_window_t *w, batch_fn fn, void *ctx,
                      const gint *cancel)
{
    rb__window_invalidate(w);
    int64_t pos = 0;
    while (pos < seg->size) {
        if (g_atomic_int_get(cancel))
            return -1;
        bool io_err;
        const uint8_t *hdr = rb__window_get(w, seg, pos, RB_BATCH_HEADER_SIZE, &io_err);
        if (hdr == NULL || rb_batch_length(hdr) < RB_BATCH_HEADER_SIZE - RB_BATCH_LOG_OVERHEAD)
            return -1;
        size_t size = rb_batch_size(hdr);
        const uint8_t *batch = rb__window_get(w, seg, pos, size, &io_err);
        if (batch == NULL || fn(batch, size, ctx) != 0)
            return -1;
        pos += (int64_t)size;
    }
    return 0;
}

/* ---- step 1: the map ----------------------------------------------------- */

static int map_batch(const uint8_t *batch, size_t size, void *ctx)
{
    GHashTable *latest = ctx;
    if (!compactable(batch))
        return 0;
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, batch, size);
    while (rb_record_iter_next(&it, &rec) == 1) {
        if (rec.key == NULL)
            continue;
        GBytes *key = g_bytes_new(rec.key, (gsize)rec.key_len);
        int64_t *offset = g_hash_table_lookup(latest, key);
        if (offset == NULL) {
            offset = g_new(int64_t, 1);
            g_hash_table_insert(latest, key, offset);
        } else {
            g_bytes_unref(key);
        }
        *offset = rec.offset;
    }
    return it.err ? -1 : 0;
}

/* ---- step 2: rewriting a segment --------------------------------------- */

typedef struct rewrite {
    GHashTable *latest;
    int64_t tombstone_horizon; /* tombstones in batches older than this go */
    int fd;                    /* the .cleaned file */
    rill_wbuf_t out;
    int64_t written;
    bool changed;
} rewrite_t;

static int flush_out(rewrite_t *rw)
{
    size_t done = 0;
    while (done < rw->out.len) {
        ssize_t n = write(rw->fd, rw->out.data + done, rw->out.len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    rw->written += (int64_t)rw->out.len;
    rill__wbuf_reset(&rw->out);
    return 0;
}

static bool keep_record(const rewrite_t *rw, const rb_record_t *rec, bool batch_expired)
{
    if (rec->key == NULL)
        return true;
    GBytes *k = g_bytes_new_static(rec->key, (gsize)rec->key_len);
    const int64_t *latest = g_hash_table_lookup(rw->latest, k);
    g_bytes_unref(k);
    if (latest != NULL && *latest != rec->offset)
        return false;
    return !(rec->value == NULL && batch_expired);
}

static int rewrite_batch(const uint8_t *batch, size_t size, void *ctx)
{
    rewrite_t *rw = ctx;
    if (!compactable(batch)) {
        rill__wbuf_put(&rw->out, batch, size);
        return rw->out.len >= WRITE_CHUNK ? flush_out(rw) : 0;
    }
    bool expired = rb_batch_max_timestamp(batch) < rw->tombstone_horizon;
    rb_record_iter_t it;
    rb_record_t rec;
    int32_t kept = 0, total = 0;
    rb_record_iter_init(&it, batch, size);
    while (rb_record_iter_next(&it, &rec) == 1) {
        total++;
        kept += keep_record(rw, &rec, expired);
    }
    if (it.err)
        return -1;
    if (kept == total) {
        rill__wbuf_put(&rw->out, batch, size);
    } else if (kept > 0 || rb_batch_producer_id(batch) >= 0) {
        rb_batch_builder_t b;
        rb_batch_builder_init(&b, rb_batch_base_offset(batch));
        b.leader_epoch = rb_batch_leader_epoch(batch);
        b.attributes = rb_batch_attributes(batch);
        b.producer_id = rb_batch_producer_id(batch);
        b.producer_epoch = rb_batch_producer_epoch(batch);
        b.base_sequence = rb_batch_base_sequence(batch);
        rb_record_iter_init(&it, batch, size);
        while (rb_record_iter_next(&it, &rec) == 1)
            if (keep_record(rw, &rec, expired))
                rb_batch_builder_add_record(&b, &rec);
        b.last_offset_delta = rb_batch_last_offset_delta(batch); /* the range stays */
        size_t len;
        uint8_t *out = rb_batch_builder_finish(&b, &len);
        if (rb_batch_is_log_append_time(batch))
            rb_batch_set_log_append_time(out, len, rb_batch_max_timestamp(batch));
        rill__wbuf_put(&rw->out, out, len);
        g_free(out);
        rw->changed = true;
    } else {
        rw->changed = true; /* nothing left: the batch goes */
    }
    return rw->out.len >= WRITE_CHUNK ? flush_out(rw) : 0;
}

static char *seg_file(const rb_segment_t *seg, const char *ext)
{
    return g_strconcat(seg->path, ext, NULL);
}

/* Writes the compacted copy of a sealed segment. Returns 0 (cs->copy set if
 * anything changed) or -1. */
static int rewrite_segment(clean_seg_t *cs, GHashTable *latest, const rb_clean_job_t *job,
                           rb_window_t *w)
{
    rb_segment_t *seg = cs->reader;
    g_autofree char *tmp_path = seg_file(seg, ".log.cleaned");
    rewrite_t rw = {.latest = latest, .tombstone_horizon = job->horizon};
    rw.fd = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rw.fd < 0)
        return -1;
    rill__wbuf_init(&rw.out, 64 * 1024);
    int rc = each_batch(seg, w, rewrite_batch, &rw, &job->cancel);
    if (rc == 0 && rw.changed)
        rc = flush_out(&rw);
    if (rc == 0 && rw.changed)
        rc = rb__log_fsync(rw.fd, true);
    rill__wbuf_free(&rw.out);
    if (rc != 0 || !rw.changed) {
        close(rw.fd);
        unlink(tmp_path);
        return rc;
    }
    /* the copy, indexed as a segment of the same base */
    rb_segment_t *copy = g_new0(rb_segment_t, 1);
    copy->base_offset = seg->base_offset;
    copy->next_offset = seg->next_offset;
    copy->fd = rw.fd;
    copy->size = rw.written;
    copy->path = g_strdup(seg->path);
    copy->max_timestamp = -1;
    copy->max_ts_offset = -1;
    rb__segment_reset_indexes(copy);
    rb_scan_result_t res;
    if (rb__segment_scan(copy, w, 0, copy->base_offset, copy->size, false, job->interval,
                         &res) != 0 ||
        res.why != NULL) {
        rb__segment_free(copy);
        unlink(tmp_path);
        return -1;
    }
    rb__segment_seal_time_index(copy);
    cs->copy = copy;
    return 0;
}

static void job_unref(rb_clean_job_t *job)
{
    pthread_mutex_lock(&job->mu);
    bool last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (!last)
        return;
    for (size_t i = 0; i < job->n; i++) {
        clean_seg_t *cs = &job->segs[i];
        if (cs->copy != NULL) { /* never swapped in */
            g_autofree char *tmp_path = seg_file(cs->copy, ".log.cleaned");
            unlink(tmp_path);
            rb__segment_free(cs->copy);
        }
        rb__segment_free(cs->reader);
    }
    g_free(job->segs);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cond);
    g_free(job);
}

/* The cleaner thread's part: map, then rewrite. */
/* Orders a job's creation before its run for ThreadSanitizer, which cannot
 * see through GLib's queue (its own futex-based locks). */
static pthread_mutex_t handoff = PTHREAD_MUTEX_INITIALIZER;

static void run_job(gpointer data, gpointer user_data)
{
    pthread_mutex_lock(&handoff);
    pthread_mutex_unlock(&handoff);
    rb_clean_job_t *job = data;
    GHashTable *latest = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                               (GDestroyNotify)g_bytes_unref, g_free);
    rb_window_t w;
    rb__window_init(&w, RECOVERY_READAHEAD);
    bool failed = false;
    for (size_t i = 0; i < job->n && !failed; i++)
        failed = each_batch(job->segs[i].reader, &w, map_batch, latest, &job->cancel) != 0;
    for (size_t i = 0; i < job->n && !failed; i++)
        if (job->segs[i].sealed)
            failed = rewrite_segment(&job->segs[i], latest, job, &w) != 0;
    if (failed && !g_atomic_int_get(&job->cancel))
        RILL_LOG_WARN(LOG_COMPONENT, "compaction failed: %s", g_strerror(errno));
    rb__window_free(&w);
    pthread_mutex_lock(&job->mu);
    job->keys = g_hash_table_size(latest);
    job->failed = failed;
    job->done = true;
    pthread_cond_broadcast(&job->cond);
    pthread_mutex_unlock(&job->mu);
    g_hash_table_destroy(latest);
    job_unref(job);
}

static GThreadPool *cleaner_pool(void)
{
    static GThreadPool *the_pool;
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        the_pool = g_thread_pool_new(run_job, NULL, 1, FALSE, NULL);
        g_once_init_leave(&once, 1);
    }
    return the_pool;
}

/* Starts a pass over the log's current segments. false if a descriptor
 * cannot be duplicated. */
static bool start_job(rb_log_t *log, int64_t now_ms)
{
    rb_clean_job_t *job = g_new0(rb_clean_job_t, 1);
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cond, NULL);
    job->refs = 2;
    job->horizon = log->config.delete_retention_ms >= 0 ? now_ms - log->config.delete_retention_ms
                                                        : INT64_MIN;
    job->interval = log->config.index_interval_bytes;
    job->segs = g_new0(clean_seg_t, log->n_segs);
    for (size_t i = 0; i < log->n_segs; i++) {
        rb_segment_t *live = log->segs[i];
        int fd = fcntl(live->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            job->refs = 1;
            job_unref(job);
            return false;
        }
        rb_segment_t *reader = g_new0(rb_segment_t, 1);
        reader->base_offset = live->base_offset;
        reader->next_offset = live->next_offset;
        reader->fd = fd;
        reader->size = live->size;
        reader->path = g_strdup(live->path);
        job->segs[job->n++] = (clean_seg_t){reader, i + 1 < log->n_segs, live->size, NULL};
    }
    log->clean_job = job;
    pthread_mutex_lock(&handoff); /* publishes the job to the cleaner thread */
    pthread_mutex_unlock(&handoff);
    g_thread_pool_push(cleaner_pool(), job, NULL);
    return true;
}

/* The log thread's part: swaps the copies in. Returns the bytes removed. */
static int64_t finish_job(rb_log_t *log, rb_clean_job_t *job)
{
    int64_t removed = 0;
    int swapped = 0;
    for (size_t i = 0; i < job->n && !job->failed; i++) {
        clean_seg_t *cs = &job->segs[i];
        if (cs->copy == NULL)
            continue;
        rb_segment_t *live = NULL;
        for (size_t k = 0; k + 1 < log->n_segs; k++)
            if (log->segs[k]->base_offset == cs->copy->base_offset)
                live = log->segs[k];
        if (live == NULL || live->size != cs->old_size)
            continue; /* deleted by retention meanwhile: the copy goes (job_unref) */
        g_autofree char *log_path = seg_file(live, ".log");
        g_autofree char *tmp_path = seg_file(live, ".log.cleaned");
        g_autofree char *index_path = seg_file(live, ".index");
        g_autofree char *time_path = seg_file(live, ".timeindex");
        /* stale indexes go first: a crash after the rename finds none and rebuilds */
        unlink(index_path);
        unlink(time_path);
        if (rename(tmp_path, log_path) != 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "cannot install compacted %s: %s", log_path,
                          g_strerror(errno));
            live->index_dirty = true; /* rewritten at close */
            continue;
        }
        rb__log_cache_forget(log, live);
        rb_segment_t *copy = cs->copy;
        cs->copy = NULL;
        removed += live->size - copy->size;
        close(live->fd);
        live->fd = copy->fd;
        copy->fd = -1;
        live->size = copy->size;
        live->unflushed = false; /* the copy was fsynced */
        live->max_timestamp = copy->max_timestamp;
        live->max_ts_offset = copy->max_ts_offset;
        rb_index_entry_t *index = live->index;
        rb_time_entry_t *tindex = live->tindex;
        live->index = copy->index;
        live->n_index = copy->n_index;
        live->cap_index = copy->cap_index;
        live->tindex = copy->tindex;
        live->n_tindex = copy->n_tindex;
        live->cap_tindex = copy->cap_tindex;
        copy->index = index;
        copy->tindex = tindex;
        live->index_loaded = true;
        live->index_dirty = true;
        if (rb__segment_write_indexes(live) != 0)
            RILL_LOG_WARN(LOG_COMPONENT,
                          "cannot write index (it will be rebuilt): %s file=%s.index",
                          g_strerror(errno), live->path);
        rb__segment_free(copy);
        swapped++;
    }
    if (swapped > 0)
        rb__log_fsync(log->dir_fd, false);
    if (!job->failed)
        log->cleaned_upto = job->segs[job->n - 1].reader->base_offset;
    RILL_LOG_INFO(LOG_COMPONENT, "compacted dir=%s keys=%u segments=%d bytes_removed=%" PRId64,
                  log->dir, job->keys, swapped, removed);
    return job->failed ? -1 : removed;
}

/* Waits for the running job (if any) and swaps it in, or drops it when
 * cancel. Returns the bytes removed (0 if there was none), or -1. */
static int64_t wait_job(rb_log_t *log, bool cancel)
{
    rb_clean_job_t *job = log->clean_job;
    if (job == NULL)
        return 0;
    if (cancel)
        g_atomic_int_set(&job->cancel, 1);
    pthread_mutex_lock(&job->mu);
    while (!job->done)
        pthread_cond_wait(&job->cond, &job->mu);
    pthread_mutex_unlock(&job->mu);
    log->clean_job = NULL;
    int64_t removed = cancel ? 0 : finish_job(log, job);
    job_unref(job);
    return removed;
}

void rb__log_cleaner_stop(rb_log_t *log)
{
    wait_job(log, true);
}

int64_t rb_log_compact(rb_log_t *log, int64_t now_ms)
{
    int64_t before = wait_job(log, false);
    if (before < 0 || log->n_segs < 2)
        return before < 0 ? -1 : 0;
    if (!start_job(log, now_ms))
        return -1;
    return wait_job(log, false);
}

int64_t rb__log_maybe_compact(rb_log_t *log, int64_t now_ms, bool may_start)
{
    rb_clean_job_t *job = log->clean_job;
    if (job != NULL) {
        pthread_mutex_lock(&job->mu);
        bool done = job->done;
        pthread_mutex_unlock(&job->mu);
        return done ? wait_job(log, false) : 0;
    }
    int64_t sealed = 0, dirty = 0;
    for (size_t i = 0; i + 1 < log->n_segs; i++) {
        sealed += log->segs[i]->size;
        if (log->segs[i]->base_offset >= log->cleaned_upto)
            dirty += log->segs[i]->size;
    }
    if (!may_start || dirty == 0 || dirty * 2 < sealed)
        return 0;
    start_job(log, now_ms);
    return 0;
}
