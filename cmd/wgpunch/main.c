// SPDX-License-Identifier: MIT
/* wgpunch: find the public address and NAT behaviour (STUN client), and
 * answer STUN for others (server). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#include "dispatch.h"
#include "err.h"
#include "exitcodes.h"
#include "wgpunch.h"

static const struct wgk_cmd commands[] = {
	{ "discover", cmd_discover, "ask STUN servers for the public address and NAT behaviour" },
	{ "stun-server", cmd_stun_server, "answer STUN Binding requests (RFC 8489, RFC 5780)" },
};

static const struct wgk_tool tool = {
	.name = "wgpunch",
	.usage = "Usage: wgpunch <command> [<args>]\n"
		 "       wgpunch --version | --help | <command> --help\n",
	.trailer = "Exit codes: 0 ok, 1 usage, 2 bad input, 3 no such interface, 4 permission\n"
		   "denied, 5 system error or no answer.\n"
		   "See wgpunch(8).\n",
	.hint = "try wgpunch --help",
	.width = 12,
	.cmds = commands,
	.n_cmds = sizeof(commands) / sizeof(commands[0]),
};

int wgpunch_parse_ep(union wgnl_endpoint *out, const char *s, uint16_t defport)
{
	char buf[128];
	const char *colon = strrchr(s, ':');

	if (wgnl_endpoint_parse(out, s) == 0)
		return 0;
	memset(out, 0, sizeof(*out));
	/* No port: a bare IPv4 address or an unbracketed / bracketed IPv6. */
	if (inet_pton(AF_INET, s, &out->addr4.sin_addr) == 1) {
		out->addr4.sin_family = AF_INET;
		out->addr4.sin_port = htons(defport);
		return 0;
	}
	if (colon && strlen(s) < sizeof(buf)) {
		const char *a = s;
		size_t n = strlen(s);
		if (s[0] == '[' && s[n - 1] == ']') {
			a = s + 1;
			n -= 2;
		}
		memcpy(buf, a, n);
		buf[n] = 0;
		if (inet_pton(AF_INET6, buf, &out->addr6.sin6_addr) == 1) {
			out->addr6.sin6_family = AF_INET6;
			out->addr6.sin6_port = htons(defport);
			return 0;
		}
	}
	memset(out, 0, sizeof(*out));
	return -EINVAL;
}

int main(int argc, char **argv)
{
	wgk_err_init("wgpunch");
	return wgk_dispatch(&tool, argc, argv);
}
