# unit tests of stores/: one cmocka program per module.
stores_unit_tests = \
	tests/unit/stores/test-kv \
	tests/unit/stores/test-kv-rocksdb \
	tests/unit/stores/test-layers \
	tests/unit/stores/test-checkpoint \
	tests/unit/stores/test-restore
check_PROGRAMS += $(stores_unit_tests)
TESTS += $(stores_unit_tests)

STORES_TEST_CFLAGS = $(UNIT_CFLAGS) $(ROCKSDB_CFLAGS)
STORES_TEST_LIBS = libstores.la libcommon.la $(ROCKSDB_LIBS) $(UNIT_LIBS)
tests_unit_stores_test_kv_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_kv_LDADD = $(STORES_TEST_LIBS)
tests_unit_stores_test_kv_rocksdb_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_kv_rocksdb_LDADD = $(STORES_TEST_LIBS)
tests_unit_stores_test_layers_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_layers_LDADD = $(STORES_TEST_LIBS)
tests_unit_stores_test_checkpoint_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_checkpoint_LDADD = $(STORES_TEST_LIBS)
tests_unit_stores_test_restore_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_restore_LDADD = $(STORES_TEST_LIBS)

# window and session stores (both backends, one test body each)
window_unit_tests = \
	tests/unit/stores/test-window \
	tests/unit/stores/test-session \
	tests/unit/stores/test-windowed-key
check_PROGRAMS += $(window_unit_tests)
TESTS += $(window_unit_tests)
EXTRA_DIST += tests/unit/stores/window-fixture.h
tests_unit_stores_test_window_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_window_LDADD = $(STORES_TEST_LIBS)
tests_unit_stores_test_session_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_session_LDADD = $(STORES_TEST_LIBS)
tests_unit_stores_test_windowed_key_CFLAGS = $(STORES_TEST_CFLAGS)
tests_unit_stores_test_windowed_key_LDADD = $(STORES_TEST_LIBS)
