/* test-process.c: user processors: per-task instances, forwarding new
 * records with the input's headers, forwarding to a named child, init
 * failures, punctuators of both kinds at their boundaries (several
 * intervals skipped at once, scheduling from process() and from a
 * punctuator, cancellation inside a punctuator), and value transformers
 * with a store. */
#include "config.h"

#include <stdlib.h>

#include "tests/unit/operators/helpers.h"
#include "runtime/node.h"

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

/* ---- punctuators ---------------------------------------------------------- */

/* What the punctuation tests record: "<label>@<timestamp>" per firing. */
typedef struct fired {
    GString *log;
    int count;
    uint64_t self; /* the punctuator that cancels itself on its 3rd firing */
    int self_fired;
    uint64_t victim; /* a punctuator that process() cancels on value "cancel" */
    int cancel_result;
} fired_t;

static void note(void *state, const char *label, int64_t timestamp)
{
    fired_t *fired = state;
    g_string_append_printf(fired->log, "%s%s@%" G_GINT64_FORMAT, fired->log->len ? " " : "", label,
                           timestamp);
    fired->count++;
}

static rill_err_t stream_tick(rill_context_t *context, int64_t timestamp, void *state,
                              rill_error_t **error)
{
    note(state, "s", timestamp);
    /* a punctuator forwards without a base record */
    rill_value_t *value = rill_value_new();
    rill_value_set_string(value, "tick", NULL);
    rill_err_t err = rill_context_forward_values(context, NULL, NULL, value, timestamp, error);
    rill_value_destroy(value);
    return err;
}

static rill_err_t stream_init(rill_context_t *context, void *user_data, void **state,
                              rill_error_t **error)
{
    *state = user_data;
    return rill_context_schedule(context, 10, RILL_PUNCTUATE_STREAM_TIME, stream_tick, error);
}

static rill_err_t pass(rill_context_t *context, const rill_record_t *record, void *state,
                       rill_error_t **error)
{
    return rill_context_forward(context, record, error);
}

static void pipe_at(rill_driver_t *driver, const char *value, int64_t timestamp)
{
    rill_error_t *error = NULL;
    if (rill_driver_pipe_string(driver, "in", "k", value, timestamp, &error) != RILL_OK)
        fail_msg("pipe: %s", rill_error_message(error));
}

/* Stream time: the grid starts at the first stream time (100 → due 110);
 * a jump over several intervals fires once, at the jump's time, and
 * realigns on the grid; out-of-order records fire nothing; the punctuator's
 * output follows the record that moved stream time. */
static void test_process__stream_time_punctuation_boundaries(void **state)
{
    fired_t fired = {.log = g_string_new(NULL)};
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.init = stream_init, .process = pass, .user_data = &fired};
    rill_stream_to(rill_stream_process(string_stream(builder, "in"), &processor, NULL, "ticker"),
                   "out", NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_at(driver, "a", 100); /* grid: 110, 120, ... */
    pipe_at(driver, "b", 109);
    assert_int_equal(fired.count, 0);
    pipe_at(driver, "c", 110); /* exactly on the boundary */
    assert_string_equal(fired.log->str, "s@110");
    pipe_at(driver, "d", 119);
    pipe_at(driver, "e", 105); /* out of order: stream time stays 119 */
    assert_int_equal(fired.count, 1);
    pipe_at(driver, "f", 147); /* 120, 130, 140 missed: fires once, next 150 */
    assert_string_equal(fired.log->str, "s@110 s@147");
    pipe_at(driver, "g", 149);
    assert_int_equal(fired.count, 2);
    pipe_at(driver, "h", 150);
    assert_string_equal(fired.log->str, "s@110 s@147 s@150");
    rill_driver_advance_wall_clock(driver, 1000000, NULL); /* wall time moves no stream time */
    assert_int_equal(fired.count, 3);
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "k=a,k=b,k=c,~=tick,k=d,k=e,k=f,~=tick,k=g,k=h,~=tick");
    stop(driver, topology);
    g_string_free(fired.log, TRUE);
}

