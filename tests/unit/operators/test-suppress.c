/* test-suppress.c: emit-final (suppress until window closes) through the test driver: each
 * window once, after end + grace, with and without the record cache; the buffer across clean
 * and crash restarts (nothing lost, nothing re-emitted); a full buffer (shut down / emit
 * early); sessions; emitStrategy(onWindowClose); the DSL's checks. */
#include "tests/unit/operators/helpers.h"

static rill_err_t to_text(const rill_record_t *record, rill_value_t *out, void *ud,
                          rill_error_t **error)
{
    (void)ud;
    (void)error;
    const rill_value_t *value = rill_record_value(record);
    if (rill_value_type(value) == RILL_VALUE_INT64)
        rill_value_set_string(out, g_strdup_printf("%" G_GINT64_FORMAT, rill_value_int64(value)),
                              g_free);
    return RILL_OK;
}

typedef struct setup {
    rill_suppressed_t suppressed;
    bool emit_final;       /* rill_time_windowed_emit_final instead of suppress */
    bool sessions;         /* session windows (gap 5) instead of tumbling (10) */
    int64_t grace;
    size_t cache_bytes;
    const char *state_dir;
} setup_t;

static rill_driver_t *suppress_driver(const setup_t *setup, rill_topology_t **topology)
{
    rill_builder_t *builder = rill_builder_new();
    rill_grouped_t *grouped = rill_stream_group_by_key(string_stream(builder, "in"), NULL);
    rill_table_t *counts;
    rill_serde_t *key_serde;
    if (setup->sessions) {
        rill_session_windowed_t *windowed = rill_grouped_windowed_by_session(
            grouped,
            &(rill_session_windows_t){.inactivity_gap_ms = 5, .grace_ms = setup->grace});
        counts = rill_session_windowed_count(windowed, &(rill_materialized_t){.name = "counts"});
        key_serde = rill_serde_session_windowed_new(rill_serde_string());
    } else {
        rill_time_windowed_t *windowed =
            rill_grouped_windowed_by(grouped, &(rill_time_windows_t){.size_ms = 10,
                                                                     .grace_ms = setup->grace});
        if (setup->emit_final)
            windowed = rill_time_windowed_emit_final(windowed);
        counts = rill_time_windowed_count(windowed, &(rill_materialized_t){.name = "counts"});
        key_serde = rill_serde_ref(rill_serde_windowed_string());
    }
    rill_table_t *final = setup->emit_final
                              ? counts
                              : rill_table_suppress_until_window_closes(counts, &setup->suppressed);
    rill_produced_t produced = {.key_serde = key_serde, .value_serde = rill_serde_string()};
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(final, NULL), to_text, NULL, NULL),
                   "out", &produced);
    rill_serde_unref(key_serde);
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.cache_max_bytes = setup->cache_bytes,
                                   .state_dir = setup->state_dir};
    rill_driver_t *driver = rill_driver_new(*topology, &config, &error);
    if (driver == NULL)
        fail_msg("driver: %s", rill_error_message(error));
    return driver;
}

static void pipe_at(rill_driver_t *driver, const char *key, int64_t ts)
{
    rill_error_t *error = NULL;
    if (rill_driver_pipe_string(driver, "in", key, "x", ts, &error) != RILL_OK)
        fail_msg("pipe: %s", rill_error_message(error));
}

static void commit_ok(rill_driver_t *driver)
{
    rill_error_t *error = NULL;
    if (rill_driver_commit(driver, &error) != RILL_OK)
        fail_msg("commit: %s", rill_error_message(error));
}

static void restart_ok(rill_driver_t *driver, bool commit)
{
    rill_error_t *error = NULL;
    if (rill_driver_restart(driver, commit, &error) != RILL_OK)
        fail_msg("restart: %s", rill_error_message(error));
}

