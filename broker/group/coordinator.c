/* coordinator.c: group membership for the classic consumer-group protocol:
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, the rebalance and session
 * timers, and the DescribeGroups / ListGroups views.
 *
 * A group follows Kafka's state machine:
 *
 *              join (first member)                      all members rejoined,
 *   +-------+  prepare_rebalance()   +--------------+   or the join timer fired
 *   | Empty | ---------------------> |  Preparing   | ---------------------+
 *   +-------+                        |  Rebalance   |   complete_join()    |
 *     ^  |  <----------------------- +--------------+                      v
 *     |  |   complete_join() with        ^     ^               +------------------+
 *     |  |   no member left              |     |               |    Completing    |
 *     |  |                               |     +-------------- |    Rebalance     |
 *     |  | rb_group_delete(),            |   prepare_rebalance()+------------------+
 *     |  | rb_group_expire_offsets()     |   (join of a new or changed  |
 *     |  v (no offsets left)             |    member, leave, session    | rb_group_sync()
 *   +------+                             |    expiry, sync timeout)     | from the leader
 *   | Dead |                             |                              v
 *   +------+                             |  prepare_rebalance()    +--------+
 *                                        +------------------------ | Stable |
 *                                                                  +--------+
 * Transitions and the functions that perform them:
 *   Empty -> PreparingRebalance        prepare_rebalance(), from add_member()
 *   PreparingRebalance -> Completing   complete_join(): every member has a join
 *                                      pending (try_complete_join) or the join
 *                                      timer fired (on_join_timer); members that
 *                                      did not rejoin are removed
 *   PreparingRebalance -> Empty        complete_join() when no member is left
 *   CompletingRebalance -> Stable      rb_group_sync() with the leader's assignments
 *   Completing/Stable -> Preparing     prepare_rebalance(): a new member, the leader
 *                                      or a member with new metadata joins, a member
 *                                      leaves (rb_group_leave) or its session expires
 *                                      (on_session_timer), or members did not sync
 *                                      within the rebalance timeout (on_sync_timer)
 *   Empty -> Dead                      group_free(), from rb_group_delete() and the
 *                                      offset expiry (offsets.c); a Dead group is
 *                                      freed at once, so Dead is only ever seen by
 *                                      callers as "no such group"
 *
 * Each rebalance ends with a new generation id. The first join of a group
 * that was Empty waits group.initial.rebalance.delay.ms, extended by the same
 * delay while new members keep arriving, up to the rebalance timeout
 * (KIP-134). Dynamic members joining with JoinGroup v4+ and no member id get
 * MEMBER_ID_REQUIRED and an id, kept as a "pending member" for a session
 * timeout (KIP-394). Static members (group.instance.id, KIP-345) that rejoin
 * with an empty member id replace their old member id; in a Stable group whose
 * selected protocol stays the same this happens without a rebalance, and the
 * old member id is then fenced (FENCED_INSTANCE_ID).
 *
 * Invariants:
 *   - A member has at most one pending join and one pending sync callback;
 *     removing a member answers them (UNKNOWN_MEMBER_ID, or FENCED_INSTANCE_ID
 *     when a static member is replaced).
 *   - leader_id is NULL iff the group has no members.
 *   - join_timer != 0 only in PreparingRebalance; sync_timer != 0 only in
 *     CompletingRebalance or Stable while some member has not synced.
 */
#include "config.h"

#include <string.h>

#include "broker/group/group-private.h"
#include "common/log.h"

#define LOG_COMP "broker.group"

/* ---- small helpers ------------------------------------------------------- */

static void add_member_and_rebalance(rb_group_t *group, const char *member_id,
                                     const rb_join_request_t *req, rb_join_cb cb, void *ud);
static void prepare_rebalance(rb_group_t *group, const char *reason);
static void try_complete_join(rb_group_t *group);

const char *rb__group_state_name(rb_group_state_t state)
{
    switch (state) {
    case RB_GROUP_EMPTY:
        return "Empty";
    case RB_GROUP_PREPARING_REBALANCE:
        return "PreparingRebalance";
    case RB_GROUP_COMPLETING_REBALANCE:
        return "CompletingRebalance";
    case RB_GROUP_STABLE:
        return "Stable";
    case RB_GROUP_DEAD:
        return "Dead";
    }
    return "Dead";
}

GPtrArray *rb__table_keys(GHashTable *table)
{
    GPtrArray *array = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, &key, NULL))
        g_ptr_array_add(array, key);
    return array;
}

GPtrArray *rb__table_values(GHashTable *table)
{
    GPtrArray *array = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(array, value);
    return array;
}

int64_t rb__group_wall(rb_group_coord_t *coord)
{
    return coord->env.wall_ms(coord->env.ud);
}

static rb_group_timer_id_t timer_add(rb_group_coord_t *coord, int64_t delay_ms,
                                     void (*cb)(void *arg), void *arg)
{
    return coord->env.add_timer(coord->env.ud, delay_ms < 0 ? 0 : delay_ms, cb, arg);
}

static void timer_cancel(rb_group_coord_t *coord, rb_group_timer_id_t *id)
{
    if (*id != 0)
        coord->env.cancel_timer(coord->env.ud, *id);
    *id = 0;
}

static void set_state(rb_group_t *group, rb_group_state_t state)
{
    if (group->state != state)
        RILL_LOG_DEBUG(LOG_COMP, "group %s: %s -> %s generation=%d", group->group_id,
                       rb__group_state_name(group->state), rb__group_state_name(state),
                       group->generation_id);
    group->state = state;
    group->state_since = rb__group_wall(group->coord);
}

static char *new_member_id(const char *prefix)
{
    g_autofree char *uuid = g_uuid_string_random();
    return g_strdup_printf("%s-%s", prefix ? prefix : "", uuid);
}

/* ---- members -------------------------------------------------------------- */

static void member_protocol_free(gpointer p)
{
    rb_member_protocol_t *proto = p;
    g_free(proto->name);
    g_bytes_unref(proto->metadata);
    g_free(proto);
}

static void member_set_protocols(rb_member_t *member, const rb_join_request_t *req)
{
    g_ptr_array_set_size(member->protocols, 0);
    for (size_t i = 0; i < req->protocol_count; i++) {
        rb_member_protocol_t *proto = g_new0(rb_member_protocol_t, 1);
        proto->name = g_strdup(req->protocols[i].name ? req->protocols[i].name : "");
        proto->metadata = g_bytes_new(req->protocols[i].metadata, req->protocols[i].metadata_len);
        g_ptr_array_add(member->protocols, proto);
    }
    member->session_timeout_ms = req->session_timeout_ms;
    member->rebalance_timeout_ms =
        req->rebalance_timeout_ms > 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
    g_free(member->client_id);
    member->client_id = g_strdup(req->client_id ? req->client_id : "");
    g_free(member->client_host);
    member->client_host = g_strdup(req->client_host ? req->client_host : "");
}

