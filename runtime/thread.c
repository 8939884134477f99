/* thread.c: a stream thread (Kafka Streams' StreamThread): one consumer of
 * the group application.id, one producer, and the tasks of the partitions
 * assigned to it.
 *
 * The loop: poll records → route each to its task by (topic → sub-topology,
 * partition) → rill__task_process() runs it depth-first through the
 * sub-topology, whose sinks send through this thread's producer → every
 * commit.interval.ms, commit. A commit is: rill__task_flush_stores() on
 * every task, wait until the producer has every record acknowledged, then
 * rill__task_flush_marks() on every task (a windowed aggregation's stream
 * time: it must not reach its changelog before what it covers has reached
 * every other topic, or a restart drops the replayed records as late while
 * their updates are lost), wait again, then commit the offset after the last
 * processed record of each input partition. Since offsets are committed only
 * after what the records produced is durable, a crash loses nothing; it may
 * only repeat records (at-least-once).
 *
 * Exactly-once (processing.guarantee=exactly_once_v2, KIP-447): the
 * producer is transactional (producer.c) and the consumer reads
 * read_committed. Every send, changelog write and repartition record joins
 * the thread's open transaction (begun by the first send); a commit flushes
 * the tasks, then sends the consumed offsets into the transaction with the
 * consumer's group metadata and commits it (rill__kproducer_txn_commit), so
 * output, state changes and input offsets become visible together or not at
 * all. commit.interval.ms is 100 by default. When a transaction cannot
 * commit (an abortable error: a refused record, a rebalance that fenced the
 * offsets, a timeout), recover() aborts it, closes every task dirty (their
 * stores hold the aborted writes: no checkpoint is left, so the next open
 * wipes them and restores from the read_committed changelog), makes the
 * tasks again and moves the consumer back to the last committed offsets;
 * more than MAX_ABORTS_IN_ROW such rollbacks without a commit fail the
 * thread. On revoke the thread commits, or aborts and closes its tasks
 * dirty. A fatal producer error (fenced) fails the thread; a failed
 * thread aborts its open transaction on the way out.
 *
 *     RUNNING ──commit() fails, abortable──► recover(): abort, tasks closed
 *        ▲                                   dirty, made again (restore),
 *        └──────────────────────────────────  consumer rewound
 *
 *     STARTING ──assigned()──► RUNNING ──revoked()──► REBALANCING
 *        │                        ▲                      │
 *        │                        └─────assigned()───────┘
 *        │   (app->stop, or an error: any state)
 *        └──────────────────────────────► PENDING_SHUTDOWN ──► DEAD
 *
 *   assigned(): tasks created for each new (sub-topology, partition);
 *               co-partitioning checked (every source topic of the
 *               sub-topology must be assigned at that partition).
 *   revoked():  commit (unless the thread failed), then close the tasks.
 *   shutdown:   commit (unless failed), wait until the other threads of
 *               the app have committed too (leaving the group starts a
 *               rebalance that would refuse their commits), close the
 *               consumer (which serves a last revoke), destroy the tasks
 *               and the producer.
 * "Rebalancing" (STARTING or REBALANCING) is what the app aggregates into
 * its REBALANCING state.
 *
 * Metrics (metrics.listener): a thread looks its children up once when it
 * starts, and a task's when the task is created (removed before it is
 * destroyed); per record it only adds to the task's consumed counter.
 * Processing latency is one sample per poll batch (the batch's processing
 * time over its record count: two clock reads per batch, none per record).
 * Error and dropped-record counters are copied from the task's stats on the
 * thread itself, every punctuation round (10 ms); store sizes are read there
 * too, once a second (a scrape must not touch a store a closing task frees).
 * Lag and produced are read at scrape time from librdkafka (lag before a
 * partition's first record asks the broker once where consumption starts);
 * lag children go before the consumer does. */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "common/clock.h"
#include "common/log.h"
#include "runtime/app-private.h"
#include "runtime/config-private.h"
#include "runtime/kafka/changelog.h"
#include "runtime/kafka/kafka.h"
#include "runtime/partition-group.h"

/* The offsets of one input partition of a task. */
typedef struct input {
    char *topic;
    int64_t next_offset; /* offset after the last processed record, -1: none yet */
    int64_t committed;   /* last committed next_offset */
    int64_t first_offset; /* the first record's offset since the task was made, -1: none */
} input_t;

/* A lag gauge of one input partition (the scrape-time callback's data). */
typedef struct lag_probe {
    rill__kconsumer_t *consumer;
    char *topic;
    int32_t partition;
    char partition_str[16];
    int64_t start; /* where consumption starts, before the first record (-1: not known yet) */
    int64_t start_retry_ms; /* monotonic: no lookup of start before then */
} lag_probe_t;

/* A task and its inputs. */
typedef struct slot {
    rill__thread_t *thread;
    rill_task_t *task;
    int subtopology;
    int32_t partition;
    GArray *inputs; /* input_t */
    bool assigned;  /* still in the current assignment (scratch for revoke) */
    /* metrics (NULL / empty: off or not registered yet) */
    rill_metric_t *m_consumed;
    rill_metric_t *m_sent;
    rill_metric_t *m_skipped;
    rill_metric_t *m_dead_lettered;
    rill_metric_t *m_dropped[RILL__DROP_REASON_COUNT];
    GPtrArray *store_names;  /* char *: stores with size children (removed with the task) */
    rill__task_stats_t seen; /* task stats already added to the counters */
    GPtrArray *lags;         /* lag_probe_t*, NULL: not registered */
    /* Tasks with several inputs buffer them and process the smallest
     * timestamp first (NULL: one input, records go straight to the task). */
    rill__pgroup_t *pgroup;
    const char **pgroup_topics; /* input i's topic, for the group (borrowed from inputs) */
    int8_t *caught_up;          /* per input, asked once per drain round (-2: not yet) */
} slot_t;

