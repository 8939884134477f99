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
 * librdkafka's locked topic table.
 *
 * Under exactly_once_v2 the producer is transactional (KIP-447): its
 * transactional.id is "<application.id>-<random uuid>-<thread index + 1>"
 * (v2 fences zombies by the consumer group generation the offsets are sent
 * with, so the id need not survive a restart), rd_kafka_init_transactions
 * runs when it is made, and the transaction of a thread goes:
 *
 *     IDLE ──first send, or a commit with offsets (begin)──► OPEN
 *     OPEN ──rill__kproducer_txn_commit: send_offsets_to_transaction,
 *            commit_transaction (which flushes)──► IDLE
 *     OPEN ──an abortable error; rill__kproducer_txn_abort──► IDLE
 *     any  ──a fatal error (fenced by transactional.id)──► FATAL (the thread fails)
 *
 * Records purged by an abort report _PURGE_* errors: those are the abort,
 * not delivery failures, and go to no handler. */
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
    bool transactional;    /* exactly_once_v2 */
    bool txn_open;         /* a transaction was begun and not yet committed or aborted */
};

/* Bound on each transactional call (init, send offsets, commit, abort). */
#define TXN_TIMEOUT_MS 30000

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    rill__kproducer_t *producer = opaque;
    if (!msg->err) {
        __atomic_add_fetch(&producer->acked, 1, __ATOMIC_RELAXED);
        return;
    }
    if (producer->transactional && (msg->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                                    msg->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT))
        return; /* an aborted transaction's record: the abort is handled */
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
    bool transactional = rill__config_exactly_once(config);
    if (transactional) {
        g_autofree char *uuid = g_uuid_string_random();
        g_autofree char *txn_id =
            g_strdup_printf("%s-%s-%d", rill_config_get(config, RILL_CONFIG_APPLICATION_ID), uuid,
                            thread_index + 1);
        char errstr[512];
        if (rd_kafka_conf_set(conf, "transactional.id", txn_id, errstr, sizeof(errstr)) !=
            RD_KAFKA_CONF_OK) {
            rd_kafka_conf_destroy(conf);
            rill_error_set(error, RILL_ERR_INVALID_CONFIG, "transactional.id=%s: %s", txn_id,
                           errstr);
            return NULL;
        }
    }
    rill__kproducer_t *producer = g_new0(rill__kproducer_t, 1);
    producer->transactional = transactional;
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
    if (transactional) {
        rd_kafka_error_t *kerror = rd_kafka_init_transactions(producer->rk, TXN_TIMEOUT_MS);
        if (kerror) {
            rill_error_set_full(error, RILL_ERR_KAFKA, rd_kafka_error_code(kerror),
                                RILL_ERROR_FATAL,
                                "producer %s: initializing transactions (exactly_once_v2 needs "
                                "a broker with transactions): %s",
                                client_id, rd_kafka_error_string(kerror));
            rd_kafka_error_destroy(kerror);
            rill__kproducer_destroy(producer);
            return NULL;
        }
    }
    return producer;
}

/* The rill error of a failed transactional call (consumes kerror). */
static rill_err_t txn_error(rill__kproducer_t *producer, rd_kafka_error_t *kerror,
                            const char *what, rill_error_t **error)
{
    int flags = rd_kafka_error_is_fatal(kerror)            ? RILL_ERROR_FATAL
                : rd_kafka_error_txn_requires_abort(kerror) ? RILL_ERROR_ABORT_TXN
                : rd_kafka_error_is_retriable(kerror)      ? RILL_ERROR_RETRIABLE
                                                           : RILL_ERROR_ABORT_TXN;
    rd_kafka_resp_err_t code = rd_kafka_error_code(kerror);
    if (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED)
        flags = RILL_ERROR_FATAL;
    rill_error_set_full(error, code == RD_KAFKA_RESP_ERR__FENCED ? RILL_ERR_FENCED : RILL_ERR_KAFKA,
                        code, flags, "producer %s: %s: %s", rd_kafka_name(producer->rk), what,
                        rd_kafka_error_string(kerror));
    rd_kafka_error_destroy(kerror);
    return code == RD_KAFKA_RESP_ERR__FENCED ? RILL_ERR_FENCED : RILL_ERR_KAFKA;
}

