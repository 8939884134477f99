/* test-aggregate.c: groupByKey / groupBy, count / reduce / aggregate, toStream, the
 * stores in tasks (caching on and off, changelog, restore) through the test driver. */
#include "tests/unit/operators/helpers.h"

static const rill_materialized_t counts_store = {.name = "counts",
                                                 .key_serde = NULL,
                                                 .value_serde = NULL};

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

/* in (string key/value) → groupByKey → count → toStream → decimal → out */
static rill_driver_t *count_driver(size_t cache_bytes, const char *state_dir,
                                   rill_topology_t **topology)
{
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *table =
        rill_grouped_count(rill_stream_group_by_key(string_stream(builder, "in"), NULL),
                           &counts_store);
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(table, NULL), to_decimal, NULL,
                                          NULL),
                   "out", NULL);
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.cache_max_bytes = cache_bytes, .state_dir = state_dir};
    rill_driver_t *driver = rill_driver_new(*topology, &config, &error);
    if (driver == NULL)
        fail_msg("driver: %s", rill_error_message(error));
    return driver;
}

static void commit_ok(rill_driver_t *driver)
{
    rill_error_t *error = NULL;
    if (rill_driver_commit(driver, &error) != RILL_OK)
        fail_msg("commit: %s", rill_error_message(error));
}

static void test_count__every_update_without_cache(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = count_driver(0, NULL, &topology);
    pipe_ok(driver, "in", "a", "x");
    pipe_ok(driver, "in", "b", "x");
    pipe_ok(driver, "in", "a", "y");
    pipe_ok(driver, "in", NULL, "dropped");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1,b=1,a=2");
    /* the changelog is an internal topic with the store's name */
    g_autofree char *description = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(description, "counts"));
    assert_int_equal(rill_driver_output_size(driver, "rill-test-counts-changelog"), 3);
    stop(driver, topology);
}

static void test_count__cache_dedupes_until_commit(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = count_driver(1 << 20, NULL, &topology);
    pipe_ok(driver, "in", "a", "x");
    pipe_ok(driver, "in", "b", "x");
    pipe_ok(driver, "in", "a", "y");
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    commit_ok(driver);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "b=1,a=2"); /* in the order last written */
    assert_int_equal(rill_driver_output_size(driver, "rill-test-counts-changelog"), 2);
    stop(driver, topology);
}

/* The final state is the same with caching on and off, on random input. */
static void test_count__same_final_state_cache_on_off(void **unused)
{
    (void)unused;
    GHashTable *finals[2];
    for (int round = 0; round < 2; round++) {
        rill_topology_t *topology;
        rill_driver_t *driver = count_driver(round == 0 ? 0 : 512, NULL, &topology);
        GRand *rand = g_rand_new_with_seed(42);
        for (int i = 0; i < 2000; i++) {
            g_autofree char *key = g_strdup_printf("k%d", g_rand_int_range(rand, 0, 50));
            pipe_ok(driver, "in", key, "v");
            if (i % 300 == 0)
                commit_ok(driver);
        }
        commit_ok(driver);
        g_rand_free(rand);
        finals[round] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        rill_record_t *r;
        while ((r = rill_driver_read_output(driver, "out", rill_serde_string(),
                                            rill_serde_string(), NULL)) != NULL) {
            g_hash_table_insert(finals[round], g_strdup(rill_value_string(rill_record_key(r))),
                                g_strdup(rill_value_string(rill_record_value(r))));
            rill_record_destroy(r);
        }
        stop(driver, topology);
    }
    assert_int_equal(g_hash_table_size(finals[0]), 50);
    assert_int_equal(g_hash_table_size(finals[1]), 50);
    GHashTableIter it;
    gpointer k, v;
    int total = 0;
    g_hash_table_iter_init(&it, finals[0]);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        assert_string_equal(v, g_hash_table_lookup(finals[1], k));
        total += atoi(v);
    }
    assert_int_equal(total, 2000);
    g_hash_table_destroy(finals[0]);
    g_hash_table_destroy(finals[1]);
}

