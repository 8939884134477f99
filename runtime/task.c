/* task.c: a task (sub-topology, partition): its processor instances, the
 * source and sink nodes, stream time and the error handlers.
 *
 * Design: rill__task_new instantiates one rill__pnode_t per node of the
 * sub-topology, in one array, children as pointers into it. A record goes:
 *
 *   raw bytes ─► source: deserialize key/value (bytes borrowed, strings into
 *   the task's scratch), extract the timestamp, advance stream time ─►
 *   processors, depth-first on this stack ─► sinks: serialize (bytes borrowed,
 *   numbers into reused buffers) ─► env.sink.send()
 *
 * so that a stateless topology of bytes or strings allocates nothing per
 * record. Each failure is classified by stage and handed to the configured
 * handler (fail / continue / dead letter):
 *   deserialization: a serde or the timestamp extractor rejected the input;
 *   processing:      a processor (user callback) returned an error;
 *   production:      a sink could not serialize, choose a topic, or send.
 * Production errors are decided in the sink itself, so that a record that
 * already went to some sinks is not counted twice; an error a handler does
 * not absorb is returned from rill__task_process() and fails the thread.
 *
 * Task states (see task.h): new ─► running (process/punctuate/flush)* ─► destroyed. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <rill/topology.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "runtime/serde-private.h"
#include "runtime/task.h"
#include "runtime/topology-private.h"

typedef enum stage {
    STAGE_DESERIALIZATION,
    STAGE_PROCESSING,
    STAGE_PRODUCTION,
} stage_t;

static const char *const stage_names[] = {"deserialization", "processing", "production"};

struct rill_task {
    const rill_topology_t *topology;
    const rill__subtopology_t *sub;
    int32_t partition;
    char id[32];
    rill__task_env_t env;
    rill__pnode_t *pnodes;       /* one per node of the sub-topology, same order */
    rill__pnode_t **child_slots; /* the children arrays of all pnodes */
    int64_t stream_time;
    rill_wbuf_t key_scratch; /* deserialized strings */
    rill_wbuf_t value_scratch;
    rill_buffer_t key_buffer; /* serialized keys and values */
    rill_buffer_t value_buffer;
    const rill__raw_record_t *raw;   /* the input record being processed */
    const rill__node_t *failed_node; /* the deepest node that failed the current record */
    bool production_failed;          /* the current error is a production error, decided */
    GPtrArray *punctuating;          /* pnodes with a punctuate op (often none) */
    guint initialized;               /* pnodes[0..initialized) were initialized */
    rill__task_stats_t stats;
    const rill_serde_t *default_key_serde; /* never NULL */
    const rill_serde_t *default_value_serde;
    void *state; /* rill__task_set_state */
    rill_err_t (*state_flush)(void *state, rill_error_t **error);
    void (*state_free)(void *state);
    void (*state_sizes)(void *state, rill__store_size_fn fn, void *ud);
    bool dirty; /* rill__task_mark_dirty */
};

/* A log-and-continue handler logs the first SKIP_LOG_FIRST skips of a task one
 * by one, then one line every SKIP_LOG_EVERY, so that a topic full of bad
 * records cannot flood the log (the counters keep the exact numbers). */
#define SKIP_LOG_FIRST 10
#define SKIP_LOG_EVERY 1000

static int64_t task_wall_clock(const rill_task_t *task)
{
    if (task->env.wall_clock_ms != NULL)
        return task->env.wall_clock_ms(task->env.clock_ud);
    return rill__clock_wall_ms();
}

int64_t rill__pnode_wall_clock(const rill__pnode_t *pnode)
{
    return task_wall_clock(pnode->task);
}

int64_t rill__pnode_stream_time(const rill__pnode_t *pnode)
{
    return pnode->task->stream_time;
}

const char *rill__pnode_task_id(const rill__pnode_t *pnode)
{
    return pnode->task->id;
}

int32_t rill__pnode_partition(const rill__pnode_t *pnode)
{
    return pnode->task->partition;
}

rill_err_t rill__pnode_failed(rill__pnode_t *child, rill_err_t err)
{
    if (child->task->failed_node == NULL) /* the first to fail is the deepest */
        child->task->failed_node = child->node;
    return err;
}

