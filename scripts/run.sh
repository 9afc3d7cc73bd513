#!/usr/bin/env bash
# Command 1: install what is missing, build Catalyst (release) and serve it on SQLite at
# http://127.0.0.1:3000/sovereign. Extra arguments go to `catalyst` (try --help).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_build_tools
log "building Catalyst (release)"
cargo leptos build --release --split --precompress
"$ROOT/scripts/gzip-site.sh" "$ROOT/target/site"
log "starting Catalyst at http://127.0.0.1:3000/sovereign (Ctrl-C stops it)"
exec "$TARGET_DIR/release/catalyst" --site-root "$ROOT/target/site" "$@"
