/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: tunnel health, the pure part. Verdicts from observations,
 * the retry/backoff/cooldown policy, the persistent state file and the
 * wghealth.conf settings. Nothing here touches the network or reads a clock:
 * every function takes the time ("now", milliseconds since the epoch) and any
 * randomness as arguments, so the logic is tested without sleeping. The
 * wghealth tool observes, calls these, and acts. Conventions as in wgnl.h.
 */
#ifndef WGKIT_WGNL_HEALTH_H
#define WGKIT_WGNL_HEALTH_H

#include "wgkit/wgnl_decls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

WGNL_DECLS_BEGIN

/* Verdicts. The values are the monitoring-plugin exit codes except IDLE,
 * which exits 0 (see wgnl_health_verdict_exit()). */
enum wgnl_health_verdict {
	WGNL_HEALTH_HEALTHY = 0,
	WGNL_HEALTH_DEGRADED = 1,
	WGNL_HEALTH_DISCONNECTED = 2,
	WGNL_HEALTH_UNKNOWN = 3,
	WGNL_HEALTH_IDLE = 4, /* no keepalive and no traffic: not broken */
};

/* Reasons, as bits; each has a stable name (wgnl_health_reason_name()) that
 * the history, JSON output and man page use. Never renumber. */
enum wgnl_health_reason {
	WGNL_HEALTH_R_INTERFACE_MISSING = 1U << 0,   /* "interface_missing" */
	WGNL_HEALTH_R_INTERFACE_DOWN = 1U << 1,	     /* "interface_down" */
	WGNL_HEALTH_R_HANDSHAKE_STALE = 1U << 2,     /* "handshake_stale" */
	WGNL_HEALTH_R_HANDSHAKE_NEVER = 1U << 3,     /* "handshake_never" */
	WGNL_HEALTH_R_RX_STALLED = 1U << 4,	     /* "rx_stalled" */
	WGNL_HEALTH_R_PROBE_LOST = 1U << 5,	     /* "probe_lost" */
	WGNL_HEALTH_R_UNDERLAY_DOWN = 1U << 6,	     /* "underlay_down" */
	WGNL_HEALTH_R_DEGRADED_PERSISTENT = 1U << 7, /* "degraded_persistent" */
	WGNL_HEALTH_R_RECONNECT_FAILED = 1U << 8,    /* "reconnect_failed" */
	WGNL_HEALTH_R_RECONNECT_TIMEOUT = 1U << 9,   /* "reconnect_timeout" */
	WGNL_HEALTH_R_COOLDOWN = 1U << 10,	     /* "cooldown" */
	WGNL_HEALTH_R_NO_PEERS = 1U << 11,	     /* "no_peers" */
	WGNL_HEALTH_R_IDLE = 1U << 12,		     /* "idle" */
	WGNL_HEALTH_R_PEERS_UNHEALTHY = 1U << 13,    /* "peers_unhealthy": too few healthy peers */
	/* "critical_peer": a critical peer is not healthy */
	WGNL_HEALTH_R_CRITICAL_PEER = 1U << 14,
};
#define WGNL_HEALTH_N_REASONS 15

/* "healthy", "degraded", "disconnected", "unknown", "idle"; "?" otherwise. */
const char *wgnl_health_verdict_name(enum wgnl_health_verdict v);
/* The verdict named @name, or -EINVAL. */
int wgnl_health_verdict_from_name(const char *name);
/* The monitoring-plugin exit code: 0 healthy/idle, 1 degraded,
 * 2 disconnected, 3 unknown. */
int wgnl_health_verdict_exit(enum wgnl_health_verdict v);
/* The stable name of ONE reason bit, or NULL for anything else. */
const char *wgnl_health_reason_name(uint32_t bit);
/* The reason bit named @name, or 0. */
uint32_t wgnl_health_reason_from_name(const char *name);
/* Format the reasons in @mask as "a,b,c" (in bit order) into @buf; "" for
 * none. Returns @buf (always NUL-terminated when @len > 0). */
char *wgnl_health_reasons_format(uint32_t mask, char *buf, size_t len);

/* ------------------------------------------------------------ settings */

#define WGNL_HEALTH_PATH_MAX 512
#define WGNL_HEALTH_MAX_CRITICAL 16

