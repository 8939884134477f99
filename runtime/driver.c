/* driver.c: the test driver (include/rill/driver.h): a topology run in-process.
 *
 * Design: the driver plays the stream thread. It creates tasks lazily, one per
 * (sub-topology, partition) that receives a record, with an env whose sink
 * captures records in memory. A captured record is one heap block (header,
 * topic, key, value, headers) so that reading it back hands the block to the
 * rill_record_t. Writes to a topic the topology reads are also queued and
 * processed after the record that wrote them, in FIFO order, which is what a
 * real app would see with one partition; the loop is bounded so that a
 * topology that writes to its own input cannot hang a test.
 *
 * Offsets count per topic-partition from 0, for piped and captured records. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <rill/driver.h>

#include "runtime/global.h"
#include "runtime/partitioner.h"
#include "runtime/record-private.h"
#include "runtime/serde-private.h"
#include "runtime/task.h"
#include "runtime/topology-private.h"

#define LOOP_LIMIT 100000 /* records looped back per pipe call */

typedef struct captured {
    char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;
    void *key; /* NULL = null */
    size_t key_len;
    void *value;
    size_t value_len;
    rill__header_t *headers;
    size_t header_count;
} captured_t;

struct rill_driver {
    rill_topology_t *topology;
    char *application_id;
    char *dead_letter_topic;
    rill_error_handlers_t handlers;
    const rill_serde_t *default_key_serde;
    const rill_serde_t *default_value_serde;
    int32_t partitions;
    int64_t wall_ms;
    GHashTable *tasks;   /* "S_P" -> rill_task_t * (owned) */
    GHashTable *outputs; /* topic -> GQueue of captured_t * (owned) */
    GHashTable *offsets; /* "topic/partition" -> int64_t * next offset */
    GQueue pending;      /* captured_t * to loop back */
    GHashTable *changelogs; /* "topic/partition" -> GPtrArray of captured_t * (owned) */
    size_t cache_max_bytes;
    char *state_dir;
    rill__globals_t *globals; /* global tables' stores (NULL: none); records of their topics go here */
    const rill__globals_ops_t *globals_ops;
};

static bool global_topic(const rill_driver_t *driver, const char *topic);

static captured_t *captured_new(const char *topic, int32_t partition, int64_t offset,
                                const void *key, size_t key_len, const void *value,
                                size_t value_len, int64_t timestamp, const rill__header_t *headers,
                                size_t header_count)
{
    size_t topic_len = strlen(topic);
    size_t size = sizeof(captured_t) + header_count * sizeof(rill__header_t) + topic_len + 1 +
                  key_len + 1 + value_len + 1;
    for (size_t i = 0; i < header_count; i++)
        size += strlen(headers[i].name) + 1 + headers[i].value_len + 1;
    captured_t *c = g_malloc0(size);
    char *p = (char *)(c + 1);
    c->headers = (rill__header_t *)p;
    p += header_count * sizeof(rill__header_t);
    c->topic = memcpy(p, topic, topic_len + 1);
    p += topic_len + 1;
    if (key != NULL) {
        c->key = memcpy(p, key, key_len);
        c->key_len = key_len;
    }
    p += key_len + 1;
    if (value != NULL) {
        c->value = memcpy(p, value, value_len);
        c->value_len = value_len;
    }
    p += value_len + 1;
    for (size_t i = 0; i < header_count; i++) {
        size_t name_len = strlen(headers[i].name);
        c->headers[i].name = memcpy(p, headers[i].name, name_len + 1);
        p += name_len + 1;
        c->headers[i].value = NULL;
        c->headers[i].value_len = 0;
        if (headers[i].value != NULL) {
            c->headers[i].value = memcpy(p, headers[i].value, headers[i].value_len);
            c->headers[i].value_len = headers[i].value_len;
        }
        p += headers[i].value_len + 1;
    }
    c->header_count = header_count;
    c->partition = partition;
    c->offset = offset;
    c->timestamp = timestamp;
    return c;
}

