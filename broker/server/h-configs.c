/* h-configs.c: DescribeConfigs, AlterConfigs and IncrementalAlterConfigs.
 *
 * Resources: TOPIC (2), described and altered through the topic registry's
 * overrides; BROKER (4), named by node.id (or "" for the cluster default),
 * described from the broker config and read-only (the broker's config comes
 * from its file and flags; there are no dynamic broker configs). Sources
 * follow Kafka: DYNAMIC_TOPIC_CONFIG for an override, STATIC_BROKER_CONFIG
 * for a broker key set in the file or flags, DEFAULT_CONFIG otherwise.
 *
 * AlterConfigs replaces a topic's whole set of overrides;
 * IncrementalAlterConfigs applies SET/DELETE/APPEND/SUBTRACT to it. Either
 * validates every entry first and changes nothing when one is bad. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"

enum { RES_TOPIC = 2, RES_BROKER = 4 };
enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

static rb_str_t astr(rb_req_t *req, const char *s)
{
    return s ? rb_arena_str(&req->arena, s, strlen(s)) : RB_STR_NULL;
}

static bool wanted(const rb_describe_configs_req_describe_configs_resource_t *res, const char *name)
{
    if (res->configuration_keys_count < 0)
        return true;
    for (int32_t i = 0; i < res->configuration_keys_count; i++)
        if (rb_str_eq(res->configuration_keys[i], name))
            return true;
    return false;
}

static int8_t broker_key_type(const char *key)
{
    if (!strcmp(key, "auto.create.topics.enable") || !strcmp(key, "delete.topic.enable") ||
        !strcmp(key, "log.flush.on.ack"))
        return RB_CT_BOOLEAN;
    if (!strcmp(key, "log.cleanup.policy") || !strcmp(key, "log.dirs"))
        return RB_CT_LIST;
    if (!strcmp(key, "cluster.id") || !strcmp(key, "log.message.timestamp.type"))
        return RB_CT_STRING;
    return RB_CT_LONG;
}

static char *broker_key_value(const rb_server_t *server, const char *key)
{
    switch (broker_key_type(key)) {
    case RB_CT_BOOLEAN:
        return g_strdup(rb_config_bool(server->config, key) ? "true" : "false");
    case RB_CT_LIST:
    case RB_CT_STRING:
        return g_strdup(rb_config_str(server->config, key));
    default:
        return g_strdup_printf("%" G_GINT64_FORMAT, rb_config_int(server->config, key));
    }
}

static int8_t broker_key_source(const rb_server_t *server, const char *key)
{
    return rb_config_is_default(server->config, key) ? RB_CS_DEFAULT : RB_CS_STATIC_BROKER;
}

static void describe_topic(rb_req_t *req, const rb_describe_configs_req_t *r,
                           const rb_describe_configs_req_describe_configs_resource_t *res,
                           rb_describe_configs_resp_describe_configs_result_t *out)
{
    rb_topic_t *topic = rb__topic_find(req->server, res->resource_name);
    if (!topic) {
        out->error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        out->error_message = rb_str_c("unknown topic");
        return;
    }
    out->configs = rb__items(req, &rb_describe_configs_resp_describe_configs_resource_result_desc,
                             (int32_t)rb__n_topic_configs);
    int32_t n = 0;
    for (size_t i = 0; i < rb__n_topic_configs; i++) {
        const rb_topic_config_def_t *def = &rb__topic_configs[i];
        if (!wanted(res, def->name))
            continue;
        rb_describe_configs_resp_describe_configs_resource_result_t *c = &out->configs[n++];
        int8_t source;
        g_autofree char *value = rb__topic_config_value(req->server, topic, def, &source);
        c->name = rb_str_c(def->name);
        c->value = astr(req, value);
        c->config_source = source;
        c->is_default = source == RB_CS_DEFAULT;
        c->config_type = def->type;
        c->documentation = r->include_documentation ? rb_str_c(def->doc) : RB_STR_NULL;
        if (!r->include_synonyms)
            continue;
        /* the override first, then the broker config it shadows */
        c->synonyms = rb__items(req, &rb_describe_configs_resp_describe_configs_synonym_desc, 2);
        int32_t s = 0;
        if (source == RB_CS_DYNAMIC_TOPIC) {
            c->synonyms[s].name = rb_str_c(def->name);
            c->synonyms[s].value = astr(req, value);
            c->synonyms[s].source = RB_CS_DYNAMIC_TOPIC;
            s++;
        }
        if (def->broker_key) {
            g_autofree char *bv = broker_key_value(req->server, def->broker_key);
            c->synonyms[s].name = rb_str_c(def->broker_key);
            c->synonyms[s].value = astr(req, bv);
            c->synonyms[s].source = broker_key_source(req->server, def->broker_key);
            s++;
        }
        c->synonyms_count = s;
    }
    out->configs_count = n;
}

