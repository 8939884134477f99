/* h-group.c: the consumer-group APIs on the wire: FindCoordinator,
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch,
 * DescribeGroups, ListGroups, DeleteGroups.
 *
 * Each handler decodes its request with the generated codec, calls the
 * coordinator (broker/group/group.h) with plain C values and encodes the
 * answer. JoinGroup and SyncGroup answer from the coordinator's callback,
 * which may come later (the rebalance): the rb_req_t stays alive until then,
 * and its decoded strings (which point into the request frame) with it.
 *
 * Version differences handled here rather than in the coordinator:
 * JoinGroup v4+ asks for KIP-394's MEMBER_ID_REQUIRED round trip; v0 has no
 * rebalance timeout (the session timeout applies); LeaveGroup v0-2 name one
 * member and answer its error at the top level; OffsetFetch v8+ carries
 * several groups; FindCoordinator v4+ several keys. Topics that do not exist
 * get UNKNOWN_TOPIC_OR_PARTITION in OffsetCommit before the coordinator sees
 * them, as Kafka answers. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/group/group.h"
#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.group"

/* NULL for the null string, else a NUL-terminated copy in the request's arena. */
static const char *opt_cstr(rb_req_t *req, rb_str_t s)
{
    return rb_str_is_null(s) ? NULL : rb__cstr(req, s);
}

/* ---- the coordinator's life ----------------------------------------------------- */

static int64_t env_now(void *ud)
{
    return rb_loop_now_ms(((rb_server_t *)ud)->loop);
}

static int64_t env_wall(void *ud)
{
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

int rb__groups_open(rb_server_t *server, char **errmsg)
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
    gc.offsets_retention_check_interval_ms =
        rb_config_int(config, "offsets.retention.check.interval.ms");
    gc.offset_metadata_max_bytes = (int32_t)rb_config_int(config, "offset.metadata.max.bytes");
    rb_group_store_t store;
    if (rb_group_store_open_log(server->log_dir, &store, errmsg) != 0)
        return -1;
    rb_group_env_t env = {env_now, env_wall, env_add_timer, env_cancel_timer, server};
    server->groups = rb_group_coord_new(&gc, &env, &store);
    return rb_group_coord_load(server->groups, errmsg);
}

void rb__groups_close(rb_server_t *server)
{
    rb_group_coord_destroy(server->groups);
    server->groups = NULL;
}

/* ---- FindCoordinator ----------------------------------------------------------- */

static int16_t coordinator_for(rb_req_t *req, int8_t key_type, const char *key)
{
    if (key_type == 0) /* GROUP */
        return rb_group_find_coordinator(req->server->groups, key);
    if (key_type == 1) /* TRANSACTION: this node too */
        return RB_ERR_NONE;
    return RB_ERR_INVALID_REQUEST;
}

void rb__handle_find_coordinator(rb_req_t *req, rill_rbuf_t *body)
{
    rb_find_coordinator_req_t r;
    if (rb_find_coordinator_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed FindCoordinator request");
        return;
    }
    rb_server_t *server = req->server;
    rb_find_coordinator_resp_t resp;
    rb_find_coordinator_resp_init(&resp);
    if (req->hdr.api_version < 4) {
        resp.error_code = coordinator_for(req, r.key_type, rb__cstr(req, r.key));
        resp.node_id = resp.error_code ? -1 : server->node_id;
        resp.host = rb_str_c(resp.error_code ? "" : server->adv_host);
        resp.port = resp.error_code ? -1 : server->adv_port;
        resp.error_message = RB_STR_NULL;
    } else {
        resp.coordinators_count = r.coordinator_keys_count;
        resp.coordinators = rb__items(req, &rb_find_coordinator_resp_coordinator_desc,
                                      r.coordinator_keys_count);
        for (int32_t i = 0; i < r.coordinator_keys_count; i++) {
            rb_find_coordinator_resp_coordinator_t *c = &resp.coordinators[i];
            c->key = r.coordinator_keys[i];
            c->error_code = coordinator_for(req, r.key_type, rb__cstr(req, c->key));
            c->node_id = c->error_code ? -1 : server->node_id;
            c->host = rb_str_c(c->error_code ? "" : server->adv_host);
            c->port = c->error_code ? -1 : server->adv_port;
            c->error_message = RB_STR_NULL;
        }
    }
    rb__req_respond(req, &rb_find_coordinator_resp_msg, &resp);
}

