# Shared helpers of scripts/run.sh and scripts/test.sh: idempotent installs (skip what is present at the
# right version) and the environment the build needs. Sourced, not run.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"

CARGO_LEPTOS_VERSION="0.3.10"
LEPTOSFMT_VERSION="0.1.33"

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31merror:\033[0m %s\n' "$*" >&2; exit 1; }

APT_UPDATED=0
# ensure_apt PKG... — installs the Debian packages that are missing.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  if [ "$APT_UPDATED" -eq 0 ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_rust() {
  command -v cargo >/dev/null || die "cargo is missing: install Rust with rustup (https://rustup.rs)"
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    log "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
  fi
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then return 0; fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (one-time; takes several minutes)"
  # --debug: cargo-leptos only orchestrates the build, an optimised build of it buys nothing and costs minutes.
  cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --debug
}

# leptosfmt formats the insides of `view!` macros, which cargo fmt leaves alone (scripts/fmt.sh runs both).
ensure_leptosfmt() {
  if leptosfmt --version 2>/dev/null | grep -q " $LEPTOSFMT_VERSION\$"; then return 0; fi
  log "installing leptosfmt $LEPTOSFMT_VERSION"
  cargo install leptosfmt --version "$LEPTOSFMT_VERSION" --locked
}

ensure_wasm_bindgen() {
  local want
  want="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
  [ -n "$want" ] || die "cannot read the wasm-bindgen version from Cargo.lock"
  if wasm-bindgen --version 2>/dev/null | grep -q " $want\$"; then return 0; fi
  log "installing wasm-bindgen-cli $want (must equal the wasm-bindgen in Cargo.lock)"
  cargo install wasm-bindgen-cli --version "$want" --force
}

# npm packages: Tailwind, binaryen's wasm-opt (Debian's is too old and breaks release wasm), Playwright.
ensure_npm() {
  command -v npm >/dev/null || ensure_apt nodejs npm
  local stamp="node_modules/.catalyst-lock.sha256"
  local want
  want="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  log "installing npm packages (package-lock.json)"
  # `npm install`, not `npm ci`: the registry this runs against may not carry every
  # platform's optional Tailwind oxide binary, and `npm ci` then refuses the lock file
  # as "out of sync". `npm install` honours the lock for everything it can fetch and
  # leaves the lock file unchanged.
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
}

ensure_build_tools() {
  ensure_apt ca-certificates curl git
  # libgit2 (vendored, for the GitOps push) links the system OpenSSL for HTTPS.
  ensure_apt libssl-dev pkg-config
  # zopfli writes the release site's gzip copies (scripts/gzip-site.sh): ~5 % smaller than gzip -9.
  ensure_apt zopfli
  ensure_rust
  ensure_npm
  ensure_wasm_bindgen
  ensure_leptosfmt
  ensure_cargo_leptos
  command -v wasm-opt | grep -q node_modules || die "wasm-opt from npm binaryen must come first on PATH"
}

# free_port — prints a TCP port nobody listens on.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_ready URL SECONDS — polls until URL answers 200.
wait_ready() {
  local url="$1" secs="${2:-60}"
  for _ in $(seq 1 $((secs * 5))); do
    curl -fsS -o /dev/null "$url" 2>/dev/null && return 0
    sleep 0.2
  done
  return 1
}
