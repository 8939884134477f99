/* test-pstate.c: a partition's producer state: dedupe, sequence and epoch
 * rules, open transactions and the LSO, the aborted index, and rebuilding all
 * of it after a restart from snapshots plus a log replay. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "broker/log/batch.h"
#include "broker/txn/errors.h"
#include "tests/unit/broker/txn/txn-test.h"

typedef struct fixture {
    char *dir;
    test_part_t part;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = g_new0(fixture_t, 1);
    f->dir = test_tmpdir();
    test_part_init(&f->part, f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    test_part_free(&f->part);
    test_rmtree(f->dir);
    g_free(f->dir);
    g_free(f);
    return 0;
}

/* Appends a marker for producer_id/epoch (the coordinator's path). */
static rb_kerr_t write_marker(test_part_t *part, int64_t producer_id, int16_t epoch,
                              int32_t coordinator_epoch, bool commit, int64_t *offset)
{
    rill_wbuf_t w;
    rill__wbuf_init(&w, 96);
    rb_txn_marker_build(&w, producer_id, epoch, coordinator_epoch, commit, 5000);
    rb_kerr_t err = test_part_append(part, w.data, w.len, RB_PSTATE_COORDINATOR, offset);
    rill__wbuf_free(&w);
    return err;
}

static void test_pstate__duplicate_answers_original_offsets(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    assert_int_equal(test_produce(&f->part, 7, 0, 0, 3, false, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(test_produce(&f->part, 7, 0, 3, 2, false, &base), 0);
    assert_int_equal(base, 3);
    assert_int_equal(test_produce(&f->part, 8, 0, 0, 1, false, &base), 0);
    assert_int_equal(base, 5);
    size_t log_len = f->part.log.len;
    int appends = f->part.appends;

    /* Retries of both earlier batches of producer 7: original offsets, nothing appended. */
    assert_int_equal(test_produce(&f->part, 7, 0, 0, 3, false, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(test_produce(&f->part, 7, 0, 3, 2, false, &base), 0);
    assert_int_equal(base, 3);
    assert_int_equal(f->part.log.len, log_len);
    assert_int_equal(f->part.appends, appends);

    /* The sequence goes on after the duplicates. */
    assert_int_equal(test_produce(&f->part, 7, 0, 5, 1, false, &base), 0);
    assert_int_equal(base, 6);
}

static void test_pstate__dedupe_window_is_last_five_batches(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    for (int i = 0; i < 6; i++)
        assert_int_equal(test_produce(&f->part, 3, 0, i, 1, false, &base), 0);
    /* Batch 1..5 are remembered; batch 0 fell out of the window. */
    assert_int_equal(test_produce(&f->part, 3, 0, 1, 1, false, &base), 0);
    assert_int_equal(base, 1);
    assert_int_equal(test_produce(&f->part, 3, 0, 0, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(f->part.appends, 6);
}

static void test_pstate__out_of_order_sequence(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    assert_int_equal(test_produce(&f->part, 1, 0, 0, 2, false, &base), 0);
    /* gap: expected 2 */
    assert_int_equal(test_produce(&f->part, 1, 0, 3, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(base, -1);
    /* overlapping but not a duplicate */
    assert_int_equal(test_produce(&f->part, 1, 0, 1, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(f->part.appends, 1);
    assert_int_equal(test_produce(&f->part, 1, 0, 2, 1, false, &base), 0);
    assert_int_equal(base, 2);
}

static void test_pstate__unknown_producer_and_new_epoch(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    /* No state here for producer 9 and a sequence other than 0. */
    assert_int_equal(test_produce(&f->part, 9, 0, 4, 1, false, &base),
                     RB_TXN_ERR_UNKNOWN_PRODUCER_ID);
    assert_int_equal(test_produce(&f->part, 9, 0, 0, 1, false, &base), 0);
    /* A new epoch must start at sequence 0. */
    assert_int_equal(test_produce(&f->part, 9, 1, 1, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(test_produce(&f->part, 9, 1, 0, 1, false, &base), 0);
    assert_int_equal(base, 1);
}

static void test_pstate__stale_epoch_is_fenced(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    assert_int_equal(test_produce(&f->part, 4, 2, 0, 1, false, &base), 0);
    assert_int_equal(test_produce(&f->part, 4, 3, 0, 1, false, &base), 0);
    assert_int_equal(test_produce(&f->part, 4, 2, 1, 1, false, &base),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    /* Even a retry of a batch the old epoch did write is fenced now. */
    assert_int_equal(test_produce(&f->part, 4, 2, 0, 1, false, &base),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
    /* A marker with an older epoch is fenced too. */
    assert_int_equal(write_marker(&f->part, 4, 2, 0, true, &base), RB_TXN_ERR_PRODUCER_FENCED);
    /* The error each request version answers. */
    assert_int_equal(rb_txn_error_for_version(RB_TXN_API_PRODUCE, 7, RB_TXN_ERR_PRODUCER_FENCED),
                     RB_TXN_ERR_INVALID_PRODUCER_EPOCH);
}

static void test_pstate__sequence_wraps_at_int32_max(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    /* Get to just below INT32_MAX through a new producer starting at 0 is
     * impossible, so drive the state through the live path: sequences 0.. and
     * then check the wrap arithmetic the rules use. */
    assert_int_equal(rb_txn_seq_add(INT32_MAX - 1, 3), 1);
    assert_int_equal(rb_txn_seq_add(INT32_MAX, 1), 0);
    assert_int_equal(rb_txn_seq_add(5, 2), 7);
    /* A producer whose state is rebuilt from a log holding a batch that ends at
     * INT32_MAX: the next batch must start at 0. */
    rill_wbuf_t w;
    rill__wbuf_init(&w, 128);
    test_build_batch(&w, 11, 0, INT32_MAX - 2, 3, false, 1);
    rb_txn_batch_t batch;
    assert_true(rb_txn_batch_parse(w.data, w.len, &batch));
    assert_int_equal(rb_txn_seq_add(batch.base_sequence, batch.last_offset_delta), INT32_MAX);
    rb_pstate_appended(f->part.ps, w.data, w.len); /* as a replay would */
    f->part.end_offset = 3;
    rill__wbuf_free(&w);
    assert_int_equal(test_produce(&f->part, 11, 0, 1, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(test_produce(&f->part, 11, 0, 0, 2, false, &base), 0);
    assert_int_equal(base, 3);
    /* and a batch straddling the wrap: INT32_MAX-1 .. 1 */
    rill__wbuf_init(&w, 128);
    test_build_batch(&w, 12, 0, INT32_MAX - 1, 3, false, 1);
    rb_pstate_dup_t dup;
    assert_int_equal(rb_pstate_check(f->part.ps, w.data, w.len, RB_PSTATE_CLIENT, &dup),
                     RB_TXN_ERR_UNKNOWN_PRODUCER_ID);
    rill__wbuf_free(&w);
}

static void test_pstate__invalid_batches_rejected(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    /* A client may not write control batches. */
    rill_wbuf_t w;
    rill__wbuf_init(&w, 96);
    rb_txn_marker_build(&w, 5, 0, 0, true, 1);
    assert_int_equal(test_part_append(&f->part, w.data, w.len, RB_PSTATE_CLIENT, &base),
                     RB_TXN_ERR_INVALID_RECORD);
    /* A short buffer is corrupt. */
    assert_int_equal(test_part_append(&f->part, w.data, 30, RB_PSTATE_CLIENT, &base),
                     RB_TXN_ERR_CORRUPT_MESSAGE);
    rill__wbuf_free(&w);
    /* A transactional batch without a producer id. */
    assert_int_equal(test_produce(&f->part, -1, -1, -1, 1, true, &base), RB_TXN_ERR_INVALID_RECORD);
    /* Non-idempotent batches pass untouched. */
    assert_int_equal(test_produce(&f->part, -1, -1, -1, 2, false, &base), 0);
    assert_int_equal(rb_pstate_producer_count(f->part.ps), 0);
    /* A non-transactional write while the producer's transaction is open. */
    assert_int_equal(test_produce(&f->part, 5, 0, 0, 1, true, &base), 0);
    assert_int_equal(test_produce(&f->part, 5, 0, 1, 1, false, &base),
                     RB_TXN_ERR_INVALID_TXN_STATE);
    assert_int_equal(f->part.appends, 2);
}

static void test_pstate__lso_with_interleaved_transactions(void **state)
{
    fixture_t *f = *state;
    test_part_t *part = &f->part;
    int64_t base;
    assert_int_equal(rb_pstate_lso(part->ps, 0), 0);
    assert_int_equal(test_produce(part, -1, -1, -1, 2, false, &base), 0); /* 0-1 plain */
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), 2);
    assert_int_equal(test_produce(part, 100, 0, 0, 1, true, &base), 0); /* A at 2 */
    assert_int_equal(test_produce(part, 200, 0, 0, 2, true, &base), 0); /* B at 3-4 */
    assert_int_equal(test_produce(part, 100, 0, 1, 1, true, &base), 0); /* A at 5 */
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), 2);
    assert_int_equal(rb_pstate_first_unstable_offset(part->ps), 2);
    /* B commits first: A still holds the LSO at its first offset. */
    assert_int_equal(write_marker(part, 200, 0, 0, true, &base), 0);
    assert_int_equal(base, 6);
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), 2);
    assert_int_equal(test_produce(part, 200, 0, 2, 1, true, &base), 0); /* B again at 7 */
    /* A aborts: the LSO moves to B's new transaction. */
    assert_int_equal(write_marker(part, 100, 0, 0, false, &base), 0);
    assert_int_equal(base, 8);
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), 7);
    assert_int_equal(write_marker(part, 200, 0, 0, true, &base), 0);
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), part->end_offset);
    assert_int_equal(rb_pstate_first_unstable_offset(part->ps), -1);

    /* A's abort is in the index: first offset 2, marker at 8, LSO after it 7. */
    GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    assert_int_equal(rb_pstate_aborted_txns(part->ps, 0, part->end_offset, aborted), 1);
    rb_aborted_txn_t *entry = &g_array_index(aborted, rb_aborted_txn_t, 0);
    assert_int_equal(entry->producer_id, 100);
    assert_int_equal(entry->first_offset, 2);
    assert_int_equal(entry->last_offset, 8);
    assert_int_equal(entry->last_stable_offset, 7);
    g_array_free(aborted, TRUE);

    /* An open transaction whose start was deleted (retention): the LSO does
     * not go below the log start. */
    assert_int_equal(test_produce(part, 300, 0, 0, 1, true, &base), 0); /* at 10 */
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), 10);
    assert_int_equal(test_produce(part, -1, -1, -1, 3, false, &base), 0); /* 11-13 */
    rb_pstate_truncate_head(part->ps, 12);
    assert_int_equal(rb_pstate_lso(part->ps, part->end_offset), 12);
    assert_int_equal(rb_pstate_first_unstable_offset(part->ps), 10);
}

/* Aborted transactions: P1 [0..3], P2 [2..6], P3 [10..12] (first..marker). */
static void make_three_aborts(test_part_t *part)
{
    int64_t base;
    assert_int_equal(test_produce(part, 1, 0, 0, 2, true, &base), 0);     /* 0-1 */
    assert_int_equal(test_produce(part, 2, 0, 0, 1, true, &base), 0);     /* 2 */
    assert_int_equal(write_marker(part, 1, 0, 0, false, &base), 0);       /* 3 */
    assert_int_equal(test_produce(part, 2, 0, 1, 2, true, &base), 0);     /* 4-5 */
    assert_int_equal(write_marker(part, 2, 0, 0, false, &base), 0);       /* 6 */
    assert_int_equal(test_produce(part, -1, -1, -1, 3, false, &base), 0); /* 7-9 */
    assert_int_equal(test_produce(part, 3, 0, 0, 2, true, &base), 0);     /* 10-11 */
    assert_int_equal(write_marker(part, 3, 0, 0, false, &base), 0);       /* 12 */
    assert_int_equal(part->end_offset, 13);
}

static size_t aborted_ids(const rb_pstate_t *ps, int64_t from, int64_t upper, int64_t *ids)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    size_t n = rb_pstate_aborted_txns(ps, from, upper, out);
    assert_int_equal(n, out->len);
    for (guint i = 0; i < out->len; i++)
        ids[i] = g_array_index(out, rb_aborted_txn_t, i).producer_id;
    g_array_free(out, TRUE);
    return n;
}

static void test_pstate__aborted_list_query_ranges(void **state)
{
    fixture_t *f = *state;
    make_three_aborts(&f->part);
    int64_t ids[8];
    assert_int_equal(aborted_ids(f->part.ps, 0, 13, ids), 3);
    assert_int_equal(ids[0], 1);
    assert_int_equal(ids[1], 2);
    assert_int_equal(ids[2], 3);
    /* [0, 2): only P1 started before 2. */
    assert_int_equal(aborted_ids(f->part.ps, 0, 2, ids), 1);
    assert_int_equal(ids[0], 1);
    /* [3, 5): P1 ends at 3 (its marker), P2 spans it. */
    assert_int_equal(aborted_ids(f->part.ps, 3, 5, ids), 2);
    /* [4, 10): P1 ended before 4; P3 starts at 10, not below the bound. */
    assert_int_equal(aborted_ids(f->part.ps, 4, 10, ids), 1);
    assert_int_equal(ids[0], 2);
    /* [7, 10): nothing aborted overlaps the plain batch. */
    assert_int_equal(aborted_ids(f->part.ps, 7, 10, ids), 0);
    /* [11, 13) */
    assert_int_equal(aborted_ids(f->part.ps, 11, 13, ids), 1);
    assert_int_equal(ids[0], 3);
    /* past everything */
    assert_int_equal(aborted_ids(f->part.ps, 13, 20, ids), 0);
    /* Retention moved the start past P1 and P2's markers: dropped. */
    rb_pstate_truncate_head(f->part.ps, 7);
    assert_int_equal(aborted_ids(f->part.ps, 0, 13, ids), 1);
    assert_int_equal(ids[0], 3);
}

/* Rebuilds a state from dir + the partition's log as the server would on open. */
static rb_pstate_t *reopen(const char *dir, const test_part_t *part, int64_t log_end,
                           int64_t *replayed_from)
{
    rb_pstate_t *ps = rb_pstate_new(dir, NULL);
    int64_t from = -1;
    char *err = NULL;
    assert_true(rb_pstate_load(ps, 0, log_end, &from, &err));
    *replayed_from = from;
    g_autofree char *path = g_build_filename(dir, "segment.log", NULL);
    int fd = test_part_write_file(part, path);
    size_t pos = test_part_position(part, from);
    size_t end = test_part_position(part, log_end);
    int64_t next = -1;
    assert_true(rb_pstate_replay_fd(ps, fd, (off_t)pos, end - pos, &next, &err));
    assert_int_equal(next, log_end);
    close(fd);
    return ps;
}

static void test_pstate__restart_rebuilds_from_snapshot_and_replay(void **state)
{
    fixture_t *f = *state;
    test_part_t *part = &f->part;
    int64_t base;
    assert_int_equal(test_produce(part, 50, 1, 0, 2, false, &base), 0); /* 0-1 */
    assert_int_equal(test_produce(part, 60, 0, 0, 1, true, &base), 0);  /* 2 */
    assert_int_equal(write_marker(part, 60, 0, 3, false, &base), 0);    /* 3: abort */
    char *err = NULL;
    assert_true(rb_pstate_snapshot(part->ps, part->end_offset, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(part->ps), 4);
    assert_int_equal(test_produce(part, 50, 1, 2, 3, false, &base), 0); /* 4-6 */
    assert_int_equal(test_produce(part, 70, 0, 0, 1, true, &base), 0);  /* 7: open txn */
    assert_int_equal(test_produce(part, 60, 1, 0, 1, true, &base), 0);  /* 8 */
    assert_int_equal(write_marker(part, 60, 1, 3, false, &base), 0);    /* 9: abort */

    GArray *before = g_array_new(FALSE, FALSE, sizeof(rb_producer_info_t));
    rb_pstate_producers(part->ps, before);
    assert_int_equal(before->len, 3);

    /* "Crash": a new state from the files and the log. */
    int64_t from;
    rb_pstate_t *ps = reopen(f->dir, part, part->end_offset, &from);
    assert_int_equal(from, 4); /* replayed from the snapshot, not from 0 */
    GArray *after = g_array_new(FALSE, FALSE, sizeof(rb_producer_info_t));
    rb_pstate_producers(ps, after);
    assert_int_equal(after->len, before->len);
    for (guint i = 0; i < before->len; i++) {
        const rb_producer_info_t *x = &g_array_index(before, rb_producer_info_t, i);
        const rb_producer_info_t *y = &g_array_index(after, rb_producer_info_t, i);
        assert_int_equal(x->producer_id, y->producer_id);
        assert_int_equal(x->producer_epoch, y->producer_epoch);
        assert_int_equal(x->last_sequence, y->last_sequence);
        assert_int_equal(x->last_timestamp, y->last_timestamp);
        assert_int_equal(x->coordinator_epoch, y->coordinator_epoch);
        assert_int_equal(x->current_txn_start_offset, y->current_txn_start_offset);
    }
    rb_producer_info_t *p50 = &g_array_index(after, rb_producer_info_t, 0);
    assert_int_equal(p50->producer_id, 50);
    assert_int_equal(p50->producer_epoch, 1);
    assert_int_equal(p50->last_sequence, 4);
    rb_producer_info_t *p60 = &g_array_index(after, rb_producer_info_t, 1);
    assert_int_equal(p60->coordinator_epoch, 3);
    assert_int_equal(p60->current_txn_start_offset, -1);
    rb_producer_info_t *p70 = &g_array_index(after, rb_producer_info_t, 2);
    assert_int_equal(p70->current_txn_start_offset, 7);
    g_array_free(before, TRUE);
    g_array_free(after, TRUE);

    /* The rebuilt state answers as the old one did: dedupe with the original
     * offsets (both a batch before and after the snapshot), LSO, aborted list. */
    rb_pstate_t *old = part->ps;
    part->ps = ps;
    assert_int_equal(test_produce(part, 50, 1, 0, 2, false, &base), 0);
    assert_int_equal(base, 0);
    assert_int_equal(test_produce(part, 50, 1, 2, 3, false, &base), 0);
    assert_int_equal(base, 4);
    assert_int_equal(test_produce(part, 50, 1, 6, 1, false, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(rb_pstate_lso(ps, part->end_offset), 7);
    int64_t ids[4];
    assert_int_equal(aborted_ids(ps, 0, part->end_offset, ids), 2);
    assert_int_equal(ids[0], 60);
    assert_int_equal(ids[1], 60);
    part->ps = old;
    rb_pstate_free(ps);
}

static void test_pstate__snapshot_past_log_end_and_corrupt_snapshot(void **state)
{
    fixture_t *f = *state;
    test_part_t *part = &f->part;
    int64_t base;
    char *err = NULL;
    assert_int_equal(test_produce(part, 5, 0, 0, 1, false, &base), 0); /* 0 */
    assert_true(rb_pstate_snapshot(part->ps, part->end_offset, &err)); /* @1 */
    assert_int_equal(test_produce(part, 5, 0, 1, 1, false, &base), 0); /* 1 */
    assert_int_equal(test_produce(part, 6, 0, 0, 1, true, &base), 0);  /* 2 */
    assert_int_equal(write_marker(part, 6, 0, 0, false, &base), 0);    /* 3 */
    assert_true(rb_pstate_snapshot(part->ps, part->end_offset, &err)); /* @4 */

    /* The log lost its tail in a crash (recovered end 2): the snapshot at 4 is
     * past it and must be ignored and removed; the abort at 3 must not remain
     * in the index. */
    int64_t from;
    rb_pstate_t *ps = reopen(f->dir, part, 2, &from);
    assert_int_equal(from, 1);
    int64_t ids[2];
    assert_int_equal(aborted_ids(ps, 0, 10, ids), 0);
    assert_int_equal(rb_pstate_lso(ps, 2), 2);
    g_autofree char *snap4 = g_build_filename(f->dir, "00000000000000000004.snapshot", NULL);
    assert_false(g_file_test(snap4, G_FILE_TEST_EXISTS));
    GArray *producers = g_array_new(FALSE, FALSE, sizeof(rb_producer_info_t));
    rb_pstate_producers(ps, producers);
    assert_int_equal(producers->len, 1);
    assert_int_equal(g_array_index(producers, rb_producer_info_t, 0).last_sequence, 1);
    g_array_free(producers, TRUE);
    rb_pstate_free(ps);

    /* A corrupt snapshot: ignored, full replay from the log start. */
    g_autofree char *snap1 = g_build_filename(f->dir, "00000000000000000001.snapshot", NULL);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    assert_true(g_file_get_contents(snap1, &bytes, &len, NULL));
    bytes[len - 1] ^= 0x5a;
    assert_true(g_file_set_contents(snap1, bytes, (gssize)len, NULL));
    ps = reopen(f->dir, part, 2, &from);
    assert_int_equal(from, 0);
    assert_int_equal(rb_pstate_producer_count(ps), 1);
    rb_pstate_free(ps);
}

static void test_pstate__aborted_index_torn_tail_and_rebuild(void **state)
{
    fixture_t *f = *state;
    test_part_t *part = &f->part;
    make_three_aborts(part);
    char *err = NULL;
    assert_true(rb_pstate_snapshot(part->ps, part->end_offset, &err));
    /* A torn write at the end of the index file. */
    g_autofree char *index = g_build_filename(f->dir, "aborted.txnindex", NULL);
    FILE *fp = fopen(index, "ab");
    assert_non_null(fp);
    fwrite("\0\0\0\0\0\0\0", 1, 7, fp);
    fclose(fp);
    int64_t from;
    rb_pstate_t *ps = reopen(f->dir, part, part->end_offset, &from);
    assert_int_equal(from, 13);
    int64_t ids[4];
    assert_int_equal(aborted_ids(ps, 0, 13, ids), 3);
    gsize len = 0;
    g_autofree char *bytes = NULL;
    assert_true(g_file_get_contents(index, &bytes, &len, NULL));
    assert_int_equal(len, 3 * 34);
    rb_pstate_free(ps);

    /* Without any snapshot, the index is rebuilt from the log alone. */
    test_rmtree(f->dir);
    assert_int_equal(g_mkdir_with_parents(f->dir, 0755), 0);
    ps = reopen(f->dir, part, part->end_offset, &from);
    assert_int_equal(from, 0);
    assert_int_equal(aborted_ids(ps, 3, 5, ids), 2);
    rb_pstate_free(ps);
}

static void test_pstate__expire_idle_producers(void **state)
{
    fixture_t *f = *state;
    int64_t base;
    assert_int_equal(test_produce(&f->part, 1, 0, 0, 1, false, &base), 0); /* ts 1000 */
    assert_int_equal(test_produce(&f->part, 2, 0, 0, 1, true, &base), 0);  /* open txn */
    assert_int_equal(rb_pstate_expire(f->part.ps, 1000 + 86400000), 0);
    assert_int_equal(rb_pstate_expire(f->part.ps, 1001 + 86400000), 1);
    /* The producer with an open transaction stays. */
    assert_int_equal(rb_pstate_producer_count(f->part.ps), 1);
    assert_int_equal(test_produce(&f->part, 1, 0, 1, 1, false, &base),
                     RB_TXN_ERR_UNKNOWN_PRODUCER_ID);
}

static void test_pstate__marker_is_a_valid_control_batch(void **state)
{
    (void)state;
    rill_wbuf_t w;
    rill__wbuf_init(&w, 96);
    rb_txn_marker_build(&w, 0x0102030405LL, 7, 42, true, 1234);
    /* The log's own validator (an independent implementation) accepts it. */
    rb_batch_info_t info;
    assert_int_equal(rb_batch_validate(w.data, w.len, &info), 0);
    assert_int_equal(info.record_count, 1);
    assert_int_equal(rb_batch_attributes(w.data),
                     RB_BATCH_ATTR_CONTROL | RB_BATCH_ATTR_TRANSACTIONAL);
    assert_int_equal(rb_batch_producer_id(w.data), 0x0102030405LL);
    assert_int_equal(rb_batch_producer_epoch(w.data), 7);
    assert_int_equal(rb_batch_base_sequence(w.data), -1);
    assert_int_equal(rb_batch_max_timestamp(w.data), 1234);
    rb_record_iter_t it;
    rb_record_t rec;
    assert_int_equal(rb_record_iter_init(&it, w.data, w.len), 0);
    assert_int_equal(rb_record_iter_next(&it, &rec), 1);
    static const uint8_t key[] = {0, 0, 0, 1};          /* version 0, COMMIT */
    static const uint8_t value[] = {0, 0, 0, 0, 0, 42}; /* version 0, coordinator epoch */
    assert_int_equal(rec.key_len, 4);
    assert_memory_equal(rec.key, key, 4);
    assert_int_equal(rec.value_len, 6);
    assert_memory_equal(rec.value, value, 6);
    assert_int_equal(rb_record_iter_next(&it, &rec), 0);
    rb_txn_batch_t batch;
    assert_true(rb_txn_batch_parse(w.data, w.len, &batch));
    assert_true(batch.control && batch.has_marker && batch.commit);
    assert_int_equal(batch.coordinator_epoch, 42);
    rill__wbuf_reset(&w);
    rb_txn_marker_build(&w, 9, 0, 1, false, 1);
    assert_int_equal(rb_batch_validate(w.data, w.len, NULL), 0);
    assert_true(rb_txn_batch_parse(w.data, w.len, &batch));
    assert_true(batch.has_marker && !batch.commit);
    rill__wbuf_free(&w);
}

/* The produce path against the real partition log. */
static rb_kerr_t log_produce(rb_log_t *log, rb_pstate_t *ps, const uint8_t *bytes, size_t len,
                             rb_pstate_origin_t origin, int64_t *base)
{
    g_autofree uint8_t *batch = g_memdup2(bytes, len);
    rb_pstate_dup_t dup;
    rb_kerr_t err = rb_pstate_check(ps, batch, len, origin, &dup);
    if (err != 0)
        return err;
    if (dup.duplicate) {
        *base = dup.base_offset;
        return 0;
    }
    rb_append_info_t info;
    err = rb_log_append(log, batch, len, 1000, &info);
    if (err != 0)
        return err;
    rb_pstate_appended(ps, batch, len);
    *base = info.base_offset;
    return 0;
}

static void test_pstate__rebuild_from_partition_log(void **state)
{
    fixture_t *f = *state;
    g_autofree char *logdir = g_build_filename(f->dir, "orders-0", NULL);
    rb_log_config_t config;
    rb_log_config_init(&config);
    config.segment_bytes = 300; /* several segments: the replay crosses them */
    char *err = NULL;
    rb_log_t *log = rb_log_open(logdir, &config, &err);
    assert_non_null(log);
    rb_pstate_t *ps = rb_pstate_new(logdir, NULL);
    assert_true(rb_pstate_rebuild(ps, log, &err));
    rill_wbuf_t w;
    rill__wbuf_init(&w, 256);
    int64_t base;
    for (int i = 0; i < 12; i++) {
        rill__wbuf_reset(&w);
        test_build_batch(&w, 77, 0, i * 3, 3, false, 100 + i);
        assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_CLIENT, &base), 0);
        assert_int_equal(base, i * 3);
        if (i == 4)
            assert_true(rb_pstate_snapshot(ps, rb_log_end_offset(log), &err));
    }
    rill__wbuf_reset(&w);
    test_build_batch(&w, 88, 0, 0, 2, true, 500);
    assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_CLIENT, &base), 0);
    assert_int_equal(base, 36);
    rill__wbuf_reset(&w);
    rb_txn_marker_build(&w, 88, 0, 1, false, 600);
    assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_COORDINATOR, &base), 0);
    rill__wbuf_reset(&w);
    test_build_batch(&w, 88, 0, 2, 1, true, 700);
    assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_CLIENT, &base), 0);
    assert_int_equal(base, 39);
    assert_true(rb_log_segment_count(log) > 2);
    rb_pstate_free(ps);
    rb_log_close(log);

    /* Restart: the log recovers, the state is rebuilt from snapshot + replay. */
    log = rb_log_open(logdir, &config, &err);
    assert_non_null(log);
    ps = rb_pstate_new(logdir, NULL);
    assert_true(rb_pstate_rebuild(ps, log, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), 15);
    /* The last five batches of 77 dedupe to their original offsets... */
    rill__wbuf_reset(&w);
    test_build_batch(&w, 77, 0, 21, 3, false, 107);
    assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_CLIENT, &base), 0);
    assert_int_equal(base, 21);
    /* ...and the sequence continues after the last one. */
    rill__wbuf_reset(&w);
    test_build_batch(&w, 77, 0, 37, 1, false, 200);
    assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_CLIENT, &base),
                     RB_TXN_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    rill__wbuf_reset(&w);
    test_build_batch(&w, 77, 0, 36, 1, false, 200);
    assert_int_equal(log_produce(log, ps, w.data, w.len, RB_PSTATE_CLIENT, &base), 0);
    assert_int_equal(base, 40);
    /* Producer 88's aborted transaction and its open one. */
    assert_int_equal(rb_pstate_lso(ps, rb_log_end_offset(log)), 39);
    GArray *aborted = g_array_new(FALSE, FALSE, sizeof(rb_aborted_txn_t));
    assert_int_equal(rb_pstate_aborted_txns(ps, 30, 39, aborted), 1);
    assert_int_equal(g_array_index(aborted, rb_aborted_txn_t, 0).first_offset, 36);
    assert_int_equal(g_array_index(aborted, rb_aborted_txn_t, 0).last_offset, 38);
    g_array_free(aborted, TRUE);
    rill__wbuf_free(&w);
    rb_pstate_free(ps);
    rb_log_close(log);
}

