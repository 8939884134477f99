/* cmd-groups.c: `rill groups list|describe|reset|delete`: consumer groups (and so
 * rill apps, whose group id is their application.id) through the Kafka admin API.
 *
 * describe shows, per partition with a committed offset or an owner, the
 * committed offset, the log end offset, the lag and the owning member.
 * reset moves a group's committed offsets (to the earliest or latest offset, an
 * absolute offset, or by a shift); like Kafka's tool it only prints the plan
 * unless --execute is given, and the group must have no active members. */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/cli.h"

typedef struct groups_opts {
    cli_common_t common;
    int timeout_ms;
    char **topics;
    gboolean all_topics, to_earliest, to_latest, execute;
    gint64 to_offset, shift_by;
} groups_opts_t;

static void usage_all(FILE *out)
{
    fprintf(out,
            "usage: rill groups <list|describe|reset|delete> [options]\n"
            "\n"
            "  rill groups list\n"
            "  rill groups describe GROUP ...\n"
            "  rill groups reset GROUP (--topic T ... | --all-topics)\n"
            "                    (--to-earliest | --to-latest | --to-offset N | --shift-by N) "
            "[--execute]\n"
            "  rill groups delete GROUP ...\n"
            "\n"
            "A rill app's group is its application.id. Every action takes "
            "-b/--bootstrap-server HOST:PORT.\n");
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int do_list(groups_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        cli_admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, o->timeout_ms);
    rd_kafka_ListConsumerGroups(rk, opts, q);
    rd_kafka_event_t *ev =
        cli_admin_wait(&o->common, q, RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, o->timeout_ms);
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t n, nerr;
    const rd_kafka_ConsumerGroupListing_t **groups =
        rd_kafka_ListConsumerGroups_result_valid(res, &n);
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    char **lines = g_new0(char *, n + 1);
    for (size_t i = 0; i < n; i++)
        lines[i] = g_strdup_printf(
            "%s\t%s", rd_kafka_ConsumerGroupListing_group_id(groups[i]),
            rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i])));
    if (n > 0)
        qsort(lines, n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < n; i++)
        printf("%s\n", lines[i]);
    g_strfreev(lines);
    int rc = 0;
    for (size_t i = 0; i < nerr; i++) {
        fprintf(stderr, "rill groups list: %s\n", rd_kafka_error_string(errs[i]));
        rc = 1;
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

static rd_kafka_topic_partition_list_t *committed_offsets(groups_opts_t *o, rd_kafka_t *rk,
                                                          const char *group)
{
    return cli_group_committed(&o->common, rk, group, o->timeout_ms);
}

rd_kafka_topic_partition_list_t *cli_group_committed(const cli_common_t *common, rd_kafka_t *rk,
                                                     const char *group, int timeout_ms)
{
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        cli_admin_options(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, timeout_ms);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, opts, q);
    rd_kafka_event_t *ev = cli_admin_wait(common, q,
                                          RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT,
                                          timeout_ms);
    size_t n;
    const rd_kafka_group_result_t **gr = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(0);
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_error_t *err = rd_kafka_group_result_error(gr[i]);
        if (err)
            cli_fail(common, "%s: %s", group, rd_kafka_error_string(err));
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[i]);
        for (int p = 0; parts && p < parts->cnt; p++)
            if (parts->elems[p].offset >= 0)
                rd_kafka_topic_partition_list_add(out, parts->elems[p].topic,
                                                  parts->elems[p].partition)
                    ->offset = parts->elems[p].offset;
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    return out;
}

typedef struct row {
    char *topic;
    int32_t partition;
    int64_t committed;
    const char *member, *host, *client;
} row_t;

