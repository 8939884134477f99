# operators/: one file per DSL operator; operators -> runtime's processor API, stores, common.
noinst_LTLIBRARIES += liboperators.la
liboperators_la_SOURCES = \
	%reldir%/callback.h \
	%reldir%/filter.c \
	%reldir%/map.c \
	%reldir%/flat_map.c \
	%reldir%/peek.c \
	%reldir%/branch.c \
	%reldir%/merge.c \
	%reldir%/to.c \
	%reldir%/process.c
liboperators_la_CFLAGS = $(AM_CFLAGS) $(JSONGLIB_CFLAGS)
liboperators_la_LIBADD = $(JSONGLIB_LIBS) $(GLIB_LIBS)
include operators/stateful.mk
