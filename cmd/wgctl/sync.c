// SPDX-License-Identifier: MIT
/* wgctl sync: make an interface match a file while sending only what
 * differs (wgnl_sync_plan), keeping endpoints that peers roamed to, and for
 * a wg-quick config also its addresses, MTU and routes. The desired state
 * applied last is recorded (without keys) so that the next run can tell a
 * changed Endpoint line from a roamed peer. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compat.h"
#include <sodium.h>

#include <wgkit/wgnl_sync.h>

#include "quick.h"
#include "wgctl.h"
#include "syncprint.h"

/* The plan of a file that is no wg-quick config: nothing around the device. */
static const struct wgnl_quick_plan no_quick;

struct sync_opts {
	const char *ifname, *path, *state_dir;
	bool plan_only, plan_text, detailed, stats, no_state;
	/* The file `wgctl up` brought this interface up from: a wg-quick
	 * config whatever keys it holds (routes and policy routing follow it,
	 * as down + up would), and never a fast or incremental path. */
	bool up_file;
	unsigned flags; /* wgnl_sync_config_flags */
	struct wgctl_limits limits;
};

/* Record and config files are read whole, to EOF (a config may come from a
 * pipe), up to this size. */
#define SYNC_MAX_FILE (256U << 20)

/* -------------------------------------------------------------- wg-quick */

/* ------------------------------------------------------------- the command */

static void sync_help(void)
{
	printf("Usage: wgctl sync [--plan[=text]] [--detailed-exitcode] [--stats] [--state-dir DIR]\n"
	       "                  [--no-state] [--allow-empty] [--wait SECONDS]\n"
	       "                  [--max-remove N] [--max-change PCT]\n"
	       "                  <interface> <config file>\n"
	       "Make the interface match the file, sending only what differs: new peers,\n"
	       "removed peers, and for changed peers only the changed fields (allowed IPs\n"
	       "as additions and removals where the kernel can remove one, else the\n"
	       "peer's list replaced). An Endpoint is sent only when the file's endpoint\n"
	       "changed since the last sync (recorded in DIR, default /var/lib/wgkit/sync\n"
	       "or $WGCTL_STATE_DIR), so endpoints peers roamed to survive. For a wg-quick\n"
	       "config (Address, MTU, Table or DNS present) addresses, MTU, routes and the\n"
	       "policy routing of a default route are synced too.\n"
	       "  --plan               print the plan as JSON, change nothing\n"
	       "  --plan=text          print the plan for people, change nothing\n"
	       "  --max-remove N       refuse (exit 2, nothing applied) a plan removing\n"
	       "                       more than N peers\n"
	       "  --max-change PCT     refuse a plan adding, removing or updating more\n"
	       "                       than PCT percent of the running peers\n"
	       "  --detailed-exitcode  exit 0 when nothing changed, 2 when something did,\n"
	       "                       1 on any error\n"
	       "  --stats              netlink messages sent and the path taken (fast,\n"
	       "                       incremental, full), on stderr (and in --json)\n"
	       "  --no-state           neither read nor write the record\n"
	       "  --allow-empty        apply a file that holds nothing (else refused: it\n"
	       "                       would remove every peer and the private key)\n"
	       "  --wait SECONDS       wait that long for another wgctl on the interface\n"
	       "                       (default 10)\n"
	       "The file is read once, to its end: a pipe, /dev/stdin or <(...) works.\n");
}