/* Whether the member's protocols (names, order and metadata) equal the request's. */
static bool member_protocols_match(const rb_member_t *member, const rb_join_request_t *req)
{
    if (member->protocols->len != req->protocol_count)
        return false;
    for (size_t i = 0; i < req->protocol_count; i++) {
        const rb_member_protocol_t *proto = g_ptr_array_index(member->protocols, i);
        const rb_group_protocol_t *in = &req->protocols[i];
        size_t len;
        const void *data = g_bytes_get_data(proto->metadata, &len);
        if (strcmp(proto->name, in->name ? in->name : "") != 0 || len != in->metadata_len ||
            (len > 0 && memcmp(data, in->metadata, len) != 0))
            return false;
    }
    return true;
}

static const rb_member_protocol_t *member_protocol(const rb_member_t *member, const char *name)
{
    for (guint i = 0; name && i < member->protocols->len; i++) {
        const rb_member_protocol_t *proto = g_ptr_array_index(member->protocols, i);
        if (strcmp(proto->name, name) == 0)
            return proto;
    }
    return NULL;
}

rb_member_t *rb__group_member(rb_group_t *group, const char *member_id)
{
    for (guint i = 0; member_id && i < group->members->len; i++) {
        rb_member_t *member = g_ptr_array_index(group->members, i);
        if (strcmp(member->member_id, member_id) == 0)
            return member;
    }
    return NULL;
}

static rb_member_t *member_by_instance(rb_group_t *group, const char *instance_id)
{
    for (guint i = 0; instance_id && i < group->members->len; i++) {
        rb_member_t *member = g_ptr_array_index(group->members, i);
        if (member->instance_id && strcmp(member->instance_id, instance_id) == 0)
            return member;
    }
    return NULL;
}

int16_t rb__group_validate_member(rb_group_t *group, const char *member_id, const char *instance_id)
{
    if (instance_id) {
        rb_member_t *member = member_by_instance(group, instance_id);
        if (member && g_strcmp0(member->member_id, member_id) != 0)
            return RB_GROUP_ERR_FENCED_INSTANCE_ID;
    }
    if (!rb__group_member(group, member_id))
        return RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
    return RB_GROUP_ERR_NONE;
}

static bool is_leader(const rb_group_t *group, const rb_member_t *member)
{
    return group->leader_id && strcmp(group->leader_id, member->member_id) == 0;
}

static void on_session_timer(void *arg);

/* (Re)starts the member's session timer (Kafka's completeAndScheduleNextHeartbeatExpiration). */
void rb__group_member_touch(rb_member_t *member)
{
    rb_group_coord_t *coord = member->group->coord;
    timer_cancel(coord, &member->session_timer);
    member->session_timer = timer_add(coord, member->session_timeout_ms, on_session_timer, member);
}

/* ---- answering ------------------------------------------------------------ */

static void call_join(rb_group_coord_t *coord, rb_join_cb cb, void *ud,
                      const rb_join_result_t *result)
{
    coord->in_callback++;
    cb(result, ud);
    coord->in_callback--;
}

static void call_sync(rb_group_coord_t *coord, rb_sync_cb cb, void *ud,
                      const rb_sync_result_t *result)
{
    coord->in_callback++;
    cb(result, ud);
    coord->in_callback--;
}

static void join_error(rb_group_coord_t *coord, rb_join_cb cb, void *ud, int16_t err,
                       const char *member_id)
{
    rb_join_result_t result = {
        .error_code = err,
        .generation_id = -1,
        .leader = "",
        .member_id = member_id ? member_id : "",
    };
    call_join(coord, cb, ud, &result);
}

static const uint8_t empty_bytes[1];

static void sync_error(rb_group_coord_t *coord, rb_sync_cb cb, void *ud, int16_t err)
{
    rb_sync_result_t result = {.error_code = err, .assignment = empty_bytes};
    call_sync(coord, cb, ud, &result);
}

/* Answers a member's join with the current generation. The leader gets every
 * member's metadata unless leader_override says who leads (static rejoin). */
static void answer_join(rb_group_t *group, rb_join_cb cb, void *ud, const rb_member_t *member,
                        const char *leader_override)
{
    bool leader = leader_override == NULL && is_leader(group, member);
    g_autofree rb_join_member_t *members = NULL;
    size_t count = 0;
    if (leader) {
        members = g_new0(rb_join_member_t, group->members->len);
        for (guint i = 0; i < group->members->len; i++) {
            const rb_member_t *m = g_ptr_array_index(group->members, i);
            const rb_member_protocol_t *proto = member_protocol(m, group->protocol_name);
            rb_join_member_t *out = &members[count++];
            out->member_id = m->member_id;
            out->group_instance_id = m->instance_id;
            if (proto)
                out->metadata = g_bytes_get_data(proto->metadata, &out->metadata_len);
            if (!out->metadata)
                out->metadata = empty_bytes;
        }
    }
    rb_join_result_t result = {
        .error_code = RB_GROUP_ERR_NONE,
        .generation_id = group->generation_id,
        .protocol_type = group->protocol_type,
        .protocol_name = group->protocol_name,
        .leader = leader_override ? leader_override : group->leader_id,
        .member_id = member->member_id,
        .members = members,
        .member_count = count,
    };
    call_join(group->coord, cb, ud, &result);
}

static void answer_sync(rb_group_t *group, rb_member_t *member)
{
    rb_sync_cb cb = member->sync_cb;
    void *ud = member->sync_ud;
    member->sync_cb = NULL;
    member->sync_ud = NULL;
    rb_sync_result_t result = {
        .error_code = RB_GROUP_ERR_NONE,
        .protocol_type = group->protocol_type,
        .protocol_name = group->protocol_name,
        .assignment = empty_bytes,
    };
    if (member->assignment) {
        const uint8_t *data = g_bytes_get_data(member->assignment, &result.assignment_len);
        if (data)
            result.assignment = data;
    }
    call_sync(group->coord, cb, ud, &result);
}

