/* bench-txn.c: what broker/txn/ adds to the broker's hot paths: the producer
 * state check + update per produced batch, the LSO and aborted-list lookups
 * per read_committed fetch, snapshot/rebuild time, and whole transactions
 * through the coordinator (with and without fsync of the transaction log).
 *
 *   bench-txn [dir]      (dir: where files go; default a temp dir, removed)
 *
 * Batches are real record batches v2 (10 records); each is checked and
 * applied exactly as a Produce handler would (rb_pstate_check, then the
 * append -- here only the base offset is written into the bytes -- then
 * rb_pstate_appended). Best of 3 rounds for the in-memory measurements. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "broker/txn/coordinator.h"
#include "broker/txn/marker.h"
#include "broker/txn/pstate.h"
#include "common/buf.h"
#include "common/clock.h"

static double now_s(void)
{
    return (double)rill__clock_mono_us() / 1e6;
}

/* A 10-record batch template whose producer fields are patched per use. */
static uint8_t *template_batch(size_t *len, bool transactional)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    b.producer_id = 0;
    b.producer_epoch = 0;
    b.base_sequence = 0;
    b.attributes = transactional ? RB_BATCH_ATTR_TRANSACTIONAL : 0;
    char value[100];
    memset(value, 'v', sizeof(value));
    for (int i = 0; i < 10; i++)
        rb_batch_builder_add(&b, 1700000000000 + i, "k", 1, value, sizeof(value), NULL, 0);
    return rb_batch_builder_finish(&b, len);
}

static void patch(uint8_t *batch, int64_t base_offset, int64_t producer_id, int32_t seq)
{
    rill__be64_put(batch, (uint64_t)base_offset);
    rill__be64_put(batch + 43, (uint64_t)producer_id);
    rill__be32_put(batch + 53, (uint32_t)seq);
}

/* Produces nbatches round-robin over nproducers; returns ns per batch. */
static double bench_produce_path(int nproducers, int nbatches)
{
    double best = 1e30;
    size_t len;
    g_autofree uint8_t *batch = template_batch(&len, false);
    for (int round = 0; round < 3; round++) {
        rb_pstate_t *ps = rb_pstate_new(NULL, NULL);
        int32_t *seqs = g_new0(int32_t, nproducers);
        int64_t offset = 0;
        double t0 = now_s();
        for (int i = 0; i < nbatches; i++) {
            int p = i % nproducers;
            patch(batch, 0, 1000 + p, seqs[p]);
            rb_pstate_dup_t dup;
            if (rb_pstate_check(ps, batch, len, RB_PSTATE_CLIENT, &dup) != 0 || dup.duplicate)
                abort();
            rill__be64_put(batch, (uint64_t)offset); /* what rb_log_append does */
            rb_pstate_appended(ps, batch, len);
            offset += 10;
            seqs[p] += 10;
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
        g_free(seqs);
        rb_pstate_free(ps);
    }
    return best * 1e9 / nbatches;
}

/* A partition with nopen open transactions and naborted aborted ones. */
static rb_pstate_t *make_txn_partition(int nopen, int naborted, int64_t *end)
{
    rb_pstate_t *ps = rb_pstate_new(NULL, NULL);
    size_t len;
    g_autofree uint8_t *batch = template_batch(&len, true);
    rill_wbuf_t w;
    rill__wbuf_init(&w, 128);
    int64_t offset = 0;
    for (int i = 0; i < naborted + nopen; i++) {
        patch(batch, offset, 5000 + i, 0);
        rb_pstate_appended(ps, batch, len);
        offset += 10;
        if (i < naborted) {
            rill__wbuf_reset(&w);
            rb_txn_marker_build(&w, 5000 + i, 0, 0, false, 1);
            rill__be64_put(w.data, (uint64_t)offset);
            rb_pstate_appended(ps, w.data, w.len);
            offset += 1;
        }
    }
    rill__wbuf_free(&w);
    *end = offset;
    return ps;
}

static int64_t hook_marker_count;

static rb_kerr_t hook_marker(void *ctx, const char *topic, int32_t partition, uint8_t *batch,
                             size_t len)
{
    rb_pstate_t **parts = ctx;
    (void)topic;
    rb_pstate_t *ps = parts[partition];
    if (rb_pstate_check(ps, batch, len, RB_PSTATE_COORDINATOR, NULL) != 0)
        abort();
    rb_pstate_appended(ps, batch, len);
    hook_marker_count++;
    return 0;
}

/* init once, then ntxn x (add 4 partitions, commit). Returns txns/s. */
static double bench_coordinator(const char *dir, bool fsync, int ntxn)
{
    rb_pstate_t *parts[4];
    for (int i = 0; i < 4; i++)
        parts[i] = rb_pstate_new(NULL, NULL);
    rb_txn_config_t config;
    rb_txn_config_defaults(&config);
    config.fsync = fsync;
    rb_txn_hooks_t hooks = {.ctx = parts, .write_marker = hook_marker};
    char *err = NULL;
    rb_txn_coord_t *coord = rb_txn_open(dir, &config, &hooks, &err);
    if (coord == NULL) {
        fprintf(stderr, "rb_txn_open: %s\n", err);
        exit(1);
    }
    int64_t pid;
    int16_t epoch;
    if (rb_txn_init_producer_id(coord, fsync ? "bench-fsync" : "bench", 60000, -1, -1, &pid,
                                &epoch) != 0)
        abort();
    rb_txn_partition_t tps[4] = {{"t", 0}, {"t", 1}, {"t", 2}, {"t", 3}};
    double t0 = now_s();
    for (int i = 0; i < ntxn; i++) {
        if (rb_txn_add_partitions(coord, fsync ? "bench-fsync" : "bench", pid, epoch, tps, 4) !=
                0 ||
            rb_txn_end(coord, fsync ? "bench-fsync" : "bench", pid, epoch, true) != 0)
            abort();
    }
    double dt = now_s() - t0;
    rb_txn_close(coord);
    for (int i = 0; i < 4; i++)
        rb_pstate_free(parts[i]);
    return ntxn / dt;
}

static void rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d == NULL)
        return;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(path, name, NULL);
        if (g_file_test(p, G_FILE_TEST_IS_DIR))
            rm_rf(p);
        else
            unlink(p);
    }
    g_dir_close(d);
    rmdir(path);
}

