/* event-router.c: a complete stateless rill app that routes JSON events to
 * one topic per event type.
 *
 * It reads JSON objects from --input. An object with a string field "type"
 * is written, unchanged and with its key, to the topic "<output>.<type>"
 * (created by the broker on first use where auto-creation is on). Anything
 * else (not JSON, not an object, no string "type", a type that cannot be part
 * of a topic name) goes to --dead-letter, unchanged, with the reason in the
 * header rill.error.
 *
 *     event-router -b 127.0.0.1:9092 --input events --output events-by-type
 *
 * The topology: source(input) → mapValues(check) → to(<output>.<type>).
 * "check" fails the record with the reason when it cannot be routed; the
 * app's processing handler (LogAndContinue + dead-letter topic, KIP-1034)
 * sends such records to the dead-letter topic and goes on. Offsets are
 * committed only after the routed records are acknowledged, so a crash
 * loses nothing (records since the last commit are routed again).
 *
 * The JSON check is a small strict parser (RFC 8259) written here so that
 * the example needs nothing but rill. */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/rill.h>
#include <rill/topology.h>

/* ---- a strict JSON reader that finds the top-level "type" ---------------- */

typedef struct json {
    const char *p, *end;
    int depth;
    char type[250]; /* the top-level "type" string, decoded */
    bool has_type;
    bool type_not_string;
    bool type_too_long;
} json_t;

static void skip_ws(json_t *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads a string; if out is not NULL, decodes it (ASCII escapes only; other
 * code points are kept as UTF-8 bytes, \u escapes above 0x7f are refused
 * for a topic name by the caller's check). Returns false if malformed. */
static bool parse_string(json_t *j, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    bool overflow = false;
    if (j->p >= j->end || *j->p != '"')
        return false;
    j->p++;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p++;
        if (c == '"') {
            if (out)
                out[n < cap ? n : cap - 1] = '\0';
            if (len)
                *len = overflow ? cap : n;
            return true;
        }
        if (c < 0x20)
            return false;
        if (c == '\\') {
            if (j->p >= j->end)
                return false;
            char e = *j->p++;
            switch (e) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                if (j->end - j->p < 4)
                    return false;
                int v = 0;
                for (int i = 0; i < 4; i++) {
                    int h = hexval(j->p[i]);
                    if (h < 0)
                        return false;
                    v = v * 16 + h;
                }
                j->p += 4;
                c = v < 0x80 ? (unsigned char)v : 0x01; /* 0x01: not a topic character */
                break;
            }
            default:
                return false;
            }
        }
        if (out) {
            if (n + 1 < cap)
                out[n] = (char)c;
            else
                overflow = true;
        }
        n++;
    }
    return false;
}

static bool parse_value(json_t *j, bool top);

static bool parse_number(json_t *j)
{
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end)
        return false;
    if (*j->p == '0') {
        j->p++;
    } else if (*j->p >= '1' && *j->p <= '9') {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    } else {
        return false;
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return false;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return false;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    return j->p > s;
}

static bool parse_literal(json_t *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return false;
    j->p += n;
    return true;
}

static bool parse_object(json_t *j, bool top)
{
    j->p++; /* { */
    skip_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        return true;
    }
    for (;;) {
        char name[8];
        size_t name_len = 0;
        skip_ws(j);
        if (!parse_string(j, name, sizeof(name), &name_len))
            return false;
        skip_ws(j);
        if (j->p >= j->end || *j->p != ':')
            return false;
        j->p++;
        skip_ws(j);
        if (top && name_len == 4 && strcmp(name, "type") == 0) {
            if (j->p < j->end && *j->p == '"') {
                size_t len = 0;
                if (!parse_string(j, j->type, sizeof(j->type), &len))
                    return false;
                j->has_type = true;
                j->type_not_string = false;
                j->type_too_long = len >= sizeof(j->type);
            } else {
                if (!parse_value(j, false))
                    return false;
                j->has_type = false;
                j->type_not_string = true;
            }
        } else if (!parse_value(j, false)) {
            return false;
        }
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == '}') {
            j->p++;
            return true;
        }
        return false;
    }
}

