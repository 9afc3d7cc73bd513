"""What a Sovereign's cluster would hold, built offline, and the checks the contract tests run on it.

    regions = build(tree_root, fqdn, request)        # one Region per region of the request
    problems = check(regions, Data.load())           # [Problem], empty when the platform is coherent

`build` does what cloud-init and Flux do, without a cluster: it evaluates `infra/hetzner` for the request
(tests/standins/hcl.py, with the provider's computed values invented by the tofu stand-in) to get the
objects cloud-init applies in each region (the ConfigMap flux-system/sovereign-settings, the Secrets, the
GitRepository and the Kustomization flux-system), then follows Flux's Kustomizations through the rendered
tree: each `spec.path` is built like kustomize (`kustomization.yaml` resources, or every manifest below the
folder when there is none), its `${VAR}` substituted from `postBuild` (`substitute`, `substituteFrom`),
`targetNamespace` applied, and the Kustomizations it contains followed in turn.

`check` runs every contract: schemas (core kinds against the Kubernetes OpenAPI schema of the pinned
version, custom resources against their CRDs), HelmRelease values against the chart (key paths and
values.schema.json), and the wiring (references resolve, hostnames are the Sovereign's, custom resources
wait for the HelmRelease that installs their CRD, no dependsOn cycle).
"""

import copy
import importlib.machinery
import importlib.util
import json
import os
import re
import sys

import jsonschema
import kubernetes_validate
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "standins"))
import hcl  # noqa: E402

KUBERNETES_VERSION = "1.31.0"  # k3s v1.31.x (infra/hetzner variables.tf k3s_version)


