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
}

static int copy_str(char *dst, size_t size, const char *v);

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

static int copy_str(char *dst, size_t size, const char *v)
{
	size_t n = strlen(v);

	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(dst, v, n + 1);
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

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* Walk the file; for each "key = value" call the setter on the matching
 * settings (@target when the section is the one asked for, a scratch copy
 * otherwise, so every section is validated). With @sections, collect the
 * interface section names instead. */
static int walk(const char *text, size_t len, const char *filename, const char *ifname,
		struct wgnl_health_settings *target, char ***sections, size_t *n_sections,
		struct wgnl_config_error *err)
{
	struct wgnl_health_settings *scratch = malloc(sizeof(*scratch));
	/* Pass 1 applies [defaults], pass 2 the interface's section, so the
	 * order of sections in the file does not matter. */
	int r = 0;

	if (!scratch)
		return -ENOMEM;
	for (int pass = 1; pass <= 2 && !r; pass++) {
		size_t pos = 0;
		unsigned lineno = 0;
		bool in_defaults = true;
		char section[64] = "";

		while (pos < len && !r) {
			const char *nl = memchr(text + pos, '\n', len - pos);
			size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
			char line[1024];

			lineno++;
			if (n >= sizeof(line)) {
				set_err(err, filename, lineno, NULL, "line too long");
				r = -EINVAL;
				break;
			}
			memcpy(line, text + pos, n);
			line[n] = 0;
			pos += n + (nl ? 1 : 0);
			if (memchr(line, 0, n)) {
				set_err(err, filename, lineno, NULL, "NUL byte in the file");
				r = -EINVAL;
				break;
			}
			char *hash = strchr(line, '#');
			/* '#' starts a comment only at the start of a line or
			 * after blank space (URLs and commands may hold '#'). */
			if (hash && (hash == line || hash[-1] == ' ' || hash[-1] == '\t'))
				*hash = 0;
			char *s = trim(line);
			if (!*s)
				continue;
			if (*s == '[') {
				char *e = strchr(s, ']');
				if (!e || e[1] || e - s - 1 <= 0 || e - s - 1 >= WGNL_IFNAMSIZ) {
					set_err(err, filename, lineno, NULL,
						"bad section header (want [defaults] or [IFNAME], "
						"name under 16 bytes)");
					r = -EINVAL;
					break;
				}
				*e = 0;
				snprintf(section, sizeof(section), "%s", s + 1);
				in_defaults = !strcmp(section, "defaults");
				if (!in_defaults && strpbrk(section, "/ \t:")) {
					set_err(err, filename, lineno, section,
						"bad interface name");
					r = -EINVAL;
					break;
				}
				if (pass == 1 && sections && !in_defaults) {
					for (size_t k = 0; k < *n_sections; k++)
						if (!strcmp((*sections)[k], section)) {
							set_err(err, filename, lineno, section,
								"duplicate section");
							r = -EINVAL;
						}
					if (r)
						break;
					char **nv =
						realloc(*sections, (*n_sections + 2) * sizeof(*nv));
					if (!nv) {
						r = -ENOMEM;
						break;
					}
					*sections = nv;
					nv[*n_sections] = strdup(section);
					if (!nv[*n_sections]) {
						r = -ENOMEM;
						break;
					}
					nv[++*n_sections] = NULL;
				}
				continue;
			}
			char *eq = strchr(s, '=');
			if (!eq) {
				set_err(err, filename, lineno, NULL, "expected 'key = value'");
				r = -EINVAL;
				break;
			}
			*eq = 0;
			char *key = trim(s), *val = trim(eq + 1);
			bool mine = pass == 1 ?
					    in_defaults :
					    (!in_defaults && ifname && !strcmp(section, ifname));
			struct wgnl_health_settings *dst = mine && target ? target : scratch;

			if (!mine || !target)
				wgnl_health_settings_default(scratch);
			int sr = wgnl_health_settings_set(dst, key, val);
			if (sr == -ENOENT) {
				set_err(err, filename, lineno, key, "unknown setting");
				r = -EINVAL;
			} else if (sr == -ENAMETOOLONG) {
				set_err(err, filename, lineno, key, "value too long");
				r = -EINVAL;
			} else if (sr < 0) {
				set_err(err, filename, lineno, key, "invalid value");
				r = -EINVAL;
			}
		}
	}
	free(scratch);
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
