/* to.c: the sinks of the DSL: to (a static topic), to_dynamic (a topic per
 * record) and repartition (through an internal topic read back by a new
 * sub-topology).
 *
 * The sink node itself is the runtime's (task.c: serialize, partition,
 * send, production errors); these functions only describe it. A repartition
 * is a sink to "<name>-repartition" plus a source of the same topic; the
 * application.id prefix is added when the app (or test driver) sets it. */
#include "config.h"

#include <string.h>

#include <glib.h>

#include <rill/topology.h>

#include "runtime/node.h"

static void spec_from_produced(rill__sink_spec_t *spec, const rill_produced_t *produced)
{
    if (produced == NULL)
        return;
    spec->key_serde = produced->key_serde != NULL ? rill_serde_ref(produced->key_serde) : NULL;
    spec->value_serde =
        produced->value_serde != NULL ? rill_serde_ref(produced->value_serde) : NULL;
    spec->partitioner = produced->partitioner;
    spec->partitioner_user_data = produced->partitioner_user_data;
}

RILL_EXPORT rill_err_t rill_stream_to(rill_stream_t *stream, const char *topic,
                                      const rill_produced_t *produced)
{
    if (stream == NULL)
        return RILL_ERR_INVALID_ARG;
    if (!rill__topic_name_valid(topic))
        return rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                                  "rill_stream_to: '%s' is not a valid topic name (1-249 "
                                  "characters of a-z A-Z 0-9 . _ -)",
                                  topic != NULL ? topic : "(null)");
    rill__sink_spec_t spec = {0};
    spec.topic = g_strdup(topic);
    spec_from_produced(&spec, produced);
    return rill__builder_add_sink(stream, &spec, produced != NULL ? produced->name : NULL);
}

RILL_EXPORT rill_err_t rill_stream_to_dynamic(rill_stream_t *stream, rill_topic_chooser_fn chooser,
                                              void *user_data, const rill_produced_t *produced)
{
    if (stream == NULL)
        return RILL_ERR_INVALID_ARG;
    if (chooser == NULL)
        return rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                                  "rill_stream_to_dynamic: a topic chooser is required");
    rill__sink_spec_t spec = {0};
    spec.chooser = chooser;
    spec.chooser_user_data = user_data;
    spec_from_produced(&spec, produced);
    return rill__builder_add_sink(stream, &spec, produced != NULL ? produced->name : NULL);
}

RILL_EXPORT rill_stream_t *rill_stream_repartition(rill_stream_t *stream,
                                                   const rill_produced_t *produced)
{
    if (stream == NULL || !rill__builder_open(stream))
        return NULL;
    const char *name = produced != NULL ? produced->name : NULL;
    if (name != NULL && (!rill__topic_name_valid(name) || strlen(name) > 200)) {
        rill__builder_fail(stream, RILL_ERR_INVALID_ARG,
                           "rill_stream_repartition: '%s' cannot name a topic", name);
        return NULL;
    }
    g_autofree char *base =
        name != NULL ? g_strdup(name) : rill__builder_new_name(stream, "REPARTITION");
    const rill_serde_t *key_serde = produced != NULL ? produced->key_serde : NULL;
    const rill_serde_t *value_serde = produced != NULL ? produced->value_serde : NULL;
    const rill_serde_t *source_key = NULL, *source_value = NULL;
    rill__stream_source_serdes(stream, &source_key, &source_value);
    if (key_serde == NULL)
        key_serde = source_key;
    if (value_serde == NULL)
        value_serde = source_value;

    rill__sink_spec_t spec = {0};
    spec.topic = g_strdup_printf("%s-repartition", base);
    spec.repartition_name = g_strdup(base);
    spec_from_produced(&spec, produced);
    if (spec.key_serde == NULL && key_serde != NULL)
        spec.key_serde = rill_serde_ref(key_serde);
    if (spec.value_serde == NULL && value_serde != NULL)
        spec.value_serde = rill_serde_ref(value_serde);
    g_autofree char *sink_name = g_strdup_printf("%s-sink", base);
    g_autofree char *source_name = g_strdup_printf("%s-source", base);
    if (rill__builder_add_sink(stream, &spec, sink_name) != RILL_OK)
        return NULL;
    return rill__builder_add_repartition_source(stream, base, key_serde, value_serde, source_name);
}
