/* query.c: queryable state (rill/query.h): the registry of the stores the
 * tasks of an app have open, read handles over it, and key owners.
 *
 * Registry: the stream threads add an entry when a task opened (and
 * restored) a store, through rill__task_env_t.store_opened, and remove the
 * task's entries when it starts closing (task_closing), before its stores
 * close. Entries hold the innermost store (RocksDB), which RocksDB lets any
 * thread read while the stream thread writes. A read holds the registry's
 * GRWLock for reading for its whole length; removal takes it for writing,
 * so a store is never closed under a read:
 *
 *     query thread: rdlock ─► find entry ─► rocksdb get / iterate ─► unlock
 *     stream thread (revoke, close): wrlock ─► drop entries ─► unlock ─► close stores
 *
 * Owners: key → partition (murmur2 of the key bytes modulo the partition
 * count of the store's sub-topology's first source topic, looked up once per
 * handle) → the group member assigned that partition of that topic
 * (DescribeConsumerGroups, runtime/kafka/groups.c) → the "@host:port" its
 * client.id ends with (application.server, see runtime/kafka/conf.c). */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <rill/query.h>

#include "runtime/app-private.h"
#include "runtime/global.h"
#include "runtime/kafka/groups.h"
#include "runtime/kafka/kafka.h"
#include "runtime/partitioner.h"
#include "runtime/topology-private.h"
#include "stores/kv.h"

#define QUERY_TIMEOUT_MS 10000

typedef struct qentry {
    rill_task_t *task;
    int subtopology;
    int32_t partition;
    char *name;
    rill__kv_store_t *inner; /* innermost layer: what another thread may read */
} qentry_t;

struct rill__query_registry {
    GRWLock lock;
    GPtrArray *entries;      /* qentry_t * */
    GMutex groups_lock;      /* guards groups and partitions */
    rill__kgroups_t *groups; /* made on the first key-owner question */
    GHashTable *partitions;  /* source topic -> partition count (looked up once) */
};

static void qentry_free(qentry_t *entry)
{
    g_free(entry->name);
    g_free(entry);
}

rill__query_registry_t *rill__query_registry_new(void)
{
    rill__query_registry_t *registry = g_new0(rill__query_registry_t, 1);
    g_rw_lock_init(&registry->lock);
    g_mutex_init(&registry->groups_lock);
    registry->entries = g_ptr_array_new_with_free_func((GDestroyNotify)qentry_free);
    registry->partitions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return registry;
}

void rill__query_registry_free(rill__query_registry_t *registry)
{
    if (registry == NULL)
        return;
    g_ptr_array_free(registry->entries, TRUE);
    rill__kgroups_destroy(registry->groups);
    g_hash_table_destroy(registry->partitions);
    g_rw_lock_clear(&registry->lock);
    g_mutex_clear(&registry->groups_lock);
    g_free(registry);
}

void rill__query_store_opened(void *ud, rill_task_t *task, int subtopology, int32_t partition,
                              const char *name, struct rill__kv_store *store)
{
    rill__query_registry_t *registry = ud;
    if (registry == NULL)
        return;
    qentry_t *entry = g_new0(qentry_t, 1);
    entry->task = task;
    entry->subtopology = subtopology;
    entry->partition = partition;
    entry->name = g_strdup(name);
    entry->inner = rill__kv_store_innermost(store);
    g_rw_lock_writer_lock(&registry->lock);
    g_ptr_array_add(registry->entries, entry);
    g_rw_lock_writer_unlock(&registry->lock);
}

void rill__query_task_closing(void *ud, rill_task_t *task)
{
    rill__query_registry_t *registry = ud;
    if (registry == NULL)
        return;
    g_rw_lock_writer_lock(&registry->lock); /* waits for the reads in progress */
    for (guint i = registry->entries->len; i-- > 0;)
        if (((qentry_t *)g_ptr_array_index(registry->entries, i))->task == task)
            g_ptr_array_remove_index(registry->entries, i);
    g_rw_lock_writer_unlock(&registry->lock);
}

