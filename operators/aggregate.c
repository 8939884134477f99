/* aggregate.c: groupByKey / groupBy and the rolling aggregations count, reduce, aggregate (→ a table).
 *
 * A grouping is a stream known to be partitioned by its key: groupByKey
 * repartitions only if the key changed upstream, groupBy always (selectKey +
 * repartition, runtime-core's mechanism). The aggregation node keeps one
 * state store per task (operators/state.h): for each record it reads the
 * key's aggregate, computes the new one and writes it; the store's caching
 * layer forwards (key, new, old) when it flushes (at once with caching off,
 * at commit or eviction with caching on), and the node sends that
 * downstream as a table update (rill__change_t). Records with a null key or
 * a null value are skipped, as Kafka Streams does. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/table.h>

#include "common/buf.h"
#include "operators/state.h"
#include "runtime/serde-private.h"

typedef enum agg_kind { AGG_COUNT, AGG_REDUCE, AGG_AGGREGATE } agg_kind_t;

struct rill_grouped {
    rill_stream_t *stream;
};

struct rill_table {
    rill_stream_t *stream; /* the node whose records carry rill__change_t values */
};

typedef struct agg_config {
    agg_kind_t kind;
    char *store;
    bool in_memory;
    rill_serde_t *key_serde; /* NULL: the source's, else the task's default */
    rill_serde_t *value_serde;
    rill_reducer_fn reducer;
    rill_initializer_fn initializer;
    rill_aggregator_fn adder;
    void *user_data;
} agg_config_t;

/* Per task. */
typedef struct agg_state {
    rill__pnode_t *pnode;
    rill__kv_store_t *store;
    const rill_serde_t *key_serde;
    const rill_serde_t *value_serde;
    rill_buffer_t key_out, value_out; /* serialized key and aggregate */
    rill_wbuf_t old_scratch;          /* deserialized old aggregate */
    rill_wbuf_t f_key, f_new, f_old;  /* what forward deserializes */
    bool closing;
} agg_state_t;

static void agg_config_free(void *p)
{
    agg_config_t *config = p;
    g_free(config->store);
    if (config->key_serde != NULL)
        rill_serde_unref(config->key_serde);
    if (config->value_serde != NULL)
        rill_serde_unref(config->value_serde);
    g_free(config);
}

static void agg_state_destroy(void *p)
{
    agg_state_t *agg = p;
    rill__wbuf_free(&agg->key_out.wbuf);
    rill__wbuf_free(&agg->value_out.wbuf);
    rill__wbuf_free(&agg->old_scratch);
    rill__wbuf_free(&agg->f_key);
    rill__wbuf_free(&agg->f_new);
    rill__wbuf_free(&agg->f_old);
    g_free(agg);
}

/* The cache flushed (key, new, old): send it downstream as a table update. */
static rill_err_t agg_forward(void *ud, const void *key, size_t key_len, GBytes *new_value,
                              GBytes *old_value, int64_t timestamp, rill_error_t **error)
{
    agg_state_t *agg = ud;
    if (agg->closing) /* the task is going away: nothing downstream any more */
        return RILL_OK;
    rill__change_t change = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    rill_record_t record = {
        .key = RILL__VALUE_NULL_INIT,
        .value = RILL__VALUE_NULL_INIT,
        .timestamp = timestamp,
        .partition = rill__pnode_partition(agg->pnode),
        .offset = -1,
    };
    rill_err_t err =
        rill__serde_deserialize(agg->key_serde, key, key_len, &record.key, &agg->f_key, error);
    gsize len = 0;
    const void *data;
    if (err == RILL_OK && new_value != NULL) {
        data = g_bytes_get_data(new_value, &len);
        err = rill__serde_deserialize(agg->value_serde, data != NULL ? data : "", len,
                                      &change.new_value, &agg->f_new, error);
    }
    if (err == RILL_OK && old_value != NULL) {
        data = g_bytes_get_data(old_value, &len);
        err = rill__serde_deserialize(agg->value_serde, data != NULL ? data : "", len,
                                      &change.old_value, &agg->f_old, error);
    }
    if (err == RILL_OK) {
        record.value.type = RILL_VALUE_POINTER;
        record.value.ptr = &change;
        record.value.len = sizeof change;
        err = rill__pnode_forward(agg->pnode, &record, error);
        record.value.ptr = NULL;
        record.value.type = RILL_VALUE_NULL;
    }
    rill__value_clear(&change.new_value);
    rill__value_clear(&change.old_value);
    rill__record_release(&record);
    return err;
}

