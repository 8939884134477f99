/* topology.c: the built, immutable topology: sub-topologies, internal topics,
 * the queries of task.h, and describe (text and Graphviz DOT).
 *
 * Design: sub-topologies are the connected components of the node graph,
 * where only parent/child edges connect (a topic never does: a sink and the
 * source reading the same topic are in different components, which is how
 * a repartition splits a topology). Components are found with a union-find
 * over node indexes and numbered by their first node, so numbering follows
 * the order in which the DSL calls were made, as in Kafka Streams. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/topology.h>

#include "runtime/task.h"
#include "runtime/global.h"
#include "runtime/topology-private.h"

char *rill__repartition_topic(const char *application_id, const char *name)
{
    if (application_id != NULL && application_id[0] != '\0')
        return g_strdup_printf("%s-%s-repartition", application_id, name);
    return g_strdup_printf("%s-repartition", name);
}

static int uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

static void changelog_spec_free(void *p)
{
    rill__changelog_spec_t *spec = p;
    g_free(spec->store);
    g_free(spec->topic);
    g_free(spec);
}

const rill__changelog_spec_t *rill__topology_changelog(const rill_topology_t *topology,
                                                       const char *store)
{
    for (guint i = 0; topology->changelogs != NULL && i < topology->changelogs->len; i++) {
        const rill__changelog_spec_t *spec = g_ptr_array_index(topology->changelogs, i);
        if (strcmp(spec->store, store) == 0)
            return spec;
    }
    return NULL;
}

static const rill__changelog_spec_t *changelog_of_topic(const rill_topology_t *topology,
                                                        const char *topic)
{
    for (guint i = 0; topology->changelogs != NULL && i < topology->changelogs->len; i++) {
        const rill__changelog_spec_t *spec = g_ptr_array_index(topology->changelogs, i);
        if (strcmp(spec->topic, topic) == 0)
            return spec;
    }
    return NULL;
}

static void fill_topic_lists(rill_topology_t *topology)
{
    for (int s = 0; s < topology->sub_count; s++) {
        rill__subtopology_t *sub = &topology->subs[s];
        g_free(sub->source_topics);
        GPtrArray *topics = g_ptr_array_new();
        for (guint i = 0; i < sub->sources->len; i++) {
            rill__node_t *source = g_ptr_array_index(sub->sources, i);
            for (char **t = source->source.topics; *t != NULL; t++)
                g_ptr_array_add(topics, *t);
        }
        g_ptr_array_add(topics, NULL);
        sub->source_topics = (char **)g_ptr_array_free(topics, FALSE);
    }
    GPtrArray *internal = g_ptr_array_new();
    for (guint i = 0; i < topology->nodes->len; i++) {
        rill__node_t *node = g_ptr_array_index(topology->nodes, i);
        if (node->role == RILL__NODE_SINK && node->sink.repartition_name != NULL)
            g_ptr_array_add(internal, node->sink.topic);
    }
    /* state stores: one compacted changelog each (stateful nodes' stores) */
    if (topology->changelogs == NULL)
        topology->changelogs = g_ptr_array_new_with_free_func(changelog_spec_free);
    g_ptr_array_set_size(topology->changelogs, 0);
    for (guint i = 0; i < topology->nodes->len; i++) {
        rill__node_t *node = g_ptr_array_index(topology->nodes, i);
        if (!node->ops->stateful)
            continue;
        for (guint k = 0; k < node->stores->len; k++) {
            const char *store = g_ptr_array_index(node->stores, k);
            if (rill__topology_changelog(topology, store) != NULL)
                continue;
            rill__changelog_spec_t *spec = g_new0(rill__changelog_spec_t, 1);
            spec->store = g_strdup(store);
            spec->topic = topology->application_id != NULL
                              ? g_strdup_printf("%s-%s-changelog", topology->application_id, store)
                              : g_strdup_printf("%s-changelog", store);
            spec->subtopology = node->subtopology;
            g_ptr_array_add(topology->changelogs, spec);
            g_ptr_array_add(internal, spec->topic);
        }
    }
    g_ptr_array_add(internal, NULL);
    g_free(topology->internal_topics);
    topology->internal_topics = (char **)g_ptr_array_free(internal, FALSE);
}

