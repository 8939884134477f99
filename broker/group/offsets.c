/* offsets.c: committed offsets of consumer groups: OffsetCommit, OffsetFetch,
 * TxnOffsetCommit and the end of transactions, DeleteGroups, topic deletion
 * and the expiry of old offsets.
 *
 * Design: every change is first written to the offsets log as one record
 * batch (records.c builds it), and only applied in memory once the append
 * succeeded, so that memory never shows what a reload would not. A batch
 * is all-or-nothing, so a multi-partition commit is atomic.
 *
 * Transactional offsets (TxnOffsetCommit) are written in a transactional
 * batch carrying the producer id and stay in group->pending_txn until the
 * transaction ends: rb_group_txn_complete() writes a control record (COMMIT
 * or ABORT) and then moves them into the committed offsets or drops them.
 * Replay does the same from the log, so that a restart in the middle of a
 * transaction keeps them pending until the transaction coordinator finishes
 * it. When a transaction commits, its offsets replace whatever was committed
 * for those partitions meanwhile.
 *
 * Expiry (Kafka's KIP-211 and KIP-496): for a group that had members, an
 * offset expires offsets.retention.ms after the group became Empty; for a
 * group that only ever saw commits from outside group management (no
 * protocol type), offsets.retention.ms after its commit; in a Stable
 * "consumer" group, an offset of a topic that no member subscribes to any
 * more, offsets.retention.ms after its commit. An Empty group left with no
 * offsets is deleted (Empty -> Dead).
 */
#include "config.h"

#include <string.h>

#include "broker/group/group-private.h"
#include "common/log.h"

#define LOG_COMP "broker.group"

/* ---- the table of offsets ------------------------------------------------------ */

static guint offset_hash(gconstpointer p)
{
    const rb_offset_t *off = p;
    return g_str_hash(off->topic) * 31u + (guint)off->partition;
}

static gboolean offset_equal(gconstpointer a, gconstpointer b)
{
    const rb_offset_t *x = a, *y = b;
    return x->partition == y->partition && strcmp(x->topic, y->topic) == 0;
}

void rb__offset_free(rb_offset_t *off)
{
    if (!off)
        return;
    g_free(off->topic);
    g_free(off->metadata);
    g_free(off);
}

static void offset_destroy(gpointer p)
{
    rb__offset_free(p);
}

GHashTable *rb__offsets_table_new(void)
{
    /* key == value: the entry itself; freed once, as the key. */
    return g_hash_table_new_full(offset_hash, offset_equal, offset_destroy, NULL);
}

static rb_offset_t *offset_lookup(GHashTable *table, const char *topic, int32_t partition)
{
    rb_offset_t key = {.topic = (char *)topic, .partition = partition};
    return g_hash_table_lookup(table, &key);
}

static void offset_put(GHashTable *table, rb_offset_t *off)
{
    g_hash_table_remove(table, off);
    g_hash_table_add(table, off);
}

static rb_offset_t *offset_from_part(const rb_offset_commit_part_t *part, int64_t now)
{
    rb_offset_t *off = g_new0(rb_offset_t, 1);
    off->topic = g_strdup(part->topic);
    off->partition = part->partition;
    off->offset = part->offset;
    off->leader_epoch = part->leader_epoch;
    off->metadata = g_strdup(part->metadata ? part->metadata : "");
    off->commit_ts = now;
    return off;
}

static bool has_pending_txn_for(const rb_group_t *group, const char *topic, int32_t partition)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, group->pending_txn);
    while (g_hash_table_iter_next(&it, NULL, &value))
        if (offset_lookup(value, topic, partition))
            return true;
    return false;
}

/* Maps an append error to what OffsetCommit answers (Kafka's mapping). */
static int16_t commit_store_error(int16_t err)
{
    if (err == 10 /* MESSAGE_TOO_LARGE */ || err == 18 /* RECORD_LIST_TOO_LARGE */)
        return 28; /* INVALID_COMMIT_OFFSET_SIZE */
    return RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE;
}

