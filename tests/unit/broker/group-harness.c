/* group-harness.c: fake clock, timers and file store for the group tests (see group-harness.h). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "common/buf.h"
#include "group-harness.h"

typedef struct h_timer {
    uint64_t id;
    int64_t due;
    void (*cb)(void *arg);
    void *arg;
} h_timer_t;

/* ---- clock and timers ------------------------------------------------------ */

static int64_t h_now(void *ud)
{
    return ((harness_t *)ud)->now;
}

static int64_t h_wall(void *ud)
{
    return H_WALL_BASE + ((harness_t *)ud)->now;
}

static rb_group_timer_id_t h_add_timer(void *ud, int64_t delay_ms, void (*cb)(void *arg), void *arg)
{
    harness_t *h = ud;
    assert_true(delay_ms >= 0);
    h_timer_t t = {.id = ++h->next_timer_id, .due = h->now + delay_ms, .cb = cb, .arg = arg};
    g_array_append_val(h->timers, t);
    return t.id;
}

static void h_cancel_timer(void *ud, rb_group_timer_id_t id)
{
    harness_t *h = ud;
    for (guint i = 0; i < h->timers->len; i++) {
        if (g_array_index(h->timers, h_timer_t, i).id == id) {
            g_array_remove_index(h->timers, i);
            return;
        }
    }
}

void h_advance(harness_t *h, int64_t ms)
{
    int64_t target = h->now + ms;
    for (;;) {
        int best = -1;
        for (guint i = 0; i < h->timers->len; i++) {
            h_timer_t *t = &g_array_index(h->timers, h_timer_t, i);
            if (t->due > target)
                continue;
            if (best < 0) {
                best = (int)i;
                continue;
            }
            h_timer_t *b = &g_array_index(h->timers, h_timer_t, best);
            if (t->due < b->due || (t->due == b->due && t->id < b->id))
                best = (int)i;
        }
        if (best < 0)
            break;
        h_timer_t t = g_array_index(h->timers, h_timer_t, best);
        g_array_remove_index(h->timers, (guint)best);
        h->now = t.due;
        t.cb(t.arg);
    }
    h->now = target;
}

size_t h_pending_timers(const harness_t *h)
{
    return h->timers->len;
}

/* ---- the file store ---------------------------------------------------------- */

static int16_t h_append(void *ud, uint8_t *batch, size_t len, int64_t now_ms)
{
    harness_t *h = ud;
    h->appends++;
    if (h->fail_appends > 0) {
        h->fail_appends--;
        return -1;
    }
    FILE *f = fopen(h->store_path, "ab");
    assert_non_null(f);
    assert_int_equal(fwrite(batch, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return 0;
}

static int h_replay(void *ud, void (*fn)(void *arg, const uint8_t *batch, size_t len), void *arg,
                    char **errmsg)
{
    harness_t *h = ud;
    gchar *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(h->store_path, &data, &len, NULL))
        return 0; /* no file yet: empty log */
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 12) {
            *errmsg = g_strdup("torn batch header");
            g_free(data);
            return -1;
        }
        size_t blen = (size_t)rill__be32_get((const uint8_t *)data + pos + 8) + 12;
        if (blen > len - pos) {
            *errmsg = g_strdup("torn batch");
            g_free(data);
            return -1;
        }
        fn(arg, (const uint8_t *)data + pos, blen);
        pos += blen;
    }
    g_free(data);
    return 0;
}

rb_group_store_t h_store(harness_t *h)
{
    return (rb_group_store_t){.append = h_append, .replay = h_replay, .ud = h};
}

/* ---- lifetime ------------------------------------------------------------------- */

harness_t *h_new(void)
{
    harness_t *h = g_new0(harness_t, 1);
    h->now = 1000;
    h->timers = g_array_new(FALSE, FALSE, sizeof(h_timer_t));
    h->dir = g_dir_make_tmp("rill-group-XXXXXX", NULL);
    assert_non_null(h->dir);
    h->store_path = g_build_filename(h->dir, "offsets.log", NULL);
    rb_group_config_defaults(&h->config);
    h->config.initial_rebalance_delay_ms = 0;
    return h;
}

static void open_coord(harness_t *h, const rb_group_store_t *store)
{
    assert_null(h->coord);
    rb_group_env_t env = {
        .now_ms = h_now,
        .wall_ms = h_wall,
        .add_timer = h_add_timer,
        .cancel_timer = h_cancel_timer,
        .ud = h,
    };
    h->coord = rb_group_coord_new(&h->config, &env, store);
}

void h_open_unloaded(harness_t *h)
{
    rb_group_store_t store = h_store(h);
    open_coord(h, &store);
}

void h_open_with_store(harness_t *h, const rb_group_store_t *store)
{
    open_coord(h, store);
    char *err = h_load(h);
    if (err)
        fail_msg("load failed: %s", err);
}

char *h_load(harness_t *h)
{
    char *err = NULL;
    int rc = rb_group_coord_load(h->coord, &err);
    assert_true((rc == 0) == (err == NULL));
    return err;
}

void h_open(harness_t *h)
{
    h_open_unloaded(h);
    char *err = h_load(h);
    if (err)
        fail_msg("load failed: %s", err);
}