struct rill__thread {
    rill_app_t *app;
    int index;
    GThread *gthread;
    char *name;
    rill__kconsumer_t *consumer;
    rill__kproducer_t *producer;
    GHashTable *slots; /* (subtopology << 32 | partition) -> slot_t* */
    slot_t *last_slot; /* routing cache */
    const char *last_topic;
    int last_subtopology;
    rill__task_env_t env;
    bool rebalancing; /* under app->lock */
    bool failed;
    rill_error_t *error;
    int64_t next_commit_ms;
    int64_t last_punctuate_ms;
    int64_t next_sizes_ms; /* next refresh of the store size gauges (every SIZES_EVERY_MS) */
    GArray *commit_tps; /* rill__tp_t scratch */
    bool exactly_once;  /* the producer is transactional */
    int aborts_in_row;  /* exactly-once rollbacks since the last commit */
    /* stats, read by other threads without a lock */
    uint64_t processed;
    uint64_t skipped;
    uint64_t commits;
    uint64_t rebalances;
    /* metrics, looked up once (NULL: metrics off) */
    rill_metric_t *m_produced;
    rill_metric_t *m_process_latency;
    rill_metric_t *m_commit_latency;
    rill_metric_t *m_commits;
    rill_metric_t *m_invalid_ts;
    uint64_t seen_skipped;   /* thread->skipped already added to m_invalid_ts */
    int64_t batch_start_us;  /* first record of the current poll batch, 0: none */
    GHashTable *restore_topics; /* changelogs with a restored child (removed at the end) */
    int n_pgroups;             /* slots with a partition group (0: nothing to drain) */
    int buffered_per_partition; /* buffered.records.per.partition */
    int64_t max_task_idle_ms;   /* max.task.idle.ms */
};

static guint64 slot_key(int subtopology, int32_t partition)
{
    return ((guint64)(guint32)subtopology << 32) | (guint32)partition;
}

static guint key_hash(gconstpointer p)
{
    return g_int64_hash(p);
}

static gboolean key_equal(gconstpointer a, gconstpointer b)
{
    return g_int64_equal(a, b);
}

/* ---- metrics ---- */

/* A failed lookup of where consumption starts is retried after this, so
 * that scrapes stay fast while the broker does not answer. */
#define LAG_START_RETRY_MS 10000

/* Runs at scrape time, under the registry lock (one scrape at a time): the
 * probe's start fields are this callback's alone. */
static double lag_value(void *ud)
{
    lag_probe_t *probe = ud;
    int64_t now = rill__clock_mono_ms();
    bool lookup = probe->start >= 0 || now >= probe->start_retry_ms;
    int64_t lag = rill__kconsumer_lag(probe->consumer, probe->topic, probe->partition,
                                      lookup ? &probe->start : NULL);
    if (lookup && probe->start < 0)
        probe->start_retry_ms = now + LAG_START_RETRY_MS;
    return lag < 0 ? NAN : (double)lag;
}

static double produced_value(void *ud)
{
    return (double)rill__kproducer_acked(ud);
}

/* Registers the task's children: consumed, errors, and a lag gauge per
 * input partition. Call once the task's inputs are complete. */
static void slot_metrics_add(slot_t *slot)
{
    rill__thread_t *thread = slot->thread;
    rill__app_metrics_t *m = &thread->app->metrics;
    if (!m->registry || slot->lags)
        return;
    const char *id = thread->app->application_id;
    const char *task = rill__task_id(slot->task);
    slot->m_consumed = rill__metric_child(m->consumed, (const char *[]){id, thread->name, task});
    slot->m_sent = rill__metric_child(m->sent, (const char *[]){id, thread->name, task});
    slot->m_skipped =
        rill__metric_child(m->errors, (const char *[]){id, thread->name, task, "skipped"});
    slot->m_dead_lettered =
        rill__metric_child(m->errors, (const char *[]){id, thread->name, task, "dead_lettered"});
    for (int r = 0; r < RILL__DROP_REASON_COUNT; r++)
        slot->m_dropped[r] = rill__metric_child(
            m->dropped, (const char *[]){id, thread->name, task, rill__drop_reason_name(r)});
    slot->lags = g_ptr_array_new();
    for (guint i = 0; i < slot->inputs->len; i++) {
        lag_probe_t *probe = g_new0(lag_probe_t, 1);
        probe->consumer = thread->consumer;
        probe->topic = g_strdup(g_array_index(slot->inputs, input_t, i).topic);
        probe->partition = slot->partition;
        probe->start = -1;
        g_snprintf(probe->partition_str, sizeof(probe->partition_str), "%d",
                   (int)slot->partition);
        const char *values[] = {id, thread->name, probe->topic, probe->partition_str};
        rill__metric_set_callback(rill__metric_child(m->lag, values), lag_value, probe);
        g_ptr_array_add(slot->lags, probe);
    }
}

/* Removes the task's children (idempotent). */
static void slot_metrics_remove(slot_t *slot)
{
    rill__thread_t *thread = slot->thread;
    rill__app_metrics_t *m = &thread->app->metrics;
    if (!slot->lags)
        return;
    const char *id = thread->app->application_id;
    const char *task = rill__task_id(slot->task);
    rill__metric_remove(m->consumed, (const char *[]){id, thread->name, task});
    rill__metric_remove(m->sent, (const char *[]){id, thread->name, task});
    rill__metric_remove(m->errors, (const char *[]){id, thread->name, task, "skipped"});
    rill__metric_remove(m->errors, (const char *[]){id, thread->name, task, "dead_lettered"});
    for (int r = 0; r < RILL__DROP_REASON_COUNT; r++) {
        rill__metric_remove(m->dropped,
                            (const char *[]){id, thread->name, task, rill__drop_reason_name(r)});
        slot->m_dropped[r] = NULL;
    }
    for (guint i = 0; slot->store_names && i < slot->store_names->len; i++) {
        const char *values[] = {id, thread->name, task, slot->store_names->pdata[i]};
        rill__metric_remove(m->store_keys, values);
        rill__metric_remove(m->store_bytes, values);
    }
    if (slot->store_names)
        g_ptr_array_free(slot->store_names, TRUE);
    slot->store_names = NULL;
    for (guint i = 0; i < slot->lags->len; i++) {
        lag_probe_t *probe = slot->lags->pdata[i];
        const char *values[] = {id, thread->name, probe->topic, probe->partition_str};
        rill__metric_remove(m->lag, values);
        g_free(probe->topic);
        g_free(probe);
    }
    g_ptr_array_free(slot->lags, TRUE);
    slot->lags = NULL;
    slot->m_consumed = slot->m_sent = slot->m_skipped = slot->m_dead_lettered = NULL;
}

