/* group.h: rill-broker's consumer-group coordinator (the classic protocol):
 * membership (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), committed
 * offsets (OffsetCommit, OffsetFetch, TxnOffsetCommit), and the admin
 * views (DescribeGroups, ListGroups, DeleteGroups).
 *
 * This header is the contract between group/ and the request handlers in
 * server/. The handlers decode a request, call one function here with plain
 * C values (the request's fields, Kafka's names), and encode what comes
 * back. Every answer is a Kafka error code (int16, 0 = NONE) plus data.
 *
 * Design:
 *   - One coordinator per broker (a single node owns every group). It runs
 *     on the loop thread; nothing here is thread-safe.
 *   - Time and timers come from an rb_group_env_t the caller provides: the
 *     server maps it onto rb_loop_add_timer / rb_loop_cancel_timer; unit
 *     tests drive a fake clock by hand, so every test is deterministic.
 *   - JoinGroup and SyncGroup answer through callbacks, because the answer
 *     waits for the rebalance. The callback may run before the call
 *     returns (e.g. errors, a follower rejoining a stable group) or later
 *     (from another member's request, a timer, or rb_group_coord_destroy).
 *     Each callback is called exactly once. What a callback receives is
 *     borrowed until it returns. Callbacks must not call back into the
 *     coordinator (the server only encodes the answer and responds).
 *   - Committed offsets are persisted through an rb_group_store_t: a log of
 *     record batches v2 in the format of Kafka's __consumer_offsets topic
 *     (see records.c). rb_group_store_open_log() gives the real one on
 *     broker/log/log.h; tests may give their own. Loading replays the log:
 *     the latest value per key wins, tombstones delete.
 *   - Functions that take arrays of partitions read the input fields and
 *     write the output fields of the same array; the handler flattens the
 *     request's topics into it and regroups the answer by topic.
 */
#ifndef RB_GROUP_H
#define RB_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rb_group_coord rb_group_coord_t;

/* Kafka error codes the coordinator answers. */
enum {
    RB_GROUP_ERR_NONE = 0,
    RB_GROUP_ERR_UNKNOWN_SERVER_ERROR = -1,
    RB_GROUP_ERR_OFFSET_METADATA_TOO_LARGE = 12,
    RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    RB_GROUP_ERR_NOT_COORDINATOR = 16,
    RB_GROUP_ERR_ILLEGAL_GENERATION = 22,
    RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    RB_GROUP_ERR_INVALID_GROUP_ID = 24,
    RB_GROUP_ERR_UNKNOWN_MEMBER_ID = 25,
    RB_GROUP_ERR_INVALID_SESSION_TIMEOUT = 26,
    RB_GROUP_ERR_REBALANCE_IN_PROGRESS = 27,
    RB_GROUP_ERR_INVALID_PRODUCER_EPOCH = 47,
    RB_GROUP_ERR_NON_EMPTY_GROUP = 68,
    RB_GROUP_ERR_GROUP_ID_NOT_FOUND = 69,
    RB_GROUP_ERR_MEMBER_ID_REQUIRED = 79,
    RB_GROUP_ERR_GROUP_MAX_SIZE_REACHED = 81,
    RB_GROUP_ERR_FENCED_INSTANCE_ID = 82,
    RB_GROUP_ERR_UNSTABLE_OFFSET_COMMIT = 88,
};

/* ---- environment: clocks, timers, storage ------------------------------ */

typedef uint64_t rb_group_timer_id_t;

/* Time and one-shot timers (the server: rb_loop_now_ms, rill__clock_wall_ms,
 * rb_loop_add_timer, rb_loop_cancel_timer). A timer id is > 0; cancelling a
 * timer that already fired is a no-op. */
typedef struct rb_group_env {
    int64_t (*now_ms)(void *ud);  /* monotonic: session and rebalance timeouts */
    int64_t (*wall_ms)(void *ud); /* ms since the epoch: commit timestamps, retention */
    rb_group_timer_id_t (*add_timer)(void *ud, int64_t delay_ms, void (*cb)(void *arg), void *arg);
    void (*cancel_timer)(void *ud, rb_group_timer_id_t id);
    void *ud;
} rb_group_env_t;

