/* bench-log.c: throughput of the partition log (broker/log/) against a raw
 * pwrite loop of the same bytes, and the cost of fetch reads.
 *
 *   bench-log [records-per-batch] [total-records] [dir]
 *
 * Appends total-records 100-byte records in batches of records-per-batch
 * (each batch copied from a template first, as a produce request's bytes
 * would arrive), alternating with plain pwrite() of the same batches to one
 * file, best of 3 rounds each (the page cache's writeback makes single runs
 * noisy). Then reads everything back with 1 MiB fetches, then runs a tailing
 * consumer (append one batch, fetch it). No fsync in either (the log's
 * default flush policy). */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "common/clock.h"

static uint8_t *template_batch(int n, size_t *len)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    char value[100];
    memset(value, 'v', sizeof(value));
    for (int i = 0; i < n; i++) {
        char key[16];
        int kl = g_snprintf(key, sizeof(key), "key-%06d", i);
        rb_batch_builder_add(&b, 1700000000000 + i, key, kl, value, sizeof(value), NULL, 0);
    }
    return rb_batch_builder_finish(&b, len);
}

static void rm_rf(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d == NULL)
        return;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        unlink(p);
    }
    g_dir_close(d);
    rmdir(dir);
}

static double now_s(void)
{
    return (double)rill__clock_mono_us() / 1e6;
}

int main(int argc, char **argv)
{
    int per_batch = argc > 1 ? atoi(argv[1]) : 1000;
    int64_t total = argc > 2 ? g_ascii_strtoll(argv[2], NULL, 10) : 5000000;
    const char *parent = argc > 3 ? argv[3] : g_get_tmp_dir();
    if (per_batch <= 0 || total < per_batch) {
        fprintf(stderr, "usage: bench-log [records-per-batch] [total-records] [dir]\n");
        return 2;
    }
    g_autofree char *dir = g_build_filename(parent, "rill-bench-log-XXXXXX", NULL);
    if (g_mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    g_autofree char *logdir = g_build_filename(dir, "t-0", NULL);
    g_autofree char *rawfile = g_build_filename(dir, "raw", NULL);

    size_t len;
    g_autofree uint8_t *tmpl = template_batch(per_batch, &len);
    g_autofree uint8_t *batch = g_malloc(len);
    int64_t batches = total / per_batch;
    double mb = (double)batches * (double)len / 1e6;

    rb_log_config_t config;
    rb_log_config_init(&config);
    config.segment_ms = -1;
    double raw_s = 1e9, log_s = 1e9;
    rb_log_t *log = NULL;
    for (int round = 0; round < 3; round++) {
        int fd = open(rawfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        double t0 = now_s();
        for (int64_t i = 0; i < batches; i++) {
            memcpy(batch, tmpl, len);
            if (pwrite(fd, batch, len, (off_t)(i * (int64_t)len)) != (ssize_t)len) {
                perror("pwrite");
                return 1;
            }
        }
        double s = now_s() - t0;
        raw_s = s < raw_s ? s : raw_s;
        close(fd);
        unlink(rawfile);

        if (log != NULL)
            rb_log_delete(log);
        char *err = NULL;
        log = rb_log_open(logdir, &config, &err);
        if (log == NULL) {
            fprintf(stderr, "open: %s\n", err);
            return 1;
        }
        t0 = now_s();
        for (int64_t i = 0; i < batches; i++) {
            memcpy(batch, tmpl, len);
            if (rb_log_append(log, batch, len, 1700000000000, NULL) != 0) {
                fprintf(stderr, "append failed\n");
                return 1;
            }
        }
        s = now_s() - t0;
        log_s = s < log_s ? s : log_s;
    }

    /* the log's own CPU work per batch: validation (CRC + record walk) */
    int64_t vn = batches < 20000 ? 20000 : batches;
    double t_v = now_s();
    for (int64_t i = 0; i < vn; i++)
        if (rb_batch_validate(tmpl, len, NULL) != 0)
            return 1;
    double validate_s = now_s() - t_v;
    /* of which the CRC-32C of the batch */
    uint32_t crc_sink = 0;
    double t_c = now_s();
    for (int64_t i = 0; i < vn; i++)
        crc_sink += rb_batch_compute_crc(tmpl, len);
    double crc_s = now_s() - t_c;

    /* sequential fetches of 1 MiB; the next offset comes from the last
     * batch's header (a pread the consumer's side would not need) */
    int64_t end = rb_log_end_offset(log), off = 0, reads = 0;
    uint8_t hdr[RB_BATCH_HEADER_SIZE];
    double t0 = now_s();
    while (off < end) {
        rb_log_slice_t slice;
        if (rb_log_read(log, off, end, 1 << 20, &slice) != 0 || slice.len == 0) {
            fprintf(stderr, "read failed at %" PRId64 "\n", off);
            return 1;
        }
        off_t p = slice.pos + (off_t)slice.len - (off_t)len;
        if (pread(slice.fd, hdr, sizeof(hdr), p) != (ssize_t)sizeof(hdr))
            return 1;
        off = rb_batch_next_offset(hdr);
        reads++;
    }
    double fetch_s = now_s() - t0;

    /* tailing consumer: append one batch, fetch from the previous end
     * (about 100 MB more, so that writeback does not dominate) */
    int64_t tail_n = (int64_t)(100e6 / (double)len);
    double tail_read_s = 0;
    t0 = now_s();
    for (int64_t i = 0; i < tail_n; i++) {
        int64_t at = rb_log_end_offset(log);
        memcpy(batch, tmpl, len);
        rb_log_slice_t slice;
        if (rb_log_append(log, batch, len, 1700000000000, NULL) != 0)
            return 1;
        double r0 = now_s();
        if (rb_log_read(log, at, at + per_batch, 1 << 20, &slice) != 0 || slice.len != len)
            return 1;
        tail_read_s += now_s() - r0;
    }
    double tail_s = now_s() - t0;

    rb_log_delete(log);
    rm_rf(dir);

    double recs = (double)batches * per_batch;
    printf("records/batch=%d batches=%" PRId64 " batch_bytes=%zu total=%.0f MB\n", per_batch,
           batches, len, mb);
    printf("raw pwrite:    %6.2f M records/s %6.0f MB/s\n", recs / raw_s / 1e6, mb / raw_s);
    printf("rb_log_append: %6.2f M records/s %6.0f MB/s (%.2fx of raw)\n", recs / log_s / 1e6,
           mb / log_s, raw_s / log_s);
    printf("validate only: %6.2f M records/s (%.1f us per batch)\n",
           (double)vn * per_batch / validate_s / 1e6, validate_s * 1e6 / (double)vn);
    printf("  of which CRC: %.1f us per batch (%.2f GB/s, sink %08x)\n",
           crc_s * 1e6 / (double)vn, (double)vn * (double)len / crc_s / 1e9, crc_sink);
    printf("rb_log_read:   %.1f us per 1 MiB fetch (%" PRId64 " fetches)\n",
           fetch_s * 1e6 / (double)reads, reads);
    printf("tail:          %.1f us per append+read, of which read %.2f us\n",
           tail_s * 1e6 / (double)tail_n, tail_read_s * 1e6 / (double)tail_n);
    return 0;
}
