/* kafka.h: rill's small interface over librdkafka, the only door from the
 * runtime to Kafka (no librdkafka type crosses it).
 *
 * Three objects: a consumer (one per stream thread, in the group
 * application.id, with rill's rebalance handling turned into two callbacks),
 * a producer (one per stream thread; implements rill__sink_ops_t), and the
 * admin helpers the app uses at start (metadata, CreateTopics).
 *
 * Defaults chosen for stream processing, each overridable by the user's
 * `consumer.` / `producer.` / `admin.` keys (except the assignor, which
 * co-partitioning needs, and the commit settings, which at-least-once needs):
 *   consumer: enable.auto.commit=false (rill commits after the producer is
 *     flushed: at-least-once), auto.offset.reset=earliest,
 *     partition.assignment.strategy=range (co-partitioned topics get the same
 *     partition numbers on the same member), queued.min.messages raised so
 *     that librdkafka 2.0's fetcher does not stall each time a partition's
 *     prefetch queue fills, with the queue's memory bounded instead by
 *     queued.max.messages.kbytes = input.buffer.max.bytes / threads;
 *   producer: partitioner=murmur2_random (Kafka's Java default, so that
 *     keys land where Java clients put them), linger.ms=5, acks=all,
 *     enable.idempotence=true (no reordering or duplicates on retry). */
#ifndef RILL_RUNTIME_KAFKA_H
#define RILL_RUNTIME_KAFKA_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/config-private.h"
#include "runtime/task.h"

/* ---- configuration checks (used by config.c) ---------------------------- */

/* Checks that librdkafka accepts key=value for a client of that kind.
 * RILL_ERR_INVALID_CONFIG with librdkafka's reason otherwise. */
rill_err_t rill__kafka_conf_check(rill__client_kind_t kind, const char *key, const char *value,
                                  rill_error_t **error);

/* Whether librdkafka knows the property name at all. */
bool rill__kafka_conf_known(const char *key);

/* ---- a topic-partition ---------------------------------------------------- */

typedef struct rill__tp {
    const char *topic; /* borrowed for the callback */
    int32_t partition;
    int64_t offset; /* next offset to read/commit, or -1 */
} rill__tp_t;

/* ---- admin ----------------------------------------------------------------- */

/* Partition counts of topics: counts[i] = partition count of topics[i], or
 * -1 if it does not exist. Never creates a topic. */
rill_err_t rill__kafka_topic_partitions(const rill_config_t *config, const char *const *topics,
                                        int n, int32_t *counts, int timeout_ms,
                                        rill_error_t **error);

/* Creates topics with the given partition counts (replication_factor -1:
 * the broker's default). A topic that exists already with that count is
 * fine. topic_configs[i]: NULL-terminated name, value pairs for topic i (or
 * NULL). A broker without CreateTopics (the librdkafka mock cluster) is fine
 * if the topics exist; otherwise the error says to create them. */
rill_err_t rill__kafka_create_topics(const rill_config_t *config, const char *const *topics,
                                     const int32_t *partitions,
                                     const char *const *const *topic_configs, int n,
                                     int replication_factor, int timeout_ms,
                                     rill_error_t **error);

/* ---- consumer --------------------------------------------------------------- */

typedef struct rill__kconsumer rill__kconsumer_t;

typedef struct rill__kconsumer_cbs {
    /* Partitions assigned to this consumer (the complete new assignment). */
    rill_err_t (*assigned)(void *ud, const rill__tp_t *tps, int n, rill_error_t **error);
    /* Partitions taken away: the thread flushes, commits and closes their
     * tasks before returning. */
    void (*revoked)(void *ud, const rill__tp_t *tps, int n);
    /* A record (borrowed for the call). Returns an error to stop the loop. */
    rill_err_t (*record)(void *ud, const rill__raw_record_t *record, rill_error_t **error);
    void *ud;
} rill__kconsumer_cbs_t;

/* A consumer in group application.id, subscribed to topics.
 * client_suffix makes client.id unique per thread. */
rill__kconsumer_t *rill__kconsumer_new(const rill_config_t *config, int thread_index,
                                       int num_threads, const char *const *topics, int n_topics,
                                       const rill__kconsumer_cbs_t *cbs, rill_error_t **error);

/* Polls up to timeout_ms and hands every record that arrived to cbs.record
 * (at most max_records). Rebalances are served here too (cbs.assigned /
 * cbs.revoked). Returns the number of records, or -1 with *error set. */
int rill__kconsumer_poll(rill__kconsumer_t *consumer, int timeout_ms, int max_records,
                         rill_error_t **error);

/* Commits the offsets (synchronously). A commit refused because the group
 * rebalanced is not an error (the records will be read again). */
rill_err_t rill__kconsumer_commit(rill__kconsumer_t *consumer, const rill__tp_t *tps, int n,
                                  rill_error_t **error);

/* Consumer lag of topic [partition]: the high watermark minus the position
 * (offset after the last record handed to cbs.record), or -1 if either is
 * not known. Once a record was consumed it reads librdkafka's local state
 * only. Before that the position is where consumption starts: *start if
 * >= 0, else found once (bounded broker round trips, result kept in *start):
 * the group's committed offset, else by auto.offset.reset (earliest: the low
 * watermark; latest: the high one); and the high watermark is queried if no
 * fetch brought it yet. Safe from any thread while the consumer exists; one
 * caller at a time per *start. */
int64_t rill__kconsumer_lag(rill__kconsumer_t *consumer, const char *topic, int32_t partition,
                            int64_t *start);
/* The high watermark of topic [partition], asked of the broker (bounded
 * wait), or -1 if it cannot be had. For restore progress. */
int64_t rill__kconsumer_end_offset(rill__kconsumer_t *consumer, const char *topic,
                                   int32_t partition);

/* Leaves the group (serving the final revoke) and frees the consumer. */
void rill__kconsumer_close(rill__kconsumer_t *consumer);

/* ---- producer ----------------------------------------------------------------- */

typedef struct rill__kproducer rill__kproducer_t;

/* A producer. fail_on_error: the production exception handler (true:
 * a failed delivery fails the thread; false: it is logged and counted).
 * stop: (transfer none) set when the thread must stop; a send waiting for
 * room in a full queue gives up then. */
rill__kproducer_t *rill__kproducer_new(const rill_config_t *config, int thread_index,
                                       bool fail_on_error, const volatile int *stop,
                                       rill_error_t **error);

/* The sink ops the tasks of a thread send through. */
rill__sink_ops_t rill__kproducer_sink(rill__kproducer_t *producer);

/* Serves delivery reports (non-blocking). */
void rill__kproducer_poll(rill__kproducer_t *producer);

/* Waits until every record sent so far is acknowledged (or failed), at most
 * timeout_ms; RILL_ERR_TIMEOUT if not all were; the first delivery failure
 * (when fail_on_error) otherwise. */
rill_err_t rill__kproducer_flush(rill__kproducer_t *producer, int timeout_ms,
                                 rill_error_t **error);

/* Records acknowledged so far. */
uint64_t rill__kproducer_acked(rill__kproducer_t *producer);

void rill__kproducer_destroy(rill__kproducer_t *producer);

#endif /* RILL_RUNTIME_KAFKA_H */
