/* broker-bench.c: rill-broker against librdkafka's mock cluster, side by side,
 * with the same librdkafka client settings.
 *
 * Design: one run starts both targets -- rill-broker (a child process, fresh
 * temp dir, ephemeral port, every record written to its log on disk) and the
 * mock cluster (rdkafka_mock.h, in a child process of its own so that its
 * threads do not share the benchmark's process) -- and runs each scenario
 * against one then the other, so every ratio compares two measurements taken
 * minutes apart on the same machine.
 *
 * Scenarios, for each partition count:
 *   produce      N records of S bytes, acks=all, linger.ms=5, round-robin over
 *                the partitions; rate = N / (first send .. last ack)
 *   consume      a consumer (queued.min.messages raised) reads while the
 *                producer writes (the mock keeps only ~5 MiB per partition,
 *                so a backlog cannot be read from it); rate = records / (first
 *                send .. last record read)
 *   backlog      rill-broker only: read the N records just produced, from the start
 *   latency      R records/s for T seconds, end to end (send -> consumer
 *                poll), percentiles after a 1 s warm-up
 *
 * The mock child reads "topic NAME PARTITIONS" lines from a pipe, creates the
 * topic and answers "ok", so topics exist on both targets before a scenario.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "tests/integration/harness.h"

typedef struct opts {
    int64_t records;
    int size;
    int partitions[8];
    int npartitions;
    int rate;
    int latency_seconds;
    bool rill;
    bool mock;
    int repeat;
    const char *linger_ms;
    const char *fetch_wait_ms; /* NULL: librdkafka's default */
    bool produce_only;
} opts_t;

static opts_t o = {.records = 5000000, .size = 100, .partitions = {1, 6}, .npartitions = 2,
                   .rate = 10000, .latency_seconds = 10, .rill = true, .mock = true, .repeat = 3,
                   .linger_ms = "5"};

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "broker-bench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

/* ---- targets ------------------------------------------------------------------------ */

typedef struct target {
    const char *name;
    char bootstrap[128];
    pid_t mock_pid;
    FILE *mock_cmd;
    FILE *mock_ans;
    rt_broker_t *broker;
} target_t;

static void mock_child(int cmd_fd, int ans_fd)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        _exit(3);
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    if (mc == NULL)
        _exit(4);
    FILE *in = fdopen(cmd_fd, "r");
    FILE *out = fdopen(ans_fd, "w");
    fprintf(out, "%s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(out);
    char line[256];
    while (fgets(line, sizeof(line), in) != NULL) {
        char name[200];
        int parts;
        if (sscanf(line, "topic %199s %d", name, &parts) == 2) {
            rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(mc, name, parts, 1);
            fprintf(out, "%s\n", e ? rd_kafka_err2str(e) : "ok");
            fflush(out);
        }
    }
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    _exit(0);
}

static void start_mock(target_t *t)
{
    int cmd[2], ans[2];
    if (pipe(cmd) != 0 || pipe(ans) != 0)
        die("pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        close(cmd[1]);
        close(ans[0]);
        mock_child(cmd[0], ans[1]);
    }
    close(cmd[0]);
    close(ans[1]);
    t->name = "mock";
    t->mock_pid = pid;
    t->mock_cmd = fdopen(cmd[1], "w");
    t->mock_ans = fdopen(ans[0], "r");
    if (fgets(t->bootstrap, sizeof(t->bootstrap), t->mock_ans) == NULL)
        die("the mock cluster did not start");
    t->bootstrap[strcspn(t->bootstrap, "\n")] = '\0';
}

static void stop_target(target_t *t)
{
    if (t->mock_pid > 0) {
        fclose(t->mock_cmd);
        int status;
        int64_t deadline = now_us() + 10000000;
        while (waitpid(t->mock_pid, &status, WNOHANG) == 0) {
            if (now_us() > deadline) {
                kill(t->mock_pid, SIGKILL);
                waitpid(t->mock_pid, &status, 0);
                break;
            }
            g_usleep(20000);
        }
        fclose(t->mock_ans);
        t->mock_pid = 0;
    }
    if (t->broker != NULL) {
        rt_broker_stop(t->broker);
        rt_broker_free(t->broker);
        t->broker = NULL;
    }
}

