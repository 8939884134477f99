/* test-log-compact-txn.c: compaction of compressed batches (every codec,
 * recompressed with its own), of transactional data (aborted records go,
 * committed ones compact, markers go only after their data), and with a key
 * map too small for the log (it still converges). */
#include "config.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <glib.h>

#include "broker/log/batch.h"
#include "broker/log/codec.h"
#include "tests/unit/broker/test-log-util.h"

#define T0 1700000000000LL
#define DAY 86400000LL

typedef struct fixture {
    char *dir;
    rb_log_config_t config;
    rb_log_t *log;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = g_new0(fixture_t, 1);
    f->dir = tl_tempdir();
    f->config = tl_config();
    f->config.compact = true;
    f->config.delete_ = false;
    f->config.segment_bytes = 512;
    f->config.delete_retention_ms = DAY;
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_non_null(f->log);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    rb_log_close(f->log);
    rb_log_cleaner_set_map_bytes(0);
    tl_rmdir(f->dir);
    g_free(f->dir);
    g_free(f);
    return 0;
}

typedef struct put_opts {
    rb_compression_t codec;
    bool xerial;
    int64_t pid; /* -1: plain */
    bool transactional;
    int32_t seq;
} put_opts_t;

/* Appends one batch: keys "k<keys[i]>", values naming their offsets, a
 * negative key is a tombstone of k<-key>. */
static void put(fixture_t *f, const put_opts_t *o, const int *keys, int n, int64_t ts)
{
    int64_t base = rb_log_end_offset(f->log);
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    if (o->pid >= 0) {
        b.producer_id = o->pid;
        b.producer_epoch = 0;
        b.base_sequence = o->seq;
        b.attributes = o->transactional ? RB_BATCH_ATTR_TRANSACTIONAL : 0;
    }
    for (int i = 0; i < n; i++) {
        char key[16], value[32];
        int kl = g_snprintf(key, sizeof(key), "k%d", keys[i] < 0 ? -keys[i] : keys[i]);
        int vl = g_snprintf(value, sizeof(value), "o=%" PRId64, base + i);
        rb_batch_builder_add(&b, ts, key, kl, keys[i] < 0 ? NULL : value, vl, NULL, 0);
    }
    size_t len;
    g_autofree uint8_t *batch = rb_batch_builder_finish(&b, &len);
    if (o->codec != RB_COMPRESSION_NONE) {
        rill_wbuf_t w;
        rill__wbuf_init(&w, len);
        rill__wbuf_put(&w, batch, RB_BATCH_HEADER_SIZE);
        assert_int_equal(rb__codec_compress(o->codec, batch + RB_BATCH_HEADER_SIZE,
                                            len - RB_BATCH_HEADER_SIZE, o->xerial, &w),
                         0);
        g_free(batch);
        batch = rill__wbuf_steal(&w, &len);
        rill__be16_put(batch + RB_BATCH_OFF_ATTRIBUTES,
                       (uint16_t)(rb_batch_attributes(batch) | (int16_t)o->codec));
        rill__be32_put(batch + RB_BATCH_OFF_LENGTH, (uint32_t)(len - RB_BATCH_LOG_OVERHEAD));
        rb_batch_update_crc(batch, len);
    }
    assert_int_equal(rb_log_append(f->log, batch, len, ts, NULL), 0);
}

static const put_opts_t PLAIN = {.pid = -1};

/* A COMMIT (or ABORT) marker of pid. */
static void marker(fixture_t *f, int64_t pid, bool commit, int64_t ts)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    b.attributes = RB_BATCH_ATTR_TRANSACTIONAL | RB_BATCH_ATTR_CONTROL;
    b.producer_id = pid;
    b.producer_epoch = 0;
    uint8_t key[4] = {0, 0, 0, commit ? 1 : 0};
    uint8_t value[6] = {0};
    rb_batch_builder_add(&b, ts, key, 4, value, 6, NULL, 0);
    size_t len;
    g_autofree uint8_t *batch = rb_batch_builder_finish(&b, &len);
    assert_int_equal(rb_log_append(f->log, batch, len, ts, NULL), 0);
}

