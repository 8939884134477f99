/* window-private.h: what the windowed operators share: the windowed key value, window specs, and the aggregation config that suppression reads.
 *
 * A windowed key travels between operators as a POINTER value whose ptr is a
 * struct rill_windowed (len = its size, magic set): the windowed aggregation
 * forwards one that lives on its stack with a borrowed view of the grouping
 * key, so forwarding an update allocates nothing; serdes make heap ones that
 * own their key (destroy = rill__windowed_free). */
#ifndef RILL_OPERATORS_WINDOW_PRIVATE_H
#define RILL_OPERATORS_WINDOW_PRIVATE_H

#include <rill/window.h>

#include "operators/state.h"
#include "runtime/node.h"

#define RILL__WINDOWED_MAGIC 0x57494e44u /* "WIND" */

struct rill_windowed {
    uint32_t magic;
    rill_value_t key; /* owned (destroy set) or a borrowed view */
    int64_t start;
    int64_t end;
};

/* Sets value to a POINTER to windowed (borrowed: destroy NULL). */
void rill__windowed_view(rill_value_t *value, struct rill_windowed *windowed);
/* Frees a heap windowed key and what its key owns. */
void rill__windowed_free(void *windowed);

typedef enum rill__window_kind {
    RILL__WINDOW_TIME,    /* tumbling / hopping: [start, start + size) */
    RILL__WINDOW_SLIDING, /* [start, start + size], size = time difference */
    RILL__WINDOW_SESSION, /* [first, last], gap */
} rill__window_kind_t;

typedef struct rill__window_spec {
    rill__window_kind_t kind;
    int64_t size;    /* time windows: size; sliding: time difference; sessions: gap */
    int64_t advance; /* time windows */
    int64_t grace;
    int64_t retention; /* resolved: never 0 */
} rill__window_spec_t;

/* A window is closed when end + close delay <= stream time. Time windows
 * end exclusively: delay = grace. Sliding windows end inclusively (a record
 * at the end still belongs): grace + 1. Sessions can take a record up to the
 * gap after their (inclusive) end: gap + grace + 1. */
static inline int64_t rill__window_close_delay(const rill__window_spec_t *spec)
{
    switch (spec->kind) {
    case RILL__WINDOW_SESSION:
        return spec->size + spec->grace + 1;
    case RILL__WINDOW_SLIDING:
        return spec->grace + 1;
    case RILL__WINDOW_TIME:
        break;
    }
    return spec->grace;
}

/* The windowed handles of window.h, owned by the builder. */
struct rill_time_windowed {
    rill_stream_t *stream;
    rill__window_spec_t spec;
    bool emit_final;
};
struct rill_session_windowed {
    rill_stream_t *stream;
    rill__window_spec_t spec;
    bool emit_final;
};

typedef enum rill__wagg_op { RILL__WAGG_COUNT, RILL__WAGG_REDUCE, RILL__WAGG_AGGREGATE } rill__wagg_op_t;

/* A windowed aggregation node's config (immutable once built). */
typedef struct rill__wagg_config {
    rill__window_spec_t spec;
    rill__wagg_op_t op;
    char *store;
    bool in_memory;
    rill_serde_t *key_serde; /* NULL: the task's default key serde (else bytes) */
    rill_serde_t *value_serde; /* NULL: int64 for count, else the task's default */
    rill_reducer_fn reducer;
    rill_initializer_fn initializer;
    rill_aggregator_fn adder;
    rill_merger_fn merger;
    void *user_data;
} rill__wagg_config_t;

/* The serdes a task uses for config's keys and aggregates. */
void rill__wagg_serdes(const rill__wagg_config_t *config, const rill__task_env_t *env,
                       const rill_serde_t **key_serde, const rill_serde_t **value_serde);

/* The windowed aggregation config of the node behind stream, or NULL if it
 * is not a windowed aggregation. */
const rill__wagg_config_t *rill__wagg_config_of(rill_stream_t *stream);

/* Adds a windowed aggregation of config (transfer full) below stream:
 * window-time.c for time and sliding windows, window-session.c for sessions.
 * Applies emit_final. (transfer none) */
rill_table_t *rill__wagg_add(rill_stream_t *stream, rill__wagg_config_t *config,
                             const rill_materialized_t *materialized, bool emit_final);
void rill__wagg_config_free(void *config);

/* The node ops of each kind (window-time.c, window-sliding.c, window-session.c). */
extern const rill__node_ops_t rill__window_time_ops;
extern const rill__node_ops_t rill__window_sliding_ops;
extern const rill__node_ops_t rill__window_session_ops;

/* Counts and logs (debug) a record dropped because all its windows are closed. */
void rill__window_record_late(rill__pnode_t *pnode, const char *what, int64_t timestamp,
                              int64_t stream_time);

/* The persisted stream time of a windowed store (see window-time.c): a
 * reserved store key 0x00 0x02 | suffix, which no E(key) 0x00 0x01 encoding
 * starts with, carrying the aggregation's stream time as its suffix's time,
 * so that a restart (and a restore) gets back the exact stream time that
 * decided lateness before it. suffix_len: 12 (window stores) or 16
 * (sessions). */
void rill__window_stream_time_key(GByteArray *out, size_t suffix_len, int64_t stream_time);
/* Writes stream_time under the reserved key (and deletes the one of
 * *persisted) if it moved; *persisted is then stream_time. Called by the
 * aggregations' flush_marks (runtime/node.h), after the stores' flush and
 * once all it produced is acknowledged, so that a restore that sees the key
 * has every write it covers: the windows (same changelog) and what went to
 * other topics (the suppression buffer's changelog, the output). Written
 * with the windows instead, a kill before the other changelogs were
 * acknowledged restored a stream time that dropped the replayed records as
 * late while their updates had not reached the suppression buffer: emitted
 * counts below the truth. */
rill_err_t rill__window_stream_time_persist(rill__kv_store_t *store, GByteArray *scratch,
                                           size_t suffix_len, int64_t stream_time,
                                           int64_t *persisted, rill_error_t **error);
/* The largest persisted stream time in store (a kv stack over a segmented
 * store), or INT64_MIN. */
rill_err_t rill__window_stream_time_load(rill__kv_store_t *store, size_t suffix_len,
                                         int64_t *stream_time, rill_error_t **error);


/* The update of a window the store's cache flushed (new, old serialized), as a
 * table update downstream; windowed's key is filled from raw_key (key_serde). */
rill_err_t rill__window_forward_change(rill__pnode_t *pnode, const rill_serde_t *key_serde,
                                       const rill_serde_t *value_serde, const void *raw_key,
                                       size_t raw_key_len, struct rill_windowed *windowed,
                                       GBytes *new_value, GBytes *old_value, int64_t timestamp,
                                       rill_wbuf_t *f_key, rill_wbuf_t *f_new, rill_wbuf_t *f_old,
                                       rill_error_t **error);

#endif /* RILL_OPERATORS_WINDOW_PRIVATE_H */
