/* eos-group-bench: librdkafka clients against a real rill-broker (started by
 * tests/integration/harness.c): consumer-group rebalance time for 3 members,
 * and produce throughput of plain acks=all vs idempotent vs transactional
 * producers measured side by side in one run (docs/benchmarks.md).
 *
 * Design: every figure is wall-clock time seen by the client, so it includes
 * librdkafka's own scheduling (poll loops, linger, heartbeat timers).
 *   rebalance: members A and B of a fresh group are Stable; t0 = C's
 *     subscribe; t1 = the three assignments are non-empty, disjoint and cover
 *     the 6 partitions. Then t2 = A's consumer_close starts; t3 = B and C
 *     cover the 6 partitions. All three are polled round-robin (1 ms).
 *   produce: N records of S bytes, linger.ms=5, acks=all, into a fresh
 *     6-partition topic per run, after one warm-up record per producer (so
 *     connecting and InitProducerId are not timed); time from the first
 *     produce to the last
 *     delivery report (transactional: to the last commit_transaction, with a
 *     commit every 100 ms). Modes run interleaved for R rounds.
 *
 * Usage: bench/eos-group-bench [records=1000000] [rounds=3] [rebalance rounds=5]
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define NPART 6
#define VALUE_SIZE 100

/* ---- rebalance ---- */

static rd_kafka_t *member_new(const char *bootstrap, const char *group, const char *topic)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", group);
    kt_set(conf, "session.timeout.ms", "6000");
    kt_set(conf, "heartbeat.interval.ms", "300");
    kt_set(conf, "enable.auto.commit", "false");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        rt_fail("consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *t = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(t, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, t);
    rd_kafka_topic_partition_list_destroy(t);
    if (e)
        rt_fail("subscribe: %s", rd_kafka_err2str(e));
    return rk;
}

static unsigned mask_of(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts))
        return 0;
    unsigned m = 0;
    for (int i = 0; i < parts->cnt; i++)
        m |= 1u << parts->elems[i].partition;
    rd_kafka_topic_partition_list_destroy(parts);
    return m;
}

static void poll_all(rd_kafka_t **rks, int n)
{
    for (int i = 0; i < n; i++) {
        if (!rks[i])
            continue;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rks[i], 1);
        if (m)
            rd_kafka_message_destroy(m);
    }
}

/* The non-NULL members' assignments are non-empty, disjoint and cover NPART. */
static bool covered(rd_kafka_t **rks, int n)
{
    unsigned all = 0;
    for (int i = 0; i < n; i++) {
        if (!rks[i])
            continue;
        unsigned m = mask_of(rks[i]);
        if (m == 0 || (all & m))
            return false;
        all |= m;
    }
    return all == (1u << NPART) - 1;
}