def _load_standin():
    path = os.path.join(ROOT, "tests", "standins", "tofu")
    loader = importlib.machinery.SourceFileLoader("tofu_standin", path)
    spec = importlib.util.spec_from_loader("tofu_standin", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


TOFU = _load_standin()


class Problem:
    def __init__(self, check, where, what):
        self.check, self.where, self.what = check, where, what

    def __str__(self):
        return "[%s] %s: %s" % (self.check, self.where, self.what)

    __repr__ = __str__


def ref(obj):
    md = obj.get("metadata") or {}
    ns = md.get("namespace")
    return "%s %s%s" % (obj.get("kind"), (ns + "/") if ns else "", md.get("name"))


# --- the module: what cloud-init applies ---------------------------------------------------------------------

def tfvars_for(request, fqdn, deployment_id="contract-sample"):
    """The variables Catalyst would write for a sample request (the subset the cluster objects depend on;
    secrets are placeholders)."""
    regions = []
    seen = {}
    for r in request["regions"]:
        loc = r["cloudRegion"]
        seen[loc] = seen.get(loc, 0) + 1
        regions.append({
            "key": loc if seen[loc] == 1 else "%s-%d" % (loc, seen[loc]),
            "provider": "hetzner", "cloud_region": loc,
            "control_plane_size": r.get("controlPlaneSize", "cpx32"),
            "worker_size": r.get("workerSize", "cpx32"), "worker_count": int(r.get("workerCount", 0)),
            "airgap": bool(r.get("airgap", False)),
        })
    return {
        "deployment_id": deployment_id, "sovereign_fqdn": fqdn,
        "name_prefix": "catalyst-" + fqdn.replace(".", "-")[:32],
        "sovereign_subdomain": fqdn.split(".")[0], "pool_domain": fqdn.split(".", 1)[1],
        "org_name": "Sample", "org_email": "ops@" + fqdn, "topology": "dual",
        "hcloud_token": "h" * 64, "hcloud_project_id": "1", "regions": regions,
        "ha_enabled": bool(request.get("haEnabled", False)),
        "ssh_public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxhY2tzIGEgcmVhbCBrZXkgYnV0IGlzIHdlbGwgZm9ybWVk",
        "catalyst_api_url": "https://console.example.net/sovereign",
        "kubeconfig_bearer_tokens": {r["key"]: "b" * 40 for r in regions}, "gitops_repo_url": "https://git.example.net/fleet.git",
        "gitops_path": "clusters/" + fqdn, "gitops_token": "g" * 20,
        "api_allowed_cidrs": ["198.18.0.7/32"],
    }


def module_resources(tfvars):
    """{address: attributes} of what the module creates for these variables (the stand-in tofu's plan)."""
    return TOFU.desired(os.path.join(ROOT, "infra", "hetzner"), tfvars)


def load_balancer_of(resources, region_key):
    """What the region's public load balancer forwards, from the module: {"ipv4", "forwards": {listen port:
    (protocol, destination port)}, "targets": [label selectors]}, or None when the region has none."""
    lbs = [a for a, attrs in resources.items() if a.startswith("hcloud_load_balancer.")
           and (attrs.get("labels") or {}).get("catalyst.dev/role") == "load-balancer"
           and (attrs.get("labels") or {}).get("catalyst.dev/region") == region_key]
    if not lbs:
        return None
    lb = resources[lbs[0]]
    forwards, targets = {}, []
    for addr, attrs in resources.items():
        if attrs.get("load_balancer_id") != lb.get("id"):
            continue
        if addr.startswith("hcloud_load_balancer_service."):
            forwards[attrs.get("listen_port")] = (attrs.get("protocol"), attrs.get("destination_port"))
        elif addr.startswith("hcloud_load_balancer_target."):
            targets.append(attrs.get("label_selector"))
    return {"ipv4": lb.get("ipv4"), "forwards": forwards, "targets": targets}


def cloud_init_objects(tfvars, resources=None):
    """{region key: [objects]} that the first control plane of each region applies."""
    module_dir = os.path.join(ROOT, "infra", "hetzner")
    resources = resources if resources is not None else module_resources(tfvars)
    known = {}
    for addr, attrs in resources.items():
        rtype, name, key = TOFU.parse_address(addr)
        slot = known.setdefault(rtype, {})
        if key is None:
            slot[name] = attrs
        else:
            slot.setdefault(name, {})[key] = attrs
    ev = hcl.Module.load(module_dir).evaluator(tfvars, known)
    out = {}
    for r in tfvars["regions"]:
        k = r["key"]
        docs = []
        for text in (ev.local("flux_bootstrap")[k], ev.local("cluster_secrets")[k]):
            docs += [d for d in yaml.safe_load_all(text) if d]
        for d in docs:
            d.setdefault("metadata", {})
            d["_origin"] = "cloud-init"
        out[k] = docs
    return out


# --- Flux, offline ---------------------------------------------------------------------------------------------

VAR = re.compile(r"\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}")


def substitute(text, variables, where, problems):
    """Flux's postBuild substitution: ${VAR}, ${VAR:=default}, ${VAR:-default}; $${VAR} is a literal ${VAR}.
    A variable without a value or a default is a problem (Flux would silently substitute nothing)."""

    def repl(m):
        if m.group(1):
            return "${%s}" % m.group(2) + ("" if m.group(3) is None else m.group(3) + m.group(4))
        name = m.group(2)
        if name in variables:
            return variables[name]
        if m.group(3) is not None:
            return m.group(4)
        problems.append(Problem("substitution", where, "${%s} has no value (not in sovereign-settings or "
                                                       "postBuild.substitute) and no default" % name))
        return ""

    return VAR.sub(repl, text)


class Unit:
    """One Flux Kustomization and what it applies."""

    def __init__(self, obj):
        self.obj = obj
        self.name = obj["metadata"]["name"]
        self.namespace = obj["metadata"].get("namespace", "flux-system")
        self.objects = []

    @property
    def depends_on(self):
        return [(d.get("namespace", self.namespace), d["name"]) for d in self.obj["spec"].get("dependsOn") or []]


class Region:
    def __init__(self, key, fqdn, settings, load_balancer=None):
        self.key, self.fqdn, self.settings = key, fqdn, settings
        self.load_balancer = load_balancer  # load_balancer_of(): None for an air-gapped region
        self.objects = []  # every object in the cluster, with "_origin" (cloud-init or a unit name)
        self.units = {}  # (namespace, name) → Unit


def kustomize_build(root, path, where, problems):
    """The manifests kustomize would build at `path` (a folder of the repository)."""
    folder = os.path.normpath(os.path.join(root, path))
    if not folder.startswith(os.path.normpath(root)) or not os.path.isdir(folder):
        problems.append(Problem("tree", where, "path %s is not a folder of the repository" % path))
        return []
    kfile = os.path.join(folder, "kustomization.yaml")
    texts = []
    if os.path.exists(kfile):
        with open(kfile) as f:
            k = yaml.safe_load(f) or {}
        for key in k:
            if key not in ("apiVersion", "kind", "resources", "namespace"):
                problems.append(Problem("tree", kfile, "kustomization field %s is not supported by the "
                                                       "contract build (resources and namespace only)" % key))
        for res in k.get("resources") or []:
            p = os.path.join(folder, res)
            if os.path.isdir(p):
                texts += kustomize_build(root, os.path.relpath(p, root), where, problems)
            elif os.path.isfile(p):
                with open(p) as f:
                    texts.append((os.path.relpath(p, root), f.read(), None))
            else:
                problems.append(Problem("tree", kfile, "resource %s does not exist" % res))
        if k.get("namespace"):
            texts = [(n, t, k["namespace"]) for n, t, _ in texts]
    else:
        # Flux generates a kustomization of every manifest below the folder.
        for dirpath, _, files in sorted(os.walk(folder)):
            for fn in sorted(files):
                if fn.endswith((".yaml", ".yml")):
                    with open(os.path.join(dirpath, fn)) as f:
                        texts.append((os.path.relpath(os.path.join(dirpath, fn), root), f.read(), None))
    return texts


def build(tree_root, fqdn, request, deployment_id="contract-sample", cloud_init_extra=None):
    """[Region] for a rendered tree (the folder holding clusters/<fqdn>) and its request. `cloud_init_extra`
    (region key → (settings, [objects])) adds to what cloud-init writes: inputs the module does not provide yet."""
    tfvars = tfvars_for(request, fqdn, deployment_id)
    regions = []
    problems = []
    resources = module_resources(tfvars)
    for key, cloud in cloud_init_objects(tfvars, resources).items():
        if cloud_init_extra:
            more_settings, more_objects = cloud_init_extra(key)
            for o in cloud:
                if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "sovereign-settings":
                    o.setdefault("data", {}).update(more_settings)
            cloud = cloud + [dict(o, _origin="cloud-init") for o in more_objects]
        settings = next(o for o in cloud if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "sovereign-settings")
        region = Region(key, fqdn, dict(settings.get("data") or {}), load_balancer_of(resources, key))
        region.objects += cloud
        queue = [o for o in cloud if o["kind"] == "Kustomization"]
        seen = set()
        while queue:
            kobj = queue.pop(0)
            unit = Unit(kobj)
            if (unit.namespace, unit.name) in seen:
                continue
            seen.add((unit.namespace, unit.name))
            region.units[(unit.namespace, unit.name)] = unit
            spec = kobj.get("spec") or {}
            variables = dict(spec.get("postBuild", {}).get("substitute") or {})
            for src in spec.get("postBuild", {}).get("substituteFrom") or []:
                found = [o for o in region.objects if o.get("kind") == src.get("kind")
                         and o["metadata"].get("name") == src.get("name")
                         and o["metadata"].get("namespace", unit.namespace) == unit.namespace]
                if not found:
                    if not src.get("optional"):
                        problems.append(Problem("wiring", "Kustomization %s" % unit.name,
                                                "postBuild.substituteFrom %s %s does not exist"
                                                % (src.get("kind"), src.get("name"))))
                    continue
                data = dict(found[0].get("data") or {})
                variables.update(data)
            path = spec.get("path", "./")
            for name, text, namespace in kustomize_build(tree_root, path[2:] if path.startswith("./") else path,
                                                         "Kustomization %s" % unit.name, problems):
                # Flux substitutes each object's YAML text as kustomize wrote it (quoting kept), so the text
                # of each document is substituted here, comment lines left out.
                for part in re.split(r"^---[ \t]*$", text, flags=re.M):
                    doc = yaml.safe_load(part)
                    if not doc:
                        continue
                    annotations = (doc.get("metadata") or {}).get("annotations") or {}
                    if annotations.get("kustomize.toolkit.fluxcd.io/substitute") != "disabled":
                        body = "\n".join(l for l in part.splitlines() if not l.lstrip().startswith("#"))
                        doc = yaml.safe_load(substitute(body, variables, "%s (%s)" % (name, unit.name), problems))
                    doc.setdefault("metadata", {})
                    if namespace:
                        doc["metadata"]["namespace"] = namespace
                    if spec.get("targetNamespace"):
                        doc["metadata"]["namespace"] = spec["targetNamespace"]
                    doc["_origin"] = unit.name
                    doc["_file"] = name
                    unit.objects.append(doc)
                    region.objects.append(doc)
                    if doc.get("kind") == "Kustomization" and doc.get("apiVersion", "").startswith(
                            "kustomize.toolkit.fluxcd.io/"):
                        queue.append(doc)
        region.build_problems = problems
        problems = []
        regions.append(region)
    return regions


# --- test data ----------------------------------------------------------------------------------------------

class Data:
    """Schemas and chart facts under tests/contracts."""

    def __init__(self, crds, charts, missing=None):
        self.crds, self.charts = crds, charts
        # "chart version" → why its data is not here yet (charts/missing.json); used: the entries needed.
        self.missing = dict(missing or {})
        self.missing_used = set()

    @classmethod
    def load(cls, base=HERE):
        with open(os.path.join(base, "crds", "index.json")) as f:
            crds = json.load(f)
        charts = {}
        chart_dir = os.path.join(base, "charts")
        if os.path.isdir(chart_dir):
            for d in sorted(os.listdir(chart_dir)):
                p = os.path.join(chart_dir, d, "chart.json")
                if os.path.exists(p):
                    with open(p) as f:
                        c = json.load(f)
                    charts[(c["name"], c["version"])] = c
        missing = {}
        mp = os.path.join(chart_dir, "missing.json")
        if os.path.exists(mp):
            with open(mp) as f:
                missing = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
        return cls(crds, charts, missing)

    def crd_schema(self, group, kind, version, base=HERE):
        entry = self.crds.get("%s/%s" % (group, kind))
        if not entry or version not in entry["versions"]:
            return None
        with open(os.path.join(base, "crds", entry["versions"][version])) as f:
            return json.load(f)


# --- checks ---------------------------------------------------------------------------------------------------

def api_group(obj):
    av = obj.get("apiVersion", "")
    return (av.split("/")[0], av.split("/")[1]) if "/" in av else ("", av)


def clean(obj):
    return {k: v for k, v in obj.items() if not k.startswith("_")}


def check_schemas(region, data, problems):
    cache = {}
    for obj in region.objects:
        group, version = api_group(obj)
        where = "%s [%s]" % (ref(obj), obj.get("_origin"))
        if not obj.get("kind") or not obj.get("apiVersion"):
            problems.append(Problem("schema", where, "a document without apiVersion or kind"))
            continue
        key = "%s/%s" % (group, obj["kind"])
        if key in data.crds:
            if (key, version) not in cache:
                cache[(key, version)] = data.crd_schema(group, obj["kind"], version)
            schema = cache[(key, version)]
            if schema is None:
                problems.append(Problem("schema", where, "%s is not served by the installed CRD (versions %s)"
                                        % (obj["apiVersion"], ", ".join(data.crds[key]["versions"]))))
                continue
            for err in sorted(jsonschema.Draft202012Validator(schema).iter_errors(clean(obj)), key=str):
                problems.append(Problem("schema", where, "%s: %s" % ("/".join(map(str, err.absolute_path)) or "(root)",
                                                                      err.message[:300])))
            continue
        try:
            kubernetes_validate.validate(clean(obj), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(Problem("schema", where, "no schema for %s %s: neither a Kubernetes %s kind nor a "
                                                     "custom resource with a CRD in tests/contracts/crds"
                                    % (obj["apiVersion"], obj["kind"], KUBERNETES_VERSION)))
        except kubernetes_validate.ValidationError as e:
            path = "/".join(str(p) for p in e.path) or "(root)"
            problems.append(Problem("schema", where, "%s: %s" % (path, e.message[:300])))


def leaf_paths(values, prefix=()):
    """Key paths of a values tree down to scalars, lists and empty maps."""
    if isinstance(values, dict) and values:
        for k, v in values.items():
            yield from leaf_paths(v, prefix + (str(k),))
    else:
        yield prefix


def default_at(defaults, path):
    """How far `path` reaches into the chart's defaults: (exists, free) where free means the defaults have
    an open map (empty `{}`, or declared open by the chart data) at a prefix of it."""
    node = defaults
    for i, k in enumerate(path):
        if isinstance(node, dict) and node.get("__open__"):
            return True, True
        if not isinstance(node, dict) or k not in node:
            return False, False
        node = node[k]
        if isinstance(node, dict) and not node:
            return True, True
    return True, False


COMBINATORS = ("anyOf", "oneOf", "allOf", "not", "if", "then", "else")


def without_required(schema, conditional=False):
    """A values schema without its `required` lists: Helm checks them on the values merged with the chart's
    defaults, and the contract data has the defaults' shape only. Inside anyOf/oneOf/allOf/not/if/then/else
    they stay: there a `required` picks a branch (`not: {anyOf: [{required: [a]}, …]}`), and without it every
    branch would match anything."""
    if isinstance(schema, dict):
        return {k: (without_required(v, True) if k in COMBINATORS else without_required(v, conditional))
                for k, v in schema.items() if conditional or k != "required"}
    if isinstance(schema, list):
        return [without_required(x, conditional) for x in schema]
    return schema


def check_values(region, data, problems):
    for obj in region.objects:
        if obj.get("kind") != "HelmRelease":
            continue
        spec = obj.get("spec") or {}
        chart = ((spec.get("chart") or {}).get("spec") or {})
        values = spec.get("values")
        where = "%s [%s]" % (ref(obj), obj.get("_origin"))
        if not values:
            continue
        c = data.charts.get((chart.get("chart"), str(chart.get("version"))))
        label = "%s %s" % (chart.get("chart"), chart.get("version"))
        if c is None and label in data.missing:
            data.missing_used.add(label)
            continue
        if c is None:
            problems.append(Problem("values", where, "no chart data for %s %s in tests/contracts/charts: add it "
                                                     "(tests/contracts/charts/README.md) so its values can be checked"
                                    % (chart.get("chart"), chart.get("version"))))
            continue
        referenced = [tuple(r) for r in c.get("referenced") or []]
        for path in leaf_paths(values):
            exists, _ = default_at(c["defaults"], path)
            if not exists and not any(path[:len(r)] == r for r in referenced):
                problems.append(Problem("values", where, "%s is not a value of chart %s %s (Helm would ignore it)"
                                        % (".".join(path), c["name"], c["version"])))
        if c.get("schema"):
            for err in sorted(jsonschema.Draft7Validator(without_required(c["schema"])).iter_errors(values), key=str):
                problems.append(Problem("values", where, "values.schema.json: %s: %s"
                                        % ("/".join(map(str, err.absolute_path)) or "(root)", err.message[:300])))


SECRET_KEYS = ("existingSecret", "existingSecretName", "secretName")
HOST_KEYS = ("host", "hostname", "hosts", "hostnames", "dnsNames", "commonName", "domain")
INTERNAL = re.compile(r"(^|\.)(svc|svc\.cluster\.local|cluster\.local)$|^localhost$")


def walk(node, path=()):
    yield path, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, path + (str(k),))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, path + (str(i),))


