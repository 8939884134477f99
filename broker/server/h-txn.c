/* h-txn.c: the transaction side of the server: the handlers of
 * FindCoordinator, InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn and
 * EndTxn, the producer state of each partition (opened, maintained, closed
 * with its log), and the hooks through which broker/txn's coordinator writes
 * its markers.
 *
 * Design: broker/txn/ holds every rule (sequence checks, the transaction
 * state machine, LSO, aborted index); this file only decodes requests, maps
 * errors to the request's version (rb_txn_error_for_version) and connects
 * the coordinator to the partition logs. A marker goes through exactly the
 * produce path of a client batch -- rb_pstate_check, rb_log_append,
 * rb_pstate_appended -- and then wakes parked Fetches, since it can move the
 * last stable offset. On a single node every coordinator is node 0, so
 * FindCoordinator answers this broker for groups and transactions alike.
 *
 * Files: the coordinator in <log.dirs>/__transaction_state/ (transaction.log,
 * producer_id.block); a partition's producer state next to its log
 * (<offset>.snapshot, aborted.txnindex), so deleting the log deletes it. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.txn"
#define TXN_DIR "__transaction_state"
#define TXN_TICK_MS 1000
/* OPERATION_NOT_ATTEMPTED: the other partitions of an AddPartitionsToTxn
 * that named an unknown one */
#define RB_ERR_OPERATION_NOT_ATTEMPTED 55

/* ---- partitions ---------------------------------------------------------------- */

int rb__txn_partition_open(rb_partition_t *part, const char *dir, char **errmsg)
{
    part->pstate = rb_pstate_new(dir, NULL);
    if (!rb_pstate_rebuild(part->pstate, part->log, errmsg)) {
        rb_pstate_free(part->pstate);
        part->pstate = NULL;
        return -1;
    }
    return 0;
}

void rb__txn_partition_close(rb_partition_t *part)
{
    if (!part->pstate)
        return;
    g_autofree char *errmsg = NULL;
    if (!rb_pstate_snapshot(part->pstate, rb_log_end_offset(part->log), &errmsg))
        RILL_LOG_WARN(COMPONENT, "producer state snapshot failed at close topic=%s partition=%d: %s",
                      part->topic->name, part->index, errmsg);
    rb_pstate_free(part->pstate);
    part->pstate = NULL;
}

void rb__txn_partition_delete(rb_partition_t *part)
{
    rb_pstate_delete(part->pstate);
    part->pstate = NULL;
}

void rb__txn_partition_maintain(rb_partition_t *part, int64_t now_ms)
{
    if (!part->pstate)
        return;
    rb_pstate_truncate_head(part->pstate, rb_log_start_offset(part->log));
    g_autofree char *errmsg = NULL;
    if (!rb_pstate_maintain(part->pstate, rb_log_end_offset(part->log), now_ms, &errmsg))
        RILL_LOG_WARN(COMPONENT, "producer state snapshot failed topic=%s partition=%d: %s",
                      part->topic->name, part->index, errmsg);
}

int16_t rb__txn_produce_check(rb_partition_t *part, const uint8_t *batch, size_t len,
                              int16_t version, rb_pstate_dup_t *dup)
{
    rb_kerr_t err = rb_pstate_check(part->pstate, batch, len, RB_PSTATE_CLIENT, dup);
    return rb_txn_error_for_version(RB_TXN_API_PRODUCE, version, err);
}

int64_t rb__txn_view(rb_req_t *req, const rb_partition_t *part, int64_t from,
                     rb_fetch_resp_partition_data_t *out)
{
    int64_t hw = rb_log_end_offset(part->log);
    int64_t lso = part->pstate ? rb_pstate_lso(part->pstate, hw) : hw;
    if (!out)
        return lso;
    out->aborted_transactions = NULL;
    out->aborted_transactions_count = 0;
    if (!part->pstate || from >= lso)
        return lso;
    GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    rb_pstate_aborted_txns(part->pstate, from, lso, aborted);
    if (aborted->len > 0) {
        out->aborted_transactions =
            rb__items(req, &rb_fetch_resp_aborted_transaction_desc, (int32_t)aborted->len);
        out->aborted_transactions_count = (int32_t)aborted->len;
        for (guint i = 0; i < aborted->len; i++) {
            const rb_aborted_txn_t *a = &g_array_index(aborted, rb_aborted_txn_t, i);
            out->aborted_transactions[i].producer_id = a->producer_id;
            out->aborted_transactions[i].first_offset = a->first_offset;
        }
    }
    g_array_free(aborted, TRUE);
    return lso;
}

/* ---- the coordinator's hooks ------------------------------------------------------ */

