# unit tests of broker/txn/
