/* 0161-kill9-idempotent: kill -9 rill-broker repeatedly under acks=all
 * idempotent load: zero acknowledged records lost, zero duplicates.
 *
 * A producer thread (librdkafka, enable.idempotence, acks=all, a long
 * message.timeout.ms so that records wait out a dead broker) sends records
 * "<seq>" round-robin to 2 partitions at a steady pace, and a delivery
 * callback marks each acknowledged seq. The main thread kills the broker with
 * SIGKILL and restarts it on the same data dir and port, five times, at
 * different moments. Then the producer stops, flushes (bounded), and a
 * consumer reads both partitions from offset 0 to the end:
 *   - every acknowledged seq is there exactly once;
 *   - no seq is there twice (acknowledged or not);
 *   - within a partition, seqs increase (idempotence keeps the order).
 * Unacknowledged records (sent while the broker died) may be missing.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "fault"
#define NPART 2
#define ROUNDS 5
#define MAX_SEQ 2000000

typedef struct run {
    const char *bootstrap;
    gint stop;          /* g_atomic */
    int64_t produced;   /* seqs 0..produced-1 were handed to librdkafka */
    guint8 *acked;      /* per seq: delivery reported success */
    int64_t n_acked;
    int64_t n_failed;
    char fatal[512];
} run_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    run_t *run = opaque;
    int64_t seq = (int64_t)(intptr_t)m->_private;
    if (m->err) {
        run->n_failed++;
        return;
    }
    if (run->acked[seq])
        rt_fail("seq %" PRId64 " acknowledged twice", seq);
    run->acked[seq] = 1;
    run->n_acked++;
}

static void *producer_main(void *ud)
{
    run_t *run = ud;
    rd_kafka_conf_t *conf = kt_conf(run->bootstrap);
    kt_set(conf, "enable.idempotence", "true");
    kt_set(conf, "acks", "all");
    kt_set(conf, "linger.ms", "2");
    kt_set(conf, "message.timeout.ms", "60000");
    kt_set(conf, "reconnect.backoff.ms", "50");
    kt_set(conf, "reconnect.backoff.max.ms", "200");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, run);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    for (int64_t seq = 0; seq < MAX_SEQ && !g_atomic_int_get(&run->stop); seq++) {
        char value[24];
        int vl = g_snprintf(value, sizeof(value), "%" PRId64, seq);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC),
                                      RD_KAFKA_V_PARTITION((int32_t)(seq % NPART)),
                                      RD_KAFKA_V_VALUE(value, (size_t)vl),
                                      RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            rt_fail("produce: %s", rd_kafka_err2str(e));
        run->produced = seq + 1;
        if (seq % 50 == 49) {
            rd_kafka_poll(rk, 0);
            g_usleep(1000); /* about 30,000 records a second */
        }
        char fatal[512];
        if (rd_kafka_fatal_error(rk, fatal, sizeof(fatal))) {
            g_strlcpy(run->fatal, fatal, sizeof(run->fatal));
            break;
        }
    }
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rt_fail("flush: records still unacknowledged after 60 s");
    char fatal[512];
    if (run->fatal[0] == '\0' && rd_kafka_fatal_error(rk, fatal, sizeof(fatal)))
        g_strlcpy(run->fatal, fatal, sizeof(run->fatal));
    rd_kafka_destroy(rk);
    return NULL;
}

/* Reads partition from 0 to its end; counts each seq, checks the order. */
static int64_t read_partition(const char *bootstrap, int32_t partition, guint8 *seen)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", "rill-itest-fault");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "enable.partition.eof", "true");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, partition)->offset = 0;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t deadline = rt_now_ms() + 60000, n = 0, last = -1;
    bool eof = false;
    while (!eof && rt_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof = true;
        } else if (m->err) {
            rt_fail("consume %d: %s", partition, rd_kafka_message_errstr(m));
        } else {
            g_autofree char *value = g_strndup(m->payload, m->len);
            int64_t seq = g_ascii_strtoll(value, NULL, 10);
            if (seq < 0 || seq >= MAX_SEQ || seq % NPART != partition)
                rt_fail("partition %d: unexpected record '%s'", partition, value);
            if (seen[seq]++)
                rt_fail("seq %" PRId64 " duplicated (partition %d, offset %" PRId64 ")", seq,
                        partition, m->offset);
            if (seq <= last)
                rt_fail("partition %d: seq %" PRId64 " after %" PRId64 " (offset %" PRId64 ")",
                        partition, seq, last, m->offset);
            last = seq;
            n++;
        }
        rd_kafka_message_destroy(m);
    }
    if (!eof)
        rt_fail("partition %d: no end within 60 s", partition);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

int main(void)
{
    rt_broker_t *broker = rt_broker_start(NULL);
    /* a copy: the harness's string is replaced at each restart (same port) */
    g_autofree char *bootstrap = g_strdup(rt_broker_bootstrap(broker));
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);
    run_t run = {.bootstrap = bootstrap, .acked = g_new0(guint8, MAX_SEQ)};
    pthread_t thread;
    if (pthread_create(&thread, NULL, producer_main, &run) != 0)
        rt_fail("pthread_create");
    for (int round = 0; round < ROUNDS; round++) {
        g_usleep((gulong)(500 + 170 * round) * 1000); /* a different moment each round */
        rt_broker_kill9(broker);
        g_usleep(200 * 1000);
        rt_broker_restart(broker);
    }
    g_usleep(1000 * 1000); /* some load on the last incarnation */
    g_atomic_int_set(&run.stop, 1);
    pthread_join(thread, NULL);
    if (run.fatal[0] != '\0')
        rt_fail("idempotent producer hit a fatal error: %s", run.fatal);
    RT_CHECK(run.n_acked > 0, "nothing acknowledged");

    guint8 *seen = g_new0(guint8, MAX_SEQ);
    int64_t stored = 0;
    for (int32_t p = 0; p < NPART; p++)
        stored += read_partition(bootstrap, p, seen);
    int64_t lost = 0, unacked_stored = 0;
    for (int64_t seq = 0; seq < run.produced; seq++) {
        if (run.acked[seq] && !seen[seq]) {
            if (lost++ < 10)
                fprintf(stderr, "acknowledged seq %" PRId64 " lost\n", seq);
        }
        unacked_stored += !run.acked[seq] && seen[seq];
    }
    RT_CHECK(lost == 0, "%" PRId64 " acknowledged records lost", lost);
    printf("ok - %d kill -9 rounds: %" PRId64 " records produced, %" PRId64
           " acknowledged, %" PRId64 " failed, %" PRId64 " stored (%" PRId64
           " stored without acknowledgement), 0 lost, 0 duplicated\n",
           ROUNDS, run.produced, run.n_acked, run.n_failed, stored, unacked_stored);
    g_free(seen);
    g_free(run.acked);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
