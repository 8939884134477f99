/* test-restore.c: restoring stores from changelog records, the state-dir lock, and stale task cleanup. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utime.h>

#include <cmocka.h>

#include <glib.h>

#include "common/clock.h"
#include "stores/changelog.h"
#include "stores/kv-memory.h"
#include "stores/kv-rocksdb.h"
#include "stores/restore.h"
#include "stores/state-dir.h"

static int setup(void **state)
{
    *state = g_dir_make_tmp("rill-test-restore-XXXXXX", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    g_free(*state);
    return rc;
}

/* ---- restore ------------------------------------------------------------------------ */

typedef struct progress {
    int starts, ends;
    GArray *batches;     /* uint64_t records per batch */
    GArray *batch_ends;  /* int64_t offsets */
    int64_t start_offset, end_offset;
    uint64_t total;
    double rate;
} progress_t;

static void on_start(void *ud, const char *store, const char *topic, int32_t partition,
                     int64_t start_offset, int64_t end_offset)
{
    progress_t *p = ud;
    p->starts++;
    p->start_offset = start_offset;
    p->end_offset = end_offset;
    assert_string_equal(store, "counts");
    assert_string_equal(topic, "app-counts-changelog");
    assert_int_equal(partition, 2);
}

static void on_batch(void *ud, const char *store, const char *topic, int32_t partition,
                     int64_t batch_end_offset, uint64_t batch_records)
{
    progress_t *p = ud;
    g_array_append_val(p->batches, batch_records);
    g_array_append_val(p->batch_ends, batch_end_offset);
}

static void on_end(void *ud, const char *store, const char *topic, int32_t partition,
                   uint64_t total_records, double records_per_sec)
{
    progress_t *p = ud;
    p->ends++;
    p->total = total_records;
    p->rate = records_per_sec;
}

static void progress_init(progress_t *p)
{
    memset(p, 0, sizeof *p);
    p->batches = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    p->batch_ends = g_array_new(FALSE, FALSE, sizeof(int64_t));
}

static void progress_fini(progress_t *p)
{
    g_array_unref(p->batches);
    g_array_unref(p->batch_ends);
}

static rill_err_t must_not_send(void *ud, const void *key, size_t key_len, const void *value,
                                size_t value_len, int64_t timestamp, rill_error_t **error)
{
    fail_msg("a restore wrote through the change-logging layer");
    return RILL_ERR_USER;
}

/* The changelog of the tests: record i at offset 100 + 2i (gaps, as compaction
 * leaves), key k<i % 1000>, every 7th a tombstone. */
static void record(int i, char *k, size_t kn, char *v, size_t vn, bool *tomb, int64_t *offset)
{
    snprintf(k, kn, "k%04d", i % 1000);
    snprintf(v, vn, "v%d", i);
    *tomb = i % 7 == 6;
    *offset = 100 + 2 * (int64_t)i;
}

