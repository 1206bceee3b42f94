// SPDX-License-Identifier: MIT
/* The desired peer set (wgnl_peerset_*): only changed peers in a delta, the
 * digest kept in step, mark-and-sweep. A strict in-memory device stands in
 * for the backend: it applies each set as the kernel would and fails on
 * anything a peer set must never send (an endpoint, a device field). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_sync.h"

#include "core/internal.h"

static struct wgnl_device *model; /* the "running" device */
static unsigned n_sets;

static void key_of(wgnl_key k, uint32_t i)
{
	memset(k, 0x22, WGNL_KEY_LEN);
	memcpy(k, &i, sizeof(i));
}

/* A desired peer @i with allowed IPs @ips (comma-separated), in @tmp. */
static struct wgnl_peer *mk(struct wgnl_peer *tmp, uint32_t i, const char *ips)
{
	char buf[256], *save = NULL;

	memset(tmp, 0, sizeof(*tmp));
	key_of(tmp->public_key, i);
	tmp->flags = WGNL_PEER_HAS_PUBLIC_KEY;
	snprintf(buf, sizeof(buf), "%s", ips);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		struct wgnl_prefix pr;

		assert_int_equal(wgnl_prefix_parse(&pr, t), 0);
		assert_int_equal(wgnl_peer_add_allowedip(tmp, &pr), 0);
	}
	return tmp;
}

static int fake_get(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	struct wgnl_device *d = wgnl_device_new(ifname);

	(void)ctx;
	for (size_t i = 0; i < model->n_peers; i++) {
		const struct wgnl_peer *src = &model->peers[i];
		struct wgnl_peer *p;

		assert_int_equal(wgnl_device_add_peer(d, src->public_key, &p), 0);
		p->flags = src->flags;
		memcpy(p->preshared_key, src->preshared_key, WGNL_KEY_LEN);
		p->persistent_keepalive = src->persistent_keepalive;
		for (size_t k = 0; k < src->n_allowedips; k++)
			assert_int_equal(wgnl_peer_add_allowedip(p, &src->allowedips[k]), 0);
	}
	d->flags = model->flags;
	d->listen_port = model->listen_port;
	memcpy(d->public_key, model->public_key, WGNL_KEY_LEN);
	*ret = d;
	return 0;
}

