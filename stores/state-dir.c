/* state-dir.c: the application state directory: flock'ed lock file, task directories, stale cleanup.
 *
 * The lock is flock(LOCK_EX | LOCK_NB) on <app dir>/.lock, opened O_CLOEXEC so
 * that a child process never inherits it. flock locks belong to the open
 * file description, so a second open of the same directory fails even in the
 * same process. The holder writes its pid into the file for the error
 * message of whoever fails to take it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "common/log.h"
#include "stores/state-dir.h"

#define LOCK_FILE ".lock"

struct rill__state_dir {
    char *path;
    int lock_fd;
};

static bool name_ok(const char *name)
{
    return name && *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           strchr(name, '/') == NULL;
}

rill__state_dir_t *rill__state_dir_open(const char *state_dir, const char *application_id,
                                        rill_error_t **error)
{
    if (state_dir == NULL || *state_dir == '\0' || !name_ok(application_id)) {
        rill_error_set(error, RILL_ERR_INVALID_CONFIG,
                       "state directory: state.dir must be set and application.id must be a "
                       "plain name (got '%s')",
                       application_id ? application_id : "(null)");
        return NULL;
    }
    g_autofree char *path = g_build_filename(state_dir, application_id, NULL);
    if (g_mkdir_with_parents(path, 0755) != 0) {
        rill_error_set(error, RILL_ERR_IO, "state directory %s: cannot create it: %s", path,
                       g_strerror(errno));
        return NULL;
    }
    g_autofree char *lock_path = g_build_filename(path, LOCK_FILE, NULL);
    int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rill_error_set(error, RILL_ERR_IO, "state directory %s: cannot open %s: %s", path,
                       lock_path, g_strerror(errno));
        return NULL;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        g_strstrip(pid);
        close(fd);
        if (e == EWOULDBLOCK)
            rill_error_set(error, RILL_ERR_INVALID_STATE,
                           "state directory %s is in use by another rill instance (pid %s): two "
                           "instances of application.id '%s' cannot share a state.dir; give each "
                           "its own state.dir",
                           path, *pid ? pid : "unknown", application_id);
        else
            rill_error_set(error, RILL_ERR_IO, "state directory %s: flock %s: %s", path, lock_path,
                           g_strerror(e));
        return NULL;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len)
        RILL_LOG_WARN("stores.state", "cannot write pid to %s: %s", lock_path, g_strerror(errno));
    rill__state_dir_t *dir = g_new0(rill__state_dir_t, 1);
    dir->path = g_steal_pointer(&path);
    dir->lock_fd = fd;
    return dir;
}

void rill__state_dir_close(rill__state_dir_t *dir)
{
    if (dir == NULL)
        return;
    close(dir->lock_fd); /* releases the flock */
    g_free(dir->path);
    g_free(dir);
}

const char *rill__state_dir_path(const rill__state_dir_t *dir)
{
    return dir->path;
}

char *rill__state_dir_task(rill__state_dir_t *dir, const char *task_id, rill_error_t **error)
{
    if (dir == NULL || !name_ok(task_id) || task_id[0] == '.') {
        rill_error_set(error, RILL_ERR_INVALID_ARG, "state directory: bad task id '%s'",
                       task_id ? task_id : "(null)");
        return NULL;
    }
    char *path = g_build_filename(dir->path, task_id, NULL);
    if (g_mkdir_with_parents(path, 0755) != 0) {
        rill_error_set(error, RILL_ERR_IO, "state directory: cannot create %s: %s", path,
                       g_strerror(errno));
        g_free(path);
        return NULL;
    }
    return path;
}

char *rill__state_dir_store_path(const rill__state_dir_t *dir, const char *task_id,
                                 const char *store_name)
{
    return g_build_filename(dir->path, task_id, "rocksdb", store_name, NULL);
}

/* rm -rf path, without following symlinks. */
static rill_err_t remove_tree(const char *path, rill_error_t **error)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? RILL_OK
                               : rill_error_set(error, RILL_ERR_IO, "stat %s: %s", path,
                                                g_strerror(errno));
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        if (d == NULL)
            return rill_error_set(error, RILL_ERR_IO, "opendir %s: %s", path, g_strerror(errno));
        struct dirent *de;
        rill_err_t err = RILL_OK;
        while (err == RILL_OK && (de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            g_autofree char *child = g_build_filename(path, de->d_name, NULL);
            err = remove_tree(child, error);
        }
        closedir(d);
        if (err)
            return err;
        if (rmdir(path) != 0)
            return rill_error_set(error, RILL_ERR_IO, "rmdir %s: %s", path, g_strerror(errno));
        return RILL_OK;
    }
    if (unlink(path) != 0 && errno != ENOENT)
        return rill_error_set(error, RILL_ERR_IO, "unlink %s: %s", path, g_strerror(errno));
    return RILL_OK;
}

rill_err_t rill__state_dir_wipe_task(rill__state_dir_t *dir, const char *task_id,
                                     rill_error_t **error)
{
    if (dir == NULL || !name_ok(task_id) || task_id[0] == '.')
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "state directory: bad task id '%s'",
                              task_id ? task_id : "(null)");
    g_autofree char *path = g_build_filename(dir->path, task_id, NULL);
    rill_err_t err = remove_tree(path, error);
    if (err)
        rill_error_prefix(error, "wiping task %s: ", task_id);
    return err;
}

rill_err_t rill__state_dir_clean_stale(rill__state_dir_t *dir, const char *const *active,
                                       int64_t delay_ms, int64_t now_ms, unsigned *removed,
                                       rill_error_t **error)
{
    if (removed)
        *removed = 0;
    if (dir == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "clean stale: dir is NULL");
    DIR *d = opendir(dir->path);
    if (d == NULL)
        return rill_error_set(error, RILL_ERR_IO, "clean stale: opendir %s: %s", dir->path,
                              g_strerror(errno));
    GPtrArray *victims = g_ptr_array_new_with_free_func(g_free);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        bool is_active = false;
        for (size_t i = 0; active && active[i]; i++)
            if (strcmp(active[i], de->d_name) == 0)
                is_active = true;
        if (is_active)
            continue;
        g_autofree char *path = g_build_filename(dir->path, de->d_name, NULL);
        struct stat st;
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        int64_t mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        if (now_ms - mtime_ms > delay_ms)
            g_ptr_array_add(victims, g_steal_pointer(&path));
    }
    closedir(d);
    rill_err_t err = RILL_OK;
    for (guint i = 0; err == RILL_OK && i < victims->len; i++) {
        const char *path = g_ptr_array_index(victims, i);
        err = remove_tree(path, error);
        if (err == RILL_OK) {
            RILL_LOG_INFO("stores.state", "removed stale task directory %s", path);
            if (removed)
                (*removed)++;
        } else {
            rill_error_prefix(error, "clean stale task directory %s: ", path);
        }
    }
    g_ptr_array_unref(victims);
    return err;
}
