// SPDX-License-Identifier: MIT
/* uapi_ctl: drive a userspace WireGuard device through libwg-netlink's UAPI
 * backend alone, for tests/uapi/run.sh (before and beside wgctl).
 *
 *   uapi_ctl list
 *   uapi_ctl dump IF                     like `wg show IF dump`
 *   uapi_ctl set IF [private-key FILE] [listen-port N] [fwmark N] [replace-peers]
 *                   [peer B64 [remove] [update-only] [preshared-key FILE]
 *                    [endpoint IP:PORT] [persistent-keepalive N]
 *                    [allowed-ips LIST]]...
 *        LIST is comma-separated; with no +/- prefix it replaces the peer's
 *        list, +P adds and -P removes (WGNL_PREFIX_REMOVE).
 *   uapi_ctl bulk IF N [remove]          add (or remove) N generated peers,
 *                                        one /32 each, in one set
 *   uapi_ctl stats ...                   any of the above, then the counters
 *
 * Exit 0 on success, 1 on failure with one line on stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wgkit/wgnl.h"

static const char *prog = "uapi_ctl";

static int fail(struct wgnl_ctx *ctx, const char *what, int r)
{
	const char *why = ctx ? wgnl_ctx_last_error(ctx) : NULL;

	fprintf(stderr, "%s: %s: %s%s%s\n", prog, what, strerror(-r), why ? ": " : "",
		why ? why : "");
	return 1;
}

static int read_key_file(wgnl_key out, const char *path)
{
	char buf[128] = { 0 };
	FILE *f = fopen(path, "r");
	size_t n;
	int r;

	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	r = wgnl_key_from_base64(out, buf);
	wgnl_wipe(buf, sizeof(buf));
	return r;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static void print_key(const wgnl_key k)
{
	wgnl_key_b64 b;

	wgnl_key_to_base64(b, k);
	fputs(b, stdout);
}

static int cmd_dump(struct wgnl_ctx *ctx, int argc, char **argv)
{
	struct wgnl_device *dev = NULL;
	char buf[128];
	int r;

	if (argc != 1) {
		fprintf(stderr, "usage: %s dump IF\n", prog);
		return 1;
	}
	r = wgnl_device_get(ctx, argv[0], &dev);
	if (r < 0)
		return fail(ctx, argv[0], r);
	if (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		print_key(dev->private_key);
	else
		fputs("(none)", stdout);
	putchar('\t');
	if (dev->flags & WGNL_DEV_HAS_PUBLIC_KEY)
		print_key(dev->public_key);
	else
		fputs("(none)", stdout);
	printf("\t%u\t", dev->listen_port);
	if (dev->fwmark)
		printf("0x%x\n", dev->fwmark);
	else
		puts("off");
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];

		print_key(p->public_key);
		putchar('\t');
		if (wgnl_key_is_zero(p->preshared_key))
			fputs("(none)", stdout);
		else
			print_key(p->preshared_key);
		printf("\t%s\t", wgnl_endpoint_format(&p->endpoint, buf, sizeof(buf)));
		if (!p->n_allowedips)
			fputs("(none)", stdout);
		for (size_t j = 0; j < p->n_allowedips; j++)
			printf("%s%s", j ? "," : "",
			       wgnl_prefix_format(&p->allowedips[j], buf, sizeof(buf)));
		printf("\t%lld\t%llu\t%llu\t", (long long)p->last_handshake.tv_sec,
		       (unsigned long long)p->rx_bytes, (unsigned long long)p->tx_bytes);
		if (p->persistent_keepalive)
			printf("%u\n", p->persistent_keepalive);
		else
			puts("off");
	}
	wgnl_device_free(dev);
	return 0;
}

static int add_allowed_ips(struct wgnl_peer *peer, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	bool incremental = false;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		struct wgnl_prefix pfx;
		uint8_t flags = 0;

		while (*tok == ' ')
			tok++;
		if (*tok == '+' || *tok == '-') {
			incremental = true;
			flags = *tok == '-' ? WGNL_PREFIX_REMOVE : 0;
			tok++;
		}
		if (!*tok)
			continue;
		r = wgnl_prefix_parse(&pfx, tok);
		if (r < 0)
			break;
		pfx.flags = flags;
		r = wgnl_peer_add_allowedip(peer, &pfx);
		if (r < 0)
			break;
	}
	if (!incremental)
		peer->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
	free(copy);
	return r;
}

static int cmd_set(struct wgnl_ctx *ctx, int argc, char **argv)
{
	struct wgnl_device *dev;
	struct wgnl_peer *peer = NULL;
	uint32_t v;
	int r = 0, i;

	if (argc < 1) {
		fprintf(stderr, "usage: %s set IF ...\n", prog);
		return 1;
	}
	dev = wgnl_device_new(argv[0]);
	if (!dev)
		return fail(NULL, "interface name", -EINVAL);
	for (i = 1; i < argc && r == 0; i++) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		wgnl_key key;

		if (!strcmp(k, "replace-peers")) {
			dev->flags |= WGNL_DEV_REPLACE_PEERS;
			continue;
		}
		if (peer && !strcmp(k, "remove")) {
			peer->flags |= WGNL_PEER_REMOVE;
			continue;
		}
		if (peer && !strcmp(k, "update-only")) {
			peer->flags |= WGNL_PEER_UPDATE_ONLY;
			continue;
		}
		if (!val) {
			fprintf(stderr, "%s: '%s' needs a value\n", prog, k);
			r = -EINVAL;
			break;
		}
		i++;
		if (!strcmp(k, "private-key")) {
			r = read_key_file(dev->private_key, val);
			dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
		} else if (!strcmp(k, "listen-port")) {
			r = parse_u32(val, 65535, &v);
			dev->listen_port = (uint16_t)v;
			dev->flags |= WGNL_DEV_HAS_LISTEN_PORT;
		} else if (!strcmp(k, "fwmark")) {
			r = parse_u32(val, UINT32_MAX, &dev->fwmark);
			dev->flags |= WGNL_DEV_HAS_FWMARK;
		} else if (!strcmp(k, "peer")) {
			r = wgnl_key_from_base64(key, val);
			if (r == 0) {
				r = wgnl_device_add_peer(dev, key, &peer);
				if (r == -EEXIST)
					r = 0;
			}
		} else if (peer && !strcmp(k, "preshared-key")) {
			r = read_key_file(peer->preshared_key, val);
			peer->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
		} else if (peer && !strcmp(k, "endpoint")) {
			r = wgnl_endpoint_parse(&peer->endpoint, val);
			peer->flags |= WGNL_PEER_HAS_ENDPOINT;
		} else if (peer && !strcmp(k, "persistent-keepalive")) {
			r = parse_u32(val, 65535, &v);
			peer->persistent_keepalive = (uint16_t)v;
			peer->flags |= WGNL_PEER_HAS_KEEPALIVE;
		} else if (peer && !strcmp(k, "allowed-ips")) {
			r = add_allowed_ips(peer, val);
		} else {
			fprintf(stderr, "%s: unknown argument '%s'\n", prog, k);
			r = -EINVAL;
		}
		if (r < 0)
			fprintf(stderr, "%s: bad value for '%s': '%s'\n", prog, k, val);
	}
	if (r == 0) {
		r = wgnl_device_set(ctx, dev);
		if (r < 0)
			fail(ctx, argv[0], r);
	}
	wgnl_device_free(dev);
	return r < 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* N peers with keys 0x7e.. || i, allowed IP 100.64.0.0/10 + i. */
