/* h-txn.c: the idempotent and transactional producer APIs, as adapters
 * between the wire structs and broker/txn/'s coordinator (coordinator.h):
 * InitProducerId, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and
 * TxnOffsetCommit (whose offsets broker/group/ keeps pending until the
 * transaction ends), and the operator views DescribeProducers,
 * DescribeTransactions and ListTransactions.
 *
 * The coordinator's files live in <log.dirs>/__rill_txn/. Its two hooks are
 * served here: write_marker appends a COMMIT/ABORT control batch through the
 * same path as a Produce (producer state check, log append, state update,
 * long-polling Fetches woken), end_group_txn forwards to the group
 * coordinator. rb_txn_tick (timeouts, marker retries, expiry) runs on a loop
 * timer set from rb_txn_next_deadline, at least once a second. Errors pass
 * through rb_txn_error_for_version() so that old request versions get
 * INVALID_PRODUCER_EPOCH where newer ones get PRODUCER_FENCED. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.server"
#define ERR_COORDINATOR_NOT_AVAILABLE 15
#define ERR_OPERATION_NOT_ATTEMPTED 55

/* ---- hooks and lifetime ------------------------------------------------------- */

static rb_kerr_t hook_write_marker(void *ctx, const char *topic, int32_t partition, uint8_t *batch,
                                   size_t len)
{
    rb_server_t *server = ctx;
    rb_partition_t *part = rb__partition_find(server, rb_str_c(topic), partition);
    if (!part)
        return RB_ERR_NONE; /* deleted meanwhile: nothing left to mark */
    rb_append_info_t info;
    rb_kerr_t err = rb__partition_append(server, part, batch, len, RB_PSTATE_COORDINATOR, &info);
    if (err == RB_ERR_NONE)
        rb__fetch_wake(server, part); /* the LSO may have moved */
    return err;
}

static rb_kerr_t hook_end_group_txn(void *ctx, const char *group_id, int64_t producer_id,
                                    int16_t producer_epoch, bool commit)
{
    rb_server_t *server = ctx;
    if (!server->groups)
        return ERR_COORDINATOR_NOT_AVAILABLE;
    return rb_group_txn_end(server->groups, group_id, producer_id, producer_epoch, commit);
}

static void txn_tick(void *ud);

static void txn_schedule(rb_server_t *server)
{
    int64_t delay = 1000;
    int64_t deadline = rb_txn_next_deadline(server->txn);
    if (deadline != INT64_MAX) {
        int64_t until = deadline - rill__clock_wall_ms();
        if (until < delay)
            delay = until < 10 ? 10 : until;
    }
    server->txn_timer = rb_loop_add_timer(server->loop, delay, txn_tick, server);
}

static void txn_tick(void *ud)
{
    rb_server_t *server = ud;
    server->txn_timer = 0;
    rb_txn_tick(server->txn);
    txn_schedule(server);
}

void rb__txn_start(rb_server_t *server)
{
    rb_txn_config_t tc;
    rb_txn_config_defaults(&tc);
    tc.max_timeout_ms = (int32_t)rb_config_int(server->config, "transaction.max.timeout.ms");
    tc.id_expiration_ms = rb_config_int(server->config, "transactional.id.expiration.ms");
    rb_txn_hooks_t hooks = {server, NULL, hook_write_marker, hook_end_group_txn};
    g_autofree char *dir = g_build_filename(server->log_dir, "__rill_txn", NULL);
    g_autofree char *errmsg = NULL;
    server->txn = rb_txn_open(dir, &tc, &hooks, &errmsg);
    if (!server->txn) {
        RILL_LOG_ERROR(COMPONENT, "transactions unavailable: %s", errmsg);
        return;
    }
    int n = rb_txn_recover(server->txn);
    if (n > 0)
        RILL_LOG_INFO(COMPONENT, "completed transactions left in flight count=%d", n);
    txn_schedule(server);
}

void rb__txn_stop(rb_server_t *server)
{
    if (server->txn_timer)
        rb_loop_cancel_timer(server->loop, server->txn_timer);
    server->txn_timer = 0;
    rb_txn_close(server->txn);
    server->txn = NULL;
}

/* ---- handlers ------------------------------------------------------------------- */

static rb_kerr_t for_version(rb_req_t *req, rb_kerr_t err)
{
    return rb_txn_error_for_version(req->hdr.api_key, req->hdr.api_version, err);
}

