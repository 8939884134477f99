/* test-server.c: rill-broker's request handlers, fed request frames without
 * sockets (server-harness.h): discovery, produce/fetch byte for byte, long-polling,
 * ListOffsets, admin and configs, restart, garbage input. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "tests/unit/broker/server-harness.h"

/* ---- ApiVersions ---------------------------------------------------------------- */

static void test_server__api_versions_ranges_and_header_v0(void **state)
{
    harness_t *h = *state;
    rb_api_versions_req_t req;
    rb_api_versions_req_init(&req);
    req.client_software_name = rb_str_c("librdkafka");
    req.client_software_version = rb_str_c("2.0.2");
    captured_t *slot = send_req(h, RB_API_KEY_API_VERSIONS, 3, &req);
    /* header v0 even at v3: the body starts right after the correlation id
     * with the int16 error code (a v1 header would put a 0x00 tag byte first) */
    rb_api_versions_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_API_VERSIONS, 3, &resp);
    assert_int_equal(resp.error_code, 0);
    bool produce = false, fetch = false, meta = false, apiv = false;
    for (int32_t i = 0; i < resp.api_keys_count; i++) {
        const rb_api_versions_resp_api_version_t *k = &resp.api_keys[i];
        if (k->api_key == RB_API_KEY_PRODUCE)
            produce = k->min_version <= 3 && k->max_version >= 7;
        if (k->api_key == RB_API_KEY_FETCH)
            fetch = k->min_version <= 4 && k->max_version >= 11;
        if (k->api_key == RB_API_KEY_METADATA)
            meta = k->min_version == 0;
        if (k->api_key == RB_API_KEY_API_VERSIONS)
            apiv = k->min_version == 0 && k->max_version == 3;
    }
    assert_true(produce && fetch && meta && apiv);
    assert_int_equal(resp.api_keys_count,
                     31); /* + DescribeProducers/Transactions, ListTransactions */

    /* kafka-python's v0 probe */
    slot = send_req(h, RB_API_KEY_API_VERSIONS, 0, &req);
    decode_resp(h, slot, RB_API_KEY_API_VERSIONS, 0, &resp);
    assert_int_equal(resp.error_code, 0);
}

static void test_server__api_versions_unknown_version_gets_v0_error_35(void **state)
{
    harness_t *h = *state;
    /* a v9 request with a body we cannot know: answered, not closed */
    static const uint8_t frame[] = {0x00, 0x12, 0x00, 0x09, 0x00, 0x00, 0x03,
                                    0xe8, 0x00, 0x01, 'x',  0x00, 0x42, 0x42};
    captured_t *slot = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, frame, sizeof(frame), cb->ud);
    rb_api_versions_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_API_VERSIONS, 0, &resp);
    assert_int_equal(resp.error_code, RB_ERR_UNSUPPORTED_VERSION);
    bool listed = false;
    for (int32_t i = 0; i < resp.api_keys_count; i++)
        listed |= resp.api_keys[i].api_key == RB_API_KEY_API_VERSIONS &&
                  resp.api_keys[i].max_version == 3;
    assert_true(listed);
    assert_int_equal(h->closes, 0);

    /* v3 with an invalid software name: INVALID_REQUEST (librdkafka retries v0) */
    rb_api_versions_req_t req;
    rb_api_versions_req_init(&req);
    req.client_software_name = rb_str_c("-bad name");
    req.client_software_version = rb_str_c("1");
    slot = send_req(h, RB_API_KEY_API_VERSIONS, 3, &req);
    decode_resp(h, slot, RB_API_KEY_API_VERSIONS, 3, &resp);
    assert_int_equal(resp.error_code, RB_ERR_INVALID_REQUEST);
}

static void test_server__unknown_api_or_version_closes_connection(void **state)
{
    harness_t *h = *state;
    /* OffsetForLeaderEpoch (23) is not served */
    static const uint8_t frame[] = {0x00, 0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff};
    captured_t *slot = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, frame, sizeof(frame), cb->ud);
    assert_true(slot->answered);
    assert_false(slot->has_response);
    assert_int_equal(h->closes, 1);

    /* Produce v2 (magic 1 message sets) is not served */
    rb_produce_req_t req;
    rb_produce_req_init(&req);
    slot = send_req(h, RB_API_KEY_PRODUCE, 2, &req);
    assert_true(slot->answered);
    assert_false(slot->has_response);
    assert_int_equal(h->closes, 2);

    /* a frame shorter than a header */
    slot = &h->slots[h->next_slot++];
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, frame, 5, cb->ud);
    assert_true(slot->answered);
    assert_int_equal(h->closes, 3);
}

static void test_server__malformed_body_closes_connection(void **state)
{
    harness_t *h = *state;
    /* Metadata v1 whose topic array claims 1000 entries */
    static const uint8_t frame[] = {0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05,
                                    0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00};
    captured_t *slot = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, frame, sizeof(frame), cb->ud);
    assert_true(slot->answered);
    assert_false(slot->has_response);
    assert_int_equal(h->closes, 1);
}

