/* test-log-util.h: helpers shared by the log unit tests: temp dirs, batches
 * whose record values name their expected offsets, and a full read-back
 * check of a log. */
#ifndef RILL_TEST_LOG_UTIL_H
#define RILL_TEST_LOG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/log.h"

#define TL_VALUE_SIZE 100

/* A new empty temp dir (g_free it after tl_rmdir). */
char *tl_tempdir(void);
/* Removes dir and everything in it. */
void tl_rmdir(const char *dir);
/* Kafka defaults with small segments and a small index interval. */
rb_log_config_t tl_config(void);
/* A batch of n records; record i has timestamp ts + i and a 100-byte value
 * naming offset first + i (g_free it). */
uint8_t *tl_batch(int n, int64_t first, int64_t ts, size_t *len);
/* Appends such a batch at the log's end and checks the offsets it got. */
void tl_append(rb_log_t *log, int n, int64_t ts);
/* Reads every batch from offset to the end, one rb_log_read at a time with
 * max_bytes, and checks: batches back to back with valid CRCs, offsets
 * dense from the first batch, values naming their offsets. Returns the
 * number of records seen. */
int64_t tl_verify(rb_log_t *log, int64_t offset, size_t max_bytes);
/* Path of a file in dir (g_free it). */
char *tl_path(const char *dir, const char *name);
/* Name of the segment file for base with ext (static buffer). */
const char *tl_seg(int64_t base, const char *ext);
/* File size, or -1. */
int64_t tl_file_size(const char *path);
/* Number of .log files in dir. */
int tl_count_logs(const char *dir);

/* Sends stderr to a temp file until tl_capture_end, which returns what was
 * written (g_free it). */
void tl_capture_begin(void);
char *tl_capture_end(void);

#endif
