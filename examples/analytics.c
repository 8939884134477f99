/* analytics.c: real-time clickstream analytics: per-region revenue and views in 1-minute windows, and user sessions.
 *
 * The stateful rill example that scripts/demo.sh runs. Input: a user table
 * (--users, key = user id, value {"user", "region", ...}, a compacted topic)
 * and a clickstream (--clicks, key = user id, value {"type": "page_view" |
 * "add_to_cart" | "purchase", "user", "ts" (event time, ms), "ua" (user
 * agent), "product", "amount" (purchases)}). The topology:
 *
 *   clicks ─► filterNot(bot) ─► join(users) ─┬─► groupBy(region) ─► tumbling 1 min + grace
 *   (event time = "ts")        (add region)  │      (repartition      ─► aggregate(stats)
 *                                            │       "by-region")     ─► suppress (emit-final)
 *                                            │                        ─► --windows topic
 *                                            └─► groupByKey(user) ─► sessions (30 min gap)
 *                                                   ─► aggregate(session) ─► suppress ─► --sessions
 *
 * Outputs, one record per closed window (emitted once, after its grace):
 *   --windows   key "<region>@<window start ms>", value {"region", "start", "end",
 *               "views", "carts", "orders", "revenue_cents"}
 *   --sessions  key "<user>@<session start ms>", value {"user", "start", "end", "events",
 *               "views", "carts", "orders", "revenue_cents"} (end = the last event's time)
 *
 * Design notes. Events are parsed once, at the source, by a serde of this
 * file into a C struct (a POINTER value), so the filter, the join, the
 * grouping and the timestamp extractor read fields, not JSON; a value that is
 * not a well-formed event (not JSON, not an object, a field missing or of
 * the wrong type) is a deserialization error, which the app's handler sends
 * to the dead-letter topic (--dead-letter) and goes on: nothing is lost
 * silently. Crawlers are recognised by "bot" in their user agent. Events of
 * users missing from the table are dropped by the (inner) join. Money is
 * summed as integer cents, so results are exact. Late events (beyond the
 * grace) are dropped by the windows and counted in the app's metrics
 * (rill_app_dropped_records_total{reason="late"}).
 *
 * The JSON reader below is a small strict one for flat objects (nested
 * values are skipped), so that the example needs nothing but rill. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rill/rill.h>
#include <rill/window.h>

/* ---- a strict reader of flat JSON objects ----------------------------------- */

/* One member value: a string (decoded, NUL-terminated, in the caller's
 * buffer), a number (its text), or another kind (skipped). */
typedef enum { J_STRING, J_NUMBER, J_OTHER } jkind_t;

typedef struct jreader {
    const char *p, *end;
} jreader_t;

