/* join-private.h: what the join operators share (join-table.c's materialized result node).
 *
 * A join result node receives table updates (rill__change_t) whose old side
 * may be unknown (null): it writes each new value to its store (change-logged,
 * cached like an aggregation's) and forwards (new, old) as the store saw them,
 * so the table downstream carries exact old values. */
#ifndef RILL_OPERATORS_JOIN_PRIVATE_H
#define RILL_OPERATORS_JOIN_PRIVATE_H

#include "operators/state.h"

/* A node named name below parents materializing their updates in store
 * (serdes borrowed; NULL = the task's defaults; tagged: an internal store of
 * type-tagged values, value_serde unused, and the table is returned as not
 * materialized): the joined table, owned by the builder, or NULL (the error
 * recorded in the builder). */
rill_table_t *rill__join_result(rill_stream_t *const *parents, int parent_count,
                                const char *name, const char *store, bool in_memory, bool tagged,
                                const rill_serde_t *key_serde, const rill_serde_t *value_serde);

#endif /* RILL_OPERATORS_JOIN_PRIVATE_H */
