/* test-server-coord.c: the coordinator APIs through rill-broker's handlers:
 * a consumer group round, committed offsets across restarts, idempotent
 * producers, and transactions (LSO, aborted lists, markers, fencing). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "tests/unit/broker/server-harness.h"

/* ---- consumer groups ------------------------------------------------------------------ */

static void test_server__consumer_group_round(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    set_config(h, "group.initial.rebalance.delay.ms", "0");
    start_server(h);
    create_topic(h, "gt", 2);

    rb_find_coordinator_req_t fc;
    rb_find_coordinator_req_init(&fc);
    fc.key = rb_str_c("g1");
    captured_t *slot = send_req(h, RB_API_KEY_FIND_COORDINATOR, 2, &fc);
    rb_find_coordinator_resp_t fcr;
    decode_resp(h, slot, RB_API_KEY_FIND_COORDINATOR, 2, &fcr);
    assert_int_equal(fcr.error_code, 0);
    assert_int_equal(fcr.port, 19092);

    /* JoinGroup v5: the first join gets MEMBER_ID_REQUIRED and an id */
    rb_join_group_req_t jr;
    rb_join_group_req_init(&jr);
    rb_join_group_req_join_group_request_protocol_t proto = {rb_str_c("range"),
                                                             {(const uint8_t *)"meta", 4}};
    jr.group_id = rb_str_c("g1");
    jr.session_timeout_ms = 10000;
    jr.rebalance_timeout_ms = 10000;
    jr.member_id = rb_str_c("");
    jr.group_instance_id = RB_STR_NULL;
    jr.protocol_type = rb_str_c("consumer");
    jr.protocols = &proto;
    jr.protocols_count = 1;
    slot = send_req(h, RB_API_KEY_JOIN_GROUP, 5, &jr);
    wait_answer(h, slot);
    rb_join_group_resp_t jresp;
    decode_resp(h, slot, RB_API_KEY_JOIN_GROUP, 5, &jresp);
    assert_int_equal(jresp.error_code, 79);
    assert_true(jresp.member_id.len > 0);
    jr.member_id = jresp.member_id;
    slot = send_req(h, RB_API_KEY_JOIN_GROUP, 5, &jr);
    wait_answer(h, slot);
    decode_resp(h, slot, RB_API_KEY_JOIN_GROUP, 5, &jresp);
    assert_int_equal(jresp.error_code, 0);
    assert_true(rb_str_eq(jresp.protocol_name, "range"));
    assert_int_equal(jresp.members_count, 1); /* the leader sees every member */
    assert_memory_equal(jresp.members[0].metadata.ptr, "meta", 4);
    int32_t generation = jresp.generation_id;

    rb_sync_group_req_t sr;
    rb_sync_group_req_init(&sr);
    rb_sync_group_req_sync_group_request_assignment_t as = {jr.member_id,
                                                            {(const uint8_t *)"assign", 6}};
    sr.group_id = rb_str_c("g1");
    sr.generation_id = generation;
    sr.member_id = jr.member_id;
    sr.group_instance_id = RB_STR_NULL;
    sr.assignments = &as;
    sr.assignments_count = 1;
    slot = send_req(h, RB_API_KEY_SYNC_GROUP, 3, &sr);
    wait_answer(h, slot);
    rb_sync_group_resp_t sresp;
    decode_resp(h, slot, RB_API_KEY_SYNC_GROUP, 3, &sresp);
    assert_int_equal(sresp.error_code, 0);
    assert_int_equal(sresp.assignment.len, 6);

    rb_heartbeat_req_t hb;
    rb_heartbeat_req_init(&hb);
    hb.group_id = rb_str_c("g1");
    hb.generation_id = generation;
    hb.member_id = jr.member_id;
    hb.group_instance_id = RB_STR_NULL;
    slot = send_req(h, RB_API_KEY_HEARTBEAT, 3, &hb);
    rb_heartbeat_resp_t hresp;
    decode_resp(h, slot, RB_API_KEY_HEARTBEAT, 3, &hresp);
    assert_int_equal(hresp.error_code, 0);

    /* commit and fetch offsets; an unknown partition is refused */
    rb_offset_commit_req_t oc;
    rb_offset_commit_req_init(&oc);
    rb_offset_commit_req_offset_commit_request_topic_t ot = {0};
    rb_offset_commit_req_offset_commit_request_partition_t op[2];
    for (int i = 0; i < 2; i++) {
        rb_proto_init(&rb_offset_commit_req_offset_commit_request_partition_desc, &op[i]);
        op[i].partition_index = i == 0 ? 1 : 9;
        op[i].committed_offset = 42;
        op[i].committed_metadata = rb_str_c("m");
    }
    ot.name = rb_str_c("gt");
    ot.partitions = op;
    ot.partitions_count = 2;
    oc.group_id = rb_str_c("g1");
    oc.generation_id_or_member_epoch = generation;
    oc.member_id = jr.member_id;
    oc.group_instance_id = RB_STR_NULL;
    oc.topics = &ot;
    oc.topics_count = 1;
    slot = send_req(h, RB_API_KEY_OFFSET_COMMIT, 7, &oc);
    rb_offset_commit_resp_t ocr;
    decode_resp(h, slot, RB_API_KEY_OFFSET_COMMIT, 7, &ocr);
    assert_int_equal(ocr.topics[0].partitions[0].error_code, 0);
    assert_int_equal(ocr.topics[0].partitions[1].error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);

    rb_offset_fetch_req_t of;
    rb_offset_fetch_req_init(&of);
    rb_offset_fetch_req_offset_fetch_request_topic_t oft = {0};
    int32_t parts[2] = {0, 1};
    oft.name = rb_str_c("gt");
    oft.partition_indexes = parts;
    oft.partition_indexes_count = 2;
    of.group_id = rb_str_c("g1");
    of.topics = &oft;
    of.topics_count = 1;
    for (int16_t v = 1; v <= 7; v += 6) { /* librdkafka's range: classic and flexible */
        slot = send_req(h, RB_API_KEY_OFFSET_FETCH, v, &of);
        rb_offset_fetch_resp_t ofr;
        decode_resp(h, slot, RB_API_KEY_OFFSET_FETCH, v, &ofr);
        assert_int_equal(ofr.topics[0].partitions[0].committed_offset, -1);
        assert_int_equal(ofr.topics[0].partitions[1].committed_offset, 42);
        assert_true(rb_str_eq(ofr.topics[0].partitions[1].metadata, "m"));
    }
    of.topics_count = -1; /* all committed partitions */
    slot = send_req(h, RB_API_KEY_OFFSET_FETCH, 7, &of);
    rb_offset_fetch_resp_t ofr;
    decode_resp(h, slot, RB_API_KEY_OFFSET_FETCH, 7, &ofr);
    assert_int_equal(ofr.topics_count, 1);
    assert_int_equal(ofr.topics[0].partitions_count, 1);
    assert_int_equal(ofr.topics[0].partitions[0].partition_index, 1);

    rb_describe_groups_req_t dg;
    rb_describe_groups_req_init(&dg);
    rb_str_t gid = rb_str_c("g1");
    dg.groups = &gid;
    dg.groups_count = 1;
    slot = send_req(h, RB_API_KEY_DESCRIBE_GROUPS, 4, &dg);
    rb_describe_groups_resp_t dgr;
    decode_resp(h, slot, RB_API_KEY_DESCRIBE_GROUPS, 4, &dgr);
    assert_true(rb_str_eq(dgr.groups[0].group_state, "Stable"));
    assert_int_equal(dgr.groups[0].members_count, 1);
    assert_true(rb_str_eq(dgr.groups[0].members[0].client_host, "/127.0.0.1"));
    assert_true(rb_str_eq(dgr.groups[0].members[0].client_id, "test-client"));

    rb_list_groups_req_t lg;
    rb_list_groups_req_init(&lg);
    slot = send_req(h, RB_API_KEY_LIST_GROUPS, 3, &lg);
    rb_list_groups_resp_t lgr;
    decode_resp(h, slot, RB_API_KEY_LIST_GROUPS, 3, &lgr);
    assert_int_equal(lgr.groups_count, 1);
    assert_true(rb_str_eq(lgr.groups[0].protocol_type, "consumer"));

    /* a non-empty group cannot be deleted; after LeaveGroup it can */
    rb_delete_groups_req_t del;
    rb_delete_groups_req_init(&del);
    del.groups_names = &gid;
    del.groups_names_count = 1;
    slot = send_req(h, RB_API_KEY_DELETE_GROUPS, 1, &del);
    rb_delete_groups_resp_t delr;
    decode_resp(h, slot, RB_API_KEY_DELETE_GROUPS, 1, &delr);
    assert_int_equal(delr.results[0].error_code, 68);
    rb_leave_group_req_t lv;
    rb_leave_group_req_init(&lv);
    lv.group_id = rb_str_c("g1");
    lv.member_id = jr.member_id;
    slot = send_req(h, RB_API_KEY_LEAVE_GROUP, 1, &lv);
    rb_leave_group_resp_t lvr;
    decode_resp(h, slot, RB_API_KEY_LEAVE_GROUP, 1, &lvr);
    assert_int_equal(lvr.error_code, 0);
    slot = send_req(h, RB_API_KEY_DELETE_GROUPS, 1, &del);
    decode_resp(h, slot, RB_API_KEY_DELETE_GROUPS, 1, &delr);
    assert_int_equal(delr.results[0].error_code, 0);
}

