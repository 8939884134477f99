/* txnlog.h: the transaction log: the coordinator's durable record of every
 * transactional id's state, replayed on open.
 *
 * Why a file of our own and not a __transaction_state topic: on one node the
 * topic would buy nothing that a file does not give (no replication, no
 * partition leadership to move), and it would tie the coordinator to the
 * partition log's compaction and to a topic clients can see in Metadata. A
 * small append-only file with a CRC per record, fsynced per write and
 * compacted by rewriting it whole, is simpler to make crash-safe and to test.
 *
 * Format: records back to back, each
 *     u32 payload length, u32 CRC-32C of the payload, payload
 * payload: u8 kind, then
 *     kind 'E' (coordinator epoch): i32 epoch
 *     kind 'T' (a transactional id's state, the last one wins):
 *         u8 version 0, str transactional id, i64 producer id,
 *         i64 last producer id, i16 epoch, i16 last epoch, i32 timeout ms,
 *         u8 state (rb_txn_state_t; DEAD is a tombstone), i64 start ms,
 *         i64 update ms, i32 partition count, (str topic, i32 partition)...,
 *         i32 group count, str group...
 *     (str = i16 length + bytes; integers big-endian.)
 * Recovery: a record whose length runs past the end of the file or whose CRC
 * does not match ends the log; the file is cut there (a torn last write),
 * with a log line saying how many bytes were dropped.
 * Compaction: the coordinator rewrites the file (temp + fsync + rename) with
 * one record per live id once the file holds many more records than ids. */
#ifndef RB_TXN_TXNLOG_H
#define RB_TXN_TXNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "broker/txn/coordinator.h"
#include "common/buf.h"

typedef struct rb_txnlog rb_txnlog_t;

/* One 'T' record, decoded. Strings borrowed from the record's bytes while
 * being read; owned by the caller when writing. */
typedef struct rb_txnlog_txn {
    const char *transactional_id;
    int64_t producer_id;
    int64_t last_producer_id;
    int16_t producer_epoch;
    int16_t last_producer_epoch;
    int32_t timeout_ms;
    rb_txn_state_t state;
    int64_t start_ms;
    int64_t update_ms;
    GArray *partitions; /* rb_txn_partition_t */
    GPtrArray *groups;  /* const char * */
} rb_txnlog_txn_t;

/* Called for each record found at open; the record is borrowed for the call. */
typedef struct rb_txnlog_reader {
    void *ctx;
    void (*epoch)(void *ctx, int32_t coordinator_epoch);
    void (*txn)(void *ctx, const rb_txnlog_txn_t *txn);
} rb_txnlog_reader_t;

/* Opens (creating) path, replaying its records into reader and cutting a torn
 * tail. Returns NULL and sets *errmsg on I/O errors or a malformed record that
 * has a valid CRC (a bug, not a crash: refuse rather than lose states). */
rb_txnlog_t *rb_txnlog_open(const char *path, bool sync, const rb_txnlog_reader_t *reader,
                            char **errmsg);
void rb_txnlog_close(rb_txnlog_t *log);

/* Encoders of payloads into w (appended). */
void rb_txnlog_encode_epoch(rill_wbuf_t *w, int32_t coordinator_epoch);
void rb_txnlog_encode_txn(rill_wbuf_t *w, const rb_txnlog_txn_t *txn);

/* Appends one payload: written, and fsynced when sync and the log's fsync
 * setting are both true. Returns false and sets *errmsg on I/O errors; the
 * file is then cut back to its previous length so that it never holds half a
 * record followed by good ones. */
bool rb_txnlog_append(rb_txnlog_t *log, const uint8_t *payload, size_t len, bool sync,
                      char **errmsg);

/* Replaces the whole file with the payloads in w, a buffer of records as
 * framed by rb_txnlog_frame(). */
bool rb_txnlog_rewrite(rb_txnlog_t *log, const rill_wbuf_t *framed, char **errmsg);

/* Appends payload[0..len) to out with its length and CRC. */
void rb_txnlog_frame(rill_wbuf_t *out, const uint8_t *payload, size_t len);

/* Records appended since open or the last rewrite (and found at open). */
int64_t rb_txnlog_record_count(const rb_txnlog_t *log);

#endif /* RB_TXN_TXNLOG_H */
