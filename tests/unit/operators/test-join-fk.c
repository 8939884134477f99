/* test-join-fk.c: the foreign-key table join (inner, left) through the test driver: updates of
 * either side, foreign-key changes, deletes, rows without a foreign key, stale answers dropped
 * by the hash check, the internal topics' names, several partitions, and a restart. */
#include "tests/unit/operators/helpers.h"

/* orders: "<customer>:<item>"; the foreign key is the customer (none without a ':'). */
static rill_err_t customer_of(const rill_value_t *key, const rill_value_t *value,
                              rill_value_t *fk_out, void *ud, rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    const char *v = rill_value_string(value);
    const char *colon = v != NULL ? strchr(v, ':') : NULL;
    if (colon != NULL)
        rill_value_set_string(fk_out, g_strndup(v, (gsize)(colon - v)), g_free);
    return RILL_OK;
}

/* "left|right", a missing side as "~". */
static rill_err_t concat(const rill_value_t *key, const rill_value_t *left,
                         const rill_value_t *right, rill_value_t *out, void *ud,
                         rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    const char *l = rill_value_string(left), *r = rill_value_string(right);
    rill_value_set_string(out, g_strdup_printf("%s|%s", l ? l : "~", r ? r : "~"), g_free);
    return RILL_OK;
}

static rill_table_t *string_table(rill_builder_t *builder, const char *topic, const char *store)
{
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    return rill_builder_table(builder, topic, &consumed,
                              &(rill_materialized_t){.name = store, .in_memory = true});
}

typedef rill_table_t *(*fk_join_fn)(rill_table_t *, rill_table_t *, rill_fk_extractor_fn,
                                    rill_joiner_fn, void *, const rill_fk_joined_t *,
                                    const rill_materialized_t *);

static rill_driver_t *start_fk(fk_join_fn fn, rill_topology_t **topology, int32_t partitions)
{
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *orders = string_table(builder, "orders", "orders");
    rill_table_t *customers = string_table(builder, "customers", "customers");
    rill_table_t *joined =
        fn(orders, customers, customer_of, concat, NULL, &(rill_fk_joined_t){.name = "fk"},
           &(rill_materialized_t){.name = "enriched", .key_serde = rill_serde_string(),
                                  .value_serde = rill_serde_string()});
    rill_stream_to(rill_table_to_stream(joined, NULL), "out", NULL);
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_t *driver =
        rill_driver_new(*topology, &(rill_driver_config_t){.partitions = partitions}, &error);
    assert_non_null(driver);
    return driver;
}

/* The output as a sorted list would hide order; with several partitions
 * the order across keys is not defined, so those tests compare per key. */
static void run_inner(int32_t partitions)
{
    rill_topology_t *topology;
    rill_driver_t *driver = start_fk(rill_table_fk_join, &topology, partitions);
    pipe_ok(driver, "customers", "c1", "ann");
    pipe_ok(driver, "orders", "o1", "c1:apple");
    pipe_ok(driver, "orders", "o2", "c2:pear"); /* no customer c2 yet */
    g_autofree char *a = drain(driver, "out");
    assert_string_equal(a, "o1=c1:apple|ann");
    pipe_ok(driver, "customers", "c2", "bob"); /* answers o2's subscription */
    pipe_ok(driver, "customers", "c1", "anne");
    g_autofree char *b = drain(driver, "out");
    assert_string_equal(b, "o2=c2:pear|bob,o1=c1:apple|anne");
    pipe_ok(driver, "orders", "o1", "c2:plum"); /* the foreign key changes */
    pipe_ok(driver, "customers", "c1", "ANN");  /* o1 no longer follows c1 */
    g_autofree char *c = drain(driver, "out");
    assert_string_equal(c, "o1=c2:plum|bob");
    pipe_ok(driver, "orders", "o2", "c3:fig"); /* to a customer that does not exist: row gone */
    g_autofree char *d = drain(driver, "out");
    assert_string_equal(d, "o2=~");
    pipe_ok(driver, "customers", "c2", "robert");
    g_autofree char *e = drain(driver, "out");
    assert_string_equal(e, "o1=c2:plum|robert");
    pipe_ok(driver, "customers", "c2", NULL); /* the right row deleted */
    g_autofree char *f = drain(driver, "out");
    assert_string_equal(f, "o1=~");
    pipe_ok(driver, "orders", "o3", "no-customer"); /* no foreign key: no row */
    pipe_ok(driver, "orders", "o1", NULL);          /* its row is gone already */
    pipe_ok(driver, "customers", "c3", "cy");       /* o2 (c3:fig) joins now */
    g_autofree char *g = drain(driver, "out");
    assert_string_equal(g, "o2=c3:fig|cy");
    pipe_ok(driver, "orders", "o2", NULL); /* the left row deleted */
    g_autofree char *h = drain(driver, "out");
    assert_string_equal(h, "o2=~");
    pipe_ok(driver, "customers", "c3", "cyril"); /* unsubscribed: nothing */
    g_autofree char *i = drain(driver, "out");
    assert_string_equal(i, "");
    stop(driver, topology);
}

