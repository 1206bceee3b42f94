// SPDX-License-Identifier: MIT
/* The POSIX calls the library uses, over the CRT and Win32 (see
 * lib/core/compat.h for what each keeps and what it cannot). Paths are
 * UTF-8 in the library and converted to UTF-16 for the W calls. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "core/compat.h"
#include "core/internal.h"

/* The CRT's own, under the names compat.h maps to ours. */
#undef fclose

int wgi_errno_from_win32(unsigned long err)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_MOD_NOT_FOUND:
	case ERROR_PROC_NOT_FOUND:
		return ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
	case ERROR_PRIVILEGE_NOT_HELD:
		return EACCES;
	case ERROR_LOCK_VIOLATION:
	case ERROR_IO_PENDING:
		return EWOULDBLOCK;
	case ERROR_ALREADY_EXISTS:
	case ERROR_FILE_EXISTS:
	case ERROR_OBJECT_ALREADY_EXISTS:
		return EEXIST;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
		return ENOMEM;
	case ERROR_INVALID_PARAMETER:
	case ERROR_INVALID_NAME:
	case ERROR_BAD_PATHNAME:
		return EINVAL;
	case ERROR_FILENAME_EXCED_RANGE:
	case ERROR_BUFFER_OVERFLOW:
		return ENAMETOOLONG;
	case ERROR_NOT_SUPPORTED:
	case ERROR_CALL_NOT_IMPLEMENTED:
		return EOPNOTSUPP;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return ENOSPC;
	case ERROR_DIR_NOT_EMPTY:
		return ENOTEMPTY;
	case ERROR_INVALID_HANDLE:
		return EBADF;
	case ERROR_TIMEOUT:
	case WAIT_TIMEOUT:
		return ETIMEDOUT;
	case ERROR_NOT_FOUND:
		return ENOENT;
	case ERROR_BUSY:
		return EBUSY;
	default:
		return EIO;
	}
}

/* A UTF-8 path as a new UTF-16 string, or NULL with errno set. */
static wchar_t *wide(const char *s)
{
	int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	wchar_t *w;

	if (n <= 0) {
		errno = EINVAL;
		return NULL;
	}
	w = malloc((size_t)n * sizeof(*w));
	if (!w) {
		errno = ENOMEM;
		return NULL;
	}
	MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
	return w;
}

int __wrap_open(const char *path, int flags, ...)
{
	wchar_t *w = wide(path);
	int mode = 0, fd, e;
	DWORD attr;

	if (flags & O_CREAT) {
		va_list ap;

		va_start(ap, flags);
		mode = va_arg(ap, int);
		va_end(ap);
	}
	if (!w)
		return -1;
	/* Modes are ACLs on Windows: only "read-only or not" maps. */
	fd = _wopen(w, flags, mode & 0200 ? _S_IREAD | _S_IWRITE : _S_IREAD);
	if (fd >= 0) {
		free(w);
		return fd;
	}
	e = errno;
	attr = GetFileAttributesW(w);
	if (attr != INVALID_FILE_ATTRIBUTES && (attr & FILE_ATTRIBUTE_DIRECTORY))
		e = EISDIR;
	else if (attr == INVALID_FILE_ATTRIBUTES && GetLastError() == ERROR_CANT_RESOLVE_FILENAME)
		e = ELOOP;
	free(w);
	errno = e;
	return -1;
}

int wgi_flock(int fd, int op)
{
	HANDLE h = (HANDLE)_get_osfhandle(fd);
	OVERLAPPED ov = { 0 };
	DWORD flags = 0;

	if (h == INVALID_HANDLE_VALUE) {
		errno = EBADF;
		return -1;
	}
	if (op & LOCK_UN) {
		if (!UnlockFileEx(h, 0, MAXDWORD, MAXDWORD, &ov)) {
			errno = wgi_errno_from_win32(GetLastError());
			return -1;
		}
		return 0;
	}
	if (op & LOCK_EX)
		flags |= LOCKFILE_EXCLUSIVE_LOCK;
	if (op & LOCK_NB)
		flags |= LOCKFILE_FAIL_IMMEDIATELY;
	if (!LockFileEx(h, flags, 0, MAXDWORD, MAXDWORD, &ov)) {
		errno = wgi_errno_from_win32(GetLastError());
		return -1;
	}
	return 0;
}

