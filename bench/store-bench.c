/* store-bench.c: throughput of rill's key-value stores: puts, restore, and memory with 10M keys.
 *
 * Three measurements, each side by side in one run (docs/benchmarks.md has
 * the figures and the commands):
 *   puts     puts/s in batches of 1,000 records (one WriteBatch each) into a
 *            fresh store, for RocksDB's default options (WAL on, as a plain
 *            rocksdb_options_create()), Kafka Streams' RocksDB options
 *            (RocksDBStore.java: 16 MiB write buffers x3, 4 KiB blocks, 50
 *            MiB cache, bloom filter, universal compaction, no compression,
 *            no WAL), rill's tuned options, and the in-memory store;
 *   restore  records/s restoring a changelog of --restore-records records
 *            (default 5,000,000) through rill__restorer into a fresh tuned
 *            RocksDB store, including the final flush to disk;
 *   rss      peak RSS while writing --rss-keys keys (default 10,000,000) and
 *            then reading 1,000,000 random ones, against the configured bound
 *            (block cache + write buffers).
 * Keys are 16 bytes ("k" + 15 digits of a pseudo-random number over 10x the
 * record count, so most keys are new, as in a changelog); values are 100
 * bytes. The puts run --rounds times (default 3), profiles interleaved, and
 * a summary gives each profile's best rate and median CPU cost per put
 * (CPU time is what other load on a shared machine disturbs least).
 * STORE_BENCH_PROFILE=<name> runs one profile only.
 * Usage: store-bench [puts|restore|rss|all] [--records N] [--rounds N]
 * [--restore-records N] [--rss-keys N] [--dir DIR] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <rocksdb/c.h>

#include "common/clock.h"
#include "common/log.h"
#include "stores/kv-memory.h"
#include "stores/kv-rocksdb.h"
#include "stores/restore.h"

#define KEY_LEN 16
#define VALUE_LEN 100
#define BATCH 1000

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
    /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void make_key(char *k, uint64_t space)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "k%015" G_GUINT64_FORMAT, rng() % space);
    memcpy(k, tmp, KEY_LEN);
}

static size_t rss_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    size_t v = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, strlen(field)) == 0)
            v = strtoull(line + strlen(field) + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

/* CPU seconds of the whole process (all threads: RocksDB's flushes and compactions too). */
static double cpu_secs(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* CPU seconds of the calling thread alone (the one that writes). */
static double thread_cpu_secs(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rm_rf(const char *path)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", path);
}

static void die(rill_error_t *err, const char *what)
{
    fprintf(stderr, "store-bench: %s: %s\n", what, err ? rill_error_message(err) : "failed");
    exit(1);
}

/* Kafka Streams' RocksDBStore options (state/internals/RocksDBStore.java). */
static rill_err_t kafka_streams_setter(void *ud, const char *store_name,
                                       rocksdb_options_t *options,
                                       rocksdb_block_based_table_options_t *table,
                                       rill_error_t **error)
{
    static rocksdb_cache_t *cache; /* 50 MiB per store instance in Kafka Streams */
    if (cache == NULL)
        cache = rocksdb_cache_create_lru(50u << 20);
    rocksdb_block_based_options_set_block_cache(table, cache);
    rocksdb_block_based_options_set_block_size(table, 4096);
    rocksdb_block_based_options_set_filter_policy(table, rocksdb_filterpolicy_create_bloom(10));
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 0);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 0);
    rocksdb_block_based_options_set_pin_top_level_index_and_filter(table, 0);
    rocksdb_block_based_options_set_index_type(
        table, rocksdb_block_based_table_index_type_binary_search);
    rocksdb_block_based_options_set_partition_filters(table, 0);
    rocksdb_options_set_max_subcompactions(options, 1);
    rocksdb_options_set_compression_per_level(options, NULL, 0);
    rocksdb_options_set_compaction_style(options, rocksdb_universal_compaction);
    rocksdb_options_set_write_buffer_size(options, 16u << 20);
    rocksdb_options_set_max_write_buffer_number(options, 3);
    rocksdb_options_set_compression(options, rocksdb_no_compression);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(options, 0);
    rocksdb_options_set_memtable_prefix_bloom_size_ratio(options, 0);
    rocksdb_options_increase_parallelism(options, 2);
    return RILL_OK;
}

