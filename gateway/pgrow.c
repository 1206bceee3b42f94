// SPDX-License-Identifier: MIT
/* wg-gatewayd: a registry row's text to a peer (pgrow.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgrow.h"

/* Longest allowed IP as text: a full IPv6 address, "/128" and some slack. */
#define PGROW_PREFIX_MAX 64

void gw_pg_row_clear(struct wgnl_peer *peer)
{
	if (!peer)
		return;
	free(peer->allowedips);
	free(peer->endpoint_name);
	wgnl_wipe(peer, sizeof(*peer));
}

static void quote_field(char *why, size_t whylen, const char *col, const char *what,
			const char *text, size_t n)
{
	char buf[PGROW_PREFIX_MAX + 1];

	if (n > PGROW_PREFIX_MAX)
		n = PGROW_PREFIX_MAX;
	memcpy(buf, text, n);
	buf[n] = '\0';
	if (wgnl_text_may_be_key(buf) || strpbrk(buf, "'\n\r\t"))
		snprintf(why, whylen, "%s: an entry %s", col, what);
	else
		snprintf(why, whylen, "%s: '%s' %s", col, buf, what);
	wgnl_wipe(buf, sizeof(buf));
}

static int parse_allowed(struct wgnl_peer *peer, const char *s, char *why, size_t whylen)
{
	char buf[PGROW_PREFIX_MAX + 1];
	struct wgnl_prefix p;
	const char *b, *e;
	int r;

	if (!s)
		return 0;
	for (b = s; *b == ' ' || *b == '\t'; b++)
		;
	if (!*b)
		return 0; /* "" or blanks: no allowed IPs */
	for (;;) {
		const char *next = strchr(b, ',');

		e = next ? next : b + strlen(b);
		while (b < e && (*b == ' ' || *b == '\t'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (b == e) {
			snprintf(why, whylen, "allowed_ips: an empty entry");
			return -EINVAL;
		}
		if ((size_t)(e - b) > PGROW_PREFIX_MAX) {
			quote_field(why, whylen, "allowed_ips", "is too long for an IP prefix", b,
				    (size_t)(e - b));
			return -EINVAL;
		}
		memcpy(buf, b, (size_t)(e - b));
		buf[e - b] = '\0';
		if (wgnl_prefix_parse(&p, buf) < 0) {
			quote_field(why, whylen, "allowed_ips", "is not an IP prefix", b,
				    (size_t)(e - b));
			return -EINVAL;
		}
		r = wgnl_peer_add_allowedip(peer, &p);
		if (r < 0) {
			snprintf(why, whylen, "allowed_ips: %s", strerror(-r));
			return r;
		}
		if (!next)
			return 0;
		b = next + 1;
	}
}

int gw_pg_row_parse(const char *public_key, const char *allowed_ips, const char *preshared_key,
		    struct wgnl_peer *peer, char *why, size_t whylen)
{
	int r;

	memset(peer, 0, sizeof(*peer));
	if (whylen)
		why[0] = '\0';
	if (!public_key || !*public_key) {
		snprintf(why, whylen, "public_key: missing");
		return -EINVAL;
	}
	/* Never quoted: a malformed key may still be most of a key. */
	if (wgnl_key_from_base64(peer->public_key, public_key) < 0) {
		snprintf(why, whylen, "public_key: not a 44-character base64 WireGuard key");
		return -EINVAL;
	}
	peer->flags = WGNL_PEER_HAS_PUBLIC_KEY;
	if (preshared_key && *preshared_key) {
		if (wgnl_key_from_base64(peer->preshared_key, preshared_key) < 0) {
			snprintf(why, whylen,
				 "preshared_key: not a 44-character base64 WireGuard key");
			r = -EINVAL;
			goto fail;
		}
		peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	}
	r = parse_allowed(peer, allowed_ips, why, whylen);
	if (r < 0)
		goto fail;
	return 0;
fail:
	gw_pg_row_clear(peer);
	return r;
}
