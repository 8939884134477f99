# tests/unit/operators: unit tests of operators/ (one cmocka program per module).
