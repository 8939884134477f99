/* proto.c: the descriptor-driven Kafka codec (see proto.h).
 *
 * Wire rules applied here, per field, from the descriptor and the version:
 *
 *   type            classic (non-flexible)        flexible (compact)
 *   string          int16 len, -1 = null          uvarint len+1, 0 = null
 *   bytes/records   int32 len, -1 = null          uvarint len+1, 0 = null
 *   array           int32 count, -1 = null        uvarint count+1, 0 = null
 *
 * In flexible versions every struct ends with a tagged-field section:
 * uvarint count, then (uvarint tag, uvarint size, payload) in tag order.
 * Known tags are decoded from a reader bounded to `size`; unknown ones are
 * skipped. The encoder writes a tagged field only when it differs from its
 * default (an array: when non-empty), like Kafka.
 *
 * Every count read from the wire is checked against the bytes left before
 * anything is allocated: an array of N elements needs at least N times the
 * element's minimum wire size. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "broker/protocol/proto.h"

/* ---- value helpers ------------------------------------------------------- */

rb_str_t rb_str_c(const char *s)
{
    if (!s)
        return RB_STR_NULL;
    return (rb_str_t){s, (int32_t)strlen(s)};
}

bool rb_str_is_null(rb_str_t s)
{
    return s.len < 0;
}

bool rb_str_eq(rb_str_t a, const char *s)
{
    if (a.len < 0 || !s)
        return a.len < 0 && !s;
    return strlen(s) == (size_t)a.len && memcmp(a.ptr, s, (size_t)a.len) == 0;
}

char *rb_str_dup(rb_str_t s)
{
    if (s.len < 0)
        return NULL;
    return g_strndup(s.ptr ? s.ptr : "", (gsize)s.len);
}

bool rb_uuid_is_zero(const rb_uuid_t *u)
{
    for (int i = 0; i < 16; i++)
        if (u->b[i])
            return false;
    return true;
}

/* ---- arena ------------------------------------------------------------------ */

struct rb_arena_chunk {
    struct rb_arena_chunk *next;
    size_t used;
    size_t cap;
    max_align_t data[];
};

#define ARENA_CHUNK 8192

void rb_arena_init(rb_arena_t *arena)
{
    arena->head = NULL;
}

void *rb_arena_alloc(rb_arena_t *arena, size_t n)
{
    size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    if (n == 0)
        n = align;
    struct rb_arena_chunk *c = arena->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
        c = g_malloc(sizeof(*c) + cap);
        c->cap = cap;
        c->used = 0;
        c->next = arena->head;
        arena->head = c;
    }
    void *p = (uint8_t *)c->data + c->used;
    c->used += n;
    memset(p, 0, n);
    return p;
}

rb_str_t rb_arena_str(rb_arena_t *arena, const char *s, size_t len)
{
    char *p = rb_arena_alloc(arena, len + 1);
    if (len)
        memcpy(p, s, len);
    return (rb_str_t){p, (int32_t)len};
}

rb_str_t rb_arena_printf(rb_arena_t *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return rb_arena_str(arena, s, strlen(s));
}

void rb_arena_clear(rb_arena_t *arena)
{
    struct rb_arena_chunk *c = arena->head;
    while (c) {
        struct rb_arena_chunk *next = c->next;
        g_free(c);
        c = next;
    }
    arena->head = NULL;
}

/* ---- encoder buffer -------------------------------------------------------- */

void rb_enc_init(rb_enc_t *enc)
{
    rill__wbuf_init(&enc->w, 256);
    enc->splices = NULL;
    enc->nsplices = enc->splices_cap = 0;
}

void rb_enc_free(rb_enc_t *enc)
{
    rill__wbuf_free(&enc->w);
    g_free(enc->splices);
    enc->splices = NULL;
    enc->nsplices = enc->splices_cap = 0;
}

size_t rb_enc_len(const rb_enc_t *enc)
{
    size_t n = enc->w.len;
    for (size_t i = 0; i < enc->nsplices; i++)
        n += enc->splices[i].len;
    return n;
}

static void add_splice(rb_enc_t *enc, int fd, int64_t pos, size_t len)
{
    if (enc->nsplices == enc->splices_cap) {
        enc->splices_cap = enc->splices_cap ? enc->splices_cap * 2 : 8;
        enc->splices = g_renew(rb_splice_t, enc->splices, enc->splices_cap);
    }
    enc->splices[enc->nsplices++] = (rb_splice_t){enc->w.len, fd, pos, len};
}

