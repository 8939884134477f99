/* global.c: global tables in the runtime: specs, the builder's handles, and
 * the store set of an app instance or test driver (see global.h).
 *
 * Open of a store set:
 *
 *     flock <state.dir>/<app>/global/.lock ──► read .checkpoint
 *       ──► per table: RocksDB store (wiped when the checkpoint has no
 *           offset for its topic) or memory store
 *
 * after which the reader (the global thread, runtime/global-thread.c, or
 * the test driver) feeds records through rill__globals_apply and
 * checkpoints with rill__globals_checkpoint. Invariant: a checkpointed
 * offset is written only after the stores were flushed, so replaying from
 * it (upserts and deletes, idempotent) restores the exact table. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "common/log.h"
#include "runtime/global.h"
#include "runtime/topology-private.h"
#include "stores/checkpoint.h"
#include "stores/kv-memory.h"
#include "stores/kv-rocksdb.h"
#include "stores/kv.h"
#include "stores/state-dir.h"

/* ---- the store set ---------------------------------------------------------- */

typedef struct gstore {
    const rill__global_spec_t *spec; /* borrowed from the topology */
    rill__kv_store_t *store;
    GRWLock lock;
    bool persistent;
} gstore_t;

struct rill__globals {
    char *dir; /* <state.dir>/<app>/global, NULL: in memory */
    rill__state_dir_t *dir_lock;
    rill__rocksdb_shared_t *shared;
    GPtrArray *stores;   /* gstore_t * */
    char **topics;       /* NULL-terminated, owned */
    GHashTable *offsets; /* "topic\npartition" -> int64_t * (next offset) */
    GMutex offsets_lock; /* the reader writes offsets, checkpoint and destroy read them */
    uint64_t applied;
    bool null_key_logged;
};

static char *tp_key(const char *topic, int32_t partition)
{
    return g_strdup_printf("%s\n%" PRId32, topic, partition);
}

static void set_offset(rill__globals_t *globals, const char *topic, int32_t partition,
                       int64_t offset)
{
    g_mutex_lock(&globals->offsets_lock);
    char *key = tp_key(topic, partition);
    int64_t *slot = g_hash_table_lookup(globals->offsets, key);
    if (slot == NULL) {
        slot = g_new(int64_t, 1);
        g_hash_table_insert(globals->offsets, key, slot);
    } else {
        g_free(key);
    }
    *slot = offset;
    g_mutex_unlock(&globals->offsets_lock);
}

int64_t rill__globals_next_offset(const rill__globals_t *globals, const char *topic,
                                  int32_t partition)
{
    rill__globals_t *mut = (rill__globals_t *)globals;
    g_autofree char *key = tp_key(topic, partition);
    g_mutex_lock(&mut->offsets_lock);
    const int64_t *slot = g_hash_table_lookup(globals->offsets, key);
    int64_t offset = slot != NULL ? *slot : 0;
    g_mutex_unlock(&mut->offsets_lock);
    return offset;
}

typedef struct load_ctx {
    rill__globals_t *globals;
    GHashTable *checkpointed; /* topics with an entry */
} load_ctx_t;

static void load_offset(void *ud, const char *topic, int32_t partition, int64_t offset)
{
    load_ctx_t *ctx = ud;
    set_offset(ctx->globals, topic, partition, offset);
    g_hash_table_add(ctx->checkpointed, g_strdup(topic));
}