/* Committed offsets survive a restart (the offsets log is replayed). */
static void test_server__committed_offsets_survive_restart(void **state)
{
    harness_t *h = *state;
    create_topic(h, "rt", 1);
    rb_offset_commit_req_t oc;
    rb_offset_commit_req_init(&oc);
    rb_offset_commit_req_offset_commit_request_topic_t ot = {0};
    rb_offset_commit_req_offset_commit_request_partition_t op;
    rb_proto_init(&rb_offset_commit_req_offset_commit_request_partition_desc, &op);
    op.committed_offset = 7;
    ot.name = rb_str_c("rt");
    ot.partitions = &op;
    ot.partitions_count = 1;
    oc.group_id = rb_str_c("simple");
    oc.generation_id_or_member_epoch = -1;
    oc.member_id = rb_str_c("");
    oc.topics = &ot;
    oc.topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_OFFSET_COMMIT, 2, &oc);
    rb_offset_commit_resp_t ocr;
    decode_resp(h, slot, RB_API_KEY_OFFSET_COMMIT, 2, &ocr);
    assert_int_equal(ocr.topics[0].partitions[0].error_code, 0);
    rb_server_destroy(h->server);
    start_server(h);
    rb_offset_fetch_req_t of;
    rb_offset_fetch_req_init(&of);
    of.group_id = rb_str_c("simple");
    of.topics_count = -1;
    slot = send_req(h, RB_API_KEY_OFFSET_FETCH, 3, &of);
    rb_offset_fetch_resp_t ofr;
    decode_resp(h, slot, RB_API_KEY_OFFSET_FETCH, 3, &ofr);
    assert_int_equal(ofr.error_code, 0);
    assert_int_equal(ofr.topics_count, 1);
    assert_int_equal(ofr.topics[0].partitions[0].committed_offset, 7);
}

