/* test-net.c: unit tests of broker/net/ over real loopback sockets.
 *
 * Design: each test starts an rb_loop on a thread of its own with a listener
 * on 127.0.0.1:0 and a small "echo-style" handler, then talks to it from the
 * test thread with plain blocking sockets (every read bounded by SO_RCVTIMEO).
 *
 * Request frame:  u8 cmd | u32 id | payload       Response: u32 id | body
 *   'E' echo: body = payload, answered at once
 *   'D' deferred: payload u32 delay_ms; answered from a timer, body empty
 *   'B' big: payload u32 n; body = n pattern bytes in many memory/copy pieces
 *   'F' file: payload u32 off, u32 len; body = "<" file[off,len) ">" (copy/file/copy);
 *       the handler closes and unlinks the file before the response is written
 *   'N' no response (like Produce acks=0)
 *   'X' rejected: the handler closes the connection
 *   'P' answered through rb_loop_post from another thread
 *   'T' takes the frame (rb_conn_take_frame), reverses the payload in place,
 *       and answers it from a timer: body = reversed payload
 *
 * The loop thread checks its invariants with g_assert (an abort fails the
 * test): cmocka's assertions may only run on the test's own thread.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/net/net-private.h"
#include "broker/net/net.h"

/* ---- the server side (loop thread) ------------------------------------------------ */

typedef struct fixture {
    rb_loop_t *loop;
    GThread *thread;
    int port;
    char *file_path; /* for 'F' */
    rb_net_limits_t limits;
    /* counters (atomics: read from the test thread) */
    gint requests;
    gint closes;
    gint outstanding;
    gint max_outstanding;
    gint answered_after_close;
    gint max_out_bytes_seen;
    gint taken_zero_copy;
    gint taken_copied;
    gint last_rcvlowat; /* the socket's SO_RCVLOWAT when the last 'E' was handled */
} fixture_t;

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + (i >> 8) * 13);
}

typedef struct pending {
    fixture_t *fx;
    rb_slot_t *slot;
    uint32_t id;
    uint8_t *taken; /* 'T': the frame, kept past on_request */
    size_t taken_len;
} pending_t;

static void answer_pending(void *ud)
{
    pending_t *p = ud;
    if (rb_slot_conn_closed(p->slot))
        g_atomic_int_inc(&p->fx->answered_after_close);
    rb_resp_t *resp = rb_resp_new();
    uint8_t id[4];
    put32(id, p->id);
    rb_resp_append_copy(resp, id, 4);
    if (p->taken != NULL) {
        rb_resp_append_copy(resp, p->taken + 5, p->taken_len - 5);
        rb_frame_free(p->taken);
    }
    g_atomic_int_add(&p->fx->outstanding, -1);
    rb_conn_respond(p->slot, resp);
    g_free(p);
}

static gpointer post_from_thread(gpointer ud)
{
    pending_t *p = ud;
    g_usleep(5000);
    rb_loop_post(p->fx->loop, answer_pending, p);
    return NULL;
}

