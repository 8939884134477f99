# broker/server/: request dispatch and handlers, the topic registry
# (config.c and main.c belong to the broker-net part).
libbroker_la_SOURCES += \
	%reldir%/server.h %reldir%/server-private.h %reldir%/server.c \
	%reldir%/topics.c %reldir%/topic-config.c \
	%reldir%/h-meta.c %reldir%/h-data.c %reldir%/h-admin.c %reldir%/h-configs.c \
	%reldir%/h-group.c %reldir%/h-txn.c %reldir%/metrics.c
