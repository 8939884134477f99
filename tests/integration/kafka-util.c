/* kafka-util.c: small librdkafka helpers shared by the C integration tests.
 * Every wait is bounded; any error fails the test through rt_fail(). */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

rd_kafka_conf_t *kt_conf(const char *bootstrap)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    kt_set(conf, "bootstrap.servers", bootstrap);
    kt_set(conf, "broker.address.family", "v4");
    return conf;
}

void kt_set(rd_kafka_conf_t *conf, const char *k, const char *v)
{
    char err[256];
    if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK)
        rt_fail("conf %s=%s: %s", k, v, err);
}

void kt_create_topic(const char *bootstrap, const char *topic, int partitions, ...)
{
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kt_conf(bootstrap), err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof(err));
    if (nt == NULL)
        rt_fail("NewTopic: %s", err);
    va_list ap;
    va_start(ap, partitions);
    for (const char *k = va_arg(ap, const char *); k != NULL; k = va_arg(ap, const char *))
        rd_kafka_NewTopic_set_config(nt, k, va_arg(ap, const char *));
    va_end(ap);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, 10000, err, sizeof(err));
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20000);
    if (ev == NULL)
        rt_fail("CreateTopics %s: no answer within 20 s", topic);
    if (rd_kafka_event_error(ev))
        rt_fail("CreateTopics %s: %s", topic, rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **tres =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    if (n != 1 || rd_kafka_topic_result_error(tres[0]))
        rt_fail("CreateTopics %s: %s", topic,
                n == 1 ? rd_kafka_topic_result_error_string(tres[0]) : "no result");
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
}

struct kt_producer {
    rd_kafka_t *rk;
    GArray *offsets; /* int64_t, -2 = not yet acknowledged */
    int failed;
};

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    kt_producer_t *p = opaque;
    int idx = (int)(intptr_t)m->_private;
    if (m->err) {
        p->failed++;
        return;
    }
    g_array_index(p->offsets, int64_t, idx) = m->offset;
}

kt_producer_t *kt_producer_new(const char *bootstrap, const char *const *extra_conf)
{
    kt_producer_t *p = g_new0(kt_producer_t, 1);
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "acks", "all");
    kt_set(conf, "linger.ms", "5");
    kt_set(conf, "message.timeout.ms", "30000");
    for (const char *const *kv = extra_conf; kv != NULL && kv[0] != NULL; kv += 2)
        kt_set(conf, kv[0], kv[1]);
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, p);
    char err[256];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (p->rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    p->offsets = g_array_new(FALSE, FALSE, sizeof(int64_t));
    return p;
}

int kt_produce(kt_producer_t *p, const char *topic, int32_t partition, const void *key,
               size_t klen, const void *value, size_t vlen)
{
    int idx = (int)p->offsets->len;
    int64_t none = -2;
    g_array_append_val(p->offsets, none);
    for (int tries = 0;; tries++) {
        rd_kafka_resp_err_t e = rd_kafka_producev(
            p->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
            RD_KAFKA_V_KEY(key, klen), RD_KAFKA_V_VALUE((void *)value, vlen),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void *)(intptr_t)idx),
            RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL || tries > 600)
            rt_fail("producev: %s", rd_kafka_err2str(e));
        rd_kafka_poll(p->rk, 100);
    }
    rd_kafka_poll(p->rk, 0);
    return idx;
}

void kt_producer_flush(kt_producer_t *p, int timeout_ms)
{
    if (rd_kafka_flush(p->rk, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rt_fail("not every record was acknowledged within %d ms", timeout_ms);
    if (p->failed)
        rt_fail("%d records failed to be delivered", p->failed);
}

int64_t kt_producer_offset(kt_producer_t *p, int index)
{
    return g_array_index(p->offsets, int64_t, index);
}

void kt_producer_destroy(kt_producer_t *p)
{
    rd_kafka_destroy(p->rk);
    g_array_free(p->offsets, TRUE);
    g_free(p);
}

int64_t kt_consume_range(const char *bootstrap, const char *topic, int32_t partition, int64_t from,
                         int64_t until, int timeout_ms, kt_record_cb cb, void *ud)
{
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    kt_set(conf, "group.id", "rill-itest");
    kt_set(conf, "enable.auto.commit", "false");
    kt_set(conf, "enable.partition.eof", "true");
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, topic, partition)->offset = from;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    int64_t n = 0;
    int64_t deadline = rt_now_ms() + timeout_ms;
    while (rt_now_ms() < deadline) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            bool done = until < 0 || m->offset >= until;
            rd_kafka_message_destroy(m);
            if (done)
                break;
            continue;
        }
        if (m->err)
            rt_fail("consume %s/%d: %s", topic, (int)partition, rd_kafka_message_errstr(m));
        cb(m, ud);
        n++;
        bool done = until >= 0 && m->offset + 1 >= until;
        rd_kafka_message_destroy(m);
        if (done)
            break;
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

void kt_watermarks(const char *bootstrap, const char *topic, int32_t partition, int64_t *lo,
                   int64_t *hi)
{
    char err[256];
    rd_kafka_conf_t *conf = kt_conf(bootstrap);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, topic, partition, lo, hi, 10000);
    if (e)
        rt_fail("watermarks of %s/%d: %s", topic, (int)partition, rd_kafka_err2str(e));
    rd_kafka_destroy(rk);
}
