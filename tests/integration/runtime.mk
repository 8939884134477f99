# integration tests of runtime (see tests/integration/local.mk for the numbering).
