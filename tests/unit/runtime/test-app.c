/* test-app.c: rill_app_t's state machine and failure reporting, against an
 * in-process librdkafka mock cluster: the listener sees Kafka Streams'
 * transitions in order, close works from every state, a failing app goes to
 * ERROR with the reason and returns, and close commits what was processed. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    cluster->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
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

static void produce(cluster_t *cluster, const char *topic, int n, const char *value)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(rd_kafka_conf_set(conf, "bootstrap.servers", cluster->bootstrap, errstr,
                                       sizeof(errstr)),
                     RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i);
        assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_KEY(key, strlen(key)),
                                           RD_KAFKA_V_VALUE((void *)value, strlen(value)),
                                           RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* The sum of the group's committed offsets on topic's partitions. */
static int64_t committed(cluster_t *cluster, const char *group, const char *topic, int partitions)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster->bootstrap, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(partitions);
    for (int p = 0; p < partitions; p++)
        rd_kafka_topic_partition_list_add(list, topic, p);
    assert_int_equal(rd_kafka_committed(rk, list, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    int64_t sum = 0;
    for (int p = 0; p < partitions; p++)
        if (list->elems[p].offset >= 0)
            sum += list->elems[p].offset;
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(rk);
    return sum;
}

/* ---- the listener's record of transitions ---- */

typedef struct transitions {
    GMutex lock;
    GString *seen;
} transitions_t;

static void listener(rill_app_state_t old_state, rill_app_state_t new_state, void *ud)
{
    transitions_t *t = ud;
    g_mutex_lock(&t->lock);
    if (t->seen->len == 0)
        g_string_append(t->seen, rill_app_state_name(old_state));
    g_string_append_printf(t->seen, ">%s", rill_app_state_name(new_state));
    g_mutex_unlock(&t->lock);
}

static rill_config_t *config_for(cluster_t *cluster, const char *app_id)
{
    rill_config_t *config = rill_config_new();
    assert_int_equal(rill_config_set(config, "application.id", app_id, NULL), RILL_OK);
    assert_int_equal(rill_config_set(config, "bootstrap.servers", cluster->bootstrap, NULL),
                     RILL_OK);
    assert_int_equal(rill_config_set(config, "commit.interval.ms", "100", NULL), RILL_OK);
    return config;
}

static gint forwarded;

static bool keep_all(const rill_record_t *record, void *ud)
{
    (void)record;
    (void)ud;
    g_atomic_int_inc(&forwarded);
    return true;
}

static rill_topology_t *pass_through(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *stream = rill_builder_stream(builder, in, NULL);
    rill_stream_to(rill_stream_filter(stream, keep_all, NULL, NULL), out, NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_non_null(topology);
    return topology;
}

static void wait_processed(rill_app_t *app, uint64_t n)
{
    for (int i = 0; i < 300; i++) {
        rill_app_stats_t stats;
        rill_app_stats(app, &stats);
        if (stats.records_processed >= n)
            return;
        g_usleep(100 * 1000);
    }
    fail_msg("the app did not process %llu records within 30 s", (unsigned long long)n);
}

static void test_app__runs_and_closes_through_kafka_streams_states(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 2, 1);
    produce(cluster, "in", 100, "v");
    rill_topology_t *topology = pass_through("in", "out");
    rill_config_t *config = config_for(cluster, "app-states");
    transitions_t t = {.seen = g_string_new(NULL)};
    g_mutex_init(&t.lock);

    rill_error_t *error = NULL;
    rill_app_t *app = rill_app_new(topology, config, &error);
    assert_non_null(app);
    assert_int_equal(rill_app_state(app), RILL_APP_CREATED);
    assert_int_equal(rill_app_set_state_listener(app, listener, &t, &error), RILL_OK);
    assert_int_equal(rill_app_start(app, &error), RILL_OK);
    /* a second start, and a late listener, are refused */
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_INVALID_STATE);
    rill_error_destroy(error);
    error = NULL;
    assert_int_equal(rill_app_set_state_listener(app, listener, &t, &error),
                     RILL_ERR_INVALID_STATE);
    rill_error_destroy(error);
    error = NULL;

    wait_processed(app, 100);
    assert_int_equal(rill_app_state(app), RILL_APP_RUNNING);
    assert_int_equal(rill_app_wait(app, 50), RILL_APP_RUNNING); /* bounded */
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    assert_int_equal(rill_app_state(app), RILL_APP_NOT_RUNNING);
    assert_null(rill_app_error(app));
    rill_app_stats_t stats;
    rill_app_stats(app, &stats);
    assert_int_equal(stats.records_processed, 100);
    assert_int_equal(stats.records_produced, 100);
    assert_true(stats.commits >= 1);
    g_mutex_lock(&t.lock);
    assert_string_equal(t.seen->str, "CREATED>REBALANCING>RUNNING>PENDING_SHUTDOWN>NOT_RUNNING");
    g_mutex_unlock(&t.lock);
    /* close committed every processed record (at-least-once, nothing lost) */
    assert_int_equal(committed(cluster, "app-states", "in", 2), 100);

    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    g_string_free(t.seen, TRUE);
    g_mutex_clear(&t.lock);
    cluster_destroy(cluster);
}