static int cmp_row(const void *a, const void *b)
{
    const row_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static row_t *find_row(GArray *rows, const char *topic, int32_t partition)
{
    for (guint i = 0; i < rows->len; i++) {
        row_t *r = &g_array_index(rows, row_t, i);
        if (r->partition == partition && strcmp(r->topic, topic) == 0)
            return r;
    }
    row_t r = {.topic = g_strdup(topic), .partition = partition, .committed = -1};
    g_array_append_val(rows, r);
    return &g_array_index(rows, row_t, rows->len - 1);
}

static int describe_group(groups_opts_t *o, rd_kafka_t *rk,
                          const rd_kafka_ConsumerGroupDescription_t *d)
{
    const char *group = rd_kafka_ConsumerGroupDescription_group_id(d);
    const rd_kafka_error_t *err = rd_kafka_ConsumerGroupDescription_error(d);
    if (err) {
        fprintf(stderr, "rill groups describe: %s: %s\n", group, rd_kafka_error_string(err));
        return 1;
    }
    rd_kafka_consumer_group_state_t state = rd_kafka_ConsumerGroupDescription_state(d);
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(d);
    const char *assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(d);
    printf("Group: %s\tState: %s\tMembers: %zu\tAssignor: %s\n", group,
           rd_kafka_consumer_group_state_name(state), members,
           assignor && *assignor ? assignor : "-");
    GArray *rows = g_array_new(FALSE, TRUE, sizeof(row_t));
    for (size_t m = 0; m < members; m++) {
        const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(d, m);
        const rd_kafka_topic_partition_list_t *parts =
            rd_kafka_MemberAssignment_partitions(rd_kafka_MemberDescription_assignment(md));
        for (int p = 0; parts && p < parts->cnt; p++) {
            row_t *r = find_row(rows, parts->elems[p].topic, parts->elems[p].partition);
            r->member = rd_kafka_MemberDescription_consumer_id(md);
            r->host = rd_kafka_MemberDescription_host(md);
            r->client = rd_kafka_MemberDescription_client_id(md);
        }
    }
    rd_kafka_topic_partition_list_t *committed = committed_offsets(o, rk, group);
    for (int i = 0; i < committed->cnt; i++)
        find_row(rows, committed->elems[i].topic, committed->elems[i].partition)->committed =
            committed->elems[i].offset;
    if (rows->len > 0)
        qsort(rows->data, rows->len, sizeof(row_t), cmp_row);
    printf("%-24s %-9s %-14s %-14s %-8s %s\n", "TOPIC", "PARTITION", "CURRENT-OFFSET",
           "LOG-END-OFFSET", "LAG", "CONSUMER-ID HOST CLIENT-ID");
    int64_t total_lag = 0;
    for (guint i = 0; i < rows->len; i++) {
        row_t *r = &g_array_index(rows, row_t, i);
        int64_t lo = -1, hi = -1;
        rd_kafka_query_watermark_offsets(rk, r->topic, r->partition, &lo, &hi, o->timeout_ms);
        char cur[24] = "-", lag[24] = "-";
        if (r->committed >= 0) {
            snprintf(cur, sizeof(cur), "%" PRId64, r->committed);
            if (hi >= 0) {
                snprintf(lag, sizeof(lag), "%" PRId64, hi - r->committed);
                total_lag += hi - r->committed;
            }
        }
        printf("%-24s %-9d %-14s %-14" PRId64 " %-8s %s %s %s\n", r->topic, r->partition, cur, hi,
               lag, r->member ? r->member : "-", r->host ? r->host : "-",
               r->client ? r->client : "-");
        g_free(r->topic);
    }
    printf("Total lag: %" PRId64 "\n", total_lag);
    rd_kafka_topic_partition_list_destroy(committed);
    g_array_free(rows, TRUE);
    return 0;
}

static int do_describe(groups_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        cli_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, o->timeout_ms);
    rd_kafka_DescribeConsumerGroups(rk, (const char **)argv, (size_t)argc, opts, q);
    rd_kafka_event_t *ev = cli_admin_wait(&o->common, q,
                                          RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                                          o->timeout_ms);
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **ds =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    int rc = 0;
    for (size_t i = 0; i < n; i++)
        rc |= describe_group(o, rk, ds[i]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return rc;
}

/* Adds every partition of topic to list (offset unset). */
static void add_topic_partitions(groups_opts_t *o, rd_kafka_t *rk, const char *topic,
                                 rd_kafka_topic_partition_list_t *list)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
    if (err)
        cli_fail(&o->common, "metadata: %s", rd_kafka_err2str(err));
    bool found = false;
    for (int i = 0; i < md->topic_cnt; i++) {
        if (strcmp(md->topics[i].topic, topic) != 0 || md->topics[i].err)
            continue;
        found = true;
        for (int p = 0; p < md->topics[i].partition_cnt; p++)
            rd_kafka_topic_partition_list_add(list, topic, md->topics[i].partitions[p].id);
    }
    rd_kafka_metadata_destroy(md);
    if (!found)
        cli_fail(&o->common, "%s: no such topic", topic);
}

