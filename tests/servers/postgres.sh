#!/usr/bin/env bash
# A private PostgreSQL cluster on 127.0.0.1 for development and tests: up | down | status.
# Debian's server package is installed when missing. The cluster lives under /tmp because
# PostgreSQL refuses to run as root and the postgres user cannot always traverse the checkout.
set -euo pipefail
PORT=${CLIENTSTRATA_PG_PORT:-5433}
PW=${CLIENTSTRATA_PG_PASSWORD:-clientstrata-dev}
DATA=${CLIENTSTRATA_PG_DATA:-/tmp/clientstrata-pg-$PORT}
bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
as_pg() { runuser -u postgres -- "$@"; }

case "${1:-}" in
  up)
    if [ -z "$(bin)" ] || [ ! -x "$(bin)/postgres" ]; then
      echo "installing PostgreSQL from Debian packages…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    B=$(bin)
    if [ ! -f "$DATA/PG_VERSION" ]; then
      mkdir -p "$DATA" && chown postgres:postgres "$DATA" && chmod 700 "$DATA"
      as_pg "$B/initdb" -D "$DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 -E UTF8 >/dev/null
    fi
    if ! as_pg "$B/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
      as_pg "$B/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 \
        -o "-p $PORT -c listen_addresses=127.0.0.1 -k /tmp" start >/dev/null
    fi
    psql_() { as_pg psql -h /tmp -p "$PORT" -U postgres -tAq "$@"; }
    psql_ -c "SELECT 1 FROM pg_roles WHERE rolname='clientstrata'" | grep -q 1 \
      || psql_ -c "CREATE ROLE clientstrata LOGIN PASSWORD '$PW'"
    # the test suite copies a loaded database per test with CREATE DATABASE … TEMPLATE
    psql_ -c "ALTER ROLE clientstrata CREATEDB"
    for db in clientstrata clientstrata_test; do
      psql_ -c "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 \
        || psql_ -c "CREATE DATABASE $db OWNER clientstrata"
    done
    echo "PostgreSQL up: CLIENTSTRATA_DATABASE_URL=postgresql+psycopg://clientstrata:<password>@127.0.0.1:$PORT/clientstrata"
    ;;
  down)
    B=$(bin)
    [ -n "$B" ] && [ -f "$DATA/PG_VERSION" ] && as_pg "$B/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
    echo "PostgreSQL stopped"
    ;;
  status)
    as_pg "$(bin)/pg_ctl" -D "$DATA" status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
