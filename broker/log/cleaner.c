/* cleaner.c: log compaction (cleanup.policy=compact): keeps the latest record
 * of each key in the sealed segments, drops tombstones once they are older
 * than delete.retention.ms, removes the records of aborted transactions, and
 * never changes an offset.
 *
 * Design note. A pass is a job run on the cleaner thread (one for the
 * process), so that the broker's loop never waits for it:
 *
 *   log thread                         cleaner thread
 *   rb__log_maybe_compact:
 *     snapshot the segments (dup'd fds,
 *     sizes) ---- job ---------------> 0. transactions: the batch headers of
 *                                         every segment give, per producer,
 *                                         its transactions' offset ranges and
 *                                         outcome (the COMMIT/ABORT markers)
 *                                      1. map: every record at or above
 *                                         map_from (the dirty part, the active
 *                                         segment up to its snapshot size)
 *                                         gives key -> latest offset; compressed
 *                                         batches are decompressed; aborted
 *                                         and undecided transactional records
 *                                         and control records are left out
 *                                      2. rewrite: each sealed segment is
 *                                         copied to <base>.log.cleaned keeping
 *                                         what keep_record says, fsynced, and
 *                                         indexed in memory
 *   rb__log_maybe_compact (later) <--- done
 *     swap: for each copy whose segment
 *     is still there unchanged: remove
 *     its index files, rename the copy
 *     over the .log (atomic), take the
 *     copy's fd and indexes
 *
 * What a record keeps (keep_record), for a record at offset o with key k:
 *   - a record of an aborted transaction goes;
 *   - a record without a key stays;
 *   - it goes if the map holds a later offset for k (it is superseded);
 *   - a tombstone goes when its batch is older than delete.retention.ms and
 *     it is the newest record of k the pass knows of (mapped at o, or below
 *     map_from, where every key is already unique) -- never one in an
 *     undecided transaction (it may still commit over an older value).
 * Committed transactional records are compacted like any others, so a
 * later tombstone removes them before it expires itself (an older
 * transactional value can no longer come back after its tombstone goes).
 *
 * Batches: one that keeps all its records is copied byte for byte; one that
 * keeps some is rebuilt with the same base offset, lastOffsetDelta, producer
 * fields and timestamps, and recompressed with its own codec (the producer
 * chose it; consumers decode it as before; snappy keeps its framing); one
 * that keeps none is dropped, unless it is the newest batch of its producer
 * id, which stays, empty, for the producer's state (epoch, last sequence), as
 * Kafka does. (Keeping every emptied batch is not an option: a fetch that
 * returns nothing but empty batches makes librdkafka grow its fetch size and
 * finally report MSG_SIZE_TOO_LARGE.)
 *
 * Transaction markers. A COMMIT marker stays until (a) the pass before found
 * no record left in its transaction's data batches (they were emptied by an
 * earlier pass), (b) the marker is older than delete.retention.ms, and (c)
 * its producer has a later batch in the log (the newest batch of a producer
 * is kept for its state). A transaction's data batches go as soon as they are
 * empty, its marker later. An ABORT marker always stays: broker/txn's
 * aborted-transaction index (which the log cannot edit) keeps listing the
 * transaction in read_committed fetches, and a client that is told of an
 * aborted transaction skips the producer's batches until it meets the abort
 * marker -- without it, every later batch of that producer would be hidden.
 * (Kafka rewrites its per-segment index instead; here the cost is one small
 * batch per aborted transaction, next to the index entry kept anyway.) This is Kafka's two-step removal with
 * the marker's own timestamp as the start of the retention (Kafka counts it
 * from the pass that emptied the transaction, with attribute bit 6).
 *
 * Memory bound. The key map is an open-addressing table of 24-byte slots (a
 * 128-bit hash of the key and its offset) of a fixed size,
 * rb_log_cleaner_set_map_bytes (default RB_CLEANER_MAP_BYTES, 32 MiB: about
 * 1.25 million keys at a 0.9 load). When it is full the pass maps no more: it
 * still rewrites every sealed segment with what it knows (correct, as the map
 * only ever says "superseded by a record that stays"), and the next pass maps
 * from where this one stopped. Other memory: per-transaction ranges (32 bytes
 * per transaction whose marker is in the log), one decompressed batch at a
 * time (at most RB_CODEC_MAX_OUT) and a 1 MiB write buffer.
 * As in Kafka, two keys whose 128-bit hashes collide are one key to the map.
 *
 * Crash safety: a crash at any point leaves either file whole; a leftover
 * .cleaned file is deleted at open; missing indexes are rebuilt. Closing the
 * log cancels a running job and waits for it. A batch that cannot be
 * decompressed (the log checks only its CRC at append) is logged and copied as
 * it is, outside the map: no client can read its records either, so none of
 * them can come back. What
 * is never compacted: the active segment, and with min.compaction.lag.ms the
 * first segment holding a record younger than the lag and all after it. A
 * pass runs when the sealed bytes
 * written since the last pass are at least min.cleanable.dirty.ratio (default
 * one half) of all sealed bytes, or when the oldest tombstone or marker
 * the last pass kept for its age has become older than delete.retention.ms
 * (so tombstones expire without new writes). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "common/buf.h"
#include "common/log.h"

#include "broker/log/batch.h"
#include "broker/log/codec.h"
#include "broker/log/log-private.h"

/* One segment as the job sees it. */
typedef struct clean_seg {
    rb_segment_t *reader; /* detached: a dup'd fd, the snapshot size */
    bool sealed;
    int64_t old_size;
    /* results, for a sealed segment that changed: */
    rb_segment_t *copy; /* the .cleaned file (fd, size, indexes) */
} clean_seg_t;

