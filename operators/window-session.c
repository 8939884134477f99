/* window-session.c: windowed aggregations over session windows (count, reduce, aggregate with a merger).
 *
 * Kafka Streams' KStreamSessionWindowAggregate. Each task keeps a segmented
 * session store (state.h; segments by session end, store key E(key) 00 01 |
 * T(end) | T(start), stores/windowed-key.h), behind the record cache. For a
 * record at time t with inactivity gap g:
 *
 *     stream time st = max(st, t)
 *     overlapping = the key's sessions with end >= t - g and start <= t + g (end order)
 *     merged = [min(t, their starts), max(t, their ends)]
 *     merged.end + g + grace < st, or one of them closed (end + g + grace < st:
 *     a record exactly g after a session's end still joins it)
 *         ──► late: dropped and counted, nothing changes (a closed session is final:
 *             suppression may have emitted it)
 *     else: aggregate = merger(... merger(s1, s2) ..., sn) (count: the sum), then
 *           adder(record) (reduce: the first value as is, then the reducer);
 *           each overlapping session removed (a (key, null) update downstream),
 *           the merged one put
 *
 * A session split never happens: sessions only grow or merge (records are
 * never taken away). Stream time is persisted as in window-time.c (the
 * reserved key 0x00 0x02 | T(st) | 8 zero bytes), so that a restart does not
 * re-open closed sessions. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "common/buf.h"
#include "operators/window-private.h"
#include "runtime/serde-private.h"
#include "stores/segments.h"
#include "stores/windowed-key.h"

typedef struct wsession {
    rill__pnode_t *pnode;
    rill__kv_store_t *store;
    const rill_serde_t *key_serde;
    const rill_serde_t *value_serde;
    int64_t stream_time;
    int64_t persisted_time;
    rill_buffer_t key_out, value_out;
    GByteArray *skey, *hi, *raw_key;
    rill_wbuf_t f_key, f_new, f_old, f_agg, f_merge;
    bool closing;
} wsession_t;

static void wsession_destroy(void *p)
{
    wsession_t *w = p;
    rill__wbuf_free(&w->key_out.wbuf);
    rill__wbuf_free(&w->value_out.wbuf);
    rill__wbuf_free(&w->f_key);
    rill__wbuf_free(&w->f_new);
    rill__wbuf_free(&w->f_old);
    rill__wbuf_free(&w->f_agg);
    rill__wbuf_free(&w->f_merge);
    g_byte_array_unref(w->skey);
    g_byte_array_unref(w->hi);
    g_byte_array_unref(w->raw_key);
    g_free(w);
}

static rill_err_t wsession_forward(void *ud, const void *skey, size_t skey_len,
                                   GBytes *new_value, GBytes *old_value, int64_t timestamp,
                                   rill_error_t **error)
{
    wsession_t *w = ud;
    if (w->closing)
        return RILL_OK;
    const uint8_t *k = skey;
    if (skey_len >= 2 && k[0] == 0x00 && k[1] == 0x02) /* the stream time key */
        return RILL_OK;
    const rill__wagg_config_t *config = w->pnode->node->config;
    const uint8_t *suffix = NULL;
    if (!rill__wkey_decode(skey, skey_len, RILL__SESSION_SUFFIX_LEN, w->raw_key, &suffix))
        return rill_error_set(error, RILL_ERR_CORRUPT, "session store %s: a malformed key",
                              config->store);
    struct rill_windowed windowed = {.magic = RILL__WINDOWED_MAGIC,
                                     .key = RILL__VALUE_NULL_INIT};
    windowed.end = rill__wkey_time_get(suffix);
    windowed.start = rill__wkey_time_get(suffix + 8);
    return rill__window_forward_change(w->pnode, w->key_serde, w->value_serde, w->raw_key->data, w->raw_key->len,
                                       &windowed, new_value, old_value, timestamp, &w->f_key,
                                       &w->f_new, &w->f_old, error);
}

