/* test-log-compact.c: compaction (cleanup.policy=compact): the latest record
 * of each key survives with its offset, tombstones go after
 * delete.retention.ms, reads step over what was removed, the result survives
 * a restart, and what must not be touched is not. */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "tests/unit/broker/test-log-util.h"

#define T0 1700000000000LL
#define DAY 86400000LL

typedef struct fixture {
    char *dir;
    rb_log_config_t config;
    rb_log_t *log;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = g_new0(fixture_t, 1);
    f->dir = tl_tempdir();
    f->config = tl_config();
    f->config.compact = true;
    f->config.delete_ = false;
    f->config.segment_bytes = 512;
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_non_null(f->log);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    rb_log_close(f->log);
    tl_rmdir(f->dir);
    g_free(f->dir);
    g_free(f);
    return 0;
}

/* Appends one batch of records with keys "k<keys[i]>" and values naming
 * their offsets ("o=<offset>"), or tombstones where keys[i] < 0 ("k<-keys[i]>"). */
static void put(fixture_t *f, const int *keys, int n, int64_t ts)
{
    int64_t base = rb_log_end_offset(f->log);
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    for (int i = 0; i < n; i++) {
        char key[16], value[32];
        int kl = g_snprintf(key, sizeof(key), "k%d", keys[i] < 0 ? -keys[i] : keys[i]);
        int vl = g_snprintf(value, sizeof(value), "o=%" PRId64, base + i);
        rb_batch_builder_add(&b, ts, key, kl, keys[i] < 0 ? NULL : value, vl, NULL, 0);
    }
    size_t len;
    g_autofree uint8_t *batch = rb_batch_builder_finish(&b, &len);
    assert_int_equal(rb_log_append(f->log, batch, len, ts, NULL), 0);
}

typedef struct seen {
    GHashTable *latest; /* key string -> offset of its last record (-offset-1 for a tombstone) */
    int64_t records;
    int64_t batches;
} seen_t;

/* Reads the whole log as a consumer would (next offset = last offset + 1 of
 * what came back), checking offsets increase and values name their offsets. */
static void read_all(fixture_t *f, seen_t *seen, size_t max_bytes)
{
    seen->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    seen->records = seen->batches = 0;
    int64_t offset = rb_log_start_offset(f->log), end = rb_log_end_offset(f->log);
    int64_t last = -1;
    int rounds = 0;
    while (offset < end) {
        assert_true(++rounds < 100000);
        rb_log_slice_t slice;
        assert_int_equal(rb_log_read(f->log, offset, end, max_bytes, &slice), 0);
        if (slice.len == 0)
            break; /* what is left was compacted away */
        g_autofree uint8_t *buf = g_malloc(slice.len);
        assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
        size_t at = 0, size;
        while (at < slice.len) {
            assert_int_equal(rb_batch_check(buf + at, slice.len - at, &size), 0);
            rb_record_iter_t it;
            rb_record_t rec;
            assert_int_equal(rb_record_iter_init(&it, buf + at, size), 0);
            while (rb_record_iter_next(&it, &rec) == 1) {
                assert_true(rec.offset > last);
                last = rec.offset;
                if (rec.value != NULL) {
                    char want[32];
                    int wl = g_snprintf(want, sizeof(want), "o=%" PRId64, rec.offset);
                    assert_int_equal(rec.value_len, wl);
                    assert_memory_equal(rec.value, want, (size_t)wl);
                }
                int64_t *v = g_new(int64_t, 1);
                *v = rec.value != NULL ? rec.offset : -rec.offset - 1;
                g_hash_table_insert(seen->latest, g_strndup((const char *)rec.key, rec.key_len), v);
                seen->records++;
            }
            assert_false(it.err);
            offset = rb_batch_next_offset(buf + at);
            seen->batches++;
            at += size;
        }
    }
}

static int64_t latest_of(const seen_t *seen, int key)
{
    char k[16];
    g_snprintf(k, sizeof(k), "k%d", key);
    const int64_t *v = g_hash_table_lookup(seen->latest, k);
    return v != NULL ? *v : INT64_MIN;
}

