// SPDX-License-Identifier: MIT
/* wghealth settings: defaults, one "key = value" at a time, and the
 * wghealth.conf file with a [defaults] section and one section per
 * interface. Every section is validated, not only the one asked for, so a
 * typo under another interface is found by the first run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_health.h"
#include "settings.h"

void wgnl_health_settings_default(struct wgnl_health_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->handshake_timeout_ms = 180000;
	s->disconnect_after = 3;
	s->reconnect_timeout_ms = 60000;
	s->max_retries = 3;
	s->retry_interval_ms = 10000;
	s->backoff_max_ms = 300000;
	s->jitter_pct = 10;
	s->cooldown_ms = 300000;
	s->ping_count = 3;
	s->ping_timeout_ms = 1000;
	s->ping_max_loss_pct = 50;
	s->url_timeout_ms = 3000;
	s->remedies = true;
	s->port_min = 49152;
	s->port_max = 65535;
	s->min_healthy_peers = 1;
	s->max_unhealthy_pct = 50;
	s->service_stop_timeout_ms = 30000;
	s->service_start_timeout_ms = 30000;
}

static int copy_str(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, v, n + 1);
	return 0;
}

/* "all", "none", "" or public keys separated by blanks or commas. */
static int parse_critical(struct wgnl_health_settings *s, const char *v)
{
	char buf[WGNL_HEALTH_MAX_CRITICAL * 46], *save = NULL;
	size_t n = 0;
	wgnl_key keys[WGNL_HEALTH_MAX_CRITICAL];

	if (!strcmp(v, "all")) {
		s->all_critical = true;
		s->n_critical = 0;
		return 0;
	}
	if (copy_str(buf, sizeof(buf), v) < 0)
		return -EINVAL;
	if (strcmp(v, "none")) {
		for (char *t = strtok_r(buf, " \t,", &save); t; t = strtok_r(NULL, " \t,", &save)) {
			if (n == WGNL_HEALTH_MAX_CRITICAL || wgnl_key_from_base64(keys[n], t) < 0)
				return -EINVAL;
			n++;
		}
	}
	s->all_critical = false;
	memcpy(s->critical, keys, n * sizeof(keys[0]));
	s->n_critical = n;
	return 0;
}

/* "10", "10s", "500ms", "5m", "1h" -> ms (bare numbers are seconds). At
 * most 2^32-1 ms (~49 days). */
static int parse_duration(const char *v, bool allow_zero, uint32_t *out)
{
	char *end;
	uint64_t mult = 1000;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	if (!*end || !strcmp(end, "s"))
		mult = 1000;
	else if (!strcmp(end, "ms"))
		mult = 1;
	else if (!strcmp(end, "m"))
		mult = 60000;
	else if (!strcmp(end, "h"))
		mult = 3600000;
	else
		return -EINVAL;
	if (n > UINT32_MAX / mult || (!n && !allow_zero))
		return -EINVAL;
	*out = (uint32_t)(n * mult);
	return 0;
}

static int parse_uint(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (errno || *end || n < min || n > max)
		return -EINVAL;
	*out = (uint32_t)n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off") || !strcmp(v, "0"))
		*out = false;
	else
		return -EINVAL;
	return 0;
}

