/* rill/driver.h: the test driver: runs a topology in-process, without a broker.
 *
 * The analogue of Kafka Streams' TopologyTestDriver: pipe records into named
 * topics, and each is processed at once, synchronously and depth-first, by
 * the task (sub-topology, partition) that owns it; what sinks write is
 * captured per topic and read back as records. Records written to a topic
 * the topology also reads (repartition topics, or a user topic read by
 * another source) are looped back in-process, in the order written, before
 * the pipe call returns. The wall clock is the driver's: it starts at
 * config->wall_clock_ms and moves only with rill_driver_advance_wall_clock().
 *
 * Every topic has config->partitions partitions (default 1). A piped record
 * without an explicit partition goes to murmur2(key) % partitions, as Kafka's
 * default partitioner (null keys to partition 0).
 *
 * Thread: a driver is used from one thread. */
#ifndef RILL_DRIVER_H
#define RILL_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/serde.h>
#include <rill/topology.h>

RILL_BEGIN_DECLS

typedef struct rill_driver rill_driver_t;

typedef struct rill_driver_config {
    const char *application_id;     /* NULL = "rill-test" (names the repartition topics) */
    int32_t partitions;             /* of every topic; 0 = 1 */
    int64_t wall_clock_ms;          /* the wall clock's start; 0 = 0 */
    rill_error_handlers_t handlers; /* zeroed = fail on every error */
    /* default.key.serde / default.value.serde: for sources that name none
     * (NULL = bytes). (transfer none: must outlive the driver) */
    const rill_serde_t *default_key_serde;
    const rill_serde_t *default_value_serde;
    /* State stores: statestore.cache.max.bytes of each task (0 = caching
     * off, the default here, so that every update shows at once), and
     * state.dir (NULL = RocksDB stores are kept in memory instead). Every
     * changelog record is captured in-process (readable as an output topic
     * too) and is what tasks restore from. */
    size_t cache_max_bytes;
    const char *state_dir; /* (transfer none: copied) */
} rill_driver_config_t;

/* A driver running topology (transfer none: it must outlive the driver; the
 * driver sets its application.id, so drivers that share a topology at the
 * same time must use the same application_id). config may be NULL.
 * (transfer full) */
RILL_EXPORT rill_driver_t *rill_driver_new(rill_topology_t *topology,
                                           const rill_driver_config_t *config,
                                           rill_error_t **error);
RILL_EXPORT void rill_driver_destroy(rill_driver_t *driver);

/* An input record; everything borrowed for the call. */
typedef struct rill_driver_input {
    const void *key; /* NULL = null key */
    size_t key_len;
    const void *value; /* NULL = null value */
    size_t value_len;
    int64_t timestamp;
    int32_t partition; /* -1 = by key; set it explicitly, 0 is partition 0 */
    const rill_header_t *headers;
    size_t header_count;
} rill_driver_input_t;

/* Pipes one record into topic and processes it (and whatever it loops back).
 * Fails with the error the topology's error handlers did not absorb; the
 * driver stays usable. */
RILL_EXPORT rill_err_t rill_driver_pipe(rill_driver_t *driver, const char *topic,
                                        const rill_driver_input_t *input, rill_error_t **error);
/* Shortcuts: NUL-terminated strings (NULL = null) and raw bytes, partition by key. */
RILL_EXPORT rill_err_t rill_driver_pipe_string(rill_driver_t *driver, const char *topic,
                                               const char *key, const char *value,
                                               int64_t timestamp, rill_error_t **error);
RILL_EXPORT rill_err_t rill_driver_pipe_bytes(rill_driver_t *driver, const char *topic,
                                              const void *key, size_t key_len, const void *value,
                                              size_t value_len, int64_t timestamp,
                                              rill_error_t **error);
/* Typed: key and value (transfer none; NULL = null) serialized with the serdes. */
RILL_EXPORT rill_err_t rill_driver_pipe_values(rill_driver_t *driver, const char *topic,
                                               const rill_serde_t *key_serde,
                                               const rill_value_t *key,
                                               const rill_serde_t *value_serde,
                                               const rill_value_t *value, int64_t timestamp,
                                               rill_error_t **error);

/* Moves the wall clock forward by ms and fires due wall-clock punctuators. */
RILL_EXPORT rill_err_t rill_driver_advance_wall_clock(rill_driver_t *driver, int64_t ms,
                                                      rill_error_t **error);
RILL_EXPORT int64_t rill_driver_wall_clock(const rill_driver_t *driver);

/* How many captured records of topic are still unread. */
RILL_EXPORT size_t rill_driver_output_size(const rill_driver_t *driver, const char *topic);
/* The next captured record of topic (in the order written, across
 * partitions), deserialized with the serdes (NULL = bytes), or NULL when
 * there is none (not an error) or it does not deserialize (*error set; the
 * record is consumed). (transfer full) free with rill_record_destroy(). */
RILL_EXPORT rill_record_t *rill_driver_read_output(rill_driver_t *driver, const char *topic,
                                                   const rill_serde_t *key_serde,
                                                   const rill_serde_t *value_serde,
                                                   rill_error_t **error);
/* Commits every task as a stream thread would: flushes their caches
 * (forwarding what they held, and processing what that loops back) and
 * stores, and writes their checkpoints. */
RILL_EXPORT rill_err_t rill_driver_commit(rill_driver_t *driver, rill_error_t **error);
/* Closes every task (as at a rebalance or a restart of the app: committed
 * first when commit is true, else dropped as after a crash, so that cached
 * updates are lost). Tasks are made again by the next record, and restore
 * their stores from the captured changelogs (from their checkpoint if they
 * have a state_dir). */
RILL_EXPORT rill_err_t rill_driver_restart(rill_driver_t *driver, bool commit,
                                           rill_error_t **error);

/* The stream time of task "S_P", or -1 if it has not seen a record (or does not exist). */
RILL_EXPORT int64_t rill_driver_stream_time(const rill_driver_t *driver, const char *task_id);

/* Records the tasks dropped since they were created (rill_driver_restart
 * makes new tasks): of task "S_P" (NULL = every task) for reason (NULL =
 * every reason) — the reason label of rill_app_dropped_records_total:
 * "late", "deserialization", "processing", "production", "null_key",
 * "invalid_timestamp", "join_miss" (an inner stream-table join found no
 * table row). 0 for an unknown task or reason. */
RILL_EXPORT uint64_t rill_driver_dropped_records(const rill_driver_t *driver, const char *task_id,
                                                 const char *reason);

RILL_END_DECLS

#endif /* RILL_DRIVER_H */
