/* test-kv-rocksdb.c: what only the RocksDB store does: persistence across reopen, its lock, the config setter, shared memory. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>
#include <rocksdb/c.h>

#include "stores/kv-rocksdb.h"
#include "stores/kv.h"

static int setup(void **state)
{
    *state = g_dir_make_tmp("rill-test-rocksdb-XXXXXX", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    g_free(*state);
    return rc;
}

static rill__rocksdb_shared_t *small_shared(void)
{
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    config.block_cache_bytes = 4u << 20;
    config.write_buffer_bytes = 256u << 10;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, NULL);
    assert_non_null(shared);
    return shared;
}

static void test_rocksdb__reopen_keeps_data(void **state)
{
    rill__rocksdb_shared_t *shared = small_shared();
    g_autofree char *path = g_build_filename(*state, "app", "0_0", "rocksdb", "counts", NULL);
    rill__kv_store_t *s = rill__kv_rocksdb_open(shared, path, "counts", NULL);
    assert_non_null(s);
    assert_string_equal(rill__kv_store_kind(s), "rocksdb");
    assert_string_equal(rill__kv_rocksdb_path(s), path);
    for (int i = 0; i < 20000; i++) {
        char k[16], v[32];
        snprintf(k, sizeof k, "key%06d", i);
        int vl = snprintf(v, sizeof v, "value-%d", i);
        assert_int_equal(rill__kv_put(s, k, strlen(k), v, (size_t)vl, i, NULL), RILL_OK);
    }
    assert_int_equal(rill__kv_delete(s, "key000007", 9, 0, NULL, NULL), RILL_OK);
    /* no WAL: close must flush, or the memtable would be lost */
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);

    s = rill__kv_rocksdb_open(shared, path, "counts", NULL);
    assert_non_null(s);
    int n = 0;
    rill__kv_iter_t *it = rill__kv_all(s, NULL);
    const void *k, *v;
    size_t kl, vl;
    while (rill__kv_iter_next(it, &k, &kl, &v, &vl)) {
        int i = n < 7 ? n : n + 1;
        char want_k[16], want_v[32];
        snprintf(want_k, sizeof want_k, "key%06d", i);
        snprintf(want_v, sizeof want_v, "value-%d", i);
        assert_int_equal(kl, strlen(want_k));
        assert_memory_equal(k, want_k, kl);
        assert_int_equal(vl, strlen(want_v));
        assert_memory_equal(v, want_v, vl);
        n++;
    }
    assert_int_equal(rill__kv_iter_status(it, NULL), RILL_OK);
    rill__kv_iter_destroy(it);
    assert_int_equal(n, 19999);
    assert_int_equal(rill__kv_rocksdb_compact(s, NULL), RILL_OK);
    GBytes *got = NULL;
    assert_int_equal(rill__kv_get(s, "key019999", 9, &got, NULL), RILL_OK);
    assert_non_null(got);
    g_bytes_unref(got);
    /* reads went through the shared block cache */
    assert_true(rill__rocksdb_shared_cache_usage(shared) > 0);
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    rill__rocksdb_shared_destroy(shared);
}

static void test_rocksdb__second_open_of_a_store_fails(void **state)
{
    rill__rocksdb_shared_t *shared = small_shared();
    g_autofree char *path = g_build_filename(*state, "s", NULL);
    rill__kv_store_t *s = rill__kv_rocksdb_open(shared, path, "s", NULL);
    assert_non_null(s);
    rill_error_t *err = NULL;
    assert_null(rill__kv_rocksdb_open(shared, path, "s", &err));
    assert_int_equal(rill_error_code(err), RILL_ERR_STORE);
    assert_non_null(strstr(rill_error_message(err), "rocksdb store s: open"));
    rill_error_destroy(err);
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    /* a path that cannot be a directory */
    g_autofree char *file = g_build_filename(*state, "plain-file", NULL);
    assert_true(g_file_set_contents(file, "x", -1, NULL));
    g_autofree char *under = g_build_filename(file, "store", NULL);
    err = NULL;
    assert_null(rill__kv_rocksdb_open(shared, under, "s", &err));
    assert_int_equal(rill_error_code(err), RILL_ERR_IO);
    rill_error_destroy(err);
    rill__rocksdb_shared_destroy(shared);
}

typedef struct setter_calls {
    GPtrArray *names;
    bool fail;
} setter_calls_t;

