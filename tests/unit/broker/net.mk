# unit tests of broker/net/
