#!/usr/bin/env bash
# Command 2: install what is missing and run every test — formatting and lints, cargo tests (store suite on
# SQLite and on a throw-away Postgres), the platform contracts, then the real server in a browser (Playwright
# in Chromium). Non-zero on any failure. This (no argument) is what CI runs (.ci/run).
#
# One part, for a quick local run:
#   scripts/test.sh lint                 formatting (cargo fmt, leptosfmt) and clippy
#   scripts/test.sh rust                 every cargo test (SQLite and Postgres, real PowerDNS)
#   scripts/test.sh contracts            the platform contracts (builds the catalyst binary first)
#   scripts/test.sh e2e [SPEC|ARG…]      the site build and the browser tests; arguments go to Playwright
#                                        (e.g. end2end/tests/wizard.spec.ts, --project desktop, -g "launch")
#   scripts/test.sh FILTER               the cargo tests whose path contains FILTER (e.g. store::, wizard::launch)
PART="${1:-all}"
[ $# -gt 0 ] && shift
case "$PART" in
  -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_apt chromium postgresql python3 python3-venv curl pdns-server pdns-backend-sqlite3 bind9-dnsutils openssl  # openssl: tests/standins/kube.py makes its CA and certificates; python3-venv: the test SMTP server's venv
ensure_build_tools

WORK="$(mktemp -d /tmp/catalyst-test-XXXXXX)"
SERVER_PID=""
HETZNER_PID=""
GIT_PID=""
SHORT_PID=""
OIDC_PID=""
cleanup() {
  local code=$?
  # `wait` on a killed child returns 143: under `set -e` that would become the script's exit status.
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [ -n "$HETZNER_PID" ] && kill "$HETZNER_PID" 2>/dev/null && wait "$HETZNER_PID" 2>/dev/null || true
  [ -n "$SHORT_PID" ] && kill "$SHORT_PID" 2>/dev/null && wait "$SHORT_PID" 2>/dev/null || true
  [ -n "$OIDC_PID" ] && kill "$OIDC_PID" 2>/dev/null && wait "$OIDC_PID" 2>/dev/null || true
  if [ -n "$GIT_PID" ]; then kill "$GIT_PID" 2>/dev/null; wait "$GIT_PID" 2>/dev/null || true; fi
  [ -n "${CATALYST_TEST_PG_DIR:-}" ] && "$ROOT/scripts/pg-throwaway.sh" stop "$CATALYST_TEST_PG_DIR"
  [ -n "${CATALYST_TEST_PDNS_DIR:-}" ] && "$ROOT/scripts/pdns-throwaway.sh" stop "$CATALYST_TEST_PDNS_DIR"
  [ -n "${CATALYST_TEST_WORLD_DNS_DIR:-}" ] && "$ROOT/scripts/pdns-throwaway.sh" stop "$CATALYST_TEST_WORLD_DNS_DIR"
  [ -n "${CATALYST_TEST_SMTP_PID:-}" ] && "$ROOT/scripts/smtp-test-server.sh" stop "$CATALYST_TEST_SMTP_PID" "$CATALYST_TEST_SMTP_DIR"
  rm -rf "$WORK"
  exit $code
}
trap cleanup EXIT INT TERM

# A test run builds once: incremental caches would only cost disk (~10 GB on a cold build) and write time.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

start_postgres() {
  log "starting a throw-away Postgres"
  eval "$("$ROOT/scripts/pg-throwaway.sh" start)"
}

start_powerdns() {
  # Two real PowerDNS servers (Debian's pdns-server, sqlite3 backend, API and RFC 2136 updates on): Catalyst's
  # own, and "the rest of the DNS" (bring-your-own domains' parent zones, the resolver the console asks).
  log "starting two throw-away PowerDNS servers"
  eval "$("$ROOT/scripts/pdns-throwaway.sh" start CATALYST_TEST_PDNS)"
  eval "$("$ROOT/scripts/pdns-throwaway.sh" start CATALYST_TEST_WORLD_DNS)"
}

start_smtp() {
  # A real SMTP server (PyPI aiosmtpd, pinned in tests/smtp/requirements.txt, installed once into a venv): the
  # mail tests assert what it delivered (CATALYST_TEST_SMTP_ADDR/_DIR), and the browser tests' console sends to it.
  log "starting the test SMTP server"
  eval "$("$ROOT/scripts/smtp-test-server.sh" start)"
}

lint() {
  log "checking formatting and lints"
  cargo fmt --all -- --check
  leptosfmt --check --quiet app/src frontend/src > /dev/null || die "view! macros are not formatted: run scripts/fmt.sh"
  cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
  cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings
}

# cargo_tests [FILTER]
cargo_tests() {
  log "cargo tests (SQLite and Postgres)"
  # Tests run in parallel. (They once ran one at a time: a page rendered while another test built its router
  # could hang, because Leptos' route listing holds resources back process-wide; the server now lists the
  # routes once per process — `routes()` in server/src/http/mod.rs — and a test covers it. A response that
  # stalls fails its test after 30 s with what had arrived, instead of hanging the run: `common::oneshot`.)
  cargo test --workspace --exclude frontend --no-fail-fast "$@"
}

contracts() {
  # The platform contracts: sample Sovereigns rendered with the binary the cargo tests built, checked offline
  # against the Kubernetes/CRD schemas, the charts' values and the wiring (seconds; tests/contracts/README.md).
  "$ROOT/scripts/contracts.sh"
}

# browser_tests [PLAYWRIGHT ARG…]
browser_tests() {
  log "building the site for the browser tests"
  cargo leptos build --split
  # wasm-split gives each split module its own constants only when its new data layout fits the input segment;
  # otherwise it keeps every page's text in the main module (docs/bundle.md).
  if grep -qa 'High-availability control plane' "$ROOT/target/site/sovereign/pkg/sovereign.wasm"; then
    die "the wizard's text is in the main wasm module: wasm-split kept all constant data there; raise DATA_SLACK in frontend/src/lib.rs"
  fi

  # The Hetzner Cloud API stand-in: the wizard checks the browser tests' token against it.
  log "starting the Hetzner API stand-in"
  E2E_HETZNER_TOKEN="$(head -c 96 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 64)"
  export E2E_HETZNER_TOKEN
  # cpx62 has none available in fsn1 (end2end/tests/preflight.hydrate.spec.ts picks it there).
  python3 "$ROOT/tests/standins/hetzner.py" --port 0 --token "$E2E_HETZNER_TOKEN" --unavailable cpx62@fsn1 \
    > "$WORK/hetzner.out" 2>&1 &
  HETZNER_PID=$!
  for _ in $(seq 50); do grep -q "^listening on " "$WORK/hetzner.out" 2>/dev/null && break; sleep 0.1; done
  HETZNER_URL="$(sed -n 's/^listening on //p' "$WORK/hetzner.out" | head -1)"
  [ -n "$HETZNER_URL" ] || die "the Hetzner stand-in did not start: $(cat "$WORK/hetzner.out")"

  PORT="$(free_port)"
  export CATALYST_URL="http://127.0.0.1:$PORT"

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
  # Every replica runs the engine with the same settings.
  export CATALYST_GITOPS_TOKEN="$GIT_TOKEN"
  ENGINE_ARGS=(--tofu-bin "$ROOT/tests/standins/tofu-by-label" --tofu-module-dir "$ROOT/infra/hetzner"
    --gitops-repo-url "$GIT_URL/gitops.git" --gitops-username catalyst
    --pool-domains omani.works --hetzner-api-url "$HETZNER_URL" --pdns-url "$CATALYST_TEST_PDNS_URL"
    --max-deployments-in-flight 0 --max-deployments-per-day 0  # every spec creates in one organisation
    --hetzner-checks-per-minute 1000  # parallel specs check tokens as the same few accounts (it::limits tests the limit)
    # Pre-flight: the browser tests' console is on a loopback address, the stand-in Kubernetes APIs answer it.
    --allow-local-console --console-egress-cidrs 127.0.0.1/32
    --hetzner-limits servers=500,load_balancers=100,primary_ips=1000,networks=100,firewalls=100,placement_groups=100,volumes=1000)

  # A real OpenID Connect provider (npm oidc-provider) for the single sign-on tests.
  OIDC_PORT="$(free_port)"
  export E2E_OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT"
  OIDC_SECRET="$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  log "starting the test OpenID Connect provider on $E2E_OIDC_ISSUER"
  OIDC_PORT="$OIDC_PORT" OIDC_CLIENT_ID=catalyst OIDC_CLIENT_SECRET="$OIDC_SECRET" \
    OIDC_REDIRECT_URIS="$CATALYST_URL/sovereign/auth/oidc/callback" \
    node "$ROOT/tests/oidc/provider.mjs" > "$WORK/oidc.log" 2>&1 &
  OIDC_PID=$!
  if ! wait_ready "$E2E_OIDC_ISSUER/.well-known/openid-configuration" 30; then
    cat "$WORK/oidc.log" >&2
    die "the test OpenID Connect provider did not start"
  fi

  # The superadmin the browser tests sign in as, created the way an operator would.
  export CATALYST_ADMIN_EMAIL="admin@example.com"
  CATALYST_ADMIN_PASSWORD="e2e-$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')"
  export CATALYST_ADMIN_PASSWORD
  printf '%s\n' "$CATALYST_ADMIN_PASSWORD" | "$TARGET_DIR/debug/catalyst" --data-dir "$WORK/data" --log-level warn \
    admin create --email "$CATALYST_ADMIN_EMAIL" --password-stdin > /dev/null

  # PowerDNS's API key reaches the servers through their environment only (not `admin create`, which has no
  # --pdns-url and refuses a key without one).
  export CATALYST_PDNS_API_KEY="$CATALYST_TEST_PDNS_API_KEY"

  log "starting Catalyst on $CATALYST_URL (SQLite in $WORK, single sign-on via $E2E_OIDC_ISSUER)"
  CATALYST_OIDC_CLIENT_SECRET="$OIDC_SECRET" "$TARGET_DIR/debug/catalyst" --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" \
    --site-root "$ROOT/target/site" --log-level warn "${ENGINE_ARGS[@]}" \
    --oidc-issuer "$E2E_OIDC_ISSUER" --oidc-client-id catalyst --oidc-scopes groups --oidc-label "Test IdP" \
    --oidc-role-map "catalyst-admins=superadmin,acme-devs=org:acme:editor" \
    --smtp-host "${CATALYST_TEST_SMTP_ADDR%:*}" --smtp-port "${CATALYST_TEST_SMTP_ADDR##*:}" --smtp-security none \
    --smtp-from "Catalyst <vouchers@example.com>" > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  if ! wait_ready "$CATALYST_URL/readyz" 60; then
    cat "$WORK/server.log" >&2
    die "Catalyst did not become ready"
  fi

  # A second server whose sessions expire after 3 s idle: the expiry test uses it. It has a database of its own
  # (with the same superadmin): its session sweep (every ten minutes, for sessions idle longer than ITS timeout)
  # would otherwise end every saved session of the main server's tests in the middle of a run.
  SHORT_PORT="$(free_port)"
  export CATALYST_SHORT_URL="http://127.0.0.1:$SHORT_PORT"
  printf '%s\n' "$CATALYST_ADMIN_PASSWORD" | env -u CATALYST_PDNS_API_KEY "$TARGET_DIR/debug/catalyst" --data-dir "$WORK/data-short" --log-level warn \
    admin create --email "$CATALYST_ADMIN_EMAIL" --password-stdin > /dev/null
  "$TARGET_DIR/debug/catalyst" --bind "127.0.0.1:$SHORT_PORT" --data-dir "$WORK/data-short" --site-root "$ROOT/target/site" \
    --log-level warn "${ENGINE_ARGS[@]}" --session-idle-timeout 3s > "$WORK/server-short.log" 2>&1 &
  SHORT_PID=$!
  if ! wait_ready "$CATALYST_SHORT_URL/readyz" 60; then
    cat "$WORK/server-short.log" >&2
    die "the short-session Catalyst did not become ready"
  fi

  log "browser tests (Playwright, Chromium)"
  if ! npx playwright test --config end2end/playwright.config.ts "$@"; then
    log "server log:"; tail -50 "$WORK/server.log" >&2
    exit 1
  fi
}

case "$PART" in
  all)
    start_postgres
    start_powerdns
    start_smtp
    lint
    cargo_tests
    contracts
    browser_tests
    ;;
  lint) lint ;;
  rust)
    start_postgres
    start_powerdns
    start_smtp
    cargo_tests
    ;;
  contracts)
    log "building the catalyst binary the contracts render with"
    cargo build -p server --bin catalyst
    contracts
    ;;
  e2e)
    start_powerdns
    start_smtp
    browser_tests "$@"
    ;;
  *)
    start_postgres
    start_powerdns
    start_smtp
    cargo_tests "$PART"
    ;;
esac
log "all tests passed ($PART)"