static rill_err_t wall_tick(rill_context_t *context, int64_t timestamp, void *state,
                            rill_error_t **error)
{
    note(state, "w", timestamp);
    return RILL_OK;
}

static rill_err_t victim_tick(rill_context_t *context, int64_t timestamp, void *state,
                              rill_error_t **error)
{
    note(state, "v", timestamp);
    return RILL_OK;
}

/* Cancels itself on its third firing; a second cancel must then fail. */
static rill_err_t self_cancelling_tick(rill_context_t *context, int64_t timestamp, void *state,
                                       rill_error_t **error)
{
    fired_t *fired = state;
    note(state, "c", timestamp);
    if (++fired->self_fired == 3) {
        rill_err_t err = rill_context_cancel(context, fired->self, error);
        if (err != RILL_OK)
            return err;
        rill_error_t *again = NULL;
        fired->cancel_result = rill_context_cancel(context, fired->self, &again);
        rill_error_destroy(again);
    }
    return RILL_OK;
}

static rill_err_t wall_init(rill_context_t *context, void *user_data, void **state,
                            rill_error_t **error)
{
    fired_t *fired = user_data;
    *state = fired;
    if (rill_context_schedule(context, 1000, RILL_PUNCTUATE_WALL_CLOCK, wall_tick, error) !=
        RILL_OK)
        return RILL_ERR_INVALID_ARG;
    if (rill_context_schedule_cancellable(context, 1000, RILL_PUNCTUATE_WALL_CLOCK,
                                          self_cancelling_tick, &fired->self, error) != RILL_OK)
        return RILL_ERR_INVALID_ARG;
    return rill_context_schedule_cancellable(context, 500, RILL_PUNCTUATE_WALL_CLOCK, victim_tick,
                                             &fired->victim, error);
}

/* process() cancels the victim on "cancel". */
static rill_err_t wall_process(rill_context_t *context, const rill_record_t *record, void *state,
                               rill_error_t **error)
{
    fired_t *fired = state;
    if (strcmp(rill_value_string(rill_record_value(record)), "cancel") == 0)
        return rill_context_cancel(context, fired->victim, error);
    return RILL_OK;
}

/* Wall clock, moved by the driver: boundaries, a skip of several
 * intervals, a punctuator cancelling itself inside its own call (and the
 * second cancel refused), process() cancelling another one. */
static void test_process__wall_clock_punctuation_and_cancellation(void **state)
{
    fired_t fired = {.log = g_string_new(NULL)};
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.init = wall_init, .process = wall_process, .user_data = &fired};
    rill_stream_process(string_stream(builder, "in"), &processor, NULL, "clock");
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    assert_non_null(topology);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.wall_clock_ms = 5000};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    pipe_at(driver, "x", 1); /* makes the task: init at wall 5000, grids 6000 / 5500 */
    assert_int_equal(rill_driver_advance_wall_clock(driver, 499, NULL), RILL_OK);
    assert_int_equal(fired.count, 0);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 1, NULL), RILL_OK); /* 5500 */
    assert_string_equal(fired.log->str, "v@5500");
    assert_int_equal(rill_driver_advance_wall_clock(driver, 500, NULL), RILL_OK); /* 6000 */
    assert_string_equal(fired.log->str, "v@5500 w@6000 c@6000 v@6000");
    g_string_truncate(fired.log, 0);
    /* 6000 → 9700: 7000, 8000, 9000 missed at once: each fires once */
    assert_int_equal(rill_driver_advance_wall_clock(driver, 3700, NULL), RILL_OK);
    assert_string_equal(fired.log->str, "w@9700 c@9700 v@9700");
    g_string_truncate(fired.log, 0);
    pipe_at(driver, "cancel", 2);
    /* 10000: the self-cancelling one fires a third time and cancels itself */
    assert_int_equal(rill_driver_advance_wall_clock(driver, 300, NULL), RILL_OK);
    assert_string_equal(fired.log->str, "w@10000 c@10000");
    assert_int_equal(fired.cancel_result, RILL_ERR_NOT_FOUND);
    g_string_truncate(fired.log, 0);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 5000, NULL), RILL_OK);
    assert_string_equal(fired.log->str, "w@15000");
    /* the victim is gone: cancelling it again is an error (a processing error) */
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "cancel", 3, &error),
                     RILL_ERR_NOT_FOUND);
    assert_non_null(strstr(rill_error_message(error), "clock has no punctuator 3"));
    rill_error_destroy(error);
    stop(driver, topology);
    g_string_free(fired.log, TRUE);
}