typedef enum { P_DEFAULTS, P_KAFKA_STREAMS, P_TUNED, P_MEMORY } profile_t;
static const char *profile_names[] = {"rocksdb-defaults", "kafka-streams-options",
                                      "rill-tuned", "memory"};

static rill__rocksdb_shared_t *shared_for(profile_t p)
{
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    if (p == P_DEFAULTS)
        config.use_rocksdb_defaults = true;
    if (p == P_KAFKA_STREAMS)
        config.config_setter = kafka_streams_setter;
    rill_error_t *err = NULL;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, &err);
    if (shared == NULL)
        die(err, "shared");
    return shared;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench_puts(const char *dir, uint64_t records, int rounds)
{
    double rate[4][16], cpu_us[4][16], thread_us[4][16];
    int n[4] = {0};
    char value[VALUE_LEN];
    memset(value, 'v', sizeof value);
    /* keys are made before the clock starts: only the store is measured */
    char *keys = g_malloc((size_t)records * KEY_LEN);
    rng_state = 0x9e3779b97f4a7c15ull;
    for (uint64_t i = 0; i < records; i++)
        make_key(keys + i * KEY_LEN, records * 10);
    rill__kv_entry_t batch[BATCH];
    const char *only = g_getenv("STORE_BENCH_PROFILE");
    for (int run = 0; run < rounds * 4; run++) {
        profile_t p = (profile_t)(run % 4); /* rounds of the four profiles, interleaved */
        if (only && strcmp(only, profile_names[p]) != 0)
            continue;
        g_autofree char *path = g_build_filename(dir, profile_names[p], NULL);
        rm_rf(path);
        rill__rocksdb_shared_t *shared = NULL;
        rill__kv_store_t *store;
        rill_error_t *err = NULL;
        if (p == P_MEMORY) {
            store = rill__kv_memory_new("bench");
        } else {
            shared = shared_for(p);
            store = rill__kv_rocksdb_open(shared, path, "bench", &err);
            if (store == NULL)
                die(err, "open");
        }
        double c0 = cpu_secs(), tc0 = thread_cpu_secs();
        int64_t t0 = rill__clock_mono_us();
        for (uint64_t done = 0; done < records; done += BATCH) {
            for (int i = 0; i < BATCH; i++)
                batch[i] = (rill__kv_entry_t){keys + (done + (uint64_t)i) * KEY_LEN, KEY_LEN,
                                              value, VALUE_LEN, 0};
            if (rill__kv_put_batch(store, batch, BATCH, &err) != RILL_OK)
                die(err, "put batch");
        }
        int64_t t1 = rill__clock_mono_us();
        double tcpu = thread_cpu_secs() - tc0;
        if (rill__kv_flush(store, &err) != RILL_OK)
            die(err, "flush");
        int64_t t2 = rill__clock_mono_us();
        rill__kv_close(store, NULL);
        double cpu = cpu_secs() - c0; /* up to the close: background work included */
        double secs = (double)(t1 - t0) / 1e6;
        printf("puts profile=%s records=%" G_GUINT64_FORMAT " secs=%.2f puts_per_sec=%.0f "
               "flush_secs=%.2f cpu_us_per_put=%.2f (writer thread %.2f)\n",
               profile_names[p], records, secs, (double)records / secs,
               (double)(t2 - t1) / 1e6, cpu * 1e6 / (double)records,
               tcpu * 1e6 / (double)records);
        fflush(stdout);
        rate[p][n[p]] = (double)records / secs;
        cpu_us[p][n[p]] = cpu * 1e6 / (double)records;
        thread_us[p][n[p]] = tcpu * 1e6 / (double)records;
        n[p]++;
        rill__rocksdb_shared_destroy(shared);
        rm_rf(path);
    }
    /* the best rate (least disturbed by other load) and the median CPU cost */
    for (profile_t p = P_DEFAULTS; p <= P_MEMORY; p++) {
        if (n[p] == 0)
            continue;
        qsort(rate[p], (size_t)n[p], sizeof(double), dbl_cmp);
        qsort(cpu_us[p], (size_t)n[p], sizeof(double), dbl_cmp);
        qsort(thread_us[p], (size_t)n[p], sizeof(double), dbl_cmp);
        printf("puts-summary profile=%s rounds=%d best_puts_per_sec=%.0f "
               "median_cpu_us_per_put=%.2f median_writer_thread_us_per_put=%.2f\n",
               profile_names[p], n[p], rate[p][n[p] - 1], cpu_us[p][n[p] / 2],
               thread_us[p][n[p] / 2]);
    }
    g_free(keys);
}

