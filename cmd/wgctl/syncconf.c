// SPDX-License-Identifier: MIT
/* wgctl syncconf: make an interface match a file without replacing all
 * peers at once: peers absent from the file are removed, the file's peers
 * are set with their allowed IPs replaced, and device fields change only
 * where they differ. (Skipping unchanged peers entirely is a later step.) */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "wgctl.h"

/* Reduce @want (from the file) to the changes against @cur (running). */
static int plan(struct wgnl_device *want, const struct wgnl_device *cur)
{
	size_t n_file = want->n_peers;
	struct wgnl_peer *p;
	int r;

	want->flags &= ~(uint32_t)WGNL_DEV_REPLACE_PEERS;
	/* The file is the truth for the private key and fwmark (absent means
	 * none); an absent ListenPort keeps the running (random) port. */
	if (!(want->flags & WGNL_DEV_HAS_PRIVATE_KEY))
		memset(want->private_key, 0, WGNL_KEY_LEN);
	if (wgnl_key_equal(want->private_key, cur->private_key))
		want->flags &= ~(uint32_t)WGNL_DEV_HAS_PRIVATE_KEY;
	else
		want->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
	if ((want->flags & WGNL_DEV_HAS_LISTEN_PORT) && want->listen_port == cur->listen_port)
		want->flags &= ~(uint32_t)WGNL_DEV_HAS_LISTEN_PORT;
	if (!(want->flags & WGNL_DEV_HAS_FWMARK))
		want->fwmark = 0;
	if (want->fwmark == cur->fwmark)
		want->flags &= ~(uint32_t)WGNL_DEV_HAS_FWMARK;
	else
		want->flags |= WGNL_DEV_HAS_FWMARK;

	for (size_t i = 0; i < n_file; i++) {
		const struct wgnl_peer *old;

		p = &want->peers[i];
		old = wgnl_device_find_peer(cur, p->public_key);
		p->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
		if (!(p->flags & WGNL_PEER_HAS_PRESHARED_KEY))
			memset(p->preshared_key, 0, WGNL_KEY_LEN);
		if (!(p->flags & WGNL_PEER_HAS_KEEPALIVE))
			p->persistent_keepalive = 0;
		if (!old) {
			p->flags |= WGNL_PEER_HAS_PRESHARED_KEY | WGNL_PEER_HAS_KEEPALIVE;
			continue;
		}
		if (wgnl_key_equal(p->preshared_key, old->preshared_key))
			p->flags &= ~(uint32_t)WGNL_PEER_HAS_PRESHARED_KEY;
		else
			p->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
		if (p->persistent_keepalive == old->persistent_keepalive)
			p->flags &= ~(uint32_t)WGNL_PEER_HAS_KEEPALIVE;
		else
			p->flags |= WGNL_PEER_HAS_KEEPALIVE;
	}
	/* Adding peers may move the array: look peers up again afterwards. */
	for (size_t i = 0; i < cur->n_peers; i++) {
		if (wgnl_device_find_peer(want, cur->peers[i].public_key))
			continue;
		r = wgnl_device_add_peer(want, cur->peers[i].public_key, &p);
		if (r < 0)
			return r;
		p->flags |= WGNL_PEER_REMOVE;
	}
	return 0;
}

int cmd_syncconf(int argc, char **argv)
{
	struct wgnl_device *cur = NULL;
	struct wgnl_config *cfg;
	struct wgnl_ctx *ctx;
	char what[300];
	int rc;

	if (wgctl_wants_help(argc, argv)) {
		printf("Usage: wgctl syncconf <interface> <config file>\n"
		       "Make the interface match the file: peers absent from it are removed,\n"
		       "the file's peers are set (allowed IPs replaced), device fields change\n"
		       "where they differ. Established sessions of kept peers stay up.\n");
		return WGK_EXIT_OK;
	}
	rc = wgctl_conf_cmd_load("syncconf", argc, argv, &ctx, &cfg);
	if (rc)
		return rc;
	rc = wgctl_get_device(ctx, argv[1], &cur);
	if (!rc && plan(cfg->dev, cur) < 0) {
		wgk_error("syncconf: out of memory");
		rc = WGK_EXIT_SYSTEM;
	}
	if (!rc) {
		snprintf(what, sizeof(what), "sync the configuration from '%s'", wgk_q(argv[2]));
		rc = wgctl_set_device(ctx, cfg->dev, what);
	}
	wgnl_device_free(cur);
	wgnl_config_free(cfg);
	wgnl_close(ctx);
	return rc;
}
