#!/usr/bin/env bash
# Rewrites the gzip copies that `cargo leptos build --release --precompress` writes next to each static file,
# with zopfli: a standard gzip stream (every browser and proxy reads it) that is ~5 % smaller than `gzip -9`
# for the wasm modules (main module 251.9 → 240.1 KB), and `gzip -9` ~14 % smaller than cargo-leptos' own
# encoder. Slow to write (a few seconds for the main module), free to read. Its brotli copies are kept:
# browsers that accept br get those (200 KB for the main module).
#
#   scripts/gzip-site.sh [site-root]      (default: target/site)
#
# Without zopfli on PATH (Debian package `zopfli`) it falls back to `gzip -9` and says so.
set -euo pipefail
SITE="${1:-target/site}"
[ -d "$SITE" ] || { echo "no site at $SITE: build it first (cargo leptos build --release --split --precompress)" >&2; exit 1; }
if command -v zopfli >/dev/null; then
  ENCODER=zopfli
else
  echo "gzip-site.sh: zopfli not found, writing gzip -9 copies (install the Debian package zopfli for ~5 % smaller ones)" >&2
  ENCODER=gzip
fi
export ENCODER
# One file per job, one job per core: zopfli is single-threaded.
find "$SITE" -type f -name '*.gz' -print0 | xargs -0 -r -n 1 -P "$(nproc)" bash -c '
  gz="$1"; src="${gz%.gz}"
  if [ "$ENCODER" = zopfli ]; then zopfli -c "$src" > "$gz.tmp"; else gzip -9 -n -c "$src" > "$gz.tmp"; fi
  mv "$gz.tmp" "$gz"' _
