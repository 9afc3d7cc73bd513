"""The contract tests of a Sovereign's platform, offline: the sample Sovereigns (tests/contracts/samples:
one region and three, HA off and on) built as their clusters would hold them pass every check of
sovereign.py, and each kind of mistake seeded into a copy is reported.

Run by scripts/contracts.sh (part of scripts/test.sh). The tree of each sample comes from
`catalyst gitops render` when CONTRACTS_RENDER=catalyst (CATALYST_BIN names the binary), or from
clusters/_template as it is when CONTRACTS_RENDER=template.
"""

import base64
import copy
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import sovereign as s

SAMPLES = os.path.join(s.HERE, "samples")


def fqdn_of(request):
    d = request["domain"]
    return ("%s.%s" % (d["subdomain"], d["poolDomain"]) if d["mode"] == "pool" else d["byoDomain"]).lower()


def render(sample, out):
    """Writes the sample's tree to out/clusters/<fqdn>/ and returns (fqdn, request)."""
    with open(os.path.join(SAMPLES, sample)) as f:
        request = json.load(f)
    fqdn = fqdn_of(request)
    mode = os.environ.get("CONTRACTS_RENDER", "template")
    if mode == "catalyst":
        binary = os.environ["CATALYST_BIN"]
        subprocess.run([binary, "gitops", "render", "--request", os.path.join(SAMPLES, sample), "--out", out,
                        "--catalog-dir", os.path.join(s.ROOT, "platform"),
                        "--gitops-template-dir", os.path.join(s.ROOT, "clusters", "_template")],
                       check=True, capture_output=True, text=True)
    elif mode == "template":
        shutil.copytree(os.path.join(s.ROOT, "clusters", "_template"), os.path.join(out, "clusters", fqdn))
    else:
        raise AssertionError("CONTRACTS_RENDER must be catalyst or template, not %r" % mode)
    return fqdn, request


# The Sovereign's own console is an empty slot until Catalyst's chart exists (platform/catalyst-platform):
# this fills it with a chart reference that is never fetched, to prove the wiring of https://console.<fqdn>.
CONSOLE_CHART = """
chart:
  repository: oci://contracts.invalid/charts
  name: catalyst
  version: "0.0.0-contracts"
  namespace: catalyst-system
"""


def render_with_console(sample, out):
    """The sample with the catalyst-platform slot filled and selected (catalyst render only)."""
    catalog = os.path.join(out, "platform")
    shutil.copytree(os.path.join(s.ROOT, "platform"), catalog)
    with open(os.path.join(catalog, "catalyst-platform", "blueprint.yaml"), "a") as f:
        f.write(CONSOLE_CHART)
    with open(os.path.join(SAMPLES, sample)) as f:
        request = json.load(f)
    request["components"] = list(request.get("components") or []) + ["catalyst-platform"]
    path = os.path.join(out, "request.json")
    with open(path, "w") as f:
        json.dump(request, f)
    subprocess.run([os.environ["CATALYST_BIN"], "gitops", "render", "--request", path, "--out", out,
                    "--catalog-dir", catalog, "--gitops-template-dir", os.path.join(s.ROOT, "clusters", "_template")],
                   check=True, capture_output=True, text=True)
    fqdn = fqdn_of(request)
    return fqdn, request, s.build(out, fqdn, request)


def render_everything(sample, out):
    """The sample with every component of the catalog selected (catalyst render only): the optional ones
    are in no sample, and their values are checked against their charts too."""
    import yaml
    with open(os.path.join(SAMPLES, sample)) as f:
        request = json.load(f)
    ids = []
    for entry in sorted(os.listdir(os.path.join(s.ROOT, "platform"))):
        bp = os.path.join(s.ROOT, "platform", entry, "blueprint.yaml")
        if os.path.isfile(bp):
            with open(bp) as f:
                doc = yaml.safe_load(f)
            if doc.get("chart"):
                ids.append(doc["id"])
    request["components"] = ids
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "request.json")
    with open(path, "w") as f:
        json.dump(request, f)
    subprocess.run([os.environ["CATALYST_BIN"], "gitops", "render", "--request", path, "--out", out,
                    "--catalog-dir", os.path.join(s.ROOT, "platform"),
                    "--gitops-template-dir", os.path.join(s.ROOT, "clusters", "_template")],
                   check=True, capture_output=True, text=True)
    fqdn = fqdn_of(request)
    return request, s.build(out, fqdn, request)


