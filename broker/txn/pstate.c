/* pstate.c: a partition's producer state in memory: the check before an
 * append, the update after it, the open transactions (LSO) and the aborted
 * index queries. Files are pstate-file.c's business; see pstate.h.
 *
 * Design note: rb_pstate_check() is pure and rb_pstate_appended() is the
 * only mutator on the produce path, and it is also what the replay calls for
 * every batch read back from the log -- so the state after a restart is, by
 * construction, the state the live path had built. The sequence rules are
 * Kafka's (ProducerAppendInfo.checkSequence):
 *
 *   epoch <  current               INVALID_PRODUCER_EPOCH
 *   epoch == current, seen batch   duplicate: NONE + original offsets
 *   epoch == current               first seq must be last seq + 1
 *                                  (or 0 after INT32_MAX; 0 if no batch yet)
 *   epoch >  current               first seq must be 0, else OUT_OF_ORDER
 *   no state for the producer      first seq must be 0, else UNKNOWN_PRODUCER_ID
 *
 * Hot path cost: one hash lookup and a scan of at most 5 batches; no
 * allocation except the first batch of a new producer. */
#include "config.h"

#include "broker/txn/pstate-private.h"

#include <stdlib.h>
#include <string.h>

#include "broker/txn/marker.h"
#include "common/log.h"

static gint cmp_txn_first(gconstpointer a, gconstpointer b)
{
    const rb__producer_t *pa = a;
    const rb__producer_t *pb = b;
    if (pa->txn_first_offset != pb->txn_first_offset)
        return pa->txn_first_offset < pb->txn_first_offset ? -1 : 1;
    if (pa->producer_id != pb->producer_id)
        return pa->producer_id < pb->producer_id ? -1 : 1;
    return 0;
}

rb_pstate_t *rb_pstate_new(const char *dir, const rb_pstate_config_t *config)
{
    rb_pstate_t *ps = g_new0(rb_pstate_t, 1);
    ps->dir = g_strdup(dir);
    ps->config.producer_id_expiration_ms = 86400000;
    ps->config.snapshot_interval_ms = 60000;
    if (config != NULL)
        ps->config = *config;
    ps->last_snapshot_ms = INT64_MIN;
    ps->producers = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    ps->ongoing = g_tree_new(cmp_txn_first);
    ps->aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    ps->last_snapshot = -1;
    ps->index_fd = -1;
    return ps;
}

void rb__pstate_clear(rb_pstate_t *ps)
{
    g_tree_destroy(ps->ongoing);
    ps->ongoing = g_tree_new(cmp_txn_first);
    g_hash_table_remove_all(ps->producers);
    g_array_set_size(ps->aborted, 0);
    ps->aborted_max_span = 0;
    ps->applied_end = 0;
}

void rb__pstate_aborted_add(rb_pstate_t *ps, const rb_aborted_txn_t *entry)
{
    g_array_append_val(ps->aborted, *entry);
    if (entry->last_offset - entry->first_offset > ps->aborted_max_span)
        ps->aborted_max_span = entry->last_offset - entry->first_offset;
}

rb__producer_t *rb__pstate_producer_get(rb_pstate_t *ps, int64_t producer_id, bool create)
{
    rb__producer_t *producer = g_hash_table_lookup(ps->producers, &producer_id);
    if (producer != NULL || !create)
        return producer;
    producer = g_new0(rb__producer_t, 1);
    producer->producer_id = producer_id;
    producer->epoch = -1;
    producer->coordinator_epoch = -1;
    producer->last_timestamp = -1;
    producer->txn_first_offset = -1;
    g_hash_table_insert(ps->producers, &producer->producer_id, producer);
    return producer;
}

void rb__pstate_insert_producer(rb_pstate_t *ps, rb__producer_t *producer)
{
    g_hash_table_replace(ps->producers, &producer->producer_id, producer);
    if (producer->txn_first_offset >= 0)
        g_tree_insert(ps->ongoing, producer, producer);
}

static const rb__producer_t *producer_find(const rb_pstate_t *ps, int64_t producer_id)
{
    return g_hash_table_lookup(ps->producers, &producer_id);
}

