/* harness.h: start and stop a real rill-broker from a C integration test.
 *
 * The broker runs as a child process ($RILL_BROKER, else ./rill-broker) on
 * 127.0.0.1 with an ephemeral port and a fresh temp dir; its stderr goes to
 * <tmp>/broker.log, which rt_fail() prints. Every wait is bounded. The temp
 * dir is removed by rt_broker_free() (and the broker killed if it still runs),
 * so a failing test that calls rt_fail() leaves nothing behind.
 */
#ifndef RILL_TEST_HARNESS_H
#define RILL_TEST_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rt_broker rt_broker_t;

/* Starts a broker with extra "--key=value" arguments (NULL-terminated array,
 * may be NULL). Fails the test (exit 1) if it does not start within 30 s. */
rt_broker_t *rt_broker_start(const char *const *extra_args);

/* "127.0.0.1:PORT" (borrowed). */
const char *rt_broker_bootstrap(const rt_broker_t *broker);
/* The log.dirs directory (borrowed). */
const char *rt_broker_data_dir(const rt_broker_t *broker);
/* The temp dir of the test (borrowed), for the test's own files. */
const char *rt_broker_tmp_dir(const rt_broker_t *broker);

/* SIGTERM, wait up to 20 s (then SIGKILL). Returns the exit status (0 after a
 * clean stop), or -1 if it had to be killed or died of a signal. */
int rt_broker_stop(rt_broker_t *broker);

/* SIGKILL and reap. */
void rt_broker_kill9(rt_broker_t *broker);

/* Starts again on the same data dir and the same port. */
void rt_broker_restart(rt_broker_t *broker);

/* The broker's process id (0 when not running). */
int rt_broker_pid(const rt_broker_t *broker);

/* Whether the broker process is still running. */
bool rt_broker_alive(rt_broker_t *broker);

/* Kills the broker if it runs and removes the temp dir. NULL is a no-op. */
void rt_broker_free(rt_broker_t *broker);

/* Prints the message and the end of the broker's log, frees the broker
 * registered by rt_broker_start, and exits 1. */
void rt_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Like assert, with a message: rt_fail() unless cond. */
#define RT_CHECK(cond, ...)                                                                    \
    do {                                                                                       \
        if (!(cond))                                                                           \
            rt_fail(__VA_ARGS__);                                                              \
    } while (0)

/* Monotonic milliseconds. */
int64_t rt_now_ms(void);

#endif
