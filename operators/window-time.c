/* window-time.c: windowed aggregations over time windows (tumbling, hopping), and what every windowed aggregation shares (DSL, stream time, lateness).
 *
 * Kafka Streams' KStreamWindowAggregate. Each task keeps a segmented window
 * store (operators/state.h: RocksDB or memory, change-logged, behind the
 * record cache) whose store key is E(key) 00 01 | T(start) | seq 0
 * (stores/windowed-key.h). For a record at time t:
 *
 *     stream time st = max(st, t)
 *     for each window [s, s + size) holding t (s = k * advance, s <= t < s + size):
 *         s + size + grace <= st ? closed: skip
 *                                : aggregate = get(key, s) (+) record; put(key, s)
 *     no window open   ──► late: dropped, counted (rill__task_record_dropped) and debug-logged
 *
 * The caching layer forwards each flushed window as (windowed key, new, old)
 * (at once with caching off), which goes downstream as a table update
 * (rill__change_t) whose key is a windowed key (window-private.h).
 *
 * Stream time survives restarts: at each commit the node writes it into its
 * own store under a reserved key (0x00 0x02 | T(st) | 0, a key no E(key)
 * starts with) in the commit's second phase (flush_marks, runtime/node.h),
 * once everything the stores' flush produced (windows, the suppression
 * buffer's changelog, output) is acknowledged, so a restore that sees it has
 * every write it covers; a restore finds the largest one. A restarted task thus resumes
 * at the stream time of the last commit, which is where its input resumes:
 * it replays the records after the commit with the lateness decisions they
 * had. Without that it would start from an earlier stream time, accept again
 * records that were late before, and re-open (and re-emit) windows that had
 * closed before the commit.
 *
 * Invariants: a window is updated only while stream time < its end + grace,
 * so after suppression sees stream time pass end + grace (window-
 * suppress.c) no update of it can follow. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "common/buf.h"
#include "common/log.h"
#include "operators/window-private.h"
#include "runtime/serde-private.h"
#include "stores/segments.h"
#include "stores/windowed-key.h"

/* ---- shared: lateness, stream time ---------------------------------------------- */

void rill__window_record_late(rill__pnode_t *pnode, const char *what, int64_t timestamp,
                              int64_t stream_time)
{
    rill__task_record_dropped(pnode->task, RILL__DROP_LATE);
    if (RILL_LOG_ENABLED(RILL_LOG_LVL_DEBUG))
        RILL_LOG_DEBUG("window", "task %s: %s: dropped a late record (timestamp %" PRId64
                       ", stream time %" PRId64 ")",
                       rill__pnode_task_id(pnode), what, timestamp, stream_time);
}

void rill__window_stream_time_key(GByteArray *out, size_t suffix_len, int64_t stream_time)
{
    static const uint8_t reserved[2] = {0x00, 0x02};
    g_byte_array_set_size(out, 0);
    g_byte_array_append(out, reserved, 2);
    rill__wkey_append_time(out, stream_time);
    static const uint8_t zeros[8] = {0};
    g_byte_array_append(out, zeros, (guint)(suffix_len - 8));
}

rill_err_t rill__window_stream_time_persist(rill__kv_store_t *store, GByteArray *scratch,
                                           size_t suffix_len, int64_t stream_time,
                                           int64_t *persisted, rill_error_t **error)
{
    if (stream_time == *persisted)
        return RILL_OK;
    rill__window_stream_time_key(scratch, suffix_len, stream_time);
    rill_err_t err =
        rill__kv_put(store, scratch->data, scratch->len, "", 0, stream_time, error);
    if (err == RILL_OK && *persisted != INT64_MIN) {
        rill__window_stream_time_key(scratch, suffix_len, *persisted);
        err = rill__kv_delete(store, scratch->data, scratch->len, stream_time, NULL, error);
    }
    if (err == RILL_OK)
        *persisted = stream_time;
    return err;
}