struct rb_clean_job {
    pthread_mutex_t mu; /* pthread, not GMutex: ThreadSanitizer understands it */
    pthread_cond_t cond;
    int refs;  /* the log's and the thread's */
    bool done; /* the thread is finished with it */
    gint cancel;
    int64_t now_ms;
    int64_t horizon; /* tombstones and markers in batches older than this go */
    int64_t retention; /* delete.retention.ms */
    int64_t map_from; /* records below were compacted by earlier passes */
    int32_t interval;
    clean_seg_t *segs;
    size_t n;
    bool failed;
    unsigned keys;
    int64_t lag_upto;   /* the first segment not rewritten (the active one, or lag) */
    int64_t clean_upto; /* result: the next pass maps from here */
    int64_t retained_ts; /* result: see pass_t */
};

#define WRITE_CHUNK (1024 * 1024)

static gsize map_bytes_setting = RB_CLEANER_MAP_BYTES;

void rb_log_cleaner_set_map_bytes(size_t bytes)
{
    g_atomic_pointer_set(&map_bytes_setting, bytes > 0 ? bytes : RB_CLEANER_MAP_BYTES);
}

/* ---- the key map: 128-bit key hash -> offset, fixed size ---------------- */

typedef struct map_slot {
    uint64_t h1, h2;
    int64_t offset; /* -1: empty */
} map_slot_t;

typedef struct keymap {
    map_slot_t *slots;
    size_t mask; /* capacity - 1 (a power of two) */
    size_t n, max;
} keymap_t;

static void keymap_init(keymap_t *km, size_t bytes)
{
    size_t cap = 16;
    while (cap * 2 * sizeof(map_slot_t) <= bytes)
        cap *= 2;
    km->slots = g_new(map_slot_t, cap);
    memset(km->slots, 0xff, cap * sizeof(map_slot_t)); /* offset -1 */
    km->mask = cap - 1;
    km->n = 0;
    km->max = cap / 10 * 9;
}

static void keymap_free(keymap_t *km)
{
    g_free(km->slots);
}

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Two independent 64-bit hashes of the key (FNV-1a and a multiply-xorshift
 * over 8-byte words), both finalised. */
static void key_hash(const uint8_t *key, size_t len, uint64_t *h1, uint64_t *h2)
{
    uint64_t a = 0xcbf29ce484222325ULL;
    uint64_t b = 0x9e3779b97f4a7c15ULL ^ (uint64_t)len;
    for (size_t i = 0; i < len; i++) {
        a ^= key[i];
        a *= 0x100000001b3ULL;
    }
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, key + i, 8);
        b = (b ^ mix64(w)) * 0x87c37b91114253d5ULL;
        b ^= b >> 31;
    }
    uint64_t w = 0;
    memcpy(&w, key + i, len - i);
    b = (b ^ mix64(w ^ 0x5bd1e995ULL)) * 0x4cf5ad432745937fULL;
    *h1 = mix64(a);
    *h2 = mix64(b);
}

static map_slot_t *keymap_slot(const keymap_t *km, uint64_t h1, uint64_t h2)
{
    for (size_t i = h1 & km->mask;; i = (i + 1) & km->mask) {
        map_slot_t *s = &km->slots[i];
        if (s->offset < 0 || (s->h1 == h1 && s->h2 == h2))
            return s;
    }
}

/* The latest offset mapped for key, or -1. */
static int64_t keymap_get(const keymap_t *km, const uint8_t *key, size_t len)
{
    uint64_t h1, h2;
    key_hash(key, len, &h1, &h2);
    return keymap_slot(km, h1, h2)->offset;
}

/* Maps key to offset. false if the key is new and the map is full. */
static bool keymap_put(keymap_t *km, const uint8_t *key, size_t len, int64_t offset)
{
    uint64_t h1, h2;
    key_hash(key, len, &h1, &h2);
    map_slot_t *s = keymap_slot(km, h1, h2);
    if (s->offset < 0) {
        if (km->n >= km->max)
            return false;
        km->n++;
        s->h1 = h1;
        s->h2 = h2;
    }
    s->offset = offset;
    return true;
}

