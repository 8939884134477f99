/* restore.h: replaying a changelog into a store in large write batches, with progress reports.
 *
 * The runtime's restore consumer reads the changelog partition of a store
 * from the checkpointed offset to the end offset and hands each record to
 * rill__restorer_add; the restorer copies it into a batch and writes the batch
 * (rill__kv_put_batch: one RocksDB WriteBatch, or one ingested SST file for
 * large batches) when it is full (see RILL__RESTORE_BATCH_DEFAULT), then
 * reports it to the listener. rill__restorer_finish writes the last batch and reports
 * the end. The restorer writes to the innermost store (never through the
 * change-logging or caching layers, which would log or cache the restore).
 *
 *     rill__restorer_new ──► on_start ──► RESTORING ──add × N──► (batch full:
 *       write batch, on_batch) ──► RESTORING ──rill__restorer_finish──►
 *       write last batch, on_batch, on_end ──► DONE ──rill__restorer_destroy
 *
 * An error (a store write failing, an offset going backwards) leaves the
 * restorer FAILED: every later call returns RILL_ERR_INVALID_STATE, and the
 * listener's on_end is not called. */
#ifndef RILL_STORES_RESTORE_H
#define RILL_STORES_RESTORE_H

#include "stores/kv.h"

/* Kafka Streams' StateRestoreListener. Every callback is optional; strings
 * are borrowed for the call. */
typedef struct rill__restore_listener {
    void (*on_start)(void *ud, const char *store, const char *topic, int32_t partition,
                     int64_t start_offset, int64_t end_offset);
    /* batch_end_offset: offset of the last record of the batch */
    void (*on_batch)(void *ud, const char *store, const char *topic, int32_t partition,
                     int64_t batch_end_offset, uint64_t batch_records);
    void (*on_end)(void *ud, const char *store, const char *topic, int32_t partition,
                   uint64_t total_records, double records_per_sec);
    void *ud;
} rill__restore_listener_t;

typedef struct rill__restorer rill__restorer_t;

/* A batch is written when it holds batch_records records or
 * RILL__RESTORE_BATCH_MAX_BYTES of keys and values, whichever comes first.
 * Large batches let a RocksDB store bulk-load them (kv-rocksdb.h: sorted SST
 * files ingested, no memtable); the buffers grow with the batch, so a small
 * restore allocates little. */
#define RILL__RESTORE_BATCH_DEFAULT 500000
#define RILL__RESTORE_BATCH_MAX_BYTES (64u << 20)
/* A full batch of at least this many records is written by a thread of its
 * own while the next one fills (restore.c); its records count (records,
 * next_offset, on_batch) once that write is done. rill__restorer_write and
 * _finish wait for it. Two buffers of a batch each, at most. */
#define RILL__RESTORE_ASYNC_MIN_RECORDS 20000

/* Starts restoring store (its innermost store is written; borrowed, must
 * outlive the restorer) from changelog topic/partition, records
 * [start_offset, end_offset) as the consumer sees them (end_offset -1 if
 * unknown, only reported). batch_records 0 = RILL__RESTORE_BATCH_DEFAULT.
 * listener is copied and may be NULL. Puts the store in restore mode
 * (rill__kv_restore_begin: no reads until the restore ends), then calls
 * on_start. Returns NULL with *error set if the store cannot switch modes.
 * (transfer full: rill__restorer_destroy) */
rill__restorer_t *rill__restorer_new(rill__kv_store_t *store, const char *topic,
                                     int32_t partition, int64_t start_offset, int64_t end_offset,
                                     size_t batch_records, const rill__restore_listener_t *listener,
                                     rill_error_t **error);

/* Adds one changelog record (value NULL = tombstone; all borrowed for the
 * call). Offsets must increase (gaps are fine: compaction and transaction
 * markers leave them). May write a batch. */
rill_err_t rill__restorer_add(rill__restorer_t *restorer, const void *key, size_t key_len,
                              const void *value, size_t value_len, int64_t offset,
                              int64_t timestamp, rill_error_t **error);

/* Writes what is buffered (a batch boundary the runtime may choose, e.g. at
 * the end of each poll); reports it as a batch. */
rill_err_t rill__restorer_write(rill__restorer_t *restorer, rill_error_t **error);

/* Writes the last batch, flushes the store, ends its restore mode and calls on_end. */
rill_err_t rill__restorer_finish(rill__restorer_t *restorer, rill_error_t **error);

/* The offset from which restoring would resume: 1 + the offset of the last
 * record written to the store (start_offset before any). Records added but
 * not yet written do not count. This is what goes into the checkpoint. */
int64_t rill__restorer_next_offset(const rill__restorer_t *restorer);

/* Records written to the store so far. */
uint64_t rill__restorer_records(const rill__restorer_t *restorer);

/* Frees restorer; if it did not finish, ends the store's restore mode first
 * (what was written stays written). NULL is a no-op. */
void rill__restorer_destroy(rill__restorer_t *restorer);

#endif
