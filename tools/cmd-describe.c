/* cmd-describe.c: `rill describe [--dot] -- PROGRAM [ARGS...]`: prints the
 * topology of any app built on librill, as text or Graphviz DOT.
 *
 * Design: the topology lives in the app's code, so the app itself must build
 * it. rill runs PROGRAM with RILL_DESCRIBE=text|dot and RILL_DESCRIBE_OUTPUT
 * naming a temporary file; librill's rill_app_new() sees them, writes the
 * description there and exits 0 before it validates its config or connects
 * to a broker (see rill/app.h). rill then prints the file. The app's own
 * stdout goes to rill's stderr, so that what rill prints is the topology and
 * nothing else. The app runs with its own arguments, which must get it as
 * far as rill_app_new() (the required ones; the broker need not exist).
 *
 * Outcomes: exit 0 with the description; exit 2 for bad arguments of rill;
 * exit 1 when PROGRAM cannot run, exits non-zero, exits 0 without
 * describing anything (it never reached rill_app_new()), or takes longer
 * than --timeout-ms (it is then killed). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools/cli.h"

typedef struct describe_opts {
    cli_common_t common;
    gboolean dot;
    char *format;
    char *output;
    int timeout_ms;
} describe_opts_t;

/* The child: environment, stdout to stderr, exec. On exec failure writes
 * errno to report_fd (close-on-exec: the parent reads EOF on success). */
static void run_child(char **argv, const char *format, const char *path, int report_fd)
{
    setenv("RILL_DESCRIBE", format, 1);
    setenv("RILL_DESCRIBE_OUTPUT", path, 1);
    dup2(STDERR_FILENO, STDOUT_FILENO);
    execvp(argv[0], argv);
    int err = errno;
    ssize_t n = write(report_fd, &err, sizeof(err));
    (void)n;
    _exit(127);
}

/* Waits for pid until the deadline; kills it after. Returns the wait status,
 * or -1 on timeout (or an interrupt of rill). */
static int wait_bounded(pid_t pid, int timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        int status;
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return status;
        if (done < 0 && errno != EINTR)
            return -1;
        if (cli_stop || g_get_monotonic_time() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            return -1;
        }
        g_usleep(10000);
    }
}

/* Runs argv in describe mode; on success the description (transfer full). */
static char *describe_program(describe_opts_t *o, char **argv)
{
    cli_common_t *common = &o->common;
    GError *gerr = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("rill-describe-XXXXXX", &path, &gerr);
    if (fd < 0)
        cli_fail(common, "cannot create a temporary file: %s", gerr->message);
    close(fd);
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0)
        cli_fail(common, "pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        cli_fail(common, "fork: %s", strerror(errno));
    if (pid == 0)
        run_child(argv, o->format, path, report[1]);
    close(report[1]);
    int exec_errno = 0;
    ssize_t n;
    while ((n = read(report[0], &exec_errno, sizeof(exec_errno))) < 0 && errno == EINTR)
        ;
    close(report[0]);
    int status = wait_bounded(pid, o->timeout_ms);
    char *text = NULL;
    gsize len = 0;
    bool read_ok = g_file_get_contents(path, &text, &len, NULL);
    unlink(path);
    g_free(path);
    char msg[512] = "";
    if (n == (ssize_t)sizeof(exec_errno))
        snprintf(msg, sizeof(msg), "cannot run %s: %s", argv[0], strerror(exec_errno));
    else if (status < 0)
        snprintf(msg, sizeof(msg),
                 "%s did not describe its topology within %d ms (killed): does it reach "
                 "rill_app_new() without waiting for input?",
                 argv[0], o->timeout_ms);
    else if (WIFSIGNALED(status))
        snprintf(msg, sizeof(msg), "%s was killed by signal %d before describing its topology",
                 argv[0], WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0)
        snprintf(msg, sizeof(msg),
                 "%s exited with status %d before describing its topology (see its message "
                 "above: are its arguments complete?)",
                 argv[0], WEXITSTATUS(status));
    else if (!read_ok || len == 0)
        snprintf(msg, sizeof(msg),
                 "%s exited without describing a topology: it must be built on librill and "
                 "call rill_app_new()",
                 argv[0]);
    if (msg[0] != '\0') {
        g_free(text);
        cli_fail(common, "%s", msg);
    }
    return text;
}

