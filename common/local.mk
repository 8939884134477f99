# common/: leaf utilities shared by the library, the broker and the tools.
noinst_LTLIBRARIES += libcommon.la
libcommon_la_SOURCES = \
	%reldir%/buf.c %reldir%/buf.h \
	%reldir%/clock.c %reldir%/clock.h \
	%reldir%/crc32c.c %reldir%/crc32c.h \
	%reldir%/error.c \
	%reldir%/log.c %reldir%/log.h \
	%reldir%/metrics.c %reldir%/metrics.h \
	%reldir%/version.c
libcommon_la_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS)
libcommon_la_LIBADD = $(MHD_LIBS) $(GLIB_LIBS)

pkginclude_HEADERS += \
	include/rill/rill.h \
	include/rill/export.h \
	include/rill/error.h