/* Adds what the task's stats gained since last time to its error counters. */
static void slot_metrics_sync(slot_t *slot)
{
    if (!slot->m_skipped)
        return;
    rill__task_stats_t now;
    rill__task_stats(slot->task, &now);
    if (now.skipped != slot->seen.skipped)
        rill__metric_inc(slot->m_skipped, (double)(now.skipped - slot->seen.skipped));
    if (now.dead_lettered != slot->seen.dead_lettered)
        rill__metric_inc(slot->m_dead_lettered,
                         (double)(now.dead_lettered - slot->seen.dead_lettered));
    if (now.sent != slot->seen.sent)
        rill__metric_inc(slot->m_sent, (double)(now.sent - slot->seen.sent));
    for (int r = 0; r < RILL__DROP_REASON_COUNT; r++)
        if (now.dropped[r] != slot->seen.dropped[r])
            rill__metric_inc(slot->m_dropped[r], (double)(now.dropped[r] - slot->seen.dropped[r]));
    slot->seen = now;
}

/* Sets a store's size gauges (rill__task_store_sizes' callback; ud: the slot). */
static void slot_store_size(void *ud, const char *store, uint64_t keys, uint64_t bytes)
{
    slot_t *slot = ud;
    rill__app_metrics_t *m = &slot->thread->app->metrics;
    const char *values[] = {slot->thread->app->application_id, slot->thread->name,
                            rill__task_id(slot->task), store};
    rill__metric_set(rill__metric_child(m->store_keys, values), (double)keys);
    rill__metric_set(rill__metric_child(m->store_bytes, values), (double)bytes);
    for (guint i = 0; i < slot->store_names->len; i++)
        if (strcmp(slot->store_names->pdata[i], store) == 0)
            return;
    g_ptr_array_add(slot->store_names, g_strdup(store));
}

/* Refreshes the task's store size gauges (on the thread that owns the
 * stores: they are never read from the scrape thread). */
static void slot_metrics_sizes(slot_t *slot)
{
    if (!slot->m_consumed)
        return;
    if (!slot->store_names)
        slot->store_names = g_ptr_array_new_with_free_func(g_free);
    rill__task_store_sizes(slot->task, slot_store_size, slot);
}

/* Restores count their records: env.changelog_read wraps the Kafka one
 * (looking the children up once per restored partition, not per record).
 * Progress: a restore of [from, end) adds end - from to planned and to
 * remaining, each record takes one off remaining, and what is left at the
 * end (offsets compaction removed) is taken off then, so remaining goes
 * back to exactly 0 when every restore of the changelog is done. */
typedef struct restore_count {
    rill_metric_t *restored;
    rill_metric_t *remaining;
    int64_t left; /* this restore's part of remaining */
    rill_err_t (*fn)(void *fn_ud, const rill__raw_record_t *record, rill_error_t **error);
    void *fn_ud;
} restore_count_t;

static rill_err_t restore_count_record(void *ud, const rill__raw_record_t *record,
                                       rill_error_t **error)
{
    restore_count_t *count = ud;
    rill_err_t rc = count->fn(count->fn_ud, record, error);
    if (rc == RILL_OK) {
        rill__metric_inc(count->restored, 1);
        if (count->left > 0) {
            count->left--;
            rill__metric_inc(count->remaining, -1);
        }
    }
    return rc;
}

static rill_err_t changelog_read_counted(void *ud, const char *topic, int32_t partition,
                                         int64_t from,
                                         rill_err_t (*fn)(void *fn_ud,
                                                          const rill__raw_record_t *record,
                                                          rill_error_t **error),
                                         void *fn_ud, int64_t *end_offset, rill_error_t **error)
{
    rill__thread_t *thread = ud;
    rill__app_metrics_t *m = &thread->app->metrics;
    const char *values[] = {thread->app->application_id, thread->name, topic};
    g_hash_table_add(thread->restore_topics, g_strdup(topic));
    restore_count_t count = {.restored = rill__metric_child(m->restored, values),
                             .remaining = rill__metric_child(m->restore_remaining, values),
                             .fn = fn,
                             .fn_ud = fn_ud};
    int64_t end = rill__kconsumer_end_offset(thread->consumer, topic, partition);
    if (end > from) { /* unknown (-1): progress shows restored records only */
        count.left = end - from;
        rill__metric_inc(rill__metric_child(m->restore_planned, values), (double)count.left);
        rill__metric_inc(count.remaining, (double)count.left);
    }
    rill_err_t rc = rill__kafka_changelog_read(thread->app->config, topic, partition, from,
                                               restore_count_record, &count, end_offset, error);
    if (count.left > 0)
        rill__metric_inc(count.remaining, -(double)count.left);
    return rc;
}

static void thread_metrics_add(rill__thread_t *thread)
{
    rill__app_metrics_t *m = &thread->app->metrics;
    if (!m->registry)
        return;
    const char *values[] = {thread->app->application_id, thread->name};
    thread->m_produced = rill__metric_child(m->produced, values);
    rill__metric_set_callback(thread->m_produced, produced_value, thread->producer);
    thread->m_process_latency = rill__metric_child(m->process_latency, values);
    thread->m_commit_latency = rill__metric_child(m->commit_latency, values);
    thread->m_commits = rill__metric_child(m->commits, values);
    thread->restore_topics = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    thread->env.changelog_read = changelog_read_counted;
    thread->env.changelog_ud = thread;
    thread->m_invalid_ts = rill__metric_child(
        m->errors, (const char *[]){thread->app->application_id, thread->name, "",
                                    "invalid_timestamp"});
}

