/* state.c: a task's state stores: creation, layering, restore, flush and checkpoint (see state.h).
 *
 * Restore of one store:
 *
 *     open inner store ──► checkpoint has its changelog? ──yes──► start = offset
 *                                   │ no (or in memory)
 *                                   ▼
 *                          wipe the local store, start = 0
 *     ──► restorer (batches into the inner store) ◄── env.changelog_read(start → end)
 *     ──► finish (flush, log rate) ──► next_offset = end ──► wrap: logging, caching
 *
 * The RocksDB resources (block cache, background threads) are shared by every
 * store of the process: one rill__rocksdb_shared_t, reference-counted. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "common/log.h"
#include "operators/state.h"
#include "runtime/topology-private.h"
#include "stores/changelog.h"
#include "stores/checkpoint.h"
#include "stores/kv-memory.h"
#include "stores/kv-rocksdb.h"
#include "stores/restore.h"
#include "stores/segments.h"
#include "stores/state-dir.h"

typedef struct state state_t;

typedef struct store_entry {
    state_t *state;
    char *name;
    char *topic; /* the changelog */
    bool persistent;
    int64_t next_offset; /* next changelog offset this task will write */
    rill__kv_store_t *store; /* the top layer */
} store_entry_t;

struct state {
    rill_task_t *task;
    const rill__task_env_t *env;
    int32_t partition;
    char *task_dir; /* NULL without state.dir */
    rill__record_cache_t *cache;
    rill__checkpoint_t *checkpoint;
    GPtrArray *stores; /* store_entry_t * */
    GArray *deferred;  /* deferred_t, freed after the stores close */
    bool shared_ref;
    bool dropping; /* closing dirty: changelog writes are dropped */
};

typedef struct deferred {
    void *ptr;
    void (*destroy)(void *ptr);
} deferred_t;

/* ---- the process's RocksDB resources ---------------------------------------- */

static GMutex shared_lock;
static rill__rocksdb_shared_t *shared;
static int shared_refs;

static rill__rocksdb_shared_t *shared_acquire(rill_error_t **error)
{
    g_mutex_lock(&shared_lock);
    if (shared == NULL) {
        rill__rocksdb_config_t config;
        rill__rocksdb_config_default(&config);
        shared = rill__rocksdb_shared_new(&config, error);
    }
    if (shared != NULL)
        shared_refs++;
    rill__rocksdb_shared_t *result = shared;
    g_mutex_unlock(&shared_lock);
    return result;
}

static void shared_release(void)
{
    g_mutex_lock(&shared_lock);
    if (--shared_refs == 0) {
        rill__rocksdb_shared_destroy(shared);
        shared = NULL;
    }
    g_mutex_unlock(&shared_lock);
}

/* ---- the state directory lock (state-dir.h), one per directory per process ---- */

typedef struct locked_dir {
    rill__state_dir_t *dir;
    int refs;
} locked_dir_t;

static GHashTable *locked_dirs; /* "<state.dir>\n<application.id>" -> locked_dir_t *, shared_lock */

static char *lock_key(const rill__task_env_t *env)
{
    return g_strdup_printf("%s\n%s", env->state_dir, env->application_id);
}

/* Takes (or shares) the flock on <state.dir>/<application.id>/.lock: a second
 * process using the same directory fails here with a clear error. */
static rill_err_t dir_acquire(const rill__task_env_t *env, rill_error_t **error)
{
    g_autofree char *key = lock_key(env);
    rill_err_t err = RILL_OK;
    g_mutex_lock(&shared_lock);
    if (locked_dirs == NULL)
        locked_dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    locked_dir_t *locked = g_hash_table_lookup(locked_dirs, key);
    if (locked == NULL) {
        rill__state_dir_t *dir = rill__state_dir_open(env->state_dir, env->application_id, error);
        if (dir == NULL) {
            err = RILL_ERR_INVALID_STATE;
        } else {
            locked = g_new0(locked_dir_t, 1);
            locked->dir = dir;
            g_hash_table_insert(locked_dirs, g_strdup(key), locked);
        }
    }
    if (locked != NULL)
        locked->refs++;
    g_mutex_unlock(&shared_lock);
    return err;
}

