/* cmd-produce.c: `rill produce TOPIC`: one record per input line, from stdin or
 * --file; an optional key separator splits each line into key and value; static
 * headers; an optional rate limit. Every record is acknowledged before the
 * command exits 0; any delivery failure is counted and makes it exit 1.
 *
 * Lines may be of any length (read with getline). A line's trailing "\n" (and
 * "\r\n") is not part of the value. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/cli.h"

typedef struct produce_state {
    int64_t delivered;
    int64_t failed;
    char first_error[256];
} produce_state_t;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    produce_state_t *st = opaque;
    if (m->err) {
        if (st->failed++ == 0)
            g_strlcpy(st->first_error, rd_kafka_err2str(m->err), sizeof(st->first_error));
    } else {
        st->delivered++;
    }
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int cli_produce(int argc, char **argv)
{
    cli_common_t common = {.command = "produce"};
    char *key_sep = NULL, *file = NULL, *acks = NULL, *compression = NULL;
    char **headers = NULL;
    int partition = RD_KAFKA_PARTITION_UA;
    double rate = 0;
    gboolean quiet = FALSE;
    GOptionEntry entries[] = {
        {"key-separator", 'K', 0, G_OPTION_ARG_STRING, &key_sep,
         "Split each line at the first SEP into key and value", "SEP"},
        {"header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &headers,
         "Add a header to every record (repeatable)", "NAME=VALUE"},
        {"file", 'f', 0, G_OPTION_ARG_FILENAME, &file, "Read lines from FILE, not stdin", "FILE"},
        {"partition", 'p', 0, G_OPTION_ARG_INT, &partition,
         "Write to this partition (default: by key)", "P"},
        {"rate", 0, 0, G_OPTION_ARG_DOUBLE, &rate, "At most N records per second", "N"},
        {"acks", 0, 0, G_OPTION_ARG_STRING, &acks, "acks: all (default), 1 or 0", "ACKS"},
        {"compression", 0, 0, G_OPTION_ARG_STRING, &compression,
         "none, gzip, snappy, lz4 or zstd", "CODEC"},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not print the summary", NULL},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("TOPIC");
    g_option_context_set_summary(ctx, "Write one record per line of input to TOPIC.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    cli_add_common_options(ctx, &common);
    cli_parse(ctx, &common, &argc, &argv);
    g_option_context_free(ctx);
    if (argc != 2)
        cli_usage_error(&common, "expected one topic name (see 'rill produce --help')");
    const char *topic = argv[1];
    if (key_sep && !*key_sep)
        cli_usage_error(&common, "--key-separator must not be empty");
    if (rate < 0)
        cli_usage_error(&common, "--rate must not be negative");

    /* headers: parse once */
    GPtrArray *hnames = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *hvalues = g_ptr_array_new_with_free_func(g_free);
    for (char **h = headers; h && *h; h++) {
        char *eq = strchr(*h, '=');
        if (eq == NULL || eq == *h)
            cli_usage_error(&common, "--header %s: expected NAME=VALUE", *h);
        g_ptr_array_add(hnames, g_strndup(*h, (gsize)(eq - *h)));
        g_ptr_array_add(hvalues, g_strdup(eq + 1));
    }

    FILE *in = stdin;
    if (file && (in = fopen(file, "r")) == NULL)
        cli_fail(&common, "%s: %s", file, strerror(errno));

    produce_state_t st = {0};
    rd_kafka_conf_t *conf = cli_conf(&common);
    char errstr[512];
    rd_kafka_conf_set(conf, "linger.ms", "5", NULL, 0);
    if (rd_kafka_conf_set(conf, "acks", acks ? acks : "all", errstr, sizeof(errstr)) ||
        (compression &&
         rd_kafka_conf_set(conf, "compression.codec", compression, errstr, sizeof(errstr))))
        cli_usage_error(&common, "%s", errstr);
    rd_kafka_conf_set_opaque(conf, &st);
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = cli_producer(&common, conf);
    cli_install_signals();

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int64_t sent = 0, start = now_us(), last_progress = start;
    bool tty = cli_stdout_is_tty();
    while (!cli_stop && (n = getline(&line, &cap, in)) >= 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        const char *key = NULL, *value = line;
        size_t key_len = 0, value_len = (size_t)n;
        if (key_sep) {
            char *sep = strstr(line, key_sep);
            if (sep) {
                key = line;
                key_len = (size_t)(sep - line);
                value = sep + strlen(key_sep);
                value_len = (size_t)n - key_len - strlen(key_sep);
            }
        }
        rd_kafka_headers_t *hdrs = NULL;
        if (hnames->len) {
            hdrs = rd_kafka_headers_new(hnames->len);
            for (guint i = 0; i < hnames->len; i++)
                rd_kafka_header_add(hdrs, hnames->pdata[i], -1, hvalues->pdata[i], -1);
        }
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(key_len || key ? (void *)key : NULL, key_len),
                RD_KAFKA_V_VALUE((void *)value, value_len),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !cli_stop) {
                rd_kafka_poll(rk, 50);
                continue;
            }
            if (err) {
                if (hdrs)
                    rd_kafka_headers_destroy(hdrs);
                cli_fail(&common, "cannot produce to %s: %s", topic, rd_kafka_err2str(err));
            }
            break;
        }
        sent++;
        rd_kafka_poll(rk, 0);
        if (rate > 0) {
            int64_t due = start + (int64_t)((double)sent * 1e6 / rate);
            int64_t wait = due - now_us();
            if (wait > 0)
                rd_kafka_poll(rk, (int)(wait / 1000) + 1);
        }
        if (tty && now_us() - last_progress > 1000000) {
            last_progress = now_us();
            fprintf(stderr, "\rrill produce: %" PRId64 " sent, %" PRId64 " acknowledged", sent,
                    st.delivered);
        }
    }
    if (file)
        fclose(in);
    free(line);
    /* wait for every acknowledgement (bounded: message.timeout.ms bounds each record) */
    while (rd_kafka_outq_len(rk) > 0 && !(cli_stop && st.delivered + st.failed >= sent))
        rd_kafka_poll(rk, 100);
    rd_kafka_flush(rk, 10000);
    if (tty)
        fprintf(stderr, "\r\033[K");
    rd_kafka_destroy(rk);
    g_ptr_array_free(hnames, TRUE);
    g_ptr_array_free(hvalues, TRUE);
    g_strfreev(headers);
    g_free(key_sep);
    g_free(file);
    g_free(acks);
    g_free(compression);
    g_free(common.bootstrap);
    g_strfreev(common.props);
    if (!quiet)
        fprintf(stderr, "rill produce: %" PRId64 " records written to %s\n", st.delivered, topic);
    if (st.failed)
        cli_fail(&common, "%" PRId64 " of %" PRId64 " records failed: %s", st.failed, sent,
                 st.first_error);
    return 0;
}
