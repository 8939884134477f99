/* log.c: one partition's durable log: segments, append, fetch reads, offsets
 * by time, retention, flushing, and recovery on open (see log.h; compaction
 * is in cleaner.c, background fsyncs in flusher.c).
 *
 * Design note.
 *   - Segments live in an array sorted by base offset; the last is active.
 *     An append validates the batch (batch.c), rolls if needed, stamps the
 *     base offset (and LogAppendTime), writes it with one pwrite at the end of
 *     the active .log and indexes it in memory. Nothing is fsynced unless the
 *     flush policy says so (fsync_on_append, flush.messages, flush.ms).
 *   - A failed write (disk full, EFBIG) is truncated away before the append
 *     returns, so the file never holds a partial batch that later appends would
 *     follow; in-memory state is only updated after the write (and any fsync)
 *     succeeded.
 *   - A fetch read finds the segment by binary search, then the batch holding
 *     the offset through a small cache of known batch positions (consumers
 *     read on from where their last fetch ended) or the in-memory index and a
 *     short scan of batch headers through one buffered pread. The end of the
 *     slice is the segment end, the batch boundary at limit_offset, or the last
 *     batch boundary within max_bytes (found the same way) -- never less than
 *     one whole batch (KIP-74). No per-record work, no allocation.
 *   - fsyncs: a sealed segment, and flush.ms, go to a background thread
 *     (flusher.c); fsync_on_append, flush.messages, rb_log_flush and close
 *     fsync on the caller's thread (after waiting for background ones).
 *   - Durability bookkeeping: recovery_point is the offset below which
 *     everything is fsynced. A checkpoint file holds it with the log start
 *     offset; it is rewritten when the start offset moves, when the recovery
 *     point crosses into another segment, and at close. rb_log_close writes
 *     a clean-shutdown marker last; rb_log_open removes it first.
 *
 * Recovery on open (the states of a log directory):
 *
 *     [marker present] --clean--> trust sealed segments' indexes (validated),
 *                                 re-scan the active segment's tail after its
 *                                 last index entry (headers)
 *     [no marker] --unclean-----> for every segment from the one holding the
 *                                 checkpointed recovery point (and always the
 *                                 active one): scan every batch with its CRC,
 *                                 rebuild the indexes, truncate at the first
 *                                 bad batch (WARN: file, position, bytes cut)
 *                                 and delete the segments after it (WARN)
 *   then: any index that fails validation is rebuilt from its .log; the
 *   recovered data is fsynced; the start offset is max(checkpoint, first base).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "common/clock.h"
#include "common/log.h"

#include "broker/log/batch.h"
#include "broker/log/flusher.h"
#include "broker/log/log-private.h"
#include "broker/log/log.h"
#include "broker/log/segment.h"

#define CHECKPOINT_FILE "rill-log.checkpoint"
#define CLEAN_MARKER_FILE "rill-log.clean-shutdown"
#define HOT_READAHEAD (16 * 1024)

static rb_segment_t *active(const rb_log_t *log)
{
    return log->segs[log->n_segs - 1];
}

/* ---- config --------------------------------------------------------------- */

void rb_log_config_init(rb_log_config_t *config)
{
    memset(config, 0, sizeof(*config));
    config->segment_bytes = 1073741824;
    config->segment_ms = 604800000;
    config->retention_bytes = -1;
    config->retention_ms = 604800000;
    config->flush_messages = -1;
    config->flush_ms = -1;
    config->fsync_on_append = false;
    config->index_interval_bytes = 4096;
    config->max_message_bytes = 1048588;
    config->timestamp_log_append = false;
    config->compact = false;
    config->delete_ = true;
    config->delete_retention_ms = 86400000;
    config->min_cleanable_dirty_ratio = 0.5;
}

static void config_normalize(rb_log_config_t *config)
{
    if (config->segment_bytes <= 0 || config->segment_bytes > INT32_MAX)
        config->segment_bytes = INT32_MAX; /* positions are 32-bit in the index */
    if (config->index_interval_bytes <= 0)
        config->index_interval_bytes = 4096;
}

void rb_log_set_config(rb_log_t *log, const rb_log_config_t *config)
{
    log->config = *config;
    config_normalize(&log->config);
}

/* ---- small helpers ---------------------------------------------------------- */

int rb__log_fsync(int fd, bool data_only)
{
    int rc;
    do {
        rc = data_only ? fdatasync(fd) : fsync(fd);
    } while (rc != 0 && errno == EINTR);
    return rc;
}

static int pwrite_full(int fd, const uint8_t *p, size_t n, int64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = pwrite(fd, p + done, n - done, (off_t)(pos + (int64_t)done));
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (w == 0) {
            errno = ENOSPC;
            return -1;
        }
        done += (size_t)w;
    }
    return 0;
}

static void segs_push(rb_log_t *log, rb_segment_t *seg)
{
    if (log->n_segs == log->cap_segs) {
        log->cap_segs = log->cap_segs ? log->cap_segs * 2 : 8;
        log->segs = g_renew(rb_segment_t *, log->segs, log->cap_segs);
    }
    log->segs[log->n_segs++] = seg;
}

void rb__log_cache_forget(rb_log_t *log, const rb_segment_t *seg)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (seg == NULL || log->cache[i].seg == seg)
            log->cache[i].seg = NULL;
    rb__window_invalidate(&log->win);
}

static void cache_put(rb_log_t *log, rb_segment_t *seg, int64_t offset, int64_t pos)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (log->cache[i].seg == seg && log->cache[i].offset == offset)
            return;
    unsigned slot = log->cache_next++ % CACHE_SLOTS;
    log->cache[slot].seg = seg;
    log->cache[slot].offset = offset;
    log->cache[slot].pos = pos;
}

