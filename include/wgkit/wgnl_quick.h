/* SPDX-License-Identifier: MIT */
/*
 * libwg-netlink: wg-quick in the library. wgnl_quick_up() / wgnl_quick_down()
 * bring an interface up and down from a parsed wg-quick config (struct
 * wgnl_config with its struct wgnl_quick), and wgnl_quick_plan() /
 * wgnl_quick_apply() reconcile the addresses, MTU, routes and policy rules of
 * a running one with a changed config (what `wgctl sync` does for them).
 *
 * Conventions as in wgnl.h: 0 on success, -errno on failure, nothing prints,
 * destructors accept NULL, struct wgnl_quick_opts is sized (set .size =
 * sizeof(struct wgnl_quick_opts)). What is not netlink or UAPI (running the
 * PreUp/PostUp/PreDown/PostDown hooks, resolvconf, starting a userspace
 * implementation) is done by callbacks the caller provides: the library never
 * forks, execs, prints or exits. Every step and failure is reported as a
 * struct wgnl_quick_event to the caller's event callback, from which a tool
 * prints its lines (the failure is reported before an up undoes its steps,
 * so wgnl_ctx_last_error() still explains it).
 */
#ifndef WGKIT_WGNL_QUICK_H
#define WGKIT_WGNL_QUICK_H

#include "wgkit/wgnl_decls.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wgkit/wgnl.h"

WGNL_DECLS_BEGIN

/* wg-quick's policy table when neither FwMark nor ListenPort names it, and
 * its MTU when the file sets none. */
#define WGNL_QUICK_DEFAULT_TABLE 51820
#define WGNL_QUICK_DEFAULT_MTU 1420

/* What a step does (struct wgnl_quick_event.step). */
enum wgnl_quick_step {
	WGNL_QUICK_NONE = 0,	   /* no step: -ENOMEM before the first */
	WGNL_QUICK_LOOKUP,	   /* look the link up */
	WGNL_QUICK_EXISTS,	   /* up: the interface exists already (-EEXIST) */
	WGNL_QUICK_HOOK,	   /* run one hook command (.hook, .command) */
	WGNL_QUICK_LINK_ADD,	   /* create the link (kind wireguard) */
	WGNL_QUICK_USERSPACE,	   /* start the userspace implementation */
	WGNL_QUICK_DEVICE_GET,	   /* read the running device */
	WGNL_QUICK_DEVICE_SET,	   /* set the configuration */
	WGNL_QUICK_DEVICE_RESTORE, /* undo: put the earlier configuration back */
	WGNL_QUICK_ADDR_LIST,	   /* read the addresses of the link */
	WGNL_QUICK_ADDR_ADD,	   /* .prefix */
	WGNL_QUICK_ADDR_DEL,	   /* .prefix */
	WGNL_QUICK_MTU,		   /* .mtu */
	WGNL_QUICK_LINK_UP,
	WGNL_QUICK_LINK_DOWN, /* undo of LINK_UP */
	WGNL_QUICK_LINK_DEL,
	WGNL_QUICK_ROUTE_LIST,	   /* read the routes of the link in .table */
	WGNL_QUICK_POLICY_LIST,	   /* read the routes of the policy table .table */
	WGNL_QUICK_ROUTE_ADD,	   /* .prefix in .table; -EEXIST: through another link */
	WGNL_QUICK_ROUTE_DEL,	   /* .prefix in .table */
	WGNL_QUICK_RULE_LIST,	   /* look the policy rules up (.rule) */
	WGNL_QUICK_RULE_ADD,	   /* .rule; up: .prefix is the /0 it is for */
	WGNL_QUICK_RULE_DEL,	   /* .rule; .table: the policy table */
	WGNL_QUICK_SRC_VALID_MARK, /* sysctl net.ipv4.conf.all.src_valid_mark=1 */
	WGNL_QUICK_DNS_SET,
	WGNL_QUICK_DNS_UNSET,
	WGNL_QUICK_SAVE_CONFIG, /* down: write the running config to .path */
	/* Where the OS has no policy routing (Windows), a full tunnel keeps
	 * each peer's endpoint .prefix (a /32 or /128) reachable by a host
	 * route through the default route outside the tunnel. */
	WGNL_QUICK_BYPASS_ADD,
	WGNL_QUICK_BYPASS_DEL,
};

