/* proto.h: rill-broker's Kafka wire codec: value types, the descriptor-driven
 * decoder and encoder, request/response headers, and a small arena.
 *
 * Design: broker/protocol/messages.schema describes every served message;
 * gen-protocol.py turns it into C structs plus one descriptor table per
 * struct (field type, versions, nullability, tag, offset in the C struct)
 * and typed wrappers (messages-gen.h). One interpreter here walks those
 * tables, so the version rules (compact encodings from the flexible version
 * on, nullable strings/arrays, tagged-field sections with unknown tags
 * skipped, defaults for absent fields) are written once, not per API.
 *
 * Ownership: decoded values are borrowed: strings, bytes and records point
 * into the request frame (no copy), arrays are allocated from the caller's
 * arena. Both must outlive the decoded struct. The decoder never reads past
 * its rill_rbuf_t, rejects counts that cannot fit in the remaining bytes
 * before allocating, and fails (returns -1) on null where the version does
 * not allow it; garbage input can only produce -1, never a crash.
 *
 * Records fields of encoded messages may refer to a file range instead of
 * memory (ptr == NULL, len > 0): the encoder then writes the length prefix
 * and records a splice (file, position, length) at that point of the output,
 * so that the network layer can send the log bytes with sendfile. protocol/
 * itself never touches files or sockets. */
#ifndef RB_PROTO_H
#define RB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* ---- value types ------------------------------------------------------- */

/* A string: not NUL-terminated. len -1 = null. Zero-initialised = "". */
typedef struct rb_str {
    const char *ptr;
    int32_t len;
} rb_str_t;

/* Bytes: len -1 = null. */
typedef struct rb_bytes {
    const uint8_t *ptr;
    int32_t len;
} rb_bytes_t;

/* Records (record batches, opaque to the codec). len -1 = null. When ptr is
 * NULL and len > 0 the bytes are file_fd's [file_pos, file_pos + len)
 * (encode only). */
typedef struct rb_records {
    const uint8_t *ptr;
    int32_t len;
    int file_fd;
    int64_t file_pos;
} rb_records_t;

typedef struct rb_uuid {
    uint8_t b[16];
} rb_uuid_t;

#define RB_STR_NULL ((rb_str_t){NULL, -1})
rb_str_t rb_str_c(const char *s); /* borrowed; NULL gives the null string */
bool rb_str_eq(rb_str_t a, const char *s);
bool rb_str_is_null(rb_str_t s);
/* A NUL-terminated copy (g_free it); NULL for the null string. */
char *rb_str_dup(rb_str_t s);
bool rb_uuid_is_zero(const rb_uuid_t *u);

/* ---- arena --------------------------------------------------------------- */

/* A bump allocator: many small allocations, freed all at once. */
typedef struct rb_arena {
    struct rb_arena_chunk *head;
} rb_arena_t;

