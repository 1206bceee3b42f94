// SPDX-License-Identifier: MIT
/* wgctl show: the state of WireGuard interfaces as text for people, as
 * `wg show` fields and dump for scripts, or as JSON (docs/json.md). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wgctl.h"

enum show_field {
	F_PRETTY = 0,
	F_PUBLIC_KEY,
	F_PRIVATE_KEY,
	F_LISTEN_PORT,
	F_FWMARK,
	F_PEERS,
	F_PRESHARED_KEYS,
	F_ENDPOINTS,
	F_ALLOWED_IPS,
	F_LATEST_HANDSHAKES,
	F_TRANSFER,
	F_KEEPALIVE,
	F_DUMP,
};

static const struct {
	const char *name;
	enum show_field field;
} fields[] = {
	{ "public-key", F_PUBLIC_KEY },
	{ "private-key", F_PRIVATE_KEY },
	{ "listen-port", F_LISTEN_PORT },
	{ "fwmark", F_FWMARK },
	{ "peers", F_PEERS },
	{ "preshared-keys", F_PRESHARED_KEYS },
	{ "endpoints", F_ENDPOINTS },
	{ "allowed-ips", F_ALLOWED_IPS },
	{ "latest-handshakes", F_LATEST_HANDSHAKES },
	{ "transfer", F_TRANSFER },
	{ "persistent-keepalive", F_KEEPALIVE },
	{ "dump", F_DUMP },
};

static void show_help(void)
{
	printf("Usage: wgctl show [<interface> | all | interfaces] [<field>] [--json] [--show-keys]\n"
	       "Fields (as wg show): public-key private-key listen-port fwmark peers\n"
	       "  preshared-keys endpoints allowed-ips latest-handshakes transfer\n"
	       "  persistent-keepalive dump\n"
	       "Private and preshared keys show as (hidden) unless --show-keys is given\n"
	       "(the private-key and preshared-keys fields print them: they ask for them).\n"
	       "--json prints the documented schema (docs/json.md) for one interface or all.\n");
}

/* A key for output: the key, "(none)" when unset, "(hidden)" when secret. */
static const char *key_text(char *buf, const wgnl_key key, bool present, bool secret)
{
	if (!present || wgnl_key_is_zero(key))
		return "(none)";
	if (secret)
		return "(hidden)";
	wgnl_key_to_base64(buf, key);
	return buf;
}

static bool has_private_key(const struct wgnl_device *dev)
{
	return (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY) && !wgnl_key_is_zero(dev->private_key);
}

static bool has_public_key(const struct wgnl_device *dev)
{
	return (dev->flags & WGNL_DEV_HAS_PUBLIC_KEY) && !wgnl_key_is_zero(dev->public_key);
}

static bool has_endpoint(const struct wgnl_peer *p)
{
	return (p->flags & WGNL_PEER_HAS_ENDPOINT) &&
	       (p->endpoint.addr.sa_family == AF_INET || p->endpoint.addr.sa_family == AF_INET6);
}

/* ------------------------------------------------------------ JSON */

void wgctl_json_peer(struct wgk_json *j, const struct wgnl_peer *p)
{
	wgnl_key_b64 b64;
	char buf[80];

	wgk_json_object_begin(j);
	wgk_json_kv_string(j, "public_key", key_text(b64, p->public_key, true, false));
	wgk_json_kv_string(j, "preshared_key",
			   key_text(b64, p->preshared_key, p->flags & WGNL_PEER_HAS_PRESHARED_KEY,
				    !wgctl_opt.show_keys));
	wgk_json_key(j, "endpoint");
	if (has_endpoint(p))
		wgk_json_string(j, wgnl_endpoint_format(&p->endpoint, buf, sizeof(buf)));
	else
		wgk_json_null(j);
	wgk_json_key(j, "allowed_ips");
	wgk_json_array_begin(j);
	for (size_t k = 0; k < p->n_allowedips; k++)
		wgk_json_string(j, wgnl_prefix_format(&p->allowedips[k], buf, sizeof(buf)));
	wgk_json_array_end(j);
	wgk_json_kv_uint(j, "latest_handshake", wgctl_handshake_secs(p));
	wgk_json_kv_uint(j, "rx_bytes", p->rx_bytes);
	wgk_json_kv_uint(j, "tx_bytes", p->tx_bytes);
	wgk_json_kv_uint(j, "persistent_keepalive", p->persistent_keepalive);
	wgk_json_object_end(j);
	wgnl_wipe(b64, sizeof(b64));
}

