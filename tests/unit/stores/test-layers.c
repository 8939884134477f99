/* test-layers.c: the change-logging and caching layers: what reaches the changelog, the wrapped store and downstream.
 *
 * A fake changelog sink and a fake downstream record every call, so each case
 * can assert exactly which writes got through, in which order, with which
 * old and new values. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "stores/cache.h"
#include "stores/changelog.h"
#include "stores/kv-memory.h"
#include "stores/kv.h"

/* ---- fakes ---------------------------------------------------------------------- */

typedef struct log_rec {
    char *key;
    char *value; /* NULL = tombstone */
    int64_t timestamp;
} log_rec_t;

typedef struct fake_log {
    GPtrArray *recs; /* log_rec_t */
    bool fail;
} fake_log_t;

static void log_rec_free(gpointer p)
{
    log_rec_t *r = p;
    g_free(r->key);
    g_free(r->value);
    g_free(r);
}

static rill_err_t fake_send(void *ud, const void *key, size_t key_len, const void *value,
                            size_t value_len, int64_t timestamp, rill_error_t **error)
{
    fake_log_t *fl = ud;
    if (fl->fail)
        return rill_error_set(error, RILL_ERR_KAFKA, "broker unreachable");
    log_rec_t *r = g_new0(log_rec_t, 1);
    r->key = g_strndup(key, key_len);
    r->value = value ? g_strndup(value, value_len) : NULL;
    r->timestamp = timestamp;
    g_ptr_array_add(fl->recs, r);
    return RILL_OK;
}

static void fake_log_init(fake_log_t *fl)
{
    fl->recs = g_ptr_array_new_with_free_func(log_rec_free);
    fl->fail = false;
}

/* "k=v@ts,k=<tomb>@ts" */
static char *log_text(fake_log_t *fl)
{
    GString *s = g_string_new("");
    for (guint i = 0; i < fl->recs->len; i++) {
        log_rec_t *r = g_ptr_array_index(fl->recs, i);
        g_string_append_printf(s, "%s%s=%s@%" G_GINT64_FORMAT, i ? "," : "", r->key,
                               r->value ? r->value : "<tomb>", r->timestamp);
    }
    return g_string_free(s, FALSE);
}

typedef struct downstream {
    GString *text; /* "k:new/old," */
    unsigned count;
    /* optional: re-entrant writes into another store */
    rill__kv_store_t *mirror;
} downstream_t;

static rill_err_t forward(void *ud, const void *key, size_t key_len, GBytes *new_value,
                          GBytes *old_value, int64_t timestamp, rill_error_t **error)
{
    downstream_t *d = ud;
    d->count++;
    g_autofree char *k = g_strndup(key, key_len);
    g_autofree char *n =
        new_value ? g_strndup(g_bytes_get_data(new_value, NULL), g_bytes_get_size(new_value))
                  : g_strdup("-");
    g_autofree char *o =
        old_value ? g_strndup(g_bytes_get_data(old_value, NULL), g_bytes_get_size(old_value))
                  : g_strdup("-");
    g_string_append_printf(d->text, "%s:%s/%s,", k, n, o);
    if (d->mirror) {
        /* a downstream table: writes the new value into another cached store */
        if (new_value)
            return rill__kv_put(d->mirror, key, key_len, g_bytes_get_data(new_value, NULL),
                                g_bytes_get_size(new_value), timestamp, error);
        return rill__kv_delete(d->mirror, key, key_len, timestamp, NULL, error);
    }
    return RILL_OK;
}

static void put(rill__kv_store_t *s, const char *k, const char *v, int64_t ts)
{
    assert_int_equal(rill__kv_put(s, k, strlen(k), v, v ? strlen(v) : 0, ts, NULL), RILL_OK);
}

static char *get(rill__kv_store_t *s, const char *k)
{
    GBytes *v = NULL;
    assert_int_equal(rill__kv_get(s, k, strlen(k), &v, NULL), RILL_OK);
    if (v == NULL)
        return NULL;
    char *out = g_strndup(g_bytes_get_data(v, NULL), g_bytes_get_size(v));
    g_bytes_unref(v);
    return out;
}

