/* batch.h: Kafka record batch v2 (magic 2): validation, header accessors and
 * in-place rewrites, an iterator over the records of an uncompressed batch,
 * and a builder that writes an uncompressed batch.
 *
 * Design note. A batch is kept as the bytes the producer sent; nothing here
 * copies or decodes a batch into a structure. Accessors read the fixed
 * 61-byte header straight from memory (big-endian), setters patch it in place.
 * The CRC-32C covers bytes 21 (attributes) to the end, so the base offset and
 * the partition leader epoch can be rewritten freely, while anything that
 * touches attributes or timestamps recomputes the CRC (rb_batch_set_log_append_time).
 *
 *   0 baseOffset i64 | 8 batchLength i32 | 12 partitionLeaderEpoch i32 | 16 magic i8
 *   17 crc u32 | 21 attributes i16 | 23 lastOffsetDelta i32 | 27 baseTimestamp i64
 *   35 maxTimestamp i64 | 43 producerId i64 | 51 producerEpoch i16
 *   53 baseSequence i32 | 57 recordsCount i32 | 61 records...
 *
 * Validation has two levels, both without allocation:
 *   rb_batch_check()    structure only: header size, magic, batchLength, CRC.
 *                       What recovery runs on every batch of a segment.
 *   rb_batch_validate() what a produced batch must satisfy before it is
 *                       appended: exactly one batch, a sane record count and
 *                       offset range and, when uncompressed, records that
 *                       parse with offset deltas 0..n-1.
 * Errors are Kafka error codes (rb_kerr_t of log.h).
 *
 * Records use zigzag varints (rill__zigzag_*): length, attributes i8,
 * timestampDelta, offsetDelta, key, value, headers. A length of -1 is null.
 */
#ifndef RB_LOG_BATCH_H
#define RB_LOG_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#include "broker/log/log.h"

#define RB_BATCH_HEADER_SIZE 61 /* fixed header, records follow */
#define RB_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength: not counted in batchLength */
#define RB_BATCH_MAGIC 2

/* Byte positions of the header fields. */
enum {
    RB_BATCH_OFF_BASE_OFFSET = 0,
    RB_BATCH_OFF_LENGTH = 8,
    RB_BATCH_OFF_LEADER_EPOCH = 12,
    RB_BATCH_OFF_MAGIC = 16,
    RB_BATCH_OFF_CRC = 17,
    RB_BATCH_OFF_ATTRIBUTES = 21,
    RB_BATCH_OFF_LAST_OFFSET_DELTA = 23,
    RB_BATCH_OFF_BASE_TIMESTAMP = 27,
    RB_BATCH_OFF_MAX_TIMESTAMP = 35,
    RB_BATCH_OFF_PRODUCER_ID = 43,
    RB_BATCH_OFF_PRODUCER_EPOCH = 51,
    RB_BATCH_OFF_BASE_SEQUENCE = 53,
    RB_BATCH_OFF_RECORDS_COUNT = 57,
};

/* Attribute bits. */
#define RB_BATCH_ATTR_COMPRESSION_MASK 0x07
#define RB_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define RB_BATCH_ATTR_TRANSACTIONAL 0x10
#define RB_BATCH_ATTR_CONTROL 0x20
#define RB_BATCH_ATTR_DELETE_HORIZON 0x40

typedef enum rb_compression {
    RB_COMPRESSION_NONE = 0,
    RB_COMPRESSION_GZIP = 1,
    RB_COMPRESSION_SNAPPY = 2,
    RB_COMPRESSION_LZ4 = 3,
    RB_COMPRESSION_ZSTD = 4,
} rb_compression_t;

/* Kafka error codes the log returns (rb_kerr_t values). */
#define RB_LOG_ERR_NONE 0
#define RB_LOG_ERR_OFFSET_OUT_OF_RANGE 1
#define RB_LOG_ERR_CORRUPT_MESSAGE 2
#define RB_LOG_ERR_MESSAGE_TOO_LARGE 10
#define RB_LOG_ERR_INVALID_RECORD 87
#define RB_LOG_ERR_UNKNOWN_SERVER_ERROR (-1)

/* ---- header accessors (p points at byte 0 of a batch of at least
 *      RB_BATCH_HEADER_SIZE bytes; no checks) ---------------------------- */

