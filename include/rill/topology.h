/* rill/topology.h: the DSL: build a topology from streams and operators.
 *
 *     rill_builder_t *builder = rill_builder_new();
 *     rill_stream_t *in = rill_builder_stream(builder, "orders", NULL);
 *     rill_stream_t *big = rill_stream_filter(in, is_big, NULL, NULL);
 *     rill_stream_to(rill_stream_map_values(big, to_upper, NULL, NULL), "big-orders", NULL);
 *     rill_topology_t *topology = rill_builder_build(builder, &error);
 *     rill_builder_destroy(builder);
 *
 * The names follow Kafka Streams' (KStream → rill_stream_t, split/branch,
 * to, repartition...). A rill_stream_t is a handle owned by its builder,
 * valid until rill_builder_destroy(). DSL functions never fail loudly: on bad
 * arguments they return NULL and record the first error in the builder,
 * which rill_builder_build() then returns, so a chain of calls needs one
 * check at the end. A NULL stream passed in gives NULL out.
 *
 * Every operator takes an optional name (KIP-307; NULL = generated, e.g.
 * "KSTREAM-FILTER-0000000001"). Names must be unique; naming the operators
 * that create internal topics keeps those topic names stable when the
 * topology changes.
 *
 * Callbacks receive the record borrowed until they return (see record.h),
 * and their user_data unchanged; user_data is never freed by rill. Callbacks
 * of one task run on one thread; the same callback may run concurrently for
 * different tasks, so shared user_data must be thread-safe. */
#ifndef RILL_TOPOLOGY_H
#define RILL_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/serde.h>

RILL_BEGIN_DECLS

typedef struct rill_builder rill_builder_t;
typedef struct rill_stream rill_stream_t;
typedef struct rill_branched rill_branched_t;
typedef struct rill_topology rill_topology_t;

/* ---- callbacks ------------------------------------------------------------ */

typedef bool (*rill_predicate_fn)(const rill_record_t *record, void *user_data);
typedef void (*rill_foreach_fn)(const rill_record_t *record, void *user_data);
/* map: set the new key and value on key_out/value_out (both start null).
 * Returning an error makes it a processing error (see rill_on_error_t). */
typedef rill_err_t (*rill_map_fn)(const rill_record_t *record, rill_value_t *key_out,
                                  rill_value_t *value_out, void *user_data, rill_error_t **error);
/* mapValues / selectKey: set one new value on out (starts null). */
typedef rill_err_t (*rill_map_one_fn)(const rill_record_t *record, rill_value_t *out,
                                      void *user_data, rill_error_t **error);

/* flatMap output: each call adds one output record, in order. The slots are
 * owned by rill (transfer none) and valid until the callback returns; the
 * records are forwarded after it returns. For flatMapValues the key slot is
 * NULL-ed (the key stays). */
typedef struct rill_flat_output rill_flat_output_t;
RILL_EXPORT void rill_flat_output_add(rill_flat_output_t *output, rill_value_t **key_out,
                                      rill_value_t **value_out);
typedef rill_err_t (*rill_flat_map_fn)(const rill_record_t *record, rill_flat_output_t *output,
                                       void *user_data, rill_error_t **error);

/* Chooses the topic of each record for rill_stream_to_dynamic(). Return a
 * topic name valid until the record is done (transfer none), or NULL to fail
 * the record (a production error). */
typedef const char *(*rill_topic_chooser_fn)(const rill_record_t *record, void *user_data);
/* Chooses the partition of a record: 0 <= p < partition_count, or -1 for the
 * default partitioner (murmur2 of the serialized key, as Kafka's). */
typedef int32_t (*rill_partitioner_fn)(const char *topic, const rill_record_t *record,
                                       const void *key_bytes, size_t key_len,
                                       int32_t partition_count, void *user_data);

/* ---- time ------------------------------------------------------------------ */

typedef enum rill_timestamp_kind {
    RILL_TIMESTAMP_RECORD = 0, /* the record's own timestamp (default); a negative one is an
                                  error for the deserialization handler */
    RILL_TIMESTAMP_WALL_CLOCK, /* the task's wall clock when the record is processed */
    RILL_TIMESTAMP_USER,       /* rill_timestamp_fn */
} rill_timestamp_kind_t;

/* Extracts the event time of record (whose timestamp is the one from the
 * topic); partition_time is the task's stream time so far (-1 before the
 * first record). Return a negative value to reject the record. */
