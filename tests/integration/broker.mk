# integration tests of broker (see tests/integration/local.mk for the numbering).
