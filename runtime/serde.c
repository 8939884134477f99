/* serde.c: the built-in serdes (bytes, UTF-8 string, int32/int64/double
 * big-endian, JSON via json-glib) and user serdes.
 *
 * Design: see serde-private.h. The built-ins are static objects that
 * ref/unref ignore (refcount -1); user serdes are reference counted with
 * atomics, since one topology (and its serdes) is shared by every stream
 * thread. Every failure names the serde and what was wrong, e.g.
 * "int64 serde: expected 8 bytes, got 3". */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include <rill/serde.h>

#include "runtime/record-private.h"
#include "runtime/serde-private.h"

static rill_serde_t serde_bytes = {RILL__SERDE_BYTES, -1, "bytes", NULL, NULL, NULL, NULL};
static rill_serde_t serde_string = {RILL__SERDE_STRING, -1, "string", NULL, NULL, NULL, NULL};
static rill_serde_t serde_int32 = {RILL__SERDE_INT32, -1, "int32", NULL, NULL, NULL, NULL};
static rill_serde_t serde_int64 = {RILL__SERDE_INT64, -1, "int64", NULL, NULL, NULL, NULL};
static rill_serde_t serde_double = {RILL__SERDE_DOUBLE, -1, "double", NULL, NULL, NULL, NULL};
static rill_serde_t serde_json = {RILL__SERDE_JSON, -1, "json", NULL, NULL, NULL, NULL};

RILL_EXPORT const rill_serde_t *rill_serde_bytes(void)
{
    return &serde_bytes;
}
RILL_EXPORT const rill_serde_t *rill_serde_string(void)
{
    return &serde_string;
}
RILL_EXPORT const rill_serde_t *rill_serde_int32(void)
{
    return &serde_int32;
}
RILL_EXPORT const rill_serde_t *rill_serde_int64(void)
{
    return &serde_int64;
}
RILL_EXPORT const rill_serde_t *rill_serde_double(void)
{
    return &serde_double;
}
RILL_EXPORT const rill_serde_t *rill_serde_json(void)
{
    return &serde_json;
}

RILL_EXPORT rill_serde_t *rill_serde_new(const char *name, rill_serialize_fn serialize,
                                         rill_deserialize_fn deserialize, void *user_data,
                                         void (*user_data_destroy)(void *user_data))
{
    if (serialize == NULL || deserialize == NULL)
        return NULL;
    rill_serde_t *serde = g_new0(rill_serde_t, 1);
    serde->kind = RILL__SERDE_USER;
    serde->refcount = 1;
    serde->name = g_strdup(name != NULL ? name : "user");
    serde->serialize = serialize;
    serde->deserialize = deserialize;
    serde->user_data = user_data;
    serde->user_data_destroy = user_data_destroy;
    return serde;
}

RILL_EXPORT rill_serde_t *rill_serde_ref(const rill_serde_t *serde)
{
    rill_serde_t *s = (rill_serde_t *)serde;
    if (s != NULL && s->refcount > 0)
        g_atomic_int_inc(&s->refcount);
    return s;
}

RILL_EXPORT void rill_serde_unref(const rill_serde_t *serde)
{
    rill_serde_t *s = (rill_serde_t *)serde;
    if (s == NULL || s->refcount < 0)
        return;
    if (g_atomic_int_dec_and_test(&s->refcount)) {
        if (s->user_data_destroy != NULL)
            s->user_data_destroy(s->user_data);
        g_free(s->name);
        g_free(s);
    }
}

RILL_EXPORT const char *rill_serde_name(const rill_serde_t *serde)
{
    return serde != NULL ? serde->name : NULL;
}

RILL_EXPORT void rill_buffer_append(rill_buffer_t *buffer, const void *data, size_t len)
{
    if (buffer != NULL && len > 0)
        rill__wbuf_put(&buffer->wbuf, data, len);
}

RILL_EXPORT rill_buffer_t *rill_buffer_new(void)
{
    rill_buffer_t *buffer = g_new0(rill_buffer_t, 1);
    rill__wbuf_init(&buffer->wbuf, 64);
    return buffer;
}

RILL_EXPORT void rill_buffer_destroy(rill_buffer_t *buffer)
{
    if (buffer == NULL)
        return;
    rill__wbuf_free(&buffer->wbuf);
    g_free(buffer);
}

