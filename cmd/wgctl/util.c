// SPDX-License-Identifier: MIT
/* wgctl helpers shared by the subcommands: errors, strict parsing, key
 * files, configs, device access. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>

#include "core/compat.h"
#include "wgctl.h"

struct wgctl_opts wgctl_opt;

bool wgctl_wants_help(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "help"))
		return true;
	for (int i = 1; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return true;
	return false;
}

int wgctl_no_json(const char *cmd)
{
	if (!wgctl_opt.json)
		return 0;
	return wgctl_usage(cmd, "--json is not supported by this command");
}

int wgctl_getopt(const char *cmd, bool in_order, int argc, char **argv, const char *shortopts,
		 const struct option *longopts)
{
	char spec[32];
	int c;

	/* ':' first: a missing value is told apart from an unknown option. */
	snprintf(spec, sizeof(spec), "%s:%s", in_order ? "+" : "", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, spec, longopts, NULL);
	if (c != '?')
		return c;
	/* A short option: optopt is the character (the word may hold more);
	 * a long one: 0, or its val (>= 256 in wgctl) when it took no value. */
	if (optopt > 0 && optopt < 256)
		wgctl_usage(cmd, "unknown option '-%c'", optopt);
	else
		wgctl_usage(cmd, "unknown option '%s'", wgk_q(argv[optind - 1]));
	return '?';
}

void wgctl_drop_options(int *argc, char ***argv)
{
	(*argv)[optind - 1] = (*argv)[0];
	*argc -= optind - 1;
	*argv += optind - 1;
}

int wgctl_no_options(const char *cmd, bool in_order, int *argc, char ***argv)
{
	static const struct option none[] = { { NULL, 0, NULL, 0 } };

	if (wgctl_getopt(cmd, in_order, *argc, *argv, "", none) != -1)
		return WGK_EXIT_USAGE;
	wgctl_drop_options(argc, argv);
	return 0;
}

bool wgctl_valid_ifname(const char *name)
{
	size_t n = strlen(name);

	if (!n || n >= WGNL_IFNAMSIZ || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) ||
		    !isprint((unsigned char)*p))
			return false;
	return true;
}

int wgctl_get_device(struct wgnl_ctx *ctx, const char *ifname, struct wgnl_device **ret)
{
	int r;

	*ret = NULL;
	if (!wgctl_valid_ifname(ifname)) {
		wgk_error("invalid interface name '%s'", wgk_qs(ifname));
		return WGK_EXIT_INPUT;
	}
	r = wgnl_device_get(ctx, ifname, ret);
	return r >= 0 ? 0 : wgctl_get_error(ctx, ifname, r);
}

int wgctl_set_device(struct wgnl_ctx *ctx, const struct wgnl_device *dev, const char *what)
{
	int r = wgnl_device_set(ctx, dev);

	return r >= 0 ? 0 : wgctl_set_error(ctx, dev->name, r, what);
}

