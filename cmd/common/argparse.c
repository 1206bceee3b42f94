// SPDX-License-Identifier: MIT
/* Option parsing shared by the wgkit tools (see argparse.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "argparse.h"
#include "err.h"

int wgk_parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int wgk_parse_ifname(char *dst, size_t size, const char *arg)
{
	if (strlen(arg) >= size) {
		wgk_error("interface name '%s' too long", wgk_q(arg));
		return -EINVAL;
	}
	strcpy(dst, arg);
	return 0;
}
