/* test-window.c: window stores, in memory and on RocksDB, with one shared test body: semantics, expiry, duplicates, logging, restore.
 *
 * Each case runs against both backends (the fixture picks one). Windows are
 * written with printable keys except where a case is about key bytes, and
 * iterators are rendered as "key@start=value," strings so that an assertion
 * shows the whole result at once. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stores/segments.h"
#include "stores/window.h"
#include "stores/windowed-key.h"
#include "window-fixture.h"

#define MINUTE 60000

static rill__window_store_t *open_ws(fx_t *f, const char *name, int64_t size, int64_t retention,
                                     int64_t interval, bool dups, bool logged)
{
    g_autofree char *path = fx_path(f, name);
    rill__window_store_config_t c = {
        .name = name,
        .window_size_ms = size,
        .retention_ms = retention,
        .segment_interval_ms = interval,
        .retain_duplicates = dups,
        .rocksdb = f->shared,
        .path = path,
        .changelog = logged ? &f->sink : NULL,
    };
    rill_error_t *error = NULL;
    rill__window_store_t *ws = rill__window_store_open(&c, &error);
    if (ws == NULL)
        fail_msg("open: %s", rill_error_message(error));
    return ws;
}

static void put(rill__window_store_t *ws, const char *k, int64_t start, const char *v)
{
    rill_error_t *error = NULL;
    if (rill__window_put(ws, k, strlen(k), start, v, v ? strlen(v) : 0, start, &error) != RILL_OK)
        fail_msg("put: %s", rill_error_message(error));
}

static char *fetch(rill__window_store_t *ws, const char *k, int64_t start)
{
    GBytes *v = NULL;
    assert_int_equal(rill__window_fetch(ws, k, strlen(k), start, &v, NULL), RILL_OK);
    if (v == NULL)
        return NULL;
    size_t len;
    const char *data = g_bytes_get_data(v, &len);
    char *s = len ? g_strndup(data, len) : g_strdup("");
    g_bytes_unref(v);
    return s;
}

/* "key@start=value," for every window; 0x00 bytes of keys shown as "~". */
static char *render(rill__window_iter_t *it)
{
    assert_non_null(it);
    GString *s = g_string_new("");
    const void *k, *v;
    size_t kl, vl;
    int64_t start;
    while (rill__window_iter_next(it, &k, &kl, &start, &v, &vl)) {
        for (size_t i = 0; i < kl; i++)
            g_string_append_c(s, ((const char *)k)[i] ? ((const char *)k)[i] : '~');
        g_string_append_printf(s, "@%" G_GINT64_FORMAT "=", start);
        g_string_append_len(s, v, (gssize)vl);
        g_string_append_c(s, ',');
    }
    assert_int_equal(rill__window_iter_status(it, NULL), RILL_OK);
    rill__window_iter_destroy(it);
    return g_string_free(s, FALSE);
}

static char *range(rill__window_store_t *ws, const char *k, int64_t from, int64_t to)
{
    return render(rill__window_fetch_range(ws, k, strlen(k), from, to, NULL));
}

#define assert_str(actual, expected)                                                          \
    do {                                                                                      \
        char *a_ = (actual);                                                                  \
        assert_string_equal(a_, expected);                                                    \
        g_free(a_);                                                                           \
    } while (0)

/* ---- cases ------------------------------------------------------------------------- */

