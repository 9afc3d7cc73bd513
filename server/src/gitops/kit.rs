//! The bootstrap kit: `clusters/<fqdn>/bootstrap-kit/`, generated from the selected components and their
//! kit files (`platform/<id>/{values.yaml,values-ha.yaml,kit.yaml}`). The same generator writes the
//! committed `clusters/_template/bootstrap-kit/` and every rendered Sovereign.
//!
//! The kit is a set of *units*, each a Flux Kustomization `kit-<unit>` over its own folder
//! `bootstrap-kit/NN-<unit>/`, numbered in dependency order. `bootstrap-kit/units.yaml` lists those
//! Kustomizations (the `bootstrap-kit` Kustomization of `flux-system/sync.yaml` applies it and waits for
//! them). A Kustomization's `dependsOn` holds what the unit really needs, so a custom resource is applied
//! only once the HelmRelease that installs its CRD is ready, and a consumer only once its database, bucket,
//! OIDC client or secret store is:
//!
//! - one unit per component: its HelmRepository and HelmRelease `bp-<id>` (`dependsOn` = the blueprint's
//!   dependencies), and what it consumes (External Secrets for its database, bucket, OIDC and generated
//!   credentials; an HTTPRoute for its host);
//! - units the kit adds for what a component's own CRDs describe: `cert-manager-issuers` (Let's Encrypt
//!   ClusterIssuers), `gateway` (the Sovereign's Gateway on Envoy Gateway, its one certificate and the
//!   HTTP→HTTPS redirect), `secret-store` (the ClusterSecretStore over OpenBao), `cnpg-cluster` (the shared
//!   PostgreSQL cluster with a role and database per consumer).
//!
//! Generated credentials never appear in Git: an External Secrets `Password` generator makes them, a
//! `PushSecret` stores them once in OpenBao (`IfNotExists`), and `ExternalSecret`s copy them into every
//! namespace that needs them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::spec::{self, KitSpec, Replicas, Resources};
use super::yaml::{self, Y};
use super::{ComponentRelease, GitopsError};

/// Components the nodes' cloud-init installs itself, so no HelmRelease manages them: a dependency on one
/// of them is already met when Flux starts.
pub const BOOTSTRAP_PROVIDED: &[(&str, &str)] = &[(
    "flux",
    "cloud-init applies Flux's own release manifest (infra/hetzner); a HelmRelease cannot adopt those \
     objects, and Flux is what reconciles every HelmRelease",
)];

fn provided(id: &str) -> bool {
    BOOTSTRAP_PROVIDED.iter().any(|(p, _)| *p == id)
}

/// How the Sovereign's certificate is obtained.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Acme {
    /// Let's Encrypt's staging directory (untrusted certificates, generous rate limits) instead of production.
    pub staging: bool,
    /// DNS-01 through RFC 2136 updates to Catalyst's PowerDNS with the Sovereign's TSIG key: one wildcard
    /// certificate. Otherwise HTTP-01 through the Gateway: one certificate naming every host.
    pub dns01: bool,
}

/// What shapes the kit besides the selection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KitOptions {
    /// Highly available: `values-ha.yaml` overlays and the HA replica counts of generated workloads.
    pub ha: bool,
    pub acme: Acme,
}

/// The name of the Gateway, GatewayClass and EnvoyProxy of every Sovereign.
pub const GATEWAY: &str = "sovereign";
/// The Secret of the Sovereign's certificate, beside the Gateway.
pub const TLS_SECRET: &str = "sovereign-tls";
/// The ClusterSecretStore over OpenBao.
pub const STORE: &str = "openbao";
/// The shared PostgreSQL cluster.
pub const DB_CLUSTER: &str = "platform-pg";
/// The Keycloak realm of the Sovereign.
pub const REALM: &str = "sovereign";
/// The Secret (in cert-manager's and external-dns' namespaces) holding the Sovereign's TSIG key under
/// `secret`; provided with the DNS-01 mode.
pub const TSIG_SECRET: &str = "sovereign-dns-tsig";
/// The OIDC client of the Sovereign's own console (catalyst-platform), always in the realm.
pub const CONSOLE_CLIENT: &str = "console";

// ---- Order ------------------------------------------------------------------------------------------------

/// The components in install order: every component after its dependencies, ties in input order.
/// Bootstrap-provided components are left out. Errors name an unknown dependency or a cycle.
pub fn kit_order(components: &[ComponentRelease]) -> Result<Vec<&ComponentRelease>, GitopsError> {
    let mut seen = BTreeSet::new();
    for c in components {
        check_id(&c.id)?;
        if !seen.insert(c.id.as_str()) {
            return Err(GitopsError::Invalid(format!(
                "component {} is listed twice",
                c.id
            )));
        }
    }
    let selected: Vec<&ComponentRelease> = components.iter().filter(|c| !provided(&c.id)).collect();
    let ids: BTreeSet<&str> = selected.iter().map(|c| c.id.as_str()).collect();
    for c in &selected {
        for d in &c.depends_on {
            if !ids.contains(d.as_str()) && !provided(d) {
                return Err(GitopsError::Invalid(format!(
                    "component {} depends on {d}, which is not selected",
                    c.id
                )));
            }
        }
    }
    let deps: Vec<(&str, Vec<&str>)> = selected
        .iter()
        .map(|c| {
            (
                c.id.as_str(),
                c.depends_on
                    .iter()
                    .map(String::as_str)
                    .filter(|d| !provided(d))
                    .collect(),
            )
        })
        .collect();
    let order = topo(&deps)?;
    Ok(order
        .into_iter()
        .filter_map(|id| selected.iter().find(|c| c.id == id).copied())
        .collect())
}

/// Kahn's algorithm, ties in input order; the error names what is left (a cycle).
fn topo<'a>(nodes: &[(&'a str, Vec<&'a str>)]) -> Result<Vec<&'a str>, GitopsError> {
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut order = Vec::with_capacity(nodes.len());
    while order.len() < nodes.len() {
        let next = nodes
            .iter()
            .find(|(n, deps)| !placed.contains(n) && deps.iter().all(|d| placed.contains(d)));
        match next {
            Some((n, _)) => {
                placed.insert(n);
                order.push(*n);
            }
            None => {
                let stuck: Vec<&str> = nodes
                    .iter()
                    .map(|(n, _)| *n)
                    .filter(|n| !placed.contains(n))
                    .collect();
                return Err(GitopsError::Invalid(format!(
                    "the dependencies of {} form a cycle",
                    stuck.join(", ")
                )));
            }
        }
    }
    Ok(order)
}

fn check_id(id: &str) -> Result<(), GitopsError> {
    let ok = !id.is_empty()
        && id.len() <= 50
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(GitopsError::Invalid(format!(
            "“{id}” is not a component id (lowercase letters, digits and dashes)"
        )))
    }
}

// ---- Units ------------------------------------------------------------------------------------------------

/// One Flux Kustomization of the kit and the documents of its folder.
#[derive(Debug, Clone)]
pub struct Unit {
    /// `cnpg`, `cnpg-cluster`, … (the Kustomization is `kit-<name>`).
    pub name: String,
    /// The catalog component the unit installs, if any.
    pub component: Option<String>,
    /// Units that must be ready first.
    pub depends_on: BTreeSet<String>,
    /// File name → documents.
    pub files: BTreeMap<String, Vec<Y>>,
    /// A line for the folder's header.
    pub about: String,
}

impl Unit {
    fn new(name: &str, component: Option<&str>, about: String) -> Unit {
        Unit {
            name: name.into(),
            component: component.map(str::to_string),
            depends_on: BTreeSet::new(),
            files: BTreeMap::new(),
            about,
        }
    }

    fn add(&mut self, file: &str, doc: Y) {
        self.files.entry(file.into()).or_default().push(doc);
    }

    /// Every document of the unit.
    pub fn documents(&self) -> impl Iterator<Item = &Y> {
        self.files.values().flatten()
    }
}

