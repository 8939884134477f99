/* kafka-private.h: helpers shared by the files of runtime/kafka/ (these may
 * use librdkafka types; nothing outside runtime/kafka/ includes this). */
#ifndef RILL_RUNTIME_KAFKA_PRIVATE_H
#define RILL_RUNTIME_KAFKA_PRIVATE_H

#include <librdkafka/rdkafka.h>

#include "runtime/kafka/kafka.h"

/* The librdkafka configuration of a client of kind (transfer full), with
 * rill's defaults, then the user's keys, then what rill owns. */
rd_kafka_conf_t *rill__kafka_conf_new(const rill_config_t *config, rill__client_kind_t kind,
                                      const char *client_id, rill_error_t **error);

/* "<client.id or application.id>-StreamThread-<index+1>-<role>", or
 * "<...>-<role>" for index -1. (transfer full, g_free) */
char *rill__kafka_client_id(const rill_config_t *config, const char *role, int index);

/* The consumer's librdkafka handle (borrowed: the producer asks it for the
 * group metadata that send_offsets_to_transaction needs). */
rd_kafka_t *rill__kconsumer_rk(rill__kconsumer_t *consumer);

#endif /* RILL_RUNTIME_KAFKA_PRIVATE_H */
