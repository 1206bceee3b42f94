// SPDX-License-Identifier: MIT
/* Drives cmd/common/json.c for tests/wgctl/run.sh: writes a document full of
 * strings that need escaping; run.sh checks that it parses and holds what
 * was written. Built by run.sh itself: cc -Icmd/common json_check.c json.c */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

static const char *const strings[] = {
	"plain",
	"quote \" backslash \\ slash /",
	"control \x01\x02\x1f del \x7f",
	"newline \n tab \t cr \r bs \b ff \f",
	"utf8 \xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91",
	"bad utf8 \xff \xc3 \xe0\x80\x80 \xed\xa0\x80 \xf4\x90\x80\x80 end",
	"",
};

int main(int argc, char **argv)
{
	bool pretty = argc > 1 && !strcmp(argv[1], "pretty");
	struct wgk_json j;
	int r;

	wgk_json_init(&j, stdout, pretty);
	wgk_json_object_begin(&j);
	wgk_json_key(&j, "strings");
	wgk_json_array_begin(&j);
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		wgk_json_string(&j, strings[i]);
	wgk_json_array_end(&j);
	wgk_json_kv_string(&j, "key \"needing\" \\escapes\n", "v");
	wgk_json_kv_uint(&j, "u64max", UINT64_MAX);
	wgk_json_key(&j, "i64min");
	wgk_json_int(&j, INT64_MIN);
	wgk_json_kv_bool(&j, "t", true);
	wgk_json_key(&j, "n");
	wgk_json_string(&j, NULL);
	wgk_json_key(&j, "empty_object");
	wgk_json_object_begin(&j);
	wgk_json_object_end(&j);
	wgk_json_key(&j, "empty_array");
	wgk_json_array_begin(&j);
	wgk_json_array_end(&j);
	wgk_json_key(&j, "nested");
	wgk_json_array_begin(&j);
	wgk_json_object_begin(&j);
	wgk_json_kv_uint(&j, "a", 1);
	wgk_json_object_end(&j);
	wgk_json_array_begin(&j);
	wgk_json_array_end(&j);
	wgk_json_array_end(&j);
	wgk_json_object_end(&j);
	r = wgk_json_finish(&j);
	if (r != 0)
		return 1;
	/* Misuse is reported, not silently written. */
	wgk_json_init(&j, fopen("/dev/null", "w"), false);
	wgk_json_object_begin(&j);
	wgk_json_uint(&j, 1);
	wgk_json_array_end(&j);
	r = wgk_json_finish(&j);
	fclose(j.f);
	return r == 0 ? 2 : 0;
}
