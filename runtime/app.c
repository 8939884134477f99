/* app.c: rill_app_t, the lifecycle of a stream-processing application
 * (Kafka Streams' KafkaStreams): start checks the topics and starts the
 * stream threads; close stops them; the state follows the threads.
 *
 * States and the functions that move between them (see rill/app.h):
 *
 *     CREATED ──rill_app_start──► REBALANCING ◄─rebalance_changed─► RUNNING
 *        │            │ (start fails)   │                             │
 *        │            ▼                 │        thread_failed +       │
 *        │          ERROR ◄─────────────┴──── last thread_exited ─────┤
 *        │            ▲                                               │
 *        └─rill_app_close─► PENDING_SHUTDOWN ◄────rill_app_close──────┘
 *                               │   (a thread failed while closing: ERROR)
 *                               └──last thread_exited──► NOT_RUNNING
 *
 * Invariants: ERROR and NOT_RUNNING are final; app->error is set iff the
 * state is ERROR (or about to be, while threads stop); the listener sees
 * every change, in order (transitions are serialised by listener_lock, and
 * the listener runs outside app->lock so that it may read the app). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <rill/app.h>
#include <rill/topology.h>

#include "common/clock.h"
#include "common/log.h"
#include "runtime/app-private.h"
#include "runtime/config-private.h"
#include "runtime/global.h"
#include "runtime/kafka/kafka.h"

#define START_TIMEOUT_MS 30000

static GMutex listener_lock; /* serialises transitions with their listener calls */

static const char *const state_names[] = {"CREATED",          "REBALANCING", "RUNNING",
                                          "PENDING_SHUTDOWN", "NOT_RUNNING", "ERROR"};

const char *rill_app_state_name(rill_app_state_t state)
{
    if ((unsigned)state < G_N_ELEMENTS(state_names))
        return state_names[state];
    return "UNKNOWN";
}

static bool transition_allowed(rill_app_state_t from, rill_app_state_t to)
{
    switch (from) {
    case RILL_APP_CREATED:
        return to == RILL_APP_REBALANCING || to == RILL_APP_PENDING_SHUTDOWN ||
               to == RILL_APP_ERROR;
    case RILL_APP_REBALANCING:
        return to == RILL_APP_RUNNING || to == RILL_APP_PENDING_SHUTDOWN || to == RILL_APP_ERROR;
    case RILL_APP_RUNNING:
        return to == RILL_APP_REBALANCING || to == RILL_APP_PENDING_SHUTDOWN ||
               to == RILL_APP_ERROR;
    case RILL_APP_PENDING_SHUTDOWN:
        return to == RILL_APP_NOT_RUNNING || to == RILL_APP_ERROR;
    case RILL_APP_NOT_RUNNING:
    case RILL_APP_ERROR:
        return false;
    }
    return false;
}

/* Moves to state `to` if allowed; calls the listener. Takes app->lock. */
static bool set_state(rill_app_t *app, rill_app_state_t to)
{
    g_mutex_lock(&listener_lock);
    g_mutex_lock(&app->lock);
    rill_app_state_t from = app->state;
    bool ok = from != to && transition_allowed(from, to);
    if (ok) {
        app->state = to;
        g_cond_broadcast(&app->cond);
    }
    rill_app_state_listener_t listener = app->listener;
    void *ud = app->listener_ud;
    g_mutex_unlock(&app->lock);
    if (ok) {
        RILL_LOG_INFO("runtime.app", "%s: state %s -> %s", app->application_id,
                      rill_app_state_name(from), rill_app_state_name(to));
        if (listener)
            listener(from, to, ud);
    }
    g_mutex_unlock(&listener_lock);
    return ok;
}

/* A handler's setting as rill_on_error_t: LogAndContinue sends to the
 * dead-letter topic when one is configured (KIP-1034), else only logs. */
static rill_on_error_t on_error_of(const char *name, const char *dead_letter)
{
    if (!strstr(name, "LogAndContinue"))
        return RILL_ON_ERROR_FAIL;
    return dead_letter ? RILL_ON_ERROR_DEAD_LETTER : RILL_ON_ERROR_CONTINUE;
}

