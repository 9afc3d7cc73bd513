#!/usr/bin/env bash
# Command 2: install what is missing and run every test — cargo tests (store suite on SQLite and on a
# throw-away Postgres), then the real server in a browser (Playwright in Chromium). Non-zero on any failure.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_apt chromium postgresql python3
ensure_build_tools

WORK="$(mktemp -d /tmp/catalyst-test-XXXXXX)"
SERVER_PID=""
GIT_PID=""
cleanup() {
  local code=$?
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  if [ -n "$GIT_PID" ]; then kill "$GIT_PID" 2>/dev/null; wait "$GIT_PID" 2>/dev/null || true; fi
  [ -n "${CATALYST_TEST_PG_DIR:-}" ] && "$ROOT/scripts/pg-throwaway.sh" stop "$CATALYST_TEST_PG_DIR"
  rm -rf "$WORK"
  exit $code
}
trap cleanup EXIT INT TERM

log "starting a throw-away Postgres"
eval "$("$ROOT/scripts/pg-throwaway.sh" start)"

log "checking formatting and lints"
cargo fmt --all -- --check
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

log "cargo tests (SQLite and Postgres)"
cargo test --workspace --exclude frontend --no-fail-fast

log "building the site for the browser tests"
cargo leptos build

PORT="$(free_port)"
export CATALYST_URL="http://127.0.0.1:$PORT"
log "starting Catalyst on $CATALYST_URL (SQLite in $WORK)"
# The browser tests provision through the stand-in `tofu` (realistic `-json` output, no cloud account; its
# behaviour picked by the domain's first label) and push the GitOps tree to a local Git server over HTTP.
GIT_TOKEN="e2e-gitops-token-$RANDOM$RANDOM"
git init -q --bare "$WORK/git/gitops.git"
git -C "$WORK/git/gitops.git" config http.receivepack true
python3 "$ROOT/tests/standins/git_http.py" --root "$WORK/git" --user catalyst --token "$GIT_TOKEN" --port 0 \
  > "$WORK/git.log" 2>&1 &
GIT_PID=$!
for _ in $(seq 50); do grep -q '^listening on ' "$WORK/git.log" && break; sleep 0.1; done
GIT_URL="$(sed -n 's/^listening on //p' "$WORK/git.log" | head -1)"
[ -n "$GIT_URL" ] || die "the Git stand-in did not start: $(cat "$WORK/git.log")"
CATALYST_GITOPS_TOKEN="$GIT_TOKEN" "$TARGET_DIR/debug/catalyst" --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" \
  --site-root "$ROOT/target/site" \
  --tofu-bin "$ROOT/tests/standins/tofu-by-label" --tofu-module-dir "$ROOT/infra/hetzner" \
  --gitops-repo-url "$GIT_URL/gitops.git" --gitops-username catalyst \
  --log-level warn > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
if ! wait_ready "$CATALYST_URL/readyz" 60; then
  cat "$WORK/server.log" >&2
  die "Catalyst did not become ready"
fi

log "browser tests (Playwright, Chromium)"
if ! npx playwright test --config end2end/playwright.config.ts; then
  log "server log:"; tail -50 "$WORK/server.log" >&2
  exit 1
fi
log "all tests passed"