/* ---- transactions: per producer, the ranges of its transactions -------- */

typedef struct txn_range {
    int64_t first, last; /* first data offset seen .. the marker's offset */
    int64_t marker_ts;
    bool aborted;
    bool has_data; /* a data batch of it still had records */
    bool drop;     /* the marker and its empty batches go in this pass */
} txn_range_t;

typedef struct producer {
    GArray *txns;        /* txn_range_t, in offset order */
    int64_t open_first;  /* first offset of the transaction without a marker yet, or -1 */
    bool open_has_data;
    int64_t last_offset; /* of the producer's newest batch */
} producer_t;

typedef enum txn_state { TXN_NONE, TXN_COMMITTED, TXN_ABORTED, TXN_OPEN } txn_state_t;

static void producer_free(gpointer p)
{
    producer_t *prod = p;
    g_array_free(prod->txns, TRUE);
    g_free(prod);
}

/* The state of a transactional batch of pid at offset (and its range). */
static txn_state_t txn_lookup(GHashTable *producers, int64_t pid, int64_t offset,
                              txn_range_t **range)
{
    *range = NULL;
    producer_t *prod = g_hash_table_lookup(producers, &pid);
    if (prod == NULL)
        return TXN_OPEN; /* never seen: cannot happen for a batch of the snapshot */
    GArray *txns = prod->txns;
    size_t lo = 0, hi = txns->len; /* the last range with first <= offset */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (g_array_index(txns, txn_range_t, mid).first <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo > 0) {
        txn_range_t *r = &g_array_index(txns, txn_range_t, lo - 1);
        if (offset <= r->last) {
            *range = r;
            return r->aborted ? TXN_ABORTED : TXN_COMMITTED;
        }
    }
    return TXN_OPEN;
}

/* The marker type of a control batch: 0 ABORT, 1 COMMIT, -1 unreadable. */
static int marker_type(const uint8_t *batch, size_t size)
{
    rb_record_iter_t it;
    rb_record_t rec;
    if (rb_record_iter_init(&it, batch, size) != 0 || rb_record_iter_next(&it, &rec) != 1 ||
        rec.key == NULL || rec.key_len < 4)
        return -1;
    int type = (int16_t)rill__be16_get(rec.key + 2);
    return type == 0 || type == 1 ? type : -1;
}

/* Everything a pass works with. */
typedef struct pass {
    rb_clean_job_t *job;
    GHashTable *producers; /* int64 pid -> producer_t */
    int64_t first_unstable; /* lowest offset of an undecided transaction, or INT64_MAX */
    keymap_t map;
    int64_t map_stop; /* the map is complete below this offset */
    bool map_full;
    rill_wbuf_t scratch; /* a decompressed batch */
    bool xerial;
    int64_t retained_ts; /* oldest tombstone or marker kept only for its age */
} pass_t;

/* Step 0, per batch header. */
static int txn_batch(const uint8_t *batch, size_t size, void *ctx)
{
    pass_t *pass = ctx;
    int64_t pid = rb_batch_producer_id(batch);
    if (pid < 0)
        return 0;
    producer_t *prod = g_hash_table_lookup(pass->producers, &pid);
    if (prod == NULL) {
        prod = g_new0(producer_t, 1);
        prod->txns = g_array_new(FALSE, FALSE, sizeof(txn_range_t));
        prod->open_first = -1;
        g_hash_table_insert(pass->producers, g_memdup2(&pid, sizeof(pid)), prod);
    }
    int64_t base = rb_batch_base_offset(batch);
    prod->last_offset = base;
    if (!rb_batch_is_transactional(batch))
        return 0;
    if (!rb_batch_is_control(batch)) {
        if (prod->open_first < 0)
            prod->open_first = base;
        prod->open_has_data |= rb_batch_records_count(batch) > 0;
        return 0;
    }
    int type = marker_type(batch, size);
    if (type < 0)
        return 0; /* not a marker we know: ends nothing */
    txn_range_t r = {
        .first = prod->open_first >= 0 ? prod->open_first : base,
        .last = base,
        .marker_ts = rb_batch_max_timestamp(batch),
        .aborted = type == 0,
        .has_data = prod->open_has_data,
    };
    g_array_append_val(prod->txns, r);
    prod->open_first = -1;
    prod->open_has_data = false;
    return 0;
}