/* A default.key.serde / default.value.serde name as a serde (static). */
static const rill_serde_t *serde_of(const char *name)
{
    if (strcmp(name, "string") == 0)
        return rill_serde_string();
    if (strcmp(name, "int32") == 0)
        return rill_serde_int32();
    if (strcmp(name, "int64") == 0)
        return rill_serde_int64();
    if (strcmp(name, "double") == 0)
        return rill_serde_double();
    if (strcmp(name, "json") == 0)
        return rill_serde_json();
    return rill_serde_bytes();
}

static rill__ts_policy_t ts_policy_of(const char *name)
{
    if (strcmp(name, "LogAndSkipOnInvalidTimestamp") == 0)
        return RILL__TS_SKIP;
    if (strcmp(name, "UsePartitionTimeOnInvalidTimestamp") == 0)
        return RILL__TS_PARTITION_TIME;
    if (strcmp(name, "WallclockTimestampExtractor") == 0)
        return RILL__TS_WALL_CLOCK;
    return RILL__TS_FAIL;
}

/* Describe mode (see rill_app_new in rill/app.h): prints the topology and
 * exits when RILL_DESCRIBE is set; returns otherwise. */
static void describe_if_asked(rill_topology_t *topology, const rill_config_t *config)
{
    const char *mode = g_getenv("RILL_DESCRIBE");
    if (mode == NULL || *mode == '\0')
        return;
    rill_describe_format_t format;
    if (g_ascii_strcasecmp(mode, "text") == 0) {
        format = RILL_DESCRIBE_TEXT;
    } else if (g_ascii_strcasecmp(mode, "dot") == 0) {
        format = RILL_DESCRIBE_DOT;
    } else {
        fprintf(stderr, "rill: RILL_DESCRIBE=%s: expected 'text' or 'dot'\n", mode);
        exit(2);
    }
    const char *id = rill_config_get(config, RILL_CONFIG_APPLICATION_ID);
    if (id != NULL && *id != '\0')
        rill__topology_set_application_id(topology, id);
    const char *path = g_getenv("RILL_DESCRIBE_OUTPUT");
    FILE *out = path != NULL && *path != '\0' ? fopen(path, "w") : stdout;
    if (out == NULL) {
        fprintf(stderr, "rill: RILL_DESCRIBE_OUTPUT=%s: %s\n", path, g_strerror(errno));
        exit(2);
    }
    char *text = rill_topology_describe(topology, format);
    bool ok = fputs(text, out) >= 0;
    rill_free(text);
    ok = (out == stdout ? fflush(out) : fclose(out)) == 0 && ok;
    if (!ok) {
        fprintf(stderr, "rill: writing the topology description: %s\n", g_strerror(errno));
        exit(2);
    }
    exit(0);
}