int cli_describe(int argc, char **argv)
{
    describe_opts_t o = {.common = {.command = "describe"}, .timeout_ms = 30000};
    GOptionEntry entries[] = {
        {"dot", 0, 0, G_OPTION_ARG_NONE, &o.dot, "Graphviz DOT instead of text (= --format dot)",
         NULL},
        {"format", 'f', 0, G_OPTION_ARG_STRING, &o.format, "text (default) or dot", "FORMAT"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
         "Write the description to FILE instead of stdout", "FILE"},
        {"timeout-ms", 0, 0, G_OPTION_ARG_INT, &o.timeout_ms,
         "Kill the program if it has not described its topology by then (default 30000)", "MS"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    GOptionContext *ctx = g_option_context_new("[--] PROGRAM [ARGS...]");
    g_option_context_set_summary(
        ctx, "Print the topology of an app built on librill (sub-topologies, sources, processors\n"
             "with their stores, sinks, internal topics), as text or Graphviz DOT\n"
             "(rill describe --dot -- ./app ... | dot -Tsvg > topology.svg).\n"
             "\n"
             "rill runs PROGRAM with ARGS and RILL_DESCRIBE=text|dot in its environment:\n"
             "rill_app_new() then writes the topology and exits 0 without connecting to\n"
             "anything. Give PROGRAM the arguments it needs to reach rill_app_new() (its\n"
             "broker address need not be reachable). Its own output goes to stderr.\n"
             "-b/--bootstrap-server is accepted, and unused: nothing is contacted.");
    g_option_context_set_strict_posix(ctx, TRUE); /* options after PROGRAM are PROGRAM's */
    g_option_context_add_main_entries(ctx, entries, NULL);
    cli_add_common_options(ctx, &o.common);
    cli_parse(ctx, &o.common, &argc, &argv);
    g_option_context_free(ctx);
    int first = 1;
    if (first < argc && strcmp(argv[first], "--") == 0)
        first++;
    if (first >= argc)
        cli_usage_error(&o.common, "a program to describe is required: rill describe [--dot] -- "
                                   "PROGRAM [ARGS...]");
    if (o.format != NULL && o.dot && g_ascii_strcasecmp(o.format, "dot") != 0)
        cli_usage_error(&o.common, "--dot and --format %s disagree", o.format);
    if (o.format == NULL)
        o.format = g_strdup(o.dot ? "dot" : "text");
    if (g_ascii_strcasecmp(o.format, "text") != 0 && g_ascii_strcasecmp(o.format, "dot") != 0)
        cli_usage_error(&o.common, "--format %s: expected 'text' or 'dot'", o.format);
    if (o.timeout_ms <= 0)
        cli_usage_error(&o.common, "--timeout-ms must be > 0");

    cli_install_signals();
    char *text = describe_program(&o, argv + first);
    int rc = 0;
    if (o.output != NULL) {
        GError *gerr = NULL;
        if (!g_file_set_contents(o.output, text, -1, &gerr)) {
            fprintf(stderr, "rill describe: %s\n", gerr->message);
            g_error_free(gerr);
            rc = 1;
        }
    } else if (fputs(text, stdout) < 0 || fflush(stdout) != 0) {
        fprintf(stderr, "rill describe: writing to stdout: %s\n", strerror(errno));
        rc = 1;
    }
    g_free(text);
    g_free(o.format);
    g_free(o.output);
    g_free(o.common.bootstrap);
    g_strfreev(o.common.props);
    return rc;
}