static rill_err_t setter(void *ud, const char *store_name, rocksdb_options_t *options,
                         rocksdb_block_based_table_options_t *table_options, rill_error_t **error)
{
    setter_calls_t *c = ud;
    g_ptr_array_add(c->names, g_strdup(store_name));
    if (c->fail)
        return rill_error_set(error, RILL_ERR_INVALID_CONFIG, "no options for %s", store_name);
    /* rill's write buffer is visible to the setter, and the setter's change sticks */
    assert_int_equal(rocksdb_options_get_write_buffer_size(options), 256u << 10);
    rocksdb_options_set_write_buffer_size(options, 512u << 10);
    rocksdb_block_based_options_set_block_size(table_options, 4096);
    return RILL_OK;
}

static void test_rocksdb__config_setter_sees_every_store(void **state)
{
    setter_calls_t calls = {g_ptr_array_new_with_free_func(g_free), false};
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    config.block_cache_bytes = 4u << 20;
    config.write_buffer_bytes = 256u << 10;
    config.config_setter = setter;
    config.config_setter_ud = &calls;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, NULL);
    g_autofree char *p1 = g_build_filename(*state, "a", NULL);
    g_autofree char *p2 = g_build_filename(*state, "b", NULL);
    rill__kv_store_t *a = rill__kv_rocksdb_open(shared, p1, "alpha", NULL);
    rill__kv_store_t *b = rill__kv_rocksdb_open(shared, p2, "beta", NULL);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(calls.names->len, 2);
    assert_string_equal(g_ptr_array_index(calls.names, 0), "alpha");
    assert_string_equal(g_ptr_array_index(calls.names, 1), "beta");
    /* the options file RocksDB writes shows the setter's write buffer */
    g_autoptr(GDir) d = g_dir_open(p1, 0, NULL);
    const char *name;
    bool found = false;
    while ((name = g_dir_read_name(d)) != NULL) {
        if (!g_str_has_prefix(name, "OPTIONS-"))
            continue;
        g_autofree char *f = g_build_filename(p1, name, NULL);
        g_autofree char *text = NULL;
        assert_true(g_file_get_contents(f, &text, NULL, NULL));
        found = found || (strstr(text, "write_buffer_size=524288") && strstr(text, "block_size=4096"));
    }
    assert_true(found);
    rill__kv_close(a, NULL);
    rill__kv_close(b, NULL);
    /* a setter that fails fails the open, with its message */
    calls.fail = true;
    rill_error_t *err = NULL;
    assert_null(rill__kv_rocksdb_open(shared, p1, "alpha", &err));
    assert_int_equal(rill_error_code(err), RILL_ERR_INVALID_CONFIG);
    assert_string_equal(rill_error_message(err),
                        "rocksdb store alpha: config setter: no options for alpha");
    rill_error_destroy(err);
    rill__rocksdb_shared_destroy(shared);
    g_ptr_array_unref(calls.names);
}

static void test_rocksdb__memory_bound_and_config_checks(void **state)
{
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    config.block_cache_bytes = 100;
    config.write_buffer_bytes = 1u << 20;
    config.max_write_buffers = 3;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, NULL);
    assert_int_equal(rill__rocksdb_shared_memory_bound(shared, 4), 100 + 4 * 3 * (1u << 20));
    rill__rocksdb_shared_destroy(shared);
    config.max_write_buffers = 1;
    rill_error_t *err = NULL;
    assert_null(rill__rocksdb_shared_new(&config, &err));
    assert_int_equal(rill_error_code(err), RILL_ERR_INVALID_CONFIG);
    rill_error_destroy(err);
    /* RocksDB's own defaults (for comparisons) open and work too */
    rill__rocksdb_config_default(&config);
    config.use_rocksdb_defaults = true;
    shared = rill__rocksdb_shared_new(&config, NULL);
    g_autofree char *p = g_build_filename(*state, "d", NULL);
    rill__kv_store_t *s = rill__kv_rocksdb_open(shared, p, "d", NULL);
    assert_non_null(s);
    assert_int_equal(rill__kv_put(s, "k", 1, "v", 1, 0, NULL), RILL_OK);
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    rill__rocksdb_shared_destroy(shared);
}

