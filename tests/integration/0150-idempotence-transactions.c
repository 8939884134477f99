/* 0150-idempotence-transactions: librdkafka's idempotent and transactional
 * producers against rill-broker.
 *
 *   1. an idempotent producer (enable.idempotence) writes 2000 records: each
 *      gets the next offset, none is written twice;
 *   2. a transactional producer commits 10 records, aborts 5, commits 3 (on
 *      two partitions): a read_committed consumer sees exactly the 13
 *      committed ones, a read_uncommitted one all 18;
 *   3. a transaction left open by a broker killed with -9 is aborted by the
 *      restarted broker: read_committed consumers do not see it and are not
 *      blocked by it (records committed after it are visible);
 *   4. a transaction that outlives transaction.timeout.ms is aborted by the
 *      broker, and the producer is fenced (its commit fails).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "txn"
#define NPART 2

/* Reads partition from 0 to its end (EOF) at isolation; returns the values
 * seen (transfer full, NULL-terminated). */
static GPtrArray *read_all(const char *bootstrap, int32_t partition, const char *isolation)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", "rill-itest-txn");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "enable.partition.eof", "true");
    kt_set(conf, "isolation.level", isolation);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, partition)->offset = 0;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    GPtrArray *values = g_ptr_array_new_with_free_func(g_free);
    int64_t deadline = rt_now_ms() + 30000;
    bool eof = false;
    while (!eof && rt_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            eof = true;
        else if (m->err)
            rt_fail("consume %s/%d (%s): %s", TOPIC, (int)partition, isolation,
                    rd_kafka_message_errstr(m));
        else
            g_ptr_array_add(values, g_strndup(m->payload, m->len));
        rd_kafka_message_destroy(m);
    }
    if (!eof)
        rt_fail("partition %d (%s): no end of partition within 30 s (LSO stuck?)", (int)partition,
                isolation);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return values;
}

static int count_prefix(GPtrArray *values, const char *prefix)
{
    int n = 0;
    for (guint i = 0; i < values->len; i++)
        if (g_str_has_prefix(values->pdata[i], prefix))
            n++;
    return n;
}

static void check(rd_kafka_error_t *error, const char *what)
{
    if (error != NULL)
        rt_fail("%s: %s", what, rd_kafka_error_string(error));
}

static rd_kafka_t *txn_producer(const char *bootstrap, const char *txn_id, const char *timeout_ms)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "transactional.id", txn_id);
    kt_set(conf, "transaction.timeout.ms", timeout_ms);
    kt_set(conf, "linger.ms", "0");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    check(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    return rk;
}

static void produce_n(rd_kafka_t *rk, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        g_autofree char *value = g_strdup_printf("%s-%d", prefix, i);
        rd_kafka_resp_err_t err =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(i % NPART),
                              RD_KAFKA_V_VALUE(value, strlen(value)),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err)
            rt_fail("produce %s: %s", value, rd_kafka_err2str(err));
    }
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rt_fail("flush %s timed out", prefix);
}

static void step_idempotent(const char *bootstrap)
{
    const char *conf[] = {"enable.idempotence", "true", "max.in.flight", "5", NULL};
    kt_producer_t *p = kt_producer_new(bootstrap, conf);
    enum { N = 2000 };
    int idx[N];
    for (int i = 0; i < N; i++) {
        g_autofree char *value = g_strdup_printf("idem-%d", i);
        idx[i] = kt_produce(p, TOPIC, 0, NULL, 0, value, strlen(value));
    }
    kt_producer_flush(p, 60000);
    for (int i = 0; i < N; i++)
        RT_CHECK(kt_producer_offset(p, idx[i]) == i, "idempotent record %d at offset %" PRId64, i,
                 kt_producer_offset(p, idx[i]));
    kt_producer_destroy(p);
    int64_t lo, hi;
    kt_watermarks(bootstrap, TOPIC, 0, &lo, &hi);
    RT_CHECK(hi == N, "high watermark %" PRId64 " after %d idempotent records", hi, N);
}

static void step_commit_abort(const char *bootstrap)
{
    rd_kafka_t *rk = txn_producer(bootstrap, "app-1", "60000");
    check(rd_kafka_begin_transaction(rk), "begin 1");
    produce_n(rk, "c1", 10);
    check(rd_kafka_commit_transaction(rk, 30000), "commit 1");
    check(rd_kafka_begin_transaction(rk), "begin 2");
    produce_n(rk, "a2", 5);
    check(rd_kafka_abort_transaction(rk, 30000), "abort 2");
    check(rd_kafka_begin_transaction(rk), "begin 3");
    produce_n(rk, "c3", 3);
    check(rd_kafka_commit_transaction(rk, 30000), "commit 3");
    rd_kafka_destroy(rk);

    int committed = 0, uncommitted = 0, aborted_seen = 0;
    for (int p = 0; p < NPART; p++) {
        GPtrArray *rc = read_all(bootstrap, p, "read_committed");
        GPtrArray *ru = read_all(bootstrap, p, "read_uncommitted");
        committed += count_prefix(rc, "c1") + count_prefix(rc, "c3");
        aborted_seen += count_prefix(rc, "a2");
        uncommitted += count_prefix(ru, "c1") + count_prefix(ru, "c3") + count_prefix(ru, "a2");
        g_ptr_array_free(rc, TRUE);
        g_ptr_array_free(ru, TRUE);
    }
    RT_CHECK(committed == 13, "read_committed saw %d committed records, expected 13", committed);
    RT_CHECK(aborted_seen == 0, "read_committed saw %d aborted records", aborted_seen);
    RT_CHECK(uncommitted == 18, "read_uncommitted saw %d records, expected 18", uncommitted);
}

static void step_crash_mid_transaction(rt_broker_t *broker)
{
    const char *bootstrap = rt_broker_bootstrap(broker);
    rd_kafka_t *rk = txn_producer(bootstrap, "app-crash", "60000");
    check(rd_kafka_begin_transaction(rk), "begin crash");
    produce_n(rk, "open", 6); /* acknowledged, never committed */
    rt_broker_kill9(broker);
    rd_kafka_destroy(rk);
    rt_broker_restart(broker);
    bootstrap = rt_broker_bootstrap(broker);

    /* A later transaction commits after the aborted one. */
    rk = txn_producer(bootstrap, "app-after", "60000");
    check(rd_kafka_begin_transaction(rk), "begin after");
    produce_n(rk, "after", 4);
    check(rd_kafka_commit_transaction(rk, 30000), "commit after");
    rd_kafka_destroy(rk);

    int open_seen = 0, after_seen = 0, open_raw = 0;
    for (int p = 0; p < NPART; p++) {
        GPtrArray *rc = read_all(bootstrap, p, "read_committed");
        open_seen += count_prefix(rc, "open");
        after_seen += count_prefix(rc, "after");
        g_ptr_array_free(rc, TRUE);
        GPtrArray *ru = read_all(bootstrap, p, "read_uncommitted");
        open_raw += count_prefix(ru, "open");
        g_ptr_array_free(ru, TRUE);
    }
    RT_CHECK(open_raw == 6, "the open transaction's records: %d in the log, expected 6", open_raw);
    RT_CHECK(open_seen == 0, "read_committed saw %d records of the aborted transaction", open_seen);
    RT_CHECK(after_seen == 4, "read_committed saw %d of the 4 later committed records", after_seen);
}

static void step_timeout_fences(const char *bootstrap)
{
    rd_kafka_t *rk = txn_producer(bootstrap, "app-slow", "1000");
    check(rd_kafka_begin_transaction(rk), "begin slow");
    produce_n(rk, "slow", 2);
    /* The coordinator checks every second: past 1 s + a tick it aborts. */
    g_usleep(3500 * 1000);
    rd_kafka_error_t *error = rd_kafka_commit_transaction(rk, 30000);
    RT_CHECK(error != NULL, "commit after the transaction timed out succeeded");
    fprintf(stderr, "commit after timeout failed as expected: %s (fatal=%d abortable=%d)\n",
            rd_kafka_error_string(error), rd_kafka_error_is_fatal(error),
            rd_kafka_error_txn_requires_abort(error));
    rd_kafka_error_destroy(error);
    rd_kafka_destroy(rk);
    int slow_seen = 0;
    for (int p = 0; p < NPART; p++) {
        GPtrArray *rc = read_all(bootstrap, p, "read_committed");
        slow_seen += count_prefix(rc, "slow");
        g_ptr_array_free(rc, TRUE);
    }
    RT_CHECK(slow_seen == 0, "read_committed saw %d records of the timed-out transaction",
             slow_seen);
}

int main(void)
{
    rt_broker_t *broker = rt_broker_start(NULL);
    const char *bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);
    step_idempotent(bootstrap);
    step_commit_abort(bootstrap);
    step_crash_mid_transaction(broker);
    step_timeout_fences(rt_broker_bootstrap(broker));
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
