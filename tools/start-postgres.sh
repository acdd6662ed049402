#!/usr/bin/env bash
# Start a throwaway PostgreSQL (trust auth) for the tests and export its URL in
# FORMWRIGHT_TEST_POSTGRES. Source it: `source tools/start-postgres.sh`.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")
PG_DIR=$(mktemp -d /tmp/formwright-pg.XXXXXX)
PG_PORT=${PG_PORT:-55432}
as_postgres=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres "$PG_DIR"
  as_postgres=(runuser -u postgres --)
fi
"${as_postgres[@]}" "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 \
  --locale=C.UTF-8 --no-sync >/dev/null
"${as_postgres[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
  -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
export FORMWRIGHT_TEST_POSTGRES="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