/* After step 0: the first unstable offset and which markers go. */
static void txn_settle(pass_t *pass)
{
    pass->first_unstable = INT64_MAX;
    GHashTableIter iter;
    gpointer value;
    g_hash_table_iter_init(&iter, pass->producers);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        producer_t *prod = value;
        if (prod->open_first >= 0 && prod->open_first < pass->first_unstable)
            pass->first_unstable = prod->open_first;
        for (guint i = 0; i < prod->txns->len; i++) {
            txn_range_t *r = &g_array_index(prod->txns, txn_range_t, i);
            r->drop = !r->aborted && !r->has_data && r->marker_ts < pass->job->horizon &&
                      prod->last_offset > r->last;
        }
    }
}

/* The records of batch, decompressed into pass->scratch if need be; NULL if
 * they cannot be. */
static const uint8_t *open_batch(pass_t *pass, const uint8_t *batch, size_t size, size_t *len)
{
    rb_compression_t codec = rb_batch_compression(batch);
    pass->xerial = false;
    if (codec == RB_COMPRESSION_NONE) {
        *len = size;
        return batch;
    }
    rill__wbuf_reset(&pass->scratch);
    rill__wbuf_put(&pass->scratch, batch, RB_BATCH_HEADER_SIZE);
    if (rb__codec_decompress(codec, batch + RB_BATCH_HEADER_SIZE, size - RB_BATCH_HEADER_SIZE,
                             &pass->scratch, &pass->xerial) != 0) {
        RILL_LOG_WARN(LOG_COMPONENT,
                      "compaction: cannot decompress the batch at offset %" PRId64 " (codec %d)",
                      rb_batch_base_offset(batch), (int)codec);
        return NULL;
    }
    uint8_t *p = pass->scratch.data;
    rill__be16_put(p + RB_BATCH_OFF_ATTRIBUTES,
                   (uint16_t)(rb_batch_attributes(batch) & ~RB_BATCH_ATTR_COMPRESSION_MASK));
    rill__be32_put(p + RB_BATCH_OFF_LENGTH,
                   (uint32_t)(pass->scratch.len - RB_BATCH_LOG_OVERHEAD));
    *len = pass->scratch.len;
    return p;
}

static txn_state_t batch_txn(pass_t *pass, const uint8_t *batch, txn_range_t **range)
{
    *range = NULL;
    if (!rb_batch_is_transactional(batch))
        return TXN_NONE;
    return txn_lookup(pass->producers, rb_batch_producer_id(batch), rb_batch_base_offset(batch),
                      range);
}

/* Calls fn on every batch of seg (whole, through w). Returns 0 or -1 (also
 * when cancel becomes set). */
typedef int (*batch_fn)(const uint8_t *batch, size_t size, void *ctx);
static int each_batch(rb_segment_t *seg, rb_window_t *w, batch_fn fn, void *ctx,
                      const gint *cancel)
{
    rb__window_invalidate(w);
    int64_t pos = 0;
    while (pos < seg->size) {
        if (g_atomic_int_get(cancel))
            return -1;
        bool io_err;
        const uint8_t *hdr = rb__window_get(w, seg, pos, RB_BATCH_HEADER_SIZE, &io_err);
        if (hdr == NULL || rb_batch_length(hdr) < RB_BATCH_HEADER_SIZE - RB_BATCH_LOG_OVERHEAD)
            return -1;
        size_t size = rb_batch_size(hdr);
        const uint8_t *batch = rb__window_get(w, seg, pos, size, &io_err);
        if (batch == NULL || fn(batch, size, ctx) != 0)
            return -1;
        pos += (int64_t)size;
    }
    return 0;
}

/* ---- step 1: the map ----------------------------------------------------- */

static int map_batch(const uint8_t *batch, size_t size, void *ctx)
{
    pass_t *pass = ctx;
    if (pass->map_full || rb_batch_is_control(batch) ||
        rb_batch_last_offset(batch) < pass->job->map_from)
        return 0;
    txn_range_t *range;
    txn_state_t state = batch_txn(pass, batch, &range);
    if (state == TXN_ABORTED || state == TXN_OPEN)
        return 0;
    size_t len;
    const uint8_t *records = open_batch(pass, batch, size, &len);
    if (records == NULL)
        return 0; /* undecodable: kept as it is (see rewrite_batch) */
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, records, len);
    while (rb_record_iter_next(&it, &rec) == 1) {
        if (rec.key == NULL || rec.offset < pass->job->map_from)
            continue;
        if (!keymap_put(&pass->map, rec.key, (size_t)rec.key_len, rec.offset)) {
            pass->map_full = true; /* complete below this record */
            pass->map_stop = rec.offset;
            return 0;
        }
    }
    return 0; /* a malformed record ends the batch's part in the map (rewrite_batch) */
}

/* ---- step 2: rewriting a segment --------------------------------------- */

typedef struct rewrite {
    pass_t *pass;
    int fd; /* the .cleaned file */
    rill_wbuf_t out;
    rill_wbuf_t packed; /* a rebuilt batch, recompressed */
    int64_t written;
    bool changed;
} rewrite_t;

