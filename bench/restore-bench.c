/* restore-bench.c: end-to-end restore speed, from a real rill-broker's changelog into RocksDB.
 *
 * Starts rill-broker ($RILL_BROKER, else ./rill-broker) in a temp dir,
 * produces --records changelog records (16-byte keys drawn over 10x the
 * record count, 100-byte values, as bench/store-bench) to a one-partition
 * topic, then restores that partition into a fresh RocksDB store, --rounds
 * times, the paths interleaved in each round:
 *
 *   read-old     the restore consumer as it was before this benchmark (one
 *                rd_kafka_consumer_poll per record; the copy below), records dropped
 *   read         rill__kafka_changelog_read (runtime/kafka/restore.c), records dropped
 *   restore-old  read-old → rill__restorer in batches of 10,000 → RocksDB WriteBatches into
 *                restore mode's vector memtables (the path before this benchmark)
 *   restore      read → rill__restorer → RocksDB with rill's current options: what a task
 *                does before it processes (operators/state.c)
 *
 * Each line gives records/s (wall clock, from the first fetch to the store
 * flushed and back in normal mode), the CPU of this process per record
 * (user + system, every thread: librdkafka's, RocksDB's flushes), that of
 * the restoring thread alone (the one that polls, batches and writes) and
 * the broker's CPU per record, and the process's peak RSS so far (VmHWM: run
 * one path with --only to see that path's). The machine is shared: compare paths of one run.
 *
 * Usage: restore-bench [--records N] [--rounds N] [--dir DIR] [--only PATH] */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <librdkafka/rdkafka.h>

#include "common/clock.h"
#include "runtime/kafka/changelog.h"
#include "runtime/kafka/kafka-private.h"
#include "stores/kv-rocksdb.h"
#include "stores/restore.h"
#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define KEY_LEN 16
#define VALUE_LEN 100
#define TOPIC "restore-bench-changelog"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double thread_cpu_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* utime + stime of pid, in seconds (from /proc/pid/stat). */
static double proc_cpu_secs(int pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return 0;
    const char *p = strrchr(text, ')'); /* after the command name */
    unsigned long utime = 0, stime = 0;
    if (p == NULL || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime,
                            &stime) != 2)
        return 0;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* A "Vm...:" line of /proc/self/status, in MiB. */
static double status_mib(const char *field)
{
    g_autofree char *text = NULL;
    if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
        return 0;
    const char *p = strstr(text, field);
    return p ? (double)g_ascii_strtoull(p + strlen(field), NULL, 10) / 1024 : 0;
}

static void die(rill_error_t *err, const char *what)
{
    rt_fail("%s: %s", what, err ? rill_error_message(err) : "failed");
}

/* ---- the changelog ---------------------------------------------------------------------- */

