/* server.c: rill-broker's request dispatcher: frames in, handlers, responses out.
 *
 * Per request (on the loop thread):
 *
 *   on_request(frame) ─ take frame ─ peek key/version ─┬─ ApiVersions ─────────► handler
 *                                                      ├─ unknown key/version ─► close connection
 *                                                      └─ served ─ header v1/v2 ─► handler
 *   handler ─► rb__req_respond()            (now, or later for a parked Fetch)
 *           ─► rb__req_finish_no_response() (Produce acks=0)
 *           ─► rb__req_fail()               (malformed body: close with a log line)
 *
 * Every path ends with exactly one rb_conn_respond on the slot, which net/
 * requires. ApiVersions is special (KIP-511): its response always has header
 * v0, and a version we do not know is answered with a v0 body carrying
 * UNSUPPORTED_VERSION and our ranges, never by closing: librdkafka would fall
 * back to a legacy protocol mode. Any other unknown API or version closes the
 * connection, as Kafka does.
 *
 * Lifetime: rb_server_new loads the topic registry and opens every log and
 * producer state, opens the transaction coordinator, starts the group
 * coordinator, then lets the transaction coordinator finish what was in
 * flight (its markers and group offsets need both). rb_server_destroy undoes
 * it in reverse, answering parked Fetches first.
 *
 * Housekeeping: a timer every log.retention.check.interval.ms calls
 * rb_log_maintain on every partition (roll, retention, compaction, flush.ms)
 * and maintains its producer state (snapshots, expiry). flush.ms has its own
 * timer too (flush_tick), set for the earliest deadline. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.server"

/* ---- handler table ---------------------------------------------------------- */

static const struct {
    int16_t key;
    rb__handler_fn fn;
} handlers[] = {
    {RB_API_KEY_PRODUCE, rb__handle_produce},
    {RB_API_KEY_FETCH, rb__handle_fetch},
    {RB_API_KEY_LIST_OFFSETS, rb__handle_list_offsets},
    {RB_API_KEY_METADATA, rb__handle_metadata},
    {RB_API_KEY_API_VERSIONS, rb__handle_api_versions},
    {RB_API_KEY_CREATE_TOPICS, rb__handle_create_topics},
    {RB_API_KEY_DELETE_TOPICS, rb__handle_delete_topics},
    {RB_API_KEY_DELETE_RECORDS, rb__handle_delete_records},
    {RB_API_KEY_DESCRIBE_CONFIGS, rb__handle_describe_configs},
    {RB_API_KEY_ALTER_CONFIGS, rb__handle_alter_configs},
    {RB_API_KEY_CREATE_PARTITIONS, rb__handle_create_partitions},
    {RB_API_KEY_INCREMENTAL_ALTER_CONFIGS, rb__handle_incremental_alter_configs},
    {RB_API_KEY_DESCRIBE_CLUSTER, rb__handle_describe_cluster},
    {RB_API_KEY_FIND_COORDINATOR, rb__handle_find_coordinator},
    {RB_API_KEY_JOIN_GROUP, rb__handle_join_group},
    {RB_API_KEY_SYNC_GROUP, rb__handle_sync_group},
    {RB_API_KEY_HEARTBEAT, rb__handle_heartbeat},
    {RB_API_KEY_LEAVE_GROUP, rb__handle_leave_group},
    {RB_API_KEY_OFFSET_COMMIT, rb__handle_offset_commit},
    {RB_API_KEY_OFFSET_FETCH, rb__handle_offset_fetch},
    {RB_API_KEY_DESCRIBE_GROUPS, rb__handle_describe_groups},
    {RB_API_KEY_LIST_GROUPS, rb__handle_list_groups},
    {RB_API_KEY_DELETE_GROUPS, rb__handle_delete_groups},
    {RB_API_KEY_INIT_PRODUCER_ID, rb__handle_init_producer_id},
    {RB_API_KEY_ADD_PARTITIONS_TO_TXN, rb__handle_add_partitions_to_txn},
    {RB_API_KEY_ADD_OFFSETS_TO_TXN, rb__handle_add_offsets_to_txn},
    {RB_API_KEY_END_TXN, rb__handle_end_txn},
    {RB_API_KEY_TXN_OFFSET_COMMIT, rb__handle_txn_offset_commit},
    {RB_API_KEY_DESCRIBE_PRODUCERS, rb__handle_describe_producers},
    {RB_API_KEY_DESCRIBE_TRANSACTIONS, rb__handle_describe_transactions},
    {RB_API_KEY_LIST_TRANSACTIONS, rb__handle_list_transactions},
};

