# runtime/: the app, stream threads, tasks, topology, processor API, commit, serdes, time.
# runtime -> stores (interface), common, GLib; only runtime/kafka/ includes librdkafka.

# librill: the library applications link. It is made of the folders' convenience
# libraries; only RILL_EXPORT symbols are visible.
lib_LTLIBRARIES += librill.la
librill_la_SOURCES =
librill_la_LIBADD = libcommon.la $(GLIB_LIBS)
librill_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined
