/* producer.c: the producer of a stream thread, behind rill__sink_ops_t.
 *
 * Design: one librdkafka producer per stream thread, so that a thread's
 * commit waits only for its own records. Records are copied into
 * librdkafka's queue (RD_KAFKA_MSG_F_COPY: the task's buffers are borrowed
 * for the call only); partition -1 leaves the choice to the partitioner
 * (murmur2_random, Kafka's Java default). Delivery reports are served on the
 * stream thread (rill__kproducer_poll / _flush): each failure goes to the
 * production exception handler, which either fails the thread (the first
 * failure is kept and returned by the next send or flush, so the offsets of
 * the lost record are never committed) or logs and counts it.
 * Topic handles are cached by name, so a send does not look the topic up in
 * librdkafka's locked topic table. */
#include <string.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

#include "common/log.h"
#include "runtime/kafka/kafka-private.h"

struct rill__kproducer {
    rd_kafka_t *rk;
    bool fail_on_error;
    const volatile int *stop;
    uint64_t acked;
    uint64_t failed;
    rill_error_t *failure; /* first failed delivery (when fail_on_error) */
    GHashTable *topics;    /* name -> rd_kafka_topic_t* */
    GHashTable *partition_counts; /* name -> int32 */
    const char *last_name; /* one-entry cache in front of topics */
    rd_kafka_topic_t *last_rkt;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    rill__kproducer_t *producer = opaque;
    if (!msg->err) {
        __atomic_add_fetch(&producer->acked, 1, __ATOMIC_RELAXED);
        return;
    }
    producer->failed++;
    if (producer->fail_on_error) {
        if (!producer->failure)
            rill_error_set_full(&producer->failure, RILL_ERR_KAFKA, msg->err, 0,
                                "producing to %s [%d] failed: %s", rd_kafka_topic_name(msg->rkt),
                                (int)msg->partition, rd_kafka_err2str(msg->err));
    } else if (producer->failed == 1 || producer->failed % 1000 == 0) {
        RILL_LOG_WARN("runtime.kafka",
                      "producing to %s [%d] failed: %s; record dropped by the production "
                      "exception handler (failed=%" G_GUINT64_FORMAT ")",
                      rd_kafka_topic_name(msg->rkt), (int)msg->partition,
                      rd_kafka_err2str(msg->err), producer->failed);
    }
}

rill__kproducer_t *rill__kproducer_new(const rill_config_t *config, int thread_index,
                                       bool fail_on_error, const volatile int *stop,
                                       rill_error_t **error)
{
    g_autofree char *client_id = rill__kafka_client_id(config, "producer", thread_index);
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_PRODUCER, client_id, error);
    if (!conf)
        return NULL;
    rill__kproducer_t *producer = g_new0(rill__kproducer_t, 1);
    producer->fail_on_error = fail_on_error;
    producer->stop = stop;
    producer->topics =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rd_kafka_topic_destroy);
    producer->partition_counts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    rd_kafka_conf_set_opaque(conf, producer);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    char errstr[512];
    producer->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!producer->rk) {
        rd_kafka_conf_destroy(conf);
        rill_error_set(error, RILL_ERR_KAFKA, "cannot create producer %s: %s", client_id, errstr);
        g_hash_table_destroy(producer->topics);
        g_hash_table_destroy(producer->partition_counts);
        g_free(producer);
        return NULL;
    }
    return producer;
}

static rd_kafka_topic_t *topic_of(rill__kproducer_t *producer, const char *name)
{
    if (producer->last_name && strcmp(producer->last_name, name) == 0)
        return producer->last_rkt;
    char *key = NULL;
    rd_kafka_topic_t *rkt = NULL;
    if (!g_hash_table_lookup_extended(producer->topics, name, (gpointer *)&key, (gpointer *)&rkt)) {
        rkt = rd_kafka_topic_new(producer->rk, name, NULL);
        if (!rkt)
            return NULL;
        key = g_strdup(name);
        g_hash_table_insert(producer->topics, key, rkt);
    }
    producer->last_name = key;
    producer->last_rkt = rkt;
    return rkt;
}