/* ---- JoinGroup ------------------------------------------------------------------ */

static void on_join(const rb_join_result_t *result, void *ud)
{
    rb_req_t *req = ud;
    rb_join_group_resp_t resp;
    rb_join_group_resp_init(&resp);
    resp.error_code = result->error_code;
    resp.generation_id = result->generation_id;
    resp.protocol_type = rb_str_c(result->protocol_type);
    /* before v7 ProtocolName is not nullable: "" */
    resp.protocol_name = result->protocol_name ? rb_str_c(result->protocol_name)
                         : req->hdr.api_version >= 7 ? RB_STR_NULL
                                                     : rb_str_c("");
    resp.leader = rb_str_c(result->leader ? result->leader : "");
    resp.member_id = rb_str_c(result->member_id ? result->member_id : "");
    resp.skip_assignment = result->skip_assignment;
    resp.members_count = (int32_t)result->member_count;
    resp.members = rb__items(req, &rb_join_group_resp_join_group_response_member_desc,
                             resp.members_count);
    for (size_t i = 0; i < result->member_count; i++) {
        rb_join_group_resp_join_group_response_member_t *m = &resp.members[i];
        m->member_id = rb_str_c(result->members[i].member_id);
        m->group_instance_id = rb_str_c(result->members[i].group_instance_id);
        m->metadata = (rb_bytes_t){result->members[i].metadata,
                                   (int32_t)result->members[i].metadata_len};
    }
    rb__req_respond(req, &rb_join_group_resp_msg, &resp);
}

void rb__handle_join_group(rb_req_t *req, rill_rbuf_t *body)
{
    rb_join_group_req_t r;
    if (rb_join_group_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed JoinGroup request");
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
        .group_instance_id = opt_cstr(req, r.group_instance_id),
        .protocol_type = rb__cstr(req, r.protocol_type),
        .protocols = protocols,
        .protocol_count = (size_t)r.protocols_count,
        .session_timeout_ms = r.session_timeout_ms,
        .rebalance_timeout_ms = req->hdr.api_version >= 1 ? r.rebalance_timeout_ms : -1,
        .require_known_member_id = req->hdr.api_version >= 4,
        .client_id = rb__cstr(req, req->hdr.client_id),
        .client_host = rb__req_peer_host(req),
    };
    rb_group_join(req->server->groups, &jr, on_join, req);
}

/* ---- SyncGroup ------------------------------------------------------------------ */

static void on_sync(const rb_sync_result_t *result, void *ud)
{
    rb_req_t *req = ud;
    rb_sync_group_resp_t resp;
    rb_sync_group_resp_init(&resp);
    resp.error_code = result->error_code;
    resp.protocol_type = rb_str_c(result->protocol_type);
    resp.protocol_name = rb_str_c(result->protocol_name);
    resp.assignment = (rb_bytes_t){result->assignment, (int32_t)result->assignment_len};
    rb__req_respond(req, &rb_sync_group_resp_msg, &resp);
}