/// The units of the kit in install order.
pub fn kit_units(components: &[ComponentRelease], opts: &KitOptions) -> Result<Vec<Unit>, GitopsError> {
    let order = kit_order(components)?;
    for c in &order {
        validate(c)?;
    }
    let ctx = Ctx::new(&order, *opts);
    let mut units = Vec::new();
    for c in &order {
        units.push(ctx.component_unit(c)?);
        match c.id.as_str() {
            "cert-manager" => units.push(ctx.issuers_unit()),
            "envoy" if ctx.has("cert-manager") => units.push(ctx.gateway_unit()?),
            _ => {}
        }
        if c.id == "openbao" && ctx.has("external-secrets") {
            units.push(ctx.store_unit());
        }
        if c.id == "cnpg" && ctx.consumers(|s| s.database.is_some()).next().is_some() {
            units.push(ctx.db_cluster_unit()?);
        }
    }
    // Every dependency names a unit of the kit; then order by dependencies.
    let names: BTreeSet<String> = units.iter().map(|u| u.name.clone()).collect();
    for u in &units {
        if let Some(missing) = u.depends_on.iter().find(|d| !names.contains(*d)) {
            return Err(GitopsError::Invalid(format!(
                "kit unit {} needs {missing}, which this selection does not have",
                u.name
            )));
        }
    }
    let nodes: Vec<(&str, Vec<&str>)> = units
        .iter()
        .map(|u| (u.name.as_str(), u.depends_on.iter().map(String::as_str).collect()))
        .collect();
    let order: Vec<String> = topo(&nodes)?.into_iter().map(str::to_string).collect();
    let mut by_name: BTreeMap<String, Unit> = units.into_iter().map(|u| (u.name.clone(), u)).collect();
    let sorted: Vec<Unit> = order.iter().filter_map(|n| by_name.remove(n)).collect();
    check_namespaces(&sorted)?;
    Ok(sorted)
}

/// No two units may declare the same Namespace (both Kustomizations would own it).
fn check_namespaces(units: &[Unit]) -> Result<(), GitopsError> {
    let mut owner: BTreeMap<String, &str> = BTreeMap::new();
    for u in units {
        for d in u.documents() {
            if kind_of(d) == Some("Namespace")
                && let Some(n) = name_of(d)
                && let Some(other) = owner.insert(n.to_string(), &u.name)
            {
                return Err(GitopsError::Invalid(format!(
                    "kit units {other} and {} both declare namespace {n}",
                    u.name
                )));
            }
        }
    }
    Ok(())
}

/// Folder of a unit: `NN-<name>` by install position.
fn folder(i: usize, width: usize, name: &str) -> String {
    format!("{:0width$}-{name}", i + 1, width = width)
}

/// File name (relative to `bootstrap-kit/`) → content: `kustomization.yaml`, `units.yaml` and each unit's
/// folder.
pub fn bootstrap_kit(
    components: &[ComponentRelease],
    opts: &KitOptions,
) -> Result<BTreeMap<String, String>, GitopsError> {
    let units = kit_units(components, opts)?;
    let width = if units.len() >= 100 { 3 } else { 2 };
    let folders: BTreeMap<&str, String> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.name.as_str(), folder(i, width, &u.name)))
        .collect();
    let mut files = BTreeMap::new();
    let mut kustomizations = Vec::new();
    for u in &units {
        let dir = &folders[u.name.as_str()];
        let header = format!(
            "# Generated by Catalyst ({}): edit the catalog (platform/), not this file.\n",
            u.about
        );
        let mut listed = Vec::new();
        for (name, docs) in &u.files {
            let body: Vec<String> = docs.iter().map(yaml::to_string).collect();
            files.insert(
                format!("{dir}/{name}"),
                format!("{header}---\n{}", body.join("---\n")),
            );
            listed.push(Y::s(name));
        }
        files.insert(
            format!("{dir}/kustomization.yaml"),
            format!(
                "{header}{}",
                yaml::to_string(&Y::map([
                    ("apiVersion", Y::s("kustomize.config.k8s.io/v1beta1")),
                    ("kind", Y::s("Kustomization")),
                    ("resources", Y::List(listed)),
                ]))
            ),
        );
        kustomizations.push(flux_kustomization(u, dir));
    }
    let body: Vec<String> = kustomizations.iter().map(yaml::to_string).collect();
    files.insert(
        "units.yaml".into(),
        format!(
            "# Generated by Catalyst: one Flux Kustomization per unit of the kit, in dependency order.\n---\n{}",
            body.join("---\n")
        ),
    );
    files.insert(
        "kustomization.yaml".into(),
        format!(
            "# Generated by Catalyst: the kit's units (each folder NN-<unit> is applied by its own Kustomization).\n{}",
            yaml::to_string(&Y::map([
                ("apiVersion", Y::s("kustomize.config.k8s.io/v1beta1")),
                ("kind", Y::s("Kustomization")),
                ("resources", Y::List(vec![Y::s("units.yaml")])),
            ]))
        ),
    );
    Ok(files)
}

/// The Flux Kustomization that applies one unit.
fn flux_kustomization(u: &Unit, dir: &str) -> Y {
    let mut spec = vec![("interval", Y::s("10m")), ("retryInterval", Y::s("1m"))];
    if !u.depends_on.is_empty() {
        spec.push((
            "dependsOn",
            Y::List(
                u.depends_on
                    .iter()
                    .map(|d| Y::map([("name", Y::s(format!("kit-{d}")))]))
                    .collect(),
            ),
        ));
    }
    spec.extend([
        ("path", Y::s(format!("./${{GITOPS_PATH}}/bootstrap-kit/{dir}"))),
        ("prune", Y::Bool(true)),
        ("wait", Y::Bool(true)),
        ("timeout", Y::s("30m")),
        (
            "sourceRef",
            Y::map([("kind", Y::s("GitRepository")), ("name", Y::s("flux-system"))]),
        ),
        (
            "postBuild",
            Y::map([(
                "substituteFrom",
                Y::List(vec![Y::map([
                    ("kind", Y::s("ConfigMap")),
                    ("name", Y::s("sovereign-settings")),
                ])]),
            )]),
        ),
    ]);
    let mut kinds = BTreeSet::new();
    for d in u.documents() {
        if let (Some(api), Some(kind)) = (api_of(d), kind_of(d))
            && health_expr(api, kind).is_some()
        {
            kinds.insert((api.to_string(), kind.to_string()));
        }
    }
    if !kinds.is_empty() {
        spec.push((
            "healthCheckExprs",
            Y::List(
                kinds
                    .iter()
                    .filter_map(|(api, kind)| {
                        health_expr(api, kind).map(|current| {
                            Y::map([
                                ("apiVersion", Y::s(api)),
                                ("kind", Y::s(kind)),
                                ("current", Y::s(current)),
                            ])
                        })
                    })
                    .collect(),
            ),
        ));
    }
    let mut labels = vec![("catalyst.dev/unit", Y::s(&u.name))];
    if let Some(c) = &u.component {
        labels.push(("catalyst.dev/component", Y::s(c)));
    }
    Y::map([
        ("apiVersion", Y::s("kustomize.toolkit.fluxcd.io/v1")),
        ("kind", Y::s("Kustomization")),
        (
            "metadata",
            Y::map([
                ("name", Y::s(format!("kit-{}", u.name))),
                ("namespace", Y::s("flux-system")),
                ("labels", Y::map(labels)),
            ]),
        ),
        ("spec", Y::map(spec)),
    ])
}

/// When Flux may call a custom resource of the kit ready (kstatus does not know these kinds).
fn health_expr(api: &str, kind: &str) -> Option<&'static str> {
    const READY: &str = "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')";
    match (api, kind) {
        ("external-secrets.io/v1beta1", "ExternalSecret" | "ClusterSecretStore")
        | ("external-secrets.io/v1alpha1", "PushSecret")
        | ("cert-manager.io/v1", "Certificate" | "ClusterIssuer")
        | ("postgresql.cnpg.io/v1", "Cluster") => Some(READY),
        ("postgresql.cnpg.io/v1", "Database") => Some("status.?applied.orValue(false)"),
        ("gateway.networking.k8s.io/v1", "Gateway") => {
            Some("status.?conditions.orValue([]).exists(c, c.type == 'Programmed' && c.status == 'True')")
        }
        _ => None,
    }
}

