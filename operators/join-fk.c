/* join-fk.c: the foreign-key table join (KIP-213): subscription and response topics, a
 * subscription store, hash-checked answers.
 *
 * The topology (base = rill_fk_joined_t.name, else "KTABLE-FK-JOIN-000000000N"); A is
 * partitioned like the left table, B like the right one:
 *
 *   A: left table ──► <base>-fk-send ──► <app>-<base>-subscription-registration-topic
 *                        │ (direct answers: rows without a foreign key)      │
 *                        ▼                                                  ▼
 *   A: <base>-fk-resolve ◄── response topic ◄─┐    B: <base>-fk-subscribe ──┐
 *           │                                  └── <base>-fk-answer ◄───────┤
 *           ▼                                                                │
 *      <base>-fk-result [result store] ─► the joined table                   │
 *                                    B: right table ──► <base>-fk-foreign ───┘
 *
 * (the response topic is <app>-<base>-subscription-response-topic).
 *
 * fk-send, for each left update (new, old) of primary key pk:
 *     new row, foreign key changed from an old one ─► UNSUBSCRIBE to the old key
 *     new row with a foreign key ─► SUBSCRIBE to it (answered even when there
 *         is no right row: see below)
 *     new row without a foreign key ─► a direct answer (no right value)
 *     deleted row with an old foreign key ─► DELETE_AND_PROPAGATE to it
 *     deleted row without one ─► a direct answer (the row is gone)
 * Every subscription carries hash(new value) (MD5 of its serialized bytes;
 * none for a deletion) and the left partition of pk. A subscription is always
 * answered, also by "no right row" in an inner join (Kafka Streams answers an
 * inner join's unchanged key only when the right row exists): a result row
 * can outlive the right row it was made from when the answer that deleted it
 * was dropped as stale (the left row changed meanwhile), and with the record
 * cache on, updates between two commits reach fk-send as one, so "the key
 * did not change" says nothing about the answers in between (0412 found a
 * row that stayed forever). Deleting an absent result row costs nothing.
 *
 * fk-subscribe keeps the subscription store, key = len(fk) (4 bytes BE) | fk
 * | pk, value = instruction | has_hash | hash | partition, and answers with
 * the right row for fk; fk-foreign answers every subscriber of fk (a prefix
 * scan) when the right row changes. Answers (keyed by pk, routed to the
 * subscription's partition) carry the hash they were asked with and the
 * right value. fk-resolve reads the current left row of pk: an answer whose
 * hash is not that row's is stale (the row changed since; its own answer is
 * on the way) and dropped; otherwise the result is joiner(left, right),
 * joiner(left, null) for left joins without a right row, else a deletion.
 * The result node stores it and forwards (new, old) exactly.
 *
 * Wire formats (internal topics; version byte first):
 *     subscription: 01 | instruction | has_hash | hash[16] | partition (BE32) | pk
 *     answer:       01 | partition (BE32) | has_hash | hash[16] | has_value | right value */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/join.h>

#include "common/buf.h"
#include "common/log.h"
#include "operators/join-private.h"
#include "operators/state.h"
#include "runtime/serde-private.h"

enum {
    SUB_UNSUBSCRIBE = 1,
    SUB_DELETE_AND_PROPAGATE = 2,
    SUB_SUBSCRIBE = 3,
};

#define HASH_LEN 16
#define SUB_HEADER (1 + 1 + 1 + HASH_LEN + 4)       /* before pk */
#define ANSWER_HEADER (1 + 4 + 1 + HASH_LEN + 1)    /* before the right value */
#define STORED_LEN (1 + 1 + HASH_LEN + 4)           /* a subscription store value */

/* What the nodes of one join share (reference-counted). */
typedef struct fk_spec {
    bool left;
    rill_fk_extractor_fn extractor;
    rill_joiner_fn joiner;
    void *user_data;
    char *left_store, *right_store, *sub_store;
    /* NULL: the task's defaults */
    rill_serde_t *left_key_serde, *left_value_serde;
    rill_serde_t *right_key_serde, *right_value_serde;
    rill_serde_t *fk_serde;
} fk_spec_t;

