/* pstate-file.c: a partition's producer state on disk: snapshots, the
 * aborted-transactions index file, loading and the log replay. The file
 * formats and the crash-safety invariants are in pstate.h's opening comment.
 *
 * Design note: snapshots are whole-file atomic replacements (txnfile.c), so a
 * snapshot file is either complete or absent; a CRC-32C still guards against
 * a corrupt disk. The index is append-only with fixed 34-byte entries (like
 * Kafka's .txnindex), so a torn tail is a length that is not a multiple of
 * 34 and is simply cut. */
#include "config.h"

#include "broker/txn/pstate-private.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "broker/txn/marker.h"
#include "broker/txn/txnfile.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/log.h"

#define SNAPSHOT_MAGIC "RBPS"
#define SNAPSHOT_VERSION 1
#define SNAPSHOT_SUFFIX ".snapshot"
#define SNAPSHOT_HEADER 10 /* magic 4, version 2, crc 4 */
#define INDEX_FILE "aborted.txnindex"
#define INDEX_ENTRY 34
#define SNAPSHOTS_KEPT 2

static char *snapshot_path(const rb_pstate_t *ps, int64_t offset)
{
    g_autofree char *name = g_strdup_printf("%020" PRId64 SNAPSHOT_SUFFIX, offset);
    return g_build_filename(ps->dir, name, NULL);
}

static char *index_path(const rb_pstate_t *ps)
{
    return g_build_filename(ps->dir, INDEX_FILE, NULL);
}

/* Parses "<20 digits>.snapshot"; returns the offset or -1. */
static int64_t snapshot_name_offset(const char *name)
{
    size_t len = strlen(name);
    if (len != 20 + strlen(SNAPSHOT_SUFFIX) || strcmp(name + 20, SNAPSHOT_SUFFIX) != 0)
        return -1;
    int64_t offset = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9')
            return -1;
        if (offset > (INT64_MAX - 9) / 10)
            return -1;
        offset = offset * 10 + (name[i] - '0');
    }
    return offset;
}

static gint cmp_desc(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a;
    int64_t y = *(const int64_t *)b;
    return x > y ? -1 : x < y;
}

/* The snapshot offsets in dir, newest first. */
static GArray *list_snapshots(const rb_pstate_t *ps, char **errmsg)
{
    g_autoptr(GError) gerr = NULL;
    GDir *dir = g_dir_open(ps->dir, 0, &gerr);
    if (dir == NULL) {
        *errmsg = g_strdup_printf("%s: %s", ps->dir, gerr->message);
        return NULL;
    }
    GArray *offsets = g_array_new(FALSE, FALSE, sizeof(int64_t));
    const char *name;
    while ((name = g_dir_read_name(dir)) != NULL) {
        int64_t offset = snapshot_name_offset(name);
        if (offset >= 0)
            g_array_append_val(offsets, offset);
    }
    g_dir_close(dir);
    g_array_sort(offsets, cmp_desc);
    return offsets;
}

static void write_snapshot_body(const rb_pstate_t *ps, int64_t offset, rill_wbuf_t *w)
{
    rill__wbuf_put_i64(w, offset);
    rill__wbuf_put_i32(w, (int32_t)g_hash_table_size(ps->producers));
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, ps->producers);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__producer_t *producer = value;
        rill__wbuf_put_i64(w, producer->producer_id);
        rill__wbuf_put_i16(w, producer->epoch);
        rill__wbuf_put_i32(w, producer->coordinator_epoch);
        rill__wbuf_put_i64(w, producer->last_timestamp);
        rill__wbuf_put_i64(w, producer->txn_first_offset);
        rill__wbuf_put_u8(w, producer->nbatches);
        for (unsigned i = 0; i < producer->nbatches; i++) {
            const rb__pbatch_t *batch = &producer->batches[i];
            rill__wbuf_put_i32(w, batch->first_seq);
            rill__wbuf_put_i32(w, batch->last_seq);
            rill__wbuf_put_i64(w, batch->first_offset);
            rill__wbuf_put_i64(w, batch->last_offset);
            rill__wbuf_put_i64(w, batch->timestamp);
        }
    }
}

/* Reads a snapshot into ps (which must be empty). Returns false (ps left
 * empty) when the file is unreadable, corrupt, or not at expected_offset. */
