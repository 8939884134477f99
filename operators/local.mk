# operators/: one file per DSL operator; operators -> runtime's processor API, stores, common.
noinst_LTLIBRARIES += liboperators.la
liboperators_la_SOURCES =
liboperators_la_CFLAGS = $(AM_CFLAGS) $(JSONGLIB_CFLAGS)
liboperators_la_LIBADD = $(JSONGLIB_LIBS) $(GLIB_LIBS)