static char *dump(rill__kv_store_t *s)
{
    rill__kv_iter_t *it = rill__kv_all(s, NULL);
    GString *out = g_string_new("");
    const void *k, *v;
    size_t kl, vl;
    while (rill__kv_iter_next(it, &k, &kl, &v, &vl)) {
        g_string_append_len(out, k, (gssize)kl);
        g_string_append_c(out, '=');
        g_string_append_len(out, v, (gssize)vl);
        g_string_append_c(out, ',');
    }
    rill__kv_iter_destroy(it);
    return g_string_free(out, FALSE);
}

/* ---- change-logging ---------------------------------------------------------------- */

static void test_logging__sends_exactly_the_writes(void **state)
{
    fake_log_t fl;
    fake_log_init(&fl);
    rill__changelog_sink_t sink = {fake_send, &fl};
    rill__kv_store_t *s = rill__kv_logging_new(rill__kv_memory_new("counts"), &sink);
    assert_string_equal(rill__kv_store_kind(s), "logging");
    assert_string_equal(rill__kv_store_name(s), "counts");
    put(s, "a", "1", 10);
    put(s, "b", "2", 11);
    g_free(get(s, "a"));                                                   /* reads: nothing */
    rill__kv_iter_destroy(rill__kv_all(s, NULL));
    assert_int_equal(rill__kv_delete(s, "a", 1, 12, NULL, NULL), RILL_OK); /* tombstone */
    put(s, "b", NULL, 13);                                                 /* put(null) */
    GBytes *ex = NULL;
    assert_int_equal(rill__kv_put_if_absent(s, "c", 1, "3", 1, 14, &ex, NULL), RILL_OK);
    assert_int_equal(rill__kv_put_if_absent(s, "c", 1, "4", 1, 15, &ex, NULL), RILL_OK);
    g_bytes_unref(ex); /* second one did not write, so is not logged */
    rill__kv_entry_t batch[] = {{"d", 1, "5", 1, 16}, {"c", 1, NULL, 0, 17}};
    assert_int_equal(rill__kv_put_batch(s, batch, 2, NULL), RILL_OK);
    g_autofree char *text = log_text(&fl);
    assert_string_equal(text, "a=1@10,b=2@11,a=<tomb>@12,b=<tomb>@13,c=3@14,d=5@16,c=<tomb>@17");
    /* the wrapped store holds the same */
    g_autofree char *d = dump(rill__kv_store_wrapped(s));
    assert_string_equal(d, "d=5,");
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    g_ptr_array_unref(fl.recs);
}

static void test_logging__sink_failure_is_reported(void **state)
{
    fake_log_t fl;
    fake_log_init(&fl);
    fl.fail = true;
    rill__changelog_sink_t sink = {fake_send, &fl};
    rill__kv_store_t *s = rill__kv_logging_new(rill__kv_memory_new("st"), &sink);
    rill_error_t *err = NULL;
    assert_int_equal(rill__kv_put(s, "k", 1, "v", 1, 0, &err), RILL_ERR_KAFKA);
    assert_non_null(err);
    assert_string_equal(rill_error_message(err), "store st: changelog: broker unreachable");
    rill_error_destroy(err);
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    g_ptr_array_unref(fl.recs);
    char *t = rill__changelog_topic("app", "counts");
    assert_string_equal(t, "app-counts-changelog");
    g_free(t);
}

/* ---- caching ----------------------------------------------------------------------- */

typedef struct stack {
    fake_log_t log;
    downstream_t down;
    rill__record_cache_t *cache;
    rill__kv_store_t *store;   /* caching -> logging -> memory */
    rill__kv_store_t *memory;  /* innermost */
} stack_t_;

static void stack_init(stack_t_ *st, size_t budget, bool send_old)
{
    fake_log_init(&st->log);
    st->down.text = g_string_new("");
    st->down.count = 0;
    st->down.mirror = NULL;
    st->cache = rill__record_cache_new(budget);
    rill__changelog_sink_t sink = {fake_send, &st->log};
    st->memory = rill__kv_memory_new("agg");
    st->store = rill__kv_caching_new(rill__kv_logging_new(st->memory, &sink), st->cache, forward,
                                     &st->down, send_old);
}

