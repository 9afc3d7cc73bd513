//! Reading the catalog folder (`platform/` by default): `families.yaml` and one `<id>/blueprint.yaml` per
//! component. Every problem is collected — wrong YAML, a missing or unknown field, a wrong type, then the
//! semantic checks of `app::catalog::check` (unknown dependency, cycle, duplicate id, unknown family, bad
//! version…) — so one run reports all of them, each naming the file and the field.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use app::catalog::check::check;
use app::catalog::{
    Blueprint, BlueprintView, Catalog, CatalogData, CatalogDocument, FamiliesFile, Problem, Sources, Tier,
};
use serde_norway::Value;

/// The loaded, validated catalog and its REST representation.
pub struct CatalogStore {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// The dependency engine over it.
    pub engine: Arc<Catalog>,
    /// `GET /sovereign/api/v1/catalog` body.
    pub document_json: String,
    /// Strong ETag of `document_json` (stable across replicas: a hash of the content).
    pub etag: String,
}

impl fmt::Debug for CatalogStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CatalogStore")
            .field("dir", &self.dir)
            .field("components", &self.engine.len())
            .field("etag", &self.etag)
            .finish()
    }
}

impl CatalogStore {
    /// One line for logs and `catalyst catalog check`.
    pub fn summary(&self) -> String {
        let c = &self.engine;
        let count = |t: Tier| {
            c.blueprints()
                .iter()
                .filter(|b| c.effective_tier(&b.id) == Some(t))
                .count()
        };
        format!(
            "{} components in {} families ({} mandatory, {} recommended, {} optional; default selection {})",
            c.len(),
            c.families().len(),
            count(Tier::Mandatory),
            count(Tier::Recommended),
            count(Tier::Optional),
            c.default_selection().len()
        )
    }
}

/// Problems found while loading; `Display` prints one per line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogProblems(pub Vec<Problem>);

impl fmt::Display for CatalogProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Reads and validates the catalog in `dir`.
pub fn load(dir: &Path) -> Result<CatalogStore, CatalogProblems> {
    let (data, sources, mut problems) = read(dir).map_err(CatalogProblems)?;
    problems.extend(check(&data, &sources));
    if problems.is_empty() {
        // The kit files (values, HA overlay, wiring) against their blueprints and each other.
        problems.extend(crate::gitops::spec::check(&data));
    }
    if !problems.is_empty() {
        return Err(CatalogProblems(problems));
    }
    let engine = Catalog::new(data).map_err(CatalogProblems)?;
    let document = document(&engine);
    let document_json = serde_json::to_string(&document).map_err(|e| {
        CatalogProblems(vec![Problem::new(
            dir.display().to_string(),
            "",
            format!("cannot serialise the catalog: {e}"),
        )])
    })?;
    let etag = format!("\"{:016x}\"", fnv1a(document_json.as_bytes()));
    Ok(CatalogStore {
        dir: dir.to_path_buf(),
        engine: Arc::new(engine),
        document_json,
        etag,
    })
}

