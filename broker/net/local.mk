# broker/net/: the event loop, connections and Kafka framing (net.h), and the
# rill-broker program (main.c, with server/config.c: the process around the loop).
libbroker_la_SOURCES += \
	%reldir%/net.h %reldir%/net-private.h \
	%reldir%/loop.c %reldir%/conn.c %reldir%/resp.c
# config.c sits in server/ (it is the broker's configuration) but is built here,
# into libbroker.la, because server/ code and its tests read the config too.
libbroker_la_SOURCES += broker/server/config.c broker/server/config.h

# The rill-broker program: main.c around libbroker.la.
bin_PROGRAMS += rill-broker
rill_broker_SOURCES = broker/server/main.c
rill_broker_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)