rb__handler_fn rb__server_handler(int16_t api_key)
{
    for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
        if (handlers[i].key == api_key)
            return handlers[i].fn;
    return NULL;
}

/* ---- responding --------------------------------------------------------------- */

void rb__req_free(rb_req_t *req)
{
    if (!req)
        return;
    rb_arena_clear(&req->arena);
    req->server->free_frame(req->frame);
    g_free(req);
}

void *rb__items(rb_req_t *req, const rb_struct_desc_t *desc, int32_t n)
{
    if (n <= 0)
        return NULL;
    uint8_t *items = rb_arena_alloc(&req->arena, (size_t)n * desc->size);
    for (int32_t i = 0; i < n; i++)
        rb_proto_init(desc, items + (size_t)i * desc->size);
    return items;
}

const char *rb__cstr(rb_req_t *req, rb_str_t s)
{
    if (s.len <= 0)
        return "";
    return rb_arena_str(&req->arena, s.ptr, (size_t)s.len).ptr;
}

void rb__req_respond(rb_req_t *req, const rb_msg_desc_t *msg, const void *resp)
{
    rb_enc_t enc;
    rb_enc_init(&enc);
    /* ApiVersions: header v0 at every version */
    bool flex_header = req->flexible && req->hdr.api_key != RB_API_KEY_API_VERSIONS;
    rb_proto_write_resp_header(&enc, req->hdr.correlation_id, flex_header);
    rb_proto_encode(msg, req->hdr.api_version, req->flexible, &enc, resp);
    req->server->respond(req->server->io_ud, req->slot, &enc);
    rb_enc_free(&enc);
    rb__metrics_request_done(req, true);
    rb__req_free(req);
}

static void finish_no_response(rb_req_t *req)
{
    req->server->respond(req->server->io_ud, req->slot, NULL);
    rb__req_free(req);
}

void rb__req_finish_no_response(rb_req_t *req)
{
    rb__metrics_request_done(req, true);
    finish_no_response(req);
}

void rb__req_fail(rb_req_t *req, const char *reason)
{
    RILL_LOG_WARN(COMPONENT, "closing connection: %s api=%d version=%d correlation_id=%d", reason,
                  req->hdr.api_key, req->hdr.api_version, req->hdr.correlation_id);
    req->server->close_conn(req->server->io_ud, req->conn, reason);
    rb__metrics_request_done(req, false);
    finish_no_response(req);
}

/* The default responder: memory between splices, file ranges by sendfile. */
static void net_respond(void *ud, rb_slot_t *slot, rb_enc_t *enc)
{
    (void)ud;
    if (!enc) {
        rb_conn_respond(slot, NULL);
        return;
    }
    rb_resp_t *resp = rb_resp_new();
    size_t at = 0;
    for (size_t i = 0; i < enc->nsplices; i++) {
        const rb_splice_t *sp = &enc->splices[i];
        if (sp->at > at)
            rb_resp_append_copy(resp, enc->w.data + at, sp->at - at);
        at = sp->at;
        if (rb_resp_append_file(resp, sp->fd, (off_t)sp->pos, sp->len) != 0) {
            RILL_LOG_ERROR(COMPONENT, "cannot attach log bytes to a response: %s",
                           g_strerror(errno));
            rb_resp_free(resp);
            rb_conn_close(rb_slot_conn(slot), "log read failed");
            rb_conn_respond(slot, NULL);
            return;
        }
    }
    if (at == 0 && enc->nsplices == 0) {
        size_t len;
        uint8_t *data = rill__wbuf_steal(&enc->w, &len);
        rb_resp_append_mem(resp, data, len, g_free);
    } else if (enc->w.len > at) {
        rb_resp_append_copy(resp, enc->w.data + at, enc->w.len - at);
    }
    rb_conn_respond(slot, resp);
}

static void net_close(void *ud, rb_conn_t *conn, const char *reason)
{
    (void)ud;
    rb_conn_close(conn, reason);
}

static uint8_t *copy_frame(rb_conn_t *conn, const uint8_t *frame, size_t len)
{
    (void)conn;
    uint8_t *copy = g_malloc(len ? len : 1);
    if (len)
        memcpy(copy, frame, len);
    return copy;
}

static void free_copy(uint8_t *frame)
{
    g_free(frame);
}

static const char *net_peer(void *ud, rb_conn_t *conn)
{
    (void)ud;
    return rb_conn_peer(conn);
}

