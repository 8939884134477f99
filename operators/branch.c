/* branch.c: split() into named branches (KIP-418).
 *
 * split adds one BRANCH node; each branch adds a pass-through BRANCHCHILD
 * node below it, named <split name><branch name>, and a predicate to the
 * BRANCH node's list, so that predicate i routes to child i. A record goes
 * to the first branch that accepts it (the default branch accepts all), or
 * nowhere. */
#include "config.h"

#include <glib.h>

#include <rill/topology.h>

#include "operators/callback.h"
#include "runtime/node.h"

typedef struct branch_config {
    GArray *branches; /* rill__callback_t; fn NULL = the default branch */
} branch_config_t;

struct rill_branched {
    rill_stream_t *stream; /* the BRANCH node's */
    char *prefix;
    int count;
    bool ended;
};

static rill_err_t branch_process(rill__pnode_t *pnode, const rill_record_t *record,
                                 rill_error_t **error)
{
    const branch_config_t *config = pnode->node->config;
    for (guint i = 0; i < config->branches->len; i++) {
        const rill__callback_t *branch = &g_array_index(config->branches, rill__callback_t, i);
        if (branch->fn == NULL || ((rill_predicate_fn)branch->fn)(record, branch->user_data))
            return rill__pnode_forward_to(pnode, (int)i, record, error);
    }
    return RILL_OK;
}

static void branch_config_free(void *ptr)
{
    branch_config_t *config = ptr;
    g_array_free(config->branches, TRUE);
    g_free(config);
}

static rill_err_t child_process(rill__pnode_t *pnode, const rill_record_t *record,
                                rill_error_t **error)
{
    return rill__pnode_forward(pnode, record, error);
}

static const rill__node_ops_t branch_ops = {
    .kind = "BRANCH", .process = branch_process, .config_free = branch_config_free};
static const rill__node_ops_t branch_child_ops = {.kind = "BRANCHCHILD", .process = child_process};

static void branched_free(void *ptr)
{
    rill_branched_t *branched = ptr;
    g_free(branched->prefix);
    g_free(branched);
}

RILL_EXPORT rill_branched_t *rill_stream_split(rill_stream_t *stream, const char *name)
{
    if (stream == NULL || !rill__builder_open(stream))
        return NULL;
    branch_config_t *config = g_new0(branch_config_t, 1);
    config->branches = g_array_new(FALSE, FALSE, sizeof(rill__callback_t));
    rill_stream_t *split =
        rill__builder_add_processor(&stream, 1, &branch_ops, config, name, false);
    if (split == NULL)
        return NULL;
    rill_branched_t *branched = g_new0(rill_branched_t, 1);
    branched->stream = split;
    branched->prefix = g_strdup_printf("%s-", rill__stream_node(split)->name);
    if (name != NULL) { /* a named split prefixes its branches with the name itself */
        g_free(branched->prefix);
        branched->prefix = g_strdup(name);
    }
    rill__builder_keep(split, branched, branched_free);
    return branched;
}

static rill_stream_t *add_branch(rill_branched_t *branched, rill_predicate_fn predicate,
                                 void *user_data, const char *name, const char *what)
{
    if (branched == NULL)
        return NULL;
    if (branched->ended) {
        rill__builder_fail(branched->stream, RILL_ERR_INVALID_STATE,
                           "%s: the split has its default branch: no branch can follow", what);
        return NULL;
    }
    g_autofree char *child_name =
        name != NULL ? g_strconcat(branched->prefix, name, NULL)
                     : g_strdup_printf("%s%d", branched->prefix,
                                       predicate != NULL ? branched->count + 1 : 0);
    rill_stream_t *child = rill__builder_add_processor(&branched->stream, 1, &branch_child_ops,
                                                       NULL, child_name, false);
    if (child == NULL)
        return NULL;
    branch_config_t *config = rill__stream_node(branched->stream)->config;
    rill__callback_t branch = {(void (*)(void))predicate, user_data, false};
    g_array_append_val(config->branches, branch);
    branched->count++;
    if (predicate == NULL)
        branched->ended = true;
    return child;
}

RILL_EXPORT rill_stream_t *rill_branched_branch(rill_branched_t *branched,
                                                rill_predicate_fn predicate, void *user_data,
                                                const char *name)
{
    if (branched != NULL && predicate == NULL) {
        rill__builder_fail(branched->stream, RILL_ERR_INVALID_ARG,
                           "rill_branched_branch: a predicate is required");
        return NULL;
    }
    return add_branch(branched, predicate, user_data, name, "rill_branched_branch");
}

RILL_EXPORT rill_stream_t *rill_branched_default_branch(rill_branched_t *branched, const char *name)
{
    return add_branch(branched, NULL, NULL, name, "rill_branched_default_branch");
}
