/* test-store.c: state stores in the processor API (rill/store.h) through the test driver:
 * a dedupe processor, its changelog, restore after a crash, and misuse. */
#include "tests/unit/operators/helpers.h"

/* Forwards a record only the first time its key is seen. */
static rill_err_t dedupe_init(rill_context_t *context, void *ud, void **state,
                              rill_error_t **error)
{
    (void)ud;
    *state = rill_context_get_store(context, "seen");
    if (*state == NULL)
        return rill_error_set(error, RILL_ERR_STORE, "no store 'seen'");
    return RILL_OK;
}

static rill_err_t dedupe_process(rill_context_t *context, const rill_record_t *record,
                                 void *state, rill_error_t **error)
{
    size_t len;
    const void *key = rill_value_bytes(rill_record_key(record), &len);
    void *seen = NULL;
    if (rill_store_get(state, key, len, &seen, NULL, error) != RILL_OK)
        return RILL_ERR_STORE;
    if (seen != NULL) {
        rill_free(seen);
        return RILL_OK;
    }
    if (rill_store_put(state, key, len, "1", 1, error) != RILL_OK)
        return RILL_ERR_STORE;
    return rill_context_forward(context, record, error);
}

static rill_topology_t *dedupe_topology(const char *store)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.init = dedupe_init, .process = dedupe_process};
    const char *const stores[] = {store, NULL};
    rill_stream_to(rill_stream_process(string_stream(builder, "in"), &processor, stores, "dedupe"),
                   "out", NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    return topology;
}

static void test_store__dedupe_restores_after_crash(void **unused)
{
    (void)unused;
    rill_topology_t *topology = dedupe_topology("seen");
    rill_driver_config_t config = {.cache_max_bytes = 4096};
    rill_error_t *error = NULL;
    rill_driver_t *driver = rill_driver_new(topology, &config, &error);
    assert_non_null(driver);
    pipe_ok(driver, "in", "a", "1");
    pipe_ok(driver, "in", "a", "2");
    pipe_ok(driver, "in", "b", "3");
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    assert_int_equal(rill_driver_output_size(driver, "rill-test-seen-changelog"), 2);
    pipe_ok(driver, "in", "c", "4"); /* cached, never committed: lost in the crash */
    assert_int_equal(rill_driver_restart(driver, false, &error), RILL_OK);
    pipe_ok(driver, "in", "a", "5");
    pipe_ok(driver, "in", "c", "6");
    pipe_ok(driver, "in", "d", "7");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a=1,b=3,c=4,c=6,d=7");
    stop(driver, topology);
}

static void test_store__unnamed_store_is_refused(void **unused)
{
    (void)unused;
    rill_topology_t *topology = dedupe_topology("other");
    rill_error_t *error = NULL;
    rill_driver_t *driver = rill_driver_new(topology, NULL, &error);
    assert_non_null(driver);
    assert_int_equal(rill_driver_pipe_string(driver, "in", "a", "1", 1, &error), RILL_ERR_STORE);
    assert_non_null(strstr(rill_error_message(error), "no store 'seen'"));
    rill_error_destroy(error);
    stop(driver, topology);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store__dedupe_restores_after_crash),
        cmocka_unit_test(test_store__unnamed_store_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
