// SPDX-License-Identifier: MIT
/* Tunnel health: names, verdicts from observations, and the remedy policy.
 * Pure functions of their arguments (time and randomness come in). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_health.h"
#include "settings.h"

static const char *const verdict_names[] = {
	[WGNL_HEALTH_HEALTHY] = "healthy",
	[WGNL_HEALTH_DEGRADED] = "degraded",
	[WGNL_HEALTH_DISCONNECTED] = "disconnected",
	[WGNL_HEALTH_UNKNOWN] = "unknown",
	[WGNL_HEALTH_IDLE] = "idle",
};

static const char *const reason_names[WGNL_HEALTH_N_REASONS] = {
	"interface_missing",
	"interface_down",
	"handshake_stale",
	"handshake_never",
	"rx_stalled",
	"probe_lost",
	"underlay_down",
	"degraded_persistent",
	"reconnect_failed",
	"reconnect_timeout",
	"cooldown",
	"no_peers",
	"idle",
	"peers_unhealthy",
	"critical_peer",
};

static const char *const remedy_names[] = {
	[WGNL_HEALTH_REMEDY_NONE] = "none",
	[WGNL_HEALTH_REMEDY_RERESOLVE] = "reresolve",
	[WGNL_HEALTH_REMEDY_RESET_ENDPOINT] = "reset_endpoint",
	[WGNL_HEALTH_REMEDY_MOVE_PORT] = "move_port",
	[WGNL_HEALTH_REMEDY_RESTART] = "restart",
	[WGNL_HEALTH_REMEDY_TUNNEL_DOWN] = "tunnel_down",
	[WGNL_HEALTH_REMEDY_TUNNEL_UP] = "tunnel_up",
	[WGNL_HEALTH_REMEDY_LINK_UP] = "link_up",
};

const char *wgnl_health_verdict_name(enum wgnl_health_verdict v)
{
	if ((unsigned)v < sizeof(verdict_names) / sizeof(verdict_names[0]))
		return verdict_names[v];
	return "?";
}

int wgnl_health_verdict_from_name(const char *name)
{
	for (unsigned i = 0; name && i < sizeof(verdict_names) / sizeof(verdict_names[0]); i++)
		if (!strcmp(name, verdict_names[i]))
			return (int)i;
	return -EINVAL;
}

int wgnl_health_verdict_exit(enum wgnl_health_verdict v)
{
	switch (v) {
	case WGNL_HEALTH_HEALTHY:
	case WGNL_HEALTH_IDLE:
		return 0;
	case WGNL_HEALTH_DEGRADED:
		return 1;
	case WGNL_HEALTH_DISCONNECTED:
		return 2;
	default:
		return 3;
	}
}

const char *wgnl_health_reason_name(uint32_t bit)
{
	for (unsigned i = 0; i < WGNL_HEALTH_N_REASONS; i++)
		if (bit == 1U << i)
			return reason_names[i];
	return NULL;
}

uint32_t wgnl_health_reason_from_name(const char *name)
{
	for (unsigned i = 0; name && i < WGNL_HEALTH_N_REASONS; i++)
		if (!strcmp(name, reason_names[i]))
			return 1U << i;
	return 0;
}

char *wgnl_health_reasons_format(uint32_t mask, char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (unsigned i = 0; i < WGNL_HEALTH_N_REASONS; i++) {
		if (!(mask & (1U << i)))
			continue;
		size_t n = strlen(reason_names[i]) + (off ? 1 : 0);
		if (off + n + 1 > len)
			break;
		if (off)
			buf[off++] = ',';
		memcpy(buf + off, reason_names[i], strlen(reason_names[i]) + 1);
		off += strlen(reason_names[i]);
	}
	return buf;
}

const char *wgnl_health_remedy_name(enum wgnl_health_remedy r)
{
	if ((unsigned)r < sizeof(remedy_names) / sizeof(remedy_names[0]))
		return remedy_names[r];
	return "none";
}

enum wgnl_health_remedy wgnl_health_remedy_for_attempt(uint32_t attempt, bool interface_missing)
{
	if (attempt == 0)
		return WGNL_HEALTH_REMEDY_NONE;
	if (interface_missing)
		return WGNL_HEALTH_REMEDY_RESTART;
	switch (attempt) {
	case 1:
		return WGNL_HEALTH_REMEDY_RERESOLVE;
	case 2:
		return WGNL_HEALTH_REMEDY_MOVE_PORT;
	default:
		return WGNL_HEALTH_REMEDY_RESTART;
	}
}

bool wgnl_health_may_move_port(const struct wgnl_device *cfg, const char **why)
{
	const char *w = NULL;

	if (!cfg)
		w = "no wg_config: cannot tell whether the listen port is configured";
	else if (cfg->flags & WGNL_DEV_HAS_LISTEN_PORT)
		w = "the config sets ListenPort (peers may name that port)";
	for (size_t i = 0; !w && i < cfg->n_peers; i++)
		if (!(cfg->peers[i].flags & WGNL_PEER_HAS_ENDPOINT) && !cfg->peers[i].endpoint_name)
			w = "a peer without Endpoint: this side serves, it does not initiate";
	if (!w && !cfg->n_peers)
		w = "no peers in the config";
	if (why)
		*why = w;
	return !w;
}

uint64_t wgnl_health_backoff_ms(const struct wgnl_health_settings *s, uint32_t attempt,
				uint32_t rnd)
{
	uint64_t base, cap, d;

	if (attempt == 0 || !wgi_health_settings_ok(s))
		return 0;
	base = s->retry_interval_ms;
	cap = s->backoff_max_ms;
	if (cap < base)
		cap = base;
	/* base << (attempt - 1) without overflow: stop doubling at the cap. */
	d = base;
	for (uint32_t i = 1; i < attempt && d < cap; i++)
		d *= 2;
	if (d > cap)
		d = cap;
	/* Jitter spreads the retries of many gateways that lost the same
	 * network at the same moment. d <= 2^32 and jitter_pct is clamped, so
	 * the products fit in 64 bits. */
	uint64_t pct = s->jitter_pct > 100 ? 100 : s->jitter_pct;
	uint64_t span = d * pct / 100;
	return d + (span * rnd >> 32);
}