rill_app_t *rill_app_new(rill_topology_t *topology, const rill_config_t *config,
                         rill_error_t **error)
{
    if (!topology || !config) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_new: NULL topology or config");
        return NULL;
    }
    describe_if_asked(topology, config);
    if (rill_config_validate(config, error) != RILL_OK)
        return NULL;
    const char *server = rill_config_get(config, RILL_CONFIG_APPLICATION_SERVER);
    if (server != NULL && !rill__query_server_valid(server)) {
        rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                       "application.server '%s' is not HOST:PORT (port 0-65535)", server);
        return NULL;
    }
    int subs = rill__topology_subtopology_count(topology);
    if (subs <= 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_new: the topology has no source");
        return NULL;
    }
    rill__log_init();
    rill_app_t *app = g_new0(rill_app_t, 1);
    app->topology = topology;
    app->config = rill_config_copy(config);
    app->application_id = g_strdup(rill_config_get(config, RILL_CONFIG_APPLICATION_ID));
    app->state_dir = g_strdup(rill_config_get(config, RILL_CONFIG_STATE_DIR));
    app->num_threads = (int)rill__config_int(config, RILL_CONFIG_NUM_STREAM_THREADS);
    app->commit_interval_ms = rill__config_int(config, RILL_CONFIG_COMMIT_INTERVAL_MS);
    app->poll_ms = (int)rill__config_int(config, RILL_CONFIG_POLL_MS);
    app->ts_policy = ts_policy_of(rill_config_get(config, RILL_CONFIG_TIMESTAMP_EXTRACTOR));
    app->production_fail = strcmp(rill_config_get(config, RILL_CONFIG_PRODUCTION_HANDLER),
                                  "DefaultProductionExceptionHandler") == 0;
    const char *dead_letter = rill_config_get(app->config, RILL_CONFIG_DEAD_LETTER_TOPIC);
    app->handlers.deserialization =
        on_error_of(rill_config_get(config, RILL_CONFIG_DESERIALIZATION_HANDLER), dead_letter);
    app->handlers.processing =
        on_error_of(rill_config_get(config, RILL_CONFIG_PROCESSING_HANDLER), dead_letter);
    app->handlers.production =
        on_error_of(rill_config_get(config, RILL_CONFIG_PRODUCTION_HANDLER), dead_letter);
    app->handlers.dead_letter_topic = dead_letter;
    app->default_key_serde = serde_of(rill_config_get(config, RILL_CONFIG_DEFAULT_KEY_SERDE));
    app->default_value_serde = serde_of(rill_config_get(config, RILL_CONFIG_DEFAULT_VALUE_SERDE));
    g_mutex_init(&app->lock);
    g_cond_init(&app->cond);
    app->state = RILL_APP_CREATED;
    app->metrics.port = -1;
    app->queryable = rill__query_registry_new();

    rill__topology_set_application_id(topology, app->application_id);
    app->source_topics = g_ptr_array_new_with_free_func(g_free);
    for (int s = 0; s < subs; s++) {
        const char *const *topics = rill__topology_source_topics(topology, s);
        for (int i = 0; topics && topics[i]; i++)
            g_ptr_array_add(app->source_topics, g_strdup(topics[i]));
    }
    g_ptr_array_add(app->source_topics, NULL);
    return app;
}

rill_err_t rill_app_set_state_listener(rill_app_t *app, rill_app_state_listener_t listener,
                                       void *user_data, rill_error_t **error)
{
    if (!app)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_set_state_listener: NULL app");
    g_mutex_lock(&app->lock);
    rill_err_t rc = RILL_OK;
    if (app->state != RILL_APP_CREATED)
        rc = rill_error_set(error, RILL_ERR_INVALID_STATE,
                            "the state listener must be set before rill_app_start (state %s)",
                            rill_app_state_name(app->state));
    else {
        app->listener = listener;
        app->listener_ud = user_data;
    }
    g_mutex_unlock(&app->lock);
    return rc;
}

/* Partition count of an internal topic: that of the source topics of the
 * sub-topology writing it, following chains of internal topics. */
static int32_t internal_count(rill_app_t *app, const char *topic, GHashTable *known, int depth)
{
    gpointer v;
    if (g_hash_table_lookup_extended(known, topic, NULL, &v))
        return GPOINTER_TO_INT(v);
    if (depth > 64)
        return -1;
    const char *source = rill__topology_internal_topic_source(app->topology, topic);
    if (!source)
        return -1;
    return internal_count(app, source, known, depth + 1);
}

static bool is_internal(rill_app_t *app, const char *topic)
{
    const char *const *internal = rill__topology_internal_topics(app->topology);
    for (int i = 0; internal && internal[i]; i++)
        if (strcmp(internal[i], topic) == 0)
            return true;
    return false;
}

