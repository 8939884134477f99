/* test-group-offsets.c: committed offsets: OffsetCommit/OffsetFetch checks,
 * persistence through the offsets log and reload, DeleteGroups, topic
 * deletion, expiry, transactional offsets, and the Describe/List views. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "broker/log/log.h"
#include "common/buf.h"
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

/* Commits one offset; returns the partition's error. */
static int16_t commit1(harness_t *h, const char *group, int32_t generation, const char *member_id,
                       const char *topic, int32_t partition, int64_t offset, const char *metadata)
{
    rb_offset_commit_part_t part = {.topic = topic,
                                    .partition = partition,
                                    .offset = offset,
                                    .leader_epoch = 3,
                                    .metadata = metadata};
    rb_group_offset_commit(h->coord, group, generation, member_id, NULL, &part, 1);
    return part.error_code;
}

static int16_t simple_commit(harness_t *h, const char *group, const char *topic, int32_t partition,
                             int64_t offset)
{
    return commit1(h, group, -1, "", topic, partition, offset, "");
}

/* The committed offset (or -1); *metadata gets a copy of the metadata. */
static int64_t fetch1(harness_t *h, const char *group, const char *topic, int32_t partition,
                      char *metadata, size_t metadata_size)
{
    rb_offset_fetch_part_t part = {.topic = topic, .partition = partition};
    assert_int_equal(rb_group_offset_fetch(h->coord, group, false, &part, 1), 0);
    assert_int_equal(part.error_code, 0);
    if (metadata)
        g_strlcpy(metadata, part.metadata, metadata_size);
    return part.offset;
}

static void join_alone(harness_t *h, client_t *c, const char *group)
{
    client_join(h, group, c, false);
    assert_int_equal(c->join_err, 0);
    client_sync(h, group, c);
    assert_int_equal(c->sync_err, 0);
}

static void test_group_offsets__commit_and_fetch(void **state)
{
    harness_t *h = *state;
    client_t a;
    client_init(&a, "a", NULL, "range");
    join_alone(h, &a, G);
    assert_int_equal(commit1(h, G, a.generation, a.member_id, "t", 0, 42, "meta-0"), 0);
    assert_int_equal(commit1(h, G, a.generation, a.member_id, "t", 1, 7, NULL), 0);
    char md[64];
    assert_int_equal(fetch1(h, G, "t", 0, md, sizeof(md)), 42);
    assert_string_equal(md, "meta-0");
    assert_int_equal(fetch1(h, G, "t", 1, md, sizeof(md)), 7);
    assert_string_equal(md, "");
    /* unknown partitions, topics and groups: -1, no error */
    assert_int_equal(fetch1(h, G, "t", 2, md, sizeof(md)), -1);
    assert_int_equal(fetch1(h, G, "u", 0, NULL, 0), -1);
    assert_int_equal(fetch1(h, "nobody", "t", 0, NULL, 0), -1);
    /* the leader epoch is kept */
    rb_offset_fetch_part_t part = {.topic = "t", .partition = 0};
    rb_group_offset_fetch(h->coord, G, false, &part, 1);
    assert_int_equal(part.leader_epoch, 3);
    /* an overwrite wins */
    assert_int_equal(commit1(h, G, a.generation, a.member_id, "t", 0, 50, "meta-1"), 0);
    assert_int_equal(fetch1(h, G, "t", 0, md, sizeof(md)), 50);
    assert_string_equal(md, "meta-1");
    /* a multi-partition commit; an entry the handler failed is left alone */
    rb_offset_commit_part_t parts[3] = {
        {.topic = "v", .partition = 0, .offset = 1, .leader_epoch = -1},
        {.topic = "gone", .partition = 0, .offset = 1, .leader_epoch = -1, .error_code = 3},
        {.topic = "v", .partition = 1, .offset = 2, .leader_epoch = -1},
    };
    assert_int_equal(rb_group_offset_commit(h->coord, G, a.generation, a.member_id, NULL, parts, 3),
                     0);
    assert_int_equal(parts[0].error_code, 0);
    assert_int_equal(parts[1].error_code, 3);
    assert_int_equal(parts[2].error_code, 0);
    assert_int_equal(fetch1(h, G, "gone", 0, NULL, 0), -1);
    assert_int_equal(fetch1(h, G, "v", 1, NULL, 0), 2);
}

static void on_fetch_all(const rb_offset_fetch_part_t *part, void *ud)
{
    GString *out = ud;
    g_string_append_printf(out, "%s/%d=%" G_GINT64_FORMAT ";", part->topic, part->partition,
                           part->offset);
}

