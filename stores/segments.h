/* segments.h: the segmented byte store under window and session stores: records bucketed by time into segments that expire whole.
 *
 * A segmented store is a rill__kv_store_t (kind "segmented") whose keys are
 * windowed store keys (windowed-key.h): every key ends with a suffix of
 * suffix_len bytes that starts with T(t), the record's time (a window's
 * start, a session's end). Segment s holds the records with
 *     s * interval <= t < (s + 1) * interval
 * and is its own kv store: one RocksDB instance in <path>/<name>.<s*interval>/,
 * or one in-memory kv store. As Kafka Streams' RocksDBSegmentedBytesStore:
 *
 *   - stream time is the largest t any write has carried (observed, per
 *     store); records with t <= stream time - retention are expired: writes of
 *     them are dropped, reads never see them, and a segment all of whose
 *     times are expired is dropped whole (closed; its directory deleted), so
 *     expiry never costs a per-key delete;
 *   - the interval defaults to max(retention / 2, 60 s) (Stores.java), so at
 *     most about three segments are live.
 *
 * Because it is a kv store, the generic layers apply: wrap it in
 * rill__kv_logging_new (changelog.h) for change-logging, and hand it to
 * rill__restorer_new (restore.h), whose batches it splits by segment.
 * Deleting, getting and putting route by the key's time; range/prefix/all
 * iterate segment after segment (ordered by segment, then key).
 *
 * Iterators hold a reference on the segments they will visit: a segment
 * dropped while an iterator is open goes away when the iterator does. */
#ifndef RILL_STORES_SEGMENTS_H
#define RILL_STORES_SEGMENTS_H

#include "stores/kv-rocksdb.h"
#include "stores/kv.h"

#define RILL__SEGMENT_INTERVAL_MIN_MS 60000

typedef struct rill__segments_config {
    const char *name;            /* the store's name (copied) */
    int64_t retention_ms;        /* > 0 */
    int64_t segment_interval_ms; /* 0 = rill__segments_default_interval(retention_ms) */
    size_t suffix_len;           /* >= 8: bytes after E(key) 0x00 0x01, T(t) first */
    bool track_seq;              /* the last 4 bytes of every key are a sequence number
                                  * (window stores with duplicates): keep their maximum */
    rill__rocksdb_shared_t *rocksdb; /* NULL = in-memory segments */
    const char *path;                /* RocksDB: the store's directory (segments under it) */
} rill__segments_config_t;

/* max(retention / 2, 60 s), as Kafka Streams' default segment interval. */
int64_t rill__segments_default_interval(int64_t retention_ms);

/* Opens a segmented store; with RocksDB, reopens the segments found under
 * path (their data is kept; stream time starts at the newest segment's
 * start, a lower bound of what it was). (transfer full: rill__kv_close) */
rill__kv_store_t *rill__segments_open(const rill__segments_config_t *config, rill_error_t **error);

/* True if store (not a layer above it) is a segmented store. */
bool rill__segments_is(const rill__kv_store_t *store);

/* Stream time: the largest record time written so far (INT64_MIN before any). */
int64_t rill__segments_stream_time(const rill__kv_store_t *store);

/* The oldest record time still live: stream time - retention + 1 (INT64_MIN before any write). */
int64_t rill__segments_live_min(const rill__kv_store_t *store);

/* The segment interval in use. */
int64_t rill__segments_interval(const rill__kv_store_t *store);

/* The start times (ms) of the live segments, ascending. (transfer full, g_array_unref) */
GArray *rill__segments_list(const rill__kv_store_t *store);

/* Writes dropped because they were already expired (a metric, and for tests). */
uint64_t rill__segments_expired_drops(const rill__kv_store_t *store);

/* With track_seq: 1 + the largest sequence number of any key written or
 * found on open (0 before any). */
uint32_t rill__segments_next_seq(const rill__kv_store_t *store);

/* Keys in [lo, hi) (either NULL = unbounded) whose record time t satisfies
 * t_from <= t <= t_to and is live, visiting only the segments that can hold
 * such times, in segment order and key order within a segment. Keys that are
 * not valid windowed keys are skipped. (transfer full: rill__kv_iter_destroy) */
rill__kv_iter_t *rill__segments_scan(rill__kv_store_t *store, const void *lo, size_t lo_len,
                                     const void *hi, size_t hi_len, int64_t t_from, int64_t t_to,
                                     rill_error_t **error);

#endif