static captured_t *captured_copy(const captured_t *c)
{
    return captured_new(c->topic, c->partition, c->offset, c->key, c->key_len, c->value,
                        c->value_len, c->timestamp, c->headers, c->header_count);
}

static void queue_free(void *queue)
{
    g_queue_free_full(queue, g_free);
}

static int64_t next_offset(rill_driver_t *driver, const char *topic, int32_t partition)
{
    char *key = g_strdup_printf("%s/%" PRId32, topic, partition);
    int64_t *next = g_hash_table_lookup(driver->offsets, key);
    if (next == NULL) {
        next = g_new0(int64_t, 1);
        g_hash_table_insert(driver->offsets, key, next);
    } else {
        g_free(key);
    }
    return (*next)++;
}

static bool is_internal(const rill_driver_t *driver, const char *topic)
{
    for (const char *const *t = rill__topology_internal_topics(driver->topology); *t != NULL; t++)
        if (strcmp(*t, topic) == 0)
            return true;
    return false;
}

static rill_err_t driver_send(void *ud, const char *topic, int32_t partition, const void *key,
                              size_t key_len, const void *value, size_t value_len,
                              int64_t timestamp, const rill__header_t *headers, size_t header_count,
                              rill_error_t **error)
{
    rill_driver_t *driver = ud;
    if (partition < 0)
        partition = rill__default_partition(key, key_len, driver->partitions);
    if (partition >= driver->partitions)
        return rill_error_set(error, RILL_ERR_KAFKA, "topic '%s' has no partition %" PRId32, topic,
                              partition);
    int64_t offset = next_offset(driver, topic, partition);
    captured_t *c = captured_new(topic, partition, offset, key, key_len, value, value_len,
                                 timestamp, headers, header_count);
    if (rill__topology_subtopology_of(driver->topology, topic) >= 0 || global_topic(driver, topic))
        g_queue_push_tail(&driver->pending, captured_copy(c));
    if (g_str_has_suffix(topic, "-changelog") && is_internal(driver, topic)) {
        /* kept for restores, and readable as an output */
        char *tp = g_strdup_printf("%s/%" PRId32, topic, partition);
        GPtrArray *log = g_hash_table_lookup(driver->changelogs, tp);
        if (log == NULL) {
            log = g_ptr_array_new_with_free_func(g_free);
            g_hash_table_insert(driver->changelogs, tp, log);
        } else {
            g_free(tp);
        }
        g_ptr_array_add(log, captured_copy(c));
    } else if (is_internal(driver, topic)) {
        g_free(c);
        return RILL_OK;
    }
    GQueue *queue = g_hash_table_lookup(driver->outputs, topic);
    if (queue == NULL) {
        queue = g_queue_new();
        g_hash_table_insert(driver->outputs, g_strdup(topic), queue);
    }
    g_queue_push_tail(queue, c);
    return RILL_OK;
}

static rill_err_t driver_changelog_read(void *ud, const char *topic, int32_t partition,
                                        int64_t from,
                                        rill_err_t (*fn)(void *fn_ud,
                                                         const rill__raw_record_t *record,
                                                         rill_error_t **error),
                                        void *fn_ud, int64_t *end_offset, rill_error_t **error)
{
    rill_driver_t *driver = ud;
    g_autofree char *key = g_strdup_printf("%s/%" PRId32, topic, partition);
    GPtrArray *log = g_hash_table_lookup(driver->changelogs, key);
    *end_offset = log != NULL ? (int64_t)log->len : 0;
    for (guint i = from > 0 ? (guint)from : 0; log != NULL && i < log->len; i++) {
        const captured_t *c = g_ptr_array_index(log, i);
        rill__raw_record_t raw = {
            .topic = c->topic,
            .partition = c->partition,
            .offset = c->offset,
            .timestamp = c->timestamp,
            .key = c->key,
            .key_len = c->key_len,
            .value = c->value,
            .value_len = c->value_len,
        };
        rill_err_t err = fn(fn_ud, &raw, error);
        if (err != RILL_OK)
            return err;
    }
    return RILL_OK;
}

