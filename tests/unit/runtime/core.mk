# unit tests of the runtime core
