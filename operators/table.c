/* table.c: table filter / mapValues (forwarding (new, old) pairs) and the stream-table join (enrich).
 *
 * Table operators receive records whose value is a rill__change_t (state.h)
 * and forward the same. filter maps each side to itself or to null (a row
 * that stops matching becomes a deletion downstream, as Kafka Streams'
 * KTableFilter); a change whose two sides are both null is dropped.
 *
 * The join node is a child of the stream, and of a "lookup link" below the
 * table that forwards nothing: the link only puts the table's node and the
 * join in one sub-topology (so one task holds both, and the join reads the
 * table's store) without table updates reaching the join. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include <rill/table.h>

#include "common/buf.h"
#include "common/log.h"
#include "operators/callback.h"
#include "operators/state.h"
#include "runtime/serde-private.h"

/* ---- filter / mapValues ------------------------------------------------------- */

typedef struct table_op {
    rill__callback_t callback; /* predicate or map_one */
    bool map;
} table_op_t;

/* A record for a user callback: key and time of the change, value = side. */
static void side_record(rill_record_t *out, const rill_record_t *change_record,
                        const rill_value_t *side)
{
    rill__record_derive(out, change_record);
    rill__value_view(&out->value, side);
}

static rill_err_t table_op_process(rill__pnode_t *pnode, const rill_record_t *record,
                                   rill_error_t **error)
{
    const table_op_t *op = pnode->node->config;
    const rill__change_t *change = record->value.ptr;
    rill__change_t out = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    const rill_value_t *sides[2] = {&change->new_value, &change->old_value};
    rill_value_t *outs[2] = {&out.new_value, &out.old_value};
    rill_err_t err = RILL_OK;
    for (int i = 0; i < 2 && err == RILL_OK; i++) {
        if (sides[i]->type == RILL_VALUE_NULL)
            continue;
        rill_record_t r;
        side_record(&r, record, sides[i]);
        if (!op->map) {
            if (((rill_predicate_fn)op->callback.fn)(&r, op->callback.user_data))
                rill__value_view(outs[i], sides[i]);
        } else {
            err = ((rill_map_one_fn)op->callback.fn)(&r, outs[i], op->callback.user_data, error);
        }
    }
    if (err == RILL_OK &&
        (out.new_value.type != RILL_VALUE_NULL || out.old_value.type != RILL_VALUE_NULL)) {
        rill_record_t fwd;
        rill__record_derive(&fwd, record);
        fwd.value.type = RILL_VALUE_POINTER;
        fwd.value.ptr = &out;
        fwd.value.len = sizeof out;
        err = rill__pnode_forward(pnode, &fwd, error);
    }
    rill__value_clear(&out.new_value);
    rill__value_clear(&out.old_value);
    return err;
}

static const rill__node_ops_t table_filter_ops = {
    .kind = "KTABLE-FILTER",
    .process = table_op_process,
    .config_free = g_free,
};

static const rill__node_ops_t table_map_ops = {
    .kind = "KTABLE-MAPVALUES",
    .process = table_op_process,
    .config_free = g_free,
};

static rill_table_t *add_table_op(rill_table_t *table, void (*fn)(void), void *user_data,
                                  const char *name, bool map)
{
    if (table == NULL)
        return NULL;
    if (fn == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG, "%s: a callback is required",
                           map ? "rill_table_map_values" : "rill_table_filter");
        return NULL;
    }
    table_op_t *op = g_new0(table_op_t, 1);
    op->callback.fn = fn;
    op->callback.user_data = user_data;
    op->map = map;
    rill_stream_t *out = rill__builder_add_processor(
        &table->stream, 1, map ? &table_map_ops : &table_filter_ops, op, name, false);
    return out != NULL ? rill__table_new(out, NULL, NULL, NULL) : NULL;
}

RILL_EXPORT rill_table_t *rill_table_filter(rill_table_t *table, rill_predicate_fn predicate,
                                            void *user_data, const char *name)
{
    return add_table_op(table, (void (*)(void))predicate, user_data, name, false);
}

RILL_EXPORT rill_table_t *rill_table_map_values(rill_table_t *table, rill_map_one_fn fn,
                                                void *user_data, const char *name)
{
    return add_table_op(table, (void (*)(void))fn, user_data, name, true);
}

/* ---- stream-table join ----------------------------------------------------------- */

