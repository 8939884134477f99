/* test-query.c: queryable state and the app's global tables, against an
 * in-process librdkafka mock cluster: a global table is bootstrapped by
 * rill_app_start (before RUNNING) and readable through rill_app_store; a
 * count store's read handle gets, ranges and merges across the tasks; the
 * error cases (unknown store, not running, in-memory store, bad
 * application.server). Key owners need DescribeConsumerGroups, which the
 * mock cluster does not serve: 0310 tests them on rill-broker. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <rill/rill.h>

typedef struct cluster {
    rd_kafka_t *rk;
    rd_kafka_mock_cluster_t *mcluster;
    const char *bootstrap;
} cluster_t;

static cluster_t *cluster_new(void)
{
    cluster_t *cluster = g_new0(cluster_t, 1);
    char errstr[256];
    cluster->rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), errstr, sizeof errstr);
    assert_non_null(cluster->rk);
    cluster->mcluster = rd_kafka_mock_cluster_new(cluster->rk, 1);
    assert_non_null(cluster->mcluster);
    cluster->bootstrap = rd_kafka_mock_cluster_bootstraps(cluster->mcluster);
    return cluster;
}

static void cluster_destroy(cluster_t *cluster)
{
    rd_kafka_mock_cluster_destroy(cluster->mcluster);
    rd_kafka_destroy(cluster->rk);
    g_free(cluster);
}

/* Produces key=value pairs ("k1", "v1", "k2", "v2", ..., NULL) to topic. */
static void produce(cluster_t *cluster, const char *topic, ...)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster->bootstrap, errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    assert_non_null(rk);
    va_list ap;
    va_start(ap, topic);
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        assert_int_equal(
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_KEY(key, strlen(key)),
                              RD_KAFKA_V_VALUE((void *)value, strlen(value)), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    va_end(ap);
    assert_int_equal(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* products (global) and clicks counted into "counts" (RocksDB) and
 * "mem-counts" (in memory). */
static rill_topology_t *query_topology(void)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t strings = {.key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()};
    assert_non_null(rill_builder_global_table(builder, "products", &strings,
                                              &(rill_materialized_t){.name = "products"}));
    rill_stream_t *clicks = rill_builder_stream(builder, "clicks", &strings);
    rill_grouped_t *grouped = rill_stream_group_by_key(clicks, NULL);
    rill_grouped_count(grouped,
                       &(rill_materialized_t){.name = "counts", .key_serde = rill_serde_string()});
    rill_grouped_count(grouped, &(rill_materialized_t){.name = "mem-counts",
                                                       .in_memory = true,
                                                       .key_serde = rill_serde_string()});
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    if (topology == NULL)
        fail_msg("build: %s", rill_error_message(error));
    rill_builder_destroy(builder);
    return topology;
}

static int64_t be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

/* The count of key in store, -1 if absent (asserting the read works). */
static int64_t count_of(rill_read_store_t *store, const char *key)
{
    void *value = NULL;
    size_t len = 0;
    rill_error_t *error = NULL;
    if (rill_read_store_get(store, key, strlen(key), &value, &len, &error) != RILL_OK)
        fail_msg("get %s: %s", key, rill_error_message(error));
    int64_t count = value != NULL ? (assert_int_equal(len, 8), be64(value)) : -1;
    rill_free(value);
    return count;
}

/* As count_of, but -2 on an error (while waiting: the app may be rebalancing). */
static int64_t try_count(rill_read_store_t *store, const char *key)
{
    void *value = NULL;
    size_t len = 0;
    if (rill_read_store_get(store, key, strlen(key), &value, &len, NULL) != RILL_OK)
        return -2;
    int64_t count = value != NULL && len == 8 ? be64(value) : -1;
    rill_free(value);
    return count;
}

static bool collect(const void *key, size_t key_len, const void *value, size_t value_len, void *ud)
{
    GString *out = ud;
    g_string_append_printf(out, "%s%.*s=%" PRId64, out->len > 0 ? "," : "", (int)key_len,
                           (const char *)key, value_len == 8 ? be64(value) : -1);
    return true;
}

static void wait_running(rill_app_t *app)
{
    for (int i = 0; i < 300 && rill_app_state(app) != RILL_APP_RUNNING; i++)
        g_usleep(100 * 1000);
    assert_int_equal(rill_app_state(app), RILL_APP_RUNNING);
}

static void test_query__stores_of_a_running_app(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "products", 2, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "clicks", 3, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "q-counts-changelog", 3, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "q-mem-counts-changelog", 3, 1);
    produce(cluster, "products", "p1", "widget", "p2", "gadget", "p1", "widget v2", NULL);
    g_autofree char *dir = g_dir_make_tmp("rill-test-query-XXXXXX", NULL);
    rill_topology_t *topology = query_topology();
    rill_config_t *config = rill_config_new();
    rill_config_set(config, "application.id", "q", NULL);
    rill_config_set(config, "bootstrap.servers", cluster->bootstrap, NULL);
    rill_config_set(config, "state.dir", dir, NULL);
    rill_config_set(config, "statestore.cache.max.bytes", "0", NULL);
    rill_config_set(config, "commit.interval.ms", "100", NULL);
    rill_config_set(config, "application.server", "127.0.0.1:8080", NULL);
    rill_error_t *error = NULL;
    rill_app_t *app = rill_app_new(topology, config, &error);
    assert_non_null(app);

    /* not started: no handle */
    assert_null(rill_app_store(app, "counts", &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_STATE);
    assert_true(rill_error_is_retriable(error));
    rill_error_destroy(error);
    error = NULL;
    assert_null(rill_app_store(app, "no-such-store", &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_NOT_FOUND);
    rill_error_destroy(error);
    error = NULL;

    /* start returns with the global table bootstrapped (last value wins) */
    if (rill_app_start(app, &error) != RILL_OK)
        fail_msg("start: %s", rill_error_message(error));
    wait_running(app);
    rill_read_store_t *products = rill_app_store(app, "products", &error);
    assert_non_null(products);
    void *value = NULL;
    size_t len = 0;
    assert_int_equal(rill_read_store_get(products, "p1", 2, &value, &len, &error), RILL_OK);
    assert_non_null(value);
    assert_int_equal(len, 9);
    assert_memory_equal(value, "widget v2", 9);
    rill_free(value);
    GString *all = g_string_new(NULL);
    assert_int_equal(rill_read_store_all(products, collect, all, &error), RILL_OK);
    assert_true(strstr(all->str, "p1=") != NULL && strstr(all->str, "p2=") != NULL);
    g_string_free(all, TRUE);

    /* counts, across the tasks of 3 partitions (one thread: the mock cluster's
     * group of two members takes tens of seconds to settle) */
    produce(cluster, "clicks", "a", "x", "b", "x", "c", "x", "a", "x", "d", "x", "a", "x", "b", "x",
            NULL);
    rill_read_store_t *counts = rill_app_store(app, "counts", &error);
    assert_non_null(counts);
    for (int i = 0; i < 300 && (try_count(counts, "a") < 3 || try_count(counts, "b") < 2 ||
                                try_count(counts, "d") < 1);
         i++)
        g_usleep(100 * 1000);
    wait_running(app);
    assert_int_equal(count_of(counts, "a"), 3);
    assert_int_equal(count_of(counts, "b"), 2);
    assert_int_equal(count_of(counts, "c"), 1);
    assert_int_equal(count_of(counts, "zz"), -1); /* absent */
    all = g_string_new(NULL);
    assert_int_equal(rill_read_store_all(counts, collect, all, &error), RILL_OK);
    assert_string_equal(all->str, "a=3,b=2,c=1,d=1"); /* merged in key order */
    g_string_truncate(all, 0);
    assert_int_equal(rill_read_store_range(counts, "b", 1, "d", 1, collect, all, &error), RILL_OK);
    assert_string_equal(all->str, "b=2,c=1"); /* [from, to) */
    g_string_free(all, TRUE);

    /* in-memory task stores cannot be read from this thread */
    rill_read_store_t *mem = rill_app_store(app, "mem-counts", &error);
    assert_non_null(mem);
    assert_int_equal(rill_read_store_get(mem, "a", 1, &value, &len, &error), RILL_ERR_UNSUPPORTED);
    assert_non_null(strstr(rill_error_message(error), "in memory"));
    rill_error_destroy(error);
    error = NULL;
    rill_read_store_destroy(mem);

    /* a global store's owner is this instance */
    char *owner = NULL;
    assert_int_equal(rill_app_key_owner(app, "products", "p1", 2, &owner, &error), RILL_OK);
    assert_string_equal(owner, "127.0.0.1:8080");
    rill_free(owner);

    /* closed: reads are refused, not served from closed stores */
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    assert_int_equal(rill_read_store_get(counts, "a", 1, &value, &len, &error),
                     RILL_ERR_INVALID_STATE);
    assert_null(value);
    rill_error_destroy(error);
    error = NULL;
    rill_read_store_destroy(counts);
    rill_read_store_destroy(products);
    rill_app_destroy(app);
    /* the global store's checkpoint: both partitions, after every record */
    g_autofree char *checkpoint = g_build_filename(dir, "q", "global", ".checkpoint", NULL);
    assert_true(g_file_test(checkpoint, G_FILE_TEST_EXISTS));
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_query__bad_application_server_is_refused(void **state)
{
    (void)state;
    rill_topology_t *topology = query_topology();
    const char *bad[] = {"localhost", "host:", ":80", "host:99999", "host:http", "a@b:1"};
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        rill_config_t *config = rill_config_new();
        rill_config_set(config, "application.id", "q", NULL);
        rill_config_set(config, "bootstrap.servers", "127.0.0.1:1", NULL);
        rill_config_set(config, "application.server", bad[i], NULL);
        rill_error_t *error = NULL;
        assert_null(rill_app_new(topology, config, &error));
        assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_CONFIG);
        assert_non_null(strstr(rill_error_message(error), "application.server"));
        rill_error_destroy(error);
        rill_config_destroy(config);
    }
    rill_topology_destroy(topology);
}

static void test_query__missing_global_topic_fails_start(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "clicks", 1, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "qm-counts-changelog", 1, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "qm-mem-counts-changelog", 1, 1);
    rill_topology_t *topology = query_topology();
    rill_config_t *config = rill_config_new();
    rill_config_set(config, "application.id", "qm", NULL);
    rill_config_set(config, "bootstrap.servers", cluster->bootstrap, NULL);
    rill_config_set(config, "state.dir", "", NULL);
    rill_error_t *error = NULL;
    rill_app_t *app = rill_app_new(topology, config, &error);
    assert_non_null(app);
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_NOT_FOUND);
    assert_non_null(
        strstr(rill_error_message(error), "global table topic products does not exist"));
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    rill_error_destroy(error);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static gpointer start_thread(gpointer app)
{
    rill_error_t *error = NULL;
    rill_err_t err = rill_app_start(app, &error);
    rill_error_destroy(error);
    return GINT_TO_POINTER(err);
}