static void ws(jreader_t *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

/* Reads a string into out (cap bytes, truncated if longer; NULL: skip).
 * Escapes: the JSON ones; \u is decoded to UTF-8 (surrogate pairs included). */
static bool jstring(jreader_t *r, char *out, size_t cap)
{
    size_t n = 0;
    if (r->p >= r->end || *r->p != '"')
        return false;
    r->p++;
    while (r->p < r->end) {
        unsigned char c = (unsigned char)*r->p++;
        char buf[4];
        size_t len = 1;
        if (c == '"') {
            if (out)
                out[n] = '\0';
            return true;
        }
        if (c < 0x20)
            return false;
        buf[0] = (char)c;
        if (c == '\\') {
            if (r->p >= r->end)
                return false;
            char e = *r->p++;
            const char *simple = strchr("\"\\/bfnrt", e);
            if (e != '\0' && simple != NULL) {
                buf[0] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            } else if (e == 'u') {
                unsigned cp = 0;
                for (int i = 0; i < 4; i++) {
                    if (r->p >= r->end)
                        return false;
                    char h = *r->p++;
                    int v = h >= '0' && h <= '9'   ? h - '0'
                            : h >= 'a' && h <= 'f' ? h - 'a' + 10
                            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                   : -1;
                    if (v < 0)
                        return false;
                    cp = cp << 4 | (unsigned)v;
                }
                if (cp >= 0xd800 && cp <= 0xdfff) /* keep it simple: no surrogates */
                    return false;
                if (cp < 0x80) {
                    buf[0] = (char)cp;
                } else if (cp < 0x800) {
                    buf[0] = (char)(0xc0 | cp >> 6);
                    buf[1] = (char)(0x80 | (cp & 0x3f));
                    len = 2;
                } else {
                    buf[0] = (char)(0xe0 | cp >> 12);
                    buf[1] = (char)(0x80 | (cp >> 6 & 0x3f));
                    buf[2] = (char)(0x80 | (cp & 0x3f));
                    len = 3;
                }
            } else {
                return false;
            }
        }
        if (out && n + len < cap) {
            memcpy(out + n, buf, len);
            n += len;
        }
    }
    return false;
}

/* A number as RFC 8259 writes it: -?int frac? exp?; *integral tells whether
 * it has neither a fraction nor an exponent. */
static bool jnumber(jreader_t *r, const char **start, size_t *len, bool *integral)
{
    const char *s = r->p;
    *integral = true;
    if (r->p < r->end && *r->p == '-')
        r->p++;
    if (r->p >= r->end || *r->p < '0' || *r->p > '9')
        return false;
    if (*r->p == '0')
        r->p++;
    else
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    if (r->p < r->end && *r->p == '.') {
        *integral = false;
        r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return false;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        *integral = false;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
            r->p++;
        if (r->p >= r->end || *r->p < '0' || *r->p > '9')
            return false;
        while (r->p < r->end && *r->p >= '0' && *r->p <= '9')
            r->p++;
    }
    *start = s;
    *len = (size_t)(r->p - s);
    return true;
}

static bool jskip(jreader_t *r, int depth);

static bool jliteral(jreader_t *r, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return false;
    r->p += n;
    return true;
}

/* Skips any value (objects and arrays up to 64 deep). */
static bool jskip(jreader_t *r, int depth)
{
    const char *s;
    size_t len;
    bool integral;
    ws(r);
    if (r->p >= r->end || depth > 64)
        return false;
    switch (*r->p) {
    case '"': return jstring(r, NULL, 0);
    case 't': return jliteral(r, "true");
    case 'f': return jliteral(r, "false");
    case 'n': return jliteral(r, "null");
    case '[':
    case '{': {
        char close = *r->p == '[' ? ']' : '}';
        bool object = close == '}';
        r->p++;
        ws(r);
        if (r->p < r->end && *r->p == close) {
            r->p++;
            return true;
        }
        for (;;) {
            if (object) {
                ws(r);
                if (!jstring(r, NULL, 0))
                    return false;
                ws(r);
                if (r->p >= r->end || *r->p++ != ':')
                    return false;
            }
            if (!jskip(r, depth + 1))
                return false;
            ws(r);
            if (r->p >= r->end)
                return false;
            char c = *r->p++;
            if (c == close)
                return true;
            if (c != ',')
                return false;
        }
    }
    default: return jnumber(r, &s, &len, &integral);
    }
}

/* Calls member(name, kind, text, len, integral, ud) for each member of the
 * top-level object in [data, data + size); strings are decoded into a
 * buffer. Returns false if the text is not exactly one JSON object or a
 * member callback returns false. */
typedef bool (*jmember_fn)(const char *name, jkind_t kind, const char *text, size_t len,
                           bool integral, void *ud);

static bool jobject(const char *data, size_t size, jmember_fn member, void *ud)
{
    jreader_t r = {data, data + size};
    char name[32], str[512];
    ws(&r);
    if (r.p >= r.end || *r.p++ != '{')
        return false;
    ws(&r);
    if (r.p < r.end && *r.p == '}') {
        r.p++;
    } else {
        for (;;) {
            ws(&r);
            if (!jstring(&r, name, sizeof name))
                return false;
            ws(&r);
            if (r.p >= r.end || *r.p++ != ':')
                return false;
            ws(&r);
            if (r.p >= r.end)
                return false;
            bool ok;
            if (*r.p == '"') {
                ok = jstring(&r, str, sizeof str) &&
                     member(name, J_STRING, str, strlen(str), false, ud);
            } else if (*r.p == '-' || (*r.p >= '0' && *r.p <= '9')) {
                const char *s;
                size_t len;
                bool integral;
                ok = jnumber(&r, &s, &len, &integral) &&
                     member(name, J_NUMBER, s, len, integral, ud);
            } else {
                ok = jskip(&r, 1) && member(name, J_OTHER, NULL, 0, false, ud);
            }
            if (!ok)
                return false;
            ws(&r);
            if (r.p >= r.end)
                return false;
            char c = *r.p++;
            if (c == '}')
                break;
            if (c != ',')
                return false;
        }
    }
    ws(&r);
    return r.p == r.end;
}

/* Appends s to out as a JSON string (quoted, escaped). */
static void jquote(rill_buffer_t *out, const char *s)
{
    rill_buffer_append(out, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            rill_buffer_append(out, esc, 2);
        } else if (c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            rill_buffer_append(out, esc, 6);
        } else {
            rill_buffer_append(out, s, 1);
        }
    }
    rill_buffer_append(out, "\"", 1);
}

