# integration tests of examples/analytics and the README's demo (0420-0429 windows
# in an app, 0510-0519 the demo script), and the scripts they run.
EXTRA_DIST += tests/integration/analytics_reference.py scripts/demo-summary.py
demo_integration_tests = \
	tests/integration/0420-analytics-faults.sh \
	tests/integration/0421-analytics-two-instances.sh \
	tests/integration/0510-demo-ci.sh \
	tests/integration/0511-demo-ctrl-c.sh
TESTS += $(demo_integration_tests)
EXTRA_DIST += $(demo_integration_tests)
