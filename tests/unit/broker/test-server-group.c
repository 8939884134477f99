/* test-server-group.c: the group APIs on the wire (broker/server/h-group.c),
 * fed request frames without sockets at the versions our clients do not all
 * send: FindCoordinator v0-v4, JoinGroup v0/v4/v7 (KIP-394, nullable protocol
 * name), LeaveGroup v0 and v3 (batch), OffsetCommit v0/v2/v8, OffsetFetch
 * v1/v3/v7 (named partitions, all topics), DescribeGroups, ListGroups v4
 * (states filter), DeleteGroups, and DeleteTopics dropping committed
 * offsets. The wiring is broker-proto's h-group.c; these are the coordinator's
 * answers as clients see them. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/server/server-private.h"
#include "common/log.h"

typedef struct captured {
    bool answered;
    GByteArray *bytes;
} captured_t;

typedef struct harness {
    char *dir;
    rb_config_t *config;
    rb_loop_t *loop;
    rb_server_t *server;
    captured_t slots[64];
    int next_slot;
    char conn_token;
    rb_arena_t arena;
} harness_t;

static void capture_respond(void *ud, rb_slot_t *slot, rb_enc_t *enc)
{
    harness_t *h = ud;
    captured_t *c = (captured_t *)slot;
    assert_true(c >= h->slots && c < h->slots + 64);
    assert_false(c->answered);
    assert_non_null(enc);
    assert_int_equal(enc->nsplices, 0);
    c->answered = true;
    c->bytes = g_byte_array_new();
    g_byte_array_append(c->bytes, enc->w.data, (guint)enc->w.len);
}

static void capture_close(void *ud, rb_conn_t *conn, const char *reason)
{
    fail_msg("connection closed: %s", reason);
}

static const char *fake_peer(void *ud, rb_conn_t *conn)
{
    return "10.1.2.3:5555";
}

static void set_config(harness_t *h, const char *key, const char *value)
{
    g_autofree char *errmsg = NULL;
    if (!rb_config_set(h->config, key, value, &errmsg))
        fail_msg("config %s: %s", key, errmsg);
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

static int setup(void **state)
{
    harness_t *h = g_new0(harness_t, 1);
    h->dir = g_dir_make_tmp("rill-test-server-group-XXXXXX", NULL);
    h->config = rb_config_new_defaults();
    set_config(h, "log.dirs", h->dir);
    set_config(h, "group.initial.rebalance.delay.ms", "0");
    h->loop = rb_loop_new();
    rb_arena_init(&h->arena);
    g_autofree char *errmsg = NULL;
    h->server = rb_server_new(h->loop, h->config, &errmsg);
    if (!h->server)
        fail_msg("rb_server_new: %s", errmsg);
    rb__server_set_io(h->server, capture_respond, capture_close, fake_peer, h);
    rb_server_set_advertised(h->server, "127.0.0.1", 19092);
    g_autofree char *err2 = NULL;
    assert_non_null(rb__topic_create(h->server, "t", 2, NULL, &err2));
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    harness_t *h = *state;
    rb_server_destroy(h->server);
    rb_loop_destroy(h->loop);
    rb_config_free(h->config);
    for (int i = 0; i < h->next_slot; i++)
        if (h->slots[i].bytes)
            g_byte_array_free(h->slots[i].bytes, TRUE);
    rb_arena_clear(&h->arena);
    rm_rf(h->dir);
    g_free(h->dir);
    g_free(h);
    return 0;
}

/* Sends body at version v and decodes the (immediate) answer into out. */
static void call(harness_t *h, int16_t key, int16_t v, const void *body, void *out)
{
    const rb_api_desc_t *api = rb_proto_api(key);
    bool flex = rb_proto_is_flexible(api, v);
    rb_enc_t enc;
    rb_enc_init(&enc);
    rb_req_header_t hdr = {key, v, 1000 + h->next_slot, rb_str_c("test-client")};
    rb_proto_write_req_header(&enc, &hdr, flex);
    rb_proto_encode(api->request, v, flex, &enc, body);
    assert_true(h->next_slot < 64);
    captured_t *slot = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)slot, enc.w.data, enc.w.len, cb->ud);
    rb_enc_free(&enc);
    assert_true(slot->answered);
    rill_rbuf_t r;
    rill__rbuf_init(&r, slot->bytes->data, slot->bytes->len);
    assert_int_equal(rill__rbuf_get_i32(&r), 1000 + (int)(slot - h->slots));
    if (flex)
        assert_int_equal(rill__rbuf_get_u8(&r), 0);
    assert_int_equal(rb_proto_decode(api->response, v, flex, &r, &h->arena, out), 0);
    assert_int_equal(rill__rbuf_remaining(&r), 0);
}