/* ---- shared helpers ---------------------------------------------------------- */

static bool in_range(int16_t v, int16_t lo, int16_t hi)
{
    return v >= lo && v <= hi;
}

static bool present(const rb_field_desc_t *f, int16_t version)
{
    return in_range(version, f->vmin, f->vmax);
}

static bool nullable(const rb_field_desc_t *f, int16_t version)
{
    return in_range(version, f->nmin, f->nmax);
}

static size_t scalar_size(uint8_t type)
{
    switch (type) {
    case RB_FT_BOOL:
    case RB_FT_INT8:
        return 1;
    case RB_FT_INT16:
    case RB_FT_UINT16:
        return 2;
    case RB_FT_INT32:
    case RB_FT_UINT32:
        return 4;
    case RB_FT_INT64:
    case RB_FT_FLOAT64:
        return 8;
    case RB_FT_UUID:
        return 16;
    default:
        return 0;
    }
}

/* Smallest number of bytes a value of this struct takes on the wire. */
static size_t struct_min_size(const rb_struct_desc_t *desc, int16_t version, bool flexible);

static size_t value_min_size(uint8_t type, const rb_struct_desc_t *sub, int16_t version,
                             bool flexible, bool compact)
{
    switch (type) {
    case RB_FT_STRING:
        return compact ? 1 : 2;
    case RB_FT_BYTES:
    case RB_FT_RECORDS:
        return compact ? 1 : 4;
    case RB_FT_STRUCT:
        return struct_min_size(sub, version, flexible);
    default:
        return scalar_size(type);
    }
}

static size_t struct_min_size(const rb_struct_desc_t *desc, int16_t version, bool flexible)
{
    size_t n = flexible ? 1 : 0;
    for (uint32_t i = 0; i < desc->nfields; i++) {
        const rb_field_desc_t *f = &desc->fields[i];
        if (f->tag >= 0 || !present(f, version))
            continue;
        bool compact = flexible && !f->noflex;
        if (f->array)
            n += compact ? 1 : 4;
        else
            n += value_min_size(f->type, f->sub, version, flexible, compact);
    }
    return n;
}

/* ---- defaults ------------------------------------------------------------------ */

static void set_default(const rb_field_desc_t *f, void *base, int16_t version)
{
    uint8_t *p = (uint8_t *)base + f->offset;
    if (f->array) {
        *(void **)p = NULL;
        *(int32_t *)((uint8_t *)base + f->count_offset) = 0;
        return;
    }
    switch (f->type) {
    case RB_FT_BOOL:
        *(bool *)p = f->def_int != 0;
        break;
    case RB_FT_INT8:
        *(int8_t *)p = (int8_t)f->def_int;
        break;
    case RB_FT_INT16:
        *(int16_t *)p = (int16_t)f->def_int;
        break;
    case RB_FT_UINT16:
        *(uint16_t *)p = (uint16_t)f->def_int;
        break;
    case RB_FT_INT32:
        *(int32_t *)p = (int32_t)f->def_int;
        break;
    case RB_FT_UINT32:
        *(uint32_t *)p = (uint32_t)f->def_int;
        break;
    case RB_FT_INT64:
        *(int64_t *)p = f->def_int;
        break;
    case RB_FT_FLOAT64:
        *(double *)p = (double)f->def_int;
        break;
    case RB_FT_UUID:
        memset(p, 0, sizeof(rb_uuid_t));
        break;
    case RB_FT_STRING:
        if (f->def_str)
            *(rb_str_t *)p = rb_str_c(f->def_str);
        else if (f->nmin <= f->nmax)
            *(rb_str_t *)p = RB_STR_NULL;
        else
            *(rb_str_t *)p = (rb_str_t){"", 0};
        break;
    case RB_FT_BYTES:
        *(rb_bytes_t *)p = (rb_bytes_t){NULL, f->nmin <= f->nmax ? -1 : 0};
        break;
    case RB_FT_RECORDS:
        *(rb_records_t *)p = (rb_records_t){NULL, f->nmin <= f->nmax ? -1 : 0, -1, 0};
        break;
    case RB_FT_STRUCT:
        rb_proto_init(f->sub, p);
        break;
    }
    (void)version;
}

void rb_proto_init(const rb_struct_desc_t *desc, void *out)
{
    memset(out, 0, desc->size);
    for (uint32_t i = 0; i < desc->nfields; i++)
        set_default(&desc->fields[i], out, 0);
}