static void test_suppress__each_window_once_after_end_plus_grace(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = suppress_driver(&(setup_t){.grace = 5}, &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "a", 2);
    pipe_at(driver, "b", 3);
    pipe_at(driver, "a", 14); /* [0, 10) closes at stream time 15 */
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    pipe_at(driver, "a", 9); /* within grace: counted in the final result */
    pipe_at(driver, "a", 15);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=3,b@0=1"); /* in window end order, then key */
    pipe_at(driver, "a", 16);
    pipe_at(driver, "a", 8); /* late: dropped, [0, 10) is not emitted again */
    assert_int_equal(rill_driver_dropped_records(driver, NULL, "late"), 1);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    pipe_at(driver, "c", 25);
    g_autofree char *out2 = drain(driver, "out");
    assert_string_equal(out2, "a@10=3");
    stop(driver, topology);
}

static void test_suppress__with_the_record_cache(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver =
        suppress_driver(&(setup_t){.grace = 0, .cache_bytes = 1 << 20}, &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "a", 2);
    pipe_at(driver, "a", 11); /* [0, 10) closed by stream time, but the updates are cached */
    pipe_at(driver, "a", 12);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    commit_ok(driver); /* the cache flushes in write order: [0, 10) = 2 is final */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=2");
    pipe_at(driver, "a", 13);
    pipe_at(driver, "a", 20);
    commit_ok(driver);
    g_autofree char *out2 = drain(driver, "out");
    assert_string_equal(out2, "a@10=3");
    stop(driver, topology);
}

static void test_suppress__restart_loses_nothing_and_emits_nothing_twice(void **unused)
{
    (void)unused;
    g_autofree char *dir = g_dir_make_tmp("rill-test-suppress-XXXXXX", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = suppress_driver(&(setup_t){.grace = 0, .state_dir = dir}, &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "b", 2);
    restart_ok(driver, true); /* a clean restart: [0, 10) still buffered */
    pipe_at(driver, "a", 10);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=1,b@0=1");
    restart_ok(driver, false); /* a crash (caching off: everything was logged) */
    pipe_at(driver, "b", 15);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0); /* [0, 10) not again */
    pipe_at(driver, "c", 20);
    g_autofree char *out2 = drain(driver, "out");
    assert_string_equal(out2, "a@10=1,b@10=1");
    /* the state directory wiped: the buffer and the windows come back from the changelogs */
    pipe_at(driver, "c", 21);
    restart_ok(driver, true);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'/rill-test", dir);
    assert_int_equal(system(cmd), 0);
    pipe_at(driver, "d", 30);
    g_autofree char *out3 = drain(driver, "out");
    assert_string_equal(out3, "c@20=2");
    stop(driver, topology);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

static void test_suppress__full_buffer_shuts_down(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = suppress_driver(
        &(setup_t){.suppressed = {.name = "final", .max_records = 2}}, &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "b", 1);
    pipe_at(driver, "a", 2); /* an update of a buffered window takes no more room */
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "c", "x", 3, &error),
                     RILL_ERR_INVALID_STATE);
    assert_non_null(strstr(rill_error_message(error), "suppression buffer final is full"));
    rill_error_destroy(error);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0); /* nothing emitted early */
    stop(driver, topology);
}

static void test_suppress__full_buffer_emits_early(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = suppress_driver(
        &(setup_t){.suppressed = {.max_records = 2, .when_full = RILL_BUFFER_FULL_EMIT_EARLY}},
        &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "b", 1);
    pipe_at(driver, "c", 1); /* three windows: the oldest (a) goes early */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=1");
    /* a again: the buffer is ordered by window end (then key), so [0, 10) of a is the
     * oldest again and goes early a second time: the price of emitting early */
    pipe_at(driver, "a", 2);
    g_autofree char *out2 = drain(driver, "out");
    assert_string_equal(out2, "a@0=2");
    pipe_at(driver, "z", 10);
    g_autofree char *out3 = drain(driver, "out");
    assert_string_equal(out3, "b@0=1,c@0=1");
    stop(driver, topology);
}