/* ---- Metadata -------------------------------------------------------------------- */

static rb_metadata_resp_t *metadata(harness_t *h, int16_t v, const char *topic, bool allow)
{
    rb_metadata_req_t req;
    rb_metadata_req_init(&req);
    rb_metadata_req_metadata_request_topic_t t;
    rb_proto_init(&rb_metadata_req_metadata_request_topic_desc, &t);
    t.name = rb_str_c(topic);
    if (topic) {
        req.topics = &t;
        req.topics_count = 1;
    } else {
        req.topics_count = v >= 1 ? -1 : 0;
    }
    req.allow_auto_topic_creation = allow;
    captured_t *slot = send_req(h, RB_API_KEY_METADATA, v, &req);
    rb_metadata_resp_t *resp = rb_arena_alloc(&h->arena, sizeof(*resp));
    decode_resp(h, slot, RB_API_KEY_METADATA, v, resp);
    return resp;
}

static void test_server__metadata_auto_create(void **state)
{
    harness_t *h = *state;
    set_config(h, "num.partitions", "3");
    /* not allowed by the request (librdkafka consumers): unknown */
    rb_metadata_resp_t *resp = metadata(h, 4, "auto-t", false);
    assert_int_equal(resp->topics[0].error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    /* allowed: created with num.partitions, usable at once */
    resp = metadata(h, 4, "auto-t", true);
    assert_int_equal(resp->topics[0].error_code, 0);
    assert_int_equal(resp->topics[0].partitions_count, 3);
    assert_int_equal(resp->topics[0].partitions[2].leader_id, 0);
    assert_int_equal(resp->topics[0].partitions[2].replica_nodes_count, 1);
    assert_int_equal(resp->brokers_count, 1);
    assert_true(rb_str_eq(resp->brokers[0].host, "127.0.0.1"));
    assert_int_equal(resp->brokers[0].port, 19092);
    assert_int_equal(resp->controller_id, 0);
    assert_true(rb_str_eq(resp->cluster_id, rb_config_str(h->config, "cluster.id")));
    /* below v4 creation is allowed by the request, the broker config decides */
    set_config(h, "auto.create.topics.enable", "false");
    resp = metadata(h, 1, "other", true);
    assert_int_equal(resp->topics[0].error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    resp = metadata(h, 4, "bad/name", true);
    assert_int_equal(resp->topics[0].error_code, RB_ERR_INVALID_TOPIC_EXCEPTION);
    /* all topics: v1 null, v0 empty; v12 carries topic ids */
    resp = metadata(h, 1, NULL, true);
    assert_int_equal(resp->topics_count, 1);
    resp = metadata(h, 0, NULL, true);
    assert_int_equal(resp->topics_count, 1);
    resp = metadata(h, 12, NULL, true);
    assert_int_equal(resp->topics_count, 1);
    assert_false(rb_uuid_is_zero(&resp->topics[0].topic_id));
}

/* ---- Produce and Fetch --------------------------------------------------------------- */

static void test_server__produce_then_fetch_byte_for_byte(void **state)
{
    harness_t *h = *state;
    create_topic(h, "pf", 2);
    g_autoptr(GByteArray) b1 = make_batch("k1", "hello", 1700000000000, 0);
    g_autoptr(GByteArray) b2 = make_batch("k2", "world!", 1700000000500, 0);
    GByteArray *sent1 = g_byte_array_new(), *sent2 = g_byte_array_new();
    g_byte_array_append(sent1, b1->data, b1->len);
    g_byte_array_append(sent2, b2->data, b2->len);
    int64_t base = -1;
    assert_int_equal(produce(h, 7, 1, "pf", 1, b1, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(produce(h, 3, -1, "pf", 1, b2, &base), 0);
    assert_int_equal(base, 1);

    for (int8_t iso = 0; iso <= 1; iso++) {
        captured_t *slot = send_fetch(h, 11, "pf", 1, 0, 1, 500, iso);
        rb_fetch_resp_t resp;
        decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
        const rb_fetch_resp_partition_data_t *p = &resp.responses[0].partitions[0];
        assert_int_equal(p->error_code, 0);
        assert_int_equal(p->high_watermark, 2);
        assert_int_equal(p->last_stable_offset, 2);
        assert_int_equal(p->log_start_offset, 0);
        /* read_committed: an empty aborted list; read_uncommitted: null */
        assert_int_equal(p->aborted_transactions_count, iso ? 0 : -1);
        assert_int_equal(p->records.len, (int32_t)(sent1->len + sent2->len));
        /* the stored batches are the produced ones with offsets assigned */
        rill__be64_put(sent2->data, 1);
        assert_memory_equal(p->records.ptr + 12 + 5, sent1->data + 12 + 5, sent1->len - 17);
        assert_int_equal(rill__be64_get(p->records.ptr), 0);
        assert_int_equal(rill__be64_get(p->records.ptr + sent1->len), 1);
        assert_memory_equal(p->records.ptr + sent1->len + 17, sent2->data + 17, sent2->len - 17);
    }
    /* from offset 1 only the second batch */
    captured_t *slot = send_fetch(h, 4, "pf", 1, 1, 1, 500, 1);
    rb_fetch_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_FETCH, 4, &resp);
    assert_int_equal(resp.responses[0].partitions[0].records.len, (int32_t)sent2->len);
    /* out of range, and an unknown partition */
    slot = send_fetch(h, 11, "pf", 1, 3, 1, 500, 0);
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].error_code, RB_ERR_OFFSET_OUT_OF_RANGE);
    slot = send_fetch(h, 11, "pf", 7, 0, 1, 500, 0);
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    g_byte_array_free(sent1, TRUE);
    g_byte_array_free(sent2, TRUE);
}

static void test_server__produce_errors(void **state)
{
    harness_t *h = *state;
    create_topic(h, "pe", 1);
    g_autoptr(GByteArray) b = make_batch("k", "v", 1700000000000, 0);
    assert_int_equal(produce(h, 7, 1, "nope", 0, b, NULL), RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(produce(h, 7, 2, "pe", 0, b, NULL), RB_ERR_INVALID_REQUIRED_ACKS);
    /* two batches in one partition's records */
    g_autoptr(GByteArray) two = g_byte_array_new();
    g_byte_array_append(two, b->data, b->len);
    g_byte_array_append(two, b->data, b->len);
    assert_int_equal(produce(h, 7, 1, "pe", 0, two, NULL), RB_ERR_INVALID_RECORD);
    /* a truncated batch */
    g_autoptr(GByteArray) cut = g_byte_array_new();
    g_byte_array_append(cut, b->data, 40);
    assert_int_equal(produce(h, 7, 1, "pe", 0, cut, NULL), RB_ERR_INVALID_RECORD);
    /* zstd needs Produce v7 */
    g_autoptr(GByteArray) z = make_batch("k", "v", 1700000000000, 4);
    assert_int_equal(produce(h, 6, 1, "pe", 0, z, NULL), RB_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    /* nothing was appended */
    captured_t *slot = send_fetch(h, 11, "pe", 0, 0, 0, 0, 0);
    rb_fetch_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].high_watermark, 0);
    assert_int_equal(h->closes, 0);
    /* acks=0: no response; a failed acks=0 request closes the connection */
    assert_int_equal(produce(h, 7, 0, "pe", 0, b, NULL), 0);
    assert_int_equal(h->closes, 0);
    assert_int_equal(produce(h, 7, 0, "nope", 0, b, NULL), 0);
    assert_int_equal(h->closes, 1);
}

/* log.flush.on.ack: an acks=all produce is answered after its fsync, so the
 * log's recovery point (what is known to be on disk) covers it. */
static void test_server__flush_on_ack_fsyncs_before_answering(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    set_config(h, "log.flush.on.ack", "true");
    start_server(h);
    create_topic(h, "dur", 1);
    g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
    assert_int_equal(produce(h, 7, -1, "dur", 0, b, NULL), 0);
    rb_partition_t *part = rb__partition_find(h->server, rb_str_c("dur"), 0);
    assert_int_equal(rb_log_recovery_point(part->log), 1);
    g_autoptr(GByteArray) b2 = make_batch("k", "v", 1000, 0);
    assert_int_equal(produce(h, 7, -1, "dur", 0, b2, NULL), 0);
    assert_int_equal(rb_log_recovery_point(part->log), 2);
}

typedef struct {
    harness_t *h;
    rb_log_t *log;
    int64_t want, deadline;
} recovery_wait_t;

static void recovery_tick(void *ud)
{
    recovery_wait_t *w = ud;
    if (rb_log_recovery_point(w->log) >= w->want || rb_loop_now_ms(w->h->loop) > w->deadline)
        rb_loop_stop(w->h->loop);
    else
        rb_loop_add_timer(w->h->loop, 5, recovery_tick, w);
}

/* log.flush.interval.ms has a timer of its own: a write is fsynced (by the
 * background flusher) about flush.ms after it was appended, although the
 * housekeeping pass is 5 minutes away; an idle broker keeps no flush timer. */
static void test_server__flush_ms_fsyncs_without_housekeeping(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    set_config(h, "log.flush.interval.ms", "100");
    set_config(h, "log.retention.check.interval.ms", "300000");
    start_server(h);
    create_topic(h, "fms", 1);
    rb_partition_t *part = rb__partition_find(h->server, rb_str_c("fms"), 0);
    assert_int_equal(h->server->flush_timer, 0); /* nothing written yet */
    g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
    int64_t t0 = rb_loop_now_ms(h->loop);
    assert_int_equal(produce(h, 7, 1, "fms", 0, b, NULL), 0);
    assert_int_equal(rb_log_recovery_point(part->log), 0); /* not due yet */
    assert_true(h->server->flush_timer != 0);

    recovery_wait_t w = {h, part->log, 1, t0 + 5000};
    rb_loop_add_timer(h->loop, 5, recovery_tick, &w);
    rb_loop_run(h->loop);
    assert_int_equal(rb_log_recovery_point(part->log), 1);
    assert_true(rb_loop_now_ms(h->loop) - t0 >= 100 - 1); /* not before flush.ms */
    assert_int_equal(h->server->flush_timer, 0);         /* idle again: no timer */
}

static void test_server__fetch_long_poll_wakes_on_append(void **state)
{
    harness_t *h = *state;
    create_topic(h, "lp", 1);
    captured_t *fetch = send_fetch(h, 11, "lp", 0, 0, 1, 30000, 1);
    assert_false(fetch->answered); /* parked: nothing to read */
    g_autoptr(GByteArray) b = make_batch("k", "v", 1700000000000, 0);
    int64_t base;
    assert_int_equal(produce(h, 7, 1, "lp", 0, b, &base), 0);
    /* answered by the append itself, long before max_wait_ms */
    assert_true(fetch->answered);
    rb_fetch_resp_t resp;
    decode_resp(h, fetch, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].records.len, (int32_t)b->len);
    assert_int_equal(resp.responses[0].partitions[0].high_watermark, 1);
}