/* ---- dispatch --------------------------------------------------------------------- */

static void on_request(rb_conn_t *conn, rb_slot_t *slot, const uint8_t *frame, size_t len, void *ud)
{
    rb_server_t *server = ud;
    rb_req_t *req = g_new0(rb_req_t, 1);
    req->server = server;
    req->conn = conn;
    req->slot = slot;
    if (server->metrics)
        req->start_us = rill__clock_mono_us();
    rb_arena_init(&req->arena);
    /* ours to keep (a parked Fetch) and to write (Produce stamps offsets into
     * its batches): net hands its buffer over when it can, else copies */
    req->frame = server->take_frame(conn, frame, len);
    req->frame_len = len;

    if (rb_proto_peek_req_header(req->frame, len, &req->hdr) != 0) {
        rb__req_fail(req, "request shorter than its header");
        return;
    }
    const rb_api_desc_t *api = rb_proto_api(req->hdr.api_key);
    rb__handler_fn fn = rb__server_handler(req->hdr.api_key);
    int16_t version = req->hdr.api_version;
    if (req->hdr.api_key == RB_API_KEY_API_VERSIONS &&
        (version < api->min_version || version > api->max_version)) {
        /* answered with a v0 body; the rest of the frame is not parsed */
        req->api = api;
        req->flexible = false;
        req->hdr.api_version = 0;
        rb__handle_api_versions(req, NULL);
        return;
    }
    if (!api || !fn || version < api->min_version || version > api->max_version) {
        g_autofree char *why =
            g_strdup_printf("unsupported api %d version %d", req->hdr.api_key, version);
        rb__req_fail(req, why);
        return;
    }
    req->api = api;
    req->flexible = rb_proto_is_flexible(api, version);
    rill_rbuf_t r;
    rill__rbuf_init(&r, req->frame, len);
    if (rb_proto_read_req_header(&r, req->flexible, &req->hdr) != 0) {
        rb__req_fail(req, "malformed request header");
        return;
    }
    if (RILL_LOG_ENABLED(RILL_LOG_LVL_TRACE))
        RILL_LOG_TRACE(COMPONENT, "request api=%s version=%d correlation_id=%d client_id=%.*s",
                       api->name, version, req->hdr.correlation_id,
                       req->hdr.client_id.len > 0 ? req->hdr.client_id.len : 0,
                       req->hdr.client_id.len > 0 ? req->hdr.client_id.ptr : "");
    fn(req, &r);
}

static void on_close(rb_conn_t *conn, void *ud)
{
    rb__fetch_conn_closed(ud, conn);
}

/* ---- housekeeping ----------------------------------------------------------------- */

static void maintain(void *ud)
{
    rb_server_t *server = ud;
    int64_t now = rill__clock_wall_ms();
    int deleted = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->topics);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_topic_t *topic = value;
        for (int32_t i = 0; i < topic->npartitions; i++) {
            rb_partition_t *part = topic->partitions[i];
            deleted += rb_log_maintain(part->log, now);
            rb_pstate_truncate_head(part->pstate, rb_log_start_offset(part->log));
            rb_pstate_expire(part->pstate, now);
            int64_t end = rb_log_end_offset(part->log);
            g_autofree char *errmsg = NULL;
            if (end > rb_pstate_last_snapshot_offset(part->pstate) &&
                !rb_pstate_snapshot(part->pstate, end, &errmsg))
                RILL_LOG_WARN(COMPONENT, "producer state snapshot failed topic=%s partition=%d: %s",
                              topic->name, i, errmsg);
        }
    }
    if (deleted > 0)
        RILL_LOG_INFO(COMPONENT, "housekeeping deleted %d segments", deleted);
    server->maintain_timer =
        rb_loop_add_timer(server->loop, server->maintain_interval_ms, maintain, server);
}

/* ---- flush.ms ---------------------------------------------------------------------- */

/* The flush timer: one timer for the whole broker, set for the earliest
 * flush.ms deadline of any partition (rb_log_flush_due). An append arms it
 * (rb__flush_timer_arm, only ever earlier); when it fires, every partition
 * whose deadline has come hands its unflushed segments to the background
 * flusher, and the timer is set again for the earliest deadline left. So an
 * idle broker has no flush timer, and flush.ms means what Kafka means: a
 * write is fsynced about flush.ms after it was appended, not at the next
 * housekeeping pass. */