static void on_request(rb_conn_t *conn, rb_slot_t *slot, const uint8_t *frame, size_t len,
                       void *ud)
{
    fixture_t *fx = ud;
    g_atomic_int_inc(&fx->requests);
    int out_bytes = (int)conn->out_bytes;
    if (out_bytes > g_atomic_int_get(&fx->max_out_bytes_seen))
        g_atomic_int_set(&fx->max_out_bytes_seen, out_bytes);
    g_assert(rb_slot_conn(slot) == conn);
    if (len < 5) {
        rb_conn_respond(slot, NULL);
        rb_conn_close(conn, "test: short frame");
        return;
    }
    uint8_t cmd = frame[0];
    uint32_t id = get32(frame + 1);
    const uint8_t *payload = frame + 5;
    size_t plen = len - 5;
    uint8_t idbuf[4];
    put32(idbuf, id);

    int now = g_atomic_int_add(&fx->outstanding, 1) + 1;
    if (now > g_atomic_int_get(&fx->max_outstanding))
        g_atomic_int_set(&fx->max_outstanding, now);

    switch (cmd) {
    case 'E': {
        int lowat = 0;
        socklen_t optlen = sizeof(lowat);
        g_assert(getsockopt(conn->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, &optlen) == 0);
        g_atomic_int_set(&fx->last_rcvlowat, lowat);
        rb_resp_t *resp = rb_resp_new();
        rb_resp_append_copy(resp, idbuf, 4);
        rb_resp_append_copy(resp, payload, plen);
        g_atomic_int_add(&fx->outstanding, -1);
        rb_conn_respond(slot, resp);
        return;
    }
    case 'D': {
        pending_t *p = g_new0(pending_t, 1);
        p->fx = fx;
        p->slot = slot;
        p->id = id;
        rb_loop_add_timer(fx->loop, plen >= 4 ? get32(payload) : 0, answer_pending, p);
        return;
    }
    case 'T': {
        pending_t *p = g_new0(pending_t, 1);
        p->fx = fx;
        p->slot = slot;
        p->id = id;
        p->taken = rb_conn_take_frame(conn, frame, len);
        p->taken_len = len;
        if (conn->rbuf == NULL)
            g_atomic_int_inc(&fx->taken_zero_copy);
        else
            g_atomic_int_inc(&fx->taken_copied);
        g_assert(memcmp(p->taken, frame, len) == 0 || conn->rbuf == NULL);
        for (size_t i = 0; i < plen / 2; i++) { /* modify in place */
            uint8_t t = p->taken[5 + i];
            p->taken[5 + i] = p->taken[5 + plen - 1 - i];
            p->taken[5 + plen - 1 - i] = t;
        }
        rb_loop_add_timer(fx->loop, 1, answer_pending, p);
        return;
    }
    case 'P': {
        pending_t *p = g_new0(pending_t, 1);
        p->fx = fx;
        p->slot = slot;
        p->id = id;
        g_thread_unref(g_thread_new("poster", post_from_thread, p));
        return;
    }
    case 'B': {
        size_t n = get32(payload);
        rb_resp_t *resp = rb_resp_new();
        rb_resp_append_copy(resp, idbuf, 4);
        size_t done = 0;
        size_t chunk = 1;
        while (done < n) {
            size_t take = MIN(chunk, n - done);
            uint8_t *piece = g_malloc(take);
            for (size_t i = 0; i < take; i++)
                piece[i] = pattern(done + i);
            if (chunk % 3 == 0) {
                rb_resp_append_copy(resp, piece, take);
                g_free(piece);
            } else {
                rb_resp_append_mem(resp, piece, take, g_free);
            }
            done += take;
            chunk = chunk * 2 + 1;
        }
        g_assert(rb_resp_len(resp) == n + 4);
        g_atomic_int_add(&fx->outstanding, -1);
        rb_conn_respond(slot, resp);
        return;
    }
    case 'F': {
        uint32_t off = get32(payload), flen = get32(payload + 4);
        int fd = open(fx->file_path, O_RDONLY | O_CLOEXEC);
        g_assert(fd >= 0);
        rb_resp_t *resp = rb_resp_new();
        rb_resp_append_copy(resp, idbuf, 4);
        rb_resp_append_copy(resp, "<", 1);
        g_assert(rb_resp_append_file(resp, fd, off, flen / 2) == 0);
        g_assert(rb_resp_append_file(resp, fd, off + flen / 2, flen - flen / 2) == 0);
        rb_resp_append_mem(resp, (void *)">", 1, NULL);
        close(fd); /* the response holds its own descriptors */
        g_atomic_int_add(&fx->outstanding, -1);
        rb_conn_respond(slot, resp);
        return;
    }
    case 'N':
        g_atomic_int_add(&fx->outstanding, -1);
        rb_conn_respond(slot, NULL);
        return;
    case 'X':
    default:
        g_atomic_int_add(&fx->outstanding, -1);
        rb_conn_respond(slot, NULL);
        rb_conn_close(conn, "test: rejected frame");
        return;
    }
}

static void on_close(rb_conn_t *conn, void *ud)
{
    fixture_t *fx = ud;
    g_atomic_int_inc(&fx->closes);
}

static gpointer loop_thread(gpointer ud)
{
    fixture_t *fx = ud;
    g_assert(rb_loop_run(fx->loop) == 0);
    return NULL;
}