static void test_join_fk__inner(void **unused)
{
    (void)unused;
    run_inner(1);
}

static void test_join_fk__inner_over_several_partitions(void **unused)
{
    (void)unused;
    run_inner(4);
}

static void test_join_fk__left(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_fk(rill_table_fk_left_join, &topology, 1);
    pipe_ok(driver, "orders", "o1", "c1:apple"); /* no customer: (left, null) */
    pipe_ok(driver, "customers", "c1", "ann");
    pipe_ok(driver, "orders", "o1", "loose"); /* no foreign key any more */
    pipe_ok(driver, "customers", "c1", "ANN"); /* o1 unsubscribed: nothing */
    pipe_ok(driver, "orders", "o2", "c1:pear");
    pipe_ok(driver, "customers", "c1", NULL); /* o2 keeps its row, right side null */
    pipe_ok(driver, "orders", "o1", NULL);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "o1=c1:apple|~,o1=c1:apple|ann,o1=loose|~,o2=c1:pear|ANN,"
                             "o2=c1:pear|~,o1=~");
    stop(driver, topology);
}

/* An answer computed from an older left value is dropped; one for the current value is not. */
static void test_join_fk__stale_answers_are_dropped(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_fk(rill_table_fk_join, &topology, 1);
    pipe_ok(driver, "customers", "c1", "ann");
    pipe_ok(driver, "orders", "o1", "c1:apple");
    g_autofree char *first = drain(driver, "out");
    assert_string_equal(first, "o1=c1:apple|ann");
    const char *topic = "rill-test-fk-subscription-response-topic";
    uint8_t answer[1 + 4 + 1 + 16 + 1 + 3] = {1, 0, 0, 0, 0, 1};
    /* the hash of an older value of o1 */
    GChecksum *checksum = g_checksum_new(G_CHECKSUM_MD5);
    g_checksum_update(checksum, (const guchar *)"c1:old", 6);
    gsize n = 16;
    g_checksum_get_digest(checksum, answer + 6, &n);
    g_checksum_free(checksum);
    answer[22] = 1;
    memcpy(answer + 23, "eve", 3);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_bytes(driver, topic, "o1", 2, answer, sizeof answer, 5,
                                            &error),
                     RILL_OK);
    g_autofree char *stale = drain(driver, "out");
    assert_string_equal(stale, "");
    /* the same answer for the current value is taken */
    checksum = g_checksum_new(G_CHECKSUM_MD5);
    g_checksum_update(checksum, (const guchar *)"c1:apple", 8);
    n = 16;
    g_checksum_get_digest(checksum, answer + 6, &n);
    g_checksum_free(checksum);
    assert_int_equal(rill_driver_pipe_bytes(driver, topic, "o1", 2, answer, sizeof answer, 6,
                                            &error),
                     RILL_OK);
    g_autofree char *taken = drain(driver, "out");
    assert_string_equal(taken, "o1=c1:apple|eve");
    /* a malformed one is an error, not a crash */
    assert_int_not_equal(rill_driver_pipe_bytes(driver, topic, "o1", 2, "x", 1, 7, &error),
                         RILL_OK);
    assert_non_null(error);
    rill_error_destroy(error);
    stop(driver, topology);
}

