/* coordinator.c: the transaction coordinator's state machine per
 * transactional id, its persistence in the transaction log, and the
 * commit/abort markers it has the server write (API in coordinator.h).
 *
 * The state machine (Kafka's TransactionMetadata):
 *
 *                  +--- InitProducerId (txn_bump) ---+
 *                  v                                 |
 *   new id ---> Empty ---------------------------------+
 *  (txn_create)    |
 *                  | AddPartitionsToTxn / AddOffsetsToTxn (txn_add)
 *                  v
 *               Ongoing <--- more partitions / groups (txn_add)
 *                 |   |
 *   EndTxn(commit)|   | EndTxn(abort) (txn_prepare), or InitProducerId /
 *   (txn_prepare) |   | timeout / restart: PrepareEpochFence, epoch+1 (txn_fence)
 *                 v   v
 *   PrepareCommit       PrepareAbort      markers to every partition and group
 *         |                  |            offsets ended (txn_send_markers;
 *         v                  v            a failed hook retried by rb_txn_tick)
 *   CompleteCommit      CompleteAbort     (txn_complete)
 *         |                  |
 *         +--> Empty (InitProducerId, txn_bump)
 *         +--> Ongoing (AddPartitionsToTxn / AddOffsetsToTxn, txn_add)
 *         +--> Dead, forgotten (idle > transactional.id.expiration.ms, txn_expire)
 *
 * The same, arrow by arrow, with the request or event and the function:
 *
 *     (unknown id) --InitProducerId [txn_create]--> Empty
 *
 *     Empty / CompleteCommit / CompleteAbort
 *         --InitProducerId [txn_bump: epoch+1, or a new producer id when the
 *           epoch is exhausted]--> Empty
 *         --AddPartitionsToTxn / AddOffsetsToTxn [txn_add]--> Ongoing
 *         --idle > transactional.id.expiration.ms [txn_expire]--> Dead (removed)
 *
 *     Ongoing --AddPartitionsToTxn / AddOffsetsToTxn [txn_add]--> Ongoing
 *     Ongoing --EndTxn(commit) [txn_prepare]--> PrepareCommit
 *     Ongoing --EndTxn(abort)  [txn_prepare]--> PrepareAbort
 *     Ongoing --InitProducerId / timeout (rb_txn_tick) / restart
 *              (rb_txn_recover) [txn_fence]--> PrepareEpochFence
 *     PrepareEpochFence --epoch+1, fencing the old producer [txn_fence]--> PrepareAbort
 *
 *     PrepareCommit --all markers + group offsets written [txn_send_markers
 *                     -> txn_complete]--> CompleteCommit
 *     PrepareAbort  --all markers + group offsets written [txn_send_markers
 *                     -> txn_complete]--> CompleteAbort
 *     PrepareX      --a hook failed: stays, retried by rb_txn_tick after
 *                     retry_backoff_ms [txn_send_markers]--> PrepareX
 *
 *   Answers for requests in the wrong state: PrepareX (and the transient
 *   PrepareEpochFence) answer CONCURRENT_TRANSACTIONS to InitProducerId,
 *   AddPartitions/AddOffsets and an EndTxn of the same outcome; EndTxn in Empty
 *   or of the opposite outcome answers INVALID_TXN_STATE; a stale epoch
 *   PRODUCER_FENCED; another producer id INVALID_PRODUCER_ID_MAPPING.
 *
 * Durability: every state except PrepareEpochFence (a step inside txn_fence)
 * is written to the transaction log before it takes effect in memory, and a
 * request is answered only after that write (fsynced, except CompleteX and
 * Dead, whose loss only makes a restart redo markers or an expiry); if it
 * fails, memory is rolled back and the client gets COORDINATOR_NOT_AVAILABLE
 * (retriable). Ongoing must be durable before AddPartitionsToTxn is answered:
 * otherwise a crash could forget a transaction whose data the partitions
 * hold, and their LSO would never move again. The
 * PrepareX record carries the partitions and groups, so a restart can
 * rewrite every marker; markers and group completions are idempotent, so
 * writing some twice after a crash is harmless. CompleteX and Empty records
 * carry no partitions.
 *
 * Invariants: partitions/groups are empty in Empty and CompleteX; start_ms is
 * set exactly in Ongoing and PrepareX; in PrepareX the sets hold what is still
 * to be marked (they shrink as hooks succeed). */
#include "config.h"

#include "broker/txn/coordinator.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker/txn/marker.h"
#include "broker/txn/pid.h"
#include "broker/txn/txnlog.h"
#include "common/clock.h"
#include "common/log.h"

#define TXN_LOG_FILE "transaction.log"
#define COMPACT_MIN_RECORDS 1000

/* A partition of a transaction (owned copy). */
typedef struct rb__tp {
    char *topic;
    int32_t partition;
} rb__tp_t;

typedef struct rb__txn {
    char *transactional_id;
    int64_t producer_id;
    int64_t last_producer_id;
    int16_t producer_epoch;
    int16_t last_producer_epoch;
    int32_t timeout_ms;
    rb_txn_state_t state;
    int64_t start_ms;
    int64_t update_ms;
    GHashTable *partitions; /* "partition/topic" (owned) -> rb__tp_t (owned) */
    GPtrArray *groups;      /* char * (owned) */
    int64_t retry_at_ms;    /* PrepareX after a failed hook: when to retry */
} rb__txn_t;

/* The fields a transition may change, saved to roll back a failed write. */
typedef struct txn_scalars {
    int64_t producer_id;
    int64_t last_producer_id;
    int16_t producer_epoch;
    int16_t last_producer_epoch;
    int32_t timeout_ms;
    rb_txn_state_t state;
    int64_t start_ms;
    int64_t update_ms;
} txn_scalars_t;

