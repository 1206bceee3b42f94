// SPDX-License-Identifier: MIT
/* wgctl sync's state directory, and the record `up` writes and `down`
 * forgets (syncstate.h). */
#include <stdlib.h>
#include <string.h>

#include <wgkit/wgnl_sync.h>

#include "syncstate.h"

const char *wgk_sync_state_dir(const char *dir)
{
	/* A copy: getenv()'s string is the environment's own, and on Windows
	 * the next setenv() (the interface lock sets one) moves it. */
	static char copy[4096];
	const char *env = getenv("WGCTL_STATE_DIR");

	if (dir && *dir)
		return dir;
	if (!env || !*env || strlen(env) >= sizeof(copy))
		return SYNC_STATE_DIR;
	strcpy(copy, env);
	return copy;
}

int wgctl_sync_record(const char *dir, const char *ifname, struct wgnl_config *cfg)
{
	/* `up` does not know the file's bytes: the next sync parses. */
	wgnl_sync_fast_forget(wgk_sync_state_dir(dir), ifname);
	return wgnl_sync_record_save(wgk_sync_state_dir(dir), ifname, cfg, WGNL_SYNC_RECORD_FORCE);
}

void wgctl_sync_forget(const char *dir, const char *ifname)
{
	wgnl_sync_record_forget(wgk_sync_state_dir(dir), ifname);
}
