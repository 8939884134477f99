/* admin.c: what the app asks the cluster before it starts: the partition
 * counts of topics (metadata) and the creation of internal topics.
 *
 * Design: a short-lived client per call (start-up only, not a hot path).
 * Metadata is read for all topics, so that asking never auto-creates a
 * topic on brokers that allow auto-creation. CreateTopics goes through the
 * admin API; when that fails (a broker that does not serve it, such as
 * librdkafka's mock cluster) the topics are fine if they exist all the same
 * with the right partition count, and the error otherwise names each topic
 * and its partition count so that the user can create it. */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

#include "runtime/kafka/kafka-private.h"

static rd_kafka_t *client_new(const rill_config_t *config, rd_kafka_type_t type,
                              rill_error_t **error)
{
    g_autofree char *client_id = rill__kafka_client_id(config, "admin", -1);
    rd_kafka_conf_t *conf = rill__kafka_conf_new(config, RILL__CLIENT_ADMIN, client_id, error);
    if (!conf)
        return NULL;
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (!rk) {
        rd_kafka_conf_destroy(conf);
        rill_error_set(error, RILL_ERR_KAFKA, "cannot create the admin client: %s", errstr);
    }
    return rk;
}

static rill_err_t partitions_with(rd_kafka_t *rk, const char *const *topics, int n,
                                  int32_t *counts, int timeout_ms, rill_error_t **error)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, timeout_ms);
    if (err) {
        char servers[512] = "";
        size_t size = sizeof(servers);
        rd_kafka_conf_get(rd_kafka_conf(rk), "bootstrap.servers", servers, &size);
        return rill_error_set_full(error, RILL_ERR_KAFKA, err, RILL_ERROR_RETRIABLE,
                                   "cannot read the cluster's metadata from %s within %d ms: %s",
                                   servers, timeout_ms, rd_kafka_err2str(err));
    }
    for (int i = 0; i < n; i++) {
        counts[i] = -1;
        for (int t = 0; t < md->topic_cnt; t++) {
            if (strcmp(md->topics[t].topic, topics[i]) == 0 && !md->topics[t].err) {
                counts[i] = md->topics[t].partition_cnt;
                break;
            }
        }
    }
    rd_kafka_metadata_destroy(md);
    return RILL_OK;
}

rill_err_t rill__kafka_topic_partitions(const rill_config_t *config, const char *const *topics,
                                        int n, int32_t *counts, int timeout_ms,
                                        rill_error_t **error)
{
    rd_kafka_t *rk = client_new(config, RD_KAFKA_PRODUCER, error);
    if (!rk)
        return RILL_ERR_KAFKA;
    rill_err_t rc = partitions_with(rk, topics, n, counts, timeout_ms, error);
    rd_kafka_destroy(rk);
    return rc;
}

rill_err_t rill__kafka_create_topics(const rill_config_t *config, const char *const *topics,
                                     const int32_t *partitions,
                                     const char *const *const *topic_configs, int n,
                                     int replication_factor, int timeout_ms,
                                     rill_error_t **error)
{
    if (n == 0)
        return RILL_OK;
    rd_kafka_t *rk = client_new(config, RD_KAFKA_PRODUCER, error);
    if (!rk)
        return RILL_ERR_KAFKA;

    rill_err_t rc = RILL_OK;
    g_autofree int32_t *have = g_new(int32_t, n);
    rc = partitions_with(rk, topics, n, have, timeout_ms, error);
    GPtrArray *newtopics = g_ptr_array_new_with_free_func((GDestroyNotify)rd_kafka_NewTopic_destroy);
    GArray *wanted = g_array_new(FALSE, FALSE, sizeof(int));
    for (int i = 0; !rc && i < n; i++) {
        if (have[i] == partitions[i])
            continue;
        if (have[i] >= 0) {
            rc = rill_error_set(error, RILL_ERR_INVALID_STATE,
                                "internal topic %s has %d partitions, but its source topics have "
                                "%d: delete it (it is rebuilt) or reset the application",
                                topics[i], have[i], partitions[i]);
            break;
        }
        char errstr[512];
        rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topics[i], partitions[i],
                                                        replication_factor, errstr, sizeof(errstr));
        if (!nt) {
            rc = rill_error_set(error, RILL_ERR_INVALID_ARG, "topic %s: %s", topics[i], errstr);
            break;
        }
        const char *const *cfg = topic_configs ? topic_configs[i] : NULL;
        for (int c = 0; cfg && cfg[c] && cfg[c + 1]; c += 2)
            rd_kafka_NewTopic_set_config(nt, cfg[c], cfg[c + 1]);
        g_ptr_array_add(newtopics, nt);
        g_array_append_val(wanted, i);
    }

    if (!rc && newtopics->len) {
        /* The admin request's bound: the admin client's socket.timeout.ms
         * when set, else timeout_ms. */
        const char *sto = rill__config_client_value(config, RILL__CLIENT_ADMIN, "socket.timeout.ms");
        int op_timeout = sto ? atoi(sto) : timeout_ms;
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
        rd_kafka_AdminOptions_set_request_timeout(opts, op_timeout, NULL, 0);
        rd_kafka_CreateTopics(rk, (rd_kafka_NewTopic_t **)newtopics->pdata, newtopics->len, opts, q);
        rd_kafka_event_t *ev = rd_kafka_queue_poll(q, op_timeout + 1000);
        GString *why = g_string_new(NULL);
        if (!ev) {
            g_string_printf(why, "no answer within %d ms", op_timeout);
        } else if (rd_kafka_event_error(ev)) {
            g_string_printf(why, "%s", rd_kafka_event_error_string(ev));
        } else {
            const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
            size_t cnt = 0;
            const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &cnt);
            for (size_t i = 0; i < cnt && why->len == 0; i++) {
                rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR ||
                    err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
                    continue;
                const char *msg = rd_kafka_topic_result_error_string(results[i]);
                g_string_printf(why, "%s: %s", rd_kafka_topic_result_name(results[i]),
                                msg ? msg : rd_kafka_err2str(err));
            }
        }
        if (ev)
            rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        if (why->len) {
            /* The cluster may not serve CreateTopics (librdkafka's mock
             * does not): fine if the topics are there all the same. */
            rc = partitions_with(rk, topics, n, have, timeout_ms, error);
            for (guint w = 0; !rc && w < wanted->len; w++) {
                int i = g_array_index(wanted, int, w);
                if (have[i] != partitions[i])
                    rc = rill_error_set(error, RILL_ERR_KAFKA,
                                        "cannot create internal topic %s with %d partitions (%s): "
                                        "create it before starting the app",
                                        topics[i], partitions[i], why->str);
            }
        }
        g_string_free(why, TRUE);
    }
    g_array_free(wanted, TRUE);
    g_ptr_array_free(newtopics, TRUE);
    rd_kafka_destroy(rk);
    return rc;
}
