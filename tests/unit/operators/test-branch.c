/* test-branch.c: split into named branches: first match wins, the default
 * branch, order within branches, names in describe. */
#include "config.h"

#include "tests/unit/operators/helpers.h"

static bool has_prefix(const rill_record_t *record, void *user_data)
{
    return g_str_has_prefix(rill_value_string(rill_record_value(record)), user_data);
}

static void test_branch__first_matching_branch_wins(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_branched_t *split = rill_stream_split(string_stream(builder, "in"), "fruit-");
    rill_stream_to(rill_branched_branch(split, has_prefix, "a", "a"), "a", NULL);
    rill_stream_to(rill_branched_branch(split, has_prefix, "", "any"), "any", NULL);
    rill_stream_to(rill_branched_branch(split, has_prefix, "b", "b"), "b", NULL); /* shadowed */
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    const char *values[] = {"apple", "banana", "apricot", "cherry"};
    for (int i = 0; i < 4; i++)
        pipe_ok(driver, "in", "k", values[i]);
    g_autofree char *a = drain(driver, "a");
    g_autofree char *any = drain(driver, "any");
    assert_string_equal(a, "k=apple,k=apricot");
    assert_string_equal(any, "k=banana,k=cherry");
    assert_int_equal(rill_driver_output_size(driver, "b"), 0);
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "Processor: fruit- (stores: [])\n"
                                 "      --> fruit-a, fruit-any, fruit-b\n"));
    stop(driver, topology);
}

static void test_branch__default_branch_takes_the_rest_and_ends_the_split(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_branched_t *split = rill_stream_split(string_stream(builder, "in"), NULL);
    rill_stream_to(rill_branched_branch(split, has_prefix, "x", NULL), "x", NULL);
    rill_stream_t *rest = rill_branched_default_branch(split, NULL);
    rill_stream_to(rest, "rest", NULL);
    {
        rill_topology_t *topology;
        rill_driver_t *driver = start(builder, &topology);
        pipe_ok(driver, "in", "1", "xray");
        pipe_ok(driver, "in", "2", "yak");
        pipe_ok(driver, "in", "3", "xenon");
        g_autofree char *x = drain(driver, "x");
        g_autofree char *other = drain(driver, "rest");
        assert_string_equal(x, "1=xray,3=xenon");
        assert_string_equal(other, "2=yak");
        g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
        /* generated branch names: <split name>-<index>, the default branch 0 */
        assert_non_null(
            strstr(text, "--> KSTREAM-BRANCH-0000000001-1, KSTREAM-BRANCH-0000000001-0\n"));
        stop(driver, topology);
    }
}

static void test_branch__no_branch_after_default(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_branched_t *split = rill_stream_split(string_stream(builder, "in"), "s");
    assert_non_null(rill_branched_default_branch(split, "rest"));
    assert_null(rill_branched_branch(split, has_prefix, "a", "late"));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "no branch can follow"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branch__first_matching_branch_wins),
        cmocka_unit_test(test_branch__default_branch_takes_the_rest_and_ends_the_split),
        cmocka_unit_test(test_branch__no_branch_after_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