/* ------------------------------------------------------------ verdicts */

static int rank(enum wgnl_health_verdict v)
{
	switch (v) {
	case WGNL_HEALTH_IDLE:
		return 0;
	case WGNL_HEALTH_HEALTHY:
		return 1;
	case WGNL_HEALTH_DEGRADED:
		return 2;
	case WGNL_HEALTH_UNKNOWN:
		return 3;
	default:
		return 4;
	}
}

/* The previous run's peers by key. A device dumps its peers in a stable
 * order, so peer i is nearly always where it was: that is checked first;
 * otherwise an open-addressing table built on first need. A gateway has
 * 10,000 peers: a scan per peer would be 10^8 key compares per check. */
struct prev_index {
	const struct wgnl_health_state *prev;
	uint32_t *slots; /* position + 1; 0 empty */
	size_t mask;
	bool failed;
};

static size_t key_slot(const wgnl_key k, size_t mask)
{
	uint64_t h;

	/* Public keys are uniformly random points: any 8 bytes spread well. */
	memcpy(&h, k, sizeof(h));
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h & mask;
}

static int prev_index_build(struct prev_index *x)
{
	size_t cap = 16;

	while (cap < 2 * x->prev->n_peers)
		cap *= 2;
	x->slots = calloc(cap, sizeof(*x->slots));
	if (!x->slots)
		return -ENOMEM;
	x->mask = cap - 1;
	for (size_t i = 0; i < x->prev->n_peers; i++) {
		size_t sl = key_slot(x->prev->peers[i].public_key, x->mask);

		while (x->slots[sl])
			sl = (sl + 1) & x->mask;
		x->slots[sl] = (uint32_t)i + 1;
	}
	return 0;
}

static const struct wgnl_health_peer_state *prev_peer(struct prev_index *x, size_t pos,
						      const wgnl_key pub)
{
	const struct wgnl_health_state *prev = x->prev;

	if (!prev || !prev->n_peers)
		return NULL;
	if (pos < prev->n_peers && !memcmp(prev->peers[pos].public_key, pub, WGNL_KEY_LEN))
		return &prev->peers[pos];
	if (!x->slots && !x->failed && prev_index_build(x) < 0)
		x->failed = true;
	if (x->failed) {
		for (size_t i = 0; i < prev->n_peers; i++)
			if (!memcmp(prev->peers[i].public_key, pub, WGNL_KEY_LEN))
				return &prev->peers[i];
		return NULL;
	}
	for (size_t sl = key_slot(pub, x->mask); x->slots[sl]; sl = (sl + 1) & x->mask) {
		const struct wgnl_health_peer_state *p = &prev->peers[x->slots[sl] - 1];

		if (!memcmp(p->public_key, pub, WGNL_KEY_LEN))
			return p;
	}
	return NULL;
}

