/* test-session.c: session stores, in memory and on RocksDB, with one shared test body: merge queries, removal, expiry, logging, restore, reopen.
 *
 * Sessions are rendered as "key[start,end]=value," strings. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stores/segments.h"
#include "stores/session.h"
#include "stores/window.h"
#include "stores/windowed-key.h"
#include "window-fixture.h"

#define MINUTE 60000

static rill__session_store_t *open_ss(fx_t *f, const char *name, int64_t retention,
                                      int64_t interval, bool logged)
{
    g_autofree char *path = fx_path(f, name);
    rill__session_store_config_t c = {
        .name = name,
        .retention_ms = retention,
        .segment_interval_ms = interval,
        .rocksdb = f->shared,
        .path = path,
        .changelog = logged ? &f->sink : NULL,
    };
    rill_error_t *error = NULL;
    rill__session_store_t *ss = rill__session_store_open(&c, &error);
    if (ss == NULL)
        fail_msg("open: %s", rill_error_message(error));
    return ss;
}

static void put(rill__session_store_t *ss, const char *k, int64_t start, int64_t end,
                const char *v)
{
    rill_error_t *error = NULL;
    if (rill__session_put(ss, k, strlen(k), start, end, v, v ? strlen(v) : 0, end, &error))
        fail_msg("put: %s", rill_error_message(error));
}

static char *render(rill__session_iter_t *it)
{
    assert_non_null(it);
    GString *s = g_string_new("");
    const void *k, *v;
    size_t kl, vl;
    int64_t start, end;
    while (rill__session_iter_next(it, &k, &kl, &start, &end, &v, &vl)) {
        g_string_append_len(s, k, (gssize)kl);
        g_string_append_printf(s, "[%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT "]=", start, end);
        g_string_append_len(s, v, (gssize)vl);
        g_string_append_c(s, ',');
    }
    assert_int_equal(rill__session_iter_status(it, NULL), RILL_OK);
    rill__session_iter_destroy(it);
    return g_string_free(s, FALSE);
}

static char *find(rill__session_store_t *ss, const char *k, int64_t earliest_end,
                  int64_t latest_start)
{
    return render(rill__session_find(ss, k, strlen(k), earliest_end, latest_start, NULL));
}

#define assert_str(actual, expected)                                                          \
    do {                                                                                      \
        char *a_ = (actual);                                                                  \
        assert_string_equal(a_, expected);                                                    \
        g_free(a_);                                                                           \
    } while (0)

static void test_session__find_sessions_for_merging(void **state)
{
    fx_t *f = *state;
    rill__session_store_t *ss = open_ss(f, "s", 100 * MINUTE, 0, false);
    put(ss, "k", 0, 10, "A");
    put(ss, "k", 20, 30, "B");
    put(ss, "k", 50, 60, "C");
    put(ss, "k", 25, 25, "P"); /* a point session */
    put(ss, "ka", 0, 100, "other");
    put(ss, "", 0, 100, "empty");
    /* end >= earliest_end and start <= latest_start, both inclusive, by end then start */
    assert_str(find(ss, "k", 15, 25), "k[25,25]=P,k[20,30]=B,");
    assert_str(find(ss, "k", 30, 30), "k[20,30]=B,");
    assert_str(find(ss, "k", 31, 49), "");
    assert_str(find(ss, "k", 10, 50), "k[0,10]=A,k[25,25]=P,k[20,30]=B,k[50,60]=C,");
    assert_str(find(ss, "k", 11, 19), "");
    assert_str(find(ss, "k", 60, 60), "k[50,60]=C,");
    assert_str(find(ss, "k", 61, 1000), "");
    /* a record at t = 40 with gap 15 merges with [20,30] and [50,60] */
    assert_str(find(ss, "k", 40 - 15, 40 + 15), "k[25,25]=P,k[20,30]=B,k[50,60]=C,");
    assert_str(render(rill__session_fetch(ss, "k", 1, NULL)),
               "k[0,10]=A,k[25,25]=P,k[20,30]=B,k[50,60]=C,");
    assert_str(render(rill__session_fetch(ss, "", 0, NULL)), "[0,100]=empty,");
    assert_str(render(rill__session_find_keys(ss, "k", 1, "ka", 2, 55, 100, NULL)),
               "k[50,60]=C,ka[0,100]=other,");
    assert_str(render(rill__session_find_keys(ss, NULL, 0, NULL, 0, 100, 0, NULL)),
               "[0,100]=empty,ka[0,100]=other,");
    GBytes *v = NULL;
    assert_int_equal(rill__session_fetch_session(ss, "k", 1, 20, 30, &v, NULL), RILL_OK);
    assert_non_null(v);
    assert_memory_equal(g_bytes_get_data(v, NULL), "B", 1);
    g_bytes_unref(v);
    assert_int_equal(rill__session_fetch_session(ss, "k", 1, 20, 31, &v, NULL), RILL_OK);
    assert_null(v);
    assert_int_equal(rill__session_store_close(ss, NULL), RILL_OK);
}

