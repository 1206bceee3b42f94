// SPDX-License-Identifier: MIT
/* wghealth: a dispatcher over one subcommand per file. */

#include "dispatch.h"
#include "err.h"
#include "wghealth.h"

static const struct wgk_cmd cmds[] = {
	{ "check", cmd_check, "check one tunnel once, repair it, exit 0/1/2/3 (Nagios)" },
	{ "daemon", cmd_daemon, "check tunnels every --interval until stopped" },
	{ "status", cmd_status, "the last verdict of each tunnel" },
	{ "history", cmd_history, "verdict transitions and remedies" },
	{ "failover", cmd_failover,
	  "fast failover for anycast peers: re-handshake when rx stalls" },
	{ "probe", cmd_probe, "probe targets (ICMP, UDP, TCP, HTTP) at once and print RTTs" },
};

static const struct wgk_tool tool = {
	.name = "wghealth",
	.usage = "Usage: wghealth <command> [<args>]\n"
		 "       wghealth --version | --help | <command> --help\n",
	.hint = "try wghealth --help",
	.width = 9,
	.cmds = cmds,
	.n_cmds = sizeof(cmds) / sizeof(cmds[0]),
};

int main(int argc, char **argv)
{
	wgk_err_init("wghealth");
	return wgk_dispatch(&tool, argc, argv);
}
