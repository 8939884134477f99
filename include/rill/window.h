/* rill/window.h: windowed aggregations, windowed keys and their serdes, and emit-final (suppress).
 *
 * Kafka Streams' TimeWindows, SlidingWindows, SessionWindows, windowedBy(),
 * TimeWindowedKStream / SessionWindowedKStream and suppress(untilWindowCloses):
 *
 *     rill_grouped_t *grouped = rill_stream_group_by_key(clicks, NULL);
 *     rill_time_windowed_t *windowed = rill_grouped_windowed_by(grouped,
 *         &(rill_time_windows_t){.size_ms = 60000, .grace_ms = 5000});
 *     rill_table_t *counts = rill_time_windowed_count(windowed,
 *         &(rill_materialized_t){.name = "clicks-per-minute"});
 *     rill_table_t *final = rill_table_suppress_until_window_closes(counts,
 *         &(rill_suppressed_t){.name = "clicks-final"});
 *     rill_stream_to(rill_table_to_stream(final, NULL), "clicks-per-minute",
 *         &(rill_produced_t){.key_serde = rill_serde_windowed_string()});
 *
 * Windows (all times in ms, event time: the record's timestamp as the
 * source's timestamp extractor gives it):
 *   - time windows [start, start + size): start inclusive, end exclusive.
 *     Tumbling: advance_ms 0 (= size): each record is in exactly one window,
 *     start = t - t mod size (floor, negatives included). Hopping: 0 < advance
 *     < size: a record is in every window with start = k * advance and start
 *     <= t < start + size (size / advance windows when advance divides size);
 *   - sliding windows [start, start + time_difference], inclusive at BOTH ends
 *     (as Kafka's): a window exists for each distinct set of records whose
 *     timestamps are at most time_difference apart: the window ending at each
 *     record [t - d, t] and the window starting just after it [t + 1, t + 1 + d]
 *     when that one holds records. Windowed keys carry start and end = start + d;
 *   - session windows: the records of a key closer than inactivity_gap_ms to
 *     each other form one session [first record's time, last record's time],
 *     both inclusive; a record that falls within gap of several sessions
 *     merges them (the aggregates combined by the merger; the replaced
 *     sessions are deleted downstream: a (key, null) update).
 *
 * Time, grace and lateness (per task, as Kafka Streams): stream time is the
 * largest timestamp the aggregation has seen in the task (kept in its store
 * at each commit, so a restarted task resumes at the stream time of its last
 * commit, where its input resumes). A window CLOSES when stream
 * time >= its end + grace_ms (sessions: last record + inactivity gap +
 * grace). A record all of whose windows are closed is LATE (a session record
 * also when it would extend or merge a closed session): it is dropped,
 * counted in the app metric rill_app_dropped_records_total{reason="late"}
 * (per task; see docs/windows.md) and logged at debug level; a record some of
 * whose (hopping) windows are still open updates those only. A window
 * outside retention is never read again: retention_ms (0 = the default
 * max(size + grace, 1 day), as Kafka Streams; at least size + grace) bounds
 * how long the store keeps windows and how far queries reach back.
 *
 * The result of a windowed aggregation is a table keyed by windowed keys:
 * each record's key is a POINTER value that rill_value_windowed() reads
 * (the grouping key, the window start and end); its updates carry the new
 * aggregate only (no old value). Without suppression it
 * updates as records arrive (one update per window per record with caching
 * off, fewer with the record cache on: statestore.cache.max.bytes). The
 * store is a segmented window store (or a session store), change-logged to
 * "<application.id>-<name>-changelog" (cleanup.policy=compact,delete,
 * retention = store retention + 1 day), restored before the task processes.
 *
 * Emit-final: rill_table_suppress_until_window_closes() holds each window's
 * latest aggregate in a buffer and emits it once, when the window closes
 * (stream time >= end + grace), in window-end order. The buffer is a
 * change-logged state store of its own ("<application.id>-<name>-changelog"),
 * so a restart neither loses a window still buffered nor re-emits one whose
 * emission was committed. It is bounded (max_records / max_bytes); when full,
 * RILL_BUFFER_FULL_SHUT_DOWN fails the task with RILL_ERR_INVALID_STATE
 * (Kafka's shutDownWhenFull: the app stops with a clear error, nothing
 * emitted early) and RILL_BUFFER_FULL_EMIT_EARLY emits the oldest windows
 * before they close (Kafka's emitEarlyWhenFull: then a window may be emitted
 * more than once).
 *
 * Windowed keys on topics: rill_serde_time_windowed_new() and
 * rill_serde_session_windowed_new() write Kafka Streams' layouts (key |
 * start as 8 bytes big-endian; key | end | start), so Java consumers read
 * them with TimeWindowedDeserializer / SessionWindowedDeserializer;
 * rill_serde_windowed_string() writes the text "<key>@<start>".
 *
 * As everywhere in the DSL: functions return NULL on bad arguments and record
 * the error in the builder (rill_builder_build() returns it); handles are
 * owned by the builder; a NULL handle in gives NULL out. Records with a null
 * key or a null value are skipped by windowed aggregations (as Kafka Streams). */
