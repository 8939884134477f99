/* global-bench.c: the cost of a stream–global-table join against the
 * stream–table join (enrich), through the test driver (no broker).
 *
 * Workload: --products rows (key "p<n>", a 40-byte value) loaded first, then
 * --orders records whose value names a product drawn pseudo-randomly; each
 * is joined and written to "out" (drained every 10,000 records so that the
 * driver's capture stays small). Variants:
 *   global        rill_stream_join_global: key extractor (the order's value)
 *                 + a lookup in the instance's global store under its read lock
 *   table         rill_stream_join_table on a co-partitioned rill_builder_table
 *                 (the order's key is the product id): the task's store, through
 *                 its record cache (caching off here, as in the driver default)
 * each with RocksDB (a state directory) and in-memory stores. The load phase
 * is the global store's apply path (one put per record, under the write lock)
 * vs the table's (change-logging + cache + RocksDB). Each variant runs
 * --rounds times (interleaved); best and median are reported, with process
 * CPU ns per record.
 * Usage: global-bench [--products N] [--orders N] [--rounds N] [--partitions N] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include <rill/rill.h>

typedef struct result {
    double load_rate, join_rate; /* records per wall-clock second */
    double load_cpu, join_cpu;   /* process CPU ns per record */
    uint64_t joined;
} result_t;

static int64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what, rill_error_t *error)
{
    fprintf(stderr, "global-bench: %s: %s\n", what, error ? rill_error_message(error) : "failed");
    exit(1);
}

static rill_err_t value_is_key(const rill_record_t *record, rill_value_t *out, void *ud,
                               rill_error_t **error)
{
    (void)ud;
    (void)error;
    size_t len = 0;
    const void *data = rill_value_bytes(rill_record_value(record), &len);
    rill_value_set_bytes(out, data != NULL ? data : "", len, NULL); /* borrowed for the call */
    return RILL_OK;
}

static rill_err_t keep_table_value(const rill_record_t *record, const rill_value_t *row,
                                   rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)record;
    (void)ud;
    (void)error;
    size_t len = 0;
    const void *data = rill_value_bytes(row, &len);
    rill_value_set_bytes(out, data != NULL ? data : "", len, NULL);
    return RILL_OK;
}

