// SPDX-License-Identifier: MIT
/* gateway.conf through the library's INI lexer. Errors are one line,
 * "file:line: key: why", and never quote anything that may be a key. The
 * private key comes only from a file of root's (0600 or stricter) or from a
 * systemd credential, never from the config text. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argparse.h"
#include "err.h"
#include "gw.h"

#define GW_CONF_MAX (1U << 20)
#define GW_KEYFILE_MAX 4096

enum sect {
	S_NONE,
	S_INTERFACE,
	S_REGISTRY,
	S_APPLY,
	S_ANYCAST,
	S_STUN,
	S_HTTP
};

static const char *const sect_names[] = {
	[S_INTERFACE] = "Interface", [S_REGISTRY] = "Registry", [S_APPLY] = "Apply",
	[S_ANYCAST] = "Anycast",     [S_STUN] = "Stun",		[S_HTTP] = "Http",
};

/* Every key: its section, whether it may repeat; seen[] counts uses. */
struct key_def {
	enum sect sect;
	const char *name;
	bool repeat;
};

enum keyid {
	K_NAME,
	K_PKFILE,
	K_PKCRED,
	K_PORT,
	K_BACKEND,
	K_SOURCE,
	K_PATH,
	K_CONNINFO,
	K_FULL,
	K_STALE,
	K_STARTWAIT,
	K_DRIFT,
	K_MAXSHRINK,
	K_ADDRESS,
	K_LINK,
	K_LIFETIME,
	K_DRAIN,
	K_STUN_LISTEN,
	K_HTTP_LISTEN,
	K_COUNT
};

static const struct key_def keys[K_COUNT] = {
	[K_NAME] = { S_INTERFACE, "Name", false },
	[K_PKFILE] = { S_INTERFACE, "PrivateKeyFile", false },
	[K_PKCRED] = { S_INTERFACE, "PrivateKeyCredential", false },
	[K_PORT] = { S_INTERFACE, "ListenPort", false },
	[K_BACKEND] = { S_INTERFACE, "Backend", false },
	[K_SOURCE] = { S_REGISTRY, "Source", false },
	[K_PATH] = { S_REGISTRY, "Path", false },
	[K_CONNINFO] = { S_REGISTRY, "Conninfo", false },
	[K_FULL] = { S_REGISTRY, "FullRereadSeconds", false },
	[K_STALE] = { S_REGISTRY, "StaleSeconds", false },
	[K_STARTWAIT] = { S_REGISTRY, "StartWaitSeconds", false },
	[K_DRIFT] = { S_APPLY, "DriftCheckSeconds", false },
	[K_MAXSHRINK] = { S_APPLY, "MaxShrinkPercent", false },
	[K_ADDRESS] = { S_ANYCAST, "Address", true },
	[K_LINK] = { S_ANYCAST, "Link", false },
	[K_LIFETIME] = { S_ANYCAST, "LifetimeSeconds", false },
	[K_DRAIN] = { S_ANYCAST, "DrainSeconds", false },
	[K_STUN_LISTEN] = { S_STUN, "Listen", true },
	[K_HTTP_LISTEN] = { S_HTTP, "Listen", false },
};

struct walk {
	struct gw_conf *c;
	const char *file;
	const char *env_creds;
	enum sect sect;
	unsigned seen[K_COUNT];
	unsigned line_of[K_COUNT];
	char *err;
	size_t errlen;
};

