/* h-group.c: the consumer-group APIs, as thin adapters between the wire
 * structs and broker/group/'s coordinator (group.h): FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups, ListGroups, DeleteGroups.
 *
 * The coordinator runs on the loop: its timers are rb_loop timers, its
 * offsets log is <log.dirs>/__consumer_offsets-0 (opened by group/, not
 * listed in the topic registry). JoinGroup and SyncGroup answer through
 * callbacks that may run before the call returns or later (another member's
 * request, a timer, shutdown); the request stays alive until then, so each
 * slot is still answered exactly once. If the coordinator failed to start,
 * FindCoordinator answers COORDINATOR_NOT_AVAILABLE and every group request
 * the same error. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.server"
#define ERR_COORDINATOR_NOT_AVAILABLE 15

/* NULL for the null string, else a NUL-terminated copy in the arena. */
static const char *nstr(rb_req_t *req, rb_str_t s)
{
    return rb_str_is_null(s) ? NULL : rb__cstr(req, s);
}

static rb_str_t astr(rb_req_t *req, const char *s)
{
    return s ? rb_arena_str(&req->arena, s, strlen(s)) : RB_STR_NULL;
}

static rb_bytes_t abytes(rb_req_t *req, const uint8_t *p, size_t len)
{
    uint8_t *copy = rb_arena_alloc(&req->arena, len ? len : 1);
    if (len)
        memcpy(copy, p, len);
    return (rb_bytes_t){copy, (int32_t)len};
}

/* ---- lifetime ------------------------------------------------------------- */

static int64_t env_now(void *ud)
{
    return rb_loop_now_ms(((rb_server_t *)ud)->loop);
}

static int64_t env_wall(void *ud)
{
    (void)ud;
    return rill__clock_wall_ms();
}

static rb_group_timer_id_t env_add_timer(void *ud, int64_t delay_ms, void (*cb)(void *arg),
                                         void *arg)
{
    return rb_loop_add_timer(((rb_server_t *)ud)->loop, delay_ms, cb, arg);
}

static void env_cancel_timer(void *ud, rb_group_timer_id_t id)
{
    rb_loop_cancel_timer(((rb_server_t *)ud)->loop, id);
}

void rb__groups_start(rb_server_t *server)
{
    const rb_config_t *config = server->config;
    rb_group_config_t gc;
    rb_group_config_defaults(&gc);
    gc.min_session_timeout_ms = (int32_t)rb_config_int(config, "group.min.session.timeout.ms");
    gc.max_session_timeout_ms = (int32_t)rb_config_int(config, "group.max.session.timeout.ms");
    gc.initial_rebalance_delay_ms =
        (int32_t)rb_config_int(config, "group.initial.rebalance.delay.ms");
    gc.max_size = (int32_t)rb_config_int(config, "group.max.size");
    gc.offsets_retention_ms = rb_config_int(config, "offsets.retention.minutes") * 60000;
    rb_group_env_t env = {env_now, env_wall, env_add_timer, env_cancel_timer, server};
    rb_group_store_t store;
    g_autofree char *errmsg = NULL;
    if (rb_group_store_open_log(server->log_dir, &store, &errmsg) != 0) {
        RILL_LOG_ERROR(COMPONENT, "consumer groups unavailable: %s", errmsg);
        return;
    }
    server->groups = rb_group_coord_new(&gc, &env, &store);
    if (rb_group_coord_load(server->groups, &errmsg) != 0) {
        RILL_LOG_ERROR(COMPONENT, "cannot load committed offsets: %s", errmsg);
        rb_group_coord_destroy(server->groups);
        server->groups = NULL;
    }
}

void rb__groups_stop(rb_server_t *server)
{
    rb_group_coord_destroy(server->groups);
    server->groups = NULL;
}

/* ---- FindCoordinator -------------------------------------------------------- */

