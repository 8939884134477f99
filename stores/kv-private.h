/* kv-private.h: the vtables behind rill__kv_store_t and rill__kv_iter_t, for implementations only.
 *
 * An implementation embeds rill__kv_store_t as its first member and fills
 * ops. kv.c checks the arguments of every public call before dispatching, so
 * an op may assume: key != NULL or key_len == 0; value != NULL in put (kv.c
 * routes put(NULL) to del); error is NULL or *error is NULL. A layer keeps
 * its wrapped store in `inner` and owns it: its close op closes inner. */
#ifndef RILL_STORES_KV_PRIVATE_H
#define RILL_STORES_KV_PRIVATE_H

#include "stores/kv.h"

typedef struct rill__kv_store_ops {
    const char *kind;
    rill_err_t (*get)(rill__kv_store_t *store, const void *key, size_t key_len, GBytes **value,
                      rill_error_t **error);
    rill_err_t (*put)(rill__kv_store_t *store, const void *key, size_t key_len, const void *value,
                      size_t value_len, int64_t timestamp, rill_error_t **error);
    /* optional: NULL = get, then put */
    rill_err_t (*put_if_absent)(rill__kv_store_t *store, const void *key, size_t key_len,
                                const void *value, size_t value_len, int64_t timestamp,
                                GBytes **existing, rill_error_t **error);
    rill_err_t (*del)(rill__kv_store_t *store, const void *key, size_t key_len, int64_t timestamp,
                      GBytes **old, rill_error_t **error);
    /* optional: NULL = put/del one by one */
    rill_err_t (*put_batch)(rill__kv_store_t *store, const rill__kv_entry_t *entries, size_t n,
                            rill_error_t **error);
    /* from/to may be NULL (unbounded) */
    rill__kv_iter_t *(*range)(rill__kv_store_t *store, const void *from, size_t from_len,
                              const void *to, size_t to_len, rill_error_t **error);
    uint64_t (*approximate_count)(rill__kv_store_t *store);
    rill_err_t (*flush)(rill__kv_store_t *store, rill_error_t **error);
    /* optional: switch to and from a write-only mode tuned for bulk restores */
    rill_err_t (*restore_begin)(rill__kv_store_t *store, rill_error_t **error);
    rill_err_t (*restore_end)(rill__kv_store_t *store, rill_error_t **error);
    /* flush is called by kv.c before close; close frees store (and inner) */
    rill_err_t (*close)(rill__kv_store_t *store, rill_error_t **error);
    /* optional (innermost layers): bytes held; NULL = unknown (0) */
    uint64_t (*approximate_bytes)(rill__kv_store_t *store);
} rill__kv_store_ops_t;

struct rill__kv_store {
    const rill__kv_store_ops_t *ops;
    char *name;              /* owned */
    rill__kv_store_t *inner; /* owned; NULL for an innermost store */
};

typedef struct rill__kv_iter_ops {
    bool (*next)(rill__kv_iter_t *iter, const void **key, size_t *key_len, const void **value,
                 size_t *value_len);
    /* optional: NULL = never fails */
    rill_err_t (*status)(rill__kv_iter_t *iter, rill_error_t **error);
    void (*destroy)(rill__kv_iter_t *iter);
} rill__kv_iter_ops_t;

struct rill__kv_iter {
    const rill__kv_iter_ops_t *ops;
};

/* Fills the common part of a store (name copied; inner owned from now on). */
void rill__kv_store_init(rill__kv_store_t *store, const rill__kv_store_ops_t *ops,
                         const char *name, rill__kv_store_t *inner);
/* Frees the common part (name), not the inner store. */
void rill__kv_store_fini(rill__kv_store_t *store);

/* An iterator over nothing (for empty ranges such as from >= to). */
rill__kv_iter_t *rill__kv_iter_empty_new(void);

#endif /* RILL_STORES_KV_PRIVATE_H */
