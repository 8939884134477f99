# stores/: state stores (key-value, window, session), change-logging, caching, restore.
# stores -> common, RocksDB.
noinst_LTLIBRARIES += libstores.la
libstores_la_SOURCES = \
	%reldir%/kv.c %reldir%/kv.h %reldir%/kv-private.h \
	%reldir%/kv-memory.c %reldir%/kv-memory.h \
	%reldir%/kv-rocksdb.c %reldir%/kv-rocksdb.h \
	%reldir%/changelog.c %reldir%/changelog.h \
	%reldir%/cache.c %reldir%/cache.h \
	%reldir%/checkpoint.c %reldir%/checkpoint.h \
	%reldir%/restore.c %reldir%/restore.h \
	%reldir%/state-dir.c %reldir%/state-dir.h
libstores_la_CFLAGS = $(AM_CFLAGS) $(ROCKSDB_CFLAGS)
libstores_la_LIBADD = $(ROCKSDB_LIBS) $(GLIB_LIBS)
# window and session stores (segmented, over the kv stores above)
libstores_la_SOURCES += \
	%reldir%/windowed-key.c %reldir%/windowed-key.h \
	%reldir%/segments.c %reldir%/segments.h \
	%reldir%/window.c %reldir%/window.h \
	%reldir%/window-changelog.c \
	%reldir%/session.c %reldir%/session.h
