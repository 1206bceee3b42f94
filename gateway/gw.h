/* SPDX-License-Identifier: MIT */
/*
 * wg-gatewayd: the types the daemon's parts share (docs/wg-gatewayd.8,
 * docs/architecture.md). The main loop (main.c) is single-threaded: it
 * polls the source's fd, a signalfd and a timerfd, applies (apply.c),
 * evaluates readiness (gw_ready_eval) and refreshes the anycast addresses
 * (gw_anycast_refresh) only while ready. The HTTP server and the STUN server
 * run in their own threads and read the metrics only through
 * gw_metrics_snapshot() (a copy taken under the mutex).
 *
 * Owners: core (conf.c, main.c, source.c, dirsource.c, apply.c, notify.c),
 * edge (http.c, metrics.c, ready.c, stun.c, anycast.c), pg (pgsource.c).
 */
#ifndef WGK_GATEWAY_GW_H
#define WGK_GATEWAY_GW_H

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_sync.h"

#define GW_DEFAULT_CONF "/etc/wgkit/gateway.conf"
#define GW_MAX_ANYCAST 16
#define GW_MAX_STUN 16
#define GW_LISTEN_LEN 64

struct gw;
struct gw_source;
struct gw_sink;

/* ------------------------------------------------------------ config */

enum gw_source_kind {
	GW_SOURCE_DIRECTORY = 0,
	GW_SOURCE_POSTGRESQL,
};

/* gateway.conf, parsed (conf.c). Defaults are set by gw_conf_parse(). */
struct gw_conf {
	char path[PATH_MAX]; /* the config file itself */

	/* [Interface] */
	char ifname[WGNL_IFNAMSIZ];
	wgnl_key private_key;			   /* wiped by gw_conf_clear() */
	char private_key_file[PATH_MAX];	   /* "" unless PrivateKeyFile */
	char private_key_credential[NAME_MAX + 1]; /* "" unless PrivateKeyCredential */
	uint16_t listen_port;			   /* default 51820 */
	enum wgnl_backend_kind backend;		   /* meaningful when !backend_auto */
	bool backend_auto;			   /* Backend = auto (default) */

	/* [Registry] */
	enum gw_source_kind source;
	char source_name[16];	      /* "directory", "postgresql" */
	char registry_path[PATH_MAX]; /* directory source: a file or a folder */
	char *conninfo;		      /* postgresql source (owned; may hold a password) */
	unsigned full_reread_s;	      /* default 300 */
	unsigned stale_s;	      /* default 30 */
	unsigned start_wait_s;	      /* READY=1 without a registry read after it; 0: never */

	/* [Apply] */
	unsigned drift_check_s; /* default 60; 0: off */
	/* A batch that would shrink the device by more than this share of
	 * its peers (and by more than GW_REMOVE_FLOOR) is refused; 100: no
	 * guard. */
	uint32_t max_shrink_pct; /* default 50 */

	/* [Anycast] */
	struct wgnl_prefix anycast[GW_MAX_ANYCAST]; /* /32 and /128 only */
	size_t n_anycast;
	char anycast_link[WGNL_IFNAMSIZ]; /* default "lo" */
	unsigned lifetime_s;		  /* default 3 */
	unsigned drain_s;		  /* default 5 */

	/* [Stun] Listen: as written and parsed */
	char stun_listen[GW_MAX_STUN][GW_LISTEN_LEN];
	union wgnl_endpoint stun_ep[GW_MAX_STUN];
	size_t n_stun;

	/* [Http] Listen ("" and has_http false: no HTTP server) */
	char http_listen[GW_LISTEN_LEN];
	union wgnl_endpoint http_ep;
	bool has_http;

	/* Edge and pg add their fields below, one line each. */
};

/* Parse gateway config @path into @c. On failure returns -errno
 * (-EINVAL: bad content, -EACCES/-EPERM: key file refused, or the read's
 * error) and writes one line "file:line: key: why" (no key material) into
 * @err. Reads the private key (PrivateKeyFile or
 * $CREDENTIALS_DIRECTORY/PrivateKeyCredential). Free with gw_conf_clear(). */
int gw_conf_parse(struct gw_conf *c, const char *path, char *err, size_t errlen);
/* The same from text @buf (@len bytes + 1 writable byte), named @path in
 * errors; for tests and the fuzz harness. @env_creds: $CREDENTIALS_DIRECTORY
 * (NULL: read the environment). */
int gw_conf_parse_text(struct gw_conf *c, const char *path, char *buf, size_t len,
		       const char *env_creds, char *err, size_t errlen);
/* Wipe the key, free what @c owns, zero it. NULL-safe. */
void gw_conf_clear(struct gw_conf *c);

/* ------------------------------------------------------------ sources */

/* One desired peer as a source reports it. */
struct gw_row {
	int64_t id;		/* registry row id (0 for the directory source) */
	int64_t change_id;	/* monotonically increasing; directory source: its own generation */
	bool removed;		/* tombstone / disabled */
	struct wgnl_peer *peer; /* public key, allowed IPs, optional preshared key (borrowed) */
};

