/* flusher.h: fsyncs on a background thread, so that the broker's loop thread
 * never waits for the disk when a segment is sealed or flush.ms comes due
 * (internal to broker/log/).
 *
 * Design note. One thread, shared by every log of the process (fsyncs of one
 * disk do not go faster in parallel), runs jobs in submission order. A job
 * holds duplicated file descriptors, so that the log may close, delete or
 * truncate its segments meanwhile (an fsync of an unlinked file is harmless),
 * and a reference to a small state shared with its log. The flusher never
 * touches the log itself: the log's thread reads the state (done_upto,
 * failed) when it next looks, and moves its recovery point then.
 *
 * Invariant: done_upto only grows, and every byte of the log below done_upto
 * was fsynced (a job's upto is the log end offset when it was submitted, and
 * its fsyncs happen after). */
#ifndef RB_LOG_FLUSHER_H
#define RB_LOG_FLUSHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_flush_state rb_flush_state_t;

rb_flush_state_t *rb__flush_state_new(void);
void rb__flush_state_unref(rb_flush_state_t *state);

/* Queues fsyncs of fds (transfer full: the flusher closes them); is_dir[i]
 * says fds[i] is a directory (fsync rather than fdatasync). When all succeed,
 * done_upto becomes at least upto. label names the log in a failure's log line. */
void rb__flusher_submit(rb_flush_state_t *state, int *fds, const bool *is_dir, size_t n,
                        int64_t upto, const char *label);

/* The highest upto fully fsynced so far (-1 if none); *failed tells whether
 * a job failed since the last call (and clears it). */
int64_t rb__flush_state_poll(rb_flush_state_t *state, bool *failed);

/* Waits until no job of state is pending, at most timeout_ms. Returns
 * whether none is. */
bool rb__flush_state_wait(rb_flush_state_t *state, int timeout_ms);

#endif /* RB_LOG_FLUSHER_H */
