/* test-error.c: the error model's rules (GError's): optional, first wins, owned by the caller. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rill/rill.h>

#include "common/log.h"

static void test_error__set_and_read(void **state)
{
    rill_error_t *err = NULL;
    assert_int_equal(rill_error_set(&err, RILL_ERR_IO, "open %s: %s", "x", "denied"),
                     RILL_ERR_IO);
    assert_non_null(err);
    assert_int_equal(rill_error_code(err), RILL_ERR_IO);
    assert_string_equal(rill_error_message(err), "open x: denied");
    assert_false(rill_error_is_retriable(err));
    rill_error_prefix(&err, "loading %s: ", "store");
    assert_string_equal(rill_error_message(err), "loading store: open x: denied");
    rill_error_destroy(err);
}

static void test_error__first_error_wins_and_null_is_fine(void **state)
{
    rill_error_t *err = NULL;
    rill_error_set_full(&err, RILL_ERR_KAFKA, 47, RILL_ERROR_FATAL | RILL_ERROR_ABORT_TXN,
                        "fenced");
    rill_error_set(&err, RILL_ERR_IO, "second");
    assert_int_equal(rill_error_code(err), RILL_ERR_KAFKA);
    assert_int_equal(rill_error_kafka_code(err), 47);
    assert_true(rill_error_is_fatal(err));
    assert_true(rill_error_txn_requires_abort(err));
    rill_error_t *copy = rill_error_copy(err);
    rill_error_destroy(err);
    assert_string_equal(rill_error_message(copy), "fenced");
    rill_error_destroy(copy);

    assert_int_equal(rill_error_set(NULL, RILL_ERR_TIMEOUT, "nobody listens"), RILL_ERR_TIMEOUT);
    rill_error_destroy(NULL);
    assert_int_equal(rill_error_code(NULL), RILL_OK);
}

static void test_error__names(void **state)
{
    assert_string_equal(rill_err_name(RILL_OK), "RILL_OK");
    assert_string_equal(rill_err_name(RILL_ERR_INVALID_CONFIG), "RILL_ERR_INVALID_CONFIG");
    assert_string_equal(rill_err_name((rill_err_t)9999), "RILL_ERR_UNKNOWN");
    for (int code = 0; code < RILL_ERR__COUNT; code++)
        assert_non_null(strstr(rill_err_name((rill_err_t)code), "RILL_"));
}

static void test_log__level_parse(void **state)
{
    assert_int_equal(rill__log_level_parse("DEBUG"), RILL_LOG_LVL_DEBUG);
    assert_int_equal(rill__log_level_parse("warning"), RILL_LOG_LVL_WARN);
    assert_int_equal(rill__log_level_parse("loud"), -1);
    assert_int_equal(rill__log_level_parse(NULL), -1);
    rill__log_set_level(RILL_LOG_LVL_WARN);
    assert_false(RILL_LOG_ENABLED(RILL_LOG_LVL_INFO));
    assert_true(RILL_LOG_ENABLED(RILL_LOG_LVL_ERROR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error__set_and_read),
        cmocka_unit_test(test_error__first_error_wins_and_null_is_fine),
        cmocka_unit_test(test_error__names),
        cmocka_unit_test(test_log__level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