/* Begins a transaction unless one is open. */
static rill_err_t txn_begin(rill__kproducer_t *producer, rill_error_t **error)
{
    if (!producer->transactional || producer->txn_open)
        return RILL_OK;
    rd_kafka_error_t *kerror = rd_kafka_begin_transaction(producer->rk);
    if (kerror)
        return txn_error(producer, kerror, "beginning a transaction", error);
    producer->txn_open = true;
    return RILL_OK;
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
                                   rill_error_kafka_code(producer->failure),
                                   producer->transactional ? RILL_ERROR_ABORT_TXN : 0, "%s",
                                   rill_error_message(producer->failure));
    if (txn_begin(producer, error) != RILL_OK)
        return RILL_ERR_KAFKA;
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
                                           rill_error_kafka_code(producer->failure),
                                   producer->transactional ? RILL_ERROR_ABORT_TXN : 0, "%s",
                                           rill_error_message(producer->failure));
            continue;
        }
        if (producer->transactional) {
            /* the transaction cannot be completed without this record */
            char reason[512] = "";
            bool fatal = err == RD_KAFKA_RESP_ERR__FATAL &&
                         rd_kafka_fatal_error(producer->rk, reason, sizeof(reason));
            return rill_error_set_full(error, RILL_ERR_KAFKA, err,
                                       fatal ? RILL_ERROR_FATAL : RILL_ERROR_ABORT_TXN,
                                       "producing to %s in a transaction: %s%s%s", topic,
                                       rd_kafka_err2str(err), *reason ? ": " : "", reason);
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
                                   rill_error_kafka_code(producer->failure),
                                   producer->transactional ? RILL_ERROR_ABORT_TXN : 0, "%s",
                                   rill_error_message(producer->failure));
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT)
        return rill_error_set(error, RILL_ERR_TIMEOUT,
                              "producer %s: %d records not acknowledged within %d ms",
                              rd_kafka_name(producer->rk), rd_kafka_outq_len(producer->rk),
                              timeout_ms);
    return RILL_OK;
}

bool rill__kproducer_transactional(const rill__kproducer_t *producer)
{
    return producer->transactional;
}

bool rill__kproducer_txn_open(const rill__kproducer_t *producer)
{
    return producer->txn_open;
}

rill_err_t rill__kproducer_txn_commit(rill__kproducer_t *producer, rill__kconsumer_t *consumer,
                                      const rill__tp_t *tps, int n, rill_error_t **error)
{
    g_assert(producer->transactional);
    if (!producer->txn_open && n == 0)
        return RILL_OK;
    if (producer->failure) /* a record of this transaction was refused */
        return rill_error_set_full(error, rill_error_code(producer->failure),
                                   rill_error_kafka_code(producer->failure), RILL_ERROR_ABORT_TXN,
                                   "%s", rill_error_message(producer->failure));
    if (txn_begin(producer, error) != RILL_OK)
        return RILL_ERR_KAFKA;
    rd_kafka_error_t *kerror = NULL;
    if (n > 0) {
        rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++)
            rd_kafka_topic_partition_list_add(offsets, tps[i].topic, tps[i].partition)->offset =
                tps[i].offset;
        rd_kafka_consumer_group_metadata_t *cgmd =
            rd_kafka_consumer_group_metadata(rill__kconsumer_rk(consumer));
        /* retriable errors (a coordinator moving) are retried, within the bound */
        int64_t deadline = g_get_monotonic_time() / 1000 + TXN_TIMEOUT_MS;
        for (;;) {
            kerror = rd_kafka_send_offsets_to_transaction(producer->rk, offsets, cgmd,
                                                          TXN_TIMEOUT_MS);
            if (!kerror || !rd_kafka_error_is_retriable(kerror) ||
                g_get_monotonic_time() / 1000 > deadline)
                break;
            rd_kafka_error_destroy(kerror);
            g_usleep(50000);
        }
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        rd_kafka_topic_partition_list_destroy(offsets);
        if (kerror)
            return txn_error(producer, kerror, "sending the consumed offsets to the transaction",
                             error);
    }
    int64_t deadline = g_get_monotonic_time() / 1000 + TXN_TIMEOUT_MS;
    for (;;) {
        kerror = rd_kafka_commit_transaction(producer->rk, TXN_TIMEOUT_MS);
        if (!kerror || !rd_kafka_error_is_retriable(kerror) ||
            g_get_monotonic_time() / 1000 > deadline)
            break;
        rd_kafka_error_destroy(kerror);
        g_usleep(50000);
    }
    if (kerror)
        return txn_error(producer, kerror, "committing the transaction", error);
    producer->txn_open = false;
    return RILL_OK;
}

rill_err_t rill__kproducer_txn_abort(rill__kproducer_t *producer, rill_error_t **error)
{
    if (!producer->transactional || !producer->txn_open)
        return RILL_OK;
    rd_kafka_error_t *kerror = rd_kafka_abort_transaction(producer->rk, TXN_TIMEOUT_MS);
    if (kerror)
        return txn_error(producer, kerror, "aborting the transaction", error);
    producer->txn_open = false;
    rill_error_destroy(producer->failure); /* it belonged to the aborted transaction */
    producer->failure = NULL;
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