typedef int64_t (*rill_timestamp_fn)(const rill_record_t *record, int64_t partition_time,
                                     void *user_data);

/* ---- error handling --------------------------------------------------------- */

/* What to do with a record that fails (KIP-161, KIP-210, KIP-1033). */
typedef enum rill_on_error {
    RILL_ON_ERROR_FAIL = 0,    /* stop: the error is returned, the task (and app) fails */
    RILL_ON_ERROR_CONTINUE,    /* log it and go on with the next record */
    RILL_ON_ERROR_DEAD_LETTER, /* send the input record to the dead-letter topic and go on */
} rill_on_error_t;

/* The error handling an app (or the test driver) configures. Dead-letter
 * records carry the input record's key, value, timestamp and headers, plus
 * the headers rill.error (message), rill.error.code (e.g. "RILL_ERR_SERDE"),
 * rill.error.stage ("deserialization", "processing", "production"),
 * rill.error.topic, rill.error.partition, rill.error.offset (decimal) and,
 * for processing errors, rill.error.node. */
typedef struct rill_error_handlers {
    rill_on_error_t deserialization;
    rill_on_error_t processing;
    rill_on_error_t production;
    const char *dead_letter_topic; /* required when any of them is DEAD_LETTER (borrowed) */
} rill_error_handlers_t;

/* ---- options ------------------------------------------------------------------ */

/* How a source reads a topic (Kafka's Consumed). NULL or zeroed = the app's
 * default serdes (default.key.serde / default.value.serde; bytes unless
 * configured) and the record's time. */
typedef struct rill_consumed {
    const rill_serde_t *key_serde; /* (transfer none: the topology takes a reference) */
    const rill_serde_t *value_serde;
    rill_timestamp_kind_t timestamp;
    rill_timestamp_fn timestamp_fn; /* for RILL_TIMESTAMP_USER */
    void *timestamp_user_data;
    const char *name; /* the source node's name, or NULL */
} rill_consumed_t;

/* How a sink writes (Kafka's Produced). NULL or zeroed = each key and value
 * serialized by its own type (bytes, string, int32/int64/double big-endian,
 * JSON; a POINTER value needs a serde), default partitioner. Topic names
 * follow Kafka's rules: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
typedef struct rill_produced {
    const rill_serde_t *key_serde; /* (transfer none: the topology takes a reference) */
    const rill_serde_t *value_serde;
    rill_partitioner_fn partitioner;
    void *partitioner_user_data;
    const char *name;
} rill_produced_t;

/* ---- builder ---------------------------------------------------------------- */

/* (transfer full) free with rill_builder_destroy(). */
RILL_EXPORT rill_builder_t *rill_builder_new(void);
/* Frees the builder and its stream handles (not a topology it built). NULL is a no-op. */
RILL_EXPORT void rill_builder_destroy(rill_builder_t *builder);

/* A stream of the records of topic. consumed may be NULL. A topic can be read
 * by one source only. (transfer none: owned by builder) */
RILL_EXPORT rill_stream_t *rill_builder_stream(rill_builder_t *builder, const char *topic,
                                               const rill_consumed_t *consumed);

/* A stream of the records of several topics (NULL-terminated, copied), read
 * by one source with the same serdes; the topics must be co-partitioned.
 * (transfer none: owned by builder) */
RILL_EXPORT rill_stream_t *rill_builder_stream_topics(rill_builder_t *builder,
                                                      const char *const *topics,
                                                      const rill_consumed_t *consumed);

/* Builds the immutable topology. After this the builder accepts no more
 * operators (rill_builder_destroy() is still needed). Fails with the first
 * error the DSL calls recorded, or when the topology has no source.
 * (transfer full) free with rill_topology_destroy(). */
RILL_EXPORT rill_topology_t *rill_builder_build(rill_builder_t *builder, rill_error_t **error);

/* ---- stateless operators (each returns a new stream owned by the builder) ---- */

RILL_EXPORT rill_stream_t *rill_stream_filter(rill_stream_t *stream, rill_predicate_fn predicate,
                                              void *user_data, const char *name);
RILL_EXPORT rill_stream_t *rill_stream_filter_not(rill_stream_t *stream,
                                                  rill_predicate_fn predicate, void *user_data,
                                                  const char *name);
