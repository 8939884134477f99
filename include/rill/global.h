/* rill/global.h: global tables (Kafka Streams' GlobalKTable) and the stream–global-table join.
 *
 *     rill_global_table_t *products = rill_builder_global_table(
 *         builder, "products", NULL, &(rill_materialized_t){.name = "products"});
 *     rill_stream_t *enriched = rill_stream_join_global(orders, products, product_id_of,
 *                                                       add_product, NULL, "enrich");
 *
 * A global table holds every partition of its topic on every instance of
 * the app: one store per app instance (not per task), fed by the app's
 * global thread, which has a consumer of its own that assign()s all the
 * topic's partitions (no group). The topic is the store's changelog: no
 * "-changelog" topic is created; records upsert their key, a null value
 * deletes it. Before the stream threads start, rill_app_start() reads the
 * topic from the store's checkpoint (<state.dir>/<application.id>/global/
 * .checkpoint; from the start without one) up to the end offsets it finds
 * then, so the app goes RUNNING with the table bootstrapped: a record
 * produced to the topic before the app starts is seen by the first stream
 * record. After that the global thread keeps the table up to date
 * (eventually consistent with the stream: there is no ordering between a
 * table update and a stream record other than "after the bootstrap").
 *
 * The store keeps the topic's bytes as they are: a value that the table's
 * value serde cannot read fails the join that reads it (a processing error,
 * handled as rill_on_error_t says), not the global thread; a record with a
 * null key is skipped (logged once).
 *
 * Stores live in <state.dir>/<application.id>/global/rocksdb/<store>/ (or in
 * memory: materialized->in_memory, or no state.dir; they are then read from
 * the topic's start at each start). The global topic must not be read by a
 * source of the topology.
 *
 * The join needs no co-partitioning: key_extractor maps each stream record
 * to the table's key (any key: every partition is local); out = joiner(
 * record, the table's value), keeping the record's key and time. A table
 * update alone produces nothing. Inner join: a record whose extracted key is
 * null or has no row is dropped. Left join: every record produces an
 * output; the joiner sees a null table value then.
 *
 * The test driver (driver.h) keeps the global stores too: records piped to
 * a global table's topic update its store at once.
 *
 * As in topology.h, these return NULL on bad arguments and record the error
 * in the builder; handles are owned by the builder. */
#ifndef RILL_GLOBAL_H
#define RILL_GLOBAL_H

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/table.h>
#include <rill/topology.h>

RILL_BEGIN_DECLS

typedef struct rill_global_table rill_global_table_t;

/* A global table of topic. consumed's serdes (NULL: the app's defaults) read
 * the topic; its key serde also serializes the extracted keys of joins. The
 * store is named materialized->name (NULL or materialized NULL: generated,
 * e.g. "<topic>-STATE-STORE-0000000000"). materialized's serdes, if set, replace
 * consumed's. (transfer none: owned by builder) */
RILL_EXPORT rill_global_table_t *rill_builder_global_table(rill_builder_t *builder,
                                                           const char *topic,
                                                           const rill_consumed_t *consumed,
                                                           const rill_materialized_t *materialized);

/* The store name of a global table (transfer none: owned by builder). */
RILL_EXPORT const char *rill_global_table_store(const rill_global_table_t *table);

/* Stream–global-table inner join. key_extractor sets the table key of a
 * record (leave it null to match nothing); joiner makes the output value;
 * both get user_data. (transfer none) */
RILL_EXPORT rill_stream_t *rill_stream_join_global(rill_stream_t *stream,
                                                   rill_global_table_t *table,
                                                   rill_map_one_fn key_extractor,
                                                   rill_value_joiner_fn joiner, void *user_data,
                                                   const char *name);
/* Left join: as above, every record produces an output. (transfer none) */
RILL_EXPORT rill_stream_t *rill_stream_left_join_global(rill_stream_t *stream,
                                                        rill_global_table_t *table,
                                                        rill_map_one_fn key_extractor,
                                                        rill_value_joiner_fn joiner,
                                                        void *user_data, const char *name);

RILL_END_DECLS

#endif /* RILL_GLOBAL_H */
