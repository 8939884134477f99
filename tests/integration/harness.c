/* harness.c: a real rill-broker as a child process of a C test (see harness.h).
 *
 * Design: fork + exec with the same arguments tests/integration/lib.sh uses
 * (--listeners=PLAINTEXT://127.0.0.1:PORT --log.dirs=DIR --port.file=FILE);
 * readiness is the port file appearing (the broker writes it atomically once
 * it listens). One broker per test is registered globally so that rt_fail()
 * can print its log and clean up from anywhere.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "tests/integration/harness.h"

struct rt_broker {
    char *tmp;
    char *data;
    char *port_file;
    char *log_file;
    char *bootstrap;
    GPtrArray *extra;
    int port;
    pid_t pid;
};

static rt_broker_t *current;

int64_t rt_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void print_log_tail(const rt_broker_t *broker)
{
    if (broker == NULL)
        return;
    g_autofree char *contents = NULL;
    if (!g_file_get_contents(broker->log_file, &contents, NULL, NULL))
        return;
    g_auto(GStrv) lines = g_strsplit(contents, "\n", -1);
    guint n = g_strv_length(lines);
    fprintf(stderr, "---- broker log (last 40 lines) ----\n");
    for (guint i = n > 41 ? n - 41 : 0; i < n; i++)
        fprintf(stderr, "%s\n", lines[i]);
}

void rt_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    print_log_tail(current);
    rt_broker_free(current);
    exit(1);
}

static void launch(rt_broker_t *broker)
{
    g_unlink(broker->port_file);
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
    const char *exe = g_getenv("RILL_BROKER");
    g_ptr_array_add(argv, g_strdup(exe ? exe : "./rill-broker"));
    g_ptr_array_add(argv, g_strdup_printf("--listeners=PLAINTEXT://127.0.0.1:%d", broker->port));
    g_ptr_array_add(argv, g_strdup_printf("--log.dirs=%s", broker->data));
    g_ptr_array_add(argv, g_strdup_printf("--port.file=%s", broker->port_file));
    for (guint i = 0; i < broker->extra->len; i++)
        g_ptr_array_add(argv, g_strdup(g_ptr_array_index(broker->extra, i)));
    g_ptr_array_add(argv, NULL);

    int logfd = open(broker->log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (logfd < 0)
        rt_fail("cannot open %s: %s", broker->log_file, g_strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        rt_fail("fork: %s", g_strerror(errno));
    if (pid == 0) {
        /* the broker must not outlive its test (or benchmark), however that ends */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        execv(g_ptr_array_index(argv, 0), (char **)argv->pdata);
        fprintf(stderr, "cannot run %s: %s\n", (char *)g_ptr_array_index(argv, 0),
                g_strerror(errno));
        _exit(127);
    }
    close(logfd);
    g_ptr_array_free(argv, TRUE);
    broker->pid = pid;

    int64_t deadline = rt_now_ms() + 30000;
    for (;;) {
        g_autofree char *text = NULL;
        if (g_file_get_contents(broker->port_file, &text, NULL, NULL) && text[0] != '\0') {
            broker->port = atoi(text);
            break;
        }
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            broker->pid = 0;
            rt_fail("rill-broker exited while starting (status %d)", status);
        }
        if (rt_now_ms() > deadline)
            rt_fail("rill-broker did not start within 30 s");
        g_usleep(20000);
    }
    g_free(broker->bootstrap);
    broker->bootstrap = g_strdup_printf("127.0.0.1:%d", broker->port);
}

rt_broker_t *rt_broker_start(const char *const *extra_args)
{
    rt_broker_t *broker = g_new0(rt_broker_t, 1);
    GError *gerr = NULL;
    broker->tmp = g_dir_make_tmp("rill-test.XXXXXX", &gerr);
    if (broker->tmp == NULL) {
        fprintf(stderr, "FAIL: cannot make a temp dir: %s\n", gerr->message);
        exit(1);
    }
    broker->data = g_build_filename(broker->tmp, "data", NULL);
    g_mkdir(broker->data, 0755);
    broker->port_file = g_build_filename(broker->tmp, "port", NULL);
    broker->log_file = g_build_filename(broker->tmp, "broker.log", NULL);
    broker->extra = g_ptr_array_new_with_free_func(g_free);
    for (const char *const *a = extra_args; a != NULL && *a != NULL; a++)
        g_ptr_array_add(broker->extra, g_strdup(*a));
    current = broker;
    launch(broker);
    return broker;
}

const char *rt_broker_bootstrap(const rt_broker_t *broker)
{
    return broker->bootstrap;
}

const char *rt_broker_data_dir(const rt_broker_t *broker)
{
    return broker->data;
}

const char *rt_broker_tmp_dir(const rt_broker_t *broker)
{
    return broker->tmp;
}

int rt_broker_pid(const rt_broker_t *broker)
{
    return broker->pid > 0 ? (int)broker->pid : 0;
}

bool rt_broker_alive(rt_broker_t *broker)
{
    if (broker->pid <= 0)
        return false;
    int status;
    if (waitpid(broker->pid, &status, WNOHANG) == broker->pid) {
        broker->pid = 0;
        return false;
    }
    return true;
}

int rt_broker_stop(rt_broker_t *broker)
{
    if (broker->pid <= 0)
        return -1;
    kill(broker->pid, SIGTERM);
    int64_t deadline = rt_now_ms() + 20000;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(broker->pid, &status, WNOHANG);
        if (r == broker->pid)
            break;
        if (rt_now_ms() > deadline) {
            kill(broker->pid, SIGKILL);
            waitpid(broker->pid, &status, 0);
            broker->pid = 0;
            return -1;
        }
        g_usleep(20000);
    }
    broker->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void rt_broker_kill9(rt_broker_t *broker)
{
    if (broker->pid <= 0)
        return;
    kill(broker->pid, SIGKILL);
    waitpid(broker->pid, NULL, 0);
    broker->pid = 0;
}

void rt_broker_restart(rt_broker_t *broker)
{
    if (broker->pid > 0)
        rt_fail("rt_broker_restart: the broker is still running");
    launch(broker);
}

static void remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir != NULL) {
        const char *name;
        while ((name = g_dir_read_name(dir)) != NULL) {
            g_autofree char *child = g_build_filename(path, name, NULL);
            if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
                !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
                remove_tree(child);
            else
                g_unlink(child);
        }
        g_dir_close(dir);
    }
    g_rmdir(path);
}

void rt_broker_free(rt_broker_t *broker)
{
    if (broker == NULL)
        return;
    if (current == broker)
        current = NULL;
    rt_broker_kill9(broker);
    if (g_getenv("RILL_TEST_KEEP") == NULL)
        remove_tree(broker->tmp);
    else
        fprintf(stderr, "kept %s\n", broker->tmp);
    g_free(broker->tmp);
    g_free(broker->data);
    g_free(broker->port_file);
    g_free(broker->log_file);
    g_free(broker->bootstrap);
    g_ptr_array_free(broker->extra, TRUE);
    g_free(broker);
}
