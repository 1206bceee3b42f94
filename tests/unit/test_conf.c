// SPDX-License-Identifier: MIT
/* The wg / wg-quick configuration format: every key, every error path with
 * its file:line:key, round trips, files, and 10,000+ peers. */
#include <dlfcn.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"

/*
 * A test double for name resolution, so no test ever sends a DNS query:
 * "vpn.example.test" resolves to 192.0.2.7, every other name fails, and
 * numeric look-ups go to the real getaddrinfo(). The library is linked
 * statically into this binary, so its calls land here.
 */
typedef int (*gai_fn)(const char *, const char *, const struct addrinfo *, struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	static gai_fn real;
	struct addrinfo h = { 0 };

	if (!real)
		real = (gai_fn)dlsym(RTLD_NEXT, "getaddrinfo");
	if (hints)
		h = *hints;
	if (node && !(h.ai_flags & AI_NUMERICHOST) && !strcmp(node, "vpn.example.test")) {
		h.ai_flags = (h.ai_flags | AI_NUMERICHOST) & ~AI_ADDRCONFIG;
		return real("192.0.2.7", service, &h, res);
	}
	if (node && !(h.ai_flags & AI_NUMERICHOST))
		return EAI_NONAME;
	return real(node, service, hints, res);
}

/* RFC 7748 Alice's private key and its public key; Bob's public key. */
#define PRIV "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define PRIV_PUB "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define PUB1 "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08="
#define PUB2 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define PSK "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI="

static struct wgnl_config *parse_ok(const char *text, unsigned flags)
{
	struct wgnl_config *cfg = (void *)1;
	struct wgnl_config_error err;
	int r = wgnl_config_parse(text, strlen(text), "test.conf", flags, &cfg, &err);

	if (r)
		fail_msg("parse failed (%d): %s:%u: [%s] %s", r, err.file, err.line, err.key,
			 err.message);
	assert_non_null(cfg);
	assert_non_null(cfg->dev);
	return cfg;
}

static void assert_key_b64(const wgnl_key k, const char *b64)
{
	wgnl_key_b64 s;

	wgnl_key_to_base64(s, k);
	assert_string_equal(s, b64);
}

static void assert_prefix(const struct wgnl_prefix *p, const char *want)
{
	char buf[INET6_ADDRSTRLEN + 8];

	assert_string_equal(wgnl_prefix_format(p, buf, sizeof(buf)), want);
}

static void assert_endpoint(const union wgnl_endpoint *ep, const char *want)
{
	char buf[64];

	assert_string_equal(wgnl_endpoint_format(ep, buf, sizeof(buf)), want);
}

static struct wgnl_peer *peer_by_b64(const struct wgnl_device *dev, const char *b64)
{
	wgnl_key k;

	assert_int_equal(wgnl_key_from_base64(k, b64), 0);
	return wgnl_device_find_peer(dev, k);
}

/* ------------------------------------------------------------ accepted */

static void unit__wg_config_with_every_key__all_values_and_flags_set(void **state)
{
	const char *text = "# a comment line\n"
			   "\n"
			   "[Interface]\r\n"
			   "  PrivateKey=" PRIV "   # trailing comment\r\n"
			   "listenport = 51820\n"
			   "FWMARK\t=\t0x1234\n"
			   "\n"
			   "[Peer]\n"
			   "PublicKey = " PUB1 "\n"
			   "PresharedKey = " PSK "\n"
			   "AllowedIPs = 10.0.0.1/32 , fd00::1/128,10.1.2.3/8\n"
			   "AllowedIPs = 0.0.0.0/0\n"
			   "Endpoint = 192.0.2.1:51820\n"
			   "PersistentKeepalive = 25\n"
			   "[peer]\n"
			   "ALLOWEDIPS = 10.0.0.2\n"
			   "endpoint = [2001:db8::1]:443\n"
			   "publickey = " PUB2 "\n";
	struct wgnl_config *cfg = parse_ok(text, 0);
	struct wgnl_device *dev = cfg->dev;
	struct wgnl_peer *p;

	assert_int_equal(dev->flags, WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_PUBLIC_KEY |
					     WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK);
	assert_key_b64(dev->private_key, PRIV);
	assert_key_b64(dev->public_key, PRIV_PUB);
	assert_int_equal(dev->listen_port, 51820);
	assert_int_equal(dev->fwmark, 0x1234);
	assert_int_equal(dev->n_peers, 2);

	p = &dev->peers[0];
	assert_ptr_equal(peer_by_b64(dev, PUB1), p);
	assert_int_equal(p->flags, WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_PRESHARED_KEY |
					   WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_HAS_KEEPALIVE);
	assert_key_b64(p->public_key, PUB1);
	assert_key_b64(p->preshared_key, PSK);
	assert_int_equal(p->n_allowedips, 4);
	assert_prefix(&p->allowedips[0], "10.0.0.1/32");
	assert_prefix(&p->allowedips[1], "fd00::1/128");
	assert_prefix(&p->allowedips[2], "10.1.2.3/8"); /* host bits kept as written */
	assert_prefix(&p->allowedips[3], "0.0.0.0/0");
	assert_endpoint(&p->endpoint, "192.0.2.1:51820");
	assert_null(p->endpoint_name);
	assert_int_equal(p->persistent_keepalive, 25);

	p = &dev->peers[1];
	assert_ptr_equal(peer_by_b64(dev, PUB2), p);
	assert_int_equal(p->flags, WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_ENDPOINT);
	assert_true(wgnl_key_is_zero(p->preshared_key));
	assert_int_equal(p->n_allowedips, 1);
	assert_prefix(&p->allowedips[0], "10.0.0.2/32");
	assert_endpoint(&p->endpoint, "[2001:db8::1]:443");
	wgnl_config_free(cfg);
}

