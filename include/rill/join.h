/* rill/join.h: joins of two streams (windowed), of two tables, and the foreign-key table join.
 *
 *     // payments matched to authorisations within 5 minutes, either way
 *     rill_join_windows_t windows = rill_join_windows_of(5 * 60000, 60000);
 *     rill_stream_t *matched = rill_stream_join(payments, auths, match, NULL, windows, NULL);
 *
 * Kafka Streams' KStream#join / leftJoin / outerJoin (JoinWindows,
 * StreamJoined) and KTable#join / leftJoin / outerJoin (and the
 * foreign-key KTable#join(other, extractor, joiner), KIP-213).
 *
 * Stream-stream joins are windowed: each side's records are kept (in a
 * window store of each task, duplicates retained, change-logged) for
 * before + after + grace, and a record joins the other side's records of the
 * same key whose timestamps are in [t - before, t + after] (for a record of
 * the left stream; [t - after, t + before] for one of the right stream). The
 * output keeps the key; its timestamp is the larger of the two. Left and
 * outer joins emit a record that found no partner (with a null other side)
 * only once its window has closed: when stream time (the largest timestamp
 * the join has seen, both sides) passes t + after + grace (left records) or
 * t + before + grace (right records); until then it waits in a shared
 * "outer join" store, so a partner arriving in time cancels it (no spurious
 * early results, as Kafka Streams 3.x). A record whose window has already
 * closed when it arrives is late: dropped and counted
 * (rill_app_dropped_records_total{reason="late"}). Records with a null key
 * or a null value join nothing and are dropped (reason "null_key").
 *
 * Both streams must be co-partitioned: same partition count (checked when
 * the app starts) and keyed the same way. A stream whose key changed
 * upstream (map, selectKey, flatMap) is repartitioned first through
 * "<application.id>-<name>-left-repartition" / "-right-repartition", as
 * groupByKey does.
 *
 * Table-table joins: both tables are materialized; an update of either side
 * looks the key up in the other table and emits the joined row as a table
 * update carrying (new, old) joined values, so aggregations downstream stay
 * exact. Inner: a row exists while both sides have one; left: while the left
 * side has one; outer: while either side has one. A deletion (tombstone) on
 * either side deletes or updates the joined row accordingly.
 *
 * Joiners get the key and both values borrowed for the call; a side with no
 * record is a null value (rill_value_is_null). */
#ifndef RILL_JOIN_H
#define RILL_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/serde.h>
#include <rill/table.h>
#include <rill/topology.h>

RILL_BEGIN_DECLS

/* ---- the joiner ------------------------------------------------------------------ */

/* *out = the joined value of left and right (either may be a null value in
 * left / outer joins, never both). out starts null; setting it null
 * forwards a null value (stream joins) or deletes the row (table joins).
 * Returning an error makes it a processing error (rill_on_error_t). */
typedef rill_err_t (*rill_joiner_fn)(const rill_value_t *key, const rill_value_t *left,
                                     const rill_value_t *right, rill_value_t *out,
                                     void *user_data, rill_error_t **error);

/* ---- stream-stream joins ------------------------------------------------------------ */

/* Kafka Streams' JoinWindows: a left record at t joins right records in
 * [t - before_ms, t + after_ms]; grace_ms is how long after a window's end
 * records are still accepted (and non-joined records held back). All >= 0. */
typedef struct rill_join_windows {
    int64_t before_ms;
    int64_t after_ms;
    int64_t grace_ms;
} rill_join_windows_t;

/* JoinWindows.ofTimeDifferenceAndGrace(time_difference, grace):
 * before = after = time_difference. */
RILL_EXPORT rill_join_windows_t rill_join_windows_of(int64_t time_difference_ms, int64_t grace_ms);

/* Kafka Streams' StreamJoined. NULL or zeroed = generated names, RocksDB
 * buffers (in memory without state.dir), the serdes of the streams' sources
 * (then the app's defaults). */
typedef struct rill_stream_joined {
    /* Names the join's nodes and stores: "<name>-this-join-store",
     * "<name>-other-join-store", "<name>-outer-shared-join-store" (each logged
     * to "<application.id>-<store>-changelog") and repartition topics
     * "<application.id>-<name>-left-repartition" / "-right-repartition". */
    const char *name;
    bool in_memory;                        /* in-memory buffers instead of RocksDB */
    const rill_serde_t *key_serde;         /* (transfer none: the topology takes a reference) */
    const rill_serde_t *value_serde;       /* the left stream's values, as buffered */
    const rill_serde_t *other_value_serde; /* the right stream's */
} rill_stream_joined_t;

/* Inner: every pair of records of one key within the window.
 * (transfer none: owned by the builder) */
RILL_EXPORT rill_stream_t *rill_stream_join(rill_stream_t *stream, rill_stream_t *other,
                                            rill_joiner_fn joiner, void *user_data,
                                            rill_join_windows_t windows,
                                            const rill_stream_joined_t *joined);
