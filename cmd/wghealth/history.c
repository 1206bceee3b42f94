// SPDX-License-Identifier: MIT
/* wghealth history: every verdict transition and remedy, in SQLite
 * (STATE_DIR/history.db), and the `history` subcommand that reads it. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/compat.h"
#include <sqlite3.h>

#include "err.h"
#include "exitcodes.h"
#include "json.h"
#include "wghealth.h"

struct wh_history {
	sqlite3 *db;
};

static const char schema[] = "CREATE TABLE IF NOT EXISTS events ("
			     " id INTEGER PRIMARY KEY,"
			     " ts_ms INTEGER NOT NULL,"
			     " interface TEXT NOT NULL,"
			     " kind TEXT NOT NULL,"
			     " verdict TEXT NOT NULL DEFAULT '',"
			     " reason TEXT NOT NULL DEFAULT '',"
			     " action TEXT NOT NULL DEFAULT '',"
			     " result TEXT NOT NULL DEFAULT '',"
			     " detail TEXT NOT NULL DEFAULT '');"
			     "CREATE INDEX IF NOT EXISTS events_if_ts ON events(interface, ts_ms);";

const char *wh_history_default(const char *state_dir)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/history.db", state_dir);
	return buf;
}

int wh_history_open(const char *path, bool create, struct wh_history **ret)
{
	struct wh_history *h = calloc(1, sizeof(*h));
	int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);

	*ret = NULL;
	if (!h)
		return -ENOMEM;
	if (sqlite3_open_v2(path, &h->db, flags, NULL) != SQLITE_OK) {
		wgk_error("cannot open the history '%s': %s", wgk_q(path),
			  h->db ? sqlite3_errmsg(h->db) : "out of memory");
		sqlite3_close(h->db);
		free(h);
		return -EIO;
	}
	/* Overlapping runs (timer and a manual check) write the same file. */
	sqlite3_busy_timeout(h->db, 5000);
	char *msg = NULL;
	if (sqlite3_exec(h->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
		wgk_error("cannot prepare the history '%s': %s", wgk_q(path), msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(h->db);
		free(h);
		return -EIO;
	}
	*ret = h;
	return 0;
}

void wh_history_close(struct wh_history *h)
{
	if (!h)
		return;
	sqlite3_close(h->db);
	free(h);
}

int wh_history_add(struct wh_history *h, const struct wh_event *e)
{
	static const char sql[] = "INSERT INTO events (ts_ms, interface, kind, verdict, reason, "
				  "action, result, detail) VALUES (?,?,?,?,?,?,?,?)";
	sqlite3_stmt *st = NULL;
	int rc;

	if (!h)
		return 0;
	rc = sqlite3_prepare_v2(h->db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, e->ts_ms);
		sqlite3_bind_text(st, 2, e->ifname, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, e->kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, e->verdict ? e->verdict : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, e->reason ? e->reason : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, e->action ? e->action : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 7, e->result ? e->result : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 8, e->detail ? e->detail : "", -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		wgk_warn("cannot record in the history: %s", sqlite3_errmsg(h->db));
		return -EIO;
	}
	return 0;
}

/* "1700000000" (epoch seconds), "2026-01-02T03:04:05" / "2026-01-02 03:04:05"
 * (local time), "2026-01-02", or a duration ago: "90s", "15m", "2h", "7d". */
static int parse_since(const char *s, int64_t now_ms, int64_t *out)
{
	char *end;
	struct tm tm;

	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (!errno && end != s && *s >= '0' && *s <= '9') {
		uint64_t mult = 0;
		if (!*end)
			mult = 0;
		else if (!strcmp(end, "s"))
			mult = 1000;
		else if (!strcmp(end, "m"))
			mult = 60000;
		else if (!strcmp(end, "h"))
			mult = 3600000;
		else if (!strcmp(end, "d"))
			mult = 86400000;
		else
			goto date;
		if (n > (uint64_t)INT64_MAX / 100000000)
			return -EINVAL;
		*out = mult ? now_ms - (int64_t)(n * mult) : (int64_t)n * 1000;
		return 0;
	}
date:
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (!end || *end) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(s, "%Y-%m-%d", &tm);
	}
	if (!end || *end)
		return -EINVAL;
	tm.tm_isdst = -1;
	time_t t = mktime(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*out = (int64_t)t * 1000;
	return 0;
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? (const char *)t : "";
}

struct history_args {
	const char *db, *state_dir, *ifname;
	bool json;
	int64_t since, limit;
};

static void history_help(void)
{
	printf("Usage: wghealth history [IF] [--since WHEN] [--limit N] [--json]\n"
	       "         [--db PATH | --state-dir DIR]\n"
	       "Verdict transitions and remedies, oldest first; --limit N: the newest\n"
	       "N. WHEN: epoch seconds,\n"
	       "YYYY-MM-DD[THH:MM:SS] (local time) or a duration ago (90s, 15m, 2h, 7d).\n");
}

/* Parse the arguments into @a; returns -1 to go on, else an exit code. */
static int history_parse(int argc, char **argv, struct history_args *a)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "since", required_argument, NULL, 's' },
		{ "db", required_argument, NULL, 'd' },
		{ "state-dir", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct timespec ts;
	int c;

	memset(a, 0, sizeof(*a));
	a->state_dir = WH_STATE_DIR;
	a->limit = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			a->json = true;
			break;
		case 's':
			if (parse_since(optarg, now_ms, &a->since) < 0) {
				wgk_error("history: invalid --since '%s' (epoch seconds, "
					  "YYYY-MM-DD[THH:MM:SS], or 90s/15m/2h/7d ago)",
					  wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			break;
		case 'd':
			a->db = optarg;
			break;
		case 'S':
			a->state_dir = optarg;
			break;
		case 'n': {
			char *end;
			errno = 0;
			long long v = strtoll(optarg, &end, 10);
			if (errno || *end || v < 0) {
				wgk_error("history: invalid --limit '%s'", wgk_q(optarg));
				return WGK_EXIT_USAGE;
			}
			a->limit = v;
			break;
		}
		case 'h':
			history_help();
			return WGK_EXIT_OK;
		default:
			return WGK_EXIT_USAGE;
		}
	}
	if (optind < argc)
		a->ifname = argv[optind++];
	if (optind < argc) {
		wgk_error("history: unexpected argument '%s'", wgk_q(argv[optind]));
		return WGK_EXIT_USAGE;
	}
	if (!a->db)
		a->db = wh_history_default(a->state_dir);
	return -1;
}

