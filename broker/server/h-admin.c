/* h-admin.c: topic administration: CreateTopics, DeleteTopics,
 * CreatePartitions, DeleteRecords.
 *
 * Each topic (or partition) in a request succeeds or fails on its own, with
 * Kafka's error codes and a message: a bad name INVALID_TOPIC_EXCEPTION, a
 * duplicate TOPIC_ALREADY_EXISTS, a replication factor other than 1 (or -1,
 * the default) INVALID_REPLICATION_FACTOR, an assignment naming another
 * broker INVALID_REPLICA_ASSIGNMENT, a bad config INVALID_CONFIG. A name
 * listed twice in one request is INVALID_REQUEST for both, as in Kafka.
 * validate_only checks everything and changes nothing. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/log.h"

#define COMPONENT "broker.server"

static bool listed_twice(const rb_create_topics_req_t *r, int32_t i)
{
    for (int32_t k = 0; k < r->topics_count; k++)
        if (k != i && r->topics[k].name.len == r->topics[i].name.len &&
            (r->topics[i].name.len <= 0 || memcmp(r->topics[k].name.ptr, r->topics[i].name.ptr,
                                                  (size_t)r->topics[i].name.len) == 0))
            return true;
    return false;
}

/* Checks one CreatableTopic; on success *npartitions and *overrides (transfer full) are set. */
static int16_t check_creatable(rb_req_t *req, const rb_create_topics_req_creatable_topic_t *ct,
                               int32_t *npartitions, GHashTable **overrides, char **errmsg)
{
    rb_server_t *server = req->server;
    if (!rb__topic_name_valid(ct->name)) {
        *errmsg = g_strdup("topic names are 1-249 characters of [a-zA-Z0-9._-], not . or ..");
        return RB_ERR_INVALID_TOPIC_EXCEPTION;
    }
    if (rb__topic_find(server, ct->name)) {
        *errmsg = g_strdup_printf("topic '%s' already exists", rb__cstr(req, ct->name));
        return RB_ERR_TOPIC_ALREADY_EXISTS;
    }
    int32_t n = ct->num_partitions;
    if (ct->assignments_count > 0) {
        if (n != -1 || ct->replication_factor != -1) {
            *errmsg = g_strdup("give either assignments or partitions and replication factor");
            return RB_ERR_INVALID_REQUEST;
        }
        n = ct->assignments_count;
        for (int32_t i = 0; i < ct->assignments_count; i++) {
            const rb_create_topics_req_creatable_replica_assignment_t *a = &ct->assignments[i];
            if (a->partition_index < 0 || a->partition_index >= n || a->broker_ids_count != 1 ||
                a->broker_ids[0] != req->server->node_id) {
                *errmsg = g_strdup_printf("this single-node broker is node %d: every "
                                          "partition's replicas must be [%d]",
                                          req->server->node_id, req->server->node_id);
                return RB_ERR_INVALID_REPLICA_ASSIGNMENT;
            }
        }
    } else {
        if (n == -1)
            n = (int32_t)rb_config_int(server->config, "num.partitions");
        if (n <= 0 || n > 100000) {
            *errmsg = g_strdup_printf("number of partitions must be at least 1 (got %d)", n);
            return RB_ERR_INVALID_PARTITIONS;
        }
        if (ct->replication_factor != -1 && ct->replication_factor != 1) {
            *errmsg = g_strdup_printf("replication factor %d is larger than the 1 available "
                                      "broker",
                                      ct->replication_factor);
            return RB_ERR_INVALID_REPLICATION_FACTOR;
        }
    }
    g_autoptr(GHashTable) ov = rb__overrides_new();
    for (int32_t i = 0; i < ct->configs_count; i++) {
        const char *name = rb__cstr(req, ct->configs[i].name);
        const char *value =
            rb_str_is_null(ct->configs[i].value) ? NULL : rb__cstr(req, ct->configs[i].value);
        if (!rb__topic_config_check(name, value, errmsg))
            return RB_ERR_INVALID_CONFIG;
        g_hash_table_insert(ov, g_strdup(name), g_strdup(value));
    }
    *npartitions = n;
    *overrides = g_steal_pointer(&ov);
    return RB_ERR_NONE;
}

