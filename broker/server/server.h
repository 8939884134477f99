/* server.h: rill-broker's request handling: the dispatcher from a request
 * frame to the API handlers, the topic registry and the partition logs.
 *
 * Contract between server/ (handlers, built on protocol/ and log/) and
 * server/main.c + net/ (which own the process, the loop and the sockets).
 * main.c does:
 *     config = rb_config_from_args(...)
 *     loop   = rb_loop_new()
 *     server = rb_server_new(loop, config, &err)     (opens and recovers logs)
 *     port   = rb_loop_listen(loop, host, port, &limits, rb_server_callbacks(server))
 *     rb_server_set_advertised(server, host, port)   (what Metadata answers)
 *     rb_loop_run(loop)                              (until SIGTERM/SIGINT)
 *     rb_server_destroy(server)                      (flush and close logs)
 */
#ifndef RB_SERVER_H
#define RB_SERVER_H

#include "broker/net/net.h"
#include "broker/server/config.h"

typedef struct rb_server rb_server_t;

/* Opens log.dirs (creating it), loads topics and recovers their logs, and
 * starts periodic housekeeping (retention, roll, flush) on loop's timers.
 * Returns NULL and sets *errmsg on failure (e.g. log.dirs not writable). */
rb_server_t *rb_server_new(rb_loop_t *loop, const rb_config_t *config, char **errmsg);

/* The callbacks to pass to rb_loop_listen (borrowed, valid while server lives). */
const rb_net_callbacks_t *rb_server_callbacks(rb_server_t *server);

/* The host and port Metadata and FindCoordinator advertise for node 0. */
void rb_server_set_advertised(rb_server_t *server, const char *host, int port);

/* Serves Prometheus metrics at http://<listener>/metrics (metrics.listener:
 * "HOST:PORT" or "http://HOST:PORT", port 0 picks one) from a thread of its
 * own; see metrics.c. Returns the bound port, or -1 and sets *errmsg. */
int rb_server_metrics_start(rb_server_t *server, const char *listener, char **errmsg);

/* Flushes and closes every log. Pending requests are answered or dropped. */
void rb_server_destroy(rb_server_t *server);

#endif /* RB_SERVER_H */
