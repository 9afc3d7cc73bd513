#!/usr/bin/env python3
"""Derives tests/contracts/charts/<chart>-<version>/chart.json from a chart's public source at its release.

    derive_chart.py GIT_DIR REV CHART_PATH [--repository=URL] [--name=NAME --version=VERSION] [--values=FILE]

GIT_DIR is a clone or bare mirror of the chart's source repository, REV the tag or commit of the release,
CHART_PATH the chart's folder in it. The script reads Chart.yaml, values.yaml and values.schema.json (when
the chart ships one) with `git show REV:…` — it never renders or runs the chart — and writes:

- `defaults`: the shape of the default values: every key path of values.yaml, each leaf replaced by the
  name of its type; a map whose default is empty (`{}`) is open (any key below it is a value of the chart);
- `schema`: the chart's values.schema.json without its descriptions, or null;
- where it came from (repository, rev, commit, path).

The contract check (tests/contracts/sovereign.py) reads them: every key path a HelmRelease sets must be in
`defaults` (Helm ignores unknown keys silently), and the values must pass `schema`. Needs PyYAML.
"""

import json
import os
import subprocess
import sys

import yaml


def git(gitdir, *args):
    return subprocess.run(["git", "--git-dir", gitdir, *args], check=True, capture_output=True,
                          text=True).stdout


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


def main(argv):
    opts = dict(a[2:].split("=", 1) for a in argv[1:] if a.startswith("--") and "=" in a)
    args = [a for a in argv[1:] if not a.startswith("--")]
    repo = opts.get("repository")
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    gitdir, rev, path = args
    try:
        chart = yaml.safe_load(git(gitdir, "show", "%s:%s/Chart.yaml" % (rev, path)))
    except subprocess.CalledProcessError:
        # Charts whose Chart.yaml is generated at release (cert-manager): name and version given.
        chart = {}
    chart["name"] = opts.get("name", chart.get("name"))
    chart["version"] = opts.get("version", chart.get("version"))
    if not chart["name"] or not chart["version"]:
        raise SystemExit("no Chart.yaml at %s:%s: give --name= and --version=" % (rev, path))
    # Charts that generate values.yaml at release (Envoy Gateway: values.tmpl.yaml) name the file.
    values_file = opts.get("values", "values.yaml")
    values = yaml.safe_load(git(gitdir, "show", "%s:%s/%s" % (rev, path, values_file))) or {}
    try:
        schema = strip(json.loads(git(gitdir, "show", "%s:%s/values.schema.json" % (rev, path))))
    except subprocess.CalledProcessError:
        schema = None
    commit = git(gitdir, "rev-list", "-n", "1", rev).strip()
    out = {
        "name": chart["name"], "version": str(chart["version"]),
        "source": {"repository": repo, "rev": rev, "commit": commit, "path": path,
                   "how": "tests/contracts/charts/derive_chart.py"},
        "defaults": shape(values), "schema": schema,
    }
    here = os.path.dirname(os.path.abspath(__file__))
    folder = os.path.join(here, "%s-%s" % (chart["name"], chart["version"]))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "chart.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
