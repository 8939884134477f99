# unit tests of broker/group/
