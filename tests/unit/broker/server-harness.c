/* server-harness.c: feeds request frames to an rb_server_t without sockets and
 * captures its responses (see server-harness.h). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/server/server-private.h"
#include "common/crc32c.h"

#include "tests/unit/broker/server-harness.h"

/* ---- harness ------------------------------------------------------------- */

static void capture_respond(void *ud, rb_slot_t *slot, rb_enc_t *enc)
{
    harness_t *h = ud;
    captured_t *c = (captured_t *)slot;
    assert_true(c >= h->slots && c < h->slots + 64);
    assert_false(c->answered); /* exactly once */
    c->answered = true;
    if (!enc)
        return;
    c->has_response = true;
    c->bytes = g_byte_array_new();
    size_t at = 0;
    for (size_t i = 0; i <= enc->nsplices; i++) {
        size_t end = i < enc->nsplices ? enc->splices[i].at : enc->w.len;
        g_byte_array_append(c->bytes, enc->w.data + at, (guint)(end - at));
        at = end;
        if (i < enc->nsplices) {
            guint8 *buf = g_malloc(enc->splices[i].len);
            assert_int_equal(
                pread(enc->splices[i].fd, buf, enc->splices[i].len, (off_t)enc->splices[i].pos),
                (ssize_t)enc->splices[i].len);
            g_byte_array_append(c->bytes, buf, (guint)enc->splices[i].len);
            g_free(buf);
        }
    }
}

static void capture_close(void *ud, rb_conn_t *conn, const char *reason)
{
    harness_t *h = ud;
    (void)reason;
    assert_ptr_equal(conn, (rb_conn_t *)&h->conn_token);
    h->closes++;
}

static const char *fake_peer(void *ud, rb_conn_t *conn)
{
    (void)ud;
    (void)conn;
    return "127.0.0.1:40000";
}

void start_server(harness_t *h)
{
    g_autofree char *errmsg = NULL;
    h->server = rb_server_new(h->loop, h->config, &errmsg);
    if (!h->server)
        fail_msg("rb_server_new: %s", errmsg);
    rb__server_set_io(h->server, capture_respond, capture_close, fake_peer, h);
    rb_server_set_advertised(h->server, "127.0.0.1", 19092);
}

void set_config(harness_t *h, const char *key, const char *value)
{
    g_autofree char *errmsg = NULL;
    if (!rb_config_set(h->config, key, value, &errmsg))
        fail_msg("config %s: %s", key, errmsg);
}

int setup(void **state)
{
    harness_t *h = g_new0(harness_t, 1);
    h->dir = g_dir_make_tmp("rill-test-server-XXXXXX", NULL);
    h->config = rb_config_new_defaults();
    set_config(h, "log.dirs", h->dir);
    h->loop = rb_loop_new();
    rb_arena_init(&h->arena);
    start_server(h);
    *state = h;
    return 0;
}

static void rm_rf(const char *path)
{
    GDir *d = g_dir_open(path, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            g_autofree char *p = g_build_filename(path, name, NULL);
            rm_rf(p);
        }
        g_dir_close(d);
    }
    g_remove(path);
}

void clear_slots(harness_t *h)
{
    for (int i = 0; i < h->next_slot; i++) {
        if (h->slots[i].bytes)
            g_byte_array_free(h->slots[i].bytes, TRUE);
        h->slots[i] = (captured_t){0};
    }
    h->next_slot = 0;
}

int teardown(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    rb_loop_destroy(h->loop);
    rb_config_free(h->config);
    clear_slots(h);
    rb_arena_clear(&h->arena);
    rm_rf(h->dir);
    g_free(h->dir);
    g_free(h);
    return 0;
}

/* Sends body (a request struct of api `key`) at version; returns the slot. */
captured_t *send_req(harness_t *h, int16_t key, int16_t v, const void *body)
{
    const rb_api_desc_t *api = rb_proto_api(key);
    bool flex = api && rb_proto_is_flexible(api, v);
    rb_enc_t enc;
    rb_enc_init(&enc);
    rb_req_header_t hdr = {key, v, 1000 + h->next_slot, rb_str_c("test-client")};
    rb_proto_write_req_header(&enc, &hdr, flex);
    if (body)
        rb_proto_encode(api->request, v, flex, &enc, body);
    assert_true(h->next_slot < 64);
    captured_t *slot = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, enc.w.data, enc.w.len, cb->ud);
    rb_enc_free(&enc);
    return slot;
}

