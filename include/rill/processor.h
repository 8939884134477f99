/* rill/processor.h: the processor API inside the DSL (Kafka Streams' process(), KIP-820).
 *
 * A processor is a user node: for each record its process() callback may
 * forward any number of records (the input itself, or new key/values) to all
 * the nodes below it, or to one of them by name (rill_context_forward_to);
 * and it may schedule punctuators, by stream time (fired as records advance
 * the task's stream time) or by wall-clock time (fired by the stream thread,
 * or by rill_driver_advance_wall_clock()), and cancel them. Each task has its
 * own processor instance: init() makes its state, close() frees it. Stores
 * named in rill_stream_process() are opened with rill_context_get_store()
 * (rill/store.h).
 *
 * A value transformer (Kafka's transformValues) is a processor whose output
 * is one new value per record, the key kept: rill_stream_transform_values().
 *
 * Children. The children of a processor are the nodes added with its stream
 * as their parent (rill_stream_filter(processed, ...), rill_stream_to(...),
 * another rill_stream_process(...)), in the order they were added; a child is
 * addressed by its name: the name given to that operator, or the generated
 * one ("KSTREAM-SINK-0000000004"; see rill_topology_describe()). Name the
 * children you forward to.
 *
 * Punctuation semantics (both types). A punctuator has a grid: start,
 * start + interval, start + 2 * interval, ... It fires when the time of its
 * type reaches the next grid point, with that time as `timestamp`, and then
 * waits for the first grid point after it: when time jumps over several
 * intervals at once (a gap in the data, a stalled thread) it fires ONCE, not
 * once per missed interval (as Kafka Streams). The grid starts one interval
 * after the time at which it was scheduled: for stream time, the task's
 * stream time then, or, before the task has seen a record, the first stream
 * time it sees; for wall-clock time, the wall clock then. Stream-time
 * punctuators fire after the record that moved stream time has gone through
 * the processor; stream time never goes back, so an out-of-order record
 * fires nothing. Within an instance, due punctuators fire in the order they
 * were scheduled, stream-time ones before wall-clock ones.
 *
 * Thread: every callback of an instance runs on the thread of its task. */
#ifndef RILL_PROCESSOR_H
#define RILL_PROCESSOR_H

#include <stddef.h>
#include <stdint.h>

#include <rill/error.h>
#include <rill/export.h>
#include <rill/record.h>
#include <rill/topology.h>

RILL_BEGIN_DECLS

/* The processor's view of its task; borrowed, valid in the callbacks only. */
typedef struct rill_context rill_context_t;

typedef enum rill_punctuation_type {
    RILL_PUNCTUATE_STREAM_TIME = 0,
    RILL_PUNCTUATE_WALL_CLOCK,
} rill_punctuation_type_t;

/* A punctuator: timestamp is the stream time or wall-clock time that made it due. */
typedef rill_err_t (*rill_punctuate_fn)(rill_context_t *context, int64_t timestamp, void *state,
                                        rill_error_t **error);

typedef struct rill_processor {
    /* Optional: makes the per-task state (*state starts NULL) and schedules
     * punctuators. An error fails the creation of the task. */
    rill_err_t (*init)(rill_context_t *context, void *user_data, void **state,
                       rill_error_t **error);
    /* Required: handles one record (borrowed for the call). An error is a
     * processing error (see rill_on_error_t). */
    rill_err_t (*process)(rill_context_t *context, const rill_record_t *record, void *state,
                          rill_error_t **error);
    /* Optional: frees the state when the task closes. */
    void (*close)(void *state, void *user_data);
    void *user_data; /* borrowed for the topology's life */
} rill_processor_t;

/* Adds processor (copied) below stream with the stores named in
 * store_names (NULL-terminated, copied; may be NULL). (transfer none) */
RILL_EXPORT rill_stream_t *rill_stream_process(rill_stream_t *stream,
                                               const rill_processor_t *processor,
                                               const char *const *store_names, const char *name);

/* Forwards record unchanged to the children. */
RILL_EXPORT rill_err_t rill_context_forward(rill_context_t *context, const rill_record_t *record,
                                            rill_error_t **error);
/* Forwards a new record with key, value and timestamp (borrowed for the call;
 * NULL key/value = null); headers and origin come from base (may be NULL,
 * e.g. in a punctuator). */
