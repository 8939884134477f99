/* test-merge.c: merge keeps each record's arrival order, across inputs and
 * after branches. */
#include "config.h"

#include <stdlib.h>

#include "tests/unit/operators/helpers.h"

static bool is_even(const rill_record_t *record, void *user_data)
{
    return atoi(rill_value_string(rill_record_value(record))) % 2 == 0;
}

static void test_merge__two_topics_in_arrival_order(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *merged =
        rill_stream_merge(string_stream(builder, "left"), string_stream(builder, "right"), "both");
    rill_stream_to(merged, "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "left", "l", "1");
    pipe_ok(driver, "right", "r", "2");
    pipe_ok(driver, "right", "r", "3");
    pipe_ok(driver, "left", "l", "4");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "l=1,r=2,r=3,l=4");
    stop(driver, topology);
}

static void test_merge__branches_back_together(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_branched_t *split = rill_stream_split(string_stream(builder, "in"), "parity-");
    rill_stream_t *even = rill_branched_branch(split, is_even, NULL, "even");
    rill_stream_t *odd = rill_branched_default_branch(split, "odd");
    rill_stream_to(rill_stream_merge(odd, even, NULL), "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    for (int i = 1; i <= 5; i++) {
        char value[4];
        g_snprintf(value, sizeof value, "%d", i);
        pipe_ok(driver, "in", "k", value);
    }
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "k=1,k=2,k=3,k=4,k=5");
    stop(driver, topology);
}

static void test_merge__rejects_self_and_null(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = string_stream(builder, "in");
    assert_null(rill_stream_merge(in, in, NULL));
    assert_null(rill_stream_merge(in, NULL, NULL));
    assert_null(rill_builder_build(builder, NULL));
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merge__two_topics_in_arrival_order),
        cmocka_unit_test(test_merge__branches_back_together),
        cmocka_unit_test(test_merge__rejects_self_and_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
