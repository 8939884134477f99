/* topic-config.c: topic-level configs: the table of names Kafka clients may
 * set, their validation, the effective values (override, else the broker
 * default they derive from), and the rb_log_config_t a topic's logs get.
 *
 * A topic config with a broker counterpart (retention.ms <- log.retention.ms)
 * takes its default from the broker config, so DescribeConfigs reports the
 * same value the log uses. Configs that rill-broker accepts but that have no
 * effect on a single node (min.insync.replicas, the replication throttles,
 * ...) are validated and stored, so that tools that set them (Kafka Streams
 * sets several) work unchanged. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"

const rb_topic_config_def_t rb__topic_configs[] = {
    {"cleanup.policy", "log.cleanup.policy", NULL, RB_CT_LIST,
     "delete and/or compact: how old segments are discarded"},
    {"compression.type", NULL, "producer", RB_CT_STRING,
     "accepted; batches are stored as the producer sent them"},
    {"delete.retention.ms", "log.cleaner.delete.retention.ms", NULL, RB_CT_LONG,
     "how long tombstones are kept on compacted topics"},
    {"file.delete.delay.ms", NULL, "60000", RB_CT_LONG, "accepted, no effect"},
    {"flush.messages", "log.flush.interval.messages", NULL, RB_CT_LONG,
     "fsync after this many messages"},
    {"flush.ms", "log.flush.interval.ms", NULL, RB_CT_LONG,
     "fsync when the oldest unflushed write is this old"},
    {"index.interval.bytes", "log.index.interval.bytes", NULL, RB_CT_INT,
     "bytes between offset index entries"},
    {"max.compaction.lag.ms", NULL, "9223372036854775807", RB_CT_LONG, "accepted"},
    {"max.message.bytes", "message.max.bytes", NULL, RB_CT_INT, "largest record batch accepted"},
    {"message.downconversion.enable", NULL, "true", RB_CT_BOOLEAN, "accepted, no effect"},
    {"message.timestamp.difference.max.ms", NULL, "9223372036854775807", RB_CT_LONG,
     "accepted, no effect"},
    {"message.timestamp.type", "log.message.timestamp.type", NULL, RB_CT_STRING,
     "CreateTime or LogAppendTime"},
    {"min.cleanable.dirty.ratio", NULL, "0.5", RB_CT_DOUBLE,
     "compacted topics: share of new sealed bytes that starts a cleaner pass"},
    {"min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", NULL, RB_CT_LONG,
     "compacted topics: records younger than this are not compacted"},
    {"min.insync.replicas", "min.insync.replicas", NULL, RB_CT_INT,
     "accepted; a single node is always in sync"},
    {"preallocate", NULL, "false", RB_CT_BOOLEAN, "accepted, no effect"},
    {"retention.bytes", "log.retention.bytes", NULL, RB_CT_LONG,
     "partition size above which old segments are deleted (-1: none)"},
    {"retention.ms", "log.retention.ms", NULL, RB_CT_LONG,
     "age above which old segments are deleted (-1: none)"},
    {"segment.bytes", "log.segment.bytes", NULL, RB_CT_INT, "segment file size"},
    {"segment.index.bytes", NULL, "10485760", RB_CT_INT, "accepted, no effect"},
    {"segment.jitter.ms", NULL, "0", RB_CT_LONG, "accepted, no effect"},
    {"segment.ms", "log.roll.ms", NULL, RB_CT_LONG, "age at which a segment is rolled"},
    {"unclean.leader.election.enable", NULL, "false", RB_CT_BOOLEAN, "accepted, no effect"},
    {"leader.replication.throttled.replicas", NULL, "", RB_CT_LIST, "accepted, no effect"},
    {"follower.replication.throttled.replicas", NULL, "", RB_CT_LIST, "accepted, no effect"},
};
const size_t rb__n_topic_configs = G_N_ELEMENTS(rb__topic_configs);

const char *const rb__broker_config_keys[] = {
    "auto.create.topics.enable",
    "cluster.id",
    "default.replication.factor",
    "delete.topic.enable",
    "log.cleaner.dedupe.buffer.size",
    "log.cleaner.delete.retention.ms",
    "log.cleaner.min.compaction.lag.ms",
    "log.cleanup.policy",
    "log.dirs",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.flush.on.ack",
    "log.index.interval.bytes",
    "log.message.timestamp.type",
    "log.retention.bytes",
    "log.retention.check.interval.ms",
    "log.retention.ms",
    "log.roll.ms",
    "log.segment.bytes",
    "message.max.bytes",
    "min.insync.replicas",
    "node.id",
    "num.partitions",
    NULL,
};

const rb_topic_config_def_t *rb__topic_config_def(const char *name)
{
    for (size_t i = 0; i < rb__n_topic_configs; i++)
        if (strcmp(rb__topic_configs[i].name, name) == 0)
            return &rb__topic_configs[i];
    return NULL;
}

static bool parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static bool one_of(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return true;
    return false;
}

bool rb__topic_config_check(const char *name, const char *value, char **errmsg)
{
    const rb_topic_config_def_t *def = rb__topic_config_def(name);
    if (!def) {
        *errmsg = g_strdup_printf("unknown topic config '%s'", name);
        return false;
    }
    if (!value) {
        *errmsg = g_strdup_printf("config '%s' needs a value", name);
        return false;
    }
    int64_t n;
    switch (def->type) {
    case RB_CT_LONG:
    case RB_CT_INT:
        if (!parse_i64(value, &n) || (def->type == RB_CT_INT && (n < INT32_MIN || n > INT32_MAX))) {
            *errmsg = g_strdup_printf("config '%s': '%s' is not a number", name, value);
            return false;
        }
        if (n < -1 || (n == -1 && strcmp(name, "retention.ms") != 0 &&
                       strcmp(name, "retention.bytes") != 0)) {
            *errmsg = g_strdup_printf("config '%s': %s is out of range", name, value);
            return false;
        }
        if ((strcmp(name, "segment.bytes") == 0 && n < 14) ||
            (strcmp(name, "max.message.bytes") == 0 && n < 0) ||
            (strcmp(name, "min.insync.replicas") == 0 && n < 1) ||
            (strcmp(name, "segment.ms") == 0 && n < 1)) {
            *errmsg = g_strdup_printf("config '%s': %s is out of range", name, value);
            return false;
        }
        return true;
    case RB_CT_BOOLEAN:
        if (g_ascii_strcasecmp(value, "true") != 0 && g_ascii_strcasecmp(value, "false") != 0) {
            *errmsg = g_strdup_printf("config '%s': '%s' is not true or false", name, value);
            return false;
        }
        return true;
    case RB_CT_DOUBLE: {
        char *end;
        double d = g_ascii_strtod(value, &end);
        if (*end || !*value || d < 0 || d > 1) {
            *errmsg = g_strdup_printf("config '%s': '%s' is not a ratio in [0, 1]", name, value);
            return false;
        }
        return true;
    }
    case RB_CT_LIST:
        if (strcmp(name, "cleanup.policy") == 0) {
            static const char *const ok[] = {"delete", "compact", NULL};
            g_auto(GStrv) items = g_strsplit(value, ",", -1);
            if (!items[0]) {
                *errmsg = g_strdup_printf("config '%s' may not be empty", name);
                return false;
            }
            for (char **i = items; *i; i++) {
                if (!one_of(g_strstrip(*i), ok)) {
                    *errmsg =
                        g_strdup_printf("config '%s': '%s' is not delete or compact", name, *i);
                    return false;
                }
            }
        }
        return true;
    case RB_CT_STRING:
        if (strcmp(name, "message.timestamp.type") == 0) {
            static const char *const ok[] = {"CreateTime", "LogAppendTime", NULL};
            if (!one_of(value, ok)) {
                *errmsg = g_strdup_printf("config '%s': '%s' is not CreateTime or LogAppendTime",
                                          name, value);
                return false;
            }
        } else if (strcmp(name, "compression.type") == 0) {
            static const char *const ok[] = {"producer", "uncompressed", "gzip", "snappy",
                                             "lz4",      "zstd",         NULL};
            if (!one_of(value, ok)) {
                *errmsg =
                    g_strdup_printf("config '%s': '%s' is not a compression type", name, value);
                return false;
            }
        }
        return true;
    }
    return true;
}

static char *broker_value(const rb_server_t *server, const char *key)
{
    /* strings as set; numbers and bools read typed and printed canonically */
    if (strcmp(key, "log.cleanup.policy") == 0 || strcmp(key, "log.message.timestamp.type") == 0)
        return g_strdup(rb_config_str(server->config, key));
    if (strcmp(key, "auto.create.topics.enable") == 0 || strcmp(key, "delete.topic.enable") == 0)
        return g_strdup(rb_config_bool(server->config, key) ? "true" : "false");
    return g_strdup_printf("%" G_GINT64_FORMAT, rb_config_int(server->config, key));
}