static fixture_t *start(const rb_net_limits_t *limits)
{
    fixture_t *fx = g_new0(fixture_t, 1);
    fx->loop = rb_loop_new();
    assert_non_null(fx->loop);
    static rb_net_callbacks_t cb = {.on_request = on_request, .on_close = on_close};
    rb_net_callbacks_t *mine = g_new(rb_net_callbacks_t, 1);
    *mine = cb;
    mine->ud = fx;
    if (limits != NULL)
        fx->limits = *limits;
    fx->port = rb_loop_listen(fx->loop, "127.0.0.1", 0, limits, mine);
    g_free(mine); /* rb_loop_listen copies the callbacks */
    assert_true(fx->port > 0);
    fx->thread = g_thread_new("loop", loop_thread, fx);
    return fx;
}

static void stop(fixture_t *fx)
{
    rb_loop_stop(fx->loop);
    g_thread_join(fx->thread);
    rb_loop_destroy(fx->loop);
    if (fx->file_path != NULL) {
        g_unlink(fx->file_path);
        g_free(fx->file_path);
    }
    g_free(fx);
}

/* ---- the client side (test thread) ---------------------------------------------------- */

static int client(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    return fd;
}

static void send_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        p += n;
        len -= (size_t)n;
    }
}

/* Appends a request frame to w. */
static void add_frame(GByteArray *w, uint8_t cmd, uint32_t id, const void *payload, size_t plen)
{
    uint8_t hdr[9];
    put32(hdr, (uint32_t)(5 + plen));
    hdr[4] = cmd;
    put32(hdr + 5, id);
    g_byte_array_append(w, hdr, 9);
    if (plen > 0)
        g_byte_array_append(w, payload, (guint)plen);
}

static void add_frame32(GByteArray *w, uint8_t cmd, uint32_t id, uint32_t arg)
{
    uint8_t payload[4];
    put32(payload, arg);
    add_frame(w, cmd, id, payload, 4);
}

/* Reads exactly len bytes; false on EOF/error/timeout. */
static bool read_full(int fd, void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = recv(fd, p, len, 0);
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

/* Reads one response frame (transfer full), NULL at EOF. */
static GBytes *read_frame(int fd)
{
    uint8_t hdr[4];
    if (!read_full(fd, hdr, 4))
        return NULL;
    size_t len = get32(hdr);
    uint8_t *body = g_malloc(len ? len : 1);
    if (!read_full(fd, body, len)) {
        g_free(body);
        return NULL;
    }
    return g_bytes_new_take(body, len);
}

static uint32_t frame_id(GBytes *frame)
{
    size_t len;
    const uint8_t *p = g_bytes_get_data(frame, &len);
    assert_true(len >= 4);
    return get32(p);
}

/* True when the server closed fd (EOF or reset) within 10 s. */
static bool closed_by_peer(int fd)
{
    uint8_t b[256];
    for (;;) {
        ssize_t n = recv(fd, b, sizeof(b), 0);
        if (n == 0)
            return true;
        if (n < 0)
            return errno == ECONNRESET;
    }
}

/* Checks that the server still answers an echo on a fresh connection. */
static void assert_still_serving(fixture_t *fx)
{
    int fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    add_frame(w, 'E', 77, "ok", 2);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    GBytes *resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 77);
    assert_int_equal(g_bytes_get_size(resp), 6);
    assert_memory_equal((const uint8_t *)g_bytes_get_data(resp, NULL) + 4, "ok", 2);
    g_bytes_unref(resp);
    close(fd);
}

static bool wait_for_int(gint *counter, int at_least)
{
    for (int i = 0; i < 1000; i++) {
        if (g_atomic_int_get(counter) >= at_least)
            return true;
        g_usleep(10000);
    }
    return false;
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_net__echo(void **state)
{
    fixture_t *fx = start(NULL);
    assert_still_serving(fx);
    stop(fx);
}

/* Answers given out of order (deferred by timers and by another thread)
 * still leave in request order; acks=0-style requests send nothing. */
static void test_net__pipelined_out_of_order(void **state)
{
    fixture_t *fx = start(NULL);
    int fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    add_frame32(w, 'D', 1, 150);
    add_frame(w, 'E', 2, "two", 3);
    add_frame32(w, 'D', 3, 20);
    add_frame(w, 'N', 4, NULL, 0);
    add_frame(w, 'P', 5, NULL, 0);
    add_frame(w, 'E', 6, "six", 3);
    add_frame32(w, 'D', 7, 0);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    const uint32_t expect[] = {1, 2, 3, 5, 6, 7};
    for (size_t i = 0; i < G_N_ELEMENTS(expect); i++) {
        GBytes *resp = read_frame(fd);
        assert_non_null(resp);
        assert_int_equal(frame_id(resp), expect[i]);
        g_bytes_unref(resp);
    }
    /* nothing for 'N': the next frame is the answer to the next request */
    w = g_byte_array_new();
    add_frame(w, 'E', 8, NULL, 0);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    GBytes *resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 8);
    g_bytes_unref(resp);
    close(fd);
    stop(fx);
}

