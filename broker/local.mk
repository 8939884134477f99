# broker/: rill-broker, the bundled single-node Kafka-protocol broker.
# Convenience libraries never LIBADD each other (that duplicates symbols): the
# programs and librill.la link each one they need, libcommon.la last.
# broker -> common only; inside: protocol, net -> log -> group -> txn -> server.
# libbroker.la holds everything but main(), so that tests and tools can link it.
noinst_LTLIBRARIES += libbroker.la
libbroker_la_SOURCES =
libbroker_la_CFLAGS = $(AM_CFLAGS) $(ZLIB_CFLAGS) $(SNAPPY_CFLAGS) $(LZ4_CFLAGS) $(ZSTD_CFLAGS)
libbroker_la_LIBADD = $(GLIB_LIBS) $(ZLIB_LIBS) $(SNAPPY_LIBS) $(LZ4_LIBS) $(ZSTD_LIBS)
include broker/protocol/local.mk
include broker/net/local.mk
include broker/log/local.mk
include broker/group/local.mk
include broker/txn/local.mk
include broker/server/local.mk
