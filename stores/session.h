/* session.h: session stores: values keyed by (key, session start, session end), for session-window aggregations.
 *
 * Kafka Streams' SessionStore. A session aggregation looks up the sessions of
 * a key that a new record at time t merges with — find_sessions(key,
 * t - gap, t + gap) — removes them and puts the merged session. Built like
 * window stores (window.h): an optional change-logging layer over a
 * segmented store (segments.h), RocksDB (one instance per segment) or
 * memory, with store and changelog key `E(key) 00 01 | T(end) | T(start)`
 * (windowed-key.h). Segments are by session END, as Kafka Streams.
 *
 * Semantics:
 *   - find_sessions(key, earliest_end, latest_start) returns the sessions with
 *     end >= earliest_end AND start <= latest_start (both inclusive), ordered
 *     by end, then start;
 *   - stream time = the largest session end put; a session with end <=
 *     stream time - retention is expired (puts dropped, never read, segments
 *     deleted). Retention: inactivity gap + grace at least;
 *   - put(value NULL) and remove delete the session.
 * Restore: rill__restorer_new(rill__session_store_kv(store), ...). Thread:
 * the task's stream thread. */
#ifndef RILL_STORES_SESSION_H
#define RILL_STORES_SESSION_H

#include "stores/changelog.h"
#include "stores/kv-rocksdb.h"
#include "stores/kv.h"

typedef struct rill__session_store rill__session_store_t;
typedef struct rill__session_iter rill__session_iter_t;

typedef struct rill__session_store_config {
    const char *name;                /* required */
    int64_t retention_ms;            /* > 0: inactivity gap + grace at least */
    int64_t segment_interval_ms;     /* 0 = max(retention / 2, 60 s) */
    rill__rocksdb_shared_t *rocksdb; /* NULL = in memory */
    const char *path;                /* RocksDB: the store's directory */
    const rill__changelog_sink_t *changelog; /* copied; NULL = not logged */
} rill__session_store_config_t;

/* (transfer full: rill__session_store_close) */
rill__session_store_t *rill__session_store_open(const rill__session_store_config_t *config,
                                                rill_error_t **error);

/* Writes session (key, start, end) = value (start <= end); value NULL removes it. */
rill_err_t rill__session_put(rill__session_store_t *store, const void *key, size_t key_len,
                             int64_t start, int64_t end, const void *value, size_t value_len,
                             int64_t timestamp, rill_error_t **error);

/* Removes session (key, start, end). */
rill_err_t rill__session_remove(rill__session_store_t *store, const void *key, size_t key_len,
                                int64_t start, int64_t end, int64_t timestamp,
                                rill_error_t **error);

/* The value of session (key, start, end): *value (transfer full) or NULL. */
rill_err_t rill__session_fetch_session(rill__session_store_t *store, const void *key,
                                       size_t key_len, int64_t start, int64_t end, GBytes **value,
                                       rill_error_t **error);

/* Sessions of key with end >= earliest_end and start <= latest_start. */
rill__session_iter_t *rill__session_find(rill__session_store_t *store, const void *key,
                                         size_t key_len, int64_t earliest_end,
                                         int64_t latest_start, rill_error_t **error);

/* As rill__session_find over the keys in [key_from, key_to] (NULL = unbounded);
 * ordered by key, then end, then start within a segment. */
rill__session_iter_t *rill__session_find_keys(rill__session_store_t *store, const void *key_from,
                                              size_t key_from_len, const void *key_to,
                                              size_t key_to_len, int64_t earliest_end,
                                              int64_t latest_start, rill_error_t **error);

/* Every live session of key (Kafka Streams' fetch(key)). */
rill__session_iter_t *rill__session_fetch(rill__session_store_t *store, const void *key,
                                          size_t key_len, rill_error_t **error);

/* Next session; everything borrowed until the next call. */
bool rill__session_iter_next(rill__session_iter_t *iter, const void **key, size_t *key_len,
                             int64_t *start, int64_t *end, const void **value, size_t *value_len);
rill_err_t rill__session_iter_status(rill__session_iter_t *iter, rill_error_t **error);
void rill__session_iter_destroy(rill__session_iter_t *iter);

/* Stream time (largest session end; INT64_MIN before any). */
int64_t rill__session_store_stream_time(const rill__session_store_t *store);

/* The kv stack (for rill__restorer_new, rill__kv_flush) and the segmented store. (transfer none) */
rill__kv_store_t *rill__session_store_kv(rill__session_store_t *store);
rill__kv_store_t *rill__session_store_segments(rill__session_store_t *store);

rill_err_t rill__session_store_flush(rill__session_store_t *store, rill_error_t **error);

/* Flushes and closes; NULL is a no-op. */
rill_err_t rill__session_store_close(rill__session_store_t *store, rill_error_t **error);

#endif