/* The link around the device (MTU, up, addresses), read through rtnetlink
 * in this network namespace; null where it is not visible here (a
 * userspace implementation's TUN in another namespace). */
static void json_link(struct wgk_json *j, struct wgnl_ctx *ctx, const char *name)
{
	struct wgnl_prefix *addrs = NULL;
	struct wgnl_link link;
	char buf[INET6_ADDRSTRLEN + 8];
	int n;

	wgk_json_key(j, "link");
	if (!ctx || wgnl_link_get(ctx, name, &link) < 0 ||
	    (n = wgnl_addr_list(ctx, name, &addrs)) < 0) {
		wgk_json_null(j);
		return;
	}
	wgk_json_object_begin(j);
	wgk_json_kv_uint(j, "mtu", link.mtu);
	wgk_json_kv_bool(j, "up", link.up);
	wgk_json_key(j, "addresses");
	wgk_json_array_begin(j);
	for (int i = 0; i < n; i++)
		wgk_json_string(j, wgnl_prefix_format(&addrs[i], buf, sizeof(buf)));
	wgk_json_array_end(j);
	wgk_json_object_end(j);
	wgnl_free(addrs);
}

static void json_device(struct wgk_json *j, const struct wgnl_device *dev, struct wgnl_ctx *ctx)
{
	wgnl_key_b64 b64;

	wgk_json_object_begin(j);
	wgk_json_kv_string(j, "name", dev->name);
	wgk_json_kv_string(j, "public_key",
			   key_text(b64, dev->public_key, has_public_key(dev), false));
	wgk_json_kv_string(j, "private_key",
			   key_text(b64, dev->private_key, has_private_key(dev),
				    !wgctl_opt.show_keys));
	wgk_json_kv_uint(j, "listen_port", dev->listen_port);
	wgk_json_kv_uint(j, "fwmark", dev->fwmark);
	json_link(j, ctx, dev->name);
	wgk_json_key(j, "peers");
	wgk_json_array_begin(j);
	for (size_t i = 0; i < dev->n_peers; i++)
		wgctl_json_peer(j, &dev->peers[i]);
	wgk_json_array_end(j);
	wgk_json_object_end(j);
	wgnl_wipe(b64, sizeof(b64));
}

/* ------------------------------------------------------ text for people */

static void print_duration(uint64_t secs)
{
	static const struct {
		uint64_t len;
		const char *unit;
	} units[] = { { 365ULL * 86400, "year" },
		      { 86400, "day" },
		      { 3600, "hour" },
		      { 60, "minute" },
		      { 1, "second" } };
	bool first = true;

	if (!secs) {
		printf("Now");
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = secs / units[i].len;

		if (!n)
			continue;
		secs %= units[i].len;
		printf("%s%" PRIu64 " %s%s", first ? "" : ", ", n, units[i].unit,
		       n == 1 ? "" : "s");
		first = false;
	}
}

static void print_bytes(uint64_t b)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	size_t u = 0;

	if (b < 1024) {
		printf("%" PRIu64 " B", b);
		return;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	printf("%.2f %s", v, units[u]);
}

/* Most recent handshake first, as wg shows peers; never-seen peers last. */
static int peer_by_handshake(const void *a, const void *b)
{
	const struct wgnl_peer *pa = *(const struct wgnl_peer *const *)a;
	const struct wgnl_peer *pb = *(const struct wgnl_peer *const *)b;
	uint64_t ha = wgctl_handshake_secs(pa), hb = wgctl_handshake_secs(pb);

	if (ha != hb)
		return ha > hb ? -1 : 1;
	return memcmp(pa->public_key, pb->public_key, WGNL_KEY_LEN);
}

