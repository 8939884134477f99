/* metrics.c: the Prometheus metrics registry and its HTTP endpoint (see metrics.h).
 *
 * Values are doubles kept as their bit patterns in 64-bit atomics, so that an
 * update is a lock-free compare-and-swap (C11 has no atomic add on doubles).
 * The endpoint uses libmicrohttpd (a well-kept HTTP server library) on its own
 * thread: scraping never touches the broker's event loop or a stream thread. */
#include "config.h"

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/metrics.h"

static const double default_bounds[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05,
                                        0.1,    0.5,    1,     5,     10};

struct rill_metric {
    rill_metric_family_t *family;
    char **label_values;
    char *key;
    _Atomic uint64_t value; /* double bits: counter/gauge value, histogram sum */
    _Atomic uint64_t count; /* histogram */
    _Atomic uint64_t *buckets;
    double (*cb)(void *ud);
    void *cb_ud;
};

struct rill_metric_family {
    rill_metrics_t *metrics;
    char *name;
    char *help;
    rill_metric_type_t type;
    char **label_names;
    size_t label_count;
    double *bounds;
    size_t bound_count;
    GHashTable *children; /* key -> rill_metric_t */
};

struct rill_metrics {
    GMutex lock;
    GPtrArray *families; /* registration order */
    struct MHD_Daemon *daemon;
};

static inline uint64_t d2u(double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}

static inline double u2d(uint64_t u)
{
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void metric_free(gpointer p)
{
    rill_metric_t *m = p;
    g_strfreev(m->label_values);
    g_free(m->key);
    g_free(m->buckets);
    g_free(m);
}

static void family_free(gpointer p)
{
    rill_metric_family_t *f = p;
    g_hash_table_destroy(f->children);
    g_free(f->name);
    g_free(f->help);
    g_strfreev(f->label_names);
    g_free(f->bounds);
    g_free(f);
}

rill_metrics_t *rill__metrics_new(void)
{
    rill_metrics_t *metrics = g_new0(rill_metrics_t, 1);
    g_mutex_init(&metrics->lock);
    metrics->families = g_ptr_array_new_with_free_func(family_free);
    return metrics;
}

void rill__metrics_free(rill_metrics_t *metrics)
{
    if (metrics == NULL)
        return;
    rill__metrics_http_stop(metrics);
    g_ptr_array_free(metrics->families, TRUE);
    g_mutex_clear(&metrics->lock);
    g_free(metrics);
}

rill_metric_family_t *rill__metrics_family(rill_metrics_t *metrics, const char *name,
                                           const char *help, rill_metric_type_t type,
                                           const char *const *label_names, const double *bounds,
                                           size_t bound_count)
{
    g_mutex_lock(&metrics->lock);
    for (guint i = 0; i < metrics->families->len; i++) {
        rill_metric_family_t *f = metrics->families->pdata[i];
        if (strcmp(f->name, name) == 0) {
            g_mutex_unlock(&metrics->lock);
            g_assert(f->type == type);
            return f;
        }
    }
    rill_metric_family_t *f = g_new0(rill_metric_family_t, 1);
    f->metrics = metrics;
    f->name = g_strdup(name);
    f->help = g_strdup(help);
    f->type = type;
    f->label_names = g_strdupv((char **)(label_names ? label_names : (const char *const[]){NULL}));
    f->label_count = g_strv_length(f->label_names);
    if (type == RILL_METRIC_HISTOGRAM) {
        if (bounds == NULL) {
            bounds = default_bounds;
            bound_count = G_N_ELEMENTS(default_bounds);
        }
        f->bounds = g_memdup2(bounds, sizeof(double) * bound_count);
        f->bound_count = bound_count;
    }
    f->children = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, metric_free);
    g_ptr_array_add(metrics->families, f);
    g_mutex_unlock(&metrics->lock);
    return f;
}

static char *child_key(const rill_metric_family_t *f, const char *const *values)
{
    GString *key = g_string_new(NULL);
    for (size_t i = 0; i < f->label_count; i++) {
        if (i)
            g_string_append_c(key, '\x1f');
        g_string_append(key, values && values[i] ? values[i] : "");
    }
    return g_string_free(key, FALSE);
}