static void test_group_offsets__fetch_all_sorted(void **state)
{
    harness_t *h = *state;
    assert_int_equal(simple_commit(h, G, "b", 1, 11), 0);
    assert_int_equal(simple_commit(h, G, "a", 2, 12), 0);
    assert_int_equal(simple_commit(h, G, "b", 0, 10), 0);
    assert_int_equal(simple_commit(h, G, "a", 10, 13), 0);
    GString *out = g_string_new("");
    assert_int_equal(rb_group_offset_fetch_all(h->coord, G, false, on_fetch_all, out), 0);
    assert_string_equal(out->str, "a/2=12;a/10=13;b/0=10;b/1=11;");
    g_string_truncate(out, 0);
    assert_int_equal(rb_group_offset_fetch_all(h->coord, "none", false, on_fetch_all, out), 0);
    assert_string_equal(out->str, "");
    g_string_free(out, TRUE);
}

static void test_group_offsets__commit_errors(void **state)
{
    harness_t *h = *state;
    /* a generation of a group nobody knows */
    assert_int_equal(commit1(h, G, 5, "x", "t", 0, 1, ""), RB_GROUP_ERR_ILLEGAL_GENERATION);
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    join_alone(h, &a, G);
    assert_int_equal(commit1(h, G, a.generation + 1, a.member_id, "t", 0, 1, ""),
                     RB_GROUP_ERR_ILLEGAL_GENERATION);
    assert_int_equal(commit1(h, G, a.generation, "someone-else", "t", 0, 1, ""),
                     RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    /* from outside group management while the group has members */
    assert_int_equal(simple_commit(h, G, "t", 0, 1), RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    /* metadata over offset.metadata.max.bytes */
    char big[5000];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(commit1(h, G, a.generation, a.member_id, "t", 0, 1, big),
                     RB_GROUP_ERR_OFFSET_METADATA_TOO_LARGE);
    /* during a rebalance: allowed in PreparingRebalance with the old generation,
     * refused in CompletingRebalance */
    client_join(h, G, &b, false);
    int32_t old_generation = a.generation;
    assert_int_equal(commit1(h, G, old_generation, a.member_id, "t", 0, 9, ""), 0);
    client_join(h, G, &a, false);
    assert_true(a.joined && b.joined);
    assert_int_equal(commit1(h, G, a.generation, a.member_id, "t", 0, 10, ""),
                     RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(commit1(h, G, old_generation, a.member_id, "t", 0, 10, ""),
                     RB_GROUP_ERR_ILLEGAL_GENERATION);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 9);
    /* nothing failed was stored */
    h_close(h);
    h_open(h);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 9);
}

static void test_group_offsets__simple_consumer_commit(void **state)
{
    harness_t *h = *state;
    assert_int_equal(simple_commit(h, "admin-group", "t", 0, 100), 0);
    assert_int_equal(fetch1(h, "admin-group", "t", 0, NULL, 0), 100);
    /* the group exists now, Empty, with no protocol type */
    client_t a;
    client_init(&a, "a", NULL, "range");
    join_alone(h, &a, "admin-group");
    assert_int_equal(commit1(h, "admin-group", a.generation, a.member_id, "t", 0, 101, ""), 0);
    assert_int_equal(client_leave(h, "admin-group", &a), 0);
    /* Empty again: simple commits are accepted again */
    assert_int_equal(simple_commit(h, "admin-group", "t", 0, 102), 0);
    assert_int_equal(fetch1(h, "admin-group", "t", 0, NULL, 0), 102);
}

static void test_group_offsets__store_failure_changes_nothing(void **state)
{
    harness_t *h = *state;
    assert_int_equal(simple_commit(h, G, "t", 0, 5), 0);
    h->fail_appends = 1;
    assert_int_equal(simple_commit(h, G, "t", 0, 6), RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 5);
    h->fail_appends = 1;
    assert_int_equal(simple_commit(h, "new-group", "t", 0, 6),
                     RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE);
    h->fail_appends = 1;
    assert_int_equal(rb_group_delete(h->coord, G), RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 5);
    h_close(h);
    h_open(h);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 5);
}

typedef struct list_out {
    GString *text;
} list_out_t;

static void on_list(const char *group_id, const char *protocol_type, const char *state, void *ud)
{
    GString *out = ud;
    g_string_append_printf(out, "%s(%s,%s);", group_id, protocol_type, state);
}

