/* join-table.c: table-table joins (inner, left, outer), Kafka Streams' KTableKTable{Inner,Left,Outer}Join.
 *
 * The topology a join adds (base = the materialized name, else generated
 * "KTABLE-JOIN-0000000006"):
 *
 *     left table  ──► <base>-this  ──┐
 *                                    ├─► <base>-merge [result store, if materialized]
 *     right table ──► <base>-other ──┘
 *
 * Both tables must be materialized: the join nodes read the other side's
 * store, and connecting both tables puts their nodes in one sub-topology, so
 * one task holds both stores for a partition. An update (new, old) of side s
 * reads the other side's current row o and sends (J(new, o), J(old, o)),
 * each side computed only where the join kind has a row:
 *
 *     inner: a row iff both sides have one
 *     left:  a row iff the left side has one (the right may be null)
 *     outer: a row iff either side has one
 *
 * where J calls the joiner with the values in (left, right) order and a
 * missing side is a null value. An update whose two joined sides are both
 * absent sends nothing. So a deletion (new null) of a row that joined sends
 * (null, J(old, o)): the joined row is deleted downstream, and aggregations
 * below subtract exactly what they added.
 *
 * The merge node writes the new joined value to the result's store
 * (change-logged) and forwards (new, old) as the store saw them, through its
 * cache like an aggregation's table. The old values computed above are
 * exact only while both tables forward every update at once: with the
 * record cache on, a table forwards at commit while the other side's store
 * is read as it is now, so the store is what keeps (new, old) exact (Kafka
 * Streams materializes a join for the same reason when old values are
 * needed downstream). Not materialized by the user, the store is internal,
 * "<base>-result", and keeps each value with a type tag (1 byte: its
 * rill_value_type_t, then the bytes of that type's built-in serde), so the
 * joined values keep their types without a serde; a user-object (POINTER)
 * value then needs materialized->value_serde. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/join.h>

#include "common/buf.h"
#include "operators/join-private.h"
#include "operators/state.h"
#include "runtime/serde-private.h"

typedef enum tjoin_kind { TJOIN_INNER, TJOIN_LEFT, TJOIN_OUTER } tjoin_kind_t;
enum { SIDE_LEFT = 0, SIDE_RIGHT = 1 };

typedef struct tjoin_config {
    tjoin_kind_t kind;
    int side;
    rill_joiner_fn joiner;
    void *user_data;
    char *other_store;
    rill_serde_t *key_serde; /* the other store's (NULL: the task's default) */
    rill_serde_t *value_serde;
} tjoin_config_t;

typedef struct tjoin_state {
    rill__kv_store_t *other;
    const rill_serde_t *key_serde, *value_serde;
    rill_buffer_t key_out;
    rill_wbuf_t value_scratch;
} tjoin_state_t;

static rill_serde_t *ref_or_null(const rill_serde_t *serde)
{
    return serde != NULL ? rill_serde_ref(serde) : NULL;
}

static const rill_serde_t *or_default(const rill_serde_t *serde, const rill_serde_t *fallback)
{
    return serde != NULL ? serde : fallback != NULL ? fallback : rill_serde_bytes();
}

static void tjoin_config_free(void *p)
{
    tjoin_config_t *config = p;
    g_free(config->other_store);
    if (config->key_serde != NULL)
        rill_serde_unref(config->key_serde);
    if (config->value_serde != NULL)
        rill_serde_unref(config->value_serde);
    g_free(config);
}

static void tjoin_state_destroy(tjoin_state_t *join)
{
    rill__wbuf_free(&join->key_out.wbuf);
    rill__wbuf_free(&join->value_scratch);
    g_free(join);
}