/* Deletes every key of store (a store with no checkpointed offset). */
static rill_err_t wipe(rill__kv_store_t *store, rill_error_t **error)
{
    rill__kv_iter_t *iter = rill__kv_all(store, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    GPtrArray *keys = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    const void *key, *value;
    size_t key_len, value_len;
    while (rill__kv_iter_next(iter, &key, &key_len, &value, &value_len))
        g_ptr_array_add(keys, g_bytes_new(key, key_len));
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    for (guint i = 0; err == RILL_OK && i < keys->len; i++) {
        gsize len;
        const void *k = g_bytes_get_data(g_ptr_array_index(keys, i), &len);
        err = rill__kv_delete(store, k, len, 0, NULL, error);
    }
    g_ptr_array_free(keys, TRUE);
    return err;
}

static void gstore_free(gstore_t *gstore)
{
    rill_error_t *error = NULL;
    if (gstore->store != NULL && rill__kv_close(gstore->store, &error) != RILL_OK) {
        RILL_LOG_WARN("runtime.global", "closing global store %s: %s", gstore->spec->store,
                      rill_error_message(error));
        rill_error_destroy(error);
    }
    g_rw_lock_clear(&gstore->lock);
    g_free(gstore);
}

rill__globals_t *rill__globals_new(const rill_topology_t *topology, const char *state_dir,
                                   const char *application_id, rill_error_t **error)
{
    int n = rill__topology_global_count(topology);
    if (n == 0)
        return NULL;
    rill__globals_t *globals = g_new0(rill__globals_t, 1);
    globals->stores = g_ptr_array_new_with_free_func((GDestroyNotify)gstore_free);
    globals->offsets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_mutex_init(&globals->offsets_lock);
    GPtrArray *topics = g_ptr_array_new();
    for (int i = 0; i < n; i++)
        g_ptr_array_add(topics, g_strdup(rill__topology_global(topology, i)->topic));
    g_ptr_array_add(topics, NULL);
    globals->topics = (char **)g_ptr_array_free(topics, FALSE);

    bool persistent_any = false;
    for (int i = 0; i < n; i++)
        persistent_any = persistent_any || !rill__topology_global(topology, i)->in_memory;
    load_ctx_t ctx = {globals, g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    if (state_dir != NULL && state_dir[0] != '\0' && persistent_any) {
        g_autofree char *app_dir = g_build_filename(state_dir, application_id, NULL);
        globals->dir_lock = rill__state_dir_open(app_dir, "global", error);
        if (globals->dir_lock == NULL)
            goto fail;
        globals->dir = g_build_filename(app_dir, "global", NULL);
        rill__checkpoint_t *checkpoint = NULL;
        if (rill__checkpoint_read(globals->dir, &checkpoint, NULL) != RILL_OK) {
            RILL_LOG_WARN("runtime.global",
                          "the checkpoint in %s is unreadable: reading the "
                          "global topics from their start",
                          globals->dir);
        } else {
            rill__checkpoint_foreach(checkpoint, load_offset, &ctx);
        }
        rill__checkpoint_destroy(checkpoint);
        rill__rocksdb_config_t config;
        rill__rocksdb_config_default(&config);
        globals->shared = rill__rocksdb_shared_new(&config, error);
        if (globals->shared == NULL)
            goto fail;
    }
    for (int i = 0; i < n; i++) {
        const rill__global_spec_t *spec = rill__topology_global(topology, i);
        gstore_t *gstore = g_new0(gstore_t, 1);
        gstore->spec = spec;
        g_rw_lock_init(&gstore->lock);
        g_ptr_array_add(globals->stores, gstore);
        gstore->persistent = globals->dir != NULL && !spec->in_memory;
        if (!gstore->persistent) {
            gstore->store = rill__kv_memory_new(spec->store);
            /* read from the start: forget the checkpoint's offsets */
            for (int32_t p = 0; g_hash_table_contains(ctx.checkpointed, spec->topic); p++) {
                g_autofree char *key = tp_key(spec->topic, p);
                if (!g_hash_table_remove(globals->offsets, key))
                    break;
            }
            continue;
        }
        g_autofree char *path = g_build_filename(globals->dir, "rocksdb", spec->store, NULL);
        gstore->store = rill__kv_rocksdb_open(globals->shared, path, spec->store, error);
        if (gstore->store == NULL)
            goto fail;
        if (!g_hash_table_contains(ctx.checkpointed, spec->topic) &&
            wipe(gstore->store, error) != RILL_OK)
            goto fail;
    }
    g_hash_table_destroy(ctx.checkpointed);
    return globals;
fail:
    rill_error_prefix(error, "global stores: ");
    g_hash_table_destroy(ctx.checkpointed);
    globals->dir = NULL; /* nothing to checkpoint */
    rill__globals_destroy(globals);
    return NULL;
}

void rill__globals_destroy(rill__globals_t *globals)
{
    if (globals == NULL)
        return;
    if (globals->dir != NULL) {
        rill_error_t *error = NULL;
        if (rill__globals_checkpoint(globals, &error) != RILL_OK) {
            RILL_LOG_WARN("runtime.global", "%s", rill_error_message(error));
            rill_error_destroy(error);
        }
    }
    g_ptr_array_free(globals->stores, TRUE);
    if (globals->shared != NULL)
        rill__rocksdb_shared_destroy(globals->shared);
    rill__state_dir_close(globals->dir_lock);
    g_hash_table_destroy(globals->offsets);
    g_mutex_clear(&globals->offsets_lock);
    g_strfreev(globals->topics);
    g_free(globals->dir);
    g_free(globals);
}

const char *const *rill__globals_topics(const rill__globals_t *globals)
{
    return (const char *const *)globals->topics;
}

rill_err_t rill__globals_apply(rill__globals_t *globals, const rill__raw_record_t *record,
                               rill_error_t **error)
{
    rill_err_t err = RILL_OK;
    if (record->key == NULL) {
        if (!globals->null_key_logged)
            RILL_LOG_WARN("runtime.global",
                          "%s/%" PRId32 "@%" PRId64 ": a record with a null "
                          "key cannot update a global table: skipped (logged once)",
                          record->topic, record->partition, record->offset);
        globals->null_key_logged = true;
    } else {
        for (guint i = 0; err == RILL_OK && i < globals->stores->len; i++) {
            gstore_t *gstore = g_ptr_array_index(globals->stores, i);
            if (strcmp(gstore->spec->topic, record->topic) != 0)
                continue;
            g_rw_lock_writer_lock(&gstore->lock);
            /* a null value is a tombstone (kv.h: value NULL deletes) */
            err = rill__kv_put(gstore->store, record->key, record->key_len, record->value,
                               record->value_len, record->timestamp, error);
            g_rw_lock_writer_unlock(&gstore->lock);
        }
    }
    if (err == RILL_OK) {
        set_offset(globals, record->topic, record->partition, record->offset + 1);
        __atomic_add_fetch(&globals->applied, 1, __ATOMIC_RELAXED);
    } else {
        rill_error_prefix(error, "global table of %s/%" PRId32 "@%" PRId64 ": ", record->topic,
                          record->partition, record->offset);
    }
    return err;
}

uint64_t rill__globals_applied(const rill__globals_t *globals)
{
    return __atomic_load_n(&globals->applied, __ATOMIC_RELAXED);
}

rill_err_t rill__globals_checkpoint(rill__globals_t *globals, rill_error_t **error)
{
    if (globals->dir == NULL)
        return RILL_OK;
    rill_err_t err = RILL_OK;
    for (guint i = 0; err == RILL_OK && i < globals->stores->len; i++) {
        gstore_t *gstore = g_ptr_array_index(globals->stores, i);
        g_rw_lock_writer_lock(&gstore->lock);
        err = rill__kv_flush(gstore->store, error);
        g_rw_lock_writer_unlock(&gstore->lock);
    }
    if (err != RILL_OK)
        return err;
    rill__checkpoint_t *checkpoint = rill__checkpoint_new();
    g_mutex_lock(&globals->offsets_lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, globals->offsets);
    while (err == RILL_OK && g_hash_table_iter_next(&it, &k, &v)) {
        const char *key = k;
        const char *nl = strrchr(key, '\n');
        g_autofree char *topic = g_strndup(key, (gsize)(nl - key));
        bool persistent = false;
        for (guint i = 0; i < globals->stores->len; i++) {
            gstore_t *gstore = g_ptr_array_index(globals->stores, i);
            if (gstore->persistent && strcmp(gstore->spec->topic, topic) == 0)
                persistent = true;
        }
        if (persistent)
            err =
                rill__checkpoint_set(checkpoint, topic, (int32_t)g_ascii_strtoll(nl + 1, NULL, 10),
                                     *(int64_t *)v, error);
    }
    g_mutex_unlock(&globals->offsets_lock);
    if (err == RILL_OK)
        err = rill__checkpoint_write(checkpoint, globals->dir, error);
    rill__checkpoint_destroy(checkpoint);
    return err;
}

const rill__globals_ops_t rill__globals_ops = {
    .open = rill__globals_new,
    .close = rill__globals_destroy,
    .topics = rill__globals_topics,
    .apply = rill__globals_apply,
};

static gstore_t *find(const rill__globals_t *globals, const char *store)
{
    for (guint i = 0; globals != NULL && i < globals->stores->len; i++) {
        gstore_t *gstore = g_ptr_array_index(globals->stores, i);
        if (strcmp(gstore->spec->store, store) == 0)
            return gstore;
    }
    return NULL;
}

bool rill__globals_has_store(const rill__globals_t *globals, const char *store)
{
    return find(globals, store) != NULL;
}

rill_err_t rill__globals_get(rill__globals_t *globals, const char *store, const void *key,
                             size_t key_len, GBytes **value, rill_error_t **error)
{
    *value = NULL;
    gstore_t *gstore = find(globals, store);
    if (gstore == NULL)
        return rill_error_set(error, RILL_ERR_NOT_FOUND, "no global store named '%s'", store);
    g_rw_lock_reader_lock(&gstore->lock);
    rill_err_t err = rill__kv_get(gstore->store, key, key_len, value, error);
    g_rw_lock_reader_unlock(&gstore->lock);
    return err;
}

rill_err_t rill__globals_range(rill__globals_t *globals, const char *store, const void *from,
                               size_t from_len, const void *to, size_t to_len,
                               bool (*fn)(const void *key, size_t key_len, const void *value,
                                          size_t value_len, void *ud),
                               void *ud, rill_error_t **error)
{
    gstore_t *gstore = find(globals, store);
    if (gstore == NULL)
        return rill_error_set(error, RILL_ERR_NOT_FOUND, "no global store named '%s'", store);
    g_rw_lock_reader_lock(&gstore->lock);
    rill__kv_iter_t *iter = rill__kv_range(gstore->store, from, from_len, to, to_len, error);
    rill_err_t err = iter != NULL ? RILL_OK : RILL_ERR_STORE;
    const void *k, *v;
    size_t kl, vl;
    while (err == RILL_OK && rill__kv_iter_next(iter, &k, &kl, &v, &vl))
        if (!fn(k, kl, v, vl, ud))
            break;
    if (iter != NULL) {
        err = rill__kv_iter_status(iter, error);
        rill__kv_iter_destroy(iter);
    }
    g_rw_lock_reader_unlock(&gstore->lock);
    return err;
}
