/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the wghealth state file: any input parses or is
 * -EBADMSG (state left cleared), never a crash or a leak; whatever parses
 * is formatted, parses again to the same state and formats back byte for
 * byte the same (parse -> format -> parse). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_health.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_state(const struct wgnl_health_state *a, const struct wgnl_health_state *b)
{
	if (a->last_check_ms != b->last_check_ms || a->verdict != b->verdict ||
	    a->reasons != b->reasons || a->consecutive_bad != b->consecutive_bad ||
	    a->attempt != b->attempt || a->next_attempt_ms != b->next_attempt_ms ||
	    a->cooldown_until_ms != b->cooldown_until_ms ||
	    a->last_remedy_ms != b->last_remedy_ms ||
	    a->last_remedy_failed != b->last_remedy_failed ||
	    a->underlay_down != b->underlay_down || a->remedies_total != b->remedies_total ||
	    a->n_peers != b->n_peers)
		return false;
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct wgnl_health_peer_state *p = &a->peers[i], *q = &b->peers[i];

		if (memcmp(p->public_key, q->public_key, sizeof(p->public_key)) ||
		    p->rx_bytes != q->rx_bytes || p->tx_bytes != q->tx_bytes ||
		    p->last_handshake_ms != q->last_handshake_ms || p->verdict != q->verdict ||
		    p->reasons != q->reasons)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgnl_health_state a, b;
	char *buf = malloc(size ? size : 1), *t1 = NULL, *t2 = NULL;
	int r, n1, n2;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	r = wgnl_health_state_parse(buf, size, &a);
	free(buf);
	if (r != 0) {
		if ((r != -EBADMSG && r != -ENOMEM) || a.n_peers || a.peers || a.last_check_ms)
			abort();
		return 0;
	}
	n1 = wgnl_health_state_format(&a, &t1);
	if (n1 < 0)
		abort();
	r = wgnl_health_state_parse(t1, (size_t)n1, &b);
	if (r != 0) {
		fprintf(stderr, "formatted state does not parse (%d):\n%s", r, t1);
		abort();
	}
	if (!same_state(&a, &b))
		abort();
	n2 = wgnl_health_state_format(&b, &t2);
	if (n2 != n1 || memcmp(t1, t2, (size_t)n1)) {
		fprintf(stderr, "round trip differs:\n%s---\n%s", t1, t2 ? t2 : "");
		abort();
	}
	wgnl_free(t1);
	wgnl_free(t2);
	wgnl_health_state_clear(&a);
	wgnl_health_state_clear(&b);
	return 0;
}