static rill_topology_t *topology_of(bool global, bool in_memory)
{
    rill_builder_t *builder = rill_builder_new();
    rill_materialized_t materialized = {.name = "products", .in_memory = in_memory};
    rill_stream_t *orders = rill_builder_stream(builder, "orders", NULL);
    rill_stream_t *joined;
    if (global) {
        rill_global_table_t *products =
            rill_builder_global_table(builder, "products", NULL, &materialized);
        joined =
            rill_stream_join_global(orders, products, value_is_key, keep_table_value, NULL, "join");
    } else {
        rill_table_t *products = rill_builder_table(builder, "products", NULL, &materialized);
        joined = rill_stream_join_table(orders, products, keep_table_value, NULL, "join");
    }
    rill_stream_to(joined, "out", NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    if (topology == NULL)
        die("build", error);
    rill_builder_destroy(builder);
    return topology;
}

static uint64_t drain(rill_driver_t *driver)
{
    uint64_t n = 0;
    rill_record_t *record;
    while ((record = rill_driver_read_output(driver, "out", NULL, NULL, NULL)) != NULL) {
        rill_record_destroy(record);
        n++;
    }
    return n;
}

static result_t run(bool global, bool in_memory, int32_t partitions, uint32_t products,
                    uint64_t orders)
{
    g_autofree char *dir = in_memory ? NULL : g_dir_make_tmp("global-bench-XXXXXX", NULL);
    rill_topology_t *topology = topology_of(global, in_memory);
    rill_driver_config_t config = {.partitions = partitions, .state_dir = dir};
    rill_error_t *error = NULL;
    rill_driver_t *driver = rill_driver_new(topology, &config, &error);
    if (driver == NULL)
        die("driver", error);
    char key[32], value[64];
    memset(value, 'v', 40);
    result_t result = {0};
    int64_t wall = g_get_monotonic_time(), cpu = cpu_ns();
    for (uint32_t i = 0; i < products; i++) {
        int n = snprintf(key, sizeof key, "p%u", i);
        if (rill_driver_pipe_bytes(driver, "products", key, (size_t)n, value, 40, i, &error))
            die("pipe products", error);
    }
    drain(driver); /* a table's changelog is captured too, not "out" */
    result.load_rate = products / ((g_get_monotonic_time() - wall) / 1e6);
    result.load_cpu = (double)(cpu_ns() - cpu) / products;
    uint32_t seed = 12345;
    wall = g_get_monotonic_time();
    cpu = cpu_ns();
    for (uint64_t i = 0; i < orders; i++) {
        seed = seed * 1103515245u + 12345u;
        int n = snprintf(key, sizeof key, "p%u", (seed >> 8) % products);
        /* global: any order key, the value names the product; table: keyed by it */
        char order[32];
        int m = snprintf(order, sizeof order, "o%llu", (unsigned long long)i);
        if (rill_driver_pipe_bytes(driver, "orders", global ? order : key,
                                   global ? (size_t)m : (size_t)n, key, (size_t)n, i, &error))
            die("pipe orders", error);
        if (i % 10000 == 9999)
            result.joined += drain(driver);
    }
    result.joined += drain(driver);
    result.join_rate = orders / ((g_get_monotonic_time() - wall) / 1e6);
    result.join_cpu = (double)(cpu_ns() - cpu) / orders;
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
    if (dir != NULL) {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "global-bench: could not remove %s\n", dir);
    }
    if (result.joined != orders) {
        fprintf(stderr, "global-bench: %llu of %llu orders joined\n",
                (unsigned long long)result.joined, (unsigned long long)orders);
        exit(1);
    }
    return result;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    uint32_t products = 100000;
    uint64_t orders = 500000;
    int rounds = 3;
    int32_t partitions = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--products") == 0)
            products = (uint32_t)strtoul(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--orders") == 0)
            orders = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--rounds") == 0)
            rounds = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--partitions") == 0)
            partitions = atoi(argv[i + 1]);
    }
    if (products == 0 || orders == 0 || rounds <= 0 || partitions <= 0) {
        fprintf(stderr, "usage: global-bench [--products N] [--orders N] [--rounds N] "
                        "[--partitions N]\n");
        return 2;
    }
    static const struct {
        const char *name;
        bool global, in_memory;
    } variants[] = {{"global  rocksdb", true, false},
                    {"table   rocksdb", false, false},
                    {"global  memory ", true, true},
                    {"table   memory ", false, true}};
    enum { V = 4 };
    double join[V][64], load[V][64], join_cpu[V][64], load_cpu[V][64];
    if (rounds > 64)
        rounds = 64;
    for (int r = 0; r < rounds; r++)
        for (int v = 0; v < V; v++) {
            result_t res =
                run(variants[v].global, variants[v].in_memory, partitions, products, orders);
            join[v][r] = res.join_rate;
            load[v][r] = res.load_rate;
            join_cpu[v][r] = res.join_cpu;
            load_cpu[v][r] = res.load_cpu;
        }
    printf("global-bench: %u products, %llu orders, %d partitions, %d rounds (best / median)\n",
           products, (unsigned long long)orders, partitions, rounds);
    printf("variant           join rec/s           join CPU ns/rec   load rec/s           load CPU "
           "ns/rec\n");
    for (int v = 0; v < V; v++) {
        qsort(join[v], (size_t)rounds, sizeof(double), cmp_double);
        qsort(load[v], (size_t)rounds, sizeof(double), cmp_double);
        qsort(join_cpu[v], (size_t)rounds, sizeof(double), cmp_double);
        qsort(load_cpu[v], (size_t)rounds, sizeof(double), cmp_double);
        printf("%s   %9.0f / %9.0f  %7.0f / %7.0f  %9.0f / %9.0f  %7.0f / %7.0f\n",
               variants[v].name, join[v][rounds - 1], join[v][rounds / 2], join_cpu[v][0],
               join_cpu[v][rounds / 2], load[v][rounds - 1], load[v][rounds / 2], load_cpu[v][0],
               load_cpu[v][rounds / 2]);
    }
    return 0;
}
