/* test-coordinator.c: the transaction coordinator against in-memory
 * partitions (real producer state, a byte log) and a fake clock: producer id
 * allocation, epochs and fencing, commit and abort with markers, timeouts,
 * CONCURRENT_TRANSACTIONS, restarts in the middle of a transaction, and the
 * operator views. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/txn/coordinator.h"
#include "broker/txn/errors.h"
#include "tests/unit/broker/txn/txn-test.h"

#define TOPIC "orders"

/* The server side of the hooks. */
typedef struct server {
    char *dir;
    int64_t now;
    GHashTable *parts;  /* "partition/topic" -> test_part_t (owned) */
    int fail_markers;   /* the next N write_marker calls fail */
    rb_kerr_t fail_err; /* with this error (0: UNKNOWN_SERVER_ERROR) */
    int marker_calls;
    GPtrArray *group_ends; /* "group pid epoch commit|abort" */
    rb_txn_config_t config;
    rb_txn_coord_t *coord;
} server_t;

static void part_free(gpointer p)
{
    test_part_free(p);
    g_free(p);
}

static test_part_t *part_get(server_t *server, const char *topic, int32_t partition)
{
    g_autofree char *key = g_strdup_printf("%d/%s", partition, topic);
    test_part_t *part = g_hash_table_lookup(server->parts, key);
    if (part == NULL) {
        part = g_new0(test_part_t, 1);
        test_part_init(part, NULL);
        g_hash_table_insert(server->parts, g_steal_pointer(&key), part);
    }
    return part;
}

static int64_t hook_now(void *ctx)
{
    return ((server_t *)ctx)->now;
}

static rb_kerr_t hook_write_marker(void *ctx, const char *topic, int32_t partition, uint8_t *batch,
                                   size_t len)
{
    server_t *server = ctx;
    server->marker_calls++;
    if (server->fail_markers > 0) {
        server->fail_markers--;
        return server->fail_err != 0 ? server->fail_err : RB_TXN_ERR_UNKNOWN_SERVER_ERROR;
    }
    int64_t offset;
    return test_part_append(part_get(server, topic, partition), batch, len, RB_PSTATE_COORDINATOR,
                            &offset);
}

static rb_kerr_t hook_end_group_txn(void *ctx, const char *group_id, int64_t producer_id,
                                    int16_t producer_epoch, bool commit)
{
    server_t *server = ctx;
    g_ptr_array_add(server->group_ends,
                    g_strdup_printf("%s %lld %d %s", group_id, (long long)producer_id,
                                    producer_epoch, commit ? "commit" : "abort"));
    return 0;
}

static rb_txn_coord_t *server_open(server_t *server)
{
    rb_txn_hooks_t hooks = {
        .ctx = server,
        .now_ms = hook_now,
        .write_marker = hook_write_marker,
        .end_group_txn = hook_end_group_txn,
    };
    char *err = NULL;
    server->coord = rb_txn_open(server->dir, &server->config, &hooks, &err);
    if (server->coord == NULL)
        fail_msg("rb_txn_open: %s", err);
    return server->coord;
}

/* A restart: the coordinator's memory is lost, the files and partitions stay. */
static void server_restart(server_t *server)
{
    rb_txn_close(server->coord);
    server_open(server);
}

static int setup(void **state)
{
    server_t *server = g_new0(server_t, 1);
    server->dir = test_tmpdir();
    server->now = 1700000000000;
    server->parts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, part_free);
    server->group_ends = g_ptr_array_new_with_free_func(g_free);
    rb_txn_config_defaults(&server->config);
    server_open(server);
    *state = server;
    return 0;
}

static int teardown(void **state)
{
    server_t *server = *state;
    rb_txn_close(server->coord);
    g_hash_table_destroy(server->parts);
    g_ptr_array_free(server->group_ends, TRUE);
    test_rmtree(server->dir);
    g_free(server->dir);
    g_free(server);
    return 0;
}

