//! Contract between Catalyst and its OpenTofu module `infra/hetzner`, checked by parsing the module's HCL:
//! the variables Catalyst writes are exactly the declared ones, every required one is written, the values
//! fit the declared types and pass the module's own regex validations, the allowed values of the
//! validations equal Catalyst's enums, every Hetzner resource is labelled with the deployment, and every
//! cloud-init template gets exactly the variables it uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use app::cloud::{HETZNER_REGIONS, HETZNER_SIZES, Provider, Topology};
use app::deployments::{DomainMode, RegionSpec};
use hcl::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body};
use serde_json::Value;
use server::tofu::tfvars::fixtures;
use server::tofu::{TfVars, region_keys};

fn module_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../infra/hetzner")
}

fn parse_module() -> Vec<(String, Body)> {
    let mut files: Vec<_> = std::fs::read_dir(module_dir())
        .expect("infra/hetzner exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "versions.tf, variables.tf, main.tf, outputs.tf");
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read");
            let body = hcl::parse(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", p.display()));
            (file_name(&p), body)
        })
        .collect()
}

fn file_name(p: &Path) -> String {
    p.file_name().expect("name").to_string_lossy().to_string()
}

fn blocks<'a>(files: &'a [(String, Body)], kind: &'a str) -> impl Iterator<Item = &'a Block> + 'a {
    files
        .iter()
        .flat_map(move |(_, b)| b.blocks().filter(move |bl| bl.identifier() == kind))
}

fn attr<'a>(block: &'a Block, name: &str) -> Option<&'a Expression> {
    block
        .body()
        .attributes()
        .find(|a| a.key() == name)
        .map(|a| a.expr())
}

struct Variable {
    ty: Expression,
    has_default: bool,
    sensitive: bool,
    conditions: Vec<Expression>,
}

fn variables(files: &[(String, Body)]) -> BTreeMap<String, Variable> {
    blocks(files, "variable")
        .map(|b| {
            let name = b.labels()[0].as_str().to_string();
            let ty = attr(b, "type")
                .unwrap_or_else(|| panic!("variable {name} declares a type"))
                .clone();
            let conditions = b
                .body()
                .blocks()
                .filter(|v| v.identifier() == "validation")
                .map(|v| attr(v, "condition").expect("condition").clone())
                .collect();
            let has_default = attr(b, "default").is_some();
            let sensitive = matches!(attr(b, "sensitive"), Some(Expression::Bool(true)));
            (
                name,
                Variable {
                    ty,
                    has_default,
                    sensitive,
                    conditions,
                },
            )
        })
        .collect()
}

/// Calls `f` on `expr` and every expression inside it.
fn walk(expr: &Expression, f: &mut dyn FnMut(&Expression)) {
    f(expr);
    match expr {
        Expression::Array(items) => items.iter().for_each(|e| walk(e, f)),
        Expression::Object(obj) => {
            for (k, v) in obj.iter() {
                if let ObjectKey::Expression(k) = k {
                    walk(k, f);
                }
                walk(v, f);
            }
        }
        Expression::Traversal(t) => {
            walk(&t.expr, f);
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op {
                    walk(e, f);
                }
            }
        }
        Expression::FuncCall(c) => c.args.iter().for_each(|e| walk(e, f)),
        Expression::Parenthesis(e) => walk(e, f),
        Expression::Conditional(c) => {
            walk(&c.cond_expr, f);
            walk(&c.true_expr, f);
            walk(&c.false_expr, f);
        }
        Expression::Operation(op) => match op.as_ref() {
            hcl::expr::Operation::Unary(u) => walk(&u.expr, f),
            hcl::expr::Operation::Binary(b) => {
                walk(&b.lhs_expr, f);
                walk(&b.rhs_expr, f);
            }
        },
        Expression::ForExpr(fe) => {
            walk(&fe.collection_expr, f);
            if let Some(k) = &fe.key_expr {
                walk(k, f);
            }
            walk(&fe.value_expr, f);
            if let Some(c) = &fe.cond_expr {
                walk(c, f);
            }
        }
        Expression::TemplateExpr(t) => {
            if let Ok(tpl) = Template::from_expr(t) {
                walk_template(&tpl, &mut |e| walk(e, f));
            }
        }
        _ => {}
    }
}

