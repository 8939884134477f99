/* wordcount.c: the classic stateful rill app: counts words and writes each updated count.
 *
 * Each record of --input is a UTF-8 line; it is split on whitespace and each
 * word lowercased (Unicode-aware: the C.UTF-8 locale's towlower), then counted per word in
 * the state store "counts" (RocksDB under --state-dir, logged to the
 * compacted topic "<application.id>-counts-changelog", restored from it on a
 * restart or after losing the state directory). Every updated count goes to
 * --output with key = the word and value = the count as decimal text. With
 * the record cache on (statestore.cache.max.bytes, 10 MiB by default),
 * updates of a word between two commits are sent once.
 *
 *     wordcount -b 127.0.0.1:9092 --input lines --output word-counts
 *
 * The topology: source(input) → flatMapValues(split) → selectKey(word) →
 * repartition("words") → count(counts) → toStream → mapValues(decimal) → to(output). */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include <rill/rill.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

/* Lowercases the UTF-8 word [start, end) into a new string (malloc), or NULL
 * if it is not valid UTF-8. Uses the C.UTF-8 locale's case mapping. */
static char *lower_word(const char *start, const char *end)
{
    char *out = malloc((size_t)(end - start) * 2 + 1); /* a lowercase form is at most 2x here */
    if (out == NULL)
        return NULL;
    mbstate_t in_state, out_state;
    memset(&in_state, 0, sizeof in_state);
    memset(&out_state, 0, sizeof out_state);
    size_t n = 0;
    for (const char *p = start; p < end;) {
        wchar_t wc;
        size_t used = mbrtowc(&wc, p, (size_t)(end - p), &in_state);
        if (used == (size_t)-1 || used == (size_t)-2 || used == 0) {
            free(out);
            return NULL;
        }
        char mb[MB_LEN_MAX];
        size_t made = wcrtomb(mb, (wchar_t)towlower((wint_t)wc), &out_state);
        if (made == (size_t)-1 || made > used * 2) { /* keep the bound: copy as is */
            memcpy(mb, p, used);
            made = used;
        }
        memcpy(out + n, mb, made);
        n += made;
        p += used;
    }
    out[n] = '\0';
    return out;
}

/* Each whitespace-separated word of the line, lowercased, as a value. */
static rill_err_t split(const rill_record_t *record, rill_flat_output_t *output, void *ud,
                       rill_error_t **error)
{
    (void)ud;
    size_t len = 0;
    const char *line = rill_value_bytes(rill_record_value(record), &len);
    if (line == NULL)
        return RILL_OK;
    const char *p = line, *end = line + len;
    mbstate_t state;
    memset(&state, 0, sizeof state);
    while (p < end) {
        /* skip whitespace, then take characters up to the next whitespace */
        const char *start = NULL;
        while (p < end) {
            wchar_t wc;
            size_t used = mbrtowc(&wc, p, (size_t)(end - p), &state);
            if (used == (size_t)-1 || used == (size_t)-2 || used == 0)
                return rill_error_set(error, RILL_ERR_SERDE, "the line is not valid UTF-8");
            bool space = iswspace((wint_t)wc);
            if (start == NULL && !space)
                start = p;
            if (start != NULL && space)
                break;
            p += used;
        }
        if (start != NULL) {
            char *word = lower_word(start, p);
            if (word == NULL)
                return rill_error_set(error, RILL_ERR_SERDE, "the line is not valid UTF-8");
            rill_value_t *key, *value;
            rill_flat_output_add(output, &key, &value);
            rill_value_set_string(value, word, free);
        }
    }
    return RILL_OK;
}

static rill_err_t word_key(const rill_record_t *record, rill_value_t *out, void *ud,
                           rill_error_t **error)
{
    (void)ud;
    (void)error;
    rill_value_set_view(out, rill_record_value(record));
    return RILL_OK;
}