/* An idempotent (non-transactional) producer, for the KIP-360 epoch bump. */
typedef struct idem_producer {
    int64_t producer_id;
    int16_t epoch;
    int64_t last_ms;
} idem_producer_t;

struct rb_txn_coord {
    char *dir;
    rb_txn_config_t config;
    rb_txn_hooks_t hooks;
    rb_pid_alloc_t *pids;
    rb_txnlog_t *log;
    int32_t coordinator_epoch;
    GHashTable *txns;       /* transactional id (borrowed from the txn) -> rb__txn_t (owned) */
    GHashTable *by_pid;     /* producer id (owned int64) -> transactional id (owned copy);
                             * may hold stale entries (rotated or expired ids): every
                             * lookup checks the transaction's current producer id */
    GHashTable *idempotent; /* &producer_id -> idem_producer_t (owned) */
};

static const char *const state_names[] = {
    [RB_TXN_EMPTY] = "Empty",
    [RB_TXN_ONGOING] = "Ongoing",
    [RB_TXN_PREPARE_COMMIT] = "PrepareCommit",
    [RB_TXN_PREPARE_ABORT] = "PrepareAbort",
    [RB_TXN_COMPLETE_COMMIT] = "CompleteCommit",
    [RB_TXN_COMPLETE_ABORT] = "CompleteAbort",
    [RB_TXN_DEAD] = "Dead",
    [RB_TXN_PREPARE_EPOCH_FENCE] = "PrepareEpochFence",
};

const char *rb_txn_state_name(rb_txn_state_t state)
{
    if ((unsigned)state >= G_N_ELEMENTS(state_names))
        return "Unknown";
    return state_names[state];
}

int rb_txn_state_from_name(const char *name)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(state_names); i++)
        if (strcmp(state_names[i], name) == 0)
            return (int)i;
    return -1;
}

void rb_txn_config_defaults(rb_txn_config_t *config)
{
    config->max_timeout_ms = 900000;
    config->id_expiration_ms = 604800000;
    config->retry_backoff_ms = 100;
    config->fsync = true;
}

static int64_t now_ms(const rb_txn_coord_t *coord)
{
    if (coord->hooks.now_ms != NULL)
        return coord->hooks.now_ms(coord->hooks.ctx);
    return rill__clock_wall_ms();
}

/* Kafka's TransactionMetadata.isEpochExhausted. */
static bool epoch_exhausted(int16_t epoch)
{
    return epoch >= INT16_MAX - 1;
}

static bool is_prepare(rb_txn_state_t state)
{
    return state == RB_TXN_PREPARE_COMMIT || state == RB_TXN_PREPARE_ABORT;
}

static bool is_idle(rb_txn_state_t state)
{
    return state == RB_TXN_EMPTY || state == RB_TXN_COMPLETE_COMMIT ||
           state == RB_TXN_COMPLETE_ABORT;
}

/* ---- transactions in memory ------------------------------------------ */

static void tp_free(gpointer p)
{
    rb__tp_t *tp = p;
    g_free(tp->topic);
    g_free(tp);
}

static char *tp_key(const char *topic, int32_t partition)
{
    return g_strdup_printf("%d/%s", partition, topic);
}

static rb__txn_t *txn_alloc(const char *transactional_id)
{
    rb__txn_t *txn = g_new0(rb__txn_t, 1);
    txn->transactional_id = g_strdup(transactional_id);
    txn->producer_id = -1;
    txn->last_producer_id = -1;
    txn->producer_epoch = -1;
    txn->last_producer_epoch = -1;
    txn->start_ms = -1;
    txn->partitions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, tp_free);
    txn->groups = g_ptr_array_new_with_free_func(g_free);
    return txn;
}

static void txn_free(gpointer p)
{
    rb__txn_t *txn = p;
    g_hash_table_destroy(txn->partitions);
    g_ptr_array_free(txn->groups, TRUE);
    g_free(txn->transactional_id);
    g_free(txn);
}

static bool txn_add_partition(rb__txn_t *txn, const char *topic, int32_t partition)
{
    char *key = tp_key(topic, partition);
    if (g_hash_table_contains(txn->partitions, key)) {
        g_free(key);
        return false;
    }
    rb__tp_t *tp = g_new0(rb__tp_t, 1);
    tp->topic = g_strdup(topic);
    tp->partition = partition;
    g_hash_table_insert(txn->partitions, key, tp);
    return true;
}

static bool txn_has_group(const rb__txn_t *txn, const char *group_id)
{
    for (guint i = 0; i < txn->groups->len; i++)
        if (strcmp(g_ptr_array_index(txn->groups, i), group_id) == 0)
            return true;
    return false;
}

static void txn_clear_sets(rb__txn_t *txn)
{
    g_hash_table_remove_all(txn->partitions);
    g_ptr_array_set_size(txn->groups, 0);
}

static txn_scalars_t txn_save(const rb__txn_t *txn)
{
    return (txn_scalars_t){
        .producer_id = txn->producer_id,
        .last_producer_id = txn->last_producer_id,
        .producer_epoch = txn->producer_epoch,
        .last_producer_epoch = txn->last_producer_epoch,
        .timeout_ms = txn->timeout_ms,
        .state = txn->state,
        .start_ms = txn->start_ms,
        .update_ms = txn->update_ms,
    };
}

static void txn_restore(rb__txn_t *txn, const txn_scalars_t *saved)
{
    txn->producer_id = saved->producer_id;
    txn->last_producer_id = saved->last_producer_id;
    txn->producer_epoch = saved->producer_epoch;
    txn->last_producer_epoch = saved->last_producer_epoch;
    txn->timeout_ms = saved->timeout_ms;
    txn->state = saved->state;
    txn->start_ms = saved->start_ms;
    txn->update_ms = saved->update_ms;
}