static void test_log_compact__keeps_the_latest_record_of_each_key(void **state)
{
    fixture_t *f = *state;
    int keys[10];
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < 10; i++)
            keys[i] = (round * 10 + i) % 25;
        put(f, keys, 10, T0 + round);
    }
    assert_true(rb_log_segment_count(f->log) >= 5);
    int64_t end = rb_log_end_offset(f->log);
    seen_t before;
    read_all(f, &before, 1 << 20);
    assert_int_equal(before.records, 300);
    int64_t size = rb_log_size_bytes(f->log);

    int64_t removed = rb_log_compact(f->log, T0 + 1000);
    assert_true(removed > 0);
    assert_int_equal(rb_log_size_bytes(f->log), size - removed);
    assert_int_equal(rb_log_end_offset(f->log), end);
    assert_int_equal(rb_log_start_offset(f->log), 0);
    seen_t after;
    read_all(f, &after, 1 << 20);
    assert_true(after.records < 300);
    /* every key still reads as its latest value, at the same offset */
    for (int k = 0; k < 25; k++)
        assert_int_equal(latest_of(&after, k), latest_of(&before, k));
    /* small fetches walk over the holes too, with no complaint about hints */
    seen_t small;
    tl_capture_begin();
    read_all(f, &small, 1);
    read_all(f, &small, 300);
    g_autofree char *logged = tl_capture_end();
    if (*logged)
        fprintf(stderr, "%s", logged);
    assert_null(strstr(logged, "WARN"));
    assert_int_equal(small.records, after.records);
    /* a second pass has nothing to do */
    assert_int_equal(rb_log_compact(f->log, T0 + 1000), 0);
    /* appends go on at the right offset */
    int more[3] = {1, 2, 3};
    put(f, more, 3, T0);
    assert_int_equal(rb_log_end_offset(f->log), end + 3);
    g_hash_table_destroy(before.latest);
    g_hash_table_destroy(after.latest);
    g_hash_table_destroy(small.latest);
}

static void test_log_compact__consumer_walks_gaps_inside_segments(void **state)
{
    fixture_t *f = *state;
    /* unique keys alternate with a hot key whose batches all go but the last:
     * holes open between the batches that stay, inside each segment */
    for (int round = 0; round < 40; round++) {
        put(f, (int[]){100 + round, 200 + round}, 2, T0);
        put(f, (int[]){1, 1, 1}, 3, T0);
    }
    assert_true(rb_log_compact(f->log, T0) > 0);
    int64_t records = -1;
    for (size_t max_bytes = 1; max_bytes < 1000; max_bytes += 97) {
        seen_t s;
        tl_capture_begin();
        read_all(f, &s, max_bytes);
        g_autofree char *logged = tl_capture_end();
        if (*logged)
            fprintf(stderr, "%s", logged);
        assert_null(strstr(logged, "WARN")); /* no hint taken for a lie */
        /* every unique key, the hot key's latest; the active segment is not
         * compacted, so a few older hot records may remain there */
        for (int round = 0; round < 40; round++) {
            assert_int_equal(latest_of(&s, 100 + round), round * 5);
            assert_int_equal(latest_of(&s, 200 + round), round * 5 + 1);
        }
        assert_int_equal(latest_of(&s, 1), 40 * 5 - 1);
        assert_true(s.records < 40 * 2 + 20);
        if (records < 0)
            records = s.records;
        assert_int_equal(s.records, records);
        g_hash_table_destroy(s.latest);
    }
}

static void test_log_compact__survives_restart_and_crash(void **state)
{
    fixture_t *f = *state;
    int keys[10];
    for (int round = 0; round < 30; round++) {
        for (int i = 0; i < 10; i++)
            keys[i] = i;
        put(f, keys, 10, T0 + round);
    }
    assert_true(rb_log_compact(f->log, T0) > 0);
    seen_t after;
    read_all(f, &after, 4096);
    rb_log_close(f->log);
    /* a copy left by a crash in the middle of a pass is discarded */
    g_autofree char *stale = tl_path(f->dir, tl_seg(0, ".log.cleaned"));
    assert_true(g_file_set_contents(stale, "partial", 7, NULL));
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_non_null(f->log);
    assert_false(g_file_test(stale, G_FILE_TEST_EXISTS));
    seen_t again;
    read_all(f, &again, 4096);
    assert_int_equal(again.records, after.records);
    for (int k = 0; k < 10; k++)
        assert_int_equal(latest_of(&again, k), 290 + k);
    /* an unclean stop after compaction recovers the same */
    rb_log_abandon(f->log);
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_non_null(f->log);
    seen_t crash;
    read_all(f, &crash, 100);
    assert_int_equal(crash.records, after.records);
    assert_int_equal(rb_log_end_offset(f->log), 300);
    g_hash_table_destroy(after.latest);
    g_hash_table_destroy(again.latest);
    g_hash_table_destroy(crash.latest);
}

