# unit tests of stores/
