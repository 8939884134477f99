# tools/: the `rill` command line. The CLI talks to brokers through librdkafka
# directly (it is a Kafka client, not a stream app).
bin_PROGRAMS += rill
rill_SOURCES = \
	%reldir%/rill.c \
	%reldir%/cli.c %reldir%/cli.h \
	%reldir%/cmd-topics.c \
	%reldir%/cmd-produce.c \
	%reldir%/cmd-consume.c \
	%reldir%/cmd-groups.c \
	%reldir%/cmd-broker.c \
	%reldir%/cmd-reset.c \
	%reldir%/cmd-describe.c
rill_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS) $(JSONGLIB_CFLAGS)
rill_LDADD = librill.la libcommon.la $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(GLIB_LIBS)
