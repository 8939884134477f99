/* rill/serde.h: serializers/deserializers between bytes on a topic and typed values.
 *
 * Built-in serdes are static and need no freeing: bytes, UTF-8 string,
 * int32/int64/double (big-endian, as Kafka's serdes), and JSON (json-glib,
 * values are JsonNode *). User serdes are reference counted.
 *
 * A null (absent) key or value is never passed to a serde: it stays null in
 * both directions, as in Kafka. Malformed input is an RILL_ERR_SERDE error
 * that the deserialization exception handler decides on. */
#ifndef RILL_SERDE_H
#define RILL_SERDE_H

#include <stddef.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>

RILL_BEGIN_DECLS

typedef struct rill_serde rill_serde_t;
/* A byte buffer a user serializer appends to; owned by rill. */
typedef struct rill_buffer rill_buffer_t;

RILL_EXPORT void rill_buffer_append(rill_buffer_t *buffer, const void *data, size_t len);

/* Built-in serdes. (transfer none, static: no unref needed, though it is harmless) */
RILL_EXPORT const rill_serde_t *rill_serde_bytes(void);
RILL_EXPORT const rill_serde_t *rill_serde_string(void); /* UTF-8, no NUL bytes */
RILL_EXPORT const rill_serde_t *rill_serde_int32(void);  /* exactly 4 bytes */
RILL_EXPORT const rill_serde_t *rill_serde_int64(void);  /* exactly 8 bytes */
RILL_EXPORT const rill_serde_t *rill_serde_double(void); /* exactly 8 bytes, IEEE 754 */
RILL_EXPORT const rill_serde_t *rill_serde_json(void);   /* any JSON document */

/* Serializes a non-null value into out. */
typedef rill_err_t (*rill_serialize_fn)(const rill_value_t *value, rill_buffer_t *out,
                                        void *user_data, rill_error_t **error);
/* Deserializes data[0..len) (borrowed until the record is done) into out,
 * with one of the rill_value_set_* setters. */
typedef rill_err_t (*rill_deserialize_fn)(const void *data, size_t len, rill_value_t *out,
                                          void *user_data, rill_error_t **error);

/* A user serde named name (for describe and errors). user_data is passed to
 * both functions; user_data_destroy (may be NULL) is called when the last
 * reference goes. (transfer full) release with rill_serde_unref(). */
RILL_EXPORT rill_serde_t *rill_serde_new(const char *name, rill_serialize_fn serialize,
                                         rill_deserialize_fn deserialize, void *user_data,
                                         void (*user_data_destroy)(void *user_data));
/* Takes a reference: returns serde (transfer full: one more reference, to
 * give back with rill_serde_unref). Built-ins are static: both are no-ops
 * for them. NULL is a no-op. Thread-safe. */
RILL_EXPORT rill_serde_t *rill_serde_ref(const rill_serde_t *serde);
/* Drops a reference; the last one frees the serde (and its user_data). */
RILL_EXPORT void rill_serde_unref(const rill_serde_t *serde);
/* The serde's name, e.g. "string". (transfer none) */
RILL_EXPORT const char *rill_serde_name(const rill_serde_t *serde);

/* Serializes value with serde. On success *data and *len are the bytes, valid
 * until the next call with the same buffer or its destruction; a null value
 * gives *data == NULL. (transfer none) */
RILL_EXPORT rill_err_t rill_serde_serialize(const rill_serde_t *serde, const rill_value_t *value,
                                            rill_buffer_t *scratch, const void **data, size_t *len,
                                            rill_error_t **error);
/* Deserializes data (NULL = null) into out (which is released first). Bytes
 * and strings are copied into out, so data need not outlive it. */
RILL_EXPORT rill_err_t rill_serde_deserialize(const rill_serde_t *serde, const void *data,
                                              size_t len, rill_value_t *out, rill_error_t **error);
/* A standalone buffer for rill_serde_serialize(). (transfer full) */
RILL_EXPORT rill_buffer_t *rill_buffer_new(void);
RILL_EXPORT void rill_buffer_destroy(rill_buffer_t *buffer);

RILL_END_DECLS

#endif /* RILL_SERDE_H */
