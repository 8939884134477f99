/* test-server-metrics.c: broker/server/metrics.c without HTTP: requests,
 * latency and per-topic counters counted by the hooks, the snapshot gauges
 * set by rb__metrics_refresh, stale series removed, nothing when disabled.
 * Checks the rendered Prometheus text (server-harness.h, no sockets). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <glib.h>

#include "tests/unit/broker/server-harness.h"

static char *render(harness_t *h)
{
    GString *text = rill__metrics_render(rb__metrics_registry(h->server));
    return g_string_free(text, FALSE);
}

/* Whether text has the line "series value" exactly. */
static bool has_line(const char *text, const char *line)
{
    g_autofree char *needle = g_strdup_printf("\n%s\n", line);
    g_autofree char *hay = g_strdup_printf("\n%s", text);
    return strstr(hay, needle) != NULL;
}

static void test_server_metrics__off_by_default_costs_nothing(void **state)
{
    harness_t *h = *state;
    assert_null(rb__metrics_registry(h->server));
    create_topic(h, "quiet", 1);
    g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
    assert_int_equal(produce(h, 7, 1, "quiet", 0, b, NULL), 0);
    rb__metrics_refresh(h->server); /* a no-op */
    rb_topic_t *t = rb__topic_find(h->server, rb_str_c("quiet"));
    assert_null(t->m_produce_records);
    assert_null(rb__metrics_registry(h->server));
}

static void test_server_metrics__requests_and_topic_counters(void **state)
{
    harness_t *h = *state;
    rb__metrics_enable(h->server);
    create_topic(h, "m", 2);
    for (int i = 0; i < 3; i++) {
        g_autoptr(GByteArray) b = make_batch("k", "value", 1000, 0);
        assert_int_equal(produce(h, 7, 1, "m", 1, b, NULL), 0);
    }
    g_autoptr(GByteArray) one = make_batch("k", "value", 1000, 0);
    guint batch_len = one->len;
    /* acks=0 counts as ok; a rejected batch (unknown partition) too: it is answered */
    assert_int_equal(produce(h, 7, 0, "m", 0, one, NULL), 0);
    g_autoptr(GByteArray) bad = make_batch("k", "value", 1000, 0);
    assert_int_equal(produce(h, 7, 1, "m", 9, bad, NULL), RB_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    captured_t *slot = send_fetch(h, 11, "m", 1, 0, 1, 100, 0);
    wait_answer(h, slot);
    /* OffsetForLeaderEpoch (23) is not served: the connection is closed */
    static const uint8_t frame[] = {0x00, 0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xff, 0xff};
    captured_t *s2 = &h->slots[h->next_slot++];
    const rb_net_callbacks_t *cb = rb_server_callbacks(h->server);
    cb->on_request((rb_conn_t *)&h->conn_token, (rb_slot_t *)s2, frame, sizeof(frame), cb->ud);
    assert_int_equal(h->closes, 1);

    g_autofree char *text = render(h);
    assert_true(has_line(
        text, "rill_broker_requests_total{api=\"Produce\",version=\"7\",outcome=\"ok\"} 5"));
    assert_true(has_line(
        text, "rill_broker_requests_total{api=\"Fetch\",version=\"11\",outcome=\"ok\"} 1"));
    assert_true(has_line(
        text, "rill_broker_requests_total{api=\"unknown\",version=\"-1\",outcome=\"error\"} 1"));
    assert_true(has_line(text, "rill_broker_request_duration_seconds_count{api=\"Produce\"} 5"));
    assert_true(has_line(
        text, "rill_broker_request_duration_seconds_bucket{api=\"Produce\",le=\"+Inf\"} 5"));
    assert_true(has_line(text, "rill_broker_produce_records_total{topic=\"m\"} 4"));
    g_autofree char *pbytes =
        g_strdup_printf("rill_broker_produce_bytes_total{topic=\"m\"} %u", 4 * batch_len);
    assert_true(has_line(text, pbytes));
    g_autofree char *fbytes =
        g_strdup_printf("rill_broker_fetch_bytes_total{topic=\"m\"} %u", 3 * batch_len);
    assert_true(has_line(text, fbytes));
    /* the snapshot gauges wait for a refresh */
    assert_null(strstr(text, "rill_broker_log_end_offset{"));
}

static void test_server_metrics__refresh_sets_gauges_and_drops_stale_series(void **state)
{
    harness_t *h = *state;
    rb__metrics_enable(h->server);
    create_topic(h, "keep", 1);
    create_topic(h, "drop", 3);
    for (int i = 0; i < 2; i++) {
        g_autoptr(GByteArray) b = make_batch("k", "v", 1000, 0);
        assert_int_equal(produce(h, 7, 1, "drop", 2, b, NULL), 0);
    }
    rb__metrics_refresh(h->server);
    g_autofree char *text = render(h);
    assert_true(has_line(text, "rill_broker_topics 2"));
    assert_true(has_line(text, "rill_broker_partitions 4"));
    assert_true(has_line(text, "rill_broker_log_end_offset{topic=\"drop\",partition=\"2\"} 2"));
    assert_true(has_line(text, "rill_broker_log_end_offset{topic=\"keep\",partition=\"0\"} 0"));
    assert_true(has_line(text, "rill_broker_log_start_offset{topic=\"drop\",partition=\"2\"} 0"));
    rb_partition_t *p = rb__partition_find(h->server, rb_str_c("drop"), 2);
    g_autofree char *size = g_strdup_printf(
        "rill_broker_log_size_bytes{topic=\"drop\",partition=\"2\"} %" G_GINT64_FORMAT,
        rb_log_size_bytes(p->log));
    assert_true(rb_log_size_bytes(p->log) > 0);
    assert_true(has_line(text, size));
    assert_true(has_line(text, "rill_broker_groups{state=\"Empty\"} 0"));
    assert_true(has_line(text, "rill_broker_transactions_open 0"));
    assert_true(has_line(text, "rill_broker_produce_records_total{topic=\"drop\"} 2"));

    rb_delete_topics_req_t dt;
    rb_delete_topics_req_init(&dt);
    rb_str_t names[1] = {rb_str_c("drop")};
    dt.topic_names = names;
    dt.topic_names_count = 1;
    captured_t *slot = send_req(h, RB_API_KEY_DELETE_TOPICS, 1, &dt);
    rb_delete_topics_resp_t dresp;
    decode_resp(h, slot, RB_API_KEY_DELETE_TOPICS, 1, &dresp);
    assert_int_equal(dresp.responses[0].error_code, 0);
    rb__metrics_refresh(h->server);
    g_autofree char *after = render(h);
    assert_null(strstr(after, "topic=\"drop\""));
    assert_true(has_line(after, "rill_broker_log_end_offset{topic=\"keep\",partition=\"0\"} 0"));
    assert_true(has_line(after, "rill_broker_topics 1"));
    assert_true(has_line(after, "rill_broker_partitions 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        T(test_server_metrics__off_by_default_costs_nothing),
        T(test_server_metrics__requests_and_topic_counters),
        T(test_server_metrics__refresh_sets_gauges_and_drops_stale_series),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