fn field<'y>(d: &'y Y, key: &str) -> Option<&'y Y> {
    match d {
        Y::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn text(d: Option<&Y>) -> Option<&str> {
    match d {
        Some(Y::Str(s)) => Some(s),
        _ => None,
    }
}

fn api_of(d: &Y) -> Option<&str> {
    text(field(d, "apiVersion"))
}

fn kind_of(d: &Y) -> Option<&str> {
    text(field(d, "kind"))
}

fn name_of(d: &Y) -> Option<&str> {
    text(field(d, "metadata").and_then(|m| field(m, "name")))
}

fn validate(c: &ComponentRelease) -> Result<(), GitopsError> {
    let bad = |what: &str| GitopsError::Invalid(format!("component {}: {what}", c.id));
    let repo = c.chart.repository.trim();
    if !(repo.starts_with("https://") || repo.starts_with("oci://") || repo.starts_with("http://")) {
        return Err(bad("the chart repository must be an https:// or oci:// URL"));
    }
    if c.chart.name.trim().is_empty() || c.chart.version.trim().is_empty() {
        return Err(bad("the chart needs a name and a version"));
    }
    let ns = c.namespace.trim();
    if ns.is_empty()
        || ns.len() > 63
        || !ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(bad("the namespace must be a Kubernetes name"));
    }
    Ok(())
}

// ---- Generation -------------------------------------------------------------------------------------------

/// Namespaces the kit never declares (the cluster has them; pruning them would be fatal).
const SYSTEM_NAMESPACES: &[&str] = &["kube-system", "kube-public", "flux-system", "default"];

struct Ctx<'a> {
    order: Vec<&'a ComponentRelease>,
    opts: KitOptions,
}

impl<'a> Ctx<'a> {
    fn new(order: &[&'a ComponentRelease], opts: KitOptions) -> Self {
        Ctx {
            order: order.to_vec(),
            opts,
        }
    }

    fn has(&self, id: &str) -> bool {
        self.order.iter().any(|c| c.id == id)
    }

    fn get(&self, id: &str) -> Option<&'a ComponentRelease> {
        self.order.iter().copied().find(|c| c.id == id)
    }

    fn ns_of(&self, id: &str) -> String {
        self.get(id)
            .map(|c| c.namespace.clone())
            .unwrap_or_else(|| id.to_string())
    }