static rb_kerr_t write_marker(void *ctx, const char *topic, int32_t partition, uint8_t *batch,
                             size_t len)
{
    rb_server_t *server = ctx;
    rb_str_t name = {topic, (int32_t)strlen(topic)};
    rb_partition_t *part = rb__partition_find(server, name, partition);
    if (!part)
        return RB_ERR_NONE; /* deleted since: nothing left to mark */
    rb_kerr_t err = rb_pstate_check(part->pstate, batch, len, RB_PSTATE_COORDINATOR, NULL);
    if (err != RB_ERR_NONE) {
        /* A newer epoch already wrote here: this marker is obsolete, and
         * retrying it would never succeed. */
        RILL_LOG_WARN(COMPONENT, "marker refused topic=%s partition=%d error=%d (skipped)", topic,
                      partition, err);
        return RB_ERR_NONE;
    }
    rb_append_info_t info;
    err = rb_log_append(part->log, batch, len, rill__clock_wall_ms(), &info);
    if (err != RB_ERR_NONE)
        return err;
    rb_pstate_appended(part->pstate, batch, len);
    rb__fetch_wake(server, part);
    return RB_ERR_NONE;
}

static void txn_tick(void *ud)
{
    rb_server_t *server = ud;
    rb_txn_tick(server->txn);
    server->txn_timer = rb_loop_add_timer(server->loop, TXN_TICK_MS, txn_tick, server);
}

int rb__txn_open(rb_server_t *server, char **errmsg)
{
    rb_txn_config_t config;
    rb_txn_config_defaults(&config);
    config.max_timeout_ms = (int32_t)rb_config_int(server->config, "transaction.max.timeout.ms");
    config.id_expiration_ms = rb_config_int(server->config, "transactional.id.expiration.ms");
    rb_txn_hooks_t hooks = {.ctx = server, .write_marker = write_marker};
    g_autofree char *dir = g_build_filename(server->log_dir, TXN_DIR, NULL);
    server->txn = rb_txn_open(dir, &config, &hooks, errmsg);
    if (!server->txn)
        return -1;
    return 0;
}

void rb__txn_start(rb_server_t *server)
{
    int n = rb_txn_recover(server->txn);
    if (n > 0)
        RILL_LOG_INFO(COMPONENT, "recovered in-flight transactions count=%d", n);
    if (server->loop)
        server->txn_timer = rb_loop_add_timer(server->loop, TXN_TICK_MS, txn_tick, server);
}

void rb__txn_close(rb_server_t *server)
{
    if (server->txn_timer)
        rb_loop_cancel_timer(server->loop, server->txn_timer);
    server->txn_timer = 0;
    rb_txn_close(server->txn);
    server->txn = NULL;
}

/* ---- handlers ------------------------------------------------------------------------ */

static rb_str_t cstr(const char *s)
{
    return (rb_str_t){s, (int32_t)strlen(s)};
}

void rb__handle_find_coordinator(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_find_coordinator_req_t r;
    if (rb_find_coordinator_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed FindCoordinator request");
        return;
    }
    rb_find_coordinator_resp_t resp;
    rb_find_coordinator_resp_init(&resp);
    bool bad_type = r.key_type != 0 && r.key_type != 1;
    if (v < 4) {
        resp.error_code = bad_type ? RB_ERR_INVALID_REQUEST : RB_ERR_NONE;
        resp.node_id = bad_type ? -1 : server->node_id;
        resp.host = cstr(bad_type ? "" : server->adv_host);
        resp.port = bad_type ? -1 : server->adv_port;
    } else {
        resp.coordinators =
            rb__items(req, &rb_find_coordinator_resp_coordinator_desc, r.coordinator_keys_count);
        resp.coordinators_count = r.coordinator_keys_count;
        for (int32_t i = 0; i < r.coordinator_keys_count; i++) {
            rb_find_coordinator_resp_coordinator_t *c = &resp.coordinators[i];
            c->key = r.coordinator_keys[i];
            c->error_code = bad_type ? RB_ERR_INVALID_REQUEST : RB_ERR_NONE;
            c->node_id = bad_type ? -1 : server->node_id;
            c->host = cstr(bad_type ? "" : server->adv_host);
            c->port = bad_type ? -1 : server->adv_port;
        }
    }
    rb__req_respond(req, &rb_find_coordinator_resp_msg, &resp);
}

void rb__handle_init_producer_id(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_init_producer_id_req_t r;
    if (rb_init_producer_id_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed InitProducerId request");
        return;
    }
    const char *txn_id = r.transactional_id.len < 0 ? NULL : rb__cstr(req, r.transactional_id);
    int64_t pid = v >= 3 ? r.producer_id : -1;
    int16_t epoch = v >= 3 ? r.producer_epoch : -1;
    rb_init_producer_id_resp_t resp;
    rb_init_producer_id_resp_init(&resp);
    rb_kerr_t err = rb_txn_init_producer_id(req->server->txn, txn_id, r.transaction_timeout_ms,
                                            pid, epoch, &resp.producer_id, &resp.producer_epoch);
    resp.error_code = rb_txn_error_for_version(RB_TXN_API_INIT_PRODUCER_ID, v, err);
    rb__req_respond(req, &rb_init_producer_id_resp_msg, &resp);
}