/* ---- idempotence and transactions ------------------------------------------------------ */

static void init_pid(harness_t *h, const char *tid, int64_t *pid, int16_t *epoch)
{
    rb_init_producer_id_req_t req;
    rb_init_producer_id_req_init(&req);
    req.transactional_id = rb_str_c(tid);
    req.transaction_timeout_ms = 60000;
    req.producer_id = -1;
    req.producer_epoch = -1;
    captured_t *slot = send_req(h, RB_API_KEY_INIT_PRODUCER_ID, 1, &req);
    rb_init_producer_id_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_INIT_PRODUCER_ID, 1, &resp);
    assert_int_equal(resp.error_code, 0);
    assert_true(resp.producer_id >= 0);
    *pid = resp.producer_id;
    *epoch = resp.producer_epoch;
}

static void test_server__idempotent_produce_dedupes(void **state)
{
    harness_t *h = *state;
    create_topic(h, "idem", 1);
    int64_t pid;
    int16_t epoch;
    init_pid(h, NULL, &pid, &epoch);
    int64_t base = -1;
    g_autoptr(GByteArray) b0 = make_batch_p("k", "v0", 1000, 0, pid, epoch, 0, false);
    assert_int_equal(produce(h, 7, -1, "idem", 0, b0, &base), 0);
    assert_int_equal(base, 0);
    /* the retry of the same batch is answered with its first offsets, not written */
    g_autoptr(GByteArray) again = make_batch_p("k", "v0", 1000, 0, pid, epoch, 0, false);
    assert_int_equal(produce(h, 7, -1, "idem", 0, again, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(list_offset(h, 1, "idem", -1)->offset, 1);
    /* a gap in the sequence */
    g_autoptr(GByteArray) gap = make_batch_p("k", "v5", 1000, 0, pid, epoch, 5, false);
    assert_int_equal(produce(h, 7, -1, "idem", 0, gap, &base), 45);
    g_autoptr(GByteArray) b1 = make_batch_p("k", "v1", 1000, 0, pid, epoch, 1, false);
    assert_int_equal(produce(h, 7, -1, "idem", 0, b1, &base), 0);
    assert_int_equal(base, 1);
}

static int16_t simple_txn_call(harness_t *h, int16_t key, int16_t v, const void *req)
{
    captured_t *slot = send_req(h, key, v, req);
    union {
        rb_add_offsets_to_txn_resp_t ao;
        rb_end_txn_resp_t et;
    } resp;
    decode_resp(h, slot, key, v, &resp);
    return key == RB_API_KEY_END_TXN ? resp.et.error_code : resp.ao.error_code;
}

static int16_t add_partition(harness_t *h, const char *tid, int64_t pid, int16_t epoch,
                             const char *topic, int32_t partition)
{
    rb_add_partitions_to_txn_req_t req;
    rb_add_partitions_to_txn_req_init(&req);
    rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t t = {rb_str_c(topic), &partition, 1};
    req.v3_and_below_transactional_id = rb_str_c(tid);
    req.v3_and_below_producer_id = pid;
    req.v3_and_below_producer_epoch = epoch;
    req.v3_and_below_topics = &t;
    req.v3_and_below_topics_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_ADD_PARTITIONS_TO_TXN, 1, &req);
    rb_add_partitions_to_txn_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_ADD_PARTITIONS_TO_TXN, 1, &resp);
    return resp.results_by_topic_v3_and_below[0].results_by_partition[0].partition_error_code;
}