/* Kafka's inSequence: next follows last, wrapping from INT32_MAX to 0. */
static bool in_sequence(int32_t last_seq, int32_t next_seq)
{
    return (int64_t)next_seq == (int64_t)last_seq + 1 || (next_seq == 0 && last_seq == INT32_MAX);
}

static rb_kerr_t check_marker(const rb_pstate_t *ps, const rb_txn_batch_t *batch)
{
    if (batch->producer_id < 0 || !batch->has_marker || !batch->transactional)
        return RB_TXN_ERR_INVALID_RECORD;
    const rb__producer_t *producer = producer_find(ps, batch->producer_id);
    if (producer == NULL)
        return RB_TXN_ERR_NONE;
    if (batch->producer_epoch < producer->epoch)
        return RB_TXN_ERR_PRODUCER_FENCED;
    /* Kafka also refuses a marker from an older coordinator epoch, to fence a
     * coordinator that lost leadership. One node has no such zombie, and the
     * check would do harm: a lost transaction log restarts the coordinator
     * epoch, and every marker would then be refused, leaving transactions
     * open in the partitions for ever. The epoch is still recorded. */
    return RB_TXN_ERR_NONE;
}

rb_kerr_t rb_pstate_check(const rb_pstate_t *ps, const uint8_t *data, size_t len,
                          rb_pstate_origin_t origin, rb_pstate_dup_t *dup)
{
    rb_txn_batch_t batch;
    if (dup != NULL)
        memset(dup, 0, sizeof(*dup));
    if (!rb_txn_batch_parse(data, len, &batch) || (size_t)batch.length > len)
        return RB_TXN_ERR_CORRUPT_MESSAGE;
    if (batch.control) {
        if (origin != RB_PSTATE_COORDINATOR)
            return RB_TXN_ERR_INVALID_RECORD;
        return check_marker(ps, &batch);
    }
    if (batch.producer_id < 0)
        return batch.transactional ? RB_TXN_ERR_INVALID_RECORD : RB_TXN_ERR_NONE;
    if (batch.producer_epoch < 0 || batch.base_sequence < 0)
        return RB_TXN_ERR_INVALID_RECORD;

    int32_t first_seq = batch.base_sequence;
    int32_t last_seq = rb_txn_seq_add(first_seq, batch.last_offset_delta);
    const rb__producer_t *producer = producer_find(ps, batch.producer_id);
    if (producer == NULL || producer->epoch < 0)
        return first_seq == 0 ? RB_TXN_ERR_NONE : RB_TXN_ERR_UNKNOWN_PRODUCER_ID;
    if (batch.producer_epoch < producer->epoch)
        return RB_TXN_ERR_INVALID_PRODUCER_EPOCH;

    if (batch.producer_epoch == producer->epoch) {
        for (unsigned i = 0; i < producer->nbatches; i++) {
            const rb__pbatch_t *seen = &producer->batches[i];
            if (seen->first_seq == first_seq && seen->last_seq == last_seq) {
                if (dup != NULL) {
                    dup->duplicate = true;
                    dup->base_offset = seen->first_offset;
                    dup->last_offset = seen->last_offset;
                }
                return RB_TXN_ERR_NONE;
            }
        }
    }
    if (producer->txn_first_offset >= 0 && !batch.transactional)
        return RB_TXN_ERR_INVALID_TXN_STATE;

    if (batch.producer_epoch != producer->epoch)
        return first_seq == 0 ? RB_TXN_ERR_NONE : RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    int32_t expected_after =
        producer->nbatches > 0 ? producer->batches[producer->nbatches - 1].last_seq : -1;
    if (!in_sequence(expected_after, first_seq))
        return RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    return RB_TXN_ERR_NONE;
}

/* A new (higher) epoch starts a new sequence space: forget the window. */
static void producer_set_epoch(rb__producer_t *producer, int16_t epoch)
{
    if (epoch > producer->epoch) {
        producer->epoch = epoch;
        producer->nbatches = 0;
    }
}

static void txn_open(rb_pstate_t *ps, rb__producer_t *producer, int64_t first_offset)
{
    producer->txn_first_offset = first_offset;
    g_tree_insert(ps->ongoing, producer, producer);
}