/* Sized (see wgnl.h): wgnl_health_settings_default() sets size; every
 * function taking the struct returns -EINVAL when size is 0 (or below the
 * struct of 0.1). */
struct wgnl_health_settings {
	size_t size;			      /* sizeof(struct wgnl_health_settings) */
	uint32_t handshake_timeout_ms;	      /* handshake older than this: stale (180 s) */
	uint32_t disconnect_after;	      /* consecutive Degraded checks -> Disconnected (3) */
	uint32_t reconnect_timeout_ms;	      /* no handshake this long after a remedy (60 s) */
	uint32_t max_retries;		      /* remedies before the cooldown (3) */
	uint32_t retry_interval_ms;	      /* first backoff step (10 s) */
	uint32_t backoff_max_ms;	      /* backoff cap before jitter (300 s) */
	uint32_t jitter_pct;		      /* up to this % of the delay is added (10) */
	uint32_t cooldown_ms;		      /* after the retries are spent (300 s) */
	char ping[64];			      /* address to ping through the tunnel, "" none */
	uint32_t ping_count;		      /* echo requests per check (3) */
	uint32_t ping_timeout_ms;	      /* per echo (1000) */
	uint32_t ping_max_loss_pct;	      /* more loss than this: probe_lost (50) */
	char url[WGNL_HEALTH_PATH_MAX];	      /* underlay check URL, "" none */
	uint32_t url_timeout_ms;	      /* (3000) */
	char wg_config[WGNL_HEALTH_PATH_MAX]; /* wg-quick config for down/up, "" none */
	char restart_command[WGNL_HEALTH_PATH_MAX]; /* sh -c; replaces down+up on restart */
	char down_command[WGNL_HEALTH_PATH_MAX];    /* sh -c; takes the tunnel down */
	char up_command[WGNL_HEALTH_PATH_MAX];	    /* sh -c; brings it back */
	bool remedies;				    /* act at all (true) */
	uint16_t port_min, port_max; /* range for the move-port remedy (49152-65535) */
	/* The interface verdict from the peers' (idle peers do not count):
	 * Degraded when a critical peer is not healthy, or when some peer is
	 * unhealthy and fewer than min_healthy_peers are healthy or more than
	 * max_unhealthy_pct % of the counted peers are unhealthy. */
	uint32_t min_healthy_peers; /* (1) */
	uint32_t max_unhealthy_pct; /* "max_unhealthy_ratio", 0-100 (50) */
	bool all_critical;	    /* "critical_peers = all": the worst peer decides */
	size_t n_critical;
	wgnl_key critical[WGNL_HEALTH_MAX_CRITICAL]; /* "critical_peers = KEY..." */
};

/* Fill @s with the defaults above, size included. */
void wgnl_health_settings_default(struct wgnl_health_settings *s);
/* Apply one "key = value" setting (keys as in wghealth.conf(5) section of
 * wghealth(8): handshake_timeout, retry_interval, ...). Durations take
 * "ms", "s", "m", "h" suffixes (bare numbers are seconds). Returns 0,
 * -ENOENT (unknown key), -EINVAL (bad value, or @s->size not set),
 * -ENAMETOOLONG. */
int wgnl_health_settings_set(struct wgnl_health_settings *s, const char *key, const char *value);
/* Parse wghealth.conf text: "key = value" lines, '#' comments, sections
 * "[defaults]" (also the keys before any section) and "[IFNAME]". Every
 * section is validated; @s receives the defaults section then the one named
 * @ifname (may be NULL: only defaults). Returns 0, -EINVAL (@err filled with
 * file:line:key and why; also @s->size not set) or -ENOMEM. @err may be NULL. */
int wgnl_health_conf_parse(const char *text, size_t len, const char *filename, const char *ifname,
			   struct wgnl_health_settings *s, struct wgnl_config_error *err);
/* Read @path and parse it as above. -errno of open/read (err filled). */
int wgnl_health_conf_parse_file(const char *path, const char *ifname,
				struct wgnl_health_settings *s, struct wgnl_config_error *err);
/* The interface sections of the file, in order, as a NULL-terminated array
 * freed with wgnl_strv_free(). Returns the count or -errno (err filled). */
int wgnl_health_conf_sections(const char *path, char ***ret, struct wgnl_config_error *err);

