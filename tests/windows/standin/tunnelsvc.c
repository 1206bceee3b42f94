// SPDX-License-Identifier: MIT
/* A stand-in for the tunnel service of WireGuard for Windows
 * (WireGuardTunnel$NAME), for wghealth.exe's tests under wine's service
 * manager. It owns no adapter: it only goes through the service states the
 * way the test asks, so each failure of the SCM remedy is reproducible.
 *
 * Registered as: sc create "WireGuardTunnel$NAME" binPath= "C:\...\tunnelsvc.exe DIR"
 * DIR (else %WGKIT_STANDIN_DIR%, else %TEMP%) holds, per tunnel NAME:
 *   NAME.mode   what to do, one word (missing file: normal):
 *     normal      START_PENDING -> RUNNING; on stop STOP_PENDING -> STOPPED
 *     stuck_stop  runs, but a stop stays in STOP_PENDING (HOLD seconds, then stops)
 *     stuck_start stays in START_PENDING, never RUNNING (HOLD seconds, then stops)
 *     exit        reports STOPPED at once with an error (the process exits)
 *   NAME.hold   HOLD in seconds for the stuck modes (default 20)
 *   NAME.log    appended by the stand-in: one line per event
 *               ("start normal", "running", "stop", "stopped", "misuse ...")
 * Anything it does not expect (an unknown mode, a control it does not
 * accept, a second start) is logged as "misuse ..." and the service stops
 * with an error: a test that greps the log fails loudly. */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#define PREFIX L"WireGuardTunnel$"

enum mode {
	M_NORMAL,
	M_STUCK_STOP,
	M_STUCK_START,
	M_EXIT
};

static wchar_t g_dir[MAX_PATH];
static wchar_t g_name[256]; /* the tunnel NAME */
static SERVICE_STATUS_HANDLE g_handle;
static SERVICE_STATUS g_status;
static HANDLE g_stop_event;
static enum mode g_mode;
static DWORD g_hold_ms = 20000;

static void path_of(wchar_t *buf, size_t n, const wchar_t *ext)
{
	_snwprintf(buf, n, L"%ls\\%ls.%ls", g_dir, g_name, ext);
	buf[n - 1] = 0;
}

static void logf_(const char *fmt, ...)
{
	wchar_t p[MAX_PATH + 300];
	char line[512];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	path_of(p, sizeof(p) / sizeof(p[0]), L"log");
	f = _wfopen(p, L"a");
	if (!f)
		return;
	fprintf(f, "%s\n", line);
	fclose(f);
}

/* The first word of DIR\NAME.EXT, "" when there is no such file. */
static void read_word(const wchar_t *ext, char *out, size_t n)
{
	wchar_t p[MAX_PATH + 300];
	FILE *f;

	out[0] = 0;
	path_of(p, sizeof(p) / sizeof(p[0]), ext);
	f = _wfopen(p, L"r");
	if (!f)
		return;
	if (fscanf(f, "%63s", out) != 1)
		out[0] = 0;
	out[n - 1] = 0;
	fclose(f);
}

static int read_mode(void)
{
	char m[64], h[64];

	read_word(L"mode", m, sizeof(m));
	read_word(L"hold", h, sizeof(h));
	if (h[0])
		g_hold_ms = (DWORD)strtoul(h, NULL, 10) * 1000;
	if (!m[0] || !strcmp(m, "normal"))
		g_mode = M_NORMAL;
	else if (!strcmp(m, "stuck_stop"))
		g_mode = M_STUCK_STOP;
	else if (!strcmp(m, "stuck_start"))
		g_mode = M_STUCK_START;
	else if (!strcmp(m, "exit"))
		g_mode = M_EXIT;
	else {
		logf_("misuse: unknown mode '%s'", m);
		return -1;
	}
	logf_("start %s", m[0] ? m : "normal");
	return 0;
}

static void report(DWORD state, DWORD exit_code)
{
	g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	g_status.dwCurrentState = state;
	/* A service that will not stop does not say it accepts stop? The real
	 * one does, and hangs: so do we. */
	g_status.dwControlsAccepted = state == SERVICE_RUNNING || state == SERVICE_START_PENDING ?
					      SERVICE_ACCEPT_STOP :
					      0;
	g_status.dwWin32ExitCode = exit_code;
	g_status.dwWaitHint =
		state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING ? 3000 : 0;
	if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
		g_status.dwCheckPoint++;
	else
		g_status.dwCheckPoint = 0;
	if (!SetServiceStatus(g_handle, &g_status))
		logf_("misuse: SetServiceStatus failed: %lu", GetLastError());
}