    /// Selected components whose kit spec matches, in install order.
    fn consumers(&self, f: impl Fn(&KitSpec) -> bool) -> impl Iterator<Item = &'a ComponentRelease> {
        self.order.clone().into_iter().filter(move |c| f(&c.spec))
    }

    /// The Sovereign's host for a first label.
    fn host(label: &str) -> String {
        format!("{label}.${{SOVEREIGN_FQDN}}")
    }

    fn keycloak_host(&self) -> String {
        let label = self
            .get("keycloak")
            .and_then(|k| k.spec.host.as_ref())
            .map(|h| h.name.clone())
            .unwrap_or_else(|| "auth".into());
        Self::host(&label)
    }

    fn issuer(&self) -> String {
        format!("https://{}/realms/{REALM}", self.keycloak_host())
    }

    fn s3_endpoint(&self) -> String {
        format!("http://seaweedfs-s3.{}.svc:8333", self.ns_of("seaweedfs"))
    }

    fn db_host(&self) -> String {
        format!("{DB_CLUSTER}-rw.{}.svc", self.ns_of("cnpg"))
    }

    // -- one component --

    fn component_unit(&self, c: &ComponentRelease) -> Result<Unit, GitopsError> {
        let mut u = Unit::new(&c.id, Some(&c.id), format!("platform/{}/", c.id));
        for d in c.depends_on.iter().filter(|d| !provided(d)) {
            u.depends_on.insert(d.clone());
        }
        let ns = c.namespace.trim().to_string();
        let spec = &c.spec;
        let mut wiring = Wiring::new(&ns);

        if let Some(h) = &spec.host
            && self.has("envoy")
            && self.has("cert-manager")
        {
            u.depends_on.insert("gateway".into());
            u.add("route.yaml", self.route(c, h));
        }
        if let Some(db) = &spec.database {
            u.depends_on.insert("cnpg-cluster".into());
            let mut template = BTreeMap::from([
                ("username".to_string(), db.name.clone()),
                ("password".to_string(), "{{ .password }}".to_string()),
                ("host".to_string(), self.db_host()),
                ("port".to_string(), "5432".to_string()),
                ("database".to_string(), db.name.clone()),
                (
                    "uri".to_string(),
                    format!(
                        "postgresql://{}:{{{{ .password | urlquery }}}}@{}:5432/{}?sslmode=require",
                        db.name,
                        self.db_host(),
                        db.name
                    ),
                ),
            ]);
            template.extend(db.secret.clone());
            wiring.external(
                &spec::db_secret(&c.id),
                &[("password", &db_path(&c.id), "password")],
                template,
                None,
            );
        }
        if let Some(b) = &spec.buckets {
            let mut template = BTreeMap::from([
                ("accessKey".to_string(), "{{ .accessKey }}".to_string()),
                ("secretKey".to_string(), "{{ .secretKey }}".to_string()),
                ("endpoint".to_string(), self.s3_endpoint()),
            ]);
            template.extend(b.secret.clone());
            wiring.external(
                &spec::s3_secret(&c.id),
                &[
                    ("accessKey", &s3_path(&c.id), "accessKey"),
                    ("secretKey", &s3_path(&c.id), "secretKey"),
                ],
                template,
                None,
            );
        }
        if let Some(o) = &spec.oidc {
            let mut template = BTreeMap::from([
                ("clientId".to_string(), o.client.clone()),
                ("clientSecret".to_string(), "{{ .secret }}".to_string()),
                ("issuer".to_string(), self.issuer()),
            ]);
            template.extend(o.secret.clone());
            wiring.external(
                &spec::oidc_secret(&c.id),
                &[("secret", &oidc_path(&o.client), "secret")],
                template,
                None,
            );
        }
        for s in &spec.secrets {
            let path = generated_path(&c.id, &s.name);
            for key in &s.generate {
                wiring.push(&format!("{}-{key}", s.name), &path, key);
            }
            let template = if s.template.is_empty() {
                s.generate
                    .iter()
                    .map(|k| (k.clone(), format!("{{{{ .{k} }}}}")))
                    .collect()
            } else {
                s.template.clone()
            };
            let refs: Vec<(&str, &str, &str)> = s
                .generate
                .iter()
                .map(|k| (k.as_str(), path.as_str(), k.as_str()))
                .collect();
            wiring.external(&s.name, &refs, template, None);
        }

        for copy in &spec.copies {
            let Some((from, name)) = copy.from.split_once('/') else {
                continue;
            };
            let keys: Vec<String> = self
                .get(from)
                .and_then(|p| p.spec.secrets.iter().find(|s| s.name == name))
                .map(|s| s.generate.clone())
                .ok_or_else(|| {
                    GitopsError::Invalid(format!(
                        "component {}: copies {}, which the selection does not generate",
                        c.id, copy.from
                    ))
                })?;
            let path = generated_path(from, name);
            let template = if copy.template.is_empty() {
                keys.iter()
                    .map(|k| (k.clone(), format!("{{{{ .{k} }}}}")))
                    .collect()
            } else {
                copy.template.clone()
            };
            let refs: Vec<(&str, &str, &str)> = keys
                .iter()
                .map(|k| (k.as_str(), path.as_str(), k.as_str()))
                .collect();
            wiring.external(&copy.name, &refs, template, None);
        }

        // What a provider generates for its consumers, beside its own release.
        let mut extra_values = None;
        match c.id.as_str() {
            "keycloak" => self.keycloak_wiring(&mut wiring, &mut u),
            "seaweedfs" => extra_values = self.seaweedfs_wiring(&mut wiring),
            "openbao" => self.openbao_wiring(&mut u, &ns),
            "external-dns" => extra_values = Some(self.external_dns_values()),
            _ => {}
        }

        if wiring.uses_store() {
            u.depends_on.insert("secret-store".into());
        }
        let docs = wiring.documents();
        if !docs.is_empty() {
            for d in docs {
                u.add("secrets.yaml", d);
            }
        }
        if u.files.keys().any(|f| f != "namespace.yaml") && !SYSTEM_NAMESPACES.contains(&ns.as_str()) {
            u.add("namespace.yaml", namespace(&ns));
        }
        let (repo, release) = release(c, &self.opts, extra_values)?;
        u.add("release.yaml", repo);
        u.add("release.yaml", release);
        u.depends_on.remove(&c.id);
        Ok(u)
    }

    fn route(&self, c: &ComponentRelease, h: &spec::Host) -> Y {
        Y::map([
            ("apiVersion", Y::s("gateway.networking.k8s.io/v1")),
            ("kind", Y::s("HTTPRoute")),
            (
                "metadata",
                Y::map([("name", Y::s(&c.id)), ("namespace", Y::s(&c.namespace))]),
            ),
            (
                "spec",
                Y::map([
                    (
                        "parentRefs",
                        Y::List(vec![Y::map([
                            ("name", Y::s(GATEWAY)),
                            ("namespace", Y::s(self.ns_of("envoy"))),
                            ("sectionName", Y::s("https")),
                        ])]),
                    ),
                    ("hostnames", Y::List(vec![Y::s(Self::host(&h.name))])),
                    (
                        "rules",
                        Y::List(vec![Y::map([(
                            "backendRefs",
                            Y::List(vec![Y::map([
                                ("name", Y::s(&h.service)),
                                ("port", Y::Int(i64::from(h.port))),
                            ])]),
                        )])]),
                    ),
                ]),
            ),
        ])
    }

    /// The OIDC clients of the realm: every selected component's, and the console's.
    fn oidc_clients(&self) -> Vec<(String, Vec<String>)> {
        let mut clients: Vec<(String, Vec<String>)> = self
            .consumers(|s| s.oidc.is_some())
            .filter_map(|c| {
                let o = c.spec.oidc.as_ref()?;
                let host = Self::host(&c.spec.host.as_ref()?.name);
                Some((
                    o.client.clone(),
                    o.redirect_paths
                        .iter()
                        .map(|p| format!("https://{host}{p}"))
                        .collect(),
                ))
            })
            .collect();
        if !clients.iter().any(|(c, _)| c == CONSOLE_CLIENT) {
            clients.push((
                CONSOLE_CLIENT.into(),
                vec![format!(
                    "https://{}{}",
                    Self::host("console"),
                    crate::auth::public::OIDC_CALLBACK
                )],
            ));
        }
        clients
    }

    fn keycloak_wiring(&self, w: &mut Wiring, u: &mut Unit) {
        let clients = self.oidc_clients();
        let mut refs = Vec::new();
        for (client, _) in &clients {
            w.push(&format!("oidc-{client}"), &oidc_path(client), "secret");
            refs.push((env_name(client), oidc_path(client)));
        }
        let template: BTreeMap<String, String> = refs
            .iter()
            .map(|(env, _)| (env.clone(), format!("{{{{ .{env} }}}}")))
            .collect();
        let r: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|(env, path)| (env.as_str(), path.as_str(), "secret"))
            .collect();
        w.external("keycloak-oidc-clients", &r, template, None);
        u.add("realm.yaml", self.realm(&clients));
    }

    /// The realm import (Keycloak reads it at start with `--import-realm`; client secrets come from the
    /// environment, `$${…}` being Flux's escape for a literal `${…}`).
    fn realm(&self, clients: &[(String, Vec<String>)]) -> Y {
        let client_json: Vec<Value> = clients
            .iter()
            .map(|(id, redirects)| {
                let origins: BTreeSet<String> = redirects
                    .iter()
                    .filter_map(|r| {
                        let rest = r.strip_prefix("https://")?;
                        Some(format!("https://{}", rest.split('/').next()?))
                    })
                    .collect();
                serde_json::json!({
                    "clientId": id,
                    "name": id,
                    "enabled": true,
                    "protocol": "openid-connect",
                    "publicClient": false,
                    "clientAuthenticatorType": "client-secret",
                    "secret": format!("$${{{}}}", env_name(id)),
                    "standardFlowEnabled": true,
                    "directAccessGrantsEnabled": false,
                    "redirectUris": redirects,
                    "webOrigins": origins,
                    "attributes": { "pkce.code.challenge.method": "S256", "post.logout.redirect.uris": "+" },
                    "defaultClientScopes": ["profile", "email", "roles", "groups"],
                })
            })
            .collect();
        let realm = serde_json::json!({
            "realm": REALM,
            "enabled": true,
            "displayName": "${SOVEREIGN_FQDN}",
            "sslRequired": "external",
            "registrationAllowed": false,
            "loginWithEmailAllowed": true,
            "bruteForceProtected": true,
            "groups": [{ "name": "sovereign-admins" }, { "name": "sovereign-users" }],
            "clientScopes": [{
                "name": "groups",
                "protocol": "openid-connect",
                "attributes": { "include.in.token.scope": "true" },
                "protocolMappers": [{
                    "name": "groups",
                    "protocol": "openid-connect",
                    "protocolMapper": "oidc-group-membership-mapper",
                    "config": {
                        "claim.name": "groups",
                        "full.path": "false",
                        "id.token.claim": "true",
                        "access.token.claim": "true",
                        "userinfo.token.claim": "true"
                    }
                }]
            }],
            "clients": client_json,
        });
        let text = serde_json::to_string_pretty(&realm).unwrap_or_default() + "\n";
        Y::map([
            ("apiVersion", Y::s("v1")),
            ("kind", Y::s("ConfigMap")),
            (
                "metadata",
                Y::map([
                    ("name", Y::s("keycloak-realm")),
                    ("namespace", Y::s(self.ns_of("keycloak"))),
                ]),
            ),
            ("data", Y::map([(format!("{REALM}.json"), Y::s(text))])),
        ])
    }

    /// SeaweedFS: a key pair per bucket consumer (in OpenBao), the S3 gateway's identities Secret, and the
    /// buckets to create (added to the release's values).
    fn seaweedfs_wiring(&self, w: &mut Wiring) -> Option<Value> {
        let consumers: Vec<&ComponentRelease> = self.consumers(|s| s.buckets.is_some()).collect();
        if consumers.is_empty() {
            return None;
        }
        let mut refs = Vec::new();
        let mut identities = Vec::new();
        let mut buckets = Vec::new();
        for c in &consumers {
            let b = c.spec.buckets.as_ref()?;
            let key = |k: &str| format!("{}_{k}", env_name(&c.id).to_ascii_lowercase());
            for k in ["accessKey", "secretKey"] {
                w.push(
                    &format!("s3-{}-{}", c.id, k.to_ascii_lowercase()),
                    &s3_path(&c.id),
                    k,
                );
                refs.push((key(k), s3_path(&c.id), k.to_string()));
            }
            let actions: Vec<Value> = b
                .names
                .iter()
                .flat_map(|n| ["Read", "Write", "List", "Tagging"].map(|a| Value::String(format!("{a}:{n}"))))
                .collect();
            identities.push(serde_json::json!({
                "name": c.id,
                "credentials": [{
                    "accessKey": format!("{{{{ .{} }}}}", key("accessKey")),
                    "secretKey": format!("{{{{ .{} }}}}", key("secretKey")),
                }],
                "actions": actions,
            }));
            buckets.extend(b.names.iter().map(|n| serde_json::json!({ "name": n })));
        }
        let config = serde_json::to_string_pretty(&serde_json::json!({ "identities": identities }))
            .unwrap_or_default();
        let r: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|(k, p, prop)| (k.as_str(), p.as_str(), prop.as_str()))
            .collect();
        w.external(
            "seaweedfs-s3-config",
            &r,
            BTreeMap::from([("seaweedfs_s3_config".to_string(), config + "\n")]),
            None,
        );
        Some(serde_json::json!({
            "s3": { "enableAuth": true, "existingConfigSecret": "seaweedfs-s3-config", "createBuckets": buckets }
        }))
    }

    /// external-dns' RFC 2136 arguments: with DNS-01 on, updates to Catalyst's PowerDNS signed with the
    /// Sovereign's TSIG key (Secret external-dns/sovereign-dns-tsig, key `secret`), except in an air-gapped
    /// region (no load balancer: a dry run there); without the key, a dry run that only logs what it would
    /// publish.
    fn external_dns_values(&self) -> Value {
        if self.opts.acme.dns01 {
            serde_json::json!({
                "extraArgs": [
                    "--rfc2136-host=${SOVEREIGN_DNS_SERVER}",
                    "--rfc2136-port=53",
                    "--rfc2136-zone=${SOVEREIGN_FQDN}",
                    "--rfc2136-tsig-keyname=${SOVEREIGN_DNS_TSIG_KEYNAME}",
                    "--rfc2136-tsig-secret-alg=hmac-sha256",
                    "--rfc2136-tsig-axfr",
                    // An air-gapped region has no load balancer to point names at: it only logs.
                    "--dry-run=${SOVEREIGN_AIRGAP}",
                ],
                "env": [{
                    "name": "EXTERNAL_DNS_RFC2136_TSIG_SECRET",
                    "valueFrom": { "secretKeyRef": { "name": TSIG_SECRET, "key": "secret" } },
                }],
            })
        } else {
            serde_json::json!({
                "extraArgs": [
                    "--dry-run",
                    "--rfc2136-host=127.0.0.1",
                    "--rfc2136-port=53",
                    "--rfc2136-zone=${SOVEREIGN_FQDN}",
                    "--rfc2136-insecure",
                ],
            })
        }
    }

    /// OpenBao's static seal key: generated once by External Secrets (no store needed), kept in an
    /// immutable Secret that the server reads; OpenBao itself initialises from its configuration.
    fn openbao_wiring(&self, u: &mut Unit, ns: &str) {
        u.add("seal.yaml", password_generator(ns));
        u.add(
            "seal.yaml",
            Y::map([
                ("apiVersion", Y::s("external-secrets.io/v1beta1")),
                ("kind", Y::s("ExternalSecret")),
                (
                    "metadata",
                    Y::map([("name", Y::s("openbao-seal")), ("namespace", Y::s(ns))]),
                ),
                (
                    "spec",
                    Y::map([
                        ("refreshInterval", Y::s("0s")),
                        (
                            "target",
                            Y::map([
                                ("name", Y::s("openbao-seal")),
                                ("creationPolicy", Y::s("Orphan")),
                                ("deletionPolicy", Y::s("Retain")),
                                ("immutable", Y::Bool(true)),
                                (
                                    "template",
                                    Y::map([
                                        ("engineVersion", Y::s("v2")),
                                        ("data", Y::map([("key", Y::s("{{ .password | sha256sum }}"))])),
                                    ]),
                                ),
                            ]),
                        ),
                        (
                            "dataFrom",
                            Y::List(vec![Y::map([(
                                "sourceRef",
                                Y::map([("generatorRef", generator_ref())]),
                            )])]),
                        ),
                    ]),
                ),
            ]),
        );
    }

    // -- the kit's own units --

    fn issuers_unit(&self) -> Unit {
        let mut u = Unit::new(
            "cert-manager-issuers",
            None,
            "Let's Encrypt issuers of the Sovereign's certificate".into(),
        );
        u.depends_on.insert("cert-manager".into());
        for (name, server) in [
            ("letsencrypt", "https://acme-v02.api.letsencrypt.org/directory"),
            (
                "letsencrypt-staging",
                "https://acme-staging-v02.api.letsencrypt.org/directory",
            ),
        ] {
            let solver = if self.opts.acme.dns01 {
                Y::map([(
                    "dns01",
                    Y::map([(
                        "rfc2136",
                        Y::map([
                            ("nameserver", Y::s("${SOVEREIGN_DNS_SERVER}:53")),
                            ("tsigKeyName", Y::s("${SOVEREIGN_DNS_TSIG_KEYNAME}")),
                            ("tsigAlgorithm", Y::s("HMACSHA256")),
                            (
                                "tsigSecretSecretRef",
                                Y::map([("name", Y::s(TSIG_SECRET)), ("key", Y::s("secret"))]),
                            ),
                        ]),
                    )]),
                )])
            } else {
                Y::map([(
                    "http01",
                    Y::map([(
                        "gatewayHTTPRoute",
                        Y::map([(
                            "parentRefs",
                            Y::List(vec![Y::map([
                                ("name", Y::s(GATEWAY)),
                                ("namespace", Y::s(self.ns_of("envoy"))),
                                ("kind", Y::s("Gateway")),
                                ("sectionName", Y::s("http")),
                            ])]),
                        )]),
                    )]),
                )])
            };
            u.add(
                "issuers.yaml",
                Y::map([
                    ("apiVersion", Y::s("cert-manager.io/v1")),
                    ("kind", Y::s("ClusterIssuer")),
                    ("metadata", Y::map([("name", Y::s(name))])),
                    (
                        "spec",
                        Y::map([(
                            "acme",
                            Y::map([
                                ("server", Y::s(server)),
                                ("email", Y::s("${SOVEREIGN_ADMIN_EMAIL}")),
                                (
                                    "privateKeySecretRef",
                                    Y::map([("name", Y::s(format!("{name}-account")))]),
                                ),
                                ("solvers", Y::List(vec![solver])),
                            ]),
                        )]),
                    ),
                ]),
            );
        }
        u
    }

    /// Hosts on the Sovereign's certificate in HTTP-01 mode (DNS-01 takes the wildcard).
    fn hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self
            .consumers(|s| s.host.is_some())
            .filter_map(|c| c.spec.host.as_ref().map(|h| Self::host(&h.name)))
            .collect();
        hosts.sort();
        hosts
    }

    fn gateway_unit(&self) -> Result<Unit, GitopsError> {
        let ns = self.ns_of("envoy");
        let mut u = Unit::new(
            "gateway",
            None,
            "the Sovereign's Gateway, its certificate and the HTTP to HTTPS redirect".into(),
        );
        u.depends_on.insert("envoy".into());
        u.depends_on.insert("cert-manager-issuers".into());
        let proxy = self
            .get("envoy")
            .and_then(|e| e.spec.workloads.iter().find(|w| w.name == "envoy-proxy"))
            .ok_or_else(|| {
                GitopsError::Invalid(
                    "platform/envoy/kit.yaml needs the workload envoy-proxy (the Gateway's proxies)".into(),
                )
            })?;
        let resources = match &proxy.resources {
            Resources::Inline(v) => Y::from_json(v),
            Resources::Path(_) => {
                return Err(GitopsError::Invalid(
                    "platform/envoy/kit.yaml: envoy-proxy's resources must be written out (the kit generates it)"
                        .into(),
                ));
            }
        };
        let replicas = replicas_of(&proxy.replicas, self.opts.ha).ok_or_else(|| {
            GitopsError::Invalid("envoy-proxy: replicas must be a number or {default, ha}".into())
        })?;
        u.add(
            "gateway.yaml",
            Y::map([
                ("apiVersion", Y::s("gateway.envoyproxy.io/v1alpha1")),
                ("kind", Y::s("EnvoyProxy")),
                (
                    "metadata",
                    Y::map([("name", Y::s(GATEWAY)), ("namespace", Y::s(&ns))]),
                ),
                (
                    "spec",
                    Y::map([(
                        "provider",
                        Y::map([
                            ("type", Y::s("Kubernetes")),
                            (
                                "kubernetes",
                                Y::map([
                                    (
                                        "envoyDeployment",
                                        Y::map([
                                            ("replicas", Y::Int(i64::from(replicas))),
                                            ("container", Y::map([("resources", resources)])),
                                        ]),
                                    ),
                                    (
                                        "envoyService",
                                        Y::map([
                                            // The load balancer (infra/hetzner) forwards 80 and 443 to these
                                            // NodePorts on the control planes; any node forwards to the proxies.
                                            ("type", Y::s("NodePort")),
                                            ("externalTrafficPolicy", Y::s("Cluster")),
                                            (
                                                "patch",
                                                Y::map([
                                                    ("type", Y::s("StrategicMerge")),
                                                    (
                                                        "value",
                                                        Y::map([(
                                                            "spec",
                                                            Y::map([(
                                                                "ports",
                                                                Y::List(vec![
                                                                    Y::map([
                                                                        ("port", Y::Int(80)),
                                                                        ("nodePort", Y::Int(HTTP_NODE_PORT)),
                                                                    ]),
                                                                    Y::map([
                                                                        ("port", Y::Int(443)),
                                                                        ("nodePort", Y::Int(HTTPS_NODE_PORT)),
                                                                    ]),
                                                                ]),
                                                            )]),
                                                        )]),
                                                    ),
                                                ]),
                                            ),
                                        ]),
                                    ),
                                ]),
                            ),
                        ]),
                    )]),
                ),
            ]),
        );
        u.add(
            "gateway.yaml",
            Y::map([
                ("apiVersion", Y::s("gateway.networking.k8s.io/v1")),
                ("kind", Y::s("GatewayClass")),
                ("metadata", Y::map([("name", Y::s(GATEWAY))])),
                (
                    "spec",
                    Y::map([
                        (
                            "controllerName",
                            Y::s("gateway.envoyproxy.io/gatewayclass-controller"),
                        ),
                        (
                            "parametersRef",
                            Y::map([
                                ("group", Y::s("gateway.envoyproxy.io")),
                                ("kind", Y::s("EnvoyProxy")),
                                ("name", Y::s(GATEWAY)),
                                ("namespace", Y::s(&ns)),
                            ]),
                        ),
                    ]),
                ),
            ]),
        );
        let listener = |name: &str, protocol: &str, port: i64, tls: bool| {
            let mut l = vec![
                ("name", Y::s(name)),
                ("protocol", Y::s(protocol)),
                ("port", Y::Int(port)),
                ("hostname", Y::s("*.${SOVEREIGN_FQDN}")),
            ];
            if tls {
                l.push((
                    "tls",
                    Y::map([
                        ("mode", Y::s("Terminate")),
                        (
                            "certificateRefs",
                            Y::List(vec![Y::map([
                                ("kind", Y::s("Secret")),
                                ("name", Y::s(TLS_SECRET)),
                            ])]),
                        ),
                    ]),
                ));
            }
            l.push((
                "allowedRoutes",
                Y::map([("namespaces", Y::map([("from", Y::s("All"))]))]),
            ));
            Y::map(l)
        };
        u.add(
            "gateway.yaml",
            Y::map([
                ("apiVersion", Y::s("gateway.networking.k8s.io/v1")),
                ("kind", Y::s("Gateway")),
                (
                    "metadata",
                    Y::map([
                        ("name", Y::s(GATEWAY)),
                        ("namespace", Y::s(&ns)),
                        (
                            "annotations",
                            // external-dns points every route's host at this region's load balancer.
                            Y::map([(
                                "external-dns.alpha.kubernetes.io/target",
                                Y::s("${SOVEREIGN_LB_IP}"),
                            )]),
                        ),
                    ]),
                ),
                (
                    "spec",
                    Y::map([
                        ("gatewayClassName", Y::s(GATEWAY)),
                        (
                            "listeners",
                            Y::List(vec![
                                listener("http", "HTTP", 80, false),
                                listener("https", "HTTPS", 443, true),
                            ]),
                        ),
                    ]),
                ),
            ]),
        );
        u.add(
            "gateway.yaml",
            Y::map([
                ("apiVersion", Y::s("gateway.networking.k8s.io/v1")),
                ("kind", Y::s("HTTPRoute")),
                (
                    "metadata",
                    Y::map([("name", Y::s("https-redirect")), ("namespace", Y::s(&ns))]),
                ),
                (
                    "spec",
                    Y::map([
                        (
                            "parentRefs",
                            Y::List(vec![Y::map([
                                ("name", Y::s(GATEWAY)),
                                ("sectionName", Y::s("http")),
                            ])]),
                        ),
                        (
                            "rules",
                            Y::List(vec![Y::map([(
                                "filters",
                                Y::List(vec![Y::map([
                                    ("type", Y::s("RequestRedirect")),
                                    (
                                        "requestRedirect",
                                        Y::map([("scheme", Y::s("https")), ("statusCode", Y::Int(301))]),
                                    ),
                                ])]),
                            )])]),
                        ),
                    ]),
                ),
            ]),
        );
        let dns_names: Vec<Y> = if self.opts.acme.dns01 {
            vec![Y::s("${SOVEREIGN_FQDN}"), Y::s("*.${SOVEREIGN_FQDN}")]
        } else {
            self.hosts().into_iter().map(Y::s).collect()
        };
        if !dns_names.is_empty() {
            u.add(
                "certificate.yaml",
                Y::map([
                    ("apiVersion", Y::s("cert-manager.io/v1")),
                    ("kind", Y::s("Certificate")),
                    (
                        "metadata",
                        Y::map([("name", Y::s(TLS_SECRET)), ("namespace", Y::s(&ns))]),
                    ),
                    (
                        "spec",
                        Y::map([
                            ("secretName", Y::s(TLS_SECRET)),
                            (
                                "issuerRef",
                                Y::map([
                                    ("kind", Y::s("ClusterIssuer")),
                                    (
                                        "name",
                                        Y::s(if self.opts.acme.staging {
                                            "letsencrypt-staging"
                                        } else {
                                            "letsencrypt"
                                        }),
                                    ),
                                ]),
                            ),
                            ("dnsNames", Y::List(dns_names)),
                            (
                                "privateKey",
                                Y::map([
                                    ("algorithm", Y::s("ECDSA")),
                                    ("size", Y::Int(256)),
                                    ("rotationPolicy", Y::s("Always")),
                                ]),
                            ),
                        ]),
                    ),
                ]),
            );
        }
        Ok(u)
    }

    fn store_unit(&self) -> Unit {
        let mut u = Unit::new(
            "secret-store",
            None,
            "the ClusterSecretStore every generated secret goes through (OpenBao)".into(),
        );
        u.depends_on.insert("openbao".into());
        u.depends_on.insert("external-secrets".into());
        u.add(
            "store.yaml",
            Y::map([
                ("apiVersion", Y::s("external-secrets.io/v1beta1")),
                ("kind", Y::s("ClusterSecretStore")),
                ("metadata", Y::map([("name", Y::s(STORE))])),
                (
                    "spec",
                    Y::map([(
                        "provider",
                        Y::map([(
                            "vault",
                            Y::map([
                                (
                                    "server",
                                    Y::s(format!("http://openbao.{}.svc:8200", self.ns_of("openbao"))),
                                ),
                                ("path", Y::s("secret")),
                                ("version", Y::s("v2")),
                                (
                                    "auth",
                                    Y::map([(
                                        "kubernetes",
                                        Y::map([
                                            ("mountPath", Y::s("kubernetes")),
                                            ("role", Y::s("external-secrets")),
                                            (
                                                "serviceAccountRef",
                                                Y::map([
                                                    ("name", Y::s("external-secrets")),
                                                    ("namespace", Y::s(self.ns_of("external-secrets"))),
                                                ]),
                                            ),
                                        ]),
                                    )]),
                                ),
                            ]),
                        )]),
                    )]),
                ),
            ]),
        );
        u
    }

    fn db_cluster_unit(&self) -> Result<Unit, GitopsError> {
        let ns = self.ns_of("cnpg");
        let mut u = Unit::new(
            "cnpg-cluster",
            None,
            "the shared PostgreSQL cluster: a role and a database per consumer".into(),
        );
        u.depends_on.insert("cnpg".into());
        let sizing = self
            .get("cnpg")
            .and_then(|c| c.spec.workloads.iter().find(|w| w.name == DB_CLUSTER))
            .ok_or_else(|| {
                GitopsError::Invalid(format!(
                    "platform/cnpg/kit.yaml needs the workload {DB_CLUSTER} (the shared cluster)"
                ))
            })?;
        let Resources::Inline(resources) = &sizing.resources else {
            return Err(GitopsError::Invalid(format!(
                "platform/cnpg/kit.yaml: {DB_CLUSTER}'s resources must be written out"
            )));
        };
        let instances = replicas_of(&sizing.replicas, self.opts.ha).ok_or_else(|| {
            GitopsError::Invalid(format!(
                "{DB_CLUSTER}: replicas must be a number or {{default, ha}}"
            ))
        })?;
        let storage = sizing.storage.clone().unwrap_or_else(|| "20Gi".into());
        let mut w = Wiring::new(&ns);
        let mut roles = Vec::new();
        for c in self.consumers(|s| s.database.is_some()) {
            let Some(db) = &c.spec.database else { continue };
            let secret = format!("db-{}", c.id);
            w.push(&secret, &db_path(&c.id), "password");
            w.external(
                &secret,
                &[("password", &db_path(&c.id), "password")],
                BTreeMap::from([
                    ("username".to_string(), db.name.clone()),
                    ("password".to_string(), "{{ .password }}".to_string()),
                ]),
                Some("kubernetes.io/basic-auth"),
            );
            roles.push(Y::map([
                ("name", Y::s(&db.name)),
                ("ensure", Y::s("present")),
                ("login", Y::Bool(true)),
                ("passwordSecret", Y::map([("name", Y::s(&secret))])),
            ]));
            u.add(
                "databases.yaml",
                Y::map([
                    ("apiVersion", Y::s("postgresql.cnpg.io/v1")),
                    ("kind", Y::s("Database")),
                    (
                        "metadata",
                        Y::map([("name", Y::s(&db.name)), ("namespace", Y::s(&ns))]),
                    ),
                    (
                        "spec",
                        Y::map([
                            ("name", Y::s(&db.name)),
                            ("owner", Y::s(&db.name)),
                            ("cluster", Y::map([("name", Y::s(DB_CLUSTER))])),
                        ]),
                    ),
                ]),
            );
        }
        u.add(
            "cluster.yaml",
            Y::map([
                ("apiVersion", Y::s("postgresql.cnpg.io/v1")),
                ("kind", Y::s("Cluster")),
                (
                    "metadata",
                    Y::map([("name", Y::s(DB_CLUSTER)), ("namespace", Y::s(&ns))]),
                ),
                (
                    "spec",
                    Y::map([
                        ("instances", Y::Int(i64::from(instances))),
                        ("enableSuperuserAccess", Y::Bool(false)),
                        (
                            "storage",
                            Y::map([("size", Y::s(storage)), ("storageClass", Y::s(STORAGE_CLASS))]),
                        ),
                        ("resources", Y::from_json(resources)),
                        (
                            "postgresql",
                            Y::map([("parameters", Y::map([("max_connections", Y::s("200"))]))]),
                        ),
                        ("managed", Y::map([("roles", Y::List(roles))])),
                    ]),
                ),
            ]),
        );
        if w.uses_store() {
            u.depends_on.insert("secret-store".into());
        }
        for d in w.documents() {
            u.add("secrets.yaml", d);
        }
        Ok(u)
    }
}

