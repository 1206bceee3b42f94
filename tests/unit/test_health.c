// SPDX-License-Identifier: MIT
/* Unit tests of the health logic: verdicts, the retry policy and backoff
 * with an injected clock (times are arguments: nothing sleeps), the state
 * file (round trip, corruption, atomic save, lock), and wghealth.conf. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "wgkit/wgnl_health.h"

#define S(x) ((int64_t)(x)*1000)
#define T0 S(1700000000)

static struct wgnl_health_settings settings(void)
{
	struct wgnl_health_settings s;

	wgnl_health_settings_default(&s);
	return s;
}

static struct wgnl_health_peer_obs peer(uint8_t id, int64_t hs_ms, uint64_t rx, uint64_t tx,
					uint16_t ka)
{
	struct wgnl_health_peer_obs p;

	memset(&p, 0, sizeof(p));
	memset(p.public_key, id, sizeof(p.public_key));
	p.last_handshake_ms = hs_ms;
	p.rx_bytes = rx;
	p.tx_bytes = tx;
	p.keepalive = ka;
	return p;
}

static struct wgnl_health_obs obs_of(const struct wgnl_health_peer_obs *p, size_t n)
{
	struct wgnl_health_obs o;

	memset(&o, 0, sizeof(o));
	o.present = o.up = true;
	o.peers = p;
	o.n_peers = n;
	o.underlay = -1;
	return o;
}

/* One full check at @now: evaluate and decide, like the tool does. */
static struct wgnl_health_decision step(const struct wgnl_health_settings *s,
					struct wgnl_health_state *st,
					const struct wgnl_health_obs *o, int64_t now,
					enum wgnl_health_verdict *verdict, uint32_t *reasons)
{
	struct wgnl_health_result r;
	struct wgnl_health_decision d;

	assert_int_equal(wgnl_health_evaluate(s, st, o, now, &r), 0);
	assert_int_equal(wgnl_health_decide(s, st, &r, o, now, 0, &d), 0);
	if (verdict)
		*verdict = r.verdict;
	if (reasons)
		*reasons = r.reasons;
	wgnl_health_result_clear(&r);
	return d;
}

/* ------------------------------------------------------------ names */

static void unit__reason_names__stable_and_roundtrip(void **state)
{
	char buf[256];

	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_INTERFACE_MISSING),
			    "interface_missing");
	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_HANDSHAKE_STALE),
			    "handshake_stale");
	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_RX_STALLED), "rx_stalled");
	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_PROBE_LOST), "probe_lost");
	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_UNDERLAY_DOWN), "underlay_down");
	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_RECONNECT_FAILED),
			    "reconnect_failed");
	assert_string_equal(wgnl_health_reason_name(WGNL_HEALTH_R_RECONNECT_TIMEOUT),
			    "reconnect_timeout");
	assert_null(wgnl_health_reason_name(3));
	assert_null(wgnl_health_reason_name(1U << 31));
	for (unsigned i = 0; i < WGNL_HEALTH_N_REASONS; i++)
		assert_int_equal(wgnl_health_reason_from_name(wgnl_health_reason_name(1U << i)),
				 1U << i);
	assert_string_equal(wgnl_health_reasons_format(WGNL_HEALTH_R_RX_STALLED |
							       WGNL_HEALTH_R_PROBE_LOST,
						       buf, sizeof(buf)),
			    "rx_stalled,probe_lost");
	assert_string_equal(wgnl_health_reasons_format(0, buf, sizeof(buf)), "");
	/* Truncation keeps whole names and the NUL. */
	assert_string_equal(wgnl_health_reasons_format(
				    WGNL_HEALTH_R_RX_STALLED | WGNL_HEALTH_R_PROBE_LOST, buf, 14),
			    "rx_stalled");
}

static void unit__verdict_exit__monitoring_plugin_codes(void **state)
{
	assert_int_equal(wgnl_health_verdict_exit(WGNL_HEALTH_HEALTHY), 0);
	assert_int_equal(wgnl_health_verdict_exit(WGNL_HEALTH_IDLE), 0);
	assert_int_equal(wgnl_health_verdict_exit(WGNL_HEALTH_DEGRADED), 1);
	assert_int_equal(wgnl_health_verdict_exit(WGNL_HEALTH_DISCONNECTED), 2);
	assert_int_equal(wgnl_health_verdict_exit(WGNL_HEALTH_UNKNOWN), 3);
	assert_int_equal(wgnl_health_verdict_from_name("disconnected"), WGNL_HEALTH_DISCONNECTED);
	assert_int_equal(wgnl_health_verdict_from_name("bogus"), -EINVAL);
}

/* ------------------------------------------------------------ verdicts */

static void unit__fresh_handshake__healthy(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(30), 100, 100, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_result r;

	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
	assert_int_equal(r.reasons, 0);
	assert_int_equal(r.peers[0].handshake_age_ms, S(30));
	assert_false(r.peers[0].have_delta);
	wgnl_health_result_clear(&r);
}

static void unit__stale_handshake_with_keepalive__degraded_stale(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(181), 100, 100, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_result r;

	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	assert_int_equal(r.reasons, WGNL_HEALTH_R_HANDSHAKE_STALE | WGNL_HEALTH_R_PEERS_UNHEALTHY);
	wgnl_health_result_clear(&r);
	/* Exactly at the threshold is still fine. */
	p.last_handshake_ms = T0 - S(180);
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
	wgnl_health_result_clear(&r);
}

static void unit__no_keepalive_no_traffic__idle_not_broken(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(3600), 500, 500, 0);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	enum wgnl_health_verdict v;
	uint32_t reasons;

	memset(&st, 0, sizeof(st));
	step(&s, &st, &o, T0, &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_IDLE);
	assert_int_equal(reasons, WGNL_HEALTH_R_IDLE);
	/* Same counters 15 s later: still idle, no failures counted. */
	step(&s, &st, &o, T0 + S(15), &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_IDLE);
	assert_int_equal(st.consecutive_bad, 0);
	/* Never handshaked and never used: idle too (handshake 0 = never). */
	p.last_handshake_ms = 0;
	step(&s, &st, &o, T0 + S(30), &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_IDLE);
	wgnl_health_state_clear(&st);
}

static void unit__never_handshaked_with_keepalive__degraded_never(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, 0, 0, 148, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_result r;

	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	assert_true(r.reasons & WGNL_HEALTH_R_HANDSHAKE_NEVER);
	assert_int_equal(r.peers[0].handshake_age_ms, -1);
	wgnl_health_result_clear(&r);
}

static void unit__tx_rising_rx_flat__stalled(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(20), 1000, 1000, 0);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	enum wgnl_health_verdict v;
	uint32_t reasons;

	memset(&st, 0, sizeof(st));
	step(&s, &st, &o, T0, &v, NULL);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	p.tx_bytes += 5000; /* sent, nothing back, no handshake since */
	step(&s, &st, &o, T0 + S(15), &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_DEGRADED);
	assert_int_equal(reasons, WGNL_HEALTH_R_RX_STALLED | WGNL_HEALTH_R_PEERS_UNHEALTHY);
	/* rx moving again: healthy. */
	p.tx_bytes += 100;
	p.rx_bytes += 100;
	step(&s, &st, &o, T0 + S(30), &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	wgnl_health_state_clear(&st);
}

