#!/usr/bin/env bash
# SSR latency of a page under load, with the load generator in a separate process (`wrk`, Debian package):
# starts the release binary on a fresh SQLite data directory, creates an admin, signs in through the login
# form (the session cookie goes on every request), then runs `wrk` against /healthz (the baseline: the whole
# middleware stack, no rendering) and against each page given.
#
#   scripts/bench-ssr.sh [--clients 50] [--secs 20] [--threads 1] [path …]     (default path: /sovereign)
#
# Build first: `cargo leptos build --release --split --precompress`. Results go to stdout (wrk's latency distribution).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/catalyst"
CLIENTS=50 SECS=20 THREADS=1 PATHS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --clients) CLIENTS="$2"; shift 2 ;;
    --secs) SECS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    *) PATHS+=("$1"); shift ;;
  esac
done
[ ${#PATHS[@]} -gt 0 ] || PATHS=(/sovereign)
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no release build at $BIN: run cargo leptos build --release --split --precompress" >&2; exit 1; }

WORK="$(mktemp -d)"
PORT=3611
PASSWORD="bench-$(date +%s)-Passw0rd!"
cleanup() { [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

printf '%s\n' "$PASSWORD" | "$BIN" --data-dir "$WORK/data" --log-level warn \
  admin create --email admin@example.com --password-stdin >/dev/null
"$BIN" --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" --site-root "$ROOT/target/site" --log-level warn &
PID=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/readyz" >/dev/null && break; sleep 0.1; done

# Sign in the way the browser's form does: the login form's action is the server function's URL.
ACTION="$(curl -s "$BASE/sovereign/login" | grep -o 'action="/sovereign/api/fn/login[^"]*"' | head -1 | cut -d'"' -f2)"
[ -n "$ACTION" ] || { echo "could not find the login form on $BASE/sovereign/login" >&2; exit 1; }
COOKIE="$(curl -s -o /dev/null -D - -H "Origin: $BASE" --data-urlencode email=admin@example.com \
  --data-urlencode "password=$PASSWORD" "$BASE$ACTION" | grep -i '^set-cookie: catalyst_session=' | head -1 \
  | sed -e 's/^[Ss]et-[Cc]ookie: //' -e 's/;.*//' | tr -d '\r')"
[ -n "$COOKIE" ] || { echo "sign-in failed: no session cookie" >&2; exit 1; }

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -t$THREADS -c$CLIENTS -d${SECS}s"
for path in /healthz "${PATHS[@]}"; do
  # The page must render (200) with the session, or the figures mean nothing.
  status="$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $COOKIE" "$BASE$path")"
  [ "$status" = 200 ] || { echo "$path answered $status, not 200" >&2; exit 1; }
  echo "## $path"
  wrk -t"$THREADS" -c"$CLIENTS" -d"${SECS}s" --latency -H "Cookie: $COOKIE" "$BASE$path"
done