static void jappendf(rill_buffer_t *out, const char *fmt, int64_t v)
{
    char text[64];
    int n = snprintf(text, sizeof text, fmt, v);
    rill_buffer_append(out, text, (size_t)n);
}

/* ---- the event, the user and the aggregates ------------------------------------ */

typedef enum { PAGE_VIEW, ADD_TO_CART, PURCHASE } kind_t;
static const char *const kind_names[] = {"page_view", "add_to_cart", "purchase"};

/* A click event, as parsed from the clickstream; after the join, region is set. */
typedef struct event {
    int64_t ts;
    int64_t amount_cents; /* purchases */
    kind_t kind;
    bool bot;
    char user[64];
    char product[32];
    char region[32];
} event_t;

typedef struct parse_state {
    event_t *event;
    bool has_type, has_user, has_ts, has_amount, bad;
} parse_state_t;

static bool strcasestr_bot(const char *s)
{
    for (; *s; s++)
        if ((s[0] | 0x20) == 'b' && (s[1] | 0x20) == 'o' && (s[2] | 0x20) == 't')
            return true;
    return false;
}

static bool event_member(const char *name, jkind_t kind, const char *text, size_t len,
                         bool integral, void *ud)
{
    parse_state_t *st = ud;
    event_t *ev = st->event;
    if (strcmp(name, "type") == 0) {
        st->has_type = false; /* the last "type" counts */
        if (kind != J_STRING)
            return false;
        for (int k = 0; k < 3; k++)
            if (strcmp(text, kind_names[k]) == 0) {
                ev->kind = (kind_t)k;
                st->has_type = true;
            }
        return st->has_type;
    }
    if (strcmp(name, "user") == 0) {
        if (kind != J_STRING || len == 0 || len >= sizeof ev->user)
            return false;
        memcpy(ev->user, text, len + 1);
        st->has_user = true;
    } else if (strcmp(name, "product") == 0) { /* informative only: other types ignored */
        if (kind == J_STRING)
            snprintf(ev->product, sizeof ev->product, "%s", text);
    } else if (strcmp(name, "region") == 0) { /* set by the join; written in repartitions */
        if (kind == J_STRING)
            snprintf(ev->region, sizeof ev->region, "%s", text);
    } else if (strcmp(name, "ua") == 0) {
        if (kind != J_STRING)
            return false;
        ev->bot = strcasestr_bot(text);
    } else if (strcmp(name, "ts") == 0) {
        if (kind != J_NUMBER || !integral || text[0] == '-' || len > 18)
            return false;
        ev->ts = strtoll(text, NULL, 10);
        st->has_ts = true;
    } else if (strcmp(name, "amount") == 0) { /* required (and checked) for purchases only */
        char num[32];
        double amount = -1;
        if (kind == J_NUMBER && len < sizeof num) {
            memcpy(num, text, len);
            num[len] = '\0';
            amount = strtod(num, NULL);
        }
        st->has_amount = amount >= 0 && amount < 9e15;
        ev->amount_cents = st->has_amount ? llround(amount * 100.0) : 0;
    } else if (strcmp(name, "amount_cents") == 0) { /* as this file writes it */
        st->has_amount = kind == J_NUMBER && integral && text[0] != '-' && len <= 18;
        ev->amount_cents = st->has_amount ? strtoll(text, NULL, 10) : 0;
    }
    return true;
}

/* The event serde: JSON text <-> event_t (a POINTER value). */
static rill_err_t event_deserialize(const void *data, size_t len, rill_value_t *out, void *ud,
                                    rill_error_t **error)
{
    (void)ud;
    event_t *ev = calloc(1, sizeof *ev);
    if (ev == NULL)
        return rill_error_set(error, RILL_ERR_NOMEM, "out of memory");
    parse_state_t st = {.event = ev};
    const char *why = NULL;
    if (!jobject(data, len, event_member, &st))
        why = "not a JSON object with fields of the right types";
    else if (!st.has_type)
        why = "no \"type\" (page_view, add_to_cart or purchase)";
    else if (!st.has_user)
        why = "no \"user\"";
    else if (!st.has_ts)
        why = "no \"ts\" (event time in ms)";
    else if (ev->kind == PURCHASE && !st.has_amount)
        why = "a purchase without \"amount\"";
    if (why != NULL) {
        free(ev);
        return rill_error_set(error, RILL_ERR_SERDE, "bad click event: %s", why);
    }
    rill_value_set_pointer(out, ev, sizeof *ev, free);
    return RILL_OK;
}