/* ---- error handling ----------------------------------------------------------- */

int rill__on_error_parse(const char *name)
{
    static const struct {
        const char *name;
        rill_on_error_t action;
    } names[] =
        {
            {"fail", RILL_ON_ERROR_FAIL},
            {"log-and-fail", RILL_ON_ERROR_FAIL},
            {"continue", RILL_ON_ERROR_CONTINUE},
            {"log-and-continue", RILL_ON_ERROR_CONTINUE},
            {"dead-letter", RILL_ON_ERROR_DEAD_LETTER},
            {"dlq", RILL_ON_ERROR_DEAD_LETTER},
        },
      classes[] = {
          {"LogAndFailExceptionHandler", RILL_ON_ERROR_FAIL},
          {"LogAndContinueExceptionHandler", RILL_ON_ERROR_CONTINUE},
          {"LogAndContinueProductionExceptionHandler", RILL_ON_ERROR_CONTINUE},
          {"DefaultProductionExceptionHandler", RILL_ON_ERROR_FAIL},
          {"LogAndFailProcessingExceptionHandler", RILL_ON_ERROR_FAIL},
          {"LogAndContinueProcessingExceptionHandler", RILL_ON_ERROR_CONTINUE},
      };
    if (name == NULL)
        return -1;
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (g_ascii_strcasecmp(name, names[i].name) == 0)
            return (int)names[i].action;
    for (size_t i = 0; i < G_N_ELEMENTS(classes); i++) {
        const char *suffix = classes[i].name;
        size_t len = strlen(name), suffix_len = strlen(suffix);
        if (len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0 &&
            (len == suffix_len || name[len - suffix_len - 1] == '.'))
            return (int)classes[i].action;
    }
    return -1;
}

/* Sends the input record to the dead-letter topic with the error in headers. */
static rill_err_t send_dead_letter(rill_task_t *task, stage_t stage, const rill_error_t *cause,
                                   rill_error_t **error)
{
    const rill__raw_record_t *raw = task->raw;
    char partition[16], offset[24];
    snprintf(partition, sizeof partition, "%" PRId32, raw->partition);
    snprintf(offset, sizeof offset, "%" PRId64, raw->offset);
    const char *message = rill_error_message(cause);
    const char *code = rill_err_name(rill_error_code(cause));
    const char *stage_name = stage_names[stage];
    const char *node = task->failed_node != NULL ? task->failed_node->name : NULL;
    size_t count = raw->header_count;
    g_autofree rill__header_t *headers = g_new(rill__header_t, count + 7);
    if (count > 0)
        memcpy(headers, raw->headers, count * sizeof *headers);
#define HEADER(n, v) headers[count++] = (rill__header_t){(n), (v), strlen(v)}
    HEADER("rill.error", message);
    HEADER("rill.error.code", code);
    HEADER("rill.error.stage", stage_name);
    HEADER("rill.error.topic", raw->topic != NULL ? raw->topic : "");
    HEADER("rill.error.partition", partition);
    HEADER("rill.error.offset", offset);
    if (stage == STAGE_PROCESSING && node != NULL)
        HEADER("rill.error.node", node);
#undef HEADER
    rill_err_t err = task->env.sink.send(task->env.sink.ud, task->env.handlers.dead_letter_topic,
                                         -1, raw->key, raw->key_len, raw->value, raw->value_len,
                                         raw->timestamp, headers, count, error);
    if (err != RILL_OK)
        rill_error_prefix(
            error,
            "task %s: sending %s@%" PRId32 "/%" PRId64 " to the dead-letter topic '%s': ", task->id,
            raw->topic, raw->partition, raw->offset, task->env.handlers.dead_letter_topic);
    return err;
}

/* Decides on cause (transfer full) for the current record: RILL_OK when the
 * handler absorbs it, else the error, in *error. */
