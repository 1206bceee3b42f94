// SPDX-License-Identifier: MIT
/* wghealth on Windows, the Service Control Manager side: the tunnel service
 * of WireGuard for Windows (WireGuardTunnel$IF) stopped and started with
 * timeouts as the health check's remedy (wgnl_health_step_opts.service),
 * and wghealth.exe itself as a service (`wghealth service
 * install|uninstall|run`). Windows only; the Linux build compiles nothing
 * here. */
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "err.h"
#include "exitcodes.h"
#include "wghealth.h"
#include "wgkit/wgnl_health.h"

#define TUNNEL_PREFIX L"WireGuardTunnel$"
/* A pending state is polled this often: a tunnel service stops or starts in
 * well under a second when it is well. */
#define POLL_MS 100

/* ------------------------------------------------ the tunnel service */

struct tsvc {
	SC_HANDLE scm, svc;
	wchar_t name[WGNL_IFNAMSIZ + 32];
	struct wgnl_health_remedy_log *log;
};

static const char *state_name(DWORD s)
{
	static const char *const names[] = { "?",	     "STOPPED",	     "START_PENDING",
					     "STOP_PENDING", "RUNNING",	     "CONTINUE_PENDING",
					     "PAUSE_PENDING", "PAUSED" };

	return s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* Fail with @code and a line for people ending in the Win32 error @e. */
static int fail(struct tsvc *t, const char *code, DWORD e, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(struct tsvc *t, const char *code, DWORD e, const char *fmt, ...)
{
	char *d = t->log->detail;
	size_t n = sizeof(t->log->detail), off;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d, n, fmt, ap);
	va_end(ap);
	off = strlen(d);
	if (e && off < n)
		snprintf(d + off, n - off, ": error %lu", (unsigned long)e);
	snprintf(t->log->error, sizeof(t->log->error), "%s", code);
	return -1;
}

static int tsvc_open(struct tsvc *t, const char *ifname)
{
	wchar_t w[WGNL_IFNAMSIZ];
	DWORD e;

	if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, ifname, -1, w,
				 sizeof(w) / sizeof(w[0])))
		return fail(t, "service_not_found", GetLastError(), "tunnel name '%s'", ifname);
	_snwprintf(t->name, sizeof(t->name) / sizeof(t->name[0]), L"%ls%ls", TUNNEL_PREFIX, w);
	t->name[sizeof(t->name) / sizeof(t->name[0]) - 1] = 0;
	t->scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
	if (!t->scm)
		return fail(t, "service_query_failed", GetLastError(),
			    "cannot open the service manager");
	t->svc = OpenServiceW(t->scm, t->name, SERVICE_QUERY_STATUS | SERVICE_START | SERVICE_STOP);
	if (t->svc)
		return 0;
	e = GetLastError();
	if (e == ERROR_SERVICE_DOES_NOT_EXIST || e == ERROR_INVALID_NAME)
		return fail(t, "service_not_found", e, "no service WireGuardTunnel$%s", ifname);
	return fail(t, "service_query_failed", e, "cannot open the service WireGuardTunnel$%s",
		    ifname);
}

static void tsvc_close(struct tsvc *t)
{
	if (t->svc)
		CloseServiceHandle(t->svc);
	if (t->scm)
		CloseServiceHandle(t->scm);
}

/* The service's state (SERVICE_STOPPED ... SERVICE_PAUSED) in *state and
 * its exit code in *exit_code. */
static int tsvc_state(struct tsvc *t, DWORD *state, DWORD *exit_code)
{
	SERVICE_STATUS_PROCESS sp;
	DWORD need = 0;

	memset(&sp, 0, sizeof(sp));
	if (!QueryServiceStatusEx(t->svc, SC_STATUS_PROCESS_INFO, (BYTE *)&sp, sizeof(sp), &need))
		return fail(t, "service_query_failed", GetLastError(), "cannot query %ls",
			    t->name);
	/* Anything but the seven documented states: we cannot tell what the
	 * service is doing, so we do not act on it. */
	if (sp.dwCurrentState < SERVICE_STOPPED || sp.dwCurrentState > SERVICE_PAUSED)
		return fail(t, "service_state_parse_failed", 0, "%ls reports state %lu", t->name,
			    (unsigned long)sp.dwCurrentState);
	*state = sp.dwCurrentState;
	if (exit_code)
		*exit_code = sp.dwWin32ExitCode == ERROR_SERVICE_SPECIFIC_ERROR ?
				     sp.dwServiceSpecificExitCode :
				     sp.dwWin32ExitCode;
	return 0;
}

