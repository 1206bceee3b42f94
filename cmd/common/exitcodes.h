/* SPDX-License-Identifier: MIT */
/* Exit codes shared by every wgkit tool (wgctl, wghealth, wgpunch). They are
 * an interface: scripts and Ansible test them, docs/wgctl.8 (EXIT STATUS)
 * documents them once and the other man pages refer there. Never renumber;
 * add new meanings only after the last one. The one exception is `wghealth
 * check`, which keeps the monitoring-plugin codes (0 OK, 1 WARNING,
 * 2 CRITICAL, 3 UNKNOWN) because monitoring depends on them. */
#ifndef WGK_EXITCODES_H
#define WGK_EXITCODES_H

enum wgk_exit {
	WGK_EXIT_OK = 0,       /* success (also: nothing needed to change) */
	WGK_EXIT_USAGE = 1,    /* bad command line: unknown command, option or argument */
	WGK_EXIT_INPUT = 2,    /* bad configuration or input: unparsable file, bad key, bad value */
	WGK_EXIT_NOTFOUND = 3, /* no such interface or peer */
	WGK_EXIT_PERM = 4,     /* permission denied (needs CAP_NET_ADMIN / root) */
	WGK_EXIT_SYSTEM = 5,   /* the kernel, a userspace implementation or the system failed */
};

#ifndef WGKIT_VERSION
#define WGKIT_VERSION "0.1.0"
#endif

#endif
