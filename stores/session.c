/* session.c: the session store: store keys built from (key, end, start), session queries turned into segment scans.
 *
 * find_sessions(key, earliest_end, latest_start) scans
 *     [P | T(earliest_end), E(key) 00 02)        with P = E(key) 00 01
 * in the segments from earliest_end's on (sessions with any end >=
 * earliest_end qualify, so there is no upper time bound), and skips the
 * sessions that start after latest_start. The layout puts end before start
 * so that the scan starts right at the first candidate, as Kafka Streams'
 * SessionKeySchema does. */
#include "config.h"

#include "stores/kv-private.h"
#include "stores/segments.h"
#include "stores/session.h"
#include "stores/window.h"
#include "stores/windowed-key.h"

struct rill__session_store {
    char *name;
    rill__kv_store_t *stack;
    rill__kv_store_t *segs;
    GByteArray *kbuf;
};

struct rill__session_iter {
    rill__kv_iter_t *scan;
    GByteArray *key;
    int64_t latest_start;
};

rill__session_store_t *rill__session_store_open(const rill__session_store_config_t *config,
                                                rill_error_t **error)
{
    if (config == NULL || config->name == NULL || config->retention_ms <= 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG,
                       "session store %s: a name and a retention > 0 are required",
                       config && config->name ? config->name : "?");
        return NULL;
    }
    rill__segments_config_t sc = {
        .name = config->name,
        .retention_ms = config->retention_ms,
        .segment_interval_ms = config->segment_interval_ms,
        .suffix_len = RILL__SESSION_SUFFIX_LEN,
        .rocksdb = config->rocksdb,
        .path = config->path,
    };
    rill__kv_store_t *segs = NULL;
    rill__kv_store_t *stack = rill__windowed_stack_open(&sc, config->changelog, &segs, error);
    if (stack == NULL) {
        rill_error_prefix(error, "session store %s: ", config->name);
        return NULL;
    }
    rill__session_store_t *ss = g_new0(rill__session_store_t, 1);
    ss->name = g_strdup(config->name);
    ss->stack = stack;
    ss->segs = segs;
    ss->kbuf = g_byte_array_new();
    return ss;
}

static rill_err_t check(const rill__session_store_t *ss, const void *key, size_t key_len,
                        int64_t start, int64_t end, rill_error_t **error)
{
    if (ss == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "session store is NULL");
    if (key == NULL && key_len > 0)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "session store %s: NULL key of length %zu", ss->name, key_len);
    if (end < start)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "session store %s: session end %" G_GINT64_FORMAT
                              " before its start %" G_GINT64_FORMAT,
                              ss->name, end, start);
    return RILL_OK;
}

rill_err_t rill__session_put(rill__session_store_t *ss, const void *key, size_t key_len,
                             int64_t start, int64_t end, const void *value, size_t value_len,
                             int64_t timestamp, rill_error_t **error)
{
    rill_err_t err = check(ss, key, key_len, start, end, error);
    if (err)
        return err;
    rill__wkey_session(ss->kbuf, key ? key : "", key_len, start, end);
    return rill__kv_put(ss->stack, ss->kbuf->data, ss->kbuf->len, value, value_len, timestamp,
                        error);
}

rill_err_t rill__session_remove(rill__session_store_t *ss, const void *key, size_t key_len,
                                int64_t start, int64_t end, int64_t timestamp,
                                rill_error_t **error)
{
    return rill__session_put(ss, key, key_len, start, end, NULL, 0, timestamp, error);
}

rill_err_t rill__session_fetch_session(rill__session_store_t *ss, const void *key,
                                       size_t key_len, int64_t start, int64_t end, GBytes **value,
                                       rill_error_t **error)
{
    if (value == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "session fetch: value is NULL");
    *value = NULL;
    rill_err_t err = check(ss, key, key_len, start, end, error);
    if (err)
        return err;
    rill__wkey_session(ss->kbuf, key ? key : "", key_len, start, end);
    return rill__kv_get(ss->segs, ss->kbuf->data, ss->kbuf->len, value, error);
}

static rill__session_iter_t *iter_new(rill__kv_iter_t *scan, int64_t latest_start)
{
    if (scan == NULL)
        return NULL;
    rill__session_iter_t *it = g_new0(rill__session_iter_t, 1);
    it->scan = scan;
    it->key = g_byte_array_new();
    it->latest_start = latest_start;
    return it;
}

