/* topics.c: the topic registry: names, ids, partition counts, config
 * overrides, and each partition's open log.
 *
 * Persistence: <log.dirs>/rill-topics.ini (a GKeyFile), one group per topic:
 *     [topic:orders]
 *     id=5f1c...            (32 hex digits)
 *     partitions=3
 *     config.retention.ms=86400000
 * rewritten whole, atomically (temporary file, fsync, rename), after every
 * change. The registry is written before a new topic's logs are used and
 * after a deleted topic's logs are gone, so a crash in between leaves either
 * an empty log directory for a known topic (reopened empty) or a directory
 * nobody refers to (ignored, logged at start). Partition p of topic t lives
 * in <log.dirs>/t-p, as in Kafka; its producer state (idempotence,
 * transactions) in <log.dirs>/__producer_state/t-p. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/log.h"

#define COMPONENT "broker.server"
#define REGISTRY "rill-topics.ini"

GHashTable *rb__overrides_new(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

rb_topic_t *rb__topic_find(rb_server_t *server, rb_str_t name)
{
    if (name.len < 0 || name.len > 255)
        return NULL;
    char buf[256];
    memcpy(buf, name.ptr, (size_t)name.len);
    buf[name.len] = '\0';
    if (strlen(buf) != (size_t)name.len)
        return NULL; /* embedded NUL */
    return g_hash_table_lookup(server->topics, buf);
}

rb_topic_t *rb__topic_find_id(rb_server_t *server, const rb_uuid_t *id)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->topics);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_topic_t *topic = value;
        if (memcmp(topic->id.b, id->b, 16) == 0)
            return topic;
    }
    return NULL;
}

rb_partition_t *rb__partition_find(rb_server_t *server, rb_str_t name, int32_t partition)
{
    rb_topic_t *topic = rb__topic_find(server, name);
    if (!topic || partition < 0 || partition >= topic->npartitions)
        return NULL;
    return topic->partitions[partition];
}

bool rb__topic_name_valid(rb_str_t name)
{
    if (name.len <= 0 || name.len > 249)
        return false;
    if ((name.len == 1 && name.ptr[0] == '.') ||
        (name.len == 2 && name.ptr[0] == '.' && name.ptr[1] == '.'))
        return false;
    /* the coordinators' own logs live under these names */
    if (rb_str_eq(name, RB_GROUP_OFFSETS_TOPIC) || rb_str_eq(name, "__transaction_state"))
        return false;
    for (int32_t i = 0; i < name.len; i++) {
        char c = name.ptr[i];
        if (!g_ascii_isalnum(c) && c != '.' && c != '_' && c != '-')
            return false;
    }
    return true;
}

static char *partition_dir(const rb_server_t *server, const char *topic, int32_t partition)
{
    g_autofree char *base = g_strdup_printf("%s-%d", topic, partition);
    return g_build_filename(server->log_dir, base, NULL);
}

/* <log.dirs>/__producer_state/<topic>-<partition>/: idempotence and
 * transaction state (broker/txn/pstate.h) of one partition. */
static char *pstate_dir(const rb_server_t *server, const char *topic, int32_t partition)
{
    g_autofree char *base = g_strdup_printf("%s-%d", topic, partition);
    return g_build_filename(server->log_dir, "__producer_state", base, NULL);
}

static void topic_free(rb_topic_t *topic)
{
    for (int32_t i = 0; i < topic->npartitions; i++)
        g_free(topic->partitions[i]);
    g_free(topic->partitions);
    g_hash_table_destroy(topic->overrides);
    g_free(topic->name);
    g_free(topic);
}

/* Opens partitions [from, to) of topic. Returns 0, or -1 with *errmsg (the
 * partitions opened by this call are closed again). */
