/* merge.c: merge: one node with two parents that forwards whatever arrives,
 * in arrival order. Both parents end up in the same sub-topology (their
 * sources are co-partitioned). */
#include "config.h"

#include <rill/topology.h>

#include "runtime/node.h"

static rill_err_t merge_process(rill__pnode_t *pnode, const rill_record_t *record,
                                rill_error_t **error)
{
    return rill__pnode_forward(pnode, record, error);
}

static const rill__node_ops_t merge_ops = {.kind = "MERGE", .process = merge_process};

RILL_EXPORT rill_stream_t *rill_stream_merge(rill_stream_t *stream, rill_stream_t *other,
                                             const char *name)
{
    if (stream != NULL && other == NULL) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG, "rill_stream_merge: other is NULL");
        return NULL;
    }
    if (stream != NULL && stream == other) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "rill_stream_merge: a stream cannot be merged with itself");
        return NULL;
    }
    rill_stream_t *parents[2] = {stream, other};
    return rill__builder_add_processor(parents, 2, &merge_ops, NULL, name, false);
}
