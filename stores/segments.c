/* segments.c: the segmented byte store: routing by record time, segment lifecycle, expiry, scans.
 *
 * Segments live in an array sorted by id (a handful are live at a time, so
 * linear searches are cheap). Each segment is refcounted: the store holds one
 * reference while the segment is live, every open scan one more. Dropping a
 * segment takes it out of the array and drops the store's reference; the
 * last reference closes its kv store and, for RocksDB, deletes its
 * directory.
 *
 *     (none) ──first write with t in it──► LIVE ──stream time passes its end
 *            + retention──► DROPPED (out of the array) ──last unref──► closed,
 *            directory deleted
 *
 * Invariants: every segment in the array has id >= segid(live_min); stream
 * time only grows; a record is written only if t >= live_min. Times near
 * INT64_MIN/MAX are computed with saturation, never overflow. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "common/buf.h"
#include "common/log.h"
#include "stores/kv-memory.h"
#include "stores/kv-private.h"
#include "stores/segments.h"
#include "stores/windowed-key.h"

typedef struct segment {
    int64_t id;
    char *dir; /* RocksDB: its directory; NULL in memory */
    rill__kv_store_t *kv;
    int refs;
    bool dropped;
} segment_t;

typedef struct segstore {
    rill__kv_store_t base;
    int64_t retention, interval;
    size_t suffix_len;
    bool track_seq;
    uint32_t next_seq;
    rill__rocksdb_shared_t *rocksdb;
    char *path;
    GPtrArray *segs; /* segment_t, sorted by id */
    int64_t stream_time;
    uint64_t expired_drops;
    bool restoring;
} segstore_t;

static const rill__kv_store_ops_t seg_ops;

int64_t rill__segments_default_interval(int64_t retention_ms)
{
    int64_t half = retention_ms / 2;
    return half > RILL__SEGMENT_INTERVAL_MIN_MS ? half : RILL__SEGMENT_INTERVAL_MIN_MS;
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

static int64_t live_min(const segstore_t *ss)
{
    if (ss->stream_time == INT64_MIN)
        return INT64_MIN;
    return sat_add(sat_add(ss->stream_time, -ss->retention), 1);
}

/* ---- segment lifecycle --------------------------------------------------------- */

static rill_err_t remove_tree(const char *path, rill_error_t **error)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                !g_file_test(child, G_FILE_TEST_IS_SYMLINK)) {
                rill_err_t err = remove_tree(child, error);
                if (err) {
                    g_dir_close(dir);
                    return err;
                }
            } else if (g_unlink(child) != 0 && errno != ENOENT) {
                int e = errno;
                g_dir_close(dir);
                return rill_error_set(error, RILL_ERR_IO, "remove %s: %s", child, g_strerror(e));
            }
        }
        g_dir_close(dir);
    }
    if (g_rmdir(path) != 0 && errno != ENOENT) {
        int e = errno;
        return rill_error_set(error, RILL_ERR_IO, "remove %s: %s", path, g_strerror(e));
    }
    return RILL_OK;
}

static segment_t *segment_ref(segment_t *seg)
{
    seg->refs++;
    return seg;
}

static void segment_unref(segment_t *seg)
{
    if (--seg->refs > 0)
        return;
    rill_error_t *err = NULL;
    if (rill__kv_close(seg->kv, &err) != RILL_OK) {
        RILL_LOG_WARN("stores.segments", "closing segment %s: %s", seg->dir ? seg->dir : "(memory)",
                      rill_error_message(err));
        g_clear_pointer(&err, rill_error_destroy);
    }
    if (seg->dropped && seg->dir && remove_tree(seg->dir, &err) != RILL_OK) {
        RILL_LOG_WARN("stores.segments", "deleting expired segment: %s", rill_error_message(err));
        rill_error_destroy(err);
    }
    g_free(seg->dir);
    g_free(seg);
}

static char *segment_dir(const segstore_t *ss, int64_t id)
{
    g_autofree char *leaf =
        g_strdup_printf("%s.%" G_GINT64_FORMAT, ss->base.name, id * ss->interval);
    return g_build_filename(ss->path, leaf, NULL);
}

