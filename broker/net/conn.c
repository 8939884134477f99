/* conn.c: one client connection: Kafka framing in, ordered responses out.
 *
 * Design. Input: bytes are read into one per-connection buffer, and every
 * complete frame in it is handed to on_request straight from the buffer (no
 * copy, no syscall per request). A partial frame stays at the front; when its
 * header says it will not fit, the buffer grows to exactly that size (bounded
 * by socket.request.max.bytes) and shrinks back once it is idle.
 *
 * Ordering: each request gets a slot appended to the connection's FIFO. A
 * handler answers a slot whenever it likes; answered slots at the head of the
 * FIFO move their responses to the output queue, so responses leave in
 * request order even when handlers answer out of order:
 *
 *     FIFO  [s1 pending][s2 answered][s3 answered]   -> nothing can be sent
 *     respond(s1)  => s1, s2, s3 move to the output queue, in that order
 *
 * Output: the queue is written at the end of the loop iteration (loop.c)
 * with sendmsg(iovec) over consecutive memory pieces -- across responses --
 * and sendfile for file pieces, resuming after partial writes; EAGAIN turns
 * on EPOLLOUT until the socket drains.
 *
 * Connection states:
 *
 *     OPEN --read 0 / error / bad frame / rb_conn_close--> CLOSED
 *       (fd closed, on_close called, unsent output dropped; slots still
 *        pending keep the struct alive via refs)
 *     CLOSED --last slot answered--> DEAD (on loop->dead) --end of iteration--> freed
 *
 * Large frames: while a frame of more than RCVLOWAT_MIN bytes is still
 * arriving, SO_RCVLOWAT is set to the bytes it still needs, so that epoll
 * reports the socket once the frame is complete instead of at every
 * segment (a 1 MiB Produce otherwise costs ~8 wake-ups, reads and context
 * switches, all taken from the producing client on a small machine). It
 * goes back to 1 once no large frame is pending. Linux caps the value at
 * half of tcp_rmem[2] and grows the receive buffer to fit it, and a closed
 * or reset peer still wakes epoll; a non-blocking read returns what is
 * there regardless.
 *
 * Backpressure: while the unsent output exceeds max_pending_output or the
 * FIFO holds max_inflight_requests slots, the connection neither dispatches
 * buffered frames nor reads; rb__conn_flush() resumes it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker/net/net-private.h"
#include "common/log.h"

#define RBUF_INITIAL (64u << 10)
#define RBUF_MIN_READ 4096u /* compact first when less room is left */
#define RBUF_KEEP (1u << 20) /* shrink an idle buffer larger than this */
#define MAX_IOV 128
#define SENDFILE_CHUNK ((size_t)1 << 30)
#define FREE_SLOTS_MAX 1024
#define RCVLOWAT_MIN (64u << 10) /* smaller frames: not worth two setsockopt calls */
#define RCVLOWAT_MAX (8 << 20)   /* the kernel caps it lower anyway (tcp_rmem[2] / 2) */

/* ---- lifetime -------------------------------------------------------------------- */

static void conn_unref(rb_conn_t *conn)
{
    g_assert(conn->refs > 0);
    if (--conn->refs == 0) {
        g_assert(conn->closed);
        g_ptr_array_add(conn->loop->dead, conn);
    }
}

static void format_peer(int fd, char *out, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sslen) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
            port = ntohs(sin->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
            port = ntohs(sin6->sin6_port);
            g_snprintf(out, len, "[%s]:%d", ip, port);
            return;
        }
    }
    g_snprintf(out, len, "%s:%d", ip, port);
}

void rb__conn_accept(rb__listener_t *listener, int fd)
{
    rb_loop_t *loop = listener->loop;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    rb_conn_t *conn = g_new0(rb_conn_t, 1);
    conn->h.kind = RB__H_CONN;
    conn->loop = loop;
    conn->listener = listener;
    conn->fd = fd;
    conn->refs = 1;
    conn->rcvlowat = 1;
    format_peer(fd, conn->peer, sizeof(conn->peer));
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conn->h};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        RILL_LOG_WARN("broker.net", "cannot watch a new connection: %s peer=%s",
                      g_strerror(errno), conn->peer);
        close(fd);
        g_free(conn);
        return;
    }
    conn->ev_mask = EPOLLIN;
    conn->next = loop->conns;
    if (loop->conns != NULL)
        loop->conns->prev = conn;
    loop->conns = conn;
    atomic_fetch_add_explicit(&loop->stat_accepted, 1, memory_order_relaxed);
    RILL_LOG_DEBUG("broker.net", "accepted connection peer=%s", conn->peer);
}