static void test_app__close_before_start(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rill_topology_t *topology = pass_through("in", "out");
    rill_config_t *config = config_for(cluster, "app-created");
    transitions_t t = {.seen = g_string_new(NULL)};
    g_mutex_init(&t.lock);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    assert_non_null(app);
    rill_app_set_state_listener(app, listener, &t, NULL);
    assert_int_equal(rill_app_close(app, 1000), RILL_OK);
    assert_int_equal(rill_app_state(app), RILL_APP_NOT_RUNNING);
    assert_string_equal(t.seen->str, "CREATED>PENDING_SHUTDOWN>NOT_RUNNING");
    rill_error_t *error = NULL;
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_INVALID_STATE);
    rill_error_destroy(error);
    rill_app_destroy(app);
    rill_app_destroy(NULL);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    g_string_free(t.seen, TRUE);
    g_mutex_clear(&t.lock);
    cluster_destroy(cluster);
}

static void test_app__missing_source_topic_fails_start_with_the_reason(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rill_topology_t *topology = pass_through("absent", "out");
    rill_config_t *config = config_for(cluster, "app-missing");
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_NOT_FOUND);
    assert_non_null(strstr(rill_error_message(error), "source topic absent does not exist"));
    rill_error_destroy(error);
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    assert_non_null(rill_app_error(app));
    assert_non_null(strstr(rill_error_message(rill_app_error(app)), "absent"));
    assert_int_equal(rill_app_wait(app, -1), RILL_APP_ERROR); /* returns at once */
    assert_int_equal(rill_app_close(app, 1000), RILL_OK);
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static void test_app__metrics_listener_port_and_bad_listener(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    produce(cluster, "in", 1, "x");
    rill_topology_t *topology = pass_through("in", "out");

    /* unset: no endpoint, no port */
    rill_config_t *config = config_for(cluster, "app-metrics-off");
    rill_app_t *app = rill_app_new(topology, config, NULL);
    assert_int_equal(rill_app_metrics_port(app), -1);
    assert_int_equal(rill_app_start(app, NULL), RILL_OK);
    assert_int_equal(rill_app_metrics_port(app), -1);
    rill_app_destroy(app);
    rill_config_destroy(config);

    /* port 0: a port is bound at start */
    config = config_for(cluster, "app-metrics-on");
    assert_int_equal(rill_config_set(config, "metrics.listener", "127.0.0.1:0", NULL), RILL_OK);
    app = rill_app_new(topology, config, NULL);
    assert_int_equal(rill_app_metrics_port(app), -1);
    assert_int_equal(rill_app_start(app, NULL), RILL_OK);
    assert_true(rill_app_metrics_port(app) > 0);
    rill_app_destroy(app);
    rill_config_destroy(config);

    /* a bad listener fails start with the reason */
    config = config_for(cluster, "app-metrics-bad");
    assert_int_equal(rill_config_set(config, "metrics.listener", "127.0.0.1:http", NULL), RILL_OK);
    app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(rill_error_message(error), "metrics.listener '127.0.0.1:http'"));
    rill_error_destroy(error);
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    assert_int_equal(rill_app_metrics_port(app), -1);
    rill_app_destroy(app);
    rill_config_destroy(config);

    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static rill_err_t explode(const rill_record_t *record, rill_value_t *out, void *ud,
                          rill_error_t **error)
{
    (void)record;
    (void)out;
    (void)ud;
    return rill_error_set(error, RILL_ERR_USER, "boom: the callback refused the record");
}