static int print_pretty(const struct wgnl_device *dev)
{
	const struct wgnl_peer **sorted = NULL;
	time_t now = time(NULL);
	wgnl_key_b64 b64;
	char buf[80];

	printf("interface: %s\n", dev->name);
	if (has_public_key(dev))
		printf("  public key: %s\n", key_text(b64, dev->public_key, true, false));
	if (has_private_key(dev))
		printf("  private key: %s\n",
		       key_text(b64, dev->private_key, true, !wgctl_opt.show_keys));
	if (dev->listen_port)
		printf("  listening port: %u\n", dev->listen_port);
	if (dev->fwmark)
		printf("  fwmark: 0x%x\n", dev->fwmark);
	if (dev->n_peers) {
		sorted = calloc(dev->n_peers, sizeof(*sorted));
		if (!sorted) {
			wgk_error("show: out of memory");
			return WGK_EXIT_SYSTEM;
		}
		for (size_t i = 0; i < dev->n_peers; i++)
			sorted[i] = &dev->peers[i];
		qsort(sorted, dev->n_peers, sizeof(*sorted), peer_by_handshake);
	}
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *p = sorted[i];
		uint64_t hs = wgctl_handshake_secs(p);

		printf("\npeer: %s\n", key_text(b64, p->public_key, true, false));
		if ((p->flags & WGNL_PEER_HAS_PRESHARED_KEY) && !wgnl_key_is_zero(p->preshared_key))
			printf("  preshared key: %s\n",
			       key_text(b64, p->preshared_key, true, !wgctl_opt.show_keys));
		if (has_endpoint(p))
			printf("  endpoint: %s\n",
			       wgnl_endpoint_format(&p->endpoint, buf, sizeof(buf)));
		printf("  allowed ips: ");
		for (size_t k = 0; k < p->n_allowedips; k++)
			printf("%s%s", k ? ", " : "",
			       wgnl_prefix_format(&p->allowedips[k], buf, sizeof(buf)));
		printf("%s\n", p->n_allowedips ? "" : "(none)");
		if (hs) {
			printf("  latest handshake: ");
			if ((time_t)hs > now) {
				printf("in the future (clock skew)");
			} else {
				print_duration((uint64_t)now - hs);
				if ((uint64_t)now - hs)
					printf(" ago");
			}
			printf("\n");
		}
		if (p->rx_bytes || p->tx_bytes) {
			printf("  transfer: ");
			print_bytes(p->rx_bytes);
			printf(" received, ");
			print_bytes(p->tx_bytes);
			printf(" sent\n");
		}
		if (p->persistent_keepalive)
			printf("  persistent keepalive: every %u second%s\n",
			       p->persistent_keepalive, p->persistent_keepalive == 1 ? "" : "s");
	}
	free(sorted);
	wgnl_wipe(b64, sizeof(b64));
	return 0;
}

/* ------------------------------------------------ wg show fields, dump */

static void print_allowedips(const struct wgnl_peer *p, char sep)
{
	char buf[80];

	for (size_t k = 0; k < p->n_allowedips; k++) {
		if (k)
			putchar(sep == ',' ? ',' : ' ');
		fputs(wgnl_prefix_format(&p->allowedips[k], buf, sizeof(buf)), stdout);
	}
	if (!p->n_allowedips)
		fputs("(none)", stdout);
}

/* A tab and a number: `show dump` prints four per peer, and printf's
 * format parsing costs more than the rest of the line. */
