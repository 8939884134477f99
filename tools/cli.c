/* cli.c: options, clients and failure handling shared by the subcommands (see cli.h). */
#include "config.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

volatile int cli_stop = 0;

static void on_signal(int sig)
{
    cli_stop = sig;
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

void cli_add_common_options(GOptionContext *ctx, cli_common_t *common)
{
    GOptionEntry entries[] = {
        {"bootstrap-server", 'b', 0, G_OPTION_ARG_STRING, &common->bootstrap,
         "Broker address (default 127.0.0.1:9092)", "HOST:PORT"},
        {"bootstrap-servers", 0, 0, G_OPTION_ARG_STRING, &common->bootstrap,
         "Same as --bootstrap-server", "HOST:PORT"},
        {"property", 'X', 0, G_OPTION_ARG_STRING_ARRAY, &common->props,
         "librdkafka property passed as is (repeatable)", "KEY=VALUE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_option_context_add_main_entries(ctx, entries, NULL);
}

void cli_parse(GOptionContext *ctx, cli_common_t *common, int *argc, char ***argv)
{
    GError *gerr = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &gerr)) {
        fprintf(stderr, "rill %s: %s (see 'rill %s --help')\n", common->command, gerr->message,
                common->command);
        g_error_free(gerr);
        exit(2);
    }
    if (common->bootstrap == NULL)
        common->bootstrap = g_strdup("127.0.0.1:9092");
}

static void vfail(const cli_common_t *common, int code, const char *fmt, va_list ap)
{
    char msg[1024]; /* on the stack: exit() runs no cleanup of the caller's frames */
    vsnprintf(msg, sizeof(msg), fmt, ap);
    fprintf(stderr, "rill %s: %s\n", common->command, msg);
    exit(code);
}

void cli_usage_error(const cli_common_t *common, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(common, 2, fmt, ap);
    va_end(ap);
    exit(2);
}

void cli_fail(const cli_common_t *common, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(common, 1, fmt, ap);
    va_end(ap);
    exit(1);
}

rd_kafka_conf_t *cli_conf(const cli_common_t *common)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", common->bootstrap, errstr,
                          sizeof(errstr)) != RD_KAFKA_CONF_OK)
        cli_usage_error(common, "%s", errstr);
    /* a tool should fail fast when the broker is not there */
    rd_kafka_conf_set(conf, "log_level", "3", NULL, 0);
    for (char **p = common->props; p && *p; p++) {
        char *eq = strchr(*p, '=');
        if (eq == NULL)
            cli_usage_error(common, "-X %s: expected KEY=VALUE", *p);
        g_autofree char *key = g_strndup(*p, (gsize)(eq - *p));
        if (rd_kafka_conf_set(conf, key, eq + 1, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
            cli_usage_error(common, "-X %s: %s", *p, errstr);
    }
    return conf;
}

static rd_kafka_t *new_client(const cli_common_t *common, rd_kafka_type_t type,
                              rd_kafka_conf_t *conf)
{
    char errstr[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
    if (rk == NULL)
        cli_fail(common, "cannot create a Kafka client: %s", errstr);
    return rk;
}

rd_kafka_t *cli_producer(const cli_common_t *common, rd_kafka_conf_t *conf)
{
    return new_client(common, RD_KAFKA_PRODUCER, conf);
}

rd_kafka_t *cli_consumer(const cli_common_t *common, rd_kafka_conf_t *conf)
{
    return new_client(common, RD_KAFKA_CONSUMER, conf);
}

bool cli_stdout_is_tty(void)
{
    return isatty(STDOUT_FILENO) == 1;
}

rd_kafka_AdminOptions_t *cli_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                           int timeout_ms)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, errstr, sizeof(errstr));
    return opts;
}

rd_kafka_event_t *cli_admin_wait(const cli_common_t *common, rd_kafka_queue_t *q,
                                 rd_kafka_event_type_t type, int timeout_ms)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (ev == NULL)
        cli_fail(common, "no answer from %s within %d ms", common->bootstrap, timeout_ms + 5000);
    if (rd_kafka_event_error(ev))
        cli_fail(common, "%s", rd_kafka_event_error_string(ev));
    if (rd_kafka_event_type(ev) != type)
        cli_fail(common, "unexpected admin event %s", rd_kafka_event_name(ev));
    return ev;
}