static rill_err_t event_serialize(const rill_value_t *value, rill_buffer_t *out, void *ud,
                                  rill_error_t **error)
{
    (void)ud;
    const event_t *ev = rill_value_pointer(value, NULL);
    if (ev == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "not a click event");
    rill_buffer_append(out, "{\"type\":", 8);
    jquote(out, kind_names[ev->kind]);
    rill_buffer_append(out, ",\"user\":", 8);
    jquote(out, ev->user);
    rill_buffer_append(out, ",\"product\":", 11);
    jquote(out, ev->product);
    rill_buffer_append(out, ",\"region\":", 10);
    jquote(out, ev->region);
    jappendf(out, ",\"ts\":%" PRId64, ev->ts);
    if (ev->kind == PURCHASE)
        jappendf(out, ",\"amount_cents\":%" PRId64, ev->amount_cents);
    rill_buffer_append(out, "}", 1);
    return RILL_OK;
}

/* A user of the table: only the region matters here. */
typedef struct user {
    char region[32];
    bool has_region;
} user_t;

static bool user_member(const char *name, jkind_t kind, const char *text, size_t len,
                        bool integral, void *ud)
{
    (void)integral;
    user_t *user = ud;
    if (strcmp(name, "region") == 0) {
        if (kind != J_STRING || len == 0 || len >= sizeof user->region)
            return false;
        memcpy(user->region, text, len + 1);
        user->has_region = true;
    }
    return true;
}

static rill_err_t user_deserialize(const void *data, size_t len, rill_value_t *out, void *ud,
                                   rill_error_t **error)
{
    (void)ud;
    user_t *user = calloc(1, sizeof *user);
    if (user == NULL)
        return rill_error_set(error, RILL_ERR_NOMEM, "out of memory");
    if (!jobject(data, len, user_member, user) || !user->has_region) {
        free(user);
        return rill_error_set(error, RILL_ERR_SERDE,
                              "bad user: not a JSON object with a string \"region\"");
    }
    rill_value_set_pointer(out, user, sizeof *user, free);
    return RILL_OK;
}

static rill_err_t user_serialize(const rill_value_t *value, rill_buffer_t *out, void *ud,
                                 rill_error_t **error)
{
    (void)ud;
    const user_t *user = rill_value_pointer(value, NULL);
    if (user == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "not a user");
    rill_buffer_append(out, "{\"region\":", 10);
    jquote(out, user->region);
    rill_buffer_append(out, "}", 1);
    return RILL_OK;
}

/* The aggregate of a window or a session: counts and revenue. Stored as
 * five big-endian int64s. */
typedef struct stats {
    int64_t events, views, carts, orders, revenue_cents;
} stats_t;

#define STATS_FIELDS 5

static rill_err_t stats_deserialize(const void *data, size_t len, rill_value_t *out, void *ud,
                                    rill_error_t **error)
{
    (void)ud;
    if (len != STATS_FIELDS * 8)
        return rill_error_set(error, RILL_ERR_SERDE, "stats: %zu bytes, expected %d", len,
                              STATS_FIELDS * 8);
    stats_t *stats = malloc(sizeof *stats);
    if (stats == NULL)
        return rill_error_set(error, RILL_ERR_NOMEM, "out of memory");
    int64_t *field = &stats->events;
    const unsigned char *p = data;
    for (int i = 0; i < STATS_FIELDS; i++) {
        uint64_t v = 0;
        for (int b = 0; b < 8; b++)
            v = v << 8 | p[i * 8 + b];
        field[i] = (int64_t)v;
    }
    rill_value_set_pointer(out, stats, sizeof *stats, free);
    return RILL_OK;
}

static rill_err_t stats_serialize(const rill_value_t *value, rill_buffer_t *out, void *ud,
                                  rill_error_t **error)
{
    (void)ud;
    const stats_t *stats = rill_value_pointer(value, NULL);
    if (stats == NULL)
        return rill_error_set(error, RILL_ERR_SERDE, "not stats");
    const int64_t *field = &stats->events;
    unsigned char bytes[STATS_FIELDS * 8];
    for (int i = 0; i < STATS_FIELDS; i++)
        for (int b = 0; b < 8; b++)
            bytes[i * 8 + b] = (unsigned char)((uint64_t)field[i] >> (56 - 8 * b));
    rill_buffer_append(out, bytes, sizeof bytes);
    return RILL_OK;
}