static void dir_release(const rill__task_env_t *env)
{
    g_autofree char *key = lock_key(env);
    g_mutex_lock(&shared_lock);
    locked_dir_t *locked = locked_dirs != NULL ? g_hash_table_lookup(locked_dirs, key) : NULL;
    if (locked != NULL && --locked->refs == 0) {
        rill__state_dir_close(locked->dir);
        g_hash_table_remove(locked_dirs, key);
    }
    g_mutex_unlock(&shared_lock);
}

/* ---- the store set of a task ---------------------------------------------- */

static rill_err_t state_flush(void *p, rill_error_t **error)
{
    state_t *state = p;
    bool any_persistent = false;
    for (guint i = 0; i < state->stores->len; i++) {
        store_entry_t *entry = g_ptr_array_index(state->stores, i);
        rill_err_t err = rill__kv_flush(entry->store, error);
        if (err != RILL_OK)
            return err;
        if (entry->persistent) {
            any_persistent = true;
            err = rill__checkpoint_set(state->checkpoint, entry->topic, state->partition,
                                       entry->next_offset, error);
            if (err != RILL_OK)
                return err;
        }
    }
    if (any_persistent && state->task_dir != NULL)
        return rill__checkpoint_write(state->checkpoint, state->task_dir, error);
    return RILL_OK;
}

/* The stores' sizes, for the app's metrics (rill__task_store_sizes). */
static void state_sizes(void *p, rill__store_size_fn fn, void *ud)
{
    state_t *state = p;
    for (guint i = 0; i < state->stores->len; i++) {
        store_entry_t *entry = g_ptr_array_index(state->stores, i);
        fn(ud, entry->name, rill__kv_approximate_count(entry->store),
           rill__kv_approximate_bytes(entry->store));
    }
}

static void state_free(void *p)
{
    state_t *state = p;
    if (rill__task_dirty(state->task)) {
        /* closed dirty: what the caches hold goes nowhere (the changelog
         * drops it), and persistent stores lose their checkpoint, so that
         * the next open wipes them and restores from the changelog */
        state->dropping = true;
        if (state->task_dir != NULL) {
            rill_error_t *error = NULL;
            if (rill__checkpoint_delete(state->task_dir, &error) != RILL_OK) {
                RILL_LOG_WARN("state", "task %s: %s", rill__task_id(state->task),
                              rill_error_message(error));
                rill_error_destroy(error);
            }
        }
    }
    for (guint i = state->stores->len; i-- > 0;) {
        store_entry_t *entry = g_ptr_array_index(state->stores, i);
        rill_error_t *error = NULL;
        if (rill__kv_close(entry->store, &error) != RILL_OK) {
            RILL_LOG_WARN("state", "task %s: closing store %s: %s", rill__task_id(state->task),
                          entry->name, rill_error_message(error));
            rill_error_destroy(error);
        }
        g_free(entry->name);
        g_free(entry->topic);
        g_free(entry);
    }
    g_ptr_array_free(state->stores, TRUE);
    for (guint i = 0; i < state->deferred->len; i++) {
        deferred_t *d = &g_array_index(state->deferred, deferred_t, i);
        d->destroy(d->ptr);
    }
    g_array_free(state->deferred, TRUE);
    rill__record_cache_destroy(state->cache);
    rill__checkpoint_destroy(state->checkpoint);
    if (state->task_dir != NULL)
        dir_release(state->env);
    g_free(state->task_dir);
    if (state->shared_ref)
        shared_release();
    g_free(state);
}

