// SPDX-License-Identifier: MIT
/* The sync planner: only what differs, endpoints only when the desired one changed. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"

#include "linux/genl.h"
#include "core/internal.h"

static void key_of(wgnl_key k, uint32_t i)
{
	memset(k, 0x11, WGNL_KEY_LEN);
	memcpy(k, &i, sizeof(i));
}

static struct wgnl_peer *peer(struct wgnl_device *d, uint32_t i, const char *ips, const char *ep)
{
	struct wgnl_peer *p;
	wgnl_key k;
	char buf[1024], *save = NULL;

	key_of(k, i);
	assert_int_equal(wgnl_device_add_peer(d, k, &p), 0);
	snprintf(buf, sizeof(buf), "%s", ips);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct wgnl_prefix pr;

		assert_int_equal(wgnl_prefix_parse(&pr, t), 0);
		assert_int_equal(wgnl_peer_add_allowedip(p, &pr), 0);
	}
	if (ep) {
		assert_int_equal(wgnl_endpoint_parse(&p->endpoint, ep), 0);
		p->flags |= WGNL_PEER_HAS_ENDPOINT;
	}
	return p;
}

static struct wgnl_peer *find(const struct wgnl_device *d, uint32_t i)
{
	wgnl_key k;

	key_of(k, i);
	return wgnl_device_find_peer(d, k);
}

static void sync__identical__empty_plan(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgnl_plan *plan;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++) {
		peer(want, i, "10.0.0.1/24,fd00::/64", "192.0.2.1:51820");
		/* The kernel holds masked prefixes, in its own order. */
		peer(run, i, "fd00::/64,10.0.0.0/24", "192.0.2.1:51820");
	}
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(wgnl_plan_is_empty(plan));
	assert_int_equal(plan->n_unchanged, 1000);
	assert_int_equal(plan->change->n_peers, 0);
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