void rb_arena_init(rb_arena_t *arena);
/* n zeroed bytes, aligned for any type; lives until rb_arena_clear. */
void *rb_arena_alloc(rb_arena_t *arena, size_t n);
/* A copy of s in the arena (NUL-terminated too, though rb_str_t does not need it). */
rb_str_t rb_arena_str(rb_arena_t *arena, const char *s, size_t len);
rb_str_t rb_arena_printf(rb_arena_t *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void rb_arena_clear(rb_arena_t *arena);

/* ---- encoder ------------------------------------------------------------- */

/* A file range to insert at byte `at` of the encoded memory. */
typedef struct rb_splice {
    size_t at;
    int fd;
    int64_t pos;
    size_t len;
} rb_splice_t;

typedef struct rb_enc {
    rill_wbuf_t w;
    rb_splice_t *splices; /* g_malloc'd */
    size_t nsplices;
    size_t splices_cap;
} rb_enc_t;

void rb_enc_init(rb_enc_t *enc);
void rb_enc_free(rb_enc_t *enc);
/* Total length: memory plus spliced file bytes. */
size_t rb_enc_len(const rb_enc_t *enc);

/* ---- descriptors (filled in by the generated code) ------------------------ */

typedef enum rb_ftype {
    RB_FT_BOOL = 1,
    RB_FT_INT8,
    RB_FT_INT16,
    RB_FT_UINT16,
    RB_FT_INT32,
    RB_FT_UINT32,
    RB_FT_INT64,
    RB_FT_FLOAT64,
    RB_FT_UUID,
    RB_FT_STRING,
    RB_FT_BYTES,
    RB_FT_RECORDS,
    RB_FT_STRUCT,
} rb_ftype_t;

struct rb_struct_desc;

typedef struct rb_field_desc {
    const char *name;
    uint8_t type; /* rb_ftype_t; for arrays the element type */
    bool array;
    bool noflex;  /* classic encoding even in flexible versions */
    int16_t vmin; /* present in versions [vmin, vmax] (tagged: the tagged versions) */
    int16_t vmax;
    int16_t nmin; /* nullable in [nmin, nmax]; nmin > nmax = never */
    int16_t nmax;
    int32_t tag;                      /* -1 = not a tagged field */
    uint32_t offset;                  /* of the value, or of the items pointer */
    uint32_t count_offset;            /* arrays: of the int32 count (-1 = null) */
    uint32_t elem_size;               /* arrays: bytes per element */
    const struct rb_struct_desc *sub; /* RB_FT_STRUCT */
    int64_t def_int;                  /* default of numbers and bools */
    const char *def_str; /* default of strings; NULL = null (or "" when not nullable) */
} rb_field_desc_t;

typedef struct rb_struct_desc {
    const char *name;
    uint32_t size;
    uint32_t nfields;
    const rb_field_desc_t *fields;
} rb_struct_desc_t;

typedef struct rb_msg_desc {
    const char *name; /* "ProduceRequest" */
    const rb_struct_desc_t *body;
} rb_msg_desc_t;

/* One served API (the generated table rb_proto_apis[]). */
typedef struct rb_api_desc {
    int16_t key;
    const char *name;
    int16_t min_version; /* served and advertised */
    int16_t max_version;
    int16_t flexible_min; /* first flexible version; INT16_MAX = none */
    const rb_msg_desc_t *request;
    const rb_msg_desc_t *response;
} rb_api_desc_t;

extern const rb_api_desc_t rb_proto_apis[];
extern const size_t rb_proto_n_apis;
/* The served API with this key, or NULL. */
const rb_api_desc_t *rb_proto_api(int16_t key);
static inline bool rb_proto_is_flexible(const rb_api_desc_t *api, int16_t version)
{
    return version >= api->flexible_min;
}

/* Decodes a message body at version into out (a zeroed or any struct of the
 * message's type). Returns 0, or -1 on malformed input (r->err is set). */
int rb_proto_decode(const rb_msg_desc_t *msg, int16_t version, bool flexible, rill_rbuf_t *r,
                    rb_arena_t *arena, void *out);
/* Encodes a message body at version. Fields absent from version are skipped. */
void rb_proto_encode(const rb_msg_desc_t *msg, int16_t version, bool flexible, rb_enc_t *enc,
                     const void *in);
/* Sets every field of a struct to its default (for building responses). */
void rb_proto_init(const rb_struct_desc_t *desc, void *out);

/* ---- headers ---------------------------------------------------------------- */

enum {
    RB_API_PRODUCE = 0,
    RB_API_FETCH = 1,
    RB_API_LIST_OFFSETS = 2,
    RB_API_METADATA = 3,
    RB_API_API_VERSIONS = 18
};

typedef struct rb_req_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    rb_str_t client_id; /* borrowed from the frame */
} rb_req_header_t;

/* Reads the request header (v1, or v2 with its tagged section when
 * flexible). Returns 0 or -1. */
int rb_proto_read_req_header(rill_rbuf_t *r, bool flexible, rb_req_header_t *hdr);
/* Reads only api key, version and correlation id (enough to pick the header
 * version, or to answer an unknown API). Returns 0 or -1; r is not advanced. */
int rb_proto_peek_req_header(const uint8_t *frame, size_t len, rb_req_header_t *hdr);
/* Writes a request header (tests and tools). */
void rb_proto_write_req_header(rb_enc_t *enc, const rb_req_header_t *hdr, bool flexible);
/* Writes the response header: v1 (with an empty tagged section) when flexible. */
void rb_proto_write_resp_header(rb_enc_t *enc, int32_t correlation_id, bool flexible);

#endif /* RB_PROTO_H */
