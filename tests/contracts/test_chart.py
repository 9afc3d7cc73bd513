"""Catalyst's own Helm chart (charts/catalyst), rendered offline (helm.py) for a few value sets and held to the
Kubernetes 1.31 schemas and the CRDs here (sovereign.check_schemas), plus what the chart promises: non-root, a
read-only root filesystem with scratch space, probes on /healthz and /readyz, every option of `catalyst` as a
value (values.schema.json, generated from the CLI by server/tests/it/configuration.rs), secrets only by
reference, the console's route for /sovereign and /redeem."""

import copy
import json
import os
import types
import unittest

import helm
import sovereign

CHART = os.path.join(sovereign.HERE, "..", "..", "charts", "catalyst")

MINIMAL = {
    "database": {"existingSecret": "catalyst-db"},
    "secretKey": {"existingSecret": "catalyst-secret-key"},
}


def config_schema():
    with open(os.path.join(CHART, "values.schema.json")) as f:
        return json.load(f)["properties"]["config"]["properties"]


def every_option():
    """A value for every option the chart takes (the ones the chart sets itself are refused by the schema)."""
    out = {}
    for flag, prop in config_schema().items():
        if "not" in prop:
            continue
        if prop.get("type") == "boolean":
            out[flag] = True
        elif prop.get("type") == "object":
            out[flag] = {"secretName": "catalyst-" + flag, "key": "value"}
        elif "enum" in prop:
            out[flag] = prop["enum"][-1]
        else:
            out[flag] = "value-of-" + flag
    return out