/* ---- decoder ------------------------------------------------------------------- */

static int decode_struct(const rb_struct_desc_t *desc, int16_t version, bool flexible,
                         rill_rbuf_t *r, rb_arena_t *arena, void *out, int depth);

/* Reads a length: classic int16/int32 with -1 = null, or compact uvarint-1.
 * Returns -2 on error, -1 for null, else the length. */
static int64_t read_len(rill_rbuf_t *r, bool compact, int classic_width)
{
    if (compact) {
        uint64_t n = rill__rbuf_get_uvarint(r);
        if (r->err || n > (uint64_t)INT32_MAX + 1)
            return -2;
        return (int64_t)n - 1;
    }
    int64_t n = classic_width == 2 ? rill__rbuf_get_i16(r) : rill__rbuf_get_i32(r);
    if (r->err || n < -1)
        return -2;
    return n;
}

static int fail(rill_rbuf_t *r)
{
    r->err = true;
    return -1;
}

static int decode_value(uint8_t type, const rb_field_desc_t *f, int16_t version, bool flexible,
                        rill_rbuf_t *r, rb_arena_t *arena, void *p, int depth)
{
    bool compact = flexible && !f->noflex;
    switch (type) {
    case RB_FT_BOOL:
        *(bool *)p = rill__rbuf_get_u8(r) != 0;
        break;
    case RB_FT_INT8:
        *(int8_t *)p = (int8_t)rill__rbuf_get_u8(r);
        break;
    case RB_FT_INT16:
        *(int16_t *)p = rill__rbuf_get_i16(r);
        break;
    case RB_FT_UINT16:
        *(uint16_t *)p = (uint16_t)rill__rbuf_get_i16(r);
        break;
    case RB_FT_INT32:
        *(int32_t *)p = rill__rbuf_get_i32(r);
        break;
    case RB_FT_UINT32:
        *(uint32_t *)p = rill__rbuf_get_u32(r);
        break;
    case RB_FT_INT64:
        *(int64_t *)p = rill__rbuf_get_i64(r);
        break;
    case RB_FT_FLOAT64:
        *(double *)p = rill__rbuf_get_f64(r);
        break;
    case RB_FT_UUID: {
        const uint8_t *b = rill__rbuf_get(r, 16);
        if (b)
            memcpy(p, b, 16);
        break;
    }
    case RB_FT_STRING:
    case RB_FT_BYTES:
    case RB_FT_RECORDS: {
        int64_t n = read_len(r, compact, type == RB_FT_STRING ? 2 : 4);
        if (n == -2)
            return fail(r);
        if (n == -1 && !nullable(f, version))
            return fail(r);
        const uint8_t *b = NULL;
        if (n > 0) {
            b = rill__rbuf_get(r, (size_t)n);
            if (!b)
                return -1;
        }
        if (type == RB_FT_STRING)
            *(rb_str_t *)p = (rb_str_t){(const char *)(b ? b : (const uint8_t *)""), (int32_t)n};
        else if (type == RB_FT_BYTES)
            *(rb_bytes_t *)p = (rb_bytes_t){b, (int32_t)n};
        else
            *(rb_records_t *)p = (rb_records_t){b, (int32_t)n, -1, 0};
        break;
    }
    case RB_FT_STRUCT:
        return decode_struct(f->sub, version, flexible, r, arena, p, depth + 1);
    }
    return r->err ? -1 : 0;
}

static int decode_field(const rb_field_desc_t *f, int16_t version, bool flexible, rill_rbuf_t *r,
                        rb_arena_t *arena, void *base, int depth)
{
    void *p = (uint8_t *)base + f->offset;
    if (!f->array)
        return decode_value(f->type, f, version, flexible, r, arena, p, depth);

    bool compact = flexible && !f->noflex;
    int64_t n = read_len(r, compact, 4);
    if (n == -2)
        return fail(r);
    int32_t *count = (int32_t *)((uint8_t *)base + f->count_offset);
    if (n == -1) {
        if (!nullable(f, version))
            return fail(r);
        *(void **)p = NULL;
        *count = -1;
        return 0;
    }
    size_t min = value_min_size(f->type, f->sub, version, flexible, compact);
    if (min == 0)
        min = 1;
    if ((uint64_t)n > rill__rbuf_remaining(r) / min)
        return fail(r);
    uint8_t *items = n ? rb_arena_alloc(arena, (size_t)n * f->elem_size) : NULL;
    for (int64_t i = 0; i < n; i++) {
        if (decode_value(f->type, f, version, flexible, r, arena, items + i * f->elem_size, depth) <
            0)
            return -1;
    }
    *(void **)p = items;
    *count = (int32_t)n;
    return 0;
}