static rb_txn_state_t state_of(server_t *server, const char *id)
{
    rb_txn_info_t info;
    assert_true(rb_txn_describe(server->coord, id, &info, NULL, NULL));
    return info.state;
}

static void init_txn(server_t *server, const char *id, int64_t *pid, int16_t *epoch)
{
    assert_int_equal(rb_txn_init_producer_id(server->coord, id, 60000, -1, -1, pid, epoch), 0);
}

static const rb_txn_partition_t two_partitions[] = {{TOPIC, 0}, {TOPIC, 1}};

static void test_coordinator__producer_ids_never_reused(void **state)
{
    server_t *server = *state;
    int64_t a, b, c;
    int16_t epoch;
    assert_int_equal(rb_txn_init_producer_id(server->coord, NULL, 0, -1, -1, &a, &epoch), 0);
    assert_int_equal(epoch, 0);
    assert_int_equal(rb_txn_init_producer_id(server->coord, NULL, 0, -1, -1, &b, &epoch), 0);
    assert_true(b != a);
    /* KIP-360: an idempotent producer passing its current id/epoch gets the
     * same id with the epoch bumped; a stale pair gets a fresh id. */
    assert_int_equal(rb_txn_init_producer_id(server->coord, NULL, 0, a, 0, &c, &epoch), 0);
    assert_int_equal(c, a);
    assert_int_equal(epoch, 1);
    assert_int_equal(rb_txn_init_producer_id(server->coord, NULL, 0, a, 0, &c, &epoch), 0);
    assert_true(c != a && c != b);
    assert_int_equal(epoch, 0);
    int32_t coordinator_epoch = rb_txn_coordinator_epoch(server->coord);

    server_restart(server);
    assert_int_equal(rb_txn_coordinator_epoch(server->coord), coordinator_epoch + 1);
    int64_t d;
    assert_int_equal(rb_txn_init_producer_id(server->coord, NULL, 0, -1, -1, &d, &epoch), 0);
    assert_true(d > c && d > b && d > a);
    int64_t t;
    init_txn(server, "tx", &t, &epoch);
    assert_true(t > d);

    /* A damaged allocator file stops the broker rather than restart at 0. */
    rb_txn_close(server->coord);
    server->coord = NULL;
    g_autofree char *path = g_build_filename(server->dir, "producer_id.block", NULL);
    assert_true(g_file_set_contents(path, "garbage\n", -1, NULL));
    char *err = NULL;
    rb_txn_hooks_t hooks = {.ctx = server, .now_ms = hook_now};
    assert_null(rb_txn_open(server->dir, &server->config, &hooks, &err));
    assert_non_null(strstr(err, "producer_id.block"));
    g_free(err);
    assert_true(g_file_set_contents(path, "rill-producer-ids 1 next=5000\n", -1, NULL));
    server_open(server);
}

