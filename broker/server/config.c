/* config.c: rill-broker's configuration table, server.properties parser and flags.
 *
 * Design: one static table lists every key the broker accepts, with Apache
 * Kafka's name, a type, a default (as text, NULL = "not set"), bounds and a
 * description; --help prints it and the docs are generated from it. A config
 * is an array of values parallel to the table, so a lookup by name is a
 * binary search over the sorted table (asserted at first use).
 *
 * Values come, in increasing priority, from the defaults, the properties file,
 * then --key=value flags; rb_config_set() validates each value when it is set,
 * so a bad value is reported with the key and where it came from.
 *
 * Kafka's families of keys resolve here, once, so readers ask for one name:
 *   log.retention.ms   <- log.retention.minutes <- log.retention.hours
 *   log.roll.ms        <- log.roll.hours
 *   log.dirs           <- log.dir
 *   node.id            <- broker.id
 * e.g. rb_config_int(config, "log.retention.ms") is the effective retention
 * in ms (-1 = unlimited) whichever of the three keys was set.
 *
 * Keys marked "compat" are accepted so that a stock Kafka server.properties
 * loads, but have no effect on a single-node broker.
 */
#include <config.h> /* autoconf's: "config.h" here would be broker/server/config.h */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/server/config.h"
#include "common/log.h"

typedef enum cfg_type {
    CFG_INT,  /* int32 */
    CFG_LONG, /* int64 */
    CFG_BOOL,
    CFG_STRING,
    CFG_LIST,     /* comma-separated; elements checked against choices if any */
    CFG_ENUM,     /* one of choices (case-sensitive, like Kafka) */
    CFG_LISTENER, /* NAME://host:port */
    CFG_LEVEL,    /* a log level */
} cfg_type_t;

enum {
    F_RILL = 1 << 0,   /* rill-only key, not Kafka's */
    F_COMPAT = 1 << 1, /* accepted for compatibility, no effect */
};

typedef struct cfg_def {
    const char *name;
    cfg_type_t type;
    const char *def; /* default as text, NULL = not set (derived or none) */
    int64_t min;
    int64_t max;
    const char *choices; /* "a|b|c" for CFG_ENUM and CFG_LIST */
    unsigned flags;
    const char *doc;
} cfg_def_t;

#define I32 INT32_MAX
#define I64 INT64_MAX

