/* SPDX-License-Identifier: MIT */
/*
 * wg-gatewayd: libraries loaded at run time, only when the config needs them
 * (libpq for Source = postgresql and migrate, pq.h; libmicrohttpd for
 * [Http] Listen, mhd.h). Linked at build time, their dependency trees (libssl,
 * gnutls, krb5, ldap: about 30 libraries) cost every start tens of ms of
 * dynamic loading, and a directory-source node without HTTP never needs
 * them in a root daemon's address space.
 *
 * A user lists its functions once as an X-macro LIST(X) and declares
 *
 *	union gw_xx {
 *		struct { LIST(GW_DL_FIELD) } f;          (typed: __typeof__(fn) *fn)
 *		void *slot[0 LIST(GW_DL_COUNT)];
 *	};
 *	static const char *const names[] = { LIST(GW_DL_NAME) };
 *
 * then gw_dl_load(soname, names, u.slot, n, ...) fills f, and
 * `#define fn (u.f.fn)` keeps the calling code unchanged and type-checked.
 */
#ifndef WGK_GATEWAY_DL_H
#define WGK_GATEWAY_DL_H

#include <stddef.h>

#define GW_DL_FIELD(name) __typeof__(name) *name;
#define GW_DL_NAME(name) #name,
#define GW_DL_COUNT(name) +1

/* dlopen(@soname, RTLD_NOW | RTLD_LOCAL) and dlsym() each of @names[0..@n)
 * into @slots, all or nothing: on failure @slots is left as it was and the
 * library closed. Thread-safe; once loaded (@slots[0] set), a second call
 * is a no-op. Never unloaded. 0, or -ELIBACC (-ENOMEM) with one line in
 * @err naming the library and dlerror() or the missing symbol, then @hint
 * in parentheses when not NULL (who needs it, what to install). */
int gw_dl_load(const char *soname, const char *const *names, void **slots, size_t n,
	       const char *hint, char *err, size_t errlen);
#define GW_DL_N(names) (sizeof(names) / sizeof((names)[0]))

#endif
