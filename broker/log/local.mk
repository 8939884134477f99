# broker/log/: add sources with libbroker_la_SOURCES += %reldir%/x.c %reldir%/x.h
libbroker_la_SOURCES += \
	%reldir%/batch.c %reldir%/batch.h \
	%reldir%/segment.c %reldir%/segment.h \
	%reldir%/flusher.c %reldir%/flusher.h \
	%reldir%/cleaner.c %reldir%/codec.c %reldir%/codec.h \
	%reldir%/log.c %reldir%/log.h %reldir%/log-private.h