static segment_t *segment_open(segstore_t *ss, int64_t id, rill_error_t **error)
{
    segment_t *seg = g_new0(segment_t, 1);
    seg->id = id;
    seg->refs = 1;
    g_autofree char *segname =
        g_strdup_printf("%s.%" G_GINT64_FORMAT, ss->base.name, id * ss->interval);
    if (ss->rocksdb) {
        seg->dir = segment_dir(ss, id);
        seg->kv = rill__kv_rocksdb_open(ss->rocksdb, seg->dir, segname, error);
    } else {
        seg->kv = rill__kv_memory_new(segname);
    }
    if (seg->kv && ss->restoring && rill__kv_restore_begin(seg->kv, error) != RILL_OK) {
        rill__kv_close(seg->kv, NULL);
        seg->kv = NULL;
    }
    if (seg->kv == NULL) {
        g_free(seg->dir);
        g_free(seg);
        return NULL;
    }
    return seg;
}

/* Index of the first segment with id >= id (segs->len if none). */
static guint seg_lower(const segstore_t *ss, int64_t id)
{
    guint i = 0;
    while (i < ss->segs->len && ((segment_t *)g_ptr_array_index(ss->segs, i))->id < id)
        i++;
    return i;
}

static segment_t *seg_find(const segstore_t *ss, int64_t id)
{
    guint i = seg_lower(ss, id);
    if (i < ss->segs->len) {
        segment_t *seg = g_ptr_array_index(ss->segs, i);
        if (seg->id == id)
            return seg;
    }
    return NULL;
}

static segment_t *seg_get_or_create(segstore_t *ss, int64_t id, rill_error_t **error)
{
    guint i = seg_lower(ss, id);
    if (i < ss->segs->len) {
        segment_t *seg = g_ptr_array_index(ss->segs, i);
        if (seg->id == id)
            return seg;
    }
    segment_t *seg = segment_open(ss, id, error);
    if (seg == NULL) {
        rill_error_prefix(error, "store %s: segment %" G_GINT64_FORMAT ": ", ss->base.name,
                          id * ss->interval);
        return NULL;
    }
    g_ptr_array_insert(ss->segs, (gint)i, seg);
    return seg;
}

/* Drops every segment whose times are all below live_min. */
static void drop_expired(segstore_t *ss)
{
    int64_t lm = live_min(ss);
    if (lm == INT64_MIN)
        return;
    while (ss->segs->len > 0) {
        segment_t *seg = g_ptr_array_index(ss->segs, 0);
        /* last time of seg: (id + 1) * interval - 1 */
        if (sat_add(seg->id * ss->interval, ss->interval - 1) >= lm)
            break;
        g_ptr_array_remove_index(ss->segs, 0);
        seg->dropped = true;
        RILL_LOG_DEBUG("stores.segments", "store=%s dropped segment %" G_GINT64_FORMAT,
                       ss->base.name, seg->id * ss->interval);
        segment_unref(seg);
    }
}

static void advance(segstore_t *ss, int64_t t)
{
    if (t > ss->stream_time) {
        ss->stream_time = t;
        drop_expired(ss);
    }
}

/* The record time of a store key, or an error if the key is too short. */
static rill_err_t key_time(const segstore_t *ss, const void *key, size_t key_len, int64_t *t,
                           rill_error_t **error)
{
    if (key_len < ss->suffix_len + 2)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "store %s: key of %zu bytes is not a windowed key (need >= %zu)",
                              ss->base.name, key_len, ss->suffix_len + 2);
    *t = rill__wkey_time_get((const uint8_t *)key + key_len - ss->suffix_len);
    return RILL_OK;
}

static void note_seq(segstore_t *ss, const void *key, size_t key_len)
{
    if (!ss->track_seq)
        return;
    uint32_t seq = rill__be32_get((const uint8_t *)key + key_len - 4);
    if (seq >= ss->next_seq)
        ss->next_seq = seq + 1;
}

