/* rill/record.h: records and the typed values they carry.
 *
 * A record is what flows through a topology: a key, a value, a timestamp,
 * headers, and where it came from (topic, partition, offset). Keys and values
 * are deserialized once, at the source, into a rill_value_t whose type is set
 * by the serde (bytes, UTF-8 string, int32, int64, double, JSON, or a user
 * object); they are serialized once, at the sink.
 *
 * Lifetimes: a record handed to a callback is borrowed (transfer none) until
 * the callback returns. Values that a callback sets on an output slot either
 * transfer ownership (give a destroy function) or are borrowed (destroy NULL):
 * a borrowed pointer must stay valid until the record that produced it is
 * done, which it is when it points into the input record or static memory.
 * Nothing downstream keeps a value past the record: sinks and stores
 * serialize. This is what lets bytes and strings flow without copies. */
#ifndef RILL_RECORD_H
#define RILL_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rill/export.h>

RILL_BEGIN_DECLS

typedef struct rill_record rill_record_t;
typedef struct rill_value rill_value_t;

/* The type of a value, set by the serde that produced it or the setter used. */
typedef enum rill_value_type {
    RILL_VALUE_NULL = 0, /* no value (a null key, or a tombstone) */
    RILL_VALUE_BYTES,    /* opaque bytes */
    RILL_VALUE_STRING,   /* UTF-8, NUL-terminated (the length excludes the NUL) */
    RILL_VALUE_INT32,
    RILL_VALUE_INT64,
    RILL_VALUE_DOUBLE,
    RILL_VALUE_JSON,    /* a json-glib JsonNode * */
    RILL_VALUE_POINTER, /* a user object, produced by a user serde or callback */
} rill_value_type_t;

/* ---- reading values ------------------------------------------------------ */

RILL_EXPORT rill_value_type_t rill_value_type(const rill_value_t *value);
RILL_EXPORT bool rill_value_is_null(const rill_value_t *value);
/* The bytes of a BYTES or STRING value, else NULL. (transfer none, lives as long as value) */
RILL_EXPORT const void *rill_value_bytes(const rill_value_t *value, size_t *len);
/* A STRING value, else NULL. (transfer none, lives as long as value) */
RILL_EXPORT const char *rill_value_string(const rill_value_t *value);
/* Numbers: the value, or 0 when the value is of another type. */
RILL_EXPORT int32_t rill_value_int32(const rill_value_t *value);
RILL_EXPORT int64_t rill_value_int64(const rill_value_t *value);
RILL_EXPORT double rill_value_double(const rill_value_t *value);
/* A JSON value as a JsonNode * (json-glib), else NULL. (transfer none) */
RILL_EXPORT void *rill_value_json(const rill_value_t *value);
/* A POINTER value (and its length, if the producer gave one), else NULL. (transfer none) */
RILL_EXPORT void *rill_value_pointer(const rill_value_t *value, size_t *len);

/* ---- setting values (output slots given to callbacks, or standalone) ---- */

/* Each setter first releases what the value held. A non-NULL destroy takes
 * ownership of the data (transfer full): it is called once, when the value is
 * released. destroy NULL borrows the data (see the lifetime rule above). */
RILL_EXPORT void rill_value_set_null(rill_value_t *value);
RILL_EXPORT void rill_value_set_bytes(rill_value_t *value, const void *data, size_t len,
                                      void (*destroy)(void *data));
/* str must be valid UTF-8 and NUL-terminated (not checked on this hot path;
 * the string serde checks what it reads). */
RILL_EXPORT void rill_value_set_string(rill_value_t *value, const char *str,
                                       void (*destroy)(void *str));
RILL_EXPORT void rill_value_set_int32(rill_value_t *value, int32_t v);
RILL_EXPORT void rill_value_set_int64(rill_value_t *value, int64_t v);
RILL_EXPORT void rill_value_set_double(rill_value_t *value, double v);
/* node is a JsonNode * (transfer full: the value unrefs it). */
RILL_EXPORT void rill_value_set_json(rill_value_t *value, void *node);
RILL_EXPORT void rill_value_set_pointer(rill_value_t *value, void *ptr, size_t len,
                                        void (*destroy)(void *ptr));
/* Makes value a borrowed view of src (no copy): valid while src is. */
RILL_EXPORT void rill_value_set_view(rill_value_t *value, const rill_value_t *src);

/* A standalone value (e.g. to pipe typed input into the test driver).
 * (transfer full) free with rill_value_destroy(); starts NULL-typed. */
RILL_EXPORT rill_value_t *rill_value_new(void);
RILL_EXPORT void rill_value_destroy(rill_value_t *value);

/* ---- reading records ----------------------------------------------------- */

/* The key and value. (transfer none, as long as the record) */
RILL_EXPORT const rill_value_t *rill_record_key(const rill_record_t *record);
RILL_EXPORT const rill_value_t *rill_record_value(const rill_record_t *record);
/* Event time in ms (set by the source's timestamp extractor). */
RILL_EXPORT int64_t rill_record_timestamp(const rill_record_t *record);
/* Where the record came from: the source topic, partition and offset of the
 * input record being processed (NULL / -1 when unknown). (transfer none) */
RILL_EXPORT const char *rill_record_topic(const rill_record_t *record);
RILL_EXPORT int32_t rill_record_partition(const rill_record_t *record);
RILL_EXPORT int64_t rill_record_offset(const rill_record_t *record);

/* Headers, in order. Values may be NULL (a null header value). (transfer none) */
RILL_EXPORT size_t rill_record_header_count(const rill_record_t *record);
RILL_EXPORT bool rill_record_header(const rill_record_t *record, size_t i, const char **name,
                                    const void **value, size_t *value_len);
/* The last header named name, or NULL (then *value_len is 0). (transfer none) */
RILL_EXPORT const void *rill_record_header_last(const rill_record_t *record, const char *name,
                                                size_t *value_len);

/* Frees a record that was handed over with (transfer full), e.g. by the test
 * driver's rill_driver_read_output(). NULL is a no-op. Never call it on a
 * record given to a callback. */
RILL_EXPORT void rill_record_destroy(rill_record_t *record);

/* A header given by the caller (e.g. piped into the test driver). */
typedef struct rill_header {
    const char *name;
    const void *value; /* NULL = null value */
    size_t value_len;
} rill_header_t;

RILL_END_DECLS

#endif /* RILL_RECORD_H */
