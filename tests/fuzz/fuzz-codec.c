/* fuzz-codec.c: libFuzzer target for the batch decompressors the cleaner
 * runs on producer bytes (broker/log/codec.c): gzip, snappy (raw and
 * xerial), lz4 frames, zstd.
 *
 * The first input byte picks the codec (1..4, modulo) and the snappy framing
 * (bit 7); the rest is the compressed stream. Properties beyond "no crash, no
 * out-of-bounds access" (ASan): the output never exceeds RB_CODEC_MAX_OUT,
 * and what decodes re-encodes with the same codec and decodes back to the
 * same bytes.
 *
 * Under `make check` it runs through fuzz-codec-main.c (seeds + deterministic
 * mutations); with clang, link it against libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude -I_build \
 *     tests/fuzz/fuzz-codec.c broker/log/codec.c common/buf.c \
 *     $(pkg-config --cflags --libs glib-2.0 zlib libzstd liblz4 snappy) -o fuzz-codec */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/log/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    rb_compression_t codec = (rb_compression_t)(1 + data[0] % 4);
    rill_wbuf_t out, again, back;
    rill__wbuf_init(&out, 0);
    bool xerial = false;
    if (rb__codec_decompress(codec, data + 1, size - 1, &out, &xerial) == 0) {
        if (out.len > RB_CODEC_MAX_OUT)
            abort();
        rill__wbuf_init(&again, 0);
        rill__wbuf_init(&back, 0);
        if (rb__codec_compress(codec, out.data, out.len, xerial, &again) != 0 ||
            rb__codec_decompress(codec, again.data, again.len, &back, NULL) != 0 ||
            back.len != out.len || (out.len > 0 && memcmp(back.data, out.data, out.len) != 0))
            abort();
        rill__wbuf_free(&again);
        rill__wbuf_free(&back);
    }
    rill__wbuf_free(&out);
    return 0;
}
