// SPDX-License-Identifier: MIT
/* What up, down and the sync plan share: options, events, wg-quick's policy
 * routing for a default route. */
#include <errno.h>
#include <string.h>

#include "core/compat.h"
#include "core/opts.h"
#include "quick.h"

int wgi_quick_opts(struct wgnl_quick_opts *dst, const struct wgnl_quick_opts *o)
{
	if (!o) {
		memset(dst, 0, sizeof(*dst));
		dst->size = sizeof(*dst);
		return 0;
	}
	return wgi_opts_copy(dst, sizeof(*dst), o, WGI_SIZE_0_1(struct wgnl_quick_opts, save_path));
}

int wgi_quick_emit(const struct wgnl_quick_opts *o, const char *ifname, struct wgnl_quick_event ev)
{
	if (!ev.ifname)
		ev.ifname = ifname;
	if (o->event)
		o->event(o->arg, &ev);
	return ev.err;
}

bool wgi_quick_has_default(const struct wgnl_device *dev, uint16_t family)
{
	for (size_t i = 0; i < dev->n_peers; i++)
		for (size_t k = 0; k < dev->peers[i].n_allowedips; k++)
			if (dev->peers[i].allowedips[k].family == family &&
			    dev->peers[i].allowedips[k].cidr == 0)
				return true;
	return false;
}

void wgi_quick_rules(uint16_t family, uint32_t table, struct wgnl_rule out[2])
{
	memset(out, 0, 2 * sizeof(*out));
	/* "not fwmark X table X": everything but the tunnel's own packets
	 * goes to table X, whose only route is the default via the tunnel. */
	out[0].family = family;
	out[0].fwmark = table;
	out[0].invert = true;
	out[0].table = table;
	out[0].suppress_prefixlen = -1;
	/* "table main suppress_prefixlength 0": more specific routes of the
	 * main table still win over that default. */
	out[1].family = family;
	out[1].table = 0;
	out[1].suppress_prefixlen = 0;
}

void wgi_quick_src_valid_mark(const struct wgnl_quick_opts *o, const char *ifname)
{
	/* wg-quick sets it so that reverse-path filtering accepts the replies
	 * that come back through the marked path. */
	int fd = open("/proc/sys/net/ipv4/conf/all/src_valid_mark", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "1", 1) != 1)
		wgi_quick_emit(o, ifname,
			       (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_WARN,
							  .step = WGNL_QUICK_SRC_VALID_MARK,
							  .err = -EIO });
	close(fd);
}

uint32_t wgnl_quick_policy_table(const struct wgnl_config *cfg)
{
	const struct wgnl_device *d = cfg->dev;

	if (cfg->quick.table_mode != WGNL_TABLE_AUTO ||
	    (!wgi_quick_has_default(d, AF_INET) && !wgi_quick_has_default(d, AF_INET6)))
		return 0;
	return d->fwmark ? d->fwmark : d->listen_port ? d->listen_port : WGNL_QUICK_DEFAULT_TABLE;
}
