/* log.c: the one log format of every rill program (see log.h). */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "common/log.h"

int rill__log_threshold = RILL_LOG_LVL_INFO;

static const char *const level_names[] = {"ERROR", "WARN ", "INFO ", "DEBUG", "TRACE"};

int rill__log_level_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (g_ascii_strcasecmp(name, "error") == 0)
        return RILL_LOG_LVL_ERROR;
    if (g_ascii_strcasecmp(name, "warn") == 0 || g_ascii_strcasecmp(name, "warning") == 0)
        return RILL_LOG_LVL_WARN;
    if (g_ascii_strcasecmp(name, "info") == 0)
        return RILL_LOG_LVL_INFO;
    if (g_ascii_strcasecmp(name, "debug") == 0)
        return RILL_LOG_LVL_DEBUG;
    if (g_ascii_strcasecmp(name, "trace") == 0)
        return RILL_LOG_LVL_TRACE;
    return -1;
}

void rill__log_set_level(rill_log_level_t level)
{
    rill__log_threshold = level;
}

/* Formats and writes one line. The buffer is on the stack; a message longer
 * than it is cut and ends with "...". */
static void write_line(rill_log_level_t level, const char *component, const char *msg)
{
    char line[4096];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s %s: %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (int)(tv.tv_usec / 1000), level_names[level],
                     component ? component : "rill", msg);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line) - 1) {
        n = sizeof(line) - 2;
        memcpy(line + n - 3, "...", 3);
    }
    /* drop trailing newlines of the message, then end with exactly one */
    while (n > 0 && line[n - 1] == '\n')
        n--;
    line[n++] = '\n';
    ssize_t off = 0;
    while (off < n) {
        ssize_t w = write(STDERR_FILENO, line + off, (size_t)(n - off));
        if (w <= 0)
            return;
        off += w;
    }
}

void rill__log(rill_log_level_t level, const char *component, const char *fmt, ...)
{
    if (!RILL_LOG_ENABLED(level))
        return;
    char msg[3800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    write_line(level, component, msg);
}

static rill_log_level_t from_glib(GLogLevelFlags flags)
{
    if (flags & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
        return RILL_LOG_LVL_ERROR;
    if (flags & G_LOG_LEVEL_WARNING)
        return RILL_LOG_LVL_WARN;
    if (flags & (G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO))
        return RILL_LOG_LVL_INFO;
    return RILL_LOG_LVL_DEBUG;
}

static GLogWriterOutput glib_writer(GLogLevelFlags flags, const GLogField *fields, gsize n_fields,
                                    gpointer user_data)
{
    rill_log_level_t level = from_glib(flags);
    if (!RILL_LOG_ENABLED(level))
        return G_LOG_WRITER_HANDLED;
    const char *domain = NULL, *message = NULL;
    for (gsize i = 0; i < n_fields; i++) {
        if (strcmp(fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
            domain = fields[i].value;
        else if (strcmp(fields[i].key, "MESSAGE") == 0 && fields[i].length < 0)
            message = fields[i].value;
    }
    write_line(level, domain ? domain : "glib", message ? message : "");
    return G_LOG_WRITER_HANDLED;
}

void rill__log_init(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        g_log_set_writer_func(glib_writer, NULL, NULL);
        g_once_init_leave(&once, 1);
    }
    int level = rill__log_level_parse(g_getenv("RILL_LOG_LEVEL"));
    if (level >= 0)
        rill__log_threshold = level;
}
