/* codec.h: the record-batch compression codecs (gzip, snappy, lz4, zstd) the
 * cleaner needs to read and rewrite compressed batches.
 *
 * Design note. A v2 batch compresses only its records (the bytes after the
 * 61-byte header), as one blob in the codec's stream format: gzip (RFC 1952),
 * snappy raw or xerial-framed (the Java client's framing: an 8-byte magic,
 * two i32 versions, then i32-length-prefixed raw blocks), the LZ4 frame
 * format, and zstd frames. Decompression appends to a wbuf and stops at
 * RB_CODEC_MAX_OUT bytes (a batch that inflates beyond it is refused, not
 * expanded without bound). Compression writes the same stream format back:
 * rb__codec_compress takes the xerial flag so that snappy keeps the framing
 * the producer chose. Errors are -1 (corrupt input, too large, no memory). */
#ifndef RB_LOG_CODEC_H
#define RB_LOG_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#include "broker/log/batch.h"

#define RB_CODEC_MAX_OUT ((size_t)256 << 20)

/* Appends the decompressed bytes of in[0..len) to out. *xerial (may be NULL)
 * says whether snappy input was xerial-framed. Returns 0 or -1 (out may then
 * hold a partial result). */
int rb__codec_decompress(rb_compression_t codec, const uint8_t *in, size_t len, rill_wbuf_t *out,
                         bool *xerial);

/* Appends in[0..len) compressed with codec to out (xerial: frame snappy the
 * Java way). Returns 0 or -1. */
int rb__codec_compress(rb_compression_t codec, const uint8_t *in, size_t len, bool xerial,
                       rill_wbuf_t *out);

#endif /* RB_LOG_CODEC_H */
