use proptest::prelude::*;

use super::*;
use crate::catalog::types::{LicenseKind, Sovereignty, Upstream};

fn family(id: &str, cascade: bool, deps: &[&str]) -> Family {
    Family {
        id: id.into(),
        name: id.to_uppercase(),
        subtitle: "Subtitle".into(),
        tier: Tier::Optional,
        cascade_on_member_selection: cascade,
        dependencies: deps.iter().map(|s| s.to_string()).collect(),
        color: "#38BDF8".into(),
        summary: "Summary.".into(),
        overview: vec![],
        capabilities: vec![],
    }
}

pub(crate) fn blueprint(id: &str, family: &str, tier: Tier, deps: &[&str]) -> Blueprint {
    let mut name = id.replace('-', " ");
    if let Some(first) = name.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    Blueprint {
        id: id.into(),
        name,
        family: family.into(),
        tier,
        visibility: Visibility::Listed,
        summary: format!("{id} summary."),
        description: format!("{id} description."),
        upstream: Upstream {
            project: id.into(),
            url: format!("https://example.org/{id}"),
            license: "Apache-2.0".into(),
        },
        chart: None,
        dependencies: deps.iter().map(|s| s.to_string()).collect(),
        sovereignty: Sovereignty {
            steward: "Someone".into(),
            jurisdiction: "International".into(),
            license_kind: LicenseKind::Permissive,
        },
        logo: None,
        kit: Default::default(),
    }
}

/// A small catalog shaped like the real one where it matters:
/// core (mandatory family): flux M, gitea M → pg; data: pg R (→ promoted M), cache O, stream R, cdc R → stream;
/// ai (cascading): serve M, gateway R, llm O, vec O → store, store O, chat O → docdb; docdb (data) O → pg;
/// obs: grafana R, loki R → store2, store2 M (silo-like), assistant O → llm, vec.
fn sample() -> Catalog {
    use Tier::*;
    Catalog::new(CatalogData {
        families: vec![
            family("core", false, &[]),
            family("data", false, &[]),
            family("ai", true, &[]),
            family("obs", false, &[]),
        ],
        blueprints: vec![
            blueprint("flux", "core", Mandatory, &[]),
            blueprint("gitea", "core", Mandatory, &["pg"]),
            blueprint("pg", "data", Recommended, &[]),
            blueprint("cache", "data", Optional, &[]),
            blueprint("stream", "data", Recommended, &[]),
            blueprint("cdc", "data", Recommended, &["stream"]),
            blueprint("docdb", "data", Optional, &["pg"]),
            blueprint("serve", "ai", Mandatory, &[]),
            blueprint("gateway", "ai", Recommended, &[]),
            blueprint("llm", "ai", Optional, &[]),
            blueprint("vec", "ai", Optional, &["store"]),
            blueprint("store", "obs", Mandatory, &[]),
            blueprint("chat", "ai", Optional, &["docdb"]),
            blueprint("grafana", "obs", Recommended, &[]),
            blueprint("loki", "obs", Recommended, &["store"]),
            blueprint("assistant", "obs", Optional, &["llm", "vec"]),
        ],
    })
    .expect("sample catalog is valid")
}

fn ids(c: &Catalog, s: &Selection) -> Vec<String> {
    c.selection_ids(s)
}

#[test]
fn effective_tier_promotes_dependencies_of_mandatory_components() {
    let c = sample();
    assert_eq!(c.blueprint("pg").map(|b| b.tier), Some(Tier::Recommended));
    assert_eq!(c.effective_tier("pg"), Some(Tier::Mandatory));
    assert_eq!(c.effective_tier("cache"), Some(Tier::Optional));
    assert_eq!(c.effective_tier("nope"), None);
}

#[test]
fn default_selection_is_mandatory_and_recommended_with_dependencies_without_cascade() {
    let c = sample();
    let d = c.default_selection();
    assert_eq!(
        ids(&c, &d),
        [
            "cdc", "flux", "gateway", "gitea", "grafana", "loki", "pg", "serve", "store", "stream"
        ]
    );
    // `gateway` is recommended in a cascading family; the defaults do not pull the rest of it.
    assert!(!c.is_selected(&d, "llm"));
    assert!(c.is_consistent(&d));
}