fn walk_template(t: &Template, f: &mut dyn FnMut(&Expression)) {
    for el in t.elements() {
        match el {
            Element::Literal(_) => {}
            Element::Interpolation(i) => f(&i.expr),
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    f(&d.cond_expr);
                    walk_template(&d.true_template, f);
                    if let Some(t) = &d.false_template {
                        walk_template(t, f);
                    }
                }
                Directive::For(d) => {
                    f(&d.collection_expr);
                    walk_template(&d.template, f);
                }
            },
        }
    }
}

fn func<'a>(e: &'a Expression, name: &str) -> Option<&'a [Expression]> {
    match e {
        Expression::FuncCall(c) if c.name.name.as_str() == name => Some(&c.args),
        _ => None,
    }
}

/// The last name of a traversal: `var.domain_mode` → `domain_mode`, `r.cloud_region` → `cloud_region`;
/// a function around it (`trimspace(var.x)`) is looked through.
fn subject(e: &Expression) -> Option<String> {
    match e {
        Expression::Traversal(t) => t.operators.iter().rev().find_map(|op| match op {
            TraversalOperator::GetAttr(id) => Some(id.as_str().to_string()),
            _ => None,
        }),
        Expression::FuncCall(c) if c.args.len() == 1 => subject(&c.args[0]),
        Expression::Parenthesis(e) => subject(e),
        _ => None,
    }
}

