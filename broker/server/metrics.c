/* metrics.c: rill-broker's Prometheus metrics (the `metrics.listener` setting).
 *
 * Design: the registry (common/metrics.h) is created only when metrics are
 * enabled; with server->metrics NULL every hook below is one NULL check.
 *
 *   - Requests: on_request stamps req->start_us (one monotonic clock read);
 *     when the request ends (answered, acks=0, or its connection closed) we
 *     add 1 to rill_broker_requests_total{api,version,outcome} and observe
 *     the latency in rill_broker_request_duration_seconds{api}. A parked
 *     (long-polling) Fetch is measured until it is answered. The children
 *     are looked up once per (api, version, outcome) and cached in arrays,
 *     so the per-request cost is a clock read plus relaxed atomic adds.
 *   - Network: counters computed at scrape time from rb_loop_stats(), whose
 *     counters are atomics: safe to read from the HTTP thread.
 *   - Per topic produce/fetch counters: children cached on rb_topic_t on
 *     first use (the loop thread), then atomic adds.
 *   - Partitions, groups, transactions: these structures belong to the loop
 *     thread, and a scrape runs on libmicrohttpd's thread, so a scrape never
 *     touches them. Instead the loop refreshes a snapshot of those gauges
 *     every RB__METRICS_REFRESH_MS (and once when the endpoint starts):
 *     log start/end offsets and sizes, topic and partition counts, groups by
 *     state, members, committed offsets and lag (log end offset minus the
 *     committed offset), open transactions. A scrape therefore sees values at
 *     most about a second old. Series of partitions, groups and offsets that
 *     disappeared since the previous refresh are removed from the registry.
 *
 *   on the loop thread:   request end ─► atomic adds on cached children
 *                         refresh timer ─► rill__metric_set on gauges (+ remove stale)
 *   on the HTTP thread:   GET /metrics ─► render (registry lock, atomic reads,
 *                                          rb_loop_stats callbacks)
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "broker/server/server-private.h"
#include "common/clock.h"
#include "common/metrics.h"


#define RB__METRICS_REFRESH_MS 1000
#define MAX_API 128
#define MAX_VER 32

/* Families whose series come and go with the snapshot (indices into fam[]). */
enum {
    F_LOG_END,
    F_LOG_START,
    F_LOG_SIZE,
    F_GROUP_MEMBERS,
    F_GROUP_COMMITTED,
    F_GROUP_LAG,
    F_PRODUCE_RECORDS,
    F_PRODUCE_BYTES,
    F_FETCH_BYTES,
    F_COUNT
};

static const char *const group_states[] = {"Empty", "PreparingRebalance", "CompletingRebalance",
                                           "Stable", "Dead"};

typedef struct shown_series {
    int fidx;
    char **labels; /* NULL-terminated */
} shown_series_t;

struct rb__metrics {
    rb_server_t *server;
    rill_metrics_t *reg;
    bool http;
    rb_timer_id_t timer;
    rill_metric_family_t *f_requests;
    rill_metric_family_t *f_latency;
    rill_metric_family_t *fam[F_COUNT];
    rill_metric_t *requests[MAX_API][MAX_VER][2]; /* [..][..][ok] */
    rill_metric_t *latency[MAX_API];
    rill_metric_t *topics;
    rill_metric_t *partitions;
    rill_metric_t *groups[G_N_ELEMENTS(group_states)];
    rill_metric_t *txn_open;
    GHashTable *shown; /* key -> shown_series_t*: the snapshot series of the last refresh */
};

/* ---- network counters (scrape time, any thread) ----------------------------------- */

static double net_bytes_in(void *ud)
{
    rb_net_stats_t st;
    rb_loop_stats(ud, &st);
    return (double)st.bytes_in;
}

static double net_bytes_out(void *ud)
{
    rb_net_stats_t st;
    rb_loop_stats(ud, &st);
    return (double)st.bytes_out;
}

static double net_accepted(void *ud)
{
    rb_net_stats_t st;
    rb_loop_stats(ud, &st);
    return (double)st.connections_accepted;
}

