/* 0105-group-member-faults: three librdkafka consumers in one group over a
 * 6-partition topic through joins, a clean leave, a member SIGKILLed without
 * leaving, a consumer restart and a broker kill -9 (0100 covers two members
 * and a clean broker stop).
 *
 * Design: members A and B live in this process; member C is a child process
 * (this program re-executed as "member BOOTSTRAP") so that it can be
 * SIGKILLed. C reports every assignment on a pipe ("assign 0 3\n",
 * "revoke\n") and never commits, so what it read is read again by the
 * survivors. At every stable point the test checks that the live members'
 * assignments are disjoint and cover the 6 partitions.
 *
 *   1. A, B, C join: 2 partitions each, disjoint, covering the topic
 *   2. B commits and closes (LeaveGroup): A and C own 3 each
 *   3. C is SIGKILLed: after session.timeout.ms (6 s) A owns all 6 and, with
 *      what A and B read, all 600 records are consumed; A commits 100 per
 *      partition
 *   4. A closes; 30 more records; a restarted consumer reads exactly those
 *   5. the broker is killed (-9) and restarted; 30 more records; a new
 *      consumer of the group reads exactly those (the commits survived)
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "g6"
#define GROUP "g-0105"
#define NPART 6
#define PER_PART 100
#define ALL_PARTS ((1u << NPART) - 1)

static rd_kafka_t *consumer_new(const char *bootstrap, rd_kafka_conf_t *conf)
{
    if (!conf)
        conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", GROUP);
    kt_set(conf, "auto.offset.reset", "earliest");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "session.timeout.ms", "6000");
    kt_set(conf, "heartbeat.interval.ms", "300");
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

/* The partitions of TOPIC assigned to rk, as a bit mask. */
static unsigned assignment_mask(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (rd_kafka_assignment(rk, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    unsigned mask = 0;
    for (int i = 0; i < parts->cnt; i++)
        mask |= 1u << parts->elems[i].partition;
    rd_kafka_topic_partition_list_destroy(parts);
    return mask;
}

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

static void commit_sync(rd_kafka_t *rk, const char *who)
{
    rd_kafka_resp_err_t e = rd_kafka_commit(rk, NULL, 0);
    RT_CHECK(e == 0 || e == RD_KAFKA_RESP_ERR__NO_OFFSET, "commit %s: %s", who,
             rd_kafka_err2str(e));
}

/* The group's committed offset of each partition must be want. */
static void check_committed(rd_kafka_t *rk, int64_t want, const char *step)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(NPART);
    for (int32_t p = 0; p < NPART; p++)
        rd_kafka_topic_partition_list_add(parts, TOPIC, p);
    rd_kafka_resp_err_t e = rd_kafka_committed(rk, parts, 10000);
    RT_CHECK(e == 0, "%s: committed: %s", step, rd_kafka_err2str(e));
    for (int i = 0; i < parts->cnt; i++)
        RT_CHECK(parts->elems[i].offset == want, "%s: partition %d committed at %" PRId64
                 ", expected %" PRId64, step, (int)parts->elems[i].partition,
                 parts->elems[i].offset, want);
    rd_kafka_topic_partition_list_destroy(parts);
}

/* rk has consumed every partition to its end (PER_PART): a rebalance
 * restarts a member at the committed offset, so what it read before may be
 * read again and the seen set alone does not say what it will commit. */
static bool consumed_all(rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(NPART);
    for (int32_t p = 0; p < NPART; p++)
        rd_kafka_topic_partition_list_add(parts, TOPIC, p);
    bool all = rd_kafka_position(rk, parts) == 0;
    for (int i = 0; all && i < parts->cnt; i++)
        all = parts->elems[i].offset == PER_PART;
    rd_kafka_topic_partition_list_destroy(parts);
    return all;
}

/* ---- member C: the child process ---- */

static void child_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                            rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        printf("assign");
        for (int i = 0; i < parts->cnt; i++)
            printf(" %d", (int)parts->elems[i].partition);
        printf("\n");
        rd_kafka_assign(rk, parts);
    } else {
        printf("revoke\n");
        rd_kafka_assign(rk, NULL);
    }
    fflush(stdout);
}