int main(int argc, char **argv)
{
    g_autofree char *dir = argc > 1 ? g_strdup(argv[1]) : g_dir_make_tmp("bench-txn-XXXXXX", NULL);
    bool own_dir = argc <= 1;
    g_mkdir_with_parents(dir, 0755);

    printf("produce path (check + update per 10-record batch):\n");
    int counts[] = {1, 100, 10000, 100000};
    for (size_t i = 0; i < G_N_ELEMENTS(counts); i++)
        printf("  producers=%-6d  %.0f ns/batch\n", counts[i],
               bench_produce_path(counts[i], 2000000));

    printf("read_committed lookups:\n");
    int64_t end;
    rb_pstate_t *ps = make_txn_partition(100, 100000, &end);
    GArray *out = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    int n = 200000;
    double t0 = now_s();
    int64_t sink = 0;
    for (int i = 0; i < n; i++)
        sink += rb_pstate_lso(ps, end);
    printf("  lso (100 open txns)                        %.0f ns\n", (now_s() - t0) * 1e9 / n);
    t0 = now_s();
    int64_t hits = 0;
    for (int i = 0; i < n; i++) {
        g_array_set_size(out, 0);
        int64_t from = (int64_t)(i % 90000) * 11;
        hits += (int64_t)rb_pstate_aborted_txns(ps, from, from + 1000, out);
    }
    printf("  aborted list (100000 entries, 1000-offset fetch, %.0f hits) %.0f ns\n",
           (double)hits / n, (now_s() - t0) * 1e9 / n);
    g_array_free(out, TRUE);
    rb_pstate_free(ps);

    printf("snapshot / rebuild (100000 producers x 5 batches):\n");
    g_autofree char *psdir = g_build_filename(dir, "pstate", NULL);
    ps = rb_pstate_new(psdir, NULL);
    int64_t from;
    char *err = NULL;
    if (!rb_pstate_load(ps, 0, 0, &from, &err))
        abort();
    size_t len;
    g_autofree uint8_t *batch = template_batch(&len, false);
    int64_t offset = 0;
    for (int r = 0; r < 5; r++)
        for (int p = 0; p < 100000; p++) {
            patch(batch, offset, p, r * 10);
            rb_pstate_appended(ps, batch, len);
            offset += 10;
        }
    t0 = now_s();
    if (!rb_pstate_snapshot(ps, offset, &err))
        abort();
    printf("  snapshot write (with fsync)  %.1f ms\n", (now_s() - t0) * 1e3);
    rb_pstate_free(ps);
    ps = rb_pstate_new(psdir, NULL);
    t0 = now_s();
    if (!rb_pstate_load(ps, 0, offset, &from, &err) || from != offset)
        abort();
    printf("  snapshot load                %.1f ms (%zu producers)\n", (now_s() - t0) * 1e3,
           rb_pstate_producer_count(ps));
    rb_pstate_free(ps);

    printf("coordinator (add 4 partitions + commit, markers applied in memory):\n");
    g_autofree char *cdir = g_build_filename(dir, "txn", NULL);
    printf("  fsync=false  %.0f txn/s\n", bench_coordinator(cdir, false, 20000));
    printf("  fsync=true   %.0f txn/s\n", bench_coordinator(cdir, true, 300));
    printf("  (markers written: %lld)\n\n", (long long)hook_marker_count);
    if (sink == 42)
        printf(" \n");
    if (own_dir)
        rm_rf(dir);
    return 0;
}