static void fill_errors(rb_offset_commit_part_t *parts, size_t count, int16_t err)
{
    for (size_t i = 0; i < count; i++)
        if (parts[i].error_code == RB_GROUP_ERR_NONE)
            parts[i].error_code = err;
}

/* Validates metadata sizes, then writes the parts that are still fine in one
 * batch. On success *written holds the entries to apply (transfer full). */
static int16_t write_commit(rb_group_t *group, rb_offset_commit_part_t *parts, size_t count,
                            int64_t producer_id, int16_t producer_epoch, GPtrArray **written)
{
    rb_group_coord_t *coord = group->coord;
    int64_t now = rb__group_wall(coord);
    *written = g_ptr_array_new_with_free_func(offset_destroy);
    rb_offsets_batch_t batch;
    rb__batch_begin(&batch, now);
    rill_wbuf_t key, value;
    rill__wbuf_init(&key, 128);
    rill__wbuf_init(&value, 128);
    for (size_t i = 0; i < count; i++) {
        rb_offset_commit_part_t *part = &parts[i];
        if (part->error_code != RB_GROUP_ERR_NONE)
            continue;
        if (!part->topic) {
            part->error_code = 42; /* INVALID_REQUEST */
            continue;
        }
        if (part->metadata &&
            strlen(part->metadata) > (size_t)coord->config.offset_metadata_max_bytes) {
            part->error_code = RB_GROUP_ERR_OFFSET_METADATA_TOO_LARGE;
            continue;
        }
        rb_offset_t *off = offset_from_part(part, now);
        rill__wbuf_reset(&key);
        rill__wbuf_reset(&value);
        rb__record_offset_key(&key, group->group_id, off->topic, off->partition);
        rb__record_offset_value(&value, off);
        rb__batch_add(&batch, &key, &value);
        g_ptr_array_add(*written, off);
    }
    rill__wbuf_free(&key);
    rill__wbuf_free(&value);
    if ((*written)->len == 0) {
        rb__batch_discard(&batch);
        return RB_GROUP_ERR_NONE;
    }
    int16_t err = rb__batch_finish_append(coord, &batch, producer_id, producer_epoch,
                                          producer_id >= 0, false);
    if (err) {
        RILL_LOG_WARN(LOG_COMP, "group %s: offsets not stored: error %d", group->group_id, err);
        g_ptr_array_set_size(*written, 0);
        fill_errors(parts, count, commit_store_error(err));
        return commit_store_error(err);
    }
    return RB_GROUP_ERR_NONE;
}

/* ---- OffsetCommit ---------------------------------------------------------------- */

/* Kafka's doCommitOffsets checks, on an existing group. */
static int16_t validate_commit(rb_group_t *group, int32_t generation_id, const char *member_id,
                               const char *instance_id)
{
    if (group->state == RB_GROUP_DEAD)
        return RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE;
    if (generation_id < 0 && group->state == RB_GROUP_EMPTY)
        return RB_GROUP_ERR_NONE; /* from outside group management */
    int16_t err = rb__group_validate_member(group, member_id, instance_id);
    if (err)
        return err;
    if (generation_id != group->generation_id)
        return RB_GROUP_ERR_ILLEGAL_GENERATION;
    switch (group->state) {
    case RB_GROUP_COMPLETING_REBALANCE:
        return RB_GROUP_ERR_REBALANCE_IN_PROGRESS;
    case RB_GROUP_STABLE:
    case RB_GROUP_PREPARING_REBALANCE:
        rb__group_member_touch(rb__group_member(group, member_id));
        return RB_GROUP_ERR_NONE;
    case RB_GROUP_EMPTY:
    case RB_GROUP_DEAD:
        break;
    }
    return RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
}

