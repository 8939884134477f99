/* join-bench.c: a stream-stream join of two N-record streams against the raw consume→produce loop, same broker, same run.
 *
 *     join-bench -b HOST:PORT [--records N] [--size BYTES] [--repeat K] [--in-memory] [--left]
 *
 * bench/join-bench.sh starts rill-broker and creates the topics (join-left,
 * join-right: P partitions each). The input: N records on each side, record
 * i keyed i % 100000 with timestamp T0 + i ms on both sides, so record i of
 * the left joins exactly record i of the right (the next record of the same
 * key is 100 s away; the windows are ±1 s, grace 1 h so that no record is
 * late however the consumer interleaves the two topics): N outputs.
 *
 *   raw   one librdkafka consumer subscribed to both topics producing each
 *         record to an output topic (rill's consumer/producer settings): the
 *         ceiling, 2N records;
 *   rill  the inner join (RocksDB window stores, change-logged: each input
 *         record is also a changelog record), 1 stream thread; --left: the
 *         left join (a left record that arrives before its twin waits in
 *         the outer-join store until the twin deletes it).
 * Throughput = 2N input records / (time from the first record consumed —
 * for rill, from the app reaching RUNNING — until every input record is
 * processed and the N outputs are in the output topic). raw and rill
 * alternate --repeat times (default 3); the medians are compared. At the
 * end each rill run's output topic must hold exactly N records. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include <rill/rill.h>

#define T0 1700000000000LL

static const char *bootstrap;
static int records = 1000000;
static int size = 100;
static bool in_memory;
static bool left_join;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "join-bench: %s: %s\n", what, why);
    exit(1);
}

static void conf_set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        die(key, errstr);
}

static rd_kafka_t *client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char errstr[256];
    conf_set(conf, "bootstrap.servers", bootstrap);
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk)
        die("rd_kafka_new", errstr);
    return rk;
}

/* rill's own client settings (runtime/kafka/conf.c), for a fair ceiling. */
static void tuned_consumer(rd_kafka_conf_t *conf)
{
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "queued.min.messages", "10000000");
    conf_set(conf, "queued.max.messages.kbytes", "65536");
    conf_set(conf, "fetch.wait.max.ms", "100");
}

static void tuned_producer(rd_kafka_conf_t *conf)
{
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "acks", "all");
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "queue.buffering.max.kbytes", "262144");
    conf_set(conf, "queue.buffering.max.messages", "1000000");
}

static void produce(rd_kafka_t *rk, const char *topic, const void *key, size_t key_len,
                    const void *value, size_t len, int64_t timestamp)
{
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY((void *)key, key_len), RD_KAFKA_V_VALUE((void *)value, len),
            RD_KAFKA_V_TIMESTAMP(timestamp), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            rd_kafka_poll(rk, 10);
            continue;
        }
        if (err)
            die("produce", rd_kafka_err2str(err));
        return;
    }
}

static void produce_input(void)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    tuned_producer(conf);
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf);
    char *value = malloc((size_t)size);
    int64_t t0 = now_us();
    for (int i = 0; i < records; i++) {
        char key[16];
        int klen = snprintf(key, sizeof(key), "%d", i % 100000);
        memset(value, 'l', (size_t)size);
        produce(rk, "join-left", key, (size_t)klen, value, (size_t)size, T0 + i);
        memset(value, 'r', (size_t)size);
        produce(rk, "join-right", key, (size_t)klen, value, (size_t)size, T0 + i);
    }
    if (rd_kafka_flush(rk, 300000))
        die("produce", "flush timed out");
    double s = (double)(now_us() - t0) / 1e6;
    printf("input: 2 x %d records of %d bytes in %.2f s\n", records, size, s);
    free(value);
    rd_kafka_destroy(rk);
}

static int dr_count;
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (msg->err)
        die("delivery", rd_kafka_err2str(msg->err));
    dr_count++;
}

/* The raw loop over both topics. Returns input records/s. */
static double raw_loop(const char *out, const char *group)
{
    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    conf_set(cconf, "group.id", group);
    tuned_consumer(cconf);
    rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, cconf);
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    tuned_producer(pconf);
    rd_kafka_conf_set_dr_msg_cb(pconf, dr_cb);
    rd_kafka_t *producer = client(RD_KAFKA_PRODUCER, pconf);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(2);
    rd_kafka_topic_partition_list_add(sub, "join-left", RD_KAFKA_PARTITION_UA);
    rd_kafka_topic_partition_list_add(sub, "join-right", RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    dr_count = 0;
    int consumed = 0, total = 2 * records;
    int64_t t0 = 0, deadline = now_us() + 900 * 1000000LL;
    while (consumed < total && now_us() < deadline) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 100);
        if (!msg)
            continue;
        if (msg->err) {
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (!t0)
            t0 = now_us();
        consumed++;
        rd_kafka_timestamp_type_t tt;
        produce(producer, out, msg->key, msg->key_len, msg->payload, msg->len,
                rd_kafka_message_timestamp(msg, &tt));
        rd_kafka_message_destroy(msg);
        rd_kafka_poll(producer, 0);
    }
    if (rd_kafka_flush(producer, 120000))
        die("raw", "flush timed out");
    int64_t t1 = now_us();
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    if (consumed < total)
        die("raw", "did not consume every record within 900 s");
    return total / ((double)(t1 - t0) / 1e6);
}

static rill_err_t concat(const rill_value_t *key, const rill_value_t *left,
                         const rill_value_t *right, rill_value_t *out, void *ud,
                         rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)right;
    (void)error;
    rill_value_set_view(out, left); /* the left value: no copy, as the raw loop */
    return RILL_OK;
}

