/* kafka-util.h: small librdkafka helpers shared by the C integration tests. */
#ifndef RILL_TEST_KAFKA_UTIL_H
#define RILL_TEST_KAFKA_UTIL_H

#include <librdkafka/rdkafka.h>
#include <stdint.h>

/* A conf with bootstrap.servers set (transfer full). */
rd_kafka_conf_t *kt_conf(const char *bootstrap);
/* Sets k=v or fails the test. */
void kt_set(rd_kafka_conf_t *conf, const char *k, const char *v);
/* Creates topic with partitions and optional "k","v",...,NULL configs; fails the test on error. */
void kt_create_topic(const char *bootstrap, const char *topic, int partitions, ...);

/* A producer that records delivery offsets: produce value/key to partition,
 * then kt_producer_flush() waits (bounded) for every acknowledgement. */
typedef struct kt_producer kt_producer_t;
kt_producer_t *kt_producer_new(const char *bootstrap, const char *const *extra_conf);
/* Returns an index for kt_producer_offset(). */
int kt_produce(kt_producer_t *p, const char *topic, int32_t partition, const void *key,
               size_t klen, const void *value, size_t vlen);
void kt_producer_flush(kt_producer_t *p, int timeout_ms);
int64_t kt_producer_offset(kt_producer_t *p, int index);
void kt_producer_destroy(kt_producer_t *p);

/* Reads partition from `from` until `until` (exclusive, or bounded by
 * timeout_ms): calls cb for each record. Returns the number read. */
typedef void (*kt_record_cb)(const rd_kafka_message_t *m, void *ud);
int64_t kt_consume_range(const char *bootstrap, const char *topic, int32_t partition, int64_t from,
                         int64_t until, int timeout_ms, kt_record_cb cb, void *ud);

/* Low and high watermarks (fails the test on error). */
void kt_watermarks(const char *bootstrap, const char *topic, int32_t partition, int64_t *lo,
                   int64_t *hi);

#endif
