/* cache.c: the record cache (a thread's byte budget) and the caching layer over a store.
 *
 * Structures. A caching store finds its entries by key in an intrusive hash
 * table (chained, power-of-two buckets, the key's 64-bit hash kept in the
 * entry): every get, put and delete is one hash probe. Range scans need the
 * entries in store order (to merge them with the wrapped store): a GTree
 * ordered like every store holds them, built on a range scan and kept while
 * range scans keep coming: once more inserts and removals than
 * 2 x (entries at the last scan) + 1024 have passed since that scan, it is dropped (so a
 * store scanned once at start — the stream-time lookup of a window store —
 * and then read by point stops paying for it; a rebuild costs about what
 * those inserts would have cost). Stores never scanned — a count-by-key
 * table — never build it. Its dirty
 * entries are on an intrusive list in the order they were last written. The
 * thread's rill__record_cache_t keeps every entry of every store on one
 * intrusive LRU list (head = least recently used) and the byte total.
 *
 * An entry's life:
 *
 *        put / delete                 flush (commit or eviction)
 *   ──────────────────► DIRTY ──────────────────────────────────► CLEAN
 *                         ▲        value written down              │
 *                         └──────────── put / delete ──────────────┘
 *   get miss with a value ─► CLEAN ── LRU eviction (over budget) ──► freed
 *   DIRTY tombstone ── flush (written down) ──► freed
 *
 * A DIRTY entry is never freed: eviction flushes its store first, then
 * re-reads the LRU head (the flush's forwards may have changed the cache).
 *
 * Invariants: cache->bytes = sum of entry sizes; an entry is on the dirty
 * list iff dirty; a CLEAN entry's value equals the wrapped store's (NULL
 * value = known absent); every entry is in the hash table, and in the tree iff
 * the tree exists (cs->tree != NULL). */
#include "config.h"

#include <string.h>

#include "stores/cache.h"
#include "stores/kv-private.h"

/* per-entry overhead beyond key and value: the entry, its tree node and bucket slot */
#define ENTRY_OVERHEAD 112

typedef struct cstore cstore_t;

typedef struct centry {
    struct centry *lru_prev, *lru_next;
    struct centry *dirty_prev, *dirty_next;
    struct centry *hash_next; /* bucket chain */
    uint64_t hash;
    cstore_t *owner;
    GBytes *value; /* NULL = tombstone (dirty) or known absent (clean) */
    int64_t timestamp;
    size_t size;
    bool dirty;
    size_t key_len;
    uint8_t key[];
} centry_t;

struct rill__record_cache {
    size_t max_bytes;
    size_t bytes;
    uint64_t entries;
    centry_t *lru_head, *lru_tail;
    unsigned n_stores;
    rill__record_cache_stats_t stats;
};

struct cstore {
    rill__kv_store_t base;
    rill__record_cache_t *cache;
    centry_t **buckets; /* n_buckets (a power of two) chains */
    size_t n_buckets;
    size_t n_entries;
    GTree *tree; /* centry_t* (as key) -> centry_t*, not owning; NULL when not in use */
    size_t tree_changes; /* inserts + removals since the last range scan */
    size_t tree_base;    /* entries at the last range scan */
    centry_t *dirty_head, *dirty_tail;
    size_t n_dirty;
    rill__kv_forward_fn forward;
    void *forward_ud;
    bool send_old_values;
};

static int entry_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
    const centry_t *x = a, *y = b;
    return rill__kv_key_compare(x->key, x->key_len, y->key, y->key_len);
}

/* GTree needs a key of the tree's type to search: entries are compared by
 * their key bytes, so a probe is a temporary entry header. Keys up to 256
 * bytes use the stack. */
typedef struct probe {
    centry_t *e;
    union {
        centry_t hdr;
        uint8_t raw[sizeof(centry_t) + 256];
    } stack;
} probe_t;

static centry_t *probe_init(probe_t *pr, const void *key, size_t key_len)
{
    pr->e = key_len <= 256 ? &pr->stack.hdr : g_malloc(sizeof(centry_t) + key_len);
    pr->e->key_len = key_len;
    if (key_len)
        memcpy(pr->e->key, key, key_len);
    return pr->e;
}

