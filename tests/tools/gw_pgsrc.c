// SPDX-License-Identifier: MIT
/*
 * gw_pgsrc CONNINFO [SECONDS] [STALE_S]: wg-gatewayd's PostgreSQL source
 * (gateway/pgsource.c) alone, its sink printing one line per call on stdout
 * (line-buffered), for tests/gateway/pg.sh:
 *   full_begin | full_end CID | position CID | bad ID WHY | keep PUBKEY |
 *   row ID CID add|remove PUBKEY ALLOWED,... | state up|down RECONNECTS
 * Public keys only: the registry holds no private key. Runs the main loop
 * (poll on the source fd, tick) for SECONDS (default 60) or until SIGTERM.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../gateway/gw.h"

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void s_row(struct gw_sink *k, const struct gw_row *r)
{
	wgnl_key_b64 b64;
	char ip[64];

	(void)k;
	wgnl_key_to_base64(b64, r->peer->public_key);
	printf("row %lld %lld %s %s ", (long long)r->id, (long long)r->change_id,
	       r->removed ? "remove" : "add", b64);
	for (size_t i = 0; i < r->peer->n_allowedips; i++)
		printf("%s%s", i ? "," : "",
		       wgnl_prefix_format(&r->peer->allowedips[i], ip, sizeof(ip)));
	printf("%s%s\n", r->peer->n_allowedips ? "" : "-",
	       r->peer->flags & WGNL_PEER_HAS_PRESHARED_KEY ? " psk" : "");
}

static void s_bad(struct gw_sink *k, int64_t id, const char *why)
{
	(void)k;
	printf("bad %lld %s\n", (long long)id, why);
}

static void s_begin(struct gw_sink *k)
{
	(void)k;
	puts("full_begin");
}

static void s_end(struct gw_sink *k, int64_t cid)
{
	(void)k;
	printf("full_end %lld\n", (long long)cid);
}

static void s_pos(struct gw_sink *k, int64_t cid)
{
	(void)k;
	printf("position %lld\n", (long long)cid);
}

static void s_keep(struct gw_sink *k, const uint8_t *pub)
{
	wgnl_key_b64 b64;

	(void)k;
	wgnl_key_to_base64(b64, pub);
	printf("keep %s\n", b64);
}

static void s_abort(struct gw_sink *k)
{
	(void)k;
	puts("full_abort");
}

int main(int argc, char **argv)
{
	struct gw_sink sink = {
		.row = s_row,
		.bad = s_bad,
		.full_begin = s_begin,
		.full_end = s_end,
		.position = s_pos,
		.keep = s_keep,
		.full_abort = s_abort,
	};
	const struct gw_source_ops *ops = &gw_pgsource_ops;
	struct gw_conf c = { .full_reread_s = 300, .stale_s = 30 };
	struct gw_source *src;
	int64_t end;
	char err[512];
	int up = -1, r;

	if (argc < 2) {
		fputs("usage: gw_pgsrc CONNINFO [SECONDS] [STALE_S]\n", stderr);
		return 1;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	snprintf(c.path, sizeof(c.path), "gw_pgsrc");
	c.conninfo = argv[1];
	if (argc > 3)
		c.stale_s = (unsigned)atoi(argv[3]);
	end = gw_now_ms() + (argc > 2 ? atoi(argv[2]) : 60) * 1000;
	r = ops->open(&src, &c, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "gw_pgsrc: %s\n", err);
		return 2;
	}
	while (!stop && gw_now_ms() < end) {
		int64_t now = gw_now_ms();
		int wait = ops->tick(src, &sink, now);
		struct pollfd p = { .fd = ops->fd(src), .events = POLLIN };

		if (ops->connected(src) != up) {
			up = ops->connected(src);
			printf("state %s %llu\n", up ? "up" : "down",
			       (unsigned long long)ops->reconnects(src));
		}
		if (wait < 0 || wait > 200)
			wait = 200;
		if (poll(&p, 1, wait) > 0)
			ops->poll(src, &sink);
	}
	ops->close(src);
	return 0;
}