static void describe_broker(rb_req_t *req, const rb_describe_configs_req_t *r,
                            const rb_describe_configs_req_describe_configs_resource_t *res,
                            rb_describe_configs_resp_describe_configs_result_t *out)
{
    char id[16];
    g_snprintf(id, sizeof(id), "%d", req->server->node_id);
    if (!rb_str_eq(res->resource_name, id) && !rb_str_eq(res->resource_name, "")) {
        out->error_code = RB_ERR_INVALID_REQUEST;
        out->error_message = rb_str_c("unknown broker: this is a single-node cluster");
        return;
    }
    int32_t max = 0;
    while (rb__broker_config_keys[max])
        max++;
    out->configs =
        rb__items(req, &rb_describe_configs_resp_describe_configs_resource_result_desc, max);
    int32_t n = 0;
    for (int32_t i = 0; i < max; i++) {
        const char *key = rb__broker_config_keys[i];
        if (!wanted(res, key))
            continue;
        rb_describe_configs_resp_describe_configs_resource_result_t *c = &out->configs[n++];
        g_autofree char *value = broker_key_value(req->server, key);
        c->name = rb_str_c(key);
        c->value = astr(req, value);
        c->read_only = true;
        c->config_source = broker_key_source(req->server, key);
        c->is_default = c->config_source == RB_CS_DEFAULT;
        c->config_type = broker_key_type(key);
        if (r->include_synonyms) {
            c->synonyms =
                rb__items(req, &rb_describe_configs_resp_describe_configs_synonym_desc, 1);
            c->synonyms[0].name = c->name;
            c->synonyms[0].value = c->value;
            c->synonyms[0].source = c->config_source;
            c->synonyms_count = 1;
        }
    }
    out->configs_count = n;
}

void rb__handle_describe_configs(rb_req_t *req, rill_rbuf_t *body)
{
    rb_describe_configs_req_t r;
    if (rb_describe_configs_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DescribeConfigs request");
        return;
    }
    rb_describe_configs_resp_t resp;
    rb_describe_configs_resp_init(&resp);
    resp.results =
        rb__items(req, &rb_describe_configs_resp_describe_configs_result_desc, r.resources_count);
    resp.results_count = r.resources_count;
    for (int32_t i = 0; i < r.resources_count; i++) {
        const rb_describe_configs_req_describe_configs_resource_t *res = &r.resources[i];
        rb_describe_configs_resp_describe_configs_result_t *out = &resp.results[i];
        out->resource_type = res->resource_type;
        out->resource_name = res->resource_name;
        out->error_message = RB_STR_NULL;
        if (res->resource_type == RES_TOPIC) {
            describe_topic(req, &r, res, out);
        } else if (res->resource_type == RES_BROKER) {
            describe_broker(req, &r, res, out);
        } else {
            out->error_code = RB_ERR_INVALID_REQUEST;
            out->error_message = rb_str_c("only TOPIC and BROKER resources are supported");
        }
    }
    rb__req_respond(req, &rb_describe_configs_resp_msg, &resp);
}