static void test_coordinator__transactional_id_epoch_bump_fences_old(void **state)
{
    server_t *server = *state;
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    init_txn(server, "app-1", &pid, &epoch);
    assert_int_equal(epoch, 0);
    init_txn(server, "app-1", &pid2, &epoch2);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, 1);
    /* The old epoch is fenced on every request. */
    rb_kerr_t err = rb_txn_add_partitions(server->coord, "app-1", pid, 0, two_partitions, 2);
    assert_int_equal(err, RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(rb_txn_error_for_version(RB_TXN_API_ADD_PARTITIONS_TO_TXN, 0, err),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(rb_txn_error_for_version(RB_TXN_API_ADD_PARTITIONS_TO_TXN, 3, err),
                     RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(rb_txn_error_for_version(RB_TXN_API_INIT_PRODUCER_ID, 3, err),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(rb_txn_error_for_version(RB_TXN_API_INIT_PRODUCER_ID, 4, err),
                     RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(rb_txn_error_for_version(RB_TXN_API_END_TXN, 1, err),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(
        rb_txn_error_for_version(RB_TXN_API_END_TXN, 1, RB_TXN_ERR_CONCURRENT_TRANSACTIONS),
        RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(rb_txn_end(server->coord, "app-1", pid, 0, true), RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(rb_txn_add_offsets(server->coord, "app-1", pid, 0, "g"),
                     RB_TXN_ERR_PRODUCER_FENCED);
    /* Another producer id, or an unknown transactional id. */
    assert_int_equal(rb_txn_add_partitions(server->coord, "app-1", pid + 1, 1, two_partitions, 2),
                     RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(rb_txn_end(server->coord, "nope", pid, 1, true),
                     RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING);
    /* Bad timeouts and ids. */
    assert_int_equal(rb_txn_init_producer_id(server->coord, "app-1", 0, -1, -1, &pid2, &epoch2),
                     RB_TXN_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_int_equal(
        rb_txn_init_producer_id(server->coord, "app-1", 900001, -1, -1, &pid2, &epoch2),
        RB_TXN_ERR_INVALID_TRANSACTION_TIMEOUT);
    assert_int_equal(pid2, -1);
    assert_int_equal(rb_txn_init_producer_id(server->coord, "", 1000, -1, -1, &pid2, &epoch2),
                     RB_TXN_ERR_INVALID_REQUEST);

    /* KIP-360: the producer passes its id/epoch; a lost answer's retry gets
     * the same bump again; an older pair is fenced. */
    assert_int_equal(rb_txn_init_producer_id(server->coord, "app-1", 1000, pid, 1, &pid2, &epoch2),
                     0);
    assert_int_equal(epoch2, 2);
    assert_int_equal(rb_txn_init_producer_id(server->coord, "app-1", 1000, pid, 1, &pid2, &epoch2),
                     0);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, 2);
    assert_int_equal(rb_txn_init_producer_id(server->coord, "app-1", 1000, pid, 0, &pid2, &epoch2),
                     RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(
        rb_txn_init_producer_id(server->coord, "app-1", 1000, 424242, 2, &pid2, &epoch2),
        RB_TXN_ERR_PRODUCER_FENCED);
    /* The state survives a restart. */
    server_restart(server);
    init_txn(server, "app-1", &pid2, &epoch2);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, 3);
}

/* Produces one transactional batch to each partition of the transaction. */
static void produce_txn(server_t *server, int64_t pid, int16_t epoch, int32_t seq, int nparts)
{
    for (int i = 0; i < nparts; i++) {
        int64_t base;
        assert_int_equal(test_produce(part_get(server, TOPIC, i), pid, epoch, seq, 2, true, &base),
                         0);
    }
}

static void test_coordinator__commit_writes_markers_and_moves_lso(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(state_of(server, "app"), RB_TXN_EMPTY);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_ONGOING);
    produce_txn(server, pid, epoch, 0, 2);
    test_part_t *p0 = part_get(server, TOPIC, 0);
    test_part_t *p1 = part_get(server, TOPIC, 1);
    assert_int_equal(rb_pstate_lso(p0->ps, p0->end_offset), 0);
    /* Adding the same partitions again is a no-op. */
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 1), 0);

    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_COMMIT);
    int commits;
    assert_int_equal(test_part_markers(p0, &commits), 1);
    assert_int_equal(commits, 1);
    assert_int_equal(test_part_markers(p1, &commits), 1);
    assert_int_equal(commits, 1);
    assert_int_equal(p0->end_offset, 3);
    assert_int_equal(rb_pstate_lso(p0->ps, p0->end_offset), 3);
    assert_int_equal(rb_pstate_lso(p1->ps, p1->end_offset), 3);
    /* The marker carries the producer and the coordinator epoch. */
    GArray *producers = g_array_new(FALSE, FALSE, sizeof(rb_producer_info_t));
    rb_pstate_producers(p0->ps, producers);
    assert_int_equal(g_array_index(producers, rb_producer_info_t, 0).coordinator_epoch,
                     rb_txn_coordinator_epoch(server->coord));
    g_array_free(producers, TRUE);
    GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    assert_int_equal(rb_pstate_aborted_txns(p0->ps, 0, 10, aborted), 0);
    g_array_free(aborted, TRUE);

    /* A retried EndTxn(commit) is answered OK; abort now is illegal. */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true), 0);
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, false),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(test_part_markers(p0, &commits), 1);
    /* The next transaction starts from CompleteCommit with only what it adds. */
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions + 1, 1),
                     0);
    GArray *parts = g_array_new(FALSE, FALSE, sizeof(rb_txn_partition_t));
    rb_txn_info_t info;
    assert_true(rb_txn_describe(server->coord, "app", &info, parts, NULL));
    assert_int_equal(info.state, RB_TXN_ONGOING);
    assert_int_equal(info.start_ms, server->now);
    assert_int_equal(parts->len, 1);
    assert_int_equal(g_array_index(parts, rb_txn_partition_t, 0).partition, 1);
    g_array_free(parts, TRUE);
}

