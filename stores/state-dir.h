/* state-dir.h: an application's state directory: its lock, task directories, store paths, cleanup.
 *
 *     <state.dir>/<application.id>/
 *         .lock                      flock'ed by the one process that uses this directory
 *         <task>/                    e.g. 0_1 (Kafka Streams' task id)
 *             .checkpoint            checkpoint.h
 *             rocksdb/<store>/       one RocksDB instance per store
 *
 * Two rill processes (or two apps in one process) must never share a state
 * directory: rill__state_dir_open takes an exclusive, non-blocking flock on
 * .lock and fails with a clear error naming the directory and the pid that
 * holds it. The lock goes away with the process, so a crash never leaves a
 * stale lock behind. */
#ifndef RILL_STORES_STATE_DIR_H
#define RILL_STORES_STATE_DIR_H

#include <stdint.h>

#include <rill/error.h>

typedef struct rill__state_dir rill__state_dir_t;

/* Creates <state_dir>/<application_id>/ if needed and locks it. Fails with
 * RILL_ERR_INVALID_STATE if another process (or another open in this one)
 * holds the lock, RILL_ERR_IO if the directory cannot be made.
 * (transfer full: rill__state_dir_close, which releases the lock) */
rill__state_dir_t *rill__state_dir_open(const char *state_dir, const char *application_id,
                                        rill_error_t **error);
void rill__state_dir_close(rill__state_dir_t *dir);

/* <state.dir>/<application.id>, borrowed for dir's life. */
const char *rill__state_dir_path(const rill__state_dir_t *dir);

/* Creates (if needed) and returns the task's directory. (transfer full, g_free) */
char *rill__state_dir_task(rill__state_dir_t *dir, const char *task_id, rill_error_t **error);

/* <task dir>/rocksdb/<store>, not created (rill__kv_rocksdb_open creates it). (transfer full) */
char *rill__state_dir_store_path(const rill__state_dir_t *dir, const char *task_id,
                                 const char *store_name);

/* Deletes the task's directory and all in it (state wiped: restore from scratch). */
rill_err_t rill__state_dir_wipe_task(rill__state_dir_t *dir, const char *task_id,
                                     rill_error_t **error);

/* Deletes every task directory that is not in active (NULL-terminated task
 * ids, may be NULL) and was last modified more than delay_ms before now_ms
 * (Kafka Streams' state.cleanup.delay.ms). Entries that do not look like task
 * directories (names starting with '.') are left alone. *removed (optional)
 * counts what was deleted. */
rill_err_t rill__state_dir_clean_stale(rill__state_dir_t *dir, const char *const *active,
                                       int64_t delay_ms, int64_t now_ms, unsigned *removed,
                                       rill_error_t **error);

#endif
