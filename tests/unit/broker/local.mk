# tests/unit/broker: unit tests of broker/ (one cmocka program per module).