static void test_session__merge_replaces_sessions(void **state)
{
    fx_t *f = *state;
    rill__session_store_t *ss = open_ss(f, "s", 100 * MINUTE, 0, true);
    put(ss, "k", 20, 30, "2");
    put(ss, "k", 50, 60, "3");
    /* what a session aggregation does for a record at 40, gap 15 */
    rill__session_iter_t *it = rill__session_find(ss, "k", 1, 25, 55, NULL);
    const void *k, *v;
    size_t kl, vl;
    int64_t start, end, merged_start = 40, merged_end = 40;
    GPtrArray *old = g_ptr_array_new_with_free_func(g_free);
    while (rill__session_iter_next(it, &k, &kl, &start, &end, &v, &vl)) {
        merged_start = MIN(merged_start, start);
        merged_end = MAX(merged_end, end);
        int64_t *se = g_new(int64_t, 2);
        se[0] = start;
        se[1] = end;
        g_ptr_array_add(old, se);
    }
    rill__session_iter_destroy(it);
    for (guint i = 0; i < old->len; i++) {
        int64_t *se = g_ptr_array_index(old, i);
        assert_int_equal(rill__session_remove(ss, "k", 1, se[0], se[1], 40, NULL), RILL_OK);
    }
    g_ptr_array_unref(old);
    put(ss, "k", merged_start, merged_end, "6");
    assert_str(render(rill__session_fetch(ss, "k", 1, NULL)), "k[20,60]=6,");
    /* the changelog: 2 puts, 2 tombstones, the merged session */
    assert_int_equal(f->log->len, 5);
    assert_null(((log_rec_t *)g_ptr_array_index(f->log, 2))->value);
    assert_null(((log_rec_t *)g_ptr_array_index(f->log, 3))->value);
    assert_non_null(((log_rec_t *)g_ptr_array_index(f->log, 4))->value);
    /* changelog keys carry (key, end, start): the merged session's */
    {
        log_rec_t *rec = g_ptr_array_index(f->log, 4);
        size_t len;
        const uint8_t *skey = g_bytes_get_data(rec->key, &len);
        GByteArray *key = g_byte_array_new();
        const uint8_t *suffix;
        assert_true(rill__wkey_decode(skey, len, RILL__SESSION_SUFFIX_LEN, key, &suffix));
        assert_int_equal(key->len, 1);
        assert_int_equal(key->data[0], 'k');
        assert_int_equal(rill__wkey_time_get(suffix), 60);
        assert_int_equal(rill__wkey_time_get(suffix + 8), 20);
        g_byte_array_unref(key);
    }
    rill_error_t *error = NULL;
    assert_int_equal(rill__session_put(ss, "k", 1, 10, 5, "x", 1, 0, &error),
                     RILL_ERR_INVALID_ARG); /* end before start */
    rill_error_destroy(error);
    assert_int_equal(f->log->len, 5);
    assert_int_equal(rill__session_store_close(ss, NULL), RILL_OK);

    /* restore rebuilds it */
    rill__session_store_t *r = open_ss(f, "s2", 100 * MINUTE, 0, false);
    fx_restore(f, rill__session_store_kv(r), 2);
    assert_str(render(rill__session_find_keys(r, NULL, 0, NULL, 0, INT64_MIN, INT64_MAX, NULL)),
               "k[20,60]=6,");
    assert_int_equal(rill__session_store_stream_time(r), 60);
    assert_int_equal(rill__session_store_close(r, NULL), RILL_OK);
}

