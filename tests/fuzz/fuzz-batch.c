/* fuzz-batch.c: libFuzzer target for the record batch v2 parser
 * (broker/log/batch.c): structure check, produce validation, record and
 * header iteration, in-place rewrites, on arbitrary bytes.
 *
 * Properties checked beyond "no crash, no out-of-bounds read" (ASan):
 *   - a batch that validates iterates exactly recordsCount records with
 *     offsets base..base+n-1 and no error;
 *   - rewriting the base offset / LogAppendTime keeps it valid.
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy, exactly sized, so that ASan sees any overread */
    uint8_t *p = g_malloc(size ? size : 1);
    memcpy(p, data, size);

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
    if (rb_batch_validate(p, size, &info) == 0) {
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
    g_free(p);
    return 0;
}
