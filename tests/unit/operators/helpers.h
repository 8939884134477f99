/* helpers.h: what the operator tests share: a string-typed source, a driver
 * around a built topology, and reading an output topic as "key=value" lines. */
#ifndef RILL_TESTS_OPERATORS_HELPERS_H
#define RILL_TESTS_OPERATORS_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include <rill/rill.h>

static inline rill_stream_t *string_stream(rill_builder_t *builder, const char *topic)
{
    rill_consumed_t consumed = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    return rill_builder_stream(builder, topic, &consumed);
}

/* Builds (asserting success), frees the builder, and starts a driver. */
static inline rill_driver_t *start(rill_builder_t *builder, rill_topology_t **topology)
{
    rill_error_t *error = NULL;
    *topology = rill_builder_build(builder, &error);
    if (error != NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    rill_driver_t *driver = rill_driver_new(*topology, NULL, &error);
    assert_non_null(driver);
    return driver;
}

static inline void pipe_ok(rill_driver_t *driver, const char *topic, const char *key,
                           const char *value)
{
    rill_error_t *error = NULL;
    if (rill_driver_pipe_string(driver, topic, key, value, 1, &error) != RILL_OK)
        fail_msg("pipe: %s", rill_error_message(error));
}

/* The unread records of topic as "key=value" joined by ",", null as "~". (transfer full) */
static inline char *drain(rill_driver_t *driver, const char *topic)
{
    GString *out = g_string_new(NULL);
    rill_record_t *r;
    while ((r = rill_driver_read_output(driver, topic, rill_serde_string(), rill_serde_string(),
                                        NULL)) != NULL) {
        const char *key = rill_value_string(rill_record_key(r));
        const char *value = rill_value_string(rill_record_value(r));
        g_string_append_printf(out, "%s%s=%s", out->len > 0 ? "," : "", key ? key : "~",
                               value ? value : "~");
        rill_record_destroy(r);
    }
    return g_string_free(out, FALSE);
}

static inline void stop(rill_driver_t *driver, rill_topology_t *topology)
{
    rill_driver_destroy(driver);
    rill_topology_destroy(topology);
}

#endif /* RILL_TESTS_OPERATORS_HELPERS_H */