static bool read_snapshot(rb_pstate_t *ps, const char *path, int64_t expected_offset, char **why)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        *why = g_strdup(gerr->message);
        return false;
    }
    const uint8_t *bytes = (const uint8_t *)data;
    if (len < SNAPSHOT_HEADER || memcmp(bytes, SNAPSHOT_MAGIC, 4) != 0 ||
        rill__be16_get(bytes + 4) != SNAPSHOT_VERSION) {
        *why = g_strdup("bad magic or version");
        return false;
    }
    if (rill__be32_get(bytes + 6) !=
        rill__crc32c(0, bytes + SNAPSHOT_HEADER, len - SNAPSHOT_HEADER)) {
        *why = g_strdup("CRC mismatch");
        return false;
    }
    rill_rbuf_t rd;
    rill__rbuf_init(&rd, bytes + SNAPSHOT_HEADER, len - SNAPSHOT_HEADER);
    int64_t offset = rill__rbuf_get_i64(&rd);
    int32_t count = rill__rbuf_get_i32(&rd);
    if (rd.err || offset != expected_offset || count < 0) {
        *why = g_strdup("bad header");
        return false;
    }
    for (int32_t i = 0; i < count && !rd.err; i++) {
        rb__producer_t *producer = g_new0(rb__producer_t, 1);
        producer->producer_id = rill__rbuf_get_i64(&rd);
        producer->epoch = rill__rbuf_get_i16(&rd);
        producer->coordinator_epoch = rill__rbuf_get_i32(&rd);
        producer->last_timestamp = rill__rbuf_get_i64(&rd);
        producer->txn_first_offset = rill__rbuf_get_i64(&rd);
        producer->nbatches = rill__rbuf_get_u8(&rd);
        if (producer->nbatches > RB_PSTATE_MAX_BATCHES || producer->producer_id < 0 ||
            g_hash_table_contains(ps->producers, &producer->producer_id)) {
            rd.err = true;
            g_free(producer);
            break;
        }
        for (unsigned b = 0; b < producer->nbatches; b++) {
            rb__pbatch_t *batch = &producer->batches[b];
            batch->first_seq = rill__rbuf_get_i32(&rd);
            batch->last_seq = rill__rbuf_get_i32(&rd);
            batch->first_offset = rill__rbuf_get_i64(&rd);
            batch->last_offset = rill__rbuf_get_i64(&rd);
            batch->timestamp = rill__rbuf_get_i64(&rd);
        }
        rb__pstate_insert_producer(ps, producer);
    }
    if (rd.err || rill__rbuf_remaining(&rd) != 0) {
        rb__pstate_clear(ps);
        *why = g_strdup("truncated or malformed body");
        return false;
    }
    return true;
}

static void encode_index_entry(const rb_aborted_txn_t *entry, uint8_t out[INDEX_ENTRY])
{
    rill__be16_put(out, 0);
    rill__be64_put(out + 2, (uint64_t)entry->producer_id);
    rill__be64_put(out + 10, (uint64_t)entry->first_offset);
    rill__be64_put(out + 18, (uint64_t)entry->last_offset);
    rill__be64_put(out + 26, (uint64_t)entry->last_stable_offset);
}

static bool open_index_fd(rb_pstate_t *ps, char **errmsg)
{
    g_autofree char *path = index_path(ps);
    if (ps->index_fd >= 0)
        close(ps->index_fd);
    ps->index_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (ps->index_fd < 0) {
        *errmsg = g_strdup_printf("%s: %s", path, g_strerror(errno));
        return false;
    }
    return true;
}

/* Loads the index entries below replay_from and cuts the file after them. */
static bool load_index(rb_pstate_t *ps, int64_t replay_from, char **errmsg)
{
    g_autofree char *path = index_path(ps);
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        if (!g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            *errmsg = g_strdup_printf("%s: %s", path, gerr->message);
            return false;
        }
        len = 0;
    }
    const uint8_t *bytes = (const uint8_t *)data;
    size_t keep = 0;
    for (size_t pos = 0; pos + INDEX_ENTRY <= len; pos += INDEX_ENTRY) {
        const uint8_t *p = bytes + pos;
        rb_aborted_txn_t entry = {
            .producer_id = (int64_t)rill__be64_get(p + 2),
            .first_offset = (int64_t)rill__be64_get(p + 10),
            .last_offset = (int64_t)rill__be64_get(p + 18),
            .last_stable_offset = (int64_t)rill__be64_get(p + 26),
        };
        if (rill__be16_get(p) != 0 || entry.first_offset > entry.last_offset) {
            RILL_LOG_WARN("broker.txn", "%s: bad entry at byte %zu, index cut there", path, pos);
            break;
        }
        if (entry.last_offset >= replay_from)
            break; /* the replay re-adds it */
        rb__pstate_aborted_add(ps, &entry);
        keep = pos + INDEX_ENTRY;
    }
    if (keep != len && data != NULL) {
        if (truncate(path, (off_t)keep) != 0) {
            *errmsg = g_strdup_printf("truncate %s: %s", path, g_strerror(errno));
            return false;
        }
    }
    return open_index_fd(ps, errmsg);
}