def produced(region):
    """(kind, namespace, name) of Secrets, ConfigMaps and Services that exist or are made by something in the
    tree: objects themselves, ExternalSecret targets, Certificate secrets, CNPG cluster secrets."""
    out = set()
    for o in region.objects:
        md = o.get("metadata") or {}
        ns = md.get("namespace", "default")
        kind = o.get("kind")
        spec = o.get("spec") or {}
        if kind in ("Secret", "ConfigMap", "Service"):
            out.add((kind, ns, md.get("name")))
        elif kind == "ExternalSecret":
            out.add(("Secret", ns, (spec.get("target") or {}).get("name") or md.get("name")))
        elif kind == "Certificate":
            out.add(("Secret", ns, spec.get("secretName")))
        elif kind == "Cluster" and api_group(o)[0] == "postgresql.cnpg.io":
            for suffix in ("app", "superuser", "ca", "server", "replication"):
                out.add(("Secret", ns, "%s-%s" % (md.get("name"), suffix)))
            for suffix in ("rw", "ro", "r"):
                out.add(("Service", ns, "%s-%s" % (md.get("name"), suffix)))
    return out


def release_namespaces(region):
    return {(o.get("spec") or {}).get("targetNamespace") for o in region.objects if o.get("kind") == "HelmRelease"}


