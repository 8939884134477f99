/* test-task.c: the task.h seam as a stream thread uses it (a fake sink in
 * place of the producer): processing, stream time, timestamp extractors and
 * the deserialization / processing / production error handlers. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include <rill/rill.h>

#include "runtime/node.h"
#include "runtime/task.h"

/* ---- a fake producer ----------------------------------------------------- */

typedef struct sent {
    char *topic;
    int32_t partition;
    GBytes *key;
    GBytes *value;
    int64_t timestamp;
    GHashTable *headers; /* name -> value (last wins), as strings */
    size_t header_count;
} sent_t;

typedef struct sink {
    GPtrArray *sent;
    const char *fail_topic; /* sends to it fail */
    int64_t now;
} sink_t;

static void sent_free(void *ptr)
{
    sent_t *s = ptr;
    g_free(s->topic);
    if (s->key)
        g_bytes_unref(s->key);
    if (s->value)
        g_bytes_unref(s->value);
    g_hash_table_destroy(s->headers);
    g_free(s);
}

static rill_err_t fake_send(void *ud, const char *topic, int32_t partition, const void *key,
                            size_t key_len, const void *value, size_t value_len, int64_t timestamp,
                            const rill__header_t *headers, size_t header_count,
                            rill_error_t **error)
{
    sink_t *sink = ud;
    if (sink->fail_topic != NULL && strcmp(topic, sink->fail_topic) == 0)
        return rill_error_set(error, RILL_ERR_KAFKA, "broker says no");
    sent_t *s = g_new0(sent_t, 1);
    s->topic = g_strdup(topic);
    s->partition = partition;
    s->key = key != NULL ? g_bytes_new(key, key_len) : NULL;
    s->value = value != NULL ? g_bytes_new(value, value_len) : NULL;
    s->timestamp = timestamp;
    s->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (size_t i = 0; i < header_count; i++)
        g_hash_table_insert(s->headers, g_strdup(headers[i].name),
                            g_strndup(headers[i].value, headers[i].value_len));
    s->header_count = header_count;
    g_ptr_array_add(sink->sent, s);
    return RILL_OK;
}

static int64_t fake_clock(void *ud)
{
    return ((sink_t *)ud)->now;
}

static sink_t *sink_new(void)
{
    sink_t *sink = g_new0(sink_t, 1);
    sink->sent = g_ptr_array_new_with_free_func(sent_free);
    return sink;
}

static void sink_free(sink_t *sink)
{
    g_ptr_array_free(sink->sent, TRUE);
    g_free(sink);
}

static rill__task_env_t env_for(sink_t *sink, rill_on_error_t on_error)
{
    rill__task_env_t env = {
        .sink = {.send = fake_send, .ud = sink},
        .application_id = "app",
        .wall_clock_ms = fake_clock,
        .clock_ud = sink,
        .handlers = {on_error, on_error, on_error, "dlq"},
    };
    return env;
}

static rill_err_t process(rill_task_t *task, const char *topic, int64_t offset, const char *key,
                          const void *value, size_t value_len, int64_t timestamp,
                          rill_error_t **error)
{
    static const rill__header_t headers[] = {{"trace", "t-1", 3}};
    rill__raw_record_t raw = {
        .topic = topic,
        .partition = 3,
        .offset = offset,
        .timestamp = timestamp,
        .key = key,
        .key_len = key != NULL ? strlen(key) : 0,
        .value = value,
        .value_len = value_len,
        .headers = headers,
        .header_count = 1,
    };
    return rill__task_process(task, &raw, error);
}

static const char *header(const sent_t *s, const char *name)
{
    return g_hash_table_lookup(s->headers, name);
}

/* ---- topologies ---------------------------------------------------------- */

static rill_err_t fail_on_bad(const rill_record_t *record, rill_value_t *out, void *user_data,
                              rill_error_t **error)
{
    if (rill_value_int64(rill_record_value(record)) < 0)
        return rill_error_set(error, RILL_ERR_USER, "negative amount %" G_GINT64_FORMAT,
                              rill_value_int64(rill_record_value(record)));
    rill_value_set_int64(out, rill_value_int64(rill_record_value(record)) * 2);
    return RILL_OK;
}

static int64_t ts_from_value(const rill_record_t *record, int64_t partition_time, void *user_data)
{
    return rill_value_int64(rill_record_value(record)); /* the value is the event time */
}