/* Sorted by name (asserted): lookups are binary searches. */
static const cfg_def_t defs[] = {
    {"advertised.listeners", CFG_LISTENER, NULL, 0, 0, NULL, 0,
     "The address Metadata gives clients, PLAINTEXT://host:port. Default: the listener's; "
     "a port of 0 means the port actually bound, an empty or 0.0.0.0 host the machine's "
     "host name."},
    {"auto.create.topics.enable", CFG_BOOL, "true", 0, 0, NULL, 0,
     "Create a topic when a client asks for its metadata or produces to it."},
    {"broker.id", CFG_INT, NULL, -1, I32, NULL, 0,
     "Synonym of node.id (the ZooKeeper-era name); node.id wins when both are set."},
    {"cluster.id", CFG_STRING, "rill-single-node", 0, 0, NULL, F_RILL,
     "The cluster id Metadata and DescribeCluster report (Kafka keeps it in "
     "meta.properties)."},
    {"controller.listener.names", CFG_STRING, NULL, 0, 0, NULL, F_COMPAT, "KRaft setting."},
    {"controller.quorum.voters", CFG_STRING, NULL, 0, 0, NULL, F_COMPAT, "KRaft setting."},
    {"default.replication.factor", CFG_INT, "1", 1, 1, NULL, 0,
     "Replication factor of auto-created topics; a single node has exactly one replica."},
    {"delete.topic.enable", CFG_BOOL, "true", 0, 0, NULL, 0,
     "Allow DeleteTopics; when false it fails with TOPIC_DELETION_DISABLED."},
    {"group.initial.rebalance.delay.ms", CFG_INT, "3000", 0, I32, NULL, 0,
     "How long the first rebalance of an empty group waits for more members."},
    {"group.max.session.timeout.ms", CFG_INT, "1800000", 1, I32, NULL, 0,
     "The largest session timeout a group member may ask for."},
    {"group.max.size", CFG_INT, "2147483647", 1, I32, NULL, 0,
     "The most members a consumer group may have."},
    {"group.min.session.timeout.ms", CFG_INT, "6000", 0, I32, NULL, 0,
     "The smallest session timeout a group member may ask for."},
    {"inter.broker.listener.name", CFG_STRING, NULL, 0, 0, NULL, F_COMPAT, "Multi-broker setting."},
    {"listener.security.protocol.map", CFG_STRING, NULL, 0, 0, NULL, F_COMPAT,
     "Listener names other than PLAINTEXT are not supported yet."},
    {"listeners", CFG_LISTENER, "PLAINTEXT://127.0.0.1:9092", 0, 0, NULL, 0,
     "The one listener, PLAINTEXT://host:port. An empty host or 0.0.0.0 listens on every "
     "address, port 0 on a free port (see port.file). Kafka's default listens on every "
     "address; rill-broker's on loopback only."},
    {"log.cleaner.backoff.ms", CFG_LONG, "15000", 0, I64, NULL, 0,
     "How long the cleaner sleeps when there is nothing to compact."},
    {"log.cleaner.dedupe.buffer.size", CFG_LONG, "33554432", 1, I64, NULL, 0,
     "Memory of the cleaner's key map (24 bytes a key, filled to 90%): a pass maps at most "
     "that many distinct keys; a partition with more is compacted over several passes."},
    {"log.cleaner.delete.retention.ms", CFG_LONG, "86400000", 0, I64, NULL, 0,
     "How long tombstones are kept in compacted topics (topic: delete.retention.ms)."},
    {"log.cleaner.enable", CFG_BOOL, "true", 0, 0, NULL, 0,
     "Run the log cleaner for topics with cleanup.policy=compact."},
    {"log.cleaner.min.compaction.lag.ms", CFG_LONG, "0", 0, I64, NULL, 0,
     "Records younger than this are never compacted (topic: min.compaction.lag.ms)."},
    {"log.cleanup.policy", CFG_LIST, "delete", 0, 0, "delete|compact", 0,
     "Default cleanup.policy of topics: delete (retention), compact, or both."},
    {"log.dir", CFG_STRING, "/tmp/rill-broker-logs", 0, 0, NULL, 0,
     "The data directory, used when log.dirs is not set."},
    {"log.dirs", CFG_STRING, NULL, 0, 0, NULL, 0,
     "The data directory (one: rill-broker does not spread partitions over disks). "
     "Default: log.dir."},
    {"log.flush.interval.messages", CFG_LONG, "9223372036854775807", 1, I64, NULL, 0,
     "fsync a partition after this many records (topic: flush.messages)."},
    {"log.flush.interval.ms", CFG_LONG, "1000", 0, I64, NULL, 0,
     "fsync a partition (on a background thread) when its oldest unflushed write is "
     "this old (topic: flush.ms). Kafka never fsyncs by default and relies on replicas; "
     "a single node has none."},
    {"log.flush.on.ack", CFG_BOOL, "false", 0, 0, NULL, F_RILL,
     "fsync the partition before answering an acks=all (-1) Produce, so that an "
     "acknowledged record survives a power loss, not only a crash of the broker. "
     "Slower; off by default."},
    {"log.index.interval.bytes", CFG_INT, "4096", 0, I32, NULL, 0,
     "Bytes of batches between two offset index entries (topic: index.interval.bytes)."},
    {"log.level", CFG_LEVEL, "info", 0, 0, NULL, F_RILL,
     "Log level of the broker's stderr lines: error, warn, info, debug or trace "
     "($RILL_LOG_LEVEL when not set)."},
    {"log.message.timestamp.type", CFG_ENUM, "CreateTime", 0, 0, "CreateTime|LogAppendTime", 0,
     "Keep the producer's timestamps, or stamp batches with the broker's time."},
    {"log.retention.bytes", CFG_LONG, "-1", -1, I64, NULL, 0,
     "Delete old segments while a partition is larger than this; -1: no size limit."},
    {"log.retention.check.interval.ms", CFG_LONG, "300000", 1, I64, NULL, 0,
     "How often retention (time and size) and segment rolling are checked."},
    {"log.retention.hours", CFG_INT, "168", -1, I32, NULL, 0,
     "Retention time in hours, when neither log.retention.ms nor .minutes is set."},
    {"log.retention.minutes", CFG_INT, NULL, -1, I32, NULL, 0,
     "Retention time in minutes, when log.retention.ms is not set."},
    {"log.retention.ms", CFG_LONG, NULL, -1, I64, NULL, 0,
     "Retention time in ms; -1: no time limit. Precedence: ms, then minutes, then hours."},
    {"log.roll.hours", CFG_INT, "168", 1, I32, NULL, 0,
     "Roll a new segment after this many hours, when log.roll.ms is not set."},
    {"log.roll.ms", CFG_LONG, NULL, 1, I64, NULL, 0,
     "Roll a new segment when the active one is this old (topic: segment.ms)."},
    {"log.segment.bytes", CFG_INT, "1073741824", 14, I32, NULL, 0,
     "Roll a new segment when the active one would grow past this size (topic: "
     "segment.bytes)."},
    {"message.max.bytes", CFG_INT, "1048588", 0, I32, NULL, 0,
     "The largest record batch a topic accepts (topic: max.message.bytes)."},
    {"metrics.listener", CFG_STRING, NULL, 0, 0, NULL, F_RILL,
     "Serve Prometheus metrics over HTTP at http://HOST:PORT/metrics (\"HOST:PORT\" or "
     "\"http://HOST:PORT\"; port 0 picks a free port, see metrics.port.file). Unset: no "
     "metrics endpoint. Metrics are listed in the README."},
    {"metrics.port.file", CFG_STRING, NULL, 0, 0, NULL, F_RILL,
     "Once the metrics endpoint listens, write its bound port (useful with port 0) to this "
     "file."},
    {"min.insync.replicas", CFG_INT, "1", 1, I32, NULL, F_COMPAT,
     "A single node is always in sync."},
    {"node.id", CFG_INT, NULL, 0, I32, NULL, 0,
     "This broker's id in Metadata. Default: broker.id if set, else 0."},
    {"num.io.threads", CFG_INT, "8", 1, I32, NULL, F_COMPAT, "rill-broker has one event loop."},
    {"num.network.threads", CFG_INT, "3", 1, I32, NULL, F_COMPAT,
     "rill-broker has one event loop."},
    {"num.partitions", CFG_INT, "1", 1, I32, NULL, 0,
     "Partitions of auto-created topics and of CreateTopics asking for the default (-1)."},
    {"num.recovery.threads.per.data.dir", CFG_INT, "1", 1, I32, NULL, F_COMPAT,
     "Logs are recovered one after the other."},
    {"offsets.retention.minutes", CFG_INT, "10080", 1, I32, NULL, 0,
     "Committed offsets of an empty group are deleted after this long."},
    {"offsets.topic.num.partitions", CFG_INT, "50", 1, I32, NULL, 0,
     "Partitions of the internal offsets log (__consumer_offsets)."},
    {"offsets.topic.replication.factor", CFG_INT, "3", 1, I32, NULL, F_COMPAT,
     "A single node has one replica of everything."},
    {"port.file", CFG_STRING, NULL, 0, 0, NULL, F_RILL,
     "Once listening, write the bound port (useful with port 0) to this file."},
    {"process.roles", CFG_STRING, NULL, 0, 0, NULL, F_COMPAT, "KRaft setting."},
    {"socket.receive.buffer.bytes", CFG_INT, "102400", -1, I32, NULL, F_COMPAT,
     "rill-broker leaves socket buffer sizes to the kernel's autotuning."},
    {"socket.request.max.bytes", CFG_INT, "104857600", 1, I32, NULL, 0,
     "The largest request accepted; a larger (or negative) size closes the connection."},
    {"socket.send.buffer.bytes", CFG_INT, "102400", -1, I32, NULL, F_COMPAT,
     "rill-broker leaves socket buffer sizes to the kernel's autotuning."},
    {"transaction.abort.timed.out.transaction.cleanup.interval.ms", CFG_INT, "10000", 1, I32, NULL,
     0, "How often transactions past their timeout are looked for and aborted."},
    {"transaction.max.timeout.ms", CFG_INT, "900000", 1, I32, NULL, 0,
     "The largest transaction.timeout.ms a producer may ask for."},
    {"transaction.state.log.min.isr", CFG_INT, "2", 1, I32, NULL, F_COMPAT,
     "A single node has one replica of everything."},
    {"transaction.state.log.num.partitions", CFG_INT, "50", 1, I32, NULL, 0,
     "Partitions of the internal transaction log (__transaction_state)."},
    {"transaction.state.log.replication.factor", CFG_INT, "3", 1, I32, NULL, F_COMPAT,
     "A single node has one replica of everything."},
    {"transactional.id.expiration.ms", CFG_INT, "604800000", 1, I32, NULL, 0,
     "A transactional id unused for this long is forgotten."},
    {"zookeeper.connect", CFG_STRING, NULL, 0, 0, NULL, F_COMPAT,
     "rill-broker needs no ZooKeeper."},
    {"zookeeper.connection.timeout.ms", CFG_INT, NULL, 0, I32, NULL, F_COMPAT,
     "rill-broker needs no ZooKeeper."},
};

