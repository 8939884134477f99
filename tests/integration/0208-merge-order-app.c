/* 0208-merge-order-app.c: the app of test 0208: merges topics a and b (one
 * task reading partition P of both), prints every merged record as
 * "<topic>\t<offset>\t<timestamp>" to stdout in processing order, and counts
 * them per key in 1 s tumbling windows with no grace, so that a record
 * processed after stream time passed its window is dropped as late
 * (rill_app_dropped_records_total{reason="late"} on the metrics endpoint).
 *
 * usage: 0208-merge-order-app BOOTSTRAP STATE_DIR [KEY=VALUE...]
 * Runs until SIGTERM; exit 0 after a clean stop, 1 on failure. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <rill/rill.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void print_record(const rill_record_t *record, void *ud)
{
    (void)ud;
    printf("%s\t%" PRId64 "\t%" PRId64 "\n", rill_record_topic(record), rill_record_offset(record),
           rill_record_timestamp(record));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s BOOTSTRAP STATE_DIR [KEY=VALUE...]\n", argv[0]);
        return 2;
    }
    rill_error_t *error = NULL;
    rill_config_t *config = rill_config_new();
    rill_config_set(config, "bootstrap.servers", argv[1], NULL);
    rill_config_set(config, "application.id", "merge-order-0208", NULL);
    rill_config_set(config, "state.dir", argv[2], NULL);
    for (int i = 3; i < argc; i++)
        if (rill_config_set_string(config, argv[i], &error) != RILL_OK) {
            fprintf(stderr, "merge-order: %s\n", rill_error_message(error));
            return 2;
        }

    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t raw = {.key_serde = rill_serde_bytes(), .value_serde = rill_serde_bytes()};
    rill_stream_t *merged = rill_stream_merge(rill_builder_stream(builder, "a", &raw),
                                              rill_builder_stream(builder, "b", &raw), NULL);
    merged = rill_stream_peek(merged, print_record, NULL, NULL);
    rill_time_windowed_t *windowed = rill_grouped_windowed_by(
        rill_stream_group_by_key(merged, NULL),
        &(rill_time_windows_t){.size_ms = 1000, .grace_ms = 0});
    rill_time_windowed_count(windowed, &(rill_materialized_t){.name = "counts"});
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology) {
        fprintf(stderr, "merge-order: %s\n", rill_error_message(error));
        return 1;
    }
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app) {
        fprintf(stderr, "merge-order: %s\n", rill_error_message(error));
        rill_topology_destroy(topology);
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int status = 0;
    if (rill_app_start(app, &error) != RILL_OK) {
        fprintf(stderr, "merge-order: cannot start: %s\n", rill_error_message(error));
        status = 1;
    } else {
        fprintf(stderr, "merge-order: metrics on port %d\n", rill_app_metrics_port(app));
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "merge-order: failed: %s\n", rill_error_message(rill_app_error(app)));
            status = 1;
        }
    }
    rill_error_destroy(error);
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
