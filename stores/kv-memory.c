/* kv-memory.c: the in-memory key-value store, a skiplist ordered by unsigned bytes.
 *
 * Why not GTree: a GTree put of a new key walks the tree twice (lookup, then
 * insert) and allocates a separate tree node, and an existing key's value
 * cannot be replaced in place; the skiplist finds, inserts or replaces in one
 * walk, and keeps the key in the node itself, next to the pointers the walk
 * reads. Levels are drawn with p = 1/4 (1.33 pointers per node on average).
 *
 * A hash index over the same nodes answers gets, overwrites and deletes of
 * existing keys without walking the list (what aggregations do most: read a
 * key, write it back); only a new key's insert and a delete walk it.
 *
 * Each node is one allocation: header, `level` forward pointers, key bytes.
 * Values are GBytes, so a get hands out a reference, never a copy.
 * Iterators keep a copy of the last key they returned and the store's
 * modification counter: while the store is unchanged they step to the next
 * node in O(1); after any write they re-seek to the first key above the last
 * one (O(log n)), so writes during an iteration never invalidate it.
 *
 * Invariants: keys strictly increase along level 0; a node of level L is
 * linked on levels 0..L-1; the index holds exactly the nodes on level 0; no
 * node has a NULL value (a delete unlinks it). */
#include "config.h"

#include <string.h>

#include "stores/kv-memory.h"
#include "stores/kv-private.h"

#define MAX_LEVEL 24

typedef struct snode {
    GBytes *value;
    uint32_t key_len;
    uint32_t level;
    struct snode *next[]; /* level pointers, then key_len key bytes */
} snode_t;

typedef struct memstore {
    rill__kv_store_t base;
    snode_t *head; /* MAX_LEVEL pointers, no key */
    GHashTable *index; /* snode_t* set, hashed and compared by key */
    uint32_t level; /* levels in use, >= 1 */
    uint64_t count;
    uint64_t mods;
    uint64_t rng;
    size_t data_bytes;
} memstore_t;

static inline const uint8_t *node_key(const snode_t *n)
{
    return (const uint8_t *)&n->next[n->level];
}

static inline int node_cmp(const snode_t *n, const void *key, size_t key_len)
{
    return rill__kv_key_compare(node_key(n), n->key_len, key, key_len);
}

