/* consumer.c: the consumer of a stream thread: group membership, rebalances
 * turned into the thread's assigned/revoked callbacks, records handed over
 * as rill__raw_record_t, synchronous offset commits.
 *
 * Design: librdkafka's high-level consumer with enable.auto.commit=false;
 * the rebalance callback runs inside rill__kconsumer_poll() (and
 * rill__kconsumer_close()) on the stream thread, so the thread's tasks are
 * only touched by their own thread. Eager rebalancing with the range
 * assignor: on revoke, the thread flushes and commits before the partitions
 * go; on assign, it creates the tasks and then the assignment starts from
 * the committed offsets (auto.offset.reset=earliest when there are none).
 * Records are read one by one with rd_kafka_consumer_poll(): librdkafka 2.0's
 * batch API may return records of partitions revoked during the call. */
#include <string.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

#include "common/log.h"
#include "runtime/kafka/kafka-private.h"

struct rill__kconsumer {
    rd_kafka_t *rk;
    rill__kconsumer_cbs_t cbs;
    rill_error_t *rebalance_error; /* from cbs.assigned, reported by the next poll */
    GArray *headers;               /* rill__header_t scratch */
    GArray *tps;                   /* rill__tp_t scratch */
};

static const rill__tp_t *convert(rill__kconsumer_t *consumer,
                                 const rd_kafka_topic_partition_list_t *parts)
{
    g_array_set_size(consumer->tps, 0);
    for (int i = 0; i < parts->cnt; i++) {
        rill__tp_t tp = {parts->elems[i].topic, parts->elems[i].partition,
                         parts->elems[i].offset};
        g_array_append_val(consumer->tps, tp);
    }
    return (const rill__tp_t *)consumer->tps->data;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    rill__kconsumer_t *consumer = opaque;
    const rill__tp_t *tps = convert(consumer, parts);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        rill_error_t *error = NULL;
        if (consumer->cbs.assigned(consumer->cbs.ud, tps, parts->cnt, &error) != RILL_OK) {
            if (!consumer->rebalance_error)
                consumer->rebalance_error = error;
            else
                rill_error_destroy(error);
            rd_kafka_assign(rk, NULL);
            return;
        }
        rd_kafka_assign(rk, parts);
    } else {
        consumer->cbs.revoked(consumer->cbs.ud, tps, parts->cnt);
        rd_kafka_assign(rk, NULL);
    }
}

rill__kconsumer_t *rill__kconsumer_new(const rill_config_t *config, int thread_index,
                                       int num_threads, const char *const *topics, int n_topics,
                                       const rill__kconsumer_cbs_t *cbs, rill_error_t **error)
{
    (void)num_threads;
    g_autofree char *client_id = rill__kafka_client_id(config, "consumer", thread_index);
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_CONSUMER, client_id, error);
    if (!conf)
        return NULL;
    rill__kconsumer_t *consumer = g_new0(rill__kconsumer_t, 1);
    consumer->cbs = *cbs;
    consumer->headers = g_array_new(FALSE, FALSE, sizeof(rill__header_t));
    consumer->tps = g_array_new(FALSE, FALSE, sizeof(rill__tp_t));
    rd_kafka_conf_set_opaque(conf, consumer);
    rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);

    char errstr[512];
    consumer->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (!consumer->rk) {
        rd_kafka_conf_destroy(conf);
        rill_error_set(error, RILL_ERR_KAFKA, "cannot create consumer %s: %s", client_id, errstr);
        g_array_free(consumer->headers, TRUE);
        g_array_free(consumer->tps, TRUE);
        g_free(consumer);
        return NULL;
    }
    rd_kafka_poll_set_consumer(consumer->rk);

    rd_kafka_topic_partition_list_t *subscription = rd_kafka_topic_partition_list_new(n_topics);
    for (int i = 0; i < n_topics; i++)
        rd_kafka_topic_partition_list_add(subscription, topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer->rk, subscription);
    rd_kafka_topic_partition_list_destroy(subscription);
    if (err) {
        rill_error_set_full(error, RILL_ERR_KAFKA, err, 0, "consumer %s cannot subscribe: %s",
                            client_id, rd_kafka_err2str(err));
        rd_kafka_destroy(consumer->rk);
        g_array_free(consumer->headers, TRUE);
        g_array_free(consumer->tps, TRUE);
        g_free(consumer);
        return NULL;
    }
    return consumer;
}

