/* test-global.c: global tables and the stream–global-table join, through the test driver.
 *
 * Orders (key = order id, value = "<product id>:<qty>") are enriched from a
 * global table of products (key = product id, value = name) that the driver
 * keeps outside the tasks: any partition of the stream sees every product. */
#include "config.h"

#include "tests/unit/operators/helpers.h"

#include <glib/gstdio.h>
#include <inttypes.h>

/* The product id before ':' of the order's value; no ':' → null (no key). */
static rill_err_t product_of(const rill_record_t *record, rill_value_t *out, void *user_data,
                             rill_error_t **error)
{
    (void)user_data;
    (void)error;
    const char *value = rill_value_string(rill_record_value(record));
    const char *colon = value != NULL ? strchr(value, ':') : NULL;
    if (colon != NULL) {
        g_autofree char *id = g_strndup(value, (gsize)(colon - value));
        rill_value_set_string(out, g_steal_pointer(&id), g_free);
    }
    return RILL_OK;
}

/* "<product name or ?> x<qty>" */
static rill_err_t describe_order(const rill_record_t *record, const rill_value_t *product,
                                 rill_value_t *out, void *user_data, rill_error_t **error)
{
    (void)error;
    int *calls = user_data;
    if (calls != NULL)
        (*calls)++;
    const char *value = rill_value_string(rill_record_value(record));
    const char *colon = value != NULL ? strchr(value, ':') : NULL;
    const char *name = rill_value_string(product);
    g_autofree char *text =
        g_strdup_printf("%s x%s", name != NULL ? name : "?", colon != NULL ? colon + 1 : "?");
    rill_value_set_string(out, g_steal_pointer(&text), g_free);
    return RILL_OK;
}

/* orders ⋈ products → "enriched"; left: left join. */
static rill_topology_t *enrich_topology(bool left, bool in_memory, void *user_data)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_materialized_t materialized = {.name = "products", .in_memory = in_memory};
    rill_global_table_t *products =
        rill_builder_global_table(builder, "products", &consumed, &materialized);
    assert_non_null(products);
    assert_string_equal(rill_global_table_store(products), "products");
    /* no store name: generated from the topic */
    assert_string_equal(
        rill_global_table_store(rill_builder_global_table(builder, "currencies", &consumed, NULL)),
        "currencies-STATE-STORE-0000000000");
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_t *enriched =
        left ? rill_stream_left_join_global(orders, products, product_of, describe_order, user_data,
                                            "enrich")
             : rill_stream_join_global(orders, products, product_of, describe_order, user_data,
                                       "enrich");
    rill_stream_to(enriched, "enriched", NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    return topology;
}

static rill_driver_t *driver_of(rill_topology_t *topology, int32_t partitions,
                                const char *state_dir)
{
    rill_driver_config_t config = {.partitions = partitions, .state_dir = state_dir};
    rill_error_t *error = NULL;
    rill_driver_t *driver = rill_driver_new(topology, &config, &error);
    if (driver == NULL)
        fail_msg("driver: %s", rill_error_message(error));
    return driver;
}

static void pipe_at(rill_driver_t *driver, const char *topic, const char *key, const char *value,
                    int32_t partition)
{
    rill_driver_input_t input = {
        .key = key,
        .key_len = key != NULL ? strlen(key) : 0,
        .value = value,
        .value_len = value != NULL ? strlen(value) : 0,
        .timestamp = 1,
        .partition = partition,
    };
    rill_error_t *error = NULL;
    if (rill_driver_pipe(driver, topic, &input, &error) != RILL_OK)
        fail_msg("pipe %s: %s", topic, rill_error_message(error));
}

static void test_global__inner_join_enriches_from_any_partition(void **state)
{
    (void)state;
    rill_topology_t *topology = enrich_topology(false, false, NULL);
    rill_driver_t *driver = driver_of(topology, 4, NULL);
    /* the products sit in partitions the orders are not in: no co-partitioning */
    pipe_at(driver, "products", "p1", "widget", 3);
    pipe_at(driver, "products", "p2", "gadget", 2);
    pipe_at(driver, "orders", "o1", "p1:3", 0);
    pipe_at(driver, "orders", "o2", "p2:1", 1);
    pipe_at(driver, "orders", "o3", "p9:5", 2); /* no such product: dropped */
    g_autofree char *out = drain(driver, "enriched");
    assert_string_equal(out, "o1=widget x3,o2=gadget x1");
    /* a table update alone produces nothing; the next order sees it */
    pipe_at(driver, "products", "p1", "widget v2", 0);
    g_autofree char *none = drain(driver, "enriched");
    assert_string_equal(none, "");
    pipe_at(driver, "orders", "o4", "p1:1", 3);
    g_autofree char *updated = drain(driver, "enriched");
    assert_string_equal(updated, "o4=widget v2 x1");
    /* a null value deletes the row */
    pipe_at(driver, "products", "p1", NULL, 0);
    pipe_at(driver, "orders", "o5", "p1:1", 3);
    g_autofree char *deleted = drain(driver, "enriched");
    assert_string_equal(deleted, "");
    stop(driver, topology);
}

