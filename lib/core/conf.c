// SPDX-License-Identifier: MIT
/* The `wg` / `wg-quick` configuration format: parse (text or file) and write. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "compat.h"
#include "internal.h"

enum section {
	SEC_NONE,
	SEC_INTERFACE,
	SEC_PEER
};

enum hook {
	HOOK_PRE_UP,
	HOOK_POST_UP,
	HOOK_PRE_DOWN,
	HOOK_POST_DOWN,
	HOOK_N
};

struct parser {
	unsigned flags;
	struct wgnl_config_error *err;
	struct wgnl_config *cfg;
	enum section section;
	unsigned line;
	/* The [Peer] being read. It joins the device when its section ends,
	 * because PublicKey may come after the other keys. */
	struct wgnl_peer peer;
	bool in_peer;
	unsigned peer_line;
	/* peer_lines[i]: line of the [Peer] header of device peer i, to name
	 * the first one in a "duplicate peer" error. */
	unsigned *peer_lines;
	size_t cap_peer_lines;
	/* Capacities of the wgnl_quick arrays (the struct has no room for them). */
	size_t cap_addresses, cap_dns, cap_hooks[HOOK_N];
	/* A value as an error message quotes it (see shown()). */
	char shown[80];
};

struct keydef;
typedef int (*key_fn)(struct parser *p, const struct keydef *k, char *value);

struct keydef {
	const char *name;
	enum section section;
	bool quick;
	int arg;
	key_fn fn;
};

