//! `infra/hetzner` against the hcloud provider's resource schema at the pinned version
//! (`tests/contracts/hcloud/hcloud-<version>.schema.json`, derived from the provider's Go source; see the
//! README beside it), without a `tofu` binary: every argument and block exists and is not deprecated, required
//! ones are set, values fit the attribute types, and every reference resolves (variables, locals, resources
//! and their attributes, `each`/`count`, dynamic-block iterators, functions). `seeded_mistakes_are_reported`
//! breaks a copy of the module once per kind of mistake and shows the checker naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use hcl::expr::{Expression, ObjectKey, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Block, Body};
use serde_json::Value;

const PROVIDER: &str = "registry.opentofu.org/hetznercloud/hcloud";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The module's `*.tf` files as (name, text).
fn module_sources() -> Vec<(String, String)> {
    let dir = root().join("infra/hetzner");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("infra/hetzner")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "tf"))
        .map(|p| {
            (
                p.file_name().expect("name").to_string_lossy().to_string(),
                std::fs::read_to_string(&p).expect("read"),
            )
        })
        .collect();
    out.sort();
    out
}

/// The pinned hcloud version from versions.tf.
fn pinned_version(sources: &[(String, String)]) -> String {
    let (_, text) = sources
        .iter()
        .find(|(n, _)| n == "versions.tf")
        .expect("versions.tf");
    let body: Body = hcl::parse(text).expect("versions.tf parses");
    let terraform = body
        .blocks()
        .find(|b| b.identifier() == "terraform")
        .expect("terraform block");
    let providers = terraform
        .body()
        .blocks()
        .find(|b| b.identifier() == "required_providers")
        .expect("required_providers");
    let hcloud = providers
        .body()
        .attributes()
        .find(|a| a.key() == "hcloud")
        .expect("hcloud provider");
    let Expression::Object(o) = hcloud.expr() else {
        panic!("hcloud = {{ source, version }}")
    };
    o.iter()
        .find_map(|(k, v)| match (k, v) {
            (ObjectKey::Identifier(id), Expression::String(s)) if id.as_str() == "version" => Some(s.clone()),
            _ => None,
        })
        .expect("an exact version")
}

fn schema_for(version: &str) -> Value {
    let path = root().join(format!("tests/contracts/hcloud/hcloud-{version}.schema.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} — derive it for the pinned provider version (tests/contracts/hcloud/README.md)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("schema JSON")
}

// --- the checker ---------------------------------------------------------------------------------------------

/// OpenTofu's built-in functions.
const FUNCTIONS: &[&str] = &[
    "abs",
    "abspath",
    "alltrue",
    "anytrue",
    "base64decode",
    "base64encode",
    "base64gunzip",
    "base64gzip",
    "base64sha256",
    "base64sha512",
    "basename",
    "bcrypt",
    "can",
    "ceil",
    "chomp",
    "chunklist",
    "cidrcontains",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "coalesce",
    "coalescelist",
    "compact",
    "concat",
    "contains",
    "csvdecode",
    "dirname",
    "distinct",
    "element",
    "endswith",
    "file",
    "filebase64",
    "filebase64sha256",
    "filebase64sha512",
    "fileexists",
    "filemd5",
    "fileset",
    "filesha1",
    "filesha256",
    "filesha512",
    "flatten",
    "floor",
    "format",
    "formatdate",
    "formatlist",
    "indent",
    "index",
    "issensitive",
    "join",
    "jsondecode",
    "jsonencode",
    "keys",
    "length",
    "log",
    "lookup",
    "lower",
    "matchkeys",
    "max",
    "md5",
    "merge",
    "min",
    "nonsensitive",
    "one",
    "parseint",
    "pathexpand",
    "pow",
    "range",
    "regex",
    "regexall",
    "replace",
    "reverse",
    "rsadecrypt",
    "sensitive",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sha1",
    "sha256",
    "sha512",
    "signum",
    "slice",
    "sort",
    "split",
    "startswith",
    "strcontains",
    "strrev",
    "substr",
    "sum",
    "templatefile",
    "templatestring",
    "textdecodebase64",
    "textencodebase64",
    "timeadd",
    "timecmp",
    "timestamp",
    "title",
    "tobool",
    "tolist",
    "tomap",
    "tonumber",
    "toset",
    "tostring",
    "transpose",
    "trim",
    "trimprefix",
    "trimspace",
    "trimsuffix",
    "try",
    "type",
    "upper",
    "urldecode",
    "urlencode",
    "uuid",
    "uuidv5",
    "values",
    "yamldecode",
    "yamlencode",
    "zipmap",
];

/// Attributes of resources that are not hcloud's (hashicorp/random 3.7.2's random_password).
const RANDOM_PASSWORD: &[&str] = &[
    "id",
    "length",
    "special",
    "upper",
    "lower",
    "numeric",
    "min_lower",
    "min_upper",
    "min_numeric",
    "min_special",
    "override_special",
    "keepers",
    "result",
    "bcrypt_hash",
];

const META: &[&str] = &["for_each", "count", "depends_on", "provider"];

struct Module {
    variables: BTreeMap<String, Expression>,
    locals: BTreeSet<String>,
    /// "type.name" → (type, has for_each or count)
    resources: BTreeMap<String, (String, bool)>,
    data: BTreeSet<String>,
}

struct Checker<'a> {
    schema: &'a Value,
    module: Module,
    problems: Vec<String>,
}

/// What an expression is known to produce, for type checks.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    StrLit(String),
    Str,
    Num,
    Bool,
    List,
    Map,
    Null,
    Any,
}

