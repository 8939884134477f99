/* windowed-key.h: the byte layouts of windowed keys: in window/session stores (and their changelogs), and in output topics.
 *
 * Store keys (also the changelog keys, so a restore copies them as they are):
 *
 *     window store:   E(key) 0x00 0x01 | T(window start) | seq (4 bytes BE)
 *     session store:  E(key) 0x00 0x01 | T(session end)  | T(session start)
 *
 * E escapes every 0x00 byte of the key as 0x00 0xff, and 0x00 0x01 ends it.
 * T(t) is the 8-byte big-endian two's complement of t with the sign bit
 * flipped, so that unsigned byte order is numeric order, negatives included.
 * Why escape instead of Kafka Streams' plain `key | start | seq`: with the
 * plain layout the entries of key "a" interleave with those of "a\x00..."
 * (or any longer key whose next bytes fall between two timestamps), so a
 * per-key time-range scan has to skip foreign entries. The escaped layout is
 * prefix-free and order-preserving:
 *   - all entries of one key are contiguous (E(key) 0x00 0x01 is a prefix of
 *     no other key's encoding), ordered by time then seq (or end then start);
 *   - keys still sort in unsigned byte order of the raw key (a key before
 *     its extensions: 0x00 0x01 < 0x00 0xff and < any byte >= 0x01).
 * The cost is one byte per 0x00 byte of the key, plus 2.
 *
 * Output topics (the windowed serde, Kafka Streams' wire format, so Java
 * consumers read them with TimeWindowedDeserializer/SessionWindowedDeserializer):
 *
 *     time window:    key | window start (8 bytes BE)
 *     session window: key | session end (8 bytes BE) | session start (8 bytes BE)
 *
 * A time-windowed key does not carry the window end: the reader knows the
 * window size (end = start + size), as in Kafka Streams. */
#ifndef RILL_STORES_WINDOWED_KEY_H
#define RILL_STORES_WINDOWED_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <rill/error.h>

#define RILL__WINDOW_SUFFIX_LEN 12  /* T(start) + seq */
#define RILL__SESSION_SUFFIX_LEN 16 /* T(end) + T(start) */

/* ---- store keys ------------------------------------------------------------ */

/* Bytes E(key) 0x00 0x01 takes. */
size_t rill__wkey_prefix_len(const void *key, size_t key_len);

/* Appends E(key) 0x00 0x01 to out. */
void rill__wkey_append_prefix(GByteArray *out, const void *key, size_t key_len);

/* Appends T(t). */
void rill__wkey_append_time(GByteArray *out, int64_t t);

/* The store key of (key, window start, seq), written to out (cleared first). */
void rill__wkey_window(GByteArray *out, const void *key, size_t key_len, int64_t start,
                       uint32_t seq);

/* The store key of the session (key, start, end), written to out (cleared first). */
void rill__wkey_session(GByteArray *out, const void *key, size_t key_len, int64_t start,
                        int64_t end);

/* T(t) read back from 8 bytes. */
int64_t rill__wkey_time_get(const uint8_t *p);

/* Decodes a store key with a suffix of suffix_len bytes: the raw key is
 * written to out (cleared first), *suffix (optional) points at the suffix
 * inside skey. Returns false if skey is not a valid encoding. */
bool rill__wkey_decode(const void *skey, size_t skey_len, size_t suffix_len, GByteArray *out,
                       const uint8_t **suffix);

/* ---- output topic serde (Kafka Streams' layout) ----------------------------- */

/* key | start. (transfer full, g_free; *out_len set) */
uint8_t *rill__windowed_serialize(const void *key, size_t key_len, int64_t start,
                                  size_t *out_len);

/* Reads key | start back: *key points into data (borrowed), *end = start +
 * window_size_ms. Fails with RILL_ERR_SERDE if data is shorter than 8 bytes. */
rill_err_t rill__windowed_deserialize(const void *data, size_t len, int64_t window_size_ms,
                                      const void **key, size_t *key_len, int64_t *start,
                                      int64_t *end, rill_error_t **error);

/* key | end | start. (transfer full, g_free) */
uint8_t *rill__session_windowed_serialize(const void *key, size_t key_len, int64_t start,
                                          int64_t end, size_t *out_len);

/* Reads key | end | start back (key borrowed from data). RILL_ERR_SERDE if
 * data is shorter than 16 bytes or end < start. */
rill_err_t rill__session_windowed_deserialize(const void *data, size_t len, const void **key,
                                              size_t *key_len, int64_t *start, int64_t *end,
                                              rill_error_t **error);

#endif
