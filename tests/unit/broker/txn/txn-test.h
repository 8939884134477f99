/* txn-test.h: helpers shared by the broker/txn unit tests: temp dirs, a
 * record batch v2 builder, and an in-memory partition (a byte log plus its
 * producer state) that follows the server's produce path exactly:
 * rb_pstate_check -> append (assign offsets) -> rb_pstate_appended. */
#ifndef RILL_TESTS_TXN_TEST_H
#define RILL_TESTS_TXN_TEST_H

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/txn/marker.h"
#include "broker/txn/pstate.h"
#include "common/buf.h"
#include "common/crc32c.h"

static inline char *test_tmpdir(void)
{
    GError *gerr = NULL;
    char *dir = g_dir_make_tmp("rill-txn-XXXXXX", &gerr);
    g_assert_no_error(gerr);
    return dir;
}

static inline void test_rmtree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir != NULL) {
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR))
                test_rmtree(child);
            else
                g_unlink(child);
            g_free(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

/* Appends a record batch v2 with nrecords small records to out. */
static inline void test_build_batch(rill_wbuf_t *out, int64_t producer_id, int16_t epoch,
                                    int32_t base_seq, int nrecords, bool transactional, int64_t ts)
{
    rill_wbuf_t recs;
    rill__wbuf_init(&recs, 64);
    for (int i = 0; i < nrecords; i++) {
        rill_wbuf_t rec;
        rill__wbuf_init(&rec, 16);
        rill__wbuf_put_u8(&rec, 0);
        rill__wbuf_put_varint(&rec, 0);
        rill__wbuf_put_varint(&rec, i);
        rill__wbuf_put_varint(&rec, -1); /* null key */
        rill__wbuf_put_varint(&rec, 1);
        rill__wbuf_put_u8(&rec, (uint8_t)('a' + i % 26));
        rill__wbuf_put_varint(&rec, 0);
        rill__wbuf_put_varint(&recs, (int64_t)rec.len);
        rill__wbuf_put(&recs, rec.data, rec.len);
        rill__wbuf_free(&rec);
    }
    size_t start = out->len;
    rill__wbuf_put_i64(out, 0);
    rill__wbuf_put_i32(out, 0);
    rill__wbuf_put_i32(out, -1);
    rill__wbuf_put_u8(out, 2);
    rill__wbuf_put_u32(out, 0);
    rill__wbuf_put_i16(out, transactional ? RB_BATCH_ATTR_TRANSACTIONAL : 0);
    rill__wbuf_put_i32(out, nrecords - 1);
    rill__wbuf_put_i64(out, ts);
    rill__wbuf_put_i64(out, ts);
    rill__wbuf_put_i64(out, producer_id);
    rill__wbuf_put_i16(out, epoch);
    rill__wbuf_put_i32(out, base_seq);
    rill__wbuf_put_i32(out, nrecords);
    rill__wbuf_put(out, recs.data, recs.len);
    rill__wbuf_free(&recs);
    rill__wbuf_patch_i32(out, start + 8, (int32_t)(out->len - start - 12));
    uint32_t crc = rill__crc32c(0, out->data + start + 21, out->len - start - 21);
    rill__wbuf_patch_i32(out, start + 17, (int32_t)crc);
}

/* A partition: its log bytes and producer state. */
typedef struct test_part {
    rill_wbuf_t log;
    int64_t end_offset;
    int appends;
    rb_pstate_t *ps;
} test_part_t;

static inline void test_part_init(test_part_t *part, const char *dir)
{
    memset(part, 0, sizeof(*part));
    rill__wbuf_init(&part->log, 1024);
    part->ps = rb_pstate_new(dir, NULL);
    int64_t from = -1;
    char *err = NULL;
    g_assert_true(rb_pstate_load(part->ps, 0, 0, &from, &err));
    g_assert_cmpint(from, ==, 0);
}

static inline void test_part_free(test_part_t *part)
{
    rb_pstate_free(part->ps);
    rill__wbuf_free(&part->log);
}

/* The produce path. Returns the error; *base is the offset answered (the
 * original one for a duplicate), -1 on error. */
static inline rb_kerr_t test_part_append(test_part_t *part, const uint8_t *batch, size_t len,
                                         rb_pstate_origin_t origin, int64_t *base)
{
    rb_pstate_dup_t dup;
    *base = -1;
    rb_kerr_t err = rb_pstate_check(part->ps, batch, len, origin, &dup);
    if (err != 0)
        return err;
    if (dup.duplicate) {
        *base = dup.base_offset;
        return 0;
    }
    size_t at = part->log.len;
    rill__wbuf_put(&part->log, batch, len);
    rill__be64_put(part->log.data + at, (uint64_t)part->end_offset);
    rb_txn_batch_t parsed;
    g_assert_true(rb_txn_batch_parse(part->log.data + at, len, &parsed));
    *base = part->end_offset;
    part->end_offset += parsed.last_offset_delta + 1;
    part->appends++;
    rb_pstate_appended(part->ps, part->log.data + at, len);
    return 0;
}

/* Builds and produces a data batch. */
static inline rb_kerr_t test_produce(test_part_t *part, int64_t producer_id, int16_t epoch,
                                     int32_t seq, int nrecords, bool transactional, int64_t *base)
{
    rill_wbuf_t w;
    rill__wbuf_init(&w, 128);
    test_build_batch(&w, producer_id, epoch, seq, nrecords, transactional, 1000 + seq);
    rb_kerr_t err = test_part_append(part, w.data, w.len, RB_PSTATE_CLIENT, base);
    rill__wbuf_free(&w);
    return err;
}

/* Writes the partition's log bytes to path (what a segment file would hold). */
static inline int test_part_write_file(const test_part_t *part, const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(write(fd, part->log.data, part->log.len), ==, (ssize_t)part->log.len);
    return fd;
}

/* File position of the batch containing offset (like rb_log_read's slice start). */
static inline size_t test_part_position(const test_part_t *part, int64_t offset)
{
    size_t pos = 0;
    while (pos < part->log.len) {
        rb_txn_batch_t batch;
        g_assert_true(rb_txn_batch_parse(part->log.data + pos, part->log.len - pos, &batch));
        if (rb_txn_batch_last_offset(&batch) >= offset)
            return pos;
        pos += (size_t)batch.length;
    }
    return pos;
}

/* The number of control batches in the partition log, and of those COMMITs. */
static inline int test_part_markers(const test_part_t *part, int *commits)
{
    int markers = 0;
    *commits = 0;
    size_t pos = 0;
    while (pos < part->log.len) {
        rb_txn_batch_t batch;
        g_assert_true(rb_txn_batch_parse(part->log.data + pos, part->log.len - pos, &batch));
        if (batch.control) {
            g_assert_true(batch.has_marker);
            markers++;
            if (batch.commit)
                (*commits)++;
        }
        pos += (size_t)batch.length;
    }
    return markers;
}

#endif /* RILL_TESTS_TXN_TEST_H */
