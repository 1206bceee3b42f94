// SPDX-License-Identifier: MIT
/* wghealth on Windows, the Service Control Manager side: the tunnel service
 * of WireGuard for Windows (WireGuardTunnel$IF) stopped and started with
 * timeouts as the health check's remedy (wgnl_health_step_opts.service),
 * and wghealth.exe itself as a service (`wghealth service
 * install|uninstall|run`). Windows only; the Linux build compiles nothing
 * here. */
#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <winsock2.h>
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
	static const char *const names[] = {
		"?",	   "STOPPED",	       "START_PENDING", "STOP_PENDING",
		"RUNNING", "CONTINUE_PENDING", "PAUSE_PENDING", "PAUSED"
	};

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
		return fail(t, "service_query_failed", GetLastError(), "cannot query %ls", t->name);
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
/* ------------------------------------------------ wghealth as a service */

#define WH_SERVICE_NAME L"wghealth"

static SERVICE_STATUS_HANDLE svc_handle;
static SERVICE_STATUS svc_status;
static int svc_argc;
static char **svc_argv;

static void svc_report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
	svc_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	svc_status.dwCurrentState = state;
	svc_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
	svc_status.dwWin32ExitCode = exit_code ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
	svc_status.dwServiceSpecificExitCode = exit_code;
	svc_status.dwWaitHint = wait_hint;
	svc_status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ?
					  0 :
					  svc_status.dwCheckPoint + 1;
	SetServiceStatus(svc_handle, &svc_status);
}

static DWORD WINAPI svc_handler(DWORD ctrl, DWORD type, void *data, void *ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (ctrl) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		/* A check in progress may be restarting a tunnel: up to its
		 * stop and start timeouts. */
		svc_report(SERVICE_STOP_PENDING, 0, 65000);
		wh_daemon_stop();
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

static void WINAPI svc_main(DWORD argc, wchar_t **argv)
{
	(void)argc;
	(void)argv;
	svc_handle = RegisterServiceCtrlHandlerExW(WH_SERVICE_NAME, svc_handler, NULL);
	if (!svc_handle)
		return;
	svc_report(SERVICE_RUNNING, 0, 0);
	/* The daemon of `wghealth daemon`: every --interval (15 s), the
	 * settings of wghealth.conf and the arguments given at install. */
	int rc = cmd_daemon(svc_argc, svc_argv);
	svc_report(SERVICE_STOPPED, (DWORD)rc, 0);
}

/* @arg quoted for a Windows command line (CommandLineToArgvW rules):
 * backslashes before a quote are doubled, quotes escaped. */
static int quote_arg(wchar_t *buf, size_t size, size_t *off, const char *arg)
{
	wchar_t w[1024];
	size_t n = *off;
	bool q;

	if (!MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, arg, -1, w, 1024))
		return -EINVAL;
	q = !w[0] || wcspbrk(w, L" \t\"");
	if (n + 2 >= size)
		return -E2BIG;
	buf[n++] = L' ';
	if (q)
		buf[n++] = L'"';
	for (const wchar_t *p = w; *p; p++) {
		size_t bs = 0;
		while (p[bs] == L'\\')
			bs++;
		size_t times = p[bs] == L'"' || (!p[bs] && q) ? 2 * bs : bs;
		if (n + times + 4 >= size)
			return -E2BIG;
		for (size_t i = 0; i < times; i++)
			buf[n++] = L'\\';
		p += bs;
		if (!*p)
			break;
		if (*p == L'"')
			buf[n++] = L'\\';
		buf[n++] = *p;
	}
	if (q)
		buf[n++] = L'"';
	buf[n] = 0;
	*off = n;
	return 0;
}

static int svc_install(int argc, char **argv)
{
	wchar_t cmd[4096], exe[MAX_PATH];
	size_t off;
	SC_HANDLE scm, svc;
	DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);

	if (!n || n >= MAX_PATH) {
		wgk_error("service install: cannot find wghealth.exe's own path");
		return WGK_EXIT_SYSTEM;
	}
	off = (size_t)_snwprintf(cmd, 4096, L"\"%ls\" service run", exe);
	for (int i = 0; i < argc; i++)
		if (quote_arg(cmd, 4096, &off, argv[i]) < 0) {
			wgk_error("service install: argument '%s' cannot be stored",
				  wgk_q(argv[i]));
			return WGK_EXIT_USAGE;
		}
	/* The default state folder (WH_STATE_DIR), for the history. */
	CreateDirectoryW(L"C:\\ProgramData\\wgkit", NULL);
	CreateDirectoryW(L"C:\\ProgramData\\wgkit\\wghealth", NULL);
	scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE);
	if (!scm) {
		wgk_error("service install: cannot open the service manager: error %lu",
			  GetLastError());
		return GetLastError() == ERROR_ACCESS_DENIED ? WGK_EXIT_PERM : WGK_EXIT_SYSTEM;
	}
	svc = CreateServiceW(scm, WH_SERVICE_NAME, L"wgkit tunnel health (wghealth)",
			     SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
			     SERVICE_ERROR_NORMAL, cmd, NULL, NULL, NULL, NULL, NULL);
	if (!svc) {
		DWORD e = GetLastError();
		CloseServiceHandle(scm);
		if (e == ERROR_SERVICE_EXISTS) {
			wgk_error("service install: the service 'wghealth' exists already "
				  "(wghealth service uninstall first)");
			return WGK_EXIT_INPUT;
		}
		wgk_error("service install: cannot create the service 'wghealth': error %lu", e);
		return e == ERROR_ACCESS_DENIED ? WGK_EXIT_PERM : WGK_EXIT_SYSTEM;
	}
	SERVICE_DESCRIPTIONW desc = { (wchar_t *)L"Checks WireGuard tunnels and restarts "
						 L"their tunnel services (wghealth(8))" };
	ChangeServiceConfig2W(svc, SERVICE_CONFIG_DESCRIPTION, &desc);
	printf("installed the service 'wghealth': %ls\n", cmd);
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return WGK_EXIT_OK;
}

