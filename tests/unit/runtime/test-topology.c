/* test-topology.c: the builder, sub-topologies, internal topics, describe
 * (text and DOT) and the builder's sticky errors. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include <rill/rill.h>

#include "runtime/task.h"

static bool yes(const rill_record_t *record, void *user_data)
{
    return true;
}

static rill_err_t same(const rill_record_t *record, rill_value_t *out, void *user_data,
                       rill_error_t **error)
{
    rill_value_set_view(out, rill_record_value(record));
    return RILL_OK;
}

/* input -> filter -> repartition -> mapValues -> output */
static rill_topology_t *two_subtopologies(void)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "input", NULL);
    rill_stream_t *re = rill_stream_repartition(rill_stream_filter(in, yes, NULL, NULL), NULL);
    rill_stream_to(rill_stream_map_values(re, same, NULL, NULL), "output", NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    assert_null(error);
    rill_builder_destroy(builder);
    return topology;
}

static void test_topology__describe_text(void **state)
{
    rill_topology_t *topology = two_subtopologies();
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    const char *expected = "Topologies:\n"
                           "   Sub-topology: 0\n"
                           "    Source: KSTREAM-SOURCE-0000000000 (topics: [input])\n"
                           "      --> KSTREAM-FILTER-0000000001\n"
                           "    Processor: KSTREAM-FILTER-0000000001 (stores: [])\n"
                           "      --> KSTREAM-REPARTITION-0000000002-sink\n"
                           "      <-- KSTREAM-SOURCE-0000000000\n"
                           "    Sink: KSTREAM-REPARTITION-0000000002-sink (topic: "
                           "KSTREAM-REPARTITION-0000000002-repartition)\n"
                           "      <-- KSTREAM-FILTER-0000000001\n"
                           "\n"
                           "   Sub-topology: 1\n"
                           "    Source: KSTREAM-REPARTITION-0000000002-source (topics: "
                           "[KSTREAM-REPARTITION-0000000002-repartition])\n"
                           "      --> KSTREAM-MAPVALUES-0000000005\n"
                           "    Processor: KSTREAM-MAPVALUES-0000000005 (stores: [])\n"
                           "      --> KSTREAM-SINK-0000000006\n"
                           "      <-- KSTREAM-REPARTITION-0000000002-source\n"
                           "    Sink: KSTREAM-SINK-0000000006 (topic: output)\n"
                           "      <-- KSTREAM-MAPVALUES-0000000005\n"
                           "\n";
    assert_string_equal(text, expected);
    rill_topology_destroy(topology);
}

static void test_topology__describe_dot(void **state)
{
    rill_topology_t *topology = two_subtopologies();
    g_autofree char *dot = rill_topology_describe(topology, RILL_DESCRIBE_DOT);
    assert_true(g_str_has_prefix(dot, "digraph topology {\n"));
    assert_true(g_str_has_suffix(dot, "}\n"));
    assert_non_null(strstr(dot, "subgraph cluster_0 {"));
    assert_non_null(strstr(dot, "subgraph cluster_1 {"));
    assert_non_null(strstr(dot, "\"topic:input\" [shape=ellipse, label=\"input\"];"));
    assert_non_null(strstr(dot, "\"topic:input\" -> \"KSTREAM-SOURCE-0000000000\";"));
    assert_non_null(strstr(dot, "\"KSTREAM-SOURCE-0000000000\" -> \"KSTREAM-FILTER-0000000001\";"));
    assert_non_null(strstr(dot, "\"KSTREAM-SINK-0000000006\" -> \"topic:output\";"));
    assert_non_null(strstr(dot, "\"KSTREAM-REPARTITION-0000000002-sink\" -> "
                                "\"topic:KSTREAM-REPARTITION-0000000002-repartition\";"));
    /* every brace closes */
    int depth = 0;
    for (const char *p = dot; *p; p++)
        depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
    assert_int_equal(depth, 0);
    rill_topology_destroy(topology);
}

