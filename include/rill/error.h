/* rill/error.h: rill's one error model.
 *
 * A function that can fail returns rill_err_t (RILL_OK == 0) and takes an
 * optional last argument `rill_error_t **error`, with GError's rules:
 *   - it may be NULL (the caller does not want details);
 *   - it is set only on failure, and *error must be NULL on entry;
 *   - the caller owns what is set (transfer full) and frees it with
 *     rill_error_destroy();
 *   - it is never overwritten: the first error wins.
 * The error keeps a code, a message, the underlying librdkafka error code
 * when Kafka caused it (rd_kafka_resp_err_t, kept as int so that no
 * librdkafka type leaks into this header), and three flags that tell the
 * caller what to do next: retriable, fatal, or abort the transaction. */
#ifndef RILL_ERROR_H
#define RILL_ERROR_H

#include <stdbool.h>
#include <stddef.h>

#include <rill/export.h>

RILL_BEGIN_DECLS

typedef enum rill_err {
    RILL_OK = 0,
    RILL_ERR_INVALID_ARG,    /* a caller passed something a function cannot take */
    RILL_ERR_INVALID_CONFIG, /* a configuration key or value is wrong */
    RILL_ERR_INVALID_STATE,  /* the call is not allowed in the object's state */
    RILL_ERR_NOT_FOUND,      /* a named thing does not exist */
    RILL_ERR_EXISTS,         /* a named thing exists already */
    RILL_ERR_NOMEM,          /* out of memory */
    RILL_ERR_IO,             /* a file or socket operation failed */
    RILL_ERR_KAFKA,          /* Kafka (librdkafka or the broker) failed */
    RILL_ERR_SERDE,          /* a key or value could not be (de)serialized */
    RILL_ERR_STORE,          /* a state store failed */
    RILL_ERR_TIMEOUT,        /* a bounded wait ran out */
    RILL_ERR_FENCED,         /* another instance took over (exactly-once) */
    RILL_ERR_CORRUPT,        /* data on disk or on the wire is malformed */
    RILL_ERR_UNSUPPORTED,    /* valid, but rill does not do it */
    RILL_ERR_USER,           /* a user callback reported failure */
    RILL_ERR__COUNT
} rill_err_t;

typedef struct rill_error rill_error_t;

/* The flags of an error: what the caller may do about it. */
enum {
    RILL_ERROR_RETRIABLE = 1 << 0,  /* the same call may succeed later */
    RILL_ERROR_FATAL = 1 << 1,      /* the object that failed cannot be used any more */
    RILL_ERROR_ABORT_TXN = 1 << 2,  /* the current transaction must be aborted */
};

/* The stable name of a code, e.g. "RILL_ERR_INVALID_CONFIG". (transfer none, static) */
RILL_EXPORT const char *rill_err_name(rill_err_t code);

/* Sets *error (when error is not NULL and *error is NULL) to a new error with
 * the printf-style message, and returns code so that a function can end with
 * `return rill_error_set(error, RILL_ERR_IO, "open %s: %s", path, strerror(e));` */
RILL_EXPORT rill_err_t rill_error_set(rill_error_t **error, rill_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* As rill_error_set, with the librdkafka error code and flags. */
RILL_EXPORT rill_err_t rill_error_set_full(rill_error_t **error, rill_err_t code, int kafka_code,
                                           unsigned flags, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Prefixes the message of *error (if set) with more context: "reading x: <msg>". */
RILL_EXPORT void rill_error_prefix(rill_error_t **error, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Accessors. The message is borrowed until the error is destroyed. */
RILL_EXPORT rill_err_t rill_error_code(const rill_error_t *error);
RILL_EXPORT const char *rill_error_message(const rill_error_t *error);
RILL_EXPORT int rill_error_kafka_code(const rill_error_t *error);
RILL_EXPORT bool rill_error_is_retriable(const rill_error_t *error);
RILL_EXPORT bool rill_error_is_fatal(const rill_error_t *error);
RILL_EXPORT bool rill_error_txn_requires_abort(const rill_error_t *error);

/* A copy of error (transfer full), or NULL for NULL. */
RILL_EXPORT rill_error_t *rill_error_copy(const rill_error_t *error);

/* Frees error; NULL is a no-op. */
RILL_EXPORT void rill_error_destroy(rill_error_t *error);

RILL_END_DECLS

#endif /* RILL_ERROR_H */
