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
 * The batches are uncompressed, with one timestamp for all records, built
 * with broker/log/batch.h's builder; replay checks their CRC-32C again.
 */
#include "config.h"

#include <string.h>

#include "broker/group/group-private.h"

/* ---- building ----------------------------------------------------------------- */

void rb__batch_begin(rb_offsets_batch_t *b, int64_t timestamp)
{
    rb_batch_builder_init(&b->builder, 0);
    b->timestamp = timestamp;
}

void rb__batch_add(rb_offsets_batch_t *b, const rill_wbuf_t *key, const rill_wbuf_t *value)
{
    rb_batch_builder_add(&b->builder, b->timestamp, key->data, (int32_t)key->len,
                         value ? value->data : NULL, value ? (int32_t)value->len : -1, NULL, 0);
}

void rb__batch_discard(rb_offsets_batch_t *b)
{
    rb_batch_builder_clear(&b->builder);
}

int16_t rb__batch_finish_append(rb_group_coord_t *coord, rb_offsets_batch_t *b, int64_t producer_id,
                                int16_t producer_epoch, bool transactional, bool control)
{
    g_assert(b->builder.count > 0);
    b->builder.producer_id = producer_id;
    b->builder.producer_epoch = producer_epoch;
    b->builder.attributes = (int16_t)((transactional ? RB_BATCH_ATTR_TRANSACTIONAL : 0) |
                                      (control ? RB_BATCH_ATTR_CONTROL : 0));
    size_t len = 0;
    uint8_t *batch = rb_batch_builder_finish(&b->builder, &len);
    int16_t err = RB_GROUP_ERR_NONE;
    if (coord->has_store)
        err = coord->store.append(coord->store.ud, batch, len, b->timestamp);
    g_free(batch);
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
    rb_offsets_batch_t batch;
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
    group->protocol_type = protocol_type && *protocol_type ? g_steal_pointer(&protocol_type) : NULL;
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
        return apply_offset_record(coord, &r, value, value_len, transactional, producer_id, errmsg);
    case 2:
        return apply_group_record(coord, &r, value, value_len, errmsg);
    default:
        *errmsg = g_strdup_printf("unknown record key version %d", version);
        return -1;
    }
}

int rb__records_apply_batch(rb_group_coord_t *coord, const uint8_t *batch, size_t len,
                            char **errmsg)
{
    size_t size = 0;
    rb_kerr_t err = rb_batch_check(batch, len, &size);
    if (err != RB_LOG_ERR_NONE || size != len) {
        *errmsg = g_strdup_printf("bad record batch (%zu bytes): %s", len,
                                  err == RB_LOG_ERR_CORRUPT_MESSAGE ? "CRC or length mismatch"
                                  : err                             ? "not magic 2"
                                                                    : "trailing bytes");
        return -1;
    }
    rb_record_iter_t it;
    if (rb_record_iter_init(&it, batch, len) != RB_LOG_ERR_NONE) {
        *errmsg = g_strdup("compressed record batch in the offsets log");
        return -1;
    }
    bool transactional = rb_batch_is_transactional(batch);
    bool control = rb_batch_is_control(batch);
    int64_t producer_id = rb_batch_producer_id(batch);
    rb_record_t rec;
    int rc;
    while ((rc = rb_record_iter_next(&it, &rec)) == 1) {
        if (!rec.key) {
            *errmsg =
                g_strdup_printf("record at offset %" G_GINT64_FORMAT " has no key", rec.offset);
            return -1;
        }
        if (apply_record(coord, rec.key, (size_t)rec.key_len, rec.value,
                         rec.value ? (size_t)rec.value_len : 0, transactional, control, producer_id,
                         errmsg) != 0)
            return -1;
    }
    if (rc < 0) {
        *errmsg = g_strdup("malformed record in the offsets log");
        return -1;
    }
    return 0;
}