static void produce(const char *bootstrap, uint64_t records)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "linger.ms", "20");
    kt_set(conf, "batch.size", "1000000");
    kt_set(conf, "queue.buffering.max.kbytes", "1048576");
    kt_set(conf, "queue.buffering.max.messages", "2000000");
    kt_set(conf, "acks", "1");
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    RT_CHECK(rk != NULL, "producer: %s", errstr);
    char key[KEY_LEN], value[VALUE_LEN];
    memset(value, 'v', sizeof value);
    for (uint64_t i = 0; i < records; i++) {
        uint64_t k = next_rand() % (records * 10);
        char text[24];
        snprintf(text, sizeof text, "k%015" PRIu64, k % UINT64_C(1000000000000000));
        memcpy(key, text, KEY_LEN);
        memcpy(value, &i, sizeof i);
        rd_kafka_resp_err_t err;
        while ((err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                        RD_KAFKA_V_KEY(key, KEY_LEN),
                                        RD_KAFKA_V_VALUE(value, VALUE_LEN),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        RT_CHECK(err == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(err));
        if (i % 10000 == 0)
            rd_kafka_poll(rk, 0);
    }
    RT_CHECK(rd_kafka_flush(rk, 300000) == RD_KAFKA_RESP_ERR_NO_ERROR, "producer flush timed out");
    rd_kafka_destroy(rk);
    int64_t lo, hi;
    kt_watermarks(bootstrap, TOPIC, 0, &lo, &hi);
    RT_CHECK(hi - lo == (int64_t)records, "the changelog holds %" PRId64 " records, not %" PRIu64,
             hi - lo, records);
}

/* ---- the old read loop: runtime/kafka/restore.c before this benchmark -------------------- */

static rill_err_t old_changelog_read(void *ud, const char *topic, int32_t partition, int64_t from,
                                     rill_err_t (*fn)(void *, const rill__raw_record_t *,
                                                      rill_error_t **),
                                     void *fn_ud, int64_t *end_offset, rill_error_t **error)
{
    const rill_config_t *config = ud;
    *end_offset = from;
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_CONSUMER, "old-restore", error);
    if (conf == NULL)
        return RILL_ERR_KAFKA;
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, 0);
    rd_kafka_conf_set(conf, "fetch.max.bytes", "52428800", NULL, 0);
    rd_kafka_conf_set(conf, "max.partition.fetch.bytes", "16777216", NULL, 0);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    RT_CHECK(rk != NULL, "old consumer: %s", errstr);
    int64_t low = 0, high = 0;
    RT_CHECK(rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, 30000) == 0,
             "watermarks");
    *end_offset = high;
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, partition)->offset = from > low ? from : low;
    rd_kafka_assign(rk, tps);
    rd_kafka_topic_partition_list_destroy(tps);
    int64_t position = from, deadline = rill__clock_mono_ms() + 600000;
    rill_err_t err = RILL_OK;
    while (err == RILL_OK && position < high) {
        RT_CHECK(rill__clock_mono_ms() < deadline, "old restore: no end after 600 s");
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 200);
        if (msg == NULL)
            continue;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            position = high;
        } else {
            RT_CHECK(msg->err == 0, "old restore: %s", rd_kafka_message_errstr(msg));
            rd_kafka_timestamp_type_t tstype;
            rill__raw_record_t raw = {.topic = topic, .partition = partition,
                                      .offset = msg->offset,
                                      .timestamp = rd_kafka_message_timestamp(msg, &tstype),
                                      .key = msg->key, .key_len = msg->key_len,
                                      .value = msg->payload, .value_len = msg->len};
            err = fn(fn_ud, &raw, error);
            position = msg->offset + 1;
        }
        rd_kafka_message_destroy(msg);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return err;
}

/* ---- the paths ------------------------------------------------------------------------------ */

typedef rill_err_t (*read_fn)(void *, const char *, int32_t, int64_t,
                              rill_err_t (*)(void *, const rill__raw_record_t *, rill_error_t **),
                              void *, int64_t *, rill_error_t **);

typedef struct count {
    uint64_t records, bytes;
} count_t;

static rill_err_t count_record(void *ud, const rill__raw_record_t *record, rill_error_t **error)
{
    (void)error;
    count_t *count = ud;
    count->records++;
    count->bytes += record->key_len + record->value_len;
    return RILL_OK;
}

static rill_err_t restore_record(void *ud, const rill__raw_record_t *record, rill_error_t **error)
{
    return rill__restorer_add(ud, record->key, record->key_len, record->value, record->value_len,
                              record->offset, record->timestamp, error);
}

typedef struct result {
    double secs, cpu, thread_cpu, broker_cpu;
    uint64_t records;
} result_t;

