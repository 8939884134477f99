# tests/unit/broker: one fragment per broker module owner.
include tests/unit/broker/protocol.mk
include tests/unit/broker/net.mk
include tests/unit/broker/log.mk
include tests/unit/broker/server.mk