/* Removes segs[i] (closing and unlinking its files). */
static void segs_remove(rb_log_t *log, size_t i)
{
    rb_segment_t *seg = log->segs[i];
    rb__log_cache_forget(log, seg);
    rb__segment_destroy(seg);
    memmove(log->segs + i, log->segs + i + 1, (log->n_segs - i - 1) * sizeof(log->segs[0]));
    log->n_segs--;
    log->dir_dirty = true;
}

/* Index of the segment holding offset: the last with base <= offset (0 if none). */
static size_t segs_find(const rb_log_t *log, int64_t offset)
{
    size_t lo = 0, hi = log->n_segs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base_offset <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
}

/* ---- checkpoint ---------------------------------------------------------- */

static int write_checkpoint(rb_log_t *log)
{
    g_autofree char *path = g_strdup_printf("%s/%s", log->dir, CHECKPOINT_FILE);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    g_autofree char *text = g_strdup_printf("rill-log-checkpoint 1\nlog_start_offset %" PRId64
                                            "\nrecovery_point %" PRId64 "\n",
                                            log->start_offset, log->recovery_point);
    size_t len = strlen(text);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto fail;
    if (pwrite_full(fd, (const uint8_t *)text, len, 0) != 0 || rb__log_fsync(fd, true) != 0) {
        int saved = errno;
        close(fd);
        unlink(tmp);
        errno = saved;
        goto fail;
    }
    close(fd);
    if (rename(tmp, path) != 0 || rb__log_fsync(log->dir_fd, false) != 0)
        goto fail;
    log->checkpointed_recovery = log->recovery_point;
    return 0;
fail:
    RILL_LOG_WARN(LOG_COMPONENT, "cannot write checkpoint: %s dir=%s", g_strerror(errno),
                  log->dir);
    return -1;
}

/* Reads the checkpoint; missing or unreadable leaves the defaults (-1, 0). */
static void read_checkpoint(rb_log_t *log, int64_t *start, int64_t *recovery)
{
    *start = -1;
    *recovery = 0;
    g_autofree char *path = g_strdup_printf("%s/%s", log->dir, CHECKPOINT_FILE);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return;
    int64_t s, r;
    if (sscanf(text, "rill-log-checkpoint 1\nlog_start_offset %" SCNd64 "\nrecovery_point %" SCNd64,
               &s, &r) != 2 ||
        s < 0 || r < 0) {
        RILL_LOG_WARN(LOG_COMPONENT, "ignoring unreadable checkpoint file=%s", path);
        return;
    }
    *start = s;
    *recovery = r;
}

/* ---- flush and roll ------------------------------------------------------- */

/* fsyncs every segment with unflushed writes, and the directory if files were
 * created or removed. Does not touch the bookkeeping. */
static void poll_flushes(rb_log_t *log);

static int sync_all(rb_log_t *log)
{
    /* segments handed to the flusher are no longer marked unflushed: their
     * fsyncs must be done before everything can be called durable */
    bool idle = rb__flush_state_wait(log->fstate, 60000);
    poll_flushes(log);
    for (size_t i = 0; i < log->n_segs; i++) {
        if (!idle)
            log->segs[i]->unflushed = true;
    }
    for (size_t i = 0; i < log->n_segs; i++) {
        rb_segment_t *seg = log->segs[i];
        if (!seg->unflushed)
            continue;
        if (rb__log_fsync(seg->fd, true) != 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "fsync failed: %s file=%s.log", g_strerror(errno),
                          seg->path);
            return -1;
        }
        seg->unflushed = false;
    }
    if (log->dir_dirty) {
        if (rb__log_fsync(log->dir_fd, false) != 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "fsync of directory failed: %s dir=%s",
                          g_strerror(errno), log->dir);
            return -1;
        }
        log->dir_dirty = false;
    }
    return 0;
}

/* After a successful sync: everything is durable up to the end offset. */
static void mark_flushed(rb_log_t *log)
{
    log->recovery_point = rb_log_end_offset(log);
    log->unflushed_messages = 0;
    log->first_unflushed_ms = -1;
    if (segs_find(log, log->recovery_point) != segs_find(log, log->checkpointed_recovery))
        write_checkpoint(log); /* failure only means more to recover after a crash */
}

/* Learns what the background fsyncs did: moves the recovery point, or after
 * a failure marks everything for flushing again. */
static void poll_flushes(rb_log_t *log)
{
    bool failed;
    int64_t upto = rb__flush_state_poll(log->fstate, &failed);
    if (failed) {
        for (size_t i = 0; i < log->n_segs; i++)
            log->segs[i]->unflushed = true;
        log->dir_dirty = true;
    }
    if (upto > log->recovery_point) {
        log->recovery_point = upto;
        if (segs_find(log, upto) != segs_find(log, log->checkpointed_recovery))
            write_checkpoint(log);
    }
}

/* Hands every unflushed segment (and the directory) to the flusher thread.
 * Falls back to flushing here if descriptors cannot be duplicated. */
static void flush_in_background(rb_log_t *log)
{
    g_autofree int *fds = g_new(int, log->n_segs + 1);
    g_autofree bool *is_dir = g_new(bool, log->n_segs + 1);
    size_t n = 0;
    for (size_t i = 0; i <= log->n_segs; i++) {
        bool dir = i == log->n_segs;
        if (dir ? !log->dir_dirty : !log->segs[i]->unflushed)
            continue;
        int fd = fcntl(dir ? log->dir_fd : log->segs[i]->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            while (n > 0)
                close(fds[--n]);
            rb_log_flush(log);
            return;
        }
        fds[n] = fd;
        is_dir[n++] = dir;
    }
    if (n == 0) {
        /* nothing was unflushed after all: nothing is due */
        log->unflushed_messages = 0;
        log->first_unflushed_ms = -1;
        return;
    }
    for (size_t i = 0; i < log->n_segs; i++)
        log->segs[i]->unflushed = false;
    log->dir_dirty = false;
    log->unflushed_messages = 0;
    log->first_unflushed_ms = -1;
    rb__flusher_submit(log->fstate, fds, is_dir, n, rb_log_end_offset(log), log->dir);
}