/// The NodePorts the load balancer of infra/hetzner forwards 80 and 443 to.
pub const HTTP_NODE_PORT: i64 = 31080;
pub const HTTPS_NODE_PORT: i64 = 31443;
/// The Hetzner CSI driver's StorageClass (hcloud-csi).
pub const STORAGE_CLASS: &str = "hcloud-volumes";

fn replicas_of(r: &Replicas, ha: bool) -> Option<u32> {
    match r {
        Replicas::Count(n) => Some(*n),
        Replicas::Ha { default, ha: h } => Some(if ha { *h } else { *default }),
        Replicas::Path(_) => None,
    }
}

/// `grafana` → `OIDC_GRAFANA_SECRET`-style names: uppercase, `-` → `_`.
fn env_name(id: &str) -> String {
    format!("OIDC_{}_SECRET", id.to_ascii_uppercase().replace('-', "_"))
}

/// Where generated values live in OpenBao (KV v2 mount `secret`).
pub fn db_path(id: &str) -> String {
    format!("sovereign/db/{id}")
}
pub fn s3_path(id: &str) -> String {
    format!("sovereign/s3/{id}")
}
pub fn oidc_path(client: &str) -> String {
    format!("sovereign/oidc/{client}")
}
pub fn generated_path(id: &str, name: &str) -> String {
    format!("sovereign/{id}/{name}")
}