/* One transaction's AddPartitionsToTxn: results per topic in out. */
static void add_partitions(rb_req_t *req, rb_str_t txn_id, int64_t pid, int16_t epoch,
                           const rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t *topics,
                           int32_t ntopics,
                           rb_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_t *out)
{
    rb_server_t *server = req->server;
    GArray *tps = g_array_new(FALSE, FALSE, sizeof(rb_txn_partition_t));
    bool unknown = false;
    for (int32_t t = 0; t < ntopics; t++) {
        const char *topic = rb__cstr(req, topics[t].name);
        for (int32_t p = 0; p < topics[t].partitions_count; p++) {
            int32_t index = topics[t].partitions[p];
            if (!rb__partition_find(server, topics[t].name, index))
                unknown = true;
            rb_txn_partition_t tp = {topic, index};
            g_array_append_val(tps, tp);
        }
    }
    rb_kerr_t err = RB_ERR_NONE;
    if (!unknown)
        err = rb_txn_add_partitions(server->txn, rb__cstr(req, txn_id), pid, epoch,
                                    (const rb_txn_partition_t *)(void *)tps->data, tps->len);
    err = rb_txn_error_for_version(RB_TXN_API_ADD_PARTITIONS_TO_TXN, req->hdr.api_version, err);
    for (int32_t t = 0; t < ntopics; t++) {
        out[t].name = topics[t].name;
        out[t].results_by_partition = rb__items(
            req, &rb_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result_desc,
            topics[t].partitions_count);
        out[t].results_by_partition_count = topics[t].partitions_count;
        for (int32_t p = 0; p < topics[t].partitions_count; p++) {
            int32_t index = topics[t].partitions[p];
            out[t].results_by_partition[p].partition_index = index;
            out[t].results_by_partition[p].partition_error_code =
                !unknown ? err
                : rb__partition_find(server, topics[t].name, index)
                    ? RB_ERR_OPERATION_NOT_ATTEMPTED
                    : RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    g_array_free(tps, TRUE);
}

void rb__handle_add_partitions_to_txn(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_add_partitions_to_txn_req_t r;
    if (rb_add_partitions_to_txn_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed AddPartitionsToTxn request");
        return;
    }
    rb_add_partitions_to_txn_resp_t resp;
    rb_add_partitions_to_txn_resp_init(&resp);
    if (v < 4) {
        resp.results_by_topic_v3_and_below =
            rb__items(req, &rb_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_desc,
                      r.v3_and_below_topics_count);
        resp.results_by_topic_v3_and_below_count = r.v3_and_below_topics_count;
        add_partitions(req, r.v3_and_below_transactional_id, r.v3_and_below_producer_id,
                       r.v3_and_below_producer_epoch, r.v3_and_below_topics,
                       r.v3_and_below_topics_count, resp.results_by_topic_v3_and_below);
    } else {
        /* v4 is the broker-to-broker batch of KIP-890: each transaction in turn. */
        resp.results_by_transaction =
            rb__items(req, &rb_add_partitions_to_txn_resp_add_partitions_to_txn_result_desc,
                      r.transactions_count);
        resp.results_by_transaction_count = r.transactions_count;
        for (int32_t i = 0; i < r.transactions_count; i++) {
            const rb_add_partitions_to_txn_req_add_partitions_to_txn_transaction_t *tx =
                &r.transactions[i];
            rb_add_partitions_to_txn_resp_add_partitions_to_txn_result_t *res =
                &resp.results_by_transaction[i];
            res->transactional_id = tx->transactional_id;
            res->topic_results = rb__items(
                req, &rb_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_desc,
                tx->topics_count);
            res->topic_results_count = tx->topics_count;
            add_partitions(req, tx->transactional_id, tx->producer_id, tx->producer_epoch,
                           tx->topics, tx->topics_count, res->topic_results);
        }
    }
    rb__req_respond(req, &rb_add_partitions_to_txn_resp_msg, &resp);
}

void rb__handle_add_offsets_to_txn(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_add_offsets_to_txn_req_t r;
    if (rb_add_offsets_to_txn_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed AddOffsetsToTxn request");
        return;
    }
    rb_add_offsets_to_txn_resp_t resp;
    rb_add_offsets_to_txn_resp_init(&resp);
    rb_kerr_t err = rb_txn_add_offsets(req->server->txn, rb__cstr(req, r.transactional_id),
                                       r.producer_id, r.producer_epoch, rb__cstr(req, r.group_id));
    resp.error_code = rb_txn_error_for_version(RB_TXN_API_ADD_OFFSETS_TO_TXN, v, err);
    rb__req_respond(req, &rb_add_offsets_to_txn_resp_msg, &resp);
}

void rb__handle_end_txn(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_end_txn_req_t r;
    if (rb_end_txn_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed EndTxn request");
        return;
    }
    rb_end_txn_resp_t resp;
    rb_end_txn_resp_init(&resp);
    rb_kerr_t err = rb_txn_end(req->server->txn, rb__cstr(req, r.transactional_id), r.producer_id,
                               r.producer_epoch, r.committed);
    resp.error_code = rb_txn_error_for_version(RB_TXN_API_END_TXN, v, err);
    rb__req_respond(req, &rb_end_txn_resp_msg, &resp);
}
