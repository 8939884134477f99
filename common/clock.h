/* clock.h: the clocks rill reads. Monotonic time for timeouts and latency,
 * wall-clock time (ms since the epoch) for record timestamps. */
#ifndef RILL_COMMON_CLOCK_H
#define RILL_COMMON_CLOCK_H

#include <stdint.h>

int64_t rill__clock_mono_us(void);  /* CLOCK_MONOTONIC, microseconds */
int64_t rill__clock_mono_ms(void);  /* CLOCK_MONOTONIC, milliseconds */
int64_t rill__clock_wall_ms(void);  /* CLOCK_REALTIME, ms since the epoch */

#endif
