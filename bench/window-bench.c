/* window-bench.c: throughput of window stores: puts/s and fetches/s, RocksDB segments vs memory segments.
 *
 * The workload is a tumbling-window count over a stream: record i has event
 * time i * --step-ms (default 1 ms) and key "user-<n>" over --keys keys
 * (default 10,000, drawn pseudo-randomly); each record puts an 8-byte count
 * into window (key, start) with 60 s windows, 5 min retention (size + grace)
 * and the default segment interval (150 s), so segments roll and expire
 * while the puts run, as in a long-lived app. Then, on the final store:
 *   fetch     point fetches of (random key, one of the 5 live windows)
 *   range     fetch_range(random key, the last 5 windows): ≤ 5 windows each
 * Each backend runs --rounds times (default 3, interleaved) in a fresh
 * directory; the best and median rates are reported, with the process CPU
 * time per operation (RocksDB's background threads included), which other
 * load on a shared machine disturbs less than wall-clock rates.
 * Usage: window-bench [--records N] [--keys N] [--fetches N] [--rounds N] [--dir DIR] */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "common/buf.h"
#include "common/clock.h"
#include "common/log.h"
#include "stores/kv-rocksdb.h"
#include "stores/segments.h"
#include "stores/window.h"

#define WINDOW_MS 60000
#define RETENTION_MS 300000

typedef struct result {
    double puts, fetches, ranges;          /* per wall-clock second */
    double puts_cpu, fetches_cpu, ranges_cpu; /* process CPU ns per operation */
    uint64_t found;
    unsigned segments;
} result_t;

/* Process CPU time (all threads: RocksDB's flushes and compactions count), ns. */
static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, rill_error_t *error)
{
    fprintf(stderr, "window-bench: %s: %s\n", what, error ? rill_error_message(error) : "failed");
    exit(1);
}

static result_t run(const char *dir, bool rocksdb, uint64_t records, uint32_t keys,
                    uint64_t fetches, int64_t step)
{
    rill_error_t *error = NULL;
    rill__rocksdb_shared_t *shared = NULL;
    if (rocksdb) {
        rill__rocksdb_config_t rc;
        rill__rocksdb_config_default(&rc);
        shared = rill__rocksdb_shared_new(&rc, &error);
        if (shared == NULL)
            die("rocksdb", error);
    }
    g_autofree char *path = g_build_filename(dir, rocksdb ? "rocksdb" : "memory", NULL);
    rill__window_store_config_t c = {.name = "counts",
                                     .window_size_ms = WINDOW_MS,
                                     .retention_ms = RETENTION_MS,
                                     .rocksdb = shared,
                                     .path = path};
    rill__window_store_t *ws = rill__window_store_open(&c, &error);
    if (ws == NULL)
        die("open", error);
    GRand *rand = g_rand_new_with_seed(1);
    char key[32];
    uint8_t value[8];
    result_t r = {0};

    int64_t t0 = rill__clock_mono_us(), c0 = cpu_ns();
    for (uint64_t i = 0; i < records; i++) {
        int64_t t = (int64_t)i * step;
        int n = g_snprintf(key, sizeof key, "user-%u", g_rand_int_range(rand, 0, (gint32)keys));
        rill__be64_put(value, i);
        if (rill__window_put(ws, key, (size_t)n, t - t % WINDOW_MS, value, 8, t, &error))
            die("put", error);
    }
    if (rill__window_store_flush(ws, &error))
        die("flush", error);
    r.puts = (double)records / ((double)(rill__clock_mono_us() - t0) / 1e6);
    r.puts_cpu = (double)(cpu_ns() - c0) / (double)records;
    int64_t last = ((int64_t)(records - 1) * step);
    last -= last % WINDOW_MS;

    t0 = rill__clock_mono_us(), c0 = cpu_ns();
    for (uint64_t i = 0; i < fetches; i++) {
        int n = g_snprintf(key, sizeof key, "user-%u", g_rand_int_range(rand, 0, (gint32)keys));
        int64_t start = last - WINDOW_MS * g_rand_int_range(rand, 0, 5);
        GBytes *v = NULL;
        if (rill__window_fetch(ws, key, (size_t)n, start, &v, &error))
            die("fetch", error);
        if (v) {
            r.found++;
            g_bytes_unref(v);
        }
    }
    r.fetches = (double)fetches / ((double)(rill__clock_mono_us() - t0) / 1e6);
    r.fetches_cpu = (double)(cpu_ns() - c0) / (double)fetches;

    t0 = rill__clock_mono_us(), c0 = cpu_ns();
    for (uint64_t i = 0; i < fetches; i++) {
        int n = g_snprintf(key, sizeof key, "user-%u", g_rand_int_range(rand, 0, (gint32)keys));
        rill__window_iter_t *it =
            rill__window_fetch_range(ws, key, (size_t)n, last - 4 * WINDOW_MS, last, &error);
        if (it == NULL)
            die("fetch_range", error);
        const void *k, *v;
        size_t kl, vl;
        int64_t start;
        while (rill__window_iter_next(it, &k, &kl, &start, &v, &vl))
            r.found++;
        rill__window_iter_destroy(it);
    }
    r.ranges = (double)fetches / ((double)(rill__clock_mono_us() - t0) / 1e6);
    r.ranges_cpu = (double)(cpu_ns() - c0) / (double)fetches;
    GArray *segs = rill__segments_list(rill__window_store_segments(ws));
    r.segments = segs->len;
    g_array_unref(segs);
    g_rand_free(rand);
    if (rill__window_store_close(ws, &error))
        die("close", error);
    rill__rocksdb_shared_destroy(shared);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", path);
    if (system(cmd) != 0)
        fprintf(stderr, "window-bench: could not remove %s\n", path);
    return r;
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *name, double *v, double *cpu, int n)
{
    qsort(v, (size_t)n, sizeof *v, dcmp);
    qsort(cpu, (size_t)n, sizeof *cpu, dcmp);
    printf("  %-8s best %10.0f /s  median %10.0f /s  CPU per op: median %7.0f ns, best %7.0f ns\n",
           name, v[n - 1], v[n / 2], cpu[n / 2], cpu[0]);
}