/* CPU seconds (user + system) the target's server process has used so far. */
static double target_cpu(const target_t *t)
{
    pid_t pid = t->mock_pid > 0 ? t->mock_pid : rt_broker_pid(t->broker);
    char path[64];
    g_snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    const char *p = strrchr(text, ')');
    if (p == NULL)
        return 0;
    unsigned long utime = 0, stime = 0;
    /* fields after ")": state ppid pgrp session tty tpgid flags minflt cminflt majflt
     * cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static void conf_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        die("%s=%s: %s", k, v, err);
}

static rd_kafka_conf_t *client_conf(const target_t *t)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    conf_set(conf, "bootstrap.servers", t->bootstrap);
    conf_set(conf, "broker.address.family", "v4");
    conf_set(conf, "log_level", "3");
    return conf;
}

static void create_topic(target_t *t, const char *topic, int partitions)
{
    if (t->mock_pid > 0) {
        fprintf(t->mock_cmd, "topic %s %d\n", topic, partitions);
        fflush(t->mock_cmd);
        char line[256];
        if (fgets(line, sizeof(line), t->mock_ans) == NULL || strncmp(line, "ok", 2) != 0)
            die("mock: cannot create %s", topic);
        return;
    }
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, client_conf(t), err, sizeof(err));
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    if (ev == NULL || rd_kafka_event_error(ev))
        die("%s: CreateTopics %s failed", t->name, topic);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(res[0]))
        die("%s: CreateTopics %s: %s", t->name, topic,
            n == 1 ? rd_kafka_topic_result_error_string(res[0]) : "?");
    rd_kafka_event_destroy(ev);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

/* ---- produce ----------------------------------------------------------------------------- */

typedef struct prod_stats {
    int64_t acked;
    int64_t failed;
    int64_t last_ack_us;
    /* BROKER_BENCH_STATS diagnostics, from librdkafka's statistics */
    int64_t produce_reqs; /* cumulative, the largest seen */
    int64_t batches, batch_records;
    double rtt_sum_us;
    int64_t rtt_cnt;
} prod_stats_t;

/* The integer after `"key":` at or after p, or -1. */
static int64_t json_int_after(const char *p, const char *key)
{
    char pat[64];
    g_snprintf(pat, sizeof(pat), "\"%s\":", key);
    const char *q = p != NULL ? strstr(p, pat) : NULL;
    return q != NULL ? g_ascii_strtoll(q + strlen(pat), NULL, 10) : -1;
}

/* Accumulates what the diagnostics print: Produce requests (cumulative per
 * broker), batches and records per batch (windows since the last emit),
 * round-trip times (window averages weighted by their counts). Crude string
 * scanning: this is for a human looking at a run, not for any figure. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    (void)len;
    prod_stats_t *st = opaque;
    for (const char *p = strstr(json, "\"Produce\":"); p != NULL;
         p = strstr(p + 1, "\"Produce\":")) {
        int64_t v = json_int_after(p, "Produce");
        if (v > st->produce_reqs)
            st->produce_reqs = v;
    }
    for (const char *p = strstr(json, "\"batchcnt\":"); p != NULL;
         p = strstr(p + 1, "\"batchcnt\":")) {
        int64_t sum = json_int_after(p, "sum"), cnt = json_int_after(p, "cnt");
        if (sum > 0 && cnt > 0) {
            st->batches += cnt;
            st->batch_records += sum;
        }
    }
    for (const char *p = strstr(json, "\"rtt\":"); p != NULL; p = strstr(p + 1, "\"rtt\":")) {
        int64_t sum = json_int_after(p, "sum"), cnt = json_int_after(p, "cnt");
        if (sum > 0 && cnt > 0) {
            st->rtt_sum_us += (double)sum;
            st->rtt_cnt += cnt;
        }
    }
    return 0;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    prod_stats_t *st = opaque;
    if (m->err)
        st->failed++;
    else
        st->acked++;
    st->last_ack_us = now_us();
}

static rd_kafka_t *new_producer(const target_t *t, prod_stats_t *st)
{
    rd_kafka_conf_t *conf = client_conf(t);
    conf_set(conf, "acks", "all");
    conf_set(conf, "linger.ms", o.linger_ms);
    conf_set(conf, "queue.buffering.max.messages", "1000000");
    conf_set(conf, "message.timeout.ms", "120000");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, st);
    const char *stats_ms = g_getenv("BROKER_BENCH_STATS");
    if (stats_ms != NULL && *stats_ms) {
        conf_set(conf, "statistics.interval.ms", stats_ms);
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
    }
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        die("producer: %s", err);
    return rk;
}

static void send_one(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t partition, void *payload,
                     size_t len)
{
    while (rd_kafka_produce(rkt, partition, RD_KAFKA_MSG_F_COPY, payload, len, NULL, 0, NULL) !=
           0) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            die("produce: %s", rd_kafka_err2str(rd_kafka_last_error()));
        rd_kafka_poll(rk, 1);
    }
}

/* Produces n records as fast as the client allows; returns records/s. */
static double produce_run(const target_t *t, const char *topic, int partitions, int64_t n,
                          int size)
{
    prod_stats_t st = {0};
    rd_kafka_t *rk = new_producer(t, &st);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    uint8_t *payload = g_malloc(size);
    memset(payload, 'x', size);
    int64_t t0 = now_us();
    for (int64_t i = 0; i < n; i++) {
        memcpy(payload, &i, sizeof(i) < (size_t)size ? sizeof(i) : (size_t)size);
        send_one(rk, rkt, (int32_t)(i % partitions), payload, size);
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 300000) != 0)
        die("%s: produce did not finish within 300 s", t->name);
    if (st.failed || st.acked != n)
        die("%s: %" PRId64 " of %" PRId64 " acknowledged, %" PRId64 " failed", t->name, st.acked,
            n, st.failed);
    double secs = (st.last_ack_us - t0) / 1e6;
    if (g_getenv("BROKER_BENCH_STATS") != NULL && st.batches > 0)
        printf("    (stats %s: %" PRId64 " Produce requests, %" PRId64 " batches of %.0f records "
               "on average, rtt %.2f ms on average)\n",
               t->name, st.produce_reqs, st.batches, (double)st.batch_records / st.batches,
               st.rtt_cnt ? st.rtt_sum_us / st.rtt_cnt / 1000.0 : 0.0);
    g_free(payload);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    return n / secs;
}

