/* store.c: the processor API's state stores (include/rill/store.h) over the task's stores.
 *
 * A rill_store_t is a small per-task handle (allocated when a processor first
 * asks for the store, freed with the task's stores) holding the store stack
 * that operators/state.c built; writes carry the task's stream time. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/store.h>

#include "common/log.h"
#include "operators/state.h"

struct rill_store {
    rill__kv_store_t *kv;
    rill__pnode_t *pnode;
    char *name;
};

rill__pnode_t *rill__context_pnode(rill_context_t *context); /* process.c */

static void handle_free(void *p)
{
    rill_store_t *store = p;
    g_free(store->name);
    g_free(store);
}

RILL_EXPORT rill_store_t *rill_context_get_store(rill_context_t *context, const char *name)
{
    if (context == NULL || name == NULL)
        return NULL;
    rill__pnode_t *pnode = rill__context_pnode(context);
    GPtrArray *names = pnode->node->stores;
    bool named = false;
    for (guint i = 0; i < names->len && !named; i++)
        named = strcmp(g_ptr_array_index(names, i), name) == 0;
    if (!named) {
        RILL_LOG_WARN("state", "processor %s asked for store '%s', which it did not name in "
                      "rill_stream_process()", pnode->node->name, name);
        return NULL;
    }
    rill_error_t *error = NULL;
    rill__kv_store_t *kv = rill__state_store(pnode, name, false, NULL, NULL, &error);
    if (kv == NULL) {
        RILL_LOG_ERROR("state", "task %s: opening store %s: %s", rill__pnode_task_id(pnode), name,
                       rill_error_message(error));
        rill_error_destroy(error);
        return NULL;
    }
    /* one handle per (pnode, store): kept in the task's deferred list */
    rill_store_t *store = g_new0(rill_store_t, 1);
    store->kv = kv;
    store->pnode = pnode;
    store->name = g_strdup(name);
    rill__state_defer_free(pnode, store, handle_free);
    return store;
}

RILL_EXPORT rill_err_t rill_store_get(rill_store_t *store, const void *key, size_t key_len,
                                      void **value, size_t *value_len, rill_error_t **error)
{
    if (store == NULL || key == NULL || value == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_store_get: NULL argument");
    GBytes *bytes = NULL;
    rill_err_t err = rill__kv_get(store->kv, key, key_len, &bytes, error);
    *value = NULL;
    if (value_len != NULL)
        *value_len = 0;
    if (err == RILL_OK && bytes != NULL) {
        gsize len;
        const void *data = g_bytes_get_data(bytes, &len);
        *value = g_malloc(len + 1);
        if (len > 0)
            memcpy(*value, data, len);
        ((char *)*value)[len] = '\0';
        if (value_len != NULL)
            *value_len = len;
        g_bytes_unref(bytes);
    }
    return err;
}

RILL_EXPORT rill_err_t rill_store_put(rill_store_t *store, const void *key, size_t key_len,
                                      const void *value, size_t value_len, rill_error_t **error)
{
    if (store == NULL || key == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_store_put: NULL argument");
    int64_t ts = rill__pnode_stream_time(store->pnode);
    return rill__kv_put(store->kv, key, key_len, value, value_len, ts < 0 ? 0 : ts, error);
}

RILL_EXPORT rill_err_t rill_store_delete(rill_store_t *store, const void *key, size_t key_len,
                                         rill_error_t **error)
{
    return rill_store_put(store, key, key_len, NULL, 0, error);
}

RILL_EXPORT rill_err_t rill_store_range(rill_store_t *store, const void *from, size_t from_len,
                                        const void *to, size_t to_len, rill_store_each_fn fn,
                                        void *user_data, rill_error_t **error)
{
    if (store == NULL || fn == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_store_range: NULL argument");
    rill__kv_iter_t *iter = rill__kv_range(store->kv, from, from_len, to, to_len, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    const void *key, *value;
    size_t key_len, value_len;
    while (rill__kv_iter_next(iter, &key, &key_len, &value, &value_len))
        if (!fn(key, key_len, value, value_len, user_data))
            break;
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    return err;
}
