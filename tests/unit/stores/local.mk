# tests/unit/stores: unit tests of stores/ (one cmocka program per module).
