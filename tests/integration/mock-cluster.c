/* mock-cluster.c: rill-mock-cluster, a librdkafka mock cluster in a process
 * of its own, so that several app instances (separate processes) can share
 * one cluster in integration tests and benchmarks.
 *
 *     rill-mock-cluster [--brokers N] [--topic NAME:PARTITIONS]...
 *                       [--bootstrap-file PATH]
 *
 * Prints the bootstrap string on stdout (and writes it to PATH, atomically,
 * once the topics exist), then runs until SIGTERM or SIGINT.
 * The mock serves produce, fetch, metadata, consumer groups and offsets, but
 * not CreateTopics: topics are created here, or auto-created (4 partitions)
 * on Produce/Metadata. Used until rill-broker serves consumer groups. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: rill-mock-cluster [--brokers N] [--topic NAME:PARTITIONS]... "
                 "[--bootstrap-file PATH]\n");
}

int main(int argc, char **argv)
{
    int brokers = 1;
    const char *bootstrap_file = NULL;
    const char *topics[256];
    int n_topics = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--brokers") == 0 && i + 1 < argc) {
            brokers = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc && n_topics < 256) {
            topics[n_topics++] = argv[++i];
        } else if (strcmp(argv[i], "--bootstrap-file") == 0 && i + 1 < argc) {
            bootstrap_file = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (brokers < 1) {
        fprintf(stderr, "rill-mock-cluster: --brokers must be >= 1\n");
        return 2;
    }

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "rill-mock-cluster: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(rk, brokers);
    if (!mcluster) {
        fprintf(stderr, "rill-mock-cluster: cannot create the mock cluster\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    for (int i = 0; i < n_topics; i++) {
        char name[512];
        const char *colon = strrchr(topics[i], ':');
        int partitions = colon ? atoi(colon + 1) : 0;
        if (!colon || partitions < 1 || (size_t)(colon - topics[i]) >= sizeof(name)) {
            fprintf(stderr, "rill-mock-cluster: --topic %s: expected NAME:PARTITIONS\n",
                    topics[i]);
            rd_kafka_mock_cluster_destroy(mcluster);
            rd_kafka_destroy(rk);
            return 2;
        }
        memcpy(name, topics[i], (size_t)(colon - topics[i]));
        name[colon - topics[i]] = '\0';
        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mcluster, name, partitions, 1);
        if (err) {
            fprintf(stderr, "rill-mock-cluster: topic %s: %s\n", name, rd_kafka_err2str(err));
            rd_kafka_mock_cluster_destroy(mcluster);
            rd_kafka_destroy(rk);
            return 1;
        }
    }
    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
    printf("%s\n", bootstrap);
    fflush(stdout);
    if (bootstrap_file) {
        char tmp[4096];
        snprintf(tmp, sizeof(tmp), "%s.tmp", bootstrap_file);
        FILE *f = fopen(tmp, "w");
        if (!f || fprintf(f, "%s\n", bootstrap) < 0 || fclose(f) != 0 ||
            rename(tmp, bootstrap_file) != 0) {
            perror("rill-mock-cluster: writing the bootstrap file");
            rd_kafka_mock_cluster_destroy(mcluster);
            rd_kafka_destroy(rk);
            return 1;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop)
        usleep(100 * 1000);

    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(rk);
    return 0;
}
