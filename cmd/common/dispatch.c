// SPDX-License-Identifier: MIT
/* The command dispatcher shared by wgctl, wghealth and wgpunch. */
#include <stdio.h>
#include <string.h>

#include "dispatch.h"
#include "err.h"
#include "exitcodes.h"

void wgk_tool_usage(const struct wgk_tool *t, FILE *f)
{
	fprintf(f, "%s\nCommands:\n", t->usage);
	for (size_t i = 0; i < t->n_cmds; i++)
		fprintf(f, "  %-*s %s\n", t->width, t->cmds[i].name, t->cmds[i].help);
	if (t->trailer)
		fprintf(f, "\n%s", t->trailer);
}

int wgk_dispatch(const struct wgk_tool *t, int argc, char **argv)
{
	const char *name;

	if (argc < 2) {
		if (t->no_command)
			return t->no_command();
		wgk_tool_usage(t, stderr);
		return WGK_EXIT_USAGE;
	}
	name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		wgk_tool_usage(t, stdout);
		return WGK_EXIT_OK;
	}
	if (!strcmp(name, "--version") || !strcmp(name, "version")) {
		printf("%s %s (wgkit)\n", t->name, WGKIT_VERSION);
		return WGK_EXIT_OK;
	}
	for (size_t i = 0; i < t->n_cmds; i++)
		if (!strcmp(name, t->cmds[i].name))
			return t->cmds[i].fn(argc - 1, argv + 1);
	wgk_error("unknown command '%s' (%s)", wgk_q(name), t->hint);
	return WGK_EXIT_USAGE;
}

int wgk_cmd_unsupported(int argc, char **argv)
{
	wgk_error("%s: not supported on Windows", wgk_q(argv[0]));
	return WGK_EXIT_USAGE;
}
