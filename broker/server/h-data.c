/* h-data.c: the data path: Produce, Fetch (with long-polling) and ListOffsets.
 *
 * Produce: each partition's records must be exactly one record batch v2
 * (INVALID_RECORD otherwise; zstd below v7: UNSUPPORTED_COMPRESSION_TYPE);
 * the batch is appended in place in our copy of the frame (rb_log_append
 * rewrites its base offset), and the answer follows the appends: with
 * log.flush.on.ack, an acks=-1 request is answered after rb_log_flush of
 * each partition it wrote (and a topic with flush.messages=1 fsyncs in
 * every append).
 * acks=0 gets no response; if such a request fails, the connection is closed
 * so that the producer notices (Kafka does the same).
 *
 * Fetch: records are never copied: each partition's rb_log_read slice goes
 * into the response as a file range (sendfile). A Fetch that finds fewer
 * than min_bytes is parked:
 *
 *            rb__handle_fetch
 *                  │ available >= min_bytes, or an error, or max_wait_ms <= 0
 *                  ├─────────────────────────────────────────────► answer
 *                  │ else
 *                  ▼
 *               PARKED ── rb__fetch_wake (an append to one of its partitions
 *                  │       makes available >= min_bytes) ─────────► answer
 *                  ├──── timer (max_wait_ms) ──────────────────────► answer
 *                  └──── rb__fetch_conn_closed / rb__fetch_drop_all ► no answer
 *
 * A parked Fetch keeps only its decoded request (names, not pointers), so a
 * topic deleted meanwhile is simply answered UNKNOWN_TOPIC_OR_PARTITION.
 *
 * Idempotence and transactions: every append goes through the partition's
 * producer state (broker/txn/pstate.h): duplicates of the last 5 batches of
 * a producer are answered with their original offsets and not written,
 * sequence gaps and stale epochs are refused. read_committed reads up to the
 * last stable offset and gets the aborted transactions overlapping what it
 * reads (txn_view()); without transactions LSO = high watermark, no aborts. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/log.h"

#define COMPONENT "broker.server"

/* ---- Produce ----------------------------------------------------------------- */

#define BATCH_HEADER 61
/* Kafka's broker-side fetch.max.bytes default: a response never grows past it
 * (but for one batch, KIP-74) */
#define FETCH_MAX_BYTES (55 * 1024 * 1024)
/* KAFKA_STORAGE_ERROR: the fsync of log.flush.on.ack failed */
#define RB_ERR_KAFKA_STORAGE_ERROR 56

static int16_t check_batch(const rb_records_t *rec, int16_t version)
{
    if (rec->len < BATCH_HEADER || !rec->ptr)
        return RB_ERR_INVALID_RECORD;
    const uint8_t *b = rec->ptr;
    int64_t batch_len = (int32_t)rill__be32_get(b + 8);
    if (batch_len + 12 != rec->len)
        return RB_ERR_INVALID_RECORD; /* exactly one batch per partition */
    if (b[16] != 2)
        return RB_ERR_INVALID_RECORD;
    int codec = rill__be16_get(b + 21) & 7;
    if (codec > 4)
        return RB_ERR_INVALID_RECORD;
    if (codec == 4 && version < 7)
        return RB_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    return RB_ERR_NONE;
}

rb_kerr_t rb__partition_append(rb_server_t *server, rb_partition_t *part, uint8_t *batch,
                               size_t len, rb_pstate_origin_t origin, rb_append_info_t *info)
{
    rb_pstate_dup_t dup = {0};
    rb_kerr_t err = rb_pstate_check(part->pstate, batch, len, origin, &dup);
    if (err != RB_ERR_NONE)
        return err;
    if (dup.duplicate) {
        /* a retry of an appended batch: answer the original offsets */
        *info = (rb_append_info_t){dup.base_offset, dup.last_offset, -1, -1, 0};
        return RB_ERR_NONE;
    }
    /* A client's transactional batch must belong to its producer's open
     * transaction, at the current epoch, on a partition it added (KIP-890):
     * else a fenced producer could still write where its successor has not. */
    if (origin == RB_PSTATE_CLIENT && server->txn && rb_batch_is_transactional(batch)) {
        err = rb_txn_verify_produce(server->txn, rb_batch_producer_id(batch),
                                    rb_batch_producer_epoch(batch), part->topic->name, part->index);
        if (err != RB_ERR_NONE)
            return err;
    }
    err = rb_log_append(part->log, batch, len, rill__clock_wall_ms(), info);
    if (err == RB_ERR_NONE) {
        rb_pstate_appended(part->pstate, batch, len);
        rb__flush_timer_arm(server, rb_log_flush_due(part->log));
    }
    return err;
}

