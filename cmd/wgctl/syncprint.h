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

#endif