static int decode_tagged(const rb_struct_desc_t *desc, int16_t version, rill_rbuf_t *r,
                         rb_arena_t *arena, void *out, int depth)
{
    uint64_t ntags = rill__rbuf_get_uvarint(r);
    if (r->err || ntags > rill__rbuf_remaining(r))
        return fail(r);
    for (uint64_t i = 0; i < ntags; i++) {
        uint64_t tag = rill__rbuf_get_uvarint(r);
        uint64_t size = rill__rbuf_get_uvarint(r);
        if (r->err || size > rill__rbuf_remaining(r))
            return fail(r);
        const rb_field_desc_t *known = NULL;
        for (uint32_t k = 0; k < desc->nfields; k++) {
            const rb_field_desc_t *f = &desc->fields[k];
            if (f->tag >= 0 && (uint64_t)f->tag == tag && present(f, version))
                known = f;
        }
        const uint8_t *payload = rill__rbuf_get(r, (size_t)size);
        if (!payload && size)
            return -1;
        if (!known)
            continue; /* unknown tags are skipped */
        rill_rbuf_t sub;
        rill__rbuf_init(&sub, payload, (size_t)size);
        if (decode_field(known, version, true, &sub, arena, out, depth) < 0 || sub.err)
            return fail(r);
    }
    return 0;
}

/* Nesting is bounded by the schema, but a bound here keeps a broken
 * descriptor from recursing without end. */
#define MAX_DEPTH 16

static int decode_struct(const rb_struct_desc_t *desc, int16_t version, bool flexible,
                         rill_rbuf_t *r, rb_arena_t *arena, void *out, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(r);
    for (uint32_t i = 0; i < desc->nfields; i++) {
        const rb_field_desc_t *f = &desc->fields[i];
        set_default(f, out, version);
    }
    for (uint32_t i = 0; i < desc->nfields; i++) {
        const rb_field_desc_t *f = &desc->fields[i];
        if (f->tag >= 0 || !present(f, version))
            continue;
        if (decode_field(f, version, flexible, r, arena, out, depth) < 0)
            return fail(r);
    }
    if (flexible && decode_tagged(desc, version, r, arena, out, depth) < 0)
        return -1;
    return r->err ? -1 : 0;
}

int rb_proto_decode(const rb_msg_desc_t *msg, int16_t version, bool flexible, rill_rbuf_t *r,
                    rb_arena_t *arena, void *out)
{
    if (r->err)
        return -1;
    return decode_struct(msg->body, version, flexible, r, arena, out, 0);
}

/* ---- encoder ----------------------------------------------------------------------- */

static void encode_struct(const rb_struct_desc_t *desc, int16_t version, bool flexible,
                          rb_enc_t *enc, const void *in);

static void write_len(rb_enc_t *enc, bool compact, int classic_width, int64_t n)
{
    if (compact)
        rill__wbuf_put_uvarint(&enc->w, (uint64_t)(n + 1));
    else if (classic_width == 2)
        rill__wbuf_put_i16(&enc->w, (int16_t)n);
    else
        rill__wbuf_put_i32(&enc->w, (int32_t)n);
}