void rb__handle_sync_group(rb_req_t *req, rill_rbuf_t *body)
{
    rb_sync_group_req_t r;
    if (rb_sync_group_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed SyncGroup request");
        return;
    }
    rb_group_assignment_t *assignments =
        rb_arena_alloc(&req->arena, sizeof(*assignments) * (size_t)(r.assignments_count + 1));
    for (int32_t i = 0; i < r.assignments_count; i++) {
        assignments[i].member_id = rb__cstr(req, r.assignments[i].member_id);
        assignments[i].assignment = r.assignments[i].assignment.ptr;
        assignments[i].assignment_len =
            r.assignments[i].assignment.len > 0 ? (size_t)r.assignments[i].assignment.len : 0;
    }
    rb_sync_request_t sr = {
        .group_id = rb__cstr(req, r.group_id),
        .generation_id = r.generation_id,
        .member_id = rb__cstr(req, r.member_id),
        .group_instance_id = opt_cstr(req, r.group_instance_id),
        .protocol_type = opt_cstr(req, r.protocol_type),
        .protocol_name = opt_cstr(req, r.protocol_name),
        .assignments = assignments,
        .assignment_count = (size_t)r.assignments_count,
    };
    rb_group_sync(req->server->groups, &sr, on_sync, req);
}

/* ---- Heartbeat, LeaveGroup ---------------------------------------------------------- */

void rb__handle_heartbeat(rb_req_t *req, rill_rbuf_t *body)
{
    rb_heartbeat_req_t r;
    if (rb_heartbeat_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed Heartbeat request");
        return;
    }
    rb_heartbeat_resp_t resp;
    rb_heartbeat_resp_init(&resp);
    resp.error_code = rb_group_heartbeat(req->server->groups, rb__cstr(req, r.group_id),
                                         r.generation_id, rb__cstr(req, r.member_id),
                                         opt_cstr(req, r.group_instance_id));
    rb__req_respond(req, &rb_heartbeat_resp_msg, &resp);
}

void rb__handle_leave_group(rb_req_t *req, rill_rbuf_t *body)
{
    rb_leave_group_req_t r;
    if (rb_leave_group_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed LeaveGroup request");
        return;
    }
    bool batch = req->hdr.api_version >= 3;
    int32_t n = batch ? r.members_count : 1;
    rb_leave_member_t *members =
        rb_arena_alloc(&req->arena, sizeof(*members) * (size_t)(n > 0 ? n : 1));
    for (int32_t i = 0; i < n; i++) {
        members[i].member_id = rb__cstr(req, batch ? r.members[i].member_id : r.member_id);
        members[i].group_instance_id = batch ? opt_cstr(req, r.members[i].group_instance_id) : NULL;
    }
    rb_leave_group_resp_t resp;
    rb_leave_group_resp_init(&resp);
    resp.error_code =
        rb_group_leave(req->server->groups, rb__cstr(req, r.group_id), members, (size_t)n);
    if (!batch) {
        if (resp.error_code == RB_ERR_NONE)
            resp.error_code = members[0].error_code;
    } else {
        resp.members_count = n;
        resp.members = rb__items(req, &rb_leave_group_resp_member_response_desc, n);
        for (int32_t i = 0; i < n; i++) {
            resp.members[i].member_id = r.members[i].member_id;
            resp.members[i].group_instance_id = r.members[i].group_instance_id;
            resp.members[i].error_code = members[i].error_code;
        }
    }
    rb__req_respond(req, &rb_leave_group_resp_msg, &resp);
}

/* ---- OffsetCommit, OffsetFetch ------------------------------------------------------- */

