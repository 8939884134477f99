/* suppress.c: emit-final: a windowed table's updates held in a durable buffer and emitted once per window, when it closes.
 *
 * Kafka Streams' KTableSuppressProcessor with Suppressed.untilWindowCloses.
 * The buffer is a change-logged in-memory store of the task (state.h; its
 * changelog "<application.id>-<name>-changelog", replayed whole when the task
 * starts), ordered by window end:
 *
 *     buffer key   = T(end) | T(start) | key   (the key serialized by the aggregation's key serde)
 *     buffer value = timestamp (8 bytes big-endian) | aggregate (its value serde)
 *
 * For each update (windowed key, new aggregate) from the aggregation above:
 *
 *     observed = max(observed, update's timestamp)
 *     new == null ? delete the window's entry : put it (replacing the older aggregate)
 *     over max_records / max_bytes ? SHUT_DOWN: fail the task │ EMIT_EARLY: emit the oldest
 *     every entry with end + close delay <= observed: forward (key, final), delete
 *
 * (close delay = grace, plus the inactivity gap for sessions). An in-memory
 * index of the buffered window ends (a GTree, rebuilt from the store at
 * start) tells whether any window is due, so an update scans the store only
 * when something is to be emitted. Why the
 * buffer's own observed time rather than the task's stream time: with the
 * record cache on, the aggregation's updates arrive at its flush, in the
 * order they were written, each with the time of the record that wrote it.
 * When an update with time t arrives, every update written before it has
 * arrived, and the aggregation refuses updates to windows with end + grace
 * <= t from then on (window-time.c): so a window emitted at t is final.
 *
 * Durability: an emitted window's entry is deleted in the same task step as
 * the emission, so the changelog carries the deletion with the output: after
 * a commit, a restart neither re-emits it nor loses a window still buffered.
 * At-least-once: what was emitted after the last commit may be emitted again
 * when the input after that commit is processed again. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "common/buf.h"
#include "operators/window-private.h"
#include "runtime/serde-private.h"
#include "stores/windowed-key.h"

typedef struct suppress_config {
    char *store;
    uint64_t max_records;
    uint64_t max_bytes;
    rill_buffer_full_t when_full;
    int64_t close_delay;
    const rill__wagg_config_t *upstream; /* the aggregation's (the topology owns both) */
} suppress_config_t;

typedef struct suppress {
    rill__pnode_t *pnode;
    rill__kv_store_t *store;
    const rill_serde_t *key_serde;
    const rill_serde_t *value_serde;
    int64_t observed; /* INT64_MIN before any update */
    uint64_t records;
    uint64_t bytes;
    GTree *ends; /* window end (int64_t *) -> entries with that end (GUINT_TO_POINTER):
                  * finds the earliest end without scanning the store */
    rill_buffer_t key_out, value_out;
    GByteArray *bkey, *bvalue;
    rill_wbuf_t f_key, f_value;
} suppress_t;

static void suppress_config_free(void *p)
{
    suppress_config_t *config = p;
    g_free(config->store);
    g_free(config);
}

static void suppress_destroy(void *p)
{
    suppress_t *s = p;
    rill__wbuf_free(&s->key_out.wbuf);
    rill__wbuf_free(&s->value_out.wbuf);
    rill__wbuf_free(&s->f_key);
    rill__wbuf_free(&s->f_value);
    g_byte_array_unref(s->bkey);
    g_byte_array_unref(s->bvalue);
    g_tree_unref(s->ends);
    g_free(s);
}