static void bench_restore(const char *dir, uint64_t records)
{
    char value[VALUE_LEN];
    memset(value, 'r', sizeof value);
    g_autofree char *path = g_build_filename(dir, "restore", NULL);
    rm_rf(path);
    rill__rocksdb_shared_t *shared = shared_for(P_TUNED);
    rill_error_t *err = NULL;
    rill__kv_store_t *store = rill__kv_rocksdb_open(shared, path, "restore", &err);
    if (store == NULL)
        die(err, "open");
    /* the changelog's keys are made before the clock starts, as a consumer
     * would hand over records already in memory */
    rng_state = 0x1234567ull;
    char *keys = g_malloc((size_t)records * KEY_LEN);
    for (uint64_t i = 0; i < records; i++)
        make_key(keys + i * KEY_LEN, records * 10);
    double c0 = cpu_secs(), tc0 = thread_cpu_secs();
    int64_t t0 = rill__clock_mono_us();
    rill__restorer_t *r = rill__restorer_new(store, "bench-restore-changelog", 0, 0,
                                             (int64_t)records, 0, NULL, &err);
    if (r == NULL)
        die(err, "restore");
    for (uint64_t off = 0; off < records; off++) {
        value[0] = (char)off;
        if (rill__restorer_add(r, keys + off * KEY_LEN, KEY_LEN, value, VALUE_LEN, (int64_t)off,
                               0, &err))
            die(err, "restore add");
    }
    int64_t t1 = rill__clock_mono_us();
    if (rill__restorer_finish(r, &err))
        die(err, "restore finish");
    int64_t t2 = rill__clock_mono_us();
    double secs = (double)(t2 - t0) / 1e6;
    double cpu = cpu_secs() - c0, tcpu = thread_cpu_secs() - tc0;
    printf("restore records=%" G_GUINT64_FORMAT " secs=%.2f records_per_sec=%.0f "
           "(writes %.2f s + final flush %.2f s) batch=%d cpu_us_per_record=%.2f "
           "(restoring thread %.2f)\n",
           records, secs, (double)records / secs, (double)(t1 - t0) / 1e6,
           (double)(t2 - t1) / 1e6, RILL__RESTORE_BATCH_DEFAULT, cpu * 1e6 / (double)records,
           tcpu * 1e6 / (double)records);
    g_free(keys);
    fflush(stdout);
    rill__restorer_destroy(r);
    rill__kv_close(store, NULL);
    rill__rocksdb_shared_destroy(shared);
    rm_rf(path);
}