static int cmd_bulk(struct wgnl_ctx *ctx, int argc, char **argv)
{
	struct wgnl_device *dev, *got = NULL;
	uint32_t n;
	bool remove;
	double t0, t1, t2;
	size_t found = 0;
	int r;

	if (argc < 2 || parse_u32(argv[1], 1U << 20, &n) < 0) {
		fprintf(stderr, "usage: %s bulk IF N [remove]\n", prog);
		return 1;
	}
	remove = argc > 2 && !strcmp(argv[2], "remove");
	dev = wgnl_device_new(argv[0]);
	if (!dev || wgnl_device_reserve(dev, n) < 0)
		return fail(NULL, "bulk", -ENOMEM);
	for (uint32_t i = 0; i < n; i++) {
		struct wgnl_prefix pfx = { .family = AF_INET, .cidr = 32 };
		struct wgnl_peer *p;
		wgnl_key k;

		memset(k, 0x7e, sizeof(k));
		memcpy(k, &i, sizeof(i));
		pfx.ip4.s_addr = htonl(0x64400000u + i);
		r = wgnl_device_add_peer(dev, k, &p);
		if (r == 0 && remove)
			p->flags |= WGNL_PEER_REMOVE;
		else if (r == 0)
			r = wgnl_peer_add_allowedip(p, &pfx);
		if (r < 0)
			return fail(NULL, "bulk", r);
	}
	t0 = now();
	r = wgnl_device_set(ctx, dev);
	t1 = now();
	if (r < 0)
		return fail(ctx, argv[0], r);
	r = wgnl_device_get(ctx, argv[0], &got);
	t2 = now();
	if (r < 0)
		return fail(ctx, argv[0], r);
	for (size_t i = 0; i < dev->n_peers; i++)
		found += wgnl_device_find_peer(got, dev->peers[i].public_key) != NULL;
	fprintf(stderr, "%s: bulk %s %u peers: set %.3f s, get %.3f s (%zu peers on the device)\n",
		prog, remove ? "remove" : "add", n, t1 - t0, t2 - t1, got->n_peers);
	printf("%zu\n", found);
	r = (remove ? found != 0 : found != n) ? 1 : 0;
	if (r)
		fprintf(stderr, "%s: bulk: %zu of %u generated peers present\n", prog, found, n);
	wgnl_device_free(dev);
	wgnl_device_free(got);
	return r;
}