static void unit__keepalives_only__not_stalled(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(20), 1000, 1000, 5);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	enum wgnl_health_verdict v;

	memset(&st, 0, sizeof(st));
	step(&s, &st, &o, T0, &v, NULL);
	p.tx_bytes += 3 * 32; /* three keepalives in 15 s at 5 s */
	step(&s, &st, &o, T0 + S(15), &v, NULL);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	wgnl_health_state_clear(&st);
}

static void unit__handshake_since_last_check__not_stalled(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(20), 1000, 1000, 0);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	enum wgnl_health_verdict v;

	memset(&st, 0, sizeof(st));
	step(&s, &st, &o, T0, &v, NULL);
	p.tx_bytes += 5000;
	p.last_handshake_ms = T0 + S(5);
	step(&s, &st, &o, T0 + S(15), &v, NULL);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	wgnl_health_state_clear(&st);
}

static void unit__counter_reset__no_delta_no_stall(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(20), 100000, 100000, 0);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_result r;
	struct wgnl_health_decision d;

	memset(&st, 0, sizeof(st));
	step(&s, &st, &o, T0, NULL, NULL);
	p.rx_bytes = 0; /* the device was recreated */
	p.tx_bytes = 9000;
	assert_int_equal(wgnl_health_evaluate(&s, &st, &o, T0 + S(15), &r), 0);
	assert_false(r.peers[0].have_delta);
	assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
	assert_int_equal(wgnl_health_decide(&s, &st, &r, &o, T0 + S(15), 0, &d), 0);
	wgnl_health_result_clear(&r);
	wgnl_health_state_clear(&st);
}

static void unit__interface_missing_or_down__disconnected(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_obs o = obs_of(NULL, 0);
	struct wgnl_health_result r;

	o.present = false;
	o.up = false;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DISCONNECTED);
	assert_int_equal(r.reasons, WGNL_HEALTH_R_INTERFACE_MISSING);
	wgnl_health_result_clear(&r);
	o.present = true;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.reasons, WGNL_HEALTH_R_INTERFACE_DOWN);
	wgnl_health_result_clear(&r);
}

static void unit__probe_loss__degraded_by_threshold(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(10), 1, 1, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_result r;

	o.ping_sent = 4;
	o.ping_received = 2; /* 50% lost: not more than the 50% allowed */
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
	wgnl_health_result_clear(&r);
	o.ping_received = 1;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	assert_int_equal(r.reasons, WGNL_HEALTH_R_PROBE_LOST);
	wgnl_health_result_clear(&r);
}

static void unit__mixed_peers__judged_one_by_one(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p[3] = {
		peer(1, T0 - S(10), 1, 1, 25),	 /* healthy */
		peer(2, T0 - S(9999), 1, 1, 0),	 /* idle */
		peer(3, T0 - S(9999), 1, 1, 25), /* stale */
	};
	struct wgnl_health_obs o = obs_of(p, 2);
	struct wgnl_health_result r;

	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
	assert_int_equal(r.reasons, 0);
	assert_int_equal(r.peers[1].verdict, WGNL_HEALTH_IDLE);
	wgnl_health_result_clear(&r);
	/* One healthy and one dead peer: the dead one is Degraded, the
	 * tunnel is not (1 healthy >= min_healthy_peers, 50% unhealthy is not
	 * more than max_unhealthy_ratio). */
	o.n_peers = 3;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
	assert_int_equal(r.reasons, 0);
	assert_int_equal(r.peers[2].verdict, WGNL_HEALTH_DEGRADED);
	assert_int_equal(r.peers[2].reasons, WGNL_HEALTH_R_HANDSHAKE_STALE);
	assert_int_equal(r.n_healthy, 1);
	assert_int_equal(r.n_unhealthy, 1);
	assert_int_equal(r.n_idle, 1);
	wgnl_health_result_clear(&r);
	/* ... unless that peer is critical (a site-to-site link). */
	s.n_critical = 1;
	memcpy(s.critical[0], p[2].public_key, WGNL_KEY_LEN);
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	assert_int_equal(r.reasons, WGNL_HEALTH_R_CRITICAL_PEER | WGNL_HEALTH_R_HANDSHAKE_STALE);
	assert_true(r.peers[2].critical);
	assert_false(r.peers[0].critical);
	wgnl_health_result_clear(&r);
	/* ... or every peer is (the worst decides). */
	s.n_critical = 0;
	s.all_critical = true;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	wgnl_health_result_clear(&r);
	/* ... or more healthy peers are required, or a lower ratio. */
	s.all_critical = false;
	s.min_healthy_peers = 2;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	assert_int_equal(r.reasons, WGNL_HEALTH_R_PEERS_UNHEALTHY | WGNL_HEALTH_R_HANDSHAKE_STALE);
	wgnl_health_result_clear(&r);
	s.min_healthy_peers = 1;
	s.max_unhealthy_pct = 49;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_DEGRADED);
	wgnl_health_result_clear(&r);
	/* No peers at all: idle, and says why. */
	o.n_peers = 0;
	assert_int_equal(wgnl_health_evaluate(&s, NULL, &o, T0, &r), 0);
	assert_int_equal(r.verdict, WGNL_HEALTH_IDLE);
	assert_true(r.reasons & WGNL_HEALTH_R_NO_PEERS);
	wgnl_health_result_clear(&r);
}

/* A gateway: 10,000 peers, 5% of them dead. The tunnel stays Healthy; the
 * dead peers are Degraded, then Disconnected, and each gets its own remedy
 * (they have keepalives) with backoff; the interface never gets one. */
static void unit__gateway_5pct_dead__peers_repaired_tunnel_healthy(void **state)
{
	enum {
		N = 10000
	};
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs *p = calloc(N, sizeof(*p));
	struct wgnl_health_state st;
	struct wgnl_health_result r;
	struct wgnl_health_decision d;
	int64_t t = T0;
	size_t remedied = 0;

	(void)state;
	assert_non_null(p);
	s.jitter_pct = 0;
	for (uint32_t i = 0; i < N; i++) {
		p[i] = peer(0, i % 20 == 0 ? T0 - S(3600) : T0 - S(5), 1000, 1000, 25);
		memcpy(p[i].public_key, &i, sizeof(i));
	}
	struct wgnl_health_obs o = obs_of(p, N);
	memset(&st, 0, sizeof(st));
	for (int check = 1; check <= 5; check++, t += S(5)) {
		for (uint32_t i = 0; i < N; i++)
			if (i % 20)
				p[i].last_handshake_ms = t - S(5);
		assert_int_equal(wgnl_health_evaluate(&s, &st, &o, t, &r), 0);
		assert_int_equal(wgnl_health_decide(&s, &st, &r, &o, t, 0, &d), 0);
		assert_int_equal(r.verdict, WGNL_HEALTH_HEALTHY);
		assert_int_equal(r.n_unhealthy, N / 20);
		assert_int_equal(d.action, WGNL_HEALTH_ACT_NONE);
		for (uint32_t i = 0; i < N; i++) {
			if (i % 20) {
				assert_int_equal(r.peers[i].verdict, WGNL_HEALTH_HEALTHY);
				assert_int_equal(r.peers[i].action, WGNL_HEALTH_ACT_NONE);
				continue;
			}
			/* Degraded twice, Disconnected from the third check. */
			assert_int_equal(r.peers[i].verdict, check < 3 ? WGNL_HEALTH_DEGRADED :
									 WGNL_HEALTH_DISCONNECTED);
			if (r.peers[i].action == WGNL_HEALTH_ACT_REMEDY)
				remedied++;
		}
		/* The first remedy at check 3, the next after 10 s of backoff. */
		assert_int_equal(d.n_peer_remedies, check == 3 || check == 5 ? N / 20 : 0);
		wgnl_health_result_clear(&r);
	}
	assert_int_equal(remedied, 2 * (N / 20));
	/* The per-peer policy survives the state file. */
	char *text = NULL;
	struct wgnl_health_state back;
	int n = wgnl_health_state_format(&st, &text);
	memset(&back, 0, sizeof(back));
	assert_true(n > 0);
	assert_int_equal(wgnl_health_state_parse(text, (size_t)n, &back), 0);
	wgnl_free(text);
	assert_int_equal(back.peers[0].attempt, 2);
	assert_int_equal(back.peers[0].consecutive_bad, 5);
	assert_int_equal(back.peers[1].attempt, 0);
	wgnl_health_state_clear(&back);
	wgnl_health_state_clear(&st);
	free(p);
}