static gint cmp_end(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Counts one more (delta 1) or one less (-1) entry ending at end. */
static void ends_add(suppress_t *s, int64_t end, int delta)
{
    gpointer key = NULL, value = NULL;
    guint n = g_tree_lookup_extended(s->ends, &end, &key, &value) ? GPOINTER_TO_UINT(value) : 0;
    n = delta > 0 ? n + 1 : n > 0 ? n - 1 : 0;
    if (n == 0) {
        g_tree_remove(s->ends, &end);
        return;
    }
    if (key == NULL) {
        key = g_new(int64_t, 1);
        *(int64_t *)key = end;
    }
    g_tree_steal(s->ends, key); /* keep the key already stored */
    g_tree_insert(s->ends, key, GUINT_TO_POINTER(n));
}

static gboolean first_end(gpointer key, gpointer value, gpointer data)
{
    (void)value;
    *(int64_t *)data = *(const int64_t *)key;
    return TRUE; /* stop at the first */
}

/* The earliest window end buffered, or INT64_MAX. */
static int64_t earliest_end(suppress_t *s)
{
    int64_t end = INT64_MAX;
    g_tree_foreach(s->ends, first_end, &end);
    return end;
}

static void put_be64(uint8_t *p, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)u;
        u >>= 8;
    }
}

static int64_t get_be64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = (u << 8) | p[i];
    return (int64_t)u;
}

/* Counts what the (restored) buffer holds. */
static rill_err_t count_buffer(suppress_t *s, rill_error_t **error)
{
    rill__kv_iter_t *iter = rill__kv_all(s->store, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    const void *key, *value;
    size_t key_len, value_len;
    while (rill__kv_iter_next(iter, &key, &key_len, &value, &value_len)) {
        s->records++;
        s->bytes += key_len + value_len;
        if (key_len >= 16)
            ends_add(s, rill__wkey_time_get(key), 1);
    }
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    return err;
}

static rill_err_t suppress_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const suppress_config_t *config = pnode->node->config;
    suppress_t *s = g_new0(suppress_t, 1);
    s->pnode = pnode;
    s->observed = INT64_MIN;
    rill__wagg_serdes(config->upstream, rill__task_env(pnode->task), &s->key_serde,
                      &s->value_serde);
    rill__wbuf_init(&s->key_out.wbuf, 0);
    rill__wbuf_init(&s->value_out.wbuf, 0);
    rill__wbuf_init(&s->f_key, 0);
    rill__wbuf_init(&s->f_value, 0);
    s->bkey = g_byte_array_new();
    s->bvalue = g_byte_array_new();
    s->ends = g_tree_new_full(cmp_end, NULL, g_free, NULL);
    s->store = rill__state_store(pnode, config->store, true, NULL, NULL, error);
    if (s->store == NULL || count_buffer(s, error) != RILL_OK) {
        suppress_destroy(s);
        return RILL_ERR_STORE;
    }
    pnode->state = s;
    rill__state_defer_free(pnode, s, suppress_destroy);
    return RILL_OK;
}

static void suppress_state_free(rill__pnode_t *pnode)
{
    (void)pnode; /* freed once the stores are closed (rill__state_defer_free) */
}

/* Forwards the buffered window (bkey, bvalue) downstream as its final update. */
static rill_err_t emit(suppress_t *s, const uint8_t *bkey, size_t bkey_len, const uint8_t *bvalue,
                       size_t bvalue_len, rill_error_t **error)
{
    struct rill_windowed windowed = {.magic = RILL__WINDOWED_MAGIC, .key = RILL__VALUE_NULL_INIT};
    windowed.end = rill__wkey_time_get(bkey);
    windowed.start = rill__wkey_time_get(bkey + 8);
    rill__change_t change = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    rill_err_t err = rill__serde_deserialize(s->key_serde, bkey + 16, bkey_len - 16,
                                             &windowed.key, &s->f_key, error);
    if (err == RILL_OK)
        err = rill__serde_deserialize(s->value_serde, bvalue + 8, bvalue_len - 8,
                                      &change.new_value, &s->f_value, error);
    if (err == RILL_OK) {
        rill_record_t record = {
            .key = RILL__VALUE_NULL_INIT,
            .value = RILL__VALUE_NULL_INIT,
            .timestamp = get_be64(bvalue),
            .partition = rill__pnode_partition(s->pnode),
            .offset = -1,
        };
        rill__windowed_view(&record.key, &windowed);
        record.value.type = RILL_VALUE_POINTER;
        record.value.ptr = &change;
        record.value.len = sizeof change;
        err = rill__pnode_forward(s->pnode, &record, error);
    }
    rill__value_clear(&windowed.key);
    rill__value_clear(&change.new_value);
    return err;
}

