/* net.h: rill-broker's network layer: one epoll event loop, non-blocking
 * sockets, Kafka framing, requests answered in order per connection.
 *
 * This header is the contract between net/ (which implements it) and
 * server/ (which handles requests). The loop is single-threaded: every
 * function here is called on the loop thread, except rb_loop_post() and
 * rb_loop_stop(), which any thread may call.
 *
 * Requests and responses:
 *   - net reads `int32 size` + `size` bytes. A size < 0, a size over
 *     socket.request.max.bytes, or a frame the handler rejects closes that
 *     connection with a log line; the broker goes on.
 *   - For each frame net calls the request callback with a fresh slot. The
 *     handler answers with rb_conn_respond(slot, resp), now or later (a
 *     long-polling Fetch, an acks=-1 Produce waiting for fsync). Responses
 *     leave in request order: a later answer waits for earlier ones.
 *     rb_conn_respond(slot, NULL) ends a request that gets no response
 *     (Produce with acks=0).
 *   - A slot stays valid until it is responded to, even if the connection
 *     closes meanwhile (the response is then dropped). Every slot must be
 *     responded to exactly once.
 *   - A response is a chain of pieces: memory (sent with writev) and file
 *     ranges (sent with sendfile, zero copy). The file descriptor is dup'd
 *     when appended, so the data stays readable even if the segment is
 *     deleted before it is sent. The response's 4-byte size prefix is added
 *     by net: pieces hold only the response header and body.
 *   - While a connection has more than a bounded amount of unsent output or
 *     of unanswered requests, net stops reading from it (backpressure).
 */
#ifndef RB_NET_H
#define RB_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rb_loop rb_loop_t;
typedef struct rb_conn rb_conn_t;
typedef struct rb_slot rb_slot_t;
typedef struct rb_resp rb_resp_t;

/* ---- the loop -------------------------------------------------------- */

/* Creates a loop (NULL if epoll/eventfd fail). Sets SIGPIPE to ignored: a peer
 * that hangs up during sendfile must be an EPIPE, not the end of the process. */
rb_loop_t *rb_loop_new(void);
/* Closes every listener and connection without calling on_close (the owner of
 * the callbacks is expected to be gone); unanswered slots are freed too. */
void rb_loop_destroy(rb_loop_t *loop);

/* Runs until rb_loop_stop(). Returns 0, or -1 on a fatal epoll error. */
int rb_loop_run(rb_loop_t *loop);

/* Makes rb_loop_run() return soon. Thread-safe and async-signal-safe. */
void rb_loop_stop(rb_loop_t *loop);

/* Runs cb(ud) on the loop thread soon. Thread-safe (an eventfd wakes the loop). */
void rb_loop_post(rb_loop_t *loop, void (*cb)(void *ud), void *ud);

/* Monotonic milliseconds, read once per loop iteration (cheap). */
int64_t rb_loop_now_ms(rb_loop_t *loop);

/* One-shot timer after delay_ms; returns an id > 0. Cancelling a timer that
 * already fired is a no-op. A callback may add and cancel timers. */
typedef uint64_t rb_timer_id_t;
rb_timer_id_t rb_loop_add_timer(rb_loop_t *loop, int64_t delay_ms, void (*cb)(void *ud), void *ud);
void rb_loop_cancel_timer(rb_loop_t *loop, rb_timer_id_t id);

/* Network counters since the loop was created (for the metrics endpoint).
 * rb_loop_stats may be called from any thread: the counters are atomics. */
typedef struct rb_net_stats {
    uint64_t bytes_in;  /* read from client sockets */
    uint64_t bytes_out; /* written to client sockets (writev and sendfile) */
    uint64_t connections_accepted;
    uint64_t connections_closed; /* released; open = accepted - closed */
} rb_net_stats_t;
void rb_loop_stats(const rb_loop_t *loop, rb_net_stats_t *out);

/* ---- listeners and connections --------------------------------------- */

typedef struct rb_net_callbacks {
    /* A whole request frame (without the size prefix). frame is borrowed
     * until the callback returns; copy what outlives it. */
    void (*on_request)(rb_conn_t *conn, rb_slot_t *slot, const uint8_t *frame, size_t len,
                       void *ud);
    /* The connection is closing (peer closed, error, or rb_conn_close).
     * Pending slots stay valid until responded to. May be NULL. */
    void (*on_close)(rb_conn_t *conn, void *ud);
    void *ud;
} rb_net_callbacks_t;

/* A field <= 0 (or limits == NULL) takes the default in brackets. */
typedef struct rb_net_limits {
    int32_t max_request_bytes;   /* socket.request.max.bytes [104857600] */
    size_t max_pending_output;   /* stop reading while more unsent (bytes) [8 MiB] */
    int max_inflight_requests;   /* stop reading while this many unanswered [256] */
} rb_net_limits_t;

/* Listens on host:port (port 0 picks a free one). Returns the bound port,
 * or -1 with errno set. host "" or "0.0.0.0" means all addresses. */
int rb_loop_listen(rb_loop_t *loop, const char *host, int port, const rb_net_limits_t *limits,
                   const rb_net_callbacks_t *cb);

/* Peer address as "ip:port" (borrowed, valid while conn lives). */
const char *rb_conn_peer(const rb_conn_t *conn);

/* Opaque per-connection user pointer for server/ (e.g. client id, SASL state).
 * free_fn (may be NULL) runs when the connection's memory is released: after
 * on_close and after its last slot is answered, or in rb_loop_destroy, so it
 * must not depend on the server still existing. Setting new data frees the old. */
void rb_conn_set_data(rb_conn_t *conn, void *data, void (*free_fn)(void *));
void *rb_conn_get_data(const rb_conn_t *conn);

/* Takes the frame of the request being handled so that the handler may keep
 * it after on_request returns and modify it in place (e.g. to stamp offsets
 * into a record batch). Without a copy when net can hand its buffer over (a
 * large frame alone in the connection's buffer, the common case for Produce),
 * else a copy. Call only from on_request, with the frame and len it was given.
 * Returns len writable bytes (transfer full): free with rb_frame_free(). */
uint8_t *rb_conn_take_frame(rb_conn_t *conn, const uint8_t *frame, size_t len);
/* Frees what rb_conn_take_frame returned. NULL is a no-op. */
void rb_frame_free(uint8_t *frame);

/* Closes the connection after logging reason. Pending slots stay valid. */
void rb_conn_close(rb_conn_t *conn, const char *reason);

/* The connection a slot belongs to (it may be closed). */
rb_conn_t *rb_slot_conn(const rb_slot_t *slot);
bool rb_slot_conn_closed(const rb_slot_t *slot);

/* Answers the request of slot. resp: (transfer full), NULL = no response. */
void rb_conn_respond(rb_slot_t *slot, rb_resp_t *resp);

/* ---- responses --------------------------------------------------------- */

rb_resp_t *rb_resp_new(void);
void rb_resp_free(rb_resp_t *resp);
/* Appends memory; resp takes data (transfer full), freed with free_fn (may be NULL for static). */
void rb_resp_append_mem(rb_resp_t *resp, void *data, size_t len, void (*free_fn)(void *));
/* Appends a copy of len bytes. */
void rb_resp_append_copy(rb_resp_t *resp, const void *data, size_t len);
/* Appends len bytes of file fd from offset off (fd is dup'd; the caller keeps fd). Returns 0 or -1. */
int rb_resp_append_file(rb_resp_t *resp, int fd, off_t off, size_t len);
/* Total bytes of the response (without the 4-byte size prefix). */
size_t rb_resp_len(const rb_resp_t *resp);

#endif /* RB_NET_H */