/* Requests split at every byte boundary are reassembled. */
static void test_net__frames_split_across_reads(void **state)
{
    fixture_t *fx = start(NULL);
    int fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    for (uint32_t i = 0; i < 20; i++)
        add_frame(w, 'E', i, "abcdefgh", i % 9);
    for (guint i = 0; i < w->len; i++) {
        send_all(fd, w->data + i, 1);
        if (i % 7 == 0)
            g_usleep(200);
    }
    g_byte_array_unref(w);
    for (uint32_t i = 0; i < 20; i++) {
        GBytes *resp = read_frame(fd);
        assert_non_null(resp);
        assert_int_equal(frame_id(resp), i);
        assert_int_equal(g_bytes_get_size(resp), 4 + i % 9);
        g_bytes_unref(resp);
    }
    close(fd);
    stop(fx);
}

/* A large frame that arrives in parts raises SO_RCVLOWAT to what it still
 * needs (one wake-up when it is complete); once it is handled the socket
 * goes back to 1, so a small request after it is answered at once; a peer
 * that closes in the middle of a large frame is still noticed. */
static void test_net__large_frame_waits_with_rcvlowat(void **state)
{
    fixture_t *fx = start(NULL);
    int fd = client(fx->port);
    const size_t n = 1u << 20;
    uint8_t *payload = g_malloc(n);
    for (size_t i = 0; i < n; i++)
        payload[i] = pattern(i);
    GByteArray *w = g_byte_array_new();
    add_frame(w, 'E', 1, payload, n);
    add_frame(w, 'E', 2, "small", 5);
    size_t first = 100u << 10, big_end = 9 + n;
    send_all(fd, w->data, first);
    g_usleep(50000); /* the server reads the first part and learns the frame's size */
    assert_int_equal(g_atomic_int_get(&fx->requests), 0);
    send_all(fd, w->data + first, big_end - first);
    GBytes *resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 1);
    assert_int_equal(g_bytes_get_size(resp), 4 + n);
    assert_memory_equal((const uint8_t *)g_bytes_get_data(resp, NULL) + 4, payload, n);
    g_bytes_unref(resp);
    /* when the big frame was handled, the socket waited for all of it */
    assert_true(g_atomic_int_get(&fx->last_rcvlowat) > 64 << 10);
    assert_true(g_atomic_int_get(&fx->last_rcvlowat) < (int)big_end);
    /* the small request on its own: answered (a raised low-water mark would hold it) */
    send_all(fd, w->data + big_end, w->len - big_end);
    resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 2);
    assert_int_equal(g_atomic_int_get(&fx->last_rcvlowat), 1);
    g_bytes_unref(resp);

    /* the peer goes away 200 KiB into another large frame */
    send_all(fd, w->data, 200u << 10);
    g_usleep(20000);
    close(fd);
    assert_true(wait_for_int(&fx->closes, 1));
    g_byte_array_unref(w);
    g_free(payload);
    assert_still_serving(fx);
    stop(fx);
}

/* A 24 MiB response in ~30 pieces, read slowly: partial writes and EAGAIN. */
static void test_net__large_response(void **state)
{
    fixture_t *fx = start(NULL);
    int fd = client(fx->port);
    const uint32_t n = 24u << 20;
    GByteArray *w = g_byte_array_new();
    add_frame32(w, 'B', 9, n);
    add_frame(w, 'E', 10, "after", 5);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    g_usleep(100000); /* let the server fill the socket buffer and block */
    GBytes *resp = read_frame(fd);
    assert_non_null(resp);
    size_t len;
    const uint8_t *p = g_bytes_get_data(resp, &len);
    assert_int_equal(len, n + 4);
    assert_int_equal(get32(p), 9);
    for (size_t i = 0; i < n; i++) {
        if (p[4 + i] != pattern(i))
            fail_msg("byte %zu differs", i);
    }
    g_bytes_unref(resp);
    resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 10);
    g_bytes_unref(resp);
    close(fd);
    stop(fx);
}