/* Implemented by the apply engine (apply.c). A source calls these from its
 * full/poll/tick; the engine batches what it gets and applies it in one set
 * after the call returns. */
struct gw_sink {
	void (*row)(struct gw_sink *, const struct gw_row *);
	/* a skipped row, logged + counted; @why names file:line: key: why or
	 * the row's field, never key material */
	void (*bad)(struct gw_sink *, int64_t id, const char *why);
	void (*full_begin)(struct gw_sink *); /* a full read starts: unseen peers will go */
	void (*full_end)(struct gw_sink *, int64_t change_id);
	/* every change up to @change_id_known was handed over (bad rows
	 * included): applied with this batch */
	void (*position)(struct gw_sink *, int64_t change_id_known);
	/* During a full read: the peer with public key @pub stays as it is
	 * (a source that did not read it again, or whose file did not parse). */
	void (*keep)(struct gw_sink *, const uint8_t *pub);
	/* A full read that failed half way, called instead of full_end: keep
	 * every peer as it was (the marks of full_begin are forgotten). */
	void (*full_abort)(struct gw_sink *);
	/* Whether the desired set holds the peer with public key @pub (may be
	 * NULL: a source then never hands over a delta it cannot check). */
	bool (*has)(struct gw_sink *, const uint8_t *pub);
	/* Apply what was handed over now, before the source's own
	 * bookkeeping (the loop applies whatever is left after the tick). */
	void (*flush)(struct gw_sink *);
};

struct gw_source_ops {
	const char *name; /* "directory", "postgresql" */
	int (*open)(struct gw_source **, const struct gw_conf *, char *err, size_t errlen);
	int (*fd)(struct gw_source *); /* poll() for POLLIN; -1 while disconnected */
	int (*full)(struct gw_source *, struct gw_sink *); /* full read */
	int (*poll)(struct gw_source *, struct gw_sink *); /* fd readable: new rows only */
	int (*tick)(struct gw_source *, struct gw_sink *, int64_t now_ms); /* reconnect/backoff;
									      returns next wake-up in
									      ms (-1: none) */
	bool (*connected)(struct gw_source *);
	int64_t (*last_ok_ms)(struct gw_source *); /* last successful contact (CLOCK_MONOTONIC ms) */
	void (*close)(struct gw_source *);
	uint64_t (*reconnects)(struct gw_source *); /* successful reconnections; may be NULL (0) */
	/* The identity of the content the source holds (may be NULL: none):
	 * @now, as it stands before any read (start-up); else as last handed
	 * over. 0, or -EAGAIN when it cannot say. Two equal ids name content
	 * that gives the same peers. */
	int (*content_id)(struct gw_source *, bool now, uint64_t id[2]);
};

/* source.c: the registry of sources by name, NULL when unknown. */
const struct gw_source_ops *gw_source_find(const char *name);
extern const struct gw_source_ops gw_dirsource_ops; /* dirsource.c */
extern const struct gw_source_ops gw_pgsource_ops;  /* pgsource.c */
/* `wg-gatewayd migrate`: create or migrate the PostgreSQL schema (pgsource.c).
 * 0 or -errno with one line in @err. */
int gw_pg_migrate(const struct gw_conf *c, char *err, size_t errlen);

/* ------------------------------------------------------------ metrics */

/* Peers any batch may take away, whatever MaxShrinkPercent says (a small
 * registry can still shrink). */
#define GW_REMOVE_FLOOR 10

/* Bounds of wgkit_gateway_apply_seconds. */
#define GW_APPLY_BUCKETS 11
extern const double gw_apply_bounds[GW_APPLY_BUCKETS];

/* What /metrics and /readyz show; the main loop writes it, others copy it. */
struct gw_snapshot {
	bool ready, announced;
	uint64_t desired_peers, applied_peers;
	int64_t change_id_applied, change_id_known;
	uint64_t apply_counts[GW_APPLY_BUCKETS + 1]; /* per bucket, last: above the last bound */
	double apply_sum;
	uint64_t apply_count;
	bool registry_up;
	int64_t registry_last_ok_ms; /* CLOCK_MONOTONIC ms; 0: never */
	uint64_t registry_reconnects_total;
	uint64_t bad_rows_total;
	uint64_t drift_repairs_total;
	uint64_t peers_handshake_recent;
	uint64_t stun_requests_total, stun_answered_total, stun_dropped_total;
	int64_t loop_ms; /* CLOCK_MONOTONIC ms of the main loop's last turn (/healthz) */
	bool link_up;	 /* WireGuard link up and listening on ListenPort */
	/* One reason per line when !ready, "" when ready. */
	char not_ready[512];

	/* Edge and pg add their fields below, one line each. */
	bool applied_once;	      /* edge: the start-up plan ran (apply.c sets it; /readyz) */
	bool apply_held;	      /* a batch refused by MaxShrinkPercent waits */
	uint64_t apply_refused_total; /* batches refused by it */
};

struct gw_metrics {
	pthread_mutex_t lock;
	struct gw_snapshot s; /* guarded by lock */
};

