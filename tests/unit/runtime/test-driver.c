/* test-driver.c: the test driver: repartition loop-back across partitions,
 * typed input, headers, the wall clock and punctuators, stream time per
 * task, dropped-record counts by reason, and its guards (unknown topics, self-feeding topologies). */
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
#include "runtime/partitioner.h"

static rill_err_t key_by_value(const rill_record_t *record, rill_value_t *out, void *user_data,
                               rill_error_t **error)
{
    rill_value_set_view(out, rill_record_value(record));
    return RILL_OK;
}

static void remember_partition(const rill_record_t *record, void *user_data)
{
    GArray *partitions = user_data;
    int32_t partition = rill_record_partition(record);
    g_array_append_val(partitions, partition);
}

static void test_driver__repartition_loops_back_by_new_key(void **state)
{
    GArray *seen = g_array_new(FALSE, FALSE, sizeof(int32_t));
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t strings = {.key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()};
    rill_stream_t *in = rill_builder_stream(builder, "pages", &strings);
    rill_produced_t by_user = {.name = "by-user"};
    rill_stream_t *re =
        rill_stream_repartition(rill_stream_select_key(in, key_by_value, NULL, NULL), &by_user);
    rill_stream_to(rill_stream_peek(re, remember_partition, seen, NULL), "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);

    rill_driver_config_t config = {.application_id = "shop", .partitions = 4};
    rill_error_t *error = NULL;
    rill_driver_t *driver = rill_driver_new(topology, &config, &error);
    const char *users[] = {"ann", "bob", "cy", "dee", "ann"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(
            rill_driver_pipe_string(driver, "pages", "page", users[i], 100 + i, &error), RILL_OK);
    /* the internal topic is not an output, and is named after the app */
    assert_int_equal(rill_driver_output_size(driver, "shop-by-user-repartition"), 0);
    assert_int_equal(rill_driver_output_size(driver, "out"), 5);
    for (int i = 0; i < 5; i++) {
        rill_record_t *r = rill_driver_read_output(driver, "out", rill_serde_string(),
                                                   rill_serde_string(), &error);
        assert_non_null(r);
        assert_string_equal(rill_value_string(rill_record_key(r)), users[i]);
        assert_int_equal(rill_record_timestamp(r), 100 + i);
        /* read back from the partition murmur2(new key) chose */
        int32_t expected = rill__default_partition(users[i], strlen(users[i]), 4);
        assert_int_equal(g_array_index(seen, int32_t, i), expected);
        rill_record_destroy(r);
    }
    /* the downstream tasks are 1_<p> for the partitions used */
    int32_t p_ann = rill__default_partition("ann", 3, 4);
    char id[16];
    g_snprintf(id, sizeof id, "1_%d", p_ann);
    assert_int_equal(rill_driver_stream_time(driver, id), 104);
    assert_int_equal(rill_driver_stream_time(driver, "7_0"), -1);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
    g_array_free(seen, TRUE);
}

static void test_driver__typed_input_headers_offsets(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_int32(),
                                .value_serde = rill_serde_double()};
    rill_stream_to(rill_builder_stream(builder, "in", &consumed), "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_driver_t *driver = rill_driver_new(topology, NULL, NULL);

    rill_value_t *key = rill_value_new(), *value = rill_value_new();
    rill_value_set_int32(key, 7);
    rill_value_set_double(value, 0.25);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_values(driver, "in", rill_serde_int32(), key,
                                             rill_serde_double(), value, 5, &error),
                     RILL_OK);
    rill_header_t headers[] = {{"a", "1", 1}, {"nullh", NULL, 0}, {"a", "2", 1}};
    uint8_t key_bytes[4] = {0, 0, 0, 8};
    uint8_t value_bytes[8] = {0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}; /* pi */
    rill_driver_input_t input = {key_bytes, 4, value_bytes, 8, 6, 0, headers, 3};
    assert_int_equal(rill_driver_pipe(driver, "in", &input, &error), RILL_OK);

    rill_record_t *r =
        rill_driver_read_output(driver, "out", rill_serde_int32(), rill_serde_double(), &error);
    assert_int_equal(rill_value_int32(rill_record_key(r)), 7);
    assert_true(rill_value_double(rill_record_value(r)) == 0.25);
    assert_int_equal(rill_record_offset(r), 0);
    assert_string_equal(rill_record_topic(r), "out");
    assert_int_equal(rill_record_header_count(r), 0);
    rill_record_destroy(r);
    r = rill_driver_read_output(driver, "out", rill_serde_int32(), rill_serde_double(), &error);
    assert_int_equal(rill_value_int32(rill_record_key(r)), 8);
    assert_true(rill_value_double(rill_record_value(r)) > 3.14159 &&
                rill_value_double(rill_record_value(r)) < 3.1416);
    assert_int_equal(rill_record_offset(r), 1);
    assert_int_equal(rill_record_partition(r), 0);
    assert_int_equal(rill_record_header_count(r), 3);
    size_t len = 9;
    assert_memory_equal(rill_record_header_last(r, "a", &len), "2", 1);
    assert_int_equal(len, 1);
    const char *name;
    const void *hv = "x";
    assert_true(rill_record_header(r, 1, &name, &hv, &len));
    assert_string_equal(name, "nullh");
    assert_null(hv);
    assert_false(rill_record_header(r, 3, &name, &hv, &len));
    assert_null(rill_record_header_last(r, "missing", &len));
    rill_record_destroy(r);

    /* reading with the wrong serde fails clearly and consumes the record */
    assert_int_equal(rill_driver_pipe_string(driver, "in", "abc", "x", 7, &error), RILL_ERR_SERDE);
    rill_error_destroy(error);
    error = NULL;
    rill_value_set_int32(key, 1);
    assert_int_equal(
        rill_driver_pipe_values(driver, "in", rill_serde_int32(), key, NULL, NULL, 8, &error),
        RILL_OK);
    assert_null(
        rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_string(), &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "reading out@0/2: key: string serde"));
    rill_error_destroy(error);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    rill_value_destroy(key);
    rill_value_destroy(value);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

static void test_driver__guards(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *loop = rill_builder_stream(builder, "loop", NULL);
    rill_stream_to(loop, "loop", NULL); /* writes to its own input */
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_error_t *error = NULL;
    rill_driver_t *driver = rill_driver_new(topology, NULL, &error);
    assert_int_equal(rill_driver_pipe_string(driver, "nope", "k", "v", 1, &error),
                     RILL_ERR_NOT_FOUND);
    assert_non_null(strstr(rill_error_message(error), "reads no topic 'nope'"));
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "loop", "k", "v", 1, &error),
                     RILL_ERR_INVALID_STATE);
    assert_non_null(strstr(rill_error_message(error), "looped back"));
    rill_error_destroy(error);
    error = NULL;
    rill_driver_input_t input = {.partition = 5};
    assert_int_equal(rill_driver_pipe(driver, "loop", &input, &error), RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_driver_advance_wall_clock(driver, -1, &error), RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
    error = NULL;
    rill_driver_destroy(driver);

    rill_driver_config_t config = {.handlers = {.processing = RILL_ON_ERROR_DEAD_LETTER}};
    assert_null(rill_driver_new(topology, &config, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_CONFIG);
    rill_error_destroy(error);
    rill_topology_destroy(topology);
}

/* a processor that counts records and emits the count on each punctuation */
typedef struct counter {
    int64_t count;
    GArray *fired; /* timestamps, for the test */
} counter_t;

static rill_err_t emit_count(rill_context_t *context, int64_t timestamp, void *state,
                             rill_error_t **error)
{
    counter_t *counter = state;
    g_array_append_val(counter->fired, timestamp);
    rill_value_t *value = rill_value_new();
    rill_value_set_int64(value, counter->count);
    rill_err_t err = rill_context_forward_values(context, NULL, NULL, value, timestamp, error);
    rill_value_destroy(value);
    return err;
}

static rill_err_t counter_init(rill_context_t *context, void *user_data, void **state,
                               rill_error_t **error)
{
    counter_t *counter = g_new0(counter_t, 1);
    counter->fired = user_data;
    *state = counter;
    const char *kind = g_getenv("RILL_TEST_PUNCTUATE");
    rill_punctuation_type_t type = kind != NULL && strcmp(kind, "stream") == 0
                                       ? RILL_PUNCTUATE_STREAM_TIME
                                       : RILL_PUNCTUATE_WALL_CLOCK;
    assert_string_equal(rill_context_task_id(context), "0_0");
    assert_int_equal(rill_context_partition(context), 0);
    return rill_context_schedule(context, 1000, type, emit_count, error);
}

static rill_err_t counter_process(rill_context_t *context, const rill_record_t *record, void *state,
                                  rill_error_t **error)
{
    ((counter_t *)state)->count++;
    return rill_context_forward(context, record, error);
}

static void counter_close(void *state, void *user_data)
{
    g_free(state);
}

static rill_topology_t *counting(GArray *fired)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {counter_init, counter_process, counter_close, fired};
    const char *stores[] = {"counts", NULL};
    rill_stream_t *counted = rill_stream_process(rill_builder_stream(builder, "in", NULL),
                                                 &processor, stores, "counter");
    rill_stream_to(counted, "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    return topology;
}

static void test_driver__wall_clock_punctuation(void **state)
{
    g_unsetenv("RILL_TEST_PUNCTUATE");
    GArray *fired = g_array_new(FALSE, FALSE, sizeof(int64_t));
    rill_topology_t *topology = counting(fired);
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "Processor: counter (stores: [counts])"));
    rill_driver_config_t config = {.wall_clock_ms = 10000};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    assert_int_equal(rill_driver_wall_clock(driver), 10000);
    rill_driver_pipe_string(driver, "in", "k", "a", 1, NULL);
    rill_driver_pipe_string(driver, "in", "k", "b", 2, NULL);
    assert_int_equal(fired->len, 0);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 999, NULL), RILL_OK);
    assert_int_equal(fired->len, 0);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 1, NULL), RILL_OK);
    assert_int_equal(fired->len, 1);
    assert_int_equal(g_array_index(fired, int64_t, 0), 11000);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 5500, NULL),
                     RILL_OK); /* one catch-up */
    assert_int_equal(fired->len, 2);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 500, NULL), RILL_OK); /* 17000: due */
    assert_int_equal(fired->len, 3);
    assert_int_equal(rill_driver_output_size(driver, "out"), 5);
    for (int i = 0; i < 2; i++)
        rill_record_destroy(rill_driver_read_output(driver, "out", NULL, NULL, NULL));
    rill_record_t *r = rill_driver_read_output(driver, "out", NULL, rill_serde_int64(), NULL);
    assert_int_equal(rill_value_int64(rill_record_value(r)), 2);
    assert_true(rill_value_is_null(rill_record_key(r)));
    assert_int_equal(rill_record_timestamp(r), 11000);
    rill_record_destroy(r);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
    g_array_free(fired, TRUE);
}

