/* checkpoint.c: reading and atomically writing a task's `.checkpoint` file (format in checkpoint.h).
 *
 * The reader trusts nothing: it checks the header, the count, every line's
 * fields and ranges, duplicate entries, and the CRC-32C over the bytes before
 * the crc line, and names the first problem it finds in its error. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "common/crc32c.h"
#include "stores/checkpoint.h"

#define HEADER "rill-checkpoint 1"
#define MAX_FILE_BYTES (16u << 20)

typedef struct cp_entry {
    char *topic;
    int32_t partition;
    int64_t offset;
} cp_entry_t;

struct rill__checkpoint {
    GTree *entries; /* cp_entry_t* -> same, owned */
};

static int cp_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
    const cp_entry_t *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

static void cp_entry_free(gpointer p)
{
    cp_entry_t *e = p;
    g_free(e->topic);
    g_free(e);
}

rill__checkpoint_t *rill__checkpoint_new(void)
{
    rill__checkpoint_t *cp = g_new0(rill__checkpoint_t, 1);
    cp->entries = g_tree_new_full(cp_cmp, NULL, cp_entry_free, NULL);
    return cp;
}

void rill__checkpoint_destroy(rill__checkpoint_t *checkpoint)
{
    if (checkpoint == NULL)
        return;
    g_tree_destroy(checkpoint->entries);
    g_free(checkpoint);
}