fn string_array(e: &Expression) -> Option<BTreeSet<String>> {
    match e {
        Expression::Array(items) => items
            .iter()
            .map(|i| match i {
                Expression::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// `contains(["a", "b"], x.field)` anywhere in the validations → field → allowed values.
fn allowed_values(vars: &BTreeMap<String, Variable>) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for v in vars.values() {
        for c in &v.conditions {
            walk(c, &mut |e| {
                if let Some([list, x]) = func(e, "contains")
                    && let (Some(values), Some(field)) = (string_array(list), subject(x))
                {
                    let prev = out.insert(field.clone(), values.clone());
                    assert!(
                        prev.is_none() || prev == Some(values),
                        "{field}: two different lists"
                    );
                }
            });
        }
    }
    out
}

/// `can(regex("pattern", x.field))` anywhere in the validations → field → patterns.
fn regexes(vars: &BTreeMap<String, Variable>) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for v in vars.values() {
        for c in &v.conditions {
            walk(c, &mut |e| {
                if let Some([pat, x]) = func(e, "regex")
                    && let (Expression::String(p), Some(field)) = (pat, subject(x))
                {
                    out.entry(field).or_default().push(p.clone());
                }
            });
        }
    }
    out
}

/// Checks a JSON value against an HCL type constraint (`string`, `list(object({…}))` …).
fn fits(ty: &Expression, v: &Value, at: &str) -> Result<(), String> {
    match ty {
        Expression::Variable(name) => {
            let ok = match name.as_str() {
                "string" => v.is_string(),
                "number" => v.is_number(),
                "bool" => v.is_boolean(),
                "any" => true,
                other => return Err(format!("{at}: unknown type {other}")),
            };
            if ok {
                Ok(())
            } else {
                Err(format!("{at}: {v} is not a {}", name.as_str()))
            }
        }
        Expression::FuncCall(c) => match (c.name.name.as_str(), c.args.as_slice()) {
            ("list" | "set", [inner]) => {
                let items = v.as_array().ok_or(format!("{at}: not a list"))?;
                items
                    .iter()
                    .enumerate()
                    .try_for_each(|(i, item)| fits(inner, item, &format!("{at}[{i}]")))
            }
            ("map", [inner]) => {
                let obj = v.as_object().ok_or(format!("{at}: not a map"))?;
                obj.iter()
                    .try_for_each(|(k, item)| fits(inner, item, &format!("{at}.{k}")))
            }
            ("object", [Expression::Object(fields)]) => {
                let obj = v.as_object().ok_or(format!("{at}: not an object"))?;
                let mut declared = BTreeSet::new();
                for (k, t) in fields.iter() {
                    let key = match k {
                        ObjectKey::Identifier(id) => id.as_str().to_string(),
                        ObjectKey::Expression(Expression::String(s)) => s.clone(),
                        ObjectKey::Expression(Expression::Variable(v)) => v.as_str().to_string(),
                        other => return Err(format!("{at}: odd object key {other:?}")),
                    };
                    let item = obj.get(&key).ok_or(format!("{at}: attribute {key} is missing"))?;
                    fits(t, item, &format!("{at}.{key}"))?;
                    declared.insert(key);
                }
                let extra: Vec<_> = obj.keys().filter(|k| !declared.contains(*k)).collect();
                if extra.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{at}: attributes the type does not declare: {extra:?}"))
                }
            }
            (other, _) => Err(format!("{at}: unsupported type constructor {other}")),
        },
        other => Err(format!("{at}: unsupported type expression {other:?}")),
    }
}

/// Every variable, with every optional field set, so the full key set is written.
fn full_vars() -> TfVars {
    let mut v = TfVars::new(&fixtures::request(), &fixtures::secrets(), &fixtures::context());
    v.image = Some("ubuntu-24.04".into());
    v.load_balancer_type = Some("lb11".into());
    v.k3s_version = Some("v1.32.7+k3s1".into());
    v.cilium_version = Some("1.17.6".into());
    v.flux_version = Some("v2.6.4".into());
    v.helm_version = Some("v3.18.4".into());
    v.gitops_username = Some("flux".into());
    v.enable_fail2ban = Some(true);
    v.enable_unattended_upgrades = Some(false);
    v.dns_server = "ns1.catalyst.example".into();
    v.dns_tsig_key_name = "sovereign-acme.omani.works".into();
    v.dns_tsig_secret = app::deployments::Secret::new("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI=");
    v
}

/// Every variable OpenTofu gets: the variables file and the sensitive ones from its environment.
fn json(v: &TfVars) -> serde_json::Map<String, Value> {
    v.all_values()
}

#[test]
fn tfvars_keys_are_the_declared_variables() {
    let files = parse_module();
    let vars = variables(&files);
    let declared: BTreeSet<String> = vars.keys().cloned().collect();

    let full: BTreeSet<String> = json(&full_vars()).keys().cloned().collect();
    let undeclared: Vec<_> = full.difference(&declared).collect();
    let unwritable: Vec<_> = declared.difference(&full).collect();
    assert!(
        undeclared.is_empty(),
        "Catalyst writes variables the module does not declare: {undeclared:?}"
    );
    assert!(unwritable.is_empty(), "TfVars has no field for: {unwritable:?}");

    // With every optional field left to the module, the required ones are still written.
    let minimal = json(&TfVars::new(
        &fixtures::request(),
        &fixtures::secrets(),
        &fixtures::context(),
    ));
    for (name, v) in &vars {
        if !v.has_default {
            assert!(
                minimal.contains_key(name),
                "required variable {name} is not written"
            );
        }
    }
}

#[test]
fn sensitive_variables_reach_opentofu_only_through_its_environment() {
    // Secrets at rest (issue 18): the variables file in the work directory holds no sensitive variable;
    // each of them is a `TF_VAR_<name>` of OpenTofu's environment, and nothing else is.
    let vars = variables(&parse_module());
    let full = full_vars();
    let file: serde_json::Value = serde_json::from_str(&full.to_json()).expect("json");
    let in_env: BTreeSet<String> = full
        .secret_env()
        .into_iter()
        .map(|(k, _)| k.strip_prefix("TF_VAR_").expect("TF_VAR_").to_string())
        .collect();
    let sensitive: BTreeSet<String> = vars
        .iter()
        .filter(|(_, v)| v.sensitive)
        .map(|(k, _)| k.clone())
        .collect();
    assert!(!sensitive.is_empty());
    assert_eq!(
        in_env, sensitive,
        "exactly the sensitive variables go through the environment"
    );
    for name in &sensitive {
        assert!(
            file.get(name).is_none(),
            "{name} is written to tofu.auto.tfvars.json"
        );
    }
}

#[test]
fn tfvars_values_fit_the_declared_types() {
    let files = parse_module();
    let vars = variables(&files);
    for (key, value) in json(&full_vars()) {
        let v = vars.get(&key).unwrap_or_else(|| panic!("{key} is not declared"));
        fits(&v.ty, &value, &key).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn allowed_values_equal_catalysts_lists() {
    let vars = variables(&parse_module());
    let allowed = allowed_values(&vars);
    let set = |it: &mut dyn Iterator<Item = &str>| it.map(str::to_string).collect::<BTreeSet<_>>();

    let expect: BTreeMap<&str, BTreeSet<String>> = BTreeMap::from([
        ("topology", set(&mut Topology::ALL.iter().map(|t| t.id()))),
        ("domain_mode", set(&mut DomainMode::ALL.iter().map(|m| m.id()))),
        (
            "provider",
            set(&mut Provider::ALL
                .iter()
                .filter(|p| p.is_provisionable())
                .map(|p| p.id())),
        ),
        ("cloud_region", set(&mut HETZNER_REGIONS.iter().map(|r| r.id))),
        ("control_plane_size", set(&mut HETZNER_SIZES.iter().map(|s| s.id))),
        ("worker_size", set(&mut HETZNER_SIZES.iter().map(|s| s.id))),
    ]);
    for (field, want) in &expect {
        let got = allowed
            .get(*field)
            .unwrap_or_else(|| panic!("the module no longer validates {field} against a list"));
        assert_eq!(got, want, "allowed values of {field} differ from app/");
    }
}

#[test]
fn catalyst_values_pass_the_module_regexes() {
    let vars = variables(&parse_module());
    let patterns = regexes(&vars);
    for field in [
        "deployment_id",
        "sovereign_fqdn",
        "name_prefix",
        "org_email",
        "key",
        "ssh_public_key",
        "catalyst_api_url",
        "gitops_repo_url",
        "gitops_branch",
        "gitops_path",
        "k3s_version",
    ] {
        assert!(
            patterns.contains_key(field),
            "the module no longer checks {field} with a regex"
        );
    }

    // A spread of requests: pool and BYO domains, the longest FQDN a label allows, repeated locations.
    let mut cases = Vec::new();
    cases.push(full_vars());
    let mut req = fixtures::request();
    req.domain.mode = DomainMode::ByoManual;
    req.domain.byo_domain = format!("{}.example.com", "k".repeat(63 - ".example.com".len()));
    assert_eq!(req.fqdn().len(), 63);
    let r = req.regions[0].clone();
    req.regions = vec![r.clone(), r.clone(), r.clone(), r];
    let mut ctx = fixtures::context();
    ctx.deployment_id = "0b8f3c2a-9e41-4d7a-bb0e-5f6a7c8d9e01".into();
    ctx.catalyst_api_url = "http://127.0.0.1:3400/sovereign".into();
    ctx.gitops_path = format!("clusters/{}", req.fqdn());
    cases.push(TfVars::new(&req, &fixtures::secrets(), &ctx));
    // A Sovereign pulling its own repository over SSH with its deploy key (server::gitops::forge).
    let mut ctx = fixtures::context();
    ctx.gitops_repo_url = "ssh://git@git.example.com:2222/sovereigns/sovereign-acme.omani.works.git".into();
    ctx.gitops_pull_token = None;
    ctx.gitops_ssh_private_key = Some(app::deployments::Secret::new(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n",
    ));
    ctx.gitops_ssh_known_hosts = "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA".into();
    cases.push(TfVars::new(&fixtures::request(), &fixtures::secrets(), &ctx));

    for vars in &cases {
        let j = json(vars);
        let mut values: Vec<(String, String)> = Vec::new();
        for (k, v) in &j {
            if let Value::String(s) = v {
                values.push((k.clone(), s.trim().to_string()));
            }
        }
        for r in &vars.regions {
            values.push(("key".into(), r.key.clone()));
        }
        for (field, value) in values {
            for p in patterns.get(&field).into_iter().flatten() {
                let re = regex::Regex::new(p).unwrap_or_else(|e| panic!("{field}: {p}: {e}"));
                assert!(
                    re.is_match(&value),
                    "{field} = {value:?} fails the module's regex {p}"
                );
            }
        }
        // Names must fit Hetzner's 63 characters (the module's precondition).
        for r in &vars.regions {
            assert!(format!("{}-{}-w50", vars.name_prefix, r.key).len() <= 63);
            assert!(format!("{}-{}-cp3", vars.name_prefix, r.key).len() <= 63);
        }
        assert!(vars.name_prefix.len() <= 41);
    }
}

#[test]
fn region_keys_are_unique_and_short() {
    let loc = |id: &str| RegionSpec {
        provider: Provider::Hetzner,
        cloud_region: id.into(),
        control_plane_size: "cpx32".into(),
        worker_size: String::new(),
        worker_count: 0,
        airgap: false,
    };
    let regions: Vec<_> = ["fsn1", "fsn1", "nbg1", "fsn1", "hel1"].map(loc).to_vec();
    let keys = region_keys(&regions);
    let unique: BTreeSet<_> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len());
    assert!(keys.iter().all(|k| k.len() <= 16));
}

#[test]
fn every_hetzner_resource_carries_the_deployment_labels() {
    let files = parse_module();
    // local.common_labels = { deployment-id = var.deployment_id, sovereign = var.sovereign_fqdn }
    let locals: Vec<&Block> = blocks(&files, "locals").collect();
    let common = locals
        .iter()
        .find_map(|b| attr(b, "common_labels"))
        .expect("local.common_labels");
    let Expression::Object(obj) = common else {
        panic!("common_labels is an object literal")
    };
    let mut keys = BTreeMap::new();
    for (k, v) in obj.iter() {
        let key = match k {
            ObjectKey::Expression(Expression::String(s)) => s.clone(),
            other => panic!("label key {other:?}"),
        };
        keys.insert(key, subject(v).unwrap_or_default());
    }
    assert_eq!(
        keys.get("catalyst.dev/deployment-id").map(String::as_str),
        Some("deployment_id")
    );
    assert_eq!(
        keys.get("catalyst.dev/sovereign").map(String::as_str),
        Some("sovereign_fqdn")
    );

    // Resources the Hetzner API can label: all of them carry common_labels plus a role.
    let unlabelled_kinds = [
        "hcloud_network_subnet",
        "hcloud_load_balancer_network",
        "hcloud_load_balancer_target",
        "hcloud_load_balancer_service",
    ];
    let mut checked = 0;
    for r in blocks(&files, "resource") {
        let kind = r.labels()[0].as_str();
        let name = r.labels()[1].as_str();
        if !kind.starts_with("hcloud_") || unlabelled_kinds.contains(&kind) {
            continue;
        }
        let labels = attr(r, "labels").unwrap_or_else(|| panic!("{kind}.{name} has no labels"));
        let mut uses_common = false;
        let mut has_role = false;
        walk(labels, &mut |e| {
            if let Expression::Traversal(t) = e
                && matches!(&t.expr, Expression::Variable(v) if v.as_str() == "local")
                && subject(e).as_deref() == Some("common_labels")
            {
                uses_common = true;
            }
            if let Expression::Object(o) = e {
                has_role |= o
                    .iter()
                    .any(|(k, _)| matches!(k, ObjectKey::Expression(Expression::String(s)) if s == "catalyst.dev/role"));
            }
        });
        assert!(
            uses_common,
            "{kind}.{name}: labels do not include local.common_labels"
        );
        assert!(has_role, "{kind}.{name}: labels carry no catalyst.dev/role");
        checked += 1;
    }
    assert!(
        checked >= 7,
        "servers, networks, firewall, LB, SSH key, placement group: {checked}"
    );
}

/// Root names an expression reads (`var`, `local`, a template variable …).
fn roots(e: &Expression, bound: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    walk(e, &mut |x| match x {
        Expression::Variable(v) if !bound.contains(v.as_str()) => {
            out.insert(v.as_str().to_string());
        }
        Expression::ForExpr(fe) => {
            // Names bound by the for expression are not template inputs.
            let mut inner = bound.clone();
            inner.insert(fe.value_var.as_str().to_string());
            if let Some(k) = &fe.key_var {
                inner.insert(k.as_str().to_string());
            }
            let mut found = BTreeSet::new();
            roots(&fe.value_expr, &inner, &mut found);
            out.extend(found);
        }
        _ => {}
    });
}

#[test]
fn cloud_init_templates_get_exactly_what_they_use() {
    let files = parse_module();
    let mut calls = 0;
    for (_, body) in &files {
        for b in body.blocks().filter(|b| b.identifier() == "resource") {
            let Some(user_data) = attr(b, "user_data") else {
                continue;
            };
            let Some([path, Expression::Object(vars)]) = func(user_data, "templatefile") else {
                panic!("user_data is a templatefile() call with an object of variables")
            };
            let Expression::TemplateExpr(p) = path else {
                panic!("templatefile path")
            };
            let file = p.to_string().rsplit('/').next().expect("file").to_string();
            let text = std::fs::read_to_string(module_dir().join(&file)).expect("template exists");
            let template: Template = text
                .parse()
                .unwrap_or_else(|e| panic!("{file} does not parse: {e}"));
            let mut used = BTreeSet::new();
            walk_template(&template, &mut |e| roots(e, &BTreeSet::new(), &mut used));
            let given: BTreeSet<String> = vars
                .iter()
                .map(|(k, _)| match k {
                    ObjectKey::Identifier(id) => id.as_str().to_string(),
                    other => panic!("template variable key {other:?}"),
                })
                .collect();
            let missing: Vec<_> = used.difference(&given).collect();
            let unused: Vec<_> = given.difference(&used).collect();
            assert!(
                missing.is_empty(),
                "{file} uses variables it is not given: {missing:?}"
            );
            assert!(
                unused.is_empty(),
                "{file} is given variables it never uses: {unused:?}"
            );
            assert!(text.starts_with("#cloud-config\n"), "{file} is cloud-config");
            // Every PUT-back detail comes from the settings, and the bearer travels in a header file.
            if file.contains("control-plane") {
                assert!(text.contains("Authorization: Bearer"));
                assert!(text.contains("-X PUT"));
            }
            calls += 1;
        }
    }
    assert_eq!(calls, 2, "control planes and workers");
}

fn b64(bytes: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn unb64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let vals: Vec<u32> = s
        .bytes()
        .filter(|b| *b != b'=')
        .map(|b| A.iter().position(|a| *a == b).expect("base64") as u32)
        .collect();
    let mut out = Vec::new();
    for chunk in vals.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, v)| acc | (v << (18 - 6 * i)));
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

fn base64encode(args: hcl::eval::FuncArgs) -> Result<hcl::Value, String> {
    let s = args[0].as_str().ok_or("base64encode takes a string")?;
    Ok(hcl::Value::String(b64(s.as_bytes())))
}

/// Renders a cloud-init template the way `templatefile` does (hcl-rs evaluates the template language) and
/// checks the result: valid cloud-config YAML under Hetzner's 32 KiB user-data limit, secrets in 0600 files,
/// a bootstrap script bash accepts, and settings that parse.
fn render_cloud_init(file: &str, vars: &[(&str, hcl::Value)]) -> serde_norway::Value {
    use hcl::eval::{Context, Evaluate, FuncDef, ParamType};
    let text = std::fs::read_to_string(module_dir().join(file)).expect("template");
    let template: Template = text.parse().expect("parses");
    let mut ctx = Context::new();
    ctx.declare_func(
        "base64encode",
        FuncDef::builder().param(ParamType::String).build(base64encode),
    );
    for (k, v) in vars {
        ctx.declare_var(*k, v.clone());
    }
    let out = template.evaluate(&ctx).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(out.len() < 32 * 1024, "{file}: {} bytes of user data", out.len());
    assert!(out.starts_with("#cloud-config\n"));
    let doc: serde_norway::Value =
        serde_norway::from_str(&out).unwrap_or_else(|e| panic!("{file}: {e}\n{out}"));
    let files = doc["write_files"].as_sequence().expect("write_files");
    for f in files {
        let path = f["path"].as_str().expect("path");
        let content = f["content"].as_str().expect("content");
        let bytes = if f["encoding"].as_str() == Some("b64") {
            unb64(content)
        } else {
            content.as_bytes().to_vec()
        };
        if path.starts_with("/etc/catalyst/secrets/") {
            assert_eq!(f["permissions"].as_str(), Some("0600"), "{path}");
        }
        if path.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap_or_else(|e| panic!("{path}: {e}"));
        }
        if path == "/usr/local/sbin/catalyst-bootstrap" {
            let script = tempfile::NamedTempFile::new().expect("tmp");
            std::fs::write(script.path(), &bytes).expect("write");
            let check = std::process::Command::new("bash")
                .arg("-n")
                .arg(script.path())
                .output()
                .expect("bash");
            assert!(
                check.status.success(),
                "{file}: bash -n: {}",
                String::from_utf8_lossy(&check.stderr)
            );
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("$${") && !text.contains("%%{"),
                "template escapes left in the script"
            );
        }
    }
    assert_eq!(
        doc["runcmd"][0][1].as_str(),
        Some("/usr/local/sbin/catalyst-bootstrap")
    );
    doc
}