#define NDEFS G_N_ELEMENTS(defs)

typedef struct cfg_value {
    char *text;  /* NULL = not set */
    int64_t num; /* parsed CFG_INT/LONG/BOOL */
    bool set;    /* given explicitly (file or flag) */
} cfg_value_t;

struct rb_config {
    cfg_value_t values[NDEFS];
};

/* ---- the table ------------------------------------------------------------------ */

static void check_sorted(void)
{
    static gsize done = 0;
    if (g_once_init_enter(&done)) {
        for (size_t i = 1; i < NDEFS; i++)
            g_assert(strcmp(defs[i - 1].name, defs[i].name) < 0);
        g_once_init_leave(&done, 1);
    }
}

static int cmp_def(const void *key, const void *elem)
{
    return strcmp(key, ((const cfg_def_t *)elem)->name);
}

static int def_index(const char *name)
{
    check_sorted();
    const cfg_def_t *def = bsearch(name, defs, NDEFS, sizeof(defs[0]), cmp_def);
    return def ? (int)(def - defs) : -1;
}

static int must_index(const char *name)
{
    int i = def_index(name);
    if (i < 0)
        g_error("rb_config: '%s' is not in the configuration table", name);
    return i;
}

/* ---- values ------------------------------------------------------------------------- */

static bool parse_int64(const char *s, int64_t *out)
{
    if (s == NULL || *s == '\0')
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

static bool choice_ok(const char *choices, const char *value)
{
    g_auto(GStrv) opts = g_strsplit(choices, "|", -1);
    for (char **o = opts; *o != NULL; o++) {
        if (strcmp(*o, value) == 0)
            return true;
    }
    return false;
}

bool rb_config_parse_listener(const char *value, char **host, int *port, char **errmsg)
{
    const char *sep = strstr(value, "://");
    if (sep == NULL) {
        *errmsg = g_strdup_printf("'%s' is not NAME://host:port", value);
        return false;
    }
    g_autofree char *name = g_strndup(value, (gsize)(sep - value));
    if (strcmp(name, "PLAINTEXT") != 0) {
        *errmsg = g_strdup_printf("listener '%s': only PLAINTEXT listeners are supported "
                                  "(one listener, no SSL/SASL yet)",
                                  value);
        return false;
    }
    const char *hp = sep + 3;
    if (strchr(hp, ',') != NULL) {
        *errmsg = g_strdup_printf("'%s': rill-broker has exactly one listener", value);
        return false;
    }
    const char *colon;
    g_autofree char *h = NULL;
    if (hp[0] == '[') { /* [IPv6]:port */
        const char *close = strchr(hp, ']');
        if (close == NULL || close[1] != ':') {
            *errmsg = g_strdup_printf("'%s' is not NAME://[ipv6]:port", value);
            return false;
        }
        h = g_strndup(hp + 1, (gsize)(close - hp - 1));
        colon = close + 1;
    } else {
        colon = strrchr(hp, ':');
        if (colon == NULL) {
            *errmsg = g_strdup_printf("'%s' has no port (NAME://host:port)", value);
            return false;
        }
        h = g_strndup(hp, (gsize)(colon - hp));
    }
    int64_t p;
    if (!parse_int64(colon + 1, &p) || p < 0 || p > 65535) {
        *errmsg = g_strdup_printf("'%s': the port must be a number from 0 to 65535", value);
        return false;
    }
    if (host != NULL)
        *host = g_steal_pointer(&h);
    if (port != NULL)
        *port = (int)p;
    return true;
}

/* Validates text for def; fills *num for numeric types. */
static bool validate(const cfg_def_t *def, const char *text, int64_t *num, char **errmsg)
{
    switch (def->type) {
    case CFG_INT:
    case CFG_LONG: {
        int64_t v;
        if (!parse_int64(text, &v) || v < def->min || v > def->max) {
            *errmsg = g_strdup_printf("invalid value '%s' for %s: expected an integer from "
                                      "%" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                                      text, def->name, def->min, def->max);
            return false;
        }
        *num = v;
        return true;
    }
    case CFG_BOOL:
        if (g_ascii_strcasecmp(text, "true") == 0) {
            *num = 1;
            return true;
        }
        if (g_ascii_strcasecmp(text, "false") == 0) {
            *num = 0;
            return true;
        }
        *errmsg =
            g_strdup_printf("invalid value '%s' for %s: expected true or false", text, def->name);
        return false;
    case CFG_STRING:
        return true;
    case CFG_ENUM:
        if (choice_ok(def->choices, text))
            return true;
        *errmsg = g_strdup_printf("invalid value '%s' for %s: expected one of %s", text, def->name,
                                  def->choices);
        return false;
    case CFG_LIST: {
        g_auto(GStrv) items = g_strsplit(text, ",", -1);
        int n = 0;
        for (char **item = items; *item != NULL; item++) {
            g_strstrip(*item);
            if (def->choices != NULL && !choice_ok(def->choices, *item)) {
                *errmsg = g_strdup_printf("invalid value '%s' for %s: each item must be one "
                                          "of %s",
                                          text, def->name, def->choices);
                return false;
            }
            n++;
        }
        if (n == 0 || (n == 1 && items[0][0] == '\0')) {
            *errmsg = g_strdup_printf("invalid value '' for %s: expected a list", def->name);
            return false;
        }
        return true;
    }
    case CFG_LISTENER: {
        g_autofree char *why = NULL;
        if (rb_config_parse_listener(text, NULL, NULL, &why))
            return true;
        *errmsg = g_strdup_printf("invalid value for %s: %s", def->name, why);
        return false;
    }
    case CFG_LEVEL:
        if (rill__log_level_parse(text) >= 0)
            return true;
        *errmsg = g_strdup_printf("invalid value '%s' for %s: expected error, warn, info, "
                                  "debug or trace",
                                  text, def->name);
        return false;
    }
    return false;
}

rb_config_t *rb_config_new_defaults(void)
{
    rb_config_t *config = g_new0(rb_config_t, 1);
    for (size_t i = 0; i < NDEFS; i++) {
        if (defs[i].def == NULL)
            continue;
        char *err = NULL;
        bool ok = validate(&defs[i], defs[i].def, &config->values[i].num, &err);
        if (!ok)
            g_error("rb_config: the default of %s is invalid: %s", defs[i].name, err);
        config->values[i].text = g_strdup(defs[i].def);
    }
    return config;
}

void rb_config_free(rb_config_t *config)
{
    if (config == NULL)
        return;
    for (size_t i = 0; i < NDEFS; i++)
        g_free(config->values[i].text);
    g_free(config);
}

bool rb_config_set(rb_config_t *config, const char *key, const char *value, char **errmsg)
{
    int i = def_index(key);
    if (i < 0) {
        *errmsg = g_strdup_printf("unknown configuration key '%s' (rill-broker --help lists "
                                  "them)",
                                  key);
        return false;
    }
    g_autofree char *text = g_strstrip(g_strdup(value));
    int64_t num = 0;
    if (!validate(&defs[i], text, &num, errmsg))
        return false;
    if (strcmp(key, "log.dirs") == 0 && strchr(text, ',') != NULL) {
        *errmsg = g_strdup_printf("invalid value '%s' for log.dirs: rill-broker uses one log "
                                  "directory",
                                  text);
        return false;
    }
    cfg_value_t *v = &config->values[i];
    g_free(v->text);
    v->text = g_steal_pointer(&text);
    v->num = num;
    v->set = true;
    return true;
}

/* ---- derived keys ---------------------------------------------------------------------- */

static const cfg_value_t *value_of(const rb_config_t *config, const char *key)
{
    return &config->values[must_index(key)];
}

int64_t rb_config_int(const rb_config_t *config, const char *key)
{
    int i = must_index(key);
    g_assert(defs[i].type == CFG_INT || defs[i].type == CFG_LONG || defs[i].type == CFG_BOOL);
    if (strcmp(key, "log.retention.ms") == 0) {
        const cfg_value_t *ms = &config->values[i];
        if (ms->set)
            return ms->num;
        const cfg_value_t *minutes = value_of(config, "log.retention.minutes");
        if (minutes->set)
            return minutes->num < 0 ? -1 : minutes->num * 60000;
        int64_t hours = value_of(config, "log.retention.hours")->num;
        return hours < 0 ? -1 : hours * 3600000;
    }
    if (strcmp(key, "log.roll.ms") == 0) {
        const cfg_value_t *ms = &config->values[i];
        if (ms->set)
            return ms->num;
        return value_of(config, "log.roll.hours")->num * 3600000;
    }
    if (strcmp(key, "node.id") == 0) {
        const cfg_value_t *id = &config->values[i];
        if (id->set)
            return id->num;
        const cfg_value_t *broker = value_of(config, "broker.id");
        return broker->set && broker->num >= 0 ? broker->num : 0;
    }
    return config->values[i].num;
}

bool rb_config_bool(const rb_config_t *config, const char *key)
{
    int i = must_index(key);
    g_assert(defs[i].type == CFG_BOOL);
    return config->values[i].num != 0;
}

const char *rb_config_str(const rb_config_t *config, const char *key)
{
    int i = must_index(key);
    if (strcmp(key, "log.dirs") == 0 && !config->values[i].set)
        return value_of(config, "log.dir")->text;
    return config->values[i].text;
}

bool rb_config_is_default(const rb_config_t *config, const char *key)
{
    int i = must_index(key);
    if (strcmp(key, "log.retention.ms") == 0)
        return !config->values[i].set && !value_of(config, "log.retention.minutes")->set &&
               !value_of(config, "log.retention.hours")->set;
    if (strcmp(key, "log.roll.ms") == 0)
        return !config->values[i].set && !value_of(config, "log.roll.hours")->set;
    if (strcmp(key, "log.dirs") == 0)
        return !config->values[i].set && !value_of(config, "log.dir")->set;
    if (strcmp(key, "node.id") == 0)
        return !config->values[i].set && !value_of(config, "broker.id")->set;
    return !config->values[i].set;
}

/* ---- server.properties ----------------------------------------------------------------- */

/* Decodes Java properties escapes in s[0..n) (\t \n \r \f \uXXXX, \x -> x). */
static char *unescape(const char *s, size_t n)
{
    GString *out = g_string_sized_new(n);
    for (size_t i = 0; i < n; i++) {
        if (s[i] != '\\' || i + 1 == n) {
            g_string_append_c(out, s[i]);
            continue;
        }
        char c = s[++i];
        switch (c) {
        case 't':
            g_string_append_c(out, '\t');
            break;
        case 'n':
            g_string_append_c(out, '\n');
            break;
        case 'r':
            g_string_append_c(out, '\r');
            break;
        case 'f':
            g_string_append_c(out, '\f');
            break;
        case 'u':
            if (i + 4 < n && g_ascii_isxdigit(s[i + 1]) && g_ascii_isxdigit(s[i + 2]) &&
                g_ascii_isxdigit(s[i + 3]) && g_ascii_isxdigit(s[i + 4])) {
                gunichar u = (gunichar)(g_ascii_xdigit_value(s[i + 1]) << 12 |
                                        g_ascii_xdigit_value(s[i + 2]) << 8 |
                                        g_ascii_xdigit_value(s[i + 3]) << 4 |
                                        g_ascii_xdigit_value(s[i + 4]));
                g_string_append_unichar(out, u);
                i += 4;
            } else {
                g_string_append_c(out, 'u');
            }
            break;
        default:
            g_string_append_c(out, c);
        }
    }
    return g_string_free(out, FALSE);
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Whether line ends with an odd number of backslashes (a continuation). */
static bool continues(const char *line, size_t len)
{
    size_t n = 0;
    while (n < len && line[len - 1 - n] == '\\')
        n++;
    return n % 2 == 1;
}

/* Parses one logical line (comments and blanks already skipped). */
static bool parse_property(rb_config_t *config, const char *line, const char *where, char **errmsg)
{
    size_t len = strlen(line);
    size_t k = 0;
    while (k < len && is_ws(line[k]))
        k++;
    size_t kstart = k;
    while (k < len && line[k] != '=' && line[k] != ':' && !is_ws(line[k])) {
        if (line[k] == '\\' && k + 1 < len)
            k++;
        k++;
    }
    g_autofree char *key = unescape(line + kstart, k - kstart);
    size_t v = k;
    while (v < len && is_ws(line[v]))
        v++;
    if (v < len && (line[v] == '=' || line[v] == ':')) {
        v++;
        while (v < len && is_ws(line[v]))
            v++;
    }
    g_autofree char *value = unescape(line + v, len - v);
    g_autofree char *why = NULL;
    if (!rb_config_set(config, key, value, &why)) {
        *errmsg = g_strdup_printf("%s: %s", where, why);
        return false;
    }
    return true;
}

static bool load_file(rb_config_t *config, const char *path, char **errmsg)
{
    g_autofree char *contents = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &contents, NULL, &gerr)) {
        *errmsg = g_strdup_printf("cannot read the configuration file: %s", gerr->message);
        g_error_free(gerr);
        return false;
    }
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    GString *logical = g_string_new(NULL);
    int first_line = 0;
    bool ok = true;
    for (int i = 0; ok && lines[i] != NULL; i++) {
        char *line = lines[i];
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (logical->len == 0) {
            size_t s = 0;
            while (s < len && is_ws(line[s]))
                s++;
            if (s == len || line[s] == '#' || line[s] == '!')
                continue;
            first_line = i + 1;
        } else {
            /* a continuation line: leading whitespace is dropped */
            while (*line != '\0' && is_ws(*line)) {
                line++;
                len--;
            }
        }
        if (continues(line, len)) {
            g_string_append_len(logical, line, (gssize)(len - 1));
            if (lines[i + 1] != NULL)
                continue;
        } else {
            g_string_append_len(logical, line, (gssize)len);
        }
        g_autofree char *where = g_strdup_printf("%s:%d", path, first_line);
        ok = parse_property(config, logical->str, where, errmsg);
        g_string_truncate(logical, 0);
    }
    g_string_free(logical, TRUE);
    return ok;
}

