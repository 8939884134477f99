/* clock.c: monotonic and wall clocks (see clock.h). */
#include "config.h"

#include <time.h>

#include "common/clock.h"

int64_t rill__clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rill__clock_mono_ms(void)
{
    return rill__clock_mono_us() / 1000;
}

int64_t rill__clock_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
