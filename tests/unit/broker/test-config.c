/* test-config.c: unit tests of broker/server/config.c (table, file, flags, precedence). */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "broker/server/config.h"

static char *write_tmp(const char *contents)
{
    char *path = NULL;
    int fd = g_file_open_tmp("rill-test-config-XXXXXX.properties", &path, NULL);
    assert_true(fd >= 0);
    close(fd);
    assert_true(g_file_set_contents(path, contents, -1, NULL));
    return path;
}

/* Runs rb_config_from_args on a NULL-terminated list of arguments. */
static rb_config_t *from_args(char **errmsg, bool *help, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, "rill-broker");
    va_list ap;
    va_start(ap, help);
    for (char *a = va_arg(ap, char *); a != NULL; a = va_arg(ap, char *))
        g_ptr_array_add(argv, a);
    va_end(ap);
    bool want_help = false;
    *errmsg = NULL;
    rb_config_t *config = rb_config_from_args((int)argv->len, (char **)argv->pdata, &want_help,
                                              errmsg);
    if (help != NULL)
        *help = want_help;
    g_ptr_array_free(argv, TRUE);
    return config;
}

static void test_config__defaults(void **state)
{
    rb_config_t *config = rb_config_new_defaults();
    assert_string_equal(rb_config_str(config, "listeners"), "PLAINTEXT://127.0.0.1:9092");
    assert_null(rb_config_str(config, "advertised.listeners"));
    assert_string_equal(rb_config_str(config, "log.dirs"), "/tmp/rill-broker-logs");
    assert_int_equal(rb_config_int(config, "num.partitions"), 1);
    assert_true(rb_config_bool(config, "auto.create.topics.enable"));
    assert_int_equal(rb_config_int(config, "log.segment.bytes"), 1073741824);
    assert_int_equal(rb_config_int(config, "log.retention.ms"), 168LL * 3600 * 1000);
    assert_int_equal(rb_config_int(config, "log.roll.ms"), 168LL * 3600 * 1000);
    assert_int_equal(rb_config_int(config, "log.retention.bytes"), -1);
    assert_int_equal(rb_config_int(config, "log.retention.check.interval.ms"), 300000);
    assert_int_equal(rb_config_int(config, "log.flush.interval.messages"), INT64_MAX);
    assert_int_equal(rb_config_int(config, "log.flush.interval.ms"), 1000);
    assert_false(rb_config_bool(config, "log.flush.on.ack"));
    assert_int_equal(rb_config_int(config, "log.index.interval.bytes"), 4096);
    assert_int_equal(rb_config_int(config, "message.max.bytes"), 1048588);
    assert_int_equal(rb_config_int(config, "socket.request.max.bytes"), 104857600);
    assert_true(rb_config_bool(config, "delete.topic.enable"));
    assert_string_equal(rb_config_str(config, "log.cleanup.policy"), "delete");
    assert_string_equal(rb_config_str(config, "log.message.timestamp.type"), "CreateTime");
    assert_int_equal(rb_config_int(config, "node.id"), 0);
    assert_string_equal(rb_config_str(config, "log.level"), "info");
    assert_null(rb_config_str(config, "port.file"));
    assert_true(rb_config_is_default(config, "log.retention.ms"));
    assert_true(rb_config_is_default(config, "listeners"));
    rb_config_free(config);
    rb_config_free(NULL);
}

static void set_ok(rb_config_t *config, const char *key, const char *value)
{
    char *err = NULL;
    if (!rb_config_set(config, key, value, &err))
        fail_msg("setting %s=%s: %s", key, value, err);
}