static rill_err_t handle_error(rill_task_t *task, stage_t stage, rill_error_t *cause,
                               rill_error_t **error)
{
    const rill__raw_record_t *raw = task->raw;
    rill_on_error_t action = stage == STAGE_DESERIALIZATION ? task->env.handlers.deserialization
                             : stage == STAGE_PROCESSING    ? task->env.handlers.processing
                                                            : task->env.handlers.production;
    rill_err_t code = rill_error_code(cause);
    if (code == RILL_OK)
        code = RILL_ERR_USER; /* a callback failed without saying why */
    const char *node = task->failed_node != NULL ? task->failed_node->name : "";
    if (raw == NULL) { /* a punctuator's output: there is no input record to skip or send */
        if (cause == NULL)
            rill_error_set(&cause, code, "a callback failed without an error message");
        rill_error_prefix(&cause, "task %s: %s error in a punctuator%s%s: ", task->id,
                          stage_names[stage], node[0] ? " of " : "", node);
        if (error != NULL && *error == NULL)
            *error = cause;
        else
            rill_error_destroy(cause);
        return code;
    }
    switch (action) {
    case RILL_ON_ERROR_CONTINUE:
        task->stats.skipped++;
        task->stats.dropped[stage == STAGE_DESERIALIZATION ? RILL__DROP_DESERIALIZATION
                            : stage == STAGE_PROCESSING    ? RILL__DROP_PROCESSING
                                                           : RILL__DROP_PRODUCTION]++;
        if (task->stats.skipped <= SKIP_LOG_FIRST || task->stats.skipped % SKIP_LOG_EVERY == 0)
            RILL_LOG_WARN("runtime.task",
                          "task %s: skipping record after %s error: %s topic=%s "
                          "partition=%" PRId32 " offset=%" PRId64 "%s%s skipped=%" PRIu64 "%s",
                          task->id, stage_names[stage],
                          cause != NULL ? rill_error_message(cause) : rill_err_name(code),
                          raw->topic, raw->partition, raw->offset, node[0] ? " node=" : "", node,
                          task->stats.skipped,
                          task->stats.skipped == SKIP_LOG_FIRST
                              ? " (further skips are logged once every 1000)"
                              : "");
        rill_error_destroy(cause);
        return RILL_OK;
    case RILL_ON_ERROR_DEAD_LETTER:
        if (task->env.handlers.dead_letter_topic != NULL &&
            task->env.handlers.dead_letter_topic[0] != '\0') {
            if (cause == NULL)
                rill_error_set(&cause, code, "a callback failed without an error message");
            rill_err_t err = send_dead_letter(task, stage, cause, error);
            rill_error_destroy(cause);
            if (err == RILL_OK)
                task->stats.dead_lettered++;
            return err;
        }
        break; /* no topic: fail, saying why below */
    case RILL_ON_ERROR_FAIL:
        break;
    }
    if (cause == NULL)
        rill_error_set(&cause, code, "a callback failed without an error message");
    rill_error_prefix(&cause, "task %s: %s error on %s@%" PRId32 "/%" PRId64 "%s%s: ", task->id,
                      stage_names[stage], raw->topic, raw->partition, raw->offset,
                      node[0] ? " in " : "", node);
    if (action == RILL_ON_ERROR_DEAD_LETTER)
        rill_error_prefix(&cause, "dead-letter handling configured without a topic: ");
    if (error != NULL && *error == NULL)
        *error = cause;
    else
        rill_error_destroy(cause);
    return code;
}

static rill_err_t punctuate(rill_task_t *task, int64_t stream_time, int64_t wall_ms,
                            rill_error_t **error);

/* ---- source and sink nodes -------------------------------------------------- */

static rill_err_t source_process(rill__pnode_t *pnode, const rill_record_t *record,
                                 rill_error_t **error)
{
    return rill__pnode_forward(pnode, record, error);
}

const rill__node_ops_t rill__source_ops = {
    .kind = "SOURCE",
    .process = source_process,
};

static rill_err_t sink_fail(rill_task_t *task, rill_error_t *cause, rill_error_t **error)
{
    rill_err_t err = handle_error(task, STAGE_PRODUCTION, cause, error);
    if (err != RILL_OK)
        task->production_failed = true;
    return err;
}

