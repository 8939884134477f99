# tests/unit/runtime: unit tests of runtime/ (one cmocka program per module).
