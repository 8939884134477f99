/* test-protocol.c: the generated Kafka codec: round trips of every message at
 * every served version, real client requests byte for byte, and garbage. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "broker/protocol/messages-gen.h"

/* ---- a generic filler driven by the descriptors ------------------------- */

static const char *const words[] = {
    "", "a", "topic-1", "retention.ms", "rill", "\xc3\xa9t\xc3\xa9"};

static bool present(const rb_field_desc_t *f, int16_t v)
{
    return v >= f->vmin && v <= f->vmax;
}

static bool nullable(const rb_field_desc_t *f, int16_t v)
{
    return v >= f->nmin && v <= f->nmax;
}

static void fill_struct(const rb_struct_desc_t *desc, int16_t v, GRand *rnd, rb_arena_t *arena,
                        void *out, int depth);

static void fill_value(const rb_field_desc_t *f, int16_t v, GRand *rnd, rb_arena_t *arena, void *p,
                       int depth)
{
    switch (f->type) {
    case RB_FT_BOOL:
        *(bool *)p = g_rand_boolean(rnd);
        break;
    case RB_FT_INT8:
        *(int8_t *)p = (int8_t)g_rand_int(rnd);
        break;
    case RB_FT_INT16:
    case RB_FT_UINT16:
        *(int16_t *)p = (int16_t)g_rand_int(rnd);
        break;
    case RB_FT_INT32:
    case RB_FT_UINT32:
        *(int32_t *)p = (int32_t)g_rand_int(rnd);
        break;
    case RB_FT_INT64:
        *(int64_t *)p = (int64_t)(((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd));
        break;
    case RB_FT_FLOAT64:
        *(double *)p = g_rand_double(rnd);
        break;
    case RB_FT_UUID:
        for (int i = 0; i < 16; i++)
            ((uint8_t *)p)[i] = (uint8_t)g_rand_int(rnd);
        break;
    case RB_FT_STRING:
        if (nullable(f, v) && g_rand_int_range(rnd, 0, 4) == 0)
            *(rb_str_t *)p = RB_STR_NULL;
        else
            *(rb_str_t *)p = rb_str_c(words[g_rand_int_range(rnd, 0, G_N_ELEMENTS(words))]);
        break;
    case RB_FT_BYTES:
    case RB_FT_RECORDS: {
        int32_t len = g_rand_int_range(rnd, 0, 40);
        if (nullable(f, v) && g_rand_int_range(rnd, 0, 4) == 0)
            len = -1;
        uint8_t *b = len > 0 ? rb_arena_alloc(arena, (size_t)len) : NULL;
        for (int32_t i = 0; i < len; i++)
            b[i] = (uint8_t)g_rand_int(rnd);
        if (f->type == RB_FT_BYTES)
            *(rb_bytes_t *)p = (rb_bytes_t){b, len};
        else
            *(rb_records_t *)p = (rb_records_t){b, len, -1, 0};
        break;
    }
    case RB_FT_STRUCT:
        fill_struct(f->sub, v, rnd, arena, p, depth + 1);
        break;
    }
}

static void fill_struct(const rb_struct_desc_t *desc, int16_t v, GRand *rnd, rb_arena_t *arena,
                        void *out, int depth)
{
    rb_proto_init(desc, out);
    for (uint32_t i = 0; i < desc->nfields; i++) {
        const rb_field_desc_t *f = &desc->fields[i];
        if (!present(f, v))
            continue;
        /* the encoder never writes tagged structs: leave them at their defaults */
        if (f->tag >= 0 && f->type == RB_FT_STRUCT && !f->array)
            continue;
        void *p = (uint8_t *)out + f->offset;
        if (!f->array) {
            fill_value(f, v, rnd, arena, p, depth);
            continue;
        }
        int32_t n = depth > 3 ? 0 : g_rand_int_range(rnd, 0, 4);
        if (nullable(f, v) && g_rand_int_range(rnd, 0, 4) == 0)
            n = -1;
        uint8_t *items = n > 0 ? rb_arena_alloc(arena, (size_t)n * f->elem_size) : NULL;
        for (int32_t k = 0; k < n; k++)
            fill_value(f, v, rnd, arena, items + (size_t)k * f->elem_size, depth);
        *(void **)p = items;
        *(int32_t *)((uint8_t *)out + f->count_offset) = n;
    }
}

/* encode(fill) == encode(decode(encode(fill))), and the decoder reads every
 * byte; every strict prefix fails to decode. */
static void round_trip(const rb_api_desc_t *api, const rb_msg_desc_t *msg, int16_t v, GRand *rnd)
{
    bool flex = rb_proto_is_flexible(api, v);
    rb_arena_t arena;
    rb_arena_init(&arena);
    void *a = rb_arena_alloc(&arena, msg->body->size);
    fill_struct(msg->body, v, rnd, &arena, a, 0);

    rb_enc_t e1, e2;
    rb_enc_init(&e1);
    rb_enc_init(&e2);
    rb_proto_encode(msg, v, flex, &e1, a);

    void *b = rb_arena_alloc(&arena, msg->body->size);
    rill_rbuf_t r;
    rill__rbuf_init(&r, e1.w.data, e1.w.len);
    if (rb_proto_decode(msg, v, flex, &r, &arena, b) != 0)
        fail_msg("%s v%d does not decode its own encoding", msg->name, v);
    assert_int_equal(rill__rbuf_remaining(&r), 0);
    rb_proto_encode(msg, v, flex, &e2, b);
    if (e1.w.len != e2.w.len || memcmp(e1.w.data, e2.w.data, e1.w.len) != 0)
        fail_msg("%s v%d: re-encoding differs", msg->name, v);

    for (size_t cut = 0; cut < e1.w.len; cut++) {
        rb_arena_t scratch;
        rb_arena_init(&scratch);
        void *c = rb_arena_alloc(&scratch, msg->body->size);
        rill__rbuf_init(&r, e1.w.data, cut);
        if (rb_proto_decode(msg, v, flex, &r, &scratch, c) == 0)
            fail_msg("%s v%d: a %zu-byte prefix of %zu decoded", msg->name, v, cut, e1.w.len);
        rb_arena_clear(&scratch);
    }
    rb_enc_free(&e1);
    rb_enc_free(&e2);
    rb_arena_clear(&arena);
}

static void test_protocol__round_trip_every_message_every_version(void **state)
{
    (void)state;
    GRand *rnd = g_rand_new_with_seed(42);
    int n = 0;
    for (size_t i = 0; i < rb_proto_n_apis; i++) {
        const rb_api_desc_t *api = &rb_proto_apis[i];
        assert_true(api->min_version <= api->max_version);
        for (int16_t v = api->min_version; v <= api->max_version; v++) {
            for (int k = 0; k < 20; k++) {
                round_trip(api, api->request, v, rnd);
                round_trip(api, api->response, v, rnd);
                n++;
            }
        }
    }
    assert_true(n > 13 * 20);
    g_rand_free(rnd);
}

/* ---- real client requests -------------------------------------------------- */

/* librdkafka 2.0.2's first request on every connection: ApiVersions v3,
 * header v2 (client id keeps its int16 length), compact strings, tags. */
static const uint8_t rdkafka_api_versions_v3[] = {
    0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01,                 /* key 18, v3, corr 1 */
    0x00, 0x07, 'r',  'd',  'k',  'a',  'f',  'k',  'a', 0x00,      /* client id, no tags */
    0x0b, 'l',  'i',  'b',  'r',  'd',  'k',  'a',  'f', 'k',  'a', /* compact "librdkafka" */
    0x06, '2',  '.',  '0',  '.',  '2',                              /* compact "2.0.2" */
    0x00,                                                           /* no tagged fields */
};

static void test_protocol__decodes_librdkafka_api_versions_v3(void **state)
{
    (void)state;
    rill_rbuf_t r;
    rill__rbuf_init(&r, rdkafka_api_versions_v3, sizeof(rdkafka_api_versions_v3));
    rb_req_header_t hdr;
    assert_int_equal(rb_proto_read_req_header(&r, true, &hdr), 0);
    assert_int_equal(hdr.api_key, RB_API_KEY_API_VERSIONS);
    assert_int_equal(hdr.api_version, 3);
    assert_int_equal(hdr.correlation_id, 1);
    assert_true(rb_str_eq(hdr.client_id, "rdkafka"));
    rb_arena_t arena;
    rb_arena_init(&arena);
    rb_api_versions_req_t req;
    assert_int_equal(rb_api_versions_req_decode(&r, 3, &arena, &req), 0);
    assert_true(rb_str_eq(req.client_software_name, "librdkafka"));
    assert_true(rb_str_eq(req.client_software_version, "2.0.2"));
    assert_int_equal(rill__rbuf_remaining(&r), 0);
    rb_arena_clear(&arena);
}

/* librdkafka's Metadata v4 for one topic with auto-creation allowed, and
 * kafka-python's v0 probe (empty array = all topics). */
static void test_protocol__decodes_metadata_requests(void **state)
{
    (void)state;
    static const uint8_t v4[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 't', '1', 0x01};
    rb_arena_t arena;
    rb_arena_init(&arena);
    rill_rbuf_t r;
    rill__rbuf_init(&r, v4, sizeof(v4));
    rb_metadata_req_t req;
    assert_int_equal(rb_metadata_req_decode(&r, 4, &arena, &req), 0);
    assert_int_equal(req.topics_count, 1);
    assert_true(rb_str_eq(req.topics[0].name, "t1"));
    assert_true(req.allow_auto_topic_creation);

    static const uint8_t v1_null[] = {0xff, 0xff, 0xff, 0xff};
    rill__rbuf_init(&r, v1_null, sizeof(v1_null));
    assert_int_equal(rb_metadata_req_decode(&r, 1, &arena, &req), 0);
    assert_int_equal(req.topics_count, -1);
    assert_true(req.allow_auto_topic_creation); /* the default below v4 */
    /* null is not allowed at v0 */
    rill__rbuf_init(&r, v1_null, sizeof(v1_null));
    assert_int_equal(rb_metadata_req_decode(&r, 0, &arena, &req), -1);
    rb_arena_clear(&arena);
}

static void test_protocol__decodes_produce_v7(void **state)
{
    (void)state;
    static const uint8_t v7[] = {
        0xff, 0xff,                                     /* transactional id: null */
        0xff, 0xff,                                     /* acks -1 */
        0x00, 0x00, 0x75, 0x30,                         /* timeout 30000 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'x',        /* one topic "x" */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* one partition: 2 */
        0x00, 0x00, 0x00, 0x04, 'a',  'b',  'c',  'd',  /* records */
    };
    rb_arena_t arena;
    rb_arena_init(&arena);
    rill_rbuf_t r;
    rill__rbuf_init(&r, v7, sizeof(v7));
    rb_produce_req_t req;
    assert_int_equal(rb_produce_req_decode(&r, 7, &arena, &req), 0);
    assert_true(rb_str_is_null(req.transactional_id));
    assert_int_equal(req.acks, -1);
    assert_int_equal(req.timeout_ms, 30000);
    assert_int_equal(req.topic_data_count, 1);
    assert_true(rb_str_eq(req.topic_data[0].name, "x"));
    assert_int_equal(req.topic_data[0].partition_data[0].index, 2);
    assert_int_equal(req.topic_data[0].partition_data[0].records.len, 4);
    /* records are borrowed from the frame, not copied */
    assert_ptr_equal(req.topic_data[0].partition_data[0].records.ptr, v7 + sizeof(v7) - 4);
    rb_arena_clear(&arena);
}

/* Unknown tags are skipped; a known tag is decoded. */
static void test_protocol__skips_unknown_tagged_fields(void **state)
{
    (void)state;
    static const uint8_t v3[] = {
        0x02, 'n',  0x02, 'v',        /* name "n", version "v" */
        0x02,                         /* two tagged fields */
        0x05, 0x03, 0xaa, 0xbb, 0xcc, /* tag 5, 3 bytes: unknown */
        0x09, 0x00,                   /* tag 9, empty: unknown */
    };
    rb_arena_t arena;
    rb_arena_init(&arena);
    rill_rbuf_t r;
    rill__rbuf_init(&r, v3, sizeof(v3));
    rb_api_versions_req_t req;
    assert_int_equal(rb_api_versions_req_decode(&r, 3, &arena, &req), 0);
    assert_true(rb_str_eq(req.client_software_version, "v"));
    assert_int_equal(rill__rbuf_remaining(&r), 0);

    /* ApiVersions v3 response: tag 1 = finalized_features_epoch (int64) */
    rb_api_versions_resp_t resp;
    rb_api_versions_resp_init(&resp);
    assert_true(resp.finalized_features_epoch == -1);
    resp.finalized_features_epoch = 7;
    rb_enc_t enc;
    rb_enc_init(&enc);
    rb_api_versions_resp_encode(&enc, 3, &resp);
    rb_api_versions_resp_t back;
    rill__rbuf_init(&r, enc.w.data, enc.w.len);
    assert_int_equal(rb_api_versions_resp_decode(&r, 3, &arena, &back), 0);
    assert_true(back.finalized_features_epoch == 7);
    rb_enc_free(&enc);
    rb_arena_clear(&arena);
}

/* Records given as a file range become a splice, not bytes. */
static void test_protocol__records_from_file_become_splices(void **state)
{
    (void)state;
    rb_fetch_resp_t resp;
    rb_fetch_resp_init(&resp);
    rb_fetch_resp_fetchable_topic_response_t topic = {0};
    rb_fetch_resp_partition_data_t part;
    rb_proto_init(&rb_fetch_resp_partition_data_desc, &part);
    part.records = (rb_records_t){NULL, 1000, 7, 4096};
    topic.topic = rb_str_c("t");
    topic.partitions = &part;
    topic.partitions_count = 1;
    resp.responses = &topic;
    resp.responses_count = 1;
    rb_enc_t enc;
    rb_enc_init(&enc);
    rb_fetch_resp_encode(&enc, 11, &resp);
    assert_int_equal(enc.nsplices, 1);
    assert_int_equal(enc.splices[0].fd, 7);
    assert_int_equal(enc.splices[0].pos, 4096);
    assert_int_equal(enc.splices[0].len, 1000);
    assert_int_equal(enc.splices[0].at, enc.w.len); /* records are the last field */
    assert_int_equal(rb_enc_len(&enc), enc.w.len + 1000);
    assert_int_equal(rill__be32_get(enc.w.data + enc.w.len - 4), 1000);
    rb_enc_free(&enc);
}

/* Random bytes never crash the decoder, and huge counts allocate nothing. */
static void test_protocol__garbage_never_crashes(void **state)
{
    (void)state;
    GRand *rnd = g_rand_new_with_seed(7);
    uint8_t buf[256];
    int failures = 0, total = 0;
    for (size_t i = 0; i < rb_proto_n_apis; i++) {
        const rb_api_desc_t *api = &rb_proto_apis[i];
        for (int16_t v = api->min_version; v <= api->max_version; v++) {
            for (int k = 0; k < 200; k++) {
                size_t len = (size_t)g_rand_int_range(rnd, 0, sizeof(buf));
                for (size_t j = 0; j < len; j++)
                    buf[j] = (uint8_t)g_rand_int(rnd);
                if (k % 3 == 0 && len >= 4)
                    memset(buf, 0x7f, 4); /* a huge count or length up front */
                rb_arena_t arena;
                rb_arena_init(&arena);
                void *out = rb_arena_alloc(&arena, api->request->body->size);
                rill_rbuf_t r;
                rill__rbuf_init(&r, buf, len);
                int rc =
                    rb_proto_decode(api->request, v, rb_proto_is_flexible(api, v), &r, &arena, out);
                failures += rc != 0;
                total++;
                rb_arena_clear(&arena);
            }
        }
    }
    assert_true(failures > total / 2);
    g_rand_free(rnd);
}

static void test_protocol__headers(void **state)
{
    (void)state;
    rb_enc_t enc;
    rb_enc_init(&enc);
    rb_proto_write_resp_header(&enc, 0x01020304, false);
    assert_int_equal(enc.w.len, 4);
    rb_proto_write_resp_header(&enc, 5, true);
    assert_int_equal(enc.w.len, 9);
    assert_int_equal(enc.w.data[8], 0);
    rb_enc_free(&enc);

    /* null client id, and a truncated header */
    static const uint8_t h[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0xff, 0xff};
    rill_rbuf_t r;
    rill__rbuf_init(&r, h, sizeof(h));
    rb_req_header_t hdr;
    assert_int_equal(rb_proto_read_req_header(&r, false, &hdr), 0);
    assert_true(rb_str_is_null(hdr.client_id));
    rill__rbuf_init(&r, h, sizeof(h) - 1);
    assert_int_equal(rb_proto_read_req_header(&r, false, &hdr), -1);
    assert_int_equal(rb_proto_peek_req_header(h, 7, &hdr), -1);
    assert_int_equal(rb_proto_peek_req_header(h, 8, &hdr), 0);
    assert_int_equal(hdr.correlation_id, 9);
}

static void test_protocol__served_ranges_meet_client_needs(void **state)
{
    (void)state;
    /* librdkafka's MsgVer2 needs Produce 3 and Fetch 4; ZSTD needs Produce 7 and
     * Fetch 10; kafka-python lands on the record-batch path when Fetch covers 10 */
    const rb_api_desc_t *produce = rb_proto_api(RB_API_KEY_PRODUCE);
    const rb_api_desc_t *fetch = rb_proto_api(RB_API_KEY_FETCH);
    assert_true(produce->min_version <= 3 && produce->max_version >= 7);
    assert_true(fetch->min_version <= 4 && fetch->max_version >= 11);
    assert_int_equal(rb_proto_api(RB_API_KEY_API_VERSIONS)->min_version, 0);
    assert_int_equal(rb_proto_api(RB_API_KEY_METADATA)->min_version, 0);
    assert_null(rb_proto_api(9999));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_protocol__round_trip_every_message_every_version),
        cmocka_unit_test(test_protocol__decodes_librdkafka_api_versions_v3),
        cmocka_unit_test(test_protocol__decodes_metadata_requests),
        cmocka_unit_test(test_protocol__decodes_produce_v7),
        cmocka_unit_test(test_protocol__skips_unknown_tagged_fields),
        cmocka_unit_test(test_protocol__records_from_file_become_splices),
        cmocka_unit_test(test_protocol__garbage_never_crashes),
        cmocka_unit_test(test_protocol__headers),
        cmocka_unit_test(test_protocol__served_ranges_meet_client_needs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