typedef struct fk_state {
    rill__pnode_t *pnode;
    rill__kv_store_t *store; /* fk-send, fk-resolve: the left table's; else the subscriptions */
    rill__kv_store_t *right; /* fk-subscribe: the right table's */
    const rill_serde_t *left_key_serde, *left_value_serde;
    const rill_serde_t *right_key_serde, *right_value_serde, *fk_serde;
    rill_buffer_t buf[4];
    rill_wbuf_t scratch[3];
    GByteArray *bytes; /* wire records, store keys */
    GByteArray *bytes2;
} fk_state_t;

static void spec_clear(void *p)
{
    fk_spec_t *spec = p;
    g_free(spec->left_store);
    g_free(spec->right_store);
    g_free(spec->sub_store);
    rill_serde_t *serdes[] = {spec->left_key_serde, spec->left_value_serde, spec->right_key_serde,
                              spec->right_value_serde, spec->fk_serde};
    for (size_t i = 0; i < G_N_ELEMENTS(serdes); i++)
        if (serdes[i] != NULL)
            rill_serde_unref(serdes[i]);
}

static void spec_release(void *p)
{
    g_rc_box_release_full(p, spec_clear);
}

static const fk_spec_t *spec_of(const rill__pnode_t *pnode)
{
    return pnode->node->config;
}

static rill_serde_t *ref_or_null(const rill_serde_t *serde)
{
    return serde != NULL ? rill_serde_ref(serde) : NULL;
}

static const rill_serde_t *or_default(const rill_serde_t *serde, const rill_serde_t *fallback)
{
    return serde != NULL ? serde : fallback != NULL ? fallback : rill_serde_bytes();
}

static void state_destroy(fk_state_t *fk)
{
    for (int i = 0; i < 4; i++)
        rill__wbuf_free(&fk->buf[i].wbuf);
    for (int i = 0; i < 3; i++)
        rill__wbuf_free(&fk->scratch[i]);
    g_byte_array_unref(fk->bytes);
    g_byte_array_unref(fk->bytes2);
    g_free(fk);
}

/* Per-task state; opens store_name (and right_name) if given. */
static rill_err_t fk_init_with(rill__pnode_t *pnode, const char *store_name,
                               const char *right_name, rill_error_t **error)
{
    const fk_spec_t *spec = spec_of(pnode);
    const rill__task_env_t *env = rill__task_env(pnode->task);
    fk_state_t *fk = g_new0(fk_state_t, 1);
    fk->pnode = pnode;
    fk->left_key_serde = or_default(spec->left_key_serde, env->default_key_serde);
    fk->left_value_serde = or_default(spec->left_value_serde, env->default_value_serde);
    fk->right_key_serde = or_default(spec->right_key_serde, env->default_key_serde);
    fk->right_value_serde = or_default(spec->right_value_serde, env->default_value_serde);
    fk->fk_serde = spec->fk_serde != NULL ? spec->fk_serde : fk->right_key_serde;
    for (int i = 0; i < 4; i++)
        rill__wbuf_init(&fk->buf[i].wbuf, 0);
    for (int i = 0; i < 3; i++)
        rill__wbuf_init(&fk->scratch[i], 0);
    fk->bytes = g_byte_array_new();
    fk->bytes2 = g_byte_array_new();
    if (store_name != NULL) {
        fk->store = rill__state_store(pnode, store_name, false, NULL, NULL, error);
        if (fk->store == NULL) {
            state_destroy(fk);
            return RILL_ERR_STORE;
        }
    }
    if (right_name != NULL) {
        fk->right = rill__state_store(pnode, right_name, false, NULL, NULL, error);
        if (fk->right == NULL) {
            state_destroy(fk);
            return RILL_ERR_STORE;
        }
    }
    pnode->state = fk;
    return RILL_OK;
}

static void fk_state_free(rill__pnode_t *pnode)
{
    state_destroy(pnode->state);
}

/* ---- wire helpers --------------------------------------------------------------------- */

static void put_be32(GByteArray *out, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    g_byte_array_append(out, b, 4);
}

