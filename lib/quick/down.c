// SPDX-License-Identifier: MIT
/* wg-quick down. SaveConfig first (while the device still exists; if it
 * fails nothing is torn down), PreDown, policy rules, the link (its routes
 * and addresses go with it), DNS, PostDown. Teardown goes on after a failed
 * step and reports it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/compat.h"
#include "quick.h"

/* Write @cfg (wg-quick format) to @path through a 0600 temporary file and a
 * rename. Returns 0 or -errno. */
static int write_file(const char *path, const struct wgnl_config *cfg)
{
	struct wgnl_file_tmp *t;
	char buf[8192];
	FILE *f;
	int fd, r;

	/* Replace the file a symlink points at, not the link; 0600: it holds
	 * the private key. */
	r = wgnl_file_tmp_open(path, WGNL_FILE_FOLLOW | WGNL_FILE_SYNC, &t);
	if (r < 0)
		return r;
	fd = dup(wgnl_file_tmp_fd(t));
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		r = -errno;
		if (fd >= 0)
			close(fd);
		wgnl_file_tmp_abort(t);
		return r;
	}
	/* Our buffer, wiped below: the config holds the private key. */
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	r = wgnl_config_write(f, cfg, WGNL_CONFIG_QUICK);
	if (fflush(f) != 0 && r >= 0)
		r = -errno;
	if (fclose(f) != 0 && r >= 0)
		r = -errno;
	wgnl_wipe(buf, sizeof(buf));
	if (r < 0) {
		wgnl_file_tmp_abort(t);
		return r;
	}
	return wgnl_file_tmp_commit(t);
}

static int save_config(struct wgnl_ctx *ctx, const char *ifname, const char *path,
		       const struct wgnl_config *cfg, struct wgnl_device *cur,
		       const struct wgnl_quick_opts *o)
{
	struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
				       .step = WGNL_QUICK_SAVE_CONFIG,
				       .path = path };
	struct wgnl_prefix *addrs = NULL;
	struct wgnl_config save;
	int n, r;

	wgi_quick_emit(o, ifname, ev);
	n = wgnl_addr_list(ctx, ifname, &addrs);
	if (n < 0)
		return wgi_quick_emit(o, ifname,
				      (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
								 .step = WGNL_QUICK_ADDR_LIST,
								 .err = n,
								 .path = path });
	/* The running device and addresses, the rest of the file's wg-quick
	 * keys as written. Borrowed, not owned: not freed through @save. */
	save.dev = cur;
	save.quick = cfg->quick;
	save.quick.addresses = addrs;
	/* IPv6 link-local addresses come with the link, not from the file. */
	save.quick.n_addresses = 0;
	for (int i = 0; i < n; i++)
		if (!(addrs[i].family == AF_INET6 && addrs[i].ip6.s6_addr[0] == 0xfe &&
		      (addrs[i].ip6.s6_addr[1] & 0xc0) == 0x80))
			addrs[save.quick.n_addresses++] = addrs[i];
	wgnl_device_tidy(cur);
	r = write_file(path, &save);
	wgnl_free(addrs);
	if (r < 0) {
		ev.kind = WGNL_QUICK_EV_FAIL;
		ev.err = r;
		return wgi_quick_emit(o, ifname, ev);
	}
	return 0;
}

/* wg-quick's policy rules for table = fwmark. The "not fwmark T lookup T"
 * rule names this tunnel's table, so it goes in every family where it is
 * (a family whose /0 was edited away still counts); the shared
 * "suppress_prefixlength 0" rule goes where that rule was or a /0 is. */
static int remove_rules(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_device *cur,
			const struct wgnl_quick_opts *o)
{
	static const uint16_t families[] = { AF_INET, AF_INET6 };
	int rc = 0;

	if (!cur->fwmark)
		return 0;
	for (size_t f = 0; f < 2; f++) {
		bool had = wgi_quick_has_default(cur, families[f]);
		struct wgnl_rule rules[2];

		wgi_quick_rules(families[f], cur->fwmark, rules);
		for (int k = 0; k < 2; k++) {
			struct wgnl_quick_event ev = { .kind = WGNL_QUICK_EV_START,
						       .step = WGNL_QUICK_RULE_DEL,
						       .table = cur->fwmark,
						       .rule = rules[k] };

			if (k == 1 && !had)
				break;
			wgi_quick_emit(o, ifname, ev);
			/* Duplicates can exist (an earlier up that was not taken
			 * down): delete until none is left, a bounded number of
			 * times. */
			for (int tries = 0; tries < 16; tries++) {
				int r = wgnl_rule_del(ctx, &rules[k]);

				if (r == -ENOENT)
					break;
				if (r < 0) {
					ev.kind = WGNL_QUICK_EV_FAIL;
					ev.err = r;
					r = wgi_quick_emit(o, ifname, ev);
					rc = rc ? rc : r;
					break;
				}
				had = true;
			}
		}
	}
	return rc;
}

