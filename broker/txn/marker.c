/* marker.c: reading batch headers and marker records, building markers.
 * See marker.h for the layout; offsets below are those of Kafka's
 * DefaultRecordBatch. */
#include "config.h"

#include "broker/txn/marker.h"

#include <string.h>

#include "common/crc32c.h"

enum {
    OFF_BASE_OFFSET = 0,
    OFF_LENGTH = 8,
    OFF_MAGIC = 16,
    OFF_CRC = 17,
    OFF_ATTRIBUTES = 21,
    OFF_LAST_DELTA = 23,
    OFF_BASE_TS = 27,
    OFF_MAX_TS = 35,
    OFF_PRODUCER_ID = 43,
    OFF_EPOCH = 51,
    OFF_BASE_SEQ = 53,
    OFF_COUNT = 57,
};

int32_t rb_txn_seq_add(int32_t seq, int32_t delta)
{
    if (seq > INT32_MAX - delta)
        return delta - (INT32_MAX - seq) - 1;
    return seq + delta;
}

/* Reads the single record of a control batch: key (version, type), value
 * (version, coordinator epoch). */
static void parse_marker(const uint8_t *records, size_t len, rb_txn_batch_t *batch)
{
    rill_rbuf_t rd;
    rill__rbuf_init(&rd, records, len);
    int64_t rec_len = rill__rbuf_get_varint(&rd);
    (void)rill__rbuf_get_u8(&rd);     /* attributes */
    (void)rill__rbuf_get_varint(&rd); /* timestamp delta */
    (void)rill__rbuf_get_varint(&rd); /* offset delta */
    int64_t key_len = rill__rbuf_get_varint(&rd);
    if (rd.err || rec_len <= 0 || key_len < 4)
        return;
    const uint8_t *key = rill__rbuf_get(&rd, (size_t)key_len);
    if (key == NULL)
        return;
    int16_t key_version = (int16_t)rill__be16_get(key);
    int16_t type = (int16_t)rill__be16_get(key + 2);
    if (key_version != 0 || (type != 0 && type != 1))
        return;
    batch->has_marker = true;
    batch->commit = type == 1;
    int64_t value_len = rill__rbuf_get_varint(&rd);
    if (!rd.err && value_len >= 6) {
        const uint8_t *value = rill__rbuf_get(&rd, (size_t)value_len);
        if (value != NULL)
            batch->coordinator_epoch = (int32_t)rill__be32_get(value + 2);
    }
}

bool rb_txn_batch_parse(const uint8_t *data, size_t len, rb_txn_batch_t *batch)
{
    memset(batch, 0, sizeof(*batch));
    batch->coordinator_epoch = -1;
    if (len < RB_BATCH_HEADER_SIZE || data[OFF_MAGIC] != 2)
        return false;
    int32_t batch_length = (int32_t)rill__be32_get(data + OFF_LENGTH);
    if (batch_length < RB_BATCH_HEADER_SIZE - 12)
        return false;
    batch->base_offset = (int64_t)rill__be64_get(data + OFF_BASE_OFFSET);
    batch->length = batch_length + 12;
    batch->attributes = (int16_t)rill__be16_get(data + OFF_ATTRIBUTES);
    batch->last_offset_delta = (int32_t)rill__be32_get(data + OFF_LAST_DELTA);
    batch->max_timestamp = (int64_t)rill__be64_get(data + OFF_MAX_TS);
    batch->producer_id = (int64_t)rill__be64_get(data + OFF_PRODUCER_ID);
    batch->producer_epoch = (int16_t)rill__be16_get(data + OFF_EPOCH);
    batch->base_sequence = (int32_t)rill__be32_get(data + OFF_BASE_SEQ);
    batch->records_count = (int32_t)rill__be32_get(data + OFF_COUNT);
    batch->transactional = (batch->attributes & RB_BATCH_ATTR_TRANSACTIONAL) != 0;
    batch->control = (batch->attributes & RB_BATCH_ATTR_CONTROL) != 0;
    if (batch->last_offset_delta < 0)
        return false;
    if (batch->control && (size_t)batch->length <= len && (batch->attributes & 0x07) == 0)
        parse_marker(data + RB_BATCH_HEADER_SIZE, (size_t)batch->length - RB_BATCH_HEADER_SIZE,
                     batch);
    return true;
}

void rb_txn_marker_build(rill_wbuf_t *out, int64_t producer_id, int16_t producer_epoch,
                         int32_t coordinator_epoch, bool commit, int64_t now_ms)
{
    /* The record: attributes, deltas, key (4 bytes), value (6 bytes), no headers. */
    rill_wbuf_t body;
    rill__wbuf_init(&body, 32);
    rill__wbuf_put_u8(&body, 0);     /* attributes */
    rill__wbuf_put_varint(&body, 0); /* timestamp delta */
    rill__wbuf_put_varint(&body, 0); /* offset delta */
    rill__wbuf_put_varint(&body, 4); /* key length */
    rill__wbuf_put_i16(&body, 0);    /* key version */
    rill__wbuf_put_i16(&body, commit ? 1 : 0);
    rill__wbuf_put_varint(&body, 6); /* value length */
    rill__wbuf_put_i16(&body, 0);    /* value version */
    rill__wbuf_put_i32(&body, coordinator_epoch);
    rill__wbuf_put_varint(&body, 0); /* headers count */

    size_t start = out->len;
    rill__wbuf_put_i64(out, 0); /* baseOffset */
    size_t length_at = out->len;
    rill__wbuf_put_i32(out, 0);  /* batchLength, patched below */
    rill__wbuf_put_i32(out, -1); /* partitionLeaderEpoch */
    rill__wbuf_put_u8(out, 2);   /* magic */
    size_t crc_at = out->len;
    rill__wbuf_put_u32(out, 0); /* crc, patched below */
    rill__wbuf_put_i16(out, RB_BATCH_ATTR_CONTROL | RB_BATCH_ATTR_TRANSACTIONAL);
    rill__wbuf_put_i32(out, 0);      /* lastOffsetDelta */
    rill__wbuf_put_i64(out, now_ms); /* baseTimestamp */
    rill__wbuf_put_i64(out, now_ms); /* maxTimestamp */
    rill__wbuf_put_i64(out, producer_id);
    rill__wbuf_put_i16(out, producer_epoch);
    rill__wbuf_put_i32(out, -1); /* baseSequence */
    rill__wbuf_put_i32(out, 1);  /* recordsCount */
    rill__wbuf_put_varint(out, (int64_t)body.len);
    rill__wbuf_put(out, body.data, body.len);
    rill__wbuf_free(&body);

    rill__wbuf_patch_i32(out, length_at, (int32_t)(out->len - start - 12));
    uint32_t crc =
        rill__crc32c(0, out->data + start + OFF_ATTRIBUTES, out->len - start - OFF_ATTRIBUTES);
    rill__wbuf_patch_i32(out, crc_at, (int32_t)crc);
}
