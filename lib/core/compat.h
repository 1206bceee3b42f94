/* SPDX-License-Identifier: MIT */
/* What the library needs from the OS beyond ISO C, in one place. On Linux
 * it is the POSIX headers and nothing else. On Windows (mingw-w64) the same
 * names are mapped onto the CRT and Win32 where they differ, implemented in
 * lib/windows/compat.c:
 *  - every open() in the library passes O_CLOEXEC: on Windows that is
 *    O_NOINHERIT | O_BINARY, so no file is read in text mode;
 *  - open() takes a UTF-8 path; opening a folder fails with EISDIR, a link
 *    loop with ELOOP, as on Linux;
 *  - O_NOFOLLOW, O_NOCTTY are 0 and fchmod() succeeds without change (file
 *    modes are ACLs there; a new file inherits its folder's);
 *  - fsync() is _commit(); rename() replaces an existing target
 *    (MoveFileExW with MOVEFILE_REPLACE_EXISTING), as POSIX rename does;
 *  - mkdir(path, mode) ignores the mode; flock() is LockFileEx on the
 *    whole file; mkostemp() creates with O_EXCL; realpath() is
 *    GetFullPathName of an existing file;
 *  - open_memstream() writes to a temporary file that fclose() reads back
 *    (its users format a sync record and a health state: no key material);
 *  - setenv/unsetenv, strndup, localtime_r/gmtime_r, a numeric strptime;
 *  - strerror_r() is the GNU one, with glibc's texts;
 *  - wgi_net_startup() initialises Winsock once before getaddrinfo().
 * Private headers only; never installed. */
#ifndef WGI_COMPAT_H
#define WGI_COMPAT_H

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
#include <netioapi.h>
#include <io.h>
#include <direct.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC (O_NOINHERIT | O_BINARY)
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif
#ifndef O_NOCTTY
#define O_NOCTTY 0
#endif

/* No group or other mode bits (the CRT copies the owner's into them): the
 * checks that look at them pass, as ACLs guard files on Windows. */
#undef S_IRWXG
#undef S_IRWXO
#undef S_IWGRP
#undef S_IWOTH
#define S_IRWXG 0
#define S_IRWXO 0
#define S_IWGRP 0
#define S_IWOTH 0

#define LOCK_SH 1
#define LOCK_EX 2
#define LOCK_NB 4
#define LOCK_UN 8

/* The errno value of a Win32 error code (GetLastError()), for the -errno
 * the library returns. */
int wgi_errno_from_win32(unsigned long err);

/* open() of a UTF-8 path (_wopen), failing as POSIX says where Windows
 * differs: a folder opened for reading is EISDIR (Windows: EACCES), a
 * link that cannot be resolved ELOOP. Every open() call becomes this one
 * at link time (-Wl,--wrap=open, WIN_LDFLAGS in the Makefile), not by a
 * macro, which would also rewrite the ops tables' ->open(). */
int __wrap_open(const char *path, int flags, ...);
int wgi_flock(int fd, int op);
int wgi_fsync(int fd);
int wgi_rename(const char *from, const char *to);
int wgi_mkdir(const char *path, int mode);
int wgi_mkostemp(char *tmpl, int flags);
char *wgi_realpath(const char *path, char *resolved);
ssize_t wgi_pread(int fd, void *buf, size_t n, off_t off);
int wgi_setenv(const char *name, const char *value, int overwrite);
int wgi_unsetenv(const char *name);
char *wgi_strndup(const char *s, size_t n);
struct tm *wgi_localtime_r(const time_t *t, struct tm *tm);
struct tm *wgi_gmtime_r(const time_t *t, struct tm *tm);
/* strptime() for the numeric conversions %Y %m %d %H %M %S and literal
 * characters, which is all the tools parse. */
char *wgi_strptime(const char *s, const char *fmt, struct tm *tm);
/* GNU strerror_r: glibc's text for the errno values the library returns,
 * so a message reads the same on both systems; the CRT's for the rest. */
char *wgi_strerror_r(int e, char *buf, size_t n);
char *wgi_strerror(int e);

#define flock(fd, op) wgi_flock(fd, op)
#define fsync(fd) wgi_fsync(fd)
#define rename(from, to) wgi_rename(from, to)
#define mkdir(path, mode) wgi_mkdir(path, mode)
#define mkostemp(tmpl, flags) wgi_mkostemp(tmpl, flags)
#define realpath(path, resolved) wgi_realpath(path, resolved)
#define pread(fd, buf, n, off) wgi_pread(fd, buf, n, off)
#define strerror_r(e, buf, n) wgi_strerror_r(e, buf, n)
#define strerror(e) wgi_strerror(e)
#define setenv(name, value, overwrite) wgi_setenv(name, value, overwrite)
#define unsetenv(name) wgi_unsetenv(name)
#define strndup(s, n) wgi_strndup(s, n)
#define localtime_r(t, tm) wgi_localtime_r(t, tm)
#define gmtime_r(t, tm) wgi_gmtime_r(t, tm)
#define strptime(s, fmt, tm) wgi_strptime(s, fmt, tm)
#define fchmod(fd, mode) ((void)(fd), (void)(mode), 0)

/* open_memstream() over a temporary file deleted on close: wgi_fclose()
 * (fclose here) copies its bytes into *buf / *len as POSIX does. */
FILE *wgi_open_memstream(char **buf, size_t *len);
int wgi_fclose(FILE *f);
#define open_memstream(buf, len) wgi_open_memstream(buf, len)
#define fclose(f) wgi_fclose(f)

/* Once-only initialisation without pthreads (INIT_ONCE, Vista and later). */
typedef INIT_ONCE wgi_once_t;
#define WGI_ONCE_INIT INIT_ONCE_STATIC_INIT
void wgi_once(wgi_once_t *once, void (*fn)(void));

/* WSAStartup, once per process: 0 or -errno. */
int wgi_net_startup(void);

#else /* POSIX */
#include <arpa/inet.h>
#include <net/if.h>
#include <netdb.h>
#include <pthread.h>
#include <strings.h>
#include <sys/file.h>

typedef pthread_once_t wgi_once_t;
#define WGI_ONCE_INIT PTHREAD_ONCE_INIT
#define wgi_once(once, fn) ((void)pthread_once(once, fn))

static inline int wgi_net_startup(void)
{
	return 0;
}
#endif

#endif
