//! Semantic checks of a catalog: everything that can be wrong once the files parsed. The server runs them
//! at start and in `catalyst catalog check`; `Catalog::new` runs them again on whatever it is given, so the
//! engine never works on an inconsistent graph. Each problem names the file and the field.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use super::types::{CatalogData, LicenseKind};

/// One thing wrong with the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, relative to the catalog folder (`cilium/blueprint.yaml`, `families.yaml`).
    pub file: String,
    /// The field, as a path (`chart.version`, `dependencies[2]`, `families[3].color`).
    pub field: String,
    pub message: String,
}

impl Problem {
    pub fn new(file: impl Into<String>, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            file: file.into(),
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(f, "{}: {}: {}", self.file, self.field, self.message)
        }
    }
}

/// Where each part of a [`CatalogData`] came from, for messages.
#[derive(Debug, Clone)]
pub struct Sources {
    pub families: String,
    /// One per blueprint, same order as `CatalogData::blueprints`.
    pub blueprints: Vec<String>,
}

impl Sources {
    /// The conventional names: `families.yaml` and `<id>/blueprint.yaml`.
    pub fn conventional(data: &CatalogData) -> Self {
        Sources {
            families: "families.yaml".into(),
            blueprints: data
                .blueprints
                .iter()
                .map(|b| format!("{}/blueprint.yaml", b.id))
                .collect(),
        }
    }
}

pub const MAX_SUMMARY_CHARS: usize = 120;

/// Lowercase letters, digits and single hyphens; starts with a letter; at most 63 characters.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A Kubernetes namespace name (RFC 1123 label).
pub fn is_valid_namespace(ns: &str) -> bool {
    !ns.is_empty()
        && ns.len() <= 63
        && ns.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && ns.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && ns
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A semantic version (`1.16.5`, `1.0.0-beta.213`, `2.0.0+build.1`), optionally with a leading `v`.
pub fn is_valid_chart_version(version: &str) -> bool {
    let v = version.strip_prefix('v').unwrap_or(version);
    let (v, build) = match v.split_once('+') {
        Some((v, b)) => (v, Some(b)),
        None => (v, None),
    };
    let (core, pre) = match v.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (v, None),
    };
    let numeric =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    let parts: Vec<&str> = core.split('.').collect();
    if parts.len() != 3 || !parts.iter().all(|p| numeric(p)) {
        return false;
    }
    let ident_ok = |s: &str, allow_leading_zero: bool| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && (allow_leading_zero || !s.chars().all(|c| c.is_ascii_digit()) || numeric(s))
    };
    if let Some(pre) = pre
        && !pre.split('.').all(|i| ident_ok(i, false))
    {
        return false;
    }
    if let Some(build) = build
        && !build.split('.').all(|i| ident_ok(i, true))
    {
        return false;
    }
    true
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].chars().all(|c| c.is_ascii_hexdigit())
}

fn is_logo_file(s: &str) -> bool {
    (s.ends_with(".svg") || s.ends_with(".png"))
        && s.len() > 4
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_' || c == '.')
        && !s.starts_with('.')
}