void rb__handle_find_coordinator(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_find_coordinator_req_t r;
    if (rb_find_coordinator_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed FindCoordinator request");
        return;
    }
    /* v4 batches keys; below, the one key is treated as a batch of one */
    int32_t n = v >= 4 ? r.coordinator_keys_count : 1;
    rb_find_coordinator_resp_t resp;
    rb_find_coordinator_resp_init(&resp);
    resp.coordinators = rb__items(req, &rb_find_coordinator_resp_coordinator_desc, n);
    resp.coordinators_count = n;
    for (int32_t i = 0; i < n; i++) {
        rb_str_t key = v >= 4 ? r.coordinator_keys[i] : r.key;
        int16_t err;
        if (r.key_type == 0)
            err = server->groups ? rb_group_find_coordinator(server->groups, rb__cstr(req, key))
                                 : ERR_COORDINATOR_NOT_AVAILABLE;
        else if (r.key_type == 1)
            err = server->txn ? 0 : ERR_COORDINATOR_NOT_AVAILABLE;
        else
            err = RB_ERR_INVALID_REQUEST;
        rb_find_coordinator_resp_coordinator_t *c = &resp.coordinators[i];
        c->key = key;
        c->error_code = err;
        c->error_message = RB_STR_NULL;
        c->node_id = err ? -1 : server->node_id;
        c->host = rb_str_c(err ? "" : server->adv_host);
        c->port = err ? -1 : server->adv_port;
        if (i == 0) {
            resp.error_code = c->error_code;
            resp.node_id = c->node_id;
            resp.host = c->host;
            resp.port = c->port;
        }
    }
    rb__req_respond(req, &rb_find_coordinator_resp_msg, &resp);
}

/* ---- JoinGroup / SyncGroup (answered by callbacks) ---------------------------- */

static void join_done(const rb_join_result_t *res, void *ud)
{
    rb_req_t *req = ud;
    int16_t v = req->hdr.api_version;
    rb_join_group_resp_t resp;
    rb_join_group_resp_init(&resp);
    resp.error_code = res->error_code;
    resp.generation_id = res->generation_id;
    resp.protocol_type = astr(req, res->protocol_type);
    resp.protocol_name = res->protocol_name ? astr(req, res->protocol_name)
                         : v >= 7           ? RB_STR_NULL
                                            : rb_str_c("");
    resp.leader = astr(req, res->leader ? res->leader : "");
    resp.skip_assignment = res->skip_assignment;
    resp.member_id = astr(req, res->member_id ? res->member_id : "");
    resp.members = rb__items(req, &rb_join_group_resp_join_group_response_member_desc,
                             (int32_t)res->member_count);
    resp.members_count = (int32_t)res->member_count;
    for (size_t i = 0; i < res->member_count; i++) {
        const rb_join_member_t *m = &res->members[i];
        resp.members[i].member_id = astr(req, m->member_id);
        resp.members[i].group_instance_id = astr(req, m->group_instance_id);
        resp.members[i].metadata = abytes(req, m->metadata, m->metadata_len);
    }
    rb__req_respond(req, &rb_join_group_resp_msg, &resp);
}

static const char *client_host(rb_req_t *req)
{
    /* Kafka reports "/ip" */
    const char *peer = req->server->peer(req->server->io_ud, req->conn);
    if (!peer)
        return "";
    const char *colon = strrchr(peer, ':');
    size_t len = colon ? (size_t)(colon - peer) : strlen(peer);
    char *host = rb_arena_alloc(&req->arena, len + 2);
    host[0] = '/';
    memcpy(host + 1, peer, len);
    return host;
}

void rb__handle_join_group(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_join_group_req_t r;
    if (rb_join_group_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed JoinGroup request");
        return;
    }
    if (!req->server->groups) {
        rb_join_result_t res = {.error_code = ERR_COORDINATOR_NOT_AVAILABLE, .generation_id = -1};
        join_done(&res, req);
        return;
    }
    rb_group_protocol_t *protocols =
        rb_arena_alloc(&req->arena, sizeof(*protocols) * (size_t)(r.protocols_count + 1));
    for (int32_t i = 0; i < r.protocols_count; i++) {
        protocols[i].name = rb__cstr(req, r.protocols[i].name);
        protocols[i].metadata = r.protocols[i].metadata.ptr;
        protocols[i].metadata_len =
            r.protocols[i].metadata.len > 0 ? (size_t)r.protocols[i].metadata.len : 0;
    }
    rb_join_request_t jr = {
        .group_id = rb__cstr(req, r.group_id),
        .member_id = rb__cstr(req, r.member_id),
        .group_instance_id = nstr(req, r.group_instance_id),
        .protocol_type = rb__cstr(req, r.protocol_type),
        .protocols = protocols,
        .protocol_count = (size_t)r.protocols_count,
        .session_timeout_ms = r.session_timeout_ms,
        .rebalance_timeout_ms = v >= 1 ? r.rebalance_timeout_ms : -1,
        .require_known_member_id = v >= 4,
        .client_id = rb__cstr(req, req->hdr.client_id),
        .client_host = client_host(req),
    };
    rb_group_join(req->server->groups, &jr, join_done, req);
}