static double net_open(void *ud)
{
    rb_net_stats_t st;
    rb_loop_stats(ud, &st);
    return (double)(st.connections_accepted - st.connections_closed);
}

/* ---- setup ------------------------------------------------------------------------- */

static void shown_free(gpointer p)
{
    shown_series_t *s = p;
    g_strfreev(s->labels);
    g_free(s);
}

static rill_metric_t *scalar(rill_metrics_t *reg, const char *name, const char *help,
                             rill_metric_type_t type)
{
    const char *const none[] = {NULL};
    rill_metric_family_t *f = rill__metrics_family(reg, name, help, type, none, NULL, 0);
    return rill__metric_child(f, none);
}

void rb__metrics_enable(rb_server_t *server)
{
    if (server->metrics)
        return;
    rb__metrics_t *m = g_new0(rb__metrics_t, 1);
    m->server = server;
    m->reg = rill__metrics_new();
    m->shown = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, shown_free);
    rill_metrics_t *reg = m->reg;
    const char *const l_req[] = {"api", "version", "outcome", NULL};
    const char *const l_api[] = {"api", NULL};
    const char *const l_tp[] = {"topic", "partition", NULL};
    const char *const l_topic[] = {"topic", NULL};
    const char *const l_group[] = {"group", NULL};
    const char *const l_gtp[] = {"group", "topic", "partition", NULL};
    const char *const l_state[] = {"state", NULL};

    m->f_requests = rill__metrics_family(
        reg, "rill_broker_requests_total",
        "Requests handled, by API name, API version and outcome (ok: answered or acks=0; "
        "error: the connection was closed, e.g. malformed or unsupported).",
        RILL_METRIC_COUNTER, l_req, NULL, 0);
    m->f_latency = rill__metrics_family(
        reg, "rill_broker_request_duration_seconds",
        "Time from a request frame's arrival to its response being queued (a long-polling "
        "Fetch until it is answered).",
        RILL_METRIC_HISTOGRAM, l_api, NULL, 0);
    rill__metric_set_callback(scalar(reg, "rill_broker_network_in_bytes_total",
                                     "Bytes read from client connections.", RILL_METRIC_COUNTER),
                              net_bytes_in, server->loop);
    rill__metric_set_callback(scalar(reg, "rill_broker_network_out_bytes_total",
                                     "Bytes written to client connections.", RILL_METRIC_COUNTER),
                              net_bytes_out, server->loop);
    rill__metric_set_callback(scalar(reg, "rill_broker_connections_accepted_total",
                                     "Client connections accepted.", RILL_METRIC_COUNTER),
                              net_accepted, server->loop);
    rill__metric_set_callback(
        scalar(reg, "rill_broker_connections", "Client connections open.", RILL_METRIC_GAUGE),
        net_open, server->loop);
    m->topics =
        scalar(reg, "rill_broker_topics", "Topics (including internal ones).", RILL_METRIC_GAUGE);
    m->partitions =
        scalar(reg, "rill_broker_partitions", "Partitions of all topics.", RILL_METRIC_GAUGE);
    m->fam[F_LOG_END] = rill__metrics_family(reg, "rill_broker_log_end_offset",
                                             "The partition's log end offset (high watermark).",
                                             RILL_METRIC_GAUGE, l_tp, NULL, 0);
    m->fam[F_LOG_START] =
        rill__metrics_family(reg, "rill_broker_log_start_offset",
                             "The partition's log start offset.", RILL_METRIC_GAUGE, l_tp, NULL, 0);
    m->fam[F_LOG_SIZE] = rill__metrics_family(reg, "rill_broker_log_size_bytes",
                                              "Bytes in the partition's log segments.",
                                              RILL_METRIC_GAUGE, l_tp, NULL, 0);
    rill_metric_family_t *f_groups =
        rill__metrics_family(reg, "rill_broker_groups", "Consumer groups, by state.",
                             RILL_METRIC_GAUGE, l_state, NULL, 0);
    for (size_t i = 0; i < G_N_ELEMENTS(group_states); i++) {
        const char *const v[] = {group_states[i], NULL};
        m->groups[i] = rill__metric_child(f_groups, v);
    }
    m->fam[F_GROUP_MEMBERS] =
        rill__metrics_family(reg, "rill_broker_group_members", "Members of the consumer group.",
                             RILL_METRIC_GAUGE, l_group, NULL, 0);
    m->fam[F_GROUP_COMMITTED] = rill__metrics_family(
        reg, "rill_broker_group_committed_offset", "The group's committed offset of the partition.",
        RILL_METRIC_GAUGE, l_gtp, NULL, 0);
    m->fam[F_GROUP_LAG] = rill__metrics_family(
        reg, "rill_broker_group_lag",
        "Records of the partition after the group's committed offset (log end offset minus "
        "committed offset, at least 0).",
        RILL_METRIC_GAUGE, l_gtp, NULL, 0);
    m->txn_open = scalar(reg, "rill_broker_transactions_open",
                         "Transactions Ongoing or being committed or aborted.", RILL_METRIC_GAUGE);
    m->fam[F_PRODUCE_RECORDS] = rill__metrics_family(
        reg, "rill_broker_produce_records_total", "Records appended by Produce requests, by topic.",
        RILL_METRIC_COUNTER, l_topic, NULL, 0);
    m->fam[F_PRODUCE_BYTES] =
        rill__metrics_family(reg, "rill_broker_produce_bytes_total",
                             "Record batch bytes appended by Produce requests, by topic.",
                             RILL_METRIC_COUNTER, l_topic, NULL, 0);
    m->fam[F_FETCH_BYTES] =
        rill__metrics_family(reg, "rill_broker_fetch_bytes_total",
                             "Record batch bytes answered to Fetch requests, by topic.",
                             RILL_METRIC_COUNTER, l_topic, NULL, 0);
    server->metrics = m;
}

