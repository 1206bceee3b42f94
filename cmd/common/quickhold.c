// SPDX-License-Identifier: MIT
/* Windows: wireguard-nt removes an adapter when the handle that created it
 * closes, so a tunnel lives as long as the process that brought it up (the
 * tunnel service, for WireGuard for Windows). `wgctl up` therefore stays and
 * holds the tunnel until `wgctl down` (or Ctrl-C) asks it to stop, then
 * takes it down itself: only the creator can remove the adapter, and the
 * bypass routes it made on the LAN adapter would otherwise stay behind.
 *
 * The two processes meet through two named objects per interface: an event
 * "Local\wgkit-down-IF" (down sets it) and a mutex "Local\wgkit-hold-IF"
 * the holder owns until it exits (down waits for it). On Linux the tunnel
 * outlives wgctl, and both calls do nothing. */
#include <stdio.h>
#include <string.h>

#include "quick.h"

#ifdef _WIN32
#include <windows.h>

/* How long `down` waits for the holder to finish its down. */
#define QUICK_HOLD_STOP_MS 30000

static HANDLE stop_event;

static void names(const char *ifname, char *ev, char *mx, size_t len)
{
	snprintf(ev, len, "Local\\wgkit-down-%s", ifname);
	snprintf(mx, len, "Local\\wgkit-hold-%s", ifname);
}

static BOOL WINAPI on_ctrl(DWORD type)
{
	(void)type;
	if (stop_event)
		SetEvent(stop_event);
	return TRUE; /* handled: the main thread takes the tunnel down */
}

int quick_hold_begin(const char *ifname, void **hold)
{
	char ev[128], mx[128];
	HANDLE m;

	*hold = NULL;
	names(ifname, ev, mx, sizeof(ev));
	stop_event = CreateEventA(NULL, TRUE, FALSE, ev);
	m = CreateMutexA(NULL, TRUE, mx);
	if (!stop_event || !m) {
		if (m)
			CloseHandle(m);
		return -1;
	}
	SetConsoleCtrlHandler(on_ctrl, TRUE);
	*hold = m;
	return 0;
}

void quick_hold_wait(const char *ifname)
{
	wgk_note("up: '%s' is up and lives as long as this process (wireguard-nt removes an "
		 "adapter with its creator): `wgctl down %s` or Ctrl-C takes it down",
		 ifname, ifname);
	fflush(stderr);
	WaitForSingleObject(stop_event, INFINITE);
}

void quick_hold_end(void *hold)
{
	if (hold) {
		ReleaseMutex(hold);
		CloseHandle(hold);
	}
	if (stop_event) {
		CloseHandle(stop_event);
		stop_event = NULL;
	}
}

bool quick_hold_needed(void)
{
	return true;
}

int quick_hold_stop(const char *ifname)
{
	char ev[128], mx[128];
	HANDLE e, m;
	DWORD w;

	names(ifname, ev, mx, sizeof(ev));
	e = OpenEventA(EVENT_MODIFY_STATE, FALSE, ev);
	if (!e)
		return 0; /* nobody holds it */
	m = OpenMutexA(SYNCHRONIZE, FALSE, mx);
	SetEvent(e);
	CloseHandle(e);
	if (!m)
		return 1;
	w = WaitForSingleObject(m, QUICK_HOLD_STOP_MS);
	if (w == WAIT_OBJECT_0 || w == WAIT_ABANDONED)
		ReleaseMutex(m);
	CloseHandle(m);
	return w == WAIT_TIMEOUT ? -1 : 1;
}
#else
int quick_hold_begin(const char *ifname, void **hold)
{
	(void)ifname;
	*hold = NULL;
	return 0;
}

void quick_hold_wait(const char *ifname)
{
	(void)ifname;
}

void quick_hold_end(void *hold)
{
	(void)hold;
}

bool quick_hold_needed(void)
{
	return false;
}

int quick_hold_stop(const char *ifname)
{
	(void)ifname;
	return 0;
}
#endif
