/* config.c: rill_config_t, the app's key/value configuration, checked as it
 * is set.
 *
 * Design: one static table lists every key rill reads, with its default,
 * its kind (string, integer with bounds, or one of a set of names) and a
 * description (rill_config_describe() prints it for --help and the docs).
 * Set values live in a hash table; rill_config_get() falls back to the table's
 * default. Keys outside the table are librdkafka properties: prefixed
 * `consumer.` / `producer.` / `admin.` for one client kind, unprefixed for
 * all; librdkafka itself checks them when they are set (runtime/kafka/conf.c),
 * so a typo fails at rill_config_set() and not later inside a thread.
 * Invariant: every value stored passed its check. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <rill/config.h>

#include "runtime/config-private.h"
#include "runtime/kafka/kafka.h"

typedef enum kind {
    KIND_STRING,   /* any non-empty string */
    KIND_ID,       /* [A-Za-z0-9._-]+ (names topics and the group) */
    KIND_INT,      /* integer in [min, max] */
    KIND_ENUM,     /* one of names (NULL-terminated) */
} kind_t;

typedef struct key_def {
    const char *key;
    kind_t kind;
    const char *default_value; /* NULL: none */
    int64_t min, max;
    const char *const *names;
    const char *description;
} key_def_t;

static const char *const guarantees[] = {"at_least_once", "exactly_once_v2", NULL};
static const char *const serdes[] = {"bytes", "string", "int32", "int64", "double", "json", NULL};
static const char *const extractors[] = {"FailOnInvalidTimestamp", "LogAndSkipOnInvalidTimestamp",
                                         "UsePartitionTimeOnInvalidTimestamp",
                                         "WallclockTimestampExtractor", NULL};
static const char *const deser_handlers[] = {"LogAndFailExceptionHandler",
                                             "LogAndContinueExceptionHandler", NULL};
static const char *const prod_handlers[] = {"DefaultProductionExceptionHandler",
                                            "LogAndContinueProductionExceptionHandler", NULL};
static const char *const proc_handlers[] = {"LogAndFailProcessingExceptionHandler",
                                            "LogAndContinueProcessingExceptionHandler", NULL};

static const key_def_t defs[] = {
    {RILL_CONFIG_APPLICATION_ID, KIND_ID, NULL, 0, 0, NULL,
     "Required. Names the consumer group, the internal topics and the state directory."},
    {RILL_CONFIG_BOOTSTRAP_SERVERS, KIND_STRING, NULL, 0, 0, NULL,
     "Required. host:port[,host:port...] of the Kafka cluster (or rill-broker)."},
    {RILL_CONFIG_CLIENT_ID, KIND_STRING, NULL, 0, 0, NULL,
     "Prefix of the librdkafka client.id of each client (default: application.id)."},
    {RILL_CONFIG_NUM_STREAM_THREADS, KIND_INT, "1", 1, 256, NULL,
     "Stream threads in this instance; each is one consumer of the group."},
    {RILL_CONFIG_COMMIT_INTERVAL_MS, KIND_INT, "30000", 0, INT32_MAX, NULL,
     "How often offsets are committed (after flushing the producer)."},
    {RILL_CONFIG_PROCESSING_GUARANTEE, KIND_ENUM, "at_least_once", 0, 0, guarantees,
     "at_least_once (exactly_once_v2 is recognised but not implemented yet)."},
    {RILL_CONFIG_STATE_DIR, KIND_STRING, "/tmp/rill-streams", 0, 0, NULL,
     "Directory of the local state stores (<state.dir>/<application.id>/<task>/)."},
    {RILL_CONFIG_POLL_MS, KIND_INT, "100", 0, 60000, NULL,
     "How long a stream thread blocks waiting for records."},
    {RILL_CONFIG_REPLICATION_FACTOR, KIND_INT, "-1", -1, 32767, NULL,
     "Replication factor of internal topics (-1: the broker's default)."},
    {RILL_CONFIG_CACHE_MAX_BYTES, KIND_INT, "10485760", 0, INT64_MAX, NULL,
     "Record cache of the state stores, for all threads."},
    {RILL_CONFIG_NUM_STANDBY_REPLICAS, KIND_INT, "0", 0, 0, NULL,
     "Standby replicas of each stateful task (only 0 is supported yet)."},
    {RILL_CONFIG_INPUT_BUFFER_MAX_BYTES, KIND_INT, "67108864", 1048576, INT64_MAX, NULL,
     "Bytes of prefetched input all stream threads together may buffer."},
    {RILL_CONFIG_DEFAULT_KEY_SERDE, KIND_ENUM, "bytes", 0, 0, serdes,
     "Serde of keys where the topology names none."},
    {RILL_CONFIG_DEFAULT_VALUE_SERDE, KIND_ENUM, "bytes", 0, 0, serdes,
     "Serde of values where the topology names none."},
    {RILL_CONFIG_TIMESTAMP_EXTRACTOR, KIND_ENUM, "FailOnInvalidTimestamp", 0, 0, extractors,
     "Event time of a record: its Kafka timestamp, and what to do when it is invalid."},
    {RILL_CONFIG_DESERIALIZATION_HANDLER, KIND_ENUM, "LogAndFailExceptionHandler", 0, 0,
     deser_handlers, "What a record that cannot be deserialized does."},
    {RILL_CONFIG_PRODUCTION_HANDLER, KIND_ENUM, "DefaultProductionExceptionHandler", 0, 0,
     prod_handlers, "What a record the brokers refuse does (Default: fail the app)."},
    {RILL_CONFIG_PROCESSING_HANDLER, KIND_ENUM, "LogAndFailProcessingExceptionHandler", 0, 0,
     proc_handlers, "What a record whose processing fails (a callback error) does."},
    {RILL_CONFIG_DEAD_LETTER_TOPIC, KIND_ID, NULL, 0, 0, NULL,
     "Dead-letter topic: LogAndContinue handlers send failed input records there, with the "
     "reason in rill.error* headers."},
    {RILL_CONFIG_METRICS_LISTENER, KIND_STRING, NULL, 0, 0, NULL,
     "HOST:PORT of the Prometheus endpoint (GET /metrics; port 0: any free port); unset: off."},
    {RILL_CONFIG_APPLICATION_SERVER, KIND_STRING, NULL, 0, 0, NULL,
     "HOST:PORT where this instance serves queries of its state; other instances learn it "
     "through the group (rill_app_key_owner). Unset: this instance cannot be named an owner."},
};

