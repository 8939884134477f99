/* resp.c: responses as chains of pieces (memory, copied bytes, file ranges).
 *
 * Design: a response is built once by a handler and then only read by the
 * writer in conn.c. Small appends (headers, per-partition fields) are the
 * common case, so rb_resp_append_copy() writes them into one growing byte
 * array owned by the response, and consecutive copies merge into one piece;
 * a Fetch response therefore is about "copy, file, copy, file, ...", which
 * keeps writev's iovec count low. Pieces of kind COPY hold an offset, not a
 * pointer, because the array may move when it grows.
 *
 * pieces[0] is reserved for the 4-byte size prefix that net adds; it is
 * filled by rb__resp_seal() when the response is queued.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "broker/net/net-private.h"
#include "common/log.h"

rb_resp_t *rb_resp_new(void)
{
    rb_resp_t *resp = g_new0(rb_resp_t, 1);
    resp->pieces = resp->inline_pieces;
    resp->cap = RB__RESP_INLINE_PIECES;
    resp->npieces = 1;
    resp->pieces[0].kind = RB__P_HDR;
    resp->pieces[0].len = 4;
    return resp;
}

void rb_resp_free(rb_resp_t *resp)
{
    if (resp == NULL)
        return;
    for (size_t i = 0; i < resp->npieces; i++) {
        rb__piece_t *piece = &resp->pieces[i];
        if (piece->kind == RB__P_MEM && piece->u.mem.free_fn != NULL)
            piece->u.mem.free_fn(piece->u.mem.data);
        else if (piece->kind == RB__P_FILE)
            close(piece->u.file.fd);
    }
    if (resp->pieces != resp->inline_pieces)
        g_free(resp->pieces);
    g_free(resp->copy);
    g_free(resp);
}

static rb__piece_t *add_piece(rb_resp_t *resp)
{
    if (resp->npieces == resp->cap) {
        size_t cap = resp->cap * 2;
        if (resp->pieces == resp->inline_pieces) {
            resp->pieces = g_new(rb__piece_t, cap);
            memcpy(resp->pieces, resp->inline_pieces, sizeof(resp->inline_pieces));
        } else {
            resp->pieces = g_renew(rb__piece_t, resp->pieces, cap);
        }
        resp->cap = cap;
    }
    rb__piece_t *piece = &resp->pieces[resp->npieces++];
    memset(piece, 0, sizeof(*piece));
    return piece;
}

void rb_resp_append_mem(rb_resp_t *resp, void *data, size_t len, void (*free_fn)(void *))
{
    if (len == 0) {
        if (free_fn != NULL)
            free_fn(data);
        return;
    }
    rb__piece_t *piece = add_piece(resp);
    piece->kind = RB__P_MEM;
    piece->len = len;
    piece->u.mem.data = data;
    piece->u.mem.free_fn = free_fn;
    resp->total += len;
}

void rb_resp_append_copy(rb_resp_t *resp, const void *data, size_t len)
{
    if (len == 0)
        return;
    if (resp->copy_len + len > resp->copy_cap) {
        size_t cap = resp->copy_cap ? resp->copy_cap : 256;
        while (cap < resp->copy_len + len)
            cap *= 2;
        resp->copy = g_realloc(resp->copy, cap);
        resp->copy_cap = cap;
    }
    memcpy(resp->copy + resp->copy_len, data, len);
    rb__piece_t *last = &resp->pieces[resp->npieces - 1];
    if (last->kind == RB__P_COPY && last->u.copy_off + last->len == resp->copy_len) {
        last->len += len;
    } else {
        rb__piece_t *piece = add_piece(resp);
        piece->kind = RB__P_COPY;
        piece->len = len;
        piece->u.copy_off = resp->copy_len;
    }
    resp->copy_len += len;
    resp->total += len;
}

int rb_resp_append_file(rb_resp_t *resp, int fd, off_t off, size_t len)
{
    if (len == 0)
        return 0;
    if (off < 0) {
        errno = EINVAL;
        return -1;
    }
    int dupfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dupfd < 0) {
        RILL_LOG_ERROR("broker.net", "cannot dup a segment file descriptor: %s", g_strerror(errno));
        return -1;
    }
    rb__piece_t *piece = add_piece(resp);
    piece->kind = RB__P_FILE;
    piece->len = len;
    piece->u.file.fd = dupfd;
    piece->u.file.off = off;
    resp->total += len;
    return 0;
}

size_t rb_resp_len(const rb_resp_t *resp)
{
    return resp->total;
}

void rb__resp_seal(rb_resp_t *resp)
{
    uint32_t n = (uint32_t)resp->total;
    resp->hdr[0] = (uint8_t)(n >> 24);
    resp->hdr[1] = (uint8_t)(n >> 16);
    resp->hdr[2] = (uint8_t)(n >> 8);
    resp->hdr[3] = (uint8_t)n;
    resp->cur = 0;
    resp->cur_off = 0;
    resp->next = NULL;
}