/* --------------------------------------------------------------- state */

struct wgnl_health_peer_state {
	wgnl_key public_key;
	uint64_t rx_bytes, tx_bytes; /* counters seen at the last check */
	int64_t last_handshake_ms;   /* 0 never */
	uint8_t verdict;	     /* enum wgnl_health_verdict */
	uint32_t reasons;
	uint32_t consecutive_bad; /* the peer's own policy, as the interface's */
	uint32_t attempt;
	int64_t next_attempt_ms;
};

/* What survives between runs, per interface. All times ms since the epoch. */
struct wgnl_health_state {
	int64_t last_check_ms; /* 0: never checked */
	uint8_t verdict;       /* enum wgnl_health_verdict of the last check */
	uint32_t reasons;
	uint32_t consecutive_bad;  /* checks in a row that were not Healthy/Idle */
	uint32_t attempt;	   /* remedies done in this round */
	int64_t next_attempt_ms;   /* no remedy before this */
	int64_t cooldown_until_ms; /* 0: not cooling down */
	int64_t last_remedy_ms;	   /* 0: none pending verification */
	bool last_remedy_failed;   /* the last remedy's command failed */
	bool underlay_down;	   /* we took the tunnel down for the underlay */
	uint64_t remedies_total;
	struct wgnl_health_peer_state *peers; /* owned, n_peers entries */
	size_t n_peers;
};

/* Zero @st (freeing its peers). NULL-safe. */
void wgnl_health_state_clear(struct wgnl_health_state *st);
/* Parse state file text. On success @st (cleared first) holds it. Returns
 * 0, -EBADMSG (corrupt, truncated, wrong version: @st left cleared) or
 * -ENOMEM. */
int wgnl_health_state_parse(const char *text, size_t len, struct wgnl_health_state *st);
/* Format @st as state file text into *ret (NUL-terminated; the caller frees
 * it with wgnl_free()). Returns the length or -ENOMEM. */
int wgnl_health_state_format(const struct wgnl_health_state *st, char **ret);
/* Load @path. Returns 0, -ENOENT (no file: @st cleared), -EBADMSG
 * (corrupt: @st cleared; the caller reports it and overwrites the file on
 * save), or another -errno. */
int wgnl_health_state_load(const char *path, struct wgnl_health_state *st);
/* Write @st to @path atomically: a new 0600 temporary file in the same
 * directory (mkstemp: never an existing file or a symlink), fsync, rename.
 * Returns 0 or -errno. */
int wgnl_health_state_save(const char *path, const struct wgnl_health_state *st);
/* Take an exclusive, non-blocking flock on @path (created 0600; a symlink
 * is refused with -ELOOP), so that two overlapping runs never both act. *fd
 * receives the descriptor (close it to release). Returns 0, -EWOULDBLOCK
 * (held by another run) or -errno. */
int wgnl_health_lock(const char *path, int *fd);

/* ------------------------------------------------------------- verdicts */

struct wgnl_health_peer_obs {
	wgnl_key public_key;
	int64_t last_handshake_ms; /* 0 never; outside 0..WGNL_HEALTH_TIME_MAX_MS: never */
	uint64_t rx_bytes, tx_bytes;
	uint16_t keepalive; /* persistent keepalive, s; 0 off */
};

/* The latest time the health code accepts, ms since the epoch
 * (9999-12-31T23:59:59Z). */
#define WGNL_HEALTH_TIME_MAX_MS 253402300799999LL

/* A handshake time as observed (struct wgnl_peer.last_handshake) in ms since
 * the epoch for wgnl_health_peer_obs: 0 (never) for {0,0}, a negative time
 * or one past WGNL_HEALTH_TIME_MAX_MS, so that a backend's garbage can
 * neither overflow the conversion nor reach the state file. */
int64_t wgnl_health_time_ms(const struct timespec *ts);

/* One look at a tunnel. */
struct wgnl_health_obs {
	bool present; /* the interface exists and could be read */
	bool up;      /* it is administratively up */
	const struct wgnl_health_peer_obs *peers;
	size_t n_peers;
	uint32_t ping_sent; /* 0: no ping configured/run */
	uint32_t ping_received;
	uint64_t ping_rtt_ns; /* mean over the replies */
	int underlay;	      /* -1 not checked, 0 down, 1 up */
};

