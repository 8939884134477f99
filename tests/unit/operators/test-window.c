/* test-window.c: windowed aggregations through the test driver: tumbling, hopping, sliding and
 * session windows at their boundaries, grace and lateness (the late-drop count), stream time
 * across restarts, windowed keys and serdes, and the DSL's argument checks. Suppression
 * (emit-final) is in test-suppress.c. */
#include "tests/unit/operators/helpers.h"

#include <glib/gstdio.h>

/* "<key>@<start>=<count>" lines come from: toStream → value as decimal → to(out) with the
 * windowed text serde. */
static rill_err_t to_text(const rill_record_t *record, rill_value_t *out, void *ud,
                          rill_error_t **error)
{
    (void)ud;
    (void)error;
    const rill_value_t *value = rill_record_value(record);
    if (rill_value_type(value) == RILL_VALUE_INT64)
        rill_value_set_string(out, g_strdup_printf("%" G_GINT64_FORMAT, rill_value_int64(value)),
                              g_free);
    else if (rill_value_type(value) == RILL_VALUE_STRING)
        rill_value_set_view(out, value);
    return RILL_OK;
}

static void to_out(rill_table_t *table)
{
    rill_produced_t produced = {.key_serde = rill_serde_windowed_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(table, NULL), to_text, NULL, NULL),
                   "out", &produced);
}

static rill_grouped_t *grouped_in(rill_builder_t *builder)
{
    return rill_stream_group_by_key(string_stream(builder, "in"), NULL);
}

static rill_driver_t *driver_of(rill_builder_t *builder, rill_topology_t **topology,
                                const char *state_dir)
{
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.state_dir = state_dir};
    rill_driver_t *driver = rill_driver_new(*topology, &config, &error);
    if (driver == NULL)
        fail_msg("driver: %s", rill_error_message(error));
    return driver;
}

static void pipe_at(rill_driver_t *driver, const char *key, const char *value, int64_t ts)
{
    rill_error_t *error = NULL;
    if (rill_driver_pipe_string(driver, "in", key, value, ts, &error) != RILL_OK)
        fail_msg("pipe: %s", rill_error_message(error));
}

static uint64_t late(rill_driver_t *driver)
{
    return rill_driver_dropped_records(driver, NULL, "late");
}

/* ---- tumbling and hopping ------------------------------------------------------------- */

static rill_driver_t *time_count_driver(rill_time_windows_t windows, rill_topology_t **topology,
                                        const char *state_dir)
{
    rill_builder_t *builder = rill_builder_new();
    to_out(rill_time_windowed_count(rill_grouped_windowed_by(grouped_in(builder), &windows),
                                    &(rill_materialized_t){.name = "counts"}));
    return driver_of(builder, topology, state_dir);
}

static void test_window__tumbling_start_inclusive_end_exclusive(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = time_count_driver(rill_time_windows_of_size(10, 100), &topology, NULL);
    pipe_at(driver, "a", "x", 0);  /* [0, 10) */
    pipe_at(driver, "a", "x", 9);  /* [0, 10): the last ms */
    pipe_at(driver, "a", "x", 10); /* [10, 20): the end is exclusive */
    pipe_at(driver, "b", "x", 19);
    pipe_at(driver, "a", "x", 20);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=1,a@0=2,a@10=1,b@10=1,a@20=1");
    assert_int_equal(late(driver), 0);
    stop(driver, topology);
}

static void test_window__hopping_every_window_holding_the_record(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = time_count_driver(
        (rill_time_windows_t){.size_ms = 10, .advance_ms = 5, .grace_ms = 100}, &topology, NULL);
    pipe_at(driver, "a", "x", 7);  /* [0, 10) and [5, 15) */
    pipe_at(driver, "a", "x", 10); /* [5, 15) and [10, 20), not [0, 10) */
    pipe_at(driver, "a", "x", 4);  /* [-5, 5) and [0, 10) */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=1,a@5=1,a@5=2,a@10=1,a@-5=1,a@0=2");
    stop(driver, topology);
}

static void test_window__grace_accepts_until_end_plus_grace(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = time_count_driver(rill_time_windows_of_size(10, 5), &topology, NULL);
    pipe_at(driver, "a", "x", 0);
    pipe_at(driver, "a", "x", 14); /* stream time 14: [0, 10) closes at 15 */
    pipe_at(driver, "a", "x", 9);  /* 10 + 5 > 14: still open */
    assert_int_equal(late(driver), 0);
    pipe_at(driver, "a", "x", 15); /* stream time 15: [0, 10) closed */
    pipe_at(driver, "a", "x", 9);  /* late: dropped and counted */
    pipe_at(driver, "b", "x", 3);  /* late too (another key, same task) */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@0=1,a@10=1,a@0=2,a@10=2");
    assert_int_equal(late(driver), 2);
    stop(driver, topology);
}

