/* records.c: the offsets log's format: record batches v2 holding the records
 * of Kafka's __consumer_offsets topic, their encoding, and their replay.
 *
 * Records (all integers big-endian; strings are int16 length + bytes, -1 = null):
 *   offset commit   key   v1: int16 1, string group, string topic, int32 partition
 *                   value v3: int16 3, int64 offset, int32 leader_epoch,
 *                             string metadata, int64 commit_timestamp
 *                   (v0-v2 values are read too; a null value is a tombstone)
 *   group metadata  key   v2: int16 2, string group
 *                   value v3: int16 3, string protocol_type, int32 generation,
 *                             nullable string protocol, nullable string leader,
 *                             int64 current_state_timestamp, int32 member count (0:
 *                             members are not persisted; they rejoin after a restart)
 *   transaction markers are control batches (attributes isControl|isTransactional)
 *   whose one record has key int16 0, int16 type (0 ABORT, 1 COMMIT) and value
 *   int16 0, int32 coordinator epoch, as Kafka writes them.
 * Transactional offset commits are ordinary offset records inside a batch with
 * isTransactional set and the producer's id and epoch.
 *
 * The batches are uncompressed, with one timestamp for all records, and
 * their CRC-32C is checked on replay (the log checks it on append too).
 */
#include "config.h"

#include <string.h>

#include "broker/group/group-private.h"
#include "common/crc32c.h"

#define BATCH_HEADER_LEN 61
#define ATTR_TRANSACTIONAL 0x10
#define ATTR_CONTROL 0x20

/* ---- building ----------------------------------------------------------------- */

void rb__batch_begin(rb_batch_builder_t *b, int64_t timestamp)
{
    static const uint8_t zeros[BATCH_HEADER_LEN];
    rill__wbuf_init(&b->buf, 256);
    rill__wbuf_put(&b->buf, zeros, sizeof(zeros));
    b->count = 0;
    b->timestamp = timestamp;
}

void rb__batch_add(rb_batch_builder_t *b, const rill_wbuf_t *key, const rill_wbuf_t *value)
{
    rill_wbuf_t body;
    rill__wbuf_init(&body, 64 + key->len + (value ? value->len : 0));
    rill__wbuf_put_u8(&body, 0);                /* attributes */
    rill__wbuf_put_varint(&body, 0);            /* timestamp delta */
    rill__wbuf_put_varint(&body, b->count);     /* offset delta */
    rill__wbuf_put_varint(&body, (int64_t)key->len);
    rill__wbuf_put(&body, key->data, key->len);
    if (value) {
        rill__wbuf_put_varint(&body, (int64_t)value->len);
        rill__wbuf_put(&body, value->data, value->len);
    } else {
        rill__wbuf_put_varint(&body, -1);
    }
    rill__wbuf_put_varint(&body, 0); /* headers */
    rill__wbuf_put_varint(&b->buf, (int64_t)body.len);
    rill__wbuf_put(&b->buf, body.data, body.len);
    rill__wbuf_free(&body);
    b->count++;
}

int16_t rb__batch_finish_append(rb_group_coord_t *coord, rb_batch_builder_t *b,
                                int64_t producer_id, int16_t producer_epoch, bool transactional,
                                bool control)
{
    uint8_t *p = b->buf.data;
    size_t len = b->buf.len;
    g_assert(b->count > 0);
    rill__be64_put(p, 0);
    rill__be32_put(p + 8, (uint32_t)(len - 12));
    rill__be32_put(p + 12, 0); /* partition leader epoch */
    p[16] = 2;                 /* magic */
    uint16_t attributes = (transactional ? ATTR_TRANSACTIONAL : 0) | (control ? ATTR_CONTROL : 0);
    rill__be16_put(p + 21, attributes);
    rill__be32_put(p + 23, (uint32_t)(b->count - 1));
    rill__be64_put(p + 27, (uint64_t)b->timestamp);
    rill__be64_put(p + 35, (uint64_t)b->timestamp);
    rill__be64_put(p + 43, (uint64_t)producer_id);
    rill__be16_put(p + 51, (uint16_t)producer_epoch);
    rill__be32_put(p + 53, (uint32_t)-1); /* base sequence */
    rill__be32_put(p + 57, (uint32_t)b->count);
    rill__be32_put(p + 17, rill__crc32c(0, p + 21, len - 21));
    int16_t err = RB_GROUP_ERR_NONE;
    if (coord->has_store)
        err = coord->store.append(coord->store.ud, p, len, b->timestamp);
    rill__wbuf_free(&b->buf);
    return err;
}