static void stack_fini(stack_t_ *st)
{
    assert_int_equal(rill__kv_close(st->store, NULL), RILL_OK);
    rill__record_cache_destroy(st->cache);
    g_ptr_array_unref(st->log.recs);
    g_string_free(st->down.text, TRUE);
}

static void test_cache__dedupes_writes_between_flushes(void **state)
{
    stack_t_ st;
    stack_init(&st, 1u << 20, true);
    for (int i = 1; i <= 1000; i++) {
        char v[16];
        snprintf(v, sizeof v, "%d", i);
        put(st.store, "k", v, i);
    }
    /* nothing went down yet; reads see the cache */
    assert_int_equal(st.log.recs->len, 0);
    assert_int_equal(st.down.count, 0);
    assert_int_equal(rill__kv_caching_dirty_count(st.store), 1);
    g_autofree char *v = get(st.store, "k");
    assert_string_equal(v, "1000");
    g_autofree char *below = get(st.memory, "k");
    assert_null(below);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    g_autofree char *t1 = log_text(&st.log);
    assert_string_equal(t1, "k=1000@1000");
    assert_string_equal(st.down.text->str, "k:1000/-,");
    /* next round forwards the old value */
    put(st.store, "k", "x", 2000);
    put(st.store, "k", "y", 2001);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    assert_string_equal(st.down.text->str, "k:1000/-,k:y/1000,");
    g_autofree char *t2 = log_text(&st.log);
    assert_string_equal(t2, "k=1000@1000,k=y@2001");
    /* a flush with nothing dirty sends nothing */
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    assert_int_equal(st.log.recs->len, 2);
    rill__record_cache_stats_t stats;
    rill__record_cache_get_stats(st.cache, &stats);
    assert_int_equal(stats.flushed, 2);
    stack_fini(&st);
}

static void test_cache__deletes(void **state)
{
    stack_t_ st;
    stack_init(&st, 1u << 20, false);
    /* written and deleted between flushes: nothing reaches anyone */
    put(st.store, "tmp", "1", 1);
    assert_int_equal(rill__kv_delete(st.store, "tmp", 3, 2, NULL, NULL), RILL_OK);
    g_autofree char *gone = get(st.store, "tmp");
    assert_null(gone);
    put(st.store, "keep", "1", 3);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    g_autofree char *t1 = log_text(&st.log);
    assert_string_equal(t1, "keep=1@3");
    /* deleting a key that exists below sends a tombstone (old value only with send_old) */
    GBytes *old = NULL;
    assert_int_equal(rill__kv_delete(st.store, "keep", 4, 5, &old, NULL), RILL_OK);
    assert_non_null(old);
    g_bytes_unref(old);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    g_autofree char *t2 = log_text(&st.log);
    assert_string_equal(t2, "keep=1@3,keep=<tomb>@5");
    assert_string_equal(st.down.text->str, "keep:1/-,keep:-/-,");
    g_autofree char *d = dump(st.memory);
    assert_string_equal(d, "");
    stack_fini(&st);
}

static void test_cache__flush_order_is_last_write_order(void **state)
{
    stack_t_ st;
    stack_init(&st, 1u << 20, false);
    put(st.store, "a", "1", 1);
    put(st.store, "b", "1", 2);
    put(st.store, "c", "1", 3);
    put(st.store, "a", "2", 4); /* a moves behind c */
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    assert_string_equal(st.down.text->str, "b:1/-,c:1/-,a:2/-,");
    stack_fini(&st);
}

static void test_cache__evicts_under_the_byte_budget(void **state)
{
    const size_t budget = 16u << 10;
    stack_t_ st;
    stack_init(&st, budget, false);
    char value[100];
    memset(value, 'v', sizeof value - 1);
    value[sizeof value - 1] = '\0';
    rill__record_cache_stats_t stats;
    for (int i = 0; i < 2000; i++) {
        char k[16];
        snprintf(k, sizeof k, "key%05d", i);
        put(st.store, k, value, i);
        rill__record_cache_get_stats(st.cache, &stats);
        assert_true(stats.bytes <= budget);
    }
    assert_true(stats.evictions > 0);
    assert_true(stats.entries < 2000);
    /* evictions flushed dirty entries, so data went down before any commit */
    assert_true(st.log.recs->len > 0);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    /* each key was written once, so it is logged and forwarded exactly once */
    assert_int_equal(st.log.recs->len, 2000);
    assert_int_equal(st.down.count, 2000);
    assert_int_equal(rill__kv_approximate_count(st.memory), 2000);
    /* reads of evicted keys come from below and are right */
    g_autofree char *v0 = get(st.store, "key00000");
    assert_string_equal(v0, value);
    rill__record_cache_get_stats(st.cache, &stats);
    assert_true(stats.misses >= 1);
    stack_fini(&st);
}