static void test_coordinator__abort_writes_markers_and_aborted_index(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    produce_txn(server, pid, epoch, 0, 2);
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, false), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_ABORT);
    for (int i = 0; i < 2; i++) {
        test_part_t *part = part_get(server, TOPIC, i);
        int commits;
        assert_int_equal(test_part_markers(part, &commits), 1);
        assert_int_equal(commits, 0);
        GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
        assert_int_equal(rb_pstate_aborted_txns(part->ps, 0, part->end_offset, aborted), 1);
        rb_aborted_txn_t *entry = &g_array_index(aborted, rb_aborted_txn_t, 0);
        assert_int_equal(entry->producer_id, pid);
        assert_int_equal(entry->first_offset, 0);
        assert_int_equal(entry->last_offset, 2);
        g_array_free(aborted, TRUE);
        assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), part->end_offset);
    }
    /* EndTxn without a transaction is illegal. */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    int64_t pid2;
    int16_t epoch2;
    init_txn(server, "app", &pid2, &epoch2);
    assert_int_equal(rb_txn_end(server->coord, "app", pid2, epoch2, false),
                     RB_TXN_ERR_INVALID_TXN_STATE);
}

static void test_coordinator__timeout_aborts_and_fences(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    assert_int_equal(rb_txn_init_producer_id(server->coord, "slow", 1000, -1, -1, &pid, &epoch), 0);
    assert_int_equal(rb_txn_add_partitions(server->coord, "slow", pid, epoch, two_partitions, 2),
                     0);
    produce_txn(server, pid, epoch, 0, 2);
    int64_t started = server->now;
    assert_int_equal(rb_txn_next_deadline(server->coord), started + 1001);

    server->now = started + 1000; /* not yet */
    rb_txn_tick(server->coord);
    assert_int_equal(state_of(server, "slow"), RB_TXN_ONGOING);
    server->now = started + 1001;
    rb_txn_tick(server->coord);
    assert_int_equal(state_of(server, "slow"), RB_TXN_COMPLETE_ABORT);
    rb_txn_info_t info;
    assert_true(rb_txn_describe(server->coord, "slow", &info, NULL, NULL));
    assert_int_equal(info.producer_epoch, epoch + 1);

    /* The zombie is fenced at the coordinator and at the partitions. */
    assert_int_equal(rb_txn_end(server->coord, "slow", pid, epoch, true),
                     RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(rb_txn_add_partitions(server->coord, "slow", pid, epoch, two_partitions, 1),
                     RB_TXN_ERR_PRODUCER_FENCED);
    int64_t base;
    test_part_t *p0 = part_get(server, TOPIC, 0);
    assert_int_equal(test_produce(p0, pid, epoch, 1, 1, true, &base),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    assert_int_equal(rb_pstate_aborted_txns(p0->ps, 0, p0->end_offset, aborted), 1);
    g_array_free(aborted, TRUE);
    /* The application restarts: a new epoch above the fencing one. */
    int64_t pid2;
    int16_t epoch2;
    init_txn(server, "slow", &pid2, &epoch2);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, epoch + 2);
    assert_int_equal(test_produce(p0, pid2, epoch2, 0, 1, true, &base), 0);
}

static void test_coordinator__concurrent_transactions_while_completing(void **state)
{
    server_t *server = *state;
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    produce_txn(server, pid, epoch, 0, 2);
    server->fail_markers = 1; /* one partition's marker fails (disk full) */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_PREPARE_COMMIT);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2),
                     RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(rb_txn_add_offsets(server->coord, "app", pid, epoch, "g"),
                     RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true),
                     RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, false),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_txn_init_producer_id(server->coord, "app", 60000, -1, -1, &pid2, &epoch2),
                     RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    /* The LSO of the partition still waiting for its marker stays put. */
    int waiting = 0;
    for (int i = 0; i < 2; i++) {
        test_part_t *part = part_get(server, TOPIC, i);
        if (rb_pstate_lso(part->ps, part->end_offset) == 0)
            waiting++;
    }
    assert_int_equal(waiting, 1);

    /* Retried after the backoff, not before. */
    int calls = server->marker_calls;
    rb_txn_tick(server->coord);
    assert_int_equal(server->marker_calls, calls);
    assert_int_equal(rb_txn_next_deadline(server->coord), server->now + 100);
    server->now += 100;
    rb_txn_tick(server->coord);
    assert_int_equal(server->marker_calls, calls + 1); /* only the one left */
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_COMMIT);
    for (int i = 0; i < 2; i++) {
        int commits;
        assert_int_equal(test_part_markers(part_get(server, TOPIC, i), &commits), 1);
        assert_int_equal(commits, 1);
    }
    init_txn(server, "app", &pid2, &epoch2);
    assert_int_equal(epoch2, epoch + 1);
}