static int32_t driver_partition_count(void *ud, const char *topic)
{
    const rill_driver_t *driver = ud;
    return driver->partitions;
}

static int64_t driver_clock(void *ud)
{
    const rill_driver_t *driver = ud;
    return driver->wall_ms;
}

RILL_EXPORT rill_driver_t *rill_driver_new(rill_topology_t *topology,
                                           const rill_driver_config_t *config, rill_error_t **error)
{
    static const rill_driver_config_t defaults;
    if (topology == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_driver_new: topology is NULL");
        return NULL;
    }
    if (config == NULL)
        config = &defaults;
    if (config->partitions < 0) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_driver_new: partitions must be >= 0");
        return NULL;
    }
    const rill_error_handlers_t *h = &config->handlers;
    if ((h->deserialization == RILL_ON_ERROR_DEAD_LETTER ||
         h->processing == RILL_ON_ERROR_DEAD_LETTER ||
         h->production == RILL_ON_ERROR_DEAD_LETTER) &&
        (h->dead_letter_topic == NULL || h->dead_letter_topic[0] == '\0')) {
        rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                       "rill_driver_new: a dead-letter handler needs handlers.dead_letter_topic");
        return NULL;
    }
    rill_driver_t *driver = g_new0(rill_driver_t, 1);
    driver->topology = topology;
    driver->application_id =
        g_strdup(config->application_id != NULL ? config->application_id : "rill-test");
    driver->partitions = config->partitions > 0 ? config->partitions : 1;
    driver->wall_ms = config->wall_clock_ms;
    driver->handlers = config->handlers;
    driver->default_key_serde = config->default_key_serde;
    driver->default_value_serde = config->default_value_serde;
    driver->dead_letter_topic = g_strdup(h->dead_letter_topic);
    driver->handlers.dead_letter_topic = driver->dead_letter_topic;
    driver->tasks =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)rill__task_destroy);
    driver->outputs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, queue_free);
    driver->offsets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    driver->changelogs =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
    driver->cache_max_bytes = config->cache_max_bytes;
    driver->state_dir = g_strdup(config->state_dir);
    g_queue_init(&driver->pending);
    rill__topology_set_application_id(topology, driver->application_id);
    rill_error_t *cause = NULL;
    driver->globals_ops = rill__topology_globals_ops(topology);
    if (driver->globals_ops != NULL)
        driver->globals = driver->globals_ops->open(topology, driver->state_dir,
                                                    driver->application_id, &cause);
    if (cause != NULL) {
        if (error != NULL && *error == NULL)
            *error = cause;
        else
            rill_error_destroy(cause);
        rill_driver_destroy(driver);
        return NULL;
    }
    return driver;
}

RILL_EXPORT void rill_driver_destroy(rill_driver_t *driver)
{
    if (driver == NULL)
        return;
    g_hash_table_destroy(driver->tasks);
    if (driver->globals != NULL) /* after the tasks: their joins read it */
        driver->globals_ops->close(driver->globals);
    g_hash_table_destroy(driver->outputs);
    g_hash_table_destroy(driver->changelogs);
    g_free(driver->state_dir);
    g_hash_table_destroy(driver->offsets);
    g_queue_clear_full(&driver->pending, g_free);
    g_free(driver->application_id);
    g_free(driver->dead_letter_topic);
    g_free(driver);
}

static rill_task_t *task_for(rill_driver_t *driver, int sub, int32_t partition,
                             rill_error_t **error)
{
    char id[32];
    snprintf(id, sizeof id, "%d_%" PRId32, sub, partition);
    rill_task_t *task = g_hash_table_lookup(driver->tasks, id);
    if (task != NULL)
        return task;
    rill__task_env_t env = {
        .sink = {.send = driver_send, .ud = driver, .partition_count = driver_partition_count},
        .application_id = driver->application_id,
        .wall_clock_ms = driver_clock,
        .clock_ud = driver,
        .handlers = driver->handlers,
        .default_key_serde = driver->default_key_serde,
        .default_value_serde = driver->default_value_serde,
        .changelog_read = driver_changelog_read,
        .changelog_ud = driver,
        .cache_max_bytes = driver->cache_max_bytes,
        .state_dir = driver->state_dir,
        .globals = driver->globals,
    };
    task = rill__task_new(driver->topology, sub, partition, &env, error);
    if (task != NULL)
        g_hash_table_insert(driver->tasks, g_strdup(id), task);
    return task;
}

