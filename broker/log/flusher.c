/* flusher.c: the background fsync thread shared by every log (see flusher.h). */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "common/log.h"

#include "broker/log/flusher.h"

/* pthread primitives rather than GMutex: ThreadSanitizer understands them. */
struct rb_flush_state {
    pthread_mutex_t mu;
    pthread_cond_t cond; /* on CLOCK_MONOTONIC */
    int refs;        /* the log's, plus one per pending job */
    int pending;     /* jobs submitted and not finished */
    int64_t done_upto;
    bool failed;
    unsigned gen; /* bumped when the log learns of a failure */
};

typedef struct flush_job {
    rb_flush_state_t *state;
    int *fds;
    bool *is_dir;
    size_t n;
    int64_t upto;
    unsigned gen;
    char *label;
} flush_job_t;

rb_flush_state_t *rb__flush_state_new(void)
{
    rb_flush_state_t *state = g_new0(rb_flush_state_t, 1);
    pthread_mutex_init(&state->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&state->cond, &attr);
    pthread_condattr_destroy(&attr);
    state->refs = 1;
    state->done_upto = -1;
    return state;
}

void rb__flush_state_unref(rb_flush_state_t *state)
{
    if (state == NULL)
        return;
    pthread_mutex_lock(&state->mu);
    bool last = --state->refs == 0;
    pthread_mutex_unlock(&state->mu);
    if (last) {
        pthread_mutex_destroy(&state->mu);
        pthread_cond_destroy(&state->cond);
        g_free(state);
    }
}

/* Orders a job's creation before its run for ThreadSanitizer, which cannot
 * see through GLib's queue (its own futex-based locks). */
static pthread_mutex_t handoff = PTHREAD_MUTEX_INITIALIZER;

static void run_job(gpointer data, gpointer user_data)
{
    pthread_mutex_lock(&handoff);
    pthread_mutex_unlock(&handoff);
    flush_job_t *job = data;
    bool ok = true;
    for (size_t i = 0; i < job->n; i++) {
        int rc;
        do {
            rc = job->is_dir[i] ? fsync(job->fds[i]) : fdatasync(job->fds[i]);
        } while (rc != 0 && errno == EINTR);
        if (rc != 0 && ok) {
            ok = false;
            RILL_LOG_WARN("broker.log", "background fsync failed: %s log=%s", g_strerror(errno),
                          job->label);
        }
        close(job->fds[i]);
    }
    rb_flush_state_t *state = job->state;
    pthread_mutex_lock(&state->mu);
    /* after a failure, nothing counts until the log has seen it and marked
     * everything for flushing again (a later job does not cover what failed) */
    if (ok && !state->failed && job->gen == state->gen && job->upto > state->done_upto)
        state->done_upto = job->upto;
    if (!ok)
        state->failed = true;
    state->pending--;
    pthread_cond_broadcast(&state->cond);
    pthread_mutex_unlock(&state->mu);
    rb__flush_state_unref(state);
    g_free(job->fds);
    g_free(job->is_dir);
    g_free(job->label);
    g_free(job);
}

static GThreadPool *pool(void)
{
    static GThreadPool *the_pool;
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        the_pool = g_thread_pool_new(run_job, NULL, 1, FALSE, NULL);
        g_once_init_leave(&once, 1);
    }
    return the_pool;
}

void rb__flusher_submit(rb_flush_state_t *state, int *fds, const bool *is_dir, size_t n,
                        int64_t upto, const char *label)
{
    flush_job_t *job = g_new0(flush_job_t, 1);
    job->state = state;
    job->fds = g_memdup2(fds, n * sizeof(int));
    job->is_dir = g_memdup2(is_dir, n * sizeof(bool));
    job->n = n;
    job->upto = upto;
    job->label = g_strdup(label);
    pthread_mutex_lock(&state->mu);
    job->gen = state->gen;
    state->refs++;
    state->pending++;
    pthread_mutex_unlock(&state->mu);
    pthread_mutex_lock(&handoff);
    pthread_mutex_unlock(&handoff);
    g_thread_pool_push(pool(), job, NULL);
}

int64_t rb__flush_state_poll(rb_flush_state_t *state, bool *failed)
{
    pthread_mutex_lock(&state->mu);
    int64_t upto = state->done_upto;
    *failed = state->failed;
    if (state->failed)
        state->gen++;
    state->failed = false;
    pthread_mutex_unlock(&state->mu);
    return upto;
}

bool rb__flush_state_wait(rb_flush_state_t *state, int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&state->mu);
    while (state->pending > 0)
        if (pthread_cond_timedwait(&state->cond, &state->mu, &deadline) != 0)
            break;
    bool idle = state->pending == 0;
    pthread_mutex_unlock(&state->mu);
    return idle;
}
