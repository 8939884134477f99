/* global-spec.c: the specs of global tables (runtime/global.h) as the
 * builder and the topology keep them: copies, frees and accessors, apart
 * from the store set (global.c) so that code that never opens global
 * stores (the driver of a topology without global tables) links without
 * the stores. */
#include "config.h"

#include <glib.h>

#include "runtime/global.h"
#include "runtime/topology-private.h"

rill__global_spec_t *rill__global_spec_copy(const rill__global_spec_t *spec)
{
    rill__global_spec_t *copy = g_new0(rill__global_spec_t, 1);
    copy->topic = g_strdup(spec->topic);
    copy->store = g_strdup(spec->store);
    copy->key_serde = spec->key_serde != NULL ? rill_serde_ref(spec->key_serde) : NULL;
    copy->value_serde = spec->value_serde != NULL ? rill_serde_ref(spec->value_serde) : NULL;
    copy->in_memory = spec->in_memory;
    return copy;
}

void rill__global_spec_free(rill__global_spec_t *spec)
{
    if (spec == NULL)
        return;
    g_free(spec->topic);
    g_free(spec->store);
    if (spec->key_serde != NULL)
        rill_serde_unref(spec->key_serde);
    if (spec->value_serde != NULL)
        rill_serde_unref(spec->value_serde);
    g_free(spec);
}

RILL_EXPORT const char *rill_global_table_store(const rill_global_table_t *table)
{
    return table != NULL ? table->store : NULL;
}

int rill__topology_global_count(const rill_topology_t *topology)
{
    return topology->globals != NULL ? (int)topology->globals->len : 0;
}

const rill__global_spec_t *rill__topology_global(const rill_topology_t *topology, int i)
{
    return g_ptr_array_index(topology->globals, (guint)i);
}

const rill__globals_ops_t *rill__topology_globals_ops(const rill_topology_t *topology)
{
    return rill__topology_global_count(topology) > 0 ? topology->globals_ops : NULL;
}
