#!/usr/bin/env bash
# The platform contract checks (tests/contracts): the sample Sovereigns' trees against the Kubernetes and CRD
# schemas, the charts' values and the wiring, offline. Installs its pinned Python packages into a venv once
# (tests/contracts/requirements.txt; reinstalled when that file changes). Part of scripts/test.sh; run alone
# after a build of the catalyst binary (cargo build -p server) to render with it. Also renders Catalyst's own chart
# (charts/catalyst) for a few value sets and checks it the same way (test_chart.py).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_apt python3 python3-venv
VENV="${CATALYST_CONTRACTS_VENV:-$TARGET_DIR/contracts-venv}"
stamp="$VENV/.requirements.sha256"
want="$(sha256sum tests/contracts/requirements.txt | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing the contract checks' Python packages (tests/contracts/requirements.txt)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --no-deps -r tests/contracts/requirements.txt
  echo "$want" > "$stamp"
fi

# Render each sample with `catalyst gitops render` when the binary has it; until then, the template as is.
export CATALYST_BIN="${CATALYST_BIN:-$TARGET_DIR/debug/catalyst}"
if [ -x "$CATALYST_BIN" ] && "$CATALYST_BIN" gitops render --help >/dev/null 2>&1; then
  export CONTRACTS_RENDER=catalyst
else
  export CONTRACTS_RENDER=template
fi
log "platform contract checks (samples rendered by: $CONTRACTS_RENDER)"
cd "$ROOT/tests/contracts"
"$VENV/bin/python" -m unittest -v test_sovereign test_chart
