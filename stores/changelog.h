/* changelog.h: the change-logging layer, and the small sink interface through which it reaches Kafka.
 *
 * Every put and delete on a logged store is applied to the wrapped store and
 * then sent to the store's changelog (Kafka Streams' ChangeLoggingKeyValueBytesStore).
 * stores/ only declares the sink: the runtime implements it with librdkafka,
 * producing to `<application.id>-<store>-changelog`, partition = the task's
 * partition; tests implement it with a list. Restores must write to the
 * wrapped store (rill__kv_store_innermost), never through this layer, or
 * every restored record would be logged again. */
#ifndef RILL_STORES_CHANGELOG_H
#define RILL_STORES_CHANGELOG_H

#include "stores/kv.h"

typedef struct rill__changelog_sink {
    /* Sends one changelog record: value NULL = tombstone. key and value are
     * borrowed for the call (copy them, as rd_kafka_producev with
     * RD_KAFKA_MSG_F_COPY does). An error fails the write that caused it. */
    rill_err_t (*send)(void *ud, const void *key, size_t key_len, const void *value,
                       size_t value_len, int64_t timestamp, rill_error_t **error);
    void *ud;
} rill__changelog_sink_t;

/* Wraps inner (transfer full) in a change-logging layer that sends through
 * sink (copied; sink->ud borrowed for the store's life). The layer has inner's
 * name. (transfer full: rill__kv_close, which closes inner too) */
rill__kv_store_t *rill__kv_logging_new(rill__kv_store_t *inner, const rill__changelog_sink_t *sink);

/* The changelog topic of a store: "<application_id>-<store_name>-changelog". (transfer full, g_free) */
char *rill__changelog_topic(const char *application_id, const char *store_name);

#endif
