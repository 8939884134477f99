/* process.c: user processors and value transformers (include/rill/processor.h)
 * and their punctuators.
 *
 * Each task gets an instance of the node: a context (what the callbacks
 * see), the user's state and the punctuation schedule. A processor and a
 * value transformer share all of it; they differ in process() only (a
 * transformer's output is the value it returns, and its context refuses
 * forwards).
 *
 * The schedule is an array of entries in the order they were scheduled. An
 * entry is due when the time of its type reaches `next`; it then fires once
 * with that time and moves to the first grid point (next + k * interval)
 * after it, so a jump in time fires once, not once per missed interval. A
 * stream-time entry scheduled before the task saw a record starts its grid
 * at the first stream time it sees (next = -1 until then).
 *
 * Cancellation: an entry, once cancelled, is marked and never fires again;
 * the array is compacted only when no round is iterating it (firing == 0),
 * so that a punctuator may cancel itself or another entry, or schedule new
 * ones (appended, and not fired in the round that is running: a round looks
 * at the entries that existed when it began).
 *
 *     schedule ──► WAITING (stream time, before the task's first record)
 *        │             │ fire_due sees stream time t: next = t + interval
 *        │             ▼
 *        └───────► ARMED ──fire_due, time >= next: fire; next = first grid point > time──► ARMED
 *                      │ rill_context_cancel (any callback, even the punctuator's own)
 *                      ▼
 *                  CANCELLED ──compact (end of the round, or at once outside one)──► removed */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/processor.h>

#include "runtime/node.h"

typedef struct schedule {
    uint64_t id;
    rill_punctuation_type_t type;
    int64_t interval;
    int64_t next; /* -1: waiting for the first stream time */
    rill_punctuate_fn fn;
    bool cancelled;
} schedule_t;

struct rill_context {
    rill__pnode_t *pnode;
    void *state;
    GArray *schedules; /* schedule_t, in the order scheduled */
    uint64_t last_id;  /* ids are 1, 2, ... */
    int firing;        /* > 0 while a round iterates schedules */
    bool transformer;  /* a value transformer: forwards are refused */
};

typedef struct process_config {
    rill_processor_t processor; /* init, close, user_data of a value transformer too */
    rill_err_t (*transform)(rill_context_t *context, const rill_record_t *record, void *state,
                            rill_value_t *out, rill_error_t **error); /* NULL: a processor */
} process_config_t;

static rill_err_t process_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const process_config_t *config = pnode->node->config;
    rill_context_t *context = g_new0(rill_context_t, 1);
    context->pnode = pnode;
    context->schedules = g_array_new(FALSE, FALSE, sizeof(schedule_t));
    context->transformer = config->transform != NULL;
    pnode->state = context;
    if (config->processor.init == NULL)
        return RILL_OK;
    rill_err_t err =
        config->processor.init(context, config->processor.user_data, &context->state, error);
    if (err != RILL_OK) { /* a failed init is not closed: undo it here */
        if (error != NULL && *error == NULL)
            rill_error_set(error, err, "init failed without an error message");
        g_array_free(context->schedules, TRUE);
        g_free(context);
        pnode->state = NULL;
    }
    return err;
}

static void process_free(rill__pnode_t *pnode)
{
    const process_config_t *config = pnode->node->config;
    rill_context_t *context = pnode->state;
    if (context == NULL)
        return;
    if (config->processor.close != NULL)
        config->processor.close(context->state, config->processor.user_data);
    g_array_free(context->schedules, TRUE);
    g_free(context);
}

static rill_err_t process_process(rill__pnode_t *pnode, const rill_record_t *record,
                                  rill_error_t **error)
{
    const process_config_t *config = pnode->node->config;
    rill_context_t *context = pnode->state;
    rill_err_t err = config->processor.process(context, record, context->state, error);
    if (err != RILL_OK && error != NULL && *error == NULL)
        rill_error_set(error, err, "process failed without an error message");
    return err;
}

/* A value transformer: the input, with the value transform() set. */
static rill_err_t transform_process(rill__pnode_t *pnode, const rill_record_t *record,
                                    rill_error_t **error)
{
    const process_config_t *config = pnode->node->config;
    rill_context_t *context = pnode->state;
    rill_record_t out;
    rill__record_derive(&out, record);
    out.value = (rill_value_t)RILL__VALUE_NULL_INIT;
    rill_err_t err = config->transform(context, record, context->state, &out.value, error);
    if (err == RILL_OK)
        err = rill__pnode_forward(pnode, &out, error);
    else if (error != NULL && *error == NULL)
        rill_error_set(error, err, "transform failed without an error message");
    rill__record_release(&out);
    return err;
}