static char *list_groups(harness_t *h, const char *const *states, size_t n)
{
    GString *out = g_string_new("");
    assert_int_equal(rb_group_list(h->coord, states, n, on_list, out), 0);
    return g_string_free(out, FALSE);
}

static void test_group_offsets__persisted_and_reloaded(void **state)
{
    harness_t *h = *state;
    client_t a;
    client_init(&a, "a", NULL, "range");
    join_alone(h, &a, "consumers");
    assert_int_equal(commit1(h, "consumers", a.generation, a.member_id, "t", 0, 10, "m0"), 0);
    assert_int_equal(commit1(h, "consumers", a.generation, a.member_id, "t", 1, 20, "m1"), 0);
    assert_int_equal(commit1(h, "consumers", a.generation, a.member_id, "t", 0, 11, "m0b"), 0);
    assert_int_equal(commit1(h, "consumers", a.generation, a.member_id, "old", 0, 5, ""), 0);
    assert_int_equal(simple_commit(h, "simple", "t", 3, 33), 0);
    assert_int_equal(simple_commit(h, "doomed", "t", 0, 1), 0);
    assert_int_equal(rb_group_delete(h->coord, "doomed"), 0);
    assert_int_equal(rb_group_topic_deleted(h->coord, "old"), 1);
    int32_t generation = a.generation;

    h_close(h); /* the member is gone with the coordinator; offsets stay */
    h_open(h);
    char md[32];
    assert_int_equal(fetch1(h, "consumers", "t", 0, md, sizeof(md)), 11);
    assert_string_equal(md, "m0b");
    assert_int_equal(fetch1(h, "consumers", "t", 1, md, sizeof(md)), 20);
    assert_string_equal(md, "m1");
    assert_int_equal(fetch1(h, "consumers", "old", 0, NULL, 0), -1);
    assert_int_equal(fetch1(h, "simple", "t", 3, NULL, 0), 33);
    assert_int_equal(fetch1(h, "doomed", "t", 0, NULL, 0), -1);
    rb_offset_fetch_part_t part = {.topic = "t", .partition = 0};
    rb_group_offset_fetch(h->coord, "consumers", false, &part, 1);
    assert_int_equal(part.leader_epoch, 3);
    g_autofree char *listed = list_groups(h, NULL, 0);
    assert_string_equal(listed, "consumers(consumer,Empty);simple(,Empty);");
    /* members rejoin after a restart and get a later generation */
    client_init(&a, "a", NULL, "range");
    join_alone(h, &a, "consumers");
    assert_true(a.generation > generation);
    /* a reload twice in a row gives the same */
    h_close(h);
    h_open(h);
    h_close(h);
    h_open(h);
    assert_int_equal(fetch1(h, "consumers", "t", 0, NULL, 0), 11);
    g_autofree char *listed2 = list_groups(h, NULL, 0);
    assert_string_equal(listed2, "consumers(consumer,Empty);simple(,Empty);");
}

static void test_group_offsets__corrupt_log_is_reported(void **state)
{
    harness_t *h = *state;
    assert_int_equal(simple_commit(h, G, "t", 0, 5), 0);
    h_close(h);
    /* flip a byte inside the batch: the CRC catches it */
    gchar *data;
    gsize len;
    assert_true(g_file_get_contents(h->store_path, &data, &len, NULL));
    data[len - 3] ^= 0x40;
    assert_true(g_file_set_contents(h->store_path, data, (gssize)len, NULL));
    g_free(data);
    h_open_unloaded(h);
    char *err = h_load(h);
    assert_non_null(err);
    assert_non_null(strstr(err, "CRC"));
    g_free(err);
    rb_offset_fetch_part_t part = {.topic = "t", .partition = 0};
    assert_int_equal(rb_group_offset_fetch(h->coord, G, false, &part, 1),
                     RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
}

static void test_group_offsets__delete_groups(void **state)
{
    harness_t *h = *state;
    client_t a;
    client_init(&a, "a", NULL, "range");
    join_alone(h, &a, G);
    assert_int_equal(commit1(h, G, a.generation, a.member_id, "t", 0, 1, ""), 0);
    assert_int_equal(rb_group_delete(h->coord, G), RB_GROUP_ERR_NON_EMPTY_GROUP);
    assert_int_equal(rb_group_delete(h->coord, "nobody"), RB_GROUP_ERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(client_leave(h, G, &a), 0);
    assert_int_equal(rb_group_delete(h->coord, G), 0);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), -1);
    assert_int_equal(rb_group_delete(h->coord, G), RB_GROUP_ERR_GROUP_ID_NOT_FOUND);
    g_autofree char *listed = list_groups(h, NULL, 0);
    assert_string_equal(listed, "");
    h_close(h);
    h_open(h);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), -1);
    assert_int_equal(rb_group_delete(h->coord, G), RB_GROUP_ERR_GROUP_ID_NOT_FOUND);
}

