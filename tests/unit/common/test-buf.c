/* test-buf.c: the wire-format writer and reader: byte order, varints, bounds. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "common/buf.h"

static void test_buf__big_endian_round_trip(void **state)
{
    rill_wbuf_t w;
    rill__wbuf_init(&w, 0);
    rill__wbuf_put_u8(&w, 0xab);
    rill__wbuf_put_i16(&w, -2);
    rill__wbuf_put_i32(&w, 0x01020304);
    rill__wbuf_put_i64(&w, INT64_MIN);
    rill__wbuf_put_f64(&w, 3.25);
    assert_int_equal(w.len, 1 + 2 + 4 + 8 + 8);
    assert_int_equal(w.data[3], 0x01); /* big-endian on the wire */
    assert_int_equal(w.data[6], 0x04);

    rill_rbuf_t r;
    rill__rbuf_init(&r, w.data, w.len);
    assert_int_equal(rill__rbuf_get_u8(&r), 0xab);
    assert_int_equal(rill__rbuf_get_i16(&r), -2);
    assert_int_equal(rill__rbuf_get_i32(&r), 0x01020304);
    assert_true(rill__rbuf_get_i64(&r) == INT64_MIN);
    assert_true(rill__rbuf_get_f64(&r) == 3.25);
    assert_false(r.err);
    assert_int_equal(rill__rbuf_remaining(&r), 0);
    rill__wbuf_free(&w);
}

static void test_buf__varints(void **state)
{
    const int64_t values[] = {0, 1, -1, 63, -64, 64, 300, -300, INT32_MAX, INT32_MIN,
                              INT64_MAX, INT64_MIN};
    rill_wbuf_t w;
    rill__wbuf_init(&w, 4);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        rill__wbuf_put_varint(&w, values[i]);
        rill__wbuf_put_uvarint(&w, (uint64_t)values[i]);
    }
    rill_rbuf_t r;
    rill__rbuf_init(&r, w.data, w.len);
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        assert_true(rill__rbuf_get_varint(&r) == values[i]);
        assert_true(rill__rbuf_get_uvarint(&r) == (uint64_t)values[i]);
    }
    assert_false(r.err);
    rill__wbuf_free(&w);

    /* known encodings: zigzag(-1) = 1, 300 = ac 02 */
    uint8_t out[10];
    assert_int_equal(rill__uvarint_encode(out, rill__zigzag_encode(-1)), 1);
    assert_int_equal(out[0], 1);
    assert_int_equal(rill__uvarint_encode(out, 300), 2);
    assert_int_equal(out[0], 0xac);
    assert_int_equal(out[1], 0x02);
    assert_int_equal(rill__uvarint_size(300), 2);
    assert_int_equal(rill__uvarint_size(UINT64_MAX), 10);
}

static void test_buf__reader_is_bounded_and_sticky(void **state)
{
    const uint8_t data[] = {0x00, 0x01, 0x02};
    rill_rbuf_t r;
    rill__rbuf_init(&r, data, sizeof(data));
    assert_int_equal(rill__rbuf_get_i16(&r), 1);
    assert_int_equal(rill__rbuf_get_i32(&r), 0); /* past the end */
    assert_true(r.err);
    assert_int_equal(rill__rbuf_get_u8(&r), 0); /* stays failed */
    assert_true(r.err);

    /* an unterminated varint and an 11-byte varint are both errors */
    const uint8_t open[] = {0x80, 0x80};
    rill__rbuf_init(&r, open, sizeof(open));
    rill__rbuf_get_uvarint(&r);
    assert_true(r.err);
    uint8_t longv[11];
    memset(longv, 0xff, sizeof(longv));
    uint64_t v;
    assert_int_equal(rill__uvarint_decode(longv, sizeof(longv), &v), 0);
}

static void test_buf__patch_and_steal(void **state)
{
    rill_wbuf_t w;
    rill__wbuf_init(&w, 0);
    rill__wbuf_put_i32(&w, 0);
    rill__wbuf_put(&w, "abc", 3);
    rill__wbuf_patch_i32(&w, 0, 3);
    size_t len;
    uint8_t *p = rill__wbuf_steal(&w, &len);
    assert_int_equal(len, 7);
    assert_int_equal(rill__be32_get(p), 3);
    assert_memory_equal(p + 4, "abc", 3);
    assert_null(w.data);
    g_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf__big_endian_round_trip),
        cmocka_unit_test(test_buf__varints),
        cmocka_unit_test(test_buf__reader_is_bounded_and_sticky),
        cmocka_unit_test(test_buf__patch_and_steal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