void rb__handle_offset_commit(rb_req_t *req, rill_rbuf_t *body)
{
    rb_offset_commit_req_t r;
    if (rb_offset_commit_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed OffsetCommit request");
        return;
    }
    int32_t total = 0;
    for (int32_t t = 0; t < r.topics_count; t++)
        total += r.topics[t].partitions_count;
    rb_offset_commit_part_t *parts =
        rb_arena_alloc(&req->arena, sizeof(*parts) * (size_t)(total > 0 ? total : 1));
    int32_t k = 0;
    for (int32_t t = 0; t < r.topics_count; t++) {
        const char *topic = rb__cstr(req, r.topics[t].name);
        for (int32_t p = 0; p < r.topics[t].partitions_count; p++, k++) {
            const rb_offset_commit_req_offset_commit_request_partition_t *in =
                &r.topics[t].partitions[p];
            parts[k] = (rb_offset_commit_part_t){
                .topic = topic,
                .partition = in->partition_index,
                .offset = in->committed_offset,
                .leader_epoch = in->committed_leader_epoch,
                .metadata = opt_cstr(req, in->committed_metadata),
            };
            if (!rb__partition_find(req->server, r.topics[t].name, in->partition_index))
                parts[k].error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    /* v0 has no generation or member: a commit from outside group management */
    bool v0 = req->hdr.api_version == 0;
    rb_group_offset_commit(req->server->groups, rb__cstr(req, r.group_id),
                           v0 ? -1 : r.generation_id_or_member_epoch,
                           v0 ? "" : rb__cstr(req, r.member_id),
                           opt_cstr(req, r.group_instance_id), parts, (size_t)total);
    rb_offset_commit_resp_t resp;
    rb_offset_commit_resp_init(&resp);
    resp.topics_count = r.topics_count;
    resp.topics = rb__items(req, &rb_offset_commit_resp_offset_commit_response_topic_desc,
                            r.topics_count);
    k = 0;
    for (int32_t t = 0; t < r.topics_count; t++) {
        rb_offset_commit_resp_offset_commit_response_topic_t *out = &resp.topics[t];
        out->name = r.topics[t].name;
        out->partitions_count = r.topics[t].partitions_count;
        out->partitions = rb__items(req, &rb_offset_commit_resp_offset_commit_response_partition_desc,
                                    out->partitions_count);
        for (int32_t p = 0; p < out->partitions_count; p++, k++) {
            out->partitions[p].partition_index = parts[k].partition;
            out->partitions[p].error_code = parts[k].error_code;
        }
    }
    rb__req_respond(req, &rb_offset_commit_resp_msg, &resp);
}

/* One group's answer to OffsetFetch, in the v8+ shape (v0-7 copy it out). */
typedef struct fetch_answer {
    rb_offset_fetch_resp_offset_fetch_response_topics_t *topics;
    int32_t topics_count;
    int16_t error_code;
} fetch_answer_t;

typedef struct fetch_all_ctx {
    rb_req_t *req;
    GArray *parts; /* rb_offset_fetch_part_t with arena copies of the strings */
} fetch_all_ctx_t;

static void on_fetch_all(const rb_offset_fetch_part_t *part, void *ud)
{
    fetch_all_ctx_t *ctx = ud;
    rb_offset_fetch_part_t copy = *part;
    copy.topic = rb_arena_str(&ctx->req->arena, part->topic, strlen(part->topic)).ptr;
    copy.metadata = rb_arena_str(&ctx->req->arena, part->metadata, strlen(part->metadata)).ptr;
    g_array_append_val(ctx->parts, copy);
}

/* Groups consecutive parts of the same topic into response topics. */
static void fetch_answer_build(rb_req_t *req, const rb_offset_fetch_part_t *parts, int32_t n,
                               fetch_answer_t *out)
{
    int32_t ntopics = 0;
    for (int32_t i = 0; i < n; i++)
        if (i == 0 || strcmp(parts[i].topic, parts[i - 1].topic) != 0)
            ntopics++;
    out->topics_count = ntopics;
    out->topics = rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_topics_desc, ntopics);
    int32_t t = -1;
    for (int32_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(parts[i].topic, parts[i - 1].topic) != 0) {
            t++;
            int32_t count = 0;
            for (int32_t j = i; j < n && strcmp(parts[j].topic, parts[i].topic) == 0; j++)
                count++;
            out->topics[t].name = rb_str_c(parts[i].topic);
            out->topics[t].partitions = rb__items(
                req, &rb_offset_fetch_resp_offset_fetch_response_partitions_desc, count);
            out->topics[t].partitions_count = 0;
        }
        rb_offset_fetch_resp_offset_fetch_response_partitions_t *p =
            &out->topics[t].partitions[out->topics[t].partitions_count++];
        p->partition_index = parts[i].partition;
        p->committed_offset = parts[i].offset;
        p->committed_leader_epoch = parts[i].leader_epoch;
        p->metadata = rb_str_c(parts[i].metadata);
        p->error_code = parts[i].error_code;
    }
}