#ifndef RILL_WINDOW_H
#define RILL_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/serde.h>
#include <rill/table.h>
#include <rill/topology.h>

RILL_BEGIN_DECLS

/* ---- window specifications ---------------------------------------------------- */

/* The default retention of windowed stores: max(size + grace, 1 day). */
#define RILL_WINDOW_DEFAULT_RETENTION_MS 86400000

/* Tumbling and hopping windows (Kafka Streams' TimeWindows). */
typedef struct rill_time_windows {
    int64_t size_ms;      /* > 0 */
    int64_t advance_ms;   /* 0 = size_ms (tumbling); else 0 < advance_ms <= size_ms (hopping) */
    int64_t grace_ms;     /* >= 0: how long after its end a window accepts late records */
    int64_t retention_ms; /* 0 = max(size + grace, 1 day); else >= size + grace */
} rill_time_windows_t;

/* TimeWindows.ofSizeWithNoGrace(size) / ofSizeAndGrace(size, grace), tumbling. */
static inline rill_time_windows_t rill_time_windows_of_size(int64_t size_ms, int64_t grace_ms)
{
    rill_time_windows_t windows = {size_ms, 0, grace_ms, 0};
    return windows;
}

/* Sliding windows (Kafka Streams' SlidingWindows, KIP-450). */
typedef struct rill_sliding_windows {
    int64_t time_difference_ms; /* > 0: the largest time between two records of one window */
    int64_t grace_ms;           /* >= 0 */
    int64_t retention_ms;       /* 0 = max(3 * time_difference + grace + 2, 1 day);
                                 * else at least that (the records a late one needs) */
} rill_sliding_windows_t;

/* Session windows (Kafka Streams' SessionWindows). */
typedef struct rill_session_windows {
    int64_t inactivity_gap_ms; /* > 0 */
    int64_t grace_ms;          /* >= 0 */
    int64_t retention_ms;      /* 0 = max(gap + grace, 1 day) */
} rill_session_windows_t;

/* ---- windowed streams ------------------------------------------------------------ */

/* A grouped stream windowed by time windows or sliding windows
 * (TimeWindowedKStream), and one windowed by sessions
 * (SessionWindowedKStream); owned by the builder. */
typedef struct rill_time_windowed rill_time_windowed_t;
typedef struct rill_session_windowed rill_session_windowed_t;

/* windowedBy(TimeWindows): windows copied. (transfer none) */
RILL_EXPORT rill_time_windowed_t *rill_grouped_windowed_by(rill_grouped_t *grouped,
                                                           const rill_time_windows_t *windows);
/* windowedBy(SlidingWindows). (transfer none) */
RILL_EXPORT rill_time_windowed_t *
rill_grouped_windowed_by_sliding(rill_grouped_t *grouped, const rill_sliding_windows_t *windows);
/* windowedBy(SessionWindows). (transfer none) */
RILL_EXPORT rill_session_windowed_t *
rill_grouped_windowed_by_session(rill_grouped_t *grouped, const rill_session_windows_t *windows);

/* emitStrategy(onWindowClose) (KIP-825): the aggregations made from this
 * windowed stream after the call emit each window once, when it closes,
 * through an unbounded suppression buffer named "<store>-suppress" (as
 * rill_table_suppress_until_window_closes with zeroed limits). Returns
 * windowed, or NULL. */
RILL_EXPORT rill_time_windowed_t *rill_time_windowed_emit_final(rill_time_windowed_t *windowed);
RILL_EXPORT rill_session_windowed_t *
rill_session_windowed_emit_final(rill_session_windowed_t *windowed);

/* The number of records per window, as an INT64 value (int64 serde unless
 * materialized says otherwise). materialized names the window store (its
 * changelog is "<application.id>-<name>-changelog"); its key_serde
 * serializes the grouping key inside the store (the source's key serde if
 * NULL), value_serde the aggregate. (transfer none) */
RILL_EXPORT rill_table_t *rill_time_windowed_count(rill_time_windowed_t *windowed,
                                                   const rill_materialized_t *materialized);
/* The window's first value as is, then reducer(aggregate, value). */
RILL_EXPORT rill_table_t *rill_time_windowed_reduce(rill_time_windowed_t *windowed,
                                                    rill_reducer_fn reducer, void *user_data,
                                                    const rill_materialized_t *materialized);
/* initializer once per window, then adder(key, value, aggregate) per record.
 * The aggregate is stored with materialized's value_serde (required unless
 * it has the source's value type). */
RILL_EXPORT rill_table_t *rill_time_windowed_aggregate(rill_time_windowed_t *windowed,
                                                       rill_initializer_fn initializer,
                                                       rill_aggregator_fn adder, void *user_data,
                                                       const rill_materialized_t *materialized);

/* Combines the aggregates of two sessions that a record joins into one:
 * *out = aggregate1 (+) aggregate2 (both borrowed for the call; aggregate1
 * is the older session's). */
typedef rill_err_t (*rill_merger_fn)(const rill_value_t *key, const rill_value_t *aggregate1,
                                     const rill_value_t *aggregate2, rill_value_t *out,
                                     void *user_data, rill_error_t **error);

