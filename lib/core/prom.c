// SPDX-License-Identifier: MIT
/* The Prometheus text exposition format into a growing buffer: families
 * announced once, escaped label values, counters, gauges, histograms. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl_prom.h"

struct wgnl_prom {
	char *buf;
	size_t len, cap;
	char **families; /* names already announced */
	size_t n_families, cap_families;
	int err; /* sticky */
};

int wgnl_prom_new(struct wgnl_prom **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? 0 : -ENOMEM;
}

static void forget_families(struct wgnl_prom *p)
{
	for (size_t i = 0; i < p->n_families; i++)
		free(p->families[i]);
	p->n_families = 0;
}

void wgnl_prom_free(struct wgnl_prom *p)
{
	if (!p)
		return;
	forget_families(p);
	free(p->families);
	free(p->buf);
	free(p);
}

int wgnl_prom_text(const struct wgnl_prom *p, const char **text, size_t *len)
{
	*text = p->buf ? p->buf : "";
	if (len)
		*len = p->len;
	return p->err;
}

void wgnl_prom_clear(struct wgnl_prom *p)
{
	if (!p)
		return;
	forget_families(p);
	p->len = 0;
	if (p->buf)
		p->buf[0] = 0;
	p->err = 0;
}

/* Room for @n more bytes and the NUL. */
static int reserve(struct wgnl_prom *p, size_t n)
{
	if (p->err)
		return p->err;
	if (p->len + n + 1 <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : 1024;
	while (cap < p->len + n + 1)
		cap *= 2;
	char *b = realloc(p->buf, cap);
	if (!b)
		return p->err = -ENOMEM;
	p->buf = b;
	p->cap = cap;
	return 0;
}

static void put_mem(struct wgnl_prom *p, const char *s, size_t n)
{
	if (reserve(p, n) < 0)
		return;
	memcpy(p->buf + p->len, s, n);
	p->len += n;
	p->buf[p->len] = 0;
}

static void put_str(struct wgnl_prom *p, const char *s)
{
	put_mem(p, s, strlen(s));
}

/* Numbers only: at most 309 digits before the point of a finite double and
 * the precision (capped at 30) after it. */
static void put_fmt(struct wgnl_prom *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void put_fmt(struct wgnl_prom *p, const char *fmt, ...)
{
	char tmp[400];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		p->err = p->err ? p->err : -EOVERFLOW;
		return;
	}
	put_mem(p, tmp, (size_t)n);
}

/* A label value: backslash, double quote and newline escaped; HELP text:
 * backslash and newline. */
static void put_escaped(struct wgnl_prom *p, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *esc = *s == '\\'	     ? "\\\\" :
				  *s == '\n'	     ? "\\n" :
				  *s == '"' && quote ? "\\\"" :
						       NULL;
		if (!esc)
			continue;
		put_mem(p, run, (size_t)(s - run));
		put_str(p, esc);
		run = s + 1;
	}
	put_mem(p, run, (size_t)(s - run));
}

static bool valid_name(const char *s, bool colon_ok)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (colon_ok && *s == ':')))
			return false;
	return true;
}

static bool valid_labels(const struct wgnl_prom_label *l, size_t n)
{
	if (n && !l)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!valid_name(l[i].name, false) || !l[i].value)
			return false;
	return true;
}

int wgnl_prom_family_begin(struct wgnl_prom *p, const char *name, enum wgnl_prom_type type,
			   const char *help)
{
	static const char *const types[] = {
		[WGNL_PROM_COUNTER] = "counter",
		[WGNL_PROM_GAUGE] = "gauge",
		[WGNL_PROM_HISTOGRAM] = "histogram",
		[WGNL_PROM_UNTYPED] = "untyped",
	};

	if (p->err)
		return p->err;
	if (!valid_name(name, true) || (unsigned)type > WGNL_PROM_UNTYPED)
		return -EINVAL;
	for (size_t i = 0; i < p->n_families; i++)
		if (!strcmp(p->families[i], name))
			return 0;
	if (p->n_families == p->cap_families) {
		size_t cap = p->cap_families ? p->cap_families * 2 : 16;
		char **f = realloc(p->families, cap * sizeof(*f));
		if (!f)
			return p->err = -ENOMEM;
		p->families = f;
		p->cap_families = cap;
	}
	if (!(p->families[p->n_families] = strdup(name)))
		return p->err = -ENOMEM;
	p->n_families++;
	if (help) {
		put_str(p, "# HELP ");
		put_str(p, name);
		put_str(p, " ");
		put_escaped(p, help, false);
		put_str(p, "\n");
	}
	put_str(p, "# TYPE ");
	put_str(p, name);
	put_str(p, " ");
	put_str(p, types[type]);
	put_str(p, "\n");
	return p->err;
}

