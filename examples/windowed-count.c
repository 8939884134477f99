/* windowed-count.c: counts the records of each key in tumbling event-time windows and emits each window once, after it closes.
 *
 * Each record of --input is counted under its key (the raw key bytes; null
 * keys are dropped) in the tumbling window [start, start + --window-ms) of
 * its timestamp (event time: the record's own timestamp). A window accepts
 * records until stream time (the largest timestamp the task has seen)
 * reaches its end + --grace-ms; records later than that are dropped and
 * counted in rill_app_dropped_records_total{reason="late"} (metrics.listener,
 * per task). When a window closes its final count goes to
 * --output once: key = "<key>@<window start in ms>", value = the count as
 * decimal text.
 *
 *     windowed-count -b 127.0.0.1:9092 --input clicks --output clicks-per-minute \
 *         --window-ms 60000 --grace-ms 5000
 *
 * The topology: source(input) → groupByKey → windowedBy(tumbling) →
 * count("windowed-counts": a RocksDB window store under --state-dir, logged
 * to "<application.id>-windowed-counts-changelog") → suppress(until the
 * window closes; buffer "windowed-counts-final", logged likewise) → toStream
 * → mapValues(decimal) → to(output, key "<key>@<start>"). Both stores are
 * restored from their changelogs after a restart or a lost state directory,
 * so no window is lost; at-least-once processing may emit a window again
 * only if it was emitted after the last commit. */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/rill.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static rill_err_t to_decimal(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    char *text = malloc(24);
    if (text == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    snprintf(text, 24, "%" PRId64, rill_value_int64(rill_record_value(record)));
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: windowed-count -b HOST:PORT --input TOPIC --output TOPIC [options]\n"
            "\n"
            "Counts the records of each key of the input topic in tumbling event-time windows\n"
            "and writes each window's final count once, after the window closes (end + grace):\n"
            "key = <key>@<window start in ms>, value = the count as decimal text. Records later\n"
            "than the grace are dropped and counted (rill_app_dropped_records_total{reason=late}).\n"
            "\n"
            "  -b, --bootstrap-servers HOST:PORT[,...]  the Kafka cluster (also --bootstrap-server)\n"
            "      --application-id ID     consumer group and app name (default windowed-count)\n"
            "      --state-dir DIR         local state directory (default /tmp/rill-streams)\n"
            "      --threads N             stream threads (default 1)\n"
            "      --processing-guarantee G  at_least_once (default)\n"
            "      --input TOPIC           the records to count (required)\n"
            "      --output TOPIC          the final window counts (required)\n"
            "      --window-ms MS          the window size (default 60000)\n"
            "      --grace-ms MS           how long after its end a window takes late records\n"
            "                              (default 0)\n"
            "  -c, --config KEY=VALUE      any rill or librdkafka setting (repeatable)\n"
            "  -h, --help                  this help\n"
            "\n"
            "Runs until SIGINT or SIGTERM, then commits and leaves the group.\n"
            "Exit status: 0 after a clean stop, 1 if the app failed, 2 for bad arguments.\n");
}

