/* segment.h: one segment of a partition log: a .log file of record batches
 * and its two sparse indexes, kept in memory and written to .index and
 * .timeindex files (internal to broker/log/).
 *
 * Design note. The indexes are small (8 and 12 bytes per index.interval.bytes
 * of log), so a segment keeps them in memory as arrays; the files exist so
 * that a clean restart need not scan the logs. They are written whole when the
 * segment is sealed (rolled) and at close, and loaded when the log is opened.
 * An index file is only a hint: it is validated when loaded (monotonic,
 * inside the log), every lookup checks the batch header it lands on, and a
 * bad index is rebuilt from the .log.
 *
 * File formats (big-endian, like Kafka's):
 *   .index      entries of { u32 relative offset, u32 file position }: the
 *               batch whose base offset is base+rel starts at position.
 *   .timeindex  entries of { i64 timestamp, u32 relative offset }: every
 *               batch up to and including the one holding base+rel has a
 *               max timestamp <= timestamp. The last entry holds the
 *               segment's largest timestamp once the segment is sealed.
 *
 * Invariants: size is the number of valid bytes of the .log (the file may be
 * longer only transiently, after a failed write whose truncation failed too;
 * blocks preallocated past its end do not change its size);
 * batches lie back to back from position 0 to size, with increasing offsets
 * (compaction may leave gaps, never reorders); next_offset is the last
 * offset + 1 (base_offset when empty; for a sealed segment it may be the next
 * segment's base, so a read that finds no batch moves on).
 */
#ifndef RB_LOG_SEGMENT_H
#define RB_LOG_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/log/batch.h"

typedef struct rb_index_entry {
    uint32_t rel;
    uint32_t pos;
} rb_index_entry_t;

typedef struct rb_time_entry {
    int64_t ts;
    uint32_t rel;
} rb_time_entry_t;

typedef struct rb_segment {
    int64_t base_offset;
    int64_t next_offset;
    int fd;       /* the .log, read-write */
    int64_t size; /* valid bytes of the .log */
    char *path;   /* "<dir>/<base, 20 digits>" (no extension) */

    int64_t max_timestamp; /* largest batch maxTimestamp, -1 when none */
    int64_t max_ts_offset; /* first offset of the batch that has it */
    int64_t roll_base_ms;  /* segment.ms counts from here */

    bool index_loaded; /* index and tindex hold the segment's indexes */
    bool index_dirty;  /* the files are older than the arrays */
    rb_index_entry_t *index;
    size_t n_index, cap_index;
    rb_time_entry_t *tindex;
    size_t n_tindex, cap_tindex;
    int64_t bytes_since_index;

    bool unflushed; /* .log written since the last fsync */
    int64_t prealloc_end; /* blocks of the .log are allocated up to here (0: none) */
} rb_segment_t;

/* A read window over a segment file: caches the bytes [start, start+len). */
typedef struct rb_window {
    uint8_t *buf;
    size_t cap;
    const rb_segment_t *seg;
    int64_t start;
    size_t len;
    size_t readahead;
} rb_window_t;

void rb__window_init(rb_window_t *w, size_t readahead);
void rb__window_free(rb_window_t *w);
static inline void rb__window_invalidate(rb_window_t *w)
{
    w->seg = NULL;
    w->len = 0;
}
/* Returns the n bytes at pos of seg (pos + n <= seg->size), or NULL: *io_err
 * is then set if a read failed (else the bytes are beyond the end). */
const uint8_t *rb__window_get(rb_window_t *w, const rb_segment_t *seg, int64_t pos, size_t n,
                              bool *io_err);

/* Segment file name for base in dir: "<dir>/<20 digits>" (g_free it). */
char *rb__segment_path(const char *dir, int64_t base_offset);

/* Creates a new empty segment (truncating any stale files of that name).
 * Returns NULL and sets errno on failure. */
rb_segment_t *rb__segment_create(const char *dir, int64_t base_offset, int64_t now_ms);