static void thread_metrics_remove(rill__thread_t *thread)
{
    rill__app_metrics_t *m = &thread->app->metrics;
    if (!thread->m_produced)
        return;
    const char *values[] = {thread->app->application_id, thread->name};
    rill__metric_remove(m->produced, values);
    rill__metric_remove(m->process_latency, values);
    rill__metric_remove(m->commit_latency, values);
    rill__metric_remove(m->commits, values);
    rill__metric_remove(m->errors, (const char *[]){thread->app->application_id, thread->name,
                                                    "", "invalid_timestamp"});
    GHashTableIter it;
    gpointer topic;
    g_hash_table_iter_init(&it, thread->restore_topics);
    while (g_hash_table_iter_next(&it, &topic, NULL)) {
        const char *restore_values[] = {thread->app->application_id, thread->name, topic};
        rill__metric_remove(m->restored, restore_values);
        rill__metric_remove(m->restore_planned, restore_values);
        rill__metric_remove(m->restore_remaining, restore_values);
    }
    g_hash_table_destroy(thread->restore_topics);
    thread->restore_topics = NULL;
    thread->m_produced = NULL;
}

static void slot_destroy(gpointer p)
{
    slot_t *slot = p;
    slot_metrics_remove(slot);
    if (slot->pgroup) {
        /* buffered records not processed are dropped: the offsets committed
         * stop before them, so whoever reads the partition next reads them;
         * a paused input is resumed (the consumer may keep the partition) */
        for (guint i = 0; slot->thread->consumer && i < slot->inputs->len; i++)
            if (rill__pgroup_paused(slot->pgroup, (int)i))
                rill__kconsumer_pause(slot->thread->consumer, slot->pgroup_topics[i],
                                      slot->partition, false);
        rill__pgroup_destroy(slot->pgroup);
        slot->thread->n_pgroups--;
    }
    g_free(slot->pgroup_topics);
    g_free(slot->caught_up);
    rill__task_destroy(slot->task);
    for (guint i = 0; i < slot->inputs->len; i++)
        g_free(g_array_index(slot->inputs, input_t, i).topic);
    g_array_free(slot->inputs, TRUE);
    g_free(slot);
}

static int64_t wall_clock(void *ud)
{
    (void)ud;
    return rill__clock_wall_ms();
}

static void set_rebalancing(rill__thread_t *thread, bool rebalancing)
{
    rill_app_t *app = thread->app;
    g_mutex_lock(&app->lock);
    thread->rebalancing = rebalancing;
    g_mutex_unlock(&app->lock);
    rill__app_thread_rebalance_changed(app);
}

/* ---- commit ------------------------------------------------------------ */

/* Waits until the producer has acknowledged everything sent. Bounded:
 * librdkafka fails what it cannot deliver within message.timeout.ms, and a
 * stopping app waits at most 30 s. */
static rill_err_t wait_producer(rill__thread_t *thread, rill_error_t **error)
{
    int64_t deadline = rill__clock_mono_ms() + 30000;
    while (!thread->exactly_once) {
        rill_error_t *ferr = NULL;
        rill_err_t rc = rill__kproducer_flush(thread->producer, 1000, &ferr);
        if (rc == RILL_OK)
            break;
        if (rc != RILL_ERR_TIMEOUT) {
            if (error && !*error)
                *error = ferr;
            else
                rill_error_destroy(ferr);
            return rc;
        }
        RILL_LOG_INFO("runtime.thread", "%s: waiting for the producer before committing: %s",
                      thread->name, rill_error_message(ferr));
        rill_error_destroy(ferr);
        if (thread->app->stop && rill__clock_mono_ms() > deadline)
            return rill_error_set(error, RILL_ERR_TIMEOUT,
                                  "%s: the producer could not deliver within 30 s while "
                                  "stopping; offsets not committed",
                                  thread->name);
    }
    return RILL_OK;
}

/* Flushes the tasks' stores, waits for the producer, flushes their marks
 * (stream times), waits again, commits. */
static rill_err_t commit(rill__thread_t *thread, rill_error_t **error)
{
    GHashTableIter it;
    gpointer k, v;
    bool dirty = false;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        rill_err_t rc = rill__task_flush_stores(slot->task, error);
        if (rc) {
            rill_error_prefix(error, "flushing task %s: ", rill__task_id(slot->task));
            return rc;
        }
        for (guint i = 0; i < slot->inputs->len; i++) {
            input_t *in = &g_array_index(slot->inputs, input_t, i);
            if (in->next_offset >= 0 && in->next_offset != in->committed)
                dirty = true;
        }
    }
    if (!dirty && !(thread->exactly_once && rill__kproducer_txn_open(thread->producer)))
        return RILL_OK;
    int64_t start_us = thread->m_commit_latency ? rill__clock_mono_us() : 0;
    /* Everything produced must be acknowledged before the marks are written,
     * and they before the offsets move. */
    rill_err_t rc = wait_producer(thread, error);
    g_hash_table_iter_init(&it, thread->slots);
    while (rc == RILL_OK && g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        if ((rc = rill__task_flush_marks(slot->task, error)) != RILL_OK)
            rill_error_prefix(error, "flushing task %s: ", rill__task_id(slot->task));
    }
    if (rc == RILL_OK)
        rc = wait_producer(thread, error);
    if (rc != RILL_OK)
        return rc;
    g_array_set_size(thread->commit_tps, 0);
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        for (guint i = 0; i < slot->inputs->len; i++) {
            input_t *in = &g_array_index(slot->inputs, input_t, i);
            if (in->next_offset >= 0 && in->next_offset != in->committed) {
                rill__tp_t tp = {in->topic, slot->partition, in->next_offset};
                g_array_append_val(thread->commit_tps, tp);
            }
        }
    }
    const rill__tp_t *tps = (const rill__tp_t *)thread->commit_tps->data;
    int n = (int)thread->commit_tps->len;
    rc = thread->exactly_once
                        ? rill__kproducer_txn_commit(thread->producer, thread->consumer, tps, n,
                                                     error)
                        : rill__kconsumer_commit(thread->consumer, tps, n, error);
    if (rc)
        return rc;
    thread->aborts_in_row = 0;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        for (guint i = 0; i < slot->inputs->len; i++) {
            input_t *in = &g_array_index(slot->inputs, input_t, i);
            in->committed = in->next_offset;
        }
    }
    __atomic_add_fetch(&thread->commits, 1, __ATOMIC_RELAXED);
    if (thread->m_commit_latency) {
        rill__metric_observe(thread->m_commit_latency,
                             (double)(rill__clock_mono_us() - start_us) / 1e6);
        rill__metric_inc(thread->m_commits, 1);
    }
    return RILL_OK;
}

