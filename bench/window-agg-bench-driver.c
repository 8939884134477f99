/* window-agg-bench-driver.c: the windowed count of bench/window-agg-bench run in-process through the test driver, to time what rill itself spends per event (no broker, no librdkafka).
 *
 * Same topology and input as window-agg-bench (groupByKey → 1-minute tumbling
 * windows, grace 5 s → count → suppress until the window closes → decimal),
 * same input shape (N events over K keys "key-<n>", event times spread over M
 * minutes with up to 2 s of disorder, 24-byte values, 8 partitions by murmur2),
 * but piped through rill_driver_t: every record is processed synchronously by
 * its task, the record cache (10 MiB, as the app's default) flushes at each
 * driver commit (every --commit-every events, standing in for
 * commit.interval.ms), and the output and changelog records are captured in
 * memory (and drained as they come, so memory stays bounded). With
 * --state-dir the window stores are RocksDB (as in the app), else in memory.
 *
 * What it prints: events/s over the whole run (pipes + commits, the final
 * commit included), CPU seconds, and how many windows came out. Rounds
 * repeat the run with a fresh driver; the median is the figure to compare
 * between builds (run both builds alternately on the same machine).
 * Not part of make check (timings are not tests). */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <rill/rill.h>

static void die(const char *what, const char *why)
{
    fprintf(stderr, "window-agg-bench-driver: %s: %s\n", what, why);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

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

static rill_topology_t *windowed_count(void)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t raw = {.key_serde = rill_serde_bytes(), .value_serde = rill_serde_bytes()};
    rill_time_windowed_t *windowed = rill_grouped_windowed_by(
        rill_stream_group_by_key(rill_builder_stream(builder, "in", &raw), NULL),
        &(rill_time_windows_t){.size_ms = 60000, .grace_ms = 5000});
    rill_table_t *counts =
        rill_time_windowed_count(windowed, &(rill_materialized_t){.name = "counts"});
    rill_table_t *final = rill_table_suppress_until_window_closes(
        counts, &(rill_suppressed_t){.name = "counts-final"});
    rill_produced_t produced = {.key_serde = rill_serde_windowed_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(rill_stream_map_values(rill_table_to_stream(final, NULL), to_decimal, NULL,
                                          "decimal"),
                   "out", &produced);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology)
        die("topology", rill_error_message(error));
    return topology;
}

/* Reads and frees every captured record of every topic; returns the output records. */
static uint64_t drain(rill_driver_t *driver)
{
    static const char *topics[] = {"out", "rill-bench-counts-changelog",
                                   "rill-bench-counts-final-changelog"};
    uint64_t out = 0;
    for (size_t i = 0; i < sizeof topics / sizeof *topics; i++) {
        rill_record_t *record;
        while ((record = rill_driver_read_output(driver, topics[i], NULL, NULL, NULL))) {
            out += i == 0;
            rill_record_destroy(record);
        }
    }
    return out;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int records = 2000000, keys = 100000, span_minutes = 20, repeat = 3, commit_every = 500000;
    const char *state_dir = NULL;
    static const struct option options[] = {
        {"records", required_argument, NULL, 'n'},
        {"keys", required_argument, NULL, 'k'},
        {"span-minutes", required_argument, NULL, 'm'},
        {"repeat", required_argument, NULL, 'r'},
        {"commit-every", required_argument, NULL, 'c'},
        {"state-dir", required_argument, NULL, 's'},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'n': records = atoi(optarg); break;
        case 'k': keys = atoi(optarg); break;
        case 'm': span_minutes = atoi(optarg); break;
        case 'r': repeat = atoi(optarg); break;
        case 'c': commit_every = atoi(optarg); break;
        case 's': state_dir = optarg; break;
        default:
            fprintf(stderr, "usage: window-agg-bench-driver [--records N] [--keys K] "
                            "[--span-minutes M] [--repeat R] [--commit-every C] "
                            "[--state-dir D]\n");
            return 2;
        }
    }
    if (records <= 0 || keys <= 0 || span_minutes <= 0 || repeat <= 0 || commit_every <= 0)
        die("arguments", "counts must be positive");
    if (repeat > 16)
        repeat = 16;
    rill_topology_t *topology = windowed_count();
    double rates[16];
    for (int round = 0; round < repeat; round++) {
        char dir[256] = "";
        if (state_dir) {
            snprintf(dir, sizeof dir, "%s/round-%d-%d", state_dir, (int)getpid(), round);
        }
        rill_driver_config_t config = {.application_id = "rill-bench",
                                       .partitions = 8,
                                       .cache_max_bytes = 10u << 20,
                                       .state_dir = state_dir ? dir : NULL};
        rill_error_t *error = NULL;
        rill_driver_t *driver = rill_driver_new(topology, &config, &error);
        if (!driver)
            die("driver", rill_error_message(error));
        const int64_t span_ms = (int64_t)span_minutes * 60000, t0 = 1700000000000;
        uint64_t x = 88172645463325252ULL, emitted = 0;
        double wall = now_s(), cpu = cpu_s();
        for (int i = 0; i < records; i++) {
            x ^= x << 13; /* xorshift64: the same input every round and build */
            x ^= x >> 7;
            x ^= x << 17;
            char key[24];
            int klen = snprintf(key, sizeof key, "key-%d", (int)(x % (uint64_t)keys));
            int64_t ts = t0 + (int64_t)i * span_ms / records - (int64_t)((x >> 20) % 2000);
            rill_driver_input_t input = {.key = key, .key_len = (size_t)klen,
                                         .value = "value-value-value-value!", .value_len = 24,
                                         .timestamp = ts, .partition = -1};
            if (rill_driver_pipe(driver, "in", &input, &error))
                die("pipe", rill_error_message(error));
            if ((i + 1) % commit_every == 0) {
                if (rill_driver_commit(driver, &error))
                    die("commit", rill_error_message(error));
                emitted += drain(driver);
            }
        }
        if (rill_driver_commit(driver, &error))
            die("commit", rill_error_message(error));
        emitted += drain(driver);
        wall = now_s() - wall;
        cpu = cpu_s() - cpu;
        rates[round] = records / wall;
        printf("round %d: %.0f events/s (%.2f s wall, %.2f s CPU), %" PRIu64
               " windows emitted\n",
               round + 1, rates[round], wall, cpu, emitted);
        fflush(stdout);
        rill_driver_destroy(driver);
    }
    qsort(rates, (size_t)repeat, sizeof(double), cmp_double);
    printf("median: %.0f events/s\n", rates[repeat / 2]);
    rill_topology_destroy(topology);
    return 0;
}