static int set(rill_config_t *config, const char *key, const char *value)
{
    rill_error_t *error = NULL;
    if (rill_config_set(config, key, value, &error) != RILL_OK) {
        fprintf(stderr, "windowed-count: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        return -1;
    }
    return 0;
}

/* A non-negative number of ms (positive if positive is set), or -1. */
static int64_t parse_ms(const char *text, bool positive)
{
    char *end = NULL;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || v < 0 || (positive && v == 0) || v > INT64_MAX / 4)
        return -1;
    return (int64_t)v;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"bootstrap-server", required_argument, NULL, 'b'},
        {"application-id", required_argument, NULL, 'a'},
        {"state-dir", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"processing-guarantee", required_argument, NULL, 'g'},
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"window-ms", required_argument, NULL, 'w'},
        {"grace-ms", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rill_config_t *config = rill_config_new();
    const char *input = NULL, *output = NULL;
    bool have_servers = false, have_id = false;
    int64_t window_ms = 60000, grace_ms = 0;
    int opt;
    while ((opt = getopt_long(argc, argv, "b:c:h", options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'b': rc = set(config, "bootstrap.servers", optarg); have_servers = true; break;
        case 'a': rc = set(config, "application.id", optarg); have_id = true; break;
        case 's': rc = set(config, "state.dir", optarg); break;
        case 't': rc = set(config, "num.stream.threads", optarg); break;
        case 'g': rc = set(config, "processing.guarantee", optarg); break;
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'w':
            if ((window_ms = parse_ms(optarg, true)) < 0) {
                fprintf(stderr, "windowed-count: --window-ms wants a positive number of ms\n");
                rc = -1;
            }
            break;
        case 'r':
            if ((grace_ms = parse_ms(optarg, false)) < 0) {
                fprintf(stderr, "windowed-count: --grace-ms wants a number of ms >= 0\n");
                rc = -1;
            }
            break;
        case 'c': {
            rill_error_t *error = NULL;
            if (rill_config_set_string(config, optarg, &error) != RILL_OK) {
                fprintf(stderr, "windowed-count: %s\n", rill_error_message(error));
                rill_error_destroy(error);
                rc = -1;
            }
            break;
        }
        case 'h': usage(stdout); rill_config_destroy(config); return 0;
        default: usage(stderr); rill_config_destroy(config); return 2;
        }
        if (rc) {
            rill_config_destroy(config);
            return 2;
        }
    }
    if (optind < argc || !have_servers || !input || !output) {
        fprintf(stderr, "windowed-count: %s\n",
                optind < argc  ? "unexpected argument"
                : !have_servers ? "--bootstrap-servers is required"
                : !input        ? "--input is required"
                                : "--output is required");
        usage(stderr);
        rill_config_destroy(config);
        return 2;
    }
    if (!have_id && set(config, "application.id", "windowed-count")) {
        rill_config_destroy(config);
        return 2;
    }

    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t raw = {.key_serde = rill_serde_bytes(), .value_serde = rill_serde_bytes()};
    rill_grouped_t *grouped =
        rill_stream_group_by_key(rill_builder_stream(builder, input, &raw), NULL);
    rill_time_windowed_t *windowed =
        rill_grouped_windowed_by(grouped, &(rill_time_windows_t){.size_ms = window_ms,
                                                                 .grace_ms = grace_ms});
    rill_table_t *counts =
        rill_time_windowed_count(windowed, &(rill_materialized_t){.name = "windowed-counts"});
    rill_table_t *final = rill_table_suppress_until_window_closes(
        counts, &(rill_suppressed_t){.name = "windowed-counts-final"});
    rill_stream_t *emitted =
        rill_stream_map_values(rill_table_to_stream(final, NULL), to_decimal, NULL, "decimal");
    rill_produced_t produced = {.key_serde = rill_serde_windowed_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(emitted, output, &produced);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology) {
        fprintf(stderr, "windowed-count: building the topology: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_config_destroy(config);
        return 1;
    }

    int status = 0;
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app) {
        fprintf(stderr, "windowed-count: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_topology_destroy(topology);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (rill_app_start(app, &error) != RILL_OK) {
        fprintf(stderr, "windowed-count: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr,
                "windowed-count: counting %s per key in %" PRId64 " ms windows (grace %" PRId64
                " ms) into %s\n",
                input, window_ms, grace_ms, output);
        if (rill_app_metrics_port(app) >= 0)
            fprintf(stderr, "windowed-count: metrics on port %d (GET /metrics)\n",
                    rill_app_metrics_port(app));
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "windowed-count: failed: %s\n",
                    rill_error_message(rill_app_error(app)));
            status = 1;
        }
        rill_app_stats_t stats;
        rill_app_stats(app, &stats);
        fprintf(stderr,
                "windowed-count: stopped: %llu records processed, %llu produced, %llu commits\n",
                (unsigned long long)stats.records_processed,
                (unsigned long long)stats.records_produced, (unsigned long long)stats.commits);
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