static void drop_output(rb_conn_t *conn)
{
    rb_resp_t *resp = conn->out_head;
    while (resp != NULL) {
        rb_resp_t *next = resp->next;
        rb_resp_free(resp);
        resp = next;
    }
    conn->out_head = conn->out_tail = NULL;
    conn->out_bytes = 0;
}

/* Releases everything. Called from loop->dead, or by rb_loop_destroy for
 * every conn left (then slots may still be pending: they go too). */
void rb__conn_free(rb_conn_t *conn)
{
    rb_loop_t *loop = conn->loop;
    atomic_fetch_add_explicit(&loop->stat_closed, 1, memory_order_relaxed);
    if (conn->fd >= 0) {
        epoll_ctl(loop->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
        close(conn->fd);
        conn->fd = -1;
    }
    drop_output(conn);
    rb_slot_t *slot = conn->slot_head;
    while (slot != NULL) {
        rb_slot_t *next = slot->next;
        rb_resp_free(slot->resp);
        g_free(slot);
        slot = next;
    }
    if (conn->data_free != NULL)
        conn->data_free(conn->data);
    if (conn->prev != NULL)
        conn->prev->next = conn->next;
    else
        loop->conns = conn->next;
    if (conn->next != NULL)
        conn->next->prev = conn->prev;
    g_free(conn->rbuf);
    g_free(conn);
}

void rb_conn_close(rb_conn_t *conn, const char *reason)
{
    if (conn->closed)
        return;
    if (reason != NULL)
        RILL_LOG_INFO("broker.net", "closing connection: %s peer=%s", reason, conn->peer);
    conn->closed = true;
    epoll_ctl(conn->loop->epfd, EPOLL_CTL_DEL, conn->fd, NULL);
    close(conn->fd);
    conn->fd = -1;
    drop_output(conn);
    conn->refs++; /* hold: on_close may answer the last slots */
    if (conn->listener->cb.on_close != NULL)
        conn->listener->cb.on_close(conn, conn->listener->cb.ud);
    conn->refs--;
    conn_unref(conn); /* the "open" reference */
}

/* Closes quietly (DEBUG) for ordinary endings, e.g. the peer hung up. */
static void close_quietly(rb_conn_t *conn, const char *why)
{
    RILL_LOG_DEBUG("broker.net", "connection ended: %s peer=%s", why, conn->peer);
    rb_conn_close(conn, NULL);
}

/* The buffer goes to the handler when it holds exactly this frame (after its
 * 4-byte size) and is large enough that a copy would cost more than a fresh
 * buffer for the next read; the size prefix stays in front, so the owner
 * frees frame - 4 either way. */
#define TAKE_MIN_BYTES (16u << 10)

uint8_t *rb_conn_take_frame(rb_conn_t *conn, const uint8_t *frame, size_t len)
{
    g_assert(frame != NULL && frame == conn->cur_frame);
    conn->cur_frame = NULL; /* at most once */
    if (conn->rbuf != NULL && frame == conn->rbuf + 4 && conn->rstart == 4 + len &&
        conn->rend == conn->rstart && len >= TAKE_MIN_BYTES) {
        uint8_t *base = conn->rbuf;
        conn->rbuf = NULL;
        conn->rcap = 0;
        conn->rstart = conn->rend = 0;
        return base + 4;
    }
    uint8_t *base = g_malloc(len + 4);
    memcpy(base + 4, frame, len);
    return base + 4;
}

void rb_frame_free(uint8_t *frame)
{
    if (frame != NULL)
        g_free(frame - 4);
}

/* ---- accessors ------------------------------------------------------------------- */

const char *rb_conn_peer(const rb_conn_t *conn)
{
    return conn->peer;
}

void rb_conn_set_data(rb_conn_t *conn, void *data, void (*free_fn)(void *))
{
    if (conn->data_free != NULL && conn->data != data)
        conn->data_free(conn->data);
    conn->data = data;
    conn->data_free = free_fn;
}

void *rb_conn_get_data(const rb_conn_t *conn)
{
    return conn->data;
}

rb_conn_t *rb_slot_conn(const rb_slot_t *slot)
{
    return slot->conn;
}

bool rb_slot_conn_closed(const rb_slot_t *slot)
{
    return slot->conn->closed;
}

/* ---- epoll mask and backpressure ----------------------------------------------------- */

static bool over_limits(const rb_conn_t *conn)
{
    const rb_net_limits_t *limits = &conn->listener->limits;
    return conn->out_bytes > limits->max_pending_output ||
           conn->nslots >= limits->max_inflight_requests;
}

static void update_events(rb_conn_t *conn)
{
    if (conn->closed)
        return;
    uint32_t mask = 0;
    if (!over_limits(conn))
        mask |= EPOLLIN;
    if (conn->out_blocked)
        mask |= EPOLLOUT;
    if (mask == conn->ev_mask)
        return;
    struct epoll_event ev = {.events = mask, .data.ptr = &conn->h};
    epoll_ctl(conn->loop->epfd, EPOLL_CTL_MOD, conn->fd, &ev);
    conn->ev_mask = mask;
}

void rb__conn_mark_dirty(rb_conn_t *conn)
{
    if (conn->in_dirty || conn->closed)
        return;
    conn->in_dirty = true;
    conn->dirty_next = conn->loop->dirty;
    conn->loop->dirty = conn;
}

/* ---- input -------------------------------------------------------------------------- */

static inline uint32_t be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static rb_slot_t *slot_new(rb_conn_t *conn)
{
    rb_loop_t *loop = conn->loop;
    rb_slot_t *slot = loop->free_slots;
    if (slot != NULL) {
        loop->free_slots = slot->next;
        loop->nfree_slots--;
    } else {
        slot = g_new(rb_slot_t, 1);
    }
    slot->conn = conn;
    slot->next = NULL;
    slot->resp = NULL;
    slot->answered = false;
    if (conn->slot_tail != NULL)
        conn->slot_tail->next = slot;
    else
        conn->slot_head = slot;
    conn->slot_tail = slot;
    conn->nslots++;
    conn->refs++;
    return slot;
}

static void slot_release(rb_loop_t *loop, rb_slot_t *slot)
{
    if (loop->nfree_slots < FREE_SLOTS_MAX) {
        slot->next = loop->free_slots;
        loop->free_slots = slot;
        loop->nfree_slots++;
    } else {
        g_free(slot);
    }
}

/* Makes room for `need` bytes from rstart: moves the pending bytes to the
 * front and grows the buffer if needed. */
static void rbuf_reserve(rb_conn_t *conn, size_t need)
{
    size_t pending = conn->rend - conn->rstart;
    if (conn->rstart > 0 && (conn->rcap - conn->rstart < need || conn->rcap == conn->rend)) {
        memmove(conn->rbuf, conn->rbuf + conn->rstart, pending);
        conn->rstart = 0;
        conn->rend = pending;
    }
    if (conn->rcap < need) {
        conn->rbuf = g_realloc(conn->rbuf, need);
        conn->rcap = need;
    }
}

/* Sets SO_RCVLOWAT to want (see the design note), if it is not already. A
 * failure only costs the wake-ups this saves. */
static void set_rcvlowat(rb_conn_t *conn, int want)
{
    if (want == conn->rcvlowat || conn->closed)
        return;
    if (setsockopt(conn->fd, SOL_SOCKET, SO_RCVLOWAT, &want, sizeof(want)) == 0)
        conn->rcvlowat = want;
}

/* Dispatches every complete frame in the buffer, while the limits allow. */
static void process_input(rb_conn_t *conn)
{
    const rb_net_limits_t *limits = &conn->listener->limits;
    const rb_net_callbacks_t *cb = &conn->listener->cb;
    int lowat = 1;
    conn->refs++; /* hold: a handler may close the connection */
    while (!conn->closed && !over_limits(conn) && conn->rbuf != NULL) {
        size_t avail = conn->rend - conn->rstart;
        if (avail < 4)
            break;
        int32_t size = (int32_t)be32(conn->rbuf + conn->rstart);
        if (size < 0 || size > limits->max_request_bytes) {
            char reason[160];
            g_snprintf(reason, sizeof(reason),
                       "request size %" G_GINT32_FORMAT " is %s (socket.request.max.bytes=%"
                       G_GINT32_FORMAT ")",
                       size, size < 0 ? "negative" : "over the limit", limits->max_request_bytes);
            RILL_LOG_WARN("broker.net", "%s peer=%s", reason, conn->peer);
            rb_conn_close(conn, "invalid request size");
            break;
        }
        size_t frame = 4 + (size_t)size;
        if (avail < frame) {
            if (conn->rcap - conn->rstart < frame)
                rbuf_reserve(conn, frame);
            size_t missing = frame - avail;
            if (missing > RCVLOWAT_MIN)
                lowat = missing > RCVLOWAT_MAX ? RCVLOWAT_MAX : (int)missing;
            break;
        }
        rb_slot_t *slot = slot_new(conn);
        const uint8_t *data = conn->rbuf + conn->rstart + 4;
        conn->rstart += frame;
        conn->cur_frame = data;
        cb->on_request(conn, slot, data, (size_t)size, cb->ud);
        conn->cur_frame = NULL;
    }
    if (!conn->closed && conn->rstart == conn->rend) {
        conn->rstart = conn->rend = 0;
        if (conn->rcap > RBUF_KEEP) {
            g_free(conn->rbuf);
            conn->rbuf = NULL;
            conn->rcap = 0;
        }
    }
    if (!conn->closed) {
        set_rcvlowat(conn, lowat);
        update_events(conn);
    }
    conn_unref(conn);
}

static void conn_read(rb_conn_t *conn)
{
    if (conn->rbuf == NULL) {
        conn->rbuf = g_malloc(RBUF_INITIAL);
        conn->rcap = RBUF_INITIAL;
    } else if (conn->rcap - conn->rend < RBUF_MIN_READ) {
        if (conn->rstart > 0) {
            size_t pending = conn->rend - conn->rstart;
            memmove(conn->rbuf, conn->rbuf + conn->rstart, pending);
            conn->rstart = 0;
            conn->rend = pending;
        }
        if (conn->rend == conn->rcap) /* not expected: frames are reserved whole */
            rbuf_reserve(conn, conn->rcap * 2);
    }
    ssize_t n;
    do {
        n = read(conn->fd, conn->rbuf + conn->rend, conn->rcap - conn->rend);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        close_quietly(conn, g_strerror(errno));
        return;
    }
    if (n == 0) {
        if (conn->rend > conn->rstart)
            RILL_LOG_INFO("broker.net",
                          "peer closed the connection in the middle of a request "
                          "(%zu bytes of it received) peer=%s",
                          conn->rend - conn->rstart, conn->peer);
        close_quietly(conn, "peer closed");
        return;
    }
    conn->rend += (size_t)n;
    atomic_fetch_add_explicit(&conn->loop->stat_bytes_in, (uint_fast64_t)n, memory_order_relaxed);
    process_input(conn);
}

/* ---- output ----------------------------------------------------------------------------- */

/* Where the bytes of piece i of resp begin, for memory-like pieces. */
static const uint8_t *piece_ptr(const rb_resp_t *resp, const rb__piece_t *piece)
{
    switch (piece->kind) {
    case RB__P_HDR:
        return resp->hdr;
    case RB__P_MEM:
        return piece->u.mem.data;
    case RB__P_COPY:
        return resp->copy + piece->u.copy_off;
    case RB__P_FILE:
        break;
    }
    return NULL;
}

/* Marks n bytes as sent, freeing the responses that are done. */
static void advance(rb_conn_t *conn, size_t n)
{
    conn->out_bytes -= n;
    while (n > 0 || (conn->out_head != NULL && conn->out_head->cur == conn->out_head->npieces)) {
        rb_resp_t *resp = conn->out_head;
        if (resp->cur == resp->npieces) {
            conn->out_head = resp->next;
            if (conn->out_head == NULL)
                conn->out_tail = NULL;
            rb_resp_free(resp);
            continue;
        }
        rb__piece_t *piece = &resp->pieces[resp->cur];
        size_t left = piece->len - resp->cur_off;
        if (n < left) {
            resp->cur_off += n;
            return;
        }
        n -= left;
        resp->cur++;
        resp->cur_off = 0;
    }
}

typedef enum { W_DONE, W_AGAIN, W_ERROR } write_result_t;

static write_result_t write_some(rb_conn_t *conn)
{
    while (conn->out_head != NULL) {
        struct iovec iov[MAX_IOV];
        int iovcnt = 0;
        const rb__piece_t *file_piece = NULL;
        size_t file_off = 0;
        for (rb_resp_t *resp = conn->out_head; resp != NULL && iovcnt < MAX_IOV;
             resp = resp->next) {
            size_t i = resp == conn->out_head ? resp->cur : 0;
            size_t off = resp == conn->out_head ? resp->cur_off : 0;
            for (; i < resp->npieces && iovcnt < MAX_IOV; i++, off = 0) {
                const rb__piece_t *piece = &resp->pieces[i];
                if (piece->kind == RB__P_FILE) {
                    if (iovcnt == 0) {
                        file_piece = piece;
                        file_off = off;
                    }
                    goto gathered;
                }
                iov[iovcnt].iov_base = (void *)(piece_ptr(resp, piece) + off);
                iov[iovcnt].iov_len = piece->len - off;
                iovcnt++;
            }
        }
    gathered:;
        ssize_t n;
        if (iovcnt > 0) {
            struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)iovcnt};
            n = sendmsg(conn->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        } else {
            g_assert(file_piece != NULL);
            off_t pos = file_piece->u.file.off + (off_t)file_off;
            size_t len = file_piece->len - file_off;
            if (len > SENDFILE_CHUNK)
                len = SENDFILE_CHUNK;
            n = sendfile(conn->fd, file_piece->u.file.fd, &pos, len);
            if (n == 0) {
                /* The file is shorter than the response promised (the segment
                 * was truncated under us): the frame cannot be completed. */
                RILL_LOG_ERROR("broker.net",
                               "a file piece of a response ended early (file shorter than "
                               "promised) peer=%s",
                               conn->peer);
                return W_ERROR;
            }
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return W_AGAIN;
            RILL_LOG_DEBUG("broker.net", "write failed: %s peer=%s", g_strerror(errno),
                           conn->peer);
            return W_ERROR;
        }
        atomic_fetch_add_explicit(&conn->loop->stat_bytes_out, (uint_fast64_t)n,
                                  memory_order_relaxed);
        advance(conn, (size_t)n);
    }
    return W_DONE;
}

