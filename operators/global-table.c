/* global-table.c: the DSL of global tables: rill_builder_global_table and
 * the stream–global-table join (rill/global.h).
 *
 * A global table is not a node: the builder records its spec
 * (runtime/global.c) and the runtime keeps its store outside the tasks. The
 * join is a plain processor below the stream (no link to the table, no
 * co-partitioning): per record it calls the key extractor, serializes the
 * key with the table's key serde, reads the global store through
 * env.globals (a read lock per get, see runtime/global.h), deserializes the
 * value with the table's value serde and calls the joiner.
 *
 *     record ─► key_extractor ─► null? ──inner──► dropped
 *                    │             └──left───► joiner(record, null)
 *                    ▼
 *             get(global store) ─► absent? ──inner──► dropped
 *                    │                └──left───► joiner(record, null)
 *                    ▼
 *             joiner(record, value) ─► forward (record's key and time) */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/global.h>

#include "common/buf.h"
#include "runtime/global.h"
#include "runtime/node.h"
#include "runtime/serde-private.h"

RILL_EXPORT rill_global_table_t *rill_builder_global_table(rill_builder_t *builder,
                                                           const char *topic,
                                                           const rill_consumed_t *consumed,
                                                           const rill_materialized_t *materialized)
{
    if (builder == NULL)
        return NULL;
    const rill_serde_t *key_serde = consumed != NULL ? consumed->key_serde : NULL;
    const rill_serde_t *value_serde = consumed != NULL ? consumed->value_serde : NULL;
    if (materialized != NULL && materialized->key_serde != NULL)
        key_serde = materialized->key_serde;
    if (materialized != NULL && materialized->value_serde != NULL)
        value_serde = materialized->value_serde;
    return rill__builder_add_global(
        builder, topic, materialized != NULL ? materialized->name : NULL, key_serde, value_serde,
        materialized != NULL && materialized->in_memory, &rill__globals_ops);
}

/* ---- the join ----------------------------------------------------------------- */

typedef struct gjoin_config {
    rill_map_one_fn key_extractor;
    rill_value_joiner_fn joiner;
    void *user_data;
    bool left;
    char *store;
    rill_serde_t *key_serde; /* NULL: the task's default */
    rill_serde_t *value_serde;
} gjoin_config_t;

typedef struct gjoin_state {
    rill__globals_t *globals; /* borrowed from the task's env */
    const rill_serde_t *key_serde, *value_serde;
    rill_buffer_t key_out;
    rill_wbuf_t value_scratch;
} gjoin_state_t;

static void gjoin_config_free(void *p)
{
    gjoin_config_t *config = p;
    g_free(config->store);
    if (config->key_serde != NULL)
        rill_serde_unref(config->key_serde);
    if (config->value_serde != NULL)
        rill_serde_unref(config->value_serde);
    g_free(config);
}

static rill_err_t gjoin_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const gjoin_config_t *config = pnode->node->config;
    const rill__task_env_t *env = rill__task_env(pnode->task);
    if (env->globals == NULL || !rill__globals_has_store(env->globals, config->store))
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "join %s: the global store '%s' is not open in this runtime",
                              pnode->node->name, config->store);
    gjoin_state_t *join = g_new0(gjoin_state_t, 1);
    join->globals = env->globals;
    join->key_serde = config->key_serde != NULL        ? config->key_serde
                      : env->default_key_serde != NULL ? env->default_key_serde
                                                       : rill_serde_bytes();
    join->value_serde = config->value_serde != NULL        ? config->value_serde
                        : env->default_value_serde != NULL ? env->default_value_serde
                                                           : rill_serde_bytes();
    rill__wbuf_init(&join->key_out.wbuf, 0);
    rill__wbuf_init(&join->value_scratch, 0);
    pnode->state = join;
    return RILL_OK;
}

static void gjoin_state_free(rill__pnode_t *pnode)
{
    gjoin_state_t *join = pnode->state;
    rill__wbuf_free(&join->key_out.wbuf);
    rill__wbuf_free(&join->value_scratch);
    g_free(join);
}

/* The table's value for the record's extracted key: *bytes NULL if the key
 * is null or absent. */
