/* pstate-private.h: the structures of rb_pstate_t, shared by pstate.c (the
 * in-memory rules) and pstate-file.c (snapshots, index file, replay). */
#ifndef RB_TXN_PSTATE_PRIVATE_H
#define RB_TXN_PSTATE_PRIVATE_H

#include "broker/txn/pstate.h"

/* One appended batch of a producer. */
typedef struct rb__pbatch {
    int32_t first_seq;
    int32_t last_seq;
    int64_t first_offset;
    int64_t last_offset;
    int64_t timestamp;
} rb__pbatch_t;

/* One producer id's state in the partition. */
typedef struct rb__producer {
    int64_t producer_id;
    int16_t epoch;             /* -1: none known yet */
    int32_t coordinator_epoch; /* -1: no marker seen */
    int64_t last_timestamp;
    int64_t txn_first_offset; /* -1: no open transaction; else key in ps->ongoing */
    uint8_t nbatches;         /* batches[0] is the oldest */
    rb__pbatch_t batches[RB_PSTATE_MAX_BATCHES];
} rb__producer_t;

struct rb_pstate {
    char *dir; /* NULL: memory only */
    rb_pstate_config_t config;
    GHashTable *producers;    /* &producer->producer_id -> rb__producer_t (owned) */
    GTree *ongoing;           /* rb__producer_t* ordered by txn_first_offset -> same */
    GArray *aborted;          /* rb_aborted_txn_t, sorted by last_offset */
    int64_t aborted_max_span; /* max of last_offset - first_offset over aborted */
    int64_t log_start;        /* from rb_pstate_load / rb_pstate_truncate_head */
    int64_t applied_end;      /* every batch below this offset has been applied */
    int64_t last_snapshot;    /* offset of the newest snapshot, -1 if none */
    int64_t last_snapshot_ms; /* when rb_pstate_maintain last wrote one */
    bool dirty;               /* changed since the last snapshot or load */
    int index_fd;             /* aborted.txnindex opened O_APPEND, -1 if none */
    bool index_write_failed;  /* rewrite the whole index at the next snapshot */
};

/* pstate.c */
rb__producer_t *rb__pstate_producer_get(rb_pstate_t *ps, int64_t producer_id, bool create);
void rb__pstate_insert_producer(rb_pstate_t *ps, rb__producer_t *producer);
void rb__pstate_clear(rb_pstate_t *ps);
/* Adds an aborted entry (in marker order) to memory, keeping the max span. */
void rb__pstate_aborted_add(rb_pstate_t *ps, const rb_aborted_txn_t *entry);

/* pstate-file.c */
void rb__pstate_index_append(rb_pstate_t *ps, const rb_aborted_txn_t *entry);
bool rb__pstate_index_rewrite(rb_pstate_t *ps, char **errmsg);

#endif /* RB_TXN_PSTATE_PRIVATE_H */
