/* cli.h: what every `rill` subcommand shares: the bootstrap option (Kafka's
 * tools' spelling -b/--bootstrap-server, and --bootstrap-servers as the example
 * apps spell it), -X key=value pass-through to librdkafka, client handles,
 * and one way to fail: a usage error exits 2, a runtime failure exits 1, each
 * with one clear line on stderr prefixed "rill <command>:". */
#ifndef RILL_TOOLS_CLI_H
#define RILL_TOOLS_CLI_H

#include <stdbool.h>

#include <glib.h>
#include <librdkafka/rdkafka.h>

typedef struct cli_common {
    char *bootstrap;  /* default 127.0.0.1:9092 */
    char **props;     /* -X key=value, NULL-terminated (GOption) */
    const char *command; /* "topics create" etc., for messages (static) */
} cli_common_t;

/* Adds -b/--bootstrap-server/--bootstrap-servers and -X to ctx. */
void cli_add_common_options(GOptionContext *ctx, cli_common_t *common);

/* Parses argv with ctx; on a bad option prints the message and exits 2.
 * GOption's --help prints and exits 0. */
void cli_parse(GOptionContext *ctx, cli_common_t *common, int *argc, char ***argv);

/* A librdkafka config with bootstrap.servers and the -X properties; exits 2 on
 * a bad property. (transfer full) */
rd_kafka_conf_t *cli_conf(const cli_common_t *common);

/* Clients; exit 1 on failure. (transfer full) rd_kafka_destroy them. */
rd_kafka_t *cli_producer(const cli_common_t *common, rd_kafka_conf_t *conf);
rd_kafka_t *cli_consumer(const cli_common_t *common, rd_kafka_conf_t *conf);

/* Admin requests: options with the request (and operation) timeout, and a
 * wait for the result event that fails the command on a request-level error.
 * (transfer full) destroy both. */
rd_kafka_AdminOptions_t *cli_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                           int timeout_ms);
rd_kafka_event_t *cli_admin_wait(const cli_common_t *common, rd_kafka_queue_t *q,
                                 rd_kafka_event_type_t type, int timeout_ms);

/* The committed offsets of a consumer group, every partition. (transfer full) */
rd_kafka_topic_partition_list_t *cli_group_committed(const cli_common_t *common, rd_kafka_t *rk,
                                                     const char *group, int timeout_ms);

/* Fails with a usage error (exit 2) or a runtime error (exit 1). */
void cli_usage_error(const cli_common_t *common, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));
void cli_fail(const cli_common_t *common, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* True when stdout is a terminal (progress lines are shown only then). */
bool cli_stdout_is_tty(void);

/* Set by SIGINT/SIGTERM once cli_install_signals() ran. */
extern volatile int cli_stop;
void cli_install_signals(void);

/* Subcommands. */
int cli_topics(int argc, char **argv);
int cli_produce(int argc, char **argv);
int cli_consume(int argc, char **argv);
int cli_groups(int argc, char **argv);
int cli_reset(int argc, char **argv);
int cli_broker(int argc, char **argv);
int cli_describe(int argc, char **argv);

#endif