static bool str_is(rb_str_t s, const char *want)
{
    return rb_str_eq(s, want);
}

static void test_server_group__find_coordinator(void **state)
{
    harness_t *h = *state;
    rb_find_coordinator_req_t req;
    rb_find_coordinator_resp_t resp;
    for (int16_t v = 0; v <= 3; v++) {
        rb_find_coordinator_req_init(&req);
        req.key = rb_str_c("app");
        call(h, RB_API_KEY_FIND_COORDINATOR, v, &req, &resp);
        assert_int_equal(resp.error_code, 0);
        assert_int_equal(resp.node_id, 0);
        assert_true(str_is(resp.host, "127.0.0.1"));
        assert_int_equal(resp.port, 19092);
    }
    rb_find_coordinator_req_init(&req);
    rb_str_t keys[] = {rb_str_c("a"), rb_str_c("b")};
    req.coordinator_keys = keys;
    req.coordinator_keys_count = 2;
    call(h, RB_API_KEY_FIND_COORDINATOR, 4, &req, &resp);
    assert_int_equal(resp.coordinators_count, 2);
    assert_true(str_is(resp.coordinators[1].key, "b"));
    assert_int_equal(resp.coordinators[1].error_code, 0);
    assert_int_equal(resp.coordinators[1].port, 19092);
    rb_find_coordinator_req_init(&req);
    req.key = rb_str_c("x");
    req.key_type = 2; /* no such key type */
    call(h, RB_API_KEY_FIND_COORDINATOR, 2, &req, &resp);
    assert_int_equal(resp.error_code, RB_ERR_INVALID_REQUEST);
}

static void join(harness_t *h, int16_t v, const char *group, const char *member_id,
                 int32_t session_ms, rb_join_group_resp_t *resp)
{
    rb_join_group_req_t req;
    rb_join_group_req_init(&req);
    rb_join_group_req_join_group_request_protocol_t proto = {rb_str_c("range"),
                                                             {(const uint8_t *)"md", 2}};
    req.group_id = rb_str_c(group);
    req.session_timeout_ms = session_ms;
    req.rebalance_timeout_ms = 10000;
    req.member_id = rb_str_c(member_id);
    req.protocol_type = rb_str_c("consumer");
    req.protocols = &proto;
    req.protocols_count = 1;
    call(h, RB_API_KEY_JOIN_GROUP, v, &req, resp);
}

