/* SPDX-License-Identifier: MIT */
/*
 * wg-gatewayd: one wgkit_peer row of the PostgreSQL registry, text to peer.
 * Pure (no libpq, no I/O), so the fuzz harness fuzz/gateway_row.c drives it
 * alone.
 */
#ifndef WGK_GATEWAY_PGROW_H
#define WGK_GATEWAY_PGROW_H

#include <stddef.h>

#include "wgkit/wgnl.h"

/* Fill @peer (zeroed first) from a row's columns: @public_key (44 characters
 * of base64), @allowed_ips (comma-separated prefixes, blanks around each
 * ignored; NULL or "" is none) and @preshared_key (NULL or "" is none).
 * All or nothing: on failure @peer holds nothing (no allocation left, keys
 * wiped) and @why receives "column: why" (outside text quoted only when it
 * cannot be key material). Returns 0, -EINVAL (malformed) or -ENOMEM. Free
 * a filled @peer with gw_pg_row_clear(). */
int gw_pg_row_parse(const char *public_key, const char *allowed_ips, const char *preshared_key,
		    struct wgnl_peer *peer, char *why, size_t whylen);
/* Free what gw_pg_row_parse() allocated, wipe the keys, zero @peer. NULL-safe. */
void gw_pg_row_clear(struct wgnl_peer *peer);

#endif