/* ---- the operators' callbacks ------------------------------------------------------ */

static int64_t event_time(const rill_record_t *record, int64_t partition_time, void *ud)
{
    (void)partition_time;
    (void)ud;
    const event_t *ev = rill_value_pointer(rill_record_value(record), NULL);
    return ev != NULL ? ev->ts : -1;
}

static bool is_bot(const rill_record_t *record, void *ud)
{
    (void)ud;
    const event_t *ev = rill_value_pointer(rill_record_value(record), NULL);
    return ev == NULL || ev->bot;
}

/* join: the event with the user's region. */
static rill_err_t add_region(const rill_record_t *record, const rill_value_t *table_value,
                             rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    const event_t *ev = rill_value_pointer(rill_record_value(record), NULL);
    const user_t *user = rill_value_pointer(table_value, NULL);
    event_t *enriched = malloc(sizeof *enriched);
    if (ev == NULL || user == NULL || enriched == NULL) {
        free(enriched);
        return rill_error_set(error, RILL_ERR_USER, "join: not an event and a user");
    }
    *enriched = *ev;
    snprintf(enriched->region, sizeof enriched->region, "%s", user->region);
    rill_value_set_pointer(out, enriched, sizeof *enriched, free);
    return RILL_OK;
}

static rill_err_t region_key(const rill_record_t *record, rill_value_t *out, void *ud,
                             rill_error_t **error)
{
    (void)ud;
    (void)error;
    const event_t *ev = rill_value_pointer(rill_record_value(record), NULL);
    if (ev == NULL)
        return rill_error_set(error, RILL_ERR_USER, "not an event");
    rill_value_set_string(out, ev->region, NULL); /* borrowed: lives as long as the record */
    return RILL_OK;
}

static rill_err_t stats_init(rill_value_t *out, void *ud, rill_error_t **error)
{
    (void)ud;
    stats_t *stats = calloc(1, sizeof *stats);
    if (stats == NULL)
        return rill_error_set(error, RILL_ERR_NOMEM, "out of memory");
    rill_value_set_pointer(out, stats, sizeof *stats, free);
    return RILL_OK;
}

static rill_err_t stats_add(const rill_value_t *key, const rill_value_t *value,
                            const rill_value_t *aggregate, rill_value_t *out, void *ud,
                            rill_error_t **error)
{
    (void)key;
    (void)ud;
    const event_t *ev = rill_value_pointer(value, NULL);
    const stats_t *old = rill_value_pointer(aggregate, NULL);
    stats_t *stats = malloc(sizeof *stats);
    if (ev == NULL || old == NULL || stats == NULL) {
        free(stats);
        return rill_error_set(error, RILL_ERR_USER, "aggregate: not an event and stats");
    }
    *stats = *old;
    stats->events++;
    switch (ev->kind) {
    case PAGE_VIEW: stats->views++; break;
    case ADD_TO_CART: stats->carts++; break;
    case PURCHASE:
        stats->orders++;
        stats->revenue_cents += ev->amount_cents;
        break;
    }
    rill_value_set_pointer(out, stats, sizeof *stats, free);
    return RILL_OK;
}

static rill_err_t stats_merge(const rill_value_t *key, const rill_value_t *aggregate1,
                              const rill_value_t *aggregate2, rill_value_t *out, void *ud,
                              rill_error_t **error)
{
    (void)key;
    (void)ud;
    const stats_t *a = rill_value_pointer(aggregate1, NULL);
    const stats_t *b = rill_value_pointer(aggregate2, NULL);
    stats_t *stats = malloc(sizeof *stats);
    if (a == NULL || b == NULL || stats == NULL) {
        free(stats);
        return rill_error_set(error, RILL_ERR_USER, "merge: not stats");
    }
    stats->events = a->events + b->events;
    stats->views = a->views + b->views;
    stats->carts = a->carts + b->carts;
    stats->orders = a->orders + b->orders;
    stats->revenue_cents = a->revenue_cents + b->revenue_cents;
    rill_value_set_pointer(out, stats, sizeof *stats, free);
    return RILL_OK;
}

static bool has_value(const rill_record_t *record, void *ud)
{
    (void)ud;
    return !rill_value_is_null(rill_record_value(record));
}

