/* test-txn-server.c: the transaction APIs on the wire (broker/server/h-txn.c):
 * request frames in through the server's callbacks, responses captured
 * through its I/O seam and decoded -- idempotent Produce retries, a
 * transaction aborted and seen by a read_committed Fetch, the per-version
 * PRODUCER_FENCED mapping, and the operator views. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/server/server-private.h"
#include "tests/unit/broker/txn/txn-test.h"

typedef struct captured {
    bool answered;
    GByteArray *bytes;
} captured_t;

typedef struct harness {
    char *dir;
    rb_config_t *config;
    rb_loop_t *loop;
    rb_server_t *server;
    captured_t slots[128];
    int next_slot;
    char conn_token;
    rb_arena_t arena;
} harness_t;

static void capture_respond(void *ud, rb_slot_t *slot, rb_enc_t *enc)
{
    harness_t *h = ud;
    captured_t *c = (captured_t *)slot;
    assert_true(c >= h->slots && c < h->slots + 128);
    assert_false(c->answered);
    c->answered = true;
    if (!enc)
        return;
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
    (void)ud;
    (void)conn;
    fail_msg("connection closed: %s", reason);
}

static const char *fake_peer(void *ud, rb_conn_t *conn)
{
    (void)ud;
    (void)conn;
    return "127.0.0.1:40000";
}

static void start_server(harness_t *h)
{
    g_autofree char *errmsg = NULL;
    h->server = rb_server_new(h->loop, h->config, &errmsg);
    if (!h->server)
        fail_msg("rb_server_new: %s", errmsg);
    rb__server_set_io(h->server, capture_respond, capture_close, fake_peer, h);
    rb_server_set_advertised(h->server, "127.0.0.1", 19092);
}

static void clear_slots(harness_t *h)
{
    for (int i = 0; i < h->next_slot; i++) {
        if (h->slots[i].bytes)
            g_byte_array_free(h->slots[i].bytes, TRUE);
        h->slots[i] = (captured_t){0};
    }
    h->next_slot = 0;
}

static int setup(void **state)
{
    harness_t *h = g_new0(harness_t, 1);
    h->dir = test_tmpdir();
    h->config = rb_config_new_defaults();
    g_autofree char *errmsg = NULL;
    assert_true(rb_config_set(h->config, "log.dirs", h->dir, &errmsg));
    h->loop = rb_loop_new();
    rb_arena_init(&h->arena);
    start_server(h);
    char *err = NULL;
    assert_non_null(rb__topic_create(h->server, "t", 2, NULL, &err));
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    rb_loop_destroy(h->loop);
    rb_config_free(h->config);
    clear_slots(h);
    rb_arena_clear(&h->arena);
    test_rmtree(h->dir);
    g_free(h->dir);
    g_free(h);
    return 0;
}

/* Sends a request struct of api key at version v and decodes the response into out. */
static void call(harness_t *h, int16_t key, int16_t v, const void *req, void *out)
{
    const rb_api_desc_t *api = rb_proto_api(key);
    assert_non_null(api);
    bool flex = rb_proto_is_flexible(api, v);
    rb_enc_t enc;
    rb_enc_init(&enc);
    int32_t corr = 5000 + h->next_slot;
    rb_req_header_t hdr = {key, v, corr, rb_str_c("test")};
    rb_proto_write_req_header(&enc, &hdr, flex);
    rb_proto_encode(api->request, v, flex, &enc, req);
    assert_true(h->next_slot < 128);
    captured_t *slot = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, enc.w.data, enc.w.len, cb->ud);
    rb_enc_free(&enc);
    assert_true(slot->answered);
    assert_non_null(slot->bytes);
    rill_rbuf_t r;
    rill__rbuf_init(&r, slot->bytes->data, slot->bytes->len);
    assert_int_equal(rill__rbuf_get_i32(&r), corr);
    if (flex)
        assert_int_equal(rill__rbuf_get_u8(&r), 0);
    assert_int_equal(rb_proto_decode(api->response, v, flex, &r, &h->arena, out), 0);
    assert_int_equal(rill__rbuf_remaining(&r), 0);
}

static int16_t init_pid(harness_t *h, int16_t v, const char *txn_id, int64_t *pid, int16_t *epoch)
{
    rb_init_producer_id_req_t req;
    rb_init_producer_id_req_init(&req);
    req.transactional_id = txn_id ? rb_str_c(txn_id) : (rb_str_t){NULL, -1};
    req.transaction_timeout_ms = 60000;
    rb_init_producer_id_resp_t resp;
    call(h, RB_API_KEY_INIT_PRODUCER_ID, v, &req, &resp);
    *pid = resp.producer_id;
    *epoch = resp.producer_epoch;
    return resp.error_code;
}

