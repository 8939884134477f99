/* 0100-consumer-group: librdkafka consumers in one group on rill-broker:
 * rebalances, committed offsets that survive a restart, the admin views
 * and DeleteGroups.
 *
 *   1. two consumers subscribe to a 4-partition topic: each ends up with 2
 *      partitions (range assignor), together they read all 200 records, and
 *      commit; the committed offsets read back as 50 per partition
 *   2. one consumer closes (LeaveGroup): the other gets all 4 partitions
 *   3. the broker stops (SIGTERM) and restarts; 20 more records; a new
 *      consumer of the group reads exactly those 20 (the commits survived)
 *   4. ListGroups / DescribeGroups (rd_kafka_list_groups) show the group
 *      Stable with one member; after it closes, DeleteGroups removes it and
 *      its offsets.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "grouped"
#define GROUP "g-0100"
#define NPART 4
#define PER_PART 50

static rd_kafka_t *consumer_new(const char *bootstrap)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", GROUP);
    kt_set(conf, "auto.offset.reset", "earliest");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "session.timeout.ms", "6000");
    kt_set(conf, "heartbeat.interval.ms", "300");
    kt_set(conf, "isolation.level", "read_uncommitted");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!rk)
        rt_fail("consumer: %s", err);
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, TOPIC, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e)
        rt_fail("subscribe: %s", rd_kafka_err2str(e));
    return rk;
}

static int assignment_size(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    int n = parts->cnt;
    rd_kafka_topic_partition_list_destroy(parts);
    return n;
}

/* Polls once; records the value of a message in seen (if not NULL). */
static void poll_once(rd_kafka_t *rk, GHashTable *seen, int timeout_ms)
{
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, timeout_ms);
    if (!m)
        return;
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && seen)
        g_hash_table_add(seen, g_strndup(m->payload, m->len));
    else if (m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
        fprintf(stderr, "consumer: %s\n", rd_kafka_message_errstr(m));
    rd_kafka_message_destroy(m);
}

static void produce(const char *bootstrap, const char *prefix, int per_part)
{
    kt_producer_t *p = kt_producer_new(bootstrap, NULL);
    for (int part = 0; part < NPART; part++)
        for (int i = 0; i < per_part; i++) {
            char value[64];
            int n = g_snprintf(value, sizeof(value), "%s-%d-%d", prefix, part, i);
            kt_produce(p, TOPIC, part, NULL, 0, value, (size_t)n);
        }
    kt_producer_flush(p, 30000);
    kt_producer_destroy(p);
}

static int64_t committed(rd_kafka_t *rk, int32_t partition)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, partition);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, parts, 10000);
    if (e)
        rt_fail("committed: %s", rd_kafka_err2str(e));
    int64_t off = parts->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(parts);
    return off;
}

