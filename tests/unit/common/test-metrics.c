/* test-metrics.c: the metrics registry's text format and its HTTP endpoint. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/metrics.h"

static void test_metrics__render_counter_gauge_histogram(void **state)
{
    rill_metrics_t *m = rill__metrics_new();
    const char *const labels[] = {"thread", "task", NULL};
    rill_metric_family_t *rec = rill__metrics_family(m, "rill_records_in_total", "Records read",
                                                     RILL_METRIC_COUNTER, labels, NULL, 0);
    const char *const v1[] = {"0", "0_1"}, *const v2[] = {"0", "0_\"2\""};
    rill__metric_inc(rill__metric_child(rec, v1), 3);
    rill__metric_inc(rill__metric_child(rec, v1), 2);
    rill__metric_inc(rill__metric_child(rec, v2), 1);
    /* the same family again is the same family */
    assert_ptr_equal(rill__metrics_family(m, "rill_records_in_total", "x", RILL_METRIC_COUNTER,
                                          labels, NULL, 0),
                     rec);
    rill_metric_family_t *g =
        rill__metrics_family(m, "rill_up", "Up", RILL_METRIC_GAUGE, NULL, NULL, 0);
    rill__metric_set(rill__metric_child(g, NULL), 1.5);
    const double bounds[] = {0.1, 1};
    rill_metric_family_t *h = rill__metrics_family(m, "rill_latency_seconds", "Latency",
                                                   RILL_METRIC_HISTOGRAM, NULL, bounds, 2);
    rill_metric_t *hc = rill__metric_child(h, NULL);
    rill__metric_observe(hc, 0.05);
    rill__metric_observe(hc, 0.5);
    rill__metric_observe(hc, 7);

    GString *text = rill__metrics_render(m);
    const char *want =
        "# HELP rill_records_in_total Records read\n"
        "# TYPE rill_records_in_total counter\n"
        "rill_records_in_total{thread=\"0\",task=\"0_\\\"2\\\"\"} 1\n"
        "rill_records_in_total{thread=\"0\",task=\"0_1\"} 5\n"
        "# HELP rill_up Up\n"
        "# TYPE rill_up gauge\n"
        "rill_up 1.5\n"
        "# HELP rill_latency_seconds Latency\n"
        "# TYPE rill_latency_seconds histogram\n"
        "rill_latency_seconds_bucket{le=\"0.1\"} 1\n"
        "rill_latency_seconds_bucket{le=\"1\"} 2\n"
        "rill_latency_seconds_bucket{le=\"+Inf\"} 3\n"
        "rill_latency_seconds_sum 7.55\n"
        "rill_latency_seconds_count 3\n";
    assert_string_equal(text->str, want);
    g_string_free(text, TRUE);

    rill__metric_remove(rec, v2);
    text = rill__metrics_render(m);
    assert_null(strstr(text->str, "0_\\\"2"));
    g_string_free(text, TRUE);
    rill__metrics_free(m);
}

static double answer(void *ud)
{
    return *(double *)ud;
}

static char *http_get(int port, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: x\r\n\r\n", path);
    assert_int_equal(write(fd, req, (size_t)n), n);
    GString *resp = g_string_new(NULL);
    char buf[4096];
    ssize_t r;
    while ((r = read(fd, buf, sizeof(buf))) > 0)
        g_string_append_len(resp, buf, r);
    close(fd);
    return g_string_free(resp, FALSE);
}

static void test_metrics__http_endpoint(void **state)
{
    rill_metrics_t *m = rill__metrics_new();
    rill_metric_family_t *g =
        rill__metrics_family(m, "rill_log_bytes", "Log size", RILL_METRIC_GAUGE, NULL, NULL, 0);
    double v = 4096;
    rill__metric_set_callback(rill__metric_child(g, NULL), answer, &v);
    char *err = NULL;
    int port = rill__metrics_http_start(m, "http://127.0.0.1:0", &err);
    assert_null(err);
    assert_true(port > 0);
    g_autofree char *ok = http_get(port, "/metrics");
    assert_non_null(strstr(ok, "200 OK"));
    assert_non_null(strstr(ok, "text/plain; version=0.0.4"));
    assert_non_null(strstr(ok, "\nrill_log_bytes 4096\n"));
    v = 8192;
    g_autofree char *again = http_get(port, "/metrics");
    assert_non_null(strstr(again, "\nrill_log_bytes 8192\n"));
    g_autofree char *missing = http_get(port, "/nope");
    assert_non_null(strstr(missing, "404"));
    rill__metrics_free(m);
}

static void test_metrics__bad_listener(void **state)
{
    rill_metrics_t *m = rill__metrics_new();
    char *err = NULL;
    assert_int_equal(rill__metrics_http_start(m, "nonsense", &err), -1);
    assert_non_null(strstr(err, "HOST:PORT"));
    g_free(err);
    err = NULL;
    assert_int_equal(rill__metrics_http_start(m, "127.0.0.1:99999", &err), -1);
    assert_non_null(err);
    g_free(err);
    err = NULL;
    assert_int_equal(rill__metrics_http_start(m, "example.com:80", &err), -1);
    assert_non_null(strstr(err, "IPv4"));
    g_free(err);
    rill__metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics__render_counter_gauge_histogram),
        cmocka_unit_test(test_metrics__http_endpoint),
        cmocka_unit_test(test_metrics__bad_listener),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