static void test_coordinator__init_during_ongoing_aborts_first(void **state)
{
    server_t *server = *state;
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    produce_txn(server, pid, epoch, 0, 2);
    /* A new instance of the application starts with the same transactional id. */
    assert_int_equal(rb_txn_init_producer_id(server->coord, "app", 60000, -1, -1, &pid2, &epoch2),
                     RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    int commits;
    assert_int_equal(test_part_markers(part_get(server, TOPIC, 0), &commits), 1);
    assert_int_equal(commits, 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_ABORT);
    init_txn(server, "app", &pid2, &epoch2);
    assert_int_equal(pid2, pid);
    assert_int_equal(epoch2, epoch + 2);
}

static void test_coordinator__restart_in_prepare_commit_completes(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    assert_int_equal(rb_txn_add_offsets(server->coord, "app", pid, epoch, "grp"), 0);
    produce_txn(server, pid, epoch, 0, 2);
    server->fail_markers = 1000; /* the broker dies before any marker is written */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_PREPARE_COMMIT);

    server->fail_markers = 0;
    server_restart(server);
    assert_int_equal(state_of(server, "app"), RB_TXN_PREPARE_COMMIT);
    GArray *parts = g_array_new(FALSE, FALSE, sizeof(rb_txn_partition_t));
    rb_txn_info_t info;
    assert_true(rb_txn_describe(server->coord, "app", &info, parts, NULL));
    assert_int_equal(parts->len, 2);
    g_array_free(parts, TRUE);
    assert_int_equal(rb_txn_recover(server->coord), 1);
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_COMMIT);
    for (int i = 0; i < 2; i++) {
        test_part_t *part = part_get(server, TOPIC, i);
        int commits;
        assert_int_equal(test_part_markers(part, &commits), 1);
        assert_int_equal(commits, 1);
        assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), part->end_offset);
    }
    /* The group's pending offsets were committed: once before the crash (the
     * group hook succeeded while the markers failed) and again by the
     * recovery, which replays the whole PrepareCommit record -- the hook is
     * idempotent by contract. */
    assert_int_equal(server->group_ends->len, 2);
    g_autofree char *expected = g_strdup_printf("grp %lld %d commit", (long long)pid, epoch);
    assert_string_equal(g_ptr_array_index(server->group_ends, 0), expected);
    assert_string_equal(g_ptr_array_index(server->group_ends, 1), expected);
    /* The same producer goes on (the epoch was not bumped by a commit). */
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 1), 0);
    /* A second restart finds nothing to do for CompleteCommit... */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true), 0);
    server_restart(server);
    assert_int_equal(rb_txn_recover(server->coord), 0);
}