/* Answers the member's pending callbacks with err. */
static void member_fail_pending(rb_group_t *group, rb_member_t *member, int16_t err)
{
    if (member->join_cb) {
        rb_join_cb cb = member->join_cb;
        void *ud = member->join_ud;
        member->join_cb = NULL;
        member->join_ud = NULL;
        join_error(group->coord, cb, ud, err, member->member_id);
    }
    if (member->sync_cb) {
        rb_sync_cb cb = member->sync_cb;
        void *ud = member->sync_ud;
        member->sync_cb = NULL;
        member->sync_ud = NULL;
        sync_error(group->coord, cb, ud, err);
    }
}

static void member_free(rb_member_t *member)
{
    g_assert(member->join_cb == NULL && member->sync_cb == NULL);
    timer_cancel(member->group->coord, &member->session_timer);
    g_free(member->member_id);
    g_free(member->instance_id);
    g_free(member->client_id);
    g_free(member->client_host);
    g_ptr_array_unref(member->protocols);
    if (member->assignment)
        g_bytes_unref(member->assignment);
    g_free(member);
}

/* Removes member from group (answering its pending callbacks with err) and frees it. */
static void remove_member(rb_group_t *group, rb_member_t *member, int16_t err)
{
    member_fail_pending(group, member, err);
    g_ptr_array_remove(group->members, member);
    if (is_leader(group, member)) {
        g_free(group->leader_id);
        group->leader_id = NULL;
        if (group->members->len > 0) {
            rb_member_t *first = g_ptr_array_index(group->members, 0);
            group->leader_id = g_strdup(first->member_id);
        }
    }
    member_free(member);
}

/* Removes a member and moves the group on (Kafka's removeMemberAndUpdateGroup). */
static void remove_member_and_update(rb_group_t *group, rb_member_t *member, const char *reason)
{
    RILL_LOG_INFO(LOG_COMP, "group %s: member %s removed (%s) generation=%d", group->group_id,
                  member->member_id, reason, group->generation_id);
    remove_member(group, member, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
    switch (group->state) {
    case RB_GROUP_STABLE:
    case RB_GROUP_COMPLETING_REBALANCE:
        prepare_rebalance(group, reason);
        break;
    case RB_GROUP_PREPARING_REBALANCE:
        try_complete_join(group);
        break;
    case RB_GROUP_EMPTY:
    case RB_GROUP_DEAD:
        break;
    }
}

static void on_session_timer(void *arg)
{
    rb_member_t *member = arg;
    rb_group_t *group = member->group;
    member->session_timer = 0;
    /* A member waiting for its join or sync answer is alive (Kafka's shouldKeepAlive). */
    if (member->join_cb || member->sync_cb) {
        rb__group_member_touch(member);
        return;
    }
    remove_member_and_update(group, member, "session timeout expired");
}

/* ---- pending members (KIP-394) ---------------------------------------------- */

static void pending_free(gpointer p)
{
    rb_pending_member_t *pending = p;
    timer_cancel(pending->group->coord, &pending->timer);
    g_free(pending->member_id);
    g_free(pending);
}

static void on_pending_timer(void *arg)
{
    rb_pending_member_t *pending = arg;
    rb_group_t *group = pending->group;
    pending->timer = 0;
    RILL_LOG_INFO(LOG_COMP, "group %s: pending member %s expired", group->group_id,
                  pending->member_id);
    g_hash_table_remove(group->pending, pending->member_id);
    try_complete_join(group);
}

static void add_pending_member(rb_group_t *group, const char *member_id, int32_t session_ms)
{
    rb_pending_member_t *pending = g_new0(rb_pending_member_t, 1);
    pending->group = group;
    pending->member_id = g_strdup(member_id);
    pending->timer = timer_add(group->coord, session_ms, on_pending_timer, pending);
    g_hash_table_replace(group->pending, pending->member_id, pending);
}

/* ---- groups ----------------------------------------------------------------- */

rb_group_t *rb__group_get(rb_group_coord_t *coord, const char *group_id)
{
    return group_id ? g_hash_table_lookup(coord->groups, group_id) : NULL;
}

static void offsets_table_unref(gpointer p)
{
    g_hash_table_unref(p);
}

rb_group_t *rb__group_get_or_add(rb_group_coord_t *coord, const char *group_id)
{
    rb_group_t *group = rb__group_get(coord, group_id);
    if (group)
        return group;
    group = g_new0(rb_group_t, 1);
    group->coord = coord;
    group->group_id = g_strdup(group_id);
    group->state = RB_GROUP_EMPTY;
    group->state_since = rb__group_wall(coord);
    group->members = g_ptr_array_new();
    group->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, pending_free);
    group->offsets = rb__offsets_table_new();
    group->pending_txn =
        g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, offsets_table_unref);
    g_hash_table_insert(coord->groups, group->group_id, group);
    return group;
}

/* Frees a group, answering every pending callback with err. */
static void group_free(rb_group_t *group, int16_t err)
{
    rb_group_coord_t *coord = group->coord;
    group->state = RB_GROUP_DEAD;
    timer_cancel(coord, &group->join_timer);
    timer_cancel(coord, &group->sync_timer);
    while (group->members->len > 0)
        remove_member(group, g_ptr_array_index(group->members, group->members->len - 1), err);
    g_ptr_array_unref(group->members);
    g_hash_table_unref(group->pending);
    g_hash_table_unref(group->offsets);
    g_hash_table_unref(group->pending_txn);
    g_free(group->protocol_type);
    g_free(group->protocol_name);
    g_free(group->leader_id);
    g_free(group->group_id);
    g_free(group);
}

void rb__group_remove(rb_group_coord_t *coord, rb_group_t *group)
{
    g_hash_table_steal(coord->groups, group->group_id);
    group_free(group, RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE);
}

/* A group this call created but that holds nothing is dropped again. */
static void drop_if_unused(rb_group_coord_t *coord, rb_group_t *group)
{
    if (group->members->len == 0 && g_hash_table_size(group->pending) == 0 &&
        g_hash_table_size(group->offsets) == 0 && g_hash_table_size(group->pending_txn) == 0 &&
        group->state == RB_GROUP_EMPTY && group->generation_id == 0)
        rb__group_remove(coord, group);
}

/* The protocol with the most votes among those every member supports; each
 * member votes for the first of its protocols that all support. Ties go to
 * the protocol the leader prefers. */
