# examples, stateful part (issue 6).
noinst_PROGRAMS += examples/wordcount
examples_wordcount_SOURCES = examples/wordcount.c
examples_wordcount_LDADD = librill.la