/* Schedules a stream-time punctuator on the first record (not in init):
 * its grid starts at the stream time then. A punctuator that schedules
 * another: the new one does not fire in the round that made it. */
static rill_err_t chain_tick(rill_context_t *context, int64_t timestamp, void *state,
                             rill_error_t **error)
{
    note(state, "n", timestamp);
    return RILL_OK;
}

static rill_err_t spawning_tick(rill_context_t *context, int64_t timestamp, void *state,
                                rill_error_t **error)
{
    note(state, "p", timestamp);
    if (((fired_t *)state)->count == 1)
        return rill_context_schedule(context, 1, RILL_PUNCTUATE_STREAM_TIME, chain_tick, error);
    return RILL_OK;
}

static rill_err_t schedule_on_first(rill_context_t *context, const rill_record_t *record,
                                    void *state, rill_error_t **error)
{
    fired_t *fired = state;
    if (fired->self == 0)
        return rill_context_schedule_cancellable(context, 10, RILL_PUNCTUATE_STREAM_TIME,
                                                 spawning_tick, &fired->self, error);
    return RILL_OK;
}

static rill_err_t state_is_user_data(rill_context_t *context, void *user_data, void **state,
                                     rill_error_t **error)
{
    *state = user_data;
    return RILL_OK;
}

static void test_process__schedule_from_process_and_punctuator(void **state)
{
    fired_t fired = {.log = g_string_new(NULL)};
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {
        .init = state_is_user_data, .process = schedule_on_first, .user_data = &fired};
    rill_stream_process(string_stream(builder, "in"), &processor, NULL, "later");
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_at(driver, "a", 1000); /* scheduled at stream time 1000: due 1010 */
    assert_int_equal(fired.self, 1);
    pipe_at(driver, "b", 1009);
    assert_int_equal(fired.count, 0);
    pipe_at(driver, "c", 1010); /* p fires and schedules n (interval 1) at 1010 */
    assert_string_equal(fired.log->str, "p@1010");
    pipe_at(driver, "d", 1011);
    assert_string_equal(fired.log->str, "p@1010 n@1011");
    stop(driver, topology);
    g_string_free(fired.log, TRUE);
}

/* Two wall-clock punctuators due in the same round: the first cancels the
 * second, which then does not fire, and forwards to a named child from the
 * punctuator (there is no input record). */
static rill_err_t first_tick(rill_context_t *context, int64_t timestamp, void *state,
                             rill_error_t **error)
{
    fired_t *fired = state;
    note(state, "first", timestamp);
    if (fired->count == 1 && rill_context_cancel(context, fired->victim, error) != RILL_OK)
        return RILL_ERR_NOT_FOUND;
    rill_value_t *value = rill_value_new();
    rill_value_set_string(value, "from-punctuator", NULL);
    rill_err_t err =
        rill_context_forward_values_to(context, "to-b", NULL, NULL, value, timestamp, error);
    rill_value_destroy(value);
    return err;
}

static rill_err_t two_ticks_init(rill_context_t *context, void *user_data, void **state,
                                 rill_error_t **error)
{
    fired_t *fired = user_data;
    *state = fired;
    if (rill_context_schedule(context, 100, RILL_PUNCTUATE_WALL_CLOCK, first_tick, error) !=
        RILL_OK)
        return RILL_ERR_INVALID_ARG;
    return rill_context_schedule_cancellable(context, 100, RILL_PUNCTUATE_WALL_CLOCK, victim_tick,
                                             &fired->victim, error);
}