static void encode_value(uint8_t type, const rb_field_desc_t *f, int16_t version, bool flexible,
                         rb_enc_t *enc, const void *p)
{
    bool compact = flexible && !f->noflex;
    rill_wbuf_t *w = &enc->w;
    switch (type) {
    case RB_FT_BOOL:
        rill__wbuf_put_u8(w, *(const bool *)p ? 1 : 0);
        break;
    case RB_FT_INT8:
        rill__wbuf_put_u8(w, (uint8_t) * (const int8_t *)p);
        break;
    case RB_FT_INT16:
        rill__wbuf_put_i16(w, *(const int16_t *)p);
        break;
    case RB_FT_UINT16:
        rill__wbuf_put_i16(w, (int16_t) * (const uint16_t *)p);
        break;
    case RB_FT_INT32:
        rill__wbuf_put_i32(w, *(const int32_t *)p);
        break;
    case RB_FT_UINT32:
        rill__wbuf_put_u32(w, *(const uint32_t *)p);
        break;
    case RB_FT_INT64:
        rill__wbuf_put_i64(w, *(const int64_t *)p);
        break;
    case RB_FT_FLOAT64:
        rill__wbuf_put_f64(w, *(const double *)p);
        break;
    case RB_FT_UUID:
        rill__wbuf_put(w, p, 16);
        break;
    case RB_FT_STRING: {
        const rb_str_t *s = p;
        /* null where not allowed is written as "" (a programming error upstream) */
        int32_t len = s->len < 0 && !nullable(f, version) ? 0 : s->len;
        write_len(enc, compact, 2, len);
        if (len > 0)
            rill__wbuf_put(w, s->ptr, (size_t)len);
        break;
    }
    case RB_FT_BYTES: {
        const rb_bytes_t *b = p;
        int32_t len = b->len < 0 && !nullable(f, version) ? 0 : b->len;
        write_len(enc, compact, 4, len);
        if (len > 0)
            rill__wbuf_put(w, b->ptr, (size_t)len);
        break;
    }
    case RB_FT_RECORDS: {
        const rb_records_t *rec = p;
        int32_t len = rec->len < 0 && !nullable(f, version) ? 0 : rec->len;
        write_len(enc, compact, 4, len);
        if (len > 0 && rec->ptr)
            rill__wbuf_put(w, rec->ptr, (size_t)len);
        else if (len > 0)
            add_splice(enc, rec->file_fd, rec->file_pos, (size_t)len);
        break;
    }
    case RB_FT_STRUCT:
        encode_struct(f->sub, version, flexible, enc, p);
        break;
    }
}

static void encode_field(const rb_field_desc_t *f, int16_t version, bool flexible, rb_enc_t *enc,
                         const void *base)
{
    const uint8_t *p = (const uint8_t *)base + f->offset;
    if (!f->array) {
        encode_value(f->type, f, version, flexible, enc, p);
        return;
    }
    bool compact = flexible && !f->noflex;
    int32_t count = *(const int32_t *)((const uint8_t *)base + f->count_offset);
    const uint8_t *items = *(const uint8_t *const *)p;
    if (count < 0 && !nullable(f, version))
        count = 0;
    write_len(enc, compact, 4, count);
    for (int32_t i = 0; i < count; i++)
        encode_value(f->type, f, version, flexible, enc, items + (size_t)i * f->elem_size);
}

/* Whether a tagged field holds something other than its default. */
static bool tagged_is_set(const rb_field_desc_t *f, const void *base)
{
    const uint8_t *p = (const uint8_t *)base + f->offset;
    if (f->array)
        return *(const int32_t *)((const uint8_t *)base + f->count_offset) > 0;
    switch (f->type) {
    case RB_FT_BOOL:
        return *(const bool *)p != (f->def_int != 0);
    case RB_FT_INT8:
        return *(const int8_t *)p != (int8_t)f->def_int;
    case RB_FT_INT16:
        return *(const int16_t *)p != (int16_t)f->def_int;
    case RB_FT_UINT16:
        return *(const uint16_t *)p != (uint16_t)f->def_int;
    case RB_FT_INT32:
        return *(const int32_t *)p != (int32_t)f->def_int;
    case RB_FT_UINT32:
        return *(const uint32_t *)p != (uint32_t)f->def_int;
    case RB_FT_INT64:
        return *(const int64_t *)p != f->def_int;
    case RB_FT_FLOAT64:
        return *(const double *)p != (double)f->def_int;
    case RB_FT_UUID:
        return !rb_uuid_is_zero((const rb_uuid_t *)p);
    case RB_FT_STRING: {
        const rb_str_t *s = (const rb_str_t *)p;
        if (!f->def_str)
            return s->len >= 0 && !(f->nmin > f->nmax && s->len == 0);
        return !rb_str_eq(*s, f->def_str);
    }
    case RB_FT_BYTES:
        return ((const rb_bytes_t *)p)->len > 0;
    default:
        return false; /* tagged structs and records are never written */
    }
}

