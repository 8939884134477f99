/* test-log-recovery.c: opening a log after a crash or damage: torn tails,
 * garbage, flipped bytes, segments written after the last flush, missing or
 * corrupt or lying index files, stray files, a bad checkpoint. In each case
 * the log opens, keeps every good batch, says what it cut, and appends on at
 * the right offset. */
#include "config.h"

#include <fcntl.h>
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

typedef struct fixture {
    char *dir;
    rb_log_config_t config;
    rb_log_t *log;
    char *stderr_text; /* what the last open_capture() logged */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = g_new0(fixture_t, 1);
    f->dir = tl_tempdir();
    f->config = tl_config();
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
    g_free(f->stderr_text);
    g_free(f);
    return 0;
}

/* Opens the log with stderr captured into f->stderr_text. */
static void open_capture(fixture_t *f)
{
    g_autofree char *path = NULL;
    fflush(stderr);
    int saved = dup(2);
    int fd = g_file_open_tmp("rill-log-stderr-XXXXXX", &path, NULL);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    g_free(f->stderr_text);
    f->stderr_text = NULL;
    assert_true(g_file_get_contents(path, &f->stderr_text, NULL, NULL));
    unlink(path);
    if (err != NULL)
        fprintf(stderr, "open failed: %s\n", err);
    assert_null(err);
    assert_non_null(f->log);
}

static void close_clean(fixture_t *f)
{
    rb_log_close(f->log);
    f->log = NULL;
}

static void crash(fixture_t *f)
{
    rb_log_abandon(f->log);
    f->log = NULL;
}

static void fill(fixture_t *f, int batches, int per_batch)
{
    for (int i = 0; i < batches; i++)
        tl_append(f->log, per_batch, T0 + i * 100);
}

static void truncate_file(fixture_t *f, const char *name, int64_t size)
{
    g_autofree char *p = tl_path(f->dir, name);
    assert_int_equal(truncate(p, size), 0);
}

static void write_at(fixture_t *f, const char *name, int64_t pos, const void *data, size_t len)
{
    g_autofree char *p = tl_path(f->dir, name);
    int fd = open(p, O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, pos), (ssize_t)len);
    close(fd);
}

static int64_t file_size(fixture_t *f, const char *name)
{
    g_autofree char *p = tl_path(f->dir, name);
    return tl_file_size(p);
}

static void assert_logged(fixture_t *f, const char *needle)
{
    if (strstr(f->stderr_text, needle) == NULL)
        fprintf(stderr, "expected '%s' in:\n%s\n", needle, f->stderr_text);
    assert_non_null(strstr(f->stderr_text, needle));
}

/* One batch of 5 records is 5 * (record) + 61 bytes: measure it. */
static int64_t batch_size_of_5(void)
{
    size_t len;
    g_autofree uint8_t *b = tl_batch(5, 0, T0, &len);
    return (int64_t)len;
}

static void test_log_recovery__torn_tail_after_crash(void **state)
{
    fixture_t *f = *state;
    fill(f, 8, 5); /* 8 batches in one segment */
    assert_int_equal(rb_log_segment_count(f->log), 1);
    int64_t bs = batch_size_of_5();
    crash(f);
    truncate_file(f, tl_seg(0, ".log"), bs * 7 + 30); /* mid batch 8 */
    open_capture(f);
    assert_logged(f, "bytes_cut=30");
    assert_logged(f, "00000000000000000000.log position=");
    assert_int_equal(rb_log_end_offset(f->log), 35);
    assert_int_equal(file_size(f, tl_seg(0, ".log")), bs * 7);
    tl_append(f->log, 5, T0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 40);
    close_clean(f);
    open_capture(f);
    assert_null(strstr(f->stderr_text, "truncating"));
    assert_int_equal(tl_verify(f->log, 0, 700), 40);
}

static void test_log_recovery__torn_header_after_clean_marker_removed(void **state)
{
    fixture_t *f = *state;
    fill(f, 4, 5);
    int64_t bs = batch_size_of_5();
    close_clean(f);
    g_autofree char *marker = tl_path(f->dir, "rill-log.clean-shutdown");
    assert_int_equal(unlink(marker), 0);
    truncate_file(f, tl_seg(0, ".log"), bs * 3 + 10); /* less than a header left */
    open_capture(f);
    assert_logged(f, "torn batch header");
    assert_int_equal(rb_log_end_offset(f->log), 15);
    tl_append(f->log, 2, T0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 17);
}

static void test_log_recovery__garbage_appended(void **state)
{
    fixture_t *f = *state;
    fill(f, 6, 5);
    int64_t size = rb_log_size_bytes(f->log);
    crash(f);
    uint8_t junk[777];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 31 + 7);
    write_at(f, tl_seg(0, ".log"), size, junk, sizeof(junk));
    open_capture(f);
    assert_logged(f, "bytes_cut=777");
    assert_int_equal(rb_log_end_offset(f->log), 30);
    assert_int_equal(rb_log_size_bytes(f->log), size);
    tl_append(f->log, 5, T0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 35);
}

