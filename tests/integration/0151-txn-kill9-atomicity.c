/* 0151-txn-kill9-atomicity: transactions stay all-or-nothing, and every
 * acknowledged commit stays committed, when rill-broker is killed with -9 in
 * the middle of a stream of transactions.
 *
 * A producer thread runs transactions back to back (5 records to each of 2
 * partitions, every record tagged with its transaction); the main thread
 * kills the broker at a varying moment, restarts it, and lets the producer
 * run into the restarted broker (which aborts what was open and fences that
 * producer) before stopping it. Three rounds. Then, read_committed:
 *   - every transaction is seen whole (10 records) or not at all;
 *   - every transaction whose commit_transaction() returned success is seen.
 * And read_uncommitted never sees more than 10 records of one transaction.
 */
#include "config.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "atomic"
#define NPART 2
#define PER_PART 5
#define ROUNDS 3

typedef struct producer_run {
    const char *bootstrap;
    int round;
    gint stop; /* g_atomic */
    GPtrArray *committed; /* tags whose commit returned success (owned strings) */
    int attempted;
} producer_run_t;

static void *producer_main(void *ud)
{
    producer_run_t *run = ud;
    rd_kafka_conf_t *conf = kt_conf(run->bootstrap);
    g_autofree char *txn_id = g_strdup_printf("atomic-%d", run->round);
    kt_set(conf, "transactional.id", txn_id);
    kt_set(conf, "linger.ms", "0");
    kt_set(conf, "message.timeout.ms", "10000");
    kt_set(conf, "transaction.timeout.ms", "10000");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        return NULL;
    rd_kafka_error_t *error = rd_kafka_init_transactions(rk, 10000);
    for (int t = 0; error == NULL && !g_atomic_int_get(&run->stop); t++) {
        g_autofree char *tag = g_strdup_printf("r%d-t%d", run->round, t);
        run->attempted++;
        error = rd_kafka_begin_transaction(rk);
        for (int i = 0; error == NULL && i < NPART * PER_PART; i++) {
            g_autofree char *value = g_strdup_printf("%s-%d", tag, i);
            rd_kafka_resp_err_t e = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(i % NPART),
                RD_KAFKA_V_VALUE(value, strlen(value)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_END);
            if (e)
                error = rd_kafka_error_new(e, "produce: %s", rd_kafka_err2str(e));
        }
        if (error == NULL)
            error = rd_kafka_commit_transaction(rk, 10000);
        if (error == NULL)
            g_ptr_array_add(run->committed, g_steal_pointer(&tag));
    }
    if (error != NULL) {
        fprintf(stderr, "round %d: producer stopped after %d transactions: %s\n", run->round,
                run->attempted, rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    rd_kafka_destroy(rk);
    return NULL;
}

typedef struct tally {
    GHashTable *counts; /* tag -> count (GINT_TO_POINTER) */
} tally_t;

static void count_record(const rd_kafka_message_t *m, void *ud)
{
    tally_t *tally = ud;
    g_autofree char *value = g_strndup(m->payload, m->len);
    char *dash = strrchr(value, '-');
    if (dash == NULL)
        rt_fail("unexpected record '%s'", value);
    *dash = '\0';
    int n = GPOINTER_TO_INT(g_hash_table_lookup(tally->counts, value));
    g_hash_table_replace(tally->counts, g_strdup(value), GINT_TO_POINTER(n + 1));
}

/* Counts records per transaction tag over all partitions, read at isolation. */
static GHashTable *read_tally(const char *bootstrap, const char *isolation)
{
    tally_t tally = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    for (int p = 0; p < NPART; p++) {
        rd_kafka_conf_t *conf = kt_conf(bootstrap);
        kt_set(conf, "group.id", "rill-itest-atomic");
        kt_set(conf, "enable.auto.commit", "false");
        kt_set(conf, "enable.partition.eof", "true");
        kt_set(conf, "isolation.level", isolation);
        char err[256];
        rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (rk == NULL)
            rt_fail("rd_kafka_new: %s", err);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(parts, TOPIC, p)->offset = 0;
        rd_kafka_assign(rk, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        int64_t deadline = rt_now_ms() + 30000;
        bool eof = false;
        while (!eof && rt_now_ms() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
            if (m == NULL)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                eof = true;
            else if (m->err)
                rt_fail("consume %d (%s): %s", p, isolation, rd_kafka_message_errstr(m));
            else
                count_record(m, &tally);
            rd_kafka_message_destroy(m);
        }
        if (!eof)
            rt_fail("partition %d (%s): no end within 30 s", p, isolation);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    return tally.counts;
}

int main(void)
{
    rt_broker_t *broker = rt_broker_start(NULL);
    kt_create_topic(rt_broker_bootstrap(broker), TOPIC, NPART, NULL);
    GPtrArray *committed = g_ptr_array_new_with_free_func(g_free);
    int attempted = 0;
    for (int round = 0; round < ROUNDS; round++) {
        producer_run_t run = {.bootstrap = rt_broker_bootstrap(broker), .round = round,
                              .committed = committed};
        pthread_t thread;
        if (pthread_create(&thread, NULL, producer_main, &run) != 0)
            rt_fail("pthread_create");
        g_usleep((gulong)(700 + 350 * round) * 1000); /* kill at a different moment each round */
        rt_broker_kill9(broker);
        rt_broker_restart(broker);
        g_usleep(1500 * 1000); /* the producer meets the restarted broker */
        g_atomic_int_set(&run.stop, 1);
        pthread_join(thread, NULL);
        attempted += run.attempted;
    }
    const char *bootstrap = rt_broker_bootstrap(broker);
    RT_CHECK(committed->len > 0, "no transaction committed in %d attempts", attempted);

    GHashTable *rc = read_tally(bootstrap, "read_committed");
    GHashTable *ru = read_tally(bootstrap, "read_uncommitted");
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, rc);
    while (g_hash_table_iter_next(&it, &key, &value))
        RT_CHECK(GPOINTER_TO_INT(value) == NPART * PER_PART,
                 "transaction %s seen partly by read_committed: %d of %d records",
                 (const char *)key, GPOINTER_TO_INT(value), NPART * PER_PART);
    for (guint i = 0; i < committed->len; i++)
        RT_CHECK(g_hash_table_contains(rc, committed->pdata[i]),
                 "acknowledged commit of %s lost after kill -9",
                 (const char *)committed->pdata[i]);
    g_hash_table_iter_init(&it, ru);
    while (g_hash_table_iter_next(&it, &key, &value))
        RT_CHECK(GPOINTER_TO_INT(value) <= NPART * PER_PART, "transaction %s written %d times",
                 (const char *)key, GPOINTER_TO_INT(value));
    printf("ok - %d transactions attempted, %u acknowledged, %u visible to read_committed, %u "
           "in the log\n",
           attempted, committed->len, g_hash_table_size(rc), g_hash_table_size(ru));
    g_hash_table_destroy(rc);
    g_hash_table_destroy(ru);
    g_ptr_array_free(committed, TRUE);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
