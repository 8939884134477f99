/* group-bench: the group coordinator in process, on the real offsets log
 * (broker/log/ in a temp dir, page cache, no fsync), without the network:
 * what OffsetCommit, the reload on start and a large rebalance cost.
 *
 *   group-bench [commits] [members]
 *
 * Prints one line per measurement (docs/benchmarks.md). Time is the
 * monotonic clock around each phase; timers go to a list that is never
 * fired (nothing here waits on one), so the figures are coordinator work. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/group/group.h"
#include "common/clock.h"
#include "common/log.h"

typedef struct timer {
    uint64_t id;
    void (*cb)(void *arg);
    void *arg;
} timer_t_;

static GArray *timers;
static uint64_t next_id;

static int64_t now_ms(void *ud)
{
    return rill__clock_mono_ms();
}

static int64_t wall_ms(void *ud)
{
    return rill__clock_wall_ms();
}

static rb_group_timer_id_t add_timer(void *ud, int64_t delay_ms, void (*cb)(void *arg), void *arg)
{
    timer_t_ t = {++next_id, cb, arg};
    g_array_append_val(timers, t);
    return t.id;
}

static void cancel_timer(void *ud, rb_group_timer_id_t id)
{
    for (guint i = 0; i < timers->len; i++)
        if (g_array_index(timers, timer_t_, i).id == id) {
            g_array_remove_index(timers, i);
            return;
        }
}

static rb_group_coord_t *open_coord(const char *dir, const rb_group_config_t *config,
                                    double *load_s)
{
    rb_group_store_t store;
    char *err = NULL;
    if (rb_group_store_open_log(dir, &store, &err) != 0) {
        fprintf(stderr, "open: %s\n", err);
        exit(1);
    }
    rb_group_env_t env = {now_ms, wall_ms, add_timer, cancel_timer, NULL};
    rb_group_coord_t *coord = rb_group_coord_new(config, &env, &store);
    int64_t t0 = rill__clock_mono_us();
    if (rb_group_coord_load(coord, &err) != 0) {
        fprintf(stderr, "load: %s\n", err);
        exit(1);
    }
    *load_s = (double)(rill__clock_mono_us() - t0) / 1e6;
    return coord;
}

static int joined, synced;
static int32_t generation;

static void on_join(const rb_join_result_t *r, void *ud)
{
    char **id = ud;
    if (r->error_code != 0)
        return;
    joined++;
    generation = r->generation_id;
    g_free(*id);
    *id = g_strdup(r->member_id);
}

static void on_sync(const rb_sync_result_t *r, void *ud)
{
    if (r->error_code == 0 && r->assignment_len > 0)
        synced++;
}

int main(int argc, char **argv)
{
    int commits = argc > 1 ? atoi(argv[1]) : 200000;
    int members = argc > 2 ? atoi(argv[2]) : 1000;
    rill__log_init();
    rill__log_set_level(RILL_LOG_LVL_WARN);
    timers = g_array_new(FALSE, FALSE, sizeof(timer_t_));
    char *dir = g_dir_make_tmp("rill-group-bench-XXXXXX", NULL);
    rb_group_config_t config;
    rb_group_config_defaults(&config);
    config.initial_rebalance_delay_ms = 0;
    double load_s;
    rb_group_coord_t *coord = open_coord(dir, &config, &load_s);

    /* 1. single-partition commits (a consumer committing after each poll) */
    int64_t t0 = rill__clock_mono_us();
    for (int i = 0; i < commits; i++) {
        char topic[32];
        g_snprintf(topic, sizeof(topic), "topic-%d", i % 10);
        rb_offset_commit_part_t part = {
            .topic = topic, .partition = i % 100, .offset = i, .leader_epoch = -1, .metadata = ""};
        rb_group_offset_commit(coord, "bench", -1, "", NULL, &part, 1);
        if (part.error_code) {
            fprintf(stderr, "commit: error %d\n", part.error_code);
            return 1;
        }
    }
    double s = (double)(rill__clock_mono_us() - t0) / 1e6;
    printf("offset commits, 1 partition each: %d in %.3f s = %.0f commits/s\n", commits, s,
           commits / s);

    /* 2. wide commits: 1000 partitions at once */
    int wide = commits / 1000 > 0 ? commits / 1000 : 1;
    rb_offset_commit_part_t *parts = g_new0(rb_offset_commit_part_t, 1000);
    t0 = rill__clock_mono_us();
    for (int i = 0; i < wide; i++) {
        for (int p = 0; p < 1000; p++)
            parts[p] = (rb_offset_commit_part_t){
                .topic = "wide", .partition = p, .offset = i, .leader_epoch = -1};
        rb_group_offset_commit(coord, "bench-wide", -1, "", NULL, parts, 1000);
    }
    s = (double)(rill__clock_mono_us() - t0) / 1e6;
    printf("offset commits, 1000 partitions each: %d in %.3f s = %.0f partitions/s\n", wide, s,
           wide * 1000 / s);
    g_free(parts);

    /* 3. reload: replay every record written above */
    rb_group_coord_destroy(coord);
    coord = open_coord(dir, &config, &load_s);
    int64_t records = (int64_t)commits + (int64_t)wide * 1000;
    printf("reload of %" G_GINT64_FORMAT " offset records: %.3f s = %.0f records/s\n", records,
           load_s, records / load_s);

    /* 4. a rebalance of many members: the first member's generation is
     * replaced when the others arrive; it rejoins last, which completes the
     * join; then every member syncs, the leader last */
    rb_group_protocol_t proto = {"range", (const uint8_t *)"subscription-metadata", 21};
    char **ids = g_new0(char *, members);
    for (int i = 0; i < members; i++) {
        char client[32];
        g_snprintf(client, sizeof(client), "client-%d", i);
        rb_join_request_t req = {.group_id = "big",
                                 .member_id = "",
                                 .protocol_type = "consumer",
                                 .protocols = &proto,
                                 .protocol_count = 1,
                                 .session_timeout_ms = 30000,
                                 .rebalance_timeout_ms = 60000,
                                 .client_id = client,
                                 .client_host = "/127.0.0.1"};
        if (i == 1)
            t0 = rill__clock_mono_us();
        rb_group_join(coord, &req, on_join, &ids[i]);
    }
    rb_join_request_t rejoin = {.group_id = "big",
                                .member_id = ids[0],
                                .protocol_type = "consumer",
                                .protocols = &proto,
                                .protocol_count = 1,
                                .session_timeout_ms = 30000,
                                .rebalance_timeout_ms = 60000,
                                .client_id = "client-0",
                                .client_host = "/127.0.0.1"};
    g_autofree char *first = g_strdup(ids[0]);
    rejoin.member_id = first;
    rb_group_join(coord, &rejoin, on_join, &ids[0]);
    double join_s = (double)(rill__clock_mono_us() - t0) / 1e6;
    if (joined != members + 1) {
        fprintf(stderr, "only %d of %d joined\n", joined - 1, members);
        return 1;
    }
    rb_group_assignment_t *assignments = g_new0(rb_group_assignment_t, members);
    for (int i = 0; i < members; i++)
        assignments[i] = (rb_group_assignment_t){ids[i], (const uint8_t *)"partitions", 10};
    t0 = rill__clock_mono_us();
    for (int i = members - 1; i >= 0; i--) {
        rb_sync_request_t sreq = {.group_id = "big",
                                  .generation_id = generation,
                                  .member_id = ids[i],
                                  .assignments = i == 0 ? assignments : NULL,
                                  .assignment_count = i == 0 ? (size_t)members : 0};
        rb_group_sync(coord, &sreq, on_sync, NULL);
    }
    double sync_s = (double)(rill__clock_mono_us() - t0) / 1e6;
    if (synced != members) {
        fprintf(stderr, "only %d of %d synced\n", synced, members);
        return 1;
    }
    printf("rebalance of %d members: joins %.3f s, syncs %.3f s\n", members, join_s, sync_s);
    for (int i = 0; i < members; i++)
        g_free(ids[i]);
    g_free(ids);
    g_free(assignments);
    rb_group_coord_destroy(coord);
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    g_free(dir);
    g_array_unref(timers);
    return 0;
}