/* Decodes a captured response of api key at version into out (arena-backed). */
void decode_resp(harness_t *h, captured_t *slot, int16_t key, int16_t v, void *out)
{
    assert_true(slot->answered);
    assert_true(slot->has_response);
    const rb_api_desc_t *api = rb_proto_api(key);
    bool flex = rb_proto_is_flexible(api, v);
    rill_rbuf_t r;
    rill__rbuf_init(&r, slot->bytes->data, slot->bytes->len);
    int32_t corr = rill__rbuf_get_i32(&r);
    assert_int_equal(corr, 1000 + (int)(slot - h->slots));
    if (flex && key != RB_API_KEY_API_VERSIONS)
        assert_int_equal(rill__rbuf_get_u8(&r), 0); /* header v1: no tags */
    assert_int_equal(rb_proto_decode(api->response, v, flex, &r, &h->arena, out), 0);
    assert_int_equal(rill__rbuf_remaining(&r), 0);
}

/* A record batch v2 with one record (key, value), CRC-32C set; from a
 * producer (pid >= 0) with epoch and sequence, transactional or not. */
GByteArray *make_batch_p(const char *key, const char *value, int64_t ts, int codec, int64_t pid,
                         int16_t epoch, int32_t seq, bool txn)
{
    rill_wbuf_t rec;
    rill__wbuf_init(&rec, 64);
    rill_wbuf_t body;
    rill__wbuf_init(&body, 64);
    rill__wbuf_put_u8(&body, 0);     /* attributes */
    rill__wbuf_put_varint(&body, 0); /* timestamp delta */
    rill__wbuf_put_varint(&body, 0); /* offset delta */
    rill__wbuf_put_varint(&body, (int64_t)strlen(key));
    rill__wbuf_put(&body, key, strlen(key));
    rill__wbuf_put_varint(&body, (int64_t)strlen(value));
    rill__wbuf_put(&body, value, strlen(value));
    rill__wbuf_put_varint(&body, 0); /* headers */
    rill__wbuf_put_varint(&rec, (int64_t)body.len);
    rill__wbuf_put(&rec, body.data, body.len);

    rill_wbuf_t b;
    rill__wbuf_init(&b, 128);
    rill__wbuf_put_i64(&b, 0);                                   /* base offset */
    rill__wbuf_put_i32(&b, (int32_t)(49 + rec.len));             /* batch length */
    rill__wbuf_put_i32(&b, -1);                                  /* leader epoch */
    rill__wbuf_put_u8(&b, 2);                                    /* magic */
    rill__wbuf_put_u32(&b, 0);                                   /* crc, below */
    rill__wbuf_put_i16(&b, (int16_t)(codec | (txn ? 0x10 : 0))); /* attributes */
    rill__wbuf_put_i32(&b, 0);                                   /* last offset delta */
    rill__wbuf_put_i64(&b, ts);
    rill__wbuf_put_i64(&b, ts);
    rill__wbuf_put_i64(&b, pid); /* producer id */
    rill__wbuf_put_i16(&b, epoch);
    rill__wbuf_put_i32(&b, seq);
    rill__wbuf_put_i32(&b, 1); /* records */
    rill__wbuf_put(&b, rec.data, rec.len);
    rill__be32_put(b.data + 17, rill__crc32c(0, b.data + 21, b.len - 21));
    GByteArray *out = g_byte_array_new();
    g_byte_array_append(out, b.data, (guint)b.len);
    rill__wbuf_free(&rec);
    rill__wbuf_free(&body);
    rill__wbuf_free(&b);
    return out;
}

GByteArray *make_batch(const char *key, const char *value, int64_t ts, int codec)
{
    return make_batch_p(key, value, ts, codec, -1, -1, -1, false);
}

void create_topic(harness_t *h, const char *name, int32_t partitions)
{
    rb_create_topics_req_t req;
    rb_create_topics_req_init(&req);
    rb_create_topics_req_creatable_topic_t t;
    rb_proto_init(&rb_create_topics_req_creatable_topic_desc, &t);
    t.name = rb_str_c(name);
    t.num_partitions = partitions;
    t.replication_factor = 1;
    req.topics = &t;
    req.topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_CREATE_TOPICS, 4, &req);
    rb_create_topics_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_CREATE_TOPICS, 4, &resp);
    assert_int_equal(resp.topics[0].error_code, 0);
}