/* Drops the cancelled entries (outside rounds only: indexes stay put during one). */
static void compact(rill_context_t *context)
{
    if (context->firing > 0)
        return;
    guint kept = 0;
    for (guint i = 0; i < context->schedules->len; i++) {
        schedule_t s = g_array_index(context->schedules, schedule_t, i);
        if (!s.cancelled)
            g_array_index(context->schedules, schedule_t, kept++) = s;
    }
    g_array_set_size(context->schedules, kept);
}

/* One round: fires the entries of type that are due at now. An entry is
 * re-read by index after each call, as a punctuator may append (and so
 * move) the array. */
static rill_err_t fire_due(rill_context_t *context, rill_punctuation_type_t type, int64_t now,
                           rill_error_t **error)
{
    if (now < 0)
        return RILL_OK;
    rill_err_t err = RILL_OK;
    guint count = context->schedules->len; /* entries added during the round wait */
    context->firing++;
    for (guint i = 0; i < count && err == RILL_OK; i++) {
        schedule_t *s = &g_array_index(context->schedules, schedule_t, i);
        if (s->type != type || s->cancelled)
            continue;
        if (s->next < 0) {
            s->next = now + s->interval;
            continue;
        }
        if (now < s->next)
            continue;
        s->next += ((now - s->next) / s->interval + 1) * s->interval;
        err = s->fn(context, now, context->state, error);
        if (err != RILL_OK && error != NULL && *error == NULL)
            rill_error_set(error, err, "a punctuator failed without an error message");
    }
    context->firing--;
    compact(context);
    return err;
}

static rill_err_t process_punctuate(rill__pnode_t *pnode, int64_t stream_time, int64_t wall_ms,
                                    rill_error_t **error)
{
    rill_context_t *context = pnode->state;
    if (context->schedules->len == 0)
        return RILL_OK;
    rill_err_t err = fire_due(context, RILL_PUNCTUATE_STREAM_TIME, stream_time, error);
    if (err == RILL_OK)
        err = fire_due(context, RILL_PUNCTUATE_WALL_CLOCK, wall_ms, error);
    return err;
}

static void process_config_free(void *ptr)
{
    g_free(ptr);
}

static const rill__node_ops_t process_ops = {
    .kind = "PROCESSOR",
    .process = process_process,
    .init = process_init,
    .state_free = process_free,
    .punctuate = process_punctuate,
    .config_free = process_config_free,
    .stateful = true, /* the stores named in rill_stream_process (operators/store.c) */
};

static const rill__node_ops_t transform_values_ops = {
    .kind = "TRANSFORMVALUES",
    .process = transform_process,
    .init = process_init,
    .state_free = process_free,
    .punctuate = process_punctuate,
    .config_free = process_config_free,
    .stateful = true,
};

/* The node instance behind a context (for rill_context_get_store, operators/store.c). */
rill__pnode_t *rill__context_pnode(rill_context_t *context);
rill__pnode_t *rill__context_pnode(rill_context_t *context)
{
    return context->pnode;
}

/* Adds the node with config (transfer full) and its stores below stream. */
static rill_stream_t *add_node(rill_stream_t *stream, const rill__node_ops_t *ops,
                               process_config_t *config, const char *const *store_names,
                               const char *name, bool key_changed)
{
    rill_stream_t *out = rill__builder_add_processor(&stream, 1, ops, config, name, key_changed);
    if (out == NULL)
        return NULL;
    rill__node_t *node = rill__stream_node(out);
    for (const char *const *store = store_names; store != NULL && *store != NULL; store++)
        g_ptr_array_add(node->stores, g_strdup(*store));
    return out;
}

RILL_EXPORT rill_stream_t *rill_stream_process(rill_stream_t *stream,
                                               const rill_processor_t *processor,
                                               const char *const *store_names, const char *name)
{
    if (stream != NULL && (processor == NULL || processor->process == NULL)) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "rill_stream_process: a processor with a process callback is required");
        return NULL;
    }
    process_config_t *config = g_new0(process_config_t, 1);
    if (processor != NULL)
        config->processor = *processor;
    return add_node(stream, &process_ops, config, store_names, name, true);
}