/* Where the offsets log lives. The coordinator owns it once given to
 * rb_group_coord_new (close is called by rb_group_coord_destroy). */
typedef struct rb_group_store {
    /* Appends one record batch v2, modified in place (base offset) like
     * rb_log_append. Returns 0 or a Kafka error code; on error nothing is
     * written. */
    int16_t (*append)(void *ud, uint8_t *batch, size_t len, int64_t now_ms);
    /* Calls fn for every batch from the start of the log, in order. fn's
     * batch is borrowed until it returns. Returns 0, or -1 and sets *errmsg
     * (g_free it). */
    int (*replay)(void *ud, void (*fn)(void *arg, const uint8_t *batch, size_t len), void *arg,
                  char **errmsg);
    /* Housekeeping (compaction, roll, flush), called with the offset expiry
     * every offsets.retention.check.interval.ms. May be NULL. */
    void (*maintain)(void *ud, int64_t now_ms);
    /* Frees the store (not the log when the store only borrows it). May be NULL. */
    void (*close)(void *ud);
    void *ud;
} rb_group_store_t;

/* The real store: the partition log <log_dir>/__consumer_offsets-0 (compacted),
 * opened (and recovered) through broker/log/log.h and owned by the store.
 * Returns 0, or -1 and sets *errmsg (g_free it). */
int rb_group_store_open_log(const char *log_dir, rb_group_store_t *store, char **errmsg);

/* The settings of the offsets log (compacted, no time retention, tombstones
 * kept: see store-log.c), for a caller that opens the log itself. */
struct rb_log_config;
void rb_group_store_log_config(struct rb_log_config *config);

/* A store on a log the caller owns (e.g. the server's topic registry opened
 * __consumer_offsets-0 itself): the log must outlive the coordinator, and
 * maintain is left to the caller. log is an rb_log_t (broker/log/log.h). */
struct rb_log;
void rb_group_store_borrow_log(struct rb_log *log, rb_group_store_t *store);

/* The topic that holds committed offsets. */
#define RB_GROUP_OFFSETS_TOPIC "__consumer_offsets"

/* Settings, with Kafka's names. */
typedef struct rb_group_config {
    int32_t min_session_timeout_ms;              /* group.min.session.timeout.ms (6000) */
    int32_t max_session_timeout_ms;              /* group.max.session.timeout.ms (1800000) */
    int32_t initial_rebalance_delay_ms;          /* group.initial.rebalance.delay.ms (3000) */
    int32_t max_size;                            /* group.max.size (-1 = unlimited) */
    int64_t offsets_retention_ms;                /* offsets.retention.ms (7 days) */
    int64_t offsets_retention_check_interval_ms; /* offsets.retention.check.interval.ms (600000) */
    int32_t offset_metadata_max_bytes;           /* offset.metadata.max.bytes (4096) */
} rb_group_config_t;

/* Kafka's defaults. */
void rb_group_config_defaults(rb_group_config_t *config);

/* ---- lifetime ----------------------------------------------------------- */

/* A coordinator that answers COORDINATOR_LOAD_IN_PROGRESS until
 * rb_group_coord_load() has run. config and env are copied; store is
 * (transfer full) — closed by destroy (may be NULL: offsets then live in
 * memory only). */
rb_group_coord_t *rb_group_coord_new(const rb_group_config_t *config, const rb_group_env_t *env,
                                     const rb_group_store_t *store);

/* Replays the store: committed offsets, group metadata (Empty groups with
 * their generation and protocol type) and pending transactional offsets.
 * Then starts the periodic offset expiry. Returns 0, or -1 with *errmsg set
 * (the coordinator then stays "loading"). */
int rb_group_coord_load(rb_group_coord_t *coord, char **errmsg);

