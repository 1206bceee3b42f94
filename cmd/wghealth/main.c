// SPDX-License-Identifier: MIT
/* wghealth: a dispatcher over one subcommand per file. */
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "exitcodes.h"
#include "wghealth.h"

static const struct cmd cmds[] = {
	{ "check", cmd_check, "check one tunnel once, repair it, exit 0/1/2/3 (Nagios)" },
	{ "daemon", cmd_daemon, "check tunnels every --interval until stopped" },
	{ "status", cmd_status, "the last verdict of each tunnel" },
	{ "history", cmd_history, "verdict transitions and remedies" },
	{ "probe", cmd_probe, "probe targets (ICMP, UDP, TCP, HTTP) at once and print RTTs" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: wghealth <command> [<args>]\n"
		   "       wghealth --version | --help | <command> --help\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-9s %s\n", cmds[i].name, cmds[i].help);
}

int main(int argc, char **argv)
{
	wgk_err_init("wghealth");
	if (argc < 2) {
		usage(stderr);
		return WGK_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return WGK_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("wghealth %s (wgkit)\n", WGKIT_VERSION);
		return WGK_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].fn(argc - 1, argv + 1);
	wgk_error("unknown command '%s' (try wghealth --help)", wgk_q(argv[1]));
	return WGK_EXIT_USAGE;
}
