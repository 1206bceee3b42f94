// SPDX-License-Identifier: MIT
/* Streaming JSON writer (see json.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "json.h"

void wgk_json_init(struct wgk_json *j, FILE *f, bool pretty)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->pretty = pretty;
}

static void indent(struct wgk_json *j)
{
	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* Separate a new value from the previous one: nothing after a key, a comma
 * between items, a line break in pretty mode. */
static void before_value(struct wgk_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->is_object[j->depth] && j->depth > 0)
		j->broken = true; /* an object member without a key */
	if (j->depth == 0) {
		if (j->has_items[0])
			j->broken = true; /* a second top-level value */
		j->has_items[0] = true;
		return;
	}
	if (j->has_items[j->depth])
		fputc(',', j->f);
	j->has_items[j->depth] = true;
	indent(j);
}

static void open_container(struct wgk_json *j, char c)
{
	before_value(j);
	fputc(c, j->f);
	if (j->depth + 1 >= WGK_JSON_MAX_DEPTH) {
		j->broken = true;
		return;
	}
	j->depth++;
	j->has_items[j->depth] = false;
	j->is_object[j->depth] = c == '{';
}

static void close_container(struct wgk_json *j, char c)
{
	bool had_items;

	if (j->depth <= 0 || j->after_key || j->is_object[j->depth] != (c == '}')) {
		j->broken = true;
		return;
	}
	had_items = j->has_items[j->depth];
	j->depth--;
	if (had_items)
		indent(j);
	fputc(c, j->f);
}

void wgk_json_object_begin(struct wgk_json *j)
{
	open_container(j, '{');
}

void wgk_json_object_end(struct wgk_json *j)
{
	close_container(j, '}');
}

void wgk_json_array_begin(struct wgk_json *j)
{
	open_container(j, '[');
}

void wgk_json_array_end(struct wgk_json *j)
{
	close_container(j, ']');
}

void wgk_json_write_escaped(FILE *f, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	fputc('"', f);
	while (*p) {
		unsigned char c = *p;
		size_t n = 0;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			p++;
			continue;
		case '\\':
			fputs("\\\\", f);
			p++;
			continue;
		case '\b':
			fputs("\\b", f);
			p++;
			continue;
		case '\f':
			fputs("\\f", f);
			p++;
			continue;
		case '\n':
			fputs("\\n", f);
			p++;
			continue;
		case '\r':
			fputs("\\r", f);
			p++;
			continue;
		case '\t':
			fputs("\\t", f);
			p++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			p++;
			continue;
		}
		if (c < 0x80) {
			fputc(c, f);
			p++;
			continue;
		}
		/* Pass well-formed UTF-8 through (no overlongs, no surrogates,
		 * nothing above U+10FFFF); replace anything else byte by byte. */
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		if (n) {
			bool ok = true;

			for (size_t i = 1; i < n; i++)
				if ((p[i] & 0xc0) != 0x80)
					ok = false;
			if (ok && n == 3 && c == 0xe0 && p[1] < 0xa0)
				ok = false;
			if (ok && n == 3 && c == 0xed && p[1] > 0x9f)
				ok = false;
			if (ok && n == 4 && c == 0xf0 && p[1] < 0x90)
				ok = false;
			if (ok && n == 4 && c == 0xf4 && p[1] > 0x8f)
				ok = false;
			if (ok) {
				fwrite(p, 1, n, f);
				p += n;
				continue;
			}
		}
		fputs("\\ufffd", f);
		p++;
	}
	fputc('"', f);
}

void wgk_json_key(struct wgk_json *j, const char *key)
{
	if (j->depth <= 0 || j->after_key || !j->is_object[j->depth]) {
		j->broken = true;
		return;
	}
	if (j->has_items[j->depth])
		fputc(',', j->f);
	j->has_items[j->depth] = true;
	indent(j);
	wgk_json_write_escaped(j->f, key);
	fputs(j->pretty ? ": " : ":", j->f);
	j->after_key = true;
}

void wgk_json_string(struct wgk_json *j, const char *s)
{
	if (!s) {
		wgk_json_null(j);
		return;
	}
	before_value(j);
	wgk_json_write_escaped(j->f, s);
}

void wgk_json_uint(struct wgk_json *j, uint64_t v)
{
	before_value(j);
	fprintf(j->f, "%" PRIu64, v);
}

void wgk_json_int(struct wgk_json *j, int64_t v)
{
	before_value(j);
	fprintf(j->f, "%" PRId64, v);
}

void wgk_json_bool(struct wgk_json *j, bool v)
{
	before_value(j);
	fputs(v ? "true" : "false", j->f);
}

void wgk_json_null(struct wgk_json *j)
{
	before_value(j);
	fputs("null", j->f);
}

void wgk_json_kv_string(struct wgk_json *j, const char *key, const char *s)
{
	wgk_json_key(j, key);
	wgk_json_string(j, s);
}

void wgk_json_kv_uint(struct wgk_json *j, const char *key, uint64_t v)
{
	wgk_json_key(j, key);
	wgk_json_uint(j, v);
}

void wgk_json_kv_bool(struct wgk_json *j, const char *key, bool v)
{
	wgk_json_key(j, key);
	wgk_json_bool(j, v);
}

int wgk_json_finish(struct wgk_json *j)
{
	fputc('\n', j->f);
	if (fflush(j->f) != 0 || ferror(j->f))
		return -EIO;
	if (j->broken || j->depth != 0 || j->after_key)
		return -EINVAL;
	return 0;
}
