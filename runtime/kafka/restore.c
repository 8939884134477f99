/* restore.c: reading a changelog partition from an offset to its end, for restoring state stores.
 *
 * A short-lived consumer (no group membership: it assigns the one partition
 * itself and commits nothing) reads <topic>/<partition> from `from` up to the
 * high watermark taken when it starts, in large fetches, takes the records
 * off the consumer's queue RESTORE_POLL_RECORDS at a time (one call per
 * array instead of one rd_kafka_consumer_poll per record) and hands each
 * record to the callback; the restorer (stores/restore.h) batches them into
 * the store. Compaction leaves gaps in offsets, so the end is reached when
 * the consumer's position passes high watermark - 1 or it reports EOF.
 * Every wait is bounded: no progress for RESTORE_STALL_MS fails the restore. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "common/clock.h"
#include "common/log.h"
#include "runtime/kafka/changelog.h"
#include "runtime/kafka/kafka-private.h"

#define RESTORE_STALL_MS 60000
#define RESTORE_POLL_RECORDS 4096

rill_err_t rill__kafka_changelog_read(void *ud, const char *topic, int32_t partition,
                                      int64_t from,
                                      rill_err_t (*fn)(void *fn_ud,
                                                       const rill__raw_record_t *record,
                                                       rill_error_t **error),
                                      void *fn_ud, int64_t *end_offset, rill_error_t **error)
{
    const rill_config_t *config = ud;
    *end_offset = from;
    g_autofree char *client_id = rill__kafka_client_id(config, "restore-consumer", -1);
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_CONSUMER, client_id, error);
    if (conf == NULL)
        return RILL_ERR_KAFKA;
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, 0);
    rd_kafka_conf_set(conf, "fetch.max.bytes", "52428800", NULL, 0);
    rd_kafka_conf_set(conf, "max.partition.fetch.bytes", "16777216", NULL, 0);
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        return rill_error_set(error, RILL_ERR_KAFKA, "restore consumer: %s", errstr);
    }
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t kerr =
        rd_kafka_query_watermark_offsets(rk, topic, partition, &low, &high, 30000);
    rill_err_t err = RILL_OK;
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = rill_error_set_full(error, RILL_ERR_KAFKA, kerr, 1,
                                  "changelog %s/%" PRId32 ": watermarks: %s", topic, partition,
                                  rd_kafka_err2str(kerr));
        goto out;
    }
    *end_offset = high > from ? high : from;
    int64_t start = from > low ? from : low;
    if (start >= high)
        goto out; /* nothing to restore */
    rd_kafka_topic_partition_list_t *tps = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tps, topic, partition)->offset = start;
    kerr = rd_kafka_assign(rk, tps);
    rd_kafka_topic_partition_list_destroy(tps);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = rill_error_set_full(error, RILL_ERR_KAFKA, kerr, 1, "changelog %s: assign: %s", topic,
                                  rd_kafka_err2str(kerr));
        goto out;
    }
    /* records come off the consumer queue in arrays (one lock and wake-up
     * per array, not per record) */
    rd_kafka_queue_t *queue = rd_kafka_queue_get_consumer(rk);
    rd_kafka_message_t *msgs[RESTORE_POLL_RECORDS];
    int64_t last_progress = rill__clock_mono_ms();
    int64_t position = start;
    while (err == RILL_OK && position < high) {
        ssize_t n = rd_kafka_consume_batch_queue(queue, 200, msgs, RESTORE_POLL_RECORDS);
        if (n <= 0) {
            if (rill__clock_mono_ms() - last_progress > RESTORE_STALL_MS)
                err = rill_error_set(error, RILL_ERR_TIMEOUT,
                                     "changelog %s/%" PRId32 ": no progress for %d ms at offset "
                                     "%" PRId64 " (end %" PRId64 ")",
                                     topic, partition, RESTORE_STALL_MS, position, high);
            continue;
        }
        for (ssize_t i = 0; i < n; i++) {
            rd_kafka_message_t *msg = msgs[i];
            if (err != RILL_OK || position >= high) {
                /* after an error or the end: release the rest */
            } else if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                position = high;
            } else if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
                err = rill_error_set_full(error, RILL_ERR_KAFKA, msg->err, 1,
                                          "changelog %s/%" PRId32 ": %s", topic, partition,
                                          rd_kafka_message_errstr(msg));
            } else {
                rd_kafka_timestamp_type_t tstype;
                rill__raw_record_t raw = {
                    .topic = topic,
                    .partition = partition,
                    .offset = msg->offset,
                    .timestamp = rd_kafka_message_timestamp(msg, &tstype),
                    .key = msg->key,
                    .key_len = msg->key_len,
                    .value = msg->payload,
                    .value_len = msg->len,
                };
                err = fn(fn_ud, &raw, error);
                position = msg->offset + 1;
            }
            rd_kafka_message_destroy(msg);
        }
        last_progress = rill__clock_mono_ms();
    }
    rd_kafka_queue_destroy(queue);
out:
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return err;
}
