# broker/group/: the consumer-group coordinator (membership, offsets, offsets log).
libbroker_la_SOURCES += \
	%reldir%/group.h \
	%reldir%/group-private.h \
	%reldir%/coordinator.c \
	%reldir%/offsets.c \
	%reldir%/records.c \
	%reldir%/store-log.c
