# unit tests of broker/server/
