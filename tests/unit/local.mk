# tests/unit: one cmocka program per module, mirroring the tree.
# Each area's fragment adds its programs to check_PROGRAMS and TESTS.
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LIBS = $(CMOCKA_LIBS) $(GLIB_LIBS)

TESTS += scripts/check-deps-arrows.sh

include tests/unit/common/local.mk
include tests/unit/stores/local.mk
include tests/unit/runtime/local.mk
include tests/unit/operators/local.mk
include tests/unit/broker/local.mk