rill_err_t rill__window_stream_time_load(rill__kv_store_t *store, size_t suffix_len,
                                         int64_t *stream_time, rill_error_t **error)
{
    static const uint8_t reserved[2] = {0x00, 0x02};
    *stream_time = INT64_MIN;
    rill__kv_iter_t *iter = rill__kv_prefix(store, reserved, 2, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    const void *key, *value;
    size_t key_len, value_len;
    while (rill__kv_iter_next(iter, &key, &key_len, &value, &value_len)) {
        if (key_len != 2 + suffix_len)
            continue;
        int64_t t = rill__wkey_time_get((const uint8_t *)key + 2);
        if (t > *stream_time)
            *stream_time = t;
    }
    rill_err_t err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    return err;
}

/* ---- shared: config and serdes -------------------------------------------------------- */

/* see window-private.h */
rill_err_t rill__window_forward_change(rill__pnode_t *pnode, const rill_serde_t *key_serde,
                                       const rill_serde_t *value_serde, const void *raw_key,
                                       size_t raw_key_len, struct rill_windowed *windowed,
                                       GBytes *new_value, GBytes *old_value, int64_t timestamp,
                                       rill_wbuf_t *f_key, rill_wbuf_t *f_new, rill_wbuf_t *f_old,
                                       rill_error_t **error)
{
    rill__change_t change = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    rill_err_t err = rill__serde_deserialize(key_serde, raw_key, raw_key_len,
                                             &windowed->key, f_key, error);
    gsize len = 0;
    const void *data;
    if (err == RILL_OK && new_value != NULL) {
        data = g_bytes_get_data(new_value, &len);
        err = rill__serde_deserialize(value_serde, data != NULL ? data : "", len,
                                      &change.new_value, f_new, error);
    }
    if (err == RILL_OK && old_value != NULL) {
        data = g_bytes_get_data(old_value, &len);
        err = rill__serde_deserialize(value_serde, data != NULL ? data : "", len,
                                      &change.old_value, f_old, error);
    }
    if (err == RILL_OK) {
        rill_record_t record = {
            .key = RILL__VALUE_NULL_INIT,
            .value = RILL__VALUE_NULL_INIT,
            .timestamp = timestamp,
            .partition = rill__pnode_partition(pnode),
            .offset = -1,
        };
        rill__windowed_view(&record.key, windowed);
        record.value.type = RILL_VALUE_POINTER;
        record.value.ptr = &change;
        record.value.len = sizeof change;
        err = rill__pnode_forward(pnode, &record, error);
    }
    rill__value_clear(&windowed->key);
    rill__value_clear(&change.new_value);
    rill__value_clear(&change.old_value);
    return err;
}

void rill__wagg_config_free(void *p)
{
    rill__wagg_config_t *config = p;
    g_free(config->store);
    if (config->key_serde != NULL)
        rill_serde_unref(config->key_serde);
    if (config->value_serde != NULL)
        rill_serde_unref(config->value_serde);
    g_free(config);
}

void rill__wagg_serdes(const rill__wagg_config_t *config, const rill__task_env_t *env,
                       const rill_serde_t **key_serde, const rill_serde_t **value_serde)
{
    *key_serde = config->key_serde != NULL          ? config->key_serde
                 : env->default_key_serde != NULL ? env->default_key_serde
                                                  : rill_serde_bytes();
    *value_serde = config->value_serde != NULL          ? config->value_serde
                   : config->op == RILL__WAGG_COUNT   ? rill_serde_int64()
                   : env->default_value_serde != NULL ? env->default_value_serde
                                                      : rill_serde_bytes();
}

const rill__wagg_config_t *rill__wagg_config_of(rill_stream_t *stream)
{
    if (stream == NULL)
        return NULL;
    const rill__node_t *node = rill__stream_node(stream);
    if (node == NULL || (node->ops != &rill__window_time_ops &&
                         node->ops != &rill__window_sliding_ops &&
                         node->ops != &rill__window_session_ops))
        return NULL;
    return node->config;
}

/* ---- the time-window node, per task ------------------------------------------------------ */

typedef struct wtime {
    rill__pnode_t *pnode;
    rill__kv_store_t *store;
    const rill_serde_t *key_serde;
    const rill_serde_t *value_serde;
    int64_t stream_time;      /* observed by this node (and restored); INT64_MIN before any */
    int64_t persisted_time;   /* the stream time key in the store; INT64_MIN: none */
    rill_buffer_t key_out, value_out;
    GByteArray *skey;         /* a store key being built */
    GByteArray *raw_key;      /* a decoded key */
    rill_wbuf_t old_scratch;  /* deserialized old aggregate */
    rill_wbuf_t f_key, f_new, f_old;
    bool closing;
} wtime_t;

static void wtime_destroy(void *p)
{
    wtime_t *w = p;
    rill__wbuf_free(&w->key_out.wbuf);
    rill__wbuf_free(&w->value_out.wbuf);
    rill__wbuf_free(&w->old_scratch);
    rill__wbuf_free(&w->f_key);
    rill__wbuf_free(&w->f_new);
    rill__wbuf_free(&w->f_old);
    g_byte_array_unref(w->skey);
    g_byte_array_unref(w->raw_key);
    g_free(w);
}

/* The cache flushed window (skey: new, old): a table update downstream. */
static rill_err_t wtime_forward(void *ud, const void *skey, size_t skey_len, GBytes *new_value,
                                GBytes *old_value, int64_t timestamp, rill_error_t **error)
{
    wtime_t *w = ud;
    if (w->closing)
        return RILL_OK;
    const uint8_t *k = skey;
    if (skey_len >= 2 && k[0] == 0x00 && k[1] == 0x02) /* the stream time key */
        return RILL_OK;
    const rill__wagg_config_t *config = w->pnode->node->config;
    const uint8_t *suffix = NULL;
    if (!rill__wkey_decode(skey, skey_len, RILL__WINDOW_SUFFIX_LEN, w->raw_key, &suffix))
        return rill_error_set(error, RILL_ERR_CORRUPT, "window store %s: a malformed key",
                              config->store);
    struct rill_windowed windowed = {.magic = RILL__WINDOWED_MAGIC,
                                     .key = RILL__VALUE_NULL_INIT};
    windowed.start = rill__wkey_time_get(suffix);
    windowed.end = windowed.start + config->spec.size;
    return rill__window_forward_change(w->pnode, w->key_serde, w->value_serde, w->raw_key->data,
                                       w->raw_key->len, &windowed, new_value, old_value, timestamp,
                                       &w->f_key, &w->f_new, &w->f_old, error);
}

static rill_err_t wtime_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const rill__wagg_config_t *config = pnode->node->config;
    wtime_t *w = g_new0(wtime_t, 1);
    w->pnode = pnode;
    rill__wagg_serdes(config, rill__task_env(pnode->task), &w->key_serde, &w->value_serde);
    rill__wbuf_init(&w->key_out.wbuf, 0);
    rill__wbuf_init(&w->value_out.wbuf, 0);
    rill__wbuf_init(&w->old_scratch, 0);
    rill__wbuf_init(&w->f_key, 0);
    rill__wbuf_init(&w->f_new, 0);
    rill__wbuf_init(&w->f_old, 0);
    w->skey = g_byte_array_new();
    w->raw_key = g_byte_array_new();
    rill__segments_config_t segments = {
        .retention_ms = config->spec.retention,
        .suffix_len = RILL__WINDOW_SUFFIX_LEN,
    };
    w->store = rill__state_segmented_store(pnode, config->store, config->in_memory, &segments,
                                           wtime_forward, w, error);
    if (w->store == NULL ||
        rill__window_stream_time_load(w->store, RILL__WINDOW_SUFFIX_LEN, &w->stream_time,
                                      error) != RILL_OK) {
        wtime_destroy(w);
        return RILL_ERR_STORE;
    }
    w->persisted_time = w->stream_time;
    pnode->state = w;
    rill__state_defer_free(pnode, w, wtime_destroy);
    return RILL_OK;
}

