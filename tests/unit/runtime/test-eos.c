/* test-eos.c: processing.guarantee=exactly_once_v2 against librdkafka's
 * in-process mock cluster, which serves the transactional calls but keeps
 * neither the offsets of TxnOffsetCommit nor transaction markers (its
 * read_committed readers see nothing of a transactional producer's), so
 * these tests check what a client-side view shows: the transactional loop
 * runs, checkpoints exist only after a clean close, and a transaction that
 * cannot commit (a Produce request refused with a non-retriable error makes
 * it abortable) is aborted, the tasks' state rolled back and the input
 * processed again, so that the final state is right. What read_committed
 * readers see across a crash is checked against rill-broker by the
 * integration tests 0207 and 0304. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <rill/rill.h>

/* Kafka's ApiKey of Produce (librdkafka's constant is in a private header). */
#define KAFKA_API_PRODUCE 0

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

/* n records with keys k<i % keys> and value "v". */
static void produce(cluster_t *cluster, const char *topic, int n, int keys)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    assert_int_equal(
        rd_kafka_conf_set(conf, "bootstrap.servers", cluster->bootstrap, errstr, sizeof(errstr)),
        RD_KAFKA_CONF_OK);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    for (int i = 0; i < n; i++) {
        char key[32];
        snprintf(key, sizeof(key), "k%d", i % keys);
        assert_int_equal(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic),
                                           RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                           RD_KAFKA_V_KEY(key, strlen(key)),
                                           RD_KAFKA_V_VALUE((void *)"v", 1), RD_KAFKA_V_END),
                         RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    assert_int_equal(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
    rd_kafka_destroy(rk);
}

/* Every record of topic (partitions 0..partitions-1) as "key=value" lines,
 * read at isolation (read_committed or read_uncommitted), in partition
 * order. (transfer full, g_ptr_array_unref) */
static GPtrArray *read_all(cluster_t *cluster, const char *topic, int partitions,
                           const char *isolation)
{
    char errstr[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster->bootstrap, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "group.id", "test-eos-reader", errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "isolation.level", isolation, errstr, sizeof(errstr));
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    assert_non_null(rk);
    rd_kafka_poll_set_consumer(rk);
    GPtrArray *lines = g_ptr_array_new_with_free_func(g_free);
    for (int p = 0; p < partitions; p++) {
        rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        assert_int_equal(rd_kafka_assign(rk, list), RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_topic_partition_list_destroy(list);
        bool eof = false;
        for (int i = 0; i < 200 && !eof;) {
            rd_kafka_message_t *msg = rd_kafka_consumer_poll(rk, 100);
            if (!msg) {
                i++;
                continue;
            }
            if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                eof = true;
            else if (!msg->err) {
                int64_t count = 0;
                if (msg->len == 8)
                    for (int b = 0; b < 8; b++)
                        count = (count << 8) | ((const uint8_t *)msg->payload)[b];
                g_ptr_array_add(lines, g_strdup_printf("%.*s=%" G_GINT64_FORMAT, (int)msg->key_len,
                                                       (const char *)msg->key,
                                                       msg->len == 8 ? count : (int64_t)msg->len));
            }
            rd_kafka_message_destroy(msg);
        }
        assert_true(eof);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return lines;
}

static void rm_rf(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            rm_rf(child);
        }
        g_dir_close(dir);
    }
    g_remove(path);
}