/// The REST view: every blueprint with its effective tier and dependents, and the default selection.
pub fn document(engine: &Catalog) -> CatalogDocument {
    CatalogDocument {
        families: engine.families().to_vec(),
        blueprints: engine
            .blueprints()
            .iter()
            .map(|b| BlueprintView {
                blueprint: b.clone(),
                effective_tier: engine.effective_tier(&b.id).unwrap_or(b.tier),
                dependents: engine
                    .dependents_of(&b.id)
                    .into_iter()
                    .map(|d| d.id.clone())
                    .collect(),
            })
            .collect(),
        default_selection: engine.selection_ids(&engine.default_selection()),
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Parses the folder into catalog data, with the file each part came from. Structural problems (YAML
/// syntax, missing/unknown fields, wrong types) are the error; a blueprint whose id differs from its folder
/// is reported in the third element, beside the data, so the semantic checks still run.
pub fn read(dir: &Path) -> Result<(CatalogData, Sources, Vec<Problem>), Vec<Problem>> {
    let shown = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return Err(vec![Problem::new(
                shown,
                "",
                format!("cannot read the catalog folder: {e}"),
            )]);
        }
    };
    let mut problems = Vec::new();
    let mut subdirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();

    let families = match parse_file(dir, "families.yaml", &FAMILIES_FILE, &mut problems) {
        Some(v) => match serde_norway::from_value::<FamiliesFile>(v) {
            Ok(f) => f.families,
            Err(e) => {
                problems.push(Problem::new("families.yaml", "", e.to_string()));
                Vec::new()
            }
        },
        None => Vec::new(),
    };

    let mut blueprints = Vec::new();
    let mut files = Vec::new();
    let mut misnamed = Vec::new();
    for sub in subdirs {
        let Some(folder) = sub.file_name().and_then(|n| n.to_str()).map(str::to_string) else {
            continue;
        };
        if folder.starts_with('.') {
            continue;
        }
        let rel = format!("{folder}/blueprint.yaml");
        if !sub.join("blueprint.yaml").is_file() {
            problems.push(Problem::new(
                rel,
                "",
                "missing: every folder in the catalog needs a blueprint.yaml",
            ));
            continue;
        }
        let Some(value) = parse_file(dir, &rel, &BLUEPRINT, &mut problems) else {
            continue;
        };
        match serde_norway::from_value::<Blueprint>(value) {
            Ok(mut b) => {
                b.kit = crate::gitops::spec::read_files(&sub, &folder, &mut problems);
                if b.id != folder {
                    misnamed.push(Problem::new(
                        &rel,
                        "id",
                        format!(
                            "“{}” differs from its folder name “{folder}”; they must be equal",
                            b.id
                        ),
                    ));
                }
                blueprints.push(b);
                files.push(rel);
            }
            Err(e) => problems.push(Problem::new(rel, "", e.to_string())),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // Sorted by id, sources in step.
    let mut pairs: Vec<(Blueprint, String)> = blueprints.into_iter().zip(files).collect();
    // Sorted by id; for a duplicated id the file in the folder of that name comes first, so the duplicate
    // is reported against the other one.
    let misplaced = |(b, f): &(Blueprint, String)| f.split('/').next() != Some(b.id.as_str());
    pairs.sort_by(|a, b| {
        a.0.id
            .cmp(&b.0.id)
            .then_with(|| misplaced(a).cmp(&misplaced(b)))
            .then_with(|| a.1.cmp(&b.1))
    });
    let (blueprints, files): (Vec<_>, Vec<_>) = pairs.into_iter().unzip();
    Ok((
        CatalogData { families, blueprints },
        Sources {
            families: "families.yaml".into(),
            blueprints: files,
        },
        misnamed,
    ))
}

/// Reads one YAML file and checks it against `shape`; `None` if it cannot be used.
fn parse_file(dir: &Path, rel: &str, shape: &Shape, problems: &mut Vec<Problem>) -> Option<Value> {
    let text = match std::fs::read_to_string(dir.join(rel)) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem::new(rel, "", format!("cannot read: {e}")));
            return None;
        }
    };
    let value: Value = match serde_norway::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            problems.push(Problem::new(rel, "", format!("not valid YAML: {e}")));
            return None;
        }
    };
    let before = problems.len();
    check_shape(&value, shape, "", rel, problems);
    (problems.len() == before).then_some(value)
}

// ---- The files' shape -----------------------------------------------------------------------------------

enum Shape {
    Text,
    Bool,
    Choice(&'static [&'static str]),
    TextList,
    Map(&'static [Field]),
    MapList(&'static [Field]),
    /// Any YAML mapping (chart values).
    AnyMap,
}

struct Field {
    name: &'static str,
    required: bool,
    shape: Shape,
}

const fn req(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        required: true,
        shape,
    }
}

const fn opt(name: &'static str, shape: Shape) -> Field {
    Field {
        name,
        required: false,
        shape,
    }
}

const TIERS: &[&str] = &["mandatory", "recommended", "optional"];
const VISIBILITIES: &[&str] = &["listed", "unlisted", "private"];
const LICENSE_KINDS: &[&str] = &[
    "permissive",
    "weak-copyleft",
    "copyleft",
    "network-copyleft",
    "source-available",
];

static BLUEPRINT: Shape = Shape::Map(&[
    req("id", Shape::Text),
    req("name", Shape::Text),
    req("family", Shape::Text),
    req("tier", Shape::Choice(TIERS)),
    req("visibility", Shape::Choice(VISIBILITIES)),
    req("summary", Shape::Text),
    req("description", Shape::Text),
    req(
        "upstream",
        Shape::Map(&[
            req("project", Shape::Text),
            req("url", Shape::Text),
            req("license", Shape::Text),
        ]),
    ),
    opt(
        "chart",
        Shape::Map(&[
            req("repository", Shape::Text),
            req("name", Shape::Text),
            req("version", Shape::Text),
            req("namespace", Shape::Text),
            opt("values", Shape::AnyMap),
        ]),
    ),
    opt("dependencies", Shape::TextList),
    req(
        "sovereignty",
        Shape::Map(&[
            req("steward", Shape::Text),
            req("jurisdiction", Shape::Text),
            req("licenseKind", Shape::Choice(LICENSE_KINDS)),
        ]),
    ),
    opt("logo", Shape::Text),
]);

