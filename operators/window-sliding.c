/* window-sliding.c: windowed aggregations over sliding windows (Kafka Streams' SlidingWindows, KIP-450).
 *
 * The windows of a key, with time difference d, are [s, s + d], inclusive at
 * both ends, for
 *
 *     s = r - d       for each record time r        (the window ending at r)
 *     s = r + 1       for each record time r with a record in (r, r + 1 + d]
 *                                                    (the window starting just after r)
 *
 * i.e. one window per distinct set of records no more than d apart, as
 * Kafka Streams makes them. Aggregates cannot be taken apart, so a window's
 * aggregate is folded from its records: the node keeps each record's value in
 * the same segmented store as the windows, under another tag of the key
 * (store key E(tag | key) 00 01 | T(time) | seq, tag 0x01 = a window
 * aggregate at its start, 0x02 = a record, seq unique per record), and for a
 * record at t it
 *
 *     stream time st = max(st, t); every window holding t closed
 *         (t + d + grace < st: the end is inclusive) ──► late: dropped and counted
 *     stores the record, loads the key's records in [t - 2d - 1, t + 2d + 1]
 *     recomputes each window (of the definition above, over those records)
 *         that holds t, and the window starting at t + 1 if it exists now,
 *         unless it is closed (end + grace < st): fold(records in [s, s + d])
 *         in time order (then arrival order), put
 *
 * A window that does not hold t keeps its records, so nothing else changes.
 * The cost per record is the records within 2d of it (times the windows
 * recomputed, at most those within d): sliding windows suit small d per key
 * rate; tumbling and hopping windows are O(1) per window. Retention keeps
 * records and windows 3d + grace + 2 (at least) behind stream time, what a
 * record still accepted may need. Stream time is persisted as in
 * window-time.c. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "common/buf.h"
#include "operators/window-private.h"
#include "runtime/serde-private.h"
#include "stores/segments.h"
#include "stores/windowed-key.h"

#define TAG_WINDOW 0x01
#define TAG_RECORD 0x02

typedef struct wslide {
    rill__pnode_t *pnode;
    rill__kv_store_t *store;
    const rill_serde_t *key_serde;
    const rill_serde_t *value_serde;
    int64_t stream_time;
    int64_t persisted_time;
    uint32_t next_seq;
    rill_buffer_t key_out, value_out;
    GByteArray *skey, *hi, *tagged, *raw_key;
    rill_wbuf_t f_key, f_new, f_old;
    bool closing;
} wslide_t;

typedef struct rec {
    int64_t time;
    GBytes *value;
} rec_t;

static void rec_clear(gpointer p)
{
    rec_t *r = p;
    g_bytes_unref(r->value);
}

static void wslide_destroy(void *p)
{
    wslide_t *w = p;
    rill__wbuf_free(&w->key_out.wbuf);
    rill__wbuf_free(&w->value_out.wbuf);
    rill__wbuf_free(&w->f_key);
    rill__wbuf_free(&w->f_new);
    rill__wbuf_free(&w->f_old);
    g_byte_array_unref(w->skey);
    g_byte_array_unref(w->hi);
    g_byte_array_unref(w->tagged);
    g_byte_array_unref(w->raw_key);
    g_free(w);
}

static rill_err_t wslide_forward(void *ud, const void *skey, size_t skey_len, GBytes *new_value,
                                 GBytes *old_value, int64_t timestamp, rill_error_t **error)
{
    wslide_t *w = ud;
    if (w->closing)
        return RILL_OK;
    const uint8_t *k = skey;
    if (skey_len >= 2 && k[0] == 0x00 && k[1] == 0x02) /* the stream time key */
        return RILL_OK;
    const rill__wagg_config_t *config = w->pnode->node->config;
    const uint8_t *suffix = NULL;
    if (!rill__wkey_decode(skey, skey_len, RILL__WINDOW_SUFFIX_LEN, w->raw_key, &suffix) ||
        w->raw_key->len < 1)
        return rill_error_set(error, RILL_ERR_CORRUPT, "window store %s: a malformed key",
                              config->store);
    if (w->raw_key->data[0] != TAG_WINDOW) /* a record kept for folding */
        return RILL_OK;
    struct rill_windowed windowed = {.magic = RILL__WINDOWED_MAGIC,
                                     .key = RILL__VALUE_NULL_INIT};
    windowed.start = rill__wkey_time_get(suffix);
    windowed.end = windowed.start + config->spec.size;
    return rill__window_forward_change(w->pnode, w->key_serde, w->value_serde, w->raw_key->data + 1,
                                       w->raw_key->len - 1,
                                       &windowed, new_value, old_value, timestamp, &w->f_key,
                                       &w->f_new, &w->f_old, error);
}