typedef struct join_config {
    rill_value_joiner_fn joiner;
    void *user_data;
    bool left;
    char *store;
    rill_serde_t *key_serde; /* the table store's; NULL: task default */
    rill_serde_t *value_serde;
} join_config_t;

typedef struct join_state {
    rill__kv_store_t *store;
    const rill_serde_t *key_serde, *value_serde;
    rill_buffer_t key_out;
    rill_wbuf_t value_scratch;
} join_state_t;

static void join_config_free(void *p)
{
    join_config_t *config = p;
    g_free(config->store);
    if (config->key_serde != NULL)
        rill_serde_unref(config->key_serde);
    if (config->value_serde != NULL)
        rill_serde_unref(config->value_serde);
    g_free(config);
}

static void join_state_destroy(void *p)
{
    join_state_t *join = p;
    rill__wbuf_free(&join->key_out.wbuf);
    rill__wbuf_free(&join->value_scratch);
    g_free(join);
}

static rill_err_t join_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const join_config_t *config = pnode->node->config;
    const rill__task_env_t *env = rill__task_env(pnode->task);
    join_state_t *join = g_new0(join_state_t, 1);
    join->key_serde = config->key_serde != NULL ? config->key_serde
                      : env->default_key_serde != NULL ? env->default_key_serde
                                                       : rill_serde_bytes();
    join->value_serde = config->value_serde != NULL ? config->value_serde
                        : env->default_value_serde != NULL ? env->default_value_serde
                                                           : rill_serde_bytes();
    rill__wbuf_init(&join->key_out.wbuf, 0);
    rill__wbuf_init(&join->value_scratch, 0);
    /* the table's node (created, so initialized, before this one) opened it */
    join->store = rill__state_store(pnode, config->store, false, NULL, NULL, error);
    if (join->store == NULL) {
        join_state_destroy(join);
        return RILL_ERR_STORE;
    }
    pnode->state = join;
    return RILL_OK;
}

static void join_state_free(rill__pnode_t *pnode)
{
    join_state_destroy(pnode->state);
}

static rill_err_t join_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    const join_config_t *config = pnode->node->config;
    join_state_t *join = pnode->state;
    if (record->key.type == RILL_VALUE_NULL) /* no row can match a null key */
        return RILL_OK;
    const void *key;
    size_t key_len;
    rill_err_t err = rill__serde_serialize(join->key_serde, &record->key, &join->key_out, &key,
                                           &key_len, error);
    GBytes *bytes = NULL;
    if (err == RILL_OK)
        err = rill__kv_get(join->store, key, key_len, &bytes, error);
    if (err != RILL_OK)
        return err;
    rill_value_t table_value = RILL__VALUE_NULL_INIT, out = RILL__VALUE_NULL_INIT;
    if (bytes != NULL) {
        gsize len;
        const void *data = g_bytes_get_data(bytes, &len);
        err = rill__serde_deserialize(join->value_serde, data != NULL ? data : "", len,
                                      &table_value, &join->value_scratch, error);
    }
    if (err == RILL_OK && bytes == NULL && !config->left) {
        /* an inner join drops a record without a table row, as Kafka Streams
         * does; counted (reason join_miss) and logged, so that a table that
         * is empty when it should not be shows */
        rill__task_record_dropped(pnode->task, RILL__DROP_JOIN_MISS);
        if (RILL_LOG_ENABLED(RILL_LOG_LVL_DEBUG))
            RILL_LOG_DEBUG("operators.join",
                           "task %s: %s: no row in table %s for the key of %s@%" PRId32
                           "/%" PRId64 ": dropped (inner join)",
                           rill__pnode_task_id(pnode), pnode->node->name, config->store,
                           record->topic != NULL ? record->topic : "?", record->partition,
                           record->offset);
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

static const rill__node_ops_t join_ops = {
    .kind = "KSTREAM-JOIN",
    .process = join_process,
    .init = join_init,
    .state_free = join_state_free,
    .config_free = join_config_free,
    .stateful = true, /* the table's store (the same changelog) */
};

static rill_err_t link_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    (void)pnode;
    (void)record;
    (void)error;
    return RILL_OK; /* table updates never trigger the join */
}

static const rill__node_ops_t link_ops = {
    .kind = "KTABLE-LOOKUP-LINK",
    .process = link_process,
};

