# operators/ stateful part (issue 6): state stores in tasks, groupings, aggregations, tables.
liboperators_la_SOURCES += \
	%reldir%/state.h \
	%reldir%/state.c \
	%reldir%/aggregate.c
liboperators_la_CFLAGS += $(ROCKSDB_CFLAGS)
pkginclude_HEADERS += include/rill/table.h
