# integration test of the partition group (timestamp order across a task's inputs)
check_PROGRAMS += tests/integration/0208-merge-order-app
tests_integration_0208_merge_order_app_SOURCES = tests/integration/0208-merge-order-app.c
tests_integration_0208_merge_order_app_LDADD = librill.la
TESTS += tests/integration/0208-merge-order.sh
EXTRA_DIST += tests/integration/0208-merge-order.sh