static rill_err_t agg_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const agg_config_t *config = pnode->node->config;
    const rill__task_env_t *env = rill__task_env(pnode->task);
    agg_state_t *agg = g_new0(agg_state_t, 1);
    agg->pnode = pnode;
    agg->key_serde = config->key_serde != NULL ? config->key_serde
                     : env->default_key_serde != NULL ? env->default_key_serde
                                                      : rill_serde_bytes();
    agg->value_serde = config->value_serde != NULL ? config->value_serde
                       : config->kind == AGG_COUNT ? rill_serde_int64()
                       : env->default_value_serde != NULL ? env->default_value_serde
                                                          : rill_serde_bytes();
    rill__wbuf_init(&agg->key_out.wbuf, 0);
    rill__wbuf_init(&agg->value_out.wbuf, 0);
    rill__wbuf_init(&agg->old_scratch, 0);
    rill__wbuf_init(&agg->f_key, 0);
    rill__wbuf_init(&agg->f_new, 0);
    rill__wbuf_init(&agg->f_old, 0);
    agg->store = rill__state_store(pnode, config->store, config->in_memory, agg_forward, agg, error);
    if (agg->store == NULL) {
        agg_state_destroy(agg);
        return RILL_ERR_STORE;
    }
    pnode->state = agg;
    rill__state_defer_free(pnode, agg, agg_state_destroy);
    return RILL_OK;
}

static void agg_state_free(rill__pnode_t *pnode)
{
    agg_state_t *agg = pnode->state;
    agg->closing = true; /* freed once the stores are closed (rill__state_defer_free) */
}

static rill_err_t agg_flush(rill__pnode_t *pnode, rill_error_t **error)
{
    agg_state_t *agg = pnode->state;
    return rill__kv_flush(agg->store, error);
}

static rill_err_t agg_process(rill__pnode_t *pnode, const rill_record_t *record,
                              rill_error_t **error)
{
    const agg_config_t *config = pnode->node->config;
    agg_state_t *agg = pnode->state;
    if (record->key.type == RILL_VALUE_NULL || record->value.type == RILL_VALUE_NULL)
        return RILL_OK;
    const void *key, *data;
    size_t key_len, len;
    rill_err_t err =
        rill__serde_serialize(agg->key_serde, &record->key, &agg->key_out, &key, &key_len, error);
    if (err != RILL_OK)
        return err;
    GBytes *old_bytes = NULL;
    if ((err = rill__kv_get(agg->store, key, key_len, &old_bytes, error)) != RILL_OK)
        return err;
    rill_value_t old = RILL__VALUE_NULL_INIT, out = RILL__VALUE_NULL_INIT;
    if (old_bytes != NULL) {
        gsize n;
        const void *p = g_bytes_get_data(old_bytes, &n);
        err = rill__serde_deserialize(agg->value_serde, p != NULL ? p : "", n, &old,
                                      &agg->old_scratch, error);
    }
    if (err == RILL_OK) {
        switch (config->kind) {
        case AGG_COUNT:
            rill_value_set_int64(&out, rill_value_int64(&old) + 1);
            break;
        case AGG_REDUCE:
            if (old.type == RILL_VALUE_NULL)
                rill__value_view(&out, &record->value);
            else
                err = config->reducer(&old, &record->value, &out, config->user_data, error);
            break;
        case AGG_AGGREGATE:
            if (old.type == RILL_VALUE_NULL)
                err = config->initializer(&old, config->user_data, error);
            if (err == RILL_OK)
                err = config->adder(&record->key, &record->value, &old, &out, config->user_data,
                                    error);
            break;
        }
    }
    if (err == RILL_OK && out.type == RILL_VALUE_NULL)
        err = rill_error_set(error, RILL_ERR_USER, "the aggregator returned a null aggregate");
    if (err == RILL_OK)
        err = rill__serde_serialize(agg->value_serde, &out, &agg->value_out, &data, &len, error);
    if (err == RILL_OK)
        err = rill__kv_put(agg->store, key, key_len, data != NULL ? data : "", len,
                           record->timestamp, error);
    rill__value_clear(&old);
    rill__value_clear(&out);
    if (old_bytes != NULL)
        g_bytes_unref(old_bytes);
    return err;
}

static const rill__node_ops_t agg_ops = {
    .kind = "AGGREGATE",
    .process = agg_process,
    .init = agg_init,
    .state_free = agg_state_free,
    .flush = agg_flush,
    .config_free = agg_config_free,
    .stateful = true,
};

/* ---- the DSL ------------------------------------------------------------------ */

static rill_grouped_t *grouped_new(rill_stream_t *stream)
{
    rill_grouped_t *grouped = g_new0(rill_grouped_t, 1);
    grouped->stream = stream;
    rill__builder_keep(stream, grouped, g_free);
    return grouped;
}

RILL_EXPORT rill_grouped_t *rill_stream_group_by_key(rill_stream_t *stream,
                                                     const rill_grouped_opts_t *opts)
{
    if (stream == NULL || !rill__builder_open(stream))
        return NULL;
    if (rill__stream_key_changed(stream)) {
        rill_produced_t produced = {0};
        if (opts != NULL) {
            produced.key_serde = opts->key_serde;
            produced.value_serde = opts->value_serde;
            produced.name = opts->name;
        }
        stream = rill_stream_repartition(stream, &produced);
        if (stream == NULL)
            return NULL;
    }
    return grouped_new(stream);
}

