# the input buffers and timestamp order of multi-input tasks (runtime/partition-group.h)
libruntime_la_SOURCES += runtime/partition-group.c runtime/partition-group.h