static void wtime_state_free(rill__pnode_t *pnode)
{
    wtime_t *w = pnode->state;
    w->closing = true; /* freed once the stores are closed (rill__state_defer_free) */
}

static rill_err_t wtime_flush(rill__pnode_t *pnode, rill_error_t **error)
{
    return rill__kv_flush(((wtime_t *)pnode->state)->store, error);
}

/* The stream time, once what the flush above produced is acknowledged
 * (rill__window_stream_time_persist). */
static rill_err_t wtime_flush_marks(rill__pnode_t *pnode, rill_error_t **error)
{
    wtime_t *w = pnode->state;
    return rill__window_stream_time_persist(w->store, w->skey, RILL__WINDOW_SUFFIX_LEN,
                                            w->stream_time, &w->persisted_time, error);
}

/* floor(a / b) for b > 0. */
static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* Adds record to window (key, start): aggregate, serialize, put. */
static rill_err_t update_window(wtime_t *w, const rill__wagg_config_t *config,
                                const rill_record_t *record, const void *key, size_t key_len,
                                int64_t start, rill_error_t **error)
{
    rill__wkey_window(w->skey, key, key_len, start, 0);
    GBytes *old_bytes = NULL;
    rill_err_t err = rill__kv_get(w->store, w->skey->data, w->skey->len, &old_bytes, error);
    if (err != RILL_OK)
        return err;
    rill_value_t old = RILL__VALUE_NULL_INIT, out = RILL__VALUE_NULL_INIT;
    if (old_bytes != NULL) {
        gsize n;
        const void *p = g_bytes_get_data(old_bytes, &n);
        err = rill__serde_deserialize(w->value_serde, p != NULL ? p : "", n, &old,
                                      &w->old_scratch, error);
    }
    if (err == RILL_OK) {
        switch (config->op) {
        case RILL__WAGG_COUNT:
            rill_value_set_int64(&out, rill_value_int64(&old) + 1);
            break;
        case RILL__WAGG_REDUCE:
            if (old.type == RILL_VALUE_NULL)
                rill__value_view(&out, &record->value);
            else
                err = config->reducer(&old, &record->value, &out, config->user_data, error);
            break;
        case RILL__WAGG_AGGREGATE:
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
    const void *data = NULL;
    size_t len = 0;
    if (err == RILL_OK)
        err = rill__serde_serialize(w->value_serde, &out, &w->value_out, &data, &len, error);
    if (err == RILL_OK) /* w->skey still holds the window's store key */
        err = rill__kv_put(w->store, w->skey->data, w->skey->len, data != NULL ? data : "", len,
                           record->timestamp, error);
    rill__value_clear(&old);
    rill__value_clear(&out);
    if (old_bytes != NULL)
        g_bytes_unref(old_bytes);
    return err;
}

static rill_err_t wtime_process(rill__pnode_t *pnode, const rill_record_t *record,
                                rill_error_t **error)
{
    const rill__wagg_config_t *config = pnode->node->config;
    wtime_t *w = pnode->state;
    if (record->key.type == RILL_VALUE_NULL) {
        rill__task_record_dropped(pnode->task, RILL__DROP_NULL_KEY);
        return RILL_OK;
    }
    if (record->value.type == RILL_VALUE_NULL)
        return RILL_OK;
    int64_t t = record->timestamp;
    if (t > w->stream_time)
        w->stream_time = t;
    const int64_t size = config->spec.size, advance = config->spec.advance;
    const int64_t close_before = w->stream_time - config->spec.grace; /* open: end > this */
    const void *key;
    size_t key_len;
    rill_err_t err =
        rill__serde_serialize(w->key_serde, &record->key, &w->key_out, &key, &key_len, error);
    if (err != RILL_OK)
        return err;
    int accepted = 0;
    /* windows s = k * advance with s <= t < s + size, oldest first */
    for (int64_t s = (floor_div(t - size, advance) + 1) * advance; s <= t; s += advance) {
        if (s + size <= close_before)
            continue; /* closed */
        if ((err = update_window(w, config, record, key, key_len, s, error)) != RILL_OK)
            return err;
        accepted++;
    }
    if (accepted == 0)
        rill__window_record_late(pnode, config->store, t, w->stream_time);
    return RILL_OK;
}

const rill__node_ops_t rill__window_time_ops = {
    .kind = "WINDOW-AGGREGATE",
    .process = wtime_process,
    .init = wtime_init,
    .state_free = wtime_state_free,
    .flush = wtime_flush,
    .flush_marks = wtime_flush_marks,
    .config_free = rill__wagg_config_free,
    .stateful = true,
};

/* ---- the DSL ------------------------------------------------------------------------ */

static int64_t default_retention(int64_t span)
{
    return span > RILL_WINDOW_DEFAULT_RETENTION_MS ? span : RILL_WINDOW_DEFAULT_RETENTION_MS;
}

/* Checks retention against span (= size + grace) and resolves the default. */
static bool resolve_retention(rill_stream_t *stream, const char *what, int64_t retention,
                              int64_t span, int64_t *out)
{
    if (retention == 0) {
        *out = default_retention(span);
        return true;
    }
    if (retention < span) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "%s: retention_ms %" PRId64 " is shorter than the window size + grace "
                           "(%" PRId64 ")",
                           what, retention, span);
        return false;
    }
    *out = retention;
    return true;
}

