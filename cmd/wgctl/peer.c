// SPDX-License-Identifier: MIT
/* wgctl peer add|remove: one peer, idempotently, for configuration
 * management: the command says whether anything changed (--json:
 * {"changed": ...}) and succeeds when the peer is already as asked.
 * peer list|show: read one interface's peers. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wgctl.h"

static void peer_help(void)
{
	printf("Usage: wgctl peer add <interface> <public key> [allowed-ips <ip>/<cidr>[,...]]\n"
	       "         [endpoint <host>:<port>] [preshared-key <file>]\n"
	       "         [persistent-keepalive <seconds>|off] [--json]\n"
	       "       wgctl peer remove <interface> <public key> [--json]\n"
	       "       wgctl peer list <interface> [--json]\n"
	       "       wgctl peer show <interface> <public key> [--json]\n"
	       "add creates the peer or updates the settings given (allowed-ips replace the\n"
	       "peer's list; +ip/-ip edit it); settings not given stay as they are.\n"
	       "Both exit 0 when the peer already is as asked, and say nothing changed.\n"
	       "list prints the peers' public keys (--json: the peer objects of\n"
	       "docs/json.md); show prints one peer (exit 3 when there is no such peer).\n");
}

static void report(const char *action, const char *ifname, const char *key, bool changed)
{
	struct wgk_json j;

	if (wgctl_opt.json) {
		wgk_json_init(&j, stdout, isatty(STDOUT_FILENO));
		wgk_json_object_begin(&j);
		wgk_json_kv_bool(&j, "changed", changed);
		wgk_json_kv_string(&j, "action", action);
		wgk_json_kv_string(&j, "interface", ifname);
		wgk_json_kv_string(&j, "peer", key);
		wgk_json_object_end(&j);
		wgk_json_finish(&j);
		return;
	}
	if (wgctl_opt.quiet)
		return;
	if (!changed)
		printf("nothing changed: peer '%s' %s '%s'\n", wgk_q(key),
		       !strcmp(action, "remove") ? "is not on" : "is already as asked on",
		       wgk_q(ifname));
	else
		printf("%s peer '%s' %s '%s'\n", !strcmp(action, "remove") ? "removed" : "set",
		       wgk_q(key), !strcmp(action, "remove") ? "from" : "on", wgk_q(ifname));
	fflush(stdout);
}

static int prefix_sort_cmp(const void *a, const void *b)
{
	return wgnl_prefix_cmp(a, b);
}

/* Masked, sorted, deduplicated copy of a peer's allowed IPs. */
static struct wgnl_prefix *normalized(const struct wgnl_peer *p, size_t *n)
{
	struct wgnl_prefix *v = calloc(p->n_allowedips + 1, sizeof(*v));
	size_t out = 0;

	if (!v)
		return NULL;
	for (size_t k = 0; k < p->n_allowedips; k++) {
		v[k] = p->allowedips[k];
		v[k].flags = 0;
		wgnl_prefix_mask(&v[k]);
	}
	qsort(v, p->n_allowedips, sizeof(*v), prefix_sort_cmp);
	for (size_t k = 0; k < p->n_allowedips; k++)
		if (!out || wgnl_prefix_cmp(&v[out - 1], &v[k]))
			v[out++] = v[k];
	*n = out;
	return v;
}

static bool has_prefix(const struct wgnl_peer *p, const struct wgnl_prefix *want)
{
	for (size_t k = 0; k < p->n_allowedips; k++) {
		struct wgnl_prefix q = p->allowedips[k];

		q.flags = 0;
		wgnl_prefix_mask(&q);
		if (!wgnl_prefix_cmp(&q, want))
			return true;
	}
	return false;
}

