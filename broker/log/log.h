/* log.h: one partition's durable log: a directory of segments holding
 * record batches v2 exactly as producers sent them, with broker-assigned
 * offsets, a sparse offset index and a time index per segment.
 *
 * This header is the contract between log/ (which implements it) and the
 * layers above (server/, later group/ and txn/). All functions run on the
 * broker's loop thread unless stated otherwise; a log may use background
 * threads of its own (e.g. for fsync) but never calls back into callers
 * from them.
 *
 * Layout: <dir> = <log.dirs>/<topic>-<partition>/ holding
 *   00000000000000000000.log        record batches, back to back
 *   00000000000000000000.index      sparse offset index (relative offset -> file position)
 *   00000000000000000000.timeindex  sparse time index (max timestamp -> relative offset)
 * named by the segment's base offset (20 digits, like Kafka), plus a small
 * checkpoint of the log start offset (rill-log.checkpoint, which also holds
 * the recovery point) and, only while the log is closed cleanly,
 * rill-log.clean-shutdown.
 *
 * Invariants:
 *   - start_offset <= end_offset; offsets are dense, assigned at append,
 *     and never rewritten (compaction, later, removes batches but keeps
 *     offsets).
 *   - Every batch in a .log file has a valid CRC-32C; recovery (on open)
 *     scans the tail of the active segment (and of any segment newer than
 *     the last clean shutdown marker) and truncates at the first torn or
 *     corrupt batch, with a log line saying how many bytes were cut.
 *   - The active (last) segment is the only one written to (compaction
 *     replaces a sealed segment whole, by renaming a rewritten copy over it).
 */
#ifndef RB_LOG_H
#define RB_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef struct rb_log rb_log_t;

/* Per-topic settings (Kafka's topic config names in comments). -1 = unlimited. */
typedef struct rb_log_config {
    int64_t segment_bytes;        /* segment.bytes */
    int64_t segment_ms;           /* segment.ms */
    int64_t retention_bytes;      /* retention.bytes */
    int64_t retention_ms;         /* retention.ms */
    int64_t flush_messages;       /* flush.messages: fsync after this many records */
    int64_t flush_ms;             /* flush.ms: fsync when the oldest unflushed write is this old */
    bool fsync_on_append;         /* fsync before rb_log_append returns (acks durability mode) */
    int32_t index_interval_bytes; /* index.interval.bytes */
    int32_t max_message_bytes;    /* max.message.bytes: largest batch accepted */
    bool timestamp_log_append;    /* message.timestamp.type=LogAppendTime */
    bool compact;                 /* cleanup.policy contains compact */
    bool delete_;                 /* cleanup.policy contains delete */
    int64_t delete_retention_ms;  /* delete.retention.ms (tombstones, compaction) */
    double min_cleanable_dirty_ratio; /* min.cleanable.dirty.ratio; <= 0: the default 0.5 */
    int64_t min_compaction_lag_ms;    /* min.compaction.lag.ms: younger records stay (0: none) */
} rb_log_config_t;

/* Fills config with Kafka's defaults (segment.bytes 1 GiB, segment.ms and
 * retention.ms 7 days, retention.bytes -1, flush.* -1, index.interval.bytes
 * 4096, max.message.bytes 1048588, cleanup.policy delete,
 * delete.retention.ms 1 day, min.cleanable.dirty.ratio 0.5). Values <= 0 of segment_bytes and
 * index_interval_bytes mean the defaults' limits (2 GiB - 1, 4096); a config
 * with neither compact nor delete_ set is treated as delete (Kafka's default). */
void rb_log_config_init(rb_log_config_t *config);

/* Errors are Kafka error codes (int16), so that the server answers them as is:
 * 0 NONE, 2 CORRUPT_MESSAGE, 10 MESSAGE_TOO_LARGE, 87 INVALID_RECORD,
 * 1 OFFSET_OUT_OF_RANGE, -1 UNKNOWN_SERVER_ERROR (I/O: disk full...). */
typedef int16_t rb_kerr_t;

/* Opens (creating if needed) the log in dir and recovers it. On failure returns
 * NULL and sets *errmsg (g_free it). */
rb_log_t *rb_log_open(const char *dir, const rb_log_config_t *config, char **errmsg);

/* Closes: flushes, writes the clean-shutdown marker, frees. NULL is a no-op. */
void rb_log_close(rb_log_t *log);

/* Closes and removes the directory (topic deletion). */
void rb_log_delete(rb_log_t *log);

/* Replaces the settings (AlterConfigs). */
void rb_log_set_config(rb_log_t *log, const rb_log_config_t *config);

/* What an append did. */
typedef struct rb_append_info {
    int64_t base_offset;    /* offset given to the first record */
    int64_t last_offset;    /* offset of the last record */
    int64_t log_append_time;/* broker time used for LogAppendTime, else -1 */
    int64_t max_timestamp;  /* the batch's max timestamp */
    int32_t record_count;
} rb_append_info_t;

/* Appends one record batch v2 (magic 2). batch is modified in place: the
 * base offset (and partition leader epoch, and for LogAppendTime the
 * timestamps and CRC) are set before the bytes are written. Validates the
 * magic, the batch length, the CRC and max.message.bytes; an invalid batch is
 * rejected with an error and nothing is written. now_ms is wall-clock time.
 * Returns 0 or a Kafka error code. */