static void filler(fixture_t *f, int n)
{
    for (int i = 0; i < n; i++)
        put(f, &PLAIN, (int[]){9999}, 1, T0);
}

typedef struct seen {
    GHashTable *latest; /* key -> offset of its last record (-offset-1: tombstone) */
    GHashTable *count;  /* key -> records of it */
    int codecs[8];      /* data batches per codec */
    int xerial;         /* snappy batches framed the xerial way */
    int markers;
    int empty;          /* batches with no records */
    GArray *marker_offsets;
} seen_t;

/* Reads the whole log as a consumer would, decompressing, checking CRCs,
 * increasing offsets and values naming their offsets. */
static void read_all(fixture_t *f, seen_t *seen)
{
    memset(seen, 0, sizeof(*seen));
    seen->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    seen->count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    seen->marker_offsets = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int64_t offset = rb_log_start_offset(f->log), end = rb_log_end_offset(f->log);
    int64_t last = -1;
    for (int rounds = 0; offset < end; rounds++) {
        assert_true(rounds < 100000);
        rb_log_slice_t slice;
        assert_int_equal(rb_log_read(f->log, offset, end, 1 << 20, &slice), 0);
        if (slice.len == 0)
            break;
        g_autofree uint8_t *buf = g_malloc(slice.len);
        assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
        size_t at = 0, size;
        while (at < slice.len) {
            uint8_t *batch = buf + at;
            assert_int_equal(rb_batch_check(batch, slice.len - at, &size), 0);
            offset = rb_batch_next_offset(batch);
            at += size;
            if (rb_batch_records_count(batch) == 0)
                seen->empty++;
            if (rb_batch_is_control(batch)) {
                int64_t mo = rb_batch_base_offset(batch);
                g_array_append_val(seen->marker_offsets, mo);
                seen->markers++;
                continue;
            }
            rb_compression_t codec = rb_batch_compression(batch);
            seen->codecs[codec]++;
            rill_wbuf_t w;
            rill__wbuf_init(&w, size);
            rill__wbuf_put(&w, batch, RB_BATCH_HEADER_SIZE);
            bool xerial = false;
            assert_int_equal(rb__codec_decompress(codec, batch + RB_BATCH_HEADER_SIZE,
                                                  size - RB_BATCH_HEADER_SIZE, &w, &xerial),
                             0);
            seen->xerial += xerial;
            rill__be16_put(w.data + RB_BATCH_OFF_ATTRIBUTES, 0);
            rill__be32_put(w.data + RB_BATCH_OFF_LENGTH, (uint32_t)(w.len - 12));
            rb_record_iter_t it;
            rb_record_t rec;
            assert_int_equal(rb_record_iter_init(&it, w.data, w.len), 0);
            while (rb_record_iter_next(&it, &rec) == 1) {
                assert_true(rec.offset > last);
                assert_true(rec.offset <= rb_batch_last_offset(batch));
                last = rec.offset;
                if (rec.value != NULL) {
                    char want[32];
                    int wl = g_snprintf(want, sizeof(want), "o=%" PRId64, rec.offset);
                    assert_int_equal(rec.value_len, wl);
                    assert_memory_equal(rec.value, want, (size_t)wl);
                }
                char *k = g_strndup((const char *)rec.key, (gsize)rec.key_len);
                int64_t *v = g_new(int64_t, 1);
                *v = rec.value != NULL ? rec.offset : -rec.offset - 1;
                g_hash_table_insert(seen->latest, g_strdup(k), v);
                gpointer c = g_hash_table_lookup(seen->count, k);
                g_hash_table_insert(seen->count, k, GINT_TO_POINTER(GPOINTER_TO_INT(c) + 1));
            }
            assert_false(it.err);
            rill__wbuf_free(&w);
        }
    }
}

static void seen_free(seen_t *seen)
{
    g_hash_table_destroy(seen->latest);
    g_hash_table_destroy(seen->count);
    g_array_free(seen->marker_offsets, TRUE);
}