static int16_t end_txn(harness_t *h, const char *tid, int64_t pid, int16_t epoch, bool commit)
{
    rb_end_txn_req_t req = {rb_str_c(tid), pid, epoch, commit};
    return simple_txn_call(h, RB_API_KEY_END_TXN, 1, &req);
}

static void test_server__transactions_lso_and_aborted_list(void **state)
{
    harness_t *h = *state;
    create_topic(h, "tx", 1);
    int64_t pid;
    int16_t epoch;
    init_pid(h, "tid-1", &pid, &epoch);
    assert_int_equal(add_partition(h, "tid-1", pid, epoch, "tx", 0), 0);
    assert_int_equal(add_partition(h, "tid-1", pid, epoch, "nope", 0),
                     RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    g_autoptr(GByteArray) b0 = make_batch_p("k", "aborted", 1000, 0, pid, epoch, 0, true);
    assert_int_equal(produce(h, 7, -1, "tx", 0, b0, NULL), 0);

    /* open transaction: read_committed sees nothing yet, read_uncommitted sees it */
    captured_t *slot = send_fetch(h, 11, "tx", 0, 0, 0, 0, 1);
    rb_fetch_resp_t resp;
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].high_watermark, 1);
    assert_int_equal(resp.responses[0].partitions[0].last_stable_offset, 0);
    assert_int_equal(resp.responses[0].partitions[0].records.len, 0);
    assert_int_equal(list_offset(h, 2, "tx", -1)->offset, 1);
    /* a parked read_committed fetch is woken by the abort marker */
    captured_t *parked = send_fetch(h, 11, "tx", 0, 0, 1, 30000, 1);
    assert_false(parked->answered);

    assert_int_equal(end_txn(h, "tid-1", pid, epoch, false), 0);
    assert_true(parked->answered);
    decode_resp(h, parked, RB_API_KEY_FETCH, 11, &resp);
    const rb_fetch_resp_partition_data_t *p = &resp.responses[0].partitions[0];
    assert_int_equal(p->high_watermark, 2); /* the batch and the ABORT marker */
    assert_int_equal(p->last_stable_offset, 2);
    assert_int_equal(p->aborted_transactions_count, 1);
    assert_int_equal(p->aborted_transactions[0].producer_id, pid);
    assert_int_equal(p->aborted_transactions[0].first_offset, 0);
    assert_true(p->records.len > (int32_t)b0->len); /* the data and the marker */
    /* the marker is a control batch (attributes bit 5) */
    assert_true(rill__be16_get(p->records.ptr + b0->len + 21) & 0x20);

    /* a committed transaction, with offsets sent to a group */
    assert_int_equal(add_partition(h, "tid-1", pid, epoch, "tx", 0), 0);
    rb_add_offsets_to_txn_req_t ao = {rb_str_c("tid-1"), pid, epoch, rb_str_c("txg")};
    assert_int_equal(simple_txn_call(h, RB_API_KEY_ADD_OFFSETS_TO_TXN, 1, &ao), 0);
    g_autoptr(GByteArray) b1 = make_batch_p("k", "committed", 1000, 0, pid, epoch, 1, true);
    assert_int_equal(produce(h, 7, -1, "tx", 0, b1, NULL), 0);
    rb_txn_offset_commit_req_t tc;
    rb_txn_offset_commit_req_init(&tc);
    rb_txn_offset_commit_req_txn_offset_commit_request_topic_t tt = {0};
    rb_txn_offset_commit_req_txn_offset_commit_request_partition_t tp;
    rb_proto_init(&rb_txn_offset_commit_req_txn_offset_commit_request_partition_desc, &tp);
    tp.committed_offset = 11;
    tt.name = rb_str_c("tx");
    tt.partitions = &tp;
    tt.partitions_count = 1;
    tc.transactional_id = rb_str_c("tid-1");
    tc.group_id = rb_str_c("txg");
    tc.producer_id = pid;
    tc.producer_epoch = epoch;
    tc.topics = &tt;
    tc.topics_count = 1;
    slot = send_req(h, RB_API_KEY_TXN_OFFSET_COMMIT, 2, &tc);
    rb_txn_offset_commit_resp_t tcr;
    decode_resp(h, slot, RB_API_KEY_TXN_OFFSET_COMMIT, 2, &tcr);
    assert_int_equal(tcr.topics[0].partitions[0].error_code, 0);
    assert_int_equal(end_txn(h, "tid-1", pid, epoch, true), 0);

    slot = send_fetch(h, 11, "tx", 0, 2, 0, 0, 1);
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].last_stable_offset, 4);
    assert_int_equal(resp.responses[0].partitions[0].aborted_transactions_count, 0);
    rb_offset_fetch_req_t of;
    rb_offset_fetch_req_init(&of);
    of.group_id = rb_str_c("txg");
    of.topics_count = -1;
    slot = send_req(h, RB_API_KEY_OFFSET_FETCH, 7, &of);
    rb_offset_fetch_resp_t ofr;
    decode_resp(h, slot, RB_API_KEY_OFFSET_FETCH, 7, &ofr);
    assert_int_equal(ofr.topics_count, 1);
    assert_int_equal(ofr.topics[0].partitions[0].committed_offset, 11);

    /* the producer state survives a restart: a stale epoch is fenced after re-init */
    rb_server_destroy(h->server);
    /* it lives beside the log's directory, not in it */
    g_autofree char *psdir = g_build_filename(h->dir, "__producer_state", "tx-0", NULL);
    g_autofree char *stray = g_build_filename(h->dir, "tx-0", "aborted.txnindex", NULL);
    assert_true(g_file_test(psdir, G_FILE_TEST_IS_DIR));
    assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
    start_server(h);
    int64_t pid2;
    int16_t epoch2;
    init_pid(h, "tid-1", &pid2, &epoch2);
    assert_int_equal(pid2, pid);
    assert_true(epoch2 > epoch);
    assert_int_equal(add_partition(h, "tid-1", pid, epoch, "tx", 0), 47); /* fenced (v1) */
    slot = send_fetch(h, 11, "tx", 0, 0, 0, 0, 1);
    decode_resp(h, slot, RB_API_KEY_FETCH, 11, &resp);
    assert_int_equal(resp.responses[0].partitions[0].last_stable_offset, 4);
    assert_int_equal(resp.responses[0].partitions[0].aborted_transactions_count, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_server__consumer_group_round),
        T(test_server__committed_offsets_survive_restart),
        T(test_server__idempotent_produce_dedupes),
        T(test_server__transactions_lso_and_aborted_list),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