/* ------------------------------------------------------------ backoff */

/* The previous run's counters are found by key, whatever the order: peers
 * in the same order, reversed, and one new peer (no delta). 20,000 peers:
 * a scan per peer (the old way) would be 2 * 10^8 key compares. */
static void unit__many_peers_reordered__deltas_by_key(void **state)
{
	enum {
		N = 20000
	};
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs *p = calloc(N, sizeof(*p));
	struct wgnl_health_state st;
	struct wgnl_health_result r;
	struct wgnl_health_decision d;

	(void)state;
	assert_non_null(p);
	for (uint32_t i = 0; i < N; i++) {
		p[i] = peer(0, T0 - S(5), 1000, 1000, 25);
		memcpy(p[i].public_key, &i, sizeof(i));
		p[i].public_key[31] = 0x5a;
	}
	struct wgnl_health_obs o = obs_of(p, N);
	memset(&st, 0, sizeof(st));
	assert_int_equal(wgnl_health_evaluate(&s, &st, &o, T0, &r), 0);
	assert_int_equal(wgnl_health_decide(&s, &st, &r, &o, T0, 0, &d), 0);
	wgnl_health_result_clear(&r);
	/* Reverse the order; each peer's rx grows by its own index. */
	for (uint32_t i = 0; i < N / 2; i++) {
		struct wgnl_health_peer_obs t = p[i];
		p[i] = p[N - 1 - i];
		p[N - 1 - i] = t;
	}
	for (uint32_t i = 0; i < N; i++) {
		uint32_t id;
		memcpy(&id, p[i].public_key, sizeof(id));
		p[i].rx_bytes += id;
		p[i].tx_bytes += 2 * (uint64_t)id;
	}
	p[7].public_key[31] = 0xa5; /* a peer the last run did not see */
	assert_int_equal(wgnl_health_evaluate(&s, &st, &o, T0 + S(1), &r), 0);
	assert_int_equal(r.n_peers, N);
	for (uint32_t i = 0; i < N; i++) {
		uint32_t id;
		memcpy(&id, p[i].public_key, sizeof(id));
		if (i == 7) {
			assert_false(r.peers[i].have_delta);
			continue;
		}
		assert_true(r.peers[i].have_delta);
		assert_int_equal(r.peers[i].rx_delta, id);
		assert_int_equal(r.peers[i].tx_delta, 2 * (uint64_t)id);
	}
	wgnl_health_result_clear(&r);
	wgnl_health_state_clear(&st);
	free(p);
}

/* move_port only for a client whose config leaves the port random. */
static void unit__move_port__only_unset_port_of_a_client(void **state)
{
	struct wgnl_device *d = wgnl_device_new("wg0");
	struct wgnl_peer *p;
	wgnl_key k;
	const char *why = NULL;

	(void)state;
	assert_non_null(d);
	assert_false(wgnl_health_may_move_port(NULL, &why));
	assert_non_null(strstr(why, "wg_config"));
	memset(k, 1, sizeof(k));
	assert_int_equal(wgnl_device_add_peer(d, k, &p), 0);
	assert_int_equal(wgnl_endpoint_parse(&p->endpoint, "192.0.2.1:51820"), 0);
	p->flags |= WGNL_PEER_HAS_ENDPOINT;
	assert_true(wgnl_health_may_move_port(d, &why));
	/* A configured ListenPort (51820 -> 64499 cut off every client). */
	d->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	d->listen_port = 51820;
	assert_false(wgnl_health_may_move_port(d, &why));
	assert_non_null(strstr(why, "ListenPort"));
	d->flags &= ~WGNL_DEV_HAS_LISTEN_PORT;
	/* A peer without Endpoint: this side serves. */
	memset(k, 2, sizeof(k));
	assert_int_equal(wgnl_device_add_peer(d, k, &p), 0);
	assert_false(wgnl_health_may_move_port(d, &why));
	assert_non_null(strstr(why, "serves"));
	/* ... unless it has an endpoint name to resolve. */
	assert_int_equal(wgnl_peer_set_endpoint_name(p, "vpn.example.org:51820"), 0);
	assert_true(wgnl_health_may_move_port(d, NULL));
	wgnl_device_free(d);
}

/* A link taken down (on purpose or not): the first remedy sets it up. */
static void unit__interface_down__link_up_first(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(10), 1, 1, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;

	(void)state;
	s.jitter_pct = 0;
	o.up = false;
	memset(&st, 0, sizeof(st));
	d = step(&s, &st, &o, T0, NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.attempt, 1);
	assert_int_equal(d.remedy, WGNL_HEALTH_REMEDY_LINK_UP);
	assert_string_equal(wgnl_health_remedy_name(d.remedy), "link_up");
	wgnl_health_remedy_done(&st, &d, true);
	/* Still down after the backoff (something keeps it down): the ladder. */
	d = step(&s, &st, &o, T0 + S(10), NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.attempt, 2);
	assert_int_equal(d.remedy, WGNL_HEALTH_REMEDY_MOVE_PORT);
	wgnl_health_state_clear(&st);
}

