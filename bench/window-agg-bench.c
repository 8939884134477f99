/* window-agg-bench.c: a 1-minute tumbling windowed count (emit-final) against the raw librdkafka consume→produce loop, on one broker in the same run.
 *
 *     window-agg-bench -b HOST:PORT [--records N] [--keys K] [--partitions P]
 *                      [--span-minutes M] [--repeat R] [--state-dir DIR]
 *
 * bench/window-agg-bench.sh starts a rill-broker in a temp dir and runs it.
 * The input: N records (default 2,000,000) over K keys (default 100,000,
 * "key-<n>" drawn pseudo-randomly), 24-byte values, event times spread
 * evenly over M minutes (default 20, so that 20 one-minute windows close
 * along the way) with up to 2 s of disorder, in P partitions (default 8)
 * by the default partitioner (murmur2 of the key, which is how the app's
 * groupByKey expects them).
 * Phases, alternating R times (default 3; medians reported):
 *   raw   the ceiling: one consumer and one producer in a loop that consumes
 *         each record and produces it to an output topic (rill's client
 *         settings), until every record is delivered;
 *   rill  the windowed-count topology of examples/windowed-count: groupByKey →
 *         1-minute tumbling windows (grace 5 s) → count (RocksDB window
 *         store, change-logged, record cache 10 MiB) → suppress until the
 *         window closes → toStream → "<key>@<start>" = decimal count → output,
 *         one stream thread, commit.interval.ms --commit-ms (default 30000, the
 *         default); two times: from the app's RUNNING state to every input
 *         record processed, and to the commit that follows (when the windows'
 *         state is in the changelog and what closed is emitted).
 * --rill-only skips the raw loop (for profiling).
 * Both read the same input topic under fresh groups. Records/s = N / time. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include <rill/rill.h>

static const char *bootstrap;
static int records = 2000000;
static int keys = 100000;
static int partitions = 8;
static int span_minutes = 20;
static int repeat = 3;
static const char *state_dir = "/tmp/rill-window-agg-bench";
static const char *commit_ms = "30000";
static bool rill_only;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "window-agg-bench: %s: %s\n", what, why);
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

/* The settings rill's own clients use (runtime/kafka/conf.c), for a fair ceiling. */
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
    conf_set(conf, "partitioner", "murmur2_random");
    conf_set(conf, "linger.ms", "5");
    conf_set(conf, "acks", "all");
    conf_set(conf, "enable.idempotence", "true");
    conf_set(conf, "queue.buffering.max.kbytes", "262144");
    conf_set(conf, "queue.buffering.max.messages", "1000000");
}

static void produce_or_wait(rd_kafka_t *rk, rd_kafka_topic_t *rkt, const void *key,
                            size_t key_len, const void *value_in, size_t len, int64_t timestamp)
{
    void *value = (void *)(uintptr_t)value_in; /* RD_KAFKA_V_VALUE takes void *; F_COPY copies */
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, len),
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

static void produce_input(const char *topic)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    tuned_producer(conf);
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const int64_t t0 = 1700000000000;
    const double step = (double)span_minutes * 60000.0 / records;
    uint64_t x = 88172645463325252ull; /* xorshift64 */
    int64_t start = now_us();
    for (int i = 0; i < records; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char key[24];
        int klen = snprintf(key, sizeof(key), "key-%d", (int)(x % (uint64_t)keys));
        int64_t ts = t0 + (int64_t)(i * step) - (int64_t)((x >> 20) % 2000);
        produce_or_wait(rk, rkt, key, (size_t)klen, "value-value-value-value!", 24, ts);
    }
    if (rd_kafka_flush(rk, 300000))
        die("produce", "flush timed out");
    double s = (double)(now_us() - start) / 1e6;
    printf("input: %d records, %d keys, %d partitions, %d minutes of event time: produced in "
           "%.1f s\n",
           records, keys, partitions, span_minutes, s);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
}