/* ---- kv ops ------------------------------------------------------------------- */

static rill_err_t seg_get(rill__kv_store_t *store, const void *key, size_t key_len,
                          GBytes **value, rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    int64_t t = 0;
    rill_err_t err = key_time(ss, key, key_len, &t, error);
    if (err || t < live_min(ss))
        return err;
    segment_t *seg = seg_find(ss, floordiv(t, ss->interval));
    return seg ? rill__kv_get(seg->kv, key, key_len, value, error) : RILL_OK;
}

static rill_err_t seg_put(rill__kv_store_t *store, const void *key, size_t key_len,
                          const void *value, size_t value_len, int64_t timestamp,
                          rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    int64_t t = 0;
    rill_err_t err = key_time(ss, key, key_len, &t, error);
    if (err)
        return err;
    advance(ss, t);
    if (t < live_min(ss)) {
        ss->expired_drops++;
        return RILL_OK;
    }
    segment_t *seg = seg_get_or_create(ss, floordiv(t, ss->interval), error);
    if (seg == NULL)
        return RILL_ERR_STORE;
    note_seq(ss, key, key_len);
    return rill__kv_put(seg->kv, key, key_len, value, value_len, timestamp, error);
}

static rill_err_t seg_del(rill__kv_store_t *store, const void *key, size_t key_len,
                          int64_t timestamp, GBytes **old, rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    int64_t t = 0;
    rill_err_t err = key_time(ss, key, key_len, &t, error);
    if (err)
        return err;
    advance(ss, t);
    if (t < live_min(ss))
        return RILL_OK;
    segment_t *seg = seg_find(ss, floordiv(t, ss->interval));
    return seg ? rill__kv_delete(seg->kv, key, key_len, timestamp, old, error) : RILL_OK;
}

typedef struct routed {
    int64_t id;
    size_t index;
} routed_t;

static int routed_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
    int64_t x = ((const routed_t *)a)->id, y = ((const routed_t *)b)->id;
    return x < y ? -1 : x > y;
}

/* A batch (a restore's, or the logging layer's) is split by segment with a
 * stable sort, so that the writes of one key keep their order, and each
 * segment gets one put_batch (one RocksDB WriteBatch). Stream time advances
 * to the batch's largest time first: what that expires is never written. */
static rill_err_t seg_put_batch(rill__kv_store_t *store, const rill__kv_entry_t *entries,
                                size_t n, rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    int64_t tmax = INT64_MIN;
    routed_t *r = g_new(routed_t, n);
    rill_err_t err = RILL_OK;
    for (size_t i = 0; i < n && err == RILL_OK; i++) {
        int64_t t = 0;
        err = key_time(ss, entries[i].key, entries[i].key_len, &t, error);
        r[i] = (routed_t){t, i};
        if (t > tmax)
            tmax = t;
    }
    if (err) {
        g_free(r);
        return err;
    }
    advance(ss, tmax);
    int64_t lm = live_min(ss);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].id < lm) {
            ss->expired_drops++;
            continue;
        }
        r[m++] = (routed_t){floordiv(r[i].id, ss->interval), r[i].index};
    }
    g_qsort_with_data(r, (gint)m, sizeof *r, routed_cmp, NULL);
    rill__kv_entry_t *run = g_new(rill__kv_entry_t, m ? m : 1);
    for (size_t i = 0; i < m && err == RILL_OK;) {
        size_t j = i, k = 0;
        while (j < m && r[j].id == r[i].id) {
            run[k] = entries[r[j].index];
            if (run[k].value)
                note_seq(ss, run[k].key, run[k].key_len);
            j++, k++;
        }
        segment_t *seg = seg_get_or_create(ss, r[i].id, error);
        err = seg ? rill__kv_put_batch(seg->kv, run, k, error) : RILL_ERR_STORE;
        i = j;
    }
    g_free(run);
    g_free(r);
    return err;
}

