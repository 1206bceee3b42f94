// SPDX-License-Identifier: MIT
/* The per-interface lock of wgctl's changing commands and of wghealth's
 * in-process restart (wg-quick down and up): /run/wgkit/IF.lock. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compat.h"
#include "err.h"
#include "exitcodes.h"
#include "iflock.h"

#define LOCK_DIR "/run/wgkit"
#define LOCK_HELD_ENV "WGCTL_LOCK_HELD"

/* The note found before ours (one lock at a time per process). */
static char prev_held[64];

const char *wgk_run_dir(void)
{
	const char *dir = getenv("WGCTL_LOCK_DIR");

	return dir && *dir ? dir : LOCK_DIR;
}

int wgk_if_lock(const char *cmd, const char *ifname, double wait, int *lockfd)
{
	const char *dir = wgk_run_dir(), *held = getenv(LOCK_HELD_ENV);
	char path[PATH_MAX];
	struct timespec start, now;
	bool told = false;
	int fd, r;

	*lockfd = -1;
	/* A hook run by `up` or `down` under this interface's lock (its
	 * PostUp may well call `wgctl set %i ...`): the parent holds it. */
	if (held && !strcmp(held, ifname))
		return 0;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.lock", dir, ifname) >= sizeof(path)) {
		wgk_error("%s: lock path too long", cmd);
		return WGK_EXIT_INPUT;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		r = -errno;
		wgk_error("%s: cannot create the lock directory '%s': %s", cmd, wgk_q(dir),
			  strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
	if (fd < 0) {
		r = -errno;
		wgk_error("%s: cannot open the lock '%s': %s", cmd, wgk_q(path), strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		double waited;

		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			r = -errno;
			close(fd);
			wgk_error("%s: cannot lock '%s': %s", cmd, wgk_q(path), strerror(-r));
			return WGK_EXIT_SYSTEM;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (double)(now.tv_sec - start.tv_sec) +
			 (double)(now.tv_nsec - start.tv_nsec) / 1e9;
		if (waited >= wait) {
			close(fd);
			wgk_error("%s: '%s' is busy: another wgctl or wg-gatewayd holds '%s' "
				  "(waited %g s; see --wait)",
				  cmd, wgk_q(ifname), wgk_q(path), wait);
			return WGK_EXIT_SYSTEM;
		}
		if (!told && waited >= 1.0) {
			wgk_note("%s: waiting for another wgctl on '%s' (up to %g s)", cmd,
				 wgk_q(ifname), wait);
			told = true;
		}
		usleep(20000);
	}
	/* Held until wgk_if_unlock() or exit; the hooks we run inherit the
	 * note, not the lock (O_CLOEXEC). A note a parent left for another
	 * interface comes back on unlock. */
	prev_held[0] = '\0';
	if (held && strlen(held) < sizeof(prev_held))
		strcpy(prev_held, held);
	setenv(LOCK_HELD_ENV, ifname, 1);
	*lockfd = fd;
	return 0;
}

void wgk_if_unlock(int lockfd)
{
	/* -1: a parent held it, and its note stays for the hooks. */
	if (lockfd < 0)
		return;
	if (prev_held[0])
		setenv(LOCK_HELD_ENV, prev_held, 1);
	else
		unsetenv(LOCK_HELD_ENV);
	close(lockfd);
}
