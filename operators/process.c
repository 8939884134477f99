/* process.c: user processors (include/rill/processor.h) and their punctuators.
 *
 * Each task gets an instance: a context (what the callbacks see), the user's
 * state and the punctuation schedule. A schedule entry is due when the time
 * of its type reaches `next`; it then fires once with that time and moves to
 * the first grid point (next + k * interval) after it, so a jump in time
 * fires once, not once per missed interval. A stream-time entry starts its
 * grid at the first stream time it sees (next = -1 until then). */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/processor.h>

#include "runtime/node.h"

typedef struct schedule {
    rill_punctuation_type_t type;
    int64_t interval;
    int64_t next; /* -1: not started */
    rill_punctuate_fn fn;
} schedule_t;

struct rill_context {
    rill__pnode_t *pnode;
    void *state;
    GArray *schedules; /* schedule_t */
    bool initializing;
};

typedef struct process_config {
    rill_processor_t processor;
} process_config_t;

static rill_err_t process_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const process_config_t *config = pnode->node->config;
    rill_context_t *context = g_new0(rill_context_t, 1);
    context->pnode = pnode;
    context->schedules = g_array_new(FALSE, FALSE, sizeof(schedule_t));
    pnode->state = context;
    if (config->processor.init == NULL)
        return RILL_OK;
    context->initializing = true;
    rill_err_t err =
        config->processor.init(context, config->processor.user_data, &context->state, error);
    context->initializing = false;
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

static rill_err_t fire_due(rill_context_t *context, rill_punctuation_type_t type, int64_t now,
                           rill_error_t **error)
{
    if (now < 0)
        return RILL_OK;
    for (guint i = 0; i < context->schedules->len; i++) {
        schedule_t *s = &g_array_index(context->schedules, schedule_t, i);
        if (s->type != type)
            continue;
        if (s->next < 0) {
            s->next = now + s->interval;
            continue;
        }
        if (now < s->next)
            continue;
        s->next += ((now - s->next) / s->interval + 1) * s->interval;
        rill_err_t err = s->fn(context, now, context->state, error);
        if (err != RILL_OK) {
            if (error != NULL && *error == NULL)
                rill_error_set(error, err, "a punctuator failed without an error message");
            return err;
        }
    }
    return RILL_OK;
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

/* The node instance behind a context (for rill_context_get_store, operators/store.c). */
rill__pnode_t *rill__context_pnode(rill_context_t *context);
rill__pnode_t *rill__context_pnode(rill_context_t *context)
{
    return context->pnode;
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
    rill_stream_t *out = rill__builder_add_processor(&stream, 1, &process_ops, config, name, true);
    if (out == NULL)
        return NULL;
    rill__node_t *node = rill__stream_node(out);
    for (const char *const *store = store_names; store != NULL && *store != NULL; store++)
        g_ptr_array_add(node->stores, g_strdup(*store));
    return out;
}

RILL_EXPORT rill_err_t rill_context_forward(rill_context_t *context, const rill_record_t *record,
                                            rill_error_t **error)
{
    if (context == NULL || record == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_context_forward: NULL argument");
    return rill__pnode_forward(context->pnode, record, error);
}

static rill_err_t forward_new(rill_context_t *context, const rill_record_t *base,
                              const rill_value_t *key, const rill_value_t *value, int64_t timestamp,
                              const rill_header_t *headers, size_t header_count,
                              bool replace_headers, rill_error_t **error)
{
    if (context == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_context_forward: context is NULL");
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
    return rill__pnode_forward(context->pnode, &out, error);
}

RILL_EXPORT rill_err_t rill_context_forward_values(rill_context_t *context,
                                                   const rill_record_t *base,
                                                   const rill_value_t *key,
                                                   const rill_value_t *value, int64_t timestamp,
                                                   rill_error_t **error)
{
    return forward_new(context, base, key, value, timestamp, NULL, 0, false, error);
}

RILL_EXPORT rill_err_t rill_context_forward_with_headers(
    rill_context_t *context, const rill_record_t *base, const rill_value_t *key,
    const rill_value_t *value, int64_t timestamp, const rill_header_t *headers, size_t header_count,
    rill_error_t **error)
{
    return forward_new(context, base, key, value, timestamp, headers, header_count, true, error);
}

RILL_EXPORT rill_err_t rill_context_schedule(rill_context_t *context, int64_t interval_ms,
                                             rill_punctuation_type_t type, rill_punctuate_fn fn,
                                             rill_error_t **error)
{
    if (context == NULL || fn == NULL || interval_ms <= 0 ||
        (type != RILL_PUNCTUATE_STREAM_TIME && type != RILL_PUNCTUATE_WALL_CLOCK))
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "rill_context_schedule: a function, a type and an interval > 0 "
                              "are required");
    if (!context->initializing)
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "rill_context_schedule: punctuators are scheduled in init()");
    schedule_t s = {type, interval_ms, -1, fn};
    if (type == RILL_PUNCTUATE_WALL_CLOCK)
        s.next = rill__pnode_wall_clock(context->pnode) + interval_ms;
    g_array_append_val(context->schedules, s);
    return RILL_OK;
}

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