#define N_DEFS (sizeof(defs) / sizeof(defs[0]))

/* librdkafka properties rill manages itself: setting them would break the
 * guarantees (offsets are committed only after the producer is flushed). */
static const char *const managed[] = {"group.id", "enable.auto.commit", "enable.auto.offset.store",
                                      "partition.assignment.strategy", NULL};

struct rill_config {
    GHashTable *values; /* key -> value, both owned */
};

static const key_def_t *find_def(const char *key)
{
    for (size_t i = 0; i < N_DEFS; i++)
        if (strcmp(defs[i].key, key) == 0)
            return &defs[i];
    return NULL;
}

rill_config_t *rill_config_new(void)
{
    rill_config_t *config = g_new0(rill_config_t, 1);
    config->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return config;
}

rill_config_t *rill_config_copy(const rill_config_t *config)
{
    if (!config)
        return NULL;
    rill_config_t *copy = rill_config_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, config->values);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_hash_table_insert(copy->values, g_strdup(k), g_strdup(v));
    return copy;
}

void rill_config_destroy(rill_config_t *config)
{
    if (!config)
        return;
    g_hash_table_destroy(config->values);
    g_free(config);
}

/* Levenshtein distance, for "did you mean" (short strings only). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static const char *suggest(const char *key)
{
    const char *best = NULL;
    size_t best_d = 4;
    for (size_t i = 0; i < N_DEFS; i++) {
        size_t d = edit_distance(key, defs[i].key);
        if (d < best_d) {
            best_d = d;
            best = defs[i].key;
        }
    }
    return best;
}

static rill_err_t parse_int(const char *value, int64_t *out)
{
    if (!*value)
        return RILL_ERR_INVALID_CONFIG;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(value, &end, 10);
    if (errno || *end || isspace((unsigned char)value[0]))
        return RILL_ERR_INVALID_CONFIG;
    *out = v;
    return RILL_OK;
}

static rill_err_t check_rill_value(const key_def_t *def, const char *value, rill_error_t **error)
{
    switch (def->kind) {
    case KIND_STRING:
        if (!*value)
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG, "%s: the value is empty",
                                  def->key);
        return RILL_OK;
    case KIND_ID:
        if (!*value || strlen(value) > 200)
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "%s: \"%s\" must be 1 to 200 characters", def->key, value);
        for (const char *p = value; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
                return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                      "%s: \"%s\" may only hold letters, digits, '.', '_' and '-' "
                                      "(it names topics and the consumer group)",
                                      def->key, value);
        return RILL_OK;
    case KIND_INT: {
        int64_t v;
        if (parse_int(value, &v) != RILL_OK)
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "%s: \"%s\" is not an integer", def->key, value);
        if (v < def->min || v > def->max) {
            if (def->min == def->max)
                return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                      "%s: %s is not supported (only %" G_GINT64_FORMAT
                                      " is, for now)",
                                      def->key, value, def->min);
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "%s: %s is out of range [%" G_GINT64_FORMAT
                                  ", %" G_GINT64_FORMAT "]",
                                  def->key, value, def->min, def->max);
        }
        return RILL_OK;
    }
    case KIND_ENUM:
        for (const char *const *n = def->names; *n; n++)
            if (strcmp(*n, value) == 0)
                return RILL_OK;
        {
            g_autofree char *list = g_strjoinv(", ", (char **)def->names);
            if (strcmp(def->key, RILL_CONFIG_PROCESSING_GUARANTEE) == 0 &&
                (strcmp(value, "exactly_once") == 0 || strcmp(value, "exactly_once_beta") == 0))
                return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                      "%s: \"%s\" was removed from Kafka Streams; use "
                                      "exactly_once_v2",
                                      def->key, value);
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "%s: \"%s\" is not one of: %s", def->key, value, list);
        }
    }
    return RILL_OK;
}

static bool is_managed(const char *key)
{
    for (const char *const *m = managed; *m; m++)
        if (strcmp(*m, key) == 0)
            return true;
    return false;
}

/* Splits "consumer.x" into kind and "x"; false if key has no client prefix. */
static bool split_prefix(const char *key, rill__client_kind_t *kind, const char **rest)
{
    static const struct {
        const char *prefix;
        rill__client_kind_t kind;
    } prefixes[] = {{"consumer.", RILL__CLIENT_CONSUMER},
                    {"producer.", RILL__CLIENT_PRODUCER},
                    {"admin.", RILL__CLIENT_ADMIN}};
    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        size_t n = strlen(prefixes[i].prefix);
        if (strncmp(key, prefixes[i].prefix, n) == 0) {
            *kind = prefixes[i].kind;
            *rest = key + n;
            return true;
        }
    }
    return false;
}