static int flush_out(rewrite_t *rw)
{
    size_t done = 0;
    while (done < rw->out.len) {
        ssize_t n = write(rw->fd, rw->out.data + done, rw->out.len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    rw->written += (int64_t)rw->out.len;
    rill__wbuf_reset(&rw->out);
    return 0;
}

static bool keep_record(pass_t *pass, const rb_record_t *rec, txn_state_t state,
                        bool batch_expired, int64_t batch_ts)
{
    if (state == TXN_ABORTED)
        return false;
    if (rec->key == NULL)
        return true;
    int64_t latest = keymap_get(&pass->map, rec->key, (size_t)rec->key_len);
    if (latest > rec->offset)
        return false;
    if (rec->value != NULL || state == TXN_OPEN)
        return true;
    bool newest = rec->offset < pass->job->map_from || latest == rec->offset;
    if (newest && !batch_expired && batch_ts < pass->retained_ts)
        pass->retained_ts = batch_ts;
    return !(newest && batch_expired);
}

/* Writes a rebuilt batch: the kept records, recompressed like the original. */
static int put_rebuilt(rewrite_t *rw, const uint8_t *batch, const uint8_t *records, size_t len,
                       txn_state_t state, bool expired)
{
    rb_batch_builder_t b;
    rb_batch_builder_init(&b, rb_batch_base_offset(batch));
    b.leader_epoch = rb_batch_leader_epoch(batch);
    b.attributes = (int16_t)(rb_batch_attributes(batch) & ~RB_BATCH_ATTR_COMPRESSION_MASK);
    b.producer_id = rb_batch_producer_id(batch);
    b.producer_epoch = rb_batch_producer_epoch(batch);
    b.base_sequence = rb_batch_base_sequence(batch);
    rb_record_iter_t it;
    rb_record_t rec;
    rb_record_iter_init(&it, records, len);
    while (rb_record_iter_next(&it, &rec) == 1)
        if (keep_record(rw->pass, &rec, state, expired, rb_batch_max_timestamp(batch)))
            rb_batch_builder_add_record(&b, &rec);
    int32_t count = b.count;
    b.last_offset_delta = rb_batch_last_offset_delta(batch); /* the range stays */
    size_t n;
    uint8_t *out = rb_batch_builder_finish(&b, &n);
    rb_compression_t codec = rb_batch_compression(batch);
    if (codec != RB_COMPRESSION_NONE && count > 0) {
        rill__wbuf_reset(&rw->packed);
        rill__wbuf_put(&rw->packed, out, RB_BATCH_HEADER_SIZE);
        if (rb__codec_compress(codec, out + RB_BATCH_HEADER_SIZE, n - RB_BATCH_HEADER_SIZE,
                               rw->pass->xerial, &rw->packed) != 0) {
            g_free(out);
            return -1;
        }
        g_free(out);
        uint8_t *p = rw->packed.data;
        rill__be16_put(p + RB_BATCH_OFF_ATTRIBUTES,
                       (uint16_t)(rb_batch_attributes(p) | (int16_t)codec));
        rill__be32_put(p + RB_BATCH_OFF_LENGTH, (uint32_t)(rw->packed.len - RB_BATCH_LOG_OVERHEAD));
        out = rill__wbuf_steal(&rw->packed, &n);
        rb_batch_update_crc(out, n);
    }
    if (rb_batch_is_log_append_time(batch))
        rb_batch_set_log_append_time(out, n, rb_batch_max_timestamp(batch));
    rill__wbuf_put(&rw->out, out, n);
    g_free(out);
    return 0;
}

/* Whether batch is the newest of its producer in the log (kept even empty:
 * it holds the producer's state -- epoch and last sequence). */
static bool producers_newest(const pass_t *pass, const uint8_t *batch)
{
    int64_t pid = rb_batch_producer_id(batch);
    if (pid < 0)
        return false;
    const producer_t *prod = g_hash_table_lookup(pass->producers, &pid);
    return prod != NULL && prod->last_offset == rb_batch_base_offset(batch);
}

static int rewrite_batch(const uint8_t *batch, size_t size, void *ctx)
{
    rewrite_t *rw = ctx;
    pass_t *pass = rw->pass;
    txn_range_t *range;
    txn_state_t state = batch_txn(pass, batch, &range);
    bool drop_txn = range != NULL && range->drop;
    if (rb_batch_is_control(batch)) {
        if (drop_txn && rb_batch_base_offset(batch) == range->last) {
            rw->changed = true; /* the marker goes with its emptied transaction */
            return 0;
        }
        if (range != NULL && !range->has_data && range->marker_ts >= pass->job->horizon &&
            range->marker_ts < pass->retained_ts)
            pass->retained_ts = range->marker_ts;
        rill__wbuf_put(&rw->out, batch, size);
        return rw->out.len >= WRITE_CHUNK ? flush_out(rw) : 0;
    }
    bool expired = rb_batch_max_timestamp(batch) < pass->job->horizon;
    size_t len;
    const uint8_t *records = open_batch(pass, batch, size, &len);
    if (records == NULL) { /* undecodable: no client can read it either */
        rill__wbuf_put(&rw->out, batch, size);
        return rw->out.len >= WRITE_CHUNK ? flush_out(rw) : 0;
    }
    rb_record_iter_t it;
    rb_record_t rec;
    int32_t kept = 0, total = 0;
    rb_record_iter_init(&it, records, len);
    while (rb_record_iter_next(&it, &rec) == 1) {
        total++;
        kept += keep_record(pass, &rec, state, expired, rb_batch_max_timestamp(batch));
    }
    if (it.err) { /* malformed records (inside a compressed batch): kept as they are */
        rill__wbuf_put(&rw->out, batch, size);
        return rw->out.len >= WRITE_CHUNK ? flush_out(rw) : 0;
    }
    if (kept == 0 && !producers_newest(pass, batch)) {
        rw->changed = true; /* nothing left: the batch goes */
    } else if (kept == total) {
        rill__wbuf_put(&rw->out, batch, size);
    } else {
        if (put_rebuilt(rw, batch, records, len, state, expired) != 0)
            return -1;
        rw->changed = true;
    }
    return rw->out.len >= WRITE_CHUNK ? flush_out(rw) : 0;
}

static char *seg_file(const rb_segment_t *seg, const char *ext)
{
    return g_strconcat(seg->path, ext, NULL);
}

/* Writes the compacted copy of a sealed segment. Returns 0 (cs->copy set if
 * anything changed) or -1. */
static int rewrite_segment(clean_seg_t *cs, pass_t *pass, rb_window_t *w)
{
    const rb_clean_job_t *job = pass->job;
    rb_segment_t *seg = cs->reader;
    g_autofree char *tmp_path = seg_file(seg, ".log.cleaned");
    rewrite_t rw = {.pass = pass};
    rw.fd = open(tmp_path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rw.fd < 0)
        return -1;
    rill__wbuf_init(&rw.out, 64 * 1024);
    rill__wbuf_init(&rw.packed, 0);
    int rc = each_batch(seg, w, rewrite_batch, &rw, &job->cancel);
    if (rc == 0 && rw.changed)
        rc = flush_out(&rw);
    if (rc == 0 && rw.changed)
        rc = rb__log_fsync(rw.fd, true);
    rill__wbuf_free(&rw.out);
    rill__wbuf_free(&rw.packed);
    if (rc != 0 || !rw.changed) {
        close(rw.fd);
        unlink(tmp_path);
        return rc;
    }
    /* the copy, indexed as a segment of the same base */
    rb_segment_t *copy = g_new0(rb_segment_t, 1);
    copy->base_offset = seg->base_offset;
    copy->next_offset = seg->next_offset;
    copy->fd = rw.fd;
    copy->size = rw.written;
    copy->path = g_strdup(seg->path);
    copy->max_timestamp = -1;
    copy->max_ts_offset = -1;
    rb__segment_reset_indexes(copy);
    rb_scan_result_t res;
    if (rb__segment_scan(copy, w, 0, copy->base_offset, copy->size, false, job->interval,
                         &res) != 0 ||
        res.why != NULL) {
        rb__segment_free(copy);
        unlink(tmp_path);
        return -1;
    }
    rb__segment_seal_time_index(copy);
    cs->copy = copy;
    return 0;
}

static void job_unref(rb_clean_job_t *job)
{
    pthread_mutex_lock(&job->mu);
    bool last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (!last)
        return;
    for (size_t i = 0; i < job->n; i++) {
        clean_seg_t *cs = &job->segs[i];
        if (cs->copy != NULL) { /* never swapped in */
            g_autofree char *tmp_path = seg_file(cs->copy, ".log.cleaned");
            unlink(tmp_path);
            rb__segment_free(cs->copy);
        }
        rb__segment_free(cs->reader);
    }
    g_free(job->segs);
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cond);
    g_free(job);
}

/* The cleaner thread's part: map, then rewrite. */
/* Orders a job's creation before its run for ThreadSanitizer, which cannot
 * see through GLib's queue (its own futex-based locks). */
static pthread_mutex_t handoff = PTHREAD_MUTEX_INITIALIZER;

static void run_job(gpointer data, gpointer user_data)
{
    pthread_mutex_lock(&handoff);
    pthread_mutex_unlock(&handoff);
    rb_clean_job_t *job = data;
    pass_t pass = {.job = job, .map_stop = INT64_MAX, .retained_ts = INT64_MAX};
    pass.producers = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, producer_free);
    keymap_init(&pass.map, g_atomic_pointer_get(&map_bytes_setting));
    rill__wbuf_init(&pass.scratch, 0);
    rb_window_t w;
    rb__window_init(&w, RECOVERY_READAHEAD);
    bool failed = false;
    for (size_t i = 0; i < job->n && !failed; i++)
        failed = each_batch(job->segs[i].reader, &w, txn_batch, &pass, &job->cancel) != 0;
    if (!failed)
        txn_settle(&pass);
    for (size_t i = 0; i < job->n && !failed; i++)
        failed = each_batch(job->segs[i].reader, &w, map_batch, &pass, &job->cancel) != 0;
    for (size_t i = 0; i < job->n && !failed; i++)
        if (job->segs[i].sealed)
            failed = rewrite_segment(&job->segs[i], &pass, &w) != 0;
    if (failed && !g_atomic_int_get(&job->cancel))
        RILL_LOG_WARN(LOG_COMPONENT, "compaction failed: %s", g_strerror(errno));
    if (pass.map_full)
        RILL_LOG_INFO(LOG_COMPONENT,
                      "compaction: the key map is full (%zu keys); the next pass goes on from "
                      "offset %" PRId64,
                      pass.map.n, pass.map_stop);
    rb__window_free(&w);
    int64_t upto = job->lag_upto; /* the active segment, or the first too young */
    if (pass.first_unstable < upto)
        upto = pass.first_unstable;
    if (pass.map_stop < upto)
        upto = pass.map_stop;
    pthread_mutex_lock(&job->mu);
    job->keys = (unsigned)pass.map.n;
    job->clean_upto = upto;
    job->retained_ts = pass.retained_ts;
    job->failed = failed;
    job->done = true;
    pthread_cond_broadcast(&job->cond);
    pthread_mutex_unlock(&job->mu);
    keymap_free(&pass.map);
    rill__wbuf_free(&pass.scratch);
    g_hash_table_destroy(pass.producers);
    job_unref(job);
}

