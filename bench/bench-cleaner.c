/* bench-cleaner: how fast the log cleaner compacts (broker/log/cleaner.c).
 *
 * Writes R records over K keys (16-byte keys, 100-byte values, 100 records a
 * batch) to a fresh log with 8 MiB segments, uncompressed or with one codec,
 * then times rb_log_compact (one full pass: transactions scan, map, rewrite
 * of every sealed segment) and prints the input size, the output size and
 * the rate in MB and records of input per second.
 *
 *   bench/bench-cleaner [records] [keys] [none|gzip|snappy|lz4|zstd] [dir]
 *
 * Results go to docs/benchmarks.md; never run by make check. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/log/batch.h"
#include "broker/log/codec.h"
#include "broker/log/log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long records = argc > 1 ? atol(argv[1]) : 2000000;
    long keys = argc > 2 ? atol(argv[2]) : 100000;
    const char *codec_name = argc > 3 ? argv[3] : "none";
    const char *names[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    int codec = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(codec_name, names[i]) == 0)
            codec = i;
    if (records <= 0 || keys <= 0 || codec < 0) {
        fprintf(stderr, "usage: bench-cleaner [records] [keys] [none|gzip|snappy|lz4|zstd] [dir]\n");
        return 2;
    }
    g_autofree char *dir =
        argc > 4 ? g_strdup(argv[4]) : g_dir_make_tmp("rill-bench-cleaner-XXXXXX", NULL);
    g_autofree char *log_dir = g_build_filename(dir, "t-0", NULL);
    rb_log_config_t config;
    rb_log_config_init(&config);
    config.segment_bytes = 8 << 20;
    config.compact = true;
    config.delete_ = false;
    char *err = NULL;
    rb_log_t *log = rb_log_open(log_dir, &config, &err);
    if (log == NULL) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    GRand *rand = g_rand_new_with_seed(42);
    int64_t ts = 1700000000000;
    char value[100];
    memset(value, 'v', sizeof(value));
    for (long r = 0; r < records; r += 100) {
        rb_batch_builder_t b;
        rb_batch_builder_init(&b, 0);
        for (long i = r; i < r + 100 && i < records; i++) {
            char key[17];
            g_snprintf(key, sizeof(key), "key-%011ld", (long)g_rand_int_range(rand, 0, (gint32)keys));
            g_snprintf(value, sizeof(value), "%ld", i);
            rb_batch_builder_add(&b, ts, key, 16, value, (int32_t)sizeof(value), NULL, 0);
        }
        size_t len;
        uint8_t *batch = rb_batch_builder_finish(&b, &len);
        if (codec != RB_COMPRESSION_NONE) {
            rill_wbuf_t w;
            rill__wbuf_init(&w, len);
            rill__wbuf_put(&w, batch, RB_BATCH_HEADER_SIZE);
            rb__codec_compress((rb_compression_t)codec, batch + RB_BATCH_HEADER_SIZE,
                               len - RB_BATCH_HEADER_SIZE, false, &w);
            g_free(batch);
            batch = rill__wbuf_steal(&w, &len);
            rill__be16_put(batch + RB_BATCH_OFF_ATTRIBUTES, (uint16_t)codec);
            rill__be32_put(batch + RB_BATCH_OFF_LENGTH, (uint32_t)(len - RB_BATCH_LOG_OVERHEAD));
            rb_batch_update_crc(batch, len);
        }
        if (rb_log_append(log, batch, len, ts, NULL) != 0) {
            fprintf(stderr, "append failed\n");
            return 1;
        }
        g_free(batch);
    }
    rb_log_flush(log);
    int64_t before = rb_log_size_bytes(log);
    size_t segs = rb_log_segment_count(log);
    double t0 = now_s();
    int64_t removed = rb_log_compact(log, ts);
    double secs = now_s() - t0;
    int64_t after = rb_log_size_bytes(log);
    printf("bench-cleaner: %ld records over %ld keys, %s, %zu segments: %.1f MB -> %.1f MB "
           "(removed %" PRId64 " bytes) in %.2f s: %.1f MB/s, %.2f M records/s of input\n",
           records, keys, codec_name, segs, (double)before / 1e6, (double)after / 1e6, removed,
           secs, (double)before / 1e6 / secs, (double)records / 1e6 / secs);
    rb_log_delete(log);
    if (argc <= 4)
        g_rmdir(dir);
    g_rand_free(rand);
    return removed < 0;
}