/* ---- consume ------------------------------------------------------------------------------- */

typedef struct consumer_run {
    const target_t *t;
    const char *topic;
    int partitions;
    int64_t expect;
    int64_t got;
    int64_t first_us, last_us;
    bool latency; /* payload holds the send time */
    GArray *lat_us;
    int64_t warmup_until_us;
    volatile bool stop;
    volatile bool ready;
} consumer_run_t;

static rd_kafka_t *new_consumer(const target_t *t, const char *topic, int partitions)
{
    rd_kafka_conf_t *conf = client_conf(t);
    conf_set(conf, "group.id", "broker-bench");
    conf_set(conf, "enable.auto.commit", "false");
    conf_set(conf, "auto.offset.reset", "earliest");
    conf_set(conf, "queued.min.messages", "1000000");
    conf_set(conf, "enable.partition.eof", "false");
    if (o.fetch_wait_ms != NULL)
        conf_set(conf, "fetch.wait.max.ms", o.fetch_wait_ms);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        die("consumer: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(parts, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    return rk;
}

static gpointer consumer_thread(gpointer ud)
{
    consumer_run_t *cr = ud;
    rd_kafka_t *rk = new_consumer(cr->t, cr->topic, cr->partitions);
    cr->ready = true;
    int64_t idle_since = 0;
    while (cr->got < cr->expect) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        int64_t now = now_us();
        if (m == NULL) {
            if (cr->stop) {
                if (idle_since == 0)
                    idle_since = now;
                else if (now - idle_since > 3000000)
                    break; /* the producer is done and nothing came for 3 s */
            }
            continue;
        }
        idle_since = 0;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "%s consumer: %s\n", cr->t->name, rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        if (cr->got == 0)
            cr->first_us = now;
        cr->got++;
        cr->last_us = now;
        if (cr->latency && m->len >= sizeof(int64_t)) {
            int64_t sent;
            memcpy(&sent, m->payload, sizeof(sent));
            if (sent >= cr->warmup_until_us) {
                int64_t lat = now - sent;
                g_array_append_val(cr->lat_us, lat);
            }
        }
        rd_kafka_message_destroy(m);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return NULL;
}

/* Reads a backlog of n records from the start; returns records/s. */
static double backlog_run(const target_t *t, const char *topic, int partitions, int64_t n)
{
    consumer_run_t cr = {.t = t, .topic = topic, .partitions = partitions, .expect = n};
    cr.stop = true;
    int64_t t0 = now_us();
    consumer_thread(&cr);
    if (cr.got != n)
        die("%s: backlog: read %" PRId64 " of %" PRId64, t->name, cr.got, n);
    return n / ((cr.last_us - t0) / 1e6);
}

/* Produces n records while a consumer reads them; returns the consumer's records/s
 * (from the first send to the last record read) and sets *read. */
static double concurrent_run(const target_t *t, const char *topic, int partitions, int64_t n,
                             int size, int64_t *read)
{
    consumer_run_t cr = {.t = t, .topic = topic, .partitions = partitions, .expect = n};
    GThread *th = g_thread_new("consumer", consumer_thread, &cr);
    while (!cr.ready)
        g_usleep(1000);
    g_usleep(300000); /* let the consumer find its partitions */
    int64_t t0 = now_us();
    produce_run(t, topic, partitions, n, size);
    cr.stop = true;
    g_thread_join(th);
    *read = cr.got;
    return cr.got / ((cr.last_us - t0) / 1e6);
}

/* ---- latency ---------------------------------------------------------------------------------- */

typedef struct lat_result {
    double p50, p99, p999, max;
    int64_t n;
} lat_result_t;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static lat_result_t latency_run(const target_t *t, const char *topic, int partitions, int rate,
                                int seconds, int size)
{
    int64_t n = (int64_t)rate * seconds;
    consumer_run_t cr = {.t = t, .topic = topic, .partitions = partitions, .expect = n,
                         .latency = true};
    cr.lat_us = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GThread *th = g_thread_new("consumer", consumer_thread, &cr);
    while (!cr.ready)
        g_usleep(1000);
    g_usleep(1000000);
    prod_stats_t st = {0};
    rd_kafka_t *rk = new_producer(t, &st);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    uint8_t *payload = g_malloc0(size < 8 ? 8 : size);
    int64_t t0 = now_us();
    cr.warmup_until_us = t0 + 1000000;
    /* Pace in 1 ms ticks: send what is due, then sleep to the next tick
     * (a busy loop would steal a core from the broker and the client). */
    int64_t i = 0;
    while (i < n) {
        int64_t now = now_us();
        int64_t due_count = (now - t0) * rate / 1000000 + 1;
        for (; i < n && i < due_count; i++) {
            int64_t sent = now_us();
            memcpy(payload, &sent, sizeof(sent));
            send_one(rk, rkt, (int32_t)(i % partitions), payload, size < 8 ? 8 : size);
        }
        rd_kafka_poll(rk, 0);
        int64_t next_tick = t0 + ((now_us() - t0) / 1000 + 1) * 1000;
        struct timespec ts = {.tv_sec = next_tick / 1000000, .tv_nsec = (next_tick % 1000000) * 1000};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    rd_kafka_flush(rk, 60000);
    cr.stop = true;
    g_thread_join(th);
    rd_kafka_topic_destroy(rkt);
    rd_kafka_destroy(rk);
    g_free(payload);
    lat_result_t r = {0};
    GArray *a = cr.lat_us;
    r.n = a->len;
    if (a->len > 0) {
        qsort(a->data, a->len, sizeof(int64_t), cmp_i64);
        int64_t *v = (int64_t *)a->data;
        r.p50 = v[(size_t)(a->len * 0.50)] / 1000.0;
        r.p99 = v[(size_t)(a->len * 0.99)] / 1000.0;
        r.p999 = v[(size_t)(a->len * 0.999)] / 1000.0;
        r.max = v[a->len - 1] / 1000.0;
    }
    g_array_free(a, TRUE);
    return r;
}

static double median(const double *v, int n)
{
    double tmp[16];
    memcpy(tmp, v, sizeof(double) * (size_t)n);
    for (int i = 1; i < n; i++) /* insertion sort: n is tiny */
        for (int j = i; j > 0 && tmp[j] < tmp[j - 1]; j--) {
            double x = tmp[j];
            tmp[j] = tmp[j - 1];
            tmp[j - 1] = x;
        }
    return n % 2 ? tmp[n / 2] : (tmp[n / 2 - 1] + tmp[n / 2]) / 2;
}

/* ---- main ------------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr,
            "usage: broker-bench [--records N] [--size BYTES] [--partitions 1,6] [--rate R]\n"
            "                    [--latency-seconds T] [--only rill|mock] [--repeat K]\n"
            "                    [--linger-ms MS] [--fetch-wait-ms MS] [--produce-only]\n"
            "rill-broker is $RILL_BROKER (default ./rill-broker).\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"records", required_argument, NULL, 'n'},  {"size", required_argument, NULL, 's'},
        {"partitions", required_argument, NULL, 'p'}, {"rate", required_argument, NULL, 'r'},
        {"latency-seconds", required_argument, NULL, 't'},
        {"only", required_argument, NULL, 'o'},     {"help", no_argument, NULL, 'h'},
        {"repeat", required_argument, NULL, 'R'},   {"linger-ms", required_argument, NULL, 'L'},
        {"fetch-wait-ms", required_argument, NULL, 'W'},
        {"produce-only", no_argument, NULL, 'P'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'n':
            o.records = g_ascii_strtoll(optarg, NULL, 10);
            break;
        case 's':
            o.size = atoi(optarg);
            break;
        case 'p': {
            g_auto(GStrv) parts = g_strsplit(optarg, ",", 8);
            o.npartitions = 0;
            for (char **p = parts; *p != NULL && o.npartitions < 8; p++)
                o.partitions[o.npartitions++] = atoi(*p);
            break;
        }
        case 'r':
            o.rate = atoi(optarg);
            break;
        case 't':
            o.latency_seconds = atoi(optarg);
            break;
        case 'R':
            o.repeat = atoi(optarg);
            break;
        case 'L':
            o.linger_ms = optarg;
            break;
        case 'W':
            o.fetch_wait_ms = optarg;
            break;
        case 'P':
            o.produce_only = true;
            break;
        case 'o':
            o.rill = strcmp(optarg, "rill") == 0;
            o.mock = strcmp(optarg, "mock") == 0;
            break;
        default:
            usage();
        }
    }
    if (o.records <= 0 || o.size < 8 || o.npartitions == 0 || o.rate <= 0 || o.repeat < 1)
        usage();

    target_t targets[2];
    int ntargets = 0;
    memset(targets, 0, sizeof(targets));
    if (o.rill) {
        target_t *t = &targets[ntargets++];
        t->name = "rill-broker";
        const char *args[] = {"--log.level=warn", NULL};
        t->broker = rt_broker_start(args);
        g_strlcpy(t->bootstrap, rt_broker_bootstrap(t->broker), sizeof(t->bootstrap));
    }
    if (o.mock)
        start_mock(&targets[ntargets++]);

    printf("broker-bench: %" PRId64 " records of %d bytes, acks=all, linger.ms=%s, "
           "fetch.wait.max.ms=%s, %d runs per target alternating, librdkafka %s\n",
           o.records, o.size, o.linger_ms, o.fetch_wait_ms ? o.fetch_wait_ms : "default",
           o.repeat, rd_kafka_version_str());
    g_autofree char *loadavg = NULL;
    if (g_file_get_contents("/proc/loadavg", &loadavg, NULL, NULL))
        printf("  machine: %d cpus, load average at start %s", (int)sysconf(_SC_NPROCESSORS_ONLN),
               loadavg);
    int seq = 0;
    for (int pi = 0; pi < o.npartitions; pi++) {
        int parts = o.partitions[pi];
        double prod[2][16], cons[2][16] = {{0}}, p99[2][16] = {{0}};
        int R = o.repeat > 16 ? 16 : o.repeat;
        for (int k = 0; k < R; k++) {
            for (int j = 0; j < ntargets; j++) {
                int ti = (k % 2 == 0) ? j : ntargets - 1 - j; /* alternate who goes first */
                target_t *t = &targets[ti];
                char topic[64];
                g_snprintf(topic, sizeof(topic), "bench-produce-p%d-%d", parts, seq++);
                create_topic(t, topic, parts);
                double cpu0 = target_cpu(t);
                prod[ti][k] = produce_run(t, topic, parts, o.records, o.size);
                printf("  produce   partitions=%d %-12s %10.0f rec/s %7.1f MB/s  server cpu "
                       "%.2f s\n",
                       parts, t->name, prod[ti][k], prod[ti][k] * o.size / 1e6,
                       target_cpu(t) - cpu0);
                fflush(stdout);
                if (t->broker != NULL && k == 0 && !o.produce_only) {
                    double b = backlog_run(t, topic, parts, o.records);
                    printf("  backlog   partitions=%d %-12s %10.0f rec/s %7.1f MB/s (read from "
                           "the log after producing)\n",
                           parts, t->name, b, b * o.size / 1e6);
                    fflush(stdout);
                }
            }
        }
        for (int k = 0; k < R && !o.produce_only; k++) {
            for (int j = 0; j < ntargets; j++) {
                int ti = (k % 2 == 0) ? j : ntargets - 1 - j;
                target_t *t = &targets[ti];
                char topic[64];
                g_snprintf(topic, sizeof(topic), "bench-consume-p%d-%d", parts, seq++);
                create_topic(t, topic, parts);
                double cpu0 = target_cpu(t);
                int64_t read = 0;
                cons[ti][k] = concurrent_run(t, topic, parts, o.records, o.size, &read);
                printf("  consume   partitions=%d %-12s %10.0f rec/s %7.1f MB/s (while producing; "
                       "read %" PRId64 " of %" PRId64 ")  server cpu %.2f s\n",
                       parts, t->name, cons[ti][k], cons[ti][k] * o.size / 1e6, read, o.records,
                       target_cpu(t) - cpu0);
                fflush(stdout);
            }
        }
        for (int k = 0; k < R && !o.produce_only; k++) {
            for (int j = 0; j < ntargets; j++) {
                int ti = (k % 2 == 0) ? j : ntargets - 1 - j;
                target_t *t = &targets[ti];
                char topic[64];
                g_snprintf(topic, sizeof(topic), "bench-latency-p%d-%d", parts, seq++);
                create_topic(t, topic, parts);
                lat_result_t lat = latency_run(t, topic, parts, o.rate, o.latency_seconds, o.size);
                p99[ti][k] = lat.p99;
                printf("  latency   partitions=%d %-12s %d rec/s: p50 %.2f ms  p99 %.2f ms  "
                       "p99.9 %.2f ms  max %.2f ms  (n=%" PRId64 ")\n",
                       parts, t->name, o.rate, lat.p50, lat.p99, lat.p999, lat.max, lat.n);
                fflush(stdout);
            }
        }
        double mp[2], mc[2], ml[2];
        for (int ti = 0; ti < ntargets; ti++) {
            mp[ti] = median(prod[ti], R);
            mc[ti] = median(cons[ti], R);
            ml[ti] = median(p99[ti], R);
            printf("  median    partitions=%d %-12s produce %.0f rec/s, consume %.0f rec/s, "
                   "latency p99 %.2f ms\n",
                   parts, targets[ti].name, mp[ti], mc[ti], ml[ti]);
        }
        if (ntargets == 2)
            printf("  ratio rill/mock partitions=%d (medians): produce %.2fx, consume %.2fx, "
                   "latency p99 %.2fx\n",
                   parts, mp[0] / mp[1], mc[0] / mc[1], ml[0] / ml[1]);
        fflush(stdout);
    }
    for (int ti = 0; ti < ntargets; ti++)
        stop_target(&targets[ti]);
    return 0;
}