static struct rill_time_windowed *time_windowed_new(rill_grouped_t *grouped,
                                                    const rill__window_spec_t *spec)
{
    struct rill_time_windowed *windowed = g_new0(struct rill_time_windowed, 1);
    windowed->stream = grouped->stream;
    windowed->spec = *spec;
    rill__builder_keep(grouped->stream, windowed, g_free);
    return windowed;
}

RILL_EXPORT rill_time_windowed_t *rill_grouped_windowed_by(rill_grouped_t *grouped,
                                                           const rill_time_windows_t *windows)
{
    if (grouped == NULL || !rill__builder_open(grouped->stream))
        return NULL;
    const char *what = "rill_grouped_windowed_by";
    if (windows == NULL || windows->size_ms <= 0 || windows->grace_ms < 0 ||
        windows->advance_ms < 0 || windows->advance_ms > windows->size_ms ||
        windows->retention_ms < 0) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "%s: time windows need size_ms > 0, 0 <= advance_ms <= size_ms, "
                           "grace_ms >= 0 and retention_ms >= 0",
                           what);
        return NULL;
    }
    if (grouped->from_table) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "%s: a table's grouping cannot be windowed", what);
        return NULL;
    }
    if (windows->grace_ms > INT64_MAX / 4 || windows->size_ms > INT64_MAX / 4) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG, "%s: size or grace too large",
                           what);
        return NULL;
    }
    rill__window_spec_t spec = {
        .kind = RILL__WINDOW_TIME,
        .size = windows->size_ms,
        .advance = windows->advance_ms > 0 ? windows->advance_ms : windows->size_ms,
        .grace = windows->grace_ms,
    };
    if (!resolve_retention(grouped->stream, what, windows->retention_ms,
                           spec.size + spec.grace, &spec.retention))
        return NULL;
    return time_windowed_new(grouped, &spec);
}

