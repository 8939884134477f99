/* config-private.h: what the app and the stream threads read from a
 * rill_config_t (parsed values, and the librdkafka pass-through). */
#ifndef RILL_RUNTIME_CONFIG_PRIVATE_H
#define RILL_RUNTIME_CONFIG_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rill/config.h>

/* The kinds of librdkafka client a pass-through key can address. */
typedef enum rill__client_kind {
    RILL__CLIENT_CONSUMER,
    RILL__CLIENT_PRODUCER,
    RILL__CLIENT_ADMIN,
} rill__client_kind_t;

/* The parsed value of a numeric key rill knows (its default when unset;
 * commit.interval.ms defaults to 100 under exactly_once_v2).
 * The key must be one of rill's integer keys (asserted). */
int64_t rill__config_int(const rill_config_t *config, const char *key);

/* Whether processing.guarantee is exactly_once_v2 (transactional producers,
 * read_committed consumers, offsets committed in the transaction). */
bool rill__config_exactly_once(const rill_config_t *config);

/* Calls fn for each librdkafka property meant for a client of that kind:
 * first the unprefixed ones (for all clients), then `<kind>.`-prefixed ones
 * with the prefix removed, so that the prefixed value wins when librdkafka
 * applies them in order. */
void rill__config_foreach_client(const rill_config_t *config, rill__client_kind_t kind,
                                 void (*fn)(void *ud, const char *key, const char *value),
                                 void *ud);

/* The value given for a librdkafka property of a client kind (prefixed
 * first, then unprefixed), or NULL: lets rill keep its own defaults only
 * where the user set nothing. */
const char *rill__config_client_value(const rill_config_t *config, rill__client_kind_t kind,
                                      const char *key);

/* Prints the table of keys rill knows (type, default, range or values,
 * description) as a Markdown table: docs/app-config.md is made of it. */
void rill__config_print_markdown(FILE *out);

#endif /* RILL_RUNTIME_CONFIG_PRIVATE_H */
