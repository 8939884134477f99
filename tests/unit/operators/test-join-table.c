/* test-join-table.c: table-table joins (inner, left, outer) through the test driver: the joined
 * rows after updates and deletes on either side, the (new, old) pairs they carry (checked by an
 * aggregation downstream that must stay exact), materialized results joined again, restarts. */
#include "tests/unit/operators/helpers.h"

/* "l+r", a missing side as "~". */
static rill_err_t concat(const rill_value_t *key, const rill_value_t *left,
                         const rill_value_t *right, rill_value_t *out, void *ud,
                         rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    const char *l = rill_value_string(left), *r = rill_value_string(right);
    rill_value_set_string(out, g_strdup_printf("%s+%s", l ? l : "~", r ? r : "~"), g_free);
    return RILL_OK;
}

static rill_table_t *string_table(rill_builder_t *builder, const char *topic, const char *store)
{
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    return rill_builder_table(builder, topic, &consumed,
                              &(rill_materialized_t){.name = store, .in_memory = true});
}

/* joined row → (key = the joined value, value = the row's key): counting
 * these per joined value shows whether the old values were right */
static rill_err_t by_value(const rill_record_t *record, rill_value_t *key_out,
                           rill_value_t *value_out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_view(key_out, rill_record_value(record));
    rill_value_set_view(value_out, rill_record_key(record));
    return RILL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* drain(), its records sorted (a cache flushes in its own order). (transfer full) */
static char *drain_sorted(rill_driver_t *driver, const char *topic)
{
    g_autofree char *all = drain(driver, topic);
    char **parts = g_strsplit(all, ",", -1);
    qsort(parts, g_strv_length(parts), sizeof(char *), cmp_str);
    char *out = g_strjoinv(",", parts);
    g_strfreev(parts);
    return out;
}

typedef rill_table_t *(*join_fn)(rill_table_t *, rill_table_t *, rill_joiner_fn, void *,
                                 const rill_materialized_t *);

/* left ⋈ right → "out" (the joined rows) and "counts" (rows per joined value). */
static rill_driver_t *start_join(join_fn fn, rill_topology_t **topology,
                                 const rill_driver_config_t *config)
{
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *left = string_table(builder, "left", "L");
    rill_table_t *right = string_table(builder, "right", "R");
    rill_table_t *joined = fn(left, right, concat, NULL, NULL);
    rill_stream_to(rill_table_to_stream(joined, NULL), "out", NULL);
    rill_grouped_opts_t opts = {.name = "by-value", .key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_table_t *counts = rill_grouped_count(rill_table_group_by(joined, by_value, NULL, &opts),
                                              &(rill_materialized_t){.name = "counts",
                                                                     .key_serde =
                                                                         rill_serde_string()});
    rill_stream_to(rill_table_to_stream(counts, NULL), "counts", NULL);
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_t *driver = rill_driver_new(*topology, config, &error);
    assert_non_null(driver);
    return driver;
}

/* The last count of each joined value, "v:n" sorted, zeros left out. (transfer full) */
static char *live_counts(rill_driver_t *driver)
{
    GHashTable *last = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    rill_record_t *r;
    while ((r = rill_driver_read_output(driver, "counts", rill_serde_string(), rill_serde_int64(),
                                        NULL)) != NULL) {
        g_hash_table_insert(last, g_strdup(rill_value_string(rill_record_key(r))),
                            GINT_TO_POINTER((int)rill_value_int64(rill_record_value(r))));
        rill_record_destroy(r);
    }
    GList *keys = g_list_sort(g_hash_table_get_keys(last), (GCompareFunc)strcmp);
    GString *out = g_string_new(NULL);
    for (GList *k = keys; k != NULL; k = k->next) {
        int n = GPOINTER_TO_INT(g_hash_table_lookup(last, k->data));
        if (n != 0)
            g_string_append_printf(out, "%s%s:%d", out->len > 0 ? "," : "", (char *)k->data, n);
    }
    g_list_free(keys);
    g_hash_table_destroy(last);
    return g_string_free(out, FALSE);
}

static void test_join_table__inner(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_table_join, &topology, NULL);
    pipe_ok(driver, "left", "a", "1"); /* no right row: nothing */
    pipe_ok(driver, "right", "a", "x");
    pipe_ok(driver, "left", "a", "2");
    pipe_ok(driver, "right", "a", "y");
    pipe_ok(driver, "left", "b", "3");
    pipe_ok(driver, "right", "b", "z");
    pipe_ok(driver, "right", "a", NULL); /* the joined row goes */
    pipe_ok(driver, "left", "a", NULL);  /* nothing joined any more: nothing */
    pipe_ok(driver, "right", "c", "w"); /* no left row */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1+x,a=2+x,a=2+y,b=3+z,a=~");
    g_autofree char *counts = live_counts(driver);
    assert_string_equal(counts, "3+z:1");
    stop(driver, topology);
}

static void test_join_table__left(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_table_left_join, &topology, NULL);
    pipe_ok(driver, "left", "a", "1");
    pipe_ok(driver, "right", "a", "x");
    pipe_ok(driver, "right", "a", NULL); /* back to (1, null) */
    pipe_ok(driver, "right", "b", "z");  /* no left row: nothing */
    pipe_ok(driver, "left", "b", "2");
    pipe_ok(driver, "left", "a", NULL);
    pipe_ok(driver, "left", "c", NULL); /* deleting an absent row: nothing */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1+~,a=1+x,a=1+~,b=2+z,a=~");
    g_autofree char *counts = live_counts(driver);
    assert_string_equal(counts, "2+z:1");
    stop(driver, topology);
}