static void test_cache__budget_is_shared_by_stores(void **state)
{
    const size_t budget = 8u << 10;
    rill__record_cache_t *cache = rill__record_cache_new(budget);
    rill__kv_store_t *s1 = rill__kv_caching_new(rill__kv_memory_new("one"), cache, NULL, NULL,
                                                false);
    rill__kv_store_t *s2 = rill__kv_caching_new(rill__kv_memory_new("two"), cache, NULL, NULL,
                                                false);
    rill__record_cache_stats_t stats;
    for (int i = 0; i < 500; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%04d", i);
        put(i % 2 ? s1 : s2, k, "0123456789012345678901234567890123456789", i);
        rill__record_cache_get_stats(cache, &stats);
        assert_true(stats.bytes <= budget);
    }
    /* the second store's writes evicted the first's entries and vice versa */
    assert_true(stats.evictions > 0);
    assert_int_equal(rill__kv_close(s1, NULL), RILL_OK);
    rill__record_cache_get_stats(cache, &stats);
    assert_true(stats.entries > 0); /* s2's remain */
    assert_int_equal(rill__kv_close(s2, NULL), RILL_OK);
    rill__record_cache_get_stats(cache, &stats);
    assert_int_equal(stats.entries, 0);
    assert_int_equal(stats.bytes, 0);
    rill__record_cache_destroy(cache);
}

static void test_cache__iterators_merge_cache_and_store(void **state)
{
    stack_t_ st;
    stack_init(&st, 1u << 20, false);
    put(st.store, "a", "1", 1);
    put(st.store, "b", "1", 1);
    put(st.store, "c", "1", 1);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    put(st.store, "b", "2", 2);                                            /* overwrite */
    assert_int_equal(rill__kv_delete(st.store, "c", 1, 2, NULL, NULL), RILL_OK); /* hide */
    put(st.store, "d", "2", 2);                                            /* new */
    put(st.store, "0", "2", 2);                                            /* new, first */
    g_autofree char *all = dump(st.store);
    assert_string_equal(all, "0=2,a=1,b=2,d=2,");
    rill__kv_iter_t *it = rill__kv_range(st.store, "b", 1, "d", 1, NULL);
    const void *k, *v;
    size_t kl, vl;
    assert_true(rill__kv_iter_next(it, &k, &kl, &v, &vl));
    assert_memory_equal(k, "b", 1);
    assert_memory_equal(v, "2", 1);
    assert_false(rill__kv_iter_next(it, &k, &kl, &v, &vl));
    rill__kv_iter_destroy(it);
    g_autofree char *below = dump(st.memory);
    assert_string_equal(below, "a=1,b=1,c=1,");
    stack_fini(&st);
}

/* The ordered index a range scan needs is dropped after many writes without a
 * scan, and rebuilt by the next one: scans before, after and in between see
 * every cached entry, in order, merged with the store's. */