static void test_driver__stream_time_punctuation(void **state)
{
    g_setenv("RILL_TEST_PUNCTUATE", "stream", TRUE);
    GArray *fired = g_array_new(FALSE, FALSE, sizeof(int64_t));
    rill_topology_t *topology = counting(fired);
    rill_driver_t *driver = rill_driver_new(topology, NULL, NULL);
    rill_driver_pipe_string(driver, "in", "k", "a", 5000, NULL); /* starts the grid: due at 6000 */
    rill_driver_advance_wall_clock(driver, 100000, NULL);        /* wall time does not fire it */
    assert_int_equal(fired->len, 0);
    rill_driver_pipe_string(driver, "in", "k", "b", 5999, NULL);
    assert_int_equal(fired->len, 0);
    rill_driver_pipe_string(driver, "in", "k", "c", 6000, NULL);
    assert_int_equal(fired->len, 1);
    assert_int_equal(g_array_index(fired, int64_t, 0), 6000);
    rill_driver_pipe_string(driver, "in", "k", "late", 100, NULL); /* stream time stays 6000 */
    assert_int_equal(fired->len, 1);
    assert_int_equal(rill_driver_stream_time(driver, "0_0"), 6000);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
    g_array_free(fired, TRUE);
    g_unsetenv("RILL_TEST_PUNCTUATE");
}