static void put_tab_u64(uint64_t v)
{
	char t[24], *e = t + sizeof(t);

	*--e = '\0';
	do {
		*--e = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	*--e = '\t';
	fputs(e, stdout);
}

static void print_field(const struct wgnl_device *dev, enum show_field f, bool prefix)
{
	const char *pre = prefix ? dev->name : NULL;
	wgnl_key_b64 b64, b64b;
	char buf[80];

#define PRE()                                \
	do {                                 \
		if (pre)                     \
			printf("%s\t", pre); \
	} while (0)
	switch (f) {
	case F_PUBLIC_KEY:
		PRE();
		printf("%s\n", key_text(b64, dev->public_key, has_public_key(dev), false));
		break;
	case F_PRIVATE_KEY:
		/* Asked for by name: printed, like wg show IF private-key. */
		PRE();
		printf("%s\n", key_text(b64, dev->private_key, has_private_key(dev), false));
		break;
	case F_LISTEN_PORT:
		PRE();
		printf("%u\n", dev->listen_port);
		break;
	case F_FWMARK:
		PRE();
		if (dev->fwmark)
			printf("0x%x\n", dev->fwmark);
		else
			printf("off\n");
		break;
	case F_DUMP:
		PRE();
		printf("%s\t",
		       key_text(b64, dev->private_key, has_private_key(dev), !wgctl_opt.show_keys));
		printf("%s\t%u\t", key_text(b64, dev->public_key, has_public_key(dev), false),
		       dev->listen_port);
		if (dev->fwmark)
			printf("0x%x\n", dev->fwmark);
		else
			printf("off\n");
		break;
	default:
		break;
	}
	for (size_t i = 0; f >= F_PEERS && i < dev->n_peers; i++) {
		const struct wgnl_peer *p = &dev->peers[i];
		bool has_psk = p->flags & WGNL_PEER_HAS_PRESHARED_KEY;

		PRE();
		fputs(key_text(b64, p->public_key, true, false), stdout);
		switch (f) {
		case F_PEERS:
			break;
		case F_PRESHARED_KEYS:
			printf("\t%s", key_text(b64b, p->preshared_key, has_psk, false));
			break;
		case F_ENDPOINTS:
			printf("\t%s", has_endpoint(p) ? wgnl_endpoint_format(&p->endpoint, buf,
									      sizeof(buf)) :
							 "(none)");
			break;
		case F_ALLOWED_IPS:
			printf("\t");
			print_allowedips(p, ' ');
			break;
		case F_LATEST_HANDSHAKES:
			printf("\t%" PRIu64, wgctl_handshake_secs(p));
			break;
		case F_TRANSFER:
			printf("\t%" PRIu64 "\t%" PRIu64, p->rx_bytes, p->tx_bytes);
			break;
		case F_KEEPALIVE:
			if (p->persistent_keepalive)
				printf("\t%u", p->persistent_keepalive);
			else
				printf("\toff");
			break;
		case F_DUMP:
			putchar('\t');
			fputs(key_text(b64b, p->preshared_key, has_psk, !wgctl_opt.show_keys),
			      stdout);
			putchar('\t');
			fputs(has_endpoint(p) ?
				      wgnl_endpoint_format(&p->endpoint, buf, sizeof(buf)) :
				      "(none)",
			      stdout);
			putchar('\t');
			print_allowedips(p, ',');
			put_tab_u64(wgctl_handshake_secs(p));
			put_tab_u64(p->rx_bytes);
			put_tab_u64(p->tx_bytes);
			if (p->persistent_keepalive)
				put_tab_u64(p->persistent_keepalive);
			else
				fputs("\toff", stdout);
			break;
		default:
			break;
		}
		putchar('\n');
	}
#undef PRE
	wgnl_wipe(b64, sizeof(b64));
	wgnl_wipe(b64b, sizeof(b64b));
}

/* ------------------------------------------------------------- command */

static int finish_stdout(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		wgk_error("show: cannot write output: %s", strerror(errno));
		return rc ? rc : WGK_EXIT_SYSTEM;
	}
	return rc;
}

static int show_interfaces(struct wgnl_ctx *ctx)
{
	struct wgk_json j;
	char **names;
	int r;

	r = wgnl_device_list(ctx, &names);
	if (r < 0)
		return wgctl_fail(ctx, r, "cannot list interfaces");
	if (wgctl_opt.json) {
		wgk_json_init(&j, stdout, isatty(STDOUT_FILENO));
		wgk_json_array_begin(&j);
		for (char **n = names; *n; n++)
			wgk_json_string(&j, *n);
		wgk_json_array_end(&j);
		wgk_json_finish(&j);
	} else {
		for (char **n = names; *n; n++)
			printf("%s%s", n == names ? "" : " ", *n);
		if (*names)
			printf("\n");
	}
	wgnl_strv_free(names);
	return finish_stdout(0);
}

