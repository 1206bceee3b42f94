// SPDX-License-Identifier: MIT
/* What wgctl up and down hand to wgnl_quick_up/down: callbacks that do what
 * wg-quick does outside netlink (quick.c), and the event callback that
 * prints the lines of a failed, undone or noteworthy step and picks the exit
 * code. Then up and down themselves after their arguments (the lock, the
 * config, the records), for wgctl and for wghealth's in-process restart. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/compat.h"
#include "quick.h"

static int cb_hook(void *arg, const char *ifname, const char *key, const char *command)
{
	const struct quick_run *run = arg;

	(void)ifname;
	return quick_hook(run->cmd, key, command) ? -EIO : 0;
}

static int cb_dns_set(void *arg, const char *ifname, const struct wgnl_quick *q)
{
	const struct quick_run *run = arg;

	return quick_dns_set(run->cmd, ifname, q) ? -EIO : 0;
}

static int cb_dns_unset(void *arg, const char *ifname)
{
	(void)arg;
	return quick_dns_unset(ifname);
}

static int cb_userspace(void *arg, struct wgnl_ctx *ctx, const char *ifname)
{
	const struct quick_run *run = arg;

	return quick_userspace_start(run->cmd, ctx, run->prog, ifname) ? -EIO : 0;
}

/* A step of up or down that failed: its one error line, its exit code. */
static int fail_line(struct quick_run *run, const struct wgnl_quick_event *ev)
{
	const char *cmd = run->cmd, *ifname = ev->ifname;
	struct wgnl_ctx *ctx = run->ctx;
	char buf[64], tname[16] = "main";
	int r = ev->err;

	wgnl_prefix_format(&ev->prefix, buf, sizeof(buf));
	switch (ev->step) {
	case WGNL_QUICK_HOOK:
	case WGNL_QUICK_USERSPACE:
	case WGNL_QUICK_DNS_SET:
		/* The callback said what failed. */
		if (ev->by_callback)
			return WGK_EXIT_SYSTEM;
#ifdef _WIN32
		/* No callback on Windows: refused before any change. */
		if (ev->step == WGNL_QUICK_HOOK && r == -EOPNOTSUPP) {
			wgk_error(
				"%s: '%s': %s hooks are not supported on Windows: nothing changed",
				cmd, ifname, ev->hook);
			return WGK_EXIT_INPUT;
		}
#endif
		break;
	case WGNL_QUICK_LOOKUP:
		return wgctl_fail(ctx, r, "%s: cannot look up '%s'", cmd, ifname);
	case WGNL_QUICK_EXISTS:
		wgk_error(
			"%s: '%s' already exists (to apply a changed file to a running interface: "
			"wgctl sync %s FILE)",
			cmd, ifname, ifname);
		return WGK_EXIT_SYSTEM;
	case WGNL_QUICK_LINK_ADD:
		return wgctl_fail(ctx, r, "%s: cannot create '%s'", cmd, ifname);
	case WGNL_QUICK_DEVICE_GET:
		return wgctl_get_error(ctx, ifname, r);
	case WGNL_QUICK_DEVICE_SET:
		return wgctl_set_error(ctx, ifname, r, "set the configuration");
	case WGNL_QUICK_ADDR_LIST:
		return wgctl_fail(ctx, r, "%s: %scannot read the addresses of '%s'", cmd,
				  ev->path ? "SaveConfig: " : "", ifname);
	case WGNL_QUICK_ADDR_ADD:
		return wgctl_fail(ctx, r, "%s: cannot add address %s to '%s'", cmd, buf, ifname);
	case WGNL_QUICK_MTU:
		return wgctl_fail(ctx, r, "%s: cannot set the MTU of '%s' to %u", cmd, ifname,
				  ev->mtu);
	case WGNL_QUICK_LINK_UP:
		return wgctl_fail(ctx, r, "%s: cannot set '%s' up", cmd, ifname);
	case WGNL_QUICK_ROUTE_ADD:
		if (r != -EEXIST)
			return wgctl_fail(ctx, r, "%s: cannot add route %s via '%s'", cmd, buf,
					  ifname);
		/* As wg-quick: a route to the same destination through another
		 * interface is a conflict, never taken over. */
		if (ev->table)
			snprintf(tname, sizeof(tname), "%u", ev->table);
		wgk_error("%s: cannot add route %s via '%s': a route to it already exists in "
			  "table %s through another interface (remove it, or change AllowedIPs or "
			  "Table)",
			  cmd, buf, ifname, tname);
		return WGK_EXIT_SYSTEM;
	case WGNL_QUICK_RULE_ADD:
		return wgctl_fail(ctx, r, "%s: cannot add the policy rule for %s", cmd, buf);
	case WGNL_QUICK_SAVE_CONFIG:
		wgk_error("%s: SaveConfig: cannot write '%s': %s", cmd, wgk_qs(ev->path),
			  strerror(-r));
		return wgk_exit_for_file_errno(r);
	case WGNL_QUICK_RULE_DEL:
		return wgctl_fail(ctx, r, "%s: cannot remove a policy rule for table %u", cmd,
				  ev->table);
	case WGNL_QUICK_LINK_DEL:
		return wgctl_fail(ctx, r, "%s: cannot delete '%s'", cmd, ifname);
	case WGNL_QUICK_DNS_UNSET:
		wgk_error("%s: resolvconf -d %s failed", cmd, ifname);
		return WGK_EXIT_SYSTEM;
	case WGNL_QUICK_NONE:
		if (r == -ENOMEM) {
			wgk_error("%s: out of memory", cmd);
			return WGK_EXIT_SYSTEM;
		}
		break;
	default:
		break;
	}
	if (ev->step == WGNL_QUICK_HOOK)
		wgk_error("%s: %s hook: %s", cmd, ev->hook, strerror(-r));
	else
		wgk_error("%s: '%s': %s", cmd, ifname, strerror(-r));
	return WGK_EXIT_SYSTEM;
}

