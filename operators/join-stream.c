/* join-stream.c: the stream-stream windowed joins (inner, left, outer), Kafka Streams' KStreamKStreamJoin.
 *
 * The topology a join adds (names from rill_stream_joined_t.name, else
 * generated "KSTREAM-JOIN-0000000004"):
 *
 *     left  ──[<name>-left-repartition, if its key changed]──► <name>-this  ──┐
 *                                                                            ├─► <name>-merge
 *     right ──[<name>-right-repartition, if its key changed]─► <name>-other ──┘
 *
 * Both join nodes are in one sub-topology (the merge joins them), so one
 * task holds, per partition, the two buffers — window stores with duplicates
 * retained, window size before + after, retention before + after + grace +
 * 1 — and, for left/outer joins, the shared outer-join store. A record of
 * side s at time t (own window [t - back_s, t + fwd_s], with back/fwd =
 * before/after for the left side and after/before for the right side):
 *
 *     null key or value ──► dropped ("null_key")
 *     t + fwd_s + grace < stream time ──► late: dropped ("late")
 *     put in s's buffer ──► if stream time advanced: emit closed outer entries
 *     ──► fetch the other buffer over [t - back_s, t + fwd_s]:
 *           each partner: forward joiner(left, right) at max(t, t_partner),
 *                         delete the partner's outer entry (it has joined)
 *           no partner, and s is kept (outer, or left side of a left join):
 *                         append the value to outer entry (t, s, key)
 *
 * Stream time is shared by both sides: the larger stream time of the two
 * buffers (the largest timestamp put in either), which the stores keep and
 * restore, so no extra state is needed.
 *
 * The outer store is a key-value store ordered by time: key = T(t) (8 bytes,
 * big-endian with the sign bit flipped) | side (1 byte: 0 left, 1 right) |
 * the serialized key; value = the values (serialized), each as a 4-byte
 * big-endian length then the bytes. All records of one (key, t, side) have
 * the same window, so they are joined (and the entry deleted) together.
 * An entry is closed, and emitted as (value, null) or (null, value) at time
 * t, when stream time > t + fwd_s + grace. The scan covers only the keys
 * with t < stream time - min(before, after) - grace, and runs only when the
 * earliest live entry can be closed: both nodes of the join share, per task,
 * a lower bound of the entries' times (the outer tracker, found by the outer
 * store's handle), lowered by every add and recomputed by every scan, as
 * Kafka Streams' shared time tracker does. Without it every record would
 * scan the store, whose record cache hands each scan a snapshot of the
 * range, tombstones included (quadratic in a commit interval). */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/join.h>

#include "common/buf.h"
#include "operators/state.h"
#include "runtime/serde-private.h"
#include "stores/windowed-key.h"

typedef enum sjoin_kind { SJOIN_INNER, SJOIN_LEFT, SJOIN_OUTER } sjoin_kind_t;
enum { SIDE_LEFT = 0, SIDE_RIGHT = 1 };

/* What both nodes of one join share (reference-counted: each node's config holds one). */
typedef struct sjoin_spec {
    sjoin_kind_t kind;
    rill_join_windows_t windows;
    rill_joiner_fn joiner;
    void *user_data;
    bool in_memory;
    char *stores[2]; /* this (left), other (right) buffers */
    char *outer;     /* NULL for inner joins */
    rill_serde_t *key_serde; /* NULL: the task's default */
    rill_serde_t *value_serde[2];
} sjoin_spec_t;

typedef struct sjoin_config {
    sjoin_spec_t *spec;
    int side;
} sjoin_config_t;

/* Per task and join, shared by its two nodes: a lower bound of the times in
 * the outer store (INT64_MIN: unknown, INT64_MAX: empty). */
typedef struct outer_tracker {
    int64_t min_time;
    int refs;
} outer_tracker_t;

static GMutex trackers_lock;
static GHashTable *trackers; /* rill__kv_store_t * (the task's outer store) -> outer_tracker_t * */

