/* test-batch.c: record batch v2: the builder against a batch written by
 * kafka-python, validation and each of its rejections, in-place rewrites,
 * and the record and header iterators. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "broker/log/batch.h"

/* Two records, written by kafka-python 2.0's DefaultRecordBatchBuilder:
 * (ts 1700000000000, key "k1", value "hello", header h=v) and
 * (ts 1700000000005, key null, value "world"). */
static const char kafka_python_hex[] =
    "00000000000000000000004f00000000024bf42f080000000000010000018bcfe568000000018bcfe56805"
    "ffffffffffffffffffffffffffff0000000222000000046b310a68656c6c6f020268027616000a02010a77"
    "6f726c6400";

static uint8_t *from_hex(const char *hex, size_t *len)
{
    size_t n = strlen(hex) / 2;
    uint8_t *p = g_malloc(n);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        p[i] = (uint8_t)v;
    }
    *len = n;
    return p;
}

static uint8_t *build_two(size_t *len)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    rb_record_header_t h = {(const uint8_t *)"h", 1, (const uint8_t *)"v", 1};
    rb_batch_builder_add(&b, 1700000000000, "k1", 2, "hello", 5, &h, 1);
    rb_batch_builder_add(&b, 1700000000005, NULL, -1, "world", 5, NULL, 0);
    return rb_batch_builder_finish(&b, len);
}

static uint8_t *build_n(int n, int64_t ts0, size_t *len)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    for (int i = 0; i < n; i++) {
        char key[16], value[64];
        int kl = g_snprintf(key, sizeof(key), "key-%d", i);
        int vl = g_snprintf(value, sizeof(value), "value-%d", i);
        rb_batch_builder_add(&b, ts0 + i, key, kl, value, vl, NULL, 0);
    }
    return rb_batch_builder_finish(&b, len);
}

static void test_batch__builder_matches_kafka_python(void **state)
{
    size_t want_len, got_len;
    g_autofree uint8_t *want = from_hex(kafka_python_hex, &want_len);
    g_autofree uint8_t *got = build_two(&got_len);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want, want_len);
    assert_int_equal(rb_batch_check(want, want_len, NULL), 0);
}

static void test_batch__header_accessors(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_two(&len);
    assert_int_equal(rb_batch_size(p), len);
    assert_int_equal(rb_batch_magic(p), 2);
    assert_int_equal(rb_batch_base_offset(p), 0);
    assert_int_equal(rb_batch_last_offset_delta(p), 1);
    assert_int_equal(rb_batch_next_offset(p), 2);
    assert_int_equal(rb_batch_records_count(p), 2);
    assert_true(rb_batch_base_timestamp(p) == 1700000000000);
    assert_true(rb_batch_max_timestamp(p) == 1700000000005);
    assert_int_equal(rb_batch_producer_id(p), -1);
    assert_int_equal(rb_batch_producer_epoch(p), -1);
    assert_int_equal(rb_batch_base_sequence(p), -1);
    assert_int_equal(rb_batch_compression(p), RB_COMPRESSION_NONE);
    assert_false(rb_batch_is_transactional(p));
    assert_false(rb_batch_is_control(p));
    assert_false(rb_batch_is_log_append_time(p));

    rb_batch_info_t info;
    assert_int_equal(rb_batch_validate(p, len, &info), 0);
    assert_int_equal(info.record_count, 2);
    assert_true(info.max_timestamp == 1700000000005);
    assert_false(info.compressed);
}

static void test_batch__builder_header_fields(void **state)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 500);
    b.producer_id = 77;
    b.producer_epoch = 3;
    b.base_sequence = 10;
    b.attributes = RB_BATCH_ATTR_TRANSACTIONAL | RB_BATCH_ATTR_CONTROL;
    b.leader_epoch = 9;
    rb_batch_builder_add(&b, 5, "\0\0\0\1", 4, "\0\0\0\0\0\0", 6, NULL, 0);
    size_t len;
    g_autofree uint8_t *p = rb_batch_builder_finish(&b, &len);
    assert_int_equal(rb_batch_base_offset(p), 500);
    assert_int_equal(rb_batch_producer_id(p), 77);
    assert_int_equal(rb_batch_producer_epoch(p), 3);
    assert_int_equal(rb_batch_base_sequence(p), 10);
    assert_int_equal(rb_batch_leader_epoch(p), 9);
    assert_true(rb_batch_is_transactional(p));
    assert_true(rb_batch_is_control(p));
    assert_int_equal(rb_batch_validate(p, len, NULL), 0);
}