static void unit__backoff_every_attempt__doubles_then_caps(void **state)
{
	struct wgnl_health_settings s = settings(); /* 10 s, cap 300 s */

	s.jitter_pct = 0;
	assert_int_equal(wgnl_health_backoff_ms(&s, 0, 0), 0);
	assert_int_equal(wgnl_health_backoff_ms(&s, 1, 0), 10000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 2, 0), 20000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 3, 0), 40000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 4, 0), 80000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 5, 0), 160000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 6, 0), 300000);
	/* Every attempt number up to far beyond 64 doublings, and the extremes:
	 * monotonic, never above the cap, no overflow. */
	uint64_t prev = 0;
	for (uint32_t a = 1; a < 10000; a++) {
		uint64_t d = wgnl_health_backoff_ms(&s, a, 0);
		assert_true(d >= prev);
		assert_true(d <= 300000);
		prev = d;
	}
	assert_int_equal(wgnl_health_backoff_ms(&s, 64, 0), 300000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 65, 0), 300000);
	assert_int_equal(wgnl_health_backoff_ms(&s, UINT32_MAX, 0), 300000);
	/* Largest settings: still exact, no wrap. */
	s.retry_interval_ms = UINT32_MAX;
	s.backoff_max_ms = UINT32_MAX;
	s.jitter_pct = 100;
	assert_int_equal(wgnl_health_backoff_ms(&s, UINT32_MAX, UINT32_MAX),
			 (uint64_t)UINT32_MAX + (((uint64_t)UINT32_MAX * UINT32_MAX) >> 32));
	/* A cap below the interval: the interval wins. */
	s.retry_interval_ms = 5000;
	s.backoff_max_ms = 1000;
	s.jitter_pct = 0;
	assert_int_equal(wgnl_health_backoff_ms(&s, 3, 0), 5000);
}

static void unit__backoff_jitter__bounded_by_percent(void **state)
{
	struct wgnl_health_settings s = settings(); /* jitter 10% */

	assert_int_equal(wgnl_health_backoff_ms(&s, 1, 0), 10000);
	assert_int_equal(wgnl_health_backoff_ms(&s, 1, UINT32_MAX), 10999);
	assert_int_equal(wgnl_health_backoff_ms(&s, 1, 1U << 31), 10500);
	assert_int_equal(wgnl_health_backoff_ms(&s, 3, 1U << 31), 42000);
	assert_true(wgnl_health_backoff_ms(&s, 1000, UINT32_MAX) < 330000);
}

static void unit__remedy_ladder__in_order(void **state)
{
	assert_int_equal(wgnl_health_remedy_for_attempt(0, false), WGNL_HEALTH_REMEDY_NONE);
	assert_int_equal(wgnl_health_remedy_for_attempt(1, false), WGNL_HEALTH_REMEDY_RERESOLVE);
	assert_int_equal(wgnl_health_remedy_for_attempt(2, false), WGNL_HEALTH_REMEDY_MOVE_PORT);
	assert_int_equal(wgnl_health_remedy_for_attempt(3, false), WGNL_HEALTH_REMEDY_RESTART);
	assert_int_equal(wgnl_health_remedy_for_attempt(99, false), WGNL_HEALTH_REMEDY_RESTART);
	assert_int_equal(wgnl_health_remedy_for_attempt(1, true), WGNL_HEALTH_REMEDY_RESTART);
	assert_string_equal(wgnl_health_remedy_name(WGNL_HEALTH_REMEDY_RESET_ENDPOINT),
			    "reset_endpoint");
	assert_string_equal(wgnl_health_remedy_name(WGNL_HEALTH_REMEDY_MOVE_PORT), "move_port");
}

/* ------------------------------------------------------------ policy */

/* A dead far side, checked every second with the injected clock: Degraded,
 * Disconnected after 3, remedies at 0 s, +10 s, +20 s (backoff 10/20/40),
 * cooldown after the third remedy's wait, remedies again after it. */
static void unit__dead_peer_story__degraded_disconnected_remedies_cooldown(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(10), 1000, 1000, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;
	enum wgnl_health_verdict v;
	uint32_t reasons;
	int64_t t = T0;
	int remedies = 0, remedy_at[8] = { 0 };

	s.jitter_pct = 0;
	memset(&st, 0, sizeof(st));
	d = step(&s, &st, &o, t, &v, NULL);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_NONE);

	/* Far side gone: tx rises, rx flat. */
	for (int i = 1; i <= 2; i++) {
		t += S(1);
		p.tx_bytes += 500;
		d = step(&s, &st, &o, t, &v, &reasons);
		assert_int_equal(v, WGNL_HEALTH_DEGRADED);
		assert_int_equal(reasons, WGNL_HEALTH_R_RX_STALLED | WGNL_HEALTH_R_PEERS_UNHEALTHY);
		assert_int_equal(d.action, WGNL_HEALTH_ACT_NONE);
		assert_int_equal(st.consecutive_bad, (uint32_t)i);
	}
	bool cooled = false;
	for (int sec = 3; sec < 380; sec++) {
		t += S(1);
		p.tx_bytes += 500;
		d = step(&s, &st, &o, t, &v, &reasons);
		assert_int_equal(v, WGNL_HEALTH_DISCONNECTED);
		assert_true(reasons & WGNL_HEALTH_R_DEGRADED_PERSISTENT);
		if (d.action == WGNL_HEALTH_ACT_REMEDY) {
			assert_true(remedies < 8);
			remedy_at[remedies++] = sec;
			assert_int_equal(d.attempt,
					 cooled ? (uint32_t)remedies - 3 : (uint32_t)remedies);
			wgnl_health_remedy_done(&st, &d, true);
		}
		if (d.entered_cooldown) {
			assert_false(cooled);
			cooled = true;
			/* after 3 remedies and the last one's 40 s wait */
			assert_int_equal(remedies, 3);
			assert_int_equal(sec, 3 + 10 + 20 + 40);
			assert_int_equal(st.cooldown_until_ms, t + S(300));
			assert_true(reasons & WGNL_HEALTH_R_COOLDOWN);
		}
		/* A minute after a remedy without a handshake: reconnect_timeout. */
		if (remedies && sec - remedy_at[remedies - 1] >= 60)
			assert_true(reasons & WGNL_HEALTH_R_RECONNECT_TIMEOUT);
	}
	assert_true(cooled);
	assert_int_equal(remedy_at[0], 3);
	assert_int_equal(remedy_at[1], 13);
	assert_int_equal(remedy_at[2], 33);
	/* After the 300 s cooldown, a new round starts with attempt 1. */
	assert_int_equal(remedies, 4);
	assert_int_equal(remedy_at[3], 73 + 300);
	assert_int_equal(st.remedies_total, 4);

	/* The far side comes back: handshake and traffic. Healthy, recovered,
	 * everything reset. */
	t += S(1);
	p.last_handshake_ms = t - S(1);
	p.rx_bytes += 92;
	d = step(&s, &st, &o, t, &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	assert_true(d.recovered);
	assert_true(d.changed);
	assert_int_equal(st.consecutive_bad, 0);
	assert_int_equal(st.attempt, 0);
	assert_int_equal(st.cooldown_until_ms, 0);
	wgnl_health_state_clear(&st);
}

/* Times in the state file beyond now + their maximum (a backward clock step,
 * an edited file) are clamped: no wait outlasts the settings. */
