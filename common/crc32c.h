/* crc32c.h: CRC-32C (Castagnoli), the checksum of Kafka record batches v2.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once), else
 * a slicing-by-8 table; long inputs run three interleaved instruction chains
 * (see crc32c.c). Both give the same result; the unit test checks the
 * standard test vectors against each. */
#ifndef RILL_COMMON_CRC32C_H
#define RILL_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extends crc (0 to start) with len bytes of data. */
uint32_t rill__crc32c(uint32_t crc, const void *data, size_t len);

/* The table implementation alone (for tests and machines without SSE4.2). */
uint32_t rill__crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