/* "name{a="x",b="y"" up to the closing brace, which the caller writes
 * (a histogram adds le first). */
static void put_head(struct wgnl_prom *p, const char *name, const char *suffix,
		     const struct wgnl_prom_label *l, size_t n, bool more)
{
	put_str(p, name);
	put_str(p, suffix);
	if (!n && !more)
		return;
	put_str(p, "{");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_str(p, ",");
		put_str(p, l[i].name);
		put_str(p, "=\"");
		put_escaped(p, l[i].value, true);
		put_str(p, "\"");
	}
	if (!more)
		put_str(p, "}");
}

static void put_double(struct wgnl_prom *p, double v, int precision)
{
	char tmp[40];

	if (isnan(v)) {
		put_str(p, "NaN");
		return;
	}
	if (isinf(v)) {
		put_str(p, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (precision >= 0) {
		put_fmt(p, "%.*f", precision > 30 ? 30 : precision, v);
		return;
	}
	/* The shortest "%g" text that reads back as @v. */
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(tmp, sizeof(tmp), "%.*g", digits, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	put_str(p, tmp);
}

int wgnl_prom_put_u64(struct wgnl_prom *p, const char *name, const struct wgnl_prom_label *labels,
		      size_t n_labels, uint64_t v)
{
	if (p->err)
		return p->err;
	if (!valid_name(name, true) || !valid_labels(labels, n_labels))
		return -EINVAL;
	put_head(p, name, "", labels, n_labels, false);
	put_fmt(p, " %" PRIu64 "\n", v);
	return p->err;
}

int wgnl_prom_put_double(struct wgnl_prom *p, const char *name,
			 const struct wgnl_prom_label *labels, size_t n_labels, double v,
			 int precision)
{
	if (p->err)
		return p->err;
	if (!valid_name(name, true) || !valid_labels(labels, n_labels))
		return -EINVAL;
	put_head(p, name, "", labels, n_labels, false);
	put_str(p, " ");
	put_double(p, v, precision);
	put_str(p, "\n");
	return p->err;
}

int wgnl_prom_put_histogram(struct wgnl_prom *p, const char *name,
			    const struct wgnl_prom_label *labels, size_t n_labels,
			    const double *bounds, const uint64_t *counts, size_t n_bounds,
			    double sum, uint64_t count)
{
	uint64_t cum = 0;

	if (p->err)
		return p->err;
	if (!valid_name(name, true) || !valid_labels(labels, n_labels) ||
	    (n_bounds && (!bounds || !counts)))
		return -EINVAL;
	for (size_t i = 0; i < n_bounds; i++) {
		if (isnan(bounds[i]) || isinf(bounds[i]) || (i && !(bounds[i] > bounds[i - 1])) ||
		    counts[i] > count - cum)
			return -EINVAL;
		cum += counts[i];
	}
	cum = 0;
	for (size_t i = 0; i < n_bounds; i++) {
		cum += counts[i];
		put_head(p, name, "_bucket", labels, n_labels, true);
		put_str(p, n_labels ? ",le=\"" : "le=\"");
		put_double(p, bounds[i], -1);
		put_fmt(p, "\"} %" PRIu64 "\n", cum);
	}
	put_head(p, name, "_bucket", labels, n_labels, true);
	put_str(p, n_labels ? ",le=\"+Inf\"}" : "le=\"+Inf\"}");
	put_fmt(p, " %" PRIu64 "\n", count);
	put_head(p, name, "_sum", labels, n_labels, false);
	put_str(p, " ");
	put_double(p, sum, -1);
	put_str(p, "\n");
	put_head(p, name, "_count", labels, n_labels, false);
	put_fmt(p, " %" PRIu64 "\n", count);
	return p->err;
}