static uint64_t seg_count(rill__kv_store_t *store)
{
    segstore_t *ss = (segstore_t *)store;
    uint64_t n = 0;
    for (guint i = 0; i < ss->segs->len; i++)
        n += rill__kv_approximate_count(((segment_t *)g_ptr_array_index(ss->segs, i))->kv);
    return n;
}

static rill_err_t seg_flush(rill__kv_store_t *store, rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    for (guint i = 0; i < ss->segs->len; i++) {
        rill_err_t err = rill__kv_flush(((segment_t *)g_ptr_array_index(ss->segs, i))->kv, error);
        if (err)
            return err;
    }
    return RILL_OK;
}

static rill_err_t seg_restore_mode(rill__kv_store_t *store, bool on, rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    ss->restoring = on;
    for (guint i = 0; i < ss->segs->len; i++) {
        rill__kv_store_t *kv = ((segment_t *)g_ptr_array_index(ss->segs, i))->kv;
        rill_err_t err = on ? rill__kv_restore_begin(kv, error) : rill__kv_restore_end(kv, error);
        if (err)
            return err;
    }
    return RILL_OK;
}

static rill_err_t seg_restore_begin(rill__kv_store_t *store, rill_error_t **error)
{
    return seg_restore_mode(store, true, error);
}

static rill_err_t seg_restore_end(rill__kv_store_t *store, rill_error_t **error)
{
    return seg_restore_mode(store, false, error);
}

static rill_err_t seg_close(rill__kv_store_t *store, rill_error_t **error)
{
    segstore_t *ss = (segstore_t *)store;
    for (guint i = 0; i < ss->segs->len; i++)
        segment_unref(g_ptr_array_index(ss->segs, i));
    g_ptr_array_free(ss->segs, TRUE);
    g_free(ss->path);
    rill__kv_store_fini(store);
    g_free(ss);
    return RILL_OK;
}

/* ---- scans ---------------------------------------------------------------------- */

typedef struct segscan {
    rill__kv_iter_t base;
    segstore_t *ss;
    segment_t **segs; /* referenced */
    guint n_segs, next_seg;
    rill__kv_iter_t *cur;
    GByteArray *lo, *hi; /* NULL = unbounded */
    int64_t t_from, t_to;
    rill_error_t *error;
} segscan_t;

static bool segscan_next(rill__kv_iter_t *iter, const void **key, size_t *key_len,
                         const void **value, size_t *value_len)
{
    segscan_t *sc = (segscan_t *)iter;
    size_t sl = sc->ss->suffix_len;
    while (sc->error == NULL) {
        if (sc->cur == NULL) {
            if (sc->next_seg == sc->n_segs)
                return false;
            segment_t *seg = sc->segs[sc->next_seg++];
            sc->cur = rill__kv_range(seg->kv, sc->lo ? sc->lo->data : NULL, sc->lo ? sc->lo->len : 0,
                                     sc->hi ? sc->hi->data : NULL, sc->hi ? sc->hi->len : 0,
                                     &sc->error);
            if (sc->cur == NULL)
                return false;
        }
        int64_t lm = live_min(sc->ss);
        while (rill__kv_iter_next(sc->cur, key, key_len, value, value_len)) {
            if (*key_len < sl + 2)
                continue;
            int64_t t = rill__wkey_time_get((const uint8_t *)*key + *key_len - sl);
            if (t >= sc->t_from && t <= sc->t_to && t >= lm)
                return true;
        }
        rill__kv_iter_status(sc->cur, &sc->error);
        g_clear_pointer(&sc->cur, rill__kv_iter_destroy);
    }
    return false;
}

static rill_err_t segscan_status(rill__kv_iter_t *iter, rill_error_t **error)
{
    segscan_t *sc = (segscan_t *)iter;
    if (sc->error == NULL)
        return RILL_OK;
    if (error && *error == NULL)
        *error = rill_error_copy(sc->error);
    return rill_error_code(sc->error);
}