rill_topology_t *rill__topology_new(GPtrArray *nodes, rill_error_t **error)
{
    guint n = nodes->len;
    bool has_source = false;
    for (guint i = 0; i < n; i++) {
        rill__node_t *node = g_ptr_array_index(nodes, i);
        node->index = (int)i; /* temporarily: position in nodes */
        has_source = has_source || node->role == RILL__NODE_SOURCE;
    }
    if (!has_source) {
        g_ptr_array_free(nodes, TRUE);
        rill_error_set(error, RILL_ERR_INVALID_ARG, "the topology has no source");
        return NULL;
    }
    g_autofree int *parent = g_new(int, n);
    for (guint i = 0; i < n; i++)
        parent[i] = (int)i;
    for (guint i = 0; i < n; i++) {
        rill__node_t *node = g_ptr_array_index(nodes, i);
        for (guint c = 0; c < node->children->len; c++) {
            rill__node_t *child = g_ptr_array_index(node->children, c);
            int a = uf_find(parent, node->index), b = uf_find(parent, child->index);
            if (a != b)
                parent[MAX(a, b)] = MIN(a, b);
        }
    }
    rill_topology_t *topology = g_new0(rill_topology_t, 1);
    topology->nodes = nodes;
    g_autofree int *sub_of_root = g_new(int, n);
    for (guint i = 0; i < n; i++)
        sub_of_root[i] = -1;
    int count = 0;
    for (guint i = 0; i < n; i++) { /* nodes are in creation order: number by first node */
        int root = uf_find(parent, (int)i);
        if (sub_of_root[root] < 0)
            sub_of_root[root] = count++;
    }
    topology->sub_count = count;
    topology->subs = g_new0(rill__subtopology_t, count);
    for (int s = 0; s < count; s++) {
        topology->subs[s].id = s;
        topology->subs[s].nodes = g_ptr_array_new();
        topology->subs[s].sources = g_ptr_array_new();
    }
    for (guint i = 0; i < n; i++) {
        rill__node_t *node = g_ptr_array_index(nodes, i);
        rill__subtopology_t *sub = &topology->subs[sub_of_root[uf_find(parent, (int)i)]];
        node->subtopology = sub->id;
        node->index = (int)sub->nodes->len;
        g_ptr_array_add(sub->nodes, node);
        if (node->role == RILL__NODE_SOURCE)
            g_ptr_array_add(sub->sources, node);
    }
    fill_topic_lists(topology);
    return topology;
}

RILL_EXPORT void rill_topology_destroy(rill_topology_t *topology)
{
    if (topology == NULL)
        return;
    for (int s = 0; s < topology->sub_count; s++) {
        g_ptr_array_free(topology->subs[s].nodes, TRUE);
        g_ptr_array_free(topology->subs[s].sources, TRUE);
        g_free(topology->subs[s].source_topics);
    }
    g_free(topology->subs);
    g_free(topology->internal_topics);
    if (topology->changelogs != NULL)
        g_ptr_array_free(topology->changelogs, TRUE);
    if (topology->globals != NULL)
        g_ptr_array_free(topology->globals, TRUE);
    g_free(topology->application_id);
    g_ptr_array_free(topology->nodes, TRUE);
    g_free(topology);
}

/* ---- task.h queries ----------------------------------------------------------- */

int rill__topology_subtopology_count(const rill_topology_t *topology)
{
    return topology->sub_count;
}

const char *const *rill__topology_source_topics(const rill_topology_t *topology, int subtopology)
{
    if (subtopology < 0 || subtopology >= topology->sub_count)
        return NULL;
    return (const char *const *)topology->subs[subtopology].source_topics;
}

const rill__node_t *rill__subtopology_source(const rill__subtopology_t *sub, const char *topic)
{
    for (guint i = 0; i < sub->sources->len; i++) {
        const rill__node_t *node = g_ptr_array_index(sub->sources, i);
        for (char **t = node->source.topics; *t != NULL; t++)
            if (strcmp(*t, topic) == 0)
                return node;
    }
    return NULL;
}

int rill__topology_subtopology_of(const rill_topology_t *topology, const char *topic)
{
    for (int s = 0; s < topology->sub_count; s++)
        if (rill__subtopology_source(&topology->subs[s], topic) != NULL)
            return s;
    return -1;
}

const char *const *rill__topology_internal_topics(const rill_topology_t *topology)
{
    return (const char *const *)topology->internal_topics;
}

static const rill__node_t *internal_sink(const rill_topology_t *topology, const char *topic)
{
    for (guint i = 0; i < topology->nodes->len; i++) {
        const rill__node_t *node = g_ptr_array_index(topology->nodes, i);
        if (node->role == RILL__NODE_SINK && node->sink.repartition_name != NULL &&
            strcmp(node->sink.topic, topic) == 0)
            return node;
    }
    return NULL;
}

