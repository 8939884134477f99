/* window-key.c: windowed keys (rill_windowed_t) as values, their text form, and the windowed serdes.
 *
 * Design: see window-private.h for the value layout. The binary serdes keep
 * Kafka Streams' layouts (stores/windowed-key.h): time windows inner(key) |
 * start, sessions inner(key) | end | start, 8-byte big-endian times, so that
 * a Java consumer reads rill's output with TimeWindowedDeserializer. The text
 * serde writes "<key>@<start>", what examples/windowed-count emits. A
 * deserialized windowed key owns a copy of its key (rill_serde_deserialize
 * copies), so it outlives the bytes it came from. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "common/buf.h"
#include "operators/window-private.h"
#include "runtime/serde-private.h"

/* ---- the value ------------------------------------------------------------------- */

void rill__windowed_view(rill_value_t *value, struct rill_windowed *windowed)
{
    value->type = RILL_VALUE_POINTER;
    value->ptr = windowed;
    value->len = sizeof *windowed;
    value->destroy = NULL;
}

void rill__windowed_free(void *p)
{
    struct rill_windowed *windowed = p;
    if (windowed == NULL)
        return;
    rill__value_clear(&windowed->key);
    g_free(windowed);
}

RILL_EXPORT const rill_windowed_t *rill_value_windowed(const rill_value_t *value)
{
    if (value == NULL || value->type != RILL_VALUE_POINTER || value->ptr == NULL ||
        value->len != sizeof(struct rill_windowed))
        return NULL;
    const struct rill_windowed *windowed = value->ptr;
    return windowed->magic == RILL__WINDOWED_MAGIC ? windowed : NULL;
}

RILL_EXPORT const rill_value_t *rill_windowed_key(const rill_windowed_t *windowed)
{
    return windowed != NULL ? &windowed->key : NULL;
}

RILL_EXPORT int64_t rill_windowed_start(const rill_windowed_t *windowed)
{
    return windowed != NULL ? windowed->start : 0;
}

RILL_EXPORT int64_t rill_windowed_end(const rill_windowed_t *windowed)
{
    return windowed != NULL ? windowed->end : 0;
}

/* Copies src into dst (null first): bytes and strings duplicated, JSON referenced. */
static void value_copy(rill_value_t *dst, const rill_value_t *src)
{
    switch (src->type) {
    case RILL_VALUE_BYTES: {
        void *copy = g_memdup2(src->ptr != NULL ? src->ptr : "", src->len);
        rill_value_set_bytes(dst, copy, src->len, g_free);
        break;
    }
    case RILL_VALUE_STRING:
        rill_value_set_string(dst, g_strndup(src->ptr, src->len), g_free);
        break;
    case RILL_VALUE_JSON:
        /* the serde round trip makes an independent node */
        {
            rill_buffer_t *buffer = rill_buffer_new();
            const void *data = NULL;
            size_t len = 0;
            if (rill_serde_serialize(rill_serde_json(), src, buffer, &data, &len, NULL) ==
                RILL_OK)
                rill_serde_deserialize(rill_serde_json(), data, len, dst, NULL);
            rill_buffer_destroy(buffer);
        }
        break;
    default:
        *dst = *src;
        dst->destroy = NULL;
        break;
    }
}

RILL_EXPORT void rill_value_set_windowed(rill_value_t *value, const rill_value_t *key,
                                         int64_t start, int64_t end)
{
    if (value == NULL)
        return;
    struct rill_windowed *windowed = g_new0(struct rill_windowed, 1);
    windowed->magic = RILL__WINDOWED_MAGIC;
    windowed->key.type = RILL_VALUE_NULL;
    if (key != NULL)
        value_copy(&windowed->key, key);
    windowed->start = start;
    windowed->end = end;
    rill_value_set_pointer(value, windowed, sizeof *windowed, rill__windowed_free);
}

/* ---- text: "<key>@<start>" ----------------------------------------------------------- */