/* amounts (string key, int64 value) doubled into "doubled"; the timestamp kind is a parameter */
static rill_topology_t *doubling(rill_timestamp_kind_t kind)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {
        .key_serde = rill_serde_string(),
        .value_serde = rill_serde_int64(),
        .timestamp = kind,
        .timestamp_fn = ts_from_value,
    };
    rill_stream_t *in = rill_builder_stream(builder, "amounts", &consumed);
    rill_stream_to(rill_stream_map_values(in, fail_on_bad, NULL, "double"), "doubled", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    assert_non_null(topology);
    rill_builder_destroy(builder);
    return topology;
}

static const uint8_t be_21[8] = {0, 0, 0, 0, 0, 0, 0, 21};
static const uint8_t be_minus_1[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* ---- tests ----------------------------------------------------------------- */

static void test_task__processes_and_sends_serialized(void **state)
{
    rill_topology_t *topology = doubling(RILL_TIMESTAMP_RECORD);
    sink_t *sink = sink_new();
    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_error_t *error = NULL;
    rill_task_t *task = rill__task_new(topology, 0, 3, &env, &error);
    assert_non_null(task);
    assert_string_equal(rill__task_id(task), "0_3");
    assert_int_equal(rill__task_stream_time(task), -1);
    assert_int_equal(process(task, "amounts", 0, "ann", be_21, 8, 1000, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 1);
    sent_t *s = g_ptr_array_index(sink->sent, 0);
    assert_string_equal(s->topic, "doubled");
    assert_int_equal(s->partition, -1); /* the producer's partitioner decides */
    assert_int_equal(s->timestamp, 1000);
    assert_memory_equal(g_bytes_get_data(s->key, NULL), "ann", 3);
    const uint8_t be_42[8] = {0, 0, 0, 0, 0, 0, 0, 42};
    assert_memory_equal(g_bytes_get_data(s->value, NULL), be_42, 8);
    assert_string_equal(header(s, "trace"), "t-1"); /* headers pass through */
    assert_int_equal(rill__task_flush(task, &error), RILL_OK);
    assert_int_equal(rill__task_punctuate(task, 5, &error), RILL_OK);

    /* a record of a topic the task does not read is a caller's error */
    assert_int_equal(process(task, "other", 1, "k", be_21, 8, 1, &error), RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(rill_error_message(error), "does not read topic 'other'"));
    rill_error_destroy(error);
    rill__task_destroy(task);
    sink_free(sink);
    rill_topology_destroy(topology);
}

static void test_task__stream_time_is_the_max_timestamp(void **state)
{
    rill_topology_t *topology = doubling(RILL_TIMESTAMP_RECORD);
    sink_t *sink = sink_new();
    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_task_t *task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 0, "a", be_21, 8, 500, NULL), RILL_OK);
    assert_int_equal(rill__task_stream_time(task), 500);
    assert_int_equal(process(task, "amounts", 1, "a", be_21, 8, 300, NULL), RILL_OK);
    assert_int_equal(rill__task_stream_time(task), 500); /* late records do not move it back */
    assert_int_equal(((sent_t *)g_ptr_array_index(sink->sent, 1))->timestamp, 300);
    assert_int_equal(process(task, "amounts", 2, "a", be_21, 8, 900, NULL), RILL_OK);
    assert_int_equal(rill__task_stream_time(task), 900);
    rill__task_destroy(task);
    sink_free(sink);
    rill_topology_destroy(topology);
}

static void test_task__timestamp_extractors(void **state)
{
    sink_t *sink = sink_new();
    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    sink->now = 777000;

    rill_topology_t *topology = doubling(RILL_TIMESTAMP_WALL_CLOCK);
    rill_task_t *task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 0, "a", be_21, 8, 5, NULL), RILL_OK);
    assert_int_equal(((sent_t *)g_ptr_array_index(sink->sent, 0))->timestamp, 777000);
    assert_int_equal(rill__task_stream_time(task), 777000);
    rill__task_destroy(task);
    rill_topology_destroy(topology);

    topology = doubling(RILL_TIMESTAMP_USER);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 0, "a", be_21, 8, 5, NULL), RILL_OK);
    assert_int_equal(((sent_t *)g_ptr_array_index(sink->sent, 1))->timestamp, 21);
    /* a negative event time is rejected as a bad record (default: fail) */
    rill_error_t *error = NULL;
    assert_int_equal(process(task, "amounts", 1, "a", be_minus_1, 8, 5, &error), RILL_ERR_CORRUPT);
    assert_non_null(strstr(rill_error_message(error), "invalid timestamp -1"));
    assert_non_null(strstr(rill_error_message(error), "deserialization error on amounts@3/1"));
    rill_error_destroy(error);
    rill__task_destroy(task);
    rill_topology_destroy(topology);

    /* the record's own timestamp, when missing (-1), is rejected too */
    topology = doubling(RILL_TIMESTAMP_RECORD);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    error = NULL;
    assert_int_equal(process(task, "amounts", 0, "a", be_21, 8, -1, &error), RILL_ERR_CORRUPT);
    rill_error_destroy(error);
    assert_int_equal(rill__task_stream_time(task), -1);
    rill__task_destroy(task);
    rill_topology_destroy(topology);
    sink_free(sink);
}

