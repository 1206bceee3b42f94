// SPDX-License-Identifier: MIT
/* The INI lexer shared by every line format of wgkit: lines, comments,
 * blanks, "[section]" and "key = value"; the parsers give the keys meaning. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "opts.h"

/* ' ', '\t', and with @wide '\r', '\v', '\f' (the wg format's blanks). */
static inline bool is_blank(char c, bool wide)
{
	return c == ' ' || c == '\t' || (wide && (c == '\r' || c == '\v' || c == '\f'));
}

/* Trim @s in place (@n bytes, NUL-terminated); return the start, the new
 * length in *@n. '\r' is trimmed at the end in both modes. */
static char *trim(char *s, size_t *n, bool wide)
{
	size_t len = *n;

	while (len && is_blank(*s, wide))
		s++, len--;
	while (len && (is_blank(s[len - 1], wide) || s[len - 1] == '\r'))
		len--;
	s[len] = '\0';
	*n = len;
	return s;
}

/* Lex one line of @n bytes (s[n] is writable) into @it: 1 for an item, 0
 * for a blank or comment line. */
static int lex_line(const struct wgnl_ini_opts *o, char *s, size_t n, struct wgnl_ini_item *it)
{
	bool wide = !(o->flags & WGNL_INI_BLANK_SPACE_TAB);
	char *hash, *eq, *key, *value;
	size_t kn, vn;

	it->key = it->value = NULL;
	it->error = WGNL_INI_ERR_NONE;
	it->kind = WGNL_INI_ERROR;
	if (o->max_line && n > o->max_line) {
		it->error = WGNL_INI_ERR_LONG;
		return 1;
	}
	if (memchr(s, '\0', n)) {
		it->error = WGNL_INI_ERR_NUL;
		return 1;
	}
	s[n] = '\0';
	hash = memchr(s, '#', n);
	if (hash && (!(o->flags & WGNL_INI_HASH_AFTER_BLANK) || hash == s || hash[-1] == ' ' ||
		     hash[-1] == '\t'))
		n = (size_t)(hash - s);
	s = trim(s, &n, wide);
	if (!n)
		return 0;
	if (*s == '[') {
		if (n < 2 || s[n - 1] != ']') {
			it->error = WGNL_INI_ERR_SECTION;
			return 1;
		}
		s[n - 1] = '\0';
		it->kind = WGNL_INI_SECTION;
		it->section = s + 1;
		return 1;
	}
	eq = memchr(s, '=', n);
	if (!eq) {
		it->error = WGNL_INI_ERR_NO_EQUALS;
		return 1;
	}
	kn = (size_t)(eq - s);
	vn = n - kn - 1;
	key = trim(s, &kn, wide);
	value = trim(eq + 1, &vn, wide);
	it->kind = WGNL_INI_PAIR;
	it->key = key;
	it->value = value;
	return 1;
}

int wgnl_ini_parse(char *buf, size_t len, const struct wgnl_ini_opts *opts, wgnl_ini_fn fn,
		   void *data)
{
	struct wgnl_ini_opts o = { 0 };
	struct wgnl_ini_item it = { .section = "" };
	size_t pos = 0;
	int r;

	if (opts) {
		r = wgi_opts_copy(&o, sizeof(o), opts,
				  WGI_SIZE_0_1(struct wgnl_ini_opts, max_line));
		if (r < 0)
			return r;
	}
	if ((o.flags & WGNL_INI_BOM) && len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		pos = 3;
	while (pos < len) {
		char *line = buf + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;

		pos += n + 1;
		it.line++;
		if (!lex_line(&o, line, n, &it))
			continue;
		r = fn(&it, data);
		if (r)
			return r;
	}
	return 0;
}