static GThreadPool *cleaner_pool(void)
{
    static GThreadPool *the_pool;
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        the_pool = g_thread_pool_new(run_job, NULL, 1, FALSE, NULL);
        g_once_init_leave(&once, 1);
    }
    return the_pool;
}

/* Starts a pass over the log's current segments. false if a descriptor
 * cannot be duplicated. */
static bool start_job(rb_log_t *log, int64_t now_ms)
{
    rb_clean_job_t *job = g_new0(rb_clean_job_t, 1);
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->cond, NULL);
    job->refs = 2;
    job->now_ms = now_ms;
    job->horizon = log->config.delete_retention_ms >= 0 ? now_ms - log->config.delete_retention_ms
                                                        : INT64_MIN;
    job->map_from = log->cleaned_upto;
    job->retention = log->config.delete_retention_ms;
    job->interval = log->config.index_interval_bytes;
    job->segs = g_new0(clean_seg_t, log->n_segs);
    job->lag_upto = INT64_MAX;
    bool cleanable = true;
    for (size_t i = 0; i < log->n_segs; i++) {
        rb_segment_t *live = log->segs[i];
        int fd = fcntl(live->fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            job->refs = 1;
            job_unref(job);
            return false;
        }
        rb_segment_t *reader = g_new0(rb_segment_t, 1);
        reader->base_offset = live->base_offset;
        reader->next_offset = live->next_offset;
        reader->fd = fd;
        reader->size = live->size;
        reader->path = g_strdup(live->path);
        /* min.compaction.lag.ms: a segment holding a record younger than
         * the lag is not rewritten, nor is any after it */
        if (log->config.min_compaction_lag_ms > 0 && cleanable &&
            live->max_timestamp > now_ms - log->config.min_compaction_lag_ms)
            cleanable = false;
        bool sealed = i + 1 < log->n_segs && cleanable;
        if (!sealed && job->lag_upto == INT64_MAX)
            job->lag_upto = live->base_offset;
        job->segs[job->n++] = (clean_seg_t){reader, sealed, live->size, NULL};
    }
    log->clean_job = job;
    pthread_mutex_lock(&handoff); /* publishes the job to the cleaner thread */
    pthread_mutex_unlock(&handoff);
    g_thread_pool_push(cleaner_pool(), job, NULL);
    return true;
}