FULL = {
    "database": {"cnpg": {"enabled": True, "instances": 2, "storageClass": "hcloud-volumes"}},
    "secretKey": {"existingSecret": "catalyst-secret-key", "key": "key"},
    "config": every_option(),
    "httpRoute": {"enabled": True, "host": "console.example.com",
                  "parentRefs": [{"name": "sovereign", "namespace": "envoy-gateway-system", "sectionName": "https"}]},
    "networkPolicy": {"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}}}]},
    "extraEnv": [{"name": "CATALYST_PDNS_API_KEY", "valueFrom": {"secretKeyRef": {"name": "pdns", "key": "api-key"}}}],
    "metrics": {"enabled": True, "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}]},
    "podAnnotations": {"example.com/a": "b"},
    "imagePullSecrets": [{"name": "registry"}],
}

SINGLE = {
    "replicaCount": 1,
    "database": {"existingSecret": "catalyst-db", "key": "url"},
    "secretKey": {"existingSecret": "catalyst-secret-key"},
    "ingress": {"enabled": True, "className": "nginx", "host": "console.example.com", "tlsSecretName": "console-tls"},
    "podDisruptionBudget": {"enabled": False},
    "topologySpread": {"enabled": False},
    "networkPolicy": {"enabled": False},
    "serviceAccount": {"create": False},
    "config": {"lease-ttl": "45s", "trust-forwarded-for": None},
}

VALUE_SETS = {"minimal": MINIMAL, "full": FULL, "single": SINGLE}


def schema_problems(objects):
    problems = []
    sovereign.check_schemas(types.SimpleNamespace(objects=objects), DATA, problems)
    return problems


def by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def deployment(objects):
    (d,) = by_kind(objects, "Deployment")
    return d


def env_of(objects):
    (c,) = deployment(objects)["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e for e in c["env"]}


DATA = sovereign.Data.load()


class ChartRenders(unittest.TestCase):
    def test_every_value_set_validates_against_the_kubernetes_schemas(self):
        for name, values in VALUE_SETS.items():
            with self.subTest(values=name):
                objects = helm.render(CHART, values)
                self.assertEqual(schema_problems(objects), [])
                kinds = sorted(o["kind"] for o in objects)
                self.assertIn("Deployment", kinds)
                self.assertIn("Service", kinds)
                self.assertNotIn("Secret", kinds, "the chart never generates a Secret (it would end up in Git)")

    def test_the_pod_is_non_root_with_a_read_only_root_and_scratch_space(self):
        for name, values in VALUE_SETS.items():
            with self.subTest(values=name):
                pod = deployment(helm.render(CHART, values))["spec"]["template"]["spec"]
                (c,) = pod["containers"]
                self.assertTrue(pod["securityContext"]["runAsNonRoot"])
                self.assertTrue(c["securityContext"]["readOnlyRootFilesystem"])
                self.assertFalse(c["securityContext"]["allowPrivilegeEscalation"])
                self.assertEqual(c["securityContext"]["capabilities"]["drop"], ["ALL"])
                mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
                volumes = {v["name"]: v for v in pod["volumes"]}
                for path in ("/var/lib/catalyst", "/tmp"):
                    self.assertIn("emptyDir", volumes[mounts[path]], path)
                env = env_of(helm.render(CHART, values))
                self.assertTrue(env["CATALYST_DATA_DIR"]["value"].startswith("/var/lib/catalyst/"))
                self.assertEqual(c["readinessProbe"]["httpGet"]["path"], "/readyz")
                self.assertEqual(c["livenessProbe"]["httpGet"]["path"], "/healthz")
                self.assertEqual(c["startupProbe"]["httpGet"]["path"], "/healthz")

    def test_every_option_reaches_the_process_as_its_environment_variable(self):
        env = env_of(helm.render(CHART, FULL))
        for flag, value in FULL["config"].items():
            name = "CATALYST_" + flag.upper().replace("-", "_")
            self.assertIn(name, env, flag)
            if isinstance(value, dict):
                self.assertEqual(env[name]["valueFrom"]["secretKeyRef"], {"name": value["secretName"], "key": "value"},
                                 "%s comes from its Secret" % flag)
                self.assertNotIn("value", env[name])
            else:
                self.assertEqual(env[name]["value"], "true" if value is True else value, flag)
        self.assertEqual(env["CATALYST_DATABASE_URL"]["valueFrom"]["secretKeyRef"], {"name": "catalyst-db-app", "key": "uri"})
        self.assertEqual(env["CATALYST_SECRET_KEY_FILE"]["value"], "/var/run/secrets/catalyst/secret.key")
        self.assertIn("CATALYST_PDNS_API_KEY", env)
        self.assertEqual(env["CATALYST_METRICS_BIND"]["value"], "0.0.0.0:9090")
        self.assertNotIn("CATALYST_METRICS_BIND", env_of(helm.render(CHART, MINIMAL)), "metrics are off by default")
        single = env_of(helm.render(CHART, SINGLE))
        self.assertEqual(single["CATALYST_DATABASE_URL"]["valueFrom"]["secretKeyRef"], {"name": "catalyst-db", "key": "url"})
        self.assertEqual(single["CATALYST_LEASE_TTL"]["value"], "45s")
        self.assertNotIn("CATALYST_TRUST_FORWARDED_FOR", single, "null removes a default")

    def test_the_secret_key_is_mounted_from_the_existing_secret(self):
        pod = deployment(helm.render(CHART, FULL))["spec"]["template"]["spec"]
        (vol,) = [v for v in pod["volumes"] if v["name"] == "secret-key"]
        self.assertEqual(vol["secret"]["secretName"], "catalyst-secret-key")
        self.assertEqual(vol["secret"]["items"], [{"key": "key", "path": "secret.key"}])

    def test_the_console_is_routed_at_sovereign_and_redeem(self):
        (route,) = by_kind(helm.render(CHART, FULL), "HTTPRoute")
        self.assertEqual(route["spec"]["hostnames"], ["console.example.com"])
        paths = [m["path"]["value"] for r in route["spec"]["rules"] for m in r["matches"]]
        self.assertEqual(sorted(paths), ["/redeem", "/sovereign"])
        self.assertEqual(route["spec"]["parentRefs"][0]["sectionName"], "https")
        (ingress,) = by_kind(helm.render(CHART, SINGLE), "Ingress")
        self.assertEqual(sorted(p["path"] for p in ingress["spec"]["rules"][0]["http"]["paths"]), ["/redeem", "/sovereign"])
        self.assertEqual(ingress["spec"]["tls"][0]["secretName"], "console-tls")
        self.assertEqual(by_kind(helm.render(CHART, MINIMAL), "HTTPRoute"), [])

    def test_replicas_spread_and_keep_a_budget(self):
        objects = helm.render(CHART, MINIMAL)
        d = deployment(objects)
        self.assertEqual(d["spec"]["replicas"], 3)
        keys = [c["topologyKey"] for c in d["spec"]["template"]["spec"]["topologySpreadConstraints"]]
        self.assertEqual(keys, ["kubernetes.io/hostname", "topology.kubernetes.io/zone"])
        (pdb,) = by_kind(objects, "PodDisruptionBudget")
        self.assertEqual(pdb["spec"]["selector"]["matchLabels"], d["spec"]["selector"]["matchLabels"])
        (np,) = by_kind(objects, "NetworkPolicy")
        self.assertEqual(np["spec"]["podSelector"]["matchLabels"], d["spec"]["selector"]["matchLabels"])
        self.assertEqual(by_kind(helm.render(CHART, SINGLE), "PodDisruptionBudget"), [])

    def test_named_ports_are_the_container_s(self):
        for name, values in VALUE_SETS.items():
            with self.subTest(values=name):
                objects = helm.render(CHART, values)
                (c,) = deployment(objects)["spec"]["template"]["spec"]["containers"]
                ports = {p["name"] for p in c["ports"]}
                named = [p["targetPort"] for s in by_kind(objects, "Service") for p in s["spec"]["ports"]]
                named += [c[probe]["httpGet"]["port"] for probe in ("startupProbe", "livenessProbe", "readinessProbe")]
                named += [p["port"] for n in by_kind(objects, "NetworkPolicy") for r in n["spec"]["ingress"] for p in r["ports"]]
                named += [p["backend"]["service"]["port"]["name"] for i in by_kind(objects, "Ingress")
                          for r in i["spec"]["rules"] for p in r["http"]["paths"]]
                self.assertTrue(named)
                for port in named:
                    self.assertIn(port, ports)
                for route in by_kind(objects, "HTTPRoute"):
                    for rule in route["spec"]["rules"]:
                        for b in rule["backendRefs"]:
                            (svc,) = [s for s in by_kind(objects, "Service") if s["metadata"]["name"] == b["name"]]
                            self.assertIn(b["port"], [p["port"] for p in svc["spec"]["ports"]])

    def test_cnpg_cluster_is_created_on_request(self):
        (cluster,) = by_kind(helm.render(CHART, FULL), "Cluster")
        self.assertEqual(cluster["metadata"]["name"], "catalyst-db")
        self.assertEqual(cluster["spec"]["bootstrap"]["initdb"], {"database": "catalyst", "owner": "catalyst"})
        self.assertEqual(by_kind(helm.render(CHART, MINIMAL), "Cluster"), [])


class ChartRefuses(unittest.TestCase):
    def refused(self, values, *words):
        with self.assertRaises(helm.ValuesError) as e:
            helm.render(CHART, values)
        text = str(e.exception)
        for w in words:
            self.assertIn(w, text)

    def test_an_option_the_cli_lacks(self):
        self.refused(dict(MINIMAL, config={"no-such-option": "x"}), "config", "no-such-option")

    def test_an_option_the_chart_sets(self):
        self.refused(dict(MINIMAL, config={"database-url": "postgres://u:p@h/db"}), "config/database-url")
        self.refused(dict(MINIMAL, config={"metrics-bind": "0.0.0.0:9090"}), "config/metrics-bind")

    def test_a_secret_option_given_as_plain_text(self):
        self.refused(dict(MINIMAL, config={"gitops-token": "ghp_secret"}), "config/gitops-token")

    def test_no_secret_key_secret(self):
        self.refused({"database": {"existingSecret": "catalyst-db"}}, "secretKey")

    def test_no_database(self):
        self.refused({"secretKey": {"existingSecret": "k"}}, "database")

    def test_two_databases(self):
        self.refused(dict(MINIMAL, database={"existingSecret": "x", "cnpg": {"enabled": True}}), "database/existingSecret")

    def test_a_boolean_option_given_a_string(self):
        self.refused(dict(MINIMAL, config={"trust-forwarded-for": "yes"}), "config/trust-forwarded-for")


class CheckerCanFail(unittest.TestCase):
    """The checks above are only worth something if a broken render is reported."""

    def test_a_seeded_manifest_mistake_is_reported(self):
        objects = helm.render(CHART, FULL)
        broken = copy.deepcopy(objects)
        deployment(broken)["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
        (route,) = by_kind(broken, "HTTPRoute")
        route["spec"]["rules"][0]["matches"][0]["path"]["type"] = "Prefix"
        problems = [str(p) for p in schema_problems(broken)]
        self.assertTrue(any("Deployment" in p and "httpGett" in p for p in problems), problems)
        self.assertTrue(any("HTTPRoute" in p and "Prefix" in p for p in problems), problems)

    def test_the_renderer_refuses_what_it_does_not_implement(self):
        with self.assertRaises(helm.TemplateError):
            r = helm.Renderer()
            r.run(helm.parse(helm.lex('{{ sha256sum "x" }}', "t"), "t"), {}, [{}])

    def test_the_renderer_follows_go_templates(self):
        r = helm.Renderer()
        src = ('a {{- if .x }} X {{- else if .y }} Y {{- else }} Z {{- end }} '
               '{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }} {{ .s | default "d" | quote }} '
               '{{ with .n }}{{ .k }}{{ end }}{{ printf "%s-%d" "p" 3 | upper }} {{/* c */}}{{ toYaml .m | nindent 2 }}')
        out = r.run(helm.parse(helm.lex(src, "t"), "t"), {"y": 1, "m": {"b": 2, "a": 1}, "n": {"k": "K"}}, [{}])
        self.assertEqual(out, 'a Y a=1;b=2; "d" KP-3 \n  a: 1\n  b: 2')


if __name__ == "__main__":
    unittest.main()
