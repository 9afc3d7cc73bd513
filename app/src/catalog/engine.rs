//! The dependency engine: which components a Sovereign gets when the operator picks some. Pure Rust, no I/O,
//! so the browser (marketplace, wizard) and the server (validating a submitted request) run the same code.
//!
//! Rules:
//! - the selection always holds every component whose *effective* tier is mandatory (a dependency of a
//!   mandatory component is itself mandatory), and is closed under dependencies;
//! - adding a component adds its transitive dependencies; when a newly added component belongs to a family
//!   with `cascadeOnMemberSelection`, the whole family (and the families it depends on) comes along;
//! - removing a component removes every selected component that depends on it, directly or not;
//!   mandatory components cannot be removed;
//! - the default selection is the mandatory and recommended components with their dependencies (family
//!   cascades apply to the operator's own choices, not to the defaults).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::check::{Problem, Sources, check};
use super::types::{Blueprint, CatalogData, Family, Tier, Visibility};
use crate::error::{AppError, FieldError};

/// A set of selected components of one [`Catalog`] (a bitset over its blueprints). Compare and store freely;
/// turn it into ids with [`Catalog::selection_ids`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Selection {
    bits: Vec<u64>,
}

impl Selection {
    fn empty(n: usize) -> Self {
        Selection {
            bits: vec![0; n.div_ceil(64)],
        }
    }

    fn has(&self, i: usize) -> bool {
        self.bits.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Sets bit `i`; true if it was not set.
    fn set(&mut self, i: usize) -> bool {
        let Some(w) = self.bits.get_mut(i / 64) else {
            return false;
        };
        let was = *w & (1 << (i % 64)) != 0;
        *w |= 1 << (i % 64);
        !was
    }

    fn clear(&mut self, i: usize) -> bool {
        let Some(w) = self.bits.get_mut(i / 64) else {
            return false;
        };
        let was = *w & (1 << (i % 64)) != 0;
        *w &= !(1 << (i % 64));
        was
    }

    /// Number of selected components.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What an operation changed, for toasts and logs. Ids are sorted by display name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Families that came along whole because a member was chosen.
    #[serde(rename = "cascadedFamilies")]
    pub cascaded_families: Vec<String>,
}

impl Change {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Why a component is (or is not) in a selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reason {
    /// Mandatory as written: on every Sovereign.
    AlwaysInstalled,
    /// Mandatory because these mandatory components need it.
    RequiredByAlwaysInstalled(Vec<String>),
    /// Selected components that need it directly.
    RequiredBy(Vec<String>),
    /// It belongs to a family that comes whole, and another member is selected.
    PartOfFamily(String),
    /// Selected, in the default selection.
    Recommended,
    /// Selected by choice.
    Chosen,
    /// Not selected; adding it would also add these (not yet selected) components.
    NotSelected { would_add: Vec<String> },
}

/// The engine's answer to "why is this here?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub id: String,
    pub selected: bool,
    pub reasons: Vec<Reason>,
}

/// A validated catalog with its dependency graph, ready for selection operations.
#[derive(Debug, Clone)]
pub struct Catalog {
    data: CatalogData,
    index: HashMap<String, usize>,
    family_index: HashMap<String, usize>,
    family_of: Vec<usize>,
    deps: Vec<Vec<usize>>,
    dependents: Vec<Vec<usize>>,
    effective: Vec<Tier>,
    /// Per family, member indices sorted by name.
    members: Vec<Vec<usize>>,
    /// Per family, the family and the families it depends on, transitively.
    family_closure: Vec<Vec<usize>>,
    mandatory: Selection,
    default_selection: Selection,
    /// Blueprint indices sorted by display name (ties by id).
    by_name: Vec<usize>,
    rank_by_name: Vec<usize>,
}

impl Catalog {
    /// Checks `data` (see `catalog::check`) and builds the graph. Blueprints are sorted by id.
    pub fn new(mut data: CatalogData) -> Result<Catalog, Vec<Problem>> {
        data.blueprints.sort_by(|a, b| a.id.cmp(&b.id));
        let problems = check(&data, &Sources::conventional(&data));
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(Catalog::build(data))
    }