fn namespace(ns: &str) -> Y {
    Y::map([
        ("apiVersion", Y::s("v1")),
        ("kind", Y::s("Namespace")),
        ("metadata", Y::map([("name", Y::s(ns))])),
    ])
}

fn generator_ref() -> Y {
    Y::map([
        ("apiVersion", Y::s("generators.external-secrets.io/v1alpha1")),
        ("kind", Y::s("Password")),
        ("name", Y::s("kit-password")),
    ])
}

/// The generator of every value the kit creates: 32 letters and digits (no symbols: the values end up in
/// URLs, INI files and environment variables).
fn password_generator(ns: &str) -> Y {
    Y::map([
        ("apiVersion", Y::s("generators.external-secrets.io/v1alpha1")),
        ("kind", Y::s("Password")),
        (
            "metadata",
            Y::map([("name", Y::s("kit-password")), ("namespace", Y::s(ns))]),
        ),
        (
            "spec",
            Y::map([
                ("length", Y::Int(32)),
                ("digits", Y::Int(8)),
                ("symbols", Y::Int(0)),
                ("noUpper", Y::Bool(false)),
                ("allowRepeat", Y::Bool(true)),
            ]),
        ),
    ])
}

/// The External Secrets objects of one namespace: values generated into OpenBao, Secrets read from it.
struct Wiring {
    ns: String,
    pushes: Vec<Y>,
    externals: Vec<Y>,
}

