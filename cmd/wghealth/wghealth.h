/* SPDX-License-Identifier: MIT */
/* wghealth: health checks for WireGuard gateways. One file per subcommand. */
#ifndef WGHEALTH_H
#define WGHEALTH_H

#include <stdbool.h>
#include <stdint.h>

/* The subcommands, behind the table in main.c (struct wgk_cmd, dispatch.h). */
int cmd_probe(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_daemon(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_failover(int argc, char **argv);

#define WH_STATE_DIR "/var/lib/wghealth"
#define WH_CONF "/etc/wgkit/wghealth.conf"

/* ---------------------------------------------------------- history.c */
/* One row of the history: a verdict transition or a remedy. */
struct wh_event {
	int64_t ts_ms;
	const char *ifname;
	const char *kind;    /* "transition", "remedy", "cooldown", "recovered", "underlay" */
	const char *verdict; /* the verdict at the time */
	const char *reason;  /* reason codes, comma separated */
	const char *action;  /* remedy name, or "" */
	const char *result;  /* "ok", "failed", "skipped", "" */
	const char *detail;  /* free text for people */
};
struct wh_history;
/* Open (creating) the history database at @path. Returns 0 or -errno; a
 * message is printed on failure. */
int wh_history_open(const char *path, bool create, struct wh_history **ret);
void wh_history_close(struct wh_history *h);
/* Append @e; prints a warning on failure and returns -EIO. */
int wh_history_add(struct wh_history *h, const struct wh_event *e);
/* The default database path for @state_dir (static buffer). */
const char *wh_history_default(const char *state_dir);

#endif
