/* callback.h: the config most stateless operators share: one user callback
 * and its user_data, both borrowed from the user for the topology's life. */
#ifndef RILL_OPERATORS_CALLBACK_H
#define RILL_OPERATORS_CALLBACK_H

#include <glib.h>

typedef struct rill__callback {
    void (*fn)(void); /* cast back to the operator's callback type */
    void *user_data;
    bool negate; /* filterNot */
} rill__callback_t;

static inline rill__callback_t *rill__callback_new(void (*fn)(void), void *user_data)
{
    rill__callback_t *callback = g_new0(rill__callback_t, 1);
    callback->fn = fn;
    callback->user_data = user_data;
    return callback;
}

#endif /* RILL_OPERATORS_CALLBACK_H */