static void test_group_offsets__expired_offsets_cleanup(void **state)
{
    harness_t *h = *state;
    h_close(h);
    h->config.offsets_retention_ms = 100000;
    h->config.offsets_retention_check_interval_ms = 10000;
    h_open(h);
    /* a simple group: counted from each commit */
    assert_int_equal(simple_commit(h, "simple", "t", 0, 1), 0);
    h_advance(h, 50000);
    assert_int_equal(simple_commit(h, "simple", "t", 1, 2), 0);
    /* a consumer group: counted from when it became Empty */
    client_t a;
    client_init(&a, "a", NULL, "range");
    a.session_ms = 30000;
    join_alone(h, &a, "consumers");
    assert_int_equal(commit1(h, "consumers", a.generation, a.member_id, "t", 0, 5, ""), 0);
    for (int i = 0; i < 20; i++) { /* 80 s with members: nothing expires */
        h_advance(h, 4000);
        assert_int_equal(client_heartbeat(h, "consumers", &a), 0);
    }
    h_advance(h, 500); /* off the 10 s expiry ticks */
    /* t/0 is 130.5 s old: expired by the periodic check; t/1 is 80.5 s old */
    assert_int_equal(fetch1(h, "simple", "t", 0, NULL, 0), -1);
    assert_int_equal(fetch1(h, "simple", "t", 1, NULL, 0), 2);
    assert_int_equal(fetch1(h, "consumers", "t", 0, NULL, 0), 5); /* 80.5 s: kept anyway */
    assert_int_equal(client_leave(h, "consumers", &a), 0);
    int64_t empty_since = h->now;
    h_advance(h, 30000);
    assert_int_equal(fetch1(h, "consumers", "t", 0, NULL, 0), 5);
    assert_int_equal(fetch1(h, "simple", "t", 1, NULL, 0), -1);
    g_autofree char *listed = list_groups(h, NULL, 0);
    assert_string_equal(listed, "consumers(consumer,Empty);"); /* simple had nothing left */
    h_advance(h, empty_since + 100000 - h->now - 1);
    assert_int_equal(rb_group_expire_offsets(h->coord), 0);
    h_advance(h, 1);
    assert_int_equal(rb_group_expire_offsets(h->coord), 1);
    assert_int_equal(fetch1(h, "consumers", "t", 0, NULL, 0), -1);
    g_autofree char *listed2 = list_groups(h, NULL, 0);
    assert_string_equal(listed2, "");
    /* and it stays so after a reload */
    h_close(h);
    h_open(h);
    g_autofree char *listed3 = list_groups(h, NULL, 0);
    assert_string_equal(listed3, "");
}