/* Poll until the state is @want, or @timeout_ms passed (-ETIMEDOUT, the
 * last state in *state), or it became @bad (-ECANCELED). */
static int tsvc_wait(struct tsvc *t, DWORD want, DWORD bad, uint32_t timeout_ms, DWORD *state,
		     DWORD *exit_code)
{
	ULONGLONG give_up = GetTickCount64() + timeout_ms;

	for (;;) {
		if (tsvc_state(t, state, exit_code) < 0)
			return -EIO;
		if (*state == want)
			return 0;
		if (*state == bad)
			return -ECANCELED;
		if (GetTickCount64() >= give_up)
			return -ETIMEDOUT;
		Sleep(POLL_MS);
	}
}

/* Stop: SERVICE_CONTROL_STOP, then wait for STOPPED. */
static int tsvc_stop(struct tsvc *t, uint32_t timeout_ms)
{
	SERVICE_STATUS ss;
	DWORD state, e;
	int r;

	if (tsvc_state(t, &state, NULL) < 0)
		return -1;
	if (state == SERVICE_STOPPED)
		return 0;
	if (state != SERVICE_STOP_PENDING && !ControlService(t->svc, SERVICE_CONTROL_STOP, &ss)) {
		e = GetLastError();
		/* Not running after all, or busy (a pending state): wait. */
		if (e != ERROR_SERVICE_NOT_ACTIVE && e != ERROR_SERVICE_CANNOT_ACCEPT_CTRL)
			return fail(t, "reconnect_stop_failed", e, "cannot stop %ls (%s)", t->name,
				    state_name(state));
	}
	r = tsvc_wait(t, SERVICE_STOPPED, 0, timeout_ms, &state, NULL);
	if (r == -ETIMEDOUT)
		return fail(t, "reconnect_stop_timeout", 0, "%ls still %s after %.1f s", t->name,
			    state_name(state), timeout_ms / 1000.0);
	return r < 0 ? -1 : 0;
}

/* Start: StartServiceW, then wait for RUNNING. */
static int tsvc_start(struct tsvc *t, uint32_t timeout_ms)
{
	DWORD state, code = 0, e;
	int r;

	if (tsvc_state(t, &state, NULL) < 0)
		return -1;
	if (state == SERVICE_RUNNING)
		return 0;
	if (state != SERVICE_START_PENDING && !StartServiceW(t->svc, 0, NULL)) {
		e = GetLastError();
		if (e != ERROR_SERVICE_ALREADY_RUNNING)
			return fail(t, "reconnect_start_failed", e, "cannot start %ls", t->name);
	}
	r = tsvc_wait(t, SERVICE_RUNNING, SERVICE_STOPPED, timeout_ms, &state, &code);
	if (r == -ETIMEDOUT)
		return fail(t, "reconnect_start_timeout", 0, "%ls still %s after %.1f s", t->name,
			    state_name(state), timeout_ms / 1000.0);
	if (r == -ECANCELED)
		return fail(t, "reconnect_start_failed", code, "%ls stopped while starting",
			    t->name);
	return r < 0 ? -1 : 0;
}

int wh_service_remedy(const char *ifname, enum wgnl_health_remedy what,
		      const struct wgnl_health_settings *s, struct wgnl_health_remedy_log *log,
		      void *arg)
{
	struct tsvc t = { .log = log };
	uint32_t stop_ms = s->service_stop_timeout_ms ? s->service_stop_timeout_ms : 30000;
	uint32_t start_ms = s->service_start_timeout_ms ? s->service_start_timeout_ms : 30000;
	bool stop = what != WGNL_HEALTH_REMEDY_TUNNEL_UP;
	bool start = what != WGNL_HEALTH_REMEDY_TUNNEL_DOWN;
	int r;

	(void)arg;
	r = tsvc_open(&t, ifname);
	if (r == 0 && stop)
		r = tsvc_stop(&t, stop_ms);
	if (r == 0 && start)
		r = tsvc_start(&t, start_ms);
	if (r == 0)
		snprintf(log->detail, sizeof(log->detail), "%ls %s", t.name,
			 stop && start ? "stopped and started" :
			 stop	       ? "stopped" :
					 "started");
	tsvc_close(&t);
	return r < 0 ? -1 : 0;
}
#endif
