/* 0160-compaction: cleanup.policy=compact end to end with librdkafka.
 *
 * For each variant -- uncompressed, lz4, zstd (compressed by the producer),
 * and transactional (uncompressed, every fourth transaction aborted) -- a
 * producer writes 100,000 updates over 1,000 keys (update i sets key i % 1000
 * to "u<i>"), then tombstones for keys 0..99. The topic has small segments
 * (segment.bytes 64 KiB, segment.ms 300), delete.retention.ms 1500 and a
 * low min.cleanable.dirty.ratio, and the broker runs housekeeping every
 * 100 ms. The test then reads the partition from offset 0 (read_committed)
 * until, within 60 s:
 *   - each key 100..999 is seen exactly once, with its latest (committed) value;
 *   - keys 0..99 are not seen at all (their tombstones expired too);
 *   - no aborted value is ever seen (checked on every read, not only the last),
 *     and at the end a read_uncommitted consumer sees the same (the cleaner
 *     removed the aborted records; they are not merely filtered).
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define KEYS 1000
#define DEAD 100 /* keys 0..DEAD-1 are deleted at the end */
#define UPDATES 100000
#define TXN_SIZE 1000
#define DEADLINE_MS 60000

typedef struct variant {
    const char *name;
    const char *codec; /* librdkafka compression.codec */
    bool transactional;
} variant_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    int *failed = opaque;
    /* records of an aborted transaction are reported failed (purged) */
    bool aborted = m->len > 0 && ((const char *)m->payload)[0] == 'a';
    if (m->err && !aborted)
        (*failed)++;
}

/* Produces the updates; fills latest[key] with the index of its latest
 * committed update. */
static void produce(const char *bootstrap, const char *topic, const variant_t *v, int *latest)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "compression.codec", v->codec);
    kt_set(conf, "linger.ms", "5");
    kt_set(conf, "acks", "all");
    kt_set(conf, "enable.idempotence", "true");
    kt_set(conf, "batch.num.messages", "2000");
    if (v->transactional)
        kt_set(conf, "transactional.id", topic);
    int failed = 0;
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &failed);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_error_t *error = NULL;
    if (v->transactional && (error = rd_kafka_init_transactions(rk, 20000)) != NULL)
        rt_fail("init_transactions: %s", rd_kafka_error_string(error));
    int pending[KEYS]; /* latest of the open transaction */
    for (int k = 0; k < KEYS; k++)
        latest[k] = pending[k] = -1;
    for (int i = 0; i <= UPDATES; i++) {
        bool txn_start = v->transactional && i % TXN_SIZE == 0;
        if (txn_start && i > 0) { /* end the transaction of i - TXN_SIZE .. i - 1 */
            bool abort = (i / TXN_SIZE) % 4 == 0;
            /* an aborted transaction's records reach the log first */
            if (abort && rd_kafka_flush(rk, 20000) != RD_KAFKA_RESP_ERR_NO_ERROR)
                rt_fail("flush before abort did not finish in 20 s");
            error = abort ? rd_kafka_abort_transaction(rk, 20000)
                          : rd_kafka_commit_transaction(rk, 20000);
            if (error != NULL)
                rt_fail("end transaction: %s", rd_kafka_error_string(error));
            for (int k = 0; k < KEYS; k++)
                if (!abort && pending[k] >= 0)
                    latest[k] = pending[k];
            for (int k = 0; k < KEYS; k++)
                pending[k] = -1;
        }
        if (i == UPDATES)
            break;
        if (txn_start && (error = rd_kafka_begin_transaction(rk)) != NULL)
            rt_fail("begin_transaction: %s", rd_kafka_error_string(error));
        char key[16], value[24];
        int kl = g_snprintf(key, sizeof(key), "k%04d", i % KEYS);
        bool aborting = v->transactional && (i / TXN_SIZE + 1) % 4 == 0;
        int vl = g_snprintf(value, sizeof(value), "%c%d", aborting ? 'a' : 'u', i);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_KEY(key, (size_t)kl),
                                      RD_KAFKA_V_VALUE(value, (size_t)vl),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            rt_fail("produce: %s", rd_kafka_err2str(e));
        if (v->transactional)
            pending[i % KEYS] = i;
        else
            latest[i % KEYS] = i;
    }
    /* the deletes */
    if (v->transactional && (error = rd_kafka_begin_transaction(rk)) != NULL)
        rt_fail("begin_transaction: %s", rd_kafka_error_string(error));
    for (int k = 0; k < DEAD; k++) {
        char key[16];
        int kl = g_snprintf(key, sizeof(key), "k%04d", k);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_KEY(key, (size_t)kl), RD_KAFKA_V_VALUE(NULL, 0),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            rt_fail("produce tombstone: %s", rd_kafka_err2str(e));
        latest[k] = -1;
    }
    if (v->transactional && (error = rd_kafka_commit_transaction(rk, 20000)) != NULL)
        rt_fail("commit_transaction: %s", rd_kafka_error_string(error));
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rt_fail("%s: flush did not finish in 30 s", v->name);
    if (failed)
        rt_fail("%s: %d records failed", v->name, failed);
    rd_kafka_destroy(rk);
}

