/* test-peek.c: peek (side effect, then forward) and foreach (terminal). */
#include "config.h"

#include "tests/unit/operators/helpers.h"

static void collect(const rill_record_t *record, void *user_data)
{
    GString *seen = user_data;
    g_string_append_printf(seen, "%s@%" G_GINT64_FORMAT "/%s;",
                           rill_value_string(rill_record_value(record)), rill_record_offset(record),
                           rill_record_topic(record));
}

static void test_peek__sees_each_record_and_forwards_it(void **state)
{
    GString *peeked = g_string_new(NULL), *each = g_string_new(NULL);
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *peeked_stream =
        rill_stream_peek(string_stream(builder, "in"), collect, peeked, NULL);
    rill_stream_to(peeked_stream, "out", NULL);
    assert_int_equal(rill_stream_foreach(peeked_stream, collect, each, "print"), RILL_OK);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "k", "one");
    pipe_ok(driver, "in", "k", "two");
    assert_string_equal(peeked->str, "one@0/in;two@1/in;");
    assert_string_equal(each->str, peeked->str);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "k=one,k=two");
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "Processor: print (stores: [])\n      --> none\n"));
    stop(driver, topology);
    g_string_free(peeked, TRUE);
    g_string_free(each, TRUE);
}

static void test_foreach__needs_a_function(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    assert_int_equal(rill_stream_foreach(string_stream(builder, "in"), NULL, NULL, NULL),
                     RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_stream_foreach(NULL, collect, NULL, NULL), RILL_ERR_INVALID_ARG);
    assert_null(rill_builder_build(builder, NULL));
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peek__sees_each_record_and_forwards_it),
        cmocka_unit_test(test_foreach__needs_a_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