static int fail(struct walk *w, unsigned line, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Outside text as it may appear in an error: qv(), checked again once
 * escaped (an escape such as "\x13" next to a piece of a key can make a
 * long base64 run of it). */
static const char *qv(const char *s)
{
	const char *q = wgk_qs(s);

	return wgnl_text_may_be_key(q) ? "(not shown: it may hold key material)" : q;
}

static int fail(struct walk *w, unsigned line, const char *key, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (line)
		snprintf(w->err, w->errlen, "%s:%u: %s: %s", w->file, line, key, why);
	else
		snprintf(w->err, w->errlen, "%s: %s: %s", w->file, key, why);
	return -EINVAL;
}

static int parse_seconds(struct walk *w, unsigned line, const char *key, const char *v, uint32_t lo,
			 uint32_t hi, unsigned *out)
{
	uint32_t n;

	if (wgk_parse_u32(v, lo, hi, &n) < 0)
		return fail(w, line, key, "'%s' is not a number of seconds in %u..%u", qv(v), lo,
			    hi);
	*out = n;
	return 0;
}

/* The key in a file of root's (or ours) that group and others cannot read. */
static int read_key_file(struct walk *w, unsigned line, const char *key, const char *path,
			 bool check_mode)
{
	char buf[GW_KEYFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len;
	char *s;
	int fd, r;

	/* O_NONBLOCK: a FIFO named here must not hang the parse. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		fail(w, line, key, "cannot open '%s': %s", qv(path), strerror(errno));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(w, line, key, "'%s' is not a regular file", qv(path));
	}
	if (check_mode && st.st_uid != 0 && st.st_uid != geteuid()) {
		close(fd);
		fail(w, line, key, "'%s' is owned by uid %u, not root: refused", qv(path),
		     (unsigned)st.st_uid);
		return -EPERM;
	}
	if (check_mode && (st.st_mode & 077)) {
		close(fd);
		fail(w, line, key,
		     "'%s' has mode %04o: group or others may read it; refused (chmod 0600)",
		     qv(path), (unsigned)(st.st_mode & 07777));
		return -EPERM;
	}
	len = 0;
	while (len < sizeof(buf) - 1) {
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			close(fd);
			wgnl_wipe(buf, sizeof(buf));
			fail(w, line, key, "cannot read '%s': %s", qv(path), strerror(-r));
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	s = buf;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	len = strlen(s);
	while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
		       s[len - 1] == '\r'))
		len--;
	s[len] = '\0';
	r = len == WGNL_KEY_B64_LEN ? wgnl_key_from_base64(w->c->private_key, s) : -EINVAL;
	wgnl_wipe(buf, sizeof(buf));
	if (r < 0 || wgnl_key_is_zero(w->c->private_key))
		return fail(w, line, key, "'%s' does not hold one base64 private key", qv(path));
	return 0;
}

static int copy_str(struct walk *w, const struct wgnl_ini_item *it, char *dst, size_t size)
{
	if (!it->value[0])
		return fail(w, it->line, it->key, "empty value");
	if (strlen(it->value) >= size)
		return fail(w, it->line, it->key, "value too long (at most %zu bytes)", size - 1);
	strcpy(dst, it->value);
	return 0;
}

static int set_key(struct walk *w, enum keyid k, const struct wgnl_ini_item *it)
{
	struct gw_conf *c = w->c;
	const char *v = it->value, *key = it->key;
	unsigned line = it->line;
	struct wgnl_prefix p;
	uint32_t n;

	switch (k) {
	case K_NAME:
		if (strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, ".."))
			return fail(w, line, key, "'%s' is not an interface name", qv(v));
		return copy_str(w, it, c->ifname, sizeof(c->ifname));
	case K_PKFILE:
		if (v[0] != '/')
			return fail(w, line, key, "must be an absolute path");
		return copy_str(w, it, c->private_key_file, sizeof(c->private_key_file));
	case K_PKCRED:
		if (strchr(v, '/') || !strcmp(v, ".") || !strcmp(v, ".."))
			return fail(w, line, key, "a credential name, without '/'");
		return copy_str(w, it, c->private_key_credential,
				sizeof(c->private_key_credential));
	case K_PORT:
		if (wgk_parse_u32(v, 1, 65535, &n) < 0)
			return fail(w, line, key, "'%s' is not a port in 1..65535", qv(v));
		c->listen_port = (uint16_t)n;
		return 0;
	case K_BACKEND:
		c->backend_auto = false;
		if (!strcmp(v, "auto"))
			c->backend_auto = true;
		else if (!strcmp(v, "kernel"))
			c->backend = WGNL_BACKEND_KERNEL;
		else if (!strcmp(v, "userspace"))
			c->backend = WGNL_BACKEND_UAPI;
		else
			return fail(w, line, key, "'%s' is not auto, kernel or userspace", qv(v));
		return 0;
	case K_SOURCE:
		if (!strcmp(v, "directory"))
			c->source = GW_SOURCE_DIRECTORY;
		else if (!strcmp(v, "postgresql"))
			c->source = GW_SOURCE_POSTGRESQL;
		else
			return fail(w, line, key, "'%s' is not directory or postgresql", qv(v));
		snprintf(c->source_name, sizeof(c->source_name), "%s", v);
		return 0;
	case K_PATH:
		return copy_str(w, it, c->registry_path, sizeof(c->registry_path));
	case K_CONNINFO:
		if (!v[0])
			return fail(w, line, key, "empty value");
		free(c->conninfo);
		c->conninfo = strdup(v);
		return c->conninfo ? 0 : -ENOMEM;
	case K_FULL:
		return parse_seconds(w, line, key, v, 1, 86400, &c->full_reread_s);
	case K_STALE:
		return parse_seconds(w, line, key, v, 1, 86400, &c->stale_s);
	case K_STARTWAIT:
		return parse_seconds(w, line, key, v, 0, 86400, &c->start_wait_s);
	case K_DRIFT:
		return parse_seconds(w, line, key, v, 0, 86400, &c->drift_check_s);
	case K_MAXSHRINK:
		if (wgk_parse_u32(v, 1, 100, &c->max_shrink_pct) < 0)
			return fail(w, line, key, "'%s' is not a percentage in 1..100", qv(v));
		return 0;
	case K_ADDRESS:
		if (c->n_anycast >= GW_MAX_ANYCAST)
			return fail(w, line, key, "more than %d addresses", GW_MAX_ANYCAST);
		if (wgnl_prefix_parse(&p, v) < 0)
			return fail(w, line, key, "'%s' is not an address", qv(v));
		if ((p.family == AF_INET && p.cidr != 32) ||
		    (p.family == AF_INET6 && p.cidr != 128))
			return fail(w, line, key, "'%s': only IPv4 /32 and IPv6 /128", qv(v));
		c->anycast[c->n_anycast++] = p;
		return 0;
	case K_LINK:
		return copy_str(w, it, c->anycast_link, sizeof(c->anycast_link));
	case K_LIFETIME:
		return parse_seconds(w, line, key, v, 1, 3600, &c->lifetime_s);
	case K_DRAIN:
		return parse_seconds(w, line, key, v, 0, 3600, &c->drain_s);
	case K_STUN_LISTEN:
		if (c->n_stun >= GW_MAX_STUN)
			return fail(w, line, key, "more than %d addresses", GW_MAX_STUN);
		if (strlen(v) >= GW_LISTEN_LEN ||
		    wgnl_endpoint_parse(&c->stun_ep[c->n_stun], v) < 0)
			return fail(w, line, key, "'%s' is not ADDRESS:PORT", qv(v));
		strcpy(c->stun_listen[c->n_stun++], v);
		return 0;
	case K_HTTP_LISTEN:
		if (strlen(v) >= GW_LISTEN_LEN || wgnl_endpoint_parse(&c->http_ep, v) < 0)
			return fail(w, line, key, "'%s' is not ADDRESS:PORT", qv(v));
		strcpy(c->http_listen, v);
		c->has_http = true;
		return 0;
	case K_COUNT:
		break;
	}
	return -EINVAL;
}

static int walk_item(const struct wgnl_ini_item *it, void *data)
{
	struct walk *w = data;

	if (it->kind == WGNL_INI_ERROR)
		return fail(w, it->line, "", "neither [Section] nor Key = Value");
	if (it->kind == WGNL_INI_SECTION) {
		for (size_t s = S_INTERFACE; s <= S_HTTP; s++)
			if (!strcmp(it->section, sect_names[s])) {
				w->sect = (enum sect)s;
				return 0;
			}
		return fail(w, it->line, qv(it->section), "unknown section");
	}
	if (w->sect == S_NONE)
		return fail(w, it->line, qv(it->key), "key before any [Section]");
	/* A key in the text: refused, and its value never repeated. */
	if (!strcasecmp(it->key, "PrivateKey") || !strcasecmp(it->key, "PresharedKey"))
		return fail(w, it->line, it->key,
			    "keys do not belong in the config text; use PrivateKeyFile or "
			    "PrivateKeyCredential");
	for (size_t k = 0; k < K_COUNT; k++) {
		if (keys[k].sect != w->sect || strcmp(keys[k].name, it->key))
			continue;
		if (w->seen[k] && !keys[k].repeat)
			return fail(w, it->line, it->key, "given twice (first on line %u)",
				    w->line_of[k]);
		w->seen[k]++;
		w->line_of[k] = it->line;
		return set_key(w, (enum keyid)k, it);
	}
	return fail(w, it->line, qv(it->key), "unknown key in [%s]", sect_names[w->sect]);
}

static void defaults(struct gw_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->listen_port = 51820;
	c->backend_auto = true;
	c->full_reread_s = 300;
	c->stale_s = 30;
	c->start_wait_s = 30;
	c->drift_check_s = 60;
	c->max_shrink_pct = 50;
	strcpy(c->anycast_link, "lo");
	c->lifetime_s = 3;
	c->drain_s = 5;
}

/* What must be there once the walk is over, and the key itself. */
static int finish(struct walk *w)
{
	struct gw_conf *c = w->c;
	char path[PATH_MAX + NAME_MAX + 2];

	if (!w->seen[K_NAME])
		return fail(w, 0, "Name", "missing in [Interface]");
	if (!w->seen[K_SOURCE])
		return fail(w, 0, "Source", "missing in [Registry]");
	if (c->source == GW_SOURCE_DIRECTORY && !w->seen[K_PATH])
		return fail(w, 0, "Path", "missing in [Registry] (Source = directory)");
	if (c->source == GW_SOURCE_DIRECTORY && w->seen[K_CONNINFO])
		return fail(w, w->line_of[K_CONNINFO], "Conninfo", "only for Source = postgresql");
	if (c->source == GW_SOURCE_POSTGRESQL && !w->seen[K_CONNINFO])
		return fail(w, 0, "Conninfo", "missing in [Registry] (Source = postgresql)");
	if (c->source == GW_SOURCE_POSTGRESQL && w->seen[K_PATH])
		return fail(w, w->line_of[K_PATH], "Path", "only for Source = directory");
	if (w->seen[K_PKFILE] && w->seen[K_PKCRED])
		return fail(w, w->line_of[K_PKCRED], "PrivateKeyCredential",
			    "give PrivateKeyFile or PrivateKeyCredential, not both");
	if (w->seen[K_PKFILE])
		return read_key_file(w, w->line_of[K_PKFILE], "PrivateKeyFile", c->private_key_file,
				     true);
	if (w->seen[K_PKCRED]) {
		if (!w->env_creds || !w->env_creds[0])
			return fail(w, w->line_of[K_PKCRED], "PrivateKeyCredential",
				    "$CREDENTIALS_DIRECTORY is not set (systemd LoadCredential=)");
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", w->env_creds,
				     c->private_key_credential) >= sizeof(path))
			return fail(w, w->line_of[K_PKCRED], "PrivateKeyCredential",
				    "path too long");
		/* systemd makes credentials 0400 of the service's user. */
		return read_key_file(w, w->line_of[K_PKCRED], "PrivateKeyCredential", path, true);
	}
	return fail(w, 0, "PrivateKeyFile", "missing in [Interface] (or PrivateKeyCredential)");
}

