/* changelog.c: the change-logging layer: apply the write to the wrapped store, then send it to the changelog.
 *
 * Order matters: the wrapped store is written first, so a write that fails in
 * the store is never logged. A failed send returns the error after the store
 * was written; the runtime then fails the task, which restores from the
 * changelog, so store and changelog agree again. put_if_absent logs only
 * when it wrote. Deletes are always logged (a tombstone for an absent key is
 * harmless in a compacted topic and saves a read). */
#include "config.h"

#include "stores/changelog.h"
#include "stores/kv-private.h"

typedef struct logstore {
    rill__kv_store_t base;
    rill__changelog_sink_t sink;
} logstore_t;

static rill_err_t log_send(logstore_t *ls, const void *key, size_t key_len, const void *value,
                           size_t value_len, int64_t timestamp, rill_error_t **error)
{
    rill_err_t err = ls->sink.send(ls->sink.ud, key, key_len, value, value_len, timestamp, error);
    if (err)
        rill_error_prefix(error, "store %s: changelog: ", ls->base.name);
    return err;
}

static rill_err_t log_get(rill__kv_store_t *store, const void *key, size_t key_len, GBytes **value,
                          rill_error_t **error)
{
    return rill__kv_get(store->inner, key, key_len, value, error);
}

static rill_err_t log_put(rill__kv_store_t *store, const void *key, size_t key_len,
                          const void *value, size_t value_len, int64_t timestamp,
                          rill_error_t **error)
{
    rill_err_t err = rill__kv_put(store->inner, key, key_len, value, value_len, timestamp, error);
    if (err)
        return err;
    return log_send((logstore_t *)store, key, key_len, value, value_len, timestamp, error);
}

static rill_err_t log_put_if_absent(rill__kv_store_t *store, const void *key, size_t key_len,
                                    const void *value, size_t value_len, int64_t timestamp,
                                    GBytes **existing, rill_error_t **error)
{
    GBytes *cur = NULL;
    rill_err_t err = rill__kv_put_if_absent(store->inner, key, key_len, value, value_len,
                                            timestamp, &cur, error);
    if (err)
        return err;
    if (cur) {
        if (existing)
            *existing = cur;
        else
            g_bytes_unref(cur);
        return RILL_OK;
    }
    return log_send((logstore_t *)store, key, key_len, value, value_len, timestamp, error);
}

static rill_err_t log_del(rill__kv_store_t *store, const void *key, size_t key_len,
                          int64_t timestamp, GBytes **old, rill_error_t **error)
{
    rill_err_t err = rill__kv_delete(store->inner, key, key_len, timestamp, old, error);
    if (err)
        return err;
    err = log_send((logstore_t *)store, key, key_len, NULL, 0, timestamp, error);
    if (err && old)
        g_clear_pointer(old, g_bytes_unref);
    return err;
}

static rill_err_t log_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries, size_t n,
                                rill_error_t **error)
{
    rill_err_t err = rill__kv_put_batch(store->inner, entries, n, error);
    for (size_t i = 0; err == RILL_OK && i < n; i++) {
        const rill__kv_entry_t *e = &entries[i];
        err = log_send((logstore_t *)store, e->key ? e->key : "", e->key_len, e->value,
                       e->value_len, e->timestamp, error);
    }
    return err;
}

static rill__kv_iter_t *log_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                  const void *to, size_t to_len, rill_error_t **error)
{
    return rill__kv_range(store->inner, from, from_len, to, to_len, error);
}

static uint64_t log_count(rill__kv_store_t *store)
{
    return rill__kv_approximate_count(store->inner);
}

static rill_err_t log_flush(rill__kv_store_t *store, rill_error_t **error)
{
    return rill__kv_flush(store->inner, error);
}

static rill_err_t log_close(rill__kv_store_t *store, rill_error_t **error)
{
    rill__kv_store_t *inner = store->inner;
    rill_err_t err = inner->ops->close(inner, error);
    rill__kv_store_fini(store);
    g_free(store);
    return err;
}

static const rill__kv_store_ops_t log_ops = {
    .kind = "logging",
    .get = log_get,
    .put = log_put,
    .put_if_absent = log_put_if_absent,
    .del = log_del,
    .put_batch = log_put_batch,
    .range = log_range,
    .approximate_count = log_count,
    .flush = log_flush,
    .close = log_close,
};

rill__kv_store_t *rill__kv_logging_new(rill__kv_store_t *inner, const rill__changelog_sink_t *sink)
{
    g_return_val_if_fail(inner != NULL && sink != NULL && sink->send != NULL, NULL);
    logstore_t *ls = g_new0(logstore_t, 1);
    rill__kv_store_init(&ls->base, &log_ops, inner->name, inner);
    ls->sink = *sink;
    return &ls->base;
}

char *rill__changelog_topic(const char *application_id, const char *store_name)
{
    return g_strdup_printf("%s-%s-changelog", application_id, store_name);
}