static void test_task__deserialization_handlers(void **state)
{
    rill_topology_t *topology = doubling(RILL_TIMESTAMP_RECORD);
    sink_t *sink = sink_new();
    rill_error_t *error = NULL;

    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_task_t *task = rill__task_new(topology, 0, 3, &env, NULL);
    assert_int_equal(process(task, "amounts", 7, "a", "abc", 3, 1, &error), RILL_ERR_SERDE);
    assert_string_equal(rill_error_message(error),
                        "task 0_3: deserialization error on amounts@3/7: value: "
                        "int64 serde: expected 8 bytes, got 3");
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(process(task, "amounts", 8, "bad\xff", be_21, 8, 1, &error), RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "key: string serde: invalid UTF-8"));
    rill_error_destroy(error);
    error = NULL;
    rill__task_destroy(task);

    env = env_for(sink, RILL_ON_ERROR_CONTINUE);
    task = rill__task_new(topology, 0, 3, &env, NULL);
    assert_int_equal(process(task, "amounts", 7, "a", "abc", 3, 1, &error), RILL_OK);
    assert_null(error);
    assert_int_equal(sink->sent->len, 0);
    assert_int_equal(process(task, "amounts", 8, "a", be_21, 8, 1, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 1); /* the next record goes on */
    for (int i = 0; i < 2000; i++)        /* logged 10 times, then once per 1000 */
        assert_int_equal(process(task, "amounts", 9 + i, "a", "abc", 3, 1, &error), RILL_OK);
    rill__task_stats_t stats;
    rill__task_stats(task, &stats);
    assert_int_equal(stats.processed, 2002);
    assert_int_equal(stats.skipped, 2001);
    assert_int_equal(stats.dead_lettered, 0);
    rill__task_destroy(task);

    env = env_for(sink, RILL_ON_ERROR_DEAD_LETTER);
    task = rill__task_new(topology, 0, 3, &env, NULL);
    assert_int_equal(process(task, "amounts", 9, "k", "abc", 3, 44, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 2);
    sent_t *dead = g_ptr_array_index(sink->sent, 1);
    assert_string_equal(dead->topic, "dlq");
    assert_memory_equal(g_bytes_get_data(dead->value, NULL), "abc", 3); /* the input, as is */
    assert_memory_equal(g_bytes_get_data(dead->key, NULL), "k", 1);
    assert_int_equal(dead->timestamp, 44);
    assert_string_equal(header(dead, "trace"), "t-1");
    assert_string_equal(header(dead, "rill.error"), "value: int64 serde: expected 8 bytes, got 3");
    assert_string_equal(header(dead, "rill.error.code"), "RILL_ERR_SERDE");
    assert_string_equal(header(dead, "rill.error.stage"), "deserialization");
    assert_string_equal(header(dead, "rill.error.topic"), "amounts");
    assert_string_equal(header(dead, "rill.error.partition"), "3");
    assert_string_equal(header(dead, "rill.error.offset"), "9");
    assert_null(header(dead, "rill.error.node"));
    rill__task_stats(task, &stats);
    assert_int_equal(stats.dead_lettered, 1);
    assert_int_equal(stats.skipped, 0);
    rill__task_destroy(task);

    /* dead letters without a topic are refused up front */
    env.handlers.dead_letter_topic = NULL;
    assert_null(rill__task_new(topology, 0, 3, &env, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_CONFIG);
    rill_error_destroy(error);
    sink_free(sink);
    rill_topology_destroy(topology);
}

static void test_task__processing_handlers(void **state)
{
    rill_topology_t *topology = doubling(RILL_TIMESTAMP_RECORD);
    sink_t *sink = sink_new();
    rill_error_t *error = NULL;

    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_task_t *task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 4, "a", be_minus_1, 8, 1, &error), RILL_ERR_USER);
    assert_string_equal(rill_error_message(error),
                        "task 0_0: processing error on amounts@3/4 in double: negative amount -1");
    rill_error_destroy(error);
    error = NULL;
    rill__task_destroy(task);

    env = env_for(sink, RILL_ON_ERROR_CONTINUE);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 4, "a", be_minus_1, 8, 1, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 0);
    rill__task_destroy(task);

    env = env_for(sink, RILL_ON_ERROR_DEAD_LETTER);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 4, "a", be_minus_1, 8, 1, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 1);
    sent_t *dead = g_ptr_array_index(sink->sent, 0);
    assert_string_equal(dead->topic, "dlq");
    assert_memory_equal(g_bytes_get_data(dead->value, NULL), be_minus_1, 8);
    assert_string_equal(header(dead, "rill.error"), "negative amount -1");
    assert_string_equal(header(dead, "rill.error.code"), "RILL_ERR_USER");
    assert_string_equal(header(dead, "rill.error.stage"), "processing");
    assert_string_equal(header(dead, "rill.error.node"), "double");
    rill__task_destroy(task);
    sink_free(sink);
    rill_topology_destroy(topology);
}