static bool topic_valid(const char *topic)
{
    size_t n = topic ? strlen(topic) : 0;
    if (n == 0 || n > 249)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = topic[i];
        if (!(g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

rill_err_t rill__checkpoint_set(rill__checkpoint_t *checkpoint, const char *topic,
                                int32_t partition, int64_t offset, rill_error_t **error)
{
    if (checkpoint == NULL || !topic_valid(topic))
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "checkpoint: invalid topic name '%s'",
                              topic ? topic : "(null)");
    if (partition < 0 || offset < 0)
        return rill_error_set(error, RILL_ERR_INVALID_ARG,
                              "checkpoint: %s partition %d offset %" G_GINT64_FORMAT
                              ": partition and offset must be >= 0",
                              topic, partition, offset);
    cp_entry_t probe = {(char *)topic, partition, 0};
    cp_entry_t *e = g_tree_lookup(checkpoint->entries, &probe);
    if (e == NULL) {
        e = g_new0(cp_entry_t, 1);
        e->topic = g_strdup(topic);
        e->partition = partition;
        g_tree_insert(checkpoint->entries, e, e);
    }
    e->offset = offset;
    return RILL_OK;
}

bool rill__checkpoint_get(const rill__checkpoint_t *checkpoint, const char *topic,
                          int32_t partition, int64_t *offset)
{
    if (checkpoint == NULL || topic == NULL)
        return false;
    cp_entry_t probe = {(char *)topic, partition, 0};
    cp_entry_t *e = g_tree_lookup(checkpoint->entries, &probe);
    if (e && offset)
        *offset = e->offset;
    return e != NULL;
}

void rill__checkpoint_remove(rill__checkpoint_t *checkpoint, const char *topic, int32_t partition)
{
    cp_entry_t probe = {(char *)topic, partition, 0};
    g_tree_remove(checkpoint->entries, &probe);
}

unsigned rill__checkpoint_size(const rill__checkpoint_t *checkpoint)
{
    return (unsigned)g_tree_nnodes(checkpoint->entries);
}

typedef struct foreach_ctx {
    void (*fn)(void *ud, const char *topic, int32_t partition, int64_t offset);
    void *ud;
} foreach_ctx_t;

static gboolean foreach_one(gpointer key, gpointer value, gpointer data)
{
    foreach_ctx_t *ctx = data;
    cp_entry_t *e = key;
    ctx->fn(ctx->ud, e->topic, e->partition, e->offset);
    return FALSE;
}

void rill__checkpoint_foreach(const rill__checkpoint_t *checkpoint,
                              void (*fn)(void *ud, const char *topic, int32_t partition,
                                         int64_t offset),
                              void *ud)
{
    foreach_ctx_t ctx = {fn, ud};
    g_tree_foreach(checkpoint->entries, foreach_one, &ctx);
}

/* ---- write ------------------------------------------------------------------- */

static void append_entry(void *ud, const char *topic, int32_t partition, int64_t offset)
{
    g_string_append_printf(ud, "%s %d %" G_GINT64_FORMAT "\n", topic, partition, offset);
}

static rill_err_t write_all(int fd, const char *p, size_t n, const char *path, rill_error_t **error)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return rill_error_set(error, RILL_ERR_IO, "checkpoint: write %s: %s", path,
                                  g_strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return RILL_OK;
}

static rill_err_t fsync_dir(const char *dir, rill_error_t **error)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return rill_error_set(error, RILL_ERR_IO, "checkpoint: open directory %s: %s", dir,
                              g_strerror(errno));
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    if (rc != 0)
        return rill_error_set(error, RILL_ERR_IO, "checkpoint: fsync directory %s: %s", dir,
                              g_strerror(e));
    return RILL_OK;
}

rill_err_t rill__checkpoint_write(const rill__checkpoint_t *checkpoint, const char *task_dir,
                                  rill_error_t **error)
{
    if (checkpoint == NULL || task_dir == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "checkpoint: write: NULL argument");
    g_autoptr(GString) text = g_string_new(HEADER "\n");
    g_string_append_printf(text, "%u\n", rill__checkpoint_size(checkpoint));
    rill__checkpoint_foreach(checkpoint, append_entry, text);
    uint32_t crc = rill__crc32c(0, text->str, text->len);
    g_string_append_printf(text, "crc32c %08x\n", crc);

    g_autofree char *path = g_build_filename(task_dir, RILL__CHECKPOINT_FILE, NULL);
    g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return rill_error_set(error, RILL_ERR_IO, "checkpoint: create %s: %s", tmp,
                              g_strerror(errno));
    rill_err_t err = write_all(fd, text->str, text->len, tmp, error);
    if (err == RILL_OK && fsync(fd) != 0)
        err = rill_error_set(error, RILL_ERR_IO, "checkpoint: fsync %s: %s", tmp,
                             g_strerror(errno));
    if (close(fd) != 0 && err == RILL_OK)
        err = rill_error_set(error, RILL_ERR_IO, "checkpoint: close %s: %s", tmp,
                             g_strerror(errno));
    if (err == RILL_OK && rename(tmp, path) != 0)
        err = rill_error_set(error, RILL_ERR_IO, "checkpoint: rename %s to %s: %s", tmp, path,
                             g_strerror(errno));
    if (err) {
        unlink(tmp);
        return err;
    }
    return fsync_dir(task_dir, error);
}

/* ---- read -------------------------------------------------------------------- */

static rill_err_t corrupt(rill_error_t **error, const char *path, const char *what, int line)
{
    return rill_error_set(error, RILL_ERR_CORRUPT, "checkpoint %s is corrupt: %s (line %d)", path,
                          what, line);
}

/* Parses a decimal integer in [min, max] that fills all of s. */
static bool parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (*s == '\0' || (!g_ascii_isdigit(*s) && *s != '-'))
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static rill_err_t parse(const char *path, char *data, size_t len, rill__checkpoint_t *cp,
                        rill_error_t **error)
{
    if (len == 0 || data[len - 1] != '\n')
        return corrupt(error, path, "truncated (no final newline)", 0);
    if (memchr(data, '\0', len))
        return corrupt(error, path, "contains a NUL byte", 0);
    /* the crc line is the last line */
    data[len - 1] = '\0';
    char *last = strrchr(data, '\n');
    if (last == NULL)
        return corrupt(error, path, "no checksum line", 1);
    size_t body_len = (size_t)(last - data) + 1;
    const char *crc_line = last + 1;
    unsigned crc_read = 0;
    char extra;
    if (strlen(crc_line) != 15 || sscanf(crc_line, "crc32c %8x%c", &crc_read, &extra) != 1)
        return corrupt(error, path, "bad checksum line", 0);
    uint32_t crc = rill__crc32c(0, data, body_len);
    if (crc != crc_read)
        return rill_error_set(error, RILL_ERR_CORRUPT,
                              "checkpoint %s is corrupt: checksum mismatch (file says %08x, "
                              "contents give %08x)",
                              path, crc_read, crc);
    last[0] = '\0';
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    guint n_lines = g_strv_length(lines);
    if (n_lines < 2 || strcmp(lines[0], HEADER) != 0)
        return corrupt(error, path, "bad header (want '" HEADER "')", 1);
    int64_t count;
    if (!parse_int(lines[1], 0, 1000000, &count))
        return corrupt(error, path, "bad entry count", 2);
    if ((int64_t)n_lines - 2 != count)
        return corrupt(error, path, "entry count does not match the number of lines", 2);
    for (guint i = 2; i < n_lines; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], " ", -1);
        int64_t partition, offset;
        if (g_strv_length(f) != 3 || !topic_valid(f[0]))
            return corrupt(error, path, "bad entry (want '<topic> <partition> <offset>')",
                           (int)i + 1);
        if (!parse_int(f[1], 0, INT32_MAX, &partition) || !parse_int(f[2], 0, INT64_MAX, &offset))
            return corrupt(error, path, "bad partition or offset", (int)i + 1);
        if (rill__checkpoint_get(cp, f[0], (int32_t)partition, NULL))
            return corrupt(error, path, "duplicate entry", (int)i + 1);
        rill__checkpoint_set(cp, f[0], (int32_t)partition, offset, NULL);
    }
    return RILL_OK;
}