int wgctl_parse_u32(const char *s, uint32_t max, bool hex, uint32_t *out)
{
	unsigned long long v = 0;
	int base = 10;
	const char *p = s;

	if (hex && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (!*p)
		return -EINVAL;
	for (; *p; p++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -EINVAL;
		v = v * (unsigned)base + (unsigned)d;
		if (v > max)
			return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int wgctl_parse_keepalive(const char *s, uint16_t *out)
{
	uint32_t v;

	if (!strcmp(s, "off")) {
		*out = 0;
		return 0;
	}
	if (wgctl_parse_u32(s, 65535, false, &v) < 0)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

int wgctl_parse_fwmark(const char *s, uint32_t *out)
{
	if (!strcmp(s, "off")) {
		*out = 0;
		return 0;
	}
	return wgctl_parse_u32(s, UINT32_MAX, true, out);
}

int wgctl_parse_pubkey(const char *cmd, const char *s, wgnl_key out)
{
	if (wgnl_key_from_base64(out, s) < 0) {
		wgk_error("%s: invalid public key '%s'", cmd, wgk_qs(s));
		return WGK_EXIT_INPUT;
	}
	return 0;
}

int wgctl_read_key_file(const char *cmd, const char *path, const char *what, wgnl_key out,
			bool *empty)
{
	char buf[128];
	size_t len = 0, start = 0;
	struct stat st;
	ssize_t n;
	int fd, r = 0;

	*empty = false;
	memset(out, 0, WGNL_KEY_LEN);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT && wgnl_text_may_be_key(path)) {
			wgk_error("%s: cannot read %s file: the argument looks like a key, not a "
				  "file name (not shown; give a file holding the key)",
				  cmd, what);
			return WGK_EXIT_INPUT;
		}
		wgk_error("%s: cannot read %s file '%s': %s", cmd, what, wgk_qs(path),
			  strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & (S_IRWXG | S_IRWXO)))
		wgk_warn("%s file '%s' is accessible by group or others", what, wgk_qs(path));
	/* A key file is 44 characters and a newline: anything much longer is
	 * not a key file, so stop reading early. */
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (r < 0) {
		wgnl_wipe(buf, sizeof(buf));
		wgk_error("%s: cannot read %s file '%s': %s", cmd, what, wgk_qs(path),
			  strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	if (len == sizeof(buf))
		goto bad;
	while (len && isspace((unsigned char)buf[len - 1]))
		len--;
	while (start < len && isspace((unsigned char)buf[start]))
		start++;
	if (start == len) {
		*empty = true;
		wgnl_wipe(buf, sizeof(buf));
		return 0;
	}
	if (len - start != WGNL_KEY_B64_LEN)
		goto bad;
	buf[len] = '\0';
	if (wgnl_key_from_base64(out, buf + start) < 0)
		goto bad;
	wgnl_wipe(buf, sizeof(buf));
	return 0;
bad:
	wgnl_wipe(buf, sizeof(buf));
	memset(out, 0, WGNL_KEY_LEN);
	wgk_error("%s: %s file '%s' does not hold a valid key", cmd, what, wgk_qs(path));
	return WGK_EXIT_INPUT;
}

int wgctl_read_conf(const char *cmd, const char *path, char **text, size_t *len)
{
	int r = wgnl_file_read(path, 0, text, len);

	if (r == -EFBIG) {
		wgk_error("%s: cannot read '%s': larger than 256 MiB", cmd, wgk_qs(path));
		return WGK_EXIT_INPUT;
	}
	if (r < 0) {
		wgk_error("%s: cannot read '%s': %s", cmd, wgk_qs(path), strerror(-r));
		return wgk_exit_for_file_errno(r);
	}
	return 0;
}

uint64_t wgctl_handshake_secs(const struct wgnl_peer *peer)
{
	if (!(peer->flags & WGNL_PEER_HAS_LAST_HANDSHAKE) || peer->last_handshake.tv_sec <= 0)
		return 0;
	return (uint64_t)peer->last_handshake.tv_sec;
}

bool wgctl_conf_is_empty(const struct wgnl_config *cfg)
{
	const struct wgnl_quick *q = &cfg->quick;

	return !(cfg->dev->flags &
		 (WGNL_DEV_HAS_PRIVATE_KEY | WGNL_DEV_HAS_LISTEN_PORT | WGNL_DEV_HAS_FWMARK)) &&
	       !cfg->dev->n_peers && !q->n_addresses && !q->n_dns && !q->mtu &&
	       q->table_mode == WGNL_TABLE_AUTO && !q->n_pre_up && !q->n_post_up &&
	       !q->n_pre_down && !q->n_post_down;
}

int wgctl_empty_refused(const char *cmd, const char *path)
{
	wgk_error("%s: '%s' holds no configuration (empty, or only comments and section "
		  "headers): refusing to remove every peer and the private key; pass "
		  "--allow-empty to mean it",
		  cmd, wgk_qs(path));
	return WGK_EXIT_INPUT;
}

int wgctl_lock(const char *cmd, const char *ifname)
{
	int fd;

	/* Held until exit. */
	return wgk_if_lock(cmd, ifname, wgctl_opt.wait, &fd);
}

/* ------------------------------------------- allowed IPs in two sections */

/* A private mark on an allowed IP to drop; none is left set on return. */
#define AIP_DROP 0x80U

struct aip_ref {
	struct wgnl_prefix p; /* masked */
	size_t peer, k;
};

static int aip_ref_cmp(const void *x, const void *y)
{
	const struct aip_ref *a = x, *b = y;
	int r = wgnl_prefix_cmp(&a->p, &b->p);

	if (r)
		return r;
	if (a->peer != b->peer)
		return a->peer < b->peer ? -1 : 1;
	return a->k < b->k ? -1 : a->k > b->k;
}

struct aip_find {
	size_t peer, sec;
	const struct wgnl_prefix *want;
	bool in;
};

static bool aip_listed(const char *v, const struct wgnl_prefix *want)
{
	size_t vl = strlen(v);

	while (vl) {
		const char *c = memchr(v, ',', vl);
		size_t il = c ? (size_t)(c - v) : vl;
		char item[INET6_ADDRSTRLEN + 8];
		struct wgnl_prefix p;
		size_t a = 0, b = il;

		while (a < b && isspace((unsigned char)v[a]))
			a++;
		while (b > a && isspace((unsigned char)v[b - 1]))
			b--;
		if (b - a < sizeof(item)) {
			memcpy(item, v + a, b - a);
			item[b - a] = '\0';
			if (wgnl_prefix_parse(&p, item) == 0) {
				wgnl_prefix_mask(&p);
				if (!wgnl_prefix_cmp(&p, want))
					return true;
			}
		}
		if (!c)
			break;
		vl -= il + 1;
		v = c + 1;
	}
	return false;
}

/* Stops the walk with the line number once @want is found. */
static int aip_item(const struct wgnl_ini_item *it, void *data)
{
	struct aip_find *f = data;

	if (it->kind == WGNL_INI_SECTION)
		f->in = !strcasecmp(it->section, "Peer") && f->sec++ == f->peer;
	else if (it->kind == WGNL_INI_PAIR && f->in && !strcasecmp(it->key, "AllowedIPs") &&
		 aip_listed(it->value, f->want))
		return (int)it->line;
	return 0;
}

/* The line of @text on which [Peer] section @peer (0-based) lists @want,
 * read as wgnl_config_parse() reads it; 0 when not found. */
static unsigned aip_line(const char *text, size_t len, size_t peer, const struct wgnl_prefix *want)
{
	static const struct wgnl_ini_opts opts = { .size = sizeof(opts), .flags = WGNL_INI_BOM };
	struct aip_find f = { .peer = peer, .want = want };
	char *buf = malloc(len + 1);
	int r;

	if (!buf)
		return 0;
	memcpy(buf, text, len);
	r = wgnl_ini_parse(buf, len, &opts, aip_item, &f);
	wgnl_wipe(buf, len + 1); /* a config holds keys */
	free(buf);
	return r > 0 ? (unsigned)r : 0;
}

static void aip_warn(const char *path, const char *text, size_t len, const struct wgnl_prefix *p,
		     size_t early, size_t late)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned l1 = text ? aip_line(text, len, early, p) : 0;
	unsigned l2 = text ? aip_line(text, len, late, p) : 0;

	wgk_warn("%s:%u and %s:%u: allowed IP %s is listed under two [Peer] sections; the later "
		 "one gets it (as setconf does)",
		 wgk_qs(path), l1, wgk_qs(path), l2, wgnl_prefix_format(p, buf, sizeof(buf)));
}

int wgctl_allowedip_conflicts(struct wgnl_device *dev, const char *path, const char *text,
			      size_t len)
{
	struct aip_ref *v;
	size_t n = 0, total = 0, dropped = 0;

	for (size_t i = 0; i < dev->n_peers; i++)
		total += dev->peers[i].n_allowedips;
	if (total < 2)
		return 0;
	v = malloc(total * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < dev->n_peers; i++)
		for (size_t k = 0; k < dev->peers[i].n_allowedips; k++) {
			v[n].p = dev->peers[i].allowedips[k];
			v[n].p.flags = 0;
			wgnl_prefix_mask(&v[n].p);
			v[n].peer = i;
			v[n].k = k;
			n++;
		}
	qsort(v, n, sizeof(*v), aip_ref_cmp);
	/* In each run of one prefix the last peer (file order) keeps it: the
	 * kernel moves an allowed IP to the peer it is inserted for last. */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1, last;

		while (j < n && !wgnl_prefix_cmp(&v[i].p, &v[j].p))
			j++;
		last = v[j - 1].peer;
		for (size_t x = i; x < j; x++) {
			if (v[x].peer == last)
				continue;
			if (x == i || v[x - 1].peer != v[x].peer)
				aip_warn(path, text, len, &v[x].p, v[x].peer, last);
			/* Marked, removed below (indices stay valid). */
			dev->peers[v[x].peer].allowedips[v[x].k].flags |= AIP_DROP;
			dropped++;
		}
		i = j;
	}
	free(v);
	if (!dropped)
		return 0;
	for (size_t i = 0; i < dev->n_peers; i++) {
		struct wgnl_peer *p = &dev->peers[i];
		size_t o = 0;

		for (size_t k = 0; k < p->n_allowedips; k++)
			if (!(p->allowedips[k].flags & AIP_DROP))
				p->allowedips[o++] = p->allowedips[k];
		p->n_allowedips = o;
	}
	return (int)(dropped > INT32_MAX ? INT32_MAX : dropped);
}

/* ---------------------------------------------------------- plan limits */

int wgctl_limit_value(const char *cmd, bool change, const char *v, struct wgctl_limits *l)
{
	const char *name = change ? "--max-change" : "--max-remove";
	uint32_t n;
	char buf[16];

	snprintf(buf, sizeof(buf), "%s", v);
	if (change && *buf && buf[strlen(buf) - 1] == '%')
		buf[strlen(buf) - 1] = '\0';
	if (strlen(v) >= sizeof(buf) ||
	    wgctl_parse_u32(buf, change ? 100 : INT32_MAX, false, &n) < 0)
		return wgctl_usage(cmd, "%s: invalid number '%s'%s", name, wgk_q(v),
				   change ? " (a percentage, 0-100)" : "");
	if (change)
		l->max_change = (int)n;
	else
		l->max_remove = (long)n;
	return 0;
}

int wgctl_limit_opts(const char *cmd, int *argc, char **argv, struct wgctl_limits *l)
{
	int out = 1;

	l->max_remove = -1;
	l->max_change = -1;
	for (int i = 1; i < *argc; i++) {
		bool rm = !strcmp(argv[i], "--max-remove"), ch = !strcmp(argv[i], "--max-change");
		int r;

		if (!rm && !ch) {
			argv[out++] = argv[i];
			continue;
		}
		if (++i == *argc)
			return wgctl_usage(cmd, "%s needs a number", argv[i - 1]);
		r = wgctl_limit_value(cmd, ch, argv[i], l);
		if (r)
			return r;
	}
	argv[out] = NULL;
	*argc = out;
	return 0;
}

int wgctl_limits_check(const char *cmd, const char *ifname, const struct wgctl_limits *l,
		       const struct wgnl_plan *plan)
{
	size_t running = plan->n_remove + plan->n_update + plan->n_unchanged;
	size_t changing = plan->n_add + plan->n_remove + plan->n_update;

	if (l->max_remove >= 0 && plan->n_remove > (size_t)l->max_remove) {
		wgk_error(
			"%s: the plan removes %zu of the %zu peers of '%s', more than --max-remove "
			"%ld: nothing applied",
			cmd, plan->n_remove, running, wgk_q(ifname), l->max_remove);
		return WGK_EXIT_INPUT;
	}
	/* Of the peers running now; a device without peers has no share to
	 * lose. Integer arithmetic: changing * 100 > max * running. */
	if (l->max_change >= 0 && running &&
	    (unsigned long long)changing * 100 > (unsigned long long)l->max_change * running) {
		wgk_error("%s: the plan adds, removes or updates %zu peers against %zu running on "
			  "'%s' (%llu%%), more than --max-change %d%%: nothing applied",
			  cmd, changing, running, wgk_q(ifname),
			  (unsigned long long)changing * 100 / running, l->max_change);
		return WGK_EXIT_INPUT;
	}
	return 0;
}

void wgctl_warn_secret_file(const char *cmd, const char *path, const struct wgnl_config *cfg)
{
	const char *secret = wgk_config_secret(cfg);
	struct stat st;

	/* A pipe's mode says nothing about who can read the file behind it. */
	if (!secret || stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(st.st_mode & (S_IRWXG | S_IRWXO)))
		return;
	wgk_warn("%s: '%s' " WGK_SECRET_MODE_FMT, cmd, wgk_qs(path), secret,
		 (unsigned)(st.st_mode & 07777));
}