static int do_reset(groups_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    const char *group = argv[0];
    int how = (o->to_earliest ? 1 : 0) + (o->to_latest ? 1 : 0) +
              (o->to_offset != G_MININT64 ? 1 : 0) + (o->shift_by != G_MININT64 ? 1 : 0);
    if (how != 1)
        cli_usage_error(&o->common,
                        "give exactly one of --to-earliest, --to-latest, --to-offset, --shift-by");
    if ((o->topics != NULL) == (o->all_topics != FALSE))
        cli_usage_error(&o->common, "give --topic T (repeatable) or --all-topics");
    rd_kafka_topic_partition_list_t *committed = committed_offsets(o, rk, group);
    rd_kafka_topic_partition_list_t *plan = rd_kafka_topic_partition_list_new(0);
    if (o->all_topics) {
        for (int i = 0; i < committed->cnt; i++)
            rd_kafka_topic_partition_list_add(plan, committed->elems[i].topic,
                                              committed->elems[i].partition);
        if (plan->cnt == 0)
            cli_fail(&o->common, "%s has no committed offsets (use --topic)", group);
    } else {
        for (char **t = o->topics; *t; t++)
            add_topic_partitions(o, rk, *t, plan);
    }
    for (int i = 0; i < plan->cnt; i++) {
        rd_kafka_topic_partition_t *tp = &plan->elems[i];
        int64_t lo = 0, hi = 0;
        rd_kafka_resp_err_t err =
            rd_kafka_query_watermark_offsets(rk, tp->topic, tp->partition, &lo, &hi, o->timeout_ms);
        if (err)
            cli_fail(&o->common, "%s[%d]: %s", tp->topic, tp->partition, rd_kafka_err2str(err));
        int64_t target;
        if (o->to_earliest)
            target = lo;
        else if (o->to_latest)
            target = hi;
        else if (o->to_offset != G_MININT64)
            target = o->to_offset;
        else {
            rd_kafka_topic_partition_t *cur =
                rd_kafka_topic_partition_list_find(committed, tp->topic, tp->partition);
            target = (cur ? cur->offset : lo) + o->shift_by;
        }
        tp->offset = target < lo ? lo : target > hi ? hi : target; /* clamp, as Kafka's tool */
    }
    printf("%-24s %-9s %s\n", "TOPIC", "PARTITION", "NEW-OFFSET");
    for (int i = 0; i < plan->cnt; i++)
        printf("%-24s %-9d %" PRId64 "\n", plan->elems[i].topic, plan->elems[i].partition,
               plan->elems[i].offset);
    int rc = 0;
    if (!o->execute) {
        printf("(dry run: add --execute to apply)\n");
    } else {
        rd_kafka_AlterConsumerGroupOffsets_t *req =
            rd_kafka_AlterConsumerGroupOffsets_new(group, plan);
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *opts =
            cli_admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, o->timeout_ms);
        rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, opts, q);
        rd_kafka_event_t *ev = cli_admin_wait(&o->common, q,
                                              RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT,
                                              o->timeout_ms);
        size_t n;
        const rd_kafka_group_result_t **gr = rd_kafka_AlterConsumerGroupOffsets_result_groups(
            rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
        for (size_t i = 0; i < n; i++) {
            const rd_kafka_error_t *err = rd_kafka_group_result_error(gr[i]);
            const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[i]);
            if (err) {
                fprintf(stderr, "rill groups reset: %s: %s\n", group, rd_kafka_error_string(err));
                rc = 1;
            }
            for (int p = 0; parts && p < parts->cnt; p++)
                if (parts->elems[p].err) {
                    fprintf(stderr, "rill groups reset: %s[%d]: %s%s\n", parts->elems[p].topic,
                            parts->elems[p].partition, rd_kafka_err2str(parts->elems[p].err),
                            parts->elems[p].err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID
                                ? " (is the group still running? stop its members first)"
                                : "");
                    rc = 1;
                }
        }
        if (rc == 0)
            printf("Reset %d partition(s) of group %s.\n", plan->cnt, group);
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    }
    rd_kafka_topic_partition_list_destroy(plan);
    rd_kafka_topic_partition_list_destroy(committed);
    return rc;
}