static void apply_data(rb_pstate_t *ps, const rb_txn_batch_t *batch)
{
    rb__producer_t *producer = rb__pstate_producer_get(ps, batch->producer_id, true);
    producer_set_epoch(producer, batch->producer_epoch);
    if (producer->nbatches == RB_PSTATE_MAX_BATCHES) {
        memmove(&producer->batches[0], &producer->batches[1],
                sizeof(producer->batches[0]) * (RB_PSTATE_MAX_BATCHES - 1));
        producer->nbatches--;
    }
    rb__pbatch_t *slot = &producer->batches[producer->nbatches++];
    slot->first_seq = batch->base_sequence;
    slot->last_seq = rb_txn_seq_add(batch->base_sequence, batch->last_offset_delta);
    slot->first_offset = batch->base_offset;
    slot->last_offset = rb_txn_batch_last_offset(batch);
    slot->timestamp = batch->max_timestamp;
    producer->last_timestamp = batch->max_timestamp;
    if (batch->transactional && producer->txn_first_offset < 0)
        txn_open(ps, producer, batch->base_offset);
}

static void apply_marker(rb_pstate_t *ps, const rb_txn_batch_t *batch)
{
    rb__producer_t *producer = rb__pstate_producer_get(ps, batch->producer_id, true);
    producer_set_epoch(producer, batch->producer_epoch);
    if (batch->coordinator_epoch > producer->coordinator_epoch)
        producer->coordinator_epoch = batch->coordinator_epoch;
    producer->last_timestamp = batch->max_timestamp;
    if (producer->txn_first_offset < 0)
        return; /* a marker for a partition the producer never wrote to */
    g_tree_remove(ps->ongoing, producer);
    int64_t first_offset = producer->txn_first_offset;
    producer->txn_first_offset = -1;
    if (!batch->commit) {
        rb_aborted_txn_t entry = {
            .producer_id = batch->producer_id,
            .first_offset = first_offset,
            .last_offset = batch->base_offset,
            .last_stable_offset = rb_pstate_lso(ps, batch->base_offset + 1),
        };
        rb__pstate_aborted_add(ps, &entry);
        rb__pstate_index_append(ps, &entry);
    }
}

void rb_pstate_appended(rb_pstate_t *ps, const uint8_t *data, size_t len)
{
    rb_txn_batch_t batch;
    if (!rb_txn_batch_parse(data, len, &batch)) {
        RILL_LOG_WARN("broker.txn", "producer state: unparseable batch ignored len=%zu", len);
        return;
    }
    int64_t last_offset = rb_txn_batch_last_offset(&batch);
    if (last_offset < ps->applied_end)
        return; /* already applied (replay overlapping a snapshot) */
    ps->applied_end = last_offset + 1;
    if (batch.producer_id < 0)
        return;
    ps->dirty = true;
    if (batch.control) {
        if (batch.has_marker)
            apply_marker(ps, &batch);
        else
            RILL_LOG_WARN("broker.txn", "control batch without a marker record offset=%lld",
                          (long long)batch.base_offset);
        return;
    }
    apply_data(ps, &batch);
}

static gboolean first_node(gpointer key, gpointer value, gpointer data)
{
    (void)value;
    *(const rb__producer_t **)data = key;
    return TRUE; /* stop at the first (smallest) */
}

int64_t rb_pstate_first_unstable_offset(const rb_pstate_t *ps)
{
    const rb__producer_t *oldest = NULL;
    g_tree_foreach(ps->ongoing, first_node, &oldest);
    return oldest != NULL ? oldest->txn_first_offset : -1;
}

int64_t rb_pstate_lso(const rb_pstate_t *ps, int64_t high_watermark)
{
    int64_t first = rb_pstate_first_unstable_offset(ps);
    if (first < 0 || first >= high_watermark)
        return high_watermark;
    /* An open transaction whose first batches retention or DeleteRecords
     * removed: nothing below the log start can be read anyway (as Kafka). */
    return first > ps->log_start ? first : ps->log_start;
}

