// SPDX-License-Identifier: MIT
/* wgctl: a scriptable superset of wg and wg-quick. Global options, then one
 * subcommand per file behind this table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "wgctl.h"

static const struct wgk_cmd commands[] = {
	{ "show", cmd_show, "show interfaces, peers and their state (text, dump or --json)" },
	{ "showconf", cmd_showconf, "print an interface's configuration, private key included" },
	{ "set", cmd_set, "change an interface's settings and peers" },
	{ "setconf", cmd_setconf, "replace an interface's configuration with a file" },
	{ "addconf", cmd_addconf, "add a file's configuration to an interface" },
	{ "sync", cmd_sync, "apply only what differs from a file; --plan shows it as JSON" },
	{ "syncconf", cmd_syncconf, "make an interface match a file (peers absent from it go)" },
	{ "genkey", cmd_genkey, "print a new private key" },
	{ "genpsk", cmd_genpsk, "print a new preshared key" },
	{ "pubkey", cmd_pubkey, "print the public key of the private key read on stdin" },
	{ "up", cmd_up, "bring up an interface from a wg-quick config" },
	{ "down", cmd_down, "tear down an interface brought up from a wg-quick config" },
	{ "peer", cmd_peer, "add or remove one peer idempotently; list or show peers" },
	{ "reresolve", cmd_reresolve, "resolve endpoint names again, set those that moved" },
};

/* Take the global flags out of argv wherever they appear (up to a "--",
 * which is dropped), so `wgctl show wg0 --json` and `wgctl --json show wg0`
 * both work. */
/* --wait SECONDS: 0 to 3600, fractions allowed. */
static int parse_wait(const char *s)
{
	char *end;
	double v;

	if (!s || !*s)
		return -1;
	v = strtod(s, &end);
	if (*end || !(v >= 0 && v <= 3600))
		return -1;
	wgctl_opt.wait = v;
	return 0;
}

static int take_global_flags(int *argc, char **argv)
{
	int out = 1, i;

	wgctl_opt.wait = 10;
	for (i = 1; i < *argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--wait") || !strncmp(argv[i], "--wait=", 7)) {
			const char *v = argv[i][6] ? argv[i] + 7 : i + 1 < *argc ? argv[++i] : NULL;

			if (parse_wait(v) < 0) {
				wgk_error("--wait needs a number of seconds from 0 to 3600 (see "
					  "'wgctl --help')");
				return WGK_EXIT_USAGE;
			}
		} else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			wgctl_opt.quiet = true;
		} else if (!strcmp(argv[i], "--allow-empty")) {
			wgctl_opt.allow_empty = true;
		} else if (!strcmp(argv[i], "--json")) {
			wgctl_opt.json = true;
		} else if (!strcmp(argv[i], "--show-keys")) {
			wgctl_opt.show_keys = true;
		} else {
			argv[out++] = argv[i];
		}
	}
	for (; i < *argc; i++)
		argv[out++] = argv[i];
	argv[out] = NULL;
	*argc = out;
	return 0;
}

/* stdout goes through a buffer of ours, so that what passed through it
 * (showconf, genkey and --show-keys print keys) can be wiped at exit. */
static char stdout_buf[64 * 1024];

static int finish(int rc)
{
	fflush(stdout);
	wgnl_wipe(stdout_buf, sizeof(stdout_buf));
	return rc;
}

/* Like wg: no command means "show". */
static int no_command(void)
{
	char *show_argv[] = { (char *)"show", NULL };

	return cmd_show(1, show_argv);
}

static const struct wgk_tool tool = {
	.name = "wgctl",
	.usage = "Usage: wgctl [--json] [--show-keys] [-q] [--wait SECONDS] <command> [<args>]\n"
		 "       wgctl --version | --help | <command> --help\n",
	.trailer = "Exit codes: 0 ok, 1 usage, 2 bad config or input, 3 no such interface or\n"
		   "peer, 4 permission denied, 5 kernel or system error. See wgctl(8).\n",
	.hint = "see 'wgctl --help'",
	.width = 9,
	.cmds = commands,
	.n_cmds = sizeof(commands) / sizeof(commands[0]),
	.no_command = no_command,
};

int main(int argc, char **argv)
{
	wgk_err_init("wgctl");
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof(stdout_buf));
	if (take_global_flags(&argc, argv))
		return WGK_EXIT_USAGE;
	return finish(wgk_dispatch(&tool, argc, argv));
}
