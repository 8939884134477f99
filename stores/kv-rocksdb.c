/* kv-rocksdb.c: the RocksDB key-value store, through RocksDB's C API.
 *
 * Design: one rocksdb_t per store. Options are built per open from the
 * shared config (kv-rocksdb.h), then handed to the user's config setter, then
 * the DB is opened and the options freed (RocksDB copies them; the shared
 * cache and Env live in rill__rocksdb_shared_t). Writes go without a WAL;
 * rill__kv_flush flushes memtables and waits, so that a checkpoint written
 * after it names only data that is on disk.
 *
 * Batches are written sorted by key (a stable sort, so that two writes of one
 * key keep their order and the last still wins): inserting neighbours one
 * after the other into the memtable's skiplist walks nodes that are already
 * in the CPU cache, which costs less CPU than random order.
 *
 * Restore mode (rill__kv_restore_begin/_end): the DB is closed and reopened
 * with a vector memtable, which appends writes and sorts them once, in the
 * flush thread, instead of searching a skiplist for each; reads are slow in
 * that mode, and a restore does none. At the end the memtable is flushed and
 * the DB reopened with the normal options.
 *
 *     open ──► NORMAL ──restore_begin: flush, close, reopen──► RESTORING
 *                ▲                                                │
 *                └────────── restore_end: flush, close, reopen ◄──┘
 *     A failed reopen leaves the store DEAD (db NULL): every op then fails.
 *
 * Iterators own their read options, because RocksDB keeps a pointer to the
 * upper-bound slice (and to its bytes) for the iterator's whole life. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <rocksdb/c.h>

#include "common/log.h"
#include "stores/kv-private.h"
#include "stores/kv-rocksdb.h"

struct rill__rocksdb_shared {
    rill__rocksdb_config_t config;
    rocksdb_cache_t *cache; /* NULL with use_rocksdb_defaults */
    rocksdb_env_t *env;
};

typedef struct rdbstore {
    rill__kv_store_t base;
    rill__rocksdb_shared_t *shared;
    char *path;
    rocksdb_t *db;
    rocksdb_writeoptions_t *wo;
    rocksdb_readoptions_t *ro;
    rocksdb_flushoptions_t *fo;
    rocksdb_writebatch_t *batch; /* reused by put_batch */
    const rill__kv_entry_t **order; /* reused by put_batch: entries sorted by key */
    size_t order_cap;
    bool restoring;
} rdbstore_t;

void rill__rocksdb_config_default(rill__rocksdb_config_t *config)
{
    memset(config, 0, sizeof *config);
    config->block_cache_bytes = 64u << 20;
    config->write_buffer_bytes = 16u << 20;
    config->max_write_buffers = 3;
    config->block_size = 16u << 10;
    config->background_threads = 2;
    config->bloom_bits_per_key = 10.0;
}

rill__rocksdb_shared_t *rill__rocksdb_shared_new(const rill__rocksdb_config_t *config,
                                                 rill_error_t **error)
{
    if (config == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rocksdb: config is NULL");
        return NULL;
    }
    if (!config->use_rocksdb_defaults &&
        (config->write_buffer_bytes < (64u << 10) || config->max_write_buffers < 2 ||
         config->block_size < 512 || config->background_threads < 1 ||
         config->bloom_bits_per_key < 0)) {
        rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                       "rocksdb: invalid config (write buffer >= 64 KiB, max write buffers >= 2, "
                       "block size >= 512, background threads >= 1, bloom bits >= 0)");
        return NULL;
    }
    rill__rocksdb_shared_t *shared = g_new0(rill__rocksdb_shared_t, 1);
    shared->config = *config;
    shared->env = rocksdb_create_default_env();
    if (!config->use_rocksdb_defaults) {
        shared->cache = rocksdb_cache_create_lru(config->block_cache_bytes);
        /* flushes (high priority) and compactions each get a pool */
        rocksdb_env_set_high_priority_background_threads(shared->env, config->background_threads);
        rocksdb_env_set_background_threads(shared->env, config->background_threads);
    }
    return shared;
}