static void test_window__no_grace_closes_at_the_end(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = time_count_driver(rill_time_windows_of_size(10, 0), &topology, NULL);
    pipe_at(driver, "a", "x", 10);
    pipe_at(driver, "a", "x", 9); /* [0, 10) ended at 10 = stream time */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@10=1");
    assert_int_equal(late(driver), 1);
    stop(driver, topology);
}

static void test_window__hopping_late_for_some_windows_only(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = time_count_driver(
        (rill_time_windows_t){.size_ms = 10, .advance_ms = 5}, &topology, NULL);
    pipe_at(driver, "a", "x", 12);
    pipe_at(driver, "a", "x", 7); /* [0, 10) closed (10 <= 12), [5, 15) open */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@5=1,a@10=1,a@5=2");
    assert_int_equal(late(driver), 0); /* not late: one of its windows took it */
    stop(driver, topology);
}

static void test_window__stream_time_survives_restart(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    g_autofree char *dir = g_dir_make_tmp("rill-test-window-XXXXXX", NULL);
    rill_driver_t *driver = time_count_driver(rill_time_windows_of_size(10, 0), &topology, dir);
    pipe_at(driver, "a", "x", 25);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_restart(driver, true, &error), RILL_OK);
    /* a new task: stream time comes back from the store, so 5 is still late */
    pipe_at(driver, "a", "x", 5);
    assert_int_equal(late(driver), 1);
    /* and after a crash (nothing committed since) likewise */
    assert_int_equal(rill_driver_restart(driver, false, &error), RILL_OK);
    pipe_at(driver, "b", "x", 14);
    assert_int_equal(late(driver), 1);
    pipe_at(driver, "b", "x", 21);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@20=1,b@20=1");
    stop(driver, topology);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static rill_err_t concat(const rill_value_t *aggregate, const rill_value_t *value,
                         rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out,
                          g_strdup_printf("%s+%s", rill_value_string(aggregate),
                                          rill_value_string(value)),
                          g_free);
    return RILL_OK;
}

static rill_err_t init_empty(rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_string(out, "", NULL);
    return RILL_OK;
}

static rill_err_t add_len(const rill_value_t *key, const rill_value_t *value,
                          const rill_value_t *aggregate, rill_value_t *out, void *ud,
                          rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    rill_value_set_string(out,
                          g_strdup_printf("%s[%s]", rill_value_string(aggregate),
                                          rill_value_string(value)),
                          g_free);
    return RILL_OK;
}

static void test_window__reduce_and_aggregate(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_grouped_t *grouped = grouped_in(builder);
    rill_time_windowed_t *windowed =
        rill_grouped_windowed_by(grouped, &(rill_time_windows_t){.size_ms = 10});
    rill_materialized_t strings = {.name = "reduced", .value_serde = rill_serde_string()};
    to_out(rill_time_windowed_reduce(windowed, concat, NULL, &strings));
    rill_materialized_t agg = {.name = "aggregated", .value_serde = rill_serde_string()};
    rill_produced_t produced = {.key_serde = rill_serde_windowed_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(rill_table_to_stream(rill_time_windowed_aggregate(windowed, init_empty, add_len,
                                                                     NULL, &agg),
                                        NULL),
                   "agg", &produced);
    rill_topology_t *topology;
    rill_driver_t *driver = driver_of(builder, &topology, NULL);
    pipe_at(driver, "k", "x", 1);
    pipe_at(driver, "k", "y", 2);
    pipe_at(driver, "k", "z", 12);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "k@0=x,k@0=x+y,k@10=z");
    g_autofree char *aggs = drain(driver, "agg");
    assert_string_equal(aggs, "k@0=[x],k@0=[x][y],k@10=[z]");
    stop(driver, topology);
}

/* ---- sliding windows ---------------------------------------------------------------- */