static rill_err_t wsession_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const rill__wagg_config_t *config = pnode->node->config;
    wsession_t *w = g_new0(wsession_t, 1);
    w->pnode = pnode;
    rill__wagg_serdes(config, rill__task_env(pnode->task), &w->key_serde, &w->value_serde);
    rill__wbuf_init(&w->key_out.wbuf, 0);
    rill__wbuf_init(&w->value_out.wbuf, 0);
    rill__wbuf_init(&w->f_key, 0);
    rill__wbuf_init(&w->f_new, 0);
    rill__wbuf_init(&w->f_old, 0);
    rill__wbuf_init(&w->f_agg, 0);
    rill__wbuf_init(&w->f_merge, 0);
    w->skey = g_byte_array_new();
    w->hi = g_byte_array_new();
    w->raw_key = g_byte_array_new();
    rill__segments_config_t segments = {
        .retention_ms = config->spec.retention,
        .suffix_len = RILL__SESSION_SUFFIX_LEN,
    };
    w->store = rill__state_segmented_store(pnode, config->store, config->in_memory, &segments,
                                           wsession_forward, w, error);
    if (w->store == NULL ||
        rill__window_stream_time_load(w->store, RILL__SESSION_SUFFIX_LEN, &w->stream_time,
                                      error) != RILL_OK) {
        wsession_destroy(w);
        return RILL_ERR_STORE;
    }
    w->persisted_time = w->stream_time;
    pnode->state = w;
    rill__state_defer_free(pnode, w, wsession_destroy);
    return RILL_OK;
}

static void wsession_state_free(rill__pnode_t *pnode)
{
    wsession_t *w = pnode->state;
    w->closing = true;
}

static rill_err_t wsession_flush(rill__pnode_t *pnode, rill_error_t **error)
{
    return rill__kv_flush(((wsession_t *)pnode->state)->store, error);
}

/* The stream time, once what the flush above produced is acknowledged
 * (rill__window_stream_time_persist). */
static rill_err_t wsession_flush_marks(rill__pnode_t *pnode, rill_error_t **error)
{
    wsession_t *w = pnode->state;
    return rill__window_stream_time_persist(w->store, w->skey, RILL__SESSION_SUFFIX_LEN,
                                            w->stream_time, &w->persisted_time, error);
}

typedef struct session {
    int64_t start, end;
    GBytes *skey;
    GBytes *value;
} session_t;

static void session_clear(gpointer p)
{
    session_t *s = p;
    g_bytes_unref(s->skey);
    g_bytes_unref(s->value);
}

