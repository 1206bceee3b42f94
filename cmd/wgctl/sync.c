// SPDX-License-Identifier: MIT
/* wgctl sync: make an interface match a file while sending only what
 * differs (wgnl_sync_plan), keeping endpoints that peers roamed to, and for
 * a wg-quick config also its addresses, MTU and routes. The desired state
 * applied last is recorded (without keys) so that the next run can tell a
 * changed Endpoint line from a roamed peer. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "quick.h"
#include "wgctl.h"
#include "record.h"
#include "synctext.h"

/* The plan of a file that is no wg-quick config: nothing around the device. */
static const struct wgnl_quick_plan no_quick;

struct sync_opts {
	const char *ifname, *path, *state_dir;
	bool plan_only, plan_text, detailed, stats, no_state;
	/* The file `wgctl up` brought this interface up from: a wg-quick
	 * config whatever keys it holds (routes and policy routing follow it,
	 * as down + up would), and never a fast or incremental path. */
	bool up_file;
	struct wgctl_limits limits;
};

/* Record and config files are read whole, to EOF (a config may come from a
 * pipe), up to this size. */
#define SYNC_MAX_FILE (256U << 20)

/* Read the whole record (NULL when there is none). */
static int read_record(const char *path, char **text, size_t *len)
{
	int r = wgnl_file_read(path, SYNC_MAX_FILE, text, len);

	return r == -ENOENT ? 0 : r;
}

/* The digest on the record's first line into @out ("" when there is none). */
static void record_digest(const char *path, char *out, size_t len)
{
	char line[128];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	out[0] = '\0';
	if (fd < 0)
		return;
	n = pread(fd, line, sizeof(line), 0);
	close(fd);
	if (n > 0)
		rec_digest_parse(line, (size_t)n, out, len);
}

/* Remove what a wgctl killed between state_tmp() and state_commit() left:
 * <IF><suffix>.tmp.XXXXXX, or <IF><suffix>.XXXXXX from earlier versions (the
 * incremental path stages the next record before it applies). Only under the interface's lock, where no other wgctl writes
 * them; a name that fits no other interface's file. Best effort. */
static void state_sweep(const char *dir, const char *ifname)
{
	static const char *const sfx[] = { ".conf", ".sec", ".fast", ".path" };
	size_t n = strlen(ifname);
	struct dirent *de;
	DIR *d = opendir(state_dir(dir));

	if (!d)
		return;
	while ((de = readdir(d))) {
		const char *rest = de->d_name + n;

		if (strncmp(de->d_name, ifname, n))
			continue;
		for (size_t i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
			size_t k = strlen(sfx[i]);

			const char *x = rest + k + 1;

			if (strncmp(rest, sfx[i], k) || rest[k] != '.')
				continue;
			if (!strncmp(x, "tmp.", 4))
				x += 4;
			if (strlen(x) != 6 ||
			    strspn(x, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				      "0123456789") != 6)
				continue;
			unlinkat(dirfd(d), de->d_name, 0);
			break;
		}
	}
	closedir(d);
}

/* ------------------------------------------------------- the fast path */
/* A no-op sync is the common case (a control plane re-applying the same
 * file): parsing a 100k-peer file costs more than dumping the device. So
 * after each sync the record keeps, in <IF>.fast, a hash of the file's
 * canonical text (synctext.h: comments and blank lines do not count) and
 * the digest the device must have when it still equals the file
 * (peers, keys, allowed IPs, keepalive, port, fwmark; endpoints left out as
 * roaming changes them and they are sent only when the file changes). When
 * both match, nothing is parsed and nothing is sent. Files with endpoint
 * host names never take this path (a name may resolve differently now). */

static void hash_word(struct digest128 *h, uint64_t w)
{
	h->a = st_mix64(h->a ^ w);
	h->b = st_mix64(h->b + w + 0x9e3779b97f4a7c15ULL);
}

static void hash_words(struct digest128 *h, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t w;

	while (len) {
		size_t n = len < 8 ? len : 8;

		w = 0;
		memcpy(&w, b, n);
		hash_word(h, w ^ (uint64_t)n << 59);
		b += n;
		len -= n;
	}
}

static int prefix_sort(const void *x, const void *y)
{
	return wgnl_prefix_cmp(x, y);
}

/* Order-independent digest of a device as the kernel would hold it: a sum
 * of per-peer hashes (peer_digest_add), then the device's own fields
 * (digest_finish). */
static int peer_digest_add(struct digest128 *sum, const struct wgnl_peer *p)
{
	struct wgnl_prefix small[8], *v = small;
	struct digest128 h = { 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL };
	bool psk = (p->flags & WGNL_PEER_HAS_PRESHARED_KEY) && !wgnl_key_is_zero(p->preshared_key);
	uint16_t ka = (p->flags & WGNL_PEER_HAS_KEEPALIVE) ? p->persistent_keepalive : 0;
	uint64_t w[4];
	size_t n = 0;

	/* Called once per running peer on every sync: word by word, no
	 * buffer. The key, then keepalive and whether there is a preshared
	 * key, then (only) a cryptographic hash of that key. */
	memcpy(w, p->public_key, sizeof(w));
	for (int i = 0; i < 4; i++)
		hash_word(&h, w[i]);
	hash_word(&h, (uint64_t)ka | (uint64_t)psk << 16);
	if (psk) {
		uint8_t d[32];

		if (st_secret_hash(d, p->preshared_key) < 0)
			return -EIO;
		memcpy(w, d, sizeof(w));
		for (int i = 0; i < 4; i++)
			hash_word(&h, w[i]);
	}
	if (p->n_allowedips > 8 && !(v = malloc(p->n_allowedips * sizeof(*v))))
		return -ENOMEM;
	for (size_t k = 0; k < p->n_allowedips; k++) {
		v[k] = p->allowedips[k];
		v[k].flags = 0;
		wgnl_prefix_mask(&v[k]);
	}
	if (p->n_allowedips > 1)
		qsort(v, p->n_allowedips, sizeof(*v), prefix_sort);
	for (size_t k = 0; k < p->n_allowedips; k++) {
		if (n && !wgnl_prefix_cmp(&v[n - 1], &v[k]))
			continue;
		v[n++] = v[k];
		if (v[k].family == AF_INET) {
			uint32_t a;

			memcpy(&a, &v[k].ip4, 4);
			hash_word(&h, (uint64_t)a | (uint64_t)v[k].cidr << 32 | 4ULL << 40);
		} else {
			memcpy(w, &v[k].ip6, 16);
			hash_word(&h, w[0]);
			hash_word(&h, w[1]);
			hash_word(&h, (uint64_t)v[k].cidr | 6ULL << 40);
		}
	}
	if (v != small)
		free(v);
	sum->a += st_mix64(h.a);
	sum->b += st_mix64(h.b ^ n);
	return 0;
}

/* The device's identity enters as its public key: no secret goes in. */
static void digest_finish(struct digest128 *sum, size_t n_peers, const uint8_t *public_key,
			  uint16_t port, uint32_t fwmark)
{
	uint8_t dev[40] = { 0 };

	memcpy(dev, public_key, WGNL_KEY_LEN);
	memcpy(dev + 32, &port, 2);
	memcpy(dev + 36, &fwmark, 4);
	hash_words(sum, dev, sizeof(dev));
	wgnl_wipe(dev, sizeof(dev));
	sum->a = st_mix64(sum->a ^ n_peers);
}

static int device_digest(const struct wgnl_device *d, const uint8_t *public_key, uint16_t port,
			 uint32_t fwmark, struct digest128 *out)
{
	struct digest128 sum = { 0, 0 };

	for (size_t i = 0; i < d->n_peers; i++)
		if (peer_digest_add(&sum, &d->peers[i]) < 0)
			return -ENOMEM;
	digest_finish(&sum, d->n_peers, public_key, port, fwmark);
	*out = sum;
	return 0;
}

/* The device's public key (derived when a backend reports only the
 * private key), all zero without one. */
static const uint8_t *identity(struct wgnl_device *d)
{
	static const wgnl_key zero;

	if (!(d->flags & WGNL_DEV_HAS_PUBLIC_KEY) && (d->flags & WGNL_DEV_HAS_PRIVATE_KEY) &&
	    !wgnl_key_is_zero(d->private_key) &&
	    wgnl_key_public_from_private(d->public_key, d->private_key) == 0)
		d->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
	return (d->flags & WGNL_DEV_HAS_PUBLIC_KEY) ? d->public_key : zero;
}

/* What the dump digests to once @want (wg syncconf semantics) is applied
 * over @before. */
static int expected_digest(struct wgnl_device *want, const struct wgnl_device *before,
			   struct digest128 *out)
{
	static const wgnl_key zero;

	return device_digest(want, wgnl_key_is_zero(want->private_key) ? zero : identity(want),
			     (want->flags & WGNL_DEV_HAS_LISTEN_PORT) ? want->listen_port :
									before->listen_port,
			     want->fwmark, out);
}