static void test_window__sliding_windows_where_records_are(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    to_out(rill_time_windowed_count(
        rill_grouped_windowed_by_sliding(grouped_in(builder),
                                         &(rill_sliding_windows_t){.time_difference_ms = 10,
                                                                   .grace_ms = 100}),
        &(rill_materialized_t){.name = "sliding"}));
    rill_topology_t *topology;
    rill_driver_t *driver = driver_of(builder, &topology, NULL);
    pipe_at(driver, "a", "x", 100); /* [90, 100] */
    pipe_at(driver, "a", "x", 105); /* [95, 105] = {100, 105}; [101, 111] = {105} */
    pipe_at(driver, "a", "x", 110); /* [100, 110] (both ends inclusive) = 3, and [101, 111] = 2 */
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "a@90=1,a@95=2,a@101=1,a@100=3,a@101=2,a@106=1");
    /* out of order: 103 joins [95,105], [100,110], [101,111] and makes [104,114] (105, 110) */
    pipe_at(driver, "a", "x", 103);
    g_autofree char *out2 = drain(driver, "out");
    assert_string_equal(out2, "a@93=2,a@95=3,a@100=4,a@101=3,a@104=2");
    stop(driver, topology);
}

static void test_window__sliding_late_after_grace(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    to_out(rill_time_windowed_count(
        rill_grouped_windowed_by_sliding(grouped_in(builder),
                                         &(rill_sliding_windows_t){.time_difference_ms = 10,
                                                                   .grace_ms = 5}),
        NULL));
    rill_topology_t *topology;
    rill_driver_t *driver = driver_of(builder, &topology, NULL);
    pipe_at(driver, "a", "x", 100);
    pipe_at(driver, "a", "x", 84); /* 84 + 10 + 5 <= 100: every window with it is closed */
    assert_int_equal(late(driver), 1);
    pipe_at(driver, "a", "x", 86); /* 86 + 10 + 5 > 100: taken (kept for later windows) */
    assert_int_equal(late(driver), 1);
    g_autofree char *out = drain(driver, "out");
    /* [90,100]; 86: its own [76, 86] is closed, the window after it [87, 97] is empty; and
     * [90, 100] does not hold 86. Only the record is kept. */
    assert_string_equal(out, "a@90=1");
    stop(driver, topology);
}

/* ---- session windows ---------------------------------------------------------------- */

static rill_err_t merge_text(const rill_value_t *key, const rill_value_t *a, const rill_value_t *b,
                             rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    rill_value_set_string(out, g_strdup_printf("%s%s", rill_value_string(a), rill_value_string(b)),
                          g_free);
    return RILL_OK;
}

/* Session updates as "key@start-end=value" ("~" for a deleted session). */
static char *drain_sessions(rill_driver_t *driver, const char *topic, int64_t *dummy)
{
    (void)dummy;
    rill_serde_t *serde = rill_serde_session_windowed_new(rill_serde_string());
    GString *out = g_string_new(NULL);
    rill_record_t *r;
    rill_error_t *error = NULL;
    while ((r = rill_driver_read_output(driver, topic, serde, rill_serde_string(), &error)) !=
           NULL) {
        const rill_windowed_t *w = rill_value_windowed(rill_record_key(r));
        assert_non_null(w);
        const char *value = rill_value_string(rill_record_value(r));
        g_string_append_printf(out, "%s%s@%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT "=%s",
                               out->len > 0 ? "," : "",
                               rill_value_string(rill_windowed_key(w)), rill_windowed_start(w),
                               rill_windowed_end(w), value != NULL ? value : "~");
        rill_record_destroy(r);
    }
    if (error != NULL)
        fail_msg("read: %s", rill_error_message(error));
    rill_serde_unref(serde);
    return g_string_free(out, FALSE);
}

static rill_driver_t *session_driver(rill_topology_t **topology, bool count)
{
    rill_builder_t *builder = rill_builder_new();
    rill_session_windowed_t *windowed = rill_grouped_windowed_by_session(
        grouped_in(builder), &(rill_session_windows_t){.inactivity_gap_ms = 5, .grace_ms = 10});
    rill_table_t *table =
        count ? rill_session_windowed_count(windowed, &(rill_materialized_t){.name = "sessions"})
              : rill_session_windowed_aggregate(
                    windowed, init_empty, add_len, merge_text, NULL,
                    &(rill_materialized_t){.name = "sessions", .value_serde = rill_serde_string()});
    rill_serde_t *serde = rill_serde_session_windowed_new(rill_serde_string());
    rill_produced_t produced = {.key_serde = serde, .value_serde = rill_serde_string()};
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(table, NULL), to_text, NULL, NULL),
                   "out", &produced);
    rill_serde_unref(serde);
    return driver_of(builder, topology, NULL);
}