static state_t *state_of(rill__pnode_t *pnode, rill_error_t **error)
{
    rill_task_t *task = pnode->task;
    state_t *state = rill__task_state(task);
    if (state != NULL)
        return state;
    const rill__task_env_t *env = rill__task_env(task);
    state = g_new0(state_t, 1);
    state->task = task;
    state->env = env;
    state->partition = rill__pnode_partition(pnode);
    state->stores = g_ptr_array_new();
    state->deferred = g_array_new(FALSE, FALSE, sizeof(deferred_t));
    state->cache = rill__record_cache_new(env->cache_max_bytes);
    if (env->state_dir != NULL && env->state_dir[0] != '\0') {
        if (dir_acquire(env, error) != RILL_OK) {
            state_free(state);
            return NULL;
        }
        state->task_dir = g_build_filename(env->state_dir, env->application_id,
                                           rill__task_id(task), NULL);
        if (g_mkdir_with_parents(state->task_dir, 0755) != 0) {
            rill_error_set(error, RILL_ERR_IO, "cannot create the task directory %s: %s",
                           state->task_dir, g_strerror(errno));
            state_free(state);
            return NULL;
        }
        if (rill__checkpoint_read(state->task_dir, &state->checkpoint, NULL) != RILL_OK) {
            RILL_LOG_WARN("state", "task %s: the checkpoint in %s is unreadable: restoring from "
                          "the changelogs' start", rill__task_id(task), state->task_dir);
            state->checkpoint = NULL;
        }
    }
    if (state->checkpoint == NULL)
        state->checkpoint = rill__checkpoint_new();
    rill__task_set_state(task, state, state_flush, state_free);
    rill__task_set_state_sizes(task, state_sizes);
    return state;
}

/* ---- change-logging through the task's sink ------------------------------ */

static rill_err_t changelog_send(void *ud, const void *key, size_t key_len, const void *value,
                                 size_t value_len, int64_t timestamp, rill_error_t **error)
{
    store_entry_t *entry = ud;
    if (entry->state->dropping)
        return RILL_OK;
    const rill__sink_ops_t *sink = &entry->state->env->sink;
    rill_err_t err = sink->send(sink->ud, entry->topic, entry->state->partition, key, key_len,
                                value, value_len, timestamp, NULL, 0, error);
    if (err == RILL_OK)
        entry->next_offset++;
    return err;
}

/* ---- restore ------------------------------------------------------------------ */

static void on_start(void *ud, const char *store, const char *topic, int32_t partition,
                     int64_t start_offset, int64_t end_offset)
{
    (void)end_offset;
    RILL_LOG_INFO("state", "task %s: restoring store %s from %s/%" PRId32 " at offset %" PRId64,
                  rill__task_id(((state_t *)ud)->task), store, topic, partition, start_offset);
}

static void on_end(void *ud, const char *store, const char *topic, int32_t partition,
                   uint64_t total_records, double records_per_sec)
{
    (void)topic;
    (void)partition;
    RILL_LOG_INFO("state", "task %s: store %s restored: %" PRIu64 " records (%.0f records/s)",
                  rill__task_id(((state_t *)ud)->task), store, total_records, records_per_sec);
}

static rill_err_t restore_record(void *ud, const rill__raw_record_t *record, rill_error_t **error)
{
    return rill__restorer_add(ud, record->key, record->key_len, record->value, record->value_len,
                              record->offset, record->timestamp, error);
}

static rill_err_t restore(state_t *state, rill__kv_store_t *inner, store_entry_t *entry,
                          int64_t start, rill_error_t **error)
{
    entry->next_offset = start;
    if (state->env->changelog_read == NULL)
        return RILL_OK;
    rill__restore_listener_t listener = {.on_start = on_start, .on_end = on_end, .ud = state};
    rill__restorer_t *restorer = rill__restorer_new(inner, entry->topic, state->partition, start,
                                                    -1, 0, &listener, error);
    if (restorer == NULL)
        return RILL_ERR_STORE;
    int64_t end = start;
    rill_err_t err = state->env->changelog_read(state->env->changelog_ud, entry->topic,
                                                state->partition, start, restore_record, restorer,
                                                &end, error);
    if (err == RILL_OK)
        err = rill__restorer_finish(restorer, error);
    rill__restorer_destroy(restorer);
    if (err == RILL_OK)
        entry->next_offset = end > start ? end : start;
    return err;
}

/* Deletes every key of store. */
static rill_err_t clear_store(rill__kv_store_t *store, rill_error_t **error)
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

/* ---- opening a store ------------------------------------------------------------ */

static rill__kv_store_t *open_store(rill__pnode_t *pnode, const char *name, bool in_memory,
                                    const rill__segments_config_t *segmented,
                                    rill__kv_forward_fn forward, void *ud, rill_error_t **error);