static int svc_uninstall(void)
{
	SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc;
	SERVICE_STATUS ss;
	DWORD e;

	if (!scm) {
		wgk_error("service uninstall: cannot open the service manager: error %lu",
			  GetLastError());
		return WGK_EXIT_SYSTEM;
	}
	svc = OpenServiceW(scm, WH_SERVICE_NAME, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE);
	if (!svc) {
		e = GetLastError();
		CloseServiceHandle(scm);
		wgk_error("service uninstall: no service 'wghealth'%s",
			  e == ERROR_SERVICE_DOES_NOT_EXIST ? "" : " (cannot open it)");
		return e == ERROR_SERVICE_DOES_NOT_EXIST ? WGK_EXIT_NOTFOUND :
		       e == ERROR_ACCESS_DENIED		 ? WGK_EXIT_PERM :
							   WGK_EXIT_SYSTEM;
	}
	/* Stopped first, so no check is cut off half-way by the removal. */
	if (ControlService(svc, SERVICE_CONTROL_STOP, &ss))
		for (int i = 0; i < 700 && QueryServiceStatus(svc, &ss) &&
				ss.dwCurrentState != SERVICE_STOPPED;
		     i++)
			Sleep(POLL_MS);
	if (!DeleteService(svc)) {
		e = GetLastError();
		CloseServiceHandle(svc);
		CloseServiceHandle(scm);
		wgk_error("service uninstall: cannot delete the service 'wghealth': error %lu", e);
		return e == ERROR_ACCESS_DENIED ? WGK_EXIT_PERM : WGK_EXIT_SYSTEM;
	}
	printf("uninstalled the service 'wghealth'\n");
	CloseServiceHandle(svc);
	CloseServiceHandle(scm);
	return WGK_EXIT_OK;
}

static int svc_run(int argc, char **argv)
{
	SERVICE_TABLE_ENTRYW table[] = {
		{ (wchar_t *)WH_SERVICE_NAME, svc_main },
		{ NULL, NULL },
	};
	/* The daemon's arguments: "daemon" then what install stored. */
	svc_argc = argc + 1;
	svc_argv = calloc((size_t)svc_argc + 1, sizeof(*svc_argv));
	if (!svc_argv)
		return WGK_EXIT_SYSTEM;
	svc_argv[0] = (char *)"daemon";
	for (int i = 0; i < argc; i++)
		svc_argv[i + 1] = argv[i];
	if (!StartServiceCtrlDispatcherW(table)) {
		DWORD e = GetLastError();
		free(svc_argv);
		if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
			wgk_error("service run: only the service manager runs this "
				  "(wghealth service install; or wghealth daemon)");
		else
			wgk_error("service run: cannot connect to the service manager: error %lu",
				  e);
		return WGK_EXIT_USAGE;
	}
	free(svc_argv);
	return WGK_EXIT_OK;
}

static void service_help(FILE *f)
{
	fprintf(f, "Usage: wghealth service install [DAEMON-ARGS...]\n"
		   "       wghealth service uninstall\n"
		   "       wghealth service run [DAEMON-ARGS...]   (the service manager's entry)\n"
		   "install registers wghealth.exe as the auto-start service 'wghealth', which\n"
		   "runs `wghealth daemon DAEMON-ARGS` (check every 15 s, 3 retries, backoff\n"
		   "10/20/40 s, cooldown 300 s by default). See wghealth(8), WINDOWS.\n");
}

int cmd_service(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		service_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? WGK_EXIT_USAGE : WGK_EXIT_OK;
	}
	if (!strcmp(argv[1], "install"))
		return svc_install(argc - 2, argv + 2);
	if (!strcmp(argv[1], "uninstall")) {
		if (argc > 2) {
			wgk_error("service uninstall: unexpected argument '%s'", wgk_q(argv[2]));
			return WGK_EXIT_USAGE;
		}
		return svc_uninstall();
	}
	if (!strcmp(argv[1], "run"))
		return svc_run(argc - 2, argv + 2);
	wgk_error("service: unknown action '%s' (install, uninstall, run)", wgk_q(argv[1]));
	return WGK_EXIT_USAGE;
}
#endif
