/* test-serde.c: the built-in serdes round-trip and reject malformed input;
 * user serdes; values and their ownership. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <json-glib/json-glib.h>

#include <rill/rill.h>

#include "runtime/partitioner.h"

/* serializes v with serde and deserializes the bytes back into out */
static void round_trip(const rill_serde_t *serde, const rill_value_t *v, rill_value_t *out,
                       size_t expect_len)
{
    rill_buffer_t *buffer = rill_buffer_new();
    const void *data = NULL;
    size_t len = 0;
    rill_error_t *error = NULL;
    assert_int_equal(rill_serde_serialize(serde, v, buffer, &data, &len, &error), RILL_OK);
    assert_null(error);
    assert_int_equal(len, expect_len);
    assert_int_equal(rill_serde_deserialize(serde, data, len, out, &error), RILL_OK);
    assert_null(error);
    rill_buffer_destroy(buffer);
}

static void test_serde__numbers_round_trip_big_endian(void **state)
{
    rill_value_t *v = rill_value_new(), *out = rill_value_new();
    rill_value_set_int32(v, -123456);
    round_trip(rill_serde_int32(), v, out, 4);
    assert_int_equal(rill_value_type(out), RILL_VALUE_INT32);
    assert_int_equal(rill_value_int32(out), -123456);

    rill_value_set_int64(v, INT64_MIN + 7);
    round_trip(rill_serde_int64(), v, out, 8);
    assert_true(rill_value_int64(out) == INT64_MIN + 7);

    rill_value_set_double(v, -2.5e300);
    round_trip(rill_serde_double(), v, out, 8);
    assert_true(rill_value_double(out) == -2.5e300);

    /* the wire bytes are big-endian, as Kafka's IntegerSerializer */
    rill_buffer_t *buffer = rill_buffer_new();
    const void *data;
    size_t len;
    rill_value_set_int32(v, 0x01020304);
    assert_int_equal(rill_serde_serialize(rill_serde_int32(), v, buffer, &data, &len, NULL),
                     RILL_OK);
    assert_memory_equal(data, "\x01\x02\x03\x04", 4);
    rill_value_set_int64(v, 1);
    assert_int_equal(rill_serde_serialize(rill_serde_int64(), v, buffer, &data, &len, NULL),
                     RILL_OK);
    assert_memory_equal(data, "\0\0\0\0\0\0\0\x01", 8);
    rill_buffer_destroy(buffer);
    rill_value_destroy(v);
    rill_value_destroy(out);
}

static void test_serde__numbers_reject_wrong_length(void **state)
{
    rill_value_t *out = rill_value_new();
    rill_error_t *error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_int64(), "abc", 3, out, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "expected 8 bytes, got 3"));
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_int32(), "abcde", 5, out, &error),
                     RILL_ERR_SERDE);
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_double(), "", 0, out, &error),
                     RILL_ERR_SERDE);
    rill_error_destroy(error);
    assert_true(rill_value_is_null(out));
    rill_value_destroy(out);
}

static void test_serde__string_round_trip_and_invalid_utf8(void **state)
{
    rill_value_t *v = rill_value_new(), *out = rill_value_new();
    rill_value_set_string(v, "grüße", NULL);
    round_trip(rill_serde_string(), v, out, strlen("grüße"));
    assert_string_equal(rill_value_string(out), "grüße");
    size_t len = 0;
    assert_non_null(rill_value_bytes(out, &len));
    assert_int_equal(len, strlen("grüße"));

    rill_error_t *error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_string(), "ab\xff\xfe", 4, out, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "invalid UTF-8 at byte 2"));
    rill_error_destroy(error);
    /* embedded NULs (which would cut a C string short), early and past the fast path */
    error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_string(), "ab\0d", 4, out, &error),
                     RILL_ERR_SERDE);
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_string(), "abcdefgh\0jk", 11, out, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "at byte 8 of 11"));
    rill_error_destroy(error);
    /* long ASCII, then multi-byte characters after the fast path */
    const char *mixed = "0123456789abcdefé€𝄞";
    assert_int_equal(rill_serde_deserialize(rill_serde_string(), mixed, strlen(mixed), out, NULL),
                     RILL_OK);
    assert_string_equal(rill_value_string(out), mixed);
    /* a string is not an int64 */
    rill_buffer_t *buffer = rill_buffer_new();
    const void *data;
    error = NULL;
    assert_int_equal(rill_serde_serialize(rill_serde_int64(), v, buffer, &data, &len, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "cannot serialize a string value"));
    rill_error_destroy(error);
    rill_buffer_destroy(buffer);
    rill_value_destroy(v);
    rill_value_destroy(out);
}

