/* window.c: the window store: store keys built from (key, start, seq), fetches turned into segment scans.
 *
 * Writes go to the top of the kv stack (so the logging layer, if any, sends
 * them); reads go to the segmented store. A per-key fetch scans
 *     [P | T(from), P | T(to) | ff ff ff ff | 00)     with P = E(key) 00 01
 * which holds only that key's windows (the layout is prefix-free); a key
 * range scans [P(key_from), E(key_to) 00 02) and lets the segment scan drop
 * the windows outside the time range. With duplicates, the sequence number
 * comes from the segmented store, which keeps 1 + the largest it has seen
 * (written, restored, or found on reopen), so a restart never reuses one. */
#include "config.h"

#include <string.h>

#include "stores/kv-private.h"
#include "stores/segments.h"
#include "stores/window.h"
#include "stores/windowed-key.h"

struct rill__window_store {
    char *name;
    int64_t window_size, retention;
    bool dups;
    rill__kv_store_t *stack;
    rill__kv_store_t *segs;
    GByteArray *kbuf;
};

struct rill__window_iter {
    rill__kv_iter_t *scan;
    GByteArray *key;
};

rill__window_store_t *rill__window_store_open(const rill__window_store_config_t *config,
                                              rill_error_t **error)
{
    if (config == NULL || config->name == NULL || config->window_size_ms <= 0 ||
        config->retention_ms < config->window_size_ms) {
        rill_error_set(error, RILL_ERR_INVALID_ARG,
                       "window store %s: a name, window size > 0 and retention >= window size "
                       "(size + grace) are required",
                       config && config->name ? config->name : "?");
        return NULL;
    }
    rill__segments_config_t sc = {
        .name = config->name,
        .retention_ms = config->retention_ms,
        .segment_interval_ms = config->segment_interval_ms,
        .suffix_len = RILL__WINDOW_SUFFIX_LEN,
        .track_seq = config->retain_duplicates,
        .rocksdb = config->rocksdb,
        .path = config->path,
    };
    rill__kv_store_t *segs = NULL;
    rill__kv_store_t *stack = rill__windowed_stack_open(&sc, config->changelog, &segs, error);
    if (stack == NULL) {
        rill_error_prefix(error, "window store %s: ", config->name);
        return NULL;
    }
    rill__window_store_t *ws = g_new0(rill__window_store_t, 1);
    ws->name = g_strdup(config->name);
    ws->window_size = config->window_size_ms;
    ws->retention = config->retention_ms;
    ws->dups = config->retain_duplicates;
    ws->stack = stack;
    ws->segs = segs;
    ws->kbuf = g_byte_array_new();
    return ws;
}

static rill_err_t check(const rill__window_store_t *ws, const void *key, size_t key_len,
                        rill_error_t **error)
{
    if (ws == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "window store is NULL");
    if (key == NULL && key_len > 0)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "window store %s: NULL key of length %zu",
                              ws->name, key_len);
    return RILL_OK;
}

rill_err_t rill__window_put(rill__window_store_t *ws, const void *key, size_t key_len,
                            int64_t window_start, const void *value, size_t value_len,
                            int64_t timestamp, rill_error_t **error)
{
    rill_err_t err = check(ws, key, key_len, error);
    if (err)
        return err;
    if (ws->dups && value == NULL)
        return RILL_OK;
    uint32_t seq = ws->dups ? rill__segments_next_seq(ws->segs) : 0;
    rill__wkey_window(ws->kbuf, key ? key : "", key_len, window_start, seq);
    return rill__kv_put(ws->stack, ws->kbuf->data, ws->kbuf->len, value, value_len, timestamp,
                        error);
}