rill_metrics_t *rb__metrics_registry(rb_server_t *server)
{
    return server->metrics ? server->metrics->reg : NULL;
}

static void refresh_tick(void *ud)
{
    rb_server_t *server = ud;
    rb__metrics_refresh(server);
    server->metrics->timer =
        rb_loop_add_timer(server->loop, RB__METRICS_REFRESH_MS, refresh_tick, server);
}

int rb_server_metrics_start(rb_server_t *server, const char *listener, char **errmsg)
{
    rb__metrics_enable(server);
    rb__metrics_t *m = server->metrics;
    int port = rill__metrics_http_start(m->reg, listener, errmsg);
    if (port < 0)
        return -1;
    m->http = true;
    rb__metrics_refresh(server);
    m->timer = rb_loop_add_timer(server->loop, RB__METRICS_REFRESH_MS, refresh_tick, server);
    return port;
}

void rb__metrics_free(rb_server_t *server)
{
    rb__metrics_t *m = server->metrics;
    if (!m)
        return;
    if (m->http)
        rill__metrics_http_stop(m->reg); /* no scrape runs after this */
    if (m->timer)
        rb_loop_cancel_timer(server->loop, m->timer);
    server->metrics = NULL;
    g_hash_table_destroy(m->shown);
    rill__metrics_free(m->reg);
    g_free(m);
}

/* ---- hot paths (loop thread) --------------------------------------------------------- */

void rb__metrics_request_done(rb_req_t *req, bool ok)
{
    rb__metrics_t *m = req->server->metrics;
    if (!m)
        return;
    double secs = (double)(rill__clock_mono_us() - req->start_us) / 1e6;
    const rb_api_desc_t *api = req->api;
    int16_t key = req->hdr.api_key;
    int16_t ver = req->hdr.api_version;
    if (api == NULL || key < 0 || key >= MAX_API || ver < 0 || ver >= MAX_VER) {
        /* malformed or unsupported: rare, so no cache */
        char vbuf[16];
        g_snprintf(vbuf, sizeof(vbuf), "%d", api ? ver : -1);
        const char *const v[] = {api ? api->name : "unknown", vbuf, ok ? "ok" : "error", NULL};
        rill__metric_inc(rill__metric_child(m->f_requests, v), 1);
        const char *const a[] = {v[0], NULL};
        rill__metric_observe(rill__metric_child(m->f_latency, a), secs);
        return;
    }
    rill_metric_t **count = &m->requests[key][ver][ok ? 1 : 0];
    if (*count == NULL) {
        char vbuf[16];
        g_snprintf(vbuf, sizeof(vbuf), "%d", ver);
        const char *const v[] = {api->name, vbuf, ok ? "ok" : "error", NULL};
        *count = rill__metric_child(m->f_requests, v);
    }
    if (m->latency[key] == NULL) {
        const char *const a[] = {api->name, NULL};
        m->latency[key] = rill__metric_child(m->f_latency, a);
    }
    rill__metric_inc(*count, 1);
    rill__metric_observe(m->latency[key], secs);
}

