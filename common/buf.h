/* buf.h: byte buffers for wire formats: a growable writer and a bounds-checked reader.
 *
 * All multi-byte integers are big-endian (Kafka's byte order). Varints come in
 * the two flavours Kafka uses: unsigned (protocol lengths, tagged fields) and
 * zigzag-signed (inside records).
 *
 * Reader invariant: pos <= len always. A read that would pass the end sets
 * `err` and returns zero/NULL; later reads keep failing. So a decoder can read
 * a whole structure and check `rd.err` once at the end instead of after every
 * field, without any control flow hidden in macros. */
#ifndef RILL_COMMON_BUF_H
#define RILL_COMMON_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- writer ---------------------------------------------------------- */

typedef struct rill_wbuf {
    uint8_t *data; /* owned; g_realloc'd */
    size_t len;
    size_t cap;
} rill_wbuf_t;

void rill__wbuf_init(rill_wbuf_t *w, size_t initial_cap);
void rill__wbuf_free(rill_wbuf_t *w);
void rill__wbuf_reset(rill_wbuf_t *w);           /* len = 0, keeps the memory */
uint8_t *rill__wbuf_reserve(rill_wbuf_t *w, size_t n); /* room for n bytes at the end */
uint8_t *rill__wbuf_steal(rill_wbuf_t *w, size_t *len); /* (transfer full) g_free it */

void rill__wbuf_put(rill_wbuf_t *w, const void *p, size_t n);
void rill__wbuf_put_u8(rill_wbuf_t *w, uint8_t v);
void rill__wbuf_put_i16(rill_wbuf_t *w, int16_t v);
void rill__wbuf_put_i32(rill_wbuf_t *w, int32_t v);
void rill__wbuf_put_i64(rill_wbuf_t *w, int64_t v);
void rill__wbuf_put_u32(rill_wbuf_t *w, uint32_t v);
void rill__wbuf_put_f64(rill_wbuf_t *w, double v);
void rill__wbuf_put_uvarint(rill_wbuf_t *w, uint64_t v);
void rill__wbuf_put_varint(rill_wbuf_t *w, int64_t v); /* zigzag */

/* Overwrites 4 bytes at off (which must be inside the buffer) with v. */
void rill__wbuf_patch_i32(rill_wbuf_t *w, size_t off, int32_t v);

/* ---- reader ---------------------------------------------------------- */

typedef struct rill_rbuf {
    const uint8_t *data; /* borrowed */
    size_t len;
    size_t pos;
    bool err; /* sticky: set by the first read past the end or a bad varint */
} rill_rbuf_t;

static inline void rill__rbuf_init(rill_rbuf_t *r, const void *data, size_t len)
{
    r->data = data;
    r->len = len;
    r->pos = 0;
    r->err = false;
}

static inline size_t rill__rbuf_remaining(const rill_rbuf_t *r)
{
    return r->len - r->pos;
}

/* Returns a pointer to the next n bytes and advances, or NULL (and err). */
const uint8_t *rill__rbuf_get(rill_rbuf_t *r, size_t n);
bool rill__rbuf_skip(rill_rbuf_t *r, size_t n);
uint8_t rill__rbuf_get_u8(rill_rbuf_t *r);
int16_t rill__rbuf_get_i16(rill_rbuf_t *r);
int32_t rill__rbuf_get_i32(rill_rbuf_t *r);
uint32_t rill__rbuf_get_u32(rill_rbuf_t *r);
int64_t rill__rbuf_get_i64(rill_rbuf_t *r);
double rill__rbuf_get_f64(rill_rbuf_t *r);
uint64_t rill__rbuf_get_uvarint(rill_rbuf_t *r); /* at most 10 bytes */
int64_t rill__rbuf_get_varint(rill_rbuf_t *r);   /* zigzag */

/* ---- plain encoders on raw memory ------------------------------------ */

static inline void rill__be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void rill__be32_put(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void rill__be64_put(uint8_t *p, uint64_t v)
{
    rill__be32_put(p, (uint32_t)(v >> 32));
    rill__be32_put(p + 4, (uint32_t)v);
}
static inline uint16_t rill__be16_get(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t rill__be32_get(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t rill__be64_get(const uint8_t *p)
{
    return ((uint64_t)rill__be32_get(p) << 32) | rill__be32_get(p + 4);
}

/* Encodes v as an unsigned varint into out (>= 10 bytes); returns the length. */
size_t rill__uvarint_encode(uint8_t *out, uint64_t v);
/* Decodes an unsigned varint from p[0..len); returns bytes used, 0 if malformed/short. */
size_t rill__uvarint_decode(const uint8_t *p, size_t len, uint64_t *v);
static inline uint64_t rill__zigzag_encode(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t rill__zigzag_decode(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}
/* Size in bytes of v as an unsigned varint. */
size_t rill__uvarint_size(uint64_t v);

#endif
