/* SPDX-License-Identifier: MIT */
/* How every wgkit header opens and closes its declarations: C linkage for
 * C++ callers, and default visibility for what the headers declare (the
 * library itself is built with -fvisibility=hidden, so only these are
 * exported, as lib/libwg-netlink.map lists them). */
#ifndef WGKIT_WGNL_DECLS_H
#define WGKIT_WGNL_DECLS_H

#if defined(WGNL_BUILDING) && defined(__GNUC__)
#define WGNL_VISIBLE_BEGIN _Pragma("GCC visibility push(default)")
#define WGNL_VISIBLE_END _Pragma("GCC visibility pop")
#else
#define WGNL_VISIBLE_BEGIN
#define WGNL_VISIBLE_END
#endif

#ifdef __cplusplus
#define WGNL_DECLS_BEGIN \
	extern "C" {     \
	WGNL_VISIBLE_BEGIN
#define WGNL_DECLS_END   \
	WGNL_VISIBLE_END \
	}
#else
#define WGNL_DECLS_BEGIN WGNL_VISIBLE_BEGIN
#define WGNL_DECLS_END WGNL_VISIBLE_END
#endif

#endif
