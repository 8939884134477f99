check_PROGRAMS += tests/unit/common/test-crc32c tests/unit/common/test-buf tests/unit/common/test-error
TESTS += tests/unit/common/test-crc32c tests/unit/common/test-buf tests/unit/common/test-error
tests_unit_common_test_crc32c_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_crc32c_LDADD = libcommon.la $(UNIT_LIBS)
tests_unit_common_test_buf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_buf_LDADD = libcommon.la $(UNIT_LIBS)
tests_unit_common_test_error_CFLAGS = $(UNIT_CFLAGS)
tests_unit_common_test_error_LDADD = libcommon.la $(UNIT_LIBS)