/* Produce v7 of one batch to t/partition; returns the error, *base the offset. */
static int16_t produce(harness_t *h, int32_t partition, int64_t pid, int16_t epoch, int32_t seq,
                       int n, bool transactional, int64_t *base)
{
    rill_wbuf_t w;
    rill__wbuf_init(&w, 128);
    test_build_batch(&w, pid, epoch, seq, n, transactional, 1000);
    rb_produce_req_partition_produce_data_t pd = {.index = partition};
    pd.records = (rb_records_t){w.data, (int32_t)w.len, -1, 0};
    rb_produce_req_topic_produce_data_t td = {rb_str_c("t"), &pd, 1};
    rb_produce_req_t req;
    rb_produce_req_init(&req);
    req.acks = -1;
    req.timeout_ms = 1000;
    req.topic_data = &td;
    req.topic_data_count = 1;
    rb_produce_resp_t resp;
    call(h, RB_API_KEY_PRODUCE, 7, &req, &resp);
    rill__wbuf_free(&w);
    *base = resp.responses[0].partition_responses[0].base_offset;
    return resp.responses[0].partition_responses[0].error_code;
}

/* Fetch v11 of t/partition from offset at isolation (1 = read_committed). */
static rb_fetch_resp_partition_data_t *fetch(harness_t *h, int32_t partition, int64_t offset,
                                             int8_t isolation)
{
    rb_fetch_req_fetch_partition_t fp = {.partition = partition,
                                         .fetch_offset = offset,
                                         .partition_max_bytes = 1 << 20,
                                         .current_leader_epoch = -1,
                                         .log_start_offset = -1};
    rb_fetch_req_fetch_topic_t ft = {
        .topic = rb_str_c("t"), .partitions = &fp, .partitions_count = 1};
    rb_fetch_req_t req;
    rb_fetch_req_init(&req);
    req.replica_id = -1;
    req.max_wait_ms = 0;
    req.min_bytes = 0;
    req.max_bytes = 1 << 20;
    req.isolation_level = isolation;
    req.session_epoch = -1;
    req.topics = &ft;
    req.topics_count = 1;
    rb_fetch_resp_t *resp = rb_arena_alloc(&h->arena, sizeof(*resp));
    call(h, RB_API_KEY_FETCH, 11, &req, resp);
    assert_int_equal(resp->responses_count, 1);
    return &resp->responses[0].partitions[0];
}

