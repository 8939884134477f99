/* conf.c: librdkafka configurations of rill's clients, and the checks of
 * pass-through keys.
 *
 * Design: a client's rd_kafka_conf_t is built in three layers, later ones
 * winning: rill's defaults for stream processing (see kafka.h), then the
 * user's unprefixed librdkafka keys, then the user's `<kind>.` keys; the
 * values rill must own (group.id, enable.auto.commit, bootstrap.servers)
 * are set last. */
#include <string.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

#include "common/log.h"
#include "runtime/kafka/kafka-private.h"

rill_err_t rill__kafka_conf_check(rill__client_kind_t kind, const char *key, const char *value,
                                  rill_error_t **error)
{
    (void)kind; /* librdkafka's properties are the same table for every client kind */
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr));
    rd_kafka_conf_destroy(conf);
    if (res != RD_KAFKA_CONF_OK)
        return rill_error_set(error, RILL_ERR_INVALID_CONFIG, "librdkafka refuses %s=%s: %s", key,
                              value, errstr);
    return RILL_OK;
}

bool rill__kafka_conf_known(const char *key)
{
    char errstr[512];
    char buf[1024];
    size_t size = sizeof(buf);
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_res_t res = rd_kafka_conf_get(conf, key, buf, &size);
    rd_kafka_conf_destroy(conf);
    (void)errstr;
    return res != RD_KAFKA_CONF_UNKNOWN;
}

typedef struct apply_ctx {
    rd_kafka_conf_t *conf;
    GString *failure;
} apply_ctx_t;

static void apply_one(void *ud, const char *key, const char *value)
{
    apply_ctx_t *ctx = ud;
    char errstr[512];
    if (rd_kafka_conf_set(ctx->conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK &&
        ctx->failure->len == 0)
        g_string_printf(ctx->failure, "%s=%s: %s", key, value, errstr);
}

static rill_err_t set(rd_kafka_conf_t *conf, const char *key, const char *value,
                      rill_error_t **error)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return rill_error_set(error, RILL_ERR_INVALID_CONFIG, "librdkafka refuses %s=%s: %s", key,
                              value, errstr);
    return RILL_OK;
}

/* Sets key to value unless the user configured it for this client kind. */
static rill_err_t set_default(const rill_config_t *config, rill__client_kind_t kind,
                              rd_kafka_conf_t *conf, const char *key, const char *value,
                              rill_error_t **error)
{
    if (rill__config_client_value(config, kind, key))
        return RILL_OK;
    return set(conf, key, value, error);
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    /* syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug */
    rill_log_level_t lvl = level <= 3   ? RILL_LOG_LVL_ERROR
                           : level == 4 ? RILL_LOG_LVL_WARN
                           : level <= 6 ? RILL_LOG_LVL_INFO
                                        : RILL_LOG_LVL_DEBUG;
    rill__log(lvl, "runtime.kafka", "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

rd_kafka_conf_t *rill__kafka_conf_new(const rill_config_t *config, rill__client_kind_t kind,
                                      const char *client_id, rill_error_t **error)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rill_err_t rc = RILL_OK;

    /* 1. rill's defaults for stream processing */
    if (kind == RILL__CLIENT_CONSUMER) {
        int64_t threads = rill__config_int(config, RILL_CONFIG_NUM_STREAM_THREADS);
        int64_t kbytes = rill__config_int(config, RILL_CONFIG_INPUT_BUFFER_MAX_BYTES) / 1024 /
                         (threads > 0 ? threads : 1);
        if (kbytes < 1024)
            kbytes = 1024;
        if (kbytes > 2097151)
            kbytes = 2097151;
        char kb[32];
        g_snprintf(kb, sizeof(kb), "%" G_GINT64_FORMAT, kbytes);
        if (!rc)
            rc = set_default(config, kind, conf, "auto.offset.reset", "earliest", error);
        if (!rc)
            rc = set(conf, "partition.assignment.strategy", "range", error);
        /* librdkafka 2.0 stalls ~0.5 s whenever a partition's prefetch queue
         * reaches queued.min.messages; bound the queue by bytes instead. */
        if (!rc)
            rc = set_default(config, kind, conf, "queued.min.messages", "10000000", error);
        if (!rc)
            rc = set_default(config, kind, conf, "queued.max.messages.kbytes", kb, error);
        if (!rc)
            rc = set_default(config, kind, conf, "fetch.wait.max.ms", "100", error);
        if (!rc)
            rc = set_default(config, kind, conf, "session.timeout.ms", "45000", error);
    } else if (kind == RILL__CLIENT_PRODUCER) {
        if (!rc)
            rc = set_default(config, kind, conf, "partitioner", "murmur2_random", error);
        if (!rc)
            rc = set_default(config, kind, conf, "linger.ms", "5", error);
        if (!rc)
            rc = set_default(config, kind, conf, "acks", "all", error);
        if (!rc)
            rc = set_default(config, kind, conf, "enable.idempotence", "true", error);
        if (!rc)
            rc = set_default(config, kind, conf, "message.timeout.ms", "120000", error);
        if (!rc)
            rc = set_default(config, kind, conf, "queue.buffering.max.kbytes", "262144", error);
        if (!rc)
            rc = set_default(config, kind, conf, "queue.buffering.max.messages", "1000000", error);
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }

    /* 2 and 3. the user's keys, unprefixed then prefixed */
    apply_ctx_t ctx = {conf, g_string_new(NULL)};
    rill__config_foreach_client(config, kind, apply_one, &ctx);
    if (ctx.failure->len) {
        rill_error_set(error, RILL_ERR_INVALID_CONFIG, "librdkafka refuses %s", ctx.failure->str);
        g_string_free(ctx.failure, TRUE);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    g_string_free(ctx.failure, TRUE);

    /* 4. what rill owns */
    rc = set(conf, "bootstrap.servers", rill_config_get(config, RILL_CONFIG_BOOTSTRAP_SERVERS),
             error);
    if (!rc && client_id)
        rc = set(conf, "client.id", client_id, error);
    if (!rc && kind == RILL__CLIENT_CONSUMER) {
        rc = set(conf, "group.id", rill_config_get(config, RILL_CONFIG_APPLICATION_ID), error);
        if (!rc)
            rc = set(conf, "enable.auto.commit", "false", error);
        if (!rc)
            rc = set(conf, "enable.auto.offset.store", "false", error);
    }
    if (rc) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

char *rill__kafka_client_id(const rill_config_t *config, const char *role, int index)
{
    const char *base = rill_config_get(config, RILL_CONFIG_CLIENT_ID);
    if (!base)
        base = rill_config_get(config, RILL_CONFIG_APPLICATION_ID);
    if (index < 0)
        return g_strdup_printf("%s-%s", base, role);
    /* stream threads' consumers carry application.server to the other
     * instances through the group coordinator (runtime/query.c) */
    const char *server = rill_config_get(config, RILL_CONFIG_APPLICATION_SERVER);
    if (server != NULL && *server != '\0' && strcmp(role, "consumer") == 0)
        return g_strdup_printf("%s-StreamThread-%d-%s@%s", base, index + 1, role, server);
    return g_strdup_printf("%s-StreamThread-%d-%s", base, index + 1, role);
}