RILL_EXPORT rill_stream_t *rill_stream_transform_values(rill_stream_t *stream,
                                                        const rill_value_transformer_t *transformer,
                                                        const char *const *store_names,
                                                        const char *name)
{
    if (stream != NULL && (transformer == NULL || transformer->transform == NULL)) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "rill_stream_transform_values: a transformer with a transform "
                           "callback is required");
        return NULL;
    }
    process_config_t *config = g_new0(process_config_t, 1);
    if (transformer != NULL) {
        config->processor.init = transformer->init;
        config->processor.close = transformer->close;
        config->processor.user_data = transformer->user_data;
        config->transform = transformer->transform;
    }
    return add_node(stream, &transform_values_ops, config, store_names, name, false);
}

/* ---- forwarding ----------------------------------------------------------- */

/* RILL_OK if context may forward; else why not (a value transformer's). */
static rill_err_t check_forward(rill_context_t *context, const char *what, rill_error_t **error)
{
    if (context == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "%s: context is NULL", what);
    if (context->transformer)
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "%s: %s is a value transformer, whose only output is the value "
                              "transform() returns: it cannot forward",
                              what, context->pnode->node->name);
    return RILL_OK;
}

/* The index of pnode's child named name, or -1 with *error listing its children. */
static int child_index(rill__pnode_t *pnode, const char *name, const char *what,
                       rill_error_t **error)
{
    for (int i = 0; i < pnode->child_count; i++)
        if (strcmp(pnode->children[i]->node->name, name) == 0)
            return i;
    g_autoptr(GString) names = g_string_new(NULL);
    for (int i = 0; i < pnode->child_count; i++)
        g_string_append_printf(names, "%s%s", i > 0 ? ", " : "", pnode->children[i]->node->name);
    rill_error_set(error, RILL_ERR_NOT_FOUND, "%s: %s has no child named '%s' (its children: %s)",
                   what, pnode->node->name, name, names->len > 0 ? names->str : "none");
    return -1;
}

RILL_EXPORT rill_err_t rill_context_forward(rill_context_t *context, const rill_record_t *record,
                                            rill_error_t **error)
{
    if (record == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_context_forward: NULL record");
    rill_err_t err = check_forward(context, "rill_context_forward", error);
    if (err != RILL_OK)
        return err;
    return rill__pnode_forward(context->pnode, record, error);
}

RILL_EXPORT rill_err_t rill_context_forward_to(rill_context_t *context, const char *child,
                                               const rill_record_t *record, rill_error_t **error)
{
    if (record == NULL || child == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "rill_context_forward_to: NULL record or child");
    rill_err_t err = check_forward(context, "rill_context_forward_to", error);
    if (err != RILL_OK)
        return err;
    int i = child_index(context->pnode, child, "rill_context_forward_to", error);
    if (i < 0)
        return RILL_ERR_NOT_FOUND;
    return rill__pnode_forward_to(context->pnode, i, record, error);
}

/* Forwards a new record to child i (-1: to every child). */
static rill_err_t forward_new(rill_context_t *context, int child, const rill_record_t *base,
                              const rill_value_t *key, const rill_value_t *value, int64_t timestamp,
                              const rill_header_t *headers, size_t header_count,
                              bool replace_headers, rill_error_t **error)
{
    if (replace_headers && header_count > 0 && headers == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "rill_context_forward_with_headers: headers is NULL");
    for (size_t i = 0; replace_headers && i < header_count; i++)
        if (headers[i].name == NULL)
            return rill_error_set(error, RILL_ERR_INVALID_ARG,
                                  "rill_context_forward_with_headers: header %zu has no name", i);
    rill_record_t out = {
        .key = RILL__VALUE_NULL_INIT,
        .value = RILL__VALUE_NULL_INIT,
        .partition = -1,
        .offset = -1,
    };
    if (base != NULL)
        rill__record_derive(&out, base);
    out.timestamp = timestamp;
    out.key = (rill_value_t)RILL__VALUE_NULL_INIT;
    out.value = (rill_value_t)RILL__VALUE_NULL_INIT;
    if (key != NULL)
        rill__value_view(&out.key, key);
    if (value != NULL)
        rill__value_view(&out.value, value);
    if (replace_headers) {
        out.headers = (const rill__header_t *)headers;
        out.header_count = headers != NULL ? header_count : 0;
    }
    if (child >= 0)
        return rill__pnode_forward_to(context->pnode, child, &out, error);
    return rill__pnode_forward(context->pnode, &out, error);
}

RILL_EXPORT rill_err_t rill_context_forward_values(rill_context_t *context,
                                                   const rill_record_t *base,
                                                   const rill_value_t *key,
                                                   const rill_value_t *value, int64_t timestamp,
                                                   rill_error_t **error)
{
    rill_err_t err = check_forward(context, "rill_context_forward_values", error);
    if (err != RILL_OK)
        return err;
    return forward_new(context, -1, base, key, value, timestamp, NULL, 0, false, error);
}

RILL_EXPORT rill_err_t rill_context_forward_values_to(rill_context_t *context, const char *child,
                                                      const rill_record_t *base,
                                                      const rill_value_t *key,
                                                      const rill_value_t *value, int64_t timestamp,
                                                      rill_error_t **error)
{
    if (child == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "rill_context_forward_values_to: NULL child");
    rill_err_t err = check_forward(context, "rill_context_forward_values_to", error);
    if (err != RILL_OK)
        return err;
    int i = child_index(context->pnode, child, "rill_context_forward_values_to", error);
    if (i < 0)
        return RILL_ERR_NOT_FOUND;
    return forward_new(context, i, base, key, value, timestamp, NULL, 0, false, error);
}

RILL_EXPORT rill_err_t rill_context_forward_with_headers(
    rill_context_t *context, const rill_record_t *base, const rill_value_t *key,
    const rill_value_t *value, int64_t timestamp, const rill_header_t *headers, size_t header_count,
    rill_error_t **error)
{
    rill_err_t err = check_forward(context, "rill_context_forward_with_headers", error);
    if (err != RILL_OK)
        return err;
    return forward_new(context, -1, base, key, value, timestamp, headers, header_count, true,
                       error);
}

/* ---- punctuators ---------------------------------------------------------- */

RILL_EXPORT rill_err_t rill_context_schedule_cancellable(rill_context_t *context,
                                                         int64_t interval_ms,
                                                         rill_punctuation_type_t type,
                                                         rill_punctuate_fn fn, uint64_t *punctuator,
                                                         rill_error_t **error)
{
    if (context == NULL || fn == NULL || interval_ms <= 0 ||
        (type != RILL_PUNCTUATE_STREAM_TIME && type != RILL_PUNCTUATE_WALL_CLOCK))
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "rill_context_schedule: a function, a type and an interval > 0 "
                              "are required");
    schedule_t s = {.id = ++context->last_id, .type = type, .interval = interval_ms, .fn = fn};
    if (type == RILL_PUNCTUATE_WALL_CLOCK) {
        s.next = rill__pnode_wall_clock(context->pnode) + interval_ms;
    } else {
        int64_t stream_time = rill__pnode_stream_time(context->pnode);
        s.next = stream_time >= 0 ? stream_time + interval_ms : -1;
    }
    g_array_append_val(context->schedules, s);
    if (punctuator != NULL)
        *punctuator = s.id;
    return RILL_OK;
}

