/* batch.c: record batch v2 validation, rewrites, record iteration and
 * building (see batch.h).
 *
 * Validation walks an uncompressed batch's records once, reading only the
 * varints that locate fields (no allocation, no copying), so that checking a
 * produced batch costs about as much as its CRC. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "common/crc32c.h"

#include "broker/log/batch.h"

uint32_t rb_batch_compute_crc(const uint8_t *p, size_t len)
{
    return rill__crc32c(0, p + RB_BATCH_OFF_ATTRIBUTES, len - RB_BATCH_OFF_ATTRIBUTES);
}

void rb_batch_update_crc(uint8_t *p, size_t len)
{
    rill__be32_put(p + RB_BATCH_OFF_CRC, rb_batch_compute_crc(p, len));
}

void rb_batch_set_log_append_time(uint8_t *p, size_t len, int64_t ts)
{
    uint16_t attributes = (uint16_t)rb_batch_attributes(p) | RB_BATCH_ATTR_LOG_APPEND_TIME;
    rill__be16_put(p + RB_BATCH_OFF_ATTRIBUTES, attributes);
    rill__be64_put(p + RB_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts);
    rb_batch_update_crc(p, len);
}

void rb_batch_set_max_timestamp(uint8_t *p, size_t len, int64_t ts)
{
    rill__be64_put(p + RB_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)ts);
    rb_batch_update_crc(p, len);
}

rb_kerr_t rb_batch_check(const uint8_t *p, size_t len, size_t *size)
{
    if (len < RB_BATCH_HEADER_SIZE)
        return RB_LOG_ERR_CORRUPT_MESSAGE;
    if (rb_batch_magic(p) != RB_BATCH_MAGIC)
        return RB_LOG_ERR_INVALID_RECORD;
    int32_t length = rb_batch_length(p);
    if (length < RB_BATCH_HEADER_SIZE - RB_BATCH_LOG_OVERHEAD)
        return RB_LOG_ERR_CORRUPT_MESSAGE;
    size_t whole = (size_t)length + RB_BATCH_LOG_OVERHEAD;
    if (whole > len)
        return RB_LOG_ERR_CORRUPT_MESSAGE;
    if (rb_batch_compute_crc(p, whole) != rb_batch_crc(p))
        return RB_LOG_ERR_CORRUPT_MESSAGE;
    if (size != NULL)
        *size = whole;
    return RB_LOG_ERR_NONE;
}

/* A zigzag varint, with the one-byte case (most lengths and deltas) inline. */
static inline int64_t get_varint(rill_rbuf_t *rd)
{
    if (!rd->err && rd->pos < rd->len && rd->data[rd->pos] < 0x80)
        return rill__zigzag_decode(rd->data[rd->pos++]);
    return rill__rbuf_get_varint(rd);
}

/* Reads a zigzag varint that must fit an int32. */
static int32_t get_varint32(rill_rbuf_t *rd)
{
    int64_t v = get_varint(rd);
    if (v < INT32_MIN || v > INT32_MAX) {
        rd->err = true;
        return 0;
    }
    return (int32_t)v;
}

/* Reads a nullable byte string (varint length, -1 = null). */
static const uint8_t *get_bytes(rill_rbuf_t *rd, int32_t *len)
{
    *len = get_varint32(rd);
    if (rd->err || *len < -1) {
        rd->err = true;
        return NULL;
    }
    if (*len == -1)
        return NULL;
    return rill__rbuf_get(rd, (size_t)*len);
}

/* Parses one record body (after its length) from rd, which is bounded to
 * the record. Header bytes are skipped but checked. */
static bool parse_record(rill_rbuf_t *rd, int64_t base_offset, int64_t base_ts,
                         rb_record_t *rec)
{
    rec->attributes = (int8_t)rill__rbuf_get_u8(rd);
    int64_t ts_delta = get_varint(rd);
    int32_t offset_delta = get_varint32(rd);
    rec->key = get_bytes(rd, &rec->key_len);
    rec->value = get_bytes(rd, &rec->value_len);
    rec->header_count = get_varint32(rd);
    if (rd->err || rec->header_count < 0)
        return false;
    rec->offset = (int64_t)((uint64_t)base_offset + (uint64_t)(int64_t)offset_delta);
    rec->timestamp = (int64_t)((uint64_t)base_ts + (uint64_t)ts_delta);
    rec->headers = rd->data + rd->pos;
    for (int32_t i = 0; i < rec->header_count; i++) {
        int32_t klen, vlen;
        get_bytes(rd, &klen);
        if (klen < 0)
            rd->err = true;
        get_bytes(rd, &vlen);
        if (rd->err)
            return false;
    }
    rec->headers_len = (size_t)(rd->data + rd->pos - rec->headers);
    /* a record's length must cover exactly its fields */
    return rill__rbuf_remaining(rd) == 0;
}