static void test_server__fetch_long_poll_times_out(void **state)
{
    harness_t *h = *state;
    create_topic(h, "to", 1);
    captured_t *fetch = send_fetch(h, 11, "to", 0, 0, 1, 50, 0);
    captured_t *other = send_fetch(h, 11, "to", 0, 0, 1, 60000, 0);
    assert_false(fetch->answered);
    rb_loop_add_timer(h->loop, 1000, stop_loop, h->loop);
    rb_loop_run(h->loop);
    assert_true(fetch->answered);
    rb_fetch_resp_t resp;
    decode_resp(h, fetch, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].error_code, 0);
    assert_int_equal(resp.responses[0].partitions[0].records.len, 0);
    /* the other is still parked; the connection closing ends it without a response */
    assert_false(other->answered);
    rb_server_callbacks(h->server)->on_close((rb_conn_t *)&h->conn_token, h->server);
    assert_true(other->answered);
    assert_false(other->has_response);
}

/* ---- ListOffsets ------------------------------------------------------------------- */

static void test_server__list_offsets(void **state)
{
    harness_t *h = *state;
    create_topic(h, "lo", 1);
    for (int i = 0; i < 3; i++) {
        g_autoptr(GByteArray) b = make_batch("k", "v", 1000 * (i + 1), 0);
        assert_int_equal(produce(h, 7, 1, "lo", 0, b, NULL), 0);
    }
    assert_int_equal(list_offset(h, 1, "lo", -1)->offset, 3);
    assert_int_equal(list_offset(h, 5, "lo", -2)->offset, 0);
    rb_list_offsets_resp_list_offsets_partition_response_t *p = list_offset(h, 2, "lo", 1500);
    assert_int_equal(p->offset, 1);
    assert_int_equal(p->timestamp, 2000);
    assert_int_equal(list_offset(h, 1, "lo", 99999)->offset, -1);
    p = list_offset(h, 7, "lo", -3); /* the record with the largest timestamp */
    assert_int_equal(p->offset, 2);
    assert_int_equal(p->timestamp, 3000);
    assert_int_equal(list_offset(h, 6, "lo", -1)->offset, 3); /* flexible */
    /* inside a batch of several records: the record, with its own timestamp */
    rb_batch_builder_t bb;
    rb_batch_builder_init(&bb, 0);
    for (int i = 0; i < 3; i++)
        rb_batch_builder_add(&bb, 5000 + 100 * i, "k", 1, "v", 1, NULL, 0);
    size_t len;
    g_autofree uint8_t *multi = rb_batch_builder_finish(&bb, &len);
    g_autoptr(GByteArray) mb = g_byte_array_new();
    g_byte_array_append(mb, multi, (guint)len);
    assert_int_equal(produce(h, 7, 1, "lo", 0, mb, NULL), 0); /* offsets 3..5 */
    p = list_offset(h, 4, "lo", 5150);
    assert_int_equal(p->offset, 5);
    assert_int_equal(p->timestamp, 5200);
    p = list_offset(h, 0, "lo", -1);
    assert_int_equal(p->old_style_offsets_count, 1);
    assert_int_equal(p->old_style_offsets[0], 6);
    assert_int_equal(list_offset(h, 1, "zz", -1)->error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
}

/* ---- admin ---------------------------------------------------------------------------- */

static int16_t create_one(harness_t *h, int16_t v, const char *name, int32_t n, int16_t rf,
                          const char *cfg, const char *value, bool validate_only,
                          rb_create_topics_resp_t *out)
{
    rb_create_topics_req_t req;
    rb_create_topics_req_init(&req);
    rb_create_topics_req_creatable_topic_t t;
    rb_proto_init(&rb_create_topics_req_creatable_topic_desc, &t);
    rb_create_topics_req_createable_topic_config_t c = {rb_str_c(cfg), rb_str_c(value)};
    t.name = rb_str_c(name);
    t.num_partitions = n;
    t.replication_factor = rf;
    if (cfg) {
        t.configs = &c;
        t.configs_count = 1;
    }
    req.topics = &t;
    req.topics_count = 1;
    req.validate_only = validate_only;
    captured_t *slot = send_req(h, RB_API_KEY_CREATE_TOPICS, v, &req);
    decode_resp(h, slot, RB_API_KEY_CREATE_TOPICS, v, out);
    return out->topics[0].error_code;
}

static void test_server__create_topics_errors(void **state)
{
    harness_t *h = *state;
    rb_create_topics_resp_t resp;
    assert_int_equal(create_one(h, 4, "ct", 2, 3, NULL, NULL, false, &resp),
                     RB_ERR_INVALID_REPLICATION_FACTOR);
    assert_false(rb_str_is_null(resp.topics[0].error_message));
    assert_int_equal(create_one(h, 4, "ct", 0, 1, NULL, NULL, false, &resp),
                     RB_ERR_INVALID_PARTITIONS);
    assert_int_equal(create_one(h, 4, "ct", 2, 1, "retention.ms", "soon", false, &resp),
                     RB_ERR_INVALID_CONFIG);
    assert_int_equal(create_one(h, 4, "ct", 2, 1, "no.such.config", "1", false, &resp),
                     RB_ERR_INVALID_CONFIG);
    assert_int_equal(create_one(h, 4, "a b", 2, 1, NULL, NULL, false, &resp),
                     RB_ERR_INVALID_TOPIC_EXCEPTION);
    /* validate_only creates nothing */
    assert_int_equal(create_one(h, 4, "ct", 2, 1, NULL, NULL, true, &resp), 0);
    assert_null(rb__topic_find(h->server, rb_str_c("ct")));
    /* v5+ answers partitions, replication factor and the configs */
    assert_int_equal(create_one(h, 7, "ct", -1, -1, "cleanup.policy", "compact", false, &resp), 0);
    assert_int_equal(resp.topics[0].num_partitions, 1);
    assert_int_equal(resp.topics[0].replication_factor, 1);
    assert_false(rb_uuid_is_zero(&resp.topics[0].topic_id));
    bool seen = false;
    for (int32_t i = 0; i < resp.topics[0].configs_count; i++)
        if (rb_str_eq(resp.topics[0].configs[i].name, "cleanup.policy"))
            seen = rb_str_eq(resp.topics[0].configs[i].value, "compact") &&
                   resp.topics[0].configs[i].config_source == RB_CS_DYNAMIC_TOPIC;
    assert_true(seen);
    assert_int_equal(create_one(h, 4, "ct", 2, 1, NULL, NULL, false, &resp),
                     RB_ERR_TOPIC_ALREADY_EXISTS);
}

static void test_server__delete_topics_and_records(void **state)
{
    harness_t *h = *state;
    create_topic(h, "dr", 1);
    for (int i = 0; i < 4; i++) {
        g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
        assert_int_equal(produce(h, 7, 1, "dr", 0, b, NULL), 0);
    }
    rb_delete_records_req_t req;
    rb_delete_records_req_init(&req);
    rb_delete_records_req_delete_records_topic_t t = {0};
    rb_delete_records_req_delete_records_partition_t p = {0, 2};
    t.name = rb_str_c("dr");
    t.partitions = &p;
    t.partitions_count = 1;
    req.topics = &t;
    req.topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_DELETE_RECORDS, 1, &req);
    rb_delete_records_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_DELETE_RECORDS, 1, &resp);
    assert_int_equal(resp.topics[0].partitions[0].error_code, 0);
    assert_int_equal(resp.topics[0].partitions[0].low_watermark, 2);
    assert_int_equal(list_offset(h, 1, "dr", -2)->offset, 2);
    /* below the new start: out of range */
    slot = send_fetch(h, 11, "dr", 0, 0, 1, 0, 0);
    rb_fetch_resp_t fresp;
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &fresp);
    assert_int_equal(fresp.responses[0].partitions[0].error_code, RB_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(fresp.responses[0].partitions[0].log_start_offset, 2);
    /* beyond the end */
    p.offset = 10;
    slot = send_req(h, RB_API_KEY_DELETE_RECORDS, 1, &req);
    decode_resp(h, slot, RB_API_KEY_DELETE_RECORDS, 1, &resp);
    assert_int_equal(resp.topics[0].partitions[0].error_code, RB_ERR_OFFSET_OUT_OF_RANGE);

    /* DeleteTopics v1 by name, v6 by id */
    create_topic(h, "gone", 1);
    rb_delete_topics_req_t dt;
    rb_delete_topics_req_init(&dt);
    rb_str_t names[2] = {rb_str_c("dr"), rb_str_c("never")};
    dt.topic_names = names;
    dt.topic_names_count = 2;
    slot = send_req(h, RB_API_KEY_DELETE_TOPICS, 1, &dt);
    rb_delete_topics_resp_t dresp;
    decode_resp(h, slot, RB_API_KEY_DELETE_TOPICS, 1, &dresp);
    assert_int_equal(dresp.responses[0].error_code, 0);
    assert_int_equal(dresp.responses[1].error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(rb__topic_find(h->server, rb_str_c("dr")));
    g_autofree char *pdir = g_build_filename(h->dir, "dr-0", NULL);
    assert_false(g_file_test(pdir, G_FILE_TEST_EXISTS));

    rb_topic_t *gone = rb__topic_find(h->server, rb_str_c("gone"));
    rb_delete_topics_req_delete_topic_state_t st = {RB_STR_NULL, gone->id};
    rb_delete_topics_req_init(&dt);
    dt.topics = &st;
    dt.topics_count = 1;
    slot = send_req(h, RB_API_KEY_DELETE_TOPICS, 6, &dt);
    decode_resp(h, slot, RB_API_KEY_DELETE_TOPICS, 6, &dresp);
    assert_int_equal(dresp.responses[0].error_code, 0);
    assert_true(rb_str_eq(dresp.responses[0].name, "gone"));
    assert_null(rb__topic_find(h->server, rb_str_c("gone")));
}

static void test_server__create_partitions(void **state)
{
    harness_t *h = *state;
    create_topic(h, "cp", 1);
    rb_create_partitions_req_t req;
    rb_create_partitions_req_init(&req);
    rb_create_partitions_req_create_partitions_topic_t t = {0};
    t.name = rb_str_c("cp");
    t.count = 4;
    t.assignments_count = -1;
    req.topics = &t;
    req.topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_CREATE_PARTITIONS, 1, &req);
    rb_create_partitions_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_CREATE_PARTITIONS, 1, &resp);
    assert_int_equal(resp.results[0].error_code, 0);
    assert_int_equal(rb__topic_find(h->server, rb_str_c("cp"))->npartitions, 4);
    t.count = 2; /* shrinking is not allowed */
    slot = send_req(h, RB_API_KEY_CREATE_PARTITIONS, 1, &req);
    decode_resp(h, slot, RB_API_KEY_CREATE_PARTITIONS, 1, &resp);
    assert_int_equal(resp.results[0].error_code, RB_ERR_INVALID_PARTITIONS);
    g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
    assert_int_equal(produce(h, 7, 1, "cp", 3, b, NULL), 0);
}

