/* SPDX-License-Identifier: MIT */
/* Private to libwg-netlink: reading the sized option structs of the public
 * headers (a leading size_t size; see the conventions in wgnl.h). */
#ifndef WGNL_OPTS_H
#define WGNL_OPTS_H

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* The size of a sized struct in its first version (0.1): up to the end of
 * its last field then, @last. Fields added later are read only when the
 * caller's size covers them. */
#define WGI_SIZE_0_1(type, last) (offsetof(type, last) + sizeof(((type *)0)->last))

/* Copy the caller's sized struct @src into @dst, the @dst_size-byte struct
 * this library knows: what the caller's (older) struct does not cover is
 * zero (the defaults), fields of a newer struct are ignored. -EINVAL when
 * the caller's size is below @min (WGI_SIZE_0_1()). */
static inline int wgi_opts_copy(void *dst, size_t dst_size, const void *src, size_t min)
{
	size_t n;

	memcpy(&n, src, sizeof(n));
	if (n < min)
		return -EINVAL;
	memset(dst, 0, dst_size);
	memcpy(dst, src, n < dst_size ? n : dst_size);
	return 0;
}

#endif