void rill__rocksdb_shared_destroy(rill__rocksdb_shared_t *shared)
{
    if (shared == NULL)
        return;
    if (shared->cache)
        rocksdb_cache_destroy(shared->cache);
    rocksdb_env_destroy(shared->env);
    g_free(shared);
}

size_t rill__rocksdb_shared_memory_bound(const rill__rocksdb_shared_t *shared, size_t n_stores)
{
    const rill__rocksdb_config_t *c = &shared->config;
    return c->block_cache_bytes + n_stores * c->write_buffer_bytes * (size_t)c->max_write_buffers;
}

size_t rill__rocksdb_shared_cache_usage(const rill__rocksdb_shared_t *shared)
{
    return shared->cache ? rocksdb_cache_get_usage(shared->cache) : 0;
}

/* Sets *error from RocksDB's message (and frees it). */
static rill_err_t rdb_fail(rill_error_t **error, char *errmsg, const char *what,
                           const rill__kv_store_t *store)
{
    rill_err_t err = rill_error_set(error, RILL_ERR_STORE, "rocksdb store %s: %s: %s",
                                    store ? store->name : "?", what, errmsg);
    rocksdb_free(errmsg);
    return err;
}

static rill_err_t dead(const rdbstore_t *rs, rill_error_t **error)
{
    return rill_error_set(error, RILL_ERR_STORE,
                          "rocksdb store %s: unusable after a failed reopen of %s",
                          rs->base.name, rs->path);
}

/* rill's tuning: see docs/stores.md for why each option. */
static rocksdb_options_t *tuned_options(const rill__rocksdb_shared_t *shared,
                                        rocksdb_block_based_table_options_t *table)
{
    /* levels 0 and 1 are rewritten soon by compaction: not worth compressing */
    static const int compression[7] = {rocksdb_no_compression, rocksdb_no_compression,
                                       rocksdb_lz4_compression, rocksdb_lz4_compression,
                                       rocksdb_lz4_compression, rocksdb_lz4_compression,
                                       rocksdb_lz4_compression};
    const rill__rocksdb_config_t *c = &shared->config;
    rocksdb_options_t *opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(opts, 1);
    rocksdb_options_set_env(opts, shared->env);
    if (c->use_rocksdb_defaults)
        return opts;

    rocksdb_options_set_write_buffer_size(opts, c->write_buffer_bytes);
    rocksdb_options_set_max_write_buffer_number(opts, c->max_write_buffers);
    rocksdb_options_set_min_write_buffer_number_to_merge(opts, 1);
    rocksdb_options_set_max_background_flushes(opts, c->background_threads);
    rocksdb_options_set_max_background_compactions(opts, c->background_threads);
    /* an L0->L1 compaction (the big one after flushes) may use every thread */
    rocksdb_options_set_max_subcompactions(opts, (uint32_t)c->background_threads);
    rocksdb_options_set_level_compaction_dynamic_level_bytes(opts, 1);
    rocksdb_options_set_target_file_size_base(opts, 64u << 20);
    rocksdb_options_set_max_bytes_for_level_base(opts, 256u << 20);
    rocksdb_options_set_num_levels(opts, 7);
    rocksdb_options_set_compression_per_level(opts, compression, 7);
    rocksdb_options_set_bytes_per_sync(opts, 1u << 20);
    rocksdb_options_set_info_log_level(opts, 2 /* WARN */);
    rocksdb_options_set_keep_log_file_num(opts, 2);
    rocksdb_options_set_max_log_file_size(opts, 1u << 20);
    rocksdb_options_set_max_manifest_file_size(opts, 16u << 20);
    rocksdb_options_set_avoid_unnecessary_blocking_io(opts, 1);

    rocksdb_block_based_options_set_block_cache(table, shared->cache);
    rocksdb_block_based_options_set_block_size(table, c->block_size);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks(table, 1);
    rocksdb_block_based_options_set_cache_index_and_filter_blocks_with_high_priority(table, 1);
    rocksdb_block_based_options_set_pin_l0_filter_and_index_blocks_in_cache(table, 1);
    rocksdb_block_based_options_set_format_version(table, 5);
    /* partitioned index and filters: with index and filter blocks in the
     * shared cache, a monolithic filter of a 64 MiB file (~700 KiB) is
     * evicted by data blocks and read again by the next get (measured: 1.6
     * MB read per get with 10M keys and a 64 MiB cache); partitions of 4 KiB
     * are read only where a get needs them, and the top level stays pinned */
    rocksdb_block_based_options_set_index_type(
        table, rocksdb_block_based_table_index_type_two_level_index_search);
    rocksdb_block_based_options_set_partition_filters(table, 1);
    rocksdb_block_based_options_set_metadata_block_size(table, 4096);
    rocksdb_block_based_options_set_pin_top_level_index_and_filter(table, 1);
    if (c->bloom_bits_per_key > 0)
        rocksdb_block_based_options_set_filter_policy(
            table, rocksdb_filterpolicy_create_bloom_full(c->bloom_bits_per_key));
    return opts;
}