static void unit__wg_quick_config_with_every_key__all_values_set(void **state)
{
	const char *text =
		"[Interface]\n"
		"PrivateKey = " PRIV "\n"
		"Address = 10.0.0.1/24, fd00::1/64\n"
		"address = 192.168.7.1\n"
		"DNS = 10.0.0.53, fd00::53 , corp.example\n"
		"DNS = lan\n"
		"MTU = 1420\n"
		"Table = 1234\n"
		"PreUp = echo pre up   $(ip -o link)  \n"
		"PostUp = iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n"
		"PostUp = echo second=with,commas\n"
		"PreDown = echo pre down\n"
		"PostDown = echo post down\n"
		"SaveConfig = true\n"
		"[Peer]\n"
		"PublicKey = " PUB1 "\n";
	struct wgnl_config *cfg = parse_ok(text, WGNL_CONFIG_QUICK);
	const struct wgnl_quick *q = &cfg->quick;

	assert_int_equal(q->n_addresses, 3);
	assert_prefix(&q->addresses[0], "10.0.0.1/24");
	assert_prefix(&q->addresses[1], "fd00::1/64");
	assert_prefix(&q->addresses[2], "192.168.7.1/32");
	assert_int_equal(q->n_dns, 4);
	assert_string_equal(q->dns[0], "10.0.0.53");
	assert_string_equal(q->dns[1], "fd00::53");
	assert_string_equal(q->dns[2], "corp.example");
	assert_string_equal(q->dns[3], "lan");
	assert_int_equal(q->mtu, 1420);
	assert_int_equal(q->table_mode, WGNL_TABLE_ID);
	assert_int_equal(q->table, 1234);
	assert_int_equal(q->n_pre_up, 1);
	assert_string_equal(q->pre_up[0], "echo pre up   $(ip -o link)");
	assert_int_equal(q->n_post_up, 2);
	assert_string_equal(q->post_up[0], "iptables -A FORWARD -i %i -j ACCEPT; iptables -t nat "
					   "-A POSTROUTING -o eth0 -j MASQUERADE");
	assert_string_equal(q->post_up[1], "echo second=with,commas");
	assert_int_equal(q->n_pre_down, 1);
	assert_string_equal(q->pre_down[0], "echo pre down");
	assert_int_equal(q->n_post_down, 1);
	assert_string_equal(q->post_down[0], "echo post down");
	assert_true(q->save_config);
	assert_int_equal(cfg->dev->n_peers, 1);
	wgnl_config_free(cfg);
}

static void unit__fwmark_forms__decimal_hex_and_off(void **state)
{
	static const struct {
		const char *v;
		uint32_t want;
	} cases[] = { { "0", 0 },
		      { "off", 0 },
		      { "OFF", 0 },
		      { "51820", 51820 },
		      { "0xca6c", 0xca6c },
		      { "0XFFFFFFFF", 0xffffffff },
		      { "4294967295", 0xffffffff } };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		struct wgnl_config *cfg;

		snprintf(text, sizeof(text), "[Interface]\nFwMark = %s\n", cases[i].v);
		cfg = parse_ok(text, 0);
		assert_int_equal(cfg->dev->flags, WGNL_DEV_HAS_FWMARK);
		assert_int_equal(cfg->dev->fwmark, cases[i].want);
		wgnl_config_free(cfg);
	}
}

static void unit__keepalive_off_and_zero__flag_set_value_zero(void **state)
{
	const char *vals[] = { "off", "Off", "0" };

	for (size_t i = 0; i < 3; i++) {
		char text[256];
		struct wgnl_config *cfg;

		snprintf(text, sizeof(text), "[Peer]\nPublicKey=" PUB1 "\nPersistentKeepalive=%s\n",
			 vals[i]);
		cfg = parse_ok(text, 0);
		assert_int_equal(cfg->dev->peers[0].flags,
				 WGNL_PEER_HAS_PUBLIC_KEY | WGNL_PEER_HAS_KEEPALIVE);
		assert_int_equal(cfg->dev->peers[0].persistent_keepalive, 0);
		wgnl_config_free(cfg);
	}
}

static void unit__table_forms__off_auto_names_numbers(void **state)
{
	static const struct {
		const char *v;
		enum wgnl_table_mode mode;
		uint32_t table;
	} cases[] = {
		{ "off", WGNL_TABLE_OFF, 0 },
		{ "auto", WGNL_TABLE_AUTO, 0 },
		{ "Main", WGNL_TABLE_ID, 254 },
		{ "local", WGNL_TABLE_ID, 255 },
		{ "default", WGNL_TABLE_ID, 253 },
		{ "51820", WGNL_TABLE_ID, 51820 },
		{ "4294967295", WGNL_TABLE_ID, 4294967295U },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[128];
		struct wgnl_config *cfg;

		snprintf(text, sizeof(text), "[Interface]\nTable = %s\n", cases[i].v);
		cfg = parse_ok(text, WGNL_CONFIG_QUICK);
		assert_int_equal(cfg->quick.table_mode, cases[i].mode);
		assert_int_equal(cfg->quick.table, cases[i].table);
		wgnl_config_free(cfg);
	}
}

static void unit__quick_defaults__unset_without_keys(void **state)
{
	struct wgnl_config *cfg =
		parse_ok("[Interface]\nListenPort = 0\nSaveConfig = false\n", WGNL_CONFIG_QUICK);

	assert_int_equal(cfg->dev->flags, WGNL_DEV_HAS_LISTEN_PORT);
	assert_int_equal(cfg->dev->listen_port, 0);
	assert_int_equal(cfg->quick.n_addresses, 0);
	assert_int_equal(cfg->quick.n_dns, 0);
	assert_int_equal(cfg->quick.mtu, 0);
	assert_int_equal(cfg->quick.table_mode, WGNL_TABLE_AUTO);
	assert_false(cfg->quick.save_config);
	wgnl_config_free(cfg);
}

static void unit__empty_text__empty_config(void **state)
{
	struct wgnl_config *cfg = NULL;
	struct wgnl_config_error err;

	assert_int_equal(wgnl_config_parse(NULL, 0, "empty.conf", 0, &cfg, &err), 0);
	assert_non_null(cfg);
	assert_int_equal(cfg->dev->flags, 0);
	assert_int_equal(cfg->dev->n_peers, 0);
	wgnl_config_free(cfg);
	cfg = parse_ok("\n\n# only comments\r\n   \t\n", 0);
	wgnl_config_free(cfg);
	/* A byte order mark at the start is skipped. */
	cfg = parse_ok("\xef\xbb\xbf[Interface]\nListenPort = 1\n", 0);
	assert_int_equal(cfg->dev->listen_port, 1);
	wgnl_config_free(cfg);
}

static void unit__last_line_without_newline__parsed(void **state)
{
	struct wgnl_config *cfg =
		parse_ok("[Peer]\nPublicKey = " PUB1 "\nAllowedIPs = 10.9.0.0/16", 0);

	assert_int_equal(cfg->dev->n_peers, 1);
	assert_int_equal(cfg->dev->peers[0].n_allowedips, 1);
	wgnl_config_free(cfg);
}