static void test_batch__iterate_records_and_headers(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_two(&len);
    rb_batch_set_base_offset(p, 1000);
    rb_record_iter_t it;
    assert_int_equal(rb_record_iter_init(&it, p, len), 0);
    rb_record_t rec;
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 1000);
    assert_true(rec.timestamp == 1700000000000);
    assert_int_equal(rec.key_len, 2);
    assert_memory_equal(rec.key, "k1", 2);
    assert_int_equal(rec.value_len, 5);
    assert_memory_equal(rec.value, "hello", 5);
    assert_int_equal(rec.header_count, 1);
    rb_header_iter_t hi;
    rb_record_header_t h;
    rb_header_iter_init(&hi, &rec);
    assert_int_equal(rb_header_iter_next(&hi, &h), 1);
    assert_int_equal(h.key_len, 1);
    assert_memory_equal(h.key, "h", 1);
    assert_int_equal(h.value_len, 1);
    assert_memory_equal(h.value, "v", 1);
    assert_int_equal(rb_header_iter_next(&hi, &h), 0);

    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 1001);
    assert_true(rec.timestamp == 1700000000005);
    assert_null(rec.key);
    assert_int_equal(rec.key_len, -1);
    assert_memory_equal(rec.value, "world", 5);
    assert_int_equal(rec.header_count, 0);
    assert_int_equal(rb_record_iter_next(&it, &rec), 0);
}

static void test_batch__null_value_empty_key_and_negative_delta(void **state)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    rb_record_header_t h = {(const uint8_t *)"", 0, NULL, -1};
    rb_batch_builder_add(&b, 100, "", 0, NULL, -1, &h, 1);
    rb_batch_builder_add(&b, 40, "x", 1, "", 0, NULL, 0); /* earlier than the base */
    size_t len;
    g_autofree uint8_t *p = rb_batch_builder_finish(&b, &len);
    rb_batch_info_t info;
    assert_int_equal(rb_batch_validate(p, len, &info), 0);
    assert_int_equal(info.max_timestamp, 100);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_non_null(rec.key);
    assert_int_equal(rec.key_len, 0);
    assert_null(rec.value);
    assert_int_equal(rec.value_len, -1);
    rb_header_iter_t hi;
    rb_record_header_t hh;
    rb_header_iter_init(&hi, &rec);
    assert_int_equal(rb_header_iter_next(&hi, &hh), 1);
    assert_int_equal(hh.key_len, 0);
    assert_null(hh.value);
    assert_int_equal(hh.value_len, -1);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.timestamp, 40);
    assert_int_equal(rec.value_len, 0);
    assert_int_equal(rb_record_iter_next(&it, &rec), 0);
}

static void test_batch__rewrites_keep_crc_valid(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_two(&len);
    rb_batch_set_base_offset(p, 123456789);
    rb_batch_set_leader_epoch(p, 7);
    assert_int_equal(rb_batch_check(p, len, NULL), 0);
    assert_int_equal(rb_batch_base_offset(p), 123456789);
    assert_int_equal(rb_batch_leader_epoch(p), 7);

    rb_batch_set_log_append_time(p, len, 1800000000000);
    assert_int_equal(rb_batch_check(p, len, NULL), 0);
    assert_true(rb_batch_is_log_append_time(p));
    assert_true(rb_batch_max_timestamp(p) == 1800000000000);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    while (rb_record_iter_next(&it, &rec) == 1)
        assert_true(rec.timestamp == 1800000000000);

    g_autofree uint8_t *q = build_two(&len);
    rb_batch_set_max_timestamp(q, len, 42);
    assert_int_equal(rb_batch_check(q, len, NULL), 0);
    assert_int_equal(rb_batch_max_timestamp(q), 42);
}

