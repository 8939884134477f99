/* topology-private.h: the built topology, shared by builder.c, topology.c,
 * task.c and the test driver.
 *
 * Invariants (set by rill__topology_new, never changed after, except topic
 * names of repartition nodes by rill__topology_set_application_id before
 * any task exists): every node belongs to exactly one sub-topology; a
 * sub-topology's nodes are in creation order, which is a topological order
 * (a node is created after its parents); each source topic is read by one
 * source node. */
#ifndef RILL_RUNTIME_TOPOLOGY_PRIVATE_H
#define RILL_RUNTIME_TOPOLOGY_PRIVATE_H

#include <glib.h>

#include "runtime/node.h"

typedef struct rill__subtopology {
    int id;
    GPtrArray *nodes;     /* rill__node_t *, borrowed, creation order */
    GPtrArray *sources;   /* the source nodes among them */
    char **source_topics; /* NULL-terminated, borrowed from the source nodes */
} rill__subtopology_t;

struct rill_topology {
    GPtrArray *nodes; /* rill__node_t *, owned */
    rill__subtopology_t *subs;
    int sub_count;
    char *application_id;
    char **internal_topics; /* NULL-terminated, borrowed from the sink nodes and changelogs */
    GPtrArray *changelogs;  /* rill__changelog_spec_t *, owned: one per state store */
    GPtrArray *globals;     /* rill__global_spec_t *, owned: global tables (runtime/global.h) */
    const struct rill__globals_ops *globals_ops; /* their store set's entry points (static) */
};

/* The changelog topic of a state store and the sub-topology that writes it. */
typedef struct rill__changelog_spec {
    char *store;
    char *topic; /* <application.id>-<store>-changelog */
    int subtopology;
} rill__changelog_spec_t;

/* The ops of the nodes the runtime itself provides (task.c). */
extern const rill__node_ops_t rill__source_ops;
extern const rill__node_ops_t rill__sink_ops;

/* Makes the topology from the builder's nodes (transfer full). On error the
 * nodes are freed. */
rill_topology_t *rill__topology_new(GPtrArray *nodes, rill_error_t **error);
void rill__node_free(rill__node_t *node);
/* "<app>-<name>-repartition", or "<name>-repartition" without app. (transfer full) */
char *rill__repartition_topic(const char *application_id, const char *name);
/* The changelog of store, or NULL if no stateful node declares it. */
const rill__changelog_spec_t *rill__topology_changelog(const rill_topology_t *topology,
                                                       const char *store);
/* The source node of sub that reads topic, or NULL. */
const rill__node_t *rill__subtopology_source(const rill__subtopology_t *sub, const char *topic);

#endif /* RILL_RUNTIME_TOPOLOGY_PRIVATE_H */
