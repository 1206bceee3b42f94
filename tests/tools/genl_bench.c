// SPDX-License-Identifier: MIT
/* Drive a real in-kernel WireGuard device through libwg-netlink's generic
 * netlink backend and check what the kernel kept, against both our own read
 * and `wg showconf`. Meant for the qemu guest (tests/tools/genl_guest.sh):
 *   genl_bench IFNAME NPEERS
 * IFNAME must be an existing, empty, down WireGuard link. Prints the
 * KTEST ok/fail/info lines tests/kernel/vm.sh reads. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wgkit/wgnl.h"

static int failures;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void result(const char *name, const char *why)
{
	if (why) {
		printf("KTEST fail %s %s\n", name, why);
		failures++;
	} else {
		printf("KTEST ok %s\n", name);
	}
	fflush(stdout);
}

static void key_of(wgnl_key k, uint32_t i, uint8_t tag)
{
	/* Any 32 bytes do as a public key for configuration. */
	for (unsigned j = 0; j < WGNL_KEY_LEN; j++)
		k[j] = (uint8_t)(tag + j * 7 + (i >> (8 * (j % 4))) * 31);
	memcpy(k, &i, sizeof(i));
	k[4] = tag;
}

static void v4(struct wgnl_prefix *p, uint32_t host, uint8_t cidr)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET;
	p->cidr = cidr;
	p->ip4.s_addr = htonl(host);
}

static void v6(struct wgnl_prefix *p, uint32_t i)
{
	memset(p, 0, sizeof(*p));
	p->family = AF_INET6;
	p->cidr = 128;
	p->ip6.s6_addr[0] = 0xfd;
	memcpy(&p->ip6.s6_addr[12], &i, sizeof(i));
}

/* The NPEERS-peer device: one IPv4 /32 and one IPv6 /128 each, an endpoint
 * in TEST-NET-1 (the link stays down: nothing is sent), a preshared key on
 * every fourth peer. */
static struct wgnl_device *make_device(const char *ifname, uint32_t n)
{
	struct wgnl_device *dev = wgnl_device_new(ifname);
	struct wgnl_prefix p;

	if (!dev || wgnl_device_reserve(dev, n) < 0)
		exit(1);
	dev->flags = WGNL_DEV_REPLACE_PEERS | WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT |
		     WGNL_DEV_HAS_FWMARK;
	wgnl_key_generate_private(dev->private_key);
	dev->listen_port = 51820;
	dev->fwmark = 0x51;
	for (uint32_t i = 0; i < n; i++) {
		struct wgnl_peer *peer;
		wgnl_key k;

		key_of(k, i, 1);
		if (wgnl_device_add_peer(dev, k, &peer) < 0)
			exit(1);
		peer->flags |= WGNL_PEER_HAS_ENDPOINT;
		peer->endpoint.addr4.sin_family = AF_INET;
		peer->endpoint.addr4.sin_addr.s_addr = htonl(0xc0000200u | (1 + i % 250));
		peer->endpoint.addr4.sin_port = htons((uint16_t)(10000 + i % 50000));
		if (i % 4 == 0) {
			peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
			key_of(peer->preshared_key, i, 2);
		}
		v4(&p, 0x0a000000u + i, 32);
		wgnl_peer_add_allowedip(peer, &p);
		v6(&p, i);
		wgnl_peer_add_allowedip(peer, &p);
	}
	return dev;
}

/* NULL when @got holds exactly @want's peers with the same keys, endpoints,
 * keepalives and allowed IPs (sorted); else what differs. */
static const char *compare(struct wgnl_device *want, struct wgnl_device *got, bool device_attrs)
{
	static char why[160];

	wgnl_device_sort_allowedips(want);
	wgnl_device_sort_allowedips(got);
	if (device_attrs && (!wgnl_key_equal(want->private_key, got->private_key) ||
			     want->listen_port != got->listen_port || want->fwmark != got->fwmark))
		return "device attributes differ";
	if (want->n_peers != got->n_peers) {
		snprintf(why, sizeof(why), "%zu peers, expected %zu", got->n_peers, want->n_peers);
		return why;
	}
	for (size_t i = 0; i < want->n_peers; i++) {
		const struct wgnl_peer *w = &want->peers[i];
		const struct wgnl_peer *g = wgnl_device_find_peer(got, w->public_key);

		if (!g)
			return "a peer is missing";
		if ((w->flags & WGNL_PEER_HAS_PRESHARED_KEY) !=
			    (g->flags & WGNL_PEER_HAS_PRESHARED_KEY) ||
		    !wgnl_key_equal(w->preshared_key, g->preshared_key))
			return "a preshared key differs";
		if ((w->flags & WGNL_PEER_HAS_ENDPOINT) &&
		    !wgnl_endpoint_equal(&w->endpoint, &g->endpoint))
			return "an endpoint differs";
		if (w->persistent_keepalive != g->persistent_keepalive)
			return "a keepalive differs";
		if (w->n_allowedips != g->n_allowedips) {
			snprintf(why, sizeof(why), "peer %zu has %zu allowed IPs, expected %zu", i,
				 g->n_allowedips, w->n_allowedips);
			return why;
		}
		for (size_t j = 0; j < w->n_allowedips; j++)
			if (wgnl_prefix_cmp(&w->allowedips[j], &g->allowedips[j]))
				return "an allowed IP differs";
	}
	return NULL;
}

