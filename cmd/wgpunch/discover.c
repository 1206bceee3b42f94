// SPDX-License-Identifier: MIT
/* wgpunch discover: ask every server at once for our mapped address, then
 * run the RFC 5780 tests against the first server that offers OTHER-ADDRESS
 * and say what it means for hole punching. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "argparse.h"
#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "wgkit/wgnl_stun.h"
#include "wgpunch.h"

static void help(FILE *f)
{
	fprintf(f,
		"Usage: wgpunch discover [--json] [--local ADDR:PORT] [--interface IF] [--fwmark N]\n"
		"         [--rto MS] [--tries N] [--timeout MS] [--no-nat-test] SERVER[:PORT]...\n"
		"Ask each STUN server (default port 3478) for the public address, all at\n"
		"once, retransmitting per RFC 8489 (first RTO --rto, default 500 ms, at most\n"
		"--tries requests, default 7, whole run capped by --timeout, default 10000).\n"
		"Where a server supports RFC 5780, report the NAT's mapping and filtering\n"
		"behaviour, hairpinning and a verdict.\n");
}

/* The verdict: a fixed name for programs (the JSON "verdict", listed in
 * wgpunch(8)) and a sentence for people. */
enum verdict {
	V_UNKNOWN,
	V_OPEN,
	V_FIREWALL,
	V_FULL_CONE,
	V_CONE,
	V_SYMMETRIC
};

static enum verdict verdict_of(const struct wgnl_stun_nat_result *n)
{
	if (!n->rfc5780 || n->mapping == WGNL_STUN_NAT_UNKNOWN)
		return V_UNKNOWN;
	if (n->mapping == WGNL_STUN_NAT_NONE)
		return n->filtering == WGNL_STUN_NAT_ENDPOINT_INDEPENDENT ? V_OPEN : V_FIREWALL;
	if (n->mapping == WGNL_STUN_NAT_ENDPOINT_INDEPENDENT)
		return n->filtering == WGNL_STUN_NAT_ENDPOINT_INDEPENDENT ? V_FULL_CONE : V_CONE;
	return V_SYMMETRIC;
}

static const char *verdict_name(const struct wgnl_stun_nat_result *n)
{
	static const char *const names[] = {
		[V_UNKNOWN] = "unknown",     [V_OPEN] = "open", [V_FIREWALL] = "firewall",
		[V_FULL_CONE] = "full-cone", [V_CONE] = "cone", [V_SYMMETRIC] = "symmetric",
	};
	return names[verdict_of(n)];
}

static const char *verdict_text(const struct wgnl_stun_nat_result *n)
{
	switch (verdict_of(n)) {
	case V_OPEN:
		return "no NAT, open: peers can reach this host directly";
	case V_FIREWALL:
		return "no NAT, but a stateful firewall: direct connections work when this side sends first";
	case V_FULL_CONE:
		return "endpoint-independent NAT (full cone): hole punching works, peers can reach the public address";
	case V_CONE:
		return "endpoint-independent mapping with filtering: hole punching works when both sides send";
	case V_SYMMETRIC:
		return "symmetric NAT (mapping varies by destination): hole punching is unreliable, use a relay or port prediction";
	default:
		return n->rfc5780 ? "unknown: the mapping tests did not complete" :
				    "unknown: no server supports RFC 5780 behaviour discovery";
	}
}

/* A server name without a port gets the STUN port before it is resolved
 * ("localhost" as "localhost:3478"; a bracketed name too). */