/* Fetches one group's offsets: all of them when topics is NULL. */
static void fetch_group(rb_req_t *req, const char *group_id, bool all, const rb_str_t *names,
                        int32_t *const *indexes, const int32_t *index_counts, int32_t ntopics,
                        bool require_stable, fetch_answer_t *out)
{
    rb_group_coord_t *coord = req->server->groups;
    if (all) {
        fetch_all_ctx_t ctx = {req, g_array_new(FALSE, FALSE, sizeof(rb_offset_fetch_part_t))};
        out->error_code = rb_group_offset_fetch_all(coord, group_id, require_stable, on_fetch_all,
                                                    &ctx);
        fetch_answer_build(req, (const rb_offset_fetch_part_t *)(void *)ctx.parts->data,
                           (int32_t)ctx.parts->len, out);
        g_array_unref(ctx.parts);
        return;
    }
    int32_t total = 0;
    for (int32_t t = 0; t < ntopics; t++)
        total += index_counts[t];
    rb_offset_fetch_part_t *parts =
        rb_arena_alloc(&req->arena, sizeof(*parts) * (size_t)(total > 0 ? total : 1));
    int32_t k = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        const char *topic = rb__cstr(req, names[t]);
        for (int32_t p = 0; p < index_counts[t]; p++, k++)
            parts[k] = (rb_offset_fetch_part_t){.topic = topic, .partition = indexes[t][p]};
    }
    out->error_code = rb_group_offset_fetch(coord, group_id, require_stable, parts, (size_t)k);
    for (int32_t i = 0; i < k; i++) { /* copy: the metadata is borrowed from coord */
        parts[i].metadata =
            rb_arena_str(&req->arena, parts[i].metadata, strlen(parts[i].metadata)).ptr;
        if (out->error_code) {
            parts[i].offset = -1;
            parts[i].error_code = out->error_code;
        }
    }
    /* keep the request's order: topics may repeat, so build per request topic */
    out->topics_count = ntopics;
    out->topics = rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_topics_desc, ntopics);
    k = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        out->topics[t].name = names[t];
        out->topics[t].partitions_count = index_counts[t];
        out->topics[t].partitions = rb__items(
            req, &rb_offset_fetch_resp_offset_fetch_response_partitions_desc, index_counts[t]);
        for (int32_t p = 0; p < index_counts[t]; p++, k++) {
            rb_offset_fetch_resp_offset_fetch_response_partitions_t *o =
                &out->topics[t].partitions[p];
            o->partition_index = parts[k].partition;
            o->committed_offset = parts[k].offset;
            o->committed_leader_epoch = parts[k].leader_epoch;
            o->metadata = rb_str_c(parts[k].metadata);
            o->error_code = parts[k].error_code;
        }
    }
}