static FAMILIES_FILE: Shape = Shape::Map(&[req(
    "families",
    Shape::MapList(&[
        req("id", Shape::Text),
        req("name", Shape::Text),
        req("subtitle", Shape::Text),
        req("tier", Shape::Choice(TIERS)),
        req("cascadeOnMemberSelection", Shape::Bool),
        opt("dependencies", Shape::TextList),
        req("color", Shape::Text),
        req("summary", Shape::Text),
        opt("overview", Shape::TextList),
        opt("capabilities", Shape::TextList),
    ]),
)]);

fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "empty",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

fn check_shape(v: &Value, shape: &Shape, path: &str, file: &str, problems: &mut Vec<Problem>) {
    let mut wrong = |expected: &str| {
        let hint = if matches!(v, Value::Number(_)) && expected == "text" {
            " (quote it)"
        } else {
            ""
        };
        problems.push(Problem::new(
            file,
            path,
            format!("must be {expected}, not {}{hint}", kind_of(v)),
        ));
    };
    match shape {
        Shape::Text => {
            if !matches!(v, Value::String(_)) {
                wrong("text");
            }
        }
        Shape::Bool => {
            if !matches!(v, Value::Bool(_)) {
                wrong("true or false");
            }
        }
        Shape::Choice(choices) => match v {
            Value::String(s) if choices.contains(&s.as_str()) => {}
            Value::String(s) => problems.push(Problem::new(
                file,
                path,
                format!("“{s}” is not one of: {}", choices.join(", ")),
            )),
            _ => wrong(&format!("one of: {}", choices.join(", "))),
        },
        Shape::TextList => match v {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !matches!(item, Value::String(_)) {
                        problems.push(Problem::new(
                            file,
                            format!("{path}[{i}]"),
                            format!("must be text, not {}", kind_of(item)),
                        ));
                    }
                }
            }
            _ => wrong("a list of text"),
        },
        Shape::AnyMap => {
            if !matches!(v, Value::Mapping(_)) {
                wrong("a mapping");
            }
        }
        Shape::MapList(fields) => match v {
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_shape(item, &Shape::Map(fields), &format!("{path}[{i}]"), file, problems);
                }
            }
            _ => wrong("a list"),
        },
        Shape::Map(fields) => {
            let Value::Mapping(map) = v else {
                wrong("a mapping");
                return;
            };
            for f in fields.iter() {
                match map.get(f.name) {
                    Some(Value::Null) | None if f.required => {
                        problems.push(Problem::new(file, join(path, f.name), "missing required field"));
                    }
                    Some(Value::Null) | None => {}
                    Some(value) => check_shape(value, &f.shape, &join(path, f.name), file, problems),
                }
            }
            for key in map.keys() {
                match key {
                    Value::String(k) if fields.iter().any(|f| f.name == k) => {}
                    Value::String(k) => {
                        let known: Vec<&str> = fields.iter().map(|f| f.name).collect();
                        problems.push(Problem::new(
                            file,
                            join(path, k),
                            format!("unknown field; known fields: {}", known.join(", ")),
                        ));
                    }
                    other => problems.push(Problem::new(
                        file,
                        path,
                        format!("field names must be text, not {}", kind_of(other)),
                    )),
                }
            }
        }
    }
}

// Keep the shape in step with the types: every enum value the shape accepts must parse.
#[cfg(test)]
mod tests {
    use super::*;
    use app::catalog::{LicenseKind, Visibility};

    #[test]
    fn shape_choices_match_the_types() {
        for t in TIERS {
            assert!(Tier::parse(t).is_some(), "{t}");
        }
        for v in VISIBILITIES {
            assert!(Visibility::parse(v).is_some(), "{v}");
        }
        for k in LICENSE_KINDS {
            assert!(LicenseKind::parse(k).is_some(), "{k}");
        }
        assert_eq!(TIERS.len(), Tier::ALL.len());
        assert_eq!(VISIBILITIES.len(), Visibility::ALL.len());
        assert_eq!(LICENSE_KINDS.len(), LicenseKind::ALL.len());
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
