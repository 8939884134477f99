/* rill.c: the `rill` command line: a dispatcher to subcommands, each of which
 * answers --help, takes -b/--bootstrap-server like Kafka's own tools, and fails
 * with one clear line and a non-zero exit (2 for usage, 1 for failures). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <rill/rill.h>

#include "tools/cli.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"broker", cli_broker, "start the bundled broker (rill-broker's flags)"},
    {"topics", cli_topics, "create, list, describe, delete and alter topics"},
    {"produce", cli_produce, "write lines of input to a topic"},
    {"consume", cli_consume, "print the records of a topic"},
    {"groups", cli_groups, "list, describe (with lag), reset and delete consumer groups"},
    {"reset", cli_reset, "reset an app: input offsets, internal topics, local state"},
    {"describe", cli_describe, "print an app's topology as text or Graphviz DOT"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: rill [--version] [--help] <command> [<args>]\n"
            "\n"
            "rill %s: stream processing in C with a bundled Kafka-protocol broker.\n"
            "\n"
            "Commands:\n",
            rill_version());
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "version", "print the version");
    fprintf(out, "\nEvery command takes -b/--bootstrap-server HOST:PORT (default "
                 "127.0.0.1:9092).\nRun 'rill <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("rill %s\n", rill_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, cmd) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "rill: unknown command '%s' (see 'rill --help')\n", cmd);
    return 2;
}
