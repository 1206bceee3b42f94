// SPDX-License-Identifier: MIT
/* Peer options shared by `set` and `peer add`, and the fallback that turns
 * allowed-IP removals into a replacement list where the backend cannot
 * remove one allowed IP. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "wgctl.h"

/* Parse "a, b, +c, -d" into @peer. Plain items replace the peer's list (an
 * empty list clears it); "+x"/"-x" items add and remove. Mixing is refused. */
static int parse_allowedips(const char *cmd, struct wgnl_peer *peer, const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int plain = 0, edit = 0, rc = 0;

	if (!copy) {
		wgk_error("%s: out of memory", cmd);
		return WGK_EXIT_SYSTEM;
	}
	peer->n_allowedips = 0;
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct wgnl_prefix p;
		char *end;
		uint8_t flags = 0;

		while (isspace((unsigned char)*tok))
			tok++;
		end = tok + strlen(tok);
		while (end > tok && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*tok)
			continue;
		if (*tok == '+' || *tok == '-') {
			flags = *tok == '-' ? WGNL_PREFIX_REMOVE : 0;
			tok++;
			edit++;
		} else {
			plain++;
		}
		if (wgnl_prefix_parse(&p, tok) < 0) {
			wgk_error("%s: invalid allowed IP '%s'", cmd, wgk_qs(tok));
			rc = WGK_EXIT_INPUT;
			break;
		}
		p.flags = flags;
		if (wgnl_peer_add_allowedip(peer, &p) < 0) {
			wgk_error("%s: out of memory", cmd);
			rc = WGK_EXIT_SYSTEM;
			break;
		}
	}
	free(copy);
	if (rc)
		return rc;
	if (plain && edit) {
		wgk_error("%s: allowed-ips '%s' mixes a list with +/- changes", cmd, wgk_qs(list));
		return WGK_EXIT_INPUT;
	}
	if (edit)
		peer->flags &= ~(uint32_t)WGNL_PEER_REPLACE_ALLOWEDIPS;
	else
		peer->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
	return 0;
}

int wgctl_peer_option(const char *cmd, struct wgnl_peer *peer, int argc, char **argv, int *i)
{
	const char *opt = argv[*i], *val;
	bool empty;
	int r, rc;

	if (strcmp(opt, "endpoint") && strcmp(opt, "preshared-key") &&
	    strcmp(opt, "persistent-keepalive") && strcmp(opt, "allowed-ips"))
		return -1;
	if (*i + 1 >= argc)
		return wgctl_usage(cmd, "'%s' needs a value", opt);
	val = argv[++*i];
	if (!strcmp(opt, "endpoint")) {
		r = wgnl_endpoint_resolve(&peer->endpoint, val);
		if (r == -ENODEV) {
			wgk_error("%s: endpoint '%s': no such interface for the IPv6 scope "
				  "(after '%%')",
				  cmd, wgk_qs(val));
			return WGK_EXIT_INPUT;
		}
		if (r < 0) {
			wgk_error("%s: %s endpoint '%s'", cmd,
				  r == -EINVAL ? "invalid" : "cannot resolve", wgk_qs(val));
			return r == -ENOMEM ? WGK_EXIT_SYSTEM : WGK_EXIT_INPUT;
		}
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
	} else if (!strcmp(opt, "preshared-key")) {
		rc = wgctl_read_key_file(cmd, val, "preshared key", peer->preshared_key, &empty);
		if (rc)
			return rc;
		peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	} else if (!strcmp(opt, "persistent-keepalive")) {
		if (wgctl_parse_keepalive(val, &peer->persistent_keepalive) < 0) {
			wgk_error("%s: invalid persistent-keepalive '%s' (0-65535 or off)", cmd,
				  wgk_qs(val));
			return WGK_EXIT_INPUT;
		}
		peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
	} else {
		return parse_allowedips(cmd, peer, val);
	}
	return 0;
}

static bool has_removals(const struct wgnl_peer *peer)
{
	for (size_t k = 0; k < peer->n_allowedips; k++)
		if (peer->allowedips[k].flags & WGNL_PREFIX_REMOVE)
			return true;
	return false;
}

static ssize_t find_prefix(const struct wgnl_peer *peer, const struct wgnl_prefix *p)
{
	for (size_t k = 0; k < peer->n_allowedips; k++)
		if (!wgnl_prefix_cmp(&peer->allowedips[k], p))
			return (ssize_t)k;
	return -1;
}

/* Replace the peer's edit list by its result: the current list with the
 * edits applied in order, compared as the kernel stores prefixes (host bits
 * cleared). */
static int rebuild(struct wgnl_peer *peer, const struct wgnl_peer *cur)
{
	struct wgnl_prefix *edits = peer->allowedips;
	size_t n_edits = peer->n_allowedips;
	int r = 0;

	peer->allowedips = NULL;
	peer->n_allowedips = peer->cap_allowedips = 0;
	for (size_t k = 0; cur && k < cur->n_allowedips && !r; k++) {
		struct wgnl_prefix p = cur->allowedips[k];

		p.flags = 0;
		wgnl_prefix_mask(&p);
		if (find_prefix(peer, &p) < 0)
			r = wgnl_peer_add_allowedip(peer, &p);
	}
	for (size_t k = 0; k < n_edits && !r; k++) {
		struct wgnl_prefix p = edits[k];
		ssize_t at;

		p.flags = 0;
		wgnl_prefix_mask(&p);
		at = find_prefix(peer, &p);
		if (edits[k].flags & WGNL_PREFIX_REMOVE) {
			if (at >= 0)
				peer->allowedips[at] = peer->allowedips[--peer->n_allowedips];
		} else if (at < 0) {
			r = wgnl_peer_add_allowedip(peer, &p);
		}
	}
	free(edits);
	peer->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
	return r;
}

int wgctl_resolve_allowedip_edits(struct wgnl_ctx *ctx, struct wgnl_device *dev, const char *cmd)
{
	struct wgnl_device *cur = NULL;
	bool any = false;
	int caps, rc;

	for (size_t i = 0; i < dev->n_peers; i++)
		if (!(dev->peers[i].flags & WGNL_PEER_REMOVE) && has_removals(&dev->peers[i]))
			any = true;
	if (!any)
		return 0;
	caps = wgnl_device_caps(ctx, dev->name);
	if (caps >= 0 && (caps & WGNL_CAP_ALLOWEDIP_REMOVE))
		return 0; /* the kernel removes single allowed IPs itself */
	/* Read, modify, write: racy against a concurrent writer of the same
	 * peer, which the kernel's own removal flag would not be. */
	rc = wgctl_get_device(ctx, dev->name, &cur);
	if (rc)
		return rc;
	for (size_t i = 0; i < dev->n_peers && !rc; i++) {
		struct wgnl_peer *p = &dev->peers[i];

		if ((p->flags & WGNL_PEER_REMOVE) || !has_removals(p))
			continue;
		if (rebuild(p, wgnl_device_find_peer(cur, p->public_key)) < 0) {
			wgk_error("%s: out of memory", cmd);
			rc = WGK_EXIT_SYSTEM;
		}
	}
	wgnl_device_free(cur);
	return rc;
}