static void sync_done(const rb_sync_result_t *res, void *ud)
{
    rb_req_t *req = ud;
    rb_sync_group_resp_t resp;
    rb_sync_group_resp_init(&resp);
    resp.error_code = res->error_code;
    resp.protocol_type = astr(req, res->protocol_type);
    resp.protocol_name = astr(req, res->protocol_name);
    resp.assignment = abytes(req, res->assignment, res->assignment_len);
    rb__req_respond(req, &rb_sync_group_resp_msg, &resp);
}

void rb__handle_sync_group(rb_req_t *req, rill_rbuf_t *body)
{
    rb_sync_group_req_t r;
    if (rb_sync_group_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed SyncGroup request");
        return;
    }
    if (!req->server->groups) {
        rb_sync_result_t res = {.error_code = ERR_COORDINATOR_NOT_AVAILABLE,
                                .assignment = (const uint8_t *)""};
        sync_done(&res, req);
        return;
    }
    rb_group_assignment_t *as =
        rb_arena_alloc(&req->arena, sizeof(*as) * (size_t)(r.assignments_count + 1));
    for (int32_t i = 0; i < r.assignments_count; i++) {
        as[i].member_id = rb__cstr(req, r.assignments[i].member_id);
        as[i].assignment = r.assignments[i].assignment.ptr;
        as[i].assignment_len =
            r.assignments[i].assignment.len > 0 ? (size_t)r.assignments[i].assignment.len : 0;
    }
    rb_sync_request_t sr = {
        .group_id = rb__cstr(req, r.group_id),
        .generation_id = r.generation_id,
        .member_id = rb__cstr(req, r.member_id),
        .group_instance_id = nstr(req, r.group_instance_id),
        .protocol_type = nstr(req, r.protocol_type),
        .protocol_name = nstr(req, r.protocol_name),
        .assignments = as,
        .assignment_count = (size_t)r.assignments_count,
    };
    rb_group_sync(req->server->groups, &sr, sync_done, req);
}

/* ---- Heartbeat, LeaveGroup ------------------------------------------------------ */

void rb__handle_heartbeat(rb_req_t *req, rill_rbuf_t *body)
{
    rb_heartbeat_req_t r;
    if (rb_heartbeat_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed Heartbeat request");
        return;
    }
    rb_heartbeat_resp_t resp;
    rb_heartbeat_resp_init(&resp);
    resp.error_code =
        req->server->groups
            ? rb_group_heartbeat(req->server->groups, rb__cstr(req, r.group_id), r.generation_id,
                                 rb__cstr(req, r.member_id), nstr(req, r.group_instance_id))
            : ERR_COORDINATOR_NOT_AVAILABLE;
    rb__req_respond(req, &rb_heartbeat_resp_msg, &resp);
}

void rb__handle_leave_group(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_leave_group_req_t r;
    if (rb_leave_group_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed LeaveGroup request");
        return;
    }
    int32_t n = v >= 3 ? r.members_count : 1;
    rb_leave_member_t *members = rb_arena_alloc(&req->arena, sizeof(*members) * (size_t)(n + 1));
    for (int32_t i = 0; i < n; i++) {
        members[i].member_id = rb__cstr(req, v >= 3 ? r.members[i].member_id : r.member_id);
        members[i].group_instance_id = v >= 3 ? nstr(req, r.members[i].group_instance_id) : NULL;
    }
    rb_leave_group_resp_t resp;
    rb_leave_group_resp_init(&resp);
    if (!req->server->groups) {
        resp.error_code = ERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        resp.error_code =
            rb_group_leave(req->server->groups, rb__cstr(req, r.group_id), members, (size_t)n);
        if (v < 3 && resp.error_code == 0)
            resp.error_code = members[0].error_code;
    }
    if (v >= 3 && resp.error_code == 0) {
        resp.members = rb__items(req, &rb_leave_group_resp_member_response_desc, n);
        resp.members_count = n;
        for (int32_t i = 0; i < n; i++) {
            resp.members[i].member_id = r.members[i].member_id;
            resp.members[i].group_instance_id = r.members[i].group_instance_id;
            resp.members[i].error_code = members[i].error_code;
        }
    }
    rb__req_respond(req, &rb_leave_group_resp_msg, &resp);
}

/* ---- OffsetCommit, OffsetFetch ------------------------------------------------------ */

