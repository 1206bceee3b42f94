// SPDX-License-Identifier: MIT
/* wgnl_device_reresolve() against a test double backend: which peers get a
 * new endpoint (moved, stale), which are left alone (fresh handshake, same
 * address, not on the device, name that does not resolve), one set only. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"

#include "core/internal.h"

static int n_sets;
static struct wgnl_device *last_set;

static int fake_get(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	(void)ctx;
	(void)ifname;
	(void)ret;
	return -ENODEV;
}

/* Keep what was sent: the peers' keys, flags and endpoints. */
static int fake_set(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	(void)ctx;
	n_sets++;
	wgnl_device_free(last_set);
	last_set = wgnl_device_new(dev->name);
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wgnl_peer *p;

		assert_int_equal(wgnl_device_add_peer(last_set, dev->peers[i].public_key, &p), 0);
		p->flags = dev->peers[i].flags;
		p->endpoint = dev->peers[i].endpoint;
		assert_int_equal(dev->peers[i].n_allowedips, 0);
	}
	return 0;
}

static int fake_list(struct wgnl_ctx *ctx, char ***names, size_t *n)
{
	(void)ctx;
	(void)names;
	(void)n;
	return 0;
}

static const struct wgi_backend_ops fake_ops = {
	.name = "fake",
	.get_device = fake_get,
	.set_device = fake_set,
	.list_devices = fake_list,
};

static void key(wgnl_key k, uint8_t n)
{
	memset(k, 0, WGNL_KEY_LEN);
	k[0] = n;
}

static struct wgnl_peer *add(struct wgnl_device *d, uint8_t n)
{
	struct wgnl_peer *p;
	wgnl_key k;

	key(k, n);
	assert_int_equal(wgnl_device_add_peer(d, k, &p), 0);
	return p;
}

static void endpoint(struct wgnl_peer *p, const char *s)
{
	assert_int_equal(wgnl_endpoint_parse(&p->endpoint, s), 0);
	p->flags |= WGNL_PEER_HAS_ENDPOINT;
}

/* Peers 1..5 on the device, 1..6 in the config, every name numeric (no
 * resolver needed): 1 stale and moved, 2 moved but a fresh handshake, 3
 * unchanged, 4 never had an endpoint, 5 a name that cannot resolve, 6 not
 * on the device. */
static void setup_devices(struct wgnl_device **run, struct wgnl_device **conf)
{
	static const char *names[] = { NULL,	  "127.0.0.1:5",  "127.0.0.1:6", "127.0.0.3:7",
				       "[::1]:8", "no-port-here", "127.0.0.1:9" };
	struct wgnl_peer *p;

	*run = wgnl_device_new("wg0");
	*conf = wgnl_device_new("wg0");
	p = add(*run, 1);
	endpoint(p, "127.0.0.2:5");
	p->last_handshake.tv_sec = 100;
	p = add(*run, 2);
	endpoint(p, "127.0.0.2:6");
	p->last_handshake.tv_sec = 950;
	p = add(*run, 3);
	endpoint(p, "127.0.0.3:7");
	add(*run, 4);
	p = add(*run, 5);
	endpoint(p, "127.0.0.5:1");
	for (uint8_t i = 1; i <= 6; i++) {
		p = add(*conf, i);
		p->endpoint_name = strdup(names[i]);
		assert_non_null(p->endpoint_name);
	}
}

static void reresolve__stale_moved_only__one_update_only_set(void **state)
{
	struct wgnl_device *run, *conf;
	struct wgnl_reresolve_stats st;
	union wgnl_endpoint want;
	const struct wgnl_peer *p;
	struct wgnl_ctx *ctx;
	wgnl_key k;

	(void)state;
	setup_devices(&run, &conf);
	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	ctx->ops_override = &fake_ops;
	n_sets = 0;
	/* 1000 - 950 <= 135: peer 2 is fresh. */
	assert_int_equal(wgnl_device_reresolve(ctx, "wg0", conf, run, 1000, 135, &st), 2);
	assert_int_equal(st.names, 5);
	assert_int_equal(st.fresh, 1);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.changed, 2);
	assert_int_equal(n_sets, 1);
	assert_int_equal(last_set->n_peers, 2);
	key(k, 1);
	p = wgnl_device_find_peer(last_set, k);
	assert_non_null(p);
	assert_int_equal(p->flags & ~(uint32_t)WGNL_PEER_HAS_PUBLIC_KEY,
			 WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_UPDATE_ONLY);
	assert_int_equal(wgnl_endpoint_parse(&want, "127.0.0.1:5"), 0);
	assert_true(wgnl_endpoint_equal(&p->endpoint, &want));
	key(k, 4);
	p = wgnl_device_find_peer(last_set, k);
	assert_non_null(p);
	assert_int_equal(wgnl_endpoint_parse(&want, "[::1]:8"), 0);
	assert_true(wgnl_endpoint_equal(&p->endpoint, &want));

	/* stale_after 0: every peer, the fresh one too. */
	assert_int_equal(wgnl_device_reresolve(ctx, "wg0", conf, run, 1000, 0, &st), 3);
	assert_int_equal(st.fresh, 0);
	assert_int_equal(n_sets, 2);
	key(k, 2);
	assert_non_null(wgnl_device_find_peer(last_set, k));
	wgnl_ctx_close(ctx);
	wgnl_device_free(run);
	wgnl_device_free(conf);
	wgnl_device_free(last_set);
	last_set = NULL;
}

static void reresolve__nothing_moved__no_set(void **state)
{
	struct wgnl_device *run = wgnl_device_new("wg0"), *conf = wgnl_device_new("wg0");
	struct wgnl_reresolve_stats st;
	struct wgnl_ctx *ctx;
	struct wgnl_peer *p;

	(void)state;
	endpoint(add(run, 1), "127.0.0.1:5");
	p = add(conf, 1);
	p->endpoint_name = strdup("127.0.0.1:5");
	endpoint(add(conf, 2), "127.0.0.9:9"); /* numeric in the file: no name */
	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	ctx->ops_override = &fake_ops;
	n_sets = 0;
	assert_int_equal(wgnl_device_reresolve(ctx, "wg0", conf, run, 1000, 135, &st), 0);
	assert_int_equal(st.names, 1);
	assert_int_equal(st.changed, 0);
	assert_int_equal(n_sets, 0);
	/* Without @running the device is read: the double says -ENODEV. */
	assert_int_equal(wgnl_device_reresolve(ctx, "wg0", conf, NULL, 1000, 135, &st), -ENODEV);
	assert_int_equal(wgnl_device_reresolve(ctx, "wg0", NULL, run, 1000, 135, NULL), -EINVAL);
	wgnl_ctx_close(ctx);
	wgnl_device_free(run);
	wgnl_device_free(conf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(reresolve__stale_moved_only__one_update_only_set),
		cmocka_unit_test(reresolve__nothing_moved__no_set),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