static int64_t latest_of(const seen_t *seen, int key)
{
    char k[16];
    g_snprintf(k, sizeof(k), "k%d", key);
    const int64_t *v = g_hash_table_lookup(seen->latest, k);
    return v != NULL ? *v : INT64_MIN;
}

static int count_of(const seen_t *seen, int key)
{
    char k[16];
    g_snprintf(k, sizeof(k), "k%d", key);
    return GPOINTER_TO_INT(g_hash_table_lookup(seen->count, k));
}

static void compressed_round(void **state, rb_compression_t codec, bool xerial)
{
    fixture_t *f = *state;
    put_opts_t o = {.codec = codec, .xerial = xerial, .pid = -1};
    for (int r = 0; r < 10; r++) /* offsets 4r .. 4r+3 */
        put(f, &o, (int[]){1, 2, 3, 4}, 4, T0);
    put(f, &o, (int[]){1, -2}, 2, T0); /* 40: k1, 41: tombstone of k2 */
    filler(f, 20);
    assert_true(rb_log_compact(f->log, T0) > 0);
    seen_t s;
    read_all(f, &s);
    assert_int_equal(latest_of(&s, 1), 40);
    assert_int_equal(latest_of(&s, 2), -41 - 1);
    assert_int_equal(latest_of(&s, 3), 38);
    assert_int_equal(latest_of(&s, 4), 39);
    for (int k = 1; k <= 4; k++)
        assert_int_equal(count_of(&s, k), 1);
    assert_true(s.codecs[codec] >= 2); /* rewritten with its own codec */
    assert_int_equal(s.xerial > 0, xerial);
    seen_free(&s);
    /* the result survives a reopen (indexes, CRCs) */
    rb_log_close(f->log);
    char *err = NULL;
    f->log = rb_log_open(f->dir, &f->config, &err);
    assert_non_null(f->log);
    read_all(f, &s);
    assert_int_equal(latest_of(&s, 1), 40);
    seen_free(&s);
    /* a day later the tombstone goes */
    rb_log_compact(f->log, T0 + DAY + 1);
    read_all(f, &s);
    assert_true(latest_of(&s, 2) == INT64_MIN);
    assert_int_equal(latest_of(&s, 3), 38);
    seen_free(&s);
}

static void test_log_compact__gzip_batches(void **state)
{
    compressed_round(state, RB_COMPRESSION_GZIP, false);
}
static void test_log_compact__snappy_batches(void **state)
{
    compressed_round(state, RB_COMPRESSION_SNAPPY, false);
}
static void test_log_compact__snappy_xerial_batches(void **state)
{
    compressed_round(state, RB_COMPRESSION_SNAPPY, true);
}
static void test_log_compact__lz4_batches(void **state)
{
    compressed_round(state, RB_COMPRESSION_LZ4, false);
}
static void test_log_compact__zstd_batches(void **state)
{
    compressed_round(state, RB_COMPRESSION_ZSTD, false);
}

static void test_log_compact__aborted_records_go_committed_ones_compact(void **state)
{
    fixture_t *f = *state;
    put_opts_t p5 = {.pid = 5, .transactional = true};
    put_opts_t p6 = {.pid = 6, .transactional = true};
    put(f, &PLAIN, (int[]){1, 2, 3}, 3, T0); /* 0..2 */
    put(f, &p5, (int[]){1, 2}, 2, T0);       /* 3, 4: aborted */
    marker(f, 5, false, T0);                 /* 5 */
    put(f, &p6, (int[]){1}, 1, T0);          /* 6: committed */
    marker(f, 6, true, T0);                  /* 7 */
    p6.seq = 1;
    put(f, &p6, (int[]){3}, 1, T0); /* 8: committed */
    marker(f, 6, true, T0);         /* 9 */
    filler(f, 20);
    assert_true(rb_log_compact(f->log, T0) > 0);
    seen_t s;
    read_all(f, &s);
    assert_int_equal(latest_of(&s, 1), 6); /* the committed one */
    assert_int_equal(latest_of(&s, 2), 1); /* the aborted 4 is gone */
    assert_int_equal(latest_of(&s, 3), 8);
    for (int k = 1; k <= 3; k++)
        assert_int_equal(count_of(&s, k), 1);
    assert_int_equal(s.markers, 3); /* markers stay with their data */
    seen_free(&s);
}

