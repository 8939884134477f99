/* partition-group.c: per-input record buffers of a multi-input task and the
 * smallest-timestamp-first choice between them (see partition-group.h for
 * the rules and the wait table).
 *
 * Design: each buffered record is one allocation holding the
 * rill__raw_record_t, its header array and then the bytes of key, value and
 * header names/values, so that a record costs one malloc and one free and
 * the raw record handed back points into it. The buffers are GQueues; N is
 * small (the source topics of one sub-topology), so the choice is a linear
 * scan of the N heads, not a heap.
 * Invariants: paused[i] is set only by _add (when the buffer reaches
 * max_buffered) and cleared only by _pop (at max_buffered / 2 or below);
 * idle_since >= 0 exactly while the group is waiting out idle_ms for
 * caught-up empty inputs. Ties between equal head timestamps go to the
 * lower input index, so the order is deterministic. */
#include <string.h>

#include <glib.h>

#include "runtime/partition-group.h"

typedef struct pg_record {
    rill__raw_record_t raw;
    rill__header_t headers[]; /* raw.header_count of them, then the bytes */
} pg_record_t;

typedef struct pg_input {
    GQueue queue; /* pg_record_t* */
    const char *topic;
    bool paused;
} pg_input_t;

struct rill__pgroup {
    int n;
    pg_input_t *inputs;
    size_t max_buffered;
    size_t resume_at;
    int64_t idle_ms;
    int64_t idle_since; /* monotonic ms, -1: not waiting for idle inputs */
    int64_t lag_since;  /* monotonic ms, -1: not waiting for a lagging input */
    size_t total;
    uint64_t enforced;
};

rill__pgroup_t *rill__pgroup_new(int n_inputs, const char *const *topics, int max_buffered,
                                 int64_t idle_ms)
{
    g_assert(n_inputs >= 1 && max_buffered >= 1);
    rill__pgroup_t *group = g_new0(rill__pgroup_t, 1);
    group->n = n_inputs;
    group->inputs = g_new0(pg_input_t, n_inputs);
    for (int i = 0; i < n_inputs; i++) {
        g_queue_init(&group->inputs[i].queue);
        group->inputs[i].topic = topics[i];
    }
    group->max_buffered = (size_t)max_buffered;
    group->resume_at = (size_t)max_buffered / 2;
    group->idle_ms = idle_ms;
    group->idle_since = -1;
    group->lag_since = -1;
    return group;
}

void rill__pgroup_destroy(rill__pgroup_t *group)
{
    if (!group)
        return;
    for (int i = 0; i < group->n; i++)
        g_queue_clear_full(&group->inputs[i].queue, g_free);
    g_free(group->inputs);
    g_free(group);
}

static pg_record_t *copy_record(const char *topic, const rill__raw_record_t *record)
{
    size_t bytes = record->key_len + record->value_len;
    for (size_t i = 0; i < record->header_count; i++)
        bytes += strlen(record->headers[i].name) + 1 + record->headers[i].value_len;
    size_t head = sizeof(pg_record_t) + record->header_count * sizeof(rill__header_t);
    pg_record_t *copy = g_malloc(head + bytes);
    char *p = (char *)copy + head;
    copy->raw = *record;
    copy->raw.topic = topic;
    if (record->key) {
        memcpy(p, record->key, record->key_len);
        copy->raw.key = p;
        p += record->key_len;
    }
    if (record->value) {
        memcpy(p, record->value, record->value_len);
        copy->raw.value = p;
        p += record->value_len;
    }
    for (size_t i = 0; i < record->header_count; i++) {
        const rill__header_t *h = &record->headers[i];
        size_t name_len = strlen(h->name) + 1;
        memcpy(p, h->name, name_len);
        copy->headers[i].name = p;
        p += name_len;
        copy->headers[i].value_len = h->value_len;
        copy->headers[i].value = NULL;
        if (h->value) {
            memcpy(p, h->value, h->value_len);
            copy->headers[i].value = p;
            p += h->value_len;
        }
    }
    copy->raw.headers = record->header_count ? copy->headers : NULL;
    return copy;
}

bool rill__pgroup_add(rill__pgroup_t *group, int input, const rill__raw_record_t *record)
{
    g_assert(input >= 0 && input < group->n);
    pg_input_t *in = &group->inputs[input];
    g_queue_push_tail(&in->queue, copy_record(in->topic, record));
    group->total++;
    if (!in->paused && in->queue.length >= group->max_buffered) {
        in->paused = true;
        return true;
    }
    return false;
}

const rill__raw_record_t *rill__pgroup_next(rill__pgroup_t *group, int64_t now_ms,
                                            rill__pgroup_caught_up_fn caught_up, void *ud,
                                            int *input)
{
    if (group->total == 0) {
        group->idle_since = group->lag_since = -1; /* waits start again with the next record */
        return NULL;
    }
    int best = -1;
    int64_t best_ts = 0;
    bool waiting_idle = false, lagging = false;
    for (int i = 0; i < group->n; i++) {
        pg_record_t *head = g_queue_peek_head(&group->inputs[i].queue);
        if (head) {
            if (best < 0 || head->raw.timestamp < best_ts) {
                best = i;
                best_ts = head->raw.timestamp;
            }
            continue;
        }
        if (group->idle_ms < 0)
            continue;
        if (caught_up(ud, i) != 1) {
            /* records are on their way: wait for them, within the bound */
            if (group->lag_since < 0)
                group->lag_since = now_ms;
            if (now_ms - group->lag_since < RILL__PGROUP_LAG_WAIT_MS) {
                group->idle_since = -1;
                return NULL;
            }
            lagging = true;
        }
        waiting_idle = true;
    }
    if (!lagging)
        group->lag_since = -1;
    if (waiting_idle && group->idle_ms > 0) {
        if (group->idle_since < 0)
            group->idle_since = now_ms;
        if (now_ms - group->idle_since < group->idle_ms)
            return NULL;
    }
    if (waiting_idle)
        group->enforced++;
    else
        group->idle_since = group->lag_since = -1;
    *input = best;
    return &((pg_record_t *)g_queue_peek_head(&group->inputs[best].queue))->raw;
}

bool rill__pgroup_pop(rill__pgroup_t *group, int input)
{
    g_assert(input >= 0 && input < group->n);
    pg_input_t *in = &group->inputs[input];
    pg_record_t *head = g_queue_pop_head(&in->queue);
    g_assert(head);
    g_free(head);
    if (--group->total == 0)
        group->idle_since = group->lag_since = -1; /* the next record waits afresh */
    if (in->paused && in->queue.length <= group->resume_at) {
        in->paused = false;
        return true;
    }
    return false;
}

size_t rill__pgroup_buffered(const rill__pgroup_t *group, int input)
{
    g_assert(input >= 0 && input < group->n);
    return group->inputs[input].queue.length;
}

size_t rill__pgroup_total(const rill__pgroup_t *group)
{
    return group->total;
}

bool rill__pgroup_paused(const rill__pgroup_t *group, int input)
{
    g_assert(input >= 0 && input < group->n);
    return group->inputs[input].paused;
}

uint64_t rill__pgroup_enforced(const rill__pgroup_t *group)
{
    return group->enforced;
}
