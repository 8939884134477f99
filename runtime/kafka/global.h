/* global.h: the Kafka side of global tables: a consumer that reads every
 * partition of the global topics, outside any group.
 *
 * The app's global thread (runtime/global-thread.c) owns one. At creation
 * it looks up the topics' partitions, assign()s all of them at the offsets
 * the caller gives (the global stores' checkpoint, else the start) and
 * takes each partition's high watermark then: the bootstrap end. Reading
 * until caught_up() (every partition's position at or past its bootstrap
 * end, or at end-of-partition) is the bootstrap; after that the same
 * consumer keeps polling. No offsets are committed: the global stores'
 * checkpoint is the only record of progress. */
#ifndef RILL_RUNTIME_KAFKA_GLOBAL_H
#define RILL_RUNTIME_KAFKA_GLOBAL_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/config-private.h"
#include "runtime/task.h"

typedef struct rill__kglobal rill__kglobal_t;

/* offset_of(ud, topic, partition): where to start (0: the start). A topic
 * that does not exist fails with RILL_ERR_NOT_FOUND. (transfer full) */
rill__kglobal_t *rill__kglobal_new(const rill_config_t *config, const char *const *topics,
                                   int64_t (*offset_of)(void *ud, const char *topic,
                                                        int32_t partition),
                                   void *ud, rill_error_t **error);

/* Polls at most timeout_ms, handing each record to fn (borrowed for the
 * call; an error from fn stops and is returned). Returns the number of
 * records, or -1 with *error set. */
int rill__kglobal_poll(rill__kglobal_t *kglobal, int timeout_ms,
                       rill_err_t (*fn)(void *ud, const rill__raw_record_t *record,
                                        rill_error_t **error),
                       void *ud, rill_error_t **error);

/* Whether every partition reached the end it had at creation. */
bool rill__kglobal_caught_up(const rill__kglobal_t *kglobal);

/* Records to read before caught up (an estimate, for logs). */
int64_t rill__kglobal_remaining(const rill__kglobal_t *kglobal);

void rill__kglobal_destroy(rill__kglobal_t *kglobal);

#endif /* RILL_RUNTIME_KAFKA_GLOBAL_H */
