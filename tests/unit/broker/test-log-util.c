/* test-log-util.c: helpers shared by the log unit tests (see test-log-util.h). */
#include "config.h"

#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/log/batch.h"
#include "tests/unit/broker/test-log-util.h"

char *tl_tempdir(void)
{
    char *dir = g_dir_make_tmp("rill-log-test-XXXXXX", NULL);
    assert_non_null(dir);
    return dir;
}

void tl_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        g_autofree char *p = g_build_filename(dir, de->d_name, NULL);
        g_unlink(p);
    }
    closedir(d);
    g_rmdir(dir);
}

rb_log_config_t tl_config(void)
{
    rb_log_config_t config;
    rb_log_config_init(&config);
    config.segment_bytes = 16 * 1024;
    config.index_interval_bytes = 512;
    config.segment_ms = -1;
    config.retention_ms = -1;
    return config;
}

uint8_t *tl_batch(int n, int64_t first, int64_t ts, size_t *len)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    for (int i = 0; i < n; i++) {
        char value[TL_VALUE_SIZE];
        memset(value, '.', sizeof(value));
        g_snprintf(value, sizeof(value), "offset=%" PRId64 ";", first + i);
        char key[32];
        int kl = g_snprintf(key, sizeof(key), "k%d", i);
        rb_batch_builder_add(&b, ts + i, key, kl, value, TL_VALUE_SIZE, NULL, 0);
    }
    return rb_batch_builder_finish(&b, len);
}

void tl_append(rb_log_t *log, int n, int64_t ts)
{
    int64_t end = rb_log_end_offset(log);
    size_t len;
    g_autofree uint8_t *batch = tl_batch(n, end, ts, &len);
    rb_append_info_t info;
    assert_int_equal(rb_log_append(log, batch, len, ts + n, &info), 0);
    assert_int_equal(info.base_offset, end);
    assert_int_equal(info.last_offset, end + n - 1);
    assert_int_equal(info.record_count, n);
    assert_int_equal(rb_log_end_offset(log), end + n);
}

int64_t tl_verify(rb_log_t *log, int64_t offset, size_t max_bytes)
{
    int64_t end = rb_log_end_offset(log);
    int64_t expect = -1, records = 0;
    while (offset < end) {
        rb_log_slice_t slice;
        assert_int_equal(rb_log_read(log, offset, end, max_bytes, &slice), 0);
        assert_true(slice.len > 0);
        g_autofree uint8_t *buf = g_malloc(slice.len);
        assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
        size_t at = 0;
        while (at < slice.len) {
            size_t size;
            assert_int_equal(rb_batch_check(buf + at, slice.len - at, &size), 0);
            const uint8_t *p = buf + at;
            if (expect < 0) {
                assert_true(rb_batch_base_offset(p) <= offset);
                expect = rb_batch_base_offset(p);
            }
            assert_int_equal(rb_batch_base_offset(p), expect);
            rb_record_iter_t it;
            rb_record_t rec;
            assert_int_equal(rb_record_iter_init(&it, p, size), 0);
            while (rb_record_iter_next(&it, &rec) == 1) {
                char want[64];
                int wl = g_snprintf(want, sizeof(want), "offset=%" PRId64 ";", rec.offset);
                assert_int_equal(rec.offset, expect);
                assert_int_equal(rec.value_len, TL_VALUE_SIZE);
                assert_memory_equal(rec.value, want, (size_t)wl);
                expect++;
                records++;
            }
            assert_false(it.err);
            at += size;
        }
        offset = expect;
    }
    assert_int_equal(offset, end);
    return records;
}

char *tl_path(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

const char *tl_seg(int64_t base, const char *ext)
{
    static char name[64];
    g_snprintf(name, sizeof(name), "%020" PRId64 "%s", base, ext);
    return name;
}

int64_t tl_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

int tl_count_logs(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (g_str_has_suffix(de->d_name, ".log"))
            n++;
    closedir(d);
    return n;
}

static int capture_saved = -1;
static char *capture_path;

void tl_capture_begin(void)
{
    fflush(stderr);
    capture_saved = dup(2);
    int fd = g_file_open_tmp("rill-log-stderr-XXXXXX", &capture_path, NULL);
    assert_true(fd >= 0);
    dup2(fd, 2);
    close(fd);
}

char *tl_capture_end(void)
{
    fflush(stderr);
    dup2(capture_saved, 2);
    close(capture_saved);
    char *text = NULL;
    assert_true(g_file_get_contents(capture_path, &text, NULL, NULL));
    unlink(capture_path);
    g_free(capture_path);
    capture_path = NULL;
    return text;
}