static void test_config__kafka_precedence(void **state)
{
    rb_config_t *config = rb_config_new_defaults();
    set_ok(config, "log.retention.hours", "2");
    assert_int_equal(rb_config_int(config, "log.retention.ms"), 2 * 3600000);
    assert_false(rb_config_is_default(config, "log.retention.ms"));
    set_ok(config, "log.retention.minutes", "3");
    assert_int_equal(rb_config_int(config, "log.retention.ms"), 3 * 60000);
    set_ok(config, "log.retention.ms", "1234");
    assert_int_equal(rb_config_int(config, "log.retention.ms"), 1234);
    set_ok(config, "log.retention.ms", "-1");
    assert_int_equal(rb_config_int(config, "log.retention.ms"), -1);
    rb_config_free(config);

    config = rb_config_new_defaults();
    set_ok(config, "log.retention.hours", "-1");
    assert_int_equal(rb_config_int(config, "log.retention.ms"), -1);
    set_ok(config, "log.roll.hours", "1");
    assert_int_equal(rb_config_int(config, "log.roll.ms"), 3600000);
    set_ok(config, "log.roll.ms", "500");
    assert_int_equal(rb_config_int(config, "log.roll.ms"), 500);
    set_ok(config, "log.dir", "/a");
    assert_string_equal(rb_config_str(config, "log.dirs"), "/a");
    assert_false(rb_config_is_default(config, "log.dirs"));
    set_ok(config, "log.dirs", "/b");
    assert_string_equal(rb_config_str(config, "log.dirs"), "/b");
    set_ok(config, "broker.id", "7");
    assert_int_equal(rb_config_int(config, "node.id"), 7);
    set_ok(config, "node.id", "3");
    assert_int_equal(rb_config_int(config, "node.id"), 3);
    set_ok(config, "log.cleanup.policy", "compact, delete");
    set_ok(config, "log.message.timestamp.type", "LogAppendTime");
    set_ok(config, "log.flush.on.ack", "TRUE");
    assert_true(rb_config_bool(config, "log.flush.on.ack"));
    set_ok(config, "listeners", "PLAINTEXT://:0");
    set_ok(config, "zookeeper.connect", "localhost:2181"); /* compat */
    rb_config_free(config);
}

static void expect_error(const char *key, const char *value, const char *needle)
{
    rb_config_t *config = rb_config_new_defaults();
    char *err = NULL;
    assert_false(rb_config_set(config, key, value, &err));
    assert_non_null(err);
    if (strstr(err, needle) == NULL)
        fail_msg("error '%s' does not mention '%s'", err, needle);
    g_free(err);
    rb_config_free(config);
}

static void test_config__bad_values_name_the_key(void **state)
{
    expect_error("no.such.key", "1", "no.such.key");
    expect_error("num.partitions", "abc", "num.partitions");
    expect_error("num.partitions", "0", "num.partitions");
    expect_error("num.partitions", "1x", "num.partitions");
    expect_error("num.partitions", "", "num.partitions");
    expect_error("log.segment.bytes", "99999999999", "log.segment.bytes");
    expect_error("auto.create.topics.enable", "yes", "auto.create.topics.enable");
    expect_error("log.message.timestamp.type", "createtime", "log.message.timestamp.type");
    expect_error("log.cleanup.policy", "delete,shred", "log.cleanup.policy");
    expect_error("listeners", "127.0.0.1:9092", "listeners");
    expect_error("listeners", "SSL://127.0.0.1:9093", "PLAINTEXT");
    expect_error("listeners", "PLAINTEXT://h:1,PLAINTEXT://h:2", "one listener");
    expect_error("listeners", "PLAINTEXT://h:70000", "port");
    expect_error("listeners", "PLAINTEXT://h", "port");
    expect_error("log.level", "loud", "log.level");
    expect_error("log.dirs", "/a,/b", "log.dirs");
    expect_error("default.replication.factor", "3", "default.replication.factor");
}

static void test_config__parse_listener(void **state)
{
    char *host = NULL, *err = NULL;
    int port = -1;
    assert_true(rb_config_parse_listener("PLAINTEXT://127.0.0.1:9092", &host, &port, &err));
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 9092);
    g_free(host);
    assert_true(rb_config_parse_listener("PLAINTEXT://:0", &host, &port, &err));
    assert_string_equal(host, "");
    assert_int_equal(port, 0);
    g_free(host);
    assert_true(rb_config_parse_listener("PLAINTEXT://[::1]:19092", &host, &port, &err));
    assert_string_equal(host, "::1");
    assert_int_equal(port, 19092);
    g_free(host);
    assert_false(rb_config_parse_listener("PLAINTEXT://[::1]19092", &host, &port, &err));
    g_free(err);
}