int wgnl_health_settings_set(struct wgnl_health_settings *s, const char *key, const char *v)
{
	struct {
		const char *key;
		uint32_t *ms;
		bool zero_ok;
	} durations[] = {
		{ "handshake_timeout", &s->handshake_timeout_ms, false },
		{ "reconnect_timeout", &s->reconnect_timeout_ms, false },
		{ "retry_interval", &s->retry_interval_ms, false },
		{ "backoff_max", &s->backoff_max_ms, false },
		{ "cooldown", &s->cooldown_ms, true },
		{ "ping_timeout", &s->ping_timeout_ms, false },
		{ "url_timeout", &s->url_timeout_ms, false },
	};
	if (!wgi_health_settings_ok(s))
		return -EINVAL;
	for (size_t i = 0; i < sizeof(durations) / sizeof(durations[0]); i++)
		if (!strcmp(key, durations[i].key))
			return parse_duration(v, durations[i].zero_ok, durations[i].ms);
	/* Fields after 0.1: only when the caller's struct has them. */
	if (!strcmp(key, "service_stop_timeout") || !strcmp(key, "service_start_timeout")) {
		if (s->size < WGI_SIZE_0_1(struct wgnl_health_settings, service_start_timeout_ms))
			return -EINVAL;
		return parse_duration(v, false,
				      strcmp(key, "service_stop_timeout") ?
					      &s->service_start_timeout_ms :
					      &s->service_stop_timeout_ms);
	}
	if (!strcmp(key, "disconnect_after"))
		return parse_uint(v, 1, 1000000, &s->disconnect_after);
	if (!strcmp(key, "max_retries"))
		return parse_uint(v, 0, 1000000, &s->max_retries);
	if (!strcmp(key, "jitter"))
		return parse_uint(v, 0, 100, &s->jitter_pct);
	if (!strcmp(key, "ping_count"))
		return parse_uint(v, 1, 100, &s->ping_count);
	if (!strcmp(key, "ping_max_loss"))
		return parse_uint(v, 0, 99, &s->ping_max_loss_pct);
	if (!strcmp(key, "remedies"))
		return parse_bool(v, &s->remedies);
	if (!strcmp(key, "min_healthy_peers"))
		return parse_uint(v, 0, 1000000, &s->min_healthy_peers);
	if (!strcmp(key, "max_unhealthy_ratio"))
		return parse_uint(v, 0, 100, &s->max_unhealthy_pct);
	if (!strcmp(key, "critical_peers"))
		return parse_critical(s, v);
	if (!strcmp(key, "port_range")) {
		uint32_t lo, hi;
		char buf[32], *dash;

		if (copy_str(buf, sizeof(buf), v) < 0 || !(dash = strchr(buf, '-')))
			return -EINVAL;
		*dash = 0;
		if (parse_uint(buf, 1, 65535, &lo) || parse_uint(dash + 1, 1, 65535, &hi) ||
		    lo > hi)
			return -EINVAL;
		s->port_min = (uint16_t)lo;
		s->port_max = (uint16_t)hi;
		return 0;
	}
	if (!strcmp(key, "ping")) {
		struct wgnl_prefix p;

		/* An address, checked now so a typo is a config error. */
		if (!*v) {
			s->ping[0] = 0;
			return 0;
		}
		if (strchr(v, '/') || wgnl_prefix_parse(&p, v) < 0)
			return -EINVAL;
		return copy_str(s->ping, sizeof(s->ping), v);
	}
	if (!strcmp(key, "url")) {
		if (*v && strncmp(v, "http://", 7) && strncmp(v, "https://", 8))
			return -EINVAL;
		return copy_str(s->url, sizeof(s->url), v);
	}
	if (!strcmp(key, "wg_config"))
		return copy_str(s->wg_config, sizeof(s->wg_config), v);
	if (!strcmp(key, "restart_command"))
		return copy_str(s->restart_command, sizeof(s->restart_command), v);
	if (!strcmp(key, "down_command"))
		return copy_str(s->down_command, sizeof(s->down_command), v);
	if (!strcmp(key, "up_command"))
		return copy_str(s->up_command, sizeof(s->up_command), v);
	return -ENOENT;
}

static void set_err(struct wgnl_config_error *err, const char *file, unsigned line, const char *key,
		    const char *msg)
{
	if (!err)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
	err->line = line;
	snprintf(err->key, sizeof(err->key), "%s", key ? key : "");
	snprintf(err->message, sizeof(err->message), "%s", msg);
}

struct walk {
	const char *filename, *ifname;
	struct wgnl_health_settings *target, *scratch;
	char ***sections;
	size_t *n_sections;
	struct wgnl_config_error *err;
	int pass;
	bool in_defaults;
};

static int walk_fail(struct walk *w, unsigned line, const char *key, const char *msg)
{
	set_err(w->err, w->filename, line, key, msg);
	return -EINVAL;
}