const rill_serde_t *rill__serde_for_type(rill_value_type_t type)
{
    switch (type) {
    case RILL_VALUE_STRING:
        return &serde_string;
    case RILL_VALUE_INT32:
        return &serde_int32;
    case RILL_VALUE_INT64:
        return &serde_int64;
    case RILL_VALUE_DOUBLE:
        return &serde_double;
    case RILL_VALUE_JSON:
        return &serde_json;
    default:
        return &serde_bytes;
    }
}

static rill_err_t want_len(const rill_serde_t *serde, size_t want, size_t len, rill_error_t **error)
{
    if (len == want)
        return RILL_OK;
    return rill_error_set(error, RILL_ERR_SERDE, "%s serde: expected %zu bytes, got %zu",
                          serde->name, want, len);
}

/* Whether data[0..len) is valid UTF-8 without NUL bytes (a NUL would cut
 * the C string short): words of ASCII without NUL (the common case) are
 * checked 8 bytes at a time, the rest by GLib, which rejects NUL too. */
static bool utf8_valid(const char *data, size_t len, size_t *bad_at)
{
    const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t word;
        memcpy(&word, data + i, sizeof word);
        if ((word & highs) != 0 || ((word - ones) & ~word & highs) != 0)
            break; /* a byte >= 0x80, or a zero byte */
    }
    while (i < len && (unsigned char)data[i] < 0x80 && data[i] != '\0')
        i++;
    if (i == len)
        return true;
    const char *end = NULL;
    if (g_utf8_validate_len(data + i, len - i, &end))
        return true;
    *bad_at = (size_t)(end - data);
    return false;
}

rill_err_t rill__serde_deserialize(const rill_serde_t *serde, const void *data, size_t len,
                                   rill_value_t *out, rill_wbuf_t *scratch, rill_error_t **error)
{
    if (data == NULL)
        return RILL_OK; /* null stays null */
    switch (serde->kind) {
    case RILL__SERDE_BYTES:
        out->type = RILL_VALUE_BYTES;
        out->ptr = data;
        out->len = len;
        return RILL_OK;
    case RILL__SERDE_STRING: {
        size_t bad_at = 0;
        if (!utf8_valid(data, len, &bad_at))
            return rill_error_set(error, RILL_ERR_SERDE,
                                  "string serde: invalid UTF-8 at byte %zu of %zu", bad_at, len);
        rill__wbuf_reset(scratch);
        uint8_t *p = rill__wbuf_reserve(scratch, len + 1);
        memcpy(p, data, len);
        p[len] = '\0';
        scratch->len = len + 1;
        out->type = RILL_VALUE_STRING;
        out->ptr = scratch->data;
        out->len = len;
        return RILL_OK;
    }
    case RILL__SERDE_INT32:
        if (want_len(serde, 4, len, error) != RILL_OK)
            return RILL_ERR_SERDE;
        out->type = RILL_VALUE_INT32;
        out->num.i32 = (int32_t)rill__be32_get(data);
        return RILL_OK;
    case RILL__SERDE_INT64:
        if (want_len(serde, 8, len, error) != RILL_OK)
            return RILL_ERR_SERDE;
        out->type = RILL_VALUE_INT64;
        out->num.i64 = (int64_t)rill__be64_get(data);
        return RILL_OK;
    case RILL__SERDE_DOUBLE: {
        if (want_len(serde, 8, len, error) != RILL_OK)
            return RILL_ERR_SERDE;
        uint64_t bits = rill__be64_get(data);
        out->type = RILL_VALUE_DOUBLE;
        memcpy(&out->num.f64, &bits, sizeof bits);
        return RILL_OK;
    }
    case RILL__SERDE_JSON: {
        g_autoptr(JsonParser) parser = json_parser_new_immutable();
        g_autoptr(GError) gerror = NULL;
        if (len > G_MAXSSIZE)
            return rill_error_set(error, RILL_ERR_SERDE, "json serde: document too large");
        if (!json_parser_load_from_data(parser, data, (gssize)len, &gerror))
            return rill_error_set(error, RILL_ERR_SERDE, "json serde: %s", gerror->message);
        JsonNode *root = json_parser_steal_root(parser);
        if (root == NULL)
            return rill_error_set(error, RILL_ERR_SERDE, "json serde: empty document");
        rill_value_set_json(out, root);
        return RILL_OK;
    }
    case RILL__SERDE_USER: {
        rill_err_t err = serde->deserialize(data, len, out, serde->user_data, error);
        if (err != RILL_OK) {
            rill__value_clear(out);
            if (error != NULL && *error == NULL)
                rill_error_set(error, err, "%s serde: deserialization failed", serde->name);
            rill_error_prefix(error, "%s serde: ", serde->name);
        }
        return err;
    }
    }
    return rill_error_set(error, RILL_ERR_INVALID_STATE, "unknown serde kind %d", serde->kind);
}