int16_t rb_group_offset_commit(rb_group_coord_t *coord, const char *group_id, int32_t generation_id,
                               const char *member_id, const char *group_instance_id,
                               rb_offset_commit_part_t *parts, size_t count)
{
    g_assert(coord->in_callback == 0);
    int16_t err = RB_GROUP_ERR_NONE;
    rb_group_t *group = NULL;
    if (!member_id)
        member_id = "";
    if (!coord->loaded)
        err = RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    else if (!group_id)
        err = RB_GROUP_ERR_INVALID_GROUP_ID;
    else if (!(group = rb__group_get(coord, group_id)) && generation_id >= 0)
        err = RB_GROUP_ERR_ILLEGAL_GENERATION; /* a generation of a group we do not know */
    else if (group)
        err = validate_commit(group, generation_id, member_id, group_instance_id);
    if (err) {
        fill_errors(parts, count, err);
        return err;
    }
    bool created = group == NULL;
    if (created)
        group = rb__group_get_or_add(coord, group_id);
    g_autoptr(GPtrArray) written = NULL;
    err = write_commit(group, parts, count, -1, -1, &written);
    /* Apply: the table takes the entries. */
    while (written->len > 0)
        offset_put(group->offsets, g_ptr_array_steal_index_fast(written, written->len - 1));
    if (created && g_hash_table_size(group->offsets) == 0)
        rb__group_remove(coord, group);
    return err;
}

/* ---- OffsetFetch ------------------------------------------------------------------- */

static void fetch_one(rb_group_t *group, bool require_stable, rb_offset_fetch_part_t *part)
{
    part->offset = -1;
    part->leader_epoch = -1;
    part->metadata = "";
    part->error_code = RB_GROUP_ERR_NONE;
    if (!group || !part->topic)
        return;
    if (require_stable && has_pending_txn_for(group, part->topic, part->partition)) {
        part->error_code = RB_GROUP_ERR_UNSTABLE_OFFSET_COMMIT;
        return;
    }
    const rb_offset_t *off = offset_lookup(group->offsets, part->topic, part->partition);
    if (off) {
        part->offset = off->offset;
        part->leader_epoch = off->leader_epoch;
        part->metadata = off->metadata;
    }
}

int16_t rb_group_offset_fetch(rb_group_coord_t *coord, const char *group_id, bool require_stable,
                              rb_offset_fetch_part_t *parts, size_t count)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (!group_id)
        return RB_GROUP_ERR_INVALID_GROUP_ID;
    rb_group_t *group = rb__group_get(coord, group_id);
    for (size_t i = 0; i < count; i++)
        fetch_one(group, require_stable, &parts[i]);
    return RB_GROUP_ERR_NONE;
}

static gint compare_offsets(gconstpointer a, gconstpointer b)
{
    const rb_offset_t *x = *(rb_offset_t *const *)a;
    const rb_offset_t *y = *(rb_offset_t *const *)b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

int16_t rb_group_offset_fetch_all(rb_group_coord_t *coord, const char *group_id,
                                  bool require_stable,
                                  void (*fn)(const rb_offset_fetch_part_t *part, void *ud),
                                  void *ud)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (!group_id)
        return RB_GROUP_ERR_INVALID_GROUP_ID;
    rb_group_t *group = rb__group_get(coord, group_id);
    if (!group)
        return RB_GROUP_ERR_NONE;
    g_autoptr(GPtrArray) all = rb__table_keys(group->offsets);
    g_ptr_array_sort(all, compare_offsets);
    coord->in_callback++;
    for (guint i = 0; i < all->len; i++) {
        const rb_offset_t *off = g_ptr_array_index(all, i);
        rb_offset_fetch_part_t part = {.topic = off->topic, .partition = off->partition};
        fetch_one(group, require_stable, &part);
        fn(&part, ud);
    }
    coord->in_callback--;
    return RB_GROUP_ERR_NONE;
}

/* ---- removing offsets: tombstones ---------------------------------------------------- */

/* Writes tombstones for the listed offsets of group (and for the group's
 * metadata when delete_group), then removes them from memory. */
