/* group-private.h: the coordinator's internal structures, shared by
 * coordinator.c (membership), offsets.c (committed offsets) and records.c
 * (the offsets log format). Nothing outside broker/group/ includes this.
 *
 * Ownership: the coordinator owns its groups (groups: id -> rb_group_t);
 * a group owns its members, pending members, offsets and pending
 * transactional offsets. A member's timer and a group's timers are always
 * cancelled before the struct they point at is freed. */
#ifndef RB_GROUP_PRIVATE_H
#define RB_GROUP_PRIVATE_H

#include <glib.h>

#include "broker/group/group.h"
#include "broker/log/batch.h"
#include "common/buf.h"

typedef enum rb_group_state {
    RB_GROUP_EMPTY,
    RB_GROUP_PREPARING_REBALANCE,
    RB_GROUP_COMPLETING_REBALANCE,
    RB_GROUP_STABLE,
    RB_GROUP_DEAD,
} rb_group_state_t;

typedef struct rb_group rb_group_t;

typedef struct rb_member_protocol {
    char *name;
    GBytes *metadata;
} rb_member_protocol_t;

typedef struct rb_member {
    rb_group_t *group;
    char *member_id;
    char *instance_id; /* NULL if dynamic */
    char *client_id;
    char *client_host;
    GPtrArray *protocols; /* rb_member_protocol_t, in the member's order of preference */
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    GBytes *assignment; /* empty until the leader's SyncGroup */
    rb_join_cb join_cb; /* set while awaiting the join answer */
    void *join_ud;
    rb_sync_cb sync_cb; /* set while awaiting the sync answer */
    void *sync_ud;
    bool is_new; /* joined in the current rebalance, not yet part of a generation */
    bool synced; /* sent SyncGroup in the current generation */
    rb_group_timer_id_t session_timer;
} rb_member_t;

/* A member id handed out with MEMBER_ID_REQUIRED, not yet joined (KIP-394). */
typedef struct rb_pending_member {
    rb_group_t *group;
    char *member_id;
    rb_group_timer_id_t timer;
} rb_pending_member_t;

/* One committed (or pending transactional) offset. */
typedef struct rb_offset {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts; /* wall ms */
} rb_offset_t;

struct rb_group {
    rb_group_coord_t *coord;
    char *group_id;
    rb_group_state_t state;
    int64_t state_since; /* wall ms of the last state change (currentStateTimestamp) */
    int32_t generation_id;
    char *protocol_type; /* NULL until a member joined (or loaded) */
    char *protocol_name; /* NULL when the group has no members */
    char *leader_id;     /* NULL when the group has no members */
    GPtrArray *members;  /* rb_member_t (owned), in join order */
    GHashTable *pending; /* member id -> rb_pending_member_t (owned) */
    /* PreparingRebalance: the join deadline (rebalance timeout), or the
     * initial delay of a group that was Empty (KIP-134). */
    rb_group_timer_id_t join_timer;
    bool initial_delay;
    bool new_member_added;
    int32_t initial_remaining_ms;
    /* CompletingRebalance: members that do not sync in time are removed. */
    rb_group_timer_id_t sync_timer;
    GHashTable *offsets;     /* rb_offset_t (key and value) -> owned */
    GHashTable *pending_txn; /* int64 producer id -> GHashTable like offsets */
};

struct rb_group_coord {
    rb_group_config_t config;
    rb_group_env_t env;
    rb_group_store_t store;
    bool has_store;
    bool loaded;
    GHashTable *groups; /* group id -> rb_group_t (owned) */
    rb_group_timer_id_t expiry_timer;
    int in_callback; /* > 0 while answering: re-entry is a programming error */
};

/* ---- coordinator.c ---- */
/* The keys / values of a table in a new array (GLib 2.74 lacks the _as_ptr_array calls). */
GPtrArray *rb__table_keys(GHashTable *table);
GPtrArray *rb__table_values(GHashTable *table);
rb_group_t *rb__group_get(rb_group_coord_t *coord, const char *group_id);
rb_group_t *rb__group_get_or_add(rb_group_coord_t *coord, const char *group_id);
void rb__group_remove(rb_group_coord_t *coord, rb_group_t *group); /* frees */
rb_member_t *rb__group_member(rb_group_t *group, const char *member_id);
/* FENCED_INSTANCE_ID / UNKNOWN_MEMBER_ID checks shared with offsets.c. */
int16_t rb__group_validate_member(rb_group_t *group, const char *member_id,
                                  const char *instance_id);
/* Restarts the member's session timer (a heartbeat or a commit). */
void rb__group_member_touch(rb_member_t *member);
const char *rb__group_state_name(rb_group_state_t state);
int64_t rb__group_wall(rb_group_coord_t *coord);
/* The topics the members of a Stable "consumer" group subscribe to (topic ->
 * itself, from each member's ConsumerProtocolSubscription for the selected
 * protocol), or NULL when that cannot be told (another protocol type, a
 * subscription that does not parse). (transfer full) */
GHashTable *rb__group_subscribed_topics(rb_group_t *group);
/* Writes the group's metadata record (or its tombstone when deleted). */
int16_t rb__group_store_metadata(rb_group_t *group, bool tombstone);

/* ---- offsets.c ---- */
GHashTable *rb__offsets_table_new(void);
void rb__offset_free(rb_offset_t *off);
/* Replay: apply one loaded record. */
void rb__offsets_load_commit(rb_group_coord_t *coord, const char *group_id, rb_offset_t *off);
void rb__offsets_load_tombstone(rb_group_coord_t *coord, const char *group_id, const char *topic,
                                int32_t partition);
void rb__offsets_load_txn(rb_group_coord_t *coord, const char *group_id, int64_t producer_id,
                          rb_offset_t *off);
void rb__offsets_load_marker(rb_group_coord_t *coord, int64_t producer_id, bool commit);
void rb__offsets_start_expiry(rb_group_coord_t *coord);

/* ---- records.c: the __consumer_offsets format ---- */

/* A batch under construction (broker/log/batch.h's builder; one timestamp for
 * every record). */
typedef struct rb_offsets_batch {
    rb_batch_builder_t builder;
    int64_t timestamp;
} rb_offsets_batch_t;

void rb__batch_begin(rb_offsets_batch_t *b, int64_t timestamp);
/* value NULL = tombstone. */
void rb__batch_add(rb_offsets_batch_t *b, const rill_wbuf_t *key, const rill_wbuf_t *value);
/* Drops a batch that will not be written. */
void rb__batch_discard(rb_offsets_batch_t *b);
/* Finishes the batch (producer_id -1 for a plain one) and appends it to the
 * store. Returns 0 or a Kafka error code. */
int16_t rb__batch_finish_append(rb_group_coord_t *coord, rb_offsets_batch_t *b, int64_t producer_id,
                                int16_t producer_epoch, bool transactional, bool control);

void rb__record_offset_key(rill_wbuf_t *w, const char *group_id, const char *topic,
                           int32_t partition);
void rb__record_offset_value(rill_wbuf_t *w, const rb_offset_t *off);
void rb__record_group_key(rill_wbuf_t *w, const char *group_id);
void rb__record_group_value(rill_wbuf_t *w, const rb_group_t *group);
void rb__record_marker_key(rill_wbuf_t *w, bool commit);
void rb__record_marker_value(rill_wbuf_t *w);

/* Parses one batch from the log and applies its records. Returns 0, or -1
 * and sets *errmsg for a malformed batch. */
int rb__records_apply_batch(rb_group_coord_t *coord, const uint8_t *batch, size_t len,
                            char **errmsg);

#endif /* RB_GROUP_PRIVATE_H */
