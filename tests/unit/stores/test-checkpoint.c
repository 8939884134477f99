/* test-checkpoint.c: the .checkpoint file: round trip, atomic replacement, missing and corrupt files. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <glib.h>

#include "common/crc32c.h"
#include "stores/checkpoint.h"

static int setup(void **state)
{
    *state = g_dir_make_tmp("rill-test-cp-XXXXXX", NULL);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", (char *)*state);
    int rc = system(cmd);
    g_free(*state);
    return rc;
}

static char *cp_path(const char *dir)
{
    return g_build_filename(dir, RILL__CHECKPOINT_FILE, NULL);
}

static void write_file(const char *dir, const char *text, gssize len)
{
    g_autofree char *p = cp_path(dir);
    assert_true(g_file_set_contents(p, text, len, NULL));
}

/* A file with a correct checksum around body. */
static char *with_crc(const char *body)
{
    return g_strdup_printf("%scrc32c %08x\n", body, rill__crc32c(0, body, strlen(body)));
}

static void test_checkpoint__round_trip(void **state)
{
    const char *dir = *state;
    rill__checkpoint_t *cp = rill__checkpoint_new();
    assert_int_equal(rill__checkpoint_set(cp, "app-counts-changelog", 3, 1234567890123, NULL),
                     RILL_OK);
    assert_int_equal(rill__checkpoint_set(cp, "app-counts-changelog", 0, 0, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_set(cp, "app-other.store_x-changelog", 3, 7, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_set(cp, "app-counts-changelog", 3, 42, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_size(cp), 3);
    assert_int_equal(rill__checkpoint_write(cp, dir, NULL), RILL_OK);
    rill__checkpoint_destroy(cp);

    rill__checkpoint_t *back = NULL;
    assert_int_equal(rill__checkpoint_read(dir, &back, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_size(back), 3);
    int64_t off = -1;
    assert_true(rill__checkpoint_get(back, "app-counts-changelog", 3, &off));
    assert_int_equal(off, 42);
    assert_true(rill__checkpoint_get(back, "app-counts-changelog", 0, &off));
    assert_int_equal(off, 0);
    assert_true(rill__checkpoint_get(back, "app-other.store_x-changelog", 3, &off));
    assert_int_equal(off, 7);
    assert_false(rill__checkpoint_get(back, "app-counts-changelog", 1, &off));
    rill__checkpoint_remove(back, "app-counts-changelog", 0);
    assert_int_equal(rill__checkpoint_size(back), 2);
    rill__checkpoint_destroy(back);

    /* the file is readable text; no temp file is left behind */
    g_autofree char *p = cp_path(dir);
    g_autofree char *text = NULL;
    assert_true(g_file_get_contents(p, &text, NULL, NULL));
    assert_true(g_str_has_prefix(text, "rill-checkpoint 1\n3\napp-counts-changelog 0 0\n"));
    g_autofree char *tmp = g_strdup_printf("%s.tmp", p);
    assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
}

static void test_checkpoint__missing_file_is_empty(void **state)
{
    rill__checkpoint_t *cp = NULL;
    assert_int_equal(rill__checkpoint_read(*state, &cp, NULL), RILL_OK);
    assert_non_null(cp);
    assert_int_equal(rill__checkpoint_size(cp), 0);
    rill__checkpoint_destroy(cp);
    assert_int_equal(rill__checkpoint_delete(*state, NULL), RILL_OK); /* absent: fine */
}

static void test_checkpoint__empty_checkpoint_round_trips(void **state)
{
    rill__checkpoint_t *cp = rill__checkpoint_new();
    assert_int_equal(rill__checkpoint_write(cp, *state, NULL), RILL_OK);
    rill__checkpoint_destroy(cp);
    assert_int_equal(rill__checkpoint_read(*state, &cp, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_size(cp), 0);
    rill__checkpoint_destroy(cp);
}

static void expect_corrupt_len(const char *dir, const char *text, gssize len, const char *what)
{
    write_file(dir, text, len);
    rill__checkpoint_t *cp = (rill__checkpoint_t *)0x1;
    rill_error_t *err = NULL;
    assert_int_equal(rill__checkpoint_read(dir, &cp, &err), RILL_ERR_CORRUPT);
    assert_null(cp);
    assert_non_null(err);
    if (strstr(rill_error_message(err), what) == NULL)
        fail_msg("error '%s' does not mention '%s'", rill_error_message(err), what);
    assert_non_null(strstr(rill_error_message(err), ".checkpoint is corrupt"));
    rill_error_destroy(err);
}

static void expect_corrupt(const char *dir, const char *text, const char *what)
{
    expect_corrupt_len(dir, text, -1, what);
}

static void test_checkpoint__corrupt_files_are_rejected(void **state)
{
    const char *dir = *state;
    rill__checkpoint_t *cp = rill__checkpoint_new();
    assert_int_equal(rill__checkpoint_set(cp, "t", 0, 100, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_write(cp, dir, NULL), RILL_OK);
    rill__checkpoint_destroy(cp);
    g_autofree char *p = cp_path(dir);
    g_autofree char *good = NULL;
    assert_true(g_file_get_contents(p, &good, NULL, NULL));

    /* one flipped digit: the checksum catches it */
    g_autofree char *flipped = g_strdup(good);
    char *digit = strstr(flipped, "100");
    digit[0] = '9';
    expect_corrupt(dir, flipped, "checksum mismatch");
    /* torn writes */
    g_autofree char *torn = g_strndup(good, strlen(good) - 5);
    expect_corrupt(dir, torn, "truncated");
    expect_corrupt(dir, "", "truncated");
    g_autofree char *no_crc = g_strndup(good, (gsize)(strstr(good, "crc32c") - good));
    expect_corrupt(dir, no_crc, "checksum line");
    expect_corrupt(dir, "garbage\n", "checksum");
    /* well checksummed, but wrong inside */
    g_autofree char *hdr = with_crc("rill-checkpoint 9\n0\n");
    expect_corrupt(dir, hdr, "bad header");
    g_autofree char *count = with_crc("rill-checkpoint 1\n2\nt 0 1\n");
    expect_corrupt(dir, count, "entry count");
    g_autofree char *neg = with_crc("rill-checkpoint 1\n1\nt 0 -5\n");
    expect_corrupt(dir, neg, "bad partition or offset");
    g_autofree char *junk = with_crc("rill-checkpoint 1\n1\nt 0 12x\n");
    expect_corrupt(dir, junk, "bad partition or offset");
    g_autofree char *fields = with_crc("rill-checkpoint 1\n1\nt 0\n");
    expect_corrupt(dir, fields, "bad entry");
    g_autofree char *topic = with_crc("rill-checkpoint 1\n1\nt/x 0 1\n");
    expect_corrupt(dir, topic, "bad entry");
    g_autofree char *dup = with_crc("rill-checkpoint 1\n2\nt 0 1\nt 0 2\n");
    expect_corrupt(dir, dup, "duplicate");
    const char nul[] = "rill-checkpoint 1\n0\n\0crc32c 00000000\n";
    expect_corrupt_len(dir, nul, sizeof nul - 1, "NUL byte");

    /* after rejecting, a fresh write replaces the corrupt file */
    cp = rill__checkpoint_new();
    assert_int_equal(rill__checkpoint_set(cp, "t", 0, 5, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_write(cp, dir, NULL), RILL_OK);
    rill__checkpoint_destroy(cp);
    assert_int_equal(rill__checkpoint_read(dir, &cp, NULL), RILL_OK);
    int64_t off;
    assert_true(rill__checkpoint_get(cp, "t", 0, &off));
    assert_int_equal(off, 5);
    rill__checkpoint_destroy(cp);
}

static void test_checkpoint__write_replaces_atomically(void **state)
{
    const char *dir = *state;
    /* a stale temp file from a crash mid-write does not matter */
    g_autofree char *p = cp_path(dir);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", p);
    assert_true(g_file_set_contents(tmp, "half a fi", -1, NULL));
    rill__checkpoint_t *cp = rill__checkpoint_new();
    for (int round = 0; round < 50; round++) {
        assert_int_equal(rill__checkpoint_set(cp, "t", 0, round, NULL), RILL_OK);
        assert_int_equal(rill__checkpoint_write(cp, dir, NULL), RILL_OK);
        rill__checkpoint_t *back = NULL;
        assert_int_equal(rill__checkpoint_read(dir, &back, NULL), RILL_OK);
        int64_t off;
        assert_true(rill__checkpoint_get(back, "t", 0, &off));
        assert_int_equal(off, round);
        rill__checkpoint_destroy(back);
    }
    assert_false(g_file_test(tmp, G_FILE_TEST_EXISTS));
    /* a write into a missing directory fails and names it */
    rill_error_t *err = NULL;
    g_autofree char *nodir = g_build_filename(dir, "no", "such", NULL);
    assert_int_equal(rill__checkpoint_write(cp, nodir, &err), RILL_ERR_IO);
    assert_non_null(strstr(rill_error_message(err), "no/such"));
    rill_error_destroy(err);
    /* the old file is untouched by the failed write */
    rill__checkpoint_t *back = NULL;
    assert_int_equal(rill__checkpoint_read(dir, &back, NULL), RILL_OK);
    assert_int_equal(rill__checkpoint_size(back), 1);
    rill__checkpoint_destroy(back);
    rill__checkpoint_destroy(cp);
    assert_int_equal(rill__checkpoint_delete(dir, NULL), RILL_OK);
    assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
}

static void test_checkpoint__bad_entries_are_refused(void **state)
{
    rill__checkpoint_t *cp = rill__checkpoint_new();
    rill_error_t *err = NULL;
    assert_int_equal(rill__checkpoint_set(cp, "has space", 0, 1, &err), RILL_ERR_INVALID_ARG);
    rill_error_destroy(err);
    err = NULL;
    assert_int_equal(rill__checkpoint_set(cp, "", 0, 1, &err), RILL_ERR_INVALID_ARG);
    rill_error_destroy(err);
    err = NULL;
    assert_int_equal(rill__checkpoint_set(cp, "t", -1, 1, &err), RILL_ERR_INVALID_ARG);
    rill_error_destroy(err);
    err = NULL;
    assert_int_equal(rill__checkpoint_set(cp, "t", 0, -1, &err), RILL_ERR_INVALID_ARG);
    rill_error_destroy(err);
    assert_int_equal(rill__checkpoint_size(cp), 0);
    rill__checkpoint_destroy(cp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checkpoint__round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint__missing_file_is_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint__empty_checkpoint_round_trips, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint__corrupt_files_are_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint__write_replaces_atomically, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_checkpoint__bad_entries_are_refused, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
