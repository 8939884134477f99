# integration tests of tools (see tests/integration/local.mk for the numbering).
