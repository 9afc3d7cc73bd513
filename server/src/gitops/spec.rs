//! The kit files beside a blueprint (`platform/<id>/values.yaml`, `values-ha.yaml`, `kit.yaml`;
//! platform/README.md → "The bootstrap kit"): reading them, their types, the checks the catalog loader runs on
//! them, and what they say about a component's footprint (the requests and replicas the pre-flight sums).
//!
//! - `values.yaml` holds the chart values Catalyst sets. `${VAR}` are Flux post-build substitutions from
//!   [`SUBSTITUTIONS`]; `$${X}` is a literal `${X}` (Flux's escape).
//! - `values-ha.yaml` is merged over it (maps key by key, anything else replaced) when the Sovereign is
//!   highly available.
//! - `kit.yaml` ([`KitSpec`]) indexes every container's requests (`workloads`) and declares the wiring the
//!   renderer generates: a host behind the Sovereign's Gateway, a database in the shared CNPG cluster,
//!   SeaweedFS buckets, a Keycloak client, secrets generated into OpenBao.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use app::catalog::{Blueprint, CatalogData, KitFiles, Problem};
use serde::Deserialize;
use serde_json::Value;

/// The `${…}` variables Flux substitutes in the kit, and who provides them. Everything else Catalyst
/// renders directly (it knows the selection, HA and the certificate mode when it renders).
pub const SUBSTITUTIONS: &[(&str, &str)] = &[
    ("SOVEREIGN_FQDN", "the Sovereign's domain, e.g. acme.omani.works"),
    ("SOVEREIGN_DEPLOYMENT_ID", "Catalyst's deployment id"),
    ("SOVEREIGN_REGION_KEY", "this region's key (fsn1, fsn1-2, …)"),
    ("SOVEREIGN_PRIMARY", "\"true\" in the primary region"),
    ("SOVEREIGN_AIRGAP", "\"true\" in an air-gapped region"),
    (
        "SOVEREIGN_LB_IP",
        "this region's load balancer IPv4 (empty when air-gapped)",
    ),
    (
        "SOVEREIGN_ADMIN_EMAIL",
        "the administrator's e-mail (Let's Encrypt account)",
    ),
    ("SOVEREIGN_DOMAIN_MODE", "pool, byo-manual or byo-api"),
    ("K8S_SERVICE_HOST", "the region's private Kubernetes API address"),
    ("K8S_SERVICE_PORT", "6443"),
    ("CLUSTER_CIDR", "the region's pod range"),
    ("GITOPS_PATH", "clusters/<fqdn>"),
    (
        "SOVEREIGN_DNS_SERVER",
        "DNS-01 only: address of Catalyst's PowerDNS that takes RFC 2136 updates for the zone (port 53)",
    ),
    (
        "SOVEREIGN_DNS_TSIG_KEYNAME",
        "DNS-01 only: name of the Sovereign's TSIG key (HMAC-SHA256) in that PowerDNS",
    ),
];

/// Names of the kit files, in the order they are read.
pub const VALUES_FILE: &str = "values.yaml";
pub const VALUES_HA_FILE: &str = "values-ha.yaml";
pub const KIT_FILE: &str = "kit.yaml";