static void test_app__failing_callback_puts_the_app_in_error_with_the_reason(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 1, 1);
    produce(cluster, "in", 5, "v");
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(rill_stream_map_values(rill_builder_stream(builder, "in", NULL), explode, NULL,
                                          NULL),
                   "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_config_t *config = config_for(cluster, "app-fail");
    assert_int_equal(rill_config_set(config, "num.stream.threads", "2", NULL), RILL_OK);
    transitions_t t = {.seen = g_string_new(NULL)};
    g_mutex_init(&t.lock);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_app_set_state_listener(app, listener, &t, NULL);
    assert_int_equal(rill_app_start(app, NULL), RILL_OK);
    assert_int_equal(rill_app_wait(app, 30000), RILL_APP_ERROR);
    const rill_error_t *error = rill_app_error(app);
    assert_non_null(error);
    assert_non_null(strstr(rill_error_message(error), "boom"));
    assert_non_null(strstr(rill_error_message(error), "task 0_0"));
    assert_int_equal(rill_app_close(app, 10000), RILL_OK);
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    g_mutex_lock(&t.lock);
    assert_true(g_str_has_suffix(t.seen->str, ">ERROR"));
    g_mutex_unlock(&t.lock);
    /* nothing was committed: the failed record is read again next time */
    assert_int_equal(committed(cluster, "app-fail", "in", 1), 0);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    g_string_free(t.seen, TRUE);
    g_mutex_clear(&t.lock);
    cluster_destroy(cluster);
}

static void test_app__co_partitioning_is_checked_at_start(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "left", 2, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "right", 3, 1);
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *merged = rill_stream_merge(rill_builder_stream(builder, "left", NULL),
                                              rill_builder_stream(builder, "right", NULL), NULL);
    rill_stream_to(merged, "out", NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_non_null(topology);
    rill_config_t *config = config_for(cluster, "app-copart");
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_INVALID_STATE);
    assert_non_null(strstr(rill_error_message(error), "co-partitioned"));
    rill_error_destroy(error);
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static void test_app__new_refuses_incomplete_config(void **state)
{
    (void)state;
    rill_topology_t *topology = pass_through("in", "out");
    rill_config_t *config = rill_config_new();
    rill_error_t *error = NULL;
    assert_null(rill_app_new(topology, config, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_CONFIG);
    rill_error_destroy(error);
    error = NULL;
    assert_null(rill_app_new(NULL, config, &error));
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_ARG);
    rill_error_destroy(error);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    assert_string_equal(rill_app_state_name(RILL_APP_PENDING_SHUTDOWN), "PENDING_SHUTDOWN");
}