static rill_err_t tjoin_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const tjoin_config_t *config = pnode->node->config;
    const rill__task_env_t *env = rill__task_env(pnode->task);
    tjoin_state_t *join = g_new0(tjoin_state_t, 1);
    join->key_serde = or_default(config->key_serde, env->default_key_serde);
    join->value_serde = or_default(config->value_serde, env->default_value_serde);
    rill__wbuf_init(&join->key_out.wbuf, 0);
    rill__wbuf_init(&join->value_scratch, 0);
    /* the other table's node opened it (it was created, so initialized, first) */
    join->other = rill__state_store(pnode, config->other_store, false, NULL, NULL, error);
    if (join->other == NULL) {
        tjoin_state_destroy(join);
        return RILL_ERR_STORE;
    }
    pnode->state = join;
    return RILL_OK;
}

static void tjoin_state_free(rill__pnode_t *pnode)
{
    tjoin_state_destroy(pnode->state);
}

/* *out = J(mine, other) in (left, right) order, or stays null where the
 * join kind has no row for this pair. */
static rill_err_t joined(const tjoin_config_t *config, const rill_value_t *key,
                         const rill_value_t *mine, const rill_value_t *other, rill_value_t *out,
                         rill_error_t **error)
{
    bool have_mine = mine->type != RILL_VALUE_NULL, have_other = other->type != RILL_VALUE_NULL;
    bool row;
    switch (config->kind) {
    case TJOIN_INNER:
        row = have_mine && have_other;
        break;
    case TJOIN_LEFT:
        row = config->side == SIDE_LEFT ? have_mine : have_other;
        break;
    default:
        row = have_mine || have_other;
        break;
    }
    if (!row)
        return RILL_OK;
    const rill_value_t *left = config->side == SIDE_LEFT ? mine : other;
    const rill_value_t *right = config->side == SIDE_LEFT ? other : mine;
    return config->joiner(key, left, right, out, config->user_data, error);
}

static rill_err_t tjoin_process(rill__pnode_t *pnode, const rill_record_t *record,
                                rill_error_t **error)
{
    const tjoin_config_t *config = pnode->node->config;
    tjoin_state_t *join = pnode->state;
    const rill__change_t *change = record->value.ptr;
    if (record->key.type == RILL_VALUE_NULL || change == NULL)
        return RILL_OK;
    const void *key;
    size_t key_len;
    GBytes *bytes = NULL;
    rill_err_t err = rill__serde_serialize(join->key_serde, &record->key, &join->key_out, &key,
                                           &key_len, error);
    if (err == RILL_OK)
        err = rill__kv_get(join->other, key, key_len, &bytes, error);
    if (err != RILL_OK)
        return err;
    rill_value_t other = RILL__VALUE_NULL_INIT;
    rill__change_t out = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    if (bytes != NULL) {
        gsize len;
        const void *data = g_bytes_get_data(bytes, &len);
        err = rill__serde_deserialize(join->value_serde, data != NULL ? data : "", len, &other,
                                      &join->value_scratch, error);
    }
    if (err == RILL_OK)
        err = joined(config, &record->key, &change->new_value, &other, &out.new_value, error);
    if (err == RILL_OK)
        err = joined(config, &record->key, &change->old_value, &other, &out.old_value, error);
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
    rill__value_clear(&other);
    if (bytes != NULL)
        g_bytes_unref(bytes);
    return err;
}

static const rill__node_ops_t tjoin_ops = {
    .kind = "KTABLE-JOIN",
    .process = tjoin_process,
    .init = tjoin_init,
    .state_free = tjoin_state_free,
    .config_free = tjoin_config_free,
    .stateful = true, /* the tables' stores (their changelogs exist already) */
};

/* ---- the merge node, and the result's materialization ------------------------------------- */

typedef struct tmerge_config {
    char *store;
    bool in_memory;
    bool tagged; /* internal store: type-tagged values, no value serde */
    rill_serde_t *key_serde; /* NULL: the task's default */
    rill_serde_t *value_serde;
} tmerge_config_t;

typedef struct tmerge_state {
    rill__pnode_t *pnode;
    rill__kv_store_t *store;
    const rill_serde_t *key_serde, *value_serde;
    rill_buffer_t key_out, value_out;
    rill_wbuf_t f_key, f_new, f_old;
    GByteArray *tagged;
    bool closing;
} tmerge_state_t;