static guint node_hash(gconstpointer p)
{
    /* FNV-1a, 32 bits */
    const snode_t *n = p;
    const uint8_t *k = node_key(n);
    guint32 h = 2166136261u;
    for (uint32_t i = 0; i < n->key_len; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static gboolean node_equal(gconstpointer a, gconstpointer b)
{
    const snode_t *x = a, *y = b;
    return x->key_len == y->key_len && memcmp(node_key(x), node_key(y), x->key_len) == 0;
}

/* A key shaped like a node (level 0: the key follows the header), to look
 * nodes up in the index. Keys up to 256 bytes stay on the stack. */
typedef struct probe {
    snode_t *node;
    union {
        snode_t hdr;
        uint8_t raw[sizeof(snode_t) + 256];
    } stack;
} probe_t;

/* The node of key, through the index. */
static snode_t *find(memstore_t *ms, const void *key, size_t key_len)
{
    probe_t pr;
    pr.node = key_len <= 256 ? &pr.stack.hdr : g_malloc(sizeof(snode_t) + key_len);
    pr.node->level = 0;
    pr.node->key_len = (uint32_t)key_len;
    if (key_len)
        memcpy((uint8_t *)&pr.node->next[0], key, key_len);
    snode_t *n = g_hash_table_lookup(ms->index, pr.node);
    if (pr.node != &pr.stack.hdr)
        g_free(pr.node);
    return n;
}

/* The first node with a key >= key; update[i] (if not NULL) gets the last
 * node before it on level i. finger (optional) holds, per level, a node known
 * to have a key < key (or NULL): the walk starts from it when it is further
 * along than where the level above left off. */
static snode_t *find_ge_from(memstore_t *ms, const void *key, size_t key_len, snode_t **update,
                             snode_t *const *finger)
{
    snode_t *x = ms->head;
    for (int i = (int)ms->level - 1; i >= 0; i--) {
        snode_t *f = finger ? finger[i] : NULL;
        if (f && (x == ms->head ||
                  rill__kv_key_compare(node_key(f), f->key_len, node_key(x), x->key_len) > 0))
            x = f;
        while (x->next[i] && node_cmp(x->next[i], key, key_len) < 0)
            x = x->next[i];
        if (update)
            update[i] = x;
    }
    return x->next[0];
}

static snode_t *find_ge(memstore_t *ms, const void *key, size_t key_len, snode_t **update)
{
    return find_ge_from(ms, key, key_len, update, NULL);
}

static uint32_t random_level(memstore_t *ms)
{
    /* xorshift64; two bits per level: p = 1/4 */
    ms->rng ^= ms->rng << 13;
    ms->rng ^= ms->rng >> 7;
    ms->rng ^= ms->rng << 17;
    uint64_t r = ms->rng;
    uint32_t level = 1;
    while ((r & 3) == 0 && level < MAX_LEVEL) {
        level++;
        r >>= 2;
    }
    return level;
}

static rill_err_t mem_get(rill__kv_store_t *store, const void *key, size_t key_len, GBytes **value,
                          rill_error_t **error)
{
    snode_t *n = find((memstore_t *)store, key, key_len);
    *value = n ? g_bytes_ref(n->value) : NULL;
    return RILL_OK;
}

/* Sets key to value (transfer full). finger: see find_ge_from; updated to the
 * predecessors of key (for a batch in ascending key order). */
static void put_bytes(memstore_t *ms, const void *key, size_t key_len, GBytes *value,
                      snode_t **finger)
{
    snode_t *n = find(ms, key, key_len);
    ms->mods++;
    if (n) {
        ms->data_bytes -= g_bytes_get_size(n->value);
        g_bytes_unref(n->value);
        n->value = value;
        ms->data_bytes += g_bytes_get_size(value);
        return;
    }
    snode_t *update[MAX_LEVEL];
    find_ge_from(ms, key, key_len, update, finger);
    uint32_t level = random_level(ms);
    for (uint32_t i = ms->level; i < level; i++)
        update[i] = ms->head;
    if (level > ms->level)
        ms->level = level;
    n = g_malloc(sizeof *n + level * sizeof(snode_t *) + key_len);
    n->value = value;
    n->key_len = (uint32_t)key_len;
    n->level = level;
    if (key_len)
        memcpy((uint8_t *)&n->next[level], key, key_len);
    for (uint32_t i = 0; i < level; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
    }
    if (finger)
        for (uint32_t i = 0; i < ms->level; i++)
            finger[i] = i < level ? n : update[i];
    g_hash_table_add(ms->index, n);
    ms->count++;
    ms->data_bytes += key_len + g_bytes_get_size(value);
}

static rill_err_t mem_put(rill__kv_store_t *store, const void *key, size_t key_len,
                          const void *value, size_t value_len, int64_t timestamp,
                          rill_error_t **error)
{
    if (key_len > UINT32_MAX)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "memory store %s: key of %zu bytes",
                              store->name, key_len);
    put_bytes((memstore_t *)store, key, key_len, g_bytes_new(value, value_len), NULL);
    return RILL_OK;
}

static rill_err_t mem_del(rill__kv_store_t *store, const void *key, size_t key_len,
                          int64_t timestamp, GBytes **old, rill_error_t **error)
{
    memstore_t *ms = (memstore_t *)store;
    if (find(ms, key, key_len) == NULL)
        return RILL_OK;
    snode_t *update[MAX_LEVEL];
    snode_t *n = find_ge(ms, key, key_len, update);
    g_hash_table_remove(ms->index, n);
    for (uint32_t i = 0; i < n->level; i++)
        if (update[i]->next[i] == n)
            update[i]->next[i] = n->next[i];
    while (ms->level > 1 && ms->head->next[ms->level - 1] == NULL)
        ms->level--;
    ms->data_bytes -= key_len + g_bytes_get_size(n->value);
    if (old)
        *old = n->value;
    else
        g_bytes_unref(n->value);
    g_free(n);
    ms->count--;
    ms->mods++;
    return RILL_OK;
}

static int entry_ptr_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
    const rill__kv_entry_t *x = *(const rill__kv_entry_t *const *)a;
    const rill__kv_entry_t *y = *(const rill__kv_entry_t *const *)b;
    return rill__kv_key_compare(x->key, x->key_len, y->key, y->key_len);
}

/* Applies the batch in key order (a stable sort: two writes of one key keep
 * their order), each insert's walk starting from where the previous one
 * ended (finger search): a batch of k random keys walks about log(n/k)
 * levels per key instead of log(n), over nodes already in the CPU cache. */
