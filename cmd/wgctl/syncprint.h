/* SPDX-License-Identifier: MIT */
/* wgctl sync's output (syncprint.c). @q is never NULL: a file that is no
 * wg-quick config passes an empty plan. */
#ifndef WGCTL_SYNCPRINT_H
#define WGCTL_SYNCPRINT_H

#include "wgctl.h"
#include "wgkit/wgnl_quick.h"

/* The plan (or, @applied, what was applied) as one JSON object on stdout;
 * @delta: allowed IPs as additions and removals; @st (NULL: none) adds the
 * "stats" object. */
void sync_print_plan_json(const char *ifname, const struct wgnl_plan *plan,
			  const struct wgnl_quick_plan *q, bool changed, bool applied, bool delta,
			  const struct wgnl_stats *st);
/* --plan=text: the plan for people, on stdout. */
void sync_print_plan_text(const char *ifname, const struct wgnl_plan *plan,
			  const struct wgnl_quick_plan *q);
/* "IF: N added, ..." on stdout (nothing with --quiet). */
void sync_print_summary(const char *ifname, const struct wgnl_plan *plan,
			const struct wgnl_quick_plan *q);
/* The --stats line on stderr; @path: "fast", "incremental" or "full". */
void sync_print_stats(const struct wgnl_stats *st, const char *path);

/* As wgctl_get_device() reports a device that cannot be read (exit code). */
int sync_read_fail(struct wgnl_ctx *ctx, const char *ifname, int r);
/* Warn why the record at @path was not used (@r: record_err; 0: nothing). */
void sync_record_warn(const char *path, int r);

/* The wg-quick steps of a sync run in the library (wgnl_sync_full_plan(),
 * wgnl_sync_full_apply()); their error and warning lines are printed here:
 * pass sync_quick_event as wgnl_quick_opts.event, @qs as its arg. */
struct sync_quick_events {
	struct wgnl_ctx *ctx;
	int rc; /* the failure's exit code */
};
void sync_quick_event(void *arg, const struct wgnl_quick_event *ev);
/* The exit code of a failed wg-quick step whose events went to @qs. */
int sync_quick_rc(const struct sync_quick_events *qs);

#endif