static void test_global__left_join_outputs_every_record(void **state)
{
    (void)state;
    int calls = 0;
    rill_topology_t *topology = enrich_topology(true, false, &calls);
    rill_driver_t *driver = driver_of(topology, 2, NULL);
    pipe_at(driver, "products", "p1", "widget", 1);
    pipe_at(driver, "orders", "o1", "p1:2", 0);
    pipe_at(driver, "orders", "o2", "p7:4", 0); /* absent: joiner sees null */
    g_autofree char *out = drain(driver, "enriched");
    assert_string_equal(out, "o1=widget x2,o2=? x4");
    assert_int_equal(calls, 2);
    stop(driver, topology);
}

static void test_global__null_extracted_key(void **state)
{
    (void)state;
    int calls = 0;
    rill_topology_t *inner = enrich_topology(false, false, &calls);
    rill_driver_t *driver = driver_of(inner, 1, NULL);
    pipe_at(driver, "products", "p1", "widget", 0);
    pipe_at(driver, "orders", "o1", "no-colon", 0); /* extractor leaves the key null */
    g_autofree char *dropped = drain(driver, "enriched");
    assert_string_equal(dropped, "");
    assert_int_equal(calls, 0); /* inner: the joiner is never called */
    stop(driver, inner);

    rill_topology_t *left = enrich_topology(true, false, &calls);
    driver = driver_of(left, 1, NULL);
    pipe_at(driver, "products", "p1", "widget", 0);
    pipe_at(driver, "orders", "o1", "no-colon", 0);
    g_autofree char *kept = drain(driver, "enriched");
    assert_string_equal(kept, "o1=? x?");
    assert_int_equal(calls, 1);
    stop(driver, left);
}

/* A global store in a state.dir survives the driver: reopened from RocksDB
 * and its checkpoint, without the topic being replayed. */
static void test_global__persistent_store_reopens_from_checkpoint(void **state)
{
    (void)state;
    g_autofree char *dir = g_dir_make_tmp("rill-test-global-XXXXXX", NULL);
    assert_non_null(dir);
    rill_topology_t *topology = enrich_topology(false, false, NULL);
    rill_driver_t *driver = driver_of(topology, 2, dir);
    pipe_at(driver, "products", "p1", "widget", 0);
    pipe_at(driver, "products", "p2", "gadget", 1);
    rill_driver_destroy(driver); /* checkpoints the global store */
    g_autofree char *checkpoint = g_build_filename(dir, "rill-test", "global", ".checkpoint", NULL);
    assert_true(g_file_test(checkpoint, G_FILE_TEST_EXISTS));

    driver = driver_of(topology, 2, dir);
    pipe_at(driver, "orders", "o1", "p2:7", 0);
    g_autofree char *out = drain(driver, "enriched");
    assert_string_equal(out, "o1=gadget x7");
    rill_driver_destroy(driver);

    /* without the checkpoint the store is wiped (it may not match the topic) */
    assert_int_equal(g_unlink(checkpoint), 0);
    driver = driver_of(topology, 2, dir);
    pipe_at(driver, "orders", "o2", "p2:1", 0);
    g_autofree char *wiped = drain(driver, "enriched");
    assert_string_equal(wiped, "");
    stop(driver, topology);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_global__in_memory_store(void **state)
{
    (void)state;
    rill_topology_t *topology = enrich_topology(false, true, NULL);
    char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "Global store: products (topic: products)"));
    rill_free(text);
    text = rill_topology_describe(topology, RILL_DESCRIBE_DOT);
    assert_non_null(strstr(text, "\"topic:products\" -> \"global:products\""));
    rill_free(text);
    rill_driver_t *driver = driver_of(topology, 1, NULL);
    pipe_at(driver, "products", "p1", "widget", 0);
    pipe_at(driver, "orders", "o1", "p1:1", 0);
    g_autofree char *out = drain(driver, "enriched");
    assert_string_equal(out, "o1=widget x1");
    stop(driver, topology);
}