static void put_string(rill_wbuf_t *w, const char *s)
{
    if (!s) {
        rill__wbuf_put_i16(w, -1);
        return;
    }
    size_t len = strlen(s);
    g_assert(len <= INT16_MAX);
    rill__wbuf_put_i16(w, (int16_t)len);
    rill__wbuf_put(w, s, len);
}

void rb__record_offset_key(rill_wbuf_t *w, const char *group_id, const char *topic,
                           int32_t partition)
{
    rill__wbuf_put_i16(w, 1);
    put_string(w, group_id);
    put_string(w, topic);
    rill__wbuf_put_i32(w, partition);
}

void rb__record_offset_value(rill_wbuf_t *w, const rb_offset_t *off)
{
    rill__wbuf_put_i16(w, 3);
    rill__wbuf_put_i64(w, off->offset);
    rill__wbuf_put_i32(w, off->leader_epoch);
    put_string(w, off->metadata ? off->metadata : "");
    rill__wbuf_put_i64(w, off->commit_ts);
}

void rb__record_group_key(rill_wbuf_t *w, const char *group_id)
{
    rill__wbuf_put_i16(w, 2);
    put_string(w, group_id);
}

void rb__record_group_value(rill_wbuf_t *w, const rb_group_t *group)
{
    rill__wbuf_put_i16(w, 3);
    put_string(w, group->protocol_type ? group->protocol_type : "");
    rill__wbuf_put_i32(w, group->generation_id);
    put_string(w, group->protocol_name);
    put_string(w, group->leader_id);
    rill__wbuf_put_i64(w, group->state_since);
    rill__wbuf_put_i32(w, 0);
}

void rb__record_marker_key(rill_wbuf_t *w, bool commit)
{
    rill__wbuf_put_i16(w, 0);
    rill__wbuf_put_i16(w, commit ? 1 : 0);
}

void rb__record_marker_value(rill_wbuf_t *w)
{
    rill__wbuf_put_i16(w, 0);
    rill__wbuf_put_i32(w, 0); /* coordinator epoch: one node, never moves */
}

int16_t rb__group_store_metadata(rb_group_t *group, bool tombstone)
{
    rb_batch_builder_t batch;
    rb__batch_begin(&batch, rb__group_wall(group->coord));
    rill_wbuf_t key, value;
    rill__wbuf_init(&key, 64);
    rill__wbuf_init(&value, 64);
    rb__record_group_key(&key, group->group_id);
    if (!tombstone)
        rb__record_group_value(&value, group);
    rb__batch_add(&batch, &key, tombstone ? NULL : &value);
    rill__wbuf_free(&key);
    rill__wbuf_free(&value);
    int16_t err = rb__batch_finish_append(group->coord, &batch, -1, -1, false, false);
    return err ? RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE : RB_GROUP_ERR_NONE;
}

/* ---- replaying ------------------------------------------------------------------ */

/* Reads a string: *out is NULL for null; returns false on a short read. */
static bool get_string(rill_rbuf_t *r, char **out)
{
    int16_t len = rill__rbuf_get_i16(r);
    *out = NULL;
    if (r->err || len < -1)
        return false;
    if (len == -1)
        return true;
    const uint8_t *p = rill__rbuf_get(r, (size_t)len);
    if (!p && len > 0)
        return false;
    *out = g_strndup((const char *)p, (size_t)len);
    return true;
}