static void unit__future_times_in_state__clamped_to_settings(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(600), 1000, 1000, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;
	enum wgnl_health_verdict v;

	(void)state;
	s.jitter_pct = 0;
	/* A cooldown a year ahead: remedies would stop for a year. */
	memset(&st, 0, sizeof(st));
	st.last_check_ms = T0 - S(1);
	st.consecutive_bad = 5;
	st.attempt = 3;
	st.cooldown_until_ms = T0 + S(365 * 86400);
	st.next_attempt_ms = T0 + S(365 * 86400);
	st.last_remedy_ms = T0 + S(365 * 86400);
	d = step(&s, &st, &o, T0, &v, NULL);
	assert_int_equal(v, WGNL_HEALTH_DISCONNECTED);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_COOLDOWN);
	assert_true(st.cooldown_until_ms <= T0 + (int64_t)s.cooldown_ms);
	assert_true(st.next_attempt_ms <= T0 + (int64_t)s.backoff_max_ms);
	assert_true(st.last_remedy_ms <= T0);
	/* ... and once the configured cooldown has passed, a new round. */
	d = step(&s, &st, &o, T0 + s.cooldown_ms, &v, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.attempt, 1);
	wgnl_health_state_clear(&st);
}

/* The wall clock steps back an hour in the middle of a backoff: the wait
 * is bounded by backoff_max, not by the step. */
static void unit__backward_clock_step__backoff_bounded(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, 0, 1000, 1000, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;
	int64_t t = T0;

	(void)state;
	s.jitter_pct = 0;
	s.disconnect_after = 1;
	memset(&st, 0, sizeof(st));
	d = step(&s, &st, &o, t, NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	wgnl_health_remedy_done(&st, &d, true);
	t -= S(3600); /* NTP steps the clock back an hour */
	d = step(&s, &st, &o, t, NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_WAIT);
	assert_true(d.next_attempt_ms <= t + (int64_t)s.backoff_max_ms);
	/* Within backoff_max of the stepped clock, remedies go on. */
	bool again = false;
	for (int i = 1; i <= 300 && !again; i++) {
		d = step(&s, &st, &o, t + S(i), NULL, NULL);
		again = d.action == WGNL_HEALTH_ACT_REMEDY;
	}
	assert_true(again);
	assert_int_equal(d.attempt, 2);
	wgnl_health_state_clear(&st);
}

/* A UAPI daemon's handshake time near INT64_MAX: the conversion to ms does
 * not overflow, and neither it nor an already-wrapped value reaches the state
 * file, which would then be refused on every later run (no backoff ever). */
static void unit__absurd_handshake_time__bounded_state_still_loads(void **state)
{
	struct timespec ts;
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p[2] = { peer(1, 0, 1000, 1000, 25),
					     peer(2, 0, 1000, 1000, 25) };
	struct wgnl_health_obs o = obs_of(p, 2);
	struct wgnl_health_state st, back;
	struct wgnl_health_decision d;
	char *text = NULL;
	int n;

	(void)state;
	ts = (struct timespec){ .tv_sec = 1700000000, .tv_nsec = 123456789 };
	assert_int_equal(wgnl_health_time_ms(&ts), 1700000000123LL);
	ts = (struct timespec){ .tv_sec = INT64_MAX, .tv_nsec = 999999999 };
	assert_int_equal(wgnl_health_time_ms(&ts), 0);
	ts = (struct timespec){ .tv_sec = INT64_MAX / 1000 + 1, .tv_nsec = 0 };
	assert_int_equal(wgnl_health_time_ms(&ts), 0);
	ts = (struct timespec){ .tv_sec = -1, .tv_nsec = 0 };
	assert_int_equal(wgnl_health_time_ms(&ts), 0);
	ts = (struct timespec){ .tv_sec = 253402300799LL, .tv_nsec = 999999999 };
	assert_int_equal(wgnl_health_time_ms(&ts), WGNL_HEALTH_TIME_MAX_MS);

	/* Observations straight from an API user: a wrapped (negative) and a
	 * huge time are "never". */
	s.disconnect_after = 1;
	s.jitter_pct = 0;
	p[0].last_handshake_ms = INT64_MIN + 808;
	p[1].last_handshake_ms = INT64_MAX;
	memset(&st, 0, sizeof(st));
	memset(&back, 0, sizeof(back));
	d = step(&s, &st, &o, T0, NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	wgnl_health_remedy_done(&st, &d, true);
	n = wgnl_health_state_format(&st, &text);
	assert_true(n > 0);
	assert_int_equal(wgnl_health_state_parse(text, (size_t)n, &back), 0);
	wgnl_free(text);
	assert_int_equal(back.n_peers, 2);
	assert_int_equal(back.peers[0].last_handshake_ms, 0);
	assert_int_equal(back.peers[1].last_handshake_ms, 0);
	/* The next run, from the saved state, backs off as it should. */
	d = step(&s, &back, &o, T0 + S(1), NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_WAIT);
	wgnl_health_state_clear(&st);
	wgnl_health_state_clear(&back);
}

static void unit__failed_remedy__reported_reconnect_failed(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_obs o = obs_of(NULL, 0);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;
	uint32_t reasons;

	o.present = o.up = false;
	memset(&st, 0, sizeof(st));
	d = step(&s, &st, &o, T0, NULL, &reasons);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.remedy, WGNL_HEALTH_REMEDY_RESTART); /* missing: recreate */
	wgnl_health_remedy_done(&st, &d, false);
	d = step(&s, &st, &o, T0 + S(1), NULL, &reasons);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_WAIT);
	assert_true(reasons & WGNL_HEALTH_R_RECONNECT_FAILED);
	assert_true(reasons & WGNL_HEALTH_R_INTERFACE_MISSING);
	wgnl_health_state_clear(&st);
}

static void unit__handshake_after_remedy__no_reconnect_timeout(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(500), 1, 1, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;
	uint32_t reasons;

	s.disconnect_after = 1;
	memset(&st, 0, sizeof(st));
	d = step(&s, &st, &o, T0, NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	wgnl_health_remedy_done(&st, &d, true);
	/* A handshake came, but the peer is still judged bad (probe loss). */
	p.last_handshake_ms = T0 + S(2);
	o.ping_sent = 3;
	d = step(&s, &st, &o, T0 + S(100), NULL, &reasons);
	assert_false(reasons & WGNL_HEALTH_R_RECONNECT_TIMEOUT);
	/* The next remedy of the ladder, now due. */
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.attempt, 2);
	assert_int_equal(st.last_remedy_ms, T0 + S(100));
	wgnl_health_state_clear(&st);
}

static void unit__underlay_down__tunnel_down_once_then_up_under_policy(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_peer_obs p = peer(1, T0 - S(10), 1, 1, 25);
	struct wgnl_health_obs o = obs_of(&p, 1);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;
	enum wgnl_health_verdict v;
	uint32_t reasons;

	s.jitter_pct = 0;
	memset(&st, 0, sizeof(st));
	o.underlay = 0;
	d = step(&s, &st, &o, T0, &v, &reasons);
	assert_int_equal(v, WGNL_HEALTH_DISCONNECTED);
	assert_int_equal(reasons, WGNL_HEALTH_R_UNDERLAY_DOWN);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.remedy, WGNL_HEALTH_REMEDY_TUNNEL_DOWN);
	wgnl_health_remedy_done(&st, &d, true);
	/* Still down, tunnel down: no hammering, no remedies. */
	o.up = false;
	for (int i = 1; i < 100; i++) {
		d = step(&s, &st, &o, T0 + S(i), &v, &reasons);
		assert_int_equal(d.action, WGNL_HEALTH_ACT_NONE);
		assert_true(reasons & WGNL_HEALTH_R_UNDERLAY_DOWN);
	}
	/* Network back: up now; it fails, so again after 10 s, then 20 s. */
	o.underlay = 1;
	d = step(&s, &st, &o, T0 + S(100), &v, &reasons);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.remedy, WGNL_HEALTH_REMEDY_TUNNEL_UP);
	assert_true(reasons & WGNL_HEALTH_R_INTERFACE_DOWN);
	wgnl_health_remedy_done(&st, &d, false);
	d = step(&s, &st, &o, T0 + S(105), NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_WAIT);
	d = step(&s, &st, &o, T0 + S(110), NULL, NULL);
	assert_int_equal(d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(d.remedy, WGNL_HEALTH_REMEDY_TUNNEL_UP);
	assert_int_equal(d.attempt, 2);
	wgnl_health_remedy_done(&st, &d, true);
	assert_false(st.underlay_down);
	/* Up and handshaking: healthy, recovered. */
	o.up = true;
	p.last_handshake_ms = T0 + S(111);
	d = step(&s, &st, &o, T0 + S(112), &v, NULL);
	assert_int_equal(v, WGNL_HEALTH_HEALTHY);
	assert_true(d.recovered);
	wgnl_health_state_clear(&st);
}