static void test_join_table__outer(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_table_outer_join, &topology, NULL);
    pipe_ok(driver, "left", "a", "1");
    pipe_ok(driver, "right", "b", "z");
    pipe_ok(driver, "right", "a", "x");
    pipe_ok(driver, "left", "a", NULL); /* the right side stays */
    pipe_ok(driver, "right", "a", NULL); /* nothing left of a */
    pipe_ok(driver, "left", "b", "2");
    pipe_ok(driver, "right", "b", NULL);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1+~,b=~+z,a=1+x,a=~+x,a=~,b=2+z,b=2+~");
    g_autofree char *counts = live_counts(driver);
    assert_string_equal(counts, "2+~:1");
    stop(driver, topology);
}

/* (users ⋈ accounts) materialized, then joined with regions: the first
 * join's store feeds the second; both survive a restart. */
static void test_join_table__materialized_result_joins_again(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *users = string_table(builder, "users", "users");
    rill_table_t *accounts = string_table(builder, "accounts", "accounts");
    rill_table_t *regions = string_table(builder, "regions", "regions");
    rill_table_t *ua = rill_table_join(users, accounts, concat, NULL,
                                       &(rill_materialized_t){.name = "users-accounts",
                                                              .key_serde = rill_serde_string(),
                                                              .value_serde = rill_serde_string()});
    rill_table_t *all = rill_table_left_join(ua, regions, concat, NULL, NULL);
    rill_stream_to(rill_table_to_stream(all, NULL), "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "users", "u", "ann");
    pipe_ok(driver, "accounts", "u", "acc1");
    pipe_ok(driver, "regions", "u", "eu");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_restart(driver, false, &error), RILL_OK);
    pipe_ok(driver, "accounts", "u", "acc2");
    pipe_ok(driver, "users", "u", NULL);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "u=ann+acc1+~,u=ann+acc1+eu,u=ann+acc2+eu,u=~");
    /* the result's changelog holds what the store held */
    assert_true(rill_driver_output_size(driver, "rill-test-users-accounts-changelog") >= 3);
    stop(driver, topology);
}

/* With the record cache on, tables forward at commit, while each join node
 * reads the other table as it is now: the result's store keeps the (new,
 * old) pairs exact, so the row comes out once and the counts below are right. */
static void test_join_table__with_caching(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_table_outer_join, &topology,
                                       &(rill_driver_config_t){.cache_max_bytes = 1 << 20});
    pipe_ok(driver, "left", "a", "1");
    pipe_ok(driver, "left", "a", "2");
    pipe_ok(driver, "right", "a", "x");
    pipe_ok(driver, "right", "b", "y");
    pipe_ok(driver, "right", "b", NULL);
    pipe_ok(driver, "left", "c", "3");
    assert_int_equal(rill_driver_output_size(driver, "out"), 0); /* held by the caches */
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    g_autofree char *out = drain_sorted(driver, "out");
    assert_string_equal(out, "a=2+x,c=3+~");
    pipe_ok(driver, "right", "c", "z");
    pipe_ok(driver, "left", "a", NULL);
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    g_autofree char *out2 = drain_sorted(driver, "out");
    assert_string_equal(out2, "a=~+x,c=3+z");
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    g_autofree char *counts = live_counts(driver);
    assert_string_equal(counts, "3+z:1,~+x:1");
    stop(driver, topology);
}

static bool always(const rill_record_t *record, void *ud)
{
    (void)record;
    (void)ud;
    return true;
}

static void test_join_table__needs_materialized_tables(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *left = string_table(builder, "left", "L");
    rill_table_t *filtered = rill_table_filter(string_table(builder, "right", "R"), always, NULL,
                                               NULL);
    assert_null(rill_table_outer_join(left, filtered, concat, NULL, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "materialized"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_table__inner),
        cmocka_unit_test(test_join_table__left),
        cmocka_unit_test(test_join_table__outer),
        cmocka_unit_test(test_join_table__materialized_result_joins_again),
        cmocka_unit_test(test_join_table__with_caching),
        cmocka_unit_test(test_join_table__needs_materialized_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
