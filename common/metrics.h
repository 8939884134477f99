/* metrics.h: Prometheus metrics for rill-broker and rill apps.
 *
 * A registry holds metric families (counter, gauge, histogram), each with a
 * fixed list of label names; a family's children are its label-value
 * combinations. Hot paths hold a child pointer (looked up once, e.g. when a
 * task is created) and update it with one relaxed atomic add, no lock and no
 * allocation. Gauges may also be computed at scrape time by a callback.
 * rill__metrics_render() writes the Prometheus text exposition format
 * (version 0.0.4); rill__metrics_http_start() serves it at /metrics with
 * libmicrohttpd on its own thread (the `metrics.listener` setting).
 *
 * Thread safety: registering and looking up children take the registry lock;
 * updates are atomic; rendering takes the lock and reads atomically. */
#ifndef RILL_COMMON_METRICS_H
#define RILL_COMMON_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

typedef struct rill_metrics rill_metrics_t;
typedef struct rill_metric_family rill_metric_family_t;
typedef struct rill_metric rill_metric_t;

typedef enum rill_metric_type {
    RILL_METRIC_COUNTER,
    RILL_METRIC_GAUGE,
    RILL_METRIC_HISTOGRAM,
} rill_metric_type_t;

rill_metrics_t *rill__metrics_new(void);
void rill__metrics_free(rill_metrics_t *metrics);

/* Registers (or returns the existing) family. label_names: NULL-terminated,
 * copied. For histograms, bounds are the bucket upper bounds (ascending,
 * copied; +Inf is implicit); NULL for the default latency buckets in seconds. */
rill_metric_family_t *rill__metrics_family(rill_metrics_t *metrics, const char *name,
                                           const char *help, rill_metric_type_t type,
                                           const char *const *label_names, const double *bounds,
                                           size_t bound_count);

/* The child for these label values (as many as the family's label names),
 * created on first use. (transfer none: lives as long as the registry.) */
rill_metric_t *rill__metric_child(rill_metric_family_t *family, const char *const *label_values);

/* Removes the child (e.g. a task closed); a held pointer must not be used after. */
void rill__metric_remove(rill_metric_family_t *family, const char *const *label_values);

void rill__metric_inc(rill_metric_t *metric, double v);  /* counter or gauge */
void rill__metric_set(rill_metric_t *metric, double v);  /* gauge */
void rill__metric_observe(rill_metric_t *metric, double v); /* histogram */
double rill__metric_value(const rill_metric_t *metric);  /* counter or gauge */

/* A gauge computed at scrape time: cb fills the value. */
void rill__metric_set_callback(rill_metric_t *metric, double (*cb)(void *ud), void *ud);

/* Renders every family in the Prometheus text format. (transfer full) */
GString *rill__metrics_render(rill_metrics_t *metrics);

/* Serves GET /metrics on host:port (port 0 picks one) from a thread of its own.
 * listener is "HOST:PORT" or "http://HOST:PORT". Returns the bound port, or -1
 * with *errmsg set (g_free it). */
int rill__metrics_http_start(rill_metrics_t *metrics, const char *listener, char **errmsg);
void rill__metrics_http_stop(rill_metrics_t *metrics);

#endif
