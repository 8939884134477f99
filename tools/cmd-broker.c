/* cmd-broker.c: `rill broker [--key=value ...]`: starts the bundled broker.
 * It runs rill-broker with the same arguments (so it takes every rill-broker
 * flag and config file), found next to this program, in the build tree, or on
 * PATH; $RILL_BROKER names it explicitly. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli.h"

static char *find_broker(void)
{
    const char *env = g_getenv("RILL_BROKER");
    if (env && *env)
        return g_strdup(env);
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    if (self) {
        g_autofree char *dir = g_path_get_dirname(self);
        /* installed side by side, or the build tree (libtool keeps the real
         * binary of a program linked with librill in .libs/) */
        const char *const candidates[] = {"rill-broker", "../rill-broker", "../.libs/rill-broker"};
        for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
            char *path = g_build_filename(dir, candidates[i], NULL);
            if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE) && !g_file_test(path, G_FILE_TEST_IS_DIR))
                return path;
            g_free(path);
        }
    }
    return g_find_program_in_path("rill-broker");
}

int cli_broker(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
        printf("usage: rill broker [--config FILE | FILE] [--key=value ...]\n"
               "\n"
               "Starts rill-broker, the bundled Kafka-protocol broker, with these arguments.\n"
               "Its options (Kafka's broker property names) follow:\n\n");
    char *broker = find_broker();
    if (broker == NULL) {
        fprintf(stderr, "rill broker: rill-broker not found (next to rill, or on PATH; "
                        "set RILL_BROKER to its path)\n");
        return 1;
    }
    fflush(stdout);
    argv[0] = broker; /* rill-broker sees the same arguments it would alone */
    execv(broker, argv);
    fprintf(stderr, "rill broker: cannot run %s: %s\n", broker, strerror(errno));
    g_free(broker);
    return 1;
}