static bool has_names(const struct wgnl_config *cfg)
{
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		if (cfg->dev->peers[i].endpoint_name)
			return true;
	return false;
}

static bool fast_read(const char *dir, const char *ifname, struct digest128 *file,
		      struct digest128 *run)
{
	char path[PATH_MAX], *buf = NULL;
	size_t len;
	bool ok;

	if (state_file(path, sizeof(path), dir, ifname, ".fast") < 0 ||
	    wgnl_file_read(path, 256, &buf, &len) < 0)
		return false;
	ok = rec_fast_parse(buf, len, file, run) == 0;
	wgnl_free(buf);
	return ok;
}

static void fast_write(const char *dir, const char *ifname, const struct digest128 *file,
		       const struct digest128 *run)
{
	char line[96];
	int n = snprintf(line, sizeof(line), FAST_FMT, (unsigned long long)file->a,
			 (unsigned long long)file->b, (unsigned long long)run->a,
			 (unsigned long long)run->b);

	/* A lost or stale .fast file only costs the full path next time. */
	if (write_state_file(dir, ifname, ".fast", line, (size_t)n, false) < 0)
		fast_forget(dir, ifname);
}

/* ------------------------------------------------ the record, version 2 */
/* For a plain config without endpoint host names the record is the file
 * itself in canonical form (synctext.c: comments dropped, lines trimmed,
 * private and preshared keys replaced by their hash), after a first line
 * naming the hash of that canonical text. It parses as the desired state last
 * applied, like version 1, and it lets the next sync of an edited file
 * parse only the [Peer] sections that changed. */

/* Next to it, <IF>.sec (record.h): where each [Peer] section stands in the
 * record and its hash, so that the next sync finds the changed sections
 * without reading the record, then reads only those. */

/* Does the record open on @fd start with the header of canonical text @h? */
static bool record2_fd_is(int fd, const uint64_t h[2])
{
	char head[RECORD2_HEAD_LEN + 8], line[sizeof(head)];
	size_t n;

	rec2_header(head, sizeof(head), h);
	n = strlen(head);
	return pread(fd, line, n, 0) == (ssize_t)n && !memcmp(line, head, n);
}

/* Is the record at @path version 2 of canonical text @h? */
static bool record2_current(const char *path, const uint64_t h[2])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool is;

	if (fd < 0)
		return false;
	is = record2_fd_is(fd, h);
	close(fd);
	return is;
}

/* Read <IF>.sec when it describes canonical text @h: its entries (caller
 * frees) and count, the [Interface] part's hash and the size the record
 * must have (rec_sec_parse() checks every entry). */
static int sec_read(const char *dir, const char *ifname, const uint64_t h[2],
		    struct st_section **ret, size_t *n, uint64_t iface_h[2], uint64_t *rec_size)
{
	char path[PATH_MAX], *buf;
	size_t len;
	int r;

	*ret = NULL;
	if (state_file(path, sizeof(path), dir, ifname, ".sec") < 0)
		return -ENAMETOOLONG;
	r = wgnl_file_read(path, SYNC_MAX_FILE, &buf, &len);
	if (r < 0)
		return r;
	r = rec_sec_parse(buf, len, h, ret, n, iface_h, rec_size);
	wgnl_free(buf);
	return r;
}

/* Write the version 2 record of canonical text @t and its .sec file to
 * temporary files (*rec_tmp and *sec_tmp, NULL on failure): record2_commit()
 * puts them in place once the device holds @t. */
static int record2_prepare(const char *dir, const char *ifname, const struct st_text *t,
			   struct wgnl_file_tmp **rec_tmp, struct wgnl_file_tmp **sec_tmp)
{
	char head[RECORD2_HEAD_LEN + 8];
	struct iovec v[2];
	struct sec_head sh;
	struct sec_ent *e;
	size_t n;
	int r;

	rec2_header(head, sizeof(head), t->text_h);
	n = strlen(head);
	v[0] = (struct iovec){ head, n };
	v[1] = (struct iovec){ t->san, t->san_len };
	r = state_tmp(dir, ifname, ".conf", v, 2, true, rec_tmp);
	if (r < 0)
		return r;
	*sec_tmp = NULL;
	e = calloc(t->n_sec + 1, sizeof(*e));
	if (!e) {
		wgnl_file_tmp_abort(*rec_tmp);
		*rec_tmp = NULL;
		return -ENOMEM;
	}
	memset(&sh, 0, sizeof(sh));
	memcpy(sh.magic, SEC_MAGIC, 8);
	memcpy(sh.text_h, t->text_h, sizeof(sh.text_h));
	memcpy(sh.iface_h, t->iface_h, sizeof(sh.iface_h));
	sh.n = t->n_sec;
	for (size_t i = 0; i < t->n_sec; i++) {
		e[i].h[0] = t->sec[i].h[0];
		e[i].h[1] = t->sec[i].h[1];
		e[i].off = n + t->sec[i].san_off;
		e[i].len = t->sec[i].san_len;
	}
	v[0] = (struct iovec){ &sh, sizeof(sh) };
	v[1] = (struct iovec){ e, t->n_sec * sizeof(*e) };
	r = state_tmp(dir, ifname, ".sec", v, 2, false, sec_tmp);
	free(e);
	if (r < 0) {
		wgnl_file_tmp_abort(*rec_tmp);
		*rec_tmp = NULL;
	}
	return r;
}

/* The record first: a .sec file that does not match it is ignored. */
static int record2_commit(struct wgnl_file_tmp *rec_tmp, struct wgnl_file_tmp *sec_tmp)
{
	int r = state_commit(rec_tmp);

	if (r < 0) {
		wgnl_file_tmp_abort(sec_tmp);
		return r;
	}
	/* Without it the next sync takes the full path, nothing worse. */
	return state_commit(sec_tmp);
}

static int record2_write(const char *dir, const char *ifname, const struct st_text *t)
{
	struct wgnl_file_tmp *rec_tmp, *sec_tmp;
	int r = record2_prepare(dir, ifname, t, &rec_tmp, &sec_tmp);

	return r < 0 ? r : record2_commit(rec_tmp, sec_tmp);
}

/* -------------------------------------------------------------- wg-quick */

static bool is_quick(const struct sync_opts *o, const struct wgnl_config *cfg)
{
	const struct wgnl_quick *q = &cfg->quick;

	return o->up_file || q->n_addresses || q->mtu || q->table_mode != WGNL_TABLE_AUTO ||
	       q->n_dns;
}

/* The wg-quick part of a sync runs in the library (wgnl_quick_plan(),
 * wgnl_quick_apply()); here: its error and warning lines. */
struct quick_sync {
	struct wgnl_ctx *ctx;
	int rc; /* the failure's exit code */
};

static int quick_fail_line(struct wgnl_ctx *ctx, const struct wgnl_quick_event *ev)
{
	const char *ifname = ev->ifname;
	char buf[64];
	int r = ev->err;

	wgnl_prefix_format(&ev->prefix, buf, sizeof(buf));
	switch (ev->step) {
	case WGNL_QUICK_LOOKUP:
		return wgctl_fail(ctx, r, "sync: cannot read link '%s'", ifname);
	case WGNL_QUICK_ADDR_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the addresses of '%s'", ifname);
	case WGNL_QUICK_POLICY_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the routes of '%s' in table %u",
				  ifname, ev->table);
	case WGNL_QUICK_ROUTE_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the routes of '%s'", ifname);
	case WGNL_QUICK_RULE_LIST:
		return wgctl_fail(ctx, r, "sync: cannot read the policy rules");
	case WGNL_QUICK_MTU:
		return wgctl_fail(ctx, r, "sync: cannot set the MTU of '%s' to %u", ifname,
				  ev->mtu);
	case WGNL_QUICK_ADDR_DEL:
		return wgctl_fail(ctx, r, "sync: cannot remove address %s from '%s'", buf, ifname);
	case WGNL_QUICK_ADDR_ADD:
		return wgctl_fail(ctx, r, "sync: cannot add address %s to '%s'", buf, ifname);
	case WGNL_QUICK_ROUTE_ADD:
		return wgctl_fail(ctx, r, "sync: cannot add route %s via '%s'", buf, ifname);
	case WGNL_QUICK_ROUTE_DEL:
		return wgctl_fail(ctx, r, "sync: cannot remove route %s via '%s'", buf, ifname);
	case WGNL_QUICK_RULE_ADD:
		return wgctl_fail(ctx, r, "sync: cannot add a policy rule for table %u",
				  ev->rule.table ? ev->rule.table : 254);
	case WGNL_QUICK_RULE_DEL:
		return wgctl_fail(ctx, r, "sync: cannot remove a policy rule for table %u",
				  ev->rule.table ? ev->rule.table : 254);
	default:
		if (r == -ENOMEM)
			wgk_error("sync: out of memory");
		else
			wgk_error("sync: '%s': %s", ifname, strerror(-r));
		return WGK_EXIT_SYSTEM;
	}
}

