/* txnlog.c: the transaction log file (format and rationale in txnlog.h). */
#include "config.h"

#include "broker/txn/txnlog.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/txn/txnfile.h"
#include "common/crc32c.h"
#include "common/log.h"

#define FRAME_HEADER 8
#define MAX_RECORD (16 << 20)

struct rb_txnlog {
    char *path;
    int fd;
    bool fsync;
    off_t size;
    int64_t records;
};

static void put_str(rill_wbuf_t *w, const char *s)
{
    size_t len = strlen(s);
    g_assert(len <= INT16_MAX);
    rill__wbuf_put_i16(w, (int16_t)len);
    rill__wbuf_put(w, s, len);
}

/* Reads a string into a NUL-terminated copy kept alive by strings. */
static const char *get_str(rill_rbuf_t *rd, GPtrArray *strings)
{
    int16_t len = rill__rbuf_get_i16(rd);
    if (len < 0) {
        rd->err = true;
        return NULL;
    }
    const uint8_t *p = rill__rbuf_get(rd, (size_t)len);
    if (p == NULL)
        return NULL;
    char *s = g_strndup((const char *)p, (gsize)len);
    g_ptr_array_add(strings, s);
    return s;
}

void rb_txnlog_encode_epoch(rill_wbuf_t *w, int32_t coordinator_epoch)
{
    rill__wbuf_put_u8(w, 'E');
    rill__wbuf_put_i32(w, coordinator_epoch);
}

void rb_txnlog_encode_txn(rill_wbuf_t *w, const rb_txnlog_txn_t *txn)
{
    rill__wbuf_put_u8(w, 'T');
    rill__wbuf_put_u8(w, 0);
    put_str(w, txn->transactional_id);
    rill__wbuf_put_i64(w, txn->producer_id);
    rill__wbuf_put_i64(w, txn->last_producer_id);
    rill__wbuf_put_i16(w, txn->producer_epoch);
    rill__wbuf_put_i16(w, txn->last_producer_epoch);
    rill__wbuf_put_i32(w, txn->timeout_ms);
    rill__wbuf_put_u8(w, (uint8_t)txn->state);
    rill__wbuf_put_i64(w, txn->start_ms);
    rill__wbuf_put_i64(w, txn->update_ms);
    guint nparts = txn->partitions != NULL ? txn->partitions->len : 0;
    rill__wbuf_put_i32(w, (int32_t)nparts);
    for (guint i = 0; i < nparts; i++) {
        const rb_txn_partition_t *tp = &g_array_index(txn->partitions, rb_txn_partition_t, i);
        put_str(w, tp->topic);
        rill__wbuf_put_i32(w, tp->partition);
    }
    guint ngroups = txn->groups != NULL ? txn->groups->len : 0;
    rill__wbuf_put_i32(w, (int32_t)ngroups);
    for (guint i = 0; i < ngroups; i++)
        put_str(w, g_ptr_array_index(txn->groups, i));
}

void rb_txnlog_frame(rill_wbuf_t *out, const uint8_t *payload, size_t len)
{
    rill__wbuf_put_u32(out, (uint32_t)len);
    rill__wbuf_put_u32(out, rill__crc32c(0, payload, len));
    rill__wbuf_put(out, payload, len);
}

/* Decodes one payload into reader. Returns false if it is malformed. */
static bool decode(const uint8_t *payload, size_t len, const rb_txnlog_reader_t *reader)
{
    rill_rbuf_t rd;
    rill__rbuf_init(&rd, payload, len);
    uint8_t kind = rill__rbuf_get_u8(&rd);
    if (kind == 'E') {
        int32_t epoch = rill__rbuf_get_i32(&rd);
        if (rd.err || rill__rbuf_remaining(&rd) != 0)
            return false;
        reader->epoch(reader->ctx, epoch);
        return true;
    }
    if (kind != 'T' || rill__rbuf_get_u8(&rd) != 0)
        return false;
    g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GArray) partitions = g_array_new(FALSE, FALSE, sizeof(rb_txn_partition_t));
    g_autoptr(GPtrArray) groups = g_ptr_array_new();
    rb_txnlog_txn_t txn = {.partitions = partitions, .groups = groups};
    txn.transactional_id = get_str(&rd, strings);
    txn.producer_id = rill__rbuf_get_i64(&rd);
    txn.last_producer_id = rill__rbuf_get_i64(&rd);
    txn.producer_epoch = rill__rbuf_get_i16(&rd);
    txn.last_producer_epoch = rill__rbuf_get_i16(&rd);
    txn.timeout_ms = rill__rbuf_get_i32(&rd);
    uint8_t state = rill__rbuf_get_u8(&rd);
    txn.start_ms = rill__rbuf_get_i64(&rd);
    txn.update_ms = rill__rbuf_get_i64(&rd);
    int32_t nparts = rill__rbuf_get_i32(&rd);
    if (rd.err || state > RB_TXN_PREPARE_EPOCH_FENCE || nparts < 0)
        return false;
    txn.state = (rb_txn_state_t)state;
    for (int32_t i = 0; i < nparts && !rd.err; i++) {
        rb_txn_partition_t tp;
        tp.topic = get_str(&rd, strings);
        tp.partition = rill__rbuf_get_i32(&rd);
        if (!rd.err)
            g_array_append_val(partitions, tp);
    }
    int32_t ngroups = rill__rbuf_get_i32(&rd);
    if (ngroups < 0)
        return false;
    for (int32_t i = 0; i < ngroups && !rd.err; i++) {
        const char *group = get_str(&rd, strings);
        if (!rd.err)
            g_ptr_array_add(groups, (gpointer)group);
    }
    if (rd.err || rill__rbuf_remaining(&rd) != 0)
        return false;
    reader->txn(reader->ctx, &txn);
    return true;
}