static int child_main(const char *bootstrap)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    rd_kafka_conf_set_rebalance_cb(conf, child_rebalance);
    rd_kafka_t *rk = consumer_new(bootstrap, conf);
    int64_t deadline = rt_now_ms() + 120000; /* bounded even if never killed */
    while (rt_now_ms() < deadline)
        poll_once(rk, NULL, 100);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return 0;
}

typedef struct {
    pid_t pid;
    int fd;
    GString *pending;
    unsigned mask;
} child_t;

static void child_start(child_t *c, const char *bootstrap)
{
    int fds[2];
    RT_CHECK(pipe(fds) == 0, "pipe: %s", g_strerror(errno));
    c->pid = fork();
    RT_CHECK(c->pid >= 0, "fork: %s", g_strerror(errno));
    if (c->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl("/proc/self/exe", "0105-member", "member", bootstrap, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    c->fd = fds[0];
    RT_CHECK(fcntl(c->fd, F_SETFL, O_NONBLOCK) == 0, "fcntl");
    c->pending = g_string_new(NULL);
    c->mask = 0;
}

/* Reads what C reported; c->mask is its latest assignment. */
static void child_read(child_t *c)
{
    char buf[512];
    ssize_t n;
    while ((n = read(c->fd, buf, sizeof(buf))) > 0)
        g_string_append_len(c->pending, buf, n);
    char *nl;
    while ((nl = strchr(c->pending->str, '\n'))) {
        *nl = '\0';
        if (g_str_has_prefix(c->pending->str, "assign")) {
            unsigned mask = 0;
            char **tok = g_strsplit(c->pending->str + 6, " ", -1);
            for (char **t = tok; *t; t++)
                if (**t)
                    mask |= 1u << atoi(*t);
            g_strfreev(tok);
            c->mask = mask;
        } else {
            c->mask = 0;
        }
        g_string_erase(c->pending, 0, nl - c->pending->str + 1);
    }
}

/* Each of the masks is non-empty, they are disjoint and cover the topic. */
static bool partitioned(const unsigned *masks, int n)
{
    unsigned all = 0;
    for (int i = 0; i < n; i++) {
        if (masks[i] == 0 || (all & masks[i]))
            return false;
        all |= masks[i];
    }
    return all == ALL_PARTS;
}

/* A fresh consumer of the group must read exactly the per-part records with
 * prefix (and nothing older). */
static void resume_check(const char *bootstrap, const char *prefix, int per_part, const char *step)
{
    rd_kafka_t *c = consumer_new(bootstrap, NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int64_t deadline = rt_now_ms() + 60000;
    while (g_hash_table_size(seen) < (guint)(NPART * per_part)) {
        if (rt_now_ms() > deadline)
            rt_fail("%s: %u of %d new records read", step, g_hash_table_size(seen),
                    NPART * per_part);
        poll_once(c, seen, 100);
    }
    for (int i = 0; i < 10; i++)
        poll_once(c, seen, 100);
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, seen);
    while (g_hash_table_iter_next(&it, &key, NULL))
        RT_CHECK(g_str_has_prefix(key, prefix), "%s: read %s again", step, (char *)key);
    RT_CHECK(g_hash_table_size(seen) == (guint)(NPART * per_part), "%s: read %u records", step,
             g_hash_table_size(seen));
    RT_CHECK(assignment_mask(c) == ALL_PARTS, "%s: assignment %#x", step, assignment_mask(c));
    commit_sync(c, step);
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
    g_hash_table_destroy(seen);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "member") == 0)
        return child_main(argv[2]);

    const char *args[] = {"--group.initial.rebalance.delay.ms=0", NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const char *bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);
    produce(bootstrap, "r1", PER_PART);

    /* 1. three members join */
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    rd_kafka_t *a = consumer_new(bootstrap, NULL);
    rd_kafka_t *b = consumer_new(bootstrap, NULL);
    child_t c;
    child_start(&c, bootstrap);
    unsigned m[3];
    int64_t deadline = rt_now_ms() + 60000;
    for (;;) {
        child_read(&c);
        m[0] = assignment_mask(a), m[1] = assignment_mask(b), m[2] = c.mask;
        if (partitioned(m, 3) && __builtin_popcount(m[0]) == 2 &&
            __builtin_popcount(m[1]) == 2 && __builtin_popcount(m[2]) == 2)
            break;
        if (rt_now_ms() > deadline)
            rt_fail("step 1: assignments A %#x B %#x C %#x", m[0], m[1], m[2]);
        poll_once(a, seen, 20);
        poll_once(b, seen, 20);
    }
    printf("step 1: A %#x B %#x C %#x\n", m[0], m[1], m[2]);

    /* 2. B reads what it owns, commits and leaves */
    for (int i = 0; i < 50; i++) {
        poll_once(a, seen, 10);
        poll_once(b, seen, 10);
    }
    commit_sync(b, "b");
    commit_sync(a, "a");
    rd_kafka_consumer_close(b);
    rd_kafka_destroy(b);
    deadline = rt_now_ms() + 30000;
    for (;;) {
        child_read(&c);
        m[0] = assignment_mask(a), m[1] = c.mask;
        if (partitioned(m, 2) && __builtin_popcount(m[0]) == 3)
            break;
        if (rt_now_ms() > deadline)
            rt_fail("step 2: after B left: A %#x C %#x", m[0], m[1]);
        poll_once(a, seen, 20);
    }
    printf("step 2: after B's LeaveGroup: A %#x C %#x\n", m[0], m[1]);

    /* 3. C dies without leaving: its partitions move to A after the session timeout */
    int64_t killed = rt_now_ms();
    RT_CHECK(kill(c.pid, SIGKILL) == 0, "kill C: %s", g_strerror(errno));
    int status;
    RT_CHECK(waitpid(c.pid, &status, 0) == c.pid && WIFSIGNALED(status), "C did not die");
    deadline = rt_now_ms() + 30000;
    while (assignment_mask(a) != ALL_PARTS) {
        if (rt_now_ms() > deadline)
            rt_fail("step 3: A owns %#x 30 s after C was killed", assignment_mask(a));
        poll_once(a, seen, 20);
    }
    int64_t moved = rt_now_ms() - killed;
    /* C sent no LeaveGroup: the coordinator may only notice it by its session
     * timeout (6 s, less a heartbeat interval of slack) */
    RT_CHECK(moved >= 5000, "step 3: C's partitions moved %" PRId64 " ms after SIGKILL, "
             "before its session timeout", moved);
    deadline = rt_now_ms() + 30000;
    while (g_hash_table_size(seen) < NPART * PER_PART || !consumed_all(a)) {
        if (rt_now_ms() > deadline)
            rt_fail("step 3: %u of %d records read, A at the end: %d", g_hash_table_size(seen),
                    NPART * PER_PART, consumed_all(a));
        poll_once(a, seen, 50);
    }
    for (int i = 0; i < 10; i++)
        poll_once(a, seen, 20);
    RT_CHECK(g_hash_table_size(seen) == NPART * PER_PART, "step 3: read %u records",
             g_hash_table_size(seen));
    commit_sync(a, "a");
    check_committed(a, PER_PART, "step 3");
    printf("step 3: C's partitions moved to A %" PRId64 " ms after SIGKILL; all %d records read\n",
           moved, NPART * PER_PART);
    rd_kafka_consumer_close(a);
    rd_kafka_destroy(a);

    /* 4. consumer restart */
    produce(bootstrap, "r2", 5);
    resume_check(bootstrap, "r2-", 5, "step 4");
    printf("step 4: a restarted consumer resumed at the committed offsets\n");

    /* 5. broker kill -9 and restart */
    rt_broker_kill9(broker);
    rt_broker_restart(broker);
    bootstrap = rt_broker_bootstrap(broker);
    produce(bootstrap, "r3", 5);
    resume_check(bootstrap, "r3-", 5, "step 5");
    printf("step 5: after kill -9 and restart the group resumed at its committed offsets\n");

    close(c.fd);
    g_string_free(c.pending, TRUE);
    g_hash_table_destroy(seen);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