#[test]
fn cloud_init_renders_to_valid_cloud_config() {
    use hcl::Value as V;
    let settings =
        serde_json::json!({ "node_name": "catalyst-acme-fsn1-cp1", "tls_sans": ["acme.omani.works"] })
            .to_string();
    for (first, fail2ban, upgrades) in [(true, true, true), (false, false, false), (true, false, true)] {
        let doc = render_cloud_init(
            "cloudinit-control-plane.tftpl",
            &[
                ("node_name", V::from("catalyst-acme-omani-works-fsn1-cp1")),
                ("first_server", V::Bool(first)),
                ("bootstrap_settings", V::from(settings.clone())),
                ("k3s_token", V::from("k3s-token-value")),
                ("kubeconfig_bearer", V::from(fixtures::BEARER)),
                ("flux_bootstrap", V::from("apiVersion: v1\nkind: ConfigMap\n")),
                ("cluster_secrets", V::from("apiVersion: v1\nkind: Secret\n")),
                ("sovereign_record", V::from("{\"fqdn\":\"acme.omani.works\"}")),
                ("enable_fail2ban", V::Bool(fail2ban)),
                ("enable_upgrades", V::Bool(upgrades)),
                ("reboot_time", V::from("02:30")),
            ],
        );
        let paths: Vec<&str> = doc["write_files"]
            .as_sequence()
            .expect("files")
            .iter()
            .map(|f| f["path"].as_str().expect("path"))
            .collect();
        assert_eq!(
            paths.contains(&"/etc/catalyst/secrets/kubeconfig-bearer"),
            first,
            "{paths:?}"
        );
        assert_eq!(
            paths.contains(&"/etc/catalyst/secrets/cluster-secrets.yaml"),
            first
        );
        assert_eq!(
            paths.contains(&"/etc/fail2ban/jail.d/catalyst-sshd.conf"),
            fail2ban
        );
        let packages: Vec<&str> = doc["packages"]
            .as_sequence()
            .expect("packages")
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        assert_eq!(packages.contains(&"unattended-upgrades"), upgrades);
        assert_eq!(
            doc["hostname"].as_str(),
            Some("catalyst-acme-omani-works-fsn1-cp1")
        );
    }
    render_cloud_init(
        "cloudinit-worker.tftpl",
        &[
            ("node_name", V::from("catalyst-acme-omani-works-fsn1-w1")),
            ("bootstrap_settings", V::from(settings)),
            ("k3s_token", V::from("k3s-token-value")),
            ("sovereign_record", V::from("{}")),
            ("enable_fail2ban", V::Bool(true)),
            ("enable_upgrades", V::Bool(true)),
            ("reboot_time", V::from("03:35")),
        ],
    );
}
