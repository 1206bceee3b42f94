/* stub: replaced by gw-edge */
// SPDX-License-Identifier: MIT
#include <errno.h>

#include "gw.h"

int gw_anycast_refresh(struct gw *gw)
{
	return gw->conf.n_anycast ? -EOPNOTSUPP : 0;
}

void gw_anycast_withdraw(struct gw *gw)
{
}