static int do_delete(groups_opts_t *o, rd_kafka_t *rk, int argc, char **argv)
{
    rd_kafka_DeleteGroup_t **dgs = g_new0(rd_kafka_DeleteGroup_t *, argc);
    for (int i = 0; i < argc; i++)
        dgs[i] = rd_kafka_DeleteGroup_new(argv[i]);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        cli_admin_options(rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS, o->timeout_ms);
    rd_kafka_DeleteGroups(rk, dgs, (size_t)argc, opts, q);
    rd_kafka_event_t *ev =
        cli_admin_wait(&o->common, q, RD_KAFKA_EVENT_DELETEGROUPS_RESULT, o->timeout_ms);
    size_t n;
    const rd_kafka_group_result_t **gr =
        rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const rd_kafka_error_t *err = rd_kafka_group_result_error(gr[i]);
        if (err) {
            fprintf(stderr, "rill groups delete: %s: %s\n", rd_kafka_group_result_name(gr[i]),
                    rd_kafka_error_string(err));
            rc = 1;
        } else {
            printf("Deleted group %s.\n", rd_kafka_group_result_name(gr[i]));
        }
    }
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_DeleteGroup_destroy_array(dgs, (size_t)argc);
    g_free(dgs);
    return rc;
}

int cli_groups(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage_all(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    static const struct {
        const char *name;
        int (*fn)(groups_opts_t *, rd_kafka_t *, int, char **);
        const char *args;
        int min_args, max_args;
    } actions[] = {
        {"list", do_list, "", 0, 0},
        {"describe", do_describe, "GROUP...", 1, INT_MAX},
        {"reset", do_reset, "GROUP", 1, 1},
        {"delete", do_delete, "GROUP...", 1, INT_MAX},
    };
    const char *action = argv[1];
    int idx = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(actions); i++)
        if (strcmp(actions[i].name, action) == 0)
            idx = (int)i;
    if (idx < 0) {
        fprintf(stderr, "rill groups: unknown action '%s'\n", action);
        usage_all(stderr);
        return 2;
    }
    static char command[64];
    snprintf(command, sizeof(command), "groups %s", action);
    groups_opts_t o = {.common = {.command = command}, .timeout_ms = 10000,
                       .to_offset = G_MININT64, .shift_by = G_MININT64};
    GOptionEntry entries[] = {
        {"topic", 't', 0, G_OPTION_ARG_STRING_ARRAY, &o.topics, "Reset this topic (repeatable)",
         "T"},
        {"all-topics", 0, 0, G_OPTION_ARG_NONE, &o.all_topics,
         "Reset every topic the group has offsets for", NULL},
        {"to-earliest", 0, 0, G_OPTION_ARG_NONE, &o.to_earliest, "Reset to the log start", NULL},
        {"to-latest", 0, 0, G_OPTION_ARG_NONE, &o.to_latest, "Reset to the log end", NULL},
        {"to-offset", 0, 0, G_OPTION_ARG_INT64, &o.to_offset, "Reset to offset N", "N"},
        {"shift-by", 0, 0, G_OPTION_ARG_INT64, &o.shift_by,
         "Move the committed offsets by N (may be negative)", "N"},
        {"execute", 0, 0, G_OPTION_ARG_NONE, &o.execute, "Apply the reset (default: dry run)",
         NULL},
        {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o.timeout_ms, "Request timeout (default 10000)",
         "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autofree char *param = g_strdup_printf("%s %s", action, actions[idx].args);
    GOptionContext *ctx = g_option_context_new(param);
    g_option_context_set_summary(ctx, "Inspect and manage consumer groups (rill apps).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    cli_add_common_options(ctx, &o.common);
    int sub_argc = argc - 1;
    char **sub_argv = argv + 1;
    cli_parse(ctx, &o.common, &sub_argc, &sub_argv);
    g_option_context_free(ctx);
    int nargs = sub_argc - 1;
    if (nargs < actions[idx].min_args || nargs > actions[idx].max_args)
        cli_usage_error(&o.common, "expected %s (see 'rill groups %s --help')",
                        actions[idx].max_args ? actions[idx].args : "no arguments", action);
    rd_kafka_t *rk = cli_producer(&o.common, cli_conf(&o.common));
    int rc = actions[idx].fn(&o, rk, nargs, sub_argv + 1);
    rd_kafka_destroy(rk);
    g_free(o.common.bootstrap);
    g_strfreev(o.common.props);
    g_strfreev(o.topics);
    return rc;
}
