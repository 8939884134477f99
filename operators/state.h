/* state.h: a task's state stores, as the stateful operators open and use them.
 *
 * The first stateful node of a task to initialize makes the task's store set
 * (rill__task_set_state): the record cache of the task (env.cache_max_bytes;
 * 0 = write-through, caching off), the task directory and its checkpoint.
 * Each store is built innermost first, as Kafka Streams layers them:
 *
 *     RocksDB (<state.dir>/<app>/<task>/rocksdb/<store>/) or memory
 *       ◄── change-logging: each write also goes through env.sink to
 *           <app>-<store>-changelog, partition = the task's partition
 *       ◄── caching: dedupes between flushes, forwards (key, new, old)
 *
 * and restored before the task processes: from the checkpointed offset
 * (persistent stores with a valid checkpoint) or from offset 0 (the local
 * store wiped first), to the changelog's end, through env.changelog_read,
 * in batches of RILL__RESTORE_BATCH_DEFAULT records, progress logged.
 * rill__task_flush (each of its two phases, runtime/task.h) flushes the
 * nodes (their caches forward downstream) and then the store set: every
 * store flushed, then .checkpoint written with each persistent store's next
 * changelog offset (end of restore + records
 * logged since: one writer per changelog partition). */
#ifndef RILL_OPERATORS_STATE_H
#define RILL_OPERATORS_STATE_H

#include <rill/table.h>

#include "runtime/node.h"
#include "stores/cache.h"
#include "stores/kv.h"
#include "stores/window.h"

/* Opens (or finds, if another node of the task opened it) the store named
 * name for pnode's task, restored. forward (may be NULL) receives the cache's
 * flushed entries with old values; ud borrowed. (transfer none: the task owns
 * the store until it is destroyed) */
rill__kv_store_t *rill__state_store(rill__pnode_t *pnode, const char *name, bool in_memory,
                                    rill__kv_forward_fn forward, void *ud, rill_error_t **error);

/* As rill__state_store, for window and session stores: the innermost store
 * is a segmented store (stores/segments.h) made with segmented's settings
 * (its name, rocksdb and path are filled in here), under the same
 * change-logging, caching and restore. */
struct rill__segments_config;
rill__kv_store_t *rill__state_segmented_store(rill__pnode_t *pnode, const char *name,
                                              bool in_memory,
                                              const struct rill__segments_config *segmented,
                                              rill__kv_forward_fn forward, void *ud,
                                              rill_error_t **error);

/* Frees ptr with destroy after the task's stores are closed (closing a store
 * flushes its cache, whose forward callback may still use ptr). */
void rill__state_defer_free(rill__pnode_t *pnode, void *ptr, void (*destroy)(void *ptr));

/* Opens (or finds) the window store config->name for pnode's task, restored
 * like rill__state_store's and logged to <application.id>-<name>-changelog
 * (config's rocksdb, path and changelog are set here: RocksDB under the task
 * directory unless in_memory or the task has no state.dir). Writes go
 * through change-logging, not the record cache. (transfer none: the task
 * owns the store until it is destroyed) */
rill__window_store_t *rill__state_window_store(rill__pnode_t *pnode,
                                               const rill__window_store_config_t *config,
                                               bool in_memory, rill_error_t **error);

/* A table's update as it travels between rill's table operators: the record's
 * value is a POINTER value to a rill__change_t (borrowed for the call). */
typedef struct rill__change {
    rill_value_t new_value; /* null: deleted */
    rill_value_t old_value; /* null: there was none */
} rill__change_t;

/* A table handle (rill/table.h), owned by the builder: the node whose
 * records carry rill__change_t values, and its store if it is materialized. */
struct rill_table {
    rill_stream_t *stream;
    char *store; /* NULL: not materialized (filter, mapValues) */
    rill_serde_t *key_serde; /* of the store (NULL: the task's default) */
    rill_serde_t *value_serde;
};

/* A grouping (rill/table.h), owned by the builder. from_table: a table's
 * groupBy, whose records are "subtract" (header RILL__SUBTRACT_HEADER) or
 * "add" updates, in that order for each table change. */
struct rill_grouped {
    rill_stream_t *stream;
    bool from_table;
};
#define RILL__SUBTRACT_HEADER "rill.subtract"

/* Makes a grouping handle for stream. */
struct rill_grouped *rill__grouped_new(rill_stream_t *stream, bool from_table);

/* Makes a table handle for stream (store, serdes: borrowed, copied/ref'd). */
struct rill_table *rill__table_new(rill_stream_t *stream, const char *store,
                                   const rill_serde_t *key_serde, const rill_serde_t *value_serde);

#endif /* RILL_OPERATORS_STATE_H */
