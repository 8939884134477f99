/* rill/processor.h: the processor API inside the DSL (Kafka Streams' process(), KIP-820).
 *
 * A processor is a user node: for each record its process() callback may
 * forward any number of records (the input itself, or new key/values) to the
 * nodes below, and it may schedule punctuators, by stream time (fired as
 * records advance the task's stream time) or by wall-clock time (fired by
 * the stream thread, or by rill_driver_advance_wall_clock()). Each task has
 * its own processor instance: init() makes its state, close() frees it.
 *
 * Stores are attached to processors by name (they appear in describe); store
 * access from a processor comes with the stores (issue 6).
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
/* Schedules fn every interval_ms (> 0). Only from init(). The first
 * stream-time punctuation is due one interval after the first stream time
 * the processor sees; wall-clock ones one interval after init. */
RILL_EXPORT rill_err_t rill_context_schedule(rill_context_t *context, int64_t interval_ms,
                                             rill_punctuation_type_t type, rill_punctuate_fn fn,
                                             rill_error_t **error);
RILL_EXPORT int64_t rill_context_stream_time(const rill_context_t *context);
RILL_EXPORT int64_t rill_context_wall_clock(const rill_context_t *context);
/* The task id "S_P" and partition. (transfer none) */
RILL_EXPORT const char *rill_context_task_id(const rill_context_t *context);
RILL_EXPORT int32_t rill_context_partition(const rill_context_t *context);

RILL_END_DECLS

#endif /* RILL_PROCESSOR_H */
