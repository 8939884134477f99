/* rill/store.h: state stores in the processor API (Kafka Streams' context.getStateStore()).
 *
 *     static const char *const stores[] = {"seen", NULL};
 *     rill_stream_process(stream, &processor, stores, "dedupe");
 *     ...in init() or process():
 *     rill_store_t *seen = rill_context_get_store(context, "seen");
 *     rill_store_put(seen, key, key_len, "", 0, &error);
 *
 * Every store named in rill_stream_process() is a key-value store of bytes
 * created for each task: RocksDB in <state.dir>/<application.id>/<task>/
 * rocksdb/<store>/ (in memory when the app or driver has no state.dir),
 * logged to the compacted internal topic "<application.id>-<store>-changelog",
 * restored from it before the task processes, behind the task's record cache
 * (statestore.cache.max.bytes), and flushed and checkpointed at each commit.
 * Processors of one sub-topology that name the same store share it.
 *
 * Thread: a store is used by the thread of its task only. */
#ifndef RILL_STORE_H
#define RILL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/processor.h>

RILL_BEGIN_DECLS

typedef struct rill_store rill_store_t;

/* The store name of the processor's task, restored, or NULL if the processor
 * did not name it in rill_stream_process() or it cannot be opened (the
 * reason is logged). (transfer none: valid until the task closes) */
RILL_EXPORT rill_store_t *rill_context_get_store(rill_context_t *context, const char *name);

/* Reads key: *value (transfer full, free with rill_free) and *value_len, or
 * *value NULL if absent. */
RILL_EXPORT rill_err_t rill_store_get(rill_store_t *store, const void *key, size_t key_len,
                                      void **value, size_t *value_len, rill_error_t **error);
/* Writes key = value (value NULL deletes key); the record's time is the task's stream time. */
RILL_EXPORT rill_err_t rill_store_put(rill_store_t *store, const void *key, size_t key_len,
                                      const void *value, size_t value_len, rill_error_t **error);
RILL_EXPORT rill_err_t rill_store_delete(rill_store_t *store, const void *key, size_t key_len,
                                         rill_error_t **error);
/* Calls fn for each key in [from, to) in byte order (NULL bounds = open);
 * fn returns false to stop. Keys and values are borrowed for the call. */
typedef bool (*rill_store_each_fn)(const void *key, size_t key_len, const void *value,
                                   size_t value_len, void *user_data);
RILL_EXPORT rill_err_t rill_store_range(rill_store_t *store, const void *from, size_t from_len,
                                        const void *to, size_t to_len, rill_store_each_fn fn,
                                        void *user_data, rill_error_t **error);

RILL_END_DECLS

#endif /* RILL_STORE_H */
