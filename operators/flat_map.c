/* flat_map.c: flatMap and flatMapValues: zero or more output records per input.
 *
 * The callback fills output slots (rill_flat_output_add); after it returns
 * the records are forwarded in order, then the slots are released. Slots are
 * per task and kept between records, so a steady stream allocates nothing
 * here. flatMap re-keys the stream; flatMapValues keeps the key. */
#include "config.h"

#include <rill/topology.h>

#include "operators/callback.h"
#include "runtime/node.h"

typedef struct slot {
    rill_value_t key;
    rill_value_t value;
} slot_t;

struct rill_flat_output {
    GPtrArray *slots; /* slot_t *, owned, reused */
    guint count;      /* slots in use for the current record */
    bool values_only;
};

RILL_EXPORT void rill_flat_output_add(rill_flat_output_t *output, rill_value_t **key_out,
                                      rill_value_t **value_out)
{
    if (output->count == output->slots->len)
        g_ptr_array_add(output->slots, g_new0(slot_t, 1));
    slot_t *slot = g_ptr_array_index(output->slots, output->count++);
    if (key_out != NULL)
        *key_out = output->values_only ? NULL : &slot->key;
    if (value_out != NULL)
        *value_out = &slot->value;
}

static void release_slots(rill_flat_output_t *output)
{
    for (guint i = 0; i < output->count; i++) {
        slot_t *slot = g_ptr_array_index(output->slots, i);
        rill__value_clear(&slot->key);
        rill__value_clear(&slot->value);
    }
    output->count = 0;
}

static rill_err_t flat_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const rill__callback_t *callback = pnode->node->config;
    rill_flat_output_t *output = g_new0(rill_flat_output_t, 1);
    output->slots = g_ptr_array_new_with_free_func(g_free);
    output->values_only = callback->negate; /* reused flag: true for flatMapValues */
    pnode->state = output;
    return RILL_OK;
}

static void flat_state_free(rill__pnode_t *pnode)
{
    rill_flat_output_t *output = pnode->state;
    release_slots(output);
    g_ptr_array_free(output->slots, TRUE);
    g_free(output);
}

static rill_err_t flat_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    const rill__callback_t *callback = pnode->node->config;
    rill_flat_output_t *output = pnode->state;
    output->count = 0;
    rill_err_t err = ((rill_flat_map_fn)callback->fn)(record, output, callback->user_data, error);
    if (err != RILL_OK && error != NULL && *error == NULL)
        rill_error_set(error, err, "the callback failed without an error message");
    for (guint i = 0; i < output->count && err == RILL_OK; i++) {
        slot_t *slot = g_ptr_array_index(output->slots, i);
        rill_record_t out;
        rill__record_derive(&out, record);
        if (!output->values_only)
            rill__value_view(&out.key, &slot->key);
        rill__value_view(&out.value, &slot->value);
        err = rill__pnode_forward(pnode, &out, error);
    }
    release_slots(output);
    return err;
}

static const rill__node_ops_t flat_map_ops = {
    .kind = "FLATMAP",
    .process = flat_process,
    .init = flat_init,
    .state_free = flat_state_free,
    .config_free = g_free,
};
static const rill__node_ops_t flat_map_values_ops = {
    .kind = "FLATMAPVALUES",
    .process = flat_process,
    .init = flat_init,
    .state_free = flat_state_free,
    .config_free = g_free,
};

static rill_stream_t *add_flat(rill_stream_t *stream, rill_flat_map_fn fn, void *user_data,
                               const char *name, bool values_only)
{
    if (stream != NULL && fn == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "%s: a function is required",
                           values_only ? "rill_stream_flat_map_values" : "rill_stream_flat_map");
        return NULL;
    }
    rill__callback_t *callback = rill__callback_new((void (*)(void))fn, user_data);
    callback->negate = values_only;
    return rill__builder_add_processor(&stream, 1,
                                       values_only ? &flat_map_values_ops : &flat_map_ops, callback,
                                       name, !values_only);
}

RILL_EXPORT rill_stream_t *rill_stream_flat_map(rill_stream_t *stream, rill_flat_map_fn fn,
                                                void *user_data, const char *name)
{
    return add_flat(stream, fn, user_data, name, false);
}

RILL_EXPORT rill_stream_t *rill_stream_flat_map_values(rill_stream_t *stream, rill_flat_map_fn fn,
                                                       void *user_data, const char *name)
{
    return add_flat(stream, fn, user_data, name, true);
}