static void unit__empty_allowedips__no_entries(void **state)
{
	struct wgnl_config *cfg = parse_ok("[Peer]\nPublicKey = " PUB1 "\nAllowedIPs =\n", 0);

	assert_int_equal(cfg->dev->peers[0].n_allowedips, 0);
	wgnl_config_free(cfg);
}

static void unit__named_endpoint_without_resolve__kept_as_name(void **state)
{
	struct wgnl_config *cfg = parse_ok("[Peer]\nPublicKey = " PUB1 "\n"
					   "Endpoint = 192.0.2.9:1\n"
					   "Endpoint = vpn.example.net:51820\n",
					   0);
	struct wgnl_peer *p = &cfg->dev->peers[0];

	assert_string_equal(p->endpoint_name, "vpn.example.net:51820");
	assert_int_equal(p->flags & WGNL_PEER_HAS_ENDPOINT, 0);
	assert_int_equal(p->endpoint.addr.sa_family, AF_UNSPEC);
	wgnl_config_free(cfg);

	/* Bracketed names, and a numeric endpoint after a name clears it. */
	cfg = parse_ok("[Peer]\nPublicKey = " PUB1 "\nEndpoint = [vpn.example.net]:1\n", 0);
	assert_string_equal(cfg->dev->peers[0].endpoint_name, "[vpn.example.net]:1");
	wgnl_config_free(cfg);
	cfg = parse_ok("[Peer]\nPublicKey = " PUB1 "\nEndpoint = vpn.example.net:1\n"
		       "Endpoint = 192.0.2.9:7\n",
		       0);
	assert_null(cfg->dev->peers[0].endpoint_name);
	assert_endpoint(&cfg->dev->peers[0].endpoint, "192.0.2.9:7");
	wgnl_config_free(cfg);
}

static void unit__named_endpoint_with_resolve__resolved_and_name_kept(void **state)
{
	struct wgnl_config *cfg = parse_ok("[Peer]\nPublicKey = " PUB1 "\n"
					   "Endpoint = vpn.example.test:51820\n",
					   WGNL_CONFIG_RESOLVE);
	struct wgnl_peer *p = &cfg->dev->peers[0];

	assert_true(p->flags & WGNL_PEER_HAS_ENDPOINT);
	assert_endpoint(&p->endpoint, "192.0.2.7:51820");
	assert_string_equal(p->endpoint_name, "vpn.example.test:51820");
	wgnl_config_free(cfg);
}

static void unit__ipv6_scoped_endpoint__parsed(void **state)
{
	struct wgnl_config *cfg = parse_ok("[Peer]\nPublicKey = " PUB1 "\n"
					   "Endpoint = [fe80::1%1]:51820\n",
					   0);

	assert_endpoint(&cfg->dev->peers[0].endpoint, "[fe80::1%1]:51820");
	wgnl_config_free(cfg);
}

/* A full-length scoped literal parses; a scope naming no interface is a
 * clear error on its line. */