static rill_err_t to_text(const rill_record_t *record, rill_value_t *out, void *user_data,
                          rill_error_t **error)
{
    rill_value_set_string(out, "text", NULL);
    return RILL_OK;
}

static void test_task__production_handlers(void **state)
{
    rill_topology_t *topology = doubling(RILL_TIMESTAMP_RECORD);
    sink_t *sink = sink_new();
    sink->fail_topic = "doubled";
    rill_error_t *error = NULL;

    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_task_t *task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 1, "a", be_21, 8, 1, &error), RILL_ERR_KAFKA);
    assert_string_equal(rill_error_message(error),
                        "task 0_0: production error on amounts@3/1: "
                        "sink KSTREAM-SINK-0000000002 (topic doubled): broker says no");
    rill_error_destroy(error);
    error = NULL;
    rill__task_destroy(task);

    env = env_for(sink, RILL_ON_ERROR_CONTINUE);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 1, "a", be_21, 8, 1, &error), RILL_OK);
    rill__task_destroy(task);

    env = env_for(sink, RILL_ON_ERROR_DEAD_LETTER);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 1, "a", be_21, 8, 1, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 1);
    sent_t *dead = g_ptr_array_index(sink->sent, 0);
    assert_string_equal(dead->topic, "dlq");
    assert_string_equal(header(dead, "rill.error.stage"), "production");
    assert_string_equal(header(dead, "rill.error.code"), "RILL_ERR_KAFKA");
    rill__task_destroy(task);
    rill_topology_destroy(topology);

    /* a value the sink's serde cannot write is a production error too */
    sink->fail_topic = NULL;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "amounts", NULL);
    rill_produced_t produced = {.value_serde = rill_serde_int64()};
    rill_stream_to(rill_stream_map_values(in, to_text, NULL, NULL), "out", &produced);
    topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    env = env_for(sink, RILL_ON_ERROR_FAIL);
    task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 1, "a", be_21, 8, 1, &error), RILL_ERR_SERDE);
    assert_non_null(
        strstr(rill_error_message(error), "int64 serde cannot serialize a string value"));
    assert_non_null(strstr(rill_error_message(error), "production error"));
    rill_error_destroy(error);
    rill__task_destroy(task);
    rill_topology_destroy(topology);
    sink_free(sink);
}