static void test_rocksdb__restore_mode_round_trip(void **state)
{
    rill__rocksdb_shared_t *shared = small_shared();
    g_autofree char *path = g_build_filename(*state, "r", NULL);
    rill__kv_store_t *s = rill__kv_rocksdb_open(shared, path, "r", NULL);
    assert_int_equal(rill__kv_put(s, "before", 6, "1", 1, 0, NULL), RILL_OK);
    assert_int_equal(rill__kv_restore_begin(s, NULL), RILL_OK);
    assert_int_equal(rill__kv_restore_begin(s, NULL), RILL_OK); /* idempotent */
    rill__kv_entry_t batch[] = {{"b", 1, "2", 1, 0}, {"a", 1, "1", 1, 0}, {"b", 1, "3", 1, 0},
                                {"before", 6, NULL, 0, 0}};
    assert_int_equal(rill__kv_put_batch(s, batch, 4, NULL), RILL_OK);
    /* reads still answer right in restore mode (slowly) */
    GBytes *v = NULL;
    assert_int_equal(rill__kv_get(s, "b", 1, &v, NULL), RILL_OK);
    assert_non_null(v);
    assert_memory_equal(g_bytes_get_data(v, NULL), "3", 1);
    g_bytes_unref(v);
    assert_int_equal(rill__kv_restore_end(s, NULL), RILL_OK);
    assert_int_equal(rill__kv_get(s, "before", 6, &v, NULL), RILL_OK);
    assert_null(v);
    assert_int_equal(rill__kv_get(s, "b", 1, &v, NULL), RILL_OK);
    assert_non_null(v);
    assert_memory_equal(g_bytes_get_data(v, NULL), "3", 1);
    g_bytes_unref(v);
    assert_true(rill__kv_approximate_count(s) >= 2); /* estimates survive the reopen */
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    rill__rocksdb_shared_destroy(shared);
}

static void test_rocksdb__large_restore_leaves_few_l0_files(void **state)
{
    /* 64 KiB write buffers: the restore's 128 KiB memtables make dozens of
     * L0 files, which the end of the restore must merge */
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    config.block_cache_bytes = 4u << 20;
    config.write_buffer_bytes = 64u << 10;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, NULL);
    g_autofree char *path = g_build_filename(*state, "big", NULL);
    rill__kv_store_t *s = rill__kv_rocksdb_open(shared, path, "big", NULL);
    assert_non_null(s);
    assert_int_equal(rill__kv_restore_begin(s, NULL), RILL_OK);
    GHashTable *model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    rill__kv_entry_t batch[1000];
    char keys[1000][16], values[1000][32];
    uint64_t max_l0 = 0;
    for (int b = 0; b < 200; b++) {
        for (int i = 0; i < 1000; i++) {
            int n = b * 1000 + i;
            snprintf(keys[i], sizeof keys[i], "k%06d", (n * 7919) % 50000);
            int vl = snprintf(values[i], sizeof values[i], "value-%d", n);
            bool tomb = n % 11 == 10;
            batch[i] = (rill__kv_entry_t){keys[i], strlen(keys[i]), tomb ? NULL : values[i],
                                          (size_t)vl, n};
            if (tomb)
                g_hash_table_remove(model, keys[i]);
            else
                g_hash_table_replace(model, g_strdup(keys[i]), g_strdup(values[i]));
        }
        assert_int_equal(rill__kv_put_batch(s, batch, 1000, NULL), RILL_OK);
        uint64_t l0 = rill__kv_rocksdb_l0_files(s);
        max_l0 = l0 > max_l0 ? l0 : max_l0;
    }
    assert_int_equal(rill__kv_restore_end(s, NULL), RILL_OK);
    assert_true(max_l0 >= 16);                      /* no compaction ran during the restore */
    assert_true(rill__kv_rocksdb_l0_files(s) < 16); /* and the end merged L0 */
    /* every key holds its last value */
    rill__kv_iter_t *it = rill__kv_all(s, NULL);
    const void *k, *v;
    size_t kl, vl;
    guint n = 0;
    while (rill__kv_iter_next(it, &k, &kl, &v, &vl)) {
        g_autofree char *ks = g_strndup(k, kl);
        const char *want = g_hash_table_lookup(model, ks);
        assert_non_null(want);
        assert_int_equal(vl, strlen(want));
        assert_memory_equal(v, want, vl);
        n++;
    }
    assert_int_equal(rill__kv_iter_status(it, NULL), RILL_OK);
    rill__kv_iter_destroy(it);
    assert_int_equal(n, g_hash_table_size(model));
    g_hash_table_destroy(model);
    assert_int_equal(rill__kv_close(s, NULL), RILL_OK);
    rill__rocksdb_shared_destroy(shared);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rocksdb__reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rocksdb__second_open_of_a_store_fails, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rocksdb__config_setter_sees_every_store, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rocksdb__memory_bound_and_config_checks, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rocksdb__restore_mode_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rocksdb__large_restore_leaves_few_l0_files, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
