/* test-window-commit.c: a windowed count with emit-final (suppress) killed in the middle of a
 * commit, at the task seam a stream thread uses (runtime/task.h), with a fake broker whose
 * partitions acknowledge independently: what the stores' flush produced reaches one changelog
 * and not the others, and the restart must still emit every window with at least its true count.
 *
 * Design: the fake sink appends each send to a per-topic log and remembers which entries are
 * acknowledged; a "kill" keeps only what is acknowledged, exactly the window store's changelog
 * here (the case of the 0402 failure: the window store's changelog, with the stream time the
 * store carries, was delivered; the suppression buffer's changelog and the output were not).
 * The input is replayed from the last committed offset, as the consumer would. */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include <rill/rill.h>

#include "runtime/task.h"

#define APP "wc"
#define WINDOW_CHANGELOG APP "-counts-changelog"

typedef struct logged {
    GBytes *key, *value;
    int64_t timestamp;
    bool acked;
} logged_t;

typedef struct broker {
    GHashTable *logs; /* topic -> GPtrArray of logged_t * (partition 0 only) */
} broker_t;

static void logged_free(void *p)
{
    logged_t *l = p;
    if (l->key)
        g_bytes_unref(l->key);
    if (l->value)
        g_bytes_unref(l->value);
    g_free(l);
}

static GPtrArray *log_of(broker_t *b, const char *topic)
{
    GPtrArray *log = g_hash_table_lookup(b->logs, topic);
    if (log == NULL) {
        log = g_ptr_array_new_with_free_func(logged_free);
        g_hash_table_insert(b->logs, g_strdup(topic), log);
    }
    return log;
}

static rill_err_t fake_send(void *ud, const char *topic, int32_t partition, const void *key,
                            size_t key_len, const void *value, size_t value_len, int64_t timestamp,
                            const rill__header_t *headers, size_t header_count,
                            rill_error_t **error)
{
    (void)headers;
    (void)header_count;
    (void)error;
    assert_true(partition == 0 || partition == -1);
    logged_t *l = g_new0(logged_t, 1);
    l->key = key ? g_bytes_new(key, key_len) : NULL;
    l->value = value ? g_bytes_new(value, value_len) : NULL;
    l->timestamp = timestamp;
    g_ptr_array_add(log_of(ud, topic), l);
    return RILL_OK;
}

static int32_t fake_partition_count(void *ud, const char *topic)
{
    (void)ud;
    (void)topic;
    return 1;
}

static rill_err_t fake_changelog_read(void *ud, const char *topic, int32_t partition, int64_t from,
                                      rill_err_t (*fn)(void *fn_ud,
                                                       const rill__raw_record_t *record,
                                                       rill_error_t **error),
                                      void *fn_ud, int64_t *end_offset, rill_error_t **error)
{
    GPtrArray *log = log_of(ud, topic);
    *end_offset = log->len;
    for (guint i = from > 0 ? (guint)from : 0; i < log->len; i++) {
        logged_t *l = g_ptr_array_index(log, i);
        gsize kl = 0, vl = 0;
        rill__raw_record_t raw = {
            .topic = topic,
            .partition = partition,
            .offset = i,
            .timestamp = l->timestamp,
            /* an empty value is not a tombstone (g_bytes_get_data gives NULL for it) */
            .key = l->key ? g_bytes_get_data(l->key, &kl) : NULL,
            .value = l->value ? g_bytes_get_data(l->value, &vl) : NULL,
        };
        if (l->key != NULL && raw.key == NULL)
            raw.key = "";
        if (l->value != NULL && raw.value == NULL)
            raw.value = "";
        raw.key_len = kl;
        raw.value_len = vl;
        rill_err_t err = fn(fn_ud, &raw, error);
        if (err != RILL_OK)
            return err;
    }
    return RILL_OK;
}

/* The producer acknowledges everything sent so far (only_topic NULL), or only what went to
 * only_topic. */
static void ack(broker_t *b, const char *only_topic)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, b->logs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        GPtrArray *log = v;
        if (only_topic == NULL || strcmp(k, only_topic) == 0)
            for (guint i = 0; i < log->len; i++)
                ((logged_t *)g_ptr_array_index(log, i))->acked = true;
    }
}

/* kill -9: what was not acknowledged never reaches the broker. */
static void lose_unacked(broker_t *b)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, b->logs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        GPtrArray *log = v;
        for (guint i = log->len; i-- > 0;)
            if (!((logged_t *)g_ptr_array_index(log, i))->acked)
                g_ptr_array_remove_index(log, i);
    }
}

static rill_topology_t *build(void)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_grouped_t *grouped =
        rill_stream_group_by_key(rill_builder_stream(builder, "in", &consumed), NULL);
    rill_time_windowed_t *windowed =
        rill_grouped_windowed_by(grouped, &(rill_time_windows_t){.size_ms = 10, .grace_ms = 0});
    rill_table_t *counts =
        rill_time_windowed_count(windowed, &(rill_materialized_t){.name = "counts"});
    rill_table_t *final = rill_table_suppress_until_window_closes(counts, NULL);
    rill_serde_t *key_serde = rill_serde_ref(rill_serde_windowed_string());
    rill_produced_t produced = {.key_serde = key_serde, .value_serde = rill_serde_int64()};
    rill_stream_to(rill_table_to_stream(final, NULL), "out", &produced);
    rill_serde_unref(key_serde);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill__topology_set_application_id(topology, APP);
    return topology;
}