static outer_tracker_t *tracker_acquire(rill__kv_store_t *outer)
{
    g_mutex_lock(&trackers_lock);
    if (trackers == NULL)
        trackers = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    outer_tracker_t *tracker = g_hash_table_lookup(trackers, outer);
    if (tracker == NULL) {
        tracker = g_new0(outer_tracker_t, 1);
        tracker->min_time = INT64_MIN; /* restored entries: scan once to learn */
        g_hash_table_insert(trackers, outer, tracker);
    }
    tracker->refs++;
    g_mutex_unlock(&trackers_lock);
    return tracker;
}

static void tracker_release(rill__kv_store_t *outer, outer_tracker_t *tracker)
{
    g_mutex_lock(&trackers_lock);
    if (--tracker->refs == 0) {
        g_hash_table_remove(trackers, outer);
        if (g_hash_table_size(trackers) == 0) {
            g_hash_table_destroy(trackers);
            trackers = NULL;
        }
    }
    g_mutex_unlock(&trackers_lock);
}

/* Per task and node. */
typedef struct sjoin_state {
    rill__pnode_t *pnode;
    rill__window_store_t *buffer[2];
    rill__kv_store_t *outer;
    outer_tracker_t *tracker; /* with outer */
    const rill_serde_t *key_serde, *value_serde[2];
    rill_buffer_t key_out, value_out;
    rill_wbuf_t scratch_key, scratch_value[2];
    GByteArray *okey;
} sjoin_state_t;

static void spec_clear(void *p)
{
    sjoin_spec_t *spec = p;
    g_free(spec->stores[0]);
    g_free(spec->stores[1]);
    g_free(spec->outer);
    if (spec->key_serde != NULL)
        rill_serde_unref(spec->key_serde);
    for (int i = 0; i < 2; i++)
        if (spec->value_serde[i] != NULL)
            rill_serde_unref(spec->value_serde[i]);
}

static void config_free(void *p)
{
    sjoin_config_t *config = p;
    g_rc_box_release_full(config->spec, spec_clear);
    g_free(config);
}

static const rill_serde_t *or_default(const rill_serde_t *serde, const rill_serde_t *fallback)
{
    return serde != NULL ? serde : fallback != NULL ? fallback : rill_serde_bytes();
}

/* The buffers' window size (before + after, at least 1) and retention. */
static int64_t buffer_size(const rill_join_windows_t *w)
{
    return w->before_ms + w->after_ms > 0 ? w->before_ms + w->after_ms : 1;
}

/* + 1: a window starting exactly at stream time - retention is expired, and
 * the earliest partner of a record that is not late can be exactly there. */
static int64_t buffer_retention(const rill_join_windows_t *w)
{
    return buffer_size(w) + w->grace_ms + 1;
}

static void state_destroy(sjoin_state_t *join)
{
    rill__wbuf_free(&join->key_out.wbuf);
    rill__wbuf_free(&join->value_out.wbuf);
    rill__wbuf_free(&join->scratch_key);
    rill__wbuf_free(&join->scratch_value[0]);
    rill__wbuf_free(&join->scratch_value[1]);
    if (join->okey != NULL)
        g_byte_array_unref(join->okey);
    if (join->tracker != NULL)
        tracker_release(join->outer, join->tracker);
    g_free(join);
}