static uint32_t get_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* MD5 of data (the left value's bytes) into hash. */
static void hash_of(const void *data, size_t len, uint8_t hash[HASH_LEN])
{
    GChecksum *checksum = g_checksum_new(G_CHECKSUM_MD5);
    g_checksum_update(checksum, data, (gssize)len);
    gsize n = HASH_LEN;
    g_checksum_get_digest(checksum, hash, &n);
    g_checksum_free(checksum);
}

/* An answer: 01 | partition | has_hash | hash | has_value | value. */
static void answer_bytes(GByteArray *out, int32_t partition, const uint8_t *hash,
                         const void *value, size_t value_len)
{
    static const uint8_t zero[HASH_LEN] = {0};
    uint8_t v = 1, has_hash = hash != NULL, has_value = value != NULL;
    g_byte_array_set_size(out, 0);
    g_byte_array_append(out, &v, 1);
    put_be32(out, (uint32_t)partition);
    g_byte_array_append(out, &has_hash, 1);
    g_byte_array_append(out, hash != NULL ? hash : zero, HASH_LEN);
    g_byte_array_append(out, &has_value, 1);
    if (value != NULL && value_len > 0)
        g_byte_array_append(out, value, (guint)value_len);
}

/* Forwards (key = a BYTES view of key bytes, value = BYTES data) to child
 * (or every child if child < 0). */
static rill_err_t forward_bytes(rill__pnode_t *pnode, const rill_record_t *input, int child,
                                const void *key, size_t key_len, const void *data, size_t len,
                                rill_error_t **error)
{
    rill_record_t out;
    rill__record_derive(&out, input);
    out.key = (rill_value_t){.type = RILL_VALUE_BYTES, .ptr = key, .len = key_len};
    out.value = (rill_value_t){.type = RILL_VALUE_BYTES, .ptr = data, .len = len};
    out.headers = NULL;
    out.header_count = 0;
    return child < 0 ? rill__pnode_forward(pnode, &out, error)
                     : rill__pnode_forward_to(pnode, child, &out, error);
}

/* ---- fk-send: left updates → subscriptions ------------------------------------------------ */

static rill_err_t send_init(rill__pnode_t *pnode, rill_error_t **error)
{
    if (pnode->child_count != 2)
        return rill_error_set(error, RILL_ERR_INVALID_STATE,
                              "foreign-key join %s: expected 2 children, found %d",
                              pnode->node->name, pnode->child_count);
    return fk_init_with(pnode, spec_of(pnode)->left_store, NULL, error);
}

/* *fk = extractor(key, value) serialized (NULL: none). fk_value keeps the typed key. */
static rill_err_t extract(fk_state_t *fk, const rill_value_t *key, const rill_value_t *value,
                          rill_value_t *fk_value, rill_buffer_t *buf, const void **data,
                          size_t *len, rill_error_t **error)
{
    const fk_spec_t *spec = spec_of(fk->pnode);
    *data = NULL;
    *len = 0;
    if (value->type == RILL_VALUE_NULL)
        return RILL_OK;
    rill_err_t err = spec->extractor(key, value, fk_value, spec->user_data, error);
    if (err == RILL_OK && fk_value->type != RILL_VALUE_NULL)
        err = rill__serde_serialize(fk->fk_serde, fk_value, buf, data, len, error);
    if (err == RILL_OK && fk_value->type != RILL_VALUE_NULL && *data == NULL)
        *data = "";
    return err;
}

static rill_err_t send_subscription(fk_state_t *fk, const rill_record_t *record,
                                    uint8_t instruction, const uint8_t *hash, const void *fk_data,
                                    size_t fk_len, const void *pk, size_t pk_len,
                                    rill_error_t **error)
{
    static const uint8_t zero[HASH_LEN] = {0};
    uint8_t head[3] = {1, instruction, hash != NULL};
    GByteArray *out = fk->bytes;
    g_byte_array_set_size(out, 0);
    g_byte_array_append(out, head, 3);
    g_byte_array_append(out, hash != NULL ? hash : zero, HASH_LEN);
    put_be32(out, (uint32_t)rill__pnode_partition(fk->pnode));
    g_byte_array_append(out, pk, (guint)pk_len);
    return forward_bytes(fk->pnode, record, 0, fk_data, fk_len, out->data, out->len, error);
}

static rill_err_t send_process(rill__pnode_t *pnode, const rill_record_t *record,
                               rill_error_t **error)
{
    fk_state_t *fk = pnode->state;
    const rill__change_t *change = record->value.ptr;
    if (record->key.type == RILL_VALUE_NULL || change == NULL)
        return RILL_OK;
    const void *pk, *fk_new, *fk_old, *value;
    size_t pk_len, new_len, old_len, value_len;
    rill_value_t fk_new_value = RILL__VALUE_NULL_INIT, fk_old_value = RILL__VALUE_NULL_INIT;
    uint8_t hash[HASH_LEN];
    bool has_new = change->new_value.type != RILL_VALUE_NULL;
    bool has_old = change->old_value.type != RILL_VALUE_NULL;
    rill_err_t err = rill__serde_serialize(fk->left_key_serde, &record->key, &fk->buf[0], &pk,
                                           &pk_len, error);
    if (err == RILL_OK)
        err = extract(fk, &record->key, &change->new_value, &fk_new_value, &fk->buf[1], &fk_new,
                      &new_len, error);
    if (err == RILL_OK)
        err = extract(fk, &record->key, &change->old_value, &fk_old_value, &fk->buf[2], &fk_old,
                      &old_len, error);
    /* the hash is of the bytes the left store holds for pk (fk-resolve
     * hashes the same bytes): the table wrote them before forwarding */
    GBytes *stored = NULL;
    if (err == RILL_OK && has_new)
        err = rill__kv_get(fk->store, pk != NULL ? pk : "", pk_len, &stored, error);
    value = NULL;
    value_len = 0;
    if (stored != NULL) {
        gsize n;
        value = g_bytes_get_data(stored, &n);
        value_len = n;
    } else if (err == RILL_OK && has_new) {
        err = rill__serde_serialize(fk->left_value_serde, &change->new_value, &fk->buf[3], &value,
                                    &value_len, error);
    }
    if (has_new && err == RILL_OK)
        hash_of(value != NULL ? value : "", value_len, hash);
    if (stored != NULL)
        g_bytes_unref(stored);
    const void *pk_copy = pk != NULL ? pk : "";
    if (err != RILL_OK)
        goto out;
    bool fk_changed =
        (fk_new == NULL) != (fk_old == NULL) ||
        (fk_new != NULL && (new_len != old_len || memcmp(fk_new, fk_old, new_len) != 0));
    if (has_new) {
        if (has_old && fk_old != NULL && fk_changed)
            err = send_subscription(fk, record, SUB_UNSUBSCRIBE, NULL, fk_old, old_len, pk_copy,
                                    pk_len, error);
        if (err == RILL_OK && fk_new != NULL) {
            err = send_subscription(fk, record, SUB_SUBSCRIBE, hash, fk_new, new_len, pk_copy,
                                    pk_len, error);
        } else if (err == RILL_OK) { /* no foreign key: answered here */
            answer_bytes(fk->bytes, rill__pnode_partition(pnode), hash, NULL, 0);
            err = forward_bytes(pnode, record, 1, pk_copy, pk_len, fk->bytes->data,
                                fk->bytes->len, error);
        }
    } else if (has_old) {
        if (fk_old != NULL) {
            err = send_subscription(fk, record, SUB_DELETE_AND_PROPAGATE, NULL, fk_old, old_len,
                                    pk_copy, pk_len, error);
        } else {
            answer_bytes(fk->bytes, rill__pnode_partition(pnode), NULL, NULL, 0);
            err = forward_bytes(pnode, record, 1, pk_copy, pk_len, fk->bytes->data,
                                fk->bytes->len, error);
        }
    }
out:
    rill__value_clear(&fk_new_value);
    rill__value_clear(&fk_old_value);
    return err;
}

static const rill__node_ops_t send_ops = {
    .kind = "KTABLE-FK-JOIN-SUBSCRIPTION-SEND",
    .process = send_process,
    .init = send_init,
    .state_free = fk_state_free,
    .config_free = spec_release,
    .stateful = true, /* the left table's store */
};

/* ---- fk-subscribe and fk-foreign: the right side answers ------------------------------------- */

static rill_err_t subscribe_init(rill__pnode_t *pnode, rill_error_t **error)
{
    const fk_spec_t *spec = spec_of(pnode);
    return fk_init_with(pnode, spec->sub_store, spec->right_store, error);
}

static rill_err_t foreign_init(rill__pnode_t *pnode, rill_error_t **error)
{
    return fk_init_with(pnode, spec_of(pnode)->sub_store, NULL, error);
}

/* The subscription store key len(fk) | fk | pk, in fk->bytes2. */
static void sub_key(fk_state_t *fk, const void *fk_data, size_t fk_len, const void *pk,
                    size_t pk_len)
{
    g_byte_array_set_size(fk->bytes2, 0);
    put_be32(fk->bytes2, (uint32_t)fk_len);
    g_byte_array_append(fk->bytes2, fk_data, (guint)fk_len);
    if (pk_len > 0)
        g_byte_array_append(fk->bytes2, pk, (guint)pk_len);
}

static rill_err_t answer(fk_state_t *fk, const rill_record_t *record, const void *pk,
                         size_t pk_len, int32_t partition, const uint8_t *hash, const void *value,
                         size_t value_len, rill_error_t **error)
{
    answer_bytes(fk->bytes, partition, hash, value, value_len);
    return forward_bytes(fk->pnode, record, -1, pk, pk_len, fk->bytes->data, fk->bytes->len,
                         error);
}

static rill_err_t subscribe_process(rill__pnode_t *pnode, const rill_record_t *record,
                                    rill_error_t **error)
{
    fk_state_t *fk = pnode->state;
    size_t fk_len = record->key.len, len = record->value.len;
    const uint8_t *v = record->value.ptr;
    if (record->key.type != RILL_VALUE_BYTES || record->value.type != RILL_VALUE_BYTES ||
        len < SUB_HEADER || v[0] != 1)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "foreign-key join %s: a malformed subscription record",
                              pnode->node->name);
    uint8_t instruction = v[1];
    const uint8_t *hash = v[2] ? v + 3 : NULL;
    int32_t partition = (int32_t)get_be32(v + 3 + HASH_LEN);
    const uint8_t *pk = v + SUB_HEADER;
    size_t pk_len = len - SUB_HEADER;
    const void *fk_data = record->key.ptr != NULL ? record->key.ptr : "";
    sub_key(fk, fk_data, fk_len, pk, pk_len);
    if (instruction == SUB_UNSUBSCRIBE || instruction == SUB_DELETE_AND_PROPAGATE) {
        rill_err_t err = rill__kv_delete(fk->store, fk->bytes2->data, fk->bytes2->len,
                                         record->timestamp, NULL, error);
        if (err == RILL_OK && instruction == SUB_DELETE_AND_PROPAGATE)
            err = answer(fk, record, pk, pk_len, partition, NULL, NULL, 0, error);
        return err;
    }
    if (instruction != SUB_SUBSCRIBE)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "foreign-key join %s: unknown subscription instruction %u",
                              pnode->node->name, instruction);
    uint8_t stored[STORED_LEN];
    stored[0] = instruction;
    memcpy(stored + 1, v + 2, 1 + HASH_LEN);
    memcpy(stored + 2 + HASH_LEN, v + 3 + HASH_LEN, 4);
    rill_err_t err = rill__kv_put(fk->store, fk->bytes2->data, fk->bytes2->len, stored,
                                  sizeof stored, record->timestamp, error);
    GBytes *right = NULL;
    if (err == RILL_OK)
        err = rill__kv_get(fk->right, fk_data, fk_len, &right, error);
    if (err == RILL_OK) {
        gsize right_len = 0;
        const void *right_data = right != NULL ? g_bytes_get_data(right, &right_len) : NULL;
        err = answer(fk, record, pk, pk_len, partition, hash,
                     right != NULL ? (right_data != NULL ? right_data : "") : NULL, right_len,
                     error);
    }
    if (right != NULL)
        g_bytes_unref(right);
    return err;
}

