/* SPDX-License-Identifier: MIT */
/* Error and warning output for the wgkit tools: one line on stderr, prefixed
 * with the tool's name, with user input quoted and made printable. */
#ifndef WGK_ERR_H
#define WGK_ERR_H

#include <stdarg.h>

/* printf-style checking of the tools' message functions. mingw-w64 builds
 * use its C99 printf (__USE_MINGW_ANSI_STDIO), which GCC checks as
 * gnu_printf; plain "printf" there would mean Microsoft's (no %zu). */
#ifdef _WIN32
#define WGK_PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#else
#define WGK_PRINTF(f, a) __attribute__((format(printf, f, a)))
#endif

/* Name the tool ("wgctl"); every line starts with it. */
void wgk_err_init(const char *prog);
const char *wgk_prog(void);

/* "<prog>: <message>\n" on stderr. The message must be one line: pass
 * anything that came from outside through wgk_q(). */
void wgk_error(const char *fmt, ...) WGK_PRINTF(1, 2);
void wgk_verror(const char *fmt, va_list ap) WGK_PRINTF(1, 0);
/* "<prog>: warning: <message>\n" on stderr. */
void wgk_warn(const char *fmt, ...) WGK_PRINTF(1, 2);
/* "<prog>: note: <message>\n" on stderr. */
void wgk_note(const char *fmt, ...) WGK_PRINTF(1, 2);

struct wgnl_config;
/* The kind of secret key @cfg holds ("private", "preshared"), or NULL: none
 * (an all-zero key is none). For warnings about a file's mode. */
const char *wgk_config_secret(const struct wgnl_config *cfg);
/* What follows the file's name in that warning, given the kind and the
 * mode (wgctl of configs, wg-gatewayd of its peers files). */
#define WGK_SECRET_MODE_FMT \
	"holds a %s key and is accessible by group or others (mode %04o; chmod 600 it)"

/* @s made safe to print inside one line: control characters, backslashes
 * and bytes >= 0x7f become \xNN, long input is cut with "...". The
 * result lives in one of 8 rotating static buffers, so up to 8 calls can be
 * used in one printf. NULL gives "(null)". */
const char *wgk_q(const char *s);
/* wgk_q() for outside text that is not meant to be a public key: text that
 * might hold key material (wgnl_text_may_be_key()) becomes a note that it
 * is not shown. Use it for every argument, value and file name a user could
 * have put a private key in by mistake. */
const char *wgk_qs(const char *s);

/* The exit code for a -errno from an operation on a device, link or the
 * system: ENODEV/ENOENT/ESRCH/ENXIO -> not found, EPERM/EACCES -> permission,
 * EINVAL/ERANGE/EHOSTUNREACH -> input, everything else -> system. */
int wgk_exit_for_errno(int negerr);
/* The exit code for a -errno from opening or reading an input file:
 * EPERM/EACCES -> permission, everything else -> input. */
int wgk_exit_for_file_errno(int negerr);

#endif