static void bench_rss(const char *dir, uint64_t keys)
{
    char value[VALUE_LEN];
    memset(value, 'm', sizeof value);
    g_autofree char *path = g_build_filename(dir, "rss", NULL);
    rm_rf(path);
    size_t base = rss_kib("VmRSS:");
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    rill_error_t *err = NULL;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, &err);
    rill__kv_store_t *store = rill__kv_rocksdb_open(shared, path, "rss", &err);
    if (store == NULL)
        die(err, "open");
    size_t bound = rill__rocksdb_shared_memory_bound(shared, 1);
    char *kbuf = g_malloc((size_t)BATCH * KEY_LEN);
    rill__kv_entry_t batch[BATCH];
    /* distinct keys: a permutation of 0..keys-1 by a multiplicative hash */
    int64_t t0 = rill__clock_mono_us();
    for (uint64_t done = 0; done < keys; done += BATCH) {
        for (int i = 0; i < BATCH; i++) {
            char tmp[32];
            uint64_t id = ((done + (uint64_t)i) * 0x9e3779b97f4a7c15ull) >> 8;
            snprintf(tmp, sizeof tmp, "k%015" G_GUINT64_FORMAT, (uint64_t)(id % 1000000000000000ull));
            memcpy(kbuf + (size_t)i * KEY_LEN, tmp, KEY_LEN);
            batch[i] = (rill__kv_entry_t){kbuf + (size_t)i * KEY_LEN, KEY_LEN, value, VALUE_LEN,
                                          0};
        }
        if (rill__kv_put_batch(store, batch, BATCH, &err))
            die(err, "put");
    }
    if (rill__kv_flush(store, &err))
        die(err, "flush");
    int64_t t1 = rill__clock_mono_us();
    size_t after_load = rss_kib("VmRSS:");
    uint64_t found = 0;
    for (int i = 0; i < 1000000; i++) {
        char tmp[32];
        uint64_t id = ((rng() % keys) * 0x9e3779b97f4a7c15ull) >> 8;
        snprintf(tmp, sizeof tmp, "k%015" G_GUINT64_FORMAT, (uint64_t)(id % 1000000000000000ull));
        GBytes *v = NULL;
        if (rill__kv_get(store, tmp, KEY_LEN, &v, &err))
            die(err, "get");
        if (v) {
            found++;
            g_bytes_unref(v);
        }
    }
    int64_t t2 = rill__clock_mono_us();
    size_t after_reads = rss_kib("VmRSS:");
    size_t peak = rss_kib("VmHWM:");
    printf("rss keys=%" G_GUINT64_FORMAT " load_secs=%.1f gets=1000000 found=%" G_GUINT64_FORMAT
           " get_secs=%.1f baseline_rss_mib=%.0f rss_after_load_mib=%.0f "
           "rss_after_gets_mib=%.0f peak_rss_mib=%.0f bound_mib=%.0f cache_usage_mib=%.0f "
           "data_mib=%.0f\n",
           keys, (double)(t1 - t0) / 1e6, found, (double)(t2 - t1) / 1e6, base / 1024.0,
           after_load / 1024.0, after_reads / 1024.0, peak / 1024.0, bound / 1048576.0,
           rill__rocksdb_shared_cache_usage(shared) / 1048576.0,
           (double)keys * (KEY_LEN + VALUE_LEN) / 1048576.0);
    fflush(stdout);
    g_free(kbuf);
    rill__kv_close(store, NULL);
    rill__rocksdb_shared_destroy(shared);
    rm_rf(path);
}

int main(int argc, char **argv)
{
    const char *what = "all";
    uint64_t records = 2000000, restore_records = 5000000, rss_keys = 10000000;
    int rounds = 3;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            records = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--restore-records") == 0 && i + 1 < argc)
            restore_records = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rss-keys") == 0 && i + 1 < argc)
            rss_keys = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] != '-')
            what = argv[i];
        else {
            fprintf(stderr, "usage: store-bench [puts|restore|rss|all] [--records N] "
                            "[--rounds N] [--restore-records N] [--rss-keys N] [--dir DIR]\n");
            return 2;
        }
    }
    rill__log_init();
    rounds = CLAMP(rounds, 1, 16);
    records = (records + BATCH - 1) / BATCH * BATCH;
    rss_keys = (rss_keys + BATCH - 1) / BATCH * BATCH;
    g_autofree char *tmp = dir ? g_strdup(dir) : g_dir_make_tmp("rill-store-bench-XXXXXX", NULL);
    /* each part in its own process, so that one's memory never shows in another's RSS */
    const char *parts[] = {"puts", "restore", "rss"};
    int rc = 0;
    for (int i = 0; i < 3; i++) {
        if (strcmp(what, "all") != 0 && strcmp(what, parts[i]) != 0)
            continue;
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            if (i == 0)
                bench_puts(tmp, records, rounds);
            else if (i == 1)
                bench_restore(tmp, restore_records);
            else
                bench_rss(tmp, rss_keys);
            fflush(stdout);
            _exit(0);
        }
        int status = 0;
        if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            rc = 1;
    }
    if (dir == NULL)
        rm_rf(tmp);
    return rc;
}
