// SPDX-License-Identifier: MIT
/* The daemon's main loop (not built yet). */
#include "err.h"
#include "exitcodes.h"
#include "gw.h"

int gw_run(const char *conf_path)
{
	wgk_error("the daemon is not built yet");
	return WGK_EXIT_SYSTEM;
}
