// SPDX-License-Identifier: MIT
/* wgctl sync's state directory, and the record `up` writes and `down`
 * forgets (syncstate.h). */
#include <stdlib.h>

#include <wgkit/wgnl_sync.h>

#include "syncstate.h"

const char *wgk_sync_state_dir(const char *dir)
{
	const char *env = getenv("WGCTL_STATE_DIR");

	if (dir && *dir)
		return dir;
	return env && *env ? env : SYNC_STATE_DIR;
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
