// SPDX-License-Identifier: MIT
/* Unit tests of one health check step through the public header: the
 * options it refuses, maintenance, read-only, a typo'd interface, and the
 * remedies of a missing interface through the callbacks (no fork, no exec
 * in the library). The interface never exists: only a read-only rtnetlink
 * query leaves the process. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "wgkit/wgnl_health.h"

#define IFNAME "wgnlut9q"

struct calls {
	char log[256];
	int fail; /* what the callbacks return */
	int records;
};

static int cb_command(const char *cmd, void *arg)
{
	struct calls *k = arg;

	snprintf(k->log + strlen(k->log), sizeof(k->log) - strlen(k->log), "cmd:%s;", cmd);
	return k->fail;
}

static int cb_restart(struct wgnl_ctx *ctx, const char *ifname, const char *conf, bool up,
		      void *arg)
{
	struct calls *k = arg;

	(void)ctx;
	snprintf(k->log + strlen(k->log), sizeof(k->log) - strlen(k->log), "%s:%s:%s;",
		 up ? "up" : "down", ifname, conf);
	return k->fail;
}

/* The tunnel service: logs what it was asked, fails with k->fail and the
 * code k->code. */
static const char *svc_code;
static int cb_service(const char *ifname, enum wgnl_health_remedy what,
		      const struct wgnl_health_settings *s, struct wgnl_health_remedy_log *l,
		      void *arg)
{
	struct calls *k = arg;

	assert_string_equal(ifname, IFNAME);
	assert_non_null(s);
	snprintf(k->log + strlen(k->log), sizeof(k->log) - strlen(k->log), "svc:%s:%u:%u;",
		 wgnl_health_remedy_name(what), s->service_stop_timeout_ms,
		 s->service_start_timeout_ms);
	snprintf(l->detail, sizeof(l->detail), "service detail");
	if (k->fail && svc_code)
		snprintf(l->error, sizeof(l->error), "%s", svc_code);
	return k->fail;
}

static void cb_record(const struct wgnl_health_check *c, void *arg)
{
	struct calls *k = arg;

	assert_string_equal(c->ifname, IFNAME);
	k->records++;
}

struct fixture {
	char dir[64];
	struct wgnl_ctx *ctx;
	struct wgnl_health_settings s;
	struct calls k;
	struct wgnl_health_step_opts o;
	struct wgnl_health_check c;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/wgnl-hc.XXXXXX");
	if (!mkdtemp(f->dir) || wgnl_ctx_open(&f->ctx) < 0) {
		free(f);
		return -1;
	}
	wgnl_health_settings_default(&f->s);
	f->o.size = sizeof(f->o);
	f->o.settings = &f->s;
	f->o.state_dir = f->dir;
	f->o.command = cb_command;
	f->o.restart = cb_restart;
	f->o.record = cb_record;
	f->o.arg = &f->k;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	wgnl_health_check_clear(&f->c);
	wgnl_ctx_close(f->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static bool exists(const struct fixture *f, const char *suffix)
{
	char p[128];

	snprintf(p, sizeof(p), "%s/%s%s", f->dir, IFNAME, suffix);
	return access(p, F_OK) == 0;
}

static void unit__step_bad_options__einval(void **state)
{
	struct fixture *f = *state;
	struct wgnl_health_step_opts o = f->o;

	o.size = 0;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &o, &f->c), -EINVAL);
	o = f->o;
	o.settings = NULL;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &o, &f->c), -EINVAL);
	f->s.size = 0;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), -EINVAL);
	f->s.size = sizeof(f->s);
	o = f->o;
	o.state_dir = NULL;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &o, &f->c), -EINVAL);
	assert_int_equal(wgnl_health_check_step(f->ctx, "a-name-far-too-long", &f->o, &f->c),
			 -EINVAL);
	assert_int_equal(wgnl_health_check_step(f->ctx, "", &f->o, &f->c), -EINVAL);
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, NULL, &f->c), -EINVAL);
	assert_int_equal(wgnl_health_remedy_run(f->ctx, &f->c, NULL), -EINVAL);
}