static void test_session__expiry_by_session_end_drops_segments(void **state)
{
    fx_t *f = *state;
    rill__session_store_t *ss = open_ss(f, "s", 2 * MINUTE, MINUTE, false);
    g_autofree char *path = fx_path(f, "s");
    put(ss, "k", 0, 10, "a");            /* segment 0 (by end) */
    put(ss, "k", 10, MINUTE + 5, "b");      /* segment 1 min */
    put(ss, "k", MINUTE, 2 * MINUTE + 5, "c"); /* segment 2 min */
    assert_int_equal(rill__session_store_stream_time(ss), 2 * MINUTE + 5);
    /* live from end >= 6 */
    assert_str(render(rill__session_fetch(ss, "k", 1, NULL)),
               "k[0,10]=a,k[10,60005]=b,k[60000,120005]=c,");
    if (f->rocksdb)
        assert_int_equal(count_entries(path, "s."), 3);
    put(ss, "k", 0, 5, "late"); /* end 5 < 6: expired, dropped, not an error */
    assert_int_equal(rill__segments_expired_drops(rill__session_store_segments(ss)), 1);
    put(ss, "k", 0, 6, "edge"); /* end 6: just live */
    assert_str(find(ss, "k", 0, 0), "k[0,6]=edge,k[0,10]=a,");
    assert_int_equal(rill__session_remove(ss, "k", 1, 0, 6, 6, NULL), RILL_OK);
    put(ss, "k", 3 * MINUTE, 4 * MINUTE, "d"); /* stream time 4 min: live from 2 min + 1 */
    assert_str(render(rill__session_fetch(ss, "k", 1, NULL)),
               "k[60000,120005]=c,k[180000,240000]=d,");
    GArray *list = rill__segments_list(rill__session_store_segments(ss));
    assert_int_equal(list->len, 2);
    assert_int_equal(g_array_index(list, int64_t, 0), 2 * MINUTE);
    g_array_unref(list);
    if (f->rocksdb)
        assert_int_equal(count_entries(path, "s."), 2);
    assert_int_equal(rill__session_store_close(ss, NULL), RILL_OK);
}

static void test_session__rocksdb_reopen_keeps_data(void **state)
{
    fx_t *f = *state;
    rill__session_store_t *ss = open_ss(f, "s", 10 * MINUTE, MINUTE, false);
    put(ss, "k", 0, 10, "a");
    put(ss, "k", 2 * MINUTE, 3 * MINUTE, "b");
    assert_int_equal(rill__session_store_close(ss, NULL), RILL_OK);
    ss = open_ss(f, "s", 10 * MINUTE, MINUTE, false);
    assert_str(render(rill__session_fetch(ss, "k", 1, NULL)),
               f->rocksdb ? "k[0,10]=a,k[120000,180000]=b," : "");
    assert_int_equal(rill__session_store_close(ss, NULL), RILL_OK);
}

#define SESSION_TESTS(setup)                                                                  \
    cmocka_unit_test_setup_teardown(test_session__find_sessions_for_merging, setup, fx_teardown), \
        cmocka_unit_test_setup_teardown(test_session__merge_replaces_sessions, setup,         \
                                        fx_teardown),                                         \
        cmocka_unit_test_setup_teardown(test_session__expiry_by_session_end_drops_segments,   \
                                        setup, fx_teardown),                                  \
        cmocka_unit_test_setup_teardown(test_session__rocksdb_reopen_keeps_data, setup,       \
                                        fx_teardown)

int main(void)
{
    const struct CMUnitTest memory[] = {SESSION_TESTS(setup_memory)};
    const struct CMUnitTest rocksdb[] = {SESSION_TESTS(setup_rocksdb)};
    int failed = 0;
    failed += cmocka_run_group_tests_name("session-memory", memory, NULL, NULL);
    failed += cmocka_run_group_tests_name("session-rocksdb", rocksdb, NULL, NULL);
    return failed ? 1 : 0;
}