impl Wiring {
    fn new(ns: &str) -> Self {
        Wiring {
            ns: ns.into(),
            pushes: Vec::new(),
            externals: Vec::new(),
        }
    }

    fn uses_store(&self) -> bool {
        !self.pushes.is_empty() || !self.externals.is_empty()
    }

    /// A random value stored once in OpenBao (never replaced), as `<path>/<property>` with the property
    /// `value`: one KV secret per value, so two PushSecrets never read-modify-write the same secret.
    fn push(&mut self, name: &str, path: &str, property: &str) {
        let key = format!("{path}/{property}");
        self.pushes.push(Y::map([
            ("apiVersion", Y::s("external-secrets.io/v1alpha1")),
            ("kind", Y::s("PushSecret")),
            (
                "metadata",
                Y::map([
                    ("name", Y::s(format!("generate-{name}"))),
                    ("namespace", Y::s(&self.ns)),
                ]),
            ),
            (
                "spec",
                Y::map([
                    ("refreshInterval", Y::s("1h")),
                    ("updatePolicy", Y::s("IfNotExists")),
                    ("deletionPolicy", Y::s("None")),
                    (
                        "secretStoreRefs",
                        Y::List(vec![Y::map([
                            ("name", Y::s(STORE)),
                            ("kind", Y::s("ClusterSecretStore")),
                        ])]),
                    ),
                    ("selector", Y::map([("generatorRef", generator_ref())])),
                    (
                        "data",
                        Y::List(vec![Y::map([(
                            "match",
                            Y::map([
                                ("secretKey", Y::s("password")),
                                (
                                    "remoteRef",
                                    Y::map([("remoteKey", Y::s(&key)), ("property", Y::s("value"))]),
                                ),
                            ]),
                        )])]),
                    ),
                ]),
            ),
        ]));
    }

