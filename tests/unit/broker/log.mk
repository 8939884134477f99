# unit tests of broker/log/
