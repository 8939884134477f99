/* test-partition-group.c: the partition group's choice order, idle waits
 * (with a clock and lag the test controls) and pause/resume thresholds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/partition-group.h"

static const char *const topics[] = {"a", "b", "c"};

/* caught_up per input, set by the tests */
static int lag_state[3];
static int lag_asked;

static int caught_up(void *ud, int input)
{
    (void)ud;
    lag_asked++;
    return lag_state[input];
}

static void add(rill__pgroup_t *group, int input, int64_t offset, int64_t ts)
{
    char value[32];
    snprintf(value, sizeof(value), "v%lld", (long long)offset);
    rill__raw_record_t record = {.topic = "ignored",
                                 .partition = 0,
                                 .offset = offset,
                                 .timestamp = ts,
                                 .key = "k",
                                 .key_len = 1,
                                 .value = value,
                                 .value_len = strlen(value)};
    rill__pgroup_add(group, input, &record);
}

/* Pops the next record; returns its timestamp, or -1 if the group waits. */
static int64_t take(rill__pgroup_t *group, int64_t now, int *input)
{
    const rill__raw_record_t *record = rill__pgroup_next(group, now, caught_up, NULL, input);
    if (!record)
        return -1;
    int64_t ts = record->timestamp;
    rill__pgroup_pop(group, *input);
    return ts;
}

static void reset_lag(int value)
{
    for (int i = 0; i < 3; i++)
        lag_state[i] = value;
    lag_asked = 0;
}

static void test_pgroup__smallest_head_first(void **state)
{
    (void)state;
    reset_lag(1);
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 100, 0);
    /* all of a arrives before all of b, timestamps interleaved */
    for (int i = 0; i < 5; i++)
        add(group, 0, i, 10 * i);
    for (int i = 0; i < 5; i++)
        add(group, 1, i, 10 * i + 5);
    int64_t want[] = {0, 5, 10, 15, 20, 25, 30, 35, 40, 45};
    int wanted_input[] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
    for (int i = 0; i < 10; i++) {
        int input = -1;
        assert_int_equal(take(group, 0, &input), want[i]);
        assert_int_equal(input, wanted_input[i]);
    }
    assert_int_equal(rill__pgroup_total(group), 0);
    int input;
    assert_null(rill__pgroup_next(group, 0, caught_up, NULL, &input));
    rill__pgroup_destroy(group);
}

static void test_pgroup__ties_go_to_lower_input(void **state)
{
    (void)state;
    reset_lag(1);
    rill__pgroup_t *group = rill__pgroup_new(3, topics, 100, 0);
    add(group, 2, 0, 7);
    add(group, 1, 0, 7);
    add(group, 0, 0, 7);
    for (int want = 0; want < 3; want++) {
        int input = -1;
        assert_int_equal(take(group, 0, &input), 7);
        assert_int_equal(input, want);
    }
    rill__pgroup_destroy(group);
}

static void test_pgroup__record_copied(void **state)
{
    (void)state;
    reset_lag(1);
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 100, 0);
    char key[] = "key";
    char value[] = "value";
    char hname[] = "h";
    char hvalue[] = "hv";
    rill__header_t headers[2] = {{hname, hvalue, 2}, {"null", NULL, 0}};
    rill__raw_record_t record = {.topic = "t", .partition = 3, .offset = 42, .timestamp = 9,
                                 .key = key, .key_len = 3, .value = value, .value_len = 5,
                                 .headers = headers, .header_count = 2};
    add(group, 0, 0, 1);
    rill__pgroup_add(group, 1, &record);
    memset(key, 'x', 3); /* the consumer's memory goes away */
    memset(value, 'x', 5);
    memset(hname, 'x', 1);
    memset(hvalue, 'x', 2);
    int input;
    take(group, 0, &input);
    const rill__raw_record_t *copy = rill__pgroup_next(group, 0, caught_up, NULL, &input);
    assert_non_null(copy);
    assert_int_equal(input, 1);
    assert_string_equal(copy->topic, "b"); /* the group's topic, not the consumer's */
    assert_int_equal(copy->partition, 3);
    assert_int_equal(copy->offset, 42);
    assert_int_equal(copy->timestamp, 9);
    assert_memory_equal(copy->key, "key", 3);
    assert_memory_equal(copy->value, "value", 5);
    assert_int_equal(copy->header_count, 2);
    assert_string_equal(copy->headers[0].name, "h");
    assert_memory_equal(copy->headers[0].value, "hv", 2);
    assert_string_equal(copy->headers[1].name, "null");
    assert_null(copy->headers[1].value);
    rill__pgroup_pop(group, 1);
    rill__pgroup_destroy(group);

    /* a null key and value stay null */
    group = rill__pgroup_new(1, topics, 100, 0);
    rill__raw_record_t tombstone = {.topic = "t", .offset = 1, .timestamp = 1};
    rill__pgroup_add(group, 0, &tombstone);
    copy = rill__pgroup_next(group, 0, caught_up, NULL, &input);
    assert_non_null(copy);
    assert_null(copy->key);
    assert_null(copy->value);
    assert_int_equal(copy->header_count, 0);
    rill__pgroup_destroy(group); /* frees what is still buffered */
}