static void test_txn_server__idempotent_produce_dedupes_on_the_wire(void **state)
{
    harness_t *h = *state;
    int64_t pid, base;
    int16_t epoch;
    assert_int_equal(init_pid(h, 1, NULL, &pid, &epoch), 0);
    assert_true(pid >= 0);
    assert_int_equal(epoch, 0);
    assert_int_equal(produce(h, 0, pid, epoch, 0, 3, false, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(produce(h, 0, pid, epoch, 3, 2, false, &base), 0);
    assert_int_equal(base, 3);
    /* the retry of the first batch: its offset again, nothing appended */
    assert_int_equal(produce(h, 0, pid, epoch, 0, 3, false, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(rb_log_end_offset(rb__partition_find(h->server, rb_str_c("t"), 0)->log), 5);
    assert_int_equal(produce(h, 0, pid, epoch, 9, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(h, 1, pid, epoch, 4, 1, false, &base), RB_TXN_ERR_UNKNOWN_PRODUCER_ID);
    /* FindCoordinator for a transaction: this broker */
    rb_find_coordinator_req_t fc;
    rb_find_coordinator_req_init(&fc);
    fc.key = rb_str_c("app");
    fc.key_type = 1;
    rb_find_coordinator_resp_t fcr;
    call(h, RB_API_KEY_FIND_COORDINATOR, 2, &fc, &fcr);
    assert_int_equal(fcr.error_code, 0);
    assert_int_equal(fcr.node_id, 0);
    assert_int_equal(fcr.port, 19092);
}

static void test_txn_server__abort_seen_by_read_committed_fetch(void **state)
{
    harness_t *h = *state;
    int64_t pid, base;
    int16_t epoch;
    assert_int_equal(init_pid(h, 4, "app", &pid, &epoch), 0);

    /* An unknown partition: UNKNOWN_TOPIC_OR_PARTITION, the others not attempted. */
    int32_t parts[] = {0, 7};
    rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t topic = {rb_str_c("t"), parts, 2};
    rb_add_partitions_to_txn_req_t ap;
    rb_add_partitions_to_txn_req_init(&ap);
    ap.v3_and_below_transactional_id = rb_str_c("app");
    ap.v3_and_below_producer_id = pid;
    ap.v3_and_below_producer_epoch = epoch;
    ap.v3_and_below_topics = &topic;
    ap.v3_and_below_topics_count = 1;
    rb_add_partitions_to_txn_resp_t apr;
    call(h, RB_API_KEY_ADD_PARTITIONS_TO_TXN, 0, &ap, &apr);
    assert_int_equal(
        apr.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code, 55);
    assert_int_equal(
        apr.results_by_topic_v3_and_below[0].results_by_partition[1].partition_error_code, 3);
    topic.partitions_count = 1;
    call(h, RB_API_KEY_ADD_PARTITIONS_TO_TXN, 0, &ap, &apr);
    assert_int_equal(
        apr.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code, 0);

    assert_int_equal(produce(h, 0, -1, -1, -1, 2, false, &base), 0);   /* 0-1 plain */
    assert_int_equal(produce(h, 0, pid, epoch, 0, 3, true, &base), 0); /* 2-4 in the txn */
    assert_int_equal(base, 2);
    rb_fetch_resp_partition_data_t *pr = fetch(h, 0, 0, 1);
    assert_int_equal(pr->high_watermark, 5);
    assert_int_equal(pr->last_stable_offset, 2);
    pr = fetch(h, 0, 0, 0);
    assert_int_equal(pr->last_stable_offset, 2);

    rb_end_txn_req_t et;
    rb_end_txn_req_init(&et);
    et.transactional_id = rb_str_c("app");
    et.producer_id = pid;
    et.producer_epoch = epoch;
    et.committed = false;
    rb_end_txn_resp_t etr;
    call(h, RB_API_KEY_END_TXN, 1, &et, &etr);
    assert_int_equal(etr.error_code, 0);

    pr = fetch(h, 0, 0, 1);
    assert_int_equal(pr->high_watermark, 6); /* the ABORT marker at 5 */
    assert_int_equal(pr->last_stable_offset, 6);
    assert_int_equal(pr->aborted_transactions_count, 1);
    assert_int_equal(pr->aborted_transactions[0].producer_id, pid);
    assert_int_equal(pr->aborted_transactions[0].first_offset, 2);
    assert_true(pr->records.len > 0);
    /* from past the abort: nothing to list */
    pr = fetch(h, 0, 6, 1);
    assert_int_equal(pr->aborted_transactions_count, 0);

    /* A new instance fences the old epoch: 47 at EndTxn v1, 90 at v3. */
    int64_t pid2;
    int16_t epoch2;
    assert_int_equal(init_pid(h, 4, "app", &pid2, &epoch2), 0);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, epoch + 1);
    et.committed = true;
    call(h, RB_API_KEY_END_TXN, 1, &et, &etr);
    assert_int_equal(etr.error_code, RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    call(h, RB_API_KEY_END_TXN, 3, &et, &etr);
    assert_int_equal(etr.error_code, RB_TXN_ERR_PRODUCER_FENCED);
    /* The fenced producer cannot write to a partition its successor has not
     * touched yet either (KIP-890's check at the coordinator). */
    assert_int_equal(produce(h, 1, pid, epoch, 0, 1, true, &base),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    /* Nor the new epoch to a partition it did not add. */
    assert_int_equal(produce(h, 1, pid2, epoch2, 0, 1, true, &base), RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_log_end_offset(rb__partition_find(h->server, rb_str_c("t"), 1)->log), 0);
}

static void test_txn_server__operator_views(void **state)
{
    harness_t *h = *state;
    int64_t pid, base;
    int16_t epoch;
    assert_int_equal(init_pid(h, 3, "ops", &pid, &epoch), 0);
    int32_t parts[] = {1};
    rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t topic = {rb_str_c("t"), parts, 1};
    rb_add_partitions_to_txn_req_t ap;
    rb_add_partitions_to_txn_req_init(&ap);
    ap.v3_and_below_transactional_id = rb_str_c("ops");
    ap.v3_and_below_producer_id = pid;
    ap.v3_and_below_producer_epoch = epoch;
    ap.v3_and_below_topics = &topic;
    ap.v3_and_below_topics_count = 1;
    rb_add_partitions_to_txn_resp_t apr;
    call(h, RB_API_KEY_ADD_PARTITIONS_TO_TXN, 1, &ap, &apr);
    assert_int_equal(
        apr.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code, 0);
    assert_int_equal(produce(h, 1, pid, epoch, 0, 2, true, &base), 0);

    int32_t idx[] = {1, 9};
    rb_describe_producers_req_topic_request_t dq = {rb_str_c("t"), idx, 2};
    rb_describe_producers_req_t dp = {&dq, 1};
    rb_describe_producers_resp_t dpr;
    call(h, RB_API_KEY_DESCRIBE_PRODUCERS, 0, &dp, &dpr);
    rb_describe_producers_resp_partition_response_t *p1 = &dpr.topics[0].partitions[0];
    assert_int_equal(p1->error_code, 0);
    assert_int_equal(p1->active_producers_count, 1);
    assert_int_equal(p1->active_producers[0].producer_id, pid);
    assert_int_equal(p1->active_producers[0].last_sequence, 1);
    assert_int_equal(p1->active_producers[0].current_txn_start_offset, 0);
    assert_int_equal(dpr.topics[0].partitions[1].error_code, 3);

    rb_str_t ids[] = {rb_str_c("ops"), rb_str_c("nobody")};
    rb_describe_transactions_req_t dt = {ids, 2};
    rb_describe_transactions_resp_t dtr;
    call(h, RB_API_KEY_DESCRIBE_TRANSACTIONS, 0, &dt, &dtr);
    assert_int_equal(dtr.transaction_states_count, 2);
    rb_describe_transactions_resp_transaction_state_t *st = &dtr.transaction_states[0];
    assert_int_equal(st->error_code, 0);
    assert_int_equal(st->transaction_state.len, 7);
    assert_memory_equal(st->transaction_state.ptr, "Ongoing", 7);
    assert_int_equal(st->producer_id, pid);
    assert_int_equal(st->topics_count, 1);
    assert_int_equal(st->topics[0].partitions_count, 1);
    assert_int_equal(st->topics[0].partitions[0], 1);
    assert_int_equal(dtr.transaction_states[1].error_code, 105);

    rb_str_t filters[] = {rb_str_c("Ongoing"), rb_str_c("Sleeping")};
    rb_list_transactions_req_t lt = {filters, 2, NULL, 0};
    rb_list_transactions_resp_t ltr;
    call(h, RB_API_KEY_LIST_TRANSACTIONS, 0, &lt, &ltr);
    assert_int_equal(ltr.transaction_states_count, 1);
    assert_int_equal(ltr.transaction_states[0].producer_id, pid);
    assert_int_equal(ltr.unknown_state_filters_count, 1);
    assert_memory_equal(ltr.unknown_state_filters[0].ptr, "Sleeping", 8);
    rb_str_t complete[] = {rb_str_c("CompleteCommit")};
    lt = (rb_list_transactions_req_t){complete, 1, NULL, 0};
    call(h, RB_API_KEY_LIST_TRANSACTIONS, 0, &lt, &ltr);
    assert_int_equal(ltr.transaction_states_count, 0);
}

static void test_txn_server__restart_aborts_open_transaction(void **state)
{
    harness_t *h = *state;
    int64_t pid, base;
    int16_t epoch;
    assert_int_equal(init_pid(h, 1, "crashy", &pid, &epoch), 0);
    int32_t parts[] = {0};
    rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t topic = {rb_str_c("t"), parts, 1};
    rb_add_partitions_to_txn_req_t ap;
    rb_add_partitions_to_txn_req_init(&ap);
    ap.v3_and_below_transactional_id = rb_str_c("crashy");
    ap.v3_and_below_producer_id = pid;
    ap.v3_and_below_producer_epoch = epoch;
    ap.v3_and_below_topics = &topic;
    ap.v3_and_below_topics_count = 1;
    rb_add_partitions_to_txn_resp_t apr;
    call(h, RB_API_KEY_ADD_PARTITIONS_TO_TXN, 0, &ap, &apr);
    assert_int_equal(produce(h, 0, pid, epoch, 0, 4, true, &base), 0);
    assert_int_equal(fetch(h, 0, 0, 1)->last_stable_offset, 0);
    /* restart: the producer state is rebuilt, the open transaction aborted */
    rb_server_destroy(h->server);
    clear_slots(h);
    start_server(h);
    rb_fetch_resp_partition_data_t *pr = fetch(h, 0, 0, 1);
    assert_int_equal(pr->high_watermark, 5);
    assert_int_equal(pr->last_stable_offset, 5);
    assert_int_equal(pr->aborted_transactions_count, 1);
    assert_int_equal(pr->aborted_transactions[0].producer_id, pid);
    /* and the zombie is fenced */
    assert_int_equal(produce(h, 0, pid, epoch, 4, 1, true, &base),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_txn_server__idempotent_produce_dedupes_on_the_wire,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_server__abort_seen_by_read_committed_fetch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_txn_server__operator_views, setup, teardown),
        cmocka_unit_test_setup_teardown(test_txn_server__restart_aborts_open_transaction, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