rill_err_t rill__checkpoint_read(const char *task_dir, rill__checkpoint_t **checkpoint,
                                 rill_error_t **error)
{
    if (checkpoint == NULL || task_dir == NULL)
        return rill_error_set(error, RILL_ERR_INVALID_ARG, "checkpoint: read: NULL argument");
    *checkpoint = NULL;
    g_autofree char *path = g_build_filename(task_dir, RILL__CHECKPOINT_FILE, NULL);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        *checkpoint = rill__checkpoint_new();
        return RILL_OK;
    }
    if (fd < 0)
        return rill_error_set(error, RILL_ERR_IO, "checkpoint: open %s: %s", path,
                              g_strerror(errno));
    GByteArray *buf = g_byte_array_new();
    rill_err_t err = RILL_OK;
    for (;;) {
        uint8_t chunk[4096];
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            err = rill_error_set(error, RILL_ERR_IO, "checkpoint: read %s: %s", path,
                                 g_strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if (buf->len + (size_t)r > MAX_FILE_BYTES) {
            err = corrupt(error, path, "larger than 16 MiB", 0);
            break;
        }
        g_byte_array_append(buf, chunk, (guint)r);
    }
    close(fd);
    if (err == RILL_OK) {
        rill__checkpoint_t *cp = rill__checkpoint_new();
        err = parse(path, (char *)buf->data, buf->len, cp, error);
        if (err)
            rill__checkpoint_destroy(cp);
        else
            *checkpoint = cp;
    }
    g_byte_array_unref(buf);
    return err;
}

rill_err_t rill__checkpoint_delete(const char *task_dir, rill_error_t **error)
{
    g_autofree char *path = g_build_filename(task_dir, RILL__CHECKPOINT_FILE, NULL);
    if (unlink(path) != 0 && errno != ENOENT)
        return rill_error_set(error, RILL_ERR_IO, "checkpoint: delete %s: %s", path,
                              g_strerror(errno));
    return RILL_OK;
}
