// SPDX-License-Identifier: MIT
/*
 * wg-gatewayd: the PostgreSQL registry source ([Registry] Source =
 * postgresql) and `wg-gatewayd migrate`.
 *
 * The schema (migrate, below) gives every change of wgkit_peer a change id
 * from one counter row that the row trigger updates: the row lock serialises
 * writers until COMMIT, so ids become visible in increasing order and "rows
 * past the last id read" never misses a slow transaction. Deletes (and a
 * changed public key) leave a tombstone in wgkit_peer_deleted; each statement
 * sends NOTIFY wgkit_peers '<last id>'.
 *
 * The source: a non-blocking connect (PQconnectStartParams/PQconnectPoll,
 * driven by tick()), LISTEN, a full read at the first connection and every
 * FullRereadSeconds, then on each NOTIFY one query for the rows and
 * tombstones past the last id read (one statement: one snapshot, the counter
 * included). A heartbeat (the same query) every StaleSeconds/3 keeps
 * last_ok_ms fresh and catches a lost notification. The database going away
 * never reaches the sink: the last state stays applied, the source
 * reconnects with a capped, jittered backoff (0.25 s doubling to 5 s) and,
 * once back, reads what changed meanwhile.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gw.h"
#include "pgrow.h"
#include "pq.h"

#define PG_BACKOFF_MIN_MS 250
#define PG_BACKOFF_MAX_MS 5000
#define PG_CONNECT_TIMEOUT_MS 5000
#define PG_CONNECT_STEP_MS 10
#define PG_BEAT_MIN_MS 1000
#define PG_SCHEMA_VERSION 1

/* libpq, loaded on first use (pq.h): a directory-source node never maps it. */
union gw_pq gw_pq;
_Static_assert(sizeof(gw_pq.f) == sizeof(gw_pq.slot), "one slot per libpq function");

int gw_pq_load(char *err, size_t errlen)
{
	static const char *const names[] = { GW_PQ_FUNCS(GW_DL_NAME) };

	return gw_dl_load(GW_PQ_SONAME, names, gw_pq.slot, GW_DL_N(names),
			  "the PostgreSQL registry needs it: install Debian's libpq5", err, errlen);
}

enum pg_state {
	PG_DOWN,
	PG_CONNECTING,
	PG_UP
};

struct gw_source {
	char *conninfo;
	PGconn *conn;
	enum pg_state state;
	int64_t connect_start_ms, next_try_ms, backoff_ms;
	int64_t last_ok_ms, next_full_ms, next_beat_ms;
	int64_t full_ms, beat_ms;
	int64_t last_change; /* every change up to here went to the sink */
	bool synced;	     /* a full read went to the sink */
	uint64_t connects, reconnects;
	uint32_t rnd;
	char last_err[256]; /* logged once, not at every retry */
};

/* ------------------------------------------------------------ schema */

/* Migration steps: step[i] takes the schema from version i to i + 1. Run in
 * one transaction under an advisory lock, so two nodes migrating at once
 * do it once. Never edit a released step: add one. */