#[test]
fn add_brings_transitive_dependencies() {
    let c = sample();
    let mut s = c.default_selection();
    let change = c.add(&mut s, "docdb").expect("known");
    assert_eq!(change.added, ["docdb"]);
    assert!(change.cascaded_families.is_empty());
    let mut s = c.mandatory_selection();
    let change = c.add(&mut s, "cdc").expect("known");
    assert_eq!(change.added, ["cdc", "stream"], "sorted by name");
}

#[test]
fn adding_a_member_of_a_cascading_family_adds_the_whole_family_and_says_so() {
    let c = sample();
    let mut s = c.default_selection();
    let change = c.add(&mut s, "chat").expect("known");
    // chat → docdb (→ pg, already there); cascade: llm, vec (→ store, already there), plus chat's own deps.
    assert_eq!(change.cascaded_families, ["ai"]);
    assert_eq!(change.added, ["chat", "docdb", "llm", "vec"]);
    assert!(c.is_consistent(&s));
    // Adding it again changes nothing.
    assert!(c.add(&mut s, "chat").expect("known").is_empty());
}

#[test]
fn a_dependency_in_a_cascading_family_cascades_too() {
    let c = sample();
    let mut s = c.default_selection();
    let change = c.add(&mut s, "assistant").expect("known");
    assert_eq!(change.cascaded_families, ["ai"]);
    for id in ["assistant", "llm", "vec", "chat", "docdb"] {
        assert!(c.is_selected(&s, id), "{id}");
    }
}

#[test]
fn remove_takes_selected_dependents_along_and_reports_them_first() {
    let c = sample();
    let mut s = c.default_selection();
    c.add(&mut s, "assistant").expect("known");
    assert_eq!(c.removal_impact(&s, "llm").expect("removable"), ["assistant"]);
    assert_eq!(c.removal_impact(&s, "docdb").expect("removable"), ["chat"]);
    let change = c.remove(&mut s, "docdb").expect("removable");
    assert_eq!(change.removed, ["chat", "docdb"]);
    assert!(!c.is_selected(&s, "chat"));
    assert!(c.is_selected(&s, "llm"), "the family stays; only dependents go");
    assert!(c.is_consistent(&s));
    // Removing something not selected is a no-op.
    assert!(c.remove(&mut s, "docdb").expect("removable").is_empty());
}

#[test]
fn mandatory_components_cannot_be_removed() {
    let c = sample();
    let mut s = c.default_selection();
    for id in ["flux", "pg", "store"] {
        let e = c.remove(&mut s, id).expect_err("mandatory");
        assert!(matches!(e, AppError::Invalid(_)), "{e:?}");
        assert!(e.to_string().contains("always installed"), "{e}");
        assert!(c.removal_impact(&s, id).is_err());
    }
    assert_eq!(s, c.default_selection());
}

#[test]
fn unknown_ids_are_rejected_with_their_name() {
    let c = sample();
    let mut s = c.default_selection();
    for e in [
        c.add(&mut s, "ghost").expect_err("unknown"),
        c.remove(&mut s, "ghost").expect_err("unknown"),
        c.explain(&s, "ghost").expect_err("unknown"),
        c.removal_impact(&s, "ghost").expect_err("unknown"),
    ] {
        assert!(
            matches!(&e, AppError::Invalid(f) if f[0].field == "components"),
            "{e:?}"
        );
        assert!(e.to_string().contains("“ghost”"), "{e}");
    }
    let e = c.add_family(&mut s, "nope").expect_err("unknown family");
    assert!(e.to_string().contains("“nope”"), "{e}");
    let e = c.selection_from_ids(&["flux", "ghost"]).expect_err("unknown");
    assert_eq!(e.fields()[0].field, "components[1]");
}

#[test]
fn families_add_and_remove_as_a_whole() {
    let c = sample();
    let mut s = c.mandatory_selection();
    let change = c.add_family(&mut s, "data").expect("known");
    assert_eq!(change.added, ["cache", "cdc", "docdb", "stream"]);
    c.add(&mut s, "chat").expect("known");
    assert_eq!(
        c.family_removal_impact(&s, "data").expect("known"),
        ["cache", "cdc", "chat", "docdb", "stream"]
    );
    let change = c.remove_family(&mut s, "data").expect("known");
    assert_eq!(change.removed, ["cache", "cdc", "chat", "docdb", "stream"]);
    assert!(c.is_selected(&s, "pg"), "mandatory members stay");
    assert!(c.is_consistent(&s));
}

