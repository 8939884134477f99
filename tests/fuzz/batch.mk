# tests/fuzz: the record batch v2 parser (broker/log/batch.c). Under make check
# the target runs through a standalone driver (seeds + deterministic mutations);
# see fuzz-batch.c for the libFuzzer build.
check_PROGRAMS += tests/fuzz/fuzz-batch
TESTS += tests/fuzz/fuzz-batch
tests_fuzz_fuzz_batch_SOURCES = tests/fuzz/fuzz-batch.c tests/fuzz/fuzz-batch-main.c
tests_fuzz_fuzz_batch_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)
# the batch decompressors the cleaner runs (broker/log/codec.c), the same way
check_PROGRAMS += tests/fuzz/fuzz-codec
TESTS += tests/fuzz/fuzz-codec
tests_fuzz_fuzz_codec_SOURCES = tests/fuzz/fuzz-codec.c tests/fuzz/fuzz-codec-main.c
tests_fuzz_fuzz_codec_LDADD = libbroker.la libcommon.la $(GLIB_LIBS)
