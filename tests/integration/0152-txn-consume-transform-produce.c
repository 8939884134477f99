/* 0152-txn-consume-transform-produce: exactly-once consume-transform-produce
 * through rill-broker with librdkafka's transactional API, and zombie fencing.
 *
 *   1. a consumer (group "ctp", read_committed, no auto-commit) and a
 *      transactional producer read "in", write each value transformed to "out"
 *      and send the consumed offsets in the same transaction
 *      (send_offsets_to_transaction). The first transaction is aborted: its
 *      output is invisible to read_committed readers and its offsets are not
 *      committed, so a new consumer of the group starts from the beginning.
 *      After the rest is processed in committed transactions, "out" holds
 *      every input value exactly once (read_committed) and the group's
 *      committed offsets are the end of "in";
 *   2. a producer with the same transactional.id as a running one fences it:
 *      the old one's commit fails with a fencing error, the new one's records
 *      commit, and only they are visible.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define NPART 2
#define NREC 100
#define ABORTED 30

static void check(rd_kafka_error_t *error, const char *what)
{
    if (error != NULL)
        rt_fail("%s: %s", what, rd_kafka_error_string(error));
}

static rd_kafka_t *txn_producer(const char *bootstrap, const char *txn_id)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "transactional.id", txn_id);
    kt_set(conf, "linger.ms", "5");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    check(rd_kafka_init_transactions(rk, 30000), "init_transactions");
    return rk;
}

static rd_kafka_t *group_consumer(const char *bootstrap, const char *group)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", group);
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "auto.offset.reset", "earliest");
    kt_set(conf, "isolation.level", "read_committed");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, "in", RD_KAFKA_PARTITION_UA);
    if (rd_kafka_subscribe(rk, sub))
        rt_fail("subscribe");
    rd_kafka_topic_partition_list_destroy(sub);
    return rk;
}

/* One transaction: consume up to max records (waiting at most wait_ms for the
 * first), write "X-<value>" (or "ABORTED-<value>") to out, send the offsets,
 * then commit or abort. Returns the number of records consumed. */
static int one_txn(rd_kafka_t *consumer, rd_kafka_t *producer, int max, int wait_ms, bool commit)
{
    check(rd_kafka_begin_transaction(producer), "begin_transaction");
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(NPART);
    int n = 0;
    int64_t deadline = rt_now_ms() + wait_ms;
    while (n < max && rt_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
        if (m == NULL)
            continue;
        if (m->err) {
            rd_kafka_message_destroy(m);
            continue;
        }
        g_autofree char *value = g_strdup_printf("%s-%.*s", commit ? "X" : "ABORTED", (int)m->len,
                                                 (const char *)m->payload);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC("out"), RD_KAFKA_V_PARTITION(m->partition),
            RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_END);
        if (err)
            rt_fail("produce: %s", rd_kafka_err2str(err));
        rd_kafka_topic_partition_t *tp =
            rd_kafka_topic_partition_list_find(offsets, "in", m->partition);
        if (tp == NULL)
            tp = rd_kafka_topic_partition_list_add(offsets, "in", m->partition);
        tp->offset = m->offset + 1;
        rd_kafka_message_destroy(m);
        n++;
        deadline = rt_now_ms() + 1000; /* after the first record, stop at a lull */
    }
    if (n > 0) {
        rd_kafka_consumer_group_metadata_t *meta = rd_kafka_consumer_group_metadata(consumer);
        check(rd_kafka_send_offsets_to_transaction(producer, offsets, meta, 30000),
              "send_offsets_to_transaction");
        rd_kafka_consumer_group_metadata_destroy(meta);
    }
    rd_kafka_topic_partition_list_destroy(offsets);
    if (commit)
        check(rd_kafka_commit_transaction(producer, 30000), "commit_transaction");
    else {
        /* make the aborted records reach the log (abort purges what is unsent) */
        if (rd_kafka_flush(producer, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            rt_fail("flush before abort");
        check(rd_kafka_abort_transaction(producer, 30000), "abort_transaction");
    }
    return n;
}

/* The group's committed offsets of in's partitions (-1001 when none). */
static void committed(const char *bootstrap, const char *group, int64_t out[NPART])
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", group);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(NPART);
    for (int p = 0; p < NPART; p++)
        rd_kafka_topic_partition_list_add(parts, "in", p);
    if (rd_kafka_committed(rk, parts, 30000))
        rt_fail("committed");
    for (int p = 0; p < NPART; p++)
        out[p] = parts->elems[p].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_destroy(rk);
}