/* A zigzag varint from [*q, end), at most 10 bytes and 64 bits; false if
 * short or too long. One- and two-byte varints (most lengths and deltas of
 * small records) are decoded without the loop. */
static inline bool walk_varint(const uint8_t **q, const uint8_t *end, int64_t *out)
{
    const uint8_t *c = *q;
    if (G_LIKELY(c < end && *c < 0x80)) {
        *out = rill__zigzag_decode(*c);
        *q = c + 1;
        return true;
    }
    if (G_LIKELY(end - c >= 2 && c[1] < 0x80)) {
        *out = rill__zigzag_decode((uint64_t)(c[0] & 0x7f) | ((uint64_t)c[1] << 7));
        *q = c + 2;
        return true;
    }
    uint64_t v = 0;
    for (int shift = 0; c < end && shift < 70; shift += 7) {
        uint8_t b = *c++;
        if (shift == 63 && b > 1)
            return false; /* more than 64 bits (as rill__uvarint_decode) */
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = rill__zigzag_decode(v);
            *q = c;
            return true;
        }
    }
    return false;
}

/* A nullable length (-1..what is left) and the bytes after it. */
static inline bool walk_bytes(const uint8_t **q, const uint8_t *end, bool nullable, bool *is_null)
{
    int64_t n;
    if (!walk_varint(q, end, &n) || n < (nullable ? -1 : 0) || n > end - *q)
        return false;
    *is_null = n < 0;
    if (n > 0)
        *q += n;
    return true;
}

/* The validation walk over the records of an uncompressed batch: the same
 * rules as the iterator (every field inside its record, every record inside
 * the batch, nothing left over) plus offset deltas 0..count-1, on raw
 * pointers with the varints decoded inline: this is the produce hot path.
 *
 * The walk is bound by the latency of dependent loads (each varint's
 * position depends on the one before), so the next record's start is taken
 * from this record's length alone (rend), not from where the field walk
 * ended: the field walk must end exactly there, which is a predicted branch,
 * not a data dependency, so the CPU walks the fields of one record while it
 * already reads the length of the next. The maximum timestamp and the
 * null-key flag live in locals (stores through the out pointers could alias
 * the bytes, which would force reloads).
 * The fuzz target checks that it agrees with rb_record_iter_next. */
static bool walk_records(const uint8_t *p, size_t len, int32_t count, int64_t *max_ts_out,
                         bool *null_key_out)
{
    const uint8_t *rec = p + RB_BATCH_HEADER_SIZE, *end = p + len;
    int64_t base_ts = rb_batch_base_timestamp(p);
    int64_t max_ts = *max_ts_out;
    bool null_key = false, is_null;
    for (int32_t i = 0; i < count; i++) {
        int64_t rlen, ts_delta, offset_delta, headers;
        if (!walk_varint(&rec, end, &rlen) || rlen < 1 || rlen > end - rec)
            return false;
        const uint8_t *q = rec, *rend = rec + rlen;
        rec = rend;
        q++; /* attributes */
        if (!walk_varint(&q, rend, &ts_delta) || !walk_varint(&q, rend, &offset_delta) ||
            offset_delta != i)
            return false;
        int64_t ts = (int64_t)((uint64_t)base_ts + (uint64_t)ts_delta);
        if (ts > max_ts)
            max_ts = ts;
        if (!walk_bytes(&q, rend, true, &is_null))
            return false;
        null_key |= is_null;
        if (!walk_bytes(&q, rend, true, &is_null) || !walk_varint(&q, rend, &headers) ||
            headers < 0 || headers > INT32_MAX)
            return false;
        for (int64_t h = 0; h < headers; h++)
            if (!walk_bytes(&q, rend, false, &is_null) ||
                !walk_bytes(&q, rend, true, &is_null))
                return false;
        if (q != rend)
            return false;
    }
    *max_ts_out = max_ts;
    *null_key_out = null_key;
    return rec == end;
}

