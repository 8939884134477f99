# broker/group/: add sources with libbroker_la_SOURCES += %reldir%/x.c %reldir%/x.h