/* Answers every pending JoinGroup/SyncGroup with NOT_COORDINATOR, cancels
 * every timer, closes the store and frees. NULL is a no-op. */
void rb_group_coord_destroy(rb_group_coord_t *coord);

/* FindCoordinator with key type GROUP: 0 (this node coordinates every group;
 * the handler answers its own node id, host and port), also while loading as
 * Kafka does (the group requests then answer COORDINATOR_LOAD_IN_PROGRESS);
 * COORDINATOR_NOT_AVAILABLE when coord is NULL (the coordinator failed to
 * start). */
int16_t rb_group_find_coordinator(const rb_group_coord_t *coord, const char *key);

/* ---- JoinGroup ---------------------------------------------------------- */

typedef struct rb_group_protocol {
    const char *name;
    const uint8_t *metadata;
    size_t metadata_len;
} rb_group_protocol_t;

typedef struct rb_join_request {
    const char *group_id;
    const char *member_id;         /* "" on a first join */
    const char *group_instance_id; /* NULL unless static membership (v5+) */
    const char *protocol_type;     /* "consumer" for consumers */
    const rb_group_protocol_t *protocols;
    size_t protocol_count;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* v0: -1, meaning session_timeout_ms */
    bool require_known_member_id; /* JoinGroup v4+ (KIP-394) */
    const char *client_id;        /* from the request header (for Describe) */
    const char *client_host;      /* peer address (for Describe) */
} rb_join_request_t;

typedef struct rb_join_member {
    const char *member_id;
    const char *group_instance_id; /* NULL if dynamic */
    const uint8_t *metadata;       /* for the selected protocol */
    size_t metadata_len;
} rb_join_member_t;

/* JoinGroup's answer. Strings are never NULL except protocol_name (NULL when
 * there is none, e.g. on an error: encode "" below v7) and protocol_type. */
typedef struct rb_join_result {
    int16_t error_code;
    int32_t generation_id;     /* -1 on error */
    const char *protocol_type; /* v7+ */
    const char *protocol_name;
    const char *leader;
    const char *member_id;           /* the member's id: set with MEMBER_ID_REQUIRED too */
    bool skip_assignment;            /* v9+: always false here */
    const rb_join_member_t *members; /* the leader gets every member; others none */
    size_t member_count;
} rb_join_result_t;

typedef void (*rb_join_cb)(const rb_join_result_t *result, void *ud);

/* Handles one JoinGroup. cb is called exactly once (see the design note). */
void rb_group_join(rb_group_coord_t *coord, const rb_join_request_t *request, rb_join_cb cb,
                   void *ud);

/* ---- SyncGroup ---------------------------------------------------------- */

typedef struct rb_group_assignment {
    const char *member_id;
    const uint8_t *assignment;
    size_t assignment_len;
} rb_group_assignment_t;

typedef struct rb_sync_request {
    const char *group_id;
    int32_t generation_id;
    const char *member_id;
    const char *group_instance_id;            /* NULL unless static (v3+) */
    const char *protocol_type;                /* v5+, NULL when absent */
    const char *protocol_name;                /* v5+, NULL when absent */
    const rb_group_assignment_t *assignments; /* the leader's; others send none */
    size_t assignment_count;
} rb_sync_request_t;

typedef struct rb_sync_result {
    int16_t error_code;
    const char *protocol_type; /* v5+, may be NULL */
    const char *protocol_name; /* v5+, may be NULL */
    const uint8_t *assignment; /* never NULL: empty when none */
    size_t assignment_len;
} rb_sync_result_t;

typedef void (*rb_sync_cb)(const rb_sync_result_t *result, void *ud);

/* Handles one SyncGroup; a follower's answer waits for the leader's. */
void rb_group_sync(rb_group_coord_t *coord, const rb_sync_request_t *request, rb_sync_cb cb,
                   void *ud);

/* ---- Heartbeat, LeaveGroup ---------------------------------------------- */