/* ---- altering ------------------------------------------------------------------------ */

/* One config change of either API, normalised. */
typedef struct change {
    const char *name;
    const char *value; /* NULL: delete */
    int8_t op;
} change_t;

/* Applies changes to a copy of the topic's overrides (replace: start empty).
 * Returns the new table (transfer full), or NULL with *err and *errmsg. */
static GHashTable *apply_changes(rb_req_t *req, rb_topic_t *topic, const change_t *changes,
                                 int32_t n, bool replace, int16_t *err, char **errmsg)
{
    g_autoptr(GHashTable) ov = rb__overrides_new();
    if (!replace) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, topic->overrides);
        while (g_hash_table_iter_next(&it, &k, &v))
            g_hash_table_insert(ov, g_strdup(k), g_strdup(v));
    }
    for (int32_t i = 0; i < n; i++) {
        const change_t *c = &changes[i];
        for (int32_t k = 0; k < i; k++) {
            if (strcmp(changes[k].name, c->name) == 0) {
                *err = RB_ERR_INVALID_REQUEST;
                *errmsg = g_strdup_printf("config '%s' appears twice", c->name);
                return NULL;
            }
        }
        const rb_topic_config_def_t *def = rb__topic_config_def(c->name);
        if (!def) {
            *err = RB_ERR_INVALID_CONFIG;
            *errmsg = g_strdup_printf("unknown topic config '%s'", c->name);
            return NULL;
        }
        if (c->op == OP_DELETE || (c->op == OP_SET && !c->value && replace)) {
            g_hash_table_remove(ov, c->name);
            continue;
        }
        if (c->op == OP_SET) {
            if (!rb__topic_config_check(c->name, c->value, errmsg)) {
                *err = RB_ERR_INVALID_CONFIG;
                return NULL;
            }
            g_hash_table_insert(ov, g_strdup(c->name), g_strdup(c->value));
            continue;
        }
        if ((c->op != OP_APPEND && c->op != OP_SUBTRACT) || def->type != RB_CT_LIST || !c->value) {
            *err = RB_ERR_INVALID_CONFIG;
            *errmsg = g_strdup_printf("config '%s': operation %d needs a list config and a value",
                                      c->name, c->op);
            return NULL;
        }
        /* APPEND/SUBTRACT work on the current value, default included */
        rb_topic_t view = *topic;
        view.overrides = ov;
        int8_t source;
        g_autofree char *cur = rb__topic_config_value(req->server, &view, def, &source);
        g_auto(GStrv) items = g_strsplit(cur, ",", -1);
        GPtrArray *next = g_ptr_array_new();
        for (char **it = items; *it; it++) {
            char *item = g_strstrip(*it);
            if (*item && !(c->op == OP_SUBTRACT && strcmp(item, c->value) == 0))
                g_ptr_array_add(next, item);
        }
        bool present = false;
        for (guint k = 0; k < next->len; k++)
            present |= strcmp(next->pdata[k], c->value) == 0;
        if (c->op == OP_APPEND && !present)
            g_ptr_array_add(next, (char *)c->value);
        g_ptr_array_add(next, NULL);
        g_autofree char *joined = g_strjoinv(",", (char **)next->pdata);
        g_ptr_array_free(next, TRUE);
        if (!rb__topic_config_check(c->name, joined, errmsg)) {
            *err = RB_ERR_INVALID_CONFIG;
            return NULL;
        }
        g_hash_table_insert(ov, g_strdup(c->name), g_steal_pointer(&joined));
    }
    return g_steal_pointer(&ov);
}