rb_txnlog_t *rb_txnlog_open(const char *path, bool sync, const rb_txnlog_reader_t *reader,
                            char **errmsg)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) gerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        if (!g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            *errmsg = g_strdup_printf("%s: %s", path, gerr->message);
            return NULL;
        }
        len = 0;
    }
    const uint8_t *bytes = (const uint8_t *)data;
    size_t pos = 0;
    int64_t records = 0;
    while (len - pos >= FRAME_HEADER) {
        uint32_t plen = rill__be32_get(bytes + pos);
        uint32_t crc = rill__be32_get(bytes + pos + 4);
        if (plen > MAX_RECORD || plen > len - pos - FRAME_HEADER)
            break;
        const uint8_t *payload = bytes + pos + FRAME_HEADER;
        if (rill__crc32c(0, payload, plen) != crc)
            break;
        if (!decode(payload, plen, reader)) {
            *errmsg = g_strdup_printf("%s: malformed record at byte %zu", path, pos);
            return NULL;
        }
        pos += FRAME_HEADER + plen;
        records++;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        *errmsg = g_strdup_printf("%s: %s", path, g_strerror(errno));
        return NULL;
    }
    if (pos != len) {
        RILL_LOG_WARN("broker.txn", "transaction log %s: torn tail cut, bytes=%zu at=%zu", path,
                      len - pos, pos);
        if (ftruncate(fd, (off_t)pos) != 0 || fsync(fd) != 0) {
            *errmsg = g_strdup_printf("%s: cannot cut torn tail: %s", path, g_strerror(errno));
            close(fd);
            return NULL;
        }
    }
    if (len == 0)
        rb__txnfile_sync_parent(path);
    rb_txnlog_t *log = g_new0(rb_txnlog_t, 1);
    log->path = g_strdup(path);
    log->fd = fd;
    log->fsync = sync;
    log->size = (off_t)pos;
    log->records = records;
    return log;
}

void rb_txnlog_close(rb_txnlog_t *log)
{
    if (log == NULL)
        return;
    if (log->fd >= 0)
        close(log->fd);
    g_free(log->path);
    g_free(log);
}

bool rb_txnlog_append(rb_txnlog_t *log, const uint8_t *payload, size_t len, bool sync,
                      char **errmsg)
{
    rill_wbuf_t w;
    rill__wbuf_init(&w, len + FRAME_HEADER);
    rb_txnlog_frame(&w, payload, len);
    bool ok = pwrite(log->fd, w.data, w.len, log->size) == (ssize_t)w.len;
    if (ok && sync && log->fsync)
        ok = fdatasync(log->fd) == 0;
    if (!ok) {
        *errmsg = g_strdup_printf("%s: %s", log->path, g_strerror(errno));
        if (ftruncate(log->fd, log->size) != 0)
            RILL_LOG_ERROR("broker.txn", "%s: cannot cut a failed write: %s", log->path,
                           g_strerror(errno));
    } else {
        log->size += (off_t)w.len;
        log->records++;
    }
    rill__wbuf_free(&w);
    return ok;
}

bool rb_txnlog_rewrite(rb_txnlog_t *log, const rill_wbuf_t *framed, char **errmsg)
{
    if (!rb__txnfile_replace(log->path, framed->data, framed->len, errmsg))
        return false;
    int fd = open(log->path, O_WRONLY | O_CLOEXEC);
    close(log->fd);
    log->fd = fd; /* on failure -1: later appends fail rather than write to the old inode */
    if (fd < 0) {
        *errmsg = g_strdup_printf("%s: %s", log->path, g_strerror(errno));
        return false;
    }
    log->fd = fd;
    log->size = (off_t)framed->len;
    int64_t records = 0;
    for (size_t pos = 0; pos + FRAME_HEADER <= framed->len;
         pos += FRAME_HEADER + rill__be32_get(framed->data + pos))
        records++;
    log->records = records;
    return true;
}

int64_t rb_txnlog_record_count(const rb_txnlog_t *log)
{
    return log->records;
}