static rill_err_t sjoin_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const sjoin_config_t *config = pnode->node->config;
    const sjoin_spec_t *spec = config->spec;
    const rill__task_env_t *env = rill__task_env(pnode->task);
    sjoin_state_t *join = g_new0(sjoin_state_t, 1);
    join->pnode = pnode;
    join->key_serde = or_default(spec->key_serde, env->default_key_serde);
    for (int i = 0; i < 2; i++) {
        join->value_serde[i] = or_default(spec->value_serde[i], env->default_value_serde);
        rill__wbuf_init(&join->scratch_value[i], 0);
    }
    rill__wbuf_init(&join->key_out.wbuf, 0);
    rill__wbuf_init(&join->value_out.wbuf, 0);
    rill__wbuf_init(&join->scratch_key, 0);
    join->okey = g_byte_array_new();
    for (int i = 0; i < 2; i++) {
        rill__window_store_config_t wc = {
            .name = spec->stores[i],
            .window_size_ms = buffer_size(&spec->windows),
            .retention_ms = buffer_retention(&spec->windows),
            .retain_duplicates = true,
        };
        join->buffer[i] = rill__state_window_store(pnode, &wc, spec->in_memory, error);
        if (join->buffer[i] == NULL) {
            state_destroy(join);
            return RILL_ERR_STORE;
        }
    }
    if (spec->outer != NULL) {
        join->outer = rill__state_store(pnode, spec->outer, spec->in_memory, NULL, NULL, error);
        if (join->outer == NULL) {
            state_destroy(join);
            return RILL_ERR_STORE;
        }
        join->tracker = tracker_acquire(join->outer);
    }
    pnode->state = join;
    return RILL_OK;
}

static void sjoin_state_free(rill__pnode_t *pnode)
{
    state_destroy(pnode->state);
}

/* The join's stream time: the largest timestamp either buffer has taken. */
static int64_t stream_time(const sjoin_state_t *join)
{
    int64_t a = rill__window_store_stream_time(join->buffer[0]);
    int64_t b = rill__window_store_stream_time(join->buffer[1]);
    return a > b ? a : b;
}

/* How far forward (fwd) and back a window of side reaches. */
static int64_t reach_fwd(const rill_join_windows_t *w, int side)
{
    return side == SIDE_LEFT ? w->after_ms : w->before_ms;
}

static int64_t reach_back(const rill_join_windows_t *w, int side)
{
    return side == SIDE_LEFT ? w->before_ms : w->after_ms;
}

/* ---- the outer store --------------------------------------------------------------- */

static void outer_key(GByteArray *out, int64_t t, int side, const void *key, size_t key_len)
{
    uint8_t s = (uint8_t)side;
    g_byte_array_set_size(out, 0);
    rill__wkey_append_time(out, t);
    g_byte_array_append(out, &s, 1);
    g_byte_array_append(out, key, (guint)key_len);
}

/* Appends value to the outer entry (t, side, key). */
static rill_err_t outer_add(sjoin_state_t *join, int64_t t, int side, const void *key,
                            size_t key_len, const void *value, size_t value_len,
                            rill_error_t **error)
{
    outer_key(join->okey, t, side, key, key_len);
    GBytes *old = NULL;
    rill_err_t err = rill__kv_get(join->outer, join->okey->data, join->okey->len, &old, error);
    if (err != RILL_OK)
        return err;
    gsize old_len = 0;
    const void *old_data = old != NULL ? g_bytes_get_data(old, &old_len) : NULL;
    g_autofree uint8_t *entry = g_malloc(old_len + 4 + value_len);
    if (old_len > 0)
        memcpy(entry, old_data, old_len);
    uint32_t len = (uint32_t)value_len;
    entry[old_len] = (uint8_t)(len >> 24);
    entry[old_len + 1] = (uint8_t)(len >> 16);
    entry[old_len + 2] = (uint8_t)(len >> 8);
    entry[old_len + 3] = (uint8_t)len;
    if (value_len > 0)
        memcpy(entry + old_len + 4, value, value_len);
    if (old != NULL)
        g_bytes_unref(old);
    if (t < join->tracker->min_time)
        join->tracker->min_time = t;
    return rill__kv_put(join->outer, join->okey->data, join->okey->len, entry,
                        old_len + 4 + value_len, t, error);
}

/* Deletes the outer entry (t, side, key) if there is one (a read first, so
 * that a partner joining often does not log a tombstone each time). */