/* ---- the command line ------------------------------------------------------------------- */

rb_config_t *rb_config_from_args(int argc, char **argv, bool *want_help, char **errmsg)
{
    *want_help = false;
    const char *file = NULL;
    /* First pass: find the file (flags override it whatever their order). */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            *want_help = true;
            return NULL;
        }
        const char *path = NULL;
        if (strcmp(arg, "--config") == 0) {
            if (i + 1 == argc) {
                *errmsg = g_strdup("--config needs a file name");
                return NULL;
            }
            path = argv[++i];
        } else if (g_str_has_prefix(arg, "--config=")) {
            path = arg + strlen("--config=");
        } else if (strcmp(arg, "--override") == 0) {
            i++;
            continue;
        } else if (arg[0] != '-') {
            path = arg;
        } else {
            continue;
        }
        if (file != NULL) {
            *errmsg =
                g_strdup_printf("more than one configuration file ('%s' and '%s')", file, path);
            return NULL;
        }
        file = path;
    }
    rb_config_t *config = rb_config_new_defaults();
    if (file != NULL && !load_file(config, file, errmsg)) {
        rb_config_free(config);
        return NULL;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const char *kv = NULL;
        if (strcmp(arg, "--config") == 0) {
            i++;
            continue;
        }
        if (g_str_has_prefix(arg, "--config=") || arg[0] != '-')
            continue;
        if (strcmp(arg, "--override") == 0) { /* Kafka's kafka-server-start.sh form */
            if (i + 1 == argc) {
                *errmsg = g_strdup("--override needs key=value");
                rb_config_free(config);
                return NULL;
            }
            kv = argv[++i];
        } else if (g_str_has_prefix(arg, "--")) {
            kv = arg + 2;
        } else {
            *errmsg = g_strdup_printf("unknown option '%s' (expected --key=value)", arg);
            rb_config_free(config);
            return NULL;
        }
        const char *eq = strchr(kv, '=');
        if (eq == NULL) {
            *errmsg = g_strdup_printf("option '%s' has no value (expected --%s=VALUE)", arg, kv);
            rb_config_free(config);
            return NULL;
        }
        g_autofree char *key = g_strndup(kv, (gsize)(eq - kv));
        g_autofree char *why = NULL;
        if (!rb_config_set(config, key, eq + 1, &why)) {
            *errmsg = g_strdup_printf("%s: %s", arg, why);
            rb_config_free(config);
            return NULL;
        }
    }
    return config;
}

