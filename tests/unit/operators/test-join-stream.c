/* test-join-stream.c: stream-stream windowed joins (inner, left, outer) through the test driver:
 * window bounds, output timestamps, when left/outer results are emitted, late records, restarts
 * (buffers and the outer store restored from their changelogs), repartitioning re-keyed inputs. */
#include "tests/unit/operators/helpers.h"

#include "runtime/task.h"

/* "L+R", a missing side as "~". */
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

static void pipe_at(rill_driver_t *driver, const char *topic, const char *key, const char *value,
                    int64_t timestamp)
{
    rill_error_t *error = NULL;
    if (rill_driver_pipe_string(driver, topic, key, value, timestamp, &error) != RILL_OK)
        fail_msg("pipe: %s", rill_error_message(error));
}

/* The unread records of topic as "key=value@timestamp" joined by ",". (transfer full) */
static char *drain_at(rill_driver_t *driver, const char *topic)
{
    GString *out = g_string_new(NULL);
    rill_record_t *r;
    while ((r = rill_driver_read_output(driver, topic, rill_serde_string(), rill_serde_string(),
                                        NULL)) != NULL) {
        const char *key = rill_value_string(rill_record_key(r));
        const char *value = rill_value_string(rill_record_value(r));
        g_string_append_printf(out, "%s%s=%s@%" G_GINT64_FORMAT, out->len > 0 ? "," : "",
                               key ? key : "~", value ? value : "~", rill_record_timestamp(r));
        rill_record_destroy(r);
    }
    return g_string_free(out, FALSE);
}

typedef rill_stream_t *(*join_fn)(rill_stream_t *, rill_stream_t *, rill_joiner_fn, void *,
                                  rill_join_windows_t, const rill_stream_joined_t *);

/* orders ⋈ payments within 10 ms either way, grace 5, to "out". */
static rill_driver_t *start_join(join_fn fn, rill_topology_t **topology,
                                 const rill_driver_config_t *config)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_t *payments = string_stream(builder, "payments");
    rill_stream_t *joined = fn(orders, payments, concat, NULL, rill_join_windows_of(10, 5),
                               &(rill_stream_joined_t){.name = "j"});
    assert_int_equal(rill_stream_to(joined, "out", NULL), RILL_OK);
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_t *driver = rill_driver_new(*topology, config, &error);
    assert_non_null(driver);
    return driver;
}

static void test_join_stream__inner_window_bounds_and_timestamps(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_stream_join, &topology, NULL);
    pipe_at(driver, "orders", "a", "A1", 100);
    pipe_at(driver, "payments", "a", "B1", 110);  /* 100 + 10: inside (inclusive) */
    pipe_at(driver, "payments", "a", "B2", 111);  /* 100 + 11: outside */
    pipe_at(driver, "payments", "b", "X", 100);   /* another key */
    pipe_at(driver, "orders", "a", "A2", 101);    /* B1 and B2 within 10 */
    pipe_at(driver, "payments", "a", "B0", 97);   /* joins A1 and A2, in time order */
    pipe_at(driver, "orders", "a", "A3", 100);    /* a second record at 100: both kept */
    g_autofree char *out = drain_at(driver, "out");
    assert_string_equal(out, "a=A1+B1@110,a=A2+B1@110,a=A2+B2@111,a=A1+B0@100,a=A2+B0@101,"
                             "a=A3+B0@100,a=A3+B1@110");
    /* an inner join emits nothing for records that never joined, however late it gets */
    pipe_at(driver, "orders", "z", "Z", 1000);
    g_autofree char *none = drain_at(driver, "out");
    assert_string_equal(none, "");
    stop(driver, topology);
}

static void test_join_stream__asymmetric_windows(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_t *payments = string_stream(builder, "payments");
    /* a payment may come up to 20 after its order, never before it */
    rill_join_windows_t windows = {.before_ms = 0, .after_ms = 20, .grace_ms = 0};
    rill_stream_to(rill_stream_join(orders, payments, concat, NULL, windows, NULL), "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_at(driver, "orders", "a", "A", 100);
    pipe_at(driver, "payments", "a", "early", 99);
    pipe_at(driver, "payments", "a", "late", 120);
    pipe_at(driver, "payments", "a", "too-late", 121); /* A's window ends at 120 */
    g_autofree char *out = drain_at(driver, "out");
    assert_string_equal(out, "a=A+late@120");
    stop(driver, topology);
}

static void test_join_stream__left_emits_unjoined_after_window_closes(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_stream_left_join, &topology, NULL);
    pipe_at(driver, "orders", "a", "A1", 100); /* never paid */
    pipe_at(driver, "orders", "b", "C1", 100);
    pipe_at(driver, "payments", "b", "D1", 108); /* C1 joins: no (C1, null) later */
    pipe_at(driver, "payments", "q", "P", 108);  /* a right record alone: nothing in a left join */
    g_autofree char *joined = drain_at(driver, "out");
    assert_string_equal(joined, "b=C1+D1@108");
    /* A1's window closes when stream time passes 100 + 10 + 5 */
    pipe_at(driver, "orders", "c", "E1", 115);
    g_autofree char *still = drain_at(driver, "out");
    assert_string_equal(still, "");
    pipe_at(driver, "orders", "d", "F1", 116);
    g_autofree char *emitted = drain_at(driver, "out");
    assert_string_equal(emitted, "a=A1+~@100");
    /* a record whose window has closed is late: dropped and counted */
    pipe_at(driver, "orders", "e", "G", 100);
    pipe_at(driver, "payments", "e", "H", 100);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, "late"), 2);
    /* null keys and values join nothing */
    pipe_at(driver, "orders", NULL, "N", 116);
    pipe_at(driver, "orders", "n", NULL, 116);
    assert_int_equal(rill_driver_dropped_records(driver, NULL, "null_key"), 2);
    pipe_at(driver, "orders", "z", "Z", 200); /* closes E1 (115) and F1 (116), in time order */
    g_autofree char *rest = drain_at(driver, "out");
    assert_string_equal(rest, "c=E1+~@115,d=F1+~@116");
    stop(driver, topology);
}

