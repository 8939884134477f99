# tests/unit/broker: one fragment per broker module owner.
include tests/unit/broker/protocol.mk
include tests/unit/broker/net.mk
include tests/unit/broker/log.mk
include tests/unit/broker/server.mk
include tests/unit/broker/group.mk
include tests/unit/broker/txn.mk
