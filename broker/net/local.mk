# broker/net/: the event loop, connections and Kafka framing (net.h), and the
# rill-broker program (main.c, with server/config.c: the process around the loop).
libbroker_la_SOURCES += \
	%reldir%/net.h %reldir%/net-private.h \
	%reldir%/loop.c %reldir%/conn.c %reldir%/resp.c