static int16_t remove_offsets(rb_group_t *group, GPtrArray *offs, bool delete_group)
{
    rb_group_coord_t *coord = group->coord;
    if (offs->len == 0 && !delete_group)
        return RB_GROUP_ERR_NONE;
    rb_offsets_batch_t batch;
    rb__batch_begin(&batch, rb__group_wall(coord));
    rill_wbuf_t key;
    rill__wbuf_init(&key, 128);
    for (guint i = 0; i < offs->len; i++) {
        const rb_offset_t *off = g_ptr_array_index(offs, i);
        rill__wbuf_reset(&key);
        rb__record_offset_key(&key, group->group_id, off->topic, off->partition);
        rb__batch_add(&batch, &key, NULL);
    }
    if (delete_group) {
        rill__wbuf_reset(&key);
        rb__record_group_key(&key, group->group_id);
        rb__batch_add(&batch, &key, NULL);
    }
    rill__wbuf_free(&key);
    int16_t err = rb__batch_finish_append(coord, &batch, -1, -1, false, false);
    if (err) {
        RILL_LOG_WARN(LOG_COMP, "group %s: tombstones not stored: error %d", group->group_id, err);
        return RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    for (guint i = 0; i < offs->len; i++)
        g_hash_table_remove(group->offsets, g_ptr_array_index(offs, i));
    return RB_GROUP_ERR_NONE;
}

int16_t rb_group_delete(rb_group_coord_t *coord, const char *group_id)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (!group_id)
        return RB_GROUP_ERR_INVALID_GROUP_ID;
    rb_group_t *group = rb__group_get(coord, group_id);
    if (!group || group->state == RB_GROUP_DEAD)
        return RB_GROUP_ERR_GROUP_ID_NOT_FOUND;
    if (group->state != RB_GROUP_EMPTY)
        return RB_GROUP_ERR_NON_EMPTY_GROUP;
    g_autoptr(GPtrArray) all = rb__table_keys(group->offsets);
    int16_t err = remove_offsets(group, all, true);
    if (err)
        return err;
    RILL_LOG_INFO(LOG_COMP, "group %s: deleted", group_id);
    rb__group_remove(coord, group);
    return RB_GROUP_ERR_NONE;
}

size_t rb_group_topic_deleted(rb_group_coord_t *coord, const char *topic)
{
    g_assert(coord->in_callback == 0);
    size_t removed = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, coord->groups);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_group_t *group = value;
        g_autoptr(GPtrArray) offs = g_ptr_array_new();
        GHashTableIter oit;
        gpointer key;
        g_hash_table_iter_init(&oit, group->offsets);
        while (g_hash_table_iter_next(&oit, &key, NULL))
            if (strcmp(((rb_offset_t *)key)->topic, topic) == 0)
                g_ptr_array_add(offs, key);
        size_t n = offs->len;
        if (n > 0 && remove_offsets(group, offs, false) == RB_GROUP_ERR_NONE)
            removed += n;
        /* Pending transactional offsets of the topic go too (in memory; the
         * tombstones above cover what a commit marker would bring back only
         * if they came later, so drop them from the transactions now). */
        GHashTableIter pit;
        g_hash_table_iter_init(&pit, group->pending_txn);
        while (g_hash_table_iter_next(&pit, NULL, &value)) {
            GHashTableIter tit;
            g_hash_table_iter_init(&tit, value);
            while (g_hash_table_iter_next(&tit, &key, NULL))
                if (strcmp(((rb_offset_t *)key)->topic, topic) == 0)
                    g_hash_table_iter_remove(&tit);
        }
    }
    if (removed)
        RILL_LOG_INFO(LOG_COMP, "topic %s deleted: %zu committed offsets removed", topic, removed);
    return removed;
}

/* ---- expiry ---------------------------------------------------------------------------- */