/* Checks the user's source topics, creates the internal ones. */
static rill_err_t prepare_topics(rill_app_t *app, rill_error_t **error)
{
    int subs = rill__topology_subtopology_count(app->topology);
    GPtrArray *external = g_ptr_array_new();
    for (guint i = 0; i + 1 < app->source_topics->len; i++) {
        const char *topic = app->source_topics->pdata[i];
        if (!is_internal(app, topic))
            g_ptr_array_add(external, (gpointer)topic);
    }
    /* Also the sources of internal topics that no sub-topology reads as a
     * user topic (they are all source topics, so nothing to add). */
    g_autofree int32_t *counts = g_new0(int32_t, external->len + 1);
    rill_err_t rc = rill__kafka_topic_partitions(app->config, (const char *const *)external->pdata,
                                                 (int)external->len, counts, START_TIMEOUT_MS,
                                                 error);
    GHashTable *known = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; !rc && i < external->len; i++) {
        if (counts[i] < 0) {
            rc = rill_error_set(error, RILL_ERR_NOT_FOUND,
                                "source topic %s does not exist (create it first)",
                                (const char *)external->pdata[i]);
            break;
        }
        g_hash_table_insert(known, external->pdata[i], GINT_TO_POINTER(counts[i]));
    }

    /* Internal topics, with the partition count of their writer's sources. */
    GPtrArray *names = g_ptr_array_new();
    GPtrArray *configs = g_ptr_array_new();
    GArray *parts = g_array_new(FALSE, FALSE, sizeof(int32_t));
    const char *const *internal = rill__topology_internal_topics(app->topology);
    for (int i = 0; !rc && internal && internal[i]; i++) {
        int32_t n = internal_count(app, internal[i], known, 0);
        if (n < 0) {
            rc = rill_error_set(error, RILL_ERR_INVALID_STATE,
                                "cannot tell the partition count of internal topic %s",
                                internal[i]);
            break;
        }
        g_hash_table_insert(known, (gpointer)internal[i], GINT_TO_POINTER(n));
        g_ptr_array_add(names, (gpointer)internal[i]);
        g_ptr_array_add(configs,
                        (gpointer)rill__topology_internal_topic_config(app->topology, internal[i]));
        g_array_append_val(parts, n);
    }
    if (!rc && names->len)
        rc = rill__kafka_create_topics(app->config, (const char *const *)names->pdata,
                                       (const int32_t *)parts->data,
                                       (const char *const *const *)configs->pdata,
                                       (int)names->len,
                                       (int)rill__config_int(app->config,
                                                             RILL_CONFIG_REPLICATION_FACTOR),
                                       START_TIMEOUT_MS, error);

    /* Co-partitioning: the source topics of one sub-topology must have the
     * same partition count (a task reads partition P of each). */
    for (int s = 0; !rc && s < subs; s++) {
        const char *const *topics = rill__topology_source_topics(app->topology, s);
        for (int i = 1; topics && topics[0] && topics[i]; i++) {
            int32_t a = GPOINTER_TO_INT(g_hash_table_lookup(known, topics[0]));
            int32_t b = GPOINTER_TO_INT(g_hash_table_lookup(known, topics[i]));
            if (a != b) {
                rc = rill_error_set(error, RILL_ERR_INVALID_STATE,
                                    "topics %s (%d partitions) and %s (%d partitions) are read "
                                    "together (sub-topology %d) and must be co-partitioned: "
                                    "give them the same partition count",
                                    topics[0], a, topics[i], b, s);
                break;
            }
        }
    }
    g_ptr_array_free(names, TRUE);
    g_ptr_array_free(configs, TRUE);
    g_array_free(parts, TRUE);
    g_hash_table_destroy(known);
    g_ptr_array_free(external, TRUE);
    return rc;
}

/* ---- metrics ---- */

typedef struct state_probe {
    rill_app_t *app;
    rill_app_state_t state;
} state_probe_t;

/* 1 if the app is in the probe's state (read at scrape time). */
static double state_value(void *ud)
{
    const state_probe_t *probe = ud;
    rill_app_state_t now = __atomic_load_n(&probe->app->state, __ATOMIC_RELAXED);
    return now == probe->state ? 1.0 : 0.0;
}

static state_probe_t *state_probes_of(rill_app_t *app)
{
    state_probe_t *probes = g_new0(state_probe_t, G_N_ELEMENTS(state_names));
    for (guint i = 0; i < G_N_ELEMENTS(state_names); i++) {
        probes[i].app = app;
        probes[i].state = (rill_app_state_t)i;
    }
    return probes;
}