static void test_window__put_fetch_overwrite_delete(void **state)
{
    fx_t *f = *state;
    rill__window_store_t *ws = open_ws(f, "w", 10, 100 * MINUTE, 0, false, false);
    put(ws, "a", 0, "1");
    put(ws, "a", 10, "2");
    put(ws, "b", 0, "3");
    assert_str(fetch(ws, "a", 0), "1");
    assert_str(fetch(ws, "a", 10), "2");
    assert_str(fetch(ws, "b", 0), "3");
    assert_null(fetch(ws, "a", 5));
    put(ws, "a", 0, "1b");
    assert_str(fetch(ws, "a", 0), "1b");
    put(ws, "a", 0, NULL);
    assert_null(fetch(ws, "a", 0));
    assert_str(range(ws, "a", 0, 100), "a@10=2,");
    /* an empty value is present */
    put(ws, "e", 0, "");
    assert_str(fetch(ws, "e", 0), "");
    assert_int_equal(rill__window_store_stream_time(ws), 10);
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__time_range_is_inclusive_at_both_ends(void **state)
{
    fx_t *f = *state;
    rill__window_store_t *ws = open_ws(f, "w", 10, 100 * MINUTE, 0, false, false);
    for (int64_t t = 0; t <= 40; t += 10)
        put(ws, "k", t, t == 0 ? "a" : t == 10 ? "b" : t == 20 ? "c" : t == 30 ? "d" : "e");
    assert_str(range(ws, "k", 10, 30), "k@10=b,k@20=c,k@30=d,");
    assert_str(range(ws, "k", 11, 29), "k@20=c,");
    assert_str(range(ws, "k", 11, 19), "");
    assert_str(range(ws, "k", 20, 20), "k@20=c,");
    assert_str(range(ws, "k", 30, 10), ""); /* from > to: nothing */
    assert_str(range(ws, "k", INT64_MIN, INT64_MAX), "k@0=a,k@10=b,k@20=c,k@30=d,k@40=e,");
    assert_str(render(rill__window_fetch_all(ws, 10, 20, NULL)), "k@10=b,k@20=c,");
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__per_key_scan_is_in_time_order_and_sees_only_that_key(void **state)
{
    fx_t *f = *state;
    /* interval 1 min, retention 1 h: windows spread over many segments */
    rill__window_store_t *ws = open_ws(f, "w", 1000, 60 * MINUTE, MINUTE, false, false);
    static const int64_t starts[] = {5 * MINUTE, 0, 3 * MINUTE + 7, 1, 2 * MINUTE, MINUTE - 1, 4 * MINUTE};
    for (size_t i = 0; i < G_N_ELEMENTS(starts); i++) {
        g_autofree char *v = g_strdup_printf("%zu", i);
        put(ws, "a", starts[i], v);
        /* keys that the plain `key | start` layout would interleave with "a" */
        rill_error_t *error = NULL;
        assert_int_equal(rill__window_put(ws, "a\0\x01", 3, starts[i], "x", 1, 0, &error), RILL_OK);
        put(ws, "ab", starts[i], "y");
        put(ws, "", starts[i], "z");
    }
    assert_str(range(ws, "a", INT64_MIN, INT64_MAX),
               "a@0=1,a@1=3,a@59999=5,a@120000=4,a@180007=2,a@240000=6,a@300000=0,");
    assert_str(range(ws, "a", 1, 2 * MINUTE), "a@1=3,a@59999=5,a@120000=4,");
    assert_str(range(ws, "", 0, 1), "@0=z,@1=z,");
    /* key ranges are inclusive and in key order within a segment */
    assert_str(render(rill__window_fetch_keys(ws, "a", 1, "ab", 2, 0, 1, NULL)),
               "a@0=1,a@1=3,a~\x01@0=x,a~\x01@1=x,ab@0=y,ab@1=y,");
    assert_str(render(rill__window_fetch_keys(ws, "a\0", 2, "a\0\x02", 3, 0, 0, NULL)),
               "a~\x01@0=x,");
    assert_str(render(rill__window_fetch_keys(ws, "b", 1, "a", 1, 0, INT64_MAX, NULL)), "");
    assert_str(render(rill__window_fetch_keys(ws, NULL, 0, "a", 1, 0, 0, NULL)), "@0=z,a@0=1,");
    /* all(): segment order, then key order */
    char *all = render(rill__window_all(ws, NULL));
    assert_true(g_str_has_prefix(all, "@0=z,@1=z,@59999=z,a@0=1,a@1=3,a@59999=5,"));
    assert_true(g_str_has_suffix(all, "ab@300000=y,"));
    g_free(all);
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__segments_roll_and_expire_whole(void **state)
{
    fx_t *f = *state;
    /* retention 2 min + interval 1 min (the default: max(2 min / 2, 60 s)) */
    rill__window_store_t *ws = open_ws(f, "w", 1000, 2 * MINUTE, 0, false, false);
    rill__kv_store_t *segs = rill__window_store_segments(ws);
    assert_int_equal(rill__segments_interval(segs), MINUTE);
    g_autofree char *path = fx_path(f, "w");
    put(ws, "k", 0, "s0");
    put(ws, "k", MINUTE + 1, "s1");
    assert_str(range(ws, "k", 0, INT64_MAX), "k@0=s0,k@60001=s1,");
    put(ws, "k", 2 * MINUTE + 2, "s2");
    assert_str(range(ws, "k", 1, INT64_MAX), "k@60001=s1,k@120002=s2,");
    GArray *list = rill__segments_list(segs);
    assert_int_equal(list->len, 3);
    assert_int_equal(g_array_index(list, int64_t, 0), 0);
    assert_int_equal(g_array_index(list, int64_t, 2), 2 * MINUTE);
    g_array_unref(list);
    if (f->rocksdb)
        assert_int_equal(count_entries(path, "w."), 3);

    /* stream time 2 min + 2: live from 2 + 1 = 3 on: window 0 is expired
     * and hidden, though its segment [0, 1 min) still holds it */
    assert_int_equal(rill__segments_live_min(segs), 3);
    assert_null(fetch(ws, "k", 0));
    put(ws, "k", 2, "late"); /* expired: dropped, not an error */
    assert_int_equal(rill__segments_expired_drops(segs), 1);
    assert_null(fetch(ws, "k", 2));

    /* stream time 3 min + 1: live from 1 min + 2; segment 0 is all expired */
    put(ws, "k", 3 * MINUTE + 1, "s3");
    list = rill__segments_list(segs);
    assert_int_equal(list->len, 3);
    assert_int_equal(g_array_index(list, int64_t, 0), MINUTE);
    g_array_unref(list);
    if (f->rocksdb) {
        assert_int_equal(count_entries(path, "w."), 3);
        g_autofree char *seg0 = g_build_filename(path, "w.0", NULL);
        assert_false(g_file_test(seg0, G_FILE_TEST_EXISTS));
    }
    assert_str(range(ws, "k", 0, INT64_MAX), "k@120002=s2,k@180001=s3,");

    /* a jump far ahead expires everything older */
    put(ws, "k", 100 * MINUTE, "s4");
    list = rill__segments_list(segs);
    assert_int_equal(list->len, 1);
    g_array_unref(list);
    if (f->rocksdb)
        assert_int_equal(count_entries(path, "w."), 1);
    assert_str(render(rill__window_all(ws, NULL)), "k@6000000=s4,");
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__open_iterator_keeps_dropped_segment_alive(void **state)
{
    fx_t *f = *state;
    rill__window_store_t *ws = open_ws(f, "w", 1000, 2 * MINUTE, 0, false, false);
    put(ws, "k", 0, "old");
    put(ws, "k", MINUTE, "mid");
    rill__window_iter_t *it = rill__window_fetch_range(ws, "k", 1, 0, INT64_MAX, NULL);
    put(ws, "k", 10 * MINUTE, "new"); /* drops both segments while it is open */
    const void *k, *v;
    size_t kl, vl;
    int64_t start;
    /* the iterator may or may not see the expired windows, but must not crash
     * and must end cleanly */
    while (rill__window_iter_next(it, &k, &kl, &start, &v, &vl))
        assert_true(start == 0 || start == MINUTE);
    assert_int_equal(rill__window_iter_status(it, NULL), RILL_OK);
    rill__window_iter_destroy(it);
    if (f->rocksdb) {
        g_autofree char *path = fx_path(f, "w");
        assert_int_equal(count_entries(path, "w."), 1);
    }
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__duplicates_are_all_kept_in_put_order(void **state)
{
    fx_t *f = *state;
    rill__window_store_t *ws = open_ws(f, "j", 100, 100 * MINUTE, 0, true, true);
    put(ws, "k", 10, "first");
    put(ws, "k", 10, "second");
    put(ws, "k", 5, "earlier");
    put(ws, "k", 10, "third");
    put(ws, "k", 10, NULL); /* no-op with duplicates, and not logged */
    assert_str(range(ws, "k", 0, 100), "k@5=earlier,k@10=first,k@10=second,k@10=third,");
    assert_str(fetch(ws, "k", 10), "first");
    assert_int_equal(f->log->len, 4);
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);

    /* restored into a fresh store, then one more: all five, new one last */
    rill__window_store_t *r = open_ws(f, "j2", 100, 100 * MINUTE, 0, true, false);
    fx_restore(f, rill__window_store_kv(r), 2);
    put(r, "k", 10, "fourth");
    assert_str(range(r, "k", 0, 100), "k@5=earlier,k@10=first,k@10=second,k@10=third,k@10=fourth,");
    assert_int_equal(rill__window_store_close(r, NULL), RILL_OK);
}

static void test_window__changelog_gets_exactly_the_writes(void **state)
{
    fx_t *f = *state;
    rill__window_store_t *ws = open_ws(f, "w", 10, 100 * MINUTE, 0, false, true);
    put(ws, "a", 0, "1");
    assert_int_equal(rill__window_put(ws, "a\0b", 3, 10, "2", 1, 10, NULL), RILL_OK);
    put(ws, "a", 0, NULL);
    assert_int_equal(f->log->len, 3);
    static const struct {
        const char *key;
        size_t key_len;
        int64_t start;
        const char *value;
    } want[] = {{"a", 1, 0, "1"}, {"a\0b", 3, 10, "2"}, {"a", 1, 0, NULL}};
    GByteArray *k = g_byte_array_new();
    for (guint i = 0; i < 3; i++) {
        log_rec_t *rec = g_ptr_array_index(f->log, i);
        size_t len;
        const uint8_t *skey = g_bytes_get_data(rec->key, &len);
        const uint8_t *suffix;
        assert_true(rill__wkey_decode(skey, len, RILL__WINDOW_SUFFIX_LEN, k, &suffix));
        assert_int_equal(k->len, want[i].key_len);
        assert_memory_equal(k->data, want[i].key, want[i].key_len);
        assert_int_equal(rill__wkey_time_get(suffix), want[i].start);
        assert_int_equal(rec->timestamp, want[i].start);
        if (want[i].value == NULL)
            assert_null(rec->value);
        else
            assert_memory_equal(g_bytes_get_data(rec->value, NULL), want[i].value, 1);
    }
    g_byte_array_unref(k);
    /* reads are not logged */
    g_free(range(ws, "a", 0, 100));
    g_free(fetch(ws, "a", 0));
    assert_int_equal(f->log->len, 3);
    /* a failed send fails the put */
    f->log_fails = true;
    rill_error_t *error = NULL;
    assert_int_equal(rill__window_put(ws, "z", 1, 0, "v", 1, 0, &error), RILL_ERR_KAFKA);
    rill_error_destroy(error);
    f->log_fails = false;
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__restore_rebuilds_an_identical_store(void **state)
{
    fx_t *f = *state;
    rill__window_store_t *ws = open_ws(f, "w", 1000, 3 * MINUTE, MINUTE, false, true);
    GRand *rand = g_rand_new_with_seed(7);
    for (int i = 0; i < 3000; i++) {
        char k[8];
        g_snprintf(k, sizeof k, "k%d", g_rand_int_range(rand, 0, 50));
        int64_t start = (i / 10) * 100 + g_rand_int_range(rand, 0, 2000); /* out of order */
        if (g_rand_int_range(rand, 0, 10) == 0)
            put(ws, k, start, NULL);
        else {
            char v[16];
            g_snprintf(v, sizeof v, "v%d", i);
            put(ws, k, start, v);
        }
    }
    g_rand_free(rand);
    char *want = render(rill__window_all(ws, NULL));
    assert_true(strlen(want) > 1000);
    rill__window_store_t *r = open_ws(f, "w-restored", 1000, 3 * MINUTE, MINUTE, false, false);
    fx_restore(f, rill__window_store_kv(r), 100);
    char *got = render(rill__window_all(r, NULL));
    assert_string_equal(got, want);
    assert_int_equal(rill__window_store_stream_time(r), rill__window_store_stream_time(ws));
    /* (the segment lists may differ: a segment that holds only windows that
     * expired later in the log is never created by the restore) */
    g_free(want);
    g_free(got);
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
    assert_int_equal(rill__window_store_close(r, NULL), RILL_OK);
}

static void test_window__bad_arguments_are_refused(void **state)
{
    fx_t *f = *state;
    rill_error_t *error = NULL;
    rill__window_store_config_t c = {.name = "w", .window_size_ms = 100, .retention_ms = 50};
    assert_null(rill__window_store_open(&c, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_ARG);
    g_clear_pointer(&error, rill_error_destroy);
    c.retention_ms = 100;
    c.rocksdb = f->shared ? f->shared : NULL;
    c.path = NULL;
    rill__window_store_t *ws = rill__window_store_open(&c, &error);
    if (f->rocksdb) {
        assert_null(ws); /* RocksDB needs a path */
        g_clear_pointer(&error, rill_error_destroy);
        return;
    }
    assert_non_null(ws);
    assert_int_equal(rill__window_put(ws, NULL, 3, 0, "v", 1, 0, &error), RILL_ERR_INVALID_ARG);
    g_clear_pointer(&error, rill_error_destroy);
    /* the kv view refuses keys that are not windowed keys */
    assert_int_equal(rill__kv_put(rill__window_store_kv(ws), "short", 5, "v", 1, 0, &error),
                     RILL_ERR_INVALID_ARG);
    g_clear_pointer(&error, rill_error_destroy);
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

/* RocksDB only: data survives close and reopen, segments included. */
static void test_window__rocksdb_reopen_keeps_data(void **state)
{
    fx_t *f = *state;
    if (!f->rocksdb) {
        /* memory stores keep nothing by design: a new one is empty */
        rill__window_store_t *ws = open_ws(f, "w", 1000, 10 * MINUTE, MINUTE, false, false);
        put(ws, "k", 1, "v");
        assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
        ws = open_ws(f, "w", 1000, 10 * MINUTE, MINUTE, false, false);
        assert_str(render(rill__window_all(ws, NULL)), "");
        assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
        return;
    }
    rill__window_store_t *ws = open_ws(f, "w", 1000, 10 * MINUTE, MINUTE, true, false);
    put(ws, "k", 1, "a");
    put(ws, "k", 1, "b");
    put(ws, "k", 3 * MINUTE, "c");
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
    ws = open_ws(f, "w", 1000, 10 * MINUTE, MINUTE, true, false);
    assert_str(render(rill__window_all(ws, NULL)), "k@1=a,k@1=b,k@180000=c,");
    /* stream time restarts at the newest segment's start, a lower bound */
    assert_int_equal(rill__window_store_stream_time(ws), 3 * MINUTE);
    put(ws, "k", 1, "d"); /* a new sequence number, not an overwrite of "a" */
    assert_str(range(ws, "k", 1, 1), "k@1=a,k@1=b,k@1=d,");
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

static void test_window__restore_expires_and_deletes_old_segments(void **state)
{
    fx_t *f = *state;
    /* a changelog spanning 20 min of windows into a store that keeps 2 min */
    rill__window_store_t *ws = open_ws(f, "w", 1000, 2 * MINUTE, MINUTE, false, true);
    for (int64_t t = 0; t < 20 * MINUTE; t += 10000)
        put(ws, t % 20000 ? "a" : "b", t, "v");
    char *want = render(rill__window_all(ws, NULL));
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
    assert_int_equal(f->log->len, 120);

    rill__window_store_t *r = open_ws(f, "w2", 1000, 2 * MINUTE, MINUTE, false, false);
    fx_restore(f, rill__window_store_kv(r), 7); /* many small batches, segments roll */
    char *got = render(rill__window_all(r, NULL));
    assert_string_equal(got, want);
    /* live: start > 1190000 - 120000; by segment (18 and 19 min), then key, then start */
    assert_string_equal(got, "a@1090000=v,a@1110000=v,a@1130000=v,b@1080000=v,b@1100000=v,"
                             "b@1120000=v,a@1150000=v,a@1170000=v,a@1190000=v,b@1140000=v,"
                             "b@1160000=v,b@1180000=v,");
    /* segments 17 (holding only expired windows, not all of its times are), 18, 19 */
    GArray *list = rill__segments_list(rill__window_store_segments(r));
    assert_int_equal(list->len, 3);
    g_array_unref(list);
    if (f->rocksdb) {
        g_autofree char *path = fx_path(f, "w2");
        assert_int_equal(count_entries(path, "w2."), 3); /* the 17 others were deleted */
    }
    g_free(want);
    g_free(got);
    assert_int_equal(rill__window_store_close(r, NULL), RILL_OK);
}

static void test_window__unusable_directory_is_a_clear_error(void **state)
{
    fx_t *f = *state;
    if (!f->rocksdb)
        return; /* memory stores have no directory: nothing can fail here */
    g_autofree char *path = fx_path(f, "file");
    assert_true(g_file_set_contents(path, "not a directory", -1, NULL));
    rill__window_store_config_t c = {.name = "file",
                                     .window_size_ms = 10,
                                     .retention_ms = 10,
                                     .rocksdb = f->shared,
                                     .path = path};
    rill_error_t *error = NULL;
    assert_null(rill__window_store_open(&c, &error));
    assert_non_null(error);
    assert_non_null(strstr(rill_error_message(error), "window store file"));
    assert_non_null(strstr(rill_error_message(error), path));
    rill_error_destroy(error);
    /* the file is left as it was */
    g_autofree char *content = NULL;
    assert_true(g_file_get_contents(path, &content, NULL, NULL));
    assert_string_equal(content, "not a directory");
}

/* ---- a model ------------------------------------------------------------------------ */

typedef struct mentry {
    char key[4];
    size_t key_len;
    int64_t start;
    char value[16];
} mentry_t;

static int64_t model_interval;

static int64_t fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && a < 0) ? q - 1 : q;
}

/* the documented order of multi-key results: segment, key bytes, start */
static gint mentry_cmp(gconstpointer a, gconstpointer b)
{
    const mentry_t *x = *(const mentry_t *const *)a, *y = *(const mentry_t *const *)b;
    int64_t sx = fdiv(x->start, model_interval), sy = fdiv(y->start, model_interval);
    if (sx != sy)
        return sx < sy ? -1 : 1;
    int c = rill__kv_key_compare(x->key, x->key_len, y->key, y->key_len);
    if (c)
        return c;
    return x->start < y->start ? -1 : x->start > y->start;
}

static void render_entry(GString *s, const mentry_t *e)
{
    for (size_t i = 0; i < e->key_len; i++)
        g_string_append_c(s, e->key[i] ? e->key[i] : '~');
    g_string_append_printf(s, "@%" G_GINT64_FORMAT "=%s,", e->start, e->value);
}

/* The model's answer to fetch_keys(kfrom, kto, from, to) (kfrom/kto NULL = open). */
static char *model_query(GPtrArray *model, int64_t live_min, const mentry_t *kfrom,
                         const mentry_t *kto, int64_t from, int64_t to)
{
    GPtrArray *hits = g_ptr_array_new();
    for (guint i = 0; i < model->len; i++) {
        mentry_t *e = g_ptr_array_index(model, i);
        if (e->start < live_min || e->start < from || e->start > to)
            continue;
        if (kfrom && rill__kv_key_compare(e->key, e->key_len, kfrom->key, kfrom->key_len) < 0)
            continue;
        if (kto && rill__kv_key_compare(e->key, e->key_len, kto->key, kto->key_len) > 0)
            continue;
        g_ptr_array_add(hits, e);
    }
    g_ptr_array_sort(hits, mentry_cmp);
    GString *s = g_string_new("");
    for (guint i = 0; i < hits->len; i++)
        render_entry(s, g_ptr_array_index(hits, i));
    g_ptr_array_unref(hits);
    return g_string_free(s, FALSE);
}

static void test_window__matches_a_model_over_random_writes_and_expiry(void **state)
{
    fx_t *f = *state;
    static const struct {
        const char *bytes;
        size_t len;
    } keys[] = {{"", 0}, {"a", 1}, {"a\0", 2}, {"a\0b", 3}, {"ab", 2}, {"b", 1}, {"\xff", 1}};
    const int64_t retention = 3 * MINUTE, interval = MINUTE;
    model_interval = interval;
    rill__window_store_t *ws = open_ws(f, "w", 1000, retention, interval, false, false);
    rill__kv_store_t *segs = rill__window_store_segments(ws);
    GPtrArray *model = g_ptr_array_new_with_free_func(g_free);
    GRand *rand = g_rand_new_with_seed(2024);
    int64_t stream_time = INT64_MIN;
    for (int op = 0; op < 4000; op++) {
        int ki = g_rand_int_range(rand, 0, G_N_ELEMENTS(keys));
        /* mostly near stream time, sometimes late (expired), sometimes a jump */
        int64_t base = stream_time == INT64_MIN ? 0 : stream_time;
        int64_t start = base + g_rand_int_range(rand, -4 * MINUTE, 20000);
        if (g_rand_int_range(rand, 0, 500) == 0)
            start = base + 10 * MINUTE;
        start -= start % 1000;
        bool del = g_rand_int_range(rand, 0, 8) == 0;
        char value[16];
        g_snprintf(value, sizeof value, "v%d", op);
        assert_int_equal(rill__window_put(ws, keys[ki].bytes, keys[ki].len, start,
                                          del ? NULL : value, del ? 0 : strlen(value), start, NULL),
                         RILL_OK);
        /* the model: stream time moves first, then expired writes are dropped */
        if (start > stream_time)
            stream_time = start;
        int64_t live_min = stream_time - retention + 1;
        guint found = model->len;
        for (guint i = 0; i < model->len; i++) {
            mentry_t *e = g_ptr_array_index(model, i);
            if (e->start == start && e->key_len == keys[ki].len &&
                memcmp(e->key, keys[ki].bytes, e->key_len) == 0)
                found = i;
        }
        if (start >= live_min) {
            if (del && found < model->len)
                g_ptr_array_remove_index_fast(model, found);
            else if (!del && found < model->len)
                g_strlcpy(((mentry_t *)g_ptr_array_index(model, found))->value, value, 16);
            else if (!del) {
                mentry_t *e = g_new0(mentry_t, 1);
                memcpy(e->key, keys[ki].bytes, keys[ki].len);
                e->key_len = keys[ki].len;
                e->start = start;
                g_strlcpy(e->value, value, sizeof e->value);
                g_ptr_array_add(model, e);
            }
        }
        assert_int_equal(rill__window_store_stream_time(ws), stream_time);
        if (op % 50 != 49)
            continue;
        /* queries: one key, a key range, everything */
        int64_t from = stream_time - g_rand_int_range(rand, 0, 5 * MINUTE);
        int64_t to = from + g_rand_int_range(rand, 0, 3 * MINUTE);
        int qa = g_rand_int_range(rand, 0, G_N_ELEMENTS(keys));
        int qb = g_rand_int_range(rand, 0, G_N_ELEMENTS(keys));
        mentry_t ka = {.key_len = keys[qa].len}, kb = {.key_len = keys[qb].len};
        memcpy(ka.key, keys[qa].bytes, ka.key_len);
        memcpy(kb.key, keys[qb].bytes, kb.key_len);
        char *want = model_query(model, live_min, &ka, &ka, from, to);
        char *got = render(rill__window_fetch_range(ws, ka.key, ka.key_len, from, to, NULL));
        assert_string_equal(got, want);
        g_free(want);
        g_free(got);
        want = model_query(model, live_min, &ka, &kb, from, to);
        got = render(rill__window_fetch_keys(ws, ka.key, ka.key_len, kb.key, kb.key_len, from, to,
                                             NULL));
        if (rill__kv_key_compare(ka.key, ka.key_len, kb.key, kb.key_len) > 0)
            assert_string_equal(got, "");
        else
            assert_string_equal(got, want);
        g_free(want);
        g_free(got);
        want = model_query(model, live_min, NULL, NULL, INT64_MIN, INT64_MAX);
        got = render(rill__window_all(ws, NULL));
        assert_string_equal(got, want);
        g_free(want);
        g_free(got);
        /* no segment outlives its retention, none is missing */
        GArray *list = rill__segments_list(segs);
        for (guint i = 0; i < list->len; i++)
            assert_true(g_array_index(list, int64_t, i) + interval - 1 >= live_min);
        assert_true(list->len <= (guint)(retention / interval) + 1);
        g_array_unref(list);
    }
    g_rand_free(rand);
    g_ptr_array_unref(model);
    assert_int_equal(rill__window_store_close(ws, NULL), RILL_OK);
}

#define WINDOW_TESTS(setup)                                                                   \
    cmocka_unit_test_setup_teardown(test_window__put_fetch_overwrite_delete, setup, fx_teardown), \
        cmocka_unit_test_setup_teardown(test_window__time_range_is_inclusive_at_both_ends,    \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(                                                      \
            test_window__per_key_scan_is_in_time_order_and_sees_only_that_key, setup,         \
            fx_teardown),                                                                     \
        cmocka_unit_test_setup_teardown(test_window__segments_roll_and_expire_whole, setup,   \
                                        fx_teardown),                                         \
        cmocka_unit_test_setup_teardown(test_window__open_iterator_keeps_dropped_segment_alive, \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(test_window__duplicates_are_all_kept_in_put_order,    \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(test_window__changelog_gets_exactly_the_writes, setup, \
                                        fx_teardown),                                         \
        cmocka_unit_test_setup_teardown(test_window__restore_rebuilds_an_identical_store,     \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(test_window__bad_arguments_are_refused, setup,        \
                                        fx_teardown),                                         \
        cmocka_unit_test_setup_teardown(test_window__rocksdb_reopen_keeps_data, setup,        \
                                        fx_teardown),                                         \
        cmocka_unit_test_setup_teardown(test_window__restore_expires_and_deletes_old_segments, \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(test_window__unusable_directory_is_a_clear_error,     \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(                                                      \
            test_window__matches_a_model_over_random_writes_and_expiry, setup, fx_teardown)

int main(void)
{
    const struct CMUnitTest memory[] = {WINDOW_TESTS(setup_memory)};
    const struct CMUnitTest rocksdb[] = {WINDOW_TESTS(setup_rocksdb)};
    int failed = 0;
    failed += cmocka_run_group_tests_name("window-memory", memory, NULL, NULL);
    failed += cmocka_run_group_tests_name("window-rocksdb", rocksdb, NULL, NULL);
    return failed ? 1 : 0;
}