/* ---- reads and writes ------------------------------------------------------- */

static rill_err_t rdb_get(rill__kv_store_t *store, const void *key, size_t key_len,
                          GBytes **value, rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL)
        return dead(rs, error);
    char *errmsg = NULL;
    rocksdb_pinnableslice_t *slice = rocksdb_get_pinned(rs->db, rs->ro, key, key_len, &errmsg);
    if (errmsg)
        return rdb_fail(error, errmsg, "get", store);
    if (slice) {
        size_t len;
        const char *p = rocksdb_pinnableslice_value(slice, &len);
        *value = g_bytes_new(p, len);
        rocksdb_pinnableslice_destroy(slice);
    }
    return RILL_OK;
}

static rill_err_t rdb_put(rill__kv_store_t *store, const void *key, size_t key_len,
                          const void *value, size_t value_len, int64_t timestamp,
                          rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL)
        return dead(rs, error);
    char *errmsg = NULL;
    rocksdb_put(rs->db, rs->wo, key, key_len, value, value_len, &errmsg);
    return errmsg ? rdb_fail(error, errmsg, "put", store) : RILL_OK;
}

static rill_err_t rdb_del(rill__kv_store_t *store, const void *key, size_t key_len,
                          int64_t timestamp, GBytes **old, rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL)
        return dead(rs, error);
    if (old) {
        rill_err_t err = rdb_get(store, key, key_len, old, error);
        if (err)
            return err;
    }
    char *errmsg = NULL;
    rocksdb_delete(rs->db, rs->wo, key, key_len, &errmsg);
    if (errmsg) {
        if (old)
            g_clear_pointer(old, g_bytes_unref);
        return rdb_fail(error, errmsg, "delete", store);
    }
    return RILL_OK;
}

static int entry_ptr_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
    const rill__kv_entry_t *x = *(const rill__kv_entry_t *const *)a;
    const rill__kv_entry_t *y = *(const rill__kv_entry_t *const *)b;
    return rill__kv_key_compare(x->key, x->key_len, y->key, y->key_len);
}

static rill_err_t rdb_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries, size_t n,
                                rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL)
        return dead(rs, error);
    rocksdb_writebatch_clear(rs->batch);
    if (n > rs->order_cap) {
        rs->order_cap = n;
        rs->order = g_renew(const rill__kv_entry_t *, rs->order, n);
    }
    for (size_t i = 0; i < n; i++)
        rs->order[i] = &entries[i];
    if (!rs->restoring) /* the vector memtable sorts at flush anyway */
        g_qsort_with_data(rs->order, (gint)n, sizeof *rs->order, entry_ptr_cmp, NULL);
    for (size_t i = 0; i < n; i++) {
        const rill__kv_entry_t *e = rs->order[i];
        const char *key = e->key ? e->key : "";
        if (e->value)
            rocksdb_writebatch_put(rs->batch, key, e->key_len, e->value, e->value_len);
        else
            rocksdb_writebatch_delete(rs->batch, key, e->key_len);
    }
    char *errmsg = NULL;
    rocksdb_write(rs->db, rs->wo, rs->batch, &errmsg);
    rocksdb_writebatch_clear(rs->batch);
    return errmsg ? rdb_fail(error, errmsg, "write batch", store) : RILL_OK;
}