/* Registers the families and starts the endpoint (if metrics.listener is set). */
static rill_err_t metrics_start(rill_app_t *app, rill_error_t **error)
{
    rill__app_metrics_t *m = &app->metrics;
    m->port = -1;
    const char *listener = rill_config_get(app->config, RILL_CONFIG_METRICS_LISTENER);
    if (!listener || !*listener)
        return RILL_OK;
    m->registry = rill__metrics_new();
    static const char *const task_labels[] = {"application_id", "thread", "task", NULL};
    static const char *const thread_labels[] = {"application_id", "thread", NULL};
    static const char *const lag_labels[] = {"application_id", "thread", "topic", "partition",
                                             NULL};
    static const char *const error_labels[] = {"application_id", "thread", "task", "kind", NULL};
    static const char *const state_labels[] = {"application_id", "state", NULL};
    m->consumed = rill__metrics_family(m->registry, "rill_app_records_consumed_total",
                                       "Input records handed to the task", RILL_METRIC_COUNTER,
                                       task_labels, NULL, 0);
    m->produced = rill__metrics_family(m->registry, "rill_app_records_produced_total",
                                       "Records the thread produced and the brokers acknowledged",
                                       RILL_METRIC_COUNTER, thread_labels, NULL, 0);
    m->sent = rill__metrics_family(m->registry, "rill_app_records_sent_total",
                                   "Records the task's sinks handed to the producer (records "
                                   "out, per task; acknowledged ones: records_produced_total)",
                                   RILL_METRIC_COUNTER, task_labels, NULL, 0);
    m->process_latency = rill__metrics_family(
        m->registry, "rill_app_process_latency_seconds",
        "Mean processing time per record of each poll batch (one sample per batch)",
        RILL_METRIC_HISTOGRAM, thread_labels, NULL, 0);
    m->commit_latency = rill__metrics_family(
        m->registry, "rill_app_commit_latency_seconds",
        "Duration of a commit: task flush, producer flush and offset commit",
        RILL_METRIC_HISTOGRAM, thread_labels, NULL, 0);
    m->commits = rill__metrics_family(m->registry, "rill_app_commits_total",
                                      "Successful offset commits", RILL_METRIC_COUNTER,
                                      thread_labels, NULL, 0);
    m->lag = rill__metrics_family(m->registry, "rill_app_consumer_lag_records",
                                  "High watermark minus the consumer's position (NaN: unknown)",
                                  RILL_METRIC_GAUGE, lag_labels, NULL, 0);
    m->errors = rill__metrics_family(
        m->registry, "rill_app_errors_total",
        "Records dropped: skipped (a LogAndContinue handler), dead_lettered (sent to the "
        "dead-letter topic), invalid_timestamp (LogAndSkipOnInvalidTimestamp)",
        RILL_METRIC_COUNTER, error_labels, NULL, 0);
    m->state = rill__metrics_family(m->registry, "rill_app_state",
                                    "1 for the state the app is in, else 0", RILL_METRIC_GAUGE,
                                    state_labels, NULL, 0);
    static const char *const restore_labels[] = {"application_id", "thread", "changelog", NULL};
    m->restored = rill__metrics_family(m->registry, "rill_app_restored_records_total",
                                       "Changelog records replayed into state stores",
                                       RILL_METRIC_COUNTER, restore_labels, NULL, 0);
    static const char *const dropped_labels[] = {"application_id", "thread", "task", "reason",
                                                 NULL};
    m->dropped = rill__metrics_family(
        m->registry, "rill_app_dropped_records_total",
        "Input records a task dropped, by reason: late (after its window closed), "
        "deserialization / processing / production (skipped by a LogAndContinue handler), "
        "null_key (a keyed operator cannot use it), invalid_timestamp "
        "(LogAndSkipOnInvalidTimestamp)",
        RILL_METRIC_COUNTER, dropped_labels, NULL, 0);
    static const char *const store_labels[] = {"application_id", "thread", "task", "store",
                                               NULL};
    m->store_keys = rill__metrics_family(
        m->registry, "rill_app_store_keys",
        "Approximate keys in a task's state store (RocksDB: rocksdb.estimate-num-keys; "
        "refreshed every second)",
        RILL_METRIC_GAUGE, store_labels, NULL, 0);
    m->store_bytes = rill__metrics_family(
        m->registry, "rill_app_store_bytes",
        "Approximate bytes of a task's state store (RocksDB: SST files + memtables; memory "
        "stores: keys + values; refreshed every second)",
        RILL_METRIC_GAUGE, store_labels, NULL, 0);
    m->restore_planned = rill__metrics_family(
        m->registry, "rill_app_restore_planned_records_total",
        "Changelog records restores set out to replay (end offset - start offset of each "
        "partition restored); progress = restored / planned",
        RILL_METRIC_COUNTER, restore_labels, NULL, 0);
    m->restore_remaining = rill__metrics_family(
        m->registry, "rill_app_restore_remaining_records",
        "Changelog records the restores in progress have still to replay (0 when done)",
        RILL_METRIC_GAUGE, restore_labels, NULL, 0);
    app->state_probes = state_probes_of(app);
    for (guint i = 0; i < G_N_ELEMENTS(state_names); i++) {
        const char *values[] = {app->application_id, state_names[i], NULL};
        rill__metric_set_callback(rill__metric_child(m->state, values), state_value,
                                  &app->state_probes[i]);
    }
    char *msg = NULL;
    m->port = rill__metrics_http_start(m->registry, listener, &msg);
    if (m->port < 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "%s",
                       msg ? msg : "metrics.listener: cannot listen");
        g_free(msg);
        return RILL_ERR_INVALID_ARG;
    }
    RILL_LOG_INFO("runtime.app", "%s: metrics at http://%s/metrics (port %d)", app->application_id,
                  listener, m->port);
    return RILL_OK;
}