/* A crash (no commit) loses the cache; the stores restore from the changelog. */
static void restore_round(const char *state_dir)
{
    rill_topology_t *topology;
    rill_driver_t *driver = count_driver(0, state_dir, &topology);
    pipe_ok(driver, "in", "a", "x");
    pipe_ok(driver, "in", "a", "x");
    commit_ok(driver);
    pipe_ok(driver, "in", "a", "x");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_restart(driver, false, &error), RILL_OK);
    pipe_ok(driver, "in", "a", "x");
    pipe_ok(driver, "in", "b", "x");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1,a=2,a=3,a=4,b=1");
    stop(driver, topology);
}

static void test_store__restore_from_changelog_in_memory(void **unused)
{
    (void)unused;
    restore_round(NULL);
}

static void test_store__restore_rocksdb_with_checkpoint(void **unused)
{
    (void)unused;
    g_autofree char *dir = g_dir_make_tmp("rill-agg-XXXXXX", NULL);
    assert_non_null(dir);
    restore_round(dir);
    g_autofree char *checkpoint =
        g_build_filename(dir, "rill-test", "0_0", ".checkpoint", NULL);
    assert_true(g_file_test(checkpoint, G_FILE_TEST_EXISTS));
    g_autofree char *store = g_build_filename(dir, "rill-test", "0_0", "rocksdb", "counts", NULL);
    assert_true(g_file_test(store, G_FILE_TEST_IS_DIR));
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* reduce: string concatenation; aggregate: total length. */
static rill_err_t concat(const rill_value_t *agg, const rill_value_t *value, rill_value_t *out,
                         void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, g_strconcat(rill_value_string(agg), "+", rill_value_string(value),
                                           NULL),
                          g_free);
    return RILL_OK;
}

static rill_err_t zero(rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, "0", NULL);
    return RILL_OK;
}

static rill_err_t add_len(const rill_value_t *key, const rill_value_t *value,
                          const rill_value_t *agg, rill_value_t *out, void *ud,
                          rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    long n = atol(rill_value_string(agg)) + (long)strlen(rill_value_string(value));
    rill_value_set_string(out, g_strdup_printf("%ld", n), g_free);
    return RILL_OK;
}

static rill_err_t first_letter(const rill_record_t *record, rill_value_t *out, void *ud,
                               rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, g_strndup(rill_value_string(rill_record_value(record)), 1), g_free);
    return RILL_OK;
}

static void test_reduce_aggregate__values_and_group_by(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *in = string_stream(builder, "in");
    rill_table_t *joined = rill_grouped_reduce(rill_stream_group_by_key(in, NULL), concat, NULL,
                                               &(rill_materialized_t){.name = "joined"});
    rill_stream_to(rill_table_to_stream(joined, NULL), "joined", NULL);
    rill_table_t *lengths =
        rill_grouped_aggregate(rill_stream_group_by(in, first_letter, NULL,
                                                    &(rill_grouped_opts_t){.name = "by-letter"}),
                               zero, add_len, NULL,
                               &(rill_materialized_t){.name = "lengths", .in_memory = true});
    rill_stream_to(rill_table_to_stream(lengths, NULL), "lengths", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "k", "apple");
    pipe_ok(driver, "in", "k", "avocado");
    pipe_ok(driver, "in", "j", "banana");
    g_autofree char *out1 = drain(driver, "joined");
    assert_string_equal(out1, "k=apple,k=apple+avocado,j=banana");
    g_autofree char *out2 = drain(driver, "lengths");
    assert_string_equal(out2, "a=5,a=12,b=6");
    stop(driver, topology);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count__every_update_without_cache),
        cmocka_unit_test(test_count__cache_dedupes_until_commit),
        cmocka_unit_test(test_count__same_final_state_cache_on_off),
        cmocka_unit_test(test_store__restore_from_changelog_in_memory),
        cmocka_unit_test(test_store__restore_rocksdb_with_checkpoint),
        cmocka_unit_test(test_reduce_aggregate__values_and_group_by),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
