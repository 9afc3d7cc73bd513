#!/usr/bin/env python3
"""Import circles between the files of a crate: `scripts/deps.py [--edges] [CRATE_SRC ...]`.

Reads every `.rs` file under each source folder (default: server/src and app/src), resolves the paths it
names inside its own crate (`use crate::…`, `use super::…`, `self::…`, inline `crate::a::b::f()`, and paths
through modules it imported or declared), and draws one arrow per file → file. A path ends at the deepest
module that is a file of its own, so `crate::db::deployments::StatusWrite` points at `db/deployments.rs` and
`crate::deployments::Engine` at `deployments/mod.rs`.

Arrows from a module to the modules inside it (`mod.rs` using its own children) are not counted: a module
owns its children. Everything else counts, child → parent included. `#[cfg(test)] mod tests` blocks are left
out. It prints every circle (a set of files that reach each other) with the arrows that tie it and the
names each arrow carries, and exits 1 if there is one; `--edges` also lists every arrow.
"""

import os
import re
import sys
from collections import defaultdict

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def modules_of(src):
    """file path -> module path (tuple), and module path -> file path."""
    files = {}
    for root, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src)[: -len(".rs")].split(os.sep)
            if rel in (["lib"], ["main"]):
                mod = ()
            elif rel[-1] == "mod":
                mod = tuple(rel[:-1])
            else:
                mod = tuple(rel)
            files[path] = mod
    return files, {m: p for p, m in files.items()}


TOKENS = re.compile(r"""//[^\n]*|/\*.*?\*/|r(#*)".*?"\1|b?"(?:\\.|[^"\\])*"|'(?:\\.|[^\\'])'""", re.S)


def strip(text):
    """Comments, strings and test modules out."""
    text = TOKENS.sub(lambda m: "" if m.group(0).startswith("/") else '""', text)
    return re.sub(r"#\[cfg\(test\)\]\s*(pub(\(crate\))?\s+)?mod\s+\w+\s*\{.*", "", text, flags=re.S)


def expand_use(tree):
    """`a::{b, c::{d, e as f}}` -> ['a::b', 'a::c::d', 'a::c::e']."""
    tree = re.sub(r"\s*(::|\{|\}|,)\s*", r"\1", tree.strip())
    out = []

    def walk(prefix, s):
        depth, start, parts = 0, 0, []
        for i, ch in enumerate(s):
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == "," and depth == 0:
                parts.append(s[start:i])
                start = i + 1
        parts.append(s[start:])
        for part in filter(None, parts):
            if "{" in part:
                head, rest = part.split("{", 1)
                walk(prefix + head, rest[: rest.rindex("}")])
            else:
                out.append(prefix + re.split(r"\s+as\s+", part)[0].strip())

    walk("", tree)
    return out


def resolve(segments, here, mods):
    """Absolute module path of `segments` seen from module `here`, or None if it leaves the crate."""
    if not segments:
        return None
    first, rest = segments[0], segments[1:]
    if first == "crate":
        base = ()
    elif first == "self":
        base = here
    elif first == "super":
        base = here[:-1]
        while rest and rest[0] == "super":
            base, rest = base[:-1], rest[1:]
    else:
        return None
    return base + tuple(rest)


def deepest_module(path, mods):
    for n in range(len(path), -1, -1):
        if path[:n] in mods:
            return path[:n], path[n:]
    return None, None


def edges_of(src):
    files, mods = modules_of(src)
    edges = defaultdict(set)  # (from_file, to_file) -> names
    for path, here in files.items():
        with open(path, encoding="utf-8") as f:
            text = strip(f.read())
        # Names bound to modules in this file: `mod x;` and `use …::module;` / `use …::{module, …}`.
        bound = {}
        for m in re.finditer(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", text, re.M):
            bound[m.group(1)] = here + (m.group(1),)
        paths = []
        for m in re.finditer(r"\buse\s+([^;]+);", text):
            for p in expand_use(m.group(1)):
                segs = [s for s in p.split("::") if s and s != "*"]
                paths.append(segs)
                absolute = resolve(segs, here, mods)
                if absolute is not None and absolute in mods:
                    bound[segs[-1] if segs[-1] != "self" else segs[-2]] = absolute
        for m in re.finditer(r"\b((?:crate|super|self)(?:::" + IDENT + r")+)", text):
            paths.append(m.group(1).split("::"))
        for name, target in list(bound.items()):
            for m in re.finditer(r"(?<![:\w])" + name + r"((?:::" + IDENT + r")+)", text):
                paths.append(["crate", *target, *m.group(1).split("::")[1:]])
        for segs in paths:
            absolute = resolve(segs, here, mods)
            if absolute is None:
                continue
            module, names = deepest_module(absolute, mods)
            if module is None or module == here or module[: len(here)] == here:
                continue  # itself, or a module inside it
            edges[(path, mods[module])].add(names[0] if names else "(module)")
    return files, edges


def circles(files, edges):
    graph = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    sys.setrecursionlimit(10000)
    for v in sorted(files):
        if v not in index:
            visit(v)
    return out


def label(names):
    named = sorted(n for n in names if n != "(module)")
    return ", ".join(named) if named else "(module)"


def main(argv):
    show_edges = "--edges" in argv
    roots = [a for a in argv if not a.startswith("--")] or ["server/src", "app/src"]
    found = 0
    for src in roots:
        files, edges = edges_of(src)
        if show_edges:
            for (a, b), names in sorted(edges.items()):
                print(f"{a} -> {b}: {label(names)}")
        for group in circles(files, edges):
            found += 1
            print(f"circle: {', '.join(group)}")
            for (a, b), names in sorted(edges.items()):
                if a in group and b in group:
                    print(f"  {a} -> {b}: {label(names)}")
        print(f"{src}: {len(files)} files, {len(edges)} arrows, {len(circles(files, edges))} circles")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
