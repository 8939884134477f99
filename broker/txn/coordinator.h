/* coordinator.h: the transaction coordinator: InitProducerId (for idempotent
 * and transactional producers), AddPartitionsToTxn, AddOffsetsToTxn, EndTxn,
 * the check TxnOffsetCommit needs, transaction timeouts, commit/abort
 * markers, and the durable transaction log that lets a restarted broker
 * finish what was in flight. The state machine is drawn in coordinator.c.
 *
 * The request handlers call these with decoded request fields and put the
 * returned error in the response after rb_txn_error_for_version() (errors.h):
 *
 *   InitProducerId   rb_txn_init_producer_id(coord, TransactionalId (NULL if
 *                      null), TransactionTimeoutMs, ProducerId, ProducerEpoch
 *                      (-1/-1 before v3), &ProducerId, &ProducerEpoch)
 *   AddPartitionsToTxn  (v0-3; the server first answers unknown topics with
 *                      UNKNOWN_TOPIC_OR_PARTITION and every other partition
 *                      with OPERATION_NOT_ATTEMPTED, without calling this)
 *                    err = rb_txn_add_partitions(coord, TransactionalId,
 *                      ProducerId, ProducerEpoch, partitions, n); the same err
 *                      for every partition of the response
 *   AddOffsetsToTxn  rb_txn_add_offsets(coord, TransactionalId, ProducerId,
 *                      ProducerEpoch, GroupId)
 *   EndTxn           rb_txn_end(coord, TransactionalId, ProducerId,
 *                      ProducerEpoch, Committed)
 *   TxnOffsetCommit  rb_txn_verify_offset_commit(coord, TransactionalId,
 *                      ProducerId, ProducerEpoch, GroupId) first; if 0, the
 *                      group coordinator stores the offsets as pending for
 *                      ProducerId until hooks->end_group_txn says commit/abort
 *   DescribeTransactions / ListTransactions: rb_txn_describe / rb_txn_list
 *
 * The server implements two hooks (rb_txn_hooks_t), both synchronous:
 *   write_marker   append the given marker batch to topic-partition: exactly
 *                  the produce path with RB_PSTATE_COORDINATOR --
 *                  rb_pstate_check, rb_log_append, rb_pstate_appended -- and
 *                  return 0 or the error. A partition that no longer exists
 *                  (deleted topic) returns 0: nothing is left to mark.
 *   end_group_txn  the group coordinator materializes (commit) or discards
 *                  (abort) the offsets TxnOffsetCommit stored as pending for
 *                  producer_id in group_id; a group with nothing pending for it
 *                  returns 0 (calls may repeat after a restart).
 * A hook that fails leaves the transaction in PrepareCommit/PrepareAbort
 * (clients get CONCURRENT_TRANSACTIONS); rb_txn_tick() retries it -- except
 * write_marker answering PRODUCER_FENCED or TRANSACTION_COORDINATOR_FENCED
 * (rb_pstate_check's verdict on an obsolete marker), which counts as done.
 * Hooks must not call back into the coordinator.
 *
 * Time: hooks->now_ms (wall clock, ms) is read for transaction start times,
 * timeouts and expiry; tests pass a fake clock. The server calls
 * rb_txn_tick() from a timer, by rb_txn_next_deadline() or at least every
 * second. Thread: the broker's loop thread, for every function.
 *
 * Files in dir: transaction.log (see txnlog.h for the format and why it is
 * a file of our own rather than a __transaction_state topic) and
 * producer_id.block (pid.h). */
#ifndef RB_TXN_COORDINATOR_H
#define RB_TXN_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "broker/txn/errors.h"

typedef struct rb_txn_coord rb_txn_coord_t;

/* The states of a transactional id (Kafka's TransactionState). */
typedef enum rb_txn_state {
    RB_TXN_EMPTY = 0,
    RB_TXN_ONGOING = 1,
    RB_TXN_PREPARE_COMMIT = 2,
    RB_TXN_PREPARE_ABORT = 3,
    RB_TXN_COMPLETE_COMMIT = 4,
    RB_TXN_COMPLETE_ABORT = 5,
    RB_TXN_DEAD = 6,
    RB_TXN_PREPARE_EPOCH_FENCE = 7,
} rb_txn_state_t;