static const char *const pg_steps[PG_SCHEMA_VERSION] = {
	/* 0 -> 1 */
	"CREATE TABLE wgkit_change_counter ("
	" id integer PRIMARY KEY CHECK (id = 1),"
	" last bigint NOT NULL);"
	"INSERT INTO wgkit_change_counter VALUES (1, 0);"
	"CREATE TABLE wgkit_peer ("
	" id bigserial PRIMARY KEY,"
	" public_key text NOT NULL UNIQUE,"
	" allowed_ips text NOT NULL DEFAULT '',"
	" preshared_key text NULL,"
	" enabled boolean NOT NULL DEFAULT true,"
	" change_id bigint NOT NULL DEFAULT 0,"
	" assigned_address inet NULL,"
	" created_at timestamptz NOT NULL DEFAULT now(),"
	" last_seen timestamptz NULL);"
	"CREATE INDEX wgkit_peer_change_id ON wgkit_peer (change_id);"
	"CREATE TABLE wgkit_peer_deleted ("
	" id bigint NOT NULL,"
	" public_key text NOT NULL,"
	" change_id bigint NOT NULL,"
	" deleted_at timestamptz NOT NULL DEFAULT now());"
	"CREATE INDEX wgkit_peer_deleted_change_id ON wgkit_peer_deleted (change_id);"
	/* The row trigger: a change id from the counter row (its lock holds
	 * later writers until this transaction ends); an update touching only
	 * enrolment columns (last_seen, assigned_address) is no change. */
	"CREATE FUNCTION wgkit_peer_change() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	"DECLARE c bigint;\n"
	"BEGIN\n"
	"  IF TG_OP = 'UPDATE' AND NEW.public_key = OLD.public_key\n"
	"     AND NEW.allowed_ips IS NOT DISTINCT FROM OLD.allowed_ips\n"
	"     AND NEW.preshared_key IS NOT DISTINCT FROM OLD.preshared_key\n"
	"     AND NEW.enabled IS NOT DISTINCT FROM OLD.enabled THEN\n"
	"    NEW.change_id := OLD.change_id;\n"
	"    RETURN NEW;\n"
	"  END IF;\n"
	"  UPDATE wgkit_change_counter SET last = last + 1 WHERE id = 1 RETURNING last INTO c;\n"
	"  IF TG_OP = 'DELETE' THEN\n"
	"    INSERT INTO wgkit_peer_deleted (id, public_key, change_id)\n"
	"      VALUES (OLD.id, OLD.public_key, c);\n"
	"    RETURN OLD;\n"
	"  END IF;\n"
	"  IF TG_OP = 'UPDATE' AND NEW.public_key <> OLD.public_key THEN\n"
	"    INSERT INTO wgkit_peer_deleted (id, public_key, change_id)\n"
	"      VALUES (OLD.id, OLD.public_key, c);\n"
	"  END IF;\n"
	"  NEW.change_id := c;\n"
	"  RETURN NEW;\n"
	"END $$;"
	"CREATE TRIGGER wgkit_peer_change BEFORE INSERT OR UPDATE OR DELETE ON wgkit_peer"
	" FOR EACH ROW EXECUTE FUNCTION wgkit_peer_change();"
	/* One notification per statement (a 10,000-row insert is one), with
	 * the last id; delivered at COMMIT. */
	"CREATE FUNCTION wgkit_peer_notify() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"  PERFORM pg_notify('wgkit_peers', (SELECT last FROM wgkit_change_counter WHERE id = 1)::text);\n"
	"  RETURN NULL;\n"
	"END $$;"
	"CREATE TRIGGER wgkit_peer_notify AFTER INSERT OR UPDATE OR DELETE ON wgkit_peer"
	" FOR EACH STATEMENT EXECUTE FUNCTION wgkit_peer_notify();",
};

/* Rows past $1 and the counter, in one statement (one snapshot). kind 0:
 * the counter (change_id = the last id handed out), 1: a peer, 2: a
 * tombstone. */
static const char pg_q_since[] =
	"SELECT 0, last, 0::bigint, NULL::text, NULL::text, NULL::text, NULL::boolean"
	" FROM wgkit_change_counter WHERE id = 1"
	" UNION ALL SELECT 1, change_id, id, public_key, allowed_ips, preshared_key, enabled"
	" FROM wgkit_peer WHERE change_id > $1"
	" UNION ALL SELECT 2, change_id, id, public_key, NULL, NULL, false"
	" FROM wgkit_peer_deleted WHERE change_id > $1"
	" ORDER BY 2, 1";
static const char pg_q_full[] =
	"SELECT 0, last, 0::bigint, NULL::text, NULL::text, NULL::text, NULL::boolean"
	" FROM wgkit_change_counter WHERE id = 1"
	" UNION ALL SELECT 1, change_id, id, public_key, allowed_ips, preshared_key, enabled"
	" FROM wgkit_peer WHERE enabled"
	" ORDER BY 2, 1";

/* ------------------------------------------------------------ helpers */

/* libpq's message, first line only (no trailing newline). */
static void pg_msg(char *buf, size_t len, const char *what, const char *msg)
{
	size_t n;

	snprintf(buf, len, "%s: %s", what, msg && *msg ? msg : "unknown error");
	n = strcspn(buf, "\n");
	buf[n] = '\0';
}

/* The server's notices and asynchronous errors ("terminating connection due
 * to administrator command") as log lines, not libpq's bare stderr. */
static void pg_notice(void *arg, const char *msg)
{
	(void)arg;
	gw_log("info", "registry says: %.*s", (int)strcspn(msg, "\n"), msg);
}

/* Our defaults first, then the operator's conninfo (expanded as dbname),
 * whose keywords override them. */
