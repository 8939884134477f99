/* 0008-retention-delete-records: DeleteRecords and retention move the log
 * start offset (the low watermark), and nothing below it can be read.
 *
 *   1. DeleteRecords(600) on a 1000-record partition with small segments: the
 *      result and ListOffsets say 600, a consumer from the beginning starts at
 *      600, and a restart keeps it.
 *   2. log.retention.ms=1500 with a 200 ms check: old segments go, the low
 *      watermark rises, the high watermark stays, the last segment stays.
 *   3. log.retention.bytes=40000: the partition shrinks to about that size.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define N 1000

static void produce_n(const char *bootstrap, const char *topic, int n)
{
    kt_producer_t *p = kt_producer_new(bootstrap, NULL);
    char value[200];
    memset(value, 'r', sizeof(value));
    for (int i = 0; i < n; i++) {
        int len = g_snprintf(value, 40, "record-%d", i);
        value[len] = 'r';
        kt_produce(p, topic, 0, NULL, 0, value, sizeof(value));
        if (i % 100 == 99)
            kt_producer_flush(p, 30000); /* several batches, several segments */
    }
    kt_producer_flush(p, 30000);
    kt_producer_destroy(p);
}

static void first_offset_cb(const rd_kafka_message_t *m, void *ud)
{
    int64_t *first = ud;
    if (*first < 0)
        *first = m->offset;
}

static void delete_records(const char *bootstrap, const char *topic, int64_t before)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kt_conf(bootstrap), err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, 0)->offset = before;
    rd_kafka_DeleteRecords_t *del = rd_kafka_DeleteRecords_new(parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteRecords(rk, &del, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    if (ev == NULL)
        rt_fail("DeleteRecords: no answer within 20 s");
    if (rd_kafka_event_error(ev))
        rt_fail("DeleteRecords: %s", rd_kafka_event_error_string(ev));
    const rd_kafka_topic_partition_list_t *res =
        rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
    if (res == NULL || res->cnt != 1 || res->elems[0].err)
        rt_fail("DeleteRecords: %s",
                res && res->cnt == 1 ? rd_kafka_err2str(res->elems[0].err) : "no result");
    if (res->elems[0].offset != before)
        rt_fail("DeleteRecords: low watermark %" PRId64 ", expected %" PRId64,
                res->elems[0].offset, before);
    rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(del);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

static void expect_start(const char *bootstrap, const char *topic, int64_t start, int64_t end,
                         const char *when)
{
    int64_t lo, hi;
    kt_watermarks(bootstrap, topic, 0, &lo, &hi);
    if (lo != start || hi != end)
        rt_fail("%s: watermarks %" PRId64 "..%" PRId64 ", expected %" PRId64 "..%" PRId64, when,
                lo, hi, start, end);
    int64_t first = -1;
    int64_t n = kt_consume_range(bootstrap, topic, 0, RD_KAFKA_OFFSET_BEGINNING, end, 30000,
                                 first_offset_cb, &first);
    if (first != start || n != end - start)
        rt_fail("%s: read %" PRId64 " records from offset %" PRId64 ", expected %" PRId64
                " from %" PRId64,
                when, n, first, end - start, start);
}

/* Waits (bounded) for the low watermark to rise above 0 and then hold still
 * for 2 s (retention runs every 200 ms and may delete in several passes), and
 * for settled_after_ms to pass: by then every closed segment is old enough to
 * go (otherwise, when producing took longer than 2 s, a later segment may still
 * expire after the watermark looked settled). Returns it. */
static int64_t wait_low_rises(const char *bootstrap, const char *topic, int64_t settled_after_ms,
                              int64_t *hi_out)
{
    int64_t deadline = rt_now_ms() + 40000;
    int64_t last = -1, since = 0;
    for (;;) {
        int64_t lo, hi;
        kt_watermarks(bootstrap, topic, 0, &lo, &hi);
        if (lo != last) {
            last = lo;
            since = rt_now_ms();
        } else if (lo > 0 && rt_now_ms() - since >= 2000 && rt_now_ms() >= settled_after_ms) {
            *hi_out = hi;
            return lo;
        }
        if (rt_now_ms() > deadline)
            rt_fail("%s: the log start offset did not settle above 0 within 40 s (at %" PRId64 ")",
                    topic, lo);
        g_usleep(200000);
    }
}

int main(void)
{
    /* 1. DeleteRecords */
    const char *small_segments[] = {"--log.segment.bytes=16384", NULL};
    rt_broker_t *broker = rt_broker_start(small_segments);
    const char *bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, "dr", 1, NULL);
    produce_n(bootstrap, "dr", N);
    expect_start(bootstrap, "dr", 0, N, "before DeleteRecords");
    delete_records(bootstrap, "dr", 600);
    expect_start(bootstrap, "dr", 600, N, "after DeleteRecords(600)");
    if (rt_broker_stop(broker) != 0)
        rt_fail("SIGTERM: unclean exit");
    rt_broker_restart(broker);
    expect_start(rt_broker_bootstrap(broker), "dr", 600, N, "after DeleteRecords and a restart");
    printf("ok 1 - DeleteRecords moves the log start offset, and it persists\n");
    rt_broker_free(broker);

    /* 2. retention by time */
    const char *by_time[] = {"--log.segment.bytes=16384", "--log.retention.ms=1500",
                             "--log.retention.check.interval.ms=200", NULL};
    broker = rt_broker_start(by_time);
    bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, "old", 1, NULL);
    produce_n(bootstrap, "old", N);
    /* the last record's time + retention.ms + a few check intervals */
    int64_t hi;
    int64_t lo = wait_low_rises(bootstrap, "old", rt_now_ms() + 1500 + 1000, &hi);
    if (hi != N || lo >= N)
        rt_fail("retention.ms: watermarks %" PRId64 "..%" PRId64 ", expected a start in 1..%d-1 "
                "and end %d (the active segment stays)",
                lo, hi, N, N);
    expect_start(bootstrap, "old", lo, N, "after time retention");
    printf("ok 2 - retention by time deleted old segments (log start %" PRId64 ")\n", lo);
    rt_broker_free(broker);

    /* 3. retention by size */
    const char *by_size[] = {"--log.segment.bytes=16384", "--log.retention.bytes=40000",
                             "--log.retention.check.interval.ms=200", NULL};
    broker = rt_broker_start(by_size);
    bootstrap = rt_broker_bootstrap(broker);
    kt_create_topic(bootstrap, "big", 1, NULL);
    produce_n(bootstrap, "big", N);
    lo = wait_low_rises(bootstrap, "big", rt_now_ms(), &hi);
    /* ~270 bytes per record on disk: 40000 bytes + one segment hold at most ~300 */
    if (hi != N || N - lo > 400)
        rt_fail("retention.bytes: watermarks %" PRId64 "..%" PRId64 ": too much kept", lo, hi);
    expect_start(bootstrap, "big", lo, N, "after size retention");
    printf("ok 3 - retention by size deleted old segments (log start %" PRId64 ")\n", lo);
    rt_broker_free(broker);
    return 0;
}
