/* filter.c: filter / filterNot: forward the records a predicate accepts
 * (or rejects), unchanged and without copying. */
#include "config.h"

#include <rill/topology.h>

#include "operators/callback.h"
#include "runtime/node.h"

static rill_err_t filter_process(rill__pnode_t *pnode, const rill_record_t *record,
                                 rill_error_t **error)
{
    const rill__callback_t *callback = pnode->node->config;
    bool keep = ((rill_predicate_fn)callback->fn)(record, callback->user_data);
    if (keep != callback->negate)
        return rill__pnode_forward(pnode, record, error);
    return RILL_OK;
}

static const rill__node_ops_t filter_ops = {
    .kind = "FILTER",
    .process = filter_process,
    .config_free = g_free,
};

static rill_stream_t *add_filter(rill_stream_t *stream, rill_predicate_fn predicate,
                                 void *user_data, const char *name, bool negate)
{
    if (stream != NULL && predicate == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "%s: a predicate is required",
                           negate ? "rill_stream_filter_not" : "rill_stream_filter");
        return NULL;
    }
    rill__callback_t *callback = rill__callback_new((void (*)(void))predicate, user_data);
    callback->negate = negate;
    return rill__builder_add_processor(&stream, 1, &filter_ops, callback, name, false);
}

RILL_EXPORT rill_stream_t *rill_stream_filter(rill_stream_t *stream, rill_predicate_fn predicate,
                                              void *user_data, const char *name)
{
    return add_filter(stream, predicate, user_data, name, false);
}

RILL_EXPORT rill_stream_t *rill_stream_filter_not(rill_stream_t *stream,
                                                  rill_predicate_fn predicate, void *user_data,
                                                  const char *name)
{
    return add_filter(stream, predicate, user_data, name, true);
}
