/* partition-group.h: the input buffers of a task that reads several
 * partitions, and the choice of which record it processes next (Kafka
 * Streams' RecordQueue + PartitionGroup, max.task.idle.ms).
 *
 * A task of a sub-topology with N source topics reads partition P of each
 * of them. Records are copied into one FIFO per input as the consumer
 * returns them; the task then processes the buffered head with the smallest
 * timestamp, so that a topic fetched in one large batch does not run stream
 * time ahead of the others (late drops in windowed joins, stream-table joins
 * seeing a table "from the future").
 *
 * When some input's buffer is empty the group may have to wait for it:
 *
 *   every input has a record buffered          → ready (smallest head first)
 *   idle_ms < 0                                → ready if any input has one
 *   an empty input is lagging or its lag is
 *     unknown (the caller's caught_up says)   → wait, at most
 *                                                RILL__PGROUP_LAG_WAIT_MS
 *   every empty input is caught up:
 *     idle_ms == 0                             → ready
 *     idle_ms  > 0                             → ready once idle_ms have passed
 *                                                since this began (enforced
 *                                                processing), wait until then
 *
 * The bound on the lag wait is rill's, not Kafka Streams': a partition whose
 * last records are transaction markers can look lagging to librdkafka
 * (position before the marker, high watermark after it) for ever; after the
 * bound the task goes on as if it were caught up, so it never stalls.
 *
 * Back-pressure: an input whose buffer reaches max_buffered records is
 * reported "pause" once (rill__pgroup_add returns true); it is reported
 * "resume" once (rill__pgroup_pop returns true) when it has drained to half
 * of that, so that a busy input is not paused and resumed per record. The
 * caller pauses/resumes the partition on its consumer; records that still
 * arrive while paused are buffered all the same (nothing is ever dropped).
 *
 * Thread: one stream thread (no locking). No librdkafka here: lag comes in
 * through the caught_up callback, time through now_ms, so it tests alone. */
#ifndef RILL_RUNTIME_PARTITION_GROUP_H
#define RILL_RUNTIME_PARTITION_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/task.h"

typedef struct rill__pgroup rill__pgroup_t;

/* The longest a group waits for an input that looks lagging (see above). */
#define RILL__PGROUP_LAG_WAIT_MS 10000

/* Whether the partition of input is caught up with its log end: 1 yes,
 * 0 no (records are on the broker, not fetched yet), -1 unknown. */
typedef int (*rill__pgroup_caught_up_fn)(void *ud, int input);

/* A group of n_inputs (>= 1) inputs. topics[i] names input i's topic and is
 * borrowed for the group's life (buffered records point to it).
 * max_buffered >= 1; idle_ms as max.task.idle.ms (-1: never wait). */
rill__pgroup_t *rill__pgroup_new(int n_inputs, const char *const *topics, int max_buffered,
                                 int64_t idle_ms);
/* Frees the group and every record still buffered. NULL: no-op. */
void rill__pgroup_destroy(rill__pgroup_t *group);

/* Copies record (key, value, headers, timestamp, offset) to the end of
 * input's buffer. Returns true if the input has just become full: the
 * caller pauses its partition. */
bool rill__pgroup_add(rill__pgroup_t *group, int input, const rill__raw_record_t *record);

/* The record to process next, or NULL if there is none or the group waits
 * (see the table above); *input is set to its input. now_ms: monotonic
 * clock. caught_up is asked only about empty inputs. The record (transfer
 * none) stays valid until rill__pgroup_pop() or _destroy(). */
const rill__raw_record_t *rill__pgroup_next(rill__pgroup_t *group, int64_t now_ms,
                                            rill__pgroup_caught_up_fn caught_up, void *ud,
                                            int *input);

/* Removes the head of input's buffer (the record _next returned). Returns
 * true if input was paused and has drained enough to resume. */
bool rill__pgroup_pop(rill__pgroup_t *group, int input);

/* Records buffered in input / in all inputs. */
size_t rill__pgroup_buffered(const rill__pgroup_t *group, int input);
size_t rill__pgroup_total(const rill__pgroup_t *group);
/* Whether input is paused (reported by _add and not resumed since). */
bool rill__pgroup_paused(const rill__pgroup_t *group, int input);
/* Records processed while some input was empty and caught up, after the
 * idle wait (Kafka Streams' enforced-processing count). */
uint64_t rill__pgroup_enforced(const rill__pgroup_t *group);

#endif
