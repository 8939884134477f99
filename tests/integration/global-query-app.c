/* global-query-app.c: the app of tests 0310-0311: a global table join and
 * queryable state, driven by files so that the shell test can ask it
 * questions while it runs.
 *
 * Topology: orders (key = order id, value "<product>:<qty>") ⋈ the global
 * table of products → "enriched" ("<product name> x<qty>"); clicks grouped
 * by key and counted into the store "click-counts" (RocksDB, int64 counts).
 *
 * While it runs, each time <state-dir>/ask exists it answers into
 * <state-dir>/answers (written whole, then renamed) and deletes ask:
 *     OWNER <key> <host:port> LOCAL <count>|REMOTE   for keys u0..u<keys-1>
 *     HOSTS <host:port>...                           (rill_app_store_hosts)
 *     ALL <n> <sum>                                  (rill_read_store_all: keys, counts)
 *     GLOBAL p1 <value>                              (the global store read)
 * and it logs "-> RUNNING" and "global tables bootstrapped" (runtime logs). */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rill/rill.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static rill_err_t product_of(const rill_record_t *record, rill_value_t *out, void *user_data,
                             rill_error_t **error)
{
    (void)user_data;
    (void)error;
    const char *value = rill_value_string(rill_record_value(record));
    const char *colon = value != NULL ? strchr(value, ':') : NULL;
    if (colon != NULL) {
        size_t n = (size_t)(colon - value);
        char *id = malloc(n + 1);
        memcpy(id, value, n);
        id[n] = '\0';
        rill_value_set_string(out, id, free);
    }
    return RILL_OK;
}