static void test_log_compact__tombstones_go_after_delete_retention(void **state)
{
    fixture_t *f = *state;
    f->config.delete_retention_ms = DAY;
    rb_log_set_config(f->log, &f->config);
    int live[4] = {1, 2, 3, 4};
    for (int i = 0; i < 5; i++)
        put(f, live, 4, T0);
    int dead[2] = {-2, -3}; /* delete k2 and k3 */
    put(f, dead, 2, T0);
    for (int i = 0; i < 10; i++) /* push the tombstones into a sealed segment */
        put(f, (int[]){5, 6, 7}, 3, T0);
    assert_true(rb_log_compact(f->log, T0 + 1000) > 0);
    seen_t s1;
    read_all(f, &s1, 1 << 20);
    assert_int_equal(latest_of(&s1, 2), -20 - 1); /* the tombstone, at offset 20 */
    assert_int_equal(latest_of(&s1, 3), -21 - 1);
    assert_int_equal(latest_of(&s1, 1), 16);
    /* a day later the tombstones are gone too */
    assert_true(rb_log_compact(f->log, T0 + DAY + 1) > 0);
    seen_t s2;
    read_all(f, &s2, 1 << 20);
    assert_true(latest_of(&s2, 2) == INT64_MIN);
    assert_true(latest_of(&s2, 3) == INT64_MIN);
    assert_int_equal(latest_of(&s2, 4), 19);
    g_hash_table_destroy(s1.latest);
    g_hash_table_destroy(s2.latest);
}

static void test_log_compact__partial_batch_keeps_its_range(void **state)
{
    fixture_t *f = *state;
    put(f, (int[]){1, 2, 3, 4}, 4, T0); /* offsets 0..3 */
    put(f, (int[]){1, 2}, 2, T0);       /* offsets 4..5 supersede 0, 1 */
    for (int i = 0; i < 20; i++)
        put(f, (int[]){9}, 1, T0);
    assert_true(rb_log_compact(f->log, T0) > 0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, rb_log_end_offset(f->log), 1, &slice), 0);
    g_autofree uint8_t *buf = g_malloc(slice.len);
    assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
    assert_int_equal(rb_batch_check(buf, slice.len, NULL), 0);
    assert_int_equal(rb_batch_base_offset(buf), 0);
    assert_int_equal(rb_batch_last_offset_delta(buf), 3); /* the range stays 0..3 */
    assert_int_equal(rb_batch_records_count(buf), 2);     /* k3, k4 */
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, buf, slice.len);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 2);
    assert_true(rec.timestamp == T0);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 3);
    assert_int_equal(rb_record_iter_next(&it, &rec), 0);
    /* a read from offset 0, 1 or 2 starts at this batch */
    for (int64_t off = 0; off <= 2; off++) {
        rb_log_slice_t s2;
        assert_int_equal(rb_log_read(f->log, off, rb_log_end_offset(f->log), 1, &s2), 0);
        assert_int_equal(s2.pos, 0);
    }
    /* the first record at or after T0 is now offset 2 */
    assert_int_equal(rb_log_offset_for_time(f->log, T0), 2);
}

static void test_log_compact__open_transaction_does_not_supersede(void **state)
{
    fixture_t *f = *state;
    /* a plain k1, then k1 in a transaction without a marker yet */
    put(f, (int[]){1}, 1, T0); /* offset 0 */
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    b.attributes = RB_BATCH_ATTR_TRANSACTIONAL;
    b.producer_id = 7;
    b.producer_epoch = 0;
    b.base_sequence = 0;
    rb_batch_builder_add(&b, T0, "k1", 2, "o=1", 3, NULL, 0);
    size_t len;
    g_autofree uint8_t *txn = rb_batch_builder_finish(&b, &len);
    assert_int_equal(rb_log_append(f->log, txn, len, T0, NULL), 0);
    g_autofree uint8_t *txn_copy = g_memdup2(txn, len);
    size_t txn_len = len;
    for (int i = 0; i < 20; i++)
        put(f, (int[]){9}, 1, T0);
    assert_true(rb_log_compact(f->log, T0) > 0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, 2, 1 << 20, &slice), 0);
    g_autofree uint8_t *buf = g_malloc(slice.len);
    assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
    /* the plain k1 stays (the transaction may still abort), the open one as it was */
    assert_int_equal(rb_batch_base_offset(buf), 0);
    assert_int_equal(rb_batch_records_count(buf), 1);
    size_t first = rb_batch_size(buf);
    assert_int_equal(slice.len, first + txn_len);
    assert_memory_equal(buf + first, txn_copy, txn_len); /* byte for byte */
}