static rill_err_t reject_odd(const rill_record_t *record, rill_value_t *out, void *user_data,
                             rill_error_t **error)
{
    if (rill_value_int64(rill_record_value(record)) % 2 != 0)
        return rill_error_set(error, RILL_ERR_USER, "odd");
    rill_value_set_view(out, rill_record_value(record));
    return RILL_OK;
}

static void test_driver__dead_letter_topic_is_an_output(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_int64()};
    rill_stream_to(rill_stream_map_values(rill_builder_stream(builder, "in", &consumed), reject_odd,
                                          NULL, "even-only"),
                   "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    char dlq[] = "in-dlq"; /* the driver copies the name */
    rill_driver_config_t config = {.handlers = {RILL_ON_ERROR_DEAD_LETTER,
                                                RILL_ON_ERROR_DEAD_LETTER, RILL_ON_ERROR_FAIL,
                                                dlq}};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    dlq[0] = 'X';
    rill_value_t *key = rill_value_new(), *value = rill_value_new();
    rill_value_set_string(key, "k", NULL);
    for (int64_t v = 1; v <= 4; v++) {
        rill_value_set_int64(value, v);
        assert_int_equal(rill_driver_pipe_values(driver, "in", rill_serde_string(), key,
                                                 rill_serde_int64(), value, v, NULL),
                         RILL_OK);
    }
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "short", 9, NULL), RILL_OK);
    assert_int_equal(rill_driver_output_size(driver, "out"), 2);
    assert_int_equal(rill_driver_output_size(driver, "in-dlq"), 3);
    const char *expected_stage[] = {"processing", "processing", "deserialization"};
    const int64_t expected_offset[] = {0, 2, 4};
    for (int i = 0; i < 3; i++) {
        rill_record_t *r =
            rill_driver_read_output(driver, "in-dlq", rill_serde_string(), NULL, NULL);
        size_t len;
        const char *stage = rill_record_header_last(r, "rill.error.stage", &len);
        assert_int_equal(len, strlen(expected_stage[i]));
        assert_memory_equal(stage, expected_stage[i], len);
        const char *offset = rill_record_header_last(r, "rill.error.offset", &len);
        assert_int_equal(g_ascii_strtoll(offset, NULL, 10), expected_offset[i]);
        assert_non_null(rill_record_header_last(r, "rill.error", &len));
        assert_string_equal(rill_value_string(rill_record_key(r)), "k");
        rill_record_destroy(r);
    }
    rill_value_destroy(key);
    rill_value_destroy(value);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

