/* segment.c: a segment's files, its in-memory sparse indexes, and the
 * batch-by-batch scan that recovery and index rebuilding share (see segment.h).
 *
 * All file reads go through a window (rb_window_t): one pread of
 * `readahead` bytes serves every header that falls inside it, so walking the
 * batch headers of a few kilobytes costs one system call. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "common/crc32c.h"

#include "broker/log/segment.h"

/* ---- window ------------------------------------------------------------- */

void rb__window_init(rb_window_t *w, size_t readahead)
{
    memset(w, 0, sizeof(*w));
    w->readahead = readahead;
}

void rb__window_free(rb_window_t *w)
{
    g_free(w->buf);
    memset(w, 0, sizeof(*w));
}

/* Reads exactly n bytes at pos (or fewer at the end of the file).
 * Returns the count read or -1. */
static ssize_t pread_full(int fd, uint8_t *buf, size_t n, int64_t pos)
{
    size_t done = 0;
    while (done < n) {
        ssize_t r = pread(fd, buf + done, n - done, (off_t)(pos + (int64_t)done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    return (ssize_t)done;
}

const uint8_t *rb__window_get(rb_window_t *w, const rb_segment_t *seg, int64_t pos, size_t n,
                              bool *io_err)
{
    *io_err = false;
    if (pos < 0 || pos + (int64_t)n > seg->size)
        return NULL;
    if (w->seg == seg && pos >= w->start && pos + (int64_t)n <= w->start + (int64_t)w->len)
        return w->buf + (pos - w->start);
    size_t want = n > w->readahead ? n : w->readahead;
    if ((int64_t)want > seg->size - pos)
        want = (size_t)(seg->size - pos);
    if (want > w->cap) {
        g_free(w->buf);
        w->buf = g_malloc(want);
        w->cap = want;
    }
    ssize_t got = pread_full(seg->fd, w->buf, want, pos);
    if (got < 0) {
        rb__window_invalidate(w);
        *io_err = true;
        return NULL;
    }
    w->seg = seg;
    w->start = pos;
    w->len = (size_t)got;
    if ((size_t)got < n) /* the file is shorter than size says */
        return NULL;
    return w->buf;
}

/* ---- files -------------------------------------------------------------- */

char *rb__segment_path(const char *dir, int64_t base_offset)
{
    return g_strdup_printf("%s/%020" PRId64, dir, base_offset);
}

static rb_segment_t *segment_new(const char *dir, int64_t base_offset)
{
    rb_segment_t *seg = g_new0(rb_segment_t, 1);
    seg->base_offset = base_offset;
    seg->next_offset = base_offset;
    seg->fd = -1;
    seg->path = rb__segment_path(dir, base_offset);
    seg->max_timestamp = -1;
    seg->max_ts_offset = -1;
    return seg;
}

static char *ext_path(const rb_segment_t *seg, const char *ext)
{
    return g_strconcat(seg->path, ext, NULL);
}

rb_segment_t *rb__segment_create(const char *dir, int64_t base_offset, int64_t now_ms)
{
    rb_segment_t *seg = segment_new(dir, base_offset);
    g_autofree char *log_path = ext_path(seg, ".log");
    g_autofree char *index_path = ext_path(seg, ".index");
    g_autofree char *time_path = ext_path(seg, ".timeindex");
    unlink(index_path); /* stale files of an earlier life of this name */
    unlink(time_path);
    seg->fd = open(log_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (seg->fd < 0) {
        int saved = errno;
        rb__segment_free(seg);
        errno = saved;
        return NULL;
    }
    seg->index_loaded = true;
    seg->index_dirty = true;
    seg->roll_base_ms = now_ms;
    return seg;
}

rb_segment_t *rb__segment_open(const char *dir, int64_t base_offset)
{
    rb_segment_t *seg = segment_new(dir, base_offset);
    g_autofree char *log_path = ext_path(seg, ".log");
    seg->fd = open(log_path, O_RDWR | O_CLOEXEC);
    struct stat st;
    if (seg->fd < 0 || fstat(seg->fd, &st) != 0) {
        int saved = errno;
        rb__segment_free(seg);
        errno = saved;
        return NULL;
    }
    seg->size = st.st_size;
    seg->roll_base_ms = (int64_t)st.st_mtime * 1000;
    return seg;
}

void rb__segment_free(rb_segment_t *seg)
{
    if (seg == NULL)
        return;
    rb__segment_trim(seg);
    if (seg->fd >= 0)
        close(seg->fd);
    g_free(seg->index);
    g_free(seg->tindex);
    g_free(seg->path);
    g_free(seg);
}

void rb__segment_destroy(rb_segment_t *seg)
{
    static const char *const exts[] = {".log", ".index", ".timeindex"};
    for (size_t i = 0; i < G_N_ELEMENTS(exts); i++) {
        g_autofree char *p = ext_path(seg, exts[i]);
        unlink(p);
    }
    rb__segment_free(seg);
}

/* ---- indexes ------------------------------------------------------------- */

void rb__segment_reset_indexes(rb_segment_t *seg)
{
    seg->n_index = 0;
    seg->n_tindex = 0;
    seg->bytes_since_index = 0;
    seg->index_loaded = true;
    seg->index_dirty = true;
}

static void push_index(rb_segment_t *seg, uint32_t rel, uint32_t pos)
{
    if (seg->n_index == seg->cap_index) {
        seg->cap_index = seg->cap_index ? seg->cap_index * 2 : 64;
        seg->index = g_renew(rb_index_entry_t, seg->index, seg->cap_index);
    }
    seg->index[seg->n_index++] = (rb_index_entry_t){rel, pos};
}

static void push_time(rb_segment_t *seg, int64_t ts, uint32_t rel)
{
    if (seg->n_tindex > 0 && seg->tindex[seg->n_tindex - 1].ts >= ts)
        return;
    if (seg->n_tindex == seg->cap_tindex) {
        seg->cap_tindex = seg->cap_tindex ? seg->cap_tindex * 2 : 32;
        seg->tindex = g_renew(rb_time_entry_t, seg->tindex, seg->cap_tindex);
    }
    seg->tindex[seg->n_tindex++] = (rb_time_entry_t){ts, rel};
}

void rb__segment_index_batch(rb_segment_t *seg, int64_t base_offset, int64_t pos, size_t size,
                             int64_t max_timestamp, int32_t interval)
{
    if (max_timestamp > seg->max_timestamp) {
        seg->max_timestamp = max_timestamp;
        seg->max_ts_offset = base_offset;
    }
    if (seg->bytes_since_index >= interval && pos > 0) {
        push_index(seg, (uint32_t)(base_offset - seg->base_offset), (uint32_t)pos);
        if (seg->max_timestamp >= 0)
            push_time(seg, seg->max_timestamp,
                      (uint32_t)(seg->max_ts_offset - seg->base_offset));
        seg->bytes_since_index = 0;
        seg->index_dirty = true;
    }
    seg->bytes_since_index += (int64_t)size;
}

void rb__segment_seal_time_index(rb_segment_t *seg)
{
    size_t before = seg->n_tindex;
    if (seg->max_timestamp >= 0)
        push_time(seg, seg->max_timestamp, (uint32_t)(seg->max_ts_offset - seg->base_offset));
    if (seg->n_tindex != before)
        seg->index_dirty = true;
}

/* Reads a whole small file; returns NULL if it does not exist or fails. */
static uint8_t *read_small_file(const char *path, size_t *len)
{
    gchar *data = NULL;
    gsize n = 0;
    if (!g_file_get_contents(path, &data, &n, NULL))
        return NULL;
    *len = n;
    return (uint8_t *)data;
}

bool rb__segment_load_indexes(rb_segment_t *seg)
{
    g_autofree char *index_path = ext_path(seg, ".index");
    g_autofree char *time_path = ext_path(seg, ".timeindex");
    size_t ilen = 0, tlen = 0;
    g_autofree uint8_t *idata = read_small_file(index_path, &ilen);
    g_autofree uint8_t *tdata = read_small_file(time_path, &tlen);
    seg->n_index = seg->n_tindex = 0;
    if (idata == NULL || tdata == NULL || ilen % 8 != 0 || tlen % 12 != 0)
        return false;
    int64_t span = seg->next_offset > seg->base_offset ? seg->next_offset - seg->base_offset
                                                        : INT64_MAX;
    for (size_t i = 0; i < ilen; i += 8) {
        uint32_t rel = rill__be32_get(idata + i);
        uint32_t pos = rill__be32_get(idata + i + 4);
        if ((int64_t)pos >= seg->size || (int64_t)rel >= span || pos == 0)
            goto bad;
        if (seg->n_index > 0 && (rel <= seg->index[seg->n_index - 1].rel ||
                                 pos <= seg->index[seg->n_index - 1].pos))
            goto bad;
        push_index(seg, rel, pos);
    }
    for (size_t i = 0; i < tlen; i += 12) {
        int64_t ts = (int64_t)rill__be64_get(tdata + i);
        uint32_t rel = rill__be32_get(tdata + i + 8);
        if ((int64_t)rel >= span || ts < 0)
            goto bad;
        if (seg->n_tindex > 0 && (ts <= seg->tindex[seg->n_tindex - 1].ts ||
                                  rel < seg->tindex[seg->n_tindex - 1].rel))
            goto bad;
        push_time(seg, ts, rel);
    }
    seg->index_loaded = true;
    seg->index_dirty = false;
    seg->bytes_since_index = 0;
    if (seg->n_tindex > 0 && seg->tindex[seg->n_tindex - 1].ts > seg->max_timestamp) {
        seg->max_timestamp = seg->tindex[seg->n_tindex - 1].ts;
        seg->max_ts_offset = seg->base_offset + seg->tindex[seg->n_tindex - 1].rel;
    }
    return true;
bad:
    seg->n_index = seg->n_tindex = 0;
    return false;
}

static int write_file(const char *path, const uint8_t *data, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            int saved = errno;
            close(fd);
            unlink(path); /* a partial index would only be a weaker hint; none is clearer */
            errno = saved;
            return -1;
        }
        done += (size_t)w;
    }
    return close(fd);
}

int rb__segment_write_indexes(rb_segment_t *seg)
{
    if (!seg->index_loaded)
        return 0;
    g_autofree char *index_path = ext_path(seg, ".index");
    g_autofree char *time_path = ext_path(seg, ".timeindex");
    g_autofree uint8_t *ibuf = g_malloc(seg->n_index * 8 + 1);
    for (size_t i = 0; i < seg->n_index; i++) {
        rill__be32_put(ibuf + i * 8, seg->index[i].rel);
        rill__be32_put(ibuf + i * 8 + 4, seg->index[i].pos);
    }
    g_autofree uint8_t *tbuf = g_malloc(seg->n_tindex * 12 + 1);
    for (size_t i = 0; i < seg->n_tindex; i++) {
        rill__be64_put(tbuf + i * 12, (uint64_t)seg->tindex[i].ts);
        rill__be32_put(tbuf + i * 12 + 8, seg->tindex[i].rel);
    }
    if (write_file(index_path, ibuf, seg->n_index * 8) != 0 ||
        write_file(time_path, tbuf, seg->n_tindex * 12) != 0)
        return -1;
    seg->index_dirty = false;
    return 0;
}

void rb__segment_floor_offset(const rb_segment_t *seg, int64_t offset, int64_t *pos,
                              int64_t *at_offset)
{
    *pos = 0;
    *at_offset = seg->base_offset;
    if (offset <= seg->base_offset || seg->n_index == 0)
        return;
    int64_t rel = offset - seg->base_offset;
    size_t lo = 0, hi = seg->n_index; /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)seg->index[mid].rel <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        *pos = seg->index[lo - 1].pos;
        *at_offset = seg->base_offset + seg->index[lo - 1].rel;
    }
}