/* What a failed up could not undo: a warning. */
static void undo_line(const struct quick_run *run, const struct wgnl_quick_event *ev)
{
	const char *cmd = run->cmd, *ifname = ev->ifname, *why = strerror(-ev->err);
	char buf[64];

	wgnl_prefix_format(&ev->prefix, buf, sizeof(buf));
	switch (ev->step) {
	case WGNL_QUICK_LINK_DEL:
		wgk_warn("%s: undo: cannot delete '%s': %s", cmd, ifname, why);
		break;
	case WGNL_QUICK_DEVICE_RESTORE:
		wgk_warn("%s: undo: cannot restore the configuration of '%s': %s", cmd, ifname,
			 why);
		break;
	case WGNL_QUICK_ADDR_DEL:
		wgk_warn("%s: undo: cannot remove address %s: %s", cmd, buf, why);
		break;
	case WGNL_QUICK_LINK_DOWN:
		wgk_warn("%s: undo: cannot set '%s' down: %s", cmd, ifname, why);
		break;
	case WGNL_QUICK_ROUTE_DEL:
		wgk_warn("%s: undo: cannot remove route %s: %s", cmd, buf, why);
		break;
	case WGNL_QUICK_RULE_DEL:
		wgk_warn("%s: undo: cannot remove a policy rule for table %u: %s", cmd,
			 ev->rule.table, why);
		break;
	case WGNL_QUICK_DNS_UNSET:
		wgk_warn("%s: undo: resolvconf -d %s failed", cmd, ifname);
		break;
	default:
		wgk_warn("%s: undo: '%s': %s", cmd, ifname, why);
		break;
	}
}

static void quick_event(void *arg, const struct wgnl_quick_event *ev)
{
	struct quick_run *run = arg;
	int rc;

	switch (ev->kind) {
	case WGNL_QUICK_EV_START:
		if (ev->step == WGNL_QUICK_USERSPACE && ev->err == -EOPNOTSUPP)
			wgk_note("%s: this kernel has no WireGuard: starting the userspace "
				 "implementation '%s'",
				 run->cmd, wgk_q(run->prog));
		break;
	case WGNL_QUICK_EV_FAIL:
		rc = fail_line(run, ev);
		/* The first failure's exit code (down goes on after one). */
		if (!run->rc)
			run->rc = rc;
		break;
	case WGNL_QUICK_EV_UNDO_FAIL:
		undo_line(run, ev);
		break;
	case WGNL_QUICK_EV_WARN:
		if (ev->step == WGNL_QUICK_SRC_VALID_MARK)
			wgk_warn("%s: cannot set net.ipv4.conf.all.src_valid_mark=1", run->cmd);
		break;
	case WGNL_QUICK_EV_SKIP:
		if (ev->step == WGNL_QUICK_DNS_SET)
			wgk_note("%s: DNS= ignored: resolvconf is not installed", run->cmd);
		break;
	case WGNL_QUICK_EV_DONE:
		/* The link is gone: so is what up recorded for it. */
		if (ev->step == WGNL_QUICK_LINK_DEL) {
			wgctl_sync_forget(NULL, ev->ifname);
			quick_path_forget(ev->ifname);
		}
		break;
	}
}