/* The partitions of txn as an array of rb_txn_partition_t (topics borrowed). */
static GArray *txn_partition_array(const rb__txn_t *txn)
{
    GArray *arr = g_array_sized_new(FALSE, FALSE, sizeof(rb_txn_partition_t),
                                    g_hash_table_size(txn->partitions));
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, txn->partitions);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__tp_t *tp = value;
        rb_txn_partition_t out = {.topic = tp->topic, .partition = tp->partition};
        g_array_append_val(arr, out);
    }
    return arr;
}

/* ---- persistence ------------------------------------------------------ */

static void encode_txn(rill_wbuf_t *w, const rb__txn_t *txn, bool with_sets)
{
    GArray *partitions = with_sets ? txn_partition_array(txn) : NULL;
    rb_txnlog_txn_t rec = {
        .transactional_id = txn->transactional_id,
        .producer_id = txn->producer_id,
        .last_producer_id = txn->last_producer_id,
        .producer_epoch = txn->producer_epoch,
        .last_producer_epoch = txn->last_producer_epoch,
        .timeout_ms = txn->timeout_ms,
        .state = txn->state,
        .start_ms = txn->start_ms,
        .update_ms = txn->update_ms,
        .partitions = partitions,
        .groups = with_sets ? txn->groups : NULL,
    };
    rb_txnlog_encode_txn(w, &rec);
    if (partitions != NULL)
        g_array_free(partitions, TRUE);
}

/* Rewrites the log with one record per live id when it has grown well past that. */
static void maybe_compact(rb_txn_coord_t *coord)
{
    int64_t live = (int64_t)g_hash_table_size(coord->txns) + 1;
    int64_t records = rb_txnlog_record_count(coord->log);
    if (records < COMPACT_MIN_RECORDS || records < 4 * live)
        return;
    rill_wbuf_t framed, payload;
    rill__wbuf_init(&framed, 4096);
    rill__wbuf_init(&payload, 256);
    rb_txnlog_encode_epoch(&payload, coord->coordinator_epoch);
    rb_txnlog_frame(&framed, payload.data, payload.len);
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, coord->txns);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        rill__wbuf_reset(&payload);
        encode_txn(&payload, value, true);
        rb_txnlog_frame(&framed, payload.data, payload.len);
    }
    g_autofree char *errmsg = NULL;
    if (!rb_txnlog_rewrite(coord->log, &framed, &errmsg))
        RILL_LOG_WARN("broker.txn", "transaction log compaction failed: %s", errmsg);
    else
        RILL_LOG_DEBUG("broker.txn", "transaction log compacted records=%lld live=%lld",
                       (long long)records, (long long)live);
    rill__wbuf_free(&payload);
    rill__wbuf_free(&framed);
}

/* Indexes txn under its current producer id. */
static void index_pid(rb_txn_coord_t *coord, const rb__txn_t *txn)
{
    if (txn->producer_id < 0)
        return;
    const char *known = g_hash_table_lookup(coord->by_pid, &txn->producer_id);
    if (known != NULL && strcmp(known, txn->transactional_id) == 0)
        return;
    g_hash_table_replace(coord->by_pid, g_memdup2(&txn->producer_id, sizeof(int64_t)),
                         g_strdup(txn->transactional_id));
}

/* Writes txn's current state, durably (fsync) except for CompleteX and Dead:
 * losing one of those in a crash only means the markers or the expiry are
 * redone, which is harmless, and skipping that fsync saves a third of the
 * cost of a transaction. Returns false (logged) on I/O errors. */
static bool txn_persist(rb_txn_coord_t *coord, const rb__txn_t *txn, bool with_sets)
{
    bool sync = txn->state != RB_TXN_COMPLETE_COMMIT && txn->state != RB_TXN_COMPLETE_ABORT &&
                txn->state != RB_TXN_DEAD;
    rill_wbuf_t w;
    rill__wbuf_init(&w, 128);
    encode_txn(&w, txn, with_sets);
    g_autofree char *errmsg = NULL;
    bool ok = rb_txnlog_append(coord->log, w.data, w.len, sync, &errmsg);
    rill__wbuf_free(&w);
    if (!ok) {
        RILL_LOG_ERROR("broker.txn", "cannot write transaction state id=%s: %s",
                       txn->transactional_id, errmsg);
        return false;
    }
    index_pid(coord, txn);
    maybe_compact(coord);
    return true;
}

/* ---- loading ---------------------------------------------------------- */

static void load_epoch(void *ctx, int32_t epoch)
{
    rb_txn_coord_t *coord = ctx;
    if (epoch > coord->coordinator_epoch)
        coord->coordinator_epoch = epoch;
}

static void load_txn(void *ctx, const rb_txnlog_txn_t *rec)
{
    rb_txn_coord_t *coord = ctx;
    if (rec->state == RB_TXN_DEAD) {
        g_hash_table_remove(coord->txns, rec->transactional_id);
        return;
    }
    rb__txn_t *txn = txn_alloc(rec->transactional_id);
    txn->producer_id = rec->producer_id;
    txn->last_producer_id = rec->last_producer_id;
    txn->producer_epoch = rec->producer_epoch;
    txn->last_producer_epoch = rec->last_producer_epoch;
    txn->timeout_ms = rec->timeout_ms;
    txn->state = rec->state;
    txn->start_ms = rec->start_ms;
    txn->update_ms = rec->update_ms;
    for (guint i = 0; i < rec->partitions->len; i++) {
        const rb_txn_partition_t *tp = &g_array_index(rec->partitions, rb_txn_partition_t, i);
        txn_add_partition(txn, tp->topic, tp->partition);
    }
    for (guint i = 0; i < rec->groups->len; i++)
        g_ptr_array_add(txn->groups, g_strdup(g_ptr_array_index(rec->groups, i)));
    g_hash_table_replace(coord->txns, txn->transactional_id, txn);
    index_pid(coord, txn);
}