static rill_err_t sink_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    rill_task_t *task = pnode->task;
    const rill__sink_spec_t *spec = &pnode->node->sink;
    rill_error_t *cause = NULL;
    const char *topic = spec->topic;
    if (topic == NULL) {
        topic = spec->chooser(record, spec->chooser_user_data);
        if (topic == NULL || topic[0] == '\0') {
            rill_error_set(&cause, RILL_ERR_USER, "sink %s: the topic chooser returned no topic",
                           pnode->node->name);
            return sink_fail(task, cause, error);
        }
        if (!rill__topic_name_valid(topic)) {
            rill_error_set(&cause, RILL_ERR_USER,
                           "sink %s: the topic chooser returned '%s', which is not a valid topic "
                           "name",
                           pnode->node->name, topic);
            return sink_fail(task, cause, error);
        }
    }
    /* a NULL serde serializes by the value's type */
    const void *key = NULL, *value = NULL;
    size_t key_len = 0, value_len = 0;
    if (spec->key_serde == NULL && record->key.type == RILL_VALUE_POINTER)
        rill_error_set(&cause, RILL_ERR_SERDE, "a pointer key needs a key serde");
    else if (rill__serde_serialize_fast(spec->key_serde, &record->key, &task->key_buffer, &key,
                                        &key_len, &cause) == RILL_OK) {
        if (spec->value_serde == NULL && record->value.type == RILL_VALUE_POINTER)
            rill_error_set(&cause, RILL_ERR_SERDE, "a pointer value needs a value serde");
        else
            rill__serde_serialize_fast(spec->value_serde, &record->value, &task->value_buffer,
                                       &value, &value_len, &cause);
    }
    if (cause != NULL) {
        rill_error_prefix(&cause, "sink %s (topic %s): serializing: ", pnode->node->name, topic);
        return sink_fail(task, cause, error);
    }
    int32_t partition = -1;
    if (spec->partitioner != NULL) {
        int32_t count = task->env.sink.partition_count != NULL
                            ? task->env.sink.partition_count(task->env.sink.ud, topic)
                            : -1;
        if (count <= 0) {
            rill_error_set(&cause, RILL_ERR_KAFKA,
                           "sink %s: the partition count of topic '%s' is unknown",
                           pnode->node->name, topic);
            return sink_fail(task, cause, error);
        }
        partition =
            spec->partitioner(topic, record, key, key_len, count, spec->partitioner_user_data);
        if (partition < -1 || partition >= count) {
            rill_error_set(&cause, RILL_ERR_USER,
                           "sink %s: the partitioner chose partition %" PRId32
                           " of topic '%s', which has %" PRId32,
                           pnode->node->name, partition, topic, count);
            return sink_fail(task, cause, error);
        }
    }
    if (task->env.sink.send(task->env.sink.ud, topic, partition, key, key_len, value, value_len,
                            record->timestamp, record->headers, record->header_count,
                            &cause) != RILL_OK) {
        if (cause == NULL)
            rill_error_set(&cause, RILL_ERR_KAFKA, "send failed");
        rill_error_prefix(&cause, "sink %s (topic %s): ", pnode->node->name, topic);
        return sink_fail(task, cause, error);
    }
    task->stats.sent++;
    return RILL_OK;
}

const rill__node_ops_t rill__sink_ops = {
    .kind = "SINK",
    .process = sink_process,
};

/* ---- the task ------------------------------------------------------------- */

