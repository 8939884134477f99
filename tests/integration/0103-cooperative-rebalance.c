/* 0103-cooperative-rebalance: librdkafka consumers with
 * partition.assignment.strategy=cooperative-sticky (KIP-429) on rill-broker.
 * The broker runs the classic protocol; the incremental rebalance is the
 * clients' (two JoinGroup rounds when partitions move, owned partitions in
 * the subscription metadata).
 *
 *   1. three members join one after the other: 2+1+1... of 4 partitions,
 *      every partition owned by exactly one member
 *   2. one member closes: the other two own all 4, again each exactly once,
 *      and the member that kept its partitions never had them revoked
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "coop"
#define GROUP "g-0103"
#define NPART 4

typedef struct member {
    rd_kafka_t *rk;
    int revoked; /* partitions revoked over its life */
} member_t;

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    member_t *m = opaque;
    rd_kafka_error_t *e;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        e = rd_kafka_incremental_assign(rk, parts);
    } else {
        m->revoked += parts->cnt;
        e = rd_kafka_incremental_unassign(rk, parts);
    }
    if (e) {
        fprintf(stderr, "incremental (un)assign: %s\n", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

static void member_start(member_t *m, const char *bootstrap)
{
    memset(m, 0, sizeof(*m));
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", GROUP);
    kt_set(conf, "partition.assignment.strategy", "cooperative-sticky");
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

/* Fills owner[p] with the index of the member owning partition p (-1: none,
 * -2: more than one); returns how many partitions member i owns in counts. */
static void ownership(member_t **members, int n, int *owner, int *counts)
{
    for (int p = 0; p < NPART; p++)
        owner[p] = -1;
    for (int i = 0; i < n; i++) {
        counts[i] = 0;
        if (!members[i]->rk)
            continue;
        rd_kafka_topic_partition_list_t *parts = NULL;
        if (rd_kafka_assignment(members[i]->rk, &parts) != 0)
            continue;
        for (int k = 0; k < parts->cnt; k++) {
            int p = parts->elems[k].partition;
            owner[p] = owner[p] == -1 ? i : -2;
            counts[i]++;
        }
        rd_kafka_topic_partition_list_destroy(parts);
    }
}

static bool balanced(member_t **members, int n, int alive)
{
    int owner[NPART], counts[8];
    ownership(members, n, owner, counts);
    for (int p = 0; p < NPART; p++)
        if (owner[p] < 0)
            return false;
    int lo = NPART, hi = 0;
    for (int i = 0; i < n; i++) {
        if (!members[i]->rk)
            continue;
        lo = counts[i] < lo ? counts[i] : lo;
        hi = counts[i] > hi ? counts[i] : hi;
    }
    return hi - lo <= 1 && lo >= NPART / alive;
}

static void poll_until_balanced(member_t **members, int n, int alive, const char *step)
{
    int64_t deadline = rt_now_ms() + 60000;
    int stable_rounds = 0;
    while (stable_rounds < 20) { /* balanced for 20 rounds in a row (~1 s) */
        if (rt_now_ms() > deadline)
            rt_fail("%s: not balanced over %d members within 60 s", step, alive);
        for (int i = 0; i < n; i++) {
            if (!members[i]->rk)
                continue;
            rd_kafka_message_t *msg = rd_kafka_consumer_poll(members[i]->rk, 20);
            if (msg)
                rd_kafka_message_destroy(msg);
        }
        stable_rounds = balanced(members, n, alive) ? stable_rounds + 1 : 0;
    }
}

int main(void)
{
    const char *args[] = {"--group.initial.rebalance.delay.ms=0", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const char *bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);

    member_t a, b, c;
    member_t *all[] = {&a, &b, &c};
    member_start(&a, bootstrap);
    poll_until_balanced(all, 1, 1, "one member");
    member_start(&b, bootstrap);
    poll_until_balanced(all, 2, 2, "two members");
    member_start(&c, bootstrap);
    poll_until_balanced(all, 3, 3, "three members");
    printf("step 1: 3 cooperative members own the 4 partitions, each exactly once\n");

    int keep_revoked = a.revoked;
    int owner[NPART], counts[3];
    ownership(all, 3, owner, counts);
    /* close the member that does not own what a owns: c */
    rd_kafka_consumer_close(c.rk);
    rd_kafka_destroy(c.rk);
    c.rk = NULL;
    poll_until_balanced(all, 3, 2, "after one left");
    RT_CHECK(a.revoked == keep_revoked,
             "step 2: a member had %d partitions revoked when another left (cooperative)",
             a.revoked - keep_revoked);
    printf("step 2: after one left, 2 members own all 4; no partition moved away from a\n");

    rd_kafka_consumer_close(a.rk);
    rd_kafka_destroy(a.rk);
    rd_kafka_consumer_close(b.rk);
    rd_kafka_destroy(b.rk);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
