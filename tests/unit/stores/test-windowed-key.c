/* test-windowed-key.c: the windowed key layouts: order-preserving and prefix-free store keys, output-topic serdes, changelog topic configs.
 *
 * The store-key properties are checked against a model over random keys
 * (with many 0x00 and 0xff bytes, the bytes the escaping is about): byte
 * order of the encodings must equal the order of (key, time, seq), and
 * every encoding must decode back. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stores/kv.h"
#include "stores/window.h"
#include "stores/windowed-key.h"

typedef struct wk {
    uint8_t key[6];
    size_t key_len;
    int64_t t;
    uint32_t seq;
    GByteArray *enc;
} wk_t;

static int model_cmp(const wk_t *a, const wk_t *b)
{
    int c = rill__kv_key_compare(a->key, a->key_len, b->key, b->key_len);
    if (c)
        return c;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static int sign(int x)
{
    return (x > 0) - (x < 0);
}

static void test_wkey__order_matches_key_then_time_then_seq(void **state)
{
    enum { N = 400 };
    static const int64_t times[] = {INT64_MIN, -1000, -1, 0, 1, 255, 256, 60000, INT64_MAX};
    static const uint8_t bytes[] = {0x00, 0x01, 0x02, 0x7f, 0xfe, 0xff};
    GRand *rand = g_rand_new_with_seed(42);
    wk_t *w = g_new0(wk_t, N);
    for (int i = 0; i < N; i++) {
        w[i].key_len = (size_t)g_rand_int_range(rand, 0, 6);
        for (size_t j = 0; j < w[i].key_len; j++)
            w[i].key[j] = bytes[g_rand_int_range(rand, 0, G_N_ELEMENTS(bytes))];
        w[i].t = times[g_rand_int_range(rand, 0, G_N_ELEMENTS(times))];
        w[i].seq = (uint32_t)g_rand_int_range(rand, 0, 3) * 0x7fffffffu;
        w[i].enc = g_byte_array_new();
        rill__wkey_window(w[i].enc, w[i].key, w[i].key_len, w[i].t, w[i].seq);
        assert_int_equal(w[i].enc->len, rill__wkey_prefix_len(w[i].key, w[i].key_len) + 12);
    }
    GByteArray *dec = g_byte_array_new();
    for (int i = 0; i < N; i++) {
        const uint8_t *suffix;
        assert_true(rill__wkey_decode(w[i].enc->data, w[i].enc->len, RILL__WINDOW_SUFFIX_LEN, dec,
                                      &suffix));
        assert_int_equal(dec->len, w[i].key_len);
        if (w[i].key_len)
            assert_memory_equal(dec->data, w[i].key, w[i].key_len);
        assert_int_equal(rill__wkey_time_get(suffix), w[i].t);
        for (int j = 0; j < N; j++) {
            int enc = rill__kv_key_compare(w[i].enc->data, w[i].enc->len, w[j].enc->data,
                                           w[j].enc->len);
            assert_int_equal(sign(enc), sign(model_cmp(&w[i], &w[j])));
            /* prefix-free: one key's prefix P = E(key) 00 01 starts no other key's encoding */
            size_t pl = rill__wkey_prefix_len(w[i].key, w[i].key_len);
            bool same_key = rill__kv_key_compare(w[i].key, w[i].key_len, w[j].key,
                                                 w[j].key_len) == 0;
            assert_int_equal(memcmp(w[i].enc->data, w[j].enc->data, pl) == 0, same_key);
        }
    }
    for (int i = 0; i < N; i++)
        g_byte_array_unref(w[i].enc);
    g_free(w);
    g_byte_array_unref(dec);
    g_rand_free(rand);
}

