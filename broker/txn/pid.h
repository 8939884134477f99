/* pid.h: the producer id allocator: hands out producer ids that are never
 * reused, not even across crashes and restarts.
 *
 * Design note: ids are reserved in blocks. The file <dir>/producer_id.block
 * holds one line, "rill-producer-ids 1 next=<N>\n": every id below N may have
 * been handed out. To hand out ids the allocator first durably moves N a
 * block ahead (write a temp file, fsync, rename, fsync the directory) and
 * then serves ids from the reserved block in memory. After a restart it
 * starts at the stored N, skipping what was left of the last block: ids are
 * plentiful (int64), reuse is what must never happen.
 *
 * Invariant: next_id < block_end <= the N on disk. */
#ifndef RB_TXN_PID_H
#define RB_TXN_PID_H

#include <stdint.h>

typedef struct rb_pid_alloc rb_pid_alloc_t;

#define RB_PID_BLOCK_SIZE 1000

/* Opens (creating when absent) the allocator state in dir. A file that exists
 * but cannot be parsed is an error (never silently restart from 0): returns
 * NULL and sets *errmsg (g_free it). */
rb_pid_alloc_t *rb_pid_alloc_open(const char *dir, char **errmsg);

/* Frees. NULL is a no-op. */
void rb_pid_alloc_close(rb_pid_alloc_t *alloc);

/* The next unused producer id, or -1 when reserving a new block failed
 * (I/O error, logged). */
int64_t rb_pid_alloc_next(rb_pid_alloc_t *alloc);

#endif /* RB_TXN_PID_H */