void rb__handle_offset_commit(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_offset_commit_req_t r;
    if (rb_offset_commit_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed OffsetCommit request");
        return;
    }
    size_t n = 0;
    for (int32_t t = 0; t < r.topics_count; t++)
        n += (size_t)r.topics[t].partitions_count;
    rb_offset_commit_part_t *parts = rb_arena_alloc(&req->arena, sizeof(*parts) * (n + 1));
    size_t k = 0;
    for (int32_t t = 0; t < r.topics_count; t++) {
        const rb_offset_commit_req_offset_commit_request_topic_t *ot = &r.topics[t];
        for (int32_t p = 0; p < ot->partitions_count; p++, k++) {
            const rb_offset_commit_req_offset_commit_request_partition_t *op = &ot->partitions[p];
            parts[k].topic = rb__cstr(req, ot->name);
            parts[k].partition = op->partition_index;
            parts[k].offset = op->committed_offset;
            parts[k].leader_epoch = op->committed_leader_epoch;
            parts[k].metadata = nstr(req, op->committed_metadata);
            parts[k].error_code = rb__partition_find(server, ot->name, op->partition_index)
                                      ? RB_ERR_NONE
                                      : RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    int16_t all = ERR_COORDINATOR_NOT_AVAILABLE;
    if (server->groups)
        all = rb_group_offset_commit(server->groups, rb__cstr(req, r.group_id),
                                     v >= 1 ? r.generation_id_or_member_epoch : -1,
                                     v >= 1 ? rb__cstr(req, r.member_id) : "",
                                     nstr(req, r.group_instance_id), parts, n);
    rb_offset_commit_resp_t resp;
    rb_offset_commit_resp_init(&resp);
    resp.topics =
        rb__items(req, &rb_offset_commit_resp_offset_commit_response_topic_desc, r.topics_count);
    resp.topics_count = r.topics_count;
    k = 0;
    for (int32_t t = 0; t < r.topics_count; t++) {
        rb_offset_commit_resp_offset_commit_response_topic_t *rt = &resp.topics[t];
        rt->name = r.topics[t].name;
        rt->partitions =
            rb__items(req, &rb_offset_commit_resp_offset_commit_response_partition_desc,
                      r.topics[t].partitions_count);
        rt->partitions_count = r.topics[t].partitions_count;
        for (int32_t p = 0; p < rt->partitions_count; p++, k++) {
            rt->partitions[p].partition_index = parts[k].partition;
            rt->partitions[p].error_code = server->groups ? parts[k].error_code : all;
        }
    }
    rb__req_respond(req, &rb_offset_commit_resp_msg, &resp);
}

/* Collects rb_group_offset_fetch_all's partitions, grouped by topic. */
typedef struct fetch_all {
    rb_req_t *req;
    GPtrArray *topics; /* rb_offset_fetch_resp_offset_fetch_response_topic_t*, arena-backed */
    GArray *parts;     /* of the current topic */
} fetch_all_t;

static void fetch_all_flush(fetch_all_t *fa)
{
    if (fa->topics->len == 0)
        return;
    rb_offset_fetch_resp_offset_fetch_response_topic_t *t = fa->topics->pdata[fa->topics->len - 1];
    t->partitions_count = (int32_t)fa->parts->len;
    t->partitions = rb_arena_alloc(&fa->req->arena, sizeof(*t->partitions) * (fa->parts->len + 1));
    if (fa->parts->len)
        memcpy(t->partitions, fa->parts->data, sizeof(*t->partitions) * fa->parts->len);
    g_array_set_size(fa->parts, 0);
}

static void fetch_all_one(const rb_offset_fetch_part_t *part, void *ud)
{
    fetch_all_t *fa = ud;
    rb_offset_fetch_resp_offset_fetch_response_topic_t *last =
        fa->topics->len ? fa->topics->pdata[fa->topics->len - 1] : NULL;
    if (!last || !rb_str_eq(last->name, part->topic)) {
        fetch_all_flush(fa);
        last = rb__items(fa->req, &rb_offset_fetch_resp_offset_fetch_response_topic_desc, 1);
        last->name = astr(fa->req, part->topic);
        g_ptr_array_add(fa->topics, last);
    }
    rb_offset_fetch_resp_offset_fetch_response_partition_t p;
    rb_proto_init(&rb_offset_fetch_resp_offset_fetch_response_partition_desc, &p);
    p.partition_index = part->partition;
    p.committed_offset = part->offset;
    p.committed_leader_epoch = part->leader_epoch;
    p.metadata = astr(fa->req, part->metadata ? part->metadata : "");
    p.error_code = part->error_code;
    g_array_append_val(fa->parts, p);
}

void rb__handle_offset_fetch(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_offset_fetch_req_t r;
    if (rb_offset_fetch_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed OffsetFetch request");
        return;
    }
    const char *group = rb__cstr(req, r.group_id);
    rb_offset_fetch_resp_t resp;
    rb_offset_fetch_resp_init(&resp);
    if (!server->groups) {
        resp.error_code = ERR_COORDINATOR_NOT_AVAILABLE;
    } else if (r.topics_count < 0) { /* v2+: every committed partition */
        fetch_all_t fa = {
            req, g_ptr_array_new(),
            g_array_new(FALSE, FALSE,
                        sizeof(rb_offset_fetch_resp_offset_fetch_response_partition_t))};
        resp.error_code =
            rb_group_offset_fetch_all(server->groups, group, r.require_stable, fetch_all_one, &fa);
        fetch_all_flush(&fa);
        resp.topics_count = (int32_t)fa.topics->len;
        resp.topics = rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_topic_desc,
                                resp.topics_count);
        for (guint i = 0; i < fa.topics->len; i++)
            resp.topics[i] =
                *(rb_offset_fetch_resp_offset_fetch_response_topic_t *)fa.topics->pdata[i];
        g_ptr_array_free(fa.topics, TRUE);
        g_array_free(fa.parts, TRUE);
    } else {
        size_t n = 0;
        for (int32_t t = 0; t < r.topics_count; t++)
            n += (size_t)r.topics[t].partition_indexes_count;
        rb_offset_fetch_part_t *parts = rb_arena_alloc(&req->arena, sizeof(*parts) * (n + 1));
        size_t k = 0;
        for (int32_t t = 0; t < r.topics_count; t++)
            for (int32_t p = 0; p < r.topics[t].partition_indexes_count; p++, k++) {
                parts[k].topic = rb__cstr(req, r.topics[t].name);
                parts[k].partition = r.topics[t].partition_indexes[p];
            }
        resp.error_code = rb_group_offset_fetch(server->groups, group, r.require_stable, parts, n);
        resp.topics =
            rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_topic_desc, r.topics_count);
        resp.topics_count = r.topics_count;
        k = 0;
        for (int32_t t = 0; t < r.topics_count; t++) {
            rb_offset_fetch_resp_offset_fetch_response_topic_t *rt = &resp.topics[t];
            rt->name = r.topics[t].name;
            rt->partitions_count = r.topics[t].partition_indexes_count;
            rt->partitions =
                rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_partition_desc,
                          rt->partitions_count);
            for (int32_t p = 0; p < rt->partitions_count; p++, k++) {
                rb_offset_fetch_resp_offset_fetch_response_partition_t *rp = &rt->partitions[p];
                rp->partition_index = parts[k].partition;
                rp->committed_offset = resp.error_code ? -1 : parts[k].offset;
                rp->committed_leader_epoch = resp.error_code ? -1 : parts[k].leader_epoch;
                rp->metadata =
                    astr(req, resp.error_code || !parts[k].metadata ? "" : parts[k].metadata);
                /* below v2 there is no top-level error: it goes in every partition */
                rp->error_code = v < 2 && resp.error_code ? resp.error_code : parts[k].error_code;
            }
        }
    }
    rb__req_respond(req, &rb_offset_fetch_resp_msg, &resp);
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ----------------------------------------- */

static void describe_one(const rb_group_desc_t *d, void *ud)
{
    void **ctx = ud;
    rb_req_t *req = ctx[0];
    rb_describe_groups_resp_described_group_t *out = ctx[1];
    out->error_code = d->error_code;
    out->group_id = astr(req, d->group_id);
    out->group_state = astr(req, d->state ? d->state : "");
    out->protocol_type = astr(req, d->protocol_type ? d->protocol_type : "");
    out->protocol_data = astr(req, d->protocol_data ? d->protocol_data : "");
    out->members = rb__items(req, &rb_describe_groups_resp_described_group_member_desc,
                             (int32_t)d->member_count);
    out->members_count = (int32_t)d->member_count;
    for (size_t i = 0; i < d->member_count; i++) {
        const rb_group_member_desc_t *m = &d->members[i];
        rb_describe_groups_resp_described_group_member_t *om = &out->members[i];
        om->member_id = astr(req, m->member_id);
        om->group_instance_id = astr(req, m->group_instance_id);
        om->client_id = astr(req, m->client_id ? m->client_id : "");
        om->client_host = astr(req, m->client_host ? m->client_host : "");
        om->member_metadata = abytes(req, m->metadata, m->metadata_len);
        om->member_assignment = abytes(req, m->assignment, m->assignment_len);
    }
}