static void test_topology__subtopologies_and_internal_topics(void **state)
{
    rill_topology_t *topology = two_subtopologies();
    assert_int_equal(rill__topology_subtopology_count(topology), 2);
    assert_int_equal(rill__topology_subtopology_of(topology, "input"), 0);
    assert_int_equal(rill__topology_subtopology_of(topology, "output"), -1);
    rill__topology_set_application_id(topology, "app");
    const char *const *internal = rill__topology_internal_topics(topology);
    assert_string_equal(internal[0], "app-KSTREAM-REPARTITION-0000000002-repartition");
    assert_null(internal[1]);
    assert_int_equal(rill__topology_subtopology_of(topology, internal[0]), 1);
    assert_string_equal(rill__topology_source_topics(topology, 1)[0], internal[0]);
    assert_string_equal(rill__topology_internal_topic_source(topology, internal[0]), "input");
    assert_null(rill__topology_internal_topic_source(topology, "input"));
    const char *const *topic_config = rill__topology_internal_topic_config(topology, internal[0]);
    assert_string_equal(topic_config[0], "cleanup.policy");
    assert_string_equal(topic_config[1], "delete");
    assert_string_equal(topic_config[4], "retention.ms");
    assert_string_equal(topic_config[5], "-1");
    assert_null(topic_config[6]);
    assert_null(rill__topology_internal_topic_config(topology, "input"));
    assert_null(rill__topology_source_topics(topology, 2));
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "(topic: app-KSTREAM-REPARTITION-0000000002-repartition)"));
    rill_topology_destroy(topology);
}

static void test_topology__named_repartition_chain_resolves_to_user_topic(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "clicks", NULL);
    rill_produced_t first = {.name = "by-user"}, second = {.name = "by-page"};
    rill_stream_t *twice = rill_stream_repartition(rill_stream_repartition(in, &first), &second);
    rill_stream_to(twice, "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    assert_non_null(topology);
    rill_builder_destroy(builder);
    rill__topology_set_application_id(topology, "shop");
    assert_int_equal(rill__topology_subtopology_count(topology), 3);
    const char *const *internal = rill__topology_internal_topics(topology);
    assert_string_equal(internal[0], "shop-by-user-repartition");
    assert_string_equal(internal[1], "shop-by-page-repartition");
    assert_string_equal(rill__topology_internal_topic_source(topology, internal[1]), "clicks");
    rill_topology_destroy(topology);
}