/* Whether a consumer error ends the thread. Transient ones (a broker went
 * away, a leader moved) are retried by librdkafka and only logged. */
static bool error_is_fatal(rd_kafka_t *rk, rd_kafka_resp_err_t err)
{
    if (err == RD_KAFKA_RESP_ERR__FATAL)
        return true;
    (void)rk;
    return err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
           err == RD_KAFKA_RESP_ERR__INVALID_ARG;
}

static rill_err_t handle_message(rill__kconsumer_t *consumer, rd_kafka_message_t *msg,
                                 rill_error_t **error)
{
    if (msg->err) {
        if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
            return RILL_OK;
        if (error_is_fatal(consumer->rk, msg->err)) {
            char reason[512] = "";
            if (msg->err == RD_KAFKA_RESP_ERR__FATAL)
                rd_kafka_fatal_error(consumer->rk, reason, sizeof(reason));
            return rill_error_set_full(error, RILL_ERR_KAFKA, msg->err, RILL_ERROR_FATAL,
                                       "consumer %s failed: %s%s%s", rd_kafka_name(consumer->rk),
                                       rd_kafka_message_errstr(msg), *reason ? ": " : "", reason);
        }
        RILL_LOG_WARN("runtime.kafka", "consumer %s: %s (librdkafka retries)",
                      rd_kafka_name(consumer->rk), rd_kafka_message_errstr(msg));
        return RILL_OK;
    }
    rd_kafka_timestamp_type_t tstype;
    rill__raw_record_t record = {
        .topic = rd_kafka_topic_name(msg->rkt),
        .partition = msg->partition,
        .offset = msg->offset,
        .timestamp = rd_kafka_message_timestamp(msg, &tstype),
        .key = msg->key,
        .key_len = msg->key_len,
        .value = msg->payload,
        .value_len = msg->len,
    };
    rd_kafka_headers_t *hdrs = NULL;
    if (rd_kafka_message_headers(msg, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
        g_array_set_size(consumer->headers, 0);
        const char *name;
        const void *value;
        size_t size;
        for (size_t i = 0; !rd_kafka_header_get_all(hdrs, i, &name, &value, &size); i++) {
            rill__header_t h = {name, value, size};
            g_array_append_val(consumer->headers, h);
        }
        record.headers = (const rill__header_t *)consumer->headers->data;
        record.header_count = consumer->headers->len;
    }
    return consumer->cbs.record(consumer->cbs.ud, &record, error);
}

int rill__kconsumer_poll(rill__kconsumer_t *consumer, int timeout_ms, int max_records,
                         rill_error_t **error)
{
    int n = 0;
    while (n < max_records) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(consumer->rk, n == 0 ? timeout_ms : 0);
        if (consumer->rebalance_error) {
            if (msg)
                rd_kafka_message_destroy(msg);
            rill_error_t *e = consumer->rebalance_error;
            consumer->rebalance_error = NULL;
            if (error && !*error)
                *error = e;
            else
                rill_error_destroy(e);
            return -1;
        }
        if (!msg)
            break;
        rill_err_t rc = handle_message(consumer, msg, error);
        bool was_record = !msg->err;
        rd_kafka_message_destroy(msg);
        if (rc)
            return -1;
        if (was_record)
            n++;
        else if (n == 0)
            break; /* an event, not a record: let the thread look around */
    }
    return n;
}