static inline int64_t rb_batch_base_offset(const uint8_t *p)
{
    return (int64_t)rill__be64_get(p + RB_BATCH_OFF_BASE_OFFSET);
}
/* batchLength: bytes after the first 12. */
static inline int32_t rb_batch_length(const uint8_t *p)
{
    return (int32_t)rill__be32_get(p + RB_BATCH_OFF_LENGTH);
}
/* Whole size of the batch: batchLength + 12. */
static inline size_t rb_batch_size(const uint8_t *p)
{
    return (size_t)(uint32_t)rb_batch_length(p) + RB_BATCH_LOG_OVERHEAD;
}
static inline int32_t rb_batch_leader_epoch(const uint8_t *p)
{
    return (int32_t)rill__be32_get(p + RB_BATCH_OFF_LEADER_EPOCH);
}
static inline int8_t rb_batch_magic(const uint8_t *p)
{
    return (int8_t)p[RB_BATCH_OFF_MAGIC];
}
static inline uint32_t rb_batch_crc(const uint8_t *p)
{
    return rill__be32_get(p + RB_BATCH_OFF_CRC);
}
static inline int16_t rb_batch_attributes(const uint8_t *p)
{
    return (int16_t)rill__be16_get(p + RB_BATCH_OFF_ATTRIBUTES);
}
static inline rb_compression_t rb_batch_compression(const uint8_t *p)
{
    return (rb_compression_t)(rb_batch_attributes(p) & RB_BATCH_ATTR_COMPRESSION_MASK);
}
static inline bool rb_batch_is_log_append_time(const uint8_t *p)
{
    return (rb_batch_attributes(p) & RB_BATCH_ATTR_LOG_APPEND_TIME) != 0;
}
static inline bool rb_batch_is_transactional(const uint8_t *p)
{
    return (rb_batch_attributes(p) & RB_BATCH_ATTR_TRANSACTIONAL) != 0;
}
static inline bool rb_batch_is_control(const uint8_t *p)
{
    return (rb_batch_attributes(p) & RB_BATCH_ATTR_CONTROL) != 0;
}
static inline int32_t rb_batch_last_offset_delta(const uint8_t *p)
{
    return (int32_t)rill__be32_get(p + RB_BATCH_OFF_LAST_OFFSET_DELTA);
}
/* (Offsets arithmetic wraps rather than overflows on a garbage header.) */
static inline int64_t rb_batch_last_offset(const uint8_t *p)
{
    return (int64_t)((uint64_t)rb_batch_base_offset(p) +
                     (uint64_t)(int64_t)rb_batch_last_offset_delta(p));
}
/* Offset after the batch: last offset + 1. */
static inline int64_t rb_batch_next_offset(const uint8_t *p)
{
    return (int64_t)((uint64_t)rb_batch_last_offset(p) + 1);
}
static inline int64_t rb_batch_base_timestamp(const uint8_t *p)
{
    return (int64_t)rill__be64_get(p + RB_BATCH_OFF_BASE_TIMESTAMP);
}
static inline int64_t rb_batch_max_timestamp(const uint8_t *p)
{
    return (int64_t)rill__be64_get(p + RB_BATCH_OFF_MAX_TIMESTAMP);
}
static inline int64_t rb_batch_producer_id(const uint8_t *p)
{
    return (int64_t)rill__be64_get(p + RB_BATCH_OFF_PRODUCER_ID);
}
static inline int16_t rb_batch_producer_epoch(const uint8_t *p)
{
    return (int16_t)rill__be16_get(p + RB_BATCH_OFF_PRODUCER_EPOCH);
}
static inline int32_t rb_batch_base_sequence(const uint8_t *p)
{
    return (int32_t)rill__be32_get(p + RB_BATCH_OFF_BASE_SEQUENCE);
}
static inline int32_t rb_batch_records_count(const uint8_t *p)
{
    return (int32_t)rill__be32_get(p + RB_BATCH_OFF_RECORDS_COUNT);
}

/* ---- in-place rewrites that leave the CRC valid ----------------------- */