rb_txn_coord_t *rb_txn_open(const char *dir, const rb_txn_config_t *config,
                            const rb_txn_hooks_t *hooks, char **errmsg)
{
    if (g_mkdir_with_parents(dir, 0755) != 0) {
        *errmsg = g_strdup_printf("%s: %s", dir, g_strerror(errno));
        return NULL;
    }
    rb_txn_coord_t *coord = g_new0(rb_txn_coord_t, 1);
    coord->dir = g_strdup(dir);
    if (config != NULL)
        coord->config = *config;
    else
        rb_txn_config_defaults(&coord->config);
    if (hooks != NULL)
        coord->hooks = *hooks;
    coord->coordinator_epoch = -1;
    coord->txns = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, txn_free);
    coord->idempotent = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    coord->by_pid = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
    coord->pids = rb_pid_alloc_open(dir, errmsg);
    if (coord->pids == NULL) {
        rb_txn_close(coord);
        return NULL;
    }
    g_autofree char *path = g_build_filename(dir, TXN_LOG_FILE, NULL);
    rb_txnlog_reader_t reader = {.ctx = coord, .epoch = load_epoch, .txn = load_txn};
    coord->log = rb_txnlog_open(path, coord->config.fsync, &reader, errmsg);
    if (coord->log == NULL) {
        rb_txn_close(coord);
        return NULL;
    }
    coord->coordinator_epoch++;
    rill_wbuf_t w;
    rill__wbuf_init(&w, 8);
    rb_txnlog_encode_epoch(&w, coord->coordinator_epoch);
    bool ok = rb_txnlog_append(coord->log, w.data, w.len, true, errmsg);
    rill__wbuf_free(&w);
    if (!ok) {
        rb_txn_close(coord);
        return NULL;
    }
    maybe_compact(coord);
    RILL_LOG_INFO("broker.txn", "transaction coordinator loaded ids=%u coordinator_epoch=%d",
                  g_hash_table_size(coord->txns), coord->coordinator_epoch);
    return coord;
}

void rb_txn_close(rb_txn_coord_t *coord)
{
    if (coord == NULL)
        return;
    rb_txnlog_close(coord->log);
    rb_pid_alloc_close(coord->pids);
    g_hash_table_destroy(coord->txns);
    g_hash_table_destroy(coord->idempotent);
    g_hash_table_destroy(coord->by_pid);
    g_free(coord->dir);
    g_free(coord);
}

int32_t rb_txn_coordinator_epoch(const rb_txn_coord_t *coord)
{
    return coord->coordinator_epoch;
}

/* ---- transitions ------------------------------------------------------- */

/* PrepareX -> CompleteX: every marker and group is done. */
static void txn_complete(rb_txn_coord_t *coord, rb__txn_t *txn)
{
    txn->state =
        txn->state == RB_TXN_PREPARE_COMMIT ? RB_TXN_COMPLETE_COMMIT : RB_TXN_COMPLETE_ABORT;
    txn->start_ms = -1;
    txn->update_ms = now_ms(coord);
    txn->retry_at_ms = 0;
    /* If this write fails, a restart finds PrepareX and writes the markers
     * again, which is harmless; memory moves on either way. */
    txn_persist(coord, txn, false);
    RILL_LOG_DEBUG("broker.txn", "transaction completed id=%s state=%s", txn->transactional_id,
                   rb_txn_state_name(txn->state));
}

/* In PrepareX: has the server write the markers and end the group offsets
 * still pending; completes the transaction when nothing is left. */
static void txn_send_markers(rb_txn_coord_t *coord, rb__txn_t *txn)
{
    g_assert(is_prepare(txn->state));
    bool commit = txn->state == RB_TXN_PREPARE_COMMIT;
    int64_t now = now_ms(coord);
    rb_kerr_t failed = RB_TXN_ERR_NONE;
    rill_wbuf_t w;
    rill__wbuf_init(&w, 96);
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, txn->partitions);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__tp_t *tp = value;
        rb_kerr_t err = RB_TXN_ERR_NONE;
        if (coord->hooks.write_marker != NULL) {
            rill__wbuf_reset(&w);
            rb_txn_marker_build(&w, txn->producer_id, txn->producer_epoch, coord->coordinator_epoch,
                                commit, now);
            err = coord->hooks.write_marker(coord->hooks.ctx, tp->topic, tp->partition, w.data,
                                            w.len);
        }
        if (err == RB_TXN_ERR_PRODUCER_FENCED || err == RB_TXN_ERR_TRANSACTION_COORDINATOR_FENCED) {
            /* The partition has seen a newer epoch of this producer (or of
             * the coordinator): this marker is obsolete, and retrying it
             * would keep the transaction in PrepareX forever. */
            RILL_LOG_WARN("broker.txn",
                          "marker refused as obsolete id=%s topic=%s partition=%d err=%d",
                          txn->transactional_id, tp->topic, tp->partition, err);
            g_hash_table_iter_remove(&iter);
        } else if (err == RB_TXN_ERR_NONE) {
            g_hash_table_iter_remove(&iter);
        } else {
            failed = err;
            RILL_LOG_WARN("broker.txn", "marker write failed id=%s topic=%s partition=%d err=%d",
                          txn->transactional_id, tp->topic, tp->partition, err);
        }
    }
    rill__wbuf_free(&w);
    for (guint i = 0; i < txn->groups->len;) {
        const char *group = g_ptr_array_index(txn->groups, i);
        rb_kerr_t err = RB_TXN_ERR_NONE;
        if (coord->hooks.end_group_txn != NULL)
            err = coord->hooks.end_group_txn(coord->hooks.ctx, group, txn->producer_id,
                                             txn->producer_epoch, commit);
        if (err == RB_TXN_ERR_NONE) {
            g_ptr_array_remove_index(txn->groups, i);
        } else {
            failed = err;
            RILL_LOG_WARN("broker.txn", "group offsets completion failed id=%s group=%s err=%d",
                          txn->transactional_id, group, err);
            i++;
        }
    }
    if (failed != RB_TXN_ERR_NONE) {
        txn->retry_at_ms = now + coord->config.retry_backoff_ms;
        return;
    }
    txn_complete(coord, txn);
}