static rill_stream_t *add_join(rill_stream_t *stream, rill_table_t *table,
                               rill_value_joiner_fn joiner, void *user_data, const char *name,
                               bool left)
{
    if (stream == NULL || table == NULL)
        return NULL;
    if (joiner == NULL || table->store == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "%s",
                           joiner == NULL
                               ? "stream-table join: a joiner is required"
                               : "stream-table join: the table is not materialized (join an "
                                 "aggregation or a rill_builder_table, not a filter or mapValues)");
        return NULL;
    }
    if (rill__stream_key_changed(stream)) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "stream-table join: the stream's key changed upstream; repartition it "
                           "first (rill_stream_repartition) so it is co-partitioned with the table");
        return NULL;
    }
    rill_stream_t *link = rill__builder_add_processor(&table->stream, 1, &link_ops, NULL, NULL,
                                                      false);
    if (link == NULL)
        return NULL;
    join_config_t *config = g_new0(join_config_t, 1);
    config->joiner = joiner;
    config->user_data = user_data;
    config->left = left;
    config->store = g_strdup(table->store);
    config->key_serde = table->key_serde != NULL ? rill_serde_ref(table->key_serde) : NULL;
    config->value_serde = table->value_serde != NULL ? rill_serde_ref(table->value_serde) : NULL;
    g_autofree char *store = g_strdup(table->store);
    rill_stream_t *parents[2] = {stream, link};
    rill_stream_t *out = rill__builder_add_processor(parents, 2, &join_ops, config, name, false);
    if (out != NULL)
        g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store));
    return out;
}

RILL_EXPORT rill_stream_t *rill_stream_join_table(rill_stream_t *stream, rill_table_t *table,
                                                  rill_value_joiner_fn joiner, void *user_data,
                                                  const char *name)
{
    return add_join(stream, table, joiner, user_data, name, false);
}

RILL_EXPORT rill_stream_t *rill_stream_left_join_table(rill_stream_t *stream, rill_table_t *table,
                                                       rill_value_joiner_fn joiner,
                                                       void *user_data, const char *name)
{
    return add_join(stream, table, joiner, user_data, name, true);
}

/* ---- table groupBy ---------------------------------------------------------------- */

/* Each change becomes up to two records: (selector(old), subtract header),
 * then (selector(new)). */
static rill_err_t select_process(rill__pnode_t *pnode, const rill_record_t *record,
                                 rill_error_t **error)
{
    static const rill__header_t subtract = {RILL__SUBTRACT_HEADER, "1", 1};
    const rill__callback_t *callback = pnode->node->config;
    const rill__change_t *change = record->value.ptr;
    const rill_value_t *sides[2] = {&change->old_value, &change->new_value};
    rill_err_t err = RILL_OK;
    for (int i = 0; i < 2 && err == RILL_OK; i++) {
        if (sides[i]->type == RILL_VALUE_NULL)
            continue;
        rill_record_t in;
        side_record(&in, record, sides[i]);
        rill_record_t out;
        rill__record_derive(&out, record);
        out.key = (rill_value_t)RILL__VALUE_NULL_INIT;
        out.value = (rill_value_t)RILL__VALUE_NULL_INIT;
        err = ((rill_map_fn)callback->fn)(&in, &out.key, &out.value, callback->user_data, error);
        if (err == RILL_OK) {
            out.headers = i == 0 ? &subtract : NULL;
            out.header_count = i == 0 ? 1 : 0;
            err = rill__pnode_forward(pnode, &out, error);
        }
        rill__record_release(&out);
    }
    return err;
}

static const rill__node_ops_t select_ops = {
    .kind = "KTABLE-SELECT",
    .process = select_process,
    .config_free = g_free,
};

RILL_EXPORT rill_grouped_t *rill_table_group_by(rill_table_t *table, rill_map_fn selector,
                                                void *user_data, const rill_grouped_opts_t *opts)
{
    if (table == NULL)
        return NULL;
    if (selector == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "rill_table_group_by: a selector is required");
        return NULL;
    }
    rill__callback_t *callback = rill__callback_new((void (*)(void))selector, user_data);
    rill_stream_t *selected =
        rill__builder_add_processor(&table->stream, 1, &select_ops, callback, NULL, true);
    if (selected == NULL)
        return NULL;
    rill_produced_t produced = {0};
    if (opts != NULL) {
        produced.key_serde = opts->key_serde;
        produced.value_serde = opts->value_serde;
        produced.name = opts->name;
    }
    rill_stream_t *repartitioned = rill_stream_repartition(selected, &produced);
    return repartitioned != NULL ? rill__grouped_new(repartitioned, true) : NULL;
}
