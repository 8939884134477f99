/* restore.c: the restorer: buffer changelog records, write them to the innermost store in batches.
 *
 * Records are copied into one growing byte arena (keys and values back to
 * back) plus an array of offsets into it; both are reused from batch to
 * batch and grow by doubling (up to the batch's bounds), so a restore
 * allocates nothing per record once the first batch has sized them, and a
 * small restore allocates little. State machine: see restore.h. */
#include "config.h"

#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "stores/restore.h"

typedef enum { RESTORING, DONE, FAILED } restore_state_t;

typedef struct pending {
    size_t key_off, key_len;
    size_t value_off, value_len;
    bool tombstone;
    int64_t timestamp;
} pending_t;

struct rill__restorer {
    rill__kv_store_t *store; /* innermost */
    char *topic;
    int32_t partition;
    int64_t start_offset, end_offset;
    size_t batch_records;
    rill__restore_listener_t listener;
    restore_state_t state;

    GByteArray *arena;
    pending_t *pending;
    size_t n_pending, cap; /* pending and entries hold cap records */
    rill__kv_entry_t *entries;
    int64_t last_added;   /* offset of the last record added, -1 before any */
    int64_t next_offset;  /* 1 + last written */
    uint64_t records;     /* written */
    int64_t started_us;
};

rill__restorer_t *rill__restorer_new(rill__kv_store_t *store, const char *topic,
                                     int32_t partition, int64_t start_offset, int64_t end_offset,
                                     size_t batch_records, const rill__restore_listener_t *listener,
                                     rill_error_t **error)
{
    if (store == NULL || topic == NULL || start_offset < 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG,
                       "restore: store and topic are required, start offset must be >= 0");
        return NULL;
    }
    if (rill__kv_restore_begin(store, error) != RILL_OK) {
        rill_error_prefix(error, "restore of store %s from %s-%d: ", rill__kv_store_name(store),
                          topic, partition);
        return NULL;
    }
    rill__restorer_t *r = g_new0(rill__restorer_t, 1);
    r->store = rill__kv_store_innermost(store);
    r->topic = g_strdup(topic);
    r->partition = partition;
    r->start_offset = start_offset;
    r->end_offset = end_offset;
    r->batch_records = batch_records ? batch_records : RILL__RESTORE_BATCH_DEFAULT;
    if (listener)
        r->listener = *listener;
    r->arena = g_byte_array_sized_new(64u << 10);
    r->last_added = -1;
    r->next_offset = start_offset;
    r->started_us = rill__clock_mono_us();
    if (r->listener.on_start)
        r->listener.on_start(r->listener.ud, rill__kv_store_name(store), topic, partition,
                             start_offset, end_offset);
    RILL_LOG_INFO("stores.restore", "restoring store=%s topic=%s partition=%d from=%" G_GINT64_FORMAT
                  " to=%" G_GINT64_FORMAT,
                  rill__kv_store_name(store), topic, partition, start_offset, end_offset);
    return r;
}

static rill_err_t check_state(rill__restorer_t *r, rill_error_t **error)
{
    if (r == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "restore: restorer is NULL");
    if (r->state != RESTORING)
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "restore of store %s from %s-%d: already %s",
                              rill__kv_store_name(r->store), r->topic, r->partition,
                              r->state == DONE ? "finished" : "failed");
    return RILL_OK;
}

rill_err_t rill__restorer_write(rill__restorer_t *r, rill_error_t **error)
{
    rill_err_t err = check_state(r, error);
    if (err || r->n_pending == 0)
        return err;
    const uint8_t *base = r->arena->data;
    for (size_t i = 0; i < r->n_pending; i++) {
        const pending_t *p = &r->pending[i];
        r->entries[i] = (rill__kv_entry_t){
            base + p->key_off, p->key_len, p->tombstone ? NULL : base + p->value_off,
            p->value_len, p->timestamp};
    }
    err = rill__kv_put_batch(r->store, r->entries, r->n_pending, error);
    if (err) {
        r->state = FAILED;
        rill_error_prefix(error, "restore of store %s from %s-%d: ", rill__kv_store_name(r->store),
                          r->topic, r->partition);
        return err;
    }
    uint64_t n = r->n_pending;
    r->records += n;
    r->next_offset = r->last_added + 1;
    r->n_pending = 0;
    g_byte_array_set_size(r->arena, 0);
    if (r->listener.on_batch)
        r->listener.on_batch(r->listener.ud, rill__kv_store_name(r->store), r->topic,
                             r->partition, r->last_added, n);
    return RILL_OK;
}

