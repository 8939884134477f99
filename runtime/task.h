/* task.h: the seam between the processing side of the runtime (topology,
 * processor graph, operators, the test driver) and the Kafka side (stream
 * threads, consumers, producers, commits in runtime/app.c, runtime/thread.c,
 * runtime/kafka/).
 *
 * A task is one (sub-topology, partition): it owns the processor nodes of
 * that sub-topology for that partition and processes its records depth-first.
 * It knows nothing of librdkafka: records come in as raw bytes, and what the
 * sinks emit goes out through rill__sink_ops_t, which the stream thread
 * implements with a librdkafka producer and the test driver with an in-memory
 * capture. Everything here runs on the thread that owns the task.
 *
 *     rill__task_new ──► RUNNING ──rill__task_process / _punctuate──► RUNNING
 *                          │  rill__task_flush (before each commit)
 *                          ▼
 *                   rill__task_destroy
 */
#ifndef RILL_RUNTIME_TASK_H
#define RILL_RUNTIME_TASK_H

#include <stddef.h>
#include <stdint.h>

#include <rill/rill.h>

typedef struct rill_task rill_task_t;
typedef struct rill_topology rill_topology_t;
struct rill__kv_store; /* stores/kv.h */
struct rill__globals;  /* runtime/global.h */

/* A record header, borrowed. */
typedef struct rill__header {
    const char *name;
    const void *value; /* NULL = null value */
    size_t value_len;
} rill__header_t;

/* A record as it arrives from a topic (all fields borrowed for the call). */
typedef struct rill__raw_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp; /* ms, as in Kafka; -1 if none */
    const void *key;   /* NULL = null key */
    size_t key_len;
    const void *value; /* NULL = null value (tombstone) */
    size_t value_len;
    const rill__header_t *headers;
    size_t header_count;
} rill__raw_record_t;

/* How a task's sinks send records. partition -1 lets the producer's
 * partitioner choose (murmur2 of the key, as Kafka's default). Returns
 * RILL_OK, or an error that the production exception handler decides on. */
typedef struct rill__sink_ops {
    rill_err_t (*send)(void *ud, const char *topic, int32_t partition, const void *key,
                       size_t key_len, const void *value, size_t value_len, int64_t timestamp,
                       const rill__header_t *headers, size_t header_count, rill_error_t **error);
    void *ud;
    /* The partition count of topic, or -1 if unknown. Optional (NULL): then
     * user partitioners (rill_produced_t.partitioner) fail. */
    int32_t (*partition_count)(void *ud, const char *topic);
} rill__sink_ops_t;

/* What a task needs from its thread. Copied by rill__task_new; the strings
 * it points to are borrowed for the task's life. send() arguments are
 * borrowed for the call only: the producer must copy (RD_KAFKA_MSG_F_COPY). */
typedef struct rill__task_env {
    rill__sink_ops_t sink;
    const char *application_id;
    const char *state_dir;          /* may be NULL for stateless topologies */
    int64_t (*wall_clock_ms)(void *ud); /* the test driver's clock, or the real one (NULL) */
    void *clock_ud;
    /* What to do with records that fail (zeroed: fail on everything). The
     * dead-letter topic name is borrowed for the task's life. */
    rill_error_handlers_t handlers;
    /* Serdes of the sources that name none (default.key.serde /
     * default.value.serde); NULL = bytes. Borrowed for the task's life. */
    const rill_serde_t *default_key_serde;
    const rill_serde_t *default_value_serde;
    /* State stores (operators/state.c). changelog_read replays a changelog
     * partition from offset `from` to its end, calling fn for each record,
     * in order, and sets *end_offset to the offset after the last one (the
     * partition's end); NULL = no changelog to read (stores start empty). */
    rill_err_t (*changelog_read)(void *ud, const char *topic, int32_t partition, int64_t from,
                                 rill_err_t (*fn)(void *fn_ud, const rill__raw_record_t *record,
                                                  rill_error_t **error),
                                 void *fn_ud, int64_t *end_offset, rill_error_t **error);
    void *changelog_ud;
    /* statestore.cache.max.bytes of each task's record cache; 0 = caching off. */
    size_t cache_max_bytes;
    /* processing.guarantee=exactly_once_v2: a task's .checkpoint is written
     * only when it closes clean, and deleted once read (operators/state.c). */
    bool exactly_once;
    /* The global stores (runtime/global.h) the joins with global tables read;
     * NULL = the topology has none. Borrowed for the task's life. */
    struct rill__globals *globals;
    /* Queryable state (runtime/query.c): told of each store a task opened
     * (restored; store is the top layer) and of each task about to close
     * (before its stores close; it may wait for reads in progress). NULL =
     * nobody listens (the test driver). */
    void (*store_opened)(void *ud, rill_task_t *task, int subtopology, int32_t partition,
                         const char *name, struct rill__kv_store *store);
    void (*task_closing)(void *ud, rill_task_t *task);
    void *store_ud;
} rill__task_env_t;