static rill_err_t lookup(const gjoin_config_t *config, gjoin_state_t *join,
                         const rill_record_t *record, GBytes **bytes, rill_error_t **error)
{
    *bytes = NULL;
    rill_value_t key = RILL__VALUE_NULL_INIT;
    rill_err_t err = config->key_extractor(record, &key, config->user_data, error);
    if (err == RILL_OK && key.type != RILL_VALUE_NULL) {
        const void *data;
        size_t len;
        err = rill__serde_serialize(join->key_serde, &key, &join->key_out, &data, &len, error);
        if (err == RILL_OK)
            err = rill__globals_get(join->globals, config->store, data, len, bytes, error);
    }
    rill__value_clear(&key);
    return err;
}

static rill_err_t gjoin_process(rill__pnode_t *pnode, const rill_record_t *record,
                                rill_error_t **error)
{
    const gjoin_config_t *config = pnode->node->config;
    gjoin_state_t *join = pnode->state;
    GBytes *bytes = NULL;
    rill_err_t err = lookup(config, join, record, &bytes, error);
    if (err != RILL_OK)
        return err;
    rill_value_t table_value = RILL__VALUE_NULL_INIT, out = RILL__VALUE_NULL_INIT;
    if (bytes != NULL) {
        gsize len;
        const void *data = g_bytes_get_data(bytes, &len);
        err = rill__serde_deserialize(join->value_serde, data != NULL ? data : "", len,
                                      &table_value, &join->value_scratch, error);
    }
    if (err == RILL_OK && (bytes != NULL || config->left)) {
        err = config->joiner(record, &table_value, &out, config->user_data, error);
        if (err == RILL_OK) {
            rill_record_t fwd;
            rill__record_derive(&fwd, record);
            rill__value_view(&fwd.value, &out);
            err = rill__pnode_forward(pnode, &fwd, error);
        }
    }
    rill__value_clear(&out);
    rill__value_clear(&table_value);
    if (bytes != NULL)
        g_bytes_unref(bytes);
    return err;
}

static const rill__node_ops_t gjoin_ops = {
    .kind = "KSTREAM-GLOBAL-JOIN",
    .process = gjoin_process,
    .init = gjoin_init,
    .state_free = gjoin_state_free,
    .config_free = gjoin_config_free,
};

static rill_stream_t *add_join(rill_stream_t *stream, rill_global_table_t *table,
                               rill_map_one_fn key_extractor, rill_value_joiner_fn joiner,
                               void *user_data, const char *name, bool left)
{
    if (stream == NULL)
        return NULL;
    if (table == NULL || key_extractor == NULL || joiner == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "stream-global-table join: %s is required",
                           table == NULL           ? "a global table"
                           : key_extractor == NULL ? "a key extractor"
                                                   : "a joiner");
        return NULL;
    }
    gjoin_config_t *config = g_new0(gjoin_config_t, 1);
    config->key_extractor = key_extractor;
    config->joiner = joiner;
    config->user_data = user_data;
    config->left = left;
    config->store = g_strdup(table->store);
    config->key_serde = table->key_serde != NULL ? rill_serde_ref(table->key_serde) : NULL;
    config->value_serde = table->value_serde != NULL ? rill_serde_ref(table->value_serde) : NULL;
    g_autofree char *store = g_strdup(table->store);
    rill_stream_t *out = rill__builder_add_processor(&stream, 1, &gjoin_ops, config, name, false);
    if (out != NULL)
        g_ptr_array_add(rill__stream_node(out)->stores, g_steal_pointer(&store));
    return out;
}

RILL_EXPORT rill_stream_t *rill_stream_join_global(rill_stream_t *stream,
                                                   rill_global_table_t *table,
                                                   rill_map_one_fn key_extractor,
                                                   rill_value_joiner_fn joiner, void *user_data,
                                                   const char *name)
{
    return add_join(stream, table, key_extractor, joiner, user_data, name, false);
}

RILL_EXPORT rill_stream_t *rill_stream_left_join_global(rill_stream_t *stream,
                                                        rill_global_table_t *table,
                                                        rill_map_one_fn key_extractor,
                                                        rill_value_joiner_fn joiner,
                                                        void *user_data, const char *name)
{
    return add_join(stream, table, key_extractor, joiner, user_data, name, true);
}
