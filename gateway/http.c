/* stub: replaced by gw-edge */
// SPDX-License-Identifier: MIT
#include <errno.h>

#include "gw.h"

int gw_http_start(struct gw *gw)
{
	if (gw->conf.has_http)
		gw_log("warning", "http: not built yet, listen=%s ignored", gw->conf.http_listen);
	return 0;
}

void gw_http_stop(struct gw *gw)
{
}
