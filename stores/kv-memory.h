/* kv-memory.h: the in-memory key-value store (an ordered tree), same semantics as RocksDB's.
 *
 * Nothing is persisted: like Kafka Streams' in-memory stores it is rebuilt
 * from its changelog on restart, so wrap it in the change-logging layer. */
#ifndef RILL_STORES_KV_MEMORY_H
#define RILL_STORES_KV_MEMORY_H

#include "stores/kv.h"

/* A new empty store named name (copied). (transfer full: rill__kv_close) */
rill__kv_store_t *rill__kv_memory_new(const char *name);

/* Bytes of keys and values held (no overhead), for tests and metrics. */
size_t rill__kv_memory_data_bytes(const rill__kv_store_t *store);

#endif