bool rill__query_server_valid(const char *server)
{
    const char *colon = server != NULL ? strrchr(server, ':') : NULL;
    if (colon == NULL || colon == server || colon[1] == '\0')
        return false;
    for (const char *p = server; p < colon; p++)
        if (g_ascii_isspace(*p) || *p == '@' || *p == '/')
            return false;
    char *end = NULL;
    long port = strtol(colon + 1, &end, 10);
    return *end == '\0' && port >= 0 && port <= 65535;
}

/* ---- read handles ------------------------------------------------------------- */

struct rill_read_store {
    rill_app_t *app;
    char *name;
    bool global;
    int subtopology;
    char *topic;        /* the sub-topology's first source topic */
    int32_t partitions; /* of topic */
};

static rill_err_t check_running(rill_app_t *app, const char *what, rill_error_t **error)
{
    rill_app_state_t state = rill_app_state(app);
    if (state == RILL_APP_RUNNING)
        return RILL_OK;
    return rill_error_set_full(error, RILL_ERR_INVALID_STATE, 0,
                               state == RILL_APP_REBALANCING || state == RILL_APP_CREATED,
                               "%s: the app is %s, not RUNNING (stores may be migrating): retry "
                               "once it runs",
                               what, rill_app_state_name(state));
}

/* Finds store name in the topology: global, or the sub-topology of a task store. */
static rill_err_t locate(rill_app_t *app, const char *name, bool *global, int *subtopology,
                         rill_error_t **error)
{
    *global = false;
    for (int i = 0; i < rill__topology_global_count(app->topology) && !*global; i++)
        *global = strcmp(rill__topology_global(app->topology, i)->store, name) == 0;
    if (*global)
        return RILL_OK;
    const rill__changelog_spec_t *spec = rill__topology_changelog(app->topology, name);
    if (spec == NULL)
        return rill_error_set(error, RILL_ERR_NOT_FOUND,
                              "the topology has no state store named '%s'", name);
    *subtopology = spec->subtopology;
    return RILL_OK;
}

/* The partition count of a source topic: asked once, then remembered (a
 * running app's source topics do not change their partition count). */
static rill_err_t partitions_of(rill_app_t *app, const char *topic, int32_t *count,
                                rill_error_t **error)
{
    rill__query_registry_t *registry = app->queryable;
    g_mutex_lock(&registry->groups_lock);
    gpointer known = g_hash_table_lookup(registry->partitions, topic);
    g_mutex_unlock(&registry->groups_lock);
    if (known != NULL) {
        *count = GPOINTER_TO_INT(known);
        return RILL_OK;
    }
    *count = -1;
    if (rill__kafka_topic_partitions(app->config, &topic, 1, count, QUERY_TIMEOUT_MS, error) !=
        RILL_OK)
        return RILL_ERR_KAFKA;
    if (*count <= 0)
        return rill_error_set(error, RILL_ERR_NOT_FOUND, "source topic %s does not exist", topic);
    g_mutex_lock(&registry->groups_lock);
    g_hash_table_insert(registry->partitions, g_strdup(topic), GINT_TO_POINTER(*count));
    g_mutex_unlock(&registry->groups_lock);
    return RILL_OK;
}

RILL_EXPORT rill_read_store_t *rill_app_store(rill_app_t *app, const char *name,
                                              rill_error_t **error)
{
    if (app == NULL || name == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_store: NULL argument");
        return NULL;
    }
    bool global = false;
    int sub = -1;
    if (locate(app, name, &global, &sub, error) != RILL_OK ||
        check_running(app, "rill_app_store", error) != RILL_OK)
        return NULL;
    rill_read_store_t *store = g_new0(rill_read_store_t, 1);
    store->app = app;
    store->name = g_strdup(name);
    store->global = global;
    store->subtopology = sub;
    if (!global) {
        const char *const *topics = rill__topology_source_topics(app->topology, sub);
        store->topic = g_strdup(topics[0]);
        if (partitions_of(app, store->topic, &store->partitions, error) != RILL_OK) {
            rill_read_store_destroy(store);
            return NULL;
        }
    }
    return store;
}