static void test_restore__batches_with_progress(void **state)
{
    rill__changelog_sink_t sink = {must_not_send, NULL};
    rill__kv_store_t *store = rill__kv_logging_new(rill__kv_memory_new("counts"), &sink);
    progress_t p;
    progress_init(&p);
    rill__restore_listener_t listener = {on_start, on_batch, on_end, &p};
    const int n = 25000;
    rill__restorer_t *r = rill__restorer_new(store, "app-counts-changelog", 2, 100,
                                             100 + 2 * n, 10000, &listener, NULL);
    assert_int_equal(p.starts, 1);
    assert_int_equal(p.start_offset, 100);
    assert_int_equal(p.end_offset, 100 + 2 * n);
    GHashTable *model = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (int i = 0; i < n; i++) {
        char k[16], v[16];
        bool tomb;
        int64_t off;
        record(i, k, sizeof k, v, sizeof v, &tomb, &off);
        assert_int_equal(rill__restorer_add(r, k, strlen(k), tomb ? NULL : v, strlen(v), off, i,
                                            NULL),
                         RILL_OK);
        if (tomb)
            g_hash_table_remove(model, k);
        else
            g_hash_table_replace(model, g_strdup(k), g_strdup(v));
        if (i == 10000 - 1) {
            /* the first batch was written: progress and the resume offset moved */
            assert_int_equal(p.batches->len, 1);
            assert_int_equal(rill__restorer_next_offset(r), off + 1);
        }
        if (i == 10000)
            assert_int_equal(rill__restorer_next_offset(r), off - 1); /* buffered: not yet */
    }
    assert_int_equal(rill__restorer_finish(r, NULL), RILL_OK);
    assert_int_equal(p.batches->len, 3);
    assert_int_equal(g_array_index(p.batches, uint64_t, 0), 10000);
    assert_int_equal(g_array_index(p.batches, uint64_t, 1), 10000);
    assert_int_equal(g_array_index(p.batches, uint64_t, 2), 5000);
    assert_int_equal(g_array_index(p.batch_ends, int64_t, 2), 100 + 2 * (n - 1));
    assert_int_equal(p.ends, 1);
    assert_int_equal(p.total, n);
    assert_true(p.rate > 0);
    assert_int_equal(rill__restorer_records(r), n);
    assert_int_equal(rill__restorer_next_offset(r), 100 + 2 * (n - 1) + 1);
    /* finished: no more records */
    rill_error_t *err = NULL;
    assert_int_equal(rill__restorer_add(r, "x", 1, "y", 1, 1000000, 0, &err),
                     RILL_ERR_INVALID_STATE);
    rill_error_destroy(err);
    rill__restorer_destroy(r);

    /* the store holds exactly the model */
    assert_int_equal(rill__kv_approximate_count(store), g_hash_table_size(model));
    GHashTableIter hi;
    gpointer hk, hv;
    g_hash_table_iter_init(&hi, model);
    while (g_hash_table_iter_next(&hi, &hk, &hv)) {
        GBytes *got = NULL;
        assert_int_equal(rill__kv_get(store, hk, strlen(hk), &got, NULL), RILL_OK);
        assert_non_null(got);
        assert_int_equal(g_bytes_get_size(got), strlen(hv));
        assert_memory_equal(g_bytes_get_data(got, NULL), hv, strlen(hv));
        g_bytes_unref(got);
    }
    g_hash_table_destroy(model);
    progress_fini(&p);
    assert_int_equal(rill__kv_close(store, NULL), RILL_OK);
}

static void test_restore__bad_offsets_fail_the_restore(void **state)
{
    rill__kv_store_t *store = rill__kv_memory_new("counts");
    progress_t p;
    progress_init(&p);
    rill__restore_listener_t listener = {on_start, on_batch, on_end, &p};
    rill__restorer_t *r =
        rill__restorer_new(store, "app-counts-changelog", 2, 10, -1, 0, &listener, NULL);
    assert_int_equal(rill__restorer_add(r, "a", 1, "1", 1, 10, 0, NULL), RILL_OK);
    assert_int_equal(rill__restorer_add(r, "b", 1, "1", 1, 12, 0, NULL), RILL_OK);
    rill_error_t *err = NULL;
    assert_int_equal(rill__restorer_add(r, "c", 1, "1", 1, 12, 0, &err), RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(rill_error_message(err), "out of order"));
    rill_error_destroy(err);
    err = NULL;
    assert_int_equal(rill__restorer_finish(r, &err), RILL_ERR_INVALID_STATE);
    assert_non_null(strstr(rill_error_message(err), "failed"));
    rill_error_destroy(err);
    assert_int_equal(p.ends, 0); /* never reported as done */
    rill__restorer_destroy(r);
    /* an offset before the start is refused too */
    r = rill__restorer_new(store, "app-counts-changelog", 2, 10, -1, 0, NULL, NULL);
    err = NULL;
    assert_int_equal(rill__restorer_add(r, "a", 1, "1", 1, 9, 0, &err), RILL_ERR_INVALID_ARG);
    rill_error_destroy(err);
    rill__restorer_destroy(r);
    progress_fini(&p);
    rill__kv_close(store, NULL);
}

/* Restores 30,000 records over 1,000 keys (every 7th a tombstone) in
 * batches of batch records into a store that already holds keys (older
 * values, which the changelog must replace or delete, and one key the
 * changelog never names), then reopens it and reads every key. */