    /// Secret `name` in this namespace with `template`'s keys, over `(variable, path, property)` read from
    /// OpenBao.
    fn external(
        &mut self,
        name: &str,
        refs: &[(&str, &str, &str)],
        template: BTreeMap<String, String>,
        kind: Option<&str>,
    ) {
        let mut tpl = vec![("engineVersion", Y::s("v2"))];
        if let Some(k) = kind {
            tpl.push(("type", Y::s(k)));
        }
        tpl.push((
            "data",
            Y::Map(template.into_iter().map(|(k, v)| (k, Y::s(v))).collect()),
        ));
        self.externals.push(Y::map([
            ("apiVersion", Y::s("external-secrets.io/v1beta1")),
            ("kind", Y::s("ExternalSecret")),
            (
                "metadata",
                Y::map([("name", Y::s(name)), ("namespace", Y::s(&self.ns))]),
            ),
            (
                "spec",
                Y::map([
                    ("refreshInterval", Y::s("1h")),
                    (
                        "secretStoreRef",
                        Y::map([("name", Y::s(STORE)), ("kind", Y::s("ClusterSecretStore"))]),
                    ),
                    (
                        "target",
                        Y::map([
                            ("name", Y::s(name)),
                            ("creationPolicy", Y::s("Owner")),
                            ("template", Y::map(tpl)),
                        ]),
                    ),
                    (
                        "data",
                        Y::List(
                            refs.iter()
                                .map(|(var, path, prop)| {
                                    Y::map([
                                        ("secretKey", Y::s(*var)),
                                        (
                                            "remoteRef",
                                            Y::map([
                                                ("key", Y::s(format!("{path}/{prop}"))),
                                                ("property", Y::s("value")),
                                            ]),
                                        ),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ]),
            ),
        ]));
    }

    fn documents(self) -> Vec<Y> {
        let mut out = Vec::new();
        if !self.pushes.is_empty() {
            out.push(password_generator(&self.ns));
        }
        out.extend(self.pushes);
        out.extend(self.externals);
        out
    }
}

/// The HelmRepository and HelmRelease `bp-<id>`.
fn release(c: &ComponentRelease, opts: &KitOptions, extra: Option<Value>) -> Result<(Y, Y), GitopsError> {
    let name = format!("bp-{}", c.id);
    let repo = c.chart.repository.trim().trim_end_matches('/');
    let oci = repo.starts_with("oci://");
    let mut repo_spec = vec![("interval", Y::s("1h")), ("url", Y::s(repo))];
    if oci {
        repo_spec.push(("type", Y::s("oci")));
    }
    let repository = Y::map([
        ("apiVersion", Y::s("source.toolkit.fluxcd.io/v1")),
        ("kind", Y::s("HelmRepository")),
        (
            "metadata",
            Y::map([("name", Y::s(&name)), ("namespace", Y::s("flux-system"))]),
        ),
        ("spec", Y::map(repo_spec)),
    ]);

    let ns = c.namespace.trim();
    let mut spec = vec![
        ("interval", Y::s("15m")),
        // The release keeps the component's own name in its namespace (cloud-init's Cilium is adopted).
        ("releaseName", Y::s(&c.id)),
        ("targetNamespace", Y::s(ns)),
        ("storageNamespace", Y::s(ns)),
        ("timeout", Y::s("15m")),
        (
            "chart",
            Y::map([(
                "spec",
                Y::map([
                    ("chart", Y::s(c.chart.name.trim())),
                    ("version", Y::s(c.chart.version.trim())),
                    (
                        "sourceRef",
                        Y::map([("kind", Y::s("HelmRepository")), ("name", Y::s(&name))]),
                    ),
                    ("interval", Y::s("1h")),
                ]),
            )]),
        ),
        (
            "install",
            Y::map([
                ("createNamespace", Y::Bool(true)),
                // Charts that ship CRDs in crds/ get them on install and on every upgrade.
                ("crds", Y::s("CreateReplace")),
                ("remediation", Y::map([("retries", Y::Int(3))])),
            ]),
        ),
        (
            "upgrade",
            Y::map([
                ("crds", Y::s("CreateReplace")),
                ("remediation", Y::map([("retries", Y::Int(3))])),
            ]),
        ),
    ];
    let deps: Vec<Y> = c
        .depends_on
        .iter()
        .filter(|d| !provided(d))
        .map(|d| Y::map([("name", Y::s(format!("bp-{d}")))]))
        .collect();
    if !deps.is_empty() {
        spec.push(("dependsOn", Y::List(deps)));
    }
    let base = if opts.ha {
        c.values_ha.clone().or_else(|| c.values.clone())
    } else {
        c.values.clone()
    };
    let layers = [base, extra, required_values(&c.id)];
    if let Some(values) = layers.into_iter().flatten().reduce(spec::overlay)
        && !values.is_null()
    {
        spec.push(("values", Y::from_json(&values)));
    }
    let release = Y::map([
        ("apiVersion", Y::s("helm.toolkit.fluxcd.io/v2")),
        ("kind", Y::s("HelmRelease")),
        (
            "metadata",
            Y::map([
                ("name", Y::s(&name)),
                ("namespace", Y::s("flux-system")),
                ("labels", Y::map([("catalyst.dev/component", Y::s(&c.id))])),
            ]),
        ),
        ("spec", Y::map(spec)),
    ]);
    Ok((repository, release))
}

/// Values a component must have to agree with what cloud-init set up (infra/hetzner). `${…}` come from the
/// ConfigMap `flux-system/sovereign-settings` that cloud-init writes per region.
fn required_values(id: &str) -> Option<Value> {
    match id {
        // The same settings cloud-init's `helm install cilium` used: k3s runs without kube-proxy and flannel.
        "cilium" => Some(serde_json::json!({
            "kubeProxyReplacement": true,
            "k8sServiceHost": "${K8S_SERVICE_HOST}",
            "k8sServicePort": 6443,
            "ipam": { "mode": "kubernetes" },
            "routingMode": "tunnel",
            "tunnelProtocol": "vxlan",
            "bpf": { "masquerade": true },
            "l7Proxy": true,
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ChartRef;
    use super::*;

    fn comp(id: &str, deps: &[&str]) -> ComponentRelease {
        ComponentRelease {
            id: id.into(),
            chart: ChartRef {
                repository: "https://charts.example.com".into(),
                name: id.into(),
                version: "1.0.0".into(),
            },
            namespace: id.into(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn orders_by_dependencies_then_input() {
        let cs = vec![
            comp("grafana", &["loki", "cnpg"]),
            comp("cilium", &[]),
            comp("loki", &["cert-manager"]),
            comp("cert-manager", &["cilium"]),
            comp("cnpg", &["flux"]),
            comp("flux", &[]),
        ];
        let order: Vec<&str> = kit_order(&cs)
            .expect("order")
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(order, ["cilium", "cert-manager", "loki", "cnpg", "grafana"]);
    }

    #[test]
    fn refuses_missing_dependencies_cycles_and_bad_ids() {
        let e = kit_order(&[comp("a", &["b"])]).expect_err("missing");
        assert!(
            e.to_string().contains("depends on b, which is not selected"),
            "{e}"
        );
        let e = kit_order(&[comp("a", &["b"]), comp("b", &["a"]), comp("c", &[])]).expect_err("cycle");
        assert!(e.to_string().contains("a, b form a cycle"), "{e}");
        let e = kit_order(&[comp("A b", &[])]).expect_err("id");
        assert!(e.to_string().contains("not a component id"), "{e}");
        let e = kit_order(&[comp("a", &[]), comp("a", &[])]).expect_err("twice");
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn kit_units_are_numbered_folders_listed_as_kustomizations() {
        let mut oci = comp("harbor", &["cilium"]);
        oci.chart.repository = "oci://registry-1.docker.io/bitnamicharts".into();
        let files = bootstrap_kit(
            &[comp("cilium", &[]), oci, comp("flux", &[])],
            &KitOptions::default(),
        )
        .expect("kit");
        let names: Vec<&String> = files.keys().collect();
        assert_eq!(
            names,
            [
                "01-cilium/kustomization.yaml",
                "01-cilium/release.yaml",
                "02-harbor/kustomization.yaml",
                "02-harbor/release.yaml",
                "kustomization.yaml",
                "units.yaml"
            ]
        );
        let units = &files["units.yaml"];
        assert!(units.contains("  name: kit-harbor\n"), "{units}");
        assert!(
            units.contains(
                "  dependsOn:\n    - name: kit-cilium\n  path: \"./${GITOPS_PATH}/bootstrap-kit/02-harbor\"\n"
            ),
            "{units}"
        );
        let h = &files["02-harbor/release.yaml"];
        assert!(h.contains("  type: oci\n"), "{h}");
        assert!(h.contains("  dependsOn:\n    - name: bp-cilium\n"), "{h}");
        assert!(h.contains("  releaseName: harbor\n"), "{h}");
        let c = &files["01-cilium/release.yaml"];
        assert!(c.contains("k8sServiceHost: \"${K8S_SERVICE_HOST}\""), "{c}");
        assert!(!c.contains("dependsOn"), "{c}");
    }

    #[test]
    fn catalog_values_are_kept_and_cloud_init_settings_win() {
        let mut c = comp("cilium", &[]);
        c.values = Some(
            serde_json::json!({ "hubble": { "enabled": false }, "ipam": { "mode": "cluster-pool", "x": 1 } }),
        );
        c.values_ha = Some(serde_json::json!({ "hubble": { "enabled": true }, "ipam": { "x": 1 } }));
        let files = bootstrap_kit(&[c.clone()], &KitOptions::default()).expect("kit");
        let f = &files["01-cilium/release.yaml"];
        assert!(f.contains("    hubble:\n      enabled: false\n"), "{f}");
        assert!(
            f.contains("    ipam:\n      mode: kubernetes\n      x: 1\n"),
            "{f}"
        );
        let files = bootstrap_kit(
            &[c],
            &KitOptions {
                ha: true,
                ..Default::default()
            },
        )
        .expect("kit");
        assert!(files["01-cilium/release.yaml"].contains("    hubble:\n      enabled: true\n"));
    }
}