struct wgnl_health_peer_result {
	wgnl_key public_key;
	enum wgnl_health_verdict verdict;
	uint32_t reasons;
	int64_t handshake_age_ms; /* -1: never */
	uint64_t rx_delta, tx_delta;
	bool have_delta;		       /* a previous sample existed and was comparable */
	bool critical;			       /* named in critical_peers (or all_critical) */
	enum wgnl_health_verdict prev_verdict; /* UNKNOWN: not seen by the last check */
	/* The peer's policy (wgnl_health_decide()): a peer Degraded
	 * disconnect_after checks in a row is Disconnected (degraded_persistent)
	 * and, when it has a persistent keepalive (we keep it up), gets a
	 * per-peer remedy (action REMEDY: set its endpoint again) with the
	 * interface's backoff, retries and cooldown. */
	uint32_t consecutive_bad, attempt;
	int64_t next_attempt_ms;
	uint8_t action; /* enum wgnl_health_action */
};

struct wgnl_health_result {
	enum wgnl_health_verdict verdict;
	uint32_t reasons;
	int64_t newest_handshake_ms;	       /* over all peers, 0 never */
	struct wgnl_health_peer_result *peers; /* owned, n_peers entries, in @obs order */
	size_t n_peers;
	size_t n_healthy, n_unhealthy, n_idle; /* peers by verdict */
};

/* Judge @obs at @now_ms against the previous state @prev (counters, time of
 * the last check; may be NULL). Per peer: handshake older than the
 * threshold (or never) while the peer has a keepalive or sent traffic ->
 * Degraded (handshake_stale / handshake_never); no keepalive and no traffic
 * -> Idle; tx rising beyond what keepalives explain while rx stays flat and
 * no handshake happened since the last check -> Degraded (rx_stalled). The
 * tunnel: missing/down or underlay down -> Disconnected; probe loss ->
 * Degraded; a critical peer not healthy -> Degraded (critical_peer and its
 * reasons); too few healthy peers by min_healthy_peers / max_unhealthy_pct
 * -> Degraded (peers_unhealthy and theirs); else Healthy, or Idle when no
 * peer is healthy or unhealthy. One dead peer among many is reported on
 * the peer, not on the tunnel.
 * This does not apply the consecutive-check or remedy rules: see
 * wgnl_health_decide(). Fills @out (free with wgnl_health_result_clear()).
 * Returns 0, -EINVAL (@s->size not set) or -ENOMEM. */
int wgnl_health_evaluate(const struct wgnl_health_settings *s, const struct wgnl_health_state *prev,
			 const struct wgnl_health_obs *obs, int64_t now_ms,
			 struct wgnl_health_result *out);
/* Free what @r owns and zero it. NULL-safe. */
void wgnl_health_result_clear(struct wgnl_health_result *r);

/* --------------------------------------------------------------- policy */

/* The delay before remedy attempt @attempt + 1, after attempt @attempt
 * (1-based): retry_interval * 2^(attempt-1), capped at backoff_max, plus
 * jitter: @rnd / 2^32 of jitter_pct % of that. 0 for attempt 0 (and for
 * settings whose size is not set). Never overflows, whatever @attempt. */
uint64_t wgnl_health_backoff_ms(const struct wgnl_health_settings *s, uint32_t attempt,
				uint32_t rnd);

enum wgnl_health_remedy {
	WGNL_HEALTH_REMEDY_NONE = 0,
	WGNL_HEALTH_REMEDY_RERESOLVE, /* "reresolve": resolve the endpoint names again, set them */
	WGNL_HEALTH_REMEDY_RESET_ENDPOINT, /* "reset_endpoint": set the endpoints even if unchanged */
	WGNL_HEALTH_REMEDY_MOVE_PORT,	   /* "move_port": a new listen port (new NAT mapping) */
	WGNL_HEALTH_REMEDY_RESTART,	   /* "restart": restart command, or down + up */
	WGNL_HEALTH_REMEDY_TUNNEL_DOWN,	   /* "tunnel_down": the underlay is down */
	WGNL_HEALTH_REMEDY_TUNNEL_UP,	   /* "tunnel_up": the underlay is back */
	WGNL_HEALTH_REMEDY_LINK_UP,	   /* "link_up": set an interface that is down up */
};
/* "reresolve", "reset_endpoint", ... ; "none". */
const char *wgnl_health_remedy_name(enum wgnl_health_remedy r);
/* The remedy for 1-based attempt @attempt of a round: 1 re-resolve (which
 * goes on to reset the endpoint when nothing changed), 2 move the port,
 * 3 and later restart. A missing interface is always restarted.
 * (wgnl_health_decide() makes attempt 1 "link_up" for an interface that is
 * down.) */