static void outer_emits_both_sides(const rill_driver_config_t *config)
{
    rill_topology_t *topology;
    rill_driver_t *driver = start_join(rill_stream_outer_join, &topology, config);
    pipe_at(driver, "orders", "a", "A", 100);
    pipe_at(driver, "payments", "b", "B", 101);
    pipe_at(driver, "payments", "c", "C1", 102);
    pipe_at(driver, "payments", "c", "C2", 102); /* two unjoined of one time: both emitted */
    pipe_at(driver, "orders", "c", "O", 103);    /* joins C1 and C2: neither is emitted alone */
    g_autofree char *joined = drain_at(driver, "out");
    assert_string_equal(joined, "c=O+C1@103,c=O+C2@103");
    /* closes A (100 + 15 < 116), not B (101 + 15 = 116) */
    pipe_at(driver, "orders", "x", "X", 116);
    g_autofree char *first = drain_at(driver, "out");
    assert_string_equal(first, "a=A+~@100");
    pipe_at(driver, "payments", "y", "Y", 117);
    g_autofree char *second = drain_at(driver, "out");
    assert_string_equal(second, "b=~+B@101");
    pipe_at(driver, "payments", "y", "Y2", 1000);
    g_autofree char *rest = drain_at(driver, "out");
    assert_string_equal(rest, "x=X+~@116,y=~+Y@117");
    stop(driver, topology);
}

static void test_join_stream__outer_emits_both_sides(void **unused)
{
    (void)unused;
    outer_emits_both_sides(NULL);
}

/* With the record cache on (the outer store is cached: reads and scans see
 * what it holds), the output is the same and comes at once. */
static void test_join_stream__outer_with_caching(void **unused)
{
    (void)unused;
    outer_emits_both_sides(&(rill_driver_config_t){.cache_max_bytes = 1 << 20});
}

/* before 0, after 20: a left record's window closes 20 ms after a right
 * record's of the same time; the outer store is scanned in time order. */