def references_of(obj):
    """(kind, name, where-in-obj) of Secrets/ConfigMaps an object's values or spec read."""
    kind = obj.get("kind")
    root = (obj.get("spec") or {}).get("values") if kind == "HelmRelease" else obj.get("spec")
    if not isinstance(root, (dict, list)):
        return
    for path, node in walk(root):
        if not path:
            continue
        last = path[-1]
        if kind == "Certificate" and path == ("secretName",):
            continue  # what the Certificate produces
        if isinstance(node, dict) and node.get("name") and last in (
                "secretKeyRef", "secretRef", "configMapKeyRef", "configMapRef", "passwordSecretRef",
                "tokenSecretRef", "tsigSecretSecretRef"):
            yield ("ConfigMap" if last.startswith("configMap") else "Secret"), node["name"], ".".join(path), \
                node.get("namespace")
        elif isinstance(node, str) and last in SECRET_KEYS and node:
            yield "Secret", node, ".".join(path), None
        elif isinstance(node, str) and last == "existingConfigMap" and node:
            yield "ConfigMap", node, ".".join(path), None


def hostnames_of(obj):
    kind = obj.get("kind")
    root = (obj.get("spec") or {}).get("values") if kind == "HelmRelease" else obj.get("spec")
    for path, node in walk(root if isinstance(root, (dict, list)) else {}):
        if not path:
            continue
        key = path[-1] if not path[-1].isdigit() else (path[-2] if len(path) > 1 else "")
        if key in HOST_KEYS and isinstance(node, str):
            yield ".".join(path), node
        if isinstance(node, str) and re.match(r"^https?://", node) and key not in ("server", "repository", "url"):
            host = re.match(r"^https?://([^/:]+)", node).group(1)
            yield ".".join(path), host