/* The bug the group coordinator worked around: a committed transactional
 * value came back once a later tombstone of its key expired. */
static void test_log_compact__committed_value_does_not_outlive_its_tombstone(void **state)
{
    fixture_t *f = *state;
    put_opts_t p5 = {.pid = 5, .transactional = true};
    put(f, &p5, (int[]){1, 2}, 2, T0); /* 0, 1 */
    marker(f, 5, true, T0);             /* 2 */
    put(f, &PLAIN, (int[]){-1}, 1, T0); /* 3: tombstone of k1 */
    filler(f, 20);
    rb_log_compact(f->log, T0 + DAY + 1);
    seen_t s;
    read_all(f, &s);
    assert_true(latest_of(&s, 1) == INT64_MIN); /* no value, no tombstone */
    assert_int_equal(latest_of(&s, 2), 1);
    seen_free(&s);
}

static void test_log_compact__emptied_transaction_markers_go_later(void **state)
{
    fixture_t *f = *state;
    put_opts_t p5 = {.pid = 5, .transactional = true};
    put(f, &p5, (int[]){1}, 1, T0); /* 0: committed, superseded at 6 */
    marker(f, 5, true, T0);         /* 1 */
    p5.seq = 1;
    put(f, &p5, (int[]){2}, 1, T0); /* 2: aborted */
    marker(f, 5, false, T0);        /* 3 */
    p5.seq = 2;
    put(f, &p5, (int[]){3}, 1, T0);     /* 4: committed */
    marker(f, 5, true, T0);             /* 5 */
    put(f, &PLAIN, (int[]){1}, 1, T0); /* 6 */
    filler(f, 20);
    /* first pass: the superseded and the aborted records go with their
     * batches (neither is the producer's newest); the markers stay */
    assert_true(rb_log_compact(f->log, T0 + DAY + 1) > 0);
    seen_t s;
    read_all(f, &s);
    assert_int_equal(latest_of(&s, 1), 6);
    assert_true(latest_of(&s, 2) == INT64_MIN);
    assert_int_equal(s.markers, 3);
    assert_int_equal(s.empty, 0);
    seen_free(&s);
    /* a pass inside delete.retention.ms of the markers keeps them */
    filler(f, 20);
    rb_log_compact(f->log, T0 + 1000);
    read_all(f, &s);
    assert_int_equal(s.markers, 3);
    seen_free(&s);
    /* a later pass: the emptied transaction's COMMIT marker goes; the ABORT
     * marker stays (the aborted index still names it), and so does the
     * producer's newest batch (its state) */
    filler(f, 20);
    assert_true(rb_log_compact(f->log, T0 + DAY + 1) > 0);
    read_all(f, &s);
    assert_int_equal(s.markers, 2);
    assert_int_equal(g_array_index(s.marker_offsets, int64_t, 0), 3);
    assert_int_equal(g_array_index(s.marker_offsets, int64_t, 1), 5);
    assert_int_equal(latest_of(&s, 3), 4);
    seen_free(&s);
}

static void test_log_compact__small_key_map_converges(void **state)
{
    fixture_t *f = *state;
    rb_log_cleaner_set_map_bytes(1); /* 16 slots: 9 keys a pass */
    int keys[30];
    for (int i = 0; i < 30; i++)
        keys[i] = i;
    for (int r = 0; r < 5; r++)
        put(f, &PLAIN, keys, 30, T0); /* key i latest at 120 + i */
    filler(f, 20);
    for (int pass = 0; pass < 20; pass++)
        rb_log_compact(f->log, T0);
    seen_t s;
    read_all(f, &s);
    for (int i = 0; i < 30; i++) {
        assert_int_equal(latest_of(&s, i), 120 + i);
        assert_int_equal(count_of(&s, i), 1);
    }
    seen_free(&s);
}