# What the DNS-01 mode reads from each region beyond the tree (clusters/_template/README.md "Certificates"):
# the Sovereign's TSIG key and where PowerDNS takes its updates. The DNS issue provides them through the module.
TSIG_SETTINGS = ("SOVEREIGN_DNS_SERVER", "SOVEREIGN_DNS_TSIG_KEYNAME")
TSIG_SECRETS = (("cert-manager", "sovereign-dns-tsig"), ("external-dns", "sovereign-dns-tsig"))


def tsig_inputs(region_key):
    settings = {"SOVEREIGN_DNS_SERVER": "ns1.example.net", "SOVEREIGN_DNS_TSIG_KEYNAME": "sovereign-key."}
    secrets = [{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": name, "namespace": ns}, "stringData": {"secret": "c2VjcmV0"}}
               for ns, name in TSIG_SECRETS]
    return settings, secrets


class Samples(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="catalyst-contracts-")
        cls.data = s.Data.load()
        cls.built = {}
        for sample in sorted(os.listdir(SAMPLES)):
            if sample.endswith(".json"):
                out = os.path.join(cls.tmp, sample[:-5])
                fqdn, request = render(sample, out)
                cls.built[sample] = (out, fqdn, request, s.build(out, fqdn, request))
        cls.console = cls.everything = None
        if os.environ.get("CONTRACTS_RENDER") == "catalyst":
            cls.console = render_with_console("three-regions-ha.json", os.path.join(cls.tmp, "console"))
            cls.everything = render_everything("one-region.json", os.path.join(cls.tmp, "everything"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_every_sample_passes_every_check(self):
        self.assertEqual(len(self.built), 4, "one region and three, HA off and on")
        for sample, (_, fqdn, request, regions) in sorted(self.built.items()):
            with self.subTest(sample=sample):
                self.assertEqual(len(regions), len(request["regions"]))
                problems = s.check(regions, self.data)
                self.assertEqual([], [str(p) for p in problems])
                kinds = {o["kind"] for r in regions for o in r.objects}
                self.assertIn("HelmRelease", kinds)
                # What the regions differ by comes from the module, one value per region.
                self.assertEqual(len({r.settings["SOVEREIGN_REGION_KEY"] for r in regions}), len(regions))
                self.assertEqual({r.settings["SOVEREIGN_FQDN"] for r in regions}, {fqdn})

    def test_every_public_region_serves_its_hosts_over_https(self):
        for sample, (_, fqdn, request, regions) in sorted(self.built.items()):
            for region in regions:
                with self.subTest(sample=sample, region=region.key):
                    hosts = {h for _, hs in s.route_hosts(region) for h in hs}
                    self.assertIn("auth." + fqdn, hosts)
                    self.assertIn("grafana." + fqdn, hosts)
                    if region.load_balancer is None:
                        self.assertTrue(any(r.get("airgap") for r in request["regions"]))
                        continue
                    self.assertEqual({p: f[1] for p, f in region.load_balancer["forwards"].items()},
                                     {80: 31080, 443: 31443})
                    problems = []
                    s.check_https(region, problems)
                    self.assertEqual([], [str(p) for p in problems])

    def test_the_console_is_reachable_over_https_once_its_chart_exists(self):
        if self.console is None:
            self.skipTest("needs CONTRACTS_RENDER=catalyst (the slot is filled in a copy of the catalog)")
        fqdn, request, regions = self.console
        self.assertEqual([], [str(p) for p in s.check(regions, self.data)])
        public = [r for r in regions if r.load_balancer is not None]
        self.assertEqual(len(public), 2, "three regions, one of them air-gapped")
        for region in public:
            routes = [r for r, hosts in s.route_hosts(region) if "console." + fqdn in hosts]
            self.assertEqual(len(routes), 1, region.key)
            self.assertEqual(routes[0]["spec"]["parentRefs"][0].get("sectionName"), "https")
            certs = [c for c in region.objects if c.get("kind") == "Certificate"
                     and "console." + fqdn in c["spec"].get("dnsNames", [])]
            self.assertEqual(len(certs), 1, "one certificate per Sovereign names the console")
        # The same Sovereign without the console's route in its certificate fails the https check.
        regions = copy.deepcopy(regions)
        cert = next(c for c in regions[0].objects if c.get("kind") == "Certificate")
        cert["spec"]["dnsNames"] = [n for n in cert["spec"]["dnsNames"] if not n.startswith("console.")]
        self.assertReported(regions, self.data, "https", "host console.%s is in no certificate" % fqdn)

    def test_a_sovereign_with_every_component_passes_every_check(self):
        if self.everything is None:
            self.skipTest("needs CONTRACTS_RENDER=catalyst (renders a request selecting every component)")
        request, regions = self.everything
        # Every check, not only the values: the optional components' wiring too.
        self.assertEqual([], [str(p) for p in s.check(regions, self.data)])
        releases = [o for r in regions for o in r.objects if o.get("kind") == "HelmRelease"]
        checked = [o for o in releases if (o["spec"]["chart"]["spec"]["chart"],
                                           str(o["spec"]["chart"]["spec"]["version"])) in self.data.charts]
        # The generic chart of the upstreams without one, optional ones included, is among them.
        self.assertEqual(len([o for o in checked if o["spec"]["chart"]["spec"]["chart"] == "app-template"]), 10)

    def test_required_stays_where_it_picks_a_branch(self):
        schema = {"type": "object", "properties": {"a": {"type": "string"}, "x": {"type": "string"}},
                  "required": ["a"], "not": {"anyOf": [{"required": ["x"]}]}}
        relaxed = s.without_required(schema)
        import jsonschema
        self.assertEqual([], list(jsonschema.Draft7Validator(relaxed).iter_errors({})), "defaults may hold a")
        self.assertTrue(list(jsonschema.Draft7Validator(relaxed).iter_errors({"x": "1"})), "x is excluded")

    def test_seeded_app_template_mistakes_are_reported(self):
        regions = self.one_region()
        hr = self.release(regions[0], "bp-coraza")
        main = hr["spec"]["values"]["controllers"]["main"]["containers"]["main"]
        main["resourcess"] = main.pop("resources")
        self.assertReported(regions, self.data, "values", "'resourcess' was unexpected")
        regions = self.one_region()
        self.release(regions[0], "bp-coraza")["spec"]["values"]["servce"] = {"main": {"controller": "main"}}
        self.assertReported(regions, self.data, "values", "servce.main.controller is not a value of chart app-template 4.1.1")

    def test_the_dns01_tree_needs_only_the_tsig_inputs(self):
        if os.environ.get("CONTRACTS_RENDER") != "catalyst":
            self.skipTest("needs CONTRACTS_RENDER=catalyst (renders with --dns01)")
        sample = "three-regions-ha.json"
        out = os.path.join(self.tmp, "dns01")
        subprocess.run([os.environ["CATALYST_BIN"], "gitops", "render", "--request", os.path.join(SAMPLES, sample),
                        "--out", out, "--dns01", "--catalog-dir", os.path.join(s.ROOT, "platform"),
                        "--gitops-template-dir", os.path.join(s.ROOT, "clusters", "_template")],
                       check=True, capture_output=True, text=True)
        _, fqdn, request, _ = self.built[sample]
        # As the module is: whatever is missing is one of the TSIG inputs, nothing else.
        regions = s.build(out, fqdn, request)
        words = TSIG_SETTINGS + tuple("%s/%s" % x for x in TSIG_SECRETS)
        problems = [str(p) for p in s.check(regions, self.data)]
        self.assertEqual([], [p for p in problems if not any(w in p for w in words)])
        # With them (what the DNS issue adds to cloud-init): nothing is missing; one wildcard certificate.
        regions = s.build(out, fqdn, request, cloud_init_extra=tsig_inputs)
        self.assertEqual([], [str(p) for p in s.check(regions, self.data)])
        for region in regions:
            certs = [c for c in region.objects if c.get("kind") == "Certificate"]
            self.assertEqual(len(certs), 1)
            self.assertEqual(sorted(certs[0]["spec"]["dnsNames"]), sorted([fqdn, "*." + fqdn]))
        # Without the issuers' Secret the wiring check says so.
        regions = s.build(out, fqdn, request, cloud_init_extra=lambda k: (tsig_inputs(k)[0], tsig_inputs(k)[1][1:]))
        self.assertReported(regions, self.data, "wiring",
                            "tsigSecretSecretRef reads Secret cert-manager/sovereign-dns-tsig, which nothing")

    def test_charts_without_data_are_only_those_listed_with_a_reason(self):
        data = s.Data.load()
        used = set()
        for _, _, _, regions in self.built.values():
            s.check(regions, data)
            for o in (o for r in regions for o in r.objects if o.get("kind") == "HelmRelease"):
                chart = o["spec"]["chart"]["spec"]
                used.add("%s %s" % (chart["chart"], chart["version"]))
        for label in data.missing:
            name, version = label.split(" ")
            self.assertIn(label, used, "charts/missing.json lists %s, which no HelmRelease installs: remove it" % label)
            self.assertFalse((name, version) in data.charts, "%s has data now: remove it from missing.json" % label)


    # --- each check can fail ---------------------------------------------------------------------------------

    def one_region(self):
        _, _, _, regions = self.built["one-region.json"]
        return copy.deepcopy(regions)

    def release(self, region, name):
        return next(o for o in region.objects if o.get("kind") == "HelmRelease" and o["metadata"]["name"] == name)

    def assertReported(self, regions, data, check, words):
        problems = [str(p) for p in s.check(regions, data)]
        hits = [p for p in problems if p.startswith("[%s]" % check) and words in p]
        self.assertTrue(hits, "expected a [%s] problem with %r, got:\n%s" % (check, words, "\n".join(problems)))

    def fixture_data(self):
        """The test data plus a small chart made here (not an upstream one): defaults and a schema."""
        data = s.Data.load()
        data.charts[("fixture", "1.0.0")] = {
            "name": "fixture", "version": "1.0.0",
            "defaults": {"replicaCount": "number", "podAnnotations": {}, "service": {"port": "number"},
                         "existingSecret": "string", "ingress": {"host": "string"}},
            "referenced": [["resources"]],
            "schema": {"type": "object", "properties": {"replicaCount": {"type": "integer", "minimum": 1}}},
        }
        return data

    def with_fixture_release(self, region, values):
        hr = copy.deepcopy(self.release(region, "bp-cert-manager"))
        hr["metadata"]["name"] = "bp-fixture"
        hr["spec"]["chart"]["spec"]["chart"] = "fixture"
        hr["spec"]["chart"]["spec"]["version"] = "1.0.0"
        hr["spec"]["values"] = values
        hr["spec"]["targetNamespace"] = "fixture"
        hr["spec"].pop("dependsOn", None)
        region.objects.append(hr)
        return hr

    def test_seeded_unknown_values_key_is_reported(self):
        regions = self.one_region()
        data = self.fixture_data()
        self.with_fixture_release(regions[0], {"replicaCount": 2, "podAnnotations": {"a": "b"},
                                               "servce": {"port": 80}})
        self.assertReported(regions, data, "values", "servce.port is not a value of chart fixture 1.0.0")
        problems = [str(p) for p in s.check(regions, data)]
        self.assertFalse([p for p in problems if "podAnnotations" in p], "an open map takes any key")
        # A key the templates read is a value even when values.yaml has it only in a comment.
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"resources": {"requests": {"cpu": "10m"}}})
        problems = [str(p) for p in s.check(regions, data)]
        self.assertFalse([p for p in problems if "resources" in p], problems)

    def test_seeded_values_failing_the_chart_schema_are_reported(self):
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"replicaCount": 0})
        self.assertReported(regions, self.fixture_data(), "values", "values.schema.json: replicaCount")

    def test_seeded_values_of_a_chart_without_data_are_reported(self):
        regions = self.one_region()
        hr = self.with_fixture_release(regions[0], {"replicaCount": 2})
        hr["spec"]["chart"]["spec"]["version"] = "9.9.9"
        self.assertReported(regions, self.fixture_data(), "values", "no chart data for fixture 9.9.9")

    def test_seeded_schema_invalid_fields_are_reported(self):
        regions = self.one_region()
        self.release(regions[0], "bp-cert-manager")["spec"]["interval"] = 5
        self.assertReported(regions, self.data, "schema", "spec/interval: 5 is not of type 'string'")
        regions = self.one_region()
        self.release(regions[0], "bp-cert-manager")["spec"]["dependsOnn"] = [{"name": "bp-cilium"}]
        self.assertReported(regions, self.data, "schema", "'dependsOnn' was unexpected")
        regions = self.one_region()
        regions[0].objects.append({"apiVersion": "v1", "kind": "ConfigMap", "_origin": "bootstrap-kit",
                                   "metadata": {"name": "x", "namespace": "default"}, "data": {"n": 1}})
        self.assertReported(regions, self.data, "schema", "ConfigMap default/x")
        regions = self.one_region()
        regions[0].objects.append({"apiVersion": "v1", "kind": "Namespace", "_origin": "bootstrap-kit",
                                   "metadata": {"name": "x"}, "spc": {}})
        self.assertReported(regions, self.data, "schema", "Namespace x [bootstrap-kit]: (root): Additional "
                                                          "properties are not allowed ('spc' was unexpected)")
        regions = self.one_region()
        regions[0].objects.append({"apiVersion": "example.com/v1", "kind": "Widget", "_origin": "bootstrap-kit",
                                   "metadata": {"name": "w"}})
        self.assertReported(regions, self.data, "schema", "no schema for example.com/v1 Widget")

    def test_seeded_dangling_secret_reference_is_reported(self):
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"existingSecret": "fixture-credentials"})
        self.assertReported(regions, self.fixture_data(), "wiring",
                            "existingSecret reads Secret fixture/fixture-credentials, which nothing")
        # Produced by something in the tree: no problem.
        regions[0].objects.append({"apiVersion": "external-secrets.io/v1beta1", "kind": "ExternalSecret",
                                   "_origin": "bootstrap-kit",
                                   "metadata": {"name": "fixture-credentials", "namespace": "fixture"},
                                   "spec": {"secretStoreRef": {"kind": "ClusterSecretStore", "name": "openbao"},
                                            "target": {"name": "fixture-credentials"}}})
        problems = [str(p) for p in s.check(regions, self.fixture_data())]
        self.assertFalse([p for p in problems if "fixture-credentials, which nothing" in p], problems)

    def test_seeded_dangling_object_references_are_reported(self):
        regions = self.one_region()
        self.release(regions[0], "bp-cert-manager")["spec"]["chart"]["spec"]["sourceRef"]["name"] = "bp-nowhere"
        self.assertReported(regions, self.data, "wiring",
                            "spec.chart.spec.sourceRef names HelmRepository flux-system/bp-nowhere, which nothing")
        regions = self.one_region()
        self.release(regions[0], "bp-cert-manager")["spec"]["valuesFrom"] = [{"kind": "Secret", "name": "cm-extra"}]
        self.assertReported(regions, self.data, "wiring", "spec.valuesFrom[0] names Secret flux-system/cm-extra")

    def test_seeded_hostname_outside_the_sovereign_is_reported(self):
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"ingress": {"host": "grafana.example.org"}})
        self.assertReported(regions, self.fixture_data(), "wiring",
                            "host grafana.example.org is not under the Sovereign's domain one-region.omani.works")
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"ingress": {"host": "grafana.one-region.omani.works"}})
        problems = [str(p) for p in s.check(regions, self.fixture_data())]
        self.assertFalse([p for p in problems if "not under the Sovereign" in p], problems)
        # A cluster-internal name must name a Service something makes.
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"ingress": {"host": "db-rw.nowhere.svc:5432"}})
        self.assertReported(regions, self.fixture_data(), "wiring", "no Service db-rw in namespace nowhere")
        regions = self.one_region()
        self.with_fixture_release(regions[0], {"ingress": {"host": "cert-manager.cert-manager.svc:443"}})
        problems = [str(p) for p in s.check(regions, self.fixture_data())]
        self.assertFalse([p for p in problems if "no Service" in p], problems)

    def test_seeded_custom_resource_without_dependency_on_its_crd_is_reported(self):
        regions = self.one_region()
        region = regions[0]
        issuer = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
                  "metadata": {"name": "letsencrypt"},
                  "spec": {"selfSigned": {}}}
        # In the unit that also holds bp-cert-manager: the CRD does not exist when the unit is applied.
        unit_key, unit = next((k, u) for k, u in region.units.items()
                              if any(o.get("kind") == "HelmRelease" and o["metadata"]["name"] == "bp-cert-manager"
                                     for o in u.objects))
        issuer["_origin"] = unit.name
        unit.objects.append(issuer)
        region.objects.append(issuer)
        self.assertReported(regions, self.data, "wiring",
                            "cert-manager.io/ClusterIssuer needs the CRD that HelmRelease bp-cert-manager installs")

    def test_seeded_crd_installer_that_does_not_wait_is_reported(self):
        regions = self.one_region()
        region = regions[0]
        issuer = {"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer", "metadata": {"name": "le"},
                  "spec": {"selfSigned": {}}}
        holder = next(u for u in region.units.values()
                      if any(o.get("kind") == "HelmRelease" and o["metadata"]["name"] == "bp-cert-manager"
                             for o in u.objects))
        later = next(u for u in region.units.values() if (holder.namespace, holder.name) in u.depends_on)
        issuer["_origin"] = later.name
        later.objects.append(issuer)
        region.objects.append(issuer)
        self.assertEqual([], [str(p) for p in s.check(copy.deepcopy(regions), self.data)
                              if "ClusterIssuer" in str(p)], "waits: fine")
        holder.obj["spec"]["wait"] = False
        self.assertReported(regions, self.data, "wiring", "holds bp-cert-manager but neither waits")

    def test_seeded_depends_on_cycle_is_reported(self):
        regions = self.one_region()
        region = regions[0]
        a, b = self.release(region, "bp-cert-manager"), self.release(region, "bp-cilium")
        a["spec"]["dependsOn"] = [{"name": "bp-cilium"}]
        b["spec"]["dependsOn"] = [{"name": "bp-cert-manager"}]
        self.assertReported(regions, self.data, "wiring", "dependsOn cycle")
        regions = self.one_region()
        self.release(regions[0], "bp-cilium")["spec"]["dependsOn"] = [{"name": "bp-nothing"}]
        self.assertReported(regions, self.data, "wiring", "dependsOn flux-system/bp-nothing, which does not exist")

    def test_seeded_https_breaks_are_reported(self):
        _, fqdn, _, _ = self.built["one-region.json"]
        gitea = "gitea." + fqdn

        def route(region, name):
            return next(o for o in region.objects if o.get("kind") == "HTTPRoute" and o["metadata"]["name"] == name)

        def one(kind, region):
            return next(o for o in region.objects if o.get("kind") == kind)

        cases = [
            ("the certificate misses a host",
             lambda r: one("Certificate", r)["spec"].update(
                 dnsNames=[n for n in one("Certificate", r)["spec"]["dnsNames"] if n != gitea]),
             "host %s is in no certificate" % gitea),
            ("the load balancer forwards 443 elsewhere",
             lambda r: r.load_balancer["forwards"].update({443: ("tcp", 30443)}),
             "forwards 443 to tcp port 30443"),
            ("the load balancer does not forward 80",
             lambda r: r.load_balancer["forwards"].pop(80),
             "does not forward port 80"),
            ("the Gateway's Service is not a NodePort",
             lambda r: one("EnvoyProxy", r)["spec"]["provider"]["kubernetes"]["envoyService"].update(
                 type="LoadBalancer"),
             "not a NodePort"),
            ("a route on the HTTP listener only",
             lambda r: route(r, "gitea")["spec"]["parentRefs"][0].update(sectionName="http"),
             "is attached to no HTTPS listener"),
            ("a host the listener does not match",
             lambda r: route(r, "gitea")["spec"].update(hostnames=["gitea.elsewhere.example"]),
             "host gitea.elsewhere.example matches no HTTPS listener"),
            ("no redirect to HTTPS",
             lambda r: r.objects.remove(route(r, "https-redirect")),
             "http://%s is not redirected to HTTPS" % gitea),
            ("a certificate from an issuer that is not there",
             lambda r: one("Certificate", r)["spec"]["issuerRef"].update(name="letsencrypt-nowhere"),
             "ClusterIssuer letsencrypt-nowhere is not in the tree"),
            ("a backend nothing creates",
             lambda r: route(r, "gitea")["spec"]["rules"][0]["backendRefs"][0].update(namespace="nowhere"),
             "backend Service nowhere/gitea-http"),
        ]
        for what, seed, words in cases:
            with self.subTest(what):
                regions = self.one_region()
                seed(regions[0])
                self.assertReported(regions, self.data, "https", words)

    def test_seeded_unset_substitution_variable_is_reported(self):
        out, fqdn, request, _ = self.built["one-region.json"]
        broken = os.path.join(self.tmp, "broken-substitution")
        shutil.copytree(out, broken)
        kit = os.path.join(broken, "clusters", fqdn, "flux-system", "sync.yaml")
        with open(kit) as f:
            text = f.read()
        with open(kit, "w") as f:
            f.write(text.replace("interval: 10m", "interval: ${SOVEREIGN_INTERVALL}", 1))
        regions = s.build(broken, fqdn, request)
        self.assertReported(regions, self.data, "substitution", "${SOVEREIGN_INTERVALL} has no value")

    def test_substitution_follows_flux(self):
        problems = []
        got = s.substitute("a ${X} b ${Y:=dflt} c $${Z} d ${W:-w}", {"X": "1"}, "t", problems)
        self.assertEqual(got, "a 1 b dflt c ${Z} d w")
        self.assertEqual(problems, [])