static rill_err_t key_is_value(const rill_record_t *record, rill_value_t *out, void *user_data,
                               rill_error_t **error)
{
    (void)user_data;
    (void)error;
    rill_value_set_string(out, rill_value_string(rill_record_value(record)), NULL);
    return RILL_OK;
}

static rill_err_t price_text(const rill_record_t *record, const rill_value_t *price,
                             rill_value_t *out, void *user_data, rill_error_t **error)
{
    (void)record;
    (void)user_data;
    (void)error;
    g_autofree char *text = g_strdup_printf("%" PRId64, rill_value_int64(price));
    rill_value_set_string(out, g_steal_pointer(&text), g_free);
    return RILL_OK;
}

/* A global value the table's serde cannot read fails the join that reads it,
 * as a processing error (the handler decides), not the table's update. */
static void test_global__bad_value_is_a_processing_error(void **state)
{
    (void)state;
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t prices = {.key_serde = rill_serde_string(), .value_serde = rill_serde_int64()};
    rill_global_table_t *table = rill_builder_global_table(builder, "prices", &prices, NULL);
    rill_stream_t *orders = string_stream(builder, "orders");
    rill_stream_to(rill_stream_join_global(orders, table, key_is_value, price_text, NULL, NULL),
                   "priced", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    assert_non_null(topology);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.handlers = {.processing = RILL_ON_ERROR_CONTINUE}};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    assert_non_null(driver);
    const unsigned char eight[8] = {0, 0, 0, 0, 0, 0, 0, 42};
    assert_int_equal(rill_driver_pipe_bytes(driver, "prices", "good", 4, eight, 8, 1, NULL),
                     RILL_OK);
    assert_int_equal(rill_driver_pipe_bytes(driver, "prices", "bad", 3, "xyz", 3, 1, NULL),
                     RILL_OK);              /* stored as is */
    pipe_ok(driver, "orders", "o1", "bad"); /* skipped by the handler */
    pipe_ok(driver, "orders", "o2", "good");
    g_autofree char *out = drain(driver, "priced");
    assert_string_equal(out, "o2=42");
    stop(driver, topology);

    topology = NULL;
    builder = rill_builder_new();
    table = rill_builder_global_table(builder, "prices", &prices, NULL);
    orders = string_stream(builder, "orders");
    rill_stream_to(rill_stream_join_global(orders, table, key_is_value, price_text, NULL, NULL),
                   "priced", NULL);
    topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    driver = rill_driver_new(topology, NULL, NULL); /* handlers: fail */
    assert_int_equal(rill_driver_pipe_bytes(driver, "prices", "bad", 3, "xyz", 3, 1, NULL),
                     RILL_OK);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "orders", "o1", "bad", 1, &error),
                     RILL_ERR_SERDE);
    rill_error_destroy(error);
    stop(driver, topology);
}

static void test_global__bad_arguments_fail_the_build(void **state)
{
    (void)state;
    /* a topic read by a stream cannot be a global table's, and the reverse */
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *orders = string_stream(builder, "orders");
    assert_null(rill_builder_global_table(builder, "orders", NULL, NULL));
    rill_stream_to(orders, "out", NULL);
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_EXISTS);
    rill_error_destroy(error);
    rill_builder_destroy(builder);

    builder = rill_builder_new();
    rill_global_table_t *products = rill_builder_global_table(builder, "products", NULL, NULL);
    assert_non_null(products);
    assert_null(rill_builder_stream(builder, "products", NULL));
    error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_EXISTS);
    rill_error_destroy(error);
    rill_builder_destroy(builder);

    /* a join needs a key extractor and a joiner */
    builder = rill_builder_new();
    products = rill_builder_global_table(builder, "products", NULL, NULL);
    orders = string_stream(builder, "orders");
    assert_null(rill_stream_join_global(orders, products, NULL, describe_order, NULL, NULL));
    error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(rill_error_message(error), "key extractor"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_global__inner_join_enriches_from_any_partition),
        cmocka_unit_test(test_global__left_join_outputs_every_record),
        cmocka_unit_test(test_global__null_extracted_key),
        cmocka_unit_test(test_global__persistent_store_reopens_from_checkpoint),
        cmocka_unit_test(test_global__in_memory_store),
        cmocka_unit_test(test_global__bad_value_is_a_processing_error),
        cmocka_unit_test(test_global__bad_arguments_fail_the_build),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