int rill_app_metrics_port(const rill_app_t *app)
{
    if (!app)
        return -1;
    return __atomic_load_n(&app->metrics.port, __ATOMIC_ACQUIRE);
}

static void fail_start(rill_app_t *app, rill_error_t **error)
{
    g_mutex_lock(&app->lock);
    if (!app->error)
        app->error = rill_error_copy(error ? *error : NULL);
    if (!app->error)
        rill_error_set(&app->error, RILL_ERR_INVALID_STATE, "rill_app_start failed");
    g_mutex_unlock(&app->lock);
    set_state(app, RILL_APP_ERROR);
}

rill_err_t rill_app_start(rill_app_t *app, rill_error_t **error)
{
    if (!app)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_start: NULL app");
    g_mutex_lock(&app->lock);
    rill_app_state_t state = app->state;
    g_mutex_unlock(&app->lock);
    if (state != RILL_APP_CREATED)
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "rill_app_start: the app is %s (only a CREATED app starts)",
                              rill_app_state_name(state));

    rill_error_t *local = NULL;
    rill_error_t **err = error ? error : &local;
    if (metrics_start(app, err) != RILL_OK || prepare_topics(app, err) != RILL_OK) {
        rill_err_t code = rill_error_code(*err);
        fail_start(app, err);
        rill_error_destroy(local);
        return code;
    }
    RILL_LOG_INFO("runtime.app", "%s: starting %d stream threads against %s", app->application_id,
                  app->num_threads, rill_config_get(app->config, RILL_CONFIG_BOOTSTRAP_SERVERS));
    set_state(app, RILL_APP_REBALANCING);
    /* global tables: bootstrapped before any task processes a record */
    if (rill__topology_global_count(app->topology) > 0) {
        app->globals = rill__globals_new(app->topology, app->state_dir, app->application_id, err);
        if (app->globals != NULL)
            app->global_thread = rill__global_thread_start(app, app->globals, err);
        if (app->global_thread == NULL) {
            rill_err_t code = rill_error_code(*err);
            g_mutex_lock(&app->lock);
            bool closing = app->closing;
            g_mutex_unlock(&app->lock);
            if (closing) { /* rill_app_close() interrupted the bootstrap: not a failure */
                set_state(app, RILL_APP_PENDING_SHUTDOWN);
                set_state(app, RILL_APP_NOT_RUNNING);
            } else {
                fail_start(app, err);
            }
            rill_error_destroy(local);
            return code;
        }
    }
    g_mutex_lock(&app->lock);
    app->threads = g_new0(rill__thread_t *, app->num_threads);
    g_mutex_unlock(&app->lock);
    for (int i = 0; i < app->num_threads; i++) {
        g_mutex_lock(&app->lock);
        app->threads_alive++;
        g_mutex_unlock(&app->lock);
        rill__thread_t *thread = rill__thread_start(app, i, err);
        if (!thread) {
            rill_err_t code = rill_error_code(*err);
            g_mutex_lock(&app->lock);
            app->threads_alive--;
            if (!app->error)
                app->error = rill_error_copy(*err);
            g_mutex_unlock(&app->lock);
            rill_error_destroy(local);
            /* stop the threads started so far; the last one out sets ERROR */
            app->stop = 1;
            g_mutex_lock(&app->lock);
            bool none = app->threads_alive == 0;
            g_mutex_unlock(&app->lock);
            if (none)
                set_state(app, RILL_APP_ERROR);
            return code;
        }
        g_mutex_lock(&app->lock);
        app->threads[i] = thread;
        g_mutex_unlock(&app->lock);
    }
    rill_error_destroy(local);
    /* Threads may have had their assignment before all were registered. */
    rill__app_thread_rebalance_changed(app);
    return RILL_OK;
}

