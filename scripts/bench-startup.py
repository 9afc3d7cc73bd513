#!/usr/bin/env python3
"""Server start to ready: spawn `catalyst` on a fresh SQLite data dir and time until /readyz answers 200.

Baseline, measured in the same session: spawning `catalyst --version` (process start + exit, no runtime,
no database). Prints the median/min/max of N runs of each and their ratio.

    scripts/bench-startup.py [--bin target/release/catalyst] [--runs 15]
"""
import argparse, os, shutil, socket, statistics, subprocess, tempfile, time, urllib.request

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def start_to_ready(binary):
    data = tempfile.mkdtemp(prefix="catalyst-bench-")
    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([binary, "--bind", f"127.0.0.1:{port}", "--data-dir", data, "--log-level", "error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return (time.perf_counter() - t0) * 1000
            except Exception:
                if proc.poll() is not None:
                    raise SystemExit("catalyst exited before it was ready")
                time.sleep(0.002)
    finally:
        proc.terminate(); proc.wait()
        shutil.rmtree(data, ignore_errors=True)

def version(binary):
    t0 = time.perf_counter()
    subprocess.run([binary, "--version"], stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - t0) * 1000

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "catalyst"))
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    ready = [start_to_ready(a.bin) for _ in range(a.runs)]
    base = [version(a.bin) for _ in range(a.runs)]
    med = statistics.median
    print(f"| measure | median ms | min ms | max ms |")
    print(f"|---|---|---|---|")
    print(f"| start → /readyz 200 (fresh SQLite, migrations) | {med(ready):.1f} | {min(ready):.1f} | {max(ready):.1f} |")
    print(f"| baseline: `catalyst --version` | {med(base):.1f} | {min(base):.1f} | {max(base):.1f} |")
    print(f"ratio start-to-ready ÷ baseline (medians): {med(ready)/med(base):.1f}×")

if __name__ == "__main__":
    main()
