/* pid.c: the producer id allocator (see pid.h for the design). */
#include "config.h"

#include "broker/txn/pid.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "broker/txn/txnfile.h"
#include "common/log.h"

#define PID_FILE "producer_id.block"

struct rb_pid_alloc {
    char *path;
    char *dir;
    int64_t next_id;
    int64_t block_end; /* exclusive; persisted on disk */
};

static bool parse_pid_file(const char *text, int64_t *next)
{
    char tail = 0;
    long long n = -1;
    int version = 0;
    if (sscanf(text, "rill-producer-ids %d next=%lld%c", &version, &n, &tail) != 3)
        return false;
    if (version != 1 || n < 0 || tail != '\n')
        return false;
    *next = n;
    return true;
}

rb_pid_alloc_t *rb_pid_alloc_open(const char *dir, char **errmsg)
{
    g_autofree char *path = g_build_filename(dir, PID_FILE, NULL);
    g_autofree char *text = NULL;
    g_autoptr(GError) gerr = NULL;
    int64_t next = 0;
    if (g_file_get_contents(path, &text, NULL, &gerr)) {
        if (!parse_pid_file(text, &next)) {
            *errmsg = g_strdup_printf("%s: not a producer id block file", path);
            return NULL;
        }
    } else if (!g_error_matches(gerr, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
        *errmsg = g_strdup_printf("%s: %s", path, gerr->message);
        return NULL;
    }
    rb_pid_alloc_t *alloc = g_new0(rb_pid_alloc_t, 1);
    alloc->path = g_steal_pointer(&path);
    alloc->dir = g_strdup(dir);
    alloc->next_id = next;
    alloc->block_end = next;
    return alloc;
}

void rb_pid_alloc_close(rb_pid_alloc_t *alloc)
{
    if (alloc == NULL)
        return;
    g_free(alloc->path);
    g_free(alloc->dir);
    g_free(alloc);
}

int64_t rb_pid_alloc_next(rb_pid_alloc_t *alloc)
{
    if (alloc->next_id >= alloc->block_end) {
        int64_t end = alloc->block_end + RB_PID_BLOCK_SIZE;
        g_autofree char *text = g_strdup_printf("rill-producer-ids 1 next=%" PRId64 "\n", end);
        g_autofree char *errmsg = NULL;
        if (!rb__txnfile_replace(alloc->path, text, strlen(text), &errmsg)) {
            RILL_LOG_ERROR("broker.txn", "cannot reserve producer ids: %s", errmsg);
            return -1;
        }
        alloc->block_end = end;
    }
    return alloc->next_id++;
}
