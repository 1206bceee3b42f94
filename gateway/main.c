// SPDX-License-Identifier: MIT
/* wg-gatewayd: the command line (run, check-config, migrate); the main
 * loop is in loop.c. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "exitcodes.h"
#include "gw.h"

static const char usage_text[] =
	"Usage: wg-gatewayd [-c FILE] [--foreground]\n"
	"       wg-gatewayd check-config [-c FILE]\n"
	"       wg-gatewayd migrate [-c FILE]\n"
	"       wg-gatewayd --version | --help\n"
	"\n"
	"Keep a WireGuard device in step with a registry (a directory of [Peer]\n"
	"files or PostgreSQL), serve STUN, export /metrics and /readyz, and\n"
	"announce the anycast addresses only while ready. Runs in the foreground\n"
	"and logs one line per event to stderr. See wg-gatewayd(8).\n"
	"\n"
	"  -c, --config FILE   the config (default " GW_DEFAULT_CONF ")\n"
	"      --foreground    accepted for clarity: the daemon never forks\n"
	"  -h, --help          this text\n"
	"  -V, --version       the version\n";

static int exit_for_conf(int r)
{
	return (r == -EPERM || r == -EACCES) ? WGK_EXIT_PERM : WGK_EXIT_INPUT;
}

static int cmd_check_config(const char *path)
{
	struct gw_conf c;
	char err[512];
	int r;

	r = gw_conf_parse(&c, path, err, sizeof(err));
	if (r < 0) {
		wgk_error("%s", err);
		return WGK_EXIT_INPUT;
	}
	gw_conf_clear(&c);
	puts("ok");
	return WGK_EXIT_OK;
}

static int cmd_migrate(const char *path)
{
	struct gw_conf c;
	char err[512];
	int r;

	r = gw_conf_parse(&c, path, err, sizeof(err));
	if (r < 0) {
		wgk_error("%s", err);
		return exit_for_conf(r);
	}
	if (c.source != GW_SOURCE_POSTGRESQL) {
		wgk_error("%s: Source: migrate needs Source = postgresql", path);
		gw_conf_clear(&c);
		return WGK_EXIT_INPUT;
	}
	r = gw_pg_migrate(&c, err, sizeof(err));
	gw_conf_clear(&c);
	if (r < 0) {
		wgk_error("%s", err);
		return WGK_EXIT_SYSTEM;
	}
	return WGK_EXIT_OK;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = GW_DEFAULT_CONF, *cmd = NULL;
	int c;

	wgk_err_init("wg-gatewayd");
	/* A subcommand comes first, options after it (or options alone). */
	if (argc > 1 && argv[1][0] != '-') {
		cmd = argv[1];
		argv++, argc--;
	}
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'f':
			break;
		case 'h':
			fputs(usage_text, stdout);
			return WGK_EXIT_OK;
		case 'V':
			printf("wg-gatewayd %s\n", WGKIT_VERSION);
			return WGK_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return WGK_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		wgk_error("unexpected argument '%s' (try wg-gatewayd --help)",
			  wgk_qs(argv[optind]));
		return WGK_EXIT_USAGE;
	}
	if (!cmd)
		return gw_run(path);
	if (!strcmp(cmd, "check-config"))
		return cmd_check_config(path);
	if (!strcmp(cmd, "migrate"))
		return cmd_migrate(path);
	if (!strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return WGK_EXIT_OK;
	}
	wgk_error("unknown command '%s' (try wg-gatewayd --help)", wgk_qs(cmd));
	return WGK_EXIT_USAGE;
}
