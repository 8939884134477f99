/* codec.c: gzip (zlib), snappy (raw and xerial-framed), lz4 (frame) and zstd
 * for the records of a v2 batch; see codec.h for the formats.
 *
 * Design note. Every decoder streams into the wbuf in chunks and checks
 * RB_CODEC_MAX_OUT before it grows, so a hostile batch costs at most that
 * much memory. Encoders size their output with the library's bound first. */
#include "config.h"

#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "broker/log/codec.h"

#define CHUNK (64 * 1024)

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER 16 /* magic, i32 version 1, i32 compatible version 1 */
#define XERIAL_BLOCK (32 * 1024)

/* ---- gzip ---------------------------------------------------------------- */

static int gzip_decompress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* gzip or zlib header */
        return -1;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        if (out->len + CHUNK > RB_CODEC_MAX_OUT) {
            rc = Z_DATA_ERROR;
            break;
        }
        z.next_out = rill__wbuf_reserve(out, CHUNK);
        z.avail_out = CHUNK;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += CHUNK - z.avail_out;
        if (rc != Z_OK && rc != Z_STREAM_END)
            break;
        if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
            rc = Z_DATA_ERROR; /* truncated */
            break;
        }
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

static int gzip_compress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return -1;
    size_t bound = deflateBound(&z, (uLong)len) + 32;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = rill__wbuf_reserve(out, bound);
    z.avail_out = (uInt)bound;
    int rc = deflate(&z, Z_FINISH);
    out->len += bound - z.avail_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : -1;
}

/* ---- snappy --------------------------------------------------------------- */

static int snappy_raw_decompress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    size_t n;
    if (snappy_uncompressed_length((const char *)in, len, &n) != SNAPPY_OK ||
        out->len + n > RB_CODEC_MAX_OUT)
        return -1;
    char *dst = (char *)rill__wbuf_reserve(out, n + 1);
    if (snappy_uncompress((const char *)in, len, dst, &n) != SNAPPY_OK)
        return -1;
    out->len += n;
    return 0;
}

static int snappy_decompress(const uint8_t *in, size_t len, rill_wbuf_t *out, bool *xerial)
{
    if (len < XERIAL_HEADER || memcmp(in, xerial_magic, sizeof(xerial_magic)) != 0) {
        *xerial = false;
        return snappy_raw_decompress(in, len, out);
    }
    *xerial = true;
    size_t pos = XERIAL_HEADER;
    while (pos < len) {
        if (len - pos < 4)
            return -1;
        size_t block = rill__be32_get(in + pos);
        pos += 4;
        if (block > len - pos || snappy_raw_decompress(in + pos, block, out) != 0)
            return -1;
        pos += block;
    }
    return 0;
}

static int snappy_raw_compress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    size_t n = snappy_max_compressed_length(len);
    char *dst = (char *)rill__wbuf_reserve(out, n);
    if (snappy_compress((const char *)in, len, dst, &n) != SNAPPY_OK)
        return -1;
    out->len += n;
    return 0;
}

static int snappy_compress_to(const uint8_t *in, size_t len, bool xerial, rill_wbuf_t *out)
{
    if (!xerial)
        return snappy_raw_compress(in, len, out);
    rill__wbuf_put(out, xerial_magic, sizeof(xerial_magic));
    rill__wbuf_put_i32(out, 1);
    rill__wbuf_put_i32(out, 1);
    for (size_t pos = 0; pos < len; pos += XERIAL_BLOCK) {
        size_t n = len - pos < XERIAL_BLOCK ? len - pos : XERIAL_BLOCK;
        size_t at = out->len;
        rill__wbuf_put_i32(out, 0);
        if (snappy_raw_compress(in + pos, n, out) != 0)
            return -1;
        rill__wbuf_patch_i32(out, at, (int32_t)(out->len - at - 4));
    }
    return 0;
}

/* ---- lz4 (frame) ---------------------------------------------------------- */