rill_task_t *rill__task_new(const rill_topology_t *topology, int subtopology, int32_t partition,
                            const rill__task_env_t *env, rill_error_t **error)
{
    if (topology == NULL || env == NULL || env->sink.send == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG,
                       "rill__task_new: topology, env and send are required");
        return NULL;
    }
    if (subtopology < 0 || subtopology >= topology->sub_count || partition < 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG,
                       "rill__task_new: no task %d_%" PRId32
                       " (the topology has %d sub-topologies)",
                       subtopology, partition, topology->sub_count);
        return NULL;
    }
    const rill_error_handlers_t *handlers = &env->handlers;
    bool wants_dlq = handlers->deserialization == RILL_ON_ERROR_DEAD_LETTER ||
                     handlers->processing == RILL_ON_ERROR_DEAD_LETTER ||
                     handlers->production == RILL_ON_ERROR_DEAD_LETTER;
    if (wants_dlq &&
        (handlers->dead_letter_topic == NULL || handlers->dead_letter_topic[0] == '\0')) {
        rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                       "an error handler sends to the dead-letter topic, but none is configured");
        return NULL;
    }
    rill_task_t *task = g_new0(rill_task_t, 1);
    task->topology = topology;
    task->sub = &topology->subs[subtopology];
    task->partition = partition;
    snprintf(task->id, sizeof task->id, "%d_%" PRId32, subtopology, partition);
    task->env = *env;
    task->default_key_serde =
        env->default_key_serde != NULL ? env->default_key_serde : rill_serde_bytes();
    task->default_value_serde =
        env->default_value_serde != NULL ? env->default_value_serde : rill_serde_bytes();
    task->stream_time = -1;
    rill__wbuf_init(&task->key_scratch, 0);
    rill__wbuf_init(&task->value_scratch, 0);
    rill__wbuf_init(&task->key_buffer.wbuf, 0);
    rill__wbuf_init(&task->value_buffer.wbuf, 0);

    guint n = task->sub->nodes->len;
    guint edges = 0;
    for (guint i = 0; i < n; i++)
        edges += ((rill__node_t *)g_ptr_array_index(task->sub->nodes, i))->children->len;
    task->pnodes = g_new0(rill__pnode_t, n);
    task->child_slots = g_new0(rill__pnode_t *, edges + 1);
    guint slot = 0;
    for (guint i = 0; i < n; i++) {
        const rill__node_t *node = g_ptr_array_index(task->sub->nodes, i);
        rill__pnode_t *pnode = &task->pnodes[i];
        pnode->node = node;
        pnode->task = task;
        pnode->children = &task->child_slots[slot];
        pnode->child_count = (int)node->children->len;
        for (guint c = 0; c < node->children->len; c++) {
            const rill__node_t *child = g_ptr_array_index(node->children, c);
            task->child_slots[slot++] = &task->pnodes[child->index];
        }
    }
    /* init in creation order (parents first); a failure unwinds what is made */
    task->punctuating = g_ptr_array_new();
    for (guint i = 0; i < n; i++) {
        rill__pnode_t *pnode = &task->pnodes[i];
        if (pnode->node->ops->punctuate != NULL)
            g_ptr_array_add(task->punctuating, pnode);
        if (pnode->node->ops->init == NULL)
            continue;
        if (pnode->node->ops->init(pnode, error) != RILL_OK) {
            rill_error_prefix(error, "task %s: initializing %s: ", task->id, pnode->node->name);
            task->initialized = i;
            rill__task_destroy(task);
            return NULL;
        }
    }
    task->initialized = n;
    return task;
}

const rill__task_env_t *rill__task_env(const rill_task_t *task)
{
    return &task->env;
}

void *rill__task_state(const rill_task_t *task)
{
    return task->state;
}

void rill__task_set_state(rill_task_t *task, void *state,
                          rill_err_t (*flush)(void *state, rill_error_t **error),
                          void (*free_fn)(void *state))
{
    g_assert(task->state == NULL);
    task->state = state;
    task->state_flush = flush;
    task->state_free = free_fn;
}

void rill__task_mark_dirty(rill_task_t *task)
{
    task->dirty = true;
}

bool rill__task_dirty(const rill_task_t *task)
{
    return task->dirty;
}

const char *rill__task_id(const rill_task_t *task)
{
    return task->id;
}

void rill__task_stats(const rill_task_t *task, rill__task_stats_t *stats)
{
    *stats = task->stats;
}

void rill__task_set_state_sizes(rill_task_t *task,
                                void (*sizes)(void *state, rill__store_size_fn fn, void *ud))
{
    task->state_sizes = sizes;
}

void rill__task_store_sizes(rill_task_t *task, rill__store_size_fn fn, void *ud)
{
    if (task->state != NULL && task->state_sizes != NULL)
        task->state_sizes(task->state, fn, ud);
}

