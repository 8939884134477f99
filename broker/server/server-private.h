/* server-private.h: what the files of broker/server/ share: the server
 * object, the topic registry, the request context and the handler table.
 *
 * Files: server.c (dispatch, lifetime, housekeeping), topics.c and
 * topic-config.c (the registry), h-meta.c, h-data.c, h-admin.c, h-configs.c,
 * h-group.c, h-txn.c (the handlers, by area).
 *
 * Design: one request = one rb_req_t. The dispatcher (server.c) takes the
 * frame (decoded strings and records point into it, and Produce
 * rewrites batches in place), parses the header, picks the handler by api
 * key and answers unknown APIs/versions. A handler decodes its body with
 * the generated codec, does its work and calls rb__req_respond() (or
 * rb__req_finish_no_response() for acks=0), now or later: a long-polling
 * Fetch keeps its rb_req_t parked until data or its timer arrives.
 *
 * Responses leave through server->respond, which turns the encoded bytes
 * plus file splices into an rb_resp_t for net/; unit tests replace it to
 * capture responses without sockets (rb__server_set_io).
 *
 * Broker config keys read (all in config.c's table, Kafka names):
 *   log.dirs, cluster.id, node.id, auto.create.topics.enable, num.partitions,
 *   delete.topic.enable, log.segment.bytes, log.roll.ms, log.retention.ms,
 *   log.retention.bytes, log.flush.interval.messages, log.flush.interval.ms,
 *   log.flush.on.ack, log.index.interval.bytes, message.max.bytes,
 *   log.message.timestamp.type, log.cleanup.policy, log.cleaner.delete.retention.ms,
 *   log.retention.check.interval.ms, min.insync.replicas, default.replication.factor,
 *   group.min.session.timeout.ms, group.max.session.timeout.ms,
 *   group.initial.rebalance.delay.ms, group.max.size, offsets.retention.minutes,
 *   transaction.max.timeout.ms, transactional.id.expiration.ms.
 *
 * Files in log.dirs: rill-topics.ini (topics.c), <topic>-<partition>/ (the
 * logs), __producer_state/<topic>-<partition>/ (producer state, topics.c),
 * __consumer_offsets-0/ (group/), __rill_txn/ (txn/, h-txn.c). */
#ifndef RB_SERVER_PRIVATE_H
#define RB_SERVER_PRIVATE_H

#include <glib.h>

#include "broker/group/group.h"
#include "broker/log/log.h"
#include "broker/protocol/messages-gen.h"
#include "broker/txn/coordinator.h"
#include "broker/txn/pstate.h"
#include "broker/server/server.h"
#include "common/metrics.h"

/* Kafka error codes the handlers answer. */
enum {
    RB_ERR_UNKNOWN_SERVER_ERROR = -1,
    RB_ERR_NONE = 0,
    RB_ERR_OFFSET_OUT_OF_RANGE = 1,
    RB_ERR_CORRUPT_MESSAGE = 2,
    RB_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    RB_ERR_INVALID_TOPIC_EXCEPTION = 17,
    RB_ERR_INVALID_REQUIRED_ACKS = 21,
    RB_ERR_UNSUPPORTED_VERSION = 35,
    RB_ERR_TOPIC_ALREADY_EXISTS = 36,
    RB_ERR_INVALID_PARTITIONS = 37,
    RB_ERR_INVALID_REPLICATION_FACTOR = 38,
    RB_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
    RB_ERR_INVALID_CONFIG = 40,
    RB_ERR_INVALID_REQUEST = 42,
    RB_ERR_TOPIC_DELETION_DISABLED = 73,
    RB_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    RB_ERR_INVALID_RECORD = 87,
    RB_ERR_UNKNOWN_TOPIC_ID = 100,
};

/* ---- topics ------------------------------------------------------------- */

typedef struct rb_topic rb_topic_t;

