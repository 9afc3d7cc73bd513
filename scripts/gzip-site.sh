#!/usr/bin/env bash
# Rewrites the gzip copies that `cargo leptos build --release --precompress` writes next to each static file,
# with `gzip -9`: cargo-leptos' encoder compresses the wasm much worse (442 KB against 380 KB for the main
# module). Its brotli copies are kept: browsers that accept br get those (297 KB for the main module).
#
#   scripts/gzip-site.sh [site-root]      (default: target/site)
set -euo pipefail
SITE="${1:-target/site}"
[ -d "$SITE" ] || { echo "no site at $SITE: build it first (cargo leptos build --release --split --precompress)" >&2; exit 1; }
find "$SITE" -type f -name '*.gz' -print0 | while IFS= read -r -d '' gz; do
  gzip -9 -n -c "${gz%.gz}" > "$gz.tmp"
  mv "$gz.tmp" "$gz"
done