static void test_coordinator__restart_in_ongoing_aborts(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    produce_txn(server, pid, epoch, 0, 2);
    server_restart(server);
    assert_int_equal(state_of(server, "app"), RB_TXN_ONGOING);
    assert_int_equal(rb_txn_recover(server->coord), 1);
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_ABORT);
    for (int i = 0; i < 2; i++) {
        test_part_t *part = part_get(server, TOPIC, i);
        int commits;
        assert_int_equal(test_part_markers(part, &commits), 1);
        assert_int_equal(commits, 0);
        assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), part->end_offset);
        GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
        assert_int_equal(rb_pstate_aborted_txns(part->ps, 0, part->end_offset, aborted), 1);
        g_array_free(aborted, TRUE);
    }
    /* The producer from before the crash is fenced. */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true),
                     RB_TXN_ERR_PRODUCER_FENCED);
    int64_t base;
    assert_int_equal(test_produce(part_get(server, TOPIC, 0), pid, epoch, 1, 1, true, &base),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
}

static void test_coordinator__txn_offsets_verified_and_completed(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_verify_offset_commit(server->coord, "app", pid, epoch, "g1"),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_txn_add_offsets(server->coord, "app", pid, epoch, "g1"), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_ONGOING);
    assert_int_equal(rb_txn_verify_offset_commit(server->coord, "app", pid, epoch, "g1"), 0);
    assert_int_equal(rb_txn_verify_offset_commit(server->coord, "app", pid, epoch, "g2"),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_txn_verify_offset_commit(server->coord, "app", pid, epoch + 1, "g1"),
                     RB_TXN_ERR_PRODUCER_FENCED);
    assert_int_equal(
        rb_txn_error_for_version(RB_TXN_API_TXN_OFFSET_COMMIT, 3, RB_TXN_ERR_PRODUCER_FENCED),
        RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(rb_txn_verify_offset_commit(server->coord, "app", pid + 7, epoch, "g1"),
                     RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING);
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, false), 0);
    assert_int_equal(server->group_ends->len, 1);
    g_autofree char *expected = g_strdup_printf("g1 %lld %d abort", (long long)pid, epoch);
    assert_string_equal(g_ptr_array_index(server->group_ends, 0), expected);
    /* No partitions: no markers. */
    assert_int_equal(server->marker_calls, 0);
}

static void test_coordinator__epoch_exhaustion_rotates_producer_id(void **state)
{
    server_t *server = *state;
    server->config.fsync = false; /* 32k writes */
    server_restart(server);
    int64_t pid, pid2;
    int16_t epoch = 0, epoch2;
    init_txn(server, "old", &pid, &epoch);
    while (epoch < INT16_MAX - 1) {
        int64_t same;
        init_txn(server, "old", &same, &epoch);
        assert_int_equal(same, pid);
    }
    assert_int_equal(epoch, INT16_MAX - 1);
    /* Exhausted: a new producer id, epoch 0; the old pair remains a valid
     * "expected" id for a retry (KIP-360). */
    assert_int_equal(
        rb_txn_init_producer_id(server->coord, "old", 1000, pid, epoch, &pid2, &epoch2), 0);
    assert_true(pid2 != pid);
    assert_int_equal(epoch2, 0);
    int64_t pid3;
    int16_t epoch3;
    assert_int_equal(
        rb_txn_init_producer_id(server->coord, "old", 1000, pid, epoch, &pid3, &epoch3), 0);
    assert_int_equal(pid3, pid2);
    assert_int_equal(epoch3, 0);
    /* The log was compacted along the way and still loads. */
    server_restart(server);
    rb_txn_info_t info;
    assert_true(rb_txn_describe(server->coord, "old", &info, NULL, NULL));
    assert_int_equal(info.producer_id, pid2);
    g_autofree char *path = g_build_filename(server->dir, "transaction.log", NULL);
    GStatBuf st;
    assert_int_equal(g_stat(path, &st), 0);
    assert_true(st.st_size < 200 * 1000);
}

