// SPDX-License-Identifier: MIT
/* wg-quick in the library: with NULL callbacks nothing forks and hooks are
 * refused before any change; the policy table; the plan's edges. Only reads
 * reach the kernel here. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "wgkit/wgnl.h"
#include "wgkit/wgnl_quick.h"

#define MARK "/tmp/wgkit-unit-quick-hook-ran"

static const char conf_post_up[] = "[Interface]\n"
				   "PrivateKey = yFp0KSo6nE8lnw3hMKrEyNbGKjOCVt2vXdn0pGFcnHs=\n"
				   "Address = 10.9.0.1/24\n"
				   "PostUp = touch " MARK "\n"
				   "PreDown = touch " MARK "\n";

struct seen {
	int n_events, n_fail, n_hooks;
	struct wgnl_quick_event last_fail;
	char hook[16];
};

static void on_event(void *arg, const struct wgnl_quick_event *ev)
{
	struct seen *s = arg;

	s->n_events++;
	if (ev->kind == WGNL_QUICK_EV_FAIL) {
		s->n_fail++;
		s->last_fail = *ev;
		snprintf(s->hook, sizeof(s->hook), "%s", ev->hook ? ev->hook : "");
	}
}

static int on_hook(void *arg, const char *ifname, const char *key, const char *command)
{
	struct seen *s = arg;

	(void)ifname;
	(void)key;
	(void)command;
	s->n_hooks++;
	return 0;
}

static struct wgnl_config *parse(const char *text)
{
	struct wgnl_config *cfg = NULL;

	assert_int_equal(
		wgnl_config_parse(text, strlen(text), "t.conf", WGNL_CONFIG_QUICK, &cfg, NULL), 0);
	return cfg;
}

static struct wgnl_ctx *open_ctx(void)
{
	struct wgnl_ctx *ctx = NULL;

	if (wgnl_ctx_open(&ctx) < 0)
		skip();
	return ctx;
}

static void quick__up_post_up_null_hooks__eopnotsupp_nothing_changed(void **state)
{
	struct wgnl_config *cfg = parse(conf_post_up);
	struct wgnl_ctx *ctx = open_ctx();
	struct seen s = { 0 };
	struct wgnl_quick_opts o = { .size = sizeof(o), .arg = &s, .event = on_event };
	struct wgnl_link link;

	(void)state;
	unlink(MARK);
	assert_int_equal(wgnl_quick_up(ctx, "wgqunit0", cfg, NULL), -EOPNOTSUPP);
	assert_int_equal(wgnl_quick_up(ctx, "wgqunit0", cfg, &o), -EOPNOTSUPP);
	/* One report, naming the hook; nothing ran, no link was made. */
	assert_int_equal(s.n_events, 1);
	assert_int_equal(s.n_fail, 1);
	assert_int_equal(s.last_fail.step, WGNL_QUICK_HOOK);
	assert_string_equal(s.hook, "PostUp");
	assert_int_equal(access(MARK, F_OK), -1);
	assert_int_equal(wgnl_link_get(ctx, "wgqunit0", &link), -ENODEV);
	wgnl_ctx_close(ctx);
	wgnl_config_free(cfg);
}

static void quick__down_pre_down_null_hooks__eopnotsupp_before_reading(void **state)
{
	struct wgnl_config *cfg = parse(conf_post_up);
	struct wgnl_ctx *ctx = open_ctx();
	struct seen s = { 0 };
	struct wgnl_quick_opts o = { .size = sizeof(o), .arg = &s, .event = on_event };

	(void)state;
	unlink(MARK);
	assert_int_equal(wgnl_quick_down(ctx, "lo", cfg, &o), -EOPNOTSUPP);
	assert_int_equal(s.n_events, 1);
	assert_int_equal(s.last_fail.step, WGNL_QUICK_HOOK);
	assert_string_equal(s.hook, "PreDown");
	assert_int_equal(access(MARK, F_OK), -1);
	wgnl_ctx_close(ctx);
	wgnl_config_free(cfg);
}