    fn build(data: CatalogData) -> Catalog {
        let n = data.blueprints.len();
        let index: HashMap<String, usize> = data
            .blueprints
            .iter()
            .enumerate()
            .map(|(i, b)| (b.id.clone(), i))
            .collect();
        let family_index: HashMap<String, usize> = data
            .families
            .iter()
            .enumerate()
            .map(|(i, f)| (f.id.clone(), i))
            .collect();
        let family_of: Vec<usize> = data.blueprints.iter().map(|b| family_index[&b.family]).collect();
        let deps: Vec<Vec<usize>> = data
            .blueprints
            .iter()
            .map(|b| b.dependencies.iter().map(|d| index[d]).collect())
            .collect();
        let mut dependents = vec![Vec::new(); n];
        for (i, ds) in deps.iter().enumerate() {
            for &d in ds {
                dependents[d].push(i);
            }
        }
        let mut by_name: Vec<usize> = (0..n).collect();
        by_name.sort_by(|&a, &b| {
            let (x, y) = (&data.blueprints[a], &data.blueprints[b]);
            x.name
                .to_lowercase()
                .cmp(&y.name.to_lowercase())
                .then_with(|| x.id.cmp(&y.id))
        });
        let mut rank_by_name = vec![0; n];
        for (rank, &i) in by_name.iter().enumerate() {
            rank_by_name[i] = rank;
        }
        let mut members = vec![Vec::new(); data.families.len()];
        for &i in &by_name {
            members[family_of[i]].push(i);
        }
        let family_closure = (0..data.families.len())
            .map(|f| {
                let mut seen = vec![false; data.families.len()];
                let mut stack = vec![f];
                let mut out = Vec::new();
                while let Some(x) = stack.pop() {
                    if std::mem::replace(&mut seen[x], true) {
                        continue;
                    }
                    out.push(x);
                    for d in &data.families[x].dependencies {
                        stack.push(family_index[d]);
                    }
                }
                out
            })
            .collect();

        let mut catalog = Catalog {
            effective: data.blueprints.iter().map(|b| b.tier).collect(),
            mandatory: Selection::empty(n),
            default_selection: Selection::empty(n),
            data,
            index,
            family_index,
            family_of,
            deps,
            dependents,
            members,
            family_closure,
            by_name,
            rank_by_name,
        };
        // Effective tier: everything a mandatory component needs is mandatory.
        let mut mandatory = Selection::empty(n);
        for i in 0..n {
            if catalog.data.blueprints[i].tier == Tier::Mandatory {
                catalog.close_over_deps(&mut mandatory, i, &mut Vec::new());
            }
        }
        for i in 0..n {
            if mandatory.has(i) {
                catalog.effective[i] = Tier::Mandatory;
            }
        }
        let mut defaults = mandatory.clone();
        for i in 0..n {
            if catalog.effective[i] == Tier::Recommended {
                catalog.close_over_deps(&mut defaults, i, &mut Vec::new());
            }
        }
        catalog.mandatory = mandatory;
        catalog.default_selection = defaults;
        catalog
    }

    /// Adds `i` and everything it needs; pushes newly selected indices to `added`.
    fn close_over_deps(&self, sel: &mut Selection, i: usize, added: &mut Vec<usize>) {
        let mut stack = vec![i];
        while let Some(x) = stack.pop() {
            if sel.set(x) {
                added.push(x);
                stack.extend(self.deps[x].iter().copied().filter(|&d| !sel.has(d)));
            }
        }
    }

    fn idx(&self, id: &str) -> Result<usize, AppError> {
        self.index.get(id).copied().ok_or_else(|| {
            AppError::invalid(
                "components",
                format!("There is no component “{id}” in the catalog; pick one from the marketplace."),
            )
        })
    }

    fn family_idx(&self, id: &str) -> Result<usize, AppError> {
        self.family_index.get(id).copied().ok_or_else(|| {
            AppError::invalid(
                "family",
                format!("There is no component family “{id}” in the catalog."),
            )
        })
    }