/* Would applying @want change @old? -ENOMEM on allocation failure. */
static int differs(const struct wgnl_peer *want, const struct wgnl_peer *old, bool ips_given)
{
	if (!old)
		return 1;
	if ((want->flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
	    !wgnl_key_equal(want->preshared_key, old->preshared_key))
		return 1;
	if ((want->flags & WGNL_PEER_HAS_ENDPOINT) &&
	    !wgnl_endpoint_equal(&want->endpoint, &old->endpoint))
		return 1;
	if ((want->flags & WGNL_PEER_HAS_KEEPALIVE) &&
	    want->persistent_keepalive != old->persistent_keepalive)
		return 1;
	if (!ips_given)
		return 0;
	if (want->flags & WGNL_PEER_REPLACE_ALLOWEDIPS) {
		size_t na, nb;
		struct wgnl_prefix *a = normalized(want, &na), *b = normalized(old, &nb);
		int d;

		if (!a || !b) {
			free(a);
			free(b);
			return -ENOMEM;
		}
		d = na != nb;
		for (size_t k = 0; !d && k < na; k++)
			d = wgnl_prefix_cmp(&a[k], &b[k]) != 0;
		free(a);
		free(b);
		return d;
	}
	for (size_t k = 0; k < want->n_allowedips; k++) {
		struct wgnl_prefix q = want->allowedips[k];
		bool remove = q.flags & WGNL_PREFIX_REMOVE;

		q.flags = 0;
		wgnl_prefix_mask(&q);
		if (has_prefix(old, &q) == remove)
			return 1;
	}
	return 0;
}

static int peer_add(int argc, char **argv)
{
	struct wgnl_device *want = NULL, *cur = NULL;
	struct wgnl_ctx *ctx = NULL;
	struct wgnl_peer *peer;
	bool ips_given = false;
	char what[128];
	wgnl_key pub;
	int rc, d;

	if (argc < 3)
		return wgctl_usage("peer", "add: expected an interface name and a public key");
	if (!wgctl_valid_ifname(argv[1]))
		return wgctl_usage("peer", "invalid interface name '%s'", wgk_qs(argv[1]));
	rc = wgctl_parse_pubkey("peer add", argv[2], pub);
	if (rc)
		return rc;
	want = wgnl_device_new(argv[1]);
	if (!want || wgnl_device_add_peer(want, pub, &peer) < 0) {
		wgnl_device_free(want);
		wgk_error("peer add: out of memory");
		return WGK_EXIT_SYSTEM;
	}
	for (int i = 3; i < argc && !rc; i++) {
		if (!strcmp(argv[i], "allowed-ips"))
			ips_given = true;
		d = wgctl_peer_option("peer add", peer, argc, argv, &i);
		if (d < 0)
			rc = wgctl_usage("peer", "add: unknown option '%s'", wgk_qs(argv[i]));
		else
			rc = d;
	}
	if (!rc)
		rc = wgctl_lock("peer", argv[1]);
	if (!rc)
		rc = wgctl_open(&ctx);
	if (!rc)
		rc = wgctl_get_device(ctx, argv[1], &cur);
	if (!rc) {
		d = differs(peer, wgnl_device_find_peer(cur, pub), ips_given);
		if (d < 0) {
			wgk_error("peer add: out of memory");
			rc = WGK_EXIT_SYSTEM;
		} else if (!d) {
			report("add", argv[1], argv[2], false);
		} else {
			rc = wgctl_resolve_allowedip_edits(ctx, want, "peer add");
			snprintf(what, sizeof(what), "set peer '%s'", wgk_q(argv[2]));
			if (!rc)
				rc = wgctl_set_device(ctx, want, what);
			if (!rc)
				report("add", argv[1], argv[2], true);
		}
	}
	wgnl_device_free(cur);
	wgnl_device_free(want);
	wgnl_ctx_close(ctx);
	return rc;
}

static int peer_remove(int argc, char **argv)
{
	struct wgnl_device *want = NULL, *cur = NULL;
	struct wgnl_ctx *ctx = NULL;
	struct wgnl_peer *peer;
	char what[128];
	wgnl_key pub;
	int rc;

	if (argc != 3)
		return wgctl_usage("peer", "remove: expected an interface name and a public key");
	if (!wgctl_valid_ifname(argv[1]))
		return wgctl_usage("peer", "invalid interface name '%s'", wgk_qs(argv[1]));
	rc = wgctl_parse_pubkey("peer remove", argv[2], pub);
	if (rc)
		return rc;
	rc = wgctl_lock("peer", argv[1]);
	if (!rc)
		rc = wgctl_open(&ctx);
	if (!rc)
		rc = wgctl_get_device(ctx, argv[1], &cur);
	if (!rc && !wgnl_device_find_peer(cur, pub)) {
		report("remove", argv[1], argv[2], false);
	} else if (!rc) {
		want = wgnl_device_new(argv[1]);
		if (!want || wgnl_device_add_peer(want, pub, &peer) < 0) {
			wgk_error("peer remove: out of memory");
			rc = WGK_EXIT_SYSTEM;
		} else {
			peer->flags |= WGNL_PEER_REMOVE;
			snprintf(what, sizeof(what), "remove peer '%s'", wgk_q(argv[2]));
			rc = wgctl_set_device(ctx, want, what);
			if (!rc)
				report("remove", argv[1], argv[2], true);
		}
	}
	wgnl_device_free(cur);
	wgnl_device_free(want);
	wgnl_ctx_close(ctx);
	return rc;
}

static void peer_text(const struct wgnl_peer *p)
{
	char buf[80];
	wgnl_key_b64 b64;
	uint64_t hs = wgctl_handshake_secs(p);

	wgnl_key_to_base64(b64, p->public_key);
	printf("public key: %s\n", b64);
	printf("preshared key: %s\n",
	       (p->flags & WGNL_PEER_HAS_PRESHARED_KEY) && !wgnl_key_is_zero(p->preshared_key) ?
		       "(hidden)" :
		       "(none)");
	printf("endpoint: %s\n", p->endpoint.addr.sa_family ?
					 wgnl_endpoint_format(&p->endpoint, buf, sizeof(buf)) :
					 "(none)");
	printf("allowed ips:");
	for (size_t k = 0; k < p->n_allowedips; k++)
		printf(" %s", wgnl_prefix_format(&p->allowedips[k], buf, sizeof(buf)));
	printf("%s\n", p->n_allowedips ? "" : " (none)");
	printf("latest handshake: %llu%s\n", (unsigned long long)hs, hs ? "" : " (never)");
	printf("transfer: %llu received, %llu sent\n", (unsigned long long)p->rx_bytes,
	       (unsigned long long)p->tx_bytes);
	printf("persistent keepalive: %u%s\n", p->persistent_keepalive,
	       p->persistent_keepalive ? "" : " (off)");
}

/* peer list IF / peer show IF KEY: read-only, no lock. */
static int peer_read(bool one, int argc, char **argv)
{
	const char *sub = one ? "show" : "list";
	struct wgnl_device *cur = NULL;
	struct wgnl_ctx *ctx = NULL;
	const struct wgnl_peer *p = NULL;
	struct wgk_json j;
	wgnl_key pub;
	int rc;

	if (argc != (one ? 3 : 2))
		return wgctl_usage("peer", "%s: expected an interface name%s", sub,
				   one ? " and a public key" : "");
	if (!wgctl_valid_ifname(argv[1]))
		return wgctl_usage("peer", "invalid interface name '%s'", wgk_q(argv[1]));
	if (one && (rc = wgctl_parse_pubkey("peer show", argv[2], pub)))
		return rc;
	rc = wgctl_open(&ctx);
	if (!rc)
		rc = wgctl_get_device(ctx, argv[1], &cur);
	if (!rc && one && !(p = wgnl_device_find_peer(cur, pub))) {
		wgk_error("peer show: no peer '%s' on '%s'", wgk_q(argv[2]), wgk_q(argv[1]));
		rc = WGK_EXIT_NOTFOUND;
	}
	if (!rc) {
		wgk_json_init(&j, stdout, isatty(STDOUT_FILENO));
		if (one && wgctl_opt.json) {
			wgctl_json_peer(&j, p);
			wgk_json_finish(&j);
		} else if (one) {
			peer_text(p);
		} else if (wgctl_opt.json) {
			wgk_json_array_begin(&j);
			for (size_t i = 0; i < cur->n_peers; i++)
				wgctl_json_peer(&j, &cur->peers[i]);
			wgk_json_array_end(&j);
			wgk_json_finish(&j);
		} else {
			for (size_t i = 0; i < cur->n_peers; i++) {
				wgnl_key_b64 b64;

				wgnl_key_to_base64(b64, cur->peers[i].public_key);
				printf("%s\n", b64);
			}
		}
	}
	wgnl_device_free(cur);
	wgnl_ctx_close(ctx);
	return rc;
}

int cmd_peer(int argc, char **argv)
{
	if (wgctl_wants_help(argc, argv)) {
		peer_help();
		return WGK_EXIT_OK;
	}
	/* Only before the subcommand: wg's keywords follow it. */
	if (wgctl_no_options("peer", true, &argc, &argv))
		return WGK_EXIT_USAGE;
	if (argc < 2)
		return wgctl_usage("peer", "expected 'add', 'remove', 'list' or 'show'");
	if (!strcmp(argv[1], "list"))
		return peer_read(false, argc - 1, argv + 1);
	if (!strcmp(argv[1], "show"))
		return peer_read(true, argc - 1, argv + 1);
	if (!strcmp(argv[1], "add"))
		return peer_add(argc - 1, argv + 1);
	if (!strcmp(argv[1], "remove") || !strcmp(argv[1], "del"))
		return peer_remove(argc - 1, argv + 1);
	return wgctl_usage("peer", "unknown subcommand '%s' (add, remove, list or show)",
			   wgk_qs(argv[1]));
}
