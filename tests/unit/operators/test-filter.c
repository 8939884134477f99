/* test-filter.c: filter and filterNot. */
#include "config.h"

#include "tests/unit/operators/helpers.h"

static bool starts_with(const rill_record_t *record, void *user_data)
{
    return g_str_has_prefix(rill_value_string(rill_record_value(record)), user_data);
}

static void test_filter__keeps_accepted_records_in_order(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = string_stream(builder, "in");
    rill_stream_to(rill_stream_filter(in, starts_with, "a", NULL), "kept", NULL);
    rill_stream_to(rill_stream_filter_not(in, starts_with, "a", NULL), "dropped", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "1", "apple");
    pipe_ok(driver, "in", "2", "banana");
    pipe_ok(driver, "in", "3", "avocado");
    pipe_ok(driver, "in", NULL, "cherry");
    g_autofree char *kept = drain(driver, "kept");
    g_autofree char *dropped = drain(driver, "dropped");
    assert_string_equal(kept, "1=apple,3=avocado");
    assert_string_equal(dropped, "2=banana,~=cherry");
    stop(driver, topology);
}

static void test_filter__requires_a_predicate(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    assert_null(rill_stream_filter_not(string_stream(builder, "in"), NULL, NULL, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(
        strstr(rill_error_message(error), "rill_stream_filter_not: a predicate is required"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter__keeps_accepted_records_in_order),
        cmocka_unit_test(test_filter__requires_a_predicate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