/* Ongoing -> PrepareCommit / PrepareAbort, then the markers. */
static rb_kerr_t txn_prepare(rb_txn_coord_t *coord, rb__txn_t *txn, bool commit)
{
    txn_scalars_t saved = txn_save(txn);
    txn->state = commit ? RB_TXN_PREPARE_COMMIT : RB_TXN_PREPARE_ABORT;
    txn->update_ms = now_ms(coord);
    if (!txn_persist(coord, txn, true)) {
        txn_restore(txn, &saved);
        return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    txn_send_markers(coord, txn);
    return RB_TXN_ERR_NONE;
}

/* Ongoing -> PrepareEpochFence -> PrepareAbort with the epoch bumped, so that
 * the producer that opened the transaction is fenced everywhere: by the
 * coordinator, and by the abort markers at each partition. */
static bool txn_fence(rb_txn_coord_t *coord, rb__txn_t *txn)
{
    txn_scalars_t saved = txn_save(txn);
    txn->state = RB_TXN_PREPARE_EPOCH_FENCE;
    if (txn->producer_epoch < INT16_MAX)
        txn->producer_epoch++;
    txn->last_producer_epoch = -1;
    txn->state = RB_TXN_PREPARE_ABORT;
    txn->update_ms = now_ms(coord);
    if (!txn_persist(coord, txn, true)) {
        txn_restore(txn, &saved);
        return false;
    }
    RILL_LOG_INFO("broker.txn", "aborting transaction id=%s producer_id=%lld new_epoch=%d",
                  txn->transactional_id, (long long)txn->producer_id, txn->producer_epoch);
    txn_send_markers(coord, txn);
    return true;
}

/* A new transactional id -> Empty with a new producer id, epoch 0. */
static rb_kerr_t txn_create(rb_txn_coord_t *coord, const char *transactional_id, int32_t timeout_ms,
                            rb__txn_t **out)
{
    int64_t producer_id = rb_pid_alloc_next(coord->pids);
    if (producer_id < 0)
        return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
    rb__txn_t *txn = txn_alloc(transactional_id);
    txn->producer_id = producer_id;
    txn->producer_epoch = 0;
    txn->timeout_ms = timeout_ms;
    txn->state = RB_TXN_EMPTY;
    txn->update_ms = now_ms(coord);
    if (!txn_persist(coord, txn, false)) {
        txn_free(txn);
        return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    g_hash_table_replace(coord->txns, txn->transactional_id, txn);
    *out = txn;
    return RB_TXN_ERR_NONE;
}

/* Kafka's isValidProducerId for an InitProducerId carrying the producer's
 * current id/epoch (KIP-360). */
static bool expected_id_valid(const rb__txn_t *txn, int64_t producer_id, int16_t epoch)
{
    return txn->producer_epoch < 0 || producer_id == txn->producer_id ||
           (producer_id == txn->last_producer_id && epoch_exhausted(epoch));
}

/* Empty / CompleteX -> Empty with the epoch bumped (or a new producer id). */
static rb_kerr_t txn_bump(rb_txn_coord_t *coord, rb__txn_t *txn, int32_t timeout_ms, bool expected,
                          int16_t expected_epoch)
{
    txn_scalars_t saved = txn_save(txn);
    if (epoch_exhausted(txn->producer_epoch) &&
        (!expected || expected_epoch == txn->producer_epoch)) {
        int64_t producer_id = rb_pid_alloc_next(coord->pids);
        if (producer_id < 0)
            return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
        txn->last_producer_id = txn->producer_id;
        txn->last_producer_epoch = expected ? txn->producer_epoch : -1;
        txn->producer_id = producer_id;
        txn->producer_epoch = 0;
    } else if (!expected) {
        txn->producer_epoch++;
        txn->last_producer_epoch = -1;
    } else if (txn->producer_epoch < 0 || expected_epoch == txn->producer_epoch) {
        txn->last_producer_epoch = txn->producer_epoch;
        txn->producer_epoch++;
    } else if (expected_epoch == txn->last_producer_epoch) {
        /* A retry of a bump whose answer was lost: answer the same again. */
    } else {
        return RB_TXN_ERR_PRODUCER_FENCED;
    }
    txn->timeout_ms = timeout_ms;
    txn->state = RB_TXN_EMPTY;
    txn->start_ms = -1;
    txn->update_ms = now_ms(coord);
    if (!txn_persist(coord, txn, false)) {
        txn_restore(txn, &saved);
        return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    txn_clear_sets(txn);
    return RB_TXN_ERR_NONE;
}

/* The checks every request of an open producer shares. */
static rb_kerr_t txn_lookup_checked(rb_txn_coord_t *coord, const char *transactional_id,
                                    int64_t producer_id, int16_t producer_epoch, rb__txn_t **out)
{
    if (transactional_id == NULL)
        return RB_TXN_ERR_INVALID_REQUEST;
    rb__txn_t *txn = g_hash_table_lookup(coord->txns, transactional_id);
    if (txn == NULL || txn->producer_id != producer_id)
        return RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (producer_epoch != txn->producer_epoch)
        return RB_TXN_ERR_PRODUCER_FENCED;
    *out = txn;
    return RB_TXN_ERR_NONE;
}

/* Empty / CompleteX / Ongoing -> Ongoing with more partitions or a group. */
static rb_kerr_t txn_add(rb_txn_coord_t *coord, rb__txn_t *txn,
                         const rb_txn_partition_t *partitions, size_t n, const char *group_id)
{
    if (is_prepare(txn->state) || txn->state == RB_TXN_PREPARE_EPOCH_FENCE)
        return RB_TXN_ERR_CONCURRENT_TRANSACTIONS;
    if (txn->state == RB_TXN_DEAD)
        return RB_TXN_ERR_INVALID_TXN_STATE;
    g_assert(txn->state == RB_TXN_ONGOING || is_idle(txn->state));
    GPtrArray *added = g_ptr_array_new_with_free_func(g_free);
    for (size_t i = 0; i < n; i++) {
        if (txn_add_partition(txn, partitions[i].topic, partitions[i].partition))
            g_ptr_array_add(added, tp_key(partitions[i].topic, partitions[i].partition));
    }
    bool group_added = group_id != NULL && !txn_has_group(txn, group_id);
    if (group_added)
        g_ptr_array_add(txn->groups, g_strdup(group_id));
    if (txn->state == RB_TXN_ONGOING && added->len == 0 && !group_added) {
        g_ptr_array_free(added, TRUE);
        return RB_TXN_ERR_NONE; /* nothing new: no write */
    }
    txn_scalars_t saved = txn_save(txn);
    int64_t now = now_ms(coord);
    if (txn->state != RB_TXN_ONGOING)
        txn->start_ms = now;
    txn->state = RB_TXN_ONGOING;
    txn->update_ms = now;
    rb_kerr_t err = RB_TXN_ERR_NONE;
    if (!txn_persist(coord, txn, true)) {
        txn_restore(txn, &saved);
        for (guint i = 0; i < added->len; i++)
            g_hash_table_remove(txn->partitions, g_ptr_array_index(added, i));
        if (group_added)
            g_ptr_array_remove_index(txn->groups, txn->groups->len - 1);
        err = RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    g_ptr_array_free(added, TRUE);
    return err;
}

/* Empty / CompleteX idle too long -> Dead: a tombstone, then forgotten. */
static void txn_expire(rb_txn_coord_t *coord, rb__txn_t *txn)
{
    txn_scalars_t saved = txn_save(txn);
    txn->state = RB_TXN_DEAD;
    if (!txn_persist(coord, txn, false)) {
        txn_restore(txn, &saved);
        return;
    }
    RILL_LOG_INFO("broker.txn", "transactional id expired id=%s", txn->transactional_id);
    g_hash_table_remove(coord->by_pid, &txn->producer_id);
    g_hash_table_remove(coord->txns, txn->transactional_id);
}

/* ---- requests ---------------------------------------------------------- */

static rb_kerr_t init_idempotent(rb_txn_coord_t *coord, int64_t producer_id, int16_t producer_epoch,
                                 int64_t *out_id, int16_t *out_epoch)
{
    int64_t now = now_ms(coord);
    if (producer_id >= 0 && producer_epoch >= 0) {
        idem_producer_t *known = g_hash_table_lookup(coord->idempotent, &producer_id);
        if (known != NULL && known->epoch == producer_epoch && !epoch_exhausted(producer_epoch)) {
            known->epoch++;
            known->last_ms = now;
            *out_id = known->producer_id;
            *out_epoch = known->epoch;
            return RB_TXN_ERR_NONE;
        }
    }
    int64_t id = rb_pid_alloc_next(coord->pids);
    if (id < 0)
        return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
    idem_producer_t *producer = g_new0(idem_producer_t, 1);
    producer->producer_id = id;
    producer->epoch = 0;
    producer->last_ms = now;
    g_hash_table_replace(coord->idempotent, &producer->producer_id, producer);
    *out_id = id;
    *out_epoch = 0;
    return RB_TXN_ERR_NONE;
}

rb_kerr_t rb_txn_init_producer_id(rb_txn_coord_t *coord, const char *transactional_id,
                                  int32_t timeout_ms, int64_t producer_id, int16_t producer_epoch,
                                  int64_t *out_producer_id, int16_t *out_producer_epoch)
{
    *out_producer_id = -1;
    *out_producer_epoch = -1;
    if (transactional_id == NULL)
        return init_idempotent(coord, producer_id, producer_epoch, out_producer_id,
                               out_producer_epoch);
    if (transactional_id[0] == '\0')
        return RB_TXN_ERR_INVALID_REQUEST;
    if (timeout_ms <= 0 || timeout_ms > coord->config.max_timeout_ms)
        return RB_TXN_ERR_INVALID_TRANSACTION_TIMEOUT;

    rb__txn_t *txn = g_hash_table_lookup(coord->txns, transactional_id);
    rb_kerr_t err;
    if (txn == NULL) {
        err = txn_create(coord, transactional_id, timeout_ms, &txn);
    } else {
        bool expected = producer_id >= 0;
        if (expected && !expected_id_valid(txn, producer_id, producer_epoch))
            return RB_TXN_ERR_PRODUCER_FENCED;
        switch (txn->state) {
        case RB_TXN_PREPARE_COMMIT:
        case RB_TXN_PREPARE_ABORT:
        case RB_TXN_PREPARE_EPOCH_FENCE:
        case RB_TXN_DEAD:
            return RB_TXN_ERR_CONCURRENT_TRANSACTIONS;
        case RB_TXN_ONGOING:
            /* Abort what the previous incarnation left open; the client retries. */
            if (!txn_fence(coord, txn))
                return RB_TXN_ERR_COORDINATOR_NOT_AVAILABLE;
            return RB_TXN_ERR_CONCURRENT_TRANSACTIONS;
        case RB_TXN_EMPTY:
        case RB_TXN_COMPLETE_COMMIT:
        case RB_TXN_COMPLETE_ABORT:
            break;
        }
        err = txn_bump(coord, txn, timeout_ms, expected, producer_epoch);
    }
    if (err != RB_TXN_ERR_NONE)
        return err;
    *out_producer_id = txn->producer_id;
    *out_producer_epoch = txn->producer_epoch;
    return RB_TXN_ERR_NONE;
}

rb_kerr_t rb_txn_add_partitions(rb_txn_coord_t *coord, const char *transactional_id,
                                int64_t producer_id, int16_t producer_epoch,
                                const rb_txn_partition_t *partitions, size_t n)
{
    rb__txn_t *txn = NULL;
    rb_kerr_t err = txn_lookup_checked(coord, transactional_id, producer_id, producer_epoch, &txn);
    if (err != RB_TXN_ERR_NONE)
        return err;
    if (n == 0)
        return RB_TXN_ERR_NONE;
    return txn_add(coord, txn, partitions, n, NULL);
}

rb_kerr_t rb_txn_add_offsets(rb_txn_coord_t *coord, const char *transactional_id,
                             int64_t producer_id, int16_t producer_epoch, const char *group_id)
{
    if (group_id == NULL)
        return RB_TXN_ERR_INVALID_REQUEST;
    rb__txn_t *txn = NULL;
    rb_kerr_t err = txn_lookup_checked(coord, transactional_id, producer_id, producer_epoch, &txn);
    if (err != RB_TXN_ERR_NONE)
        return err;
    return txn_add(coord, txn, NULL, 0, group_id);
}

rb_kerr_t rb_txn_end(rb_txn_coord_t *coord, const char *transactional_id, int64_t producer_id,
                     int16_t producer_epoch, bool commit)
{
    rb__txn_t *txn = NULL;
    rb_kerr_t err = txn_lookup_checked(coord, transactional_id, producer_id, producer_epoch, &txn);
    if (err != RB_TXN_ERR_NONE)
        return err;
    switch (txn->state) {
    case RB_TXN_ONGOING:
        return txn_prepare(coord, txn, commit);
    case RB_TXN_COMPLETE_COMMIT:
        return commit ? RB_TXN_ERR_NONE : RB_TXN_ERR_INVALID_TXN_STATE;
    case RB_TXN_COMPLETE_ABORT:
        return commit ? RB_TXN_ERR_INVALID_TXN_STATE : RB_TXN_ERR_NONE;
    case RB_TXN_PREPARE_COMMIT:
        return commit ? RB_TXN_ERR_CONCURRENT_TRANSACTIONS : RB_TXN_ERR_INVALID_TXN_STATE;
    case RB_TXN_PREPARE_ABORT:
        return commit ? RB_TXN_ERR_INVALID_TXN_STATE : RB_TXN_ERR_CONCURRENT_TRANSACTIONS;
    case RB_TXN_EMPTY:
    case RB_TXN_DEAD:
    case RB_TXN_PREPARE_EPOCH_FENCE:
        break;
    }
    return RB_TXN_ERR_INVALID_TXN_STATE;
}

rb_kerr_t rb_txn_verify_offset_commit(rb_txn_coord_t *coord, const char *transactional_id,
                                      int64_t producer_id, int16_t producer_epoch,
                                      const char *group_id)
{
    rb__txn_t *txn = NULL;
    rb_kerr_t err = txn_lookup_checked(coord, transactional_id, producer_id, producer_epoch, &txn);
    if (err != RB_TXN_ERR_NONE)
        return err;
    if (txn->state != RB_TXN_ONGOING || group_id == NULL || !txn_has_group(txn, group_id))
        return RB_TXN_ERR_INVALID_TXN_STATE;
    return RB_TXN_ERR_NONE;
}

rb_kerr_t rb_txn_verify_produce(rb_txn_coord_t *coord, int64_t producer_id, int16_t producer_epoch,
                                const char *topic, int32_t partition)
{
    const char *id = g_hash_table_lookup(coord->by_pid, &producer_id);
    rb__txn_t *txn = id != NULL ? g_hash_table_lookup(coord->txns, id) : NULL;
    if (txn == NULL || txn->producer_id != producer_id)
        return RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING;
    if (producer_epoch != txn->producer_epoch)
        return RB_TXN_ERR_INVALID_PRODUCER_EPOCH;
    if (txn->state != RB_TXN_ONGOING)
        return RB_TXN_ERR_INVALID_TXN_STATE;
    char key[320];
    if (g_snprintf(key, sizeof(key), "%d/%s", partition, topic) >= (int)sizeof(key))
        return RB_TXN_ERR_INVALID_TXN_STATE;
    if (!g_hash_table_contains(txn->partitions, key))
        return RB_TXN_ERR_INVALID_TXN_STATE;
    return RB_TXN_ERR_NONE;
}

/* ---- time and recovery --------------------------------------------------- */

/* The ids of every transaction: loops that may remove or modify entries
 * iterate over this copy and look each one up again. */
static GPtrArray *txn_ids(const rb_txn_coord_t *coord)
{
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GHashTableIter iter;
    gpointer key;
    g_hash_table_iter_init(&iter, coord->txns);
    while (g_hash_table_iter_next(&iter, &key, NULL))
        g_ptr_array_add(ids, g_strdup(key));
    return ids;
}

void rb_txn_tick(rb_txn_coord_t *coord)
{
    int64_t now = now_ms(coord);
    GPtrArray *ids = txn_ids(coord);
    for (guint i = 0; i < ids->len; i++) {
        rb__txn_t *txn = g_hash_table_lookup(coord->txns, g_ptr_array_index(ids, i));
        if (txn == NULL)
            continue;
        if (txn->state == RB_TXN_ONGOING && now > txn->start_ms + txn->timeout_ms) {
            RILL_LOG_INFO("broker.txn", "transaction timed out id=%s timeout_ms=%d",
                          txn->transactional_id, txn->timeout_ms);
            txn_fence(coord, txn);
        } else if (is_prepare(txn->state) && now >= txn->retry_at_ms) {
            txn_send_markers(coord, txn);
        } else if (is_idle(txn->state) && now > txn->update_ms + coord->config.id_expiration_ms) {
            txn_expire(coord, txn);
        }
    }
    g_ptr_array_free(ids, TRUE);
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, coord->idempotent);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const idem_producer_t *producer = value;
        if (now > producer->last_ms + coord->config.id_expiration_ms)
            g_hash_table_iter_remove(&iter);
    }
}

int64_t rb_txn_next_deadline(const rb_txn_coord_t *coord)
{
    int64_t next = INT64_MAX;
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, coord->txns);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__txn_t *txn = value;
        int64_t at = INT64_MAX;
        if (txn->state == RB_TXN_ONGOING)
            at = txn->start_ms + txn->timeout_ms + 1;
        else if (is_prepare(txn->state))
            at = txn->retry_at_ms;
        else if (is_idle(txn->state))
            at = txn->update_ms + coord->config.id_expiration_ms + 1;
        if (at < next)
            next = at;
    }
    g_hash_table_iter_init(&iter, coord->idempotent);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const idem_producer_t *producer = value;
        if (producer->last_ms + coord->config.id_expiration_ms + 1 < next)
            next = producer->last_ms + coord->config.id_expiration_ms + 1;
    }
    return next;
}

