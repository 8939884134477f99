/* test-config.c: rill_config_t: Kafka Streams' keys with defaults, values
 * checked when set with errors that say why, and the librdkafka pass-through. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include <rill/rill.h>

#include "runtime/config-private.h"

/* Sets key=value, expects failure, returns the message (static copy). */
static const char *refused(rill_config_t *config, const char *key, const char *value)
{
    static char msg[1024];
    rill_error_t *error = NULL;
    assert_int_equal(rill_config_set(config, key, value, &error), RILL_ERR_INVALID_CONFIG);
    assert_non_null(error);
    assert_int_equal(rill_error_code(error), RILL_ERR_INVALID_CONFIG);
    g_strlcpy(msg, rill_error_message(error), sizeof(msg));
    rill_error_destroy(error);
    return msg;
}

static void set_ok(rill_config_t *config, const char *key, const char *value)
{
    rill_error_t *error = NULL;
    rill_err_t rc = rill_config_set(config, key, value, &error);
    if (rc)
        fail_msg("%s=%s refused: %s", key, value, rill_error_message(error));
    assert_null(error);
}

static void test_config__defaults_are_kafka_streams_ones(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    assert_string_equal(rill_config_get(config, "num.stream.threads"), "1");
    assert_string_equal(rill_config_get(config, "commit.interval.ms"), "30000");
    assert_string_equal(rill_config_get(config, "processing.guarantee"), "at_least_once");
    assert_string_equal(rill_config_get(config, "default.timestamp.extractor"),
                        "FailOnInvalidTimestamp");
    assert_null(rill_config_get(config, "application.id"));
    assert_null(rill_config_get(config, "consumer.fetch.max.bytes"));
    assert_int_equal(rill__config_int(config, RILL_CONFIG_COMMIT_INTERVAL_MS), 30000);
    rill_config_destroy(config);
}

static void test_config__set_and_get(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    set_ok(config, "application.id", "orders-app_1.v2");
    set_ok(config, "bootstrap.servers", "127.0.0.1:9092");
    set_ok(config, "num.stream.threads", "4");
    set_ok(config, "commit.interval.ms", "100");
    set_ok(config, "default.value.serde", "json");
    assert_string_equal(rill_config_get(config, "application.id"), "orders-app_1.v2");
    assert_int_equal(rill__config_int(config, "num.stream.threads"), 4);
    assert_int_equal(rill__config_int(config, "commit.interval.ms"), 100);
    rill_error_t *error = NULL;
    assert_int_equal(rill_config_set_string(config, "poll.ms=50", &error), RILL_OK);
    assert_int_equal(rill__config_int(config, "poll.ms"), 50);
    assert_int_equal(rill_config_validate(config, &error), RILL_OK);
    rill_config_t *copy = rill_config_copy(config);
    rill_config_destroy(config);
    assert_string_equal(rill_config_get(copy, "default.value.serde"), "json");
    rill_config_destroy(copy);
}

static void test_config__bad_values_say_why(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    const char *msg = refused(config, "num.stream.threads", "two");
    assert_non_null(strstr(msg, "num.stream.threads"));
    assert_non_null(strstr(msg, "not an integer"));
    msg = refused(config, "num.stream.threads", "0");
    assert_non_null(strstr(msg, "out of range [1, 256]"));
    msg = refused(config, "commit.interval.ms", "-5");
    assert_non_null(strstr(msg, "out of range"));
    msg = refused(config, "commit.interval.ms", "10x");
    assert_non_null(strstr(msg, "not an integer"));
    msg = refused(config, "application.id", "my app");
    assert_non_null(strstr(msg, "letters, digits"));
    msg = refused(config, "application.id", "");
    msg = refused(config, "processing.guarantee", "exactly_once");
    assert_non_null(strstr(msg, "exactly_once_v2"));
    msg = refused(config, "processing.guarantee", "at-least-once");
    assert_non_null(strstr(msg, "at_least_once"));
    msg = refused(config, "default.key.serde", "avro");
    assert_non_null(strstr(msg, "not one of"));
    msg = refused(config, "num.standby.replicas", "1");
    assert_non_null(strstr(msg, "not supported"));
    /* a refused value leaves the old one */
    assert_string_equal(rill_config_get(config, "num.stream.threads"), "1");
    rill_config_destroy(config);
}

static void test_config__unknown_keys_are_refused_with_a_hint(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    const char *msg = refused(config, "num.stream.thread", "2");
    assert_non_null(strstr(msg, "did you mean \"num.stream.threads\""));
    msg = refused(config, "no.such.key.anywhere", "1");
    assert_non_null(strstr(msg, "unknown configuration key"));
    msg = refused(config, "consumer.no.such.property", "1");
    assert_non_null(strstr(msg, "consumer.no.such.property"));
    msg = refused(config, "producer.", "1");
    assert_non_null(strstr(msg, "needs a librdkafka property"));
    rill_error_t *error = NULL;
    assert_int_equal(rill_config_set_string(config, "no-equals-sign", &error),
                     RILL_ERR_INVALID_CONFIG);
    rill_error_destroy(error);
    rill_config_destroy(config);
}

