/* test-log.c: the partition log: append and read back byte for byte, offsets
 * across rolls, restarts, fetch bounds (limit, max_bytes, KIP-74), offsets
 * by time, DeleteRecords, retention, rejected batches and a full disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
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
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = g_new0(fixture_t, 1);
    f->dir = tl_tempdir();
    f->config = tl_config();
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_null(err);
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

static void reopen(fixture_t *f)
{
    rb_log_close(f->log);
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_null(err);
    assert_non_null(f->log);
}

static void test_log__empty_log(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(rb_log_start_offset(f->log), 0);
    assert_int_equal(rb_log_end_offset(f->log), 0);
    assert_int_equal(rb_log_size_bytes(f->log), 0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, 0, 1000, &slice), 0);
    assert_int_equal(slice.len, 0);
    assert_int_equal(rb_log_read(f->log, 1, 1, 1000, &slice), RB_LOG_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rb_log_offset_for_time(f->log, 0), -1);
    int64_t max_ts;
    assert_int_equal(rb_log_max_timestamp(f->log, &max_ts), -1);
    assert_int_equal(max_ts, -1);
    reopen(f);
    assert_int_equal(rb_log_end_offset(f->log), 0);
}

static void test_log__append_read_round_trip(void **state)
{
    fixture_t *f = *state;
    uint8_t *sent[10];
    size_t lens[10];
    int64_t bases[10];
    for (int i = 0; i < 10; i++) {
        bases[i] = rb_log_end_offset(f->log);
        sent[i] = tl_batch(i + 1, bases[i], T0 + i * 100, &lens[i]);
        rb_append_info_t info;
        assert_int_equal(rb_log_append(f->log, sent[i], lens[i], T0, &info), 0);
        assert_int_equal(info.base_offset, bases[i]);
        assert_int_equal(info.log_append_time, -1);
        assert_int_equal(info.max_timestamp, T0 + i * 100 + i);
        /* the batch was stamped in place and is still valid */
        assert_int_equal(rb_batch_base_offset(sent[i]), bases[i]);
        assert_int_equal(rb_batch_check(sent[i], lens[i], NULL), 0);
    }
    for (int i = 0; i < 10; i++) {
        /* from each batch's base offset and from inside it */
        for (int64_t off = bases[i]; off <= bases[i] + i; off += (i > 0 ? i : 1)) {
            rb_log_slice_t slice;
            assert_int_equal(rb_log_read(f->log, off, rb_log_end_offset(f->log), lens[i], &slice), 0);
            assert_int_equal(slice.len, lens[i]);
            g_autofree uint8_t *buf = g_malloc(slice.len);
            assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
            assert_memory_equal(buf, sent[i], lens[i]);
        }
    }
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), 55);
    int64_t total = 0;
    for (int i = 0; i < 10; i++) {
        total += (int64_t)lens[i];
        g_free(sent[i]);
    }
    assert_int_equal(rb_log_size_bytes(f->log), total);
}

static void test_log__offsets_dense_across_rolls(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 300; i++)
        tl_append(f->log, 1 + i % 17, T0 + i);
    assert_true(rb_log_segment_count(f->log) > 5);
    assert_int_equal(tl_count_logs(f->dir), (int)rb_log_segment_count(f->log));
    int64_t end = rb_log_end_offset(f->log);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), end);
    /* with small max_bytes and from every offset */
    assert_int_equal(tl_verify(f->log, 0, 700), end);
    for (int64_t off = 0; off < end; off += 7)
        assert_int_equal(tl_verify(f->log, off, 3000) > 0, 1);
    /* no segment is larger than segment.bytes */
    for (int64_t off = 0; off < end;) {
        rb_log_slice_t slice;
        assert_int_equal(rb_log_read(f->log, off, end, SIZE_MAX, &slice), 0);
        assert_true(slice.len <= (size_t)f->config.segment_bytes);
        g_autofree uint8_t *buf = g_malloc(slice.len);
        assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
        size_t at = 0, size = 0;
        while (at < slice.len) {
            assert_int_equal(rb_batch_check(buf + at, slice.len - at, &size), 0);
            off = rb_batch_next_offset(buf + at);
            at += size;
        }
    }
}

