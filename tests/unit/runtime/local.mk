# tests/unit/runtime
include tests/unit/runtime/core.mk
include tests/unit/runtime/app.mk
include tests/unit/runtime/partition-group.mk