bool rb_pstate_load(rb_pstate_t *ps, int64_t log_start, int64_t log_end, int64_t *replay_from,
                    char **errmsg)
{
    rb__pstate_clear(ps);
    ps->last_snapshot = -1;
    ps->log_start = log_start;
    *replay_from = log_start;
    if (ps->dir == NULL) {
        ps->applied_end = log_start;
        return true;
    }
    if (g_mkdir_with_parents(ps->dir, 0755) != 0) {
        *errmsg = g_strdup_printf("%s: %s", ps->dir, g_strerror(errno));
        return false;
    }
    GArray *offsets = list_snapshots(ps, errmsg);
    if (offsets == NULL)
        return false;
    for (guint i = 0; i < offsets->len; i++) {
        int64_t offset = g_array_index(offsets, int64_t, i);
        g_autofree char *path = snapshot_path(ps, offset);
        if (offset > log_end) {
            RILL_LOG_INFO("broker.txn", "removing snapshot past the log end %s log_end=%" PRId64,
                          path, log_end);
            unlink(path);
            continue;
        }
        if (ps->last_snapshot >= 0)
            continue; /* an older one: kept as a fallback */
        g_autofree char *why = NULL;
        if (read_snapshot(ps, path, offset, &why)) {
            ps->last_snapshot = offset;
        } else {
            RILL_LOG_WARN("broker.txn", "ignoring producer snapshot %s: %s", path, why);
            unlink(path);
        }
    }
    g_array_free(offsets, TRUE);
    if (ps->last_snapshot >= 0)
        *replay_from = ps->last_snapshot > log_start ? ps->last_snapshot : log_start;
    ps->applied_end = *replay_from;
    ps->dirty = false;
    return load_index(ps, *replay_from, errmsg);
}

size_t rb_pstate_replay(rb_pstate_t *ps, const uint8_t *data, size_t len)
{
    size_t pos = 0;
    while (len - pos >= RB_BATCH_HEADER_SIZE) {
        rb_txn_batch_t batch;
        if (!rb_txn_batch_parse(data + pos, len - pos, &batch))
            return (size_t)-1;
        if ((size_t)batch.length > len - pos)
            break;
        rb_pstate_appended(ps, data + pos, (size_t)batch.length);
        pos += (size_t)batch.length;
    }
    return pos;
}

bool rb_pstate_replay_fd(rb_pstate_t *ps, int fd, off_t pos, size_t len, int64_t *next_offset,
                         char **errmsg)
{
    size_t cap = 1 << 20;
    uint8_t *buf = g_malloc(cap);
    bool ok = true;
    while (len > 0) {
        size_t want = len < cap ? len : cap;
        ssize_t got = pread(fd, buf, want, pos);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            *errmsg = g_strdup_printf("replay read at %lld: %s", (long long)pos,
                                      got < 0 ? g_strerror(errno) : "unexpected end of file");
            ok = false;
            break;
        }
        size_t used = rb_pstate_replay(ps, buf, (size_t)got);
        if (used == (size_t)-1) {
            *errmsg =
                g_strdup_printf("replay: malformed batch at file position %lld", (long long)pos);
            ok = false;
            break;
        }
        if (used == 0) {
            /* One batch larger than the buffer, or a partial batch at the end. */
            rb_txn_batch_t batch;
            if ((size_t)got < RB_BATCH_HEADER_SIZE ||
                !rb_txn_batch_parse(buf, (size_t)got, &batch) || (size_t)batch.length > len)
                break;
            cap = (size_t)batch.length;
            buf = g_realloc(buf, cap);
            continue;
        }
        pos += (off_t)used;
        len -= used;
    }
    g_free(buf);
    *next_offset = ps->applied_end;
    return ok;
}

bool rb_pstate_rebuild(rb_pstate_t *ps, rb_log_t *log, char **errmsg)
{
    int64_t end = rb_log_end_offset(log);
    int64_t offset = -1;
    if (!rb_pstate_load(ps, rb_log_start_offset(log), end, &offset, errmsg))
        return false;
    int64_t from = offset;
    while (offset < end) {
        rb_log_slice_t slice;
        rb_kerr_t err = rb_log_read(log, offset, end, 1 << 20, &slice);
        if (err != 0) {
            *errmsg = g_strdup_printf("producer state replay: log read at %" PRId64 ": error %d",
                                      offset, err);
            return false;
        }
        if (slice.len == 0)
            break;
        int64_t next = offset;
        if (!rb_pstate_replay_fd(ps, slice.fd, slice.pos, slice.len, &next, errmsg))
            return false;
        if (next <= offset)
            break; /* no whole batch in the slice: nothing more to learn */
        offset = next;
    }
    RILL_LOG_DEBUG(
        "broker.txn", "producer state rebuilt dir=%s from=%" PRId64 " to=%" PRId64 " producers=%u",
        ps->dir != NULL ? ps->dir : "(memory)", from, offset, g_hash_table_size(ps->producers));
    return true;
}