static void test_log_compact__only_a_producers_newest_batch_stays_empty(void **state)
{
    fixture_t *f = *state;
    put_opts_t p3 = {.pid = 3};
    for (int i = 0; i < 3; i++, p3.seq++)
        put(f, &p3, (int[]){1}, 1, T0); /* 0, 1, 2 */
    put(f, &PLAIN, (int[]){1}, 1, T0); /* 3 supersedes them all */
    filler(f, 20);
    assert_true(rb_log_compact(f->log, T0) > 0);
    seen_t s;
    read_all(f, &s);
    assert_int_equal(latest_of(&s, 1), 3);
    assert_int_equal(count_of(&s, 1), 1);
    assert_int_equal(s.empty, 1); /* offset 2: producer 3's state */
    seen_free(&s);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, 3, 1 << 20, &slice), 0);
    uint8_t hdr[RB_BATCH_HEADER_SIZE];
    assert_int_equal(pread(slice.fd, hdr, sizeof(hdr), slice.pos), (ssize_t)sizeof(hdr));
    assert_int_equal(rb_batch_base_offset(hdr), 2);
    assert_int_equal(rb_batch_records_count(hdr), 0);
    assert_int_equal(rb_batch_producer_id(hdr), 3);
    assert_int_equal(rb_batch_base_sequence(hdr), 2);
}

/* Garbage and truncated streams are refused by every codec, without a crash. */
static void test_codec__bad_input_is_refused(void **state)
{
    (void)state;
    uint8_t plain[10000];
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = (uint8_t)(i * 7 % 13);
    uint8_t garbage[300];
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (uint8_t)(i * 97 + 31);
    for (int codec = RB_COMPRESSION_GZIP; codec <= RB_COMPRESSION_ZSTD; codec++) {
        for (int xerial = 0; xerial <= (codec == RB_COMPRESSION_SNAPPY); xerial++) {
            rill_wbuf_t z, out;
            rill__wbuf_init(&z, 0);
            rill__wbuf_init(&out, 0);
            assert_int_equal(rb__codec_compress(codec, plain, sizeof(plain), xerial, &z), 0);
            assert_int_equal(rb__codec_decompress(codec, z.data, z.len, &out, NULL), 0);
            assert_int_equal(out.len, sizeof(plain));
            assert_memory_equal(out.data, plain, sizeof(plain));
            rill__wbuf_reset(&out);
            assert_int_equal(rb__codec_decompress(codec, z.data, z.len / 2, &out, NULL), -1);
            rill__wbuf_reset(&out);
            assert_int_equal(rb__codec_decompress(codec, garbage, sizeof(garbage), &out, NULL),
                             -1);
            rill__wbuf_free(&z);
            rill__wbuf_free(&out);
        }
    }
}

/* A "compressed" batch whose payload is not: compaction goes on around it. */
static void test_log_compact__undecodable_batch_is_kept_as_is(void **state)
{
    fixture_t *f = *state;
    put(f, &PLAIN, (int[]){1, 2}, 2, T0); /* 0, 1 */
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, 0);
    rb_batch_builder_add(&b, T0, "k1", 2, "o=2", 3, NULL, 0);
    size_t len;
    g_autofree uint8_t *bad = rb_batch_builder_finish(&b, &len);
    rill__be16_put(bad + RB_BATCH_OFF_ATTRIBUTES, RB_COMPRESSION_LZ4); /* records are not lz4 */
    rb_batch_update_crc(bad, len);
    assert_int_equal(rb_log_append(f->log, bad, len, T0, NULL), 0); /* 2 */
    put(f, &PLAIN, (int[]){1}, 1, T0); /* 3 */
    filler(f, 20);
    assert_true(rb_log_compact(f->log, T0) > 0);
    rb_log_slice_t slice;
    assert_int_equal(rb_log_read(f->log, 0, 4, 1 << 20, &slice), 0);
    g_autofree uint8_t *buf = g_malloc(slice.len);
    assert_int_equal(pread(slice.fd, buf, slice.len, slice.pos), (ssize_t)slice.len);
    /* k1 at 0 is gone, k2 at 1 stays (rebuilt), the bad batch is byte for byte */
    assert_int_equal(rb_batch_base_offset(buf), 0);
    assert_int_equal(rb_batch_records_count(buf), 1);
    size_t first = rb_batch_size(buf);
    assert_int_equal(rb_batch_base_offset(buf + first), 2);
    assert_int_equal(rb_batch_size(buf + first), len);
    assert_memory_equal(buf + first, bad, len);
}

