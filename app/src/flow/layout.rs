//! The canvas layout: layered left to right, crossing-reduced, and stable.
//!
//! - Layer: the longest path from a node without dependencies (cycles, which real runs do not have, are
//!   cut: the relaxation stops after as many rounds as there are nodes).
//! - Order inside a layer: the barycenter heuristic on a key that belongs to the node alone. A node with no
//!   dependency in an earlier layer of its own group (phase and region) takes its id's own key
//!   (alphabetical order); any other node the mean of those dependencies' keys — so a node sits level with
//!   what it waits for, which removes most crossings. (A phase hand-off, one node every release waits for,
//!   would otherwise give a whole phase the same key.)
//! - Stable: the layout reads only ids and edges, never statuses, so a status change moves nothing; a
//!   node's key depends only on its own dependencies, so adding a node that nothing waits for changes the
//!   order of its own layer only, and every other node keeps its place. (A new last OpenTofu resource is
//!   waited for by the hand-back: if it is deeper than the others it moves the later phases one layer.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::graph::Graph;

/// Node box size and the gaps between layers (x) and rows (y), in SVG user units.
pub const NODE_W: f64 = 200.0;
/// Three lines: the name, the status and duration, and the cause in a few words.
pub const NODE_H: f64 = 60.0;
pub const LAYER_GAP: f64 = 72.0;
pub const ROW_GAP: f64 = 16.0;
pub const MARGIN: f64 = 16.0;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Place {
    pub layer: usize,
    pub row: usize,
    /// Top-left corner.
    pub x: f64,
    pub y: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub places: BTreeMap<String, Place>,
    /// Node ids per layer, top to bottom.
    pub layers: Vec<Vec<String>>,
    pub width: f64,
    pub height: f64,
}

/// A key in [0, 1) of the node's own: its id without the kind prefix (`tofu:`, `install-`), first eight
/// characters read as a base-96 fraction (exact in an f64), so keys follow the names' order; longer ties
/// are broken by the id itself.
fn own_key(id: &str) -> f64 {
    let name = id
        .strip_prefix(super::TOFU_PREFIX)
        .or_else(|| id.strip_prefix(super::INSTALL_PREFIX))
        .unwrap_or(id);
    let mut v: u64 = 0;
    for i in 0..8 {
        let c = name
            .as_bytes()
            .get(i)
            .map_or(0, |b| u64::from(b.saturating_sub(32).min(95)));
        v = v * 96 + c;
    }
    v as f64 / 96f64.powi(8)
}