/* Delete the link. A userspace implementation exits when its link goes and
 * removes its socket: wait (bounded) so that an up right after starts
 * afresh. */
static int delete_link(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_quick_opts *o)
{
	bool uapi = wgnl_backend_detect(ctx, ifname) == WGNL_BACKEND_UAPI;
	int r;

	wgi_quick_emit(o, ifname,
		       (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_START,
						  .step = WGNL_QUICK_LINK_DEL });
	r = wgnl_link_del(ctx, ifname);
	for (int i = 0;
	     r >= 0 && uapi && i < 30 && wgnl_backend_detect(ctx, ifname) == WGNL_BACKEND_UAPI; i++)
		usleep(100000);
	if (r < 0)
		return wgi_quick_emit(o, ifname,
				      (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
								 .step = WGNL_QUICK_LINK_DEL,
								 .err = r });
	wgi_quick_emit(o, ifname,
		       (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_DONE,
						  .step = WGNL_QUICK_LINK_DEL });
	return 0;
}

static int down_steps(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_config *cfg,
		      struct wgnl_device *cur, const struct wgnl_quick_opts *o)
{
	const struct wgnl_quick *q = &cfg->quick;
	int first, r;

	/* A config that cannot be saved stops here: tearing down would lose
	 * the runtime changes SaveConfig is there to keep. */
	if (q->save_config && o->save_path) {
		r = save_config(ctx, ifname, o->save_path, cfg, cur, o);
		if (r < 0)
			return r;
	}
	/* From here on: keep going, return the first failure. */
	first = wgi_quick_hooks(o, ifname, "PreDown", q->pre_down, q->n_pre_down);
	if (q->table_mode == WGNL_TABLE_AUTO) {
		r = remove_rules(ctx, ifname, cur, o);
		first = first ? first : r;
	}
	r = delete_link(ctx, ifname, o);
	first = first ? first : r;
	if (q->n_dns && o->dns_unset) {
		wgi_quick_emit(o, ifname,
			       (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_START,
							  .step = WGNL_QUICK_DNS_UNSET });
		r = o->dns_unset(o->arg, ifname);
		if (r < 0)
			r = wgi_quick_emit(o, ifname,
					   (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
								      .step = WGNL_QUICK_DNS_UNSET,
								      .err = r,
								      .by_callback = true });
		first = first ? first : r;
	}
	r = wgi_quick_hooks(o, ifname, "PostDown", q->post_down, q->n_post_down);
	return first ? first : r;
}

int wgnl_quick_down(struct wgnl_ctx *ctx, const char *ifname, const struct wgnl_config *cfg,
		    const struct wgnl_quick_opts *opts)
{
	struct wgnl_device *cur = NULL;
	struct wgnl_quick_opts o;
	int r;

	r = wgi_quick_opts(&o, opts);
	if (r < 0)
		return r;
	r = wgi_quick_hooks_runnable(&o, ifname, "PreDown", cfg->quick.n_pre_down);
	if (!r)
		r = wgi_quick_hooks_runnable(&o, ifname, "PostDown", cfg->quick.n_post_down);
	if (r)
		return r;
	wgi_quick_emit(&o, ifname,
		       (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_START,
						  .step = WGNL_QUICK_DEVICE_GET });
	r = wgnl_device_get(ctx, ifname, &cur);
	if (r < 0)
		return wgi_quick_emit(&o, ifname,
				      (struct wgnl_quick_event){ .kind = WGNL_QUICK_EV_FAIL,
								 .step = WGNL_QUICK_DEVICE_GET,
								 .err = r });
	r = down_steps(ctx, ifname, cfg, cur, &o);
	wgnl_device_free(cur);
	return r;
}
