/* buf.c: growable writer and bounds-checked reader for wire formats (see buf.h). */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "common/buf.h"

void rill__wbuf_init(rill_wbuf_t *w, size_t initial_cap)
{
    w->data = initial_cap ? g_malloc(initial_cap) : NULL;
    w->len = 0;
    w->cap = initial_cap;
}

void rill__wbuf_free(rill_wbuf_t *w)
{
    g_free(w->data);
    w->data = NULL;
    w->len = w->cap = 0;
}

void rill__wbuf_reset(rill_wbuf_t *w)
{
    w->len = 0;
}

uint8_t *rill__wbuf_reserve(rill_wbuf_t *w, size_t n)
{
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap - w->len < n)
            cap *= 2;
        w->data = g_realloc(w->data, cap);
        w->cap = cap;
    }
    return w->data + w->len;
}

uint8_t *rill__wbuf_steal(rill_wbuf_t *w, size_t *len)
{
    uint8_t *data = w->data;
    if (len)
        *len = w->len;
    w->data = NULL;
    w->len = w->cap = 0;
    return data;
}

void rill__wbuf_put(rill_wbuf_t *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(rill__wbuf_reserve(w, n), p, n);
    w->len += n;
}

void rill__wbuf_put_u8(rill_wbuf_t *w, uint8_t v)
{
    *rill__wbuf_reserve(w, 1) = v;
    w->len += 1;
}

void rill__wbuf_put_i16(rill_wbuf_t *w, int16_t v)
{
    rill__be16_put(rill__wbuf_reserve(w, 2), (uint16_t)v);
    w->len += 2;
}

void rill__wbuf_put_i32(rill_wbuf_t *w, int32_t v)
{
    rill__be32_put(rill__wbuf_reserve(w, 4), (uint32_t)v);
    w->len += 4;
}

void rill__wbuf_put_u32(rill_wbuf_t *w, uint32_t v)
{
    rill__be32_put(rill__wbuf_reserve(w, 4), v);
    w->len += 4;
}

void rill__wbuf_put_i64(rill_wbuf_t *w, int64_t v)
{
    rill__be64_put(rill__wbuf_reserve(w, 8), (uint64_t)v);
    w->len += 8;
}

void rill__wbuf_put_f64(rill_wbuf_t *w, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    rill__be64_put(rill__wbuf_reserve(w, 8), bits);
    w->len += 8;
}

void rill__wbuf_put_uvarint(rill_wbuf_t *w, uint64_t v)
{
    w->len += rill__uvarint_encode(rill__wbuf_reserve(w, 10), v);
}

void rill__wbuf_put_varint(rill_wbuf_t *w, int64_t v)
{
    rill__wbuf_put_uvarint(w, rill__zigzag_encode(v));
}

void rill__wbuf_patch_i32(rill_wbuf_t *w, size_t off, int32_t v)
{
    g_assert(off + 4 <= w->len);
    rill__be32_put(w->data + off, (uint32_t)v);
}

const uint8_t *rill__rbuf_get(rill_rbuf_t *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->data + r->pos;
    r->pos += n;
    return p;
}

bool rill__rbuf_skip(rill_rbuf_t *r, size_t n)
{
    return rill__rbuf_get(r, n) != NULL || n == 0;
}

uint8_t rill__rbuf_get_u8(rill_rbuf_t *r)
{
    const uint8_t *p = rill__rbuf_get(r, 1);
    return p ? p[0] : 0;
}

int16_t rill__rbuf_get_i16(rill_rbuf_t *r)
{
    const uint8_t *p = rill__rbuf_get(r, 2);
    return p ? (int16_t)rill__be16_get(p) : 0;
}

int32_t rill__rbuf_get_i32(rill_rbuf_t *r)
{
    const uint8_t *p = rill__rbuf_get(r, 4);
    return p ? (int32_t)rill__be32_get(p) : 0;
}

uint32_t rill__rbuf_get_u32(rill_rbuf_t *r)
{
    const uint8_t *p = rill__rbuf_get(r, 4);
    return p ? rill__be32_get(p) : 0;
}

int64_t rill__rbuf_get_i64(rill_rbuf_t *r)
{
    const uint8_t *p = rill__rbuf_get(r, 8);
    return p ? (int64_t)rill__be64_get(p) : 0;
}

double rill__rbuf_get_f64(rill_rbuf_t *r)
{
    const uint8_t *p = rill__rbuf_get(r, 8);
    if (!p)
        return 0;
    uint64_t bits = rill__be64_get(p);
    double v;
    memcpy(&v, &bits, 8);
    return v;
}

uint64_t rill__rbuf_get_uvarint(rill_rbuf_t *r)
{
    uint64_t v = 0;
    size_t n = r->err ? 0 : rill__uvarint_decode(r->data + r->pos, r->len - r->pos, &v);
    if (n == 0) {
        r->err = true;
        return 0;
    }
    r->pos += n;
    return v;
}

int64_t rill__rbuf_get_varint(rill_rbuf_t *r)
{
    return rill__zigzag_decode(rill__rbuf_get_uvarint(r));
}

size_t rill__uvarint_encode(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

size_t rill__uvarint_decode(const uint8_t *p, size_t len, uint64_t *v)
{
    uint64_t result = 0;
    for (size_t i = 0; i < len && i < 10; i++) {
        uint64_t b = p[i];
        if (i == 9 && b > 1)
            return 0; /* more than 64 bits */
        result |= (b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *v = result;
            return i + 1;
        }
    }
    return 0;
}

size_t rill__uvarint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