static void fail(rill__thread_t *thread, rill_error_t *error)
{
    if (!thread->failed) {
        thread->failed = true;
        RILL_LOG_ERROR("runtime.thread", "%s failed: %s", thread->name,
                       error ? rill_error_message(error) : "unknown error");
        thread->error = error;
        thread->app->stop = 1; /* the other threads stop now, not after this one's close */
        /* its tasks close dirty: their stores restore from the changelogs next time */
        GHashTableIter it;
        gpointer v;
        if (thread->slots != NULL) {
            g_hash_table_iter_init(&it, thread->slots);
            while (g_hash_table_iter_next(&it, NULL, &v))
                rill__task_mark_dirty(((slot_t *)v)->task);
        }
    } else {
        rill_error_destroy(error);
    }
}

/* ---- rebalance callbacks (run inside rill__kconsumer_poll / _close) ---- */

/* Makes the tasks of the partitions tps that do not exist yet (restoring
 * their stores) and checks co-partitioning. */
static rill_err_t create_tasks(rill__thread_t *thread, const rill__tp_t *tps, int n,
                               rill_error_t **error)
{
    rill_app_t *app = thread->app;
    thread->last_slot = NULL;
    thread->last_topic = NULL;
    for (int i = 0; i < n; i++) {
        int sub = rill__topology_subtopology_of(app->topology, tps[i].topic);
        if (sub < 0)
            return rill_error_set(error, RILL_ERR_INVALID_STATE,
                                  "%s: assigned %s [%d], which no sub-topology reads",
                                  thread->name, tps[i].topic, (int)tps[i].partition);
        guint64 key = slot_key(sub, tps[i].partition);
        slot_t *slot = g_hash_table_lookup(thread->slots, &key);
        if (!slot) {
            rill_task_t *task = rill__task_new(app->topology, sub, tps[i].partition, &thread->env,
                                               error);
            if (!task) {
                rill_error_prefix(error, "%s: creating task %d_%d: ", thread->name, sub,
                                  (int)tps[i].partition);
                return RILL_ERR_INVALID_STATE;
            }
            slot = g_new0(slot_t, 1);
            slot->thread = thread;
            slot->task = task;
            slot->subtopology = sub;
            slot->partition = tps[i].partition;
            slot->inputs = g_array_new(FALSE, FALSE, sizeof(input_t));
            guint64 *kp = g_new(guint64, 1);
            *kp = key;
            g_hash_table_insert(thread->slots, kp, slot);
            RILL_LOG_DEBUG("runtime.thread", "%s: task %s created", thread->name,
                           rill__task_id(task));
        }
        bool have = false;
        for (guint j = 0; j < slot->inputs->len; j++)
            if (strcmp(g_array_index(slot->inputs, input_t, j).topic, tps[i].topic) == 0)
                have = true;
        if (!have) {
            input_t in = {g_strdup(tps[i].topic), -1, -1, -1};
            g_array_append_val(slot->inputs, in);
        }
    }
    /* Co-partitioning: a task reads partition P of every source topic of
     * its sub-topology, so all of them must be assigned here together. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        const char *const *topics = rill__topology_source_topics(app->topology, slot->subtopology);
        int want = 0;
        while (topics && topics[want])
            want++;
        if ((int)slot->inputs->len != want)
            return rill_error_set(error, RILL_ERR_INVALID_STATE,
                                  "%s: task %s got %u of the %d co-partitioned source topics of "
                                  "its sub-topology: the topics must have the same partition "
                                  "count, and the group must use the range assignor",
                                  thread->name, rill__task_id(slot->task), slot->inputs->len,
                                  want);
    }
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        slot_metrics_add(slot);
        if (slot->inputs->len > 1 && !slot->pgroup) {
            slot->pgroup_topics = g_new(const char *, slot->inputs->len);
            slot->caught_up = g_new(int8_t, slot->inputs->len);
            for (guint i = 0; i < slot->inputs->len; i++)
                slot->pgroup_topics[i] = g_array_index(slot->inputs, input_t, i).topic;
            slot->pgroup = rill__pgroup_new((int)slot->inputs->len, slot->pgroup_topics,
                                            thread->buffered_per_partition,
                                            thread->max_task_idle_ms);
            thread->n_pgroups++;
        }
    }
    return RILL_OK;
}

static rill_err_t on_assigned(void *ud, const rill__tp_t *tps, int n, rill_error_t **error)
{
    rill__thread_t *thread = ud;
    __atomic_add_fetch(&thread->rebalances, 1, __ATOMIC_RELAXED);
    rill_err_t rc = create_tasks(thread, tps, n, error);
    if (rc)
        return rc;
    RILL_LOG_INFO("runtime.thread", "%s: assigned %d partitions, %u tasks", thread->name, n,
                  g_hash_table_size(thread->slots));
    set_rebalancing(thread, false);
    return RILL_OK;
}

static void mark_all_dirty(rill__thread_t *thread)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, NULL, &v))
        rill__task_mark_dirty(((slot_t *)v)->task);
}

/* Whether error is one exactly-once recovers from by rolling back. */
static bool abortable(const rill__thread_t *thread, const rill_error_t *error)
{
    return thread->exactly_once && error != NULL && rill_error_txn_requires_abort(error) &&
           !rill_error_is_fatal(error);
}

/* Exactly-once rollbacks in a row (no commit between) before the thread
 * fails: a record the brokers always refuse must not loop forever. */
#define MAX_ABORTS_IN_ROW 5

/* Exactly-once: the transaction cannot commit (cause, transfer full).
 * Aborts it, closes every task dirty, makes them again from the changelogs
 * and rewinds the consumer to the last committed offsets (see the top). */
static rill_err_t recover(rill__thread_t *thread, rill_error_t *cause, rill_error_t **error)
{
    if (++thread->aborts_in_row > MAX_ABORTS_IN_ROW) {
        rill_error_prefix(&cause, "%d transactions aborted in a row, the last because: ",
                          MAX_ABORTS_IN_ROW + 1);
        if (error && !*error)
            *error = cause;
        else
            rill_error_destroy(cause);
        return RILL_ERR_KAFKA;
    }
    RILL_LOG_WARN("runtime.thread",
                  "%s: aborting the transaction (%s); the tasks restart from the last commit",
                  thread->name, rill_error_message(cause));
    rill_error_destroy(cause);
    if (rill__kproducer_txn_abort(thread->producer, error) != RILL_OK)
        return RILL_ERR_KAFKA;
    /* what the tasks read, and where each input goes back to */
    GPtrArray *topics = g_ptr_array_new_with_free_func(g_free);
    GArray *all = g_array_new(FALSE, FALSE, sizeof(rill__tp_t));
    GArray *rewind = g_array_new(FALSE, FALSE, sizeof(rill__tp_t));
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        slot_t *slot = v;
        for (guint i = 0; i < slot->inputs->len; i++) {
            input_t *in = &g_array_index(slot->inputs, input_t, i);
            char *topic = g_strdup(in->topic);
            g_ptr_array_add(topics, topic);
            rill__tp_t tp = {topic, slot->partition, -1};
            g_array_append_val(all, tp);
            tp.offset = in->committed >= 0 ? in->committed : in->first_offset;
            if (tp.offset >= 0)
                g_array_append_val(rewind, tp);
        }
    }
    mark_all_dirty(thread);
    g_hash_table_remove_all(thread->slots);
    thread->last_slot = NULL;
    thread->last_topic = NULL;
    rill_err_t rc = create_tasks(thread, (const rill__tp_t *)all->data, (int)all->len, error);
    if (rc == RILL_OK)
        rc = rill__kconsumer_seek(thread->consumer, (const rill__tp_t *)rewind->data,
                                  (int)rewind->len, error);
    if (rc == RILL_OK)
        RILL_LOG_INFO("runtime.thread", "%s: %u tasks restored, %u partitions rewound",
                      thread->name, g_hash_table_size(thread->slots), rewind->len);
    g_array_free(all, TRUE);
    g_array_free(rewind, TRUE);
    g_ptr_array_free(topics, TRUE);
    return rc;
}