const char *rill__topology_internal_topic_source(const rill_topology_t *topology,
                                                 const char *internal_topic)
{
    /* follow chains of repartitions back to a user topic; a chain is at most
     * as long as there are nodes, which bounds the loop */
    const char *topic = internal_topic;
    const rill__changelog_spec_t *changelog = changelog_of_topic(topology, internal_topic);
    if (changelog != NULL) /* as many partitions as the writer's (first) source topic */
        return topology->subs[changelog->subtopology].source_topics[0];
    for (guint hops = 0; hops <= topology->nodes->len; hops++) {
        const rill__node_t *sink = internal_sink(topology, topic);
        if (sink == NULL)
            return hops == 0 ? NULL : topic;
        const rill__subtopology_t *sub = &topology->subs[sink->subtopology];
        const rill__node_t *user_source = NULL;
        for (guint i = 0; i < sub->sources->len && user_source == NULL; i++) {
            const rill__node_t *source = g_ptr_array_index(sub->sources, i);
            if (source->source.repartition_name == NULL)
                user_source = source;
        }
        if (user_source != NULL)
            return user_source->source.topic;
        topic = ((const rill__node_t *)g_ptr_array_index(sub->sources, 0))->source.topic;
    }
    return NULL;
}

const char *const *rill__topology_internal_topic_config(const rill_topology_t *topology,
                                                        const char *internal_topic)
{
    static const char *const repartition[] = {
        "cleanup.policy", "delete", "segment.bytes", "52428800", "retention.ms", "-1", NULL,
    };
    static const char *const changelog[] = {"cleanup.policy", "compact", NULL};
    if (changelog_of_topic(topology, internal_topic) != NULL)
        return changelog;
    return internal_sink(topology, internal_topic) != NULL ? repartition : NULL;
}

void rill__topology_set_application_id(rill_topology_t *topology, const char *application_id)
{
    /* the same id again changes nothing, and frees no name a task may hold */
    if (g_strcmp0(topology->application_id, application_id) == 0)
        return;
    g_free(topology->application_id);
    topology->application_id = g_strdup(application_id);
    for (guint i = 0; i < topology->nodes->len; i++) {
        rill__node_t *node = g_ptr_array_index(topology->nodes, i);
        if (node->role == RILL__NODE_SOURCE && node->source.repartition_name != NULL) {
            g_free(node->source.topics[0]);
            node->source.topics[0] =
                rill__repartition_topic(application_id, node->source.repartition_name);
            node->source.topic = node->source.topics[0];
        }
        if (node->role == RILL__NODE_SINK && node->sink.repartition_name != NULL) {
            g_free(node->sink.topic);
            node->sink.topic = rill__repartition_topic(application_id, node->sink.repartition_name);
        }
    }
    fill_topic_lists(topology);
}

/* ---- describe ------------------------------------------------------------------ */

static void append_names(GString *out, const GPtrArray *nodes)
{
    for (guint i = 0; i < nodes->len; i++) {
        const rill__node_t *node = g_ptr_array_index(nodes, i);
        g_string_append_printf(out, "%s%s", i > 0 ? ", " : "", node->name);
    }
}

static void describe_text(GString *out, const rill_topology_t *topology)
{
    g_string_append(out, "Topologies:\n");
    for (int s = 0; s < topology->sub_count; s++) {
        const rill__subtopology_t *sub = &topology->subs[s];
        g_string_append_printf(out, "   Sub-topology: %d\n", s);
        for (guint i = 0; i < sub->nodes->len; i++) {
            const rill__node_t *node = g_ptr_array_index(sub->nodes, i);
            switch (node->role) {
            case RILL__NODE_SOURCE:
                g_string_append_printf(out, "    Source: %s (topics: [", node->name);
                for (char **t = node->source.topics; *t != NULL; t++)
                    g_string_append_printf(out, "%s%s", t != node->source.topics ? ", " : "", *t);
                g_string_append(out, "])\n");
                break;
            case RILL__NODE_PROCESSOR:
                g_string_append_printf(out, "    Processor: %s (stores: [", node->name);
                for (guint k = 0; k < node->stores->len; k++)
                    g_string_append_printf(out, "%s%s", k > 0 ? ", " : "",
                                           (const char *)g_ptr_array_index(node->stores, k));
                g_string_append(out, "])\n");
                break;
            case RILL__NODE_SINK:
                if (node->sink.topic != NULL)
                    g_string_append_printf(out, "    Sink: %s (topic: %s)\n", node->name,
                                           node->sink.topic);
                else
                    g_string_append_printf(out, "    Sink: %s (extractor class: chooser)\n",
                                           node->name);
                break;
            }
            if (node->children->len > 0) {
                g_string_append(out, "      --> ");
                append_names(out, node->children);
                g_string_append(out, "\n");
            } else if (node->role != RILL__NODE_SINK) {
                g_string_append(out, "      --> none\n");
            }
            if (node->parents->len > 0) {
                g_string_append(out, "      <-- ");
                append_names(out, node->parents);
                g_string_append(out, "\n");
            }
        }
        g_string_append(out, "\n");
    }
    /* global tables: no node, no task; one store per instance (runtime/global.h) */
    for (guint i = 0; topology->globals != NULL && i < topology->globals->len; i++) {
        const struct rill_global_table *spec = g_ptr_array_index(topology->globals, i);
        g_string_append_printf(out, "   Global store: %s (topic: %s)\n", spec->store,
                               spec->topic);
    }
}

