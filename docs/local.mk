# docs/: guides and references. The configuration references are generated
# from the code's config tables (`make update-docs`): app-config.md and
# topic-config.md by docs/gen-config-docs, broker-config.md by
# `rill-broker --help=markdown`; docs/check-config-docs.sh (make check) fails
# when they drift.
EXTRA_DIST += docs/benchmarks.md
EXTRA_DIST += docs/stores.md
EXTRA_DIST += \
	docs/getting-started.md docs/dsl.md docs/operations.md \
	docs/app-config.md docs/topic-config.md docs/broker-config.md

noinst_PROGRAMS += docs/gen-config-docs
docs_gen_config_docs_SOURCES = docs/gen-config-docs.c
docs_gen_config_docs_CFLAGS = $(AM_CFLAGS) $(RDKAFKA_CFLAGS) $(JSONGLIB_CFLAGS)
docs_gen_config_docs_LDADD = libbroker.la liboperators.la libruntime.la libstores.la libcommon.la \
	$(ROCKSDB_LIBS) $(RDKAFKA_LIBS) $(JSONGLIB_LIBS) $(GLIB_LIBS)

TESTS += docs/check-config-docs.sh docs/check-getting-started.sh docs/check-dsl.sh
EXTRA_DIST += docs/check-config-docs.sh docs/check-getting-started.sh docs/check-dsl.sh

# Regenerates the checked-in configuration references in the source tree.
update-docs: docs/gen-config-docs$(EXEEXT) rill-broker$(EXEEXT)
	$(AM_V_GEN)set -e; \
	docs/gen-config-docs$(EXEEXT) app > $(srcdir)/docs/app-config.md.tmp; \
	mv $(srcdir)/docs/app-config.md.tmp $(srcdir)/docs/app-config.md; \
	docs/gen-config-docs$(EXEEXT) topic > $(srcdir)/docs/topic-config.md.tmp; \
	mv $(srcdir)/docs/topic-config.md.tmp $(srcdir)/docs/topic-config.md; \
	./rill-broker$(EXEEXT) --help=markdown > $(srcdir)/docs/broker-config.md.tmp; \
	mv $(srcdir)/docs/broker-config.md.tmp $(srcdir)/docs/broker-config.md
.PHONY: update-docs
