// SPDX-License-Identifier: MIT
/* The anycast addresses: on [Anycast] Link with valid_lft = preferred_lft =
 * LifetimeSeconds, refreshed by the main loop only while ready. A daemon
 * that is killed, stopped or hung stops refreshing, the kernel removes the
 * addresses LifetimeSeconds later, and BIRD's `protocol direct` withdraws
 * the routes: the node cannot keep attracting traffic it does not serve. */
#include <errno.h>
#include <string.h>

#include "gw.h"

static const char *ptxt(const struct wgnl_prefix *p, char *buf, size_t len)
{
	return wgnl_prefix_format(p, buf, len);
}

int gw_anycast_refresh(struct gw *gw)
{
	const struct gw_conf *c = &gw->conf;
	char txt[INET6_ADDRSTRLEN + 8];
	int first = 0;

	for (size_t i = 0; i < c->n_anycast; i++) {
		int r = wgnl_addr_add_lifetime(gw->ctx, c->anycast_link, &c->anycast[i],
					       c->lifetime_s, c->lifetime_s);

		if (r < 0 && !first) {
			first = r;
			/* Logged on the transition only: the loop retries every
			 * LifetimeSeconds/3 and one line per try would flood. */
			if (gw->now.announced || !gw->anycast)
				gw_log("error", "anycast: cannot add address=%s link=%s: %s",
				       ptxt(&c->anycast[i], txt, sizeof(txt)), c->anycast_link,
				       wgnl_ctx_last_error(gw->ctx)[0] ?
					       wgnl_ctx_last_error(gw->ctx) :
					       strerror(-r));
		}
	}
	/* gw->anycast (edge's private slot) only marks "tried once". */
	gw->anycast = gw;
	if (first < 0) {
		gw->now.announced = false;
		return first;
	}
	gw->now.announced = c->n_anycast > 0;
	return 0;
}

void gw_anycast_withdraw(struct gw *gw)
{
	const struct gw_conf *c = &gw->conf;
	char txt[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < c->n_anycast; i++) {
		int r = wgnl_addr_del(gw->ctx, c->anycast_link, &c->anycast[i]);

		/* Absent already (expired, never added): withdrawn is withdrawn. */
		if (r < 0 && r != -EADDRNOTAVAIL && r != -ENODEV)
			gw_log("error", "anycast: cannot remove address=%s link=%s: %s",
			       ptxt(&c->anycast[i], txt, sizeof(txt)), c->anycast_link,
			       strerror(-r));
	}
	gw->now.announced = false;
}
