/* SPDX-License-Identifier: MIT */
/* wghealth: health checks for WireGuard gateways. One file per subcommand. */
#ifndef WGHEALTH_H
#define WGHEALTH_H

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

int cmd_probe(int argc, char **argv);

#endif