rb_kerr_t rb_log_append(rb_log_t *log, uint8_t *batch, size_t len, int64_t now_ms,
                        rb_append_info_t *info);

/* Offsets. end_offset is the log end offset (next offset to assign); on a
 * single node it is also the high watermark. */
int64_t rb_log_start_offset(const rb_log_t *log);
int64_t rb_log_end_offset(const rb_log_t *log);

/* A range of a segment file to send with sendfile. */
typedef struct rb_log_slice {
    int fd;          /* borrowed: valid until the next call that modifies the log */
    off_t pos;       /* file position of the first byte */
    size_t len;      /* 0 if nothing to read */
} rb_log_slice_t;

/* Finds the batches holding offset..limit_offset-1 (limit_offset is the high
 * watermark, or the last stable offset for read_committed), from the start of
 * the batch that contains offset, at most max_bytes -- but always at least one
 * whole batch if any is readable (KIP-74), so a large batch never blocks a
 * consumer. Data comes from one segment per call, as in Kafka.
 * Returns 0, or 1 OFFSET_OUT_OF_RANGE if offset < start or offset > end
 * (or -1 UNKNOWN_SERVER_ERROR if the segment cannot be read).
 * The slice ends on a batch boundary: at the segment's end, at the batch
 * boundary of limit_offset (the batch holding limit_offset - 1 is included),
 * or at the last boundary within max_bytes. offset == end gives len 0. */
rb_kerr_t rb_log_read(rb_log_t *log, int64_t offset, int64_t limit_offset, size_t max_bytes,
                      rb_log_slice_t *slice);

/* ListOffsets by timestamp: the first offset whose batch max timestamp is >=
 * ts, or -1 if none. Within an uncompressed CreateTime batch this is the
 * first record with a timestamp >= ts (as Kafka); never below the start offset. */
int64_t rb_log_offset_for_time(rb_log_t *log, int64_t ts);

/* ListOffsets MAX_TIMESTAMP (-3, KIP-734): the offset of the first record
 * with the largest timestamp, which goes to *timestamp; -1 (and -1) if the
 * log is empty. */
int64_t rb_log_max_timestamp(rb_log_t *log, int64_t *timestamp);

/* DeleteRecords: moves the log start offset to offset (<= end offset), and
 * deletes segments wholly below it. Returns 0 or OFFSET_OUT_OF_RANGE. */
rb_kerr_t rb_log_delete_records(rb_log_t *log, int64_t offset);

/* Housekeeping, called periodically by the server: rolls the active segment
 * by segment.ms, applies retention by time and size (never deleting the
 * active segment), compacts compact topics (see rb_log_compact), and fsyncs
 * by flush.ms (a backstop: the server's flush timer, rb_log_flush_tick, is
 * what keeps flush.ms on time). Returns the number of segments deleted. */
int rb_log_maintain(rb_log_t *log, int64_t now_ms);

/* flush.ms: when the oldest unflushed write comes due for its fsync (wall
 * ms, as the now_ms of rb_log_append), or -1 if nothing is waiting or
 * flush.ms is off. The server keeps a timer on the earliest of these. */
int64_t rb_log_flush_due(const rb_log_t *log);

/* The flush timer's work for one log: if flush.ms has come due, hands the
 * unflushed segments to the background flusher (the recovery point moves
 * when it is done). Returns rb_log_flush_due afterwards. */
int64_t rb_log_flush_tick(rb_log_t *log, int64_t now_ms);

/* Compacts the sealed segments now (cleanup.policy=compact): keeps the latest
 * record of each key (compressed batches are decompressed and rewritten with
 * their codec), drops tombstones older than delete.retention.ms, removes the
 * records of aborted transactions (and, later, emptied transactions' markers:
 * see cleaner.c), keeps every offset. Waits for the pass, which runs on the
 * process's cleaner thread.
 * Returns the bytes removed, or -1 on an I/O error. rb_log_maintain does the
 * same for compact topics without waiting: it starts a pass when at least
 * min.cleanable.dirty.ratio of the sealed bytes are new since the last (or a
 * kept tombstone has expired), and installs the result
 * at a later call. */
int64_t rb_log_compact(rb_log_t *log, int64_t now_ms);

/* The memory of the cleaner's key map (Kafka's log.cleaner.dedupe.buffer.size;
 * 24 bytes a key, filled to 90%): a pass maps at most that many keys and the
 * next pass goes on from there. 0 restores the default. Any thread. */
#define RB_CLEANER_MAP_BYTES ((size_t)32 << 20)
void rb_log_cleaner_set_map_bytes(size_t bytes);

/* fsyncs everything written so far. Returns 0 or -1 (I/O error). */
int rb_log_flush(rb_log_t *log);

/* Total bytes on disk of the log's segments. */
int64_t rb_log_size_bytes(const rb_log_t *log);

/* The offset below which everything is known to be fsynced (what recovery
 * after a crash trusts). Background fsyncs move it. */
int64_t rb_log_recovery_point(rb_log_t *log);

/* Number of segments (tests, metrics). */
size_t rb_log_segment_count(const rb_log_t *log);

/* For tests of recovery: frees the log as a crash would leave it -- nothing
 * flushed, no index written, no clean-shutdown marker. */
void rb_log_abandon(rb_log_t *log);

#endif /* RB_LOG_H */