static void test_cache__range_scans_survive_dropping_the_ordered_index(void **state)
{
    stack_t_ st;
    stack_init(&st, 64u << 20, false);
    put(st.store, "k9999", "below", 1);
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    g_autofree char *first = dump(st.store); /* builds the index */
    assert_string_equal(first, "k9999=below,");
    char key[16];
    for (int i = 5000; i > 0; i--) { /* far more than 2 x 1 + 1024 changes: index dropped */
        snprintf(key, sizeof key, "k%04d", i);
        put(st.store, key, "v", 2);
    }
    for (int i = 1; i <= 5000; i += 2) {
        snprintf(key, sizeof key, "k%04d", i);
        assert_int_equal(rill__kv_delete(st.store, key, strlen(key), 3, NULL, NULL), RILL_OK);
    }
    rill__kv_iter_t *it = rill__kv_range(st.store, "k0100", 5, "k0106", 5, NULL);
    const void *k, *v;
    size_t kl, vl;
    const char *want[] = {"k0100", "k0102", "k0104"};
    for (int i = 0; i < 3; i++) {
        assert_true(rill__kv_iter_next(it, &k, &kl, &v, &vl));
        assert_int_equal(kl, 5);
        assert_memory_equal(k, want[i], 5);
    }
    assert_false(rill__kv_iter_next(it, &k, &kl, &v, &vl));
    rill__kv_iter_destroy(it);
    /* a full scan: 2,500 live cached keys in order, then the store's */
    it = rill__kv_all(st.store, NULL);
    int n = 0;
    char prev[16] = "";
    while (rill__kv_iter_next(it, &k, &kl, &v, &vl)) {
        char cur[16];
        assert_true(kl < sizeof cur);
        memcpy(cur, k, kl);
        cur[kl] = '\0';
        assert_true(strcmp(prev, cur) < 0);
        strcpy(prev, cur);
        n++;
    }
    rill__kv_iter_destroy(it);
    assert_int_equal(n, 2501);
    assert_string_equal(prev, "k9999");
    /* the flush writes the deletions down and frees them: only live entries stay */
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    rill__record_cache_stats_t stats;
    rill__record_cache_get_stats(st.cache, &stats);
    assert_int_equal(stats.entries, 2501);
    g_autofree char *gone = get(st.store, "k0001");
    assert_null(gone);
    g_autofree char *kept = get(st.store, "k0002");
    assert_string_equal(kept, "v");
    stack_fini(&st);
}

static void test_cache__forward_may_write_other_cached_stores(void **state)
{
    /* a tiny budget, and a downstream table on the same cache: evictions of
     * one store flush into writes of the other, which evict again */
    stack_t_ st;
    stack_init(&st, 2048, false);
    rill__kv_store_t *mirror_mem = rill__kv_memory_new("mirror");
    st.down.mirror = rill__kv_caching_new(mirror_mem, st.cache, NULL, NULL, false);
    for (int i = 0; i < 3000; i++) {
        char k[16], v[16];
        snprintf(k, sizeof k, "k%03d", i % 300);
        snprintf(v, sizeof v, "v%d", i);
        put(st.store, k, v, i);
    }
    assert_int_equal(rill__kv_flush(st.store, NULL), RILL_OK);
    assert_int_equal(rill__kv_flush(st.down.mirror, NULL), RILL_OK);
    g_autofree char *a = dump(st.memory);
    g_autofree char *b = dump(mirror_mem);
    assert_string_equal(a, b);
    assert_int_equal(rill__kv_approximate_count(mirror_mem), 300);
    assert_int_equal(rill__kv_close(st.down.mirror, NULL), RILL_OK);
    st.down.mirror = NULL;
    stack_fini(&st);
}

/* Applies a changelog to a fresh store, as a restore would. */
static rill__kv_store_t *replay(fake_log_t *fl)
{
    rill__kv_store_t *s = rill__kv_memory_new("replayed");
    for (guint i = 0; i < fl->recs->len; i++) {
        log_rec_t *r = g_ptr_array_index(fl->recs, i);
        put(s, r->key, r->value, r->timestamp);
    }
    return s;
}

