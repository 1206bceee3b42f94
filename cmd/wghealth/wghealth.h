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

#ifdef _WIN32
#include "wgkit/wgnl_health.h"
/* win_service.c: the tunnel service WireGuardTunnel$IF stopped and/or
 * started through the SCM with the settings' timeouts (the check's
 * wgnl_health_step_opts.service). */
int wh_service_remedy(const char *ifname, enum wgnl_health_remedy what,
		      const struct wgnl_health_settings *s, struct wgnl_health_remedy_log *log,
		      void *arg);
/* `wghealth service install|uninstall|run`: wghealth.exe as a service. */
int cmd_service(int argc, char **argv);
#endif
/* check.c: end cmd_daemon()'s loop after the check in progress (the
 * service's stop control; signals on Linux). */
void wh_daemon_stop(void);

#ifdef _WIN32
/* Windows: under ProgramData (`wghealth service install` creates the
 * folders), not /var/lib on whatever drive a service starts in. */
#define WH_STATE_DIR "C:/ProgramData/wgkit/wghealth"
#define WH_CONF "C:/ProgramData/wgkit/wghealth.conf"
#else
#define WH_STATE_DIR "/var/lib/wghealth"
#define WH_CONF "/etc/wgkit/wghealth.conf"
#endif

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
