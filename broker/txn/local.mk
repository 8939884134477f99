# broker/txn/: idempotent and transactional producer support -- producer
# state per partition (pstate), the producer id allocator (pid), the
# transaction coordinator (coordinator) and its durable log (txnlog).
libbroker_la_SOURCES += \
	%reldir%/errors.c %reldir%/errors.h \
	%reldir%/marker.c %reldir%/marker.h \
	%reldir%/txnfile.c %reldir%/txnfile.h \
	%reldir%/pid.c %reldir%/pid.h \
	%reldir%/pstate.c %reldir%/pstate-file.c %reldir%/pstate.h %reldir%/pstate-private.h \
	%reldir%/txnlog.c %reldir%/txnlog.h \
	%reldir%/coordinator.c %reldir%/coordinator.h