/* Whether topic feeds a global table. */
static bool global_topic(const rill_driver_t *driver, const char *topic)
{
    const char *const *topics =
        driver->globals != NULL ? driver->globals_ops->topics(driver->globals) : NULL;
    for (int i = 0; topics != NULL && topics[i] != NULL; i++)
        if (strcmp(topics[i], topic) == 0)
            return true;
    return false;
}

static rill_err_t process_captured(rill_driver_t *driver, const captured_t *c, rill_error_t **error)
{
    if (global_topic(driver, c->topic)) { /* a global table's update: at once, no task */
        rill__raw_record_t raw = {
            .topic = c->topic,
            .partition = c->partition,
            .offset = c->offset,
            .timestamp = c->timestamp,
            .key = c->key,
            .key_len = c->key_len,
            .value = c->value,
            .value_len = c->value_len,
        };
        return driver->globals_ops->apply(driver->globals, &raw, error);
    }
    int sub = rill__topology_subtopology_of(driver->topology, c->topic);
    if (sub < 0)
        return rill_error_set(error, RILL_ERR_NOT_FOUND, "the topology reads no topic '%s'",
                              c->topic);
    rill_error_t *cause = NULL;
    rill_task_t *task = task_for(driver, sub, c->partition, &cause);
    if (task == NULL) {
        rill_err_t code = rill_error_code(cause);
        if (error != NULL && *error == NULL)
            *error = cause;
        else
            rill_error_destroy(cause);
        return code;
    }
    rill__raw_record_t raw = {
        .topic = c->topic,
        .partition = c->partition,
        .offset = c->offset,
        .timestamp = c->timestamp,
        .key = c->key,
        .key_len = c->key_len,
        .value = c->value,
        .value_len = c->value_len,
        .headers = c->headers,
        .header_count = c->header_count,
    };
    return rill__task_process(task, &raw, error);
}

static rill_err_t process_pending(rill_driver_t *driver, rill_err_t err, rill_error_t **error);

RILL_EXPORT rill_err_t rill_driver_pipe(rill_driver_t *driver, const char *topic,
                                        const rill_driver_input_t *input, rill_error_t **error)
{
    if (driver == NULL || topic == NULL || input == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_driver_pipe: NULL argument");
    if (rill__topology_subtopology_of(driver->topology, topic) < 0 && !global_topic(driver, topic))
        return rill_error_set(error, RILL_ERR_NOT_FOUND, "the topology reads no topic '%s'", topic);
    int32_t partition = input->partition;
    if (partition < 0)
        partition = rill__default_partition(input->key, input->key_len, driver->partitions);
    if (partition >= driver->partitions)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "topic '%s' has %" PRId32 " partitions: no partition %" PRId32, topic,
                              driver->partitions, partition);
    for (size_t i = 0; i < input->header_count; i++)
        if (input->headers[i].name == NULL)
            return rill_error_set(error, RILL_ERR_INVALID_ARG, "header %zu has no name", i);
    captured_t *c =
        captured_new(topic, partition, next_offset(driver, topic, partition), input->key,
                     input->key_len, input->value, input->value_len, input->timestamp,
                     (const rill__header_t *)input->headers, input->header_count);
    rill_err_t err = process_captured(driver, c, error);
    g_free(c);
    return process_pending(driver, err, error);
}