static int open_partitions(rb_server_t *server, rb_topic_t *topic, int32_t from, int32_t to,
                           char **errmsg)
{
    rb_log_config_t lc;
    rb__topic_log_config(server, topic->overrides, &lc);
    topic->partitions = g_renew(rb_partition_t *, topic->partitions, to);
    for (int32_t i = from; i < to; i++) {
        g_autofree char *dir = partition_dir(server, topic->name, i);
        rb_log_t *log = rb_log_open(dir, &lc, errmsg);
        /* producer state beside the log's directory, which holds only the log's files */
        g_autofree char *psdir = pstate_dir(server, topic->name, i);
        rb_pstate_t *ps = log ? rb_pstate_new(psdir, NULL) : NULL;
        if (ps && !rb_pstate_rebuild(ps, log, errmsg)) {
            rb_pstate_free(ps);
            ps = NULL;
        }
        if (!ps) {
            rb_log_close(log);
            for (int32_t k = from; k < i; k++) {
                rb_pstate_free(topic->partitions[k]->pstate);
                rb_log_close(topic->partitions[k]->log);
                g_free(topic->partitions[k]);
            }
            return -1;
        }
        rb_partition_t *part = g_new0(rb_partition_t, 1);
        part->topic = topic;
        part->index = i;
        part->log = log;
        part->pstate = ps;
        topic->partitions[i] = part;
    }
    topic->npartitions = to;
    return 0;
}

int rb__topics_save(rb_server_t *server)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->topics);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_topic_t *topic = value;
        g_autofree char *group = g_strdup_printf("topic:%s", topic->name);
        char hex[33];
        for (int i = 0; i < 16; i++)
            g_snprintf(hex + 2 * i, 3, "%02x", topic->id.b[i]);
        g_key_file_set_string(kf, group, "id", hex);
        g_key_file_set_integer(kf, group, "partitions", topic->npartitions);
        GHashTableIter oit;
        gpointer k, v;
        g_hash_table_iter_init(&oit, topic->overrides);
        while (g_hash_table_iter_next(&oit, &k, &v)) {
            g_autofree char *key = g_strdup_printf("config.%s", (char *)k);
            g_key_file_set_string(kf, group, key, v);
        }
    }
    g_autofree char *path = g_build_filename(server->log_dir, REGISTRY, NULL);
    GError *gerr = NULL;
    if (!g_key_file_save_to_file(kf, path, &gerr)) {
        RILL_LOG_ERROR(COMPONENT, "cannot write the topic registry path=%s: %s", path,
                       gerr->message);
        g_error_free(gerr);
        return -1;
    }
    return 0;
}

static bool parse_uuid(const char *hex, rb_uuid_t *out)
{
    if (!hex || strlen(hex) != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        int hi = g_ascii_xdigit_value(hex[2 * i]), lo = g_ascii_xdigit_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out->b[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

int rb__topics_load(rb_server_t *server, char **errmsg)
{
    g_autofree char *path = g_build_filename(server->log_dir, REGISTRY, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS))
        return 0;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    GError *gerr = NULL;
    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &gerr)) {
        *errmsg = g_strdup_printf("cannot read the topic registry %s: %s", path, gerr->message);
        g_error_free(gerr);
        return -1;
    }
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
    for (char **g = groups; *g; g++) {
        if (!g_str_has_prefix(*g, "topic:"))
            continue;
        const char *name = *g + strlen("topic:");
        g_autofree char *id = g_key_file_get_string(kf, *g, "id", NULL);
        int64_t n = g_key_file_get_int64(kf, *g, "partitions", NULL);
        rb_topic_t *topic = g_new0(rb_topic_t, 1);
        topic->name = g_strdup(name);
        topic->overrides = rb__overrides_new();
        if (!rb__topic_name_valid(rb_str_c(name)) || !parse_uuid(id, &topic->id) || n <= 0 ||
            n > 1000000) {
            *errmsg = g_strdup_printf("%s: bad entry for topic '%s'", path, name);
            topic_free(topic);
            return -1;
        }
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);
        for (char **k = keys; k && *k; k++) {
            if (!g_str_has_prefix(*k, "config."))
                continue;
            g_hash_table_insert(topic->overrides, g_strdup(*k + strlen("config.")),
                                g_key_file_get_string(kf, *g, *k, NULL));
        }
        if (open_partitions(server, topic, 0, (int32_t)n, errmsg) != 0) {
            topic_free(topic);
            return -1;
        }
        g_hash_table_insert(server->topics, topic->name, topic);
    }
    return 0;
}