static int lz4_decompress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return -1;
    size_t pos = 0, hint = 1;
    int rc = 0;
    while (hint != 0) {
        if (out->len + CHUNK > RB_CODEC_MAX_OUT || (pos == len && hint != 0)) {
            rc = -1; /* too large, or truncated */
            break;
        }
        size_t dst_n = CHUNK, src_n = len - pos;
        uint8_t *dst = rill__wbuf_reserve(out, CHUNK);
        hint = LZ4F_decompress(dctx, dst, &dst_n, in + pos, &src_n, NULL);
        if (LZ4F_isError(hint)) {
            rc = -1;
            break;
        }
        out->len += dst_n;
        pos += src_n;
        if (dst_n == 0 && src_n == 0 && hint != 0) {
            rc = -1; /* no progress */
            break;
        }
    }
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int lz4_compress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    size_t bound = LZ4F_compressFrameBound(len, &prefs);
    size_t n = LZ4F_compressFrame(rill__wbuf_reserve(out, bound), bound, in, len, &prefs);
    if (LZ4F_isError(n))
        return -1;
    out->len += n;
    return 0;
}

/* ---- zstd ----------------------------------------------------------------- */

static int zstd_decompress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    ZSTD_DStream *ds = ZSTD_createDStream();
    if (ds == NULL)
        return -1;
    ZSTD_inBuffer src = {in, len, 0};
    size_t hint = 1;
    int rc = 0;
    while (hint != 0) {
        if (out->len + CHUNK > RB_CODEC_MAX_OUT) {
            rc = -1;
            break;
        }
        ZSTD_outBuffer dst = {rill__wbuf_reserve(out, CHUNK), CHUNK, 0};
        size_t before = src.pos;
        hint = ZSTD_decompressStream(ds, &dst, &src);
        if (ZSTD_isError(hint)) {
            rc = -1;
            break;
        }
        out->len += dst.pos;
        if (hint != 0 && src.pos == len && dst.pos < CHUNK) {
            rc = -1; /* truncated */
            break;
        }
        if (hint != 0 && dst.pos == 0 && src.pos == before) {
            rc = -1;
            break;
        }
        if (hint == 0 && src.pos < len)
            hint = 1; /* another frame follows */
    }
    ZSTD_freeDStream(ds);
    return rc;
}

static int zstd_compress(const uint8_t *in, size_t len, rill_wbuf_t *out)
{
    size_t bound = ZSTD_compressBound(len);
    size_t n = ZSTD_compress(rill__wbuf_reserve(out, bound), bound, in, len, 3);
    if (ZSTD_isError(n))
        return -1;
    out->len += n;
    return 0;
}

int rb__codec_decompress(rb_compression_t codec, const uint8_t *in, size_t len, rill_wbuf_t *out,
                         bool *xerial)
{
    bool x = false;
    int rc = -1;
    switch (codec) {
    case RB_COMPRESSION_NONE:
        rill__wbuf_put(out, in, len);
        rc = 0;
        break;
    case RB_COMPRESSION_GZIP:
        rc = gzip_decompress(in, len, out);
        break;
    case RB_COMPRESSION_SNAPPY:
        rc = snappy_decompress(in, len, out, &x);
        break;
    case RB_COMPRESSION_LZ4:
        rc = lz4_decompress(in, len, out);
        break;
    case RB_COMPRESSION_ZSTD:
        rc = zstd_decompress(in, len, out);
        break;
    }
    if (xerial != NULL)
        *xerial = x;
    return rc;
}

int rb__codec_compress(rb_compression_t codec, const uint8_t *in, size_t len, bool xerial,
                       rill_wbuf_t *out)
{
    switch (codec) {
    case RB_COMPRESSION_NONE:
        rill__wbuf_put(out, in, len);
        return 0;
    case RB_COMPRESSION_GZIP:
        return gzip_compress(in, len, out);
    case RB_COMPRESSION_SNAPPY:
        return snappy_compress_to(in, len, xerial, out);
    case RB_COMPRESSION_LZ4:
        return lz4_compress(in, len, out);
    case RB_COMPRESSION_ZSTD:
        return zstd_compress(in, len, out);
    }
    return -1;
}