/* A processor standing for a windowed operator: "late" values are dropped
 * through the internal API operators use (rill__task_record_dropped). */
rill__pnode_t *rill__context_pnode(rill_context_t *context); /* operators/process.c */

static rill_err_t drop_late(rill_context_t *context, const rill_record_t *record, void *state,
                            rill_error_t **error)
{
    const rill_value_t *value = rill_record_value(record);
    if (rill_value_type(value) == RILL_VALUE_STRING &&
        strcmp(rill_value_string(value), "late") == 0) {
        rill__task_record_dropped(rill__context_pnode(context)->task, RILL__DROP_LATE);
        return RILL_OK;
    }
    return rill_context_forward(context, record, error);
}

static void test_driver__dropped_records_by_reason(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_int64()};
    rill_stream_t *stream = rill_stream_map_values(rill_builder_stream(builder, "in", &consumed),
                                                   reject_odd, NULL, "even-only");
    rill_stream_to(stream, "out", NULL);
    rill_consumed_t strings = {.key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()};
    rill_processor_t processor = {.process = drop_late};
    rill_stream_to(rill_stream_process(rill_builder_stream(builder, "words", &strings), &processor,
                                       NULL, "drop-late"),
                   "words-out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {
        .handlers = {RILL_ON_ERROR_CONTINUE, RILL_ON_ERROR_CONTINUE, RILL_ON_ERROR_FAIL, NULL}};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, NULL), 0);
    rill_value_t *key = rill_value_new(), *value = rill_value_new();
    rill_value_set_string(key, "k", NULL);
    for (int64_t v = 1; v <= 5; v++) { /* 1, 3, 5: a processing error, skipped */
        rill_value_set_int64(value, v);
        assert_int_equal(rill_driver_pipe_values(driver, "in", rill_serde_string(), key,
                                                 rill_serde_int64(), value, v, NULL),
                         RILL_OK);
    }
    /* 5 bytes are no int64: a deserialization error, skipped */
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "short", 9, NULL), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "words", "k", "late", 1, NULL), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "words", "k", "on time", 2, NULL), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "words", "k", "late", 3, NULL), RILL_OK);
    assert_int_equal(rill_driver_output_size(driver, "out"), 2);
    assert_int_equal(rill_driver_output_size(driver, "words-out"), 1);
    assert_int_equal(rill_driver_dropped_records(driver, "0_0", "processing"), 3);
    assert_int_equal(rill_driver_dropped_records(driver, "0_0", "deserialization"), 1);
    assert_int_equal(rill_driver_dropped_records(driver, "0_0", "late"), 0);
    assert_int_equal(rill_driver_dropped_records(driver, "1_0", "late"), 2);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, "late"), 2);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, NULL), 6);
    assert_int_equal(rill_driver_dropped_records(driver, "9_9", NULL), 0);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, "no-such-reason"), 0);
    assert_int_equal(rill_driver_dropped_records(NULL, NULL, NULL), 0);
    assert_string_equal(rill__drop_reason_name(RILL__DROP_INVALID_TIMESTAMP), "invalid_timestamp");
    assert_string_equal(rill__drop_reason_name(RILL__DROP_JOIN_MISS), "join_miss");
    assert_string_equal(rill__drop_reason_name(RILL__DROP_REASON_COUNT), "unknown");
    rill_value_destroy(key);
    rill_value_destroy(value);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

