#!/usr/bin/env python3
"""Derives the JSON Schemas of custom resources (tests/contracts/crds/<group>/<Kind>_<version>.json) and
their index (index.json) from the CustomResourceDefinitions the upstream projects publish at the versions
the platform installs.

    derive_crds.py MIRRORS_DIR            # MIRRORS_DIR/<owner>+<name>/repo: clones or bare mirrors

For every source below it reads each CRD file with `git show <tag>:<path>` (nothing is built or run), takes
the `openAPIV3Schema` of every served version and turns it into a JSON Schema the way the API server
applies it to a manifest Flux server-side applies:

- an object with `properties` and neither `additionalProperties` nor `x-kubernetes-preserve-unknown-fields`
  refuses other fields (the API server rejects unknown fields in a server-side apply);
- `x-kubernetes-int-or-string` accepts an integer or a string, `nullable` also null;
- `metadata` is checked as an ObjectMeta (name, namespace, labels, annotations …);
- CEL rules (`x-kubernetes-validations`) are left out (not evaluated here).

index.json maps "<group>/<Kind>" to its versions, the schema files, where it came from and which
component installs the CRD (`installedBy`: a catalog id — its HelmRelease bp-<id> —, `provider:<name>` — a
Crossplane Provider of the tree —, or `cloud-init:<what>`), which the wiring check uses.
Needs PyYAML (the contract venv has it).
"""

import json
import os
import subprocess
import sys

import yaml

# (repository, tag, CRD files, installed by)
SOURCES = [
    ("fluxcd/helm-controller", "v1.3.0", ["config/crd/bases/helm.toolkit.fluxcd.io_helmreleases.yaml"],
     "cloud-init:flux v2.6.4"),
    ("fluxcd/source-controller", "v1.6.2", [
        "config/crd/bases/source.toolkit.fluxcd.io_gitrepositories.yaml",
        "config/crd/bases/source.toolkit.fluxcd.io_helmrepositories.yaml",
        "config/crd/bases/source.toolkit.fluxcd.io_helmcharts.yaml",
        "config/crd/bases/source.toolkit.fluxcd.io_ocirepositories.yaml",
        "config/crd/bases/source.toolkit.fluxcd.io_buckets.yaml",
    ], "cloud-init:flux v2.6.4"),
    ("fluxcd/kustomize-controller", "v1.6.1", ["config/crd/bases/kustomize.toolkit.fluxcd.io_kustomizations.yaml"],
     "cloud-init:flux v2.6.4"),
    ("cert-manager/cert-manager", "v1.16.2", [
        "deploy/crds/crd-certificates.yaml",
        "deploy/crds/crd-clusterissuers.yaml",
        "deploy/crds/crd-issuers.yaml",
        "deploy/crds/crd-certificaterequests.yaml",
    ], "cert-manager"),
    # Envoy Gateway's chart gateway-helm v1.5.0 installs Gateway API v1.3.0 (experimental channel) and its own kinds.
    ("envoyproxy/gateway", "v1.5.0", [
        "charts/gateway-helm/crds/gatewayapi-crds.yaml",
        "charts/gateway-helm/crds/generated/gateway.envoyproxy.io_envoyproxies.yaml",
        "charts/gateway-helm/crds/generated/gateway.envoyproxy.io_clienttrafficpolicies.yaml",
        "charts/gateway-helm/crds/generated/gateway.envoyproxy.io_backendtrafficpolicies.yaml",
        "charts/gateway-helm/crds/generated/gateway.envoyproxy.io_securitypolicies.yaml",
        "charts/gateway-helm/crds/generated/gateway.envoyproxy.io_envoyextensionpolicies.yaml",
    ], "envoy"),
    ("external-secrets/external-secrets", "v0.10.7", [
        "config/crds/bases/external-secrets.io_externalsecrets.yaml",
        "config/crds/bases/external-secrets.io_clusterexternalsecrets.yaml",
        "config/crds/bases/external-secrets.io_secretstores.yaml",
        "config/crds/bases/external-secrets.io_clustersecretstores.yaml",
        "config/crds/bases/external-secrets.io_pushsecrets.yaml",
        "config/crds/bases/generators.external-secrets.io_passwords.yaml",
    ], "external-secrets"),
    # The operator release of the cnpg chart the catalog pins (cloudnative-pg 0.28.0: appVersion 1.29.0).
    ("cloudnative-pg/cloudnative-pg", "v1.29.0", [
        "config/crd/bases/postgresql.cnpg.io_clusters.yaml",
        "config/crd/bases/postgresql.cnpg.io_databases.yaml",
        "config/crd/bases/postgresql.cnpg.io_poolers.yaml",
        "config/crd/bases/postgresql.cnpg.io_backups.yaml",
        "config/crd/bases/postgresql.cnpg.io_scheduledbackups.yaml",
    ], "cnpg"),
    ("crossplane/crossplane", "v1.18.0", [
        "cluster/crds/pkg.crossplane.io_providers.yaml",
        "cluster/crds/pkg.crossplane.io_deploymentruntimeconfigs.yaml",
    ], "crossplane"),
    # Installed by the Crossplane package xpkg.upbound.io/upbound/provider-terraform:v0.20.0
    # (clusters/_template/infrastructure/provider).
    ("upbound/provider-terraform", "v0.20.0", [
        "package/crds/tf.upbound.io_providerconfigs.yaml",
        "package/crds/tf.upbound.io_workspaces.yaml",
    ], "provider:provider-terraform"),
]