static void tmerge_config_free(void *p)
{
    tmerge_config_t *config = p;
    g_free(config->store);
    if (config->key_serde != NULL)
        rill_serde_unref(config->key_serde);
    if (config->value_serde != NULL)
        rill_serde_unref(config->value_serde);
    g_free(config);
}

static void tmerge_state_destroy(void *p)
{
    tmerge_state_t *merge = p;
    rill__wbuf_free(&merge->key_out.wbuf);
    rill__wbuf_free(&merge->value_out.wbuf);
    rill__wbuf_free(&merge->f_key);
    rill__wbuf_free(&merge->f_new);
    rill__wbuf_free(&merge->f_old);
    g_byte_array_unref(merge->tagged);
    g_free(merge);
}

/* bytes (NULL: absent) into out: with serde, or type-tagged (serde NULL). */
static rill_err_t deserialize_bytes(const rill_serde_t *serde, GBytes *bytes, rill_value_t *out,
                                    rill_wbuf_t *scratch, rill_error_t **error)
{
    if (bytes == NULL)
        return RILL_OK;
    gsize len;
    const uint8_t *data = g_bytes_get_data(bytes, &len);
    if (data == NULL)
        data = (const uint8_t *)"";
    if (serde != NULL)
        return rill__serde_deserialize(serde, data, len, out, scratch, error);
    if (len < 1 || data[0] == RILL_VALUE_NULL || data[0] > RILL_VALUE_JSON)
        return rill_error_set(error, RILL_ERR_SERDE, "join result store: a corrupt value");
    return rill__serde_deserialize(rill__serde_for_type((rill_value_type_t)data[0]),
                                   len > 1 ? data + 1 : (const uint8_t *)"", len - 1, out, scratch,
                                   error);
}

/* The result store's cache flushed (key, new, old): a table update downstream. */
static rill_err_t tmerge_forward(void *ud, const void *key, size_t key_len, GBytes *new_value,
                                 GBytes *old_value, int64_t timestamp, rill_error_t **error)
{
    tmerge_state_t *merge = ud;
    if (merge->closing)
        return RILL_OK;
    rill__change_t change = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    rill_record_t record = {
        .key = RILL__VALUE_NULL_INIT,
        .value = RILL__VALUE_NULL_INIT,
        .timestamp = timestamp,
        .partition = rill__pnode_partition(merge->pnode),
        .offset = -1,
    };
    rill_err_t err =
        rill__serde_deserialize(merge->key_serde, key, key_len, &record.key, &merge->f_key, error);
    if (err == RILL_OK)
        err = deserialize_bytes(merge->value_serde, new_value, &change.new_value, &merge->f_new,
                                error);
    if (err == RILL_OK)
        err = deserialize_bytes(merge->value_serde, old_value, &change.old_value, &merge->f_old,
                                error);
    if (err == RILL_OK && (new_value != NULL || old_value != NULL)) {
        record.value.type = RILL_VALUE_POINTER;
        record.value.ptr = &change;
        record.value.len = sizeof change;
        err = rill__pnode_forward(merge->pnode, &record, error);
        record.value.ptr = NULL;
        record.value.type = RILL_VALUE_NULL;
    }
    rill__value_clear(&change.new_value);
    rill__value_clear(&change.old_value);
    rill__record_release(&record);
    return err;
}