static rill_err_t foreign_process(rill__pnode_t *pnode, const rill_record_t *record,
                                  rill_error_t **error)
{
    fk_state_t *fk = pnode->state;
    const rill__change_t *change = record->value.ptr;
    if (record->key.type == RILL_VALUE_NULL || change == NULL ||
        (change->new_value.type == RILL_VALUE_NULL && change->old_value.type == RILL_VALUE_NULL))
        return RILL_OK;
    const void *fk_data, *value = NULL;
    size_t fk_len, value_len = 0;
    rill_err_t err = rill__serde_serialize(fk->right_key_serde, &record->key, &fk->buf[0],
                                           &fk_data, &fk_len, error);
    if (err == RILL_OK && change->new_value.type != RILL_VALUE_NULL) {
        err = rill__serde_serialize(fk->right_value_serde, &change->new_value, &fk->buf[1], &value,
                                    &value_len, error);
        if (value == NULL)
            value = "";
    }
    if (err != RILL_OK)
        return err;
    sub_key(fk, fk_data != NULL ? fk_data : "", fk_len, NULL, 0);
    size_t prefix_len = fk->bytes2->len;
    rill__kv_iter_t *iter = rill__kv_prefix(fk->store, fk->bytes2->data, prefix_len, error);
    if (iter == NULL)
        return RILL_ERR_STORE;
    /* copied out first: answering forwards, and nothing may change the store under the scan */
    GPtrArray *subscribers = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    const void *key, *stored;
    size_t key_len, stored_len;
    while (rill__kv_iter_next(iter, &key, &key_len, &stored, &stored_len)) {
        if (stored_len != STORED_LEN)
            continue;
        GByteArray *entry = g_byte_array_new();
        g_byte_array_append(entry, stored, STORED_LEN);
        g_byte_array_append(entry, (const uint8_t *)key + prefix_len,
                            (guint)(key_len - prefix_len));
        g_ptr_array_add(subscribers, g_byte_array_free_to_bytes(entry));
    }
    err = rill__kv_iter_status(iter, error);
    rill__kv_iter_destroy(iter);
    for (guint i = 0; err == RILL_OK && i < subscribers->len; i++) {
        gsize len;
        const uint8_t *entry = g_bytes_get_data(g_ptr_array_index(subscribers, i), &len);
        const uint8_t *hash = entry[1] ? entry + 2 : NULL;
        int32_t partition = (int32_t)get_be32(entry + 2 + HASH_LEN);
        err = answer(fk, record, entry + STORED_LEN, len - STORED_LEN, partition, hash, value,
                     value_len, error);
    }
    g_ptr_array_unref(subscribers);
    return err;
}