static void test_log_compact__needs_keys_and_runs_from_maintain(void **state)
{
    fixture_t *f = *state;
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    rb_batch_builder_add(&b, T0, NULL, -1, "v", 1, NULL, 0);
    size_t len;
    g_autofree uint8_t *nokey = rb_batch_builder_finish(&b, &len);
    assert_int_equal(rb_log_append(f->log, nokey, len, T0, NULL), RB_LOG_ERR_INVALID_RECORD);
    assert_int_equal(rb_log_end_offset(f->log), 0);

    for (int i = 0; i < 40; i++)
        put(f, (int[]){1, 2}, 2, T0);
    int64_t size = rb_log_size_bytes(f->log);
    /* maintain starts a pass on the cleaner thread, a later call installs it */
    rb_log_maintain(f->log, T0);
    for (int i = 0; i < 10000 && rb_log_size_bytes(f->log) == size; i++) {
        g_usleep(1000);
        rb_log_maintain(f->log, T0);
    }
    assert_true(rb_log_size_bytes(f->log) < size / 2);
    /* right after a pass, little is new: maintain leaves it alone */
    int64_t compacted = rb_log_size_bytes(f->log);
    for (int i = 0; i < 20; i++) {
        rb_log_maintain(f->log, T0);
        g_usleep(1000);
    }
    assert_int_equal(rb_log_size_bytes(f->log), compacted);
    seen_t s;
    read_all(f, &s, 1 << 20);
    assert_int_equal(latest_of(&s, 1), 78);
    assert_int_equal(latest_of(&s, 2), 79);
    g_hash_table_destroy(s.latest);

    /* delete-only topics are never compacted */
    f->config.compact = false;
    f->config.delete_ = true;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 40; i++)
        put(f, (int[]){1, 2}, 2, T0);
    size = rb_log_size_bytes(f->log);
    rb_log_maintain(f->log, T0);
    assert_int_equal(rb_log_size_bytes(f->log), size);
}

static void test_log_compact__appends_and_retention_during_a_pass(void **state)
{
    fixture_t *f = *state;
    f->config.delete_ = true; /* compact,delete */
    f->config.retention_bytes = -1;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 200; i++)
        put(f, (int[]){i % 7, 100 + i}, 2, T0);
    int64_t end = rb_log_end_offset(f->log);
    rb_log_maintain(f->log, T0); /* starts a pass */
    /* meanwhile: more appends (and rolls), and retention drops the oldest */
    for (int i = 0; i < 50; i++)
        put(f, (int[]){i % 7, 1000 + i}, 2, T0);
    f->config.retention_bytes = rb_log_size_bytes(f->log) / 2;
    rb_log_set_config(f->log, &f->config);
    int64_t last_start = -1;
    for (int i = 0; i < 10000; i++) {
        rb_log_maintain(f->log, T0);
        if (rb_log_start_offset(f->log) == last_start && i > 50)
            break;
        last_start = rb_log_start_offset(f->log);
        g_usleep(1000);
    }
    assert_int_equal(rb_log_end_offset(f->log), end + 100);
    seen_t s;
    read_all(f, &s, 700);
    for (int k = 0; k < 7; k++) /* the hot keys' latest survive whatever happened */
        assert_true(latest_of(&s, k) >= end);
    for (int i = 0; i < 50; i++)
        assert_int_equal(latest_of(&s, 1000 + i), end + 2 * i + 1);
    g_hash_table_destroy(s.latest);
    /* closing with a pass under way cancels it cleanly */
    for (int i = 0; i < 100; i++)
        put(f, (int[]){i % 7, 2000 + i}, 2, T0);
    rb_log_maintain(f->log, T0);
    rb_log_close(f->log);
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_non_null(f->log);
    assert_int_equal(rb_log_end_offset(f->log), end + 300);
    seen_t again;
    read_all(f, &again, 1 << 20);
    assert_int_equal(latest_of(&again, 2099), end + 299);
    g_hash_table_destroy(again.latest);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_log_compact__keeps_the_latest_record_of_each_key),
        T(test_log_compact__consumer_walks_gaps_inside_segments),
        T(test_log_compact__survives_restart_and_crash),
        T(test_log_compact__tombstones_go_after_delete_retention),
        T(test_log_compact__partial_batch_keeps_its_range),
        T(test_log_compact__open_transaction_does_not_supersede),
        T(test_log_compact__needs_keys_and_runs_from_maintain),
        T(test_log_compact__appends_and_retention_during_a_pass),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