void quick_opts_init(struct wgnl_quick_opts *o, struct quick_run *run)
{
	bool resolvconf = quick_have_resolvconf();

	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->arg = run;
#ifdef _WIN32
	/* No sh to run them: the library refuses a config with hooks with
	 * -EOPNOTSUPP before it changes anything. */
	o->hook = NULL;
	o->userspace_start = NULL;
	(void)cb_hook;
	(void)cb_userspace;
#else
	o->hook = cb_hook;
	o->userspace_start = cb_userspace;
#endif
	/* Without resolvconf, DNS= is ignored with a note, as wg-quick. */
	o->dns_set = resolvconf ? cb_dns_set : NULL;
	o->dns_unset = resolvconf ? cb_dns_unset : NULL;
	o->event = quick_event;
}

static void warn_permissions(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)))
		wgk_warn("'%s' is accessible by group or others", wgk_qs(path));
}

/* After a successful up: what `wgctl sync` compares endpoints against next
 * time, and the file `down IF` reads. */
static void up_record(const struct quick_target *t, struct wgnl_config *cfg)
{
	int r = wgctl_sync_record(NULL, t->ifname, cfg);

	if (r < 0)
		wgk_warn("up: cannot record the applied state for 'wgctl sync': %s", strerror(-r));
	r = quick_path_record(t->ifname, t->path);
	if (r < 0)
		wgk_warn("up: cannot record the config path for 'wgctl down %s': %s", t->ifname,
			 strerror(-r));
}

int quick_run_up(const struct quick_target *t, bool userspace, const char *prog_opt, double wait)
{
	struct quick_run run = { .cmd = "up" };
	struct wgnl_config *cfg = NULL;
	struct wgnl_quick_opts opts;
	int rc, r, lockfd = -1;

	/* Everything from the file is checked before the first change. */
	rc = wgctl_load_conf(t->path, WGNL_CONFIG_QUICK | WGNL_CONFIG_RESOLVE, &cfg);
	if (rc)
		return rc;
	warn_permissions(t->path);
	rc = wgk_if_lock("up", t->ifname, wait, &lockfd);
	if (!rc)
		rc = wgctl_open(&run.ctx);
	if (rc)
		goto out;
	run.prog = quick_userspace_prog(prog_opt);
	quick_opts_init(&opts, &run);
	if (userspace)
		opts.flags |= WGNL_QUICK_FORCE_USERSPACE;
	r = wgnl_quick_up(run.ctx, t->ifname, cfg, &opts);
	if (r < 0) {
		rc = run.rc ? run.rc : WGK_EXIT_SYSTEM;
		goto out;
	}
	up_record(t, cfg);
out:
	wgnl_config_free(cfg);
	wgnl_ctx_close(run.ctx);
	wgk_if_unlock(lockfd);
	return rc;
}

int quick_run_down(const struct quick_target *t, double wait, FILE *out)
{
	struct quick_run run = { .cmd = "down" };
	struct wgnl_config *cfg = NULL;
	struct wgnl_quick_opts opts;
	struct wgnl_link link;
	int rc, r, lockfd = -1;

	rc = wgk_if_lock("down", t->ifname, wait, &lockfd);
	if (!rc)
		rc = wgctl_open(&run.ctx);
	if (rc)
		goto out;
	/* Already down: nothing to do, whatever became of the file. */
	r = wgnl_link_get(run.ctx, t->ifname, &link);
	if (r == -ENODEV) {
		quick_path_forget(t->ifname);
		wgctl_sync_forget(NULL, t->ifname);
		fprintf(out, "%s: not up, nothing changed\n", t->ifname);
		goto out;
	}
	if (r < 0) {
		rc = wgctl_fail(run.ctx, r, "down: cannot look up '%s'", t->ifname);
		goto out;
	}
	rc = wgctl_load_conf(t->path, WGNL_CONFIG_QUICK, &cfg);
	if (rc)
		goto out;
	quick_opts_init(&opts, &run);
	opts.save_path = t->path;
	r = wgnl_quick_down(run.ctx, t->ifname, cfg, &opts);
	if (r < 0)
		rc = run.rc ? run.rc : WGK_EXIT_SYSTEM;
out:
	wgnl_config_free(cfg);
	wgnl_ctx_close(run.ctx);
	wgk_if_unlock(lockfd);
	return rc;
}