static int resolve_server(union wgnl_endpoint *out, const char *s)
{
	char buf[300];
	size_t n = strlen(s);
	bool bracketed = n > 1 && s[0] == '[' && s[n - 1] == ']';

	if (strchr(s, ':') && !bracketed)
		return wgnl_endpoint_resolve(out, s);
	if (n + sizeof(":65535") > sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s:%u", s, WGNL_STUN_PORT);
	return wgnl_endpoint_resolve(out, buf);
}

static const char *status_text(const struct wgnl_stun_query *q, char *buf, size_t len)
{
	if (q->status == 0)
		return "ok";
	if (q->status == -ETIMEDOUT)
		return "timeout";
	if (q->status == -EPROTO) {
		snprintf(buf, len, "error %u", q->error_code);
		return buf;
	}
	return strerror(-q->status);
}

/* What the command line asked for. */
struct discover_args {
	struct wgnl_stun_client_opts o;
	bool json, nat_test;
};

/* Returns -1 to go on, or the exit code to leave with. */
static int parse_args(int argc, char **argv, struct discover_args *a)
{
	static const struct option opts[] = {
		WGK_OPT_JSON,
		{ "local", required_argument, NULL, 'l' },
		WGK_OPT_INTERFACE,
		WGK_OPT_FWMARK,
		{ "rto", required_argument, NULL, 'r' },
		{ "tries", required_argument, NULL, 't' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "no-nat-test", no_argument, NULL, 'n' },
		WGK_OPT_HELP,
		WGK_OPT_END,
	};
	uint32_t v;
	int c;

	memset(a, 0, sizeof(*a));
	a->o.size = sizeof(a->o);
	a->o.timeout_ms = 10000;
	a->nat_test = true;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 'l':
			if (wgpunch_parse_ep(&a->o.local, optarg, 0) < 0) {
				wgk_error("invalid local address '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			break;
		case 'i':
			if (wgk_parse_ifname(a->o.ifname, sizeof(a->o.ifname), optarg) < 0)
				return WGK_EXIT_USAGE;
			break;
		case 'm':
		case 'r':
		case 't':
		case 'T':
			if (wgk_parse_u32(optarg, c == 'm' ? 0 : 1, c == 't' ? 20 : 0xffffffffU,
					  &v) < 0) {
				wgk_error("invalid number '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			if (c == 'm')
				a->o.fwmark = v;
			else if (c == 'r')
				a->o.rto_ms = v;
			else if (c == 't')
				a->o.max_tries = v;
			else
				a->o.timeout_ms = v;
			break;
		case 'n':
			a->nat_test = false;
			break;
		case 'h':
			help(stdout);
			return WGK_EXIT_OK;
		default:
			help(stderr);
			return WGK_EXIT_USAGE;
		}
	}
	return -1;
}

/* Resolve the @n server arguments into q[].server, all of one family.
 * Returns an exit code. */
static int resolve_servers(struct wgnl_stun_query *q, int n, char **names)
{
	int r;

	for (int i = 0; i < n; i++) {
		const char *s = names[i];
		if (wgpunch_parse_ep(&q[i].server, s, WGNL_STUN_PORT) < 0 &&
		    (r = resolve_server(&q[i].server, s)) < 0) {
			if (r == -EHOSTUNREACH)
				wgk_error(
					"cannot resolve STUN server '%s': no address for that name",
					wgk_q(s));
			else
				wgk_error("invalid STUN server '%s' (expected HOST[:PORT])",
					  wgk_q(s));
			return r == -ENOMEM ? WGK_EXIT_SYSTEM : WGK_EXIT_INPUT;
		}
		if (q[i].server.addr.sa_family != q[0].server.addr.sa_family) {
			wgk_error("mixing IPv4 and IPv6 servers is not supported ('%s')", wgk_q(s));
			return WGK_EXIT_USAGE;
		}
	}
	return WGK_EXIT_OK;
}

/* The server for the RFC 5780 tests: the first that answered with
 * OTHER-ADDRESS, else (with the tests on) the first that answered at all.
 * With @nat_test, runs them there and sets *done on success. Returns the
 * server's index or -1. */
static int nat_test_run(struct wgnl_stun_client *cl, const struct wgnl_stun_query *q, int n,
			bool nat_test, struct wgnl_stun_nat_result *nat, bool *done)
{
	int nat_server = -1;

	*done = false;
	for (int i = 0; i < n && nat_server < 0; i++)
		if (q[i].status == 0 && (q[i].flags & WGNL_STUN_HAS_OTHER_ADDRESS))
			nat_server = i;
	if (nat_test) {
		int s = nat_server >= 0 ? nat_server : -1;
		for (int i = 0; s < 0 && i < n; i++)
			if (q[i].status == 0)
				s = i;
		if (s >= 0 && wgnl_stun_nat_discover(cl, &q[s].server, nat) == 0) {
			*done = true;
			nat_server = s;
		}
	}
	return nat_server;
}

static void json_servers(struct wgk_json *j, const struct wgnl_stun_query *q, int n)
{
	char b1[64], b2[64];

	wgk_json_key(j, "servers");
	wgk_json_array_begin(j);
	for (int i = 0; i < n; i++) {
		wgk_json_object_begin(j);
		wgk_json_kv_string(j, "server", wgnl_endpoint_format(&q[i].server, b1, sizeof(b1)));
		wgk_json_kv_string(j, "status", status_text(&q[i], b2, sizeof(b2)));
		wgk_json_kv_uint(j, "requests", q[i].tries);
		if (q[i].status == 0) {
			wgk_json_kv_string(j, "mapped",
					   wgnl_endpoint_format(&q[i].mapped, b1, sizeof(b1)));
			wgk_json_kv_uint(j, "rtt_us", q[i].rtt_ns / 1000);
			if (q[i].flags & WGNL_STUN_HAS_OTHER_ADDRESS)
				wgk_json_kv_string(j, "other_address",
						   wgnl_endpoint_format(&q[i].other_address, b1,
									sizeof(b1)));
		}
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
}

/* The distinct mapped addresses, in the order of the servers. */
static void json_public(struct wgk_json *j, const struct wgnl_stun_query *q, int n)
{
	char b1[64];

	wgk_json_key(j, "public");
	wgk_json_array_begin(j);
	for (int i = 0; i < n; i++) {
		bool dup = false;
		if (q[i].status)
			continue;
		for (int k = 0; k < i; k++)
			dup |= q[k].status == 0 && wgnl_endpoint_equal(&q[k].mapped, &q[i].mapped);
		if (!dup)
			wgk_json_string(j, wgnl_endpoint_format(&q[i].mapped, b1, sizeof(b1)));
	}
	wgk_json_array_end(j);
}

static void json_nat(struct wgk_json *j, const union wgnl_endpoint *server,
		     const struct wgnl_stun_nat_result *nat)
{
	char b1[64];

	wgk_json_key(j, "nat");
	if (!nat) {
		wgk_json_null(j);
		return;
	}
	wgk_json_object_begin(j);
	wgk_json_kv_string(j, "server", wgnl_endpoint_format(server, b1, sizeof(b1)));
	wgk_json_kv_bool(j, "rfc5780", nat->rfc5780);
	wgk_json_kv_string(j, "local", wgnl_endpoint_format(&nat->local, b1, sizeof(b1)));
	wgk_json_kv_string(j, "mapped", wgnl_endpoint_format(&nat->mapped, b1, sizeof(b1)));
	wgk_json_kv_string(j, "mapping", wgnl_stun_nat_behaviour_name(nat->mapping));
	wgk_json_kv_string(j, "filtering", wgnl_stun_nat_behaviour_name(nat->filtering));
	wgk_json_key(j, "hairpinning");
	if (nat->hairpin < 0)
		wgk_json_null(j);
	else
		wgk_json_bool(j, nat->hairpin == 1);
	wgk_json_key(j, "varies_by_destination");
	if (nat->rfc5780 && nat->mapping != WGNL_STUN_NAT_UNKNOWN)
		wgk_json_bool(j, nat->varies_by_destination);
	else
		wgk_json_null(j);
	wgk_json_kv_string(j, "verdict", verdict_name(nat));
	wgk_json_kv_string(j, "verdict_text", verdict_text(nat));
	wgk_json_object_end(j);
}

/* @nat NULL: no NAT test result. */
static void print_json(const struct wgnl_stun_query *q, int n,
		       const union wgnl_endpoint *nat_server,
		       const struct wgnl_stun_nat_result *nat)
{
	struct wgk_json j;

	wgk_json_init(&j, stdout, false);
	wgk_json_object_begin(&j);
	json_servers(&j, q, n);
	json_public(&j, q, n);
	json_nat(&j, nat_server, nat);
	wgk_json_object_end(&j);
	wgk_json_finish(&j);
}

static void print_text(const struct wgnl_stun_query *q, int n,
		       const struct wgnl_stun_nat_result *nat)
{
	char b1[64], b2[64], b3[64];

	for (int i = 0; i < n; i++) {
		if (q[i].status == 0)
			printf("server %s: mapped %s (rtt %.3f ms%s%s)\n",
			       wgnl_endpoint_format(&q[i].server, b1, sizeof(b1)),
			       wgnl_endpoint_format(&q[i].mapped, b2, sizeof(b2)),
			       (double)q[i].rtt_ns / 1e6,
			       (q[i].flags & WGNL_STUN_HAS_OTHER_ADDRESS) ? ", other address " : "",
			       (q[i].flags & WGNL_STUN_HAS_OTHER_ADDRESS) ?
				       wgnl_endpoint_format(&q[i].other_address, b3, sizeof(b3)) :
				       "");
		else
			printf("server %s: %s after %u request%s\n",
			       wgnl_endpoint_format(&q[i].server, b1, sizeof(b1)),
			       status_text(&q[i], b2, sizeof(b2)), q[i].tries,
			       q[i].tries == 1 ? "" : "s");
	}
	if (!nat)
		return;
	printf("local address: %s\n", wgnl_endpoint_format(&nat->local, b1, sizeof(b1)));
	printf("public address: %s\n", wgnl_endpoint_format(&nat->mapped, b1, sizeof(b1)));
	if (nat->rfc5780) {
		printf("mapping: %s\n", wgnl_stun_nat_behaviour_name(nat->mapping));
		printf("filtering: %s\n", wgnl_stun_nat_behaviour_name(nat->filtering));
		printf("mapping varies by destination: %s\n",
		       nat->varies_by_destination ? "yes" : "no");
	}
	printf("hairpinning: %s\n", nat->hairpin < 0 ? "not tested" : nat->hairpin ? "yes" : "no");
	printf("verdict: %s (%s)\n", verdict_name(nat), verdict_text(nat));
}

int cmd_discover(int argc, char **argv)
{
	struct discover_args a;
	struct wgnl_stun_client *cl = NULL;
	struct wgnl_stun_query *q;
	struct wgnl_stun_nat_result nat;
	bool nat_done, any = false;
	int nat_server, r, rc;

	if ((rc = parse_args(argc, argv, &a)) >= 0)
		return rc;
	int n = argc - optind;
	if (n < 1) {
		wgk_error("no STUN server given");
		help(stderr);
		return WGK_EXIT_USAGE;
	}
	q = calloc((size_t)n, sizeof(*q));
	if (!q)
		return WGK_EXIT_SYSTEM;
	if ((rc = resolve_servers(q, n, argv + optind)) != WGK_EXIT_OK) {
		free(q);
		return rc;
	}
	r = wgnl_stun_client_new(&a.o, q[0].server.addr.sa_family, &cl);
	if (r < 0) {
		wgk_error("cannot open STUN client: %s", strerror(-r));
		free(q);
		return wgk_exit_for_errno(r);
	}
	r = wgnl_stun_client_query(cl, q, (size_t)n);
	if (r < 0) {
		wgk_error("STUN queries failed: %s", strerror(-r));
		rc = WGK_EXIT_SYSTEM;
		goto out;
	}
	nat_server = nat_test_run(cl, q, n, a.nat_test, &nat, &nat_done);
	for (int i = 0; i < n; i++)
		any |= q[i].status == 0;
	if (a.json)
		print_json(q, n, nat_done ? &q[nat_server].server : NULL, nat_done ? &nat : NULL);
	else
		print_text(q, n, nat_done ? &nat : NULL);
	rc = WGK_EXIT_OK;
	if (!any) {
		wgk_error("no STUN server answered");
		rc = WGK_EXIT_SYSTEM;
	}
out:
	wgnl_stun_client_free(cl);
	free(q);
	return rc;
}