static int fake_set(struct wgnl_ctx *ctx, const struct wgnl_device *dev)
{
	(void)ctx;
	n_sets++;
	assert_int_equal(dev->flags, 0);
	for (size_t i = 0; i < dev->n_peers; i++) {
		const struct wgnl_peer *c = &dev->peers[i];
		struct wgnl_peer *p;

		assert_false(c->flags & WGNL_PEER_HAS_ENDPOINT);
		if (c->flags & WGNL_PEER_REMOVE) {
			wgnl_device_remove_peer(model, c->public_key);
			continue;
		}
		assert_true(c->flags & WGNL_PEER_REPLACE_ALLOWEDIPS);
		if (wgnl_device_add_peer(model, c->public_key, &p) == 0)
			p->flags = WGNL_PEER_HAS_PUBLIC_KEY;
		if (c->flags & WGNL_PEER_HAS_PRESHARED_KEY) {
			memcpy(p->preshared_key, c->preshared_key, WGNL_KEY_LEN);
			p->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
		}
		if (c->flags & WGNL_PEER_HAS_KEEPALIVE) {
			p->persistent_keepalive = c->persistent_keepalive;
			p->flags |= WGNL_PEER_HAS_KEEPALIVE;
		}
		p->n_allowedips = 0;
		for (size_t k = 0; k < c->n_allowedips; k++)
			assert_int_equal(wgnl_peer_add_allowedip(p, &c->allowedips[k]), 0);
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
	.name = "strict-fake",
	.get_device = fake_get,
	.set_device = fake_set,
	.list_devices = fake_list,
};

/* Send the set's delta to the model; the model's digest must then be the
 * set's. */
static void flush_and_compare(struct wgnl_ctx *ctx, struct wgnl_peerset *s,
			      struct wgnl_peerset_counts *c)
{
	struct wgnl_sync_digest want, got;
	struct wgnl_device *d, *info;

	assert_int_equal(wgnl_peerset_delta(s, &d, c), 0);
	if (d->n_peers)
		assert_int_equal(wgnl_device_set(ctx, d), 0);
	wgnl_device_free(d);
	assert_int_equal(wgnl_peerset_pending(s), 0);
	assert_int_equal(wgnl_sync_digest_running(ctx, "wg0", NULL, NULL, &got, &info), 0);
	wgnl_peerset_digest(s, info, &want);
	assert_int_equal(want.a, got.a);
	assert_int_equal(want.b, got.b);
	assert_int_equal(model->n_peers, wgnl_peerset_count(s));
	wgnl_device_free(info);
}

static void peerset__rows__one_delta_of_changed_peers_digest_in_step(void **state)
{
	struct wgnl_peerset *s;
	struct wgnl_peerset_counts c;
	struct wgnl_ctx *ctx;
	struct wgnl_peer tmp;
	wgnl_key k;

	(void)state;
	model = wgnl_device_new("wg0");
	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	ctx->ops_override = &fake_ops;
	assert_int_equal(wgnl_peerset_new("wg0", &s), 0);

	for (uint32_t i = 0; i < 1000; i++) {
		assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, i, "10.1.0.0/32")), 1);
		wgi_peer_clear(&tmp);
	}
	n_sets = 0;
	flush_and_compare(ctx, s, &c);
	assert_int_equal(n_sets, 1);
	assert_int_equal(c.added, 1000);
	assert_int_equal(c.updated + c.removed, 0);

	/* The same again (IPs in another order, host bits): nothing. */
	assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, 7, "10.1.0.0/32,10.1.0.0/32")), 0);
	wgi_peer_clear(&tmp);
	assert_int_equal(wgnl_peerset_pending(s), 0);

	/* One change, one removal, one add, one add-then-remove. */
	assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, 3, "10.2.0.0/24,10.3.0.9/32")), 1);
	wgi_peer_clear(&tmp);
	tmp.flags = 0;
	key_of(k, 5);
	assert_int_equal(wgnl_peerset_remove(s, k), 1);
	assert_int_equal(wgnl_peerset_remove(s, k), 0);
	assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, 5000, "fd00::1/128")), 1);
	wgi_peer_clear(&tmp);
	assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, 5001, "fd00::2/128")), 1);
	wgi_peer_clear(&tmp);
	key_of(k, 5001);
	assert_int_equal(wgnl_peerset_remove(s, k), 1);
	assert_int_equal(wgnl_peerset_pending(s), 4);
	n_sets = 0;
	flush_and_compare(ctx, s, &c);
	assert_int_equal(n_sets, 1);
	assert_int_equal(c.added, 1);
	assert_int_equal(c.updated, 1);
	assert_int_equal(c.removed, 1);

	/* A preshared key and a keepalive, then none again. */
	mk(&tmp, 9, "10.1.0.0/32");
	memset(tmp.preshared_key, 0x5a, WGNL_KEY_LEN);
	tmp.flags |= WGNL_PEER_HAS_PRESHARED_KEY | WGNL_PEER_HAS_KEEPALIVE;
	tmp.persistent_keepalive = 25;
	assert_int_equal(wgnl_peerset_upsert(s, &tmp), 1);
	wgi_peer_clear(&tmp);
	flush_and_compare(ctx, s, &c);
	assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, 9, "10.1.0.0/32")), 1);
	wgi_peer_clear(&tmp);
	flush_and_compare(ctx, s, &c);
	assert_int_equal(c.updated, 1);

	/* Drift: the model loses a peer behind the set's back. */
	key_of(k, 11);
	wgnl_device_remove_peer(model, k);
	{
		struct wgnl_sync_digest want, got;
		struct wgnl_device *info;

		assert_int_equal(wgnl_sync_digest_running(ctx, "wg0", NULL, NULL, &got, &info), 0);
		wgnl_peerset_digest(s, info, &want);
		assert_true(want.a != got.a || want.b != got.b);
		wgnl_device_free(info);
	}

	wgnl_peerset_free(s);
	wgnl_ctx_close(ctx);
	wgnl_device_free(model);
}