/* Left: as inner, plus each left record that joined nothing, (left, null),
 * once its window has closed. */
RILL_EXPORT rill_stream_t *rill_stream_left_join(rill_stream_t *stream, rill_stream_t *other,
                                                 rill_joiner_fn joiner, void *user_data,
                                                 rill_join_windows_t windows,
                                                 const rill_stream_joined_t *joined);
/* Outer: as left, plus each right record that joined nothing, (null, right). */
RILL_EXPORT rill_stream_t *rill_stream_outer_join(rill_stream_t *stream, rill_stream_t *other,
                                                  rill_joiner_fn joiner, void *user_data,
                                                  rill_join_windows_t windows,
                                                  const rill_stream_joined_t *joined);

/* ---- table-table joins ---------------------------------------------------------------- */

/* Both tables must be materialized (an aggregation, rill_builder_table or
 * a materialized join) and co-partitioned. The result is always kept in a
 * store of its own (change-logged), which is what keeps its (new, old)
 * pairs exact when the record cache delays the tables' updates:
 * materialized NULL = an internal store "<generated name>-result" whose
 * values keep their types without a serde (a user-object value then needs
 * a materialized value serde); the result can be aggregated or turned into
 * a stream, not joined again. With materialized, the store is named by it
 * (values stored with materialized->value_serde, else the app's default
 * value serde) and the result can be joined again. Output timestamps are
 * the updates'. (transfer none) */
RILL_EXPORT rill_table_t *rill_table_join(rill_table_t *table, rill_table_t *other,
                                          rill_joiner_fn joiner, void *user_data,
                                          const rill_materialized_t *materialized);
RILL_EXPORT rill_table_t *rill_table_left_join(rill_table_t *table, rill_table_t *other,
                                               rill_joiner_fn joiner, void *user_data,
                                               const rill_materialized_t *materialized);
RILL_EXPORT rill_table_t *rill_table_outer_join(rill_table_t *table, rill_table_t *other,
                                                rill_joiner_fn joiner, void *user_data,
                                                const rill_materialized_t *materialized);

/* ---- the foreign-key table join (KIP-213) ----------------------------------------------- */

/* Sets *fk_out to the foreign key of the left row (key, value): the key of
 * the right table's row it joins; leaving it null means no foreign key (the
 * row joins nothing: no row in an inner join, (value, null) in a left join).
 * key, value borrowed for the call. */
typedef rill_err_t (*rill_fk_extractor_fn)(const rill_value_t *key, const rill_value_t *value,
                                           rill_value_t *fk_out, void *user_data,
                                           rill_error_t **error);

/* Options of a foreign-key join. NULL or zeroed = a generated name, the
 * right table's key serde for the foreign key. */
typedef struct rill_fk_joined {
    /* Names the internal topics "<application.id>-<name>-subscription-registration-topic"
     * and "-subscription-response-topic", the store "<name>-subscription-store" and
     * the nodes; the result's store is "<name>-result" unless materialized names it. */
    const char *name;
    /* Serializes foreign keys; must write the bytes the right table's keys
     * have in its topic (the registration topic is partitioned by them). */
    const rill_serde_t *fk_serde; /* (transfer none: the topology takes a reference) */
} rill_fk_joined_t;

/* Joins each row of table with the row of other whose key is
 * extractor(row), however the two tables are partitioned (their partition
 * counts may differ): the left row subscribes to its foreign key through
 * the registration topic (partitioned like other), the right side answers
 * through the response topic (partitioned like table) at once and on every
 * update of the right row; answers computed from a left value that has
 * changed since are dropped (each carries a hash of the left value it
 * answers). The result is keyed by table's keys and always kept in a
 * store (materialized may be NULL: then the internal "<name>-result",
 * whose values keep their types without a serde, as for table joins).
 * Changes of a row's foreign key and deletes on
 * either side update the result. Both tables must be materialized.
 * Inner: a row while the foreign row exists. (transfer none) */
RILL_EXPORT rill_table_t *rill_table_fk_join(rill_table_t *table, rill_table_t *other,
                                             rill_fk_extractor_fn extractor,
                                             rill_joiner_fn joiner, void *user_data,
                                             const rill_fk_joined_t *opts,
                                             const rill_materialized_t *materialized);
/* Left: a row for every row of table (right side null while there is no foreign row). */
RILL_EXPORT rill_table_t *rill_table_fk_left_join(rill_table_t *table, rill_table_t *other,
                                                  rill_fk_extractor_fn extractor,
                                                  rill_joiner_fn joiner, void *user_data,
                                                  const rill_fk_joined_t *opts,
                                                  const rill_materialized_t *materialized);

RILL_END_DECLS

#endif /* RILL_JOIN_H */