void rb__handle_describe_groups(rb_req_t *req, rill_rbuf_t *body)
{
    rb_describe_groups_req_t r;
    if (rb_describe_groups_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DescribeGroups request");
        return;
    }
    rb_describe_groups_resp_t resp;
    rb_describe_groups_resp_init(&resp);
    resp.groups = rb__items(req, &rb_describe_groups_resp_described_group_desc, r.groups_count);
    resp.groups_count = r.groups_count;
    for (int32_t i = 0; i < r.groups_count; i++) {
        rb_describe_groups_resp_described_group_t *out = &resp.groups[i];
        out->group_id = r.groups[i];
        if (!req->server->groups) {
            out->error_code = ERR_COORDINATOR_NOT_AVAILABLE;
            continue;
        }
        void *ctx[2] = {req, out};
        rb_group_describe(req->server->groups, rb__cstr(req, r.groups[i]), describe_one, ctx);
    }
    rb__req_respond(req, &rb_describe_groups_resp_msg, &resp);
}

static void list_one(const char *group_id, const char *protocol_type, const char *state, void *ud)
{
    void **ctx = ud;
    rb_req_t *req = ctx[0];
    GArray *groups = ctx[1];
    rb_list_groups_resp_listed_group_t g;
    rb_proto_init(&rb_list_groups_resp_listed_group_desc, &g);
    g.group_id = astr(req, group_id);
    g.protocol_type = astr(req, protocol_type ? protocol_type : "");
    g.group_state = astr(req, state ? state : "");
    g_array_append_val(groups, g);
}

void rb__handle_list_groups(rb_req_t *req, rill_rbuf_t *body)
{
    rb_list_groups_req_t r;
    if (rb_list_groups_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed ListGroups request");
        return;
    }
    rb_list_groups_resp_t resp;
    rb_list_groups_resp_init(&resp);
    if (!req->server->groups) {
        resp.error_code = ERR_COORDINATOR_NOT_AVAILABLE;
        rb__req_respond(req, &rb_list_groups_resp_msg, &resp);
        return;
    }
    const char **states =
        rb_arena_alloc(&req->arena, sizeof(char *) * (size_t)(r.states_filter_count + 1));
    for (int32_t i = 0; i < r.states_filter_count; i++)
        states[i] = rb__cstr(req, r.states_filter[i]);
    GArray *groups = g_array_new(FALSE, FALSE, sizeof(rb_list_groups_resp_listed_group_t));
    void *ctx[2] = {req, groups};
    resp.error_code = rb_group_list(req->server->groups, states,
                                    (size_t)(r.states_filter_count > 0 ? r.states_filter_count : 0),
                                    list_one, ctx);
    resp.groups_count = (int32_t)groups->len;
    resp.groups = rb__items(req, &rb_list_groups_resp_listed_group_desc, resp.groups_count);
    if (groups->len)
        memcpy(resp.groups, groups->data, sizeof(*resp.groups) * groups->len);
    g_array_free(groups, TRUE);
    rb__req_respond(req, &rb_list_groups_resp_msg, &resp);
}

void rb__handle_delete_groups(rb_req_t *req, rill_rbuf_t *body)
{
    rb_delete_groups_req_t r;
    if (rb_delete_groups_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DeleteGroups request");
        return;
    }
    rb_delete_groups_resp_t resp;
    rb_delete_groups_resp_init(&resp);
    resp.results =
        rb__items(req, &rb_delete_groups_resp_deletable_group_result_desc, r.groups_names_count);
    resp.results_count = r.groups_names_count;
    for (int32_t i = 0; i < r.groups_names_count; i++) {
        resp.results[i].group_id = r.groups_names[i];
        resp.results[i].error_code =
            req->server->groups
                ? rb_group_delete(req->server->groups, rb__cstr(req, r.groups_names[i]))
                : ERR_COORDINATOR_NOT_AVAILABLE;
    }
    rb__req_respond(req, &rb_delete_groups_resp_msg, &resp);
}