int gw_conf_parse_text(struct gw_conf *c, const char *path, char *buf, size_t len,
		       const char *env_creds, char *err, size_t errlen)
{
	struct wgnl_ini_opts opts = {
		.size = sizeof(opts),
		.flags = WGNL_INI_BOM | WGNL_INI_HASH_AFTER_BLANK,
		.max_line = 4096,
	};
	struct walk w = {
		.c = c, .file = path, .env_creds = env_creds, .err = err, .errlen = errlen
	};
	int r;

	defaults(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	strcpy(c->source_name, "directory");
	err[0] = '\0';
	r = wgnl_ini_parse(buf, len, &opts, walk_item, &w);
	if (!r)
		r = finish(&w);
	if (r < 0) {
		if (!err[0])
			snprintf(err, errlen, "%s: %s", path, strerror(-r));
		gw_conf_clear(c);
	}
	return r;
}

int gw_conf_parse(struct gw_conf *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int r;

	r = wgnl_file_read(path, GW_CONF_MAX, &buf, &len);
	if (r < 0) {
		memset(c, 0, sizeof(*c));
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(-r));
		return r;
	}
	r = gw_conf_parse_text(c, path, buf, len, getenv("CREDENTIALS_DIRECTORY"), err, errlen);
	wgnl_wipe(buf, len);
	wgnl_free(buf);
	return r;
}

void gw_conf_clear(struct gw_conf *c)
{
	if (!c)
		return;
	if (c->conninfo) {
		wgnl_wipe(c->conninfo, strlen(c->conninfo));
		free(c->conninfo);
	}
	wgnl_wipe(c->private_key, sizeof(c->private_key));
	memset(c, 0, sizeof(*c));
}
