/* loop.c: rill-broker's event loop: epoll, timers, cross-thread posts, listeners.
 *
 * Design: one thread, level-triggered epoll. An iteration is
 *
 *     epoll_wait(timeout = next timer, or 0 if work is left over)
 *       -> now_ms = monotonic clock (read once)
 *       -> each event: wake-up eventfd | listener (accept) | connection (read/write)
 *       -> posted callbacks (in posting order)
 *       -> due timers (in deadline order; timers added meanwhile wait for the next turn)
 *       -> flush every connection with new output (one writev batch per conn)
 *       -> free connections that closed and hold no more slots
 *
 * Flushing at the end of the iteration instead of inside rb_conn_respond()
 * batches the answers to all the requests read in one go into one writev.
 *
 * Timers live in a binary min-heap ordered by (deadline, id) with each timer's
 * heap index stored in it, plus a hash from id to timer, so cancel is
 * O(log n) and cancelling a fired timer is a lookup miss.
 *
 * rb_loop_stop() only stores a flag and writes the eventfd, which makes it
 * async-signal-safe (main.c calls it from SIGTERM/SIGINT handlers).
 */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/net/net-private.h"
#include "common/clock.h"
#include "common/log.h"

#define MAX_EVENTS 256
#define ACCEPT_BURST 64
#define EMFILE_BACKOFF_MS 100

/* ---- loop ------------------------------------------------------------------ */

rb_loop_t *rb_loop_new(void)
{
    /* sendfile(2) has no MSG_NOSIGNAL: a peer that hangs up must give EPIPE,
     * not kill the process. */
    signal(SIGPIPE, SIG_IGN);
    rb_loop_t *loop = g_new0(rb_loop_t, 1);
    loop->epfd = epoll_create1(EPOLL_CLOEXEC);
    loop->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (loop->epfd < 0 || loop->wakefd < 0) {
        RILL_LOG_ERROR("broker.net", "cannot create the event loop: %s", g_strerror(errno));
        if (loop->epfd >= 0)
            close(loop->epfd);
        if (loop->wakefd >= 0)
            close(loop->wakefd);
        g_free(loop);
        return NULL;
    }
    loop->wake_handle.kind = RB__H_WAKE;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &loop->wake_handle};
    epoll_ctl(loop->epfd, EPOLL_CTL_ADD, loop->wakefd, &ev);
    loop->timers = g_hash_table_new(g_int64_hash, g_int64_equal);
    g_mutex_init(&loop->post_lock);
    loop->listeners = g_ptr_array_new();
    loop->dead = g_ptr_array_new();
    loop->next_timer_id = 1;
    loop->now_ms = rill__clock_mono_ms();
    return loop;
}

static void free_dead(rb_loop_t *loop)
{
    for (guint i = 0; i < loop->dead->len; i++)
        rb__conn_free(g_ptr_array_index(loop->dead, i));
    g_ptr_array_set_size(loop->dead, 0);
}

void rb_loop_destroy(rb_loop_t *loop)
{
    if (loop == NULL)
        return;
    /* Connections: closed without callbacks (their owner is gone by now),
     * with any unanswered slots. */
    free_dead(loop);
    while (loop->conns != NULL)
        rb__conn_free(loop->conns);
    for (guint i = 0; i < loop->listeners->len; i++) {
        rb__listener_t *listener = g_ptr_array_index(loop->listeners, i);
        close(listener->fd);
        g_free(listener);
    }
    g_ptr_array_free(loop->listeners, TRUE);
    g_ptr_array_free(loop->dead, TRUE);
    for (size_t i = 0; i < loop->nheap; i++)
        g_free(loop->heap[i]);
    g_free(loop->heap);
    g_hash_table_destroy(loop->timers);
    for (rb__post_t *post = loop->post_head, *next; post != NULL; post = next) {
        next = post->next;
        g_free(post);
    }
    g_mutex_clear(&loop->post_lock);
    while (loop->free_slots != NULL) {
        rb_slot_t *slot = loop->free_slots;
        loop->free_slots = slot->next;
        g_free(slot);
    }
    close(loop->wakefd);
    close(loop->epfd);
    g_free(loop);
}

static void wake(rb_loop_t *loop)
{
    uint64_t one = 1;
    ssize_t n = write(loop->wakefd, &one, sizeof(one));
    (void)n; /* EAGAIN: the counter is already non-zero, the loop will wake */
}

void rb_loop_stop(rb_loop_t *loop)
{
    atomic_store(&loop->stop, 1);
    wake(loop);
}

int64_t rb_loop_now_ms(rb_loop_t *loop)
{
    return loop->now_ms;
}

/* ---- posts ------------------------------------------------------------------ */