int rb_txn_recover(rb_txn_coord_t *coord)
{
    int acted = 0;
    GPtrArray *ids = txn_ids(coord);
    for (guint i = 0; i < ids->len; i++) {
        rb__txn_t *txn = g_hash_table_lookup(coord->txns, g_ptr_array_index(ids, i));
        if (txn == NULL)
            continue;
        if (txn->state == RB_TXN_ONGOING || txn->state == RB_TXN_PREPARE_EPOCH_FENCE) {
            if (txn->state == RB_TXN_PREPARE_EPOCH_FENCE)
                txn->state = RB_TXN_ONGOING;
            RILL_LOG_INFO("broker.txn", "recovery: aborting open transaction id=%s",
                          txn->transactional_id);
            txn_fence(coord, txn);
            acted++;
        } else if (is_prepare(txn->state)) {
            RILL_LOG_INFO("broker.txn", "recovery: completing transaction id=%s state=%s",
                          txn->transactional_id, rb_txn_state_name(txn->state));
            txn_send_markers(coord, txn);
            acted++;
        }
    }
    g_ptr_array_free(ids, TRUE);
    return acted;
}

/* ---- operator views ------------------------------------------------------ */

static void fill_info(const rb__txn_t *txn, rb_txn_info_t *info)
{
    info->transactional_id = txn->transactional_id;
    info->state = txn->state;
    info->timeout_ms = txn->timeout_ms;
    info->start_ms = txn->start_ms;
    info->producer_id = txn->producer_id;
    info->producer_epoch = txn->producer_epoch;
}

