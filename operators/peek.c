/* peek.c: peek (a side effect, then forward unchanged) and foreach (a
 * terminal side effect). */
#include "config.h"

#include <rill/topology.h>

#include "operators/callback.h"
#include "runtime/node.h"

static rill_err_t peek_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    const rill__callback_t *callback = pnode->node->config;
    ((rill_foreach_fn)callback->fn)(record, callback->user_data);
    return rill__pnode_forward(pnode, record, error);
}

static const rill__node_ops_t peek_ops = {
    .kind = "PEEK", .process = peek_process, .config_free = g_free};
static const rill__node_ops_t foreach_ops = {
    .kind = "FOREACH", .process = peek_process, .config_free = g_free};

RILL_EXPORT rill_stream_t *rill_stream_peek(rill_stream_t *stream, rill_foreach_fn fn,
                                            void *user_data, const char *name)
{
    if (stream != NULL && fn == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "rill_stream_peek: a function is required");
        return NULL;
    }
    return rill__builder_add_processor(
        &stream, 1, &peek_ops, rill__callback_new((void (*)(void))fn, user_data), name, false);
}

RILL_EXPORT rill_err_t rill_stream_foreach(rill_stream_t *stream, rill_foreach_fn fn,
                                           void *user_data, const char *name)
{
    if (stream == NULL)
        return RILL_ERR_INVALID_ARG;
    if (fn == NULL)
        return rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                                  "rill_stream_foreach: a function is required");
    rill_stream_t *added = rill__builder_add_processor(
        &stream, 1, &foreach_ops, rill__callback_new((void (*)(void))fn, user_data), name, false);
    return added != NULL ? RILL_OK : RILL_ERR_INVALID_ARG;
}