/* ---- configs ---------------------------------------------------------------------------- */

static const rb_describe_configs_resp_describe_configs_resource_result_t *
describe(harness_t *h, int16_t v, int8_t type, const char *name, const char *key)
{
    rb_describe_configs_req_t req;
    rb_describe_configs_req_init(&req);
    rb_describe_configs_req_describe_configs_resource_t res = {0};
    rb_str_t keys[1] = {rb_str_c(key)};
    res.resource_type = type;
    res.resource_name = rb_str_c(name);
    res.configuration_keys = keys;
    res.configuration_keys_count = 1;
    req.resources = &res;
    req.resources_count = 1;
    req.include_synonyms = true;
    captured_t *slot = send_req(h, RB_API_KEY_DESCRIBE_CONFIGS, v, &req);
    rb_describe_configs_resp_t *resp = rb_arena_alloc(&h->arena, sizeof(*resp));
    decode_resp(h, slot, RB_API_KEY_DESCRIBE_CONFIGS, v, resp);
    assert_int_equal(resp->results[0].error_code, 0);
    assert_int_equal(resp->results[0].configs_count, 1);
    return &resp->results[0].configs[0];
}

static int16_t incremental(harness_t *h, const char *topic, const char *key, int8_t op,
                           const char *value)
{
    rb_incremental_alter_configs_req_t req;
    rb_incremental_alter_configs_req_init(&req);
    rb_incremental_alter_configs_req_alter_configs_resource_t res = {0};
    rb_incremental_alter_configs_req_alterable_config_t c = {rb_str_c(key), op, rb_str_c(value)};
    res.resource_type = 2;
    res.resource_name = rb_str_c(topic);
    res.configs = &c;
    res.configs_count = 1;
    req.resources = &res;
    req.resources_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_INCREMENTAL_ALTER_CONFIGS, 1, &req);
    rb_incremental_alter_configs_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_INCREMENTAL_ALTER_CONFIGS, 1, &resp);
    return resp.responses[0].error_code;
}

