#!/usr/bin/env bash
# The tests' real SMTP server (tests/smtp/server.py on aiosmtpd, pinned in tests/smtp/requirements.txt and
# installed once into a venv; reinstalled when that file changes).
#   start        starts one on a free port; prints `export CATALYST_TEST_SMTP_ADDR=127.0.0.1:PORT`,
#                `export CATALYST_TEST_SMTP_DIR=DIR` (where delivered messages land) and
#                `export CATALYST_TEST_SMTP_PID=PID`
#   stop PID DIR stops it and removes DIR
#   venv         only installs (prints the venv's python)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="${CATALYST_SMTP_VENV:-$TARGET_DIR/smtp-venv}"

ensure_venv() {
  local stamp="$VENV/.requirements.sha256" want
  want="$(sha256sum "$ROOT/tests/smtp/requirements.txt" | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "installing the test SMTP server (tests/smtp/requirements.txt)" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$ROOT/tests/smtp/requirements.txt" >&2
    echo "$want" > "$stamp"
  fi
}

case "${1:-}" in
  venv)
    ensure_venv
    echo "$VENV/bin/python"
    ;;
  start)
    ensure_venv
    dir="$(mktemp -d /tmp/catalyst-smtp-XXXXXX)"
    "$VENV/bin/python" "$ROOT/tests/smtp/server.py" --dir "$dir/mail" > "$dir/log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -q '^listening on ' "$dir/log" 2>/dev/null && break; sleep 0.1; done
    addr="$(sed -n 's/^listening on //p' "$dir/log" | head -1)"
    if [ -z "$addr" ]; then
      cat "$dir/log" >&2
      kill "$pid" 2>/dev/null || true
      echo "the test SMTP server did not start" >&2
      exit 1
    fi
    echo "export CATALYST_TEST_SMTP_ADDR=$addr"
    echo "export CATALYST_TEST_SMTP_DIR=$dir/mail"
    echo "export CATALYST_TEST_SMTP_PID=$pid"
    ;;
  stop)
    pid="${2:?usage: smtp-test-server.sh stop PID DIR}"
    dir="${3:?usage: smtp-test-server.sh stop PID DIR}"
    kill "$pid" 2>/dev/null || true
    case "$dir" in /tmp/catalyst-smtp-*) rm -rf "$(dirname "$dir")" ;; esac
    ;;
  *)
    echo "usage: $0 start | stop PID DIR | venv" >&2
    exit 2
    ;;
esac