static void quick__up_existing_link__eexist_no_hook_run(void **state)
{
	struct wgnl_config *cfg = parse(conf_post_up);
	struct wgnl_ctx *ctx = open_ctx();
	struct seen s = { 0 };
	struct wgnl_quick_opts o = {
		.size = sizeof(o), .arg = &s, .event = on_event, .hook = on_hook
	};

	(void)state;
	/* "lo" exists and is no fresh userspace device: refused after reads
	 * only, before PreUp. */
	assert_int_equal(wgnl_quick_up(ctx, "lo", cfg, &o), -EEXIST);
	assert_int_equal(s.n_fail, 1);
	assert_int_equal(s.last_fail.step, WGNL_QUICK_EXISTS);
	assert_string_equal(s.last_fail.ifname, "lo");
	assert_int_equal(s.n_hooks, 0);
	wgnl_ctx_close(ctx);
	wgnl_config_free(cfg);
}

static void quick__bad_opts_size__einval(void **state)
{
	struct wgnl_config *cfg = parse(conf_post_up);
	struct wgnl_quick_opts o = { .size = 4 };
	struct wgnl_quick_plan *plan = NULL;

	(void)state;
	/* Refused before the context is used. */
	assert_int_equal(wgnl_quick_up(NULL, "wgqunit0", cfg, &o), -EINVAL);
	assert_int_equal(wgnl_quick_down(NULL, "wgqunit0", cfg, &o), -EINVAL);
	assert_int_equal(wgnl_quick_plan(NULL, cfg, NULL, 0, &o, &plan), -EINVAL);
	assert_null(plan);
	assert_int_equal(wgnl_quick_apply(NULL, "wgqunit0", NULL, WGNL_QUICK_AFTER_DEVICE, &o),
			 -EINVAL);
	wgnl_config_free(cfg);
}

static void quick__policy_table__fwmark_port_default(void **state)
{
	struct wgnl_config *cfg =
		parse("[Interface]\n"
		      "PrivateKey = yFp0KSo6nE8lnw3hMKrEyNbGKjOCVt2vXdn0pGFcnHs=\n"
		      "[Peer]\n"
		      "PublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n"
		      "AllowedIPs = 10.0.0.0/8\n");

	(void)state;
	/* No /0: no policy routing. */
	assert_int_equal(wgnl_quick_policy_table(cfg), 0);
	cfg->dev->peers[0].allowedips[0].cidr = 0;
	assert_int_equal(wgnl_quick_policy_table(cfg), WGNL_QUICK_DEFAULT_TABLE);
	cfg->dev->listen_port = 51000;
	assert_int_equal(wgnl_quick_policy_table(cfg), 51000);
	cfg->dev->fwmark = 0x1234;
	assert_int_equal(wgnl_quick_policy_table(cfg), 0x1234);
	cfg->quick.table_mode = WGNL_TABLE_OFF;
	assert_int_equal(wgnl_quick_policy_table(cfg), 0);
	wgnl_config_free(cfg);
}

static void quick__plan_edges__null_is_empty_bad_phase_einval(void **state)
{
	struct wgnl_quick_plan empty = { 0 };

	(void)state;
	assert_true(wgnl_quick_plan_is_empty(NULL));
	assert_true(wgnl_quick_plan_is_empty(&empty));
	empty.n_rule_add = 1;
	assert_false(wgnl_quick_plan_is_empty(&empty));
	wgnl_quick_plan_free(NULL);
	assert_int_equal(wgnl_quick_apply(NULL, "wgqunit0", NULL, WGNL_QUICK_AFTER_DEVICE, NULL),
			 0);
	assert_int_equal(wgnl_quick_apply(NULL, "wgqunit0", NULL, 7, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(quick__up_post_up_null_hooks__eopnotsupp_nothing_changed),
		cmocka_unit_test(quick__down_pre_down_null_hooks__eopnotsupp_before_reading),
		cmocka_unit_test(quick__up_existing_link__eexist_no_hook_run),
		cmocka_unit_test(quick__bad_opts_size__einval),
		cmocka_unit_test(quick__policy_table__fwmark_port_default),
		cmocka_unit_test(quick__plan_edges__null_is_empty_bad_phase_einval),
	};

	return cmocka_run_group_tests_name("quick", tests, NULL, NULL);
}