static void fill_created_configs(rb_req_t *req, const rb_topic_t *topic,
                                 rb_create_topics_resp_creatable_topic_result_t *out)
{
    out->configs = rb__items(req, &rb_create_topics_resp_creatable_topic_configs_desc,
                             (int32_t)rb__n_topic_configs);
    out->configs_count = (int32_t)rb__n_topic_configs;
    for (size_t i = 0; i < rb__n_topic_configs; i++) {
        const rb_topic_config_def_t *def = &rb__topic_configs[i];
        int8_t source;
        g_autofree char *value = rb__topic_config_value(req->server, topic, def, &source);
        out->configs[i].name = rb_str_c(def->name);
        out->configs[i].value = rb_arena_str(&req->arena, value, strlen(value));
        out->configs[i].config_source = source;
    }
}

void rb__handle_create_topics(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    rb_create_topics_req_t r;
    if (rb_create_topics_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed CreateTopics request");
        return;
    }
    rb_create_topics_resp_t resp;
    rb_create_topics_resp_init(&resp);
    resp.topics =
        rb__items(req, &rb_create_topics_resp_creatable_topic_result_desc, r.topics_count);
    resp.topics_count = r.topics_count;
    for (int32_t i = 0; i < r.topics_count; i++) {
        const rb_create_topics_req_creatable_topic_t *ct = &r.topics[i];
        rb_create_topics_resp_creatable_topic_result_t *out = &resp.topics[i];
        out->name = ct->name;
        g_autofree char *errmsg = NULL;
        GHashTable *overrides = NULL;
        int32_t n = 0;
        int16_t err;
        if (listed_twice(&r, i)) {
            err = RB_ERR_INVALID_REQUEST;
            errmsg = g_strdup("topic listed more than once in the request");
        } else {
            err = check_creatable(req, ct, &n, &overrides, &errmsg);
        }
        if (err == RB_ERR_NONE) {
            rb_topic_t probe = {.name = (char *)rb__cstr(req, ct->name), .overrides = overrides};
            rb_topic_t *topic = &probe;
            if (!r.validate_only) {
                topic = rb__topic_create(server, probe.name, n, overrides, &errmsg);
                overrides = NULL;
                if (!topic)
                    err = RB_ERR_UNKNOWN_SERVER_ERROR;
            }
            if (topic) {
                out->topic_id = topic->id;
                out->num_partitions = n;
                out->replication_factor = 1;
                fill_created_configs(req, topic, out);
            }
        }
        if (overrides)
            g_hash_table_destroy(overrides);
        out->error_code = err;
        if (errmsg)
            out->error_message = rb_arena_str(&req->arena, errmsg, strlen(errmsg));
        else
            out->error_message = RB_STR_NULL;
    }
    rb__req_respond(req, &rb_create_topics_resp_msg, &resp);
}

void rb__handle_delete_topics(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_delete_topics_req_t r;
    if (rb_delete_topics_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DeleteTopics request");
        return;
    }
    int32_t n = v >= 6 ? r.topics_count : r.topic_names_count;
    rb_delete_topics_resp_t resp;
    rb_delete_topics_resp_init(&resp);
    resp.responses = rb__items(req, &rb_delete_topics_resp_deletable_topic_result_desc, n);
    resp.responses_count = n;
    bool enabled = rb_config_bool(server->config, "delete.topic.enable");
    for (int32_t i = 0; i < n; i++) {
        rb_delete_topics_resp_deletable_topic_result_t *out = &resp.responses[i];
        rb_topic_t *topic;
        if (v >= 6 && rb_str_is_null(r.topics[i].name)) {
            out->name = RB_STR_NULL;
            out->topic_id = r.topics[i].topic_id;
            topic = rb__topic_find_id(server, &r.topics[i].topic_id);
        } else {
            out->name = v >= 6 ? r.topics[i].name : r.topic_names[i];
            topic = rb__topic_find(server, out->name);
        }
        if (!enabled) {
            out->error_code = RB_ERR_TOPIC_DELETION_DISABLED;
            out->error_message = rb_str_c("delete.topic.enable is false");
        } else if (!topic) {
            out->error_code = v >= 6 && rb_str_is_null(out->name)
                                  ? RB_ERR_UNKNOWN_TOPIC_ID
                                  : RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        } else {
            out->name = rb_arena_str(&req->arena, topic->name, strlen(topic->name));
            out->topic_id = topic->id;
            if (server->groups)
                rb_group_topic_deleted(server->groups, topic->name);
            rb__topic_delete(server, topic);
        }
    }
    rb__req_respond(req, &rb_delete_topics_resp_msg, &resp);
}