static char *select_protocol(rb_group_t *group)
{
    rb_member_t *first = g_ptr_array_index(group->members, 0);
    rb_member_t *leader = rb__group_member(group, group->leader_id);
    if (!leader)
        leader = first;
    g_autoptr(GPtrArray) candidates = g_ptr_array_new();
    for (guint i = 0; i < leader->protocols->len; i++) {
        const rb_member_protocol_t *proto = g_ptr_array_index(leader->protocols, i);
        bool all = true;
        for (guint j = 0; all && j < group->members->len; j++)
            all = member_protocol(g_ptr_array_index(group->members, j), proto->name) != NULL;
        if (all)
            g_ptr_array_add(candidates, proto->name);
    }
    g_assert(candidates->len > 0); /* join checks that every member shares one */
    g_autofree guint *votes = g_new0(guint, candidates->len);
    for (guint j = 0; j < group->members->len; j++) {
        const rb_member_t *member = g_ptr_array_index(group->members, j);
        bool voted = false;
        for (guint p = 0; !voted && p < member->protocols->len; p++) {
            const rb_member_protocol_t *proto = g_ptr_array_index(member->protocols, p);
            for (guint c = 0; c < candidates->len; c++) {
                if (strcmp(proto->name, g_ptr_array_index(candidates, c)) == 0) {
                    votes[c]++;
                    voted = true;
                    break;
                }
            }
        }
    }
    guint best = 0;
    for (guint c = 1; c < candidates->len; c++)
        if (votes[c] > votes[best])
            best = c;
    return g_strdup(g_ptr_array_index(candidates, best));
}

/* Kafka's supportsProtocols: an empty group takes any non-empty protocol list;
 * otherwise the type must match and one protocol must be shared by all. */
static bool group_supports(rb_group_t *group, const rb_join_request_t *req)
{
    if (!req->protocol_type || !*req->protocol_type || req->protocol_count == 0)
        return false;
    if (group->members->len == 0)
        return true;
    if (!group->protocol_type || strcmp(group->protocol_type, req->protocol_type) != 0)
        return false;
    for (size_t i = 0; i < req->protocol_count; i++) {
        bool all = true;
        for (guint j = 0; all && j < group->members->len; j++)
            all = member_protocol(g_ptr_array_index(group->members, j), req->protocols[i].name) !=
                  NULL;
        if (all)
            return true;
    }
    return false;
}

static int32_t group_rebalance_timeout(const rb_group_t *group)
{
    int32_t timeout = 0;
    for (guint i = 0; i < group->members->len; i++) {
        const rb_member_t *member = g_ptr_array_index(group->members, i);
        if (member->rebalance_timeout_ms > timeout)
            timeout = member->rebalance_timeout_ms;
    }
    return timeout;
}

/* ---- the rebalance ---------------------------------------------------------- */

static void on_join_timer(void *arg);
static void on_sync_timer(void *arg);
static void complete_join(rb_group_t *group);