typedef struct rb_partition {
    rb_topic_t *topic;
    int32_t index;
    rb_log_t *log;
    rb_pstate_t *pstate; /* producer state: idempotence, transactions, LSO */
} rb_partition_t;

struct rb_topic {
    char *name;
    rb_uuid_t id;
    int32_t npartitions;
    rb_partition_t **partitions; /* npartitions of them */
    GHashTable *overrides;       /* topic config name -> value (both g_strdup'd) */
    /* metrics.c's per-topic counters, looked up on first use (NULL until then) */
    rill_metric_t *m_produce_records;
    rill_metric_t *m_produce_bytes;
    rill_metric_t *m_fetch_bytes;
};

/* ---- the server ------------------------------------------------------------ */

typedef void (*rb__respond_fn)(void *ud, rb_slot_t *slot, rb_enc_t *enc);
typedef void (*rb__close_fn)(void *ud, rb_conn_t *conn, const char *reason);
typedef const char *(*rb__peer_fn)(void *ud, rb_conn_t *conn);
typedef uint8_t *(*rb__take_frame_fn)(rb_conn_t *conn, const uint8_t *frame, size_t len);

typedef struct rb_req rb_req_t;
typedef struct rb__metrics rb__metrics_t;

struct rb_server {
    rb_loop_t *loop;
    const rb_config_t *config; /* borrowed */
    char *log_dir;
    char *cluster_id;
    int32_t node_id;
    char *adv_host;
    int adv_port;
    GHashTable *topics; /* name -> rb_topic_t* (owned) */
    rb_net_callbacks_t callbacks;
    rb_timer_id_t maintain_timer;
    int64_t maintain_interval_ms;
    rb_timer_id_t flush_timer; /* flush.ms: 0 when nothing is waiting */
    int64_t flush_timer_due;   /* wall ms it is set for */
    GList *parked; /* rb_req_t* of long-polling Fetches, oldest first */
    rb__respond_fn respond;
    rb__close_fn close_conn;
    rb__peer_fn peer;
    rb__take_frame_fn take_frame; /* the request frame, writable and ours */
    void (*free_frame)(uint8_t *frame);
    void *io_ud;
    rb_group_coord_t *groups; /* NULL if it failed to start */
    rb_txn_coord_t *txn;      /* NULL if it failed to start */
    rb_timer_id_t txn_timer;
    rb__metrics_t *metrics; /* NULL unless metrics are enabled (metrics.c) */
};

/* ---- requests ----------------------------------------------------------------- */

struct rb_req {
    rb_server_t *server;
    rb_conn_t *conn;
    rb_slot_t *slot;
    rb_req_header_t hdr;
    const rb_api_desc_t *api;
    bool flexible;
    uint8_t *frame; /* the request frame, owned (server->take_frame) */
    size_t frame_len;
    rb_arena_t arena;
    /* parked Fetch */
    void *body; /* the decoded request */
    rb_timer_id_t timer;
    int64_t deadline_ms;
    int64_t start_us; /* monotonic, when the frame was dispatched (metrics) */
};

typedef void (*rb__handler_fn)(rb_req_t *req, rill_rbuf_t *body);

/* Encodes resp (a struct of msg's type) at the request's version with the
 * right response header, sends it and frees req. */
void rb__req_respond(rb_req_t *req, const rb_msg_desc_t *msg, const void *resp);
/* Ends a request that gets no response (acks=0) and frees req. */
void rb__req_finish_no_response(rb_req_t *req);
/* Closes the request's connection (malformed request) and frees req. */
void rb__req_fail(rb_req_t *req, const char *reason);
void rb__req_free(rb_req_t *req);
/* n response elements of struct desc from the request's arena, each set to
 * its defaults (NULL when n == 0). */
void *rb__items(rb_req_t *req, const rb_struct_desc_t *desc, int32_t n);
/* A NUL-terminated copy of s in the request's arena ("" for null). */
const char *rb__cstr(rb_req_t *req, rb_str_t s);