rill_err_t rill_config_set(rill_config_t *config, const char *key, const char *value,
                           rill_error_t **error)
{
    if (!config || !key || !value)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_config_set: NULL argument");
    const key_def_t *def = find_def(key);
    if (def) {
        rill_err_t rc = check_rill_value(def, value, error);
        if (rc)
            return rc;
    } else {
        rill__client_kind_t kind;
        const char *rest;
        bool prefixed = split_prefix(key, &kind, &rest);
        const char *prop = prefixed ? rest : key;
        if (!*prop)
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "\"%s\": a client prefix needs a librdkafka property after it",
                                  key);
        if (is_managed(prop) && strcmp(prop, "partition.assignment.strategy") == 0)
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "%s: rill sets %s itself (range: a task reads the same "
                                  "partition of every co-partitioned topic, so one member must "
                                  "get them together)",
                                  key, prop);
        if (is_managed(prop))
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "%s: rill sets %s itself (the group is application.id and "
                                  "offsets are committed by rill after the producer is flushed)",
                                  key, prop);
        if (!prefixed && !rill__kafka_conf_known(key)) {
            const char *hint = suggest(key);
            if (hint)
                return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                      "unknown configuration key \"%s\" (did you mean \"%s\"?)",
                                      key, hint);
            return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                                  "unknown configuration key \"%s\": neither a rill key nor a "
                                  "librdkafka property (client properties may be prefixed "
                                  "consumer., producer. or admin.)",
                                  key);
        }
        rill_err_t rc = rill__kafka_conf_check(prefixed ? kind : RILL__CLIENT_CONSUMER, prop, value,
                                               error);
        if (rc) {
            rill_error_prefix(error, "%s: ", key);
            return rc;
        }
    }
    g_hash_table_insert(config->values, g_strdup(key), g_strdup(value));
    return RILL_OK;
}

rill_err_t rill_config_set_string(rill_config_t *config, const char *key_eq_value,
                                  rill_error_t **error)
{
    if (!config || !key_eq_value)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_config_set_string: NULL argument");
    const char *eq = strchr(key_eq_value, '=');
    if (!eq || eq == key_eq_value)
        return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                              "\"%s\" is not of the form key=value", key_eq_value);
    g_autofree char *key = g_strndup(key_eq_value, (gsize)(eq - key_eq_value));
    g_strstrip(key);
    return rill_config_set(config, key, eq + 1, error);
}

const char *rill_config_get(const rill_config_t *config, const char *key)
{
    if (!config || !key)
        return NULL;
    const char *v = g_hash_table_lookup(config->values, key);
    if (v)
        return v;
    const key_def_t *def = find_def(key);
    if (def)
        return def->default_value;
    return NULL;
}

