/* rill/app.h: a running stream-processing application (Kafka Streams'
 * KafkaStreams object).
 *
 * An app runs one topology with one config: num.stream.threads stream
 * threads, each a consumer in the group application.id, share the
 * partitions of the source topics with every other instance of the same
 * application.id; each (sub-topology, partition) is a task. Records are
 * processed at least once: offsets are committed every commit.interval.ms
 * and on close, only after everything the tasks produced was acknowledged.
 *
 *     rill_app_t *app = rill_app_new(topology, config, &error);
 *     rill_app_start(app, &error);
 *     while (!stop) rill_app_wait(app, 200);     // returns early on ERROR
 *     rill_app_close(app, 30000);
 *     rill_app_destroy(app);
 *
 * States (Kafka Streams' names), and who moves between them:
 *
 *     CREATED ──start──► REBALANCING ◄──────► RUNNING
 *        │                  │    │  (group rebalances)  │    │
 *        │                  │    └──── a thread fails ──┼────┴──► ERROR
 *        └──────close───────┴─────────────close─────────┘
 *                           ▼
 *                    PENDING_SHUTDOWN ──threads done──► NOT_RUNNING
 *
 * ERROR is final: the app stopped its threads and rill_app_error() says why;
 * rill_app_close() then only releases what is left. */
#ifndef RILL_APP_H
#define RILL_APP_H

#include <stdbool.h>
#include <stdint.h>

#include <rill/config.h>
#include <rill/error.h>
#include <rill/export.h>

RILL_BEGIN_DECLS

typedef struct rill_app rill_app_t;
typedef struct rill_topology rill_topology_t;

typedef enum rill_app_state {
    RILL_APP_CREATED = 0,
    RILL_APP_REBALANCING,
    RILL_APP_RUNNING,
    RILL_APP_PENDING_SHUTDOWN,
    RILL_APP_NOT_RUNNING,
    RILL_APP_ERROR,
} rill_app_state_t;

/* "CREATED", "REBALANCING", ... (transfer none, static) */
RILL_EXPORT const char *rill_app_state_name(rill_app_state_t state);

/* Called on every state change, from whichever thread made it (a stream
 * thread or the caller of start/close): keep it short, do not call
 * rill_app_close() from it. */
typedef void (*rill_app_state_listener_t)(rill_app_state_t old_state, rill_app_state_t new_state,
                                          void *user_data);

/* A new app in state CREATED. topology: (transfer none) must outlive the app
 * and not change after this call. config: (transfer none) copied; it must
 * pass rill_config_validate().
 *
 * Describe mode (what `rill describe -- ./my-app ARGS` uses): when the
 * environment has RILL_DESCRIBE=text or RILL_DESCRIBE=dot, rill_app_new
 * writes rill_topology_describe() of topology in that format (internal
 * topics named with config's application.id) to the file named by
 * RILL_DESCRIBE_OUTPUT (default: stdout) and exits the process with status
 * 0, before it validates config or connects to anything. Any other value of
 * RILL_DESCRIBE, or an output it cannot write, exits with status 2 and a
 * message on stderr. */
RILL_EXPORT rill_app_t *rill_app_new(rill_topology_t *topology, const rill_config_t *config,
                                     rill_error_t **error);

/* Sets the state listener (before rill_app_start). */
RILL_EXPORT rill_err_t rill_app_set_state_listener(rill_app_t *app,
                                                   rill_app_state_listener_t listener,
                                                   void *user_data, rill_error_t **error);

/* Checks the source topics (they must exist; those of one sub-topology must
 * have the same partition count), creates the internal topics, bootstraps
 * the global tables (rill/global.h: reads their topics to the end, while
 * the state is REBALANCING) and starts the stream threads. Returns once the threads run; their group membership
 * and tasks follow (state REBALANCING, then RUNNING). On failure the app
 * goes to ERROR and the error says why. Only from CREATED. */
RILL_EXPORT rill_err_t rill_app_start(rill_app_t *app, rill_error_t **error);

/* Blocks until the app is NOT_RUNNING or ERROR, or timeout_ms passed
 * (-1: no limit). Returns the state then. */
RILL_EXPORT rill_app_state_t rill_app_wait(rill_app_t *app, int timeout_ms);

/* Stops the app: each thread flushes its tasks and producer, commits its
 * offsets, closes its tasks and leaves the group. Waits at most timeout_ms
 * (-1: no limit); returns RILL_ERR_TIMEOUT if the threads were not done by
 * then (they go on stopping; rill_app_destroy() waits for them), else RILL_OK
 * (also when the app had already failed: the failure is rill_app_error()). */
RILL_EXPORT rill_err_t rill_app_close(rill_app_t *app, int timeout_ms);

/* Closes (without limit) if needed and frees app; NULL is a no-op. */
RILL_EXPORT void rill_app_destroy(rill_app_t *app);

RILL_EXPORT rill_app_state_t rill_app_state(const rill_app_t *app);

/* The error that put the app in ERROR, or NULL.
 * (transfer none: valid until rill_app_destroy) */
RILL_EXPORT const rill_error_t *rill_app_error(const rill_app_t *app);

/* Counters, for tests, benchmarks and monitoring (read without locks; exact
 * once the app stopped). */
typedef struct rill_app_stats {
    uint64_t records_processed; /* records handed to tasks */
    uint64_t records_produced;  /* records acknowledged by the brokers */
    uint64_t records_skipped;   /* dropped by a handler or the timestamp extractor */
    uint64_t commits;           /* successful offset commits */
    uint64_t rebalances;        /* partition assignments received */
} rill_app_stats_t;

RILL_EXPORT void rill_app_stats(const rill_app_t *app, rill_app_stats_t *stats);

/* The TCP port of the Prometheus endpoint (metrics.listener), bound by
 * rill_app_start() and served from a thread of its own until
 * rill_app_destroy(); -1 if metrics.listener is unset or the app has not
 * started. Any thread may call it. */
RILL_EXPORT int rill_app_metrics_port(const rill_app_t *app);

RILL_END_DECLS

#endif /* RILL_APP_H */
