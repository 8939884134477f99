/* global.c: the global consumer (see global.h): assign() every partition of
 * the global topics, remember the high watermarks at the start, and report
 * when they are all reached.
 *
 * Positions come from the records handed out and from end-of-partition
 * events (enable.partition.eof), so that compaction gaps and transaction
 * markers at the end (which no record reports) still count as the end. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "common/log.h"
#include "runtime/kafka/global.h"
#include "runtime/kafka/kafka-private.h"

#define METADATA_TIMEOUT_MS 30000

typedef struct gpart {
    char *topic;
    int32_t partition;
    int64_t end;      /* high watermark at creation */
    int64_t position; /* next offset to read */
    bool eof;
} gpart_t;

struct rill__kglobal {
    rd_kafka_t *rk;
    GArray *parts; /* gpart_t */
};

static gpart_t *part_of(rill__kglobal_t *kglobal, const char *topic, int32_t partition)
{
    for (guint i = 0; i < kglobal->parts->len; i++) {
        gpart_t *part = &g_array_index(kglobal->parts, gpart_t, i);
        if (part->partition == partition && strcmp(part->topic, topic) == 0)
            return part;
    }
    return NULL;
}

void rill__kglobal_destroy(rill__kglobal_t *kglobal)
{
    if (kglobal == NULL)
        return;
    if (kglobal->rk != NULL) {
        rd_kafka_consumer_close(kglobal->rk);
        rd_kafka_destroy(kglobal->rk);
    }
    for (guint i = 0; i < kglobal->parts->len; i++)
        g_free(g_array_index(kglobal->parts, gpart_t, i).topic);
    g_array_free(kglobal->parts, TRUE);
    g_free(kglobal);
}

rill__kglobal_t *rill__kglobal_new(const rill_config_t *config, const char *const *topics,
                                   int64_t (*offset_of)(void *ud, const char *topic,
                                                        int32_t partition),
                                   void *ud, rill_error_t **error)
{
    g_autofree char *client_id = rill__kafka_client_id(config, "global-consumer", -1);
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_CONSUMER, client_id, error);
    if (conf == NULL)
        return NULL;
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, 0);
    /* exactly-once apps read what was committed only, as their stream threads */
    const char *guarantee = rill_config_get(config, RILL_CONFIG_PROCESSING_GUARANTEE);
    if (guarantee != NULL && strncmp(guarantee, "exactly_once", 12) == 0)
        rd_kafka_conf_set(conf, "isolation.level", "read_committed", NULL, 0);
    rill__kglobal_t *kglobal = g_new0(rill__kglobal_t, 1);
    kglobal->parts = g_array_new(FALSE, TRUE, sizeof(gpart_t));
    char errstr[512];
    kglobal->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
    if (kglobal->rk == NULL) {
        rd_kafka_conf_destroy(conf);
        rill_error_set(error, RILL_ERR_KAFKA, "global consumer %s: %s", client_id, errstr);
        rill__kglobal_destroy(kglobal);
        return NULL;
    }
    rd_kafka_poll_set_consumer(kglobal->rk);

    /* every partition of every topic, with its end now */
    rd_kafka_topic_partition_list_t *assignment = rd_kafka_topic_partition_list_new(16);
    rill_err_t err = RILL_OK;
    /* all topics' metadata: asking for one topic would create it where the
     * brokers auto-create topics */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t mderr = rd_kafka_metadata(kglobal->rk, 1, NULL, &md, METADATA_TIMEOUT_MS);
    if (mderr != RD_KAFKA_RESP_ERR_NO_ERROR)
        err = rill_error_set_full(error, RILL_ERR_KAFKA, mderr, 1, "global topics: metadata: %s",
                                  rd_kafka_err2str(mderr));
    for (int t = 0; err == RILL_OK && topics[t] != NULL; t++) {
        int n = 0;
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, topics[t]) == 0 &&
                md->topics[i].err == RD_KAFKA_RESP_ERR_NO_ERROR)
                n = md->topics[i].partition_cnt;
        if (n == 0) {
            err =
                rill_error_set(error, RILL_ERR_NOT_FOUND,
                               "global table topic %s does not exist (create it first)", topics[t]);
            break;
        }
        rd_kafka_resp_err_t kerr;
        for (int32_t p = 0; err == RILL_OK && p < n; p++) {
            int64_t low = 0, high = 0;
            kerr = rd_kafka_query_watermark_offsets(kglobal->rk, topics[t], p, &low, &high,
                                                    METADATA_TIMEOUT_MS);
            if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
                err = rill_error_set_full(error, RILL_ERR_KAFKA, kerr, 1,
                                          "global topic %s/%" PRId32 ": watermarks: %s", topics[t],
                                          p, rd_kafka_err2str(kerr));
                break;
            }
            int64_t start = offset_of(ud, topics[t], p);
            if (start < low)
                start = low;
            gpart_t part = {g_strdup(topics[t]), p, high, start, start >= high};
            g_array_append_val(kglobal->parts, part);
            rd_kafka_topic_partition_list_add(assignment, topics[t], p)->offset = start;
        }
    }
    if (md != NULL)
        rd_kafka_metadata_destroy(md);
    if (err == RILL_OK) {
        rd_kafka_resp_err_t kerr = rd_kafka_assign(kglobal->rk, assignment);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
            err = rill_error_set_full(error, RILL_ERR_KAFKA, kerr, 1, "global consumer: assign: %s",
                                      rd_kafka_err2str(kerr));
    }
    rd_kafka_topic_partition_list_destroy(assignment);
    if (err != RILL_OK) {
        rill__kglobal_destroy(kglobal);
        return NULL;
    }
    return kglobal;
}