fn ident_key(k: &ObjectKey) -> Option<String> {
    match k {
        ObjectKey::Identifier(id) => Some(id.as_str().to_string()),
        ObjectKey::Expression(Expression::String(s)) => Some(s.clone()),
        ObjectKey::Expression(Expression::Variable(v)) => Some(v.as_str().to_string()),
        _ => None,
    }
}

fn resource_schemas(schema: &Value) -> &serde_json::Map<String, Value> {
    schema["provider_schemas"][PROVIDER]["resource_schemas"]
        .as_object()
        .expect("resource_schemas")
}

impl<'a> Checker<'a> {
    fn new(files: &[(String, Body)], schema: &'a Value) -> Self {
        let mut module = Module {
            variables: BTreeMap::new(),
            locals: BTreeSet::new(),
            resources: BTreeMap::new(),
            data: BTreeSet::new(),
        };
        for (_, body) in files {
            for b in body.blocks() {
                let labels: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
                match b.identifier() {
                    "variable" => {
                        let ty = attr(b.body(), "type").cloned().unwrap_or(Expression::Variable(
                            hcl::Identifier::new("any").expect("ident").into(),
                        ));
                        module.variables.insert(labels[0].to_string(), ty);
                    }
                    "locals" => module
                        .locals
                        .extend(b.body().attributes().map(|a| a.key().to_string())),
                    "resource" => {
                        let counted =
                            attr(b.body(), "for_each").is_some() || attr(b.body(), "count").is_some();
                        module.resources.insert(
                            format!("{}.{}", labels[0], labels[1]),
                            (labels[0].to_string(), counted),
                        );
                    }
                    "data" => {
                        module.data.insert(format!("{}.{}", labels[0], labels[1]));
                    }
                    _ => {}
                }
            }
        }
        Checker {
            schema,
            module,
            problems: Vec::new(),
        }
    }

    fn problem(&mut self, at: &str, what: String) {
        self.problems.push(format!("{at}: {what}"));
    }