int64_t rb_log_recovery_point(rb_log_t *log)
{
    poll_flushes(log);
    return log->recovery_point;
}

int rb_log_flush(rb_log_t *log)
{
    if (sync_all(log) != 0)
        return -1;
    mark_flushed(log);
    return 0;
}

/* Seals the active segment and starts a new one at the end offset. */
static int roll(rb_log_t *log, int64_t now_ms)
{
    rb_segment_t *old = active(log);
    rb__segment_trim(old);
    rb__segment_seal_time_index(old);
    if (rb__segment_write_indexes(old) != 0)
        RILL_LOG_WARN(LOG_COMPONENT, "cannot write index (it will be rebuilt): %s file=%s.index",
                      g_strerror(errno), old->path);
    rb_segment_t *seg = rb__segment_create(log->dir, rb_log_end_offset(log), now_ms);
    if (seg == NULL) {
        RILL_LOG_WARN(LOG_COMPONENT, "cannot create segment: %s dir=%s offset=%" PRId64,
                      g_strerror(errno), log->dir, rb_log_end_offset(log));
        return -1;
    }
    segs_push(log, seg);
    log->dir_dirty = true;
    flush_in_background(log); /* the sealed segment, as Kafka does at a roll */
    RILL_LOG_DEBUG(LOG_COMPONENT, "rolled segment dir=%s base=%" PRId64, log->dir,
                   seg->base_offset);
    return 0;
}

/* ---- append ------------------------------------------------------------------ */

rb_kerr_t rb_log_append(rb_log_t *log, uint8_t *batch, size_t len, int64_t now_ms,
                        rb_append_info_t *info)
{
    const rb_log_config_t *config = &log->config;
    if (config->max_message_bytes > 0 && len > (size_t)config->max_message_bytes)
        return RB_LOG_ERR_MESSAGE_TOO_LARGE;
    if (len > (size_t)INT32_MAX)
        return RB_LOG_ERR_MESSAGE_TOO_LARGE;
    rb_batch_info_t bi;
    rb_kerr_t err = rb_batch_validate(batch, len, &bi);
    if (err != RB_LOG_ERR_NONE)
        return err;
    if (config->compact && bi.null_key && !rb_batch_is_control(batch))
        return RB_LOG_ERR_INVALID_RECORD; /* as Kafka: a compacted topic needs keys */

    int64_t base = rb_log_end_offset(log);
    int64_t last = base + bi.record_count - 1;
    rb_segment_t *seg = active(log);
    if (seg->size > 0 &&
        (seg->size + (int64_t)len > config->segment_bytes ||
         (config->segment_ms >= 0 && now_ms - seg->roll_base_ms >= config->segment_ms) ||
         last - seg->base_offset > (int64_t)INT32_MAX)) {
        if (roll(log, now_ms) != 0)
            return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
        seg = active(log);
    }

    rb_batch_set_base_offset(batch, base);
    rb_batch_set_leader_epoch(batch, log->leader_epoch);
    int64_t log_append_time = -1;
    int64_t max_ts = bi.max_timestamp;
    if (config->timestamp_log_append) {
        log_append_time = now_ms;
        max_ts = now_ms;
        rb_batch_set_log_append_time(batch, len, now_ms);
    } else if (max_ts != rb_batch_max_timestamp(batch)) {
        rb_batch_set_max_timestamp(batch, len, max_ts); /* as Kafka: the records decide */
    }

    int64_t pos = seg->size;
    bool sync = config->fsync_on_append ||
                (config->flush_messages > 0 &&
                 log->unflushed_messages + bi.record_count >= config->flush_messages);
    rb__segment_preallocate(seg, pos, len, config->segment_bytes);
    if (pwrite_full(seg->fd, batch, len, pos) != 0) {
        int saved = errno;
        int trunc = rb__segment_truncate(seg, pos);
        RILL_LOG_WARN(LOG_COMPONENT,
                      "append failed: %s file=%s.log position=%" PRId64 " bytes=%zu%s",
                      g_strerror(saved), seg->path, pos, len,
                      trunc == 0 ? "" : " (and the partial write could not be truncated)");
        return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
    }
    seg->unflushed = true;
    if (sync && sync_all(log) != 0) {
        rb__segment_truncate(seg, pos); /* not durable: the append did not happen */
        return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
    }

    if (seg->size == 0)
        seg->roll_base_ms = now_ms;
    rb__segment_index_batch(seg, base, pos, len, max_ts, config->index_interval_bytes);
    seg->size = pos + (int64_t)len;
    seg->next_offset = last + 1;
    if (sync) {
        mark_flushed(log);
    } else {
        log->unflushed_messages += bi.record_count;
        if (log->first_unflushed_ms < 0)
            log->first_unflushed_ms = now_ms;
    }
    if (info != NULL) {
        info->base_offset = base;
        info->last_offset = last;
        info->log_append_time = log_append_time;
        info->max_timestamp = max_ts;
        info->record_count = bi.record_count;
    }
    return RB_LOG_ERR_NONE;
}

/* ---- offsets ---------------------------------------------------------------- */

int64_t rb_log_start_offset(const rb_log_t *log)
{
    return log->start_offset;
}