void rb__handle_produce(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_produce_req_t r;
    if (rb_produce_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed Produce request");
        return;
    }
    /* debug: how long the broker holds a produce before the parked Fetches
     * it feeds are answered (they leave in the same loop iteration) */
    bool timed = RILL_LOG_ENABLED(RILL_LOG_LVL_DEBUG);
    int64_t t_start = timed ? g_get_monotonic_time() : 0;
    bool acks_ok = r.acks == 0 || r.acks == 1 || r.acks == -1;
    bool any_error = false;
    /* the partitions written, for the Fetch wake-ups after the answer (which
     * frees req and its arena): on the stack unless the request is large */
    size_t n_parts = 0, n_touched = 0;
    for (int32_t t = 0; t < r.topic_data_count; t++)
        if (r.topic_data[t].partition_data_count > 0)
            n_parts += (size_t)r.topic_data[t].partition_data_count;
    rb_partition_t *touched_local[16];
    g_autofree rb_partition_t **touched_heap =
        n_parts > G_N_ELEMENTS(touched_local) ? g_new(rb_partition_t *, n_parts) : NULL;
    rb_partition_t **touched = touched_heap ? touched_heap : touched_local;

    rb_produce_resp_t resp;
    rb_produce_resp_init(&resp);
    resp.responses =
        rb__items(req, &rb_produce_resp_topic_produce_response_desc, r.topic_data_count);
    resp.responses_count = r.topic_data_count;
    for (int32_t t = 0; t < r.topic_data_count; t++) {
        const rb_produce_req_topic_produce_data_t *td = &r.topic_data[t];
        rb_produce_resp_topic_produce_response_t *tr = &resp.responses[t];
        tr->name = td->name;
        tr->partition_responses = rb__items(req, &rb_produce_resp_partition_produce_response_desc,
                                            td->partition_data_count);
        tr->partition_responses_count = td->partition_data_count;
        for (int32_t p = 0; p < td->partition_data_count; p++) {
            const rb_produce_req_partition_produce_data_t *pd = &td->partition_data[p];
            rb_produce_resp_partition_produce_response_t *pr = &tr->partition_responses[p];
            pr->index = pd->index;
            pr->base_offset = -1;
            rb_partition_t *part = rb__partition_find(server, td->name, pd->index);
            int16_t err = !acks_ok ? RB_ERR_INVALID_REQUIRED_ACKS
                          : !part  ? RB_ERR_UNKNOWN_TOPIC_OR_PARTITION
                                   : check_batch(&pd->records, v);
            if (err == RB_ERR_NONE) {
                rb_append_info_t info;
                /* our copy of the frame is writable: the batch is rewritten in place */
                err = rb__partition_append(server, part, (uint8_t *)pd->records.ptr,
                                           (size_t)pd->records.len, RB_PSTATE_CLIENT, &info);
                err = rb_txn_error_for_version(RB_TXN_API_PRODUCE, v, err);
                if (err == RB_ERR_NONE) {
                    pr->base_offset = info.base_offset;
                    rb__metrics_produced(server, part->topic, info.record_count, pd->records.len);
                    pr->log_append_time_ms = info.log_append_time;
                    if (info.record_count > 0)
                        touched[n_touched++] = part;
                }
            }
            if (err != RB_ERR_NONE) {
                any_error = true;
                RILL_LOG_DEBUG(COMPONENT, "produce rejected topic=%.*s partition=%d error=%d",
                               td->name.len > 0 ? td->name.len : 0,
                               td->name.len > 0 ? td->name.ptr : "", pd->index, err);
            }
            pr->error_code = err;
            pr->log_start_offset = part ? rb_log_start_offset(part->log) : -1;
        }
    }
    /* log.flush.on.ack: an acks=all producer is answered after the fsync */
    if (r.acks == -1 && n_touched > 0 && rb_config_bool(server->config, "log.flush.on.ack")) {
        for (int32_t t = 0; t < resp.responses_count; t++) {
            rb_produce_resp_topic_produce_response_t *tr = &resp.responses[t];
            for (int32_t p = 0; p < tr->partition_responses_count; p++) {
                rb_produce_resp_partition_produce_response_t *pr = &tr->partition_responses[p];
                rb_partition_t *part = rb__partition_find(server, tr->name, pr->index);
                if (pr->error_code == RB_ERR_NONE && part && rb_log_flush(part->log) != 0) {
                    RILL_LOG_ERROR(COMPONENT, "fsync before ack failed topic=%s partition=%d",
                                   part->topic->name, part->index);
                    pr->error_code = RB_ERR_KAFKA_STORAGE_ERROR;
                }
            }
        }
    }
    if (r.acks == 0) {
        if (any_error)
            server->close_conn(server->io_ud, req->conn, "produce with acks=0 failed");
        rb__req_finish_no_response(req);
    } else {
        rb__req_respond(req, &rb_produce_resp_msg, &resp);
    }
    guint parked_before = timed ? g_list_length(server->parked) : 0;
    for (size_t i = 0; i < n_touched; i++)
        rb__fetch_wake(server, touched[i]);
    if (timed)
        RILL_LOG_DEBUG(COMPONENT,
                       "produce handled in %" G_GINT64_FORMAT " us, parked fetches answered=%u",
                       g_get_monotonic_time() - t_start,
                       parked_before - g_list_length(server->parked));
}