void rb__handle_create_partitions(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    rb_create_partitions_req_t r;
    if (rb_create_partitions_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed CreatePartitions request");
        return;
    }
    rb_create_partitions_resp_t resp;
    rb_create_partitions_resp_init(&resp);
    resp.results = rb__items(req, &rb_create_partitions_resp_create_partitions_topic_result_desc,
                             r.topics_count);
    resp.results_count = r.topics_count;
    for (int32_t i = 0; i < r.topics_count; i++) {
        const rb_create_partitions_req_create_partitions_topic_t *ct = &r.topics[i];
        rb_create_partitions_resp_create_partitions_topic_result_t *out = &resp.results[i];
        out->name = ct->name;
        out->error_message = RB_STR_NULL;
        g_autofree char *errmsg = NULL;
        rb_topic_t *topic = rb__topic_find(server, ct->name);
        int16_t err = RB_ERR_NONE;
        if (!topic) {
            err = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        } else if (ct->count <= topic->npartitions || ct->count > 100000) {
            err = RB_ERR_INVALID_PARTITIONS;
            errmsg = g_strdup_printf("topic has %d partitions; the new count must be larger "
                                     "(got %d)",
                                     topic->npartitions, ct->count);
        } else if (ct->assignments_count > 0) {
            bool ok = ct->assignments_count == ct->count - topic->npartitions;
            for (int32_t k = 0; ok && k < ct->assignments_count; k++)
                ok = ct->assignments[k].broker_ids_count == 1 &&
                     ct->assignments[k].broker_ids[0] == server->node_id;
            if (!ok) {
                err = RB_ERR_INVALID_REPLICA_ASSIGNMENT;
                errmsg = g_strdup("every new partition's replicas must be this node alone");
            }
        }
        if (err == RB_ERR_NONE && !r.validate_only &&
            rb__topic_add_partitions(server, topic, ct->count, &errmsg) != 0)
            err = RB_ERR_UNKNOWN_SERVER_ERROR;
        out->error_code = err;
        if (errmsg)
            out->error_message = rb_arena_str(&req->arena, errmsg, strlen(errmsg));
    }
    rb__req_respond(req, &rb_create_partitions_resp_msg, &resp);
}

void rb__handle_delete_records(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    rb_delete_records_req_t r;
    if (rb_delete_records_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DeleteRecords request");
        return;
    }
    rb_delete_records_resp_t resp;
    rb_delete_records_resp_init(&resp);
    resp.topics =
        rb__items(req, &rb_delete_records_resp_delete_records_topic_result_desc, r.topics_count);
    resp.topics_count = r.topics_count;
    for (int32_t t = 0; t < r.topics_count; t++) {
        const rb_delete_records_req_delete_records_topic_t *dt = &r.topics[t];
        rb_delete_records_resp_delete_records_topic_result_t *tr = &resp.topics[t];
        tr->name = dt->name;
        tr->partitions =
            rb__items(req, &rb_delete_records_resp_delete_records_partition_result_desc,
                      dt->partitions_count);
        tr->partitions_count = dt->partitions_count;
        for (int32_t p = 0; p < dt->partitions_count; p++) {
            const rb_delete_records_req_delete_records_partition_t *dp = &dt->partitions[p];
            rb_delete_records_resp_delete_records_partition_result_t *pr = &tr->partitions[p];
            pr->partition_index = dp->partition_index;
            pr->low_watermark = -1;
            rb_partition_t *part = rb__partition_find(server, dt->name, dp->partition_index);
            if (!part) {
                pr->error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            /* -1 means the high watermark */
            int64_t offset = dp->offset == -1 ? rb_log_end_offset(part->log) : dp->offset;
            if (offset < 0) {
                pr->error_code = RB_ERR_OFFSET_OUT_OF_RANGE;
            } else if (offset <= rb_log_start_offset(part->log)) {
                pr->error_code = RB_ERR_NONE; /* nothing to delete */
            } else {
                pr->error_code = rb_log_delete_records(part->log, offset);
                rb_pstate_truncate_head(part->pstate, rb_log_start_offset(part->log));
            }
            pr->low_watermark = rb_log_start_offset(part->log);
        }
    }
    rb__req_respond(req, &rb_delete_records_resp_msg, &resp);
}