static rill_err_t mem_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries,
                                size_t n, rill_error_t **error)
{
    const rill__kv_entry_t **order = g_new(const rill__kv_entry_t *, n);
    for (size_t i = 0; i < n; i++)
        order[i] = &entries[i];
    g_qsort_with_data(order, (gint)n, sizeof *order, entry_ptr_cmp, NULL);
    memstore_t *ms = (memstore_t *)store;
    snode_t *finger[MAX_LEVEL] = {NULL};
    rill_err_t err = RILL_OK;
    for (size_t i = 0; err == RILL_OK && i < n; i++) {
        const rill__kv_entry_t *e = order[i];
        const void *key = e->key ? e->key : "";
        if (e->key_len > UINT32_MAX) {
            err = rill_error_set(error, RILL_ERR_INVALID_ARG, "memory store %s: key of %zu bytes",
                                 store->name, e->key_len);
        } else if (e->value) {
            put_bytes(ms, key, e->key_len, g_bytes_new(e->value, e->value_len), finger);
        } else {
            /* a delete may free a finger node: start the next walk afresh */
            err = mem_del(store, key, e->key_len, e->timestamp, NULL, error);
            memset(finger, 0, sizeof finger);
        }
    }
    g_free(order);
    return err;
}

/* ---- iterator ------------------------------------------------------------ */

typedef struct miter {
    rill__kv_iter_t base;
    memstore_t *ms;
    snode_t *node;    /* the node last returned, valid while ms->mods == mods */
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
    memstore_t *ms = it->ms;
    snode_t *node;
    if (!it->started) {
        it->started = true;
        node = it->from ? find_ge(ms, it->from->data, it->from->len, NULL) : ms->head->next[0];
    } else if (it->node == NULL) {
        return false;
    } else if (it->mods == ms->mods) {
        node = it->node->next[0];
    } else {
        node = find_ge(ms, it->last->data, it->last->len, NULL);
        if (node && node_cmp(node, it->last->data, it->last->len) == 0)
            node = node->next[0];
    }
    g_clear_pointer(&it->value, g_bytes_unref);
    if (node && it->to && node_cmp(node, it->to->data, it->to->len) >= 0)
        node = NULL;
    it->node = node;
    if (node == NULL)
        return false;
    it->mods = ms->mods;
    g_byte_array_set_size(it->last, 0);
    g_byte_array_append(it->last, node_key(node), node->key_len);
    it->value = g_bytes_ref(node->value);
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
    return ((memstore_t *)store)->count;
}

static uint64_t mem_bytes(rill__kv_store_t *store)
{
    return ((memstore_t *)store)->data_bytes;
}

static rill_err_t mem_flush(rill__kv_store_t *store, rill_error_t **error)
{
    return RILL_OK;
}

static rill_err_t mem_close(rill__kv_store_t *store, rill_error_t **error)
{
    memstore_t *ms = (memstore_t *)store;
    snode_t *n = ms->head->next[0];
    while (n) {
        snode_t *next = n->next[0];
        g_bytes_unref(n->value);
        g_free(n);
        n = next;
    }
    g_free(ms->head);
    g_hash_table_destroy(ms->index);
    rill__kv_store_fini(store);
    g_free(ms);
    return RILL_OK;
}

static const rill__kv_store_ops_t mem_ops = {
    .kind = "memory",
    .get = mem_get,
    .put = mem_put,
    .del = mem_del,
    .put_batch = mem_put_batch,
    .range = mem_range,
    .approximate_count = mem_count,
    .flush = mem_flush,
    .close = mem_close,
    .approximate_bytes = mem_bytes,
};

rill__kv_store_t *rill__kv_memory_new(const char *name)
{
    memstore_t *ms = g_new0(memstore_t, 1);
    rill__kv_store_init(&ms->base, &mem_ops, name, NULL);
    ms->head = g_malloc0(sizeof(snode_t) + MAX_LEVEL * sizeof(snode_t *));
    ms->head->level = MAX_LEVEL;
    ms->index = g_hash_table_new(node_hash, node_equal);
    ms->level = 1;
    ms->rng = 0x2545f4914f6cdd1dull;
    return &ms->base;
}

size_t rill__kv_memory_data_bytes(const rill__kv_store_t *store)
{
    return ((const memstore_t *)store)->data_bytes;
}