static void segscan_destroy(rill__kv_iter_t *iter)
{
    segscan_t *sc = (segscan_t *)iter;
    rill__kv_iter_destroy(sc->cur);
    for (guint i = 0; i < sc->n_segs; i++)
        segment_unref(sc->segs[i]);
    g_free(sc->segs);
    if (sc->lo)
        g_byte_array_unref(sc->lo);
    if (sc->hi)
        g_byte_array_unref(sc->hi);
    rill_error_destroy(sc->error);
    g_free(sc);
}

static const rill__kv_iter_ops_t segscan_ops = {
    .next = segscan_next, .status = segscan_status, .destroy = segscan_destroy};

static GByteArray *bytes_copy(const void *p, size_t len)
{
    GByteArray *b = g_byte_array_sized_new((guint)len);
    if (len)
        g_byte_array_append(b, p, (guint)len);
    return b;
}

rill__kv_iter_t *rill__segments_scan(rill__kv_store_t *store, const void *lo, size_t lo_len,
                                     const void *hi, size_t hi_len, int64_t t_from, int64_t t_to,
                                     rill_error_t **error)
{
    if (!rill__segments_is(store)) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "segments scan: not a segmented store");
        return NULL;
    }
    segstore_t *ss = (segstore_t *)store;
    int64_t lm = live_min(ss);
    if (t_from < lm)
        t_from = lm;
    if (t_from > t_to || (lo && hi && rill__kv_key_compare(lo, lo_len, hi, hi_len) >= 0))
        return rill__kv_iter_empty_new();
    segscan_t *sc = g_new0(segscan_t, 1);
    sc->base.ops = &segscan_ops;
    sc->ss = ss;
    sc->t_from = t_from;
    sc->t_to = t_to;
    sc->lo = lo ? bytes_copy(lo, lo_len) : NULL;
    sc->hi = hi ? bytes_copy(hi, hi_len) : NULL;
    int64_t first = floordiv(t_from, ss->interval), last = floordiv(t_to, ss->interval);
    sc->segs = g_new(segment_t *, ss->segs->len ? ss->segs->len : 1);
    for (guint i = seg_lower(ss, first); i < ss->segs->len; i++) {
        segment_t *seg = g_ptr_array_index(ss->segs, i);
        if (seg->id > last)
            break;
        sc->segs[sc->n_segs++] = segment_ref(seg);
    }
    return &sc->base;
}

static rill__kv_iter_t *seg_range(rill__kv_store_t *store, const void *from, size_t from_len,
                                  const void *to, size_t to_len, rill_error_t **error)
{
    return rill__segments_scan(store, from, from_len, to, to_len, INT64_MIN, INT64_MAX, error);
}

static const rill__kv_store_ops_t seg_ops = {
    .kind = "segmented",
    .get = seg_get,
    .put = seg_put,
    .del = seg_del,
    .put_batch = seg_put_batch,
    .range = seg_range,
    .approximate_count = seg_count,
    .flush = seg_flush,
    .restore_begin = seg_restore_begin,
    .restore_end = seg_restore_end,
    .close = seg_close,
};

/* ---- open and accessors ----------------------------------------------------------- */

/* With track_seq, finds the largest sequence number already stored. */
static rill_err_t scan_seq(segstore_t *ss, rill_error_t **error)
{
    rill__kv_iter_t *it = rill__segments_scan(&ss->base, NULL, 0, NULL, 0, INT64_MIN, INT64_MAX,
                                              error);
    if (it == NULL)
        return RILL_ERR_STORE;
    const void *k, *v;
    size_t kl, vl;
    while (rill__kv_iter_next(it, &k, &kl, &v, &vl))
        note_seq(ss, k, kl);
    rill_err_t err = rill__kv_iter_status(it, error);
    rill__kv_iter_destroy(it);
    return err;
}

