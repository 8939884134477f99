# unit tests of broker/protocol/