/// `platform/<id>/kit.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KitSpec {
    /// Every container the chart (or the kit, for generated workloads) runs, and where its requests are.
    #[serde(default)]
    pub workloads: Vec<Workload>,
    /// Served at `https://<name>.${SOVEREIGN_FQDN}` through the Sovereign's Gateway.
    #[serde(default)]
    pub host: Option<Host>,
    /// A database and its owner role in the shared CNPG cluster; credentials in Secret `<id>-db`.
    #[serde(default)]
    pub database: Option<Database>,
    /// SeaweedFS buckets; credentials in Secret `<id>-s3`.
    #[serde(default)]
    pub buckets: Option<Buckets>,
    /// A client of the Sovereign's Keycloak realm; credentials in Secret `<id>-oidc`.
    #[serde(default)]
    pub oidc: Option<Oidc>,
    /// Secrets generated once into OpenBao and synced into the component's namespace.
    #[serde(default)]
    pub secrets: Vec<GeneratedSecret>,
    /// Secrets a dependency generates, copied into this component's namespace (e.g. Valkey's password).
    #[serde(default)]
    pub copies: Vec<Copy>,
    /// Values paths whose contents configure the application itself (grafana.ini, Loki's config…) rather
    /// than the chart: a check of key paths against the chart's defaults stops at them.
    #[serde(default)]
    pub freeform: Vec<String>,
    /// Values paths the chart reads but documents only in comments of its `values.yaml` (so a check of key
    /// paths against the chart's defaults would miss them); each is named here on purpose.
    #[serde(default)]
    pub commented_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Copy {
    /// `<component>/<secret>`: a secret of a dependency's `secrets`.
    pub from: String,
    /// The Secret's name here.
    pub name: String,
    /// Its keys as templates over the source's generated keys; without it, those keys.
    #[serde(default)]
    pub template: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Workload {
    /// What runs (a Deployment, StatefulSet or DaemonSet of the chart, or a generated one).
    pub name: String,
    /// Values path of the container's resources block (`controller.resources`), or the block itself for
    /// workloads the kit generates.
    pub resources: Resources,
    /// Values path of the replica count, a number, `perNode` (a DaemonSet) or `{default, ha}`.
    pub replicas: Replicas,
    /// Containers sharing that resources block (default 1).
    #[serde(default = "one")]
    pub containers: u32,
    /// Persistent volume per replica: a values path or a quantity (`20Gi`).
    #[serde(default)]
    pub storage: Option<String>,
    /// A Job (install hook, cron): runs to completion, not part of the steady-state sum.
    #[serde(default)]
    pub job: bool,
}

fn one() -> u32 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Resources {
    Path(String),
    Inline(Value),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum Replicas {
    Count(u32),
    Ha {
        default: u32,
        ha: u32,
    },
    /// A values path, or `perNode`.
    Path(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Host {
    /// First label: `grafana` → `grafana.${SOVEREIGN_FQDN}`.
    pub name: String,
    /// The Service the route sends to, in the component's namespace.
    pub service: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Database {
    /// Database and owner role name.
    pub name: String,
    /// Extra keys of the `<id>-db` Secret, as External Secrets templates over `username`, `password`,
    /// `host`, `port`, `database`.
    #[serde(default)]
    pub secret: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Buckets {
    pub names: Vec<String>,
    /// Extra keys of the `<id>-s3` Secret, templates over `accessKey`, `secretKey`, `endpoint`.
    #[serde(default)]
    pub secret: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Oidc {
    /// Client id in the realm.
    pub client: String,
    /// Redirect paths on the component's host (`/login/generic_oauth`).
    pub redirect_paths: Vec<String>,
    /// Extra keys of the `<id>-oidc` Secret, templates over `clientId`, `clientSecret`, `issuer`.
    #[serde(default)]
    pub secret: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct GeneratedSecret {
    /// The Secret's name in the component's namespace.
    pub name: String,
    /// Keys generated as random 32-character passwords.
    pub generate: Vec<String>,
    /// The Secret's keys as templates over the generated ones; without it, the generated keys themselves.
    #[serde(default)]
    pub template: BTreeMap<String, String>,
}

/// The names the kit gives a component's credentials Secrets.
pub fn db_secret(id: &str) -> String {
    format!("{id}-db")
}
pub fn s3_secret(id: &str) -> String {
    format!("{id}-s3")
}
pub fn oidc_secret(id: &str) -> String {
    format!("{id}-oidc")
}

// ---- Reading ----------------------------------------------------------------------------------------------

/// Reads the kit files of one component folder; problems name `<folder>/<file>`.
pub fn read_files(component_dir: &Path, folder: &str, problems: &mut Vec<Problem>) -> KitFiles {
    let mut read = |name: &str| -> Option<Value> {
        let path = component_dir.join(name);
        if !path.is_file() {
            return None;
        }
        let rel = format!("{folder}/{name}");
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Problem::new(rel, "", format!("cannot read: {e}")));
                return None;
            }
        };
        match serde_norway::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Some(v),
            Ok(_) => {
                problems.push(Problem::new(rel, "", "must be a YAML mapping"));
                None
            }
            Err(e) => {
                problems.push(Problem::new(rel, "", format!("not valid YAML: {e}")));
                None
            }
        }
    };
    KitFiles {
        values: read(VALUES_FILE),
        values_ha: read(VALUES_HA_FILE),
        kit: read(KIT_FILE),
    }
}

/// The blueprint's kit spec (empty without a `kit.yaml`).
pub fn spec_of(b: &Blueprint) -> Result<KitSpec, String> {
    match &b.kit.kit {
        None => Ok(KitSpec::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| e.to_string()),
    }
}

/// The values the HelmRelease gets: the blueprint's `chart.values`, then `values.yaml`, then (HA)
/// `values-ha.yaml`, each merged over the one before.
pub fn merged_values(b: &Blueprint, ha: bool) -> Option<Value> {
    let layers = [
        b.chart.as_ref().and_then(|c| c.values.clone()),
        b.kit.values.clone(),
        if ha { b.kit.values_ha.clone() } else { None },
    ];
    layers
        .into_iter()
        .flatten()
        .reduce(overlay)
        .filter(|v| !v.is_null())
}

/// `top` over `base`: objects merge key by key, anything else is replaced.
pub fn overlay(base: Value, top: Value) -> Value {
    match (base, top) {
        (Value::Object(mut b), Value::Object(t)) => {
            for (k, tv) in t {
                let merged = match b.remove(&k) {
                    Some(bv) => overlay(bv, tv),
                    None => tv,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (_, t) => t,
    }
}

/// The value at a dotted path (`controller.resources`; a numeric segment indexes a list).
pub fn at<'v>(v: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(v, |v, seg| match v {
        Value::Object(m) => m.get(seg),
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        _ => None,
    })
}

// ---- Footprint (what the pre-flight sums) ------------------------------------------------------------------

/// How many copies of a workload run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Copies {
    Fixed(u32),
    /// One per node (a DaemonSet).
    PerNode,
}

/// One workload's requests, per copy (all its containers together).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Footprint {
    pub component: String,
    pub workload: String,
    pub copies: Copies,
    pub cpu_millis: u64,
    pub memory_bytes: u64,
    /// Persistent volume per copy.
    pub storage_bytes: u64,
    /// Runs to completion (a Job): needs room while it runs, not in the steady state.
    pub job: bool,
}

/// The requests of every workload of `b` for a Sovereign with or without HA.
pub fn footprint(b: &Blueprint, ha: bool) -> Result<Vec<Footprint>, String> {
    footprint_of(b, &spec_of(b)?, ha)
}

/// [`footprint`] with the kit spec already read.
pub fn footprint_of(b: &Blueprint, spec: &KitSpec, ha: bool) -> Result<Vec<Footprint>, String> {
    let values = merged_values(b, ha).unwrap_or(Value::Null);
    spec.workloads
        .iter()
        .map(|w| {
            let (requests, copies, storage) = resolve(w, &values, ha)?;
            let quantity = |k: &str, parse: fn(&str) -> Option<u64>| {
                requests
                    .get(k)
                    .and_then(Value::as_str)
                    .and_then(parse)
                    .ok_or_else(|| format!("workload {}: requests.{k} is missing or not a quantity", w.name))
            };
            Ok(Footprint {
                component: b.id.clone(),
                workload: w.name.clone(),
                copies,
                cpu_millis: quantity("cpu", cpu_millis)? * u64::from(w.containers),
                memory_bytes: quantity("memory", bytes)? * u64::from(w.containers),
                storage_bytes: storage,
                job: w.job,
            })
        })
        .collect()
}

/// A workload's `requests` map, copies and storage bytes, or what is wrong.
fn resolve(
    w: &Workload,
    values: &Value,
    ha: bool,
) -> Result<(serde_json::Map<String, Value>, Copies, u64), String> {
    let block = match &w.resources {
        Resources::Path(p) => at(values, p)
            .cloned()
            .ok_or_else(|| format!("workload {}: resources: no value at {p}", w.name))?,
        Resources::Inline(v) => v.clone(),
    };
    let requests = block
        .get("requests")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| format!("workload {}: resources has no requests", w.name))?;
    let copies = match &w.replicas {
        Replicas::Count(n) => Copies::Fixed(*n),
        Replicas::Ha { default, ha: n } => Copies::Fixed(if ha { *n } else { *default }),
        Replicas::Path(p) if p == "perNode" => Copies::PerNode,
        Replicas::Path(p) => {
            let n = at(values, p)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("workload {}: replicas: no number at {p}", w.name))?;
            Copies::Fixed(u32::try_from(n).map_err(|_| format!("workload {}: replicas too large", w.name))?)
        }
    };
    let storage = match &w.storage {
        None => 0,
        Some(s) => {
            let q = if bytes(s).is_some() {
                s.clone()
            } else {
                at(values, s)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("workload {}: storage: no quantity at {s}", w.name))?
            };
            bytes(&q).ok_or_else(|| format!("workload {}: storage: “{q}” is not a quantity", w.name))?
        }
    };
    Ok((requests, copies, storage))
}