static int apply_offset_record(rb_group_coord_t *coord, rill_rbuf_t *key, const uint8_t *value,
                               size_t value_len, bool transactional, int64_t producer_id,
                               char **errmsg)
{
    g_autofree char *group_id = NULL;
    g_autofree char *topic = NULL;
    if (!get_string(key, &group_id) || !get_string(key, &topic) || !group_id || !topic) {
        *errmsg = g_strdup("malformed offset commit key");
        return -1;
    }
    int32_t partition = rill__rbuf_get_i32(key);
    if (key->err) {
        *errmsg = g_strdup("malformed offset commit key");
        return -1;
    }
    if (!value) {
        if (!transactional)
            rb__offsets_load_tombstone(coord, group_id, topic, partition);
        return 0;
    }
    rill_rbuf_t r;
    rill__rbuf_init(&r, value, value_len);
    int16_t version = rill__rbuf_get_i16(&r);
    rb_offset_t *off = g_new0(rb_offset_t, 1);
    off->topic = g_steal_pointer(&topic);
    off->partition = partition;
    off->leader_epoch = -1;
    off->offset = rill__rbuf_get_i64(&r);
    if (version >= 3)
        off->leader_epoch = rill__rbuf_get_i32(&r);
    bool ok = version >= 0 && version <= 3 && get_string(&r, &off->metadata);
    off->commit_ts = rill__rbuf_get_i64(&r);
    if (!ok || r.err) {
        rb__offset_free(off);
        *errmsg = g_strdup_printf("malformed offset commit value (version %d)", version);
        return -1;
    }
    if (!off->metadata)
        off->metadata = g_strdup("");
    if (transactional)
        rb__offsets_load_txn(coord, group_id, producer_id, off);
    else
        rb__offsets_load_commit(coord, group_id, off);
    return 0;
}

static int apply_group_record(rb_group_coord_t *coord, rill_rbuf_t *key, const uint8_t *value,
                              size_t value_len, char **errmsg)
{
    g_autofree char *group_id = NULL;
    if (!get_string(key, &group_id) || !group_id) {
        *errmsg = g_strdup("malformed group metadata key");
        return -1;
    }
    if (!value) {
        rb_group_t *group = rb__group_get(coord, group_id);
        if (group)
            rb__group_remove(coord, group);
        return 0;
    }
    rill_rbuf_t r;
    rill__rbuf_init(&r, value, value_len);
    int16_t version = rill__rbuf_get_i16(&r);
    g_autofree char *protocol_type = NULL;
    g_autofree char *protocol = NULL;
    g_autofree char *leader = NULL;
    bool ok = get_string(&r, &protocol_type);
    int32_t generation = rill__rbuf_get_i32(&r);
    ok = ok && get_string(&r, &protocol) && get_string(&r, &leader);
    int64_t state_ts = version >= 2 ? rill__rbuf_get_i64(&r) : -1;
    if (!ok || r.err || version < 0 || version > 3) {
        *errmsg = g_strdup_printf("malformed group metadata value (version %d)", version);
        return -1;
    }
    rb_group_t *group = rb__group_get_or_add(coord, group_id);
    group->generation_id = generation;
    g_free(group->protocol_type);
    group->protocol_type =
        protocol_type && *protocol_type ? g_steal_pointer(&protocol_type) : NULL;
    if (state_ts >= 0)
        group->state_since = state_ts;
    return 0;
}

static int apply_record(rb_group_coord_t *coord, const uint8_t *key, size_t key_len,
                        const uint8_t *value, size_t value_len, bool transactional, bool control,
                        int64_t producer_id, char **errmsg)
{
    rill_rbuf_t r;
    rill__rbuf_init(&r, key, key_len);
    int16_t version = rill__rbuf_get_i16(&r);
    if (r.err) {
        *errmsg = g_strdup("record key too short");
        return -1;
    }
    if (control) {
        int16_t type = rill__rbuf_get_i16(&r);
        if (r.err || (type != 0 && type != 1)) {
            *errmsg = g_strdup_printf("unknown control record type %d", type);
            return -1;
        }
        rb__offsets_load_marker(coord, producer_id, type == 1);
        return 0;
    }
    switch (version) {
    case 0:
    case 1:
        return apply_offset_record(coord, &r, value, value_len, transactional, producer_id,
                                   errmsg);
    case 2:
        return apply_group_record(coord, &r, value, value_len, errmsg);
    default:
        *errmsg = g_strdup_printf("unknown record key version %d", version);
        return -1;
    }
}