enum wgnl_quick_event_kind {
	WGNL_QUICK_EV_START = 1, /* about to do the step (progress) */
	WGNL_QUICK_EV_FAIL,	 /* the step failed with .err (up stops and undoes) */
	WGNL_QUICK_EV_UNDO_FAIL, /* undoing a failed up could not undo the step */
	WGNL_QUICK_EV_WARN,	 /* failed, and nothing depends on it: going on */
	WGNL_QUICK_EV_SKIP,	 /* not done: no callback for it (DNS without dns_set) */
	WGNL_QUICK_EV_DONE,	 /* the step succeeded; reported where a caller acts on
				  * it: down's LINK_DEL (forget what up recorded) */
};

/* One report. Pointers are valid during the callback only. */
struct wgnl_quick_event {
	enum wgnl_quick_event_kind kind;
	enum wgnl_quick_step step;
	int err;	  /* -errno for FAIL, UNDO_FAIL and WARN; else 0 */
	bool by_callback; /* the error came from a caller's callback */
	const char *ifname;
	const char *hook;    /* "PreUp", "PostUp", "PreDown", "PostDown" */
	const char *command; /* the hook command, %i expanded */
	const char *path;    /* SAVE_CONFIG */
	struct wgnl_prefix prefix;
	uint32_t table; /* 0: main */
	uint32_t mtu;
	struct wgnl_rule rule;
};

enum wgnl_quick_flags {
	/* up: start the userspace implementation even when the kernel has
	 * WireGuard (without it: only when link_add says -EOPNOTSUPP). */
	WGNL_QUICK_FORCE_USERSPACE = 1U << 0,
};

/* How up/down do what is not netlink. Every callback may be NULL:
 *  - hook NULL and the config has hooks for the direction: up/down refuse
 *    with -EOPNOTSUPP before any change (a PostUp that sets up a firewall
 *    is never skipped silently);
 *  - dns_set NULL: DNS= is not applied (a SKIP event says so); dns_unset
 *    NULL: nothing to undo;
 *  - userspace_start NULL: a kernel without WireGuard fails up with
 *    -EOPNOTSUPP at LINK_ADD;
 *  - event NULL: nothing is reported.
 * Callbacks return 0 or -errno; @arg is passed back. */
struct wgnl_quick_opts {
	size_t size;	/* sizeof(struct wgnl_quick_opts) */
	unsigned flags; /* enum wgnl_quick_flags */
	void *arg;
	/* Run one command (hook key @hook, %i already replaced) and wait. */
	int (*hook)(void *arg, const char *ifname, const char *hook, const char *command);
	/* Set the DNS servers and search domains of @q->dns for @ifname. */
	int (*dns_set)(void *arg, const char *ifname, const struct wgnl_quick *q);
	int (*dns_unset)(void *arg, const char *ifname);
	/* Start the userspace implementation for @ifname and return once its
	 * link and UAPI socket exist. */
	int (*userspace_start)(void *arg, struct wgnl_ctx *ctx, const char *ifname);
	void (*event)(void *arg, const struct wgnl_quick_event *ev);
	/* down: where SaveConfig = true writes the running config (0600,
	 * atomic; a symlink's target is replaced); NULL: SaveConfig ignored. */
	const char *save_path;
};

/* wg-quick up of @ifname from @cfg: PreUp, the link (or the userspace
 * implementation), the configuration, Address, MTU (default 1420), link up,
 * a route per allowed IP (Table: off, N, or main with policy routing through
 * table wgnl_quick_policy_table() for a /0), DNS, PostUp. On Windows (no
 * policy routing, one table) Table = N is refused with -EOPNOTSUPP before any
 * change, and a /0 is routed in the main table with a bypass host route per
 * peer endpoint (BYPASS_ADD); a leftover adapter of an up that crashed is
 * removed first, and an up of a running tunnel re-adds a missing bypass route
 * (then says -EEXIST as always). @cfg is updated to
 * what was applied: its device named @ifname, marked as a full replacement,
 * with the fwmark of the policy table. An interface that exists is refused
 * (-EEXIST, event EXISTS) unless it is a userspace device never configured.
 * On failure the steps done are undone in reverse (only what up created) and
 * the step's -errno is returned; -EOPNOTSUPP for hooks without opts->hook,
 * -EINVAL for a bad opts->size, -ENOMEM. @opts may be NULL. */
int wgnl_quick_up(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_config *cfg,
		  const struct wgnl_quick_opts *opts);