static void test_serde__bytes_keep_embedded_nuls(void **state)
{
    rill_value_t *v = rill_value_new(), *out = rill_value_new();
    rill_value_set_bytes(v, "a\0b", 3, NULL);
    round_trip(rill_serde_bytes(), v, out, 3);
    size_t len;
    const void *bytes = rill_value_bytes(out, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(bytes, "a\0b", 3);
    assert_null(rill_value_string(out)); /* bytes are not a string */
    rill_value_destroy(v);
    rill_value_destroy(out);
}

static void test_serde__null_stays_null(void **state)
{
    rill_value_t *v = rill_value_new(), *out = rill_value_new();
    rill_buffer_t *buffer = rill_buffer_new();
    const void *data = "x";
    size_t len = 9;
    assert_int_equal(rill_serde_serialize(rill_serde_int64(), v, buffer, &data, &len, NULL),
                     RILL_OK);
    assert_null(data);
    assert_int_equal(len, 0);
    rill_value_set_int64(out, 5);
    assert_int_equal(rill_serde_deserialize(rill_serde_int64(), NULL, 0, out, NULL), RILL_OK);
    assert_true(rill_value_is_null(out));
    rill_buffer_destroy(buffer);
    rill_value_destroy(v);
    rill_value_destroy(out);
}

static void test_serde__json_round_trip_and_malformed(void **state)
{
    rill_value_t *out = rill_value_new();
    const char *doc = "{\"user\":\"ann\",\"amount\":42}";
    assert_int_equal(rill_serde_deserialize(rill_serde_json(), doc, strlen(doc), out, NULL),
                     RILL_OK);
    JsonNode *node = rill_value_json(out);
    assert_non_null(node);
    JsonObject *object = json_node_get_object(node);
    assert_string_equal(json_object_get_string_member(object, "user"), "ann");
    assert_int_equal(json_object_get_int_member(object, "amount"), 42);

    rill_buffer_t *buffer = rill_buffer_new();
    const void *data;
    size_t len;
    assert_int_equal(rill_serde_serialize(rill_serde_json(), out, buffer, &data, &len, NULL),
                     RILL_OK);
    g_autofree char *text = g_strndup(data, len);
    assert_string_equal(text, doc);

    rill_error_t *error = NULL;
    assert_int_equal(rill_serde_deserialize(rill_serde_json(), "{\"a\":", 5, out, &error),
                     RILL_ERR_SERDE);
    assert_non_null(strstr(rill_error_message(error), "json serde"));
    rill_error_destroy(error);
    rill_buffer_destroy(buffer);
    rill_value_destroy(out);
}

/* a user serde for a point {x, y} written as "x,y" */
typedef struct point {
    int x, y;
} point_t;

static int destroyed;

static rill_err_t point_serialize(const rill_value_t *value, rill_buffer_t *out, void *user_data,
                                  rill_error_t **error)
{
    const point_t *p = rill_value_pointer(value, NULL);
    if (p == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "not a point");
    char text[32];
    int n = snprintf(text, sizeof text, "%d,%d", p->x, p->y);
    rill_buffer_append(out, text, (size_t)n);
    return RILL_OK;
}

static rill_err_t point_deserialize(const void *data, size_t len, rill_value_t *out,
                                    void *user_data, rill_error_t **error)
{
    g_autofree char *text = g_strndup(data, len);
    point_t *p = g_new0(point_t, 1);
    if (sscanf(text, "%d,%d", &p->x, &p->y) != 2) {
        g_free(p);
        return rill_error_set(error, RILL_ERR_SERDE, "'%s' is not x,y", text);
    }
    rill_value_set_pointer(out, p, sizeof *p, g_free);
    return RILL_OK;
}

static void count_destroy(void *user_data)
{
    destroyed++;
}

static void test_serde__user_serde_round_trip_and_refcount(void **state)
{
    destroyed = 0;
    rill_serde_t *serde =
        rill_serde_new("point", point_serialize, point_deserialize, NULL, count_destroy);
    assert_string_equal(rill_serde_name(serde), "point");
    rill_value_t *v = rill_value_new(), *out = rill_value_new();
    point_t *p = g_new0(point_t, 1);
    p->x = 3;
    p->y = -4;
    rill_value_set_pointer(v, p, sizeof *p, g_free);
    round_trip(serde, v, out, 4);
    const point_t *q = rill_value_pointer(out, NULL);
    assert_int_equal(q->x, 3);
    assert_int_equal(q->y, -4);

    rill_error_t *error = NULL;
    assert_int_equal(rill_serde_deserialize(serde, "zz", 2, out, &error), RILL_ERR_SERDE);
    assert_string_equal(rill_error_message(error), "point serde: 'zz' is not x,y");
    rill_error_destroy(error);

    rill_serde_ref(serde);
    rill_serde_unref(serde);
    assert_int_equal(destroyed, 0);
    rill_serde_unref(serde);
    assert_int_equal(destroyed, 1);
    rill_value_destroy(v);
    rill_value_destroy(out);
}

static int freed;
static void count_free(void *ptr)
{
    freed++;
}

static void test_value__setters_release_what_they_owned(void **state)
{
    freed = 0;
    rill_value_t *v = rill_value_new();
    static char text[] = "owned";
    rill_value_set_string(v, text, count_free);
    assert_int_equal(freed, 0);
    rill_value_set_int64(v, 9); /* releases the string */
    assert_int_equal(freed, 1);
    assert_int_equal(rill_value_int64(v), 9);
    assert_null(rill_value_string(v));
    rill_value_set_bytes(v, text, 2, count_free);
    rill_value_t *view = rill_value_new();
    rill_value_set_view(view, v);
    rill_value_destroy(view); /* a view owns nothing */
    assert_int_equal(freed, 1);
    rill_value_set_null(v);
    assert_int_equal(freed, 2);
    assert_true(rill_value_is_null(v));
    rill_value_set_string(v, NULL, count_free); /* NULL is a null value */
    assert_true(rill_value_is_null(v));
    rill_value_destroy(v);
    assert_int_equal(freed, 2);
}

/* Any bytes either deserialize or give RILL_ERR_SERDE; what deserializes
 * serializes back to the same bytes (JSON: to a document that parses again). */
static void test_serde__random_input_round_trips_or_fails_cleanly(void **state)
{
    const rill_serde_t *serdes[] = {rill_serde_bytes(), rill_serde_string(), rill_serde_int32(),
                                    rill_serde_int64(), rill_serde_double(), rill_serde_json()};
    GRand *rand = g_rand_new_with_seed(20261125);
    rill_value_t *value = rill_value_new(), *again = rill_value_new();
    rill_buffer_t *buffer = rill_buffer_new();
    int ok[G_N_ELEMENTS(serdes)] = {0}, failed[G_N_ELEMENTS(serdes)] = {0};
    for (int round = 0; round < 3000; round++) {
        uint8_t data[24];
        size_t len = (size_t)g_rand_int_range(rand, 0, sizeof data + 1);
        bool ascii = g_rand_boolean(rand);
        for (size_t i = 0; i < len; i++)
            data[i] = ascii ? (uint8_t) "{}[]\":,0123456789 abcnul"[g_rand_int_range(rand, 0, 25)]
                            : (uint8_t)g_rand_int_range(rand, 0, 256);
        if (round % 7 == 0 && len >= 4) /* well-formed now and then */
            memcpy(data, "[1,2", 4), data[len - 1] = ']';
        for (size_t s = 0; s < G_N_ELEMENTS(serdes); s++) {
            rill_error_t *error = NULL;
            rill_err_t err = rill_serde_deserialize(serdes[s], data, len, value, &error);
            if (err != RILL_OK) {
                assert_int_equal(err, RILL_ERR_SERDE);
                assert_non_null(error);
                rill_error_destroy(error);
                failed[s]++;
                continue;
            }
            ok[s]++;
            const void *out;
            size_t out_len;
            assert_int_equal(rill_serde_serialize(serdes[s], value, buffer, &out, &out_len, NULL),
                             RILL_OK);
            if (serdes[s] == rill_serde_json()) {
                assert_int_equal(rill_serde_deserialize(serdes[s], out, out_len, again, NULL),
                                 RILL_OK);
            } else {
                assert_int_equal(out_len, len);
                assert_memory_equal(out, data, len);
            }
        }
    }
    /* each serde saw both outcomes, except bytes, which takes anything */
    assert_int_equal(failed[0], 0);
    for (size_t s = 1; s < G_N_ELEMENTS(serdes); s++) {
        assert_true(ok[s] > 0);
        assert_true(failed[s] > 0);
    }
    rill_buffer_destroy(buffer);
    rill_value_destroy(value);
    rill_value_destroy(again);
    g_rand_free(rand);
}

static void test_partitioner__murmur2_matches_kafka(void **state)
{
    /* the vectors of Kafka's UtilsTest.testMurmur2 */
    assert_int_equal(rill__murmur2("21", 2), -973932308);
    assert_int_equal(rill__murmur2("foobar", 6), -790332482);
    assert_int_equal(rill__murmur2("a-little-bit-long-string", 24), -985981536);
    assert_int_equal(rill__murmur2("a-little-bit-longer-string", 26), -1486304829);
    assert_int_equal(rill__murmur2("abc", 3), 479470107);
    assert_int_equal(rill__default_partition(NULL, 0, 8), 0);
    assert_in_range(rill__default_partition("key", 3, 8), 0, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_serde__numbers_round_trip_big_endian),
        cmocka_unit_test(test_serde__numbers_reject_wrong_length),
        cmocka_unit_test(test_serde__string_round_trip_and_invalid_utf8),
        cmocka_unit_test(test_serde__bytes_keep_embedded_nuls),
        cmocka_unit_test(test_serde__null_stays_null),
        cmocka_unit_test(test_serde__json_round_trip_and_malformed),
        cmocka_unit_test(test_serde__user_serde_round_trip_and_refcount),
        cmocka_unit_test(test_value__setters_release_what_they_owned),
        cmocka_unit_test(test_serde__random_input_round_trips_or_fails_cleanly),
        cmocka_unit_test(test_partitioner__murmur2_matches_kafka),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
