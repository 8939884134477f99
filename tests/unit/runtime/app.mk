# unit tests of the runtime app side