/// `250m` → 250, `2` → 2000, `0.5` → 500.
pub fn cpu_millis(q: &str) -> Option<u64> {
    if let Some(m) = q.strip_suffix('m') {
        return m.parse().ok();
    }
    let f: f64 = q.parse().ok()?;
    (f >= 0.0 && f.is_finite()).then(|| (f * 1000.0).round() as u64)
}

/// `512Mi` → 536870912, `1G` → 10^9, `100` → 100.
pub fn bytes(q: &str) -> Option<u64> {
    const UNITS: &[(&str, u64)] = &[
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("Ti", 1 << 40),
        ("k", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
        ("T", 1_000_000_000_000),
    ];
    let (num, mult) = UNITS
        .iter()
        .find_map(|(u, m)| q.strip_suffix(u).map(|n| (n, *m)))
        .unwrap_or((q, 1));
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

// ---- Checks ------------------------------------------------------------------------------------------------

/// Which component provides what a kit spec asks for; a component asking must depend on it.
pub const PROVIDERS: &[(&str, &str)] = &[
    ("host", "envoy"),
    ("database", "cnpg"),
    ("buckets", "seaweedfs"),
    ("oidc", "keycloak"),
    ("secrets", "openbao"),
];

/// Every problem of the kit files of the catalog, each naming the file and the field.
pub fn check(data: &CatalogData) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut hosts: BTreeMap<String, String> = BTreeMap::new();
    let mut clients: BTreeMap<String, String> = BTreeMap::new();
    let mut databases: BTreeMap<String, String> = BTreeMap::new();
    let mut buckets: BTreeMap<String, String> = BTreeMap::new();
    let ids: BTreeSet<&str> = data.blueprints.iter().map(|b| b.id.as_str()).collect();
    for b in &data.blueprints {
        let file = |f: &str| format!("{}/{f}", b.id);
        for (name, v) in [
            (VALUES_FILE, &b.kit.values),
            (VALUES_HA_FILE, &b.kit.values_ha),
            (KIT_FILE, &b.kit.kit),
        ] {
            if let Some(v) = v {
                check_variables(v, "", &file(name), &mut problems);
            }
        }
        if b.chart.is_none() && (b.kit.values.is_some() || b.kit.values_ha.is_some()) {
            problems.push(Problem::new(
                file(VALUES_FILE),
                "",
                "values need a chart: add `chart` to the blueprint or remove the values files",
            ));
        }
        if b.kit.values_ha.is_some() && b.kit.values.is_none() {
            problems.push(Problem::new(
                file(VALUES_HA_FILE),
                "",
                "an HA overlay needs a values.yaml to go over",
            ));
        }
        let spec = match spec_of(b) {
            Ok(s) => s,
            Err(e) => {
                problems.push(Problem::new(file(KIT_FILE), "", e));
                continue;
            }
        };
        let kit_file = file(KIT_FILE);
        // What the spec asks for must come from a component it depends on.
        let asks = [
            ("host", spec.host.is_some()),
            ("database", spec.database.is_some()),
            ("buckets", spec.buckets.is_some()),
            ("oidc", spec.oidc.is_some()),
            (
                "secrets",
                !spec.secrets.is_empty()
                    || !spec.copies.is_empty()
                    || spec.database.is_some()
                    || spec.buckets.is_some()
                    || spec.oidc.is_some(),
            ),
        ];
        for (field, asked) in asks {
            let Some((_, provider)) = PROVIDERS.iter().find(|(f, _)| *f == field) else {
                continue;
            };
            if asked && b.id != *provider && !b.dependencies.iter().any(|d| d == provider) {
                problems.push(Problem::new(
                    &kit_file,
                    field,
                    format!(
                        "{provider} provides this: add {provider} to the blueprint's dependencies{}",
                        if ids.contains(provider) {
                            ""
                        } else {
                            " (and to the catalog)"
                        }
                    ),
                ));
            }
        }
        // Unique names across the catalog.
        let unique =
            |map: &mut BTreeMap<String, String>, field: &str, name: &str, problems: &mut Vec<Problem>| {
                if !is_dns_label(name) {
                    problems.push(Problem::new(
                        &kit_file,
                        field,
                        format!("“{name}” must be lowercase letters, digits and hyphens (≤ 63)"),
                    ));
                }
                if let Some(other) = map.insert(name.to_string(), b.id.clone()) {
                    problems.push(Problem::new(
                        &kit_file,
                        field,
                        format!("“{name}” is already used by {other}"),
                    ));
                }
            };
        if let Some(h) = &spec.host {
            unique(&mut hosts, "host.name", &h.name, &mut problems);
            if !is_dns_label(&h.service) || h.port == 0 {
                problems.push(Problem::new(
                    &kit_file,
                    "host",
                    "service must be a Service name and port a port number",
                ));
            }
        }
        if let Some(o) = &spec.oidc {
            unique(&mut clients, "oidc.client", &o.client, &mut problems);
            if spec.host.is_none() {
                problems.push(Problem::new(
                    &kit_file,
                    "oidc",
                    "an OIDC client redirects to the component's host: declare `host` too",
                ));
            }
            for p in &o.redirect_paths {
                if !p.starts_with('/') {
                    problems.push(Problem::new(
                        &kit_file,
                        "oidc.redirectPaths",
                        format!("“{p}” must start with /"),
                    ));
                }
            }
        }
        if let Some(d) = &spec.database {
            unique(&mut databases, "database.name", &d.name, &mut problems);
        }
        if let Some(bk) = &spec.buckets {
            for n in &bk.names {
                unique(&mut buckets, "buckets.names", n, &mut problems);
            }
        }
        let mut secret_names = BTreeSet::new();
        for s in &spec.secrets {
            if !is_dns_label(&s.name) || !secret_names.insert(s.name.as_str()) {
                problems.push(Problem::new(
                    &kit_file,
                    "secrets",
                    format!("“{}” must be a unique Secret name", s.name),
                ));
            }
            if s.generate.is_empty() {
                problems.push(Problem::new(
                    &kit_file,
                    "secrets",
                    format!("{}: `generate` names no key", s.name),
                ));
            }
        }
        for c in &spec.copies {
            let source = c.from.split_once('/').and_then(|(id, name)| {
                let dep = data.blueprints.iter().find(|d| d.id == id)?;
                let dep_spec = spec_of(dep).ok()?;
                dep_spec
                    .secrets
                    .into_iter()
                    .find(|s| s.name == name)
                    .map(|s| (id, s))
            });
            match source {
                None => problems.push(Problem::new(
                    &kit_file,
                    "copies",
                    format!(
                        "{}: no such generated secret (write <component>/<secret of its kit.yaml>)",
                        c.from
                    ),
                )),
                Some((id, _)) if !b.dependencies.iter().any(|d| d == id) => problems.push(Problem::new(
                    &kit_file,
                    "copies",
                    format!("{}: add {id} to the blueprint's dependencies", c.from),
                )),
                Some(_) => {}
            }
            if !is_dns_label(&c.name) || !secret_names.insert(c.name.as_str()) {
                problems.push(Problem::new(
                    &kit_file,
                    "copies",
                    format!("“{}” must be a unique Secret name", c.name),
                ));
            }
        }
        check_workloads(b, &spec, &kit_file, &mut problems);
    }
    problems
}

/// Workloads resolve in the values with and without HA, and every resources block of the values is one of
/// them (so the requests the pre-flight sums are all the requests there are).
fn check_workloads(b: &Blueprint, spec: &KitSpec, kit_file: &str, problems: &mut Vec<Problem>) {
    let mut names = BTreeSet::new();
    for w in &spec.workloads {
        if !names.insert(w.name.as_str()) {
            problems.push(Problem::new(
                kit_file,
                "workloads",
                format!("{} is listed twice", w.name),
            ));
        }
    }
    for ha in [false, true] {
        let values = merged_values(b, ha).unwrap_or(Value::Null);
        for w in &spec.workloads {
            match resolve(w, &values, ha) {
                Err(e) => problems.push(Problem::new(
                    kit_file,
                    "workloads",
                    format!("{e}{}", if ha { " (with values-ha.yaml)" } else { "" }),
                )),
                Ok((requests, _, _)) => {
                    let cpu = requests.get("cpu").and_then(Value::as_str);
                    let mem = requests.get("memory").and_then(Value::as_str);
                    if cpu.and_then(cpu_millis).is_none() || mem.and_then(bytes).is_none() {
                        problems.push(Problem::new(
                            kit_file,
                            "workloads",
                            format!(
                                "workload {}: requests need cpu (`100m`) and memory (`128Mi`) as quantities",
                                w.name
                            ),
                        ));
                    }
                }
            }
        }
        let indexed: BTreeSet<&str> = spec
            .workloads
            .iter()
            .filter_map(|w| match &w.resources {
                Resources::Path(p) => Some(p.as_str()),
                Resources::Inline(_) => None,
            })
            .collect();
        let mut blocks = Vec::new();
        resource_blocks(&values, "", &mut blocks);
        for p in blocks {
            if !indexed.contains(p.as_str()) {
                problems.push(Problem::new(
                    format!("{}/{}", b.id, VALUES_FILE),
                    &p,
                    "a resources block that no workload in kit.yaml lists: add it there (the pre-flight sums only those)",
                ));
            }
        }
        if !ha && b.chart.is_some() && b.kit.values.is_some() && spec.workloads.is_empty() {
            problems.push(Problem::new(
                kit_file,
                "workloads",
                "missing: list every container the chart runs and where values.yaml sets its requests",
            ));
        }
    }
}

/// Paths of every map that has a `requests` map (a container's resources block).
fn resource_blocks(v: &Value, path: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if m.get("requests").is_some_and(Value::is_object) {
                out.push(path.to_string());
                return;
            }
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                resource_blocks(child, &p, out);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                resource_blocks(child, &format!("{path}.{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every `${NAME}` (not escaped as `$${…}`) must be a known substitution; `${NAME:=default}` is allowed.
fn check_variables(v: &Value, path: &str, file: &str, problems: &mut Vec<Problem>) {
    match v {
        Value::String(s) => {
            for name in variables(s) {
                if !SUBSTITUTIONS.iter().any(|(n, _)| *n == name) {
                    problems.push(Problem::new(
                        file,
                        path,
                        format!(
                            "${{{name}}} is not a variable Flux substitutes here (see platform/README.md); write $${{{name}}} for a literal"
                        ),
                    ));
                }
            }
        }
        Value::Object(m) => {
            for (k, child) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                check_variables(child, &p, file, problems);
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                check_variables(child, &format!("{path}.{i}"), file, problems);
            }
        }
        _ => {}
    }
}

/// The variable names Flux would substitute in `s` (`${NAME}` or `${NAME:=…}`, not `$${…}`).
pub fn variables(s: &str) -> Vec<String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'$' {
            i += 2;
            continue;
        }
        if b[i] == b'$' && b[i + 1] == b'{' {
            let rest = &s[i + 2..];
            let end = rest.find('}').unwrap_or(rest.len());
            let inner = &rest[..end];
            let name = inner.split(":=").next().unwrap_or(inner);
            out.push(name.to_string());
            i += 2 + end;
            continue;
        }
        i += 1;
    }
    out
}

fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_millis("250m"), Some(250));
        assert_eq!(cpu_millis("2"), Some(2000));
        assert_eq!(cpu_millis("0.5"), Some(500));
        assert_eq!(cpu_millis("x"), None);
        assert_eq!(bytes("512Mi"), Some(512 << 20));
        assert_eq!(bytes("1G"), Some(1_000_000_000));
        assert_eq!(bytes("10Gi"), Some(10 << 30));
        assert_eq!(bytes("Mi"), None);
        assert_eq!(bytes("1.5Gi"), None);
    }

    #[test]
    fn finds_substitutions_but_not_escapes() {
        assert_eq!(variables("https://${SOVEREIGN_FQDN}/x"), ["SOVEREIGN_FQDN"]);
        assert_eq!(variables("$${KEEP} and ${A:=b}"), ["A"]);
        assert!(variables("$1 $x {{ .y }}").is_empty());
    }

    #[test]
    fn overlays_merge_maps_and_replace_the_rest() {
        let base = serde_json::json!({"a": {"b": 1, "c": [1, 2]}, "d": 1});
        let top = serde_json::json!({"a": {"c": [3]}, "e": 2});
        assert_eq!(
            overlay(base, top),
            serde_json::json!({"a": {"b": 1, "c": [3]}, "d": 1, "e": 2})
        );
        let v = serde_json::json!({"a": {"list": [{"x": 5}]}});
        assert_eq!(at(&v, "a.list.0.x"), Some(&serde_json::json!(5)));
        assert_eq!(at(&v, "a.nope"), None);
    }
}