/* File pieces go out with sendfile, framed by memory pieces, and stay
 * readable after the caller closed and unlinked the file. */
static void test_net__file_pieces(void **state)
{
    fixture_t *fx = start(NULL);
    GError *gerr = NULL;
    int tmp = g_file_open_tmp("rill-test-net-XXXXXX", &fx->file_path, &gerr);
    assert_true(tmp >= 0);
    const size_t flen = 3u << 20;
    uint8_t *content = g_malloc(flen);
    for (size_t i = 0; i < flen; i++)
        content[i] = pattern(i * 3);
    assert_true(write(tmp, content, flen) == (ssize_t)flen);
    close(tmp);

    int fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    uint8_t args[8];
    put32(args, 1000);
    put32(args + 4, (uint32_t)(flen - 2000));
    add_frame(w, 'F', 1, args, 8);
    put32(args, 5);
    put32(args + 4, 11);
    add_frame(w, 'F', 2, args, 8);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);

    GBytes *resp = read_frame(fd);
    assert_non_null(resp);
    size_t len;
    const uint8_t *p = g_bytes_get_data(resp, &len);
    assert_int_equal(len, 4 + 1 + flen - 2000 + 1);
    assert_int_equal(get32(p), 1);
    assert_int_equal(p[4], '<');
    assert_memory_equal(p + 5, content + 1000, flen - 2000);
    assert_int_equal(p[len - 1], '>');
    g_bytes_unref(resp);
    resp = read_frame(fd);
    assert_non_null(resp);
    p = g_bytes_get_data(resp, &len);
    assert_int_equal(len, 4 + 1 + 11 + 1);
    assert_memory_equal(p + 5, content + 5, 11);
    g_bytes_unref(resp);
    g_free(content);
    close(fd);
    stop(fx);
}

/* A size over socket.request.max.bytes, or negative, closes only that connection. */
static void test_net__oversized_and_negative_frames(void **state)
{
    rb_net_limits_t limits = {.max_request_bytes = 1024};
    fixture_t *fx = start(&limits);
    int bystander = client(fx->port);

    int fd = client(fx->port);
    uint8_t hdr[4];
    put32(hdr, 1025);
    send_all(fd, hdr, 4);
    assert_true(closed_by_peer(fd));
    close(fd);

    fd = client(fx->port);
    put32(hdr, 0xfffffff0u);
    send_all(fd, hdr, 4);
    assert_true(closed_by_peer(fd));
    close(fd);

    /* exactly the limit is fine */
    fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    uint8_t *payload = g_malloc0(1024 - 5);
    add_frame(w, 'E', 3, payload, 1024 - 5);
    g_free(payload);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    GBytes *resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(g_bytes_get_size(resp), 4 + 1024 - 5);
    g_bytes_unref(resp);
    close(fd);

    /* the other connection never noticed */
    w = g_byte_array_new();
    add_frame(w, 'E', 4, "x", 1);
    send_all(bystander, w->data, w->len);
    g_byte_array_unref(w);
    resp = read_frame(bystander);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 4);
    g_bytes_unref(resp);
    close(bystander);
    assert_still_serving(fx);
    stop(fx);
}

/* Garbage (text where a size should be) and a frame the handler rejects. */
static void test_net__garbage_and_rejected(void **state)
{
    rb_net_limits_t limits = {.max_request_bytes = 1 << 20};
    fixture_t *fx = start(&limits);
    int fd = client(fx->port);
    const char *garbage = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    send_all(fd, garbage, strlen(garbage));
    assert_true(closed_by_peer(fd));
    close(fd);

    fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    add_frame(w, 'E', 1, NULL, 0);
    add_frame(w, 'X', 2, NULL, 0);
    add_frame(w, 'E', 3, NULL, 0); /* never dispatched: the conn closed */
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    GBytes *resp = read_frame(fd);
    /* the first answer may or may not have left before the close: either way
     * the connection ends and nothing after 'X' is answered */
    if (resp != NULL) {
        assert_int_equal(frame_id(resp), 1);
        g_bytes_unref(resp);
        assert_null(read_frame(fd));
    }
    close(fd);
    assert_still_serving(fx);
    stop(fx);
}

/* Peers that hang up mid-frame, or before deferred answers are ready: the
 * loop calls on_close, later answers go nowhere, nothing leaks (ASan). */
