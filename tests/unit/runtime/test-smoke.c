/* test-smoke.c: a first end-to-end run of a topology through the test driver. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include <rill/rill.h>

static bool long_enough(const rill_record_t *record, void *user_data)
{
    return strlen(rill_value_string(rill_record_value(record))) >= 3;
}

static rill_err_t shout(const rill_record_t *record, rill_value_t *out, void *user_data,
                        rill_error_t **error)
{
    rill_value_set_string(out, g_ascii_strup(rill_value_string(rill_record_value(record)), -1),
                          g_free);
    return RILL_OK;
}

static void test_smoke__filter_map_values_to(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_t *in = rill_builder_stream(builder, "in", &consumed);
    rill_stream_t *out =
        rill_stream_map_values(rill_stream_filter(in, long_enough, NULL, NULL), shout, NULL, NULL);
    assert_int_equal(rill_stream_to(out, "out", NULL), RILL_OK);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    assert_null(error);
    rill_builder_destroy(builder);

    rill_driver_t *driver = rill_driver_new(topology, NULL, &error);
    assert_non_null(driver);
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k1", "abc", 10, &error), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k2", "no", 11, &error), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k3", "hello", 12, &error), RILL_OK);
    assert_int_equal(rill_driver_output_size(driver, "out"), 2);
    rill_record_t *r =
        rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_string(), &error);
    assert_string_equal(rill_value_string(rill_record_key(r)), "k1");
    assert_string_equal(rill_value_string(rill_record_value(r)), "ABC");
    assert_int_equal(rill_record_timestamp(r), 10);
    rill_record_destroy(r);
    r = rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_string(), &error);
    assert_string_equal(rill_value_string(rill_record_value(r)), "HELLO");
    rill_record_destroy(r);
    assert_null(rill_driver_read_output(driver, "out", NULL, NULL, &error));
    assert_null(error);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smoke__filter_map_values_to),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
