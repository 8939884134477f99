# docs/: guides and references. The configuration references are generated
# from the code's config tables by docs/gen-config-docs (`make update-docs`);
# docs/check-config-docs.sh (in make check) fails when they drift.
EXTRA_DIST += docs/benchmarks.md
EXTRA_DIST += docs/stores.md
EXTRA_DIST += \
	docs/getting-started.md docs/dsl.md docs/operations.md \
	docs/configuration-broker.md docs/configuration-app.md

noinst_PROGRAMS += docs/gen-config-docs
docs_gen_config_docs_SOURCES = docs/gen-config-docs.c
docs_gen_config_docs_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS) $(JSONGLIB_CFLAGS)
docs_gen_config_docs_LDADD = libbroker.la liboperators.la libruntime.la libstores.la libcommon.la \
	$(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(GLIB_LIBS)

TESTS += docs/check-config-docs.sh docs/check-getting-started.sh docs/check-dsl.sh
EXTRA_DIST += docs/check-config-docs.sh docs/check-getting-started.sh docs/check-dsl.sh

# Regenerates the checked-in configuration references in the source tree.
update-docs: docs/gen-config-docs$(EXEEXT)
	$(AM_V_GEN)docs/gen-config-docs$(EXEEXT) broker > $(srcdir)/docs/configuration-broker.md.tmp && \
	mv $(srcdir)/docs/configuration-broker.md.tmp $(srcdir)/docs/configuration-broker.md && \
	docs/gen-config-docs$(EXEEXT) app > $(srcdir)/docs/configuration-app.md.tmp && \
	mv $(srcdir)/docs/configuration-app.md.tmp $(srcdir)/docs/configuration-app.md
.PHONY: update-docs
