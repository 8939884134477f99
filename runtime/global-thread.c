/* global-thread.c: the app's global thread (Kafka Streams' GlobalStreamThread):
 * bootstraps the global stores, then keeps them up to date.
 *
 *     rill__global_thread_start ──► BOOTSTRAPPING (on the caller's thread:
 *        │                           poll until every partition reached the
 *        │                           end it had at the start; checkpoint)
 *        ▼
 *     RUNNING (its own thread: poll ─► apply ─► every commit.interval.ms
 *        │     checkpoint)
 *        │  app->stop (close, or a stream thread failed)
 *        ▼
 *     DEAD (checkpointed; rill__global_thread_join frees it)
 *
 * rill_app_start calls start before it starts the stream threads, so that
 * no task processes a record before the global tables hold everything
 * their topics held when the app started. A failure while RUNNING fails
 * the app (rill__app_thread_failed), as a stream thread's would. Every wait
 * is bounded: the bootstrap fails after BOOTSTRAP_STALL_MS without a
 * record or end-of-partition. */
#include "config.h"

#include <inttypes.h>

#include <glib.h>

#include "common/clock.h"
#include "common/log.h"
#include "runtime/app-private.h"
#include "runtime/config-private.h"
#include "runtime/global.h"
#include "runtime/kafka/global.h"

#define BOOTSTRAP_STALL_MS 60000
#define POLL_MS 100

struct rill__global_thread {
    rill_app_t *app;
    rill__globals_t *globals; /* borrowed from the app */
    rill__kglobal_t *consumer;
    GThread *gthread;
};

static int64_t offset_of(void *ud, const char *topic, int32_t partition)
{
    return rill__globals_next_offset(ud, topic, partition);
}

static rill_err_t apply(void *ud, const rill__raw_record_t *record, rill_error_t **error)
{
    return rill__globals_apply(ud, record, error);
}

static gpointer global_main(gpointer p)
{
    rill__global_thread_t *gt = p;
    rill_app_t *app = gt->app;
    int64_t interval = app->commit_interval_ms;
    int64_t next_checkpoint = rill__clock_mono_ms() + interval;
    uint64_t checkpointed = rill__globals_applied(gt->globals);
    rill_error_t *error = NULL;
    while (!app->stop && error == NULL) {
        if (rill__kglobal_poll(gt->consumer, POLL_MS, apply, gt->globals, &error) < 0)
            break;
        if (rill__clock_mono_ms() >= next_checkpoint) {
            /* only when something was applied: a flush makes a file per store */
            uint64_t applied = rill__globals_applied(gt->globals);
            if (applied != checkpointed && rill__globals_checkpoint(gt->globals, &error) != RILL_OK)
                break;
            checkpointed = applied;
            next_checkpoint = rill__clock_mono_ms() + interval;
        }
    }
    if (error == NULL)
        rill__globals_checkpoint(gt->globals, &error);
    if (error != NULL) {
        rill_error_prefix(&error, "%s-GlobalStreamThread: ", app->application_id);
        RILL_LOG_ERROR("runtime.global", "%s", rill_error_message(error));
        rill__app_thread_failed(app, error);
    }
    RILL_LOG_INFO("runtime.global", "%s-GlobalStreamThread stopped", app->application_id);
    return NULL;
}

rill__global_thread_t *rill__global_thread_start(rill_app_t *app, rill__globals_t *globals,
                                                 rill_error_t **error)
{
    rill__global_thread_t *gt = g_new0(rill__global_thread_t, 1);
    gt->app = app;
    gt->globals = globals;
    gt->consumer =
        rill__kglobal_new(app->config, rill__globals_topics(globals), offset_of, globals, error);
    if (gt->consumer == NULL) {
        g_free(gt);
        return NULL;
    }
    /* bootstrap, on the caller's thread */
    int64_t start_ms = rill__clock_mono_ms();
    int64_t last_progress = start_ms;
    uint64_t applied_before = rill__globals_applied(globals);
    RILL_LOG_INFO("runtime.global",
                  "%s: bootstrapping the global tables (%" PRId64 " records to read)",
                  app->application_id, rill__kglobal_remaining(gt->consumer));
    rill_err_t err = RILL_OK;
    while (!rill__kglobal_caught_up(gt->consumer)) {
        if (app->stop) {
            err = rill_error_set(error, RILL_ERR_INVALID_STATE,
                                 "the app was closed while bootstrapping its global tables");
            break;
        }
        int n = rill__kglobal_poll(gt->consumer, POLL_MS, apply, globals, error);
        if (n < 0) {
            err = RILL_ERR_KAFKA;
            break;
        }
        int64_t now = rill__clock_mono_ms();
        if (n > 0 || rill__kglobal_caught_up(gt->consumer))
            last_progress = now;
        else if (now - last_progress > BOOTSTRAP_STALL_MS) {
            err = rill_error_set(error, RILL_ERR_TIMEOUT,
                                 "global tables: no progress for %d ms with %" PRId64
                                 " records left to bootstrap",
                                 BOOTSTRAP_STALL_MS, rill__kglobal_remaining(gt->consumer));
            break;
        }
    }
    if (err == RILL_OK)
        err = rill__globals_checkpoint(globals, error);
    if (err != RILL_OK) {
        rill_error_prefix(error, "bootstrapping the global tables: ");
        rill__kglobal_destroy(gt->consumer);
        g_free(gt);
        return NULL;
    }
    RILL_LOG_INFO("runtime.global",
                  "%s: global tables bootstrapped: %" PRIu64 " records in %" PRId64 " ms",
                  app->application_id, rill__globals_applied(globals) - applied_before,
                  rill__clock_mono_ms() - start_ms);
    g_autofree char *name = g_strdup_printf("%s-GlobalStreamThread", app->application_id);
    gt->gthread = g_thread_new(name, global_main, gt);
    return gt;
}

void rill__global_thread_join(rill__global_thread_t *gt)
{
    if (gt == NULL)
        return;
    g_thread_join(gt->gthread);
    rill__kglobal_destroy(gt->consumer);
    g_free(gt);
}
