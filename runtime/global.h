/* global.h: global tables inside the runtime: their specs in the topology,
 * and the global store set an app instance (or the test driver) keeps.
 *
 * A global table (include/rill/global.h) is a spec the builder records
 * (topic, store, serdes) and copies into the topology; it belongs to no
 * sub-topology, so no stream thread is assigned its topic. At run time one
 * rill__globals_t holds a store per spec:
 *
 *     RocksDB in <state.dir>/<application.id>/global/rocksdb/<store>/
 *     (or memory), written only by rill__globals_apply (the global thread,
 *     or the driver), read by joins on the stream threads (rill__globals_get)
 *
 * Concurrency: each store has a GRWLock: apply holds it for writing for one
 * record, get and range hold it for reading; so readers on any thread see
 * each record's write whole (memory stores are not thread-safe on their
 * own, RocksDB is, the lock covers both the same way).
 *
 * Offsets: the set tracks, per topic-partition, the offset after the last
 * record applied; rill__globals_checkpoint writes them (and flushes the
 * stores first) to <state.dir>/<application.id>/global/.checkpoint. A
 * RocksDB store without a checkpoint entry is wiped at open (it may be
 * ahead of or behind the topic) and read from the topic's start; memory
 * stores always are. The global directory is locked (flock) while the set
 * is open, as task directories are. */
#ifndef RILL_RUNTIME_GLOBAL_H
#define RILL_RUNTIME_GLOBAL_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <rill/global.h>

#include "runtime/task.h"

/* The spec of a global table; also the public handle rill_global_table_t
 * (owned by the builder; the topology keeps copies). */
struct rill_global_table {
    char *topic;
    char *store;
    rill_serde_t *key_serde; /* NULL: the app's default.key.serde */
    rill_serde_t *value_serde;
    bool in_memory;
};
typedef struct rill_global_table rill__global_spec_t;

rill__global_spec_t *rill__global_spec_copy(const rill__global_spec_t *spec);
void rill__global_spec_free(rill__global_spec_t *spec);

/* ---- builder.c / topology.c -------------------------------------------------- */

typedef struct rill__globals rill__globals_t;

/* The store set's entry points, for code in libruntime's core (the test
 * driver) that must not link the stores unless the topology has global
 * tables: the topology carries a pointer to them (set by the DSL). */
typedef struct rill__globals_ops {
    rill__globals_t *(*open)(const rill_topology_t *topology, const char *state_dir,
                             const char *application_id, rill_error_t **error);
    void (*close)(rill__globals_t *globals);
    const char *const *(*topics)(const rill__globals_t *globals);
    rill_err_t (*apply)(rill__globals_t *globals, const rill__raw_record_t *record,
                        rill_error_t **error);
} rill__globals_ops_t;
extern const rill__globals_ops_t rill__globals_ops; /* global.c */

/* Records a global table in builder (name NULL: generated); ops is what the
 * topology will carry. Returns the handle (owned by builder), or NULL with
 * the error recorded in builder. */
rill__global_spec_t *rill__builder_add_global(rill_builder_t *builder, const char *topic,
                                              const char *name, const rill_serde_t *key_serde,
                                              const rill_serde_t *value_serde, bool in_memory,
                                              const rill__globals_ops_t *ops);
/* The topology's global tables: count, and the i-th (borrowed). */
int rill__topology_global_count(const rill_topology_t *topology);
const rill__global_spec_t *rill__topology_global(const rill_topology_t *topology, int i);

/* The store set's ops, or NULL if the topology has no global table. */
const rill__globals_ops_t *rill__topology_globals_ops(const rill_topology_t *topology);

/* ---- the store set ----------------------------------------------------------- */

/* Opens a store for each global table of topology: RocksDB under
 * <state_dir>/<application_id>/global/ (state_dir NULL or "": memory).
 * Returns NULL for a topology without global tables (and no error).
 * (transfer full: rill__globals_destroy) */
rill__globals_t *rill__globals_new(const rill_topology_t *topology, const char *state_dir,
                                   const char *application_id, rill_error_t **error);
/* Checkpoints (unless dirty) and closes the stores. NULL is a no-op. */
void rill__globals_destroy(rill__globals_t *globals);

/* The distinct topics of the global tables (NULL-terminated, borrowed). */
const char *const *rill__globals_topics(const rill__globals_t *globals);
/* The offset to read topic/partition from: after the last applied record
 * (or checkpointed), 0 when none. */
int64_t rill__globals_next_offset(const rill__globals_t *globals, const char *topic,
                                  int32_t partition);
/* Applies a record of a global topic to every store fed by it: upsert, or
 * delete for a null value; records with a null key are skipped (logged
 * once). Thread: one writer (the global thread). */
rill_err_t rill__globals_apply(rill__globals_t *globals, const rill__raw_record_t *record,
                               rill_error_t **error);
/* Flushes the stores and writes the checkpoint (persistent stores only). */
rill_err_t rill__globals_checkpoint(rill__globals_t *globals, rill_error_t **error);
/* Records applied since creation (for logs and tests). */
uint64_t rill__globals_applied(const rill__globals_t *globals);

/* Reads key of global store `store`: *value (transfer full, g_bytes_unref)
 * or NULL if absent. RILL_ERR_NOT_FOUND if there is no such global store.
 * Thread: any. */
rill_err_t rill__globals_get(rill__globals_t *globals, const char *store, const void *key,
                             size_t key_len, GBytes **value, rill_error_t **error);
/* Whether globals has a store named store. */
bool rill__globals_has_store(const rill__globals_t *globals, const char *store);
/* Calls fn for each key of store in [from, to) (NULL bounds: open), in
 * order, under the store's read lock; fn returns false to stop.
 * Thread: any. */
rill_err_t rill__globals_range(rill__globals_t *globals, const char *store, const void *from,
                               size_t from_len, const void *to, size_t to_len,
                               bool (*fn)(const void *key, size_t key_len, const void *value,
                                          size_t value_len, void *ud),
                               void *ud, rill_error_t **error);

#endif /* RILL_RUNTIME_GLOBAL_H */
