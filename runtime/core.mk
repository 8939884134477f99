# runtime core (topology, tasks, processor API, serdes, test driver): libruntime_la_SOURCES += ...
libruntime_la_SOURCES += \
	%reldir%/task.h \
	%reldir%/node.h \
	%reldir%/record-private.h \
	%reldir%/serde-private.h \
	%reldir%/topology-private.h \
	%reldir%/partitioner.c %reldir%/partitioner.h \
	%reldir%/value.c \
	%reldir%/serde.c \
	%reldir%/builder.c \
	%reldir%/topology.c \
	%reldir%/task.c \
	%reldir%/driver.c

pkginclude_HEADERS += \
	include/rill/record.h \
	include/rill/serde.h \
	include/rill/topology.h \
	include/rill/driver.h \
	include/rill/processor.h