/* ---- iterator ------------------------------------------------------------ */

typedef struct rdbiter {
    rill__kv_iter_t base;
    rdbstore_t *rs;
    rocksdb_readoptions_t *ro; /* holds a pointer to `to` */
    rocksdb_iterator_t *it;
    bool started;
    void *from;
    size_t from_len;
    void *to; /* kept alive for ro's upper bound */
    char *errmsg;
} rdbiter_t;

static bool rdbiter_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                         const void **value, size_t *value_len)
{
    rdbiter_t *ri = (rdbiter_t *)iter;
    if (ri->errmsg)
        return false;
    if (!ri->started) {
        ri->started = true;
        if (ri->from)
            rocksdb_iter_seek(ri->it, ri->from, ri->from_len);
        else
            rocksdb_iter_seek_to_first(ri->it);
    } else if (rocksdb_iter_valid(ri->it)) {
        rocksdb_iter_next(ri->it);
    }
    if (!rocksdb_iter_valid(ri->it)) {
        rocksdb_iter_get_error(ri->it, &ri->errmsg);
        return false;
    }
    *key = rocksdb_iter_key(ri->it, key_len);
    *value = rocksdb_iter_value(ri->it, value_len);
    if (*value == NULL)
        *value = "";
    return true;
}

static rill_err_t rdbiter_status(rill__kv_iter_t *iter, rill_error_t **error)
{
    rdbiter_t *ri = (rdbiter_t *)iter;
    if (ri->errmsg == NULL)
        return RILL_OK;
    return rill_error_set(error, RILL_ERR_STORE, "rocksdb store %s: iterator: %s",
                          ri->rs->base.name, ri->errmsg);
}

static void rdbiter_destroy(rill__kv_iter_t *iter)
{
    rdbiter_t *ri = (rdbiter_t *)iter;
    rocksdb_iter_destroy(ri->it);
    rocksdb_readoptions_destroy(ri->ro);
    g_free(ri->from);
    g_free(ri->to);
    if (ri->errmsg)
        rocksdb_free(ri->errmsg);
    g_free(ri);
}

static const rill__kv_iter_ops_t rdbiter_ops = {
    .next = rdbiter_next, .status = rdbiter_status, .destroy = rdbiter_destroy};

static rill__kv_iter_t *rdb_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                  const void *to, size_t to_len, rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL) {
        dead(rs, error);
        return NULL;
    }
    rdbiter_t *ri = g_new0(rdbiter_t, 1);
    ri->base.ops = &rdbiter_ops;
    ri->rs = rs;
    ri->ro = rocksdb_readoptions_create();
    if (from) {
        ri->from = g_memdup2(from, from_len);
        ri->from_len = from_len;
    }
    if (to) {
        ri->to = g_malloc(to_len ? to_len : 1);
        memcpy(ri->to, to, to_len);
        rocksdb_readoptions_set_iterate_upper_bound(ri->ro, ri->to, to_len);
    }
    ri->it = rocksdb_create_iterator(rs->db, ri->ro);
    return &ri->base;
}

/* ---- lifecycle ------------------------------------------------------------- */

static uint64_t rdb_count(rill__kv_store_t *store)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    uint64_t n = 0;
    if (rs->db == NULL || rocksdb_property_int(rs->db, "rocksdb.estimate-num-keys", &n) != 0)
        return 0;
    return n;
}

static uint64_t rdb_bytes(rill__kv_store_t *store)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    uint64_t sst = 0, mem = 0;
    if (rs->db == NULL)
        return 0;
    if (rocksdb_property_int(rs->db, "rocksdb.total-sst-files-size", &sst) != 0)
        sst = 0;
    if (rocksdb_property_int(rs->db, "rocksdb.cur-size-all-mem-tables", &mem) != 0)
        mem = 0;
    return sst + mem;
}

static rill_err_t rdb_flush(rill__kv_store_t *store, rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL)
        return dead(rs, error);
    char *errmsg = NULL;
    rocksdb_flush(rs->db, rs->fo, &errmsg);
    return errmsg ? rdb_fail(error, errmsg, "flush", store) : RILL_OK;
}