char *rb__topic_config_value(const rb_server_t *server, const rb_topic_t *topic,
                             const rb_topic_config_def_t *def, int8_t *source)
{
    const char *v = topic ? g_hash_table_lookup(topic->overrides, def->name) : NULL;
    if (v) {
        *source = RB_CS_DYNAMIC_TOPIC;
        return g_strdup(v);
    }
    if (def->broker_key) {
        *source = rb_config_is_default(server->config, def->broker_key) ? RB_CS_DEFAULT
                                                                        : RB_CS_STATIC_BROKER;
        return broker_value(server, def->broker_key);
    }
    *source = RB_CS_DEFAULT;
    return g_strdup(def->fallback);
}

static int64_t eff_int(const rb_server_t *server, GHashTable *overrides, const char *name)
{
    const rb_topic_config_def_t *def = rb__topic_config_def(name);
    const char *v = overrides ? g_hash_table_lookup(overrides, name) : NULL;
    int64_t n;
    if (v && parse_i64(v, &n))
        return n;
    return rb_config_int(server->config, def->broker_key);
}

static const char *eff_str(const rb_server_t *server, GHashTable *overrides, const char *name)
{
    const rb_topic_config_def_t *def = rb__topic_config_def(name);
    const char *v = overrides ? g_hash_table_lookup(overrides, name) : NULL;
    return v ? v : rb_config_str(server->config, def->broker_key);
}