static bool parse_array(json_t *j)
{
    j->p++; /* [ */
    skip_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        return true;
    }
    for (;;) {
        skip_ws(j);
        if (!parse_value(j, false))
            return false;
        skip_ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == ']') {
            j->p++;
            return true;
        }
        return false;
    }
}

static bool parse_value(json_t *j, bool top)
{
    if (j->p >= j->end || ++j->depth > 256)
        return false;
    bool ok;
    switch (*j->p) {
    case '{': ok = parse_object(j, top); break;
    case '[': ok = parse_array(j); break;
    case '"': ok = parse_string(j, NULL, 0, NULL); break;
    case 't': ok = parse_literal(j, "true"); break;
    case 'f': ok = parse_literal(j, "false"); break;
    case 'n': ok = parse_literal(j, "null"); break;
    default: ok = parse_number(j); break;
    }
    j->depth--;
    return ok;
}

/* Why value cannot be routed, or NULL (then type holds the type). */
static const char *route_of(const void *value, size_t len, char *type, size_t cap)
{
    if (!value)
        return "the value is null";
    json_t j = {.p = value, .end = (const char *)value + len};
    skip_ws(&j);
    if (j.p >= j.end)
        return "the value is empty, not JSON";
    bool is_object = *j.p == '{';
    if (!parse_value(&j, true))
        return "the value is not valid JSON";
    skip_ws(&j);
    if (j.p != j.end)
        return "the value is not valid JSON (text after the value)";
    if (!is_object)
        return "the value is JSON but not an object";
    if (j.type_not_string)
        return "the field \"type\" is not a string";
    if (!j.has_type)
        return "the object has no field \"type\"";
    if (j.type_too_long)
        return "the field \"type\" is too long for a topic name";
    if (!j.type[0])
        return "the field \"type\" is empty";
    for (const char *c = j.type; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '.' || *c == '_' || *c == '-'))
            return "the field \"type\" holds characters a topic name cannot (allowed: letters, "
                   "digits, '.', '_', '-')";
    snprintf(type, cap, "%s", j.type);
    return NULL;
}

/* ---- the topology ---------------------------------------------------------- */

typedef struct router {
    const char *output; /* topic prefix */
} router_t;

/* mapValues: keeps the value (a view, no copy) or fails with the reason. */
static rill_err_t check(const rill_record_t *record, rill_value_t *out, void *user_data,
                        rill_error_t **error)
{
    (void)user_data;
    size_t len = 0;
    const void *value = rill_value_bytes(rill_record_value(record), &len);
    char type[256];
    const char *why = route_of(value, len, type, sizeof(type));
    if (why)
        return rill_error_set(error, RILL_ERR_USER, "cannot route: %s", why);
    rill_value_set_view(out, rill_record_value(record));
    return RILL_OK;
}

/* The topic of a checked record. Each stream thread has its own buffer; the
 * name stays valid until the record is done, as rill_topic_chooser_fn asks. */
static const char *choose_topic(const rill_record_t *record, void *user_data)
{
    static __thread char topic[512];
    router_t *router = user_data;
    size_t len = 0;
    const void *value = rill_value_bytes(rill_record_value(record), &len);
    char type[256];
    if (route_of(value, len, type, sizeof(type)))
        return NULL;
    int n = snprintf(topic, sizeof(topic), "%s.%s", router->output, type);
    if (n < 0 || n >= 250)
        return NULL;
    return topic;
}

