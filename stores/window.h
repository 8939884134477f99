/* window.h: window stores: values keyed by (key, window start), kept for a retention period, expired by whole segments.
 *
 * The store behind windowed aggregations (hopping/tumbling/sliding windows)
 * and, with duplicates retained, the buffers of stream-stream joins: Kafka
 * Streams' WindowStore. Built as
 *
 *     window store ─► [change-logging (changelog.h), if a sink is given] ─► segmented store (segments.h)
 *                                                                         ├─ RocksDB: one instance per segment
 *                                                                         └─ memory: one kv store per segment
 *
 * so both implementations share one segment logic, and the changelog and
 * the store hold the same bytes: the store key `E(key) 00 01 | T(start) |
 * seq` (windowed-key.h). Every write goes through the logging layer, reads
 * go straight to the segments.
 *
 * Semantics (Kafka Streams' ReadOnlyWindowStore):
 *   - time ranges [time_from, time_to] are on the window START and are
 *     inclusive at both ends (a window itself is [start, start + size));
 *   - key ranges [key_from, key_to] are inclusive; NULL = unbounded;
 *   - put(value NULL) deletes the window; with retain_duplicates it does
 *     nothing (as Kafka Streams), and every put of the same (key, start) is
 *     kept, each with its own sequence number, returned in put order;
 *   - stream time = the largest window start ever put; a window with start
 *     <= stream time - retention is expired: puts of it are dropped (not an
 *     error), reads never return it, and segments whose windows are all
 *     expired are deleted. Retention must be at least window size (pass
 *     window size + grace);
 *   - order: fetch(key, from, to) is in window-start order (then put order
 *     with duplicates); ranges over several keys are in segment order, then
 *     key order, then start order, as Kafka Streams' RocksDB window store.
 *
 * Restore: rill__restorer_new(rill__window_store_kv(store), ...) (restore.h)
 * writes changelog records straight into the segments, split by segment in
 * large batches. Iterators: values and keys are borrowed until the next call;
 * destroy iterators before closing the store. Thread: the stream thread that
 * owns the task. */
#ifndef RILL_STORES_WINDOW_H
#define RILL_STORES_WINDOW_H

#include "stores/changelog.h"
#include "stores/kv-rocksdb.h"
#include "stores/kv.h"

typedef struct rill__window_store rill__window_store_t;
typedef struct rill__window_iter rill__window_iter_t;

typedef struct rill__window_store_config {
    const char *name;             /* required; the changelog is <app>-<name>-changelog */
    int64_t window_size_ms;       /* > 0 */
    int64_t retention_ms;         /* >= window_size_ms: window size + grace at least */
    int64_t segment_interval_ms;  /* 0 = max(retention / 2, 60 s) */
    bool retain_duplicates;       /* stream-stream join buffers */
    rill__rocksdb_shared_t *rocksdb; /* NULL = in memory */
    const char *path;                /* RocksDB: the store's directory
                                      * (rill__state_dir_store_path) */
    const rill__changelog_sink_t *changelog; /* copied; NULL = not logged */
} rill__window_store_config_t;

/* Opens (RocksDB: reopening what is in path) a window store.
 * (transfer full: rill__window_store_close) */
rill__window_store_t *rill__window_store_open(const rill__window_store_config_t *config,
                                              rill_error_t **error);

/* Writes the window (key, window_start) = value; value NULL deletes it.
 * timestamp is the record's (sent with the changelog record). */
rill_err_t rill__window_put(rill__window_store_t *store, const void *key, size_t key_len,
                            int64_t window_start, const void *value, size_t value_len,
                            int64_t timestamp, rill_error_t **error);

/* The value of window (key, window_start): *value (transfer full) or NULL
 * if absent or expired. With duplicates: the first one put. */
rill_err_t rill__window_fetch(rill__window_store_t *store, const void *key, size_t key_len,
                              int64_t window_start, GBytes **value, rill_error_t **error);

/* The windows of key with time_from <= start <= time_to, in start order. */
rill__window_iter_t *rill__window_fetch_range(rill__window_store_t *store, const void *key,
                                              size_t key_len, int64_t time_from, int64_t time_to,
                                              rill_error_t **error);

/* The windows of the keys in [key_from, key_to] (NULL = unbounded) with
 * time_from <= start <= time_to. */
rill__window_iter_t *rill__window_fetch_keys(rill__window_store_t *store, const void *key_from,
                                             size_t key_from_len, const void *key_to,
                                             size_t key_to_len, int64_t time_from, int64_t time_to,
                                             rill_error_t **error);

/* Every window with time_from <= start <= time_to. */
rill__window_iter_t *rill__window_fetch_all(rill__window_store_t *store, int64_t time_from,
                                            int64_t time_to, rill_error_t **error);

/* Every live window. */
rill__window_iter_t *rill__window_all(rill__window_store_t *store, rill_error_t **error);

/* Next window: key, start and value borrowed until the next call. */
bool rill__window_iter_next(rill__window_iter_t *iter, const void **key, size_t *key_len,
                            int64_t *window_start, const void **value, size_t *value_len);
rill_err_t rill__window_iter_status(rill__window_iter_t *iter, rill_error_t **error);
void rill__window_iter_destroy(rill__window_iter_t *iter);

/* Stream time (largest window start put or restored; INT64_MIN before any). */
int64_t rill__window_store_stream_time(const rill__window_store_t *store);

/* The window size and retention given at open. */
int64_t rill__window_store_window_size(const rill__window_store_t *store);
int64_t rill__window_store_retention(const rill__window_store_t *store);

/* The kv stack under the store (logging layer, if any, over the segmented
 * store): for rill__restorer_new and rill__kv_flush. (transfer none) */
rill__kv_store_t *rill__window_store_kv(rill__window_store_t *store);

/* The segmented store (segments.h), for metrics and tests. (transfer none) */
rill__kv_store_t *rill__window_store_segments(rill__window_store_t *store);

/* Makes the store durable (RocksDB: memtables flushed); call before a checkpoint. */
rill_err_t rill__window_store_flush(rill__window_store_t *store, rill_error_t **error);

/* Flushes and closes; NULL is a no-op. */
rill_err_t rill__window_store_close(rill__window_store_t *store, rill_error_t **error);

/* ---- changelog topic ------------------------------------------------------------ */

#define RILL__WINDOW_CHANGELOG_ADDITIONAL_RETENTION_MS_DEFAULT 86400000 /* 24 h */

/* The topic configs of a windowed store's changelog (window or session), as
 * Kafka Streams' WindowedChangelogTopicConfig: cleanup.policy=compact,delete,
 * retention.ms = store retention + additional_ms
 * (windowstore.changelog.additional.retention.ms; < 0 = the 24 h default),
 * message.timestamp.type=CreateTime. A NULL-terminated array of name, value,
 * name, value, ... (transfer full, g_strfreev). */
char **rill__windowed_changelog_config(int64_t store_retention_ms, int64_t additional_ms);

/* For window.c and session.c: the segmented store of config, wrapped in a
 * change-logging layer when sink is not NULL. *segments (transfer none) is
 * set to the segmented store. (transfer full: rill__kv_close) */
struct rill__segments_config;
rill__kv_store_t *rill__windowed_stack_open(const struct rill__segments_config *config,
                                            const rill__changelog_sink_t *sink,
                                            rill__kv_store_t **segments, rill_error_t **error);

#endif
