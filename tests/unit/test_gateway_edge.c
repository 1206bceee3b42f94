// SPDX-License-Identifier: MIT
/* wg-gatewayd's edge decisions without a daemon: readiness (one reason per
 * failed condition, the clock an argument) and the /metrics text (every
 * contract name, a histogram, the lag). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../gateway/edge.h"

static struct gw_ready_in ready_in(void)
{
	struct gw_ready_in in = {
		.now_ms = 100000,
		.applied_once = true,
		.change_id_applied = 7,
		.change_id_known = 7,
		.link_up = true,
		.ifname = "wg0",
		.listen_port = 51820,
		.registry_checked = true,
		.registry_last_ok_ms = 99000,
		.stale_s = 30,
		.stun_configured = true,
		.stun_ok = true,
	};
	return in;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void gateway__ready_all_met__ready_no_reason(void **state)
{
	struct gw_ready_in in = ready_in();
	char why[512];

	(void)state;
	assert_true(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "");
	/* The directory source has no staleness; no STUN, no probe. */
	in.registry_checked = false;
	in.registry_last_ok_ms = 0;
	in.stun_configured = false;
	in.stun_ok = false;
	assert_true(gw_ready_decide(&in, why, sizeof(why)));
}

static void gateway__ready_each_condition__one_reason_each(void **state)
{
	struct gw_ready_in in = ready_in();
	char why[512];

	(void)state;
	in.applied_once = false;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "not applied yet: the first apply has not run\n");

	in = ready_in();
	in.change_id_known = 9;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "not applied yet: change 9 known, 7 applied\n");

	in = ready_in();
	in.link_up = false;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "link wg0 down or not listening on port 51820\n");

	in = ready_in();
	in.registry_last_ok_ms = in.now_ms - 30000; /* exactly the bound: fresh */
	assert_true(gw_ready_decide(&in, why, sizeof(why)));
	in.registry_last_ok_ms = in.now_ms - 30001;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "registry stale: last contact 30 s ago (StaleSeconds 30)\n");
	in.registry_last_ok_ms = 0;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "registry never reached\n");

	in = ready_in();
	in.stun_ok = false;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "stun: no self-probe answered in the last 10 s\n");
	in.stun_never = true;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "stun: no self-probe answered yet\n");

	in = ready_in();
	in.draining = true;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_string_equal(why, "draining\n");

	/* Everything at once: five lines, one per condition. */
	in.applied_once = false;
	in.link_up = false;
	in.registry_last_ok_ms = 1;
	in.stun_ok = false;
	assert_false(gw_ready_decide(&in, why, sizeof(why)));
	assert_int_equal(lines(why), 5);
	/* A tiny buffer: cut, still one terminated line, never overrun. */
	char tiny[12];
	memset(tiny, 'x', sizeof(tiny));
	assert_false(gw_ready_decide(&in, tiny, sizeof(tiny)));
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(tiny[sizeof(tiny) - 2], '\n');
}

static void gateway__loop_alive__within_5_s(void **state)
{
	struct gw_snapshot s = { .loop_ms = 1000 };

	(void)state;
	assert_true(gw_loop_alive(&s, 6000));
	assert_false(gw_loop_alive(&s, 6001));
	s.loop_ms = 0;
	assert_false(gw_loop_alive(&s, 1));
}

static void gateway__metrics__every_contract_name(void **state)
{
	static const char *const names[] = {
		"wgkit_gateway_ready",
		"wgkit_gateway_announced",
		"wgkit_gateway_desired_peers",
		"wgkit_gateway_applied_peers",
		"wgkit_gateway_change_id_applied",
		"wgkit_gateway_change_id_known",
		"wgkit_gateway_apply_seconds",
		"wgkit_gateway_registry_up",
		"wgkit_gateway_registry_lag_seconds",
		"wgkit_gateway_registry_reconnects_total",
		"wgkit_gateway_bad_rows_total",
		"wgkit_gateway_drift_repairs_total",
		"wgkit_gateway_peers_handshake_recent",
		"wgkit_gateway_stun_requests_total",
		"wgkit_gateway_stun_answered_total",
		"wgkit_gateway_stun_dropped_total",
	};
	struct gw_snapshot s = {
		.ready = true,
		.announced = true,
		.desired_peers = 10000,
		.applied_peers = 10000,
		.change_id_applied = 42,
		.change_id_known = 42,
		.apply_count = 3,
		.apply_sum = 0.012,
		.registry_up = true,
		.registry_last_ok_ms = 8500,
		.stun_requests_total = 5,
	};
	struct wgnl_prom *p;
	const char *t;
	char want[128];

	(void)state;
	s.apply_counts[0] = 1;
	s.apply_counts[3] = 2;
	assert_int_equal(wgnl_prom_new(&p), 0);
	assert_int_equal(gw_metrics_render(&s, 10000, p), 0);
	assert_int_equal(wgnl_prom_text(p, &t, NULL), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(want, sizeof(want), "# TYPE %s ", names[i]);
		if (!strstr(t, want))
			fail_msg("%s missing in:\n%s", names[i], t);
	}
	assert_non_null(strstr(t, "# TYPE wgkit_gateway_apply_seconds histogram\n"));
	assert_non_null(strstr(t, "wgkit_gateway_apply_seconds_bucket{le=\"0.001\"} 1\n"));
	assert_non_null(strstr(t, "wgkit_gateway_apply_seconds_bucket{le=\"0.01\"} 3\n"));
	assert_non_null(strstr(t, "wgkit_gateway_apply_seconds_bucket{le=\"+Inf\"} 3\n"));
	assert_non_null(strstr(t, "wgkit_gateway_apply_seconds_count 3\n"));
	assert_non_null(strstr(t, "wgkit_gateway_registry_lag_seconds 1.500\n"));
	assert_non_null(strstr(t, "wgkit_gateway_desired_peers 10000\n"));
	assert_non_null(strstr(t, "# TYPE wgkit_gateway_stun_requests_total counter\n"));
	assert_non_null(strstr(t, "wgkit_gateway_stun_requests_total 5\n"));

	/* Never reached: +Inf, not a reassuring 0. A second render replaces
	 * the first (the writer is reused per scrape). */
	s.registry_last_ok_ms = 0;
	assert_int_equal(gw_metrics_render(&s, 10000, p), 0);
	assert_int_equal(wgnl_prom_text(p, &t, NULL), 0);
	assert_non_null(strstr(t, "wgkit_gateway_registry_lag_seconds +Inf\n"));
	assert_null(strstr(strstr(t, "# TYPE wgkit_gateway_ready ") + 1,
			   "# TYPE wgkit_gateway_ready "));
	wgnl_prom_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gateway__ready_all_met__ready_no_reason),
		cmocka_unit_test(gateway__ready_each_condition__one_reason_each),
		cmocka_unit_test(gateway__loop_alive__within_5_s),
		cmocka_unit_test(gateway__metrics__every_contract_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
