/* cleaner.c: log compaction (cleanup.policy=compact): keeps the latest record
 * of each key in the sealed segments, drops tombstones once they are older
 * than delete.retention.ms, and never changes an offset.
 *
 * Design note. A pass has two steps, both on the caller's thread:
 *   1. map: every uncompressed, non-transactional record of every segment
 *      (the active one included, read only) gives key -> its latest offset;
 *   2. rewrite: each sealed segment is copied to <base>.log.cleaned keeping
 *      a record only if it is the latest of its key (and not an expired
 *      tombstone). A batch that keeps all its records is copied byte for
 *      byte; one that keeps some is rebuilt with the same base offset,
 *      lastOffsetDelta, producer fields and timestamps; one that keeps none
 *      is dropped, or kept empty if it carries a producer id (its sequence
 *      range is producer state). The copy is fsynced, the old indexes are
 *      removed, the copy is renamed over the .log (atomic), and the indexes
 *      are rebuilt from it. A crash at any point leaves either file whole;
 *      a leftover .cleaned file is deleted at open; missing indexes are
 *      rebuilt.
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
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "common/buf.h"
#include "common/log.h"

#include "broker/log/batch.h"
#include "broker/log/log-private.h"

#define WRITE_CHUNK (1024 * 1024)

static bool compactable(const uint8_t *batch)
{
    int16_t attributes = rb_batch_attributes(batch);
    return (attributes & (RB_BATCH_ATTR_COMPRESSION_MASK | RB_BATCH_ATTR_TRANSACTIONAL |
                          RB_BATCH_ATTR_CONTROL)) == 0;
}

/* Calls fn on every batch of seg (whole, through w). Returns 0 or -1. */
typedef int (*batch_fn)(const uint8_t *batch, size_t size, void *ctx);
static int each_batch(rb_segment_t *seg, rb_window_t *w, batch_fn fn, void *ctx)
{
    rb__window_invalidate(w);
    int64_t pos = 0;
    while (pos < seg->size) {
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

/* Rewrites one sealed segment. Returns the bytes removed, or -1. */
static int64_t compact_segment(rb_log_t *log, rb_segment_t *seg, GHashTable *latest,
                               int64_t horizon, rb_window_t *w)
{
    g_autofree char *log_path = seg_file(seg, ".log");
    g_autofree char *tmp_path = seg_file(seg, ".log.cleaned");
    rewrite_t rw = {.latest = latest, .tombstone_horizon = horizon};
    rw.fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rw.fd < 0)
        return -1;
    rill__wbuf_init(&rw.out, 64 * 1024);
    int rc = each_batch(seg, w, rewrite_batch, &rw);
    if (rc == 0 && rw.changed)
        rc = flush_out(&rw);
    if (rc == 0 && rw.changed)
        rc = rb__log_fsync(rw.fd, true);
    rill__wbuf_free(&rw.out);
    close(rw.fd);
    if (rc != 0 || !rw.changed) {
        unlink(tmp_path);
        return rc != 0 ? -1 : 0;
    }

    /* stale indexes go first: a crash after the rename finds none and rebuilds */
    g_autofree char *index_path = seg_file(seg, ".index");
    g_autofree char *time_path = seg_file(seg, ".timeindex");
    unlink(index_path);
    unlink(time_path);
    int fd = open(tmp_path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || rename(tmp_path, log_path) != 0) {
        int saved = errno;
        if (fd >= 0)
            close(fd);
        unlink(tmp_path);
        seg->index_dirty = true; /* rewritten at close */
        errno = saved;
        return -1;
    }
    rb__log_fsync(log->dir_fd, false);
    rb__log_cache_forget(log, seg);
    close(seg->fd);
    seg->fd = fd;
    int64_t removed = seg->size - rw.written;
    seg->size = rw.written;
    seg->unflushed = false;
    seg->max_timestamp = -1;
    seg->max_ts_offset = -1;
    rb__segment_reset_indexes(seg);
    rb_scan_result_t res;
    if (rb__segment_scan(seg, w, 0, seg->base_offset, seg->size, false,
                         log->config.index_interval_bytes, &res) != 0 ||
        res.why != NULL)
        RILL_LOG_WARN(LOG_COMPONENT, "compacted segment does not scan: %s file=%s.log",
                      res.why ? res.why : g_strerror(errno), seg->path);
    rb__segment_seal_time_index(seg);
    if (rb__segment_write_indexes(seg) != 0)
        RILL_LOG_WARN(LOG_COMPONENT, "cannot write index (it will be rebuilt): %s file=%s.index",
                      g_strerror(errno), seg->path);
    return removed;
}

int64_t rb_log_compact(rb_log_t *log, int64_t now_ms)
{
    if (log->n_segs < 2)
        return 0;
    GHashTable *latest = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                               (GDestroyNotify)g_bytes_unref, g_free);
    rb_window_t w;
    rb__window_init(&w, RECOVERY_READAHEAD);
    int64_t removed = 0;
    for (size_t i = 0; i < log->n_segs; i++) {
        if (each_batch(log->segs[i], &w, map_batch, latest) != 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "compaction cannot read %s.log", log->segs[i]->path);
            removed = -1;
            goto done;
        }
    }
    int64_t horizon = log->config.delete_retention_ms >= 0
                          ? now_ms - log->config.delete_retention_ms
                          : INT64_MIN;
    for (size_t i = 0; i + 1 < log->n_segs; i++) {
        int64_t r = compact_segment(log, log->segs[i], latest, horizon, &w);
        if (r < 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "compaction of %s.log failed: %s", log->segs[i]->path,
                          g_strerror(errno));
            removed = -1;
            goto done;
        }
        removed += r;
    }
    log->cleaned_upto = log->segs[log->n_segs - 1]->base_offset;
    RILL_LOG_INFO(LOG_COMPONENT, "compacted dir=%s keys=%u bytes_removed=%" PRId64, log->dir,
                  g_hash_table_size(latest), removed);
done:
    rb__window_free(&w);
    g_hash_table_destroy(latest);
    return removed;
}

int64_t rb__log_maybe_compact(rb_log_t *log, int64_t now_ms)
{
    int64_t sealed = 0, dirty = 0;
    for (size_t i = 0; i + 1 < log->n_segs; i++) {
        sealed += log->segs[i]->size;
        if (log->segs[i]->base_offset >= log->cleaned_upto)
            dirty += log->segs[i]->size;
    }
    if (dirty == 0 || dirty * 2 < sealed)
        return 0;
    return rb_log_compact(log, now_ms);
}