def object_refs(obj):
    """(kind, namespace, name, where) of objects an object names directly: a Flux source (sourceRef), a
    HelmRelease's valuesFrom, a Gateway's certificate Secrets, a route's parent Gateway."""
    md = obj.get("metadata") or {}
    ns = md.get("namespace", "default")
    spec = obj.get("spec") or {}
    kind = obj.get("kind")
    if kind == "HelmRelease":
        src = ((spec.get("chart") or {}).get("spec") or {}).get("sourceRef") or {}
        if src:
            yield src.get("kind"), src.get("namespace", ns), src.get("name"), "spec.chart.spec.sourceRef"
        for i, v in enumerate(spec.get("valuesFrom") or []):
            if not v.get("optional"):
                yield v.get("kind"), ns, v.get("name"), "spec.valuesFrom[%d]" % i
    elif kind == "Kustomization" and api_group(obj)[0] == "kustomize.toolkit.fluxcd.io":
        src = spec.get("sourceRef") or {}
        yield src.get("kind"), src.get("namespace", ns), src.get("name"), "spec.sourceRef"
    elif kind == "Gateway":
        for i, listener in enumerate(spec.get("listeners") or []):
            for j, c in enumerate(((listener.get("tls") or {}).get("certificateRefs")) or []):
                yield c.get("kind", "Secret"), c.get("namespace", ns), c.get("name"), \
                    "spec.listeners[%d].tls.certificateRefs[%d]" % (i, j)
    elif kind in ("HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute"):
        for i, p in enumerate(spec.get("parentRefs") or []):
            yield p.get("kind", "Gateway"), p.get("namespace", ns), p.get("name"), "spec.parentRefs[%d]" % i


def cert_manager_namespace(region):
    for o in region.objects:
        spec = o.get("spec") or {}
        if o.get("kind") == "HelmRelease" and ((spec.get("chart") or {}).get("spec") or {}).get("chart") == "cert-manager":
            return spec.get("targetNamespace") or "cert-manager"
    return "cert-manager"