static void prepare_rebalance(rb_group_t *group, const char *reason)
{
    rb_group_coord_t *coord = group->coord;
    bool was_empty = group->state == RB_GROUP_EMPTY;
    RILL_LOG_INFO(LOG_COMP, "group %s: preparing to rebalance (%s) state=%s generation=%d",
                  group->group_id, reason, rb__group_state_name(group->state),
                  group->generation_id);
    if (group->state == RB_GROUP_COMPLETING_REBALANCE) {
        /* The assignments being synced are void: followers waiting for them
         * rejoin (Kafka's resetAndPropagateAssignmentError). */
        for (guint i = 0; i < group->members->len; i++) {
            rb_member_t *member = g_ptr_array_index(group->members, i);
            if (member->sync_cb) {
                rb_sync_cb cb = member->sync_cb;
                void *ud = member->sync_ud;
                member->sync_cb = NULL;
                member->sync_ud = NULL;
                sync_error(coord, cb, ud, RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
            }
        }
    }
    for (guint i = 0; i < group->members->len; i++) {
        rb_member_t *member = g_ptr_array_index(group->members, i);
        member->synced = false;
    }
    timer_cancel(coord, &group->sync_timer);
    timer_cancel(coord, &group->join_timer);
    int32_t rebalance_ms = group_rebalance_timeout(group);
    int32_t delay_ms = coord->config.initial_rebalance_delay_ms;
    set_state(group, RB_GROUP_PREPARING_REBALANCE);
    if (was_empty && delay_ms > 0) {
        group->initial_delay = true;
        group->new_member_added = false;
        group->initial_remaining_ms = rebalance_ms > delay_ms ? rebalance_ms - delay_ms : 0;
        group->join_timer = timer_add(coord, delay_ms, on_join_timer, group);
        return;
    }
    group->initial_delay = false;
    group->join_timer = timer_add(coord, rebalance_ms, on_join_timer, group);
    try_complete_join(group);
}

static bool all_members_joined(const rb_group_t *group)
{
    if (g_hash_table_size(group->pending) > 0)
        return false;
    for (guint i = 0; i < group->members->len; i++) {
        const rb_member_t *member = g_ptr_array_index(group->members, i);
        if (!member->join_cb)
            return false;
    }
    return true;
}

static void try_complete_join(rb_group_t *group)
{
    if (group->state != RB_GROUP_PREPARING_REBALANCE || group->initial_delay)
        return;
    if (all_members_joined(group))
        complete_join(group);
}

static void on_join_timer(void *arg)
{
    rb_group_t *group = arg;
    group->join_timer = 0;
    if (group->state != RB_GROUP_PREPARING_REBALANCE)
        return;
    if (group->initial_delay) {
        if (group->new_member_added && group->initial_remaining_ms > 0) {
            int32_t delay = group->coord->config.initial_rebalance_delay_ms;
            if (delay > group->initial_remaining_ms)
                delay = group->initial_remaining_ms;
            group->initial_remaining_ms -= delay;
            group->new_member_added = false;
            group->join_timer = timer_add(group->coord, delay, on_join_timer, group);
            return;
        }
        group->initial_delay = false;
    }
    complete_join(group);
}

/* Ends the join phase: members that did not rejoin are removed, a new
 * generation starts, and every waiting member gets its answer. */
static void complete_join(rb_group_t *group)
{
    rb_group_coord_t *coord = group->coord;
    timer_cancel(coord, &group->join_timer);
    group->initial_delay = false;
    for (guint i = group->members->len; i > 0; i--) {
        rb_member_t *member = g_ptr_array_index(group->members, i - 1);
        if (!member->join_cb) {
            RILL_LOG_INFO(LOG_COMP, "group %s: member %s did not rejoin in time: removed",
                          group->group_id, member->member_id);
            remove_member(group, member, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
        }
    }
    group->generation_id++;
    g_free(group->protocol_name);
    group->protocol_name = NULL;
    if (group->members->len == 0) {
        set_state(group, RB_GROUP_EMPTY);
        RILL_LOG_INFO(LOG_COMP, "group %s: empty at generation %d", group->group_id,
                      group->generation_id);
        rb__group_store_metadata(group, false);
        return;
    }
    group->protocol_name = select_protocol(group);
    if (!group->leader_id) {
        rb_member_t *first = g_ptr_array_index(group->members, 0);
        group->leader_id = g_strdup(first->member_id);
    }
    set_state(group, RB_GROUP_COMPLETING_REBALANCE);
    RILL_LOG_INFO(LOG_COMP, "group %s: generation %d with %u members protocol=%s leader=%s",
                  group->group_id, group->generation_id, group->members->len, group->protocol_name,
                  group->leader_id);
    group->sync_timer = timer_add(coord, group_rebalance_timeout(group), on_sync_timer, group);
    /* Answer from a snapshot of the member list: the callbacks cannot re-enter,
     * so the list is stable, but be explicit about what we iterate. */
    for (guint i = 0; i < group->members->len; i++) {
        rb_member_t *member = g_ptr_array_index(group->members, i);
        rb_join_cb cb = member->join_cb;
        void *ud = member->join_ud;
        member->join_cb = NULL;
        member->join_ud = NULL;
        member->is_new = false;
        member->synced = false;
        if (member->assignment) {
            g_bytes_unref(member->assignment);
            member->assignment = NULL;
        }
        rb__group_member_touch(member);
        answer_join(group, cb, ud, member, NULL);
    }
}

static bool all_members_synced(const rb_group_t *group)
{
    for (guint i = 0; i < group->members->len; i++) {
        const rb_member_t *member = g_ptr_array_index(group->members, i);
        if (!member->synced)
            return false;
    }
    return true;
}

/* Members that did not send SyncGroup within the rebalance timeout are removed. */
static void on_sync_timer(void *arg)
{
    rb_group_t *group = arg;
    group->sync_timer = 0;
    if (group->state != RB_GROUP_COMPLETING_REBALANCE && group->state != RB_GROUP_STABLE)
        return;
    bool removed = false;
    for (guint i = group->members->len; i > 0; i--) {
        rb_member_t *member = g_ptr_array_index(group->members, i - 1);
        if (!member->synced) {
            RILL_LOG_INFO(LOG_COMP, "group %s: member %s did not sync in time: removed",
                          group->group_id, member->member_id);
            remove_member(group, member, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
            removed = true;
        }
    }
    if (removed)
        prepare_rebalance(group, "members did not sync in time");
}

/* ---- JoinGroup -------------------------------------------------------------- */

static rb_member_t *member_new(rb_group_t *group, const char *member_id,
                               const rb_join_request_t *req)
{
    rb_member_t *member = g_new0(rb_member_t, 1);
    member->group = group;
    member->member_id = g_strdup(member_id);
    member->instance_id = g_strdup(req->group_instance_id);
    member->protocols = g_ptr_array_new_with_free_func(member_protocol_free);
    member_set_protocols(member, req);
    return member;
}

static void set_join_cb(rb_group_t *group, rb_member_t *member, rb_join_cb cb, void *ud)
{
    if (member->join_cb) /* a duplicate JoinGroup: the older one is superseded */
        join_error(group->coord, member->join_cb, member->join_ud,
                   RB_GROUP_ERR_REBALANCE_IN_PROGRESS, member->member_id);
    member->join_cb = cb;
    member->join_ud = ud;
}

static void add_member_and_rebalance(rb_group_t *group, const char *member_id,
                                     const rb_join_request_t *req, rb_join_cb cb, void *ud)
{
    rb_member_t *member = member_new(group, member_id, req);
    member->is_new = true;
    member->join_cb = cb;
    member->join_ud = ud;
    if (group->members->len == 0) {
        g_free(group->protocol_type);
        group->protocol_type = g_strdup(req->protocol_type);
    }
    g_ptr_array_add(group->members, member);
    if (!group->leader_id)
        group->leader_id = g_strdup(member->member_id);
    if (group->state == RB_GROUP_PREPARING_REBALANCE && group->initial_delay)
        group->new_member_added = true;
    rb__group_member_touch(member);
    RILL_LOG_INFO(LOG_COMP, "group %s: member %s joins%s%s client=%s", group->group_id,
                  member->member_id, member->instance_id ? " instance=" : "",
                  member->instance_id ? member->instance_id : "", member->client_id);
    if (group->state == RB_GROUP_PREPARING_REBALANCE)
        try_complete_join(group);
    else
        prepare_rebalance(group, "a member joined");
}

static void update_member_and_rebalance(rb_group_t *group, rb_member_t *member,
                                        const rb_join_request_t *req, rb_join_cb cb, void *ud)
{
    member_set_protocols(member, req);
    set_join_cb(group, member, cb, ud);
    if (group->state == RB_GROUP_PREPARING_REBALANCE)
        try_complete_join(group);
    else
        prepare_rebalance(group, "a member rejoined");
}

/* A static member rejoined with an empty member id: it takes a new member id and
 * its old one is fenced. In a Stable group whose selected protocol stays the
 * same with the member's new protocols (Kafka's rule: metadata such as owned
 * partitions may differ) there is no rebalance: the member gets the current
 * generation and, by SyncGroup, its assignment. A former leader is then told
 * the old leader id, so that a client before JoinGroup v9 (KIP-814) acts as a
 * follower instead of re-assigning with no member list. In any other state the
 * group rebalances (in CompletingRebalance the leader may be assigning to the
 * old member id). */
static void replace_static_member(rb_group_t *group, rb_member_t *member, const char *new_id,
                                  const rb_join_request_t *req, rb_join_cb cb, void *ud)
{
    member_fail_pending(group, member, RB_GROUP_ERR_FENCED_INSTANCE_ID);
    g_autofree char *old_id = member->member_id;
    bool was_leader = is_leader(group, member);
    member->member_id = g_strdup(new_id);
    if (was_leader) {
        g_free(group->leader_id);
        group->leader_id = g_strdup(new_id);
    }
    RILL_LOG_INFO(LOG_COMP, "group %s: static member %s replaced %s with %s", group->group_id,
                  member->instance_id, old_id, new_id);
    rb__group_member_touch(member);
    if (group->state == RB_GROUP_STABLE) {
        member_set_protocols(member, req);
        g_autofree char *selected = select_protocol(group);
        if (strcmp(selected, group->protocol_name) == 0) {
            member->synced = false;
            answer_join(group, cb, ud, member, was_leader ? old_id : group->leader_id);
            return;
        }
    }
    update_member_and_rebalance(group, member, req, cb, ud);
}

static void join_unknown_member(rb_group_t *group, const rb_join_request_t *req, rb_join_cb cb,
                                void *ud)
{
    g_autofree char *member_id =
        new_member_id(req->group_instance_id ? req->group_instance_id : req->client_id);
    if (req->group_instance_id) {
        rb_member_t *member = member_by_instance(group, req->group_instance_id);
        if (member)
            replace_static_member(group, member, member_id, req, cb, ud);
        else
            add_member_and_rebalance(group, member_id, req, cb, ud);
        return;
    }
    if (req->require_known_member_id) {
        add_pending_member(group, member_id, req->session_timeout_ms);
        join_error(group->coord, cb, ud, RB_GROUP_ERR_MEMBER_ID_REQUIRED, member_id);
        return;
    }
    add_member_and_rebalance(group, member_id, req, cb, ud);
}

static void join_known_member(rb_group_t *group, const rb_join_request_t *req, rb_join_cb cb,
                              void *ud)
{
    if (g_hash_table_contains(group->pending, req->member_id)) {
        g_autofree char *member_id = g_strdup(req->member_id);
        g_hash_table_remove(group->pending, member_id);
        add_member_and_rebalance(group, member_id, req, cb, ud);
        return;
    }
    int16_t err = rb__group_validate_member(group, req->member_id, req->group_instance_id);
    if (err) {
        join_error(group->coord, cb, ud, err, req->member_id);
        return;
    }
    rb_member_t *member = rb__group_member(group, req->member_id);
    switch (group->state) {
    case RB_GROUP_PREPARING_REBALANCE:
        update_member_and_rebalance(group, member, req, cb, ud);
        break;
    case RB_GROUP_COMPLETING_REBALANCE:
        if (member_protocols_match(member, req)) {
            /* It lost our answer: send it again. */
            rb__group_member_touch(member);
            answer_join(group, cb, ud, member, NULL);
        } else {
            update_member_and_rebalance(group, member, req, cb, ud);
        }
        break;
    case RB_GROUP_STABLE:
        if (is_leader(group, member) || !member_protocols_match(member, req)) {
            update_member_and_rebalance(group, member, req, cb, ud);
        } else {
            rb__group_member_touch(member);
            answer_join(group, cb, ud, member, NULL);
        }
        break;
    case RB_GROUP_EMPTY:
    case RB_GROUP_DEAD:
        join_error(group->coord, cb, ud, RB_GROUP_ERR_UNKNOWN_MEMBER_ID, req->member_id);
        break;
    }
}

void rb_group_join(rb_group_coord_t *coord, const rb_join_request_t *request, rb_join_cb cb,
                   void *ud)
{
    g_assert(coord->in_callback == 0);
    rb_join_request_t req = *request;
    if (!req.member_id)
        req.member_id = "";
    if (!coord->loaded) {
        join_error(coord, cb, ud, RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS, req.member_id);
        return;
    }
    if (!req.group_id || !*req.group_id) {
        join_error(coord, cb, ud, RB_GROUP_ERR_INVALID_GROUP_ID, req.member_id);
        return;
    }
    if (req.session_timeout_ms < coord->config.min_session_timeout_ms ||
        req.session_timeout_ms > coord->config.max_session_timeout_ms) {
        join_error(coord, cb, ud, RB_GROUP_ERR_INVALID_SESSION_TIMEOUT, req.member_id);
        return;
    }
    rb_group_t *group = rb__group_get(coord, req.group_id);
    if (!group && *req.member_id) {
        join_error(coord, cb, ud, RB_GROUP_ERR_UNKNOWN_MEMBER_ID, req.member_id);
        return;
    }
    if (!group)
        group = rb__group_get_or_add(coord, req.group_id);
    bool known = rb__group_member(group, req.member_id) != NULL ||
                 member_by_instance(group, req.group_instance_id) != NULL;
    if (coord->config.max_size > 0 && !known &&
        group->members->len >= (guint)coord->config.max_size) {
        join_error(coord, cb, ud, RB_GROUP_ERR_GROUP_MAX_SIZE_REACHED, req.member_id);
        drop_if_unused(coord, group);
        return;
    }
    if (!group_supports(group, &req)) {
        join_error(coord, cb, ud, RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL, req.member_id);
        drop_if_unused(coord, group);
        return;
    }
    if (!*req.member_id)
        join_unknown_member(group, &req, cb, ud);
    else
        join_known_member(group, &req, cb, ud);
}

/* ---- SyncGroup -------------------------------------------------------------- */

void rb_group_sync(rb_group_coord_t *coord, const rb_sync_request_t *req, rb_sync_cb cb, void *ud)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded) {
        sync_error(coord, cb, ud, RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS);
        return;
    }
    if (!req->group_id || !*req->group_id) {
        sync_error(coord, cb, ud, RB_GROUP_ERR_INVALID_GROUP_ID);
        return;
    }
    rb_group_t *group = rb__group_get(coord, req->group_id);
    if (!group) {
        sync_error(coord, cb, ud, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
        return;
    }
    int16_t err = rb__group_validate_member(group, req->member_id, req->group_instance_id);
    if (err) {
        sync_error(coord, cb, ud, err);
        return;
    }
    if (req->generation_id != group->generation_id) {
        sync_error(coord, cb, ud, RB_GROUP_ERR_ILLEGAL_GENERATION);
        return;
    }
    if ((req->protocol_type && g_strcmp0(req->protocol_type, group->protocol_type) != 0) ||
        (req->protocol_name && g_strcmp0(req->protocol_name, group->protocol_name) != 0)) {
        sync_error(coord, cb, ud, RB_GROUP_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    rb_member_t *member = rb__group_member(group, req->member_id);
    switch (group->state) {
    case RB_GROUP_EMPTY:
    case RB_GROUP_DEAD:
        sync_error(coord, cb, ud, RB_GROUP_ERR_UNKNOWN_MEMBER_ID);
        return;
    case RB_GROUP_PREPARING_REBALANCE:
        sync_error(coord, cb, ud, RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
        return;
    case RB_GROUP_STABLE:
        member->synced = true;
        rb__group_member_touch(member);
        member->sync_cb = cb;
        member->sync_ud = ud;
        answer_sync(group, member);
        break;
    case RB_GROUP_COMPLETING_REBALANCE:
        if (member->sync_cb) /* a duplicate: the older one is superseded */
            sync_error(coord, member->sync_cb, member->sync_ud, RB_GROUP_ERR_REBALANCE_IN_PROGRESS);
        member->sync_cb = cb;
        member->sync_ud = ud;
        member->synced = true;
        rb__group_member_touch(member);
        if (!is_leader(group, member))
            break;
        for (size_t i = 0; i < req->assignment_count; i++) {
            rb_member_t *target = rb__group_member(group, req->assignments[i].member_id);
            if (!target)
                continue;
            if (target->assignment)
                g_bytes_unref(target->assignment);
            target->assignment =
                g_bytes_new(req->assignments[i].assignment, req->assignments[i].assignment_len);
        }
        err = rb__group_store_metadata(group, false);
        if (err) {
            /* The generation cannot be recorded: everyone rejoins. */
            for (guint i = 0; i < group->members->len; i++) {
                rb_member_t *m = g_ptr_array_index(group->members, i);
                if (m->sync_cb) {
                    rb_sync_cb mcb = m->sync_cb;
                    void *mud = m->sync_ud;
                    m->sync_cb = NULL;
                    m->sync_ud = NULL;
                    sync_error(coord, mcb, mud, err);
                }
            }
            prepare_rebalance(group, "could not store the group's metadata");
            return;
        }
        set_state(group, RB_GROUP_STABLE);
        RILL_LOG_INFO(LOG_COMP, "group %s: stable at generation %d with %u members",
                      group->group_id, group->generation_id, group->members->len);
        for (guint i = 0; i < group->members->len; i++) {
            rb_member_t *m = g_ptr_array_index(group->members, i);
            if (m->sync_cb)
                answer_sync(group, m);
        }
        break;
    }
    if (all_members_synced(group))
        timer_cancel(coord, &group->sync_timer);
}

/* ---- Heartbeat, LeaveGroup -------------------------------------------------- */

int16_t rb_group_heartbeat(rb_group_coord_t *coord, const char *group_id, int32_t generation_id,
                           const char *member_id, const char *group_instance_id)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    if (!group_id || !*group_id)
        return RB_GROUP_ERR_INVALID_GROUP_ID;
    rb_group_t *group = rb__group_get(coord, group_id);
    if (!group)
        return RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
    int16_t err = rb__group_validate_member(group, member_id, group_instance_id);
    if (err)
        return err;
    if (generation_id != group->generation_id)
        return RB_GROUP_ERR_ILLEGAL_GENERATION;
    rb_member_t *member = rb__group_member(group, member_id);
    switch (group->state) {
    case RB_GROUP_EMPTY:
    case RB_GROUP_DEAD:
        return RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
    case RB_GROUP_PREPARING_REBALANCE:
        rb__group_member_touch(member);
        return RB_GROUP_ERR_REBALANCE_IN_PROGRESS;
    case RB_GROUP_COMPLETING_REBALANCE:
    case RB_GROUP_STABLE:
        rb__group_member_touch(member);
        return RB_GROUP_ERR_NONE;
    }
    return RB_GROUP_ERR_NONE;
}

int16_t rb_group_leave(rb_group_coord_t *coord, const char *group_id, rb_leave_member_t *members,
                       size_t count)
{
    g_assert(coord->in_callback == 0);
    int16_t top = RB_GROUP_ERR_NONE;
    if (!coord->loaded)
        top = RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    else if (!group_id || !*group_id)
        top = RB_GROUP_ERR_INVALID_GROUP_ID;
    if (top) {
        for (size_t i = 0; i < count; i++)
            members[i].error_code = top;
        return top;
    }
    rb_group_t *group = rb__group_get(coord, group_id);
    for (size_t i = 0; i < count; i++) {
        rb_leave_member_t *leave = &members[i];
        const char *member_id = leave->member_id ? leave->member_id : "";
        leave->error_code = RB_GROUP_ERR_NONE;
        if (!group) {
            leave->error_code = RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
            continue;
        }
        rb_member_t *member;
        if (!*member_id && leave->group_instance_id) {
            member = member_by_instance(group, leave->group_instance_id);
        } else if (g_hash_table_contains(group->pending, member_id)) {
            g_hash_table_remove(group->pending, member_id);
            try_complete_join(group);
            continue;
        } else {
            leave->error_code =
                rb__group_validate_member(group, member_id, leave->group_instance_id);
            if (leave->error_code)
                continue;
            member = rb__group_member(group, member_id);
        }
        if (!member) {
            leave->error_code = RB_GROUP_ERR_UNKNOWN_MEMBER_ID;
            continue;
        }
        remove_member_and_update(group, member, "left the group");
    }
    return RB_GROUP_ERR_NONE;
}

/* ---- subscriptions (for offset expiry) ----------------------------------------- */

/* Adds the topics of one ConsumerProtocolSubscription (any version: int16
 * version, then []string topics) to topics. Returns false if it does not parse. */
static bool parse_subscription(GBytes *metadata, GHashTable *topics)
{
    size_t len;
    const uint8_t *data = g_bytes_get_data(metadata, &len);
    rill_rbuf_t r;
    rill__rbuf_init(&r, data, len);
    int16_t version = rill__rbuf_get_i16(&r);
    int32_t count = rill__rbuf_get_i32(&r);
    if (r.err || version < 0 || count < 0 || (size_t)count > rill__rbuf_remaining(&r) / 2)
        return false;
    for (int32_t i = 0; i < count; i++) {
        int16_t n = rill__rbuf_get_i16(&r);
        const uint8_t *name = n >= 0 ? rill__rbuf_get(&r, (size_t)n) : NULL;
        if (r.err || !name)
            return false;
        char *topic = g_strndup((const char *)name, (size_t)n);
        g_hash_table_replace(topics, topic, topic);
    }
    return true;
}

GHashTable *rb__group_subscribed_topics(rb_group_t *group)
{
    if (group->state != RB_GROUP_STABLE || !group->protocol_type ||
        strcmp(group->protocol_type, "consumer") != 0)
        return NULL;
    GHashTable *topics = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint i = 0; i < group->members->len; i++) {
        const rb_member_t *member = g_ptr_array_index(group->members, i);
        const rb_member_protocol_t *proto = member_protocol(member, group->protocol_name);
        if (!proto || !parse_subscription(proto->metadata, topics)) {
            g_hash_table_unref(topics);
            return NULL;
        }
    }
    return topics;
}

/* ---- DescribeGroups, ListGroups ------------------------------------------------ */

void rb_group_describe(rb_group_coord_t *coord, const char *group_id,
                       void (*fn)(const rb_group_desc_t *desc, void *ud), void *ud)
{
    g_assert(coord->in_callback == 0);
    rb_group_desc_t desc = {
        .group_id = group_id ? group_id : "",
        .state = "Dead",
        .protocol_type = "",
        .protocol_data = "",
    };
    rb_group_t *group = coord->loaded ? rb__group_get(coord, group_id) : NULL;
    g_autofree rb_group_member_desc_t *members = NULL;
    if (!coord->loaded) {
        desc.error_code = RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
        desc.state = "";
    } else if (!group_id) {
        desc.error_code = RB_GROUP_ERR_INVALID_GROUP_ID;
        desc.state = "";
    } else if (group) {
        bool stable = group->state == RB_GROUP_STABLE;
        desc.state = rb__group_state_name(group->state);
        desc.protocol_type = group->protocol_type ? group->protocol_type : "";
        desc.protocol_data = stable && group->protocol_name ? group->protocol_name : "";
        members = g_new0(rb_group_member_desc_t, group->members->len + 1);
        for (guint i = 0; i < group->members->len; i++) {
            const rb_member_t *member = g_ptr_array_index(group->members, i);
            rb_group_member_desc_t *out = &members[i];
            out->member_id = member->member_id;
            out->group_instance_id = member->instance_id;
            out->client_id = member->client_id;
            out->client_host = member->client_host;
            out->metadata = empty_bytes;
            out->assignment = empty_bytes;
            if (stable) {
                const rb_member_protocol_t *proto = member_protocol(member, group->protocol_name);
                if (proto && g_bytes_get_size(proto->metadata) > 0)
                    out->metadata = g_bytes_get_data(proto->metadata, &out->metadata_len);
                if (member->assignment && g_bytes_get_size(member->assignment) > 0)
                    out->assignment = g_bytes_get_data(member->assignment, &out->assignment_len);
            }
        }
        desc.members = members;
        desc.member_count = group->members->len;
    }
    coord->in_callback++;
    fn(&desc, ud);
    coord->in_callback--;
}

static gint compare_groups(gconstpointer a, gconstpointer b)
{
    const rb_group_t *ga = *(rb_group_t *const *)a;
    const rb_group_t *gb = *(rb_group_t *const *)b;
    return strcmp(ga->group_id, gb->group_id);
}

int16_t rb_group_list(rb_group_coord_t *coord, const char *const *states, size_t state_count,
                      void (*fn)(const char *group_id, const char *protocol_type, const char *state,
                                 void *ud),
                      void *ud)
{
    g_assert(coord->in_callback == 0);
    if (!coord->loaded)
        return RB_GROUP_ERR_COORDINATOR_LOAD_IN_PROGRESS;
    g_autoptr(GPtrArray) groups = rb__table_values(coord->groups);
    g_ptr_array_sort(groups, compare_groups);
    coord->in_callback++;
    for (guint i = 0; i < groups->len; i++) {
        const rb_group_t *group = g_ptr_array_index(groups, i);
        const char *state = rb__group_state_name(group->state);
        bool wanted = state_count == 0;
        for (size_t s = 0; !wanted && s < state_count; s++)
            wanted = states[s] && g_ascii_strcasecmp(states[s], state) == 0;
        if (wanted)
            fn(group->group_id, group->protocol_type ? group->protocol_type : "", state, ud);
    }
    coord->in_callback--;
    return RB_GROUP_ERR_NONE;
}

/* ---- lifetime ------------------------------------------------------------------ */

void rb_group_config_defaults(rb_group_config_t *config)
{
    config->min_session_timeout_ms = 6000;
    config->max_session_timeout_ms = 1800000;
    config->initial_rebalance_delay_ms = 3000;
    config->max_size = -1;
    config->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    config->offsets_retention_check_interval_ms = 600000;
    config->offset_metadata_max_bytes = 4096;
}

rb_group_coord_t *rb_group_coord_new(const rb_group_config_t *config, const rb_group_env_t *env,
                                     const rb_group_store_t *store)
{
    rb_group_coord_t *coord = g_new0(rb_group_coord_t, 1);
    coord->config = *config;
    coord->env = *env;
    if (store) {
        coord->store = *store;
        coord->has_store = true;
    }
    coord->groups = g_hash_table_new(g_str_hash, g_str_equal);
    return coord;
}

static void replay_batch(void *arg, const uint8_t *batch, size_t len)
{
    struct {
        rb_group_coord_t *coord;
        char *errmsg;
    } *replay = arg;
    if (replay->errmsg)
        return;
    rb__records_apply_batch(replay->coord, batch, len, &replay->errmsg);
}

int rb_group_coord_load(rb_group_coord_t *coord, char **errmsg)
{
    g_assert(!coord->loaded);
    if (coord->has_store) {
        struct {
            rb_group_coord_t *coord;
            char *errmsg;
        } replay = {coord, NULL};
        char *store_err = NULL;
        if (coord->store.replay(coord->store.ud, replay_batch, &replay, &store_err) != 0) {
            g_free(replay.errmsg);
            *errmsg = g_strdup_printf("loading group offsets: %s",
                                      store_err ? store_err : "replay failed");
            g_free(store_err);
            return -1;
        }
        if (replay.errmsg) {
            *errmsg = g_strdup_printf("loading group offsets: %s", replay.errmsg);
            g_free(replay.errmsg);
            return -1;
        }
    }
    coord->loaded = true;
    size_t offsets = 0;
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, coord->groups);
    while (g_hash_table_iter_next(&it, NULL, &value))
        offsets += g_hash_table_size(((rb_group_t *)value)->offsets);
    RILL_LOG_INFO(LOG_COMP, "loaded %u groups with %zu committed offsets",
                  g_hash_table_size(coord->groups), offsets);
    rb__offsets_start_expiry(coord);
    return 0;
}

void rb_group_coord_destroy(rb_group_coord_t *coord)
{
    if (!coord)
        return;
    g_assert(coord->in_callback == 0);
    timer_cancel(coord, &coord->expiry_timer);
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init(&it, coord->groups);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        g_hash_table_iter_steal(&it);
        group_free(value, RB_GROUP_ERR_NOT_COORDINATOR);
    }
    g_hash_table_unref(coord->groups);
    if (coord->has_store && coord->store.close)
        coord->store.close(coord->store.ud);
    g_free(coord);
}

int16_t rb_group_find_coordinator(const rb_group_coord_t *coord, const char *key)
{
    return coord ? RB_GROUP_ERR_NONE : RB_GROUP_ERR_COORDINATOR_NOT_AVAILABLE;
}