static rill_err_t sink_send(void *ud, const char *topic, int32_t partition, const void *key,
                       size_t key_len, const void *value, size_t value_len, int64_t timestamp,
                       const rill__header_t *headers, size_t header_count, rill_error_t **error)
{
    rill__kproducer_t *producer = ud;
    if (producer->failure)
        return rill_error_set_full(error, rill_error_code(producer->failure),
                                   rill_error_kafka_code(producer->failure), 0, "%s",
                                   rill_error_message(producer->failure));
    rd_kafka_topic_t *rkt = topic_of(producer, topic);
    if (!rkt)
        return rill_error_set(error, RILL_ERR_KAFKA, "producing to %s: %s", topic,
                              rd_kafka_err2str(rd_kafka_last_error()));
    for (;;) {
        rd_kafka_headers_t *hdrs = NULL;
        if (header_count) {
            hdrs = rd_kafka_headers_new(header_count);
            for (size_t i = 0; i < header_count; i++)
                rd_kafka_header_add(hdrs, headers[i].name, -1, headers[i].value,
                                    headers[i].value ? (ssize_t)headers[i].value_len : 0);
        }
        rd_kafka_resp_err_t err = rd_kafka_producev(
            producer->rk, RD_KAFKA_V_RKT(rkt),
            RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
            RD_KAFKA_V_VALUE((void *)value, value_len),
            RD_KAFKA_V_TIMESTAMP(timestamp > 0 ? timestamp : 0), RD_KAFKA_V_HEADERS(hdrs),
            RD_KAFKA_V_END);
        if (!err)
            return RILL_OK;
        if (hdrs)
            rd_kafka_headers_destroy(hdrs);
        if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* Back-pressure: wait for deliveries to make room. */
            if (producer->stop && *producer->stop)
                return rill_error_set(error, RILL_ERR_TIMEOUT,
                                      "producing to %s: the queue is full and the thread is "
                                      "stopping",
                                      topic);
            rd_kafka_poll(producer->rk, 10);
            if (producer->failure)
                return rill_error_set_full(error, rill_error_code(producer->failure),
                                           rill_error_kafka_code(producer->failure), 0, "%s",
                                           rill_error_message(producer->failure));
            continue;
        }
        if (!producer->fail_on_error) {
            producer->failed++;
            RILL_LOG_WARN("runtime.kafka", "producing to %s failed: %s; record dropped", topic,
                          rd_kafka_err2str(err));
            return RILL_OK;
        }
        return rill_error_set_full(error, RILL_ERR_KAFKA, err, 0, "producing to %s: %s", topic,
                                   rd_kafka_err2str(err));
    }
}

/* The partition count of topic (for user partitioners), from metadata,
 * cached. Blocks on the first call per topic (at most 5 s). */
static int32_t sink_partition_count(void *ud, const char *topic)
{
    rill__kproducer_t *producer = ud;
    gpointer v;
    if (g_hash_table_lookup_extended(producer->partition_counts, topic, NULL, &v))
        return GPOINTER_TO_INT(v);
    rd_kafka_topic_t *rkt = topic_of(producer, topic);
    if (!rkt)
        return -1;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(producer->rk, 0, rkt, &md, 5000);
    int32_t count = -1;
    if (!err && md->topic_cnt == 1 && !md->topics[0].err)
        count = md->topics[0].partition_cnt;
    if (md)
        rd_kafka_metadata_destroy(md);
    if (count > 0)
        g_hash_table_insert(producer->partition_counts, g_strdup(topic), GINT_TO_POINTER(count));
    return count;
}

rill__sink_ops_t rill__kproducer_sink(rill__kproducer_t *producer)
{
    rill__sink_ops_t ops = {sink_send, producer, sink_partition_count};
    return ops;
}

void rill__kproducer_poll(rill__kproducer_t *producer)
{
    rd_kafka_poll(producer->rk, 0);
}

rill_err_t rill__kproducer_flush(rill__kproducer_t *producer, int timeout_ms,
                                 rill_error_t **error)
{
    rd_kafka_resp_err_t err = rd_kafka_flush(producer->rk, timeout_ms);
    if (producer->failure)
        return rill_error_set_full(error, rill_error_code(producer->failure),
                                   rill_error_kafka_code(producer->failure), 0, "%s",
                                   rill_error_message(producer->failure));
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
        return rill_error_set(error, RILL_ERR_TIMEOUT,
                              "producer %s: %d records not acknowledged within %d ms",
                              rd_kafka_name(producer->rk), rd_kafka_outq_len(producer->rk),
                              timeout_ms);
    return RILL_OK;
}

uint64_t rill__kproducer_acked(rill__kproducer_t *producer)
{
    return __atomic_load_n(&producer->acked, __ATOMIC_RELAXED);
}

void rill__kproducer_destroy(rill__kproducer_t *producer)
{
    if (!producer)
        return;
    g_hash_table_destroy(producer->topics);
    g_hash_table_destroy(producer->partition_counts);
    rd_kafka_destroy(producer->rk);
    rill_error_destroy(producer->failure);
    g_free(producer);
}