/* Produces one batch to topic/partition; returns the partition's error, sets *base. */
int16_t produce(harness_t *h, int16_t v, int16_t acks, const char *topic, int32_t partition,
                GByteArray *batch, int64_t *base)
{
    rb_produce_req_t req;
    rb_produce_req_init(&req);
    req.acks = acks;
    req.timeout_ms = 1000;
    rb_produce_req_topic_produce_data_t td = {0};
    rb_produce_req_partition_produce_data_t pd = {0};
    pd.index = partition;
    pd.records = (rb_records_t){batch->data, (int32_t)batch->len, -1, 0};
    td.name = rb_str_c(topic);
    td.partition_data = &pd;
    td.partition_data_count = 1;
    req.topic_data = &td;
    req.topic_data_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_PRODUCE, v, &req);
    if (acks == 0) {
        assert_true(slot->answered);
        assert_false(slot->has_response);
        return 0;
    }
    rb_produce_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_PRODUCE, v, &resp);
    assert_int_equal(resp.responses_count, 1);
    assert_true(rb_str_eq(resp.responses[0].name, topic));
    assert_int_equal(resp.responses[0].partition_responses[0].index, partition);
    if (base)
        *base = resp.responses[0].partition_responses[0].base_offset;
    return resp.responses[0].partition_responses[0].error_code;
}

captured_t *send_fetch(harness_t *h, int16_t v, const char *topic, int32_t partition,
                       int64_t offset, int32_t min_bytes, int32_t max_wait, int8_t iso)
{
    rb_fetch_req_t req;
    rb_fetch_req_init(&req);
    req.replica_id = -1;
    req.max_wait_ms = max_wait;
    req.min_bytes = min_bytes;
    req.max_bytes = 1 << 20;
    req.isolation_level = iso;
    rb_fetch_req_fetch_topic_t ft;
    rb_proto_init(&rb_fetch_req_fetch_topic_desc, &ft);
    rb_fetch_req_fetch_partition_t fp;
    rb_proto_init(&rb_fetch_req_fetch_partition_desc, &fp);
    fp.partition = partition;
    fp.fetch_offset = offset;
    fp.partition_max_bytes = 1 << 20;
    ft.topic = rb_str_c(topic);
    ft.partitions = &fp;
    ft.partitions_count = 1;
    req.topics = &ft;
    req.topics_count = 1;
    return send_req(h, RB_API_KEY_FETCH, v, &req);
}

void stop_loop(void *ud)
{
    rb_loop_stop(ud);
}

rb_list_offsets_resp_list_offsets_partition_response_t *list_offset(harness_t *h, int16_t v,
                                                                    const char *topic, int64_t ts)
{
    rb_list_offsets_req_t req;
    rb_list_offsets_req_init(&req);
    req.replica_id = -1;
    rb_list_offsets_req_list_offsets_topic_t t = {0};
    rb_list_offsets_req_list_offsets_partition_t p;
    rb_proto_init(&rb_list_offsets_req_list_offsets_partition_desc, &p);
    p.timestamp = ts;
    p.max_num_offsets = 1;
    t.name = rb_str_c(topic);
    t.partitions = &p;
    t.partitions_count = 1;
    req.topics = &t;
    req.topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_LIST_OFFSETS, v, &req);
    rb_list_offsets_resp_t *resp = rb_arena_alloc(&h->arena, sizeof(*resp));
    decode_resp(h, slot, RB_API_KEY_LIST_OFFSETS, v, resp);
    return &resp->topics[0].partitions[0];
}

typedef struct waiter {
    harness_t *h;
    captured_t *slot;
    int64_t deadline;
} waiter_t;

static void wait_tick(void *ud)
{
    waiter_t *w = ud;
    if (w->slot->answered || rb_loop_now_ms(w->h->loop) >= w->deadline)
        rb_loop_stop(w->h->loop);
    else
        rb_loop_add_timer(w->h->loop, 5, wait_tick, w);
}

/* Runs the loop until slot is answered (bounded: 5 s). */
void wait_answer(harness_t *h, captured_t *slot)
{
    if (slot->answered)
        return;
    waiter_t w = {h, slot, rb_loop_now_ms(h->loop) + 5000};
    rb_loop_add_timer(h->loop, 5, wait_tick, &w);
    rb_loop_run(h->loop);
    assert_true(slot->answered);
}
