// SPDX-License-Identifier: MIT
/* One-line errors for the wgkit tools. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#ifdef _WIN32
#include <fcntl.h>
#include <io.h>
#endif

#include "wgkit/wgnl.h"

#include "err.h"
#include "exitcodes.h"

static const char *prog_name = "wgkit";

void wgk_err_init(const char *prog)
{
	if (prog && *prog)
		prog_name = prog;
#ifdef _WIN32
	/* Byte for byte the Linux output (LF line ends, JSON unchanged) and
	 * input read as it is: the standard streams in binary mode. */
	_setmode(0, _O_BINARY);
	_setmode(1, _O_BINARY);
	_setmode(2, _O_BINARY);
#endif
}

const char *wgk_prog(void)
{
	return prog_name;
}

void wgk_verror(const char *fmt, va_list ap)
{
	/* Build the line first so it reaches stderr in one write. */
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s\n", prog_name, line);
}

void wgk_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wgk_verror(fmt, ap);
	va_end(ap);
}

static void prefixed(const char *what, const char *fmt, va_list ap) WGK_PRINTF(2, 0);
static void prefixed(const char *what, const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	fflush(stdout);
	fprintf(stderr, "%s: %s: %s\n", prog_name, what, line);
}

void wgk_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prefixed("warning", fmt, ap);
	va_end(ap);
}

void wgk_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	prefixed("note", fmt, ap);
	va_end(ap);
}

#define Q_BUFS 8
#define Q_LEN 256

const char *wgk_q(const char *s)
{
	static char bufs[Q_BUFS][Q_LEN];
	static unsigned next;
	static const char hex[] = "0123456789abcdef";
	char *out = bufs[next++ % Q_BUFS];
	size_t o = 0;

	if (!s)
		return "(null)";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 8 >= Q_LEN) {
			memcpy(out + o, "...", 4);
			return out;
		}
		if (*p < 0x20 || *p >= 0x7f || *p == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		} else {
			out[o++] = (char)*p;
		}
	}
	out[o] = '\0';
	return out;
}

const char *wgk_qs(const char *s)
{
	if (wgnl_text_may_be_key(s))
		return "(not shown: it may hold key material)";
	return wgk_q(s);
}

int wgk_exit_for_errno(int negerr)
{
	switch (-negerr) {
	case 0:
		return WGK_EXIT_OK;
	case ENODEV:
	case ENOENT:
	case ESRCH:
	case ENXIO:
		return WGK_EXIT_NOTFOUND;
	case EPERM:
	case EACCES:
		return WGK_EXIT_PERM;
	case EINVAL:
	case ERANGE:
	case EHOSTUNREACH:
		return WGK_EXIT_INPUT;
	default:
		return WGK_EXIT_SYSTEM;
	}
}

int wgk_exit_for_file_errno(int negerr)
{
	if (!negerr)
		return WGK_EXIT_OK;
	if (negerr == -EPERM || negerr == -EACCES)
		return WGK_EXIT_PERM;
	return WGK_EXIT_INPUT;
}

const char *wgk_config_secret(const struct wgnl_config *cfg)
{
	const struct wgnl_device *d = cfg->dev;

	if ((d->flags & WGNL_DEV_HAS_PRIVATE_KEY) && !wgnl_key_is_zero(d->private_key))
		return "private";
	for (size_t i = 0; i < d->n_peers; i++)
		if ((d->peers[i].flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
		    !wgnl_key_is_zero(d->peers[i].preshared_key))
			return "preshared";
	return NULL;
}