static rill_err_t wslide_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const rill__wagg_config_t *config = pnode->node->config;
    wslide_t *w = g_new0(wslide_t, 1);
    w->pnode = pnode;
    rill__wagg_serdes(config, rill__task_env(pnode->task), &w->key_serde, &w->value_serde);
    rill__wbuf_init(&w->key_out.wbuf, 0);
    rill__wbuf_init(&w->value_out.wbuf, 0);
    rill__wbuf_init(&w->f_key, 0);
    rill__wbuf_init(&w->f_new, 0);
    rill__wbuf_init(&w->f_old, 0);
    w->skey = g_byte_array_new();
    w->hi = g_byte_array_new();
    w->tagged = g_byte_array_new();
    w->raw_key = g_byte_array_new();
    rill__segments_config_t segments = {
        .retention_ms = config->spec.retention,
        .suffix_len = RILL__WINDOW_SUFFIX_LEN,
        .track_seq = true,
    };
    w->store = rill__state_segmented_store(pnode, config->store, config->in_memory, &segments,
                                           wslide_forward, w, error);
    if (w->store == NULL ||
        rill__window_stream_time_load(w->store, RILL__WINDOW_SUFFIX_LEN, &w->stream_time,
                                      error) != RILL_OK) {
        wslide_destroy(w);
        return RILL_ERR_STORE;
    }
    w->next_seq = rill__segments_next_seq(rill__kv_store_innermost(w->store));
    if (w->next_seq == 0)
        w->next_seq = 1; /* 0 is the windows' */
    w->persisted_time = w->stream_time;
    pnode->state = w;
    rill__state_defer_free(pnode, w, wslide_destroy);
    return RILL_OK;
}

static void wslide_state_free(rill__pnode_t *pnode)
{
    wslide_t *w = pnode->state;
    w->closing = true;
}

static rill_err_t wslide_flush(rill__pnode_t *pnode, rill_error_t **error)
{
    return rill__kv_flush(((wslide_t *)pnode->state)->store, error);
}

/* The stream time, once what the flush above produced is acknowledged
 * (rill__window_stream_time_persist). */
static rill_err_t wslide_flush_marks(rill__pnode_t *pnode, rill_error_t **error)
{
    wslide_t *w = pnode->state;
    return rill__window_stream_time_persist(w->store, w->skey, RILL__WINDOW_SUFFIX_LEN,
                                            w->stream_time, &w->persisted_time, error);
}

static void set_tagged(wslide_t *w, uint8_t tag, const void *key, size_t key_len)
{
    g_byte_array_set_size(w->tagged, 0);
    g_byte_array_append(w->tagged, &tag, 1);
    g_byte_array_append(w->tagged, key_len > 0 ? key : (const void *)"", (guint)key_len);
}

