/* net-private.h: the structures shared by net/'s files (loop.c, conn.c, resp.c).
 *
 * Ownership at a glance:
 *   loop ──owns──► listeners, timers, posts, every rb_conn ever accepted and not yet freed
 *   conn ──owns──► its read buffer, its slot FIFO, its output queue of responses
 *   slot ──holds──► a reference on its conn (conn->refs), so a closed conn lives
 *                   until the last slot is answered
 *
 * A conn is freed only at the end of a loop iteration (from loop->dead), never
 * while a callback or an epoll event of the current batch may still point at it.
 */
#ifndef RB_NET_PRIVATE_H
#define RB_NET_PRIVATE_H

#include <glib.h>
#include <stdatomic.h>

#include "broker/net/net.h"

/* What an epoll event's data.ptr points at: the first member of each kind. */
typedef enum rb__handle_kind {
    RB__H_WAKE,
    RB__H_LISTENER,
    RB__H_CONN,
} rb__handle_kind_t;

typedef struct rb__handle {
    rb__handle_kind_t kind;
} rb__handle_t;

/* ---- responses ----------------------------------------------------------- */

typedef enum rb__piece_kind {
    RB__P_HDR,  /* the 4-byte size prefix, in resp->hdr */
    RB__P_MEM,  /* caller's memory, freed with free_fn */
    RB__P_COPY, /* a range of resp->copy (an offset: copy may be realloc'd) */
    RB__P_FILE, /* a range of a dup'd file descriptor */
} rb__piece_kind_t;

typedef struct rb__piece {
    rb__piece_kind_t kind;
    size_t len;
    union {
        struct {
            void *data;
            void (*free_fn)(void *);
        } mem;
        size_t copy_off;
        struct {
            int fd;
            off_t off;
        } file;
    } u;
} rb__piece_t;

#define RB__RESP_INLINE_PIECES 6

struct rb_resp {
    rb_resp_t *next; /* in a conn's output queue */
    uint8_t hdr[4];
    rb__piece_t *pieces; /* pieces[0] is always the RB__P_HDR piece */
    size_t npieces;
    size_t cap;
    rb__piece_t inline_pieces[RB__RESP_INLINE_PIECES];
    uint8_t *copy; /* the bytes of RB__P_COPY pieces */
    size_t copy_len;
    size_t copy_cap;
    size_t total; /* sum of the pieces' lengths, without the header */
    /* send progress: the first unsent byte is pieces[cur] at cur_off */
    size_t cur;
    size_t cur_off;
};

/* Prepares resp for sending: writes the size prefix, resets the progress. */
void rb__resp_seal(rb_resp_t *resp);

/* ---- slots and connections ------------------------------------------------ */

struct rb_slot {
    rb_conn_t *conn;
    rb_slot_t *next; /* FIFO order of the conn's requests */
    rb_resp_t *resp;
    bool answered;
};

typedef struct rb__listener {
    rb__handle_t h;
    rb_loop_t *loop;
    int fd;
    int port;
    bool paused; /* accept paused after EMFILE */
    uint32_t ev_mask;
    rb_net_limits_t limits;
    rb_net_callbacks_t cb;
} rb__listener_t;

struct rb_conn {
    rb__handle_t h;
    rb_loop_t *loop;
    rb__listener_t *listener;
    int fd; /* -1 once closed */
    bool closed;
    bool in_dirty;   /* on loop->dirty: has output to try or input to resume */
    bool out_blocked;/* the last write hit EAGAIN: wait for EPOLLOUT */
    uint32_t ev_mask;/* what epoll currently watches */
    int refs;        /* 1 while open + 1 per slot + temporary holds */
    char peer[64];

    const uint8_t *cur_frame; /* the frame on_request is handling, else NULL */
    uint8_t *rbuf;   /* received bytes: [rstart, rend) not yet dispatched */
    size_t rcap;
    size_t rstart;
    size_t rend;
    int rcvlowat;    /* the socket's SO_RCVLOWAT: 1, or what a large frame still needs */

    rb_slot_t *slot_head; /* oldest unsent request */
    rb_slot_t *slot_tail;
    int nslots;

    rb_resp_t *out_head;  /* answered responses, in order, being written */
    rb_resp_t *out_tail;
    size_t out_bytes;     /* unsent bytes in the output queue */

    void *data;
    void (*data_free)(void *);

    rb_conn_t *prev, *next; /* loop->conns: every conn not yet freed */
    rb_conn_t *dirty_next;
};

/* ---- the loop ------------------------------------------------------------- */

typedef struct rb__timer {
    rb_timer_id_t id;
    int64_t deadline;
    size_t idx; /* position in the heap */
    void (*cb)(void *ud);
    void *ud;
} rb__timer_t;

typedef struct rb__post {
    struct rb__post *next;
    void (*cb)(void *ud);
    void *ud;
} rb__post_t;

struct rb_loop {
    int epfd;
    int wakefd;
    rb__handle_t wake_handle;
    atomic_int stop;
    int64_t now_ms;

    rb__timer_t **heap; /* min-heap on (deadline, id) */
    size_t nheap;
    size_t capheap;
    GHashTable *timers; /* id -> rb__timer_t* */
    rb_timer_id_t next_timer_id;

    GMutex post_lock;
    rb__post_t *post_head;
    rb__post_t *post_tail;

    GPtrArray *listeners;
    rb_conn_t *conns;  /* every conn not yet freed */
    rb_conn_t *dirty;  /* conns to flush at the end of this iteration */
    GPtrArray *dead;   /* closed conns with no references: freed at the end */
    rb_slot_t *free_slots; /* a small free list */
    int nfree_slots;

    /* rb_loop_stats: written on the loop thread, read from any */
    atomic_uint_fast64_t stat_bytes_in;
    atomic_uint_fast64_t stat_bytes_out;
    atomic_uint_fast64_t stat_accepted;
    atomic_uint_fast64_t stat_closed;
};

/* conn.c */
void rb__conn_accept(rb__listener_t *listener, int fd);
void rb__conn_on_event(rb_conn_t *conn, uint32_t events);
void rb__conn_flush(rb_conn_t *conn);
void rb__conn_free(rb_conn_t *conn);
void rb__conn_mark_dirty(rb_conn_t *conn);

#endif /* RB_NET_PRIVATE_H */
