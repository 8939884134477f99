/* test-table.c: tables from topics, table filter / mapValues with (new, old)
 * values, and the stream-table join (inner, left) through the test driver. */
#include "tests/unit/operators/helpers.h"

static bool starts_with_v(const rill_record_t *record, void *ud)
{
    (void)ud;
    const char *v = rill_value_string(rill_record_value(record));
    return v != NULL && v[0] == 'v';
}

static rill_err_t upper(const rill_record_t *record, rill_value_t *out, void *ud,
                        rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, g_ascii_strup(rill_value_string(rill_record_value(record)), -1),
                          g_free);
    return RILL_OK;
}

static const rill_consumed_t strings = {.key_serde = NULL, .value_serde = NULL};

static rill_table_t *string_table(rill_builder_t *builder, const char *topic, const char *store)
{
    rill_consumed_t consumed = strings;
    consumed.key_serde = rill_serde_string();
    consumed.value_serde = rill_serde_string();
    return rill_builder_table(builder, topic, &consumed,
                              &(rill_materialized_t){.name = store, .in_memory = true});
}

/* table → filter → mapValues → toStream: deletions and rows that stop matching. */
static void test_table__filter_map_values_and_tombstones(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *users = string_table(builder, "users", "users");
    rill_stream_to(rill_table_to_stream(users, NULL), "all", NULL);
    rill_table_t *v = rill_table_map_values(rill_table_filter(users, starts_with_v, NULL, NULL),
                                            upper, NULL, NULL);
    rill_stream_to(rill_table_to_stream(v, NULL), "v-upper", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "users", "a", "v1");
    pipe_ok(driver, "users", "b", "x1");
    pipe_ok(driver, "users", "a", "x2"); /* a stops matching: deleted downstream */
    pipe_ok(driver, "users", "b", "v2");
    pipe_ok(driver, "users", "b", NULL); /* tombstone */
    pipe_ok(driver, "users", "c", NULL); /* deleting an absent row: nothing */
    g_autofree char *all = drain(driver, "all");
    assert_string_equal(all, "a=v1,b=x1,a=x2,b=v2,b=~");
    g_autofree char *filtered = drain(driver, "v-upper");
    assert_string_equal(filtered, "a=V1,a=~,b=V2,b=~");
    stop(driver, topology);
}

static rill_err_t enrich(const rill_record_t *record, const rill_value_t *table_value,
                         rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    const char *name = rill_value_string(table_value);
    rill_value_set_string(out, g_strdup_printf("%s by %s",
                                               rill_value_string(rill_record_value(record)),
                                               name != NULL ? name : "?"),
                          g_free);
    return RILL_OK;
}

static void test_join__stream_table_inner_and_left(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *users = string_table(builder, "users", "users");
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_to(rill_stream_join_table(orders, users, enrich, NULL, "inner"), "inner", NULL);
    rill_stream_to(rill_stream_left_join_table(orders, users, enrich, NULL, "left"), "left",
                   NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "orders", "u1", "o1"); /* no user yet */
    pipe_ok(driver, "users", "u1", "ann");  /* a table update: no output */
    pipe_ok(driver, "orders", "u1", "o2");
    pipe_ok(driver, "users", "u1", "anne");
    pipe_ok(driver, "orders", "u1", "o3");
    pipe_ok(driver, "users", "u1", NULL);
    pipe_ok(driver, "orders", "u1", "o4");
    g_autofree char *inner = drain(driver, "inner");
    assert_string_equal(inner, "u1=o2 by ann,u1=o3 by anne");
    g_autofree char *left = drain(driver, "left");
    assert_string_equal(left, "u1=o1 by ?,u1=o2 by ann,u1=o3 by anne,u1=o4 by ?");
    /* the inner join's misses (o1 before the row, o4 after its deletion) are
     * counted, not silent; the left join drops nothing */
    assert_int_equal(rill_driver_dropped_records(driver, "0_0", "join_miss"), 2);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, NULL), 2);
    /* one sub-topology reads both topics: the join's task holds the table */
    g_autofree char *description = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_null(strstr(description, "Sub-topology: 1"));
    stop(driver, topology);
}