static rill_config_t *config_for(cluster_t *cluster, const char *app_id, const char *state_dir)
{
    rill_config_t *config = rill_config_new();
    assert_int_equal(rill_config_set(config, "application.id", app_id, NULL), RILL_OK);
    assert_int_equal(rill_config_set(config, "bootstrap.servers", cluster->bootstrap, NULL),
                     RILL_OK);
    assert_int_equal(rill_config_set(config, "processing.guarantee", "exactly_once_v2", NULL),
                     RILL_OK);
    assert_int_equal(rill_config_set(config, "state.dir", state_dir, NULL), RILL_OK);
    assert_int_equal(rill_config_set(config, "statestore.cache.max.bytes", "0", NULL), RILL_OK);
    /* a second run joins sooner (the mock waits for a member that left) */
    assert_int_equal(rill_config_set(config, "consumer.session.timeout.ms", "6000", NULL), RILL_OK);
    return config;
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

static rill_topology_t *pass_through(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_stream_to(rill_builder_stream(builder, in, NULL), out, NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_non_null(topology);
    return topology;
}

/* in → count by key (store "counts") → out: every update of a key's count. */
static rill_topology_t *counting(const char *in, const char *out)
{
    rill_builder_t *builder = rill_builder_new();
    rill_grouped_t *grouped =
        rill_stream_group_by_key(rill_builder_stream(builder, in, NULL), NULL);
    rill_table_t *counts = rill_grouped_count(grouped, &(rill_materialized_t){.name = "counts"});
    rill_stream_to(rill_table_to_stream(counts, NULL), out, NULL);
    rill_topology_t *topology = rill_builder_build(builder, NULL);
    rill_builder_destroy(builder);
    assert_non_null(topology);
    return topology;
}

/* Waits (30 s at most) until every key's last count on out is per_key. */
static void wait_final(cluster_t *cluster, int keys, int per_key)
{
    for (int i = 0; i < 60; i++) {
        GPtrArray *lines = read_all(cluster, "out", 2, "read_uncommitted");
        GHashTable *last = g_hash_table_new(g_str_hash, g_str_equal);
        for (guint j = 0; j < lines->len; j++) {
            char *line = lines->pdata[j];
            char *eq = strchr(line, '=');
            *eq = '\0';
            g_hash_table_insert(last, line, eq + 1);
        }
        int done = 0;
        for (int k = 0; k < keys; k++) {
            g_autofree char *key = g_strdup_printf("k%d", k);
            const char *v = g_hash_table_lookup(last, key);
            done += v != NULL && atoi(v) == per_key;
        }
        g_hash_table_destroy(last);
        g_ptr_array_unref(lines);
        if (done == keys)
            return;
        g_usleep(500 * 1000);
    }
    fail_msg("the counts did not reach %d within 30 s", per_key);
}

/* Waits (30 s at most) until the last n records of out (one partition)
 * are k0=1 ... k<n-1>=1: the input produced again after the aborts. */
static void wait_reprocessed(cluster_t *cluster, guint n)
{
    for (int i = 0; i < 60; i++) {
        GPtrArray *lines = read_all(cluster, "out", 1, "read_uncommitted");
        guint ok = 0;
        for (guint j = 0; lines->len >= n && j < n; j++) {
            g_autofree char *want = g_strdup_printf("k%u=1", j);
            ok += strcmp(lines->pdata[lines->len - n + j], want) == 0;
        }
        g_ptr_array_unref(lines);
        if (ok == n)
            return;
        g_usleep(500 * 1000);
    }
    fail_msg("the input was not produced again after the abort within 30 s");
}

static void test_eos__transactions_run_on_the_mock(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 2, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "out", 2, 1);
    produce(cluster, "in", 100, 100);
    g_autofree char *dir = g_dir_make_tmp("test-eos-XXXXXX", NULL);
    rill_topology_t *topology = pass_through("in", "out");
    rill_config_t *config = config_for(cluster, "eos-pass", dir);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    if (rill_app_start(app, &error) != RILL_OK)
        fail_msg("start: %s", rill_error_message(error));
    wait_processed(app, 100);
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    rill_app_stats_t stats;
    rill_app_stats(app, &stats);
    assert_int_equal(stats.records_processed, 100);
    assert_int_equal(stats.records_produced, 100);
    assert_true(stats.commits > 0);
    GPtrArray *lines = read_all(cluster, "out", 2, "read_uncommitted");
    assert_int_equal(lines->len, 100);
    g_ptr_array_unref(lines);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    rm_rf(dir);
    cluster_destroy(cluster);
}

/* A Produce request refused with a non-retriable error fails a record of
 * the open transaction: it must be aborted and its input processed again,
 * and read_committed readers see every record once. */
static void test_eos__refused_produce_aborts_and_reprocesses(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 1, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "out", 1, 1);
    produce(cluster, "in", 100, 100);
    rd_kafka_mock_push_request_errors(cluster->mcluster, KAFKA_API_PRODUCE, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    g_autofree char *dir = g_dir_make_tmp("test-eos-XXXXXX", NULL);
    rill_topology_t *topology = pass_through("in", "out");
    rill_config_t *config = config_for(cluster, "eos-abort", dir);
    rill_app_t *app = rill_app_new(topology, config, NULL);
    rill_error_t *error = NULL;
    if (rill_app_start(app, &error) != RILL_OK)
        fail_msg("start: %s", rill_error_message(error));
    wait_reprocessed(cluster, 100);
    assert_int_equal(rill_app_close(app, 30000), RILL_OK);
    assert_int_equal(rill_app_state(app), RILL_APP_NOT_RUNNING);
    rill_app_stats_t stats;
    rill_app_stats(app, &stats);
    /* the aborted transaction's records were processed twice */
    assert_true(stats.records_processed > 100);
    /* every record was produced again after the abort: the last 100 are the input */
    GPtrArray *lines = read_all(cluster, "out", 1, "read_uncommitted");
    assert_true(lines->len >= 100);
    for (guint i = 0; i < 100; i++) {
        g_autofree char *want = g_strdup_printf("k%u=1", i); /* value "v": length 1 */
        assert_string_equal(lines->pdata[lines->len - 100 + i], want);
    }
    g_ptr_array_unref(lines);
    rill_app_destroy(app);
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    rm_rf(dir);
    cluster_destroy(cluster);
}

/* Checkpoints under exactly-once: none while the app runs (deleted once
 * read), one after a clean close, which the next start reads and deletes.
 * (What the second run counts is not checked: the mock does not keep the
 * offsets committed in transactions, so it reads the input again.) */
static void test_eos__checkpoint_only_after_a_clean_close(void **state)
{
    (void)state;
    cluster_t *cluster = cluster_new();
    rd_kafka_mock_topic_create(cluster->mcluster, "in", 2, 1);
    rd_kafka_mock_topic_create(cluster->mcluster, "out", 2, 1);
    /* the mock has no CreateTopics */
    rd_kafka_mock_topic_create(cluster->mcluster, "eos-count-counts-changelog", 2, 1);
    produce(cluster, "in", 400, 10);
    g_autofree char *dir = g_dir_make_tmp("test-eos-XXXXXX", NULL);
    g_autofree char *checkpoint0 = g_build_filename(dir, "eos-count", "0_0", ".checkpoint", NULL);
    g_autofree char *checkpoint1 = g_build_filename(dir, "eos-count", "0_1", ".checkpoint", NULL);
    rill_topology_t *topology = counting("in", "out");
    rill_config_t *config = config_for(cluster, "eos-count", dir);
    for (int run = 0; run < 2; run++) {
        rill_app_t *app = rill_app_new(topology, config, NULL);
        rill_error_t *error = NULL;
        if (rill_app_start(app, &error) != RILL_OK)
            fail_msg("start: %s", rill_error_message(error));
        for (int i = 0; i < 300 && rill_app_state(app) != RILL_APP_RUNNING; i++)
            g_usleep(100 * 1000);
        assert_int_equal(rill_app_state(app), RILL_APP_RUNNING); /* the tasks exist */
        if (run == 0)
            wait_final(cluster, 10, 40);
        assert_false(g_file_test(checkpoint0, G_FILE_TEST_EXISTS));
        assert_false(g_file_test(checkpoint1, G_FILE_TEST_EXISTS));
        assert_int_equal(rill_app_close(app, 30000), RILL_OK);
        assert_int_equal(rill_app_state(app), RILL_APP_NOT_RUNNING);
        assert_true(g_file_test(checkpoint0, G_FILE_TEST_EXISTS));
        assert_true(g_file_test(checkpoint1, G_FILE_TEST_EXISTS));
        rill_app_destroy(app);
    }
    rill_config_destroy(config);
    rill_topology_destroy(topology);
    rm_rf(dir);
    cluster_destroy(cluster);
}

int main(void)
{
    const struct CMUnitTest tests[] = {

        cmocka_unit_test(test_eos__transactions_run_on_the_mock),
        cmocka_unit_test(test_eos__refused_produce_aborts_and_reprocesses),
        cmocka_unit_test(test_eos__checkpoint_only_after_a_clean_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