/* Values of out (all partitions) at isolation, counted by value. */
static GHashTable *read_out(const char *bootstrap, const char *isolation, int *total)
{
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    *total = 0;
    for (int p = 0; p < NPART; p++) {
        rd_kafka_conf_t *conf = kt_conf(bootstrap);
        kt_set(conf, "group.id", "rill-itest-reader");
        kt_set(conf, "enable.auto.commit", "false");
        kt_set(conf, "enable.partition.eof", "true");
        kt_set(conf, "isolation.level", isolation);
        char err[256];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (rk == NULL)
            rt_fail("rd_kafka_new: %s", err);
        rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(a, "out", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, a);
        rd_kafka_topic_partition_list_destroy(a);
        int64_t deadline = rt_now_ms() + 30000;
        for (;;) {
            if (rt_now_ms() > deadline)
                rt_fail("reading out/%d (%s): no end within 30 s", p, isolation);
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
            if (m == NULL)
                continue;
            bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
            if (!m->err) {
                char *v = g_strndup(m->payload, m->len);
                g_hash_table_insert(seen, v,
                                    GINT_TO_POINTER(GPOINTER_TO_INT(g_hash_table_lookup(seen, v)) + 1));
                (*total)++;
            }
            rd_kafka_message_destroy(m);
            if (eof)
                break;
        }
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    return seen;
}

static void step_consume_transform_produce(const char *bootstrap)
{
    kt_create_topic(bootstrap, "in", NPART, NULL);
    kt_create_topic(bootstrap, "out", NPART, NULL);
    kt_producer_t *plain = kt_producer_new(bootstrap, NULL);
    for (int i = 0; i < NREC; i++) {
        char v[16];
        snprintf(v, sizeof(v), "v%03d", i);
        kt_produce(plain, "in", i % NPART, NULL, 0, v, strlen(v));
    }
    kt_producer_flush(plain, 30000);
    kt_producer_destroy(plain);

    rd_kafka_t *producer = txn_producer(bootstrap, "ctp-1");
    /* an aborted transaction: output hidden, offsets not committed */
    rd_kafka_t *consumer = group_consumer(bootstrap, "ctp");
    int n = one_txn(consumer, producer, ABORTED, 30000, false);
    if (n == 0)
        rt_fail("the first transaction consumed nothing");
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    int64_t offs[NPART];
    committed(bootstrap, "ctp", offs);
    for (int p = 0; p < NPART; p++)
        if (offs[p] >= 0)
            rt_fail("an aborted transaction committed offset %" PRId64 " on in/%d", offs[p], p);

    /* a new member of the group starts from the beginning and commits as it goes */
    consumer = group_consumer(bootstrap, "ctp");
    int done = 0, txns = 0;
    int64_t deadline = rt_now_ms() + 60000;
    while (done < NREC) {
        if (rt_now_ms() > deadline)
            rt_fail("consume-transform-produce: %d of %d records after 60 s", done, NREC);
        done += one_txn(consumer, producer, 25, 5000, true);
        txns++;
    }
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);

    committed(bootstrap, "ctp", offs);
    for (int p = 0; p < NPART; p++)
        if (offs[p] != NREC / NPART)
            rt_fail("committed offset of in/%d is %" PRId64 ", not its end %d", p, offs[p],
                    NREC / NPART);
    int total;
    GHashTable *seen = read_out(bootstrap, "read_committed", &total);
    if (total != NREC || (int)g_hash_table_size(seen) != NREC)
        rt_fail("read_committed: %d records (%u distinct) in out, want exactly %d", total,
                g_hash_table_size(seen), NREC);
    for (int i = 0; i < NREC; i++) {
        char v[24];
        snprintf(v, sizeof(v), "X-v%03d", i);
        if (GPOINTER_TO_INT(g_hash_table_lookup(seen, v)) != 1)
            rt_fail("read_committed: %s seen %d times", v, GPOINTER_TO_INT(g_hash_table_lookup(seen, v)));
    }
    g_hash_table_destroy(seen);
    seen = read_out(bootstrap, "read_uncommitted", &total);
    if (total != NREC + n)
        rt_fail("read_uncommitted: %d records, want %d (with the %d aborted)", total, NREC + n, n);
    g_hash_table_destroy(seen);
    printf("ok 1 - consume-transform-produce: %d records exactly once in %d transactions; "
           "the aborted one (%d records) hidden and its offsets not committed\n",
           NREC, txns, n);
}

