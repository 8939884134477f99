/* map.c: map, mapValues and selectKey: one output record per input.
 *
 * The output is a derived record on this stack frame: the parts that do not
 * change are borrowed views of the input, the new parts are set by the
 * callback into inline slots (owned or borrowed, see record.h) and released
 * once the children have returned. map and selectKey mark the stream as
 * re-keyed (a later key-based operation needs a repartition). */
#include "config.h"

#include <rill/topology.h>

#include "operators/callback.h"
#include "runtime/node.h"

typedef enum map_kind { MAP_KEY_VALUE, MAP_VALUE, MAP_KEY } map_kind_t;

typedef struct map_config {
    rill__callback_t callback;
    map_kind_t kind;
} map_config_t;

static rill_err_t map_process(rill__pnode_t *pnode, const rill_record_t *record,
                              rill_error_t **error)
{
    const map_config_t *config = pnode->node->config;
    void *user_data = config->callback.user_data;
    rill_record_t out;
    rill__record_derive(&out, record);
    rill_err_t err;
    switch (config->kind) {
    case MAP_KEY_VALUE:
        out.key = (rill_value_t)RILL__VALUE_NULL_INIT;
        out.value = (rill_value_t)RILL__VALUE_NULL_INIT;
        err = ((rill_map_fn)config->callback.fn)(record, &out.key, &out.value, user_data, error);
        break;
    case MAP_VALUE:
        out.value = (rill_value_t)RILL__VALUE_NULL_INIT;
        err = ((rill_map_one_fn)config->callback.fn)(record, &out.value, user_data, error);
        break;
    default:
        out.key = (rill_value_t)RILL__VALUE_NULL_INIT;
        err = ((rill_map_one_fn)config->callback.fn)(record, &out.key, user_data, error);
        break;
    }
    if (err == RILL_OK)
        err = rill__pnode_forward(pnode, &out, error);
    else if (error != NULL && *error == NULL)
        rill_error_set(error, err, "the callback failed without an error message");
    rill__record_release(&out);
    return err;
}

static const rill__node_ops_t map_ops = {
    .kind = "MAP", .process = map_process, .config_free = g_free};
static const rill__node_ops_t map_values_ops = {
    .kind = "MAPVALUES", .process = map_process, .config_free = g_free};
static const rill__node_ops_t select_key_ops = {
    .kind = "KEY-SELECT", .process = map_process, .config_free = g_free};

static rill_stream_t *add_map(rill_stream_t *stream, void (*fn)(void), void *user_data,
                              const char *name, map_kind_t kind, const rill__node_ops_t *ops,
                              const char *what)
{
    if (stream != NULL && fn == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "%s: a function is required", what);
        return NULL;
    }
    map_config_t *config = g_new0(map_config_t, 1);
    config->callback.fn = fn;
    config->callback.user_data = user_data;
    config->kind = kind;
    return rill__builder_add_processor(&stream, 1, ops, config, name, kind != MAP_VALUE);
}

RILL_EXPORT rill_stream_t *rill_stream_map(rill_stream_t *stream, rill_map_fn fn, void *user_data,
                                           const char *name)
{
    return add_map(stream, (void (*)(void))fn, user_data, name, MAP_KEY_VALUE, &map_ops,
                   "rill_stream_map");
}

RILL_EXPORT rill_stream_t *rill_stream_map_values(rill_stream_t *stream, rill_map_one_fn fn,
                                                  void *user_data, const char *name)
{
    return add_map(stream, (void (*)(void))fn, user_data, name, MAP_VALUE, &map_values_ops,
                   "rill_stream_map_values");
}

RILL_EXPORT rill_stream_t *rill_stream_select_key(rill_stream_t *stream, rill_map_one_fn fn,
                                                  void *user_data, const char *name)
{
    return add_map(stream, (void (*)(void))fn, user_data, name, MAP_KEY, &select_key_ops,
                   "rill_stream_select_key");
}
