/* windowed-key.c: encoding and decoding of windowed store keys and of windowed keys in output topics.
 *
 * Layouts and the reasons for them: windowed-key.h. Encoding never fails;
 * decoding checks everything it reads (bad bytes give false or a SERDE
 * error, never a read past the end). */
#include "config.h"

#include <string.h>

#include "common/buf.h"
#include "stores/windowed-key.h"

#define SIGN_BIT (UINT64_C(1) << 63)

size_t rill__wkey_prefix_len(const void *key, size_t key_len)
{
    const uint8_t *k = key;
    size_t n = key_len + 2;
    for (size_t i = 0; i < key_len; i++)
        n += k[i] == 0;
    return n;
}

void rill__wkey_append_prefix(GByteArray *out, const void *key, size_t key_len)
{
    const uint8_t *k = key;
    size_t start = 0;
    static const uint8_t esc[2] = {0x00, 0xff}, end[2] = {0x00, 0x01};
    for (size_t i = 0; i < key_len; i++) {
        if (k[i] != 0)
            continue;
        if (i > start)
            g_byte_array_append(out, k + start, (guint)(i - start));
        g_byte_array_append(out, esc, 2);
        start = i + 1;
    }
    if (key_len > start)
        g_byte_array_append(out, k + start, (guint)(key_len - start));
    g_byte_array_append(out, end, 2);
}

void rill__wkey_append_time(GByteArray *out, int64_t t)
{
    uint8_t b[8];
    rill__be64_put(b, (uint64_t)t ^ SIGN_BIT);
    g_byte_array_append(out, b, 8);
}

int64_t rill__wkey_time_get(const uint8_t *p)
{
    return (int64_t)(rill__be64_get(p) ^ SIGN_BIT);
}

void rill__wkey_window(GByteArray *out, const void *key, size_t key_len, int64_t start,
                       uint32_t seq)
{
    g_byte_array_set_size(out, 0);
    rill__wkey_append_prefix(out, key, key_len);
    rill__wkey_append_time(out, start);
    uint8_t b[4];
    rill__be32_put(b, seq);
    g_byte_array_append(out, b, 4);
}

void rill__wkey_session(GByteArray *out, const void *key, size_t key_len, int64_t start,
                        int64_t end)
{
    g_byte_array_set_size(out, 0);
    rill__wkey_append_prefix(out, key, key_len);
    rill__wkey_append_time(out, end);
    rill__wkey_append_time(out, start);
}

bool rill__wkey_decode(const void *skey, size_t skey_len, size_t suffix_len, GByteArray *out,
                       const uint8_t **suffix)
{
    const uint8_t *p = skey;
    if (skey_len < suffix_len + 2)
        return false;
    size_t n = skey_len - suffix_len; /* E(key) 0x00 0x01 */
    if (p[n - 2] != 0x00 || p[n - 1] != 0x01)
        return false;
    g_byte_array_set_size(out, 0);
    size_t start = 0, i = 0;
    while (i < n - 2) {
        if (p[i] != 0) {
            i++;
            continue;
        }
        if (p[i + 1] != 0xff) /* i + 1 <= n - 2: an unescaped 0x00 inside the key */
            return false;
        g_byte_array_append(out, p + start, (guint)(i + 1 - start));
        i += 2;
        start = i;
    }
    if (i != n - 2)
        return false;
    if (n - 2 > start)
        g_byte_array_append(out, p + start, (guint)(n - 2 - start));
    if (suffix)
        *suffix = p + n;
    return true;
}

/* ---- output topic serde ---------------------------------------------------------- */

uint8_t *rill__windowed_serialize(const void *key, size_t key_len, int64_t start,
                                  size_t *out_len)
{
    uint8_t *b = g_malloc(key_len + 8);
    if (key_len)
        memcpy(b, key, key_len);
    rill__be64_put(b + key_len, (uint64_t)start);
    *out_len = key_len + 8;
    return b;
}

rill_err_t rill__windowed_deserialize(const void *data, size_t len, int64_t window_size_ms,
                                      const void **key, size_t *key_len, int64_t *start,
                                      int64_t *end, rill_error_t **error)
{
    if (data == NULL || len < 8)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "windowed key: %zu bytes, need at least 8 (key + window start)",
                              data ? len : 0);
    const uint8_t *p = data;
    *key = p;
    *key_len = len - 8;
    *start = (int64_t)rill__be64_get(p + len - 8);
    if (end)
        *end = window_size_ms > INT64_MAX - *start ? INT64_MAX : *start + window_size_ms;
    return RILL_OK;
}

uint8_t *rill__session_windowed_serialize(const void *key, size_t key_len, int64_t start,
                                          int64_t end, size_t *out_len)
{
    uint8_t *b = g_malloc(key_len + 16);
    if (key_len)
        memcpy(b, key, key_len);
    rill__be64_put(b + key_len, (uint64_t)end);
    rill__be64_put(b + key_len + 8, (uint64_t)start);
    *out_len = key_len + 16;
    return b;
}

rill_err_t rill__session_windowed_deserialize(const void *data, size_t len, const void **key,
                                              size_t *key_len, int64_t *start, int64_t *end,
                                              rill_error_t **error)
{
    if (data == NULL || len < 16)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "session-windowed key: %zu bytes, need at least 16 (key + end + start)",
                              data ? len : 0);
    const uint8_t *p = data;
    int64_t e = (int64_t)rill__be64_get(p + len - 16);
    int64_t s = (int64_t)rill__be64_get(p + len - 8);
    if (e < s)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "session-windowed key: end %" G_GINT64_FORMAT
                              " before start %" G_GINT64_FORMAT,
                              e, s);
    *key = p;
    *key_len = len - 16;
    *start = s;
    *end = e;
    return RILL_OK;
}
