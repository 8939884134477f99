/* h-meta.c: the discovery APIs: ApiVersions, Metadata, DescribeCluster.
 *
 * rill-broker is one node (node.id, 0 by default): it leads every partition, is the only
 * replica and in-sync replica, and is the controller. Metadata auto-creates
 * unknown topics when both auto.create.topics.enable and the request's
 * AllowAutoTopicCreation (true below v4) say so; the new topic is usable at
 * once, so it is answered with NONE rather than Kafka's transient
 * LEADER_NOT_AVAILABLE. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/log.h"

#define COMPONENT "broker.server"

/* ---- ApiVersions ------------------------------------------------------------ */

/* Kafka's rule for ClientSoftwareName/Version (KIP-511). */
static bool software_ok(rb_str_t s)
{
    if (s.len <= 0)
        return false;
    for (int32_t i = 0; i < s.len; i++) {
        char c = s.ptr[i];
        bool edge = i == 0 || i == s.len - 1;
        if (!g_ascii_isalnum(c) && (edge || (c != '-' && c != '.')))
            return false;
    }
    return true;
}

void rb__handle_api_versions(rb_req_t *req, rill_rbuf_t *body)
{
    rb_api_versions_resp_t resp;
    rb_api_versions_resp_init(&resp);
    if (!body) {
        /* a version we do not serve: v0 body, error 35, our ranges */
        resp.error_code = RB_ERR_UNSUPPORTED_VERSION;
    } else {
        rb_api_versions_req_t r;
        if (rb_api_versions_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
            resp.error_code = RB_ERR_INVALID_REQUEST;
        } else if (req->hdr.api_version >= 3 && (!software_ok(r.client_software_name) ||
                                                 !software_ok(r.client_software_version))) {
            resp.error_code = RB_ERR_INVALID_REQUEST;
        }
    }
    int32_t n = 0;
    resp.api_keys =
        rb__items(req, &rb_api_versions_resp_api_version_desc, (int32_t)rb_proto_n_apis);
    for (size_t i = 0; i < rb_proto_n_apis; i++) {
        const rb_api_desc_t *api = &rb_proto_apis[i];
        if (!rb__server_handler(api->key))
            continue;
        resp.api_keys[n].api_key = api->key;
        resp.api_keys[n].min_version = api->min_version;
        resp.api_keys[n].max_version = api->max_version;
        n++;
    }
    resp.api_keys_count = n;
    rb__req_respond(req, &rb_api_versions_resp_msg, &resp);
}

/* ---- Metadata ------------------------------------------------------------------ */

static void fill_partitions(rb_req_t *req, const rb_topic_t *topic,
                            rb_metadata_resp_metadata_response_topic_t *out)
{
    out->partitions =
        rb__items(req, &rb_metadata_resp_metadata_response_partition_desc, topic->npartitions);
    out->partitions_count = topic->npartitions;
    int32_t *node = rb_arena_alloc(&req->arena, sizeof(int32_t));
    *node = req->server->node_id;
    for (int32_t i = 0; i < topic->npartitions; i++) {
        rb_metadata_resp_metadata_response_partition_t *p = &out->partitions[i];
        p->error_code = RB_ERR_NONE;
        p->partition_index = i;
        p->leader_id = req->server->node_id;
        p->leader_epoch = 0;
        p->replica_nodes = node;
        p->replica_nodes_count = 1;
        p->isr_nodes = node;
        p->isr_nodes_count = 1;
    }
}