def check_wiring(region, data, problems):
    made = produced(region)
    helm_namespaces = release_namespaces(region)
    exists = {(o.get("kind"), (o.get("metadata") or {}).get("namespace", "default"),
               (o.get("metadata") or {}).get("name")) for o in region.objects}
    for obj in region.objects:
        where = "%s [%s]" % (ref(obj), obj.get("_origin"))
        for kind, ns_, name, at in object_refs(obj):
            if (kind, ns_, name) not in exists and (kind, ns_, name) not in made:
                problems.append(Problem("wiring", where, "%s names %s %s/%s, which nothing in the tree or "
                                                         "cloud-init creates" % (at, kind, ns_, name)))
        if obj.get("_origin") == "cloud-init":
            continue
        ns = (obj.get("spec") or {}).get("targetNamespace") if obj.get("kind") == "HelmRelease" else \
            (obj.get("metadata") or {}).get("namespace", "default")
        if obj.get("kind") == "ClusterIssuer":
            # cert-manager reads a ClusterIssuer's Secrets in its own namespace (the cluster resource namespace).
            ns = cert_manager_namespace(region)
        for kind, name, at, explicit_ns in references_of(obj) or []:
            target_ns = explicit_ns or ns
            if (kind, target_ns, name) not in made:
                problems.append(Problem("wiring", where, "%s reads %s %s/%s, which nothing in the tree or "
                                                         "cloud-init creates" % (at, kind, target_ns, name)))
        for at, host in hostnames_of(obj):
            host = re.sub(r":\d+$", "", host.strip().lstrip("*."))
            if not host or "$" in host or re.match(r"^[0-9.]+$", host):
                continue
            if re.search(r"\.svc(\.|$)", host):
                # A cluster-internal name: the Service must exist or be made by a chart in that namespace.
                svc, svc_ns = host.split(".")[:2]
                if svc_ns not in helm_namespaces and ("Service", svc_ns, svc) not in made:
                    problems.append(Problem("wiring", where, "%s: no Service %s in namespace %s" % (at, svc, svc_ns)))
                continue
            if INTERNAL.search(host):
                continue
            if not (host == region.fqdn or host.endswith("." + region.fqdn)):
                problems.append(Problem("wiring", where, "%s: host %s is not under the Sovereign's domain %s"
                                        % (at, host, region.fqdn)))
    check_crd_order(region, data, problems)
    check_depends_on(region, problems)


def unit_closure(region, start):
    """Units `start` waits for (dependsOn, transitively), itself included. A unit that waits (spec.wait) is
    ready only once the Kustomizations it applies are ready, so waiting for it is waiting for them too."""
    children = {}
    for key, unit in region.units.items():
        if (unit.obj.get("spec") or {}).get("wait"):
            children[key] = [(o["metadata"].get("namespace", unit.namespace), o["metadata"]["name"])
                             for o in unit.objects if o.get("kind") == "Kustomization"
                             and api_group(o)[0] == "kustomize.toolkit.fluxcd.io"]
    seen, stack = set(), [start]
    first = True
    while stack:
        k = stack.pop()
        if k in seen or k not in region.units:
            continue
        seen.add(k)
        stack += region.units[k].depends_on
        if not first:
            stack += children.get(k, [])
        first = False
    return seen


def release_closure(region, namespace, name):
    """HelmReleases (namespace, name) that a HelmRelease waits for, itself included."""
    releases = {((o["metadata"].get("namespace")), o["metadata"]["name"]): o for o in region.objects
                if o.get("kind") == "HelmRelease"}
    seen, stack = set(), [(namespace, name)]
    while stack:
        k = stack.pop()
        if k in seen or k not in releases:
            continue
        seen.add(k)
        for d in (releases[k].get("spec") or {}).get("dependsOn") or []:
            stack.append((d.get("namespace", k[0]), d["name"]))
    return seen


def check_crd_order(region, data, problems):
    """A custom resource is applied only once the HelmRelease installing its CRD is ready: it is in a unit that
    depends on the unit holding that HelmRelease (a unit applies all its objects at once, so the CRD would
    not exist yet in the same unit), or — for a HelmRelease's own chart — the release depends on it."""
    holder = {}
    for (ns, name), unit in region.units.items():
        for o in unit.objects:
            if o.get("kind") == "HelmRelease":
                holder[o["metadata"]["name"]] = (ns, name)
            elif o.get("kind") == "Provider" and api_group(o)[0] == "pkg.crossplane.io":
                holder["provider:" + o["metadata"]["name"]] = (ns, name)
    for o in region.objects:
        group, _ = api_group(o)
        entry = data.crds.get("%s/%s" % (group, o.get("kind")))
        if not entry or o.get("_origin") == "cloud-init":
            continue
        installer = entry["installedBy"]
        if installer.startswith("cloud-init:"):
            continue
        release = installer if installer.startswith("provider:") else "bp-" + installer
        where = "%s [%s]" % (ref(o), o.get("_origin"))
        if release not in holder:
            problems.append(Problem("wiring", where, "its CRD comes from %s, which is not in the tree" % release))
            continue
        unit_key = next((k for k, u in region.units.items() if any(x is o for x in u.objects)), None)
        waits = unit_closure(region, unit_key) - {unit_key}
        if holder[release] not in waits:
            problems.append(Problem("wiring", where, "%s/%s needs the CRD that HelmRelease %s installs, but its "
                                                    "Kustomization %s does not dependsOn (with wait) %s's"
                                    % (group, o.get("kind"), release, o.get("_origin"), holder[release][1])))
            continue
        installer_unit = region.units[holder[release]]
        spec = installer_unit.obj.get("spec") or {}
        checked = {(h.get("kind"), h.get("name")) for h in spec.get("healthChecks") or []}
        if not spec.get("wait") and ("HelmRelease", release) not in checked:
            problems.append(Problem("wiring", where, "Kustomization %s holds %s but neither waits (spec.wait) nor "
                                                    "health-checks it, so its dependents may start before the CRD "
                                                    "exists" % (installer_unit.name, release)))