static int cmd_list(struct wgnl_ctx *ctx, int argc, char **argv)
{
	char **names = NULL;
	int r = wgnl_device_list(ctx, &names);

	if (r < 0)
		return fail(ctx, "list", r);
	for (char **p = names; *p; p++)
		puts(*p);
	wgnl_strv_free(names);
	return 0;
}

int main(int argc, char **argv)
{
	struct wgnl_ctx *ctx;
	bool stats = false;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "stats")) {
		stats = true;
		argv++;
		argc--;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: %s [stats] list|dump|set|bulk ...\n", prog);
		return 1;
	}
	if (wgnl_ctx_open(&ctx) < 0)
		return fail(NULL, "open", -ENOMEM);
	if (getenv("WGKIT_UAPI_DIR"))
		wgnl_ctx_set_uapi_dir(ctx, getenv("WGKIT_UAPI_DIR"));
	/* Lists also work with the kernel part; the rest is UAPI only. */
	if (strcmp(argv[1], "list"))
		wgnl_ctx_set_backend(ctx, WGNL_BACKEND_UAPI);
	if (!strcmp(argv[1], "dump"))
		rc = cmd_dump(ctx, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "set"))
		rc = cmd_set(ctx, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "bulk"))
		rc = cmd_bulk(ctx, argc - 2, argv + 2);
	else if (!strcmp(argv[1], "list"))
		rc = cmd_list(ctx, argc - 2, argv + 2);
	else {
		fprintf(stderr, "%s: unknown command '%s'\n", prog, argv[1]);
		rc = 1;
	}
	if (stats) {
		struct wgnl_stats st;

		wgnl_stats_get(ctx, &st);
		fprintf(stderr, "%s: stats: set_msgs=%llu get_msgs=%llu recv_msgs=%llu\n", prog,
			(unsigned long long)st.set_msgs, (unsigned long long)st.get_msgs,
			(unsigned long long)st.recv_msgs);
	}
	wgnl_ctx_close(ctx);
	return rc;
}
