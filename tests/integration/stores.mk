# integration tests of stores (see tests/integration/local.mk for the numbering).