OBJECT_META = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"}, "generateName": {"type": "string"}, "namespace": {"type": "string"},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"}, "resourceVersion": {"type": "string"},
    },
}


def convert(s, top=False):
    """An OpenAPI v3 structural schema → JSON Schema (draft 2020-12 keywords)."""
    if not isinstance(s, dict):
        return s
    out = {}
    for k, v in s.items():
        if k in ("x-kubernetes-validations", "x-kubernetes-list-type", "x-kubernetes-list-map-keys",
                 "x-kubernetes-map-type", "x-kubernetes-embedded-resource", "description", "example",
                 "externalDocs"):
            continue
        if k == "properties":
            out[k] = {name: convert(p) for name, p in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = convert(v) if isinstance(v, dict) else v
        elif k in ("allOf", "anyOf", "oneOf"):
            out[k] = [convert(x) for x in v]
        elif k in ("nullable", "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields"):
            continue
        else:
            out[k] = v
    if s.get("x-kubernetes-int-or-string"):
        out.pop("type", None)
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if s.get("nullable") and "type" in out:
        out["type"] = [out["type"], "null"]
    if (out.get("type") == "object" and "properties" in out and "additionalProperties" not in out
            and not s.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if top:
        props = out.setdefault("properties", {})
        props["metadata"] = OBJECT_META
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.pop("status", None)
    return out


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    mirrors = argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    index = {}
    for repo, tag, paths, installed_by in SOURCES:
        gitdir = os.path.join(mirrors, repo.replace("/", "+"), "repo")
        commit = subprocess.run(["git", "--git-dir", gitdir, "rev-list", "-n", "1", tag], check=True,
                                capture_output=True, text=True).stdout.strip()
        for path in paths:
            text = subprocess.run(["git", "--git-dir", gitdir, "show", "%s:%s" % (tag, path)], check=True,
                                  capture_output=True, text=True).stdout
            for crd in yaml.safe_load_all(text):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                spec = crd["spec"]
                group, kind = spec["group"], spec["names"]["kind"]
                entry = index.setdefault("%s/%s" % (group, kind), {
                    "group": group, "kind": kind, "scope": spec["scope"], "versions": {},
                    "installedBy": installed_by,
                    "source": {"repository": "https://github.com/" + repo, "tag": tag, "commit": commit,
                               "path": path},
                })
                for v in spec["versions"]:
                    if not v.get("served", True):
                        continue
                    schema = convert(v["schema"]["openAPIV3Schema"], top=True)
                    rel = "%s/%s_%s.json" % (group, kind, v["name"])
                    os.makedirs(os.path.join(here, group), exist_ok=True)
                    with open(os.path.join(here, rel), "w") as f:
                        json.dump(schema, f, indent=None, sort_keys=True, separators=(",", ":"))
                        f.write("\n")
                    entry["versions"][v["name"]] = rel
    with open(os.path.join(here, "index.json"), "w") as f:
        json.dump(index, f, indent=1, sort_keys=True)
        f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