static void test_coordinator__torn_log_tail_and_expiry(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "a", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "a", pid, epoch, two_partitions, 2), 0);
    rb_txn_close(server->coord);
    /* A torn write at the end of the log. */
    g_autofree char *path = g_build_filename(server->dir, "transaction.log", NULL);
    FILE *fp = fopen(path, "ab");
    assert_non_null(fp);
    fwrite("\0\0\0\x40\x12\x34", 1, 6, fp);
    fclose(fp);
    server_open(server);
    assert_int_equal(state_of(server, "a"), RB_TXN_ONGOING);
    assert_int_equal(rb_txn_end(server->coord, "a", pid, epoch, true), 0);
    /* Idle past transactional.id.expiration.ms: Dead, forgotten for good. */
    server->now += server->config.id_expiration_ms + 1;
    rb_txn_tick(server->coord);
    rb_txn_info_t info;
    assert_false(rb_txn_describe(server->coord, "a", &info, NULL, NULL));
    server_restart(server);
    assert_false(rb_txn_describe(server->coord, "a", &info, NULL, NULL));
    int64_t pid2;
    init_txn(server, "a", &pid2, &epoch);
    assert_true(pid2 > pid);
    assert_int_equal(epoch, 0);
}

static void test_coordinator__describe_and_list(void **state)
{
    server_t *server = *state;
    int64_t p1, p2, p3;
    int16_t e1, e2, e3;
    init_txn(server, "b", &p2, &e2);
    init_txn(server, "a", &p1, &e1);
    init_txn(server, "c", &p3, &e3);
    assert_int_equal(rb_txn_add_partitions(server->coord, "a", p1, e1, two_partitions, 2), 0);
    assert_int_equal(rb_txn_add_offsets(server->coord, "a", p1, e1, "grp"), 0);
    assert_int_equal(rb_txn_add_partitions(server->coord, "c", p3, e3, two_partitions, 1), 0);
    assert_int_equal(rb_txn_end(server->coord, "c", p3, e3, true), 0);

    GArray *all = g_array_new(FALSE, FALSE, sizeof(rb_txn_info_t));
    rb_txn_list(server->coord, NULL, 0, NULL, 0, all);
    assert_int_equal(all->len, 3);
    assert_string_equal(g_array_index(all, rb_txn_info_t, 0).transactional_id, "a");
    assert_string_equal(g_array_index(all, rb_txn_info_t, 2).transactional_id, "c");
    g_array_free(all, TRUE);

    rb_txn_state_t ongoing = RB_TXN_ONGOING;
    GArray *some = g_array_new(FALSE, FALSE, sizeof(rb_txn_info_t));
    rb_txn_list(server->coord, &ongoing, 1, NULL, 0, some);
    assert_int_equal(some->len, 1);
    assert_int_equal(g_array_index(some, rb_txn_info_t, 0).producer_id, p1);
    g_array_set_size(some, 0);
    int64_t ids[] = {p2, p3};
    rb_txn_list(server->coord, NULL, 0, ids, 2, some);
    assert_int_equal(some->len, 2);
    g_array_set_size(some, 0);
    rb_txn_state_t complete = RB_TXN_COMPLETE_COMMIT;
    rb_txn_list(server->coord, &complete, 1, ids, 1, some);
    assert_int_equal(some->len, 0);
    g_array_free(some, TRUE);

    GArray *parts = g_array_new(FALSE, FALSE, sizeof(rb_txn_partition_t));
    GPtrArray *groups = g_ptr_array_new();
    rb_txn_info_t info;
    assert_true(rb_txn_describe(server->coord, "a", &info, parts, groups));
    assert_string_equal(rb_txn_state_name(info.state), "Ongoing");
    assert_int_equal(info.timeout_ms, 60000);
    assert_int_equal(info.start_ms, server->now);
    assert_int_equal(parts->len, 2);
    assert_string_equal(g_array_index(parts, rb_txn_partition_t, 0).topic, TOPIC);
    assert_int_equal(groups->len, 1);
    assert_string_equal(g_ptr_array_index(groups, 0), "grp");
    g_array_free(parts, TRUE);
    g_ptr_array_free(groups, TRUE);
    assert_false(rb_txn_describe(server->coord, "zzz", &info, NULL, NULL));

    for (int s = RB_TXN_EMPTY; s <= RB_TXN_PREPARE_EPOCH_FENCE; s++)
        assert_int_equal(rb_txn_state_from_name(rb_txn_state_name((rb_txn_state_t)s)), s);
    assert_int_equal(rb_txn_state_from_name("Bogus"), -1);
}