/* Sessions: as above, per session; merging sessions adds counts, reduces
 * with reducer, and merges aggregates with merger. (transfer none) */
RILL_EXPORT rill_table_t *rill_session_windowed_count(rill_session_windowed_t *windowed,
                                                      const rill_materialized_t *materialized);
RILL_EXPORT rill_table_t *rill_session_windowed_reduce(rill_session_windowed_t *windowed,
                                                       rill_reducer_fn reducer, void *user_data,
                                                       const rill_materialized_t *materialized);
RILL_EXPORT rill_table_t *rill_session_windowed_aggregate(rill_session_windowed_t *windowed,
                                                          rill_initializer_fn initializer,
                                                          rill_aggregator_fn adder,
                                                          rill_merger_fn merger, void *user_data,
                                                          const rill_materialized_t *materialized);

/* ---- windowed keys ----------------------------------------------------------------- */

/* A windowed key (Kafka Streams' Windowed<K>): the grouping key and the
 * window. Opaque; read it with the functions below. */
typedef struct rill_windowed rill_windowed_t;

/* The windowed key held by value (a record key downstream of a windowed
 * aggregation, or what a windowed serde deserialized), or NULL if value is
 * not one. (transfer none, as long as value) */
RILL_EXPORT const rill_windowed_t *rill_value_windowed(const rill_value_t *value);
/* The grouping key. (transfer none, as long as windowed) */
RILL_EXPORT const rill_value_t *rill_windowed_key(const rill_windowed_t *windowed);
/* The window: [start, end) for time windows, [start, end] for sliding and
 * session windows (as Kafka Streams' TimeWindow / SessionWindow). */
RILL_EXPORT int64_t rill_windowed_start(const rill_windowed_t *windowed);
RILL_EXPORT int64_t rill_windowed_end(const rill_windowed_t *windowed);

/* Makes value a windowed key of (a copy of) key, start and end (e.g. to pipe
 * windowed keys into the test driver through a windowed serde). Bytes,
 * strings and numbers are copied, JSON referenced; a POINTER key is
 * borrowed (it must outlive value). */
RILL_EXPORT void rill_value_set_windowed(rill_value_t *value, const rill_value_t *key,
                                         int64_t start, int64_t end);

/* "<key>@<start>" for a windowed key value: the key as text (strings and
 * bytes as they are, numbers in decimal, JSON serialized), '@', the window
 * start in decimal ms. NULL if value is not a windowed key.
 * (transfer full) free with rill_free(). */
RILL_EXPORT char *rill_windowed_format(const rill_value_t *value);

/* ---- windowed serdes ------------------------------------------------------------------- */

/* Time windows, Kafka Streams' TimeWindowedSerializer layout: inner(key) |
 * start (8 bytes big-endian). Deserializing needs the window size (end =
 * start + window_size_ms; 0 = end unknown: end = INT64_MAX) and yields a
 * windowed key value. (transfer full) rill_serde_unref() */
RILL_EXPORT rill_serde_t *rill_serde_time_windowed_new(const rill_serde_t *inner,
                                                       int64_t window_size_ms);
/* Sessions, SessionWindowedSerializer layout: inner(key) | end | start
 * (8 bytes big-endian each). (transfer full) rill_serde_unref() */
RILL_EXPORT rill_serde_t *rill_serde_session_windowed_new(const rill_serde_t *inner);
/* The text "<key>@<start>" (rill_windowed_format); deserializing splits at
 * the last '@' into a STRING key and the start (end unknown: INT64_MAX).
 * (transfer none, static) */
RILL_EXPORT const rill_serde_t *rill_serde_windowed_string(void);

/* ---- emit-final: suppression ------------------------------------------------------------- */

/* What a full suppression buffer does (Kafka Streams' BufferConfig). */
typedef enum rill_buffer_full {
    RILL_BUFFER_FULL_SHUT_DOWN = 0, /* shutDownWhenFull: fail the task (and the app) */
    RILL_BUFFER_FULL_EMIT_EARLY,    /* emitEarlyWhenFull: emit the oldest windows early */
} rill_buffer_full_t;

/* Suppressed.untilWindowCloses(BufferConfig). Zeroed = unbounded, generated name. */
typedef struct rill_suppressed {
    const char *name;     /* the buffer's store (and changelog) name; NULL = generated */
    uint64_t max_records; /* windows buffered at most; 0 = unbounded */
    uint64_t max_bytes;   /* bytes (serialized keys + values) buffered at most; 0 = unbounded */
    rill_buffer_full_t when_full;
} rill_suppressed_t;

/* The final result of each window of table, which must be the direct
 * result of a windowed aggregation (rill_time_windowed_* or
 * rill_session_windowed_*): each window is emitted once, after it closes
 * (stream time >= end + grace), as an update with the window's last
 * aggregate; windows whose result was deleted (merged sessions) are not
 * emitted. opts may be NULL (unbounded). (transfer none) */
RILL_EXPORT rill_table_t *rill_table_suppress_until_window_closes(rill_table_t *table,
                                                                  const rill_suppressed_t *opts);

RILL_END_DECLS

#endif /* RILL_WINDOW_H */
