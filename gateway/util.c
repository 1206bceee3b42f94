// SPDX-License-Identifier: MIT
/* Small things every part of the daemon uses: the clock, the log line, the
 * metrics snapshot. */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "gw.h"

const double gw_apply_bounds[GW_APPLY_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
						   0.1,	  0.25,	  0.5,	 1,    2.5 };

int64_t gw_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t gw_fnv1a(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

double gw_elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

void gw_log(const char *level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* One write per line: lines of several threads never interleave. */
	fprintf(stderr, "%s: %s\n", level, line);
}

void gw_metrics_snapshot(struct gw_metrics *m, struct gw_snapshot *out)
{
	pthread_mutex_lock(&m->lock);
	*out = m->s;
	pthread_mutex_unlock(&m->lock);
}
