// SPDX-License-Identifier: MIT
/* The sync's state directory through wgkit/wgnl_sync.h (lib/sync/state.c,
 * digest.c, delta.c, semantics.c, decide.c): records written and read back, .fast and
 * .sec, a state directory others can write refused, the changed sections
 * found, and the digests agreeing. No device: files in a temporary
 * directory. */
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

#include <wgkit/wgnl_sync.h>

#define PRIV "eJeCl7KYpR2GSSE01RW28H++z2lhpeKvI9611Ml1tn0="
#define K1 "1YZELM/WjXfIxvsLTZOBo9t5O2dDTkp39Dw/gGhuiMg="
#define K2 "KtestPeer000000000000000000000000000000002A="
#define K3 "KtestPeer000000000000000000000000000000003A="

static const char v1[] = "[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n"
			 "[Peer]\nPublicKey = " K1 "\nAllowedIPs = 10.0.0.1/32\n"
			 "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.0.0.2/32\n";
/* K2 changed, K3 added. */
static const char v2[] = "[Interface]\nPrivateKey = " PRIV "\nListenPort = 51820\n"
			 "[Peer]\nPublicKey = " K1 "\nAllowedIPs = 10.0.0.1/32\n"
			 "[Peer]\nPublicKey = " K2 "\nAllowedIPs = 10.0.0.22/32\n"
			 "[Peer]\nPublicKey = " K3 "\nAllowedIPs = 10.0.0.3/32\n";

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/wgkit-unit-sync.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* A level below, so that a save creates it. */
	strcat(dir, "/st");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strlen(dir) - 3), dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct wgnl_config *parse(const char *text)
{
	struct wgnl_config *c = NULL;
	struct wgnl_config_error e;

	memset(&e, 0, sizeof(e));
	assert_int_equal(wgnl_config_parse(text, strlen(text), "t", 0, &c, &e), 0);
	return c;
}