/* Reopens the segment directories "<name>.<start>" found under path. */
static rill_err_t open_existing(segstore_t *ss, rill_error_t **error)
{
    GDir *dir = g_dir_open(ss->path, 0, NULL);
    if (dir == NULL)
        return RILL_OK;
    size_t nl = strlen(ss->base.name);
    const char *leaf;
    rill_err_t err = RILL_OK;
    while (err == RILL_OK && (leaf = g_dir_read_name(dir)) != NULL) {
        if (strncmp(leaf, ss->base.name, nl) != 0 || leaf[nl] != '.')
            continue;
        char *end = NULL;
        errno = 0;
        gint64 start = g_ascii_strtoll(leaf + nl + 1, &end, 10);
        if (errno || end == leaf + nl + 1 || *end != '\0' || start % ss->interval != 0) {
            RILL_LOG_WARN("stores.segments", "store=%s: ignoring %s/%s (not a segment of interval %"
                          G_GINT64_FORMAT ")", ss->base.name, ss->path, leaf, ss->interval);
            continue;
        }
        segment_t *seg = seg_get_or_create(ss, start / ss->interval, error);
        if (seg == NULL)
            err = RILL_ERR_STORE;
    }
    g_dir_close(dir);
    if (err == RILL_OK && ss->segs->len > 0) {
        segment_t *newest = g_ptr_array_index(ss->segs, ss->segs->len - 1);
        advance(ss, newest->id * ss->interval);
    }
    return err;
}

rill__kv_store_t *rill__segments_open(const rill__segments_config_t *config, rill_error_t **error)
{
    if (config == NULL || config->name == NULL || *config->name == '\0' ||
        config->retention_ms <= 0 || config->segment_interval_ms < 0 || config->suffix_len < 8 ||
        (config->track_seq && config->suffix_len < 12) ||
        (config->rocksdb && config->path == NULL) || strchr(config->name, '/') != NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG,
                       "segmented store: a name (no '/'), a retention > 0, an interval >= 0 and, "
                       "with RocksDB, a path are required");
        return NULL;
    }
    segstore_t *ss = g_new0(segstore_t, 1);
    rill__kv_store_init(&ss->base, &seg_ops, config->name, NULL);
    ss->retention = config->retention_ms;
    ss->interval = config->segment_interval_ms ? config->segment_interval_ms
                                               : rill__segments_default_interval(config->retention_ms);
    ss->suffix_len = config->suffix_len;
    ss->track_seq = config->track_seq;
    ss->rocksdb = config->rocksdb;
    ss->path = g_strdup(config->path);
    ss->segs = g_ptr_array_new();
    ss->stream_time = INT64_MIN;
    rill_err_t err = RILL_OK;
    if (ss->rocksdb) {
        if (g_mkdir_with_parents(ss->path, 0755) != 0) {
            int e = errno;
            err = rill_error_set(error, RILL_ERR_IO, "store %s: create directory %s: %s",
                                 config->name, ss->path, g_strerror(e));
        }
        if (err == RILL_OK)
            err = open_existing(ss, error);
        if (err == RILL_OK && ss->track_seq)
            err = scan_seq(ss, error);
    }
    if (err) {
        seg_close(&ss->base, NULL);
        return NULL;
    }
    return &ss->base;
}

bool rill__segments_is(const rill__kv_store_t *store)
{
    return store != NULL && store->ops == &seg_ops;
}

int64_t rill__segments_stream_time(const rill__kv_store_t *store)
{
    return ((const segstore_t *)store)->stream_time;
}

int64_t rill__segments_live_min(const rill__kv_store_t *store)
{
    return live_min((const segstore_t *)store);
}

int64_t rill__segments_interval(const rill__kv_store_t *store)
{
    return ((const segstore_t *)store)->interval;
}

GArray *rill__segments_list(const rill__kv_store_t *store)
{
    const segstore_t *ss = (const segstore_t *)store;
    GArray *a = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (guint i = 0; i < ss->segs->len; i++) {
        int64_t start = ((segment_t *)g_ptr_array_index(ss->segs, i))->id * ss->interval;
        g_array_append_val(a, start);
    }
    return a;
}

uint64_t rill__segments_expired_drops(const rill__kv_store_t *store)
{
    return ((const segstore_t *)store)->expired_drops;
}

uint32_t rill__segments_next_seq(const rill__kv_store_t *store)
{
    return ((const segstore_t *)store)->next_seq;
}