int rill__kglobal_poll(rill__kglobal_t *kglobal, int timeout_ms,
                       rill_err_t (*fn)(void *ud, const rill__raw_record_t *record,
                                        rill_error_t **error),
                       void *ud, rill_error_t **error)
{
    int count = 0;
    int wait = timeout_ms;
    for (;;) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(kglobal->rk, wait);
        if (msg == NULL)
            return count;
        wait = 0; /* drain what is there, then return */
        const char *topic = msg->rkt != NULL ? rd_kafka_topic_name(msg->rkt) : NULL;
        gpart_t *part = topic != NULL ? part_of(kglobal, topic, msg->partition) : NULL;
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            if (part != NULL) {
                part->eof = true;
                if (msg->offset > part->position)
                    part->position = msg->offset;
            }
            rd_kafka_message_destroy(msg);
            continue;
        }
        if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (msg->err == RD_KAFKA_RESP_ERR__FATAL ||
                msg->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                msg->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
                rill_error_set_full(error, RILL_ERR_KAFKA, msg->err, RILL_ERROR_FATAL,
                                    "global consumer: %s", rd_kafka_message_errstr(msg));
                rd_kafka_message_destroy(msg);
                return -1;
            }
            RILL_LOG_WARN("runtime.global", "global consumer: %s (librdkafka retries)",
                          rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            continue;
        }
        rd_kafka_timestamp_type_t tstype;
        rill__raw_record_t record = {
            .topic = topic,
            .partition = msg->partition,
            .offset = msg->offset,
            .timestamp = rd_kafka_message_timestamp(msg, &tstype),
            .key = msg->key,
            .key_len = msg->key_len,
            .value = msg->payload,
            .value_len = msg->len,
        };
        rill_err_t err = fn(ud, &record, error);
        if (part != NULL) {
            part->position = msg->offset + 1;
            part->eof = false;
        }
        rd_kafka_message_destroy(msg);
        if (err != RILL_OK)
            return -1;
        if (++count >= 10000)
            return count;
    }
}

bool rill__kglobal_caught_up(const rill__kglobal_t *kglobal)
{
    for (guint i = 0; i < kglobal->parts->len; i++) {
        const gpart_t *part = &g_array_index(kglobal->parts, gpart_t, i);
        if (part->position < part->end && !part->eof)
            return false;
    }
    return true;
}

int64_t rill__kglobal_remaining(const rill__kglobal_t *kglobal)
{
    int64_t remaining = 0;
    for (guint i = 0; i < kglobal->parts->len; i++) {
        const gpart_t *part = &g_array_index(kglobal->parts, gpart_t, i);
        if (part->position < part->end && !part->eof)
            remaining += part->end - part->position;
    }
    return remaining;
}
