/* revenue.c: enrichment + aggregation: orders joined to their customer's region, revenue per region.
 *
 * Two input topics, keyed by customer id and co-partitioned (same partition
 * count, same partitioner):
 *
 *     --customers  key = customer id, value = the customer's region (UTF-8
 *                  text, e.g. "emea"); a later record replaces the region,
 *                  a null value deletes the customer. Read as a table.
 *     --orders     key = customer id, value = the order's amount as decimal
 *                  text with at most two decimals ("12.34", "7", "-3.5" for
 *                  a refund). Read as a stream.
 *
 * Each order is enriched with its customer's current region (a stream-table
 * join: an order whose customer is unknown is dropped, as Kafka Streams'
 * inner join), re-keyed by region (a repartition through
 * "<application.id>-orders-by-region-repartition"), and summed per region in
 * the state store "revenue" (RocksDB, changelog
 * "<application.id>-revenue-changelog"): the sum of the amounts in int64
 * cents (exact; an overflow is a processing error) and the number of orders.
 * Every updated total goes to --output with key = the region and value = a
 * JSON object:
 *
 *     {"orders":1234,"revenue":"98765.43","revenue_cents":9876543}
 *
 * (with the record cache on, updates of a region between two commits are
 * sent once; the last record per region is the total). An amount that is
 * not a decimal number is a processing error: by default the app stops with
 * a message naming the record; -c processing.exception.handler=
 * LogAndContinueProcessingExceptionHandler skips such orders (and
 * -c dead.letter.topic=T keeps them).
 *
 *     revenue -b 127.0.0.1:9092 --customers customers --orders orders --output revenue
 *
 * The topology: table(customers) ; stream(orders) → join(customers) →
 * groupBy(region) → aggregate(revenue) → toStream → mapValues(JSON) → to(output). */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
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

/* Parses "[-]D+[.D[D]]" (the whole of text[0..len)) into cents. */
static bool parse_cents(const char *text, size_t len, int64_t *cents)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && (text[i] == '-' || text[i] == '+'))
        negative = text[i++] == '-';
    int64_t units = 0;
    size_t digits = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++, digits++)
        if (__builtin_mul_overflow(units, 10, &units) ||
            __builtin_add_overflow(units, text[i] - '0', &units))
            return false;
    if (digits == 0)
        return false;
    int64_t fraction = 0;
    if (i < len && text[i] == '.') {
        i++;
        size_t decimals = 0;
        for (; i < len && text[i] >= '0' && text[i] <= '9' && decimals < 2; i++, decimals++)
            fraction = fraction * 10 + (text[i] - '0');
        if (decimals == 0)
            return false;
        if (decimals == 1)
            fraction *= 10;
    }
    if (i != len)
        return false;
    int64_t v;
    if (__builtin_mul_overflow(units, 100, &v) || __builtin_add_overflow(v, fraction, &v))
        return false;
    *cents = negative ? -v : v;
    return true;
}

/* The enriched order: "<cents> <region>" (the region may hold spaces: it is
 * everything after the first one). */