rill_err_t rill_config_validate(const rill_config_t *config, rill_error_t **error)
{
    if (!config)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_config_validate: NULL config");
    if (!rill_config_get(config, RILL_CONFIG_APPLICATION_ID))
        return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                              "application.id is not set (it names the app's consumer group)");
    if (!rill_config_get(config, RILL_CONFIG_BOOTSTRAP_SERVERS))
        return rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                              "bootstrap.servers is not set (host:port of a Kafka broker)");
    if (strcmp(rill_config_get(config, RILL_CONFIG_PROCESSING_GUARANTEE), "at_least_once") != 0)
        return rill_error_set(error, RILL_ERR_UNSUPPORTED,
                              "processing.guarantee=%s is not implemented yet: use at_least_once",
                              rill_config_get(config, RILL_CONFIG_PROCESSING_GUARANTEE));
    return RILL_OK;
}

void rill_config_describe(void (*fn)(void *ud, const char *key, const char *default_value,
                                     const char *description),
                          void *ud)
{
    for (size_t i = 0; i < N_DEFS; i++)
        fn(ud, defs[i].key, defs[i].default_value, defs[i].description);
}

void rill__config_print_markdown(FILE *out)
{
    static const char *const kinds[] = {"string", "name", "integer", "enum"};
    fputs("| key | type | default | range or values | description |\n"
          "|---|---|---|---|---|\n",
          out);
    for (size_t i = 0; i < N_DEFS; i++) {
        const key_def_t *def = &defs[i];
        fprintf(out, "| `%s` | %s | %s%s%s | ", def->key, kinds[def->kind],
                def->default_value ? "`" : "", def->default_value ? def->default_value : "not set",
                def->default_value ? "`" : "");
        if (def->kind == KIND_ENUM) {
            for (const char *const *n = def->names; *n != NULL; n++)
                fprintf(out, "%s`%s`", n == def->names ? "" : ", ", *n);
        } else if (def->kind == KIND_INT) {
            if (def->max == INT32_MAX || def->max == INT64_MAX)
                fprintf(out, "≥ %" PRId64, def->min);
            else
                fprintf(out, "%" PRId64 " – %" PRId64, def->min, def->max);
        } else if (def->kind == KIND_ID) {
            fputs("`[A-Za-z0-9._-]+`", out);
        }
        fputs(" | ", out);
        for (const char *c = def->description; *c != '\0'; c++) /* Markdown-safe */
            fputs(*c == '|' ? "\\|" : *c == '<' ? "&lt;" : (char[]){*c, '\0'}, out);
        fputs(" |\n", out);
    }
    fputs("\nrill sets these librdkafka properties itself and refuses them, with or without a "
          "client prefix:",
          out);
    for (const char *const *m = managed; *m != NULL; m++)
        fprintf(out, "%s `%s`", m == managed ? "" : ",", *m);
    fputs(".\n", out);
}

int64_t rill__config_int(const rill_config_t *config, const char *key)
{
    const key_def_t *def = find_def(key);
    g_assert(def && def->kind == KIND_INT);
    int64_t v = 0;
    rill_err_t rc = parse_int(rill_config_get(config, key), &v);
    g_assert(rc == RILL_OK);
    return v;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void rill__config_foreach_client(const rill_config_t *config, rill__client_kind_t kind,
                                 void (*fn)(void *ud, const char *key, const char *value),
                                 void *ud)
{
    /* Sorted, so that the order does not depend on the hash table. */
    guint n = 0;
    g_autofree const char **keys =
        (const char **)g_hash_table_get_keys_as_array(config->values, &n);
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < n; i++) {
            const char *key = keys[i];
            if (find_def(key))
                continue;
            rill__client_kind_t k;
            const char *rest;
            bool prefixed = split_prefix(key, &k, &rest);
            const char *value = g_hash_table_lookup(config->values, key);
            if (pass == 0 && !prefixed)
                fn(ud, key, value);
            else if (pass == 1 && prefixed && k == kind)
                fn(ud, rest, value);
        }
    }
}

const char *rill__config_client_value(const rill_config_t *config, rill__client_kind_t kind,
                                      const char *key)
{
    static const char *const prefix[] = {"consumer.", "producer.", "admin."};
    g_autofree char *full = g_strconcat(prefix[kind], key, NULL);
    const char *v = g_hash_table_lookup(config->values, full);
    if (v)
        return v;
    if (find_def(key))
        return NULL;
    return g_hash_table_lookup(config->values, key);
}
