# runtime, stateful part (issue 6): the Kafka side of state stores (changelog restore).
libruntime_la_SOURCES += runtime/kafka/changelog.h runtime/kafka/restore.c