static void peerset__mark_sweep__unseen_removed_abort_keeps(void **state)
{
	struct wgnl_peerset *s;
	struct wgnl_peerset_counts c;
	struct wgnl_ctx *ctx;
	struct wgnl_peer tmp;

	(void)state;
	model = wgnl_device_new("wg0");
	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	ctx->ops_override = &fake_ops;
	assert_int_equal(wgnl_peerset_new("wg0", &s), 0);
	for (uint32_t i = 0; i < 100; i++) {
		assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, i, "10.1.0.0/32")), 1);
		wgi_peer_clear(&tmp);
	}
	flush_and_compare(ctx, s, &c);

	/* A failed re-read keeps everything. */
	wgnl_peerset_mark(s);
	wgnl_peerset_unmark(s);
	assert_int_equal(wgnl_peerset_sweep(s), 0);
	assert_int_equal(wgnl_peerset_count(s), 100);

	/* A re-read that sees the even peers only (one of them changed). */
	wgnl_peerset_mark(s);
	for (uint32_t i = 0; i < 100; i += 2) {
		assert_int_equal(wgnl_peerset_upsert(
					 s, mk(&tmp, i, i == 50 ? "10.9.0.0/16" : "10.1.0.0/32")),
				 i == 50);
		wgi_peer_clear(&tmp);
	}
	{
		wgnl_key k99, kx;

		key_of(k99, 99);
		key_of(kx, 12345);
		assert_int_equal(wgnl_peerset_keep(s, k99), 1); /* odd, but kept */
		assert_int_equal(wgnl_peerset_keep(s, kx), 0);
	}
	assert_int_equal(wgnl_peerset_sweep(s), 49);
	flush_and_compare(ctx, s, &c);
	assert_int_equal(c.removed, 49);
	assert_int_equal(c.updated, 1);
	assert_int_equal(wgnl_peerset_count(s), 51);

	/* Bad input never enters. */
	mk(&tmp, 1, "10.1.0.0/32");
	tmp.allowedips[0].cidr = 33;
	assert_int_equal(wgnl_peerset_upsert(s, &tmp), -EINVAL);
	wgi_peer_clear(&tmp);
	assert_int_equal(wgnl_peerset_pending(s), 0);

	wgnl_peerset_free(s);
	wgnl_ctx_close(ctx);
	wgnl_device_free(model);
}

static void peerset__plan_stream__restart_in_step_sends_nothing(void **state)
{
	struct wgnl_peerset *s;
	struct wgnl_peerset_counts c;
	struct wgnl_ctx *ctx;
	struct wgnl_peer tmp;
	struct wgnl_plan *plan;

	(void)state;
	model = wgnl_device_new("wg0");
	assert_int_equal(wgnl_ctx_open(&ctx), 0);
	ctx->ops_override = &fake_ops;
	assert_int_equal(wgnl_peerset_new("wg0", &s), 0);
	for (uint32_t i = 0; i < 300; i++) {
		assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, i, "10.1.0.0/32,fd00::/64")), 1);
		wgi_peer_clear(&tmp);
	}
	flush_and_compare(ctx, s, &c);
	wgnl_peerset_free(s);

	/* A new set (a restarted daemon) with the same peers: an empty plan. */
	assert_int_equal(wgnl_peerset_new("wg0", &s), 0);
	for (uint32_t i = 0; i < 300; i++) {
		assert_int_equal(wgnl_peerset_upsert(s, mk(&tmp, i, "fd00::/64,10.1.0.0/32")), 1);
		wgi_peer_clear(&tmp);
	}
	{
		struct wgnl_device *want;

		assert_int_equal(wgnl_peerset_build(s, &want), 0);
		assert_int_equal(want->n_peers, 300);
		assert_int_equal(wgnl_sync_plan_stream(ctx, want, NULL, 0, &plan, NULL), 0);
		wgnl_device_free(want);
	}
	assert_true(wgnl_plan_is_empty(plan));
	wgnl_plan_free(plan);
	wgnl_peerset_forget_pending(s);
	assert_int_equal(wgnl_peerset_pending(s), 0);
	wgnl_peerset_free(s);
	wgnl_ctx_close(ctx);
	wgnl_device_free(model);
}

/* Random upserts, removals, marks and sweeps against a plain device as the
 * reference: same peers, the digest of the built device is the set's. */