    fn ids_by_name(&self, mut idx: Vec<usize>) -> Vec<String> {
        idx.sort_by_key(|&i| self.rank_by_name[i]);
        idx.dedup();
        idx.into_iter()
            .map(|i| self.data.blueprints[i].id.clone())
            .collect()
    }

    // ---- Reading the catalog ---------------------------------------------------------------------------

    pub fn data(&self) -> &CatalogData {
        &self.data
    }

    /// Number of blueprints.
    pub fn len(&self) -> usize {
        self.data.blueprints.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.blueprints.is_empty()
    }

    /// Blueprints sorted by id.
    pub fn blueprints(&self) -> &[Blueprint] {
        &self.data.blueprints
    }

    /// Blueprints sorted by display name.
    pub fn blueprints_by_name(&self) -> impl Iterator<Item = &Blueprint> {
        self.by_name.iter().map(|&i| &self.data.blueprints[i])
    }

    /// Families in file order.
    pub fn families(&self) -> &[Family] {
        &self.data.families
    }

    pub fn blueprint(&self, id: &str) -> Option<&Blueprint> {
        self.index.get(id).map(|&i| &self.data.blueprints[i])
    }

    pub fn family(&self, id: &str) -> Option<&Family> {
        self.family_index.get(id).map(|&i| &self.data.families[i])
    }

    /// The family a blueprint belongs to.
    pub fn family_of(&self, id: &str) -> Option<&Family> {
        self.index
            .get(id)
            .map(|&i| &self.data.families[self.family_of[i]])
    }

    /// Tier after promotion: a dependency of a mandatory component is mandatory.
    pub fn effective_tier(&self, id: &str) -> Option<Tier> {
        self.index.get(id).map(|&i| self.effective[i])
    }

    pub fn is_mandatory(&self, id: &str) -> bool {
        self.effective_tier(id) == Some(Tier::Mandatory)
    }

    /// Direct dependencies, by name.
    pub fn dependencies_of(&self, id: &str) -> Vec<&Blueprint> {
        self.related(id, &self.deps)
    }

    /// Components that depend on this one directly, by name.
    pub fn dependents_of(&self, id: &str) -> Vec<&Blueprint> {
        self.related(id, &self.dependents)
    }

    fn related(&self, id: &str, graph: &[Vec<usize>]) -> Vec<&Blueprint> {
        let Some(&i) = self.index.get(id) else {
            return Vec::new();
        };
        let mut out = graph[i].clone();
        out.sort_by_key(|&j| self.rank_by_name[j]);
        out.into_iter().map(|j| &self.data.blueprints[j]).collect()
    }