RILL_EXPORT rill_time_windowed_t *
rill_grouped_windowed_by_sliding(rill_grouped_t *grouped, const rill_sliding_windows_t *windows)
{
    if (grouped == NULL || !rill__builder_open(grouped->stream))
        return NULL;
    const char *what = "rill_grouped_windowed_by_sliding";
    if (windows == NULL || windows->time_difference_ms <= 0 || windows->grace_ms < 0 ||
        windows->retention_ms < 0 || windows->time_difference_ms > INT64_MAX / 4 ||
        windows->grace_ms > INT64_MAX / 4) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "%s: sliding windows need time_difference_ms > 0, grace_ms >= 0 and "
                           "retention_ms >= 0",
                           what);
        return NULL;
    }
    if (grouped->from_table) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "%s: a table's grouping cannot be windowed", what);
        return NULL;
    }
    rill__window_spec_t spec = {
        .kind = RILL__WINDOW_SLIDING,
        .size = windows->time_difference_ms,
        .grace = windows->grace_ms,
    };
    /* a record still accepted (t + d + grace > stream time) folds the records
     * back to t - 2d - 1 (window-sliding.c): keep 3d + grace + 2 */
    if (!resolve_retention(grouped->stream, what, windows->retention_ms,
                           3 * spec.size + spec.grace + 2, &spec.retention))
        return NULL;
    return time_windowed_new(grouped, &spec);
}