/* Writes s as a JSON string into out (cap >= 6 * strlen(s) + 3). */
static void quote_into(char *out, size_t cap, const char *s)
{
    size_t n = 0;
    out[n++] = '"';
    for (; *s && n + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
}

/* The output record of a closed window or session: key "<key>@<start>",
 * value JSON. ud names the key's field ("region" or "user"). */
static rill_err_t window_output(const rill_record_t *record, rill_value_t *key_out,
                                rill_value_t *value_out, void *ud, rill_error_t **error)
{
    const char *field = ud;
    const rill_windowed_t *windowed = rill_value_windowed(rill_record_key(record));
    const stats_t *stats = rill_value_pointer(rill_record_value(record), NULL);
    const char *name = windowed ? rill_value_string(rill_windowed_key(windowed)) : NULL;
    if (name == NULL || stats == NULL)
        return rill_error_set(error, RILL_ERR_USER, "output: not a string-keyed window and stats");
    char quoted[6 * 64 + 3];
    quote_into(quoted, sizeof quoted, name);
    size_t cap = strlen(quoted) + 256;
    char *json = malloc(cap);
    char *key = rill_windowed_format(rill_record_key(record));
    if (json == NULL || key == NULL) {
        free(json);
        rill_free(key);
        return rill_error_set(error, RILL_ERR_NOMEM, "out of memory");
    }
    snprintf(json, cap,
             "{\"%s\":%s,\"start\":%" PRId64 ",\"end\":%" PRId64 ",\"events\":%" PRId64
             ",\"views\":%" PRId64 ",\"carts\":%" PRId64 ",\"orders\":%" PRId64
             ",\"revenue_cents\":%" PRId64 "}",
             field, quoted, rill_windowed_start(windowed), rill_windowed_end(windowed),
             stats->events, stats->views, stats->carts, stats->orders, stats->revenue_cents);
    rill_value_set_string(key_out, key, rill_free);
    rill_value_set_string(value_out, json, free);
    return RILL_OK;
}

/* ---- the topology ------------------------------------------------------------------- */

typedef struct options {
    const char *users, *clicks, *windows, *sessions;
    int64_t window_ms, grace_ms, gap_ms;
} options_t;

static rill_topology_t *build_topology(const options_t *o, rill_error_t **error)
{
    rill_serde_t *event_serde =
        rill_serde_new("click-event", event_serialize, event_deserialize, NULL, NULL);
    rill_serde_t *user_serde = rill_serde_new("user", user_serialize, user_deserialize, NULL, NULL);
    rill_serde_t *stats_serde =
        rill_serde_new("stats", stats_serialize, stats_deserialize, NULL, NULL);
    const rill_serde_t *string = rill_serde_string();
    rill_builder_t *builder = rill_builder_new();

    rill_table_t *users = rill_builder_table(
        builder, o->users, &(rill_consumed_t){.key_serde = string, .value_serde = user_serde},
        &(rill_materialized_t){.name = "users", .key_serde = string, .value_serde = user_serde});
    rill_stream_t *clicks = rill_builder_stream(builder, o->clicks,
                                                &(rill_consumed_t){.key_serde = string,
                                                                   .value_serde = event_serde,
                                                                   .timestamp = RILL_TIMESTAMP_USER,
                                                                   .timestamp_fn = event_time,
                                                                   .name = "clicks"});
    rill_stream_t *humans = rill_stream_filter_not(clicks, is_bot, NULL, "drop-bots");
    rill_stream_t *enriched = rill_stream_join_table(humans, users, add_region, NULL, "add-region");

    /* per region, 1-minute tumbling windows, each emitted once when it closes */
    rill_grouped_t *by_region = rill_stream_group_by(
        enriched, region_key, NULL,
        &(rill_grouped_opts_t){.name = "by-region", .key_serde = string, .value_serde = event_serde});
    rill_time_windows_t tumbling = rill_time_windows_of_size(o->window_ms, o->grace_ms);
    rill_table_t *windows = rill_time_windowed_aggregate(
        rill_grouped_windowed_by(by_region, &tumbling), stats_init, stats_add, NULL,
        &(rill_materialized_t){
            .name = "region-windows", .key_serde = string, .value_serde = stats_serde});
    rill_table_t *final_windows = rill_table_suppress_until_window_closes(
        windows, &(rill_suppressed_t){.name = "region-windows-final"});
    rill_produced_t text = {.key_serde = string, .value_serde = string};
    rill_stream_to(rill_stream_map(rill_stream_filter(rill_table_to_stream(final_windows, NULL),
                                                      has_value, NULL, "closed-windows"),
                                   window_output, (void *)"region", "window-json"),
                   o->windows, &text);

    /* per user, sessions of activity (a gap of gap_ms ends one), emitted once when closed */
    rill_grouped_t *by_user = rill_stream_group_by_key(
        enriched,
        &(rill_grouped_opts_t){.name = "by-user", .key_serde = string, .value_serde = event_serde});
    rill_session_windows_t gap = {.inactivity_gap_ms = o->gap_ms, .grace_ms = o->grace_ms};
    rill_table_t *sessions = rill_session_windowed_aggregate(
        rill_grouped_windowed_by_session(by_user, &gap), stats_init, stats_add, stats_merge, NULL,
        &(rill_materialized_t){.name = "sessions", .key_serde = string, .value_serde = stats_serde});
    rill_table_t *final_sessions = rill_table_suppress_until_window_closes(
        sessions, &(rill_suppressed_t){.name = "sessions-final"});
    rill_stream_to(rill_stream_map(rill_stream_filter(rill_table_to_stream(final_sessions, NULL),
                                                      has_value, NULL, "closed-sessions"),
                                   window_output, (void *)"user", "session-json"),
                   o->sessions, &text);

    rill_topology_t *topology = rill_builder_build(builder, error);
    rill_builder_destroy(builder);
    rill_serde_unref(event_serde);
    rill_serde_unref(user_serde);
    rill_serde_unref(stats_serde);
    return topology;
}

/* ---- main ----------------------------------------------------------------------------- */

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: analytics -b HOST:PORT [options]\n"
            "\n"
            "Real-time clickstream analytics: drops crawlers, adds each user's region from the\n"
            "user table, and writes per region and 1-minute window the views, cart adds, orders\n"
            "and revenue, and per user each session of activity; every window and session once,\n"
            "when it closes (after the grace period; later events are dropped and counted).\n"
            "\n"
            "  -b, --bootstrap-servers HOST:PORT[,...]  the Kafka cluster (also --bootstrap-server)\n"
            "      --application-id ID     consumer group and app name (default analytics)\n"
            "      --state-dir DIR         local state directory (default /tmp/rill-streams)\n"
            "      --threads N             stream threads (default 1)\n"
            "      --processing-guarantee G  at_least_once (default)\n"
            "      --users TOPIC           the user table, key = user id (default users)\n"
            "      --clicks TOPIC          the clickstream, key = user id (default clicks)\n"
            "      --windows TOPIC         closed region windows (default region-stats)\n"
            "      --sessions TOPIC        closed user sessions (default user-sessions)\n"
            "      --dead-letter TOPIC     malformed records (default CLICKS.dead-letter)\n"
            "      --window-ms MS          window size (default 60000)\n"
            "      --grace-ms MS           how late an event may be and still count (default 300000)\n"
            "      --session-gap-ms MS     inactivity that ends a session (default 1800000)\n"
            "  -c, --config KEY=VALUE      any rill or librdkafka setting (repeatable)\n"
            "  -h, --help                  this help\n"
            "\n"
            "The clicks and users topics must exist with the same partition count and be keyed\n"
            "by user id. Runs until SIGINT or SIGTERM, then commits and leaves the group.\n"
            "Exit status: 0 after a clean stop, 1 if the app failed, 2 for bad arguments.\n");
}

