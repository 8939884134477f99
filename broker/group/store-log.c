/* store-log.c: the offsets store on a partition log (broker/log/log.h):
 * appends go through rb_log_append, replay reads the log from its start
 * offset to its end with rb_log_read and pread.
 *
 * The log is compacted (cleanup.policy=compact): the cleaner keeps the latest
 * record per key, which is exactly what replay needs (the latest value per key
 * wins, a tombstone deletes); tombstones go after delete.retention.ms. Replay reads
 * whole batches: rb_log_read returns at least one whole batch (KIP-74), and a batch cut at the end
 * of a read is read again at the next offset, with a larger buffer if it did not fit.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "broker/group/group.h"
#include "broker/log/log.h"
#include "common/buf.h"

#define READ_MIN (1u << 20)
#define READ_MAX (256u << 20)

typedef struct log_store {
    rb_log_t *log;
    bool owned;
} log_store_t;

static int16_t log_store_append(void *ud, uint8_t *batch, size_t len, int64_t now_ms)
{
    log_store_t *store = ud;
    rb_append_info_t info;
    return rb_log_append(store->log, batch, len, now_ms, &info);
}

static bool read_fully(int fd, off_t pos, uint8_t *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, pos + (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        done += (size_t)n;
    }
    return true;
}

static int log_store_replay(void *ud, void (*fn)(void *arg, const uint8_t *batch, size_t len),
                            void *arg, char **errmsg)
{
    log_store_t *store = ud;
    int64_t offset = rb_log_start_offset(store->log);
    int64_t end = rb_log_end_offset(store->log);
    size_t max = READ_MIN;
    g_autofree uint8_t *buf = NULL;
    size_t buf_cap = 0;
    while (offset < end) {
        rb_log_slice_t slice;
        rb_kerr_t err = rb_log_read(store->log, offset, end, max, &slice);
        if (err) {
            *errmsg = g_strdup_printf("reading offset %" G_GINT64_FORMAT ": error %d", offset, err);
            return -1;
        }
        if (slice.len == 0)
            break; /* nothing readable below end: done */
        if (buf_cap < slice.len) {
            g_free(buf);
            buf = g_malloc(slice.len);
            buf_cap = slice.len;
        }
        if (!read_fully(slice.fd, slice.pos, buf, slice.len)) {
            *errmsg = g_strdup_printf("reading offset %" G_GINT64_FORMAT ": %s", offset,
                                      g_strerror(errno));
            return -1;
        }
        size_t pos = 0;
        int64_t next = offset;
        while (slice.len - pos >= 61) {
            size_t batch_len = (size_t)rill__be32_get(buf + pos + 8) + 12;
            if (batch_len < 61 || batch_len > slice.len - pos)
                break;
            int64_t base = (int64_t)rill__be64_get(buf + pos);
            int64_t last = base + (int32_t)rill__be32_get(buf + pos + 23);
            if (last >= offset)
                fn(arg, buf + pos, batch_len);
            next = last + 1;
            pos += batch_len;
        }
        if (next == offset) {
            if (max >= READ_MAX || slice.len < max) {
                *errmsg = g_strdup_printf("unreadable batch at offset %" G_GINT64_FORMAT, offset);
                return -1;
            }
            max *= 2;
            continue;
        }
        offset = next;
    }
    return 0;
}

static void log_store_maintain(void *ud, int64_t now_ms)
{
    log_store_t *store = ud;
    rb_log_maintain(store->log, now_ms);
}

static void log_store_close(void *ud)
{
    log_store_t *store = ud;
    if (store->owned)
        rb_log_close(store->log);
    g_free(store);
}

void rb_group_store_log_config(struct rb_log_config *config)
{
    rb_log_config_init(config);
    config->segment_bytes = 100 << 20;    /* offsets.topic.segment.bytes */
    config->max_message_bytes = 16 << 20; /* one commit of many partitions is one batch */
    config->retention_ms = -1;
    config->compact = true; /* offsets.topic: cleanup.policy=compact */
    config->delete_ = false;
    /* delete.retention.ms: Kafka's default (1 day, from rb_log_config_init).
     * The cleaner compacts committed TxnOffsetCommit records like plain ones
     * and removes aborted ones, so a tombstone removes every older value of
     * its key before it expires itself. */
}

int rb_group_store_open_log(const char *log_dir, rb_group_store_t *store, char **errmsg)
{
    rb_log_config_t config;
    rb_group_store_log_config(&config);
    g_autofree char *dir = g_strdup_printf("%s/%s-0", log_dir, RB_GROUP_OFFSETS_TOPIC);
    rb_log_t *log = rb_log_open(dir, &config, errmsg);
    if (!log)
        return -1;
    log_store_t *ls = g_new0(log_store_t, 1);
    ls->log = log;
    ls->owned = true;
    *store = (rb_group_store_t){
        .append = log_store_append,
        .replay = log_store_replay,
        .maintain = log_store_maintain,
        .close = log_store_close,
        .ud = ls,
    };
    return 0;
}

void rb_group_store_borrow_log(struct rb_log *log, rb_group_store_t *store)
{
    log_store_t *ls = g_new0(log_store_t, 1);
    ls->log = log;
    ls->owned = false;
    *store = (rb_group_store_t){
        .append = log_store_append,
        .replay = log_store_replay,
        .close = log_store_close,
        .ud = ls,
    };
}