static void print_device(struct wgk_json *j, struct wgnl_ctx *ctx, const struct wgnl_device *dev,
			 enum show_field f, bool all, bool *first)
{
	if (wgctl_opt.json)
		json_device(j, dev, ctx);
	else if (f == F_PRETTY) {
		printf("%s", *first ? "" : "\n");
		print_pretty(dev);
	} else
		print_field(dev, f, all);
	*first = false;
}

int cmd_show(int argc, char **argv)
{
	const char *target;
	enum show_field f = F_PRETTY;
	struct wgnl_device *dev = NULL;
	struct wgnl_ctx *ctx = NULL;
	bool first = true, all;
	struct wgk_json j;
	char **names = NULL;
	struct wgnl_device **devs = NULL;
	size_t n_names = 0;
	int rc, r;

	if (wgctl_wants_help(argc, argv)) {
		show_help();
		return WGK_EXIT_OK;
	}
	if (wgctl_no_options("show", false, &argc, &argv))
		return WGK_EXIT_USAGE;
	target = argc > 1 ? argv[1] : "all";
	if (argc > 3)
		return wgctl_usage("show", "unexpected argument '%s'", wgk_q(argv[3]));
	if (argc > 2) {
		size_t i;

		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			if (!strcmp(argv[2], fields[i].name))
				break;
		if (i == sizeof(fields) / sizeof(fields[0]))
			return wgctl_usage("show", "unknown field '%s'", wgk_q(argv[2]));
		if (wgctl_opt.json)
			return wgctl_usage("show", "--json shows whole interfaces, not field '%s'",
					   wgk_q(argv[2]));
		f = fields[i].field;
	}
	if (!strcmp(target, "interfaces") && f != F_PRETTY)
		return wgctl_usage("show", "'interfaces' takes no field");
	all = !strcmp(target, "all");
	if (!all && strcmp(target, "interfaces") && !wgctl_valid_ifname(target))
		return wgctl_usage("show", "invalid interface name '%s'", wgk_q(target));
	rc = wgctl_open(&ctx);
	if (rc)
		return rc;
	if (!strcmp(target, "interfaces")) {
		rc = show_interfaces(ctx);
		wgnl_ctx_close(ctx);
		return rc;
	}
	/* 10k peers are megabytes of output: write it in large blocks. */
	if (!isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	wgk_json_init(&j, stdout, isatty(STDOUT_FILENO));
	if (!all) {
		rc = wgctl_get_device(ctx, target, &dev);
		if (!rc) {
			print_device(&j, ctx, dev, f, false, &first);
			if (wgctl_opt.json)
				wgk_json_finish(&j);
		}
		wgnl_device_free(dev);
		wgnl_ctx_close(ctx);
		return finish_stdout(rc);
	}
	r = wgnl_device_list(ctx, &names);
	if (r < 0) {
		rc = wgctl_fail(ctx, r, "cannot list interfaces");
		wgnl_ctx_close(ctx);
		return rc;
	}
	/* Every device read before anything is printed: on an error (not
	 * allowed to read one, say) stdout stays empty, so that `| jq length`
	 * cannot take a failure for "no interfaces". */
	for (size_t i = 0; names[i]; i++)
		n_names++;
	devs = calloc(n_names + 1, sizeof(*devs));
	if (!devs) {
		wgk_error("show: out of memory");
		rc = WGK_EXIT_SYSTEM;
	}
	for (size_t i = 0; !rc && i < n_names; i++) {
		r = wgnl_device_get(ctx, names[i], &devs[i]);
		/* A device that went away since the listing is not an error. */
		if (r == -ENODEV || r == -ENOENT)
			continue;
		if (r < 0)
			rc = wgctl_fail(ctx, r, "cannot read '%s'", wgk_q(names[i]));
	}
	if (!rc && wgctl_opt.json)
		wgk_json_array_begin(&j);
	for (size_t i = 0; !rc && i < n_names; i++)
		if (devs[i])
			print_device(&j, ctx, devs[i], f, true, &first);
	if (!rc && wgctl_opt.json) {
		wgk_json_array_end(&j);
		wgk_json_finish(&j);
	}
	for (size_t i = 0; devs && i < n_names; i++)
		wgnl_device_free(devs[i]);
	free(devs);
	wgnl_strv_free(names);
	wgnl_ctx_close(ctx);
	return finish_stdout(rc);
}