static void test_server__configs_describe_and_alter(void **state)
{
    harness_t *h = *state;
    create_topic(h, "cfg", 1);
    const rb_describe_configs_resp_describe_configs_resource_result_t *c =
        describe(h, 1, 2, "cfg", "retention.ms");
    assert_true(rb_str_eq(c->value, "604800000"));
    assert_int_equal(c->config_source, RB_CS_DEFAULT);
    assert_int_equal(c->synonyms_count, 1);
    assert_true(rb_str_eq(c->synonyms[0].name, "log.retention.ms"));

    assert_int_equal(incremental(h, "cfg", "retention.ms", 0, "1000"), 0);
    c = describe(h, 3, 2, "cfg", "retention.ms");
    assert_true(rb_str_eq(c->value, "1000"));
    assert_int_equal(c->config_source, RB_CS_DYNAMIC_TOPIC);
    assert_int_equal(c->config_type, RB_CT_LONG);
    assert_int_equal(c->synonyms_count, 2);
    assert_int_equal(incremental(h, "cfg", "cleanup.policy", 2, "compact"), 0);
    c = describe(h, 0, 2, "cfg", "cleanup.policy");
    assert_true(rb_str_eq(c->value, "delete,compact"));
    assert_false(c->is_default);
    assert_int_equal(incremental(h, "cfg", "cleanup.policy", 3, "delete"), 0);
    assert_true(rb_str_eq(describe(h, 1, 2, "cfg", "cleanup.policy")->value, "compact"));
    assert_int_equal(incremental(h, "cfg", "retention.ms", 0, "x"), RB_ERR_INVALID_CONFIG);
    assert_int_equal(incremental(h, "cfg", "segment.bytes", 2, "1"), RB_ERR_INVALID_CONFIG);
    assert_int_equal(incremental(h, "nope", "retention.ms", 0, "1"),
                     RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_int_equal(incremental(h, "cfg", "retention.ms", 1, NULL), 0);
    assert_int_equal(describe(h, 1, 2, "cfg", "retention.ms")->config_source, RB_CS_DEFAULT);

    /* AlterConfigs replaces the whole set */
    assert_int_equal(incremental(h, "cfg", "retention.bytes", 0, "5000"), 0);
    rb_alter_configs_req_t req;
    rb_alter_configs_req_init(&req);
    rb_alter_configs_req_alter_configs_resource_t res = {0};
    rb_alter_configs_req_alterable_config_t ac = {rb_str_c("segment.ms"), rb_str_c("60000")};
    res.resource_type = 2;
    res.resource_name = rb_str_c("cfg");
    res.configs = &ac;
    res.configs_count = 1;
    req.resources = &res;
    req.resources_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_ALTER_CONFIGS, 1, &req);
    rb_alter_configs_resp_t aresp;
    decode_resp(h, slot, RB_API_KEY_ALTER_CONFIGS, 1, &aresp);
    assert_int_equal(aresp.responses[0].error_code, 0);
    assert_true(rb_str_eq(describe(h, 1, 2, "cfg", "segment.ms")->value, "60000"));
    assert_int_equal(describe(h, 1, 2, "cfg", "retention.bytes")->config_source, RB_CS_DEFAULT);

    /* the broker resource: static configs with their sources */
    set_config(h, "num.partitions", "6");
    c = describe(h, 2, 4, "0", "num.partitions");
    assert_true(rb_str_eq(c->value, "6"));
    assert_int_equal(c->config_source, RB_CS_STATIC_BROKER);
    assert_true(c->read_only);
}