/* ---- Fetch ------------------------------------------------------------------------ */

/* What read_committed sees: the last stable offset (the first offset of the
 * oldest open transaction, else the high watermark), and the aborted
 * transactions overlapping [from, lso), from the partition's producer state. */
static int64_t txn_view(rb_req_t *req, const rb_partition_t *part, int64_t from,
                        rb_fetch_resp_partition_data_t *out)
{
    int64_t lso = rb_pstate_lso(part->pstate, rb_log_end_offset(part->log));
    out->aborted_transactions = NULL;
    out->aborted_transactions_count = 0;
    if (!req)
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

/* Walks the request's partitions: fills resp when given, and returns the
 * number of record bytes the response carries; *has_error tells whether any
 * partition has an error (answered at once, like Kafka). */
static size_t fetch_fill(rb_req_t *req, const rb_fetch_req_t *r, rb_fetch_resp_t *resp,
                         bool *has_error)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    bool committed = r->isolation_level == 1;
    int64_t budget = r->max_bytes > 0 ? r->max_bytes : INT32_MAX;
    if (budget > FETCH_MAX_BYTES)
        budget = FETCH_MAX_BYTES;
    size_t total = 0;
    *has_error = false;
    if (resp) {
        resp->responses =
            rb__items(req, &rb_fetch_resp_fetchable_topic_response_desc, r->topics_count);
        resp->responses_count = r->topics_count;
    }
    for (int32_t t = 0; t < r->topics_count; t++) {
        const rb_fetch_req_fetch_topic_t *ft = &r->topics[t];
        rb_fetch_resp_fetchable_topic_response_t *tr = resp ? &resp->responses[t] : NULL;
        if (tr) {
            tr->topic = ft->topic;
            tr->topic_id = ft->topic_id;
            tr->partitions =
                rb__items(req, &rb_fetch_resp_partition_data_desc, ft->partitions_count);
            tr->partitions_count = ft->partitions_count;
        }
        for (int32_t p = 0; p < ft->partitions_count; p++) {
            const rb_fetch_req_fetch_partition_t *fp = &ft->partitions[p];
            rb_fetch_resp_partition_data_t scratch, *pr = tr ? &tr->partitions[p] : &scratch;
            if (!tr)
                rb_proto_init(&rb_fetch_resp_partition_data_desc, pr);
            pr->partition_index = fp->partition;
            pr->high_watermark = pr->last_stable_offset = pr->log_start_offset = -1;
            pr->records = (rb_records_t){NULL, 0, -1, 0};
            rb_partition_t *part = rb__partition_find(server, ft->topic, fp->partition);
            if (!part) {
                pr->error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                *has_error = true;
                continue;
            }
            pr->high_watermark = rb_log_end_offset(part->log);
            pr->log_start_offset = rb_log_start_offset(part->log);
            pr->last_stable_offset = txn_view(resp ? req : NULL, part, fp->fetch_offset, pr);
            if (!committed) {
                pr->aborted_transactions = NULL;
                pr->aborted_transactions_count = v >= 4 ? -1 : 0;
            }
            int64_t limit = committed ? pr->last_stable_offset : pr->high_watermark;
            int64_t max = fp->partition_max_bytes;
            if (max > budget)
                max = budget;
            if (max <= 0 && total > 0)
                continue;
            rb_log_slice_t slice = {-1, 0, 0};
            rb_kerr_t err =
                rb_log_read(part->log, fp->fetch_offset, limit, max > 0 ? (size_t)max : 1, &slice);
            if (err != RB_ERR_NONE) {
                pr->error_code = err;
                *has_error = true;
                continue;
            }
            /* KIP-74: the first partition with data may exceed the limits by
             * one batch; a later one that does not fit waits for the next fetch */
            if (slice.len == 0 || (total > 0 && (int64_t)slice.len > budget))
                continue;
            pr->records = (rb_records_t){NULL, (int32_t)slice.len, slice.fd, (int64_t)slice.pos};
            if (resp)
                rb__metrics_fetched(server, part->topic, (int64_t)slice.len);
            total += slice.len;
            budget -= (int64_t)slice.len;
            if (budget < 0)
                budget = 0;
        }
    }
    return total;
}