static void restore_into_rocksdb(const char *dir, size_t batch)
{
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    config.write_buffer_bytes = 1u << 20;
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, NULL);
    g_autofree char *path = g_build_filename(dir, "app", "0_2", "rocksdb", "counts", NULL);
    rill__kv_store_t *store = rill__kv_rocksdb_open(shared, path, "counts", NULL);
    assert_non_null(store);
    for (int key = 0; key < 1000; key++) {
        char k[16];
        snprintf(k, sizeof k, "k%04d", key);
        assert_int_equal(rill__kv_put(store, k, strlen(k), "old", 3, 0, NULL), RILL_OK);
    }
    assert_int_equal(rill__kv_put(store, "kept", 4, "untouched", 9, 0, NULL), RILL_OK);
    assert_int_equal(rill__kv_flush(store, NULL), RILL_OK);
    rill__restorer_t *r =
        rill__restorer_new(store, "app-counts-changelog", 2, 100, -1, batch, NULL, NULL);
    const int n = 30000;
    for (int i = 0; i < n; i++) {
        char k[16], v[16];
        bool tomb;
        int64_t off;
        record(i, k, sizeof k, v, sizeof v, &tomb, &off);
        assert_int_equal(rill__restorer_add(r, k, strlen(k), tomb ? NULL : v, strlen(v), off, i,
                                            NULL),
                         RILL_OK);
    }
    assert_int_equal(rill__restorer_finish(r, NULL), RILL_OK);
    int64_t next = rill__restorer_next_offset(r);
    rill__restorer_destroy(r);
    assert_int_equal(next, 100 + 2 * (n - 1) + 1);
    assert_int_equal(rill__kv_close(store, NULL), RILL_OK);

    store = rill__kv_rocksdb_open(shared, path, "counts", NULL);
    assert_non_null(store);
    /* the last write of each key won: key k0999 was last written by i = 29999 - ? */
    for (int key = 0; key < 1000; key++) {
        int last = n - 1 - ((n - 1 - key) % 1000);
        char k[16], v[16];
        bool tomb;
        int64_t off;
        record(last, k, sizeof k, v, sizeof v, &tomb, &off);
        GBytes *got = NULL;
        assert_int_equal(rill__kv_get(store, k, strlen(k), &got, NULL), RILL_OK);
        if (tomb) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_int_equal(g_bytes_get_size(got), strlen(v));
            assert_memory_equal(g_bytes_get_data(got, NULL), v, strlen(v));
            g_bytes_unref(got);
        }
    }
    GBytes *kept = NULL;
    assert_int_equal(rill__kv_get(store, "kept", 4, &kept, NULL), RILL_OK);
    assert_non_null(kept);
    assert_memory_equal(g_bytes_get_data(kept, NULL), "untouched", 9);
    g_bytes_unref(kept);
    assert_int_equal(rill__kv_close(store, NULL), RILL_OK);
    rill__rocksdb_shared_destroy(shared);
}

/* Batches of 4,096: WriteBatches into restore mode's memtables. */
static void test_restore__into_rocksdb_survives_reopen(void **state)
{
    restore_into_rocksdb(*state, 4096);
}

/* One batch of 30,000 (>= RILL__ROCKSDB_INGEST_MIN_RECORDS): sorted, the
 * last write of each key kept, written as an SST file and ingested above
 * the store's older data; no file is left beside the store. */
static void test_restore__large_batches_are_ingested(void **state)
{
    assert_true(30000 >= RILL__ROCKSDB_INGEST_MIN_RECORDS);
    restore_into_rocksdb(*state, 0);
    g_autofree char *parent = g_build_filename(*state, "app", "0_2", "rocksdb", NULL);
    GDir *d = g_dir_open(parent, 0, NULL);
    assert_non_null(d);
    const char *name;
    int entries = 0;
    while ((name = g_dir_read_name(d)) != NULL) {
        assert_string_equal(name, "counts"); /* no counts.ingest-N.sst left over */
        entries++;
    }
    g_dir_close(d);
    assert_int_equal(entries, 1);
}

/* Batches of RILL__RESTORE_ASYNC_MIN_RECORDS: the first (20,000 of the
 * 30,000 records) is written by the restorer's writer thread while the rest
 * fills the other buffer; finish waits for it, then writes the rest. */
static void test_restore__pipelined_batches(void **state)
{
    restore_into_rocksdb(*state, RILL__RESTORE_ASYNC_MIN_RECORDS);
}

/* Keys of every length from 0 to 4 bytes, many prefixes of others ("1",
 * "10", "100"), written in one ingested batch, several times each: the
 * last write of each key wins, and an iteration sees the keys in order. */