static PGconn *pg_connect(const char *conninfo, bool async)
{
	const char *const keys[] = { "application_name", "connect_timeout", "dbname", NULL };
	const char *const vals[] = { "wg-gatewayd", "5", conninfo, NULL };

	PGconn *conn = async ? PQconnectStartParams(keys, vals, 1) :
			       PQconnectdbParams(keys, vals, 1);

	if (conn)
		PQsetNoticeProcessor(conn, pg_notice, NULL);
	return conn;
}

static int64_t pg_jitter(struct gw_source *s, int64_t ms)
{
	/* xorshift32: +-20 % so that nodes restarted together spread out */
	s->rnd ^= s->rnd << 13;
	s->rnd ^= s->rnd >> 17;
	s->rnd ^= s->rnd << 5;
	return ms * 8 / 10 + (int64_t)(s->rnd % (uint32_t)(ms * 4 / 10 + 1));
}

static void pg_down(struct gw_source *s, int64_t now, const char *why)
{
	bool was_up = s->state == PG_UP;

	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	s->state = PG_DOWN;
	if (was_up) {
		s->backoff_ms = PG_BACKOFF_MIN_MS;
		gw_log("warning", "registry lost: %s (keeping the last state, reconnecting)", why);
		snprintf(s->last_err, sizeof(s->last_err), "%s", why);
	} else {
		s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : PG_BACKOFF_MIN_MS;
		if (s->backoff_ms > PG_BACKOFF_MAX_MS)
			s->backoff_ms = PG_BACKOFF_MAX_MS;
		if (strcmp(s->last_err, why)) {
			gw_log("warning", "registry unreachable: %s (retrying up to every %d s)",
			       why, PG_BACKOFF_MAX_MS / 1000);
			snprintf(s->last_err, sizeof(s->last_err), "%s", why);
		}
	}
	s->next_try_ms = now + pg_jitter(s, s->backoff_ms);
}

/* ------------------------------------------------------------ rows */

