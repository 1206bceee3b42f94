// SPDX-License-Identifier: MIT
/* Unit tests of wg-gatewayd's run-time loader (gateway/dl.c) against libc
 * itself: all or nothing, a second load a no-op, errors that name the
 * library and the missing symbol. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../gateway/dl.h"

#define FUNCS(X)  \
	X(strlen) \
	X(getpid)

union fns {
	struct {
		FUNCS(GW_DL_FIELD)
	} f;
	void *slot[0 FUNCS(GW_DL_COUNT)];
};

static const char *const names[] = { FUNCS(GW_DL_NAME) };

static void unit__libc__typed_slots_filled_second_load_noop(void **state)
{
	static const char *const other[] = { "no_such_symbol_wgkit", "getpid" };
	union fns u = { 0 };
	void *first[2];
	char err[256] = "";

	(void)state;
	assert_int_equal(sizeof(u.f), sizeof(u.slot));
	assert_int_equal(gw_dl_load("libc.so.6", names, u.slot, 2, NULL, err, sizeof(err)), 0);
	assert_non_null(u.f.strlen);
	assert_int_equal(u.f.strlen("wgkit"), 5);
	assert_int_equal(u.f.getpid(), getpid());
	memcpy(first, u.slot, sizeof(first));
	/* loaded: a second call touches nothing, whatever it asks for */
	assert_int_equal(gw_dl_load("libc.so.6", other, u.slot, 2, NULL, err, sizeof(err)), 0);
	assert_memory_equal(first, u.slot, sizeof(first));
}

static void unit__missing_symbol__nothing_filled_error_names_it(void **state)
{
	static const char *const bad[] = { "strlen", "no_such_symbol_wgkit" };
	void *slots[2] = { NULL, NULL };
	char err[256] = "";

	(void)state;
	assert_int_equal(gw_dl_load("libc.so.6", bad, slots, 2, NULL, err, sizeof(err)), -ELIBACC);
	assert_null(slots[0]);
	assert_null(slots[1]);
	assert_string_equal(err, "cannot load libc.so.6: it has no symbol no_such_symbol_wgkit");
}

static void unit__missing_library__error_names_it(void **state)
{
	void *slots[2] = { NULL, NULL };
	char err[256] = "";

	(void)state;
	assert_int_equal(gw_dl_load("libwgkit-nonexistent.so.9", names, slots, 2, "install it", err,
				    sizeof(err)),
			 -ELIBACC);
	assert_null(slots[0]);
	assert_non_null(strstr(err, "cannot load libwgkit-nonexistent.so.9: "));
	assert_non_null(strstr(err, "No such file or directory (install it)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__libc__typed_slots_filled_second_load_noop),
		cmocka_unit_test(unit__missing_symbol__nothing_filled_error_names_it),
		cmocka_unit_test(unit__missing_library__error_names_it),
	};

	return cmocka_run_group_tests_name("gateway_dl", tests, NULL, NULL);
}