static rill_err_t outer_remove(sjoin_state_t *join, int64_t t, int side, const void *key,
                               size_t key_len, rill_error_t **error)
{
    outer_key(join->okey, t, side, key, key_len);
    GBytes *old = NULL;
    rill_err_t err = rill__kv_get(join->outer, join->okey->data, join->okey->len, &old, error);
    if (err != RILL_OK || old == NULL)
        return err;
    g_bytes_unref(old);
    return rill__kv_delete(join->outer, join->okey->data, join->okey->len, t, NULL, error);
}

/* Calls the joiner with value on side (the other null or other_value) and
 * forwards the result with key and timestamp. */
static rill_err_t emit(sjoin_state_t *join, const rill_record_t *input, const rill_value_t *key,
                       int side, const rill_value_t *value, const rill_value_t *other_value,
                       int64_t timestamp, bool keep_headers, rill_error_t **error)
{
    const sjoin_spec_t *spec = ((const sjoin_config_t *)join->pnode->node->config)->spec;
    static const rill_value_t null_value = RILL__VALUE_NULL_INIT;
    const rill_value_t *other = other_value != NULL ? other_value : &null_value;
    const rill_value_t *left = side == SIDE_LEFT ? value : other;
    const rill_value_t *right = side == SIDE_LEFT ? other : value;
    rill_value_t out = RILL__VALUE_NULL_INIT;
    rill_err_t err = spec->joiner(key, left, right, &out, spec->user_data, error);
    if (err == RILL_OK) {
        rill_record_t fwd;
        rill__record_derive(&fwd, input);
        rill__value_view(&fwd.key, key);
        rill__value_view(&fwd.value, &out);
        fwd.timestamp = timestamp;
        if (!keep_headers) {
            fwd.headers = NULL;
            fwd.header_count = 0;
        }
        err = rill__pnode_forward(join->pnode, &fwd, error);
    }
    rill__value_clear(&out);
    return err;
}

typedef struct closed_entry {
    GBytes *key; /* the outer store's key */
    GBytes *values;
} closed_entry_t;

static void closed_entry_clear(void *p)
{
    closed_entry_t *entry = p;
    g_bytes_unref(entry->key);
    g_bytes_unref(entry->values);
}

/* Emits one closed outer entry: each of its values, alone. */
static rill_err_t emit_closed_entry(sjoin_state_t *join, const rill_record_t *input,
                                    const closed_entry_t *entry, rill_error_t **error)
{
    gsize klen, vlen;
    const uint8_t *k = g_bytes_get_data(entry->key, &klen);
    const uint8_t *v = g_bytes_get_data(entry->values, &vlen);
    int64_t t = rill__wkey_time_get(k);
    int side = k[8];
    rill_value_t key = RILL__VALUE_NULL_INIT;
    rill_err_t err = rill__serde_deserialize(join->key_serde, klen > 9 ? k + 9 : (const void *)"",
                                             klen - 9, &key, &join->scratch_key, error);
    size_t pos = 0;
    while (err == RILL_OK && pos < vlen) {
        if (vlen - pos < 4) {
            err = rill_error_set(error, RILL_ERR_STORE, "outer join store: a corrupt entry");
            break;
        }
        size_t len = ((size_t)v[pos] << 24) | ((size_t)v[pos + 1] << 16) |
                     ((size_t)v[pos + 2] << 8) | v[pos + 3];
        pos += 4;
        if (vlen - pos < len) {
            err = rill_error_set(error, RILL_ERR_STORE, "outer join store: a corrupt entry");
            break;
        }
        rill_value_t value = RILL__VALUE_NULL_INIT;
        err = rill__serde_deserialize(join->value_serde[side], len > 0 ? v + pos : (const void *)"",
                                      len, &value, &join->scratch_value[side], error);
        if (err == RILL_OK)
            err = emit(join, input, &key, side, &value, NULL, t, false, error);
        rill__value_clear(&value);
        pos += len;
    }
    rill__value_clear(&key);
    return err;
}

