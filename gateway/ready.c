/* stub: replaced by gw-edge */
// SPDX-License-Identifier: MIT
/* A minimal readiness so core's tests run before edge's ready.c lands:
 * the last known change applied and the link up. */
#include <stdio.h>
#include <string.h>

#include "gw.h"

void gw_ready_eval(struct gw *gw, int64_t now_ms)
{
	struct gw_snapshot *s = &gw->now;
	size_t off = 0;

	s->not_ready[0] = '\0';
	if (s->change_id_applied < s->change_id_known)
		off += snprintf(s->not_ready + off, sizeof(s->not_ready) - off,
				"change %lld known, %lld applied\n", (long long)s->change_id_known,
				(long long)s->change_id_applied);
	if (!s->link_up && off < sizeof(s->not_ready))
		off += snprintf(s->not_ready + off, sizeof(s->not_ready) - off,
				"link down or not listening\n");
	if (gw->draining && off < sizeof(s->not_ready))
		snprintf(s->not_ready + off, sizeof(s->not_ready) - off, "draining\n");
	s->ready = s->not_ready[0] == '\0';
}