size_t rb_group_expire_offsets(rb_group_coord_t *coord)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return 0;
    int64_t now = rb__group_wall(coord);
    int64_t retention = coord->config.offsets_retention_ms;
    size_t removed = 0;
    g_autoptr(GPtrArray) groups = rb__table_values(coord->groups);
    for (guint g = 0; g < groups->len; g++) {
        rb_group_t *group = g_ptr_array_index(groups, g);
        bool empty = group->state == RB_GROUP_EMPTY;
        /* A Stable consumer group: offsets of topics no member subscribes to
         * any more expire from their commit (KIP-496's rule in Kafka). */
        g_autoptr(GHashTable) subscribed = NULL;
        if (!empty) {
            if (group->state != RB_GROUP_STABLE)
                continue;
            subscribed = rb__group_subscribed_topics(group);
            if (!subscribed)
                continue;
        }
        g_autoptr(GPtrArray) expired = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, group->offsets);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            const rb_offset_t *off = key;
            if (subscribed && g_hash_table_contains(subscribed, off->topic))
                continue;
            int64_t base = empty && group->protocol_type ? group->state_since : off->commit_ts;
            if (now - base >= retention && !has_pending_txn_for(group, off->topic, off->partition))
                g_ptr_array_add(expired, key);
        }
        bool delete_group = empty && g_hash_table_size(group->offsets) == expired->len &&
                            g_hash_table_size(group->pending_txn) == 0 &&
                            g_hash_table_size(group->pending) == 0;
        size_t n = expired->len;
        if (n == 0 && !delete_group)
            continue;
        if (remove_offsets(group, expired, delete_group) != RB_GROUP_ERR_NONE)
            continue;
        removed += n;
        if (n)
            RILL_LOG_INFO(LOG_COMP, "group %s: %zu offsets expired", group->group_id, n);
        if (delete_group) {
            RILL_LOG_INFO(LOG_COMP, "group %s: empty with no offsets: removed", group->group_id);
            rb__group_remove(coord, group);
        }
    }
    return removed;
}

static void on_expiry_timer(void *arg)
{
    rb_group_coord_t *coord = arg;
    coord->expiry_timer = 0;
    rb_group_expire_offsets(coord);
    if (coord->has_store && coord->store.maintain)
        coord->store.maintain(coord->store.ud, rb__group_wall(coord));
    rb__offsets_start_expiry(coord);
}

void rb__offsets_start_expiry(rb_group_coord_t *coord)
{
    if (coord->expiry_timer)
        return;
    coord->expiry_timer = coord->env.add_timer(
        coord->env.ud, coord->config.offsets_retention_check_interval_ms, on_expiry_timer, coord);
}

/* ---- transactional offsets ------------------------------------------------------------ */

static GHashTable *pending_table(rb_group_t *group, int64_t producer_id, bool create)
{
    GHashTable *table = g_hash_table_lookup(group->pending_txn, &producer_id);
    if (!table && create) {
        table = rb__offsets_table_new();
        int64_t *key = g_new(int64_t, 1);
        *key = producer_id;
        g_hash_table_insert(group->pending_txn, key, table);
    }
    return table;
}

int16_t rb_group_txn_offset_commit(rb_group_coord_t *coord, const char *group_id,
                                   int64_t producer_id, int16_t producer_epoch,
                                   int32_t generation_id, const char *member_id,
                                   const char *group_instance_id, rb_offset_commit_part_t *parts,
                                   size_t count)
{
    g_assert(coord->in_callback == 0);
    int16_t err = RB_GROUP_ERR_NONE;
    if (!member_id)
        member_id = "";
    if (!coord->loaded)
        err = RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    else if (!group_id)
        err = RB_GROUP_ERR_INVALID_GROUP_ID;
    else if (producer_id < 0)
        err = 49; /* INVALID_PRODUCER_ID_MAPPING */
    rb_group_t *group = err ? NULL : rb__group_get(coord, group_id);
    bool created = false;
    if (!err && !group) {
        group = rb__group_get_or_add(coord, group_id);
        created = true;
    }
    if (!err) {
        /* Kafka's doTxnCommitOffsets checks. */
        if (group->state == RB_GROUP_DEAD)
            err = RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE;
        else if (group_instance_id && *member_id &&
                 rb__group_validate_member(group, member_id, group_instance_id) ==
                     RB_GROUP_ERR_FENCED_INSTANCE_ID)
            err = RB_GROUP_ERR_FENCED_INSTANCE_ID;
        else if (*member_id && !rb__group_member(group, member_id))
            err = RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
        else if (generation_id >= 0 && generation_id != group->generation_id)
            err = RB_GROUP_ERR_ILLEGAL_GENERATION;
    }
    if (err) {
        fill_errors(parts, count, err);
        if (created)
            rb__group_remove(coord, group);
        return err;
    }
    g_autoptr(GPtrArray) written = NULL;
    err = write_commit(group, parts, count, producer_id, producer_epoch, &written);
    if (written->len > 0) {
        GHashTable *table = pending_table(group, producer_id, true);
        while (written->len > 0)
            offset_put(table, g_ptr_array_steal_index_fast(written, written->len - 1));
    }
    if (created && g_hash_table_size(group->pending_txn) == 0)
        rb__group_remove(coord, group);
    return err;
}

