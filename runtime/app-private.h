/* app-private.h: what the app (app.c) and its stream threads (thread.c)
 * share. The app owns the threads; a thread reports to the app through the
 * rill__app_thread_* functions, which take the app's lock. */
#ifndef RILL_RUNTIME_APP_PRIVATE_H
#define RILL_RUNTIME_APP_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <rill/app.h>

#include "common/metrics.h"
#include "runtime/task.h"

typedef struct rill__thread rill__thread_t;

/* How a record with an invalid (negative) timestamp is handled. */
typedef enum rill__ts_policy {
    RILL__TS_FAIL,           /* FailOnInvalidTimestamp: the task decides (it fails) */
    RILL__TS_SKIP,           /* LogAndSkipOnInvalidTimestamp */
    RILL__TS_PARTITION_TIME, /* UsePartitionTimeOnInvalidTimestamp */
    RILL__TS_WALL_CLOCK,     /* WallclockTimestampExtractor: always the wall clock */
} rill__ts_policy_t;

/* The app's Prometheus families (metrics.listener); the threads look their
 * children up once (per thread, per task) and update them atomically.
 * NULL families (metrics off) mean: no metrics. */
typedef struct rill__app_metrics {
    rill_metrics_t *registry;                /* NULL: metrics off */
    rill_metric_family_t *consumed;          /* counter {application_id, thread, task} */
    rill_metric_family_t *produced;          /* counter {application_id, thread} */
    rill_metric_family_t *sent;              /* counter {application_id, thread, task} */
    rill_metric_family_t *process_latency;   /* histogram {application_id, thread} */
    rill_metric_family_t *commit_latency;    /* histogram {application_id, thread} */
    rill_metric_family_t *commits;           /* counter {application_id, thread} */
    rill_metric_family_t *lag;               /* gauge {application_id, thread, topic, partition} */
    rill_metric_family_t *errors;            /* counter {application_id, thread, task, kind} */
    rill_metric_family_t *state;             /* gauge {application_id, state} */
    rill_metric_family_t *restored;          /* counter {application_id, thread, changelog} */
    rill_metric_family_t *dropped; /* counter {application_id, thread, task, reason} */
    rill_metric_family_t *restore_planned;   /* counter {application_id, thread, changelog} */
    rill_metric_family_t *restore_remaining; /* gauge {application_id, thread, changelog} */
    rill_metric_family_t *store_keys;  /* gauge {application_id, thread, task, store} */
    rill_metric_family_t *store_bytes; /* gauge {application_id, thread, task, store} */
    int port;                                /* bound port, -1: none */
} rill__app_metrics_t;

struct rill_app {
    rill_topology_t *topology; /* borrowed */
    rill_config_t *config;     /* owned copy */
    char *application_id;
    char *state_dir;

    /* parsed config */
    int num_threads;
    int64_t commit_interval_ms;
    int poll_ms;
    rill__ts_policy_t ts_policy;
    bool production_fail;
    rill_error_handlers_t handlers; /* the dead-letter topic is borrowed from config */
    const rill_serde_t *default_key_serde; /* static serdes */
    const rill_serde_t *default_value_serde;

    /* source topics of all sub-topologies (NULL-terminated, owned) */
    GPtrArray *source_topics;

    GMutex lock; /* guards everything below */
    GCond cond;  /* signalled when state or threads_alive change */
    rill_app_state_t state;
    rill_app_state_listener_t listener;
    void *listener_ud;
    rill_error_t *error; /* why the app failed, first wins */
    rill__thread_t **threads;
    int threads_alive;
    int threads_committed; /* threads that made their final commit (shutdown barrier) */
    bool closing;

    volatile int stop; /* set once: threads leave their loop */
    /* global tables (runtime/global.h; NULL: none), set by rill_app_start
     * before the stream threads start, freed by rill_app_destroy after them */
    struct rill__globals *globals;
    struct rill__global_thread *global_thread;
    /* queryable state (runtime/query.c): the stores the tasks have open */
    struct rill__query_registry *queryable;
    rill__app_metrics_t metrics; /* set up by rill_app_start, before the threads */
    struct state_probe *state_probes; /* one per state, for the rill_app_state gauge */
};

/* ---- thread.c ---- */

/* Creates a stream thread's clients (consumer, producer) and starts it. */
rill__thread_t *rill__thread_start(rill_app_t *app, int index, rill_error_t **error);
/* Waits for the thread to end and frees it. */
void rill__thread_join(rill__thread_t *thread);
/* Whether the thread is between a revoke and the next assignment (or has
 * not had its first assignment yet). Call under app->lock. */
bool rill__thread_rebalancing(const rill__thread_t *thread);
void rill__thread_stats(rill__thread_t *thread, rill_app_stats_t *stats);

/* ---- global-thread.c ---- */

typedef struct rill__global_thread rill__global_thread_t;
/* Bootstraps globals (on the caller's thread), then starts the global
 * thread that keeps them up to date until app->stop. */
rill__global_thread_t *rill__global_thread_start(rill_app_t *app, struct rill__globals *globals,
                                                 rill_error_t **error);
/* Waits for the global thread (after app->stop) and frees it; NULL: no-op. */
void rill__global_thread_join(rill__global_thread_t *thread);

/* ---- query.c ---- */

typedef struct rill__query_registry rill__query_registry_t;
rill__query_registry_t *rill__query_registry_new(void);
void rill__query_registry_free(rill__query_registry_t *registry);
/* The rill__task_env_t hooks (store_ud: the registry). */
void rill__query_store_opened(void *registry, rill_task_t *task, int subtopology,
                              int32_t partition, const char *name, struct rill__kv_store *store);
void rill__query_task_closing(void *registry, rill_task_t *task);
/* Whether application.server is "host:port" (port 0-65535). */
bool rill__query_server_valid(const char *server);

/* ---- app.c, called by the threads ---- */

/* A thread's rebalancing flag changed: recompute REBALANCING / RUNNING. */
void rill__app_thread_rebalance_changed(rill_app_t *app);
/* A thread failed (error: transfer full): the app stops every thread and,
 * once they are done, goes to ERROR. */
void rill__app_thread_failed(rill_app_t *app, rill_error_t *error);
/* A stopping thread made its final commit: waits (at most timeout_ms) until
 * every live thread has, so that no thread leaves the group (which starts a
 * rebalance) while another still has offsets to commit. */
void rill__app_thread_final_commit_done(rill_app_t *app, int timeout_ms);
/* A thread left its loop and released everything. */
void rill__app_thread_exited(rill_app_t *app);

#endif /* RILL_RUNTIME_APP_PRIVATE_H */