static void test_pgroup__waits_for_lagging_input(void **state)
{
    (void)state;
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 100, 0);
    add(group, 0, 0, 100);
    int input;
    reset_lag(0); /* b has records on the broker */
    assert_null(rill__pgroup_next(group, 0, caught_up, NULL, &input));
    assert_true(lag_asked > 0);
    reset_lag(-1); /* b's lag unknown: wait too */
    assert_null(rill__pgroup_next(group, RILL__PGROUP_LAG_WAIT_MS - 1, caught_up, NULL, &input));
    /* b's records arrive: the smaller timestamp goes first */
    add(group, 1, 0, 50);
    lag_asked = 0;
    assert_int_equal(take(group, 0, &input), 50);
    assert_int_equal(input, 1);
    assert_int_equal(lag_asked, 0); /* both had data: lag not asked */
    /* b empty again and caught up: max.task.idle.ms 0 processes a at once */
    reset_lag(1);
    lag_state[0] = 0;
    assert_int_equal(take(group, 0, &input), 100);
    assert_int_equal(input, 0);
    assert_int_equal(rill__pgroup_enforced(group), 1);
    rill__pgroup_destroy(group);
}

static void test_pgroup__idle_wait_for_caught_up_input(void **state)
{
    (void)state;
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 100, 500);
    add(group, 0, 0, 100);
    add(group, 0, 1, 200);
    int input;
    reset_lag(1); /* b caught up, nothing buffered */
    assert_null(rill__pgroup_next(group, 1000, caught_up, NULL, &input));
    assert_null(rill__pgroup_next(group, 1499, caught_up, NULL, &input));
    assert_int_equal(take(group, 1500, &input), 100); /* idle time over */
    assert_int_equal(take(group, 1501, &input), 200); /* still enforced, no new wait */
    assert_int_equal(rill__pgroup_enforced(group), 2);
    /* nothing buffered ends the wait; the next record waits afresh */
    add(group, 0, 2, 300);
    assert_null(rill__pgroup_next(group, 2000, caught_up, NULL, &input));
    /* b lagging resets the idle clock */
    lag_state[1] = 0;
    assert_null(rill__pgroup_next(group, 2600, caught_up, NULL, &input));
    lag_state[1] = 1;
    assert_null(rill__pgroup_next(group, 2700, caught_up, NULL, &input));
    assert_int_equal(take(group, 3200, &input), 300);
    /* data on every input: no wait at all */
    add(group, 0, 3, 400);
    add(group, 1, 0, 450);
    assert_int_equal(take(group, 3200, &input), 400);
    rill__pgroup_destroy(group);
}

static void test_pgroup__lag_wait_is_bounded(void **state)
{
    (void)state;
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 100, 0);
    add(group, 0, 0, 100);
    add(group, 0, 1, 200);
    int input;
    reset_lag(0); /* b looks lagging for ever */
    assert_null(rill__pgroup_next(group, 1000, caught_up, NULL, &input));
    assert_null(rill__pgroup_next(group, 1000 + RILL__PGROUP_LAG_WAIT_MS - 1, caught_up, NULL,
                                  &input));
    assert_int_equal(take(group, 1000 + RILL__PGROUP_LAG_WAIT_MS, &input), 100);
    assert_int_equal(take(group, 1000 + RILL__PGROUP_LAG_WAIT_MS, &input), 200);
    /* emptied: the next record waits again */
    add(group, 0, 2, 300);
    assert_null(rill__pgroup_next(group, 1000 + RILL__PGROUP_LAG_WAIT_MS, caught_up, NULL,
                                  &input));
    /* b's record arrives: no wait, smallest first */
    add(group, 1, 0, 250);
    assert_int_equal(take(group, 0, &input), 250);
    rill__pgroup_destroy(group);
}

static void test_pgroup__idle_disabled_never_waits(void **state)
{
    (void)state;
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 100, -1);
    reset_lag(0); /* b lagging, yet -1 does not wait */
    add(group, 0, 0, 100);
    int input;
    assert_int_equal(take(group, 0, &input), 100);
    assert_int_equal(lag_asked, 0);
    rill__pgroup_destroy(group);
}

static void test_pgroup__pause_and_resume_thresholds(void **state)
{
    (void)state;
    reset_lag(1);
    rill__pgroup_t *group = rill__pgroup_new(2, topics, 4, 0);
    rill__raw_record_t record = {.topic = "a", .timestamp = 1};
    assert_false(rill__pgroup_add(group, 0, &record));
    assert_false(rill__pgroup_add(group, 0, &record));
    assert_false(rill__pgroup_add(group, 0, &record));
    assert_true(rill__pgroup_add(group, 0, &record)); /* 4th: full, pause once */
    assert_true(rill__pgroup_paused(group, 0));
    assert_false(rill__pgroup_add(group, 0, &record)); /* already paused: kept, not again */
    assert_int_equal(rill__pgroup_buffered(group, 0), 5);
    assert_false(rill__pgroup_paused(group, 1));
    assert_false(rill__pgroup_pop(group, 0)); /* 4 */
    assert_false(rill__pgroup_pop(group, 0)); /* 3 */
    assert_true(rill__pgroup_pop(group, 0));  /* 2 = half: resume once */
    assert_false(rill__pgroup_paused(group, 0));
    assert_false(rill__pgroup_pop(group, 0));
    assert_int_equal(rill__pgroup_buffered(group, 0), 1);
    assert_int_equal(rill__pgroup_total(group), 1);
    rill__pgroup_destroy(group);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pgroup__smallest_head_first),
        cmocka_unit_test(test_pgroup__ties_go_to_lower_input),
        cmocka_unit_test(test_pgroup__record_copied),
        cmocka_unit_test(test_pgroup__waits_for_lagging_input),
        cmocka_unit_test(test_pgroup__idle_wait_for_caught_up_input),
        cmocka_unit_test(test_pgroup__lag_wait_is_bounded),
        cmocka_unit_test(test_pgroup__idle_disabled_never_waits),
        cmocka_unit_test(test_pgroup__pause_and_resume_thresholds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
