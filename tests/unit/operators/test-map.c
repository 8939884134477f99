/* test-map.c: map, mapValues and selectKey: new values, ownership, errors. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "tests/unit/operators/helpers.h"

static int freed;
static void counting_free(void *ptr)
{
    freed++;
    g_free(ptr);
}

static rill_err_t swap(const rill_record_t *record, rill_value_t *key_out, rill_value_t *value_out,
                       void *user_data, rill_error_t **error)
{
    rill_value_set_view(key_out, rill_record_value(record));
    rill_value_set_view(value_out, rill_record_key(record));
    return RILL_OK;
}

static rill_err_t length(const rill_record_t *record, rill_value_t *out, void *user_data,
                         rill_error_t **error)
{
    char *text = g_strdup_printf("%zu", strlen(rill_value_string(rill_record_value(record))));
    rill_value_set_string(out, text, counting_free);
    return RILL_OK;
}

static rill_err_t first_letter(const rill_record_t *record, rill_value_t *out, void *user_data,
                               rill_error_t **error)
{
    const char *value = rill_value_string(rill_record_value(record));
    if (value == NULL || value[0] == '\0')
        return rill_error_set(error, RILL_ERR_USER, "nothing to key by");
    rill_value_set_string(out, g_strndup(value, 1), counting_free);
    return RILL_OK;
}

static void test_map__swaps_key_and_value(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(rill_stream_map(string_stream(builder, "in"), swap, NULL, NULL), "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "k1", "v1");
    pipe_ok(driver, "in", NULL, "v2");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "v1=k1,v2=~");
    stop(driver, topology);
}

static void test_map_values__owned_results_are_freed_once(void **state)
{
    freed = 0;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *lengths =
        rill_stream_map_values(string_stream(builder, "in"), length, NULL, NULL);
    rill_stream_to(lengths, "out", NULL);
    rill_stream_to(lengths, "copy", NULL); /* two children see the same value */
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "a", "hello");
    pipe_ok(driver, "in", "b", "");
    assert_int_equal(freed, 2);
    g_autofree char *out = drain(driver, "out");
    g_autofree char *copy = drain(driver, "copy");
    assert_string_equal(out, "a=5,b=0");
    assert_string_equal(copy, out);
    stop(driver, topology);
}

static void test_select_key__rekeys_and_reports_errors(void **state)
{
    freed = 0;
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(
        rill_stream_select_key(string_stream(builder, "in"), first_letter, NULL, "by-letter"),
        "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "in", "1", "xylophone");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "2", "", 1, &error), RILL_ERR_USER);
    assert_non_null(strstr(rill_error_message(error), "in by-letter: nothing to key by"));
    rill_error_destroy(error);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "x=xylophone");
    assert_int_equal(freed, 1);
    stop(driver, topology);
}

/* {"user": "...", "amount": n} -> the user's name, for JSON values */
static rill_err_t user_of(const rill_record_t *record, rill_value_t *out, void *user_data,
                          rill_error_t **error)
{
    JsonNode *node = rill_value_json(rill_record_value(record));
    if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
        return rill_error_set(error, RILL_ERR_USER, "not an object");
    JsonObject *object = json_node_get_object(node);
    rill_value_set_string(
        out, g_strdup(json_object_get_string_member_with_default(object, "user", "?")), g_free);
    return RILL_OK;
}

static void test_map_values__json_in_string_out(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(), .value_serde = rill_serde_json()};
    rill_stream_t *in = rill_builder_stream(builder, "events", &consumed);
    rill_stream_to(rill_stream_map_values(in, user_of, NULL, NULL), "users", NULL);
    rill_stream_to(in, "echo", NULL); /* JSON back out, by the value's type */
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_ok(driver, "events", "e1", "{\"user\": \"ann\", \"amount\": 3}");
    g_autofree char *users = drain(driver, "users");
    assert_string_equal(users, "e1=ann");
    g_autofree char *echo = drain(driver, "echo");
    assert_string_equal(echo, "e1={\"user\":\"ann\",\"amount\":3}");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "events", "e2", "[1,", 2, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "json serde"));
    rill_error_destroy(error);
    stop(driver, topology);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map__swaps_key_and_value),
        cmocka_unit_test(test_map_values__owned_results_are_freed_once),
        cmocka_unit_test(test_select_key__rekeys_and_reports_errors),
        cmocka_unit_test(test_map_values__json_in_string_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