static void fill_topic(rb_req_t *req, const rb_topic_t *topic,
                       rb_metadata_resp_metadata_response_topic_t *out)
{
    out->error_code = RB_ERR_NONE;
    out->name = rb_str_c(topic->name);
    out->topic_id = topic->id;
    out->is_internal = strcmp(topic->name, "__consumer_offsets") == 0 ||
                       strcmp(topic->name, "__transaction_state") == 0;
    fill_partitions(req, topic, out);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void rb__handle_metadata(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_metadata_req_t r;
    if (rb_metadata_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed Metadata request");
        return;
    }
    rb_metadata_resp_t resp;
    rb_metadata_resp_init(&resp);
    resp.brokers = rb__items(req, &rb_metadata_resp_metadata_response_broker_desc, 1);
    resp.brokers_count = 1;
    resp.brokers[0].node_id = server->node_id;
    resp.brokers[0].host = rb_str_c(server->adv_host);
    resp.brokers[0].port = server->adv_port;
    resp.cluster_id = rb_str_c(server->cluster_id);
    resp.controller_id = server->node_id;

    bool all = r.topics_count < 0 || (v == 0 && r.topics_count == 0);
    if (all) {
        guint n = 0;
        char **sorted = (char **)g_hash_table_get_keys_as_array(server->topics, &n);
        qsort(sorted, n, sizeof(*sorted), cmp_names);
        resp.topics = rb__items(req, &rb_metadata_resp_metadata_response_topic_desc, (int32_t)n);
        resp.topics_count = (int32_t)n;
        for (guint i = 0; i < n; i++)
            fill_topic(req, g_hash_table_lookup(server->topics, sorted[i]), &resp.topics[i]);
        g_free(sorted);
        rb__req_respond(req, &rb_metadata_resp_msg, &resp);
        return;
    }

    bool may_create =
        rb_config_bool(server->config, "auto.create.topics.enable") && r.allow_auto_topic_creation;
    resp.topics = rb__items(req, &rb_metadata_resp_metadata_response_topic_desc, r.topics_count);
    resp.topics_count = r.topics_count;
    for (int32_t i = 0; i < r.topics_count; i++) {
        const rb_metadata_req_metadata_request_topic_t *want = &r.topics[i];
        rb_metadata_resp_metadata_response_topic_t *out = &resp.topics[i];
        out->name = want->name;
        out->topic_id = want->topic_id;
        if (rb_str_is_null(want->name)) {
            rb_topic_t *topic = rb__topic_find_id(server, &want->topic_id);
            if (topic)
                fill_topic(req, topic, out);
            else
                out->error_code = RB_ERR_UNKNOWN_TOPIC_ID;
            continue;
        }
        rb_topic_t *topic = rb__topic_find(server, want->name);
        if (!topic && !rb__topic_name_valid(want->name)) {
            out->error_code = RB_ERR_INVALID_TOPIC_EXCEPTION;
            continue;
        }
        if (!topic && may_create) {
            g_autofree char *errmsg = NULL;
            int64_t n = rb_config_int(server->config, "num.partitions");
            topic = rb__topic_create(server, rb__cstr(req, want->name), n > 0 ? (int32_t)n : 1,
                                     NULL, &errmsg);
            if (!topic) {
                RILL_LOG_ERROR(COMPONENT, "auto-create failed topic=%s: %s",
                               rb__cstr(req, want->name), errmsg);
                out->error_code = RB_ERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
        }
        if (!topic) {
            out->error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        fill_topic(req, topic, out);
    }
    rb__req_respond(req, &rb_metadata_resp_msg, &resp);
}

/* ---- DescribeCluster ------------------------------------------------------------- */

void rb__handle_describe_cluster(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    rb_describe_cluster_req_t r;
    if (rb_describe_cluster_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DescribeCluster request");
        return;
    }
    rb_describe_cluster_resp_t resp;
    rb_describe_cluster_resp_init(&resp);
    resp.endpoint_type = r.endpoint_type;
    resp.cluster_id = rb_str_c(server->cluster_id);
    resp.controller_id = server->node_id;
    if (r.endpoint_type != 1 && r.endpoint_type != 2) {
        resp.error_code = 119; /* UNSUPPORTED_ENDPOINT_TYPE */
        resp.error_message = rb_str_c("unknown endpoint type");
    } else {
        /* one node is both the broker and the controller */
        resp.brokers = rb__items(req, &rb_describe_cluster_resp_describe_cluster_broker_desc, 1);
        resp.brokers_count = 1;
        resp.brokers[0].broker_id = server->node_id;
        resp.brokers[0].host = rb_str_c(server->adv_host);
        resp.brokers[0].port = server->adv_port;
    }
    rb__req_respond(req, &rb_describe_cluster_resp_msg, &resp);
}