/* wg-quick down of @ifname, @cfg being the file it came up from:
 * SaveConfig (to opts->save_path; a failure there stops before any change),
 * PreDown, the policy rules (on Windows: the bypass routes), the link (and a userspace implementation with
 * it), DNS, PostDown. Goes on after a failed step; returns the first
 * failure's -errno (-ENODEV when the link does not exist), 0 when all
 * succeeded. A DONE event for LINK_DEL says the link is gone. */
int wgnl_quick_down(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_config *cfg,
		    const struct wgnl_quick_opts *opts);

/* Where the OS has no policy routing (Windows): put back the bypass host route
 * of each peer endpoint of @cfg whose family the file routes whole (a /0),
 * on the running tunnel @ifname, when it has gone (a media-sense flap of the
 * LAN adapter drops that adapter's routes, and the tunnel's own packets then
 * loop into it). What an up of the running tunnel does; for a periodic check
 * (a DONE event of step BYPASS_ADD per route re-added). Returns the number re-added (0:
 * none missing, the tunnel down, Table = off, or an OS with policy routing),
 * -ENETUNREACH (no default route outside the tunnel), -ENODEV, -EINVAL (bad
 * opts->size) or -errno. @opts may be NULL. */
int wgnl_quick_bypass_repair(struct wgnl_ctx *ctx, const char *ifname,
			     const struct wgnl_config *cfg, const struct wgnl_quick_opts *opts);

/* The table (and fwmark) of wg-quick's policy routing for @cfg: 0 unless
 * Table is unset and a peer has a /0 allowed IP; then the FwMark, else the
 * ListenPort, else WGNL_QUICK_DEFAULT_TABLE. Always 0 on Windows (no policy
 * routing: bypass routes instead). */
uint32_t wgnl_quick_policy_table(const struct wgnl_config *cfg);

/* What changes around a running device for a wg-quick config. Plain data;
 * the arrays are the library's (wgnl_quick_plan_free()). */
struct wgnl_quick_plan {
	uint32_t mtu; /* 0: unchanged */
	struct wgnl_prefix *addr_add, *addr_del, *route_add, *route_del, *route_all;
	size_t n_addr_add, n_addr_del, n_route_add, n_route_del, n_route_all;
	/* The table of each route of route_add, route_del, route_all. */
	uint32_t *route_add_table, *route_del_table, *route_all_table;
	/* wg-quick's policy routing: the rules to remove (a family that lost
	 * its /0, or a new table) and to add. */
	struct wgnl_rule rule_del[4], rule_add[4];
	size_t n_rule_del, n_rule_add;
};

/* Plan @cfg (its device named as the link) against the running link:
 * addresses as the file says (IPv6 link-local stays), its MTU when set,
 * routes for the allowed IPs where missing, a route removed only when
 * @last (the config applied before, may be NULL) had it and the file no
 * longer does, and the policy rules from @old_table (the fwmark the device
 * runs with) to wgnl_quick_policy_table(@cfg). Reads the kernel, changes
 * nothing. *ret: a new plan (wgnl_quick_plan_free()). Returns 0, -ENOMEM or
 * the -errno of a read (a FAIL event names it). @opts may be NULL. */
int wgnl_quick_plan(struct wgnl_ctx *ctx, const struct wgnl_config *cfg,
		    const struct wgnl_config *last, uint32_t old_table,
		    const struct wgnl_quick_opts *opts, struct wgnl_quick_plan **ret);
/* Is there nothing to do? (NULL: true) */
bool wgnl_quick_plan_is_empty(const struct wgnl_quick_plan *plan);
void wgnl_quick_plan_free(struct wgnl_quick_plan *plan);

enum wgnl_quick_phase {
	/* Before the device's fwmark changes: remove the rules that go, so
	 * that no packet is policy-routed by a rule whose mark no longer
	 * matches. */
	WGNL_QUICK_BEFORE_DEVICE = 1,
	/* After the device is set: MTU, addresses, routes, new rules. */
	WGNL_QUICK_AFTER_DEVICE,
};

/* Apply @phase of @plan to link @ifname. Stops at the first failure and
 * returns its -errno (a FAIL event names the step); -EINVAL for an unknown
 * phase. A NULL plan is nothing to do. @opts may be NULL. */
int wgnl_quick_apply(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_quick_plan *plan,
		     enum wgnl_quick_phase phase, const struct wgnl_quick_opts *opts);

WGNL_DECLS_END

#endif