int16_t rb_group_heartbeat(rb_group_coord_t *coord, const char *group_id, int32_t generation_id,
                           const char *member_id, const char *group_instance_id);

typedef struct rb_leave_member {
    const char *member_id;         /* in; "" with a group_instance_id: by instance */
    const char *group_instance_id; /* in; NULL when dynamic (and always below v3) */
    int16_t error_code;            /* out */
} rb_leave_member_t;

/* LeaveGroup for count members. Returns the top-level error; per-member
 * errors go in members[i].error_code (below v3, the handler answers the one
 * member's error as the top-level one when this returns 0). */
int16_t rb_group_leave(rb_group_coord_t *coord, const char *group_id, rb_leave_member_t *members,
                       size_t count);

/* ---- offsets ------------------------------------------------------------- */

typedef struct rb_offset_commit_part {
    const char *topic;    /* in */
    int32_t partition;    /* in */
    int64_t offset;       /* in: CommittedOffset */
    int32_t leader_epoch; /* in: CommittedLeaderEpoch, -1 if none */
    const char *metadata; /* in: CommittedMetadata, NULL = "" */
    int16_t error_code;   /* in/out: an entry the handler already failed
                           * (e.g. UNKNOWN_TOPIC_OR_PARTITION) is skipped */
} rb_offset_commit_part_t;

/* OffsetCommit. generation_id -1 with member_id "" is a commit from outside
 * group management (simple consumers, admin tools): accepted while the group
 * is Empty (or does not exist). Fills every part's error_code and returns the
 * error that applied to all of them (0 when it was per part). OffsetCommit
 * v2-4's RetentionTimeMs is not taken: offsets.retention.ms applies to all.
 * A commit from a member restarts its session timeout, as a heartbeat does. */
int16_t rb_group_offset_commit(rb_group_coord_t *coord, const char *group_id, int32_t generation_id,
                               const char *member_id, const char *group_instance_id,
                               rb_offset_commit_part_t *parts, size_t count);

typedef struct rb_offset_fetch_part {
    const char *topic;    /* in */
    int32_t partition;    /* in */
    int64_t offset;       /* out: -1 if none */
    int32_t leader_epoch; /* out: -1 if none */
    const char *metadata; /* out: borrowed until the next call into coord; "" if none */
    int16_t error_code;   /* out: UNSTABLE_OFFSET_COMMIT when require_stable and a
                           * transaction has pending offsets for it */
} rb_offset_fetch_part_t;

/* OffsetFetch of the listed partitions. Returns a group-level error
 * (COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID) or 0. */
int16_t rb_group_offset_fetch(rb_group_coord_t *coord, const char *group_id, bool require_stable,
                              rb_offset_fetch_part_t *parts, size_t count);

/* OffsetFetch with Topics = null: calls fn for every committed partition of
 * the group, sorted by topic then partition (part is borrowed until fn
 * returns). Returns the group-level error, or 0. */
int16_t rb_group_offset_fetch_all(rb_group_coord_t *coord, const char *group_id,
                                  bool require_stable,
                                  void (*fn)(const rb_offset_fetch_part_t *part, void *ud),
                                  void *ud);

/* Removes every committed offset of topic in every group (DeleteTopics calls
 * this), writing tombstones. Returns how many offsets were removed. */
size_t rb_group_topic_deleted(rb_group_coord_t *coord, const char *topic);

/* Runs the expiry now (it also runs every offsets.retention.check.interval.ms):
 * offsets of Empty groups older than offsets.retention.ms (counted from the
 * time the group became Empty, or from the commit for groups that never had
 * members), and offsets of topics no member of a Stable "consumer" group
 * subscribes to any more (counted from the commit), are removed; Empty groups
 * left with no offsets are deleted. Returns the number of offsets removed. */
size_t rb_group_expire_offsets(rb_group_coord_t *coord);

/* ---- transactional offsets (TxnOffsetCommit) ----------------------------- */