void rb__metrics_produced(rb_server_t *server, rb_topic_t *topic, int64_t records, int64_t bytes)
{
    rb__metrics_t *m = server->metrics;
    if (!m)
        return;
    if (topic->m_produce_records == NULL) {
        const char *const v[] = {topic->name, NULL};
        topic->m_produce_records = rill__metric_child(m->fam[F_PRODUCE_RECORDS], v);
        topic->m_produce_bytes = rill__metric_child(m->fam[F_PRODUCE_BYTES], v);
    }
    rill__metric_inc(topic->m_produce_records, (double)records);
    rill__metric_inc(topic->m_produce_bytes, (double)bytes);
}

void rb__metrics_fetched(rb_server_t *server, rb_topic_t *topic, int64_t bytes)
{
    rb__metrics_t *m = server->metrics;
    if (!m)
        return;
    if (topic->m_fetch_bytes == NULL) {
        const char *const v[] = {topic->name, NULL};
        topic->m_fetch_bytes = rill__metric_child(m->fam[F_FETCH_BYTES], v);
    }
    rill__metric_inc(topic->m_fetch_bytes, (double)bytes);
}

/* ---- the snapshot (loop thread) ---------------------------------------------------------- */

/* Remembers that series (fidx, labels) exists in this refresh. */
static void mark(GHashTable *now, int fidx, const char *const *labels)
{
    GString *key = g_string_new(NULL);
    g_string_append_printf(key, "%d", fidx);
    for (size_t i = 0; labels[i]; i++) {
        g_string_append_c(key, '\0' + 1); /* a separator no label value holds in practice */
        g_string_append(key, labels[i]);
    }
    if (g_hash_table_contains(now, key->str)) {
        g_string_free(key, TRUE);
        return;
    }
    shown_series_t *s = g_new0(shown_series_t, 1);
    s->fidx = fidx;
    s->labels = g_strdupv((char **)labels);
    g_hash_table_insert(now, g_string_free(key, FALSE), s);
}

static void set_gauge(rb__metrics_t *m, GHashTable *now, int fidx, const char *const *labels,
                      double v)
{
    rill__metric_set(rill__metric_child(m->fam[fidx], labels), v);
    mark(now, fidx, labels);
}

typedef struct group_row {
    char *id;
    char *state;
} group_row_t;

static void collect_group(const char *group_id, const char *protocol_type, const char *state,
                          void *ud)
{
    (void)protocol_type;
    group_row_t row = {g_strdup(group_id), g_strdup(state)};
    g_array_append_val((GArray *)ud, row);
}

static void count_members(const rb_group_desc_t *desc, void *ud)
{
    *(size_t *)ud = desc->member_count;
}

typedef struct offsets_ctx {
    rb__metrics_t *m;
    GHashTable *now;
    const char *group;
} offsets_ctx_t;

static void group_offset(const rb_offset_fetch_part_t *part, void *ud)
{
    offsets_ctx_t *c = ud;
    if (part->offset < 0)
        return;
    char pbuf[16];
    g_snprintf(pbuf, sizeof(pbuf), "%d", part->partition);
    const char *const l[] = {c->group, part->topic, pbuf, NULL};
    set_gauge(c->m, c->now, F_GROUP_COMMITTED, l, (double)part->offset);
    rb_str_t name = {part->topic, (int32_t)strlen(part->topic)};
    rb_partition_t *p = rb__partition_find(c->m->server, name, part->partition);
    if (p == NULL)
        return;
    int64_t lag = rb_log_end_offset(p->log) - part->offset;
    set_gauge(c->m, c->now, F_GROUP_LAG, l, (double)(lag > 0 ? lag : 0));
}