static const rill__node_ops_t subscribe_ops = {
    .kind = "KTABLE-FK-JOIN-SUBSCRIPTION-RECEIVE",
    .process = subscribe_process,
    .init = subscribe_init,
    .state_free = fk_state_free,
    .config_free = spec_release,
    .stateful = true,
};

static const rill__node_ops_t foreign_ops = {
    .kind = "KTABLE-FK-JOIN-FOREIGN",
    .process = foreign_process,
    .init = foreign_init,
    .state_free = fk_state_free,
    .config_free = spec_release,
    .stateful = true,
};

/* The response topic's partitioner: the partition the subscription came from. */
static int32_t answer_partition(const char *topic, const rill_record_t *record,
                                const void *key_bytes, size_t key_len, int32_t partition_count,
                                void *user_data)
{
    (void)topic;
    (void)key_bytes;
    (void)key_len;
    (void)user_data;
    size_t len = 0;
    const uint8_t *v = rill_value_bytes(rill_record_value(record), &len);
    if (v == NULL || len < ANSWER_HEADER)
        return -1;
    int32_t partition = (int32_t)get_be32(v + 1);
    return partition >= 0 && partition < partition_count ? partition : -1;
}

/* ---- fk-resolve: answers → result rows ---------------------------------------------------- */

static rill_err_t resolve_init(rill__pnode_t *pnode, rill_error_t **error)
{
    return fk_init_with(pnode, spec_of(pnode)->left_store, NULL, error);
}