    fn run(mut self, files: &[(String, Body)]) -> Vec<String> {
        for (file, body) in files {
            for b in body.blocks() {
                let labels: Vec<&str> = b.labels().iter().map(|l| l.as_str()).collect();
                match b.identifier() {
                    "resource" => self.resource(file, b, labels[0], labels[1]),
                    "locals" => {
                        for a in b.body().attributes() {
                            self.expr(a.expr(), &BTreeSet::new(), &format!("{file}: local.{}", a.key()));
                        }
                    }
                    "output" => {
                        for a in b.body().attributes() {
                            self.expr(
                                a.expr(),
                                &BTreeSet::new(),
                                &format!("{file}: output.{}.{}", labels[0], a.key()),
                            );
                        }
                    }
                    "variable" => {
                        for v in b.body().blocks().filter(|v| v.identifier() == "validation") {
                            for a in v.body().attributes() {
                                self.expr(
                                    a.expr(),
                                    &BTreeSet::new(),
                                    &format!("{file}: var.{} validation", labels[0]),
                                );
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        self.problems
    }

    fn resource(&mut self, file: &str, b: &Block, rtype: &str, name: &str) {
        let at = format!("{file}: {rtype}.{name}");
        let mut bound = BTreeSet::new();
        if attr(b.body(), "for_each").is_some() {
            bound.insert("each".to_string());
        }
        if attr(b.body(), "count").is_some() {
            bound.insert("count".to_string());
        }
        // for_each/count themselves cannot read each/count.
        for meta in ["for_each", "count"] {
            if let Some(e) = attr(b.body(), meta) {
                self.expr(e, &BTreeSet::new(), &format!("{at}.{meta}"));
            }
        }
        if let Some(Expression::Array(deps)) = attr(b.body(), "depends_on") {
            for d in deps {
                let path = traversal_names(d);
                let addr = path.iter().take(2).cloned().collect::<Vec<_>>().join(".");
                if path.len() != 2 || !self.module.resources.contains_key(&addr) {
                    self.problem(
                        &at,
                        format!("depends_on names {addr}, which is not a resource of the module"),
                    );
                }
            }
        }
        let schema = if rtype.starts_with("hcloud_") {
            match resource_schemas(self.schema).get(rtype) {
                Some(s) => Some(s["block"].clone()),
                None => {
                    self.problem(&at, format!("{rtype} is not a resource of the hcloud provider"));
                    return;
                }
            }
        } else {
            None
        };
        self.body(b.body(), schema.as_ref(), &bound, &at);
    }

    /// Checks a resource body (or a nested block's) against its schema block, and its references.
    fn body(&mut self, body: &Body, block: Option<&Value>, bound: &BTreeSet<String>, at: &str) {
        let mut set_attrs = BTreeSet::new();
        let mut set_blocks = BTreeSet::new();
        for a in body.attributes() {
            let key = a.key();
            if !META.contains(&key) {
                self.expr(a.expr(), bound, &format!("{at}.{key}"));
            }
            if META.contains(&key) {
                continue;
            }
            set_attrs.insert(key.to_string());
            let Some(block) = block else {
                if at.contains("random_password") && !RANDOM_PASSWORD.contains(&key) {
                    self.problem(at, format!("random_password has no argument {key}"));
                }
                continue;
            };
            let Some(spec) = block["attributes"].get(key) else {
                self.problem(
                    at,
                    format!("unknown argument {key} (the provider's schema has no such attribute)"),
                );
                continue;
            };
            if spec["deprecated"] == true {
                self.problem(at, format!("{key} is deprecated by the provider; remove it"));
            }
            if spec["required"] != true && spec["optional"] != true {
                self.problem(at, format!("{key} is read-only (computed by the provider)"));
            }
            self.fits(
                &spec["type"],
                spec.get("enum"),
                a.expr(),
                bound,
                &format!("{at}.{key}"),
            );
        }
        for nb in body.blocks() {
            let kind = nb.identifier();
            match kind {
                "lifecycle" => {
                    if let Some(Expression::Array(items)) = attr(nb.body(), "ignore_changes") {
                        for i in items {
                            let names = traversal_names(i);
                            if let (Some(first), Some(block)) = (names.first(), block)
                                && block["attributes"].get(first).is_none()
                                && block["block_types"].get(first).is_none()
                            {
                                self.problem(
                                    at,
                                    format!("lifecycle.ignore_changes names {first}, not an argument"),
                                );
                            }
                        }
                    }
                    continue;
                }
                "provisioner" | "connection" => continue,
                "dynamic" => {
                    let label = nb
                        .labels()
                        .first()
                        .map(|l| l.as_str().to_string())
                        .unwrap_or_default();
                    set_blocks.insert(label.clone());
                    if let Some(e) = attr(nb.body(), "for_each") {
                        self.expr(e, bound, &format!("{at}.dynamic.{label}.for_each"));
                    }
                    let iterator = match attr(nb.body(), "iterator") {
                        Some(Expression::Variable(v)) => v.as_str().to_string(),
                        _ => label.clone(),
                    };
                    let mut inner = bound.clone();
                    inner.insert(iterator);
                    let nested = self.nested(block, &label, at);
                    match nb.body().blocks().find(|c| c.identifier() == "content") {
                        Some(content) => {
                            self.body(content.body(), nested.as_ref(), &inner, &format!("{at}.{label}"))
                        }
                        None => self.problem(at, format!("dynamic \"{label}\" has no content block")),
                    }
                }
                _ => {
                    set_blocks.insert(kind.to_string());
                    let nested = self.nested(block, kind, at);
                    self.body(nb.body(), nested.as_ref(), bound, &format!("{at}.{kind}"));
                }
            }
        }
        let Some(block) = block else { return };
        if let Some(attrs) = block["attributes"].as_object() {
            for (k, spec) in attrs {
                if spec["required"] == true && !set_attrs.contains(k) {
                    self.problem(at, format!("required argument {k} is not set"));
                }
            }
        }
        if let Some(types) = block["block_types"].as_object() {
            for (k, spec) in types {
                if spec["min_items"].as_u64().unwrap_or(0) > 0 && !set_blocks.contains(k) {
                    self.problem(at, format!("required block {k} is missing"));
                }
            }
        }
    }

    fn nested(&mut self, block: Option<&Value>, kind: &str, at: &str) -> Option<Value> {
        let block = block?;
        match block["block_types"].get(kind) {
            Some(bt) => {
                if bt["deprecated"] == true {
                    self.problem(
                        at,
                        format!("block {kind} is deprecated by the provider; remove it"),
                    );
                }
                Some(bt["block"].clone())
            }
            None => {
                self.problem(
                    at,
                    format!("unknown block {kind} (the provider's schema has no such block)"),
                );
                None
            }
        }
    }

    /// Does `expr` fit an attribute of schema type `ty` (and its allowed values)?
    fn fits(
        &mut self,
        ty: &Value,
        allowed: Option<&Value>,
        expr: &Expression,
        bound: &BTreeSet<String>,
        at: &str,
    ) {
        if let Expression::Conditional(c) = expr {
            self.fits(ty, allowed, &c.true_expr, bound, at);
            self.fits(ty, allowed, &c.false_expr, bound, at);
            return;
        }
        if let Expression::Parenthesis(e) = expr {
            self.fits(ty, allowed, e, bound, at);
            return;
        }
        let kind = self.kind(expr, bound);
        let ok = match (ty.as_str(), ty.as_array().and_then(|a| a[0].as_str())) {
            (Some("string"), _) => !matches!(kind, Kind::List | Kind::Map),
            (Some("number"), _) => match &kind {
                Kind::StrLit(s) => s.parse::<f64>().is_ok(),
                Kind::Bool | Kind::List | Kind::Map => false,
                _ => true,
            },
            (Some("bool"), _) => match &kind {
                Kind::StrLit(s) => s == "true" || s == "false",
                Kind::Num | Kind::List | Kind::Map => false,
                _ => true,
            },
            (_, Some("list" | "set")) => matches!(kind, Kind::List | Kind::Null | Kind::Any),
            (_, Some("map")) => matches!(kind, Kind::Map | Kind::Null | Kind::Any),
            _ => true,
        };
        if !ok {
            self.problem(
                at,
                format!("a {} does not fit the attribute's type {ty}", kind_name(&kind)),
            );
            return;
        }
        if let (Some(allowed), Kind::StrLit(s)) = (allowed.and_then(Value::as_array), &kind)
            && !allowed.iter().any(|a| a.as_str() == Some(s))
        {
            self.problem(
                at,
                format!(
                    "\"{s}\" is not one of the allowed values {}",
                    Value::Array(allowed.clone())
                ),
            );
        }
        // Elements of literal collections.
        if let Some([_, inner]) = ty.as_array().map(Vec::as_slice) {
            match expr {
                Expression::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.fits(inner, None, item, bound, &format!("{at}[{i}]"));
                    }
                }
                Expression::Object(o) => {
                    for (k, v) in o.iter() {
                        let key = ident_key(k).unwrap_or_default();
                        self.fits(inner, None, v, bound, &format!("{at}.{key}"));
                    }
                }
                _ => {}
            }
        }
    }

    fn kind(&self, expr: &Expression, bound: &BTreeSet<String>) -> Kind {
        match expr {
            Expression::Null => Kind::Null,
            Expression::Bool(_) => Kind::Bool,
            Expression::Number(_) => Kind::Num,
            Expression::String(s) => Kind::StrLit(s.clone()),
            Expression::TemplateExpr(_) => Kind::Str,
            Expression::Array(_) => Kind::List,
            Expression::Object(_) => Kind::Map,
            Expression::ForExpr(f) => {
                if f.key_expr.is_some() {
                    Kind::Map
                } else {
                    Kind::List
                }
            }
            Expression::FuncCall(c) => match c.name.name.as_str() {
                "merge" | "zipmap" | "tomap" => Kind::Map,
                "concat" | "compact" | "flatten" | "distinct" | "tolist" | "toset" | "keys" | "values"
                | "range" | "split" | "setproduct" | "sort" => Kind::List,
                "join" | "format" | "trimspace" | "base64encode" | "templatefile" | "jsonencode"
                | "yamlencode" | "lower" | "upper" | "replace" | "tostring" | "sha256" | "cidrhost" => {
                    Kind::Str
                }
                "length" | "floor" | "ceil" | "max" | "min" | "tonumber" | "sum" => Kind::Num,
                "contains" | "alltrue" | "anytrue" | "can" | "startswith" | "endswith" | "tobool" => {
                    Kind::Bool
                }
                _ => Kind::Any,
            },
            Expression::Traversal(t) => {
                let names = traversal_names(expr);
                let Expression::Variable(root) = &t.expr else {
                    return Kind::Any;
                };
                if bound.contains(root.as_str()) {
                    return Kind::Any;
                }
                match root.as_str() {
                    "var" if t.operators.len() == 1 => names
                        .get(1)
                        .and_then(|n| self.module.variables.get(n))
                        .map(type_kind)
                        .unwrap_or(Kind::Any),
                    rtype if rtype.starts_with("hcloud_") => {
                        // type.name[key].attr
                        let attr_name = t.operators.iter().skip(1).find_map(|op| match op {
                            TraversalOperator::GetAttr(a) => Some(a.as_str().to_string()),
                            _ => None,
                        });
                        let has_splat = t.operators.iter().any(|op| {
                            matches!(op, TraversalOperator::AttrSplat | TraversalOperator::FullSplat)
                        });
                        match (attr_name, has_splat) {
                            (Some(a), false) => resource_schemas(self.schema)
                                .get(rtype)
                                .and_then(|s| s["block"]["attributes"].get(&a))
                                .map(|spec| schema_kind(&spec["type"]))
                                .unwrap_or(Kind::Any),
                            (_, true) => Kind::List,
                            _ => Kind::Any,
                        }
                    }
                    _ => Kind::Any,
                }
            }
            _ => Kind::Any,
        }
    }

    /// Checks that every name `expr` reads resolves.
    fn expr(&mut self, expr: &Expression, bound: &BTreeSet<String>, at: &str) {
        match expr {
            Expression::Variable(v) if !bound.contains(v.as_str()) => {
                self.problem(at, format!("unknown name {}", v.as_str()));
            }
            Expression::Traversal(t) => {
                for op in &t.operators {
                    if let TraversalOperator::Index(e) = op {
                        self.expr(e, bound, at);
                    }
                }
                let Expression::Variable(root) = &t.expr else {
                    self.expr(&t.expr, bound, at);
                    return;
                };
                let root = root.as_str();
                if bound.contains(root) {
                    return;
                }
                let first = match t.operators.first() {
                    Some(TraversalOperator::GetAttr(a)) => a.as_str().to_string(),
                    _ => {
                        self.problem(at, format!("{root} is not a value on its own"));
                        return;
                    }
                };
                match root {
                    "var" => {
                        if !self.module.variables.contains_key(&first) {
                            self.problem(at, format!("var.{first} is not declared"));
                        }
                    }
                    "local" => {
                        if !self.module.locals.contains(&first) {
                            self.problem(at, format!("local.{first} is not defined"));
                        }
                    }
                    "path" => {
                        if !["module", "root", "cwd"].contains(&first.as_str()) {
                            self.problem(at, format!("path.{first} does not exist"));
                        }
                    }
                    "terraform" => {
                        if first != "workspace" {
                            self.problem(at, format!("terraform.{first} does not exist"));
                        }
                    }
                    "data" => {
                        let names = traversal_names(expr);
                        let addr = names
                            .iter()
                            .skip(1)
                            .take(2)
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(".");
                        if !self.module.data.contains(&addr) {
                            self.problem(at, format!("data.{addr} is not declared"));
                        }
                    }
                    rtype => {
                        let addr = format!("{rtype}.{first}");
                        let Some((_, counted)) = self.module.resources.get(&addr).cloned() else {
                            if self.module.resources.values().any(|(t, _)| t == rtype) {
                                self.problem(at, format!("{addr} is not a resource of the module"));
                            } else {
                                self.problem(at, format!("unknown name {rtype}"));
                            }
                            return;
                        };
                        // The attribute read from an instance: type.name.attr or type.name[key].attr.
                        let rest = &t.operators[1..];
                        let attr_op = match (counted, rest) {
                            (false, [TraversalOperator::GetAttr(a), ..]) => Some(a),
                            (true, [TraversalOperator::Index(_), TraversalOperator::GetAttr(a), ..]) => {
                                Some(a)
                            }
                            (
                                true,
                                [
                                    TraversalOperator::AttrSplat | TraversalOperator::FullSplat,
                                    TraversalOperator::GetAttr(a),
                                    ..,
                                ],
                            ) => Some(a),
                            _ => None,
                        };
                        if let Some(a) = attr_op {
                            let a = a.as_str();
                            let known = if rtype.starts_with("hcloud_") {
                                resource_schemas(self.schema).get(rtype).is_some_and(|s| {
                                    s["block"]["attributes"].get(a).is_some()
                                        || s["block"]["block_types"].get(a).is_some()
                                })
                            } else if rtype == "random_password" {
                                RANDOM_PASSWORD.contains(&a)
                            } else {
                                true
                            };
                            if !known {
                                self.problem(at, format!("{addr} has no attribute {a}"));
                            }
                        } else if !counted && rest.is_empty() {
                            // the whole object: fine
                        }
                    }
                }
            }
            Expression::FuncCall(c) => {
                let name = c.name.name.as_str();
                if !c.name.namespace.is_empty() || !FUNCTIONS.contains(&name) {
                    self.problem(at, format!("unknown function {name}()"));
                }
                for a in &c.args {
                    self.expr(a, bound, at);
                }
            }
            Expression::ForExpr(f) => {
                self.expr(&f.collection_expr, bound, at);
                let mut inner = bound.clone();
                inner.insert(f.value_var.as_str().to_string());
                if let Some(k) = &f.key_var {
                    inner.insert(k.as_str().to_string());
                }
                if let Some(k) = &f.key_expr {
                    self.expr(k, &inner, at);
                }
                self.expr(&f.value_expr, &inner, at);
                if let Some(c) = &f.cond_expr {
                    self.expr(c, &inner, at);
                }
            }
            Expression::TemplateExpr(t) => {
                if let Ok(tpl) = Template::from_expr(t) {
                    self.template(&tpl, bound, at);
                }
            }
            Expression::Array(items) => items.iter().for_each(|e| self.expr(e, bound, at)),
            Expression::Object(o) => {
                for (k, v) in o.iter() {
                    if let ObjectKey::Expression(k) = k
                        && !matches!(k, Expression::Variable(_) | Expression::String(_))
                    {
                        self.expr(k, bound, at);
                    }
                    self.expr(v, bound, at);
                }
            }
            Expression::Parenthesis(e) => self.expr(e, bound, at),
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr, bound, at);
                self.expr(&c.true_expr, bound, at);
                self.expr(&c.false_expr, bound, at);
            }
            Expression::Operation(op) => match op.as_ref() {
                hcl::expr::Operation::Unary(u) => self.expr(&u.expr, bound, at),
                hcl::expr::Operation::Binary(b) => {
                    self.expr(&b.lhs_expr, bound, at);
                    self.expr(&b.rhs_expr, bound, at);
                }
            },
            _ => {}
        }
    }

    fn template(&mut self, t: &Template, bound: &BTreeSet<String>, at: &str) {
        for el in t.elements() {
            match el {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr, bound, at),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => {
                        self.expr(&d.cond_expr, bound, at);
                        self.template(&d.true_template, bound, at);
                        if let Some(f) = &d.false_template {
                            self.template(f, bound, at);
                        }
                    }
                    Directive::For(d) => {
                        self.expr(&d.collection_expr, bound, at);
                        let mut inner = bound.clone();
                        inner.insert(d.value_var.as_str().to_string());
                        if let Some(k) = &d.key_var {
                            inner.insert(k.as_str().to_string());
                        }
                        self.template(&d.template, &inner, at);
                    }
                },
            }
        }
    }
}