static rill_err_t enrich(const rill_record_t *order, const rill_value_t *region, rill_value_t *out,
                         void *ud, rill_error_t **error)
{
    (void)ud;
    size_t amount_len = 0;
    const char *amount = rill_value_bytes(rill_record_value(order), &amount_len);
    int64_t cents;
    if (amount == NULL || !parse_cents(amount, amount_len, &cents))
        return rill_error_set(error, RILL_ERR_SERDE,
                              "order of customer %s: the amount \"%.*s\" is not a decimal number "
                              "with at most two decimals",
                              rill_value_string(rill_record_key(order))
                                  ? rill_value_string(rill_record_key(order))
                                  : "(null)",
                              amount ? (int)(amount_len > 40 ? 40 : amount_len) : 6,
                              amount ? amount : "(null)");
    const char *name = rill_value_string(region);
    if (name == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "customer %s has no region",
                              rill_value_string(rill_record_key(order)));
    size_t size = 24 + strlen(name);
    char *text = malloc(size);
    if (text == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    snprintf(text, size, "%" PRId64 " %s", cents, name);
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

/* groupBy: the region of an enriched order. */
static rill_err_t region_key(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    const char *enriched = rill_value_string(rill_record_value(record));
    const char *space = enriched ? strchr(enriched, ' ') : NULL;
    if (space == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "not an enriched order: %s",
                              enriched ? enriched : "(null)");
    char *region = strdup(space + 1);
    if (region == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    rill_value_set_string(out, region, free);
    return RILL_OK;
}

/* The aggregate: 16 bytes, the sum in cents then the count, big-endian int64s. */
#define AGG_LEN 16

static void put64(uint8_t *p, int64_t v)
{
    for (int i = 7; i >= 0; i--, v = (int64_t)((uint64_t)v >> 8))
        p[i] = (uint8_t)v;
}

static int64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return (int64_t)v;
}

static rill_err_t set_aggregate(rill_value_t *out, int64_t sum, int64_t count,
                                rill_error_t **error)
{
    uint8_t *bytes = malloc(AGG_LEN);
    if (bytes == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    put64(bytes, sum);
    put64(bytes + 8, count);
    rill_value_set_bytes(out, bytes, AGG_LEN, free);
    return RILL_OK;
}

static bool get_aggregate(const rill_value_t *value, int64_t *sum, int64_t *count)
{
    size_t len = 0;
    const uint8_t *bytes = rill_value_bytes(value, &len);
    if (bytes == NULL || len != AGG_LEN)
        return false;
    *sum = get64(bytes);
    *count = get64(bytes + 8);
    return true;
}

static rill_err_t zero(rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    return set_aggregate(out, 0, 0, error);
}

static rill_err_t add_order(const rill_value_t *key, const rill_value_t *order,
                            const rill_value_t *aggregate, rill_value_t *out, void *ud,
                            rill_error_t **error)
{
    (void)ud;
    int64_t sum, count;
    if (!get_aggregate(aggregate, &sum, &count))
        return rill_error_set(error, RILL_ERR_SERDE, "region %s: the stored total is not %d bytes",
                              rill_value_string(key), AGG_LEN);
    const char *enriched = rill_value_string(order);
    char *end = NULL;
    errno = 0;
    long long cents = enriched ? strtoll(enriched, &end, 10) : 0;
    if (enriched == NULL || errno || end == enriched || *end != ' ')
        return rill_error_set(error, RILL_ERR_SERDE, "not an enriched order: %s",
                              enriched ? enriched : "(null)");
    if (__builtin_add_overflow(sum, (int64_t)cents, &sum) ||
        __builtin_add_overflow(count, 1, &count))
        return rill_error_set(error, RILL_ERR_USER, "region %s: the revenue overflows int64 cents",
                              rill_value_string(key));
    return set_aggregate(out, sum, count, error);
}

/* The output value: {"orders":N,"revenue":"D.DD","revenue_cents":C}. */
static rill_err_t to_json(const rill_record_t *record, rill_value_t *out, void *ud,
                          rill_error_t **error)
{
    (void)ud;
    int64_t sum, count;
    if (!get_aggregate(rill_record_value(record), &sum, &count))
        return rill_error_set(error, RILL_ERR_SERDE, "region %s: the total is not %d bytes",
                              rill_value_string(rill_record_key(record)), AGG_LEN);
    uint64_t magnitude = sum < 0 ? (uint64_t)0 - (uint64_t)sum : (uint64_t)sum;
    char *text = malloc(128);
    if (text == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    snprintf(text, 128,
             "{\"orders\":%" PRId64 ",\"revenue\":\"%s%" PRIu64 ".%02u\",\"revenue_cents\":%" PRId64
             "}",
             count, sum < 0 ? "-" : "", magnitude / 100, (unsigned)(magnitude % 100), sum);
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: revenue -b HOST:PORT --customers TOPIC --orders TOPIC --output TOPIC "
            "[options]\n"
            "\n"
            "Joins each order (key = customer id, value = amount as decimal text, e.g. 12.34)\n"
            "to its customer's region (topic of key = customer id, value = region) and keeps\n"
            "the revenue and the number of orders per region; writes each updated total to\n"
            "the output topic: key = region, value = {\"orders\":N,\"revenue\":\"D.DD\","
            "\"revenue_cents\":C}.\n"
            "Orders of unknown customers are dropped. Both inputs must have the same number\n"
            "of partitions and be keyed the same way.\n"
            "\n"
            "  -b, --bootstrap-servers HOST:PORT[,...]  the Kafka cluster (also --bootstrap-server)\n"
            "      --application-id ID     consumer group and app name (default revenue)\n"
            "      --state-dir DIR         local state directory (default /tmp/rill-streams)\n"
            "      --threads N             stream threads (default 1)\n"
            "      --processing-guarantee G  at_least_once (default)\n"
            "      --customers TOPIC       customer id -> region (required)\n"
            "      --orders TOPIC          customer id -> amount (required)\n"
            "      --output TOPIC          region -> totals (required)\n"
            "  -c, --config KEY=VALUE      any rill or librdkafka setting (repeatable)\n"
            "  -h, --help                  this help\n"
            "\n"
            "Runs until SIGINT or SIGTERM, then commits and leaves the group.\n"
            "Exit status: 0 after a clean stop, 1 if the app failed, 2 for bad arguments.\n");
}

static int set(rill_config_t *config, const char *key, const char *value)
{
    rill_error_t *error = NULL;
    if (rill_config_set(config, key, value, &error) != RILL_OK) {
        fprintf(stderr, "revenue: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        return -1;
    }
    return 0;
}

static rill_topology_t *build(const char *customers, const char *orders, const char *output,
                              rill_error_t **error)
{
    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t strings = {.key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()};
    rill_table_t *regions = rill_builder_table(
        builder, customers, &strings,
        &(rill_materialized_t){.name = "customers",
                               .key_serde = rill_serde_string(),
                               .value_serde = rill_serde_string()});
    rill_stream_t *enriched = rill_stream_join_table(rill_builder_stream(builder, orders, &strings),
                                                     regions, enrich, NULL, "enrich");
    rill_grouped_opts_t by_region = {.name = "orders-by-region",
                                     .key_serde = rill_serde_string(),
                                     .value_serde = rill_serde_string()};
    rill_table_t *totals = rill_grouped_aggregate(
        rill_stream_group_by(enriched, region_key, NULL, &by_region), zero, add_order, NULL,
        &(rill_materialized_t){.name = "revenue",
                               .key_serde = rill_serde_string(),
                               .value_serde = rill_serde_bytes()});
    rill_stream_t *updates =
        rill_stream_map_values(rill_table_to_stream(totals, NULL), to_json, NULL, "json");
    rill_produced_t produced = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(updates, output, &produced);
    rill_topology_t *topology = rill_builder_build(builder, error);
    rill_builder_destroy(builder);
    return topology;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"bootstrap-server", required_argument, NULL, 'b'},
        {"application-id", required_argument, NULL, 'a'},
        {"state-dir", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"processing-guarantee", required_argument, NULL, 'g'},
        {"customers", required_argument, NULL, 'C'},
        {"orders", required_argument, NULL, 'O'},
        {"output", required_argument, NULL, 'o'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rill_config_t *config = rill_config_new();
    const char *customers = NULL, *orders = NULL, *output = NULL;
    bool have_servers = false, have_id = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "b:c:h", options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'b': rc = set(config, "bootstrap.servers", optarg); have_servers = true; break;
        case 'a': rc = set(config, "application.id", optarg); have_id = true; break;
        case 's': rc = set(config, "state.dir", optarg); break;
        case 't': rc = set(config, "num.stream.threads", optarg); break;
        case 'g': rc = set(config, "processing.guarantee", optarg); break;
        case 'C': customers = optarg; break;
        case 'O': orders = optarg; break;
        case 'o': output = optarg; break;
        case 'c': {
            rill_error_t *error = NULL;
            if (rill_config_set_string(config, optarg, &error) != RILL_OK) {
                fprintf(stderr, "revenue: %s\n", rill_error_message(error));
                rill_error_destroy(error);
                rc = -1;
            }
            break;
        }
        case 'h': usage(stdout); rill_config_destroy(config); return 0;
        default: usage(stderr); rill_config_destroy(config); return 2;
        }
        if (rc) {
            rill_config_destroy(config);
            return 2;
        }
    }
    if (optind < argc || !have_servers || !customers || !orders || !output) {
        fprintf(stderr, "revenue: %s\n",
                optind < argc  ? "unexpected argument"
                : !have_servers ? "--bootstrap-servers is required"
                : !customers    ? "--customers is required"
                : !orders       ? "--orders is required"
                                : "--output is required");
        usage(stderr);
        rill_config_destroy(config);
        return 2;
    }
    if (!have_id && set(config, "application.id", "revenue")) {
        rill_config_destroy(config);
        return 2;
    }

    rill_error_t *error = NULL;
    rill_topology_t *topology = build(customers, orders, output, &error);
    if (!topology) {
        fprintf(stderr, "revenue: building the topology: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_config_destroy(config);
        return 1;
    }
    int status = 0;
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app) {
        fprintf(stderr, "revenue: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_topology_destroy(topology);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (rill_app_start(app, &error) != RILL_OK) {
        fprintf(stderr, "revenue: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr, "revenue: orders of %s joined to %s, revenue per region into %s\n",
                orders, customers, output);
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "revenue: failed: %s\n", rill_error_message(rill_app_error(app)));
            status = 1;
        }
        rill_app_stats_t stats;
        rill_app_stats(app, &stats);
        fprintf(stderr, "revenue: stopped: %llu records processed, %llu produced, %llu commits\n",
                (unsigned long long)stats.records_processed,
                (unsigned long long)stats.records_produced, (unsigned long long)stats.commits);
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