/* The sessions of key (E(key) 00 01 prefix) with end >= earliest_end and start <= latest_start. */
static rill_err_t find_sessions(wsession_t *w, const void *key, size_t key_len,
                                int64_t earliest_end, int64_t latest_start, GArray *out,
                                rill_error_t **error)
{
    g_byte_array_set_size(w->skey, 0);
    rill__wkey_append_prefix(w->skey, key, key_len);
    g_byte_array_set_size(w->hi, w->skey->len);
    ptrdiff_t hi_len = rill__kv_prefix_end(w->skey->data, w->skey->len, w->hi->data);
    rill__wkey_append_time(w->skey, earliest_end);
    rill__kv_iter_t *iter = rill__kv_range(w->store, w->skey->data, w->skey->len,
                                           hi_len >= 0 ? w->hi->data : NULL,
                                           hi_len >= 0 ? (size_t)hi_len : 0, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    const void *k, *v;
    size_t kl, vl;
    while (rill__kv_iter_next(iter, &k, &kl, &v, &vl)) {
        if (kl < RILL__SESSION_SUFFIX_LEN)
            continue;
        const uint8_t *suffix = (const uint8_t *)k + kl - RILL__SESSION_SUFFIX_LEN;
        session_t s = {.end = rill__wkey_time_get(suffix),
                       .start = rill__wkey_time_get(suffix + 8)};
        if (s.end < earliest_end || s.start > latest_start)
            continue;
        s.skey = g_bytes_new(k, kl);
        s.value = g_bytes_new(v, vl);
        g_array_append_val(out, s);
    }
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    return err;
}


/* agg = the merge of the sessions' aggregates (in order), then the record added. */
static rill_err_t compute(wsession_t *w, const rill__wagg_config_t *config,
                          const rill_record_t *record, GArray *sessions, rill_value_t *agg,
                          GBytes **result, rill_error_t **error)
{
    rill_err_t err = RILL_OK;
    /* agg starts null: the first session's aggregate, then merges */
    for (guint i = 0; err == RILL_OK && i < sessions->len; i++) {
        session_t *s = &g_array_index(sessions, session_t, i);
        gsize n;
        const void *p = g_bytes_get_data(s->value, &n);
        rill_value_t value = RILL__VALUE_NULL_INIT;
        rill_wbuf_t scratch;
        rill__wbuf_init(&scratch, 0);
        err = rill__serde_deserialize(w->value_serde, p != NULL ? p : "", n, &value, &scratch,
                                      error);
        if (err == RILL_OK && agg->type == RILL_VALUE_NULL) {
            /* own a copy: scratch goes away */
            rill_buffer_t tmp;
            rill__wbuf_init(&tmp.wbuf, 0);
            const void *d;
            size_t l;
            err = rill__serde_serialize(w->value_serde, &value, &tmp, &d, &l, error);
            if (err == RILL_OK)
                err = rill_serde_deserialize(w->value_serde, d != NULL ? d : "", l, agg, error);
            rill__wbuf_free(&tmp.wbuf);
        } else if (err == RILL_OK) {
            rill_value_t merged = RILL__VALUE_NULL_INIT;
            switch (config->op) {
            case RILL__WAGG_COUNT:
                rill_value_set_int64(&merged, rill_value_int64(agg) + rill_value_int64(&value));
                break;
            case RILL__WAGG_REDUCE:
                err = config->reducer(agg, &value, &merged, config->user_data, error);
                break;
            case RILL__WAGG_AGGREGATE:
                err = config->merger(&record->key, agg, &value, &merged, config->user_data,
                                     error);
                break;
            }
            if (err == RILL_OK && merged.type == RILL_VALUE_NULL)
                err = rill_error_set(error, RILL_ERR_USER, "the merger returned a null aggregate");
            /* merged may borrow from agg or value: serialize it, and read it back owned */
            if (err == RILL_OK) {
                rill_buffer_t tmp;
                rill__wbuf_init(&tmp.wbuf, 0);
                const void *d;
                size_t l;
                rill_value_t fresh = RILL__VALUE_NULL_INIT;
                err = rill__serde_serialize(w->value_serde, &merged, &tmp, &d, &l, error);
                if (err == RILL_OK)
                    err = rill_serde_deserialize(w->value_serde, d != NULL ? d : "", l, &fresh,
                                                 error);
                rill__value_clear(&merged);
                if (err == RILL_OK) {
                    rill__value_clear(agg);
                    *agg = fresh;
                } else {
                    rill__value_clear(&fresh);
                }
                rill__wbuf_free(&tmp.wbuf);
            }
            rill__value_clear(&merged);
        }
        rill__value_clear(&value);
        rill__wbuf_free(&scratch);
    }
    if (err != RILL_OK)
        return err;
    rill_value_t out = RILL__VALUE_NULL_INIT;
    switch (config->op) {
    case RILL__WAGG_COUNT:
        rill_value_set_int64(&out, rill_value_int64(agg) + 1);
        break;
    case RILL__WAGG_REDUCE:
        if (agg->type == RILL_VALUE_NULL)
            rill__value_view(&out, &record->value);
        else
            err = config->reducer(agg, &record->value, &out, config->user_data, error);
        break;
    case RILL__WAGG_AGGREGATE:
        if (agg->type == RILL_VALUE_NULL)
            err = config->initializer(agg, config->user_data, error);
        if (err == RILL_OK)
            err = config->adder(&record->key, &record->value, agg, &out, config->user_data, error);
        break;
    }
    if (err == RILL_OK && out.type == RILL_VALUE_NULL)
        err = rill_error_set(error, RILL_ERR_USER, "the aggregator returned a null aggregate");
    const void *data = NULL;
    size_t len = 0;
    if (err == RILL_OK)
        err = rill__serde_serialize(w->value_serde, &out, &w->value_out, &data, &len, error);
    if (err == RILL_OK) /* data may point into out: copy before releasing it */
        *result = g_bytes_new(data != NULL ? data : "", len);
    rill__value_clear(&out);
    return err;
}

static rill_err_t wsession_process(rill__pnode_t *pnode, const rill_record_t *record,
                                   rill_error_t **error)
{
    const rill__wagg_config_t *config = pnode->node->config;
    wsession_t *w = pnode->state;
    if (record->key.type == RILL_VALUE_NULL) {
        rill__task_record_dropped(pnode->task, RILL__DROP_NULL_KEY);
        return RILL_OK;
    }
    if (record->value.type == RILL_VALUE_NULL)
        return RILL_OK;
    const int64_t t = record->timestamp, gap = config->spec.size;
    const int64_t delay = rill__window_close_delay(&config->spec); /* gap + grace + 1 */
    if (t > w->stream_time)
        w->stream_time = t;
    const void *key;
    size_t key_len;
    rill_err_t err =
        rill__serde_serialize(w->key_serde, &record->key, &w->key_out, &key, &key_len, error);
    if (err != RILL_OK)
        return err;
    GArray *sessions = g_array_new(FALSE, FALSE, sizeof(session_t));
    g_array_set_clear_func(sessions, session_clear);
    err = find_sessions(w, key, key_len, t - gap, t + gap, sessions, error);
    int64_t start = t, end = t;
    bool touches_closed = false; /* it would extend or merge a closed session */
    for (guint i = 0; err == RILL_OK && i < sessions->len; i++) {
        session_t *s = &g_array_index(sessions, session_t, i);
        start = MIN(start, s->start);
        end = MAX(end, s->end);
        touches_closed = touches_closed || s->end + delay <= w->stream_time;
    }
    if (err == RILL_OK && (touches_closed || end + delay <= w->stream_time)) {
        rill__window_record_late(pnode, config->store, t, w->stream_time);
        g_array_free(sessions, TRUE);
        return RILL_OK;
    }
    rill_value_t agg = RILL__VALUE_NULL_INIT;
    GBytes *value = NULL;
    if (err == RILL_OK)
        err = compute(w, config, record, sessions, &agg, &value, error);
    rill__value_clear(&agg);
    for (guint i = 0; err == RILL_OK && i < sessions->len; i++) {
        session_t *s = &g_array_index(sessions, session_t, i);
        gsize kl;
        const void *k = g_bytes_get_data(s->skey, &kl);
        err = rill__kv_delete(w->store, k, kl, t, NULL, error);
    }
    if (err == RILL_OK) {
        rill__wkey_session(w->skey, key, key_len, start, end);
        gsize vl;
        const void *v = g_bytes_get_data(value, &vl);
        err = rill__kv_put(w->store, w->skey->data, w->skey->len, v != NULL ? v : "", vl, t,
                           error);
    }
    if (value != NULL)
        g_bytes_unref(value);
    g_array_free(sessions, TRUE);
    return err;
}

const rill__node_ops_t rill__window_session_ops = {
    .kind = "SESSION-WINDOW-AGGREGATE",
    .process = wsession_process,
    .init = wsession_init,
    .state_free = wsession_state_free,
    .flush = wsession_flush,
    .flush_marks = wsession_flush_marks,
    .config_free = rill__wagg_config_free,
    .stateful = true,
};

/* ---- the DSL ------------------------------------------------------------------------ */

static rill_table_t *session_aggregate(rill_session_windowed_t *windowed,
                                       rill__wagg_config_t *config,
                                       const rill_materialized_t *materialized)
{
    config->spec = windowed->spec;
    return rill__wagg_add(windowed->stream, config, materialized, windowed->emit_final);
}

RILL_EXPORT rill_table_t *rill_session_windowed_count(rill_session_windowed_t *windowed,
                                                      const rill_materialized_t *materialized)
{
    if (windowed == NULL)
        return NULL;
    rill__wagg_config_t *config = g_new0(rill__wagg_config_t, 1);
    config->op = RILL__WAGG_COUNT;
    return session_aggregate(windowed, config, materialized);
}

RILL_EXPORT rill_table_t *rill_session_windowed_reduce(rill_session_windowed_t *windowed,
                                                       rill_reducer_fn reducer, void *user_data,
                                                       const rill_materialized_t *materialized)
{
    if (windowed == NULL)
        return NULL;
    if (reducer == NULL) {
        rill__builder_fail(windowed->stream, RILL_ERR_INVALID_ARG,
                           "rill_session_windowed_reduce: a reducer is required");
        return NULL;
    }
    rill__wagg_config_t *config = g_new0(rill__wagg_config_t, 1);
    config->op = RILL__WAGG_REDUCE;
    config->reducer = reducer;
    config->user_data = user_data;
    return session_aggregate(windowed, config, materialized);
}

RILL_EXPORT rill_table_t *rill_session_windowed_aggregate(rill_session_windowed_t *windowed,
                                                          rill_initializer_fn initializer,
                                                          rill_aggregator_fn adder,
                                                          rill_merger_fn merger, void *user_data,
                                                          const rill_materialized_t *materialized)
{
    if (windowed == NULL)
        return NULL;
    if (initializer == NULL || adder == NULL || merger == NULL) {
        rill__builder_fail(windowed->stream, RILL_ERR_INVALID_ARG,
                           "rill_session_windowed_aggregate: an initializer, an adder and a "
                           "merger are required");
        return NULL;
    }
    rill__wagg_config_t *config = g_new0(rill__wagg_config_t, 1);
    config->op = RILL__WAGG_AGGREGATE;
    config->initializer = initializer;
    config->adder = adder;
    config->merger = merger;
    config->user_data = user_data;
    return session_aggregate(windowed, config, materialized);
}