rb_kerr_t rb_batch_validate(const uint8_t *p, size_t len, rb_batch_info_t *info)
{
    size_t size;
    rb_kerr_t err = rb_batch_check(p, len, &size);
    if (err != RB_LOG_ERR_NONE)
        return err;
    if (size != len) /* a produce request holds exactly one batch */
        return RB_LOG_ERR_INVALID_RECORD;
    int16_t attributes = rb_batch_attributes(p);
    int32_t count = rb_batch_records_count(p);
    if (count <= 0 || rb_batch_last_offset_delta(p) != count - 1)
        return RB_LOG_ERR_INVALID_RECORD;
    if ((attributes & RB_BATCH_ATTR_COMPRESSION_MASK) > RB_COMPRESSION_ZSTD)
        return RB_LOG_ERR_INVALID_RECORD;
    if ((attributes & RB_BATCH_ATTR_TRANSACTIONAL) && rb_batch_producer_id(p) < 0)
        return RB_LOG_ERR_INVALID_RECORD;

    rb_batch_info_t local;
    if (info == NULL)
        info = &local;
    info->record_count = count;
    info->max_timestamp = rb_batch_max_timestamp(p);
    info->compressed = (attributes & RB_BATCH_ATTR_COMPRESSION_MASK) != 0;
    info->null_key = false;
    if (info->compressed)
        return RB_LOG_ERR_NONE;

    int64_t max_ts = -1;
    if (!walk_records(p, len, count, &max_ts, &info->null_key))
        return RB_LOG_ERR_INVALID_RECORD;
    if (!(attributes & RB_BATCH_ATTR_LOG_APPEND_TIME))
        info->max_timestamp = max_ts;
    return RB_LOG_ERR_NONE;
}

rb_kerr_t rb_record_iter_init(rb_record_iter_t *it, const uint8_t *batch, size_t len)
{
    memset(it, 0, sizeof(*it));
    size_t size = rb_batch_size(batch);
    if (size < len)
        len = size;
    rill__rbuf_init(&it->rd, batch, len);
    it->rd.pos = RB_BATCH_HEADER_SIZE;
    it->base_offset = rb_batch_base_offset(batch);
    it->base_timestamp = rb_batch_base_timestamp(batch);
    it->log_append_time = rb_batch_is_log_append_time(batch) ? rb_batch_max_timestamp(batch) : -1;
    it->remaining = rb_batch_records_count(batch);
    if (rb_batch_compression(batch) != RB_COMPRESSION_NONE) {
        it->remaining = 0;
        it->err = true;
        return RB_LOG_ERR_INVALID_RECORD;
    }
    return RB_LOG_ERR_NONE;
}

int rb_record_iter_next(rb_record_iter_t *it, rb_record_t *rec)
{
    if (it->err)
        return -1;
    if (it->remaining <= 0)
        return 0;
    int32_t rlen = get_varint32(&it->rd);
    if (it->rd.err || rlen < 0 || (size_t)rlen > rill__rbuf_remaining(&it->rd)) {
        it->err = true;
        return -1;
    }
    rill_rbuf_t body;
    rill__rbuf_init(&body, it->rd.data + it->rd.pos, (size_t)rlen);
    if (!parse_record(&body, it->base_offset, it->base_timestamp, rec)) {
        it->err = true;
        return -1;
    }
    if (it->log_append_time >= 0)
        rec->timestamp = it->log_append_time;
    it->rd.pos += (size_t)rlen;
    it->remaining--;
    return 1;
}

void rb_header_iter_init(rb_header_iter_t *it, const rb_record_t *rec)
{
    rill__rbuf_init(&it->rd, rec->headers, rec->headers_len);
    it->remaining = rec->header_count;
}

int rb_header_iter_next(rb_header_iter_t *it, rb_record_header_t *h)
{
    if (it->rd.err)
        return -1;
    if (it->remaining <= 0)
        return 0;
    h->key = get_bytes(&it->rd, &h->key_len);
    if (h->key_len < 0)
        it->rd.err = true;
    h->value = get_bytes(&it->rd, &h->value_len);
    if (it->rd.err)
        return -1;
    if (h->key == NULL) /* an empty key: point at something non-NULL */
        h->key = it->rd.data + it->rd.pos;
    it->remaining--;
    return 1;
}

/* ---- builder ------------------------------------------------------------ */

void rb_batch_builder_init(rb_batch_builder_t *b, int64_t base_offset)
{
    memset(b, 0, sizeof(*b));
    b->base_offset = base_offset;
    b->producer_id = -1;
    b->producer_epoch = -1;
    b->base_sequence = -1;
    b->base_timestamp = -1;
    b->max_timestamp = -1;
    b->last_offset_delta = -1;
    rill__wbuf_init(&b->buf, 256);
    uint8_t *hdr = rill__wbuf_reserve(&b->buf, RB_BATCH_HEADER_SIZE);
    memset(hdr, 0, RB_BATCH_HEADER_SIZE);
    b->buf.len = RB_BATCH_HEADER_SIZE;
}

static size_t varint_size(int64_t v)
{
    return rill__uvarint_size(rill__zigzag_encode(v));
}

static size_t bytes_size(int32_t len)
{
    return varint_size(len) + (len > 0 ? (size_t)len : 0);
}

static void put_bytes(rill_wbuf_t *w, const void *p, int32_t len)
{
    rill__wbuf_put_varint(w, len);
    if (len > 0)
        rill__wbuf_put(w, p, (size_t)len);
}

/* Appends one record with the given offset delta; headers come either as
 * an array or as raw bytes already in the wire format (n of them). */