/* What `wg showconf` says, through the config parser. */
static struct wgnl_device *showconf(const char *ifname)
{
	static char text[64 << 20];
	struct wgnl_config_error err;
	struct wgnl_config *cfg;
	struct wgnl_device *dev;
	char cmd[64];
	size_t len;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "wg showconf %s", ifname);
	f = popen(cmd, "r");
	if (!f)
		return NULL;
	len = fread(text, 1, sizeof(text), f);
	if (pclose(f) != 0)
		return NULL;
	if (wgnl_config_parse(text, len, "wg showconf", 0, &cfg, &err) < 0) {
		printf("KTEST info showconf does not parse: line %u: %s\n", err.line, err.message);
		return NULL;
	}
	dev = cfg->dev;
	cfg->dev = NULL;
	wgnl_config_free(cfg);
	return dev;
}

static void step(struct wgnl_ctx *ctx, const char *name, const struct wgnl_device *dev,
		 uint64_t *msgs)
{
	struct wgnl_stats s;
	double t = now();
	int r;

	wgnl_stats_reset(ctx);
	r = wgnl_device_set(ctx, dev);
	wgnl_stats_get(ctx, &s);
	*msgs = s.set_msgs;
	printf("KTEST info %s: set %zu peers: %d, %llu messages, %.2f s\n", name, dev->n_peers, r,
	       (unsigned long long)s.set_msgs, now() - t);
	if (r < 0)
		printf("KTEST info %s: %s (%s)\n", name, strerror(-r),
		       wgnl_ctx_last_error(ctx) ? wgnl_ctx_last_error(ctx) : "");
}

static struct wgnl_device *get(struct wgnl_ctx *ctx, const char *ifname)
{
	struct wgnl_device *dev = NULL;
	struct wgnl_stats s;
	double t = now();
	int r;

	wgnl_stats_reset(ctx);
	r = wgnl_device_get(ctx, ifname, &dev);
	wgnl_stats_get(ctx, &s);
	printf("KTEST info get: %d, %zu peers, %llu messages received, %llu retries, %.2f s\n", r,
	       dev ? dev->n_peers : 0, (unsigned long long)s.recv_msgs,
	       (unsigned long long)s.dump_retries, now() - t);
	return dev;
}