const char *rill__drop_reason_name(rill__drop_reason_t reason)
{
    static const char *const names[RILL__DROP_REASON_COUNT] = {
        [RILL__DROP_LATE] = "late",
        [RILL__DROP_DESERIALIZATION] = "deserialization",
        [RILL__DROP_PROCESSING] = "processing",
        [RILL__DROP_PRODUCTION] = "production",
        [RILL__DROP_NULL_KEY] = "null_key",
        [RILL__DROP_INVALID_TIMESTAMP] = "invalid_timestamp",
        [RILL__DROP_JOIN_MISS] = "join_miss",
    };
    if ((unsigned)reason < RILL__DROP_REASON_COUNT)
        return names[reason];
    return "unknown";
}

void rill__task_record_dropped(rill_task_t *task, rill__drop_reason_t reason)
{
    g_assert((unsigned)reason < RILL__DROP_REASON_COUNT);
    task->stats.dropped[reason]++;
}

int64_t rill__task_stream_time(const rill_task_t *task)
{
    return task->stream_time;
}

static rill__pnode_t *find_source(rill_task_t *task, const char *topic)
{
    GPtrArray *sources = task->sub->sources;
    if (sources->len == 1) { /* the common case: one source of one topic */
        const rill__node_t *node = g_ptr_array_index(sources, 0);
        if (strcmp(node->source.topic, topic) == 0)
            return &task->pnodes[node->index];
    }
    const rill__node_t *node = rill__subtopology_source(task->sub, topic);
    return node != NULL ? &task->pnodes[node->index] : NULL;
}

rill_err_t rill__task_process(rill_task_t *task, const rill__raw_record_t *raw,
                              rill_error_t **error)
{
    rill__pnode_t *source =
        raw != NULL && raw->topic != NULL ? find_source(task, raw->topic) : NULL;
    if (source == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "task %s does not read topic '%s'",
                              task->id, raw != NULL && raw->topic != NULL ? raw->topic : "(null)");
    const rill__source_spec_t *spec = &source->node->source;
    task->stats.processed++;
    task->raw = raw;
    task->failed_node = NULL;
    task->production_failed = false;

    rill_record_t record = {
        .key = RILL__VALUE_NULL_INIT,
        .value = RILL__VALUE_NULL_INIT,
        .timestamp = raw->timestamp,
        .topic = raw->topic,
        .partition = raw->partition,
        .offset = raw->offset,
        .headers = raw->headers,
        .header_count = raw->header_count,
    };
    rill_error_t *cause = NULL;
    const rill_serde_t *key_serde =
        spec->key_serde != NULL ? spec->key_serde : task->default_key_serde;
    const rill_serde_t *value_serde =
        spec->value_serde != NULL ? spec->value_serde : task->default_value_serde;
    rill_err_t err = rill__serde_deserialize_fast(key_serde, raw->key, raw->key_len, &record.key,
                                                  &task->key_scratch, &cause);
    if (err != RILL_OK)
        rill_error_prefix(&cause, "key: ");
    else if ((err = rill__serde_deserialize_fast(value_serde, raw->value, raw->value_len,
                                                 &record.value, &task->value_scratch, &cause)) !=
             RILL_OK)
        rill_error_prefix(&cause, "value: ");
    if (err == RILL_OK) {
        int64_t ts = raw->timestamp;
        if (spec->timestamp == RILL_TIMESTAMP_WALL_CLOCK)
            ts = task_wall_clock(task);
        else if (spec->timestamp == RILL_TIMESTAMP_USER)
            ts = spec->timestamp_fn(&record, task->stream_time, spec->timestamp_user_data);
        if (ts < 0)
            err = rill_error_set(
                &cause, RILL_ERR_CORRUPT, "invalid timestamp %" PRId64 " (from the %s)", ts,
                spec->timestamp == RILL_TIMESTAMP_USER ? "timestamp extractor" : "record");
        record.timestamp = ts;
    }
    if (err != RILL_OK) {
        rill__record_release(&record);
        err = handle_error(task, STAGE_DESERIALIZATION, cause, error);
        task->raw = NULL;
        return err;
    }
    if (record.timestamp > task->stream_time)
        task->stream_time = record.timestamp;

    err = rill__pnode_forward(source, &record, &cause); /* what source_process does */
    rill__record_release(&record);
    if (err == RILL_OK && task->punctuating->len > 0)
        err = punctuate(task, task->stream_time, -1, &cause);
    if (err != RILL_OK) {
        if (task->production_failed) { /* decided by the production handler already */
            if (error != NULL && *error == NULL)
                *error = cause;
            else
                rill_error_destroy(cause);
        } else {
            err = handle_error(task, STAGE_PROCESSING, cause, error);
        }
    }
    task->raw = NULL;
    return err;
}