static rill_err_t wrong_type(const rill_serde_t *serde, const rill_value_t *value,
                             rill_error_t **error)
{
    static const char *const type_names[] = {"null",  "bytes",  "string", "int32",
                                             "int64", "double", "json",   "pointer"};
    const char *type =
        (unsigned)value->type < G_N_ELEMENTS(type_names) ? type_names[value->type] : "unknown";
    return rill_error_set(error, RILL_ERR_SERDE, "%s serde cannot serialize a %s value",
                          serde->name, type);
}

rill_err_t rill__serde_serialize(const rill_serde_t *serde, const rill_value_t *value,
                                 rill_buffer_t *scratch, const void **data, size_t *len,
                                 rill_error_t **error)
{
    *data = NULL;
    *len = 0;
    if (value->type == RILL_VALUE_NULL)
        return RILL_OK;
    rill_wbuf_t *w = &scratch->wbuf;
    switch (serde->kind) {
    case RILL__SERDE_BYTES:
    case RILL__SERDE_STRING:
        if (value->type != RILL_VALUE_BYTES && value->type != RILL_VALUE_STRING)
            return wrong_type(serde, value, error);
        *data = value->ptr;
        *len = value->len;
        return RILL_OK;
    case RILL__SERDE_INT32:
        if (value->type != RILL_VALUE_INT32)
            return wrong_type(serde, value, error);
        rill__wbuf_reset(w);
        rill__wbuf_put_i32(w, value->num.i32);
        break;
    case RILL__SERDE_INT64:
        if (value->type != RILL_VALUE_INT64)
            return wrong_type(serde, value, error);
        rill__wbuf_reset(w);
        rill__wbuf_put_i64(w, value->num.i64);
        break;
    case RILL__SERDE_DOUBLE:
        if (value->type != RILL_VALUE_DOUBLE)
            return wrong_type(serde, value, error);
        rill__wbuf_reset(w);
        rill__wbuf_put_f64(w, value->num.f64);
        break;
    case RILL__SERDE_JSON: {
        if (value->type != RILL_VALUE_JSON)
            return wrong_type(serde, value, error);
        gsize text_len = 0;
        g_autofree char *text = json_to_string((JsonNode *)value->ptr, FALSE);
        text_len = strlen(text);
        rill__wbuf_reset(w);
        rill__wbuf_put(w, text, text_len);
        break;
    }
    case RILL__SERDE_USER: {
        rill__wbuf_reset(w);
        rill_err_t err = serde->serialize(value, scratch, serde->user_data, error);
        if (err != RILL_OK) {
            if (error != NULL && *error == NULL)
                rill_error_set(error, err, "%s serde: serialization failed", serde->name);
            rill_error_prefix(error, "%s serde: ", serde->name);
            return err;
        }
        break;
    }
    }
    *data = w->data != NULL ? (const void *)w->data : (const void *)"";
    *len = w->len;
    return RILL_OK;
}

RILL_EXPORT rill_err_t rill_serde_serialize(const rill_serde_t *serde, const rill_value_t *value,
                                            rill_buffer_t *scratch, const void **data, size_t *len,
                                            rill_error_t **error)
{
    if (serde == NULL || scratch == NULL || data == NULL || len == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_serde_serialize: NULL argument");
    static const rill_value_t null_value = RILL__VALUE_NULL_INIT;
    return rill__serde_serialize(serde, value != NULL ? value : &null_value, scratch, data, len,
                                 error);
}

RILL_EXPORT rill_err_t rill_serde_deserialize(const rill_serde_t *serde, const void *data,
                                              size_t len, rill_value_t *out, rill_error_t **error)
{
    if (serde == NULL || out == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_serde_deserialize: NULL argument");
    rill__value_clear(out);
    rill_wbuf_t scratch;
    rill__wbuf_init(&scratch, 0);
    rill_err_t err = rill__serde_deserialize(serde, data, len, out, &scratch, error);
    if (err == RILL_OK && out->destroy == NULL && out->ptr != NULL &&
        (out->type == RILL_VALUE_BYTES || out->type == RILL_VALUE_STRING)) {
        /* make the value independent of data and of the scratch buffer */
        char *copy = g_malloc(out->len + 1);
        memcpy(copy, out->ptr, out->len);
        copy[out->len] = '\0';
        out->ptr = copy;
        out->destroy = g_free;
    }
    rill__wbuf_free(&scratch);
    return err;
}