static rill_err_t to_decimal(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    char *text = malloc(24);
    if (text == NULL)
        return rill_error_set(error, RILL_ERR_USER, "out of memory");
    snprintf(text, 24, "%" PRId64, rill_value_int64(rill_record_value(record)));
    rill_value_set_string(out, text, free);
    return RILL_OK;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: wordcount -b HOST:PORT --input TOPIC --output TOPIC [options]\n"
            "\n"
            "Counts the words (split on whitespace, lowercased) of the UTF-8 lines of the input\n"
            "topic and writes each updated count to the output topic: key = word, value = count\n"
            "as decimal text.\n"
            "\n"
            "  -b, --bootstrap-servers HOST:PORT[,...]  the Kafka cluster (also --bootstrap-server)\n"
            "      --application-id ID     consumer group and app name (default wordcount)\n"
            "      --state-dir DIR         local state directory (default /tmp/rill-streams)\n"
            "      --threads N             stream threads (default 1)\n"
            "      --processing-guarantee G  at_least_once (default) or exactly_once_v2\n"
            "      --input TOPIC           topic of text lines (required)\n"
            "      --output TOPIC          word counts (required)\n"
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
        fprintf(stderr, "wordcount: %s\n", rill_error_message(error));
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
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    if (setlocale(LC_CTYPE, "C.UTF-8") == NULL) {
        fprintf(stderr, "wordcount: the C.UTF-8 locale is missing\n");
        return 1;
    }
    rill_config_t *config = rill_config_new();
    const char *input = NULL, *output = NULL;
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
        case 'c': {
            rill_error_t *error = NULL;
            if (rill_config_set_string(config, optarg, &error) != RILL_OK) {
                fprintf(stderr, "wordcount: %s\n", rill_error_message(error));
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
        fprintf(stderr, "wordcount: %s\n",
                optind < argc  ? "unexpected argument"
                : !have_servers ? "--bootstrap-servers is required"
                : !input        ? "--input is required"
                                : "--output is required");
        usage(stderr);
        rill_config_destroy(config);
        return 2;
    }
    if (!have_id && set(config, "application.id", "wordcount")) {
        rill_config_destroy(config);
        return 2;
    }

    rill_builder_t *builder = rill_builder_new();
    rill_consumed_t lines = {.key_serde = rill_serde_bytes(), .value_serde = rill_serde_bytes()};
    rill_stream_t *words = rill_stream_flat_map_values(
        rill_builder_stream(builder, input, &lines), split, NULL, "split");
    rill_grouped_opts_t grouped = {.name = "words",
                                   .key_serde = rill_serde_string(),
                                   .value_serde = rill_serde_string()};
    rill_table_t *counts = rill_grouped_count(
        rill_stream_group_by(words, word_key, NULL, &grouped),
        &(rill_materialized_t){.name = "counts", .key_serde = rill_serde_string()});
    rill_stream_t *updates =
        rill_stream_map_values(rill_table_to_stream(counts, NULL), to_decimal, NULL, "decimal");
    rill_produced_t produced = {.key_serde = rill_serde_string(),
                                .value_serde = rill_serde_string()};
    rill_stream_to(updates, output, &produced);
    rill_error_t *error = NULL;
    rill_topology_t *topology = rill_builder_build(builder, &error);
    rill_builder_destroy(builder);
    if (!topology) {
        fprintf(stderr, "wordcount: building the topology: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_config_destroy(config);
        return 1;
    }

    int status = 0;
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (!app) {
        fprintf(stderr, "wordcount: %s\n", rill_error_message(error));
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
        fprintf(stderr, "wordcount: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr, "wordcount: counting the words of %s into %s\n", input, output);
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "wordcount: failed: %s\n", rill_error_message(rill_app_error(app)));
            status = 1;
        }
        rill_app_stats_t stats;
        rill_app_stats(app, &stats);
        fprintf(stderr, "wordcount: stopped: %llu records processed, %llu produced, %llu commits\n",
                (unsigned long long)stats.records_processed,
                (unsigned long long)stats.records_produced, (unsigned long long)stats.commits);
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
