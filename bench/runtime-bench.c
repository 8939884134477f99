/* runtime-bench.c: rill's stream threads against the ceiling, a raw
 * librdkafka consume→produce loop, on the same broker in the same run.
 *
 *     runtime-bench [-b HOST:PORT] [--records N] [--size BYTES] [--partitions P]
 *                   [--threads 1,2,4] [--rate R] [--seconds S] [--fetch-wait-ms MS]
 *                   [--repeat K]
 *                   [--phase all|raw|raw-defaults|rill|latency]
 *
 * Without -b it starts librdkafka's mock cluster in-process (rill-broker
 * does not serve consumer groups yet). The mock keeps only about 5 MB per
 * partition (older batches are dropped), so the input is spread over 64
 * partitions by default: 2M records of 100 bytes stay readable. Phases:
 *   raw-defaults  the raw loop with librdkafka's default consumer settings;
 *   raw           the raw loop with rill's consumer/producer settings (the
 *                 ceiling rill is compared with);
 *   rill          a filter + mapValues topology (both pass every record; the
 *                 mapValues forwards the value without copying) with
 *                 num.stream.threads = each of --threads; raw and rill with 1
 *                 thread alternate --repeat times (default 3) and the
 *                 medians are compared;
 *   latency       the same topology fed at --rate records/s for --seconds;
 *                 end-to-end latency = time the output record is consumed
 *                 minus its input record's CreateTime (which rill keeps).
 *                 --fetch-wait-ms sets fetch.wait.max.ms of rill's consumers
 *                 and of the reader (default 100, rill's default).
 * Throughput is N / (time from the first record consumed to the last output
 * record acknowledged); group joins are outside the measurement. Each
 * throughput phase reads the same input topic under a fresh group and writes
 * its own output topic. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <rill/rill.h>

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *bootstrap;
static int records = 2000000;
static int size = 100;
static int partitions = 64;

static void die(const char *what, const char *why)
{
    fprintf(stderr, "runtime-bench: %s: %s\n", what, why);
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

/* rill's own choices (runtime/kafka/conf.c), for a fair ceiling. */
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

static void produce_input(const char *topic, int n)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    tuned_producer(conf);
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, conf);
    char *value = malloc((size_t)size);
    memset(value, 'v', (size_t)size);
    int64_t t0 = now_us();
    for (int i = 0; i < n; i++) {
        char key[16];
        int klen = snprintf(key, sizeof(key), "%d", i % 100000);
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key, (size_t)klen), RD_KAFKA_V_VALUE(value, (size_t)size),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(rk, 10);
                continue;
            }
            if (err)
                die("produce", rd_kafka_err2str(err));
            break;
        }
    }
    if (rd_kafka_flush(rk, 120000))
        die("produce", "flush timed out");
    double s = (double)(now_us() - t0) / 1e6;
    printf("input: %d records of %d bytes into %s (%d partitions) in %.2f s (%.0f records/s)\n",
           n, size, topic, partitions, s, n / s);
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

/* The raw loop: consume, produce the same key/value to out, until every
 * record is delivered. Returns records/s. */
static double raw_loop(const char *in, const char *out, const char *group, bool tuned)
{
    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    conf_set(cconf, "group.id", group);
    if (tuned) {
        tuned_consumer(cconf);
    } else {
        conf_set(cconf, "auto.offset.reset", "earliest");
        conf_set(cconf, "enable.auto.commit", "false");
    }
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

    dr_count = 0;
    int consumed = 0;
    int64_t t0 = 0, deadline = now_us() + 600 * 1000000LL, report = now_us() + 5000000;
    int64_t last = now_us();
    while (consumed < records && now_us() < deadline) {
        if (now_us() > report) {
            fprintf(stderr, "raw: %d consumed, %d delivered\n", consumed, dr_count);
            report = now_us() + 5000000;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer, 100);
        if (!msg) {
            if (t0 && now_us() - last > 20 * 1000000LL)
                die("raw", "no record for 20 s: was the input truncated by retention? (the "
                           "mock keeps ~5 MB per partition: use more --partitions)");
            continue;
        }
        last = now_us();
        if (msg->err) {
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (!t0)
            t0 = now_us();
        consumed++;
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                producer, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(msg->key, msg->key_len), RD_KAFKA_V_VALUE(msg->payload, msg->len),
                RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                rd_kafka_poll(producer, 10);
                continue;
            }
            if (err)
                die("raw produce", rd_kafka_err2str(err));
            break;
        }
        rd_kafka_message_destroy(msg);
        rd_kafka_poll(producer, 0);
    }
    if (rd_kafka_flush(producer, 120000))
        die("raw", "flush timed out");
    rd_kafka_commit(consumer, NULL, 0);
    int64_t t1 = now_us();
    double rate = dr_count / ((double)(t1 - t0) / 1e6);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rd_kafka_destroy(producer);
    if (consumed < records)
        die("raw", "did not consume every record within 600 s");
    return rate;
}