static void fetch_answer(rb_req_t *req)
{
    const rb_fetch_req_t *r = req->body;
    rb_fetch_resp_t resp;
    rb_fetch_resp_init(&resp);
    resp.session_id = 0; /* no incremental fetch sessions: every fetch is full */
    bool has_error;
    fetch_fill(req, r, &resp, &has_error);
    rb__req_respond(req, &rb_fetch_resp_msg, &resp);
}

static void unpark(rb_req_t *req)
{
    rb_server_t *server = req->server;
    server->parked = g_list_remove(server->parked, req);
    if (req->timer)
        rb_loop_cancel_timer(server->loop, req->timer);
    req->timer = 0;
}

static void fetch_timeout(void *ud)
{
    rb_req_t *req = ud;
    req->timer = 0; /* fired */
    unpark(req);
    fetch_answer(req);
}

void rb__handle_fetch(rb_req_t *req, rill_rbuf_t *body)
{
    rb_fetch_req_t *r = rb_arena_alloc(&req->arena, sizeof(*r));
    if (rb_fetch_req_decode(body, req->hdr.api_version, &req->arena, r) != 0) {
        rb__req_fail(req, "malformed Fetch request");
        return;
    }
    req->body = r;
    bool has_error;
    size_t avail = fetch_fill(req, r, NULL, &has_error);
    if (has_error || r->max_wait_ms <= 0 || (int64_t)avail >= (int64_t)r->min_bytes ||
        r->topics_count == 0) {
        fetch_answer(req);
        return;
    }
    rb_server_t *server = req->server;
    req->timer = rb_loop_add_timer(server->loop, r->max_wait_ms, fetch_timeout, req);
    server->parked = g_list_append(server->parked, req);
}

static bool wants(const rb_fetch_req_t *r, const rb_partition_t *part)
{
    for (int32_t t = 0; t < r->topics_count; t++) {
        if (!rb_str_eq(r->topics[t].topic, part->topic->name))
            continue;
        for (int32_t p = 0; p < r->topics[t].partitions_count; p++)
            if (r->topics[t].partitions[p].partition == part->index)
                return true;
    }
    return false;
}

void rb__fetch_wake(rb_server_t *server, const rb_partition_t *part)
{
    GList *l = server->parked;
    while (l) {
        GList *next = l->next;
        rb_req_t *req = l->data;
        const rb_fetch_req_t *r = req->body;
        if (wants(r, part)) {
            bool has_error;
            size_t avail = fetch_fill(req, r, NULL, &has_error);
            if (has_error || (int64_t)avail >= (int64_t)r->min_bytes) {
                unpark(req);
                fetch_answer(req);
            }
        }
        l = next;
    }
}

void rb__fetch_conn_closed(rb_server_t *server, rb_conn_t *conn)
{
    GList *l = server->parked;
    while (l) {
        GList *next = l->next;
        rb_req_t *req = l->data;
        if (req->conn == conn) {
            unpark(req);
            rb__req_finish_no_response(req);
        }
        l = next;
    }
}

void rb__fetch_drop_all(rb_server_t *server)
{
    while (server->parked) {
        rb_req_t *req = server->parked->data;
        unpark(req);
        rb__req_finish_no_response(req);
    }
}

/* ---- ListOffsets ------------------------------------------------------------------- */