static void quick_sync_event(void *arg, const struct wgnl_quick_event *ev)
{
	struct quick_sync *qs = arg;

	if (ev->kind == WGNL_QUICK_EV_FAIL)
		qs->rc = quick_fail_line(qs->ctx, ev);
	else if (ev->kind == WGNL_QUICK_EV_WARN && ev->step == WGNL_QUICK_SRC_VALID_MARK)
		wgk_warn("sync: cannot set net.ipv4.conf.all.src_valid_mark=1");
}

/* wgnl_quick_plan() (@phase 0) or wgnl_quick_apply() of @phase; exit code. */
static int quick_sync(struct wgnl_ctx *ctx, const struct wgnl_config *cfg,
		      const struct wgnl_config *last, uint32_t old_pt, int phase,
		      struct wgnl_quick_plan **q)
{
	struct quick_sync qs = { .ctx = ctx };
	struct wgnl_quick_opts opts = { .size = sizeof(opts),
					.arg = &qs,
					.event = quick_sync_event };
	int r = phase ? wgnl_quick_apply(ctx, cfg->dev->name, *q, phase, &opts) :
			wgnl_quick_plan(ctx, cfg, last, old_pt, &opts, q);

	return r < 0 ? (qs.rc ? qs.rc : WGK_EXIT_SYSTEM) : 0;
}

/* ------------------------------------------------------------------ JSON */

static void json_rules(struct wgk_json *j, const char *key, const struct wgnl_rule *v, size_t n)
{
	if (!n)
		return;
	wgk_json_key(j, key);
	wgk_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		wgk_json_object_begin(j);
		wgk_json_kv_uint(j, "family", v[i].family == AF_INET6 ? 6 : 4);
		if (v[i].fwmark)
			wgk_json_kv_uint(j, "not_fwmark", v[i].fwmark);
		if (v[i].suppress_prefixlen >= 0)
			wgk_json_kv_uint(j, "suppress_prefixlength",
					 (uint64_t)v[i].suppress_prefixlen);
		wgk_json_kv_uint(j, "table", v[i].table ? v[i].table : 254);
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
}

static void json_prefixes(struct wgk_json *j, const char *key, const struct wgnl_prefix *v,
			  size_t n, int want_remove)
{
	char buf[INET6_ADDRSTRLEN + 8];
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (want_remove >= 0 && !!(v[i].flags & WGNL_PREFIX_REMOVE) != want_remove)
			continue;
		if (!any) {
			wgk_json_key(j, key);
			wgk_json_array_begin(j);
			any = true;
		}
		wgk_json_string(j, wgnl_prefix_format(&v[i], buf, sizeof(buf)));
	}
	if (any)
		wgk_json_array_end(j);
	else if (want_remove < 0) {
		wgk_json_key(j, key);
		wgk_json_array_begin(j);
		wgk_json_array_end(j);
	}
}

static void json_routes(struct wgk_json *j, const char *key, const struct wgnl_prefix *v,
			const uint32_t *t, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (!n)
		return;
	wgk_json_key(j, key);
	wgk_json_array_begin(j);
	for (size_t i = 0; i < n; i++) {
		wgk_json_object_begin(j);
		wgk_json_kv_string(j, "destination", wgnl_prefix_format(&v[i], buf, sizeof(buf)));
		wgk_json_kv_uint(j, "table", t[i] ? t[i] : 254);
		wgk_json_object_end(j);
	}
	wgk_json_array_end(j);
}

static void json_peer_fields(struct wgk_json *j, const struct wgnl_peer *p, bool added)
{
	char ep[64];
	wgnl_key_b64 b64;

	wgnl_key_to_base64(b64, p->public_key);
	wgk_json_kv_string(j, "public_key", b64);
	if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		wgk_json_kv_string(j, "preshared_key",
				   wgnl_key_is_zero(p->preshared_key) ? "(removed)" :
				   added			      ? "(set)" :
									"(changed)");
	if (p->flags & WGNL_PEER_HAS_ENDPOINT)
		wgk_json_kv_string(j, "endpoint",
				   wgnl_endpoint_format(&p->endpoint, ep, sizeof(ep)));
	if (p->flags & WGNL_PEER_HAS_KEEPALIVE)
		wgk_json_kv_uint(j, "persistent_keepalive", p->persistent_keepalive);
}

static void print_plan_json(const struct sync_opts *o, const struct wgnl_plan *plan,
			    const struct wgnl_quick_plan *q, bool changed, bool applied, bool delta,
			    const struct wgnl_stats *st)
{
	const struct wgnl_device *c = plan->change;
	struct wgk_json j;
	wgnl_key_b64 b64;

	wgk_json_init(&j, stdout, isatty(STDOUT_FILENO));
	wgk_json_object_begin(&j);
	wgk_json_kv_string(&j, "interface", o->ifname);
	wgk_json_kv_bool(&j, "changed", changed);
	wgk_json_kv_bool(&j, "applied", applied);
	wgk_json_kv_string(&j, "allowed_ips_mode", delta ? "delta" : "replace");
	wgk_json_key(&j, "device");
	wgk_json_object_begin(&j);
	if (c->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		wgk_json_kv_string(&j, "private_key",
				   wgnl_key_is_zero(c->private_key) ? "(removed)" : "(changed)");
	if (c->flags & WGNL_DEV_HAS_LISTEN_PORT)
		wgk_json_kv_uint(&j, "listen_port", c->listen_port);
	if (c->flags & WGNL_DEV_HAS_FWMARK)
		wgk_json_kv_uint(&j, "fwmark", c->fwmark);
	if (q->mtu)
		wgk_json_kv_uint(&j, "mtu", q->mtu);
	if (q->n_addr_add)
		json_prefixes(&j, "addresses_add", q->addr_add, q->n_addr_add, -1);
	if (q->n_addr_del)
		json_prefixes(&j, "addresses_remove", q->addr_del, q->n_addr_del, -1);
	json_routes(&j, "routes_add", q->route_add, q->route_add_table, q->n_route_add);
	json_routes(&j, "routes_remove", q->route_del, q->route_del_table, q->n_route_del);
	json_rules(&j, "rules_add", q->rule_add, q->n_rule_add);
	json_rules(&j, "rules_remove", q->rule_del, q->n_rule_del);
	wgk_json_object_end(&j);

	wgk_json_key(&j, "add");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wgnl_peer *p = &c->peers[i];

		if (p->flags & (WGNL_PEER_REMOVE | WGNL_PEER_UPDATE_ONLY))
			continue;
		wgk_json_object_begin(&j);
		json_peer_fields(&j, p, true);
		json_prefixes(&j, "allowed_ips", p->allowedips, p->n_allowedips, -1);
		wgk_json_object_end(&j);
	}
	wgk_json_array_end(&j);
	wgk_json_key(&j, "remove");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < c->n_peers; i++)
		if (c->peers[i].flags & WGNL_PEER_REMOVE) {
			wgnl_key_to_base64(b64, c->peers[i].public_key);
			wgk_json_string(&j, b64);
		}
	wgk_json_array_end(&j);
	wgk_json_key(&j, "update");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wgnl_peer *p = &c->peers[i];

		if ((p->flags & WGNL_PEER_REMOVE) || !(p->flags & WGNL_PEER_UPDATE_ONLY))
			continue;
		wgk_json_object_begin(&j);
		json_peer_fields(&j, p, false);
		if (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS) {
			json_prefixes(&j, "allowed_ips_replace", p->allowedips, p->n_allowedips,
				      -1);
		} else {
			json_prefixes(&j, "allowed_ips_add", p->allowedips, p->n_allowedips, 0);
			json_prefixes(&j, "allowed_ips_remove", p->allowedips, p->n_allowedips, 1);
		}
		wgk_json_object_end(&j);
	}
	wgk_json_array_end(&j);
	wgk_json_key(&j, "counts");
	wgk_json_object_begin(&j);
	wgk_json_kv_uint(&j, "add", plan->n_add);
	wgk_json_kv_uint(&j, "remove", plan->n_remove);
	wgk_json_kv_uint(&j, "update", plan->n_update);
	wgk_json_kv_uint(&j, "unchanged", plan->n_unchanged);
	wgk_json_object_end(&j);
	if (st) {
		wgk_json_key(&j, "stats");
		wgk_json_object_begin(&j);
		wgk_json_kv_uint(&j, "set_msgs", st->set_msgs);
		wgk_json_kv_uint(&j, "get_msgs", st->get_msgs);
		wgk_json_kv_uint(&j, "rtnl_msgs", st->rtnl_msgs);
		wgk_json_kv_uint(&j, "recv_msgs", st->recv_msgs);
		/* --plan and --json always take the full path. */
		wgk_json_kv_string(&j, "path", "full");
		wgk_json_object_end(&j);
	}
	wgk_json_object_end(&j);
	wgk_json_finish(&j);
}

/* --plan=text: the same plan for people. Keys are public keys; secrets
 * show only as "(changed)". */
