# runtime/: the app, stream threads, tasks, topology, processor API, commit, serdes, time.
# runtime -> stores (interface), common, GLib; only runtime/kafka/ includes librdkafka.
#
# librill: the library applications link, made of the folders' convenience
# libraries (libruntime.la, liboperators.la, libstores.la, libcommon.la);
# only RILL_EXPORT symbols are visible.
noinst_LTLIBRARIES += libruntime.la
libruntime_la_SOURCES =
libruntime_la_CFLAGS = $(AM_CFLAGS) $(JSONGLIB_CFLAGS)
libruntime_la_LIBADD = $(JSONGLIB_LIBS) $(GLIB_LIBS)

lib_LTLIBRARIES += librill.la
librill_la_SOURCES =
librill_la_LIBADD = liboperators.la libruntime.la libstores.la libcommon.la $(ROCKSDB_LIBS) $(JSONGLIB_LIBS) $(GLIB_LIBS)
librill_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined

include runtime/core.mk
include runtime/app.mk
include runtime/stateful.mk
include runtime/partition-group.mk