static rill_err_t tmerge_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const tmerge_config_t *config = pnode->node->config;
    const rill__task_env_t *env = rill__task_env(pnode->task);
    tmerge_state_t *merge = g_new0(tmerge_state_t, 1);
    merge->pnode = pnode;
    merge->key_serde = or_default(config->key_serde, env->default_key_serde);
    merge->value_serde = config->tagged ? NULL
                                        : or_default(config->value_serde, env->default_value_serde);
    rill__wbuf_init(&merge->key_out.wbuf, 0);
    rill__wbuf_init(&merge->value_out.wbuf, 0);
    rill__wbuf_init(&merge->f_key, 0);
    rill__wbuf_init(&merge->f_new, 0);
    rill__wbuf_init(&merge->f_old, 0);
    merge->tagged = g_byte_array_new();
    merge->store = rill__state_store(pnode, config->store, config->in_memory, tmerge_forward,
                                     merge, error);
    if (merge->store == NULL) {
        tmerge_state_destroy(merge);
        return RILL_ERR_STORE;
    }
    pnode->state = merge;
    rill__state_defer_free(pnode, merge, tmerge_state_destroy);
    return RILL_OK;
}

static void tmerge_state_free(rill__pnode_t *pnode)
{
    tmerge_state_t *merge = pnode->state;
    merge->closing = true; /* freed once the stores are closed (rill__state_defer_free) */
}

static rill_err_t tmerge_flush(rill__pnode_t *pnode, rill_error_t **error)
{
    tmerge_state_t *merge = pnode->state;
    return rill__kv_flush(merge->store, error);
}

static rill_err_t tmerge_process(rill__pnode_t *pnode, const rill_record_t *record,
                                 rill_error_t **error)
{
    tmerge_state_t *merge = pnode->state;
    const rill__change_t *change = record->value.ptr;
    if (record->key.type == RILL_VALUE_NULL || change == NULL)
        return RILL_OK;
    const void *key, *value;
    size_t key_len, value_len;
    rill_err_t err = rill__serde_serialize(merge->key_serde, &record->key, &merge->key_out, &key,
                                           &key_len, error);
    if (err != RILL_OK)
        return err;
    const rill_value_t *new_value = &change->new_value;
    if (new_value->type == RILL_VALUE_NULL)
        return rill__kv_delete(merge->store, key, key_len, record->timestamp, NULL, error);
    if (merge->value_serde != NULL) {
        err = rill__serde_serialize(merge->value_serde, new_value, &merge->value_out, &value,
                                    &value_len, error);
        if (err == RILL_OK)
            err = rill__kv_put(merge->store, key, key_len, value != NULL ? value : "", value_len,
                               record->timestamp, error);
        return err;
    }
    if (new_value->type > RILL_VALUE_JSON)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "join %s: a joined value of a user type needs a value serde "
                              "(rill_materialized_t.value_serde)",
                              pnode->node->name);
    err = rill__serde_serialize(rill__serde_for_type(new_value->type), new_value,
                                &merge->value_out, &value, &value_len, error);
    if (err != RILL_OK)
        return err;
    g_byte_array_set_size(merge->tagged, 0);
    uint8_t tag = (uint8_t)new_value->type;
    g_byte_array_append(merge->tagged, &tag, 1);
    if (value_len > 0)
        g_byte_array_append(merge->tagged, value, (guint)value_len);
    return rill__kv_put(merge->store, key, key_len, merge->tagged->data, merge->tagged->len,
                        record->timestamp, error);
}

static const rill__node_ops_t tmerge_ops = {
    .kind = "KTABLE-MERGE",
    .process = tmerge_process,
    .init = tmerge_init,
    .state_free = tmerge_state_free,
    .flush = tmerge_flush,
    .config_free = tmerge_config_free,
    .stateful = true,
};

rill_table_t *rill__join_result(rill_stream_t *const *parents, int parent_count,
                                const char *name, const char *store, bool in_memory, bool tagged,
                                const rill_serde_t *key_serde, const rill_serde_t *value_serde)
{
    tmerge_config_t *config = g_new0(tmerge_config_t, 1);
    config->store = g_strdup(store);
    config->in_memory = in_memory;
    config->tagged = tagged;
    config->key_serde = ref_or_null(key_serde);
    config->value_serde = ref_or_null(value_serde);
    rill_stream_t *out =
        rill__builder_add_processor(parents, parent_count, &tmerge_ops, config, name, false);
    if (out == NULL)
        return NULL;
    g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store));
    /* a tagged store cannot be read with a serde: not joinable again */
    return rill__table_new(out, tagged ? NULL : store, key_serde, value_serde);
}