int wgi_fsync(int fd)
{
	return _commit(fd);
}

int wgi_rename(const char *from, const char *to)
{
	wchar_t *wf = wide(from), *wt = wf ? wide(to) : NULL;
	int r = 0;

	if (!wt) {
		free(wf);
		return -1;
	}
	if (!MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
		errno = wgi_errno_from_win32(GetLastError());
		r = -1;
	}
	free(wf);
	free(wt);
	return r;
}

int wgi_mkdir(const char *path, int mode)
{
	(void)mode;
	return _mkdir(path);
}

int wgi_mkostemp(char *tmpl, int flags)
{
	static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	size_t n = strlen(tmpl);
	char *x;

	if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX")) {
		errno = EINVAL;
		return -1;
	}
	x = tmpl + n - 6;
	if (sodium_init() < 0) {
		errno = EIO;
		return -1;
	}
	for (int tries = 0; tries < 100; tries++) {
		unsigned char rnd[6];
		int fd;

		randombytes_buf(rnd, sizeof(rnd));
		for (int i = 0; i < 6; i++)
			x[i] = set[rnd[i] % (sizeof(set) - 1)];
		fd = _open(tmpl, _O_RDWR | _O_CREAT | _O_EXCL | _O_BINARY | (flags & _O_NOINHERIT),
			   _S_IREAD | _S_IWRITE);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

char *wgi_realpath(const char *path, char *resolved)
{
	char *full;

	if (resolved || _access(path, 0) < 0) {
		errno = resolved ? EINVAL : ENOENT;
		return NULL;
	}
	full = _fullpath(NULL, path, 0);
	if (!full)
		errno = ENOMEM;
	return full;
}

static BOOL CALLBACK once_trampoline(PINIT_ONCE once, PVOID fn, PVOID *ctx)
{
	((void (*)(void))(uintptr_t)fn)();
	return TRUE;
}

void wgi_once(wgi_once_t *once, void (*fn)(void))
{
	InitOnceExecuteOnce(once, once_trampoline, (PVOID)(uintptr_t)fn, NULL);
}

static int wsa_result;
static wgi_once_t wsa_once = WGI_ONCE_INIT;

static void wsa_start(void)
{
	WSADATA d;

	/* Left started for the life of the process, as every Winsock user in
	 * it shares the one count. */
	wsa_result = WSAStartup(MAKEWORD(2, 2), &d) ? -EIO : 0;
}

int wgi_net_startup(void)
{
	wgi_once(&wsa_once, wsa_start);
	return wsa_result;
}

/* The open memory streams: few at a time (a record or a state being
 * formatted), so a small table under a lock. */
static struct memstream {
	FILE *f;
	char **buf;
	size_t *len;
} memstreams[16];
static SRWLOCK memstreams_lock = SRWLOCK_INIT;

FILE *wgi_open_memstream(char **buf, size_t *len)
{
	wchar_t dir[MAX_PATH + 1], name[MAX_PATH + 1];
	struct memstream *slot = NULL;
	HANDLE h;
	FILE *f;
	int fd;

	*buf = NULL;
	*len = 0;
	if (!GetTempPathW(MAX_PATH + 1, dir) || !GetTempFileNameW(dir, L"wgk", 0, name)) {
		errno = wgi_errno_from_win32(GetLastError());
		return NULL;
	}
	h = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL, CREATE_ALWAYS,
			FILE_ATTRIBUTE_TEMPORARY | FILE_FLAG_DELETE_ON_CLOSE, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		errno = wgi_errno_from_win32(GetLastError());
		DeleteFileW(name);
		return NULL;
	}
	fd = _open_osfhandle((intptr_t)h, _O_RDWR | _O_BINARY);
	if (fd < 0) {
		CloseHandle(h);
		return NULL;
	}
	f = _fdopen(fd, "w+b");
	if (!f) {
		_close(fd);
		return NULL;
	}
	AcquireSRWLockExclusive(&memstreams_lock);
	for (size_t i = 0; i < WGI_ARRAY_SIZE(memstreams) && !slot; i++)
		if (!memstreams[i].f)
			slot = &memstreams[i];
	if (slot)
		*slot = (struct memstream){ f, buf, len };
	ReleaseSRWLockExclusive(&memstreams_lock);
	if (!slot) {
		fclose(f);
		errno = EMFILE;
		return NULL;
	}
	return f;
}

