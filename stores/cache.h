/* cache.h: the record cache: a per-thread byte budget shared by the caching layers of its stores.
 *
 * Kafka Streams' ThreadCache + CachingKeyValueStore. A caching layer keeps
 * recent entries of its store in memory: writes stay in the cache (dirty)
 * and overwrite each other, so between two flushes a key written 1,000 times
 * reaches the wrapped store (and its changelog) and the downstream processors
 * once. Reads see cached values first. A flush (at commit, or when an LRU
 * eviction meets a dirty entry) writes the store's dirty entries down in one
 * batch, in the order they were last written, and forwards each to the
 * layer's forward callback as (key, new value, old value, timestamp) — what a
 * KTable sends downstream. A delete of a key that did not exist below is
 * neither written nor forwarded (as Kafka Streams).
 *
 * Budget: all layers of one rill__record_cache_t (one per stream thread,
 * statestore.cache.max.bytes / threads) share max_bytes; each entry costs its
 * key + value + a fixed overhead. When the total passes max_bytes, entries
 * are evicted least recently used first, across all stores of the cache; a
 * dirty victim first flushes its store. max_bytes 0 = write-through (every
 * write is flushed at once): caching off.
 *
 * Re-entrancy: the forward callback may read and write any store of the
 * thread, including caching ones on the same cache (downstream processors do).
 * A flush works on a snapshot of the dirty entries, so this is safe. */
#ifndef RILL_STORES_CACHE_H
#define RILL_STORES_CACHE_H

#include "stores/kv.h"

typedef struct rill__record_cache rill__record_cache_t;

/* Receives one flushed entry: new_value NULL = deleted; old_value is the value
 * the wrapped store had before (only with send_old_values, else NULL). Both
 * borrowed for the call (g_bytes_ref to keep). An error stops the flush and
 * is returned by the write or flush that caused it. */
typedef rill_err_t (*rill__kv_forward_fn)(void *ud, const void *key, size_t key_len,
                                          GBytes *new_value, GBytes *old_value, int64_t timestamp,
                                          rill_error_t **error);

typedef struct rill__record_cache_stats {
    uint64_t hits;      /* gets answered by the cache */
    uint64_t misses;    /* gets that read the wrapped store */
    uint64_t evictions; /* entries evicted for the budget */
    uint64_t flushes;   /* store flushes that wrote something */
    uint64_t flushed;   /* entries written down */
    uint64_t entries;   /* entries held now */
    size_t bytes;       /* bytes held now */
} rill__record_cache_stats_t;

/* A cache with a budget of max_bytes. (transfer full: rill__record_cache_destroy,
 * after every caching store on it is closed) */
rill__record_cache_t *rill__record_cache_new(size_t max_bytes);
void rill__record_cache_destroy(rill__record_cache_t *cache);

void rill__record_cache_get_stats(const rill__record_cache_t *cache,
                                  rill__record_cache_stats_t *stats);

/* Wraps inner (transfer full) in a caching layer on cache (borrowed; must
 * outlive the store). forward may be NULL (nothing downstream); ud is
 * borrowed. With send_old_values the flush reads each key's old value from
 * the wrapped store to forward it (KTable's sendOldValues).
 * (transfer full: rill__kv_close, which flushes, then closes inner too) */
rill__kv_store_t *rill__kv_caching_new(rill__kv_store_t *inner, rill__record_cache_t *cache,
                                       rill__kv_forward_fn forward, void *ud,
                                       bool send_old_values);

/* Dirty entries of a caching store (0 for other stores). */
size_t rill__kv_caching_dirty_count(const rill__kv_store_t *store);

#endif