/* A partition in a transaction (topic borrowed or owned as documented). */
typedef struct rb_txn_partition {
    const char *topic;
    int32_t partition;
} rb_txn_partition_t;

typedef struct rb_txn_hooks {
    void *ctx;
    /* Wall-clock ms. NULL: the real clock. */
    int64_t (*now_ms)(void *ctx);
    /* Appends batch[0..len) (a marker, modifiable in place) to the partition. */
    rb_kerr_t (*write_marker)(void *ctx, const char *topic, int32_t partition, uint8_t *batch,
                              size_t len);
    /* Commits or aborts group_id's pending transactional offsets of producer_id. */
    rb_kerr_t (*end_group_txn)(void *ctx, const char *group_id, int64_t producer_id,
                               int16_t producer_epoch, bool commit);
} rb_txn_hooks_t;

typedef struct rb_txn_config {
    int32_t max_timeout_ms;   /* transaction.max.timeout.ms (default 900000) */
    int64_t id_expiration_ms; /* transactional.id.expiration.ms (default 604800000) */
    int64_t retry_backoff_ms; /* between failed marker writes (default 100) */
    bool fsync;               /* fsync the transaction log on every write (default true) */
} rb_txn_config_t;

/* Fills config with Kafka's defaults. */
void rb_txn_config_defaults(rb_txn_config_t *config);

/* Opens (creating) the coordinator's files in dir and loads the transaction
 * log, bumping the coordinator epoch. In-flight transactions are not touched
 * until rb_txn_recover(). hooks is copied. Returns NULL and sets *errmsg
 * (g_free it) when dir cannot be used or a file is unreadable. */
rb_txn_coord_t *rb_txn_open(const char *dir, const rb_txn_config_t *config,
                            const rb_txn_hooks_t *hooks, char **errmsg);

/* Completes what the last run left in flight (call once the partition logs
 * are open): PrepareCommit -> commit markers -> CompleteCommit,
 * PrepareAbort -> abort markers -> CompleteAbort, and Ongoing -> epoch bump
 * (fencing the old producer) -> PrepareAbort -> ... -> CompleteAbort.
 * Returns how many transactions it acted on. */
int rb_txn_recover(rb_txn_coord_t *coord);

/* Frees. NULL is a no-op. */
void rb_txn_close(rb_txn_coord_t *coord);

/* InitProducerId. transactional_id NULL: an idempotent producer, which gets a
 * new producer id with epoch 0 -- or, when it passes the id/epoch this
 * coordinator last gave it (KIP-360), the same id with the epoch bumped.
 * With a transactional id: a new one gets a new producer id, epoch 0; a known
 * one keeps its id with the epoch bumped (fencing the previous epoch), a new
 * id when the epoch is exhausted; an Ongoing transaction is aborted first
 * (answer CONCURRENT_TRANSACTIONS; the client retries). Errors:
 * INVALID_REQUEST (empty id), INVALID_TRANSACTION_TIMEOUT (timeout_ms <= 0 or
 * > transaction.max.timeout.ms), CONCURRENT_TRANSACTIONS, PRODUCER_FENCED
 * (producer_id/epoch given but stale), COORDINATOR_NOT_AVAILABLE (I/O). */
rb_kerr_t rb_txn_init_producer_id(rb_txn_coord_t *coord, const char *transactional_id,
                                  int32_t timeout_ms, int64_t producer_id, int16_t producer_epoch,
                                  int64_t *out_producer_id, int16_t *out_producer_epoch);

/* AddPartitionsToTxn: adds partitions[0..n) to the transaction, starting it
 * (Ongoing) if none is open. Errors: INVALID_PRODUCER_ID_MAPPING (unknown id
 * or another producer id), PRODUCER_FENCED, CONCURRENT_TRANSACTIONS (the
 * previous commit/abort is still being completed), COORDINATOR_NOT_AVAILABLE. */
rb_kerr_t rb_txn_add_partitions(rb_txn_coord_t *coord, const char *transactional_id,
                                int64_t producer_id, int16_t producer_epoch,
                                const rb_txn_partition_t *partitions, size_t n);

/* AddOffsetsToTxn: adds group_id (whose offsets TxnOffsetCommit will send)
 * to the transaction. Errors as rb_txn_add_partitions. */
