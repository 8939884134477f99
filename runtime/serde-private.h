/* serde-private.h: the serde object and the allocation-free (de)serialization
 * the tasks use on the hot path.
 *
 * Design: a serde is a kind (the built-ins are recognised by kind so that the
 * hot path can borrow instead of copy) plus, for user serdes, two callbacks.
 * Deserializing bytes borrows the input; strings are copied into a scratch
 * buffer the caller reuses (for the NUL); numbers are held inline. Serializing
 * bytes and strings borrows the value; numbers and user serdes write into a
 * reused scratch buffer. */
#ifndef RILL_RUNTIME_SERDE_PRIVATE_H
#define RILL_RUNTIME_SERDE_PRIVATE_H

#include <rill/record.h>
#include <rill/serde.h>

#include "runtime/record-private.h"

#include "common/buf.h"

typedef enum rill__serde_kind {
    RILL__SERDE_BYTES,
    RILL__SERDE_STRING,
    RILL__SERDE_INT32,
    RILL__SERDE_INT64,
    RILL__SERDE_DOUBLE,
    RILL__SERDE_JSON,
    RILL__SERDE_USER,
} rill__serde_kind_t;

struct rill_serde {
    rill__serde_kind_t kind;
    int refcount; /* -1: static */
    char *name;
    rill_serialize_fn serialize;
    rill_deserialize_fn deserialize;
    void *user_data;
    void (*user_data_destroy)(void *user_data);
};

struct rill_buffer {
    rill_wbuf_t wbuf;
};

/* Deserializes data[0..len) (data NULL = null) into out, which must be null
 * on entry. Bytes are borrowed from data; strings go through scratch (reset
 * here, so out is valid until scratch's next use). */
rill_err_t rill__serde_deserialize(const rill_serde_t *serde, const void *data, size_t len,
                                   rill_value_t *out, rill_wbuf_t *scratch, rill_error_t **error);
/* Serializes value; *data points into value (bytes, strings) or scratch
 * (reset here). A null value gives *data NULL, *len 0. */
rill_err_t rill__serde_serialize(const rill_serde_t *serde, const rill_value_t *value,
                                 rill_buffer_t *scratch, const void **data, size_t *len,
                                 rill_error_t **error);
/* The serde whose output type matches type's (for sinks without serdes), never NULL. */
const rill_serde_t *rill__serde_for_type(rill_value_type_t type);

/* The hot-path forms: bytes (the most common serde, and the benchmark's) are
 * handled inline, everything else by the functions above. */
static inline rill_err_t rill__serde_deserialize_fast(const rill_serde_t *serde, const void *data,
                                                      size_t len, rill_value_t *out,
                                                      rill_wbuf_t *scratch, rill_error_t **error)
{
    if (serde->kind == RILL__SERDE_BYTES && data != NULL) {
        out->type = RILL_VALUE_BYTES;
        out->ptr = data;
        out->len = len;
        return RILL_OK;
    }
    return rill__serde_deserialize(serde, data, len, out, scratch, error);
}

static inline rill_err_t rill__serde_serialize_fast(const rill_serde_t *serde,
                                                    const rill_value_t *value,
                                                    rill_buffer_t *scratch, const void **data,
                                                    size_t *len, rill_error_t **error)
{
    if ((value->type == RILL_VALUE_BYTES || value->type == RILL_VALUE_STRING) &&
        (serde == NULL || serde->kind == RILL__SERDE_BYTES || serde->kind == RILL__SERDE_STRING)) {
        *data = value->ptr;
        *len = value->len;
        return RILL_OK;
    }
    if (value->type == RILL_VALUE_NULL) {
        *data = NULL;
        *len = 0;
        return RILL_OK;
    }
    return rill__serde_serialize(serde != NULL ? serde : rill__serde_for_type(value->type), value,
                                 scratch, data, len, error);
}

#endif /* RILL_RUNTIME_SERDE_PRIVATE_H */
