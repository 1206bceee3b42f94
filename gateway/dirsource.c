// SPDX-License-Identifier: MIT
/* The directory source (not built yet). */
#include <errno.h>
#include <stdio.h>

#include "gw.h"

static int dir_open(struct gw_source **ret, const struct gw_conf *c, char *err, size_t errlen)
{
	*ret = NULL;
	snprintf(err, errlen, "the directory source is not built yet");
	return -EOPNOTSUPP;
}

static void dir_close(struct gw_source *s)
{
}

const struct gw_source_ops gw_dirsource_ops = {
	.name = "directory",
	.open = dir_open,
	.close = dir_close,
};