static void test_group_offsets__transactional_offsets(void **state)
{
    harness_t *h = *state;
    assert_int_equal(simple_commit(h, G, "t", 0, 5), 0);
    rb_offset_commit_part_t parts[2] = {
        {.topic = "t", .partition = 0, .offset = 10, .leader_epoch = -1, .metadata = "tx"},
        {.topic = "t", .partition = 1, .offset = 20, .leader_epoch = -1},
    };
    assert_int_equal(rb_group_txn_offset_commit(h->coord, G, 1000, 0, -1, "", NULL, parts, 2), 0);
    assert_true(rb_group_has_pending_txn_offsets(h->coord, G));
    /* invisible until the transaction commits; unstable under RequireStable */
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 5);
    assert_int_equal(fetch1(h, G, "t", 1, NULL, 0), -1);
    rb_offset_fetch_part_t fp[2] = {{.topic = "t", .partition = 0}, {.topic = "t", .partition = 2}};
    assert_int_equal(rb_group_offset_fetch(h->coord, G, true, fp, 2), 0);
    assert_int_equal(fp[0].error_code, RB_GROUP_ERR_UNSTABLE_OFFSET_COMMIT);
    assert_int_equal(fp[0].offset, -1);
    assert_int_equal(fp[1].error_code, 0);

    /* a restart in the middle keeps them pending */
    h_close(h);
    h_open(h);
    assert_true(rb_group_has_pending_txn_offsets(h->coord, G));
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 5);
    assert_int_equal(rb_group_txn_complete(h->coord, 1000, 0, true), 0);
    assert_false(rb_group_has_pending_txn_offsets(h->coord, G));
    char md[16];
    assert_int_equal(fetch1(h, G, "t", 0, md, sizeof(md)), 10);
    assert_string_equal(md, "tx");
    assert_int_equal(fetch1(h, G, "t", 1, NULL, 0), 20);

    /* an aborted transaction's offsets are dropped */
    rb_offset_commit_part_t p2 = {.topic = "t", .partition = 0, .offset = 99, .leader_epoch = -1};
    assert_int_equal(rb_group_txn_offset_commit(h->coord, G, 2000, 1, -1, "", NULL, &p2, 1), 0);
    assert_int_equal(rb_group_txn_complete(h->coord, 2000, 1, false), 0);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 10);
    /* a producer with nothing pending: nothing to do */
    int appends = h->appends;
    assert_int_equal(rb_group_txn_complete(h->coord, 3000, 0, true), 0);
    assert_int_equal(h->appends, appends);

    h_close(h);
    h_open(h);
    assert_false(rb_group_has_pending_txn_offsets(h->coord, G));
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 10);
    assert_int_equal(fetch1(h, G, "t", 1, NULL, 0), 20);

    /* member checks (TxnOffsetCommit v3) */
    client_t a;
    client_init(&a, "a", NULL, "range");
    join_alone(h, &a, "g2");
    rb_offset_commit_part_t p3 = {.topic = "t", .partition = 0, .offset = 1, .leader_epoch = -1};
    assert_int_equal(rb_group_txn_offset_commit(h->coord, "g2", 4000, 0, a.generation + 1,
                                                a.member_id, NULL, &p3, 1),
                     RB_GROUP_ERR_ILLEGAL_GENERATION);
    p3.error_code = 0;
    assert_int_equal(
        rb_group_txn_offset_commit(h->coord, "g2", 4000, 0, a.generation, "nope", NULL, &p3, 1),
        RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    p3.error_code = 0;
    assert_int_equal(rb_group_txn_offset_commit(h->coord, "g2", 4000, 0, a.generation, a.member_id,
                                                NULL, &p3, 1),
                     0);
    assert_int_equal(rb_group_txn_complete(h->coord, 4000, 0, true), 0);
    assert_int_equal(fetch1(h, "g2", "t", 0, NULL, 0), 1);

    /* per group, as broker/txn's end_group_txn hook calls it: one transaction
     * with offsets in two groups */
    rb_offset_commit_part_t q1 = {.topic = "t", .partition = 5, .offset = 55, .leader_epoch = -1};
    rb_offset_commit_part_t q2 = {.topic = "t", .partition = 6, .offset = 66, .leader_epoch = -1};
    assert_int_equal(rb_group_txn_offset_commit(h->coord, G, 5000, 2, -1, "", NULL, &q1, 1), 0);
    assert_int_equal(rb_group_txn_offset_commit(h->coord, "g3", 5000, 2, -1, "", NULL, &q2, 1), 0);
    assert_int_equal(rb_group_txn_end(h->coord, "nobody", 5000, 2, true), 0);
    assert_true(rb_group_has_pending_txn_offsets(h->coord, "g3"));
    appends = h->appends;
    assert_int_equal(rb_group_txn_end(h->coord, G, 5000, 2, true), 0);
    assert_int_equal(h->appends, appends + 1);
    assert_false(rb_group_has_pending_txn_offsets(h->coord, "g3"));
    assert_int_equal(rb_group_txn_end(h->coord, "g3", 5000, 2, true), 0); /* nothing left */
    assert_int_equal(h->appends, appends + 1);
    assert_int_equal(fetch1(h, G, "t", 5, NULL, 0), 55);
    assert_int_equal(fetch1(h, "g3", "t", 6, NULL, 0), 66);
    /* a failed marker write leaves them pending; the retry completes them */
    rb_offset_commit_part_t q3 = {.topic = "t", .partition = 7, .offset = 77, .leader_epoch = -1};
    assert_int_equal(rb_group_txn_offset_commit(h->coord, G, 6000, 0, -1, "", NULL, &q3, 1), 0);
    h->fail_appends = 1;
    assert_int_equal(rb_group_txn_end(h->coord, G, 6000, 0, true),
                     RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE);
    assert_true(rb_group_has_pending_txn_offsets(h->coord, G));
    assert_int_equal(rb_group_txn_end(h->coord, G, 6000, 0, true), 0);
    assert_int_equal(fetch1(h, G, "t", 7, NULL, 0), 77);
    h_close(h);
    h_open(h);
    assert_int_equal(fetch1(h, G, "t", 7, NULL, 0), 77);
    assert_int_equal(fetch1(h, "g3", "t", 6, NULL, 0), 66);
}