/* ---- called by the threads ---- */

void rill__app_thread_rebalance_changed(rill_app_t *app)
{
    g_mutex_lock(&app->lock);
    bool rebalancing = false;
    bool complete = true;
    for (int i = 0; i < app->num_threads; i++) {
        if (!app->threads || !app->threads[i]) {
            complete = false;
            continue;
        }
        if (rill__thread_rebalancing(app->threads[i]))
            rebalancing = true;
    }
    rill_app_state_t state = app->state;
    g_mutex_unlock(&app->lock);
    /* A thread that has not been registered yet counts as rebalancing. */
    if (!complete)
        rebalancing = true;
    if (state == RILL_APP_RUNNING && rebalancing)
        set_state(app, RILL_APP_REBALANCING);
    else if (state == RILL_APP_REBALANCING && !rebalancing)
        set_state(app, RILL_APP_RUNNING);
}

void rill__app_thread_failed(rill_app_t *app, rill_error_t *error)
{
    g_mutex_lock(&app->lock);
    if (!app->error)
        app->error = error;
    else
        rill_error_destroy(error);
    g_mutex_unlock(&app->lock);
    app->stop = 1;
}

void rill__app_thread_final_commit_done(rill_app_t *app, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&app->lock);
    app->threads_committed++;
    g_cond_broadcast(&app->cond);
    while (app->threads_committed < app->threads_alive)
        if (!g_cond_wait_until(&app->cond, &app->lock, deadline))
            break;
    g_mutex_unlock(&app->lock);
}

void rill__app_thread_exited(rill_app_t *app)
{
    g_mutex_lock(&app->lock);
    app->threads_alive--;
    bool last = app->threads_alive == 0;
    bool failed = app->error != NULL;
    g_cond_broadcast(&app->cond);
    g_mutex_unlock(&app->lock);
    if (!last)
        return;
    if (failed)
        set_state(app, RILL_APP_ERROR);
    else
        set_state(app, RILL_APP_NOT_RUNNING);
}

/* ---- the caller's side ---- */

static bool final(rill_app_state_t state)
{
    return state == RILL_APP_NOT_RUNNING || state == RILL_APP_ERROR;
}