static void on_revoked(void *ud, const rill__tp_t *tps, int n)
{
    rill__thread_t *thread = ud;
    set_rebalancing(thread, true);
    if (!thread->failed) {
        rill_error_t *error = NULL;
        if (commit(thread, &error) != RILL_OK) {
            if (abortable(thread, error)) {
                /* the partitions go anyway: abort, and their tasks close dirty */
                RILL_LOG_WARN("runtime.thread", "%s: aborting the transaction on revoke: %s",
                              thread->name, rill_error_message(error));
                rill_error_destroy(error);
                error = NULL;
                mark_all_dirty(thread);
                if (rill__kproducer_txn_abort(thread->producer, &error) != RILL_OK)
                    fail(thread, error);
            } else {
                fail(thread, error);
            }
        }
    }
    /* Eager protocol: everything is revoked; close the tasks that read a
     * revoked partition (all of them in practice). */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        slot_t *slot = v;
        bool revoked = false;
        for (int i = 0; i < n && !revoked; i++)
            for (guint j = 0; j < slot->inputs->len; j++)
                if (tps[i].partition == slot->partition &&
                    strcmp(tps[i].topic, g_array_index(slot->inputs, input_t, j).topic) == 0)
                    revoked = true;
        if (revoked)
            g_hash_table_iter_remove(&it);
    }
    thread->last_slot = NULL;
    thread->last_topic = NULL;
    RILL_LOG_INFO("runtime.thread", "%s: revoked %d partitions", thread->name, n);
}

/* ---- records ---- */

static rill_err_t process(rill__thread_t *thread, slot_t *slot, input_t *in,
                          const rill__raw_record_t *record, rill_error_t **error);

static rill_err_t on_record(void *ud, const rill__raw_record_t *record, rill_error_t **error)
{
    rill__thread_t *thread = ud;
    rill_app_t *app = thread->app;
    int sub;
    if (record->topic == thread->last_topic) {
        sub = thread->last_subtopology;
    } else {
        sub = rill__topology_subtopology_of(app->topology, record->topic);
        thread->last_topic = record->topic;
        thread->last_subtopology = sub;
        thread->last_slot = NULL;
    }
    slot_t *slot = thread->last_slot;
    if (!slot || slot->partition != record->partition || slot->subtopology != sub) {
        guint64 key = slot_key(sub, record->partition);
        slot = g_hash_table_lookup(thread->slots, &key);
        thread->last_slot = slot;
    }
    if (!slot) {
        /* A record of a partition revoked meanwhile: its new owner reads it. */
        return RILL_OK;
    }
    input_t *in = NULL;
    guint index = 0;
    for (; index < slot->inputs->len; index++) {
        input_t *cand = &g_array_index(slot->inputs, input_t, index);
        if (slot->inputs->len == 1 || strcmp(cand->topic, record->topic) == 0) {
            in = cand;
            break;
        }
    }
    g_assert(in);
    if (in->first_offset < 0)
        in->first_offset = record->offset;

    if (thread->m_process_latency && thread->batch_start_us == 0)
        thread->batch_start_us = rill__clock_mono_us();
    if (slot->pgroup) {
        /* processed by drain(), in timestamp order across the inputs */
        if (rill__pgroup_add(slot->pgroup, (int)index, record))
            rill__kconsumer_pause(thread->consumer, in->topic, slot->partition, true);
        return RILL_OK;
    }
    return process(thread, slot, in, record, error);
}

