/* rill/query.h: queryable state (Kafka Streams' interactive queries): read
 * a running app's stores from any thread, and find which instance owns a key.
 *
 *     rill_read_store_t *counts = rill_app_store(app, "counts", &error);
 *     rill_read_store_get(counts, "apple", 5, &value, &len, &error);  // this instance's
 *     char *owner = NULL;
 *     rill_app_key_owner(app, "counts", "apple", 5, &owner, &error);   // "host:port"
 *
 * A read handle spans every task of this instance that has the store (one
 * per partition of its sub-topology), or the global store of that name
 * (rill/global.h). get reads the task of the key's partition (murmur2 of the
 * key bytes, as Kafka's default partitioner, and rill's sinks, put keys),
 * then the other local tasks (a key a producer partitioned otherwise is
 * found if it is on this instance); range and all merge the tasks' stores
 * in key order (byte order, as every store). Key owners assume murmur2
 * partitioning of the store's source topic (as Kafka Streams' default
 * StreamPartitioner): produce its input with a murmur2 partitioner
 * (librdkafka: partitioner=murmur2_random) for them to be right.
 * Keys and values are the stores' bytes: serialize keys with the store's key
 * serde, deserialize values with its value serde.
 *
 * Consistency: reads go to the tasks' RocksDB stores directly, not through
 * the record cache (which belongs to the stream thread): they see the state
 * as of the last commit (the cache is flushed at each commit), or newer
 * (evictions write earlier); with statestore.cache.max.bytes=0 they see
 * every processed record. In-memory task stores cannot be read from another
 * thread (RILL_ERR_UNSUPPORTED): give the app a state.dir. Global stores
 * are read under their lock (memory or RocksDB), as the joins read them.
 * A range scan takes a RocksDB snapshot per task when it starts.
 *
 * Locking: a read holds the app's store registry for reading; a task that
 * closes (rebalance, shutdown) waits for the reads in progress to finish,
 * so keep the callbacks of range/all short. Any thread may call these while
 * the app runs; a call made while the app is not RUNNING (CREATED,
 * REBALANCING: stores may be migrating; after close) fails with
 * RILL_ERR_INVALID_STATE: retry once rill_app_state() is RUNNING.
 *
 * Owners: each instance sets application.server=host:port (the address its
 * own query service listens on; rill does not serve queries over the
 * network). Its stream threads' consumers carry it in their client.id
 * ("<client.id>-StreamThread-N-consumer@host:port") and the group
 * coordinator reports every member's client.id and assignment
 * (DescribeConsumerGroups), so any instance can map key → partition →
 * member → host:port without assignor user data. */
#ifndef RILL_QUERY_H
#define RILL_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <rill/app.h>
#include <rill/error.h>
#include <rill/export.h>
#include <rill/store.h>

RILL_BEGIN_DECLS

typedef struct rill_read_store rill_read_store_t;

/* A read-only handle on the stores named name of app (a task store of the
 * topology, or a global store). Fails with RILL_ERR_NOT_FOUND if the
 * topology has no such store, RILL_ERR_INVALID_STATE unless the app is
 * RUNNING. (transfer full: rill_read_store_destroy, before rill_app_destroy) */
RILL_EXPORT rill_read_store_t *rill_app_store(rill_app_t *app, const char *name,
                                              rill_error_t **error);
/* NULL is a no-op. */
RILL_EXPORT void rill_read_store_destroy(rill_read_store_t *store);

/* Reads key: *value (transfer full, rill_free) and *value_len, or *value NULL
 * if absent. RILL_ERR_NOT_FOUND if the key is in no local task and its
 * partition is not on this instance (rill_app_key_owner says where it is). */
RILL_EXPORT rill_err_t rill_read_store_get(rill_read_store_t *store, const void *key,
                                           size_t key_len, void **value, size_t *value_len,
                                           rill_error_t **error);
/* Calls fn for each key in [from, to) (NULL bounds = open) of this
 * instance's stores, in key order; fn returns false to stop. Keys and
 * values are borrowed for the call. */
RILL_EXPORT rill_err_t rill_read_store_range(rill_read_store_t *store, const void *from,
                                             size_t from_len, const void *to, size_t to_len,
                                             rill_store_each_fn fn, void *user_data,
                                             rill_error_t **error);
/* Every key of this instance's stores, in key order. */
RILL_EXPORT rill_err_t rill_read_store_all(rill_read_store_t *store, rill_store_each_fn fn,
                                           void *user_data, rill_error_t **error);

/* The application.server ("host:port") of the instance whose task holds key
 * in store (transfer full: rill_free). For a global store, this instance's
 * (every instance has it). Asks the group coordinator (a round trip).
 * RILL_ERR_NOT_FOUND if no member has the key's partition (the group is
 * rebalancing) or the member set no application.server. */
RILL_EXPORT rill_err_t rill_app_key_owner(rill_app_t *app, const char *store, const void *key,
                                          size_t key_len, char **host_port, rill_error_t **error);
/* The distinct application.server values of the instances that hold a part
 * of store, sorted: NULL-terminated (transfer full: rill_strv_free). */
RILL_EXPORT rill_err_t rill_app_store_hosts(rill_app_t *app, const char *store, char ***hosts,
                                            rill_error_t **error);
/* Frees a NULL-terminated string array from rill; NULL is a no-op. */
RILL_EXPORT void rill_strv_free(char **strv);

RILL_END_DECLS

#endif /* RILL_QUERY_H */
