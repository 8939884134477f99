/* error.c: rill_error_t, the error object of rill's one error model.
 *
 * See include/rill/error.h for the rules (GError's). Invariant: an error
 * always has a message (never NULL) and a code other than RILL_OK. */
#include "config.h"

#include <stdarg.h>

#include <glib.h>

#include <rill/error.h>

struct rill_error {
    rill_err_t code;
    int kafka_code;
    unsigned flags;
    char *message;
};

static const char *const err_names[RILL_ERR__COUNT] = {
    [RILL_OK] = "RILL_OK",
    [RILL_ERR_INVALID_ARG] = "RILL_ERR_INVALID_ARG",
    [RILL_ERR_INVALID_CONFIG] = "RILL_ERR_INVALID_CONFIG",
    [RILL_ERR_INVALID_STATE] = "RILL_ERR_INVALID_STATE",
    [RILL_ERR_NOT_FOUND] = "RILL_ERR_NOT_FOUND",
    [RILL_ERR_EXISTS] = "RILL_ERR_EXISTS",
    [RILL_ERR_NOMEM] = "RILL_ERR_NOMEM",
    [RILL_ERR_IO] = "RILL_ERR_IO",
    [RILL_ERR_KAFKA] = "RILL_ERR_KAFKA",
    [RILL_ERR_SERDE] = "RILL_ERR_SERDE",
    [RILL_ERR_STORE] = "RILL_ERR_STORE",
    [RILL_ERR_TIMEOUT] = "RILL_ERR_TIMEOUT",
    [RILL_ERR_FENCED] = "RILL_ERR_FENCED",
    [RILL_ERR_CORRUPT] = "RILL_ERR_CORRUPT",
    [RILL_ERR_UNSUPPORTED] = "RILL_ERR_UNSUPPORTED",
    [RILL_ERR_USER] = "RILL_ERR_USER",
};

RILL_EXPORT const char *rill_err_name(rill_err_t code)
{
    if ((unsigned)code >= RILL_ERR__COUNT)
        return "RILL_ERR_UNKNOWN";
    return err_names[code];
}

static rill_err_t set_valist(rill_error_t **error, rill_err_t code, int kafka_code, unsigned flags,
                             const char *fmt, va_list ap)
{
    if (code == RILL_OK)
        code = RILL_ERR_INVALID_STATE; /* an error must never say OK */
    if (error == NULL || *error != NULL)
        return code; /* not wanted, or the first error wins */
    rill_error_t *err = g_new0(rill_error_t, 1);
    err->code = code;
    err->kafka_code = kafka_code;
    err->flags = flags;
    err->message = g_strdup_vprintf(fmt, ap);
    *error = err;
    return code;
}

RILL_EXPORT rill_err_t rill_error_set(rill_error_t **error, rill_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill_err_t ret = set_valist(error, code, 0, 0, fmt, ap);
    va_end(ap);
    return ret;
}

RILL_EXPORT rill_err_t rill_error_set_full(rill_error_t **error, rill_err_t code, int kafka_code,
                                           unsigned flags, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rill_err_t ret = set_valist(error, code, kafka_code, flags, fmt, ap);
    va_end(ap);
    return ret;
}

RILL_EXPORT void rill_error_prefix(rill_error_t **error, const char *fmt, ...)
{
    if (error == NULL || *error == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *prefix = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *msg = g_strconcat(prefix, (*error)->message, NULL);
    g_free((*error)->message);
    (*error)->message = msg;
}

RILL_EXPORT rill_err_t rill_error_code(const rill_error_t *error)
{
    return error ? error->code : RILL_OK;
}

RILL_EXPORT const char *rill_error_message(const rill_error_t *error)
{
    return error ? error->message : "";
}

RILL_EXPORT int rill_error_kafka_code(const rill_error_t *error)
{
    return error ? error->kafka_code : 0;
}

RILL_EXPORT bool rill_error_is_retriable(const rill_error_t *error)
{
    return error && (error->flags & RILL_ERROR_RETRIABLE);
}

RILL_EXPORT bool rill_error_is_fatal(const rill_error_t *error)
{
    return error && (error->flags & RILL_ERROR_FATAL);
}

RILL_EXPORT bool rill_error_txn_requires_abort(const rill_error_t *error)
{
    return error && (error->flags & RILL_ERROR_ABORT_TXN);
}

RILL_EXPORT rill_error_t *rill_error_copy(const rill_error_t *error)
{
    if (error == NULL)
        return NULL;
    rill_error_t *copy = g_new0(rill_error_t, 1);
    *copy = *error;
    copy->message = g_strdup(error->message);
    return copy;
}

RILL_EXPORT void rill_error_destroy(rill_error_t *error)
{
    if (error == NULL)
        return;
    g_free(error->message);
    g_free(error);
}