static rill_err_t resolve_process(rill__pnode_t *pnode, const rill_record_t *record,
                                  rill_error_t **error)
{
    const fk_spec_t *spec = spec_of(pnode);
    fk_state_t *fk = pnode->state;
    size_t len = record->value.len;
    const uint8_t *v = record->value.ptr;
    if (record->key.type != RILL_VALUE_BYTES || record->value.type != RILL_VALUE_BYTES ||
        len < ANSWER_HEADER || v[0] != 1)
        return rill_error_set(error, RILL_ERR_SERDE,
                              "foreign-key join %s: a malformed subscription response",
                              pnode->node->name);
    const uint8_t *hash = v[5] ? v + 6 : NULL;
    bool has_right = v[6 + HASH_LEN] != 0;
    const void *pk = record->key.ptr != NULL ? record->key.ptr : "";
    GBytes *left = NULL;
    rill_err_t err = rill__kv_get(fk->store, pk, record->key.len, &left, error);
    if (err != RILL_OK)
        return err;
    gsize left_len = 0;
    const void *left_data = left != NULL ? g_bytes_get_data(left, &left_len) : NULL;
    if (left_data == NULL && left != NULL)
        left_data = "";
    uint8_t current[HASH_LEN];
    if (left != NULL)
        hash_of(left_data, left_len, current);
    if ((hash != NULL) != (left != NULL) ||
        (hash != NULL && memcmp(hash, current, HASH_LEN) != 0)) {
        /* stale: the left row changed after this was asked; its own answer follows */
        if (left != NULL)
            g_bytes_unref(left);
        return RILL_OK;
    }
    rill_record_t out;
    rill__record_derive(&out, record);
    out.key = (rill_value_t)RILL__VALUE_NULL_INIT;
    out.value = (rill_value_t)RILL__VALUE_NULL_INIT;
    rill__change_t change = {RILL__VALUE_NULL_INIT, RILL__VALUE_NULL_INIT};
    rill_value_t left_value = RILL__VALUE_NULL_INIT, right_value = RILL__VALUE_NULL_INIT;
    err = rill__serde_deserialize(fk->left_key_serde, pk, record->key.len, &out.key,
                                  &fk->scratch[0], error);
    if (err == RILL_OK && left != NULL)
        err = rill__serde_deserialize(fk->left_value_serde, left_data, left_len, &left_value,
                                      &fk->scratch[1], error);
    if (err == RILL_OK && has_right)
        err = rill__serde_deserialize(fk->right_value_serde,
                                      len > ANSWER_HEADER ? v + ANSWER_HEADER : (const void *)"",
                                      len - ANSWER_HEADER, &right_value, &fk->scratch[2], error);
    if (err == RILL_OK && left != NULL && (has_right || spec->left))
        err = spec->joiner(&out.key, &left_value, &right_value, &change.new_value,
                           spec->user_data, error);
    if (err == RILL_OK) {
        out.value.type = RILL_VALUE_POINTER;
        out.value.ptr = &change;
        out.value.len = sizeof change;
        out.headers = NULL;
        out.header_count = 0;
        err = rill__pnode_forward(pnode, &out, error);
        out.value.type = RILL_VALUE_NULL;
        out.value.ptr = NULL;
    }
    rill__value_clear(&change.new_value);
    rill__value_clear(&left_value);
    rill__value_clear(&right_value);
    rill__record_release(&out);
    if (left != NULL)
        g_bytes_unref(left);
    return err;
}