void rb__segment_floor_pos(const rb_segment_t *seg, int64_t p, int64_t *pos, int64_t *at_offset)
{
    *pos = 0;
    *at_offset = seg->base_offset;
    size_t lo = 0, hi = seg->n_index;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((int64_t)seg->index[mid].pos <= p)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        *pos = seg->index[lo - 1].pos;
        *at_offset = seg->base_offset + seg->index[lo - 1].rel;
    }
}

/* ---- scan ----------------------------------------------------------------- */

/* CRC-32C of the bytes [pos, pos+len) of the segment, read through w.
 * Returns 0, 1 if the file is short, -1 on an I/O error. */
static int crc_range(rb_window_t *w, const rb_segment_t *seg, int64_t pos, int64_t len,
                     uint32_t *crc)
{
    uint32_t c = 0;
    while (len > 0) {
        size_t chunk = len > (int64_t)w->readahead ? w->readahead : (size_t)len;
        bool io_err;
        const uint8_t *p = rb__window_get(w, seg, pos, chunk, &io_err);
        if (p == NULL)
            return io_err ? -1 : 1;
        c = rill__crc32c(c, p, chunk);
        pos += (int64_t)chunk;
        len -= (int64_t)chunk;
    }
    *crc = c;
    return 0;
}

int rb__segment_scan(rb_segment_t *seg, rb_window_t *w, int64_t from, int64_t from_offset,
                     int64_t file_size, bool check_crc, int32_t interval, rb_scan_result_t *res)
{
    int64_t saved_size = seg->size;
    seg->size = file_size; /* let the window read everything there is */
    rb__window_invalidate(w);
    int64_t pos = from;
    int64_t next = from_offset;
    res->why = NULL;
    res->batches = 0;
    int rc = 0;
    while (pos < file_size) {
        if (file_size - pos < RB_BATCH_HEADER_SIZE) {
            res->why = "torn batch header";
            break;
        }
        bool io_err;
        const uint8_t *hdr = rb__window_get(w, seg, pos, RB_BATCH_HEADER_SIZE, &io_err);
        if (hdr == NULL) {
            if (io_err) {
                rc = -1;
                break;
            }
            res->why = "short read";
            break;
        }
        if (rb_batch_magic(hdr) != RB_BATCH_MAGIC) {
            res->why = "bad magic";
            break;
        }
        int32_t length = rb_batch_length(hdr);
        if (length < RB_BATCH_HEADER_SIZE - RB_BATCH_LOG_OVERHEAD) {
            res->why = "bad batch length";
            break;
        }
        int64_t size = (int64_t)length + RB_BATCH_LOG_OVERHEAD;
        if (pos + size > file_size) {
            res->why = "torn batch (length goes past the end of the file)";
            break;
        }
        int64_t base = rb_batch_base_offset(hdr);
        int32_t lod = rb_batch_last_offset_delta(hdr);
        int64_t max_ts = rb_batch_max_timestamp(hdr);
        uint32_t stored_crc = rb_batch_crc(hdr);
        if (base < next || lod < 0 || base - seg->base_offset > (int64_t)UINT32_MAX - lod ||
            pos + size > (int64_t)UINT32_MAX) {
            res->why = "batch offsets out of order";
            break;
        }
        if (check_crc) {
            uint32_t crc = 0;
            int crc_rc = crc_range(w, seg, pos + RB_BATCH_OFF_ATTRIBUTES,
                                   size - RB_BATCH_OFF_ATTRIBUTES, &crc);
            if (crc_rc < 0) {
                rc = -1;
                break;
            }
            if (crc_rc > 0) {
                res->why = "short read";
                break;
            }
            if (crc != stored_crc) {
                res->why = "CRC-32C mismatch";
                break;
            }
        }
        rb__segment_index_batch(seg, base, pos, (size_t)size, max_ts, interval);
        next = base + lod + 1;
        pos += size;
        res->batches++;
    }
    seg->size = saved_size;
    res->valid_bytes = pos;
    res->next_offset = next;
    return rc;
}

