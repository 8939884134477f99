/* fuzz-batch-main.c: runs the batch fuzz target (fuzz-batch.c) without
 * libFuzzer, so that `make check` exercises it with any compiler: every file
 * named on the command line (a corpus), then built-in seed batches and a
 * fixed number of deterministic mutations of them (bit flips, byte sets,
 * truncations, extensions, varint runs, header fields edited under a fixed-up
 * CRC so that the parser gets past the checksum). A crash or sanitizer report
 * fails the test; the run is bounded and repeatable ($RILL_FUZZ_ITERATIONS,
 * default 50000; seed $RILL_FUZZ_SEED). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "common/crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void add_seed(GPtrArray *seeds, rb_batch_builder_t *b)
{
    size_t len;
    uint8_t *p = rb_batch_builder_finish(b, &len);
    g_ptr_array_add(seeds, g_bytes_new_take(p, len));
}

/* Valid batches of several shapes: plain, with null keys/values and headers,
 * transactional/control, many records. */
static GPtrArray *make_seeds(void)
{
    GPtrArray *seeds = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    rb_batch_builder_add(&b, 1700000000000, "k", 1, "v", 1, NULL, 0);
    add_seed(seeds, &b);

    rb_batch_builder_init(&b, 7);
    rb_record_header_t hs[2] = {{(const uint8_t *)"h1", 2, (const uint8_t *)"x", 1},
                                {(const uint8_t *)"", 0, NULL, -1}};
    rb_batch_builder_add(&b, 100, NULL, -1, "value", 5, hs, 2);
    rb_batch_builder_add(&b, 50, "key", 3, NULL, -1, NULL, 0);
    rb_batch_builder_add(&b, 200, "", 0, "", 0, hs, 1);
    add_seed(seeds, &b);

    rb_batch_builder_init(&b, 0);
    b.attributes = RB_BATCH_ATTR_TRANSACTIONAL | RB_BATCH_ATTR_CONTROL;
    b.producer_id = 42;
    b.producer_epoch = 1;
    rb_batch_builder_add(&b, 5, "\0\0\0\1", 4, "\0\0\0\0\0\7", 6, NULL, 0);
    add_seed(seeds, &b);

    rb_batch_builder_init(&b, 0);
    for (int i = 0; i < 200; i++) {
        char v[40];
        int n = g_snprintf(v, sizeof(v), "value-%d-%s", i, i % 3 ? "x" : "yyyyyyyyyyyyyyyy");
        rb_batch_builder_add(&b, 1700000000000 + i * 1000, v, n / 2, v, n, NULL, 0);
    }
    add_seed(seeds, &b);
    return seeds;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        gchar *data;
        gsize len;
        if (!g_file_get_contents(argv[i], &data, &len, NULL)) {
            fprintf(stderr, "cannot read %s\n", argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput((const uint8_t *)data, len);
        g_free(data);
    }
    const char *it_env = g_getenv("RILL_FUZZ_ITERATIONS");
    const char *seed_env = g_getenv("RILL_FUZZ_SEED");
    long iterations = it_env ? atol(it_env) : 50000;
    GRand *rand = g_rand_new_with_seed(seed_env ? (guint32)atol(seed_env) : 20261125);
    GPtrArray *seeds = make_seeds();
    for (guint i = 0; i < seeds->len; i++) {
        GBytes *b = g_ptr_array_index(seeds, i);
        gsize len;
        const uint8_t *p = g_bytes_get_data(b, &len);
        LLVMFuzzerTestOneInput(p, len);
    }
    for (long n = 0; n < iterations; n++) {
        GBytes *b = g_ptr_array_index(seeds, g_rand_int_range(rand, 0, (gint32)seeds->len));
        gsize len;
        const uint8_t *src = g_bytes_get_data(b, &len);
        gsize cap = len + 64;
        uint8_t *p = g_malloc(cap);
        memcpy(p, src, len);
        int edits = g_rand_int_range(rand, 1, 4);
        for (int e = 0; e < edits; e++) {
            gsize at = len ? (gsize)g_rand_int_range(rand, 0, (gint32)len) : 0;
            switch (g_rand_int_range(rand, 0, 6)) {
            case 0: /* flip a bit */
                if (len)
                    p[at] ^= (uint8_t)(1u << g_rand_int_range(rand, 0, 8));
                break;
            case 1: /* set a byte to an interesting value */
                if (len) {
                    static const uint8_t v[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe};
                    p[at] = v[g_rand_int_range(rand, 0, G_N_ELEMENTS(v))];
                }
                break;
            case 2: /* truncate */
                len = at;
                break;
            case 3: /* extend with random bytes */
                while (len < cap && g_rand_boolean(rand))
                    p[len++] = (uint8_t)g_rand_int(rand);
                break;
            case 4: /* a run of 0x80 (endless varint continuation) */
                for (gsize k = at; k < len && k < at + 12; k++)
                    p[k] = 0x80;
                break;
            default: /* edit a big-endian field of the header and keep the CRC valid */
                if (len >= 61) {
                    static const gsize fields[] = {8, 23, 57, 21};
                    gsize f = fields[g_rand_int_range(rand, 0, G_N_ELEMENTS(fields))];
                    p[f + 1] = (uint8_t)g_rand_int(rand);
                    uint32_t crc = rill__crc32c(0, p + 21, len - 21);
                    p[17] = (uint8_t)(crc >> 24);
                    p[18] = (uint8_t)(crc >> 16);
                    p[19] = (uint8_t)(crc >> 8);
                    p[20] = (uint8_t)crc;
                }
                break;
            }
        }
        LLVMFuzzerTestOneInput(p, len);
        g_free(p);
    }
    printf("fuzz: %u seeds, %ld mutated inputs, no crash\n", seeds->len, iterations);
    g_ptr_array_free(seeds, TRUE);
    g_rand_free(rand);
    return 0;
}