/* The records of the key (w->tagged holds TAG_RECORD | key) with from <= time <= to, in order. */
static rill_err_t load_records(wslide_t *w, int64_t from, int64_t to, GArray *out,
                               rill_error_t **error)
{
    g_byte_array_set_size(w->skey, 0);
    rill__wkey_append_prefix(w->skey, w->tagged->data, w->tagged->len);
    size_t prefix_len = w->skey->len;
    g_byte_array_set_size(w->hi, 0);
    g_byte_array_append(w->hi, w->skey->data, (guint)prefix_len);
    rill__wkey_append_time(w->skey, from);
    rill__wkey_append_time(w->hi, to == INT64_MAX ? to : to + 1);
    rill__kv_iter_t *iter =
        rill__kv_range(w->store, w->skey->data, w->skey->len, w->hi->data, w->hi->len, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    const void *k, *v;
    size_t kl, vl;
    while (rill__kv_iter_next(iter, &k, &kl, &v, &vl)) {
        if (kl != prefix_len + RILL__WINDOW_SUFFIX_LEN)
            continue;
        rec_t r = {.time = rill__wkey_time_get((const uint8_t *)k + prefix_len),
                   .value = g_bytes_new(v, vl)};
        g_array_append_val(out, r);
    }
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    return err;
}

static int cmp_int64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Folds the records in [s, s + d] into the window's aggregate, then puts it. */
static rill_err_t recompute(wslide_t *w, const rill__wagg_config_t *config,
                            const rill_record_t *record, GArray *records, int64_t s,
                            const void *key, size_t key_len, rill_error_t **error)
{
    const int64_t d = config->spec.size;
    rill_value_t agg = RILL__VALUE_NULL_INIT;
    rill_err_t err = RILL_OK;
    int64_t max_time = INT64_MIN;
    int64_t count = 0;
    for (guint i = 0; err == RILL_OK && i < records->len; i++) {
        rec_t *r = &g_array_index(records, rec_t, i);
        if (r->time < s || r->time > s + d)
            continue;
        max_time = MAX(max_time, r->time);
        count++;
        if (config->op == RILL__WAGG_COUNT)
            continue;
        gsize n;
        const void *p = g_bytes_get_data(r->value, &n);
        rill_value_t value = RILL__VALUE_NULL_INIT, out = RILL__VALUE_NULL_INIT;
        if (n < 1)
            err = rill_error_set(error, RILL_ERR_CORRUPT, "window store %s: a malformed record",
                                 config->store);
        else
            err = rill_serde_deserialize(
                rill__serde_for_type((rill_value_type_t)((const uint8_t *)p)[0]),
                (const uint8_t *)p + 1, n - 1, &value, error);
        if (err == RILL_OK && config->op == RILL__WAGG_REDUCE) {
            if (agg.type == RILL_VALUE_NULL)
                rill__value_view(&out, &value);
            else
                err = config->reducer(&agg, &value, &out, config->user_data, error);
        } else if (err == RILL_OK) {
            if (agg.type == RILL_VALUE_NULL)
                err = config->initializer(&agg, config->user_data, error);
            if (err == RILL_OK)
                err = config->adder(&record->key, &value, &agg, &out, config->user_data, error);
        }
        if (err == RILL_OK && out.type == RILL_VALUE_NULL)
            err = rill_error_set(error, RILL_ERR_USER, "the aggregator returned a null aggregate");
        /* out may borrow from agg or value: make it an owned copy */
        if (err == RILL_OK) {
            const void *d2;
            size_t l;
            rill_value_t fresh = RILL__VALUE_NULL_INIT;
            err = rill__serde_serialize(w->value_serde, &out, &w->value_out, &d2, &l, error);
            if (err == RILL_OK)
                err = rill_serde_deserialize(w->value_serde, d2 != NULL ? d2 : "", l, &fresh,
                                             error);
            if (err == RILL_OK) {
                rill__value_clear(&agg);
                agg = fresh;
            }
        }
        rill__value_clear(&out);
        rill__value_clear(&value);
    }
    if (err == RILL_OK && count == 0) { /* cannot happen: every window holds a record */
        rill__value_clear(&agg);
        return RILL_OK;
    }
    if (err == RILL_OK && config->op == RILL__WAGG_COUNT)
        rill_value_set_int64(&agg, count);
    const void *data = NULL;
    size_t len = 0;
    if (err == RILL_OK)
        err = rill__serde_serialize(w->value_serde, &agg, &w->value_out, &data, &len, error);
    if (err == RILL_OK) {
        set_tagged(w, TAG_WINDOW, key, key_len);
        rill__wkey_window(w->skey, w->tagged->data, w->tagged->len, s, 0);
        err = rill__kv_put(w->store, w->skey->data, w->skey->len, data != NULL ? data : "", len,
                           max_time, error);
    }
    rill__value_clear(&agg);
    return err;
}


static rill_err_t wslide_process(rill__pnode_t *pnode, const rill_record_t *record,
                                 rill_error_t **error)
{
    const rill__wagg_config_t *config = pnode->node->config;
    wslide_t *w = pnode->state;
    if (record->key.type == RILL_VALUE_NULL) {
        rill__task_record_dropped(pnode->task, RILL__DROP_NULL_KEY);
        return RILL_OK;
    }
    if (record->value.type == RILL_VALUE_NULL)
        return RILL_OK;
    const int64_t t = record->timestamp, d = config->spec.size;
    const int64_t delay = rill__window_close_delay(&config->spec); /* grace + 1 */
    if (t > w->stream_time)
        w->stream_time = t;
    const int64_t st = w->stream_time;
    if (t + d + delay <= st) { /* every window holding t (end <= t + d) is closed */
        rill__window_record_late(pnode, config->store, t, st);
        return RILL_OK;
    }
    const void *key, *vdata = NULL;
    size_t key_len, vlen = 0;
    rill_err_t err =
        rill__serde_serialize(w->key_serde, &record->key, &w->key_out, &key, &key_len, error);
    /* keep the record: its value as [type][bytes of the type's serde] (counts need none) */
    uint8_t type = (uint8_t)record->value.type;
    if (err == RILL_OK && config->op != RILL__WAGG_COUNT)
        err = rill__serde_serialize(rill__serde_for_type(record->value.type), &record->value,
                                    &w->value_out, &vdata, &vlen, error);
    if (err != RILL_OK)
        return err;
    g_byte_array_set_size(w->hi, 0);
    g_byte_array_append(w->hi, &type, 1);
    g_byte_array_append(w->hi, vlen > 0 ? vdata : (const void *)"", (guint)vlen);
    set_tagged(w, TAG_RECORD, key, key_len);
    rill__wkey_window(w->skey, w->tagged->data, w->tagged->len, t, w->next_seq++);
    if ((err = rill__kv_put(w->store, w->skey->data, w->skey->len, w->hi->data, w->hi->len, t,
                            error)) != RILL_OK)
        return err;

    GArray *records = g_array_new(FALSE, FALSE, sizeof(rec_t));
    g_array_set_clear_func(records, rec_clear);
    err = load_records(w, t - 2 * d - 1, t + 2 * d + 1, records, error);
    /* the window starts that exist now and must be recomputed */
    GArray *starts = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (guint i = 0; err == RILL_OK && i < records->len; i++) {
        int64_t r = g_array_index(records, rec_t, i).time;
        int64_t left = r - d; /* the window ending at r */
        if (left <= t && t <= left + d)
            g_array_append_val(starts, left);
        int64_t right = r + 1; /* the window starting after r, if it holds a record */
        bool holds = (right <= t && t <= right + d) || right == t + 1;
        if (holds) {
            bool nonempty = false;
            for (guint j = i + 1; j < records->len && !nonempty; j++) {
                int64_t x = g_array_index(records, rec_t, j).time;
                nonempty = x > r && x <= r + 1 + d;
            }
            if (nonempty)
                g_array_append_val(starts, right);
        }
    }
    g_array_sort(starts, cmp_int64);
    int64_t last = INT64_MIN;
    for (guint i = 0; err == RILL_OK && i < starts->len; i++) {
        int64_t s = g_array_index(starts, int64_t, i);
        if (s == last)
            continue;
        last = s;
        if (s + d + delay <= st)
            continue; /* closed */
        err = recompute(w, config, record, records, s, key, key_len, error);
    }
    g_array_free(starts, TRUE);
    g_array_free(records, TRUE);
    return err;
}

const rill__node_ops_t rill__window_sliding_ops = {
    .kind = "SLIDING-WINDOW-AGGREGATE",
    .process = wslide_process,
    .init = wslide_init,
    .state_free = wslide_state_free,
    .flush = wslide_flush,
    .flush_marks = wslide_flush_marks,
    .config_free = rill__wagg_config_free,
    .stateful = true,
};