static void test_join_fk__internal_topics_and_restart(void **unused)
{
    (void)unused;
    rill_topology_t *topology;
    rill_driver_t *driver = start_fk(rill_table_fk_join, &topology, 2);
    g_autofree char *description = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(description, "fk-subscription-registration-topic"));
    assert_non_null(strstr(description, "fk-subscription-response-topic"));
    assert_null(strstr(description, "topic-repartition"));
    pipe_ok(driver, "customers", "c1", "ann");
    pipe_ok(driver, "orders", "o1", "c1:apple");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_restart(driver, false, &error), RILL_OK);
    /* the subscription store came back: the right side still answers o1 */
    pipe_ok(driver, "customers", "c1", "anne");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "o1=c1:apple|ann,o1=c1:apple|anne");
    assert_true(rill_driver_output_size(driver, "rill-test-fk-subscription-store-changelog") >= 1);
    stop(driver, topology);
}

/* With the record cache on, the right row's deletion is answered while the
 * left row's newer value (same foreign key) is still in its cache: that
 * answer is stale and dropped, so the newer value's subscription must be
 * answered although there is no right row, or the old joined row stays. */
static void test_join_fk__cached_update_after_a_stale_deletion(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    /* customers first: its store flushes first at a commit */
    rill_table_t *customers = string_table(builder, "customers", "customers");
    rill_table_t *orders = string_table(builder, "orders", "orders");
    rill_table_t *joined = rill_table_fk_join(orders, customers, customer_of, concat, NULL,
                                              &(rill_fk_joined_t){.name = "fk"}, NULL);
    rill_stream_to(rill_table_to_stream(joined, NULL), "out", NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    assert_null(error);
    rill_builder_destroy(builder);
    rill_driver_t *driver = rill_driver_new(
        topology, &(rill_driver_config_t){.cache_max_bytes = 1 << 20}, &error);
    assert_non_null(driver);
    pipe_ok(driver, "customers", "c1", "ann");
    pipe_ok(driver, "orders", "o1", "c1:apple");
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    g_autofree char *first = drain(driver, "out");
    assert_string_equal(first, "o1=c1:apple|ann");
    pipe_ok(driver, "customers", "c1", NULL);
    pipe_ok(driver, "orders", "o1", "c1:pear");
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    assert_int_equal(rill_driver_commit(driver, &error), RILL_OK);
    g_autofree char *second = drain(driver, "out");
    assert_string_equal(second, "o1=~");
    stop(driver, topology);
}

static void test_join_fk__bad_arguments(void **unused)
{
    (void)unused;
    rill_builder_t *builder = rill_builder_new();
    rill_table_t *orders = string_table(builder, "orders", "orders");
    rill_table_t *customers = string_table(builder, "customers", "customers");
    assert_null(rill_table_fk_join(orders, customers, NULL, concat, NULL, NULL, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "extractor"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_fk__inner),
        cmocka_unit_test(test_join_fk__inner_over_several_partitions),
        cmocka_unit_test(test_join_fk__left),
        cmocka_unit_test(test_join_fk__stale_answers_are_dropped),
        cmocka_unit_test(test_join_fk__internal_topics_and_restart),
        cmocka_unit_test(test_join_fk__cached_update_after_a_stale_deletion),
        cmocka_unit_test(test_join_fk__bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
