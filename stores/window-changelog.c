/* window-changelog.c: change-logging for window and session stores: the layer stack and the changelog topic's configs.
 *
 * A windowed store's changelog carries exactly the store's keys (windowed-key.h)
 * and values, so the generic change-logging layer (changelog.h) does the
 * logging and the generic restorer (restore.h) the restoring: both see the
 * segmented store as a kv store. What is windowed about the changelog is its
 * topic config: compacted (the latest value of each window) AND deleted by
 * time, so that windows that expired from the store also leave the topic,
 * with a margin (windowstore.changelog.additional.retention.ms) for clock
 * differences between the app and the broker. */
#include "config.h"

#include "stores/segments.h"
#include "stores/window.h"

char **rill__windowed_changelog_config(int64_t store_retention_ms, int64_t additional_ms)
{
    if (additional_ms < 0)
        additional_ms = RILL__WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS_DEFAULT;
    int64_t retention = store_retention_ms > INT64_MAX - additional_ms
                            ? INT64_MAX
                            : store_retention_ms + additional_ms;
    char **c = g_new0(char *, 7);
    c[0] = g_strdup("cleanup.policy");
    c[1] = g_strdup("compact,delete");
    c[2] = g_strdup("retention.ms");
    c[3] = g_strdup_printf("%" G_GINT64_FORMAT, retention);
    c[4] = g_strdup("message.timestamp.type");
    c[5] = g_strdup("CreateTime");
    return c;
}

rill__kv_store_t *rill__windowed_stack_open(const struct rill__segments_config *config,
                                            const rill__changelog_sink_t *sink,
                                            rill__kv_store_t **segments, rill_error_t **error)
{
    if (sink && sink->send == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "store %s: changelog sink without send",
                       config->name ? config->name : "?");
        return NULL;
    }
    rill__kv_store_t *segs = rill__segments_open(config, error);
    if (segs == NULL)
        return NULL;
    *segments = segs;
    return sink ? rill__kv_logging_new(segs, sink) : segs;
}