static void test_net__peer_closes_mid_frame_and_with_pending(void **state)
{
    fixture_t *fx = start(NULL);
    int fd = client(fx->port);
    uint8_t partial[6];
    put32(partial, 100);
    partial[4] = 'E';
    partial[5] = 0;
    send_all(fd, partial, sizeof(partial));
    g_usleep(20000);
    close(fd);
    assert_true(wait_for_int(&fx->closes, 1));

    fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    add_frame32(w, 'D', 1, 100);
    add_frame32(w, 'D', 2, 50);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    assert_true(wait_for_int(&fx->requests, 2));
    close(fd);
    assert_true(wait_for_int(&fx->closes, 2));
    assert_true(wait_for_int(&fx->answered_after_close, 2));
    assert_still_serving(fx);
    stop(fx);
}

/* Many connections at once, each with pipelined requests. */
static void test_net__many_connections(void **state)
{
    fixture_t *fx = start(NULL);
    enum { NCONN = 200, NREQ = 10 };
    int fds[NCONN];
    for (int c = 0; c < NCONN; c++) {
        fds[c] = client(fx->port);
        GByteArray *w = g_byte_array_new();
        for (int r = 0; r < NREQ; r++) {
            char payload[32];
            int plen = g_snprintf(payload, sizeof(payload), "c%d-r%d", c, r);
            if (r == 3)
                add_frame32(w, 'D', (uint32_t)(c * 100 + r), (uint32_t)(c % 5));
            else
                add_frame(w, 'E', (uint32_t)(c * 100 + r), payload, (size_t)plen);
        }
        send_all(fds[c], w->data, w->len);
        g_byte_array_unref(w);
    }
    for (int c = NCONN - 1; c >= 0; c--) {
        for (int r = 0; r < NREQ; r++) {
            GBytes *resp = read_frame(fds[c]);
            assert_non_null(resp);
            assert_int_equal(frame_id(resp), c * 100 + r);
            if (r != 3) {
                char payload[32];
                int plen = g_snprintf(payload, sizeof(payload), "c%d-r%d", c, r);
                assert_int_equal(g_bytes_get_size(resp), 4 + (size_t)plen);
                assert_memory_equal((const uint8_t *)g_bytes_get_data(resp, NULL) + 4, payload,
                                    (size_t)plen);
            }
            g_bytes_unref(resp);
        }
        close(fds[c]);
    }
    assert_true(wait_for_int(&fx->closes, NCONN));
    stop(fx);
}

/* Sends n requests (16 KiB answers; odd ones deferred if with_deferred)
 * without reading for a while, then checks every answer arrives in order. */
static void pipeline_without_reading(fixture_t *fx, uint32_t n, bool with_deferred)
{
    int fd = client(fx->port);
    GByteArray *w = g_byte_array_new();
    for (uint32_t i = 0; i < n; i++) {
        if (with_deferred && i % 2)
            add_frame32(w, 'D', i, 0);
        else
            add_frame32(w, 'B', i, 16 << 10);
    }
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    g_usleep(100000); /* the client does not read yet: output piles up */
    for (uint32_t i = 0; i < n; i++) {
        GBytes *resp = read_frame(fd);
        assert_non_null(resp);
        assert_int_equal(frame_id(resp), i);
        g_bytes_unref(resp);
    }
    close(fd);
}

/* The inflight limit holds dispatching back. */
static void test_net__backpressure_inflight(void **state)
{
    rb_net_limits_t limits = {.max_inflight_requests = 4};
    fixture_t *fx = start(&limits);
    pipeline_without_reading(fx, 400, true);
    assert_true(g_atomic_int_get(&fx->max_outstanding) <= 4);
    assert_true(g_atomic_int_get(&fx->max_outstanding) >= 2);
    stop(fx);
}

/* The output limit holds dispatching and reading back: the handler never
 * sees more unsent output queued than the limit. */
static void test_net__backpressure_output(void **state)
{
    rb_net_limits_t limits = {.max_inflight_requests = 100000, .max_pending_output = 64 << 10};
    fixture_t *fx = start(&limits);
    pipeline_without_reading(fx, 800, false);
    assert_true(g_atomic_int_get(&fx->max_out_bytes_seen) <= (64 << 10));
    assert_true(g_atomic_int_get(&fx->max_out_bytes_seen) > (32 << 10));
    stop(fx);
}