static void test_log__restart_keeps_everything(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 100; i++)
        tl_append(f->log, 5, T0 + i * 10);
    int64_t end = rb_log_end_offset(f->log);
    int64_t size = rb_log_size_bytes(f->log);
    size_t segs = rb_log_segment_count(f->log);
    reopen(f);
    assert_int_equal(rb_log_end_offset(f->log), end);
    assert_int_equal(rb_log_size_bytes(f->log), size);
    assert_int_equal(rb_log_segment_count(f->log), segs);
    assert_int_equal(tl_verify(f->log, 0, 1 << 20), end);
    assert_int_equal(tl_verify(f->log, end / 2, 1000), end - end / 2); /* end/2 starts a batch */
    for (int i = 0; i < 10; i++)
        tl_append(f->log, 3, T0 + 5000 + i);
    reopen(f);
    assert_int_equal(rb_log_end_offset(f->log), end + 30);
    assert_int_equal(tl_verify(f->log, 0, 4096), end + 30);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 5000), end);
}

static void test_log__read_bounds(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 5; i++)
        tl_append(f->log, 10, T0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 51, 60, 100, &slice), RB_LOG_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rb_log_read(f->log, -1, 60, 100, &slice), RB_LOG_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rb_log_read(f->log, 50, 50, 100, &slice), 0);
    assert_int_equal(slice.len, 0);
    /* limit below offset: nothing, no error */
    assert_int_equal(rb_log_read(f->log, 20, 10, 100000, &slice), 0);
    assert_int_equal(slice.len, 0);
    /* limit at a batch boundary stops there */
    assert_int_equal(rb_log_read(f->log, 0, 20, 100000, &slice), 0);
    size_t one = slice.len / 2;
    assert_int_equal(slice.pos, 0);
    rb_log_slice_t all;
    assert_int_equal(rb_log_read(f->log, 0, 50, 100000, &all), 0);
    assert_int_equal(all.len, one * 5);
    /* limit inside a batch includes that batch (it holds limit-1) */
    assert_int_equal(rb_log_read(f->log, 0, 21, 100000, &slice), 0);
    assert_int_equal(slice.len, one * 3);
    assert_int_equal(rb_log_read(f->log, 25, 21, 100000, &slice), 0);
    assert_int_equal(slice.len, 0);
}

static void test_log__max_bytes_and_kip74(void **state)
{
    fixture_t *f = *state;
    f->config.segment_bytes = 1 << 20;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 40; i++)
        tl_append(f->log, 4, T0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, 160, 1, &slice), 0);
    size_t one = slice.len; /* KIP-74: one whole batch even above max_bytes */
    assert_true(one > 400);
    assert_int_equal(rb_log_read(f->log, 0, 160, 0, &slice), 0);
    assert_int_equal(slice.len, one);
    /* whole batches only: 2.5 batches of room give 2 */
    assert_int_equal(rb_log_read(f->log, 8, 160, one * 5 / 2, &slice), 0);
    assert_int_equal(slice.pos, (off_t)(one * 2));
    assert_int_equal(slice.len, one * 2);
    /* exactly 3 batches of room */
    assert_int_equal(rb_log_read(f->log, 9, 160, one * 3, &slice), 0);
    assert_int_equal(slice.pos, (off_t)(one * 2));
    assert_int_equal(slice.len, one * 3);
    /* far past the index interval: the index jump lands on boundaries too */
    for (size_t room = one; room < one * 40; room += one / 3) {
        assert_int_equal(rb_log_read(f->log, 0, 160, room, &slice), 0);
        assert_int_equal(slice.len, room / one * one);
    }
    /* a batch larger than max_bytes in the middle */
    tl_append(f->log, 40, T0);
    assert_int_equal(rb_log_read(f->log, 160, 200, 10, &slice), 0);
    assert_true(slice.len > one * 5);
    assert_int_equal(tl_verify(f->log, 0, 1), 200);
}