typedef struct view {
    int count[KEYS];
    int value[KEYS]; /* last value seen, -1 for a tombstone */
    int64_t records;
} view_t;

/* Reads the partition from offset 0 to its end at isolation. */
static void read_view(const char *bootstrap, const char *topic, const char *isolation,
                      view_t *view)
{
    memset(view, 0, sizeof(*view));
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", "rill-itest-compaction");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "enable.partition.eof", "true");
    kt_set(conf, "isolation.level", isolation);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = 0;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t deadline = rt_now_ms() + 30000;
    bool eof = false;
    while (!eof && rt_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            eof = true;
        } else if (m->err) {
            rt_fail("%s: consume: %s", topic, rd_kafka_message_errstr(m));
        } else {
            char key[16] = {0};
            memcpy(key, m->key, m->key_len < 15 ? m->key_len : 15);
            int k = atoi(key + 1);
            if (k < 0 || k >= KEYS)
                rt_fail("%s: unexpected key '%s'", topic, key);
            g_autofree char *value = m->payload ? g_strndup(m->payload, m->len) : NULL;
            if (value != NULL && value[0] == 'a')
                rt_fail("%s: aborted value %s of %s seen at offset %" PRId64, topic, value, key,
                        m->offset);
            view->count[k]++;
            view->value[k] = value ? atoi(value + 1) : -1;
            view->records++;
        }
        rd_kafka_message_destroy(m);
    }
    if (!eof)
        rt_fail("%s: no end of partition within 30 s", topic);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* NULL if view is the compacted state, else what is still wrong. */
static char *mismatch(const view_t *view, const int *latest)
{
    for (int k = 0; k < KEYS; k++) {
        if (k < DEAD && view->count[k] != 0)
            return g_strdup_printf("deleted key k%04d seen %d times", k, view->count[k]);
        if (k >= DEAD && (view->count[k] != 1 || view->value[k] != latest[k]))
            return g_strdup_printf("key k%04d seen %d times, last value %d (latest %d)", k,
                                   view->count[k], view->value[k], latest[k]);
    }
    return NULL;
}

static void run(rt_broker_t *broker, const variant_t *v)
{
    const char *bootstrap = rt_broker_bootstrap(broker);
    g_autofree char *topic = g_strdup_printf("compact-%s", v->name);
    kt_create_topic(bootstrap, topic, 1, "cleanup.policy", "compact", "segment.bytes", "65536",
                    "segment.ms", "300", "delete.retention.ms", "1500",
                    "min.cleanable.dirty.ratio", "0.01", NULL);
    int latest[KEYS];
    int64_t t0 = rt_now_ms();
    produce(bootstrap, topic, v, latest);
    int64_t produced = rt_now_ms();
    view_t view;
    g_autofree char *wrong = NULL;
    int reads = 0;
    for (;;) {
        read_view(bootstrap, topic, "read_committed", &view);
        reads++;
        g_free(wrong);
        wrong = mismatch(&view, latest);
        if (wrong == NULL || rt_now_ms() - produced > DEADLINE_MS)
            break;
        g_usleep(300 * 1000);
    }
    if (wrong != NULL)
        rt_fail("%s: not compacted within %d s: %s (%" PRId64 " records read)", v->name,
                DEADLINE_MS / 1000, wrong, view.records);
    /* the aborted records are gone from the log itself, not only filtered */
    view_t raw;
    read_view(bootstrap, topic, "read_uncommitted", &raw);
    g_autofree char *raw_wrong = mismatch(&raw, latest);
    if (raw_wrong != NULL)
        rt_fail("%s: read_uncommitted: %s", v->name, raw_wrong);
    int64_t lo, hi;
    kt_watermarks(bootstrap, topic, 0, &lo, &hi);
    printf("ok - %s: %d updates over %d keys compacted to %" PRId64
           " records (log end offset %" PRId64 "), produce %.1f s, compacted %.1f s later, "
           "%d reads\n",
           v->name, UPDATES, KEYS, view.records, hi, (double)(produced - t0) / 1000,
           (double)(rt_now_ms() - produced) / 1000, reads);
}

int main(void)
{
    const char *args[] = {"--log.retention.check.interval.ms=100", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const variant_t variants[] = {
        {"plain", "none", false},
        {"lz4", "lz4", false},
        {"zstd", "zstd", false},
        {"txn", "none", true},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(variants); i++)
        run(broker, &variants[i]);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
