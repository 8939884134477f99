/* test-group.c: the group coordinator's membership protocol (JoinGroup,
 * SyncGroup, Heartbeat, LeaveGroup, timeouts, static members, protocol
 * selection) on a fake clock. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/log.h"
#include "group-harness.h"

#define G "app"

static int setup(void **state)
{
    harness_t *h = h_new();
    h_open(h);
    *state = h;
    return 0;
}

static int teardown(void **state)
{
    h_free(*state);
    return 0;
}

typedef struct desc_out {
    int16_t err;
    char state[32];
    char protocol_type[32];
    char protocol_data[32];
    size_t members;
    char member_ids[8][160];
    char assignments[8][160];
    char instance_ids[8][64];
} desc_out_t;

static void on_desc(const rb_group_desc_t *d, void *ud)
{
    desc_out_t *out = ud;
    out->err = d->error_code;
    g_strlcpy(out->state, d->state, sizeof(out->state));
    g_strlcpy(out->protocol_type, d->protocol_type, sizeof(out->protocol_type));
    g_strlcpy(out->protocol_data, d->protocol_data, sizeof(out->protocol_data));
    out->members = d->member_count;
    for (size_t i = 0; i < d->member_count && i < 8; i++) {
        g_strlcpy(out->member_ids[i], d->members[i].member_id, sizeof(out->member_ids[i]));
        g_strlcpy(out->instance_ids[i],
                  d->members[i].group_instance_id ? d->members[i].group_instance_id : "",
                  sizeof(out->instance_ids[i]));
        memcpy(out->assignments[i], d->members[i].assignment, d->members[i].assignment_len);
        out->assignments[i][d->members[i].assignment_len] = '\0';
    }
}

static desc_out_t describe(harness_t *h, const char *group)
{
    desc_out_t out;
    memset(&out, 0, sizeof(out));
    rb_group_describe(h->coord, group, on_desc, &out);
    return out;
}

/* Joins and syncs one member alone (initial delay 0): generation answered at once. */
static void join_alone(harness_t *h, client_t *c)
{
    client_join(h, G, c, false);
    assert_true(c->joined);
    assert_int_equal(c->join_err, 0);
    client_sync(h, G, c);
    assert_true(c->synced);
    assert_int_equal(c->sync_err, 0);
}

/* Brings clients (already members) through a rebalance in which all rejoin;
 * clients[0] must end up the leader; everyone syncs. */
static void rejoin_all(harness_t *h, client_t **clients, int n)
{
    for (int i = 0; i < n; i++)
        client_join(h, G, clients[i], false);
    for (int i = 0; i < n; i++) {
        assert_true(clients[i]->joined);
        assert_int_equal(clients[i]->join_err, 0);
    }
    for (int i = n - 1; i >= 0; i--) /* followers first: they wait for the leader */
        client_sync(h, G, clients[i]);
    for (int i = 0; i < n; i++) {
        assert_true(clients[i]->synced);
        assert_int_equal(clients[i]->sync_err, 0);
    }
}

static void test_group__single_member_join_sync_heartbeat(void **state)
{
    harness_t *h = *state;
    client_t a;
    client_init(&a, "a", NULL, "range");
    client_join(h, G, &a, false);
    assert_true(a.joined);
    assert_int_equal(a.join_err, 0);
    assert_int_equal(a.generation, 1);
    assert_string_equal(a.leader, a.member_id);
    assert_true(g_str_has_prefix(a.member_id, "a-"));
    assert_string_equal(a.protocol, "range");
    assert_int_equal(a.member_count, 1);
    assert_string_equal(a.member_md[0], "range:a");
    assert_string_equal(describe(h, G).state, "CompletingRebalance");
    assert_int_equal(client_heartbeat(h, G, &a), 0); /* heartbeats are fine while syncing */
    client_sync(h, G, &a);
    assert_true(a.synced);
    assert_int_equal(a.sync_err, 0);
    assert_string_equal(a.assignment, "A(range:a)");
    desc_out_t d = describe(h, G);
    assert_string_equal(d.state, "Stable");
    assert_string_equal(d.protocol_type, "consumer");
    assert_string_equal(d.protocol_data, "range");
    assert_int_equal(d.members, 1);
    assert_string_equal(d.assignments[0], "A(range:a)");
    for (int i = 0; i < 5; i++) {
        h_advance(h, 5000);
        assert_int_equal(client_heartbeat(h, G, &a), 0);
    }
    /* a sync in Stable answers the current assignment at once */
    client_sync(h, G, &a);
    assert_true(a.synced);
    assert_string_equal(a.assignment, "A(range:a)");
}

