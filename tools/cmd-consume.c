/* cmd-consume.c: `rill consume TOPIC`: prints records, one value per line.
 *
 * Where to start: --from-beginning, --offset N, --from-timestamp MS, else the
 * end (new records only). When to stop: after --max-messages N records (waiting
 * for them up to --timeout-ms), at the end of every partition when a start
 * point was given, or never with --follow (and by default without a start
 * point, like Kafka's console consumer). Ctrl-C stops cleanly.
 *
 * Without --group the partitions are assigned directly (nothing committed);
 * with --group the consumer joins the group and commits what it printed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-glib/json-glib.h>

#include "tools/cli.h"

typedef struct consume_opts {
    cli_common_t common;
    char *group;
    gboolean from_beginning;
    gint64 offset;
    gboolean offset_set;
    gint64 from_ts;
    int partition;
    gint64 max_messages;
    gboolean follow;
    gboolean print_key, print_headers, print_timestamp, print_partition, json;
    char *key_sep;
    int timeout_ms;
    char *isolation;
} consume_opts_t;

static void print_record(const consume_opts_t *o, const rd_kafka_message_t *m, GString *out)
{
    g_string_truncate(out, 0);
    rd_kafka_timestamp_type_t tstype;
    int64_t ts = rd_kafka_message_timestamp(m, &tstype);
    rd_kafka_headers_t *hdrs = NULL;
    if (o->print_headers || o->json)
        rd_kafka_message_headers(m, &hdrs);
    if (o->json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "topic");
        json_builder_add_string_value(b, rd_kafka_topic_name(m->rkt));
        json_builder_set_member_name(b, "partition");
        json_builder_add_int_value(b, m->partition);
        json_builder_set_member_name(b, "offset");
        json_builder_add_int_value(b, m->offset);
        json_builder_set_member_name(b, "timestamp");
        json_builder_add_int_value(b, ts);
        json_builder_set_member_name(b, "key");
        if (m->key) {
            g_autofree char *k = g_utf8_make_valid(m->key, (gssize)m->key_len);
            json_builder_add_string_value(b, k);
        } else {
            json_builder_add_null_value(b);
        }
        json_builder_set_member_name(b, "value");
        if (m->payload) {
            g_autofree char *v = g_utf8_make_valid(m->payload, (gssize)m->len);
            json_builder_add_string_value(b, v);
        } else {
            json_builder_add_null_value(b);
        }
        json_builder_set_member_name(b, "headers");
        json_builder_begin_object(b);
        const char *name;
        const void *val;
        size_t vlen;
        for (size_t i = 0; hdrs && rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == 0; i++) {
            json_builder_set_member_name(b, name);
            if (val) {
                g_autofree char *v = g_utf8_make_valid(val, (gssize)vlen);
                json_builder_add_string_value(b, v);
            } else {
                json_builder_add_null_value(b);
            }
        }
        json_builder_end_object(b);
        json_builder_end_object(b);
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        g_autofree char *text = json_generator_to_data(gen, NULL);
        g_string_append(out, text);
    } else {
        const char *sep = o->key_sep ? o->key_sep : "\t";
        if (o->print_partition)
            g_string_append_printf(out, "%d:%" PRId64 "%s", m->partition, m->offset, sep);
        if (o->print_timestamp)
            g_string_append_printf(out, "%s:%" PRId64 "%s",
                                   tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "LogAppendTime"
                                                                                : "CreateTime",
                                   ts, sep);
        if (o->print_headers) {
            const char *name;
            const void *val;
            size_t vlen;
            size_t i;
            for (i = 0; hdrs && rd_kafka_header_get_all(hdrs, i, &name, &val, &vlen) == 0; i++) {
                g_string_append_printf(out, "%s%s=", i ? "," : "", name);
                if (val)
                    g_string_append_len(out, val, (gssize)vlen);
            }
            if (i == 0)
                g_string_append(out, "NO_HEADERS");
            g_string_append(out, sep);
        }
        if (o->print_key) {
            if (m->key)
                g_string_append_len(out, m->key, (gssize)m->key_len);
            else
                g_string_append(out, "null");
            g_string_append(out, sep);
        }
        if (m->payload)
            g_string_append_len(out, m->payload, (gssize)m->len);
        else
            g_string_append(out, "null");
    }
    g_string_append_c(out, '\n');
    fwrite(out->str, 1, out->len, stdout);
}

/* Assigns the topic's partitions directly, at the requested start. */
static void assign_partitions(consume_opts_t *o, rd_kafka_t *rk, const char *topic, int *nparts)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
    if (err)
        cli_fail(&o->common, "metadata from %s: %s", o->common.bootstrap, rd_kafka_err2str(err));
    const rd_kafka_metadata_topic_t *t = NULL;
    for (int i = 0; i < md->topic_cnt; i++)
        if (strcmp(md->topics[i].topic, topic) == 0)
            t = &md->topics[i];
    if (t == NULL || t->err) {
        rd_kafka_metadata_destroy(md);
        cli_fail(&o->common, "%s: no such topic", topic);
    }
    rd_kafka_topic_partition_list_t *list = rd_kafka_topic_partition_list_new(t->partition_cnt);
    for (int p = 0; p < t->partition_cnt; p++) {
        int id = t->partitions[p].id;
        if (o->partition >= 0 && id != o->partition)
            continue;
        rd_kafka_topic_partition_t *tp = rd_kafka_topic_partition_list_add(list, topic, id);
        if (o->from_beginning)
            tp->offset = RD_KAFKA_OFFSET_BEGINNING;
        else if (o->offset_set)
            tp->offset = o->offset >= 0 ? o->offset : RD_KAFKA_OFFSET_TAIL(-o->offset);
        else if (o->from_ts >= 0)
            tp->offset = o->from_ts;
        else
            tp->offset = RD_KAFKA_OFFSET_END;
    }
    rd_kafka_metadata_destroy(md);
    if (list->cnt == 0)
        cli_fail(&o->common, "%s has no partition %d", topic, o->partition);
    if (o->from_ts >= 0) {
        err = rd_kafka_offsets_for_times(rk, list, o->timeout_ms);
        if (err)
            cli_fail(&o->common, "offsets for timestamp %" PRId64 ": %s", (int64_t)o->from_ts,
                     rd_kafka_err2str(err));
        for (int i = 0; i < list->cnt; i++)
            if (list->elems[i].offset < 0)
                list->elems[i].offset = RD_KAFKA_OFFSET_END;
    }
    *nparts = list->cnt;
    err = rd_kafka_assign(rk, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err)
        cli_fail(&o->common, "assign: %s", rd_kafka_err2str(err));
}