static void test_batch__check_rejects_structure(void **state)
{
    size_t len, size;
    g_autofree uint8_t *p = build_n(3, 1000, &len);
    assert_int_equal(rb_batch_check(p, len, &size), 0);
    assert_int_equal(size, len);
    /* shorter than a header */
    assert_int_equal(rb_batch_check(p, 60, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    /* torn: the length says more than there is */
    assert_int_equal(rb_batch_check(p, len - 1, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    /* more bytes after the batch are fine for check (several batches) */
    g_autofree uint8_t *two = g_malloc(len * 2);
    memcpy(two, p, len);
    memcpy(two + len, p, len);
    assert_int_equal(rb_batch_check(two, len * 2, &size), 0);
    assert_int_equal(size, len);

    g_autofree uint8_t *q = g_memdup2(p, len);
    q[RB_BATCH_OFF_MAGIC] = 1;
    assert_int_equal(rb_batch_check(q, len, NULL), RB_LOG_ERR_INVALID_RECORD);
    memcpy(q, p, len);
    rill__be32_put(q + RB_BATCH_OFF_LENGTH, 10);
    assert_int_equal(rb_batch_check(q, len, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    memcpy(q, p, len);
    rill__be32_put(q + RB_BATCH_OFF_LENGTH, 0xffffffffu);
    assert_int_equal(rb_batch_check(q, len, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    /* each flipped byte covered by the CRC is caught */
    for (size_t i = RB_BATCH_OFF_ATTRIBUTES; i < len; i++) {
        memcpy(q, p, len);
        q[i] ^= 0x40;
        assert_int_equal(rb_batch_check(q, len, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
    }
    memcpy(q, p, len);
    q[RB_BATCH_OFF_CRC] ^= 1;
    assert_int_equal(rb_batch_check(q, len, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
}

/* Applies a change to a copy of the batch, fixes the CRC, validates. */
static rb_kerr_t validate_changed(const uint8_t *p, size_t len, size_t at, const void *bytes,
                                  size_t n, size_t new_len)
{
    g_autofree uint8_t *q = g_malloc0(new_len > len ? new_len : len);
    memcpy(q, p, len);
    memcpy(q + at, bytes, n);
    rb_batch_update_crc(q, rb_batch_size(q) <= new_len ? rb_batch_size(q) : new_len);
    return rb_batch_validate(q, new_len, NULL);
}

static void test_batch__validate_rejects_content(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_n(3, 1000, &len);
    assert_int_equal(rb_batch_validate(p, len, NULL), 0);
    uint8_t be[8];

    /* trailing bytes after the one batch */
    g_autofree uint8_t *longer = g_malloc0(len + 5);
    memcpy(longer, p, len);
    assert_int_equal(rb_batch_validate(longer, len + 5, NULL), RB_LOG_ERR_INVALID_RECORD);
    /* no records */
    rill__be32_put(be, 0);
    assert_int_equal(validate_changed(p, len, RB_BATCH_OFF_RECORDS_COUNT, be, 4, len),
                     RB_LOG_ERR_INVALID_RECORD);
    /* a count the records do not match */
    rill__be32_put(be, 4);
    assert_int_equal(validate_changed(p, len, RB_BATCH_OFF_RECORDS_COUNT, be, 4, len),
                     RB_LOG_ERR_INVALID_RECORD);
    /* lastOffsetDelta inconsistent with the count */
    rill__be32_put(be, 5);
    assert_int_equal(validate_changed(p, len, RB_BATCH_OFF_LAST_OFFSET_DELTA, be, 4, len),
                     RB_LOG_ERR_INVALID_RECORD);
    /* an unknown codec */
    rill__be16_put(be, 5);
    assert_int_equal(validate_changed(p, len, RB_BATCH_OFF_ATTRIBUTES, be, 2, len),
                     RB_LOG_ERR_INVALID_RECORD);
    /* transactional without a producer id */
    rill__be16_put(be, RB_BATCH_ATTR_TRANSACTIONAL);
    assert_int_equal(validate_changed(p, len, RB_BATCH_OFF_ATTRIBUTES, be, 2, len),
                     RB_LOG_ERR_INVALID_RECORD);
    /* first record: length varint is at 61, attributes 62, ts delta 63 (0 = 1 byte),
     * offset delta at 64: make it 1 (zigzag 2) so the deltas do not run 0..n-1 */
    uint8_t two = 2;
    assert_int_equal(p[64], 0);
    assert_int_equal(validate_changed(p, len, 64, &two, 1, len), RB_LOG_ERR_INVALID_RECORD);
    /* a record length past the batch end */
    uint8_t big = 0x7e; /* zigzag 63 */
    assert_int_equal(validate_changed(p, len, 61, &big, 1, len), RB_LOG_ERR_INVALID_RECORD);
    /* a negative record length */
    uint8_t neg = 0x01; /* zigzag -1 */
    assert_int_equal(validate_changed(p, len, 61, &neg, 1, len), RB_LOG_ERR_INVALID_RECORD);
    /* a key length beyond the record: key length varint at 65 */
    uint8_t klen = 0x7e;
    assert_int_equal(validate_changed(p, len, 65, &klen, 1, len), RB_LOG_ERR_INVALID_RECORD);
    /* garbage bytes after the last record (batch length grown to cover them) */
    g_autofree uint8_t *extra = g_malloc0(len + 3);
    memcpy(extra, p, len);
    rill__be32_put(extra + RB_BATCH_OFF_LENGTH, (uint32_t)(len + 3 - RB_BATCH_LOG_OVERHEAD));
    rb_batch_update_crc(extra, len + 3);
    assert_int_equal(rb_batch_validate(extra, len + 3, NULL), RB_LOG_ERR_INVALID_RECORD);
    /* and a bad CRC stays CORRUPT_MESSAGE */
    g_autofree uint8_t *q = g_memdup2(p, len);
    q[len - 1] ^= 1;
    assert_int_equal(rb_batch_validate(q, len, NULL), RB_LOG_ERR_CORRUPT_MESSAGE);
}

/* The validation walk takes the next record's start from the record
 * length; a record whose fields end before (or after) that length must
 * still be rejected, whatever follows it. Records of 100-byte values use
 * two-byte length varints (the walk's unrolled case). */
static void test_batch__validate_record_padding_and_two_byte_lengths(void **state)
{
    (void)state;
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    char value[100];
    memset(value, 'v', sizeof(value));
    for (int i = 0; i < 3; i++)
        rb_batch_builder_add(&b, 1700000000000 + i, NULL, -1, value, sizeof(value), NULL, 0);
    size_t len;
    g_autofree uint8_t *p = rb_batch_builder_finish(&b, &len);
    rb_batch_info_t info;
    assert_int_equal(rb_batch_validate(p, len, &info), 0);
    assert_int_equal(info.record_count, 3);
    assert_int_equal(info.max_timestamp, 1700000000002);
    assert_true(info.null_key);

    /* record 0: length varint at 61, two bytes (zigzag of ~108 is over 127) */
    const size_t at = RB_BATCH_HEADER_SIZE;
    assert_true(p[at] & 0x80);
    assert_false(p[at + 1] & 0x80);
    uint64_t zz = (uint64_t)(p[at] & 0x7f) | ((uint64_t)p[at + 1] << 7);
    int64_t rlen = (int64_t)(zz >> 1);
    /* a padded record 0: its length covers one more byte than its fields, the
     * byte is inserted, the batch length and CRC fixed: the framing is
     * consistent, the record is not */
    g_autofree uint8_t *pad = g_malloc(len + 1);
    size_t rec_end = at + 2 + (size_t)rlen;
    memcpy(pad, p, rec_end);
    pad[rec_end] = 0;
    memcpy(pad + rec_end + 1, p + rec_end, len - rec_end);
    uint64_t zz1 = (uint64_t)(rlen + 1) << 1;
    assert_true(zz1 < (1u << 14));
    pad[at] = (uint8_t)(0x80 | (zz1 & 0x7f));
    pad[at + 1] = (uint8_t)(zz1 >> 7);
    rill__be32_put(pad + RB_BATCH_OFF_LENGTH, (uint32_t)(len + 1 - RB_BATCH_LOG_OVERHEAD));
    rb_batch_update_crc(pad, len + 1);
    assert_int_equal(rb_batch_check(pad, len + 1, NULL), 0);
    assert_int_equal(rb_batch_validate(pad, len + 1, NULL), RB_LOG_ERR_INVALID_RECORD);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, pad, len + 1);
    assert_int_equal(rb_record_iter_next(&it, &rec), -1); /* the iterator agrees */

    /* record 0 one byte short (its value runs into record 1) */
    g_autofree uint8_t *shrt = g_memdup2(p, len);
    uint64_t zzs = (uint64_t)(rlen - 1) << 1;
    shrt[at] = (uint8_t)(0x80 | (zzs & 0x7f));
    shrt[at + 1] = (uint8_t)(zzs >> 7);
    rb_batch_update_crc(shrt, len);
    assert_int_equal(rb_batch_validate(shrt, len, NULL), RB_LOG_ERR_INVALID_RECORD);

    /* a value length varint cut by the end of its record (last record) */
    g_autofree uint8_t *cut = g_memdup2(p, len);
    assert_int_equal(rb_batch_validate(cut, len, NULL), 0);
    cut[len - 1] = 0x80; /* headers count: a varint that never ends */
    rb_batch_update_crc(cut, len);
    assert_int_equal(rb_batch_validate(cut, len, NULL), RB_LOG_ERR_INVALID_RECORD);
}

static void test_batch__compressed_batch_is_opaque(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_n(3, 1000, &len);
    uint8_t attrs[2];
    rill__be16_put(attrs, RB_COMPRESSION_ZSTD);
    memcpy(p + RB_BATCH_OFF_ATTRIBUTES, attrs, 2);
    memset(p + RB_BATCH_HEADER_SIZE, 0xab, len - RB_BATCH_HEADER_SIZE); /* "compressed" */
    rb_batch_update_crc(p, len);
    rb_batch_info_t info;
    assert_int_equal(rb_batch_validate(p, len, &info), 0);
    assert_true(info.compressed);
    assert_int_equal(info.record_count, 3);
    rb_record_iter_t it;
    rb_record_t rec;
    assert_int_equal(rb_record_iter_init(&it, p, len), RB_LOG_ERR_INVALID_RECORD);
    assert_int_equal(rb_record_iter_next(&it, &rec), -1);
}

static void test_batch__iterator_stops_at_malformed_record(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_n(2, 0, &len);
    p[61] = 0x7e; /* first record claims 63 bytes */
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    assert_int_equal(rb_record_iter_next(&it, &rec), -1);
    assert_true(it.err);
    assert_int_equal(rb_record_iter_next(&it, &rec), -1);
}

static void test_batch__many_records_round_trip(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_n(1000, 5000, &len);
    rb_batch_info_t info;
    assert_int_equal(rb_batch_validate(p, len, &info), 0);
    assert_int_equal(info.record_count, 1000);
    assert_int_equal(info.max_timestamp, 5999);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    int n = 0;
    while (rb_record_iter_next(&it, &rec) == 1) {
        char value[64];
        int vl = g_snprintf(value, sizeof(value), "value-%d", n);
        assert_int_equal(rec.offset, n);
        assert_int_equal(rec.timestamp, 5000 + n);
        assert_int_equal(rec.value_len, vl);
        assert_memory_equal(rec.value, value, (size_t)vl);
        n++;
    }
    assert_int_equal(n, 1000);
}

static void test_batch__add_record_copies_with_offsets(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_two(&len);
    rb_batch_set_base_offset(p, 100);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    rb_record_t first, second;
    assert_int_equal(rb_record_iter_next(&it, &first), 1);
    assert_int_equal(rb_record_iter_next(&it, &second), 1);

    /* keep only the second record, at its own offset, and the batch's range */
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 100);
    rb_batch_builder_add_record(&b, &second);
    size_t clen;
    g_autofree uint8_t *c = rb_batch_builder_finish(&b, &clen);
    assert_int_equal(rb_batch_check(c, clen, NULL), 0);
    assert_int_equal(rb_batch_records_count(c), 1);
    assert_int_equal(rb_batch_last_offset_delta(c), 1);
    rb_record_iter_init(&it, c, clen);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rec.offset, 101);
    assert_true(rec.timestamp == 1700000000005);
    assert_memory_equal(rec.value, "world", 5);

    /* a copy of both is the original, byte for byte (headers too) */
    rb_batch_builder_init(&b, 100);
    rb_batch_builder_add_record(&b, &first);
    rb_batch_builder_add_record(&b, &second);
    g_autofree uint8_t *d = rb_batch_builder_finish(&b, &clen);
    assert_int_equal(clen, len);
    assert_memory_equal(d, p, len);
}

/* Found by the fuzz driver: a varint whose 10th byte carries more than the
 * 64th bit was accepted by the validation walk (as 0) but not by the iterator. */
static void test_batch__overlong_varint_rejected_everywhere(void **state)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    rb_batch_builder_add(&b, 0, "k", 1, "012345678", 9, NULL, 0);
    size_t len;
    g_autofree uint8_t *p = rb_batch_builder_finish(&b, &len);
    /* record: len(61) attr(62) ts(63) off(64) klen(65) 'k'(66) vlen(67)
     * value(68..76) headers(77) */
    assert_int_equal(p[67], 18); /* zigzag(9) */
    assert_int_equal(p[77], 0);
    /* vlen and the value become one 10-byte varint whose low 64 bits say 0 but
     * whose 10th byte carries junk: read as 0, the record would parse */
    memset(p + 67, 0x80, 9);
    p[76] = 0x78;
    rb_batch_update_crc(p, len);
    assert_int_equal(rb_batch_validate(p, len, NULL), RB_LOG_ERR_INVALID_RECORD);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    assert_int_equal(rb_record_iter_next(&it, &rec), -1);
}

/* Found by the fuzz driver: offsets near INT64_MIN/MAX in a garbage header
 * made the iterator overflow (UBSan); they wrap now. */
static void test_batch__extreme_base_offset_does_not_overflow(void **state)
{
    size_t len;
    g_autofree uint8_t *p = build_two(&len);
    rb_batch_set_base_offset(p, INT64_MAX);
    assert_true(rb_batch_next_offset(p) == INT64_MIN + 1);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, p, len);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    assert_true(rec.offset == INT64_MIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch__builder_matches_kafka_python),
        cmocka_unit_test(test_batch__header_accessors),
        cmocka_unit_test(test_batch__builder_header_fields),
        cmocka_unit_test(test_batch__iterate_records_and_headers),
        cmocka_unit_test(test_batch__null_value_empty_key_and_negative_delta),
        cmocka_unit_test(test_batch__rewrites_keep_crc_valid),
        cmocka_unit_test(test_batch__check_rejects_structure),
        cmocka_unit_test(test_batch__validate_rejects_content),
        cmocka_unit_test(test_batch__validate_record_padding_and_two_byte_lengths),
        cmocka_unit_test(test_batch__compressed_batch_is_opaque),
        cmocka_unit_test(test_batch__iterator_stops_at_malformed_record),
        cmocka_unit_test(test_batch__many_records_round_trip),
        cmocka_unit_test(test_batch__add_record_copies_with_offsets),
        cmocka_unit_test(test_batch__overlong_varint_rejected_everywhere),
        cmocka_unit_test(test_batch__extreme_base_offset_does_not_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