/* ---- the DSL ----------------------------------------------------------------------------- */

static rill_table_t *add_table_join(rill_table_t *table, rill_table_t *other,
                                    rill_joiner_fn joiner, void *user_data,
                                    const rill_materialized_t *materialized, tjoin_kind_t kind)
{
    static const char *const fn_names[] = {"rill_table_join", "rill_table_left_join",
                                           "rill_table_outer_join"};
    if (table == NULL || !rill__builder_open(table->stream))
        return NULL;
    if (other == NULL || joiner == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG, "%s: %s is NULL", fn_names[kind],
                           other == NULL ? "the other table" : "the joiner");
        return NULL;
    }
    if (table->store == NULL || other->store == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "%s: both tables must be materialized (an aggregation, "
                           "rill_builder_table or a materialized join; not a filter or mapValues)",
                           fn_names[kind]);
        return NULL;
    }
    const char *store = materialized != NULL ? materialized->name : NULL;
    bool tagged = materialized == NULL;
    if (store != NULL && !rill__topic_name_valid(store)) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "%s: the store name \"%s\" must be a legal topic name", fn_names[kind],
                           store);
        return NULL;
    }
    g_autofree char *base = store != NULL ? g_strdup(store)
                                          : rill__builder_new_name(table->stream, "JOIN");
    g_autofree char *internal = g_strdup_printf("%s-result", base);
    if (store == NULL)
        store = materialized != NULL ? base : internal; /* a generated name */

    rill_table_t *tables[2] = {table, other};
    rill_stream_t *sides[2] = {NULL, NULL};
    static const char *const suffix[2] = {"this", "other"};
    for (int i = 0; i < 2; i++) {
        rill_table_t *peer = tables[1 - i];
        tjoin_config_t *config = g_new0(tjoin_config_t, 1);
        config->kind = kind;
        config->side = i;
        config->joiner = joiner;
        config->user_data = user_data;
        config->other_store = g_strdup(peer->store);
        config->key_serde = ref_or_null(peer->key_serde);
        config->value_serde = ref_or_null(peer->value_serde);
        g_autofree char *name = g_strdup_printf("%s-%s", base, suffix[i]);
        sides[i] = rill__builder_add_processor(&tables[i]->stream, 1, &tjoin_ops, config, name,
                                               false);
        if (sides[i] == NULL)
            return NULL;
        g_ptr_array_add(rill__stream_node(sides[i])->stores, g_strdup(peer->store));
    }
    g_autofree char *merge_name = g_strdup_printf("%s-merge", base);
    const rill_serde_t *key_serde = materialized != NULL && materialized->key_serde != NULL
                                        ? materialized->key_serde
                                        : table->key_serde;
    const rill_serde_t *value_serde = materialized != NULL ? materialized->value_serde : NULL;
    return rill__join_result(sides, 2, merge_name, store,
                             materialized != NULL && materialized->in_memory, tagged, key_serde,
                             value_serde);
}

RILL_EXPORT rill_table_t *rill_table_join(rill_table_t *table, rill_table_t *other,
                                          rill_joiner_fn joiner, void *user_data,
                                          const rill_materialized_t *materialized)
{
    return add_table_join(table, other, joiner, user_data, materialized, TJOIN_INNER);
}

RILL_EXPORT rill_table_t *rill_table_left_join(rill_table_t *table, rill_table_t *other,
                                               rill_joiner_fn joiner, void *user_data,
                                               const rill_materialized_t *materialized)
{
    return add_table_join(table, other, joiner, user_data, materialized, TJOIN_LEFT);
}

RILL_EXPORT rill_table_t *rill_table_outer_join(rill_table_t *table, rill_table_t *other,
                                                rill_joiner_fn joiner, void *user_data,
                                                const rill_materialized_t *materialized)
{
    return add_table_join(table, other, joiner, user_data, materialized, TJOIN_OUTER);
}
