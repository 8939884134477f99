/* kv.c: the store interface's entry points: argument checks, then dispatch through the vtable.
 *
 * Everything every store shares lives here so that implementations stay
 * small: put(NULL) becomes a delete, prefix and all become ranges, empty
 * ranges (from >= to) never reach an implementation, and optional ops get
 * their generic fallback (put_if_absent = get + put; put_batch = a loop). */
#include "config.h"

#include <string.h>

#include "stores/kv-private.h"

int rill__kv_key_compare(const void *a, size_t a_len, const void *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

ptrdiff_t rill__kv_prefix_end(const void *prefix, size_t prefix_len, void *out)
{
    const uint8_t *p = prefix;
    uint8_t *o = out;
    size_t n = prefix_len;
    while (n > 0 && p[n - 1] == 0xff)
        n--;
    if (n == 0)
        return -1;
    memcpy(o, p, n);
    o[n - 1]++;
    return (ptrdiff_t)n;
}

void rill__kv_store_init(rill__kv_store_t *store, const rill__kv_store_ops_t *ops,
                         const char *name, rill__kv_store_t *inner)
{
    store->ops = ops;
    store->name = g_strdup(name ? name : "");
    store->inner = inner;
}

void rill__kv_store_fini(rill__kv_store_t *store)
{
    g_clear_pointer(&store->name, g_free);
}

const char *rill__kv_store_name(const rill__kv_store_t *store)
{
    return store->name;
}

const char *rill__kv_store_kind(const rill__kv_store_t *store)
{
    return store->ops->kind;
}

rill__kv_store_t *rill__kv_store_wrapped(rill__kv_store_t *store)
{
    return store->inner;
}

rill__kv_store_t *rill__kv_store_innermost(rill__kv_store_t *store)
{
    while (store->inner)
        store = store->inner;
    return store;
}

static rill_err_t check_key(const rill__kv_store_t *store, const void *key, size_t key_len,
                            rill_error_t **error)
{
    if (store == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "store is NULL");
    if (key == NULL && key_len > 0)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "store %s: key is NULL with length %zu",
                              store->name, key_len);
    return RILL_OK;
}

rill_err_t rill__kv_get(rill__kv_store_t *store, const void *key, size_t key_len, GBytes **value,
                        rill_error_t **error)
{
    if (value == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "get: value is NULL");
    *value = NULL;
    rill_err_t err = check_key(store, key, key_len, error);
    if (err)
        return err;
    return store->ops->get(store, key ? key : "", key_len, value, error);
}

rill_err_t rill__kv_put(rill__kv_store_t *store, const void *key, size_t key_len, const void *value,
                        size_t value_len, int64_t timestamp, rill_error_t **error)
{
    rill_err_t err = check_key(store, key, key_len, error);
    if (err)
        return err;
    if (value == NULL)
        return store->ops->del(store, key ? key : "", key_len, timestamp, NULL, error);
    return store->ops->put(store, key ? key : "", key_len, value, value_len, timestamp, error);
}

rill_err_t rill__kv_put_if_absent(rill__kv_store_t *store, const void *key, size_t key_len,
                                  const void *value, size_t value_len, int64_t timestamp,
                                  GBytes **existing, rill_error_t **error)
{
    if (existing)
        *existing = NULL;
    rill_err_t err = check_key(store, key, key_len, error);
    if (err)
        return err;
    if (value == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "store %s: put_if_absent of a NULL value",
                              store->name);
    key = key ? key : "";
    if (store->ops->put_if_absent)
        return store->ops->put_if_absent(store, key, key_len, value, value_len, timestamp, existing,
                                         error);
    GBytes *cur = NULL;
    err = store->ops->get(store, key, key_len, &cur, error);
    if (err)
        return err;
    if (cur) {
        if (existing)
            *existing = cur;
        else
            g_bytes_unref(cur);
        return RILL_OK;
    }
    return store->ops->put(store, key, key_len, value, value_len, timestamp, error);
}

rill_err_t rill__kv_delete(rill__kv_store_t *store, const void *key, size_t key_len,
                           int64_t timestamp, GBytes **old, rill_error_t **error)
{
    if (old)
        *old = NULL;
    rill_err_t err = check_key(store, key, key_len, error);
    if (err)
        return err;
    return store->ops->del(store, key ? key : "", key_len, timestamp, old, error);
}