typedef struct entry {
    GBytes *key;
    GBytes *value;
} entry_t;

/* Emits and deletes the buffered windows in [first, before) in end order
 * (before NULL = unbounded), at most limit of them (0 = all). */
static rill_err_t emit_range(suppress_t *s, const void *before, size_t before_len, uint64_t limit,
                             rill_error_t **error)
{
    rill__kv_iter_t *iter = rill__kv_range(s->store, NULL, 0, before, before_len, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    GArray *entries = g_array_new(FALSE, FALSE, sizeof(entry_t));
    const void *key, *value;
    size_t key_len, value_len;
    while ((limit == 0 || entries->len < limit) &&
           rill__kv_iter_next(iter, &key, &key_len, &value, &value_len)) {
        entry_t e = {g_bytes_new(key, key_len), g_bytes_new(value, value_len)};
        g_array_append_val(entries, e);
    }
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    for (guint i = 0; i < entries->len; i++) {
        entry_t *e = &g_array_index(entries, entry_t, i);
        gsize kl, vl;
        const uint8_t *k = g_bytes_get_data(e->key, &kl);
        const uint8_t *v = g_bytes_get_data(e->value, &vl);
        if (err == RILL_OK && (kl < 16 || vl < 8))
            err = rill_error_set(error, RILL_ERR_CORRUPT, "suppression buffer %s: a malformed "
                                 "entry", rill__kv_store_name(s->store));
        if (err == RILL_OK)
            err = emit(s, k, kl, v, vl, error);
        if (err == RILL_OK)
            err = rill__kv_delete(s->store, k, kl, get_be64(v), NULL, error);
        if (err == RILL_OK) {
            s->records--;
            s->bytes -= kl + vl;
            ends_add(s, rill__wkey_time_get(k), -1);
        }
        g_bytes_unref(e->key);
        g_bytes_unref(e->value);
    }
    g_array_free(entries, TRUE);
    return err;
}

static bool over(const suppress_config_t *config, const suppress_t *s)
{
    return (config->max_records > 0 && s->records > config->max_records) ||
           (config->max_bytes > 0 && s->bytes > config->max_bytes);
}

static rill_err_t suppress_process(rill__pnode_t *pnode, const rill_record_t *record,
                                   rill_error_t **error)
{
    const suppress_config_t *config = pnode->node->config;
    suppress_t *s = pnode->state;
    const rill_windowed_t *windowed = rill_value_windowed(&record->key);
    if (windowed == NULL || record->value.type != RILL_VALUE_POINTER)
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "suppress %s: an update without a windowed key", config->store);
    const rill__change_t *change = record->value.ptr;
    if (record->timestamp > s->observed)
        s->observed = record->timestamp;

    const void *key, *data;
    size_t key_len, len;
    rill_err_t err = rill__serde_serialize(s->key_serde, &windowed->key, &s->key_out, &key,
                                           &key_len, error);
    if (err != RILL_OK)
        return err;
    g_byte_array_set_size(s->bkey, 0);
    rill__wkey_append_time(s->bkey, windowed->end);
    rill__wkey_append_time(s->bkey, windowed->start);
    g_byte_array_append(s->bkey, key != NULL ? key : (const void *)"", (guint)key_len);

    GBytes *old = NULL;
    if ((err = rill__kv_get(s->store, s->bkey->data, s->bkey->len, &old, error)) != RILL_OK)
        return err;
    if (old != NULL) {
        s->records--;
        s->bytes -= s->bkey->len + g_bytes_get_size(old);
        ends_add(s, windowed->end, -1);
        g_bytes_unref(old);
    }
    if (change->new_value.type == RILL_VALUE_NULL) { /* the window is gone (merged session) */
        if ((err = rill__kv_delete(s->store, s->bkey->data, s->bkey->len, record->timestamp,
                                   NULL, error)) != RILL_OK)
            return err;
    } else {
        err = rill__serde_serialize(s->value_serde, &change->new_value, &s->value_out, &data,
                                    &len, error);
        if (err != RILL_OK)
            return err;
        g_byte_array_set_size(s->bvalue, 8);
        put_be64(s->bvalue->data, record->timestamp);
        g_byte_array_append(s->bvalue, data != NULL ? data : (const void *)"", (guint)len);
        if ((err = rill__kv_put(s->store, s->bkey->data, s->bkey->len, s->bvalue->data,
                                s->bvalue->len, record->timestamp, error)) != RILL_OK)
            return err;
        s->records++;
        s->bytes += s->bkey->len + s->bvalue->len;
        ends_add(s, windowed->end, 1);
    }

    while (over(config, s)) {
        if (config->when_full == RILL_BUFFER_FULL_SHUT_DOWN)
            return rill_error_set(error, RILL_ERR_INVALID_STATE,
                                  "suppression buffer %s is full (%" PRIu64 " windows, %" PRIu64
                                  " bytes; max_records %" PRIu64 ", max_bytes %" PRIu64
                                  "): shutting down, as configured (shut down when full)",
                                  config->store, s->records, s->bytes, config->max_records,
                                  config->max_bytes);
        if ((err = emit_range(s, NULL, 0, 1, error)) != RILL_OK)
            return err;
    }

    /* every window with end + close_delay <= observed is final (the index
     * says whether there is one, so that most updates scan nothing) */
    if (s->observed == INT64_MIN || s->observed - config->close_delay < INT64_MIN / 2)
        return RILL_OK;
    int64_t last_end = s->observed - config->close_delay;
    if (earliest_end(s) > last_end)
        return RILL_OK;
    g_byte_array_set_size(s->bkey, 0);
    rill__wkey_append_time(s->bkey, last_end + 1);
    uint8_t before[8];
    memcpy(before, s->bkey->data, 8);
    return emit_range(s, before, 8, 0, error);
}

