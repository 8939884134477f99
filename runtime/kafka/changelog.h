/* changelog.h: the Kafka side of state stores: reading changelogs to restore them.
 *
 * Changelog records are sent through the thread's producer (the task's sink,
 * rill__kproducer_sink), so only reading needs code of its own here. */
#ifndef RILL_RUNTIME_KAFKA_CHANGELOG_H
#define RILL_RUNTIME_KAFKA_CHANGELOG_H

#include "runtime/config-private.h"
#include "runtime/task.h"

/* rill__task_env_t.changelog_read over Kafka: ud is the app's rill_config_t
 * (borrowed). Reads topic/partition from `from` to the high watermark seen
 * at the start (*end_offset), with a consumer of its own. */
rill_err_t rill__kafka_changelog_read(void *ud, const char *topic, int32_t partition,
                                      int64_t from,
                                      rill_err_t (*fn)(void *fn_ud,
                                                       const rill__raw_record_t *record,
                                                       rill_error_t **error),
                                      void *fn_ud, int64_t *end_offset, rill_error_t **error);

#endif /* RILL_RUNTIME_KAFKA_CHANGELOG_H */
