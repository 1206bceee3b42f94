/* stub: replaced by gw-pg */
// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>

#include "gw.h"

static int pg_open(struct gw_source **ret, const struct gw_conf *c, char *err, size_t errlen)
{
	*ret = NULL;
	snprintf(err, errlen, "the postgresql source is not built yet");
	return -EOPNOTSUPP;
}

static void pg_close(struct gw_source *s)
{
}

const struct gw_source_ops gw_pgsource_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
};

int gw_pg_migrate(const struct gw_conf *c, char *err, size_t errlen)
{
	snprintf(err, errlen, "migrate: the postgresql source is not built yet");
	return -EOPNOTSUPP;
}