rill_err_t rill__restorer_add(rill__restorer_t *r, const void *key, size_t key_len,
                              const void *value, size_t value_len, int64_t offset,
                              int64_t timestamp, rill_error_t **error)
{
    rill_err_t err = check_state(r, error);
    if (err)
        return err;
    if ((key == NULL && key_len > 0) || offset < r->start_offset || offset <= r->last_added) {
        r->state = FAILED;
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "restore of store %s from %s-%d: record at offset %" G_GINT64_FORMAT
                              " is out of order (last %" G_GINT64_FORMAT ", start %" G_GINT64_FORMAT
                              ") or has a NULL key",
                              rill__kv_store_name(r->store), r->topic, r->partition, offset,
                              r->last_added, r->start_offset);
    }
    if (r->n_pending == r->cap) {
        r->cap = MIN(MAX(r->cap * 2, 1024), r->batch_records);
        r->pending = g_renew(pending_t, r->pending, r->cap);
        r->entries = g_renew(rill__kv_entry_t, r->entries, r->cap);
    }
    pending_t *p = &r->pending[r->n_pending++];
    p->key_off = r->arena->len;
    p->key_len = key_len;
    if (key_len)
        g_byte_array_append(r->arena, key, (guint)key_len);
    p->tombstone = value == NULL;
    p->value_off = r->arena->len;
    p->value_len = value ? value_len : 0;
    if (value && value_len)
        g_byte_array_append(r->arena, value, (guint)value_len);
    p->timestamp = timestamp;
    r->last_added = offset;
    if (r->n_pending == r->batch_records || r->arena->len >= RILL__RESTORE_BATCH_MAX_BYTES)
        return rill__restorer_write(r, error);
    return RILL_OK;
}

rill_err_t rill__restorer_finish(rill__restorer_t *r, rill_error_t **error)
{
    rill_err_t err = rill__restorer_write(r, error);
    if (err)
        return err;
    err = rill__kv_flush(r->store, error);
    if (err == RILL_OK)
        err = rill__kv_restore_end(r->store, error);
    if (err) {
        r->state = FAILED;
        return err;
    }
    r->state = DONE;
    double secs = (double)(rill__clock_mono_us() - r->started_us) / 1e6;
    double rate = secs > 0 ? (double)r->records / secs : 0;
    if (r->listener.on_end)
        r->listener.on_end(r->listener.ud, rill__kv_store_name(r->store), r->topic, r->partition,
                           r->records, rate);
    RILL_LOG_INFO("stores.restore", "restored store=%s topic=%s partition=%d records=%" G_GUINT64_FORMAT
                  " records_per_sec=%.0f next_offset=%" G_GINT64_FORMAT,
                  rill__kv_store_name(r->store), r->topic, r->partition, r->records, rate,
                  r->next_offset);
    return RILL_OK;
}

int64_t rill__restorer_next_offset(const rill__restorer_t *r)
{
    return r->next_offset;
}

uint64_t rill__restorer_records(const rill__restorer_t *r)
{
    return r->records;
}

void rill__restorer_destroy(rill__restorer_t *r)
{
    if (r == NULL)
        return;
    if (r->state != DONE) {
        rill_error_t *err = NULL;
        if (rill__kv_restore_end(r->store, &err) != RILL_OK) {
            RILL_LOG_WARN("stores.restore", "store=%s: ending restore mode: %s",
                          rill__kv_store_name(r->store), rill_error_message(err));
            rill_error_destroy(err);
        }
    }
    g_byte_array_unref(r->arena);
    g_free(r->pending);
    g_free(r->entries);
    g_free(r->topic);
    g_free(r);
}