int64_t wgnl_health_time_ms(const struct timespec *ts)
{
	if (ts->tv_sec < 0 || ts->tv_nsec < 0 || ts->tv_nsec > 999999999 ||
	    ts->tv_sec > WGNL_HEALTH_TIME_MAX_MS / 1000)
		return 0;
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

/* An observed handshake time the policy can do arithmetic on. */
static int64_t sane_ms(int64_t ms)
{
	return ms < 0 || ms > WGNL_HEALTH_TIME_MAX_MS ? 0 : ms;
}

/* A keepalive is one 32-byte transport message. */
#define KEEPALIVE_BYTES 32

static void judge_peer(const struct wgnl_health_settings *s, const struct wgnl_health_state *prev,
		       const struct wgnl_health_peer_state *pp,
		       const struct wgnl_health_peer_obs *o, int64_t now_ms,
		       struct wgnl_health_peer_result *r)
{
	int64_t elapsed_ms = prev && prev->last_check_ms && now_ms > prev->last_check_ms ?
				     now_ms - prev->last_check_ms :
				     0;

	int64_t hs = sane_ms(o->last_handshake_ms);

	memcpy(r->public_key, o->public_key, WGNL_KEY_LEN);
	r->prev_verdict = pp ? (enum wgnl_health_verdict)pp->verdict : WGNL_HEALTH_UNKNOWN;
	if (pp) {
		r->consecutive_bad = pp->consecutive_bad;
		r->attempt = pp->attempt;
		r->next_attempt_ms = pp->next_attempt_ms;
	}
	r->handshake_age_ms = hs ? now_ms - hs : -1;
	if (r->handshake_age_ms < -1)
		r->handshake_age_ms = 0; /* clock skew: a handshake "in the future" */
	/* Counters that went backwards were reset (device recreated): no
	 * delta this time. */
	if (pp && elapsed_ms > 0 && o->rx_bytes >= pp->rx_bytes && o->tx_bytes >= pp->tx_bytes) {
		r->have_delta = true;
		r->rx_delta = o->rx_bytes - pp->rx_bytes;
		r->tx_delta = o->tx_bytes - pp->tx_bytes;
	}
	bool wants = o->keepalive > 0 || (r->have_delta && r->tx_delta > 0);

	r->verdict = WGNL_HEALTH_HEALTHY;
	if (!hs || r->handshake_age_ms > (int64_t)s->handshake_timeout_ms) {
		if (wants) {
			r->verdict = WGNL_HEALTH_DEGRADED;
			r->reasons |= hs ? WGNL_HEALTH_R_HANDSHAKE_STALE :
					   WGNL_HEALTH_R_HANDSHAKE_NEVER;
		} else {
			r->verdict = WGNL_HEALTH_IDLE;
			r->reasons |= WGNL_HEALTH_R_IDLE;
		}
	}
	/* Stalled: we sent more than keepalives explain, nothing came back,
	 * not even a handshake since the last check. */
	if (r->have_delta && r->rx_delta == 0 && r->tx_delta > 0) {
		uint64_t budget = 0;

		if (o->keepalive)
			budget = KEEPALIVE_BYTES * ((uint64_t)elapsed_ms / 1000 / o->keepalive + 1);
		if (r->tx_delta > budget && hs <= prev->last_check_ms) {
			r->verdict = WGNL_HEALTH_DEGRADED;
			r->reasons &= ~WGNL_HEALTH_R_IDLE;
			r->reasons |= WGNL_HEALTH_R_RX_STALLED;
		}
	}
}

static bool is_critical(const struct wgnl_health_settings *s, const wgnl_key k)
{
	if (s->all_critical)
		return true;
	for (size_t i = 0; i < s->n_critical && i < WGNL_HEALTH_MAX_CRITICAL; i++)
		if (!memcmp(s->critical[i], k, WGNL_KEY_LEN))
			return true;
	return false;
}

void wgnl_health_result_clear(struct wgnl_health_result *r)
{
	if (!r)
		return;
	free(r->peers);
	memset(r, 0, sizeof(*r));
}

int wgnl_health_evaluate(const struct wgnl_health_settings *s, const struct wgnl_health_state *prev,
			 const struct wgnl_health_obs *obs, int64_t now_ms,
			 struct wgnl_health_result *out)
{
	memset(out, 0, sizeof(*out));
	if (!wgi_health_settings_ok(s))
		return -EINVAL;
	if (obs->underlay == 0) {
		/* The network under the tunnel is gone: nothing about the peers
		 * means anything now. */
		out->verdict = WGNL_HEALTH_DISCONNECTED;
		out->reasons = WGNL_HEALTH_R_UNDERLAY_DOWN;
		if (!obs->present)
			out->reasons |= WGNL_HEALTH_R_INTERFACE_MISSING;
		else if (!obs->up)
			out->reasons |= WGNL_HEALTH_R_INTERFACE_DOWN;
		return 0;
	}
	if (!obs->present || !obs->up) {
		out->verdict = WGNL_HEALTH_DISCONNECTED;
		out->reasons = obs->present ? WGNL_HEALTH_R_INTERFACE_DOWN :
					      WGNL_HEALTH_R_INTERFACE_MISSING;
		return 0;
	}
	if (obs->n_peers) {
		out->peers = calloc(obs->n_peers, sizeof(*out->peers));
		if (!out->peers)
			return -ENOMEM;
	}
	out->n_peers = obs->n_peers;
	struct prev_index x = { .prev = prev };
	uint32_t bad_reasons = 0, critical_reasons = 0;
	bool critical_bad = false;
	for (size_t i = 0; i < obs->n_peers; i++) {
		struct wgnl_health_peer_result *r = &out->peers[i];

		judge_peer(s, prev, prev_peer(&x, i, obs->peers[i].public_key), &obs->peers[i],
			   now_ms, r);
		r->critical = is_critical(s, r->public_key);
		if (sane_ms(obs->peers[i].last_handshake_ms) > out->newest_handshake_ms)
			out->newest_handshake_ms = sane_ms(obs->peers[i].last_handshake_ms);
		if (r->verdict == WGNL_HEALTH_HEALTHY) {
			out->n_healthy++;
		} else if (r->verdict == WGNL_HEALTH_IDLE) {
			out->n_idle++;
		} else {
			out->n_unhealthy++;
			bad_reasons |= r->reasons;
			if (r->critical) {
				critical_bad = true;
				critical_reasons |= r->reasons;
			}
		}
	}
	free(x.slots);
	/* Peers are judged one by one; the tunnel only by the rules that make
	 * it useless: a critical peer (a site-to-site link) down, or too few
	 * healthy peers. A gateway always has some roaming client offline. */
	size_t counted = out->n_healthy + out->n_unhealthy;
	if (critical_bad) {
		out->verdict = WGNL_HEALTH_DEGRADED;
		out->reasons |= WGNL_HEALTH_R_CRITICAL_PEER | critical_reasons;
	} else if (out->n_unhealthy &&
		   (out->n_healthy < s->min_healthy_peers ||
		    (uint64_t)out->n_unhealthy * 100 > (uint64_t)s->max_unhealthy_pct * counted)) {
		out->verdict = WGNL_HEALTH_DEGRADED;
		out->reasons |= WGNL_HEALTH_R_PEERS_UNHEALTHY | bad_reasons;
	} else {
		out->verdict = out->n_healthy ? WGNL_HEALTH_HEALTHY : WGNL_HEALTH_IDLE;
	}
	if (!obs->n_peers)
		out->reasons |= WGNL_HEALTH_R_NO_PEERS;
	if (out->verdict == WGNL_HEALTH_IDLE)
		out->reasons |= WGNL_HEALTH_R_IDLE;
	if (obs->ping_sent) {
		uint32_t lost =
			obs->ping_sent -
			(obs->ping_received > obs->ping_sent ? obs->ping_sent : obs->ping_received);

		if ((uint64_t)lost * 100 > (uint64_t)s->ping_max_loss_pct * obs->ping_sent) {
			out->reasons |= WGNL_HEALTH_R_PROBE_LOST;
			out->reasons &= ~WGNL_HEALTH_R_IDLE;
			if (rank(out->verdict) < rank(WGNL_HEALTH_DEGRADED))
				out->verdict = WGNL_HEALTH_DEGRADED;
		}
	}
	return 0;
}

/* --------------------------------------------------------------- policy */

static int store_peers(struct wgnl_health_state *st, const struct wgnl_health_obs *obs,
		       const struct wgnl_health_result *res)
{
	struct wgnl_health_peer_state *v = NULL;

	if (!obs->present)
		return 0; /* keep the last counters for when it comes back */
	if (obs->n_peers) {
		v = calloc(obs->n_peers, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	for (size_t i = 0; i < obs->n_peers; i++) {
		memcpy(v[i].public_key, obs->peers[i].public_key, WGNL_KEY_LEN);
		v[i].rx_bytes = obs->peers[i].rx_bytes;
		v[i].tx_bytes = obs->peers[i].tx_bytes;
		v[i].last_handshake_ms = sane_ms(obs->peers[i].last_handshake_ms);
		if (i < res->n_peers) {
			v[i].verdict = (uint8_t)res->peers[i].verdict;
			v[i].reasons = res->peers[i].reasons;
			v[i].consecutive_bad = res->peers[i].consecutive_bad;
			v[i].attempt = res->peers[i].attempt;
			v[i].next_attempt_ms = res->peers[i].next_attempt_ms;
		}
	}
	free(st->peers);
	st->peers = v;
	st->n_peers = obs->n_peers;
	return 0;
}

static void reset_round(struct wgnl_health_state *st)
{
	st->attempt = 0;
	st->next_attempt_ms = 0;
	st->cooldown_until_ms = 0;
	st->last_remedy_ms = 0;
	st->last_remedy_failed = false;
}

/* Remedy now, wait, or cool down: the retry policy shared by the remedies
 * and by bringing the tunnel back after the underlay returned. */
static void schedule(const struct wgnl_health_settings *s, struct wgnl_health_state *st,
		     struct wgnl_health_result *res, int64_t now_ms, uint32_t rnd,
		     enum wgnl_health_remedy remedy, struct wgnl_health_decision *d)
{
	if (st->cooldown_until_ms) {
		if (now_ms < st->cooldown_until_ms) {
			d->action = WGNL_HEALTH_ACT_COOLDOWN;
			d->next_attempt_ms = st->cooldown_until_ms;
			res->reasons |= WGNL_HEALTH_R_COOLDOWN;
			return;
		}
		/* Cooldown over: a new round of retries. */
		st->cooldown_until_ms = 0;
		st->attempt = 0;
		st->next_attempt_ms = 0;
	}
	if (now_ms < st->next_attempt_ms) {
		d->action = WGNL_HEALTH_ACT_WAIT;
		d->next_attempt_ms = st->next_attempt_ms;
		return;
	}
	if (st->attempt >= s->max_retries) {
		st->cooldown_until_ms = now_ms + s->cooldown_ms;
		d->action = WGNL_HEALTH_ACT_COOLDOWN;
		d->entered_cooldown = true;
		d->next_attempt_ms = st->cooldown_until_ms;
		res->reasons |= WGNL_HEALTH_R_COOLDOWN;
		return;
	}
	st->attempt++;
	st->next_attempt_ms = now_ms + (int64_t)wgnl_health_backoff_ms(s, st->attempt, rnd);
	st->last_remedy_ms = now_ms;
	st->remedies_total++;
	d->action = WGNL_HEALTH_ACT_REMEDY;
	d->attempt = st->attempt;
	/* A link that is down (often on purpose, and then forgotten) comes
	 * back by being set up: the first step, before anything heavier. */
	if (!remedy && st->attempt == 1 && (res->reasons & WGNL_HEALTH_R_INTERFACE_DOWN) &&
	    !(res->reasons & WGNL_HEALTH_R_UNDERLAY_DOWN))
		remedy = WGNL_HEALTH_REMEDY_LINK_UP;
	d->remedy = remedy ? remedy :
			     wgnl_health_remedy_for_attempt(
				     st->attempt, res->reasons & WGNL_HEALTH_R_INTERFACE_MISSING);
	d->next_attempt_ms = st->next_attempt_ms;
}

/* The longest backoff: the cap (at least one step) plus all jitter. */
static int64_t clamp_max_wait(const struct wgnl_health_settings *s)
{
	uint64_t cap = s->backoff_max_ms > s->retry_interval_ms ? s->backoff_max_ms :
								  s->retry_interval_ms;

	return (int64_t)(cap + cap * (s->jitter_pct > 100 ? 100 : s->jitter_pct) / 100);
}

/* The times in @st come from an earlier run on the wall clock, or from a
 * file anyone with write access could have edited. After a backward clock
 * step (NTP) they lie in the future: a wait would last as long as the step,
 * a cooldown forever. No wait is ever longer than the settings allow, so
 * clamp each to now + its configured maximum. */
static void clamp_times(const struct wgnl_health_settings *s, struct wgnl_health_state *st,
			int64_t now_ms)
{
	int64_t max_wait = clamp_max_wait(s);

	if (st->next_attempt_ms > now_ms + max_wait)
		st->next_attempt_ms = now_ms + max_wait;
	if (st->cooldown_until_ms > now_ms + (int64_t)s->cooldown_ms)
		st->cooldown_until_ms = now_ms + (int64_t)s->cooldown_ms;
	/* A remedy "in the future" would never time out. */
	if (st->last_remedy_ms > now_ms)
		st->last_remedy_ms = now_ms;
	if (st->last_check_ms > now_ms)
		st->last_check_ms = now_ms;
}

/* One peer's policy: persistence, then a per-peer remedy for a peer we keep
 * up (persistent keepalive), with the interface's backoff and retries; once
 * they are spent, the peer waits a cooldown before the next round. */
static void decide_peer(const struct wgnl_health_settings *s, struct wgnl_health_peer_result *r,
			const struct wgnl_health_peer_obs *o, int64_t max_wait, int64_t now_ms,
			uint32_t rnd, bool may_act)
{
	int64_t limit =
		now_ms + (max_wait > (int64_t)s->cooldown_ms ? max_wait : (int64_t)s->cooldown_ms);

	r->action = WGNL_HEALTH_ACT_NONE;
	if (r->next_attempt_ms > limit)
		r->next_attempt_ms = limit;
	if (r->verdict == WGNL_HEALTH_HEALTHY || r->verdict == WGNL_HEALTH_IDLE) {
		r->consecutive_bad = 0;
		r->attempt = 0;
		r->next_attempt_ms = 0;
		return;
	}
	if (r->consecutive_bad < UINT32_MAX)
		r->consecutive_bad++;
	if (r->verdict == WGNL_HEALTH_DEGRADED && s->disconnect_after &&
	    r->consecutive_bad >= s->disconnect_after) {
		r->verdict = WGNL_HEALTH_DISCONNECTED;
		r->reasons |= WGNL_HEALTH_R_DEGRADED_PERSISTENT;
	}
	if (!may_act || r->verdict != WGNL_HEALTH_DISCONNECTED || !o->keepalive)
		return;
	if (now_ms < r->next_attempt_ms) {
		r->action = WGNL_HEALTH_ACT_WAIT;
		return;
	}
	if (r->attempt >= s->max_retries) {
		/* Retries spent: a cooldown, then a new round. */
		r->attempt = 0;
		r->next_attempt_ms = now_ms + s->cooldown_ms;
		r->action = WGNL_HEALTH_ACT_COOLDOWN;
		return;
	}
	r->attempt++;
	r->next_attempt_ms = now_ms + (int64_t)wgnl_health_backoff_ms(s, r->attempt, rnd);
	r->action = WGNL_HEALTH_ACT_REMEDY;
}

/* The tunnel's remedies: the underlay rule, then the retry ladder. */
static void decide_tunnel(const struct wgnl_health_settings *s, struct wgnl_health_state *st,
			  struct wgnl_health_result *res, const struct wgnl_health_obs *obs,
			  int64_t now_ms, uint32_t rnd, struct wgnl_health_decision *d, bool good)
{
	if (!s->remedies) {
		/* Observe only. */
	} else if (obs->underlay == 0) {
		/* Do not hammer a dead network: down once, then wait for it. */
		if (!st->underlay_down) {
			reset_round(st);
			st->underlay_down = true;
			st->remedies_total++;
			d->action = WGNL_HEALTH_ACT_REMEDY;
			d->remedy = WGNL_HEALTH_REMEDY_TUNNEL_DOWN;
		}
	} else if (st->underlay_down) {
		schedule(s, st, res, now_ms, rnd, WGNL_HEALTH_REMEDY_TUNNEL_UP, d);
		/* Bringing it up is not a reconnect to verify yet. */
	} else if (!good && res->verdict == WGNL_HEALTH_DISCONNECTED) {
		schedule(s, st, res, now_ms, rnd, WGNL_HEALTH_REMEDY_NONE, d);
	}
}

void wgnl_health_remedy_done(struct wgnl_health_state *st, const struct wgnl_health_decision *d,
			     bool ok)
{
	if (d->action != WGNL_HEALTH_ACT_REMEDY)
		return;
	st->last_remedy_failed = !ok;
	if (d->remedy == WGNL_HEALTH_REMEDY_TUNNEL_UP && ok) {
		/* Back up: from here the tunnel is judged (and remedied) as
		 * usual; the handshake is awaited like after any remedy. */
		st->underlay_down = false;
		st->attempt = 0;
		st->next_attempt_ms = 0;
	}
	if (d->remedy == WGNL_HEALTH_REMEDY_TUNNEL_DOWN)
		st->last_remedy_ms = 0;
}

int wgnl_health_decide(const struct wgnl_health_settings *s, struct wgnl_health_state *st,
		       struct wgnl_health_result *res, const struct wgnl_health_obs *obs,
		       int64_t now_ms, uint32_t rnd, struct wgnl_health_decision *d)
{
	bool good = res->verdict == WGNL_HEALTH_HEALTHY || res->verdict == WGNL_HEALTH_IDLE;

	memset(d, 0, sizeof(*d));
	if (!wgi_health_settings_ok(s))
		return -EINVAL;
	clamp_times(s, st, now_ms);
	d->prev_verdict = st->last_check_ms ? (enum wgnl_health_verdict)st->verdict :
					      WGNL_HEALTH_UNKNOWN;
	d->prev_reasons = st->reasons;

	if (good) {
		d->recovered = st->attempt || st->cooldown_until_ms || st->last_remedy_ms ||
			       st->consecutive_bad;
		st->consecutive_bad = 0;
		st->underlay_down = false;
		reset_round(st);
	} else {
		if (st->consecutive_bad < UINT32_MAX)
			st->consecutive_bad++;
		if (res->verdict == WGNL_HEALTH_DEGRADED && s->disconnect_after &&
		    st->consecutive_bad >= s->disconnect_after) {
			res->verdict = WGNL_HEALTH_DISCONNECTED;
			res->reasons |= WGNL_HEALTH_R_DEGRADED_PERSISTENT;
		}
		/* Judge the last remedy: a handshake since (the kernel reports
		 * whole seconds) proves the tunnel came back. */
		if (st->last_remedy_ms) {
			if (res->newest_handshake_ms + 1000 > st->last_remedy_ms) {
				st->last_remedy_ms = 0;
			} else if (now_ms - st->last_remedy_ms >=
				   (int64_t)s->reconnect_timeout_ms) {
				res->reasons |= WGNL_HEALTH_R_RECONNECT_TIMEOUT;
				res->verdict = WGNL_HEALTH_DISCONNECTED;
			}
		}
		if (st->last_remedy_failed)
			res->reasons |= WGNL_HEALTH_R_RECONNECT_FAILED;
	}
	decide_tunnel(s, st, res, obs, now_ms, rnd, d, good);
	d->changed = d->prev_verdict != res->verdict || d->prev_reasons != res->reasons;
	st->verdict = (uint8_t)res->verdict;
	st->reasons = res->reasons;
	st->last_check_ms = now_ms;

	/* Per peer. While the tunnel itself is bad, its own remedies (which
	 * set the endpoints of the unhealthy peers first) do the work. */
	bool tunnel_busy = !good || d->action != WGNL_HEALTH_ACT_NONE || obs->underlay == 0 ||
			   st->underlay_down || !obs->present || !obs->up;
	for (size_t i = 0; i < res->n_peers && i < obs->n_peers; i++) {
		decide_peer(s, &res->peers[i], &obs->peers[i], clamp_max_wait(s), now_ms, rnd,
			    s->remedies && !tunnel_busy);
		if (res->peers[i].action == WGNL_HEALTH_ACT_REMEDY)
			d->n_peer_remedies++;
	}
	if (d->n_peer_remedies)
		st->remedies_total++;
	return store_peers(st, obs, res);
}
