/* SPDX-License-Identifier: MIT */
/* The command dispatcher of the wgkit tools: a { name, fn, help } table,
 * `-h`/`--help`/`help`, `--version`/`version`, and the unknown-command
 * error, with the exit codes of exitcodes.h. */
#ifndef WGK_DISPATCH_H
#define WGK_DISPATCH_H

#include <stddef.h>
#include <stdio.h>

/* One subcommand: fn gets argv from the subcommand's name on and returns
 * the tool's exit code. */
struct wgk_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

struct wgk_tool {
	const char *name;    /* "wgctl": the version line and the error prefix */
	const char *usage;   /* the "Usage: ..." lines, printed before "Commands:" */
	const char *trailer; /* printed after the command table, or NULL */
	const char *hint;    /* after an unknown command: "(<hint>)" */
	int width;	     /* of the command-name column */
	const struct wgk_cmd *cmds;
	size_t n_cmds;
	/* Run with no command at all; NULL: the usage on stderr, exit 1. */
	int (*no_command)(void);
};

/* The usage: @t->usage, "Commands:", the table, @t->trailer. */
void wgk_tool_usage(const struct wgk_tool *t, FILE *f);
/* Run the subcommand argv[1] names (argv[0] is the tool), answer help and
 * version, or report an unknown command (WGK_EXIT_USAGE). */
int wgk_dispatch(const struct wgk_tool *t, int argc, char **argv);
/* A Linux-only subcommand in a Windows build: "<prog>: NAME: not supported
 * on Windows", WGK_EXIT_USAGE. */
int wgk_cmd_unsupported(int argc, char **argv);

#endif