/* Validates and (unless validate_only) applies one resource's changes. */
static int16_t alter_resource(rb_req_t *req, int8_t type, rb_str_t name, const change_t *changes,
                              int32_t n, bool replace, bool validate_only, rb_str_t *message)
{
    g_autofree char *errmsg = NULL;
    int16_t err = RB_ERR_NONE;
    if (type == RES_BROKER) {
        err = RB_ERR_INVALID_REQUEST;
        errmsg = g_strdup("broker configs are static: set them in the config file or flags");
    } else if (type != RES_TOPIC) {
        err = RB_ERR_INVALID_REQUEST;
        errmsg = g_strdup("only TOPIC resources can be altered");
    } else {
        rb_topic_t *topic = rb__topic_find(req->server, name);
        if (!topic) {
            err = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            errmsg = g_strdup("unknown topic");
        } else {
            GHashTable *ov = apply_changes(req, topic, changes, n, replace, &err, &errmsg);
            if (ov && validate_only)
                g_hash_table_destroy(ov);
            else if (ov)
                rb__topic_set_overrides(req->server, topic, ov);
        }
    }
    *message = errmsg ? astr(req, errmsg) : RB_STR_NULL;
    return err;
}

void rb__handle_alter_configs(rb_req_t *req, rill_rbuf_t *body)
{
    rb_alter_configs_req_t r;
    if (rb_alter_configs_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed AlterConfigs request");
        return;
    }
    rb_alter_configs_resp_t resp;
    rb_alter_configs_resp_init(&resp);
    resp.responses = rb__items(req, &rb_alter_configs_resp_alter_configs_resource_response_desc,
                               r.resources_count);
    resp.responses_count = r.resources_count;
    for (int32_t i = 0; i < r.resources_count; i++) {
        const rb_alter_configs_req_alter_configs_resource_t *res = &r.resources[i];
        change_t *changes =
            rb_arena_alloc(&req->arena, sizeof(change_t) * (size_t)(res->configs_count + 1));
        for (int32_t k = 0; k < res->configs_count; k++) {
            changes[k].name = rb__cstr(req, res->configs[k].name);
            changes[k].value =
                rb_str_is_null(res->configs[k].value) ? NULL : rb__cstr(req, res->configs[k].value);
            changes[k].op = OP_SET;
        }
        rb_alter_configs_resp_alter_configs_resource_response_t *out = &resp.responses[i];
        out->resource_type = res->resource_type;
        out->resource_name = res->resource_name;
        out->error_code =
            alter_resource(req, res->resource_type, res->resource_name, changes, res->configs_count,
                           true, r.validate_only, &out->error_message);
    }
    rb__req_respond(req, &rb_alter_configs_resp_msg, &resp);
}

void rb__handle_incremental_alter_configs(rb_req_t *req, rill_rbuf_t *body)
{
    rb_incremental_alter_configs_req_t r;
    if (rb_incremental_alter_configs_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed IncrementalAlterConfigs request");
        return;
    }
    rb_incremental_alter_configs_resp_t resp;
    rb_incremental_alter_configs_resp_init(&resp);
    resp.responses =
        rb__items(req, &rb_incremental_alter_configs_resp_alter_configs_resource_response_desc,
                  r.resources_count);
    resp.responses_count = r.resources_count;
    for (int32_t i = 0; i < r.resources_count; i++) {
        const rb_incremental_alter_configs_req_alter_configs_resource_t *res = &r.resources[i];
        change_t *changes =
            rb_arena_alloc(&req->arena, sizeof(change_t) * (size_t)(res->configs_count + 1));
        for (int32_t k = 0; k < res->configs_count; k++) {
            changes[k].name = rb__cstr(req, res->configs[k].name);
            changes[k].value =
                rb_str_is_null(res->configs[k].value) ? NULL : rb__cstr(req, res->configs[k].value);
            changes[k].op = res->configs[k].config_operation;
        }
        rb_incremental_alter_configs_resp_alter_configs_resource_response_t *out =
            &resp.responses[i];
        out->resource_type = res->resource_type;
        out->resource_name = res->resource_name;
        out->error_code =
            alter_resource(req, res->resource_type, res->resource_name, changes, res->configs_count,
                           false, r.validate_only, &out->error_message);
    }
    rb__req_respond(req, &rb_incremental_alter_configs_resp_msg, &resp);
}