static void unit__maintenance_file__left_alone_nothing_written(void **state)
{
	struct fixture *f = *state;
	char p[128];
	FILE *m;

	snprintf(p, sizeof(p), "%s/%s.maintenance", f->dir, IFNAME);
	m = fopen(p, "w");
	assert_non_null(m);
	fclose(m);
	snprintf(f->s.wg_config, sizeof(f->s.wg_config), "/nonexistent/wg.conf");
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_true(f->c.maintenance);
	assert_string_equal(f->c.maint_path, p);
	assert_true(f->c.now_ms > 0);
	assert_false(exists(f, ".lock"));
	assert_false(exists(f, ".state"));
	assert_string_equal(f->k.log, "");
	assert_int_equal(f->k.records, 0);
}

static void unit__read_only__judged_nothing_done_nothing_written(void **state)
{
	struct fixture *f = *state;

	snprintf(f->s.wg_config, sizeof(f->s.wg_config), "/nonexistent/wg.conf");
	f->o.read_only = true;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_false(f->c.unknown);
	assert_false(f->c.obs.present);
	assert_int_equal(f->c.res.verdict, WGNL_HEALTH_DISCONNECTED);
	assert_true(f->c.res.reasons & WGNL_HEALTH_R_INTERFACE_MISSING);
	assert_int_equal(f->c.state_load, -ENOENT);
	assert_int_equal(f->c.n_rem, 0);
	assert_false(exists(f, ".lock"));
	assert_false(exists(f, ".state"));
	assert_string_equal(f->k.log, "");
	assert_int_equal(f->k.records, 0);
}

static void unit__typo_interface__reported_nothing_kept(void **state)
{
	struct fixture *f = *state;

	/* Nothing could create it (no wg_config, up or restart command). */
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_true(f->c.never_existed);
	assert_int_equal(f->c.res.verdict, WGNL_HEALTH_DISCONNECTED);
	assert_false(exists(f, ".lock"));
	assert_false(exists(f, ".state"));
	assert_int_equal(f->k.records, 0);
}

static void unit__missing_interface__restart_callback_down_then_up(void **state)
{
	struct fixture *f = *state;

	snprintf(f->s.wg_config, sizeof(f->s.wg_config), "/nonexistent/wg.conf");
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_false(f->c.unknown);
	assert_int_equal(f->c.d.action, WGNL_HEALTH_ACT_REMEDY);
	assert_int_equal(f->c.d.remedy, WGNL_HEALTH_REMEDY_RESTART);
	assert_string_equal(f->k.log, "down:" IFNAME ":/nonexistent/wg.conf;"
				      "up:" IFNAME ":/nonexistent/wg.conf;");
	assert_int_equal(f->c.n_rem, 1);
	assert_string_equal(f->c.rem[0].name, "restart");
	assert_true(f->c.rem[0].ok);
	assert_string_equal(f->c.rem[0].detail, "wgctl down /nonexistent/wg.conf: ok; "
						"wgctl up /nonexistent/wg.conf: ok");
	assert_int_equal(f->k.records, 1);
	assert_int_equal(f->c.state_save, 0);
	assert_true(exists(f, ".state"));
	assert_true(exists(f, ".lock"));
	assert_int_equal(f->c.st.remedies_total, 1);
}

static void unit__restart_command__command_callback_failure_recorded(void **state)
{
	struct fixture *f = *state;

	snprintf(f->s.restart_command, sizeof(f->s.restart_command), "systemctl restart x");
	f->k.fail = -1;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_string_equal(f->k.log, "cmd:systemctl restart x;");
	assert_int_equal(f->c.n_rem, 1);
	assert_false(f->c.rem[0].ok);
	assert_string_equal(f->c.rem[0].detail, "restart_command failed");
	assert_true(f->c.st.last_remedy_failed);
}

static void unit__no_callbacks__remedy_fails_cleanly(void **state)
{
	struct fixture *f = *state;

	snprintf(f->s.wg_config, sizeof(f->s.wg_config), "/nonexistent/wg.conf");
	f->o.restart = NULL;
	f->o.command = NULL;
	f->o.record = NULL;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_int_equal(f->c.n_rem, 1);
	assert_false(f->c.rem[0].ok);
	assert_true(exists(f, ".state"));
}

