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
 * producer_id.block); a partition's producer state (<offset>.snapshot,
 * aborted.txnindex) in <log.dirs>/__producer_state/<topic>-<partition>/ --
 * beside the log's directory rather than in it, which holds only the log's
 * own files -- removed when the topic is.
 *
 * Handlers here: FindCoordinator (groups and transactions alike),
 * InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * DescribeProducers, DescribeTransactions, ListTransactions. TxnOffsetCommit
 * belongs with the group coordinator: it calls rb_txn_verify_offset_commit()
 * first, and the coordinator's end_group_txn hook then completes the offsets. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.txn"
#define TXN_DIR "__transaction_state"
#define PSTATE_DIR "__producer_state"
#define TXN_TICK_MS 1000
/* OPERATION_NOT_ATTEMPTED: the other partitions of an AddPartitionsToTxn
 * that named an unknown one */
#define RB_ERR_OPERATION_NOT_ATTEMPTED 55

/* ---- partitions ---------------------------------------------------------------- */

int rb__txn_partition_open(rb_server_t *server, rb_partition_t *part, char **errmsg)
{
    g_autofree char *name = g_strdup_printf("%s-%d", part->topic->name, part->index);
    g_autofree char *dir = g_build_filename(server->log_dir, PSTATE_DIR, name, NULL);
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

int16_t rb__txn_produce_check(rb_server_t *server, rb_partition_t *part, const uint8_t *batch,
                              size_t len, int16_t version, rb_pstate_dup_t *dup)
{
    rb_kerr_t err = rb_pstate_check(part->pstate, batch, len, RB_PSTATE_CLIENT, dup);
    /* A transactional batch must belong to the producer's open transaction,
     * at its current epoch, on a partition it added (KIP-890 verification). */
    if (err == RB_ERR_NONE && !dup->duplicate && rb_batch_is_transactional(batch))
        err = rb_txn_verify_produce(server->txn, rb_batch_producer_id(batch),
                                    rb_batch_producer_epoch(batch), part->topic->name,
                                    part->index);
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

/* ---- operator views -------------------------------------------------------------- */

#define RB_ERR_TRANSACTIONAL_ID_NOT_FOUND 105

void rb__handle_describe_producers(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    rb_describe_producers_req_t r;
    if (rb_describe_producers_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DescribeProducers request");
        return;
    }
    rb_describe_producers_resp_t resp;
    rb_describe_producers_resp_init(&resp);
    resp.topics = rb__items(req, &rb_describe_producers_resp_topic_response_desc, r.topics_count);
    resp.topics_count = r.topics_count;
    GArray *producers = g_array_new(FALSE, FALSE, sizeof(rb_producer_info_t));
    for (int32_t t = 0; t < r.topics_count; t++) {
        const rb_describe_producers_req_topic_request_t *tq = &r.topics[t];
        rb_describe_producers_resp_topic_response_t *tr = &resp.topics[t];
        tr->name = tq->name;
        tr->partitions = rb__items(req, &rb_describe_producers_resp_partition_response_desc,
                                   tq->partition_indexes_count);
        tr->partitions_count = tq->partition_indexes_count;
        for (int32_t p = 0; p < tq->partition_indexes_count; p++) {
            rb_describe_producers_resp_partition_response_t *pr = &tr->partitions[p];
            pr->partition_index = tq->partition_indexes[p];
            rb_partition_t *part = rb__partition_find(server, tq->name, pr->partition_index);
            if (!part || !part->pstate) {
                pr->error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            g_array_set_size(producers, 0);
            rb_pstate_producers(part->pstate, producers);
            pr->active_producers = rb__items(req, &rb_describe_producers_resp_producer_state_desc,
                                             (int32_t)producers->len);
            pr->active_producers_count = (int32_t)producers->len;
            for (guint i = 0; i < producers->len; i++) {
                const rb_producer_info_t *info = &g_array_index(producers, rb_producer_info_t, i);
                rb_describe_producers_resp_producer_state_t *ps = &pr->active_producers[i];
                ps->producer_id = info->producer_id;
                ps->producer_epoch = info->producer_epoch;
                ps->last_sequence = info->last_sequence;
                ps->last_timestamp = info->last_timestamp;
                ps->coordinator_epoch = info->coordinator_epoch;
                ps->current_txn_start_offset = info->current_txn_start_offset;
            }
        }
    }
    g_array_free(producers, TRUE);
    rb__req_respond(req, &rb_describe_producers_resp_msg, &resp);
}

static gint cmp_partition(gconstpointer a, gconstpointer b)
{
    const rb_txn_partition_t *x = a;
    const rb_txn_partition_t *y = b;
    int c = strcmp(x->topic, y->topic);
    return c != 0 ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

/* The partitions of a transaction grouped by topic (sorted) into out. */
static void fill_txn_topics(rb_req_t *req, GArray *parts,
                            rb_describe_transactions_resp_transaction_state_t *out)
{
    g_array_sort(parts, cmp_partition);
    int32_t ntopics = 0;
    for (guint i = 0; i < parts->len; i++)
        if (i == 0 || strcmp(g_array_index(parts, rb_txn_partition_t, i).topic,
                             g_array_index(parts, rb_txn_partition_t, i - 1).topic) != 0)
            ntopics++;
    out->topics = rb__items(req, &rb_describe_transactions_resp_topic_data_desc, ntopics);
    out->topics_count = ntopics;
    int32_t t = -1;
    for (guint i = 0; i < parts->len; i++) {
        const rb_txn_partition_t *tp = &g_array_index(parts, rb_txn_partition_t, i);
        if (t < 0 || strcmp(tp->topic, rb__cstr(req, out->topics[t].topic)) != 0) {
            t++;
            out->topics[t].topic = cstr(tp->topic);
            int32_t n = 0;
            for (guint k = i; k < parts->len &&
                              strcmp(g_array_index(parts, rb_txn_partition_t, k).topic,
                                     tp->topic) == 0;
                 k++)
                n++;
            out->topics[t].partitions = rb_arena_alloc(&req->arena, (size_t)n * sizeof(int32_t));
            out->topics[t].partitions_count = 0;
        }
        out->topics[t].partitions[out->topics[t].partitions_count++] = tp->partition;
    }
}

void rb__handle_describe_transactions(rb_req_t *req, rill_rbuf_t *body)
{
    rb_describe_transactions_req_t r;
    if (rb_describe_transactions_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed DescribeTransactions request");
        return;
    }
    rb_describe_transactions_resp_t resp;
    rb_describe_transactions_resp_init(&resp);
    resp.transaction_states =
        rb__items(req, &rb_describe_transactions_resp_transaction_state_desc,
                  r.transactional_ids_count);
    resp.transaction_states_count = r.transactional_ids_count;
    GArray *parts = g_array_new(FALSE, FALSE, sizeof(rb_txn_partition_t));
    for (int32_t i = 0; i < r.transactional_ids_count; i++) {
        rb_describe_transactions_resp_transaction_state_t *st = &resp.transaction_states[i];
        st->transactional_id = r.transactional_ids[i];
        g_array_set_size(parts, 0);
        rb_txn_info_t info;
        if (!rb_txn_describe(req->server->txn, rb__cstr(req, r.transactional_ids[i]), &info,
                             parts, NULL)) {
            st->error_code = RB_ERR_TRANSACTIONAL_ID_NOT_FOUND;
            st->transaction_state = cstr("");
            st->producer_id = -1;
            st->producer_epoch = -1;
            st->transaction_start_time_ms = -1;
            continue;
        }
        st->transaction_state = cstr(rb_txn_state_name(info.state));
        st->transaction_timeout_ms = info.timeout_ms;
        st->transaction_start_time_ms = info.start_ms;
        st->producer_id = info.producer_id;
        st->producer_epoch = info.producer_epoch;
        fill_txn_topics(req, parts, st);
    }
    g_array_free(parts, TRUE);
    rb__req_respond(req, &rb_describe_transactions_resp_msg, &resp);
}

void rb__handle_list_transactions(rb_req_t *req, rill_rbuf_t *body)
{
    rb_list_transactions_req_t r;
    if (rb_list_transactions_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed ListTransactions request");
        return;
    }
    rb_list_transactions_resp_t resp;
    rb_list_transactions_resp_init(&resp);
    int32_t nfilters = r.state_filters_count > 0 ? r.state_filters_count : 0;
    rb_txn_state_t *states = g_new0(rb_txn_state_t, nfilters + 1);
    size_t nstates = 0;
    resp.unknown_state_filters = rb_arena_alloc(&req->arena, (size_t)(nfilters + 1) * sizeof(rb_str_t));
    resp.unknown_state_filters_count = 0;
    for (int32_t i = 0; i < nfilters; i++) {
        int state = rb_txn_state_from_name(rb__cstr(req, r.state_filters[i]));
        if (state < 0)
            resp.unknown_state_filters[resp.unknown_state_filters_count++] = r.state_filters[i];
        else
            states[nstates++] = (rb_txn_state_t)state;
    }
    GArray *list = g_array_new(FALSE, FALSE, sizeof(rb_txn_info_t));
    /* Only unknown states asked for: nothing can match (an empty filter would match all). */
    if (nfilters == 0 || nstates > 0)
        rb_txn_list(req->server->txn, states, nstates, r.producer_id_filters,
                    r.producer_id_filters_count > 0 ? (size_t)r.producer_id_filters_count : 0,
                    list);
    resp.transaction_states = rb__items(req, &rb_list_transactions_resp_transaction_state_desc,
                                        (int32_t)list->len);
    resp.transaction_states_count = (int32_t)list->len;
    for (guint i = 0; i < list->len; i++) {
        const rb_txn_info_t *info = &g_array_index(list, rb_txn_info_t, i);
        resp.transaction_states[i].transactional_id = cstr(info->transactional_id);
        resp.transaction_states[i].producer_id = info->producer_id;
        resp.transaction_states[i].transaction_state = cstr(rb_txn_state_name(info->state));
    }
    g_array_free(list, TRUE);
    g_free(states);
    rb__req_respond(req, &rb_list_transactions_resp_msg, &resp);
}