static void test_topology__merge_joins_subtopologies(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *a = rill_builder_stream(builder, "a", NULL);
    rill_stream_t *b = rill_builder_stream(builder, "b", NULL);
    rill_stream_t *c = rill_builder_stream(builder, "c", NULL);
    rill_stream_to(rill_stream_merge(a, b, "a-and-b"), "ab", NULL);
    rill_stream_to(c, "c-out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_int_equal(rill__topology_subtopology_count(topology), 2);
    const char *const *topics = rill__topology_source_topics(topology, 0);
    assert_string_equal(topics[0], "a");
    assert_string_equal(topics[1], "b");
    assert_null(topics[2]);
    assert_int_equal(rill__topology_subtopology_of(topology, "c"), 1);
    rill_topology_destroy(topology);
}

static void test_topology__one_source_of_several_topics(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    const char *topics[] = {"eu-orders", "us-orders", NULL};
    rill_consumed_t consumed = {
        .key_serde = rill_serde_string(), .value_serde = rill_serde_string(), .name = "orders"};
    rill_stream_t *orders = rill_builder_stream_topics(builder, topics, &consumed);
    rill_stream_to(orders, "all-orders", NULL);
    const char *again[] = {"us-orders", NULL};
    assert_null(rill_builder_stream_topics(builder, again, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "'us-orders' is already read"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);

    builder = rill_builder_new();
    orders = rill_builder_stream_topics(builder, topics, &consumed);
    rill_stream_to(orders, "all-orders", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_int_equal(rill__topology_subtopology_count(topology), 1);
    const char *const *sources = rill__topology_source_topics(topology, 0);
    assert_string_equal(sources[0], "eu-orders");
    assert_string_equal(sources[1], "us-orders");
    assert_null(sources[2]);
    assert_int_equal(rill__topology_subtopology_of(topology, "us-orders"), 0);
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "Source: orders (topics: [eu-orders, us-orders])\n"));
    g_autofree char *dot = rill_topology_describe(topology, RILL_DESCRIBE_DOT);
    assert_non_null(strstr(dot, "\"topic:us-orders\" -> \"orders\";"));

    rill_driver_t *driver = rill_driver_new(topology, NULL, NULL);
    assert_int_equal(rill_driver_pipe_string(driver, "us-orders", "o1", "a", 1, NULL), RILL_OK);
    assert_int_equal(rill_driver_pipe_string(driver, "eu-orders", "o2", "b", 2, NULL), RILL_OK);
    rill_record_t *r = rill_driver_read_output(driver, "all-orders", rill_serde_string(),
                                               rill_serde_string(), NULL);
    assert_string_equal(rill_value_string(rill_record_key(r)), "o1");
    rill_record_destroy(r);
    r = rill_driver_read_output(driver, "all-orders", rill_serde_string(), rill_serde_string(),
                                NULL);
    assert_string_equal(rill_value_string(rill_record_key(r)), "o2");
    rill_record_destroy(r);
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

static void test_builder__errors_are_sticky_and_reported_by_build(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "in", NULL);
    assert_non_null(rill_stream_filter(in, yes, NULL, "dup"));
    assert_null(rill_stream_filter(in, yes, NULL, "dup")); /* name taken */
    assert_null(rill_stream_filter(in, NULL, NULL, NULL)); /* later errors do not replace it */
    assert_null(rill_stream_map_values(NULL, same, NULL, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_EXISTS);
    assert_string_equal(rill_error_message(error),
                        "building the topology: a processor named 'dup' exists already");
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

static void test_builder__rejects_reused_topic_empty_topology_and_late_operators(void **state)
{
    rill_error_t *error = NULL;
    rill_builder_t *builder = rill_builder_new();
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "no source"));
    rill_error_destroy(error);
    error = NULL;
    rill_builder_destroy(builder);

    builder = rill_builder_new();
    rill_builder_stream(builder, "t", NULL);
    assert_null(rill_builder_stream(builder, "t", NULL));
    assert_null(rill_builder_build(builder, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_EXISTS);
    rill_error_destroy(error);
    error = NULL;
    rill_builder_destroy(builder);

    builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "t", NULL);
    rill_topology_t *topology = rill_builder_build(builder, &error);
    assert_non_null(topology);
    assert_null(rill_stream_filter(in, yes, NULL, NULL)); /* the builder is closed */
    assert_null(rill_builder_build(builder, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_STATE);
    rill_error_destroy(error);
    rill_builder_destroy(builder);
    rill_topology_destroy(topology); /* the topology outlives its builder */
}

static void test_builder__rejects_invalid_topic_names(void **state)
{
    const char *bad[] = {"", ".", "..", "has space", "slash/y", "ümlaut"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        rill_builder_t *builder = rill_builder_new();
        assert_null(rill_builder_stream(builder, bad[i], NULL));
        rill_error_t *error = NULL;
        assert_null(rill_builder_build(builder, &error));
        assert_non_null(strstr(rill_error_message(error), "not a valid topic name"));
        rill_error_destroy(error);
        rill_builder_destroy(builder);
    }
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = rill_builder_stream(builder, "Good.topic_name-1", NULL);
    assert_non_null(in);
    assert_int_equal(rill_stream_to(in, "out put", NULL), RILL_ERR_INVALID_ARG);
    assert_null(rill_builder_build(builder, NULL));
    rill_builder_destroy(builder);
}

static void test_builder__user_timestamp_needs_a_function(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.timestamp = RILL_TIMESTAMP_USER};
    assert_null(rill_builder_stream(builder, "t", &consumed));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "timestamp_fn"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_topology__describe_text),
        cmocka_unit_test(test_topology__describe_dot),
        cmocka_unit_test(test_topology__subtopologies_and_internal_topics),
        cmocka_unit_test(test_topology__named_repartition_chain_resolves_to_user_topic),
        cmocka_unit_test(test_topology__merge_joins_subtopologies),
        cmocka_unit_test(test_topology__one_source_of_several_topics),
        cmocka_unit_test(test_builder__errors_are_sticky_and_reported_by_build),
        cmocka_unit_test(test_builder__rejects_reused_topic_empty_topology_and_late_operators),
        cmocka_unit_test(test_builder__user_timestamp_needs_a_function),
        cmocka_unit_test(test_builder__rejects_invalid_topic_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
