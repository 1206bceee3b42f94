// SPDX-License-Identifier: MIT
/* wghealth status: the last verdict of every tunnel (or those named), read
 * from the state files without checking anything. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/compat.h"
#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "wghealth.h"
#include "wgkit/wgnl_health.h"

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The interfaces with a state file in @dir, sorted, into *names / *n.
 * Returns -1 to go on, else an exit code (a missing directory: nothing to
 * show, "[]" for --json). */
static int names_from_dir(const char *dir, bool json, char ***names, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t cap = 0;

	if (!d) {
		if (errno == ENOENT) {
			if (json)
				printf("[]\n");
			return WGK_EXIT_OK;
		}
		int e = errno;

		wgk_error("status: cannot read '%s': %s", wgk_q(dir), strerror(e));
		return e == EACCES || e == EPERM ? WGK_EXIT_PERM : WGK_EXIT_SYSTEM;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if (len <= 6 || strcmp(de->d_name + len - 6, ".state"))
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(*names, cap * sizeof(*nv));
			if (!nv)
				break;
			*names = nv;
		}
		(*names)[*n] = strndup(de->d_name, len - 6);
		if ((*names)[*n])
			(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), by_name);
	return -1;
}

static void status_json(struct wgk_json *j, const char *name, const char *verdict, int r,
			const struct wgnl_health_state *st)
{
	wgk_json_object_begin(j);
	wgk_json_kv_string(j, "interface", name);
	wgk_json_kv_string(j, "verdict", verdict);
	if (r < 0) {
		wgk_json_kv_string(j, "error", r == -EBADMSG ? "corrupt state file" : strerror(-r));
		wgk_json_object_end(j);
		return;
	}
	wgk_json_key(j, "reasons");
	wgk_json_array_begin(j);
	for (unsigned b = 0; b < WGNL_HEALTH_N_REASONS; b++)
		if (st->reasons & (1U << b))
			wgk_json_string(j, wgnl_health_reason_name(1U << b));
	wgk_json_array_end(j);
	wgk_json_key(j, "checked_at_ms");
	wgk_json_int(j, st->last_check_ms);
	wgk_json_kv_uint(j, "consecutive_bad", st->consecutive_bad);
	wgk_json_kv_uint(j, "attempt", st->attempt);
	wgk_json_key(j, "cooldown_until_ms");
	wgk_json_int(j, st->cooldown_until_ms);
	wgk_json_kv_bool(j, "underlay_down", st->underlay_down);
	wgk_json_kv_uint(j, "remedies_total", st->remedies_total);
	wgk_json_object_end(j);
}

static void status_text(const char *name, const char *verdict, int r,
			const struct wgnl_health_state *st)
{
	char reasons[512], when[32];
	time_t t = (time_t)(st->last_check_ms / 1000);
	struct tm tm;

	if (r < 0) {
		printf("%s: unknown (%s)\n", name,
		       r == -EBADMSG ? "corrupt state file" : strerror(-r));
		return;
	}
	wgnl_health_reasons_format(st->reasons, reasons, sizeof(reasons));
	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s: %s%s%s%s, checked %s, %u bad in a row, attempt %u, %" PRIu64 " remedies%s%s\n",
	       name, verdict, reasons[0] ? " (" : "", reasons, reasons[0] ? ")" : "", when,
	       st->consecutive_bad, st->attempt, st->remedies_total,
	       st->cooldown_until_ms ? ", cooling down" : "",
	       st->underlay_down ? ", taken down for the underlay" : "");
}

/* Show the state of @name in @dir. Returns 0 or the -errno of the load. */
static int status_one(struct wgk_json *j, const char *dir, const char *name)
{
	struct wgnl_health_state st;
	char path[PATH_MAX];
	int r;

	memset(&st, 0, sizeof(st));
	snprintf(path, sizeof(path), "%s/%s.state", dir, name);
	r = wgnl_health_state_load(path, &st);
	const char *verdict =
		r < 0 ? "unknown" : wgnl_health_verdict_name((enum wgnl_health_verdict)st.verdict);
	if (j)
		status_json(j, name, verdict, r, &st);
	else
		status_text(name, verdict, r, &st);
	wgnl_health_state_clear(&st);
	return r;
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = WH_STATE_DIR;
	bool json = false;
	char **names = NULL;
	size_t n = 0;
	int c, rc = WGK_EXIT_OK;
	struct wgk_json j;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'S':
			dir = optarg;
			break;
		case 'h':
			printf("Usage: wghealth status [IF...] [--json] [--state-dir DIR]\n"
			       "The last verdict of each tunnel, from the state files.\n");
			return WGK_EXIT_OK;
		default:
			return WGK_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		n = (size_t)(argc - optind);
		names = calloc(n, sizeof(*names));
		if (!names)
			n = 0;
		for (size_t i = 0; i < n; i++)
			names[i] = strdup(argv[optind + (int)i]);
	} else if ((rc = names_from_dir(dir, json, &names, &n)) >= 0) {
		return rc;
	}
	rc = WGK_EXIT_OK;
	if (json) {
		wgk_json_init(&j, stdout, false);
		wgk_json_array_begin(&j);
	}
	for (size_t i = 0; i < n; i++) {
		int r = names[i] ? status_one(json ? &j : NULL, dir, names[i]) : 0;
		if (r < 0 && rc == WGK_EXIT_OK)
			rc = r == -ENOENT ? WGK_EXIT_NOTFOUND : wgk_exit_for_file_errno(r);
	}
	if (json) {
		wgk_json_array_end(&j);
		wgk_json_finish(&j);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}