void rb__pstate_index_append(rb_pstate_t *ps, const rb_aborted_txn_t *entry)
{
    if (ps->dir == NULL)
        return;
    uint8_t bytes[INDEX_ENTRY];
    encode_index_entry(entry, bytes);
    if (ps->index_fd < 0 || !rb__txnfile_write_all(ps->index_fd, bytes, sizeof(bytes))) {
        if (!ps->index_write_failed)
            RILL_LOG_WARN("broker.txn", "%s/" INDEX_FILE ": append failed (%s), rewritten later",
                          ps->dir, ps->index_fd < 0 ? "not open" : g_strerror(errno));
        ps->index_write_failed = true;
    }
}

bool rb__pstate_index_rewrite(rb_pstate_t *ps, char **errmsg)
{
    if (ps->dir == NULL)
        return true;
    g_autofree char *path = index_path(ps);
    size_t len = (size_t)ps->aborted->len * INDEX_ENTRY;
    g_autofree uint8_t *bytes = g_malloc(len > 0 ? len : 1);
    for (guint i = 0; i < ps->aborted->len; i++)
        encode_index_entry(&g_array_index(ps->aborted, rb_aborted_txn_t, i),
                           bytes + (size_t)i * INDEX_ENTRY);
    if (!rb__txnfile_replace(path, bytes, len, errmsg))
        return false;
    if (!open_index_fd(ps, errmsg))
        return false;
    ps->index_write_failed = false;
    return true;
}

bool rb_pstate_snapshot(rb_pstate_t *ps, int64_t offset, char **errmsg)
{
    if (ps->dir == NULL)
        return true;
    if (offset < ps->applied_end)
        offset = ps->applied_end; /* the state already covers batches up to there */
    if (g_mkdir_with_parents(ps->dir, 0755) != 0) {
        *errmsg = g_strdup_printf("%s: %s", ps->dir, g_strerror(errno));
        return false;
    }
    /* Index entries below offset must be durable before a snapshot says so. */
    if (ps->index_write_failed || ps->index_fd < 0) {
        if (!rb__pstate_index_rewrite(ps, errmsg))
            return false;
    } else if (fsync(ps->index_fd) != 0) {
        *errmsg = g_strdup_printf("fsync %s/" INDEX_FILE ": %s", ps->dir, g_strerror(errno));
        return false;
    }
    rill_wbuf_t w;
    rill__wbuf_init(&w, 256);
    rill__wbuf_put(&w, SNAPSHOT_MAGIC, 4);
    rill__wbuf_put_i16(&w, SNAPSHOT_VERSION);
    rill__wbuf_put_u32(&w, 0);
    write_snapshot_body(ps, offset, &w);
    rill__be32_put(w.data + 6, rill__crc32c(0, w.data + SNAPSHOT_HEADER, w.len - SNAPSHOT_HEADER));
    g_autofree char *path = snapshot_path(ps, offset);
    bool ok = rb__txnfile_replace(path, w.data, w.len, errmsg);
    rill__wbuf_free(&w);
    if (!ok)
        return false;
    ps->last_snapshot = offset;
    ps->dirty = false;
    g_autofree char *ignored = NULL;
    GArray *offsets = list_snapshots(ps, &ignored);
    if (offsets != NULL) {
        for (guint i = SNAPSHOTS_KEPT; i < offsets->len; i++) {
            g_autofree char *old = snapshot_path(ps, g_array_index(offsets, int64_t, i));
            unlink(old);
        }
        g_array_free(offsets, TRUE);
    }
    return true;
}

void rb_pstate_free(rb_pstate_t *ps)
{
    if (ps == NULL)
        return;
    if (ps->index_fd >= 0)
        close(ps->index_fd);
    g_tree_destroy(ps->ongoing);
    g_hash_table_destroy(ps->producers);
    g_array_free(ps->aborted, TRUE);
    g_free(ps->dir);
    g_free(ps);
}

void rb_pstate_delete(rb_pstate_t *ps)
{
    if (ps == NULL)
        return;
    if (ps->dir != NULL) {
        g_autofree char *ignored = NULL;
        GArray *offsets = list_snapshots(ps, &ignored);
        if (offsets != NULL) {
            for (guint i = 0; i < offsets->len; i++) {
                g_autofree char *path = snapshot_path(ps, g_array_index(offsets, int64_t, i));
                unlink(path);
            }
            g_array_free(offsets, TRUE);
        }
        g_autofree char *path = index_path(ps);
        unlink(path);
        g_rmdir(ps->dir); /* only if empty: never someone else's files */
    }
    rb_pstate_free(ps);
}