/* Opens an existing segment's .log; indexes are not loaded. NULL + errno on failure. */
rb_segment_t *rb__segment_open(const char *dir, int64_t base_offset);

/* Closes the file and frees. */
void rb__segment_free(rb_segment_t *seg);

/* Closes and unlinks the segment's files, and frees. */
void rb__segment_destroy(rb_segment_t *seg);

/* Loads .index and .timeindex and checks them against the .log (entries
 * monotonic, inside the file). Returns false (arrays left empty) if either
 * is missing or invalid. */
bool rb__segment_load_indexes(rb_segment_t *seg);

/* Writes the in-memory indexes to the files (and marks them clean).
 * Returns 0 or -1 (errno). */
int rb__segment_write_indexes(rb_segment_t *seg);

/* Adds index entries for a batch of size bytes at pos, if the interval since
 * the last entry is reached, and folds its max timestamp in. */
void rb__segment_index_batch(rb_segment_t *seg, int64_t base_offset, int64_t pos, size_t size,
                             int64_t max_timestamp, int32_t interval);

/* Adds the final time index entry (the segment's max timestamp), if newer
 * than the last one: done when the segment is sealed. */
void rb__segment_seal_time_index(rb_segment_t *seg);

/* Drops the in-memory indexes. */
void rb__segment_reset_indexes(rb_segment_t *seg);

/* Largest index entry at or below offset: sets *pos and *at_offset
 * (position 0 and base_offset if none). */
void rb__segment_floor_offset(const rb_segment_t *seg, int64_t offset, int64_t *pos,
                              int64_t *at_offset);
/* Largest index entry at or below position p. */
void rb__segment_floor_pos(const rb_segment_t *seg, int64_t p, int64_t *pos, int64_t *at_offset);

/* What a scan of a segment found. */
typedef struct rb_scan_result {
    int64_t valid_bytes;  /* end of the last good batch */
    int64_t next_offset;  /* after the last good batch */
    int batches;
    const char *why;      /* why the scan stopped early, NULL at a clean end */
} rb_scan_result_t;

/* Scans the .log from position from (a batch start whose base offset is
 * from_offset) to the end of the file, checking each batch header (magic,
 * length inside the file, offsets increasing) and, when check_crc, its
 * CRC-32C; indexes every batch into the in-memory indexes (which the caller
 * has reset when from is 0). Stops at the first bad batch. Returns 0, or -1
 * on an I/O error (errno). */
int rb__segment_scan(rb_segment_t *seg, rb_window_t *w, int64_t from, int64_t from_offset,
                     int64_t file_size, bool check_crc, int32_t interval, rb_scan_result_t *res);

/* Before writing len bytes at pos: if the write is large (a produce batch
 * of RB_PREALLOC_MIN_APPEND bytes or more) and goes past the blocks
 * allocated so far, allocates ahead of it (fallocate, FALLOC_FL_KEEP_SIZE:
 * the file's size, and so recovery, are unchanged) up to 16 times len, at
 * most RB_PREALLOC_MAX ahead and not past limit (segment.bytes). Writing
 * into allocated blocks skips ext4's per-page delayed-allocation work, about
 * a third of the kernel's CPU time per byte of a buffered write. Failures
 * (a file system without fallocate, ENOSPC) only turn it off for this
 * segment: the write itself reports what matters. */
#define RB_PREALLOC_MIN_APPEND (64 << 10)
#define RB_PREALLOC_MAX (16 << 20)
void rb__segment_preallocate(rb_segment_t *seg, int64_t pos, size_t len, int64_t limit);

/* Releases the blocks allocated beyond the valid bytes (after a roll, at
 * close); a no-op when nothing was preallocated. */
void rb__segment_trim(rb_segment_t *seg);

/* Truncates the .log to size bytes (and the indexes above it). 0 or -1. */
int rb__segment_truncate(rb_segment_t *seg, int64_t size);

#endif /* RB_LOG_SEGMENT_H */
