/* kv-rocksdb.h: the RocksDB key-value store, and the RocksDB resources all stores of a process share.
 *
 * One RocksDB instance per store per task, in
 * <state.dir>/<application.id>/<task>/rocksdb/<store>/ (state-dir.h builds
 * the path). All instances of a process share one rill__rocksdb_shared_t:
 * one LRU block cache (data, index and filter blocks are all charged to it),
 * one Env with a fixed pool of background threads, and one set of options.
 *
 * Memory. RocksDB 7.8's C API has no WriteBufferManager, so memtables cannot
 * be charged to the shared cache. rill bounds them per store instead:
 * each store holds at most write_buffer_bytes * max_write_buffers of
 * memtables. The process's RocksDB memory is therefore at most
 *     block_cache_bytes + open stores * write_buffer_bytes * max_write_buffers
 * (plus what RocksDB does not charge to the cache: table readers, compaction
 * buffers); rill__rocksdb_shared_memory_bound() computes it. A store in
 * restore mode (rill__kv_restore_begin) uses up to (2 + background_threads)
 * memtables of 2 * write_buffer_bytes instead.
 *
 * Durability: no WAL (as Kafka Streams): the changelog topic is the
 * durability, and rill__kv_flush() flushes the memtables to SST files before
 * the runtime writes a checkpoint. Data written after the last flush may be
 * lost in a crash; restore replays it from the changelog.
 *
 * Tuning: rill's options (see rill__rocksdb_config_default and docs/stores.md)
 * apply to every store, then the user's config setter (Kafka Streams'
 * rocksdb.config.setter) may change any option of a store by name. */
#ifndef RILL_STORES_KV_ROCKSDB_H
#define RILL_STORES_KV_ROCKSDB_H

#include "stores/kv.h"

/* RocksDB's C API types, declared (not included) so that the runtime can
 * pass a config setter without including <rocksdb/c.h> (C11 allows the
 * repeated typedef). */
typedef struct rocksdb_options_t rocksdb_options_t;
typedef struct rocksdb_block_based_table_options_t rocksdb_block_based_table_options_t;

/* The user's hook (rocksdb.config.setter): called once per store when it is
 * opened, after rill's options are set, with the store's name. It may change
 * options and table_options (both borrowed for the call; table_options is
 * applied to options after the setter returns). Returning non-RILL_OK fails
 * the open with that error. */
typedef rill_err_t (*rill__rocksdb_config_setter_t)(void *ud, const char *store_name,
                                                    rocksdb_options_t *options,
                                                    rocksdb_block_based_table_options_t *table_options,
                                                    rill_error_t **error);

/* In restore mode, a batch of at least this many records is not written
 * through the memtable: it is sorted, deduplicated (the last write of a key
 * wins), written to an SST file and ingested (RocksDB's bulk load). */
#define RILL__ROCKSDB_INGEST_MIN_RECORDS 20000

typedef struct rill__rocksdb_config {
    size_t block_cache_bytes;   /* shared LRU cache of every store (default 64 MiB) */
    size_t write_buffer_bytes;  /* memtable size per store (default 16 MiB) */
    int max_write_buffers;      /* memtables per store, active + immutable (default 3) */
    size_t block_size;          /* SST block size (default 16 KiB) */
    int background_threads;     /* flush and compaction threads each (default 2) */
    double bloom_bits_per_key;  /* 0 = no filter (default 10) */
    size_t restore_write_buffer_bytes; /* memtable size in restore mode (0 = default:
                                        * 2 * write_buffer_bytes) */
    int restore_compact_l0_files; /* restore_end compacts L0 when it holds this many files
                                   * (0 = default: 16) */
    bool use_rocksdb_defaults;  /* ignore all of the above and the tuning: RocksDB's own
                                 * default options and a WAL (for comparisons only) */
    rill__rocksdb_config_setter_t config_setter; /* optional */
    void *config_setter_ud;
} rill__rocksdb_config_t;

typedef struct rill__rocksdb_shared rill__rocksdb_shared_t;

/* Fills config with rill's defaults. */
void rill__rocksdb_config_default(rill__rocksdb_config_t *config);

/* The shared resources (config copied). (transfer full:
 * rill__rocksdb_shared_destroy, after every store that uses it is closed) */
rill__rocksdb_shared_t *rill__rocksdb_shared_new(const rill__rocksdb_config_t *config,
                                                 rill_error_t **error);
void rill__rocksdb_shared_destroy(rill__rocksdb_shared_t *shared);

/* Upper bound of RocksDB's memory with n_stores open (see above). */
size_t rill__rocksdb_shared_memory_bound(const rill__rocksdb_shared_t *shared, size_t n_stores);

/* Bytes the shared block cache holds now. */
size_t rill__rocksdb_shared_cache_usage(const rill__rocksdb_shared_t *shared);

/* Opens (creating it and its parent directories if needed) the store named
 * name in directory path. shared is borrowed and must outlive the store.
 * Fails with RILL_ERR_STORE and RocksDB's message (e.g. when another process
 * holds the instance's LOCK). (transfer full: rill__kv_close) */
rill__kv_store_t *rill__kv_rocksdb_open(rill__rocksdb_shared_t *shared, const char *path,
                                        const char *name, rill_error_t **error);

/* The store's directory, borrowed. */
const char *rill__kv_rocksdb_path(const rill__kv_store_t *store);

/* Number of SST files in level 0 (for tests and metrics). */
uint64_t rill__kv_rocksdb_l0_files(rill__kv_store_t *store);

/* Compacts the whole key range (after a large restore, for read speed). */
rill_err_t rill__kv_rocksdb_compact(rill__kv_store_t *store, rill_error_t **error);

#endif /* RILL_STORES_KV_ROCKSDB_H */
