/* main.c: the rill-broker program: configuration, loop, server, listener, signals.
 *
 * Design: main owns the process and nothing else. It parses the configuration
 * (exit 2 on a bad one), opens the server (which recovers the logs; exit 1 if
 * it cannot), listens, tells the server what address to advertise (the bound
 * port when the listener asked for port 0), starts the metrics endpoint if
 * metrics.listener is set, writes port.file (last: once it exists, every
 * endpoint listens), and runs the loop until SIGTERM or SIGINT. The signal
 * handler only calls rb_loop_stop(), which is async-signal-safe; the shutdown
 * (flush and close every log) then runs on the main thread. A second signal
 * during shutdown kills the process the ordinary way, so a stuck shutdown can
 * always be interrupted.
 *
 * Lifecycle:
 *     parse config -> loop -> server (recover logs) -> listen -> advertise
 *       -> metrics endpoint (metrics.listener, metrics.port.file) -> port.file
 *       -> "started" line -> run ... signal -> "stopping"
 *       -> server destroy (flush, close logs) -> loop destroy -> exit 0
 */
#include <config.h> /* autoconf's: "config.h" here would be broker/server/config.h */

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "broker/log/log.h"
#include "broker/net/net.h"
#include "broker/server/config.h"
#include "broker/server/server.h"
#include "common/log.h"

static rb_loop_t *the_loop;
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
    /* the next one of these signals ends the process the default way */
    signal(sig, SIG_DFL);
    if (the_loop != NULL)
        rb_loop_stop(the_loop);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGXFSZ, SIG_IGN); /* a file-size limit fails the write with EFBIG instead */
}

/* Each segment keeps a file open: take all the descriptors the hard limit allows. */
static void raise_nofile_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            RILL_LOG_WARN("broker", "cannot raise the open files limit: %s", g_strerror(errno));
    }
}

/* Writes the port to path atomically (a reader never sees a partial file). */
static bool write_port_file(const char *path, int port, char **errmsg)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp.%d", path, (int)getpid());
    g_autofree char *text = g_strdup_printf("%d\n", port);
    GError *gerr = NULL;
    if (!g_file_set_contents(tmp, text, -1, &gerr)) {
        *errmsg = g_strdup(gerr->message);
        g_error_free(gerr);
        return false;
    }
    if (g_rename(tmp, path) != 0) {
        *errmsg = g_strdup_printf("cannot rename %s to %s: %s", tmp, path, g_strerror(errno));
        g_unlink(tmp);
        return false;
    }
    return true;
}

/* The host Metadata advertises: advertised.listeners' if given, else the
 * listener's; a wildcard host becomes the machine's host name (Kafka does the
 * same with its canonical host name). */
static char *advertised_host(const char *host)
{
    if (host[0] != '\0' && strcmp(host, "0.0.0.0") != 0 && strcmp(host, "::") != 0)
        return g_strdup(host);
    char name[256];
    if (gethostname(name, sizeof(name)) == 0) {
        name[sizeof(name) - 1] = '\0';
        return g_strdup(name);
    }
    return g_strdup("127.0.0.1");
}

static const char *signal_name(int sig)
{
    return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "?";
}