static void rdb_free(rdbstore_t *rs)
{
    if (rs->db)
        rocksdb_close(rs->db);
    if (rs->wo)
        rocksdb_writeoptions_destroy(rs->wo);
    if (rs->ro)
        rocksdb_readoptions_destroy(rs->ro);
    if (rs->fo)
        rocksdb_flushoptions_destroy(rs->fo);
    if (rs->batch)
        rocksdb_writebatch_destroy(rs->batch);
    g_free(rs->order);
    g_free(rs->path);
    rill__kv_store_fini(&rs->base);
    g_free(rs);
}

static rill_err_t rdb_close(rill__kv_store_t *store, rill_error_t **error)
{
    rdb_free((rdbstore_t *)store);
    return RILL_OK;
}

rill_err_t rill__kv_rocksdb_compact(rill__kv_store_t *store, rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)rill__kv_store_innermost(store);
    if (rs->db == NULL)
        return dead(rs, error);
    rocksdb_compact_range(rs->db, NULL, 0, NULL, 0);
    return RILL_OK;
}

const char *rill__kv_rocksdb_path(const rill__kv_store_t *store)
{
    return ((const rdbstore_t *)store)->path;
}


/* Opens rs->db with the normal or the restore options. */
static rill_err_t open_db(rdbstore_t *rs, bool restore_mode, rill_error_t **error)
{
    rill__rocksdb_shared_t *shared = rs->shared;
    const char *name = rs->base.name;
    rocksdb_block_based_table_options_t *table = rocksdb_block_based_options_create();
    rocksdb_options_t *opts = tuned_options(shared, table);
    rill_err_t err = RILL_OK;
    if (shared->config.config_setter) {
        err = shared->config.config_setter(shared->config.config_setter_ud, name, opts, table,
                                           error);
        if (err)
            rill_error_prefix(error, "rocksdb store %s: config setter: ", name);
    }
    if (err == RILL_OK && !shared->config.use_rocksdb_defaults)
        rocksdb_options_set_block_based_table_factory(opts, table);
    if (restore_mode) {
        /* appends now, one sort per memtable at flush; no compaction while
         * restoring (restore_end compacts L0 in one pass if it grew) */
        rocksdb_options_set_memtable_vector_rep(opts);
        rocksdb_options_set_allow_concurrent_memtable_write(opts, 0);
        rocksdb_options_set_disable_auto_compactions(opts, 1);
        /* the writer needs a fraction of a core: sort and write memtables
         * on every thread at once */
        rocksdb_options_set_max_write_buffer_number(opts, 2 + shared->config.background_threads);
        /* appends cost nothing more in a bigger vector, and fewer L0 files
         * mean less compaction after the restore */
        if (!shared->config.use_rocksdb_defaults)
            rocksdb_options_set_write_buffer_size(opts, 2 * shared->config.write_buffer_bytes);
    }
    char *errmsg = NULL;
    if (err == RILL_OK)
        rs->db = rocksdb_open(opts, rs->path, &errmsg);
    rocksdb_options_destroy(opts);
    rocksdb_block_based_options_destroy(table);
    if (err == RILL_OK && errmsg) {
        err = rill_error_set(error, RILL_ERR_STORE, "rocksdb store %s: open %s: %s", name,
                             rs->path, errmsg);
        rocksdb_free(errmsg);
    }
    if (err == RILL_OK)
        rs->restoring = restore_mode;
    return err;
}

/* Flushes, closes and reopens the DB in the other mode. */
static rill_err_t reopen(rdbstore_t *rs, bool restore_mode, rill_error_t **error)
{
    if (rs->db == NULL)
        return dead(rs, error);
    if (rs->restoring == restore_mode)
        return RILL_OK;
    rill_err_t err = rdb_flush(&rs->base, error);
    if (err)
        return err;
    rocksdb_close(rs->db);
    rs->db = NULL;
    err = open_db(rs, restore_mode, error);
    if (err && open_db(rs, !restore_mode, NULL) == RILL_OK)
        RILL_LOG_WARN("stores.rocksdb", "store=%s stays in %s mode after a failed reopen",
                      rs->base.name, restore_mode ? "normal" : "restore");
    return err;
}

