/* node.h: processor nodes: how operators plug into the topology and the task.
 *
 * A topology is a graph of rill__node_t (immutable once built): sources,
 * processors, sinks. An operator (operators/) is a rill__node_ops_t plus an
 * immutable config (its callback and user_data, say) that the builder keeps.
 * When a task starts it instantiates each node of its sub-topology as a
 * rill__pnode_t (a processor instance) that may hold per-task state
 * (ops->state_new); records then go depth-first through pnodes: process()
 * handles one record and calls rill__pnode_forward() for its children, on
 * the same stack.
 *
 * Invariants: a node's children are in the order they were attached; a
 * branch node's i-th child is its i-th branch; records passed to process()
 * are borrowed for the call (see record-private.h). Stores are attached by
 * name (node->stores) for the stateful operators to come. */
#ifndef RILL_RUNTIME_NODE_H
#define RILL_RUNTIME_NODE_H

#include <glib.h>

#include <rill/topology.h>

#include "runtime/record-private.h"
#include "runtime/task.h"

typedef struct rill__node rill__node_t;
typedef struct rill__pnode rill__pnode_t;

typedef enum rill__node_role {
    RILL__NODE_SOURCE,
    RILL__NODE_PROCESSOR,
    RILL__NODE_SINK,
} rill__node_role_t;

typedef struct rill__node_ops {
    const char *kind; /* names generated nodes: KSTREAM-<kind>-0000000001 */
    /* Handles one record; forwards with rill__pnode_forward*(). */
    rill_err_t (*process)(rill__pnode_t *pnode, const rill_record_t *record, rill_error_t **error);
    /* Optional: makes per-task state (pnode->state) when the task starts; an
     * error fails rill__task_new (and init must undo its own work: state_free
     * is called only for nodes whose init succeeded). */
    rill_err_t (*init)(rill__pnode_t *pnode, rill_error_t **error);
    void (*state_free)(rill__pnode_t *pnode);
    /* Optional: fires punctuators due at stream_time / wall_ms. */
    rill_err_t (*punctuate)(rill__pnode_t *pnode, int64_t stream_time, int64_t wall_ms,
                            rill_error_t **error);
    /* Optional: writes out what the node buffers (caches, stores), before
     * the task's offsets are committed (rill__task_flush). */
    rill_err_t (*flush)(rill__pnode_t *pnode, rill_error_t **error);
    /* Optional: writes what claims that the first flush is complete (a
     * windowed aggregation's stream time), once everything that flush
     * produced is acknowledged (rill__task_flush_marks); the task's stores
     * are flushed again after it. */
    rill_err_t (*flush_marks)(rill__pnode_t *pnode, rill_error_t **error);
    /* Frees node->config when the topology goes. */
    void (*config_free)(void *config);
    /* The node's stores (node->stores) are state stores the task creates
     * (operators/state.c), each logged to <application.id>-<store>-changelog,
     * an internal topic of the topology. */
    bool stateful;
} rill__node_ops_t;

/* Where a sink writes. */
typedef struct rill__sink_spec {
    char *topic;            /* the static topic, or NULL with chooser */
    char *repartition_name; /* repartition sinks: the <name> of <app>-<name>-repartition */
    rill_topic_chooser_fn chooser;
    void *chooser_user_data;
    rill_serde_t *key_serde; /* NULL: by the value's type */
    rill_serde_t *value_serde;
    rill_partitioner_fn partitioner;
    void *partitioner_user_data;
} rill__sink_spec_t;

/* Where a source reads. */
typedef struct rill__source_spec {
    char **topics;           /* NULL-terminated, owned; one or more */
    char *topic;             /* topics[0], borrowed */
    char *repartition_name;  /* reads a repartition topic (whose name depends on application.id) */
    rill_serde_t *key_serde; /* NULL: the task's default (default.key.serde, else bytes) */
    rill_serde_t *value_serde;
    rill_timestamp_kind_t timestamp;
    rill_timestamp_fn timestamp_fn;
    void *timestamp_user_data;
} rill__source_spec_t;

struct rill__node {
    int id; /* creation order, unique in the topology */
    char *name;
    rill__node_role_t role;
    const rill__node_ops_t *ops;
    void *config;
    GPtrArray *children; /* rill__node_t *, borrowed */
    GPtrArray *parents;
    GPtrArray *stores; /* char *, names of attached stores */
    /* stores whose changelog topic has its own configs: name -> NULL-terminated
     * name, value, ... (char **), or NULL (rill__stream_store_changelog_config) */
    GHashTable *store_configs;
    rill__source_spec_t source;
    rill__sink_spec_t sink;
    int subtopology; /* set by build */
    int index;       /* index within its sub-topology's node list, set by build */
};