fn attr<'b>(body: &'b Body, name: &str) -> Option<&'b Expression> {
    body.attributes().find(|a| a.key() == name).map(|a| a.expr())
}

/// `a.b["k"].c` → ["a", "b", "c"] (indexes skipped).
fn traversal_names(e: &Expression) -> Vec<String> {
    match e {
        Expression::Variable(v) => vec![v.as_str().to_string()],
        Expression::Traversal(t) => {
            let mut out = traversal_names(&t.expr);
            for op in &t.operators {
                if let TraversalOperator::GetAttr(a) = op {
                    out.push(a.as_str().to_string());
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

fn kind_name(k: &Kind) -> &'static str {
    match k {
        Kind::StrLit(_) | Kind::Str => "string",
        Kind::Num => "number",
        Kind::Bool => "bool",
        Kind::List => "list",
        Kind::Map => "map",
        Kind::Null => "null",
        Kind::Any => "value",
    }
}

fn schema_kind(ty: &Value) -> Kind {
    match (ty.as_str(), ty.as_array().and_then(|a| a[0].as_str())) {
        (Some("string"), _) => Kind::Str,
        (Some("number"), _) => Kind::Num,
        (Some("bool"), _) => Kind::Bool,
        (_, Some("list" | "set")) => Kind::List,
        (_, Some("map")) => Kind::Map,
        _ => Kind::Any,
    }
}

/// The kind of a variable's declared type (`string`, `list(string)`, `object({…})` …).
fn type_kind(ty: &Expression) -> Kind {
    match ty {
        Expression::Variable(v) => match v.as_str() {
            "string" => Kind::Str,
            "number" => Kind::Num,
            "bool" => Kind::Bool,
            _ => Kind::Any,
        },
        Expression::FuncCall(c) => match c.name.name.as_str() {
            "list" | "set" | "tuple" => Kind::List,
            "map" | "object" => Kind::Map,
            _ => Kind::Any,
        },
        _ => Kind::Any,
    }
}

/// Problems of a module (its `*.tf` sources) against the provider schema.
fn check(sources: &[(String, String)], schema: &Value) -> Vec<String> {
    let files: Vec<(String, Body)> = sources
        .iter()
        .map(|(n, t)| {
            (
                n.clone(),
                hcl::parse(t).unwrap_or_else(|e| panic!("{n} does not parse: {e}")),
            )
        })
        .collect();
    Checker::new(&files, schema).run(&files)
}

// --- tests ---------------------------------------------------------------------------------------------------

#[test]
fn schema_file_is_derived_at_the_pinned_provider_version() {
    let sources = module_sources();
    let version = pinned_version(&sources);
    let schema = schema_for(&version);
    assert_eq!(
        schema["derived_from"]["tag"],
        format!("v{version}"),
        "the schema file must be derived at the tag versions.tf pins"
    );
    let types = resource_schemas(&schema);
    assert!(types.contains_key("hcloud_server") && types.contains_key("hcloud_primary_ip"));
    // The derivation saw the deprecation this issue is about.
    assert_eq!(
        types["hcloud_server"]["block"]["attributes"]["datacenter"]["deprecated"],
        true
    );
    assert_eq!(
        types["hcloud_primary_ip"]["block"]["attributes"]["datacenter"]["deprecated"],
        true
    );
}

#[test]
fn module_fits_the_hcloud_provider_schema() {
    let sources = module_sources();
    let schema = schema_for(&pinned_version(&sources));
    let problems = check(&sources, &schema);
    assert!(
        problems.is_empty(),
        "infra/hetzner against the provider schema:\n{}",
        problems.join("\n")
    );
}

/// One broken copy of the module per kind of mistake; each must be reported with the words given.
#[test]
fn seeded_mistakes_are_reported() {
    let sources = module_sources();
    let schema = schema_for(&pinned_version(&sources));
    assert!(check(&sources, &schema).is_empty());
    let worker_anchor = "  server_type  = local.regions[each.value.region].worker_size\n";
    let cases: &[(&str, &str, &str, &str)] = &[
        // (what, text to find in main.tf, replacement, words the report must contain)
        (
            "a deprecated argument (removed from the API)",
            worker_anchor,
            "  server_type  = local.regions[each.value.region].worker_size\n  datacenter   = \"fsn1-dc14\"\n",
            "hcloud_server.worker: datacenter is deprecated",
        ),
        (
            "an argument the provider does not have",
            worker_anchor,
            "  server_type  = local.regions[each.value.region].worker_size\n  backup_window = \"22-02\"\n",
            "backup_window is read-only",
        ),
        (
            "an unknown argument",
            "  destination_port = 6443\n  proxyprotocol    = false\n}",
            "  destination_port = 6443\n  proxy_protocol   = false\n}",
            "unknown argument proxy_protocol",
        ),
        (
            "a missing required argument",
            worker_anchor,
            "",
            "hcloud_server.worker: required argument server_type is not set",
        ),
        (
            "a value of the wrong type",
            "  listen_port      = 6443\n",
            "  listen_port      = \"kube\"\n",
            "hcloud_load_balancer_service.api.listen_port: a string does not fit",
        ),
        (
            "a list where a string goes",
            "  type          = \"ipv4\"\n",
            "  type          = [\"ipv4\"]\n",
            "hcloud_primary_ip.api.type: a list does not fit",
        ),
        (
            "a value outside the allowed list",
            "  protocol         = \"tcp\"\n  listen_port      = 6443",
            "  protocol         = \"udp\"\n  listen_port      = 6443",
            "\"udp\" is not one of the allowed values",
        ),
        (
            "an unknown block",
            "  algorithm {\n    type = \"round_robin\"\n  }\n}\n\nresource \"hcloud_load_balancer_network\" \"api\"",
            "  algorythm {\n    type = \"round_robin\"\n  }\n}\n\nresource \"hcloud_load_balancer_network\" \"api\"",
            "unknown block algorythm",
        ),
        (
            "a reference to an attribute the resource does not have",
            "  api_public_host = { for k, ip in hcloud_primary_ip.api : k => ip.ip_address }",
            "  api_public_host = { for k, ip in hcloud_primary_ip.api : k => hcloud_primary_ip.api[k].address }",
            "hcloud_primary_ip.api has no attribute address",
        ),
        (
            "a reference to an undefined local",
            "cluster_secrets   = local.cluster_secrets[each.value.region]",
            "cluster_secrets   = local.cluster_secret[each.value.region]",
            "local.cluster_secret is not defined",
        ),
        (
            "a reference to an undeclared variable",
            "  load_balancer_type = var.load_balancer_type\n  location           = each.value.location\n  labels             = merge(local.common_labels, { \"catalyst.dev/role\" = \"load-balancer\"",
            "  load_balancer_type = var.lb_type\n  location           = each.value.location\n  labels             = merge(local.common_labels, { \"catalyst.dev/role\" = \"load-balancer\"",
            "var.lb_type is not declared",
        ),
        (
            "a reference to a resource the module does not declare",
            "firewall_ids = [hcloud_firewall.region[each.value.region].id]\n  labels = merge(local.common_labels, {\n    \"catalyst.dev/role\"   = \"worker\"",
            "firewall_ids = [hcloud_firewall.regions[each.value.region].id]\n  labels = merge(local.common_labels, {\n    \"catalyst.dev/role\"   = \"worker\"",
            "hcloud_firewall.regions is not a resource of the module",
        ),
        (
            "each outside a for_each resource",
            "  public_key = trimspace(var.ssh_public_key)",
            "  public_key = trimspace(each.value)",
            "hcloud_ssh_key.admin.public_key: unknown name each",
        ),
        (
            "an unknown function",
            "  public_key = trimspace(var.ssh_public_key)",
            "  public_key = trim_space(var.ssh_public_key)",
            "unknown function trim_space()",
        ),
    ];
    for (what, find, replace, expect) in cases {
        let mut broken = sources.clone();
        let main = broken.iter_mut().find(|(n, _)| n == "main.tf").expect("main.tf");
        assert_eq!(
            main.1.matches(find).count(),
            1,
            "{what}: the seed text must occur once in main.tf: {find:?}"
        );
        main.1 = main.1.replacen(find, replace, 1);
        let problems = check(&broken, &schema);
        assert!(
            problems.iter().any(|p| p.contains(expect)),
            "{what}: expected a problem containing {expect:?}, got:\n{}",
            problems.join("\n")
        );
    }
}

/// Item 5 of issue 20, read from the module: no load balancer with a public interface forwards 6443, the
/// API load balancer has its public interface off, and the firewall opens 6443 only to `api_allowed_cidrs`.
#[test]
fn the_kubernetes_api_is_never_public() {
    let sources = module_sources();
    let (_, main) = sources.iter().find(|(n, _)| n == "main.tf").expect("main.tf");
    let body: Body = hcl::parse(main).expect("parses");
    let resources: Vec<&Block> = body.blocks().filter(|b| b.identifier() == "resource").collect();
    let named = |t: &str, n: &str| {
        resources
            .iter()
            .find(|b| b.labels()[0].as_str() == t && b.labels()[1].as_str() == n)
            .copied()
            .unwrap_or_else(|| panic!("{t}.{n}"))
    };
    // The public load balancer's ports (local.lb_ports) carry no 6443.
    let locals = body
        .blocks()
        .find(|b| b.identifier() == "locals")
        .expect("locals");
    let Some(Expression::Array(ports)) = attr(locals.body(), "lb_ports") else {
        panic!("local.lb_ports is a list")
    };
    for p in ports {
        let Expression::Object(o) = p else {
            panic!("port object")
        };
        for (k, v) in o.iter() {
            if ident_key(k).as_deref() == Some("listen") || ident_key(k).as_deref() == Some("destination") {
                assert_ne!(
                    v,
                    &Expression::Number(hcl::Number::from(6443u64)),
                    "the public load balancer forwards the Kubernetes API"
                );
            }
        }
    }
    // Every service on 6443 belongs to the API load balancer, whose network attachment has no public side.
    for s in resources
        .iter()
        .filter(|b| b.labels()[0].as_str() == "hcloud_load_balancer_service")
    {
        if attr(s.body(), "listen_port") == Some(&Expression::Number(hcl::Number::from(6443u64))) {
            let lb = traversal_names(attr(s.body(), "load_balancer_id").expect("load_balancer_id"));
            assert_eq!(
                lb[..2],
                ["hcloud_load_balancer".to_string(), "api".to_string()],
                "{lb:?}"
            );
        }
    }
    assert_eq!(
        attr(
            named("hcloud_load_balancer_network", "api").body(),
            "enable_public_interface"
        ),
        Some(&Expression::Bool(false))
    );
    // The firewall's 6443 rule admits api_allowed_cidrs and nothing else.
    let fw = named("hcloud_firewall", "region");
    let mut api_rules = 0;
    for d in fw.body().blocks().filter(|b| b.identifier() == "dynamic") {
        let content = d
            .body()
            .blocks()
            .find(|c| c.identifier() == "content")
            .expect("content");
        if attr(content.body(), "port") == Some(&Expression::String("6443".into())) {
            api_rules += 1;
            let src = traversal_names(attr(content.body(), "source_ips").expect("source_ips"));
            assert_eq!(src, ["var", "api_allowed_cidrs"]);
        }
    }
    assert_eq!(api_rules, 1, "one firewall rule opens the Kubernetes API");
    // The region's API address is the first control plane's primary IP, and the output says so.
    let (_, outputs) = sources
        .iter()
        .find(|(n, _)| n == "outputs.tf")
        .expect("outputs.tf");
    assert!(outputs.contains("api_endpoint      = \"https://${local.api_public_host[k]}:6443\""));
    assert!(main.contains("api_public_host = { for k, ip in hcloud_primary_ip.api : k => ip.ip_address }"));
}