/* ---- the program ----------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: event-router -b HOST:PORT --input TOPIC --output PREFIX [options]\n"
            "\n"
            "Routes JSON objects from TOPIC to PREFIX.<type> by their string field \"type\";\n"
            "anything else goes to the dead-letter topic with the reason in header rill.error.\n"
            "\n"
            "  -b, --bootstrap-servers HOST:PORT[,...]  the Kafka cluster (also --bootstrap-server)\n"
            "      --application-id ID     consumer group and app name (default event-router)\n"
            "      --state-dir DIR         local state directory (default /tmp/rill-streams)\n"
            "      --threads N             stream threads (default 1)\n"
            "      --processing-guarantee G  at_least_once (default) or exactly_once_v2\n"
            "      --input TOPIC           topic of JSON events (required)\n"
            "      --output PREFIX         routed records go to PREFIX.<type> (required)\n"
            "      --dead-letter TOPIC     unroutable records (default PREFIX.dead-letter)\n"
            "  -c, --config KEY=VALUE      any rill or librdkafka setting (repeatable), e.g.\n"
            "                              commit.interval.ms=1000, consumer.fetch.max.bytes=...\n"
            "  -h, --help                  this help\n"
            "\n"
            "Runs until SIGINT or SIGTERM, then commits and leaves the group.\n"
            "Exit status: 0 after a clean stop, 1 if the app failed (the reason is printed),\n"
            "2 for bad arguments.\n");
}

static int set(rill_config_t *config, const char *key, const char *value)
{
    rill_error_t *error = NULL;
    if (rill_config_set(config, key, value, &error) != RILL_OK) {
        fprintf(stderr, "event-router: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        return -1;
    }
    return 0;
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
        {"input", required_argument, NULL, 'i'},
        {"output", required_argument, NULL, 'o'},
        {"dead-letter", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    rill_config_t *config = rill_config_new();
    const char *input = NULL, *output = NULL, *dead_letter = NULL;
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
        case 'i': input = optarg; break;
        case 'o': output = optarg; break;
        case 'd': dead_letter = optarg; break;
        case 'c': {
            rill_error_t *error = NULL;
            if (rill_config_set_string(config, optarg, &error) != RILL_OK) {
                fprintf(stderr, "event-router: %s\n", rill_error_message(error));
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
    if (optind < argc || !have_servers || !input || !output) {
        fprintf(stderr, "event-router: %s\n",
                optind < argc  ? "unexpected argument"
                : !have_servers ? "--bootstrap-servers is required"
                : !input        ? "--input is required"
                                : "--output is required");
        usage(stderr);
        rill_config_destroy(config);
        return 2;
    }
    char dead_letter_default[300];
    if (!dead_letter) {
        snprintf(dead_letter_default, sizeof(dead_letter_default), "%s.dead-letter", output);
        dead_letter = dead_letter_default;
    }
    if ((!have_id && set(config, "application.id", "event-router")) ||
        set(config, "errors.dead.letter.queue.topic.name", dead_letter) ||
        set(config, "processing.exception.handler", "LogAndContinueProcessingExceptionHandler")) {
        rill_config_destroy(config);
        return 2;
    }

    router_t router = {output};
    rill_builder_t *builder = rill_builder_new();
    rill_stream_t *events = rill_builder_stream(builder, input, NULL);
    rill_stream_t *checked = rill_stream_map_values(events, check, NULL, "check-type");
    rill_stream_to_dynamic(checked, choose_topic, &router, NULL);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology) {
        fprintf(stderr, "event-router: building the topology: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_config_destroy(config);
        return 1;
    }

    int status = 0;
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app) {
        fprintf(stderr, "event-router: %s\n", rill_error_message(error));
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
        fprintf(stderr, "event-router: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr, "event-router: routing %s to %s.<type> (dead letters: %s)\n", input,
                output, dead_letter);
        if (rill_app_metrics_port(app) >= 0)
            fprintf(stderr, "event-router: metrics on port %d (GET /metrics)\n",
                    rill_app_metrics_port(app));
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "event-router: failed: %s\n", rill_error_message(rill_app_error(app)));
            status = 1;
        }
        rill_app_stats_t stats;
        rill_app_stats(app, &stats);
        fprintf(stderr,
                "event-router: stopped: %llu records processed, %llu produced, %llu commits\n",
                (unsigned long long)stats.records_processed,
                (unsigned long long)stats.records_produced, (unsigned long long)stats.commits);
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