rill__kv_store_t *rill__state_store(rill__pnode_t *pnode, const char *name, bool in_memory,
                                    rill__kv_forward_fn forward, void *ud, rill_error_t **error)
{
    return open_store(pnode, name, in_memory, NULL, forward, ud, error);
}

rill__kv_store_t *rill__state_segmented_store(rill__pnode_t *pnode, const char *name,
                                              bool in_memory,
                                              const rill__segments_config_t *segmented,
                                              rill__kv_forward_fn forward, void *ud,
                                              rill_error_t **error)
{
    return open_store(pnode, name, in_memory, segmented, forward, ud, error);
}

/* Opens the store name of pnode's task: a plain kv store, or a segmented one
 * (window and session stores) when segmented is given. */
static rill__kv_store_t *open_store(rill__pnode_t *pnode, const char *name, bool in_memory,
                                    const rill__segments_config_t *segmented,
                                    rill__kv_forward_fn forward, void *ud, rill_error_t **error)
{
    state_t *state = state_of(pnode, error);
    if (state == NULL)
        return NULL;
    for (guint i = 0; i < state->stores->len; i++) {
        store_entry_t *entry = g_ptr_array_index(state->stores, i);
        if (strcmp(entry->name, name) == 0)
            return entry->store;
    }
    store_entry_t *entry = g_new0(store_entry_t, 1);
    entry->state = state;
    entry->name = g_strdup(name);
    entry->topic = rill__changelog_topic(state->env->application_id, name);
    entry->persistent = !in_memory && state->task_dir != NULL;

    rill__kv_store_t *inner = NULL;
    int64_t start = 0;
    if (entry->persistent) {
        if (!state->shared_ref) {
            if (shared_acquire(error) == NULL)
                goto fail;
            state->shared_ref = true;
        }
        g_autofree char *path = g_build_filename(state->task_dir, "rocksdb", name, NULL);
        bool checkpointed =
            rill__checkpoint_get(state->checkpoint, entry->topic, state->partition, &start);
        if (segmented != NULL) {
            rill__segments_config_t config = *segmented;
            config.name = name;
            config.rocksdb = shared;
            config.path = path;
            inner = rill__segments_open(&config, error);
        } else {
            inner = rill__kv_rocksdb_open(shared, path, name, error);
        }
        /* no checkpoint for it: what is on disk may be ahead of or behind
         * the changelog, so empty it and restore from the start */
        if (inner != NULL && !checkpointed && clear_store(inner, error) != RILL_OK) {
            rill__kv_close(inner, NULL);
            inner = NULL;
        }
    } else if (segmented != NULL) {
        rill__segments_config_t config = *segmented;
        config.name = name;
        config.rocksdb = NULL;
        config.path = NULL;
        inner = rill__segments_open(&config, error);
    } else {
        inner = rill__kv_memory_new(name);
    }
    if (inner == NULL)
        goto fail;
    if (restore(state, inner, entry, start, error) != RILL_OK) {
        rill_error_prefix(error, "restoring store %s: ", name);
        rill__kv_close(inner, NULL);
        goto fail;
    }
    rill__changelog_sink_t sink = {.send = changelog_send, .ud = entry};
    rill__kv_store_t *logged = rill__kv_logging_new(inner, &sink);
    /* windowed stores forward no old values: nothing below a windowed table uses them,
     * and reading them would cost a store read per flushed window */
    entry->store = rill__kv_caching_new(logged, state->cache, forward, ud, segmented == NULL);
    g_ptr_array_add(state->stores, entry);
    rill__task_store_opened(pnode->task, name, entry->store); /* queryable state */
    return entry->store;
fail:
    g_free(entry->name);
    g_free(entry->topic);
    g_free(entry);
    return NULL;
}

void rill__state_defer_free(rill__pnode_t *pnode, void *ptr, void (*destroy)(void *ptr))
{
    state_t *state = rill__task_state(pnode->task);
    deferred_t d = {ptr, destroy};
    if (state == NULL)
        destroy(ptr);
    else
        g_array_append_val(state->deferred, d);
}
