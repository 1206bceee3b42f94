// SPDX-License-Identifier: MIT
/* Sync: compute the smallest change that turns a running device into the
 * desired one, and apply it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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

static int prefix_qcmp(const void *a, const void *b)
{
	return wgnl_prefix_cmp(a, b);
}

/* Masked, sorted, de-duplicated copy of @p's allowed IPs (what the kernel
 * would hold). Returns the count or -ENOMEM; *out is NULL when empty. */
static ssize_t canonical_ips(const struct wgnl_peer *p, struct wgnl_prefix **out)
{
	struct wgnl_prefix *v;
	size_t n = 0;

	*out = NULL;
	if (!p->n_allowedips)
		return 0;
	v = malloc(p->n_allowedips * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_allowedips; i++) {
		v[i] = p->allowedips[i];
		v[i].flags = 0;
		wgnl_prefix_mask(&v[i]);
	}
	qsort(v, p->n_allowedips, sizeof(*v), prefix_qcmp);
	for (size_t i = 0; i < p->n_allowedips; i++)
		if (!n || wgnl_prefix_cmp(&v[n - 1], &v[i]))
			v[n++] = v[i];
	*out = v;
	return (ssize_t)n;
}

/* Add to @c the allowed-IP change from @run to @want. Returns 1 when there is
 * one, 0 when the sets are equal, or -ENOMEM. */
static int diff_allowedips(struct wgnl_peer *c, const struct wgnl_peer *want,
			   const struct wgnl_peer *run, unsigned flags)
{
	struct wgnl_prefix *w = NULL, *r = NULL;
	ssize_t nw = canonical_ips(want, &w), nr = canonical_ips(run, &r);
	size_t i = 0, j = 0;
	int ret = 0;

	if (nw < 0 || nr < 0) {
		ret = -ENOMEM;
		goto out;
	}
	if (nw == nr && (!nw || !memcmp(w, r, (size_t)nw * sizeof(*w))))
		goto out;
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
		int cmp = i == (size_t)nw ? 1 : j == (size_t)nr ? -1 : wgnl_prefix_cmp(&w[i], &r[j]);

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
	free(w);
	free(r);
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
	const uint8_t *want_psk = (d->flags & WGNL_PEER_HAS_PRESHARED_KEY) ? d->preshared_key : zero;
	const uint8_t *run_psk = (run->flags & WGNL_PEER_HAS_PRESHARED_KEY) ? run->preshared_key : zero;
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

int wgnl_sync_plan(const struct wgnl_device *desired, const struct wgnl_device *running,
		   const struct wgnl_device *last, unsigned flags, struct wgnl_plan **ret)
{
	struct wgnl_plan *plan;
	struct wgnl_device *c;
	int r = -ENOMEM;

	*ret = NULL;
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	c = plan->change = wgnl_device_new(running->name[0] ? running->name : desired->name);
	if (!c)
		goto fail;
	c->ifindex = running->ifindex;
	if ((desired->flags & WGNL_DEV_HAS_PRIVATE_KEY) &&
	    (!(running->flags & WGNL_DEV_HAS_PRIVATE_KEY) ||
	     !wgnl_key_equal(desired->private_key, running->private_key))) {
		memcpy(c->private_key, desired->private_key, WGNL_KEY_LEN);
		c->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
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

	for (size_t i = 0; i < desired->n_peers; i++) {
		const struct wgnl_peer *d = &desired->peers[i];
		const struct wgnl_peer *run = wgnl_device_find_peer(running, d->public_key);

		if (!run) {
			r = copy_peer_full(c, d);
			if (r == -EEXIST)
				continue; /* listed twice in @desired: first wins */
			if (r < 0)
				goto fail;
			plan->n_add++;
		} else {
			r = diff_peer(plan, d, run, last, flags);
			if (r < 0)
				goto fail;
		}
	}
	for (size_t i = 0; i < running->n_peers; i++) {
		const struct wgnl_peer *run = &running->peers[i];
		struct wgnl_peer *p;

		if (wgnl_device_find_peer(desired, run->public_key))
			continue;
		r = wgnl_device_add_peer(c, run->public_key, &p);
		if (r < 0)
			goto fail;
		p->flags |= WGNL_PEER_REMOVE;
		plan->n_remove++;
	}
	*ret = plan;
	return 0;
fail:
	wgnl_plan_free(plan);
	return r < 0 ? r : -ENOMEM;
}

int wgnl_sync_apply(struct wgnl_ctx *ctx, const struct wgnl_plan *plan)
{
	wgi_clear_error(ctx);
	if (wgnl_plan_is_empty(plan))
		return 0;
	return wgnl_set_device(ctx, plan->change);
}
