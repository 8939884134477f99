/* fuzz-codec-main.c: runs the codec fuzz target (fuzz-codec.c) without
 * libFuzzer, so that `make check` exercises it with any compiler: every file
 * named on the command line, then seeds (each codec's stream of a few
 * payloads) and a fixed number of deterministic mutations of them (bit
 * flips, byte sets, truncations, appended bytes). Bounded and repeatable
 * ($RILL_FUZZ_ITERATIONS, default 100000; seed $RILL_FUZZ_SEED). */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/log/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static GPtrArray *make_seeds(void)
{
    GPtrArray *seeds = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    static const char *payloads[] = {"", "k", "a record batch's records, a record batch's records",
                                     NULL};
    uint8_t big[5000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i % 251 < 100 ? 'x' : i * 31);
    for (int codec = 1; codec <= 4; codec++) {
        for (int xerial = 0; xerial <= (codec == RB_COMPRESSION_SNAPPY); xerial++) {
            for (int p = 0; p <= 3; p++) {
                const uint8_t *in = p < 3 ? (const uint8_t *)payloads[p] : big;
                size_t len = p < 3 ? strlen(payloads[p]) : sizeof(big);
                rill_wbuf_t w;
                rill__wbuf_init(&w, 0);
                rill__wbuf_put_u8(&w, (uint8_t)((codec - 1) | (xerial ? 0x80 : 0)));
                if (rb__codec_compress((rb_compression_t)codec, in, len, xerial, &w) != 0) {
                    fprintf(stderr, "seed: codec %d cannot compress\n", codec);
                    exit(1);
                }
                size_t n;
                uint8_t *data = rill__wbuf_steal(&w, &n);
                g_ptr_array_add(seeds, g_bytes_new_take(data, n));
            }
        }
    }
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
    long iterations = it_env ? atol(it_env) : 100000;
    GRand *rand = g_rand_new_with_seed(seed_env ? (guint32)atol(seed_env) : 20261125);
    GPtrArray *seeds = make_seeds();
    for (guint i = 0; i < seeds->len; i++) {
        gsize n;
        const uint8_t *p = g_bytes_get_data(seeds->pdata[i], &n);
        LLVMFuzzerTestOneInput(p, n);
    }
    for (long it = 0; it < iterations; it++) {
        gsize n;
        const uint8_t *p =
            g_bytes_get_data(seeds->pdata[g_rand_int_range(rand, 0, (gint32)seeds->len)], &n);
        gsize cap = n + 64;
        uint8_t *m = g_malloc(cap);
        memcpy(m, p, n);
        int edits = g_rand_int_range(rand, 1, 4);
        for (int e = 0; e < edits && n > 1; e++) {
            gsize at = 1 + (gsize)g_rand_int_range(rand, 0, (gint32)(n - 1));
            switch (g_rand_int_range(rand, 0, 4)) {
            case 0:
                m[at] ^= (uint8_t)(1u << g_rand_int_range(rand, 0, 8));
                break;
            case 1:
                m[at] = (uint8_t)g_rand_int_range(rand, 0, 256);
                break;
            case 2:
                n = at; /* truncate */
                break;
            default:
                if (n < cap)
                    m[n++] = (uint8_t)g_rand_int_range(rand, 0, 256);
                break;
            }
        }
        LLVMFuzzerTestOneInput(m, n);
        g_free(m);
    }
    printf("ok - %u seeds and %ld mutations decoded without a fault\n", seeds->len, iterations);
    g_ptr_array_free(seeds, TRUE);
    g_rand_free(rand);
    return 0;
}