static void test_join_stream__outer_asymmetric_windows(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_t *payments = string_stream(builder, "payments");
    rill_join_windows_t windows = {.before_ms = 0, .after_ms = 20, .grace_ms = 0};
    rill_stream_to(rill_stream_outer_join(orders, payments, concat, NULL, windows, NULL), "out",
                   NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_at(driver, "orders", "a", "A", 100);   /* closes when stream time passes 120 */
    pipe_at(driver, "payments", "b", "B", 105); /* closes when it passes 105 */
    pipe_at(driver, "orders", "c", "C", 106);
    g_autofree char *first = drain_at(driver, "out");
    assert_string_equal(first, "b=~+B@105");
    pipe_at(driver, "orders", "d", "D", 120);
    g_autofree char *none = drain_at(driver, "out");
    assert_string_equal(none, "");
    pipe_at(driver, "orders", "e", "E", 121);
    g_autofree char *second = drain_at(driver, "out");
    assert_string_equal(second, "a=A+~@100");
    pipe_at(driver, "payments", "f", "F", 200);
    g_autofree char *rest = drain_at(driver, "out");
    assert_string_equal(rest, "c=C+~@106,d=D+~@120,e=E+~@121");
    stop(driver, topology);
}

/* The buffers and the outer store come back from their changelogs after a
 * restart, clean (committed) or as after a crash. */
static void restart_keeps_state(bool commit, const char *state_dir)
{
    rill_topology_t *topology;
    rill_driver_config_t config = {.state_dir = state_dir};
    rill_driver_t *driver = start_join(rill_stream_left_join, &topology, &config);
    pipe_at(driver, "orders", "a", "A", 100);
    pipe_at(driver, "orders", "b", "B", 101);
    rill_error_t *error = NULL;
    if (commit)
        assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    assert_int_equal(rill_driver_restart(driver, commit, &error), RILL_OK);
    pipe_at(driver, "payments", "b", "P", 105); /* joins B from the restored buffer */
    pipe_at(driver, "orders", "c", "C", 120);   /* closes A (restored outer entry), not B */
    g_autofree char *out = drain_at(driver, "out");
    assert_string_equal(out, "b=B+P@105,a=A+~@100");
    /* a second restart: A is not emitted again, C still waits */
    assert_int_equal(rill_driver_restart(driver, commit, &error), RILL_OK);
    pipe_at(driver, "orders", "d", "D", 200);
    g_autofree char *rest = drain_at(driver, "out");
    assert_string_equal(rest, "c=C+~@120");
    stop(driver, topology);
}

static void test_join_stream__restart_restores_buffers(void **unused)
{
    (void)unused;
    restart_keeps_state(true, NULL);
    restart_keeps_state(false, NULL);
    g_autofree char *dir = g_dir_make_tmp("rill-join-XXXXXX", NULL);
    assert_non_null(dir);
    restart_keeps_state(true, dir);
    g_autofree char *dir2 = g_dir_make_tmp("rill-join-XXXXXX", NULL);
    restart_keeps_state(false, dir2);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s' '%s'", dir, dir2);
    assert_int_equal(system(cmd), 0);
}

static rill_err_t first_char_key(const rill_record_t *record, rill_value_t *out, void *ud,
                                 rill_error_t **error)
{
    (void)ud;
    (void)error;
    const char *v = rill_value_string(rill_record_value(record));
    rill_value_set_string(out, g_strndup(v, 1), g_free);
    return RILL_OK;
}

static void test_join_stream__rekeyed_input_is_repartitioned(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_t *payments = string_stream(builder, "payments");
    rill_stream_t *by_value = rill_stream_select_key(orders, first_char_key, NULL, NULL);
    rill_stream_t *joined = rill_stream_join(by_value, payments, concat, NULL,
                                             rill_join_windows_of(10, 0),
                                             &(rill_stream_joined_t){.name = "rk"});
    rill_stream_to(joined, "out", NULL);
    rill_topology_t *topology;
    rill_error_t *error = NULL;
    topology = rill_builder_build(builder, &error);
    assert_null(error);
    rill_builder_destroy(builder);
    rill_driver_t *driver = rill_driver_new(
        topology, &(rill_driver_config_t){.application_id = "app", .partitions = 3}, &error);
    assert_non_null(driver);
    pipe_at(driver, "payments", "x", "paid", 100);
    pipe_at(driver, "orders", "o1", "x-order", 100); /* re-keyed to "x" */
    g_autofree char *out = drain_at(driver, "out");
    assert_string_equal(out, "x=x-order+paid@100");
    g_autofree char *description = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(description, "rk-left-repartition"));
    assert_null(strstr(description, "rk-right-repartition"));
    /* the repartition topic is created with the partition count of the
     * topic it is joined with, not of the one it was re-keyed from */
    assert_string_equal(rill__topology_internal_topic_source(topology, "app-rk-left-repartition"),
                        "payments");
    /* the buffers' changelogs are windowed: compact,delete, kept for the
     * buffers' retention (2 x 10 + 0 + 1 ms) + 24 h */
    const char *const *config =
        rill__topology_internal_topic_config(topology, "app-rk-this-join-store-changelog");
    assert_non_null(config);
    g_autofree char *config_text = g_strjoinv(",", (char **)config);
    assert_string_equal(config_text, "cleanup.policy,compact,delete,retention.ms,86400021,"
                                "message.timestamp.type,CreateTime");
    stop(driver, topology);
}

static void test_join_stream__bad_arguments(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *a = string_stream(builder, "a");
    rill_stream_t *b = string_stream(builder, "b");
    rill_join_windows_t negative = {.before_ms = -1, .after_ms = 10, .grace_ms = 0};
    assert_null(rill_stream_join(a, b, concat, NULL, negative, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), ">= 0"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);

    builder = rill_builder_new();
    a = string_stream(builder, "a");
    assert_null(rill_stream_outer_join(a, string_stream(builder, "b"), NULL, NULL,
                                       rill_join_windows_of(1, 0), NULL));
    error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "joiner"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_stream__inner_window_bounds_and_timestamps),
        cmocka_unit_test(test_join_stream__asymmetric_windows),
        cmocka_unit_test(test_join_stream__left_emits_unjoined_after_window_closes),
        cmocka_unit_test(test_join_stream__outer_emits_both_sides),
        cmocka_unit_test(test_join_stream__outer_with_caching),
        cmocka_unit_test(test_join_stream__outer_asymmetric_windows),
        cmocka_unit_test(test_join_stream__restart_restores_buffers),
        cmocka_unit_test(test_join_stream__rekeyed_input_is_repartitioned),
        cmocka_unit_test(test_join_stream__bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