/* ---- restart ---------------------------------------------------------------------------- */

static void test_server__restart_reloads_topics(void **state)
{
    harness_t *h = *state;
    create_topic(h, "keep", 2);
    assert_int_equal(incremental(h, "keep", "retention.ms", 0, "12345"), 0);
    g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
    assert_int_equal(produce(h, 7, 1, "keep", 0, b, NULL), 0);
    rb_uuid_t id = rb__topic_find(h->server, rb_str_c("keep"))->id;
    rb_server_destroy(h->server);
    start_server(h);
    rb_topic_t *topic = rb__topic_find(h->server, rb_str_c("keep"));
    assert_non_null(topic);
    assert_int_equal(topic->npartitions, 2);
    assert_memory_equal(topic->id.b, id.b, 16);
    assert_true(rb_str_eq(describe(h, 1, 2, "keep", "retention.ms")->value, "12345"));
    assert_int_equal(list_offset(h, 1, "keep", -1)->offset, 1);
}

/* The housekeeping timer rolls and deletes by time: with segment.ms and
 * retention.ms of 1 ms, a produced batch is gone after a few checks. */
static void test_server__housekeeping_applies_retention(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    set_config(h, "log.retention.check.interval.ms", "20");
    start_server(h);
    rb_create_topics_resp_t resp;
    assert_int_equal(create_one(h, 4, "ret", 1, 1, "segment.ms", "1", false, &resp), 0);
    assert_int_equal(incremental(h, "ret", "retention.ms", 0, "1"), 0);
    g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
    assert_int_equal(produce(h, 7, 1, "ret", 0, b, NULL), 0);
    assert_int_equal(list_offset(h, 1, "ret", -2)->offset, 0);
    rb_loop_add_timer(h->loop, 400, stop_loop, h->loop);
    rb_loop_run(h->loop);
    assert_int_equal(list_offset(h, 1, "ret", -2)->offset, 1);
    assert_int_equal(list_offset(h, 1, "ret", -1)->offset, 1);
}