void rb__handle_offset_fetch(rb_req_t *req, rill_rbuf_t *body)
{
    rb_offset_fetch_req_t r;
    int16_t v = req->hdr.api_version;
    if (rb_offset_fetch_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed OffsetFetch request");
        return;
    }
    rb_offset_fetch_resp_t resp;
    rb_offset_fetch_resp_init(&resp);
    if (v >= 8) {
        resp.groups_count = r.groups_count;
        resp.groups = rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_group_desc,
                                r.groups_count);
        for (int32_t g = 0; g < r.groups_count; g++) {
            const rb_offset_fetch_req_offset_fetch_request_group_t *in = &r.groups[g];
            int32_t nt = in->topics_count > 0 ? in->topics_count : 0;
            rb_str_t *names = rb_arena_alloc(&req->arena, sizeof(*names) * (size_t)(nt + 1));
            int32_t **idx = rb_arena_alloc(&req->arena, sizeof(*idx) * (size_t)(nt + 1));
            int32_t *counts = rb_arena_alloc(&req->arena, sizeof(*counts) * (size_t)(nt + 1));
            for (int32_t t = 0; t < nt; t++) {
                names[t] = in->topics[t].name;
                idx[t] = in->topics[t].partition_indexes;
                counts[t] = in->topics[t].partition_indexes_count;
            }
            fetch_answer_t answer = {0};
            fetch_group(req, rb__cstr(req, in->group_id), in->topics_count < 0, names, idx,
                        counts, nt, r.require_stable, &answer);
            resp.groups[g].group_id = in->group_id;
            resp.groups[g].topics = answer.topics;
            resp.groups[g].topics_count = answer.topics_count;
            resp.groups[g].error_code = answer.error_code;
        }
        rb__req_respond(req, &rb_offset_fetch_resp_msg, &resp);
        return;
    }
    int32_t nt = r.topics_count > 0 ? r.topics_count : 0;
    rb_str_t *names = rb_arena_alloc(&req->arena, sizeof(*names) * (size_t)(nt + 1));
    int32_t **idx = rb_arena_alloc(&req->arena, sizeof(*idx) * (size_t)(nt + 1));
    int32_t *counts = rb_arena_alloc(&req->arena, sizeof(*counts) * (size_t)(nt + 1));
    for (int32_t t = 0; t < nt; t++) {
        names[t] = r.topics[t].name;
        idx[t] = r.topics[t].partition_indexes;
        counts[t] = r.topics[t].partition_indexes_count;
    }
    fetch_answer_t answer = {0};
    fetch_group(req, rb__cstr(req, r.group_id), r.topics_count < 0, names, idx, counts, nt,
                r.require_stable, &answer);
    /* v0-7: the same data in the older structs */
    resp.error_code = answer.error_code;
    resp.topics_count = answer.topics_count;
    resp.topics = rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_topic_desc,
                            answer.topics_count);
    for (int32_t t = 0; t < answer.topics_count; t++) {
        const rb_offset_fetch_resp_offset_fetch_response_topics_t *in = &answer.topics[t];
        rb_offset_fetch_resp_offset_fetch_response_topic_t *out = &resp.topics[t];
        out->name = in->name;
        out->partitions_count = in->partitions_count;
        out->partitions = rb__items(req, &rb_offset_fetch_resp_offset_fetch_response_partition_desc,
                                    in->partitions_count);
        for (int32_t p = 0; p < in->partitions_count; p++) {
            out->partitions[p].partition_index = in->partitions[p].partition_index;
            out->partitions[p].committed_offset = in->partitions[p].committed_offset;
            out->partitions[p].committed_leader_epoch = in->partitions[p].committed_leader_epoch;
            out->partitions[p].metadata = in->partitions[p].metadata;
            out->partitions[p].error_code = in->partitions[p].error_code;
        }
    }
    rb__req_respond(req, &rb_offset_fetch_resp_msg, &resp);
}

/* ---- DescribeGroups, ListGroups, DeleteGroups ------------------------------------------ */

typedef struct describe_ctx {
    rb_req_t *req;
    rb_describe_groups_resp_described_group_t *out;
} describe_ctx_t;

static rb_str_t arena_str(rb_req_t *req, const char *s)
{
    return s ? rb_arena_str(&req->arena, s, strlen(s)) : RB_STR_NULL;
}

static rb_bytes_t arena_bytes(rb_req_t *req, const uint8_t *p, size_t len)
{
    uint8_t *copy = rb_arena_alloc(&req->arena, len ? len : 1);
    if (len)
        memcpy(copy, p, len);
    return (rb_bytes_t){copy, (int32_t)len};
}