static void test_restore__ingest_sorts_keys_of_any_length(void **state)
{
    rill__rocksdb_config_t config;
    rill__rocksdb_config_default(&config);
    rill__rocksdb_shared_t *shared = rill__rocksdb_shared_new(&config, NULL);
    g_autofree char *path = g_build_filename(*state, "keys", NULL);
    rill__kv_store_t *store = rill__kv_rocksdb_open(shared, path, "keys", NULL);
    assert_non_null(store);
    rill__restorer_t *r = rill__restorer_new(store, "app-keys-changelog", 0, 0, -1, 0, NULL, NULL);
    const int n = 25000, keys = 5001; /* key 5000 is the empty key */
    for (int i = 0; i < n; i++) {
        int key = (int)(((int64_t)i * 7919) % keys);
        char k[16], v[16];
        if (key == 5000)
            k[0] = '\0';
        else
            snprintf(k, sizeof k, "%d", key);
        snprintf(v, sizeof v, "v%d", i);
        assert_int_equal(rill__restorer_add(r, k, strlen(k), v, strlen(v), i, 0, NULL), RILL_OK);
    }
    assert_int_equal(rill__restorer_finish(r, NULL), RILL_OK);
    rill__restorer_destroy(r);
    for (int key = 0; key < keys; key++) {
        int last = -1;
        for (int i = 0; i < n; i++)
            if ((int)(((int64_t)i * 7919) % keys) == key)
                last = i;
        char k[16], v[16];
        if (key == 5000)
            k[0] = '\0';
        else
            snprintf(k, sizeof k, "%d", key);
        snprintf(v, sizeof v, "v%d", last);
        GBytes *got = NULL;
        assert_int_equal(rill__kv_get(store, k, strlen(k), &got, NULL), RILL_OK);
        assert_non_null(got);
        assert_int_equal(g_bytes_get_size(got), strlen(v));
        assert_memory_equal(g_bytes_get_data(got, NULL), v, strlen(v));
        g_bytes_unref(got);
    }
    rill__kv_iter_t *iter = rill__kv_all(store, NULL);
    assert_non_null(iter);
    const void *key, *value;
    size_t key_len, value_len, seen = 0;
    GBytes *prev = NULL;
    while (rill__kv_iter_next(iter, &key, &key_len, &value, &value_len)) {
        if (prev) {
            gsize plen;
            const void *p = g_bytes_get_data(prev, &plen);
            assert_true(rill__kv_key_compare(p, plen, key, key_len) < 0);
            g_bytes_unref(prev);
        }
        prev = g_bytes_new(key, key_len);
        seen++;
    }
    g_bytes_unref(prev);
    rill__kv_iter_destroy(iter);
    assert_int_equal(seen, keys);
    assert_int_equal(rill__kv_close(store, NULL), RILL_OK);
    rill__rocksdb_shared_destroy(shared);
}

/* ---- state directory ---------------------------------------------------------------- */

static void test_state_dir__lock_held_by_another_process_fails_clearly(void **state)
{
    const char *dir = *state;
    rill_error_t *err = NULL;
    rill__state_dir_t *sd = rill__state_dir_open(dir, "app", &err);
    assert_null(err);
    assert_non_null(sd);
    g_autofree char *app = g_build_filename(dir, "app", NULL);
    assert_string_equal(rill__state_dir_path(sd), app);

    /* a second open in this process fails (flock is per open file) */
    assert_null(rill__state_dir_open(dir, "app", &err));
    assert_int_equal(rill_error_code(err), RILL_ERR_INVALID_STATE);
    rill_error_destroy(err);
    err = NULL;

    /* another process fails, with a message naming the directory and our pid */
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        alarm(20);
        rill_error_t *cerr = NULL;
        rill__state_dir_t *csd = rill__state_dir_open(dir, "app", &cerr);
        char want[32];
        snprintf(want, sizeof want, "(pid %ld)", (long)getppid());
        int ok = csd == NULL && rill_error_code(cerr) == RILL_ERR_INVALID_STATE &&
                 strstr(rill_error_message(cerr), "is in use by another rill instance") &&
                 strstr(rill_error_message(cerr), want) && strstr(rill_error_message(cerr), dir);
        if (!ok)
            fprintf(stderr, "child: unexpected result: %s\n",
                    cerr ? rill_error_message(cerr) : "opened");
        _exit(ok ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    /* other applications in the same state.dir are independent */
    rill__state_dir_t *other = rill__state_dir_open(dir, "other-app", NULL);
    assert_non_null(other);
    rill__state_dir_close(other);

    /* closing releases the lock */
    rill__state_dir_close(sd);
    sd = rill__state_dir_open(dir, "app", NULL);
    assert_non_null(sd);
    rill__state_dir_close(sd);
}

static void test_state_dir__lock_dies_with_its_process(void **state)
{
    const char *dir = *state;
    int ready[2];
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        alarm(20);
        rill__state_dir_t *csd = rill__state_dir_open(dir, "app", NULL);
        char c = csd ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1)
            _exit(2);
        pause(); /* held until killed */
        _exit(0);
    }
    close(ready[1]);
    char c = 0;
    assert_int_equal(read(ready[0], &c, 1), 1);
    close(ready[0]);
    assert_int_equal(c, 'y');
    rill_error_t *err = NULL;
    assert_null(rill__state_dir_open(dir, "app", &err));
    assert_non_null(strstr(rill_error_message(err), "is in use"));
    rill_error_destroy(err);
    /* kill -9: no clean-up runs, yet the lock is gone */
    kill(child, SIGKILL);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    rill__state_dir_t *sd = rill__state_dir_open(dir, "app", NULL);
    assert_non_null(sd);
    rill__state_dir_close(sd);
}

