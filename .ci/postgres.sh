#!/usr/bin/env bash
# Sourced by .ci/test: `start_test_postgres` gives the tests a throwaway PostgreSQL server. It
# installs the Debian package if no server is on the machine (needs root), starts one on
# 127.0.0.1:$PGPORT (default: a free port, so two runs on one machine do not collide) with its
# data in a temp folder, creates the database, exports THEMER_TEST_PG, and stops the server and
# removes the folder when the calling shell exits.

_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

_as_pg() {  # the server refuses to run as root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start_test_postgres() {
  if [ -z "$(_pg_bin)" ]; then
    [ "$(id -u)" -eq 0 ] || { echo "no PostgreSQL server and not root to install it" >&2; return 1; }
    echo "installing PostgreSQL (Debian package postgresql)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
  fi
  PGBIN="$(_pg_bin)"
  PGPORT="${PGPORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
  PGDATA_DIR="$(mktemp -d /tmp/themer-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDATA_DIR"; fi
  _as_pg "$PGBIN/initdb" -D "$PGDATA_DIR/data" -A trust -U themer -E UTF8 >/dev/null || return 1
  _as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR/data" -l "$PGDATA_DIR/log" -w \
    -o "-p $PGPORT -k $PGDATA_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$PGDATA_DIR/log" >&2; return 1; }
  trap stop_test_postgres EXIT
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U themer themer_test || return 1
  export THEMER_TEST_PG="postgresql+psycopg://themer@127.0.0.1:$PGPORT/themer_test"
  echo "test PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT" >&2
}

stop_test_postgres() {
  _as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PGDATA_DIR"
}
