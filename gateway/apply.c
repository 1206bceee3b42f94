// SPDX-License-Identifier: MIT
/* The apply engine (not built yet). */
#include <errno.h>

#include "gw.h"

int gw_apply_new(struct gw *gw, struct gw_apply **ret)
{
	*ret = NULL;
	return -EOPNOTSUPP;
}

void gw_apply_free(struct gw_apply *a)
{
}

struct gw_sink *gw_apply_sink(struct gw_apply *a)
{
	return NULL;
}

int gw_apply_flush(struct gw_apply *a)
{
	return -EOPNOTSUPP;
}

int gw_apply_drift_check(struct gw_apply *a)
{
	return -EOPNOTSUPP;
}