typedef struct desc_capture {
    int16_t err;
    char state[32];
    char protocol_data[32];
    size_t members;
    char client_id[32];
    char client_host[32];
    char metadata[64];
    char assignment[64];
} desc_capture_t;

static void on_desc(const rb_group_desc_t *d, void *ud)
{
    desc_capture_t *c = ud;
    c->err = d->error_code;
    g_strlcpy(c->state, d->state, sizeof(c->state));
    g_strlcpy(c->protocol_data, d->protocol_data, sizeof(c->protocol_data));
    c->members = d->member_count;
    if (d->member_count > 0) {
        g_strlcpy(c->client_id, d->members[0].client_id, sizeof(c->client_id));
        g_strlcpy(c->client_host, d->members[0].client_host, sizeof(c->client_host));
        memcpy(c->metadata, d->members[0].metadata, d->members[0].metadata_len);
        c->metadata[d->members[0].metadata_len] = '\0';
        memcpy(c->assignment, d->members[0].assignment, d->members[0].assignment_len);
        c->assignment[d->members[0].assignment_len] = '\0';
    }
}

static void test_group_offsets__describe_and_list(void **state)
{
    harness_t *h = *state;
    client_t a, b;
    client_init(&a, "a", NULL, "range");
    client_init(&b, "b", NULL, "range");
    join_alone(h, &a, "stable-group");
    client_join(h, "completing-group", &b, false);
    assert_int_equal(simple_commit(h, "empty-group", "t", 0, 1), 0);

    desc_capture_t d;
    memset(&d, 0, sizeof(d));
    rb_group_describe(h->coord, "stable-group", on_desc, &d);
    assert_int_equal(d.err, 0);
    assert_string_equal(d.state, "Stable");
    assert_string_equal(d.protocol_data, "range");
    assert_int_equal(d.members, 1);
    assert_string_equal(d.client_id, "a");
    assert_string_equal(d.client_host, "/127.0.0.1");
    assert_string_equal(d.metadata, "range:a");
    assert_string_equal(d.assignment, "A(range:a)");

    memset(&d, 0, sizeof(d));
    rb_group_describe(h->coord, "completing-group", on_desc, &d);
    assert_string_equal(d.state, "CompletingRebalance");
    assert_string_equal(d.protocol_data, ""); /* only in Stable */
    assert_int_equal(d.members, 1);
    assert_string_equal(d.metadata, "");

    memset(&d, 0, sizeof(d));
    rb_group_describe(h->coord, "no-such-group", on_desc, &d);
    assert_int_equal(d.err, 0);
    assert_string_equal(d.state, "Dead");
    assert_int_equal(d.members, 0);

    g_autofree char *all = list_groups(h, NULL, 0);
    assert_string_equal(all, "completing-group(consumer,CompletingRebalance);"
                             "empty-group(,Empty);stable-group(consumer,Stable);");
    const char *states[] = {"stable", "Empty"};
    g_autofree char *some = list_groups(h, states, 2);
    assert_string_equal(some, "empty-group(,Empty);stable-group(consumer,Stable);");
    const char *none[] = {"Dead"};
    g_autofree char *dead = list_groups(h, none, 1);
    assert_string_equal(dead, "");
}

/* The real store: __consumer_offsets-0 through broker/log/log.h, closed and
 * reopened, with more than one read's worth of batches to replay. */
static void open_on_log(harness_t *h, const char *log_dir)
{
    rb_group_store_t store;
    char *err = NULL;
    if (rb_group_store_open_log(log_dir, &store, &err) != 0)
        fail_msg("open log store: %s", err);
    if (h->coord)
        h_close(h);
    h_open_with_store(h, &store);
}