static void test_log_recovery__zeros_appended(void **state)
{
    fixture_t *f = *state;
    fill(f, 3, 5);
    int64_t size = rb_log_size_bytes(f->log);
    crash(f);
    uint8_t zeros[4096] = {0}; /* what a file system may leave after a crash */
    write_at(f, tl_seg(0, ".log"), size, zeros, sizeof(zeros));
    open_capture(f);
    assert_logged(f, "bytes_cut=4096");
    assert_int_equal(rb_log_end_offset(f->log), 15);
}

static void test_log_recovery__flipped_byte_in_last_batch(void **state)
{
    fixture_t *f = *state;
    fill(f, 5, 5);
    int64_t bs = batch_size_of_5();
    crash(f);
    uint8_t b;
    g_autofree char *p = tl_path(f->dir, tl_seg(0, ".log"));
    int fd = open(p, O_RDWR);
    assert_int_equal(pread(fd, &b, 1, bs * 4 + 100), 1);
    b ^= 0x10;
    assert_int_equal(pwrite(fd, &b, 1, bs * 4 + 100), 1);
    close(fd);
    open_capture(f);
    assert_logged(f, "CRC-32C mismatch");
    char want[64];
    g_snprintf(want, sizeof(want), "bytes_cut=%" G_GINT64_FORMAT, bs);
    assert_logged(f, want);
    assert_int_equal(rb_log_end_offset(f->log), 20);
    tl_append(f->log, 5, T0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 25);
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_log_recovery__unflushed_segments_are_checked(void **state)
{
    fixture_t *f = *state;
    fill(f, 60, 10); /* several segments, none flushed */
    size_t segs = rb_log_segment_count(f->log);
    assert_true(segs >= 4);
    crash(f);
    /* damage the second segment: it and everything after must go */
    g_autofree char *d = g_strdup(f->dir);
    GDir *gd = g_dir_open(d, 0, NULL);
    GPtrArray *logs = g_ptr_array_new_with_free_func(g_free);
    const char *name;
    while ((name = g_dir_read_name(gd)) != NULL)
        if (g_str_has_suffix(name, ".log"))
            g_ptr_array_add(logs, g_strdup(name));
    g_dir_close(gd);
    g_ptr_array_sort(logs, cmp_names);
    const char *second = g_ptr_array_index(logs, 1);
    int64_t second_base = g_ascii_strtoll(second, NULL, 10);
    truncate_file(f, second, file_size(f, second) - 50);
    open_capture(f);
    assert_logged(f, second);
    assert_logged(f, "deleting segment after a truncated one");
    assert_int_equal(rb_log_segment_count(f->log), 2);
    int64_t end = rb_log_end_offset(f->log);
    assert_true(end > second_base);
    assert_int_equal(end % 10, 0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), end);
    tl_append(f->log, 10, T0);
    assert_int_equal(tl_verify(f->log, 0, 5000), end + 10);
    g_ptr_array_free(logs, TRUE);
}

static void test_log_recovery__flushed_segments_are_trusted(void **state)
{
    fixture_t *f = *state;
    fill(f, 60, 10);
    assert_int_equal(rb_log_flush(f->log), 0);
    fill(f, 3, 10);
    crash(f);
    open_capture(f);
    assert_null(strstr(f->stderr_text, "truncating"));
    assert_int_equal(rb_log_end_offset(f->log), 630);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 630);
}

static void test_log_recovery__index_deleted_is_rebuilt(void **state)
{
    fixture_t *f = *state;
    fill(f, 40, 10);
    int64_t end = rb_log_end_offset(f->log);
    close_clean(f);
    g_autofree char *idx0 = tl_path(f->dir, tl_seg(0, ".index"));
    g_autofree char *tidx0 = tl_path(f->dir, tl_seg(0, ".timeindex"));
    int64_t idx_size = tl_file_size(idx0);
    assert_true(idx_size > 0);
    assert_int_equal(unlink(idx0), 0);
    assert_int_equal(unlink(tidx0), 0);
    open_capture(f);
    assert_logged(f, "rebuilding");
    assert_int_equal(rb_log_end_offset(f->log), end);
    assert_int_equal(tl_verify(f->log, 0, 2000), end);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 300), 30);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 3903), 393);
    close_clean(f);
    assert_int_equal(tl_file_size(idx0), idx_size);
    open_capture(f);
    assert_null(strstr(f->stderr_text, "rebuilding"));
}