enum wgnl_health_remedy wgnl_health_remedy_for_attempt(uint32_t attempt, bool interface_missing);

/* Whether the move_port remedy may change the listen port of the interface
 * configured by @cfg (its wg_config): only when the config leaves the port
 * unset (random) and the interface initiates (every peer has an endpoint, a
 * client), since peers of a server name its port in their Endpoint. NULL
 * (no config: unknown) is "no". *why (may be NULL) receives a static
 * explanation when the answer is no. */
bool wgnl_health_may_move_port(const struct wgnl_device *cfg, const char **why);

enum wgnl_health_action {
	WGNL_HEALTH_ACT_NONE = 0, /* healthy, idle, or only degraded so far */
	WGNL_HEALTH_ACT_REMEDY,	  /* run decision.remedy now */
	WGNL_HEALTH_ACT_WAIT,	  /* backing off until decision.next_attempt_ms */
	WGNL_HEALTH_ACT_COOLDOWN, /* cooling down until decision.next_attempt_ms */
};

struct wgnl_health_decision {
	enum wgnl_health_action action;
	enum wgnl_health_remedy remedy; /* with ACT_REMEDY */
	uint32_t attempt;		/* 1-based attempt number of the remedy */
	int64_t next_attempt_ms;
	bool entered_cooldown;	/* this check started a cooldown */
	bool recovered;		/* healthy again after remedies or cooldown */
	size_t n_peer_remedies; /* peers with action REMEDY in the result */
	bool changed;		/* verdict or reasons differ from the last check */
	enum wgnl_health_verdict prev_verdict;
	uint32_t prev_reasons;
};

/* Apply the policy to the result of one check and update @st for the next
 * run: consecutive failures (Degraded @disconnect_after times in a row ->
 * Disconnected, degraded_persistent), reconnect_timeout / reconnect_failed
 * after a remedy, the underlay rule (take the tunnel down once, bring it
 * back under the retry policy), remedies with backoff, the cooldown once
 * max_retries are spent, and the reset on recovery. @res->verdict/reasons
 * may be raised. Peer counters and the check time are stored in @st.
 * Times in @st later than @now_ms plus their configured maximum (a backward
 * clock step, an edited state file) are first clamped to that maximum, so
 * no wait outlasts the settings. While the tunnel is fine, each peer gets
 * the same rules on its own (wgnl_health_peer_result: verdict raised to
 * Disconnected, action REMEDY for a peer with a keepalive; the count in
 * @out->n_peer_remedies; the caller sets those peers' endpoints again).
 * @rnd feeds the jitter. Returns 0, -EINVAL (@s->size not set) or -ENOMEM. */
int wgnl_health_decide(const struct wgnl_health_settings *s, struct wgnl_health_state *st,
		       struct wgnl_health_result *res, const struct wgnl_health_obs *obs,
		       int64_t now_ms, uint32_t rnd, struct wgnl_health_decision *out);
/* Record how the remedy of @d went (the command's success), so the next
 * check reports reconnect_failed, and a successful tunnel_up ends the
 * underlay wait. */
void wgnl_health_remedy_done(struct wgnl_health_state *st, const struct wgnl_health_decision *d,
			     bool ok);

/* ------------------------------------------------------------ one check */

/* Observing a tunnel, running the remedies and one whole check: the part a
 * daemon runs on a timer (wghealth check/daemon, the gateway). These touch
 * the device, the network and the state directory; they never print and
 * never fork: what runs a command or a wg-quick down/up is a callback. */

/* What one remedy did, for the report and the history. */
struct wgnl_health_remedy_log {
	char name[24];	  /* wgnl_health_remedy_name() */
	bool ok;	  /* it worked */
	bool skipped;	  /* not applicable here: nothing done */
	char detail[256]; /* for people: what was set, which command, why not */
};
#define WGNL_HEALTH_MAX_REMEDY_LOG 4
#define WGNL_HEALTH_MAINT_PATH_MAX 4096