static void test_log__one_segment_per_read(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 100; i++)
        tl_append(f->log, 10, T0);
    assert_true(rb_log_segment_count(f->log) >= 3);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, rb_log_end_offset(f->log), SIZE_MAX, &slice), 0);
    assert_true(slice.len <= (size_t)f->config.segment_bytes);
    g_autofree char *first = tl_path(f->dir, tl_seg(0, ".log"));
    assert_int_equal(slice.len, tl_file_size(first)); /* all of the first segment */
    assert_true(slice.len < (size_t)rb_log_size_bytes(f->log));
    /* the next read starts the next segment */
    g_autofree uint8_t *buf = g_malloc(slice.len);
    assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
    size_t at = 0, size = 0;
    int64_t after = 0;
    while (at < slice.len) {
        assert_int_equal(rb_batch_check(buf + at, slice.len - at, &size), 0);
        after = rb_batch_next_offset(buf + at);
        at += size;
    }
    rb_log_slice_t second;
    assert_int_equal(rb_log_read(f->log, after, rb_log_end_offset(f->log), SIZE_MAX, &second), 0);
    assert_int_equal(second.pos, 0);
    assert_true(second.fd != slice.fd);
    g_autofree char *second_path = tl_path(f->dir, tl_seg(after, ".log"));
    assert_int_equal(second.len, tl_file_size(second_path));
}

static void test_log__offset_for_time(void **state)
{
    fixture_t *f = *state;
    /* batch i holds 10 records with timestamps T0 + 100 i + 0..9 */
    for (int i = 0; i < 100; i++)
        tl_append(f->log, 10, T0 + i * 100);
    assert_int_equal(rb_log_offset_for_time(f->log, 0), 0);
    assert_int_equal(rb_log_offset_for_time(f->log, T0), 0);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 5), 5);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 10), 10);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 4203), 423);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 9909), 999);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 9910), -1);
    for (int i = 0; i < 99; i += 3)
        assert_int_equal(rb_log_offset_for_time(f->log, T0 + i * 100 + 50), i * 10 + 10);
    reopen(f);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 4203), 423);
    int64_t max_ts;
    assert_int_equal(rb_log_max_timestamp(f->log, &max_ts), 999);
    assert_int_equal(max_ts, T0 + 9909);
    assert_int_equal(rb_log_delete_records(f->log, 500), 0);
    assert_int_equal(rb_log_offset_for_time(f->log, T0), 500);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 6001), 601);
}

static void test_log__max_timestamp_in_the_middle(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 30; i++)
        tl_append(f->log, 10, i == 12 ? T0 + 1000000 : T0 + i * 10);
    int64_t ts;
    /* batch 12 holds T0+1000000 .. +9: the last record has the largest */
    assert_int_equal(rb_log_max_timestamp(f->log, &ts), 129);
    assert_int_equal(ts, T0 + 1000009);
    reopen(f);
    assert_int_equal(rb_log_max_timestamp(f->log, &ts), 129);
    assert_int_equal(ts, T0 + 1000009);
}

