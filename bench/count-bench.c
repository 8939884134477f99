/* count-bench.c: count by key (a stateful rill app) against a raw consume→produce loop, same broker, same run.
 *
 * Starts rill-broker ($RILL_BROKER, else ./rill-broker) in a temp dir and
 * produces --records records (default 2,000,000) of --size bytes (100) with
 * --keys distinct keys (100,000; key = i % keys as decimal text) into an
 * input topic of --partitions partitions (8). Then, --rounds times (3),
 * alternately:
 *
 *   raw    one thread: rd_kafka_consumer_poll → rd_kafka_producev of the same
 *          key and value (rill's consumer and producer settings) until every
 *          record is delivered: the ceiling;
 *   count  a rill app, one stream thread, at-least-once, default commit
 *          interval and record cache (10 MiB), RocksDB store:
 *          stream → groupByKey → count("counts") → toStream → to(output).
 *          Every record is read, counted in the store and logged (through
 *          the cache) to the changelog.
 *
 * raw's rate = records / (first record consumed → last output acknowledged).
 * count's rate = records / (the app RUNNING → every record processed); the
 * close that follows (the last commit: cache flush, changelog and output
 * produce, store flush) is timed apart and also given as a rate that includes
 * it. Each round reads the same input under a fresh group / application.id.
 * The final counts of the last count round are checked against the input
 * (every key counted records / keys times). The ratio count/raw is that of
 * the medians.
 *
 * Usage: count-bench [--records N] [--keys K] [--size B] [--partitions P] [--rounds R] */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

#include <rill/rill.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

static const char *bootstrap;
static int records = 2000000, keys = 100000, size = 100, partitions = 8;

static int64_t now_us(void)
{
    return g_get_monotonic_time();
}

/* rill's consumer and producer settings (runtime/kafka/conf.c), for a fair ceiling */
static void tuned_consumer(rd_kafka_conf_t *conf)
{
    kt_set(conf, "auto.offset.reset", "earliest");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "queued.min.messages", "10000000");
    kt_set(conf, "queued.max.messages.kbytes", "65536");
    kt_set(conf, "fetch.wait.max.ms", "100");
}

static void tuned_producer(rd_kafka_conf_t *conf)
{
    kt_set(conf, "partitioner", "murmur2_random");
    kt_set(conf, "linger.ms", "5");
    kt_set(conf, "acks", "all");
    kt_set(conf, "enable.idempotence", "true");
    kt_set(conf, "queue.buffering.max.kbytes", "262144");
    kt_set(conf, "queue.buffering.max.messages", "1000000");
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char errstr[256];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    RT_CHECK(rk != NULL, "rd_kafka_new: %s", errstr);
    return rk;
}

static void produce_input(const char *topic)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    tuned_producer(conf);
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf);
    char *value = g_malloc((size_t)size);
    memset(value, 'v', (size_t)size);
    int64_t t0 = now_us();
    for (int i = 0; i < records; i++) {
        char key[16];
        int klen = snprintf(key, sizeof key, "%d", i % keys);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_KEY(key, (size_t)klen),
                                        RD_KAFKA_V_VALUE(value, (size_t)size), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        RT_CHECK(err == 0, "produce: %s", rd_kafka_err2str(err));
    }
    RT_CHECK(rd_kafka_flush(rk, 300000) == 0, "produce: flush timed out");
    printf("input: %d records of %d bytes, %d keys, %d partitions, in %.1f s\n", records, size,
           keys, partitions, (double)(now_us() - t0) / 1e6);
    fflush(stdout);
    g_free(value);
    rd_kafka_destroy(rk);
}

/* ---- raw ---------------------------------------------------------------------------------- */

static int delivered;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    RT_CHECK(msg->err == 0, "raw delivery: %s", rd_kafka_err2str(msg->err));
    delivered++;
}

