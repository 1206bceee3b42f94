// SPDX-License-Identifier: MIT
/* Unit tests of the fast-failover decision (wgnl_health_failover_peer_step):
 * a whole vanished-node story with the clock as an argument. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wgkit/wgnl_health.h"

static struct wgnl_health_failover_settings defaults(void)
{
	struct wgnl_health_failover_settings s;

	wgnl_health_failover_settings_default(&s);
	return s;
}

static void unit__rx_flat_tx_growing__kick_after_stall_then_holdoff(void **state)
{
	struct wgnl_health_failover_settings s = defaults();
	struct wgnl_health_failover_peer p = { 0 };
	uint64_t rx = 1000, tx = 1000;
	int64_t t = 100000;

	(void)state;
	assert_false(wgnl_health_failover_peer_step(&s, &p, rx, tx, t));
	/* traffic both ways for 2 s: never */
	for (int i = 0; i < 10; i++)
		assert_false(
			wgnl_health_failover_peer_step(&s, &p, rx += 100, tx += 100, t += 200));
	/* the node vanished: tx grows, rx flat; the kick comes at 1.5 s */
	for (int i = 1; i <= 7; i++) /* 0.2 .. 1.4 s */
		assert_false(wgnl_health_failover_peer_step(&s, &p, rx, tx += 100, t += 200));
	assert_true(wgnl_health_failover_peer_step(&s, &p, rx, tx += 100, t += 200)); /* 1.6 s */
	assert_int_equal(p.kicks, 1);
	/* still dead: not again before the holdoff, then again */
	assert_false(wgnl_health_failover_peer_step(&s, &p, rx, tx += 100, t += 1000));
	assert_true(wgnl_health_failover_peer_step(&s, &p, rx, tx += 100, t += 600));
	assert_int_equal(p.kicks, 2);
}

static void unit__keepalives_only__no_kick(void **state)
{
	struct wgnl_health_failover_settings s = defaults();
	struct wgnl_health_failover_peer p = { 0 };
	uint64_t tx = 500;
	int64_t t = 0;

	(void)state;
	assert_false(wgnl_health_failover_peer_step(&s, &p, 700, tx, t));
	/* a keepalive (32 bytes) every 25 s, no reply: 3 of them stay under
	 * min_tx_bytes */
	for (int i = 0; i < 3; i++)
		assert_false(wgnl_health_failover_peer_step(&s, &p, 700, tx += 32, t += 25000));
	/* idle: nothing sent, nothing received, for a long time */
	assert_false(wgnl_health_failover_peer_step(&s, &p, 700, tx, t += 600000));
}

static void unit__counters_reset__tracking_restarts(void **state)
{
	struct wgnl_health_failover_settings s = defaults();
	struct wgnl_health_failover_peer p = { 0 };
	int64_t t = 0;

	(void)state;
	assert_false(wgnl_health_failover_peer_step(&s, &p, 5000, 5000, t));
	/* the peer was set again (counters back to 0): a fresh start, no
	 * kick on the wrapped difference */
	assert_false(wgnl_health_failover_peer_step(&s, &p, 0, 148, t += 2000));
	assert_false(wgnl_health_failover_peer_step(&s, &p, 0, 400, t += 1000));
	assert_true(wgnl_health_failover_peer_step(&s, &p, 0, 600, t += 600));
}

static void unit__settings_size_zero__never(void **state)
{
	struct wgnl_health_failover_settings s = { 0 };
	struct wgnl_health_failover_peer p = { 0 };
	struct wgnl_health_failover *f = (void *)1;

	(void)state;
	assert_false(wgnl_health_failover_peer_step(&s, &p, 0, 0, 0));
	assert_false(wgnl_health_failover_peer_step(&s, &p, 0, 100000, 100000));
	assert_int_equal(wgnl_health_failover_new(&s, &f), -EINVAL);
	assert_null(f);
	wgnl_health_failover_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unit__rx_flat_tx_growing__kick_after_stall_then_holdoff),
		cmocka_unit_test(unit__keepalives_only__no_kick),
		cmocka_unit_test(unit__counters_reset__tracking_restarts),
		cmocka_unit_test(unit__settings_size_zero__never),
	};

	return cmocka_run_group_tests_name("failover", tests, NULL, NULL);
}
