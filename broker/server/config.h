/* config.h: rill-broker's configuration, with Apache Kafka's property names.
 *
 * Contract between server/config.c (the table, the parsing, --help) and
 * the rest of the broker. Values come from, in increasing priority: the
 * table's defaults, a server.properties-style file (`--config FILE`, or a
 * first positional argument like Kafka's `kafka-server-start.sh FILE`), and
 * `--key=value` flags. Unknown keys and bad values are errors that name the key.
 *
 * Readers use typed accessors by name; asking for a name that is not in the
 * table is a programming error (asserted). Kafka's families of keys are
 * resolved by the accessors, so read one name: log.retention.ms (from .ms,
 * .minutes or .hours; -1 = unlimited), log.roll.ms (from .ms or .hours),
 * log.dirs (or log.dir), node.id (or broker.id; default 0). Every key the broker reads is
 * in the table, which is also what `--help` prints and what docs/ generates
 * the configuration reference from. */
#ifndef RB_CONFIG_H
#define RB_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rb_config rb_config_t;

/* Parses argv (argv[0] is the program). On error returns NULL and sets *errmsg
 * (g_free it). Sets *want_help when --help/-h was given. */
rb_config_t *rb_config_from_args(int argc, char **argv, bool *want_help, char **errmsg);
/* A config with only the defaults (for tests), then set keys one by one. */
rb_config_t *rb_config_new_defaults(void);
/* Sets key=value, validating it. Returns false and sets *errmsg on error. */
bool rb_config_set(rb_config_t *config, const char *key, const char *value, char **errmsg);
void rb_config_free(rb_config_t *config);

int64_t rb_config_int(const rb_config_t *config, const char *key);
bool rb_config_bool(const rb_config_t *config, const char *key);
const char *rb_config_str(const rb_config_t *config, const char *key); /* borrowed */
bool rb_config_is_default(const rb_config_t *config, const char *key);

/* Prints usage and the table (name, type, default, description) to out. */
void rb_config_print_help(FILE *out);

/* Splits a listener value "PLAINTEXT://host:port" ("[v6addr]" for IPv6; an
 * empty host means every address). Only PLAINTEXT and one listener are
 * supported. host: (transfer full) g_free it; host/port may be NULL. Returns
 * false and sets *errmsg (g_free it) on a malformed value. */
bool rb_config_parse_listener(const char *value, char **host, int *port, char **errmsg);

/* Prints the table as a Markdown reference (docs/broker-config.md). */
void rb_config_print_markdown(FILE *out);

/* Logs (INFO, one line each) every key that was set explicitly. */
void rb_config_log_overrides(const rb_config_t *config);

#endif /* RB_CONFIG_H */
