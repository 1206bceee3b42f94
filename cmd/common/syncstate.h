/* SPDX-License-Identifier: MIT */
/* wgctl sync's state directory and record, as wgctl (sync, up, down) and
 * wghealth's in-process restart reach them: the directory from the command
 * line, else $WGCTL_STATE_DIR, else SYNC_STATE_DIR; the record itself is the
 * library's (wgkit/wgnl_sync.h). */
#ifndef WGK_SYNCSTATE_H
#define WGK_SYNCSTATE_H

struct wgnl_config;

#define SYNC_STATE_DIR "/var/lib/wgkit/sync"

/* The state directory for @dir (NULL or "": the environment, the default). */
const char *wgk_sync_state_dir(const char *dir);
/* Record @cfg (the desired state just applied to @ifname, without private
 * or preshared keys) as the last applied state that `wgctl sync` compares
 * endpoints against. Returns 0 or -errno. */
int wgctl_sync_record(const char *dir, const char *ifname, struct wgnl_config *cfg);
/* Drop the record of @ifname (the interface is gone: a later `up` starts a
 * new history). Missing files are not an error. */
void wgctl_sync_forget(const char *dir, const char *ifname);

#endif
