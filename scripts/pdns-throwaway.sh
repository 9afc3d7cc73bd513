#!/usr/bin/env bash
# A throw-away PowerDNS Authoritative Server (Debian's pdns-server + pdns-backend-sqlite3) for tests:
#   start [PREFIX]  starts one on free loopback ports in a temp dir and prints
#                   `export PREFIX_URL=… PREFIX_API_KEY=… PREFIX_DNS=127.0.0.1:PORT PREFIX_DIR=…`
#                   (PREFIX defaults to CATALYST_TEST_PDNS);
#   stop DIR        stops it and removes the directory.
# The server answers DNS on UDP+TCP, has its HTTP API on (the key is random), and takes RFC 2136 updates
# only for zones whose metadata allows them (allow-dnsupdate-from is empty: no address may update a zone
# unless its ALLOW-DNSUPDATE-FROM says so, and Catalyst sets that only together with TSIG-ALLOW-DNSUPDATE).
# It runs as the calling user (root in CI) with everything in the temp dir: no system service is touched.
set -euo pipefail

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

case "${1:-}" in
  start)
    prefix="${2:-CATALYST_TEST_PDNS}"
    command -v pdns_server >/dev/null || { echo "no pdns_server: install Debian's pdns-server and pdns-backend-sqlite3" >&2; exit 1; }
    schema=/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
    [ -f "$schema" ] || { echo "no $schema: install Debian's pdns-backend-sqlite3" >&2; exit 1; }
    dir="$(mktemp -d /tmp/catalyst-pdns-XXXXXX)"
    key="$(head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)"
    python3 - "$dir/pdns.sqlite3" "$schema" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript(open(sys.argv[2]).read())
db.commit()
EOF
    for attempt in 1 2 3 4 5; do
      dns_port="$(free_port)"
      api_port="$(free_port)"
      cat > "$dir/pdns.conf" <<EOF
launch=gsqlite3
gsqlite3-database=$dir/pdns.sqlite3
gsqlite3-dnssec=yes
gsqlite3-pragma-synchronous=0
local-address=127.0.0.1
local-port=$dns_port
api=yes
api-key=$key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$api_port
webserver-allow-from=127.0.0.0/8
dnsupdate=yes
allow-dnsupdate-from=
default-soa-edit=INCEPTION-INCREMENT
security-poll-suffix=
socket-dir=$dir
daemon=no
guardian=no
disable-syslog=yes
loglevel=4
EOF
      pdns_server --config-dir="$dir" > "$dir/log" 2>&1 &
      echo $! > "$dir/pid"
      for _ in $(seq 50); do
        if curl -fsS -H "X-API-Key: $key" "http://127.0.0.1:$api_port/api/v1/servers/localhost" >/dev/null 2>&1; then
          echo "export ${prefix}_URL=http://127.0.0.1:$api_port"
          echo "export ${prefix}_API_KEY=$key"
          echo "export ${prefix}_DNS=127.0.0.1:$dns_port"
          echo "export ${prefix}_DIR=$dir"
          exit 0
        fi
        kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
        sleep 0.1
      done
      kill "$(cat "$dir/pid")" 2>/dev/null || true
      # A port taken between the probe and the bind: try other ports.
    done
    echo "PowerDNS did not start: $(tail -5 "$dir/log")" >&2
    rm -rf "$dir"
    exit 1
    ;;
  stop)
    dir="${2:?usage: pdns-throwaway.sh stop DIR}"
    if [ -f "$dir/pid" ]; then
      pid="$(cat "$dir/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start [PREFIX] | stop DIR" >&2
    exit 2
    ;;
esac