/* rill_app_close() during the bootstrap stops it: NOT_RUNNING, not ERROR. */
static void test_query__close_during_the_global_bootstrap(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "products", 3, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "clicks", 1, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "qc-counts-changelog", 1, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "qc-mem-counts-changelog", 1, 1);
    produce(cluster, "products", "p1", "widget", NULL);
    rd_kafka_mock_broker_set_rtt(cluster->mcluster, 1, 700); /* a slow bootstrap */
    rill_topology_t *topology = query_topology();
    rill_config_t *config = rill_config_new();
    rill_config_set(config, "application.id", "qc", NULL);
    rill_config_set(config, "bootstrap.servers", cluster->bootstrap, NULL);
    rill_config_set(config, "state.dir", "", NULL);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    assert_non_null(app);
    GThread *starter = g_thread_new("starter", start_thread, app);
    for (int i = 0; i < 1500 && rill_app_state(app) != RILL_APP_REBALANCING; i++)
        g_usleep(20 * 1000);
    assert_int_equal(rill_app_state(app), RILL_APP_REBALANCING); /* bootstrapping */
    assert_int_equal(rill_app_close(app, 60000), RILL_OK);
    assert_int_not_equal(GPOINTER_TO_INT(g_thread_join(starter)), RILL_OK);
    assert_int_equal(rill_app_state(app), RILL_APP_NOT_RUNNING);
    assert_null(rill_app_error(app));
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_query__stores_of_a_running_app),
        cmocka_unit_test(test_query__bad_application_server_is_refused),
        cmocka_unit_test(test_query__missing_global_topic_fails_start),
        cmocka_unit_test(test_query__close_during_the_global_bootstrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