static void set_age(const char *path, int64_t age_s)
{
    struct utimbuf t;
    t.actime = t.modtime = time(NULL) - age_s;
    assert_int_equal(utime(path, &t), 0);
}

static void test_state_dir__cleans_stale_task_dirs(void **state)
{
    const char *dir = *state;
    rill__state_dir_t *sd = rill__state_dir_open(dir, "app", NULL);
    assert_non_null(sd);
    const char *tasks[] = {"0_0", "0_1", "1_0", "1_1"};
    for (int i = 0; i < 4; i++) {
        g_autofree char *t = rill__state_dir_task(sd, tasks[i], NULL);
        assert_non_null(t);
        g_autofree char *store = rill__state_dir_store_path(sd, tasks[i], "counts");
        assert_int_equal(g_mkdir_with_parents(store, 0755), 0);
        g_autofree char *f = g_build_filename(store, "000001.sst", NULL);
        assert_true(g_file_set_contents(f, "data", -1, NULL));
        set_age(t, 3600); /* an hour old */
    }
    g_autofree char *fresh = g_build_filename(rill__state_dir_path(sd), "1_1", NULL);
    set_age(fresh, 1); /* touched just now */
    const char *active[] = {"0_0", NULL};
    unsigned removed = 99;
    /* state.cleanup.delay.ms = 10 min: 0_1 and 1_0 are stale; 0_0 is active; 1_1 is recent */
    assert_int_equal(rill__state_dir_clean_stale(sd, active, 600000, rill__clock_wall_ms(),
                                                 &removed, NULL),
                     RILL_OK);
    assert_int_equal(removed, 2);
    for (int i = 0; i < 4; i++) {
        g_autofree char *t = g_build_filename(rill__state_dir_path(sd), tasks[i], NULL);
        bool want = i == 0 || i == 3;
        assert_int_equal(g_file_test(t, G_FILE_TEST_IS_DIR), want);
    }
    /* the lock file is never touched */
    g_autofree char *lock = g_build_filename(rill__state_dir_path(sd), ".lock", NULL);
    assert_true(g_file_test(lock, G_FILE_TEST_EXISTS));
    /* wipe one task's state */
    assert_int_equal(rill__state_dir_wipe_task(sd, "0_0", NULL), RILL_OK);
    g_autofree char *t0 = g_build_filename(rill__state_dir_path(sd), "0_0", NULL);
    assert_false(g_file_test(t0, G_FILE_TEST_EXISTS));
    rill_error_t *err = NULL;
    assert_int_equal(rill__state_dir_wipe_task(sd, "..", &err), RILL_ERR_INVALID_ARG);
    rill_error_destroy(err);
    assert_null(rill__state_dir_task(sd, "../x", NULL));
    rill__state_dir_close(sd);
    /* a bad application id is a config error */
    err = NULL;
    assert_null(rill__state_dir_open(dir, "a/b", &err));
    assert_int_equal(rill_error_code(err), RILL_ERR_INVALID_CONFIG);
    rill_error_destroy(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore__batches_with_progress),
        cmocka_unit_test(test_restore__bad_offsets_fail_the_restore),
        cmocka_unit_test_setup_teardown(
            test_state_dir__lock_held_by_another_process_fails_clearly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_dir__lock_dies_with_its_process, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_state_dir__cleans_stale_task_dirs, setup, teardown),
        /* last: RocksDB starts background threads, and the cases above fork */
        cmocka_unit_test_setup_teardown(test_restore__into_rocksdb_survives_reopen, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore__large_batches_are_ingested, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore__ingest_sorts_keys_of_any_length, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restore__pipelined_batches, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