static int64_t pg_i64(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *pg_text(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* One result row to the sink: a peer, a disabled peer or a tombstone
 * (removed), or a bad row. In a full read a bad row whose key parses keeps
 * its peer as it was (as a bad update does between full reads): a typo in
 * allowed_ips never drops a working peer. */
static void pg_row(struct gw_sink *sink, const PGresult *res, int i, bool full)
{
	int kind = (int)pg_i64(res, i, 0);
	const char *en = pg_text(res, i, 6);
	struct gw_row row = {
		.id = pg_i64(res, i, 2),
		.change_id = pg_i64(res, i, 1),
		.removed = kind == 2 || (en && en[0] == 'f'),
	};
	struct wgnl_peer peer;
	char why[200];

	/* A removal needs the key only: a bad prefix must not keep a
	 * disabled or deleted peer alive. */
	if (gw_pg_row_parse(pg_text(res, i, 3), row.removed ? NULL : pg_text(res, i, 4),
			    row.removed ? NULL : pg_text(res, i, 5), &peer, why, sizeof(why)) < 0) {
		wgnl_key pub;

		sink->bad(sink, row.id, why);
		if (full && sink->keep && !row.removed && pg_text(res, i, 3) &&
		    wgnl_key_from_base64(pub, pg_text(res, i, 3)) == 0)
			sink->keep(sink, pub);
		return;
	}
	row.peer = &peer;
	sink->row(sink, &row);
	gw_pg_row_clear(&peer);
}

/* Run @q (with the last id as $1 when @since) and hand the rows to the
 * sink; a full read between full_begin and full_end. 0, or -EIO with @why
 * filled (the connection is then taken down by the caller). */
static int pg_read(struct gw_source *s, struct gw_sink *sink, bool full, char *why, size_t len)
{
	char last[24];
	const char *params[1] = { last };
	int64_t counter = -1;
	PGresult *res;
	int i, n;

	snprintf(last, sizeof(last), "%" PRId64, s->last_change);
	res = full ? PQexec(s->conn, pg_q_full) :
		     PQexecParams(s->conn, pg_q_since, 1, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		pg_msg(why, len, full ? "full read" : "read", PQerrorMessage(s->conn));
		PQclear(res);
		return -EIO;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
		if (pg_i64(res, i, 0) == 0)
			counter = pg_i64(res, i, 1);
	if (counter < 0) {
		pg_msg(why, len, "read",
		       "the change counter row is missing (run wg-gatewayd migrate)");
		PQclear(res);
		return -EIO;
	}
	s->last_ok_ms = gw_now_ms();
	if (full)
		sink->full_begin(sink);
	for (i = 0; i < n; i++)
		if (pg_i64(res, i, 0) != 0)
			pg_row(sink, res, i, full);
	PQclear(res);
	if (full) {
		sink->full_end(sink, counter);
		s->synced = true;
	} else {
		sink->position(sink, counter);
	}
	s->last_change = counter;
	return 0;
}

/* A full read when never synced or when the counter went backwards (the
 * database was replaced by an older copy); else only what changed. */
static int pg_catch_up(struct gw_source *s, struct gw_sink *sink, char *why, size_t len)
{
	PGresult *res;
	int64_t counter;

	if (!s->synced)
		return pg_read(s, sink, true, why, len);
	res = PQexec(s->conn, "SELECT last FROM wgkit_change_counter WHERE id = 1");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_msg(why, len, "read", PQerrorMessage(s->conn));
		PQclear(res);
		return -EIO;
	}
	counter = pg_i64(res, 0, 0);
	PQclear(res);
	if (counter < s->last_change) {
		gw_log("warning",
		       "registry change id went back from %" PRId64 " to %" PRId64 ": full read",
		       s->last_change, counter);
		return pg_read(s, sink, true, why, len);
	}
	return pg_read(s, sink, false, why, len);
}

/* ------------------------------------------------------------ connection */

static int pg_check_schema(struct gw_source *s, char *why, size_t len)
{
	PGresult *res = PQexec(s->conn, "SELECT max(version) FROM wgkit_schema");
	int64_t v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_msg(why, len, "no registry schema (run wg-gatewayd migrate)",
		       PQerrorMessage(s->conn));
		PQclear(res);
		return -EIO;
	}
	v = pg_i64(res, 0, 0);
	PQclear(res);
	if (v != PG_SCHEMA_VERSION) {
		snprintf(why, len,
			 "registry schema version %" PRId64
			 ", this daemon needs %d (run wg-gatewayd migrate)",
			 v, PG_SCHEMA_VERSION);
		return -EIO;
	}
	return 0;
}

static void pg_connected(struct gw_source *s, struct gw_sink *sink, int64_t now)
{
	char why[256];
	PGresult *res;

	if (pg_check_schema(s, why, sizeof(why)) < 0) {
		pg_down(s, now, why);
		return;
	}
	res = PQexec(s->conn, "LISTEN wgkit_peers");
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_msg(why, sizeof(why), "LISTEN", PQerrorMessage(s->conn));
		PQclear(res);
		pg_down(s, now, why);
		return;
	}
	PQclear(res);
	/* LISTEN first, then read: a change committed in between is both read
	 * and notified (harmless), never lost. */
	if (pg_catch_up(s, sink, why, sizeof(why)) < 0) {
		pg_down(s, now, why);
		return;
	}
	s->state = PG_UP;
	s->backoff_ms = 0;
	s->last_err[0] = '\0';
	if (s->connects++)
		s->reconnects++;
	now = gw_now_ms();
	s->next_full_ms = now + s->full_ms;
	s->next_beat_ms = now + s->beat_ms;
	gw_log("info", "registry connected change_id=%" PRId64 " reconnects=%" PRIu64,
	       s->last_change, s->reconnects);
}

/* One step of the non-blocking connect: PQconnectPoll only when the socket
 * is ready in the direction it asked for. */
static void pg_connect_step(struct gw_source *s, struct gw_sink *sink, int64_t now)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;
	char why[256];

	for (;;) {
		struct pollfd p = { .fd = PQsocket(s->conn) };

		if (PQstatus(s->conn) == CONNECTION_BAD)
			break;
		p.events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT;
		if (p.fd < 0 || poll(&p, 1, 0) <= 0)
			break;
		st = PQconnectPoll(s->conn);
		if (st == PGRES_POLLING_OK) {
			pg_connected(s, sink, now);
			return;
		}
		if (st == PGRES_POLLING_FAILED)
			break;
	}
	if (PQstatus(s->conn) == CONNECTION_BAD) {
		pg_msg(why, sizeof(why), "connect", PQerrorMessage(s->conn));
		pg_down(s, now, why);
	} else if (now - s->connect_start_ms > PG_CONNECT_TIMEOUT_MS) {
		pg_down(s, now, "connect: timed out after 5 s");
	}
}

