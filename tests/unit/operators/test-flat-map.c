/* test-flat-map.c: flatMap and flatMapValues: zero or more outputs, in order. */
#include "config.h"

#include "tests/unit/operators/helpers.h"

static rill_err_t words(const rill_record_t *record, rill_flat_output_t *output, void *user_data,
                        rill_error_t **error)
{
    g_auto(GStrv) parts = g_strsplit(rill_value_string(rill_record_value(record)), " ", -1);
    for (int i = 0; parts[i] != NULL; i++) {
        if (parts[i][0] == '\0')
            continue;
        rill_value_t *key, *value;
        rill_flat_output_add(output, &key, &value);
        if (key != NULL) /* flatMap: key by the word, value its length */
            rill_value_set_string(key, g_strdup(parts[i]), g_free);
        rill_value_set_string(
            value, key != NULL ? g_strdup_printf("%zu", strlen(parts[i])) : g_strdup(parts[i]),
            g_free);
    }
    return RILL_OK;
}

static rill_err_t half_then_fail(const rill_record_t *record, rill_flat_output_t *output,
                                 void *user_data, rill_error_t **error)
{
    rill_value_t *value;
    rill_flat_output_add(output, NULL, &value);
    rill_value_set_string(value, g_strdup("partial"), g_free);
    return rill_error_set(error, RILL_ERR_USER, "gave up");
}

static void test_flat_map_values__splits_keeping_the_key(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(rill_stream_flat_map_values(string_stream(builder, "in"), words, NULL, NULL),
                   "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "s1", "the quick  fox");
    pipe_ok(driver, "in", "s2", "");
    pipe_ok(driver, "in", "s3", "jumps");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "s1=the,s1=quick,s1=fox,s3=jumps");
    stop(driver, topology);
}

static void test_flat_map__emits_new_keys(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(rill_stream_flat_map(string_stream(builder, "in"), words, NULL, NULL), "out",
                   NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    for (int i = 0; i < 3; i++) /* slots are reused across records */
        pipe_ok(driver, "in", "s", "a bb ccc dddd");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1,bb=2,ccc=3,dddd=4,a=1,bb=2,ccc=3,dddd=4,a=1,bb=2,ccc=3,dddd=4");
    stop(driver, topology);
}

static void test_flat_map__error_forwards_nothing(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(
        rill_stream_flat_map_values(string_stream(builder, "in"), half_then_fail, NULL, NULL),
        "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "v", 1, &error), RILL_ERR_USER);
    assert_non_null(strstr(rill_error_message(error), "gave up"));
    rill_error_destroy(error);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    stop(driver, topology);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_map_values__splits_keeping_the_key),
        cmocka_unit_test(test_flat_map__emits_new_keys),
        cmocka_unit_test(test_flat_map__error_forwards_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
