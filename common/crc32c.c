/* crc32c.c: CRC-32C, hardware-accelerated where possible (see crc32c.h).
 *
 * Design note. The SSE4.2 crc32 instruction has a latency of 3 cycles but
 * can start one per cycle, so a single dependent chain runs at a third of
 * what the unit can do. Long inputs are therefore cut into blocks of three
 * equal streams, each CRC'd by its own chain in the same loop, and the three
 * results joined with the CRC's linearity: crc(A || B) = shift_|B|(crc(A)) ^
 * crc0(B), where crc0 starts from a zero register and shift_n (appending n
 * zero bytes) is a linear map on 32 bits, applied with four 256-entry tables
 * precomputed for each of the two block sizes used. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "common/crc32c.h"

#define POLY 0x82f63b78u /* reflected Castagnoli polynomial */

static uint32_t table[8][256];

/* Stream lengths (bytes) of the three-way blocks: long for the bulk, short
 * for the tail; multiples of 8. shift_long/shift_short apply shift_n for them. */
#define STREAM_LONG 2048
#define STREAM_SHORT 256
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];

/* Builds the tables of shift_n: the image of each input bit after n zero
 * bytes (one table step per byte), then per-byte XOR combinations. */
static void shift_init(uint32_t t[4][256], size_t n)
{
    uint32_t img[32];
    for (int i = 0; i < 32; i++) {
        uint32_t r = 1u << i;
        for (size_t k = 0; k < n; k++)
            r = table[0][r & 0xff] ^ (r >> 8);
        img[i] = r;
    }
    for (int k = 0; k < 4; k++) {
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int bit = 0; bit < 8; bit++)
                if (b & (1u << bit))
                    v ^= img[8 * k + bit];
            t[k][b] = v;
        }
    }
}

static inline uint32_t shift_apply(const uint32_t t[4][256], uint32_t r)
{
    return t[0][r & 0xff] ^ t[1][(r >> 8) & 0xff] ^ t[2][(r >> 16) & 0xff] ^ t[3][r >> 24];
}

static void table_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = table[0][n];
        for (int k = 1; k < 8; k++) {
            c = table[0][c & 0xff] ^ (c >> 8);
            table[k][n] = c;
        }
    }
    shift_init(shift_long, STREAM_LONG);
    shift_init(shift_short, STREAM_SHORT);
}

static void ensure_table(void)
{
    static gsize once = 0;
    if (g_once_init_enter(&once)) {
        table_init();
        g_once_init_leave(&once, 1);
    }
}

uint32_t rill__crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    ensure_table();
    const unsigned char *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= crc; /* little-endian: the low four bytes take the crc */
        crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
              table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
              table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#if defined(__x86_64__) && defined(__GNUC__)
/* One three-way block: streams of n bytes at p, p + n, p + 2n; c is the
 * register (not inverted) before the block, the result the one after. */
__attribute__((target("sse4.2"))) static inline uint64_t
hw_three_way(uint64_t c, const unsigned char *p, size_t n, const uint32_t shift[4][256])
{
    uint64_t c1 = 0, c2 = 0;
    for (const unsigned char *end = p + n; p < end; p += 8) {
        uint64_t w0, w1, w2;
        memcpy(&w0, p, 8);
        memcpy(&w1, p + n, 8);
        memcpy(&w2, p + 2 * n, 8);
        c = __builtin_ia32_crc32di(c, w0);
        c1 = __builtin_ia32_crc32di(c1, w1);
        c2 = __builtin_ia32_crc32di(c2, w2);
    }
    c = shift_apply(shift, (uint32_t)c) ^ (uint32_t)c1;
    return shift_apply(shift, (uint32_t)c) ^ (uint32_t)c2;
}

__attribute__((target("sse4.2"))) static uint32_t crc32c_hw(uint32_t crc, const void *data,
                                                             size_t len)
{
    const unsigned char *p = data;
    uint64_t c = (uint32_t)~crc;
    if (len >= 3 * STREAM_SHORT) {
        ensure_table();
        for (; len >= 3 * STREAM_LONG; p += 3 * STREAM_LONG, len -= 3 * STREAM_LONG)
            c = hw_three_way(c, p, STREAM_LONG, shift_long);
        for (; len >= 3 * STREAM_SHORT; p += 3 * STREAM_SHORT, len -= 3 * STREAM_SHORT)
            c = hw_three_way(c, p, STREAM_SHORT, shift_short);
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = __builtin_ia32_crc32di(c, w);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}

uint32_t rill__crc32c(uint32_t crc, const void *data, size_t len)
{
    static int have_hw = -1;
    if (__builtin_expect(have_hw < 0, 0)) {
        __builtin_cpu_init();
        have_hw = __builtin_cpu_supports("sse4.2") ? 1 : 0;
    }
    return have_hw ? crc32c_hw(crc, data, len) : rill__crc32c_sw(crc, data, len);
}
#else
uint32_t rill__crc32c(uint32_t crc, const void *data, size_t len)
{
    return rill__crc32c_sw(crc, data, len);
}
#endif