static void test_group_offsets__on_the_partition_log(void **state)
{
    harness_t *h = *state;
    g_autofree char *log_dir = g_build_filename(h->dir, "logs", NULL);
    open_on_log(h, log_dir);
    char big[4001];
    memset(big, 'x', 4000);
    big[4000] = '\0';
    for (int i = 0; i < 400; i++) /* ~1.6 MB: replay needs several reads */
        assert_int_equal(commit1(h, G, -1, "", "t", i % 7, i, big), 0);
    assert_int_equal(simple_commit(h, "other", "u", 0, 77), 0);
    rb_offset_commit_part_t p = {.topic = "t", .partition = 9, .offset = 900, .leader_epoch = -1};
    assert_int_equal(rb_group_txn_offset_commit(h->coord, G, 42, 0, -1, "", NULL, &p, 1), 0);
    assert_int_equal(rb_group_delete(h->coord, "other"), 0);
    h_close(h);
    g_autofree char *seg =
        g_build_filename(log_dir, "__consumer_offsets-0", "00000000000000000000.log", NULL);
    assert_true(g_file_test(seg, G_FILE_TEST_EXISTS));

    open_on_log(h, log_dir);
    for (int part = 0; part < 7; part++) {
        int64_t last = -1;
        for (int i = 0; i < 400; i++)
            if (i % 7 == part)
                last = i;
        char md[4100];
        assert_int_equal(fetch1(h, G, "t", part, md, sizeof(md)), last);
        assert_string_equal(md, big);
    }
    assert_int_equal(fetch1(h, "other", "u", 0, NULL, 0), -1);
    assert_true(rb_group_has_pending_txn_offsets(h->coord, G));
    assert_int_equal(rb_group_txn_complete(h->coord, 42, 0, true), 0);
    h_close(h);
    open_on_log(h, log_dir);
    assert_false(rb_group_has_pending_txn_offsets(h->coord, G));
    assert_int_equal(fetch1(h, G, "t", 9, NULL, 0), 900);
    h_close(h);
    /* the harness's own store file is untouched; remove the log dir */
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", log_dir);
    assert_int_equal(system(cmd), 0);
}

/* Replay after the log's compaction (broker/log's cleaner): only the latest
 * value per key is left in the sealed segments, tombstones included, and the
 * reload still gives every group's latest offsets. */
static void test_group_offsets__reload_after_compaction(void **state)
{
    harness_t *h = *state;
    g_autofree char *log_dir = g_build_filename(h->dir, "compacted", NULL);
    rb_log_config_t lc;
    rb_group_store_log_config(&lc);
    lc.segment_bytes = 4096; /* many sealed segments to compact */
    char *err = NULL;
    rb_log_t *log = rb_log_open(log_dir, &lc, &err);
    if (!log)
        fail_msg("open: %s", err);
    rb_group_store_t store;
    rb_group_store_borrow_log(log, &store);
    h_close(h);
    h_open_with_store(h, &store);
    for (int round = 0; round < 50; round++)
        for (int p = 0; p < 8; p++)
            assert_int_equal(commit1(h, G, -1, "", "t", p, round * 100 + p, "m"), 0);
    assert_int_equal(simple_commit(h, "gone", "t", 0, 1), 0);
    assert_int_equal(rb_group_delete(h->coord, "gone"), 0);
    /* an offset committed by a transaction, then deleted with its topic */
    rb_offset_commit_part_t tx = {
        .topic = "t", .partition = 0, .offset = 424242, .leader_epoch = -1};
    assert_int_equal(rb_group_txn_offset_commit(h->coord, G, 77, 0, -1, "", NULL, &tx, 1), 0);
    assert_int_equal(rb_group_txn_end(h->coord, G, 77, 0, true), 0);
    assert_int_equal(fetch1(h, G, "t", 0, NULL, 0), 424242);
    assert_int_equal(rb_group_topic_deleted(h->coord, "t"), 8);
    for (int p = 0; p < 8; p++)
        assert_int_equal(commit1(h, G, -1, "", "u", p, 7000 + p, "last"), 0);
    for (int p = 0; p < 4; p++) /* more rounds, so that the segments above are sealed */
        for (int round = 0; round < 20; round++)
            assert_int_equal(commit1(h, "filler", -1, "", "f", p, round, ""), 0);
    int64_t before = rb_log_size_bytes(log);
    int64_t removed = rb_log_compact(log, H_WALL_BASE + h->now);
    assert_true(removed > 0);
    assert_true(rb_log_size_bytes(log) < before);
    h_close(h);
    rb_group_store_borrow_log(log, &store);
    h_open_with_store(h, &store);
    for (int p = 0; p < 8; p++) {
        char md[8];
        assert_int_equal(fetch1(h, G, "u", p, md, sizeof(md)), 7000 + p);
        assert_string_equal(md, "last");
        assert_int_equal(fetch1(h, G, "t", p, NULL, 0), -1);
    }
    assert_int_equal(fetch1(h, "gone", "t", 0, NULL, 0), -1);
    assert_int_equal(fetch1(h, "filler", "f", 3, NULL, 0), 19);
    g_autofree char *listed = list_groups(h, NULL, 0);
    assert_string_equal(listed, "app(,Empty);filler(,Empty);");
    /* two days later (past delete.retention.ms, which the offsets log now uses
     * with its default of 1 day): the tombstones go, and nothing comes back,
     * not even the transaction's offset (the cleaner removed it before its tombstone) */
    assert_true(rb_log_compact(log, H_WALL_BASE + h->now + 2 * 86400000LL) >= 0);
    h_close(h);
    rb_group_store_borrow_log(log, &store);
    h_open_with_store(h, &store);
    for (int p = 0; p < 8; p++) {
        assert_int_equal(fetch1(h, G, "u", p, NULL, 0), 7000 + p);
        assert_int_equal(fetch1(h, G, "t", p, NULL, 0), -1);
    }
    assert_int_equal(fetch1(h, "gone", "t", 0, NULL, 0), -1);
    h_close(h);
    rb_log_close(log);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", log_dir);
    assert_int_equal(system(cmd), 0);
}