static void flush_tick(void *ud)
{
    rb_server_t *server = ud;
    server->flush_timer = 0;
    int64_t now = rill__clock_wall_ms(), next = -1;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->topics);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_topic_t *topic = value;
        for (int32_t i = 0; i < topic->npartitions; i++) {
            int64_t due = rb_log_flush_tick(topic->partitions[i]->log, now);
            if (due >= 0 && (next < 0 || due < next))
                next = due;
        }
    }
    rb__flush_timer_arm(server, next);
}

void rb__flush_timer_arm(rb_server_t *server, int64_t due_ms)
{
    if (due_ms < 0 || (server->flush_timer && server->flush_timer_due <= due_ms))
        return;
    if (server->flush_timer)
        rb_loop_cancel_timer(server->loop, server->flush_timer);
    int64_t delay = due_ms - rill__clock_wall_ms();
    server->flush_timer =
        rb_loop_add_timer(server->loop, delay > 0 ? delay : 0, flush_tick, server);
    server->flush_timer_due = due_ms;
}

/* ---- public entry points -------------------------------------------------------------- */

rb_server_t *rb_server_new(rb_loop_t *loop, const rb_config_t *config, char **errmsg)
{
    rb_server_t *server = g_new0(rb_server_t, 1);
    server->loop = loop;
    server->config = config;
    /* log.dirs may list several directories: a single node uses the first */
    g_auto(GStrv) dirs = g_strsplit(rb_config_str(config, "log.dirs"), ",", 2);
    server->log_dir = g_strdup(dirs[0] ? g_strstrip(dirs[0]) : "");
    server->cluster_id = g_strdup(rb_config_str(config, "cluster.id"));
    server->node_id = (int32_t)rb_config_int(config, "node.id");
    server->adv_host = g_strdup("127.0.0.1");
    server->adv_port = 9092;
    server->topics = g_hash_table_new(g_str_hash, g_str_equal);
    server->callbacks = (rb_net_callbacks_t){on_request, on_close, server};
    server->respond = net_respond;
    server->close_conn = net_close;
    server->peer = net_peer;
    server->take_frame = rb_conn_take_frame;
    server->free_frame = rb_frame_free;
    server->maintain_interval_ms = rb_config_int(config, "log.retention.check.interval.ms");
    if (server->maintain_interval_ms <= 0)
        server->maintain_interval_ms = 300000;

    if (!*server->log_dir || g_mkdir_with_parents(server->log_dir, 0755) != 0) {
        *errmsg =
            g_strdup_printf("cannot create log.dirs '%s': %s", server->log_dir, g_strerror(errno));
        rb_server_destroy(server);
        return NULL;
    }
    if (rb__topics_load(server, errmsg) != 0) {
        rb_server_destroy(server);
        return NULL;
    }
    rb__groups_start(server);
    rb__txn_start(server);
    server->maintain_timer =
        rb_loop_add_timer(loop, server->maintain_interval_ms, maintain, server);
    RILL_LOG_INFO(COMPONENT, "server ready log_dir=%s topics=%u cluster_id=%s", server->log_dir,
                  g_hash_table_size(server->topics), server->cluster_id);
    return server;
}

const rb_net_callbacks_t *rb_server_callbacks(rb_server_t *server)
{
    return &server->callbacks;
}

void rb_server_set_advertised(rb_server_t *server, const char *host, int port)
{
    g_free(server->adv_host);
    server->adv_host = g_strdup(host && *host && strcmp(host, "0.0.0.0") != 0 ? host : "127.0.0.1");
    server->adv_port = port;
}

void rb_server_destroy(rb_server_t *server)
{
    if (!server)
        return;
    rb__fetch_drop_all(server);
    rb__metrics_free(server); /* its refresh reads what is closed below */
    rb__txn_stop(server);
    rb__groups_stop(server);
    if (server->maintain_timer)
        rb_loop_cancel_timer(server->loop, server->maintain_timer);
    if (server->flush_timer)
        rb_loop_cancel_timer(server->loop, server->flush_timer);
    rb__topics_close_all(server);
    g_hash_table_destroy(server->topics);
    g_free(server->log_dir);
    g_free(server->cluster_id);
    g_free(server->adv_host);
    g_free(server);
}

/* Test seam: replaces how responses leave and how connections close. */
void rb__server_set_io(rb_server_t *server, rb__respond_fn respond, rb__close_fn close_conn,
                       rb__peer_fn peer, void *ud)
{
    server->respond = respond;
    server->close_conn = close_conn;
    server->peer = peer;
    server->take_frame = copy_frame;
    server->free_frame = free_copy;
    server->io_ud = ud;
}