static void test_log_recovery__corrupt_indexes_are_rebuilt(void **state)
{
    fixture_t *f = *state;
    fill(f, 40, 10);
    int64_t end = rb_log_end_offset(f->log);
    close_clean(f);
    /* garbage in every index file */
    GDir *gd = g_dir_open(f->dir, 0, NULL);
    const char *name;
    int damaged = 0;
    uint8_t junk[40];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(0xf0 ^ i);
    while ((name = g_dir_read_name(gd)) != NULL) {
        if (g_str_has_suffix(name, ".index") || g_str_has_suffix(name, ".timeindex")) {
            write_at(f, name, 0, junk, sizeof(junk));
            damaged++;
        }
    }
    g_dir_close(gd);
    assert_true(damaged >= 4);
    open_capture(f);
    assert_logged(f, "rebuilding");
    assert_int_equal(rb_log_end_offset(f->log), end);
    assert_int_equal(tl_verify(f->log, 0, 1500), end);
    for (int i = 0; i < 40; i += 7)
        assert_int_equal(rb_log_offset_for_time(f->log, T0 + i * 100), i * 10);
    tl_append(f->log, 10, T0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), end + 10);
}

static void test_log_recovery__plausible_but_wrong_index(void **state)
{
    fixture_t *f = *state;
    fill(f, 30, 10); /* a few segments; index entries every 512 bytes */
    assert_true(rb_log_segment_count(f->log) >= 2);
    int64_t end = rb_log_end_offset(f->log);
    close_clean(f);
    /* valid-looking entries in the first (sealed) segment that point between batches */
    uint8_t idx[16];
    rill__be32_put(idx, 10);
    rill__be32_put(idx + 4, 100);
    rill__be32_put(idx + 8, 50);
    rill__be32_put(idx + 12, 5000);
    g_autofree char *p = tl_path(f->dir, tl_seg(0, ".index"));
    assert_true(g_file_set_contents(p, (const char *)idx, sizeof(idx), NULL));
    open_capture(f);
    assert_int_equal(rb_log_end_offset(f->log), end);
    for (int64_t off = 0; off < end; off += 9)
        assert_true(tl_verify(f->log, off, 1000) > 0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), end);
    assert_int_equal(tl_verify(f->log, 0, 3000), end);
    tl_append(f->log, 10, T0);
    assert_int_equal(tl_verify(f->log, 0, 3000), end + 10);
}

static void test_log_recovery__stray_files_are_ignored(void **state)
{
    fixture_t *f = *state;
    fill(f, 5, 5);
    close_clean(f);
    g_autofree char *stray = tl_path(f->dir, "notes.txt");
    assert_true(g_file_set_contents(stray, "hello", 5, NULL));
    g_autofree char *odd = tl_path(f->dir, "123.log");
    assert_true(g_file_set_contents(odd, "garbage", 7, NULL));
    g_autofree char *orphan = tl_path(f->dir, tl_seg(999, ".index"));
    assert_true(g_file_set_contents(orphan, "zz", 2, NULL));
    open_capture(f);
    assert_logged(f, "notes.txt");
    assert_logged(f, "123.log");
    assert_logged(f, "00000000000000000999");
    assert_int_equal(rb_log_end_offset(f->log), 25);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 25);
    assert_true(g_file_test(stray, G_FILE_TEST_EXISTS));
}

static void test_log_recovery__bad_checkpoint(void **state)
{
    fixture_t *f = *state;
    fill(f, 5, 5);
    crash(f);
    g_autofree char *cp = tl_path(f->dir, "rill-log.checkpoint");
    assert_true(g_file_set_contents(cp, "\x01\x02garbage", 9, NULL));
    open_capture(f);
    assert_logged(f, "checkpoint");
    assert_int_equal(rb_log_start_offset(f->log), 0);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 25);
}

static void test_log_recovery__crash_right_after_open_and_roll(void **state)
{
    fixture_t *f = *state;
    fill(f, 30, 10);
    crash(f);
    open_capture(f);
    int64_t end = rb_log_end_offset(f->log);
    assert_int_equal(end, 300);
    crash(f); /* crash again, with nothing appended */
    open_capture(f);
    assert_int_equal(rb_log_end_offset(f->log), 300);
    fill(f, 1, 10);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 310);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_log_recovery__torn_tail_after_crash),
        T(test_log_recovery__torn_header_after_clean_marker_removed),
        T(test_log_recovery__garbage_appended),
        T(test_log_recovery__zeros_appended),
        T(test_log_recovery__flipped_byte_in_last_batch),
        T(test_log_recovery__unflushed_segments_are_checked),
        T(test_log_recovery__flushed_segments_are_trusted),
        T(test_log_recovery__index_deleted_is_rebuilt),
        T(test_log_recovery__corrupt_indexes_are_rebuilt),
        T(test_log_recovery__plausible_but_wrong_index),
        T(test_log_recovery__stray_files_are_ignored),
        T(test_log_recovery__bad_checkpoint),
        T(test_log_recovery__crash_right_after_open_and_roll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