#[test]
fn explain_says_why() {
    let c = sample();
    let mut s = c.default_selection();
    let text = |s: &Selection, id: &str| c.explain_text(&c.explain(s, id).expect("known"));
    assert_eq!(text(&s, "flux"), ["Always installed."]);
    assert_eq!(text(&s, "pg"), ["Always installed: required by Gitea."]);
    assert_eq!(text(&s, "stream"), ["Required by Cdc."]);
    assert_eq!(
        text(&s, "grafana"),
        ["Recommended: part of the default selection."]
    );
    assert_eq!(
        text(&s, "chat"),
        ["Not selected. Adding it also adds Docdb, Llm and Vec."]
    );
    c.add(&mut s, "chat").expect("known");
    assert_eq!(text(&s, "docdb"), ["Required by Chat."]);
    assert_eq!(text(&s, "llm"), ["Part of family AI."]);
    assert_eq!(text(&s, "cache"), ["Not selected."]);
    c.add(&mut s, "cache").expect("known");
    assert_eq!(text(&s, "cache"), ["Added to the stack."]);
}

#[test]
fn validate_selection_names_each_problem() {
    let c = sample();
    let ok = c.selection_ids(&c.default_selection());
    assert!(c.validate_selection(&ok).is_empty());
    let errors = c.validate_selection(&["flux", "ghost", "flux", "cdc", "serve", "store"]);
    let messages: Vec<String> = errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect();
    assert_eq!(
        messages,
        [
            "components[1]: There is no component “ghost” in the catalog; remove it or pick one from the marketplace.",
            "components[2]: “flux” is listed twice.",
            "components: Gitea and Pg are always installed; include them.",
            "components: Cdc needs Stream; add it.",
        ]
    );
}

#[test]
fn selection_from_ids_completes_mandatory_and_dependencies() {
    let c = sample();
    let s = c.selection_from_ids(&["cdc"]).expect("known");
    assert_eq!(
        ids(&c, &s),
        ["cdc", "flux", "gitea", "pg", "serve", "store", "stream"]
    );
    assert!(c.is_consistent(&s));
}

#[test]
fn an_empty_or_stale_selection_is_normalised_by_operations() {
    let c = sample();
    let mut s = Selection::default();
    c.add(&mut s, "cache").expect("known");
    assert!(c.is_consistent(&s));
    assert!(c.is_selected(&s, "flux"));
}

#[test]
fn inconsistent_data_is_refused() {
    use Tier::*;
    let problems = Catalog::new(CatalogData {
        families: vec![family("a", false, &[])],
        blueprints: vec![
            blueprint("x", "a", Optional, &["y"]),
            blueprint("y", "a", Optional, &["x"]),
            blueprint("z", "b", Optional, &["w"]),
        ],
    })
    .expect_err("broken");
    let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "z/blueprint.yaml: family: unknown family “b”; known: a",
            "z/blueprint.yaml: dependencies[0]: unknown dependency “w”: no blueprint has this id",
            "x/blueprint.yaml: dependencies: dependency cycle: x → y → x",
        ]
    );
}

#[test]
fn join_names_reads_naturally() {
    let s = |v: &[&str]| join_names(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
    assert_eq!(s(&[]), "");
    assert_eq!(s(&["a"]), "a");
    assert_eq!(s(&["a", "b"]), "a and b");
    assert_eq!(s(&["a", "b", "c"]), "a, b and c");
}

// ---- Properties ----------------------------------------------------------------------------------------

/// A random acyclic catalog: blueprint i may depend only on blueprints with a smaller index; random tiers,
/// random families (some cascading).
fn arb_catalog() -> impl Strategy<Value = Catalog> {
    (3usize..40, 1usize..5).prop_flat_map(|(n, f)| {
        let tiers = prop::collection::vec(0u8..3, n);
        let fams = prop::collection::vec(0..f, n);
        let cascades = prop::collection::vec(any::<bool>(), f);
        let deps = prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..4), n);
        (Just(n), Just(f), tiers, fams, cascades, deps).prop_map(|(n, f, tiers, fams, cascades, deps)| {
            let families = (0..f)
                .map(|k| family(&format!("f{k}"), cascades[k], &[]))
                .collect();
            let blueprints = (0..n)
                .map(|i| {
                    let tier = [Tier::Mandatory, Tier::Recommended, Tier::Optional][tiers[i] as usize];
                    let mut ds: Vec<String> = if i == 0 {
                        Vec::new()
                    } else {
                        deps[i].iter().map(|ix| format!("c{}", ix.index(i))).collect()
                    };
                    ds.sort();
                    ds.dedup();
                    let refs: Vec<&str> = ds.iter().map(String::as_str).collect();
                    blueprint(&format!("c{i}"), &format!("f{}", fams[i]), tier, &refs)
                })
                .collect();
            Catalog::new(CatalogData { families, blueprints }).expect("generated catalogs are valid")
        })
    })
}

