/* 0102-static-membership: librdkafka consumers with group.instance.id
 * (KIP-345, JoinGroup v5) on rill-broker: a static member that restarts
 * within its session timeout gets its partitions back without a rebalance
 * of the other member; a static member that stays away is removed when its
 * session expires, and the rest rebalance.
 *
 *   1. static members A and B: 2 partitions each; A saw one assignment
 *   2. B closes (no LeaveGroup for a static member) and B' starts with B's
 *      instance id: B' gets B's 2 partitions, A sees no revoke/assign
 *   3. B' is destroyed and stays away: after session.timeout.ms A is
 *      assigned all 4 partitions
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "static"
#define GROUP "g-0102"
#define NPART 4

typedef struct member {
    rd_kafka_t *rk;
    int rebalances; /* assign + revoke events */
    int owned;      /* partitions assigned now */
} member_t;

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    member_t *m = opaque;
    m->rebalances++;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rd_kafka_assign(rk, parts);
        m->owned = parts->cnt;
    } else {
        rd_kafka_assign(rk, NULL);
        m->owned = 0;
    }
}

static void member_start(member_t *m, const char *bootstrap, const char *instance)
{
    memset(m, 0, sizeof(*m));
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", GROUP);
    kt_set(conf, "group.instance.id", instance);
    kt_set(conf, "auto.offset.reset", "earliest");
    kt_set(conf, "session.timeout.ms", "6000");
    kt_set(conf, "heartbeat.interval.ms", "300");
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_opaque(conf, m);
    char err[256];
    m->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (!m->rk)
        rt_fail("consumer: %s", err);
    rd_kafka_poll_set_consumer(m->rk);
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, TOPIC, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(m->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e)
        rt_fail("subscribe: %s", rd_kafka_err2str(e));
}

static void poll_all(member_t **members, int n, int ms)
{
    for (int i = 0; i < n; i++) {
        if (!members[i]->rk)
            continue;
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(members[i]->rk, ms);
        if (msg)
            rd_kafka_message_destroy(msg);
    }
}

int main(void)
{
    const char *args[] = {"--group.initial.rebalance.delay.ms=0", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const char *bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);

    /* 1. two static members */
    member_t a, b;
    member_start(&a, bootstrap, "instance-a");
    member_start(&b, bootstrap, "instance-b");
    member_t *both[] = {&a, &b};
    int64_t deadline = rt_now_ms() + 60000;
    while (!(a.owned == 2 && b.owned == 2)) {
        if (rt_now_ms() > deadline)
            rt_fail("step 1: owned %d/%d", a.owned, b.owned);
        poll_all(both, 2, 50);
    }
    for (int i = 0; i < 20; i++) /* let the group settle */
        poll_all(both, 2, 50);
    int a_rebalances = a.rebalances;
    printf("step 1: static members own 2+2 partitions (A saw %d rebalance events)\n", a_rebalances);

    /* 2. B restarts with the same instance id */
    rd_kafka_consumer_close(b.rk);
    rd_kafka_destroy(b.rk);
    b.rk = NULL;
    member_t b2;
    member_start(&b2, bootstrap, "instance-b");
    member_t *again[] = {&a, &b2};
    deadline = rt_now_ms() + 30000;
    while (b2.owned != 2) {
        if (rt_now_ms() > deadline)
            rt_fail("step 2: the restarted static member owns %d partitions", b2.owned);
        poll_all(again, 2, 50);
    }
    for (int i = 0; i < 40; i++) /* 2 s: any rebalance of A would show now */
        poll_all(again, 2, 50);
    RT_CHECK(a.rebalances == a_rebalances && a.owned == 2,
             "step 2: A saw %d more rebalance events and owns %d partitions",
             a.rebalances - a_rebalances, a.owned);
    printf("step 2: B restarted with its instance id: 2 partitions back, no rebalance of A\n");

    /* 3. B' goes away for good: its session expires, A takes everything */
    rd_kafka_consumer_close(b2.rk);
    rd_kafka_destroy(b2.rk);
    b2.rk = NULL;
    deadline = rt_now_ms() + 30000;
    int64_t gone = rt_now_ms();
    while (a.owned != NPART) {
        if (rt_now_ms() > deadline)
            rt_fail("step 3: A owns %d partitions after B's session expired", a.owned);
        poll_all(again, 2, 50);
    }
    int64_t took = rt_now_ms() - gone;
    RT_CHECK(took >= 4000, "step 3: A took over after %" PRId64 " ms, before the session timeout",
             took);
    printf("step 3: after the session timeout (%" PRId64 " ms) A owns all %d partitions\n", took,
           NPART);

    rd_kafka_consumer_close(a.rk);
    rd_kafka_destroy(a.rk);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