/* The scan bounds of one key over [from, to] on the first 8 suffix bytes. */
static void key_bounds(GByteArray *lo, GByteArray *hi, const void *key, size_t key_len,
                       int64_t from, int64_t to, size_t suffix_len)
{
    static const uint8_t ff[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero = 0;
    rill__wkey_append_prefix(lo, key, key_len);
    g_byte_array_append(hi, lo->data, lo->len);
    rill__wkey_append_time(lo, from);
    rill__wkey_append_time(hi, to);
    g_byte_array_append(hi, ff, (guint)(suffix_len - 8));
    g_byte_array_append(hi, &zero, 1);
}

static rill__window_iter_t *iter_new(rill__kv_iter_t *scan)
{
    if (scan == NULL)
        return NULL;
    rill__window_iter_t *it = g_new0(rill__window_iter_t, 1);
    it->scan = scan;
    it->key = g_byte_array_new();
    return it;
}

rill__window_iter_t *rill__window_fetch_range(rill__window_store_t *ws, const void *key,
                                              size_t key_len, int64_t time_from, int64_t time_to,
                                              rill_error_t **error)
{
    if (check(ws, key, key_len, error))
        return NULL;
    if (time_from > time_to)
        return iter_new(rill__kv_iter_empty_new());
    GByteArray *lo = g_byte_array_new(), *hi = g_byte_array_new();
    key_bounds(lo, hi, key ? key : "", key_len, time_from, time_to, RILL__WINDOW_SUFFIX_LEN);
    rill__kv_iter_t *scan = rill__segments_scan(ws->segs, lo->data, lo->len, hi->data, hi->len,
                                                time_from, time_to, error);
    g_byte_array_unref(lo);
    g_byte_array_unref(hi);
    return iter_new(scan);
}

rill_err_t rill__window_fetch(rill__window_store_t *ws, const void *key, size_t key_len,
                              int64_t window_start, GBytes **value, rill_error_t **error)
{
    if (value == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "window fetch: value is NULL");
    *value = NULL;
    rill_err_t err = check(ws, key, key_len, error);
    if (err)
        return err;
    if (!ws->dups) {
        rill__wkey_window(ws->kbuf, key ? key : "", key_len, window_start, 0);
        return rill__kv_get(ws->segs, ws->kbuf->data, ws->kbuf->len, value, error);
    }
    rill__window_iter_t *it =
        rill__window_fetch_range(ws, key, key_len, window_start, window_start, error);
    if (it == NULL)
        return RILL_ERR_STORE;
    const void *k, *v;
    size_t kl, vl;
    int64_t start;
    if (rill__window_iter_next(it, &k, &kl, &start, &v, &vl))
        *value = g_bytes_new(v, vl);
    err = rill__window_iter_status(it, error);
    rill__window_iter_destroy(it);
    return err;
}

rill__window_iter_t *rill__window_fetch_keys(rill__window_store_t *ws, const void *key_from,
                                             size_t key_from_len, const void *key_to,
                                             size_t key_to_len, int64_t time_from, int64_t time_to,
                                             rill_error_t **error)
{
    if (ws == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "window store is NULL");
        return NULL;
    }
    if (key_from && key_to &&
        rill__kv_key_compare(key_from, key_from_len, key_to, key_to_len) > 0)
        return iter_new(rill__kv_iter_empty_new());
    GByteArray *lo = NULL, *hi = NULL;
    if (key_from) {
        lo = g_byte_array_new();
        rill__wkey_append_prefix(lo, key_from, key_from_len);
    }
    if (key_to) {
        hi = g_byte_array_new();
        rill__wkey_append_prefix(hi, key_to, key_to_len);
        hi->data[hi->len - 1] = 0x02; /* E(key_to) 00 02: just past every entry of key_to */
    }
    rill__kv_iter_t *scan = rill__segments_scan(ws->segs, lo ? lo->data : NULL, lo ? lo->len : 0,
                                                hi ? hi->data : NULL, hi ? hi->len : 0, time_from,
                                                time_to, error);
    if (lo)
        g_byte_array_unref(lo);
    if (hi)
        g_byte_array_unref(hi);
    return iter_new(scan);
}

rill__window_iter_t *rill__window_fetch_all(rill__window_store_t *ws, int64_t time_from,
                                            int64_t time_to, rill_error_t **error)
{
    return rill__window_fetch_keys(ws, NULL, 0, NULL, 0, time_from, time_to, error);
}

rill__window_iter_t *rill__window_all(rill__window_store_t *ws, rill_error_t **error)
{
    return rill__window_fetch_keys(ws, NULL, 0, NULL, 0, INT64_MIN, INT64_MAX, error);
}

bool rill__window_iter_next(rill__window_iter_t *it, const void **key, size_t *key_len,
                            int64_t *window_start, const void **value, size_t *value_len)
{
    const void *sk;
    size_t skl;
    const uint8_t *suffix;
    while (rill__kv_iter_next(it->scan, &sk, &skl, value, value_len)) {
        if (!rill__wkey_decode(sk, skl, RILL__WINDOW_SUFFIX_LEN, it->key, &suffix))
            continue; /* not written by a window store: skip */
        *key = it->key->data ? (const void *)it->key->data : "";
        *key_len = it->key->len;
        *window_start = rill__wkey_time_get(suffix);
        return true;
    }
    return false;
}

rill_err_t rill__window_iter_status(rill__window_iter_t *it, rill_error_t **error)
{
    return rill__kv_iter_status(it->scan, error);
}

void rill__window_iter_destroy(rill__window_iter_t *it)
{
    if (it == NULL)
        return;
    rill__kv_iter_destroy(it->scan);
    g_byte_array_unref(it->key);
    g_free(it);
}

int64_t rill__window_store_stream_time(const rill__window_store_t *ws)
{
    return rill__segments_stream_time(ws->segs);
}

int64_t rill__window_store_window_size(const rill__window_store_t *ws)
{
    return ws->window_size;
}

int64_t rill__window_store_retention(const rill__window_store_t *ws)
{
    return ws->retention;
}

rill__kv_store_t *rill__window_store_kv(rill__window_store_t *ws)
{
    return ws->stack;
}

rill__kv_store_t *rill__window_store_segments(rill__window_store_t *ws)
{
    return ws->segs;
}

rill_err_t rill__window_store_flush(rill__window_store_t *ws, rill_error_t **error)
{
    return rill__kv_flush(ws->stack, error);
}

rill_err_t rill__window_store_close(rill__window_store_t *ws, rill_error_t **error)
{
    if (ws == NULL)
        return RILL_OK;
    rill_err_t err = rill__kv_close(ws->stack, error);
    g_byte_array_unref(ws->kbuf);
    g_free(ws->name);
    g_free(ws);
    return err;
}