/* One row of the query below as a JSON object. */
static void history_row_json(struct wgk_json *j, sqlite3_stmt *st)
{
	char rs[512], *save = NULL;

	wgk_json_object_begin(j);
	wgk_json_key(j, "ts_ms");
	wgk_json_int(j, sqlite3_column_int64(st, 0));
	wgk_json_kv_string(j, "interface", col(st, 1));
	wgk_json_kv_string(j, "kind", col(st, 2));
	wgk_json_kv_string(j, "verdict", col(st, 3));
	wgk_json_key(j, "reasons");
	wgk_json_array_begin(j);
	snprintf(rs, sizeof(rs), "%s", col(st, 4));
	for (char *r = strtok_r(rs, ",", &save); r; r = strtok_r(NULL, ",", &save))
		wgk_json_string(j, r);
	wgk_json_array_end(j);
	wgk_json_kv_string(j, "action", col(st, 5));
	wgk_json_kv_string(j, "result", col(st, 6));
	wgk_json_kv_string(j, "detail", col(st, 7));
	wgk_json_object_end(j);
}

/* One row as a line for people, local time first. */
static void history_row_text(sqlite3_stmt *st)
{
	int64_t t = sqlite3_column_int64(st, 0);
	time_t secs = (time_t)(t / 1000);
	struct tm tm;
	char when[32];

	localtime_r(&secs, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s.%03d %s %s %s", when, (int)(t % 1000), col(st, 1), col(st, 2), col(st, 3));
	if (*col(st, 4))
		printf(" reasons=%s", col(st, 4));
	if (*col(st, 5))
		printf(" action=%s", col(st, 5));
	if (*col(st, 6))
		printf(" result=%s", col(st, 6));
	if (*col(st, 7))
		printf(" (%s)", col(st, 7));
	printf("\n");
}

/* Print the events @a selects from the open history @h. Returns the exit
 * code. */
static int history_print(struct wh_history *h, const struct history_args *a)
{
	sqlite3_stmt *st = NULL;
	/* --limit N: the newest N, still printed oldest first. */
	const char *sql = "SELECT * FROM (SELECT ts_ms, interface, kind, verdict, reason, action, "
			  "result, detail, id FROM events WHERE ts_ms >= ?1 AND "
			  "(?2 IS NULL OR interface = ?2) ORDER BY ts_ms DESC, id DESC LIMIT ?3) "
			  "ORDER BY ts_ms, id";
	struct wgk_json j;
	int rc, ret = WGK_EXIT_OK;

	if (sqlite3_prepare_v2(h->db, sql, -1, &st, NULL) != SQLITE_OK) {
		wgk_error("history: cannot read '%s': %s", wgk_q(a->db), sqlite3_errmsg(h->db));
		return WGK_EXIT_SYSTEM;
	}
	sqlite3_bind_int64(st, 1, a->since);
	if (a->ifname)
		sqlite3_bind_text(st, 2, a->ifname, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, a->limit);
	if (a->json) {
		wgk_json_init(&j, stdout, false);
		wgk_json_array_begin(&j);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (a->json)
			history_row_json(&j, st);
		else
			history_row_text(st);
	}
	if (rc != SQLITE_DONE) {
		wgk_error("history: cannot read '%s': %s", wgk_q(a->db), sqlite3_errmsg(h->db));
		ret = WGK_EXIT_SYSTEM;
	}
	if (a->json) {
		wgk_json_array_end(&j);
		if (wgk_json_finish(&j) < 0)
			ret = WGK_EXIT_SYSTEM;
	}
	sqlite3_finalize(st);
	return ret;
}

int cmd_history(int argc, char **argv)
{
	struct history_args a;
	struct wh_history *h;
	int rc = history_parse(argc, argv, &a);

	if (rc >= 0)
		return rc;
	if (wh_history_open(a.db, false, &h) < 0)
		return access(a.db, F_OK) < 0 && errno == ENOENT	? WGK_EXIT_NOTFOUND :
		       access(a.db, R_OK | W_OK) < 0 && errno == EACCES ? WGK_EXIT_PERM :
									  WGK_EXIT_SYSTEM;
	rc = history_print(h, &a);
	wh_history_close(h);
	return rc;
}