static void wait_covered(rd_kafka_t **rks, int n, const char *what)
{
    int64_t deadline = rt_now_ms() + 60000;
    while (!covered(rks, n)) {
        if (rt_now_ms() > deadline)
            rt_fail("rebalance: %s took over 60 s", what);
        poll_all(rks, n);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_rebalance(const char *bootstrap, int rounds)
{
    kt_create_topic(bootstrap, "rebalance", NPART, NULL);
    double join[64], leave[64];
    for (int r = 0; r < rounds; r++) {
        char group[32];
        g_snprintf(group, sizeof(group), "bench-g%d", r);
        rd_kafka_t *rks[3] = {member_new(bootstrap, group, "rebalance"), NULL, NULL};
        wait_covered(rks, 1, "the first member");
        rks[1] = member_new(bootstrap, group, "rebalance");
        wait_covered(rks, 2, "the second member");
        int64_t t0 = g_get_monotonic_time();
        rks[2] = member_new(bootstrap, group, "rebalance");
        wait_covered(rks, 3, "the third member");
        join[r] = (double)(g_get_monotonic_time() - t0) / 1000.0;
        t0 = g_get_monotonic_time();
        rd_kafka_consumer_close(rks[0]);
        rd_kafka_destroy(rks[0]);
        rks[0] = NULL;
        wait_covered(rks, 3, "the rebalance after a leave");
        leave[r] = (double)(g_get_monotonic_time() - t0) / 1000.0;
        printf("rebalance round %d: third member joined -> 3 assigned %.1f ms; "
               "one left -> 2 assigned %.1f ms\n",
               r + 1, join[r], leave[r]);
        for (int i = 1; i < 3; i++) {
            rd_kafka_consumer_close(rks[i]);
            rd_kafka_destroy(rks[i]);
        }
    }
    qsort(join, (size_t)rounds, sizeof(double), cmp_double);
    qsort(leave, (size_t)rounds, sizeof(double), cmp_double);
    printf("rebalance (%d rounds): join of the 3rd member median %.1f ms (min %.1f, max %.1f); "
           "after a LeaveGroup median %.1f ms (min %.1f, max %.1f)\n",
           rounds, join[rounds / 2], join[0], join[rounds - 1], leave[rounds / 2], leave[0],
           leave[rounds - 1]);
}

/* ---- produce ---- */

enum mode { PLAIN, IDEMPOTENT, TRANSACTIONAL };
static const char *const mode_name[] = {"acks=all", "idempotent", "transactional"};

static int64_t delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk, (void)opaque;
    if (m->err) {
        if (failed++ == 0)
            fprintf(stderr, "delivery: %s\n", rd_kafka_err2str(m->err));
    } else {
        delivered++;
    }
}

static void txn_ok(rd_kafka_error_t *e, const char *what)
{
    if (e)
        rt_fail("%s: %s", what, rd_kafka_error_string(e));
}

static double bench_produce(const char *bootstrap, enum mode mode, int64_t n, int run)
{
    char topic[64];
    g_snprintf(topic, sizeof(topic), "produce-%s-%d", mode_name[mode], run);
    for (char *c = topic; *c; c++)
        if (*c == '=')
            *c = '_';
    kt_create_topic(bootstrap, topic, NPART, NULL);

    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "acks", "all");
    kt_set(conf, "linger.ms", "5");
    kt_set(conf, "queue.buffering.max.messages", "1000000");
    kt_set(conf, "queue.buffering.max.kbytes", "1048576");
    kt_set(conf, "enable.idempotence", mode == PLAIN ? "false" : "true");
    if (mode == TRANSACTIONAL) {
        char tid[64];
        g_snprintf(tid, sizeof(tid), "bench-txn-%d", run);
        kt_set(conf, "transactional.id", tid);
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (!rk)
        rt_fail("producer: %s", err);
    if (mode == TRANSACTIONAL)
        txn_ok(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    char value[VALUE_SIZE];
    memset(value, 'v', sizeof(value));
    /* warm-up: one record delivered (the producer id acquired, connections up) */
    if (mode == TRANSACTIONAL)
        txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
    if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, sizeof(value)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END))
        rt_fail("warm-up produce failed");
    if (mode == TRANSACTIONAL)
        txn_ok(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
    rd_kafka_flush(rk, 30000);
    delivered = failed = 0;

    int64_t t0 = g_get_monotonic_time();
    int64_t last_commit = t0;
    int64_t commits = 0;
    if (mode == TRANSACTIONAL)
        txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
    for (int64_t i = 0; i < n; i++) {
        g_snprintf(value, 16, "%015" PRId64, i);
        for (;;) {
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(value, sizeof(value)),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
            if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rt_fail("produce: %s", rd_kafka_err2str(e));
            rd_kafka_poll(rk, 1);
        }
        if ((i & 1023) == 0) {
            rd_kafka_poll(rk, 0);
            if (mode == TRANSACTIONAL && g_get_monotonic_time() - last_commit >= 100000) {
                txn_ok(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
                commits++;
                txn_ok(rd_kafka_begin_transaction(rk), "begin_transaction");
                last_commit = g_get_monotonic_time();
            }
        }
    }
    if (mode == TRANSACTIONAL) {
        txn_ok(rd_kafka_commit_transaction(rk, 60000), "commit_transaction");
        commits++;
    }
    rd_kafka_flush(rk, 120000);
    double secs = (double)(g_get_monotonic_time() - t0) / 1e6;
    rd_kafka_poll(rk, 0);
    if (delivered != n || failed)
        rt_fail("%s: %" PRId64 " of %" PRId64 " delivered, %" PRId64 " failed", mode_name[mode],
                delivered, n, failed);
    rd_kafka_destroy(rk);
    /* the broker holds them all: the warm-up record, the n records and,
     * transactional, one commit marker per partition per transaction */
    int64_t total = 0;
    for (int32_t p = 0; p < NPART; p++) {
        int64_t lo, hi;
        kt_watermarks(bootstrap, topic, p, &lo, &hi);
        total += hi - lo;
    }
    RT_CHECK(total >= n + 1, "%s: the broker holds %" PRId64 " of %" PRId64 " records",
             mode_name[mode], total, n + 1);
    double rate = (double)n / secs;
    printf("produce round %d %-13s %" PRId64 " x %d B: %.2f s, %.0f records/s, %.1f MB/s",
           run + 1, mode_name[mode], n, VALUE_SIZE, secs, rate, rate * VALUE_SIZE / 1e6);
    if (mode == TRANSACTIONAL)
        printf(", %" PRId64 " commits", commits);
    printf("\n");
    fflush(stdout);
    return rate;
}

int main(int argc, char **argv)
{
    int64_t n = argc > 1 ? g_ascii_strtoll(argv[1], NULL, 10) : 1000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 3;
    int rb_rounds = argc > 3 ? atoi(argv[3]) : 5;
    if (n <= 0 || rounds <= 0 || rounds > 64 || rb_rounds <= 0 || rb_rounds > 64) {
        fprintf(stderr, "usage: %s [records>0] [rounds 1..64] [rebalance rounds 1..64]\n",
                argv[0]);
        return 2;
    }
    const char *args[] = {"--group.initial.rebalance.delay.ms=0", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const char *bootstrap = rt_broker_bootstrap(broker);

    bench_rebalance(bootstrap, rb_rounds);

    double rate[3][64];
    for (int r = 0; r < rounds; r++)
        for (int m = PLAIN; m <= TRANSACTIONAL; m++)
            rate[m][r] = bench_produce(bootstrap, (enum mode)m, n, r);
    double med[3];
    for (int m = PLAIN; m <= TRANSACTIONAL; m++) {
        qsort(rate[m], (size_t)rounds, sizeof(double), cmp_double);
        med[m] = rate[m][rounds / 2];
    }
    printf("produce medians: acks=all %.0f/s, idempotent %.0f/s (%.2fx), "
           "transactional %.0f/s (%.2fx)\n",
           med[PLAIN], med[IDEMPOTENT], med[IDEMPOTENT] / med[PLAIN], med[TRANSACTIONAL],
           med[TRANSACTIONAL] / med[PLAIN]);
    RT_CHECK(rt_broker_stop(broker) == 0, "the broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