static void test_config__pass_through_is_checked_by_librdkafka(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    set_ok(config, "consumer.fetch.max.bytes", "1048576");
    set_ok(config, "producer.linger.ms", "20");
    set_ok(config, "admin.socket.timeout.ms", "5000");
    set_ok(config, "security.protocol", "plaintext");
    const char *msg = refused(config, "producer.linger.ms", "soon");
    assert_non_null(strstr(msg, "producer.linger.ms"));
    assert_non_null(strstr(msg, "librdkafka refuses"));
    msg = refused(config, "producer.compression.type", "brotli");
    assert_non_null(strstr(msg, "compression.type"));
    /* what rill manages is not the user's to set */
    msg = refused(config, "consumer.enable.auto.commit", "true");
    assert_non_null(strstr(msg, "rill sets enable.auto.commit itself"));
    msg = refused(config, "group.id", "other");
    assert_non_null(strstr(msg, "group.id"));
    msg = refused(config, "consumer.partition.assignment.strategy", "cooperative-sticky");
    assert_non_null(strstr(msg, "co-partitioned"));
    assert_string_equal(rill__config_client_value(config, RILL__CLIENT_PRODUCER, "linger.ms"),
                        "20");
    assert_null(rill__config_client_value(config, RILL__CLIENT_CONSUMER, "linger.ms"));
    assert_string_equal(
        rill__config_client_value(config, RILL__CLIENT_ADMIN, "security.protocol"), "plaintext");
    rill_config_destroy(config);
}

typedef struct seen {
    GString *text;
} seen_t;

static void collect(void *ud, const char *key, const char *value)
{
    seen_t *seen = ud;
    g_string_append_printf(seen->text, "%s=%s;", key, value);
}

static void test_config__client_keys_unprefixed_first_then_prefixed(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    set_ok(config, "application.id", "a");
    set_ok(config, "socket.timeout.ms", "7000");
    set_ok(config, "consumer.socket.timeout.ms", "8000");
    set_ok(config, "producer.acks", "1");
    seen_t seen = {g_string_new(NULL)};
    rill__config_foreach_client(config, RILL__CLIENT_CONSUMER, collect, &seen);
    assert_string_equal(seen.text->str, "socket.timeout.ms=7000;socket.timeout.ms=8000;");
    g_string_truncate(seen.text, 0);
    rill__config_foreach_client(config, RILL__CLIENT_PRODUCER, collect, &seen);
    assert_string_equal(seen.text->str, "socket.timeout.ms=7000;acks=1;");
    g_string_free(seen.text, TRUE);
    rill_config_destroy(config);
}

static void test_config__validate_needs_id_and_servers(void **state)
{
    (void)state;
    rill_config_t *config = rill_config_new();
    rill_error_t *error = NULL;
    assert_int_equal(rill_config_validate(config, &error), RILL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(rill_error_message(error), "application.id"));
    rill_error_destroy(error);
    error = NULL;
    set_ok(config, "application.id", "a");
    assert_int_equal(rill_config_validate(config, &error), RILL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(rill_error_message(error), "bootstrap.servers"));
    rill_error_destroy(error);
    error = NULL;
    set_ok(config, "bootstrap.servers", "127.0.0.1:1");
    set_ok(config, "processing.guarantee", "exactly_once_v2");
    assert_int_equal(rill_config_validate(config, &error), RILL_OK);
    assert_null(error);
    /* Kafka Streams' default commit interval under exactly-once, unless set */
    assert_int_equal(rill__config_int(config, "commit.interval.ms"), 100);
    set_ok(config, "commit.interval.ms", "250");
    assert_int_equal(rill__config_int(config, "commit.interval.ms"), 250);
    set_ok(config, "processing.guarantee", "at_least_once");
    assert_int_equal(rill__config_int(config, "commit.interval.ms"), 250);
    /* each thread's transactional.id is rill's */
    const char *msg = refused(config, "producer.transactional.id", "mine");
    assert_non_null(strstr(msg, "exactly_once_v2"));
    msg = refused(config, "transactional.id", "mine");
    assert_non_null(strstr(msg, "transactional.id"));
    rill_config_destroy(config);
}

static void count_key(void *ud, const char *key, const char *def, const char *description)
{
    (void)def;
    assert_non_null(key);
    assert_true(strlen(description) > 10);
    (*(int *)ud)++;
}

static void test_config__describe_lists_every_key(void **state)
{
    (void)state;
    int n = 0;
    rill_config_describe(count_key, &n);
    assert_true(n >= 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config__defaults_are_kafka_streams_ones),
        cmocka_unit_test(test_config__set_and_get),
        cmocka_unit_test(test_config__bad_values_say_why),
        cmocka_unit_test(test_config__unknown_keys_are_refused_with_a_hint),
        cmocka_unit_test(test_config__pass_through_is_checked_by_librdkafka),
        cmocka_unit_test(test_config__client_keys_unprefixed_first_then_prefixed),
        cmocka_unit_test(test_config__validate_needs_id_and_servers),
        cmocka_unit_test(test_config__describe_lists_every_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
