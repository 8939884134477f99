/* builder.c: rill_builder_t and stream handles: the graph the DSL builds.
 *
 * Design: the builder owns every node it creates until rill_builder_build()
 * moves them into the topology; stream handles point at nodes and stay owned
 * by the builder (they outlive the build, but accept no more operators).
 * Errors are sticky: the first bad DSL call records an error, later calls
 * on NULL streams return NULL, and build returns that error, so user code
 * checks once. Generated names take a counter shared by all nodes, as Kafka
 * Streams' "KSTREAM-FILTER-0000000001". */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include <rill/topology.h>

#include "runtime/global.h"
#include "runtime/node.h"
#include "runtime/topology-private.h"

struct rill_stream {
    rill_builder_t *builder;
    rill__node_t *node;
    bool key_changed;
};

typedef struct kept {
    void *ptr;
    void (*destroy)(void *ptr);
} kept_t;

struct rill_builder {
    GPtrArray *nodes;   /* rill__node_t *, owned until build */
    GPtrArray *streams; /* rill_stream_t *, owned */
    GArray *kept;       /* kept_t */
    GHashTable *names;  /* node name -> node (keys borrowed from nodes) */
    GHashTable *topics; /* source topic -> node (keys borrowed) */
    GPtrArray *globals; /* rill__global_spec_t *, owned (runtime/global.h) */
    const rill__globals_ops_t *globals_ops;
    rill_error_t *error;
    int next_id;
    bool built;
};

RILL_EXPORT rill_builder_t *rill_builder_new(void)
{
    rill_builder_t *builder = g_new0(rill_builder_t, 1);
    builder->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)rill__node_free);
    builder->streams = g_ptr_array_new_with_free_func(g_free);
    builder->kept = g_array_new(FALSE, FALSE, sizeof(kept_t));
    builder->names = g_hash_table_new(g_str_hash, g_str_equal);
    builder->topics = g_hash_table_new(g_str_hash, g_str_equal);
    builder->globals = g_ptr_array_new_with_free_func((GDestroyNotify)rill__global_spec_free);
    return builder;
}

RILL_EXPORT void rill_builder_destroy(rill_builder_t *builder)
{
    if (builder == NULL)
        return;
    g_hash_table_destroy(builder->names);
    g_hash_table_destroy(builder->topics);
    g_ptr_array_free(builder->globals, TRUE);
    g_ptr_array_free(builder->nodes, TRUE);
    g_ptr_array_free(builder->streams, TRUE);
    for (guint i = 0; i < builder->kept->len; i++) {
        kept_t *k = &g_array_index(builder->kept, kept_t, i);
        k->destroy(k->ptr);
    }
    g_array_free(builder->kept, TRUE);
    rill_error_destroy(builder->error);
    g_free(builder);
}

void rill__node_free(rill__node_t *node)
{
    if (node == NULL)
        return;
    if (node->ops != NULL && node->ops->config_free != NULL && node->config != NULL)
        node->ops->config_free(node->config);
    g_free(node->name);
    g_ptr_array_free(node->children, TRUE);
    g_ptr_array_free(node->parents, TRUE);
    g_ptr_array_free(node->stores, TRUE);
    g_strfreev(node->source.topics);
    g_free(node->source.repartition_name);
    rill_serde_unref(node->source.key_serde);
    rill_serde_unref(node->source.value_serde);
    g_free(node->sink.topic);
    g_free(node->sink.repartition_name);
    rill_serde_unref(node->sink.key_serde);
    rill_serde_unref(node->sink.value_serde);
    g_free(node);
}

static rill_err_t builder_fail_va(rill_builder_t *builder, rill_err_t code, const char *fmt,
                                  va_list ap)
{
    if (builder->error == NULL) {
        g_autofree char *msg = g_strdup_vprintf(fmt, ap);
        rill_error_set(&builder->error, code, "%s", msg);
    }
    return code;
}

