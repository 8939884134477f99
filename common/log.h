/* log.h: structured, levelled logging, one format for every rill program.
 *
 * A line is
 *     2026-11-25T00:33:27.123Z INFO  broker.net: accepted connection peer=127.0.0.1:5311
 * written with one write(2) to stderr, so lines from several threads never
 * interleave. The component names the subsystem ("broker.log", "runtime.thread").
 * Messages are free text; facts worth grepping go at the end as key=value.
 *
 * GLib's own messages (g_warning, g_critical, and those of json-glib) are
 * routed through the same writer by rill__log_init(), so that everything a
 * process prints looks alike. Hot paths never log per record: guard detailed
 * logs with RILL_LOG_ENABLED(level). */
#ifndef RILL_COMMON_LOG_H
#define RILL_COMMON_LOG_H

#include <stdbool.h>

typedef enum rill_log_level {
    RILL_LOG_LVL_ERROR = 0,
    RILL_LOG_LVL_WARN = 1,
    RILL_LOG_LVL_INFO = 2,
    RILL_LOG_LVL_DEBUG = 3,
    RILL_LOG_LVL_TRACE = 4,
} rill_log_level_t;

extern int rill__log_threshold;

/* Installs the GLib writer and sets the level from $RILL_LOG_LEVEL if set
 * (error|warn|info|debug|trace), else INFO. Safe to call more than once. */
void rill__log_init(void);

/* Sets the level. */
void rill__log_set_level(rill_log_level_t level);

/* Parses "error", "warn"/"warning", "info", "debug", "trace" (any case).
 * Returns the level, or -1 for anything else. */
int rill__log_level_parse(const char *name);

/* Writes one line when level is enabled. */
void rill__log(rill_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define RILL_LOG_ENABLED(level) ((int)(level) <= rill__log_threshold)

#define RILL_LOG_ERROR(component, ...) rill__log(RILL_LOG_LVL_ERROR, component, __VA_ARGS__)
#define RILL_LOG_WARN(component, ...) rill__log(RILL_LOG_LVL_WARN, component, __VA_ARGS__)
#define RILL_LOG_INFO(component, ...) rill__log(RILL_LOG_LVL_INFO, component, __VA_ARGS__)
#define RILL_LOG_DEBUG(component, ...) rill__log(RILL_LOG_LVL_DEBUG, component, __VA_ARGS__)
#define RILL_LOG_TRACE(component, ...) rill__log(RILL_LOG_LVL_TRACE, component, __VA_ARGS__)

#endif /* RILL_COMMON_LOG_H */