static void test_log__delete_records(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 100; i++)
        tl_append(f->log, 10, T0);
    size_t segs = rb_log_segment_count(f->log);
    assert_int_equal(rb_log_delete_records(f->log, 1001), RB_LOG_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rb_log_delete_records(f->log, 455), 0);
    assert_int_equal(rb_log_start_offset(f->log), 455);
    assert_true(rb_log_segment_count(f->log) < segs);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 454, 1000, 100, &slice), RB_LOG_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rb_log_read(f->log, 455, 1000, 100, &slice), 0);
    assert_true(slice.len > 0);
    /* moving it back is a no-op */
    assert_int_equal(rb_log_delete_records(f->log, 300), 0);
    assert_int_equal(rb_log_start_offset(f->log), 455);
    reopen(f);
    assert_int_equal(rb_log_start_offset(f->log), 455);
    assert_int_equal(rb_log_end_offset(f->log), 1000);
    assert_int_equal(tl_verify(f->log, 455, 5000), 1000 - 450);
    /* everything: the active segment rolls and goes */
    assert_int_equal(rb_log_delete_records(f->log, 1000), 0);
    assert_int_equal(rb_log_segment_count(f->log), 1);
    assert_int_equal(rb_log_size_bytes(f->log), 0);
    assert_int_equal(rb_log_start_offset(f->log), 1000);
    tl_append(f->log, 5, T0);
    reopen(f);
    assert_int_equal(rb_log_start_offset(f->log), 1000);
    assert_int_equal(rb_log_end_offset(f->log), 1005);
    assert_int_equal(tl_verify(f->log, 1000, 5000), 5);
}

static void test_log__retention_by_time(void **state)
{
    fixture_t *f = *state;
    f->config.retention_ms = 60000;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 60; i++) /* old records */
        tl_append(f->log, 10, T0 + i);
    size_t old_segs = rb_log_segment_count(f->log);
    assert_true(old_segs >= 3);
    for (int i = 0; i < 20; i++) /* recent ones */
        tl_append(f->log, 10, T0 + 1000000 + i);
    int64_t end = rb_log_end_offset(f->log);
    reopen(f); /* the segments' largest timestamps come back from the time indexes */
    assert_int_equal(rb_log_maintain(f->log, T0 + 30000), 0);
    int deleted = rb_log_maintain(f->log, T0 + 1000000);
    assert_true(deleted >= (int)old_segs - 1);
    assert_true(rb_log_start_offset(f->log) > 0);
    assert_true(rb_log_start_offset(f->log) <= 600);
    assert_int_equal(rb_log_end_offset(f->log), end);
    assert_int_equal(tl_verify(f->log, rb_log_start_offset(f->log), 10000) > 0, 1);
    /* much later: everything expired, but the active segment stays */
    rb_log_maintain(f->log, T0 + 100000000);
    assert_int_equal(rb_log_segment_count(f->log), 1);
    assert_int_equal(rb_log_end_offset(f->log), end);
    assert_true(rb_log_size_bytes(f->log) > 0);
    tl_append(f->log, 1, T0);
    assert_int_equal(rb_log_end_offset(f->log), end + 1);
}

static void test_log__retention_by_size(void **state)
{
    fixture_t *f = *state;
    f->config.retention_bytes = 40000;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 100; i++)
        tl_append(f->log, 10, T0);
    int64_t before = rb_log_size_bytes(f->log);
    assert_true(before > 100000);
    assert_true(rb_log_maintain(f->log, T0) > 0);
    /* as Kafka: a segment goes only if what stays is still >= retention.bytes */
    assert_true(rb_log_size_bytes(f->log) >= 40000);
    assert_true(rb_log_size_bytes(f->log) < 40000 + f->config.segment_bytes);
    assert_int_equal(rb_log_end_offset(f->log), 1000);
    assert_int_equal(tl_verify(f->log, rb_log_start_offset(f->log), 10000),
                     1000 - rb_log_start_offset(f->log));
    /* compact-only topics keep everything */
    f->config.compact = true;
    f->config.delete_ = false;
    f->config.retention_bytes = 0;
    rb_log_set_config(f->log, &f->config);
    assert_int_equal(rb_log_maintain(f->log, T0), 0);
}