int64_t rb_log_end_offset(const rb_log_t *log)
{
    return active(log)->next_offset;
}

int64_t rb_log_size_bytes(const rb_log_t *log)
{
    int64_t total = 0;
    for (size_t i = 0; i < log->n_segs; i++)
        total += log->segs[i]->size;
    return total;
}

size_t rb_log_segment_count(const rb_log_t *log)
{
    return log->n_segs;
}

/* ---- reading ---------------------------------------------------------------- */

/* A batch header seen by a scan. */
typedef struct hdr_info {
    int64_t pos;
    int64_t base;
    int64_t next; /* last offset + 1 */
    int64_t size;
    int64_t max_timestamp;
} hdr_info_t;

/* Reads the header of the batch at pos. Returns 0, 1 at the segment's end,
 * -1 on an I/O error or a header that cannot be a batch (logged unless quiet:
 * a position from a hint may just be wrong). */
static int read_header_at(rb_log_t *log, rb_segment_t *seg, int64_t pos, hdr_info_t *h,
                          bool quiet)
{
    if (pos >= seg->size)
        return 1;
    bool io_err;
    const uint8_t *p = rb__window_get(&log->win, seg, pos, RB_BATCH_HEADER_SIZE, &io_err);
    if (p == NULL || rb_batch_magic(p) != RB_BATCH_MAGIC ||
        rb_batch_length(p) < RB_BATCH_HEADER_SIZE - RB_BATCH_LOG_OVERHEAD ||
        pos + (int64_t)rb_batch_size(p) > seg->size) {
        if (!quiet)
            RILL_LOG_WARN(LOG_COMPONENT,
                          "unreadable batch header%s%s file=%s.log position=%" PRId64,
                          io_err ? ": " : "", io_err ? g_strerror(errno) : "", seg->path, pos);
        return -1;
    }
    h->pos = pos;
    h->base = rb_batch_base_offset(p);
    h->next = rb_batch_next_offset(p);
    h->size = (int64_t)rb_batch_size(p);
    h->max_timestamp = rb_batch_max_timestamp(p);
    return 0;
}

static int read_header(rb_log_t *log, rb_segment_t *seg, int64_t pos, hdr_info_t *h)
{
    return read_header_at(log, seg, pos, h, false);
}

/* Reads the header at a position a hint (index entry, cache) gave for the
 * batch with base offset at; if the hint is wrong, rebuilds the segment's
 * index from its batch headers and returns -2 (the caller scans from 0). */
static int read_hinted(rb_log_t *log, rb_segment_t *seg, int64_t pos, int64_t at, hdr_info_t *h)
{
    if (pos == 0)
        return read_header(log, seg, 0, h);
    int rc = read_header_at(log, seg, pos, h, true);
    if (rc == 0 && h->base == at)
        return 0;
    RILL_LOG_WARN(LOG_COMPONENT,
                  "index entry points at the wrong place, dropping the index file=%s.index "
                  "position=%" PRId64 " offset=%" PRId64,
                  seg->path, pos, at);
    rb__log_cache_forget(log, seg);
    rb__segment_reset_indexes(seg);
    rb_scan_result_t res;
    if (rb__segment_scan(seg, &log->win, 0, seg->base_offset, seg->size, false,
                         log->config.index_interval_bytes, &res) != 0 || res.why != NULL)
        rb__segment_reset_indexes(seg); /* reads scan from 0; the open-time recovery decides */
    return -2;
}

/* Finds the batch of seg holding target (or the first one after it): the
 * best starting point from the cache and the index, then a forward scan.
 * An index entry names the exact base offset of the batch at its position
 * and is checked; a cache entry (o, p) says that every batch before p ends at
 * or below o -- after compaction the batch at p may start above o -- and,
 * being the log's own memory, is trusted.
 * Returns 0 with *h, 1 if no batch of seg reaches target, -1 on error. */
static int locate(rb_log_t *log, rb_segment_t *seg, int64_t target, hdr_info_t *h)
{
    int64_t pos, at;
    bool cached = false;
    rb__segment_floor_offset(seg, target, &pos, &at);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (log->cache[i].seg == seg && log->cache[i].offset <= target &&
            log->cache[i].offset > at) {
            at = log->cache[i].offset;
            pos = log->cache[i].pos;
            cached = true;
        }
    int rc = cached ? read_header(log, seg, pos, h) : read_hinted(log, seg, pos, at, h);
    if (rc == -2)
        rc = read_header(log, seg, 0, h);
    while (rc == 0 && h->next <= target)
        rc = read_header(log, seg, h->pos + h->size, h);
    return rc;
}

