/* SPDX-License-Identifier: MIT */
/* One changer at a time per interface (iflock.c). */
#ifndef WGK_IFLOCK_H
#define WGK_IFLOCK_H

/* Take the per-interface lock (/run/wgkit/IF.lock, or $WGCTL_LOCK_DIR),
 * waiting up to @wait seconds for another holder ("another wgctl holds")
 * to finish. Exit code (0: taken); the error names @cmd and the lock. When
 * $WGCTL_LOCK_HELD names @ifname (a hook run by up or down under the lock)
 * the parent holds it: 0 without locking. Otherwise the lock is held, and
 * $WGCTL_LOCK_HELD=IF set for the hooks, until wgk_if_unlock(*lockfd) or
 * exit; *lockfd is -1 when nothing was taken. */
/* How long wghealth's restart waits for it (wgctl's --wait default). */
#define WGK_IF_LOCK_WAIT 10.0

int wgk_if_lock(const char *cmd, const char *ifname, double wait, int *lockfd);
/* The folder of the locks (and of wg-gatewayd's state file): /run/wgkit,
 * or $WGCTL_LOCK_DIR. */
const char *wgk_run_dir(void);
/* Release what wgk_if_lock() took (-1: nothing) and drop $WGCTL_LOCK_HELD, so
 * that a long-running process can take it again later. */
void wgk_if_unlock(int lockfd);

#endif
