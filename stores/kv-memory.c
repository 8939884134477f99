/* kv-memory.c: the in-memory key-value store, a GLib balanced tree ordered by unsigned bytes.
 *
 * Each key lives in one allocation with its tree entry; values are GBytes, so
 * a get hands out a reference, never a copy. Iterators keep a copy of the last
 * key they returned and the store's modification counter: while the store is
 * unchanged they step to the next tree node in O(1); after any write they
 * re-seek to the first key above the last one (O(log n)), so writes during an
 * iteration never invalidate it. Invariant: no entry has a NULL value (a
 * delete removes the node). */
#include "config.h"

#include <string.h>

#include "stores/kv-memory.h"
#include "stores/kv-private.h"

typedef struct mkey {
    const uint8_t *p;
    size_t len;
} mkey_t;

typedef struct mentry {
    mkey_t k; /* k.p points at kbuf */
    GBytes *value;
    uint8_t kbuf[];
} mentry_t;

typedef struct memstore {
    rill__kv_store_t base;
    GTree *tree; /* mkey_t* -> mentry_t* (owned) */
    uint64_t mods;
    size_t data_bytes;
} memstore_t;

static int mkey_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
    const mkey_t *x = a, *y = b;
    return rill__kv_key_compare(x->p, x->len, y->p, y->len);
}

static void mentry_free(gpointer p)
{
    mentry_t *e = p;
    g_bytes_unref(e->value);
    g_free(e);
}

static rill_err_t mem_get(rill__kv_store_t *store, const void *key, size_t key_len, GBytes **value,
                          rill_error_t **error)
{
    memstore_t *ms = (memstore_t *)store;
    mkey_t probe = {key, key_len};
    mentry_t *e = g_tree_lookup(ms->tree, &probe);
    *value = e ? g_bytes_ref(e->value) : NULL;
    return RILL_OK;
}

static void put_bytes(memstore_t *ms, const void *key, size_t key_len, GBytes *value)
{
    mkey_t probe = {key, key_len};
    mentry_t *e = g_tree_lookup(ms->tree, &probe);
    if (e) {
        ms->data_bytes -= g_bytes_get_size(e->value);
        g_bytes_unref(e->value);
    } else {
        e = g_malloc(sizeof *e + key_len);
        memcpy(e->kbuf, key, key_len);
        e->k.p = e->kbuf;
        e->k.len = key_len;
        g_tree_insert(ms->tree, &e->k, e);
        ms->data_bytes += key_len;
    }
    e->value = value;
    ms->data_bytes += g_bytes_get_size(value);
    ms->mods++;
}

static rill_err_t mem_put(rill__kv_store_t *store, const void *key, size_t key_len,
                          const void *value, size_t value_len, int64_t timestamp,
                          rill_error_t **error)
{
    put_bytes((memstore_t *)store, key, key_len, g_bytes_new(value, value_len));
    return RILL_OK;
}

static rill_err_t mem_del(rill__kv_store_t *store, const void *key, size_t key_len,
                          int64_t timestamp, GBytes **old, rill_error_t **error)
{
    memstore_t *ms = (memstore_t *)store;
    mkey_t probe = {key, key_len};
    mentry_t *e = g_tree_lookup(ms->tree, &probe);
    if (e == NULL)
        return RILL_OK;
    if (old)
        *old = g_bytes_ref(e->value);
    ms->data_bytes -= key_len + g_bytes_get_size(e->value);
    g_tree_remove(ms->tree, &probe);
    ms->mods++;
    return RILL_OK;
}

/* ---- iterator ------------------------------------------------------------ */

typedef struct miter {
    rill__kv_iter_t base;
    memstore_t *ms;
    GTreeNode *node;  /* the node last returned, valid while ms->mods == mods */
    uint64_t mods;
    bool started;
    GByteArray *from; /* NULL = unbounded */
    GByteArray *to;   /* NULL = unbounded */
    GByteArray *last; /* copy of the key last returned */
    GBytes *value;    /* reference to the value last returned */
} miter_t;