# A deploy key in the shape Catalyst makes (OpenSSH, never used: no cluster pulls here).
DEPLOY_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-contracts-only\n-----END OPENSSH PRIVATE KEY-----\n"
KNOWN_HOSTS = "git.example.net ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGxhY2tzIGEgcmVhbCBrZXkgYnV0IGlzIHdlbGwgZm9ybWVk\n"


class GitopsCredentials(unittest.TestCase):
    """How the Sovereign's Flux pulls its tree (SECURITY.md "GitOps isolation"), from infra/hetzner itself."""

    def flux_auth(self, **overrides):
        with open(os.path.join(SAMPLES, "three-regions-ha.json")) as f:
            request = json.load(f)
        tfvars = s.tfvars_for(request, fqdn_of(request))
        tfvars.update(overrides)
        out = {}
        for key, objects in s.cloud_init_objects(tfvars).items():
            repo = [o for o in objects if o.get("kind") == "GitRepository"]
            secrets = [o for o in objects if o.get("kind") == "Secret" and o["metadata"].get("name") == "gitops-auth"]
            self.assertEqual(len(repo), 1, key)
            self.assertLessEqual(len(secrets), 1, key)
            out[key] = (repo[0]["spec"], secrets[0]["data"] if secrets else None)
        return out

    def test_a_deploy_key_pulls_the_sovereigns_own_repository_over_ssh(self):
        url = "ssh://git@git.example.net:2222/sovereigns/sovereign-acme.omani.works.git"
        got = self.flux_auth(gitops_repo_url=url, gitops_token="", gitops_ssh_private_key=DEPLOY_KEY,
                             gitops_ssh_known_hosts=KNOWN_HOSTS)
        for key, (spec, data) in got.items():
            self.assertEqual(spec["url"], url, key)
            self.assertEqual(spec["secretRef"], {"name": "gitops-auth"}, key)
            self.assertEqual(sorted(data), ["identity", "known_hosts"], key)
            self.assertEqual(base64.b64decode(data["identity"]).decode(), DEPLOY_KEY)
            self.assertEqual(base64.b64decode(data["known_hosts"]).decode(), KNOWN_HOSTS)

    def test_https_keeps_basic_auth_and_a_public_repository_needs_no_secret(self):
        for key, (spec, data) in self.flux_auth().items():
            self.assertTrue(spec["url"].startswith("https://"), key)
            self.assertEqual(sorted(data), ["password", "username"], key)
        for key, (spec, data) in self.flux_auth(gitops_token="").items():
            self.assertNotIn("secretRef", spec, key)
            self.assertIsNone(data, key)


if __name__ == "__main__":
    unittest.main()
