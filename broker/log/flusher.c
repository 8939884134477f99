/* flusher.c: the background fsync thread shared by every log (see flusher.h). */
#include "config.h"

#include <errno.h>
#include <unistd.h>

#include <glib.h>

#include "common/log.h"

#include "broker/log/flusher.h"

struct rb_flush_state {
    GMutex mu;
    GCond cond;
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
    g_mutex_init(&state->mu);
    g_cond_init(&state->cond);
    state->refs = 1;
    state->done_upto = -1;
    return state;
}

void rb__flush_state_unref(rb_flush_state_t *state)
{
    if (state == NULL)
        return;
    g_mutex_lock(&state->mu);
    bool last = --state->refs == 0;
    g_mutex_unlock(&state->mu);
    if (last) {
        g_mutex_clear(&state->mu);
        g_cond_clear(&state->cond);
        g_free(state);
    }
}

static void run_job(gpointer data, gpointer user_data)
{
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
    g_mutex_lock(&state->mu);
    /* after a failure, nothing counts until the log has seen it and marked
     * everything for flushing again (a later job does not cover what failed) */
    if (ok && !state->failed && job->gen == state->gen && job->upto > state->done_upto)
        state->done_upto = job->upto;
    if (!ok)
        state->failed = true;
    state->pending--;
    g_cond_broadcast(&state->cond);
    g_mutex_unlock(&state->mu);
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
    g_mutex_lock(&state->mu);
    job->gen = state->gen;
    state->refs++;
    state->pending++;
    g_mutex_unlock(&state->mu);
    g_thread_pool_push(pool(), job, NULL);
}

int64_t rb__flush_state_poll(rb_flush_state_t *state, bool *failed)
{
    g_mutex_lock(&state->mu);
    int64_t upto = state->done_upto;
    *failed = state->failed;
    if (state->failed)
        state->gen++;
    state->failed = false;
    g_mutex_unlock(&state->mu);
    return upto;
}

bool rb__flush_state_wait(rb_flush_state_t *state, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&state->mu);
    while (state->pending > 0)
        if (!g_cond_wait_until(&state->cond, &state->mu, deadline))
            break;
    bool idle = state->pending == 0;
    g_mutex_unlock(&state->mu);
    return idle;
}
