/* rill.c: the `rill` command line. Subcommands grow with the project
 * (broker, topics, produce, consume, groups, describe, reset); each one
 * answers --help and fails with a clear message and a non-zero exit. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <rill/rill.h>

static void usage(FILE *out)
{
    fprintf(out, "usage: rill [--version] [--help] <command> [<args>]\n"
                 "\n"
                 "rill %s: stream processing in C with a bundled Kafka-protocol broker.\n"
                 "\n"
                 "Commands:\n"
                 "  version    print the version\n"
                 "\n"
                 "Run 'rill <command> --help' for a command's options.\n",
            rill_version());
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
    fprintf(stderr, "rill: unknown command '%s' (see 'rill --help')\n", cmd);
    return 2;
}