static void unit__long_scoped_endpoint__parsed_or_clear_error(void **state)
{
	const char *bad =
		"[Peer]\nPublicKey = " PUB1 "\n"
		"Endpoint = [fe80:1234:5678:9abc:def0:1234:5678:9abc%enp0s31f6abcdef]:51820\n";
	struct wgnl_config *cfg =
		parse_ok("[Peer]\nPublicKey = " PUB1 "\n"
			 "Endpoint = [fe80:1234:5678:9abc:def0:1234:5678:9abc%lo]:51820\n",
			 0);
	struct wgnl_config_error err;
	char want[80];

	snprintf(want, sizeof(want), "[fe80:1234:5678:9abc:def0:1234:5678:9abc%%%u]:51820",
		 if_nametoindex("lo"));
	assert_endpoint(&cfg->dev->peers[0].endpoint, want);
	wgnl_config_free(cfg);
	assert_int_equal(wgnl_config_parse(bad, strlen(bad), "wg0.conf", 0, &cfg, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.key, "Endpoint");
	assert_string_equal(err.message,
			    "Endpoint: '[fe80:1234:5678:9abc:def0:1234:5678:9abc%enp0s31f6abcdef]:"
			    "51820': no such interface for the IPv6 scope (after '%')");
}

static void unit__null_err__accepted_on_success_and_failure(void **state)
{
	struct wgnl_config *cfg = (void *)1;

	assert_int_equal(wgnl_config_parse("[Interface]\n", 12, NULL, 0, &cfg, NULL), 0);
	wgnl_config_free(cfg);
	cfg = (void *)1;
	assert_int_equal(wgnl_config_parse("bogus\n", 6, NULL, 0, &cfg, NULL), -EINVAL);
	assert_null(cfg);
	wgnl_config_free(NULL);
}

/* -------------------------------------------------------------- errors */

struct err_case {
	const char *text;
	unsigned flags;
	int rc;
	unsigned line;
	const char *key;
	const char *message;
};

#define PEER1 "[Peer]\nPublicKey = " PUB1 "\n"

static const struct err_case err_cases[] = {
	{ "PrivateKey = " PRIV "\n", 0, -EINVAL, 1, "PrivateKey", "key outside a section" },
	{ "# c\n\nFoo = 1\n", 0, -EINVAL, 3, "Foo", "key outside a section" },
	{ "[Interface]\nListenPort = 1\nBogusKey = 2\n", 0, -EINVAL, 3, "BogusKey", "unknown key" },
	{ "[Interface]\n[Wat]\n", 0, -EINVAL, 2, "Wat",
	  "unknown section [Wat] (want [Interface] or [Peer])" },
	{ "[Interface\n", 0, -EINVAL, 1, "", "bad section header (want [Interface] or [Peer])" },
	{ "[Interface]\njust words\n", 0, -EINVAL, 2, "", "expected 'Key = Value' or a [Section]" },
	{ "[Interface]\n = 5\n", 0, -EINVAL, 2, "", "missing key before '='" },
	{ "[Interface]\nListenPort = 1\0\n", 0, -EINVAL, 2, "", "NUL byte in line" },
	/* keys */
	{ "[Interface]\nPrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo\n", 0, -EINVAL, 2,
	  "PrivateKey", "PrivateKey: bad key: not 44 characters of base64" },
	{ "[Interface]\nPrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo==\n", 0, -EINVAL,
	  2, "PrivateKey", "PrivateKey: bad key: not 44 characters of base64" },
	{ "[Interface]\nPrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC-=\n", 0, -EINVAL, 2,
	  "PrivateKey", "PrivateKey: bad key: not base64 of 32 bytes (bad character or padding)" },
	{ "[Peer]\nPublicKey = AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n", 0, -EINVAL, 2,
	  "PublicKey", "PublicKey: bad key: not base64 of 32 bytes (bad character or padding)" },
	{ PEER1 "PresharedKey = short\n", 0, -EINVAL, 3, "PresharedKey",
	  "PresharedKey: bad key: not 44 characters of base64" },
	{ "[Peer]\nPublicKey = " PUB1 "\n\n[Peer]\nPublicKey = " PUB2 "\n[Peer]\n# x\n"
	  "AllowedIPs = 10.0.0.0/8\nPublicKey = " PUB1 "\n",
	  0, -EINVAL, 9, "PublicKey", "duplicate peer: same PublicKey as the [Peer] at line 1" },
	{ "[Interface]\n[Peer]\nAllowedIPs = 10.0.0.0/8\n[Peer]\nPublicKey = " PUB1 "\n", 0,
	  -EINVAL, 2, "PublicKey", "PublicKey missing in [Peer] at line 2" },
	{ PEER1 "[Peer]\nEndpoint = 192.0.2.1:1\n", 0, -EINVAL, 3, "PublicKey",
	  "PublicKey missing in [Peer] at line 3" },
	/* numbers */
	{ "[Interface]\nListenPort = 70000\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: '70000' out of range" },
	{ "[Interface]\nListenPort = 99999999999999999999999\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: '99999999999999999999999' out of range" },
	{ "[Interface]\nListenPort = -1\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: '-1' not a number" },
	{ "[Interface]\nListenPort = 0x10\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: '0x10' not a number" },
	{ "[Interface]\nListenPort =\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: '' not a number" },
	{ "[Interface]\nListenPort = 5 1\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: '5 1' not a number" },
	{ "[Interface]\nFwMark = 0x100000000\n", 0, -EINVAL, 2, "FwMark",
	  "FwMark: '0x100000000' out of range" },
	{ "[Interface]\nFwMark = 0xg\n", 0, -EINVAL, 2, "FwMark", "FwMark: '0xg' not a number" },
	{ "[Interface]\nFwMark = 0x\n", 0, -EINVAL, 2, "FwMark", "FwMark: '0x' not a number" },
	{ PEER1 "PersistentKeepalive = 65536\n", 0, -EINVAL, 3, "PersistentKeepalive",
	  "PersistentKeepalive: '65536' out of range" },
	{ PEER1 "PersistentKeepalive = never\n", 0, -EINVAL, 3, "PersistentKeepalive",
	  "PersistentKeepalive: 'never' not a number" },
	/* lists */
	{ PEER1 "AllowedIPs = 10.0.0.0/8, 10.0.0.0/33\n", 0, -EINVAL, 3, "AllowedIPs",
	  "AllowedIPs: '10.0.0.0/33': bad prefix" },
	{ PEER1 "AllowedIPs = 10.0.0.0/8,,fd00::/8\n", 0, -EINVAL, 3, "AllowedIPs",
	  "AllowedIPs: empty item in list" },
	{ PEER1 "AllowedIPs = 10.0.0.0/8,\n", 0, -EINVAL, 3, "AllowedIPs",
	  "AllowedIPs: empty item in list" },
	{ PEER1 "AllowedIPs = fd00::/129\n", 0, -EINVAL, 3, "AllowedIPs",
	  "AllowedIPs: 'fd00::/129': bad prefix" },
	/* endpoints */
	{ PEER1 "Endpoint = 192.0.2.1\n", 0, -EINVAL, 3, "Endpoint",
	  "Endpoint: '192.0.2.1': bad endpoint (want host:port or [IPv6]:port)" },
	{ PEER1 "Endpoint = [2001:db8::1]:99999\n", 0, -EINVAL, 3, "Endpoint",
	  "Endpoint: '[2001:db8::1]:99999': bad endpoint (want host:port or [IPv6]:port)" },
	{ PEER1 "Endpoint = 2001:db8::1:51820\n", 0, -EINVAL, 3, "Endpoint",
	  "Endpoint: '2001:db8::1:51820': bad endpoint (want host:port or [IPv6]:port)" },
	{ PEER1 "Endpoint = bad host:1\n", 0, -EINVAL, 3, "Endpoint",
	  "Endpoint: 'bad host:1': bad endpoint (want host:port or [IPv6]:port)" },
	{ PEER1 "Endpoint = no-such-host.invalid:51820\n", WGNL_CONFIG_RESOLVE, -EHOSTUNREACH, 3,
	  "Endpoint", "Endpoint: 'no-such-host.invalid:51820': host name does not resolve" },
	/* sections */
	{ "[Interface]\nPublicKey = " PUB1 "\n", 0, -EINVAL, 2, "PublicKey",
	  "PublicKey: not valid in [Interface]" },
	{ "[Peer]\nListenPort = 1\n", 0, -EINVAL, 2, "ListenPort",
	  "ListenPort: not valid in [Peer]" },
	/* wg-quick keys */
	{ "[Interface]\nAddress = 10.0.0.1/24\n", 0, -EINVAL, 2, "Address",
	  "Address: wg-quick key, not accepted in a wg config" },
	{ "[Interface]\nsaveconfig = true\n", 0, -EINVAL, 2, "SaveConfig",
	  "SaveConfig: wg-quick key, not accepted in a wg config" },
	{ "[Interface]\nAddress = 10.0.0.1/24, 10.0.0.300/24\n", WGNL_CONFIG_QUICK, -EINVAL, 2,
	  "Address", "Address: '10.0.0.300/24': bad address" },
	{ "[Interface]\nDNS = 10.0.0.53, bad!name\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "DNS",
	  "DNS: 'bad!name': not an IP address or a domain name" },
	{ "[Interface]\nMTU = 0\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "MTU", "MTU: '0' out of range" },
	{ "[Interface]\nMTU = 65536\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "MTU",
	  "MTU: '65536' out of range" },
	{ "[Interface]\nTable = 0\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "Table",
	  "Table: '0' out of range" },
	{ "[Interface]\nTable = nosuch\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "Table",
	  "Table: 'nosuch' not a number" },
	{ "[Interface]\nPostUp =   # nothing\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "PostUp",
	  "PostUp: empty command" },
	{ "[Interface]\nSaveConfig = yes\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "SaveConfig",
	  "SaveConfig: 'yes': want true or false" },
	{ "[Peer]\nMTU = 1420\n", WGNL_CONFIG_QUICK, -EINVAL, 2, "MTU",
	  "MTU: not valid in [Peer]" },
};

static void unit__every_error_path__exact_file_line_key_message(void **state)
{
	for (size_t i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		const struct err_case *c = &err_cases[i];
		struct wgnl_config *cfg = (void *)1;
		struct wgnl_config_error err;
		size_t len = strlen(c->text);
		int r;

		/* The NUL case: count the bytes after the embedded NUL too. */
		if (strstr(c->message, "NUL"))
			len += 2;
		memset(&err, 0x55, sizeof(err));
		r = wgnl_config_parse(c->text, len, "wg0.conf", c->flags, &cfg, &err);
		if (r != c->rc || err.line != c->line || strcmp(err.key, c->key) ||
		    strcmp(err.message, c->message))
			fail_msg("case %zu: got %d %s:%u: [%s] %s", i, r, err.file, err.line,
				 err.key, err.message);
		assert_int_equal(r, c->rc);
		assert_null(cfg);
		assert_string_equal(err.file, "wg0.conf");
		assert_int_equal(err.line, c->line);
		assert_string_equal(err.key, c->key);
		assert_string_equal(err.message, c->message);
	}
}

/* A private key that fails to parse is never quoted in the message. */
static void unit__bad_private_key__not_echoed(void **state)
{
	const char *text = "[Interface]\nPrivateKey = dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC\n";
	struct wgnl_config *cfg;
	struct wgnl_config_error err;

	assert_int_equal(wgnl_config_parse(text, strlen(text), "x", 0, &cfg, &err), -EINVAL);
	assert_null(strstr(err.message, "dwdt"));
}

/* No 8-character piece of @key appears in @text. */
static void assert_no_piece(const char *text, const char *key, const char *input)
{
	size_t n = strlen(key);

	for (size_t i = 0; i + 8 <= n; i++) {
		char piece[9];

		memcpy(piece, key + i, 8);
		piece[8] = '\0';
		if (strstr(text, piece))
			fail_msg("key piece '%s' echoed in '%s' (input %s)", piece, text, input);
	}
}

/* Key text in any wrong place (a ':' for '=', a bare key line, a key as a
 * section name or as any other key's value) fails without the key, or any
 * 8-character piece of it, in the message or the key field; the line is
 * named and the message says what was expected. */
static void unit__key_text_in_wrong_place__never_echoed(void **state)
{
	static const char *const keys[] = {
		PRIV,
		PSK,
		"yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=",
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq=",
	};
	static const char *const fmts[] = {
		"[Interface]\nPrivateKey: %s\n",
		"[Interface]\nPrivateKey:%s\n",
		"[Interface]\nprivatekey %s\n",
		"[Peer]\nPresharedKey: %s\n",
		"[Interface]\n%s\n",
		"%s\n",
		"[Interface]\n%s = x\n",
		"[Interface]\n  %s  \n",
		"[%s]\n",
		"[Interface]\nListenPort = %s\n",
		"[Interface]\nFwMark = %s\n",
		"[Interface]\nMTU = %s\n",
		"[Interface]\nTable = %s\n",
		"[Interface]\nAddress = 10.0.0.1/24, %s\n",
		"[Interface]\nDNS = %s\n",
		"[Interface]\nSaveConfig = %s\n",
		"[Interface]\nPostUp =\n%s\n",
		"[Peer]\nPublicKey = " PUB1 "\nAllowedIPs = %s\n",
		"[Peer]\nPublicKey = " PUB1 "\nEndpoint = %s\n",
		"[Peer]\nPublicKey = " PUB1 "\nEndpoint = %s:51820\n",
		"[Peer]\nPublicKey = " PUB1 "\nEndpoint = [%s]:51820\n",
		"[Peer]\nPublicKey = " PUB1 "\nPersistentKeepalive = %s\n",
	};

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			/* The key whole, and cut to 31 characters (the old key field). */
			for (int cut = 0; cut < 2; cut++) {
				struct wgnl_config *cfg = (void *)1;
				struct wgnl_config_error err;
				char key[64], text[256];
				int r;

				snprintf(key, sizeof(key), "%.*s", cut ? 31 : 64, keys[k]);
				const char *at = strstr(fmts[f], "%s");

				snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - fmts[f]),
					 fmts[f], key, at + 2);
				for (unsigned flags = 0; flags <= WGNL_CONFIG_QUICK;
				     flags += WGNL_CONFIG_QUICK) {
					memset(&err, 0, sizeof(err));
					r = wgnl_config_parse(text, strlen(text), "wg0.conf", flags,
							      &cfg, &err);
					/* A cut key of letters only is a fine host name. */
					if (r == 0) {
						wgnl_config_free(cfg);
						continue;
					}
					assert_int_equal(r, -EINVAL);
					assert_null(cfg);
					assert_true(err.line >= 1);
					assert_true(err.message[0] != '\0');
					assert_no_piece(err.message, key, text);
					assert_no_piece(err.key, key, text);
				}
			}
		}
	}
}