#[derive(Debug, Clone)]
enum Op {
    Add(usize),
    Remove(usize),
    AddFamily(usize),
    RemoveFamily(usize),
    Reset,
}

fn arb_ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            4 => (0usize..64).prop_map(Op::Add),
            4 => (0usize..64).prop_map(Op::Remove),
            1 => (0usize..8).prop_map(Op::AddFamily),
            1 => (0usize..8).prop_map(Op::RemoveFamily),
            1 => Just(Op::Reset),
        ],
        0..40,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn every_sequence_keeps_mandatory_components_and_closure(c in arb_catalog(), ops in arb_ops()) {
        let mut s = c.default_selection();
        prop_assert!(c.is_consistent(&s));
        for op in ops {
            let before = s.clone();
            match op {
                Op::Add(k) => {
                    let id = format!("c{}", k % c.len());
                    let change = c.add(&mut s, &id).expect("known id");
                    prop_assert!(c.is_selected(&s, &id));
                    prop_assert_eq!(change.added.len(), s.len() - before.len());
                }
                Op::Remove(k) => {
                    let id = format!("c{}", k % c.len());
                    if c.is_mandatory(&id) {
                        prop_assert!(c.remove(&mut s, &id).is_err());
                        prop_assert_eq!(&s, &before);
                    } else {
                        let impact = c.removal_impact(&s, &id).expect("removable");
                        let change = c.remove(&mut s, &id).expect("removable");
                        prop_assert!(!c.is_selected(&s, &id));
                        // Exactly what removal_impact announced went, plus the component itself if selected.
                        let mut expected = impact.clone();
                        if c.is_selected(&before, &id) { expected.push(id.clone()); }
                        expected.sort();
                        let mut removed = change.removed.clone();
                        removed.sort();
                        prop_assert_eq!(removed, expected);
                    }
                }
                Op::AddFamily(k) => {
                    let fid = format!("f{}", k % c.families().len());
                    c.add_family(&mut s, &fid).expect("known family");
                    for m in c.members(&fid) {
                        prop_assert!(c.is_selected(&s, &m.id));
                    }
                }
                Op::RemoveFamily(k) => {
                    let fid = format!("f{}", k % c.families().len());
                    c.remove_family(&mut s, &fid).expect("known family");
                    for m in c.members(&fid) {
                        prop_assert_eq!(c.is_selected(&s, &m.id), c.is_mandatory(&m.id));
                    }
                }
                Op::Reset => s = c.default_selection(),
            }
            prop_assert!(c.is_consistent(&s), "selection lost a mandatory component or a dependency");
            prop_assert!(c.validate_selection(&c.selection_ids(&s)).is_empty());
            for b in c.blueprints() {
                let e = c.explain(&s, &b.id).expect("known");
                prop_assert_eq!(e.selected, c.is_selected(&s, &b.id));
                prop_assert!(!e.reasons.is_empty());
            }
        }
    }

    #[test]
    fn adding_then_removing_a_leaf_restores_the_selection(c in arb_catalog(), k in 0usize..64) {
        // From the mandatory selection, a component outside any cascading family whose dependencies are all
        // selected adds alone; removing it restores the selection exactly.
        let s0 = c.mandatory_selection();
        let n = c.len();
        let leaf = (0..n).map(|j| format!("c{}", (k + j) % n)).find(|id| {
            !c.is_selected(&s0, id)
                && !c.family_of(id).is_some_and(|f| f.cascade_on_member_selection)
                && c.dependencies_of(id).iter().all(|d| c.is_selected(&s0, &d.id))
        });
        if let Some(id) = leaf {
            let mut s = s0.clone();
            let change = c.add(&mut s, &id).expect("known");
            prop_assert_eq!(change.added, vec![id.clone()]);
            c.remove(&mut s, &id).expect("removable");
            prop_assert_eq!(s, s0);
        }
    }
}