/* ---- help -------------------------------------------------------------------------------- */

static const char *type_name(const cfg_def_t *def)
{
    switch (def->type) {
    case CFG_INT:
        return "int";
    case CFG_LONG:
        return "long";
    case CFG_BOOL:
        return "bool";
    case CFG_STRING:
        return "string";
    case CFG_LIST:
        return "list";
    case CFG_ENUM:
        return "enum";
    case CFG_LISTENER:
        return "listener";
    case CFG_LEVEL:
        return "level";
    }
    return "?";
}

void rb_config_print_help(FILE *out)
{
    fprintf(out,
            "Usage: rill-broker [server.properties] [--config FILE] [--key=value ...]\n"
            "\n"
            "rill-broker is a single-node broker speaking the Apache Kafka protocol. It reads\n"
            "Kafka's broker property names from a server.properties-style file and from\n"
            "--key=value flags (flags win; --override key=value works too). It stops cleanly\n"
            "on SIGTERM or SIGINT. Exit status: 0 after a clean stop, 1 when it cannot start,\n"
            "2 for a bad command line or configuration.\n"
            "\n"
            "Keys (type, default; [rill] = rill-only, [compat] = accepted, no effect):\n");
    for (size_t i = 0; i < NDEFS; i++) {
        const cfg_def_t *def = &defs[i];
        fprintf(out, "\n  %s  (%s, default: %s)%s%s\n", def->name, type_name(def),
                def->def ? def->def : "not set", def->flags & F_RILL ? " [rill]" : "",
                def->flags & F_COMPAT ? " [compat]" : "");
        /* wrap the description at ~76 columns, indented */
        g_auto(GStrv) words = g_strsplit(def->doc, " ", -1);
        int col = 0;
        fputs("      ", out);
        for (char **w = words; *w != NULL; w++) {
            int wl = (int)strlen(*w);
            if (col > 0 && col + 1 + wl > 74) {
                fputs("\n      ", out);
                col = 0;
            } else if (col > 0) {
                fputc(' ', out);
                col++;
            }
            fputs(*w, out);
            col += wl;
        }
        fputc('\n', out);
        if (def->type == CFG_ENUM || (def->type == CFG_LIST && def->choices != NULL))
            fprintf(out, "      Values: %s\n", def->choices);
    }
}

