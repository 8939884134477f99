/* log-private.h: the partition log's state, shared by log.c and cleaner.c
 * (internal to broker/log/). See log.c for the design and invariants. */
#ifndef RB_LOG_PRIVATE_H
#define RB_LOG_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/flusher.h"
#include "broker/log/log.h"
#include "broker/log/segment.h"

#define LOG_COMPONENT "broker.log"

typedef struct rb_clean_job rb_clean_job_t;
#define CACHE_SLOTS 4
#define RECOVERY_READAHEAD (1024 * 1024)

struct rb_log {
    char *dir;
    int dir_fd;
    rb_log_config_t config;
    rb_segment_t **segs; /* sorted by base offset; the last is active */
    size_t n_segs, cap_segs;
    int64_t start_offset;
    int64_t recovery_point;        /* everything below is fsynced */
    int64_t checkpointed_recovery; /* what the checkpoint file says */
    int64_t unflushed_messages;
    int64_t first_unflushed_ms; /* -1 when all is flushed */
    bool dir_dirty;             /* files created since the last directory fsync */
    rb_flush_state_t *fstate;   /* shared with background fsyncs (flusher.c) */
    int32_t leader_epoch;
    int64_t cleaned_upto;      /* sealed segments below this offset were compacted */
    rb_clean_job_t *clean_job; /* a compaction pass running on the cleaner thread */
    int64_t clean_due_ms;      /* a pass is due at this time even if nothing is dirty (0: none) */
    rb_window_t win;      /* header reads of fetch and offset_for_time */
    struct {
        rb_segment_t *seg; /* NULL: empty slot */
        int64_t offset;    /* every batch of seg before pos ends at or below offset */
        int64_t pos;       /* (a batch boundary: where a reader of offset starts) */
    } cache[CACHE_SLOTS];
    unsigned cache_next;
};

/* fsync (or fdatasync), retried on EINTR. */
int rb__log_fsync(int fd, bool data_only);

/* Forgets the read hints about seg (NULL: all) and the read window. */
void rb__log_cache_forget(rb_log_t *log, const rb_segment_t *seg);

/* Housekeeping of compaction (cleaner.c): installs a finished pass, or
 * starts one (if may_start) when min.cleanable.dirty.ratio of the sealed bytes are new
 * since the last.
 * Returns the bytes a finished pass removed (0 otherwise), or -1. */
int64_t rb__log_maybe_compact(rb_log_t *log, int64_t now_ms, bool may_start);

/* Cancels a running pass and waits for it (before the log goes away). */
void rb__log_cleaner_stop(rb_log_t *log);

#endif /* RB_LOG_PRIVATE_H */
