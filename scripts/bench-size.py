#!/usr/bin/env python3
"""Bytes shipped for a page: fetches the page from a running console, then every script, stylesheet, wasm and
preload it references, and reports per file the raw size, gzip -9 (a reproducible baseline independent of the
server) and what the server actually sends for `Accept-Encoding: gzip` and for `Accept-Encoding: br`.

With a split build (`cargo leptos build --split`) the page preloads the wasm chunks of its lazy routes (listed in
a module script in its head) and the split loader script; those are counted, because the page needs them before it is interactive. Chunks of other
pages are not.

    scripts/bench-size.py http://127.0.0.1:3000/sovereign [--cookie 'name=value'] [--summary]
"""
import argparse, gzip, re, sys, urllib.request
from urllib.parse import urljoin


def fetch(url, cookie, encoding):
    headers = {"Accept-Encoding": encoding}
    if cookie:
        headers["Cookie"] = cookie
    req = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read(), r.headers.get("Content-Encoding", "identity")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--cookie")
    ap.add_argument("--summary", action="store_true", help="one line per kind (document, js, css, wasm) and the total")
    a = ap.parse_args()
    html, _ = fetch(a.url, a.cookie, "identity")
    text = html.decode("utf-8", "replace")
    refs = set(re.findall(r'(?:href|src)="([^"]+\.(?:js|wasm|css))"', text))
    # Split modules are preloaded by a module script in the head (app/src/split.rs): `for(const f of["chunk_3",…])`
    # with `l.href="<pkg>/"+f+".wasm"`.
    for files, pkg in re.findall(r'for\(const f of\[([^\]]*)\]\).*?l\.href="([^"]*)/"\+f\+"\.wasm"', text):
        refs.update(f"{pkg}/{f}.wasm" for f in re.findall(r'"([^"]+)"', files))
    refs = sorted(refs)
    # The hydration script imports the JS glue, which loads the wasm next to it (the split loader has none).
    for js in [r for r in refs if r.endswith(".js") and "__wasm_split" not in r]:
        wasm = js[:-3] + ".wasm"
        if wasm not in refs:
            refs.append(wasm)
    rows = [("document", a.url, html)]
    for ref in refs:
        url = urljoin(a.url, ref)
        body, _ = fetch(url, a.cookie, "identity")
        rows.append((ref.rsplit(".", 1)[-1], url, body))

    measured = []
    for kind, url, body in rows:
        gz = len(gzip.compress(body, 9))
        wire_gz, enc_gz = fetch(url, a.cookie, "gzip")
        wire_br, enc_br = fetch(url, a.cookie, "br")
        measured.append((kind, url, len(body), gz, len(wire_gz), enc_gz, len(wire_br), enc_br))

    print("| file | raw bytes | gzip -9 bytes | server gzip | server brotli |")
    print("|---|---|---|---|---|")
    if a.summary:
        kinds = {}
        for kind, _, raw, gz, wg, _, wb, _ in measured:
            k = kinds.setdefault(kind, [0, 0, 0, 0, 0])
            for i, v in enumerate((1, raw, gz, wg, wb)):
                k[i] += v
        for kind, (n, raw, gz, wg, wb) in kinds.items():
            print(f"| {kind} ({n} file{'s' if n > 1 else ''}) | {raw:,} | {gz:,} | {wg:,} | {wb:,} |")
    else:
        for kind, url, raw, gz, wg, eg, wb, eb in measured:
            path = url.split("://", 1)[-1].split("/", 1)[-1]
            print(f"| `{path}` ({kind}) | {raw:,} | {gz:,} | {wg:,} ({eg}) | {wb:,} ({eb}) |")
    tot = [sum(m[i] for m in measured) for i in (2, 3, 4, 6)]
    print(f"| **total ({len(measured)} files)** | {tot[0]:,} | {tot[1]:,} | {tot[2]:,} | {tot[3]:,} |")
    wasm = [sum(m[i] for m in measured if m[0] == "wasm") for i in (2, 3, 4, 6)]
    print(f"| **wasm only** | {wasm[0]:,} | {wasm[1]:,} | {wasm[2]:,} | {wasm[3]:,} |")


if __name__ == "__main__":
    sys.exit(main())