RILL_EXPORT rill_err_t rill_context_forward_values(rill_context_t *context,
                                                   const rill_record_t *base,
                                                   const rill_value_t *key,
                                                   const rill_value_t *value, int64_t timestamp,
                                                   rill_error_t **error);
/* As rill_context_forward_values, with headers (borrowed for the call)
 * instead of base's: header_count 0 forwards none. */
RILL_EXPORT rill_err_t rill_context_forward_with_headers(
    rill_context_t *context, const rill_record_t *base, const rill_value_t *key,
    const rill_value_t *value, int64_t timestamp, const rill_header_t *headers, size_t header_count,
    rill_error_t **error);
/* Forwards record unchanged to the child named child only (see "Children"
 * above). An unknown name is an error (RILL_ERR_NOT_FOUND, listing the
 * children) and forwards nothing. */
RILL_EXPORT rill_err_t rill_context_forward_to(rill_context_t *context, const char *child,
                                               const rill_record_t *record, rill_error_t **error);
/* As rill_context_forward_values, to the child named child only. */
RILL_EXPORT rill_err_t rill_context_forward_values_to(rill_context_t *context, const char *child,
                                                      const rill_record_t *base,
                                                      const rill_value_t *key,
                                                      const rill_value_t *value, int64_t timestamp,
                                                      rill_error_t **error);
/* Schedules fn every interval_ms (> 0), from any callback of the instance
 * (init, process, a punctuator); see "Punctuation semantics" above.
 * Each call adds a punctuator (cancel those no longer needed); one scheduled
 * from a punctuator never fires in the round that is running. */
RILL_EXPORT rill_err_t rill_context_schedule(rill_context_t *context, int64_t interval_ms,
                                             rill_punctuation_type_t type, rill_punctuate_fn fn,
                                             rill_error_t **error);
/* As rill_context_schedule, and sets *punctuator (may be NULL) to an id
 * (> 0, unique within the instance) for rill_context_cancel(). */
RILL_EXPORT rill_err_t rill_context_schedule_cancellable(rill_context_t *context,
                                                         int64_t interval_ms,
                                                         rill_punctuation_type_t type,
                                                         rill_punctuate_fn fn, uint64_t *punctuator,
                                                         rill_error_t **error);
/* Cancels a punctuator from any callback of the instance, including the
 * punctuator itself: it never fires again (not even later in the current
 * round). RILL_ERR_NOT_FOUND if punctuator is unknown or already cancelled. */
RILL_EXPORT rill_err_t rill_context_cancel(rill_context_t *context, uint64_t punctuator,
                                           rill_error_t **error);
RILL_EXPORT int64_t rill_context_stream_time(const rill_context_t *context);
RILL_EXPORT int64_t rill_context_wall_clock(const rill_context_t *context);
/* The task id "S_P" and partition. (transfer none) */
RILL_EXPORT const char *rill_context_task_id(const rill_context_t *context);
RILL_EXPORT int32_t rill_context_partition(const rill_context_t *context);

/* ---- value transformers (Kafka's transformValues) ----------------------- */

typedef struct rill_value_transformer {
    /* Optional: as rill_processor_t.init (may schedule punctuators and open
     * stores). */
    rill_err_t (*init)(rill_context_t *context, void *user_data, void **state,
                       rill_error_t **error);
    /* Required: sets the record's new value on out (starts null; left null,
     * a null value is forwarded) with the input's key, timestamp and
     * headers. An error is a processing error. */
    rill_err_t (*transform)(rill_context_t *context, const rill_record_t *record, void *state,
                            rill_value_t *out, rill_error_t **error);
    void (*close)(void *state, void *user_data); /* optional */
    void *user_data;                             /* borrowed for the topology's life */
} rill_value_transformer_t;

/* Adds transformer (copied) below stream with the stores named in
 * store_names (as rill_stream_process). The key is unchanged, so no
 * repartition follows. The context's forwards are refused
 * (RILL_ERR_INVALID_STATE) in every callback of a value transformer,
 * punctuators included: its only output is transform()'s value.
 * (transfer none) */
RILL_EXPORT rill_stream_t *rill_stream_transform_values(rill_stream_t *stream,
                                                        const rill_value_transformer_t *transformer,
                                                        const char *const *store_names,
                                                        const char *name);

RILL_END_DECLS

#endif /* RILL_PROCESSOR_H */
