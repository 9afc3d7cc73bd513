#!/usr/bin/env python3
"""Bytes shipped for a page: fetches the page from a running console, then every script, stylesheet, wasm and
preload it references, with `Accept-Encoding: gzip, br` as a browser would, and reports raw and transferred
sizes per file. Also reports gzip -9 of each file as a reproducible baseline independent of the server.

    scripts/bench-size.py http://127.0.0.1:3000/sovereign [--cookie 'name=value']
"""
import argparse, gzip, re, sys, urllib.request
from urllib.parse import urljoin

def fetch(url, cookie, encoding):
    req = urllib.request.Request(url, headers={"Accept-Encoding": encoding, **({"Cookie": cookie} if cookie else {})})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
        return body, r.headers.get("Content-Encoding", "identity")

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--cookie")
    a = ap.parse_args()
    html, _ = fetch(a.url, a.cookie, "identity")
    text = html.decode("utf-8", "replace")
    refs = sorted(set(re.findall(r'(?:href|src)="([^"]+\.(?:js|wasm|css))"', text)))
    # The hydration script imports the JS glue, which loads the wasm next to it.
    for js in [r for r in refs if r.endswith(".js")]:
        wasm = js[:-3] + ".wasm"
        if wasm not in refs:
            refs.append(wasm)
    rows = [("document", a.url, html)]
    for ref in refs:
        url = urljoin(a.url, ref)
        body, _ = fetch(url, a.cookie, "identity")
        rows.append((ref.rsplit(".", 1)[-1], url, body))
    total_raw = total_gz = total_wire = 0
    print("| file | raw bytes | gzip -9 bytes | on the wire (server compression) |")
    print("|---|---|---|---|")
    for kind, url, body in rows:
        gz = len(gzip.compress(body, 9))
        wire_body, enc = fetch(url, a.cookie, "gzip, br")
        wire = len(wire_body)
        total_raw += len(body); total_gz += gz; total_wire += wire
        print(f"| `{url.split('://',1)[-1].split('/',1)[-1]}` ({kind}) | {len(body):,} | {gz:,} | {wire:,} ({enc}) |")
    print(f"| **total** | {total_raw:,} | {total_gz:,} | {total_wire:,} |")

if __name__ == "__main__":
    sys.exit(main())
