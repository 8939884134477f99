/* partitioner.c: Kafka's murmur2 default partitioner (see partitioner.h).
 * Arithmetic is on uint32_t so that overflow wraps as Java's int does. */
#include "config.h"

#include "runtime/partitioner.h"

int32_t rill__murmur2(const void *data, size_t len)
{
    const uint8_t *p = data;
    const uint32_t m = 0x5bd1e995;
    const int r = 24;
    uint32_t h = 0x9747b28cu ^ (uint32_t)len;
    size_t blocks = len / 4;
    for (size_t i = 0; i < blocks; i++) {
        const uint8_t *b = p + 4 * i;
        uint32_t k =
            (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        k *= m;
        k ^= k >> r;
        k *= m;
        h *= m;
        h ^= k;
    }
    const uint8_t *tail = p + 4 * blocks;
    switch (len % 4) {
    case 3:
        h ^= (uint32_t)tail[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t)tail[1] << 8;
        /* fall through */
    case 1:
        h ^= tail[0];
        h *= m;
    }
    h ^= h >> 13;
    h *= m;
    h ^= h >> 15;
    return (int32_t)h;
}

int32_t rill__default_partition(const void *key, size_t key_len, int32_t partition_count)
{
    if (key == NULL || partition_count <= 1)
        return 0;
    return (int32_t)(((uint32_t)rill__murmur2(key, key_len) & 0x7fffffffu) %
                     (uint32_t)partition_count);
}