static void delete_group(const char *bootstrap)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kt_conf(bootstrap), err, sizeof(err));
    if (!rk)
        rt_fail("admin: %s", err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteGroup_t *dg = rd_kafka_DeleteGroup_new(GROUP);
    rd_kafka_DeleteGroups(rk, &dg, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    if (!ev)
        rt_fail("DeleteGroups: no answer within 20 s");
    if (rd_kafka_event_error(ev))
        rt_fail("DeleteGroups: %s", rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_group_result_t **res =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    RT_CHECK(n == 1, "DeleteGroups: %zu results", n);
    const rd_kafka_error_t *gerr = rd_kafka_group_result_error(res[0]);
    RT_CHECK(gerr == NULL, "DeleteGroups: %s", gerr ? rd_kafka_error_string(gerr) : "");
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteGroup_destroy(dg);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

int main(void)
{
    const char *args[] = {"--group.initial.rebalance.delay.ms=0", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const char *bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);
    produce(bootstrap, "r1", PER_PART);

    /* 1. two members share the partitions and read everything */
    rd_kafka_t *a = consumer_new(bootstrap);
    rd_kafka_t *b = consumer_new(bootstrap);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int64_t deadline = rt_now_ms() + 60000;
    while (!(assignment_size(a) == 2 && assignment_size(b) == 2 &&
             g_hash_table_size(seen) == NPART * PER_PART)) {
        if (rt_now_ms() > deadline)
            rt_fail("step 1: assignments %d/%d, %u of %d records read", assignment_size(a),
                    assignment_size(b), g_hash_table_size(seen), NPART * PER_PART);
        poll_once(a, seen, 50);
        poll_once(b, seen, 50);
    }
    for (int i = 0; i < 20; i++) { /* drain what is still in flight */
        poll_once(a, seen, 10);
        poll_once(b, seen, 10);
    }
    RT_CHECK(g_hash_table_size(seen) == NPART * PER_PART, "read %u records",
             g_hash_table_size(seen));
    rd_kafka_resp_err_t e = rd_kafka_commit(a, NULL, 0);
    RT_CHECK(e == 0, "commit a: %s", rd_kafka_err2str(e));
    e = rd_kafka_commit(b, NULL, 0);
    RT_CHECK(e == 0, "commit b: %s", rd_kafka_err2str(e));
    for (int32_t part = 0; part < NPART; part++)
        RT_CHECK(committed(a, part) == PER_PART, "partition %d committed %" PRId64, part,
                 committed(a, part));
    printf("step 1: 2 members x 2 partitions, %d records read, committed\n", NPART * PER_PART);

    /* 2. b leaves: a takes everything */
    rd_kafka_consumer_close(b);
    rd_kafka_destroy(b);
    deadline = rt_now_ms() + 30000;
    while (assignment_size(a) != NPART) {
        if (rt_now_ms() > deadline)
            rt_fail("step 2: a has %d partitions after b left", assignment_size(a));
        poll_once(a, NULL, 50);
    }
    printf("step 2: after LeaveGroup the remaining member has %d partitions\n", NPART);
    rd_kafka_consumer_close(a);
    rd_kafka_destroy(a);

    /* 3. restart: the commits are still there */
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_restart(broker);
    bootstrap = rt_broker_bootstrap(broker);
    produce(bootstrap, "r2", 5);
    rd_kafka_t *c = consumer_new(bootstrap);
    g_hash_table_remove_all(seen);
    deadline = rt_now_ms() + 60000;
    while (g_hash_table_size(seen) < NPART * 5) {
        if (rt_now_ms() > deadline)
            rt_fail("step 3: %u of %d new records read", g_hash_table_size(seen), NPART * 5);
        poll_once(c, seen, 100);
    }
    for (int i = 0; i < 10; i++)
        poll_once(c, seen, 100);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, seen);
    while (g_hash_table_iter_next(&it, &key, NULL))
        RT_CHECK(g_str_has_prefix(key, "r2-"), "step 3: read %s again after the restart",
                 (char *)key);
    RT_CHECK(g_hash_table_size(seen) == NPART * 5, "step 3: read %u records",
             g_hash_table_size(seen));
    printf("step 3: after a restart the group resumed at its committed offsets\n");

    /* 4. the admin views, then DeleteGroups */
    const struct rd_kafka_group_list *groups = NULL;
    e = rd_kafka_list_groups(c, GROUP, &groups, 10000);
    RT_CHECK(e == 0, "list_groups: %s", rd_kafka_err2str(e));
    RT_CHECK(groups->group_cnt == 1, "list_groups: %d groups", groups->group_cnt);
    const struct rd_kafka_group_info *gi = &groups->groups[0];
    RT_CHECK(strcmp(gi->group, GROUP) == 0 && strcmp(gi->state, "Stable") == 0 &&
                 strcmp(gi->protocol_type, "consumer") == 0 && gi->member_cnt == 1,
             "describe: group=%s state=%s protocol_type=%s members=%d", gi->group, gi->state,
             gi->protocol_type, gi->member_cnt);
    RT_CHECK(gi->members[0].member_assignment_size > 0, "describe: no assignment");
    printf("step 4: group %s %s protocol=%s members=%d\n", gi->group, gi->state, gi->protocol,
           gi->member_cnt);
    rd_kafka_group_list_destroy(groups);
    rd_kafka_commit(c, NULL, 0);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    delete_group(bootstrap);
    rd_kafka_t *d = consumer_new(bootstrap);
    for (int32_t part = 0; part < NPART; part++)
        RT_CHECK(committed(d, part) == RD_KAFKA_OFFSET_INVALID,
                 "partition %d still committed at %" PRId64 " after DeleteGroups", part,
                 committed(d, part));
    rd_kafka_consumer_close(d);
    rd_kafka_destroy(d);
    printf("step 4: DeleteGroups removed the group and its offsets\n");

    g_hash_table_destroy(seen);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