size_t rb_pstate_aborted_txns(const rb_pstate_t *ps, int64_t fetch_offset, int64_t upper_offset,
                              GArray *out)
{
    const rb_aborted_txn_t *entries = (const rb_aborted_txn_t *)(void *)ps->aborted->data;
    size_t n = ps->aborted->len;
    /* Entries are sorted by last offset: binary search the first whose last
     * offset reaches fetch_offset; any before it ended before the fetch. */
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (entries[mid].last_offset < fetch_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* An entry whose marker is at or past upper + the longest span started
     * at or after upper, and so does every later one: stop there. */
    int64_t stop = upper_offset > INT64_MAX - ps->aborted_max_span
                       ? INT64_MAX
                       : upper_offset + ps->aborted_max_span;
    size_t found = 0;
    for (size_t i = lo; i < n && entries[i].last_offset < stop; i++) {
        if (entries[i].first_offset < upper_offset) {
            g_array_append_val(out, entries[i]);
            found++;
        }
    }
    return found;
}

int rb_pstate_expire(rb_pstate_t *ps, int64_t now_ms)
{
    int expired = 0;
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, ps->producers);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__producer_t *producer = value;
        if (producer->txn_first_offset < 0 &&
            producer->last_timestamp + ps->config.producer_id_expiration_ms < now_ms) {
            g_hash_table_iter_remove(&iter);
            expired++;
            ps->dirty = true;
        }
    }
    return expired;
}

bool rb_pstate_maintain(rb_pstate_t *ps, int64_t log_end, int64_t now_ms, char **errmsg)
{
    rb_pstate_expire(ps, now_ms);
    if (!ps->dirty || ps->dir == NULL)
        return true;
    if (ps->last_snapshot_ms != INT64_MIN &&
        now_ms - ps->last_snapshot_ms < ps->config.snapshot_interval_ms)
        return true;
    if (!rb_pstate_snapshot(ps, log_end, errmsg))
        return false;
    ps->last_snapshot_ms = now_ms;
    return true;
}

void rb_pstate_truncate_head(rb_pstate_t *ps, int64_t log_start)
{
    if (log_start > ps->log_start)
        ps->log_start = log_start;
    guint dropped = 0;
    /* Not a prefix in general (first offsets are not sorted), but an entry
     * whose marker is below the start describes only deleted data. */
    GArray *old = ps->aborted;
    for (guint i = 0; i < old->len; i++)
        if (g_array_index(old, rb_aborted_txn_t, i).last_offset < log_start)
            dropped++;
    if (dropped == 0)
        return;
    ps->aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    ps->aborted_max_span = 0;
    for (guint i = 0; i < old->len; i++) {
        const rb_aborted_txn_t *entry = &g_array_index(old, rb_aborted_txn_t, i);
        if (entry->last_offset >= log_start)
            rb__pstate_aborted_add(ps, entry);
    }
    g_array_free(old, TRUE);
    g_autofree char *errmsg = NULL;
    if (!rb__pstate_index_rewrite(ps, &errmsg)) {
        RILL_LOG_WARN("broker.txn", "cannot rewrite aborted index: %s", errmsg);
        ps->index_write_failed = true;
    }
}

static gint cmp_info(gconstpointer a, gconstpointer b)
{
    const rb_producer_info_t *ia = a;
    const rb_producer_info_t *ib = b;
    return ia->producer_id < ib->producer_id ? -1 : ia->producer_id > ib->producer_id;
}

void rb_pstate_producers(const rb_pstate_t *ps, GArray *out)
{
    guint start = out->len;
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, ps->producers);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__producer_t *producer = value;
        rb_producer_info_t info = {
            .producer_id = producer->producer_id,
            .producer_epoch = producer->epoch,
            .last_sequence =
                producer->nbatches > 0 ? producer->batches[producer->nbatches - 1].last_seq : -1,
            .last_timestamp = producer->last_timestamp,
            .coordinator_epoch = producer->coordinator_epoch,
            .current_txn_start_offset = producer->txn_first_offset,
        };
        g_array_append_val(out, info);
    }
    if (out->len - start > 1)
        qsort(out->data + start * sizeof(rb_producer_info_t), out->len - start,
              sizeof(rb_producer_info_t), cmp_info);
}

size_t rb_pstate_producer_count(const rb_pstate_t *ps)
{
    return g_hash_table_size(ps->producers);
}

int64_t rb_pstate_last_snapshot_offset(const rb_pstate_t *ps)
{
    return ps->last_snapshot;
}
