// SPDX-License-Identifier: MIT
/* Unit tests of the Prometheus text writer: families announced once, label
 * value and HELP escaping, number formats, histograms, and the names and
 * inputs it refuses. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wgkit/wgnl_prom.h"

/* The text so far; the writer has no sticky error. */
static const char *text(struct wgnl_prom *p, size_t *len)
{
	const char *t = NULL;

	assert_int_equal(wgnl_prom_text(p, &t, len), 0);
	return t;
}

static int setup(void **state)
{
	struct wgnl_prom *p;

	if (wgnl_prom_new(&p) < 0)
		return -1;
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	wgnl_prom_free(*state);
	return 0;
}

static void unit__label_values__backslash_quote_newline_escaped(void **state)
{
	struct wgnl_prom *p = *state;
	const struct wgnl_prom_label l[] = {
		{ "interface", "wg0" },
		{ "path", "C:\\dir\\\"x\"\nnext" },
		{ "empty", "" },
	};

	assert_int_equal(wgnl_prom_put_u64(p, "m", l, 3, 7), 0);
	assert_string_equal(
		text(p, NULL),
		"m{interface=\"wg0\",path=\"C:\\\\dir\\\\\\\"x\\\"\\nnext\",empty=\"\"} 7\n");
}

static void unit__family__help_escaped_and_announced_once(void **state)
{
	struct wgnl_prom *p = *state;
	size_t len;

	assert_int_equal(wgnl_prom_family_begin(p, "a_total", WGNL_PROM_COUNTER,
						"Back\\slash, \"quotes\" kept,\nnewline."),
			 0);
	assert_int_equal(wgnl_prom_put_u64(p, "a_total", NULL, 0, 1), 0);
	assert_int_equal(wgnl_prom_family_begin(p, "a_total", WGNL_PROM_COUNTER, "again"), 0);
	assert_int_equal(wgnl_prom_family_begin(p, "b", WGNL_PROM_GAUGE, NULL), 0);
	const char *want = "# HELP a_total Back\\\\slash, \"quotes\" kept,\\nnewline.\n"
			   "# TYPE a_total counter\n"
			   "a_total 1\n"
			   "# TYPE b gauge\n";
	assert_string_equal(text(p, &len), want);
	assert_int_equal(len, strlen(want));
	wgnl_prom_clear(p);
	assert_string_equal(text(p, &len), "");
	assert_int_equal(len, 0);
	/* A cleared writer announces again. */
	assert_int_equal(wgnl_prom_family_begin(p, "b", WGNL_PROM_UNTYPED, "h"), 0);
	assert_string_equal(text(p, NULL), "# HELP b h\n# TYPE b untyped\n");
}