static int add_section(struct walk *w, unsigned line, const char *section)
{
	char **nv;

	for (size_t k = 0; k < *w->n_sections; k++)
		if (!strcmp((*w->sections)[k], section))
			return walk_fail(w, line, section, "duplicate section");
	nv = realloc(*w->sections, (*w->n_sections + 2) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*w->sections = nv;
	nv[*w->n_sections] = strdup(section);
	if (!nv[*w->n_sections])
		return -ENOMEM;
	nv[++*w->n_sections] = NULL;
	return 0;
}

/* One line from the INI lexer (lib/core/ini.c). */
static int walk_item(const struct wgnl_ini_item *it, void *data)
{
	struct walk *w = data;
	const char *section = it->section;

	if (it->kind == WGNL_INI_ERROR) {
		switch (it->error) {
		case WGNL_INI_ERR_LONG:
			return walk_fail(w, it->line, NULL, "line too long");
		case WGNL_INI_ERR_NUL:
			return walk_fail(w, it->line, NULL, "NUL byte in the file");
		case WGNL_INI_ERR_NO_EQUALS:
			return walk_fail(w, it->line, NULL, "expected 'key = value'");
		default:
			break;
		}
	}
	if (it->kind != WGNL_INI_PAIR) {
		size_t n = it->kind == WGNL_INI_SECTION ? strlen(section) : 0;

		if (!n || n >= WGNL_IFNAMSIZ || strchr(section, ']'))
			return walk_fail(w, it->line, NULL,
					 "bad section header (want [defaults] or [IFNAME], "
					 "name under 16 bytes)");
		w->in_defaults = !strcmp(section, "defaults");
		if (!w->in_defaults && strpbrk(section, "/ \t:"))
			return walk_fail(w, it->line, section, "bad interface name");
		if (w->pass == 1 && w->sections && !w->in_defaults)
			return add_section(w, it->line, section);
		return 0;
	}

	bool mine = w->pass == 1 ? w->in_defaults :
				   (!w->in_defaults && w->ifname && !strcmp(section, w->ifname));
	struct wgnl_health_settings *dst = mine && w->target ? w->target : w->scratch;

	if (!mine || !w->target)
		wgnl_health_settings_default(w->scratch);
	int sr = wgnl_health_settings_set(dst, it->key, it->value);
	if (sr == -ENOENT)
		return walk_fail(w, it->line, it->key, "unknown setting");
	if (sr == -ENAMETOOLONG)
		return walk_fail(w, it->line, it->key, "value too long");
	if (sr < 0)
		return walk_fail(w, it->line, it->key, "invalid value");
	return 0;
}

/* Walk the file; for each "key = value" call the setter on the matching
 * settings (@target when the section is the one asked for, a scratch copy
 * otherwise, so every section is validated). With @sections, collect the
 * interface section names instead. */
static int walk(const char *text, size_t len, const char *filename, const char *ifname,
		struct wgnl_health_settings *target, char ***sections, size_t *n_sections,
		struct wgnl_config_error *err)
{
	/* '#' may stand inside a URL or a command; lines end up in fixed
	 * buffers of 1024 bytes. */
	static const struct wgnl_ini_opts opts = {
		.size = sizeof(opts),
		.flags = WGNL_INI_HASH_AFTER_BLANK | WGNL_INI_BLANK_SPACE_TAB,
		.max_line = 1023,
	};
	struct walk w = { .filename = filename,
			  .ifname = ifname,
			  .target = target,
			  .sections = sections,
			  .n_sections = n_sections,
			  .err = err };
	/* The lexer writes into its buffer: a copy per pass. */
	char *buf = malloc(len + 1);
	/* Pass 1 applies [defaults], pass 2 the interface's section, so the
	 * order of sections in the file does not matter. */
	int r = 0;

	w.scratch = malloc(sizeof(*w.scratch));
	if (!buf || !w.scratch) {
		free(buf);
		free(w.scratch);
		return -ENOMEM;
	}
	for (w.pass = 1; w.pass <= 2 && !r; w.pass++) {
		if (len)
			memcpy(buf, text, len);
		w.in_defaults = true;
		r = wgnl_ini_parse(buf, len, &opts, walk_item, &w);
	}
	free(buf);
	free(w.scratch);
	return r;
}

int wgnl_health_conf_parse(const char *text, size_t len, const char *filename, const char *ifname,
			   struct wgnl_health_settings *s, struct wgnl_config_error *err)
{
	if (s && !wgi_health_settings_ok(s)) {
		set_err(err, filename, 0, NULL, "settings: size not set");
		return -EINVAL;
	}
	return walk(text, len, filename, ifname, s, NULL, NULL, err);
}

/* A settings file of 16 MiB or more is refused (-EFBIG). */
static int read_all(const char *path, char **ret, size_t *len)
{
	return wgnl_file_read(path, (16U << 20) - 1, ret, len);
}

int wgnl_health_conf_parse_file(const char *path, const char *ifname,
				struct wgnl_health_settings *s, struct wgnl_config_error *err)
{
	char *text;
	size_t len = 0;
	int r;

	if (s && !wgi_health_settings_ok(s)) {
		set_err(err, path, 0, NULL, "settings: size not set");
		return -EINVAL;
	}
	r = read_all(path, &text, &len);
	if (r < 0) {
		set_err(err, path, 0, NULL, strerror(-r));
		return r;
	}
	r = walk(text ? text : "", len, path, ifname, s, NULL, NULL, err);
	free(text);
	return r;
}

int wgnl_health_conf_sections(const char *path, char ***ret, struct wgnl_config_error *err)
{
	char *text, **v = NULL;
	size_t len = 0, n = 0;
	int r = read_all(path, &text, &len);

	*ret = NULL;
	if (r < 0) {
		set_err(err, path, 0, NULL, strerror(-r));
		return r;
	}
	r = walk(text ? text : "", len, path, NULL, NULL, &v, &n, err);
	free(text);
	if (r < 0) {
		wgnl_strv_free(v);
		return r;
	}
	if (!v) {
		v = calloc(1, sizeof(*v));
		if (!v)
			return -ENOMEM;
	}
	*ret = v;
	return (int)n;
}