/* ------------------------------------------------------------ ops */

static int pg_open(struct gw_source **ret, const struct gw_conf *c, char *err, size_t errlen)
{
	struct gw_source *s;
	char *perr = NULL;
	PQconninfoOption *opts;
	int r;

	*ret = NULL;
	if (!c->conninfo || !*c->conninfo) {
		snprintf(err, errlen, "%s: Conninfo: missing (Source = postgresql needs it)",
			 c->path);
		return -EINVAL;
	}
	r = gw_pq_load(err, errlen);
	if (r < 0)
		return r;
	opts = PQconninfoParse(c->conninfo, &perr);
	if (!opts) {
		/* libpq's message names the bad keyword, not the values */
		snprintf(err, errlen, "%s: Conninfo: %s", c->path, perr ? perr : "out of memory");
		err[strcspn(err, "\n")] = '\0';
		PQfreemem(perr);
		return perr ? -EINVAL : -ENOMEM;
	}
	PQconninfoFree(opts);
	s = calloc(1, sizeof(*s));
	if (!s || !(s->conninfo = strdup(c->conninfo))) {
		free(s);
		return -ENOMEM;
	}
	s->full_ms = (int64_t)(c->full_reread_s ? c->full_reread_s : 300) * 1000;
	s->beat_ms = (int64_t)c->stale_s * 1000 / 3;
	if (s->beat_ms < PG_BEAT_MIN_MS)
		s->beat_ms = PG_BEAT_MIN_MS;
	s->rnd = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
	if (!s->rnd)
		s->rnd = 1;
	*ret = s;
	return 0;
}

static int pg_fd(struct gw_source *s)
{
	return s->state == PG_UP ? PQsocket(s->conn) : -1;
}

static int pg_full(struct gw_source *s, struct gw_sink *sink)
{
	char why[256];
	int64_t now = gw_now_ms();

	if (s->state != PG_UP)
		return 0; /* the connection does it when it comes */
	if (pg_read(s, sink, true, why, sizeof(why)) < 0)
		pg_down(s, now, why);
	s->next_full_ms = now + s->full_ms;
	return 0;
}

static int pg_poll(struct gw_source *s, struct gw_sink *sink)
{
	int64_t now = gw_now_ms(), want = -1;
	PGnotify *n;
	char why[256];

	if (s->state != PG_UP)
		return 0;
	if (!PQconsumeInput(s->conn) || PQstatus(s->conn) != CONNECTION_OK) {
		pg_msg(why, sizeof(why), "connection", PQerrorMessage(s->conn));
		pg_down(s, now, why);
		return 0;
	}
	while ((n = PQnotifies(s->conn))) {
		int64_t id = strtoll(n->extra, NULL, 10);

		if (id > want)
			want = id;
		PQfreemem(n);
	}
	if (want < 0)
		return 0;
	s->last_ok_ms = now;
	if (want > s->last_change && pg_read(s, sink, false, why, sizeof(why)) < 0)
		pg_down(s, now, why);
	return 0;
}

static int64_t pg_wait(int64_t at, int64_t now)
{
	return at > now ? at - now : 0;
}

static int pg_tick(struct gw_source *s, struct gw_sink *sink, int64_t now)
{
	char why[256];
	int64_t w;

	if (s->state == PG_DOWN && now >= s->next_try_ms) {
		s->conn = pg_connect(s->conninfo, true);
		if (!s->conn)
			return -ENOMEM;
		s->state = PG_CONNECTING;
		s->connect_start_ms = now;
	}
	if (s->state == PG_CONNECTING)
		pg_connect_step(s, sink, now);
	if (s->state == PG_CONNECTING)
		return PG_CONNECT_STEP_MS;
	if (s->state == PG_DOWN)
		return (int)pg_wait(s->next_try_ms, now);
	if (now >= s->next_full_ms) {
		pg_full(s, sink);
		s->next_beat_ms = now + s->beat_ms;
	} else if (now >= s->next_beat_ms) {
		/* the heartbeat: also picks up a change whose NOTIFY was lost */
		s->next_beat_ms = now + s->beat_ms;
		if (pg_read(s, sink, false, why, sizeof(why)) < 0)
			pg_down(s, now, why);
	}
	if (s->state == PG_DOWN)
		return (int)pg_wait(s->next_try_ms, now);
	w = pg_wait(s->next_beat_ms < s->next_full_ms ? s->next_beat_ms : s->next_full_ms, now);
	return (int)w;
}