static rill_err_t describe(const rill_record_t *record, const rill_value_t *product,
                           rill_value_t *out, void *user_data, rill_error_t **error)
{
    (void)user_data;
    (void)error;
    const char *value = rill_value_string(rill_record_value(record));
    const char *colon = value != NULL ? strchr(value, ':') : NULL;
    const char *name = rill_value_string(product);
    char *text = malloc(256);
    snprintf(text, 256, "%s x%s", name != NULL ? name : "?", colon != NULL ? colon + 1 : "?");
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

static int64_t be64(const void *p)
{
    const unsigned char *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return (int64_t)v;
}

typedef struct totals {
    long keys;
    int64_t sum;
} totals_t;

static bool add_up(const void *key, size_t key_len, const void *value, size_t value_len, void *ud)
{
    (void)key;
    (void)key_len;
    totals_t *totals = ud;
    totals->keys++;
    if (value_len == 8)
        totals->sum += be64(value);
    return true;
}

/* Writes the answers to dir/answers; returns 0, or -1 if a question failed
 * (the reason goes to the log and the file says ERROR). */
static void answer(rill_app_t *app, const char *dir, int keys)
{
    char path[4096], tmp[4096];
    snprintf(path, sizeof path, "%s/answers", dir);
    snprintf(tmp, sizeof tmp, "%s/answers.tmp", dir);
    FILE *out = fopen(tmp, "w");
    if (out == NULL)
        return;
    rill_error_t *error = NULL;
    rill_read_store_t *counts = rill_app_store(app, "click-counts", &error);
    if (counts == NULL) {
        fprintf(out, "ERROR store %s\n", rill_error_message(error));
        rill_error_destroy(error);
        error = NULL;
    }
    for (int i = 0; counts != NULL && i < keys; i++) {
        char key[32];
        snprintf(key, sizeof key, "u%d", i);
        char *owner = NULL;
        if (rill_app_key_owner(app, "click-counts", key, strlen(key), &owner, &error) != RILL_OK) {
            fprintf(out, "ERROR owner %s %s\n", key, rill_error_message(error));
            rill_error_destroy(error);
            error = NULL;
            continue;
        }
        void *value = NULL;
        size_t len = 0;
        rill_err_t err = rill_read_store_get(counts, key, strlen(key), &value, &len, &error);
        if (err == RILL_OK)
            fprintf(out, "OWNER %s %s LOCAL %" PRId64 "\n", key, owner,
                    value != NULL && len == 8 ? be64(value) : -1);
        else if (err == RILL_ERR_NOT_FOUND)
            fprintf(out, "OWNER %s %s REMOTE\n", key, owner);
        else
            fprintf(out, "ERROR get %s %s\n", key, rill_error_message(error));
        rill_error_destroy(error);
        error = NULL;
        rill_free(value);
        rill_free(owner);
    }
    char **hosts = NULL;
    if (rill_app_store_hosts(app, "click-counts", &hosts, &error) == RILL_OK) {
        fprintf(out, "HOSTS");
        for (int i = 0; hosts[i] != NULL; i++)
            fprintf(out, " %s", hosts[i]);
        fprintf(out, "\n");
        rill_strv_free(hosts);
    } else {
        fprintf(out, "ERROR hosts %s\n", rill_error_message(error));
        rill_error_destroy(error);
        error = NULL;
    }
    totals_t totals = {0, 0};
    if (counts != NULL && rill_read_store_all(counts, add_up, &totals, &error) == RILL_OK) {
        fprintf(out, "ALL %ld %" PRId64 "\n", totals.keys, totals.sum);
    } else if (counts != NULL) {
        fprintf(out, "ERROR all %s\n", rill_error_message(error));
        rill_error_destroy(error);
        error = NULL;
    }
    rill_read_store_destroy(counts);
    rill_read_store_t *products = rill_app_store(app, "products", &error);
    void *value = NULL;
    size_t len = 0;
    if (products != NULL && rill_read_store_get(products, "p1", 2, &value, &len, &error) == RILL_OK)
        fprintf(out, "GLOBAL p1 %.*s\n", (int)len, value != NULL ? (const char *)value : "~");
    else
        fprintf(out, "ERROR global %s\n", rill_error_message(error));
    rill_free(value);
    rill_error_destroy(error);
    rill_read_store_destroy(products);
    fclose(out);
    rename(tmp, path);
}

int main(int argc, char **argv)
{
    const char *bootstrap = NULL, *app_id = "gq", *state_dir = NULL, *server = NULL;
    int keys = 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "-b") == 0)
            bootstrap = argv[i + 1];
        else if (strcmp(argv[i], "--application-id") == 0)
            app_id = argv[i + 1];
        else if (strcmp(argv[i], "--state-dir") == 0)
            state_dir = argv[i + 1];
        else if (strcmp(argv[i], "--server") == 0)
            server = argv[i + 1];
        else if (strcmp(argv[i], "--keys") == 0)
            keys = atoi(argv[i + 1]);
    }
    if (bootstrap == NULL || state_dir == NULL) {
        fprintf(stderr, "usage: global-query-app -b HOST:PORT --state-dir DIR [--server H:P] "
                        "[--application-id ID] [--keys N]\n");
        return 2;
    }
    rill_error_t *error = NULL;
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t strings = {.key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()};
    rill_global_table_t *products = rill_builder_global_table(
        builder, "products", &strings, &(rill_materialized_t){.name = "products"});
    rill_stream_t *orders = rill_builder_stream(builder, "orders", &strings);
    rill_stream_to(rill_stream_join_global(orders, products, product_of, describe, NULL, "enrich"),
                   "enriched", NULL);
    rill_stream_t *clicks = rill_builder_stream(builder, "clicks", &strings);
    rill_grouped_count(
        rill_stream_group_by_key(clicks, NULL),
        &(rill_materialized_t){.name = "click-counts", .key_serde = rill_serde_string()});
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (topology == NULL) {
        fprintf(stderr, "global-query-app: %s\n", rill_error_message(error));
        return 2;
    }
    rill_config_t *config = rill_config_new();
    rill_config_set(config, "application.id", app_id, NULL);
    rill_config_set(config, "bootstrap.servers", bootstrap, NULL);
    rill_config_set(config, "state.dir", state_dir, NULL);
    rill_config_set(config, "commit.interval.ms", "500", NULL);
    rill_config_set(config, "statestore.cache.max.bytes", "0", NULL);
    rill_config_set(config, "consumer.session.timeout.ms", "6000", NULL);
    rill_config_set(config, "consumer.heartbeat.interval.ms", "500", NULL);
    if (server != NULL)
        rill_config_set(config, "application.server", server, NULL);
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (app == NULL) {
        fprintf(stderr, "global-query-app: %s\n", rill_error_message(error));
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = 0;
    if (rill_app_start(app, &error) != RILL_OK) {
        fprintf(stderr, "global-query-app: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr, "global-query-app: started (state %s)\n",
                rill_app_state_name(rill_app_state(app)));
        char ask[4096];
        snprintf(ask, sizeof ask, "%s/ask", state_dir);
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 100);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
            if (access(ask, F_OK) == 0 && state == RILL_APP_RUNNING) {
                answer(app, state_dir, keys);
                unlink(ask);
            }
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "global-query-app: failed: %s\n",
                    rill_error_message(rill_app_error(app)));
            status = 1;
        }
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    fprintf(stderr, "global-query-app: stopped\n");
    return status;
}