static void test_log__roll_by_time(void **state)
{
    fixture_t *f = *state;
    f->config.segment_ms = 1000;
    rb_log_set_config(f->log, &f->config);
    size_t len;
    g_autofree uint8_t *b1 = tl_batch(1, 0, T0, &len);
    assert_int_equal(rb_log_append(f->log, b1, len, T0, NULL), 0);
    g_autofree uint8_t *b2 = tl_batch(1, 1, T0, &len);
    assert_int_equal(rb_log_append(f->log, b2, len, T0 + 500, NULL), 0);
    assert_int_equal(rb_log_segment_count(f->log), 1);
    g_autofree uint8_t *b3 = tl_batch(1, 2, T0, &len);
    assert_int_equal(rb_log_append(f->log, b3, len, T0 + 1000, NULL), 0);
    assert_int_equal(rb_log_segment_count(f->log), 2);
    rb_log_maintain(f->log, T0 + 1500);
    assert_int_equal(rb_log_segment_count(f->log), 2);
    rb_log_maintain(f->log, T0 + 2000);
    assert_int_equal(rb_log_segment_count(f->log), 3);
    rb_log_maintain(f->log, T0 + 9000); /* an empty active segment does not roll */
    assert_int_equal(rb_log_segment_count(f->log), 3);
    assert_int_equal(tl_verify(f->log, 0, 100), 3);
}