static const rill__node_ops_t suppress_ops = {
    .kind = "SUPPRESS",
    .process = suppress_process,
    .init = suppress_init,
    .state_free = suppress_state_free,
    .config_free = suppress_config_free,
    .stateful = true,
};

RILL_EXPORT rill_table_t *rill_table_suppress_until_window_closes(rill_table_t *table,
                                                                  const rill_suppressed_t *opts)
{
    if (table == NULL || !rill__builder_open(table->stream))
        return NULL;
    const rill__wagg_config_t *upstream = rill__wagg_config_of(table->stream);
    if (upstream == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "rill_table_suppress_until_window_closes: the table must be the "
                           "result of a windowed aggregation (rill_time_windowed_* or "
                           "rill_session_windowed_*)");
        return NULL;
    }
    if (opts != NULL && opts->when_full != RILL_BUFFER_FULL_SHUT_DOWN &&
        opts->when_full != RILL_BUFFER_FULL_EMIT_EARLY) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "rill_table_suppress_until_window_closes: bad when_full %d",
                           (int)opts->when_full);
        return NULL;
    }
    suppress_config_t *config = g_new0(suppress_config_t, 1);
    config->upstream = upstream;
    config->close_delay = rill__window_close_delay(&upstream->spec);
    char *node_name = NULL;
    if (opts != NULL) {
        config->max_records = opts->max_records;
        config->max_bytes = opts->max_bytes;
        config->when_full = opts->when_full;
    }
    if (opts != NULL && opts->name != NULL) {
        if (!rill__topic_name_valid(opts->name)) {
            suppress_config_free(config);
            rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                               "suppression buffer name '%s' is not usable in a topic name",
                               opts->name);
            return NULL;
        }
        config->store = g_strdup(opts->name);
    } else {
        node_name = rill__builder_new_name(table->stream, "SUPPRESS");
        config->store = g_strdup_printf("%s-STATE-STORE", node_name);
    }
    g_autofree char *store = g_strdup(config->store);
    rill_stream_t *out =
        rill__builder_add_processor(&table->stream, 1, &suppress_ops, config, node_name, false);
    g_free(node_name);
    if (out == NULL)
        return NULL;
    g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store));
    return rill__table_new(out, NULL, table->key_serde, table->value_serde);
}
