// SPDX-License-Identifier: MIT
/* Sync: compute the smallest change that turns a running device into the
 * desired one, and apply it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"

static const wgnl_key zero_key;

void wgnl_plan_free(struct wgnl_plan *plan)
{
	if (!plan)
		return;
	wgnl_device_free(plan->change);
	free(plan);
}

bool wgnl_plan_is_empty(const struct wgnl_plan *plan)
{
	return !plan->device_changed && !plan->n_add && !plan->n_remove && !plan->n_update;
}

/* Add to @c the allowed-IP change from @run to @want. Returns 1 when there is
 * one, 0 when the sets are equal, or -ENOMEM. */
static int diff_allowedips(struct wgnl_peer *c, const struct wgnl_peer *want,
			   const struct wgnl_peer *run, unsigned flags)
{
	struct wgnl_prefix ws[WGI_SMALL_IPS], rs[WGI_SMALL_IPS], *wh, *rh, *w, *r;
	ssize_t nw = wgi_peer_canonical_ips(want, ws, &wh, &w),
		nr = wgi_peer_canonical_ips(run, rs, &rh, &r);
	size_t i = 0, j = 0;
	int ret = 0;

	if (nw < 0 || nr < 0) {
		ret = -ENOMEM;
		goto out;
	}
	if (nw == nr) {
		/* Element-wise: the union behind an IPv4 address may hold
		 * anything, so no memcmp of whole prefixes. */
		while (i < (size_t)nw && !wgnl_prefix_cmp(&w[i], &r[i]))
			i++;
		if (i == (size_t)nw)
			goto out;
		i = 0;
	}
	ret = 1;
	if (!(flags & WGNL_SYNC_ALLOWEDIP_REMOVE)) {
		c->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
		for (i = 0; i < (size_t)nw && ret > 0; i++)
			if (wgnl_peer_add_allowedip(c, &w[i]) < 0)
				ret = -ENOMEM;
		goto out;
	}
	/* Merge walk over both sorted sets. */
	while ((i < (size_t)nw || j < (size_t)nr) && ret > 0) {
		int cmp = i == (size_t)nw ? 1 :
			  j == (size_t)nr ? -1 :
					    wgnl_prefix_cmp(&w[i], &r[j]);

		if (cmp == 0) {
			i++, j++;
		} else if (cmp < 0) {
			if (wgnl_peer_add_allowedip(c, &w[i++]) < 0)
				ret = -ENOMEM;
		} else {
			struct wgnl_prefix gone = r[j++];

			gone.flags = WGNL_PREFIX_REMOVE;
			if (wgnl_peer_add_allowedip(c, &gone) < 0)
				ret = -ENOMEM;
		}
	}
out:
	free(wh);
	free(rh);
	return ret;
}