static bool pg_is_connected(struct gw_source *s)
{
	return s && s->state == PG_UP;
}

static int64_t pg_last_ok(struct gw_source *s)
{
	return s ? s->last_ok_ms : 0;
}

static uint64_t pg_reconnects(struct gw_source *s)
{
	return s ? s->reconnects : 0;
}

static void pg_close(struct gw_source *s)
{
	if (!s)
		return;
	if (s->conn)
		PQfinish(s->conn);
	/* the conninfo may hold a password */
	wgnl_wipe(s->conninfo, strlen(s->conninfo));
	free(s->conninfo);
	free(s);
}

const struct gw_source_ops gw_pgsource_ops = {
	.name = "postgresql",
	.open = pg_open,
	.fd = pg_fd,
	.full = pg_full,
	.poll = pg_poll,
	.tick = pg_tick,
	.connected = pg_is_connected,
	.last_ok_ms = pg_last_ok,
	.reconnects = pg_reconnects,
	.close = pg_close,
};

/* ------------------------------------------------------------ migrate */

static int pg_exec_ok(PGconn *conn, const char *sql, char *err, size_t errlen, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	PQclear(res);
	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
		return 0;
	pg_msg(err, errlen, what, PQerrorMessage(conn));
	return -EIO;
}

int gw_pg_migrate(const struct gw_conf *c, char *err, size_t errlen)
{
	PGconn *conn;
	PGresult *res;
	int64_t v = 0;
	int r;

	if (!c->conninfo || !*c->conninfo) {
		snprintf(err, errlen, "%s: Conninfo: missing", c->path);
		return -EINVAL;
	}
	r = gw_pq_load(err, errlen);
	if (r < 0)
		return r;
	conn = pg_connect(c->conninfo, false);
	if (!conn)
		return -ENOMEM;
	if (PQstatus(conn) != CONNECTION_OK) {
		pg_msg(err, errlen, "migrate: cannot connect to the registry",
		       PQerrorMessage(conn));
		PQfinish(conn);
		return -ECONNREFUSED;
	}
	/* One transaction under an advisory lock ("wgkit" as a number). */
	r = pg_exec_ok(conn,
		       "SET client_min_messages = warning; BEGIN;"
		       " SELECT pg_advisory_xact_lock(2003790955);"
		       " CREATE TABLE IF NOT EXISTS wgkit_schema ("
		       " version integer NOT NULL,"
		       " migrated_at timestamptz NOT NULL DEFAULT now())",
		       err, errlen, "migrate");
	if (r < 0)
		goto out;
	res = PQexec(conn, "SELECT coalesce(max(version), 0) FROM wgkit_schema");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		pg_msg(err, errlen, "migrate", PQerrorMessage(conn));
		PQclear(res);
		r = -EIO;
		goto out;
	}
	v = pg_i64(res, 0, 0);
	PQclear(res);
	if (v > PG_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "migrate: the registry schema is version %" PRId64
			 ", newer than this wg-gatewayd knows (%d)",
			 v, PG_SCHEMA_VERSION);
		r = -EPROTO;
		goto out;
	}
	for (int64_t i = v; i < PG_SCHEMA_VERSION; i++) {
		char sql[96], what[64];

		snprintf(what, sizeof(what), "migrate to version %" PRId64, i + 1);
		r = pg_exec_ok(conn, pg_steps[i], err, errlen, what);
		if (r < 0)
			goto out;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO wgkit_schema (version) VALUES (%" PRId64 ")", i + 1);
		r = pg_exec_ok(conn, sql, err, errlen, what);
		if (r < 0)
			goto out;
	}
	r = pg_exec_ok(conn, "COMMIT", err, errlen, "migrate: COMMIT");
	if (r < 0)
		goto out;
	if (v == PG_SCHEMA_VERSION)
		gw_log("info", "migrate: schema already at version %d, nothing to do",
		       PG_SCHEMA_VERSION);
	else
		gw_log("info", "migrate: schema migrated from version %" PRId64 " to %d", v,
		       PG_SCHEMA_VERSION);
out:
	PQfinish(conn);
	return r;
}