static void unit__no_remedies_setting__observes_only(void **state)
{
	struct wgnl_health_settings s = settings();
	struct wgnl_health_obs o = obs_of(NULL, 0);
	struct wgnl_health_state st;
	struct wgnl_health_decision d;

	s.remedies = false;
	o.present = false;
	o.underlay = 0;
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 10; i++) {
		d = step(&s, &st, &o, T0 + S(i), NULL, NULL);
		assert_int_equal(d.action, WGNL_HEALTH_ACT_NONE);
	}
	wgnl_health_state_clear(&st);
}

/* ------------------------------------------------------------ state file */

static void fill_state(struct wgnl_health_state *st)
{
	memset(st, 0, sizeof(*st));
	st->last_check_ms = T0;
	st->verdict = WGNL_HEALTH_DISCONNECTED;
	st->reasons = WGNL_HEALTH_R_RX_STALLED | WGNL_HEALTH_R_COOLDOWN;
	st->consecutive_bad = 7;
	st->attempt = 3;
	st->next_attempt_ms = T0 + 40000;
	st->cooldown_until_ms = T0 + 300000;
	st->last_remedy_ms = T0 - 5;
	st->last_remedy_failed = true;
	st->underlay_down = true;
	st->remedies_total = 12345678901ULL;
	st->n_peers = 2;
	st->peers = calloc(2, sizeof(*st->peers));
	assert_non_null(st->peers);
	memset(st->peers[0].public_key, 0xab, WGNL_KEY_LEN);
	st->peers[0].rx_bytes = UINT64_MAX;
	st->peers[0].tx_bytes = 7;
	st->peers[0].last_handshake_ms = T0 - 1;
	st->peers[0].verdict = WGNL_HEALTH_DEGRADED;
	st->peers[0].reasons = WGNL_HEALTH_R_RX_STALLED;
	st->peers[0].consecutive_bad = 4;
	st->peers[0].attempt = 2;
	st->peers[0].next_attempt_ms = T0 + 20000;
	memset(st->peers[1].public_key, 0x01, WGNL_KEY_LEN);
}

static void assert_state_equal(const struct wgnl_health_state *a, const struct wgnl_health_state *b)
{
	assert_int_equal(a->last_check_ms, b->last_check_ms);
	assert_int_equal(a->verdict, b->verdict);
	assert_int_equal(a->reasons, b->reasons);
	assert_int_equal(a->consecutive_bad, b->consecutive_bad);
	assert_int_equal(a->attempt, b->attempt);
	assert_int_equal(a->next_attempt_ms, b->next_attempt_ms);
	assert_int_equal(a->cooldown_until_ms, b->cooldown_until_ms);
	assert_int_equal(a->last_remedy_ms, b->last_remedy_ms);
	assert_int_equal(a->last_remedy_failed, b->last_remedy_failed);
	assert_int_equal(a->underlay_down, b->underlay_down);
	assert_int_equal(a->remedies_total, b->remedies_total);
	assert_int_equal(a->n_peers, b->n_peers);
	for (size_t i = 0; i < a->n_peers; i++) {
		assert_memory_equal(a->peers[i].public_key, b->peers[i].public_key, WGNL_KEY_LEN);
		assert_int_equal(a->peers[i].rx_bytes, b->peers[i].rx_bytes);
		assert_int_equal(a->peers[i].tx_bytes, b->peers[i].tx_bytes);
		assert_int_equal(a->peers[i].last_handshake_ms, b->peers[i].last_handshake_ms);
		assert_int_equal(a->peers[i].verdict, b->peers[i].verdict);
		assert_int_equal(a->peers[i].reasons, b->peers[i].reasons);
		assert_int_equal(a->peers[i].consecutive_bad, b->peers[i].consecutive_bad);
		assert_int_equal(a->peers[i].attempt, b->peers[i].attempt);
		assert_int_equal(a->peers[i].next_attempt_ms, b->peers[i].next_attempt_ms);
	}
}

/* A state file from before the per-peer policy (six peer fields) still
 * loads, the policy fields zero; seven or eight fields do not. */
static void unit__state_v1_peer_lines__still_read(void **state)
{
	struct wgnl_health_state st;
	static const char v1[] =
		"wghealth-state 1\n"
		"last_check 1700000000000\n"
		"peer AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= 10 20 1699999999000 0 0\n"
		"end 3\n";
	static const char seven[] =
		"wghealth-state 1\n"
		"peer AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE= 10 20 1699999999000 0 0 1\n"
		"end 2\n";

	(void)state;
	memset(&st, 0, sizeof(st));
	assert_int_equal(wgnl_health_state_parse(v1, strlen(v1), &st), 0);
	assert_int_equal(st.n_peers, 1);
	assert_int_equal(st.peers[0].rx_bytes, 10);
	assert_int_equal(st.peers[0].attempt, 0);
	assert_int_equal(wgnl_health_state_parse(seven, strlen(seven), &st), -EBADMSG);
	wgnl_health_state_clear(&st);
}

static void unit__state_format_parse__roundtrip(void **state)
{
	struct wgnl_health_state a, b;
	char *text;

	fill_state(&a);
	memset(&b, 0, sizeof(b));
	int n = wgnl_health_state_format(&a, &text);
	assert_true(n > 0);
	assert_int_equal(wgnl_health_state_parse(text, (size_t)n, &b), 0);
	assert_state_equal(&a, &b);
	wgnl_free(text);
	wgnl_health_state_clear(&a);
	wgnl_health_state_clear(&b);
}