static void text_prefixes(const char *what, const struct wgnl_prefix *v, size_t n, int want_remove,
			  const char *sign)
{
	char buf[INET6_ADDRSTRLEN + 8];
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (want_remove >= 0 && !!(v[i].flags & WGNL_PREFIX_REMOVE) != want_remove)
			continue;
		printf("%s%s%s", any ? ", " : what, sign,
		       wgnl_prefix_format(&v[i], buf, sizeof(buf)));
		any = true;
	}
}

static void text_peer(const struct wgnl_peer *p, char mark, bool added)
{
	char ep[64];
	wgnl_key_b64 b64;

	wgnl_key_to_base64(b64, p->public_key);
	printf("  %c peer %s", mark, b64);
	if (mark == '-') {
		putchar('\n');
		return;
	}
	if (!added && (p->flags & WGNL_PEER_REPLACE_ALLOWEDIPS))
		text_prefixes("; allowed IPs now ", p->allowedips, p->n_allowedips, -1, "");
	else if (added)
		text_prefixes("; allowed IPs ", p->allowedips, p->n_allowedips, -1, "");
	else {
		text_prefixes("; allowed IPs ", p->allowedips, p->n_allowedips, 0, "+");
		text_prefixes("; allowed IPs ", p->allowedips, p->n_allowedips, 1, "-");
	}
	if (p->flags & WGNL_PEER_HAS_ENDPOINT)
		printf("; endpoint %s", wgnl_endpoint_format(&p->endpoint, ep, sizeof(ep)));
	if (p->flags & WGNL_PEER_HAS_KEEPALIVE)
		printf("; keepalive %u", p->persistent_keepalive);
	if (p->flags & WGNL_PEER_HAS_PRESHARED_KEY)
		printf("; preshared key %s", wgnl_key_is_zero(p->preshared_key) ? "removed" :
					     added				? "set" :
										  "changed");
	putchar('\n');
}

static void text_routes(const char *what, const struct wgnl_prefix *v, const uint32_t *t, size_t n)
{
	char buf[INET6_ADDRSTRLEN + 8];

	for (size_t i = 0; i < n; i++)
		printf("  %s %s table %u\n", what, wgnl_prefix_format(&v[i], buf, sizeof(buf)),
		       t[i] ? t[i] : 254);
}

static void text_rules(char sign, const struct wgnl_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		printf("  %c rule ipv%d", sign, v[i].family == AF_INET6 ? 6 : 4);
		if (v[i].fwmark)
			printf(" not fwmark 0x%x", v[i].fwmark);
		if (v[i].suppress_prefixlen >= 0)
			printf(" suppress_prefixlength %d", v[i].suppress_prefixlen);
		printf(" table %u\n", v[i].table ? v[i].table : 254);
	}
}

static void print_plan_text(const struct sync_opts *o, const struct wgnl_plan *plan,
			    const struct wgnl_quick_plan *q)
{
	const struct wgnl_device *c = plan->change;
	char buf[INET6_ADDRSTRLEN + 8];

	printf("%s: plan: %zu to add, %zu to remove, %zu to update, %zu unchanged%s\n", o->ifname,
	       plan->n_add, plan->n_remove, plan->n_update, plan->n_unchanged,
	       wgnl_plan_is_empty(plan) && wgnl_quick_plan_is_empty(q) ? " (nothing to do)" : "");
	if (c->flags & WGNL_DEV_HAS_PRIVATE_KEY)
		printf("  ~ private key %s\n",
		       wgnl_key_is_zero(c->private_key) ? "removed" : "changed");
	if (c->flags & WGNL_DEV_HAS_LISTEN_PORT)
		printf("  ~ listen port %u\n", c->listen_port);
	if (c->flags & WGNL_DEV_HAS_FWMARK)
		printf("  ~ fwmark 0x%x\n", c->fwmark);
	if (q->mtu)
		printf("  ~ mtu %u\n", q->mtu);
	for (size_t i = 0; i < q->n_addr_add; i++)
		printf("  + address %s\n", wgnl_prefix_format(&q->addr_add[i], buf, sizeof(buf)));
	for (size_t i = 0; i < q->n_addr_del; i++)
		printf("  - address %s\n", wgnl_prefix_format(&q->addr_del[i], buf, sizeof(buf)));
	text_routes("+ route", q->route_add, q->route_add_table, q->n_route_add);
	text_routes("- route", q->route_del, q->route_del_table, q->n_route_del);
	text_rules('+', q->rule_add, q->n_rule_add);
	text_rules('-', q->rule_del, q->n_rule_del);
	for (size_t i = 0; i < c->n_peers; i++) {
		const struct wgnl_peer *p = &c->peers[i];

		if (p->flags & WGNL_PEER_REMOVE)
			text_peer(p, '-', false);
		else if (p->flags & WGNL_PEER_UPDATE_ONLY)
			text_peer(p, '~', false);
		else
			text_peer(p, '+', true);
	}
}

/* ------------------------------------------------------------- the command */

static void sync_help(void)
{
	printf("Usage: wgctl sync [--plan[=text]] [--detailed-exitcode] [--stats] [--state-dir DIR]\n"
	       "                  [--no-state] [--allow-empty] [--wait SECONDS]\n"
	       "                  [--max-remove N] [--max-change PCT]\n"
	       "                  <interface> <config file>\n"
	       "Make the interface match the file, sending only what differs: new peers,\n"
	       "removed peers, and for changed peers only the changed fields (allowed IPs\n"
	       "as additions and removals where the kernel can remove one, else the\n"
	       "peer's list replaced). An Endpoint is sent only when the file's endpoint\n"
	       "changed since the last sync (recorded in DIR, default /var/lib/wgkit/sync\n"
	       "or $WGCTL_STATE_DIR), so endpoints peers roamed to survive. For a wg-quick\n"
	       "config (Address, MTU, Table or DNS present) addresses, MTU, routes and the\n"
	       "policy routing of a default route are synced too.\n"
	       "  --plan               print the plan as JSON, change nothing\n"
	       "  --plan=text          print the plan for people, change nothing\n"
	       "  --max-remove N       refuse (exit 2, nothing applied) a plan removing\n"
	       "                       more than N peers\n"
	       "  --max-change PCT     refuse a plan adding, removing or updating more\n"
	       "                       than PCT percent of the running peers\n"
	       "  --detailed-exitcode  exit 0 when nothing changed, 2 when something did,\n"
	       "                       1 on any error\n"
	       "  --stats              netlink messages sent and the path taken (fast,\n"
	       "                       incremental, full), on stderr (and in --json)\n"
	       "  --no-state           neither read nor write the record\n"
	       "  --allow-empty        apply a file that holds nothing (else refused: it\n"
	       "                       would remove every peer and the private key)\n"
	       "  --wait SECONDS       wait that long for another wgctl on the interface\n"
	       "                       (default 10)\n"
	       "The file is read once, to its end: a pipe, /dev/stdin or <(...) works.\n");
}

static int parse_args(int argc, char **argv, struct sync_opts *o)
{
	int rc;

	memset(o, 0, sizeof(*o));
	rc = wgctl_limit_opts("sync", &argc, argv, &o->limits);
	if (rc)
		return rc;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plan") || !strcmp(argv[i], "--plan=json")) {
			o->plan_only = true;
		} else if (!strcmp(argv[i], "--plan=text")) {
			o->plan_only = o->plan_text = true;
		} else if (!strcmp(argv[i], "--detailed-exitcode")) {
			o->detailed = true;
		} else if (!strcmp(argv[i], "--stats")) {
			o->stats = true;
		} else if (!strcmp(argv[i], "--no-state")) {
			o->no_state = true;

		} else if (!strcmp(argv[i], "--state-dir")) {
			if (++i == argc)
				return wgctl_usage("sync", "--state-dir needs a directory");
			o->state_dir = argv[i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return wgctl_usage("sync", "unknown option '%s'", wgk_q(argv[i]));
		} else if (!o->ifname) {
			o->ifname = argv[i];
		} else if (!o->path) {
			o->path = argv[i];
		} else {
			return wgctl_usage("sync", "unexpected argument '%s'", wgk_q(argv[i]));
		}
	}
	if (!o->ifname || !o->path)
		return wgctl_usage("sync", "expected an interface name and a config file");
	if (!wgctl_valid_ifname(o->ifname))
		return wgctl_usage("sync", "invalid interface name '%s'", wgk_q(o->ifname));
	return 0;
}

/* The file as `wg syncconf` reads it: absent PrivateKey and FwMark mean
 * none; an absent ListenPort keeps the running port. */
