/* SPDX-License-Identifier: MIT */
/* Private to lib/health: the size check of struct wgnl_health_settings. */
#ifndef WGI_HEALTH_SETTINGS_H
#define WGI_HEALTH_SETTINGS_H

#include <stdbool.h>

#include "core/opts.h"
#include "wgkit/wgnl_health.h"

/* Settings a caller initialised (wgnl_health_settings_default() or its own
 * size): every field of 0.1 is covered. */
static inline bool wgi_health_settings_ok(const struct wgnl_health_settings *s)
{
	return s && s->size >= WGI_SIZE_0_1(struct wgnl_health_settings, critical);
}

#endif