static void on_describe(const rb_group_desc_t *d, void *ud)
{
    describe_ctx_t *ctx = ud;
    rb_req_t *req = ctx->req;
    rb_describe_groups_resp_described_group_t *out = ctx->out;
    out->error_code = d->error_code;
    out->group_state = arena_str(req, d->state);
    out->protocol_type = arena_str(req, d->protocol_type);
    out->protocol_data = arena_str(req, d->protocol_data);
    out->members_count = (int32_t)d->member_count;
    out->members = rb__items(req, &rb_describe_groups_resp_described_group_member_desc,
                             out->members_count);
    for (size_t i = 0; i < d->member_count; i++) {
        const rb_group_member_desc_t *m = &d->members[i];
        rb_describe_groups_resp_described_group_member_t *o = &out->members[i];
        o->member_id = arena_str(req, m->member_id);
        o->group_instance_id = arena_str(req, m->group_instance_id);
        o->client_id = arena_str(req, m->client_id);
        o->client_host = arena_str(req, m->client_host);
        o->member_metadata = arena_bytes(req, m->metadata, m->metadata_len);
        o->member_assignment = arena_bytes(req, m->assignment, m->assignment_len);
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
    resp.groups_count = r.groups_count > 0 ? r.groups_count : 0;
    resp.groups = rb__items(req, &rb_describe_groups_resp_described_group_desc, resp.groups_count);
    for (int32_t i = 0; i < resp.groups_count; i++) {
        describe_ctx_t ctx = {req, &resp.groups[i]};
        resp.groups[i].group_id = r.groups[i];
        rb_group_describe(req->server->groups, rb__cstr(req, r.groups[i]), on_describe, &ctx);
    }
    rb__req_respond(req, &rb_describe_groups_resp_msg, &resp);
}

static void on_list(const char *group_id, const char *protocol_type, const char *state, void *ud)
{
    fetch_all_ctx_t *ctx = ud; /* parts holds rb_list_groups_resp_listed_group_t here */
    rb_list_groups_resp_listed_group_t g;
    rb_proto_init(&rb_list_groups_resp_listed_group_desc, &g);
    g.group_id = arena_str(ctx->req, group_id);
    g.protocol_type = arena_str(ctx->req, protocol_type);
    g.group_state = arena_str(ctx->req, state);
    g_array_append_val(ctx->parts, g);
}

void rb__handle_list_groups(rb_req_t *req, rill_rbuf_t *body)
{
    rb_list_groups_req_t r;
    if (rb_list_groups_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed ListGroups request");
        return;
    }
    int32_t ns = r.states_filter_count > 0 ? r.states_filter_count : 0;
    const char **states = rb_arena_alloc(&req->arena, sizeof(*states) * (size_t)(ns + 1));
    for (int32_t i = 0; i < ns; i++)
        states[i] = rb__cstr(req, r.states_filter[i]);
    fetch_all_ctx_t ctx = {req, g_array_new(FALSE, FALSE,
                                            sizeof(rb_list_groups_resp_listed_group_t))};
    rb_list_groups_resp_t resp;
    rb_list_groups_resp_init(&resp);
    resp.error_code = rb_group_list(req->server->groups, states, (size_t)ns, on_list, &ctx);
    resp.groups_count = (int32_t)ctx.parts->len;
    resp.groups = rb__items(req, &rb_list_groups_resp_listed_group_desc, resp.groups_count);
    if (ctx.parts->len)
        memcpy(resp.groups, ctx.parts->data,
               ctx.parts->len * sizeof(rb_list_groups_resp_listed_group_t));
    g_array_unref(ctx.parts);
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
    resp.results_count = r.groups_names_count > 0 ? r.groups_names_count : 0;
    resp.results = rb__items(req, &rb_delete_groups_resp_deletable_group_result_desc,
                             resp.results_count);
    for (int32_t i = 0; i < resp.results_count; i++) {
        resp.results[i].group_id = r.groups_names[i];
        resp.results[i].error_code =
            rb_group_delete(req->server->groups, rb__cstr(req, r.groups_names[i]));
    }
    rb__req_respond(req, &rb_delete_groups_resp_msg, &resp);
}