static void step_zombie_fencing(const char *bootstrap)
{
    kt_create_topic(bootstrap, "fence", 1, NULL);
    rd_kafka_t *zombie = txn_producer(bootstrap, "fence-1");
    check(rd_kafka_begin_transaction(zombie), "zombie begin");
    const char *zv = "from-zombie";
    if (rd_kafka_producev(zombie, RD_KAFKA_V_TOPIC("fence"), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE((void *)zv, strlen(zv)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END))
        rt_fail("zombie produce");
    rd_kafka_flush(zombie, 10000);

    /* the new instance: init_transactions fences the zombie's epoch */
    rd_kafka_t *fresh = txn_producer(bootstrap, "fence-1");
    rd_kafka_error_t *error = rd_kafka_commit_transaction(zombie, 30000);
    if (error == NULL)
        rt_fail("the zombie's commit succeeded after a new producer took its transactional.id");
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    if (!rd_kafka_error_is_fatal(error) && code != RD_KAFKA_RESP_ERR__FENCED &&
        code != RD_KAFKA_RESP_ERR_PRODUCER_FENCED && code != RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)
        rt_fail("the zombie's commit failed, but not as fenced: %s", rd_kafka_error_string(error));
    printf("# zombie commit: %s\n", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    rd_kafka_destroy(zombie);

    check(rd_kafka_begin_transaction(fresh), "fresh begin");
    const char *fv = "from-fresh";
    if (rd_kafka_producev(fresh, RD_KAFKA_V_TOPIC("fence"), RD_KAFKA_V_PARTITION(0),
                          RD_KAFKA_V_VALUE((void *)fv, strlen(fv)),
                          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END))
        rt_fail("fresh produce");
    check(rd_kafka_commit_transaction(fresh, 30000), "fresh commit");
    rd_kafka_destroy(fresh);

    GPtrArray *values = g_ptr_array_new_with_free_func(g_free);
    int64_t lo, hi;
    kt_watermarks(bootstrap, "fence", 0, &lo, &hi);
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", "rill-itest-reader");
    kt_set(conf, "enable.partition.eof", "true");
    kt_set(conf, "isolation.level", "read_committed");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    rd_kafka_topic_partition_list_t *a = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(a, "fence", 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, a);
    rd_kafka_topic_partition_list_destroy(a);
    int64_t deadline = rt_now_ms() + 30000;
    for (;;) {
        if (rt_now_ms() > deadline)
            rt_fail("reading fence: no end within 30 s");
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
        if (m == NULL)
            continue;
        bool eof = m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
        if (!m->err)
            g_ptr_array_add(values, g_strndup(m->payload, m->len));
        rd_kafka_message_destroy(m);
        if (eof)
            break;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    if (values->len != 1 || strcmp(values->pdata[0], "from-fresh") != 0)
        rt_fail("read_committed on fence: %u records, first '%s'; want only 'from-fresh'",
                values->len, values->len ? (char *)values->pdata[0] : "");
    g_ptr_array_free(values, TRUE);
    printf("ok 2 - a new producer with the same transactional.id fences the zombie\n");
}

int main(void)
{
    const char *args[] = {"--group.initial.rebalance.delay.ms=0", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    step_consume_transform_produce(rt_broker_bootstrap(broker));
    step_zombie_fencing(rt_broker_bootstrap(broker));
    if (rt_broker_stop(broker) != 0)
        rt_fail("SIGTERM: unclean exit");
    rt_broker_free(broker);
    return 0;
}