static void desired_semantics(const struct sync_opts *o, struct wgnl_config *cfg)
{
	struct wgnl_device *d = cfg->dev;
	uint32_t ptable;

	if (!(d->flags & WGNL_DEV_HAS_PRIVATE_KEY))
		memset(d->private_key, 0, WGNL_KEY_LEN);
	if (!(d->flags & WGNL_DEV_HAS_FWMARK))
		d->fwmark = 0;
	d->flags |= WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_FWMARK;
	d->flags &= ~(uint32_t)WGNL_DEV_REPLACE_PEERS;
	/* wg-quick's policy routing marks the tunnel's packets, as `up` did. */
	ptable = is_quick(o, cfg) ? wgnl_quick_policy_table(cfg) : 0;
	if (ptable)
		d->fwmark = ptable;
}

/* @path: which way the sync went: "fast" (unchanged file, unchanged device:
 * nothing parsed), "incremental" (only the changed [Peer] sections parsed)
 * or "full". */
static void print_stats(const struct wgnl_stats *st, const char *path)
{
	fprintf(stderr,
		"wgctl: sync: stats: set_msgs=%llu get_msgs=%llu rtnl_msgs=%llu "
		"recv_msgs=%llu path=%s\n",
		(unsigned long long)st->set_msgs, (unsigned long long)st->get_msgs,
		(unsigned long long)st->rtnl_msgs, (unsigned long long)st->recv_msgs, path);
}

/* Does the plan need the record? For the routes of a wg-quick file, and
 * for endpoints (was one changed in the file, or did the peer roam?). A
 * file without endpoints never parses it. */
static bool needs_record(const struct sync_opts *o, const struct wgnl_config *cfg)
{
	if (is_quick(o, cfg))
		return true;
	for (size_t i = 0; i < cfg->dev->n_peers; i++)
		if (cfg->dev->peers[i].flags & WGNL_PEER_HAS_ENDPOINT)
			return true;
	return false;
}

/* As wgctl_get_device() reports a device that cannot be read (exit code). */
static int read_fail(struct wgnl_ctx *ctx, const char *ifname, int r)
{
	struct wgnl_link link;

	if (r == -ENODEV || r == -ENOENT || r == -EPROTONOSUPPORT || r == -ENXIO) {
		if (wgnl_link_get(ctx, ifname, &link) == -ENODEV)
			wgk_error("cannot read '%s': No such device", wgk_q(ifname));
		else
			wgk_error("cannot read '%s': not a WireGuard interface", wgk_q(ifname));
		return WGK_EXIT_NOTFOUND;
	}
	return wgctl_fail(ctx, r, "cannot read '%s'", wgk_q(ifname));
}

static struct wgnl_config *load_record(const char *path)
{
	struct wgnl_config *last = NULL;
	struct wgnl_config_error e;
	char *text;
	size_t len;
	int r = read_record(path, &text, &len);

