/* cmd-topics.c: `rill topics create|list|describe|delete|alter`, through the
 * Kafka admin API (librdkafka), so it works against rill-broker and any Kafka
 * cluster alike.
 *
 * alter: librdkafka 2.0.2 has only the non-incremental AlterConfigs, which
 * replaces a topic's whole set of dynamic configs; so alter first reads the
 * topic's current dynamic configs and sends them merged with the new ones,
 * and a value of "" (k=) removes a key. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

typedef struct topics_opts {
    cli_common_t common;
    int partitions;
    int replication_factor;
    char **configs;
    int timeout_ms;
    gboolean all_configs;
    gboolean if_not_exists;
} topics_opts_t;

static void usage_all(FILE *out)
{
    fprintf(out,
            "usage: rill topics <create|list|describe|delete|alter> [options]\n"
            "\n"
            "  rill topics create NAME --partitions N [--replication-factor 1] [--config k=v ...]\n"
            "  rill topics list\n"
            "  rill topics describe [NAME ...] [--all-configs]\n"
            "  rill topics delete NAME ...\n"
            "  rill topics alter NAME --config k=v [--config k= (removes k)] ...\n"
            "\n"
            "Every action takes -b/--bootstrap-server HOST:PORT (default 127.0.0.1:9092).\n"
            "Run 'rill topics <action> --help' for its options.\n");
}

static rd_kafka_event_t *admin_wait(topics_opts_t *o, rd_kafka_queue_t *q,
                                   rd_kafka_event_type_t type)
{
    return cli_admin_wait(&o->common, q, type, o->timeout_ms);
}

static rd_kafka_AdminOptions_t *admin_options(topics_opts_t *o, rd_kafka_t *rk,
                                              rd_kafka_admin_op_t op)
{
    return cli_admin_options(rk, op, o->timeout_ms);
}

/* Splits "k=v" into its parts; exits 2 when there is no '='. */
static void split_config(topics_opts_t *o, const char *kv, char **key, const char **value)
{
    const char *eq = strchr(kv, '=');
    if (eq == NULL || eq == kv)
        cli_usage_error(&o->common, "--config %s: expected KEY=VALUE", kv);
    *key = g_strndup(kv, (gsize)(eq - kv));
    *value = eq + 1;
}

