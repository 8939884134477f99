/* test-to.c: sinks: to with serdes, a per-record topic chooser, custom
 * partitioners, and repartition keeping types through the internal topic. */
#include "config.h"

#include <stdlib.h>

#include "tests/unit/operators/helpers.h"

static rill_err_t parse_int(const rill_record_t *record, rill_value_t *out, void *user_data,
                            rill_error_t **error)
{
    rill_value_set_int64(out,
                         g_ascii_strtoll(rill_value_string(rill_record_value(record)), NULL, 10));
    return RILL_OK;
}

static const char *by_key(const rill_record_t *record, void *user_data)
{
    const char *key = rill_value_string(rill_record_key(record));
    return key != NULL && strcmp(key, "drop") == 0 ? NULL : key;
}

static int32_t last_partition(const char *topic, const rill_record_t *record, const void *key_bytes,
                              size_t key_len, int32_t partition_count, void *user_data)
{
    return *(int32_t *)user_data < 0 ? partition_count - 1 : *(int32_t *)user_data;
}

static void test_to__serializes_with_produced_serdes(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_produced_t produced = {.value_serde = rill_serde_int64(), .name = "numbers-sink"};
    rill_stream_t *numbers =
        rill_stream_map_values(string_stream(builder, "in"), parse_int, NULL, NULL);
    assert_int_equal(rill_stream_to(numbers, "numbers", &produced), RILL_OK);
    rill_stream_to(numbers, "by-type", NULL); /* no serde: by the value's type (int64) */
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "k", "-42");
    for (int i = 0; i < 2; i++) {
        const char *topic = i == 0 ? "numbers" : "by-type";
        rill_record_t *r =
            rill_driver_read_output(driver, topic, rill_serde_string(), rill_serde_int64(), NULL);
        assert_non_null(r);
        assert_int_equal(rill_value_int64(rill_record_value(r)), -42);
        assert_string_equal(rill_value_string(rill_record_key(r)), "k");
        rill_record_destroy(r);
    }
    stop(driver, topology);
}

static void test_to_dynamic__topic_per_record(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    assert_int_equal(rill_stream_to_dynamic(string_stream(builder, "in"), by_key, NULL, NULL),
                     RILL_OK);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "red", "1");
    pipe_ok(driver, "in", "blue", "2");
    pipe_ok(driver, "in", "red", "3");
    g_autofree char *red = drain(driver, "red");
    g_autofree char *blue = drain(driver, "blue");
    assert_string_equal(red, "red=1,red=3");
    assert_string_equal(blue, "blue=2");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "drop", "4", 1, &error), RILL_ERR_USER);
    assert_non_null(strstr(rill_error_message(error), "production error"));
    assert_non_null(strstr(rill_error_message(error), "the topic chooser returned no topic"));
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "bad topic", "5", 1, &error),
                     RILL_ERR_USER);
    assert_non_null(
        strstr(rill_error_message(error), "returned 'bad topic', which is not a valid"));
    rill_error_destroy(error);
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "(extractor class: chooser)"));
    stop(driver, topology);
}

static void test_to__custom_partitioner(void **state)
{
    int32_t choice = -1;
    rill_builder_t *builder = rill_builder_new();
    rill_produced_t produced = {.partitioner = last_partition, .partitioner_user_data = &choice};
    rill_stream_to(string_stream(builder, "in"), "out", &produced);
    rill_topology_t *topology;
    rill_error_t *error = NULL;
    assert_non_null(topology = rill_builder_build(builder, &error));
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.partitions = 3};
    rill_driver_t *driver = rill_driver_new(topology, &config, &error);
    pipe_ok(driver, "in", "k", "v");
    rill_record_t *r = rill_driver_read_output(driver, "out", NULL, NULL, NULL);
    assert_int_equal(rill_record_partition(r), 2);
    rill_record_destroy(r);
    choice = 3; /* out of range: a production error */
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "v", 1, &error), RILL_ERR_USER);
    assert_non_null(
        strstr(rill_error_message(error), "chose partition 3 of topic 'out', which has 3"));
    rill_error_destroy(error);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

static rill_err_t double_it(const rill_record_t *record, rill_value_t *out, void *user_data,
                            rill_error_t **error)
{
    rill_value_set_int64(out, 2 * rill_value_int64(rill_record_value(record)));
    return RILL_OK;
}

static void test_repartition__types_survive_the_internal_topic(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *numbers =
        rill_stream_map_values(string_stream(builder, "in"), parse_int, NULL, NULL);
    rill_produced_t produced = {
        .key_serde = rill_serde_string(), .value_serde = rill_serde_int64(), .name = "numbers"};
    rill_stream_t *re = rill_stream_repartition(numbers, &produced);
    rill_stream_to(rill_stream_map_values(re, double_it, NULL, NULL), "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "a", "21");
    pipe_ok(driver, "in", "b", "-5");
    rill_record_t *r =
        rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_int64(), NULL);
    assert_int_equal(rill_value_int64(rill_record_value(r)), 42);
    rill_record_destroy(r);
    r = rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_int64(), NULL);
    assert_int_equal(rill_value_int64(rill_record_value(r)), -10);
    assert_string_equal(rill_value_string(rill_record_key(r)), "b");
    rill_record_destroy(r);
    /* the default test application.id names the internal topic */
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "(topics: [rill-test-numbers-repartition])"));
    stop(driver, topology);
}

static void test_repartition__defaults_to_the_source_serdes(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *re = rill_stream_repartition(string_stream(builder, "in"), NULL);
    rill_stream_to(re, "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "k", "héllo");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "k=héllo");
    /* strings are validated again when read back from the internal topic */
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "ok", 1, &error), RILL_OK);
    stop(driver, topology);
}

static void test_repartition__rejects_bad_names(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_produced_t produced = {.name = "a/b"};
    assert_null(rill_stream_repartition(string_stream(builder, "in"), &produced));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "cannot name a topic"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_to__serializes_with_produced_serdes),
        cmocka_unit_test(test_to_dynamic__topic_per_record),
        cmocka_unit_test(test_to__custom_partitioner),
        cmocka_unit_test(test_repartition__types_survive_the_internal_topic),
        cmocka_unit_test(test_repartition__defaults_to_the_source_serdes),
        cmocka_unit_test(test_repartition__rejects_bad_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
