/* 0410-join-app.c: the stream-stream join app the 041x integration tests run: payments matched to authorisations.
 *
 * Reads --payments and --auths (key = account, value = an id, both UTF-8),
 * left-joins each payment with the authorisations of its account within
 * --within-ms either way (grace --grace-ms), and writes to --output:
 * key = account, value = "<payment>|<auth>" for each match, "<payment>|~"
 * for a payment that matched nothing (once its window has closed).
 *
 *     0410-join-app -b 127.0.0.1:9092 --payments payments --auths auths --output matched
 *
 * Topology: payments, auths ─► leftJoin(JoinWindows(within, grace), "match") ─► to(output).
 *
 * With --fk: a foreign-key join of two tables instead: --orders (key = order
 * id, value = "<customer>|<item>") with --customers (key = customer id,
 * value = a name), inner, named "orders-customers": --output gets
 * key = order id, value = "<item> for <name>" (null when the row goes). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/rill.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static rill_err_t match(const rill_value_t *key, const rill_value_t *payment,
                        const rill_value_t *auth, rill_value_t *out, void *ud,
                        rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    const char *p = rill_value_string(payment), *a = rill_value_string(auth);
    size_t n = strlen(p) + (a != NULL ? strlen(a) : 1) + 2;
    char *text = malloc(n);
    if (text == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    snprintf(text, n, "%s|%s", p, a != NULL ? a : "~");
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

/* the customer of "<customer>|<item>" */
static rill_err_t customer_of(const rill_value_t *key, const rill_value_t *value,
                              rill_value_t *fk_out, void *ud, rill_error_t **error)
{
    (void)key;
    (void)ud;
    (void)error;
    const char *v = rill_value_string(value);
    const char *bar = v != NULL ? strchr(v, '|') : NULL;
    if (bar != NULL) {
        char *customer = strndup(v, (size_t)(bar - v));
        if (customer == NULL)
            return rill_error_set(error, RILL_ERR_USER, "out of memory");
        rill_value_set_string(fk_out, customer, free);
    }
    return RILL_OK;
}

static rill_err_t item_for(const rill_value_t *key, const rill_value_t *order,
                           const rill_value_t *customer, rill_value_t *out, void *ud,
                           rill_error_t **error)
{
    (void)key;
    (void)ud;
    const char *o = rill_value_string(order), *c = rill_value_string(customer);
    const char *item = strchr(o, '|');
    item = item != NULL ? item + 1 : o;
    size_t n = strlen(item) + strlen(c) + 6;
    char *text = malloc(n);
    if (text == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    snprintf(text, n, "%s for %s", item, c);
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

static int set(rill_config_t *config, const char *key, const char *value)
{
    rill_error_t *error = NULL;
    if (rill_config_set(config, key, value, &error) != RILL_OK) {
        fprintf(stderr, "join-app: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"application-id", required_argument, NULL, 'a'},
        {"state-dir", required_argument, NULL, 's'},
        {"payments", required_argument, NULL, 'p'},
        {"auths", required_argument, NULL, 'u'},
        {"output", required_argument, NULL, 'o'},
        {"within-ms", required_argument, NULL, 'w'},
        {"grace-ms", required_argument, NULL, 'g'},
        {"config", required_argument, NULL, 'c'},
        {"fk", no_argument, NULL, 'f'},
        {"orders", required_argument, NULL, 'O'},
        {"customers", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0},
    };
    rill_config_t *config = rill_config_new();
    const char *payments = "payments", *auths = "auths", *output = "matched";
    const char *orders = "orders", *customers = "customers";
    bool fk = false;
    long long within = 300000, grace = 60000;
    int opt, rc = 0;
    set(config, "application.id", "payment-match");
    while (rc == 0 && (opt = getopt_long(argc, argv, "b:c:", options, NULL)) != -1) {
        switch (opt) {
        case 'b': rc = set(config, "bootstrap.servers", optarg); break;
        case 'a': rc = set(config, "application.id", optarg); break;
        case 's': rc = set(config, "state.dir", optarg); break;
        case 'p': payments = optarg; break;
        case 'u': auths = optarg; break;
        case 'o': output = optarg; break;
        case 'w': within = atoll(optarg); break;
        case 'g': grace = atoll(optarg); break;
        case 'f': fk = true; break;
        case 'O': orders = optarg; break;
        case 'C': customers = optarg; break;
        case 'c': {
            rill_error_t *error = NULL;
            if (rill_config_set_string(config, optarg, &error) != RILL_OK) {
                fprintf(stderr, "join-app: %s\n", rill_error_message(error));
                rill_error_destroy(error);
                rc = -1;
            }
            break;
        }
        default: rc = -1; break;
        }
    }
    if (rc != 0 || optind < argc) {
        fprintf(stderr, "usage: join-app -b HOST:PORT [--payments T] [--auths T] [--output T] "
                        "[--within-ms MS] [--grace-ms MS] [--state-dir DIR] [-c KEY=VALUE]\n");
        rill_config_destroy(config);
        return 2;
    }

    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t strings = {.key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()};
    rill_stream_t *matched;
    if (fk) {
        rill_table_t *o = rill_builder_table(builder, orders, &strings,
                                             &(rill_materialized_t){.name = "orders"});
        rill_table_t *c = rill_builder_table(builder, customers, &strings,
                                             &(rill_materialized_t){.name = "customers"});
        rill_table_t *enriched = rill_table_fk_join(
            o, c, customer_of, item_for, NULL, &(rill_fk_joined_t){.name = "orders-customers"},
            &(rill_materialized_t){.name = "enriched", .key_serde = rill_serde_string(),
                                   .value_serde = rill_serde_string()});
        matched = rill_table_to_stream(enriched, NULL);
    } else {
        rill_stream_t *p = rill_builder_stream(builder, payments, &strings);
        rill_stream_t *a = rill_builder_stream(builder, auths, &strings);
        rill_join_windows_t windows = rill_join_windows_of(within, grace);
        matched = rill_stream_left_join(p, a, match, NULL, windows,
                                        &(rill_stream_joined_t){.name = "match"});
    }
    rill_produced_t produced = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(matched, output, &produced);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (topology == NULL) {
        fprintf(stderr, "join-app: building the topology: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_config_destroy(config);
        return 1;
    }
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (app == NULL) {
        fprintf(stderr, "join-app: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_topology_destroy(topology);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    int status = 0;
    if (rill_app_start(app, &error) != RILL_OK) {
        fprintf(stderr, "join-app: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr, "join-app: matching %s with %s into %s\n", payments, auths, output);
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "join-app: failed: %s\n", rill_error_message(rill_app_error(app)));
            status = 1;
        }
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