	if (r < 0) {
		wgk_warn("sync: cannot read the record '%s': %s (endpoints are compared with the "
			 "running ones)",
			 wgk_q(path), strerror(-r));
		return NULL;
	}
	if (!text)
		return NULL;
	memset(&e, 0, sizeof(e));
	if (wgnl_config_parse(text, len, path, WGNL_CONFIG_QUICK, &last, &e) < 0) {
		wgk_warn("sync: ignoring the unreadable record '%s'", wgk_q(path));
		last = NULL;
	}
	wgnl_free(text);
	return last;
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* WGCTL_SYNC_TIMING=1: the time each phase took, on stderr (benchmarks). */
static bool timing(void)
{
	static int on = -1;

	if (on < 0)
		on = getenv("WGCTL_SYNC_TIMING") != NULL;
	return on;
}

static void phase(const char *name)
{
	static double last;
	double t;

	if (!timing())
		return;
	t = now_secs();
	if (name)
		fprintf(stderr, "wgctl: sync: timing: %s %.4f s\n", name, t - last);
	last = t;
}

/* Per-IP removal where the kernel has WGALLOWEDIP_A_FLAGS; a userspace
 * implementation gets a changed list replaced, in one transaction anyway. */
static bool delta_mode(struct wgnl_ctx *ctx, const char *ifname)
{
	int caps;

	if (getenv("WGCTL_SYNC_NO_DELTA"))
		return false;
	caps = wgnl_device_caps(ctx, ifname);
	return caps > 0 && (caps & WGNL_CAP_ALLOWEDIP_REMOVE);
}

static void print_summary(const char *ifname, const struct wgnl_plan *plan,
			  const struct wgnl_quick_plan *q)
{
	const struct wgnl_device *c = plan->change;

	if (wgctl_opt.quiet)
		return;
	printf("%s: %zu added, %zu removed, %zu updated, %zu unchanged", ifname, plan->n_add,
	       plan->n_remove, plan->n_update, plan->n_unchanged);
	/* Say which device fields, and how many addresses and routes. */
	if (plan->device_changed && c)
		printf("; device:%s%s%s",
		       (c->flags & WGNL_DEV_HAS_PRIVATE_KEY) ? " private key" : "",
		       (c->flags & WGNL_DEV_HAS_LISTEN_PORT) ? " listen port" : "",
		       (c->flags & WGNL_DEV_HAS_FWMARK) ? " fwmark" : "");
	if (q->mtu)
		printf("; MTU %u", q->mtu);
	if (q->n_addr_add || q->n_addr_del)
		printf("; addresses +%zu -%zu", q->n_addr_add, q->n_addr_del);
	if (q->n_route_add || q->n_route_del)
		printf("; routes +%zu -%zu", q->n_route_add, q->n_route_del);
	putchar('\n');
}

/* ------------------------------------------------------ the quick paths */
/* When the last sync left a .fast digest, the dump starts at once (every
 * path needs one) while a second thread reads the file: its hash tells
 * whether it changed, and when it did and the record is that last file
 * (version 2), which [Peer] sections differ, parsed (only those: the new
 * ones from the file, the old ones from the record). Then:
 *  - same file, device digest as recorded: nothing to do ("fast");
 *  - changed file, same [Interface], device digest as recorded: the plan
 *    is the difference between the changed sections ("incremental"), the
 *    old ones standing for the running peers (the digest proves they do);
 *  - anything else: the full path (the whole file parsed, planned against
 *    a fresh dump). */

struct run_peer {
	wgnl_key key;
	struct digest128 h;
};

/* A running allowed IP: a hash of the masked prefix, and its peer. */
struct run_aip {
	uint64_t h;
	size_t peer;
};

/* Every running peer's key and digest, and their sum; every allowed IP. */
struct dump_acc {
	struct digest128 sum;
	struct run_peer *v;
	size_t n, cap;
	struct run_aip *aip;
	size_t n_aip, cap_aip;
};

static uint64_t prefix_hash(const struct wgnl_prefix *p)
{
	struct wgnl_prefix m = *p;
	uint64_t w[2] = { 0, 0 };

	m.flags = 0;
	wgnl_prefix_mask(&m);
	memcpy(w, &m.ip6, m.family == AF_INET ? 4 : 16);
	return st_mix64(st_mix64(w[0] ^ ((uint64_t)m.cidr << 8 | m.family)) ^ w[1]);
}

/* @v (an array of *@cap elements of @size bytes) with room for one more at
 * @n: @v itself, or a larger copy (doubling from 4096), or NULL with @v
 * untouched when memory runs out. */
static void *grow_for_one(void *v, size_t *cap, size_t n, size_t size)
{
	size_t ncap;

	if (n < *cap)
		return v;
	ncap = *cap ? *cap * 2 : 4096;
	v = realloc(v, ncap * size);
	if (v)
		*cap = ncap;
	return v;
}

static int acc_cb(const struct wgnl_device *dev, const struct wgnl_peer *peer, void *data)
{
	struct dump_acc *a = data;
	struct run_peer *rp;

	(void)dev;
	if (!peer) {
		memset(&a->sum, 0, sizeof(a->sum));
		a->n = 0;
		a->n_aip = 0;
		return 0;
	}
	for (size_t k = 0; k < peer->n_allowedips; k++) {
		struct run_aip *nv = grow_for_one(a->aip, &a->cap_aip, a->n_aip, sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		a->aip = nv;
		a->aip[a->n_aip++] = (struct run_aip){ prefix_hash(&peer->allowedips[k]), a->n };
	}
	rp = grow_for_one(a->v, &a->cap, a->n, sizeof(*rp));
	if (!rp)
		return -ENOMEM;
	a->v = rp;
	rp = &a->v[a->n];
	memset(&rp->h, 0, sizeof(rp->h));
	if (peer_digest_add(&rp->h, peer) < 0)
		return -ENOMEM;
	memcpy(rp->key, peer->public_key, WGNL_KEY_LEN);
	a->sum.a += rp->h.a;
	a->sum.b += rp->h.b;
	a->n++;
	return 0;
}

struct text_job {
	const struct sync_opts *o;
	char *text; /* the file, read here (NULL: unreadable, read_err says why) */
	size_t len;
	int read_err;
	struct digest128 rec_file; /* the canonical text the .fast file names */
	/* Results. */
	struct st_text *now;	     /* the file, canonical (the caller's) */
	bool canon;		     /* *now is set (else the text is left to the parser) */
	bool same;		     /* the file is the one last synced */
	bool ready;		     /* cn, co and pairs are set */
	struct wgnl_config *cn, *co; /* the sections that differ, new and old */
	size_t pairs;		     /* sections in both */
	/* The record of the new file, written ahead (record2_prepare()). */
	bool staged;
	struct wgnl_file_tmp *rec_tmp, *sec_tmp;
	double secs; /* how long the answer took (WGCTL_SYNC_TIMING) */
	/* The answer (everything above but the staged record) is signalled
	 * first: the record is written while the main thread applies. */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool answered;
	bool threaded;
	pthread_t th;
};

/* The second thread done (the staged record written). */
static void text_join(struct text_job *j)
{
	if (j->threaded)
		pthread_join(j->th, NULL);
	j->threaded = false;
}

static void text_answered(struct text_job *j)
{
	pthread_mutex_lock(&j->mu);
	j->answered = true;
	pthread_cond_signal(&j->cv);
	pthread_mutex_unlock(&j->mu);
}

static void text_wait(struct text_job *j)
{
	pthread_mutex_lock(&j->mu);
	while (!j->answered)
		pthread_cond_wait(&j->cv, &j->mu);
	pthread_mutex_unlock(&j->mu);
}

/* The sections of @text flagged false in @m, concatenated. */
static char *gather(const char *text, const struct st_section *sec, size_t n, const bool *m,
		    size_t *len)
{
	size_t total = 0, off = 0;
	char *buf;

	for (size_t i = 0; i < n; i++)
		if (!m[i])
			total += sec[i].orig_len;
	buf = malloc(total + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (m[i])
			continue;
		memcpy(buf + off, text + sec[i].orig_off, sec[i].orig_len);
		off += sec[i].orig_len;
	}
	buf[off] = '\0';
	*len = off;
	return buf;
}

/* Parse sections gathered by gather(); NULL when they do not parse or name
 * an endpoint by host name (both left to the full path). */
static struct wgnl_config *inc_parse(const char *text, size_t len, const char *ifname)
{
	struct wgnl_config *c = NULL;
	struct wgnl_config_error e;

	memset(&e, 0, sizeof(e));
	if (wgnl_config_parse(text, len, "", 0, &c, &e) < 0)
		return NULL;
	if (has_names(c) || c->dev->flags) {
		wgnl_config_free(c);
		return NULL;
	}
	snprintf(c->dev->name, sizeof(c->dev->name), "%s", ifname);
	return c;
}

/* The old sections flagged false in @m, read from the record @path (whose
 * first line must name canonical text @h, and whose size must be
 * @rec_size as the .sec table says). Each section read must hash to what
 * the table says: anything else is left to the full path (NULL). */
static char *gather_old(const char *path, const uint64_t h[2], const struct st_section *sec,
			size_t n, const bool *m, uint64_t rec_size, size_t *len)
{
	size_t total = 0, off = 0;
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!record2_fd_is(fd, h) || fstat(fd, &st) < 0 ||
	    (n && (uint64_t)st.st_size != rec_size) || rec_sections_total(sec, n, m, &total) < 0)
		goto out;
	buf = malloc(total + 1);
	if (!buf)
		goto out;
	for (size_t i = 0; i < n; i++) {
		uint64_t sh[2];

		if (m[i])
			continue;
		if (pread(fd, buf + off, sec[i].san_len, (off_t)sec[i].san_off) !=
		    (ssize_t)sec[i].san_len)
			goto bad;
		st_bytes_hash(buf + off, sec[i].san_len, sh);
		if (sh[0] != sec[i].h[0] || sh[1] != sec[i].h[1])
			goto bad;
		off += sec[i].san_len;
	}
	buf[off] = '\0';
	*len = off;
	goto out;
bad:
	free(buf);
	buf = NULL;
out:
	close(fd);
	return buf;
}

/* The file's side (on the second thread): no netlink, no output. */
static void text_answer(struct text_job *j)
{
	const uint64_t rec_h[2] = { j->rec_file.a, j->rec_file.b };
	struct st_section *old = NULL;
	char path[PATH_MAX], *tn = NULL, *to = NULL;
	size_t n_old = 0, ln = 0, lo = 0;
	uint64_t iface_h[2] = { 0, 0 }, rec_size = 0;
	bool *old_m = NULL, *now_m = NULL;
	ssize_t pairs;
	double t0 = now_secs();

	j->read_err = wgnl_file_read(j->o->path, SYNC_MAX_FILE, &j->text, &j->len);
	if (j->read_err < 0)
		return;
	j->canon = st_canonical(j->text, j->len, j->now) == 0;
	if (!j->canon)
		return;
	j->same = j->now->text_h[0] == rec_h[0] && j->now->text_h[1] == rec_h[1];
	if (j->same) {
		j->secs = now_secs() - t0;
		return;
	}
	/* No [Peer] section left (an empty or truncated file?): the full
	 * path, which refuses an empty file, decides. */
	if (!j->now->n_sec || state_path(path, sizeof(path), j->o->state_dir, j->o->ifname) < 0 ||
	    sec_read(j->o->state_dir, j->o->ifname, rec_h, &old, &n_old, iface_h, &rec_size) < 0)
		goto out;
	/* [Interface] changed: the full path (device fields; rare). */
	if (iface_h[0] != j->now->iface_h[0] || iface_h[1] != j->now->iface_h[1])
		goto out;
	old_m = calloc(n_old + 1, sizeof(*old_m));
	now_m = calloc(j->now->n_sec + 1, sizeof(*now_m));
	if (!old_m || !now_m || (pairs = st_match(old, n_old, j->now, old_m, now_m)) < 0)
		goto out;
	tn = gather(j->text, j->now->sec, j->now->n_sec, now_m, &ln);
	to = gather_old(path, rec_h, old, n_old, old_m, rec_size, &lo);
	if (!tn || !to || !(j->cn = inc_parse(tn, ln, j->o->ifname)) ||
	    !(j->co = inc_parse(to, lo, j->o->ifname)))
		goto out;
	j->pairs = (size_t)pairs;
	j->ready = true;
out:
	if (!j->ready) {
		wgnl_config_free(j->cn);
		j->cn = NULL;
	}
	if (tn)
		wgnl_wipe(tn, ln);
	free(tn);
	free(to);
	free(old_m);
	free(now_m);
	free(old);
	j->secs = now_secs() - t0;
}

static void *text_work(void *arg)
{
	struct text_job *j = arg;

	text_answer(j);
	text_answered(j);
	/* Off the critical path: put in place only once applied. */
	if (j->ready)
		j->staged = record2_prepare(j->o->state_dir, j->o->ifname, j->now, &j->rec_tmp,
					    &j->sec_tmp) == 0;
	return NULL;
}

/* A set of the changed sections' keys: bit 1 old, bit 2 new. Probed once
 * per running peer, so no keyed hash: the keys' own first bytes. */
struct keyset {
	struct {
		const uint8_t *key;
		unsigned side;
	} * slot;
	size_t mask;
};

static size_t keyset_pos(const struct keyset *ks, const uint8_t *key)
{
	uint64_t w;
	size_t i;

	memcpy(&w, key, sizeof(w));
	for (i = (size_t)st_mix64(w) & ks->mask; ks->slot[i].key; i = (i + 1) & ks->mask)
		if (!memcmp(ks->slot[i].key, key, WGNL_KEY_LEN))
			break;
	return i;
}

static int keyset_init(struct keyset *ks, const struct wgnl_device *old,
		       const struct wgnl_device *now)
{
	size_t size = 16;

	while (size < 2 * (old->n_peers + now->n_peers))
		size *= 2;
	ks->mask = size - 1;
	ks->slot = calloc(size, sizeof(*ks->slot));
	if (!ks->slot)
		return -ENOMEM;
	for (int side = 1; side <= 2; side++) {
		const struct wgnl_device *d = side == 1 ? old : now;

		for (size_t i = 0; i < d->n_peers; i++) {
			size_t p = keyset_pos(ks, d->peers[i].public_key);

			ks->slot[p].key = d->peers[i].public_key;
			ks->slot[p].side |= (unsigned)side;
		}
	}
	return 0;
}

static unsigned keyset_side(const struct keyset *ks, const uint8_t *key)
{
	size_t p = keyset_pos(ks, key);

	return ks->slot[p].key ? ks->slot[p].side : 0;
}

/* Would the changed sections put an allowed IP under two peers (two new
 * sections, or a new one and a section left as it was)? Then which one
 * gets it depends on the whole file's order: the full path decides. The
 * last file had no such IP (else no .fast), so a running IP's peer is
 * either an old changed section's (being replaced) or an unchanged one's.
 * Hashes only: a collision just costs the full path. */
static bool inc_conflicts(const struct wgnl_device *cn, const struct keyset *ks,
			  const struct dump_acc *acc)
{
	struct {
		uint64_t h;
		size_t peer;
		bool used;
	} * t;
	size_t total = 0, size = 16, mask;
	bool bad = false;

	for (size_t i = 0; i < cn->n_peers; i++)
		total += cn->peers[i].n_allowedips;
	if (!total)
		return false;
	while (size < 2 * total)
		size *= 2;
	mask = size - 1;
	t = calloc(size, sizeof(*t));
	if (!t)
		return true;
	for (size_t i = 0; i < cn->n_peers && !bad; i++)
		for (size_t k = 0; k < cn->peers[i].n_allowedips && !bad; k++) {
			uint64_t h = prefix_hash(&cn->peers[i].allowedips[k]);
			size_t p = (size_t)h & mask;

			while (t[p].used && t[p].h != h)
				p = (p + 1) & mask;
			if (t[p].used && t[p].peer != i)
				bad = true;
			t[p].h = h;
			t[p].peer = i;
			t[p].used = true;
		}
	for (size_t i = 0; i < acc->n_aip && !bad; i++) {
		size_t p = (size_t)acc->aip[i].h & mask;

		while (t[p].used && t[p].h != acc->aip[i].h)
			p = (p + 1) & mask;
		if (t[p].used && !(keyset_side(ks, acc->v[acc->aip[i].peer].key) & 1))
			bad = true;
	}
	free(t);
	return bad;
}

/* The incremental apply. Returns true when it ran (exit code in *rc),
 * false to take the full path. */
static bool inc_apply(const struct sync_opts *o, struct text_job *j, const struct dump_acc *acc,
		      const struct wgnl_device *info, struct wgnl_ctx *ctx, bool *changed, int *rc)
{
	struct wgnl_device *cn = j->cn->dev, *co = j->co->dev;
	struct digest128 sum_old = { 0, 0 }, exp;
	struct wgnl_plan *plan = NULL;
	struct keyset ks = { 0 };
	bool delta;
	int r;

	if (keyset_init(&ks, co, cn) < 0)
		return false;
	for (size_t i = 0; i < acc->n; i++) {
		unsigned side = keyset_side(&ks, acc->v[i].key);

		if (side & 1) {
			sum_old.a += acc->v[i].h.a;
			sum_old.b += acc->v[i].h.b;
		} else if (side & 2) {
			/* A new section's key already runs: it is in an
			 * unchanged section too, a duplicate the full parser
			 * reports. */
			free(ks.slot);
			return false;
		}
	}
	if (inc_conflicts(cn, &ks, acc)) {
		free(ks.slot);
		return false;
	}
	free(ks.slot);
	/* The old sections carry hashes where the file had preshared keys:
	 * a key that hashes the same is the same key. */
	for (size_t i = 0; i < cn->n_peers; i++) {
		const struct wgnl_peer *p = &cn->peers[i];
		struct wgnl_peer *q = wgnl_device_find_peer(co, p->public_key);
		wgnl_key h;

		if (q && (p->flags & q->flags & WGNL_PEER_HAS_PRESHARED_KEY) &&
		    !wgnl_key_is_zero(p->preshared_key) &&
		    st_secret_hash(h, p->preshared_key) == 0 && wgnl_key_equal(h, q->preshared_key))
			memcpy(q->preshared_key, p->preshared_key, WGNL_KEY_LEN);
	}
	co->ifindex = info->ifindex;
	delta = delta_mode(ctx, o->ifname);
	/* The old sections are both the running peers and the last desired
	 * state (for endpoints). */
	r = wgnl_sync_plan(cn, co, co, delta ? WGNL_SYNC_ALLOWEDIP_REMOVE : 0, &plan);
	if (r < 0) {
		*rc = wgctl_fail(ctx, r, "sync: cannot plan");
		return true;
	}
	plan->n_unchanged += j->pairs;
	*changed = !wgnl_plan_is_empty(plan);
	phase("plan");
	*rc = wgctl_limits_check("sync", o->ifname, &o->limits, plan);
	if (*rc)
		goto out;
	r = wgnl_sync_apply(ctx, plan);
	if (r < 0) {
		*rc = wgctl_fail(ctx, r,
				 "sync: cannot apply '%s' to '%s' (part of it may be applied)",
				 wgk_qs(o->path), o->ifname);
		fast_forget(o->state_dir, o->ifname);
		goto out;
	}
	phase("apply");
	/* The device's digest now: the old sections' peers out, the new in. */
	exp.a = acc->sum.a - sum_old.a;
	exp.b = acc->sum.b - sum_old.b;
	for (size_t i = 0; i < cn->n_peers; i++)
		if (peer_digest_add(&exp, &cn->peers[i]) < 0)
			exp.a = ~exp.a; /* a wrong digest only costs the full path */
	digest_finish(&exp, acc->n - co->n_peers + cn->n_peers,
		      identity((struct wgnl_device *)info), info->listen_port, info->fwmark);
	text_join(j);
	r = j->staged ? record2_commit(j->rec_tmp, j->sec_tmp) :
			record2_write(o->state_dir, o->ifname, j->now);
	j->staged = false;
	if (r < 0) {
		wgk_warn("sync: applied, but cannot record the state in '%s': %s",
			 wgk_q(state_dir(o->state_dir)), strerror(-r));
		fast_forget(o->state_dir, o->ifname);
	} else {
		struct digest128 fh = { j->now->text_h[0], j->now->text_h[1] };

		fast_write(o->state_dir, o->ifname, &fh, &exp);
	}
	phase("record");
	if (*changed) {
		print_summary(o->ifname, plan, &no_quick);
	}
	*rc = WGK_EXIT_OK;
out:
	wgnl_plan_free(plan);
	return true;
}

/* The fast and incremental paths. Returns true when one ran (exit code in
 * *rc); false for the full path, with *text the file's bytes (NULL when it
 * could not be read: *read_err says why; it is read once, as it may be a
 * pipe) and *now its canonical text when *canon (what the record is made
 * of). */
static bool sync_quick(const struct sync_opts *o, char **text, size_t *len, int *read_err,
		       struct wgnl_ctx **ctx, struct st_text *now, bool *canon, bool *changed,
		       int *rc)
{
	struct digest128 rec_file, rec_run, run;
	struct text_job j = { 0 };
	struct dump_acc acc = { 0 };
	struct wgnl_device *info = NULL;
	const char *path = NULL;
	bool done = false;
	int r = 0;

	*canon = false;
	*text = NULL;
	if (!fast_read(o->state_dir, o->ifname, &rec_file, &rec_run) || sodium_init() < 0) {
		*read_err = wgnl_file_read(o->path, SYNC_MAX_FILE, text, len);
		if (*read_err == 0)
			*canon = st_canonical(*text, *len, now) == 0;
		return false;
	}
	j.o = o;
	j.rec_file = rec_file;
	j.now = now;
	pthread_mutex_init(&j.mu, NULL);
	pthread_cond_init(&j.cv, NULL);
	/* The file on a second thread while the dump streams in. */
	j.threaded = pthread_create(&j.th, NULL, text_work, &j) == 0;
	if (!j.threaded)
		text_work(&j);
	*rc = wgctl_open(ctx);
	phase("open");
	if (!*rc)
		r = wgnl_device_get_stream(*ctx, o->ifname, acc_cb, &acc, &info);
	phase("dump");
	text_wait(&j);
	if (timing())
		fprintf(stderr, "wgctl: sync: timing: (file, on the other thread %.4f s)\n",
			j.secs);
	*canon = j.canon;
	*text = j.text;
	*len = j.len;
	*read_err = j.read_err;
	/* An unreadable file: the full path says so (and changes nothing). */
	if (j.read_err < 0)
		goto out;
	if (*rc) {
		done = true;
		goto out;
	}
	if (r < 0) {
		*rc = read_fail(*ctx, o->ifname, r);
		done = true;
		goto out;
	}
	phase("join");
	run = acc.sum;
	digest_finish(&run, acc.n, identity(info), info->listen_port, info->fwmark);
	/* Changed behind our back: the full path repairs it. */
	if (run.a != rec_run.a || run.b != rec_run.b)
		goto out;
	if (j.same) {
		/* The same file, a device unchanged since. */
		phase("fast no-op");
		path = "fast";
		*rc = WGK_EXIT_OK;
		done = true;
	} else if (j.ready && inc_apply(o, &j, &acc, info, *ctx, changed, rc)) {
		path = "incremental";
		done = true;
	}
out:
	if (o->stats && path) {
		struct wgnl_stats st;

		wgnl_stats_get(*ctx, &st);
		print_stats(&st, path);
	}
	text_join(&j);
	if (j.staged) {
		wgnl_file_tmp_abort(j.rec_tmp);
		wgnl_file_tmp_abort(j.sec_tmp);
	}
	pthread_cond_destroy(&j.cv);
	pthread_mutex_destroy(&j.mu);
	free(acc.v);
	free(acc.aip);
	wgnl_device_free(info);
	wgnl_config_free(j.cn);
	wgnl_config_free(j.co);
	return done;
}

/* Is @path the file `wgctl up` recorded for @ifname (IF.path)? */
static bool is_up_file(const char *ifname, const char *path)
{
	char rec[PATH_MAX], *real;
	bool same;

	if (quick_path_recorded(ifname, rec, sizeof(rec)) != 1 || !(real = realpath(path, NULL)))
		return false;
	same = !strcmp(rec, real);
	free(real);
	return same;
}

static int sync_run(const struct sync_opts *o, bool *changed)
{
	struct wgnl_config *cfg = NULL, *last = NULL;
	struct wgnl_device *running = NULL;
	struct wgnl_plan *plan = NULL;
	struct wgnl_quick_plan *q = NULL;
	struct wgnl_ctx *ctx = NULL;
	struct wgnl_stats st;
	char path[PATH_MAX] = "", *new_text = NULL;
	char have[2 * DIGEST_LEN + 8], want[2 * DIGEST_LEN + 1];
	size_t new_len = 0;
	struct digest128 cur_fh = { 0, 0 }, exp_run;
	struct st_text canon_text = { 0 };
	bool delta = false, have_fh = false;
	char *file_text = NULL, why[128];
	size_t file_len = 0;
	int rc = WGK_EXIT_OK, r, read_err = 0;
	struct wgnl_config_error e;
	bool conflicts = false;

	phase(NULL);
	if (!o->no_state && (r = state_dir_safe(o->state_dir, why, sizeof(why))) < 0) {
		wgk_error("sync: refusing the state directory '%s': %s",
			  wgk_q(state_dir(o->state_dir)), why[0] ? why : strerror(-r));
		return WGK_EXIT_INPUT;
	}
	/* One sync (or up, set, ...) of an interface at a time: two would
	 * both plan against the same dump and both record. */
	if (!o->plan_only && (rc = wgctl_lock("sync", o->ifname)))
		return rc;
	if (!o->no_state && !o->plan_only)
		state_sweep(o->state_dir, o->ifname);
	/* --plan and --json print the plan: they always take the full path. */
	if (!o->no_state && !o->plan_only && !wgctl_opt.json && !o->up_file) {
		if (sync_quick(o, &file_text, &file_len, &read_err, &ctx, &canon_text, &have_fh,
			       changed, &rc))
			goto out;
		/* Parsed from these very bytes below: the hash recorded is
		 * the hash of what was applied. */
		cur_fh.a = canon_text.text_h[0];
		cur_fh.b = canon_text.text_h[1];
	} else {
		read_err = wgnl_file_read(o->path, SYNC_MAX_FILE, &file_text, &file_len);
	}
	/* Read once, to EOF: a pipe cannot be read again. */
	if (read_err < 0) {
		if (read_err == -EFBIG)
			wgk_error("sync: cannot read '%s': larger than %u MiB", wgk_qs(o->path),
				  SYNC_MAX_FILE >> 20);
		else
			wgk_error("sync: cannot read '%s': %s", wgk_qs(o->path),
				  strerror(-read_err));
		rc = wgk_exit_for_file_errno(read_err);
		goto out;
	}
	memset(&e, 0, sizeof(e));
	r = wgnl_config_parse(file_text, file_len, o->path, WGNL_CONFIG_QUICK | WGNL_CONFIG_RESOLVE,
			      &cfg, &e);
	if (r < 0) {
		rc = wgctl_conf_error(r, &e, o->path);
		goto out;
	}
	phase("parse");
	wgctl_warn_secret_file("sync", o->path, cfg);
	if (!wgctl_opt.allow_empty && wgctl_conf_is_empty(cfg)) {
		rc = wgctl_empty_refused("sync", o->path);
		goto out;
	}
	/* As setconf leaves it: an allowed IP in two sections goes to the
	 * later one. */
	r = wgctl_allowedip_conflicts(cfg->dev, o->path, file_text, file_len);
	if (r < 0) {
		wgk_error("sync: out of memory");
		rc = WGK_EXIT_SYSTEM;
		goto out;
	}
	conflicts = r > 0;
	snprintf(cfg->dev->name, sizeof(cfg->dev->name), "%s", o->ifname);
	desired_semantics(o, cfg);
	if (!ctx && (rc = wgctl_open(&ctx)))
		goto out;
	if (!o->no_state) {
		r = state_path(path, sizeof(path), o->state_dir, o->ifname);
		if (r < 0) {
			wgk_warn("sync: state directory path too long: not recording");
			path[0] = '\0';
		} else if (needs_record(o, cfg)) {
			last = load_record(path);
		}
	}
	delta = delta_mode(ctx, o->ifname);
	/* The running peers are compared as the dump streams in: memory
	 * stays at the file plus the plan. */
	r = wgnl_sync_plan_stream(ctx, cfg->dev, last ? last->dev : NULL,
				  delta ? WGNL_SYNC_ALLOWEDIP_REMOVE : 0, &plan, &running);
	if (r < 0) {
		rc = read_fail(ctx, o->ifname, r);
		goto out;
	}
	phase("dump+plan");
	if (is_quick(o, cfg)) {
		rc = quick_sync(ctx, cfg, last, running->fwmark, 0, &q);
		if (rc)
			goto out;
	}
	*changed = !wgnl_plan_is_empty(plan) || !wgnl_quick_plan_is_empty(q);
	if (o->plan_only) {
		wgnl_stats_get(ctx, &st);
		if (o->plan_text)
			print_plan_text(o, plan, q ? q : &no_quick);
		else
			print_plan_json(o, plan, q ? q : &no_quick, *changed, false, delta,
					o->stats ? &st : NULL);
		/* What would be refused is said (exit code too), not hidden. */
		rc = wgctl_limits_check("sync", o->ifname, &o->limits, plan);
		if (o->stats)
			print_stats(&st, "full");
		goto out;
	}
	rc = wgctl_limits_check("sync", o->ifname, &o->limits, plan);
	if (rc)
		goto out;
	rc = quick_sync(ctx, cfg, NULL, 0, WGNL_QUICK_BEFORE_DEVICE, &q);
	if (rc)
		goto out;
	r = wgnl_sync_apply(ctx, plan);
	if (r < 0) {
		rc = wgctl_fail(ctx, r,
				"sync: cannot apply '%s' to '%s' (part of it may be applied)",
				wgk_qs(o->path), o->ifname);
		goto out;
	}
	rc = quick_sync(ctx, cfg, NULL, 0, WGNL_QUICK_AFTER_DEVICE, &q);
	if (rc)
		goto out;
	phase("apply");
	if (path[0]) {
		bool v2 = have_fh && !has_names(cfg) && !is_quick(o, cfg);

		r = 0;
		/* Rewritten only when what it would say differs. */
		if (v2 && !record2_current(path, canon_text.text_h))
			r = record2_write(o->state_dir, o->ifname, &canon_text);
		if (!v2) {
			record_digest(path, have, sizeof(have));
			state_digest(cfg, want);
			if (strcmp(have, want)) {
				r = record_text(cfg, want, &new_text, &new_len);
				if (r == 0)
					r = write_record(o->state_dir, o->ifname, new_text,
							 new_len);
			}
		}
		if (r < 0)
			wgk_warn("sync: applied, but cannot record the state in '%s': %s",
				 wgk_q(state_dir(o->state_dir)), strerror(-r));
		/* A file with an allowed IP in two sections never takes the
		 * quick paths: which section wins depends on their order. */
		if (r == 0 && have_fh && !has_names(cfg) && !is_quick(o, cfg) && !conflicts &&
		    expected_digest(cfg->dev, running, &exp_run) == 0)
			fast_write(o->state_dir, o->ifname, &cur_fh, &exp_run);
		else
			fast_forget(o->state_dir, o->ifname);
		phase("record");
	}
	wgnl_stats_get(ctx, &st);
	if (wgctl_opt.json)
		print_plan_json(o, plan, q ? q : &no_quick, *changed, true, delta,
				o->stats ? &st : NULL);
	else if (*changed)
		print_summary(o->ifname, plan, q ? q : &no_quick);
	if (o->stats)
		print_stats(&st, "full");
out:
	if (file_text)
		wgnl_wipe(file_text, file_len);
	wgnl_free(file_text);
	free(new_text);
	st_free(&canon_text);
	wgnl_quick_plan_free(q);
	wgnl_plan_free(plan);
	wgnl_device_free(running);
	wgnl_config_free(last);
	wgnl_config_free(cfg);
	wgnl_ctx_close(ctx);
	return rc;
}

int cmd_sync(int argc, char **argv)
{
	struct sync_opts o;
	bool changed = false;
	int rc;

	if (wgctl_wants_help(argc, argv)) {
		sync_help();
		return WGK_EXIT_OK;
	}
	rc = parse_args(argc, argv, &o);
	if (rc)
		return rc;
	o.up_file = is_up_file(o.ifname, o.path);
	rc = sync_run(&o, &changed);
	if (!o.detailed)
		return rc;
	/* Terraform's convention, for Ansible's changed_when. */
	if (rc)
		return 1;
	return changed ? 2 : 0;
}