/* Read the whole stream back into a new NUL-terminated buffer. */
static int memstream_collect(FILE *f, char **buf, size_t *len)
{
	long n;
	char *b;

	if (fflush(f) || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		return -1;
	b = malloc((size_t)n + 1);
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		errno = EIO;
		return -1;
	}
	b[n] = '\0';
	*buf = b;
	*len = (size_t)n;
	return 0;
}

int wgi_fclose(FILE *f)
{
	struct memstream ms = { 0 };
	int r = 0;

	AcquireSRWLockExclusive(&memstreams_lock);
	for (size_t i = 0; i < WGI_ARRAY_SIZE(memstreams); i++) {
		if (memstreams[i].f == f) {
			ms = memstreams[i];
			memstreams[i].f = NULL;
			break;
		}
	}
	ReleaseSRWLockExclusive(&memstreams_lock);
	if (ms.f)
		r = memstream_collect(f, ms.buf, ms.len);
	if (fclose(f) && !r)
		r = EOF;
	return r ? EOF : 0;
}

ssize_t wgi_pread(int fd, void *buf, size_t n, off_t off)
{
	if (_lseeki64(fd, off, SEEK_SET) < 0)
		return -1;
	return _read(fd, buf, n > INT_MAX ? INT_MAX : (unsigned)n);
}

/* glibc's strerror() texts (the facts a Linux user sees), so that tools
 * print the same line on both systems. */
static const struct {
	int e;
	const char *text;
} glibc_texts[] = {
	{ EPERM, "Operation not permitted" },
	{ ENOENT, "No such file or directory" },
	{ ESRCH, "No such process" },
	{ EINTR, "Interrupted system call" },
	{ EIO, "Input/output error" },
	{ ENXIO, "No such device or address" },
	{ E2BIG, "Argument list too long" },
	{ EBADF, "Bad file descriptor" },
	{ EAGAIN, "Resource temporarily unavailable" },
	{ ENOMEM, "Cannot allocate memory" },
	{ EACCES, "Permission denied" },
	{ EFAULT, "Bad address" },
	{ EBUSY, "Device or resource busy" },
	{ EEXIST, "File exists" },
	{ ENODEV, "No such device" },
	{ ENOTDIR, "Not a directory" },
	{ EISDIR, "Is a directory" },
	{ EINVAL, "Invalid argument" },
	{ ENFILE, "Too many open files in system" },
	{ EMFILE, "Too many open files" },
	{ EFBIG, "File too large" },
	{ ENOSPC, "No space left on device" },
	{ EROFS, "Read-only file system" },
	{ EPIPE, "Broken pipe" },
	{ ERANGE, "Numerical result out of range" },
	{ ENAMETOOLONG, "File name too long" },
	{ ENOSYS, "Function not implemented" },
	{ ENOTEMPTY, "Directory not empty" },
	{ ELOOP, "Too many levels of symbolic links" },
	{ ENODATA, "No data available" },
	{ EPROTO, "Protocol error" },
	{ EBADMSG, "Bad message" },
	{ EOVERFLOW, "Value too large for defined data type" },
	{ EMSGSIZE, "Message too long" },
	{ EPROTONOSUPPORT, "Protocol not supported" },
	{ EOPNOTSUPP, "Operation not supported" },
	{ EAFNOSUPPORT, "Address family not supported by protocol" },
	{ EADDRINUSE, "Address already in use" },
	{ EADDRNOTAVAIL, "Cannot assign requested address" },
	{ ENETUNREACH, "Network is unreachable" },
	{ ECONNRESET, "Connection reset by peer" },
	{ ENOBUFS, "No buffer space available" },
	{ ENOTCONN, "Transport endpoint is not connected" },
	{ ETIMEDOUT, "Connection timed out" },
	{ ECONNREFUSED, "Connection refused" },
	{ EHOSTUNREACH, "No route to host" },
	{ EALREADY, "Operation already in progress" },
	{ EINPROGRESS, "Operation now in progress" },
	{ ECANCELED, "Operation canceled" },
};