static void test_wkey__decode_rejects_bad_bytes(void **state)
{
    GByteArray *out = g_byte_array_new();
    uint8_t buf[32] = {0};
    /* too short */
    assert_false(rill__wkey_decode(buf, 13, 12, out, NULL));
    /* no terminator before the suffix */
    memset(buf, 'a', sizeof buf);
    assert_false(rill__wkey_decode(buf, 20, 12, out, NULL));
    /* an unescaped 0x00 inside the key */
    memcpy(buf, "a\x00" "b\x00\x01", 5);
    assert_false(rill__wkey_decode(buf, 5 + 12, 12, out, NULL));
    /* a valid one: "a\0" escaped */
    memcpy(buf, "a\x00\xff\x00\x01", 5);
    assert_true(rill__wkey_decode(buf, 5 + 12, 12, out, NULL));
    assert_int_equal(out->len, 2);
    assert_memory_equal(out->data, "a\0", 2);
    /* the session layout decodes end then start */
    rill__wkey_session(out, "k", 1, 5, 9);
    GByteArray *k = g_byte_array_new();
    const uint8_t *suffix;
    assert_true(rill__wkey_decode(out->data, out->len, RILL__SESSION_SUFFIX_LEN, k, &suffix));
    assert_int_equal(rill__wkey_time_get(suffix), 9);
    assert_int_equal(rill__wkey_time_get(suffix + 8), 5);
    g_byte_array_unref(k);
    g_byte_array_unref(out);
}

static void test_windowed_serde__round_trips_in_kafka_layout(void **state)
{
    size_t len;
    uint8_t *b = rill__windowed_serialize("user-1", 6, 1700000000000, &len);
    assert_int_equal(len, 14);
    /* Kafka Streams' TimeWindowedSerializer: key bytes, then the start as a big-endian long */
    static const uint8_t start_be[8] = {0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00};
    assert_memory_equal(b, "user-1", 6);
    assert_memory_equal(b + 6, start_be, 8);
    const void *key;
    size_t key_len;
    int64_t start, end;
    assert_int_equal(rill__windowed_deserialize(b, len, 60000, &key, &key_len, &start, &end, NULL),
                     RILL_OK);
    assert_int_equal(key_len, 6);
    assert_memory_equal(key, "user-1", 6);
    assert_int_equal(start, 1700000000000);
    assert_int_equal(end, 1700000060000);
    g_free(b);

    rill_error_t *error = NULL;
    assert_int_equal(rill__windowed_deserialize("short", 5, 1, &key, &key_len, &start, &end, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "5 bytes"));
    g_clear_pointer(&error, rill_error_destroy);

    b = rill__session_windowed_serialize("", 0, 10, 25, &len);
    assert_int_equal(len, 16);
    assert_int_equal(b[7], 25); /* end first, as SessionWindowedSerializer */
    assert_int_equal(b[15], 10);
    assert_int_equal(
        rill__session_windowed_deserialize(b, len, &key, &key_len, &start, &end, NULL), RILL_OK);
    assert_int_equal(key_len, 0);
    assert_int_equal(start, 10);
    assert_int_equal(end, 25);
    b[7] = 5; /* end before start */
    assert_int_equal(
        rill__session_windowed_deserialize(b, len, &key, &key_len, &start, &end, &error),
        RILL_ERR_SERDE);
    g_clear_pointer(&error, rill_error_destroy);
    assert_int_equal(rill__session_windowed_deserialize(b, 15, &key, &key_len, &start, &end, &error),
                     RILL_ERR_SERDE);
    g_clear_pointer(&error, rill_error_destroy);
    g_free(b);
}

static void test_windowed_changelog__config_is_compact_delete_with_extra_retention(void **state)
{
    char **c = rill__windowed_changelog_config(3600000, -1);
    assert_string_equal(c[0], "cleanup.policy");
    assert_string_equal(c[1], "compact,delete");
    assert_string_equal(c[2], "retention.ms");
    assert_string_equal(c[3], "90000000"); /* 1 h + 24 h */
    assert_string_equal(c[4], "message.timestamp.type");
    assert_string_equal(c[5], "CreateTime");
    assert_null(c[6]);
    g_strfreev(c);
    c = rill__windowed_changelog_config(1000, 0);
    assert_string_equal(c[3], "1000");
    g_strfreev(c);
    c = rill__windowed_changelog_config(INT64_MAX - 5, -1);
    assert_string_equal(c[3], "9223372036854775807"); /* saturates */
    g_strfreev(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wkey__order_matches_key_then_time_then_seq),
        cmocka_unit_test(test_wkey__decode_rejects_bad_bytes),
        cmocka_unit_test(test_windowed_serde__round_trips_in_kafka_layout),
        cmocka_unit_test(test_windowed_changelog__config_is_compact_delete_with_extra_retention),
    };
    return cmocka_run_group_tests_name("windowed-key", tests, NULL, NULL);
}