int main(int argc, char **argv)
{
    rill__log_init();
    if (argc == 2 && strcmp(argv[1], "--help=markdown") == 0) {
        rb_config_print_markdown(stdout);
        return 0;
    }
    bool want_help = false;
    char *errmsg = NULL;
    rb_config_t *config = rb_config_from_args(argc, argv, &want_help, &errmsg);
    if (want_help) {
        rb_config_print_help(stdout);
        return 0;
    }
    if (config == NULL) {
        fprintf(stderr, "rill-broker: %s\n", errmsg);
        g_free(errmsg);
        return 2;
    }
    if (!rb_config_is_default(config, "log.level") || g_getenv("RILL_LOG_LEVEL") == NULL)
        rill__log_set_level(rill__log_level_parse(rb_config_str(config, "log.level")));
    rb_config_log_overrides(config);

    g_autofree char *host = NULL;
    int port = 0;
    if (!rb_config_parse_listener(rb_config_str(config, "listeners"), &host, &port, &errmsg)) {
        fprintf(stderr, "rill-broker: listeners: %s\n", errmsg); /* validated already */
        g_free(errmsg);
        rb_config_free(config);
        return 2;
    }

    rb_loop_t *loop = rb_loop_new();
    if (loop == NULL) {
        rb_config_free(config);
        return 1;
    }
    the_loop = loop;
    install_signals();
    raise_nofile_limit();
    rb_log_cleaner_set_map_bytes((size_t)rb_config_int(config, "log.cleaner.dedupe.buffer.size"));

    int rc = 1;
    char *adv_host = NULL; /* declared before any goto: freed at the end */
    const char *port_file = NULL;
    const char *metrics_listener = NULL;
    const char *metrics_port_file = NULL;
    rb_server_t *server = rb_server_new(loop, config, &errmsg);
    if (server == NULL) {
        RILL_LOG_ERROR("broker", "cannot start: %s", errmsg ? errmsg : "unknown error");
        g_free(errmsg);
        goto out_loop;
    }

    rb_net_limits_t limits = {
        .max_request_bytes = (int32_t)rb_config_int(config, "socket.request.max.bytes"),
    };
    int bound = rb_loop_listen(loop, host, port, &limits, rb_server_callbacks(server));
    if (bound < 0) {
        RILL_LOG_ERROR("broker", "cannot listen on %s: %s", rb_config_str(config, "listeners"),
                       g_strerror(errno));
        goto out_server;
    }

    int adv_port = bound;
    const char *adv = rb_config_str(config, "advertised.listeners");
    if (adv != NULL) {
        char *h = NULL;
        int p = 0;
        if (!rb_config_parse_listener(adv, &h, &p, &errmsg)) {
            RILL_LOG_ERROR("broker", "advertised.listeners: %s", errmsg);
            g_free(errmsg);
            goto out_server;
        }
        adv_host = advertised_host(h);
        g_free(h);
        if (p != 0)
            adv_port = p;
    } else {
        adv_host = advertised_host(host);
    }
    rb_server_set_advertised(server, adv_host, adv_port);

    metrics_listener = rb_config_str(config, "metrics.listener");
    if (metrics_listener != NULL && *metrics_listener) {
        int mport = rb_server_metrics_start(server, metrics_listener, &errmsg);
        if (mport < 0) {
            RILL_LOG_ERROR("broker", "cannot serve metrics.listener %s: %s", metrics_listener,
                           errmsg);
            g_free(errmsg);
            goto out_server;
        }
        RILL_LOG_INFO("broker", "metrics endpoint listening listener=%s port=%d path=/metrics",
                      metrics_listener, mport);
        metrics_port_file = rb_config_str(config, "metrics.port.file");
        if (metrics_port_file != NULL && !write_port_file(metrics_port_file, mport, &errmsg)) {
            RILL_LOG_ERROR("broker", "cannot write metrics.port.file %s: %s", metrics_port_file,
                           errmsg);
            g_free(errmsg);
            metrics_port_file = NULL;
            goto out_server;
        }
    }

    port_file = rb_config_str(config, "port.file");
    if (port_file != NULL && !write_port_file(port_file, bound, &errmsg)) {
        RILL_LOG_ERROR("broker", "cannot write port.file %s: %s", port_file, errmsg);
        g_free(errmsg);
        goto out_server;
    }

    RILL_LOG_INFO("broker",
                  "rill-broker %s started listener=PLAINTEXT://%s:%d advertised=%s:%d "
                  "log.dirs=%s node.id=%" G_GINT64_FORMAT " pid=%d",
                  PACKAGE_VERSION, host[0] ? host : "0.0.0.0", bound, adv_host, adv_port,
                  rb_config_str(config, "log.dirs"), rb_config_int(config, "node.id"),
                  (int)getpid());

    if (rb_loop_run(loop) != 0) {
        RILL_LOG_ERROR("broker", "the event loop failed; stopping");
    } else {
        rc = 0;
        RILL_LOG_INFO("broker", "stopping on %s: flushing and closing the logs",
                      signal_name(stop_signal));
    }

out_server:
    if (port_file != NULL) /* also after a failed start: no stale port for a waiting reader */
        g_unlink(port_file);
    if (metrics_port_file != NULL)
        g_unlink(metrics_port_file);
    rb_server_destroy(server);
out_loop:
    the_loop = NULL;
    rb_loop_destroy(loop);
    g_free(adv_host);
    rb_config_free(config);
    if (rc == 0)
        RILL_LOG_INFO("broker", "stopped");
    return rc;
}
