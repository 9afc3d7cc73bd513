#!/usr/bin/env bash
# A throw-away Postgres cluster for tests: `start` prints `export CATALYST_TEST_PG_URL=…` and the
# cluster's directory; `stop DIR` stops it and removes the directory.
set -euo pipefail

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  [ -x "$dir/initdb" ] || { echo "no Postgres server: install Debian's postgresql" >&2; exit 1; }
  echo "$dir"
}

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
  start)
    bin="$(pg_bin)"
    dir="$(mktemp -d /tmp/catalyst-pg-XXXXXX)"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
    as_pg "$bin/initdb" -A trust -U catalyst -E UTF8 --no-sync -D "$dir/data" >/dev/null
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
      start >/dev/null
    echo "export CATALYST_TEST_PG_URL=postgres://catalyst@127.0.0.1:$port/postgres"
    echo "export CATALYST_TEST_PG_DIR=$dir"
    ;;
  stop)
    dir="${2:?usage: pg-throwaway.sh stop DIR}"
    bin="$(pg_bin)"
    as_pg "$bin/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
