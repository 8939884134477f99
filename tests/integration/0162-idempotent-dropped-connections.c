/* 0162-idempotent-dropped-connections: an idempotent producer whose
 * connections are cut again and again -- in the middle of a request, and
 * after the broker has written a batch but before its answer arrives -- ends
 * with every record in the log exactly once, in order, with no gap.
 *
 * The test puts a small TCP proxy between librdkafka and rill-broker: the
 * broker advertises the proxy's port (advertised.listeners), so every
 * connection of the client goes through it. Every 150 ms the proxy cuts the
 * next connection that carries data, alternating two ways:
 *   - REQUEST:  forwards only the first half of a chunk from the client, then
 *               closes both sides (the broker sees a torn request);
 *   - RESPONSE: swallows a chunk from the broker (the answer to a produce the
 *               broker has appended), then closes both sides: the client
 *               retries a batch that is already in the log, and the broker
 *               must answer it as a duplicate, not write it again.
 * The producer (enable.idempotence, acks=all) sends 40,000 records "<seq>" to
 * one partition; all must be acknowledged. A consumer then reads the
 * partition directly (not through the proxy) and checks seq 0..N-1 appear
 * once each, in order.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib.h>

#include "tests/integration/harness.h"
#include "tests/integration/kafka-util.h"

#define TOPIC "drops"
#define N 40000

enum { CUT_NONE, CUT_REQUEST, CUT_RESPONSE };

typedef struct proxy {
    int listen_fd;
    int port;
    int broker_port;
    gint stop;   /* g_atomic */
    gint cut;    /* g_atomic: the next cut to make (CUT_*), taken by one pipe */
    gint cuts_request, cuts_response;
    pthread_t thread;
} proxy_t;

typedef struct pipe_end {
    proxy_t *proxy;
    int from, to;
    bool from_client;
} pipe_end_t;