int main(int argc, char **argv)
{
	struct wgnl_device *want, *got, *conf, *chg;
	struct wgnl_peer *peer;
	struct wgnl_prefix p;
	struct wgnl_ctx *ctx;
	const char *ifname;
	uint64_t msgs;
	uint32_t n;
	wgnl_key k;
	int r;

	if (argc != 3)
		return 2;
	ifname = argv[1];
	n = (uint32_t)strtoul(argv[2], NULL, 10);
	if (wgnl_ctx_open(&ctx) < 0)
		return 1;
	wgnl_ctx_set_backend(ctx, WGNL_BACKEND_KERNEL);

	r = wgnl_ctx_caps(ctx);
	printf("KTEST info caps %d (kernel %d, allowedip-remove %d)\n", r,
	       r > 0 && (r & WGNL_CAP_KERNEL), r > 0 && (r & WGNL_CAP_ALLOWEDIP_REMOVE));
	result("genl-caps",
	       r == WGNL_CAP_KERNEL || r == (WGNL_CAP_KERNEL | WGNL_CAP_ALLOWEDIP_REMOVE) ?
		       NULL :
		       "no WGNL_CAP_KERNEL");

	/* 1. NPEERS peers in as few messages as the 16-bit nest allows. */
	want = make_device(ifname, n);
	step(ctx, "bulk", want, &msgs);
	printf("KTEST info bulk: %u peers in %llu messages (wg: ~33 peers per message => ~%u)\n", n,
	       (unsigned long long)msgs, (n + 32) / 33);
	got = get(ctx, ifname);
	result("genl-bulk-get", got ? compare(want, got, true) : "get failed");
	conf = showconf(ifname);
	result("genl-bulk-showconf", conf ? compare(want, conf, true) : "wg showconf failed");
	wgnl_device_free(conf);
	wgnl_device_free(got);

	/* 2. One peer's allowed IPs replaced by 5000, split across messages:
	 * the continuation must not replace what the first fragment sent. */
	chg = wgnl_device_new(ifname);
	key_of(k, 0, 1);
	wgnl_device_add_peer(chg, k, &peer);
	peer->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
	for (uint32_t i = 0; i < 5000; i++) {
		v4(&p, 0xac100000u + i, 32);
		wgnl_peer_add_allowedip(peer, &p);
	}
	/* 3. ...and an absent peer with UPDATE_ONLY and 5000 allowed IPs: its
	 * continuation must not create it either. */
	key_of(k, n + 7, 1);
	wgnl_device_add_peer(chg, k, &peer);
	peer->flags |= WGNL_PEER_UPDATE_ONLY;
	for (uint32_t i = 0; i < 5000; i++) {
		v4(&p, 0xac200000u + i, 32);
		wgnl_peer_add_allowedip(peer, &p);
	}
	step(ctx, "split", chg, &msgs);
	result("genl-split-messages", msgs >= 2 ? NULL : "5000+5000 allowed IPs fit one message?");
	/* Expected state: peer 0 has exactly the 5000 new prefixes. */
	wgnl_device_find_peer(want, chg->peers[0].public_key)->n_allowedips = 0;
	for (size_t i = 0; i < chg->peers[0].n_allowedips; i++)
		wgnl_peer_add_allowedip(wgnl_device_find_peer(want, chg->peers[0].public_key),
					&chg->peers[0].allowedips[i]);
	got = get(ctx, ifname);
	result("genl-split-get", got ? compare(want, got, true) : "get failed");
	if (got && wgnl_device_find_peer(got, chg->peers[1].public_key))
		result("genl-split-update-only", "a continuation created an UPDATE_ONLY peer");
	else
		result("genl-split-update-only", got ? NULL : "get failed");
	conf = showconf(ifname);
	result("genl-split-showconf", conf ? compare(want, conf, true) : "wg showconf failed");
	wgnl_device_free(conf);
	wgnl_device_free(got);
	wgnl_device_free(chg);

	/* 4. Removing single allowed IPs: refused up front unless supported. */
	chg = wgnl_device_new(ifname);
	key_of(k, 1, 1);
	wgnl_device_add_peer(chg, k, &peer);
	v4(&p, 0x0a000001u, 32);
	p.flags = WGNL_PREFIX_REMOVE;
	wgnl_peer_add_allowedip(peer, &p);
	r = wgnl_device_set(ctx, chg);
	printf("KTEST info remove-allowedip: %d (%s)\n", r,
	       wgnl_ctx_last_error(ctx) ? wgnl_ctx_last_error(ctx) : "");
	if (wgnl_ctx_caps(ctx) & WGNL_CAP_ALLOWEDIP_REMOVE)
		result("genl-aip-remove", r == 0 ? NULL : "refused on a kernel that supports it");
	else
		result("genl-aip-remove", r == -EOPNOTSUPP ? NULL : "not refused with -EOPNOTSUPP");
	wgnl_device_free(chg);

	/* 5. Errors: no such device, and a device of another kind. */
	r = wgnl_device_get(ctx, "genlnone0", &got);
	result("genl-enodev", r == -ENODEV && !got ? NULL : "expected -ENODEV");
	r = wgnl_device_get(ctx, "lo", &got);
	printf("KTEST info get lo: %d (%s)\n", r,
	       wgnl_ctx_last_error(ctx) ? wgnl_ctx_last_error(ctx) : "");
	result("genl-not-wireguard", r == -ENODEV ? NULL : "expected -ENODEV for lo");

	/* 6. Empty the device in one message (deleting 10k peers with the
	 * link costs minutes on this kernel). */
	chg = wgnl_device_new(ifname);
	chg->flags = WGNL_DEV_REPLACE_PEERS;
	step(ctx, "empty", chg, &msgs);
	got = get(ctx, ifname);
	result("genl-empty",
	       msgs == 1 && got && got->n_peers == 0 ? NULL : "not one message / peers left");
	wgnl_device_free(got);
	wgnl_device_free(chg);
	wgnl_device_free(want);
	wgnl_ctx_close(ctx);
	return failures ? 1 : 0;
}