void rb__handle_init_producer_id(rb_req_t *req, rill_rbuf_t *body)
{
    int16_t v = req->hdr.api_version;
    rb_init_producer_id_req_t r;
    if (rb_init_producer_id_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed InitProducerId request");
        return;
    }
    rb_init_producer_id_resp_t resp;
    rb_init_producer_id_resp_init(&resp);
    resp.producer_id = -1;
    resp.producer_epoch = -1;
    if (!req->server->txn) {
        resp.error_code = ERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        const char *tid =
            rb_str_is_null(r.transactional_id) ? NULL : rb__cstr(req, r.transactional_id);
        int64_t pid = -1;
        int16_t epoch = -1;
        rb_kerr_t err = rb_txn_init_producer_id(req->server->txn, tid, r.transaction_timeout_ms,
                                                v >= 3 ? r.producer_id : -1,
                                                v >= 3 ? r.producer_epoch : -1, &pid, &epoch);
        resp.error_code = for_version(req, err);
        if (err == RB_ERR_NONE) {
            resp.producer_id = pid;
            resp.producer_epoch = epoch;
        }
    }
    rb__req_respond(req, &rb_init_producer_id_resp_msg, &resp);
}

void rb__handle_add_partitions_to_txn(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    rb_add_partitions_to_txn_req_t r;
    if (rb_add_partitions_to_txn_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed AddPartitionsToTxn request");
        return;
    }
    /* unknown partitions fail the request: they get UNKNOWN_TOPIC_OR_PARTITION,
     * the others OPERATION_NOT_ATTEMPTED, and the coordinator is not called */
    size_t n = 0;
    bool unknown = false;
    for (int32_t t = 0; t < r.v3_and_below_topics_count; t++) {
        const rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t *tt =
            &r.v3_and_below_topics[t];
        for (int32_t p = 0; p < tt->partitions_count; p++, n++)
            unknown |= !rb__partition_find(server, tt->name, tt->partitions[p]);
    }
    rb_kerr_t err = ERR_COORDINATOR_NOT_AVAILABLE;
    if (server->txn && !unknown) {
        rb_txn_partition_t *parts = rb_arena_alloc(&req->arena, sizeof(*parts) * (n + 1));
        size_t k = 0;
        for (int32_t t = 0; t < r.v3_and_below_topics_count; t++) {
            const rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t *tt =
                &r.v3_and_below_topics[t];
            for (int32_t p = 0; p < tt->partitions_count; p++, k++)
                parts[k] = (rb_txn_partition_t){rb__cstr(req, tt->name), tt->partitions[p]};
        }
        err = for_version(req, rb_txn_add_partitions(server->txn,
                                                     rb__cstr(req, r.v3_and_below_transactional_id),
                                                     r.v3_and_below_producer_id,
                                                     r.v3_and_below_producer_epoch, parts, n));
    }
    rb_add_partitions_to_txn_resp_t resp;
    rb_add_partitions_to_txn_resp_init(&resp);
    resp.results_by_topic_v3_and_below =
        rb__items(req, &rb_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_desc,
                  r.v3_and_below_topics_count);
    resp.results_by_topic_v3_and_below_count = r.v3_and_below_topics_count;
    for (int32_t t = 0; t < r.v3_and_below_topics_count; t++) {
        const rb_add_partitions_to_txn_req_add_partitions_to_txn_topic_t *tt =
            &r.v3_and_below_topics[t];
        rb_add_partitions_to_txn_resp_add_partitions_to_txn_topic_result_t *out =
            &resp.results_by_topic_v3_and_below[t];
        out->name = tt->name;
        out->results_by_partition = rb__items(
            req, &rb_add_partitions_to_txn_resp_add_partitions_to_txn_partition_result_desc,
            tt->partitions_count);
        out->results_by_partition_count = tt->partitions_count;
        for (int32_t p = 0; p < tt->partitions_count; p++) {
            out->results_by_partition[p].partition_index = tt->partitions[p];
            if (unknown)
                out->results_by_partition[p].partition_error_code =
                    rb__partition_find(server, tt->name, tt->partitions[p])
                        ? ERR_OPERATION_NOT_ATTEMPTED
                        : RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            else
                out->results_by_partition[p].partition_error_code = err;
        }
    }
    rb__req_respond(req, &rb_add_partitions_to_txn_resp_msg, &resp);
}

void rb__handle_add_offsets_to_txn(rb_req_t *req, rill_rbuf_t *body)
{
    rb_add_offsets_to_txn_req_t r;
    if (rb_add_offsets_to_txn_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed AddOffsetsToTxn request");
        return;
    }
    rb_add_offsets_to_txn_resp_t resp;
    rb_add_offsets_to_txn_resp_init(&resp);
    resp.error_code =
        req->server->txn
            ? for_version(req, rb_txn_add_offsets(req->server->txn,
                                                  rb__cstr(req, r.transactional_id), r.producer_id,
                                                  r.producer_epoch, rb__cstr(req, r.group_id)))
            : ERR_COORDINATOR_NOT_AVAILABLE;
    rb__req_respond(req, &rb_add_offsets_to_txn_resp_msg, &resp);
}