static void test_window__session_merge_and_separate(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = session_driver(&topology, true);
    pipe_at(driver, "a", "x", 0);
    pipe_at(driver, "a", "x", 4);  /* within the gap: [0, 4] */
    pipe_at(driver, "a", "x", 10); /* 6 after the last: a new session [10, 10] */
    g_autofree char *out = drain_sessions(driver, "out", NULL);
    assert_string_equal(out, "a@0-0=1,a@0-0=~,a@0-4=2,a@10-10=1");
    /* 7 is within 5 of 4 and of 10: the two sessions merge into [0, 10] (the old ones deleted) */
    pipe_at(driver, "a", "x", 7);
    g_autofree char *merged = drain_sessions(driver, "out", NULL);
    assert_string_equal(merged, "a@0-4=~,a@10-10=~,a@0-10=4");
    pipe_at(driver, "a", "x", 20); /* separate: [20, 20] */
    g_autofree char *separate = drain_sessions(driver, "out", NULL);
    assert_string_equal(separate, "a@20-20=1");
    /* a session takes records until stream time passes its end + gap + grace: 20 + 15 */
    pipe_at(driver, "b", "x", 34);
    pipe_at(driver, "a", "x", 16); /* merges with [20, 20] */
    assert_int_equal(late(driver), 0);
    pipe_at(driver, "b", "x", 40);
    pipe_at(driver, "a", "x", 24); /* [16, 24]: 24 + 15 <= 40: late */
    assert_int_equal(late(driver), 1);
    pipe_at(driver, "a", "x", 27); /* 27 - 5 > 20: a new session (open: 27 + 15 > 40) */
    assert_int_equal(late(driver), 1);
    g_autofree char *rest = drain_sessions(driver, "out", NULL);
    assert_string_equal(rest, "b@34-34=1,a@20-20=~,a@16-20=2,b@40-40=1,a@27-27=1");
    stop(driver, topology);
}

static void test_window__session_aggregate_uses_the_merger(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = session_driver(&topology, false);
    pipe_at(driver, "a", "p", 0);
    pipe_at(driver, "a", "q", 10);
    pipe_at(driver, "a", "r", 5); /* merger([p], [q]) then adder r */
    g_autofree char *out = drain_sessions(driver, "out", NULL);
    assert_string_equal(out, "a@0-0=[p],a@10-10=[q],a@0-0=~,a@10-10=~,a@0-10=[p][q][r]");
    stop(driver, topology);
}

/* ---- windowed keys and serdes ---------------------------------------------------------- */

static void test_window__windowed_serdes_round_trip(void **unused)
{
    (void)unused;
    rill_value_t *key = rill_value_new();
    rill_value_set_string(key, "user-7", NULL);
    rill_value_t *windowed = rill_value_new();
    rill_value_set_windowed(windowed, key, 60000, 120000);
    rill_value_destroy(key); /* the windowed key has its own copy */
    const rill_windowed_t *w = rill_value_windowed(windowed);
    assert_non_null(w);
    assert_string_equal(rill_value_string(rill_windowed_key(w)), "user-7");
    g_autofree char *text = rill_windowed_format(windowed);
    assert_string_equal(text, "user-7@60000");

    rill_serde_t *time_serde = rill_serde_time_windowed_new(rill_serde_string(), 60000);
    rill_buffer_t *buffer = rill_buffer_new();
    const void *data;
    size_t len;
    assert_int_equal(rill_serde_serialize(time_serde, windowed, buffer, &data, &len, NULL),
                     RILL_OK);
    /* Kafka Streams' layout: key | start, 8 bytes big-endian */
    static const uint8_t expected[] = {'u', 's', 'e', 'r', '-', '7', 0, 0, 0, 0, 0, 0, 0xea, 0x60};
    assert_int_equal(len, sizeof expected);
    assert_memory_equal(data, expected, sizeof expected);
    rill_value_t *back = rill_value_new();
    assert_int_equal(rill_serde_deserialize(time_serde, data, len, back, NULL), RILL_OK);
    const rill_windowed_t *wb = rill_value_windowed(back);
    assert_non_null(wb);
    assert_string_equal(rill_value_string(rill_windowed_key(wb)), "user-7");
    assert_int_equal(rill_windowed_start(wb), 60000);
    assert_int_equal(rill_windowed_end(wb), 120000);
    /* too short: a serde error, nothing made */
    rill_error_t *error = NULL;
    assert_int_equal(rill_serde_deserialize(time_serde, "abc", 3, back, &error), RILL_ERR_SERDE);
    rill_error_destroy(error);
    error = NULL;

    rill_serde_t *session_serde = rill_serde_session_windowed_new(rill_serde_string());
    assert_int_equal(rill_serde_serialize(session_serde, windowed, buffer, &data, &len, NULL),
                     RILL_OK);
    assert_int_equal(len, 6 + 16); /* key | end | start */
    assert_int_equal(rill_serde_deserialize(session_serde, data, len, back, NULL), RILL_OK);
    wb = rill_value_windowed(back);
    assert_int_equal(rill_windowed_start(wb), 60000);
    assert_int_equal(rill_windowed_end(wb), 120000);

    /* the text serde */
    assert_int_equal(rill_serde_serialize(rill_serde_windowed_string(), windowed, buffer, &data,
                                          &len, NULL),
                     RILL_OK);
    assert_int_equal(len, strlen("user-7@60000"));
    assert_memory_equal(data, "user-7@60000", len);
    assert_int_equal(rill_serde_deserialize(rill_serde_windowed_string(), "a@b@-5", 6, back, NULL),
                     RILL_OK);
    wb = rill_value_windowed(back);
    assert_string_equal(rill_value_string(rill_windowed_key(wb)), "a@b");
    assert_int_equal(rill_windowed_start(wb), -5);
    assert_int_equal(rill_serde_deserialize(rill_serde_windowed_string(), "nope", 4, back, &error),
                     RILL_ERR_SERDE);
    rill_error_destroy(error);
    error = NULL;

    /* a plain value is not a windowed key */
    rill_value_t *plain = rill_value_new();
    rill_value_set_int64(plain, 3);
    assert_null(rill_value_windowed(plain));
    assert_null(rill_windowed_format(plain));
    assert_int_equal(rill_serde_serialize(time_serde, plain, buffer, &data, &len, &error),
                     RILL_ERR_SERDE);
    rill_error_destroy(error);

    rill_value_destroy(plain);
    rill_value_destroy(back);
    rill_value_destroy(windowed);
    rill_buffer_destroy(buffer);
    rill_serde_unref(time_serde);
    rill_serde_unref(session_serde);
}