int main(int argc, char **argv)
{
    uint64_t records = 2000000, fetches = 200000;
    uint32_t keys = 10000;
    int rounds = 3;
    int64_t step = 1;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
            records = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc)
            keys = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--fetches") == 0 && i + 1 < argc)
            fetches = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
            rounds = atoi(argv[++i]);
        else if (strcmp(argv[i], "--step-ms") == 0 && i + 1 < argc)
            step = strtoll(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else {
            fprintf(stderr, "usage: window-bench [--records N] [--keys N] [--fetches N] "
                            "[--rounds N] [--step-ms N] [--dir DIR]\n");
            return 2;
        }
    }
    rill__log_init();
    rounds = CLAMP(rounds, 1, 16);
    if (records == 0 || keys == 0 || step <= 0) {
        fprintf(stderr, "window-bench: records, keys and step must be > 0\n");
        return 2;
    }
    g_autofree char *tmp = dir ? g_strdup(dir) : g_dir_make_tmp("rill-window-bench-XXXXXX", NULL);
    printf("window-bench: %" G_GUINT64_FORMAT " puts over %u keys, event time step %" G_GINT64_FORMAT
           " ms, 60 s windows, retention 5 min (segment interval 150 s), %" G_GUINT64_FORMAT
           " fetches, %d rounds\n",
           records, keys, step, fetches, rounds);
    double puts[2][16], fe[2][16], ra[2][16], puts_c[2][16], fe_c[2][16], ra_c[2][16];
    unsigned segments[2] = {0};
    for (int round = 0; round < rounds; round++) {
        for (int b = 0; b < 2; b++) {
            result_t r = run(tmp, b == 1, records, keys, fetches, step);
            puts[b][round] = r.puts;
            fe[b][round] = r.fetches;
            ra[b][round] = r.ranges;
            puts_c[b][round] = r.puts_cpu;
            fe_c[b][round] = r.fetches_cpu;
            ra_c[b][round] = r.ranges_cpu;
            segments[b] = r.segments;
            printf("round %d %-7s puts %10.0f/s  fetches %10.0f/s  ranges %10.0f/s  (%u live "
                   "segments, %" G_GUINT64_FORMAT " found)\n",
                   round + 1, b ? "rocksdb" : "memory", r.puts, r.fetches, r.ranges, r.segments,
                   r.found);
            fflush(stdout);
        }
    }
    for (int b = 0; b < 2; b++) {
        printf("%s (%u live segments at the end):\n", b ? "rocksdb" : "memory", segments[b]);
        report("puts", puts[b], puts_c[b], rounds);
        report("fetches", fe[b], fe_c[b], rounds);
        report("ranges", ra[b], ra_c[b], rounds);
    }
    if (dir == NULL)
        g_rmdir(tmp);
    return 0;
}