/* Emits (and deletes) every outer entry whose window closed before stream time now. */
static rill_err_t emit_closed(sjoin_state_t *join, const rill_record_t *input, int64_t now,
                              rill_error_t **error)
{
    const rill_join_windows_t *w =
        &((const sjoin_config_t *)join->pnode->node->config)->spec->windows;
    int64_t min_reach = w->before_ms < w->after_ms ? w->before_ms : w->after_ms;
    int64_t bound = now - min_reach - w->grace_ms; /* only t < bound can be closed */
    int64_t min_time = join->tracker->min_time;
    if (min_time == INT64_MAX || (min_time != INT64_MIN && min_time >= bound))
        return RILL_OK;
    GByteArray *to = join->okey;
    g_byte_array_set_size(to, 0);
    rill__wkey_append_time(to, bound);
    rill__kv_iter_t *iter = rill__kv_range(join->outer, NULL, 0, to->data, to->len, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    int64_t remaining = bound; /* the earliest time left, once the closed ones go */
    GArray *closed = g_array_new(FALSE, FALSE, sizeof(closed_entry_t));
    g_array_set_clear_func(closed, closed_entry_clear);
    const void *key, *value;
    size_t key_len, value_len;
    while (rill__kv_iter_next(iter, &key, &key_len, &value, &value_len)) {
        if (key_len < 9)
            continue;
        int64_t t = rill__wkey_time_get(key);
        int side = ((const uint8_t *)key)[8];
        if (t + reach_fwd(w, side) + w->grace_ms < now) {
            closed_entry_t entry = {g_bytes_new(key, key_len), g_bytes_new(value, value_len)};
            g_array_append_val(closed, entry);
        } else if (t < remaining) {
            remaining = t;
        }
    }
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    if (err == RILL_OK)
        join->tracker->min_time = remaining;
    for (guint i = 0; err == RILL_OK && i < closed->len; i++) {
        closed_entry_t *entry = &g_array_index(closed, closed_entry_t, i);
        /* deleted first: what the joiner or downstream does cannot see it again */
        gsize klen;
        const void *k = g_bytes_get_data(entry->key, &klen);
        err = rill__kv_delete(join->outer, k, klen, rill__wkey_time_get(k), NULL, error);
        if (err == RILL_OK)
            err = emit_closed_entry(join, input, entry, error);
    }
    g_array_unref(closed);
    return err;
}

/* ---- processing ----------------------------------------------------------------------- */

static rill_err_t sjoin_process(rill__pnode_t *pnode, const rill_record_t *record,
                                rill_error_t **error)
{
    const sjoin_config_t *config = pnode->node->config;
    const sjoin_spec_t *spec = config->spec;
    const rill_join_windows_t *w = &spec->windows;
    sjoin_state_t *join = pnode->state;
    int side = config->side, other = 1 - side;
    if (record->key.type == RILL_VALUE_NULL || record->value.type == RILL_VALUE_NULL) {
        rill__task_record_dropped(pnode->task, RILL__DROP_NULL_KEY);
        return RILL_OK;
    }
    int64_t t = record->timestamp;
    int64_t before = stream_time(join);
    if (before != INT64_MIN && t + reach_fwd(w, side) + w->grace_ms < before) {
        rill__task_record_dropped(pnode->task, RILL__DROP_LATE);
        return RILL_OK;
    }
    const void *key, *value;
    size_t key_len, value_len;
    rill_err_t err = rill__serde_serialize_fast(join->key_serde, &record->key, &join->key_out,
                                                &key, &key_len, error);
    if (err == RILL_OK)
        err = rill__serde_serialize_fast(join->value_serde[side], &record->value,
                                         &join->value_out, &value, &value_len, error);
    if (err == RILL_OK)
        err = rill__window_put(join->buffer[side], key, key_len, t, value != NULL ? value : "",
                               value_len, t, error);
    if (err == RILL_OK && join->outer != NULL && t > before)
        err = emit_closed(join, record, t, error);
    if (err != RILL_OK)
        return err;

    int64_t from = t - reach_back(w, side), to = t + reach_fwd(w, side);
    rill__window_iter_t *iter = rill__window_fetch_range(join->buffer[other], key, key_len,
                                                         from > 0 ? from : 0, to, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    bool matched = false;
    int64_t last_removed = INT64_MIN;
    const void *okey, *ovalue;
    size_t okey_len, ovalue_len;
    int64_t ot;
    while (err == RILL_OK &&
           rill__window_iter_next(iter, &okey, &okey_len, &ot, &ovalue, &ovalue_len)) {
        matched = true;
        rill_value_t partner = RILL__VALUE_NULL_INIT;
        err = rill__serde_deserialize_fast(join->value_serde[other], ovalue, ovalue_len, &partner,
                                           &join->scratch_value[other], error);
        if (err == RILL_OK)
            err = emit(join, record, &record->key, side, &record->value, &partner,
                       t > ot ? t : ot, true, error);
        rill__value_clear(&partner);
        if (err == RILL_OK && join->outer != NULL && ot != last_removed) {
            err = outer_remove(join, ot, other, key, key_len, error);
            last_removed = ot;
        }
    }
    if (err == RILL_OK)
        err = rill__window_iter_status(iter, error);
    rill__window_iter_destroy(iter);
    if (err == RILL_OK && !matched && join->outer != NULL &&
        (spec->kind == SJOIN_OUTER || side == SIDE_LEFT))
        err = outer_add(join, t, side, key, key_len, value != NULL ? value : "", value_len, error);
    return err;
}

static const rill__node_ops_t sjoin_ops = {
    .kind = "KSTREAM-JOIN",
    .process = sjoin_process,
    .init = sjoin_init,
    .state_free = sjoin_state_free,
    .config_free = config_free,
    .stateful = true,
};

/* ---- the DSL ------------------------------------------------------------------------------- */

RILL_EXPORT rill_join_windows_t rill_join_windows_of(int64_t time_difference_ms, int64_t grace_ms)
{
    return (rill_join_windows_t){time_difference_ms, time_difference_ms, grace_ms};
}

static rill_stream_t *repartitioned(rill_stream_t *stream, const char *base, const char *which,
                                    const rill_serde_t *key_serde,
                                    const rill_serde_t *value_serde)
{
    if (!rill__stream_key_changed(stream))
        return stream;
    g_autofree char *name = g_strdup_printf("%s-%s", base, which);
    rill_produced_t produced = {.key_serde = key_serde, .value_serde = value_serde, .name = name};
    return rill_stream_repartition(stream, &produced);
}

static rill_stream_t *add_stream_join(rill_stream_t *stream, rill_stream_t *other,
                                      rill_joiner_fn joiner, void *user_data,
                                      rill_join_windows_t windows,
                                      const rill_stream_joined_t *joined, sjoin_kind_t kind)
{
    static const char *const fn_names[] = {"rill_stream_join", "rill_stream_left_join",
                                           "rill_stream_outer_join"};
    if (stream == NULL || !rill__builder_open(stream))
        return NULL;
    if (other == NULL || joiner == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "%s: %s is NULL", fn_names[kind],
                           other == NULL ? "the other stream" : "the joiner");
        return NULL;
    }
    if (windows.before_ms < 0 || windows.after_ms < 0 || windows.grace_ms < 0) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "%s: the join windows' before, after and grace must be >= 0",
                           fn_names[kind]);
        return NULL;
    }
    g_autofree char *base = joined != NULL && joined->name != NULL
                                ? g_strdup(joined->name)
                                : rill__builder_new_name(stream, "JOIN");
    if (!rill__topic_name_valid(base) || strlen(base) > 180) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "%s: the name \"%s\" must be a legal topic name of at most 180 "
                           "characters (it names stores and internal topics)",
                           fn_names[kind], base);
        return NULL;
    }
    const rill_serde_t *src_key = NULL, *src_value = NULL, *other_key = NULL, *other_value = NULL;
    rill__stream_source_serdes(stream, &src_key, &src_value);
    rill__stream_source_serdes(other, &other_key, &other_value);
    const rill_serde_t *key_serde = joined != NULL && joined->key_serde != NULL ? joined->key_serde
                                    : src_key != NULL                          ? src_key
                                                                               : other_key;
    const rill_serde_t *values[2] = {
        joined != NULL && joined->value_serde != NULL ? joined->value_serde : src_value,
        joined != NULL && joined->other_value_serde != NULL ? joined->other_value_serde
                                                            : other_value};
    stream = repartitioned(stream, base, "left", key_serde, values[0]);
    other = repartitioned(other, base, "right", key_serde, values[1]);
    if (stream == NULL || other == NULL)
        return NULL;

    sjoin_spec_t *spec = g_rc_box_new0(sjoin_spec_t);
    spec->kind = kind;
    spec->windows = windows;
    spec->joiner = joiner;
    spec->user_data = user_data;
    spec->in_memory = joined != NULL && joined->in_memory;
    spec->stores[0] = g_strdup_printf("%s-this-join-store", base);
    spec->stores[1] = g_strdup_printf("%s-other-join-store", base);
    spec->outer = kind != SJOIN_INNER ? g_strdup_printf("%s-outer-shared-join-store", base) : NULL;
    spec->key_serde = key_serde != NULL ? rill_serde_ref(key_serde) : NULL;
    for (int i = 0; i < 2; i++)
        spec->value_serde[i] = values[i] != NULL ? rill_serde_ref(values[i]) : NULL;

    rill_stream_t *inputs[2] = {stream, other};
    rill_stream_t *sides[2] = {NULL, NULL};
    static const char *const suffix[2] = {"this", "other"};
    for (int i = 0; i < 2; i++) {
        sjoin_config_t *config = g_new0(sjoin_config_t, 1);
        config->spec = g_rc_box_acquire(spec);
        config->side = i;
        g_autofree char *name = g_strdup_printf("%s-%s", base, suffix[i]);
        sides[i] = rill__builder_add_processor(&inputs[i], 1, &sjoin_ops, config, name, false);
        if (sides[i] == NULL)
            break;
        GPtrArray *stores = rill__stream_node(sides[i])->stores;
        g_ptr_array_add(stores, g_strdup(spec->stores[0]));
        g_ptr_array_add(stores, g_strdup(spec->stores[1]));
        for (int k = 0; k < 2; k++) /* windowed changelogs: compact,delete, a retention */
            rill__stream_store_changelog_config(
                sides[i], spec->stores[k],
                rill__windowed_changelog_config(buffer_retention(&windows), -1));
        if (spec->outer != NULL)
            g_ptr_array_add(stores, g_strdup(spec->outer));
    }
    g_rc_box_release_full(spec, spec_clear);
    if (sides[0] == NULL || sides[1] == NULL)
        return NULL;
    g_autofree char *merge_name = g_strdup_printf("%s-merge", base);
    return rill_stream_merge(sides[0], sides[1], merge_name);
}

RILL_EXPORT rill_stream_t *rill_stream_join(rill_stream_t *stream, rill_stream_t *other,
                                            rill_joiner_fn joiner, void *user_data,
                                            rill_join_windows_t windows,
                                            const rill_stream_joined_t *joined)
{
    return add_stream_join(stream, other, joiner, user_data, windows, joined, SJOIN_INNER);
}

RILL_EXPORT rill_stream_t *rill_stream_left_join(rill_stream_t *stream, rill_stream_t *other,
                                                 rill_joiner_fn joiner, void *user_data,
                                                 rill_join_windows_t windows,
                                                 const rill_stream_joined_t *joined)
{
    return add_stream_join(stream, other, joiner, user_data, windows, joined, SJOIN_LEFT);
}

RILL_EXPORT rill_stream_t *rill_stream_outer_join(rill_stream_t *stream, rill_stream_t *other,
                                                  rill_joiner_fn joiner, void *user_data,
                                                  rill_join_windows_t windows,
                                                  const rill_stream_joined_t *joined)
{
    return add_stream_join(stream, other, joiner, user_data, windows, joined, SJOIN_OUTER);
}
