/* rill/rill.h: the one header an application includes.
 *
 * rill is a stream-processing library (the Kafka Streams model, in C) and a
 * bundled Kafka-protocol broker. Everything an application may call is
 * declared under include/rill/ and starts with rill_ (macros RILL_). */
#ifndef RILL_H
#define RILL_H

#include <rill/export.h>
#include <rill/error.h>
#include <rill/record.h>
#include <rill/serde.h>
#include <rill/topology.h>
#include <rill/processor.h>
#include <rill/table.h>
#include <rill/window.h>
#include <rill/global.h>
#include <rill/store.h>
#include <rill/driver.h>
#include <rill/config.h>
#include <rill/app.h>
#include <rill/query.h>

RILL_BEGIN_DECLS

/* The library's version, "MAJOR.MINOR.PATCH". (transfer none, static) */
RILL_EXPORT const char *rill_version(void);

RILL_END_DECLS

#endif /* RILL_H */