static void encode_struct(const rb_struct_desc_t *desc, int16_t version, bool flexible,
                          rb_enc_t *enc, const void *in)
{
    for (uint32_t i = 0; i < desc->nfields; i++) {
        const rb_field_desc_t *f = &desc->fields[i];
        if (f->tag < 0 && present(f, version))
            encode_field(f, version, flexible, enc, in);
    }
    if (!flexible)
        return;
    uint32_t ntags = 0;
    for (uint32_t i = 0; i < desc->nfields; i++) {
        const rb_field_desc_t *f = &desc->fields[i];
        if (f->tag >= 0 && present(f, version) && tagged_is_set(f, in))
            ntags++;
    }
    rill__wbuf_put_uvarint(&enc->w, ntags);
    if (ntags == 0)
        return;
    /* fields are declared in tag order in the schema; write each as tag, size, payload */
    for (int32_t tag = 0, done = 0; done < (int32_t)ntags; tag++) {
        for (uint32_t i = 0; i < desc->nfields; i++) {
            const rb_field_desc_t *f = &desc->fields[i];
            if (f->tag != tag || !present(f, version) || !tagged_is_set(f, in))
                continue;
            rb_enc_t tmp;
            rb_enc_init(&tmp);
            encode_field(f, version, true, &tmp, in);
            rill__wbuf_put_uvarint(&enc->w, (uint64_t)tag);
            rill__wbuf_put_uvarint(&enc->w, tmp.w.len);
            rill__wbuf_put(&enc->w, tmp.w.data, tmp.w.len);
            rb_enc_free(&tmp);
            done++;
        }
    }
}

void rb_proto_encode(const rb_msg_desc_t *msg, int16_t version, bool flexible, rb_enc_t *enc,
                     const void *in)
{
    encode_struct(msg->body, version, flexible, enc, in);
}

/* ---- API table and headers ---------------------------------------------------------- */

const rb_api_desc_t *rb_proto_api(int16_t key)
{
    for (size_t i = 0; i < rb_proto_n_apis; i++)
        if (rb_proto_apis[i].key == key)
            return &rb_proto_apis[i];
    return NULL;
}

int rb_proto_peek_req_header(const uint8_t *frame, size_t len, rb_req_header_t *hdr)
{
    if (len < 8)
        return -1;
    hdr->api_key = (int16_t)rill__be16_get(frame);
    hdr->api_version = (int16_t)rill__be16_get(frame + 2);
    hdr->correlation_id = (int32_t)rill__be32_get(frame + 4);
    hdr->client_id = RB_STR_NULL;
    return 0;
}

int rb_proto_read_req_header(rill_rbuf_t *r, bool flexible, rb_req_header_t *hdr)
{
    hdr->api_key = rill__rbuf_get_i16(r);
    hdr->api_version = rill__rbuf_get_i16(r);
    hdr->correlation_id = rill__rbuf_get_i32(r);
    /* ClientId keeps the classic int16 length even in header v2 */
    int16_t n = rill__rbuf_get_i16(r);
    if (r->err || n < -1)
        return fail(r);
    hdr->client_id = RB_STR_NULL;
    if (n >= 0) {
        const uint8_t *b = n ? rill__rbuf_get(r, (size_t)n) : (const uint8_t *)"";
        if (!b)
            return -1;
        hdr->client_id = (rb_str_t){(const char *)b, n};
    }
    if (flexible) {
        uint64_t ntags = rill__rbuf_get_uvarint(r);
        if (r->err || ntags > rill__rbuf_remaining(r))
            return fail(r);
        for (uint64_t i = 0; i < ntags; i++) {
            (void)rill__rbuf_get_uvarint(r);
            uint64_t size = rill__rbuf_get_uvarint(r);
            if (r->err || size > rill__rbuf_remaining(r))
                return fail(r);
            rill__rbuf_skip(r, (size_t)size);
        }
    }
    return r->err ? -1 : 0;
}

void rb_proto_write_req_header(rb_enc_t *enc, const rb_req_header_t *hdr, bool flexible)
{
    rill__wbuf_put_i16(&enc->w, hdr->api_key);
    rill__wbuf_put_i16(&enc->w, hdr->api_version);
    rill__wbuf_put_i32(&enc->w, hdr->correlation_id);
    rill__wbuf_put_i16(&enc->w, (int16_t)hdr->client_id.len);
    if (hdr->client_id.len > 0)
        rill__wbuf_put(&enc->w, hdr->client_id.ptr, (size_t)hdr->client_id.len);
    if (flexible)
        rill__wbuf_put_u8(&enc->w, 0);
}

void rb_proto_write_resp_header(rb_enc_t *enc, int32_t correlation_id, bool flexible)
{
    rill__wbuf_put_i32(&enc->w, correlation_id);
    if (flexible)
        rill__wbuf_put_u8(&enc->w, 0);
}