static rill_topology_t *through_repartition(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *stream = rill_builder_stream(builder, in, NULL);
    rill_produced_t produced = {.name = "rekey"};
    rill_stream_to(rill_stream_repartition(stream, &produced), out, NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_non_null(topology);
    return topology;
}

static void test_app__runs_through_a_repartition_topic(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 2, 1);
    /* the mock has no CreateTopics: the internal topic is made here */
    rd_kafka_mock_topic_create(cluster->mcluster, "app-repart-rekey-repartition", 2, 1);
    produce(cluster, "in", 50, "v");
    rill_topology_t *topology = through_repartition("in", "out");
    rill_config_t *config = config_for(cluster, "app-repart");
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    if (rill_app_start(app, &error) != RILL_OK)
        fail_msg("start: %s", rill_error_message(error));
    wait_processed(app, 100); /* 50 from in, 50 from the repartition topic */
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    rill_app_stats_t stats;
    rill_app_stats(app, &stats);
    assert_int_equal(stats.records_processed, 100);
    assert_int_equal(stats.records_produced, 100); /* 50 to the repartition topic, 50 to out */
    assert_int_equal(committed(cluster, "app-repart", "in", 2), 50);
    assert_int_equal(committed(cluster, "app-repart", "app-repart-rekey-repartition", 2), 50);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static void test_app__internal_topics_that_cannot_be_created_fail_start(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 2, 1);
    rill_topology_t *topology = through_repartition("in", "out");
    rill_config_t *config = config_for(cluster, "app-nocreate");
    /* bounds the admin request (the mock has no controller to answer it) */
    assert_int_equal(rill_config_set(config, "admin.socket.timeout.ms", "2000", NULL), RILL_OK);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    assert_int_not_equal(rill_app_start(app, &error), RILL_OK);
    assert_non_null(strstr(rill_error_message(error),
                           "cannot create internal topic app-nocreate-rekey-repartition with 2 "
                           "partitions"));
    rill_error_destroy(error);
    assert_int_equal(rill_app_state(app), RILL_APP_ERROR);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);

    /* one that exists with another partition count is refused, clearly */
    rd_kafka_mock_topic_create(cluster->mcluster, "app-wrong-rekey-repartition", 3, 1);
    topology = through_repartition("in", "out");
    config = config_for(cluster, "app-wrong");
    app = rill_app_new(topology, config, NULL);
    error = NULL;
    assert_int_equal(rill_app_start(app, &error), RILL_ERR_INVALID_STATE);
    assert_non_null(strstr(rill_error_message(error), "has 3 partitions"));
    rill_error_destroy(error);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static int64_t out_timestamp = -2;

static void record_timestamp(const rill_record_t *record, void *ud)
{
    (void)ud;
    out_timestamp = rill_record_timestamp(record);
}

static void test_app__wall_clock_timestamp_extractor(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 1, 1);
    produce(cluster, "in", 1, "v"); /* CreateTime: now */
    rill_builder_t *builder = rill_builder_new();
    rill_stream_foreach(rill_builder_stream(builder, "in", NULL), record_timestamp, NULL, NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_config_t *config = config_for(cluster, "app-wallclock");
    assert_int_equal(rill_config_set(config, "default.timestamp.extractor",
                                     "WallclockTimestampExtractor", NULL),
                     RILL_OK);
    g_usleep(1100 * 1000); /* so that processing time differs from CreateTime */
    int64_t before = g_get_real_time() / 1000;
    rill_app_t *app = rill_app_new(topology, config, NULL);
    assert_int_equal(rill_app_start(app, NULL), RILL_OK);
    wait_processed(app, 1);
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    assert_true(out_timestamp >= before);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

static int seen_value_type = -1;

static void record_value_type(const rill_record_t *record, void *ud)
{
    (void)ud;
    seen_value_type = (int)rill_value_type(rill_record_value(record));
}

static void test_app__default_serdes_come_from_the_config(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 1, 1);
    produce(cluster, "in", 1, "hello");
    rill_builder_t *builder = rill_builder_new();
    rill_stream_foreach(rill_builder_stream(builder, "in", NULL), record_value_type, NULL, NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    rill_config_t *config = config_for(cluster, "app-serdes");
    assert_int_equal(rill_config_set(config, "default.value.serde", "string", NULL), RILL_OK);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    assert_int_equal(rill_app_start(app, NULL), RILL_OK);
    wait_processed(app, 1);
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    assert_int_equal(seen_value_type, RILL_VALUE_STRING);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    cluster_destroy(cluster);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_app__runs_and_closes_through_kafka_streams_states),
        cmocka_unit_test(test_app__close_before_start),
        cmocka_unit_test(test_app__missing_source_topic_fails_start_with_the_reason),
        cmocka_unit_test(test_app__failing_callback_puts_the_app_in_error_with_the_reason),
        cmocka_unit_test(test_app__co_partitioning_is_checked_at_start),
        cmocka_unit_test(test_app__new_refuses_incomplete_config),
        cmocka_unit_test(test_app__runs_through_a_repartition_topic),
        cmocka_unit_test(test_app__internal_topics_that_cannot_be_created_fail_start),
        cmocka_unit_test(test_app__wall_clock_timestamp_extractor),
        cmocka_unit_test(test_app__default_serdes_come_from_the_config),
        cmocka_unit_test(test_app__metrics_listener_port_and_bad_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