rill__session_iter_t *rill__session_find_keys(rill__session_store_t *ss, const void *key_from,
                                              size_t key_from_len, const void *key_to,
                                              size_t key_to_len, int64_t earliest_end,
                                              int64_t latest_start, rill_error_t **error)
{
    if (ss == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "session store is NULL");
        return NULL;
    }
    if (key_from && key_to &&
        rill__kv_key_compare(key_from, key_from_len, key_to, key_to_len) > 0)
        return iter_new(rill__kv_iter_empty_new(), latest_start);
    GByteArray *lo = NULL, *hi = NULL;
    if (key_from) {
        lo = g_byte_array_new();
        rill__wkey_append_prefix(lo, key_from, key_from_len);
        /* one key: start right at its first session that can qualify */
        if (key_to && rill__kv_key_compare(key_from, key_from_len, key_to, key_to_len) == 0)
            rill__wkey_append_time(lo, earliest_end);
    }
    if (key_to) {
        hi = g_byte_array_new();
        rill__wkey_append_prefix(hi, key_to, key_to_len);
        hi->data[hi->len - 1] = 0x02;
    }
    rill__kv_iter_t *scan = rill__segments_scan(ss->segs, lo ? lo->data : NULL, lo ? lo->len : 0,
                                                hi ? hi->data : NULL, hi ? hi->len : 0,
                                                earliest_end, INT64_MAX, error);
    if (lo)
        g_byte_array_unref(lo);
    if (hi)
        g_byte_array_unref(hi);
    return iter_new(scan, latest_start);
}

rill__session_iter_t *rill__session_find(rill__session_store_t *ss, const void *key,
                                         size_t key_len, int64_t earliest_end,
                                         int64_t latest_start, rill_error_t **error)
{
    if (ss && key == NULL && key_len > 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "session store %s: NULL key of length %zu",
                       ss->name, key_len);
        return NULL;
    }
    key = key ? key : "";
    return rill__session_find_keys(ss, key, key_len, key, key_len, earliest_end, latest_start,
                                   error);
}

rill__session_iter_t *rill__session_fetch(rill__session_store_t *ss, const void *key,
                                          size_t key_len, rill_error_t **error)
{
    return rill__session_find(ss, key, key_len, INT64_MIN, INT64_MAX, error);
}

bool rill__session_iter_next(rill__session_iter_t *it, const void **key, size_t *key_len,
                             int64_t *start, int64_t *end, const void **value, size_t *value_len)
{
    const void *sk;
    size_t skl;
    const uint8_t *suffix;
    while (rill__kv_iter_next(it->scan, &sk, &skl, value, value_len)) {
        if (!rill__wkey_decode(sk, skl, RILL__SESSION_SUFFIX_LEN, it->key, &suffix))
            continue;
        int64_t s = rill__wkey_time_get(suffix + 8);
        if (s > it->latest_start)
            continue;
        *key = it->key->data ? (const void *)it->key->data : "";
        *key_len = it->key->len;
        *end = rill__wkey_time_get(suffix);
        *start = s;
        return true;
    }
    return false;
}

rill_err_t rill__session_iter_status(rill__session_iter_t *it, rill_error_t **error)
{
    return rill__kv_iter_status(it->scan, error);
}

void rill__session_iter_destroy(rill__session_iter_t *it)
{
    if (it == NULL)
        return;
    rill__kv_iter_destroy(it->scan);
    g_byte_array_unref(it->key);
    g_free(it);
}

int64_t rill__session_store_stream_time(const rill__session_store_t *ss)
{
    return rill__segments_stream_time(ss->segs);
}

rill__kv_store_t *rill__session_store_kv(rill__session_store_t *ss)
{
    return ss->stack;
}

rill__kv_store_t *rill__session_store_segments(rill__session_store_t *ss)
{
    return ss->segs;
}

rill_err_t rill__session_store_flush(rill__session_store_t *ss, rill_error_t **error)
{
    return rill__kv_flush(ss->stack, error);
}

rill_err_t rill__session_store_close(rill__session_store_t *ss, rill_error_t **error)
{
    if (ss == NULL)
        return RILL_OK;
    rill_err_t err = rill__kv_close(ss->stack, error);
    g_byte_array_unref(ss->kbuf);
    g_free(ss->name);
    g_free(ss);
    return err;
}
