# runtime app side (config, app, stream threads, runtime/kafka/): libruntime_la_SOURCES += ...; librdkafka flags here
libruntime_la_SOURCES += \
	runtime/config.c runtime/config-private.h \
	runtime/app.c runtime/app-private.h \
	runtime/thread.c \
	runtime/kafka/kafka.h runtime/kafka/kafka-private.h \
	runtime/kafka/conf.c runtime/kafka/admin.c runtime/kafka/consumer.c runtime/kafka/producer.c
libruntime_la_CFLAGS += $(RDKAFKA_CFLAGS)
libruntime_la_LIBADD += $(RDKAFKA_LIBS)
librill_la_LIBADD += $(RDKAFKA_LIBS)
pkginclude_HEADERS += include/rill/app.h include/rill/config.h