static void test_log__rejects_bad_batches_writing_nothing(void **state)
{
    fixture_t *f = *state;
    tl_append(f->log, 3, T0);
    int64_t size = rb_log_size_bytes(f->log);
    size_t len;
    g_autofree uint8_t *b = tl_batch(3, 3, T0, &len);
    b[len - 1] ^= 1; /* CRC */
    assert_int_equal(rb_log_append(f->log, b, len, T0, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    b[len - 1] ^= 1;
    b[RB_BATCH_OFF_MAGIC] = 1;
    assert_int_equal(rb_log_append(f->log, b, len, T0, NULL), RB_LOG_ERR_INVALID_RECORD);
    b[RB_BATCH_OFF_MAGIC] = 2;
    assert_int_equal(rb_log_append(f->log, b, len - 5, T0, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    assert_int_equal(rb_log_append(f->log, b, 30, T0, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    f->config.max_message_bytes = (int32_t)len - 1;
    rb_log_set_config(f->log, &f->config);
    assert_int_equal(rb_log_append(f->log, b, len, T0, NULL), RB_LOG_ERR_MESSAGE_TOO_LARGE);
    assert_int_equal(rb_log_end_offset(f->log), 3);
    assert_int_equal(rb_log_size_bytes(f->log), size);
    f->config.max_message_bytes = (int32_t)len;
    rb_log_set_config(f->log, &f->config);
    assert_int_equal(rb_log_append(f->log, b, len, T0, NULL), 0);
    assert_int_equal(tl_verify(f->log, 0, 100000), 6);
}

static void test_log__log_append_time(void **state)
{
    fixture_t *f = *state;
    f->config.timestamp_log_append = true;
    rb_log_set_config(f->log, &f->config);
    size_t len;
    g_autofree uint8_t *b = tl_batch(4, 0, 1000, &len);
    rb_append_info_t info;
    assert_int_equal(rb_log_append(f->log, b, len, T0, &info), 0);
    assert_int_equal(info.log_append_time, T0);
    assert_int_equal(info.max_timestamp, T0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, 4, 10000, &slice), 0);
    g_autofree uint8_t *buf = g_malloc(slice.len);
    assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
    assert_int_equal(rb_batch_check(buf, slice.len, NULL), 0);
    assert_true(rb_batch_is_log_append_time(buf));
    assert_int_equal(rb_batch_max_timestamp(buf), T0);
    assert_int_equal(rb_log_offset_for_time(f->log, T0), 0);
    assert_int_equal(rb_log_offset_for_time(f->log, T0 + 1), -1);
}

static void test_log__fsync_policies(void **state)
{
    fixture_t *f = *state;
    f->config.fsync_on_append = true;
    rb_log_set_config(f->log, &f->config);
    tl_append(f->log, 2, T0);
    f->config.fsync_on_append = false;
    f->config.flush_messages = 3;
    f->config.flush_ms = 10;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 10; i++)
        tl_append(f->log, 2, T0);
    rb_log_maintain(f->log, T0 + 100);
    assert_int_equal(rb_log_flush(f->log), 0);
    assert_int_equal(tl_verify(f->log, 0, 100000), 22);
}

/* Polls the recovery point until it reaches want (bounded: 10 s). */
static int64_t wait_recovery_point(rb_log_t *log, int64_t want)
{
    int64_t rp = rb_log_recovery_point(log);
    for (int i = 0; i < 10000 && rp < want; i++) {
        g_usleep(1000);
        rp = rb_log_recovery_point(log);
    }
    return rp;
}

static void test_log__background_flush_moves_recovery_point(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(rb_log_recovery_point(f->log), 0);
    for (int i = 0; i < 40; i++)
        tl_append(f->log, 10, T0);
    assert_true(rb_log_segment_count(f->log) >= 3);
    /* each roll hands the sealed segment to the flusher thread */
    int64_t sealed_end = 0;
    rb_log_slice_t slice;
    for (int64_t off = 0; off < rb_log_end_offset(f->log);) {
        assert_int_equal(rb_log_read(f->log, off, INT64_MAX, SIZE_MAX, &slice), 0);
        g_autofree uint8_t *buf = g_malloc(slice.len);
        assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
        size_t at = 0, size;
        while (at < slice.len) {
            assert_int_equal(rb_batch_check(buf + at, slice.len - at, &size), 0);
            off = rb_batch_next_offset(buf + at);
            at += size;
        }
        if (off < rb_log_end_offset(f->log))
            sealed_end = off;
    }
    assert_true(sealed_end > 0);
    assert_true(wait_recovery_point(f->log, sealed_end) >= sealed_end);
    assert_true(rb_log_recovery_point(f->log) < rb_log_end_offset(f->log));
    /* flush.ms hands over the active segment too */
    f->config.flush_ms = 0;
    rb_log_set_config(f->log, &f->config);
    rb_log_maintain(f->log, T0 + 1000);
    assert_int_equal(wait_recovery_point(f->log, 400), 400);
    /* the checkpoint says so: a crash now recovers only the active segment */
    g_autofree char *cp = tl_path(f->dir, "rill-log.checkpoint");
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(cp, &text, NULL, NULL));
    int64_t rp = -1;
    const char *at = strstr(text, "recovery_point ");
    assert_non_null(at);
    rp = g_ascii_strtoll(at + strlen("recovery_point "), NULL, 10);
    assert_true(rp >= sealed_end);
    /* and a synchronous flush after all that still works */
    tl_append(f->log, 10, T0);
    assert_int_equal(rb_log_flush(f->log), 0);
    assert_int_equal(rb_log_recovery_point(f->log), 410);
}

static void ignore_signal(int sig)
{
    (void)sig;
}

static void test_log__full_disk_truncates_partial_write(void **state)
{
    fixture_t *f = *state;
    f->config.segment_bytes = 1 << 20;
    rb_log_set_config(f->log, &f->config);
    for (int i = 0; i < 10; i++)
        tl_append(f->log, 5, T0);
    int64_t size = rb_log_size_bytes(f->log);
    g_autofree char *seg = tl_path(f->dir, tl_seg(0, ".log"));

    struct sigaction sa = {0}, old_sa;
    sa.sa_handler = ignore_signal;
    sigaction(SIGXFSZ, &sa, &old_sa);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 300; /* room for a part of the next batch */
    size_t len;
    g_autofree uint8_t *b = tl_batch(5, 50, T0, &len);
    assert_true(len > 300);
    /* nothing may print while the limit is on (the test's own log is a file) */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rb_kerr_t err = rb_log_append(f->log, b, len, T0, NULL);
    int64_t file_size_full = tl_file_size(seg);
    setrlimit(RLIMIT_FSIZE, &old);
    sigaction(SIGXFSZ, &old_sa, NULL);

    assert_int_equal(err, RB_LOG_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(file_size_full, size); /* the partial write is gone */
    assert_int_equal(rb_log_size_bytes(f->log), size);
    assert_int_equal(rb_log_end_offset(f->log), 50);
    /* the disk has room again: appends go on at the right offset */
    g_autofree uint8_t *b2 = tl_batch(5, 50, T0, &len);
    assert_int_equal(rb_log_append(f->log, b2, len, T0, NULL), 0);
    assert_int_equal(rb_log_end_offset(f->log), 55);
    assert_int_equal(tl_verify(f->log, 0, 100000), 55);
    reopen(f);
    assert_int_equal(tl_verify(f->log, 0, 100000), 55);
}

static int64_t allocated_bytes(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (int64_t)st.st_blocks * 512;
}

/* Large appends (64 KiB and up) preallocate blocks past the end of the
 * active segment while the file's size stays the log's size; a roll and a
 * close give the blocks back; blocks left by a crash change nothing when
 * the log is opened again. */
static void test_log__large_appends_preallocate_blocks(void **state)
{
    fixture_t *f = *state;
    f->config.segment_bytes = 8 << 20;
    rb_log_set_config(f->log, &f->config);
    g_autofree char *seg0 = tl_path(f->dir, tl_seg(0, ".log"));
    /* does this file system preallocate at all? (ext4, xfs, tmpfs do) */
    g_autofree char *probe = tl_path(f->dir, "probe");
    int pfd = open(probe, O_RDWR | O_CREAT, 0644);
    assert_true(pfd >= 0);
    bool can = fallocate(pfd, FALLOC_FL_KEEP_SIZE, 0, 1 << 20) == 0;
    close(pfd);
    unlink(probe);

    for (int i = 0; i < 3; i++)
        tl_append(f->log, 1000, T0); /* ~120 KB each */
    int64_t size = rb_log_size_bytes(f->log);
    assert_true(size > 3 * (64 << 10));
    assert_int_equal(tl_file_size(seg0), size);
    if (can)
        assert_true(allocated_bytes(seg0) >= size + (1 << 20));
    else
        assert_true(allocated_bytes(seg0) < size + (64 << 10));
    /* small appends do not preallocate more */
    int64_t before = allocated_bytes(seg0);
    tl_append(f->log, 5, T0);
    assert_int_equal(allocated_bytes(seg0), before);
    size = rb_log_size_bytes(f->log);
    assert_int_equal(tl_file_size(seg0), size);

    /* a close gives the blocks back, and nothing was lost */
    reopen(f);
    assert_true(allocated_bytes(seg0) < size + (64 << 10));
    assert_int_equal(tl_verify(f->log, 0, 100000), 3005);

    /* a roll gives back the sealed segment's blocks */
    tl_append(f->log, 1000, T0);
    f->config.segment_bytes = rb_log_size_bytes(f->log) + 1000;
    rb_log_set_config(f->log, &f->config);
    tl_append(f->log, 1000, T0);
    assert_int_equal(rb_log_segment_count(f->log), 2);
    assert_true(allocated_bytes(seg0) < tl_file_size(seg0) + (64 << 10));

    /* a crash with blocks allocated past the end of the active segment */
    g_autofree char *seg1 = tl_path(f->dir, tl_seg(4005, ".log"));
    int64_t size1 = tl_file_size(seg1);
    rb_log_abandon(f->log);
    int fd = open(seg1, O_RDWR);
    assert_true(fd >= 0);
    if (can)
        assert_int_equal(fallocate(fd, FALLOC_FL_KEEP_SIZE, size1, 4 << 20), 0);
    close(fd);
    assert_int_equal(tl_file_size(seg1), size1);
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_null(err);
    assert_non_null(f->log);
    assert_int_equal(rb_log_end_offset(f->log), 5005);
    tl_append(f->log, 1000, T0);
    assert_int_equal(tl_verify(f->log, 0, 100000), 6005);
    assert_int_equal(tl_file_size(seg1), size1 + (rb_log_size_bytes(f->log) - size1 -
                                                  tl_file_size(seg0)));
}

static void test_log__batch_larger_than_segment_bytes(void **state)
{
    fixture_t *f = *state;
    f->config.segment_bytes = 1000;
    rb_log_set_config(f->log, &f->config);
    tl_append(f->log, 20, T0); /* ~2.4 KB: accepted, alone in its segment */
    tl_append(f->log, 20, T0);
    tl_append(f->log, 1, T0);
    assert_int_equal(rb_log_segment_count(f->log), 3);
    assert_int_equal(tl_verify(f->log, 0, 100), 41);
}

static void test_log__roll_failure_writes_nothing(void **state)
{
    fixture_t *f = *state;
    f->config.segment_bytes = 4000;
    rb_log_set_config(f->log, &f->config);
    tl_append(f->log, 30, T0); /* ~3.5 KB: the next batch needs a new segment */
    int64_t size = rb_log_size_bytes(f->log);
    size_t len;
    g_autofree uint8_t *b = tl_batch(5, 30, T0, &len);
    /* no file descriptor left for the new segment */
    int probe = open("/dev/null", O_RDONLY);
    assert_true(probe >= 0);
    close(probe);
    struct rlimit old, lim;
    getrlimit(RLIMIT_NOFILE, &old);
    lim = old;
    lim.rlim_cur = (rlim_t)probe;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
    rb_kerr_t err = rb_log_append(f->log, b, len, T0, NULL);
    setrlimit(RLIMIT_NOFILE, &old);
    assert_int_equal(err, RB_LOG_ERR_UNKNOWN_SERVER_ERROR);
    assert_int_equal(rb_log_end_offset(f->log), 30);
    assert_int_equal(rb_log_size_bytes(f->log), size);
    assert_int_equal(rb_log_segment_count(f->log), 1);
    g_autofree uint8_t *b2 = tl_batch(5, 30, T0, &len);
    assert_int_equal(rb_log_append(f->log, b2, len, T0, NULL), 0);
    assert_int_equal(rb_log_segment_count(f->log), 2);
    reopen(f);
    assert_int_equal(tl_verify(f->log, 0, 100), 35);
}

static void test_log__delete_removes_directory(void **state)
{
    fixture_t *f = *state;
    for (int i = 0; i < 50; i++)
        tl_append(f->log, 10, T0);
    rb_log_delete(f->log);
    f->log = NULL;
    assert_int_equal(access(f->dir, F_OK), -1);
}

static void test_log__open_fails_cleanly(void **state)
{
    fixture_t *f = *state;
    g_autofree char *file = tl_path(f->dir, "not-a-dir");
    assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_autofree char *sub = tl_path(file, "p-0");
    char *err = NULL;
    rb_log_t *log = rb_log_open(sub, &f->config, &err);
    assert_null(log);
    assert_non_null(err);
    g_free(err);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_log__empty_log),
        T(test_log__append_read_round_trip),
        T(test_log__offsets_dense_across_rolls),
        T(test_log__restart_keeps_everything),
        T(test_log__read_bounds),
        T(test_log__max_bytes_and_kip74),
        T(test_log__one_segment_per_read),
        T(test_log__offset_for_time),
        T(test_log__max_timestamp_in_the_middle),
        T(test_log__delete_records),
        T(test_log__retention_by_time),
        T(test_log__retention_by_size),
        T(test_log__roll_by_time),
        T(test_log__rejects_bad_batches_writing_nothing),
        T(test_log__log_append_time),
        T(test_log__fsync_policies),
        T(test_log__background_flush_moves_recovery_point),
        T(test_log__full_disk_truncates_partial_write),
        T(test_log__large_appends_preallocate_blocks),
        T(test_log__batch_larger_than_segment_bytes),
        T(test_log__roll_failure_writes_nothing),
        T(test_log__delete_removes_directory),
        T(test_log__open_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