impl Layout {
    pub fn of(graph: &Graph) -> Layout {
        let ids: Vec<&str> = graph.nodes.iter().map(|n| n.id.as_str()).collect();
        let index: BTreeMap<&str, usize> = ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); ids.len()];
        for e in &graph.edges {
            if let (Some(&f), Some(&t)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
                && f != t
            {
                preds[t].push(f);
            }
        }
        // Longest path from a root, by relaxation (at most n rounds: a cycle stops growing there).
        let mut layer = vec![0usize; ids.len()];
        for _ in 0..ids.len() {
            let mut changed = false;
            for t in 0..ids.len() {
                let want = preds[t].iter().map(|&f| layer[f] + 1).max().unwrap_or(0);
                if want > layer[t] && want < ids.len() {
                    layer[t] = want;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        let depth = layer.iter().copied().max().map_or(0, |m| m + 1);
        let mut by_layer: Vec<Vec<usize>> = vec![Vec::new(); depth];
        for (i, &l) in layer.iter().enumerate() {
            by_layer[l].push(i);
        }
        // Keys layer by layer: the mean of the keys of dependencies in earlier layers, or the node's own.
        let mut key = vec![0.0f64; ids.len()];
        for members in &by_layer {
            for &i in members {
                let earlier: Vec<f64> = preds[i]
                    .iter()
                    .filter(|&&f| layer[f] < layer[i] && graph.nodes[f].group == graph.nodes[i].group)
                    .map(|&f| key[f])
                    .collect();
                key[i] = if earlier.is_empty() {
                    own_key(ids[i])
                } else {
                    earlier.iter().sum::<f64>() / earlier.len() as f64
                };
            }
        }
        let mut places = BTreeMap::new();
        let mut layers = Vec::with_capacity(depth);
        let mut rows = 0usize;
        for (l, members) in by_layer.iter_mut().enumerate() {
            members.sort_by(|&a, &b| key[a].total_cmp(&key[b]).then_with(|| ids[a].cmp(ids[b])));
            rows = rows.max(members.len());
            for (row, &i) in members.iter().enumerate() {
                places.insert(
                    ids[i].to_string(),
                    Place {
                        layer: l,
                        row,
                        x: MARGIN + l as f64 * (NODE_W + LAYER_GAP),
                        y: MARGIN + row as f64 * (NODE_H + ROW_GAP),
                    },
                );
            }
            layers.push(members.iter().map(|&i| ids[i].to_string()).collect());
        }
        Layout {
            places,
            layers,
            width: 2.0 * MARGIN + depth as f64 * NODE_W + depth.saturating_sub(1) as f64 * LAYER_GAP,
            height: 2.0 * MARGIN + rows as f64 * NODE_H + rows.saturating_sub(1) as f64 * ROW_GAP,
        }
    }

    /// The SVG path of an edge: a cubic curve from the right side of `from` to the left side of `to`.
    pub fn edge_path(&self, from: &str, to: &str) -> Option<String> {
        let (a, b) = (self.places.get(from)?, self.places.get(to)?);
        let (x1, y1) = (a.x + NODE_W, a.y + NODE_H / 2.0);
        let (x2, y2) = (b.x, b.y + NODE_H / 2.0);
        let dx = ((x2 - x1) / 2.0).abs().max(24.0);
        Some(format!(
            "M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}",
            x1 + dx,
            x2 - dx
        ))
    }

    /// Edge crossings between adjacent layers (edges spanning more layers are left out).
    pub fn crossings(&self, graph: &Graph) -> usize {
        let spans: Vec<(usize, usize, usize)> = graph
            .edges
            .iter()
            .filter_map(|e| {
                let (a, b) = (self.places.get(&e.from)?, self.places.get(&e.to)?);
                (b.layer == a.layer + 1).then_some((a.layer, a.row, b.row))
            })
            .collect();
        let mut n = 0;
        for (i, x) in spans.iter().enumerate() {
            for y in &spans[i + 1..] {
                if x.0 == y.0 && (x.1 as i64 - y.1 as i64) * (x.2 as i64 - y.2 as i64) < 0 {
                    n += 1;
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{Job, JobKind, JobStatus};
    use proptest::prelude::*;

    fn job(name: &str, status: JobStatus, deps: &[String]) -> Job {
        Job {
            job_name: name.into(),
            kind: JobKind::Release,
            app_id: String::new(),
            batch_id: "components".into(),
            region: String::new(),
            depends_on: deps.to_vec(),
            status,
            started_at: None,
            finished_at: None,
            duration_ms: 0,
            latest_execution_id: None,
            reason: None,
            expected_ms: None,
        }
    }

    const STATUSES: [JobStatus; 4] = [
        JobStatus::Pending,
        JobStatus::Running,
        JobStatus::Succeeded,
        JobStatus::Failed,
    ];

    /// A random DAG: node i may depend on nodes before it.
    fn dag() -> impl Strategy<Value = Vec<Job>> {
        (1usize..40).prop_flat_map(|n| {
            proptest::collection::vec(
                (
                    proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
                    0usize..4,
                ),
                n,
            )
            .prop_map(move |spec| {
                spec.iter()
                    .enumerate()
                    .map(|(i, (deps, s))| {
                        let deps: Vec<String> = if i == 0 {
                            vec![]
                        } else {
                            deps.iter()
                                .map(|d| format!("install-n{:02}", d.index(i)))
                                .collect()
                        };
                        job(&format!("install-n{i:02}"), STATUSES[*s], &deps)
                    })
                    .collect()
            })
        })
    }

    proptest! {
        #[test]
        fn status_changes_never_move_a_node(jobs in dag(), changes in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4), 1..20)) {
            let mut g = Graph::from_jobs(&jobs);
            let before = Layout::of(&g);
            for (i, s) in changes {
                let id = g.nodes[i.index(g.nodes.len())].id.clone();
                g.set_status(&id, STATUSES[s]);
            }
            prop_assert_eq!(Layout::of(&g), before);
        }

        #[test]
        fn adding_a_node_moves_at_most_its_layer(jobs in dag(), deps in proptest::collection::vec(any::<prop::sample::Index>(), 0..4), name in "[a-z]{1,8}") {
            let before = Layout::of(&Graph::from_jobs(&jobs));
            let deps: Vec<String> = deps.iter().map(|d| jobs[d.index(jobs.len())].job_name.clone()).collect();
            let mut more = jobs.clone();
            more.push(job(&format!("install-{name}"), JobStatus::Pending, &deps));
            let after = Layout::of(&Graph::from_jobs(&more));
            let layer = after.places[&format!("install-{name}")].layer;
            for (id, p) in &before.places {
                let q = after.places[id];
                if p.layer == layer {
                    prop_assert_eq!(q.x, p.x, "{} changed layer", id);
                } else {
                    prop_assert_eq!(q, *p, "{} moved", id);
                }
            }
        }

        #[test]
        fn the_layout_is_deterministic_and_edges_point_forward(jobs in dag()) {
            let mut shuffled = jobs.clone();
            shuffled.reverse();
            let (a, b) = (Layout::of(&Graph::from_jobs(&jobs)), Layout::of(&Graph::from_jobs(&shuffled)));
            prop_assert_eq!(&a, &b);
            let g = Graph::from_jobs(&jobs);
            for e in &g.edges {
                prop_assert!(a.places[&e.from].layer < a.places[&e.to].layer);
            }
            // No two nodes share a place.
            let mut seen = std::collections::BTreeSet::new();
            for p in a.places.values() {
                prop_assert!(seen.insert((p.layer, p.row)));
            }
        }
    }

    #[test]
    fn nodes_sit_level_with_what_they_wait_for() {
        // Alphabetical order alone would cross both edges (a→z, b→y); the barycenter order does not.
        let jobs = [
            job("install-a", JobStatus::Pending, &[]),
            job("install-b", JobStatus::Pending, &[]),
            job("install-y", JobStatus::Pending, &["install-b".into()]),
            job("install-z", JobStatus::Pending, &["install-a".into()]),
        ];
        let g = Graph::from_jobs(&jobs);
        let l = Layout::of(&g);
        assert_eq!(
            l.layers,
            vec![vec!["install-a", "install-b"], vec!["install-z", "install-y"]]
        );
        assert_eq!(l.crossings(&g), 0);
        assert!(
            l.edge_path("install-a", "install-z")
                .is_some_and(|p| p.starts_with('M'))
        );
    }

    #[test]
    fn a_cycle_does_not_hang_the_layout() {
        let jobs = [
            job("install-a", JobStatus::Pending, &["install-b".into()]),
            job("install-b", JobStatus::Pending, &["install-a".into()]),
        ];
        let l = Layout::of(&Graph::from_jobs(&jobs));
        assert_eq!(l.places.len(), 2);
    }
}