/* ---- the DSL's checks -------------------------------------------------------------------- */

static void expect_build_error(rill_builder_t *builder, const char *fragment)
{
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    assert_null(topology);
    assert_non_null(error);
    if (strstr(rill_error_message(error), fragment) == NULL)
        fail_msg("error '%s' lacks '%s'", rill_error_message(error), fragment);
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

static void test_window__bad_specifications_fail_the_build(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    assert_null(rill_grouped_windowed_by(grouped_in(builder), &(rill_time_windows_t){0}));
    expect_build_error(builder, "size_ms > 0");

    builder = rill_builder_new();
    assert_null(rill_grouped_windowed_by(
        grouped_in(builder), &(rill_time_windows_t){.size_ms = 10, .advance_ms = 11}));
    expect_build_error(builder, "advance_ms");

    builder = rill_builder_new();
    assert_null(rill_grouped_windowed_by(
        grouped_in(builder),
        &(rill_time_windows_t){.size_ms = 10, .grace_ms = 5, .retention_ms = 14}));
    expect_build_error(builder, "retention_ms 14");

    builder = rill_builder_new();
    assert_null(rill_grouped_windowed_by_session(grouped_in(builder),
                                                 &(rill_session_windows_t){.grace_ms = 1}));
    expect_build_error(builder, "inactivity_gap_ms > 0");

    builder = rill_builder_new();
    assert_null(rill_grouped_windowed_by_sliding(grouped_in(builder),
                                                 &(rill_sliding_windows_t){.grace_ms = -1}));
    expect_build_error(builder, "time_difference_ms > 0");

    builder = rill_builder_new();
    rill_session_windowed_t *sessions = rill_grouped_windowed_by_session(
        grouped_in(builder), &(rill_session_windows_t){.inactivity_gap_ms = 5});
    assert_null(rill_session_windowed_aggregate(sessions, init_empty, add_len, NULL, NULL, NULL));
    expect_build_error(builder, "merger");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window__tumbling_start_inclusive_end_exclusive),
        cmocka_unit_test(test_window__hopping_every_window_holding_the_record),
        cmocka_unit_test(test_window__grace_accepts_until_end_plus_grace),
        cmocka_unit_test(test_window__no_grace_closes_at_the_end),
        cmocka_unit_test(test_window__hopping_late_for_some_windows_only),
        cmocka_unit_test(test_window__stream_time_survives_restart),
        cmocka_unit_test(test_window__reduce_and_aggregate),
        cmocka_unit_test(test_window__sliding_windows_where_records_are),
        cmocka_unit_test(test_window__sliding_late_after_grace),
        cmocka_unit_test(test_window__session_merge_and_separate),
        cmocka_unit_test(test_window__session_aggregate_uses_the_merger),
        cmocka_unit_test(test_window__windowed_serdes_round_trip),
        cmocka_unit_test(test_window__bad_specifications_fail_the_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