    /// Members of a family, by name.
    pub fn members(&self, family: &str) -> Vec<&Blueprint> {
        self.family_index
            .get(family)
            .map(|&f| {
                self.members[f]
                    .iter()
                    .map(|&i| &self.data.blueprints[i])
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Blueprints shown in the marketplace grid (`visibility: listed`).
    pub fn is_listed(&self, id: &str) -> bool {
        self.blueprint(id)
            .is_some_and(|b| b.visibility == Visibility::Listed)
    }

    /// Display names for ids (unknown ids are shown as they are).
    pub fn names(&self, ids: &[String]) -> Vec<String> {
        ids.iter()
            .map(|id| {
                self.blueprint(id)
                    .map(|b| b.name.clone())
                    .unwrap_or_else(|| id.clone())
            })
            .collect()
    }

    // ---- Selections -------------------------------------------------------------------------------------

    /// Only the (effective) mandatory components.
    pub fn mandatory_selection(&self) -> Selection {
        self.mandatory.clone()
    }

    /// Mandatory + recommended components and their dependencies.
    pub fn default_selection(&self) -> Selection {
        self.default_selection.clone()
    }

    /// Ids in a selection, sorted by id.
    pub fn selection_ids(&self, sel: &Selection) -> Vec<String> {
        (0..self.len())
            .filter(|&i| sel.has(i))
            .map(|i| self.data.blueprints[i].id.clone())
            .collect()
    }

    pub fn is_selected(&self, sel: &Selection, id: &str) -> bool {
        self.index.get(id).is_some_and(|&i| sel.has(i))
    }

    /// A selection from ids, completed with every mandatory component and every dependency. Unknown ids
    /// are rejected (`AppError::Invalid` naming them).
    pub fn selection_from_ids<S: AsRef<str>>(&self, ids: &[S]) -> Result<Selection, AppError> {
        let mut unknown = Vec::new();
        let mut sel = self.mandatory.clone();
        for (k, id) in ids.iter().enumerate() {
            match self.index.get(id.as_ref()) {
                Some(&i) => self.close_over_deps(&mut sel, i, &mut Vec::new()),
                None => unknown.push(FieldError::new(
                    format!("components[{k}]"),
                    format!("There is no component “{}” in the catalog; remove it or pick one from the marketplace.", id.as_ref()),
                )),
            }
        }
        if unknown.is_empty() {
            Ok(sel)
        } else {
            Err(AppError::Invalid(unknown))
        }
    }

    /// Adds a component with its dependencies, and its whole family where the family cascades.
    pub fn add(&self, sel: &mut Selection, id: &str) -> Result<Change, AppError> {
        let i = self.idx(id)?;
        self.ensure_base(sel);
        let mut added = Vec::new();
        self.close_over_deps(sel, i, &mut added);
        let cascaded = self.cascade(sel, &mut added);
        Ok(self.change(added, Vec::new(), cascaded))
    }

    /// For every newly added member of a cascading family, adds its whole family closure; repeats for the
    /// members this brings in. Returns the families that cascaded.
    fn cascade(&self, sel: &mut Selection, added: &mut Vec<usize>) -> Vec<usize> {
        let mut families_done = vec![false; self.data.families.len()];
        let mut cascaded = Vec::new();
        let mut k = 0;
        while k < added.len() {
            let f = self.family_of[added[k]];
            k += 1;
            if families_done[f] || !self.data.families[f].cascade_on_member_selection {
                continue;
            }
            families_done[f] = true;
            let before = added.len();
            for &g in &self.family_closure[f] {
                for &m in &self.members[g] {
                    self.close_over_deps(sel, m, added);
                }
            }
            if added.len() > before {
                cascaded.push(f);
            }
        }
        cascaded
    }

    /// The selected components that would be removed along with `id` (its selected dependents, transitively),
    /// by name. Errors if `id` is unknown or mandatory.
    pub fn removal_impact(&self, sel: &Selection, id: &str) -> Result<Vec<String>, AppError> {
        let i = self.idx(id)?;
        self.refuse_mandatory(i)?;
        let mut out = self.selected_dependents(sel, &[i]);
        out.retain(|&j| j != i);
        Ok(self.ids_by_name(out))
    }

    /// Selected components depending on any of `roots` (transitively), including the roots that are selected.
    fn selected_dependents(&self, sel: &Selection, roots: &[usize]) -> Vec<usize> {
        let mut seen = Selection::empty(self.len());
        let mut out = Vec::new();
        let mut stack: Vec<usize> = roots.iter().copied().filter(|&r| sel.has(r)).collect();
        while let Some(x) = stack.pop() {
            if seen.set(x) {
                out.push(x);
                stack.extend(
                    self.dependents[x]
                        .iter()
                        .copied()
                        .filter(|&d| sel.has(d) && !seen.has(d)),
                );
            }
        }
        out
    }

    fn refuse_mandatory(&self, i: usize) -> Result<(), AppError> {
        if self.effective[i] == Tier::Mandatory {
            let b = &self.data.blueprints[i];
            return Err(AppError::invalid(
                "components",
                format!(
                    "{} is always installed: the platform cannot run without it.",
                    b.name
                ),
            ));
        }
        Ok(())
    }

    /// Removes a component and every selected component that depends on it.
    pub fn remove(&self, sel: &mut Selection, id: &str) -> Result<Change, AppError> {
        let i = self.idx(id)?;
        self.refuse_mandatory(i)?;
        self.ensure_base(sel);
        let gone = self.selected_dependents(sel, &[i]);
        for &x in &gone {
            sel.clear(x);
        }
        Ok(self.change(Vec::new(), gone, Vec::new()))
    }

    /// Adds every member of a family (and of the families it depends on) with their dependencies.
    pub fn add_family(&self, sel: &mut Selection, family: &str) -> Result<Change, AppError> {
        let f = self.family_idx(family)?;
        self.ensure_base(sel);
        let mut added = Vec::new();
        for &g in &self.family_closure[f] {
            for &m in &self.members[g] {
                self.close_over_deps(sel, m, &mut added);
            }
        }
        let mut cascaded = self.cascade(sel, &mut added);
        cascaded.retain(|&g| g != f);
        Ok(self.change(added, Vec::new(), cascaded))
    }

    /// The selected components that removing a family would take away (its non-mandatory members and what
    /// depends on them), by name.
    pub fn family_removal_impact(&self, sel: &Selection, family: &str) -> Result<Vec<String>, AppError> {
        let f = self.family_idx(family)?;
        let roots: Vec<usize> = self.members[f]
            .iter()
            .copied()
            .filter(|&m| self.effective[m] != Tier::Mandatory)
            .collect();
        Ok(self.ids_by_name(self.selected_dependents(sel, &roots)))
    }

    /// Removes a family's non-mandatory members and every selected component depending on them.
    pub fn remove_family(&self, sel: &mut Selection, family: &str) -> Result<Change, AppError> {
        let f = self.family_idx(family)?;
        self.ensure_base(sel);
        let roots: Vec<usize> = self.members[f]
            .iter()
            .copied()
            .filter(|&m| self.effective[m] != Tier::Mandatory)
            .collect();
        let gone = self.selected_dependents(sel, &roots);
        for &x in &gone {
            sel.clear(x);
        }
        Ok(self.change(Vec::new(), gone, Vec::new()))
    }

    /// Why `id` is (or is not) in `sel`.
    pub fn explain(&self, sel: &Selection, id: &str) -> Result<Explanation, AppError> {
        let i = self.idx(id)?;
        let selected = sel.has(i);
        let mut reasons = Vec::new();
        if self.effective[i] == Tier::Mandatory {
            if self.data.blueprints[i].tier == Tier::Mandatory {
                reasons.push(Reason::AlwaysInstalled);
            } else {
                let by: Vec<usize> = self.dependents[i]
                    .iter()
                    .copied()
                    .filter(|&d| self.effective[d] == Tier::Mandatory)
                    .collect();
                reasons.push(Reason::RequiredByAlwaysInstalled(self.ids_by_name(by)));
            }
        } else if selected {
            let by: Vec<usize> = self.dependents[i]
                .iter()
                .copied()
                .filter(|&d| sel.has(d))
                .collect();
            if !by.is_empty() {
                reasons.push(Reason::RequiredBy(self.ids_by_name(by)));
            }
            let f = self.family_of[i];
            if self.data.families[f].cascade_on_member_selection
                && self.members[f]
                    .iter()
                    .any(|&m| m != i && sel.has(m) && self.effective[m] != Tier::Mandatory)
            {
                reasons.push(Reason::PartOfFamily(self.data.families[f].id.clone()));
            }
            if reasons.is_empty() {
                reasons.push(if self.effective[i] == Tier::Recommended {
                    Reason::Recommended
                } else {
                    Reason::Chosen
                });
            }
        } else {
            let mut probe = sel.clone();
            let mut added = Vec::new();
            self.close_over_deps(&mut probe, i, &mut added);
            self.cascade(&mut probe, &mut added);
            added.retain(|&x| x != i);
            reasons.push(Reason::NotSelected {
                would_add: self.ids_by_name(added),
            });
        }
        Ok(Explanation {
            id: self.data.blueprints[i].id.clone(),
            selected,
            reasons,
        })
    }

    /// One sentence per reason, with display names: "Required by Grafana, Loki.", "Part of family CORTEX.",
    /// "Always installed."
    pub fn explain_text(&self, e: &Explanation) -> Vec<String> {
        let names = |ids: &[String]| join_names(&self.names(ids));
        e.reasons
            .iter()
            .map(|r| match r {
                Reason::AlwaysInstalled => "Always installed.".to_string(),
                Reason::RequiredByAlwaysInstalled(by) => {
                    format!("Always installed: required by {}.", names(by))
                }
                Reason::RequiredBy(by) => format!("Required by {}.", names(by)),
                Reason::PartOfFamily(f) => format!(
                    "Part of family {}.",
                    self.family(f).map(|f| f.name.as_str()).unwrap_or(f.as_str())
                ),
                Reason::Recommended => "Recommended: part of the default selection.".to_string(),
                Reason::Chosen => "Added to the stack.".to_string(),
                Reason::NotSelected { would_add } if would_add.is_empty() => "Not selected.".to_string(),
                Reason::NotSelected { would_add } => {
                    format!("Not selected. Adding it also adds {}.", names(would_add))
                }
            })
            .collect()
    }

    /// Problems with a submitted list of component ids (a provisioning request's `components`): unknown or
    /// repeated ids, a missing mandatory component, a missing dependency. Empty when the list is a complete,
    /// consistent selection.
    pub fn validate_selection<S: AsRef<str>>(&self, ids: &[S]) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let mut sel = Selection::empty(self.len());
        for (k, id) in ids.iter().enumerate() {
            let id = id.as_ref();
            match self.index.get(id) {
                None => errors.push(FieldError::new(
                    format!("components[{k}]"),
                    format!("There is no component “{id}” in the catalog; remove it or pick one from the marketplace."),
                )),
                Some(&i) => {
                    if !sel.set(i) {
                        errors.push(FieldError::new(format!("components[{k}]"), format!("“{id}” is listed twice.")));
                    }
                }
            }
        }
        let missing: Vec<usize> = (0..self.len())
            .filter(|&i| self.mandatory.has(i) && !sel.has(i))
            .collect();
        if !missing.is_empty() {
            let names = join_names(&self.names(&self.ids_by_name(missing.clone())));
            errors.push(FieldError::new(
                "components",
                if missing.len() == 1 {
                    format!("{names} is always installed; include it.")
                } else {
                    format!("{names} are always installed; include them.")
                },
            ));
        }
        for i in 0..self.len() {
            if !sel.has(i) {
                continue;
            }
            // Missing mandatory components are reported once, above.
            let lacking: Vec<usize> = self.deps[i]
                .iter()
                .copied()
                .filter(|&d| !sel.has(d) && !self.mandatory.has(d))
                .collect();
            if !lacking.is_empty() {
                errors.push(FieldError::new(
                    "components",
                    format!(
                        "{} needs {}; add {}.",
                        self.data.blueprints[i].name,
                        join_names(&self.names(&self.ids_by_name(lacking.clone()))),
                        if lacking.len() == 1 { "it" } else { "them" }
                    ),
                ));
            }
        }
        errors
    }

    /// Makes sure a selection (perhaps from an older catalog or a default value) has the right size and
    /// holds every mandatory component.
    fn ensure_base(&self, sel: &mut Selection) {
        let words = self.len().div_ceil(64);
        if sel.bits.len() != words {
            sel.bits.resize(words, 0);
        }
        for (w, m) in sel.bits.iter_mut().zip(&self.mandatory.bits) {
            *w |= m;
        }
    }

    /// A selection sized for this catalog with every mandatory component (use for values that may predate it).
    pub fn normalized(&self, sel: &Selection) -> Selection {
        let mut s = sel.clone();
        self.ensure_base(&mut s);
        s
    }

    fn change(&self, added: Vec<usize>, removed: Vec<usize>, cascaded: Vec<usize>) -> Change {
        Change {
            added: self.ids_by_name(added),
            removed: self.ids_by_name(removed),
            cascaded_families: cascaded
                .into_iter()
                .map(|f| self.data.families[f].id.clone())
                .collect(),
        }
    }

    /// True if `sel` holds every mandatory component and every dependency of what it holds.
    pub fn is_consistent(&self, sel: &Selection) -> bool {
        (0..self.len()).all(|i| {
            (!self.mandatory.has(i) || sel.has(i))
                && (!sel.has(i) || self.deps[i].iter().all(|&d| sel.has(d)))
        })
    }
}

/// "a", "a and b", "a, b and c".
pub fn join_names(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