static void test_pstate__maintain_snapshots_periodically(void **state)
{
    fixture_t *f = *state;
    rb_pstate_t *ps = f->part.ps;
    char *err = NULL;
    int64_t base;
    /* Nothing changed: no snapshot. */
    assert_true(rb_pstate_maintain(ps, 0, 5000, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), -1);
    assert_int_equal(test_produce(&f->part, 1, 0, 0, 2, false, &base), 0);
    assert_true(rb_pstate_maintain(ps, f->part.end_offset, 5000, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), 2);
    /* Within the interval: none, even though the state changed. */
    assert_int_equal(test_produce(&f->part, 1, 0, 2, 1, false, &base), 0);
    assert_true(rb_pstate_maintain(ps, f->part.end_offset, 5000 + 59999, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), 2);
    assert_true(rb_pstate_maintain(ps, f->part.end_offset, 5000 + 60000, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), 3);
    /* Plain batches do not make the state dirty. */
    assert_int_equal(test_produce(&f->part, -1, -1, -1, 1, false, &base), 0);
    assert_true(rb_pstate_maintain(ps, f->part.end_offset, 5000 + 200000, &err));
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), 3);
    /* Expiry is a change: the next snapshot records the producer's absence. */
    assert_true(rb_pstate_maintain(ps, f->part.end_offset, 1003 + 86400000, &err));
    assert_int_equal(rb_pstate_producer_count(ps), 0);
    assert_int_equal(rb_pstate_last_snapshot_offset(ps), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_pstate__maintain_snapshots_periodically, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pstate__rebuild_from_partition_log, setup, teardown),
        cmocka_unit_test(test_pstate__marker_is_a_valid_control_batch),
        cmocka_unit_test_setup_teardown(test_pstate__duplicate_answers_original_offsets, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pstate__dedupe_window_is_last_five_batches, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pstate__out_of_order_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__unknown_producer_and_new_epoch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pstate__stale_epoch_is_fenced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__sequence_wraps_at_int32_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__invalid_batches_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__lso_with_interleaved_transactions, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pstate__aborted_list_query_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__restart_rebuilds_from_snapshot_and_replay,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__snapshot_past_log_end_and_corrupt_snapshot,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_pstate__aborted_index_torn_tail_and_rebuild, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pstate__expire_idle_producers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