static rill_task_t *open_task(rill_topology_t *topology, broker_t *b, const char *state_dir)
{
    rill__task_env_t env = {
        .sink = {.send = fake_send, .ud = b, .partition_count = fake_partition_count},
        .application_id = APP,
        .state_dir = state_dir, /* RocksDB, as the app */
        .changelog_read = fake_changelog_read,
        .changelog_ud = b,
        .cache_max_bytes = 1 << 20, /* updates reach the buffer at the flush */
    };
    rill_error_t *error = NULL;
    rill_task_t *task = rill__task_new(topology, 0, 0, &env, &error);
    if (task == NULL)
        fail_msg("task: %s", rill_error_message(error));
    return task;
}

typedef struct input {
    const char *key;
    int64_t ts;
} input_t;

static void process(rill_task_t *task, const input_t *in, int64_t offset)
{
    rill__raw_record_t raw = {
        .topic = "in",
        .partition = 0,
        .offset = offset,
        .timestamp = in->ts,
        .key = in->key,
        .key_len = strlen(in->key),
        .value = "x",
        .value_len = 1,
    };
    rill_error_t *error = NULL;
    if (rill__task_process(task, &raw, &error) != RILL_OK)
        fail_msg("process: %s", rill_error_message(error));
}

static void flush_ok(rill_err_t (*phase)(rill_task_t *, rill_error_t **), rill_task_t *task)
{
    rill_error_t *error = NULL;
    if (phase(task, &error) != RILL_OK)
        fail_msg("flush: %s", rill_error_message(error));
}

/* The largest count emitted for key a (window [0, 10)), or -1. */
static int64_t emitted_a(broker_t *b)
{
    GPtrArray *log = log_of(b, "out");
    int64_t best = -1;
    for (guint i = 0; i < log->len; i++) {
        logged_t *l = g_ptr_array_index(log, i);
        gsize kl, vl;
        const uint8_t *k = g_bytes_get_data(l->key, &kl);
        const uint8_t *v = g_bytes_get_data(l->value, &vl);
        assert_int_equal(vl, 8);
        if (kl < 1 || k[0] != 'a')
            continue;
        int64_t n = 0;
        for (int j = 0; j < 8; j++)
            n = (n << 8) | v[j];
        if (n > best)
            best = n;
    }
    return best;
}

static void test_window_commit__kill_after_the_store_flush_loses_no_count(void **unused)
{
    (void)unused;
    static const input_t input[] = {{"a", 0}, {"a", 1}, /* commit: offsets -> 2 */
                                    {"a", 5}, {"b", 12}}; /* [0, 10) closes at 12 */
    rill_topology_t *topology = build();
    g_autofree char *dir = g_dir_make_tmp("rill-test-window-commit-XXXXXX", NULL);
    assert_non_null(dir);
    broker_t b = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify)g_ptr_array_unref)};
    rill_task_t *task = open_task(topology, &b, dir);
    /* a complete commit after the first two records */
    process(task, &input[0], 0);
    process(task, &input[1], 1);
    flush_ok(rill__task_flush_stores, task);
    ack(&b, NULL);
    flush_ok(rill__task_flush_marks, task);
    ack(&b, NULL);
    int64_t committed = 2;
    /* two more records, then the first phase of a commit: the stores flush
     * (a = 3 reaches the buffer, [0, 10) is emitted and its entry deleted);
     * the kill lands while the producer waits, after the window store's
     * changelog partition acknowledged and before the others did */
    process(task, &input[2], 2);
    process(task, &input[3], 3);
    flush_ok(rill__task_flush_stores, task);
    ack(&b, WINDOW_CHANGELOG);
    rill__task_mark_dirty(task);
    rill__task_destroy(task);
    lose_unacked(&b);
    assert_int_equal(emitted_a(&b), -1); /* the output was lost with the rest */

    /* the restart restores the stores and replays the input after the commit */
    task = open_task(topology, &b, dir);
    for (int64_t i = committed; i < (int64_t)G_N_ELEMENTS(input); i++)
        process(task, &input[i], i);
    flush_ok(rill__task_flush, task);
    /* at-least-once: a's [0, 10) may count a record twice, never fewer than 3 */
    int64_t n = emitted_a(&b);
    if (n < 3)
        fail_msg("a@[0, 10) emitted with count %" PRId64 " after the restart, below 3 (%s)", n,
                 n < 0 ? "never emitted" : "the replayed record was dropped as late");
    rill__task_destroy(task);
    g_hash_table_destroy(b.logs);
    rill_topology_destroy(topology);
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_commit__kill_after_the_store_flush_loses_no_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
