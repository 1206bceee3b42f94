# tests/gateway/pglib.sh: a throw-away PostgreSQL for the gateway suites
# (POSIX sh; source it after tests/lib.sh).
#
#   pg_start DIR   initdb + pg_ctl as the `postgres` user in DIR (created;
#                  owned by postgres), listening ONLY on a unix socket in DIR
#                  (no TCP at all). Creates the database "wgkit" and exports
#                  PGHOST (= DIR), PGPORT, PGDATABASE (= wgkit), PGUSER
#                  (= postgres) for psql and libpq, and PG_CONNINFO (the same
#                  as one conninfo string). Registers pg_stop with at_exit.
#                  Returns 1 (with the log on stderr) when it cannot.
#   pg_stop        stop it now (fast shutdown; clients are cut off)
#   pg_restart     start it again after pg_stop (same DIR, same data)
#   pg_sql SQL     psql -X -q -v ON_ERROR_STOP=1 -At -c SQL as postgres
#   pg_missing     prints what is missing to run PostgreSQL ("" when nothing)
#
# The port only names the socket file (.s.PGSQL.PORT in DIR); any number is
# fine since nothing binds TCP. PG_BIN may point at another bin directory.
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR=""

pg_missing() {
	_pg_m=""
	[ "$(id -u)" = 0 ] || _pg_m="$_pg_m root"
	[ -x "$PG_BIN/initdb" ] && [ -x "$PG_BIN/pg_ctl" ] || _pg_m="$_pg_m postgresql(initdb,pg_ctl)"
	command -v psql >/dev/null 2>&1 || _pg_m="$_pg_m psql"
	id postgres >/dev/null 2>&1 || _pg_m="$_pg_m user:postgres"
	command -v runuser >/dev/null 2>&1 || _pg_m="$_pg_m runuser"
	echo "$_pg_m"
}

_pg_as() { runuser -u postgres -- "$@"; }

pg_start() { # DIR
	PG_DIR=$1
	mkdir -p "$PG_DIR" || return 1
	# The postgres user must reach DIR: let it traverse (not list) the parent,
	# typically a mode-0700 mktemp directory.
	chmod o+x "$(dirname "$PG_DIR")" && chown postgres: "$PG_DIR" && chmod 700 "$PG_DIR" || return 1
	if [ ! -f "$PG_DIR/data/PG_VERSION" ]; then
		_pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-sync \
			>"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	fi
	export PGHOST=$PG_DIR PGPORT=${PGPORT:-5439} PGUSER=postgres PGDATABASE=wgkit
	export PG_CONNINFO="host=$PGHOST port=$PGPORT user=postgres dbname=wgkit"
	at_exit pg_stop
	pg_restart || return 1
	_pg_as psql -X -q -d postgres -c "CREATE DATABASE wgkit" >/dev/null 2>&1 || true
	pg_sql "SELECT 1" >/dev/null
}

pg_restart() {
	# fsync off: a test database, thrown away; listen_addresses '': no TCP.
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 30 \
		-o "-c listen_addresses='' -k $PG_DIR -p $PGPORT -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
		start >/dev/null 2>&1 || { tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
}

pg_stop() {
	[ -n "$PG_DIR" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
	_pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 30 stop >/dev/null 2>&1
	return 0
}

pg_sql() { # SQL
	_pg_as psql -X -q -v ON_ERROR_STOP=1 -At -h "$PGHOST" -p "$PGPORT" -d "${PGDATABASE:-wgkit}" -c "$1"
}
