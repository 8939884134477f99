/* partitioner.h: Kafka's default partitioner: murmur2 of the serialized key,
 * so that rill (and its test driver) put a key in the same partition as the
 * Java client and librdkafka's "murmur2_random" partitioner do. */
#ifndef RILL_RUNTIME_PARTITIONER_H
#define RILL_RUNTIME_PARTITIONER_H

#include <stddef.h>
#include <stdint.h>

/* Kafka's murmur2 (seed 0x9747b28c), as Utils.murmur2. */
int32_t rill__murmur2(const void *data, size_t len);
/* toPositive(murmur2(key)) % partition_count; null keys go to partition 0. */
int32_t rill__default_partition(const void *key, size_t key_len, int32_t partition_count);

#endif /* RILL_RUNTIME_PARTITIONER_H */