static double raw_loop(const char *in, const char *out, const char *group)
{
    rd_kafka_conf_t *cconf = kt_conf(bootstrap);
    kt_set(cconf, "group.id", group);
    tuned_consumer(cconf);
    rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, cconf);
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_conf_t *pconf = kt_conf(bootstrap);
    tuned_producer(pconf);
    rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);
    rd_kafka_t *producer = client(RD_KAFKA_PRODUCER, pconf);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(producer, out, NULL);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, in, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    delivered = 0;
    int consumed = 0;
    int64_t t0 = 0, deadline = now_us() + 600 * G_USEC_PER_SEC;
    while (consumed < records) {
        RT_CHECK(now_us() < deadline, "raw: %d of %d records consumed in 600 s", consumed,
                 records);
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 100);
        if (msg == NULL)
            continue;
        if (msg->err) {
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (!t0)
            t0 = now_us();
        consumed++;
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(producer, RD_KAFKA_V_RKT(rkt),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                        RD_KAFKA_V_KEY(msg->key, msg->key_len),
                                        RD_KAFKA_V_VALUE(msg->payload, msg->len),
                                        RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(producer, 10);
        RT_CHECK(err == 0, "raw produce: %s", rd_kafka_err2str(err));
        rd_kafka_message_destroy(msg);
        rd_kafka_poll(producer, 0);
    }
    RT_CHECK(rd_kafka_flush(producer, 120000) == 0, "raw: flush timed out");
    rd_kafka_commit(consumer, NULL, 0);
    double rate = delivered / ((double)(now_us() - t0) / 1e6);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    return rate;
}

/* ---- count ---------------------------------------------------------------------------------- */

static rill_topology_t *count_topology(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_bytes()};
    rill_table_t *counts = rill_grouped_count(
        rill_stream_group_by_key(rill_builder_stream(builder, in, &consumed), NULL),
        &(rill_materialized_t){.name = "counts", .key_serde = rill_serde_string()});
    rill_stream_to(rill_table_to_stream(counts, NULL), out, NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    RT_CHECK(topology != NULL, "topology: %s", rill_error_message(error));
    return topology;
}

typedef struct count_result {
    double rate, rate_with_close, close_secs;
} count_result_t;

static count_result_t count_run(const char *in, const char *out, const char *app_id,
                                const char *state_dir)
{
    rill_topology_t *topology = count_topology(in, out);
    rill_config_t *config = rill_config_new();
    rill_error_t *error = NULL;
    if (rill_config_set(config, "application.id", app_id, &error) ||
        rill_config_set(config, "bootstrap.servers", bootstrap, &error) ||
        rill_config_set(config, "state.dir", state_dir, &error))
        rt_fail("config: %s", rill_error_message(error));
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    RT_CHECK(app != NULL, "app: %s", rill_error_message(error));
    RT_CHECK(rill_app_start(app, &error) == RILL_OK, "start: %s", rill_error_message(error));
    int64_t t0 = 0, deadline = now_us() + 600 * G_USEC_PER_SEC;
    uint64_t base = 0;
    rill_app_stats_t stats;
    for (;;) {
        rill_app_stats(app, &stats);
        if (!t0 && rill_app_state(app) == RILL_APP_RUNNING) {
            t0 = now_us();
            base = stats.records_processed;
        }
        if (stats.records_processed >= (uint64_t)records)
            break;
        RT_CHECK(rill_app_state(app) != RILL_APP_ERROR, "count: %s",
                 rill_error_message(rill_app_error(app)));
        RT_CHECK(now_us() < deadline, "count: %llu of %d records processed in 600 s",
                 (unsigned long long)stats.records_processed, records);
        usleep(t0 ? 1000 : 100);
    }
    int64_t t1 = now_us();
    rill_app_close(app, 60000);
    int64_t t2 = now_us();
    RT_CHECK(rill_app_state(app) != RILL_APP_ERROR, "count: %s",
             rill_error_message(rill_app_error(app)));
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    if (base > (uint64_t)records / 10)
        fprintf(stderr, "count: %llu records were processed before the app was RUNNING\n",
                (unsigned long long)base);
    double n = (double)records - (double)base;
    return (count_result_t){n / ((double)(t1 - t0) / 1e6), n / ((double)(t2 - t0) / 1e6),
                            (double)(t2 - t1) / 1e6};
}

/* The last count per key of out must be records / keys (records a multiple of keys). */
typedef struct check {
    GHashTable *last;
} check_t;