void rb__topic_log_config(const rb_server_t *server, GHashTable *overrides, rb_log_config_t *out)
{
    memset(out, 0, sizeof(*out));
    out->segment_bytes = eff_int(server, overrides, "segment.bytes");
    out->segment_ms = eff_int(server, overrides, "segment.ms");
    out->retention_bytes = eff_int(server, overrides, "retention.bytes");
    out->retention_ms = eff_int(server, overrides, "retention.ms");
    out->flush_messages = eff_int(server, overrides, "flush.messages");
    out->flush_ms = eff_int(server, overrides, "flush.ms");
    /* flush.messages=1 is Kafka's way of saying "fsync every write": the
     * append then returns (and the producer is answered) after the fsync */
    out->fsync_on_append = out->flush_messages == 1;
    out->index_interval_bytes = (int32_t)eff_int(server, overrides, "index.interval.bytes");
    out->max_message_bytes = (int32_t)eff_int(server, overrides, "max.message.bytes");
    out->timestamp_log_append =
        strcmp(eff_str(server, overrides, "message.timestamp.type"), "LogAppendTime") == 0;
    const char *policy = eff_str(server, overrides, "cleanup.policy");
    out->compact = strstr(policy, "compact") != NULL;
    out->delete_ = strstr(policy, "delete") != NULL;
    out->delete_retention_ms = eff_int(server, overrides, "delete.retention.ms");
    const char *ratio = overrides ? g_hash_table_lookup(overrides, "min.cleanable.dirty.ratio") : NULL;
    out->min_cleanable_dirty_ratio = ratio ? g_ascii_strtod(ratio, NULL) : 0.5;
    out->min_compaction_lag_ms = eff_int(server, overrides, "min.compaction.lag.ms");
}