static void sync__add_remove_update__only_differences(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgnl_plan *plan;
	struct wgnl_peer *p;

	(void)state;
	peer(want, 1, "10.0.0.1/32", NULL);
	peer(want, 2, "10.0.0.2/32,10.9.0.0/16", NULL);
	peer(want, 3, "10.0.0.3/32", NULL)->persistent_keepalive = 25;
	find(want, 3)->flags |= WGNL_PEER_HAS_KEEPALIVE;
	peer(run, 1, "10.0.0.1/32", NULL);
	peer(run, 2, "10.0.0.2/32,10.8.0.0/16", NULL);
	peer(run, 3, "10.0.0.3/32", NULL);
	peer(run, 4, "10.0.0.4/32", NULL);
	peer(want, 5, "10.0.0.5/32", "192.0.2.5:1");

	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_int_equal(plan->n_add, 1);
	assert_int_equal(plan->n_remove, 1);
	assert_int_equal(plan->n_update, 2);
	assert_int_equal(plan->n_unchanged, 1);
	assert_null(find(plan->change, 1));
	p = find(plan->change, 2);
	assert_non_null(p);
	assert_true(p->flags & WGNL_PEER_UPDATE_ONLY);
	assert_true(p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS);
	assert_int_equal(p->n_allowedips, 2);
	assert_false(p->flags & (WGNL_PEER_HAS_ENDPOINT | WGNL_PEER_HAS_KEEPALIVE));
	p = find(plan->change, 3);
	assert_int_equal(p->flags & (WGNL_PEER_HAS_KEEPALIVE | WGNL_PEER_REPLACE_ALLOWEDIPS),
			 WGNL_PEER_HAS_KEEPALIVE);
	assert_int_equal(p->persistent_keepalive, 25);
	assert_true(find(plan->change, 4)->flags & WGNL_PEER_REMOVE);
	p = find(plan->change, 5);
	assert_true(p->flags & WGNL_PEER_HAS_ENDPOINT);
	assert_false(p->flags & WGNL_PEER_UPDATE_ONLY);
	wgnl_plan_free(plan);

	/* With per-IP removal: one add, one removal, no replace. */
	assert_int_equal(wgnl_sync_plan(want, run, NULL, WGNL_SYNC_ALLOWEDIP_REMOVE, &plan), 0);
	p = find(plan->change, 2);
	assert_false(p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS);
	assert_int_equal(p->n_allowedips, 2);
	/* Sorted merge: 10.8.0.0/16 goes before 10.9.0.0/16 arrives. */
	assert_int_equal(p->allowedips[0].flags, WGNL_PREFIX_REMOVE);
	assert_int_equal(p->allowedips[0].ip4.s_addr, htonl(0x0a080000));
	assert_int_equal(p->allowedips[1].flags, 0);
	assert_int_equal(p->allowedips[1].ip4.s_addr, htonl(0x0a090000));
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

static void sync__roamed_endpoint_unchanged_file__kept(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgnl_device *last = wgnl_device_new("wg0");
	struct wgnl_plan *plan;

	(void)state;
	peer(want, 1, "10.0.0.1/32", "192.0.2.1:51820");
	peer(last, 1, "10.0.0.1/32", "192.0.2.1:51820");
	peer(run, 1, "10.0.0.1/32", "198.51.100.7:40000"); /* roamed */
	assert_int_equal(wgnl_sync_plan(want, run, last, 0, &plan), 0);
	assert_true(wgnl_plan_is_empty(plan));
	wgnl_plan_free(plan);

	/* Without a record the difference is sent. */
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_int_equal(plan->n_update, 1);
	assert_true(find(plan->change, 1)->flags & WGNL_PEER_HAS_ENDPOINT);
	wgnl_plan_free(plan);

	/* A changed desired endpoint is sent even though the peer roamed. */
	assert_int_equal(wgnl_endpoint_parse(&find(want, 1)->endpoint, "192.0.2.2:51820"), 0);
	assert_int_equal(wgnl_sync_plan(want, run, last, 0, &plan), 0);
	assert_int_equal(plan->n_update, 1);
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
	wgnl_device_free(last);
}

static void sync__device_fields__only_when_desired_and_different(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgnl_plan *plan;

	(void)state;
	run->listen_port = 51820;
	run->fwmark = 7;
	run->flags = WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK;
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(wgnl_plan_is_empty(plan));
	wgnl_plan_free(plan);
	want->listen_port = 51821;
	want->fwmark = 7;
	want->flags = WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK;
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(plan->device_changed);
	assert_int_equal(plan->change->flags, WGNL_DEV_HAS_LISTEN_PORT);
	assert_int_equal(plan->change->listen_port, 51821);
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

static void sync__unclamped_private_key__unchanged(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgnl_plan *plan;

	(void)state;
	/* The kernel clamps the key it is given and reports it clamped. */
	memset(want->private_key, 0xff, WGNL_KEY_LEN);
	want->flags = WGNL_DEV_HAS_PRIVATE_KEY;
	memcpy(run->private_key, want->private_key, WGNL_KEY_LEN);
	run->private_key[0] &= 248;
	run->private_key[31] = (run->private_key[31] & 127) | 64;
	run->flags = WGNL_DEV_HAS_PRIVATE_KEY;
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(wgnl_plan_is_empty(plan));
	wgnl_plan_free(plan);
	/* A device without a key and a file without one: nothing to do. */
	memset(want->private_key, 0, WGNL_KEY_LEN);
	run->flags = 0;
	memset(run->private_key, 0, WGNL_KEY_LEN);
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(wgnl_plan_is_empty(plan));
	wgnl_plan_free(plan);
	/* A different key is sent. */
	want->private_key[5] = 1;
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(plan->device_changed);
	assert_true(plan->change->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

static void sync__many_allowedips_any_order__compared_as_sets(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgnl_plan *plan;
	char list[512] = "", rev[512] = "";

	(void)state;
	/* More than fit the planner's stack buffer, duplicates and host bits. */
	for (int i = 0; i < 20; i++) {
		char one[32];

		snprintf(one, sizeof(one), "%s10.%d.0.%d/24", i ? "," : "", i, i);
		strcat(list, one);
		snprintf(one, sizeof(one), "%s10.%d.0.0/24", i ? "," : "", 19 - i);
		strcat(rev, one);
	}
	strcat(list, ",10.0.0.0/24");
	peer(want, 1, list, NULL);
	peer(run, 1, rev, NULL);
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_true(wgnl_plan_is_empty(plan));
	wgnl_plan_free(plan);
	/* One more on the desired side: the list is replaced, all 21 sent. */
	assert_int_equal(wgnl_device_remove_peer(want, find(want, 1)->public_key), 0);
	strcat(list, ",10.99.0.0/16");
	peer(want, 1, list, NULL);
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_int_equal(plan->n_update, 1);
	assert_int_equal(find(plan->change, 1)->n_allowedips, 21);
	wgnl_plan_free(plan);
	/* Per-IP: exactly the one addition. */
	assert_int_equal(wgnl_sync_plan(want, run, NULL, WGNL_SYNC_ALLOWEDIP_REMOVE, &plan), 0);
	assert_int_equal(find(plan->change, 1)->n_allowedips, 1);
	assert_int_equal(find(plan->change, 1)->allowedips[0].flags, 0);
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

/* Many removals are spread over messages so one message never holds the
 * rtnl lock through more than WGI_GENL_REMOVALS_MAX synchronize_net()s. */
static void sync__many_removals__bounded_per_message(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0");
	struct wgi_genl_set_cursor cur = { 0 };
	struct wgnl_plan *plan;
	static uint8_t buf[WGI_GENL_SET_BUF] __attribute__((aligned(4)));
	unsigned msgs = 0;
	int r;

	(void)state;
	for (uint32_t i = 0; i < 1000; i++)
		peer(run, i, "10.0.0.1/32", NULL);
	peer(want, 5000, "10.0.0.2/32", NULL);
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &plan), 0);
	assert_int_equal(plan->n_remove, 1000);
	assert_int_equal(plan->n_add, 1);
	while ((r = wgi_genl_build_set(plan->change, 99, buf, sizeof(buf), &cur)) > 0) {
		struct wgi_genl_parse st = { .dev = wgnl_device_new("wg0") };
		size_t removals = 0;

		assert_int_equal(wgi_genl_parse_msg((struct nlmsghdr *)buf, &st), 0);
		for (size_t i = 0; i < st.dev->n_peers; i++)
			removals += !!(st.dev->peers[i].flags & WGNL_PEER_REMOVE);
		assert_true(removals <= WGI_GENL_REMOVALS_MAX);
		wgnl_device_free(st.dev);
		msgs++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(msgs, (1000 + WGI_GENL_REMOVALS_MAX - 1) / WGI_GENL_REMOVALS_MAX);
	wgnl_plan_free(plan);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

/* A test double backend: get_device hands out a copy of fake_running. */
static struct wgnl_device *fake_running;

static int fake_get(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	struct wgnl_device *d = wgnl_device_new(ifname);

	(void)ctx;
	for (size_t i = 0; i < fake_running->n_peers; i++) {
		const struct wgnl_peer *src = &fake_running->peers[i];
		struct wgnl_peer *p;

		assert_int_equal(wgnl_device_add_peer(d, src->public_key, &p), 0);
		for (size_t k = 0; k < src->n_allowedips; k++)
			assert_int_equal(wgnl_peer_add_allowedip(p, &src->allowedips[k]), 0);
	}
	d->listen_port = fake_running->listen_port;
	d->flags = fake_running->flags;
	*ret = d;
	return 0;
}

static int fake_set(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	(void)ctx;
	(void)dev;
	return -EIO;
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

static void sync__plan_stream__same_as_plan(void **state)
{
	struct wgnl_device *want = wgnl_device_new("wg0"), *run = wgnl_device_new("wg0"), *info;
	struct wgnl_plan *a, *b;
	struct wgnl_ctx *ctx;

	(void)state;
	for (uint32_t i = 0; i < 500; i++) {
		if (i % 7)
			peer(want, i, i % 11 ? "10.0.0.1/32" : "10.0.0.2/32", NULL);
		if (i % 5)
			peer(run, i, "10.0.0.1/32", NULL);
	}
	run->listen_port = 1;
	run->flags = WGNL_DEV_HAS_LISTEN_PORT;
	want->listen_port = 2;
	want->flags = WGNL_DEV_HAS_LISTEN_PORT;
	fake_running = run;
	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	ctx->ops_override = &fake_ops;
	assert_int_equal(wgnl_sync_plan(want, run, NULL, 0, &a), 0);
	assert_int_equal(wgnl_sync_plan_stream(ctx, want, NULL, 0, &b, &info), 0);
	assert_int_equal(a->n_add, b->n_add);
	assert_int_equal(a->n_remove, b->n_remove);
	assert_int_equal(a->n_update, b->n_update);
	assert_int_equal(a->n_unchanged, b->n_unchanged);
	assert_int_equal(a->change->n_peers, b->change->n_peers);
	assert_true(b->device_changed);
	assert_int_equal(info->n_peers, 0);
	assert_int_equal(info->listen_port, 1);
	for (size_t i = 0; i < a->change->n_peers; i++) {
		const struct wgnl_peer *pa = &a->change->peers[i];
		const struct wgnl_peer *pb = wgnl_device_find_peer(b->change, pa->public_key);

		assert_non_null(pb);
		assert_int_equal(pa->flags, pb->flags);
		assert_int_equal(pa->n_allowedips, pb->n_allowedips);
	}
	wgnl_plan_free(a);
	wgnl_plan_free(b);
	wgnl_device_free(info);
	wgnl_ctx_close(ctx);
	wgnl_device_free(want);
	wgnl_device_free(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync__identical__empty_plan),
		cmocka_unit_test(sync__add_remove_update__only_differences),
		cmocka_unit_test(sync__roamed_endpoint_unchanged_file__kept),
		cmocka_unit_test(sync__device_fields__only_when_desired_and_different),
		cmocka_unit_test(sync__unclamped_private_key__unchanged),
		cmocka_unit_test(sync__many_allowedips_any_order__compared_as_sets),
		cmocka_unit_test(sync__many_removals__bounded_per_message),
		cmocka_unit_test(sync__plan_stream__same_as_plan),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