rill_err_t rill__kconsumer_commit(rill__kconsumer_t *consumer, const rill__tp_t *tps, int n,
                                  rill_error_t **error)
{
    if (n == 0)
        return RILL_OK;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(list, tps[i].topic, tps[i].partition)->offset =
            tps[i].offset;
    rd_kafka_resp_err_t err = rd_kafka_commit(consumer->rk, list, 0);
    if (!err) {
        for (int i = 0; i < list->cnt; i++)
            if (list->elems[i].err) {
                err = list->elems[i].err;
                break;
            }
    }
    rd_kafka_topic_partition_list_destroy(list);
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
    case RD_KAFKA_RESP_ERR__NO_OFFSET:
        return RILL_OK;
    case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
    case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
    case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
    case RD_KAFKA_RESP_ERR__STATE:
        RILL_LOG_WARN("runtime.kafka",
                      "consumer %s: commit refused (%s): the group rebalanced; the records since "
                      "the last commit will be processed again",
                      rd_kafka_name(consumer->rk), rd_kafka_err2str(err));
        return RILL_OK;
    default:
        return rill_error_set_full(error, RILL_ERR_KAFKA, err,
                                   err == RD_KAFKA_RESP_ERR__FATAL ? RILL_ERROR_FATAL
                                                                   : RILL_ERROR_RETRIABLE,
                                   "consumer %s: commit failed: %s", rd_kafka_name(consumer->rk),
                                   rd_kafka_err2str(err));
    }
}

/* Bound on each broker round trip of a lag lookup (it runs at scrape time). */
#define LAG_LOOKUP_TIMEOUT_MS 2000

/* Where consumption of topic [partition] starts when nothing was consumed
 * yet (see rill__kconsumer_lag), or -1 if that cannot be told. */
static int64_t start_offset(rill__kconsumer_t *consumer, const char *topic, int32_t partition,
                            int64_t *high)
{
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition);
    int64_t committed = -1;
    if (rd_kafka_committed(consumer->rk, list, LAG_LOOKUP_TIMEOUT_MS) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        committed = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    if (committed >= 0)
        return committed;
    char reset[32] = "";
    size_t size = sizeof(reset);
    if (rd_kafka_conf_get(rd_kafka_conf(consumer->rk), "auto.offset.reset", reset, &size) !=
        RD_KAFKA_CONF_OK)
        return -1;
    int64_t low = -1, hi = -1;
    if (rd_kafka_query_watermark_offsets(consumer->rk, topic, partition, &low, &hi,
                                         LAG_LOOKUP_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    if (*high < 0)
        *high = hi;
    if (strcmp(reset, "earliest") == 0 || strcmp(reset, "smallest") == 0 ||
        strcmp(reset, "beginning") == 0)
        return low;
    if (strcmp(reset, "latest") == 0 || strcmp(reset, "largest") == 0 ||
        strcmp(reset, "end") == 0)
        return hi;
    return -1; /* "error": consumption would fail, there is no start */
}

int64_t rill__kconsumer_end_offset(rill__kconsumer_t *consumer, const char *topic,
                                   int32_t partition)
{
    int64_t low = -1, high = -1;
    if (rd_kafka_query_watermark_offsets(consumer->rk, topic, partition, &low, &high,
                                         LAG_LOOKUP_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return -1;
    return high;
}

int64_t rill__kconsumer_lag(rill__kconsumer_t *consumer, const char *topic, int32_t partition,
                            int64_t *start)
{
    int64_t low = -1, high = -1;
    if (rd_kafka_get_watermark_offsets(consumer->rk, topic, partition, &low, &high) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        high = -1;
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, topic, partition);
    int64_t position = -1;
    if (rd_kafka_position(consumer->rk, list) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
        position = list->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(list);
    if (position < 0 && start != NULL) { /* nothing consumed yet */
        if (*start < 0)
            *start = start_offset(consumer, topic, partition, &high);
        position = *start;
        int64_t lo = -1;
        if (position >= 0 && high < 0 &&
            rd_kafka_query_watermark_offsets(consumer->rk, topic, partition, &lo, &high,
                                             LAG_LOOKUP_TIMEOUT_MS) != RD_KAFKA_RESP_ERR_NO_ERROR)
            high = -1;
    }
    if (position < 0 || high < 0)
        return -1;
    return high > position ? high - position : 0;
}

void rill__kconsumer_close(rill__kconsumer_t *consumer)
{
    if (!consumer)
        return;
    rd_kafka_resp_err_t err = rd_kafka_consumer_close(consumer->rk);
    if (err)
        RILL_LOG_WARN("runtime.kafka", "consumer %s: close: %s", rd_kafka_name(consumer->rk),
                      rd_kafka_err2str(err));
    rd_kafka_destroy(consumer->rk);
    rill_error_destroy(consumer->rebalance_error);
    g_array_free(consumer->headers, TRUE);
    g_array_free(consumer->tps, TRUE);
    g_free(consumer);
}