static void test_process__cancel_a_later_punctuator_of_the_same_round(void **state)
{
    fired_t fired = {.log = g_string_new(NULL)};
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.init = two_ticks_init, .process = pass, .user_data = &fired};
    rill_stream_t *ticked =
        rill_stream_process(string_stream(builder, "in"), &processor, NULL, "ticks");
    rill_stream_to(ticked, "topic-a", &(rill_produced_t){.name = "to-a"});
    rill_stream_to(ticked, "topic-b", &(rill_produced_t){.name = "to-b"});
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    pipe_at(driver, "x", 1);
    assert_int_equal(rill_driver_advance_wall_clock(driver, 100, NULL), RILL_OK);
    assert_string_equal(fired.log->str, "first@100");
    assert_int_equal(rill_driver_advance_wall_clock(driver, 100, NULL), RILL_OK);
    assert_string_equal(fired.log->str, "first@100 first@200");
    g_autofree char *a = drain(driver, "topic-a");
    g_autofree char *b = drain(driver, "topic-b");
    assert_string_equal(a, "k=x"); /* the punctuator sent to to-b only */
    assert_string_equal(b, "k=x,~=from-punctuator,~=from-punctuator"); /* k=x: forward() */
    stop(driver, topology);
    g_string_free(fired.log, TRUE);
}

static void test_process__schedule_and_cancel_guards(void **state)
{
    rill_error_t *error = NULL;
    assert_int_equal(rill_context_schedule(NULL, 10, RILL_PUNCTUATE_WALL_CLOCK, tick, &error),
                     RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_context_cancel(NULL, 1, &error), RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
}

/* ---- forwarding to a named child ------------------------------------------ */

/* "a:..." goes to child to-a, "b:..." to to-b (as a new record), anything
 * else to every child, "x:..." to a child that does not exist. */
static rill_err_t route(rill_context_t *context, const rill_record_t *record, void *state,
                        rill_error_t **error)
{
    const char *value = rill_value_string(rill_record_value(record));
    if (g_str_has_prefix(value, "a:"))
        return rill_context_forward_to(context, "to-a", record, error);
    if (g_str_has_prefix(value, "b:")) {
        rill_value_t *upper = rill_value_new();
        rill_value_set_string(upper, g_ascii_strup(value, -1), g_free);
        rill_err_t err =
            rill_context_forward_values_to(context, "to-b", record, rill_record_key(record), upper,
                                           rill_record_timestamp(record), error);
        rill_value_destroy(upper);
        return err;
    }
    if (g_str_has_prefix(value, "x:"))
        return rill_context_forward_to(context, "nowhere", record, error);
    return rill_context_forward(context, record, error);
}

static void test_process__forward_to_named_child(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {.process = route};
    rill_stream_t *routed =
        rill_stream_process(string_stream(builder, "in"), &processor, NULL, "router");
    rill_stream_to(routed, "topic-a", &(rill_produced_t){.name = "to-a"});
    rill_stream_to(routed, "topic-b", &(rill_produced_t){.name = "to-b"});
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "--> to-a, to-b"));
    pipe_ok(driver, "in", "1", "a:one");
    pipe_ok(driver, "in", "2", "b:two");
    pipe_ok(driver, "in", "3", "all");
    g_autofree char *a = drain(driver, "topic-a");
    g_autofree char *b = drain(driver, "topic-b");
    assert_string_equal(a, "1=a:one,3=all");
    assert_string_equal(b, "2=B:TWO,3=all");
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "4", "x:lost", 1, &error),
                     RILL_ERR_NOT_FOUND);
    assert_non_null(strstr(rill_error_message(error),
                           "router has no child named 'nowhere' (its children: to-a, to-b)"));
    rill_error_destroy(error);
    assert_int_equal(
        rill_driver_output_size(driver, "topic-a") + rill_driver_output_size(driver, "topic-b"), 0);
    stop(driver, topology);
}

/* ---- value transformers ----------------------------------------------------- */

/* Counts records per key in store "seen" and sets the value to
 * "<value>#<count>"; value "null" gives a null value; "forward" tries to
 * forward (refused). */
static rill_err_t count_init(rill_context_t *context, void *user_data, void **state,
                             rill_error_t **error)
{
    *state = rill_context_get_store(context, "seen");
    if (*state == NULL)
        return rill_error_set(error, RILL_ERR_STORE, "no store 'seen'");
    (*(int *)user_data)++;
    return RILL_OK;
}