static rill_err_t rdb_restore_begin(rill__kv_store_t *store, rill_error_t **error)
{
    return reopen((rdbstore_t *)store, true, error);
}

uint64_t rill__kv_rocksdb_l0_files(rill__kv_store_t *store)
{
    rdbstore_t *rs = (rdbstore_t *)rill__kv_store_innermost(store);
    if (rs->db == NULL)
        return 0;
    char *prop = rocksdb_property_value(rs->db, "rocksdb.num-files-at-level0");
    uint64_t n = prop ? g_ascii_strtoull(prop, NULL, 10) : 0;
    rocksdb_free(prop);
    return n;
}

/* L0 files from which restore_end compacts before processing resumes: below
 * RocksDB's default slowdown trigger (20), so that the normal options never
 * start throttling writes right after a restore; fewer files are left to the
 * background compactions */
#define RESTORE_MAX_L0_FILES 16

static rill_err_t rdb_restore_end(rill__kv_store_t *store, rill_error_t **error)
{
    rdbstore_t *rs = (rdbstore_t *)store;
    if (rs->db == NULL || !rs->restoring)
        return reopen(rs, false, error);
    rill_err_t err = rdb_flush(store, error);
    if (err)
        return err;
    /* without compactions during the restore, L0 holds one file per
     * memtable; when there are many, merging them all at once here writes the
     * data once more (leveled compaction alongside would have rewritten it
     * several times) and keeps the normal options' L0 limits from stalling
     * the writes that follow */
    uint64_t l0 = rill__kv_rocksdb_l0_files(store);
    if (l0 >= RESTORE_MAX_L0_FILES) {
        int64_t t0 = g_get_monotonic_time();
        rocksdb_compact_range(rs->db, NULL, 0, NULL, 0);
        RILL_LOG_INFO("stores.rocksdb", "store=%s compacted %" G_GUINT64_FORMAT
                      " L0 files after a restore in %.1f s",
                      store->name, l0, (double)(g_get_monotonic_time() - t0) / 1e6);
    }
    return reopen(rs, false, error);
}

static const rill__kv_store_ops_t rdb_ops = {
    .kind = "rocksdb",
    .get = rdb_get,
    .put = rdb_put,
    .del = rdb_del,
    .put_batch = rdb_put_batch,
    .range = rdb_range,
    .approximate_count = rdb_count,
    .flush = rdb_flush,
    .restore_begin = rdb_restore_begin,
    .restore_end = rdb_restore_end,
    .close = rdb_close,
    .approximate_bytes = rdb_bytes,
};

rill__kv_store_t *rill__kv_rocksdb_open(rill__rocksdb_shared_t *shared, const char *path,
                                        const char *name, rill_error_t **error)
{
    if (shared == NULL || path == NULL || name == NULL || *name == '\0') {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rocksdb open: shared, path or name missing");
        return NULL;
    }
    if (g_mkdir_with_parents(path, 0755) != 0) {
        int e = errno;
        rill_error_set(error, RILL_ERR_IO, "rocksdb store %s: create directory %s: %s", name, path,
                       g_strerror(e));
        return NULL;
    }
    rdbstore_t *rs = g_new0(rdbstore_t, 1);
    rill__kv_store_init(&rs->base, &rdb_ops, name, NULL);
    rs->shared = shared;
    rs->path = g_strdup(path);
    if (open_db(rs, false, error) != RILL_OK) {
        rdb_free(rs);
        return NULL;
    }
    rs->wo = rocksdb_writeoptions_create();
    if (!shared->config.use_rocksdb_defaults)
        rocksdb_writeoptions_disable_WAL(rs->wo, 1);
    rs->ro = rocksdb_readoptions_create();
    rs->fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(rs->fo, 1);
    rs->batch = rocksdb_writebatch_create();
    RILL_LOG_DEBUG("stores.rocksdb", "opened store=%s path=%s", name, path);
    return &rs->base;
}