RILL_EXPORT rill_session_windowed_t *
rill_grouped_windowed_by_session(rill_grouped_t *grouped, const rill_session_windows_t *windows)
{
    if (grouped == NULL || !rill__builder_open(grouped->stream))
        return NULL;
    const char *what = "rill_grouped_windowed_by_session";
    if (windows == NULL || windows->inactivity_gap_ms <= 0 || windows->grace_ms < 0 ||
        windows->retention_ms < 0 || windows->inactivity_gap_ms > INT64_MAX / 4 ||
        windows->grace_ms > INT64_MAX / 4) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "%s: session windows need inactivity_gap_ms > 0, grace_ms >= 0 and "
                           "retention_ms >= 0",
                           what);
        return NULL;
    }
    if (grouped->from_table) {
        rill__builder_fail(grouped->stream, RILL_ERR_INVALID_ARG,
                           "%s: a table's grouping cannot be windowed", what);
        return NULL;
    }
    rill__window_spec_t spec = {
        .kind = RILL__WINDOW_SESSION,
        .size = windows->inactivity_gap_ms,
        .grace = windows->grace_ms,
    };
    if (!resolve_retention(grouped->stream, what, windows->retention_ms, spec.size + spec.grace,
                           &spec.retention))
        return NULL;
    struct rill_session_windowed *windowed = g_new0(struct rill_session_windowed, 1);
    windowed->stream = grouped->stream;
    windowed->spec = spec;
    rill__builder_keep(grouped->stream, windowed, g_free);
    return windowed;
}

RILL_EXPORT rill_time_windowed_t *rill_time_windowed_emit_final(rill_time_windowed_t *windowed)
{
    if (windowed != NULL)
        windowed->emit_final = true;
    return windowed;
}

RILL_EXPORT rill_session_windowed_t *
rill_session_windowed_emit_final(rill_session_windowed_t *windowed)
{
    if (windowed != NULL)
        windowed->emit_final = true;
    return windowed;
}

