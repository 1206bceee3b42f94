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

static void key_of(wgnl_key k, uint32_t i)
{
	memset(k, 0x11, WGNL_KEY_LEN);
	memcpy(k, &i, sizeof(i));
}

static struct wgnl_peer *peer(struct wgnl_device *d, uint32_t i, const char *ips, const char *ep)
{
	struct wgnl_peer *p;
	wgnl_key k;
	char buf[256], *save = NULL;

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sync__identical__empty_plan),
		cmocka_unit_test(sync__add_remove_update__only_differences),
		cmocka_unit_test(sync__roamed_endpoint_unchanged_file__kept),
		cmocka_unit_test(sync__device_fields__only_when_desired_and_different),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