/* Reads a varint-prefixed byte string (length -1 = null). */
static bool get_varbytes(rill_rbuf_t *r, const uint8_t **data, size_t *len)
{
    int64_t n = rill__rbuf_get_varint(r);
    *data = NULL;
    *len = 0;
    if (r->err || n < -1)
        return false;
    if (n == -1)
        return true;
    if ((uint64_t)n > rill__rbuf_remaining(r))
        return false;
    *data = rill__rbuf_get(r, (size_t)n);
    *len = (size_t)n;
    if (!*data && n == 0)
        *data = r->data + r->pos; /* an empty, non-null value */
    return !r->err;
}

int rb__records_apply_batch(rb_group_coord_t *coord, const uint8_t *batch, size_t len,
                            char **errmsg)
{
    if (len < BATCH_HEADER_LEN || (size_t)rill__be32_get(batch + 8) + 12 != len) {
        *errmsg = g_strdup_printf("truncated record batch (%zu bytes)", len);
        return -1;
    }
    if (batch[16] != 2) {
        *errmsg = g_strdup_printf("record batch magic %d (want 2)", batch[16]);
        return -1;
    }
    if (rill__be32_get(batch + 17) != rill__crc32c(0, batch + 21, len - 21)) {
        *errmsg = g_strdup("record batch CRC mismatch");
        return -1;
    }
    uint16_t attributes = rill__be16_get(batch + 21);
    if (attributes & 0x7) {
        *errmsg = g_strdup("compressed record batch in the offsets log");
        return -1;
    }
    bool transactional = attributes & ATTR_TRANSACTIONAL;
    bool control = attributes & ATTR_CONTROL;
    int64_t producer_id = (int64_t)rill__be64_get(batch + 43);
    int32_t count = (int32_t)rill__be32_get(batch + 57);
    rill_rbuf_t r;
    rill__rbuf_init(&r, batch + BATCH_HEADER_LEN, len - BATCH_HEADER_LEN);
    for (int32_t i = 0; i < count; i++) {
        int64_t rec_len = rill__rbuf_get_varint(&r);
        if (r.err || rec_len < 0 || (uint64_t)rec_len > rill__rbuf_remaining(&r)) {
            *errmsg = g_strdup_printf("malformed record %d", i);
            return -1;
        }
        size_t end = r.pos + (size_t)rec_len;
        rill__rbuf_get_u8(&r);     /* attributes */
        rill__rbuf_get_varint(&r); /* timestamp delta */
        rill__rbuf_get_varint(&r); /* offset delta */
        const uint8_t *key, *value;
        size_t key_len, value_len;
        bool ok = get_varbytes(&r, &key, &key_len) && get_varbytes(&r, &value, &value_len);
        int64_t headers = rill__rbuf_get_varint(&r);
        for (int64_t h = 0; ok && h < headers; h++) {
            const uint8_t *hk, *hv;
            size_t hkl, hvl;
            ok = get_varbytes(&r, &hk, &hkl) && get_varbytes(&r, &hv, &hvl);
        }
        if (!ok || r.err || headers < 0 || r.pos != end || !key) {
            *errmsg = g_strdup_printf("malformed record %d", i);
            return -1;
        }
        if (apply_record(coord, key, key_len, value, value_len, transactional, control,
                         producer_id, errmsg) != 0)
            return -1;
    }
    if (rill__rbuf_remaining(&r) != 0) {
        *errmsg = g_strdup("trailing bytes after the last record");
        return -1;
    }
    return 0;
}
