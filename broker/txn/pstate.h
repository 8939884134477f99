/* pstate.h: one partition's producer state: idempotent-producer sequence
 * checks (dedupe, OUT_OF_ORDER, fencing), the open transactions that hold
 * back the last stable offset, and the aborted-transactions index that
 * read_committed fetches need -- kept in memory, snapshotted to files, and
 * rebuilt on open from the latest snapshot plus a replay of the log.
 *
 * How the server uses it, per partition (Thread: the broker's loop thread):
 *
 *   open:    ps = rb_pstate_new(dir, &config)
 *            rb_pstate_rebuild(ps, log, &err), which is
 *              rb_pstate_load(ps, log_start, log_end, &from, &err) and, for
 *              each rb_log_read slice from `from` up to log_end,
 *              rb_pstate_replay_fd(ps, slice.fd, slice.pos, slice.len, &next, &err)
 *   produce: err = rb_pstate_check(ps, batch, len, RB_PSTATE_CLIENT, &dup)
 *            err != 0        -> answer err, append nothing
 *            dup.duplicate   -> answer NONE with dup.base_offset, append nothing
 *            otherwise       -> rb_log_append(log, batch, ...) and, if it
 *                               succeeded, rb_pstate_appended(ps, batch, len)
 *   marker:  same three steps with RB_PSTATE_COORDINATOR (see coordinator.h)
 *   fetch:   limit = isolation==read_committed ? rb_pstate_lso(ps, hw) : hw
 *            rb_pstate_aborted_txns(ps, fetch_offset, end_of_data, array)
 *   timers:  rb_pstate_maintain(ps, rb_log_end_offset(log), now) from the
 *            housekeeping timer (expiry + periodic snapshot), and
 *            rb_pstate_snapshot(ps, rb_log_end_offset(log)) at close;
 *            rb_pstate_truncate_head(ps, start) after retention/DeleteRecords.
 *
 * State per producer id (Kafka's ProducerStateEntry): epoch, coordinator
 * epoch, last timestamp, the first offset of its open transaction (-1 if
 * none), and the last 5 appended batches (first/last sequence, first/last
 * offset), which is both the dedupe window and where the next expected
 * sequence comes from.
 *
 * Files in dir (the partition's directory is a fine choice):
 *   <offset, 20 digits>.snapshot  producer state as of <offset> (every batch
 *       below it applied). Format v1: "RBPS", u16 version, u32 CRC-32C of
 *       the rest, i64 offset, i32 count, then per producer i64 id, i16 epoch,
 *       i32 coordinator epoch, i64 last timestamp, i64 txn first offset,
 *       u8 n, n x (i32 first seq, i32 last seq, i64 first offset,
 *       i64 last offset, i64 timestamp). The two newest are kept.
 *   aborted.txnindex  Kafka's .txnindex entries, 34 bytes each: i16 version
 *       0, i64 producer id, i64 first offset, i64 last offset (the ABORT
 *       marker's), i64 last stable offset; in marker order (so sorted by
 *       last offset). Appended when an ABORT marker is applied, fsynced
 *       before every snapshot.
 * Invariants: every aborted entry with last offset below the newest
 * snapshot's offset is durable; load drops entries at or above the snapshot
 * offset it uses, and the replay re-adds them, so a crash anywhere leaves the
 * index equal to what the log says. A snapshot newer than the (recovered,
 * maybe truncated) log end is ignored and deleted. */
#ifndef RB_TXN_PSTATE_H
#define RB_TXN_PSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <glib.h>

#include "broker/log/log.h"
#include "broker/txn/errors.h"

typedef struct rb_pstate rb_pstate_t;

/* Batches per producer kept for dedupe (Kafka's max.in.flight limit). */
#define RB_PSTATE_MAX_BATCHES 5

