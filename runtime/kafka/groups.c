/* groups.c: DescribeConsumerGroups through librdkafka's admin API (see groups.h).
 *
 * The call is asynchronous in librdkafka: it is made on a queue of our own
 * and its result waited for, at most timeout_ms. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "runtime/kafka/groups.h"
#include "runtime/kafka/kafka-private.h"

struct rill__kgroups {
    rd_kafka_t *rk;
};

rill__kgroups_t *rill__kgroups_new(const rill_config_t *config, rill_error_t **error)
{
    g_autofree char *client_id = rill__kafka_client_id(config, "query-admin", -1);
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_ADMIN, client_id, error);
    if (conf == NULL)
        return NULL;
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        rill_error_set(error, RILL_ERR_KAFKA, "cannot create the query admin client: %s", errstr);
        return NULL;
    }
    rill__kgroups_t *groups = g_new0(rill__kgroups_t, 1);
    groups->rk = rk;
    return groups;
}

void rill__kgroups_destroy(rill__kgroups_t *groups)
{
    if (groups == NULL)
        return;
    rd_kafka_destroy(groups->rk);
    g_free(groups);
}

static void member_free(rill__group_member_t *member)
{
    g_free(member->client_id);
    g_strfreev(member->topics);
    g_free(member->partitions);
    g_free(member);
}

rill_err_t rill__kgroups_describe(rill__kgroups_t *groups, const char *group, GPtrArray **members,
                                  int timeout_ms, rill_error_t **error)
{
    *members = NULL;
    rd_kafka_queue_t *queue = rd_kafka_queue_new(groups->rk);
    rd_kafka_AdminOptions_t *options =
        rd_kafka_AdminOptions_new(groups->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms, errstr, sizeof errstr);
    const char *names[1] = {group};
    rd_kafka_DescribeConsumerGroups(groups->rk, names, 1, options, queue);
    rd_kafka_event_t *event = rd_kafka_queue_poll(queue, timeout_ms + 1000);
    rill_err_t err = RILL_OK;
    if (event == NULL) {
        err = rill_error_set(error, RILL_ERR_TIMEOUT, "describing group %s: no answer within %d ms",
                             group, timeout_ms);
    } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = rill_error_set_full(error, RILL_ERR_KAFKA, rd_kafka_event_error(event), 1,
                                  "describing group %s: %s", group,
                                  rd_kafka_event_error_string(event));
    } else {
        const rd_kafka_DescribeConsumerGroups_result_t *result =
            rd_kafka_event_DescribeConsumerGroups_result(event);
        size_t n = 0;
        const rd_kafka_ConsumerGroupDescription_t **descs =
            rd_kafka_DescribeConsumerGroups_result_groups(result, &n);
        GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)member_free);
        for (size_t g = 0; err == RILL_OK && g < n; g++) {
            const rd_kafka_error_t *gerr = rd_kafka_ConsumerGroupDescription_error(descs[g]);
            if (gerr != NULL && rd_kafka_error_code(gerr) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
                err = rill_error_set_full(error, RILL_ERR_KAFKA, rd_kafka_error_code(gerr),
                                          rd_kafka_error_is_retriable(gerr),
                                          "describing group %s: %s", group,
                                          rd_kafka_error_string(gerr));
                break;
            }
            size_t count = rd_kafka_ConsumerGroupDescription_member_count(descs[g]);
            for (size_t m = 0; m < count; m++) {
                const rd_kafka_MemberDescription_t *md =
                    rd_kafka_ConsumerGroupDescription_member(descs[g], m);
                rill__group_member_t *member = g_new0(rill__group_member_t, 1);
                member->client_id = g_strdup(rd_kafka_MemberDescription_client_id(md));
                const rd_kafka_MemberAssignment_t *assignment =
                    rd_kafka_MemberDescription_assignment(md);
                const rd_kafka_topic_partition_list_t *tps =
                    assignment != NULL ? rd_kafka_MemberAssignment_partitions(assignment) : NULL;
                int cnt = tps != NULL ? tps->cnt : 0;
                member->topics = g_new0(char *, (gsize)cnt + 1);
                member->partitions = g_new0(int32_t, (gsize)cnt + 1);
                for (int i = 0; i < cnt; i++) {
                    member->topics[i] = g_strdup(tps->elems[i].topic);
                    member->partitions[i] = tps->elems[i].partition;
                }
                member->count = cnt;
                g_ptr_array_add(out, member);
            }
        }
        if (err == RILL_OK)
            *members = out;
        else
            g_ptr_array_free(out, TRUE);
    }
    if (event != NULL)
        rd_kafka_event_destroy(event);
    rd_kafka_AdminOptions_destroy(options);
    rd_kafka_queue_destroy(queue);
    return err;
}