struct rill__pnode {
    const rill__node_t *node;
    rill_task_t *task;
    void *state;
    rill__pnode_t **children;
    int child_count;
};

/* Notes that child failed the current record (the task reports the
 * deepest failing node) and returns err. The slow path of the forwards. */
rill_err_t rill__pnode_failed(rill__pnode_t *child, rill_err_t err);

/* Forwards record to every child, in order, depth-first. Inline: it is
 * called once per node per record. */
static inline rill_err_t rill__pnode_forward(rill__pnode_t *pnode, const rill_record_t *record,
                                             rill_error_t **error)
{
    for (int i = 0; i < pnode->child_count; i++) {
        rill__pnode_t *child = pnode->children[i];
        rill_err_t err = child->node->ops->process(child, record, error);
        if (G_UNLIKELY(err != RILL_OK))
            return rill__pnode_failed(child, err);
    }
    return RILL_OK;
}

/* Forwards record to child i only (branches). */
static inline rill_err_t rill__pnode_forward_to(rill__pnode_t *pnode, int i,
                                                const rill_record_t *record, rill_error_t **error)
{
    rill__pnode_t *child = pnode->children[i];
    rill_err_t err = child->node->ops->process(child, record, error);
    return G_UNLIKELY(err != RILL_OK) ? rill__pnode_failed(child, err) : RILL_OK;
}
/* The task's wall clock, stream time, id and partition. */
int64_t rill__pnode_wall_clock(const rill__pnode_t *pnode);
int64_t rill__pnode_stream_time(const rill__pnode_t *pnode);
const char *rill__pnode_task_id(const rill__pnode_t *pnode);
int32_t rill__pnode_partition(const rill__pnode_t *pnode);

/* ---- the builder side, for operators ---------------------------------- */

/* Adds a processor node named name (NULL = generated from ops->kind) with
 * config (transfer full: freed by ops->config_free) as a child of each of
 * parents' nodes, and returns its stream; on error records it in the builder,
 * frees config and returns NULL. key_changed marks the stream as re-keyed. */
rill_stream_t *rill__builder_add_processor(rill_stream_t *const *parents, int parent_count,
                                           const rill__node_ops_t *ops, void *config,
                                           const char *name, bool key_changed);
/* Adds a sink below stream (spec is moved into the node; on error the spec's
 * memory is freed). Returns RILL_OK or the error now recorded in the builder. */
rill_err_t rill__builder_add_sink(rill_stream_t *stream, rill__sink_spec_t *spec, const char *name);
/* Adds a source reading the repartition topic of name written by a sink:
 * the stream of the new sub-topology. */
rill_stream_t *rill__builder_add_repartition_source(rill_stream_t *upstream, const char *topic_name,
                                                    const rill_serde_t *key_serde,
                                                    const rill_serde_t *value_serde,
                                                    const char *source_name);
/* Whether name is a legal Kafka topic name (1-249 of [a-zA-Z0-9._-], not "." or ".."). */
bool rill__topic_name_valid(const char *name);
/* Records an error in stream's builder (first wins) and returns its code. */
rill_err_t rill__builder_fail(rill_stream_t *stream, rill_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The builder's next generated name for kind: "KSTREAM-<kind>-%010d". (transfer full) */
char *rill__builder_new_name(rill_stream_t *stream, const char *kind);
/* The node behind a stream (for operators that need it). */
rill__node_t *rill__stream_node(rill_stream_t *stream);
/* The configs to create the changelog topic of store (attached to stream's
 * node) with, instead of cleanup.policy=compact: name, value, ..., NULL
 * (transfer full, g_strfreev), e.g. a windowed store's
 * (rill__windowed_changelog_config: compact,delete and a retention). */
void rill__stream_store_changelog_config(rill_stream_t *stream, const char *store,
                                         char **config);
/* Whether the stream's key was changed since its source. */
bool rill__stream_key_changed(const rill_stream_t *stream);
/* The source serdes upstream of stream (first source found), or NULL. */
void rill__stream_source_serdes(rill_stream_t *stream, const rill_serde_t **key_serde,
                                const rill_serde_t **value_serde);

/* Hands ptr to stream's builder, which frees it with destroy when it goes
 * (handles such as rill_branched_t). */
void rill__builder_keep(rill_stream_t *stream, void *ptr, void (*destroy)(void *ptr));
/* Whether stream's builder still accepts operators (records an error if not). */
bool rill__builder_open(rill_stream_t *stream);

#endif /* RILL_RUNTIME_NODE_H */
