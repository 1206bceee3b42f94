/* SPDX-License-Identifier: MIT */
/* wg-quick up/down around the library (quick.c, quickrun.c): wgctl up and
 * down, and wghealth's restart, which runs them in-process. Functions
 * returning "an exit code" print their one error line and return 0 on
 * success. */
#ifndef WGK_QUICK_H
#define WGK_QUICK_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_quick.h"

#include "err.h"
#include "exitcodes.h"
#include "fail.h"
#include "iflock.h"
#include "syncstate.h"

struct quick_target {
	char path[PATH_MAX];
	char ifname[WGNL_IFNAMSIZ];
};

/* CONF (a path: contains '/' or ends in .conf; the interface is its base
 * name without .conf) or IF (/etc/wireguard/IF.conf). Exit code. */
int quick_target(const char *cmd, const char *arg, struct quick_target *t);
/* quick_target() for down: a name means the file `up` used for it when it
 * recorded one (quick_path_record()). Exit code. */
int quick_down_target(const char *cmd, const char *arg, struct quick_target *t);
/* Run the hook command @line (%i expanded) with `sh -c` (exit code; @key
 * names it in the error: "PreUp"). */
int quick_hook(const char *cmd, const char *key, const char *line);
/* resolvconf in $PATH? */
bool quick_have_resolvconf(void);
/* `resolvconf -a IF -m 0 -x` fed with the DNS= entries (exit code). */
int quick_dns_set(const char *cmd, const char *ifname, const struct wgnl_quick *q);
/* `resolvconf -d IF -f`; 0 or -EIO. */
int quick_dns_unset(const char *ifname);
/* The config path `up` used for @ifname, recorded (absolute) so that
 * `down IF` finds it: record (0 or -errno), read into @out (1 found, 0 none,
 * -errno), forget. */
int quick_path_record(const char *ifname, const char *path);
int quick_path_recorded(const char *ifname, char *out, size_t len);
void quick_path_forget(const char *ifname);
/* The userspace implementation to start: @opt (--userspace=PROG), else
 * $WG_QUICK_USERSPACE_IMPLEMENTATION, else "wireguard-go". */
const char *quick_userspace_prog(const char *opt);
/* Run `PROG IFNAME` (as wg-quick does) and wait, bounded, until the link and
 * its UAPI socket exist. Exit code (0: ready). */
int quick_userspace_start(const char *cmd, struct wgnl_ctx *ctx, const char *prog,
			  const char *ifname);
/* What up and down pass to wgnl_quick_up/down as the callbacks' argument. */
struct quick_run {
	const char *cmd; /* "up", "down": names the error lines */
	struct wgnl_ctx *ctx;
	const char *prog; /* the userspace implementation (quick_userspace_prog()) */
	int rc;		  /* the first failure's exit code, 0 if none */
};

/* quickrun.c: callbacks that do what wg-quick does (hooks through sh, resolvconf when
 * installed, `PROG IFNAME`) and an event callback that prints the error,
 * warning and note lines of @run->cmd and, once down deleted the link,
 * forgets the records up left. */
void quick_opts_init(struct wgnl_quick_opts *o, struct quick_run *run);

/* quickrun.c: everything `wgctl up` and `wgctl down` do after their
 * arguments. up: load @t->path (checked before any change; a warning when
 * group or others may read it), take the interface's lock (waiting @wait
 * seconds), wgnl_quick_up() with the callbacks above (@userspace forces a
 * userspace implementation, @prog_opt as quick_userspace_prog()), then
 * record the applied state for `wgctl sync` and the path for `down IF`.
 * down: the lock, "IF: not up, nothing changed" on @out when the link is
 * gone (the records forgotten), else load @t->path and wgnl_quick_down()
 * (SaveConfig into it). Each opens its own context and releases the lock
 * before it returns. Exit code (exitcodes.h), every line printed. */
int quick_run_up(const struct quick_target *t, bool userspace, const char *prog_opt, double wait);
int quick_run_down(const struct quick_target *t, double wait, FILE *out);

/* quickhold.c: on Windows a tunnel lives with the process that created its
 * adapter, so `wgctl up` (quick_hold_tunnel set) holds it after a successful
 * up until `wgctl down` or Ctrl-C, and takes it down itself. begin: the
 * named objects (before the up; 0 or -1), wait: until asked, end: release.
 * stop (down): 0 nobody holds @ifname, 1 the holder took it down, -1 it did
 * not within 30 s. needed: whether the OS ties a tunnel to its creator
 * (Windows: a down without a holder cannot remove it). No-ops on Linux. */
extern bool quick_hold_tunnel;
int quick_hold_begin(const char *ifname, void **hold);
void quick_hold_wait(const char *ifname);
void quick_hold_end(void *hold);
int quick_hold_stop(const char *ifname);
bool quick_hold_needed(void);

#endif