static void test_server_group__join_sync_heartbeat(void **state)
{
    harness_t *h = *state;
    rb_join_group_resp_t jr;
    /* v4+: KIP-394 round trip */
    join(h, 4, "app", "", 10000, &jr);
    assert_int_equal(jr.error_code, RB_GROUP_ERR_MEMBER_ID_REQUIRED);
    assert_true(jr.member_id.len > 0);
    g_autofree char *member_id = rb_str_dup(jr.member_id);
    assert_true(g_str_has_prefix(member_id, "test-client-"));
    join(h, 4, "app", member_id, 10000, &jr);
    assert_int_equal(jr.error_code, 0);
    assert_int_equal(jr.generation_id, 1);
    assert_true(str_is(jr.protocol_name, "range"));
    assert_true(str_is(jr.leader, member_id));
    assert_int_equal(jr.members_count, 1);
    assert_int_equal(jr.members[0].metadata.len, 2);
    /* errors: v7 answers a null protocol name, v0 an empty one */
    join(h, 7, "other", "", 10, &jr);
    assert_int_equal(jr.error_code, RB_GROUP_ERR_INVALID_SESSION_TIMEOUT);
    assert_true(rb_str_is_null(jr.protocol_name));
    join(h, 0, "other", "", 10, &jr);
    assert_int_equal(jr.error_code, RB_GROUP_ERR_INVALID_SESSION_TIMEOUT);
    assert_true(str_is(jr.protocol_name, ""));

    rb_sync_group_req_t sr;
    rb_sync_group_req_init(&sr);
    rb_sync_group_req_sync_group_request_assignment_t as = {rb_str_c(member_id),
                                                            {(const uint8_t *)"ASSIGN", 6}};
    sr.group_id = rb_str_c("app");
    sr.generation_id = 1;
    sr.member_id = rb_str_c(member_id);
    sr.assignments = &as;
    sr.assignments_count = 1;
    sr.protocol_type = rb_str_c("consumer");
    sr.protocol_name = rb_str_c("range");
    rb_sync_group_resp_t sresp;
    call(h, RB_API_KEY_SYNC_GROUP, 5, &sr, &sresp);
    assert_int_equal(sresp.error_code, 0);
    assert_int_equal(sresp.assignment.len, 6);
    assert_memory_equal(sresp.assignment.ptr, "ASSIGN", 6);
    assert_true(str_is(sresp.protocol_name, "range"));

    rb_heartbeat_req_t hb;
    rb_heartbeat_req_init(&hb);
    hb.group_id = rb_str_c("app");
    hb.generation_id = 1;
    hb.member_id = rb_str_c(member_id);
    rb_heartbeat_resp_t hresp;
    for (int16_t v = 0; v <= 4; v++) {
        call(h, RB_API_KEY_HEARTBEAT, v, &hb, &hresp);
        assert_int_equal(hresp.error_code, 0);
    }
    hb.generation_id = 2;
    call(h, RB_API_KEY_HEARTBEAT, 1, &hb, &hresp);
    assert_int_equal(hresp.error_code, RB_GROUP_ERR_ILLEGAL_GENERATION);

    /* DescribeGroups v5 sees it Stable with the member's assignment */
    rb_describe_groups_req_t dr;
    rb_describe_groups_req_init(&dr);
    rb_str_t names[] = {rb_str_c("app"), rb_str_c("nobody")};
    dr.groups = names;
    dr.groups_count = 2;
    rb_describe_groups_resp_t dresp;
    call(h, RB_API_KEY_DESCRIBE_GROUPS, 5, &dr, &dresp);
    assert_int_equal(dresp.groups_count, 2);
    assert_true(str_is(dresp.groups[0].group_state, "Stable"));
    assert_true(str_is(dresp.groups[0].protocol_data, "range"));
    assert_int_equal(dresp.groups[0].members_count, 1);
    assert_true(str_is(dresp.groups[0].members[0].client_id, "test-client"));
    assert_true(str_is(dresp.groups[0].members[0].client_host, "/10.1.2.3"));
    assert_int_equal(dresp.groups[0].members[0].member_assignment.len, 6);
    assert_true(str_is(dresp.groups[1].group_state, "Dead"));
    assert_int_equal(dresp.groups[1].error_code, 0);
}