static void unit__service_missing_interface__service_restart_not_a_typo(void **state)
{
	struct fixture *f = *state;

	/* No wg_config: with a service the missing interface is not a typo. */
	f->o.service = cb_service;
	assert_int_equal(wgnl_health_settings_set(&f->s, "service_stop_timeout", "2s"), 0);
	assert_int_equal(wgnl_health_settings_set(&f->s, "service_start_timeout", "500ms"), 0);
	assert_int_equal(wgnl_health_settings_set(&f->s, "service_start_timeout", "x"), -EINVAL);
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_false(f->c.never_existed);
	assert_int_equal(f->c.d.remedy, WGNL_HEALTH_REMEDY_RESTART);
	assert_string_equal(f->k.log, "svc:restart:2000:500;");
	assert_int_equal(f->c.n_rem, 1);
	assert_true(f->c.rem[0].ok);
	assert_string_equal(f->c.rem[0].detail, "service detail");
	assert_string_equal(f->c.rem[0].error, "");
	assert_true(exists(f, ".state"));
}

static void unit__service_failure__code_in_the_log(void **state)
{
	struct fixture *f = *state;

	f->o.service = cb_service;
	f->k.fail = -1;
	svc_code = "reconnect_stop_timeout";
	assert_int_equal(wgnl_health_settings_set(&f->s, "retry_interval", "1ms"), 0);
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_string_equal(f->k.log, "svc:restart:30000:30000;");
	assert_false(f->c.rem[0].ok);
	assert_string_equal(f->c.rem[0].error, "reconnect_stop_timeout");
	assert_true(f->c.st.last_remedy_failed);
	wgnl_health_check_clear(&f->c);
	/* No code from the callback: a generic one, never "". */
	svc_code = NULL;
	memset(f->k.log, 0, sizeof(f->k.log));
	f->s.up_command[0] = 0;
	snprintf(f->s.down_command, sizeof(f->s.down_command), "true");
	usleep(5000);
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	/* A down_command: the service only brings it up. */
	assert_string_equal(f->k.log, "cmd:true;svc:tunnel_up:30000:30000;");
	assert_false(f->c.rem[0].ok);
	assert_string_equal(f->c.rem[0].error, "reconnect_start_failed");
	svc_code = NULL;
}

static void unit__held_lock__unknown_after_the_wait(void **state)
{
	struct fixture *f = *state;
	char p[128];
	int fd = -1;

	snprintf(p, sizeof(p), "%s/%s.lock", f->dir, IFNAME);
	assert_int_equal(wgnl_health_lock(p, &fd), 0);
	/* flock is per open file: a second open in this process conflicts. */
	f->o.lock_wait_ms = 120;
	assert_int_equal(wgnl_health_check_step(f->ctx, IFNAME, &f->o, &f->c), 0);
	assert_true(f->c.unknown);
	assert_int_equal(f->c.lock_error, -EWOULDBLOCK);
	assert_non_null(strstr(f->c.unknown_why, "holds the lock (waited 0.1 s"));
	assert_false(exists(f, ".state"));
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(unit__step_bad_options__einval, setup, teardown),
		cmocka_unit_test_setup_teardown(unit__maintenance_file__left_alone_nothing_written,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			unit__read_only__judged_nothing_done_nothing_written, setup, teardown),
		cmocka_unit_test_setup_teardown(unit__typo_interface__reported_nothing_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			unit__missing_interface__restart_callback_down_then_up, setup, teardown),
		cmocka_unit_test_setup_teardown(
			unit__restart_command__command_callback_failure_recorded, setup, teardown),
		cmocka_unit_test_setup_teardown(unit__no_callbacks__remedy_fails_cleanly, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			unit__service_missing_interface__service_restart_not_a_typo, setup,
			teardown),
		cmocka_unit_test_setup_teardown(unit__service_failure__code_in_the_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(unit__held_lock__unknown_after_the_wait, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