static void add_record(rb_batch_builder_t *b, int32_t offset_delta, int64_t timestamp,
                       const void *key, int32_t key_len, const void *value, int32_t value_len,
                       const rb_record_header_t *headers, const uint8_t *raw_headers,
                       size_t raw_len, size_t header_count)
{
    if (key == NULL)
        key_len = -1;
    if (value == NULL)
        value_len = -1;
    if (b->count == 0)
        b->base_timestamp = timestamp;
    if (timestamp > b->max_timestamp)
        b->max_timestamp = timestamp;
    int64_t ts_delta = (int64_t)((uint64_t)timestamp - (uint64_t)b->base_timestamp);

    size_t body = 1 + varint_size(ts_delta) + varint_size(offset_delta) + bytes_size(key_len) +
                  bytes_size(value_len) + varint_size((int64_t)header_count);
    if (raw_headers != NULL)
        body += raw_len;
    else
        for (size_t i = 0; i < header_count; i++)
            body += bytes_size(headers[i].key_len < 0 ? 0 : headers[i].key_len) +
                    bytes_size(headers[i].value == NULL ? -1 : headers[i].value_len);

    rill_wbuf_t *w = &b->buf;
    rill__wbuf_put_varint(w, (int64_t)body);
    rill__wbuf_put_u8(w, 0);
    rill__wbuf_put_varint(w, ts_delta);
    rill__wbuf_put_varint(w, offset_delta);
    put_bytes(w, key, key_len);
    put_bytes(w, value, value_len);
    rill__wbuf_put_varint(w, (int64_t)header_count);
    if (raw_headers != NULL) {
        rill__wbuf_put(w, raw_headers, raw_len);
    } else {
        for (size_t i = 0; i < header_count; i++) {
            put_bytes(w, headers[i].key, headers[i].key_len < 0 ? 0 : headers[i].key_len);
            put_bytes(w, headers[i].value, headers[i].value == NULL ? -1 : headers[i].value_len);
        }
    }
    if (offset_delta > b->last_offset_delta)
        b->last_offset_delta = offset_delta;
    b->count++;
}

void rb_batch_builder_add(rb_batch_builder_t *b, int64_t timestamp, const void *key,
                          int32_t key_len, const void *value, int32_t value_len,
                          const rb_record_header_t *headers, size_t header_count)
{
    int32_t offset_delta = b->last_offset_delta + 1;
    add_record(b, offset_delta, timestamp, key, key_len, value, value_len, headers, NULL, 0,
               header_count);
}

void rb_batch_builder_add_record(rb_batch_builder_t *b, const rb_record_t *rec)
{
    add_record(b, (int32_t)(rec->offset - b->base_offset), rec->timestamp, rec->key, rec->key_len,
               rec->value, rec->value_len, NULL, rec->headers, rec->headers_len,
               (size_t)rec->header_count);
}

uint8_t *rb_batch_builder_finish(rb_batch_builder_t *b, size_t *len)
{
    uint8_t *p = b->buf.data;
    size_t n = b->buf.len;
    rill__be64_put(p + RB_BATCH_OFF_BASE_OFFSET, (uint64_t)b->base_offset);
    rill__be32_put(p + RB_BATCH_OFF_LENGTH, (uint32_t)(n - RB_BATCH_LOG_OVERHEAD));
    rill__be32_put(p + RB_BATCH_OFF_LEADER_EPOCH, (uint32_t)b->leader_epoch);
    p[RB_BATCH_OFF_MAGIC] = RB_BATCH_MAGIC;
    rill__be16_put(p + RB_BATCH_OFF_ATTRIBUTES,
                   (uint16_t)(b->attributes & ~RB_BATCH_ATTR_COMPRESSION_MASK));
    rill__be32_put(p + RB_BATCH_OFF_LAST_OFFSET_DELTA,
                   (uint32_t)(b->last_offset_delta > 0 ? b->last_offset_delta : 0));
    rill__be64_put(p + RB_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)b->base_timestamp);
    rill__be64_put(p + RB_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)b->max_timestamp);
    rill__be64_put(p + RB_BATCH_OFF_PRODUCER_ID, (uint64_t)b->producer_id);
    rill__be16_put(p + RB_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)b->producer_epoch);
    rill__be32_put(p + RB_BATCH_OFF_BASE_SEQUENCE, (uint32_t)b->base_sequence);
    rill__be32_put(p + RB_BATCH_OFF_RECORDS_COUNT, (uint32_t)b->count);
    rb_batch_update_crc(p, n);
    uint8_t *out = rill__wbuf_steal(&b->buf, len);
    b->count = 0;
    return out;
}

void rb_batch_builder_clear(rb_batch_builder_t *b)
{
    rill__wbuf_free(&b->buf);
    b->count = 0;
}