/* Handlers, by file. */
void rb__handle_api_versions(rb_req_t *req, rill_rbuf_t *body); /* h-meta.c */
void rb__handle_metadata(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_describe_cluster(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_produce(rb_req_t *req, rill_rbuf_t *body); /* h-data.c */
void rb__handle_fetch(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_list_offsets(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_create_topics(rb_req_t *req, rill_rbuf_t *body); /* h-admin.c */
void rb__handle_delete_topics(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_create_partitions(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_delete_records(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_describe_configs(rb_req_t *req, rill_rbuf_t *body); /* h-configs.c */
void rb__handle_alter_configs(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_incremental_alter_configs(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_find_coordinator(rb_req_t *req, rill_rbuf_t *body); /* h-group.c */
void rb__handle_join_group(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_sync_group(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_heartbeat(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_leave_group(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_offset_commit(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_offset_fetch(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_describe_groups(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_list_groups(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_delete_groups(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_init_producer_id(rb_req_t *req, rill_rbuf_t *body); /* h-txn.c */
void rb__handle_add_partitions_to_txn(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_add_offsets_to_txn(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_end_txn(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_txn_offset_commit(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_describe_producers(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_describe_transactions(rb_req_t *req, rill_rbuf_t *body);
void rb__handle_list_transactions(rb_req_t *req, rill_rbuf_t *body);

/* flush.ms (server.c): makes sure the flush timer fires by due_ms (wall ms,
 * from rb_log_flush_due; -1: nothing to do). Called after every append. */
void rb__flush_timer_arm(rb_server_t *server, int64_t due_ms);

/* The handler for an api key, or NULL (server.c). */
rb__handler_fn rb__server_handler(int16_t api_key);

/* Fetch long-polling (h-data.c): re-checks parked Fetches after an append
 * to partition, and answers the parked Fetches of a closing connection. */
void rb__fetch_wake(rb_server_t *server, const rb_partition_t *partition);
void rb__fetch_conn_closed(rb_server_t *server, rb_conn_t *conn);
void rb__fetch_drop_all(rb_server_t *server);

/* ---- topic registry (topics.c) -------------------------------------------------- */

rb_topic_t *rb__topic_find(rb_server_t *server, rb_str_t name);
rb_topic_t *rb__topic_find_id(rb_server_t *server, const rb_uuid_t *id);
rb_partition_t *rb__partition_find(rb_server_t *server, rb_str_t topic, int32_t partition);
/* Kafka's rule: 1-249 chars of [a-zA-Z0-9._-], not "." or ".."; and not the
 * names of the coordinators' logs (__consumer_offsets, __transaction_state). */
bool rb__topic_name_valid(rb_str_t name);
/* Creates a topic (validated by the caller) with its logs, and persists the
 * registry. overrides: (transfer full) or NULL. Returns NULL and sets *errmsg. */
rb_topic_t *rb__topic_create(rb_server_t *server, const char *name, int32_t npartitions,
                             GHashTable *overrides, char **errmsg);
/* Grows a topic to npartitions. Returns 0, or -1 and sets *errmsg. */
int rb__topic_add_partitions(rb_server_t *server, rb_topic_t *topic, int32_t npartitions,
                             char **errmsg);
/* Deletes the topic's logs and forgets it. */
void rb__topic_delete(rb_server_t *server, rb_topic_t *topic);
/* Replaces the topic's overrides (transfer full) and applies them to its logs. */
void rb__topic_set_overrides(rb_server_t *server, rb_topic_t *topic, GHashTable *overrides);
/* Writes the registry file. Returns 0 or -1 (logged). */
int rb__topics_save(rb_server_t *server);
/* Loads the registry and opens every log. Returns 0, or -1 and sets *errmsg. */
int rb__topics_load(rb_server_t *server, char **errmsg);
void rb__topics_close_all(rb_server_t *server);
/* A new GHashTable for overrides (string -> string). */
GHashTable *rb__overrides_new(void);

/* ---- topic configs (topic-config.c) ------------------------------------------------ */

/* Kafka's DescribeConfigs ConfigType values. */
enum {
    RB_CT_BOOLEAN = 1,
    RB_CT_STRING = 2,
    RB_CT_INT = 3,
    RB_CT_LONG = 5,
    RB_CT_DOUBLE = 6,
    RB_CT_LIST = 7
};
/* Kafka's ConfigSource values. */
enum { RB_CS_DYNAMIC_TOPIC = 1, RB_CS_STATIC_BROKER = 4, RB_CS_DEFAULT = 5 };

typedef struct rb_topic_config_def {
    const char *name;       /* topic config name */
    const char *broker_key; /* the broker config supplying its default, or NULL */
    const char *fallback;   /* default when broker_key is NULL */
    int8_t type;            /* RB_CT_* */
    const char *doc;
} rb_topic_config_def_t;

extern const rb_topic_config_def_t rb__topic_configs[];
extern const size_t rb__n_topic_configs;
const rb_topic_config_def_t *rb__topic_config_def(const char *name);
/* Validates name=value for a topic. Returns true, or false with *errmsg. */
bool rb__topic_config_check(const char *name, const char *value, char **errmsg);
/* The effective value (override, else broker default); sets *source (RB_CS_*). (transfer full) */
char *rb__topic_config_value(const rb_server_t *server, const rb_topic_t *topic,
                             const rb_topic_config_def_t *def, int8_t *source);
/* The log settings of a topic: broker defaults then its overrides. */
void rb__topic_log_config(const rb_server_t *server, GHashTable *overrides, rb_log_config_t *out);

/* Broker configs DescribeConfigs lists for the broker resource. */
extern const char *const rb__broker_config_keys[];

/* Test seam: replaces how responses leave, how connections close and how a
 * connection's peer address is read; request frames are then copied. */
void rb__server_set_io(rb_server_t *server, rb__respond_fn respond, rb__close_fn close_conn,
                       rb__peer_fn peer, void *ud);

/* Consumer groups (h-group.c): start (after the topics) and stop the coordinator. */
void rb__groups_start(rb_server_t *server);
void rb__groups_stop(rb_server_t *server);
/* Transactions (h-txn.c): start (after the groups; recovers what was in
 * flight) and stop the transaction coordinator. */
void rb__txn_start(rb_server_t *server);
void rb__txn_stop(rb_server_t *server);

/* Appends one batch to partition through its producer state (h-data.c):
 * check (dedupe, sequence, epoch), append, record. For a duplicate, *info
 * gets the original offsets and nothing is written. Returns a Kafka error. */
rb_kerr_t rb__partition_append(rb_server_t *server, rb_partition_t *part, uint8_t *batch,
                               size_t len, rb_pstate_origin_t origin, rb_append_info_t *info);

/* ---- metrics (metrics.c) ------------------------------------------------------------ */

/* Creates the registry and the families (no HTTP endpoint, no refresh timer:
 * rb_server_metrics_start adds those). Idempotent. */
void rb__metrics_enable(rb_server_t *server);
/* The registry, or NULL when metrics are off. (transfer none) */
rill_metrics_t *rb__metrics_registry(rb_server_t *server);
/* Stops the endpoint and frees the registry (rb_server_destroy). */
void rb__metrics_free(rb_server_t *server);
/* Hooks, each a no-op when metrics are off (loop thread). */
void rb__metrics_request_done(rb_req_t *req, bool ok);
void rb__metrics_produced(rb_server_t *server, rb_topic_t *topic, int64_t records, int64_t bytes);
void rb__metrics_fetched(rb_server_t *server, rb_topic_t *topic, int64_t bytes);
/* Refreshes the snapshot gauges (partitions, groups, transactions) now. */
void rb__metrics_refresh(rb_server_t *server);

#endif /* RB_SERVER_PRIVATE_H */