static int do_create(topics_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    if (argc != 1)
        cli_usage_error(&o->common, "expected one topic name");
    if (o->partitions <= 0)
        cli_usage_error(&o->common, "--partitions must be a positive number");
    char errstr[512];
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(argv[0], o->partitions,
                                                    o->replication_factor, errstr, sizeof(errstr));
    if (nt == NULL)
        cli_usage_error(&o->common, "%s", errstr);
    for (char **c = o->configs; c && *c; c++) {
        g_autofree char *key = NULL;
        const char *value;
        split_config(o, *c, &key, &value);
        rd_kafka_NewTopic_set_config(nt, key, value);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(o, rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
    rd_kafka_event_t *ev = admin_wait(o, q, RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && o->if_not_exists)
            continue;
        if (err) {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            fprintf(stderr, "rill topics create: %s: %s\n", rd_kafka_topic_result_name(res[i]),
                    msg && *msg ? msg : rd_kafka_err2str(err));
            rc = 1;
        } else {
            printf("Created topic %s.\n", rd_kafka_topic_result_name(res[i]));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static const rd_kafka_metadata_t *get_metadata(topics_opts_t *o, rd_kafka_t *rk,
                                               const char *topic)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_topic_t *rkt = topic ? rd_kafka_topic_new(rk, topic, NULL) : NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, rkt == NULL, rkt, &md, o->timeout_ms);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (err)
        cli_fail(&o->common, "metadata from %s: %s", o->common.bootstrap, rd_kafka_err2str(err));
    return md;
}

static int cmp_topic(const void *a, const void *b)
{
    return strcmp(((const rd_kafka_metadata_topic_t *)a)->topic,
                  ((const rd_kafka_metadata_topic_t *)b)->topic);
}

static int do_list(topics_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    if (argc != 0)
        cli_usage_error(&o->common, "list takes no arguments");
    const rd_kafka_metadata_t *md = get_metadata(o, rk, NULL);
    rd_kafka_metadata_topic_t *topics = g_memdup2(md->topics, sizeof(*topics) * md->topic_cnt);
    if (md->topic_cnt > 0)
        qsort(topics, md->topic_cnt, sizeof(*topics), cmp_topic);
    for (int i = 0; i < md->topic_cnt; i++)
        if (topics[i].err == 0 && topics[i].topic[0] != '_')
            printf("%s\n", topics[i].topic);
    g_free(topics);
    rd_kafka_metadata_destroy(md);
    return 0;
}

/* Prints the configs of one topic: non-default ones, or all with --all-configs. */
static void print_configs(topics_opts_t *o, rd_kafka_t *rk, const char *topic)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(o, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, o->timeout_ms + 5000);
    if (ev && !rd_kafka_event_error(ev)) {
        size_t nres;
        const rd_kafka_ConfigResource_t **rs = rd_kafka_DescribeConfigs_result_resources(
            rd_kafka_event_DescribeConfigs_result(ev), &nres);
        for (size_t i = 0; i < nres; i++) {
            if (rd_kafka_ConfigResource_error(rs[i]))
                continue;
            size_t nc;
            const rd_kafka_ConfigEntry_t **cs = rd_kafka_ConfigResource_configs(rs[i], &nc);
            int shown = 0;
            for (size_t j = 0; j < nc; j++) {
                if (!o->all_configs && rd_kafka_ConfigEntry_is_default(cs[j]))
                    continue;
                const char *v = rd_kafka_ConfigEntry_value(cs[j]);
                printf("%s%s=%s", shown++ ? "," : "\tConfigs: ", rd_kafka_ConfigEntry_name(cs[j]),
                       v ? v : "");
            }
            if (shown)
                printf("\n");
        }
    } else if (ev) {
        fprintf(stderr, "rill topics describe: configs of %s: %s\n", topic,
                rd_kafka_event_error_string(ev));
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
}

static int describe_one(topics_opts_t *o, rd_kafka_t *rk, const rd_kafka_metadata_topic_t *t)
{
    if (t->err) {
        fprintf(stderr, "rill topics describe: %s: %s\n", t->topic, rd_kafka_err2str(t->err));
        return 1;
    }
    printf("Topic: %s\tPartitionCount: %d\n", t->topic, t->partition_cnt);
    print_configs(o, rk, t->topic);
    for (int p = 0; p < t->partition_cnt; p++) {
        const rd_kafka_metadata_partition_t *mp = &t->partitions[p];
        int64_t lo = -1, hi = -1;
        rd_kafka_query_watermark_offsets(rk, t->topic, mp->id, &lo, &hi, o->timeout_ms);
        printf("\tPartition: %d\tLeader: %d\tReplicas: %d\tLogStartOffset: %" PRId64
               "\tEndOffset: %" PRId64 "\n",
               mp->id, mp->leader, mp->replica_cnt, lo, hi);
    }
    return 0;
}

static int do_describe(topics_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    int rc = 0;
    if (argc == 0) {
        const rd_kafka_metadata_t *md = get_metadata(o, rk, NULL);
        for (int i = 0; i < md->topic_cnt; i++)
            if (md->topics[i].topic[0] != '_')
                rc |= describe_one(o, rk, &md->topics[i]);
        rd_kafka_metadata_destroy(md);
        return rc;
    }
    for (int a = 0; a < argc; a++) {
        /* all-topics metadata, so that asking never auto-creates the topic */
        const rd_kafka_metadata_t *md = get_metadata(o, rk, NULL);
        const rd_kafka_metadata_topic_t *found = NULL;
        for (int i = 0; i < md->topic_cnt; i++)
            if (strcmp(md->topics[i].topic, argv[a]) == 0)
                found = &md->topics[i];
        if (found) {
            rc |= describe_one(o, rk, found);
        } else {
            fprintf(stderr, "rill topics describe: %s: no such topic\n", argv[a]);
            rc = 1;
        }
        rd_kafka_metadata_destroy(md);
    }
    return rc;
}

static int do_delete(topics_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    if (argc < 1)
        cli_usage_error(&o->common, "expected at least one topic name");
    rd_kafka_DeleteTopic_t **dts = g_new0(rd_kafka_DeleteTopic_t *, argc);
    for (int i = 0; i < argc; i++)
        dts[i] = rd_kafka_DeleteTopic_new(argv[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(o, rk, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_DeleteTopics(rk, dts, (size_t)argc, opts, q);
    rd_kafka_event_t *ev = admin_wait(o, q, RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err) {
            fprintf(stderr, "rill topics delete: %s: %s\n", rd_kafka_topic_result_name(res[i]),
                    rd_kafka_err2str(err));
            rc = 1;
        } else {
            printf("Deleted topic %s.\n", rd_kafka_topic_result_name(res[i]));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteTopic_destroy_array(dts, (size_t)argc);
    g_free(dts);
    return rc;
}

/* Reads the topic's dynamic (non-default, non-static) configs into table. */
static void current_dynamic_configs(topics_opts_t *o, rd_kafka_t *rk, const char *topic,
                                    GHashTable *table)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(o, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_DescribeConfigs(rk, &res, 1, opts, q);
    rd_kafka_event_t *ev = admin_wait(o, q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    size_t nres;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
    for (size_t i = 0; i < nres; i++) {
        if (rd_kafka_ConfigResource_error(rs[i]))
            cli_fail(&o->common, "%s: %s", topic, rd_kafka_ConfigResource_error_string(rs[i]));
        size_t nc;
        const rd_kafka_ConfigEntry_t **cs = rd_kafka_ConfigResource_configs(rs[i], &nc);
        for (size_t j = 0; j < nc; j++) {
            if (rd_kafka_ConfigEntry_source(cs[j]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
                continue;
            const char *v = rd_kafka_ConfigEntry_value(cs[j]);
            g_hash_table_insert(table, g_strdup(rd_kafka_ConfigEntry_name(cs[j])),
                                g_strdup(v ? v : ""));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
}

static int do_alter(topics_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    if (argc != 1)
        cli_usage_error(&o->common, "expected one topic name");
    if (o->configs == NULL)
        cli_usage_error(&o->common, "expected at least one --config KEY=VALUE");
    g_autoptr(GHashTable) table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    current_dynamic_configs(o, rk, argv[0], table);
    for (char **c = o->configs; *c; c++) {
        char *key;
        const char *value;
        split_config(o, *c, &key, &value);
        if (*value)
            g_hash_table_insert(table, key, g_strdup(value));
        else {
            g_hash_table_remove(table, key);
            g_free(key);
        }
    }
    rd_kafka_ConfigResource_t *res =
        rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, argv[0]);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, &k, &v))
        rd_kafka_ConfigResource_set_config(res, k, v);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = admin_options(o, rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    rd_kafka_AlterConfigs(rk, &res, 1, opts, q);
    rd_kafka_event_t *ev = admin_wait(o, q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    size_t nres;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &nres);
    int rc = 0;
    for (size_t i = 0; i < nres; i++) {
        if (rd_kafka_ConfigResource_error(rs[i])) {
            fprintf(stderr, "rill topics alter: %s: %s\n", argv[0],
                    rd_kafka_ConfigResource_error_string(rs[i]));
            rc = 1;
        }
    }
    if (rc == 0)
        printf("Altered topic %s.\n", argv[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(res);
    return rc;
}

int cli_topics(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *action = argv[1];
    static const struct {
        const char *name;
        int (*fn)(topics_opts_t *, rd_kafka_t *, int, char **);
        const char *args;
        int min_args, max_args;
    } actions[] = {
        {"create", do_create, "NAME", 1, 1},
        {"list", do_list, "", 0, 0},
        {"describe", do_describe, "[NAME...]", 0, INT_MAX},
        {"delete", do_delete, "NAME...", 1, INT_MAX},
        {"alter", do_alter, "NAME", 1, 1},
    };
    int idx = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(actions); i++)
        if (strcmp(actions[i].name, action) == 0)
            idx = (int)i;
    topics_opts_t o = {.partitions = 1, .replication_factor = 1, .timeout_ms = 10000};
    static char command[64];
    snprintf(command, sizeof(command), "topics %s", action);
    o.common.command = command;
    if (idx < 0) {
        fprintf(stderr, "rill topics: unknown action '%s'\n", action);
        usage_all(stderr);
        return 2;
    }
    GOptionEntry entries[] = {
        {"partitions", 'p', 0, G_OPTION_ARG_INT, &o.partitions, "Partition count (create)", "N"},
        {"replication-factor", 'r', 0, G_OPTION_ARG_INT, &o.replication_factor,
         "Replication factor (create; 1 on rill-broker)", "N"},
        {"config", 'c', 0, G_OPTION_ARG_STRING_ARRAY, &o.configs,
         "Topic config (create, alter; repeatable)", "KEY=VALUE"},
        {"if-not-exists", 0, 0, G_OPTION_ARG_NONE, &o.if_not_exists,
         "Succeed if the topic exists (create)", NULL},
        {"all-configs", 0, 0, G_OPTION_ARG_NONE, &o.all_configs,
         "Show default configs too (describe)", NULL},
        {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o.timeout_ms, "Request timeout (default 10000)",
         "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *param = g_strdup_printf("%s %s", action, actions[idx].args);
    GOptionContext *ctx = g_option_context_new(param);
    g_option_context_set_summary(ctx, "Manage topics.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    cli_add_common_options(ctx, &o.common);
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    cli_parse(ctx, &o.common, &sub_argc, &sub_argv);
    g_option_context_free(ctx);
    int nargs = sub_argc - 1;
    if (nargs < actions[idx].min_args || nargs > actions[idx].max_args)
        cli_usage_error(&o.common, "expected %s (see 'rill topics %s --help')",
                        actions[idx].max_args ? actions[idx].args : "no arguments", action);

    rd_kafka_t *rk = cli_producer(&o.common, cli_conf(&o.common));
    int rc = actions[idx].fn(&o, rk, sub_argc - 1, sub_argv + 1);
    rd_kafka_destroy(rk);
    g_free(o.common.bootstrap);
    g_strfreev(o.common.props);
    g_strfreev(o.configs);
    return rc;
}