static rill_err_t count_transform(rill_context_t *context, const rill_record_t *record, void *state,
                                  rill_value_t *out, rill_error_t **error)
{
    const char *value = rill_value_string(rill_record_value(record));
    if (strcmp(value, "forward") == 0)
        return rill_context_forward(context, record, error);
    if (strcmp(value, "null") == 0)
        return RILL_OK;
    size_t key_len;
    const void *key = rill_value_bytes(rill_record_key(record), &key_len);
    void *old = NULL;
    if (rill_store_get(state, key, key_len, &old, NULL, error) != RILL_OK)
        return RILL_ERR_STORE;
    int count = old != NULL ? atoi(old) + 1 : 1;
    rill_free(old);
    char buf[16];
    g_snprintf(buf, sizeof(buf), "%d", count);
    if (rill_store_put(state, key, key_len, buf, strlen(buf), error) != RILL_OK)
        return RILL_ERR_STORE;
    rill_value_set_string(out, g_strdup_printf("%s#%d", value, count), g_free);
    return RILL_OK;
}

static void count_close(void *state, void *user_data)
{
    (*(int *)user_data)--;
}

static void test_process__transform_values_with_a_store(void **state)
{
    int open = 0;
    rill_builder_t *builder = rill_builder_new();
    rill_value_transformer_t transformer = {count_init, count_transform, count_close, &open};
    const char *const stores[] = {"seen", NULL};
    rill_stream_t *counted =
        rill_stream_transform_values(string_stream(builder, "in"), &transformer, stores, "counter");
    rill_stream_to(counted, "out", NULL);
    /* the key is unchanged: grouping after it needs no repartition topic */
    rill_grouped_count(rill_stream_group_by_key(counted, NULL), NULL);
    rill_topology_t *topology;
    rill_driver_t *driver = start(builder, &topology);
    g_autofree char *text = rill_topology_describe(topology, RILL_DESCRIBE_TEXT);
    assert_non_null(strstr(text, "Processor: counter (stores: [seen])"));
    assert_null(strstr(text, "repartition"));
    rill_header_t headers[] = {{"trace", "t1", 2}};
    rill_driver_input_t input = {"k", 1, "v", 1, 42, -1, headers, 1};
    assert_int_equal(rill_driver_pipe(driver, "in", &input, NULL), RILL_OK);
    assert_int_equal(open, 1);
    rill_record_t *r =
        rill_driver_read_output(driver, "out", rill_serde_string(), rill_serde_string(), NULL);
    assert_string_equal(rill_value_string(rill_record_value(r)), "v#1");
    assert_string_equal(rill_value_string(rill_record_key(r)), "k");
    assert_int_equal(rill_record_timestamp(r), 42);
    size_t len;
    assert_memory_equal(rill_record_header_last(r, "trace", &len), "t1", 2);
    rill_record_destroy(r);
    pipe_ok(driver, "in", "k", "w");
    pipe_ok(driver, "in", "j", "u");
    pipe_ok(driver, "in", "k", "null");
    g_autofree char *out = drain(driver, "out");
    assert_string_equal(out, "k=w#2,j=u#1,k=~");
    /* the store is logged like any other */
    assert_int_equal(rill_driver_output_size(driver, "rill-test-seen-changelog"), 3);
    rill_error_t *error = NULL;
    assert_int_equal(rill_driver_pipe_string(driver, "in", "k", "forward", 1, &error),
                     RILL_ERR_INVALID_STATE);
    assert_non_null(
        strstr(rill_error_message(error), "rill_context_forward: counter is a value transformer"));
    rill_error_destroy(error);
    assert_int_equal(rill_driver_output_size(driver, "out"), 0);
    stop(driver, topology);
    assert_int_equal(open, 0);
}

/* ---- store sizes, as the app's metrics read them ----------------------------- */

rill__pnode_t *rill__context_pnode(rill_context_t *context); /* operators/process.c */

typedef struct sizes {
    char *store;
    uint64_t keys, bytes;
    int calls;
} sizes_t;