rill_app_state_t rill_app_wait(rill_app_t *app, int timeout_ms)
{
    if (!app)
        return RILL_APP_ERROR;
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&app->lock);
    while (!final(app->state) && app->state != RILL_APP_CREATED) {
        if (timeout_ms < 0)
            g_cond_wait(&app->cond, &app->lock);
        else if (!g_cond_wait_until(&app->cond, &app->lock, deadline))
            break;
    }
    rill_app_state_t state = app->state;
    g_mutex_unlock(&app->lock);
    return state;
}

rill_err_t rill_app_close(rill_app_t *app, int timeout_ms)
{
    if (!app)
        return RILL_ERR_INVALID_ARG;
    g_mutex_lock(&app->lock);
    rill_app_state_t state = app->state;
    bool had_threads = app->threads_alive > 0;
    app->closing = true;
    g_mutex_unlock(&app->lock);
    if (state == RILL_APP_CREATED) {
        set_state(app, RILL_APP_PENDING_SHUTDOWN);
        set_state(app, RILL_APP_NOT_RUNNING);
        return RILL_OK;
    }
    if (!final(state) && had_threads)
        set_state(app, RILL_APP_PENDING_SHUTDOWN);
    app->stop = 1;

    /* The last thread to exit sets the final state (NOT_RUNNING or ERROR). */
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    g_mutex_lock(&app->lock);
    while (app->threads_alive > 0 || !final(app->state)) {
        if (timeout_ms < 0)
            g_cond_wait(&app->cond, &app->lock);
        else if (!g_cond_wait_until(&app->cond, &app->lock, deadline))
            break;
    }
    bool done = app->threads_alive == 0 && final(app->state);
    g_mutex_unlock(&app->lock);
    if (!done) {
        RILL_LOG_WARN("runtime.app", "%s: threads did not stop within %d ms", app->application_id,
                      timeout_ms);
        return RILL_ERR_TIMEOUT;
    }
    /* The final state is set under listener_lock, and its listener call
     * runs before that lock is released: wait for it to have returned. */
    g_mutex_lock(&listener_lock);
    g_mutex_unlock(&listener_lock);
    return RILL_OK;
}

void rill_app_destroy(rill_app_t *app)
{
    if (!app)
        return;
    rill_app_close(app, -1);
    if (app->metrics.registry)
        rill__metrics_http_stop(app->metrics.registry); /* no scrape from here on */
    if (app->threads) {
        for (int i = 0; i < app->num_threads; i++)
            rill__thread_join(app->threads[i]);
        g_free(app->threads);
    }
    app->stop = 1; /* (set by close already) the global thread outlives the stream threads */
    rill__global_thread_join(app->global_thread);
    rill__globals_destroy(app->globals);
    rill__query_registry_free(app->queryable); /* every task is closed */
    rill_error_destroy(app->error);
    g_ptr_array_free(app->source_topics, TRUE);
    rill_config_destroy(app->config);
    g_free(app->application_id);
    g_free(app->state_dir);
    if (app->metrics.registry)
        rill__metrics_free(app->metrics.registry);
    g_free(app->state_probes);
    g_mutex_clear(&app->lock);
    g_cond_clear(&app->cond);
    g_free(app);
}

rill_app_state_t rill_app_state(const rill_app_t *app)
{
    if (!app)
        return RILL_APP_ERROR;
    rill_app_t *mut = (rill_app_t *)app;
    g_mutex_lock(&mut->lock);
    rill_app_state_t state = app->state;
    g_mutex_unlock(&mut->lock);
    return state;
}

const rill_error_t *rill_app_error(const rill_app_t *app)
{
    if (!app)
        return NULL;
    rill_app_t *mut = (rill_app_t *)app;
    g_mutex_lock(&mut->lock);
    const rill_error_t *error = app->error;
    g_mutex_unlock(&mut->lock);
    return error;
}

void rill_app_stats(const rill_app_t *app, rill_app_stats_t *stats)
{
    memset(stats, 0, sizeof(*stats));
    if (!app || !app->threads)
        return;
    for (int i = 0; i < app->num_threads; i++)
        if (app->threads[i])
            rill__thread_stats(app->threads[i], stats);
}