/* Moves (commit) or drops (abort) producer_id's pending offsets in every group. */
static void apply_txn_end(rb_group_coord_t *coord, int64_t producer_id, bool commit)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, coord->groups);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_group_t *group = value;
        GHashTable *table = pending_table(group, producer_id, false);
        if (!table)
            continue;
        if (commit) {
            GHashTableIter tit;
            gpointer key;
            g_hash_table_iter_init(&tit, table);
            while (g_hash_table_iter_next(&tit, &key, NULL)) {
                g_hash_table_iter_steal(&tit);
                offset_put(group->offsets, key);
            }
        }
        g_hash_table_remove(group->pending_txn, &producer_id);
    }
}

int16_t rb_group_txn_complete(rb_group_coord_t *coord, int64_t producer_id, int16_t producer_epoch,
                              bool commit)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    bool any = false;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, coord->groups);
    while (!any && g_hash_table_iter_next(&it, NULL, &value))
        any = pending_table(value, producer_id, false) != NULL;
    if (!any)
        return RB_GROUP_ERR_NONE;
    rb_offsets_batch_t batch;
    rb__batch_begin(&batch, rb__group_wall(coord));
    rill_wbuf_t key, val;
    rill__wbuf_init(&key, 8);
    rill__wbuf_init(&val, 8);
    rb__record_marker_key(&key, commit);
    rb__record_marker_value(&val);
    rb__batch_add(&batch, &key, &val);
    rill__wbuf_free(&key);
    rill__wbuf_free(&val);
    int16_t err = rb__batch_finish_append(coord, &batch, producer_id, producer_epoch, true, true);
    if (err) {
        RILL_LOG_WARN(LOG_COMP,
                      "transaction marker for producer %" G_GINT64_FORMAT " not stored: error %d",
                      producer_id, err);
        return RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    apply_txn_end(coord, producer_id, commit);
    return RB_GROUP_ERR_NONE;
}

int16_t rb_group_txn_end(rb_group_coord_t *coord, const char *group_id, int64_t producer_id,
                         int16_t producer_epoch, bool commit)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    rb_group_t *group = rb__group_get(coord, group_id);
    if (!group || !pending_table(group, producer_id, false))
        return RB_GROUP_ERR_NONE;
    return rb_group_txn_complete(coord, producer_id, producer_epoch, commit);
}

bool rb_group_has_pending_txn_offsets(const rb_group_coord_t *coord, const char *group_id)
{
    rb_group_t *group = rb__group_get((rb_group_coord_t *)coord, group_id);
    return group && g_hash_table_size(group->pending_txn) > 0;
}

/* ---- replay ------------------------------------------------------------------------------ */

void rb__offsets_load_commit(rb_group_coord_t *coord, const char *group_id, rb_offset_t *off)
{
    rb_group_t *group = rb__group_get_or_add(coord, group_id);
    offset_put(group->offsets, off);
}

void rb__offsets_load_tombstone(rb_group_coord_t *coord, const char *group_id, const char *topic,
                                int32_t partition)
{
    rb_group_t *group = rb__group_get(coord, group_id);
    if (!group)
        return;
    rb_offset_t key = {.topic = (char *)topic, .partition = partition};
    g_hash_table_remove(group->offsets, &key);
}

void rb__offsets_load_txn(rb_group_coord_t *coord, const char *group_id, int64_t producer_id,
                          rb_offset_t *off)
{
    rb_group_t *group = rb__group_get_or_add(coord, group_id);
    offset_put(pending_table(group, producer_id, true), off);
}

void rb__offsets_load_marker(rb_group_coord_t *coord, int64_t producer_id, bool commit)
{
    apply_txn_end(coord, producer_id, commit);
}