static void remember(const rd_kafka_message_t *m, void *ud)
{
    check_t *check = ud;
    RT_CHECK(m->len == 8, "a count of %zu bytes", m->len);
    const uint8_t *p = m->payload;
    int64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    g_hash_table_insert(check->last, g_strndup(m->key, m->key_len), GINT_TO_POINTER((int)v));
}

static void check_counts(const char *out)
{
    check_t check = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    for (int p = 0; p < partitions; p++) {
        int64_t lo, hi;
        kt_watermarks(bootstrap, out, p, &lo, &hi);
        if (hi > lo)
            kt_consume_range(bootstrap, out, p, lo, hi, 60000, remember, &check);
    }
    RT_CHECK((int)g_hash_table_size(check.last) == keys, "%u keys counted, not %d",
             g_hash_table_size(check.last), keys);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, check.last);
    while (g_hash_table_iter_next(&it, &k, &v))
        RT_CHECK(GPOINTER_TO_INT(v) == records / keys, "key %s counted %d times, not %d",
                 (char *)k, GPOINTER_TO_INT(v), records / keys);
    g_hash_table_destroy(check.last);
    printf("check: every one of the %d keys counted %d times\n", keys, records / keys);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int rounds = 3;
    for (int i = 1; i < argc; i++) {
        int *target = strcmp(argv[i], "--records") == 0      ? &records
                      : strcmp(argv[i], "--keys") == 0       ? &keys
                      : strcmp(argv[i], "--size") == 0       ? &size
                      : strcmp(argv[i], "--partitions") == 0 ? &partitions
                      : strcmp(argv[i], "--rounds") == 0     ? &rounds
                                                             : NULL;
        if (target == NULL || i + 1 >= argc || (*target = atoi(argv[++i])) <= 0) {
            fprintf(stderr, "usage: count-bench [--records N] [--keys K] [--size B] "
                            "[--partitions P] [--rounds R]\n");
            return 2;
        }
    }
    if (records % keys != 0) {
        fprintf(stderr, "count-bench: --records must be a multiple of --keys\n");
        return 2;
    }
    rt_broker_t *broker = rt_broker_start(NULL);
    bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, "count-in", partitions, NULL);
    produce_input("count-in");
    double raw[16], count[16], with_close[16];
    rounds = rounds > 16 ? 16 : rounds;
    for (int r = 0; r < rounds; r++) {
        g_autofree char *group = g_strdup_printf("raw-%d", r);
        g_autofree char *out = g_strdup_printf("raw-out-%d", r);
        kt_create_topic(bootstrap, out, partitions, NULL);
        raw[r] = raw_loop("count-in", out, group);
        printf("round %d raw   %.0f records/s\n", r + 1, raw[r]);
        fflush(stdout);
        g_autofree char *app = g_strdup_printf("count-%d", r);
        g_autofree char *cout = g_strdup_printf("count-out-%d", r);
        g_autofree char *state = g_build_filename(rt_broker_tmp_dir(broker), app, NULL);
        kt_create_topic(bootstrap, cout, partitions, NULL);
        count_result_t c = count_run("count-in", cout, app, state);
        count[r] = c.rate;
        with_close[r] = c.rate_with_close;
        printf("round %d count %.0f records/s (%.0f with the final commit, which took %.2f s)\n",
               r + 1, c.rate, c.rate_with_close, c.close_secs);
        fflush(stdout);
        if (r == rounds - 1)
            check_counts(cout);
    }
    qsort(raw, (size_t)rounds, sizeof(double), cmp_double);
    qsort(count, (size_t)rounds, sizeof(double), cmp_double);
    qsort(with_close, (size_t)rounds, sizeof(double), cmp_double);
    printf("median: raw %.0f records/s, count %.0f records/s (%.0f with the final commit): "
           "count/raw = %.2f (%.2f)\n",
           raw[rounds / 2], count[rounds / 2], with_close[rounds / 2],
           count[rounds / 2] / raw[rounds / 2], with_close[rounds / 2] / raw[rounds / 2]);
    rt_broker_stop(broker);
    rt_broker_free(broker);
    return 0;
}