static int set(rill_config_t *config, const char *key, const char *value)
{
    rill_error_t *error = NULL;
    if (rill_config_set(config, key, value, &error) != RILL_OK) {
        fprintf(stderr, "analytics: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        return -1;
    }
    return 0;
}

static int parse_ms(const char *flag, const char *text, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < 0 || v > (1LL << 50)) {
        fprintf(stderr, "analytics: %s: '%s' is not a number of milliseconds\n", flag, text);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option long_options[] = {
        {"bootstrap-servers", required_argument, NULL, 'b'},
        {"bootstrap-server", required_argument, NULL, 'b'},
        {"application-id", required_argument, NULL, 'a'},
        {"state-dir", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"processing-guarantee", required_argument, NULL, 'g'},
        {"users", required_argument, NULL, 'u'},
        {"clicks", required_argument, NULL, 'k'},
        {"windows", required_argument, NULL, 'w'},
        {"sessions", required_argument, NULL, 'S'},
        {"dead-letter", required_argument, NULL, 'd'},
        {"window-ms", required_argument, NULL, 'W'},
        {"grace-ms", required_argument, NULL, 'G'},
        {"session-gap-ms", required_argument, NULL, 'P'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    options_t o = {"users", "clicks", "region-stats", "user-sessions", 60000, 300000, 1800000};
    const char *dead_letter = NULL;
    rill_config_t *config = rill_config_new();
    bool have_servers = false, have_id = false;
    int opt;
    while ((opt = getopt_long(argc, argv, "b:c:h", long_options, NULL)) != -1) {
        int rc = 0;
        switch (opt) {
        case 'b': rc = set(config, "bootstrap.servers", optarg); have_servers = true; break;
        case 'a': rc = set(config, "application.id", optarg); have_id = true; break;
        case 's': rc = set(config, "state.dir", optarg); break;
        case 't': rc = set(config, "num.stream.threads", optarg); break;
        case 'g': rc = set(config, "processing.guarantee", optarg); break;
        case 'u': o.users = optarg; break;
        case 'k': o.clicks = optarg; break;
        case 'w': o.windows = optarg; break;
        case 'S': o.sessions = optarg; break;
        case 'd': dead_letter = optarg; break;
        case 'W': rc = parse_ms("--window-ms", optarg, &o.window_ms); break;
        case 'G': rc = parse_ms("--grace-ms", optarg, &o.grace_ms); break;
        case 'P': rc = parse_ms("--session-gap-ms", optarg, &o.gap_ms); break;
        case 'c': {
            rill_error_t *error = NULL;
            if (rill_config_set_string(config, optarg, &error) != RILL_OK) {
                fprintf(stderr, "analytics: %s\n", rill_error_message(error));
                rill_error_destroy(error);
                rc = -1;
            }
            break;
        }
        case 'h': usage(stdout); rill_config_destroy(config); return 0;
        default: usage(stderr); rill_config_destroy(config); return 2;
        }
        if (rc) {
            rill_config_destroy(config);
            return 2;
        }
    }
    if (optind < argc || !have_servers || o.window_ms == 0 || o.gap_ms == 0) {
        fprintf(stderr, "analytics: %s\n",
                optind < argc   ? "unexpected argument"
                : !have_servers ? "--bootstrap-servers is required"
                                : "--window-ms and --session-gap-ms must be > 0");
        usage(stderr);
        rill_config_destroy(config);
        return 2;
    }
    char dead_letter_default[300];
    if (dead_letter == NULL) {
        snprintf(dead_letter_default, sizeof dead_letter_default, "%s.dead-letter", o.clicks);
        dead_letter = dead_letter_default;
    }
    if ((!have_id && set(config, "application.id", "analytics")) ||
        set(config, "errors.dead.letter.queue.topic.name", dead_letter) ||
        set(config, "default.deserialization.exception.handler",
            "LogAndContinueExceptionHandler")) {
        rill_config_destroy(config);
        return 2;
    }

    rill_error_t *error = NULL;
    rill_topology_t *topology = build_topology(&o, &error);
    if (topology == NULL) {
        fprintf(stderr, "analytics: building the topology: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_config_destroy(config);
        return 1;
    }
    int status = 0;
    rill_app_t *app = rill_app_new(topology, config, &error);
    rill_config_destroy(config);
    if (app == NULL) {
        fprintf(stderr, "analytics: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        rill_topology_destroy(topology);
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    if (rill_app_start(app, &error) != RILL_OK) {
        fprintf(stderr, "analytics: cannot start: %s\n", rill_error_message(error));
        rill_error_destroy(error);
        status = 1;
    } else {
        fprintf(stderr,
                "analytics: %s + %s -> %s (%" PRId64 " ms windows, %" PRId64
                " ms grace), %s (%" PRId64 " ms session gap); malformed records -> %s\n",
                o.clicks, o.users, o.windows, o.window_ms, o.grace_ms, o.sessions, o.gap_ms,
                dead_letter);
        while (!stop) {
            rill_app_state_t state = rill_app_wait(app, 200);
            if (state == RILL_APP_ERROR || state == RILL_APP_NOT_RUNNING)
                break;
        }
        rill_app_close(app, 60000);
        if (rill_app_state(app) == RILL_APP_ERROR) {
            fprintf(stderr, "analytics: failed: %s\n", rill_error_message(rill_app_error(app)));
            status = 1;
        }
        rill_app_stats_t stats;
        rill_app_stats(app, &stats);
        fprintf(stderr,
                "analytics: stopped: %llu records processed, %llu skipped, %llu produced, %llu "
                "commits\n",
                (unsigned long long)stats.records_processed,
                (unsigned long long)stats.records_skipped,
                (unsigned long long)stats.records_produced, (unsigned long long)stats.commits);
    }
    rill_app_destroy(app);
    rill_topology_destroy(topology);
    return status;
}
