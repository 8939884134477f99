# integration tests of tools (see tests/integration/local.mk for the numbering).
tools_itests_sh = \
	tests/integration/0500-cli-topics-produce-consume.sh \
	tests/integration/0501-cli-groups.sh \
	tests/integration/0502-cli-broker-reset.sh
TESTS += $(tools_itests_sh)
EXTRA_DIST += $(tools_itests_sh)
tools_itests_sh += tests/integration/0503-installed-library.sh
tools_itests_sh += tests/integration/0504-describe.sh