/* The log thread's part: swaps the copies in. Returns the bytes removed. */
static int64_t finish_job(rb_log_t *log, rb_clean_job_t *job)
{
    int64_t removed = 0;
    int swapped = 0;
    for (size_t i = 0; i < job->n && !job->failed; i++) {
        clean_seg_t *cs = &job->segs[i];
        if (cs->copy == NULL)
            continue;
        rb_segment_t *live = NULL;
        for (size_t k = 0; k + 1 < log->n_segs; k++)
            if (log->segs[k]->base_offset == cs->copy->base_offset)
                live = log->segs[k];
        if (live == NULL || live->size != cs->old_size)
            continue; /* deleted by retention meanwhile: the copy goes (job_unref) */
        g_autofree char *log_path = seg_file(live, ".log");
        g_autofree char *tmp_path = seg_file(live, ".log.cleaned");
        g_autofree char *index_path = seg_file(live, ".index");
        g_autofree char *time_path = seg_file(live, ".timeindex");
        /* stale indexes go first: a crash after the rename finds none and rebuilds */
        unlink(index_path);
        unlink(time_path);
        if (rename(tmp_path, log_path) != 0) {
            RILL_LOG_WARN(LOG_COMPONENT, "cannot install compacted %s: %s", log_path,
                          g_strerror(errno));
            live->index_dirty = true; /* rewritten at close */
            continue;
        }
        rb__log_cache_forget(log, live);
        rb_segment_t *copy = cs->copy;
        cs->copy = NULL;
        removed += live->size - copy->size;
        close(live->fd);
        live->fd = copy->fd;
        copy->fd = -1;
        live->size = copy->size;
        live->unflushed = false; /* the copy was fsynced */
        live->max_timestamp = copy->max_timestamp;
        live->max_ts_offset = copy->max_ts_offset;
        rb_index_entry_t *index = live->index;
        rb_time_entry_t *tindex = live->tindex;
        live->index = copy->index;
        live->n_index = copy->n_index;
        live->cap_index = copy->cap_index;
        live->tindex = copy->tindex;
        live->n_tindex = copy->n_tindex;
        live->cap_tindex = copy->cap_tindex;
        copy->index = index;
        copy->tindex = tindex;
        live->index_loaded = true;
        live->index_dirty = true;
        if (rb__segment_write_indexes(live) != 0)
            RILL_LOG_WARN(LOG_COMPONENT,
                          "cannot write index (it will be rebuilt): %s file=%s.index",
                          g_strerror(errno), live->path);
        rb__segment_free(copy);
        swapped++;
    }
    if (swapped > 0)
        rb__log_fsync(log->dir_fd, false);
    if (!job->failed) {
        log->cleaned_upto = job->clean_upto;
        /* a pass is due again when the oldest tombstone or marker kept for
         * its age expires, even with nothing new to clean */
        log->clean_due_ms = job->retained_ts < INT64_MAX && job->retention >= 0
                                ? job->retained_ts + job->retention + 1
                                : 0;
    }
    RILL_LOG_INFO(LOG_COMPONENT, "compacted dir=%s keys=%u segments=%d bytes_removed=%" PRId64,
                  log->dir, job->keys, swapped, removed);
    return job->failed ? -1 : removed;
}

