/* group-harness.h: a deterministic world for the group coordinator's unit
 * tests: a fake clock with one-shot timers fired by h_advance(), a file-backed
 * offsets store in a temp dir (so close-and-reopen is real), and small
 * "client" helpers that send JoinGroup/SyncGroup and keep the answers. */
#ifndef TESTS_GROUP_HARNESS_H
#define TESTS_GROUP_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "broker/group/group.h"

#define H_WALL_BASE 1700000000000LL

typedef struct harness {
    int64_t now;    /* monotonic ms; wall = H_WALL_BASE + now */
    GArray *timers; /* h_timer_t */
    uint64_t next_timer_id;
    char *dir;        /* temp dir */
    char *store_path; /* dir/offsets.log */
    int fail_appends; /* > 0: that many next appends fail */
    int appends;      /* appends done (including failed) */
    rb_group_config_t config;
    rb_group_coord_t *coord;
} harness_t;

/* A test's view of one consumer. */
typedef struct client {
    const char *client_id;
    const char *instance_id;        /* NULL: dynamic */
    const char *protocols;          /* "range,roundrobin": metadata is "<proto>:<client_id>" */
    const char *protocol_type;      /* JoinGroup's ProtocolType: "consumer" */
    const char *sync_protocol_name; /* SyncGroup v5's ProtocolName: NULL */
    int32_t session_ms;
    int32_t rebalance_ms;
    char member_id[160];
    int32_t generation;
    /* the last JoinGroup answer */
    bool joined;
    int16_t join_err;
    char leader[160];
    char protocol[64];
    int member_count;
    char members[8][160];
    char member_md[8][160];
    /* the last SyncGroup answer */
    bool synced;
    int16_t sync_err;
    char assignment[160];
} client_t;

/* Creates a harness with a temp dir and a coordinator (loaded). initial
 * rebalance delay 0 unless changed in h->config before h_open. */
harness_t *h_new(void);
void h_open(harness_t *h);          /* new coordinator on the store file + load */
void h_open_unloaded(harness_t *h); /* new coordinator, not loaded yet */
/* new coordinator on another store (the coordinator owns it) + load */
void h_open_with_store(harness_t *h, const rb_group_store_t *store);
/* Loads; returns the error message (g_free it) or NULL. */
char *h_load(harness_t *h);
void h_close(harness_t *h); /* destroys the coordinator (store file stays) */
void h_free(harness_t *h);  /* closes and removes the temp dir */
rb_group_store_t h_store(harness_t *h);
void h_advance(harness_t *h, int64_t ms);
size_t h_pending_timers(const harness_t *h);

void client_init(client_t *c, const char *client_id, const char *instance_id,
                 const char *protocols);
/* JoinGroup as the client (its current member id); require: KIP-394 (v4+). */
void client_join(harness_t *h, const char *group, client_t *c, bool require_known);
/* SyncGroup. A client that got the member list (the leader) assigns every
 * member "A(<its metadata>)"; others send no assignments. */
void client_sync(harness_t *h, const char *group, client_t *c);
int16_t client_heartbeat(harness_t *h, const char *group, client_t *c);
int16_t client_leave(harness_t *h, const char *group, client_t *c);

#endif
