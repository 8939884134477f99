/* server-harness.h: what the server unit tests share: a server on a temp
 * log.dirs with its I/O seam captured (responses materialised, file ranges
 * read back), request builders and response decoders. */
#ifndef RB_TEST_SERVER_HARNESS_H
#define RB_TEST_SERVER_HARNESS_H

#include <glib.h>

#include "broker/server/server-private.h"

typedef struct captured {
    bool answered;
    bool has_response;
    GByteArray *bytes;
} captured_t;

typedef struct harness {
    char *dir;
    rb_config_t *config;
    rb_loop_t *loop;
    rb_server_t *server;
    captured_t slots[64];
    int next_slot;
    int closes;
    char conn_token; /* its address is the fake connection */
    rb_arena_t arena;
} harness_t;

int setup(void **state);
int teardown(void **state);
void start_server(harness_t *h);
void set_config(harness_t *h, const char *key, const char *value);
void clear_slots(harness_t *h);
/* Sends body (a request struct of api key) at version; returns the slot. */
captured_t *send_req(harness_t *h, int16_t key, int16_t v, const void *body);
/* Decodes a captured response of api key at version into out (arena-backed). */
void decode_resp(harness_t *h, captured_t *slot, int16_t key, int16_t v, void *out);
/* A record batch v2 with one record, CRC-32C set; producer fields as given. */
GByteArray *make_batch_p(const char *key, const char *value, int64_t ts, int codec, int64_t pid,
                         int16_t epoch, int32_t seq, bool txn);
GByteArray *make_batch(const char *key, const char *value, int64_t ts, int codec);
void create_topic(harness_t *h, const char *name, int32_t partitions);
/* Produces one batch; returns the partition's error and sets *base. */
int16_t produce(harness_t *h, int16_t v, int16_t acks, const char *topic, int32_t partition,
                GByteArray *batch, int64_t *base);
captured_t *send_fetch(harness_t *h, int16_t v, const char *topic, int32_t partition,
                       int64_t offset, int32_t min_bytes, int32_t max_wait, int8_t iso);
rb_list_offsets_resp_list_offsets_partition_response_t *list_offset(harness_t *h, int16_t v,
                                                                    const char *topic, int64_t ts);
/* A timer callback that stops the loop (ud). */
void stop_loop(void *ud);
/* Runs the loop until slot is answered (bounded: 5 s). */
void wait_answer(harness_t *h, captured_t *slot);

#endif