typedef struct rb_pstate_config {
    int64_t producer_id_expiration_ms; /* producer.id.expiration.ms (default 86400000) */
    int64_t snapshot_interval_ms;      /* rb_pstate_maintain's snapshot period (default 60000) */
} rb_pstate_config_t;

/* Who is appending: a client's Produce, or the coordinator writing a marker. */
typedef enum rb_pstate_origin {
    RB_PSTATE_CLIENT = 0,
    RB_PSTATE_COORDINATOR = 1,
} rb_pstate_origin_t;

/* A duplicate batch's original placement (rb_pstate_check). */
typedef struct rb_pstate_dup {
    bool duplicate;
    int64_t base_offset; /* offsets the original append was given */
    int64_t last_offset;
} rb_pstate_dup_t;

/* An aborted transaction (one .txnindex entry). */
typedef struct rb_aborted_txn {
    int64_t producer_id;
    int64_t first_offset;       /* its first batch */
    int64_t last_offset;        /* its ABORT marker */
    int64_t last_stable_offset; /* the LSO right after the abort */
} rb_aborted_txn_t;

/* A producer as DescribeProducers reports it. */
typedef struct rb_producer_info {
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t last_sequence; /* -1 if no batch known */
    int64_t last_timestamp;
    int32_t coordinator_epoch;        /* -1 if no marker seen */
    int64_t current_txn_start_offset; /* -1 if no open transaction */
} rb_producer_info_t;

/* Creates an empty state whose files live in dir (transfer none, copied;
 * NULL = memory only, nothing persisted). config NULL = defaults. */
rb_pstate_t *rb_pstate_new(const char *dir, const rb_pstate_config_t *config);

/* Frees (closes the index file). Does not snapshot. NULL is a no-op. */
void rb_pstate_free(rb_pstate_t *ps);

/* Removes the files of this state and its directory when that is then empty
 * (topic deletion), then frees it. NULL is a no-op. */
void rb_pstate_delete(rb_pstate_t *ps);

/* Loads the newest usable snapshot at or below log_end and the aborted index,
 * and sets *replay_from: the offset from which the server must replay the log
 * (rb_pstate_replay_fd) up to log_end -- the snapshot's offset, or log_start
 * when there is none. Corrupt snapshots are logged and skipped (older one or
 * full replay); a torn index tail is truncated. Returns false and sets *errmsg
 * only for I/O errors (the directory cannot be read or written). */
bool rb_pstate_load(rb_pstate_t *ps, int64_t log_start, int64_t log_end, int64_t *replay_from,
                    char **errmsg);

/* Applies the whole batches in data[0..len) (back to back, as in a segment),
 * skipping those already applied. Returns the bytes used (complete batches);
 * a trailing partial batch is left for the next call. Returns (size_t)-1 on
 * a malformed batch header. */
size_t rb_pstate_replay(rb_pstate_t *ps, const uint8_t *data, size_t len);

/* Reads fd[pos, pos+len) (an rb_log_read slice) and replays it. Sets
 * *next_offset to the offset after the last batch seen (where the next
 * rb_log_read should start). Returns false and sets *errmsg on read errors or
 * a malformed batch. */
bool rb_pstate_replay_fd(rb_pstate_t *ps, int fd, off_t pos, size_t len, int64_t *next_offset,
                         char **errmsg);

/* The whole open sequence against the partition's log: rb_pstate_load with
 * the log's start and end offsets, then rb_log_read slices from the replay
 * offset to the end, each through rb_pstate_replay_fd. Returns false and sets
 * *errmsg on I/O errors or a malformed batch. */
bool rb_pstate_rebuild(rb_pstate_t *ps, rb_log_t *log, char **errmsg);