rill_table_t *rill__wagg_add(rill_stream_t *stream, rill__wagg_config_t *config,
                             const rill_materialized_t *materialized, bool emit_final)
{
    const rill_serde_t *source_key = NULL, *source_value = NULL;
    rill__stream_source_serdes(stream, &source_key, &source_value);
    const rill_serde_t *key_serde = materialized != NULL && materialized->key_serde != NULL
                                        ? materialized->key_serde
                                        : source_key;
    const rill_serde_t *value_serde = materialized != NULL && materialized->value_serde != NULL
                                          ? materialized->value_serde
                                      : config->op == RILL__WAGG_COUNT ? NULL
                                                                       : source_value;
    config->key_serde = key_serde != NULL ? rill_serde_ref(key_serde) : NULL;
    config->value_serde = value_serde != NULL ? rill_serde_ref(value_serde) : NULL;
    config->in_memory = materialized != NULL && materialized->in_memory;
    const rill__node_ops_t *ops = config->spec.kind == RILL__WINDOW_TIME ? &rill__window_time_ops
                                  : config->spec.kind == RILL__WINDOW_SLIDING
                                      ? &rill__window_sliding_ops
                                      : &rill__window_session_ops;
    char *node_name = NULL;
    if (materialized != NULL && materialized->name != NULL) {
        if (!rill__topic_name_valid(materialized->name)) {
            rill__wagg_config_free(config);
            rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                               "store name '%s' is not usable in a topic name", materialized->name);
            return NULL;
        }
        config->store = g_strdup(materialized->name);
    } else {
        node_name = rill__builder_new_name(stream, ops->kind);
        config->store = g_strdup_printf("%s-STATE-STORE", node_name);
    }
    g_autofree char *store = g_strdup(config->store);
    rill_stream_t *out = rill__builder_add_processor(&stream, 1, ops, config, node_name, false);
    g_free(node_name);
    if (out == NULL)
        return NULL;
    g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store));
    const rill__wagg_config_t *made = rill__stream_node(out)->config;
    /* not materialized as a key-value table: a windowed table cannot be
     * joined (its store is a window store) */
    rill_table_t *table = rill__table_new(out, NULL, made->key_serde, made->value_serde);
    if (emit_final) {
        g_autofree char *buffer = g_strdup_printf("%s-suppress", store);
        table = rill_table_suppress_until_window_closes(table,
                                                        &(rill_suppressed_t){.name = buffer});
    }
    return table;
}

static rill_table_t *time_aggregate(rill_time_windowed_t *windowed, rill__wagg_config_t *config,
                                    const rill_materialized_t *materialized)
{
    config->spec = windowed->spec;
    return rill__wagg_add(windowed->stream, config, materialized, windowed->emit_final);
}

RILL_EXPORT rill_table_t *rill_time_windowed_count(rill_time_windowed_t *windowed,
                                                   const rill_materialized_t *materialized)
{
    if (windowed == NULL)
        return NULL;
    rill__wagg_config_t *config = g_new0(rill__wagg_config_t, 1);
    config->op = RILL__WAGG_COUNT;
    return time_aggregate(windowed, config, materialized);
}

RILL_EXPORT rill_table_t *rill_time_windowed_reduce(rill_time_windowed_t *windowed,
                                                    rill_reducer_fn reducer, void *user_data,
                                                    const rill_materialized_t *materialized)
{
    if (windowed == NULL)
        return NULL;
    if (reducer == NULL) {
        rill__builder_fail(windowed->stream, RILL_ERR_INVALID_ARG,
                           "rill_time_windowed_reduce: a reducer is required");
        return NULL;
    }
    rill__wagg_config_t *config = g_new0(rill__wagg_config_t, 1);
    config->op = RILL__WAGG_REDUCE;
    config->reducer = reducer;
    config->user_data = user_data;
    return time_aggregate(windowed, config, materialized);
}

RILL_EXPORT rill_table_t *rill_time_windowed_aggregate(rill_time_windowed_t *windowed,
                                                       rill_initializer_fn initializer,
                                                       rill_aggregator_fn adder, void *user_data,
                                                       const rill_materialized_t *materialized)
{
    if (windowed == NULL)
        return NULL;
    if (initializer == NULL || adder == NULL) {
        rill__builder_fail(windowed->stream, RILL_ERR_INVALID_ARG,
                           "rill_time_windowed_aggregate: an initializer and an adder are "
                           "required");
        return NULL;
    }
    rill__wagg_config_t *config = g_new0(rill__wagg_config_t, 1);
    config->op = RILL__WAGG_AGGREGATE;
    config->initializer = initializer;
    config->adder = adder;
    config->user_data = user_data;
    return time_aggregate(windowed, config, materialized);
}