static void record__v1_saved_without_secrets_and_read_back(void **state)
{
	struct wgnl_config *c = parse(v1), *back = NULL;
	char path[256], *text;
	size_t len;
	struct stat st;

	(void)state;
	assert_int_equal(wgnl_sync_record_load(dir, "wgu0", &back), 0);
	assert_null(back);
	assert_int_equal(wgnl_sync_record_save(dir, "wgu0", c, 0), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(wgnl_sync_record_path(path, sizeof(path), dir, "wgu0"), 0);
	assert_int_equal(wgnl_file_read(path, 1 << 20, &text, &len), 0);
	assert_memory_equal(text, "# wgctl sync record 1 digest=", 29);
	assert_null(memmem(text, len, PRIV, strlen(PRIV)));
	wgnl_free(text);
	assert_int_equal(wgnl_sync_record_load(dir, "wgu0", &back), 0);
	assert_non_null(back);
	assert_int_equal(back->dev->n_peers, 2);
	assert_false(back->dev->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	wgnl_config_free(back);
	wgnl_sync_record_forget(dir, "wgu0");
	assert_int_equal(access(path, F_OK), -1);
	wgnl_config_free(c);
}

static void dir__writable_by_others_refused(void **state)
{
	char why[128];
	struct wgnl_config *c = parse(v1);

	(void)state;
	assert_int_equal(wgnl_sync_record_save(dir, "wgu1", c, WGNL_SYNC_RECORD_FORCE), 0);
	assert_int_equal(wgnl_sync_dir_check(dir, why, sizeof(why)), 0);
	assert_int_equal(chmod(dir, 0722), 0);
	assert_int_equal(wgnl_sync_dir_check(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by group or others"));
	assert_int_equal(wgnl_sync_record_save(dir, "wgu1", c, WGNL_SYNC_RECORD_FORCE), -EPERM);
	assert_int_equal(chmod(dir, 0700), 0);
	wgnl_sync_record_forget(dir, "wgu1");
	wgnl_config_free(c);
}

static void delta__changed_sections_found_and_planned(void **state)
{
	struct wgnl_sync_text t1 = { 0 }, t2 = { 0 };
	struct wgnl_sync_digest f, r, fr, rr, exp, after;
	struct wgnl_config *c1 = parse(v1), *c2 = parse(v2);
	struct wgnl_sync_delta *d = NULL;
	struct wgnl_sync_dump *dump = NULL;
	struct wgnl_plan *plan = NULL;
	struct wgnl_device *running = c1->dev;

	(void)state;
	assert_int_equal(wgnl_sync_text_make(v1, strlen(v1), &t1), 0);
	assert_int_equal(wgnl_sync_text_make(v2, strlen(v2), &t2), 0);
	assert_int_equal(wgnl_sync_record_save_text(dir, "wgu2", &t1, 0), 0);
	f = (struct wgnl_sync_digest){ t1.text_h[0], t1.text_h[1] };
	assert_int_equal(wgnl_sync_digest_device(running, &r), 0);
	assert_int_equal(wgnl_sync_fast_save(dir, "wgu2", &f, &r), 0);
	assert_int_equal(wgnl_sync_fast_load(dir, "wgu2", &fr, &rr), 0);
	assert_memory_equal(&fr, &f, sizeof(f));
	assert_memory_equal(&rr, &r, sizeof(r));
	/* The same text: nothing to find. */
	assert_int_equal(wgnl_sync_delta_make(dir, "wgu2", v1, &t1, t1.text_h, &d), 1);
	assert_null(d);
	/* The edited one: K2 changed, K3 new; K1 unchanged. */
	assert_int_equal(wgnl_sync_delta_make(dir, "wgu2", v2, &t2, t1.text_h, &d), 0);
	assert_int_equal(wgnl_sync_dump_new(&dump), 0);
	for (size_t i = 0; i < running->n_peers; i++)
		assert_int_equal(wgnl_sync_dump_peer(running, &running->peers[i], dump), 0);
	wgnl_sync_dump_digest(dump, running, &rr);
	assert_memory_equal(&rr, &r, sizeof(r));
	assert_int_equal(wgnl_sync_delta_plan(d, dump, running, 0, &plan, &exp), 0);
	assert_int_equal(plan->n_add, 1);
	assert_int_equal(plan->n_update, 1);
	assert_int_equal(plan->n_remove, 0);
	assert_int_equal(plan->n_unchanged, 1);
	/* The digest promised is the one of the file applied whole. */
	assert_int_equal(wgnl_sync_digest_device(c2->dev, &after), 0);
	assert_memory_equal(&exp, &after, sizeof(exp));
	/* After a full sync of v2: the record is v2's text, .fast names it
	 * and the digest the device then has. */
	assert_int_equal(
		wgnl_sync_record_applied(dir, "wgu2", c2, &t2, running, WGNL_SYNC_RECORD_FAST), 0);
	assert_int_equal(wgnl_sync_fast_load(dir, "wgu2", &fr, &rr), 0);
	assert_memory_equal(&fr, t2.text_h, sizeof(fr));
	assert_memory_equal(&rr, &after, sizeof(rr));
	assert_int_equal(wgnl_sync_record_applied(dir, "wgu2", c2, NULL, running, 0), 0);
	assert_int_equal(wgnl_sync_fast_load(dir, "wgu2", &fr, &rr), -ENOENT);
	assert_int_equal(wgnl_sync_record_save_text(dir, "wgu2", &t1, WGNL_SYNC_RECORD_FORCE), 0);
	/* Without the .sec table the full path decides. */
	wgnl_sync_fast_forget(dir, "wgu2");
	wgnl_sync_delta_free(d);
	assert_int_equal(wgnl_sync_delta_make(dir, "wgu2", v2, &t2, t1.text_h, &d), -EAGAIN);
	assert_null(d);
	wgnl_plan_free(plan);
	wgnl_sync_dump_free(dump);
	wgnl_sync_record_forget(dir, "wgu2");
	wgnl_sync_text_clear(&t1);
	wgnl_sync_text_clear(&t2);
	wgnl_config_free(c1);
	wgnl_config_free(c2);
}

/* The decisions (lib/sync/decide.c): which path, and what an incremental
 * sync leaves. No ctx: WGNL_SYNC_NO_DELTA asks no device for its caps. */
static void decide__path_chosen_and_delta_recorded(void **state)
{
	struct wgnl_sync_text t1 = { 0 }, t2 = { 0 };
	struct wgnl_sync_digest r, other, fr, rr, exp;
	struct wgnl_config *c1 = parse(v1), *c2 = parse(v2);
	struct wgnl_sync_delta *d = NULL;
	struct wgnl_sync_dump *dump = NULL;
	struct wgnl_plan *plan = NULL;
	struct wgnl_device *running = c1->dev;
	const unsigned fl = WGNL_SYNC_NO_DELTA;

	(void)state;
	assert_false(wgnl_sync_config_is_quick(c1, 0));
	assert_true(wgnl_sync_config_is_quick(c1, WGNL_SYNC_QUICK));
	assert_int_equal(wgnl_sync_text_make(v1, strlen(v1), &t1), 0);
	assert_int_equal(wgnl_sync_text_make(v2, strlen(v2), &t2), 0);
	assert_int_equal(wgnl_sync_record_save_text(dir, "wgu3", &t1, 0), 0);
	assert_int_equal(wgnl_sync_digest_device(running, &r), 0);
	assert_int_equal(wgnl_sync_dump_new(&dump), 0);
	for (size_t i = 0; i < running->n_peers; i++)
		assert_int_equal(wgnl_sync_dump_peer(running, &running->peers[i], dump), 0);
	/* Same text, same device: fast; a device changed since: full. */
	assert_int_equal(wgnl_sync_path_choose(NULL, "wgu3", dump, running, &r, true, NULL, fl,
					       &plan, &exp),
			 WGNL_SYNC_PATH_FAST);
	other = (struct wgnl_sync_digest){ r.a ^ 1, r.b };
	assert_int_equal(wgnl_sync_path_choose(NULL, "wgu3", dump, running, &other, true, NULL, fl,
					       &plan, &exp),
			 WGNL_SYNC_PATH_FULL);
	/* A changed text without a delta: full; with one: incremental. */
	assert_int_equal(wgnl_sync_path_choose(NULL, "wgu3", dump, running, &r, false, NULL, fl,
					       &plan, &exp),
			 WGNL_SYNC_PATH_FULL);
	assert_null(plan);
	assert_int_equal(wgnl_sync_delta_make(dir, "wgu3", v2, &t2, t1.text_h, &d), 0);
	assert_int_equal(wgnl_sync_path_choose(NULL, "wgu3", dump, running, &r, false, d, fl, &plan,
					       &exp),
			 WGNL_SYNC_PATH_INCREMENTAL);
	assert_int_equal(plan->n_add, 1);
	assert_int_equal(plan->n_update, 1);
	/* Applied: the record is v2's text, .fast names it and @exp. */
	assert_int_equal(wgnl_sync_delta_applied(dir, "wgu3", NULL, &t2, &exp), 0);
	assert_int_equal(wgnl_sync_fast_load(dir, "wgu3", &fr, &rr), 0);
	assert_memory_equal(&fr, t2.text_h, sizeof(fr));
	assert_memory_equal(&rr, &exp, sizeof(rr));
	/* Prepared as syncconf reads a file. */
	wgnl_sync_config_prepare(c2, 0);
	assert_true(c2->dev->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	assert_false(c2->dev->flags & WGNL_DEV_REPLACE_PEERS);
	wgnl_plan_free(plan);
	wgnl_sync_delta_free(d);
	wgnl_sync_dump_free(dump);
	wgnl_sync_record_forget(dir, "wgu3");
	wgnl_sync_text_clear(&t1);
	wgnl_sync_text_clear(&t2);
	wgnl_config_free(c1);
	wgnl_config_free(c2);
}

static void semantics__setconf_and_syncconf(void **state)
{
	struct wgnl_config *c = parse("[Interface]\nListenPort = 1\n[Peer]\nPublicKey = " K1 "\n");

	(void)state;
	c->dev->fwmark = 7; /* not in the file */
	wgnl_config_apply_semantics(c->dev, WGNL_SEM_SYNCCONF);
	assert_int_equal(c->dev->fwmark, 0);
	assert_true(c->dev->flags & WGNL_DEV_HAS_PRIVATE_KEY);
	assert_true(c->dev->flags & WGNL_DEV_HAS_FWMARK);
	assert_false(c->dev->flags & WGNL_DEV_REPLACE_PEERS);
	assert_false(c->dev->peers[0].flags & WGNL_PEER_REPLACE_ALLOWEDIPS);
	c->dev->flags &= ~(uint32_t)WGNL_DEV_HAS_LISTEN_PORT;
	wgnl_config_apply_semantics(c->dev, WGNL_SEM_SETCONF);
	assert_true(c->dev->flags & WGNL_DEV_HAS_LISTEN_PORT);
	assert_true(c->dev->flags & WGNL_DEV_REPLACE_PEERS);
	assert_true(c->dev->peers[0].flags & WGNL_PEER_REPLACE_ALLOWEDIPS);
	wgnl_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(record__v1_saved_without_secrets_and_read_back),
		cmocka_unit_test(dir__writable_by_others_refused),
		cmocka_unit_test(delta__changed_sections_found_and_planned),
		cmocka_unit_test(semantics__setconf_and_syncconf),
		cmocka_unit_test(decide__path_chosen_and_delta_recorded),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
