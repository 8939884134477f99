/* rill/config.h: the configuration of a rill app, with Kafka Streams' names.
 *
 * A rill_config_t is a set of string key/value pairs, checked as they are set:
 * a key rill does not know, or a value of the wrong form, is refused with an
 * error that names the key, the value and what is expected. The keys are
 * those of Kafka Streams (application.id, bootstrap.servers,
 * num.stream.threads, commit.interval.ms, processing.guarantee, state.dir,
 * default.key.serde, ...; rill_config_describe() lists them all). Keys that
 * start with `consumer.`, `producer.` or `admin.` go, without the prefix, to
 * the librdkafka client of that kind, and are checked by librdkafka when set;
 * a librdkafka property without a prefix goes to all three clients.
 *
 *     rill_config_t *config = rill_config_new();
 *     rill_config_set(config, "application.id", "my-app", &error);
 *     rill_config_set(config, "bootstrap.servers", "127.0.0.1:9092", &error);
 *     rill_config_set(config, "consumer.fetch.max.bytes", "1048576", &error);
 *
 * Thread: a config is not shared between threads while it is changed. */
#ifndef RILL_CONFIG_H
#define RILL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <rill/error.h>
#include <rill/export.h>

RILL_BEGIN_DECLS

typedef struct rill_config rill_config_t;

/* The keys rill itself reads (Kafka Streams' names). */
#define RILL_CONFIG_APPLICATION_ID "application.id"
#define RILL_CONFIG_BOOTSTRAP_SERVERS "bootstrap.servers"
#define RILL_CONFIG_CLIENT_ID "client.id"
#define RILL_CONFIG_NUM_STREAM_THREADS "num.stream.threads"
#define RILL_CONFIG_COMMIT_INTERVAL_MS "commit.interval.ms"
#define RILL_CONFIG_PROCESSING_GUARANTEE "processing.guarantee"
#define RILL_CONFIG_STATE_DIR "state.dir"
#define RILL_CONFIG_POLL_MS "poll.ms"
#define RILL_CONFIG_REPLICATION_FACTOR "replication.factor"
#define RILL_CONFIG_CACHE_MAX_BYTES "statestore.cache.max.bytes"
#define RILL_CONFIG_NUM_STANDBY_REPLICAS "num.standby.replicas"
#define RILL_CONFIG_DEFAULT_KEY_SERDE "default.key.serde"
#define RILL_CONFIG_DEFAULT_VALUE_SERDE "default.value.serde"
#define RILL_CONFIG_TIMESTAMP_EXTRACTOR "default.timestamp.extractor"
#define RILL_CONFIG_DESERIALIZATION_HANDLER "default.deserialization.exception.handler"
#define RILL_CONFIG_PRODUCTION_HANDLER "default.production.exception.handler"
#define RILL_CONFIG_PROCESSING_HANDLER "processing.exception.handler"
/* KIP-1034: with it set, the LogAndContinue handlers send the failed input
 * record there (with rill.error* headers) instead of only logging it. */
#define RILL_CONFIG_DEAD_LETTER_TOPIC "errors.dead.letter.queue.topic.name"
#define RILL_CONFIG_INPUT_BUFFER_MAX_BYTES "input.buffer.max.bytes"
/* HOST:PORT where the app serves Prometheus metrics at GET /metrics (port 0:
 * any free port, see rill_app_metrics_port()); unset: no metrics endpoint. */
#define RILL_CONFIG_METRICS_LISTENER "metrics.listener"
/* host:port where this instance answers queries of its state (rill/query.h) */
#define RILL_CONFIG_APPLICATION_SERVER "application.server"

/* A new config holding only defaults (transfer full; rill_config_destroy). */
RILL_EXPORT rill_config_t *rill_config_new(void);

/* A deep copy (transfer full), or NULL for NULL. */
RILL_EXPORT rill_config_t *rill_config_copy(const rill_config_t *config);

/* Frees config; NULL is a no-op. */
RILL_EXPORT void rill_config_destroy(rill_config_t *config);

/* Sets key to value (both copied). On a bad key or value returns
 * RILL_ERR_INVALID_CONFIG with a message that says why, and config is
 * unchanged. */
RILL_EXPORT rill_err_t rill_config_set(rill_config_t *config, const char *key, const char *value,
                                       rill_error_t **error);

/* Sets "key=value" (as on a command line or in a properties file line). */
RILL_EXPORT rill_err_t rill_config_set_string(rill_config_t *config, const char *key_eq_value,
                                              rill_error_t **error);

/* The value of key: what was set, else the default, else NULL.
 * (transfer none: valid until key is set again or config is destroyed) */
RILL_EXPORT const char *rill_config_get(const rill_config_t *config, const char *key);

/* Checks that the config is complete (application.id and bootstrap.servers
 * set, values consistent with each other). rill_app_new() calls it. */
RILL_EXPORT rill_err_t rill_config_validate(const rill_config_t *config, rill_error_t **error);

/* Calls fn for each key rill knows, with its default (NULL if none) and a
 * one-line description, in a stable order (for --help and the docs). */
RILL_EXPORT void rill_config_describe(void (*fn)(void *ud, const char *key, const char *default_value,
                                                 const char *description),
                                      void *ud);

RILL_END_DECLS

#endif /* RILL_CONFIG_H */