rb_kerr_t rb_log_read(rb_log_t *log, int64_t offset, int64_t limit_offset, size_t max_bytes,
                      rb_log_slice_t *slice)
{
    int64_t end_offset = rb_log_end_offset(log);
    slice->fd = active(log)->fd;
    slice->pos = 0;
    slice->len = 0;
    if (offset < log->start_offset || offset > end_offset)
        return RB_LOG_ERR_OFFSET_OUT_OF_RANGE;
    if (limit_offset > end_offset)
        limit_offset = end_offset;
    if (offset >= limit_offset)
        return RB_LOG_ERR_NONE;

    size_t i = segs_find(log, offset);
    rb_segment_t *seg;
    hdr_info_t first;
    for (;;) {
        if (i >= log->n_segs || offset >= limit_offset)
            return RB_LOG_ERR_NONE;
        seg = log->segs[i];
        int rc = offset >= seg->next_offset ? 1 : locate(log, seg, offset, &first);
        if (rc < 0)
            return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
        if (rc == 0)
            break;
        /* nothing at or after offset here (compacted away, or a gap): go on in
         * the next segment */
        if (++i < log->n_segs && offset < log->segs[i]->base_offset)
            offset = log->segs[i]->base_offset;
    }
    if (first.base >= limit_offset)
        return RB_LOG_ERR_NONE;
    cache_put(log, seg, first.base, first.pos);
    int rc;

    /* the hard end: the segment's end or the batch boundary at limit_offset */
    int64_t hard_end = seg->size, hard_end_offset = seg->next_offset;
    if (limit_offset < seg->next_offset) {
        hdr_info_t lim;
        rc = locate(log, seg, limit_offset, &lim);
        if (rc < 0)
            return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
        if (rc == 0) {
            bool inside = lim.base < limit_offset; /* limit in mid-batch: include it */
            hard_end = inside ? lim.pos + lim.size : lim.pos;
            hard_end_offset = inside ? lim.next : lim.base;
        }
    }

    int64_t want = (uint64_t)max_bytes >= (uint64_t)(INT64_MAX - first.pos)
                       ? INT64_MAX
                       : first.pos + (int64_t)max_bytes;
    int64_t end, end_off;
    if (want >= hard_end) {
        end = hard_end;
        end_off = hard_end_offset;
    } else if (first.pos + first.size >= want) {
        end = first.pos + first.size; /* KIP-74: at least one whole batch */
        end_off = first.next;
    } else {
        /* the last batch boundary within want: jump by the index, then scan */
        hdr_info_t h;
        int64_t ipos, ioff;
        rb__segment_floor_pos(seg, want, &ipos, &ioff);
        rc = -2;
        if (ipos > first.pos + first.size)
            rc = read_hinted(log, seg, ipos, ioff, &h);
        if (rc == -2) {
            rc = read_header(log, seg, first.pos + first.size, &h);
        }
        while (rc == 0 && h.pos + h.size <= want)
            rc = read_header(log, seg, h.pos + h.size, &h);
        if (rc < 0)
            return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
        end = rc == 0 ? h.pos : seg->size;
        end_off = rc == 0 ? h.base : seg->next_offset;
    }
    cache_put(log, seg, end_off, end);
    slice->fd = seg->fd;
    slice->pos = (off_t)first.pos;
    slice->len = (size_t)(end - first.pos);
    return RB_LOG_ERR_NONE;
}

/* The first record of the batch at h with a timestamp >= ts, else its base. */
static int64_t first_record_at_or_after(rb_log_t *log, rb_segment_t *seg, const hdr_info_t *h,
                                        int64_t ts)
{
    bool io_err;
    const uint8_t *p = rb__window_get(&log->win, seg, h->pos, (size_t)h->size, &io_err);
    if (p == NULL || rb_batch_compression(p) != RB_COMPRESSION_NONE ||
        rb_batch_is_log_append_time(p))
        return h->base;
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, (size_t)h->size);
    while (rb_record_iter_next(&it, &rec) == 1)
        if (rec.timestamp >= ts)
            return rec.offset;
    return h->base;
}

int64_t rb_log_offset_for_time(rb_log_t *log, int64_t ts)
{
    for (size_t i = 0; i < log->n_segs; i++) {
        rb_segment_t *seg = log->segs[i];
        if (seg->max_timestamp < ts || seg->next_offset <= log->start_offset)
            continue;
        /* batches up to the last time entry below ts are all older than ts */
        int64_t from = seg->base_offset;
        for (size_t k = seg->n_tindex; k > 0; k--)
            if (seg->tindex[k - 1].ts < ts) {
                from = seg->base_offset + seg->tindex[k - 1].rel;
                break;
            }
        int64_t pos, at;
        rb__segment_floor_offset(seg, from, &pos, &at);
        hdr_info_t h;
        int rc = read_hinted(log, seg, pos, at, &h);
        if (rc == -2)
            rc = read_header(log, seg, 0, &h);
        for (; rc == 0; rc = read_header(log, seg, h.pos + h.size, &h)) {
            if (h.next <= log->start_offset || h.max_timestamp < ts)
                continue;
            int64_t found = first_record_at_or_after(log, seg, &h, ts);
            return found > log->start_offset ? found : log->start_offset;
        }
        if (rc < 0)
            return -1;
    }
    return -1;
}

int64_t rb_log_max_timestamp(rb_log_t *log, int64_t *timestamp)
{
    rb_segment_t *best = NULL;
    for (size_t i = 0; i < log->n_segs; i++) {
        rb_segment_t *seg = log->segs[i];
        if (seg->max_timestamp >= 0 && seg->next_offset > log->start_offset &&
            (best == NULL || seg->max_timestamp > best->max_timestamp))
            best = seg;
    }
    *timestamp = -1;
    if (best == NULL)
        return -1;
    hdr_info_t h;
    int rc = locate(log, best, best->max_ts_offset, &h);
    for (; rc == 0 && h.max_timestamp != best->max_timestamp;
         rc = read_header(log, best, h.pos + h.size, &h))
        ;
    if (rc != 0)
        return -1;
    *timestamp = h.max_timestamp;
    int64_t found = first_record_at_or_after(log, best, &h, h.max_timestamp);
    return found > log->start_offset ? found : log->start_offset;
}

/* ---- deletion and housekeeping ----------------------------------------------- */