/* Waits for the running job (if any) and swaps it in, or drops it when
 * cancel. Returns the bytes removed (0 if there was none), or -1. */
static int64_t wait_job(rb_log_t *log, bool cancel)
{
    rb_clean_job_t *job = log->clean_job;
    if (job == NULL)
        return 0;
    if (cancel)
        g_atomic_int_set(&job->cancel, 1);
    pthread_mutex_lock(&job->mu);
    while (!job->done)
        pthread_cond_wait(&job->cond, &job->mu);
    pthread_mutex_unlock(&job->mu);
    log->clean_job = NULL;
    int64_t removed = cancel ? 0 : finish_job(log, job);
    job_unref(job);
    return removed;
}

void rb__log_cleaner_stop(rb_log_t *log)
{
    wait_job(log, true);
}

int64_t rb_log_compact(rb_log_t *log, int64_t now_ms)
{
    int64_t before = wait_job(log, false);
    if (before < 0 || log->n_segs < 2)
        return before < 0 ? -1 : 0;
    if (!start_job(log, now_ms))
        return -1;
    return wait_job(log, false);
}

int64_t rb__log_maybe_compact(rb_log_t *log, int64_t now_ms, bool may_start)
{
    rb_clean_job_t *job = log->clean_job;
    if (job != NULL) {
        pthread_mutex_lock(&job->mu);
        bool done = job->done;
        pthread_mutex_unlock(&job->mu);
        return done ? wait_job(log, false) : 0;
    }
    int64_t sealed = 0, dirty = 0;
    for (size_t i = 0; i + 1 < log->n_segs; i++) {
        sealed += log->segs[i]->size;
        if (log->segs[i]->base_offset >= log->cleaned_upto)
            dirty += log->segs[i]->size;
    }
    double ratio = log->config.min_cleanable_dirty_ratio > 0 ? log->config.min_cleanable_dirty_ratio
                                                             : 0.5;
    bool due = log->clean_due_ms > 0 && now_ms >= log->clean_due_ms;
    if (!may_start || ((dirty == 0 || (double)dirty < ratio * (double)sealed) && !due))
        return 0;
    start_job(log, now_ms);
    return 0;
}