static result_t run_path(const char *name, read_fn read, bool store, bool old_store,
                         const rill_config_t *config, const char *dir, int broker_pid,
                         uint64_t records)
{
    g_autofree char *path = g_build_filename(dir, "store", NULL);
    rill__kv_store_t *kv = NULL;
    rill__rocksdb_shared_t *shared = NULL;
    rill_error_t *err = NULL;
    if (store) {
        rill__rocksdb_config_t rconfig;
        rill__rocksdb_config_default(&rconfig);
        if (old_store) {
            rconfig.restore_write_buffer_bytes = 2 * rconfig.write_buffer_bytes;
            rconfig.restore_compact_l0_files = 16;
        }
        shared = rill__rocksdb_shared_new(&rconfig, &err);
        if (shared == NULL || (kv = rill__kv_rocksdb_open(shared, path, "bench", &err)) == NULL)
            die(err, "open the store");
    }
    double c0 = cpu_secs(), tc0 = thread_cpu_secs(), b0 = proc_cpu_secs(broker_pid);
    int64_t t0 = rill__clock_mono_us();
    count_t count = {0, 0};
    int64_t end = 0;
    if (store) {
        /* the old restorer wrote batches of 10,000 records through the memtable */
        rill__restorer_t *r =
            rill__restorer_new(kv, TOPIC, 0, 0, -1, old_store ? 10000 : 0, NULL, &err);
        if (r == NULL)
            die(err, "restorer");
        if (read((void *)config, TOPIC, 0, 0, restore_record, r, &end, &err) != RILL_OK ||
            rill__restorer_finish(r, &err) != RILL_OK)
            die(err, name);
        count.records = rill__restorer_records(r);
        rill__restorer_destroy(r);
    } else if (read((void *)config, TOPIC, 0, 0, count_record, &count, &end, &err) != RILL_OK) {
        die(err, name);
    }
    result_t res = {(double)(rill__clock_mono_us() - t0) / 1e6, cpu_secs() - c0,
                    thread_cpu_secs() - tc0, proc_cpu_secs(broker_pid) - b0, count.records};
    RT_CHECK(count.records == records && end == (int64_t)records,
             "%s: %" PRIu64 " records to offset %" PRId64 ", expected %" PRIu64, name,
             count.records, end, records);
    if (store) {
        rill__kv_close(kv, NULL);
        rill__rocksdb_shared_destroy(shared);
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);
        RT_CHECK(system(cmd) == 0, "rm -rf %s", path);
    }
    printf("%-12s records=%" PRIu64 " secs=%.2f records_per_sec=%.0f cpu_us_per_record=%.2f "
           "(restoring thread %.2f) broker_cpu_us_per_record=%.2f peak_rss_mib=%.0f\n",
           name, records, res.secs, (double)records / res.secs, res.cpu * 1e6 / (double)records,
           res.thread_cpu * 1e6 / (double)records, res.broker_cpu * 1e6 / (double)records,
           status_mib("VmHWM:"));
    fflush(stdout);
    return res;
}

int main(int argc, char **argv)
{
    uint64_t records = 5000000;
    int rounds = 3;
    const char *dir = NULL, *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            records = g_ascii_strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
            only = argv[++i];
        else {
            fprintf(stderr, "usage: restore-bench [--records N] [--rounds N] [--dir DIR] "
                            "[--only PATH]\n");
            return 2;
        }
    }
    if (records == 0 || rounds < 1) {
        fprintf(stderr, "restore-bench: --records and --rounds must be positive\n");
        return 2;
    }
    rt_broker_t *broker = rt_broker_start(NULL);
    const char *bootstrap = rt_broker_bootstrap(broker);
    g_autofree char *store_dir = g_build_filename(dir ? dir : rt_broker_tmp_dir(broker), "rb",
                                                  NULL);
    g_mkdir_with_parents(store_dir, 0755);
    kt_create_topic(bootstrap, TOPIC, 1, "cleanup.policy", "compact", NULL);
    int64_t t0 = rill__clock_mono_ms();
    produce(bootstrap, records);
    printf("produced %" PRIu64 " records (%d+%d bytes) in %.1f s\n", records, KEY_LEN, VALUE_LEN,
           (double)(rill__clock_mono_ms() - t0) / 1e3);

    rill_config_t *config = rill_config_new();
    rill_config_set(config, "bootstrap.servers", bootstrap, NULL);
    rill_config_set(config, "application.id", "restore-bench", NULL);
    int pid = rt_broker_pid(broker);
    for (int round = 1; round <= rounds; round++) {
        printf("round %d\n", round);
        static const struct {
            const char *name;
            read_fn read;
            bool store, old;
        } paths[] = {
            {"read-old", old_changelog_read, false, false},
            {"read", rill__kafka_changelog_read, false, false},
            {"restore-old", old_changelog_read, true, true},
            {"restore", rill__kafka_changelog_read, true, false},
        };
        for (size_t i = 0; i < G_N_ELEMENTS(paths); i++)
            if (only == NULL || strcmp(only, paths[i].name) == 0)
                run_path(paths[i].name, paths[i].read, paths[i].store, paths[i].old, config,
                         store_dir, pid, records);
    }
    rill_config_destroy(config);
    rt_broker_stop(broker);
    rt_broker_free(broker);
    return 0;
}