/* ---- the rill topology ---- */

static bool non_empty(const rill_record_t *record, void *ud)
{
    (void)ud;
    size_t len = 0;
    return rill_value_bytes(rill_record_value(record), &len) != NULL && len > 0;
}

static rill_err_t same_value(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_view(out, rill_record_value(record));
    return RILL_OK;
}

static rill_topology_t *topology_for(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *s = rill_builder_stream(builder, in, NULL);
    s = rill_stream_filter(s, non_empty, NULL, "filter");
    s = rill_stream_map_values(s, same_value, NULL, "map-values");
    rill_stream_to(s, out, NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology)
        die("topology", rill_error_message(error));
    return topology;
}

static const char *fetch_wait_ms = "100";

static rill_app_t *app_for(rill_topology_t *topology, const char *app_id, int threads,
                           const char *commit_ms)
{
    rill_config_t *config = rill_config_new();
    char t[16];
    snprintf(t, sizeof(t), "%d", threads);
    rill_error_t *error = NULL;
    if (rill_config_set(config, "application.id", app_id, &error) ||
        rill_config_set(config, "bootstrap.servers", bootstrap, &error) ||
        rill_config_set(config, "num.stream.threads", t, &error) ||
        rill_config_set(config, "commit.interval.ms", commit_ms, &error) ||
        rill_config_set(config, "consumer.fetch.wait.max.ms", fetch_wait_ms, &error))
        die("config", rill_error_message(error));
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app)
        die("app", rill_error_message(error));
    if (rill_app_start(app, &error))
        die("start", rill_error_message(error));
    return app;
}

