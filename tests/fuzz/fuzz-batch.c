/* fuzz-batch.c: libFuzzer target for the record batch v2 parser
 * (broker/log/batch.c): structure check, produce validation, record and
 * header iteration, in-place rewrites, on arbitrary bytes.
 *
 * Each input is tried as it is and with its CRC made right (else nearly every
 * mutation would stop at the checksum). Properties checked beyond "no crash,
 * no out-of-bounds read" (ASan):
 *   - a batch that validates iterates exactly recordsCount records with
 *     offsets base..base+n-1 and no error;
 *   - rewriting the base offset / LogAppendTime keeps it valid;
 *   - the validation walk and the record iterator agree on what is valid.
 *
 * Under `make check` it runs through fuzz-main.c (seeds + deterministic
 * mutations); with clang, the same file links against libFuzzer:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iinclude -I_build \
 *     tests/fuzz/fuzz-batch.c broker/log/batch.c common/buf.c common/crc32c.c \
 *     $(pkg-config --cflags --libs glib-2.0) -o fuzz-batch && ./fuzz-batch */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/log/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must(bool ok)
{
    if (!ok)
        abort();
}

static void check_input(uint8_t *p, size_t size)
{
    /* walk batches back to back, as recovery does */
    size_t at = 0, one;
    while (at < size && rb_batch_check(p + at, size - at, &one) == 0) {
        must(one >= RB_BATCH_HEADER_SIZE && one <= size - at);
        rb_record_iter_t it;
        rb_record_t rec;
        if (rb_record_iter_init(&it, p + at, one) == 0) {
            while (rb_record_iter_next(&it, &rec) == 1) {
                rb_header_iter_t hi;
                rb_record_header_t h;
                rb_header_iter_init(&hi, &rec);
                while (rb_header_iter_next(&hi, &h) == 1)
                    must(h.key != NULL && h.key_len >= 0);
            }
        }
        at += one;
    }

    rb_batch_info_t info;
    rb_kerr_t verdict = rb_batch_validate(p, size, &info);

    /* the validation walk and the iterator agree: an uncompressed batch whose
     * records iterate cleanly with offsets 0..n-1 validates, and vice versa */
    size_t whole;
    if (rb_batch_check(p, size, &whole) == 0 && whole == size &&
        rb_batch_compression(p) == RB_COMPRESSION_NONE && rb_batch_records_count(p) > 0 &&
        rb_batch_last_offset_delta(p) == rb_batch_records_count(p) - 1 &&
        (!rb_batch_is_transactional(p) || rb_batch_producer_id(p) >= 0)) {
        rb_record_iter_t it;
        rb_record_t rec;
        rb_record_iter_init(&it, p, size);
        int64_t n = 0;
        bool sequential = true, null_key = false;
        while (rb_record_iter_next(&it, &rec) == 1) {
            sequential &= rec.offset == rb_batch_base_offset(p) + n;
            null_key |= rec.key == NULL;
            n++;
        }
        bool clean = !it.err && sequential && it.rd.pos == it.rd.len;
        must(clean == (verdict == 0));
        if (clean)
            must(info.null_key == null_key);
    }

    if (verdict == 0) {
        must(size >= RB_BATCH_HEADER_SIZE && rb_batch_size(p) == size);
        must(info.record_count == rb_batch_records_count(p));
        if (!info.compressed) {
            rb_record_iter_t it;
            rb_record_t rec;
            must(rb_record_iter_init(&it, p, size) == 0);
            int64_t n = 0;
            while (rb_record_iter_next(&it, &rec) == 1) {
                must(rec.offset == rb_batch_base_offset(p) + n);
                n++;
            }
            must(!it.err && n == info.record_count);
        }
        rb_batch_set_base_offset(p, 12345);
        rb_batch_set_leader_epoch(p, 3);
        must(rb_batch_validate(p, size, NULL) == 0);
        rb_batch_set_log_append_time(p, size, 1700000000000);
        must(rb_batch_validate(p, size, NULL) == 0);
        must(rb_batch_is_log_append_time(p));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, exactly sized, so that ASan sees any overread */
    uint8_t *p = g_malloc(size ? size : 1);
    memcpy(p, data, size);
    check_input(p, size);
    /* again with the CRC made right, so that mutations reach the records */
    if (size >= RB_BATCH_HEADER_SIZE) {
        memcpy(p, data, size);
        size_t whole = rb_batch_size(p);
        if (whole >= RB_BATCH_HEADER_SIZE && whole <= size) {
            rb_batch_update_crc(p, whole);
            check_input(p, size);
        }
    }
    g_free(p);
    return 0;
}
