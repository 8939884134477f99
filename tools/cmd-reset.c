/* cmd-reset.c: `rill reset --application-id ID`: the application reset tool
 * (Kafka's kafka-streams-application-reset, plus the local cleanUp()):
 *   1. refuses while the app's consumer group has active members;
 *   2. moves the group's committed offsets on its input topics to the earliest
 *      offset (the inputs are re-read from the start on the next run);
 *   3. deletes the app's internal topics (<ID>-...-changelog, <ID>-...-repartition);
 *   4. wipes the local state directory <state.dir>/<ID>.
 * --dry-run prints what it would do and changes nothing. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

typedef struct reset_opts {
    cli_common_t common;
    char *app_id;
    char **inputs;
    char *state_dir;
    gboolean dry_run;
    int timeout_ms;
} reset_opts_t;

static bool is_internal(const char *app_id, const char *topic)
{
    size_t n = strlen(app_id);
    return strncmp(topic, app_id, n) == 0 && topic[n] == '-' &&
           (g_str_has_suffix(topic, "-changelog") || g_str_has_suffix(topic, "-repartition"));
}

static size_t active_members(reset_opts_t *o, rd_kafka_t *rk)
{
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        cli_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, o->timeout_ms);
    const char *groups[] = {o->app_id};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, opts, q);
    rd_kafka_event_t *ev = cli_admin_wait(&o->common, q,
                                          RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT,
                                          o->timeout_ms);
    size_t n, members = 0;
    const rd_kafka_ConsumerGroupDescription_t **ds =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    for (size_t i = 0; i < n; i++)
        if (!rd_kafka_ConsumerGroupDescription_error(ds[i]))
            members += rd_kafka_ConsumerGroupDescription_member_count(ds[i]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return members;
}

static int reset_offsets(reset_opts_t *o, rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *committed =
        cli_group_committed(&o->common, rk, o->app_id, o->timeout_ms);
    rd_kafka_topic_partition_list_t *plan = rd_kafka_topic_partition_list_new(0);
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
    if (err)
        cli_fail(&o->common, "metadata: %s", rd_kafka_err2str(err));
    for (int i = 0; i < md->topic_cnt; i++) {
        const rd_kafka_metadata_topic_t *t = &md->topics[i];
        bool wanted = false;
        if (o->inputs) {
            for (char **in = o->inputs; *in; in++)
                wanted |= strcmp(*in, t->topic) == 0;
        } else {
            for (int c = 0; c < committed->cnt; c++)
                wanted |= strcmp(committed->elems[c].topic, t->topic) == 0;
        }
        if (!wanted || is_internal(o->app_id, t->topic) || t->err)
            continue;
        for (int p = 0; p < t->partition_cnt; p++)
            rd_kafka_topic_partition_list_add(plan, t->topic, t->partitions[p].id);
    }
    for (char **in = o->inputs; in && *in; in++) {
        bool found = false;
        for (int i = 0; i < md->topic_cnt; i++)
            found |= strcmp(md->topics[i].topic, *in) == 0;
        if (!found)
            cli_fail(&o->common, "input topic %s does not exist", *in);
    }
    rd_kafka_metadata_destroy(md);
    for (int i = 0; i < plan->cnt; i++) {
        int64_t lo = 0, hi = 0;
        err = rd_kafka_query_watermark_offsets(rk, plan->elems[i].topic, plan->elems[i].partition,
                                               &lo, &hi, o->timeout_ms);
        if (err)
            cli_fail(&o->common, "%s[%d]: %s", plan->elems[i].topic, plan->elems[i].partition,
                     rd_kafka_err2str(err));
        plan->elems[i].offset = lo;
        printf("%s offsets of %s[%d] to %" PRId64 "\n", o->dry_run ? "would reset" : "reset",
               plan->elems[i].topic, plan->elems[i].partition, lo);
    }
    int rc = 0;
    if (plan->cnt == 0)
        printf("no input offsets to reset\n");
    else if (!o->dry_run) {
        rd_kafka_AlterConsumerGroupOffsets_t *req =
            rd_kafka_AlterConsumerGroupOffsets_new(o->app_id, plan);
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
            const rd_kafka_error_t *gerr = rd_kafka_group_result_error(gr[i]);
            const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[i]);
            if (gerr) {
                fprintf(stderr, "rill reset: offsets: %s\n", rd_kafka_error_string(gerr));
                rc = 1;
            }
            for (int p = 0; parts && p < parts->cnt; p++)
                if (parts->elems[p].err) {
                    fprintf(stderr, "rill reset: %s[%d]: %s\n", parts->elems[p].topic,
                            parts->elems[p].partition, rd_kafka_err2str(parts->elems[p].err));
                    rc = 1;
                }
        }
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
        rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    }
    rd_kafka_topic_partition_list_destroy(plan);
    rd_kafka_topic_partition_list_destroy(committed);
    return rc;
}

static int delete_internal_topics(reset_opts_t *o, rd_kafka_t *rk)
{
    const rd_kafka_metadata_t *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, o->timeout_ms);
    if (err)
        cli_fail(&o->common, "metadata: %s", rd_kafka_err2str(err));
    GPtrArray *doomed = g_ptr_array_new();
    for (int i = 0; i < md->topic_cnt; i++)
        if (is_internal(o->app_id, md->topics[i].topic)) {
            printf("%s internal topic %s\n", o->dry_run ? "would delete" : "delete",
                   md->topics[i].topic);
            g_ptr_array_add(doomed, rd_kafka_DeleteTopic_new(md->topics[i].topic));
        }
    rd_kafka_metadata_destroy(md);
    int rc = 0;
    if (doomed->len == 0)
        printf("no internal topics to delete\n");
    else if (!o->dry_run) {
        rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
        rd_kafka_AdminOptions_t *opts =
            cli_admin_options(rk, RD_KAFKA_ADMIN_OP_DELETETOPICS, o->timeout_ms);
        rd_kafka_DeleteTopics(rk, (rd_kafka_DeleteTopic_t **)doomed->pdata, doomed->len, opts, q);
        rd_kafka_event_t *ev =
            cli_admin_wait(&o->common, q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, o->timeout_ms);
        size_t n;
        const rd_kafka_topic_result_t **res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        for (size_t i = 0; i < n; i++)
            if (rd_kafka_topic_result_error(res[i])) {
                fprintf(stderr, "rill reset: delete %s: %s\n", rd_kafka_topic_result_name(res[i]),
                        rd_kafka_err2str(rd_kafka_topic_result_error(res[i])));
                rc = 1;
            }
        rd_kafka_event_destroy(ev);
        rd_kafka_AdminOptions_destroy(opts);
        rd_kafka_queue_destroy(q);
    }
    rd_kafka_DeleteTopic_destroy_array((rd_kafka_DeleteTopic_t **)doomed->pdata, doomed->len);
    g_ptr_array_free(doomed, TRUE);
    return rc;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path) == 0 ? 0 : -1;
}

static int wipe_state(reset_opts_t *o)
{
    g_autofree char *dir = g_build_filename(o->state_dir, o->app_id, NULL);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        printf("no local state at %s\n", dir);
        return 0;
    }
    printf("%s local state %s\n", o->dry_run ? "would wipe" : "wipe", dir);
    if (o->dry_run)
        return 0;
    if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        fprintf(stderr, "rill reset: cannot remove %s: %s\n", dir, strerror(errno));
        return 1;
    }
    return 0;
}

int cli_reset(int argc, char **argv)
{
    reset_opts_t o = {.common = {.command = "reset"}, .timeout_ms = 10000};
    GOptionEntry entries[] = {
        {"application-id", 'a', 0, G_OPTION_ARG_STRING, &o.app_id,
         "The app to reset (its application.id) [required]", "ID"},
        {"input-topics", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &o.inputs,
         "Input topic to re-read from the start (repeatable; default: every topic the app "
         "has committed offsets for)",
         "T"},
        {"state-dir", 0, 0, G_OPTION_ARG_FILENAME, &o.state_dir,
         "The app's state.dir (default /tmp/rill-streams)", "DIR"},
        {"dry-run", 'n', 0, G_OPTION_ARG_NONE, &o.dry_run, "Print what would be done", NULL},
        {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o.timeout_ms, "Request timeout (default 10000)",
         "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new(NULL);
    g_option_context_set_summary(
        ctx, "Reset a rill app so that its next run reprocesses its input from the start:\n"
             "input offsets to the earliest, internal topics deleted, local state wiped.\n"
             "Stop every instance of the app first.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    cli_add_common_options(ctx, &o.common);
    cli_parse(ctx, &o.common, &argc, &argv);
    g_option_context_free(ctx);
    if (argc != 1)
        cli_usage_error(&o.common, "unexpected argument '%s' (see 'rill reset --help')", argv[1]);
    if (o.app_id == NULL || *o.app_id == '\0')
        cli_usage_error(&o.common, "--application-id is required");
    if (o.state_dir == NULL)
        o.state_dir = g_strdup("/tmp/rill-streams");

    rd_kafka_t *rk = cli_producer(&o.common, cli_conf(&o.common));
    size_t members = active_members(&o, rk);
    if (members > 0)
        cli_fail(&o.common, "%s has %zu active member(s): stop every instance of the app first",
                 o.app_id, members);
    int rc = reset_offsets(&o, rk);
    rc |= delete_internal_topics(&o, rk);
    rc |= wipe_state(&o);
    rd_kafka_destroy(rk);
    if (rc == 0)
        printf(o.dry_run ? "Dry run: nothing changed.\n" : "Reset %s.\n", o.app_id);
    g_free(o.app_id);
    g_free(o.state_dir);
    g_strfreev(o.inputs);
    g_free(o.common.bootstrap);
    g_strfreev(o.common.props);
    return rc;
}