/* Processes what was looped back (err: the error so far; nothing runs after one). */
static rill_err_t process_pending(rill_driver_t *driver, rill_err_t err, rill_error_t **error)
{
    int looped = 0;
    while (err == RILL_OK && !g_queue_is_empty(&driver->pending)) {
        if (++looped > LOOP_LIMIT) {
            err = rill_error_set(error, RILL_ERR_INVALID_STATE,
                                 "more than %d records looped back from one input record: "
                                 "does the topology write to its own input?",
                                 LOOP_LIMIT);
            break;
        }
        captured_t *next = g_queue_pop_head(&driver->pending);
        err = process_captured(driver, next, error);
        g_free(next);
    }
    g_queue_clear_full(&driver->pending, g_free);
    return err;
}

RILL_EXPORT rill_err_t rill_driver_pipe_string(rill_driver_t *driver, const char *topic,
                                               const char *key, const char *value,
                                               int64_t timestamp, rill_error_t **error)
{
    rill_driver_input_t input = {
        .key = key,
        .key_len = key != NULL ? strlen(key) : 0,
        .value = value,
        .value_len = value != NULL ? strlen(value) : 0,
        .timestamp = timestamp,
        .partition = -1,
    };
    return rill_driver_pipe(driver, topic, &input, error);
}

RILL_EXPORT rill_err_t rill_driver_pipe_bytes(rill_driver_t *driver, const char *topic,
                                              const void *key, size_t key_len, const void *value,
                                              size_t value_len, int64_t timestamp,
                                              rill_error_t **error)
{
    rill_driver_input_t input = {
        .key = key,
        .key_len = key_len,
        .value = value,
        .value_len = value_len,
        .timestamp = timestamp,
        .partition = -1,
    };
    return rill_driver_pipe(driver, topic, &input, error);
}

RILL_EXPORT rill_err_t rill_driver_pipe_values(rill_driver_t *driver, const char *topic,
                                               const rill_serde_t *key_serde,
                                               const rill_value_t *key,
                                               const rill_serde_t *value_serde,
                                               const rill_value_t *value, int64_t timestamp,
                                               rill_error_t **error)
{
    rill_driver_input_t input = {.timestamp = timestamp, .partition = -1};
    rill_buffer_t *key_buffer = rill_buffer_new(), *value_buffer = rill_buffer_new();
    rill_err_t err = rill_serde_serialize(key_serde != NULL ? key_serde : rill_serde_bytes(), key,
                                          key_buffer, &input.key, &input.key_len, error);
    if (err == RILL_OK)
        err = rill_serde_serialize(value_serde != NULL ? value_serde : rill_serde_bytes(), value,
                                   value_buffer, &input.value, &input.value_len, error);
    if (err == RILL_OK)
        err = rill_driver_pipe(driver, topic, &input, error);
    rill_buffer_destroy(key_buffer);
    rill_buffer_destroy(value_buffer);
    return err;
}

RILL_EXPORT rill_err_t rill_driver_advance_wall_clock(rill_driver_t *driver, int64_t ms,
                                                      rill_error_t **error)
{
    if (driver == NULL || ms < 0)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "rill_driver_advance_wall_clock: the clock only moves forward");
    driver->wall_ms += ms;
    GHashTableIter iter;
    gpointer task;
    g_hash_table_iter_init(&iter, driver->tasks);
    while (g_hash_table_iter_next(&iter, NULL, &task)) {
        rill_err_t err = rill__task_punctuate(task, driver->wall_ms, error);
        if (err != RILL_OK)
            return err;
    }
    return RILL_OK;
}

RILL_EXPORT int64_t rill_driver_wall_clock(const rill_driver_t *driver)
{
    return driver != NULL ? driver->wall_ms : 0;
}

RILL_EXPORT size_t rill_driver_output_size(const rill_driver_t *driver, const char *topic)
{
    if (driver == NULL || topic == NULL)
        return 0;
    GQueue *queue = g_hash_table_lookup(driver->outputs, topic);
    return queue != NULL ? queue->length : 0;
}