static void test_config__properties_file(void **state)
{
    char *path = write_tmp("# a comment\n"
                           "! another comment\n"
                           "\n"
                           "num.partitions=6\r\n"
                           "   log.dirs : /data/rill\n"
                           "log.cleanup.policy compact\n"
                           "log.retention.minutes = \\\n"
                           "    15\n"
                           "cluster.id=a\\u0062c\\tx\n"
                           "node.id=4");
    char *err = NULL;
    rb_config_t *config = from_args(&err, NULL, path, NULL);
    if (config == NULL)
        fail_msg("%s", err);
    assert_int_equal(rb_config_int(config, "num.partitions"), 6);
    assert_string_equal(rb_config_str(config, "log.dirs"), "/data/rill");
    assert_string_equal(rb_config_str(config, "log.cleanup.policy"), "compact");
    assert_int_equal(rb_config_int(config, "log.retention.ms"), 15 * 60000);
    assert_string_equal(rb_config_str(config, "cluster.id"), "abc\tx");
    assert_int_equal(rb_config_int(config, "node.id"), 4);
    rb_config_free(config);

    /* flags win over the file whatever their order; --config and --override */
    config = from_args(&err, NULL, "--num.partitions=2", "--config", path, "--override",
                       "node.id=9", NULL);
    if (config == NULL)
        fail_msg("%s", err);
    assert_int_equal(rb_config_int(config, "num.partitions"), 2);
    assert_int_equal(rb_config_int(config, "node.id"), 9);
    assert_string_equal(rb_config_str(config, "log.dirs"), "/data/rill");
    rb_config_free(config);
    g_unlink(path);
    g_free(path);

    /* an error in a file names the file, the line and the key */
    path = write_tmp("num.partitions=1\n\nlog.segment.bytes=big\n");
    config = from_args(&err, NULL, "--config=x", NULL);
    assert_null(config);
    assert_non_null(strstr(err, "cannot read"));
    g_free(err);
    config = from_args(&err, NULL, "--config", path, NULL);
    assert_null(config);
    g_autofree char *where = g_strdup_printf("%s:3", path);
    if (strstr(err, where) == NULL || strstr(err, "log.segment.bytes") == NULL)
        fail_msg("error '%s' does not name %s and the key", err, where);
    g_free(err);
    g_unlink(path);
    g_free(path);
}

static void test_config__command_line(void **state)
{
    char *err = NULL;
    bool help = false;
    rb_config_t *config = from_args(&err, &help, "--listeners=PLAINTEXT://127.0.0.1:0",
                                    "--port.file=/tmp/p", "--log.level=debug", NULL);
    assert_non_null(config);
    assert_false(help);
    assert_string_equal(rb_config_str(config, "port.file"), "/tmp/p");
    assert_false(rb_config_is_default(config, "listeners"));
    rb_config_free(config);

    assert_null(from_args(&err, &help, "--help", NULL));
    assert_true(help);
    assert_null(err);

    const char *bad[][2] = {
        {"--num.partitions", "num.partitions"},   /* no value */
        {"--bogus=1", "bogus"},                   /* unknown key */
        {"-x", "-x"},                             /* unknown option */
        {"--num.partitions=-3", "num.partitions"},/* bad value */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_null(from_args(&err, &help, bad[i][0], NULL));
        assert_non_null(err);
        if (strstr(err, bad[i][1]) == NULL)
            fail_msg("error '%s' does not mention '%s'", err, bad[i][1]);
        g_free(err);
    }
    assert_null(from_args(&err, &help, "a.properties", "b.properties", NULL));
    assert_non_null(strstr(err, "more than one"));
    g_free(err);
}

static void test_config__help_lists_the_table(void **state)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    rb_config_print_help(out);
    fclose(out);
    const char *keys[] = {"listeners", "advertised.listeners", "log.dirs", "log.dir",
                          "num.partitions", "log.retention.ms", "log.flush.on.ack",
                          "socket.request.max.bytes", "port.file", "log.level", "node.id"};
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
        g_autofree char *needle = g_strdup_printf("\n  %s  (", keys[i]);
        if (strstr(buf, needle) == NULL)
            fail_msg("--help does not list %s", keys[i]);
    }
    assert_non_null(strstr(buf, "Usage: rill-broker"));
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config__defaults),
        cmocka_unit_test(test_config__kafka_precedence),
        cmocka_unit_test(test_config__bad_values_name_the_key),
        cmocka_unit_test(test_config__parse_listener),
        cmocka_unit_test(test_config__properties_file),
        cmocka_unit_test(test_config__command_line),
        cmocka_unit_test(test_config__help_lists_the_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