/* Whether input i of a slot is caught up (rill__pgroup_caught_up_fn): asked
 * of the consumer once per drain round (nothing is fetched during one). */
static int slot_caught_up(void *ud, int input)
{
    slot_t *slot = ud;
    if (slot->caught_up[input] == -2)
        slot->caught_up[input] = (int8_t)rill__kconsumer_caught_up(
            slot->thread->consumer, slot->pgroup_topics[input], slot->partition);
    return slot->caught_up[input];
}

/* Processes the buffered records of the multi-input tasks that are ready,
 * smallest timestamp first, until each waits or is empty. */
static void drain(rill__thread_t *thread)
{
    if (thread->n_pgroups == 0)
        return;
    int64_t now = rill__clock_mono_ms();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, NULL, &v) && !thread->failed) {
        slot_t *slot = v;
        if (!slot->pgroup)
            continue;
        const rill__raw_record_t *record;
        int index;
        memset(slot->caught_up, -2, slot->inputs->len);
        while ((record = rill__pgroup_next(slot->pgroup, now, slot_caught_up, slot, &index))) {
            input_t *in = &g_array_index(slot->inputs, input_t, index);
            rill_error_t *error = NULL;
            if (process(thread, slot, in, record, &error) != RILL_OK) {
                fail(thread, error);
                return;
            }
            if (rill__pgroup_pop(slot->pgroup, index))
                rill__kconsumer_pause(thread->consumer, in->topic, slot->partition, false);
        }
    }
}

/* Runs one record through its task (right away for single-input tasks,
 * from the partition group's buffer for the others). */
static rill_err_t process(rill__thread_t *thread, slot_t *slot, input_t *in,
                          const rill__raw_record_t *record, rill_error_t **error)
{
    rill_app_t *app = thread->app;
    rill__raw_record_t copy;
    const rill__raw_record_t *r = record;
    if (app->ts_policy == RILL__TS_WALL_CLOCK ||
        (record->timestamp < 0 && app->ts_policy != RILL__TS_FAIL)) {
        if (app->ts_policy == RILL__TS_SKIP) {
            __atomic_add_fetch(&thread->skipped, 1, __ATOMIC_RELAXED);
            rill__task_record_dropped(slot->task, RILL__DROP_INVALID_TIMESTAMP);
            in->next_offset = record->offset + 1;
            return RILL_OK;
        }
        copy = *record;
        if (app->ts_policy == RILL__TS_WALL_CLOCK)
            copy.timestamp = rill__clock_wall_ms();
        else
            copy.timestamp = rill__task_stream_time(slot->task);
        r = &copy;
    }
    rill_err_t rc = rill__task_process(slot->task, r, error);
    if (rc)
        return rc; /* the task's error names the task, the record and the node */
    in->next_offset = record->offset + 1;
    __atomic_add_fetch(&thread->processed, 1, __ATOMIC_RELAXED);
    if (slot->m_consumed)
        rill__metric_inc(slot->m_consumed, 1);
    return RILL_OK;
}

/* ---- the loop ---- */

/* Store sizes are estimates read from RocksDB properties: once a second is enough. */
#define SIZES_EVERY_MS 1000

static void punctuate(rill__thread_t *thread, int64_t wall_ms)
{
    int64_t now = rill__clock_mono_ms();
    bool sizes = thread->m_produced != NULL && now >= thread->next_sizes_ms;
    if (sizes)
        thread->next_sizes_ms = now + SIZES_EVERY_MS;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, &k, &v) && !thread->failed) {
        slot_t *slot = v;
        rill_error_t *error = NULL;
        if (rill__task_punctuate(slot->task, wall_ms, &error) != RILL_OK)
            fail(thread, error);
        slot_metrics_sync(slot);
        if (sizes)
            slot_metrics_sizes(slot);
    }
    if (thread->m_invalid_ts) {
        uint64_t skipped = __atomic_load_n(&thread->skipped, __ATOMIC_RELAXED);
        if (skipped != thread->seen_skipped)
            rill__metric_inc(thread->m_invalid_ts, (double)(skipped - thread->seen_skipped));
        thread->seen_skipped = skipped;
    }
}

