// SPDX-License-Identifier: MIT
/* The registry of sources: [Registry] Source = NAME picks one. */
#include <string.h>

#include "gw.h"

static const struct gw_source_ops *const sources[] = {
	&gw_dirsource_ops,
	&gw_pgsource_ops,
};

const struct gw_source_ops *gw_source_find(const char *name)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++)
		if (!strcmp(sources[i]->name, name))
			return sources[i];
	return NULL;
}