/* A DOT id: the name quoted, with quotes and backslashes escaped. */
static void dot_id(GString *out, const char *prefix, const char *name)
{
    g_string_append_c(out, '"');
    g_string_append(out, prefix);
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(out, '\\');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

static void describe_dot(GString *out, const rill_topology_t *topology)
{
    g_string_append(out, "digraph topology {\n  rankdir=LR;\n  node [fontname=\"monospace\"];\n");
    GHashTable *topics = g_hash_table_new(g_str_hash, g_str_equal);
    for (int s = 0; s < topology->sub_count; s++) {
        const rill__subtopology_t *sub = &topology->subs[s];
        g_string_append_printf(out, "  subgraph cluster_%d {\n    label=\"Sub-topology %d\";\n", s,
                               s);
        for (guint i = 0; i < sub->nodes->len; i++) {
            const rill__node_t *node = g_ptr_array_index(sub->nodes, i);
            g_string_append(out, "    ");
            dot_id(out, "", node->name);
            g_string_append(out, node->role == RILL__NODE_PROCESSOR
                                     ? " [shape=box];\n"
                                     : " [shape=box, style=bold];\n");
        }
        g_string_append(out, "  }\n");
    }
    for (guint i = 0; i < topology->nodes->len; i++) {
        const rill__node_t *node = g_ptr_array_index(topology->nodes, i);
        const char *sink_topic[] = {
            node->sink.topic != NULL ? node->sink.topic : "(chosen per record)", NULL};
        const char *const *node_topics = node->role == RILL__NODE_SOURCE
                                             ? (const char *const *)node->source.topics
                                         : node->role == RILL__NODE_SINK ? sink_topic
                                                                         : NULL;
        for (const char *const *t = node_topics; t != NULL && *t != NULL; t++) {
            if (!g_hash_table_contains(topics, *t)) {
                g_hash_table_add(topics, (gpointer)*t);
                g_string_append(out, "  ");
                dot_id(out, "topic:", *t);
                g_string_append(out, " [shape=ellipse, label=");
                dot_id(out, "", *t);
                g_string_append(out, "];\n");
            }
            if (node->role == RILL__NODE_SOURCE) {
                g_string_append(out, "  ");
                dot_id(out, "topic:", *t);
                g_string_append(out, " -> ");
                dot_id(out, "", node->name);
                g_string_append(out, ";\n");
            }
        }
        const char *topic = sink_topic[0];
        for (guint c = 0; c < node->children->len; c++) {
            const rill__node_t *child = g_ptr_array_index(node->children, c);
            g_string_append(out, "  ");
            dot_id(out, "", node->name);
            g_string_append(out, " -> ");
            dot_id(out, "", child->name);
            g_string_append(out, ";\n");
        }
        if (node->role == RILL__NODE_SINK) {
            g_string_append(out, "  ");
            dot_id(out, "", node->name);
            g_string_append(out, " -> ");
            dot_id(out, "topic:", topic);
            g_string_append(out, ";\n");
        }
    }
    /* global tables: their topic feeds a store outside every sub-topology */
    for (guint i = 0; topology->globals != NULL && i < topology->globals->len; i++) {
        const struct rill_global_table *spec = g_ptr_array_index(topology->globals, i);
        g_string_append(out, "  ");
        dot_id(out, "topic:", spec->topic);
        g_string_append(out, " [shape=ellipse, label=");
        dot_id(out, "", spec->topic);
        g_string_append(out, "];\n  ");
        dot_id(out, "global:", spec->store);
        g_string_append(out, " [shape=cylinder, label=");
        dot_id(out, "global store ", spec->store);
        g_string_append(out, "];\n  ");
        dot_id(out, "topic:", spec->topic);
        g_string_append(out, " -> ");
        dot_id(out, "global:", spec->store);
        g_string_append(out, ";\n");
    }
    g_hash_table_destroy(topics);
    g_string_append(out, "}\n");
}

RILL_EXPORT char *rill_topology_describe(const rill_topology_t *topology,
                                         rill_describe_format_t format)
{
    if (topology == NULL)
        return NULL;
    GString *out = g_string_new(NULL);
    if (format == RILL_DESCRIBE_DOT)
        describe_dot(out, topology);
    else
        describe_text(out, topology);
    return g_string_free(out, FALSE);
}
