/* txnfile.c: durable file helpers of broker/txn/ (see txnfile.h). */
#include "config.h"

#include "broker/txn/txnfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

bool rb__txnfile_write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

bool rb__txnfile_sync_parent(const char *path)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

bool rb__txnfile_replace(const char *path, const void *data, size_t len, char **errmsg)
{
    g_autofree char *tmp = g_strconcat(path, ".tmp", NULL);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *errmsg = g_strdup_printf("%s: %s", tmp, g_strerror(errno));
        return false;
    }
    if (!rb__txnfile_write_all(fd, data, len) || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        *errmsg = g_strdup_printf("%s: %s", tmp, g_strerror(e));
        return false;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        *errmsg = g_strdup_printf("rename %s: %s", path, g_strerror(e));
        return false;
    }
    if (!rb__txnfile_sync_parent(path)) {
        *errmsg = g_strdup_printf("fsync directory of %s: %s", path, g_strerror(errno));
        return false;
    }
    return true;
}
