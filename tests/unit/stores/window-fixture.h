/* window-fixture.h: what the window and session store tests share: a backend fixture, a fake changelog, restore helpers.
 *
 * Every case runs once per backend (memory, RocksDB) with the same body: the
 * fixture says which, and open helpers build the store on it. The fake
 * changelog keeps every record sent, so that cases can assert the exact
 * writes and replay them into a fresh store through the real restorer. */
#ifndef RILL_TESTS_WINDOW_FIXTURE_H
#define RILL_TESTS_WINDOW_FIXTURE_H

#include <glib.h>
#include <glib/gstdio.h>

#include "stores/changelog.h"
#include "stores/kv-rocksdb.h"
#include "stores/restore.h"

typedef struct log_rec {
    GBytes *key;
    GBytes *value; /* NULL = tombstone */
    int64_t timestamp;
} log_rec_t;

typedef struct fx {
    bool rocksdb;
    char *dir;
    rill__rocksdb_shared_t *shared;
    GPtrArray *log; /* log_rec_t */
    bool log_fails;
    rill__changelog_sink_t sink;
} fx_t;

static void log_rec_free(gpointer p)
{
    log_rec_t *r = p;
    g_bytes_unref(r->key);
    if (r->value)
        g_bytes_unref(r->value);
    g_free(r);
}

static rill_err_t fake_send(void *ud, const void *key, size_t key_len, const void *value,
                            size_t value_len, int64_t timestamp, rill_error_t **error)
{
    fx_t *f = ud;
    if (f->log_fails)
        return rill_error_set(error, RILL_ERR_KAFKA, "broker unreachable");
    log_rec_t *r = g_new0(log_rec_t, 1);
    r->key = g_bytes_new(key, key_len);
    r->value = value ? g_bytes_new(value, value_len) : NULL;
    r->timestamp = timestamp;
    g_ptr_array_add(f->log, r);
    return RILL_OK;
}

static int fx_setup(void **state, bool rocksdb)
{
    fx_t *f = g_new0(fx_t, 1);
    f->rocksdb = rocksdb;
    f->dir = g_dir_make_tmp("rill-window-XXXXXX", NULL);
    if (f->dir == NULL)
        return -1;
    if (rocksdb) {
        rill__rocksdb_config_t rc;
        rill__rocksdb_config_default(&rc);
        rc.block_cache_bytes = 8u << 20;
        rc.write_buffer_bytes = 1u << 20;
        f->shared = rill__rocksdb_shared_new(&rc, NULL);
        if (f->shared == NULL)
            return -1;
    }
    f->log = g_ptr_array_new_with_free_func(log_rec_free);
    f->sink = (rill__changelog_sink_t){fake_send, f};
    *state = f;
    return 0;
}

static int setup_memory(void **state)
{
    return fx_setup(state, false);
}

static int setup_rocksdb(void **state)
{
    return fx_setup(state, true);
}

static void rm_tree(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *n;
        while ((n = g_dir_read_name(d)) != NULL) {
            char *c = g_build_filename(path, n, NULL);
            if (g_file_test(c, G_FILE_TEST_IS_DIR))
                rm_tree(c);
            else
                g_unlink(c);
            g_free(c);
        }
        g_dir_close(d);
    }
    g_rmdir(path);
}

static int fx_teardown(void **state)
{
    fx_t *f = *state;
    rill__rocksdb_shared_destroy(f->shared);
    rm_tree(f->dir);
    g_free(f->dir);
    g_ptr_array_unref(f->log);
    g_free(f);
    return 0;
}

/* The store directory of name under the fixture's temp dir. (transfer full) */
static char *fx_path(fx_t *f, const char *name)
{
    return g_build_filename(f->dir, name, NULL);
}

/* Replays the fake changelog into kv (a window/session store's kv stack)
 * through the real restorer, in batches of batch records. */
static void fx_restore(fx_t *f, rill__kv_store_t *kv, size_t batch)
{
    rill_error_t *error = NULL;
    rill__restorer_t *r = rill__restorer_new(kv, "app-w-changelog", 0, 0, (int64_t)f->log->len,
                                             batch, NULL, &error);
    assert_non_null(r);
    for (guint i = 0; i < f->log->len; i++) {
        log_rec_t *rec = g_ptr_array_index(f->log, i);
        size_t kl, vl = 0;
        const void *k = g_bytes_get_data(rec->key, &kl);
        const void *v = rec->value ? g_bytes_get_data(rec->value, &vl) : NULL;
        if (v == NULL && rec->value)
            v = "";
        assert_int_equal(rill__restorer_add(r, k, kl, v, vl, i, rec->timestamp, &error), RILL_OK);
    }
    assert_int_equal(rill__restorer_finish(r, &error), RILL_OK);
    assert_int_equal(rill__restorer_next_offset(r), (int64_t)f->log->len);
    rill__restorer_destroy(r);
}

/* Number of directory entries under path whose name starts with prefix. */
static int count_entries(const char *path, const char *prefix)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d == NULL)
        return 0;
    int n = 0;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL)
        n += g_str_has_prefix(name, prefix);
    g_dir_close(d);
    return n;
}

#endif