/* Copy the snapshot under the lock (any thread). */
void gw_metrics_snapshot(struct gw_metrics *m, struct gw_snapshot *out);

/* ------------------------------------------------------------ the daemon */

struct gw_apply; /* apply.c */

struct gw {
	struct gw_conf conf;
	struct wgnl_ctx *ctx; /* main thread only */
	const struct gw_source_ops *src_ops;
	struct gw_source *src;
	struct gw_apply *apply;
	struct gw_metrics metrics;

	/* Main-loop state (main thread only; copied into metrics.s each turn). */
	struct gw_snapshot now;
	bool draining;

	/* Edge's private state (http.c, stun.c, anycast.c). */
	void *http;
	void *stun;
	void *anycast;
};

/* CLOCK_MONOTONIC in ms. */
int64_t gw_now_ms(void);
/* FNV-1a of @n bytes at @p, continuing from @h (0xcbf29ce484222325 to
 * start): the state file's check, the directory source's content id. */
uint64_t gw_fnv1a(uint64_t h, const void *p, size_t n);
/* Milliseconds since @t0 (CLOCK_MONOTONIC). */
double gw_elapsed_ms(const struct timespec *t0);
/* One log line on stderr: "level: what key=value ...". */
void gw_log(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ edge hooks */
/* Called from the main thread. Start: 0 or -errno (the daemon exits 5). */
/* Load libmicrohttpd when [Http] Listen is set (a no-op otherwise, and once
 * loaded): before anything is changed, so a missing library changes nothing.
 * 0, or -ELIBACC with one line in @err. gw_http_start() loads it too. */
int gw_http_load(const struct gw *gw, char *err, size_t errlen);
int gw_http_start(struct gw *gw);
void gw_http_stop(struct gw *gw);
int gw_stun_start(struct gw *gw);
void gw_stun_stop(struct gw *gw);
/* True when STUN answered a self-probe within the last 10 s, or when no
 * [Stun] is configured. */
bool gw_stun_ok(struct gw *gw);
/* Add/refresh the anycast addresses with valid_lft = LifetimeSeconds (only
 * while ready; the main loop calls it every LifetimeSeconds/3). 0 or -errno. */
int gw_anycast_refresh(struct gw *gw);
/* Remove the anycast addresses now (not ready, drain). */
void gw_anycast_withdraw(struct gw *gw);
/* Set gw->now.ready and gw->now.not_ready from gw->now and the source
 * (ready.c). */
void gw_ready_eval(struct gw *gw, int64_t now_ms);

/* ------------------------------------------------------------ core */
/* loop.c: run the daemon with config @conf_path; the exit code. */
int gw_run(const char *conf_path);
/* apply.c */
int gw_apply_new(struct gw *gw, struct gw_apply **ret);
void gw_apply_free(struct gw_apply *a);
struct gw_sink *gw_apply_sink(struct gw_apply *a);
/* Send what the sink collected in ONE set (nothing when nothing changed).
 * At start-up (first call): ONE plan against the running device. 0 or -errno. */
int gw_apply_flush(struct gw_apply *a);
/* Start reading the running device in a thread (the start-up check of
 * gw_apply_flush()), before the first full read of the source. */
void gw_apply_prefetch(struct gw_apply *a);
/* Dump digest vs desired digest; plan + apply on mismatch. 1 repaired,
 * 0 in step, -errno. */
int gw_apply_drift_check(struct gw_apply *a);
/* The next flush plans against the device (it was made again). */
void gw_apply_replan(struct gw_apply *a);
/* Start from the state file (state.c) when there is one and it names the
 * content the source holds now (its content_id): the set is then not read
 * yet, and the first flush is in step when the device has the digest the
 * file holds (else it drops the assumption and returns -EAGAIN: the caller
 * reads the source in full). True when assumed. */
bool gw_apply_assume(struct gw_apply *a);
bool gw_apply_assumed(const struct gw_apply *a);
/* After a flush: write the state file (the source's content id, the set's
 * digest) when the device is in step with the set and it changed since the
 * last write. */
void gw_apply_save_state(struct gw_apply *a);

/* ------------------------------------------------------------ state file */

/* What the state file holds (state.c). */
struct gw_state {
	uint64_t id[2];		     /* the source's content id */
	struct wgnl_sync_digest sum; /* wgnl_peerset_peers_digest() of it */
	uint64_t n;		     /* its peers */
};
/* 0, -ENOENT, or -EINVAL (not this version's or this interface's, torn). */
int gw_state_load(const char *ifname, struct gw_state *st);
/* Write it whole (0600) and rename it into place. 0 or -errno. */
int gw_state_save(const char *ifname, const struct gw_state *st);
void gw_state_forget(const char *ifname);

/* notify.c: sd_notify by hand. 0 when sent or no $NOTIFY_SOCKET, -errno. */
int gw_notify(const char *state);
/* $WATCHDOG_USEC / 2 in ms, 0 when no watchdog is asked for. */
int64_t gw_watchdog_interval_ms(void);

#endif