rill_err_t rill__kv_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries, size_t n,
                              rill_error_t **error)
{
    if (store == NULL || (entries == NULL && n > 0))
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "put_batch: store or entries is NULL");
    for (size_t i = 0; i < n; i++) {
        rill_err_t err = check_key(store, entries[i].key, entries[i].key_len, error);
        if (err)
            return err;
    }
    if (n == 0)
        return RILL_OK;
    if (store->ops->put_batch)
        return store->ops->put_batch(store, entries, n, error);
    for (size_t i = 0; i < n; i++) {
        const rill__kv_entry_t *e = &entries[i];
        const void *key = e->key ? e->key : "";
        rill_err_t err =
            e->value ? store->ops->put(store, key, e->key_len, e->value, e->value_len,
                                       e->timestamp, error)
                     : store->ops->del(store, key, e->key_len, e->timestamp, NULL, error);
        if (err)
            return err;
    }
    return RILL_OK;
}

rill__kv_iter_t *rill__kv_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                const void *to, size_t to_len, rill_error_t **error)
{
    if (store == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "range: store is NULL");
        return NULL;
    }
    if (from && to && rill__kv_key_compare(from, from_len, to, to_len) >= 0)
        return rill__kv_iter_empty_new();
    return store->ops->range(store, from, from_len, to, to_len, error);
}

rill__kv_iter_t *rill__kv_prefix(rill__kv_store_t *store, const void *prefix, size_t prefix_len,
                                 rill_error_t **error)
{
    if (store == NULL || (prefix == NULL && prefix_len > 0)) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "prefix: store or prefix is NULL");
        return NULL;
    }
    if (prefix_len == 0)
        return store->ops->range(store, NULL, 0, NULL, 0, error);
    uint8_t stack[256];
    uint8_t *end = prefix_len <= sizeof stack ? stack : g_malloc(prefix_len);
    ptrdiff_t end_len = rill__kv_prefix_end(prefix, prefix_len, end);
    rill__kv_iter_t *iter = store->ops->range(store, prefix, prefix_len, end_len < 0 ? NULL : end,
                                              end_len < 0 ? 0 : (size_t)end_len, error);
    if (end != stack)
        g_free(end);
    return iter;
}

rill__kv_iter_t *rill__kv_all(rill__kv_store_t *store, rill_error_t **error)
{
    return rill__kv_range(store, NULL, 0, NULL, 0, error);
}

uint64_t rill__kv_approximate_count(rill__kv_store_t *store)
{
    return store ? store->ops->approximate_count(store) : 0;
}

uint64_t rill__kv_approximate_bytes(rill__kv_store_t *store)
{
    if (store == NULL)
        return 0;
    rill__kv_store_t *inner = rill__kv_store_innermost(store);
    return inner->ops->approximate_bytes != NULL
               ? inner->ops->approximate_bytes(inner)
               : 0;
}

rill_err_t rill__kv_flush(rill__kv_store_t *store, rill_error_t **error)
{
    if (store == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "flush: store is NULL");
    return store->ops->flush(store, error);
}

rill_err_t rill__kv_restore_begin(rill__kv_store_t *store, rill_error_t **error)
{
    if (store == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "restore begin: store is NULL");
    store = rill__kv_store_innermost(store);
    return store->ops->restore_begin ? store->ops->restore_begin(store, error) : RILL_OK;
}

rill_err_t rill__kv_restore_end(rill__kv_store_t *store, rill_error_t **error)
{
    if (store == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "restore end: store is NULL");
    store = rill__kv_store_innermost(store);
    return store->ops->restore_end ? store->ops->restore_end(store, error) : RILL_OK;
}

rill_err_t rill__kv_close(rill__kv_store_t *store, rill_error_t **error)
{
    if (store == NULL)
        return RILL_OK;
    rill_err_t err = store->ops->flush(store, error);
    rill_err_t cerr = store->ops->close(store, error);
    return err ? err : cerr;
}

/* ---- iterators ----------------------------------------------------------- */

bool rill__kv_iter_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                        const void **value, size_t *value_len)
{
    return iter->ops->next(iter, key, key_len, value, value_len);
}

rill_err_t rill__kv_iter_status(rill__kv_iter_t *iter, rill_error_t **error)
{
    return iter->ops->status ? iter->ops->status(iter, error) : RILL_OK;
}

void rill__kv_iter_destroy(rill__kv_iter_t *iter)
{
    if (iter)
        iter->ops->destroy(iter);
}

static bool empty_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                       const void **value, size_t *value_len)
{
    return false;
}

static void empty_destroy(rill__kv_iter_t *iter)
{
    g_free(iter);
}

static const rill__kv_iter_ops_t empty_ops = {.next = empty_next, .destroy = empty_destroy};

rill__kv_iter_t *rill__kv_iter_empty_new(void)
{
    rill__kv_iter_t *iter = g_new0(rill__kv_iter_t, 1);
    iter->ops = &empty_ops;
    return iter;
}