static bool write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL); /* a cut peer: EPIPE, not SIGPIPE */
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* One direction of a connection; closes both sockets when done or cut. */
static void *pump(void *ud)
{
    pipe_end_t *end = ud;
    proxy_t *proxy = end->proxy;
    char buf[16384];
    for (;;) {
        ssize_t n = read(end->from, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        int want = end->from_client ? CUT_REQUEST : CUT_RESPONSE;
        if (g_atomic_int_compare_and_exchange(&proxy->cut, want, CUT_NONE)) {
            if (want == CUT_REQUEST) {
                write_all(end->to, buf, (size_t)n / 2);
                g_atomic_int_inc(&proxy->cuts_request);
            } else {
                g_atomic_int_inc(&proxy->cuts_response);
            }
            break;
        }
        if (!write_all(end->to, buf, (size_t)n))
            break;
    }
    shutdown(end->from, SHUT_RDWR);
    shutdown(end->to, SHUT_RDWR);
    g_free(end);
    return NULL;
}

static int connect_broker(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static void *proxy_main(void *ud)
{
    proxy_t *proxy = ud;
    GPtrArray *threads = g_ptr_array_new();
    GArray *fds = g_array_new(FALSE, FALSE, sizeof(int));
    while (!g_atomic_int_get(&proxy->stop)) {
        struct pollfd pfd = {.fd = proxy->listen_fd, .events = POLLIN};
        if (poll(&pfd, 1, 100) <= 0)
            continue;
        int client = accept4(proxy->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (client < 0)
            continue;
        int broker = connect_broker(proxy->broker_port);
        if (broker < 0) {
            close(client);
            continue;
        }
        g_array_append_val(fds, client);
        g_array_append_val(fds, broker);
        for (int dir = 0; dir < 2; dir++) {
            pipe_end_t *end = g_new0(pipe_end_t, 1);
            end->proxy = proxy;
            end->from = dir == 0 ? client : broker;
            end->to = dir == 0 ? broker : client;
            end->from_client = dir == 0;
            pthread_t *t = g_new(pthread_t, 1);
            if (pthread_create(t, NULL, pump, end) != 0)
                rt_fail("pthread_create");
            g_ptr_array_add(threads, t);
        }
    }
    for (guint i = 0; i < fds->len; i++)
        shutdown(g_array_index(fds, int, i), SHUT_RDWR);
    for (guint i = 0; i < threads->len; i++) {
        pthread_join(*(pthread_t *)threads->pdata[i], NULL);
        g_free(threads->pdata[i]);
    }
    for (guint i = 0; i < fds->len; i++)
        close(g_array_index(fds, int, i));
    g_ptr_array_free(threads, TRUE);
    g_array_free(fds, TRUE);
    return NULL;
}

static void proxy_listen(proxy_t *proxy)
{
    proxy->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(sa);
    if (proxy->listen_fd < 0 || bind(proxy->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(proxy->listen_fd, 64) != 0 ||
        getsockname(proxy->listen_fd, (struct sockaddr *)&sa, &len) != 0)
        rt_fail("proxy: cannot listen: %s", g_strerror(errno));
    proxy->port = ntohs(sa.sin_port);
}

typedef struct acks {
    guint8 *acked;
    int64_t n_acked, n_failed;
} acks_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    acks_t *acks = opaque;
    int64_t seq = (int64_t)(intptr_t)m->_private;
    if (m->err) {
        acks->n_failed++;
        return;
    }
    acks->acked[seq] = 1;
    acks->n_acked++;
}

int main(void)
{
    proxy_t proxy = {0};
    proxy_listen(&proxy);
    g_autofree char *adv =
        g_strdup_printf("--advertised.listeners=PLAINTEXT://127.0.0.1:%d", proxy.port);
    const char *args[] = {adv, NULL};
    rt_broker_t *broker = rt_broker_start(args);
    const char *direct = rt_broker_bootstrap(broker);
    proxy.broker_port = atoi(strrchr(direct, ':') + 1);
    if (pthread_create(&proxy.thread, NULL, proxy_main, &proxy) != 0)
        rt_fail("pthread_create");
    g_autofree char *via_proxy = g_strdup_printf("127.0.0.1:%d", proxy.port);
    kt_create_topic(via_proxy, TOPIC, 1, NULL);

    acks_t acks = {.acked = g_new0(guint8, N)};
    rd_kafka_conf_t *conf = kt_conf(via_proxy);
    kt_set(conf, "enable.idempotence", "true");
    kt_set(conf, "acks", "all");
    kt_set(conf, "linger.ms", "5");
    kt_set(conf, "message.timeout.ms", "60000");
    kt_set(conf, "reconnect.backoff.ms", "20");
    kt_set(conf, "reconnect.backoff.max.ms", "100");
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    rd_kafka_conf_set_opaque(conf, &acks);
    char err[256];
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == NULL)
        rt_fail("rd_kafka_new: %s", err);
    int64_t next_cut = rt_now_ms() + 150;
    int cut_kind = CUT_RESPONSE;
    for (int64_t seq = 0; seq < N; seq++) {
        char value[24];
        int vl = g_snprintf(value, sizeof(value), "%" PRId64, seq);
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_VALUE(value, (size_t)vl),
                                      RD_KAFKA_V_OPAQUE((void *)(intptr_t)seq),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                      RD_KAFKA_V_END)) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 10);
        if (e)
            rt_fail("produce: %s", rd_kafka_err2str(e));
        if (seq % 20 == 19) {
            rd_kafka_poll(rk, 0);
            g_usleep(1000);
        }
        if (rt_now_ms() >= next_cut) {
            g_atomic_int_set(&proxy.cut, cut_kind);
            cut_kind = cut_kind == CUT_RESPONSE ? CUT_REQUEST : CUT_RESPONSE;
            next_cut = rt_now_ms() + 150;
        }
    }
    g_atomic_int_set(&proxy.cut, CUT_NONE);
    if (rd_kafka_flush(rk, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        rt_fail("flush: records still unacknowledged after 60 s");
    char fatal[512];
    if (rd_kafka_fatal_error(rk, fatal, sizeof(fatal)))
        rt_fail("idempotent producer hit a fatal error: %s", fatal);
    rd_kafka_destroy(rk);
    RT_CHECK(acks.n_acked == N, "%" PRId64 " of %d records acknowledged (%" PRId64 " failed)",
             acks.n_acked, N, acks.n_failed);
    int cuts_request = g_atomic_int_get(&proxy.cuts_request);
    int cuts_response = g_atomic_int_get(&proxy.cuts_response);
    RT_CHECK(cuts_request > 0 && cuts_response > 0,
             "the proxy cut too little: %d requests, %d responses", cuts_request, cuts_response);

    /* every seq once, in order, no gap: read directly from the broker */
    int64_t lo, hi, expect = 0;
    kt_watermarks(direct, TOPIC, 0, &lo, &hi);
    RT_CHECK(hi == N, "log end offset %" PRId64 ", expected %d (duplicates or gaps)", hi, N);
    {
        rd_kafka_conf_t *cconf = kt_conf(direct);
        kt_set(cconf, "group.id", "rill-itest-drops");
        kt_set(cconf, "enable.auto.commit", "false");
        kt_set(cconf, "enable.partition.eof", "true");
        rd_kafka_t *ck = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err));
        if (ck == NULL)
            rt_fail("rd_kafka_new: %s", err);
        rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(parts, TOPIC, 0)->offset = 0;
        rd_kafka_assign(ck, parts);
        rd_kafka_topic_partition_list_destroy(parts);
        int64_t deadline = rt_now_ms() + 30000;
        bool eof = false;
        while (!eof && rt_now_ms() < deadline) {
            rd_kafka_message_t *m = rd_kafka_consumer_poll(ck, 100);
            if (m == NULL)
                continue;
            if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                eof = true;
            } else if (m->err) {
                rt_fail("consume: %s", rd_kafka_message_errstr(m));
            } else {
                g_autofree char *value = g_strndup(m->payload, m->len);
                int64_t seq = g_ascii_strtoll(value, NULL, 10);
                if (seq != expect)
                    rt_fail("offset %" PRId64 ": seq %" PRId64 ", expected %" PRId64
                            " (duplicate or gap)",
                            m->offset, seq, expect);
                expect++;
            }
            rd_kafka_message_destroy(m);
        }
        if (!eof)
            rt_fail("no end of partition within 30 s");
        rd_kafka_consumer_close(ck);
        rd_kafka_destroy(ck);
    }
    RT_CHECK(expect == N, "read %" PRId64 " records, expected %d", expect, N);
    printf("ok - %d records through %d cut requests and %d swallowed responses: each once, "
           "in order\n",
           N, cuts_request, cuts_response);
    g_atomic_int_set(&proxy.stop, 1);
    pthread_join(proxy.thread, NULL);
    close(proxy.listen_fd);
    g_free(acks.acked);
    RT_CHECK(rt_broker_stop(broker) == 0, "broker did not stop cleanly");
    rt_broker_free(broker);
    return 0;
}