bool rb_txn_describe(const rb_txn_coord_t *coord, const char *transactional_id, rb_txn_info_t *info,
                     GArray *partitions, GPtrArray *groups)
{
    const rb__txn_t *txn = g_hash_table_lookup(coord->txns, transactional_id);
    if (txn == NULL)
        return false;
    fill_info(txn, info);
    if (partitions != NULL) {
        GArray *arr = txn_partition_array(txn);
        g_array_append_vals(partitions, arr->data, arr->len);
        g_array_free(arr, TRUE);
    }
    if (groups != NULL)
        for (guint i = 0; i < txn->groups->len; i++)
            g_ptr_array_add(groups, g_ptr_array_index(txn->groups, i));
    return true;
}

static gint cmp_info_id(gconstpointer a, gconstpointer b)
{
    const rb_txn_info_t *x = a;
    const rb_txn_info_t *y = b;
    return strcmp(x->transactional_id, y->transactional_id);
}

void rb_txn_list(const rb_txn_coord_t *coord, const rb_txn_state_t *states, size_t n_states,
                 const int64_t *producer_ids, size_t n_ids, GArray *out)
{
    guint start = out->len;
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, coord->txns);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        const rb__txn_t *txn = value;
        bool state_ok = n_states == 0;
        for (size_t i = 0; i < n_states && !state_ok; i++)
            state_ok = states[i] == txn->state;
        bool id_ok = n_ids == 0;
        for (size_t i = 0; i < n_ids && !id_ok; i++)
            id_ok = producer_ids[i] == txn->producer_id;
        if (!state_ok || !id_ok)
            continue;
        rb_txn_info_t info;
        fill_info(txn, &info);
        g_array_append_val(out, info);
    }
    if (out->len - start > 1)
        qsort(out->data + start * sizeof(rb_txn_info_t), out->len - start, sizeof(rb_txn_info_t),
              cmp_info_id);
}
