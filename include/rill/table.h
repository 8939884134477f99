/* rill/table.h: the stateful DSL: grouping, aggregations and tables (Kafka Streams' KGroupedStream, KTable).
 *
 *     rill_grouped_t *grouped = rill_stream_group_by_key(words, NULL);
 *     rill_table_t *counts = rill_grouped_count(grouped, &(rill_materialized_t){.name = "counts"});
 *     rill_stream_to(rill_table_to_stream(counts, NULL), "word-counts", NULL);
 *
 * A table is a changelog: one current value per key, each update sent
 * downstream as a (new, old) pair inside rill, so that the operators below a
 * table can subtract what an update replaces; rill_table_to_stream() turns
 * the updates into plain records (value = the new value, null = deleted).
 *
 * An aggregation keeps its table in a state store of each task, named by
 * rill_materialized_t.name (NULL = generated, "KSTREAM-AGGREGATE-STATE-STORE-
 * 0000000003"; name it: the name is the changelog topic's and the state
 * directory's), logged to the compacted internal topic
 * "<application.id>-<store>-changelog", which the app creates with the
 * partition count of the task's source topics, and restored from it before
 * the task processes. Stores live in <state.dir>/<application.id>/<task>/
 * rocksdb/<store>/ (or in memory), behind the record cache
 * (statestore.cache.max.bytes): with caching, updates of a key between two
 * commits reach the changelog and downstream once; the final state is the
 * same with caching on or off.
 *
 * Records with a null key are dropped by groupings (as Kafka Streams). As in
 * topology.h, functions return NULL on bad arguments and record the error in
 * the builder; handles are owned by the builder. */
#ifndef RILL_TABLE_H
#define RILL_TABLE_H

#include <stdbool.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/serde.h>
#include <rill/topology.h>

RILL_BEGIN_DECLS

typedef struct rill_grouped rill_grouped_t;
typedef struct rill_table rill_table_t;

/* How a table is stored (Kafka Streams' Materialized). NULL or zeroed = a
 * generated name, RocksDB, the serdes of the source (app defaults). */
typedef struct rill_materialized {
    const char *name;              /* the store's name (and its changelog's) */
    bool in_memory;                /* an in-memory store instead of RocksDB */
    const rill_serde_t *key_serde; /* (transfer none: the topology takes a reference) */
    const rill_serde_t *value_serde;
} rill_materialized_t;

/* How to group (Kafka Streams' Grouped): the serdes of the repartition topic
 * a groupBy writes, and its name. NULL or zeroed = the source's serdes and a
 * generated name. */
typedef struct rill_grouped_opts {
    const char *name;
    const rill_serde_t *key_serde;
    const rill_serde_t *value_serde;
} rill_grouped_opts_t;

/* reduce: *out = aggregate (+) value. Both inputs borrowed for the call. */
typedef rill_err_t (*rill_reducer_fn)(const rill_value_t *aggregate, const rill_value_t *value,
                                      rill_value_t *out, void *user_data, rill_error_t **error);
/* aggregate: the start value of a key's aggregate. */
typedef rill_err_t (*rill_initializer_fn)(rill_value_t *out, void *user_data,
                                          rill_error_t **error);
/* aggregate: *out = aggregate with value added (adder) or taken away
 * (subtractor, for table group-bys). */
typedef rill_err_t (*rill_aggregator_fn)(const rill_value_t *key, const rill_value_t *value,
                                         const rill_value_t *aggregate, rill_value_t *out,
                                         void *user_data, rill_error_t **error);

/* Groups by the current key. If the key was changed upstream (map,
 * selectKey, flatMap), the stream is repartitioned first through
 * "<application.id>-<name>-repartition". (transfer none) */
RILL_EXPORT rill_grouped_t *rill_stream_group_by_key(rill_stream_t *stream,
                                                     const rill_grouped_opts_t *opts);
/* Groups by a new key (fn sets it): always repartitions. (transfer none) */
RILL_EXPORT rill_grouped_t *rill_stream_group_by(rill_stream_t *stream, rill_map_one_fn fn,
                                                 void *user_data,
                                                 const rill_grouped_opts_t *opts);

/* The number of records per key, as an INT64 value (int64 serde unless
 * materialized says otherwise). (transfer none) */
RILL_EXPORT rill_table_t *rill_grouped_count(rill_grouped_t *grouped,
                                             const rill_materialized_t *materialized);
/* Combines the values of each key: the first value as is, then reducer. */
RILL_EXPORT rill_table_t *rill_grouped_reduce(rill_grouped_t *grouped, rill_reducer_fn reducer,
                                              void *user_data,
                                              const rill_materialized_t *materialized);
/* initializer once per key, then adder per record. The value serde of
 * materialized stores the aggregate (required unless the aggregate has the
 * source's value type). */
RILL_EXPORT rill_table_t *rill_grouped_aggregate(rill_grouped_t *grouped,
                                                 rill_initializer_fn initializer,
                                                 rill_aggregator_fn adder, void *user_data,
                                                 const rill_materialized_t *materialized);

/* The stream of a table's updates: value = the new value (null = deleted). */
RILL_EXPORT rill_stream_t *rill_table_to_stream(rill_table_t *table, const char *name);

RILL_END_DECLS

#endif /* RILL_TABLE_H */