/* One check of one interface. The caller owns the struct; the library owns
 * what it points to (free with wgnl_health_check_clear()). */
struct wgnl_health_check {
	char ifname[WGNL_IFNAMSIZ];
	struct wgnl_health_settings s;	   /* the settings it ran with */
	struct wgnl_health_state st;	   /* the state after the check, as saved */
	struct wgnl_health_obs obs;	   /* obs.peers points into pobs */
	struct wgnl_health_peer_obs *pobs; /* owned */
	struct wgnl_device *dev;	   /* owned: the device as observed, or NULL */
	uint16_t listen_port;		   /* as observed */
	char underlay_why[96];		   /* why the URL check failed, "" */
	int ping_error;			   /* -errno when the pings could not be sent, else 0 */
	struct wgnl_health_result res;
	struct wgnl_health_decision d;
	int64_t now_ms;	       /* when it was judged */
	bool unknown;	       /* could not check: unknown_why says why */
	char unknown_why[256]; /* e.g. "cannot read 'wg0': ..." */
	int lock_error;	       /* -errno of the lock (-EWOULDBLOCK: held by another run) */
	int state_load;	       /* wgnl_health_state_load(): 0, -ENOENT, -EBADMSG, ... */
	int state_save;	       /* wgnl_health_state_save() when saved, else 0 */
	bool state_corrupt;    /* the state file was corrupt: replaced */
	bool maintenance;      /* STATE_DIR/IF.maintenance exists: left alone */
	char maint_path[WGNL_HEALTH_MAINT_PATH_MAX];
	bool never_existed; /* missing, no state, nothing could create it: nothing kept */
	struct wgnl_health_remedy_log rem[WGNL_HEALTH_MAX_REMEDY_LOG];
	size_t n_rem;
};

/* How a check runs (a sized struct: .size = sizeof, see wgnl.h). */
struct wgnl_health_step_opts {
	size_t size;
	const struct wgnl_health_settings *settings; /* required */
	const char *state_dir; /* required: IF.state, IF.lock, IF.maintenance */
	bool read_only;	       /* judge and report only: no lock, no remedy, no state */
	uint32_t lock_wait_ms; /* wait this long for another run's lock */
	/* Run a configured shell command (restart_command, down_command,
	 * up_command). 0 when it succeeded. NULL: such remedies fail. */
	int (*command)(const char *cmd, void *arg);
	/* One half of a restart of the wg-quick config @conf of @ifname: take
	 * the tunnel down (@up false) or bring it up; also alone for the
	 * underlay rule. 0 when it succeeded. NULL: such remedies fail. */
	int (*restart)(struct wgnl_ctx *ctx, const char *ifname, const char *conf, bool up,
		       void *arg);
	/* Called with the finished check before its state is saved, under the
	 * lock (the history). May be NULL. */
	void (*record)(const struct wgnl_health_check *c, void *arg);
	void *arg; /* for the callbacks */
};

/* Look at @c->ifname with the settings @c->s (the caller zeroes @c and sets
 * those two): the underlay URL, the link, the device and its peers, and a
 * ping through the tunnel when it is up. A missing interface (or one that
 * is not WireGuard) is an observation (obs.present false), not an error.
 * Fills obs, pobs, dev, listen_port, underlay_why, ping_error. Returns 0 or
 * -errno when the tunnel could not be looked at (-ENOMEM, the backend's;
 * -EINVAL when @c->s.size is not set). */
int wgnl_health_observe(struct wgnl_ctx *ctx, struct wgnl_health_check *c);
/* Act on the decision @c->d of an observed and judged check: the remedy of
 * an ACT_REMEDY decision (recorded in @c->st with wgnl_health_remedy_done())
 * and the per-peer remedies, each logged in @c->rem. @o gives the
 * callbacks. Returns 0 or -EINVAL (bad @o). */
int wgnl_health_remedy_run(struct wgnl_ctx *ctx, struct wgnl_health_check *c,
			   const struct wgnl_health_step_opts *o);