static DWORD WINAPI handler(DWORD ctrl, DWORD type, void *data, void *ctx)
{
	(void)type;
	(void)data;
	(void)ctx;
	switch (ctrl) {
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	case SERVICE_CONTROL_STOP:
		if (g_status.dwCurrentState == SERVICE_STOP_PENDING) {
			logf_("stop again while stop pending");
			return NO_ERROR;
		}
		logf_("stop");
		report(SERVICE_STOP_PENDING, NO_ERROR);
		SetEvent(g_stop_event);
		return NO_ERROR;
	default:
		logf_("misuse: control %lu not accepted", ctrl);
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

static void WINAPI service_main(DWORD argc, wchar_t **argv)
{
	const wchar_t *svc = argc > 0 ? argv[0] : L"";

	if (wcsncmp(svc, PREFIX, wcslen(PREFIX)) == 0)
		svc += wcslen(PREFIX);
	_snwprintf(g_name, sizeof(g_name) / sizeof(g_name[0]), L"%ls", svc);
	g_name[sizeof(g_name) / sizeof(g_name[0]) - 1] = 0;
	g_handle = RegisterServiceCtrlHandlerExW(argc > 0 ? argv[0] : L"", handler, NULL);
	if (!g_handle) {
		logf_("misuse: RegisterServiceCtrlHandlerExW failed: %lu", GetLastError());
		return;
	}
	g_stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
	report(SERVICE_START_PENDING, NO_ERROR);
	if (read_mode() < 0) {
		report(SERVICE_STOPPED, ERROR_INVALID_DATA);
		return;
	}
	switch (g_mode) {
	case M_EXIT:
		/* As a tunnel service whose config cannot be loaded. */
		logf_("stopped (exit)");
		report(SERVICE_STOPPED, ERROR_INVALID_DATA);
		return;
	case M_STUCK_START:
		/* Never RUNNING: start pending until the hold is over (or a stop). */
		WaitForSingleObject(g_stop_event, g_hold_ms);
		logf_("stopped (start never finished)");
		report(SERVICE_STOPPED, ERROR_TIMEOUT);
		return;
	default:
		break;
	}
	report(SERVICE_RUNNING, NO_ERROR);
	logf_("running");
	WaitForSingleObject(g_stop_event, INFINITE);
	if (g_mode == M_STUCK_STOP) {
		/* Stop pending, and pending, and pending. */
		for (DWORD t = 0; t < g_hold_ms; t += 1000) {
			Sleep(1000);
			report(SERVICE_STOP_PENDING, NO_ERROR);
		}
	}
	logf_("stopped");
	report(SERVICE_STOPPED, NO_ERROR);
}

int wmain(int argc, wchar_t **argv)
{
	SERVICE_TABLE_ENTRYW table[] = {
		/* SERVICE_WIN32_OWN_PROCESS: the name here is not checked. */
		{ (wchar_t *)L"", service_main },
		{ NULL, NULL },
	};
	const wchar_t *dir = argc > 1 ? argv[1] : _wgetenv(L"WGKIT_STANDIN_DIR");

	/* tunnelsvc.exe --session SECONDS: no service, a process that keeps
	 * wine's session up for the tests. Once its last ordinary process
	 * exits, wine ends the session: services are killed (one stuck in
	 * STOP_PENDING within ~2 s) and the service manager restarts with the
	 * next command. A Windows machine keeps running between two checks. */
	if (argc > 2 && !wcscmp(argv[1], L"--session")) {
		Sleep((DWORD)wcstoul(argv[2], NULL, 10) * 1000);
		return 0;
	}

	if (!dir || !dir[0]) {
		static wchar_t tmp[MAX_PATH];
		GetTempPathW(MAX_PATH, tmp);
		dir = tmp;
	}
	_snwprintf(g_dir, MAX_PATH, L"%ls", dir);
	g_dir[MAX_PATH - 1] = 0;
	size_t n = wcslen(g_dir);
	if (n && (g_dir[n - 1] == L'\\' || g_dir[n - 1] == L'/'))
		g_dir[n - 1] = 0;
	if (!StartServiceCtrlDispatcherW(table)) {
		fprintf(stderr, "tunnelsvc: not started by the service manager (%lu)\n",
			GetLastError());
		return 1;
	}
	return 0;
}
