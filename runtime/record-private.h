/* record-private.h: the layout of rill_value_t and rill_record_t, shared by the
 * runtime and the operators.
 *
 * Records live on the C stack of the node that creates them and are passed
 * down depth-first by pointer, so forwarding allocates nothing. A derived
 * record (rill__record_derive) is a shallow copy whose key and value are
 * borrowed views: only the record that set a value owns it (destroy != NULL)
 * and releases it (rill__record_release) after its children have returned.
 *
 * Numbers are held inline (num), so a value never needs the heap for them. */
#ifndef RILL_RUNTIME_RECORD_PRIVATE_H
#define RILL_RUNTIME_RECORD_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <rill/record.h>

#include "runtime/task.h"

struct rill_value {
    rill_value_type_t type;
    const void *ptr; /* BYTES, STRING, JSON, POINTER */
    size_t len;
    union {
        int32_t i32;
        int64_t i64;
        double f64;
    } num;
    void (*destroy)(void *ptr); /* owner's destructor of ptr, NULL when borrowed */
};

struct rill_record {
    rill_value_t key;
    rill_value_t value;
    int64_t timestamp;
    const char *topic;
    int32_t partition;
    int64_t offset;
    const rill__header_t *headers;
    size_t header_count;
    void *owned; /* standalone records (rill_record_destroy): the memory they own */
};

/* rill_header_t (public) and rill__header_t (task.h) are one layout, so
 * that headers pass between them without copies. */
_Static_assert(sizeof(rill_header_t) == sizeof(rill__header_t) &&
                   offsetof(rill_header_t, name) == offsetof(rill__header_t, name) &&
                   offsetof(rill_header_t, value) == offsetof(rill__header_t, value) &&
                   offsetof(rill_header_t, value_len) == offsetof(rill__header_t, value_len),
               "rill_header_t and rill__header_t must match");

#define RILL__VALUE_NULL_INIT                                                                      \
    {                                                                                              \
        .type = RILL_VALUE_NULL                                                                    \
    }

/* Releases what value owns and makes it null. */
static inline void rill__value_clear(rill_value_t *value)
{
    if (value->destroy != NULL && value->ptr != NULL)
        value->destroy((void *)value->ptr);
    value->type = RILL_VALUE_NULL;
    value->ptr = NULL;
    value->len = 0;
    value->destroy = NULL;
}

/* A borrowed view of src. */
static inline void rill__value_view(rill_value_t *dst, const rill_value_t *src)
{
    *dst = *src;
    dst->destroy = NULL;
}

/* out = a copy of in whose key and value are borrowed views. */
static inline void rill__record_derive(rill_record_t *out, const rill_record_t *in)
{
    *out = *in;
    out->key.destroy = NULL;
    out->value.destroy = NULL;
    out->owned = NULL;
}

/* Releases what record's key and value own. */
static inline void rill__record_release(rill_record_t *record)
{
    rill__value_clear(&record->key);
    rill__value_clear(&record->value);
}

#endif /* RILL_RUNTIME_RECORD_PRIVATE_H */
