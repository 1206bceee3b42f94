// SPDX-License-Identifier: MIT
/* The INI lexer (wgnl_ini_parse): sections, pairs, comments, blanks, line
 * numbers, the flags and every lexical error, from text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"

/* Each item as one line of text: "L S [sec]", "L P sec|key|value", "L E n". */
struct rec {
	char out[2048];
	int stop_at; /* line to stop at (returning 42), 0: never */
};

static int record(const struct wgnl_ini_item *it, void *data)
{
	struct rec *r = data;
	size_t n = strlen(r->out);

	if (it->kind == WGNL_INI_SECTION)
		snprintf(r->out + n, sizeof(r->out) - n, "%u S [%s]\n", it->line, it->section);
	else if (it->kind == WGNL_INI_PAIR)
		snprintf(r->out + n, sizeof(r->out) - n, "%u P %s|%s|%s\n", it->line, it->section,
			 it->key, it->value);
	else
		snprintf(r->out + n, sizeof(r->out) - n, "%u E %d\n", it->line, (int)it->error);
	return r->stop_at && (int)it->line == r->stop_at ? 42 : 0;
}

/* Lex @text (copied: the lexer writes into its buffer) into @r. */
static int lex(const char *text, size_t len, unsigned flags, size_t max_line, struct rec *r)
{
	struct wgnl_ini_opts o = { .size = sizeof(o), .flags = flags, .max_line = max_line };
	char *buf = malloc(len + 1);
	int ret;

	assert_non_null(buf);
	memcpy(buf, text, len);
	r->out[0] = '\0';
	ret = wgnl_ini_parse(buf, len, &o, record, r);
	free(buf);
	return ret;
}

static void unit__sections_pairs_comments__items_with_line_numbers(void **state)
{
	static const char text[] = "# a comment\n"
				   "\n"
				   "  key0 = before any section  \n"
				   "[Interface]\n"
				   "\tPrivateKey=abc= # trailing comment\n"
				   "  [ Peer ]  \r\n"
				   "AllowedIPs = 10.0.0.1/32 , fd00::1/128\r\n"
				   " = no key\n"
				   "Empty =\n"
				   "last = no newline";
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 0, &r), 0);
	assert_string_equal(r.out, "3 P |key0|before any section\n"
				   "4 S [Interface]\n"
				   "5 P Interface|PrivateKey|abc=\n"
				   "6 S [ Peer ]\n"
				   "7 P  Peer |AllowedIPs|10.0.0.1/32 , fd00::1/128\n"
				   "8 P  Peer ||no key\n"
				   "9 P  Peer |Empty|\n"
				   "10 P  Peer |last|no newline\n");
}

static void unit__bad_lines__error_items_and_the_walk_goes_on(void **state)
{
	static const char text[] = "[Interface\n"
				   "no equals sign\n"
				   "[\n"
				   "ok = 1\n"
				   "nul\0here = x\n"
				   "[]\n";
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 0, &r), 0);
	assert_string_equal(r.out, "1 E 3\n"
				   "2 E 4\n"
				   "3 E 3\n"
				   "4 P |ok|1\n"
				   "5 E 2\n"
				   "6 S []\n");
}

static void unit__callback_non_zero__stops_and_is_returned(void **state)
{
	static const char text[] = "a = 1\nb = 2\nc = 3\n";
	struct rec r = { .stop_at = 2 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 0, &r), 42);
	assert_string_equal(r.out, "1 P |a|1\n2 P |b|2\n");
}

static void unit__bom_flag__skipped_only_when_asked(void **state)
{
	static const char text[] = "\xef\xbb\xbf[Peer]\n";
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, WGNL_INI_BOM, 0, &r), 0);
	assert_string_equal(r.out, "1 S [Peer]\n");
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 0, &r), 0);
	assert_string_equal(r.out, "1 E 4\n");
}

static void unit__hash_after_blank__hash_inside_a_value_kept(void **state)
{
	static const char text[] = "url = http://h/#frag\n"
				   "cmd = echo a # comment\n"
				   "#whole line\n"
				   "x = a#b #c\n";
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, WGNL_INI_HASH_AFTER_BLANK, 0, &r), 0);
	/* Only the first '#' of a line is looked at. */
	assert_string_equal(r.out, "1 P |url|http://h/#frag\n"
				   "2 P |cmd|echo a\n"
				   "4 P |x|a#b #c\n");
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 0, &r), 0);
	assert_string_equal(r.out, "1 P |url|http://h/\n"
				   "2 P |cmd|echo a\n"
				   "4 P |x|a\n");
}

static void unit__blank_space_tab__vf_kept_cr_trimmed_at_end(void **state)
{
	static const char text[] = "\vk\f = v\f\r\n";
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, WGNL_INI_BLANK_SPACE_TAB, 0, &r), 0);
	assert_string_equal(r.out, "1 P |\vk\f|v\f\n");
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 0, &r), 0);
	assert_string_equal(r.out, "1 P |k|v\n");
}

static void unit__max_line__longer_lines_are_errors(void **state)
{
	static const char text[] = "k = 1234\nk = 12345\n";
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(lex(text, sizeof(text) - 1, 0, 8, &r), 0);
	assert_string_equal(r.out, "1 P |k|1234\n2 E 1\n");
}

static void unit__opts_null_or_too_small__defaults_or_einval(void **state)
{
	char buf[] = "k = v # c\n";
	struct wgnl_ini_opts o = { .size = 1 };
	struct rec r = { 0 };

	(void)state;
	assert_int_equal(wgnl_ini_parse(buf, sizeof(buf) - 1, &o, record, &r), -EINVAL);
	assert_string_equal(r.out, "");
	assert_int_equal(wgnl_ini_parse(buf, sizeof(buf) - 1, NULL, record, &r), 0);
	assert_string_equal(r.out, "1 P |k|v\n");
	r.out[0] = '\0';
	assert_int_equal(wgnl_ini_parse(buf, 0, NULL, record, &r), 0);
	assert_string_equal(r.out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__sections_pairs_comments__items_with_line_numbers),
		cmocka_unit_test(unit__bad_lines__error_items_and_the_walk_goes_on),
		cmocka_unit_test(unit__callback_non_zero__stops_and_is_returned),
		cmocka_unit_test(unit__bom_flag__skipped_only_when_asked),
		cmocka_unit_test(unit__hash_after_blank__hash_inside_a_value_kept),
		cmocka_unit_test(unit__blank_space_tab__vf_kept_cr_trimmed_at_end),
		cmocka_unit_test(unit__max_line__longer_lines_are_errors),
		cmocka_unit_test(unit__opts_null_or_too_small__defaults_or_einval),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