char *wgi_strerror_r(int e, char *buf, size_t n)
{
	for (size_t i = 0; i < WGI_ARRAY_SIZE(glibc_texts); i++)
		if (glibc_texts[i].e == e)
			return (char *)glibc_texts[i].text;
	if (n && strerror_s(buf, n, e))
		snprintf(buf, n, "Unknown error %d", e);
	return buf;
}

int wgi_setenv(const char *name, const char *value, int overwrite)
{
	if (!overwrite && getenv(name))
		return 0;
	if (_putenv_s(name, value)) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int wgi_unsetenv(const char *name)
{
	/* An empty value removes the variable on Windows. */
	return _putenv_s(name, "") ? -1 : 0;
}

char *wgi_strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *d = malloc(len + 1);

	if (!d)
		return NULL;
	memcpy(d, s, len);
	d[len] = '\0';
	return d;
}

struct tm *wgi_localtime_r(const time_t *t, struct tm *tm)
{
	return localtime_s(tm, t) ? NULL : tm;
}

struct tm *wgi_gmtime_r(const time_t *t, struct tm *tm)
{
	return gmtime_s(tm, t) ? NULL : tm;
}

/* Up to @max digits into *out. */
static const char *digits(const char *s, int max, int *out)
{
	int v = 0, n = 0;

	while (n < max && *s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		n++;
	}
	if (!n)
		return NULL;
	*out = v;
	return s;
}

char *wgi_strptime(const char *s, const char *fmt, struct tm *tm)
{
	for (; *fmt && s; fmt++) {
		int v;

		if (*fmt != '%') {
			if (*s != *fmt)
				return NULL;
			s++;
			continue;
		}
		switch (*++fmt) {
		case 'Y':
			if ((s = digits(s, 4, &v)))
				tm->tm_year = v - 1900;
			break;
		case 'm':
			if ((s = digits(s, 2, &v)) && (v < 1 || v > 12))
				return NULL;
			if (s)
				tm->tm_mon = v - 1;
			break;
		case 'd':
			if ((s = digits(s, 2, &v)) && (v < 1 || v > 31))
				return NULL;
			if (s)
				tm->tm_mday = v;
			break;
		case 'H':
			if ((s = digits(s, 2, &v)) && v > 23)
				return NULL;
			if (s)
				tm->tm_hour = v;
			break;
		case 'M':
			if ((s = digits(s, 2, &v)) && v > 59)
				return NULL;
			if (s)
				tm->tm_min = v;
			break;
		case 'S':
			if ((s = digits(s, 2, &v)) && v > 60)
				return NULL;
			if (s)
				tm->tm_sec = v;
			break;
		default:
			return NULL;
		}
	}
	return *fmt ? NULL : (char *)s;
}

char *wgi_strerror(int e)
{
	static __thread char buf[64];

	return wgi_strerror_r(e, buf, sizeof(buf));
}