void rb_loop_post(rb_loop_t *loop, void (*cb)(void *ud), void *ud)
{
    rb__post_t *post = g_new(rb__post_t, 1);
    post->next = NULL;
    post->cb = cb;
    post->ud = ud;
    g_mutex_lock(&loop->post_lock);
    bool was_empty = loop->post_head == NULL;
    if (loop->post_tail != NULL)
        loop->post_tail->next = post;
    else
        loop->post_head = post;
    loop->post_tail = post;
    g_mutex_unlock(&loop->post_lock);
    if (was_empty)
        wake(loop);
}

static void run_posts(rb_loop_t *loop)
{
    g_mutex_lock(&loop->post_lock);
    rb__post_t *post = loop->post_head;
    loop->post_head = loop->post_tail = NULL;
    g_mutex_unlock(&loop->post_lock);
    while (post != NULL) {
        rb__post_t *next = post->next;
        post->cb(post->ud);
        g_free(post);
        post = next;
    }
}

/* ---- timers ----------------------------------------------------------------- */

static bool timer_less(const rb__timer_t *a, const rb__timer_t *b)
{
    return a->deadline < b->deadline || (a->deadline == b->deadline && a->id < b->id);
}

static void heap_set(rb_loop_t *loop, size_t i, rb__timer_t *timer)
{
    loop->heap[i] = timer;
    timer->idx = i;
}

static void heap_up(rb_loop_t *loop, size_t i)
{
    rb__timer_t *timer = loop->heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_less(timer, loop->heap[parent]))
            break;
        heap_set(loop, i, loop->heap[parent]);
        i = parent;
    }
    heap_set(loop, i, timer);
}

static void heap_down(rb_loop_t *loop, size_t i)
{
    rb__timer_t *timer = loop->heap[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= loop->nheap)
            break;
        if (child + 1 < loop->nheap && timer_less(loop->heap[child + 1], loop->heap[child]))
            child++;
        if (!timer_less(loop->heap[child], timer))
            break;
        heap_set(loop, i, loop->heap[child]);
        i = child;
    }
    heap_set(loop, i, timer);
}

static void heap_remove(rb_loop_t *loop, rb__timer_t *timer)
{
    size_t i = timer->idx;
    rb__timer_t *last = loop->heap[--loop->nheap];
    if (i == loop->nheap)
        return;
    heap_set(loop, i, last);
    heap_down(loop, i);
    heap_up(loop, last->idx);
}

rb_timer_id_t rb_loop_add_timer(rb_loop_t *loop, int64_t delay_ms, void (*cb)(void *ud), void *ud)
{
    rb__timer_t *timer = g_new(rb__timer_t, 1);
    timer->id = loop->next_timer_id++;
    timer->deadline = loop->now_ms + (delay_ms > 0 ? delay_ms : 0);
    timer->cb = cb;
    timer->ud = ud;
    if (loop->nheap == loop->capheap) {
        loop->capheap = loop->capheap ? loop->capheap * 2 : 64;
        loop->heap = g_renew(rb__timer_t *, loop->heap, loop->capheap);
    }
    loop->heap[loop->nheap] = timer;
    timer->idx = loop->nheap++;
    heap_up(loop, timer->idx);
    g_hash_table_insert(loop->timers, &timer->id, timer);
    return timer->id;
}

void rb_loop_cancel_timer(rb_loop_t *loop, rb_timer_id_t id)
{
    rb__timer_t *timer = g_hash_table_lookup(loop->timers, &id);
    if (timer == NULL)
        return;
    g_hash_table_remove(loop->timers, &id);
    heap_remove(loop, timer);
    g_free(timer);
}

/* Runs the timers due now, but not those added by the callbacks themselves
 * (a timer re-arming itself with delay 0 must not spin this loop forever). */
static void run_timers(rb_loop_t *loop)
{
    rb_timer_id_t limit = loop->next_timer_id;
    while (loop->nheap > 0) {
        rb__timer_t *timer = loop->heap[0];
        if (timer->deadline > loop->now_ms || timer->id >= limit)
            break;
        g_hash_table_remove(loop->timers, &timer->id);
        heap_remove(loop, timer);
        void (*cb)(void *) = timer->cb;
        void *ud = timer->ud;
        g_free(timer);
        cb(ud);
    }
}

/* ---- listeners ---------------------------------------------------------------- */

static void listener_set_events(rb__listener_t *listener, uint32_t events)
{
    if (listener->ev_mask == events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = &listener->h};
    epoll_ctl(listener->loop->epfd, EPOLL_CTL_MOD, listener->fd, &ev);
    listener->ev_mask = events;
}

static void listener_resume(void *ud)
{
    rb__listener_t *listener = ud;
    listener->paused = false;
    listener_set_events(listener, EPOLLIN);
}

static void listener_accept(rb__listener_t *listener)
{
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(listener->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            rb__conn_accept(listener, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
            /* Level-triggered epoll would report the pending connection again at
             * once: stop watching the listener for a moment instead of spinning. */
            RILL_LOG_WARN("broker.net", "cannot accept a connection, pausing accepts for %d ms: %s",
                          EMFILE_BACKOFF_MS, g_strerror(errno));
            listener->paused = true;
            listener_set_events(listener, 0);
            rb_loop_add_timer(listener->loop, EMFILE_BACKOFF_MS, listener_resume, listener);
            return;
        }
        RILL_LOG_WARN("broker.net", "accept failed: %s", g_strerror(errno));
        return;
    }
}