static void test_join__needs_a_materialized_table(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *users = string_table(builder, "users", "users");
    rill_table_t *filtered = rill_table_filter(users, starts_with_v, NULL, NULL);
    assert_null(rill_stream_join_table(string_stream(builder, "orders"), filtered, enrich, NULL,
                                       NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "not materialized"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

/* user → region: region as the new key, the user as the value */
static rill_err_t by_region(const rill_record_t *record, rill_value_t *key_out,
                            rill_value_t *value_out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_view(key_out, rill_record_value(record));
    rill_value_set_view(value_out, rill_record_key(record));
    return RILL_OK;
}

static rill_err_t to_decimal(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, g_strdup_printf("%" G_GINT64_FORMAT,
                                               rill_value_int64(rill_record_value(record))),
                          g_free);
    return RILL_OK;
}

/* reduce over a table grouping: the users of a region as "+a+b", minus on move */
static rill_err_t add_user(const rill_value_t *agg, const rill_value_t *value, rill_value_t *out,
                           void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, g_strconcat(rill_value_string(agg), "+", rill_value_string(value),
                                           NULL),
                          g_free);
    return RILL_OK;
}

static rill_err_t remove_user(const rill_value_t *agg, const rill_value_t *value,
                              rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    g_autofree char *needle = g_strconcat("+", rill_value_string(value), NULL);
    g_autofree char *with_plus = g_strconcat("+", rill_value_string(agg), NULL);
    GString *s = g_string_new(with_plus);
    char *at = strstr(s->str, needle);
    if (at != NULL)
        g_string_erase(s, at - s->str, (gssize)strlen(needle));
    rill_value_set_string(out, g_strdup(s->str[0] == '+' ? s->str + 1 : s->str), g_free);
    g_string_free(s, TRUE);
    return RILL_OK;
}

static void test_table_group_by__count_and_reduce_subtract_old_rows(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *users = string_table(builder, "users", "users");
    rill_grouped_opts_t opts = {.name = "by-region",
                                .key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_table_t *counts =
        rill_grouped_count(rill_table_group_by(users, by_region, NULL, &opts),
                           &(rill_materialized_t){.name = "region-counts", .in_memory = true});
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(counts, NULL), to_decimal, NULL,
                                          NULL),
                   "counts", NULL);
    rill_grouped_opts_t opts2 = opts;
    opts2.name = "by-region-2";
    rill_table_t *members = rill_grouped_table_reduce(
        rill_table_group_by(users, by_region, NULL, &opts2), add_user, remove_user, NULL,
        &(rill_materialized_t){.name = "region-users", .value_serde = rill_serde_string()});
    rill_stream_to(rill_table_to_stream(members, NULL), "members", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "users", "ann", "eu");
    pipe_ok(driver, "users", "bob", "eu");
    pipe_ok(driver, "users", "ann", "us"); /* moves: eu -1, us +1 */
    pipe_ok(driver, "users", "bob", NULL); /* deleted: eu -1 */
    g_autofree char *out = drain(driver, "counts");
    assert_string_equal(out, "eu=1,eu=2,eu=1,us=1,eu=0");
    g_autofree char *out2 = drain(driver, "members");
    assert_string_equal(out2, "eu=ann,eu=ann+bob,eu=bob,us=ann,eu=");
    stop(driver, topology);
}

static void test_table_group_by__aggregate_needs_a_subtractor(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *users = string_table(builder, "users", "users");
    assert_null(rill_grouped_reduce(rill_table_group_by(users, by_region, NULL, NULL), add_user,
                                    NULL, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "subtractor"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table__filter_map_values_and_tombstones),
        cmocka_unit_test(test_join__stream_table_inner_and_left),
        cmocka_unit_test(test_join__needs_a_materialized_table),
        cmocka_unit_test(test_table_group_by__count_and_reduce_subtract_old_rows),
        cmocka_unit_test(test_table_group_by__aggregate_needs_a_subtractor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