/* Random bodies behind valid headers, for every API and version: each
 * request is answered or its connection closed, exactly once, never a crash. */
static void test_server__garbage_requests_are_answered_or_closed(void **state)
{
    harness_t *h = *state;
    create_topic(h, "g", 1);
    clear_slots(h);
    GRand *rnd = g_rand_new_with_seed(11);
    int answered = 0, closed_before;
    for (size_t i = 0; i < rb_proto_n_apis; i++) {
        const rb_api_desc_t *api = &rb_proto_apis[i];
        for (int16_t v = api->min_version; v <= api->max_version + 1; v++) {
            for (int k = 0; k < 20; k++) {
                uint8_t frame[160];
                size_t len = 8 + (size_t)g_rand_int_range(rnd, 0, sizeof(frame) - 8);
                for (size_t j = 0; j < len; j++)
                    frame[j] = (uint8_t)g_rand_int(rnd);
                rill__be16_put(frame, (uint16_t)api->key);
                rill__be16_put(frame + 2, (uint16_t)v);
                if (k % 2 && len >= 10)
                    rill__be16_put(frame + 8, 2); /* a plausible client id length */
                if (h->next_slot == 64)
                    clear_slots(h);
                captured_t *slot = &h->slots[h->next_slot++];
                closed_before = h->closes;
                const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
                cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, frame, len, cb->ud);
                if (!slot->answered) /* a parked Fetch: the connection closes */
                    cb->on_close((rb_conn_t *)&h->conn_token, cb->ud);
                if (!slot->answered) { /* a JoinGroup waiting for its rebalance */
                    rb_server_destroy(h->server);
                    start_server(h);
                }
                assert_true(slot->answered);
                assert_true(slot->has_response || h->closes > closed_before ||
                            api->key == RB_API_KEY_PRODUCE || api->key == RB_API_KEY_FETCH ||
                            api->key == RB_API_KEY_JOIN_GROUP || api->key == RB_API_KEY_SYNC_GROUP);
                answered += slot->has_response;
            }
        }
    }
    assert_true(answered > 0);
    g_rand_free(rnd);
}