/* The sum of the high watermarks of topic (its record count: nothing is deleted). */
static int64_t topic_records(const char *topic)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, conf);
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    if (rd_kafka_metadata(rk, 0, rkt, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        die("metadata", topic);
    int64_t sum = 0;
    for (int i = 0; i < md->topics[0].partition_cnt; i++) {
        int64_t lo = 0, hi = 0;
        if (rd_kafka_query_watermark_offsets(rk, topic, md->topics[0].partitions[i].id, &lo, &hi,
                                             10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            die("watermarks", topic);
        sum += hi;
    }
    rd_kafka_metadata_destroy(md);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return sum;
}

static double rill_run(const char *out, const char *app_id, const char *state_dir)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *left = rill_builder_stream(builder, "join-left", NULL);
    rill_stream_t *right = rill_builder_stream(builder, "join-right", NULL);
    rill_join_windows_t windows = rill_join_windows_of(1000, 3600000);
    rill_stream_joined_t opts = {.name = "bench", .in_memory = in_memory};
    rill_stream_t *joined = left_join
                                ? rill_stream_left_join(left, right, concat, NULL, windows, &opts)
                                : rill_stream_join(left, right, concat, NULL, windows, &opts);
    rill_stream_to(joined, out, NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology)
        die("topology", rill_error_message(error));
    rill_config_t *config = rill_config_new();
    if (rill_config_set(config, "application.id", app_id, &error) ||
        rill_config_set(config, "bootstrap.servers", bootstrap, &error) ||
        rill_config_set(config, "state.dir", state_dir, &error) ||
        rill_config_set(config, "commit.interval.ms", "30000", &error))
        die("config", rill_error_message(error));
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app)
        die("app", rill_error_message(error));
    if (rill_app_start(app, &error))
        die("start", rill_error_message(error));
    /* done when every input is processed and the N outputs are in the topic */
    int64_t t0 = 0, deadline = now_us() + 900 * 1000000LL;
    rill_app_stats_t stats;
    for (;;) {
        rill_app_stats(app, &stats);
        if (!t0 && rill_app_state(app) == RILL_APP_RUNNING)
            t0 = now_us();
        if (stats.records_processed >= 2 * (uint64_t)records && topic_records(out) >= records)
            break;
        if (rill_app_state(app) == RILL_APP_ERROR)
            die("rill", rill_error_message(rill_app_error(app)));
        if (now_us() > deadline) {
            fprintf(stderr, "rill: %llu processed, %llu produced of %llu\n",
                    (unsigned long long)stats.records_processed,
                    (unsigned long long)stats.records_produced,
                    (unsigned long long)records * 2);
            die("rill", "did not finish within 900 s");
        }
        usleep(t0 ? 1000 : 100);
    }
    int64_t t1 = now_us();
    rill_app_close(app, 120000);
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    int64_t n = topic_records(out);
    if (n != records) {
        char why[96];
        snprintf(why, sizeof why, "the output holds %" PRId64 " records, not %d", n, records);
        die("rill", why);
    }
    return 2.0 * records / ((double)(t1 - t0) / 1e6);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"records", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"repeat", required_argument, NULL, 'r'},
        {"state-dir", required_argument, NULL, 'd'},
        {"in-memory", no_argument, NULL, 'm'},
        {"left", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    int repeat = 3, opt;
    const char *state_dir = "/tmp/rill-join-bench";
    while ((opt = getopt_long(argc, argv, "b:", options, NULL)) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 'n': records = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'r': repeat = atoi(optarg); break;
        case 'd': state_dir = optarg; break;
        case 'm': in_memory = true; break;
        case 'L': left_join = true; break;
        default:
            fprintf(stderr, "usage: join-bench -b HOST:PORT [--records N] [--size BYTES] "
                            "[--repeat K] [--state-dir DIR] [--in-memory] [--left]\n");
            return 2;
        }
    }
    if (!bootstrap || records <= 0 || size <= 0 || repeat <= 0 || repeat > 9) {
        fprintf(stderr, "join-bench: -b is required (bench/join-bench.sh starts a broker)\n");
        return 2;
    }
    produce_input();
    double raws[9], rills[9];
    for (int i = 0; i < repeat; i++) {
        char group[64], out[64], dir[512];
        snprintf(group, sizeof group, "join-bench-raw-%d", i);
        snprintf(out, sizeof out, "join-bench-raw-out-%d", i);
        raws[i] = raw_loop(out, group);
        printf("raw loop (both topics, rill's settings): %.0f records/s\n", raws[i]);
        fflush(stdout);
        snprintf(group, sizeof group, "join-bench-rill-%d", i);
        snprintf(out, sizeof out, "join-bench-rill-out-%d", i);
        snprintf(dir, sizeof dir, "%s/%d", state_dir, i);
        rills[i] = rill_run(out, group, dir);
        printf("rill %s join (%s buffers), 1 thread: %.0f input records/s\n",
               left_join ? "left" : "inner", in_memory ? "in-memory" : "RocksDB", rills[i]);
        fflush(stdout);
    }
    qsort(raws, (size_t)repeat, sizeof(double), cmp_double);
    qsort(rills, (size_t)repeat, sizeof(double), cmp_double);
    double raw = raws[repeat / 2], rill = rills[repeat / 2];
    printf("median of %d: raw loop %.0f records/s, rill join %.0f records/s = %.2fx the raw loop\n",
           repeat, raw, rill, rill / raw);
    return 0;
}