static void test_group__member_id_required(void **state)
{
    harness_t *h = *state;
    client_t a;
    client_init(&a, "a", NULL, "range");
    client_join(h, G, &a, true);
    assert_true(a.joined);
    assert_int_equal(a.join_err, RB_GROUP_ERR_MEMBER_ID_REQUIRED);
    assert_true(g_str_has_prefix(a.member_id, "a-"));
    assert_string_equal(describe(h, G).state, "Empty");
    char first_id[160];
    g_strlcpy(first_id, a.member_id, sizeof(first_id));
    client_join(h, G, &a, true);
    assert_true(a.joined);
    assert_int_equal(a.join_err, 0);
    assert_string_equal(a.member_id, first_id);
    assert_int_equal(a.generation, 1);
    /* an id the coordinator never gave is unknown */
    client_t b;
    client_init(&b, "b", NULL, "range");
    g_strlcpy(b.member_id, "b-made-up", sizeof(b.member_id));
    client_join(h, G, &b, true);
    assert_int_equal(b.join_err, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    /* a pending id that is never used expires after the session timeout */
    client_t c;
    client_init(&c, "c", NULL, "range");
    client_join(h, G, &c, true);
    assert_int_equal(c.join_err, RB_GROUP_ERR_MEMBER_ID_REQUIRED);
    client_sync(h, G, &a);
    h_advance(h, 5000);
    assert_int_equal(client_heartbeat(h, G, &a), 0);
    h_advance(h, 5001);
    assert_int_equal(client_heartbeat(h, G, &a), 0);
    client_join(h, G, &c, true);
    assert_int_equal(c.join_err, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
}

static void test_group__three_members_leader_and_assignments(void **state)
{
    harness_t *h = *state;
    h_close(h);
    h->config.initial_rebalance_delay_ms = 100;
    h_open(h);
    client_t a, b, c;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    client_init(&c, "c", NULL, "range");
    client_join(h, G, &a, false);
    h_advance(h, 50);
    client_join(h, G, &b, false);
    assert_false(a.joined); /* the initial delay holds the first generation */
    assert_string_equal(describe(h, G).state, "PreparingRebalance");
    h_advance(h, 50); /* first delay over, but b arrived: wait another delay */
    assert_false(a.joined);
    h_advance(h, 30);
    client_join(h, G, &c, false);
    h_advance(h, 69);
    assert_false(a.joined);
    h_advance(h, 1); /* 100 after the last extension started ... c arrived: again */
    assert_false(a.joined);
    h_advance(h, 100);
    assert_true(a.joined && b.joined && c.joined);
    assert_int_equal(a.join_err + b.join_err + c.join_err, 0);
    assert_int_equal(a.generation, 1);
    assert_int_equal(b.generation, 1);
    assert_int_equal(c.generation, 1);
    assert_string_equal(a.leader, a.member_id);
    assert_string_equal(b.leader, a.member_id);
    assert_int_equal(a.member_count, 3);
    assert_int_equal(b.member_count, 0);
    assert_int_equal(c.member_count, 0);
    assert_string_equal(a.member_md[0], "range:a");
    assert_string_equal(a.member_md[1], "range:b");
    assert_string_equal(a.member_md[2], "range:c");
    /* followers' SyncGroup waits for the leader's */
    client_sync(h, G, &b);
    client_sync(h, G, &c);
    assert_false(b.synced);
    assert_false(c.synced);
    assert_int_equal(client_heartbeat(h, G, &b), 0);
    client_sync(h, G, &a);
    assert_true(a.synced && b.synced && c.synced);
    assert_string_equal(a.assignment, "A(range:a)");
    assert_string_equal(b.assignment, "A(range:b)");
    assert_string_equal(c.assignment, "A(range:c)");
    assert_string_equal(describe(h, G).state, "Stable");
}

static void test_group__initial_delay_bounded_by_rebalance_timeout(void **state)
{
    harness_t *h = *state;
    h_close(h);
    h->config.initial_rebalance_delay_ms = 100;
    h_open(h);
    client_t m[6];
    char names[6][8];
    for (int i = 0; i < 6; i++) {
        g_snprintf(names[i], sizeof(names[i]), "m%d", i);
        client_init(&m[i], names[i], NULL, "range");
        m[i].rebalance_ms = 250;
    }
    /* a new member every 60 ms would extend the delay forever; the first
     * member's rebalance timeout (250 ms) bounds it: delays of 100, 100, 50 */
    int64_t start = h->now;
    int64_t done_at = -1;
    int next = 0;
    for (int64_t t = 0; t <= 400 && done_at < 0; t += 10) {
        if (t % 60 == 0 && next < 6)
            client_join(h, G, &m[next++], false);
        h_advance(h, 10);
        if (m[0].joined)
            done_at = h->now - start;
    }
    assert_int_equal(done_at, 250);
    assert_int_equal(m[0].member_count, 5); /* joined at 0, 60, 120, 180, 240 */
    assert_int_equal(m[0].generation, 1);
}

static void test_group__leave_triggers_rebalance(void **state)
{
    harness_t *h = *state;
    client_t a, b, c;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    client_init(&c, "c", NULL, "range");
    join_alone(h, &a);
    client_join(h, G, &b, false); /* a must rejoin: a rebalance starts */
    assert_false(b.joined);
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    client_join(h, G, &a, false);
    assert_true(a.joined && b.joined);
    assert_int_equal(a.generation, 2);
    client_join(h, G, &c, false);
    client_t *all[] = {&a, &b, &c};
    rejoin_all(h, all, 3);
    assert_int_equal(a.generation, 3);
    assert_string_equal(describe(h, G).state, "Stable");
    assert_int_equal(describe(h, G).members, 3);

    assert_int_equal(client_leave(h, G, &c), 0);
    assert_string_equal(describe(h, G).state, "PreparingRebalance");
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(client_heartbeat(h, G, &b), RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    client_t *rest[] = {&a, &b};
    rejoin_all(h, rest, 2);
    assert_int_equal(a.generation, 4);
    assert_int_equal(b.generation, 4);
    assert_int_equal(a.member_count, 2);
    assert_int_equal(describe(h, G).members, 2);
    /* the member that left is unknown now; a stale generation is illegal */
    assert_int_equal(client_heartbeat(h, G, &c), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(client_leave(h, G, &c), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(rb_group_heartbeat(h->coord, G, 3, a.member_id, NULL),
                     RB_GROUP_ERR_ILLEGAL_GENERATION);
    /* the last members leave: Empty at a new generation */
    assert_int_equal(client_leave(h, G, &b), 0);
    assert_int_equal(client_leave(h, G, &a), 0);
    desc_out_t d = describe(h, G);
    assert_string_equal(d.state, "Empty");
    assert_int_equal(d.members, 0);
}

static void test_group__session_expiry_removes_member(void **state)
{
    harness_t *h = *state;
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    client_join(h, G, &a, false);
    client_join(h, G, &b, false);
    client_join(h, G, &a, false);
    client_t *all[] = {&a, &b};
    for (int i = 0; i < 2; i++)
        assert_true(all[i]->joined);
    client_sync(h, G, &b);
    client_sync(h, G, &a);
    assert_true(b.synced);
    assert_string_equal(describe(h, G).state, "Stable");
    h_advance(h, 6000);
    assert_int_equal(client_heartbeat(h, G, &a), 0);
    h_advance(h, 3999);
    assert_int_equal(describe(h, G).members, 2); /* b's session: 1 ms left */
    h_advance(h, 1);
    assert_int_equal(describe(h, G).members, 1);
    assert_string_equal(describe(h, G).state, "PreparingRebalance");
    assert_int_equal(client_heartbeat(h, G, &b), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    client_join(h, G, &a, false);
    assert_true(a.joined);
    assert_int_equal(a.generation, 3);
    assert_int_equal(a.member_count, 1);
    /* the last member's session expires too: Empty */
    client_sync(h, G, &a);
    h_advance(h, 10000);
    desc_out_t d = describe(h, G);
    assert_string_equal(d.state, "Empty");
    assert_int_equal(d.members, 0);
}

static void test_group__rebalance_timeout_removes_members_not_rejoined(void **state)
{
    harness_t *h = *state;
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    b.session_ms = 60000; /* b stays alive but never rejoins */
    client_join(h, G, &a, false);
    client_join(h, G, &b, false);
    client_join(h, G, &a, false);
    client_sync(h, G, &b);
    client_sync(h, G, &a);
    assert_string_equal(describe(h, G).state, "Stable");
    /* the leader rejoins: rebalance; b heartbeats but does not rejoin */
    client_join(h, G, &a, false);
    assert_false(a.joined);
    for (int i = 0; i < 10; i++) {
        h_advance(h, 2999);
        assert_int_equal(client_heartbeat(h, G, &b), RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    }
    assert_false(a.joined);
    h_advance(h, 10); /* 30000 ms rebalance timeout */
    assert_true(a.joined);
    assert_int_equal(a.join_err, 0);
    assert_int_equal(a.member_count, 1);
    assert_int_equal(client_heartbeat(h, G, &b), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
}

static void test_group__late_joiner_restarts_completing_rebalance(void **state)
{
    harness_t *h = *state;
    client_t a, b, c;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    client_init(&c, "c", NULL, "range");
    client_join(h, G, &a, false);
    client_join(h, G, &b, false);
    client_join(h, G, &a, false);
    assert_int_equal(a.generation, 2);
    assert_string_equal(describe(h, G).state, "CompletingRebalance");
    client_sync(h, G, &b); /* waits for the leader */
    assert_false(b.synced);
    client_join(h, G, &c, false);
    assert_string_equal(describe(h, G).state, "PreparingRebalance");
    assert_true(b.synced);
    assert_int_equal(b.sync_err, RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    client_sync(h, G, &a); /* too late: the generation is being replaced */
    assert_int_equal(a.sync_err, RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    client_t *all[] = {&a, &b, &c};
    rejoin_all(h, all, 3);
    assert_int_equal(a.generation, 3);
    assert_int_equal(c.generation, 3);
    assert_int_equal(a.member_count, 3);
    assert_string_equal(c.assignment, "A(range:c)");
}

static void test_group__leader_that_never_syncs_is_removed(void **state)
{
    harness_t *h = *state;
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    a.session_ms = b.session_ms = 60000;
    a.rebalance_ms = b.rebalance_ms = 20000;
    client_join(h, G, &a, false);
    client_join(h, G, &b, false);
    client_join(h, G, &a, false);
    client_sync(h, G, &b);
    assert_false(b.synced);
    h_advance(h, 20000);
    assert_true(b.synced);
    assert_int_equal(b.sync_err, RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    client_join(h, G, &b, false);
    assert_true(b.joined);
    assert_string_equal(b.leader, b.member_id);
    assert_int_equal(b.member_count, 1);
}

static void test_group__static_member_rejoins_without_rebalance(void **state)
{
    harness_t *h = *state;
    client_t a, b;
    client_init(&a, "a", "inst-a", "range");
    client_init(&b, "b", "inst-b", "range");
    client_join(h, G, &a, true); /* static members need no KIP-394 round trip */
    assert_int_equal(a.join_err, 0);
    assert_true(g_str_has_prefix(a.member_id, "inst-a-"));
    client_join(h, G, &b, true);
    client_join(h, G, &a, true);
    client_sync(h, G, &b);
    client_sync(h, G, &a);
    assert_string_equal(b.assignment, "A(range:b)");
    int32_t generation = a.generation;

    /* b restarts: same instance id, no member id, same protocols */
    client_t b2;
    client_init(&b2, "b", "inst-b", "range");
    client_join(h, G, &b2, true);
    assert_true(b2.joined);
    assert_int_equal(b2.join_err, 0);
    assert_int_equal(b2.generation, generation);
    assert_string_not_equal(b2.member_id, b.member_id);
    assert_string_equal(b2.leader, a.member_id);
    assert_int_equal(b2.member_count, 0);
    desc_out_t d = describe(h, G);
    assert_string_equal(d.state, "Stable"); /* no rebalance */
    assert_int_equal(d.members, 2);
    assert_int_equal(client_heartbeat(h, G, &a), 0);
    client_sync(h, G, &b2);
    assert_int_equal(b2.sync_err, 0);
    assert_string_equal(b2.assignment, "A(range:b)");
    assert_int_equal(client_heartbeat(h, G, &b2), 0);

    /* the old incarnation is fenced */
    assert_int_equal(client_heartbeat(h, G, &b), RB_GROUP_ERR_FENCED_INSTANCE_ID);
    client_sync(h, G, &b);
    assert_int_equal(b.sync_err, RB_GROUP_ERR_FENCED_INSTANCE_ID);
    rb_offset_commit_part_t part = {.topic = "t", .partition = 0, .offset = 5, .leader_epoch = -1};
    assert_int_equal(
        rb_group_offset_commit(h->coord, G, generation, b.member_id, "inst-b", &part, 1),
        RB_GROUP_ERR_FENCED_INSTANCE_ID);
    client_join(h, G, &b, true);
    assert_int_equal(b.join_err, RB_GROUP_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(client_leave(h, G, &b), RB_GROUP_ERR_FENCED_INSTANCE_ID);
    assert_string_equal(describe(h, G).state, "Stable");

    /* the leader restarts: no rebalance either; it is told the old leader id
     * so that it acts as a follower and gets its assignment back */
    client_t a2;
    client_init(&a2, "a", "inst-a", "range");
    client_join(h, G, &a2, true);
    assert_int_equal(a2.join_err, 0);
    assert_string_equal(a2.leader, a.member_id);
    assert_string_equal(describe(h, G).state, "Stable");
    client_sync(h, G, &a2);
    assert_string_equal(a2.assignment, "A(range:a)");

    /* new metadata that keeps the selected protocol: still no rebalance */
    client_t b3;
    client_init(&b3, "b3", "inst-b", "range");
    client_join(h, G, &b3, true);
    assert_true(b3.joined);
    assert_int_equal(b3.join_err, 0);
    assert_string_equal(describe(h, G).state, "Stable");
    client_sync(h, G, &b3);
    assert_string_equal(b3.assignment, "A(range:b)"); /* the assignment it had */
    /* metadata that keeps the selected protocol (roundrobin is not shared) */
    client_t b4;
    client_init(&b4, "b", "inst-b", "roundrobin,range");
    client_join(h, G, &b4, true);
    assert_true(b4.joined);
    assert_string_equal(describe(h, G).state, "Stable");

    /* protocols that change the group's selection rebalance */
    client_t x, y, y2;
    client_init(&x, "x", "inst-x", "range,roundrobin");
    client_init(&y, "y", "inst-y", "range,roundrobin");
    client_join(h, "g2", &x, true);
    client_join(h, "g2", &y, true);
    client_join(h, "g2", &x, true);
    client_sync(h, "g2", &y);
    client_sync(h, "g2", &x);
    assert_string_equal(x.protocol, "range");
    int32_t g2_generation = x.generation;
    client_init(&y2, "y", "inst-y", "roundrobin");
    client_join(h, "g2", &y2, true);
    assert_false(y2.joined);
    assert_string_equal(describe(h, "g2").state, "PreparingRebalance");
    client_join(h, "g2", &x, true);
    assert_true(x.joined && y2.joined);
    assert_string_equal(x.protocol, "roundrobin");
    assert_int_equal(x.generation, g2_generation + 1);

    /* leaving by instance id alone (LeaveGroup v3+) */
    rb_leave_member_t leave = {.member_id = "", .group_instance_id = "inst-b"};
    assert_int_equal(rb_group_leave(h->coord, G, &leave, 1), 0);
    assert_int_equal(leave.error_code, 0);
    assert_int_equal(describe(h, G).members, 1);
    assert_string_equal(describe(h, G).state, "PreparingRebalance");
}

static void test_group__protocol_selection(void **state)
{
    harness_t *h = *state;
    h_close(h);
    h->config.initial_rebalance_delay_ms = 10;
    h_open(h);
    client_t a, b, c, d, e;
    client_init(&a, "a", NULL, "roundrobin,range");
    client_init(&b, "b", NULL, "range,roundrobin");
    client_init(&c, "c", NULL, "range,sticky,roundrobin");
    client_init(&d, "d", NULL, "sticky");
    client_join(h, G, &a, false);
    client_join(h, G, &b, false);
    client_join(h, G, &c, false);
    /* no protocol in common with every member */
    client_join(h, G, &d, false);
    assert_true(d.joined);
    assert_int_equal(d.join_err, RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL);
    /* another protocol type */
    client_init(&e, "e", NULL, "range");
    e.protocol_type = "connect";
    client_join(h, G, &e, false);
    assert_int_equal(e.join_err, RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL);
    /* no protocol at all */
    client_init(&e, "e", NULL, "");
    client_join(h, G, &e, false);
    assert_int_equal(e.join_err, RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL);
    h_advance(h, 10);
    assert_false(a.joined); /* members arrived during the first delay: one more */
    h_advance(h, 10);
    /* range: 2 votes (b, c) against 1 (a) */
    assert_true(a.joined && b.joined && c.joined);
    assert_string_equal(a.protocol, "range");
    assert_string_equal(a.member_md[0], "range:a");
    assert_int_equal(a.member_count, 3);
}

static void test_group__invalid_requests(void **state)
{
    harness_t *h = *state;
    client_t a;
    client_init(&a, "a", NULL, "range");
    a.session_ms = 1000; /* below group.min.session.timeout.ms */
    client_join(h, G, &a, false);
    assert_int_equal(a.join_err, RB_GROUP_ERR_INVALID_SESSION_TIMEOUT);
    a.session_ms = 1800001;
    client_join(h, G, &a, false);
    assert_int_equal(a.join_err, RB_GROUP_ERR_INVALID_SESSION_TIMEOUT);
    a.session_ms = 10000;
    client_join(h, "", &a, false);
    assert_int_equal(a.join_err, RB_GROUP_ERR_INVALID_GROUP_ID);
    /* nothing was created by the failed joins */
    assert_string_equal(describe(h, G).state, "Dead");
    /* a member id in a group we do not know */
    g_strlcpy(a.member_id, "a-123", sizeof(a.member_id));
    client_join(h, G, &a, false);
    assert_int_equal(a.join_err, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    a.generation = 1;
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    client_sync(h, G, &a);
    assert_int_equal(a.sync_err, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    a.member_id[0] = '\0';
    join_alone(h, &a);
    a.generation = 7;
    client_sync(h, G, &a);
    assert_int_equal(a.sync_err, RB_GROUP_ERR_ILLEGAL_GENERATION);
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_ILLEGAL_GENERATION);
    a.generation = 1;
    a.sync_protocol_name = "roundrobin"; /* SyncGroup v5 names the protocol: it must match */
    client_sync(h, G, &a);
    assert_int_equal(a.sync_err, RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL);
    a.sync_protocol_name = "range";
    client_sync(h, G, &a);
    assert_int_equal(a.sync_err, 0);
}

static void test_group__max_size(void **state)
{
    harness_t *h = *state;
    h_close(h);
    h->config.max_size = 1;
    h_open(h);
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    join_alone(h, &a);
    client_join(h, G, &b, false);
    assert_int_equal(b.join_err, RB_GROUP_ERR_GROUP_MAX_SIZE_REACHED);
    client_join(h, G, &a, false); /* a member rejoining is fine */
    assert_int_equal(a.join_err, 0);
}

static void test_group__not_loaded_and_destroy(void **state)
{
    harness_t *h = *state;
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    join_alone(h, &a);
    client_join(h, G, &b, false);
    assert_false(b.joined);
    /* destroying answers the pending join */
    h_close(h);
    assert_true(b.joined);
    assert_int_equal(b.join_err, RB_GROUP_ERR_NOT_COORDINATOR);
    /* before load: COORDINATOR_LOAD_IN_PROGRESS everywhere */
    assert_int_equal(rb_group_find_coordinator(NULL, G), RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE);
    h_open_unloaded(h);
    assert_int_equal(rb_group_find_coordinator(h->coord, G), 0);
    a.member_id[0] = '\0';
    client_join(h, G, &a, false);
    assert_int_equal(a.join_err, RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    assert_int_equal(client_heartbeat(h, G, &a), RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    client_sync(h, G, &a);
    assert_int_equal(a.sync_err, RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    assert_int_equal(client_leave(h, G, &a), RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    rb_offset_fetch_part_t part = {.topic = "t", .partition = 0};
    assert_int_equal(rb_group_offset_fetch(h->coord, G, false, &part, 1),
                     RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
    char *err = h_load(h);
    assert_null(err);
    client_join(h, G, &a, false);
    assert_int_equal(a.join_err, 0);
}

int main(void)
{
    rill__log_init();
    if (!g_getenv("RILL_LOG_LEVEL"))
        rill__log_set_level(RILL_LOG_LVL_WARN); /* RILL_LOG_LEVEL=debug to see the story */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group__single_member_join_sync_heartbeat, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group__member_id_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__three_members_leader_and_assignments, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group__initial_delay_bounded_by_rebalance_timeout,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__leave_triggers_rebalance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__session_expiry_removes_member, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__rebalance_timeout_removes_members_not_rejoined,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__late_joiner_restarts_completing_rebalance,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__leader_that_never_syncs_is_removed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group__static_member_rejoins_without_rebalance, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group__protocol_selection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__invalid_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__max_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group__not_loaded_and_destroy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