static void test_log_compact__min_compaction_lag_keeps_young_records(void **state)
{
    fixture_t *f = *state;
    f->config.min_compaction_lag_ms = 3600000;
    rb_log_set_config(f->log, &f->config);
    put(f, &PLAIN, (int[]){1, 2}, 2, T0);           /* 0, 1 */
    put(f, &PLAIN, (int[]){1}, 1, T0);              /* 2 */
    filler(f, 10);                                  /* T0 */
    for (int i = 0; i < 10; i++)                    /* half an hour later */
        put(f, &PLAIN, (int[]){2}, 1, T0 + 1800000); /* 13..22 */
    filler(f, 10);
    /* at T0 + 70 min, only the segments whose records are all from T0 are
     * older than the lag: k1 compacts, k2's young records all stay */
    rb_log_compact(f->log, T0 + 4200000);
    seen_t s;
    read_all(f, &s);
    assert_int_equal(count_of(&s, 1), 1);
    assert_int_equal(latest_of(&s, 1), 2);
    assert_int_equal(count_of(&s, 2), 10);
    seen_free(&s);
    /* two hours later everything sealed may go */
    rb_log_compact(f->log, T0 + 7200000);
    read_all(f, &s);
    assert_int_equal(count_of(&s, 2), 1);
    assert_int_equal(latest_of(&s, 2), 22);
    seen_free(&s);
}

/* Calls rb_log_maintain at now_ms until key's latest is want (bounded). */
static void maintain_until(fixture_t *f, int64_t now_ms, int key, int64_t want)
{
    for (int i = 0; i < 500; i++) {
        rb_log_maintain(f->log, now_ms);
        seen_t s;
        read_all(f, &s);
        int64_t got = latest_of(&s, key);
        seen_free(&s);
        if (got == want)
            return;
        g_usleep(10 * 1000);
    }
    fail_msg("k%d never became %" PRId64, key, want);
}

static void test_log_compact__tombstones_expire_without_new_writes(void **state)
{
    fixture_t *f = *state;
    f->config.segment_ms = -1;
    rb_log_set_config(f->log, &f->config);
    put(f, &PLAIN, (int[]){1, 2}, 2, T0); /* 0, 1 */
    put(f, &PLAIN, (int[]){-1}, 1, T0);   /* 2 */
    filler(f, 20);
    maintain_until(f, T0 + 1000, 1, -2 - 1); /* compacted, the tombstone kept */
    /* nothing new is written; a day later the tombstone is due and goes */
    maintain_until(f, T0 + DAY + 1, 1, INT64_MIN);
    seen_t s;
    read_all(f, &s);
    assert_int_equal(latest_of(&s, 2), 1);
    seen_free(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_log_compact__gzip_batches),
        T(test_log_compact__snappy_batches),
        T(test_log_compact__snappy_xerial_batches),
        T(test_log_compact__lz4_batches),
        T(test_log_compact__zstd_batches),
        T(test_log_compact__aborted_records_go_committed_ones_compact),
        T(test_log_compact__committed_value_does_not_outlive_its_tombstone),
        T(test_log_compact__emptied_transaction_markers_go_later),
        T(test_log_compact__small_key_map_converges),
        T(test_log_compact__tombstones_expire_without_new_writes),
        T(test_log_compact__only_a_producers_newest_batch_stays_empty),
        T(test_codec__bad_input_is_refused),
        T(test_log_compact__min_compaction_lag_keeps_young_records),
        T(test_log_compact__undecodable_batch_is_kept_as_is),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
