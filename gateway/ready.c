// SPDX-License-Identifier: MIT
/* Readiness (/readyz, and whether the anycast addresses are refreshed):
 * the last known change applied, the WireGuard link up and listening, the
 * registry fresh (PostgreSQL only), STUN answering its self-probe (when
 * [Stun] is configured), not draining. gw_ready_decide() is the pure
 * decision; gw_ready_eval() gathers its inputs on the main loop. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "edge.h"

struct why {
	char *buf;
	size_t len, off;
};

static void __attribute__((format(printf, 2, 3))) reason(struct why *w, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->off + 1 >= w->len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(w->buf + w->off, w->len - w->off, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	w->off += (size_t)n < w->len - w->off ? (size_t)n : w->len - w->off - 1;
	/* Cut short: still end the last line. */
	if (w->off == w->len - 1 && w->off)
		w->buf[w->off - 1] = '\n';
}

bool gw_ready_decide(const struct gw_ready_in *in, char *buf, size_t len)
{
	struct why w = { buf, len, 0 };
	bool ready = true;

	if (len)
		buf[0] = '\0';
	if (in->draining) {
		reason(&w, "draining\n");
		ready = false;
	}
	if (!in->applied_once) {
		reason(&w, "not applied yet: the first apply has not run\n");
		ready = false;
	} else if (in->change_id_applied < in->change_id_known) {
		reason(&w, "not applied yet: change %lld known, %lld applied\n",
		       (long long)in->change_id_known, (long long)in->change_id_applied);
		ready = false;
	}
	if (!in->link_up) {
		reason(&w, "link %s down or not listening on port %u\n", in->ifname,
		       in->listen_port);
		ready = false;
	}
	if (in->registry_checked) {
		if (!in->registry_last_ok_ms) {
			reason(&w, "registry never reached\n");
			ready = false;
		} else if (in->now_ms - in->registry_last_ok_ms > (int64_t)in->stale_s * 1000) {
			reason(&w, "registry stale: last contact %lld s ago (StaleSeconds %u)\n",
			       (long long)((in->now_ms - in->registry_last_ok_ms) / 1000),
			       in->stale_s);
			ready = false;
		}
	}
	if (in->stun_configured && !in->stun_ok) {
		if (in->stun_never)
			reason(&w, "stun: no self-probe answered yet\n");
		else
			reason(&w, "stun: no self-probe answered in the last %d s\n",
			       GW_STUN_OK_MS / 1000);
		ready = false;
	}
	return ready;
}

bool gw_loop_alive(const struct gw_snapshot *s, int64_t now_ms)
{
	return s->loop_ms && now_ms - s->loop_ms <= GW_LOOP_ALIVE_MS;
}

void gw_ready_eval(struct gw *gw, int64_t now_ms)
{
	struct gw_snapshot *s = &gw->now;
	struct gw_ready_in in = {
		.now_ms = now_ms,
		.applied_once = s->applied_once,
		.change_id_applied = s->change_id_applied,
		.change_id_known = s->change_id_known,
		.link_up = s->link_up,
		.ifname = gw->conf.ifname,
		.listen_port = gw->conf.listen_port,
		.registry_checked = gw->conf.source != GW_SOURCE_DIRECTORY,
		.registry_last_ok_ms = s->registry_last_ok_ms,
		.stale_s = gw->conf.stale_s,
		.stun_configured = gw->conf.n_stun > 0,
		.stun_ok = gw_stun_ok(gw),
		.stun_never = gw_stun_never(gw),
		.draining = gw->draining,
	};

	if (gw->src_ops && gw->src && gw->src_ops->last_ok_ms)
		in.registry_last_ok_ms = gw->src_ops->last_ok_ms(gw->src);
	s->ready = gw_ready_decide(&in, s->not_ready, sizeof(s->not_ready));
}