static double rill_run(const char *in, const char *out, const char *app_id, int threads)
{
    rill_topology_t *topology = topology_for(in, out);
    rill_app_t *app = app_for(topology, app_id, threads, "30000");
    /* The clock starts when every thread has its partitions (state RUNNING):
     * threads that join one after the other cause rebalances, which are not
     * throughput. What was produced before that is left out of the count. */
    int64_t t0 = 0, deadline = now_us() + 600 * 1000000LL;
    uint64_t base = 0;
    rill_app_stats_t stats;
    for (;;) {
        rill_app_stats(app, &stats);
        if (!t0 && rill_app_state(app) == RILL_APP_RUNNING) {
            t0 = now_us();
            base = stats.records_produced;
        }
        if (stats.records_produced >= (uint64_t)records)
            break;
        if (rill_app_state(app) == RILL_APP_ERROR)
            die("rill", rill_error_message(rill_app_error(app)));
        if (now_us() > deadline)
            die("rill", "did not finish within 600 s");
        usleep(t0 ? 1000 : 100);
    }
    int64_t t1 = now_us();
    rill_app_close(app, 60000);
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    if (base > (uint64_t)records / 2)
        fprintf(stderr, "rill: %llu of %d records were done before all threads ran: the "
                        "measured window is short\n",
                (unsigned long long)base, records);
    return (double)(records - (int64_t)base) / ((double)(t1 - t0) / 1e6);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void latency_run(const char *in, const char *out, int rate, int seconds)
{
    rill_topology_t *topology = topology_for(in, out);
    rill_app_t *app = app_for(topology, "bench-latency", 1, "30000");
    while (rill_app_state(app) != RILL_APP_RUNNING) {
        if (rill_app_state(app) == RILL_APP_ERROR)
            die("rill", rill_error_message(rill_app_error(app)));
        usleep(10000);
    }
    rd_kafka_conf_t *cconf = rd_kafka_conf_new();
    conf_set(cconf, "group.id", "bench-latency-reader");
    tuned_consumer(cconf);
    conf_set(cconf, "fetch.wait.max.ms", fetch_wait_ms);
    rd_kafka_t *consumer = client(RD_KAFKA_CONSUMER, cconf);
    rd_kafka_poll_set_consumer(consumer);
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, out, RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    rd_kafka_conf_t *pconf = rd_kafka_conf_new();
    tuned_producer(pconf);
    conf_set(pconf, "linger.ms", "1");
    rd_kafka_t *producer = client(RD_KAFKA_PRODUCER, pconf);
    /* let the reader join before the clock starts */
    int64_t join_deadline = now_us() + 30 * 1000000LL;
    for (;;) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 100);
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_topic_partition_list_t *a = NULL;
        rd_kafka_assignment(consumer, &a);
        int cnt = a ? a->cnt : 0;
        if (a)
            rd_kafka_topic_partition_list_destroy(a);
        if (cnt > 0 || now_us() > join_deadline)
            break;
    }

    /* The first 2 s are a warm-up (metadata lookups, connections, the first
     * fetch sessions) and are not measured: records are numbered by key. */
    int warmup = rate * 2;
    int total = rate * seconds;
    int64_t *lat = calloc((size_t)total, sizeof(int64_t));
    int got = 0, sent = 0;
    char *value = malloc((size_t)size);
    memset(value, 'l', (size_t)size);
    int64_t start = now_us();
    int64_t end_deadline = start + (int64_t)(seconds + 32) * 1000000;
    int seen = 0;
    while (seen < warmup + total && now_us() < end_deadline) {
        int64_t due = (int64_t)((now_us() - start) * (double)rate / 1e6);
        while (sent < due && sent < warmup + total) {
            char key[16];
            int klen = snprintf(key, sizeof(key), "%d", sent);
            rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(in),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(key, (size_t)klen),
                              RD_KAFKA_V_VALUE(value, (size_t)size),
                              RD_KAFKA_V_TIMESTAMP(wall_ms()), RD_KAFKA_V_END);
            sent++;
        }
        rd_kafka_poll(producer, 0);
        rd_kafka_message_t *m = rd_kafka_consumer_poll(consumer, 1);
        if (m) {
            if (!m->err) {
                seen++;
                char key[16] = "";
                if (m->key && m->key_len < sizeof(key))
                    memcpy(key, m->key, m->key_len);
                rd_kafka_timestamp_type_t tt;
                int64_t ts = rd_kafka_message_timestamp(m, &tt);
                if (atoi(key) >= warmup && got < total)
                    lat[got++] = wall_ms() - ts;
            }
            rd_kafka_message_destroy(m);
        }
    }
    qsort(lat, (size_t)got, sizeof(int64_t), cmp_i64);
    if (got > 0)
        printf("latency at %d records/s for %d s (after a 2 s warm-up): %d records, p50 %" PRId64 " ms, p99 %" PRId64
               " ms, p99.9 %" PRId64 " ms, max %" PRId64 " ms\n",
               rate, seconds, got, lat[got / 2], lat[(int)(got * 0.99)],
               lat[(int)(got * 0.999)], lat[got - 1]);
    else
        printf("latency: no output record arrived\n");
    free(lat);
    free(value);
    rd_kafka_flush(producer, 10000);
    rd_kafka_destroy(producer);
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
    rill_app_close(app, 60000);
    rill_app_destroy(app);
    rill_topology_destroy(topology);
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"records", required_argument, NULL, 'n'},
        {"size", required_argument, NULL, 's'},
        {"partitions", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 't'},
        {"phase", required_argument, NULL, 'P'},
        {"rate", required_argument, NULL, 'r'},
        {"seconds", required_argument, NULL, 'S'},
        {"fetch-wait-ms", required_argument, NULL, 'F'},
        {"repeat", required_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *threads = "1,2";
    const char *phase = "all";
    int rate = 10000, seconds = 10, repeat = 3;
    int opt;
    while ((opt = getopt_long(argc, argv, "b:h", options, NULL)) != -1) {
        switch (opt) {
        case 'b': bootstrap = optarg; break;
        case 'n': records = atoi(optarg); break;
        case 's': size = atoi(optarg); break;
        case 'p': partitions = atoi(optarg); break;
        case 't': threads = optarg; break;
        case 'P': phase = optarg; break;
        case 'r': rate = atoi(optarg); break;
        case 'S': seconds = atoi(optarg); break;
        case 'F': fetch_wait_ms = optarg; break;
        case 'R': repeat = atoi(optarg); break;
        case 'h':
            printf("usage: runtime-bench [-b HOST:PORT] [--records N] [--size BYTES] "
                   "[--partitions P] [--threads 1,2,4] [--rate R] [--seconds S] "
                   "[--fetch-wait-ms MS] [--repeat K] [--phase all|raw|raw-defaults|rill|latency]\n");
            return 0;
        default: return 2;
        }
    }
    if (records < 1 || size < 1 || partitions < 1 || rate < 1 || seconds < 1 || repeat < 1)
        die("arguments", "--records, --size, --partitions, --rate, --seconds must be >= 1");

    rd_kafka_t *mock_rk = NULL;
    rd_kafka_mock_cluster_t *mcluster = NULL;
    if (!bootstrap) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        conf_set(conf, "log_level", "3");
        mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!mock_rk)
            die("mock", errstr);
        mcluster = rd_kafka_mock_cluster_new(mock_rk, 1);
        bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
        rd_kafka_mock_topic_create(mcluster, "bench-in", partitions, 1);
        rd_kafka_mock_topic_create(mcluster, "bench-latency-in", partitions, 1);
        rd_kafka_mock_topic_create(mcluster, "bench-latency-out", partitions, 1);
        for (int i = 0; i < 48; i++) {
            char name[32];
            snprintf(name, sizeof(name), "bench-out-%d", i);
            rd_kafka_mock_topic_create(mcluster, name, partitions, 1);
        }
        printf("broker: librdkafka %s mock cluster (in-process) at %s\n", rd_kafka_version_str(),
               bootstrap);
    } else {
        printf("broker: %s (topics bench-in, bench-latency-in and bench-latency-out must exist "
               "with %d partitions)\n",
               bootstrap, partitions);
    }
    bool all = strcmp(phase, "all") == 0;
    if (all || strcmp(phase, "latency") != 0)
        produce_input("bench-in", records);

    /* raw and 1-thread rill alternate --repeat times (the machine's noise
     * hits both alike); the medians and their ratio are the result. */
    double raw = 0;
    int run = 0;
    char group[64], out[64];
    if (all || strcmp(phase, "raw-defaults") == 0) {
        snprintf(group, sizeof(group), "bench-raw-defaults-%d", run);
        snprintf(out, sizeof(out), "bench-out-%d", run++);
        double r = raw_loop("bench-in", out, group, false);
        printf("raw loop, librdkafka default consumer queues: %.0f records/s\n", r);
    }
    bool do_raw = all || strcmp(phase, "raw") == 0;
    bool do_rill = all || strcmp(phase, "rill") == 0;
    double raws[16], rills[16];
    int n_raw = 0, n_rill = 0;
    for (int k = 0; k < repeat && k < 16; k++) {
        if (do_raw) {
            snprintf(group, sizeof(group), "bench-raw-%d", run);
            snprintf(out, sizeof(out), "bench-out-%d", run++);
            raws[n_raw] = raw_loop("bench-in", out, group, true);
            printf("raw loop, rill's settings (the ceiling): %.0f records/s\n", raws[n_raw++]);
        }
        if (do_rill) {
            snprintf(group, sizeof(group), "bench-rill-%d", run);
            snprintf(out, sizeof(out), "bench-out-%d", run++);
            rills[n_rill] = rill_run("bench-in", out, group, 1);
            printf("rill filter+mapValues, 1 thread: %.0f records/s\n", rills[n_rill++]);
        }
    }
    if (n_raw) {
        qsort(raws, (size_t)n_raw, sizeof(double), cmp_double);
        raw = raws[n_raw / 2];
    }
    if (n_rill) {
        qsort(rills, (size_t)n_rill, sizeof(double), cmp_double);
        double r = rills[n_rill / 2];
        if (raw > 0)
            printf("median of %d: raw loop %.0f records/s, rill 1 thread %.0f records/s = %.2fx "
                   "the raw loop\n",
                   repeat, raw, r, r / raw);
        else
            printf("median of %d: rill 1 thread %.0f records/s\n", repeat, r);
    }
    if (do_rill) {
        char *list = strdup(threads);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            int n = atoi(tok);
            if (n == 1)
                continue;
            snprintf(group, sizeof(group), "bench-rill-%d", run);
            snprintf(out, sizeof(out), "bench-out-%d", run++);
            double r = rill_run("bench-in", out, group, n);
            if (raw > 0)
                printf("rill filter+mapValues, %d threads: %.0f records/s (%.2fx the raw loop)\n",
                       n, r, r / raw);
            else
                printf("rill filter+mapValues, %d threads: %.0f records/s\n", n, r);
        }
        free(list);
    }
    if (all || strcmp(phase, "latency") == 0)
        latency_run("bench-latency-in", "bench-latency-out", rate, seconds);

    if (mcluster) {
        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(mock_rk);
    }
    return 0;
}
