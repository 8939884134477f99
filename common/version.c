/* version.c: the library's version string, from configure. */
#include "config.h"

#include <rill/rill.h>

RILL_EXPORT const char *rill_version(void)
{
    return PACKAGE_VERSION;
}