static const rill__node_ops_t resolve_ops = {
    .kind = "KTABLE-FK-JOIN-RESOLVE",
    .process = resolve_process,
    .init = resolve_init,
    .state_free = fk_state_free,
    .config_free = spec_release,
    .stateful = true, /* the left table's store */
};

/* ---- the DSL ------------------------------------------------------------------------------- */

static rill_stream_t *add_node(rill_stream_t *const *parents, int n, const rill__node_ops_t *ops,
                               fk_spec_t *spec, const char *base, const char *suffix,
                               bool key_changed, const char *store1, const char *store2)
{
    g_autofree char *name = g_strdup_printf("%s-%s", base, suffix);
    rill_stream_t *out = rill__builder_add_processor(parents, n, ops, g_rc_box_acquire(spec), name,
                                                     key_changed);
    if (out != NULL && store1 != NULL)
        g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store1));
    if (out != NULL && store2 != NULL)
        g_ptr_array_add(rill__stream_node(out)->stores, g_strdup(store2));
    return out;
}

static rill_table_t *add_fk_join(rill_table_t *table, rill_table_t *other,
                                 rill_fk_extractor_fn extractor, rill_joiner_fn joiner,
                                 void *user_data, const rill_fk_joined_t *opts,
                                 const rill_materialized_t *materialized, bool left)
{
    const char *fn = left ? "rill_table_fk_left_join" : "rill_table_fk_join";
    if (table == NULL || !rill__builder_open(table->stream))
        return NULL;
    if (other == NULL || extractor == NULL || joiner == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG, "%s: %s is NULL", fn,
                           other == NULL ? "the other table"
                           : extractor == NULL ? "the foreign-key extractor"
                                               : "the joiner");
        return NULL;
    }
    if (table->store == NULL || other->store == NULL) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "%s: both tables must be materialized (an aggregation, "
                           "rill_builder_table or a materialized join)",
                           fn);
        return NULL;
    }
    g_autofree char *base = opts != NULL && opts->name != NULL
                                ? g_strdup(opts->name)
                                : rill__builder_new_name(table->stream, "FK-JOIN");
    g_autofree char *result_store = materialized != NULL && materialized->name != NULL
                                        ? g_strdup(materialized->name)
                                        : g_strdup_printf("%s-result", base);
    g_autofree char *registration = g_strdup_printf("%s-subscription-registration-topic", base);
    g_autofree char *response = g_strdup_printf("%s-subscription-response-topic", base);
    if (!rill__topic_name_valid(registration) || !rill__topic_name_valid(result_store) ||
        strlen(registration) > 200) {
        rill__builder_fail(table->stream, RILL_ERR_INVALID_ARG,
                           "%s: the name \"%s\" must make legal topic names", fn, base);
        return NULL;
    }
    fk_spec_t *spec = g_rc_box_new0(fk_spec_t);
    spec->left = left;
    spec->extractor = extractor;
    spec->joiner = joiner;
    spec->user_data = user_data;
    spec->left_store = g_strdup(table->store);
    spec->right_store = g_strdup(other->store);
    spec->sub_store = g_strdup_printf("%s-subscription-store", base);
    spec->left_key_serde = ref_or_null(table->key_serde);
    spec->left_value_serde = ref_or_null(table->value_serde);
    spec->right_key_serde = ref_or_null(other->key_serde);
    spec->right_value_serde = ref_or_null(other->value_serde);
    spec->fk_serde = ref_or_null(opts != NULL ? opts->fk_serde : NULL);

    rill_table_t *result = NULL;
    rill_produced_t raw = {.key_serde = rill_serde_bytes(), .value_serde = rill_serde_bytes()};
    rill_stream_t *send = add_node(&table->stream, 1, &send_ops, spec, base, "fk-send", true,
                                   spec->left_store, NULL);
    raw.name = registration;
    rill_stream_t *subscriptions = send != NULL ? rill_stream_repartition(send, &raw) : NULL;
    rill_stream_t *subscribe =
        subscriptions != NULL ? add_node(&subscriptions, 1, &subscribe_ops, spec, base,
                                         "fk-subscribe", true, spec->sub_store, spec->right_store)
                              : NULL;
    rill_stream_t *foreign = subscribe != NULL
                                 ? add_node(&other->stream, 1, &foreign_ops, spec, base,
                                            "fk-foreign", true, spec->sub_store, NULL)
                                 : NULL;
    g_autofree char *answers_name = g_strdup_printf("%s-fk-answer", base);
    rill_stream_t *answers =
        foreign != NULL ? rill_stream_merge(subscribe, foreign, answers_name) : NULL;
    raw.name = response;
    raw.partitioner = answer_partition;
    rill_stream_t *responses = answers != NULL ? rill_stream_repartition(answers, &raw) : NULL;
    rill_stream_t *resolve_parents[2] = {responses, send};
    rill_stream_t *resolved = responses != NULL
                                  ? add_node(resolve_parents, 2, &resolve_ops, spec, base,
                                             "fk-resolve", false, spec->left_store, NULL)
                                  : NULL;
    if (resolved != NULL) {
        g_autofree char *result_name = g_strdup_printf("%s-fk-result", base);
        const rill_serde_t *key_serde = materialized != NULL && materialized->key_serde != NULL
                                            ? materialized->key_serde
                                            : table->key_serde;
        result = rill__join_result(&resolved, 1, result_name, result_store,
                                   materialized != NULL && materialized->in_memory,
                                   materialized == NULL, key_serde,
                                   materialized != NULL ? materialized->value_serde : NULL);
    }
    g_rc_box_release_full(spec, spec_clear);
    return result;
}

RILL_EXPORT rill_table_t *rill_table_fk_join(rill_table_t *table, rill_table_t *other,
                                             rill_fk_extractor_fn extractor,
                                             rill_joiner_fn joiner, void *user_data,
                                             const rill_fk_joined_t *opts,
                                             const rill_materialized_t *materialized)
{
    return add_fk_join(table, other, extractor, joiner, user_data, opts, materialized, false);
}

RILL_EXPORT rill_table_t *rill_table_fk_left_join(rill_table_t *table, rill_table_t *other,
                                                  rill_fk_extractor_fn extractor,
                                                  rill_joiner_fn joiner, void *user_data,
                                                  const rill_fk_joined_t *opts,
                                                  const rill_materialized_t *materialized)
{
    return add_fk_join(table, other, extractor, joiner, user_data, opts, materialized, true);
}