rb_kerr_t rb_log_delete_records(rb_log_t *log, int64_t offset)
{
    if (offset < 0 || offset > rb_log_end_offset(log))
        return RB_LOG_ERR_OFFSET_OUT_OF_RANGE;
    if (offset <= log->start_offset)
        return RB_LOG_ERR_NONE;
    int64_t old = log->start_offset;
    log->start_offset = offset;
    if (write_checkpoint(log) != 0) {
        log->start_offset = old;
        return RB_LOG_ERR_UNKNOWN_SERVER_ERROR;
    }
    rb_segment_t *seg = active(log);
    if (seg->size > 0 && seg->next_offset <= offset && roll(log, rill__clock_wall_ms()) != 0)
        RILL_LOG_WARN(LOG_COMPONENT, "cannot roll to delete records dir=%s", log->dir);
    while (log->n_segs > 1 && log->segs[0]->next_offset <= offset)
        segs_remove(log, 0);
    RILL_LOG_INFO(LOG_COMPONENT, "deleted records dir=%s log_start_offset=%" PRId64, log->dir,
                  offset);
    return RB_LOG_ERR_NONE;
}

/* The time that retention compares with retention.ms: the largest
 * timestamp, or for a segment without any, when it was last written. */
static int64_t segment_time(const rb_segment_t *seg)
{
    return seg->max_timestamp >= 0 ? seg->max_timestamp : seg->roll_base_ms;
}

int rb_log_maintain(rb_log_t *log, int64_t now_ms)
{
    const rb_log_config_t *config = &log->config;
    poll_flushes(log);
    rb_segment_t *seg = active(log);
    if (seg->size > 0 && config->segment_ms >= 0 && now_ms - seg->roll_base_ms >= config->segment_ms)
        roll(log, now_ms);

    int deleted = 0;
    bool retention = config->delete_ || !config->compact; /* neither set: Kafka's default */
    if (retention && config->retention_ms >= 0) {
        while (log->n_segs > 1 && now_ms - segment_time(log->segs[0]) > config->retention_ms) {
            segs_remove(log, 0);
            deleted++;
        }
    }
    if (retention && config->retention_bytes >= 0) {
        int64_t excess = rb_log_size_bytes(log) - config->retention_bytes;
        while (log->n_segs > 1 && excess - log->segs[0]->size >= 0) {
            excess -= log->segs[0]->size;
            segs_remove(log, 0);
            deleted++;
        }
    }
    if (log->start_offset < log->segs[0]->base_offset)
        log->start_offset = log->segs[0]->base_offset;
    if (config->compact || log->clean_job != NULL)
        rb__log_maybe_compact(log, now_ms, config->compact);
    if (deleted > 0)
        RILL_LOG_INFO(LOG_COMPONENT, "retention deleted segments dir=%s count=%d log_start_offset=%" PRId64,
                      log->dir, deleted, log->start_offset);

    /* flush.ms, and sealed segments still unflushed (after a failure) */
    bool sealed_unflushed = false;
    for (size_t i = 0; i + 1 < log->n_segs; i++)
        sealed_unflushed |= log->segs[i]->unflushed;
    if (sealed_unflushed ||
        (config->flush_ms >= 0 && log->first_unflushed_ms >= 0 &&
         now_ms - log->first_unflushed_ms >= config->flush_ms))
        flush_in_background(log);
    return deleted;
}

int64_t rb_log_flush_due(const rb_log_t *log)
{
    int64_t first = log->first_unflushed_ms, every = log->config.flush_ms;
    if (every < 0 || first < 0)
        return -1;
    return every > INT64_MAX - first ? INT64_MAX : first + every;
}

int64_t rb_log_flush_tick(rb_log_t *log, int64_t now_ms)
{
    poll_flushes(log);
    int64_t due = rb_log_flush_due(log);
    if (due >= 0 && now_ms >= due)
        flush_in_background(log);
    return rb_log_flush_due(log);
}

/* ---- open, close, delete -------------------------------------------------------- */

static bool parse_segment_name(const char *name, const char *ext, int64_t *base)
{
    size_t n = strlen(name), e = strlen(ext);
    if (n != 20 + e || strcmp(name + 20, ext) != 0)
        return false;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (name[i] - '0');
    }
    *base = v;
    return true;
}

static gint cmp_i64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists the directory: segment bases (sorted), whether the clean marker is
 * there; logs and ignores anything that is not ours. */
static GArray *list_dir(rb_log_t *log, bool *clean, char **errmsg)
{
    DIR *d = opendir(log->dir);
    if (d == NULL) {
        *errmsg = g_strdup_printf("cannot open log directory %s: %s", log->dir, g_strerror(errno));
        return NULL;
    }
    GArray *bases = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_autoptr(GHashTable) indexes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    *clean = false;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *name = de->d_name;
        int64_t base;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
            strcmp(name, CHECKPOINT_FILE) == 0)
            continue;
        if (strcmp(name, CLEAN_MARKER_FILE) == 0) {
            *clean = true;
        } else if (parse_segment_name(name, ".log", &base)) {
            g_array_append_val(bases, base);
        } else if (parse_segment_name(name, ".index", &base) ||
                   parse_segment_name(name, ".timeindex", &base)) {
            g_hash_table_add(indexes, g_strndup(name, 20));
        } else if (g_str_has_suffix(name, ".tmp") || g_str_has_suffix(name, ".log.cleaned")) {
            g_autofree char *p = g_strdup_printf("%s/%s", log->dir, name);
            unlink(p); /* a checkpoint or a compacted copy whose writing was interrupted */
        } else {
            RILL_LOG_WARN(LOG_COMPONENT, "ignoring stray file in log directory file=%s/%s",
                          log->dir, name);
        }
    }
    closedir(d);
    g_array_sort(bases, cmp_i64);
    for (guint i = 0; i < bases->len; i++) {
        char name[32];
        g_snprintf(name, sizeof(name), "%020" PRId64, g_array_index(bases, int64_t, i));
        g_hash_table_remove(indexes, name);
    }
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, indexes);
    while (g_hash_table_iter_next(&it, &key, NULL))
        RILL_LOG_WARN(LOG_COMPONENT, "ignoring index files without a .log file=%s/%s.*",
                      log->dir, (const char *)key);
    return bases;
}

