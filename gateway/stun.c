/* stub: replaced by gw-edge */
// SPDX-License-Identifier: MIT
#include <errno.h>

#include "gw.h"

int gw_stun_start(struct gw *gw)
{
	if (gw->conf.n_stun)
		gw_log("warning", "stun: not built yet, %zu listen address(es) ignored",
		       gw->conf.n_stun);
	return 0;
}

void gw_stun_stop(struct gw *gw)
{
}

bool gw_stun_ok(struct gw *gw)
{
	return true;
}