static void check_reversed(GBytes *resp, uint32_t id, const uint8_t *payload, size_t plen)
{
    assert_non_null(resp);
    size_t len;
    const uint8_t *p = g_bytes_get_data(resp, &len);
    assert_int_equal(len, 4 + plen);
    assert_int_equal(get32(p), id);
    for (size_t i = 0; i < plen; i++) {
        if (p[4 + i] != payload[plen - 1 - i])
            fail_msg("byte %zu of the taken frame %u differs", i, id);
    }
}

/* A handler keeps and modifies frames past on_request: large frames alone in
 * the buffer are handed over without a copy, others are copied; both are
 * right, and the frames after a taken one are still read correctly. */
static void test_net__take_frame(void **state)
{
    fixture_t *fx = start(NULL);
    int fd = client(fx->port);
    const size_t big = 300 << 10;
    uint8_t *payload = g_malloc(big);
    for (size_t i = 0; i < big; i++)
        payload[i] = pattern(i * 5);

    /* alone: zero copy */
    for (uint32_t id = 1; id <= 3; id++) {
        GByteArray *w = g_byte_array_new();
        add_frame(w, 'T', id, payload, big);
        send_all(fd, w->data, w->len);
        g_byte_array_unref(w);
        GBytes *resp = read_frame(fd);
        check_reversed(resp, id, payload, big);
        g_bytes_unref(resp);
    }
    assert_true(g_atomic_int_get(&fx->taken_zero_copy) >= 1);

    /* pipelined with small frames around it: copies, answers in order */
    GByteArray *w = g_byte_array_new();
    add_frame(w, 'T', 10, payload, 100);
    add_frame(w, 'E', 11, "x", 1);
    add_frame(w, 'T', 12, payload, big);
    add_frame(w, 'E', 13, "y", 1);
    send_all(fd, w->data, w->len);
    g_byte_array_unref(w);
    GBytes *resp = read_frame(fd);
    check_reversed(resp, 10, payload, 100);
    g_bytes_unref(resp);
    resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 11);
    g_bytes_unref(resp);
    resp = read_frame(fd);
    check_reversed(resp, 12, payload, big);
    g_bytes_unref(resp);
    resp = read_frame(fd);
    assert_non_null(resp);
    assert_int_equal(frame_id(resp), 13);
    g_bytes_unref(resp);
    assert_true(g_atomic_int_get(&fx->taken_copied) >= 1);
    g_free(payload);
    close(fd);
    stop(fx);
}

/* ---- timers and posts ------------------------------------------------------------------- */

typedef struct timer_log {
    rb_loop_t *loop;
    GString *order;
    rb_timer_id_t to_cancel;
} timer_log_t;

static void timer_mark(timer_log_t *log, char c)
{
    g_string_append_c(log->order, c);
}

static void timer_a(void *ud) { timer_mark(ud, 'a'); }
static void timer_b(void *ud) { timer_mark(ud, 'b'); }
static void timer_c(void *ud) { timer_mark(ud, 'c'); }
static void timer_stop(void *ud)
{
    timer_log_t *log = ud;
    timer_mark(log, '.');
    rb_loop_stop(log->loop);
}
/* The re-armed timer stops the loop 40 ms later. Chained rather than a fixed
 * 80 ms stop timer: on a loaded machine the loop may wake after 80 ms, and a
 * fixed stop would then be due before the 0 ms timer added at that moment. */
static void timer_c_then_stop(void *ud)
{
    timer_log_t *log = ud;
    timer_mark(log, 'c');
    rb_loop_add_timer(log->loop, 40, timer_stop, log);
}
static void timer_rearm(void *ud)
{
    timer_log_t *log = ud;
    timer_mark(log, 'r');
    /* re-arming with 0 must run next iteration, not spin; cancelling inside works */
    rb_loop_cancel_timer(log->loop, log->to_cancel);
    rb_loop_add_timer(log->loop, 0, timer_c_then_stop, log);
}