/* Appends key as text to out; false if it has no text form. */
static bool append_key_text(GString *out, const rill_value_t *key)
{
    switch (key->type) {
    case RILL_VALUE_NULL:
        return true;
    case RILL_VALUE_BYTES:
    case RILL_VALUE_STRING:
        g_string_append_len(out, key->ptr != NULL ? key->ptr : "", (gssize)key->len);
        return true;
    case RILL_VALUE_INT32:
        g_string_append_printf(out, "%" PRId32, key->num.i32);
        return true;
    case RILL_VALUE_INT64:
        g_string_append_printf(out, "%" PRId64, key->num.i64);
        return true;
    case RILL_VALUE_DOUBLE:
        g_string_append_printf(out, "%.17g", key->num.f64);
        return true;
    case RILL_VALUE_JSON: {
        rill_buffer_t buffer;
        rill__wbuf_init(&buffer.wbuf, 0);
        const void *data = NULL;
        size_t len = 0;
        bool ok = rill__serde_serialize(rill_serde_json(), key, &buffer, &data, &len, NULL) ==
                  RILL_OK;
        if (ok)
            g_string_append_len(out, data, (gssize)len);
        rill__wbuf_free(&buffer.wbuf);
        return ok;
    }
    case RILL_VALUE_POINTER:
        return false;
    }
    return false;
}

RILL_EXPORT char *rill_windowed_format(const rill_value_t *value)
{
    const rill_windowed_t *windowed = rill_value_windowed(value);
    if (windowed == NULL)
        return NULL;
    GString *out = g_string_sized_new(32);
    if (!append_key_text(out, &windowed->key)) {
        g_string_free(out, TRUE);
        return NULL;
    }
    g_string_append_printf(out, "@%" PRId64, windowed->start);
    return g_string_free(out, FALSE);
}

static rill_err_t not_windowed(rill_error_t **error)
{
    return rill_error_set(error, RILL_ERR_SERDE,
                          "a windowed serde needs a windowed key (rill_value_windowed)");
}

static rill_err_t text_serialize(const rill_value_t *value, rill_buffer_t *out, void *ud,
                                 rill_error_t **error)
{
    (void)ud;
    const rill_windowed_t *windowed = rill_value_windowed(value);
    if (windowed == NULL)
        return not_windowed(error);
    GString *text = g_string_sized_new(32);
    if (!append_key_text(text, &windowed->key)) {
        g_string_free(text, TRUE);
        return rill_error_set(error, RILL_ERR_SERDE,
                              "the windowed key's key (a pointer value) has no text form");
    }
    g_string_append_printf(text, "@%" PRId64, windowed->start);
    rill_buffer_append(out, text->str, text->len);
    g_string_free(text, TRUE);
    return RILL_OK;
}

static rill_err_t text_deserialize(const void *data, size_t len, rill_value_t *out, void *ud,
                                   rill_error_t **error)
{
    (void)ud;
    const char *text = data;
    const char *at = NULL;
    for (size_t i = len; i-- > 0;)
        if (text[i] == '@') {
            at = text + i;
            break;
        }
    if (at == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "a windowed key text has no '@<start>'");
    size_t digits = len - (size_t)(at - text) - 1;
    char number[24];
    if (digits == 0 || digits >= sizeof number)
        return rill_error_set(error, RILL_ERR_SERDE, "a windowed key text has a bad start");
    memcpy(number, at + 1, digits);
    number[digits] = '\0';
    char *end = NULL;
    gint64 start = g_ascii_strtoll(number, &end, 10);
    if (end == NULL || *end != '\0')
        return rill_error_set(error, RILL_ERR_SERDE, "a windowed key text has a bad start '%s'",
                              number);
    struct rill_windowed *windowed = g_new0(struct rill_windowed, 1);
    windowed->magic = RILL__WINDOWED_MAGIC;
    rill_value_set_string(&windowed->key, g_strndup(text, (gsize)(at - text)), g_free);
    windowed->start = start;
    windowed->end = INT64_MAX;
    rill_value_set_pointer(out, windowed, sizeof *windowed, rill__windowed_free);
    return RILL_OK;
}

static gpointer make_text_serde(gpointer unused)
{
    (void)unused;
    return rill_serde_new("windowed-string", text_serialize, text_deserialize, NULL, NULL);
}