static int delivered;
static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    if (msg->err)
        die("delivery", rd_kafka_err2str(msg->err));
    delivered++;
}

/* Consumes every input record and produces it to out; records/s from the
 * first record consumed to the last delivered. */
static double raw_loop(const char *in, const char *out, const char *group)
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
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(producer, out, NULL);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, in, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    delivered = 0;
    int consumed = 0;
    int64_t t0 = 0, deadline = now_us() + 900 * 1000000LL;
    while (consumed < records && now_us() < deadline) {
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
        produce_or_wait(producer, rkt, msg->key, msg->key_len, msg->payload, msg->len,
                        rd_kafka_message_timestamp(msg, NULL));
        rd_kafka_message_destroy(msg);
        rd_kafka_poll(producer, 0);
    }
    if (rd_kafka_flush(producer, 300000))
        die("raw", "flush timed out");
    double rate = delivered / ((double)(now_us() - t0) / 1e6);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    if (consumed < records)
        die("raw", "did not consume every record within 900 s");
    return rate;
}

/* ---- the windowed count ------------------------------------------------------- */

static rill_err_t to_decimal(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    (void)error;
    char *text = malloc(24);
    snprintf(text, 24, "%" PRId64, rill_value_int64(rill_record_value(record)));
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

static rill_topology_t *windowed_count(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t raw = {.key_serde = rill_serde_bytes(), .value_serde = rill_serde_bytes()};
    rill_time_windowed_t *windowed = rill_grouped_windowed_by(
        rill_stream_group_by_key(rill_builder_stream(builder, in, &raw), NULL),
        &(rill_time_windows_t){.size_ms = 60000, .grace_ms = 5000});
    rill_table_t *counts =
        rill_time_windowed_count(windowed, &(rill_materialized_t){.name = "counts"});
    rill_table_t *final = rill_table_suppress_until_window_closes(
        counts, &(rill_suppressed_t){.name = "counts-final"});
    rill_produced_t produced = {.key_serde = rill_serde_windowed_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(final, NULL), to_decimal, NULL,
                                          "decimal"),
                   out, &produced);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology)
        die("topology", rill_error_message(error));
    return topology;
}

/* Returns records/s up to the last record processed; *with_commit: up to the
 * commit after it (what a reader of the output waits for). */