int rb_loop_listen(rb_loop_t *loop, const char *host, int port, const rb_net_limits_t *limits,
                   const rb_net_callbacks_t *cb)
{
    if (port < 0 || port > 65535 || cb == NULL || cb->on_request == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (host == NULL || host[0] == '\0')
        host = "0.0.0.0";
    char service[16];
    g_snprintf(service, sizeof(service), "%d", port);
    struct addrinfo hints = {
        .ai_family = AF_UNSPEC,
        .ai_socktype = SOCK_STREAM,
        .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
    };
    struct addrinfo *res = NULL;
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        RILL_LOG_ERROR("broker.net", "cannot resolve listener host %s: %s", host,
                       gai_strerror(rc));
        errno = EADDRNOTAVAIL;
        return -1;
    }
    int fd = -1;
    int saved = 0;
    for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = saved;
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sslen);
    int bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                         : ntohs(((struct sockaddr_in *)&ss)->sin_port);

    rb__listener_t *listener = g_new0(rb__listener_t, 1);
    listener->h.kind = RB__H_LISTENER;
    listener->loop = loop;
    listener->fd = fd;
    listener->port = bound;
    listener->cb = *cb;
    rb_net_limits_t defaults = {
        .max_request_bytes = 104857600,
        .max_pending_output = 8u << 20,
        .max_inflight_requests = 256,
    };
    listener->limits = defaults;
    if (limits != NULL) {
        if (limits->max_request_bytes > 0)
            listener->limits.max_request_bytes = limits->max_request_bytes;
        if (limits->max_pending_output > 0)
            listener->limits.max_pending_output = limits->max_pending_output;
        if (limits->max_inflight_requests > 0)
            listener->limits.max_inflight_requests = limits->max_inflight_requests;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener->h};
    if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        saved = errno;
        close(fd);
        g_free(listener);
        errno = saved;
        return -1;
    }
    listener->ev_mask = EPOLLIN;
    g_ptr_array_add(loop->listeners, listener);
    return bound;
}

/* ---- the loop proper ----------------------------------------------------------- */

static int next_timeout(rb_loop_t *loop)
{
    if (loop->dirty != NULL || atomic_load(&loop->stop))
        return 0;
    if (loop->nheap == 0)
        return -1;
    int64_t delta = loop->heap[0]->deadline - rill__clock_mono_ms();
    if (delta <= 0)
        return 0;
    return delta > 60000 ? 60000 : (int)delta;
}

static void flush_dirty(rb_loop_t *loop)
{
    rb_conn_t *conn = loop->dirty;
    loop->dirty = NULL;
    while (conn != NULL) {
        rb_conn_t *next = conn->dirty_next;
        conn->dirty_next = NULL;
        conn->in_dirty = false;
        rb__conn_flush(conn);
        conn = next;
    }
}

int rb_loop_run(rb_loop_t *loop)
{
    struct epoll_event events[MAX_EVENTS];
    int rc = 0;
    loop->now_ms = rill__clock_mono_ms();
    while (!atomic_load(&loop->stop)) {
        int n = epoll_wait(loop->epfd, events, MAX_EVENTS, next_timeout(loop));
        loop->now_ms = rill__clock_mono_ms();
        if (n < 0) {
            if (errno == EINTR)
                continue;
            RILL_LOG_ERROR("broker.net", "epoll_wait failed: %s", g_strerror(errno));
            rc = -1;
            break;
        }
        for (int i = 0; i < n; i++) {
            rb__handle_t *h = events[i].data.ptr;
            switch (h->kind) {
            case RB__H_WAKE: {
                uint64_t count;
                ssize_t r = read(loop->wakefd, &count, sizeof(count));
                (void)r;
                break;
            }
            case RB__H_LISTENER:
                listener_accept((rb__listener_t *)h);
                break;
            case RB__H_CONN:
                rb__conn_on_event((rb_conn_t *)h, events[i].events);
                break;
            }
        }
        run_posts(loop);
        run_timers(loop);
        flush_dirty(loop);
        free_dead(loop);
    }
    atomic_store(&loop->stop, 0);
    return rc;
}

void rb_loop_stats(const rb_loop_t *loop, rb_net_stats_t *out)
{
    rb_loop_t *l = (rb_loop_t *)loop; /* atomic loads take non-const pointers */
    out->bytes_in = atomic_load_explicit(&l->stat_bytes_in, memory_order_relaxed);
    out->bytes_out = atomic_load_explicit(&l->stat_bytes_out, memory_order_relaxed);
    out->connections_accepted = atomic_load_explicit(&l->stat_accepted, memory_order_relaxed);
    out->connections_closed = atomic_load_explicit(&l->stat_closed, memory_order_relaxed);
}