void rb__handle_end_txn(rb_req_t *req, rill_rbuf_t *body)
{
    rb_end_txn_req_t r;
    if (rb_end_txn_req_decode(body, req->hdr.api_version, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed EndTxn request");
        return;
    }
    rb_end_txn_resp_t resp;
    rb_end_txn_resp_init(&resp);
    resp.error_code =
        req->server->txn
            ? for_version(req, rb_txn_end(req->server->txn, rb__cstr(req, r.transactional_id),
                                          r.producer_id, r.producer_epoch, r.committed))
            : ERR_COORDINATOR_NOT_AVAILABLE;
    rb__req_respond(req, &rb_end_txn_resp_msg, &resp);
}

void rb__handle_txn_offset_commit(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_txn_offset_commit_req_t r;
    if (rb_txn_offset_commit_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed TxnOffsetCommit request");
        return;
    }
    size_t n = 0;
    for (int32_t t = 0; t < r.topics_count; t++)
        n += (size_t)r.topics[t].partitions_count;
    rb_offset_commit_part_t *parts = rb_arena_alloc(&req->arena, sizeof(*parts) * (n + 1));
    size_t k = 0;
    for (int32_t t = 0; t < r.topics_count; t++) {
        const rb_txn_offset_commit_req_txn_offset_commit_request_topic_t *tt = &r.topics[t];
        for (int32_t p = 0; p < tt->partitions_count; p++, k++) {
            const rb_txn_offset_commit_req_txn_offset_commit_request_partition_t *tp =
                &tt->partitions[p];
            parts[k].topic = rb__cstr(req, tt->name);
            parts[k].partition = tp->partition_index;
            parts[k].offset = tp->committed_offset;
            parts[k].leader_epoch = v >= 2 ? tp->committed_leader_epoch : -1;
            parts[k].metadata = rb_str_is_null(tp->committed_metadata)
                                    ? NULL
                                    : rb__cstr(req, tp->committed_metadata);
            parts[k].error_code = rb__partition_find(server, tt->name, tp->partition_index)
                                      ? RB_ERR_NONE
                                      : RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
    }
    const char *group = rb__cstr(req, r.group_id);
    rb_kerr_t all = ERR_COORDINATOR_NOT_AVAILABLE;
    if (server->txn && server->groups) {
        all = rb_txn_verify_offset_commit(server->txn, rb__cstr(req, r.transactional_id),
                                          r.producer_id, r.producer_epoch, group);
        if (all == RB_ERR_NONE) {
            bool member = v >= 3;
            int16_t common = rb_group_txn_offset_commit(
                server->groups, group, r.producer_id, r.producer_epoch,
                member ? r.generation_id : -1, member ? rb__cstr(req, r.member_id) : "",
                member && !rb_str_is_null(r.group_instance_id) ? rb__cstr(req, r.group_instance_id)
                                                               : NULL,
                parts, n);
            for (size_t i = 0; i < n; i++)
                if (common != RB_ERR_NONE && parts[i].error_code == RB_ERR_NONE)
                    parts[i].error_code = common;
        }
    }
    rb_txn_offset_commit_resp_t resp;
    rb_txn_offset_commit_resp_init(&resp);
    resp.topics = rb__items(req, &rb_txn_offset_commit_resp_txn_offset_commit_response_topic_desc,
                            r.topics_count);
    resp.topics_count = r.topics_count;
    k = 0;
    for (int32_t t = 0; t < r.topics_count; t++) {
        rb_txn_offset_commit_resp_txn_offset_commit_response_topic_t *out = &resp.topics[t];
        out->name = r.topics[t].name;
        out->partitions =
            rb__items(req, &rb_txn_offset_commit_resp_txn_offset_commit_response_partition_desc,
                      r.topics[t].partitions_count);
        out->partitions_count = r.topics[t].partitions_count;
        for (int32_t p = 0; p < out->partitions_count; p++, k++) {
            out->partitions[p].partition_index = parts[k].partition;
            out->partitions[p].error_code =
                for_version(req, all != RB_ERR_NONE ? all : parts[k].error_code);
        }
    }
    rb__req_respond(req, &rb_txn_offset_commit_resp_msg, &resp);
}

static rb_str_t cstr(const char *s)
{
    return (rb_str_t){s, (int32_t)strlen(s)};
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
        if (!req->server->txn ||
            !rb_txn_describe(req->server->txn, rb__cstr(req, r.transactional_ids[i]), &info,
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
    if (!req->server->txn)
        resp.error_code = ERR_COORDINATOR_NOT_AVAILABLE;
    else if (nfilters == 0 || nstates > 0)
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