/* The timestamp of the record at offset, in the batch that starts at file
 * position pos: read from the record itself when the batch is uncompressed,
 * else the batch's max timestamp (its records are opaque here); -1 if the
 * batch cannot be read. */
static int64_t record_timestamp(int fd, off_t pos, int64_t offset)
{
    uint8_t h[BATCH_HEADER];
    if (pread(fd, h, sizeof(h), pos) != (ssize_t)sizeof(h))
        return -1;
    size_t size = rb_batch_size(h);
    if (rb_batch_compression(h) != RB_COMPRESSION_NONE || size > 16 * 1024 * 1024)
        return rb_batch_max_timestamp(h);
    g_autofree uint8_t *batch = g_malloc(size);
    if (pread(fd, batch, size, pos) != (ssize_t)size)
        return -1;
    rb_record_iter_t it;
    if (rb_record_iter_init(&it, batch, size) != 0)
        return rb_batch_max_timestamp(h);
    rb_record_t rec;
    while (rb_record_iter_next(&it, &rec) == 1)
        if (rec.offset == offset)
            return rec.timestamp;
    return rb_batch_max_timestamp(h);
}

void rb__handle_list_offsets(rb_req_t *req, rill_rbuf_t *body)
{
    rb_server_t *server = req->server;
    int16_t v = req->hdr.api_version;
    rb_list_offsets_req_t r;
    if (rb_list_offsets_req_decode(body, v, &req->arena, &r) != 0) {
        rb__req_fail(req, "malformed ListOffsets request");
        return;
    }
    rb_list_offsets_resp_t resp;
    rb_list_offsets_resp_init(&resp);
    resp.topics =
        rb__items(req, &rb_list_offsets_resp_list_offsets_topic_response_desc, r.topics_count);
    resp.topics_count = r.topics_count;
    for (int32_t t = 0; t < r.topics_count; t++) {
        const rb_list_offsets_req_list_offsets_topic_t *lt = &r.topics[t];
        rb_list_offsets_resp_list_offsets_topic_response_t *tr = &resp.topics[t];
        tr->name = lt->name;
        tr->partitions = rb__items(req, &rb_list_offsets_resp_list_offsets_partition_response_desc,
                                   lt->partitions_count);
        tr->partitions_count = lt->partitions_count;
        for (int32_t p = 0; p < lt->partitions_count; p++) {
            const rb_list_offsets_req_list_offsets_partition_t *lp = &lt->partitions[p];
            rb_list_offsets_resp_list_offsets_partition_response_t *pr = &tr->partitions[p];
            pr->partition_index = lp->partition_index;
            pr->timestamp = -1;
            pr->offset = -1;
            pr->leader_epoch = -1;
            rb_partition_t *part = rb__partition_find(server, lt->name, lp->partition_index);
            if (!part) {
                pr->error_code = RB_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            pr->leader_epoch = 0;
            if (lp->timestamp == -1) { /* latest */
                rb_fetch_resp_partition_data_t tmp;
                int64_t lso = txn_view(NULL, part, 0, &tmp);
                pr->offset = r.isolation_level == 1 ? lso : rb_log_end_offset(part->log);
            } else if (lp->timestamp == -2) { /* earliest */
                pr->offset = rb_log_start_offset(part->log);
            } else if (lp->timestamp == -3 && v >= 7) { /* max timestamp (KIP-734) */
                pr->offset = rb_log_max_timestamp(part->log, &pr->timestamp);
            } else if (lp->timestamp < 0) {
                pr->error_code = RB_ERR_INVALID_REQUEST;
            } else {
                pr->offset = rb_log_offset_for_time(part->log, lp->timestamp);
                if (pr->offset >= 0) {
                    rb_log_slice_t slice = {-1, 0, 0};
                    if (rb_log_read(part->log, pr->offset, rb_log_end_offset(part->log), 1,
                                    &slice) == RB_ERR_NONE &&
                        slice.len >= BATCH_HEADER)
                        pr->timestamp = record_timestamp(slice.fd, slice.pos, pr->offset);
                }
            }
            if (v == 0 && pr->offset >= 0 && lp->max_num_offsets > 0) {
                pr->old_style_offsets = rb_arena_alloc(&req->arena, sizeof(int64_t));
                pr->old_style_offsets[0] = pr->offset;
                pr->old_style_offsets_count = 1;
            }
        }
    }
    rb__req_respond(req, &rb_list_offsets_resp_msg, &resp);
}
