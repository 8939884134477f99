# tests/integration: numbered tests that start real programs (rill-broker on an
# ephemeral 127.0.0.1 port in a temp dir) and drive them with real clients.
# Numbers: 0001-0099 broker core, 0100-0199 broker groups/txn, 0200-0299 runtime,
# 0300-0399 stores/stateful, 0400-0499 windows, 0500-0599 tools and demo.
EXTRA_DIST += tests/integration/lib.sh
include tests/integration/broker.mk
include tests/integration/runtime.mk
include tests/integration/stores.mk
include tests/integration/tools.mk
include tests/integration/stateful.mk
include tests/integration/partition-group.mk
include tests/integration/demo.mk
