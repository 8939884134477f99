/* 0006-restart-durability: records acknowledged under acks=all survive a clean
 * stop and a kill -9 of rill-broker, at the offsets they were given.
 *
 *   1. produce R1 (acks=all) to 4 partitions; SIGTERM -> exit 0
 *   2. restart; every R1 record is there at its offset; produce R2 (acks=all),
 *      wait for every acknowledgement, then kill -9 at once
 *   3. restart; every R1 and R2 record is there at its offset, the high
 *      watermarks equal the counts, and new records continue the offsets.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "durable"
#define NPART 4
#define PER_ROUND 4000

typedef struct expect {
    GHashTable *by_pos; /* "p/offset" -> value (owned) */
    int64_t count[NPART];
} expect_t;

static void produce_round(const char *bootstrap, expect_t *ex, int round)
{
    kt_producer_t *p = kt_producer_new(bootstrap, NULL);
    int idx[PER_ROUND];
    char *values[PER_ROUND];
    for (int i = 0; i < PER_ROUND; i++) {
        values[i] = g_strdup_printf("round%d-record%d-%s", round, i, i % 7 ? "" : "padpadpad");
        char key[32];
        int klen = g_snprintf(key, sizeof(key), "k%d", i);
        idx[i] = kt_produce(p, TOPIC, i % NPART, key, (size_t)klen, values[i], strlen(values[i]));
    }
    kt_producer_flush(p, 60000);
    for (int i = 0; i < PER_ROUND; i++) {
        int part = i % NPART;
        int64_t off = kt_producer_offset(p, idx[i]);
        if (off != ex->count[part])
            rt_fail("round %d: record %d got offset %" PRId64 ", expected %" PRId64, round, i,
                    off, ex->count[part]);
        ex->count[part]++;
        g_hash_table_insert(ex->by_pos, g_strdup_printf("%d/%" PRId64, part, off), values[i]);
    }
    kt_producer_destroy(p);
}

typedef struct seen {
    expect_t *ex;
    int32_t partition;
    int64_t next;
} seen_t;

static void check_record(const rd_kafka_message_t *m, void *ud)
{
    seen_t *s = ud;
    if (m->offset != s->next)
        rt_fail("partition %d: offset %" PRId64 " after %" PRId64 " (a hole or a repeat)",
                (int)s->partition, m->offset, s->next - 1);
    g_autofree char *pos = g_strdup_printf("%d/%" PRId64, (int)s->partition, m->offset);
    const char *want = g_hash_table_lookup(s->ex->by_pos, pos);
    if (want == NULL)
        rt_fail("partition %d offset %" PRId64 ": a record nobody acknowledged",
                (int)s->partition, m->offset);
    if (m->len != strlen(want) || memcmp(m->payload, want, m->len) != 0)
        rt_fail("partition %d offset %" PRId64 ": value '%.*s', expected '%s'",
                (int)s->partition, m->offset, (int)m->len, (const char *)m->payload, want);
    s->next++;
}

static void verify(const char *bootstrap, expect_t *ex, const char *when)
{
    for (int p = 0; p < NPART; p++) {
        int64_t lo, hi;
        kt_watermarks(bootstrap, TOPIC, p, &lo, &hi);
        if (lo != 0 || hi != ex->count[p])
            rt_fail("%s: partition %d watermarks %" PRId64 "..%" PRId64 ", expected 0..%" PRId64,
                    when, p, lo, hi, ex->count[p]);
        seen_t s = {.ex = ex, .partition = p, .next = 0};
        int64_t n = kt_consume_range(bootstrap, TOPIC, p, 0, ex->count[p], 60000, check_record, &s);
        if (n != ex->count[p])
            rt_fail("%s: partition %d: read %" PRId64 " records, expected %" PRId64, when, p, n,
                    ex->count[p]);
    }
    printf("ok - %s: every acknowledged record at its offset\n", when);
}

int main(void)
{
    rt_broker_t *broker = rt_broker_start(NULL);
    const char *bootstrap = rt_broker_bootstrap(broker);
    expect_t ex = {.by_pos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
    kt_create_topic(bootstrap, TOPIC, NPART, NULL);

    produce_round(bootstrap, &ex, 1);
    int rc = rt_broker_stop(broker);
    if (rc != 0)
        rt_fail("SIGTERM: rill-broker exited with %d, expected 0", rc);

    rt_broker_restart(broker);
    bootstrap = rt_broker_bootstrap(broker);
    verify(bootstrap, &ex, "after a clean stop");

    produce_round(bootstrap, &ex, 2);
    rt_broker_kill9(broker);
    rt_broker_restart(broker);
    bootstrap = rt_broker_bootstrap(broker);
    verify(bootstrap, &ex, "after kill -9");

    produce_round(bootstrap, &ex, 3); /* offsets continue where they were */
    verify(bootstrap, &ex, "after producing again");

    rc = rt_broker_stop(broker);
    if (rc != 0)
        rt_fail("SIGTERM: rill-broker exited with %d, expected 0", rc);
    g_hash_table_destroy(ex.by_pos);
    rt_broker_free(broker);
    return 0;
}