/* Fires what is due at stream_time and wall_ms (-1: do not fire that kind). */
static rill_err_t punctuate(rill_task_t *task, int64_t stream_time, int64_t wall_ms,
                            rill_error_t **error)
{
    for (guint i = 0; i < task->punctuating->len; i++) {
        rill__pnode_t *pnode = g_ptr_array_index(task->punctuating, i);
        task->failed_node = NULL;
        rill_err_t err = pnode->node->ops->punctuate(pnode, stream_time, wall_ms, error);
        if (err != RILL_OK) {
            rill_error_prefix(error, "task %s: punctuating %s: ", task->id, pnode->node->name);
            return err;
        }
    }
    return RILL_OK;
}

rill_err_t rill__task_punctuate(rill_task_t *task, int64_t wall_ms, rill_error_t **error)
{
    return punctuate(task, task->stream_time, wall_ms, error);
}

/* Calls each node's flush (marks false) or flush_marks (true), then flushes the stores. */
static rill_err_t flush_phase(rill_task_t *task, bool marks, rill_error_t **error)
{
    /* parents first: what a parent's flush forwards reaches its children
     * before they flush in turn */
    bool any = !marks;
    for (guint i = 0; i < task->initialized; i++) {
        rill__pnode_t *pnode = &task->pnodes[i];
        rill_err_t (*flush)(rill__pnode_t *, rill_error_t **) =
            marks ? pnode->node->ops->flush_marks : pnode->node->ops->flush;
        if (flush == NULL)
            continue;
        any = true;
        task->failed_node = NULL;
        rill_err_t err = flush(pnode, error);
        if (err != RILL_OK) {
            rill_error_prefix(error, "task %s: flushing %s: ", task->id, pnode->node->name);
            return err;
        }
    }
    if (any && task->state_flush != NULL) {
        rill_err_t err = task->state_flush(task->state, error);
        if (err != RILL_OK) {
            rill_error_prefix(error, "task %s: flushing its stores: ", task->id);
            return err;
        }
    }
    return RILL_OK;
}

rill_err_t rill__task_flush_stores(rill_task_t *task, rill_error_t **error)
{
    return flush_phase(task, false, error);
}

rill_err_t rill__task_flush_marks(rill_task_t *task, rill_error_t **error)
{
    return flush_phase(task, true, error);
}

rill_err_t rill__task_flush(rill_task_t *task, rill_error_t **error)
{
    rill_err_t err = rill__task_flush_stores(task, error);
    return err == RILL_OK ? rill__task_flush_marks(task, error) : err;
}

void rill__task_store_opened(rill_task_t *task, const char *name, struct rill__kv_store *store)
{
    if (task->env.store_opened != NULL)
        task->env.store_opened(task->env.store_ud, task, task->sub->id, task->partition, name,
                               store);
}

void rill__task_destroy(rill_task_t *task)
{
    if (task == NULL)
        return;
    if (task->env.task_closing != NULL) /* no query reads its stores from here on */
        task->env.task_closing(task->env.store_ud, task);
    for (guint i = task->initialized; i-- > 0;) {
        rill__pnode_t *pnode = &task->pnodes[i];
        if (pnode->node->ops->state_free != NULL)
            pnode->node->ops->state_free(pnode);
    }
    if (task->state_free != NULL)
        task->state_free(task->state);
    if (task->punctuating != NULL)
        g_ptr_array_free(task->punctuating, TRUE);
    g_free(task->pnodes);
    g_free(task->child_slots);
    rill__wbuf_free(&task->key_scratch);
    rill__wbuf_free(&task->value_scratch);
    rill__wbuf_free(&task->key_buffer.wbuf);
    rill__wbuf_free(&task->value_buffer.wbuf);
    g_free(task);
}
