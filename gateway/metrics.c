// SPDX-License-Identifier: MIT
/* /metrics: the snapshot the main loop published, as Prometheus text through
 * the library's writer (wgnl_prom_*). Names, types and help are the
 * contract in docs/wg-gatewayd.8. */
#include <math.h>

#include "edge.h"

static int put(struct wgnl_prom *p, const char *name, enum wgnl_prom_type type, const char *help,
	       uint64_t v)
{
	int r = wgnl_prom_family_begin(p, name, type, help);

	return r < 0 ? r : wgnl_prom_put_u64(p, name, NULL, 0, v);
}

static uint64_t u(int64_t v)
{
	return v < 0 ? 0 : (uint64_t)v;
}

int gw_metrics_render(const struct gw_snapshot *s, int64_t now_ms, struct wgnl_prom *p)
{
	const enum wgnl_prom_type G = WGNL_PROM_GAUGE, C = WGNL_PROM_COUNTER;
	const char *text;
	double lag;

	wgnl_prom_clear(p);
	put(p, "wgkit_gateway_ready", G, "1 when the node is ready to serve (see /readyz)",
	    s->ready);
	put(p, "wgkit_gateway_announced", G,
	    "1 while the anycast addresses are on their link (announced through BIRD)",
	    s->announced);
	put(p, "wgkit_gateway_desired_peers", G, "Peers the registry wants on the device",
	    s->desired_peers);
	put(p, "wgkit_gateway_applied_peers", G, "Peers applied to the device", s->applied_peers);
	put(p, "wgkit_gateway_change_id_applied", G, "Registry change id applied to the device",
	    u(s->change_id_applied));
	put(p, "wgkit_gateway_change_id_known", G, "Newest registry change id known",
	    u(s->change_id_known));
	wgnl_prom_family_begin(p, "wgkit_gateway_apply_seconds", WGNL_PROM_HISTOGRAM,
			       "Time to apply a batch of changes to the device");
	wgnl_prom_put_histogram(p, "wgkit_gateway_apply_seconds", NULL, 0, gw_apply_bounds,
				s->apply_counts, GW_APPLY_BUCKETS, s->apply_sum, s->apply_count);
	put(p, "wgkit_gateway_registry_up", G, "1 while the registry is reachable", s->registry_up);
	/* Never reached: +Inf, so an alert on the lag fires rather than
	 * reading a reassuring 0. */
	lag = s->registry_last_ok_ms ? (double)(now_ms - s->registry_last_ok_ms) / 1000.0 :
				       INFINITY;
	wgnl_prom_family_begin(p, "wgkit_gateway_registry_lag_seconds", G,
			       "Seconds since the last successful contact with the registry");
	wgnl_prom_put_double(p, "wgkit_gateway_registry_lag_seconds", NULL, 0, lag < 0 ? 0 : lag,
			     3);
	put(p, "wgkit_gateway_registry_reconnects_total", C, "Reconnections to the registry",
	    s->registry_reconnects_total);
	put(p, "wgkit_gateway_bad_rows_total", C, "Registry rows skipped as malformed",
	    s->bad_rows_total);
	put(p, "wgkit_gateway_drift_repairs_total", C,
	    "Drift checks that found and repaired a difference on the device",
	    s->drift_repairs_total);
	put(p, "wgkit_gateway_apply_held", G,
	    "1 while a batch refused by MaxShrinkPercent waits for the registry to change",
	    s->apply_held);
	put(p, "wgkit_gateway_apply_refused_total", C,
	    "Batches refused for shrinking the device by more than MaxShrinkPercent",
	    s->apply_refused_total);
	put(p, "wgkit_gateway_peers_handshake_recent", G,
	    "Peers with a handshake within the last 180 s", s->peers_handshake_recent);
	put(p, "wgkit_gateway_stun_requests_total", C, "STUN datagrams received",
	    s->stun_requests_total);
	put(p, "wgkit_gateway_stun_answered_total", C, "STUN Binding requests answered",
	    s->stun_answered_total);
	put(p, "wgkit_gateway_stun_dropped_total", C,
	    "STUN datagrams dropped (malformed, not a request, rate limited, no send slot)",
	    s->stun_dropped_total);
	/* The writer's errors are sticky: one check at the end. */
	return wgnl_prom_text(p, &text, NULL);
}
