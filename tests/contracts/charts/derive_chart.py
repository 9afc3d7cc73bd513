#!/usr/bin/env python3
"""Derives tests/contracts/charts/<chart>-<version>/chart.json from each chart's public source at its release.

    derive_chart.py MIRRORS_DIR [CHART ...]     # MIRRORS_DIR/<owner>+<name>/repo: clones or bare mirrors

sources.json lists every chart: [name, version, "owner/repo", rev (tag or commit of the release), path of the
chart in the repository, optionally the values file when it is not values.yaml, optionally options:
{"library": path} for a chart whose values and schema are a library chart's in the same repository (the
generic app-template: its templates merge the library's defaults into its values, its values.schema.json is
a `$ref` to the library's, whose `$ref`s into other files are bundled into one schema here)]. The path may be a packaged
chart (`<name>-<version>.tgz`, as a chart repository's Git source holds it): then the chart is the archive's
files. The script reads the chart with `git show <rev>:…` (and Python's tarfile for a package) — it never
renders or runs it — and writes facts about it:

- `defaults`: the shape of the default values: every key path of the values file, each leaf replaced by
  the name of its type; an empty map (`{}`) is open (any key below it is a value of the chart). Subcharts
  vendored under the chart's `charts/` folder are read the same way under their name or alias; a
  dependency fetched at build time (not in the repository) is an open map (`{"__open__": true}`);
- `referenced`: every `.Values.a.b…` (or `index .Values "a" "b"`) path the templates — and values that
  are templates rendered with `tpl` — read, as lists of keys (a key below one is used by the chart even when values.yaml only has it in a comment);
- `schema`: the chart's values.schema.json without its prose (description, title, examples), or null;
- `source`: repository, rev, commit, path.

The contract check (tests/contracts/sovereign.py) reads them: every key path a HelmRelease sets must be in
`defaults` or below a `referenced` path (Helm ignores unknown keys silently), and the values must pass
`schema` (its `required` lists left out: Helm checks them on the values merged with the defaults, which
the check does not have). Needs PyYAML.
"""

import json
import os
import re
import io
import subprocess
import sys
import tarfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z_][A-Za-z0-9_-]*)+)")
INDEX_REF = re.compile(r'index\s+\.Values((?:\s+"[^"]+")+)')


def git(gitdir, *args, check=True):
    r = subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise subprocess.CalledProcessError(r.returncode, args, r.stdout, r.stderr)
    return r.stdout if r.returncode == 0 else None


def shape(v):
    if isinstance(v, dict):
        return {str(k): shape(x) for k, x in v.items()}
    if isinstance(v, list):
        return "list"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if v is None:
        return "null"
    return "string"


def strip(schema):
    if isinstance(schema, dict):
        return {k: strip(v) for k, v in schema.items() if k not in ("description", "title", "examples", "$comment")}
    if isinstance(schema, list):
        return [strip(x) for x in schema]
    return schema


class GitTree:
    """The files of a repository at a revision."""

    def __init__(self, gitdir, rev):
        self.gitdir, self.rev = gitdir, rev

    def show(self, path):
        return git(self.gitdir, "show", "%s:%s" % (self.rev, path), check=False)

    def ls(self, path):
        out = git(self.gitdir, "ls-tree", "-r", "--name-only", self.rev, "--", path, check=False) or ""
        return [f for f in out.splitlines() if f]


class PackageTree:
    """The files of a packaged chart (a .tgz at a revision of a repository), paths below its top folder."""

    def __init__(self, gitdir, rev, path):
        blob = subprocess.run(["git", "--git-dir", gitdir, "cat-file", "blob", "%s:%s" % (rev, path)],
                              capture_output=True, check=True).stdout
        self.files = {}
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for m in tar.getmembers():
                if m.isfile():
                    name = m.name.split("/", 1)[1] if "/" in m.name else m.name
                    self.files[name] = tar.extractfile(m).read().decode("utf-8", "replace")

    def show(self, path):
        return self.files.get(path[2:] if path.startswith("./") else path)

    def ls(self, path):
        prefix = path.rstrip("/") + "/"
        return sorted(f for f in self.files if f.startswith(prefix))