static int fail(struct parser *p, int r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct parser *p, int r, const char *key, const char *fmt, ...)
{
	va_list ap;

	p->err->line = p->line;
	snprintf(p->err->key, sizeof(p->err->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	return r;
}

static int fail_nomem(struct parser *p, const char *key)
{
	return fail(p, -ENOMEM, key, "out of memory");
}

/* Outside text as an error message may quote it: '...' cut at 64
 * characters, or a note in its place when it could hold key material (a
 * private key pasted on the wrong line must not reach a terminal or a log). */
static const char *shown(struct parser *p, const char *v)
{
	if (wgnl_text_may_be_key(v))
		return "(value not shown: it may hold key material)";
	snprintf(p->shown, sizeof(p->shown), "'%.64s'", v);
	return p->shown;
}

/* A name an error message may quote: a short word that cannot be a piece of
 * a key. */
static bool is_word(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 24)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return !wgnl_text_may_be_key(s);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s)
{
	size_t n;

	while (is_space(*s))
		s++;
	n = strlen(s);
	while (n && is_space(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Split the comma list at *@cursor: return the next trimmed item (possibly
 * empty) and advance, or NULL at the end. */
static char *next_item(char **cursor)
{
	char *s = *cursor, *comma;

	if (!s)
		return NULL;
	comma = strchr(s, ',');
	if (comma) {
		*comma = '\0';
		*cursor = comma + 1;
	} else {
		*cursor = NULL;
	}
	return trim(s);
}

/* Decimal, or hexadecimal after 0x when @hex: 0, -EINVAL (not a number) or
 * -ERANGE (above @max). */
static int parse_number(const char *s, bool hex, uint64_t max, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	bool range = false;

	if (hex && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (v > (max - d) / base)
			range = true; /* keep scanning: a later bad digit is -EINVAL */
		else
			v = v * base + d;
	}
	if (range)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Parse a number for key @k, filling the error on failure. */
static int number_value(struct parser *p, const struct keydef *k, const char *value, bool hex,
			uint64_t min, uint64_t max, uint64_t *out)
{
	int r = parse_number(value, hex, max, out);

	if (r == -EINVAL)
		return fail(p, -EINVAL, k->name, "%s: %s not a number", k->name, shown(p, value));
	if (r < 0 || *out < min)
		return fail(p, -EINVAL, k->name, "%s: %s out of range", k->name, shown(p, value));
	return 0;
}

/* Decode a base64 key; the value is never quoted back (it may be secret). */
static int key_value(struct parser *p, const struct keydef *k, const char *value, wgnl_key out)
{
	if (strlen(value) != WGNL_KEY_B64_LEN)
		return fail(p, -EINVAL, k->name, "%s: bad key: not 44 characters of base64",
			    k->name);
	if (wgnl_key_from_base64(out, value) < 0)
		return fail(p, -EINVAL, k->name,
			    "%s: bad key: not base64 of 32 bytes (bad character or padding)",
			    k->name);
	return 0;
}

static bool is_hostname_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

static bool is_hostname(const char *s, size_t n)
{
	if (!n || n > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_hostname_char(s[i]))
			return false;
	return true;
}

/* "name:port" or "[name]:port" with a plausible host name and a port. */
static bool is_named_endpoint(const char *s)
{
	const char *host = s, *colon;
	size_t hlen;
	uint64_t port;

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return false;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return false;
		hlen = (size_t)(colon - s);
	}
	return is_hostname(host, hlen) && parse_number(colon + 1, false, 65535, &port) == 0;
}

/* ---------------------------------------------------------- [Interface] */

static int k_private_key(struct parser *p, const struct keydef *k, char *value)
{
	struct wgnl_device *dev = p->cfg->dev;
	int r = key_value(p, k, value, dev->private_key);

	if (r < 0)
		return r;
	dev->flags |= WGNL_DEV_HAS_PRIVATE_KEY;
	return 0;
}

static int k_listen_port(struct parser *p, const struct keydef *k, char *value)
{
	uint64_t v;
	int r = number_value(p, k, value, false, 0, 65535, &v);

	if (r < 0)
		return r;
	p->cfg->dev->listen_port = (uint16_t)v;
	p->cfg->dev->flags |= WGNL_DEV_HAS_LISTEN_PORT;
	return 0;
}

static int k_fwmark(struct parser *p, const struct keydef *k, char *value)
{
	uint64_t v = 0;

	if (strcasecmp(value, "off")) {
		int r = number_value(p, k, value, true, 0, UINT32_MAX, &v);

		if (r < 0)
			return r;
	}
	p->cfg->dev->fwmark = (uint32_t)v;
	p->cfg->dev->flags |= WGNL_DEV_HAS_FWMARK;
	return 0;
}

static int k_address(struct parser *p, const struct keydef *k, char *value)
{
	struct wgnl_quick *q = &p->cfg->quick;
	char *cursor = value, *item;

	if (!*value)
		return 0;
	while ((item = next_item(&cursor))) {
		struct wgnl_prefix pfx;

		if (!*item)
			return fail(p, -EINVAL, k->name, "%s: empty item in list", k->name);
		if (wgnl_prefix_parse(&pfx, item) < 0)
			return fail(p, -EINVAL, k->name, "%s: %s: bad address", k->name,
				    shown(p, item));
		if (wgi_grow((void **)&q->addresses, &p->cap_addresses, q->n_addresses + 1,
			     sizeof(*q->addresses)) < 0)
			return fail_nomem(p, k->name);
		q->addresses[q->n_addresses++] = pfx;
	}
	return 0;
}

static int push_string(char ***arr, size_t *n, size_t *cap, const char *s)
{
	char *copy;

	if (wgi_grow((void **)arr, cap, *n + 1, sizeof(**arr)) < 0)
		return -ENOMEM;
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	(*arr)[(*n)++] = copy;
	return 0;
}

static int k_dns(struct parser *p, const struct keydef *k, char *value)
{
	struct wgnl_quick *q = &p->cfg->quick;
	char *cursor = value, *item;

	if (!*value)
		return 0;
	while ((item = next_item(&cursor))) {
		struct in6_addr a;

		if (!*item)
			return fail(p, -EINVAL, k->name, "%s: empty item in list", k->name);
		if (inet_pton(AF_INET, item, &a) != 1 && inet_pton(AF_INET6, item, &a) != 1 &&
		    !is_hostname(item, strlen(item)))
			return fail(p, -EINVAL, k->name,
				    "%s: %s: not an IP address or a domain name", k->name,
				    shown(p, item));
		if (push_string(&q->dns, &q->n_dns, &p->cap_dns, item) < 0)
			return fail_nomem(p, k->name);
	}
	return 0;
}

static int k_mtu(struct parser *p, const struct keydef *k, char *value)
{
	uint64_t v;
	/* 68: the smallest MTU IPv4 allows. */
	int r = number_value(p, k, value, false, 68, 65535, &v);

	if (r < 0)
		return r;
	p->cfg->quick.mtu = (uint32_t)v;
	return 0;
}

static int k_table(struct parser *p, const struct keydef *k, char *value)
{
	struct wgnl_quick *q = &p->cfg->quick;
	static const struct {
		const char *name;
		uint32_t id;
	} names[] = { { "default", 253 }, { "main", 254 }, { "local", 255 } };
	uint64_t v;
	int r;

	if (!strcasecmp(value, "off")) {
		q->table_mode = WGNL_TABLE_OFF;
		q->table = 0;
		return 0;
	}
	if (!strcasecmp(value, "auto")) {
		q->table_mode = WGNL_TABLE_AUTO;
		q->table = 0;
		return 0;
	}
	for (size_t i = 0; i < WGI_ARRAY_SIZE(names); i++) {
		if (!strcasecmp(value, names[i].name)) {
			q->table_mode = WGNL_TABLE_ID;
			q->table = names[i].id;
			return 0;
		}
	}
	/* Table 0 is "unspecified" to the kernel. */
	r = number_value(p, k, value, false, 1, UINT32_MAX, &v);
	if (r < 0)
		return r;
	q->table_mode = WGNL_TABLE_ID;
	q->table = (uint32_t)v;
	return 0;
}

static int k_hook(struct parser *p, const struct keydef *k, char *value)
{
	struct wgnl_quick *q = &p->cfg->quick;
	char ***arr[HOOK_N] = { &q->pre_up, &q->post_up, &q->pre_down, &q->post_down };
	size_t *n[HOOK_N] = { &q->n_pre_up, &q->n_post_up, &q->n_pre_down, &q->n_post_down };

	if (!*value)
		return fail(p, -EINVAL, k->name, "%s: empty command", k->name);
	if (push_string(arr[k->arg], n[k->arg], &p->cap_hooks[k->arg], value) < 0)
		return fail_nomem(p, k->name);
	return 0;
}

static int k_save_config(struct parser *p, const struct keydef *k, char *value)
{
	if (!strcasecmp(value, "true"))
		p->cfg->quick.save_config = true;
	else if (!strcasecmp(value, "false"))
		p->cfg->quick.save_config = false;
	else
		return fail(p, -EINVAL, k->name, "%s: %s: want true or false", k->name,
			    shown(p, value));
	return 0;
}

/* --------------------------------------------------------------- [Peer] */

static int k_public_key(struct parser *p, const struct keydef *k, char *value)
{
	const struct wgnl_peer *other;
	wgnl_key key;
	int r = key_value(p, k, value, key);

	if (r < 0)
		return r;
	other = wgnl_device_find_peer(p->cfg->dev, key);
	if (other) {
		size_t pos = (size_t)(other - p->cfg->dev->peers);

		wgnl_wipe(key, sizeof(key));
		return fail(p, -EINVAL, k->name,
			    "duplicate peer: same PublicKey as the [Peer] at line %u",
			    p->peer_lines[pos]);
	}
	memcpy(p->peer.public_key, key, WGNL_KEY_LEN);
	wgnl_wipe(key, sizeof(key));
	p->peer.flags |= WGNL_PEER_HAS_PUBLIC_KEY;
	return 0;
}

static int k_preshared_key(struct parser *p, const struct keydef *k, char *value)
{
	int r = key_value(p, k, value, p->peer.preshared_key);

	if (r < 0)
		return r;
	p->peer.flags |= WGNL_PEER_HAS_PRESHARED_KEY;
	return 0;
}

static int k_allowed_ips(struct parser *p, const struct keydef *k, char *value)
{
	char *cursor = value, *item;

	if (!*value)
		return 0;
	while ((item = next_item(&cursor))) {
		struct wgnl_prefix pfx;

		if (!*item)
			return fail(p, -EINVAL, k->name, "%s: empty item in list", k->name);
		if (wgnl_prefix_parse(&pfx, item) < 0)
			return fail(p, -EINVAL, k->name, "%s: %s: bad prefix", k->name,
				    shown(p, item));
		if (wgnl_peer_add_allowedip(&p->peer, &pfx) < 0)
			return fail_nomem(p, k->name);
	}
	return 0;
}

static int k_endpoint(struct parser *p, const struct keydef *k, char *value)
{
	union wgnl_endpoint ep;
	int r;

	r = wgnl_endpoint_parse(&ep, value);
	if (r == -ENODEV)
		return fail(p, -EINVAL, k->name,
			    "%s: %s: no such interface for the IPv6 scope (after '%%')", k->name,
			    shown(p, value));
	if (r == 0) {
		if (wgnl_peer_set_endpoint_name(&p->peer, NULL) < 0)
			return fail_nomem(p, k->name);
		p->peer.endpoint = ep;
		p->peer.flags |= WGNL_PEER_HAS_ENDPOINT;
		return 0;
	}
	if (!is_named_endpoint(value))
		return fail(p, -EINVAL, k->name,
			    "%s: %s: bad endpoint (want host:port or [IPv6]:port)", k->name,
			    shown(p, value));
	if (wgnl_peer_set_endpoint_name(&p->peer, value) < 0)
		return fail_nomem(p, k->name);
	memset(&p->peer.endpoint, 0, sizeof(p->peer.endpoint));
	p->peer.flags &= ~(uint32_t)WGNL_PEER_HAS_ENDPOINT;
	if (!(p->flags & WGNL_CONFIG_RESOLVE))
		return 0;
	r = wgnl_endpoint_resolve(&ep, value);
	if (r == -EHOSTUNREACH)
		return fail(p, r, k->name, "%s: %s: host name does not resolve", k->name,
			    shown(p, value));
	if (r == -ENOMEM)
		return fail_nomem(p, k->name);
	if (r < 0)
		return fail(p, -EINVAL, k->name, "%s: %s: bad endpoint", k->name, shown(p, value));
	p->peer.endpoint = ep;
	p->peer.flags |= WGNL_PEER_HAS_ENDPOINT;
	return 0;
}

static int k_keepalive(struct parser *p, const struct keydef *k, char *value)
{
	uint64_t v = 0;

	if (strcasecmp(value, "off")) {
		int r = number_value(p, k, value, false, 0, 65535, &v);

		if (r < 0)
			return r;
	}
	p->peer.persistent_keepalive = (uint16_t)v;
	p->peer.flags |= WGNL_PEER_HAS_KEEPALIVE;
	return 0;
}

static const struct keydef keys[] = {
	{ "PrivateKey", SEC_INTERFACE, false, 0, k_private_key },
	{ "ListenPort", SEC_INTERFACE, false, 0, k_listen_port },
	{ "FwMark", SEC_INTERFACE, false, 0, k_fwmark },
	{ "Address", SEC_INTERFACE, true, 0, k_address },
	{ "DNS", SEC_INTERFACE, true, 0, k_dns },
	{ "MTU", SEC_INTERFACE, true, 0, k_mtu },
	{ "Table", SEC_INTERFACE, true, 0, k_table },
	{ "PreUp", SEC_INTERFACE, true, HOOK_PRE_UP, k_hook },
	{ "PostUp", SEC_INTERFACE, true, HOOK_POST_UP, k_hook },
	{ "PreDown", SEC_INTERFACE, true, HOOK_PRE_DOWN, k_hook },
	{ "PostDown", SEC_INTERFACE, true, HOOK_POST_DOWN, k_hook },
	{ "SaveConfig", SEC_INTERFACE, true, 0, k_save_config },
	{ "PublicKey", SEC_PEER, false, 0, k_public_key },
	{ "PresharedKey", SEC_PEER, false, 0, k_preshared_key },
	{ "AllowedIPs", SEC_PEER, false, 0, k_allowed_ips },
	{ "Endpoint", SEC_PEER, false, 0, k_endpoint },
	{ "PersistentKeepalive", SEC_PEER, false, 0, k_keepalive },
};

/* ------------------------------------------------------------- the parser */

/* Close the current section: a finished [Peer] joins the device. */
static int end_section(struct parser *p)
{
	struct wgnl_device *dev = p->cfg->dev;
	struct wgnl_peer *dst;
	int r;

	if (!p->in_peer)
		return 0;
	p->in_peer = false;
	if (!(p->peer.flags & WGNL_PEER_HAS_PUBLIC_KEY)) {
		p->line = p->peer_line;
		return fail(p, -EINVAL, "PublicKey", "PublicKey missing in [Peer] at line %u",
			    p->peer_line);
	}
	if (wgi_grow((void **)&p->peer_lines, &p->cap_peer_lines, dev->n_peers + 1,
		     sizeof(*p->peer_lines)) < 0)
		return fail_nomem(p, "Peer");
	r = wgnl_device_add_peer(dev, p->peer.public_key, &dst);
	if (r == -ENOMEM)
		return fail_nomem(p, "Peer");
	if (r < 0) /* cannot happen: PublicKey checked for duplicates */
		return fail(p, -EINVAL, "PublicKey", "duplicate peer");
	/* Move what the staged peer owns into the device's copy. */
	*dst = p->peer;
	wgnl_wipe(&p->peer, sizeof(p->peer));
	p->peer_lines[dev->n_peers - 1] = p->peer_line;
	return 0;
}

static int parse_section(struct parser *p, const char *name)
{
	int r = end_section(p);

	if (r < 0)
		return r;
	if (!strcasecmp(name, "Interface")) {
		p->section = SEC_INTERFACE;
	} else if (!strcasecmp(name, "Peer")) {
		p->section = SEC_PEER;
		p->in_peer = true;
		p->peer_line = p->line;
	} else if (is_word(name)) {
		return fail(p, -EINVAL, name, "unknown section [%s] (want [Interface] or [Peer])",
			    name);
	} else {
		return fail(p, -EINVAL, "",
			    "unknown section (want [Interface] or [Peer]; the name is not shown: "
			    "it may hold key material)");
	}
	return 0;
}

/* The text before '=' is no key name. It is quoted only when it is a short
 * word: "PrivateKey: <key>=" (a colon for '=', and base64 ends in '=') or a
 * bare key line would otherwise put key material into the message. */
static int unknown_key(struct parser *p, const char *s)
{
	for (size_t i = 0; i < WGI_ARRAY_SIZE(keys); i++) {
		size_t n = strlen(keys[i].name);

		if (!strncasecmp(s, keys[i].name, n) && (s[n] == ':' || is_space(s[n])))
			return fail(p, -EINVAL, keys[i].name,
				    "%s: expected '%s = <value>' (the rest of the line is not "
				    "shown: it may hold key material)",
				    keys[i].name, keys[i].name);
	}
	if (!is_word(s))
		return fail(p, -EINVAL, "",
			    "expected 'Key = Value' with a key name before '=' (the text is not "
			    "shown: it may hold key material)");
	if (p->section == SEC_NONE)
		return fail(p, -EINVAL, s, "key outside a section");
	return fail(p, -EINVAL, s, "unknown key");
}

static int parse_pair(struct parser *p, const char *s, char *value)
{
	const struct keydef *k = NULL;

	if (!*s)
		return fail(p, -EINVAL, "", "missing key before '='");
	/* The current section's keys first: a 10k-peer file is mostly [Peer]
	 * lines, whose keys stand last in the table. */
	for (int pass = 0; pass < 2 && !k; pass++) {
		for (size_t i = 0; i < WGI_ARRAY_SIZE(keys); i++) {
			if ((keys[i].section == p->section) == !pass &&
			    !strcasecmp(s, keys[i].name)) {
				k = &keys[i];
				break;
			}
		}
	}
	if (!k)
		return unknown_key(p, s);
	if (p->section == SEC_NONE)
		return fail(p, -EINVAL, k->name, "key outside a section");
	if (k->quick && !(p->flags & WGNL_CONFIG_QUICK))
		return fail(p, -EINVAL, k->name, "%s: wg-quick key, not accepted in a wg config",
			    k->name);
	if (k->section != p->section)
		return fail(p, -EINVAL, k->name, "%s: not valid in [%s]", k->name,
			    p->section == SEC_PEER ? "Peer" : "Interface");
	return k->fn(p, k, value);
}

/* One line from the INI lexer (lib/core/ini.c). */
static int parse_item(const struct wgnl_ini_item *it, void *data)
{
	struct parser *p = data;

	p->line = it->line;
	switch (it->kind) {
	case WGNL_INI_SECTION:
		return parse_section(p, it->section);
	case WGNL_INI_PAIR:
		return parse_pair(p, it->key, it->value);
	default:
		break;
	}
	if (it->error == WGNL_INI_ERR_NUL)
		return fail(p, -EINVAL, "", "NUL byte in line");
	if (it->error == WGNL_INI_ERR_SECTION)
		return fail(p, -EINVAL, "", "bad section header (want [Interface] or [Peer])");
	return fail(p, -EINVAL, "", "expected 'Key = Value' or a [Section]");
}

/* Parse @buf (@len bytes plus one writable byte after them), which is
 * modified in place. */
static int parse_buffer(struct parser *p, char *buf, size_t len)
{
	static const struct wgnl_ini_opts opts = { .size = sizeof(opts), .flags = WGNL_INI_BOM };
	int r = wgnl_ini_parse(buf, len, &opts, parse_item, p);

	if (r < 0)
		return r;
	return end_section(p);
}

/* Parse @buf in place (see parse_buffer()); the caller wipes it. */
static int conf_parse_mutable(char *buf, size_t len, const char *filename, unsigned flags,
			      struct wgnl_config **ret, struct wgnl_config_error *err)
{
	struct wgnl_config_error dummy;
	struct parser p = { .flags = flags };
	struct wgnl_device *dev;
	int r;

	if (!err)
		err = &dummy;
	p.err = err;
	*ret = NULL;
	p.cfg = calloc(1, sizeof(*p.cfg));
	if (!p.cfg || !(p.cfg->dev = wgnl_device_new(NULL))) {
		free(p.cfg);
		return fail_nomem(&p, "");
	}
	r = parse_buffer(&p, buf, len);
	dev = p.cfg->dev;
	if (r == 0 && (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY) &&
	    !wgnl_key_is_zero(dev->private_key) &&
	    wgnl_key_public_from_private(dev->public_key, dev->private_key) == 0)
		dev->flags |= WGNL_DEV_HAS_PUBLIC_KEY;
	wgi_peer_clear(&p.peer);
	free(p.peer_lines);
	if (r < 0) {
		wgnl_config_free(p.cfg);
		return r;
	}
	*ret = p.cfg;
	return 0;
}

static void error_init(struct wgnl_config_error *err, const char *filename)
{
	if (!err)
		return;
	memset(err, 0, sizeof(*err));
	snprintf(err->file, sizeof(err->file), "%s", filename ? filename : "");
}

int wgnl_config_parse(const char *text, size_t len, const char *filename, unsigned flags,
		      struct wgnl_config **ret, struct wgnl_config_error *err)
{
	char *buf;
	int r;

	*ret = NULL;
	error_init(err, filename);
	if (len == SIZE_MAX || !(buf = malloc(len + 1))) {
		if (err)
			snprintf(err->message, sizeof(err->message), "out of memory");
		return -ENOMEM;
	}
	if (len)
		memcpy(buf, text, len);
	buf[len] = '\0';
	r = conf_parse_mutable(buf, len, filename, flags, ret, err);
	wgnl_wipe(buf, len + 1);
	free(buf);
	return r;
}

static int file_fail(struct wgnl_config_error *err, int r, const char *what)
{
	char sbuf[96];

	if (err)
		snprintf(err->message, sizeof(err->message), "%s: %s", what,
			 strerror_r(-r, sbuf, sizeof(sbuf)));
	return r;
}

int wgnl_config_parse_file(const char *path, unsigned flags, struct wgnl_config **ret,
			   struct wgnl_config_error *err)
{
	size_t len;
	char *buf;
	int r;

	*ret = NULL;
	error_init(err, path);
	r = wgnl_file_read(path, 0, &buf, &len);
	if (r < 0)
		return file_fail(err, r,
				 r == -ENOENT || r == -EACCES || r == -EPERM || r == -ELOOP ||
						 r == -ENOTDIR ?
					 "cannot open" :
					 "cannot read");
	r = conf_parse_mutable(buf, len, path, flags, ret, err);
	wgnl_wipe(buf, len + 1);
	free(buf);
	return r;
}

/* ------------------------------------------------------------- the writer */

static void write_strings(FILE *f, const char *key, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s = %s\n", key, v[i]);
}

static void write_quick(FILE *f, const struct wgnl_quick *q)
{
	char buf[INET6_ADDRSTRLEN + 8];

	if (q->n_addresses) {
		fputs("Address = ", f);
		for (size_t i = 0; i < q->n_addresses; i++)
			fprintf(f, "%s%s", i ? ", " : "",
				wgnl_prefix_format(&q->addresses[i], buf, sizeof(buf)));
		fputc('\n', f);
	}
	if (q->n_dns) {
		fputs("DNS = ", f);
		for (size_t i = 0; i < q->n_dns; i++)
			fprintf(f, "%s%s", i ? ", " : "", q->dns[i]);
		fputc('\n', f);
	}
	if (q->mtu)
		fprintf(f, "MTU = %u\n", q->mtu);
	if (q->table_mode == WGNL_TABLE_OFF)
		fputs("Table = off\n", f);
	else if (q->table_mode == WGNL_TABLE_ID)
		fprintf(f, "Table = %u\n", q->table);
	write_strings(f, "PreUp", q->pre_up, q->n_pre_up);
	write_strings(f, "PostUp", q->post_up, q->n_post_up);
	write_strings(f, "PreDown", q->pre_down, q->n_pre_down);
	write_strings(f, "PostDown", q->post_down, q->n_post_down);
	if (q->save_config)
		fputs("SaveConfig = true\n", f);
}

/* "Key = value\n" without printf's format parsing: a 10k-peer config
 * (showconf, SaveConfig, the sync record) is written line by line. */
static void put_line(FILE *f, const char *key, const char *value)
{
	fputs(key, f);
	fputs(" = ", f);
	fputs(value, f);
	fputc('\n', f);
}

static void write_peer(FILE *f, const struct wgnl_peer *peer)
{
	char buf[INET6_ADDRSTRLEN + 8], ep[64];
	wgnl_key_b64 b64;

	fputs("\n[Peer]\n", f);
	wgnl_key_to_base64(b64, peer->public_key);
	put_line(f, "PublicKey", b64);
	if (peer->flags & WGNL_PEER_HAS_PRESHARED_KEY) {
		wgnl_key_to_base64(b64, peer->preshared_key);
		put_line(f, "PresharedKey", b64);
		wgnl_wipe(b64, sizeof(b64));
	}
	if (peer->n_allowedips) {
		fputs("AllowedIPs = ", f);
		for (size_t i = 0; i < peer->n_allowedips; i++) {
			if (i)
				fputs(", ", f);
			fputs(wgnl_prefix_format(&peer->allowedips[i], buf, sizeof(buf)), f);
		}
		fputc('\n', f);
	}
	if (peer->endpoint_name)
		put_line(f, "Endpoint", peer->endpoint_name);
	else if (peer->flags & WGNL_PEER_HAS_ENDPOINT)
		put_line(f, "Endpoint", wgnl_endpoint_format(&peer->endpoint, ep, sizeof(ep)));
	if (peer->flags & WGNL_PEER_HAS_KEEPALIVE) {
		if (peer->persistent_keepalive)
			fprintf(f, "PersistentKeepalive = %u\n", peer->persistent_keepalive);
		else
			fputs("PersistentKeepalive = off\n", f);
	}
}

int wgnl_config_write(FILE *f, const struct wgnl_config *cfg, unsigned flags)
{
	const struct wgnl_device *dev = cfg->dev;

	fputs("[Interface]\n", f);
	if (dev && (dev->flags & WGNL_DEV_HAS_PRIVATE_KEY)) {
		wgnl_key_b64 b64;

		wgnl_key_to_base64(b64, dev->private_key);
		fprintf(f, "PrivateKey = %s\n", b64);
		wgnl_wipe(b64, sizeof(b64));
	}
	if (dev && (dev->flags & WGNL_DEV_HAS_LISTEN_PORT))
		fprintf(f, "ListenPort = %u\n", dev->listen_port);
	if (dev && (dev->flags & WGNL_DEV_HAS_FWMARK)) {
		if (dev->fwmark)
			fprintf(f, "FwMark = 0x%x\n", dev->fwmark);
		else
			fputs("FwMark = off\n", f);
	}
	if (flags & WGNL_CONFIG_QUICK)
		write_quick(f, &cfg->quick);
	for (size_t i = 0; dev && i < dev->n_peers; i++)
		write_peer(f, &dev->peers[i]);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void wgnl_config_free(struct wgnl_config *cfg)
{
	struct wgnl_quick *q;

	if (!cfg)
		return;
	q = &cfg->quick;
	wgnl_device_free(cfg->dev);
	free(q->addresses);
	strv_free(q->dns, q->n_dns);
	strv_free(q->pre_up, q->n_pre_up);
	strv_free(q->post_up, q->n_post_up);
	strv_free(q->pre_down, q->n_pre_down);
	strv_free(q->post_down, q->n_post_down);
	wgnl_wipe(cfg, sizeof(*cfg));
	free(cfg);
}
