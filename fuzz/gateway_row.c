/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for wg-gatewayd's registry row parser (gateway/pgrow.c):
 * the input is three NUL-separated columns (public_key, allowed_ips,
 * preshared_key; a missing one is SQL NULL). Checks: all or nothing (a
 * failure leaves the peer zeroed and a reason), a success has a key, and the
 * reason never holds the row's key text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../gateway/pgrow.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *col[3] = { NULL, NULL, NULL }, *p;
	static const struct wgnl_peer zero;
	struct wgnl_peer peer;
	char why[256];
	size_t i;
	int r;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	p = buf;
	for (i = 0; i < 3 && p <= buf + size; i++) {
		col[i] = p;
		p += strlen(p) + 1;
	}
	r = gw_pg_row_parse(col[0], col[1], col[2], &peer, why, sizeof(why));
	if (r < 0) {
		if (memcmp(&peer, &zero, sizeof(peer)) || !why[0])
			abort();
		if (col[0] && strlen(col[0]) >= 20 && strstr(why, col[0]))
			abort();
	} else {
		if (!(peer.flags & WGNL_PEER_HAS_PUBLIC_KEY) ||
		    (peer.n_allowedips && !peer.allowedips))
			abort();
		gw_pg_row_clear(&peer);
	}
	free(buf);
	return 0;
}