static gpointer thread_main(gpointer p)
{
    rill__thread_t *thread = p;
    rill_app_t *app = thread->app;
    int64_t interval = app->commit_interval_ms;
    thread->next_commit_ms = rill__clock_mono_ms() + interval;
    RILL_LOG_INFO("runtime.thread", "%s started", thread->name);

    while (!app->stop && !thread->failed) {
        rill_error_t *error = NULL;
        int n = rill__kconsumer_poll(thread->consumer, app->poll_ms, 10000, &error);
        if (n < 0 && abortable(thread, error)) {
            rill_error_t *cause = g_steal_pointer(&error);
            if (recover(thread, cause, &error) == RILL_OK) {
                thread->next_commit_ms = rill__clock_mono_ms() + interval;
                continue;
            }
        }
        if (n < 0) {
            fail(thread, error);
            break;
        }
        if (n > 0 && thread->batch_start_us) {
            rill__metric_observe(thread->m_process_latency,
                                 (double)(rill__clock_mono_us() - thread->batch_start_us) / 1e6 /
                                     n);
        }
        thread->batch_start_us = 0;
        drain(thread);
        rill__kproducer_poll(thread->producer);
        int64_t now = rill__clock_mono_ms();
        if (now - thread->last_punctuate_ms >= 10) {
            thread->last_punctuate_ms = now;
            punctuate(thread, rill__clock_wall_ms());
        }
        if (!thread->failed && now >= thread->next_commit_ms) {
            if (commit(thread, &error) != RILL_OK) {
                rill_error_t *cause = NULL;
                if (abortable(thread, error)) {
                    cause = g_steal_pointer(&error);
                    if (recover(thread, cause, &error) != RILL_OK)
                        fail(thread, error);
                } else if (rill_error_is_retriable(error) && !rill_error_is_fatal(error)) {
                    RILL_LOG_WARN("runtime.thread", "%s: commit failed, retrying later: %s",
                                  thread->name, rill_error_message(error));
                    rill_error_destroy(error);
                } else {
                    fail(thread, error);
                }
            }
            thread->next_commit_ms = rill__clock_mono_ms() + interval;
        }
    }

    /* Shut down: commit what was processed (unless the thread failed, when
     * the state of its tasks is unknown), leave the group, close tasks. */
    if (!thread->failed) {
        rill_error_t *error = NULL;
        if (commit(thread, &error) != RILL_OK)
            fail(thread, error);
    }
    /* The first thread to leave the group would start a rebalance, in which
     * the others' commits are refused: leave only once all have committed. */
    rill__app_thread_final_commit_done(app, 10000);
    /* the lag gauges read the consumer: they go first */
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, thread->slots);
    while (g_hash_table_iter_next(&it, NULL, &v))
        slot_metrics_remove(v);
    rill__kconsumer_close(thread->consumer); /* serves the last revoke */
    thread->consumer = NULL;
    g_hash_table_remove_all(thread->slots);
    if (thread->failed && thread->exactly_once) {
        /* end it now rather than at transaction.timeout.ms: read_committed
         * readers wait behind an open transaction */
        rill_error_t *error = NULL;
        if (rill__kproducer_txn_abort(thread->producer, &error) != RILL_OK) {
            RILL_LOG_WARN("runtime.thread", "%s: %s", thread->name, rill_error_message(error));
            rill_error_destroy(error);
        }
    }
    if (!thread->failed) {
        rill_error_t *error = NULL;
        if (rill__kproducer_flush(thread->producer, 30000, &error) != RILL_OK)
            fail(thread, error);
    }
    RILL_LOG_INFO("runtime.thread", "%s stopped%s", thread->name,
                  thread->failed ? " after a failure" : "");
    if (thread->failed)
        rill__app_thread_failed(app, g_steal_pointer(&thread->error));
    rill__app_thread_exited(app);
    return NULL;
}

rill__thread_t *rill__thread_start(rill_app_t *app, int index, rill_error_t **error)
{
    rill__thread_t *thread = g_new0(rill__thread_t, 1);
    thread->app = app;
    thread->index = index;
    thread->name = g_strdup_printf("%s-StreamThread-%d", app->application_id, index + 1);
    thread->slots = g_hash_table_new_full(key_hash, key_equal, g_free, slot_destroy);
    thread->commit_tps = g_array_new(FALSE, FALSE, sizeof(rill__tp_t));
    thread->rebalancing = true;
    thread->buffered_per_partition =
        (int)rill__config_int(app->config, RILL_CONFIG_BUFFERED_RECORDS_PER_PARTITION);
    thread->max_task_idle_ms = rill__config_int(app->config, RILL_CONFIG_MAX_TASK_IDLE_MS);

    thread->producer =
        rill__kproducer_new(app->config, index, app->production_fail, &app->stop, error);
    if (!thread->producer)
        goto fail;
    thread->env.sink = rill__kproducer_sink(thread->producer);
    thread->env.application_id = app->application_id;
    thread->env.state_dir = app->state_dir;
    thread->env.wall_clock_ms = wall_clock;
    thread->env.clock_ud = NULL;
    thread->env.handlers = app->handlers;
    thread->env.default_key_serde = app->default_key_serde;
    thread->env.default_value_serde = app->default_value_serde;
    thread->env.changelog_read = rill__kafka_changelog_read; /* state stores */
    thread->env.changelog_ud = app->config;
    thread->exactly_once = rill__kproducer_transactional(thread->producer);
    thread->env.exactly_once = thread->exactly_once;
    thread->env.globals = app->globals;       /* global tables' stores (NULL: none) */
    thread->env.store_opened = rill__query_store_opened; /* stores rill_app_store() reads */
    thread->env.task_closing = rill__query_task_closing;
    thread->env.store_ud = app->queryable;
    thread->env.cache_max_bytes =
        (size_t)rill__config_int(app->config, RILL_CONFIG_CACHE_MAX_BYTES) /
        (size_t)app->num_threads;

    rill__kconsumer_cbs_t cbs = {on_assigned, on_revoked, on_record, thread};
    thread->consumer = rill__kconsumer_new(app->config, index, app->num_threads,
                                           (const char *const *)app->source_topics->pdata,
                                           (int)app->source_topics->len - 1, &cbs, error);
    if (!thread->consumer)
        goto fail;
    thread_metrics_add(thread);
    thread->gthread = g_thread_new(thread->name, thread_main, thread);
    return thread;

fail:
    rill__kproducer_destroy(thread->producer);
    g_hash_table_destroy(thread->slots);
    g_array_free(thread->commit_tps, TRUE);
    g_free(thread->name);
    g_free(thread);
    return NULL;
}

void rill__thread_join(rill__thread_t *thread)
{
    if (!thread)
        return;
    g_thread_join(thread->gthread);
    thread_metrics_remove(thread); /* produced reads the producer */
    rill__kproducer_destroy(thread->producer);
    g_hash_table_destroy(thread->slots);
    g_array_free(thread->commit_tps, TRUE);
    rill_error_destroy(thread->error);
    g_free(thread->name);
    g_free(thread);
}

bool rill__thread_rebalancing(const rill__thread_t *thread)
{
    return thread->rebalancing;
}

void rill__thread_stats(rill__thread_t *thread, rill_app_stats_t *stats)
{
    stats->records_processed += __atomic_load_n(&thread->processed, __ATOMIC_RELAXED);
    stats->records_skipped += __atomic_load_n(&thread->skipped, __ATOMIC_RELAXED);
    stats->commits += __atomic_load_n(&thread->commits, __ATOMIC_RELAXED);
    stats->rebalances += __atomic_load_n(&thread->rebalances, __ATOMIC_RELAXED);
    stats->records_produced += rill__kproducer_acked(thread->producer);
}
