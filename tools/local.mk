# tools/: the `rill` command line.
bin_PROGRAMS += rill
rill_SOURCES = %reldir%/rill.c
rill_LDADD = librill.la libcommon.la $(GLIB_LIBS)