RILL_EXPORT const rill_serde_t *rill_serde_windowed_string(void)
{
    static GOnce once = G_ONCE_INIT;
    return g_once(&once, make_text_serde, NULL);
}

/* ---- binary: Kafka Streams' windowed layouts -------------------------------------------- */

typedef struct binary {
    rill_serde_t *inner;
    int64_t window_size; /* time windows: 0 = end unknown */
    bool session;
} binary_t;

static void binary_free(void *p)
{
    binary_t *binary = p;
    rill_serde_unref(binary->inner);
    g_free(binary);
}

static void put_be64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

static int64_t get_be64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

static rill_err_t binary_serialize(const rill_value_t *value, rill_buffer_t *out, void *ud,
                                   rill_error_t **error)
{
    const binary_t *binary = ud;
    const rill_windowed_t *windowed = rill_value_windowed(value);
    if (windowed == NULL)
        return not_windowed(error);
    if (windowed->key.type == RILL_VALUE_NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "a windowed key with a null key");
    rill_buffer_t scratch;
    rill__wbuf_init(&scratch.wbuf, 0);
    const void *data = NULL;
    size_t len = 0;
    rill_err_t err = rill__serde_serialize(binary->inner, &windowed->key, &scratch, &data, &len,
                                           error);
    if (err == RILL_OK) {
        uint8_t times[16];
        rill_buffer_append(out, data != NULL ? data : "", len);
        if (binary->session) {
            put_be64(times, windowed->end);
            put_be64(times + 8, windowed->start);
            rill_buffer_append(out, times, 16);
        } else {
            put_be64(times, windowed->start);
            rill_buffer_append(out, times, 8);
        }
    }
    rill__wbuf_free(&scratch.wbuf);
    return err;
}

static rill_err_t binary_deserialize(const void *data, size_t len, rill_value_t *out, void *ud,
                                     rill_error_t **error)
{
    const binary_t *binary = ud;
    size_t times = binary->session ? 16 : 8;
    if (len < times)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "a %s windowed key of %zu bytes (at least %zu expected)",
                              binary->session ? "session" : "time", len, times);
    const uint8_t *p = (const uint8_t *)data + len - times;
    int64_t start, end;
    if (binary->session) {
        end = get_be64(p);
        start = get_be64(p + 8);
        if (end < start)
            return rill_error_set(error, RILL_ERR_SERDE,
                                  "a session windowed key ends (%" PRId64 ") before it starts "
                                  "(%" PRId64 ")",
                                  end, start);
    } else {
        start = get_be64(p);
        end = binary->window_size > 0 && start <= INT64_MAX - binary->window_size
                  ? start + binary->window_size
                  : INT64_MAX;
    }
    struct rill_windowed *windowed = g_new0(struct rill_windowed, 1);
    windowed->magic = RILL__WINDOWED_MAGIC;
    rill_err_t err =
        rill_serde_deserialize(binary->inner, data, len - times, &windowed->key, error);
    if (err != RILL_OK) {
        rill__windowed_free(windowed);
        return err;
    }
    windowed->start = start;
    windowed->end = end;
    rill_value_set_pointer(out, windowed, sizeof *windowed, rill__windowed_free);
    return RILL_OK;
}

static rill_serde_t *binary_new(const rill_serde_t *inner, int64_t window_size, bool session)
{
    if (inner == NULL || window_size < 0)
        return NULL;
    binary_t *binary = g_new0(binary_t, 1);
    binary->inner = rill_serde_ref(inner);
    binary->window_size = window_size;
    binary->session = session;
    g_autofree char *name = g_strdup_printf("%s-windowed(%s)", session ? "session" : "time",
                                            rill_serde_name(inner));
    return rill_serde_new(name, binary_serialize, binary_deserialize, binary, binary_free);
}

RILL_EXPORT rill_serde_t *rill_serde_time_windowed_new(const rill_serde_t *inner,
                                                       int64_t window_size_ms)
{
    return binary_new(inner, window_size_ms, false);
}

RILL_EXPORT rill_serde_t *rill_serde_session_windowed_new(const rill_serde_t *inner)
{
    return binary_new(inner, 0, true);
}