void rb_config_print_markdown(FILE *out)
{
    fprintf(out,
            "# rill-broker configuration reference\n"
            "\n"
            "Generated from the table in broker/server/config.c by `rill-broker --help=markdown`;\n"
            "`make check` fails when this file and the program disagree\n"
            "(docs/check-config-docs.sh).\n"
            "\n"
            "Keys use Apache Kafka's broker property names. Set them in a server.properties-style\n"
            "file (`rill-broker FILE` or `--config FILE`) or as `--key=value` flags, which win.\n"
            "*rill* marks rill-only keys; *compat* marks keys accepted so that a stock Kafka\n"
            "server.properties loads, with no effect on a single-node broker.\n"
            "\n"
            "| key | type | default | description |\n"
            "|---|---|---|---|\n");
    for (size_t i = 0; i < NDEFS; i++) {
        const cfg_def_t *def = &defs[i];
        g_autofree char *values = NULL;
        if (def->type == CFG_ENUM || (def->type == CFG_LIST && def->choices != NULL)) {
            g_auto(GStrv) opts = g_strsplit(def->choices, "|", -1);
            g_autofree char *joined = g_strjoinv("`, `", opts);
            values = g_strdup_printf(" Values: `%s`.", joined);
        }
        fprintf(out, "| `%s` | %s | %s%s%s | %s%s%s%s |\n", def->name, type_name(def),
                def->def ? "`" : "", def->def ? def->def : "not set", def->def ? "`" : "",
                def->flags & F_RILL ? "*rill*: " : "", def->flags & F_COMPAT ? "*compat*: " : "",
                def->doc, values ? values : "");
    }
}

void rb_config_log_overrides(const rb_config_t *config)
{
    for (size_t i = 0; i < NDEFS; i++) {
        if (config->values[i].set)
            RILL_LOG_INFO("broker.config", "%s=%s%s", defs[i].name, config->values[i].text,
                          defs[i].flags & F_COMPAT ? " (accepted, no effect)" : "");
    }
}