static void test_coordinator__verify_produce(void **state)
{
    server_t *server = *state;
    int64_t pid, pid2;
    int16_t epoch, epoch2;
    init_txn(server, "v", &pid, &epoch);
    /* No transaction open yet. */
    assert_int_equal(rb_txn_verify_produce(server->coord, pid, epoch, TOPIC, 0),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_txn_add_partitions(server->coord, "v", pid, epoch, two_partitions, 1), 0);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid, epoch, TOPIC, 0), 0);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid, epoch, TOPIC, 1),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid, epoch, "other", 0),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid + 100, 0, TOPIC, 0),
                     RB_TXN_ERR_INVALID_PRODUCER_ID_MAPPING);
    /* Survives a restart (the index is rebuilt from the log). */
    server_restart(server);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid, epoch, TOPIC, 0), 0);
    /* A successor fences the old epoch everywhere, even where it has not written. */
    assert_int_equal(rb_txn_init_producer_id(server->coord, "v", 60000, -1, -1, &pid2, &epoch2),
                     RB_TXN_ERR_CONCURRENT_TRANSACTIONS);
    init_txn(server, "v", &pid2, &epoch2);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid, epoch, TOPIC, 0),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(rb_txn_add_partitions(server->coord, "v", pid2, epoch2, two_partitions, 2), 0);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid2, epoch2, TOPIC, 1), 0);
    assert_int_equal(rb_txn_end(server->coord, "v", pid2, epoch2, true), 0);
    assert_int_equal(rb_txn_verify_produce(server->coord, pid2, epoch2, TOPIC, 1),
                     RB_TXN_ERR_INVALID_TXN_STATE);
}

static void test_coordinator__obsolete_marker_is_not_retried(void **state)
{
    server_t *server = *state;
    int64_t pid;
    int16_t epoch;
    init_txn(server, "app", &pid, &epoch);
    assert_int_equal(rb_txn_add_partitions(server->coord, "app", pid, epoch, two_partitions, 2), 0);
    server->fail_markers = 1;
    server->fail_err = RB_TXN_ERR_PRODUCER_FENCED; /* that partition saw a newer epoch */
    assert_int_equal(rb_txn_end(server->coord, "app", pid, epoch, true), 0);
    assert_int_equal(state_of(server, "app"), RB_TXN_COMPLETE_COMMIT);
    assert_int_equal(server->marker_calls, 2);
    server->now += 1000;
    rb_txn_tick(server->coord);
    assert_int_equal(server->marker_calls, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_coordinator__obsolete_marker_is_not_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__verify_produce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__producer_ids_never_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__transactional_id_epoch_bump_fences_old,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__commit_writes_markers_and_moves_lso,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__abort_writes_markers_and_aborted_index,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__timeout_aborts_and_fences, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__concurrent_transactions_while_completing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__init_during_ongoing_aborts_first, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__restart_in_prepare_commit_completes,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__restart_in_ongoing_aborts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__txn_offsets_verified_and_completed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__epoch_exhaustion_rotates_producer_id,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__torn_log_tail_and_expiry, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_coordinator__describe_and_list, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