static void test_suppress__max_bytes(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    /* an entry: key T(end) T(start) "a" (17) + value timestamp + int64 (16) = 33 bytes */
    rill_driver_t *driver = suppress_driver(
        &(setup_t){.suppressed = {.max_bytes = 66, .when_full = RILL_BUFFER_FULL_EMIT_EARLY}},
        &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "b", 1);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    pipe_at(driver, "c", 1);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=1");
    stop(driver, topology);
}

/* Session updates as "key@start-end=value". */
static char *drain_sessions(rill_driver_t *driver)
{
    rill_serde_t *serde = rill_serde_session_windowed_new(rill_serde_string());
    GString *out = g_string_new(NULL);
    rill_record_t *r;
    while ((r = rill_driver_read_output(driver, "out", serde, rill_serde_string(), NULL)) != NULL) {
        const rill_windowed_t *w = rill_value_windowed(rill_record_key(r));
        assert_non_null(w);
        g_string_append_printf(out, "%s%s@%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "=%s",
                               out->len > 0 ? "," : "", rill_value_string(rill_windowed_key(w)),
                               rill_windowed_start(w), rill_windowed_end(w),
                               rill_value_string(rill_record_value(r)));
        rill_record_destroy(r);
    }
    rill_serde_unref(serde);
    return g_string_free(out, FALSE);
}

static void test_suppress__sessions_final_after_gap_and_grace(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = suppress_driver(&(setup_t){.sessions = true, .grace = 2}, &topology);
    pipe_at(driver, "a", 0);
    pipe_at(driver, "a", 3); /* [0, 3]: closes at 3 + 5 + 2 = 10 */
    pipe_at(driver, "a", 9); /* [9, 9] */
    g_autofree char *none = drain_sessions(driver);
    assert_string_equal(none, "");
    pipe_at(driver, "a", 10); /* [9, 10]; stream time 10: [0, 3] is final */
    g_autofree char *out = drain_sessions(driver);
    assert_string_equal(out, "a@0-3=2");
    pipe_at(driver, "a", 7); /* would merge the closed [0, 3] into [0, 10]: late */
    assert_int_equal(rill_driver_dropped_records(driver, NULL, "late"), 1);
    pipe_at(driver, "a", 12); /* [9, 12]: the merged-away [9, 10] is never emitted */
    pipe_at(driver, "b", 18);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    pipe_at(driver, "b", 19); /* 12 + 7 */
    g_autofree char *out2 = drain_sessions(driver);
    assert_string_equal(out2, "a@9-12=3"); /* 9, 10, 12 */
    stop(driver, topology);
}

static void test_suppress__emit_final_strategy(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = suppress_driver(&(setup_t){.emit_final = true}, &topology);
    pipe_at(driver, "a", 1);
    pipe_at(driver, "a", 5);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    pipe_at(driver, "a", 10);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=2");
    g_autofree char *description = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(description, "counts-suppress"));
    stop(driver, topology);
}

static void test_suppress__needs_a_windowed_table(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *counts =
        rill_grouped_count(rill_stream_group_by_key(string_stream(builder, "in"), NULL), NULL);
    assert_null(rill_table_suppress_until_window_closes(counts, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "windowed aggregation"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suppress__each_window_once_after_end_plus_grace),
        cmocka_unit_test(test_suppress__with_the_record_cache),
        cmocka_unit_test(test_suppress__restart_loses_nothing_and_emits_nothing_twice),
        cmocka_unit_test(test_suppress__full_buffer_shuts_down),
        cmocka_unit_test(test_suppress__full_buffer_emits_early),
        cmocka_unit_test(test_suppress__max_bytes),
        cmocka_unit_test(test_suppress__sessions_final_after_gap_and_grace),
        cmocka_unit_test(test_suppress__emit_final_strategy),
        cmocka_unit_test(test_suppress__needs_a_windowed_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