/* The check before appending batch[0..len) (a whole record batch v2).
 * Client data batches: a duplicate of one of the producer's last 5 batches
 * answers 0 with dup->duplicate set and the original offsets (do not
 * append); OUT_OF_ORDER_SEQUENCE_NUMBER for a gap or a new epoch not starting
 * at sequence 0; INVALID_PRODUCER_EPOCH for an older epoch; UNKNOWN_PRODUCER_ID
 * for a producer the partition has no state for sending a sequence other
 * than 0; INVALID_TXN_STATE for a non-transactional batch while the producer
 * has a transaction open here; INVALID_RECORD for a client control batch or a
 * producer id without epoch/sequence; CORRUPT_MESSAGE for a short header.
 * Markers (RB_PSTATE_COORDINATOR): PRODUCER_FENCED for an older producer
 * epoch (the coordinator epoch is recorded, not enforced: see pstate.c).
 * Never modifies the state; dup may be NULL only for markers. */
rb_kerr_t rb_pstate_check(const rb_pstate_t *ps, const uint8_t *batch, size_t len,
                          rb_pstate_origin_t origin, rb_pstate_dup_t *dup);

/* The update after batch[0..len) was appended (its base offset now set by the
 * log): records the batch in its producer's window, opens a transaction on a
 * transactional batch, and on a marker closes it (an ABORT also adds an
 * aborted-index entry). Batches without a producer id are ignored. */
void rb_pstate_appended(rb_pstate_t *ps, const uint8_t *batch, size_t len);

/* The last stable offset: the first offset of the oldest open transaction
 * (but not below the log start offset known from rb_pstate_load or
 * rb_pstate_truncate_head), or high_watermark when none is open. */
int64_t rb_pstate_lso(const rb_pstate_t *ps, int64_t high_watermark);

/* First offset of the oldest open transaction, -1 if none. */
int64_t rb_pstate_first_unstable_offset(const rb_pstate_t *ps);

/* Appends to out (a GArray of rb_aborted_txn_t) the aborted transactions that
 * overlap [fetch_offset, upper_offset): last_offset >= fetch_offset and
 * first_offset < upper_offset. upper_offset is the offset after the data a
 * Fetch returns (the LSO is a safe, larger bound). Returns how many. */
size_t rb_pstate_aborted_txns(const rb_pstate_t *ps, int64_t fetch_offset, int64_t upper_offset,
                              GArray *out);

/* Writes a snapshot at offset (the log end offset: every batch below it must
 * have been passed to rb_pstate_appended or replayed), after fsyncing the
 * aborted index, and deletes all but the two newest snapshots. Returns false
 * and sets *errmsg on I/O errors. No-op (true) for a memory-only state. */
bool rb_pstate_snapshot(rb_pstate_t *ps, int64_t offset, char **errmsg);

/* Offset of the newest snapshot written or loaded, -1 if none. */
int64_t rb_pstate_last_snapshot_offset(const rb_pstate_t *ps);

/* Forgets producers without an open transaction whose last timestamp is older
 * than now_ms - producer.id.expiration.ms. Returns how many. */
int rb_pstate_expire(rb_pstate_t *ps, int64_t now_ms);

/* Housekeeping for the server's periodic timer: expires idle producers and,
 * when the state changed since the last snapshot and snapshot_interval_ms has
 * passed (or there is none yet), writes a snapshot at log_end. now_ms is
 * wall-clock time (the same clock as the batches' timestamps). Returns false
 * and sets *errmsg if the snapshot failed (the state itself is fine). */
bool rb_pstate_maintain(rb_pstate_t *ps, int64_t log_end, int64_t now_ms, char **errmsg);

/* After the log start moved to log_start (retention, DeleteRecords): drops
 * aborted-index entries wholly below it (rewriting the index file). */
void rb_pstate_truncate_head(rb_pstate_t *ps, int64_t log_start);

/* Appends every producer (DescribeProducers) to out, a GArray of
 * rb_producer_info_t, in producer id order. */
void rb_pstate_producers(const rb_pstate_t *ps, GArray *out);

/* Number of producers tracked. */
size_t rb_pstate_producer_count(const rb_pstate_t *ps);

#endif /* RB_TXN_PSTATE_H */