int cli_consume(int argc, char **argv)
{
    consume_opts_t o = {.common = {.command = "consume"}, .partition = -1, .from_ts = -1,
                        .max_messages = -1, .timeout_ms = -1};
    GOptionEntry entries[] = {
        {"from-beginning", 0, 0, G_OPTION_ARG_NONE, &o.from_beginning,
         "Start at the first record of each partition", NULL},
        {"offset", 'o', 0, G_OPTION_ARG_INT64, &o.offset,
         "Start at offset N (negative: N records before the end)", "N"},
        {"from-timestamp", 0, 0, G_OPTION_ARG_INT64, &o.from_ts,
         "Start at the first record at or after MS (ms since the epoch)", "MS"},
        {"partition", 'p', 0, G_OPTION_ARG_INT, &o.partition, "Only this partition", "P"},
        {"group", 'g', 0, G_OPTION_ARG_STRING, &o.group,
         "Consume as a member of consumer group G (commits offsets)", "G"},
        {"max-messages", 'n', 0, G_OPTION_ARG_INT64, &o.max_messages,
         "Stop after N records", "N"},
        {"follow", 'f', 0, G_OPTION_ARG_NONE, &o.follow, "Wait for new records forever", NULL},
        {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o.timeout_ms,
         "Give up after MS without the records asked for", "MS"},
        {"print-key", 'k', 0, G_OPTION_ARG_NONE, &o.print_key, "Print the key before the value",
         NULL},
        {"print-headers", 0, 0, G_OPTION_ARG_NONE, &o.print_headers, "Print the headers", NULL},
        {"print-timestamp", 0, 0, G_OPTION_ARG_NONE, &o.print_timestamp, "Print the timestamp",
         NULL},
        {"print-partition", 0, 0, G_OPTION_ARG_NONE, &o.print_partition,
         "Print partition:offset", NULL},
        {"key-separator", 0, 0, G_OPTION_ARG_STRING, &o.key_sep,
         "Separator between printed fields (default: tab)", "SEP"},
        {"json", 'J', 0, G_OPTION_ARG_NONE, &o.json, "Print each record as one JSON object",
         NULL},
        {"isolation-level", 0, 0, G_OPTION_ARG_STRING, &o.isolation,
         "read_committed (default) or read_uncommitted", "LEVEL"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    o.offset = G_MININT64;
    GOptionContext *ctx = g_option_context_new("TOPIC");
    g_option_context_set_summary(ctx, "Print the records of TOPIC, one value per line.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    cli_add_common_options(ctx, &o.common);
    cli_parse(ctx, &o.common, &argc, &argv);
    g_option_context_free(ctx);
    if (argc != 2)
        cli_usage_error(&o.common, "expected one topic name (see 'rill consume --help')");
    const char *topic = argv[1];
    o.offset_set = o.offset != G_MININT64;
    int starts = (o.from_beginning ? 1 : 0) + (o.offset_set ? 1 : 0) + (o.from_ts >= 0 ? 1 : 0);
    if (starts > 1)
        cli_usage_error(&o.common, "--from-beginning, --offset and --from-timestamp exclude each other");
    if (o.group && (o.offset_set || o.from_ts >= 0 || o.partition >= 0))
        cli_usage_error(&o.common, "--group takes its start from the group's offsets: "
                                   "--offset, --from-timestamp and --partition need no --group");
    if (o.max_messages == 0)
        return 0;
    /* stop at the end of the partitions only when a start point was given and no count */
    bool stop_at_eof = !o.follow && starts > 0 && o.max_messages < 0;

    rd_kafka_conf_t *conf = cli_conf(&o.common);
    char errstr[512];
    /* librdkafka needs a group id even to assign partitions; without --group
     * nothing is committed, so the id is only a name */
    rd_kafka_conf_set(conf, "group.id", o.group ? o.group : "rill-consume", NULL, 0);
    rd_kafka_conf_set(conf, "enable.partition.eof", "true", NULL, 0);
    rd_kafka_conf_set(conf, "auto.offset.reset", o.from_beginning ? "earliest" : "latest", NULL,
                      0);
    if (!o.group) {
        rd_kafka_conf_set(conf, "enable.auto.commit", "false", NULL, 0);
        rd_kafka_conf_set(conf, "enable.auto.offset.store", "false", NULL, 0);
    }
    if (o.isolation &&
        rd_kafka_conf_set(conf, "isolation.level", o.isolation, errstr, sizeof(errstr)))
        cli_usage_error(&o.common, "%s", errstr);
    rd_kafka_t *rk = cli_consumer(&o.common, conf);
    rd_kafka_poll_set_consumer(rk);
    cli_install_signals();

    int nparts = 0;
    if (o.group) {
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        if (err)
            cli_fail(&o.common, "subscribe: %s", rd_kafka_err2str(err));
    } else {
        assign_partitions(&o, rk, topic, &nparts);
    }

    GString *out = g_string_new(NULL);
    GHashTable *eof = g_hash_table_new(g_direct_hash, g_direct_equal);
    int64_t printed = 0;
    int rc = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!cli_stop) {
        if (o.timeout_ms >= 0) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            int64_t ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
            if (ms > o.timeout_ms) {
                fprintf(stderr, "rill consume: timed out after %d ms with %" PRId64 " records\n",
                        o.timeout_ms, printed);
                rc = 1;
                break;
            }
        }
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (m == NULL)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            g_hash_table_add(eof, GINT_TO_POINTER(m->partition + 1));
            if (o.group) {
                rd_kafka_topic_partition_list_t *a = NULL;
                if (rd_kafka_assignment(rk, &a) == 0) {
                    nparts = a->cnt;
                    rd_kafka_topic_partition_list_destroy(a);
                }
            }
            rd_kafka_message_destroy(m);
            if (stop_at_eof && nparts > 0 && (int)g_hash_table_size(eof) >= nparts)
                break;
            continue;
        }
        if (m->err) {
            fprintf(stderr, "rill consume: %s\n", rd_kafka_message_errstr(m));
            bool fatal = m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                         m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                         m->err == RD_KAFKA_RESP_ERR__FATAL;
            rd_kafka_message_destroy(m);
            if (fatal) {
                rc = 1;
                break;
            }
            continue;
        }
        g_hash_table_remove(eof, GINT_TO_POINTER(m->partition + 1));
        print_record(&o, m, out);
        rd_kafka_message_destroy(m);
        printed++;
        if (o.max_messages > 0 && printed >= o.max_messages)
            break;
    }
    fflush(stdout);
    if (o.group)
        rd_kafka_commit(rk, NULL, 0);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    g_string_free(out, TRUE);
    g_hash_table_destroy(eof);
    g_free(o.group);
    g_free(o.key_sep);
    g_free(o.isolation);
    g_free(o.common.bootstrap);
    g_strfreev(o.common.props);
    return rc;
}