static void test_task__new_rejects_bad_arguments(void **state)
{
    rill_topology_t *topology = doubling(RILL_TIMESTAMP_RECORD);
    sink_t *sink = sink_new();
    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_error_t *error = NULL;
    assert_null(rill__task_new(topology, 1, 0, &env, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
    error = NULL;
    env.sink.send = NULL;
    assert_null(rill__task_new(topology, 0, 0, &env, &error));
    rill_error_destroy(error);
    sink_free(sink);
    rill_topology_destroy(topology);
}

/* a node that holds the last record's value back until flush */
typedef struct holder {
    int64_t held;
    bool has;
} holder_t;

static rill_err_t hold_init(rill__pnode_t *pnode, rill_error_t **error)
{
    pnode->state = g_new0(holder_t, 1);
    return RILL_OK;
}

static void hold_free(rill__pnode_t *pnode)
{
    g_free(pnode->state);
}

static rill_err_t hold_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    holder_t *holder = pnode->state;
    holder->held = rill_value_int64(rill_record_value(record));
    holder->has = true;
    return RILL_OK;
}

static rill_err_t hold_flush(rill__pnode_t *pnode, rill_error_t **error)
{
    holder_t *holder = pnode->state;
    if (!holder->has)
        return RILL_OK;
    if (holder->held < 0)
        return rill_error_set(error, RILL_ERR_STORE, "cannot write %" G_GINT64_FORMAT,
                              holder->held);
    rill_record_t out = {.key = RILL__VALUE_NULL_INIT,
                         .value = RILL__VALUE_NULL_INIT,
                         .timestamp = 1,
                         .partition = -1,
                         .offset = -1};
    rill_value_set_int64(&out.value, holder->held);
    holder->has = false;
    return rill__pnode_forward(pnode, &out, error);
}

static const rill__node_ops_t hold_ops = {
    .kind = "HOLD",
    .process = hold_process,
    .init = hold_init,
    .state_free = hold_free,
    .flush = hold_flush,
};

static void test_task__flush_reaches_buffering_nodes(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.value_serde = rill_serde_int64()};
    rill_stream_t *in = rill_builder_stream(builder, "amounts", &consumed);
    rill_stream_t *held = rill__builder_add_processor(&in, 1, &hold_ops, NULL, "hold", false);
    rill_stream_to(held, "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    sink_t *sink = sink_new();
    rill__task_env_t env = env_for(sink, RILL_ON_ERROR_FAIL);
    rill_task_t *task = rill__task_new(topology, 0, 0, &env, NULL);
    assert_int_equal(process(task, "amounts", 0, NULL, be_21, 8, 1, NULL), RILL_OK);
    assert_int_equal(sink->sent->len, 0);
    rill_error_t *error = NULL;
    assert_int_equal(rill__task_flush(task, &error), RILL_OK);
    assert_int_equal(sink->sent->len, 1);
    sent_t *s = g_ptr_array_index(sink->sent, 0);
    assert_memory_equal(g_bytes_get_data(s->value, NULL), be_21, 8);
    assert_int_equal(process(task, "amounts", 1, NULL, be_minus_1, 8, 1, NULL), RILL_OK);
    assert_int_equal(rill__task_flush(task, &error), RILL_ERR_STORE);
    assert_string_equal(rill_error_message(error), "task 0_0: flushing hold: cannot write -1");
    rill_error_destroy(error);
    rill__task_destroy(task);
    sink_free(sink);
    rill_topology_destroy(topology);
}

static void test_task__on_error_parse(void **state)
{
    assert_int_equal(rill__on_error_parse("fail"), RILL_ON_ERROR_FAIL);
    assert_int_equal(rill__on_error_parse("Log-And-Continue"), RILL_ON_ERROR_CONTINUE);
    assert_int_equal(rill__on_error_parse("dlq"), RILL_ON_ERROR_DEAD_LETTER);
    assert_int_equal(
        rill__on_error_parse("org.apache.kafka.streams.errors.LogAndContinueExceptionHandler"),
        RILL_ON_ERROR_CONTINUE);
    assert_int_equal(rill__on_error_parse("LogAndFailProcessingExceptionHandler"),
                     RILL_ON_ERROR_FAIL);
    assert_int_equal(rill__on_error_parse("XLogAndContinueExceptionHandler"), -1);
    assert_int_equal(rill__on_error_parse("sometimes"), -1);
    assert_int_equal(rill__on_error_parse(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task__processes_and_sends_serialized),
        cmocka_unit_test(test_task__stream_time_is_the_max_timestamp),
        cmocka_unit_test(test_task__timestamp_extractors),
        cmocka_unit_test(test_task__deserialization_handlers),
        cmocka_unit_test(test_task__processing_handlers),
        cmocka_unit_test(test_task__production_handlers),
        cmocka_unit_test(test_task__new_rejects_bad_arguments),
        cmocka_unit_test(test_task__on_error_parse),
        cmocka_unit_test(test_task__flush_reaches_buffering_nodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