RILL_EXPORT void rill_read_store_destroy(rill_read_store_t *store)
{
    if (store == NULL)
        return;
    g_free(store->name);
    g_free(store->topic);
    g_free(store);
}

static rill_err_t readable(const qentry_t *entry, rill_error_t **error)
{
    if (strcmp(rill__kv_store_kind(entry->inner), "rocksdb") == 0)
        return RILL_OK;
    return rill_error_set(error, RILL_ERR_UNSUPPORTED,
                          "store %s of task %d_%" PRId32 " is in memory: only RocksDB stores can "
                          "be read from another thread (set state.dir, do not materialize it in "
                          "memory)",
                          entry->name, entry->subtopology, entry->partition);
}

RILL_EXPORT rill_err_t rill_read_store_get(rill_read_store_t *store, const void *key,
                                           size_t key_len, void **value, size_t *value_len,
                                           rill_error_t **error)
{
    if (store == NULL || key == NULL || value == NULL || value_len == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_read_store_get: NULL argument");
    *value = NULL;
    *value_len = 0;
    rill_app_t *app = store->app;
    if (check_running(app, "rill_read_store_get", error) != RILL_OK)
        return RILL_ERR_INVALID_STATE;
    GBytes *bytes = NULL;
    rill_err_t err = RILL_OK;
    if (store->global) {
        err = rill__globals_get(app->globals, store->name, key, key_len, &bytes, error);
    } else {
        int32_t partition = rill__default_partition(key, key_len, store->partitions);
        rill__query_registry_t *registry = app->queryable;
        g_rw_lock_reader_lock(&registry->lock);
        /* the task of the key's partition first; then the other local tasks,
         * for keys a producer put elsewhere than murmur2 would (as Kafka
         * Streams' composite store, which asks every local store) */
        bool local = false;
        for (int pass = 0; pass < 2 && err == RILL_OK && bytes == NULL; pass++) {
            for (guint i = 0; i < registry->entries->len && err == RILL_OK && bytes == NULL; i++) {
                const qentry_t *entry = g_ptr_array_index(registry->entries, i);
                if (entry->subtopology != store->subtopology ||
                    strcmp(entry->name, store->name) != 0 ||
                    (entry->partition == partition) != (pass == 0))
                    continue;
                local = local || pass == 0;
                err = readable(entry, error);
                if (err == RILL_OK)
                    err = rill__kv_get(entry->inner, key, key_len, &bytes, error);
            }
        }
        if (err == RILL_OK && bytes == NULL && !local)
            err = rill_error_set(error, RILL_ERR_NOT_FOUND,
                                 "store %s: the key's partition %" PRId32 " is not on this "
                                 "instance (rill_app_key_owner says which instance has it)",
                                 store->name, partition);
        g_rw_lock_reader_unlock(&registry->lock);
    }
    if (err == RILL_OK && bytes != NULL) {
        gsize len;
        const void *data = g_bytes_get_data(bytes, &len);
        *value = g_malloc(len > 0 ? len : 1);
        if (len > 0)
            memcpy(*value, data, len);
        *value_len = len;
    }
    if (bytes != NULL)
        g_bytes_unref(bytes);
    return err;
}

/* One task's iterator in the merge, with its current entry. */
typedef struct cursor {
    rill__kv_iter_t *iter;
    const void *key, *value;
    size_t key_len, value_len;
    bool live;
} cursor_t;

static rill_err_t merge_range(rill__query_registry_t *registry, const rill_read_store_t *store,
                              const void *from, size_t from_len, const void *to, size_t to_len,
                              rill_store_each_fn fn, void *ud, rill_error_t **error)
{
    GArray *cursors = g_array_new(FALSE, TRUE, sizeof(cursor_t));
    rill_err_t err = RILL_OK;
    for (guint i = 0; err == RILL_OK && i < registry->entries->len; i++) {
        const qentry_t *entry = g_ptr_array_index(registry->entries, i);
        if (entry->subtopology != store->subtopology || strcmp(entry->name, store->name) != 0)
            continue;
        err = readable(entry, error);
        if (err != RILL_OK)
            break;
        cursor_t cursor = {0};
        cursor.iter = rill__kv_range(entry->inner, from, from_len, to, to_len, error);
        if (cursor.iter == NULL) {
            err = RILL_ERR_STORE;
            break;
        }
        cursor.live = rill__kv_iter_next(cursor.iter, &cursor.key, &cursor.key_len, &cursor.value,
                                         &cursor.value_len);
        g_array_append_val(cursors, cursor);
    }
    /* k-way merge: partitions hold disjoint keys, so the smallest head is next */
    while (err == RILL_OK) {
        cursor_t *min = NULL;
        for (guint i = 0; i < cursors->len; i++) {
            cursor_t *c = &g_array_index(cursors, cursor_t, i);
            if (c->live && (min == NULL ||
                            rill__kv_key_compare(c->key, c->key_len, min->key, min->key_len) < 0))
                min = c;
        }
        if (min == NULL)
            break;
        if (!fn(min->key, min->key_len, min->value, min->value_len, ud))
            break;
        min->live =
            rill__kv_iter_next(min->iter, &min->key, &min->key_len, &min->value, &min->value_len);
    }
    for (guint i = 0; i < cursors->len; i++) {
        cursor_t *c = &g_array_index(cursors, cursor_t, i);
        if (err == RILL_OK)
            err = rill__kv_iter_status(c->iter, error);
        rill__kv_iter_destroy(c->iter);
    }
    g_array_free(cursors, TRUE);
    return err;
}

RILL_EXPORT rill_err_t rill_read_store_range(rill_read_store_t *store, const void *from,
                                             size_t from_len, const void *to, size_t to_len,
                                             rill_store_each_fn fn, void *user_data,
                                             rill_error_t **error)
{
    if (store == NULL || fn == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_read_store_range: NULL argument");
    rill_app_t *app = store->app;
    if (check_running(app, "rill_read_store_range", error) != RILL_OK)
        return RILL_ERR_INVALID_STATE;
    if (store->global)
        return rill__globals_range(app->globals, store->name, from, from_len, to, to_len, fn,
                                   user_data, error);
    g_rw_lock_reader_lock(&app->queryable->lock);
    rill_err_t err =
        merge_range(app->queryable, store, from, from_len, to, to_len, fn, user_data, error);
    g_rw_lock_reader_unlock(&app->queryable->lock);
    return err;
}

RILL_EXPORT rill_err_t rill_read_store_all(rill_read_store_t *store, rill_store_each_fn fn,
                                           void *user_data, rill_error_t **error)
{
    return rill_read_store_range(store, NULL, 0, NULL, 0, fn, user_data, error);
}

/* ---- owners --------------------------------------------------------------------- */

/* The group's members, from the coordinator. */
static rill_err_t members_of(rill_app_t *app, GPtrArray **members, rill_error_t **error)
{
    rill__query_registry_t *registry = app->queryable;
    g_mutex_lock(&registry->groups_lock);
    if (registry->groups == NULL)
        registry->groups = rill__kgroups_new(app->config, error);
    rill_err_t err = registry->groups == NULL
                         ? RILL_ERR_KAFKA
                         : rill__kgroups_describe(registry->groups, app->application_id, members,
                                                  QUERY_TIMEOUT_MS, error);
    g_mutex_unlock(&registry->groups_lock);
    return err;
}

/* The application.server a member's client.id carries, or NULL (borrowed). */
static const char *server_of(const rill__group_member_t *member)
{
    const char *at = member->client_id != NULL ? strrchr(member->client_id, '@') : NULL;
    return at != NULL && rill__query_server_valid(at + 1) ? at + 1 : NULL;
}

static const char *own_server(rill_app_t *app)
{
    return rill_config_get(app->config, RILL_CONFIG_APPLICATION_SERVER);
}

RILL_EXPORT rill_err_t rill_app_key_owner(rill_app_t *app, const char *store_name, const void *key,
                                          size_t key_len, char **host_port, rill_error_t **error)
{
    if (app == NULL || store_name == NULL || key == NULL || host_port == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_key_owner: NULL argument");
    *host_port = NULL;
    rill_error_t *cause = NULL;
    rill_read_store_t *store = rill_app_store(app, store_name, &cause);
    if (store == NULL) {
        rill_err_t code = rill_error_code(cause);
        if (error != NULL && *error == NULL)
            *error = cause;
        else
            rill_error_destroy(cause);
        return code;
    }
    rill_err_t err = RILL_OK;
    if (store->global) {
        if (own_server(app) == NULL)
            err = rill_error_set(error, RILL_ERR_NOT_FOUND,
                                 "application.server is not set on this instance");
        else
            *host_port = g_strdup(own_server(app));
        rill_read_store_destroy(store);
        return err;
    }
    int32_t partition = rill__default_partition(key, key_len, store->partitions);
    GPtrArray *members = NULL;
    err = members_of(app, &members, error);
    for (guint m = 0; err == RILL_OK && m < members->len && *host_port == NULL; m++) {
        const rill__group_member_t *member = g_ptr_array_index(members, m);
        for (int i = 0; i < member->count; i++) {
            if (member->partitions[i] != partition || strcmp(member->topics[i], store->topic) != 0)
                continue;
            const char *server = server_of(member);
            if (server == NULL)
                err = rill_error_set(error, RILL_ERR_NOT_FOUND,
                                     "store %s: partition %" PRId32 " is on member %s, which set "
                                     "no application.server",
                                     store->name, partition, member->client_id);
            else
                *host_port = g_strdup(server);
            break;
        }
    }
    if (err == RILL_OK && *host_port == NULL)
        err = rill_error_set_full(error, RILL_ERR_NOT_FOUND, 0, 1,
                                  "store %s: no member of group %s has partition %" PRId32
                                  " of %s (the group is rebalancing?)",
                                  store->name, app->application_id, partition, store->topic);
    if (members != NULL)
        g_ptr_array_free(members, TRUE);
    rill_read_store_destroy(store);
    return err;
}

static gint compare_strings(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

RILL_EXPORT rill_err_t rill_app_store_hosts(rill_app_t *app, const char *store_name, char ***hosts,
                                            rill_error_t **error)
{
    if (app == NULL || store_name == NULL || hosts == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_app_store_hosts: NULL argument");
    *hosts = NULL;
    bool global = false;
    int sub = -1;
    rill_err_t err = locate(app, store_name, &global, &sub, error);
    if (err == RILL_OK)
        err = check_running(app, "rill_app_store_hosts", error);
    GPtrArray *members = NULL;
    if (err == RILL_OK)
        err = members_of(app, &members, error);
    if (err != RILL_OK)
        return err;
    const char *const *topics = global ? NULL : rill__topology_source_topics(app->topology, sub);
    GPtrArray *out = g_ptr_array_new();
    for (guint m = 0; m < members->len; m++) {
        const rill__group_member_t *member = g_ptr_array_index(members, m);
        const char *server = server_of(member);
        bool holds = global; /* every instance holds the global stores */
        for (int i = 0; !holds && i < member->count; i++)
            holds = strcmp(member->topics[i], topics[0]) == 0;
        if (!holds || server == NULL)
            continue;
        bool seen = false;
        for (guint k = 0; k < out->len && !seen; k++)
            seen = strcmp(g_ptr_array_index(out, k), server) == 0;
        if (!seen)
            g_ptr_array_add(out, g_strdup(server));
    }
    g_ptr_array_sort(out, compare_strings);
    g_ptr_array_add(out, NULL);
    *hosts = (char **)g_ptr_array_free(out, FALSE);
    g_ptr_array_free(members, TRUE);
    return RILL_OK;
}

RILL_EXPORT void rill_strv_free(char **strv)
{
    g_strfreev(strv);
}