static void note_size(void *ud, const char *store, uint64_t keys, uint64_t bytes)
{
    sizes_t *sizes = ud;
    g_free(sizes->store);
    sizes->store = g_strdup(store);
    sizes->keys = keys;
    sizes->bytes = bytes;
    sizes->calls++;
}

/* Puts key = value into "kv", then reads the task's store sizes. */
static rill_err_t put_and_measure(rill_context_t *context, const rill_record_t *record, void *state,
                                  rill_error_t **error)
{
    rill_store_t *store = rill_context_get_store(context, "kv");
    size_t key_len, value_len;
    const void *key = rill_value_bytes(rill_record_key(record), &key_len);
    const void *value = rill_value_bytes(rill_record_value(record), &value_len);
    if (rill_store_put(store, key, key_len, value, value_len, error) != RILL_OK)
        return RILL_ERR_STORE;
    sizes_t *sizes = state;
    sizes->calls = 0;
    rill__task_store_sizes(rill__context_pnode(context)->task, note_size, sizes);
    return RILL_OK;
}

static void store_sizes(const char *state_dir, sizes_t *sizes)
{
    rill_builder_t *builder = rill_builder_new();
    rill_processor_t processor = {
        .init = state_is_user_data, .process = put_and_measure, .user_data = sizes};
    const char *const stores[] = {"kv", NULL};
    rill_stream_process(string_stream(builder, "in"), &processor, stores, "measure");
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_driver_config_t config = {.state_dir = state_dir};
    rill_driver_t *driver = rill_driver_new(topology, &config, NULL);
    pipe_ok(driver, "in", "a", "12345");
    pipe_ok(driver, "in", "bb", "1");
    pipe_ok(driver, "in", "a", "123"); /* an overwrite */
    stop(driver, topology);
}

/* rill__task_store_sizes (what rill_app_store_keys / _bytes show): one call
 * per store of the task, exact for memory stores, estimates for RocksDB. */
static void test_process__store_sizes_for_metrics(void **state)
{
    sizes_t sizes = {0};
    store_sizes(NULL, &sizes); /* no state.dir: a memory store */
    assert_int_equal(sizes.calls, 1);
    assert_string_equal(sizes.store, "kv");
    assert_int_equal(sizes.keys, 2);
    assert_int_equal(sizes.bytes, strlen("a") + strlen("123") + strlen("bb") + strlen("1"));
    g_autofree char *dir = g_dir_make_tmp("rill-test-sizes-XXXXXX", NULL);
    assert_non_null(dir);
    store_sizes(dir, &sizes); /* RocksDB: the memtable holds 3 entries for 2 keys */
    assert_int_equal(sizes.calls, 1);
    assert_in_range(sizes.keys, 2, 3);
    assert_true(sizes.bytes > 0);
    g_free(sizes.store);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

static void test_process__transform_values_requires_transform(void **state)
{
    rill_builder_t *builder = rill_builder_new();
    rill_value_transformer_t transformer = {.init = count_init};
    assert_null(
        rill_stream_transform_values(string_stream(builder, "in"), &transformer, NULL, NULL));
    rill_error_t *error = NULL;
    assert_null(rill_builder_build(builder, &error));
    assert_non_null(strstr(rill_error_message(error), "a transform callback is required"));
    rill_error_destroy(error);
    rill_builder_destroy(builder);
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
        cmocka_unit_test(test_process__stream_time_punctuation_boundaries),
        cmocka_unit_test(test_process__wall_clock_punctuation_and_cancellation),
        cmocka_unit_test(test_process__schedule_from_process_and_punctuator),
        cmocka_unit_test(test_process__cancel_a_later_punctuator_of_the_same_round),
        cmocka_unit_test(test_process__schedule_and_cancel_guards),
        cmocka_unit_test(test_process__forward_to_named_child),
        cmocka_unit_test(test_process__transform_values_with_a_store),
        cmocka_unit_test(test_process__transform_values_requires_transform),
        cmocka_unit_test(test_process__store_sizes_for_metrics),
        cmocka_unit_test(test_process__requires_process_callback),
        cmocka_unit_test(test_process__forward_with_new_headers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