rb_topic_t *rb__topic_create(rb_server_t *server, const char *name, int32_t npartitions,
                             GHashTable *overrides, char **errmsg)
{
    rb_topic_t *topic = g_new0(rb_topic_t, 1);
    topic->name = g_strdup(name);
    topic->overrides = overrides ? overrides : rb__overrides_new();
    for (int i = 0; i < 16; i++)
        topic->id.b[i] = (uint8_t)g_random_int();
    topic->id.b[6] = (uint8_t)((topic->id.b[6] & 0x0f) | 0x40); /* a version-4 uuid */
    topic->id.b[8] = (uint8_t)((topic->id.b[8] & 0x3f) | 0x80);
    if (open_partitions(server, topic, 0, npartitions, errmsg) != 0) {
        topic_free(topic);
        return NULL;
    }
    g_hash_table_insert(server->topics, topic->name, topic);
    if (rb__topics_save(server) != 0) {
        *errmsg = g_strdup("cannot persist the topic registry");
        rb__topic_delete(server, topic);
        return NULL;
    }
    RILL_LOG_INFO(COMPONENT, "created topic topic=%s partitions=%d", name, npartitions);
    return topic;
}

int rb__topic_add_partitions(rb_server_t *server, rb_topic_t *topic, int32_t npartitions,
                             char **errmsg)
{
    int32_t old = topic->npartitions;
    if (open_partitions(server, topic, old, npartitions, errmsg) != 0)
        return -1;
    if (rb__topics_save(server) != 0) {
        *errmsg = g_strdup("cannot persist the topic registry");
        return -1;
    }
    RILL_LOG_INFO(COMPONENT, "added partitions topic=%s from=%d to=%d", topic->name, old,
                  npartitions);
    return 0;
}

void rb__topic_delete(rb_server_t *server, rb_topic_t *topic)
{
    g_hash_table_remove(server->topics, topic->name);
    rb__topics_save(server);
    for (int32_t i = 0; i < topic->npartitions; i++) {
        rb_pstate_delete(topic->partitions[i]->pstate);
        rb_log_delete(topic->partitions[i]->log);
    }
    RILL_LOG_INFO(COMPONENT, "deleted topic topic=%s", topic->name);
    topic_free(topic);
}

void rb__topic_set_overrides(rb_server_t *server, rb_topic_t *topic, GHashTable *overrides)
{
    g_hash_table_destroy(topic->overrides);
    topic->overrides = overrides;
    rb_log_config_t lc;
    rb__topic_log_config(server, overrides, &lc);
    for (int32_t i = 0; i < topic->npartitions; i++)
        rb_log_set_config(topic->partitions[i]->log, &lc);
    rb__topics_save(server);
}

void rb__topics_close_all(rb_server_t *server)
{
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->topics);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_topic_t *topic = value;
        for (int32_t i = 0; i < topic->npartitions; i++) {
            rb_partition_t *part = topic->partitions[i];
            g_autofree char *errmsg = NULL;
            if (!rb_pstate_snapshot(part->pstate, rb_log_end_offset(part->log), &errmsg))
                RILL_LOG_WARN(COMPONENT, "producer state snapshot failed topic=%s partition=%d: %s",
                              topic->name, i, errmsg);
            rb_pstate_free(part->pstate);
            rb_log_close(part->log);
        }
        g_hash_table_iter_remove(&it);
        topic_free(topic);
    }
}
