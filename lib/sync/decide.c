// SPDX-License-Identifier: MIT
/* Which way a sync goes, and what it compares: the decisions `wgctl sync`
 * takes between reading a file and printing, for any caller that holds a
 * desired config (from a file or from memory). */
#include <errno.h>
#include <string.h>

#include "wgkit/wgnl_quick.h"
#include "wgkit/wgnl_sync.h"

bool wgnl_sync_config_is_quick(const struct wgnl_config *cfg, unsigned flags)
{
	const struct wgnl_quick *q = &cfg->quick;

	return (flags & WGNL_SYNC_QUICK) || q->n_addresses || q->mtu ||
	       q->table_mode != WGNL_TABLE_AUTO || q->n_dns;
}

void wgnl_sync_config_prepare(struct wgnl_config *cfg, unsigned flags)
{
	uint32_t ptable;

	wgnl_config_apply_semantics(cfg->dev, WGNL_SEM_SYNCCONF);
	/* wg-quick's policy routing marks the tunnel's packets, as `up` did. */
	ptable = wgnl_sync_config_is_quick(cfg, flags) ? wgnl_quick_policy_table(cfg) : 0;
	if (ptable)
		cfg->dev->fwmark = ptable;
}

/* The record serves the routes of a wg-quick file and the endpoints (was
 * one changed in the file, or did the peer roam?): a file without
 * endpoints never reads it. */
static bool needs_record(const struct wgnl_config *cfg, unsigned flags)
{
	if (wgnl_sync_config_is_quick(cfg, flags))
		return true;
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		if (cfg->dev->peers[i].flags & WGNL_PEER_HAS_ENDPOINT)
			return true;
	return false;
}

unsigned wgnl_sync_plan_flags(struct wgnl_ctx *ctx, const char *ifname, unsigned flags)
{
	int caps;

	if (flags & WGNL_SYNC_NO_DELTA)
		return 0;
	caps = wgnl_device_caps(ctx, ifname);
	return caps > 0 && (caps & WGNL_CAP_ALLOWEDIP_REMOVE) ? WGNL_SYNC_ALLOWEDIP_REMOVE : 0;
}

int wgnl_sync_full_plan(struct wgnl_ctx *ctx, struct wgnl_config *cfg, const char *dir,
			unsigned flags, const struct wgnl_quick_opts *qopts,
			struct wgnl_sync_full *out)
{
	unsigned pflags;
	int r;

	memset(out, 0, sizeof(*out));
	wgnl_sync_config_prepare(cfg, flags);
	/* A record that cannot be read is planned without (as a first sync):
	 * the caller hears why in record_err. */
	if (dir && needs_record(cfg, flags))
		out->record_err = wgnl_sync_record_load(dir, cfg->dev->name, &out->last);
	pflags = wgnl_sync_plan_flags(ctx, cfg->dev->name, flags);
	out->delta = pflags & WGNL_SYNC_ALLOWEDIP_REMOVE;
	/* The running peers are compared as the dump streams in: memory stays
	 * at the config plus the plan. */
	r = wgnl_sync_plan_stream(ctx, cfg->dev, out->last ? out->last->dev : NULL, pflags,
				  &out->plan, &out->running);
	if (r < 0)
		return r;
	if (wgnl_sync_config_is_quick(cfg, flags)) {
		r = wgnl_quick_plan(ctx, cfg, out->last, out->running->fwmark, qopts, &out->quick);
		out->quick_failed = r < 0;
		if (r < 0)
			return r;
	}
	out->changed = !wgnl_plan_is_empty(out->plan) || !wgnl_quick_plan_is_empty(out->quick);
	return 0;
}

int wgnl_sync_full_apply(struct wgnl_ctx *ctx, const struct wgnl_config *cfg,
			 struct wgnl_sync_full *f, const struct wgnl_quick_opts *qopts)
{
	const char *ifname = cfg->dev->name;
	int r;

	/* The rules that go before the fwmark changes, the routes after the
	 * peers they lead to. */
	f->quick_failed = true;
	r = wgnl_quick_apply(ctx, ifname, f->quick, WGNL_QUICK_BEFORE_DEVICE, qopts);
	if (r < 0)
		return r;
	f->quick_failed = false;
	r = wgnl_sync_apply(ctx, f->plan);
	if (r < 0)
		return r;
	f->quick_failed = true;
	r = wgnl_quick_apply(ctx, ifname, f->quick, WGNL_QUICK_AFTER_DEVICE, qopts);
	if (r < 0)
		return r;
	f->quick_failed = false;
	return 0;
}

void wgnl_sync_full_clear(struct wgnl_sync_full *f)
{
	if (!f)
		return;
	wgnl_quick_plan_free(f->quick);
	wgnl_plan_free(f->plan);
	wgnl_device_free(f->running);
	wgnl_config_free(f->last);
	memset(f, 0, sizeof(*f));
}

/* With a .fast digest, the file's hash tells whether it changed, and when
 * it did and the record is that last file (version 2), which [Peer]
 * sections differ, parsed (only those: the new ones from the file, the old
 * ones from the record). Then:
 *  - same file, device digest as recorded: nothing to do ("fast");
 *  - changed file, same [Interface], device digest as recorded: the plan
 *    is the difference between the changed sections ("incremental"), the
 *    old ones standing for the running peers (the digest proves they do);
 *  - anything else: the full path (the whole file parsed, planned against
 *    a fresh dump). */
int wgnl_sync_path_choose(struct wgnl_ctx *ctx, const char *ifname,
			  const struct wgnl_sync_dump *dump, const struct wgnl_device *info,
			  const struct wgnl_sync_digest *rec_run, bool same,
			  struct wgnl_sync_delta *d, unsigned flags, struct wgnl_plan **ret,
			  struct wgnl_sync_digest *expect)
{
	struct wgnl_sync_digest run;
	int r;

	*ret = NULL;
	wgnl_sync_dump_digest(dump, info, &run);
	/* Changed behind our back: the full path repairs it. */
	if (run.a != rec_run->a || run.b != rec_run->b)
		return WGNL_SYNC_PATH_FULL;
	/* The same file, a device unchanged since. */
	if (same)
		return WGNL_SYNC_PATH_FAST;
	if (!d)
		return WGNL_SYNC_PATH_FULL;
	r = wgnl_sync_delta_plan(d, dump, info, wgnl_sync_plan_flags(ctx, ifname, flags), ret,
				 expect);
	if (r == -EAGAIN)
		return WGNL_SYNC_PATH_FULL;
	return r < 0 ? r : WGNL_SYNC_PATH_INCREMENTAL;
}

int wgnl_sync_delta_applied(const char *dir, const char *ifname, struct wgnl_sync_stage *stage,
			    const struct wgnl_sync_text *now, const struct wgnl_sync_digest *expect)
{
	struct wgnl_sync_digest fh = { now->text_h[0], now->text_h[1] };
	int r = stage ? wgnl_sync_stage_commit(stage) :
			wgnl_sync_record_save_text(dir, ifname, now, WGNL_SYNC_RECORD_FORCE);

	/* Without the record, neither quick path may be taken next time. */
	if (r < 0)
		wgnl_sync_fast_forget(dir, ifname);
	else
		wgnl_sync_fast_save(dir, ifname, &fh, expect);
	return r;
}
