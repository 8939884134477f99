/* kv.h: rill's one key-value state store interface, used by every store kind and layer.
 *
 * A store maps byte-string keys to byte-string values, ordered by unsigned
 * byte comparison (memcmp, then the shorter key first), exactly like Kafka
 * Streams' RocksDB stores, so range and prefix scans mean the same thing.
 * rill__kv_store_t is an opaque handle behind a vtable (kv-private.h); the
 * implementations are RocksDB (kv-rocksdb.h) and in-memory (kv-memory.h), and
 * the layers wrap another store and are stores themselves, so they compose
 * innermost first:
 *
 *     RocksDB or memory  ◄──  change-logging (changelog.h)  ◄──  record cache (cache.h)
 *
 * Values: a value is present or absent. `value == NULL` in a write means a
 * tombstone (delete), as a null value in a Kafka record; an empty value is a
 * present value of length 0 (pass any non-NULL pointer, e.g. ""). Reads hand
 * back values as GBytes (transfer full, g_bytes_unref), NULL when absent, so
 * that layers that already hold a value (cache, memory store) return a
 * reference instead of a copy.
 *
 * Timestamps: every write carries the timestamp (ms) of the record that caused
 * it; stores ignore it, the change-logging layer sends it with the changelog
 * record, the cache keeps it until the entry is flushed.
 *
 * Iterators: range [from, to) with either bound NULL for "unbounded", prefix,
 * all. Keys and values an iterator hands out are borrowed until the next call
 * on that iterator. An iterator must be destroyed before its store is closed.
 * Writes to the store while an iterator is open are allowed; whether the
 * iterator sees them depends on the store (RocksDB: a snapshot taken when the
 * iterator was created; memory: it sees keys after its position).
 *
 * Thread: a store is used by one thread at a time (the stream thread that owns
 * its task). Nothing here locks. */
#ifndef RILL_STORES_KV_H
#define RILL_STORES_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <rill/error.h>

typedef struct rill__kv_store rill__kv_store_t;
typedef struct rill__kv_iter rill__kv_iter_t;

/* One write of a batch (all fields borrowed for the call). value NULL = delete. */
typedef struct rill__kv_entry {
    const void *key;
    size_t key_len;
    const void *value;
    size_t value_len;
    int64_t timestamp;
} rill__kv_entry_t;

/* The store's name (as given at creation), borrowed for the store's life. */
const char *rill__kv_store_name(const rill__kv_store_t *store);

/* The store's kind: "rocksdb", "memory", "logging", "caching" (static). */
const char *rill__kv_store_kind(const rill__kv_store_t *store);

/* The store this layer wraps, or NULL for an innermost store. (transfer none) */
rill__kv_store_t *rill__kv_store_wrapped(rill__kv_store_t *store);

/* The innermost store of a stack of layers (the store itself if it wraps nothing). */
rill__kv_store_t *rill__kv_store_innermost(rill__kv_store_t *store);

/* Reads key. *value is set to the value (transfer full) or NULL if absent. */
rill_err_t rill__kv_get(rill__kv_store_t *store, const void *key, size_t key_len, GBytes **value,
                        rill_error_t **error);

/* Writes key = value; value NULL deletes key (as Kafka Streams' put(k, null)). */
rill_err_t rill__kv_put(rill__kv_store_t *store, const void *key, size_t key_len, const void *value,
                        size_t value_len, int64_t timestamp, rill_error_t **error);

/* Writes key = value only if key is absent. *existing (optional) is set to
 * the value already there (transfer full; then nothing was written) or NULL
 * (the write happened). value must not be NULL. */
rill_err_t rill__kv_put_if_absent(rill__kv_store_t *store, const void *key, size_t key_len,
                                  const void *value, size_t value_len, int64_t timestamp,
                                  GBytes **existing, rill_error_t **error);

/* Deletes key. *old (optional: pass NULL to save a read) is set to the value
 * it had (transfer full) or NULL. Deleting an absent key is not an error. */
rill_err_t rill__kv_delete(rill__kv_store_t *store, const void *key, size_t key_len,
                           int64_t timestamp, GBytes **old, rill_error_t **error);

/* Applies n writes in order, as one batch where the store can (RocksDB: one
 * WriteBatch). entries[i].value NULL deletes. */
rill_err_t rill__kv_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries, size_t n,
                              rill_error_t **error);

/* Keys in [from, to) in ascending order; from NULL = from the first key, to
 * NULL = to the end. (transfer full: rill__kv_iter_destroy) */
rill__kv_iter_t *rill__kv_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                const void *to, size_t to_len, rill_error_t **error);

/* Keys that start with prefix (prefix_len 0 = all keys). */
rill__kv_iter_t *rill__kv_prefix(rill__kv_store_t *store, const void *prefix, size_t prefix_len,
                                 rill_error_t **error);

/* All keys. */
rill__kv_iter_t *rill__kv_all(rill__kv_store_t *store, rill_error_t **error);

/* An estimate of the number of keys (exact for the memory store). */
uint64_t rill__kv_approximate_count(rill__kv_store_t *store);
/* An estimate of the bytes the store's innermost layer holds (RocksDB: SST
 * files + memtables; memory: keys + values), 0 if it cannot tell. For metrics. */
uint64_t rill__kv_approximate_bytes(rill__kv_store_t *store);

/* Makes everything written so far durable in this store and the layers below
 * (the cache writes its dirty entries down and forwards them; RocksDB flushes
 * its memtables, since rill writes no WAL). Call before writing checkpoints. */
rill_err_t rill__kv_flush(rill__kv_store_t *store, rill_error_t **error);

/* Puts the innermost store of store into restore mode: a write-only mode
 * tuned for large batches (RocksDB: a vector memtable, sorted only when it is
 * flushed). Reads and iterators are allowed but slow until
 * rill__kv_restore_end, which flushes and goes back to the normal mode. The
 * restorer (restore.h) calls both; stores without such a mode do nothing. */
rill_err_t rill__kv_restore_begin(rill__kv_store_t *store, rill_error_t **error);
rill_err_t rill__kv_restore_end(rill__kv_store_t *store, rill_error_t **error);

/* Flushes (as rill__kv_flush), then closes and frees the whole stack of
 * layers. Returns the first error met; the store is freed either way.
 * NULL is a no-op. */
rill_err_t rill__kv_close(rill__kv_store_t *store, rill_error_t **error);

/* ---- iterators ----------------------------------------------------------- */

/* Advances to the next key. Returns false at the end or on error (see
 * rill__kv_iter_status). On true, *key and *value are borrowed until the next
 * call on iter; value is never NULL (absent keys are not iterated). */
bool rill__kv_iter_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                        const void **value, size_t *value_len);

/* RILL_OK, or the error that ended the iteration. */
rill_err_t rill__kv_iter_status(rill__kv_iter_t *iter, rill_error_t **error);

/* Frees iter; NULL is a no-op. */
void rill__kv_iter_destroy(rill__kv_iter_t *iter);

/* ---- key order helpers --------------------------------------------------- */

/* Unsigned byte comparison: <0, 0, >0. The order of every store. */
int rill__kv_key_compare(const void *a, size_t a_len, const void *b, size_t b_len);

/* The smallest key greater than every key that starts with prefix, written
 * to out (room for prefix_len bytes): the prefix with trailing 0xff bytes
 * removed and its last byte incremented. Returns its length, or -1 if no such
 * key exists (prefix empty or all 0xff: the prefix range runs to the end). */
ptrdiff_t rill__kv_prefix_end(const void *prefix, size_t prefix_len, void *out);

#endif /* RILL_STORES_KV_H */