static void unit__state_corrupt__every_truncation_and_flip_rejected_cleanly(void **state)
{
	struct wgnl_health_state a, b;
	char *text;

	fill_state(&a);
	memset(&b, 0, sizeof(b));
	int n = wgnl_health_state_format(&a, &text);
	assert_true(n > 0);
	/* Every proper prefix is torn: refused, @b left empty. */
	for (int len = 0; len < n; len++) {
		int r = wgnl_health_state_parse(text, (size_t)len, &b);
		assert_int_equal(r, -EBADMSG);
		assert_null(b.peers);
		assert_int_equal(b.last_check_ms, 0);
	}
	/* Byte flips never crash; whatever parses is a full state. */
	char *copy = malloc(n > 0 ? (size_t)n : 1);
	assert_non_null(copy);
	static const char flips[] = { 0, 'x', ' ', '\n', '9', '-', (char)0xff };
	for (int i = 0; i < n; i++)
		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(copy, text, (size_t)n);
			copy[i] = flips[f];
			int r = wgnl_health_state_parse(copy, (size_t)n, &b);
			assert_true(r == 0 || r == -EBADMSG);
			if (r < 0)
				assert_null(b.peers);
			wgnl_health_state_clear(&b);
		}
	free(copy);
	/* Garbage and wrong versions. */
	assert_int_equal(wgnl_health_state_parse("hello\n", 6, &b), -EBADMSG);
	assert_int_equal(wgnl_health_state_parse("wghealth-state 2\nend 1\n", 23, &b), -EBADMSG);
	assert_int_equal(wgnl_health_state_parse("wghealth-state 1\nend 1\n", 23, &b), 0);
	assert_int_equal(wgnl_health_state_parse("wghealth-state 1\nend 1\nx\n", 25, &b), -EBADMSG);
	wgnl_free(text);
	wgnl_health_state_clear(&a);
	wgnl_health_state_clear(&b);
}