/* Changes keys: a later repartition is needed for key-based work. */
RILL_EXPORT rill_stream_t *rill_stream_map(rill_stream_t *stream, rill_map_fn fn, void *user_data,
                                           const char *name);
RILL_EXPORT rill_stream_t *rill_stream_map_values(rill_stream_t *stream, rill_map_one_fn fn,
                                                  void *user_data, const char *name);
RILL_EXPORT rill_stream_t *rill_stream_select_key(rill_stream_t *stream, rill_map_one_fn fn,
                                                  void *user_data, const char *name);
RILL_EXPORT rill_stream_t *rill_stream_flat_map(rill_stream_t *stream, rill_flat_map_fn fn,
                                                void *user_data, const char *name);
RILL_EXPORT rill_stream_t *rill_stream_flat_map_values(rill_stream_t *stream, rill_flat_map_fn fn,
                                                       void *user_data, const char *name);
/* Calls fn for each record and forwards it unchanged. */
RILL_EXPORT rill_stream_t *rill_stream_peek(rill_stream_t *stream, rill_foreach_fn fn,
                                            void *user_data, const char *name);
/* Terminal: calls fn for each record. Returns RILL_OK, or an error (also
 * recorded in the builder) for bad arguments. */
RILL_EXPORT rill_err_t rill_stream_foreach(rill_stream_t *stream, rill_foreach_fn fn,
                                           void *user_data, const char *name);
/* The union of two streams (one node with two parents). Records keep the
 * order in which each arrives; there is no order between the two inputs. */
RILL_EXPORT rill_stream_t *rill_stream_merge(rill_stream_t *stream, rill_stream_t *other,
                                             const char *name);

/* split(): routes each record to the first branch whose predicate accepts
 * it (KIP-418). Branch names are the split's name (or "KSTREAM-BRANCH-
 * 0000000007-" generated) followed by the branch's name (or its 1-based
 * index). (transfer none: owned by the builder) */
RILL_EXPORT rill_branched_t *rill_stream_split(rill_stream_t *stream, const char *name);
RILL_EXPORT rill_stream_t *rill_branched_branch(rill_branched_t *branched,
                                                rill_predicate_fn predicate, void *user_data,
                                                const char *name);
/* The branch that takes the records no predicate accepted; without one they are dropped.
 * Ends the split: no branch may be added after it. */
RILL_EXPORT rill_stream_t *rill_branched_default_branch(rill_branched_t *branched,
                                                        const char *name);

/* Terminal: writes to topic. produced may be NULL. */
RILL_EXPORT rill_err_t rill_stream_to(rill_stream_t *stream, const char *topic,
                                      const rill_produced_t *produced);
/* Terminal: writes each record to the topic chooser returns. */
RILL_EXPORT rill_err_t rill_stream_to_dynamic(rill_stream_t *stream, rill_topic_chooser_fn chooser,
                                              void *user_data, const rill_produced_t *produced);
/* Writes to, and reads back from, the internal topic
 * "<application.id>-<name>-repartition" (KIP-221), which the app creates with
 * the partition count of this stream's source topics. The new stream is in a
 * new sub-topology, partitioned by the (serialized) key or by the
 * partitioner. produced's serdes write and read the topic; its name names the
 * topic (name NULL = generated, "KSTREAM-REPARTITION-0000000005"); serdes
 * not given are those of the stream's source. */
RILL_EXPORT rill_stream_t *rill_stream_repartition(rill_stream_t *stream,
                                                   const rill_produced_t *produced);

/* ---- topology ------------------------------------------------------------------ */

typedef enum rill_describe_format {
    RILL_DESCRIBE_TEXT = 0, /* Kafka Streams' Topology.describe() layout */
    RILL_DESCRIBE_DOT,      /* Graphviz: one cluster per sub-topology, topics as ellipses */
} rill_describe_format_t;

/* The topology described. (transfer full) free with rill_free(). */
RILL_EXPORT char *rill_topology_describe(const rill_topology_t *topology,
                                         rill_describe_format_t format);
/* Frees the topology. It must outlive every app and test driver using it. NULL is a no-op. */
RILL_EXPORT void rill_topology_destroy(rill_topology_t *topology);

/* Frees memory rill handed over with (transfer full) and no other destructor. */
RILL_EXPORT void rill_free(void *ptr);

RILL_END_DECLS

#endif /* RILL_TOPOLOGY_H */