RILL_EXPORT rill_record_t *rill_driver_read_output(rill_driver_t *driver, const char *topic,
                                                   const rill_serde_t *key_serde,
                                                   const rill_serde_t *value_serde,
                                                   rill_error_t **error)
{
    if (driver == NULL || topic == NULL) {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_driver_read_output: NULL argument");
        return NULL;
    }
    GQueue *queue = g_hash_table_lookup(driver->outputs, topic);
    captured_t *c = queue != NULL ? g_queue_pop_head(queue) : NULL;
    if (c == NULL)
        return NULL;
    rill_record_t *record = g_new0(rill_record_t, 1);
    record->owned = c;
    record->topic = c->topic;
    record->partition = c->partition;
    record->offset = c->offset;
    record->timestamp = c->timestamp;
    record->headers = c->headers;
    record->header_count = c->header_count;
    rill_error_t *cause = NULL;
    if (rill_serde_deserialize(key_serde != NULL ? key_serde : rill_serde_bytes(), c->key,
                               c->key_len, &record->key, &cause) != RILL_OK) {
        rill_error_prefix(&cause, "reading %s@%" PRId32 "/%" PRId64 ": key: ", topic, c->partition,
                          c->offset);
    } else if (rill_serde_deserialize(value_serde != NULL ? value_serde : rill_serde_bytes(),
                                      c->value, c->value_len, &record->value, &cause) != RILL_OK) {
        rill_error_prefix(&cause, "reading %s@%" PRId32 "/%" PRId64 ": value: ", topic,
                          c->partition, c->offset);
    }
    if (cause != NULL) {
        rill_record_destroy(record);
        if (error != NULL && *error == NULL)
            *error = cause;
        else
            rill_error_destroy(cause);
        return NULL;
    }
    return record;
}

RILL_EXPORT rill_err_t rill_driver_commit(rill_driver_t *driver, rill_error_t **error)
{
    if (driver == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_driver_commit: NULL driver");
    /* in task id order, so that runs are repeatable */
    GList *ids = g_list_sort(g_hash_table_get_keys(driver->tasks), (GCompareFunc)strcmp);
    rill_err_t err = RILL_OK;
    for (GList *l = ids; l != NULL && err == RILL_OK; l = l->next) {
        err = rill__task_flush(g_hash_table_lookup(driver->tasks, l->data), error);
        err = process_pending(driver, err, error);
    }
    g_list_free(ids);
    return err;
}

RILL_EXPORT rill_err_t rill_driver_restart(rill_driver_t *driver, bool commit,
                                           rill_error_t **error)
{
    if (driver == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "rill_driver_restart: NULL driver");
    rill_err_t err = commit ? rill_driver_commit(driver, error) : RILL_OK;
    if (!commit) {
        GHashTableIter iter;
        gpointer task;
        g_hash_table_iter_init(&iter, driver->tasks);
        while (g_hash_table_iter_next(&iter, NULL, &task))
            rill__task_mark_dirty(task);
    }
    g_hash_table_remove_all(driver->tasks);
    return err;
}

RILL_EXPORT int64_t rill_driver_stream_time(const rill_driver_t *driver, const char *task_id)
{
    if (driver == NULL || task_id == NULL)
        return -1;
    const rill_task_t *task = g_hash_table_lookup(driver->tasks, task_id);
    return task != NULL ? rill__task_stream_time(task) : -1;
}

RILL_EXPORT uint64_t rill_driver_dropped_records(const rill_driver_t *driver, const char *task_id,
                                                 const char *reason)
{
    if (driver == NULL)
        return 0;
    uint64_t total = 0;
    GHashTableIter it;
    gpointer id, value;
    g_hash_table_iter_init(&it, driver->tasks);
    while (g_hash_table_iter_next(&it, &id, &value)) {
        if (task_id != NULL && strcmp(task_id, id) != 0)
            continue;
        rill__task_stats_t stats;
        rill__task_stats(value, &stats);
        for (int r = 0; r < RILL__DROP_REASON_COUNT; r++)
            if (reason == NULL || strcmp(reason, rill__drop_reason_name(r)) == 0)
                total += stats.dropped[r];
    }
    return total;
}
