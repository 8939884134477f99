/* marker.h: what broker/txn/ reads from a record batch v2 (its 61-byte header
 * and, for control batches, the marker record) and the builder of the
 * transaction markers (COMMIT/ABORT control batches) the coordinator writes.
 *
 * Design note: producer state only ever needs the fixed header of a batch
 * (producer id, epoch, sequences, offsets, attributes) plus, for a control
 * batch, the type in its single record's key; so this is a small reader of
 * its own rather than a dependency on the log's batch codec. Control batches
 * are never compressed (Kafka writes them uncompressed), so their record can
 * be read in place.
 *
 * A marker batch (what rb_txn_marker_build writes):
 *   header: baseOffset 0, magic 2, attributes isControl|isTransactional,
 *           lastOffsetDelta 0, timestamps now, producerId/epoch of the
 *           transaction, baseSequence -1, recordsCount 1, CRC-32C valid;
 *   record: key   = int16 version 0, int16 type (0 ABORT, 1 COMMIT),
 *           value = int16 version 0, int32 coordinatorEpoch. */
#ifndef RB_TXN_MARKER_H
#define RB_TXN_MARKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h" /* RB_BATCH_HEADER_SIZE, RB_BATCH_ATTR_* */
#include "common/buf.h"

/* The fields of a batch header broker/txn/ uses. */
typedef struct rb_txn_batch {
    int64_t base_offset;
    int32_t length; /* whole batch size in bytes (batchLength + 12) */
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t max_timestamp;
    int64_t producer_id; /* -1: not idempotent */
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
    bool transactional;
    bool control;
    /* For control batches whose marker record could be read: */
    bool has_marker;
    bool commit;               /* marker type: COMMIT (true) or ABORT (false) */
    int32_t coordinator_epoch; /* from the marker's value, -1 if absent */
} rb_txn_batch_t;

/* Reads the header of the batch at data[0..len). len may exceed the batch
 * (back-to-back batches); the marker record of a control batch is read only
 * when the whole batch is inside len. Returns false when the header is short
 * or is not magic 2 (the CRC is not checked: the log does that). */
bool rb_txn_batch_parse(const uint8_t *data, size_t len, rb_txn_batch_t *batch);

/* Offset of the last record (base_offset + last_offset_delta). */
static inline int64_t rb_txn_batch_last_offset(const rb_txn_batch_t *batch)
{
    return batch->base_offset + batch->last_offset_delta;
}

/* Sequence of the last record: base_sequence + last_offset_delta, wrapping
 * past INT32_MAX to 0 as Kafka's producers do. */
int32_t rb_txn_seq_add(int32_t seq, int32_t delta);

/* Appends a COMMIT (commit=true) or ABORT marker batch for producer_id/epoch
 * to out, timestamped now_ms, with a valid CRC and base offset 0 (the log
 * assigns the real one at append). */
void rb_txn_marker_build(rill_wbuf_t *out, int64_t producer_id, int16_t producer_epoch,
                         int32_t coordinator_epoch, bool commit, int64_t now_ms);

#endif /* RB_TXN_MARKER_H */