/* TxnOffsetCommit: the offsets are written to the log as part of the
 * producer's transaction and stay pending (invisible to OffsetFetch, which
 * answers UNSTABLE_OFFSET_COMMIT for them under RequireStable) until the
 * transaction ends. generation_id -1 / member_id "" skip the member checks
 * (v0-2). The transaction coordinator (txn/) checks producer id and epoch
 * before calling this. Fills the parts' errors, returns the common one. */
int16_t rb_group_txn_offset_commit(rb_group_coord_t *coord, const char *group_id,
                                   int64_t producer_id, int16_t producer_epoch,
                                   int32_t generation_id, const char *member_id,
                                   const char *group_instance_id, rb_offset_commit_part_t *parts,
                                   size_t count);

/* The transaction of producer_id ended (EndTxn's markers): its pending offsets
 * in every group become committed offsets (commit) or are dropped (abort).
 * A control record is written to the offsets log so that a reload sees the
 * same outcome. Returns 0 or a Kafka error code (the write failed: the
 * caller retries, as Kafka retries its markers). */
int16_t rb_group_txn_complete(rb_group_coord_t *coord, int64_t producer_id, int16_t producer_epoch,
                              bool commit);

/* The same for one group: the shape of broker/txn's end_group_txn hook
 * (rb_txn_hooks_t), which the server can forward here as is. Returns 0 at
 * once when group_id has nothing pending for producer_id (the hook may be
 * called again after a restart). Otherwise writes the marker and, like
 * replay would, ends producer_id's pending offsets in every group: a later
 * call for another group of the same transaction then finds nothing. */
int16_t rb_group_txn_end(rb_group_coord_t *coord, const char *group_id, int64_t producer_id,
                         int16_t producer_epoch, bool commit);

/* Whether group_id has pending transactional offsets (of any producer). */
bool rb_group_has_pending_txn_offsets(const rb_group_coord_t *coord, const char *group_id);

/* ---- DescribeGroups, ListGroups, DeleteGroups ---------------------------- */

typedef struct rb_group_member_desc {
    const char *member_id;
    const char *group_instance_id; /* NULL if dynamic */
    const char *client_id;
    const char *client_host;
    const uint8_t *metadata; /* Stable only, else empty */
    size_t metadata_len;
    const uint8_t *assignment; /* Stable only, else empty */
    size_t assignment_len;
} rb_group_member_desc_t;

typedef struct rb_group_desc {
    int16_t error_code;
    const char *group_id;
    const char *state;         /* "Empty", "PreparingRebalance", "CompletingRebalance",
                                * "Stable", "Dead" */
    const char *protocol_type; /* "" if none */
    const char *protocol_data; /* the selected protocol in Stable, else "" */
    const rb_group_member_desc_t *members;
    size_t member_count;
} rb_group_desc_t;

/* DescribeGroups for one group: calls fn once, before returning, with the
 * description (borrowed until fn returns). An unknown group is described
 * as Dead with no error, as Kafka does. */
void rb_group_describe(rb_group_coord_t *coord, const char *group_id,
                       void (*fn)(const rb_group_desc_t *desc, void *ud), void *ud);

/* ListGroups: calls fn for each group, sorted by id, whose state is in
 * states (all when state_count is 0; names as in rb_group_desc_t, compared
 * case-insensitively). Returns 0 or COORDINATOR_LOAD_IN_PROGRESS. */
int16_t rb_group_list(rb_group_coord_t *coord, const char *const *states, size_t state_count,
                      void (*fn)(const char *group_id, const char *protocol_type, const char *state,
                                 void *ud),
                      void *ud);

/* DeleteGroups for one group: 0, INVALID_GROUP_ID, GROUP_ID_NOT_FOUND,
 * NON_EMPTY_GROUP, COORDINATOR_LOAD_IN_PROGRESS, or a storage error. Removes
 * the group and its offsets (tombstones in the log). */
int16_t rb_group_delete(rb_group_coord_t *coord, const char *group_id);

#endif /* RB_GROUP_H */
