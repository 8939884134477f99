# broker/protocol/: the Kafka wire codec. messages-gen.[ch] are generated in the
# build dir from messages.schema by gen-protocol.py (both distributed).
libbroker_la_SOURCES += %reldir%/proto.c %reldir%/proto.h
nodist_libbroker_la_SOURCES = %reldir%/messages-gen.c %reldir%/messages-gen.h
BUILT_SOURCES += %reldir%/messages-gen.h %reldir%/messages-gen.c
CLEANFILES += %reldir%/messages-gen.h %reldir%/messages-gen.c
EXTRA_DIST += %reldir%/messages.schema %reldir%/gen-protocol.py %reldir%/json2schema.py

%reldir%/messages-gen.h: %reldir%/messages-gen.c
%reldir%/messages-gen.c: $(srcdir)/%reldir%/messages.schema $(srcdir)/%reldir%/gen-protocol.py
	$(AM_V_GEN)$(MKDIR_P) $(@D) && \
	$(PYTHON3) $(srcdir)/%reldir%/gen-protocol.py $(srcdir)/%reldir%/messages.schema \
		$(@D)/messages-gen.h.tmp $(@D)/messages-gen.c.tmp && \
	mv $(@D)/messages-gen.h.tmp $(@D)/messages-gen.h && \
	mv $(@D)/messages-gen.c.tmp $(@D)/messages-gen.c
# Every libbroker object may include the generated header: make it first even
# when a single target is built (BUILT_SOURCES only covers all/check/install).
$(libbroker_la_OBJECTS): %reldir%/messages-gen.h