static void test_driver__stream_time_per_task(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(rill_builder_stream(builder, "in", NULL), "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.partitions = 3};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    const int64_t times[] = {50, 10, 70, 20, 30};
    const int32_t parts[] = {0, 1, 0, 1, 2};
    for (int i = 0; i < 5; i++) {
        rill_driver_input_t input = {
            .value = "v", .value_len = 1, .timestamp = times[i], .partition = parts[i]};
        assert_int_equal(rill_driver_pipe(driver, "in", &input, NULL), RILL_OK);
    }
    assert_int_equal(rill_driver_stream_time(driver, "0_0"), 70);
    assert_int_equal(rill_driver_stream_time(driver, "0_1"), 20);
    assert_int_equal(rill_driver_stream_time(driver, "0_2"), 30);
    rill_record_t *r;
    int32_t partitions[5];
    for (int i = 0; (r = rill_driver_read_output(driver, "out", NULL, NULL, NULL)) != NULL; i++) {
        partitions[i] = rill_record_partition(r);
        rill_record_destroy(r);
    }
    /* the sink's default partitioner: a null key goes to partition 0 */
    assert_int_equal(partitions[4], 0);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

static void test_driver__wall_clock_timestamps_and_shared_topology(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.timestamp = RILL_TIMESTAMP_WALL_CLOCK};
    rill_stream_to(rill_stream_repartition(rill_builder_stream(builder, "in", &consumed), NULL),
                   "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.wall_clock_ms = 1000};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    rill_driver_t *twin = rill_driver_new(topology, &config, NULL); /* same id: both usable */
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "a", 5, NULL), RILL_OK);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 250, NULL), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "b", 5, NULL), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(twin, "in", "k", "c", 5, NULL), RILL_OK);
    const int64_t expected[] = {1000, 1250};
    for (int i = 0; i < 2; i++) {
        rill_record_t *r = rill_driver_read_output(driver, "out", NULL, NULL, NULL);
        assert_int_equal(rill_record_timestamp(r), expected[i]);
        rill_record_destroy(r);
    }
    rill_record_t *r = rill_driver_read_output(twin, "out", NULL, NULL, NULL);
    assert_int_equal(rill_record_timestamp(r), 1000); /* the twin's clock did not move */
    rill_record_destroy(r);
    assert_int_equal(rill_driver_stream_time(driver, "0_0"), 1250);
    rill_driver_destroy(twin);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

static rill_err_t add_one(const rill_record_t *record, rill_value_t *out, void *user_data,
                          rill_error_t **error)
{
    rill_value_set_int64(out, rill_value_int64(rill_record_value(record)) + 1);
    return RILL_OK;
}

static void test_driver__default_serdes_apply_to_sources_without_serdes(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "in", NULL); /* no serdes named */
    rill_stream_t *re = rill_stream_repartition(in, NULL);        /* neither here */
    rill_stream_to(rill_stream_map_values(re, add_one, NULL, NULL), "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.default_key_serde = rill_serde_string(),
                                   .default_value_serde = rill_serde_int64()};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    rill_value_t *key = rill_value_new(), *value = rill_value_new();
    rill_value_set_string(key, "k", NULL);
    rill_value_set_int64(value, 41);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_values(driver, "in", rill_serde_string(), key,
                                             rill_serde_int64(), value, 1, &error),
                     RILL_OK);
    rill_record_t *r =
        rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_int64(), &error);
    assert_int_equal(rill_value_int64(rill_record_value(r)), 42);
    assert_string_equal(rill_value_string(rill_record_key(r)), "k");
    rill_record_destroy(r);
    /* a value that is not 8 bytes fails with the default int64 serde */
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "x", 1, &error), RILL_ERR_SERDE);
    rill_error_destroy(error);
    rill_value_destroy(key);
    rill_value_destroy(value);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver__repartition_loops_back_by_new_key),
        cmocka_unit_test(test_driver__typed_input_headers_offsets),
        cmocka_unit_test(test_driver__guards),
        cmocka_unit_test(test_driver__wall_clock_punctuation),
        cmocka_unit_test(test_driver__stream_time_punctuation),
        cmocka_unit_test(test_driver__dead_letter_topic_is_an_output),
        cmocka_unit_test(test_driver__dropped_records_by_reason),
        cmocka_unit_test(test_driver__stream_time_per_task),
        cmocka_unit_test(test_driver__wall_clock_timestamps_and_shared_topology),
        cmocka_unit_test(test_driver__default_serdes_apply_to_sources_without_serdes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
