/* txnfile.h: the few durable-file operations broker/txn/ needs (whole-file
 * atomic replacement, full writes, directory fsync), in one place so that
 * every file of the module gets them right the same way.
 *
 * Atomic replacement: write <path>.tmp, fsync it, rename over <path>, fsync
 * the directory. A crash leaves either the old or the new file, never a mix;
 * a stray .tmp is harmless and overwritten next time. */
#ifndef RB_TXN_TXNFILE_H
#define RB_TXN_TXNFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Replaces path's content with data[0..len) atomically and durably. Returns
 * false and sets *errmsg (g_free it) on failure, leaving path as it was. */
bool rb__txnfile_replace(const char *path, const void *data, size_t len, char **errmsg);

/* write(2) until all of data is written (retrying EINTR). Returns false on error (errno). */
bool rb__txnfile_write_all(int fd, const void *data, size_t len);

/* fsyncs the directory holding path (after a create, rename or unlink). */
bool rb__txnfile_sync_parent(const char *path);

#endif /* RB_TXN_TXNFILE_H */