void h_close(harness_t *h)
{
    rb_group_coord_destroy(h->coord);
    h->coord = NULL;
    assert_int_equal(h->timers->len, 0); /* every timer was cancelled */
}

void h_free(harness_t *h)
{
    if (h->coord)
        h_close(h);
    g_unlink(h->store_path);
    g_rmdir(h->dir);
    g_array_unref(h->timers);
    g_free(h->store_path);
    g_free(h->dir);
    g_free(h);
}

/* ---- clients ----------------------------------------------------------------------- */

void client_init(client_t *c, const char *client_id, const char *instance_id, const char *protocols)
{
    memset(c, 0, sizeof(*c));
    c->client_id = client_id;
    c->instance_id = instance_id;
    c->protocols = protocols;
    c->session_ms = 10000;
    c->rebalance_ms = 30000;
    c->generation = -1;
    c->protocol_type = "consumer";
}

static void on_join(const rb_join_result_t *r, void *ud)
{
    client_t *c = ud;
    c->joined = true;
    c->join_err = r->error_code;
    assert_non_null(r->member_id);
    if (r->error_code == RB_GROUP_ERR_NONE || r->error_code == RB_GROUP_ERR_MEMBER_ID_REQUIRED)
        g_strlcpy(c->member_id, r->member_id, sizeof(c->member_id));
    if (r->error_code != RB_GROUP_ERR_NONE)
        return;
    c->generation = r->generation_id;
    g_strlcpy(c->leader, r->leader, sizeof(c->leader));
    g_strlcpy(c->protocol, r->protocol_name ? r->protocol_name : "", sizeof(c->protocol));
    assert_true(r->member_count <= 8);
    c->member_count = (int)r->member_count;
    for (size_t i = 0; i < r->member_count; i++) {
        g_strlcpy(c->members[i], r->members[i].member_id, sizeof(c->members[i]));
        size_t n = r->members[i].metadata_len;
        assert_true(n < sizeof(c->member_md[i]));
        memcpy(c->member_md[i], r->members[i].metadata, n);
        c->member_md[i][n] = '\0';
    }
}

void client_join(harness_t *h, const char *group, client_t *c, bool require_known)
{
    g_auto(GStrv) names = g_strsplit(c->protocols, ",", -1);
    guint n = g_strv_length(names);
    rb_group_protocol_t protos[8];
    char md[8][128];
    assert_true(n <= 8);
    for (guint i = 0; i < n; i++) {
        g_snprintf(md[i], sizeof(md[i]), "%s:%s", names[i], c->client_id);
        protos[i] = (rb_group_protocol_t){
            .name = names[i], .metadata = (const uint8_t *)md[i], .metadata_len = strlen(md[i])};
    }
    rb_join_request_t req = {
        .group_id = group,
        .member_id = c->member_id,
        .group_instance_id = c->instance_id,
        .protocol_type = c->protocol_type,
        .protocols = protos,
        .protocol_count = n,
        .session_timeout_ms = c->session_ms,
        .rebalance_timeout_ms = c->rebalance_ms,
        .require_known_member_id = require_known,
        .client_id = c->client_id,
        .client_host = "/127.0.0.1",
    };
    c->joined = false;
    c->synced = false;
    rb_group_join(h->coord, &req, on_join, c);
}

static void on_sync(const rb_sync_result_t *r, void *ud)
{
    client_t *c = ud;
    c->synced = true;
    c->sync_err = r->error_code;
    assert_non_null(r->assignment);
    assert_true(r->assignment_len < sizeof(c->assignment));
    memcpy(c->assignment, r->assignment, r->assignment_len);
    c->assignment[r->assignment_len] = '\0';
}

void client_sync(harness_t *h, const char *group, client_t *c)
{
    rb_group_assignment_t assignments[8];
    char values[8][200];
    for (int i = 0; i < c->member_count; i++) {
        g_snprintf(values[i], sizeof(values[i]), "A(%s)", c->member_md[i]);
        assignments[i] = (rb_group_assignment_t){.member_id = c->members[i],
                                                 .assignment = (const uint8_t *)values[i],
                                                 .assignment_len = strlen(values[i])};
    }
    rb_sync_request_t req = {
        .group_id = group,
        .generation_id = c->generation,
        .member_id = c->member_id,
        .group_instance_id = c->instance_id,
        .protocol_name = c->sync_protocol_name,
        .assignments = assignments,
        .assignment_count = (size_t)c->member_count,
    };
    c->synced = false;
    c->assignment[0] = '\0';
    rb_group_sync(h->coord, &req, on_sync, c);
}

int16_t client_heartbeat(harness_t *h, const char *group, client_t *c)
{
    return rb_group_heartbeat(h->coord, group, c->generation, c->member_id, c->instance_id);
}

int16_t client_leave(harness_t *h, const char *group, client_t *c)
{
    rb_leave_member_t leave = {.member_id = c->member_id, .group_instance_id = c->instance_id};
    int16_t err = rb_group_leave(h->coord, group, &leave, 1);
    return err ? err : leave.error_code;
}
