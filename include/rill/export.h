/* rill/export.h: the visibility macro of rill's public symbols.
 *
 * librill is built with -fvisibility=hidden: only functions marked
 * RILL_EXPORT are part of the ABI. */
#ifndef RILL_EXPORT_H
#define RILL_EXPORT_H

#if defined(__GNUC__)
#define RILL_EXPORT __attribute__((visibility("default")))
#else
#define RILL_EXPORT
#endif

#ifdef __cplusplus
#define RILL_BEGIN_DECLS extern "C" {
#define RILL_END_DECLS }
#else
#define RILL_BEGIN_DECLS
#define RILL_END_DECLS
#endif

#endif /* RILL_EXPORT_H */