/* Scans a whole segment with CRCs, rebuilds its indexes, truncates a bad
 * tail. Returns the bytes cut (0 if none) or -1 on an I/O error. */
static int64_t recover_segment(rb_log_t *log, rb_segment_t *seg, rb_window_t *w)
{
    struct stat st;
    if (fstat(seg->fd, &st) != 0)
        return -1;
    int64_t file_size = st.st_size;
    rb__segment_reset_indexes(seg);
    seg->max_timestamp = -1;
    seg->max_ts_offset = -1;
    rb_scan_result_t res;
    if (rb__segment_scan(seg, w, 0, seg->base_offset, file_size, true,
                         log->config.index_interval_bytes, &res) != 0)
        return -1;
    seg->size = file_size;
    seg->next_offset = res.next_offset;
    int64_t cut = file_size - res.valid_bytes;
    if (cut > 0) {
        RILL_LOG_WARN(LOG_COMPONENT,
                      "truncating torn or corrupt tail: %s file=%s.log position=%" PRId64
                      " bytes_cut=%" PRId64 " batches_kept=%d",
                      res.why, seg->path, res.valid_bytes, cut, res.batches);
        if (rb__segment_truncate(seg, res.valid_bytes) != 0)
            return -1;
    }
    seg->unflushed = true; /* what was read back may not be on disk yet */
    return cut;
}

/* Loads a segment after a clean shutdown: its indexes (validated), and for
 * the active one the batches after the last index entry. Returns false if
 * the segment must be recovered instead. */
static bool load_clean_segment(rb_log_t *log, rb_segment_t *seg, bool is_active, rb_window_t *w)
{
    if (!rb__segment_load_indexes(seg)) {
        if (seg->size > 0)
            RILL_LOG_WARN(LOG_COMPONENT, "index missing or corrupt, rebuilding it file=%s.index",
                          seg->path);
        return false;
    }
    if (!is_active && seg->size > 0 && seg->n_tindex == 0)
        return false; /* no time index: the largest timestamp must be found again */
    if (!is_active)
        return true;
    int64_t pos, at;
    rb__segment_floor_offset(seg, INT64_MAX, &pos, &at);
    rb_scan_result_t res;
    if (rb__segment_scan(seg, w, pos, at, seg->size, false, log->config.index_interval_bytes,
                         &res) != 0 ||
        res.why != NULL || (pos > 0 && res.batches == 0))
        return false;
    seg->next_offset = res.next_offset;
    return true;
}

static void log_free(rb_log_t *log)
{
    rb__log_cleaner_stop(log);
    for (size_t i = 0; i < log->n_segs; i++)
        rb__segment_free(log->segs[i]);
    g_free(log->segs);
    if (log->dir_fd >= 0)
        close(log->dir_fd);
    rb__window_free(&log->win);
    rb__flush_state_unref(log->fstate);
    g_free(log->dir);
    g_free(log);
}

/* Opens the segments and recovers them; see the state drawing at the top. */
static bool load_segments(rb_log_t *log, GArray *bases, bool clean, int64_t recovery,
                          char **errmsg)
{
    int64_t now_ms = rill__clock_wall_ms();
    for (guint i = 0; i < bases->len; i++) {
        int64_t base = g_array_index(bases, int64_t, i);
        rb_segment_t *seg = rb__segment_open(log->dir, base);
        if (seg == NULL) {
            *errmsg = g_strdup_printf("cannot open segment %s/%020" PRId64 ".log: %s", log->dir,
                                      base, g_strerror(errno));
            return false;
        }
        segs_push(log, seg);
    }
    if (log->n_segs == 0)
        return true;

    size_t recover_from = clean ? log->n_segs : segs_find(log, recovery);
    rb_window_t w;
    rb__window_init(&w, RECOVERY_READAHEAD);
    bool ok = true;
    for (size_t i = 0; i < log->n_segs && ok; i++) {
        rb_segment_t *seg = log->segs[i];
        bool is_active = i + 1 == log->n_segs;
        if (!is_active)
            seg->next_offset = log->segs[i + 1]->base_offset;
        bool recover = i >= recover_from || (is_active && !clean);
        if (!recover && load_clean_segment(log, seg, is_active, &w))
            continue;
        int64_t cut = recover_segment(log, seg, &w);
        if (cut < 0) {
            *errmsg = g_strdup_printf("cannot recover %s.log: %s", seg->path, g_strerror(errno));
            ok = false;
        } else if (cut > 0) {
            /* what follows a torn write cannot be trusted: drop it */
            while (log->n_segs > i + 1) {
                rb_segment_t *later = log->segs[log->n_segs - 1];
                RILL_LOG_WARN(LOG_COMPONENT,
                              "deleting segment after a truncated one file=%s.log bytes=%" PRId64,
                              later->path, later->size);
                rb__segment_destroy(later);
                log->n_segs--;
                log->dir_dirty = true;
            }
        }
    }
    rb__window_free(&w);
    if (!ok)
        return false;

    rb_segment_t *seg = active(log);
    seg->roll_base_ms = now_ms;
    if (seg->size > 0) {
        hdr_info_t h;
        if (read_header(log, seg, 0, &h) == 0 && h.max_timestamp >= 0 && h.max_timestamp < now_ms)
            seg->roll_base_ms = h.max_timestamp;
    }
    return true;
}