def read_chart(tree, path, values_file="values.yaml"):
    """(defaults shape, referenced paths) of the chart at `path`, subcharts included."""
    values_text = tree.show("%s/%s" % (path, values_file))
    if values_text is None:
        raise FileNotFoundError("%s/%s" % (path, values_file))
    values = yaml.safe_load(values_text) or {}
    defaults = shape(values) if isinstance(values, dict) else {}
    referenced = set()
    # Values that are templates themselves (`config: |` rendered with tpl) read .Values too.
    for m in VALUES_REF.finditer(values_text):
        referenced.add(tuple(m.group(1)[1:].split(".")))
    prefix = "" if path in (".", "") else path.rstrip("/") + "/"
    for f in tree.ls(prefix + "templates"):
        text = tree.show(f) or ""
        for m in VALUES_REF.finditer(text):
            referenced.add(tuple(m.group(1)[1:].split(".")))
        for m in INDEX_REF.finditer(text):
            referenced.add(tuple(re.findall(r'"([^"]+)"', m.group(1))))
    chart = yaml.safe_load(tree.show("%sChart.yaml" % prefix) or "{}") or {}
    for dep in chart.get("dependencies") or []:
        key = dep.get("alias") or dep["name"]
        local = "%scharts/%s" % (prefix, dep["name"])
        if tree.show("%s/values.yaml" % local) is not None:
            sub_defaults, sub_refs = read_chart(tree, local)
            merged = defaults.get(key) if isinstance(defaults.get(key), dict) else {}
            defaults[key] = merge(sub_defaults, merged)
            referenced |= {(key,) + r for r in sub_refs}
        else:
            node = defaults.get(key) if isinstance(defaults.get(key), dict) else {}
            node["__open__"] = True
            defaults[key] = node
    return defaults, referenced


def merge(a, b):
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if isinstance(out.get(k), dict) and isinstance(v, dict) else v
    return out


def bundle_schema(tree, path):
    """The JSON schema at `path` with every `$ref` into another file of the tree inlined under
    `definitions` (keyed by the file's path below the schema's folder), so it validates offline alone."""
    base = os.path.dirname(path)

    def esc(key):
        return key.replace("~", "~0").replace("/", "~1")

    files, queue = {}, []

    def rewrite(node, here, key):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k in ("$id", "$schema"):
                    continue
                if k == "$ref" and isinstance(v, str):
                    target, _, pointer = v.partition("#")
                    if target:
                        full = os.path.normpath(os.path.join(here, target))
                        tkey = os.path.relpath(full, base)
                        if tkey not in files:
                            files[tkey] = None
                            queue.append((full, tkey))
                        v = "#/definitions/%s%s" % (esc(tkey), pointer)
                    elif key is not None:
                        v = "#/definitions/%s%s" % (esc(key), pointer)
                    out[k] = v
                else:
                    out[k] = rewrite(v, here, key)
            return out
        if isinstance(node, list):
            return [rewrite(x, here, key) for x in node]
        return node

    root = rewrite(json.loads(tree.show(path)), base, None)
    while queue:
        full, tkey = queue.pop(0)
        text = tree.show(full)
        if text is None:
            raise FileNotFoundError(full)
        files[tkey] = rewrite(json.loads(text), os.path.dirname(full), tkey)
    if files:
        root.setdefault("definitions", {}).update(files)
    return root


def derive(mirrors, entry):
    name, version, repo, rev, path = entry[:5]
    extra = entry[5:]
    values_file = next((x for x in extra if isinstance(x, str)), "values.yaml")
    options = next((x for x in extra if isinstance(x, dict)), {})
    gitdir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
    if path.endswith(".tgz"):
        tree, chart_path = PackageTree(gitdir, rev, path), "."
    else:
        tree, chart_path = GitTree(gitdir, rev), path
    defaults, referenced = read_chart(tree, chart_path, values_file)
    prefix = "" if chart_path in (".", "") else chart_path.rstrip("/") + "/"
    raw = tree.show("%svalues.schema.json" % prefix)
    schema = strip(json.loads(raw)) if raw else None
    if options.get("library"):
        lib = options["library"]
        lib_defaults, lib_refs = read_chart(tree, lib)
        defaults = merge(lib_defaults, {k: v for k, v in defaults.items() if k != os.path.basename(lib)})
        referenced |= lib_refs
        schema = strip(bundle_schema(tree, "%s/values.schema.json" % lib))
    out = {
        "name": name, "version": version,
        "source": {"repository": "https://github.com/" + repo, "rev": rev,
                   "commit": git(gitdir, "rev-list", "-n", "1", rev, "--").strip(), "path": path,
                   "how": "tests/contracts/charts/derive_chart.py (sources.json)",
                   **({"library": options["library"]} if options.get("library") else {})},
        "defaults": defaults, "referenced": [list(r) for r in sorted(referenced)],
        "schema": schema,
    }
    folder = os.path.join(HERE, "%s-%s" % (name, version))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "chart.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    return folder


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    with open(os.path.join(HERE, "sources.json")) as f:
        sources = json.load(f)
    wanted = set(argv[2:])
    for entry in sources:
        if wanted and entry[0] not in wanted:
            continue
        print(derive(argv[1], entry))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