static inline void rb_batch_set_base_offset(uint8_t *p, int64_t base_offset)
{
    rill__be64_put(p + RB_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}
static inline void rb_batch_set_leader_epoch(uint8_t *p, int32_t epoch)
{
    rill__be32_put(p + RB_BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

/* CRC-32C of bytes 21..len (what the crc field must hold). */
uint32_t rb_batch_compute_crc(const uint8_t *p, size_t len);

/* Recomputes and stores the CRC of a batch of len bytes. */
void rb_batch_update_crc(uint8_t *p, size_t len);

/* Marks the batch LogAppendTime with the broker time ts: sets attribute bit 3
 * and maxTimestamp, and recomputes the CRC. */
void rb_batch_set_log_append_time(uint8_t *p, size_t len, int64_t ts);

/* Sets maxTimestamp (CreateTime) and recomputes the CRC. */
void rb_batch_set_max_timestamp(uint8_t *p, size_t len, int64_t ts);

/* ---- validation -------------------------------------------------------- */

/* Structural check of the batch at the start of p[0..len): len holds at least
 * the header, magic is 2, batchLength covers at least the header and fits in
 * len, and the CRC matches. On success stores the batch size (batchLength+12)
 * in *size (which may be smaller than len: more batches may follow).
 * Returns 0, CORRUPT_MESSAGE (short, bad length or CRC) or INVALID_RECORD
 * (magic is not 2). */
rb_kerr_t rb_batch_check(const uint8_t *p, size_t len, size_t *size);

/* What rb_batch_validate learnt about a valid batch. */
typedef struct rb_batch_info {
    int32_t record_count;
    int64_t max_timestamp; /* from the records when uncompressed, else the header's */
    bool compressed;
    bool null_key; /* an uncompressed record has a null key */
} rb_batch_info_t;

/* Validates a produced batch: p[0..len) must hold exactly one batch that
 * passes rb_batch_check, with recordsCount >= 1 and lastOffsetDelta ==
 * recordsCount - 1, a known compression codec, and a transactional batch must
 * carry a producer id. Uncompressed records are walked: each must fit its
 * length, offset deltas must run 0..n-1 and there must be exactly
 * recordsCount of them. info may be NULL.
 * Returns 0, CORRUPT_MESSAGE or INVALID_RECORD. */
rb_kerr_t rb_batch_validate(const uint8_t *p, size_t len, rb_batch_info_t *info);

/* ---- records of an uncompressed batch ---------------------------------- */

typedef struct rb_record_header {
    const uint8_t *key; /* never NULL for a valid header (may be empty) */
    int32_t key_len;
    const uint8_t *value; /* NULL when value_len == -1 */
    int32_t value_len;
} rb_record_header_t;

/* One record, pointing into the batch (transfer none: valid as long as the
 * batch bytes are). */
typedef struct rb_record {
    int64_t offset;    /* base offset + offset delta */
    int64_t timestamp; /* base timestamp + delta, or maxTimestamp for LogAppendTime */
    int8_t attributes;
    const uint8_t *key; /* NULL when key_len == -1 */
    int32_t key_len;
    const uint8_t *value; /* NULL when value_len == -1 (a tombstone) */
    int32_t value_len;
    int32_t header_count;
    const uint8_t *headers; /* raw headers, header_count of them */
    size_t headers_len;
} rb_record_t;

typedef struct rb_record_iter {
    rill_rbuf_t rd;
    int64_t base_offset;
    int64_t base_timestamp;
    int64_t log_append_time; /* -1 unless LogAppendTime */
    int32_t remaining;
    bool err;
} rb_record_iter_t;

/* Starts iterating the records of a batch that passed rb_batch_check.
 * Returns 0, or INVALID_RECORD if the batch is compressed (records are
 * opaque then). */
rb_kerr_t rb_record_iter_init(rb_record_iter_t *it, const uint8_t *batch, size_t len);

/* Gives the next record: returns 1 and fills *rec, 0 at the end, -1 if a
 * record is malformed (then it->err is set and every later call returns -1). */
int rb_record_iter_next(rb_record_iter_t *it, rb_record_t *rec);

typedef struct rb_header_iter {
    rill_rbuf_t rd;
    int32_t remaining;
} rb_header_iter_t;

void rb_header_iter_init(rb_header_iter_t *it, const rb_record_t *rec);
/* Returns 1 with *h filled, 0 at the end, -1 if malformed. */
int rb_header_iter_next(rb_header_iter_t *it, rb_record_header_t *h);

/* ---- builder ------------------------------------------------------------ */

/* Writes an uncompressed batch, record by record.
 *     rb_batch_builder_t b;
 *     rb_batch_builder_init(&b, base_offset);
 *     b.producer_id = ...;            (optional header fields, see below)
 *     rb_batch_builder_add(&b, ts, key, klen, value, vlen, NULL, 0);
 *     uint8_t *batch = rb_batch_builder_finish(&b, &len);   (g_free it)
 * The base timestamp is the first record's timestamp; records get offset
 * deltas 0, 1, 2... (rb_batch_builder_add) or keep their own
 * (rb_batch_builder_add_record). */
typedef struct rb_batch_builder {
    /* header fields the caller may set before finish: */
    int64_t base_offset;
    int32_t leader_epoch;  /* default 0 */
    int16_t attributes;    /* transactional / control bits; compression must be 0 */
    int64_t producer_id;   /* default -1 */
    int16_t producer_epoch;/* default -1 */
    int32_t base_sequence; /* default -1 */
    int32_t last_offset_delta; /* the largest offset delta so far (-1: none); may be
                                * raised before finish to keep an original batch's range */
    /* state: */
    rill_wbuf_t buf;
    int32_t count;
    int64_t base_timestamp;
    int64_t max_timestamp;
} rb_batch_builder_t;

void rb_batch_builder_init(rb_batch_builder_t *b, int64_t base_offset);

/* Adds a record; key_len/value_len of -1 mean null. headers may be NULL when
 * header_count is 0. */
void rb_batch_builder_add(rb_batch_builder_t *b, int64_t timestamp, const void *key,
                          int32_t key_len, const void *value, int32_t value_len,
                          const rb_record_header_t *headers, size_t header_count);

/* Adds a copy of a record read from another batch (rb_record_iter_next),
 * keeping its offset (which must be >= base_offset and above the records
 * added so far), timestamp, key, value and headers: what compaction uses. */
void rb_batch_builder_add_record(rb_batch_builder_t *b, const rb_record_t *rec);

/* Finishes the batch (header, CRC) and returns it (transfer full: g_free);
 * the builder is emptied and may be reused after rb_batch_builder_init. */
uint8_t *rb_batch_builder_finish(rb_batch_builder_t *b, size_t *len);

/* Frees what the builder holds (when not finished). */
void rb_batch_builder_clear(rb_batch_builder_t *b);

#endif /* RB_LOG_BATCH_H */