static bool miter_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                       const void **value, size_t *value_len)
{
    miter_t *it = (miter_t *)iter;
    GTree *tree = it->ms->tree;
    GTreeNode *node;
    if (!it->started) {
        it->started = true;
        if (it->from) {
            mkey_t probe = {it->from->data, it->from->len};
            node = g_tree_lower_bound(tree, &probe);
        } else {
            node = g_tree_node_first(tree);
        }
    } else if (it->node == NULL) {
        return false;
    } else if (it->mods == it->ms->mods) {
        node = g_tree_node_next(it->node);
    } else {
        mkey_t probe = {it->last->data, it->last->len};
        node = g_tree_upper_bound(tree, &probe);
    }
    g_clear_pointer(&it->value, g_bytes_unref);
    if (node) {
        const mkey_t *k = g_tree_node_key(node);
        if (it->to && rill__kv_key_compare(k->p, k->len, it->to->data, it->to->len) >= 0)
            node = NULL;
    }
    it->node = node;
    if (node == NULL)
        return false;
    it->mods = it->ms->mods;
    const mkey_t *k = g_tree_node_key(node);
    mentry_t *e = g_tree_node_value(node);
    g_byte_array_set_size(it->last, 0);
    g_byte_array_append(it->last, k->p, (guint)k->len);
    it->value = g_bytes_ref(e->value);
    *key = it->last->data;
    *key_len = it->last->len;
    gsize vlen;
    *value = g_bytes_get_data(it->value, &vlen);
    if (*value == NULL)
        *value = "";
    *value_len = vlen;
    return true;
}

static void miter_destroy(rill__kv_iter_t *iter)
{
    miter_t *it = (miter_t *)iter;
    if (it->from)
        g_byte_array_unref(it->from);
    if (it->to)
        g_byte_array_unref(it->to);
    g_byte_array_unref(it->last);
    g_clear_pointer(&it->value, g_bytes_unref);
    g_free(it);
}

static const rill__kv_iter_ops_t miter_ops = {.next = miter_next, .destroy = miter_destroy};

static GByteArray *bytes_copy(const void *p, size_t len)
{
    GByteArray *a = g_byte_array_sized_new((guint)len);
    g_byte_array_append(a, p, (guint)len);
    return a;
}

static rill__kv_iter_t *mem_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                  const void *to, size_t to_len, rill_error_t **error)
{
    miter_t *it = g_new0(miter_t, 1);
    it->base.ops = &miter_ops;
    it->ms = (memstore_t *)store;
    it->from = from ? bytes_copy(from, from_len) : NULL;
    it->to = to ? bytes_copy(to, to_len) : NULL;
    it->last = g_byte_array_new();
    return &it->base;
}

/* ---- the rest -------------------------------------------------------------- */

static uint64_t mem_count(rill__kv_store_t *store)
{
    return (uint64_t)g_tree_nnodes(((memstore_t *)store)->tree);
}

static rill_err_t mem_flush(rill__kv_store_t *store, rill_error_t **error)
{
    return RILL_OK;
}

static rill_err_t mem_close(rill__kv_store_t *store, rill_error_t **error)
{
    memstore_t *ms = (memstore_t *)store;
    g_tree_destroy(ms->tree);
    rill__kv_store_fini(store);
    g_free(ms);
    return RILL_OK;
}

static const rill__kv_store_ops_t mem_ops = {
    .kind = "memory",
    .get = mem_get,
    .put = mem_put,
    .del = mem_del,
    .range = mem_range,
    .approximate_count = mem_count,
    .flush = mem_flush,
    .close = mem_close,
};

rill__kv_store_t *rill__kv_memory_new(const char *name)
{
    memstore_t *ms = g_new0(memstore_t, 1);
    rill__kv_store_init(&ms->base, &mem_ops, name, NULL);
    ms->tree = g_tree_new_full(mkey_cmp, NULL, NULL, mentry_free);
    return &ms->base;
}

size_t rill__kv_memory_data_bytes(const rill__kv_store_t *store)
{
    return ((const memstore_t *)store)->data_bytes;
}
