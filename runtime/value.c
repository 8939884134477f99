/* value.c: typed values and the read side of records (include/rill/record.h).
 *
 * Design: rill_value_t is a small tagged struct (record-private.h) held
 * inline in records and output slots, so setting a value never allocates;
 * ownership is a destroy function (NULL = borrowed). Standalone records (the
 * test driver's output) own one block of memory in record->owned. */
#include "config.h"

#include <string.h>

#include <glib.h>
#include <json-glib/json-glib.h>

#include <rill/record.h>
#include <rill/topology.h>

#include "runtime/record-private.h"

RILL_EXPORT rill_value_type_t rill_value_type(const rill_value_t *value)
{
    return value != NULL ? value->type : RILL_VALUE_NULL;
}

RILL_EXPORT bool rill_value_is_null(const rill_value_t *value)
{
    return value == NULL || value->type == RILL_VALUE_NULL;
}

RILL_EXPORT const void *rill_value_bytes(const rill_value_t *value, size_t *len)
{
    if (value != NULL && (value->type == RILL_VALUE_BYTES || value->type == RILL_VALUE_STRING)) {
        if (len != NULL)
            *len = value->len;
        return value->ptr;
    }
    if (len != NULL)
        *len = 0;
    return NULL;
}

RILL_EXPORT const char *rill_value_string(const rill_value_t *value)
{
    return value != NULL && value->type == RILL_VALUE_STRING ? value->ptr : NULL;
}

RILL_EXPORT int32_t rill_value_int32(const rill_value_t *value)
{
    return value != NULL && value->type == RILL_VALUE_INT32 ? value->num.i32 : 0;
}

RILL_EXPORT int64_t rill_value_int64(const rill_value_t *value)
{
    return value != NULL && value->type == RILL_VALUE_INT64 ? value->num.i64 : 0;
}

RILL_EXPORT double rill_value_double(const rill_value_t *value)
{
    return value != NULL && value->type == RILL_VALUE_DOUBLE ? value->num.f64 : 0.0;
}

RILL_EXPORT void *rill_value_json(const rill_value_t *value)
{
    return value != NULL && value->type == RILL_VALUE_JSON ? (void *)value->ptr : NULL;
}

RILL_EXPORT void *rill_value_pointer(const rill_value_t *value, size_t *len)
{
    if (value != NULL && value->type == RILL_VALUE_POINTER) {
        if (len != NULL)
            *len = value->len;
        return (void *)value->ptr;
    }
    if (len != NULL)
        *len = 0;
    return NULL;
}

static void set_ptr(rill_value_t *value, rill_value_type_t type, const void *ptr, size_t len,
                    void (*destroy)(void *))
{
    rill__value_clear(value);
    if (ptr == NULL)
        return; /* a NULL pointer is a null value */
    value->type = type;
    value->ptr = ptr;
    value->len = len;
    value->destroy = destroy;
}

RILL_EXPORT void rill_value_set_null(rill_value_t *value)
{
    if (value != NULL)
        rill__value_clear(value);
}

RILL_EXPORT void rill_value_set_bytes(rill_value_t *value, const void *data, size_t len,
                                      void (*destroy)(void *data))
{
    if (value != NULL)
        set_ptr(value, RILL_VALUE_BYTES, data, data != NULL ? len : 0, destroy);
}

RILL_EXPORT void rill_value_set_string(rill_value_t *value, const char *str,
                                       void (*destroy)(void *str))
{
    if (value != NULL)
        set_ptr(value, RILL_VALUE_STRING, str, str != NULL ? strlen(str) : 0, destroy);
}

RILL_EXPORT void rill_value_set_int32(rill_value_t *value, int32_t v)
{
    if (value == NULL)
        return;
    rill__value_clear(value);
    value->type = RILL_VALUE_INT32;
    value->num.i32 = v;
}

RILL_EXPORT void rill_value_set_int64(rill_value_t *value, int64_t v)
{
    if (value == NULL)
        return;
    rill__value_clear(value);
    value->type = RILL_VALUE_INT64;
    value->num.i64 = v;
}

RILL_EXPORT void rill_value_set_double(rill_value_t *value, double v)
{
    if (value == NULL)
        return;
    rill__value_clear(value);
    value->type = RILL_VALUE_DOUBLE;
    value->num.f64 = v;
}

static void unref_json_node(void *node)
{
    json_node_unref(node);
}

RILL_EXPORT void rill_value_set_json(rill_value_t *value, void *node)
{
    if (value != NULL)
        set_ptr(value, RILL_VALUE_JSON, node, 0, unref_json_node);
    else if (node != NULL)
        json_node_unref(node);
}

RILL_EXPORT void rill_value_set_pointer(rill_value_t *value, void *ptr, size_t len,
                                        void (*destroy)(void *ptr))
{
    if (value != NULL)
        set_ptr(value, RILL_VALUE_POINTER, ptr, len, destroy);
}

RILL_EXPORT void rill_value_set_view(rill_value_t *value, const rill_value_t *src)
{
    if (value == NULL)
        return;
    rill__value_clear(value);
    if (src != NULL)
        rill__value_view(value, src);
}

RILL_EXPORT rill_value_t *rill_value_new(void)
{
    return g_new0(rill_value_t, 1);
}

RILL_EXPORT void rill_value_destroy(rill_value_t *value)
{
    if (value == NULL)
        return;
    rill__value_clear(value);
    g_free(value);
}

/* ---- records --------------------------------------------------------------- */

RILL_EXPORT const rill_value_t *rill_record_key(const rill_record_t *record)
{
    return record != NULL ? &record->key : NULL;
}

RILL_EXPORT const rill_value_t *rill_record_value(const rill_record_t *record)
{
    return record != NULL ? &record->value : NULL;
}

RILL_EXPORT int64_t rill_record_timestamp(const rill_record_t *record)
{
    return record != NULL ? record->timestamp : -1;
}

RILL_EXPORT const char *rill_record_topic(const rill_record_t *record)
{
    return record != NULL ? record->topic : NULL;
}

RILL_EXPORT int32_t rill_record_partition(const rill_record_t *record)
{
    return record != NULL ? record->partition : -1;
}

RILL_EXPORT int64_t rill_record_offset(const rill_record_t *record)
{
    return record != NULL ? record->offset : -1;
}

RILL_EXPORT size_t rill_record_header_count(const rill_record_t *record)
{
    return record != NULL ? record->header_count : 0;
}

RILL_EXPORT bool rill_record_header(const rill_record_t *record, size_t i, const char **name,
                                    const void **value, size_t *value_len)
{
    if (record == NULL || i >= record->header_count)
        return false;
    const rill__header_t *header = &record->headers[i];
    if (name != NULL)
        *name = header->name;
    if (value != NULL)
        *value = header->value;
    if (value_len != NULL)
        *value_len = header->value_len;
    return true;
}

RILL_EXPORT const void *rill_record_header_last(const rill_record_t *record, const char *name,
                                                size_t *value_len)
{
    if (value_len != NULL)
        *value_len = 0;
    if (record == NULL || name == NULL)
        return NULL;
    for (size_t i = record->header_count; i-- > 0;) {
        const rill__header_t *header = &record->headers[i];
        if (strcmp(header->name, name) == 0) {
            if (value_len != NULL)
                *value_len = header->value_len;
            return header->value;
        }
    }
    return NULL;
}

RILL_EXPORT void rill_record_destroy(rill_record_t *record)
{
    if (record == NULL)
        return;
    rill__record_release(record);
    g_free(record->owned);
    g_free(record);
}

RILL_EXPORT void rill_free(void *ptr)
{
    g_free(ptr);
}