static void unit__state_save_load__atomic_file_and_corrupt_replaced(void **state)
{
	char dir[] = "/tmp/wgkit-health-unit.XXXXXX";
	char path[256];
	struct wgnl_health_state a, b;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wg0.state", dir);
	memset(&b, 0, sizeof(b));
	assert_int_equal(wgnl_health_state_load(path, &b), -ENOENT);
	fill_state(&a);
	assert_int_equal(wgnl_health_state_save(path, &a), 0);
	assert_int_equal(wgnl_health_state_load(path, &b), 0);
	assert_state_equal(&a, &b);
	/* No temporary file left behind: the state file is all there is. */
	DIR *dp = opendir(dir);
	struct dirent *de;
	int entries = 0;
	assert_non_null(dp);
	while ((de = readdir(dp)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			entries++;
	closedir(dp);
	assert_int_equal(entries, 1);
	/* Corrupt it: load says so and leaves an empty state; save replaces it. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("wghealth-state 1\nattempt banana\n", f);
	fclose(f);
	assert_int_equal(wgnl_health_state_load(path, &b), -EBADMSG);
	assert_null(b.peers);
	assert_int_equal(wgnl_health_state_save(path, &a), 0);
	assert_int_equal(wgnl_health_state_load(path, &b), 0);
	assert_state_equal(&a, &b);
	/* The lock: a second holder is refused until the first lets go. */
	char lock[300];
	int fd1, fd2;
	snprintf(lock, sizeof(lock), "%s/wg0.lock", dir);
	assert_int_equal(wgnl_health_lock(lock, &fd1), 0);
	assert_int_equal(wgnl_health_lock(lock, &fd2), -EWOULDBLOCK);
	assert_int_equal(fd2, -1);
	close(fd1);
	assert_int_equal(wgnl_health_lock(lock, &fd2), 0);
	close(fd2);
	unlink(lock);
	unlink(path);
	rmdir(dir);
	wgnl_health_state_clear(&a);
	wgnl_health_state_clear(&b);
}

/* The state directory may be writable by others: a symlink planted at the
 * old predictable temporary name (PATH.tmp.PID) or at the lock is never
 * followed, and the state file ends up a regular 0600 file. */
static void unit__state_save_planted_symlink__not_followed(void **state)
{
	char dir[] = "/tmp/wgkit-health-unit.XXXXXX";
	char path[256], tmpl[300], victim[300], lock[300];
	struct wgnl_health_state a, b;
	struct stat sb;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/wg0.state", dir);
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(lock, sizeof(lock), "%s/wg0.lock", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "precious\n", 9), 9);
	close(fd);
	snprintf(tmpl, sizeof(tmpl), "%s.tmp.%ld", path, (long)getpid());
	assert_int_equal(symlink(victim, tmpl), 0);
	fill_state(&a);
	memset(&b, 0, sizeof(b));
	assert_int_equal(wgnl_health_state_save(path, &a), 0);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(stat(victim, &sb), 0);
	assert_int_equal(sb.st_size, 9);
	assert_int_equal(wgnl_health_state_load(path, &b), 0);
	assert_state_equal(&a, &b);
	/* A symlinked lock is refused, not followed. */
	assert_int_equal(symlink(victim, lock), 0);
	assert_int_equal(wgnl_health_lock(lock, &fd), -ELOOP);
	assert_int_equal(fd, -1);
	unlink(lock);
	unlink(tmpl);
	unlink(victim);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
	wgnl_health_state_clear(&a);
	wgnl_health_state_clear(&b);
}

/* ------------------------------------------------------------ config */

static void unit__conf_sections__defaults_then_interface(void **state)
{
	static const char text[] = "# wghealth\n"
				   "handshake_timeout = 2m\n"
				   "[wg1]\n"
				   "ping = 10.0.0.9\n"
				   "[defaults]\n"
				   "max_retries = 5\n"
				   "[wg0]\n"
				   "ping = 10.0.0.1   # the far end\n"
				   "url = http://127.0.0.1:8080/#frag\n"
				   "retry_interval = 500ms\n"
				   "restart_command = systemctl restart wg-quick@wg0\n"
				   "remedies = no\n";
	struct wgnl_health_settings s;
	struct wgnl_config_error e;

	wgnl_health_settings_default(&s);
	assert_int_equal(wgnl_health_conf_parse(text, strlen(text), "x.conf", "wg0", &s, &e), 0);
	assert_int_equal(s.handshake_timeout_ms, 120000);
	assert_int_equal(s.max_retries, 5);
	assert_string_equal(s.ping, "10.0.0.1");
	assert_string_equal(s.url, "http://127.0.0.1:8080/#frag");
	assert_int_equal(s.retry_interval_ms, 500);
	assert_string_equal(s.restart_command, "systemctl restart wg-quick@wg0");
	assert_false(s.remedies);
	assert_int_equal(s.cooldown_ms, 300000); /* default kept */
	/* Another interface sees only the defaults and its own section. */
	wgnl_health_settings_default(&s);
	assert_int_equal(wgnl_health_conf_parse(text, strlen(text), "x.conf", "wg1", &s, &e), 0);
	assert_string_equal(s.ping, "10.0.0.9");
	assert_string_equal(s.url, "");
	assert_int_equal(s.max_retries, 5);
}

static void expect_conf_error(const char *text, unsigned line, const char *key)
{
	struct wgnl_health_settings s;
	struct wgnl_config_error e;

	wgnl_health_settings_default(&s);
	memset(&e, 0, sizeof(e));
	assert_int_equal(wgnl_health_conf_parse(text, strlen(text), "bad.conf", "wg0", &s, &e),
			 -EINVAL);
	assert_string_equal(e.file, "bad.conf");
	assert_int_equal(e.line, line);
	assert_string_equal(e.key, key);
	assert_true(e.message[0] != 0);
}

static void unit__conf_bad_settings__rejected_with_file_line_key(void **state)
{
	expect_conf_error("[wg0]\nhandshake_timout = 10\n", 2, "handshake_timout");
	expect_conf_error("[wg0]\nmax_retries = -1\n", 2, "max_retries");
	expect_conf_error("retry_interval = 10 years\n", 1, "retry_interval");
	expect_conf_error("[wg0]\n\n\nping = 10.0.0.300\n", 4, "ping");
	expect_conf_error("[other]\ncooldown = x\n", 2, "cooldown"); /* every section checked */
	expect_conf_error("[wg0\n", 1, "");
	expect_conf_error("[wg0]\njust words\n", 2, "");
	expect_conf_error("[wg0]\nurl = ftp://x\n", 2, "url");
	expect_conf_error("[wg0]\njitter = 101\n", 2, "jitter");
	expect_conf_error("[wg0]\nport_range = 9-3\n", 2, "port_range");
	expect_conf_error("[wg0]\nretry_interval = 4294968s\n", 2, "retry_interval");
	expect_conf_error("[wg0]\nremedies = maybe\n", 2, "remedies");
	expect_conf_error("[a/b]\n", 1, "a/b");
}

static void unit__settings_set__durations_and_limits(void **state)
{
	struct wgnl_health_settings s;

	wgnl_health_settings_default(&s);
	assert_int_equal(s.handshake_timeout_ms, 180000);
	assert_int_equal(s.max_retries, 3);
	assert_int_equal(s.retry_interval_ms, 10000);
	assert_int_equal(s.cooldown_ms, 300000);
	assert_int_equal(wgnl_health_settings_set(&s, "cooldown", "0"), 0);
	assert_int_equal(s.cooldown_ms, 0);
	assert_int_equal(wgnl_health_settings_set(&s, "retry_interval", "0"), -EINVAL);
	assert_int_equal(wgnl_health_settings_set(&s, "handshake_timeout", "1h"), 0);
	assert_int_equal(s.handshake_timeout_ms, 3600000);
	assert_int_equal(wgnl_health_settings_set(&s, "nope", "1"), -ENOENT);
	assert_int_equal(wgnl_health_settings_set(&s, "ping", "fd00::1"), 0);
	assert_int_equal(wgnl_health_settings_set(&s, "ping", "10.0.0.0/24"), -EINVAL);
	char long_cmd[600];
	memset(long_cmd, 'a', sizeof(long_cmd) - 1);
	long_cmd[sizeof(long_cmd) - 1] = 0;
	assert_int_equal(wgnl_health_settings_set(&s, "restart_command", long_cmd), -ENAMETOOLONG);
}

static void unit__settings_size_zero__einval_everywhere(void **state)
{
	struct wgnl_health_settings s;
	struct wgnl_health_state st;
	struct wgnl_health_result res;
	struct wgnl_health_decision d;
	struct wgnl_config_error e;
	struct wgnl_health_obs o = obs_of(NULL, 0);
	const char *text = "max_retries = 2\n";

	(void)state;
	wgnl_health_settings_default(&s);
	assert_int_equal(s.size, sizeof(s));
	assert_int_not_equal(wgnl_health_backoff_ms(&s, 1, 0), 0);
	s.size = 0;
	memset(&st, 0, sizeof(st));
	memset(&e, 0, sizeof(e));
	assert_int_equal(wgnl_health_settings_set(&s, "max_retries", "2"), -EINVAL);
	assert_int_equal(wgnl_health_conf_parse(text, strlen(text), "x.conf", NULL, &s, &e),
			 -EINVAL);
	assert_non_null(strstr(e.message, "size"));
	assert_int_equal(wgnl_health_conf_parse_file("/nonexistent", NULL, &s, NULL), -EINVAL);
	assert_int_equal(wgnl_health_evaluate(&s, &st, &o, T0, &res), -EINVAL);
	assert_int_equal(res.n_peers, 0);
	assert_int_equal(wgnl_health_decide(&s, &st, &res, &o, T0, 0, &d), -EINVAL);
	assert_int_equal(wgnl_health_backoff_ms(&s, 1, 0), 0);
	/* A size below the struct of 0.1 is refused too. */
	wgnl_health_settings_default(&s);
	s.size = sizeof(size_t);
	assert_int_equal(wgnl_health_settings_set(&s, "max_retries", "2"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__reason_names__stable_and_roundtrip),
		cmocka_unit_test(unit__verdict_exit__monitoring_plugin_codes),
		cmocka_unit_test(unit__fresh_handshake__healthy),
		cmocka_unit_test(unit__stale_handshake_with_keepalive__degraded_stale),
		cmocka_unit_test(unit__no_keepalive_no_traffic__idle_not_broken),
		cmocka_unit_test(unit__never_handshaked_with_keepalive__degraded_never),
		cmocka_unit_test(unit__tx_rising_rx_flat__stalled),
		cmocka_unit_test(unit__keepalives_only__not_stalled),
		cmocka_unit_test(unit__handshake_since_last_check__not_stalled),
		cmocka_unit_test(unit__counter_reset__no_delta_no_stall),
		cmocka_unit_test(unit__interface_missing_or_down__disconnected),
		cmocka_unit_test(unit__probe_loss__degraded_by_threshold),
		cmocka_unit_test(unit__mixed_peers__judged_one_by_one),
		cmocka_unit_test(unit__gateway_5pct_dead__peers_repaired_tunnel_healthy),
		cmocka_unit_test(unit__many_peers_reordered__deltas_by_key),
		cmocka_unit_test(unit__move_port__only_unset_port_of_a_client),
		cmocka_unit_test(unit__interface_down__link_up_first),
		cmocka_unit_test(unit__backoff_every_attempt__doubles_then_caps),
		cmocka_unit_test(unit__backoff_jitter__bounded_by_percent),
		cmocka_unit_test(unit__remedy_ladder__in_order),
		cmocka_unit_test(unit__dead_peer_story__degraded_disconnected_remedies_cooldown),
		cmocka_unit_test(unit__future_times_in_state__clamped_to_settings),
		cmocka_unit_test(unit__backward_clock_step__backoff_bounded),
		cmocka_unit_test(unit__absurd_handshake_time__bounded_state_still_loads),
		cmocka_unit_test(unit__failed_remedy__reported_reconnect_failed),
		cmocka_unit_test(unit__handshake_after_remedy__no_reconnect_timeout),
		cmocka_unit_test(unit__underlay_down__tunnel_down_once_then_up_under_policy),
		cmocka_unit_test(unit__no_remedies_setting__observes_only),
		cmocka_unit_test(unit__state_format_parse__roundtrip),
		cmocka_unit_test(unit__state_v1_peer_lines__still_read),
		cmocka_unit_test(unit__state_corrupt__every_truncation_and_flip_rejected_cleanly),
		cmocka_unit_test(unit__state_save_load__atomic_file_and_corrupt_replaced),
		cmocka_unit_test(unit__state_save_planted_symlink__not_followed),
		cmocka_unit_test(unit__conf_sections__defaults_then_interface),
		cmocka_unit_test(unit__conf_bad_settings__rejected_with_file_line_key),
		cmocka_unit_test(unit__settings_set__durations_and_limits),
		cmocka_unit_test(unit__settings_size_zero__einval_everywhere),
	};

	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
