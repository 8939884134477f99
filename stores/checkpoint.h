/* checkpoint.h: a task's `.checkpoint` file: the changelog offset up to which its stores are on disk.
 *
 * One file per task directory, <state.dir>/<application.id>/<task>/.checkpoint,
 * mapping (changelog topic, partition) to the offset of the next changelog
 * record to restore (Kafka Streams' convention: restore resumes there). The
 * runtime writes it after a successful commit (after rill__kv_flush of every
 * store of the task) and reads it before restoring.
 *
 * Format (text, so that a human can read it):
 *     rill-checkpoint 1
 *     <count>
 *     <topic> <partition> <offset>        (count lines)
 *     crc32c <8 hex digits>               (CRC-32C of all bytes above)
 * Writes are atomic: a temp file in the same directory, fsync, rename over
 * .checkpoint, fsync of the directory; so a crash leaves the old file or the
 * new one, never a mix. Reading a missing file gives an empty checkpoint
 * (restore from scratch); a file that fails any check is rejected with
 * RILL_ERR_CORRUPT and a message saying what is wrong (the runtime then
 * deletes the task's state and restores from scratch). */
#ifndef RILL_STORES_CHECKPOINT_H
#define RILL_STORES_CHECKPOINT_H

#include <stdbool.h>
#include <stdint.h>

#include <rill/error.h>

#define RILL__CHECKPOINT_FILE ".checkpoint"

typedef struct rill__checkpoint rill__checkpoint_t;

/* An empty checkpoint. (transfer full: rill__checkpoint_destroy) */
rill__checkpoint_t *rill__checkpoint_new(void);
void rill__checkpoint_destroy(rill__checkpoint_t *checkpoint);

/* Sets the offset of (topic, partition). Topic names follow Kafka's rules
 * ([a-zA-Z0-9._-], 1..249 chars); partition and offset must be >= 0. */
rill_err_t rill__checkpoint_set(rill__checkpoint_t *checkpoint, const char *topic,
                                int32_t partition, int64_t offset, rill_error_t **error);

/* True and *offset if (topic, partition) is in the checkpoint. */
bool rill__checkpoint_get(const rill__checkpoint_t *checkpoint, const char *topic,
                          int32_t partition, int64_t *offset);

/* Removes (topic, partition) (a store that must restore from scratch). */
void rill__checkpoint_remove(rill__checkpoint_t *checkpoint, const char *topic, int32_t partition);

/* Number of entries. */
unsigned rill__checkpoint_size(const rill__checkpoint_t *checkpoint);

/* Calls fn for each entry, in (topic, partition) order. */
void rill__checkpoint_foreach(const rill__checkpoint_t *checkpoint,
                              void (*fn)(void *ud, const char *topic, int32_t partition,
                                         int64_t offset),
                              void *ud);

/* Writes checkpoint atomically to task_dir/.checkpoint (see above). */
rill_err_t rill__checkpoint_write(const rill__checkpoint_t *checkpoint, const char *task_dir,
                                  rill_error_t **error);

/* Reads task_dir/.checkpoint. A missing file sets *checkpoint to an empty
 * checkpoint and returns RILL_OK; a corrupt one returns RILL_ERR_CORRUPT
 * (*checkpoint NULL); an unreadable one RILL_ERR_IO. (transfer full) */
rill_err_t rill__checkpoint_read(const char *task_dir, rill__checkpoint_t **checkpoint,
                                 rill_error_t **error);

/* Deletes task_dir/.checkpoint (e.g. under exactly-once before processing, so
 * that a crash forces a full restore). A missing file is not an error. */
rill_err_t rill__checkpoint_delete(const char *task_dir, rill_error_t **error);

#endif