rill_metric_t *rill__metric_child(rill_metric_family_t *family, const char *const *label_values)
{
    g_autofree char *key = child_key(family, label_values);
    g_mutex_lock(&family->metrics->lock);
    rill_metric_t *m = g_hash_table_lookup(family->children, key);
    if (m == NULL) {
        m = g_new0(rill_metric_t, 1);
        m->family = family;
        m->key = g_steal_pointer(&key);
        m->label_values = g_new0(char *, family->label_count + 1);
        for (size_t i = 0; i < family->label_count; i++)
            m->label_values[i] = g_strdup(label_values && label_values[i] ? label_values[i] : "");
        if (family->type == RILL_METRIC_HISTOGRAM)
            m->buckets = g_new0(_Atomic uint64_t, family->bound_count);
        atomic_init(&m->value, d2u(0));
        g_hash_table_insert(family->children, m->key, m);
    }
    g_mutex_unlock(&family->metrics->lock);
    return m;
}

void rill__metric_remove(rill_metric_family_t *family, const char *const *label_values)
{
    g_autofree char *key = child_key(family, label_values);
    g_mutex_lock(&family->metrics->lock);
    g_hash_table_remove(family->children, key);
    g_mutex_unlock(&family->metrics->lock);
}

static void atomic_add_double(_Atomic uint64_t *cell, double v)
{
    uint64_t old = atomic_load_explicit(cell, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(cell, &old, d2u(u2d(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void rill__metric_inc(rill_metric_t *metric, double v)
{
    atomic_add_double(&metric->value, v);
}

void rill__metric_set(rill_metric_t *metric, double v)
{
    atomic_store_explicit(&metric->value, d2u(v), memory_order_relaxed);
}

void rill__metric_observe(rill_metric_t *metric, double v)
{
    const rill_metric_family_t *f = metric->family;
    for (size_t i = 0; i < f->bound_count; i++) {
        if (v <= f->bounds[i]) {
            atomic_fetch_add_explicit(&metric->buckets[i], 1, memory_order_relaxed);
            break;
        }
    }
    atomic_fetch_add_explicit(&metric->count, 1, memory_order_relaxed);
    atomic_add_double(&metric->value, v);
}

double rill__metric_value(const rill_metric_t *metric)
{
    if (metric->cb)
        return metric->cb(metric->cb_ud);
    return u2d(atomic_load_explicit(&((rill_metric_t *)metric)->value, memory_order_relaxed));
}

void rill__metric_set_callback(rill_metric_t *metric, double (*cb)(void *ud), void *ud)
{
    g_mutex_lock(&metric->family->metrics->lock);
    metric->cb = cb;
    metric->cb_ud = ud;
    g_mutex_unlock(&metric->family->metrics->lock);
}

static void append_number(GString *out, double v)
{
    if (isnan(v))
        g_string_append(out, "NaN");
    else if (isinf(v))
        g_string_append(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 1e15)
        g_string_append_printf(out, "%" G_GINT64_FORMAT, (int64_t)v);
    else {
        /* the shortest of %.15g and %.17g that reads back as v */
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        g_ascii_formatd(buf, sizeof(buf), "%.15g", v);
        if (g_ascii_strtod(buf, NULL) != v)
            g_ascii_formatd(buf, sizeof(buf), "%.17g", v);
        g_string_append(out, buf);
    }
}

static void append_escaped(GString *out, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\')
            g_string_append(out, "\\\\");
        else if (*s == '"')
            g_string_append(out, "\\\"");
        else if (*s == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *s);
    }
}

/* name{labels[,le="x"]} */
static void append_series(GString *out, const rill_metric_family_t *f, const rill_metric_t *m,
                          const char *suffix, const char *le)
{
    g_string_append(out, f->name);
    g_string_append(out, suffix);
    if (f->label_count == 0 && le == NULL) {
        g_string_append_c(out, ' ');
        return;
    }
    g_string_append_c(out, '{');
    for (size_t i = 0; i < f->label_count; i++) {
        g_string_append_printf(out, "%s%s=\"", i ? "," : "", f->label_names[i]);
        append_escaped(out, m->label_values[i]);
        g_string_append_c(out, '"');
    }
    if (le)
        g_string_append_printf(out, "%sle=\"%s\"", f->label_count ? "," : "", le);
    g_string_append(out, "} ");
}

static gint cmp_key(gconstpointer a, gconstpointer b)
{
    return strcmp((*(rill_metric_t *const *)a)->key, (*(rill_metric_t *const *)b)->key);
}

GString *rill__metrics_render(rill_metrics_t *metrics)
{
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    GString *out = g_string_sized_new(4096);
    g_mutex_lock(&metrics->lock);
    for (guint i = 0; i < metrics->families->len; i++) {
        const rill_metric_family_t *f = metrics->families->pdata[i];
        g_string_append_printf(out, "# HELP %s ", f->name);
        append_escaped(out, f->help);
        g_string_append_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
        GPtrArray *children = g_ptr_array_sized_new(g_hash_table_size(f->children));
        GHashTableIter it;
        gpointer child;
        g_hash_table_iter_init(&it, f->children);
        while (g_hash_table_iter_next(&it, NULL, &child))
            g_ptr_array_add(children, child);
        g_ptr_array_sort(children, cmp_key);
        for (guint c = 0; c < children->len; c++) {
            const rill_metric_t *m = children->pdata[c];
            if (f->type != RILL_METRIC_HISTOGRAM) {
                append_series(out, f, m, "", NULL);
                append_number(out, rill__metric_value(m));
                g_string_append_c(out, '\n');
                continue;
            }
            uint64_t cumulative = 0;
            for (size_t b = 0; b < f->bound_count; b++) {
                cumulative += atomic_load_explicit(&m->buckets[b], memory_order_relaxed);
                char le[32];
                g_ascii_formatd(le, sizeof(le), "%g", f->bounds[b]);
                append_series(out, f, m, "_bucket", le);
                g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", cumulative);
            }
            uint64_t count = atomic_load_explicit(&((rill_metric_t *)m)->count,
                                                  memory_order_relaxed);
            append_series(out, f, m, "_bucket", "+Inf");
            g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", count);
            append_series(out, f, m, "_sum", NULL);
            append_number(out, u2d(atomic_load_explicit(&((rill_metric_t *)m)->value,
                                                        memory_order_relaxed)));
            g_string_append_c(out, '\n');
            append_series(out, f, m, "_count", NULL);
            g_string_append_printf(out, "%" G_GUINT64_FORMAT "\n", count);
        }
        g_ptr_array_free(children, TRUE);
    }
    g_mutex_unlock(&metrics->lock);
    return out;
}

static enum MHD_Result on_http(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_data_size, void **req_cls)
{
    rill_metrics_t *metrics = cls;
    struct MHD_Response *resp;
    unsigned status;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const char msg[] = "only GET is served\n";
        resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
                                               MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_METHOD_NOT_ALLOWED;
    } else if (strcmp(url, "/metrics") == 0 || strcmp(url, "/") == 0) {
        GString *text = rill__metrics_render(metrics);
        size_t len = text->len;
        resp = MHD_create_response_from_buffer_with_free_callback(len, g_string_free(text, FALSE),
                                                                  g_free);
        MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        status = MHD_HTTP_OK;
    } else {
        static const char msg[] = "not found: metrics are at /metrics\n";
        resp = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg,
                                               MHD_RESPMEM_PERSISTENT);
        status = MHD_HTTP_NOT_FOUND;
    }
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

int rill__metrics_http_start(rill_metrics_t *metrics, const char *listener, char **errmsg)
{
    const char *hostport = g_str_has_prefix(listener, "http://") ? listener + 7 : listener;
    const char *colon = strrchr(hostport, ':');
    if (colon == NULL) {
        *errmsg = g_strdup_printf("metrics.listener '%s': expected HOST:PORT", listener);
        return -1;
    }
    g_autofree char *host = g_strndup(hostport, (gsize)(colon - hostport));
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' && *end != '/') {
        *errmsg = g_strdup_printf("metrics.listener '%s': bad port", listener);
        return -1;
    }
    if (port < 0 || port > 65535) {
        *errmsg = g_strdup_printf("metrics.listener '%s': port out of range", listener);
        return -1;
    }
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    if (*host == '\0' || strcmp(host, "0.0.0.0") == 0)
        addr.sin_addr.s_addr = htonl(INADDR_ANY);
    else if (strcmp(host, "localhost") == 0)
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        *errmsg = g_strdup_printf("metrics.listener '%s': '%s' is not an IPv4 address", listener,
                                  host);
        return -1;
    }
    rill__metrics_http_stop(metrics);
    metrics->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, on_http,
        metrics, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)10, MHD_OPTION_END);
    if (metrics->daemon == NULL) {
        *errmsg = g_strdup_printf("metrics.listener '%s': cannot listen (in use?)", listener);
        return -1;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(metrics->daemon, MHD_DAEMON_INFO_BIND_PORT);
    return info ? (int)info->port : (int)port;
}

void rill__metrics_http_stop(rill_metrics_t *metrics)
{
    if (metrics->daemon) {
        MHD_stop_daemon(metrics->daemon);
        metrics->daemon = NULL;
    }
}