rb_kerr_t rb_txn_add_offsets(rb_txn_coord_t *coord, const char *transactional_id,
                             int64_t producer_id, int16_t producer_epoch, const char *group_id);

/* EndTxn: commit (true) or abort. Ongoing -> PrepareX (durable) -> markers to
 * every partition + end_group_txn for every group -> CompleteX. Answers 0 once
 * PrepareX is durable, even if some marker must be retried. A retried EndTxn
 * after completion answers 0. Errors: INVALID_PRODUCER_ID_MAPPING,
 * PRODUCER_FENCED, CONCURRENT_TRANSACTIONS (still completing the same
 * outcome), INVALID_TXN_STATE (no transaction, or the opposite outcome),
 * COORDINATOR_NOT_AVAILABLE. */
rb_kerr_t rb_txn_end(rb_txn_coord_t *coord, const char *transactional_id, int64_t producer_id,
                     int16_t producer_epoch, bool commit);

/* The check of a TxnOffsetCommit: 0 if transactional_id's Ongoing transaction
 * belongs to producer_id/epoch and includes group_id (AddOffsetsToTxn);
 * INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED or INVALID_TXN_STATE otherwise. */
rb_kerr_t rb_txn_verify_offset_commit(rb_txn_coord_t *coord, const char *transactional_id,
                                      int64_t producer_id, int16_t producer_epoch,
                                      const char *group_id);

/* The check of a transactional Produce batch (KIP-890's verification, which
 * closes the window where a fenced producer could still write to a partition
 * its successor has not touched yet): 0 if producer_id's transaction is
 * Ongoing with exactly producer_epoch and includes topic-partition;
 * INVALID_PRODUCER_EPOCH for another epoch (fenced), INVALID_TXN_STATE when
 * no transaction is open or the partition was not added to it,
 * INVALID_PRODUCER_ID_MAPPING for a producer id no transactional id has.
 * Call it after rb_pstate_check (a duplicate is answered before it). */
rb_kerr_t rb_txn_verify_produce(rb_txn_coord_t *coord, int64_t producer_id, int16_t producer_epoch,
                                const char *topic, int32_t partition);

/* Aborts timed-out transactions (bumping the epoch: the zombie is fenced),
 * retries failed marker writes, expires idle transactional ids (Dead). */
void rb_txn_tick(rb_txn_coord_t *coord);

/* When rb_txn_tick next has something to do (ms, same clock), INT64_MAX if never. */
int64_t rb_txn_next_deadline(const rb_txn_coord_t *coord);

/* The coordinator epoch written in markers (bumped on every open). */
int32_t rb_txn_coordinator_epoch(const rb_txn_coord_t *coord);

/* Kafka's name of a state ("Empty", "Ongoing", "PrepareCommit", ...), and
 * back (-1 for an unknown name, which ListTransactions reports). */
const char *rb_txn_state_name(rb_txn_state_t state);
int rb_txn_state_from_name(const char *name);

/* DescribeTransactions: one transactional id. */
typedef struct rb_txn_info {
    const char *transactional_id; /* borrowed until the coordinator is next modified */
    rb_txn_state_t state;
    int32_t timeout_ms;
    int64_t start_ms; /* -1 when no transaction is open */
    int64_t producer_id;
    int16_t producer_epoch;
} rb_txn_info_t;

/* Fills info and appends the transaction's partitions to partitions (a GArray
 * of rb_txn_partition_t whose topics are borrowed like info's strings), and
 * its groups to groups (GPtrArray of borrowed const char *, may be NULL).
 * Returns false if the id is unknown (TRANSACTIONAL_ID_NOT_FOUND). */
bool rb_txn_describe(const rb_txn_coord_t *coord, const char *transactional_id, rb_txn_info_t *info,
                     GArray *partitions, GPtrArray *groups);

/* ListTransactions: appends to out (GArray of rb_txn_info_t) every transaction
 * whose state is in states[0..n_states) and producer id in
 * producer_ids[0..n_ids) (an empty filter matches all), sorted by id. */
void rb_txn_list(const rb_txn_coord_t *coord, const rb_txn_state_t *states, size_t n_states,
                 const int64_t *producer_ids, size_t n_ids, GArray *out);

#endif /* RB_TXN_COORDINATOR_H */