typedef struct joined {
    int16_t err;
    int32_t generation;
    char member_id[160];
} joined_t;

static void on_joined(const rb_join_result_t *r, void *ud)
{
    joined_t *j = ud;
    j->err = r->error_code;
    j->generation = r->generation_id;
    g_strlcpy(j->member_id, r->member_id, sizeof(j->member_id));
}

static void on_synced(const rb_sync_result_t *r, void *ud)
{
    *(int16_t *)ud = r->error_code;
}

/* In a Stable consumer group, offsets of topics no member subscribes to any
 * more expire from their commit; subscribed ones do not. */
static void test_group_offsets__unsubscribed_topics_expire(void **state)
{
    harness_t *h = *state;
    h_close(h);
    h->config.offsets_retention_ms = 100000;
    h->config.offsets_retention_check_interval_ms = 10000;
    h_open(h);
    /* ConsumerProtocolSubscription v0: topics ["sub"], no user data */
    rill_wbuf_t md;
    rill__wbuf_init(&md, 32);
    rill__wbuf_put_i16(&md, 0);
    rill__wbuf_put_i32(&md, 1);
    rill__wbuf_put_i16(&md, 3);
    rill__wbuf_put(&md, "sub", 3);
    rill__wbuf_put_i32(&md, -1);
    rb_group_protocol_t proto = {"range", md.data, md.len};
    rb_join_request_t req = {.group_id = G,
                             .member_id = "",
                             .protocol_type = "consumer",
                             .protocols = &proto,
                             .protocol_count = 1,
                             .session_timeout_ms = 30000,
                             .rebalance_timeout_ms = 30000,
                             .client_id = "c"};
    joined_t j = {0};
    rb_group_join(h->coord, &req, on_joined, &j);
    assert_int_equal(j.err, 0);
    int16_t sync_err = -2;
    rb_sync_request_t sreq = {
        .group_id = G, .generation_id = j.generation, .member_id = j.member_id};
    rb_group_sync(h->coord, &sreq, on_synced, &sync_err);
    assert_int_equal(sync_err, 0);
    assert_int_equal(commit1(h, G, j.generation, j.member_id, "sub", 0, 1, ""), 0);
    assert_int_equal(commit1(h, G, j.generation, j.member_id, "old", 0, 2, ""), 0);
    for (int i = 0; i < 25; i++) { /* 125 s, heartbeating */
        h_advance(h, 5000);
        assert_int_equal(rb_group_heartbeat(h->coord, G, j.generation, j.member_id, NULL), 0);
    }
    assert_int_equal(fetch1(h, G, "sub", 0, NULL, 0), 1);
    assert_int_equal(fetch1(h, G, "old", 0, NULL, 0), -1);
    rill__wbuf_free(&md);
}

int main(void)
{
    rill__log_init();
    if (!g_getenv("RILL_LOG_LEVEL"))
        rill__log_set_level(RILL_LOG_LVL_WARN); /* RILL_LOG_LEVEL=debug to see the story */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_group_offsets__commit_and_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__fetch_all_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__commit_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__simple_consumer_commit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__store_failure_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__persisted_and_reloaded, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__corrupt_log_is_reported, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__delete_groups, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__expired_offsets_cleanup, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__transactional_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__describe_and_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__on_the_partition_log, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__reload_after_compaction, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_group_offsets__unsubscribed_topics_expire, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
