/* SPDX-License-Identifier: MIT */
/* libFuzzer harness for the INI lexer (wgnl_ini_parse). The first byte picks
 * the flags and a line limit, the rest is the text, in a buffer of exactly
 * len + 1 bytes (ASan sees any overrun). Every item must lie inside the
 * buffer, NUL-terminated, trimmed, without a newline, on increasing lines
 * within the text; a pair's key holds no '='; without
 * WGNL_INI_HASH_AFTER_BLANK no item holds a '#'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wgkit/wgnl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct state {
	const char *buf;
	size_t len;
	unsigned flags, last_line, lines;
};

static bool blank(char c, unsigned flags)
{
	if (flags & WGNL_INI_BLANK_SPACE_TAB)
		return c == ' ' || c == '\t';
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void check_str(const struct state *st, const char *s, bool trimmed)
{
	size_t n;

	if (!s || s < st->buf || s > st->buf + st->len)
		abort();
	n = strnlen(s, (size_t)(st->buf + st->len + 1 - s));
	if (s + n > st->buf + st->len || memchr(s, '\n', n))
		abort();
	if (!(st->flags & WGNL_INI_HASH_AFTER_BLANK) && memchr(s, '#', n))
		abort();
	if (trimmed && n &&
	    (blank(s[0], st->flags) || blank(s[n - 1], st->flags) || s[n - 1] == '\r'))
		abort();
}

static int check_item(const struct wgnl_ini_item *it, void *data)
{
	struct state *st = data;

	if (it->line <= st->last_line || it->line > st->lines || !it->section)
		abort();
	st->last_line = it->line;
	switch (it->kind) {
	case WGNL_INI_SECTION:
		check_str(st, it->section, false);
		if (it->key || it->value)
			abort();
		break;
	case WGNL_INI_PAIR:
		check_str(st, it->key, true);
		check_str(st, it->value, true);
		if (strchr(it->key, '='))
			abort();
		break;
	case WGNL_INI_ERROR:
		if (it->error < WGNL_INI_ERR_LONG || it->error > WGNL_INI_ERR_NO_EQUALS)
			abort();
		break;
	default:
		abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wgnl_ini_opts o = { .size = sizeof(o) };
	struct state st = { 0 };
	char *buf;

	if (!size)
		return 0;
	o.flags = data[0] & 7;
	o.max_line = (data[0] >> 3) * 4; /* 0 (no limit) to 124 */
	data++;
	size--;
	buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	st.buf = buf;
	st.len = size;
	st.flags = o.flags;
	st.lines = 1;
	for (size_t i = 0; i < size; i++)
		st.lines += data[i] == '\n';
	if (wgnl_ini_parse(buf, size, &o, check_item, &st) != 0)
		abort();
	free(buf);
	return 0;
}
