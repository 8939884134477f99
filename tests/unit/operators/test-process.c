/* test-process.c: user processors: per-task instances, forwarding new
 * records with the input's headers, init failures, schedule rules. */
#include "config.h"

#include "tests/unit/operators/helpers.h"

typedef struct instances {
    int opened;
    int closed;
} instances_t;

static rill_err_t tag_init(rill_context_t *context, void *user_data, void **state,
                           rill_error_t **error)
{
    instances_t *instances = user_data;
    instances->opened++;
    *state = g_strdup(rill_context_task_id(context));
    return RILL_OK;
}

/* forwards "<task id>:<value>" with the input's key, headers and timestamp + 1 */
static rill_err_t tag_process(rill_context_t *context, const rill_record_t *record, void *state,
                              rill_error_t **error)
{
    rill_value_t *value = rill_value_new();
    rill_value_set_string(
        value,
        g_strdup_printf("%s:%s", (char *)state, rill_value_string(rill_record_value(record))),
        g_free);
    rill_err_t err = rill_context_forward_values(context, record, rill_record_key(record), value,
                                                 rill_record_timestamp(record) + 1, error);
    rill_value_destroy(value);
    return err;
}

static void tag_close(void *state, void *user_data)
{
    ((instances_t *)user_data)->closed++;
    g_free(state);
}

static void test_process__one_instance_per_task_and_headers_kept(void **state)
{
    instances_t instances = {0};
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {tag_init, tag_process, tag_close, &instances};
    rill_stream_to(rill_stream_process(string_stream(builder, "in"), &processor, NULL, "tag"),
                   "out", NULL);
    rill_topology_t *topology;
    assert_non_null(topology = rill_builder_build(builder, NULL));
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.partitions = 2};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    rill_header_t headers[] = {{"h", "x", 1}};
    for (int32_t p = 0; p < 2; p++) {
        rill_driver_input_t input = {"k", 1, "v", 1, 10, p, headers, 1};
        assert_int_equal(rill_driver_pipe(driver, "in", &input, NULL), RILL_OK);
    }
    assert_int_equal(instances.opened, 2);
    for (int32_t p = 0; p < 2; p++) {
        rill_record_t *r =
            rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_string(), NULL);
        char expected[8];
        g_snprintf(expected, sizeof expected, "0_%d:v", p);
        assert_string_equal(rill_value_string(rill_record_value(r)), expected);
        assert_string_equal(rill_value_string(rill_record_key(r)), "k");
        assert_int_equal(rill_record_timestamp(r), 11);
        size_t len;
        assert_memory_equal(rill_record_header_last(r, "h", &len), "x", 1);
        rill_record_destroy(r);
    }
    rill_driver_destroy(driver);
    assert_int_equal(instances.closed, 2);
    rill_topology_destroy(topology);
}

static rill_err_t failing_init(rill_context_t *context, void *user_data, void **state,
                               rill_error_t **error)
{
    return rill_error_set(error, RILL_ERR_IO, "cannot open the thing");
}

static rill_err_t passthrough(rill_context_t *context, const rill_record_t *record, void *state,
                              rill_error_t **error)
{
    return rill_context_forward(context, record, error);
}

static void test_process__init_failure_fails_the_task(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.init = failing_init, .process = passthrough};
    rill_stream_to(rill_stream_process(string_stream(builder, "in"), &processor, NULL, "opener"),
                   "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "v", 1, &error), RILL_ERR_IO);
    assert_string_equal(rill_error_message(error),
                        "task 0_0: initializing opener: cannot open the thing");
    rill_error_destroy(error);
    stop(driver, topology);
}

static rill_err_t tick(rill_context_t *context, int64_t timestamp, void *state,
                       rill_error_t **error)
{
    return RILL_OK;
}

static rill_err_t late_schedule(rill_context_t *context, const rill_record_t *record, void *state,
                                rill_error_t **error)
{
    return rill_context_schedule(context, 10, RILL_PUNCTUATE_WALL_CLOCK, tick, error);
}

static void test_process__schedule_only_in_init(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.process = late_schedule};
    rill_stream_process(string_stream(builder, "in"), &processor, NULL, "late");
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "v", 1, &error),
                     RILL_ERR_INVALID_STATE);
    assert_non_null(strstr(rill_error_message(error),
                           "in late: rill_context_schedule: punctuators are scheduled in init()"));
    rill_error_destroy(error);
    stop(driver, topology);
}

/* adds a header "seen-by" after the input's */
static rill_err_t add_header(rill_context_t *context, const rill_record_t *record, void *state,
                             rill_error_t **error)
{
    rill_header_t headers[4];
    size_t count = 0;
    for (size_t i = 0; i < rill_record_header_count(record) && count < 3; i++, count++)
        rill_record_header(record, i, &headers[count].name, &headers[count].value,
                           &headers[count].value_len);
    headers[count++] = (rill_header_t){"seen-by", "tagger", 6};
    return rill_context_forward_with_headers(context, record, rill_record_key(record),
                                             rill_record_value(record),
                                             rill_record_timestamp(record), headers, count, error);
}

static void test_process__forward_with_new_headers(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.process = add_header};
    rill_stream_to(rill_stream_process(string_stream(builder, "in"), &processor, NULL, NULL), "out",
                   NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    rill_header_t in_headers[] = {{"trace", "abc", 3}};
    rill_driver_input_t input = {"k", 1, "v", 1, 5, -1, in_headers, 1};
    assert_int_equal(rill_driver_pipe(driver, "in", &input, NULL), RILL_OK);
    rill_record_t *r = rill_driver_read_output(driver, "out", NULL, NULL, NULL);
    assert_int_equal(rill_record_header_count(r), 2);
    size_t len;
    assert_memory_equal(rill_record_header_last(r, "trace", &len), "abc", 3);
    assert_memory_equal(rill_record_header_last(r, "seen-by", &len), "tagger", 6);
    rill_record_destroy(r);
    stop(driver, topology);
}

static void test_process__requires_process_callback(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.init = failing_init};
    assert_null(rill_stream_process(string_stream(builder, "in"), &processor, NULL, NULL));
    assert_null(rill_builder_build(builder, NULL));
    rill_builder_destroy(builder);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_process__one_instance_per_task_and_headers_kept),
        cmocka_unit_test(test_process__init_failure_fails_the_task),
        cmocka_unit_test(test_process__schedule_only_in_init),
        cmocka_unit_test(test_process__requires_process_callback),
        cmocka_unit_test(test_process__forward_with_new_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