/// Every problem in `data`, in a stable order (families first, then blueprints by file).
pub fn check(data: &CatalogData, sources: &Sources) -> Vec<Problem> {
    let mut problems = Vec::new();
    let ff = &sources.families;

    // Families.
    let mut family_ids: HashMap<&str, usize> = HashMap::new();
    for (i, f) in data.families.iter().enumerate() {
        let at = |field: &str| format!("families[{i}].{field}");
        if !is_valid_id(&f.id) {
            problems.push(Problem::new(ff, at("id"), format!("“{}” is not a valid id: use lowercase letters, digits and hyphens, starting with a letter", f.id)));
        }
        if let Some(first) = family_ids.insert(f.id.as_str(), i) {
            problems.push(Problem::new(
                ff,
                at("id"),
                format!("duplicate family id “{}” (also families[{first}])", f.id),
            ));
        }
        for (field, value) in [
            ("name", &f.name),
            ("subtitle", &f.subtitle),
            ("summary", &f.summary),
        ] {
            if value.trim().is_empty() {
                problems.push(Problem::new(ff, at(field), "must not be empty"));
            }
        }
        if !is_hex_color(&f.color) {
            problems.push(Problem::new(
                ff,
                at("color"),
                format!("“{}” is not a colour: use #RRGGBB", f.color),
            ));
        }
    }
    for (i, f) in data.families.iter().enumerate() {
        for (j, dep) in f.dependencies.iter().enumerate() {
            let field = format!("families[{i}].dependencies[{j}]");
            if dep == &f.id {
                problems.push(Problem::new(
                    ff,
                    field,
                    format!("family “{dep}” depends on itself"),
                ));
            } else if !family_ids.contains_key(dep.as_str()) {
                problems.push(Problem::new(ff, field, format!("unknown family “{dep}”")));
            }
        }
    }
    let fam_graph: Vec<Vec<usize>> = data
        .families
        .iter()
        .map(|f| {
            f.dependencies
                .iter()
                .filter(|d| *d != &f.id)
                .filter_map(|d| family_ids.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    for cycle in find_cycles(&fam_graph) {
        let path: Vec<&str> = cycle.iter().map(|&i| data.families[i].id.as_str()).collect();
        problems.push(Problem::new(
            ff,
            format!("families[{}].dependencies", cycle[0]),
            format!("family dependency cycle: {}", path.join(" → ")),
        ));
    }

    // Blueprints.
    let file = |i: usize| -> &str {
        sources
            .blueprints
            .get(i)
            .map(String::as_str)
            .unwrap_or("blueprint.yaml")
    };
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, b) in data.blueprints.iter().enumerate() {
        let f = file(i);
        if !is_valid_id(&b.id) {
            problems.push(Problem::new(f, "id", format!("“{}” is not a valid id: use lowercase letters, digits and hyphens, starting with a letter", b.id)));
        }
        if let Some(first) = ids.insert(b.id.as_str(), i) {
            problems.push(Problem::new(
                f,
                "id",
                format!("duplicate id “{}”: {} uses it too", b.id, file(first)),
            ));
        }
        if b.name.trim().is_empty() {
            problems.push(Problem::new(f, "name", "must not be empty"));
        }
        if !family_ids.contains_key(b.family.as_str()) {
            let known: Vec<&str> = data.families.iter().map(|f| f.id.as_str()).collect();
            problems.push(Problem::new(
                f,
                "family",
                format!("unknown family “{}”; known: {}", b.family, known.join(", ")),
            ));
        }
        let summary = b.summary.trim();
        if summary.is_empty() {
            problems.push(Problem::new(f, "summary", "must not be empty"));
        } else if summary.contains('\n') {
            problems.push(Problem::new(f, "summary", "must be one line"));
        } else if summary.chars().count() > MAX_SUMMARY_CHARS {
            problems.push(Problem::new(
                f,
                "summary",
                format!(
                    "is {} characters; keep it to {MAX_SUMMARY_CHARS}",
                    summary.chars().count()
                ),
            ));
        }
        if b.description.trim().is_empty() {
            problems.push(Problem::new(f, "description", "must not be empty"));
        }
        if b.upstream.project.trim().is_empty() {
            problems.push(Problem::new(f, "upstream.project", "must not be empty"));
        }
        if !b.upstream.url.starts_with("https://") || b.upstream.url.len() <= "https://".len() {
            problems.push(Problem::new(
                f,
                "upstream.url",
                format!("“{}” is not an https:// address", b.upstream.url),
            ));
        }
        if b.upstream.license.trim().is_empty() || b.upstream.license.contains(char::is_whitespace) {
            problems.push(Problem::new(
                f,
                "upstream.license",
                format!(
                    "“{}” is not an SPDX licence id (e.g. Apache-2.0)",
                    b.upstream.license
                ),
            ));
        } else if let Some(kind) = LicenseKind::of_spdx(&b.upstream.license)
            && kind != b.sovereignty.license_kind
        {
            problems.push(Problem::new(
                f,
                "sovereignty.licenseKind",
                format!(
                    "{} is {}, not {}",
                    b.upstream.license,
                    kind.as_str(),
                    b.sovereignty.license_kind.as_str()
                ),
            ));
        }
        if b.sovereignty.steward.trim().is_empty() {
            problems.push(Problem::new(f, "sovereignty.steward", "must not be empty"));
        }
        if b.sovereignty.jurisdiction.trim().is_empty() {
            problems.push(Problem::new(f, "sovereignty.jurisdiction", "must not be empty"));
        }
        if let Some(chart) = &b.chart {
            let repo = &chart.repository;
            let ok_repo = (repo.starts_with("https://") && repo.len() > 8)
                || (repo.starts_with("oci://") && repo.len() > 6);
            if !ok_repo || repo.contains(char::is_whitespace) {
                problems.push(Problem::new(
                    f,
                    "chart.repository",
                    format!("“{repo}” is not a Helm repository: use https://… or oci://…"),
                ));
            }
            if chart.name.trim().is_empty() || chart.name.contains(['/', ' ']) {
                problems.push(Problem::new(
                    f,
                    "chart.name",
                    format!("“{}” is not a chart name", chart.name),
                ));
            }
            if !is_valid_chart_version(&chart.version) {
                problems.push(Problem::new(
                    f,
                    "chart.version",
                    format!(
                        "“{}” is not a pinned semantic version (e.g. 1.16.5)",
                        chart.version
                    ),
                ));
            }
            if !is_valid_namespace(&chart.namespace) {
                problems.push(Problem::new(
                    f,
                    "chart.namespace",
                    format!("“{}” is not a Kubernetes namespace name", chart.namespace),
                ));
            }
        }
        if let Some(logo) = &b.logo
            && !is_logo_file(logo)
        {
            problems.push(Problem::new(
                f,
                "logo",
                format!("“{logo}” is not a logo file name (name.svg or name.png)"),
            ));
        }
    }
    for (i, b) in data.blueprints.iter().enumerate() {
        let mut seen = BTreeSet::new();
        for (j, dep) in b.dependencies.iter().enumerate() {
            let field = format!("dependencies[{j}]");
            if dep == &b.id {
                problems.push(Problem::new(file(i), field, format!("“{dep}” depends on itself")));
            } else if !ids.contains_key(dep.as_str()) {
                problems.push(Problem::new(
                    file(i),
                    field,
                    format!("unknown dependency “{dep}”: no blueprint has this id"),
                ));
            } else if !seen.insert(dep.as_str()) {
                problems.push(Problem::new(file(i), field, format!("“{dep}” is listed twice")));
            }
        }
    }
    // Cycles, only over the first blueprint of each id (duplicates are reported above).
    let graph: Vec<Vec<usize>> = data
        .blueprints
        .iter()
        .enumerate()
        .map(|(i, b)| {
            if ids.get(b.id.as_str()) != Some(&i) {
                return Vec::new();
            }
            b.dependencies
                .iter()
                .filter(|d| *d != &b.id)
                .filter_map(|d| ids.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    for cycle in find_cycles(&graph) {
        let path: Vec<&str> = cycle
            .iter()
            .chain(cycle.first())
            .map(|&i| data.blueprints[i].id.as_str())
            .collect();
        problems.push(Problem::new(
            file(cycle[0]),
            "dependencies",
            format!("dependency cycle: {}", path.join(" → ")),
        ));
    }
    problems
}

/// Elementary cycles found by depth-first search, each reported once, starting at its smallest index.
fn find_cycles(graph: &[Vec<usize>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    let mut marks = vec![Mark::New; graph.len()];
    let mut found: BTreeSet<Vec<usize>> = BTreeSet::new();
    for start in 0..graph.len() {
        if marks[start] != Mark::New {
            continue;
        }
        // Iterative DFS: (node, next edge index); `path` mirrors the stack.
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        let mut path: Vec<usize> = vec![start];
        marks[start] = Mark::Active;
        while let Some(&mut (node, ref mut edge)) = stack.last_mut() {
            if let Some(&next) = graph[node].get(*edge) {
                *edge += 1;
                match marks[next] {
                    Mark::New => {
                        marks[next] = Mark::Active;
                        stack.push((next, 0));
                        path.push(next);
                    }
                    Mark::Active => {
                        if let Some(pos) = path.iter().position(|&n| n == next) {
                            let mut cycle = path[pos..].to_vec();
                            let min = cycle
                                .iter()
                                .enumerate()
                                .min_by_key(|(_, n)| **n)
                                .map(|(i, _)| i)
                                .unwrap_or(0);
                            cycle.rotate_left(min);
                            found.insert(cycle);
                        }
                    }
                    Mark::Done => {}
                }
            } else {
                marks[node] = Mark::Done;
                stack.pop();
                path.pop();
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_versions() {
        for ok in [
            "1.16.5",
            "v1.16.2",
            "0.1.572",
            "1.0.0-beta.213",
            "2.0.0+build.7",
            "v0.11.4",
            "1.0.0-rc.1+sha.5114f85",
        ] {
            assert!(is_valid_chart_version(ok), "{ok}");
        }
        for bad in [
            "", "1.16", "latest", "1.16.x", "01.2.3", "1.2.3-", "1.2.3-01", "v", "1.2.3.4", ">=1.0.0",
            "1.2.3 ",
        ] {
            assert!(!is_valid_chart_version(bad), "{bad}");
        }
    }

    #[test]
    fn ids_and_namespaces() {
        assert!(is_valid_id("cert-manager"));
        assert!(is_valid_id("k8s2"));
        for bad in ["", "Cilium", "-a", "a-", "a--b", "1abc", "a_b", &"a".repeat(64)] {
            assert!(!is_valid_id(bad), "{bad}");
        }
        assert!(is_valid_namespace("kube-system"));
        assert!(!is_valid_namespace("Kube"));
    }

    #[test]
    fn cycles_are_found_once_with_their_path() {
        // 0 → 1 → 2 → 0, 3 → 3 is excluded by callers, 4 → 5 → 4.
        let graph = vec![vec![1], vec![2], vec![0], vec![0], vec![5], vec![4]];
        assert_eq!(find_cycles(&graph), vec![vec![0, 1, 2], vec![4, 5]]);
        assert!(find_cycles(&[vec![1], vec![2], vec![]]).is_empty());
    }
}