static void peerset__random_churn__same_as_reference(void **state)
{
	struct wgnl_device *ref = wgnl_device_new("wg0"), *built;
	struct wgnl_sync_digest a, b;
	struct wgnl_peerset *s;
	uint32_t st = 12345;

	(void)state;
	assert_int_equal(wgnl_peerset_new("wg0", &s), 0);
	for (int round = 0; round < 40000; round++) {
		uint32_t k, op;
		wgnl_key key;

		st = st * 1103515245u + 12345u;
		k = (st >> 8) % 3000;
		op = (st >> 24) % 8;
		key_of(key, k);
		if (op < 5) {
			struct wgnl_peer tmp, *rp;
			char ips[64];

			snprintf(ips, sizeof(ips),
				 op < 3 ? "10.%u.%u.1/32" : "10.%u.%u.0/24,fd00::%u/128", k / 250,
				 k % 250, op);
			mk(&tmp, k, ips);
			if (op == 4) {
				tmp.flags |= WGNL_PEER_HAS_PRESHARED_KEY;
				memset(tmp.preshared_key, (int)k, WGNL_KEY_LEN);
			}
			assert_true(wgnl_peerset_upsert(s, &tmp) >= 0);
			wgnl_device_remove_peer(ref, key);
			assert_int_equal(wgnl_device_add_peer(ref, key, &rp), 0);
			rp->flags = tmp.flags;
			memcpy(rp->preshared_key, tmp.preshared_key, WGNL_KEY_LEN);
			for (size_t i = 0; i < tmp.n_allowedips; i++)
				assert_int_equal(wgnl_peer_add_allowedip(rp, &tmp.allowedips[i]),
						 0);
			wgi_peer_clear(&tmp);
		} else {
			assert_int_equal(wgnl_peerset_remove(s, key),
					 wgnl_device_find_peer(ref, key) != NULL);
			wgnl_device_remove_peer(ref, key);
		}
		if (round % 997 == 0) {
			struct wgnl_device *d;

			assert_int_equal(wgnl_peerset_delta(s, &d, NULL), 0);
			wgnl_device_free(d);
		}
	}
	assert_int_equal(wgnl_peerset_count(s), ref->n_peers);
	for (size_t i = 0; i < ref->n_peers; i++)
		assert_int_equal(wgnl_peerset_keep(s, ref->peers[i].public_key), 1);
	assert_int_equal(wgnl_peerset_build(s, &built), 0);
	assert_int_equal(built->n_peers, ref->n_peers);
	assert_int_equal(wgnl_sync_digest_device(built, &a), 0);
	assert_int_equal(wgnl_sync_digest_device(ref, &b), 0);
	assert_true(a.a == b.a && a.b == b.b);
	wgnl_peerset_digest(s, NULL, &b);
	assert_true(a.a == b.a && a.b == b.b);
	wgnl_device_free(built);
	/* Sweep all but the even keys. */
	wgnl_peerset_mark(s);
	for (size_t i = 0; i < ref->n_peers; i++) {
		uint32_t k;

		memcpy(&k, ref->peers[i].public_key, sizeof(k));
		if (!(k % 2))
			wgnl_peerset_keep(s, ref->peers[i].public_key);
	}
	wgnl_peerset_sweep(s);
	for (size_t i = 0; i < ref->n_peers; i++) {
		uint32_t k;

		memcpy(&k, ref->peers[i].public_key, sizeof(k));
		assert_int_equal(wgnl_peerset_keep(s, ref->peers[i].public_key), !(k % 2));
	}
	wgnl_peerset_free(s);
	wgnl_device_free(ref);
}

/* The digest by parts: the peers' sum of one set stands in for it in
 * another (a restart that has not read its peers yet), with that set's own
 * fields; has() follows upserts and removals. */
static void peerset__digest_by_parts__stands_in_across_sets(void **state)
{
	struct wgnl_peerset *a = NULL, *b = NULL;
	struct wgnl_sync_digest sum, da, db, empty;
	struct wgnl_peer tmp;
	wgnl_key k;
	size_t n;

	(void)state;
	assert_int_equal(wgnl_peerset_new("ps0", &a), 0);
	assert_int_equal(wgnl_peerset_new("ps0", &b), 0);
	wgnl_peerset_device(a)->listen_port = wgnl_peerset_device(b)->listen_port = 51820;
	wgnl_peerset_device(a)->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	wgnl_peerset_device(b)->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	for (uint32_t i = 0; i < 50; i++) {
		assert_int_equal(wgnl_peerset_upsert(a, mk(&tmp, i, "10.1.0.0/24,fd00::1/128")), 1);
		wgi_peer_clear(&tmp);
	}
	key_of(k, 7);
	assert_true(wgnl_peerset_has(a, k));
	assert_int_equal(wgnl_peerset_remove(a, k), 1);
	assert_false(wgnl_peerset_has(a, k));
	wgnl_peerset_peers_digest(a, &sum, &n);
	assert_int_equal(n, 49);
	wgnl_peerset_digest(a, NULL, &da);
	/* b holds no peer: as if it held a's. */
	wgnl_peerset_digest_as(b, &sum, n, NULL, &db);
	assert_true(da.a == db.a && da.b == db.b);
	wgnl_peerset_digest(b, NULL, &empty);
	assert_false(empty.a == db.a && empty.b == db.b);
	/* Another count, or another own field: another digest. */
	wgnl_peerset_digest_as(b, &sum, n + 1, NULL, &db);
	assert_false(da.a == db.a && da.b == db.b);
	wgnl_peerset_device(b)->listen_port = 51821;
	wgnl_peerset_digest_as(b, &sum, n, NULL, &db);
	assert_false(da.a == db.a && da.b == db.b);
	wgnl_peerset_free(a);
	wgnl_peerset_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(peerset__rows__one_delta_of_changed_peers_digest_in_step),
		cmocka_unit_test(peerset__mark_sweep__unseen_removed_abort_keeps),
		cmocka_unit_test(peerset__plan_stream__restart_in_step_sends_nothing),
		cmocka_unit_test(peerset__random_churn__same_as_reference),
		cmocka_unit_test(peerset__digest_by_parts__stands_in_across_sets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