static void test_server_group__leave_versions(void **state)
{
    harness_t *h = *state;
    rb_join_group_resp_t jr;
    join(h, 3, "app", "", 10000, &jr); /* v3: no KIP-394 */
    assert_int_equal(jr.error_code, 0);
    g_autofree char *member_id = rb_str_dup(jr.member_id);

    rb_leave_group_req_t lr;
    rb_leave_group_resp_t lresp;
    rb_leave_group_req_init(&lr);
    lr.group_id = rb_str_c("app");
    lr.member_id = rb_str_c("not-a-member");
    call(h, RB_API_KEY_LEAVE_GROUP, 0, &lr, &lresp);
    assert_int_equal(lresp.error_code, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);

    rb_leave_group_req_init(&lr);
    lr.group_id = rb_str_c("app");
    rb_leave_group_req_member_identity_t ids[2] = {
        {rb_str_c(member_id), RB_STR_NULL, RB_STR_NULL},
        {rb_str_c("ghost"), RB_STR_NULL, RB_STR_NULL},
    };
    lr.members = ids;
    lr.members_count = 2;
    call(h, RB_API_KEY_LEAVE_GROUP, 3, &lr, &lresp);
    assert_int_equal(lresp.error_code, 0);
    assert_int_equal(lresp.members_count, 2);
    assert_int_equal(lresp.members[0].error_code, 0);
    assert_int_equal(lresp.members[1].error_code, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    assert_true(str_is(lresp.members[1].member_id, "ghost"));

    /* ListGroups v4 with a states filter */
    rb_list_groups_req_t lg;
    rb_list_groups_req_init(&lg);
    rb_list_groups_resp_t lgr;
    call(h, RB_API_KEY_LIST_GROUPS, 0, &lg, &lgr);
    assert_int_equal(lgr.groups_count, 1);
    assert_true(str_is(lgr.groups[0].group_id, "app"));
    assert_true(str_is(lgr.groups[0].protocol_type, "consumer"));
    rb_str_t states[] = {rb_str_c("Stable")};
    lg.states_filter = states;
    lg.states_filter_count = 1;
    call(h, RB_API_KEY_LIST_GROUPS, 4, &lg, &lgr);
    assert_int_equal(lgr.groups_count, 0);
    states[0] = rb_str_c("Empty");
    call(h, RB_API_KEY_LIST_GROUPS, 4, &lg, &lgr);
    assert_int_equal(lgr.groups_count, 1);
    assert_true(str_is(lgr.groups[0].group_state, "Empty"));
}

static void commit(harness_t *h, int16_t v, const char *group, const char *topic, int64_t offset0,
                   int64_t offset1, rb_offset_commit_resp_t *resp)
{
    rb_offset_commit_req_t req;
    rb_offset_commit_req_init(&req);
    rb_offset_commit_req_offset_commit_request_partition_t parts[2];
    for (int i = 0; i < 2; i++) {
        rb_proto_init(&rb_offset_commit_req_offset_commit_request_partition_desc, &parts[i]);
        parts[i].partition_index = i;
        parts[i].committed_offset = i ? offset1 : offset0;
        parts[i].committed_metadata = rb_str_c(i ? "one" : NULL);
    }
    rb_offset_commit_req_offset_commit_request_topic_t t = {rb_str_c(topic), parts, 2};
    req.group_id = rb_str_c(group);
    req.generation_id_or_member_epoch = -1;
    req.member_id = rb_str_c("");
    req.topics = &t;
    req.topics_count = 1;
    call(h, RB_API_KEY_OFFSET_COMMIT, v, &req, resp);
}

static void test_server_group__offsets(void **state)
{
    harness_t *h = *state;
    rb_offset_commit_resp_t cr;
    commit(h, 2, "g", "t", 10, 11, &cr);
    assert_int_equal(cr.topics_count, 1);
    assert_int_equal(cr.topics[0].partitions[0].error_code, 0);
    assert_int_equal(cr.topics[0].partitions[1].error_code, 0);
    commit(h, 8, "g", "no-such-topic", 1, 1, &cr);
    assert_int_equal(cr.topics[0].partitions[0].error_code, RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    commit(h, 0, "h", "t", 5, 6, &cr);
    assert_int_equal(cr.topics[0].partitions[1].error_code, 0);

    /* v1: named partitions, one unknown */
    rb_offset_fetch_req_t fr;
    rb_offset_fetch_resp_t fresp;
    rb_offset_fetch_req_init(&fr);
    int32_t idx[] = {1, 0, 7};
    rb_offset_fetch_req_offset_fetch_request_topic_t ft = {rb_str_c("t"), idx, 3};
    fr.group_id = rb_str_c("g");
    fr.topics = &ft;
    fr.topics_count = 1;
    call(h, RB_API_KEY_OFFSET_FETCH, 1, &fr, &fresp);
    assert_int_equal(fresp.topics_count, 1);
    assert_int_equal(fresp.topics[0].partitions_count, 3);
    assert_int_equal(fresp.topics[0].partitions[0].partition_index, 1);
    assert_int_equal(fresp.topics[0].partitions[0].committed_offset, 11);
    assert_true(str_is(fresp.topics[0].partitions[0].metadata, "one"));
    assert_int_equal(fresp.topics[0].partitions[1].committed_offset, 10);
    assert_int_equal(fresp.topics[0].partitions[2].committed_offset, -1);
    /* v7, all topics (null), RequireStable */
    rb_offset_fetch_req_init(&fr);
    fr.group_id = rb_str_c("g");
    fr.topics = NULL;
    fr.topics_count = -1;
    fr.require_stable = true;
    call(h, RB_API_KEY_OFFSET_FETCH, 7, &fr, &fresp);
    assert_int_equal(fresp.error_code, 0);
    assert_int_equal(fresp.topics_count, 1);
    assert_int_equal(fresp.topics[0].partitions_count, 2);
    assert_int_equal(fresp.topics[0].partitions[1].committed_offset, 11);
    /* v3: all topics of another group; an unknown group has nothing */
    rb_offset_fetch_req_init(&fr);
    fr.group_id = rb_str_c("h");
    fr.topics = NULL;
    fr.topics_count = -1;
    call(h, RB_API_KEY_OFFSET_FETCH, 3, &fr, &fresp);
    assert_int_equal(fresp.topics_count, 1);
    assert_int_equal(fresp.topics[0].partitions[0].committed_offset, 5);
    assert_int_equal(fresp.topics[0].partitions[1].committed_offset, 6);
    fr.group_id = rb_str_c("unknown");
    call(h, RB_API_KEY_OFFSET_FETCH, 3, &fr, &fresp);
    assert_int_equal(fresp.error_code, 0);
    assert_int_equal(fresp.topics_count, 0);

    /* DeleteTopics takes the topic's committed offsets along */
    rb_delete_topics_req_t dt;
    rb_delete_topics_req_init(&dt);
    rb_str_t tn = rb_str_c("t");
    dt.topic_names = &tn;
    dt.topic_names_count = 1;
    dt.timeout_ms = 1000;
    rb_delete_topics_resp_t dtr;
    call(h, RB_API_KEY_DELETE_TOPICS, 1, &dt, &dtr);
    rb_offset_fetch_req_init(&fr);
    fr.group_id = rb_str_c("g");
    fr.topics = NULL;
    fr.topics_count = -1;
    call(h, RB_API_KEY_OFFSET_FETCH, 2, &fr, &fresp);
    assert_int_equal(fresp.topics_count, 0);

    /* DeleteGroups */
    rb_delete_groups_req_t dg;
    rb_delete_groups_req_init(&dg);
    rb_str_t gn[] = {rb_str_c("h"), rb_str_c("nobody")};
    dg.groups_names = gn;
    dg.groups_names_count = 2;
    rb_delete_groups_resp_t dgr;
    call(h, RB_API_KEY_DELETE_GROUPS, 2, &dg, &dgr);
    assert_int_equal(dgr.results_count, 2);
    assert_true(str_is(dgr.results[0].group_id, "h"));
    assert_int_equal(dgr.results[0].error_code, 0);
    assert_int_equal(dgr.results[1].error_code, RB_GROUP_ERR_GROUP_ID_NOT_FOUND);
}

int main(void)
{
    rill__log_init();
    if (!g_getenv("RILL_LOG_LEVEL"))
        rill__log_set_level(RILL_LOG_LVL_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_server_group__find_coordinator, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_group__join_sync_heartbeat, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_group__leave_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_group__offsets, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