/* The two shapes from the issue, exactly: the line named, what was expected. */
static void unit__colon_for_equals_and_bare_key_line__say_what_was_expected(void **state)
{
	const char *colon = "[Interface]\nPrivateKey: " PRIV "\n";
	const char *bare = "[Interface]\nListenPort = 1\n" PRIV "\n";
	struct wgnl_config *cfg;
	struct wgnl_config_error err;

	assert_int_equal(wgnl_config_parse(colon, strlen(colon), "wg0.conf", 0, &cfg, &err),
			 -EINVAL);
	assert_int_equal(err.line, 2);
	assert_string_equal(err.key, "PrivateKey");
	assert_string_equal(err.message, "PrivateKey: expected 'PrivateKey = <value>' (the rest of "
					 "the line is not shown: it may hold key material)");
	assert_int_equal(wgnl_config_parse(bare, strlen(bare), "wg0.conf", 0, &cfg, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.key, "");
	assert_string_equal(err.message, "expected 'Key = Value' with a key name before '=' (the "
					 "text is not shown: it may hold key material)");
}

/* The detector itself: keys and long pieces of them, never plain words,
 * host names, addresses or ordinary paths. */
static void unit__text_may_be_key__keys_yes_ordinary_values_no(void **state)
{
	assert_true(wgnl_text_may_be_key(PRIV));
	assert_true(wgnl_text_may_be_key("PrivateKey: " PRIV));
	assert_true(wgnl_text_may_be_key("dwdtCnMYpX08FsFyUbJm"));
	assert_false(wgnl_text_may_be_key(NULL));
	assert_false(wgnl_text_may_be_key(""));
	assert_false(wgnl_text_may_be_key("PersistentKeepalive"));
	assert_false(wgnl_text_may_be_key("vpn.example.com:51820"));
	assert_false(wgnl_text_may_be_key("[fe80::1234:5678:9abc:def0%enp0s31f6]:51820"));
	assert_false(wgnl_text_may_be_key("/etc/wireguard/wg0.key"));
	assert_false(wgnl_text_may_be_key("10.0.0.0/8, fd00::/64"));
	assert_false(wgnl_text_may_be_key("99999999999999999999999"));
}

/* ---------------------------------------------------------- round trips */

static void assert_strv_equal(char *const *a, size_t na, char *const *b, size_t nb)
{
	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		assert_string_equal(a[i], b[i]);
}

static void assert_config_equal(const struct wgnl_config *x, const struct wgnl_config *y,
				bool quick)
{
	const struct wgnl_device *a = x->dev, *b = y->dev;

	assert_int_equal(a->flags, b->flags);
	assert_true(wgnl_key_equal(a->private_key, b->private_key));
	assert_true(wgnl_key_equal(a->public_key, b->public_key));
	assert_int_equal(a->listen_port, b->listen_port);
	assert_int_equal(a->fwmark, b->fwmark);
	assert_int_equal(a->n_peers, b->n_peers);
	for (size_t i = 0; i < a->n_peers; i++) {
		const struct wgnl_peer *p = &a->peers[i], *q = &b->peers[i];

		assert_int_equal(p->flags, q->flags);
		assert_true(wgnl_key_equal(p->public_key, q->public_key));
		assert_true(wgnl_key_equal(p->preshared_key, q->preshared_key));
		assert_true(wgnl_endpoint_equal(&p->endpoint, &q->endpoint));
		if (p->endpoint_name || q->endpoint_name) {
			assert_non_null(p->endpoint_name);
			assert_non_null(q->endpoint_name);
			assert_string_equal(p->endpoint_name, q->endpoint_name);
		}
		assert_int_equal(p->persistent_keepalive, q->persistent_keepalive);
		assert_int_equal(p->n_allowedips, q->n_allowedips);
		for (size_t j = 0; j < p->n_allowedips; j++)
			assert_int_equal(wgnl_prefix_cmp(&p->allowedips[j], &q->allowedips[j]), 0);
	}
	if (!quick)
		return;
	assert_int_equal(x->quick.n_addresses, y->quick.n_addresses);
	for (size_t i = 0; i < x->quick.n_addresses; i++)
		assert_int_equal(wgnl_prefix_cmp(&x->quick.addresses[i], &y->quick.addresses[i]),
				 0);
	assert_strv_equal(x->quick.dns, x->quick.n_dns, y->quick.dns, y->quick.n_dns);
	assert_int_equal(x->quick.mtu, y->quick.mtu);
	assert_int_equal(x->quick.table_mode, y->quick.table_mode);
	assert_int_equal(x->quick.table, y->quick.table);
	assert_strv_equal(x->quick.pre_up, x->quick.n_pre_up, y->quick.pre_up, y->quick.n_pre_up);
	assert_strv_equal(x->quick.post_up, x->quick.n_post_up, y->quick.post_up,
			  y->quick.n_post_up);
	assert_strv_equal(x->quick.pre_down, x->quick.n_pre_down, y->quick.pre_down,
			  y->quick.n_pre_down);
	assert_strv_equal(x->quick.post_down, x->quick.n_post_down, y->quick.post_down,
			  y->quick.n_post_down);
	assert_int_equal(x->quick.save_config, y->quick.save_config);
}

/* Write @cfg to memory; caller frees. */
static char *write_mem(const struct wgnl_config *cfg, unsigned flags, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	assert_int_equal(wgnl_config_write(f, cfg, flags), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

static void roundtrip(const char *text, unsigned flags)
{
	struct wgnl_config *a = parse_ok(text, flags), *b, *c;
	size_t len, len2;
	char *out = write_mem(a, flags, &len), *out2;

	b = parse_ok(out, flags);
	assert_config_equal(a, b, flags & WGNL_CONFIG_QUICK);
	/* The canonical form is a fixed point. */
	out2 = write_mem(b, flags, &len2);
	assert_string_equal(out, out2);
	c = parse_ok(out2, flags);
	assert_config_equal(a, c, flags & WGNL_CONFIG_QUICK);
	wgnl_config_free(a);
	wgnl_config_free(b);
	wgnl_config_free(c);
	free(out);
	free(out2);
}

static const char full_quick[] =
	"[Interface]\n"
	"PrivateKey = " PRIV "\n"
	"ListenPort = 51820\n"
	"FwMark = off\n"
	"Address = 10.0.0.1/24, fd00::1/64\n"
	"DNS = 10.0.0.53, corp.example\n"
	"MTU = 1380\n"
	"Table = off\n"
	"PreUp = echo a\n"
	"PostUp = echo b; echo c\n"
	"PostUp = echo d\n"
	"PreDown = echo e\n"
	"PostDown = echo f\n"
	"SaveConfig = true\n"
	"[Peer]\n"
	"PublicKey = " PUB1 "\n"
	"PresharedKey = " PSK "\n"
	"AllowedIPs = 10.0.0.2/32, 192.168.0.0/16, fd00::2/128, 10.9.9.9/8\n"
	"Endpoint = [2001:db8::1]:51820\n"
	"PersistentKeepalive = off\n"
	"[Peer]\n"
	"PublicKey = " PUB2 "\n"
	"Endpoint = vpn.example.net:443\n"
	"PersistentKeepalive = 25\n";

static void unit__roundtrip_wg_config__parse_write_parse_equal(void **state)
{
	roundtrip("[Interface]\nPrivateKey = " PRIV "\nListenPort = 1\nFwMark = 0x20\n"
		  "[Peer]\nPublicKey = " PUB1 "\nAllowedIPs = 0.0.0.0/0, ::/0\n"
		  "Endpoint = 192.0.2.1:51820\n[Peer]\nPublicKey = " PUB2 "\n",
		  0);
	roundtrip("", 0);
}

static void unit__roundtrip_quick_config__parse_write_parse_equal(void **state)
{
	roundtrip(full_quick, WGNL_CONFIG_QUICK);
	roundtrip("[Interface]\nTable = 1234\n", WGNL_CONFIG_QUICK);
	roundtrip("[Interface]\nTable = main\n", WGNL_CONFIG_QUICK);
}

static void unit__write__canonical_text_in_stable_order(void **state)
{
	struct wgnl_config *cfg = parse_ok(full_quick, WGNL_CONFIG_QUICK);
	size_t len;
	char *out = write_mem(cfg, WGNL_CONFIG_QUICK, &len);

	assert_string_equal(out,
			    "[Interface]\n"
			    "PrivateKey = " PRIV "\n"
			    "ListenPort = 51820\n"
			    "FwMark = off\n"
			    "Address = 10.0.0.1/24, fd00::1/64\n"
			    "DNS = 10.0.0.53, corp.example\n"
			    "MTU = 1380\n"
			    "Table = off\n"
			    "PreUp = echo a\n"
			    "PostUp = echo b; echo c\n"
			    "PostUp = echo d\n"
			    "PreDown = echo e\n"
			    "PostDown = echo f\n"
			    "SaveConfig = true\n"
			    "\n[Peer]\n"
			    "PublicKey = " PUB1 "\n"
			    "PresharedKey = " PSK "\n"
			    "AllowedIPs = 10.0.0.2/32, 192.168.0.0/16, fd00::2/128, 10.9.9.9/8\n"
			    "Endpoint = [2001:db8::1]:51820\n"
			    "PersistentKeepalive = off\n"
			    "\n[Peer]\n"
			    "PublicKey = " PUB2 "\n"
			    "Endpoint = vpn.example.net:443\n"
			    "PersistentKeepalive = 25\n");
	free(out);
	/* Without WGNL_CONFIG_QUICK the wg-quick keys are left out, so `wg
	 * setconf` accepts the result. */
	out = write_mem(cfg, 0, &len);
	assert_null(strstr(out, "Address"));
	assert_null(strstr(out, "DNS"));
	assert_null(strstr(out, "PostUp"));
	assert_null(strstr(out, "SaveConfig"));
	wgnl_config_free(cfg);
	cfg = parse_ok(out, 0);
	wgnl_config_free(cfg);
	free(out);
}

static void unit__write_to_full_device__eio(void **state)
{
	struct wgnl_config *cfg = parse_ok(full_quick, WGNL_CONFIG_QUICK);
	FILE *f = fopen("/dev/full", "w");

	if (!f) {
		print_message("no /dev/full here; write error path not exercised\n");
		wgnl_config_free(cfg);
		skip();
	}
	assert_int_equal(wgnl_config_write(f, cfg, WGNL_CONFIG_QUICK), -EIO);
	fclose(f);
	wgnl_config_free(cfg);
}

/* Truncated and mutated configs either parse or fail cleanly with a line
 * inside the text (sanitizer builds check memory safety and leaks). */
static void unit__truncated_and_mutated_text__no_crash_and_sane_errors(void **state)
{
	static const char noise[] = "=[]#,:/%\n\r\t \0x09Zz+AG.-";
	size_t n = strlen(full_quick);
	unsigned lines = 0;
	char *buf = malloc(n + 1);
	uint32_t seed = 12345;

	assert_non_null(buf);
	for (size_t i = 0; i < n; i++)
		lines += full_quick[i] == '\n';
	for (size_t cut = 0; cut <= n; cut++) {
		struct wgnl_config *cfg = NULL;
		struct wgnl_config_error err;
		int r = wgnl_config_parse(full_quick, cut, "cut.conf", WGNL_CONFIG_QUICK, &cfg,
					  &err);

		if (r == 0)
			wgnl_config_free(cfg);
		else
			assert_true(err.line >= 1 && err.line <= lines + 1);
	}
	for (int iter = 0; iter < 5000; iter++) {
		struct wgnl_config *cfg = NULL;
		struct wgnl_config_error err;
		int r;

		memcpy(buf, full_quick, n + 1);
		for (int m = 0; m < 1 + iter % 4; m++) {
			seed = seed * 1103515245U + 12345U;
			buf[(seed >> 8) % n] = noise[(seed >> 20) % (sizeof(noise) - 1)];
		}
		r = wgnl_config_parse(buf, n, "mut.conf", WGNL_CONFIG_QUICK | WGNL_CONFIG_RESOLVE,
				      &cfg, &err);
		if (r == 0) {
			wgnl_config_free(cfg);
		} else {
			assert_null(cfg);
			assert_true(r == -EINVAL || r == -EHOSTUNREACH);
			assert_string_equal(err.file, "mut.conf");
			assert_true(err.line >= 1 && err.line <= lines + 8);
			assert_true(strlen(err.message) > 0);
		}
	}
	free(buf);
}

/* ---------------------------------------------------------------- files */

static void unit__parse_file_missing__enoent_names_file(void **state)
{
	struct wgnl_config *cfg = (void *)1;
	struct wgnl_config_error err;

	assert_int_equal(wgnl_config_parse_file("/nonexistent/wgkit-test/wg9.conf", 0, &cfg, &err),
			 -ENOENT);
	assert_null(cfg);
	assert_string_equal(err.file, "/nonexistent/wgkit-test/wg9.conf");
	assert_int_equal(err.line, 0);
	assert_string_equal(err.key, "");
	assert_string_equal(err.message, "cannot open: No such file or directory");
}

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/wgkit-test-conf-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void unit__parse_file__same_as_text_and_errors_name_file(void **state)
{
	struct wgnl_config *a = parse_ok(full_quick, WGNL_CONFIG_QUICK), *b = NULL;
	struct wgnl_config_error err;
	char *path = write_temp(full_quick, strlen(full_quick));

	assert_int_equal(wgnl_config_parse_file(path, WGNL_CONFIG_QUICK, &b, &err), 0);
	assert_config_equal(a, b, true);
	wgnl_config_free(b);
	/* The same file without WGNL_CONFIG_QUICK: the first wg-quick key fails. */
	b = (void *)1;
	assert_int_equal(wgnl_config_parse_file(path, 0, &b, &err), -EINVAL);
	assert_null(b);
	assert_string_equal(err.file, path);
	assert_int_equal(err.line, 5);
	assert_string_equal(err.key, "Address");
	unlink(path);
	free(path);
	wgnl_config_free(a);
}

static void unit__parse_file_directory__eisdir(void **state)
{
	struct wgnl_config *cfg = (void *)1;
	struct wgnl_config_error err;

	assert_int_equal(wgnl_config_parse_file("/tmp", 0, &cfg, &err), -EISDIR);
	assert_null(cfg);
	assert_string_equal(err.file, "/tmp");
}

/* ------------------------------------------------------------ at scale */

static void key_for(wgnl_key k, unsigned i)
{
	memset(k, 0x42, WGNL_KEY_LEN);
	k[0] = (uint8_t)i;
	k[1] = (uint8_t)(i >> 8);
	k[2] = (uint8_t)(i >> 16);
	k[31] = 0x17;
}

/* A config with @n peers, each with a preshared key every other peer, two
 * allowed IPs, an endpoint and a keepalive. */
static char *gen_config(unsigned n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	wgnl_key k;
	wgnl_key_b64 b64;

	assert_non_null(f);
	fprintf(f, "[Interface]\nPrivateKey = %s\nListenPort = 51820\n", PRIV);
	for (unsigned i = 0; i < n; i++) {
		key_for(k, i);
		wgnl_key_to_base64(b64, k);
		fprintf(f, "\n[Peer]\nPublicKey = %s\n", b64);
		if (i % 2)
			fprintf(f, "PresharedKey = %s\n", PSK);
		fprintf(f, "AllowedIPs = 10.%u.%u.%u/32, fd00::%x/128\n", (i >> 16) & 255,
			(i >> 8) & 255, i & 255, i);
		fprintf(f, "Endpoint = 192.0.2.%u:%u\n", i % 250 + 1, 10000 + i % 50000);
		fprintf(f, "PersistentKeepalive = 25\n");
	}
	assert_int_equal(fclose(f), 0);
	return buf;
}

static double now_sec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void unit__10000_peers__parse_and_lookup_each_in_O1(void **state)
{
	const unsigned n = 10000;
	size_t len, len2;
	char *text = gen_config(n, &len), *out;
	struct wgnl_config *cfg = NULL, *again;
	struct wgnl_config_error err;
	double t0, t_parse, t_lookup;

	t0 = now_sec();
	assert_int_equal(wgnl_config_parse(text, len, "big.conf", 0, &cfg, &err), 0);
	t_parse = now_sec() - t0;
	assert_int_equal(cfg->dev->n_peers, n);

	t0 = now_sec();
	for (unsigned i = 0; i < n; i++) {
		wgnl_key k;
		const struct wgnl_peer *p;
		char want[32];

		key_for(k, i);
		p = wgnl_device_find_peer(cfg->dev, k);
		assert_non_null(p);
		assert_ptr_equal(p, &cfg->dev->peers[i]); /* file order kept */
		assert_int_equal(p->n_allowedips, 2);
		snprintf(want, sizeof(want), "10.%u.%u.%u/32", (i >> 16) & 255, (i >> 8) & 255,
			 i & 255);
		assert_prefix(&p->allowedips[0], want);
		assert_int_equal(!!(p->flags & WGNL_PEER_HAS_PRESHARED_KEY), i % 2);
	}
	t_lookup = now_sec() - t0;
	print_message("10,000 peers: parse %.1f ms, 10,000 lookups %.1f ms\n", t_parse * 1e3,
		      t_lookup * 1e3);
	/* Speed is measured in bench/, not asserted here. */

	out = write_mem(cfg, 0, &len2);
	again = parse_ok(out, 0);
	assert_config_equal(cfg, again, false);
	wgnl_config_free(again);
	wgnl_config_free(cfg);
	free(out);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__wg_config_with_every_key__all_values_and_flags_set),
		cmocka_unit_test(unit__wg_quick_config_with_every_key__all_values_set),
		cmocka_unit_test(unit__fwmark_forms__decimal_hex_and_off),
		cmocka_unit_test(unit__keepalive_off_and_zero__flag_set_value_zero),
		cmocka_unit_test(unit__table_forms__off_auto_names_numbers),
		cmocka_unit_test(unit__quick_defaults__unset_without_keys),
		cmocka_unit_test(unit__empty_text__empty_config),
		cmocka_unit_test(unit__last_line_without_newline__parsed),
		cmocka_unit_test(unit__empty_allowedips__no_entries),
		cmocka_unit_test(unit__named_endpoint_without_resolve__kept_as_name),
		cmocka_unit_test(unit__named_endpoint_with_resolve__resolved_and_name_kept),
		cmocka_unit_test(unit__ipv6_scoped_endpoint__parsed),
		cmocka_unit_test(unit__long_scoped_endpoint__parsed_or_clear_error),
		cmocka_unit_test(unit__null_err__accepted_on_success_and_failure),
		cmocka_unit_test(unit__every_error_path__exact_file_line_key_message),
		cmocka_unit_test(unit__bad_private_key__not_echoed),
		cmocka_unit_test(unit__key_text_in_wrong_place__never_echoed),
		cmocka_unit_test(unit__colon_for_equals_and_bare_key_line__say_what_was_expected),
		cmocka_unit_test(unit__text_may_be_key__keys_yes_ordinary_values_no),
		cmocka_unit_test(unit__roundtrip_wg_config__parse_write_parse_equal),
		cmocka_unit_test(unit__roundtrip_quick_config__parse_write_parse_equal),
		cmocka_unit_test(unit__write__canonical_text_in_stable_order),
		cmocka_unit_test(unit__write_to_full_device__eio),
		cmocka_unit_test(unit__truncated_and_mutated_text__no_crash_and_sane_errors),
		cmocka_unit_test(unit__parse_file_missing__enoent_names_file),
		cmocka_unit_test(unit__parse_file__same_as_text_and_errors_name_file),
		cmocka_unit_test(unit__parse_file_directory__eisdir),
		cmocka_unit_test(unit__10000_peers__parse_and_lookup_each_in_O1),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
