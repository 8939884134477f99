# stores/: state stores (key-value, window, session), change-logging, caching, restore.
# stores -> common, RocksDB.
noinst_LTLIBRARIES += libstores.la
libstores_la_SOURCES =
libstores_la_CFLAGS = $(AM_CFLAGS) $(ROCKSDB_CFLAGS)
libstores_la_LIBADD = $(ROCKSDB_LIBS) $(GLIB_LIBS)