/* Parses an error-handler setting for the app config: "fail" / "log-and-fail",
 * "continue" / "log-and-continue", "dead-letter" / "dlq" (any case), or
 * Kafka Streams' class names ending in LogAndFailExceptionHandler,
 * LogAndContinueExceptionHandler, DefaultProductionExceptionHandler (fail),
 * LogAndContinueProductionExceptionHandler,
 * LogAndFailProcessingExceptionHandler, LogAndContinueProcessingExceptionHandler.
 * Returns the rill_on_error_t, or -1 for anything else. */
int rill__on_error_parse(const char *name);

/* ---- the built topology, as the thread side sees it -------------------- */

int rill__topology_subtopology_count(const rill_topology_t *topology);
/* Source topics of a sub-topology: NULL-terminated, borrowed for the topology's life. */
const char *const *rill__topology_source_topics(const rill_topology_t *topology, int subtopology);
/* The sub-topology that reads topic, or -1. */
int rill__topology_subtopology_of(const rill_topology_t *topology, const char *topic);
/* Internal topics (repartition, and later changelog) the app must create
 * before it starts: NULL-terminated names, borrowed. The partition count of
 * each is that of the user topics read by the sub-topology that reads it
 * (it is co-partitioned with them: a join), else that of the source topics
 * of the sub-topology that writes it, which the app finds with
 * rill__topology_internal_topic_source(). */
const char *const *rill__topology_internal_topics(const rill_topology_t *topology);
const char *rill__topology_internal_topic_source(const rill_topology_t *topology,
                                                 const char *internal_topic);
/* The topic configs to create internal_topic with, as Kafka Streams does:
 * NULL-terminated name, value pairs (static), or NULL if it is not internal.
 * Repartition topics: cleanup.policy=delete, segment.bytes=52428800,
 * retention.ms=-1 (records are deleted once consumed, not by age). */
const char *const *rill__topology_internal_topic_config(const rill_topology_t *topology,
                                                        const char *internal_topic);
/* Sets application.id: internal topic names are <application.id>-<name>-repartition.
 * Call it before any task of the topology exists (setting the same id again is a no-op). */
void rill__topology_set_application_id(rill_topology_t *topology, const char *application_id);

/* ---- tasks --------------------------------------------------------------- */

rill_task_t *rill__task_new(const rill_topology_t *topology, int subtopology, int32_t partition,
                            const rill__task_env_t *env, rill_error_t **error);
/* The id "S_P", borrowed. */
const char *rill__task_id(const rill_task_t *task);
/* Processes one record depth-first through the sub-topology. An error the
 * configured handlers do not absorb is returned: the thread then fails. */
rill_err_t rill__task_process(rill_task_t *task, const rill__raw_record_t *record,
                              rill_error_t **error);
/* Fires due punctuators (stream time and wall clock). */
rill_err_t rill__task_punctuate(rill_task_t *task, int64_t wall_ms, rill_error_t **error);
/* Flushes what the task buffers (caches, stores) before its offsets are
 * committed, in two phases: rill__task_flush_stores (the nodes' flush, then
 * the stores), and, once the producer has acknowledged everything that
 * produced, rill__task_flush_marks (the nodes' flush_marks, e.g. a windowed
 * aggregation's stream time, then the stores again, when any node has one).
 * rill__task_flush runs both back to back (for a synchronous sink). */
rill_err_t rill__task_flush_stores(rill_task_t *task, rill_error_t **error);
rill_err_t rill__task_flush_marks(rill_task_t *task, rill_error_t **error);
rill_err_t rill__task_flush(rill_task_t *task, rill_error_t **error);
/* The env the task was made with (borrowed for the task's life). */
const rill__task_env_t *rill__task_env(const rill_task_t *task);
/* Per-task state that operators share (the task's state stores,
 * operators/state.c): one slot, set once by the first stateful node's init.
 * flush runs after every node's flush in rill__task_flush (it writes the
 * checkpoint); free runs after every node's state_free. */
void *rill__task_state(const rill_task_t *task);
void rill__task_set_state(rill_task_t *task, void *state,
                          rill_err_t (*flush)(void *state, rill_error_t **error),
                          void (*free_fn)(void *state));
/* A state store of the task was opened and restored (operators/state.c):
 * tells env.store_opened. store: the top layer, borrowed until the task closes. */
void rill__task_store_opened(rill_task_t *task, const char *name, struct rill__kv_store *store);
/* Marks the task as closing dirty (a crash, a failure): rill__task_destroy
 * then drops what its caches hold and what was not committed instead of
 * writing it out (the state it leaves must be restored). */
void rill__task_mark_dirty(rill_task_t *task);
bool rill__task_dirty(const rill_task_t *task);
/* Why a task dropped a record: the reason label of
 * rill_app_dropped_records_total (rill__drop_reason_name gives the label). */
typedef enum rill__drop_reason {
    RILL__DROP_LATE,            /* "late": it arrived after its window closed (end + grace) */
    RILL__DROP_DESERIALIZATION, /* "deserialization": skipped by a log-and-continue handler */
    RILL__DROP_PROCESSING,      /* "processing": likewise, after a processor failed */
    RILL__DROP_PRODUCTION,      /* "production": likewise, after a sink failed */
    RILL__DROP_NULL_KEY,        /* "null_key": a keyed operator (aggregate, join) cannot use it */
    RILL__DROP_INVALID_TIMESTAMP, /* "invalid_timestamp": LogAndSkipOnInvalidTimestamp */
    RILL__DROP_JOIN_MISS,       /* "join_miss": an inner stream-table join found no table row */
    RILL__DROP_REASON_COUNT
} rill__drop_reason_t;
/* The label of reason ("late", ...), static; "unknown" out of range. */
const char *rill__drop_reason_name(rill__drop_reason_t reason);
/* Counts a record the task dropped for reason (an operator's decision, e.g.
 * a windowed aggregation refusing a late record: call it once per dropped
 * input record). Cheap (one increment): callable per record. The metrics
 * pick it up from rill__task_stats. Thread: the task's. */
void rill__task_record_dropped(rill_task_t *task, rill__drop_reason_t reason);

/* Counters of a task since it was created (for metrics). */
typedef struct rill__task_stats {
    uint64_t processed;     /* input records handed to rill__task_process */
    uint64_t skipped;       /* records dropped by a log-and-continue handler */
    uint64_t dead_lettered; /* records sent to the dead-letter topic */
    uint64_t sent;          /* records the task's sinks handed to env.sink (records out) */
    /* records dropped, by reason (log-and-continue skips are also counted
     * here, under their stage's reason) */
    uint64_t dropped[RILL__DROP_REASON_COUNT];
} rill__task_stats_t;
void rill__task_stats(const rill_task_t *task, rill__task_stats_t *stats);
/* The sizes of the task's state stores, for metrics: the store set
 * (operators/state.c) registers sizes() next to its state, and
 * rill__task_store_sizes calls fn once per store (nothing without stores).
 * Estimates: keys as the store counts them, bytes of its innermost layer. */
typedef void (*rill__store_size_fn)(void *ud, const char *store, uint64_t keys, uint64_t bytes);
void rill__task_set_state_sizes(rill_task_t *task,
                                void (*sizes)(void *state, rill__store_size_fn fn, void *ud));
void rill__task_store_sizes(rill_task_t *task, rill__store_size_fn fn, void *ud);
/* The task's stream time (max timestamp seen), -1 before the first record. */
int64_t rill__task_stream_time(const rill_task_t *task);
void rill__task_destroy(rill_task_t *task);

#endif /* RILL_RUNTIME_TASK_H */