static double rill_run(const char *in, const char *out, const char *app_id, uint64_t *emitted,
                       double *with_commit)
{
    rill_topology_t *topology = windowed_count(in, out);
    rill_config_t *config = rill_config_new();
    rill_error_t *error = NULL;
    if (rill_config_set(config, "application.id", app_id, &error) ||
        rill_config_set(config, "bootstrap.servers", bootstrap, &error) ||
        rill_config_set(config, "state.dir", state_dir, &error) ||
        rill_config_set(config, "num.stream.threads", "1", &error) ||
        rill_config_set(config, "commit.interval.ms", commit_ms, &error))
        die("config", rill_error_message(error));
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app || rill_app_start(app, &error))
        die("app", rill_error_message(error));
    int64_t t0 = 0, done = 0, deadline = now_us() + 900 * 1000000LL;
    uint64_t base = 0, commits_at_done = 0;
    rill_app_stats_t stats;
    for (;;) {
        rill_app_stats(app, &stats);
        rill_app_state_t state = rill_app_state(app);
        if (state == RILL_APP_ERROR)
            die("rill", rill_error_message(rill_app_error(app)));
        if (!t0 && state == RILL_APP_RUNNING) {
            t0 = now_us();
            base = stats.records_processed;
        }
        if (t0 && !done && stats.records_processed >= (uint64_t)records) {
            done = now_us();
            commits_at_done = stats.commits;
        }
        if (done && stats.commits > commits_at_done)
            break; /* a commit after the last record: its state is logged */
        if (now_us() > deadline)
            die("rill", "did not process every record within 900 s");
        usleep(20000);
    }
    int64_t t1 = now_us();
    rill_app_close(app, 120000);
    rill_app_stats(app, &stats);
    *emitted = stats.records_produced;
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    *with_commit = (double)((uint64_t)records - base) / ((double)(t1 - t0) / 1e6);
    return (double)((uint64_t)records - base) / ((double)(done - t0) / 1e6);
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
        {"keys", required_argument, NULL, 'k'},
        {"partitions", required_argument, NULL, 'p'},
        {"span-minutes", required_argument, NULL, 'm'},
        {"repeat", required_argument, NULL, 'r'},
        {"state-dir", required_argument, NULL, 's'},
        {"commit-ms", required_argument, NULL, 'c'},
        {"rill-only", no_argument, NULL, 'o'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "b:", options, NULL)) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 'n': records = atoi(optarg); break;
        case 'k': keys = atoi(optarg); break;
        case 'p': partitions = atoi(optarg); break;
        case 'm': span_minutes = atoi(optarg); break;
        case 'r': repeat = atoi(optarg); break;
        case 's': state_dir = optarg; break;
        case 'c': commit_ms = optarg; break;
        case 'o': rill_only = true; break;
        default:
            fprintf(stderr, "usage: window-agg-bench -b HOST:PORT [--records N] [--keys K] "
                            "[--partitions P] [--span-minutes M] [--repeat R] [--state-dir D]\n");
            return 2;
        }
    }
    if (!bootstrap || records <= 0 || keys <= 0 || partitions <= 0 || span_minutes <= 0 ||
        repeat <= 0)
        die("arguments", "-b is required; counts must be positive");
    /* the input topic, made with P partitions by the admin API */
    char in[64];
    snprintf(in, sizeof(in), "wab-in-%d", (int)getpid());
    {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf);
        rd_kafka_NewTopic_t *topic = rd_kafka_NewTopic_new(in, partitions, 1, NULL, 0);
        rd_kafka_queue_t *queue = rd_kafka_queue_new(rk);
        rd_kafka_CreateTopics(rk, &topic, 1, NULL, queue);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(queue, 30000);
        if (!ev || rd_kafka_event_error(ev))
            die("create topic", ev ? rd_kafka_event_error_string(ev) : "timed out");
        rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(queue);
        rd_kafka_NewTopic_destroy(topic);
        rd_kafka_destroy(rk);
    }
    produce_input(in);
    double raw[16], rill[16], committed[16];
    if (repeat > 16)
        repeat = 16;
    uint64_t emitted = 0;
    for (int i = 0; i < repeat; i++) {
        char out[96], group[96];
        snprintf(out, sizeof(out), "%s-raw-out-%d", in, i);
        snprintf(group, sizeof(group), "%s-raw-%d", in, i);
        raw[i] = rill_only ? 0 : raw_loop(in, out, group);
        printf("round %d: raw %.0f records/s\n", i + 1, raw[i]);
        fflush(stdout);
        snprintf(out, sizeof(out), "%s-rill-out-%d", in, i);
        snprintf(group, sizeof(group), "%s-rill-%d", in, i);
        rill[i] = rill_run(in, out, group, &emitted, &committed[i]);
        printf("round %d: windowed count %.0f records/s processed, %.0f records/s to the "
               "commit after the last (%" PRIu64 " records produced: output windows + "
               "changelogs)\n",
               i + 1, rill[i], committed[i], emitted);
        fflush(stdout);
    }
    qsort(raw, (size_t)repeat, sizeof(double), cmp_double);
    qsort(rill, (size_t)repeat, sizeof(double), cmp_double);
    qsort(committed, (size_t)repeat, sizeof(double), cmp_double);
    double mraw = raw[repeat / 2], mrill = rill[repeat / 2], mcommit = committed[repeat / 2];
    printf("median: raw %.0f records/s; windowed count %.0f records/s processed (%.2fx the raw "
           "loop), %.0f records/s with the final commit (commit.interval.ms %s)\n",
           mraw, mrill, mraw > 0 ? mrill / mraw : 0.0, mcommit, commit_ms);
    return 0;
}