static void refresh_groups(rb__metrics_t *m, GHashTable *now)
{
    rb_group_coord_t *coord = m->server->groups;
    size_t by_state[G_N_ELEMENTS(group_states)] = {0};
    if (coord != NULL) {
        GArray *rows = g_array_new(FALSE, FALSE, sizeof(group_row_t));
        if (rb_group_list(coord, NULL, 0, collect_group, rows) != RB_GROUP_ERR_NONE)
            g_array_set_size(rows, 0);
        for (guint i = 0; i < rows->len; i++) {
            group_row_t *row = &g_array_index(rows, group_row_t, i);
            for (size_t s = 0; s < G_N_ELEMENTS(group_states); s++)
                if (g_ascii_strcasecmp(row->state, group_states[s]) == 0)
                    by_state[s]++;
            size_t members = 0;
            rb_group_describe(coord, row->id, count_members, &members);
            const char *const l[] = {row->id, NULL};
            set_gauge(m, now, F_GROUP_MEMBERS, l, (double)members);
            offsets_ctx_t ctx = {m, now, row->id};
            rb_group_offset_fetch_all(coord, row->id, false, group_offset, &ctx);
            g_free(row->id);
            g_free(row->state);
        }
        g_array_free(rows, TRUE);
    }
    for (size_t s = 0; s < G_N_ELEMENTS(group_states); s++)
        rill__metric_set(m->groups[s], (double)by_state[s]);
}

void rb__metrics_refresh(rb_server_t *server)
{
    rb__metrics_t *m = server->metrics;
    if (!m)
        return;
    GHashTable *now = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, shown_free);
    int64_t npartitions = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, server->topics);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        rb_topic_t *topic = value;
        for (int32_t i = 0; i < topic->npartitions; i++) {
            const rb_log_t *log = topic->partitions[i]->log;
            char pbuf[16];
            g_snprintf(pbuf, sizeof(pbuf), "%d", i);
            const char *const l[] = {topic->name, pbuf, NULL};
            set_gauge(m, now, F_LOG_END, l, (double)rb_log_end_offset(log));
            set_gauge(m, now, F_LOG_START, l, (double)rb_log_start_offset(log));
            set_gauge(m, now, F_LOG_SIZE, l, (double)rb_log_size_bytes(log));
            npartitions++;
        }
        /* the per-topic counters live as long as the topic */
        const char *const t[] = {topic->name, NULL};
        if (topic->m_produce_records) {
            mark(now, F_PRODUCE_RECORDS, t);
            mark(now, F_PRODUCE_BYTES, t);
        }
        if (topic->m_fetch_bytes)
            mark(now, F_FETCH_BYTES, t);
    }
    rill__metric_set(m->topics, (double)g_hash_table_size(server->topics));
    rill__metric_set(m->partitions, (double)npartitions);
    refresh_groups(m, now);

    if (server->txn != NULL) {
        const rb_txn_state_t open[] = {RB_TXN_ONGOING, RB_TXN_PREPARE_COMMIT, RB_TXN_PREPARE_ABORT};
        GArray *txns = g_array_new(FALSE, FALSE, sizeof(rb_txn_info_t));
        rb_txn_list(server->txn, open, G_N_ELEMENTS(open), NULL, 0, txns);
        rill__metric_set(m->txn_open, (double)txns->len);
        g_array_free(txns, TRUE);
    }

    /* series gone since the last refresh: deleted topics, groups, offsets */
    GHashTableIter old;
    gpointer key, s;
    g_hash_table_iter_init(&old, m->shown);
    while (g_hash_table_iter_next(&old, &key, &s)) {
        if (g_hash_table_contains(now, key))
            continue;
        const shown_series_t *gone = s;
        rill__metric_remove(m->fam[gone->fidx], (const char *const *)gone->labels);
    }
    g_hash_table_destroy(m->shown);
    m->shown = now;
}