static void probe_fini(probe_t *pr)
{
    if (pr->e != &pr->stack.hdr)
        g_free(pr->e);
}

/* ---- hash index -------------------------------------------------------------- */

/* A 64-bit hash of the key bytes, a word at a time (keys are short: a record
 * key plus, for window stores, 8-16 bytes of timestamps). */
static uint64_t key_hash(const void *key, size_t key_len)
{
    const uint8_t *p = key;
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (key_len * 0xff51afd7ed558ccdULL);
    while (key_len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
        h ^= h >> 31;
        p += 8;
        key_len -= 8;
    }
    if (key_len) {
        uint64_t w = 0;
        memcpy(&w, p, key_len);
        h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static centry_t *lookup_hashed(cstore_t *cs, const void *key, size_t key_len, uint64_t hash)
{
    for (centry_t *e = cs->buckets[hash & (cs->n_buckets - 1)]; e; e = e->hash_next)
        if (e->hash == hash && e->key_len == key_len &&
            (key_len == 0 || memcmp(e->key, key, key_len) == 0))
            return e;
    return NULL;
}

static centry_t *lookup(cstore_t *cs, const void *key, size_t key_len)
{
    return lookup_hashed(cs, key, key_len, key_hash(key, key_len));
}

/* Doubles the bucket array when the table is fuller than one entry a bucket. */
static void hash_grow(cstore_t *cs)
{
    size_t n = cs->n_buckets * 2;
    centry_t **b = g_new0(centry_t *, n);
    for (size_t i = 0; i < cs->n_buckets; i++) {
        centry_t *e = cs->buckets[i];
        while (e) {
            centry_t *next = e->hash_next;
            e->hash_next = b[e->hash & (n - 1)];
            b[e->hash & (n - 1)] = e;
            e = next;
        }
    }
    g_free(cs->buckets);
    cs->buckets = b;
    cs->n_buckets = n;
}

static void hash_insert(cstore_t *cs, centry_t *e)
{
    if (cs->n_entries >= cs->n_buckets)
        hash_grow(cs);
    centry_t **slot = &cs->buckets[e->hash & (cs->n_buckets - 1)];
    e->hash_next = *slot;
    *slot = e;
    cs->n_entries++;
}

static void hash_remove(cstore_t *cs, centry_t *e)
{
    centry_t **pp = &cs->buckets[e->hash & (cs->n_buckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hash_next;
    *pp = e->hash_next;
    e->hash_next = NULL;
    cs->n_entries--;
}

/* Counts an insert or removal in the ordered index; drops the index when
 * range scans have stopped (see the top of the file). */
static void tree_changed(cstore_t *cs)
{
    if (++cs->tree_changes > 2 * cs->tree_base + 1024) {
        g_tree_destroy(cs->tree);
        cs->tree = NULL;
    }
}

/* The ordered index, built from the hash table if not in use. */
static GTree *ordered(cstore_t *cs)
{
    cs->tree_changes = 0;
    cs->tree_base = cs->n_entries;
    if (cs->tree == NULL) {
        cs->tree = g_tree_new_full(entry_cmp, NULL, NULL, NULL);
        for (size_t i = 0; i < cs->n_buckets; i++)
            for (centry_t *e = cs->buckets[i]; e; e = e->hash_next)
                g_tree_insert(cs->tree, e, e);
    }
    return cs->tree;
}

/* ---- lists ----------------------------------------------------------------- */

static void lru_unlink(rill__record_cache_t *c, centry_t *e)
{
    if (e->lru_prev)
        e->lru_prev->lru_next = e->lru_next;
    else
        c->lru_head = e->lru_next;
    if (e->lru_next)
        e->lru_next->lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = NULL;
}

static void lru_append(rill__record_cache_t *c, centry_t *e)
{
    e->lru_prev = c->lru_tail;
    e->lru_next = NULL;
    if (c->lru_tail)
        c->lru_tail->lru_next = e;
    else
        c->lru_head = e;
    c->lru_tail = e;
}

static void dirty_unlink(cstore_t *cs, centry_t *e)
{
    if (e->dirty_prev)
        e->dirty_prev->dirty_next = e->dirty_next;
    else
        cs->dirty_head = e->dirty_next;
    if (e->dirty_next)
        e->dirty_next->dirty_prev = e->dirty_prev;
    else
        cs->dirty_tail = e->dirty_prev;
    e->dirty_prev = e->dirty_next = NULL;
    e->dirty = false;
    cs->n_dirty--;
}

static void dirty_append(cstore_t *cs, centry_t *e)
{
    e->dirty_prev = cs->dirty_tail;
    e->dirty_next = NULL;
    if (cs->dirty_tail)
        cs->dirty_tail->dirty_next = e;
    else
        cs->dirty_head = e;
    cs->dirty_tail = e;
    e->dirty = true;
    cs->n_dirty++;
}

static size_t entry_size(size_t key_len, GBytes *value)
{
    return ENTRY_OVERHEAD + key_len + (value ? g_bytes_get_size(value) : 0);
}

/* Removes a clean entry from everything and frees it. */
static void entry_free(cstore_t *cs, centry_t *e)
{
    g_assert(!e->dirty);
    rill__record_cache_t *c = cs->cache;
    hash_remove(cs, e);
    if (cs->tree) {
        g_tree_remove(cs->tree, e);
        tree_changed(cs);
    }
    lru_unlink(c, e);
    c->bytes -= e->size;
    c->entries--;
    if (e->value)
        g_bytes_unref(e->value);
    g_free(e);
}

/* Sets key's entry to value (transfer full), creating it; dirty or clean. */
static void entry_set(cstore_t *cs, const void *key, size_t key_len, GBytes *value,
                      int64_t timestamp, bool dirty)
{
    rill__record_cache_t *c = cs->cache;
    uint64_t hash = key_hash(key, key_len);
    centry_t *e = lookup_hashed(cs, key, key_len, hash);
    if (e == NULL) {
        e = g_malloc0(sizeof *e + key_len);
        e->owner = cs;
        e->hash = hash;
        e->key_len = key_len;
        if (key_len)
            memcpy(e->key, key, key_len);
        hash_insert(cs, e);
        if (cs->tree) {
            g_tree_insert(cs->tree, e, e);
            tree_changed(cs);
        }
        c->entries++;
    } else {
        lru_unlink(c, e);
        c->bytes -= e->size;
        if (e->value)
            g_bytes_unref(e->value);
        if (e->dirty)
            dirty_unlink(cs, e);
    }
    e->value = value;
    e->timestamp = timestamp;
    e->size = entry_size(key_len, value);
    c->bytes += e->size;
    lru_append(c, e);
    if (dirty)
        dirty_append(cs, e);
}

/* ---- flush ------------------------------------------------------------------ */

typedef struct flushed {
    size_t key_off; /* in the snapshot's key arena */
    size_t key_len;
    GBytes *value;  /* owned ref; NULL = delete */
    GBytes *old;    /* owned ref */
    int64_t timestamp;
    bool skip;      /* a delete of a key absent below */
} flushed_t;

/* Writes the store's dirty entries down and forwards them (see cache.h). */
static rill_err_t flush_dirty(cstore_t *cs, rill_error_t **error)
{
    size_t n = cs->n_dirty;
    if (n == 0)
        return RILL_OK;
    flushed_t *snap = g_new0(flushed_t, n);
    GByteArray *keys = g_byte_array_new();
    size_t i = 0;
    while (cs->dirty_head) {
        centry_t *e = cs->dirty_head;
        snap[i].key_off = keys->len;
        snap[i].key_len = e->key_len;
        g_byte_array_append(keys, e->key, (guint)e->key_len);
        snap[i].value = e->value ? g_bytes_ref(e->value) : NULL;
        snap[i].timestamp = e->timestamp;
        dirty_unlink(cs, e);
        i++;
    }
    g_assert(i == n);

    rill_err_t err = RILL_OK;
    rill__kv_store_t *inner = cs->base.inner;
    bool need_old = cs->forward != NULL;
    for (i = 0; need_old && err == RILL_OK && i < n; i++) {
        if (cs->send_old_values || snap[i].value == NULL)
            err = rill__kv_get(inner, keys->data + snap[i].key_off, snap[i].key_len, &snap[i].old,
                               error);
        snap[i].skip = snap[i].value == NULL && snap[i].old == NULL;
        if (!cs->send_old_values)
            g_clear_pointer(&snap[i].old, g_bytes_unref);
    }
    if (err == RILL_OK) {
        rill__kv_entry_t *batch = g_new(rill__kv_entry_t, n);
        size_t m = 0;
        for (i = 0; i < n; i++) {
            if (snap[i].skip)
                continue;
            gsize vlen = 0;
            const void *v = snap[i].value ? g_bytes_get_data(snap[i].value, &vlen) : NULL;
            batch[m++] = (rill__kv_entry_t){keys->data + snap[i].key_off, snap[i].key_len,
                                            snap[i].value ? (v ? v : "") : NULL, vlen,
                                            snap[i].timestamp};
        }
        err = rill__kv_put_batch(inner, batch, m, error);
        g_free(batch);
        /* a deletion written down leaves nothing worth keeping: a get misses
         * (absent below) and a range scan need not step over it */
        for (i = 0; err == RILL_OK && i < n; i++) {
            if (snap[i].value != NULL)
                continue;
            centry_t *e = lookup(cs, keys->data + snap[i].key_off, snap[i].key_len);
            if (e != NULL && !e->dirty && e->value == NULL)
                entry_free(cs, e);
        }
        cs->cache->stats.flushes++;
        cs->cache->stats.flushed += m;
    }
    for (i = 0; err == RILL_OK && cs->forward && i < n; i++) {
        if (snap[i].skip)
            continue;
        err = cs->forward(cs->forward_ud, keys->data + snap[i].key_off, snap[i].key_len,
                          snap[i].value, snap[i].old, snap[i].timestamp, error);
    }
    for (i = 0; i < n; i++) {
        if (snap[i].value)
            g_bytes_unref(snap[i].value);
        if (snap[i].old)
            g_bytes_unref(snap[i].old);
    }
    g_free(snap);
    g_byte_array_unref(keys);
    if (err)
        rill_error_prefix(error, "store %s: cache flush: ", cs->base.name);
    return err;
}

/* Evicts least recently used entries until the cache is within budget. */
static rill_err_t maybe_evict(rill__record_cache_t *c, rill_error_t **error)
{
    while (c->bytes > c->max_bytes && c->lru_head) {
        centry_t *e = c->lru_head;
        if (e->dirty) {
            rill_err_t err = flush_dirty(e->owner, error);
            if (err)
                return err;
            continue; /* the flush may have changed the list: look again */
        }
        entry_free(e->owner, e);
        c->stats.evictions++;
    }
    return RILL_OK;
}

/* ---- store ops ---------------------------------------------------------------- */

static rill_err_t cache_get(rill__kv_store_t *store, const void *key, size_t key_len,
                            GBytes **value, rill_error_t **error)
{
    cstore_t *cs = (cstore_t *)store;
    rill__record_cache_t *c = cs->cache;
    centry_t *e = lookup(cs, key, key_len);
    if (e) {
        c->stats.hits++;
        lru_unlink(c, e);
        lru_append(c, e);
        *value = e->value ? g_bytes_ref(e->value) : NULL;
        return RILL_OK;
    }
    c->stats.misses++;
    rill_err_t err = rill__kv_get(store->inner, key, key_len, value, error);
    if (err || *value == NULL)
        return err;
    entry_set(cs, key, key_len, g_bytes_ref(*value), 0, false);
    err = maybe_evict(c, error);
    if (err)
        g_clear_pointer(value, g_bytes_unref);
    return err;
}

static rill_err_t cache_write(cstore_t *cs, const void *key, size_t key_len, GBytes *value,
                              int64_t timestamp, rill_error_t **error)
{
    entry_set(cs, key, key_len, value, timestamp, true);
    return maybe_evict(cs->cache, error);
}

static rill_err_t cache_put(rill__kv_store_t *store, const void *key, size_t key_len,
                            const void *value, size_t value_len, int64_t timestamp,
                            rill_error_t **error)
{
    return cache_write((cstore_t *)store, key, key_len, g_bytes_new(value, value_len), timestamp,
                       error);
}

static rill_err_t cache_del(rill__kv_store_t *store, const void *key, size_t key_len,
                            int64_t timestamp, GBytes **old, rill_error_t **error)
{
    if (old) {
        rill_err_t err = cache_get(store, key, key_len, old, error);
        if (err)
            return err;
    }
    rill_err_t err = cache_write((cstore_t *)store, key, key_len, NULL, timestamp, error);
    if (err && old)
        g_clear_pointer(old, g_bytes_unref);
    return err;
}

static rill_err_t cache_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries,
                                  size_t n, rill_error_t **error)
{
    cstore_t *cs = (cstore_t *)store;
    for (size_t i = 0; i < n; i++) {
        const rill__kv_entry_t *e = &entries[i];
        GBytes *v = e->value ? g_bytes_new(e->value, e->value_len) : NULL;
        rill_err_t err = cache_write(cs, e->key ? e->key : "", e->key_len, v, e->timestamp, error);
        if (err)
            return err;
    }
    return RILL_OK;
}

/* ---- merged iterator: a snapshot of the cache's range over the wrapped store's ---- */

typedef struct snapent {
    size_t key_off;
    size_t key_len;
    GBytes *value; /* NULL: deleted in the cache, hides the wrapped key */
} snapent_t;

typedef struct citer {
    rill__kv_iter_t base;
    GByteArray *keys;
    snapent_t *snap;
    size_t n, idx;
    rill__kv_iter_t *inner;
    bool inner_fetched, inner_has;
    const void *ik, *iv;
    size_t ik_len, iv_len;
} citer_t;

static bool citer_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                       const void **value, size_t *value_len)
{
    citer_t *it = (citer_t *)iter;
    for (;;) {
        if (!it->inner_fetched) {
            it->inner_has =
                rill__kv_iter_next(it->inner, &it->ik, &it->ik_len, &it->iv, &it->iv_len);
            it->inner_fetched = true;
        }
        snapent_t *s = it->idx < it->n ? &it->snap[it->idx] : NULL;
        if (s == NULL && !it->inner_has)
            return false;
        int cmp = -1;
        if (s && it->inner_has)
            cmp = rill__kv_key_compare(it->keys->data + s->key_off, s->key_len, it->ik,
                                       it->ik_len);
        if (s && cmp <= 0) {
            if (cmp == 0)
                it->inner_fetched = false; /* the cache's entry replaces the wrapped one */
            it->idx++;
            if (s->value == NULL)
                continue;
            gsize vlen;
            *key = it->keys->data + s->key_off;
            *key_len = s->key_len;
            *value = g_bytes_get_data(s->value, &vlen);
            if (*value == NULL)
                *value = "";
            *value_len = vlen;
            return true;
        }
        it->inner_fetched = false; /* its pointers stay valid until the next fetch */
        *key = it->ik;
        *key_len = it->ik_len;
        *value = it->iv;
        *value_len = it->iv_len;
        return true;
    }
}

static rill_err_t citer_status(rill__kv_iter_t *iter, rill_error_t **error)
{
    return rill__kv_iter_status(((citer_t *)iter)->inner, error);
}

static void citer_destroy(rill__kv_iter_t *iter)
{
    citer_t *it = (citer_t *)iter;
    for (size_t i = 0; i < it->n; i++)
        if (it->snap[i].value)
            g_bytes_unref(it->snap[i].value);
    g_free(it->snap);
    g_byte_array_unref(it->keys);
    rill__kv_iter_destroy(it->inner);
    g_free(it);
}

static const rill__kv_iter_ops_t citer_ops = {
    .next = citer_next, .status = citer_status, .destroy = citer_destroy};

static rill__kv_iter_t *cache_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                    const void *to, size_t to_len, rill_error_t **error)
{
    cstore_t *cs = (cstore_t *)store;
    rill__kv_iter_t *inner = rill__kv_range(store->inner, from, from_len, to, to_len, error);
    if (inner == NULL)
        return NULL;
    citer_t *it = g_new0(citer_t, 1);
    it->base.ops = &citer_ops;
    it->inner = inner;
    it->keys = g_byte_array_new();
    GTreeNode *node;
    if (from) {
        probe_t pr;
        node = g_tree_lower_bound(ordered(cs), probe_init(&pr, from, from_len));
        probe_fini(&pr);
    } else {
        node = g_tree_node_first(ordered(cs));
    }
    size_t cap = 0;
    for (; node; node = g_tree_node_next(node)) {
        centry_t *e = g_tree_node_value(node);
        if (to && rill__kv_key_compare(e->key, e->key_len, to, to_len) >= 0)
            break;
        if (it->n == cap) {
            cap = cap ? cap * 2 : 16;
            it->snap = g_renew(snapent_t, it->snap, cap);
        }
        it->snap[it->n++] = (snapent_t){it->keys->len, e->key_len,
                                        e->value ? g_bytes_ref(e->value) : NULL};
        g_byte_array_append(it->keys, e->key, (guint)e->key_len);
    }
    return &it->base;
}

static uint64_t cache_count(rill__kv_store_t *store)
{
    return rill__kv_approximate_count(store->inner);
}

static rill_err_t cache_flush(rill__kv_store_t *store, rill_error_t **error)
{
    rill_err_t err = flush_dirty((cstore_t *)store, error);
    if (err)
        return err;
    return rill__kv_flush(store->inner, error);
}

static rill_err_t cache_close(rill__kv_store_t *store, rill_error_t **error)
{
    cstore_t *cs = (cstore_t *)store;
    /* kv.c flushed before; entries still dirty here (a failed flush) are dropped */
    while (cs->dirty_head)
        dirty_unlink(cs, cs->dirty_head);
    for (size_t i = 0; i < cs->n_buckets; i++)
        while (cs->buckets[i])
            entry_free(cs, cs->buckets[i]);
    if (cs->tree)
        g_tree_destroy(cs->tree);
    g_free(cs->buckets);
    cs->cache->n_stores--;
    rill__kv_store_t *inner = store->inner;
    rill_err_t err = inner->ops->close(inner, error);
    rill__kv_store_fini(store);
    g_free(cs);
    return err;
}

static const rill__kv_store_ops_t cache_ops = {
    .kind = "caching",
    .get = cache_get,
    .put = cache_put,
    .del = cache_del,
    .put_batch = cache_put_batch,
    .range = cache_range,
    .approximate_count = cache_count,
    .flush = cache_flush,
    .close = cache_close,
};

rill__kv_store_t *rill__kv_caching_new(rill__kv_store_t *inner, rill__record_cache_t *cache,
                                       rill__kv_forward_fn forward, void *ud,
                                       bool send_old_values)
{
    g_return_val_if_fail(inner != NULL && cache != NULL, NULL);
    cstore_t *cs = g_new0(cstore_t, 1);
    rill__kv_store_init(&cs->base, &cache_ops, inner->name, inner);
    cs->cache = cache;
    cs->n_buckets = 64;
    cs->buckets = g_new0(centry_t *, cs->n_buckets);
    cs->forward = forward;
    cs->forward_ud = ud;
    cs->send_old_values = send_old_values;
    cache->n_stores++;
    return &cs->base;
}

size_t rill__kv_caching_dirty_count(const rill__kv_store_t *store)
{
    return store->ops == &cache_ops ? ((const cstore_t *)store)->n_dirty : 0;
}

/* ---- the thread's cache ------------------------------------------------------ */

rill__record_cache_t *rill__record_cache_new(size_t max_bytes)
{
    rill__record_cache_t *c = g_new0(rill__record_cache_t, 1);
    c->max_bytes = max_bytes;
    return c;
}

void rill__record_cache_destroy(rill__record_cache_t *cache)
{
    if (cache == NULL)
        return;
    g_assert(cache->n_stores == 0 && cache->lru_head == NULL);
    g_free(cache);
}

void rill__record_cache_get_stats(const rill__record_cache_t *cache,
                                  rill__record_cache_stats_t *stats)
{
    *stats = cache->stats;
    stats->entries = cache->entries;
    stats->bytes = cache->bytes;
}
