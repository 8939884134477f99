/* restore.c: the restorer: buffer changelog records, write them to the innermost store in batches.
 *
 * Records are copied into one growing byte arena (keys and values back to
 * back) plus an array of offsets into it; both are reused from batch to
 * batch and grow by doubling (up to the batch's bounds), so a restore
 * allocates nothing per record once the first batch has sized them, and a
 * small restore allocates little. State machine: see restore.h.
 *
 * Pipelining: a full batch of RILL__RESTORE_ASYNC_MIN_RECORDS records or
 * more is written by a thread of its own (sorting it and writing an SST file
 * take most of a restore's CPU) while the caller fills the other of two
 * buffers; before handing over the next batch, or when asked to write or
 * finish, the restorer waits for that thread and only then counts the batch
 * (records, next_offset) and calls on_batch, on the caller's thread. At most
 * one batch is in flight, so the store sees one writer at a time, in order.
 * Smaller batches are written in the caller's thread, as before. */
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

/* One buffer of records: an arena of keys and values, and where each is. */
typedef struct buffer {
    GByteArray *arena;
    pending_t *pending;
    rill__kv_entry_t *entries;
    size_t n, cap; /* pending and entries hold cap records */
    int64_t last_offset; /* of its last record */
} buffer_t;

/* The batch being written by a thread of its own. */
typedef struct job {
    rill__kv_store_t *store;
    buffer_t *buffer;
    rill_err_t err;
    rill_error_t *error;
} job_t;

struct rill__restorer {
    rill__kv_store_t *store; /* innermost */
    char *topic;
    int32_t partition;
    int64_t start_offset, end_offset;
    size_t batch_records;
    rill__restore_listener_t listener;
    restore_state_t state;

    buffer_t buffers[2];
    buffer_t *fill;   /* being filled by add() */
    GThread *writer;  /* writing the other buffer, or NULL */
    job_t job;
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
    for (int i = 0; i < 2; i++)
        r->buffers[i].arena = g_byte_array_new();
    r->fill = &r->buffers[0];
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

/* Points the buffer's entries at its arena. */
static void prepare(buffer_t *b)
{
    const uint8_t *base = b->arena->data;
    for (size_t i = 0; i < b->n; i++) {
        const pending_t *p = &b->pending[i];
        b->entries[i] = (rill__kv_entry_t){base + p->key_off, p->key_len,
                                           p->tombstone ? NULL : base + p->value_off,
                                           p->value_len, p->timestamp};
    }
}

static gpointer write_job(gpointer data)
{
    job_t *job = data;
    job->err = rill__kv_put_batch(job->store, job->buffer->entries, job->buffer->n, &job->error);
    return NULL;
}

/* The buffer was written (err RILL_OK) or not: count it, report it, empty it. */
static rill_err_t written(rill__restorer_t *r, buffer_t *b, rill_err_t err, rill_error_t *cause,
                          rill_error_t **error)
{
    if (err) {
        r->state = FAILED;
        if (error && *error == NULL)
            *error = cause;
        else
            rill_error_destroy(cause);
        rill_error_prefix(error, "restore of store %s from %s-%d: ", rill__kv_store_name(r->store),
                          r->topic, r->partition);
        return err;
    }
    uint64_t n = b->n;
    r->records += n;
    r->next_offset = b->last_offset + 1;
    b->n = 0;
    g_byte_array_set_size(b->arena, 0);
    if (r->listener.on_batch)
        r->listener.on_batch(r->listener.ud, rill__kv_store_name(r->store), r->topic,
                             r->partition, b->last_offset, n);
    return RILL_OK;
}

/* Waits for the batch in flight, if any, and counts it. */
static rill_err_t wait_writer(rill__restorer_t *r, rill_error_t **error)
{
    if (r->writer == NULL)
        return RILL_OK;
    g_thread_join(r->writer);
    r->writer = NULL;
    rill_error_t *cause = r->job.error;
    r->job.error = NULL;
    return written(r, r->job.buffer, r->job.err, cause, error);
}

/* Writes the fill buffer: in a thread of its own when it is large (the
 * caller goes on filling the other buffer), else here. */
static rill_err_t write_fill(rill__restorer_t *r, bool background, rill_error_t **error)
{
    rill_err_t err = wait_writer(r, error);
    buffer_t *b = r->fill;
    if (err || b->n == 0)
        return err;
    prepare(b);
    if (background && b->n >= RILL__RESTORE_ASYNC_MIN_RECORDS) {
        r->job = (job_t){r->store, b, RILL_OK, NULL};
        r->writer = g_thread_try_new("rill-restore", write_job, &r->job, NULL);
        if (r->writer) {
            r->fill = b == &r->buffers[0] ? &r->buffers[1] : &r->buffers[0];
            return RILL_OK;
        } /* no thread to be had: write it here */
    }
    rill_error_t *cause = NULL;
    err = rill__kv_put_batch(r->store, b->entries, b->n, &cause);
    return written(r, b, err, cause, error);
}

rill_err_t rill__restorer_write(rill__restorer_t *r, rill_error_t **error)
{
    rill_err_t err = check_state(r, error);
    if (err == RILL_OK)
        err = write_fill(r, false, error);
    return err;
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
    buffer_t *b = r->fill;
    if (b->n == b->cap) {
        b->cap = MIN(MAX(b->cap * 2, 1024), r->batch_records);
        b->pending = g_renew(pending_t, b->pending, b->cap);
        b->entries = g_renew(rill__kv_entry_t, b->entries, b->cap);
    }
    pending_t *p = &b->pending[b->n++];
    p->key_off = b->arena->len;
    p->key_len = key_len;
    if (key_len)
        g_byte_array_append(b->arena, key, (guint)key_len);
    p->tombstone = value == NULL;
    p->value_off = b->arena->len;
    p->value_len = value ? value_len : 0;
    if (value && value_len)
        g_byte_array_append(b->arena, value, (guint)value_len);
    p->timestamp = timestamp;
    b->last_offset = r->last_added = offset;
    if (b->n == r->batch_records || b->arena->len >= RILL__RESTORE_BATCH_MAX_BYTES)
        return write_fill(r, true, error);
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
    if (r->writer) { /* a batch in flight: let it end (what was written stays written) */
        g_thread_join(r->writer);
        rill_error_destroy(r->job.error);
    }
    if (r->state != DONE) {
        rill_error_t *err = NULL;
        if (rill__kv_restore_end(r->store, &err) != RILL_OK) {
            RILL_LOG_WARN("stores.restore", "store=%s: ending restore mode: %s",
                          rill__kv_store_name(r->store), rill_error_message(err));
            rill_error_destroy(err);
        }
    }
    for (int i = 0; i < 2; i++) {
        g_byte_array_unref(r->buffers[i].arena);
        g_free(r->buffers[i].pending);
        g_free(r->buffers[i].entries);
    }
    g_free(r->topic);
    g_free(r);
}