static void test_net__timers(void **state)
{
    rb_loop_t *loop = rb_loop_new();
    timer_log_t log = {.loop = loop, .order = g_string_new("")};
    int64_t t0 = rb_loop_now_ms(loop);
    rb_loop_add_timer(loop, 30, timer_b, &log);
    rb_loop_add_timer(loop, 10, timer_a, &log);
    rb_timer_id_t gone = rb_loop_add_timer(loop, 20, timer_c, &log);
    rb_loop_cancel_timer(loop, gone);
    rb_loop_cancel_timer(loop, gone); /* twice: no-op */
    rb_loop_add_timer(loop, 40, timer_rearm, &log);
    log.to_cancel = rb_loop_add_timer(loop, 45, timer_a, &log);
    /* many timers, cancelled in a scattered order: the heap stays consistent */
    rb_timer_id_t ids[500];
    for (int i = 0; i < 500; i++)
        ids[i] = rb_loop_add_timer(loop, 1000 + (i * 37) % 500, timer_a, &log);
    for (int i = 0; i < 500; i++)
        rb_loop_cancel_timer(loop, ids[(i * 7) % 500]);
    assert_int_equal(rb_loop_run(loop), 0);
    assert_string_equal(log.order->str, "abrc.");
    assert_true(rb_loop_now_ms(loop) - t0 >= 80);
    g_string_free(log.order, TRUE);
    rb_loop_destroy(loop);
}

typedef struct post_state {
    rb_loop_t *loop;
    gint count;
} post_state_t;

static void post_count(void *ud)
{
    post_state_t *ps = ud;
    if (g_atomic_int_add(&ps->count, 1) + 1 == 4000)
        rb_loop_stop(ps->loop);
}

static gpointer poster(gpointer ud)
{
    post_state_t *ps = ud;
    for (int i = 0; i < 1000; i++)
        rb_loop_post(ps->loop, post_count, ps);
    return NULL;
}

static void never(void *ud)
{
    fail_msg("a timer an hour away fired");
}

static void test_net__post_from_threads(void **state)
{
    rb_loop_t *loop = rb_loop_new();
    post_state_t ps = {.loop = loop};
    rb_loop_add_timer(loop, 3600 * 1000, never, NULL); /* the loop would sleep */
    GThread *threads[4];
    for (int i = 0; i < 4; i++)
        threads[i] = g_thread_new("poster", poster, &ps);
    assert_int_equal(rb_loop_run(loop), 0);
    for (int i = 0; i < 4; i++)
        g_thread_join(threads[i]);
    assert_int_equal(g_atomic_int_get(&ps.count), 4000);
    rb_loop_destroy(loop);
}

/* rb_loop_stop before rb_loop_run makes run return at once. */
static void test_net__stop_before_run(void **state)
{
    rb_loop_t *loop = rb_loop_new();
    rb_loop_add_timer(loop, 3600 * 1000, never, NULL);
    rb_loop_stop(loop);
    assert_int_equal(rb_loop_run(loop), 0);
    rb_loop_destroy(loop);
}

static void test_net__resp_pieces(void **state)
{
    rb_resp_t *resp = rb_resp_new();
    assert_int_equal(rb_resp_len(resp), 0);
    rb_resp_append_copy(resp, "ab", 2);
    rb_resp_append_copy(resp, "cd", 2); /* merges with the previous copy */
    rb_resp_append_mem(resp, g_strdup("efg"), 3, g_free);
    rb_resp_append_copy(resp, "h", 1);
    rb_resp_append_mem(resp, g_strdup(""), 0, g_free); /* empty: freed at once */
    assert_int_equal(rb_resp_len(resp), 8);
    assert_int_equal(resp->npieces, 4); /* hdr, "abcd", "efg", "h" */
    assert_int_equal(rb_resp_append_file(resp, -1, 0, 10), -1);
    rb_resp_free(resp);
    rb_resp_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net__echo),
        cmocka_unit_test(test_net__pipelined_out_of_order),
        cmocka_unit_test(test_net__frames_split_across_reads),
        cmocka_unit_test(test_net__large_response),
        cmocka_unit_test(test_net__large_frame_waits_with_rcvlowat),
        cmocka_unit_test(test_net__file_pieces),
        cmocka_unit_test(test_net__oversized_and_negative_frames),
        cmocka_unit_test(test_net__garbage_and_rejected),
        cmocka_unit_test(test_net__peer_closes_mid_frame_and_with_pending),
        cmocka_unit_test(test_net__many_connections),
        cmocka_unit_test(test_net__backpressure_inflight),
        cmocka_unit_test(test_net__backpressure_output),
        cmocka_unit_test(test_net__timers),
        cmocka_unit_test(test_net__post_from_threads),
        cmocka_unit_test(test_net__stop_before_run),
        cmocka_unit_test(test_net__resp_pieces),
        cmocka_unit_test(test_net__take_frame),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
