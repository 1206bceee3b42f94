// SPDX-License-Identifier: MIT
/* wgnl_quick_up()/wgnl_quick_down() in-process with NULL options, as a
 * daemon would call them: no callbacks, so nothing forks. For
 * tests/wgctl/run.sh.
 *
 *   quick_drive up|down IFNAME CONF
 *
 * Prints one line to stderr, "rc=<ret> err=<strerror or OK>", and exits 0
 * when the call returned 0, else 1 (2: bad arguments or config). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_quick.h"

int main(int argc, char **argv)
{
	struct wgnl_config *cfg = NULL;
	struct wgnl_ctx *ctx = NULL;
	bool up;
	int r;

	if (argc != 4 || (strcmp(argv[1], "up") && strcmp(argv[1], "down"))) {
		fprintf(stderr, "usage: quick_drive up|down IFNAME CONF\n");
		return 2;
	}
	up = !strcmp(argv[1], "up");
	r = wgnl_config_parse_file(argv[3], WGNL_CONFIG_QUICK, &cfg, NULL);
	if (r < 0) {
		fprintf(stderr, "quick_drive: cannot parse '%s': %s\n", argv[3], strerror(-r));
		return 2;
	}
	r = wgnl_ctx_open(&ctx);
	if (r == 0)
		r = up ? wgnl_quick_up(ctx, argv[2], cfg, NULL) :
			 wgnl_quick_down(ctx, argv[2], cfg, NULL);
	fprintf(stderr, "rc=%d err=%s\n", r, r < 0 ? strerror(-r) : "OK");
	wgnl_ctx_close(ctx);
	wgnl_config_free(cfg);
	return r < 0 ? 1 : 0;
}