def find_cycle(graph):
    """A cycle in {node: [nodes]} as a list, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in graph.get(n, []):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def check_depends_on(region, problems):
    releases = {}
    for o in region.objects:
        if o.get("kind") == "HelmRelease":
            ns = o["metadata"].get("namespace")
            releases["%s/%s" % (ns, o["metadata"]["name"])] = [
                "%s/%s" % (d.get("namespace", ns), d["name"]) for d in (o.get("spec") or {}).get("dependsOn") or []]
    units = {"%s/%s" % k: ["%s/%s" % d for d in u.depends_on] for k, u in region.units.items()}
    for label, graph in (("HelmRelease", releases), ("Kustomization", units)):
        for node, deps in sorted(graph.items()):
            for d in deps:
                if d not in graph:
                    problems.append(Problem("wiring", "%s %s" % (label, node), "dependsOn %s, which does not exist"
                                            % d))
        cycle = find_cycle(graph)
        if cycle:
            problems.append(Problem("wiring", label, "dependsOn cycle: %s" % " → ".join(cycle)))


def host_matches(pattern, host):
    """Gateway API / X.509 hostname matching: exact, or `*.` standing for one or more leading labels (a
    Gateway listener) — one label for a certificate (`one_label`)."""
    return host_covers(pattern, host, one_label=False)


def host_covers(pattern, host, one_label=True):
    pattern, host = (pattern or "").lower(), (host or "").lower()
    if not pattern.startswith("*."):
        return pattern == host
    suffix = pattern[1:]
    if not host.endswith(suffix) or len(host) <= len(suffix):
        return False
    return "." not in host[:-len(suffix)] if one_label else True


def route_hosts(region):
    """[(route, [hostnames])] of the HTTPRoutes that serve named hosts (the redirect has none)."""
    return [(o, (o.get("spec") or {}).get("hostnames") or []) for o in region.objects
            if o.get("kind") == "HTTPRoute" and (o.get("spec") or {}).get("hostnames")]


def check_https(region, problems):
    """Every host a route serves is reachable over HTTPS the whole way: the region's load balancer forwards
    443 (and 80, for HTTP-01 and the redirect) to the Gateway's NodePorts; the route is attached to an HTTPS
    listener of an existing Gateway that admits it and matches its hostname; that listener's certificate
    Secret is a cert-manager Certificate whose names cover the host, issued by a ClusterIssuer in the tree;
    HTTP on port 80 is redirected to HTTPS; the route's backends are Services something creates."""
    objs = region.objects
    by = lambda kind: [o for o in objs if o.get("kind") == kind]  # noqa: E731
    md = lambda o: o.get("metadata") or {}  # noqa: E731
    gateways = {(md(g).get("namespace", "default"), md(g).get("name")): g for g in by("Gateway")}
    classes = {md(c).get("name"): c for c in by("GatewayClass")}
    proxies = {(md(p).get("namespace", "default"), md(p).get("name")): p for p in by("EnvoyProxy")}
    certificates = {(md(c).get("namespace", "default"), (c.get("spec") or {}).get("secretName")): c
                    for c in by("Certificate")}
    issuers = {md(i).get("name") for i in by("ClusterIssuer")}
    made = produced(region)
    helm_namespaces = release_namespaces(region)
    routes = route_hosts(region)
    if routes and not gateways:
        problems.append(Problem("https", "region %s" % region.key, "routes serve hosts but there is no Gateway"))

    def listeners(gw, section=None):
        return [l for l in (gw.get("spec") or {}).get("listeners") or []
                if section is None or l.get("name") == section]

    # The load balancer → the Gateway's NodePorts, per Gateway.
    for (gns, gname), gw in gateways.items():
        where = "Gateway %s/%s" % (gns, gname)
        cls = classes.get((gw.get("spec") or {}).get("gatewayClassName"))
        if cls is None:
            problems.append(Problem("https", where, "its GatewayClass %s does not exist"
                                    % (gw.get("spec") or {}).get("gatewayClassName")))
            continue
        pref = (cls.get("spec") or {}).get("parametersRef") or {}
        proxy = proxies.get((pref.get("namespace", "default"), pref.get("name")))
        if proxy is None:
            problems.append(Problem("https", where, "GatewayClass %s names no EnvoyProxy in the tree, so its "
                                                    "Service is not the NodePort the load balancer targets"
                                    % md(cls).get("name")))
            continue
        svc = (((proxy.get("spec") or {}).get("provider") or {}).get("kubernetes") or {}).get("envoyService") or {}
        node_ports = {}
        for port in ((((svc.get("patch") or {}).get("value") or {}).get("spec") or {}).get("ports") or []):
            node_ports[port.get("port")] = port.get("nodePort")
        lb = region.load_balancer
        if lb is None:
            continue  # an air-gapped region: nothing public to reach
        if svc.get("type") != "NodePort":
            problems.append(Problem("https", where, "the Gateway's Service is %s, not a NodePort the load "
                                                    "balancer can target" % (svc.get("type") or "unset")))
        if not lb["targets"]:
            problems.append(Problem("https", "load balancer of region %s" % region.key, "has no targets"))
        for port, protocol in ((443, "HTTPS"), (80, "HTTP")):
            if not [l for l in listeners(gw) if l.get("port") == port and l.get("protocol") == protocol]:
                problems.append(Problem("https", where, "has no %s listener on port %d" % (protocol, port)))
            fwd = lb["forwards"].get(port)
            if fwd is None:
                problems.append(Problem("https", "load balancer of region %s" % region.key,
                                        "does not forward port %d (infra/hetzner)" % port))
            elif fwd[0] != "tcp" or fwd[1] != node_ports.get(port):
                problems.append(Problem("https", "load balancer of region %s" % region.key,
                                        "forwards %d to %s port %s, but the Gateway's Service has port %d on "
                                        "NodePort %s" % (port, fwd[0], fwd[1], port, node_ports.get(port))))

    # Each named host: route → listener → certificate → issuer; its backends.
    for route, hosts in routes:
        rns = md(route).get("namespace", "default")
        where = "HTTPRoute %s/%s [%s]" % (rns, md(route).get("name"), route.get("_origin"))
        attached = []
        for p in (route.get("spec") or {}).get("parentRefs") or []:
            gw = gateways.get((p.get("namespace", rns), p.get("name")))
            if gw is None:
                continue  # check_wiring reports a dangling parent
            gns = md(gw).get("namespace", "default")
            for l in listeners(gw, p.get("sectionName")):
                allowed = ((l.get("allowedRoutes") or {}).get("namespaces") or {}).get("from", "Same")
                if allowed == "Same" and gns != rns:
                    continue
                attached.append((gns, l))
        https = [(gns, l) for gns, l in attached if l.get("protocol") == "HTTPS"]
        if not https:
            problems.append(Problem("https", where, "is attached to no HTTPS listener that admits it"))
            continue
        for host in hosts:
            serving = [(gns, l) for gns, l in https if not l.get("hostname") or host_matches(l["hostname"], host)]
            if not serving:
                problems.append(Problem("https", where, "host %s matches no HTTPS listener it is attached to"
                                        % host))
                continue
            for gns, l in serving:
                refs = ((l.get("tls") or {}).get("certificateRefs")) or []
                covered = False
                for c in refs:
                    cert = certificates.get((c.get("namespace", gns), c.get("name")))
                    if cert is None:
                        continue
                    names = list((cert.get("spec") or {}).get("dnsNames") or [])
                    if (cert.get("spec") or {}).get("commonName"):
                        names.append(cert["spec"]["commonName"])
                    issuer = (cert.get("spec") or {}).get("issuerRef") or {}
                    if issuer.get("kind") == "ClusterIssuer" and issuer.get("name") not in issuers:
                        problems.append(Problem("https", "Certificate %s/%s" % (gns, md(cert).get("name")),
                                                "its ClusterIssuer %s is not in the tree" % issuer.get("name")))
                    if any(host_covers(n, host) for n in names):
                        covered = True
                if not covered:
                    problems.append(Problem("https", where, "host %s is in no certificate of listener %s (its "
                                                            "Secret is not a Certificate naming the host)"
                                            % (host, l.get("name"))))
            # HTTP on the same Gateway redirects to HTTPS.
            redirected = False
            for r in by("HTTPRoute"):
                for rule in (r.get("spec") or {}).get("rules") or []:
                    for f in rule.get("filters") or []:
                        if f.get("type") == "RequestRedirect" and (f.get("requestRedirect") or {}).get("scheme") == "https":
                            rh = (r.get("spec") or {}).get("hostnames") or []
                            if not rh or any(host_matches(h, host) for h in rh):
                                redirected = True
            if not redirected:
                problems.append(Problem("https", where, "http://%s is not redirected to HTTPS" % host))
        for rule in (route.get("spec") or {}).get("rules") or []:
            for b in rule.get("backendRefs") or []:
                if b.get("kind", "Service") != "Service":
                    continue
                bns = b.get("namespace", rns)
                if ("Service", bns, b.get("name")) not in made and bns not in helm_namespaces:
                    problems.append(Problem("https", where, "backend Service %s/%s: nothing creates it"
                                            % (bns, b.get("name"))))


def check(regions, data):
    problems = []
    for region in regions:
        problems += getattr(region, "build_problems", [])
        check_schemas(region, data, problems)
        check_values(region, data, problems)
        check_wiring(region, data, problems)
        check_https(region, problems)
    return problems


def mutable(regions):
    return copy.deepcopy(regions)