/* One check of @ifname: maintenance file, lock (waiting lock_wait_ms),
 * state load, observe, evaluate, decide, remedies, o->record, state save.
 * @c (owned by the caller) is filled; a check that could not be done is
 * c->unknown with its reason, not an error. Free with
 * wgnl_health_check_clear(). Returns 0, or -EINVAL (bad options, settings
 * whose size is not set, or a bad interface name). */
int wgnl_health_check_step(struct wgnl_ctx *ctx, const char *ifname,
			   const struct wgnl_health_step_opts *o, struct wgnl_health_check *c);
/* Free what @c owns and zero it. NULL-safe. */
void wgnl_health_check_clear(struct wgnl_health_check *c);

/* ------------------------------------------------------------ fast failover */

/* Fast failover for anycast peers (wghealth failover): a client whose
 * gateway node vanished keeps sending into the void until WireGuard's own
 * handshake timeout, about 15 s. When a peer's rx has not grown for
 * stall_ms while its tx grew by more than min_tx_bytes, the peer is set
 * again (removed, then added back with the same endpoint, allowed IPs,
 * keepalive and preshared key): that drops its session on the kernel and
 * on wireguard-go, and the next packet starts a fresh handshake to
 * whichever node holds the address now. One-way traffic with no reply is
 * re-keyed once per holdoff_ms; raise it for such peers. */
struct wgnl_health_failover_settings {
	size_t size;	     /* sizeof(struct wgnl_health_failover_settings) */
	uint32_t stall_ms;   /* rx flat this long while tx grows; default 1500 */
	uint32_t holdoff_ms; /* at least this long between two kicks of a peer; default 1500 */
	uint64_t min_tx_bytes; /* tx growth that is traffic, not keepalives (32 bytes each); default 100 */
};
/* Fill @s with the defaults (size set). */
void wgnl_health_failover_settings_default(struct wgnl_health_failover_settings *s);

/* One peer's tracking state for wgnl_health_failover_peer_step(); zero it
 * to start. */
struct wgnl_health_failover_peer {
	wgnl_key public_key;
	bool seen;	    /* observed at least once */
	uint64_t rx, tx;    /* as last observed */
	uint64_t tx_base;   /* tx when rx last grew (or at the last kick) */
	int64_t rx_grew_ms; /* when rx last grew, tracking began, or the last kick */
	int64_t kicked_ms;  /* the last kick, 0: never */
	uint32_t kicks;
};
/* Feed one observation of a peer's counters at @now_ms (pure). Counters
 * that went down (the peer was set again) restart the tracking. Returns
 * true when the peer should be set again now; the kick is then counted in
 * @p. False for a size-0 @s. */
bool wgnl_health_failover_peer_step(const struct wgnl_health_failover_settings *s,
				    struct wgnl_health_failover_peer *p, uint64_t rx, uint64_t tx,
				    int64_t now_ms);

/* What one kick did, for the caller's log line. */
struct wgnl_health_failover_kick {
	wgnl_key public_key;
	int64_t stalled_ms; /* how long rx had been flat */
	uint64_t tx_grown;  /* bytes sent meanwhile */
	int error;	    /* 0, or -errno of the set */
};
typedef void (*wgnl_health_failover_cb)(const struct wgnl_health_failover_kick *k, void *arg);

struct wgnl_health_failover; /* opaque: the tracking of one interface's peers */
/* A tracker with a copy of @s. *ret is NULL on failure. Returns 0, -EINVAL
 * (@s->size not set) or -ENOMEM. Free with wgnl_health_failover_free(). */
int wgnl_health_failover_new(const struct wgnl_health_failover_settings *s,
			     struct wgnl_health_failover **ret);
/* NULL-safe. */
void wgnl_health_failover_free(struct wgnl_health_failover *f);
/* One round on @ifname at @now_ms (CLOCK_MONOTONIC): read the device, step
 * every peer that has an endpoint (the initiating side), set the stalled
 * ones again (one set removing them, one adding them back) and call @cb
 * (may be NULL) once per kick. Peers gone from the device are forgotten.
 * Returns the number of peers kicked, or -errno of the read (-ENODEV: no
 * such interface) or -ENOMEM. */
int wgnl_health_failover_run(struct wgnl_ctx *ctx, struct wgnl_health_failover *f,
			     const char *ifname, int64_t now_ms, wgnl_health_failover_cb cb,
			     void *arg);

WGNL_DECLS_END
#endif