static int parse_args(int argc, char **argv, struct sync_opts *o)
{
	static const struct option opts[] = {
		{ "plan", optional_argument, NULL, 'p' },
		{ "detailed-exitcode", no_argument, NULL, 'd' },
		{ "stats", no_argument, NULL, 's' },
		{ "no-state", no_argument, NULL, 'n' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int rc, c, i;

	memset(o, 0, sizeof(*o));
	rc = wgctl_limit_opts("sync", &argc, argv, &o->limits);
	if (rc)
		return rc;
	optind = 1;
	opterr = 0;
	/* Long options only, each spelled out in full (no abbreviations). */
	while ((c = getopt_long(argc, argv, ":", opts, &i)) != -1) {
		/* The option's own word (its argument may be the next one). */
		const char *arg = argv[optind - (optarg && optarg == argv[optind - 1] ? 2 : 1)];

		if (c == ':')
			return wgctl_usage("sync", "--state-dir needs a directory");
		if (c == '?' && strncmp(arg, "--", 2))
			return wgctl_usage("sync", "unknown option '-%c'", optopt);
		if (c == '?' || strncmp(arg + 2, opts[i].name, strlen(opts[i].name)) ||
		    (arg[2 + strlen(opts[i].name)] != '\0' && arg[2 + strlen(opts[i].name)] != '='))
			return wgctl_usage("sync", "unknown option '%s'", wgk_q(arg));
		if (c == 'p') {
			if (optarg && strcmp(optarg, "json") && strcmp(optarg, "text"))
				return wgctl_usage("sync", "unknown option '%s'", wgk_q(arg));
			o->plan_only = true;
			o->plan_text |= optarg && !strcmp(optarg, "text");
		}
		o->detailed |= c == 'd';
		o->stats |= c == 's';
		o->no_state |= c == 'n';
		if (c == 'S')
			o->state_dir = optarg;
	}
	if (optind + 2 < argc)
		return wgctl_usage("sync", "unexpected argument '%s'", wgk_q(argv[optind + 2]));
	if (optind + 2 > argc)
		return wgctl_usage("sync", "expected an interface name and a config file");
	o->ifname = argv[optind];
	o->path = argv[optind + 1];
	if (!wgctl_valid_ifname(o->ifname))
		return wgctl_usage("sync", "invalid interface name '%s'", wgk_q(o->ifname));
	return 0;
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* WGCTL_SYNC_TIMING=1: the time each phase took, on stderr (benchmarks). */
static bool timing(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("WGCTL_SYNC_TIMING") != NULL;
	return on;
}

static void phase(const char *name)
{
	static double last;
	double t;

	if (!timing())
		return;
	t = now_secs();
	if (name)
		fprintf(stderr, "wgctl: sync: timing: %s %.4f s\n", name, t - last);
	last = t;
}

/* ------------------------------------------------------ the quick paths */
/* When the last sync left a .fast digest, the dump starts at once (every
 * path needs one) while a second thread reads the file and compares it with
 * the record; wgnl_sync_path_choose() then says which path: fast (nothing
 * to do), incremental (the changed [Peer] sections) or full. */

struct text_job {
	const struct sync_opts *o;
	char *text; /* the file, read here (NULL: unreadable, read_err says why) */
	size_t len;
	int read_err;
	struct wgnl_sync_digest rec_file; /* the canonical text the .fast file names */
	/* Results. */
	struct wgnl_sync_text *now;    /* the file, canonical (the caller's) */
	bool canon;		       /* *now is set (else the text is left to the parser) */
	bool same;		       /* the file is the one last synced */
	struct wgnl_sync_delta *delta; /* the sections that differ (NULL: full path) */
	/* The record of the new file, written ahead (wgnl_sync_record_stage()). */
	struct wgnl_sync_stage *stage;
	double secs; /* how long the answer took (WGCTL_SYNC_TIMING) */
	/* The answer (everything above but the staged record) is signalled
	 * first: the record is written while the main thread applies. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool answered;
	bool threaded;
	pthread_t th;
};

/* The second thread done (the staged record written). */
static void text_join(struct text_job *j)
{
	if (j->threaded)
		pthread_join(j->th, NULL);
	j->threaded = false;
}

static void text_answered(struct text_job *j)
{
	pthread_mutex_lock(&j->mu);
	j->answered = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static void text_wait(struct text_job *j)
{
	pthread_mutex_lock(&j->mu);
	while (!j->answered)
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

/* The file's side (on the second thread): no netlink, no output. */
static void text_answer(struct text_job *j)
{
	const uint64_t rec_h[2] = { j->rec_file.a, j->rec_file.b };
	double t0 = now_secs();
	int r;

	j->read_err = wgnl_file_read(j->o->path, SYNC_MAX_FILE, &j->text, &j->len);
	if (j->read_err < 0)
		return;
	j->canon = wgnl_sync_text_make(j->text, j->len, j->now) == 0;
	if (!j->canon)
		return;
	r = wgnl_sync_delta_make(j->o->state_dir, j->o->ifname, j->text, j->now, rec_h, &j->delta);
	j->same = r == 1;
	j->secs = now_secs() - t0;
}

static void *text_work(void *arg)
{
	struct text_job *j = arg;

	text_answer(j);
	text_answered(j);
	/* Off the critical path: put in place only once applied. */
	if (j->delta)
		wgnl_sync_record_stage(j->o->state_dir, j->o->ifname, j->now, &j->stage);
	return NULL;
}

/* Apply the incremental @plan (wgnl_sync_path_choose()) and record it;
 * exit code. */
static int inc_apply(const struct sync_opts *o, struct text_job *j, const struct wgnl_plan *plan,
		     const struct wgnl_sync_digest *exp, struct wgnl_ctx *ctx, bool *changed)
{
	int rc, r;

	*changed = !wgnl_plan_is_empty(plan);
	phase("plan");
	rc = wgctl_limits_check("sync", o->ifname, &o->limits, plan);
	if (rc)
		return rc;
	r = wgnl_sync_apply(ctx, plan);
	if (r < 0) {
		wgnl_sync_fast_forget(o->state_dir, o->ifname);
		return wgctl_fail(ctx, r,
				  "sync: cannot apply '%s' to '%s' (part of it may be applied)",
				  wgk_qs(o->path), o->ifname);
	}
	phase("apply");
	text_join(j);
	r = wgnl_sync_delta_applied(o->state_dir, o->ifname, j->stage, j->now, exp);
	j->stage = NULL;
	if (r < 0)
		wgk_warn("sync: applied, but cannot record the state in '%s': %s",
			 wgk_q(o->state_dir), strerror(-r));
	phase("record");
	if (*changed)
		sync_print_summary(o->ifname, plan, &no_quick);
	return WGK_EXIT_OK;
}

/* The fast and incremental paths. Returns true when one ran (exit code in
 * *rc); false for the full path, with *text the file's bytes (NULL when it
 * could not be read: *read_err says why; it is read once, as it may be a
 * pipe) and *now its canonical text when *canon (what the record is made
 * of). */
static bool sync_quick(const struct sync_opts *o, char **text, size_t *len, int *read_err,
		       struct wgnl_ctx **ctx, struct wgnl_sync_text *now, bool *canon,
		       bool *changed, int *rc)
{
	struct wgnl_sync_digest rec_file, rec_run, exp;
	struct wgnl_plan *plan = NULL;
	struct text_job j = { 0 };
	struct wgnl_sync_dump *acc = NULL;
	struct wgnl_device *info = NULL;
	const char *path = NULL;
	bool done = false;
	int r = 0;

	*canon = false;
	*text = NULL;
	if (wgnl_sync_fast_load(o->state_dir, o->ifname, &rec_file, &rec_run) < 0 ||
	    sodium_init() < 0 || wgnl_sync_dump_new(&acc) < 0) {
		*read_err = wgnl_file_read(o->path, SYNC_MAX_FILE, text, len);
		if (*read_err == 0)
			*canon = wgnl_sync_text_make(*text, *len, now) == 0;
		return false;
	}
	j.o = o;
	j.rec_file = rec_file;
	j.now = now;
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	/* The file on a second thread while the dump streams in. */
	j.threaded = pthread_create(&j.th, NULL, text_work, &j) == 0;
	if (!j.threaded)
		text_work(&j);
	*rc = wgctl_open(ctx);
	phase("open");
	if (!*rc)
		r = wgnl_device_get_stream(*ctx, o->ifname, wgnl_sync_dump_peer, acc, &info);
	phase("dump");
	text_wait(&j);
	if (timing())
		fprintf(stderr, "wgctl: sync: timing: (file, on the other thread %.4f s)\n",
			j.secs);
	*canon = j.canon;
	*text = j.text;
	*len = j.len;
	*read_err = j.read_err;
	/* An unreadable file: the full path says so (and changes nothing). */
	if (j.read_err < 0)
		goto out;
	if (*rc) {
		done = true;
		goto out;
	}
	if (r < 0) {
		*rc = sync_read_fail(*ctx, o->ifname, r);
		done = true;
		goto out;
	}
	phase("join");
	r = wgnl_sync_path_choose(*ctx, o->ifname, acc, info, &rec_run, j.same, j.delta, o->flags,
				  &plan, &exp);
	if (r == WGNL_SYNC_PATH_FAST) {
		phase("fast no-op");
		path = "fast";
		*rc = WGK_EXIT_OK;
	} else if (r == WGNL_SYNC_PATH_INCREMENTAL || r < 0) {
		path = "incremental";
		*rc = r < 0 ? wgctl_fail(*ctx, r, "sync: cannot plan") :
			      inc_apply(o, &j, plan, &exp, *ctx, changed);
	}
	done = path != NULL;
out:
	if (o->stats && path) {
		struct wgnl_stats st;

		wgnl_stats_get(*ctx, &st);
		sync_print_stats(&st, path);
	}
	text_join(&j);
	wgnl_sync_stage_abort(j.stage);
	pthread_cond_destroy(&j.cv);
	pthread_mutex_destroy(&j.mu);
	wgnl_sync_dump_free(acc);
	wgnl_device_free(info);
	wgnl_sync_delta_free(j.delta);
	wgnl_plan_free(plan);
	return done;
}

/* Is @path the file `wgctl up` recorded for @ifname (IF.path)? */
static bool is_up_file(const char *ifname, const char *path)
{
	char rec[PATH_MAX], *real;
	bool same;

	if (quick_path_recorded(ifname, rec, sizeof(rec)) != 1 || !(real = realpath(path, NULL)))
		return false;
	same = !strcmp(rec, real);
	free(real);
	return same;
}

/* The file read (or why not), parsed, checked: exit code. */
static int sync_parse(const struct sync_opts *o, int read_err, const char *text, size_t len,
		      struct wgnl_config **cfg, bool *conflicts)
{
	struct wgnl_config_error e;
	int r;

	/* Read once, to EOF: a pipe cannot be read again. */
	if (read_err < 0) {
		if (read_err == -EFBIG)
			wgk_error("sync: cannot read '%s': larger than %u MiB", wgk_qs(o->path),
				  SYNC_MAX_FILE >> 20);
		else
			wgk_error("sync: cannot read '%s': %s", wgk_qs(o->path),
				  strerror(-read_err));
		return wgk_exit_for_file_errno(read_err);
	}
	memset(&e, 0, sizeof(e));
	r = wgnl_config_parse(text, len, o->path, WGNL_CONFIG_QUICK | WGNL_CONFIG_RESOLVE, cfg, &e);
	if (r < 0)
		return wgctl_conf_error(r, &e, o->path);
	phase("parse");
	wgctl_warn_secret_file("sync", o->path, *cfg);
	if (!wgctl_opt.allow_empty && wgctl_conf_is_empty(*cfg))
		return wgctl_empty_refused("sync", o->path);
	/* As setconf leaves it: an allowed IP in two sections goes to the
	 * later one. */
	r = wgctl_allowedip_conflicts((*cfg)->dev, o->path, text, len);
	if (r < 0) {
		wgk_error("sync: out of memory");
		return WGK_EXIT_SYSTEM;
	}
	*conflicts = r > 0;
	return 0;
}

static int sync_run(const struct sync_opts *o, bool *changed)
{
	struct wgnl_config *cfg = NULL;
	struct wgnl_sync_full full = { 0 };
	const struct wgnl_quick_plan *q;
	struct sync_quick_events qs = { 0 };
	struct wgnl_quick_opts qopts = { .size = sizeof(qopts),
					 .arg = &qs,
					 .event = sync_quick_event };
	struct wgnl_ctx *ctx = NULL;
	struct wgnl_stats st;
	char path[PATH_MAX] = "";
	struct wgnl_sync_text canon_text = { 0 };
	bool have_fh = false;
	char *file_text = NULL, why[128];
	size_t file_len = 0;
	int rc = WGK_EXIT_OK, r, read_err = 0;
	bool conflicts = false;

	phase(NULL);
	if (!o->no_state && (r = wgnl_sync_dir_check(o->state_dir, why, sizeof(why))) < 0) {
		wgk_error("sync: refusing the state directory '%s': %s", wgk_q(o->state_dir),
			  why[0] ? why : strerror(-r));
		return WGK_EXIT_INPUT;
	}
	/* One sync (or up, set, ...) of an interface at a time: two would
	 * both plan against the same dump and both record. */
	if (!o->plan_only && (rc = wgctl_lock("sync", o->ifname)))
		return rc;
	if (!o->no_state && !o->plan_only)
		wgnl_sync_dir_sweep(o->state_dir, o->ifname);
	/* --plan and --json print the plan: they always take the full path. */
	if (!o->no_state && !o->plan_only && !wgctl_opt.json && !o->up_file) {
		if (sync_quick(o, &file_text, &file_len, &read_err, &ctx, &canon_text, &have_fh,
			       changed, &rc))
			goto out;
		/* Parsed from these very bytes below: the hash recorded is
		 * the hash of what was applied (canon_text). */
	} else {
		read_err = wgnl_file_read(o->path, SYNC_MAX_FILE, &file_text, &file_len);
	}
	rc = sync_parse(o, read_err, file_text, file_len, &cfg, &conflicts);
	if (rc)
		goto out;
	snprintf(cfg->dev->name, sizeof(cfg->dev->name), "%s", o->ifname);
	if (!ctx && (rc = wgctl_open(&ctx)))
		goto out;
	if (!o->no_state &&
	    wgnl_sync_record_path(path, sizeof(path), o->state_dir, o->ifname) < 0) {
		wgk_warn("sync: state directory path too long: not recording");
		path[0] = '\0';
	}
	qs.ctx = ctx;
	r = wgnl_sync_full_plan(ctx, cfg, path[0] ? o->state_dir : NULL, o->flags, &qopts, &full);
	sync_record_warn(path, full.record_err);
	if (r < 0) {
		rc = full.quick_failed ? sync_quick_rc(&qs) : sync_read_fail(ctx, o->ifname, r);
		goto out;
	}
	phase("dump+plan");
	*changed = full.changed;
	q = full.quick ? full.quick : &no_quick;
	if (o->plan_only) {
		wgnl_stats_get(ctx, &st);
		if (o->plan_text)
			sync_print_plan_text(o->ifname, full.plan, q);
		else
			sync_print_plan_json(o->ifname, full.plan, q, *changed, false, full.delta,
					     o->stats ? &st : NULL);
		/* What would be refused is said (exit code too), not hidden. */
		rc = wgctl_limits_check("sync", o->ifname, &o->limits, full.plan);
		if (o->stats)
			sync_print_stats(&st, "full");
		goto out;
	}
	rc = wgctl_limits_check("sync", o->ifname, &o->limits, full.plan);
	if (rc)
		goto out;
	qs.rc = 0;
	r = wgnl_sync_full_apply(ctx, cfg, &full, &qopts);
	if (r < 0) {
		rc = full.quick_failed ?
			     sync_quick_rc(&qs) :
			     wgctl_fail(
				     ctx, r,
				     "sync: cannot apply '%s' to '%s' (part of it may be applied)",
				     wgk_qs(o->path), o->ifname);
		goto out;
	}
	phase("apply");
	if (path[0]) {
		/* A wg-quick file is recorded as a config (its addresses and
		 * routes); a file with an allowed IP in two sections never takes
		 * the quick paths: which section wins depends on their order. */
		r = wgnl_sync_record_applied(o->state_dir, o->ifname, cfg,
					     have_fh && !full.quick ? &canon_text : NULL,
					     full.running, conflicts ? 0 : WGNL_SYNC_RECORD_FAST);
		if (r < 0)
			wgk_warn("sync: applied, but cannot record the state in '%s': %s",
				 wgk_q(o->state_dir), strerror(-r));
		phase("record");
	}
	wgnl_stats_get(ctx, &st);
	if (wgctl_opt.json)
		sync_print_plan_json(o->ifname, full.plan, q, *changed, true, full.delta,
				     o->stats ? &st : NULL);
	else if (*changed)
		sync_print_summary(o->ifname, full.plan, q);
	if (o->stats)
		sync_print_stats(&st, "full");
out:
	if (file_text)
		wgnl_wipe(file_text, file_len);
	wgnl_free(file_text);
	wgnl_sync_text_clear(&canon_text);
	wgnl_sync_full_clear(&full);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}

int cmd_sync(int argc, char **argv)
{
	struct sync_opts o;
	bool changed = false;
	int rc;

	if (wgctl_wants_help(argc, argv)) {
		sync_help();
		return WGK_EXIT_OK;
	}
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	o.state_dir = wgk_sync_state_dir(o.state_dir);
	o.up_file = is_up_file(o.ifname, o.path);
	if (o.up_file)
		o.flags |= WGNL_SYNC_QUICK;
	if (getenv("WGCTL_SYNC_NO_DELTA"))
		o.flags |= WGNL_SYNC_NO_DELTA;
	rc = sync_run(&o, &changed);
	if (!o.detailed)
		return rc;
	/* Terraform's convention, for Ansible's changed_when. */
	if (rc)
		return 1;
	return changed ? 2 : 0;
}