/* Writes what can be written, then resumes reading if the limits allow. */
void rb__conn_flush(rb_conn_t *conn)
{
    if (conn->closed)
        return;
    if (conn->out_head != NULL) {
        write_result_t wr = write_some(conn);
        if (wr == W_ERROR) {
            close_quietly(conn, "write failed");
            return;
        }
        conn->out_blocked = wr == W_AGAIN;
    } else {
        conn->out_blocked = false;
    }
    /* Frames that arrived while the limits held reading back: dispatch them now. */
    if (!over_limits(conn) && conn->rend - conn->rstart >= 4)
        process_input(conn);
    else
        update_events(conn);
}

void rb__conn_on_event(rb_conn_t *conn, uint32_t events)
{
    if (conn->closed)
        return;
    if (events & EPOLLOUT) {
        conn->out_blocked = false;
        rb__conn_mark_dirty(conn);
    }
    if (events & EPOLLIN) {
        conn_read(conn);
        return;
    }
    if (events & (EPOLLERR | EPOLLHUP))
        close_quietly(conn, "socket error or hang-up");
}

/* ---- answering --------------------------------------------------------------------------- */

void rb_conn_respond(rb_slot_t *slot, rb_resp_t *resp)
{
    g_assert(!slot->answered);
    rb_conn_t *conn = slot->conn;
    slot->answered = true;
    slot->resp = resp;
    if (resp != NULL && resp->total > INT32_MAX) {
        RILL_LOG_ERROR("broker.net", "a response of %zu bytes is over the protocol's limit peer=%s",
                       resp->total, conn->peer);
        rb_resp_free(resp);
        slot->resp = NULL;
        rb_conn_close(conn, "response too large");
    }
    if (slot != conn->slot_head)
        return;
    /* Move the answered prefix of the FIFO to the output queue. */
    while (conn->slot_head != NULL && conn->slot_head->answered) {
        rb_slot_t *head = conn->slot_head;
        conn->slot_head = head->next;
        if (conn->slot_head == NULL)
            conn->slot_tail = NULL;
        conn->nslots--;
        rb_resp_t *out = head->resp;
        head->resp = NULL;
        if (out != NULL) {
            if (conn->closed) {
                rb_resp_free(out);
            } else {
                rb__resp_seal(out);
                if (conn->out_tail != NULL)
                    conn->out_tail->next = out;
                else
                    conn->out_head = out;
                conn->out_tail = out;
                conn->out_bytes += out->total + 4;
            }
        }
        slot_release(conn->loop, head);
        conn_unref(conn);
    }
    rb__conn_mark_dirty(conn);
}