RILL_EXPORT rill_grouped_t *rill_stream_group_by(rill_stream_t *stream, rill_map_one_fn fn,
                                                 void *user_data, const rill_grouped_opts_t *opts)
{
    if (stream != NULL && fn == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "rill_stream_group_by: fn is required");
        return NULL;
    }
    rill_stream_t *keyed = rill_stream_select_key(stream, fn, user_data, NULL);
    return keyed != NULL ? rill_stream_group_by_key(keyed, opts) : NULL;
}

static rill_table_t *add_aggregate(rill_grouped_t *grouped, agg_config_t *config,
                                   const rill_materialized_t *materialized)
{
    rill_stream_t *stream = grouped->stream;
    const rill_serde_t *source_key = NULL, *source_value = NULL;
    rill__stream_source_serdes(stream, &source_key, &source_value);
    const rill_serde_t *key_serde = materialized != NULL && materialized->key_serde != NULL
                                        ? materialized->key_serde
                                        : source_key;
    const rill_serde_t *value_serde = materialized != NULL && materialized->value_serde != NULL
                                          ? materialized->value_serde
                                      : config->kind == AGG_COUNT ? NULL
                                                                  : source_value;
    config->key_serde = key_serde != NULL ? rill_serde_ref(key_serde) : NULL;
    config->value_serde = value_serde != NULL ? rill_serde_ref(value_serde) : NULL;
    config->in_memory = materialized != NULL && materialized->in_memory;
    char *node_name = NULL;
    if (materialized != NULL && materialized->name != NULL) {
        if (!rill__topic_name_valid(materialized->name)) {
            agg_config_free(config);
            rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                               "store name '%s' is not usable in a topic name", materialized->name);
            return NULL;
        }
        config->store = g_strdup(materialized->name);
    } else {
        node_name = rill__builder_new_name(stream, "AGGREGATE");
        config->store = g_strdup_printf("%s-STATE-STORE", node_name);
    }
    g_autofree char *store = g_strdup(config->store);
    rill_stream_t *out = rill__builder_add_processor(&stream, 1, &agg_ops, config, node_name, false);
    g_free(node_name);
    if (out == NULL)
        return NULL;
    g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store));
    rill_table_t *table = g_new0(rill_table_t, 1);
    table->stream = out;
    rill__builder_keep(out, table, g_free);
    return table;
}

RILL_EXPORT rill_table_t *rill_grouped_count(rill_grouped_t *grouped,
                                             const rill_materialized_t *materialized)
{
    if (grouped == NULL)
        return NULL;
    agg_config_t *config = g_new0(agg_config_t, 1);
    config->kind = AGG_COUNT;
    return add_aggregate(grouped, config, materialized);
}

RILL_EXPORT rill_table_t *rill_grouped_reduce(rill_grouped_t *grouped, rill_reducer_fn reducer,
                                              void *user_data,
                                              const rill_materialized_t *materialized)
{
    if (grouped == NULL)
        return NULL;
    if (reducer == NULL) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "rill_grouped_reduce: a reducer is required");
        return NULL;
    }
    agg_config_t *config = g_new0(agg_config_t, 1);
    config->kind = AGG_REDUCE;
    config->reducer = reducer;
    config->user_data = user_data;
    return add_aggregate(grouped, config, materialized);
}

RILL_EXPORT rill_table_t *rill_grouped_aggregate(rill_grouped_t *grouped,
                                                 rill_initializer_fn initializer,
                                                 rill_aggregator_fn adder, void *user_data,
                                                 const rill_materialized_t *materialized)
{
    if (grouped == NULL)
        return NULL;
    if (initializer == NULL || adder == NULL) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "rill_grouped_aggregate: an initializer and an adder are required");
        return NULL;
    }
    agg_config_t *config = g_new0(agg_config_t, 1);
    config->kind = AGG_AGGREGATE;
    config->initializer = initializer;
    config->adder = adder;
    config->user_data = user_data;
    return add_aggregate(grouped, config, materialized);
}

/* ---- toStream ------------------------------------------------------------------ */

static rill_err_t to_stream_process(rill__pnode_t *pnode, const rill_record_t *record,
                                    rill_error_t **error)
{
    const rill__change_t *change = record->value.ptr;
    rill_record_t out;
    rill__record_derive(&out, record);
    rill__value_view(&out.value, &change->new_value);
    return rill__pnode_forward(pnode, &out, error);
}

static const rill__node_ops_t to_stream_ops = {
    .kind = "TOSTREAM",
    .process = to_stream_process,
};

RILL_EXPORT rill_stream_t *rill_table_to_stream(rill_table_t *table, const char *name)
{
    if (table == NULL)
        return NULL;
    return rill__builder_add_processor(&table->stream, 1, &to_stream_ops, NULL, name, false);
}