RILL_EXPORT rill_err_t rill_context_schedule(rill_context_t *context, int64_t interval_ms,
                                             rill_punctuation_type_t type, rill_punctuate_fn fn,
                                             rill_error_t **error)
{
    return rill_context_schedule_cancellable(context, interval_ms, type, fn, NULL, error);
}

RILL_EXPORT rill_err_t rill_context_cancel(rill_context_t *context, uint64_t punctuator,
                                           rill_error_t **error)
{
    if (context == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_context_cancel: NULL context");
    for (guint i = 0; i < context->schedules->len; i++) {
        schedule_t *s = &g_array_index(context->schedules, schedule_t, i);
        if (s->id == punctuator && !s->cancelled) {
            s->cancelled = true;
            compact(context);
            return RILL_OK;
        }
    }
    return rill_error_set(error, RILL_ERR_NOT_FOUND,
                          "rill_context_cancel: %s has no punctuator %" G_GUINT64_FORMAT
                          " (never scheduled, or cancelled already)",
                          context->pnode->node->name, (guint64)punctuator);
}

/* ---- where the instance runs ---------------------------------------------- */

RILL_EXPORT int64_t rill_context_stream_time(const rill_context_t *context)
{
    return context != NULL ? rill__pnode_stream_time(context->pnode) : -1;
}

RILL_EXPORT int64_t rill_context_wall_clock(const rill_context_t *context)
{
    return context != NULL ? rill__pnode_wall_clock(context->pnode) : -1;
}

RILL_EXPORT const char *rill_context_task_id(const rill_context_t *context)
{
    return context != NULL ? rill__pnode_task_id(context->pnode) : NULL;
}

RILL_EXPORT int32_t rill_context_partition(const rill_context_t *context)
{
    return context != NULL ? rill__pnode_partition(context->pnode) : -1;
}