/* fetch max_bytes: the first partition with data may exceed it by one batch
 * (KIP-74); a later partition that does not fit is left for the next fetch */
static void test_server__fetch_max_bytes_over_partitions(void **state)
{
    harness_t *h = *state;
    create_topic(h, "mb", 2);
    g_autoptr(GByteArray) b = make_batch("k", "a-value-of-some-length", 1000, 0);
    assert_int_equal(produce(h, 7, 1, "mb", 0, b, NULL), 0);
    assert_int_equal(produce(h, 7, 1, "mb", 1, b, NULL), 0);
    rb_fetch_req_t req;
    rb_fetch_req_init(&req);
    req.max_wait_ms = 0;
    req.max_bytes = 10; /* smaller than one batch */
    rb_fetch_req_fetch_topic_t ft;
    rb_proto_init(&rb_fetch_req_fetch_topic_desc, &ft);
    rb_fetch_req_fetch_partition_t fp[2];
    for (int i = 0; i < 2; i++) {
        rb_proto_init(&rb_fetch_req_fetch_partition_desc, &fp[i]);
        fp[i].partition = i;
        fp[i].partition_max_bytes = 1 << 20;
    }
    ft.topic = rb_str_c("mb");
    ft.partitions = fp;
    ft.partitions_count = 2;
    req.topics = &ft;
    req.topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_FETCH, 11, &req);
    rb_fetch_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].records.len, (int32_t)b->len);
    assert_int_equal(resp.responses[0].partitions[1].records.len, 0);
    assert_int_equal(resp.responses[0].partitions[1].high_watermark, 1);
    req.max_bytes = (int32_t)(2 * b->len);
    slot = send_req(h, RB_API_KEY_FETCH, 11, &req);
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[1].records.len, (int32_t)b->len);
}

static void test_server__describe_cluster(void **state)
{
    harness_t *h = *state;
    rb_describe_cluster_req_t req;
    rb_describe_cluster_req_init(&req);
    req.endpoint_type = 1;
    captured_t *slot = send_req(h, RB_API_KEY_DESCRIBE_CLUSTER, 1, &req);
    rb_describe_cluster_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_DESCRIBE_CLUSTER, 1, &resp);
    assert_int_equal(resp.error_code, 0);
    assert_int_equal(resp.brokers_count, 1);
    assert_int_equal(resp.brokers[0].port, 19092);
    assert_true(rb_str_eq(resp.cluster_id, rb_config_str(h->config, "cluster.id")));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_server__api_versions_ranges_and_header_v0),
        T(test_server__api_versions_unknown_version_gets_v0_error_35),
        T(test_server__unknown_api_or_version_closes_connection),
        T(test_server__malformed_body_closes_connection),
        T(test_server__metadata_auto_create),
        T(test_server__produce_then_fetch_byte_for_byte),
        T(test_server__produce_errors),
        T(test_server__flush_on_ack_fsyncs_before_answering),
        T(test_server__flush_ms_fsyncs_without_housekeeping),
        T(test_server__fetch_long_poll_wakes_on_append),
        T(test_server__fetch_long_poll_times_out),
        T(test_server__list_offsets),
        T(test_server__create_topics_errors),
        T(test_server__delete_topics_and_records),
        T(test_server__create_partitions),
        T(test_server__configs_describe_and_alter),
        T(test_server__restart_reloads_topics),
        T(test_server__housekeeping_applies_retention),
        T(test_server__garbage_requests_are_answered_or_closed),
        T(test_server__fetch_max_bytes_over_partitions),
        T(test_server__describe_cluster),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