static int copy_peer_full(struct wgnl_device *change, const struct wgnl_peer *d)
{
	struct wgnl_peer *c;
	int r = wgnl_device_add_peer(change, d->public_key, &c);

	if (r < 0)
		return r;
	c->flags |= WGNL_PEER_REPLACE_ALLOWEDIPS;
	if ((d->flags & WGNL_PEER_HAS_PRESHARED_KEY) && !wgnl_key_is_zero(d->preshared_key)) {
		memcpy(c->preshared_key, d->preshared_key, WGNL_KEY_LEN);
		c->flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	}
	if ((d->flags & WGNL_PEER_HAS_ENDPOINT) && d->endpoint.addr.sa_family) {
		c->endpoint = d->endpoint;
		c->flags |= WGNL_PEER_HAS_ENDPOINT;
	}
	if ((d->flags & WGNL_PEER_HAS_KEEPALIVE) && d->persistent_keepalive) {
		c->persistent_keepalive = d->persistent_keepalive;
		c->flags |= WGNL_PEER_HAS_KEEPALIVE;
	}
	for (size_t i = 0; i < d->n_allowedips; i++) {
		struct wgnl_prefix p = d->allowedips[i];

		p.flags = 0;
		r = wgnl_peer_add_allowedip(c, &p);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool has_endpoint(const struct wgnl_peer *p)
{
	return p && (p->flags & WGNL_PEER_HAS_ENDPOINT) && p->endpoint.addr.sa_family;
}

/* Compare one peer present on both sides; add the differences to @change. */
static int diff_peer(struct wgnl_plan *plan, const struct wgnl_peer *d, const struct wgnl_peer *run,
		     const struct wgnl_device *last, unsigned flags)
{
	static const wgnl_key zero;
	struct wgnl_peer tmp = { 0 }, *c;
	const uint8_t *want_psk = (d->flags & WGNL_PEER_HAS_PRESHARED_KEY) ? d->preshared_key :
									     zero;
	const uint8_t *run_psk = (run->flags & WGNL_PEER_HAS_PRESHARED_KEY) ? run->preshared_key :
									      zero;
	uint16_t want_ka = (d->flags & WGNL_PEER_HAS_KEEPALIVE) ? d->persistent_keepalive : 0;
	bool changed = false;
	int r;

	if (!wgnl_key_equal(want_psk, run_psk)) {
		memcpy(tmp.preshared_key, want_psk, WGNL_KEY_LEN);
		tmp.flags |= WGNL_PEER_HAS_PRESHARED_KEY;
		changed = true;
	}
	if (want_ka != run->persistent_keepalive) {
		tmp.persistent_keepalive = want_ka;
		tmp.flags |= WGNL_PEER_HAS_KEEPALIVE;
		changed = true;
	}
	if (has_endpoint(d)) {
		bool send;

		if (!has_endpoint(run)) {
			send = true;
		} else if (last) {
			const struct wgnl_peer *l = wgnl_device_find_peer(last, d->public_key);

			/* Only a change of the desired endpoint counts, never
			 * a difference the peer's roaming caused. */
			send = !has_endpoint(l) || !wgnl_endpoint_equal(&l->endpoint, &d->endpoint);
		} else {
			send = !wgnl_endpoint_equal(&run->endpoint, &d->endpoint);
		}
		if (send) {
			tmp.endpoint = d->endpoint;
			tmp.flags |= WGNL_PEER_HAS_ENDPOINT;
			changed = true;
		}
	}
	r = diff_allowedips(&tmp, d, run, flags);
	if (r < 0)
		goto out;
	changed |= r > 0;
	if (!changed) {
		plan->n_unchanged++;
		r = 0;
		goto out;
	}
	r = wgnl_device_add_peer(plan->change, d->public_key, &c);
	if (r < 0)
		goto out;
	/* Hand the allowed IPs over rather than copying them. */
	tmp.flags |= c->flags | WGNL_PEER_UPDATE_ONLY;
	memcpy(tmp.public_key, c->public_key, WGNL_KEY_LEN);
	*c = tmp;
	memset(&tmp, 0, sizeof(tmp));
	plan->n_update++;
out:
	wgi_peer_clear(&tmp);
	return r;
}

static int plan_new(const char *name, uint32_t ifindex, struct wgnl_plan **ret)
{
	struct wgnl_plan *plan = calloc(1, sizeof(*plan));

	*ret = NULL;
	if (!plan)
		return -ENOMEM;
	plan->change = wgnl_device_new(name);
	if (!plan->change) {
		free(plan);
		return -ENOMEM;
	}
	plan->change->ifindex = ifindex;
	*ret = plan;
	return 0;
}

/* The device fields @desired has (HAS_*) that differ from @running. */
static void diff_device(struct wgnl_plan *plan, const struct wgnl_device *desired,
			const struct wgnl_device *running)
{
	struct wgnl_device *c = plan->change;

	/* A device without a private key reports none: that equals a desired
	 * "no key" (all zero). Implementations clamp the key they are given
	 * and report it clamped: compare clamped, or an unclamped key in a file
	 * would be "changed" on every run (and a changed private key makes the
	 * kernel recompute every peer's static-static secret). */
	if (desired->flags & WGNL_DEV_HAS_PRIVATE_KEY) {
		wgnl_key want;

		memcpy(want, desired->private_key, WGNL_KEY_LEN);
		if (!wgnl_key_is_zero(want)) {
			want[0] &= 248;
			want[31] = (uint8_t)((want[31] & 127) | 64);
		}
		if (!wgnl_key_equal(want, (running->flags & WGNL_DEV_HAS_PRIVATE_KEY) ?
						  running->private_key :
						  zero_key)) {
			memcpy(c->private_key, desired->private_key, WGNL_KEY_LEN);
			c->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
		}
		wgnl_wipe(want, sizeof(want));
	}
	if ((desired->flags & WGNL_DEV_HAS_LISTEN_PORT) &&
	    desired->listen_port != running->listen_port) {
		c->listen_port = desired->listen_port;
		c->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	}
	if ((desired->flags & WGNL_DEV_HAS_FWMARK) && desired->fwmark != running->fwmark) {
		c->fwmark = desired->fwmark;
		c->flags |= WGNL_DEV_HAS_FWMARK;
	}
	plan->device_changed = c->flags != 0;
}

static int plan_removal(struct wgnl_plan *plan, const wgnl_key pub)
{
	struct wgnl_peer *p;
	int r = wgnl_device_add_peer(plan->change, pub, &p);

	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return r;
	p->flags |= WGNL_PEER_REMOVE;
	plan->n_remove++;
	return 0;
}

static int plan_add(struct wgnl_plan *plan, const struct wgnl_peer *d)
{
	int r = copy_peer_full(plan->change, d);

	if (r == -EEXIST)
		return 0; /* listed twice in the desired device: first wins */
	if (r < 0)
		return r;
	plan->n_add++;
	return 0;
}

int wgnl_sync_plan(const struct wgnl_device *desired, const struct wgnl_device *running,
		   const struct wgnl_device *last, unsigned flags, struct wgnl_plan **ret)
{
	struct wgnl_plan *plan;
	int r;

	*ret = NULL;
	r = plan_new(running->name[0] ? running->name : desired->name, running->ifindex, &plan);
	if (r < 0)
		return r;
	diff_device(plan, desired, running);
	for (size_t i = 0; i < desired->n_peers; i++) {
		const struct wgnl_peer *d = &desired->peers[i];
		const struct wgnl_peer *run = wgnl_device_find_peer(running, d->public_key);

		r = run ? diff_peer(plan, d, run, last, flags) : plan_add(plan, d);
		if (r < 0)
			goto fail;
	}
	for (size_t i = 0; i < running->n_peers; i++) {
		if (wgnl_device_find_peer(desired, running->peers[i].public_key))
			continue;
		r = plan_removal(plan, running->peers[i].public_key);
		if (r < 0)
			goto fail;
	}
	*ret = plan;
	return 0;
fail:
	wgnl_plan_free(plan);
	return r;
}

/* ------------------------------------------------------------ streaming */

struct stream_plan {
	const struct wgnl_device *desired, *last;
	unsigned flags;
	const char *ifname;
	struct wgnl_plan *plan;
	uint8_t *seen; /* per desired peer */
};

static int stream_plan_cb(const struct wgnl_device *dev, const struct wgnl_peer *run, void *data)
{
	struct stream_plan *sp = data;
	const struct wgnl_peer *d;
	size_t pos;

	(void)dev;
	if (!run) {
		/* The dump restarts: so does the plan. */
		wgnl_plan_free(sp->plan);
		if (sp->desired->n_peers)
			memset(sp->seen, 0, sp->desired->n_peers);
		return plan_new(sp->ifname, 0, &sp->plan);
	}
	d = wgnl_device_find_peer(sp->desired, run->public_key);
	if (!d)
		return plan_removal(sp->plan, run->public_key);
	pos = (size_t)(d - sp->desired->peers);
	if (sp->seen[pos])
		return 0;
	sp->seen[pos] = 1;
	return diff_peer(sp->plan, d, run, sp->last, sp->flags);
}

int wgnl_sync_plan_stream(struct wgnl_ctx *ctx, const struct wgnl_device *desired,
			  const struct wgnl_device *last, unsigned flags, struct wgnl_plan **ret,
			  struct wgnl_device **running)
{
	struct stream_plan sp = {
		.desired = desired, .last = last, .flags = flags, .ifname = desired->name
	};
	struct wgnl_device *info = NULL;
	int r;

	*ret = NULL;
	if (running)
		*running = NULL;
	sp.seen = calloc(desired->n_peers ? desired->n_peers : 1, 1);
	if (!sp.seen)
		return -ENOMEM;
	r = plan_new(desired->name, 0, &sp.plan);
	if (r == 0)
		r = wgnl_device_get_stream(ctx, desired->name, stream_plan_cb, &sp, &info);
	if (r == 0) {
		sp.plan->change->ifindex = info->ifindex;
		diff_device(sp.plan, desired, info);
		for (size_t i = 0; i < desired->n_peers && r == 0; i++)
			if (!sp.seen[i])
				r = plan_add(sp.plan, &desired->peers[i]);
	}
	free(sp.seen);
	if (r < 0) {
		wgnl_plan_free(sp.plan);
		wgnl_device_free(info);
		return r;
	}
	*ret = sp.plan;
	if (running)
		*running = info;
	else
		wgnl_device_free(info);
	return 0;
}

int wgnl_sync_apply(struct wgnl_ctx *ctx, const struct wgnl_plan *plan)
{
	wgi_clear_error(ctx);
	if (wgnl_plan_is_empty(plan))
		return 0;
	return wgnl_device_set(ctx, plan->change);
}
