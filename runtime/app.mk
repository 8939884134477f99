# runtime app side (config, app, stream threads, runtime/kafka/): libruntime_la_SOURCES += ...; librdkafka flags here