rb_log_t *rb_log_open(const char *dir, const rb_log_config_t *config, char **errmsg)
{
    *errmsg = NULL;
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        *errmsg = g_strdup_printf("cannot create log directory %s: %s", dir, g_strerror(errno));
        return NULL;
    }
    rb_log_t *log = g_new0(rb_log_t, 1);
    log->dir = g_strdup(dir);
    log->config = *config;
    config_normalize(&log->config);
    log->first_unflushed_ms = -1;
    log->fstate = rb__flush_state_new();
    rb__window_init(&log->win, HOT_READAHEAD);
    log->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->dir_fd < 0) {
        *errmsg = g_strdup_printf("cannot open log directory %s: %s", dir, g_strerror(errno));
        log_free(log);
        return NULL;
    }

    bool clean;
    g_autoptr(GArray) bases = list_dir(log, &clean, errmsg);
    if (bases == NULL) {
        log_free(log);
        return NULL;
    }
    int64_t start, recovery;
    read_checkpoint(log, &start, &recovery);
    if (clean) { /* from now on a crash must not look like a clean stop */
        g_autofree char *marker = g_strdup_printf("%s/%s", dir, CLEAN_MARKER_FILE);
        if (unlink(marker) != 0 || rb__log_fsync(log->dir_fd, false) != 0) {
            *errmsg = g_strdup_printf("cannot remove %s: %s", marker, g_strerror(errno));
            log_free(log);
            return NULL;
        }
    } else if (bases->len > 0) {
        RILL_LOG_INFO(LOG_COMPONENT, "no clean shutdown marker, recovering dir=%s recovery_point=%" PRId64,
                      dir, recovery);
    }
    if (!load_segments(log, bases, clean, recovery, errmsg)) {
        log_free(log);
        return NULL;
    }
    if (log->n_segs == 0 || (start > rb_log_end_offset(log))) {
        /* a new log, or one whose start is past what survived: begin afresh at start */
        int64_t base = start > 0 ? start : 0;
        if (log->n_segs > 0)
            RILL_LOG_WARN(LOG_COMPONENT, "log start offset beyond the data, emptying dir=%s log_start_offset=%" PRId64,
                          dir, start);
        while (log->n_segs > 0)
            rb__segment_destroy(log->segs[--log->n_segs]);
        rb_segment_t *seg = rb__segment_create(dir, base, rill__clock_wall_ms());
        if (seg == NULL) {
            *errmsg = g_strdup_printf("cannot create segment in %s: %s", dir, g_strerror(errno));
            log_free(log);
            return NULL;
        }
        segs_push(log, seg);
        log->dir_dirty = true;
    }
    log->start_offset = start > log->segs[0]->base_offset ? start : log->segs[0]->base_offset;
    if (sync_all(log) != 0) {
        *errmsg = g_strdup_printf("cannot fsync log directory %s: %s", dir, g_strerror(errno));
        log_free(log);
        return NULL;
    }
    log->recovery_point = rb_log_end_offset(log);
    log->checkpointed_recovery = recovery;
    bool unchanged = clean && start == log->start_offset && recovery == log->recovery_point;
    if (!unchanged && write_checkpoint(log) != 0) {
        *errmsg = g_strdup_printf("cannot write checkpoint in %s: %s", dir, g_strerror(errno));
        log_free(log);
        return NULL;
    }
    return log;
}

/* Writes indexes, fsyncs, checkpoints; returns whether all of it worked. */
static bool shutdown_files(rb_log_t *log)
{
    bool ok = true;
    for (size_t i = 0; i < log->n_segs; i++) {
        rb_segment_t *seg = log->segs[i];
        struct stat st;
        if (fstat(seg->fd, &st) == 0 && st.st_size != seg->size &&
            rb__segment_truncate(seg, seg->size) != 0)
            ok = false; /* an unrecovered failed write: let recovery deal with it */
        rb__segment_seal_time_index(seg);
        if (seg->index_dirty && rb__segment_write_indexes(seg) != 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "cannot write index: %s file=%s.index", g_strerror(errno),
                          seg->path);
            ok = false;
        }
    }
    if (rb_log_flush(log) != 0)
        return false;
    if (log->checkpointed_recovery != log->recovery_point && write_checkpoint(log) != 0)
        ok = false;
    return ok;
}

void rb_log_close(rb_log_t *log)
{
    if (log == NULL)
        return;
    rb__log_cleaner_stop(log);
    if (shutdown_files(log)) {
        g_autofree char *marker = g_strdup_printf("%s/%s", log->dir, CLEAN_MARKER_FILE);
        int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || close(fd) != 0 || rb__log_fsync(log->dir_fd, false) != 0)
            RILL_LOG_WARN(LOG_COMPONENT, "cannot write clean shutdown marker: %s dir=%s",
                          g_strerror(errno), log->dir);
    } else {
        RILL_LOG_WARN(LOG_COMPONENT, "log not closed cleanly, it will be recovered dir=%s",
                      log->dir);
    }
    log_free(log);
}

void rb_log_delete(rb_log_t *log)
{
    if (log == NULL)
        return;
    g_autofree char *dir = g_strdup(log->dir);
    log_free(log);
    DIR *d = opendir(dir);
    if (d != NULL) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            g_autofree char *p = g_strdup_printf("%s/%s", dir, de->d_name);
            if (unlink(p) != 0)
                RILL_LOG_WARN(LOG_COMPONENT, "cannot remove %s: %s", p, g_strerror(errno));
        }
        closedir(d);
    }
    if (rmdir(dir) != 0)
        RILL_LOG_WARN(LOG_COMPONENT, "cannot remove log directory %s: %s", dir, g_strerror(errno));
}

void rb_log_abandon(rb_log_t *log)
{
    if (log != NULL)
        log_free(log);
}