static void test_cache__on_and_off_give_the_same_state(void **state)
{
    const size_t budgets[] = {0, 600, 4096, 1u << 20};
    for (size_t b = 0; b < G_N_ELEMENTS(budgets); b++) {
        stack_t_ cached;
        stack_init(&cached, budgets[b], true);
        fake_log_t plain_log;
        fake_log_init(&plain_log);
        rill__changelog_sink_t sink = {fake_send, &plain_log};
        rill__kv_store_t *plain = rill__kv_logging_new(rill__kv_memory_new("agg"), &sink);
        GRand *rand = g_rand_new_with_seed(7 + (guint32)b);
        for (int i = 0; i < 20000; i++) {
            char k[16], v[24];
            snprintf(k, sizeof k, "k%03d", g_rand_int_range(rand, 0, 200));
            int op = g_rand_int_range(rand, 0, 100);
            if (op < 60) {
                /* an aggregate: read, then write */
                g_autofree char *c1 = get(cached.store, k);
                g_autofree char *c2 = get(plain, k);
                assert_string_equal(c1 ? c1 : "-", c2 ? c2 : "-");
                snprintf(v, sizeof v, "%d", i);
                put(cached.store, k, v, i);
                put(plain, k, v, i);
            } else if (op < 80) {
                assert_int_equal(rill__kv_delete(cached.store, k, strlen(k), i, NULL, NULL),
                                 RILL_OK);
                assert_int_equal(rill__kv_delete(plain, k, strlen(k), i, NULL, NULL), RILL_OK);
            } else if (op < 99) {
                g_autofree char *c1 = get(cached.store, k);
                g_autofree char *c2 = get(plain, k);
                assert_string_equal(c1 ? c1 : "-", c2 ? c2 : "-");
            } else if (i % 10 == 0) {
                assert_int_equal(rill__kv_flush(cached.store, NULL), RILL_OK); /* a commit */
            }
        }
        g_autofree char *scan_cached = dump(cached.store);
        g_autofree char *scan_plain = dump(plain);
        assert_string_equal(scan_cached, scan_plain); /* before the flush, through the cache */
        assert_int_equal(rill__kv_flush(cached.store, NULL), RILL_OK);
        g_autofree char *below_cached = dump(cached.memory);
        g_autofree char *below_plain = dump(rill__kv_store_wrapped(plain));
        assert_string_equal(below_cached, below_plain);
        /* both changelogs restore the same state; the cached one is shorter */
        rill__kv_store_t *r1 = replay(&cached.log);
        rill__kv_store_t *r2 = replay(&plain_log);
        g_autofree char *d1 = dump(r1);
        g_autofree char *d2 = dump(r2);
        assert_string_equal(d1, d2);
        assert_string_equal(d1, below_plain);
        assert_true(cached.log.recs->len <= plain_log.recs->len);
        if (budgets[b] >= (1u << 20)) /* room for every key: only commits flush */
            assert_true(cached.log.recs->len < plain_log.recs->len / 2);
        rill__kv_close(r1, NULL);
        rill__kv_close(r2, NULL);
        rill__kv_close(plain, NULL);
        g_ptr_array_unref(plain_log.recs);
        g_rand_free(rand);
        stack_fini(&cached);
    }
}

static void test_cache__forward_error_stops_the_flush(void **state)
{
    fake_log_t fl;
    fake_log_init(&fl);
    rill__changelog_sink_t sink = {fake_send, &fl};
    rill__record_cache_t *cache = rill__record_cache_new(1u << 20);
    rill__kv_store_t *s =
        rill__kv_caching_new(rill__kv_logging_new(rill__kv_memory_new("st"), &sink), cache, NULL,
                             NULL, false);
    put(s, "k", "v", 1);
    fl.fail = true;
    rill_error_t *err = NULL;
    assert_int_equal(rill__kv_flush(s, &err), RILL_ERR_KAFKA);
    assert_non_null(err);
    assert_non_null(strstr(rill_error_message(err), "cache flush"));
    assert_non_null(strstr(rill_error_message(err), "broker unreachable"));
    rill_error_destroy(err);
    fl.fail = false;
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    rill__record_cache_destroy(cache);
    g_ptr_array_unref(fl.recs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logging__sends_exactly_the_writes),
        cmocka_unit_test(test_logging__sink_failure_is_reported),
        cmocka_unit_test(test_cache__dedupes_writes_between_flushes),
        cmocka_unit_test(test_cache__deletes),
        cmocka_unit_test(test_cache__flush_order_is_last_write_order),
        cmocka_unit_test(test_cache__evicts_under_the_byte_budget),
        cmocka_unit_test(test_cache__budget_is_shared_by_stores),
        cmocka_unit_test(test_cache__iterators_merge_cache_and_store),
        cmocka_unit_test(test_cache__range_scans_survive_dropping_the_ordered_index),
        cmocka_unit_test(test_cache__forward_may_write_other_cached_stores),
        cmocka_unit_test(test_cache__on_and_off_give_the_same_state),
        cmocka_unit_test(test_cache__forward_error_stops_the_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