static rill_err_t builder_fail(rill_builder_t *builder, rill_err_t code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rill_err_t builder_fail(rill_builder_t *builder, rill_err_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    builder_fail_va(builder, code, fmt, ap);
    va_end(ap);
    return code;
}

rill_err_t rill__builder_fail(rill_stream_t *stream, rill_err_t code, const char *fmt, ...)
{
    if (stream == NULL)
        return code;
    va_list ap;
    va_start(ap, fmt);
    builder_fail_va(stream->builder, code, fmt, ap);
    va_end(ap);
    return code;
}

bool rill__builder_open(rill_stream_t *stream)
{
    if (stream == NULL)
        return false;
    if (stream->builder->built) {
        builder_fail(stream->builder, RILL_ERR_INVALID_STATE,
                     "the builder has built its topology: it takes no more operators");
        return false;
    }
    return true;
}

static char *new_name(rill_builder_t *builder, const char *kind)
{
    return g_strdup_printf("KSTREAM-%s-%010d", kind, builder->next_id);
}

char *rill__builder_new_name(rill_stream_t *stream, const char *kind)
{
    char *name = new_name(stream->builder, kind);
    stream->builder->next_id++;
    return name;
}

/* A new node named name (or generated), or NULL (error recorded) if the name is taken. */
static rill__node_t *node_new(rill_builder_t *builder, rill__node_role_t role,
                              const rill__node_ops_t *ops, const char *name)
{
    g_autofree char *owned = name != NULL ? g_strdup(name) : new_name(builder, ops->kind);
    if (owned[0] == '\0') {
        builder_fail(builder, RILL_ERR_INVALID_ARG, "a processor name cannot be empty");
        return NULL;
    }
    if (g_hash_table_contains(builder->names, owned)) {
        builder_fail(builder, RILL_ERR_EXISTS, "a processor named '%s' exists already", owned);
        return NULL;
    }
    rill__node_t *node = g_new0(rill__node_t, 1);
    node->id = builder->next_id++;
    node->name = g_steal_pointer(&owned);
    node->role = role;
    node->ops = ops;
    node->children = g_ptr_array_new();
    node->parents = g_ptr_array_new();
    node->stores = g_ptr_array_new_with_free_func(g_free);
    node->subtopology = -1;
    g_ptr_array_add(builder->nodes, node);
    g_hash_table_insert(builder->names, node->name, node);
    return node;
}

static rill_stream_t *stream_new(rill_builder_t *builder, rill__node_t *node, bool key_changed)
{
    rill_stream_t *stream = g_new0(rill_stream_t, 1);
    stream->builder = builder;
    stream->node = node;
    stream->key_changed = key_changed;
    g_ptr_array_add(builder->streams, stream);
    return stream;
}

static void link_nodes(rill__node_t *parent, rill__node_t *child)
{
    g_ptr_array_add(parent->children, child);
    g_ptr_array_add(child->parents, parent);
}

bool rill__topic_name_valid(const char *name)
{
    size_t len = name != NULL ? strlen(name) : 0;
    if (len == 0 || len > 249 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!g_ascii_isalnum(name[i]) && name[i] != '.' && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

static bool global_topic(const rill_builder_t *builder, const char *topic)
{
    for (guint i = 0; i < builder->globals->len; i++)
        if (strcmp(((rill__global_spec_t *)g_ptr_array_index(builder->globals, i))->topic,
                   topic) == 0)
            return true;
    return false;
}

rill__global_spec_t *rill__builder_add_global(rill_builder_t *builder, const char *topic,
                                              const char *name, const rill_serde_t *key_serde,
                                              const rill_serde_t *value_serde, bool in_memory,
                                              const rill__globals_ops_t *ops)
{
    if (builder->built) {
        builder_fail(builder, RILL_ERR_INVALID_STATE,
                     "the builder has built its topology: it takes no more global tables");
        return NULL;
    }
    if (!rill__topic_name_valid(topic)) {
        builder_fail(builder, RILL_ERR_INVALID_ARG,
                     "rill_builder_global_table: '%s' is not a valid topic name",
                     topic != NULL ? topic : "(null)");
        return NULL;
    }
    if (g_hash_table_contains(builder->topics, topic) || global_topic(builder, topic)) {
        builder_fail(builder, RILL_ERR_EXISTS,
                     "topic '%s' is already read by another source of this topology", topic);
        return NULL;
    }
    g_autofree char *store =
        name != NULL ? g_strdup(name)
                     : g_strdup_printf("%s-STATE-STORE-%010d", topic, builder->next_id++);
    if (!rill__topic_name_valid(store)) { /* names a directory: keep it a plain name */
        builder_fail(builder, RILL_ERR_INVALID_ARG,
                     "global table store name '%s' must be 1-249 of [a-zA-Z0-9._-]", store);
        return NULL;
    }
    for (guint i = 0; i < builder->globals->len; i++)
        if (strcmp(((rill__global_spec_t *)g_ptr_array_index(builder->globals, i))->store,
                   store) == 0) {
            builder_fail(builder, RILL_ERR_EXISTS, "a global store named '%s' exists already",
                         store);
            return NULL;
        }
    rill__global_spec_t *spec = g_new0(rill__global_spec_t, 1);
    spec->topic = g_strdup(topic);
    spec->store = g_steal_pointer(&store);
    spec->key_serde = key_serde != NULL ? rill_serde_ref(key_serde) : NULL;
    spec->value_serde = value_serde != NULL ? rill_serde_ref(value_serde) : NULL;
    spec->in_memory = in_memory;
    g_ptr_array_add(builder->globals, spec);
    builder->globals_ops = ops;
    return spec;
}

static rill_stream_t *add_source(rill_builder_t *builder, const char *const *topics,
                                 const char *repartition_name, const rill_consumed_t *consumed)
{
    const char *topic = topics[0];
    static const rill_consumed_t defaults;
    if (consumed == NULL)
        consumed = &defaults;
    if (consumed->timestamp == RILL_TIMESTAMP_USER && consumed->timestamp_fn == NULL) {
        builder_fail(builder, RILL_ERR_INVALID_ARG,
                     "source '%s': RILL_TIMESTAMP_USER needs a timestamp_fn", topic);
        return NULL;
    }
    if ((unsigned)consumed->timestamp > RILL_TIMESTAMP_USER) {
        builder_fail(builder, RILL_ERR_INVALID_ARG, "source '%s': unknown timestamp kind %d", topic,
                     (int)consumed->timestamp);
        return NULL;
    }
    for (const char *const *t = topics; *t != NULL; t++) {
        if (g_hash_table_contains(builder->topics, *t) || global_topic(builder, *t)) {
            builder_fail(builder, RILL_ERR_EXISTS,
                         "topic '%s' is already read by another source of this topology", *t);
            return NULL;
        }
        for (const char *const *u = topics; u != t; u++)
            if (strcmp(*u, *t) == 0) {
                builder_fail(builder, RILL_ERR_EXISTS, "topic '%s' is listed twice", *t);
                return NULL;
            }
    }
    rill__node_t *node = node_new(builder, RILL__NODE_SOURCE, &rill__source_ops, consumed->name);
    if (node == NULL)
        return NULL;
    node->source.topics = g_strdupv((char **)topics);
    node->source.topic = node->source.topics[0];
    node->source.repartition_name = g_strdup(repartition_name);
    node->source.key_serde = rill_serde_ref(consumed->key_serde); /* NULL: the app's default */
    node->source.value_serde = rill_serde_ref(consumed->value_serde);
    node->source.timestamp = consumed->timestamp;
    node->source.timestamp_fn = consumed->timestamp_fn;
    node->source.timestamp_user_data = consumed->timestamp_user_data;
    for (char **t = node->source.topics; *t != NULL; t++)
        g_hash_table_insert(builder->topics, *t, node);
    return stream_new(builder, node, false);
}

RILL_EXPORT rill_stream_t *rill_builder_stream(rill_builder_t *builder, const char *topic,
                                               const rill_consumed_t *consumed)
{
    if (builder == NULL)
        return NULL;
    if (builder->built) {
        builder_fail(builder, RILL_ERR_INVALID_STATE,
                     "the builder has built its topology: it takes no more streams");
        return NULL;
    }
    if (!rill__topic_name_valid(topic)) {
        builder_fail(builder, RILL_ERR_INVALID_ARG,
                     "rill_builder_stream: '%s' is not a valid topic name (1-249 characters "
                     "of a-z A-Z 0-9 . _ -)",
                     topic != NULL ? topic : "(null)");
        return NULL;
    }
    const char *topics[] = {topic, NULL};
    return add_source(builder, topics, NULL, consumed);
}

RILL_EXPORT rill_stream_t *rill_builder_stream_topics(rill_builder_t *builder,
                                                      const char *const *topics,
                                                      const rill_consumed_t *consumed)
{
    if (builder == NULL)
        return NULL;
    if (builder->built) {
        builder_fail(builder, RILL_ERR_INVALID_STATE,
                     "the builder has built its topology: it takes no more streams");
        return NULL;
    }
    if (topics == NULL || topics[0] == NULL) {
        builder_fail(builder, RILL_ERR_INVALID_ARG,
                     "rill_builder_stream_topics: at least one topic is required");
        return NULL;
    }
    for (const char *const *t = topics; *t != NULL; t++)
        if (!rill__topic_name_valid(*t)) {
            builder_fail(builder, RILL_ERR_INVALID_ARG,
                         "rill_builder_stream_topics: '%s' is not a valid topic name (1-249 "
                         "characters of a-z A-Z 0-9 . _ -)",
                         *t);
            return NULL;
        }
    return add_source(builder, topics, NULL, consumed);
}

rill_stream_t *rill__builder_add_processor(rill_stream_t *const *parents, int parent_count,
                                           const rill__node_ops_t *ops, void *config,
                                           const char *name, bool key_changed)
{
    rill_builder_t *builder = NULL;
    for (int i = 0; i < parent_count; i++) {
        if (parents[i] == NULL || !rill__builder_open(parents[i]))
            goto fail;
        if (builder == NULL)
            builder = parents[i]->builder;
        else if (parents[i]->builder != builder) {
            builder_fail(builder, RILL_ERR_INVALID_ARG,
                         "%s: streams of different builders cannot be combined", ops->kind);
            goto fail;
        }
        key_changed = key_changed || parents[i]->key_changed;
    }
    if (builder == NULL)
        goto fail;
    rill__node_t *node = node_new(builder, RILL__NODE_PROCESSOR, ops, name);
    if (node == NULL)
        goto fail;
    node->config = config;
    for (int i = 0; i < parent_count; i++)
        link_nodes(parents[i]->node, node);
    return stream_new(builder, node, key_changed);
fail:
    if (config != NULL && ops->config_free != NULL)
        ops->config_free(config);
    return NULL;
}

static void sink_spec_clear(rill__sink_spec_t *spec)
{
    g_free(spec->topic);
    g_free(spec->repartition_name);
    rill_serde_unref(spec->key_serde);
    rill_serde_unref(spec->value_serde);
    memset(spec, 0, sizeof *spec);
}

rill_err_t rill__builder_add_sink(rill_stream_t *stream, rill__sink_spec_t *spec, const char *name)
{
    if (stream == NULL) {
        sink_spec_clear(spec);
        return RILL_ERR_INVALID_ARG;
    }
    if (!rill__builder_open(stream)) {
        sink_spec_clear(spec);
        return RILL_ERR_INVALID_STATE;
    }
    rill__node_t *node = node_new(stream->builder, RILL__NODE_SINK, &rill__sink_ops, name);
    if (node == NULL) {
        sink_spec_clear(spec);
        return rill_error_code(stream->builder->error);
    }
    node->sink = *spec;
    memset(spec, 0, sizeof *spec);
    link_nodes(stream->node, node);
    return RILL_OK;
}

rill_stream_t *rill__builder_add_repartition_source(rill_stream_t *upstream, const char *topic_name,
                                                    const rill_serde_t *key_serde,
                                                    const rill_serde_t *value_serde,
                                                    const char *source_name)
{
    if (upstream == NULL || !rill__builder_open(upstream))
        return NULL;
    g_autofree char *topic = rill__repartition_topic(NULL, topic_name);
    const char *topics[] = {topic, NULL};
    rill_consumed_t consumed = {
        .key_serde = key_serde,
        .value_serde = value_serde,
        .timestamp = RILL_TIMESTAMP_RECORD,
        .name = source_name,
    };
    return add_source(upstream->builder, topics, topic_name, &consumed);
}

void rill__builder_keep(rill_stream_t *stream, void *ptr, void (*destroy)(void *ptr))
{
    kept_t k = {ptr, destroy};
    g_array_append_val(stream->builder->kept, k);
}

rill__node_t *rill__stream_node(rill_stream_t *stream)
{
    return stream != NULL ? stream->node : NULL;
}

bool rill__stream_key_changed(const rill_stream_t *stream)
{
    return stream != NULL && stream->key_changed;
}

void rill__stream_source_serdes(rill_stream_t *stream, const rill_serde_t **key_serde,
                                const rill_serde_t **value_serde)
{
    *key_serde = NULL;
    *value_serde = NULL;
    const rill__node_t *node = stream != NULL ? stream->node : NULL;
    while (node != NULL && node->role != RILL__NODE_SOURCE)
        node = node->parents->len > 0 ? g_ptr_array_index(node->parents, 0) : NULL;
    if (node != NULL) {
        *key_serde = node->source.key_serde;
        *value_serde = node->source.value_serde;
    }
}

RILL_EXPORT rill_topology_t *rill_builder_build(rill_builder_t *builder, rill_error_t **error)
{
    if (builder == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_builder_build: builder is NULL");
        return NULL;
    }
    if (builder->error != NULL) {
        if (error != NULL && *error == NULL)
            *error = rill_error_copy(builder->error);
        rill_error_prefix(error, "building the topology: ");
        return NULL;
    }
    if (builder->built) {
        rill_error_set(error, RILL_ERR_INVALID_STATE,
                       "building the topology: this builder has built its topology already");
        return NULL;
    }
    /* move the nodes out: the topology owns them from now on */
    GPtrArray *nodes = g_ptr_array_new_with_free_func((GDestroyNotify)rill__node_free);
    for (guint i = 0; i < builder->nodes->len; i++)
        g_ptr_array_add(nodes, g_ptr_array_index(builder->nodes, i));
    g_ptr_array_set_free_func(builder->nodes, NULL);
    g_ptr_array_set_size(builder->nodes, 0);
    g_ptr_array_set_free_func(builder->nodes, (GDestroyNotify)rill__node_free);
    g_hash_table_remove_all(builder->names);
    g_hash_table_remove_all(builder->topics);
    builder->built = true;
    rill_topology_t *topology = rill__topology_new(nodes, error);
    if (topology == NULL) {
        rill_error_prefix(error, "building the topology: ");
        return NULL;
    }
    /* global tables: copies, so that the topology may outlive the builder */
    topology->globals = g_ptr_array_new_with_free_func((GDestroyNotify)rill__global_spec_free);
    topology->globals_ops = builder->globals_ops;
    for (guint i = 0; i < builder->globals->len; i++) {
        const rill__global_spec_t *spec = g_ptr_array_index(builder->globals, i);
        if (rill__topology_changelog(topology, spec->store) != NULL) {
            rill_error_set(error, RILL_ERR_EXISTS,
                           "building the topology: global store '%s' has the name of a state "
                           "store of the topology", spec->store);
            rill_topology_destroy(topology);
            return NULL;
        }
        g_ptr_array_add(topology->globals, rill__global_spec_copy(spec));
    }
    return topology;
}
