/* SPDX-License-Identifier: MIT */
/*
 * wg-gatewayd, the edge parts (http.c, metrics.c, ready.c, stun.c,
 * anycast.c): what they share beyond the hooks in gw.h. The readiness and
 * liveness decisions are pure (the clock is an argument) so they can be
 * tested without a daemon.
 */
#ifndef WGK_GATEWAY_EDGE_H
#define WGK_GATEWAY_EDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw.h"
#include "wgkit/wgnl_prom.h"

/* A STUN self-probe answered within this many ms keeps STUN "ok". */
#define GW_STUN_OK_MS 10000
/* /healthz: the main loop turned within this many ms. */
#define GW_LOOP_ALIVE_MS 5000

/* Everything readiness depends on, gathered by gw_ready_eval(). */
struct gw_ready_in {
	int64_t now_ms;
	bool applied_once; /* the first apply (the start-up plan) has run */
	int64_t change_id_applied, change_id_known;
	bool link_up;
	const char *ifname;
	uint16_t listen_port;
	bool registry_checked;	     /* the source is not the directory source */
	int64_t registry_last_ok_ms; /* 0: never */
	unsigned stale_s;
	bool stun_configured, stun_ok;
	bool stun_never; /* no self-probe answered since the start */
	bool draining;
};

/* Write one reason per failed condition ("...\n") into @why (@len bytes,
 * "" when ready). Returns true when ready. */
bool gw_ready_decide(const struct gw_ready_in *in, char *why, size_t len);
/* True when the main loop turned within GW_LOOP_ALIVE_MS of @now_ms. */
bool gw_loop_alive(const struct gw_snapshot *s, int64_t now_ms);

/* True while no self-probe round was answered since the start (stun.c). */
bool gw_stun_never(struct gw *gw);

/* Render the contract's metrics of @s (registry lag against @now_ms) into
 * @p (cleared first). 0 or -errno of the writer. */
int gw_metrics_render(const struct gw_snapshot *s, int64_t now_ms, struct wgnl_prom *p);

#endif
