/* groups.h: who in a consumer group has which partitions, from the group
 * coordinator (DescribeConsumerGroups), for queryable state's key owners.
 *
 * A rill__kgroups_t is a long-lived admin client (one per app, made on the
 * first question) so that each question is one round trip. */
#ifndef RILL_RUNTIME_KAFKA_GROUPS_H
#define RILL_RUNTIME_KAFKA_GROUPS_H

#include <stdint.h>

#include <glib.h>

#include "runtime/config-private.h"
#include "runtime/task.h"

typedef struct rill__kgroups rill__kgroups_t;

/* One member of a group and its assigned partitions. */
typedef struct rill__group_member {
    char *client_id;
    char **topics; /* topics[i], partitions[i]: the i-th assigned partition */
    int32_t *partitions;
    int count;
} rill__group_member_t;

/* (transfer full: rill__kgroups_destroy) */
rill__kgroups_t *rill__kgroups_new(const rill_config_t *config, rill_error_t **error);
void rill__kgroups_destroy(rill__kgroups_t *groups);

/* The members of group (transfer full: *members is a GPtrArray of
 * rill__group_member_t with its free function). An unknown or empty group
 * gives no members. */
rill_err_t rill__kgroups_describe(rill__kgroups_t *groups, const char *group, GPtrArray **members,
                                  int timeout_ms, rill_error_t **error);

#endif /* RILL_RUNTIME_KAFKA_GROUPS_H */