static void unit__doubles__fixed_shortest_and_special(void **state)
{
	struct wgnl_prom *p = *state;
	const struct wgnl_prom_label l[] = { { "i", "x" } };

	assert_int_equal(wgnl_prom_put_double(p, "g", l, 1, 1.5, 3), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", l, 1, -1.0, 3), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, 0.1, -1), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, 1e21, -1), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, 0.000123456, 6), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, NAN, 3), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, INFINITY, -1), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, -INFINITY, 2), 0);
	assert_int_equal(wgnl_prom_put_double(p, "g", NULL, 0, -1e300, 30), 0);
	const char *t = text(p, NULL);
	const char *want = "g{i=\"x\"} 1.500\n"
			   "g{i=\"x\"} -1.000\n"
			   "g 0.1\n"
			   "g 1e+21\n"
			   "g 0.000123\n"
			   "g NaN\n"
			   "g +Inf\n"
			   "g -Inf\n"
			   "g -1";
	assert_memory_equal(t, want, strlen(want));
	/* 1e300 has 301 digits before the point. */
	assert_int_equal(strlen(t), strlen(want) + 300 + 1 + 30 + 1);
}

static void unit__histogram__cumulative_buckets_inf_sum_count(void **state)
{
	struct wgnl_prom *p = *state;
	const struct wgnl_prom_label l[] = { { "interface", "wg\"0" } };
	const double bounds[] = { 0.005, 0.1, 1, 2.5 };
	const uint64_t counts[] = { 2, 0, 3, 1 };

	assert_int_equal(wgnl_prom_family_begin(p, "rtt_seconds", WGNL_PROM_HISTOGRAM, "RTT."), 0);
	assert_int_equal(
		wgnl_prom_put_histogram(p, "rtt_seconds", l, 1, bounds, counts, 4, 3.25, 7), 0);
	assert_int_equal(wgnl_prom_put_histogram(p, "h", NULL, 0, bounds, counts, 2, 0, 2), 0);
	assert_string_equal(text(p, NULL),
			    "# HELP rtt_seconds RTT.\n"
			    "# TYPE rtt_seconds histogram\n"
			    "rtt_seconds_bucket{interface=\"wg\\\"0\",le=\"0.005\"} 2\n"
			    "rtt_seconds_bucket{interface=\"wg\\\"0\",le=\"0.1\"} 2\n"
			    "rtt_seconds_bucket{interface=\"wg\\\"0\",le=\"1\"} 5\n"
			    "rtt_seconds_bucket{interface=\"wg\\\"0\",le=\"2.5\"} 6\n"
			    "rtt_seconds_bucket{interface=\"wg\\\"0\",le=\"+Inf\"} 7\n"
			    "rtt_seconds_sum{interface=\"wg\\\"0\"} 3.25\n"
			    "rtt_seconds_count{interface=\"wg\\\"0\"} 7\n"
			    "h_bucket{le=\"0.005\"} 2\n"
			    "h_bucket{le=\"0.1\"} 2\n"
			    "h_bucket{le=\"+Inf\"} 2\n"
			    "h_sum 0\n"
			    "h_count 2\n");
}

static void unit__bad_names_and_inputs__einval_nothing_written(void **state)
{
	struct wgnl_prom *p = *state;
	const struct wgnl_prom_label bad[] = { { "le-x", "v" } };
	const struct wgnl_prom_label nul[] = { { "a", NULL } };
	const double down[] = { 1, 0.5 }, inf[] = { 1, INFINITY };
	const uint64_t c[] = { 1, 1 };

	assert_int_equal(wgnl_prom_family_begin(p, "9lives", WGNL_PROM_GAUGE, NULL), -EINVAL);
	assert_int_equal(wgnl_prom_family_begin(p, "a b", WGNL_PROM_GAUGE, NULL), -EINVAL);
	assert_int_equal(wgnl_prom_family_begin(p, "ok", (enum wgnl_prom_type)9, NULL), -EINVAL);
	assert_int_equal(wgnl_prom_put_u64(p, "", NULL, 0, 1), -EINVAL);
	assert_int_equal(wgnl_prom_put_u64(p, "m", bad, 1, 1), -EINVAL);
	assert_int_equal(wgnl_prom_put_u64(p, "m", nul, 1, 1), -EINVAL);
	assert_int_equal(wgnl_prom_put_u64(p, "m", NULL, 1, 1), -EINVAL);
	assert_int_equal(wgnl_prom_put_histogram(p, "h", NULL, 0, down, c, 2, 0, 2), -EINVAL);
	assert_int_equal(wgnl_prom_put_histogram(p, "h", NULL, 0, inf, c, 2, 0, 2), -EINVAL);
	assert_int_equal(wgnl_prom_put_histogram(p, "h", NULL, 0, inf, c, 1, 0, 0), -EINVAL);
	assert_string_equal(text(p, NULL), "");
	/* Colons are allowed in metric names (recording rules), not labels. */
	assert_int_equal(wgnl_prom_put_u64(p, "job:m", NULL, 0, 1), 0);
	assert_string_equal(text(p, NULL), "job:m 1\n");
}

static void unit__many_samples__buffer_grows(void **state)
{
	struct wgnl_prom *p = *state;
	const struct wgnl_prom_label l[] = { { "peer",
					       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" } };
	size_t len;

	for (int i = 0; i < 10000; i++)
		assert_int_equal(wgnl_prom_put_u64(p, "wg_peer_rx_bytes", l, 1, (uint64_t)i), 0);
	const char *t = text(p, &len);
	assert_int_equal(strlen(t), len);
	assert_non_null(strstr(t, "\"} 9999\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unit__label_values__backslash_quote_newline_escaped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unit__family__help_escaped_and_announced_once,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unit__doubles__fixed_shortest_and_special, setup,
						teardown),
		cmocka_unit_test_setup_teardown(unit__histogram__cumulative_buckets_inf_sum_count,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unit__bad_names_and_inputs__einval_nothing_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(unit__many_samples__buffer_grows, setup, teardown),
	};
	return cmocka_run_group_tests_name("prom", tests, NULL, NULL);
}