void rb__segment_preallocate(rb_segment_t *seg, int64_t pos, size_t len, int64_t limit)
{
    int64_t end = pos + (int64_t)len;
    if (len < RB_PREALLOC_MIN_APPEND || seg->prealloc_end < 0 || end <= seg->prealloc_end)
        return;
    int64_t ahead = (int64_t)len * 16;
    if (ahead > RB_PREALLOC_MAX)
        ahead = RB_PREALLOC_MAX;
    int64_t target = end + ahead;
    if (limit > 0 && target > limit)
        target = limit > end ? limit : end;
    int64_t from = seg->prealloc_end > pos ? seg->prealloc_end : pos;
    int rc;
    do {
        rc = fallocate(seg->fd, FALLOC_FL_KEEP_SIZE, (off_t)from, (off_t)(target - from));
    } while (rc != 0 && errno == EINTR);
    seg->prealloc_end = rc == 0 ? target : -1; /* -1: do not try again */
}

void rb__segment_trim(rb_segment_t *seg)
{
    if (seg->fd < 0 || seg->prealloc_end <= seg->size)
        return;
    int rc;
    do {
        rc = ftruncate(seg->fd, (off_t)seg->size); /* ext4 frees blocks past EOF */
    } while (rc != 0 && errno == EINTR);
    if (rc == 0)
        seg->prealloc_end = 0;
}

int rb__segment_truncate(rb_segment_t *seg, int64_t size)
{
    int rc;
    do {
        rc = ftruncate(seg->fd, (off_t)size);
    } while (rc != 0 && errno == EINTR);
    if (rc != 0)
        return -1;
    seg->size = size;
    if (seg->prealloc_end > size)
        seg->prealloc_end = 0; /* ftruncate freed them */
    while (seg->n_index > 0 && (int64_t)seg->index[seg->n_index - 1].pos >= size) {
        seg->n_index--;
        seg->index_dirty = true;
    }
    return 0;
}
