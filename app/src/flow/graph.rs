//! The flow graph of a run (spec §C.12): one node per job — OpenTofu resources, the cluster hand-back,
//! HelmReleases — grouped by phase and region (`contains`), joined by `finish-to-start` edges.
//!
//! Edges come from real dependencies: a job's `dependsOn` (a HelmRelease's `dependsOn`, a resource's
//! dependencies), plus the phase hand-offs the run itself makes: the hand-back waits for the resources
//! nothing else in the infrastructure waits for (the last ones OpenTofu creates), and a HelmRelease with no
//! dependency among the releases waits for the hand-back (Flux runs on the cluster it hands back).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{INSTALL_PREFIX, Job, JobKind, JobStatus, TOFU_PREFIX};

/// One node: a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// The job name.
    pub id: String,
    pub label: String,
    pub kind: JobKind,
    pub status: JobStatus,
    /// The [`Group`] it belongs to (`contains`).
    pub group: String,
    #[serde(rename = "durationMs")]
    pub duration_ms: i64,
    /// For a folded group's one node ([`FOLDED_PREFIX`]): how many jobs it stands for; 0 for a job.
    #[serde(default)]
    pub folded: usize,
    /// The job's expected duration from earlier runs ([`Job::expected_ms`]).
    #[serde(rename = "expectedMs", default)]
    pub expected_ms: Option<i64>,
}

/// Ids of the nodes that stand for a folded group: `group:<group id>`.
pub const FOLDED_PREFIX: &str = "group:";

/// A `finish-to-start` edge: `to` starts once `from` has finished.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edge {
    pub from: String,
    pub to: String,
}

/// A phase in a region, with its status rolled up from its nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// `<phase>` or `<phase>@<region>`.
    pub id: String,
    pub phase: String,
    pub region: String,
    pub status: JobStatus,
    pub nodes: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Graph {
    /// Sorted by id.
    pub nodes: Vec<Node>,
    /// Sorted, without duplicates or self-loops; both ends are nodes.
    pub edges: Vec<Edge>,
    /// In phase order, then by region.
    pub groups: Vec<Group>,
}

/// The phases in run order.
pub const PHASES: [&str; 3] = ["infrastructure", "cluster", "components"];

/// The status of a group from its members (bottom-up, §C.12): all succeeded → succeeded; else any failed →
/// failed; else any running → running; else pending (also when empty).
pub fn rollup(statuses: impl IntoIterator<Item = JobStatus>) -> JobStatus {
    let (mut any, mut all_ok, mut failed, mut running) = (false, true, false, false);
    for s in statuses {
        any = true;
        all_ok &= s == JobStatus::Succeeded;
        failed |= s == JobStatus::Failed;
        running |= s == JobStatus::Running;
    }
    if any && all_ok {
        JobStatus::Succeeded
    } else if failed {
        JobStatus::Failed
    } else if running {
        JobStatus::Running
    } else {
        JobStatus::Pending
    }
}

/// What a node is called on the canvas.
pub fn label_of(job: &Job) -> String {
    match job.kind {
        JobKind::Resource => job
            .job_name
            .strip_prefix(TOFU_PREFIX)
            .unwrap_or(&job.job_name)
            .to_string(),
        JobKind::Handback => "Cluster hand-back".to_string(),
        JobKind::Release => job
            .job_name
            .strip_prefix(INSTALL_PREFIX)
            .unwrap_or(&job.job_name)
            .to_string(),
    }
}

fn group_id(phase: &str, region: &str) -> String {
    if region.is_empty() {
        phase.to_string()
    } else {
        format!("{phase}@{region}")
    }
}

impl Graph {
    pub fn from_jobs(jobs: &[Job]) -> Graph {
        let mut by_id: BTreeMap<&str, &Job> = BTreeMap::new();
        for j in jobs {
            by_id.entry(j.job_name.as_str()).or_insert(j);
        }
        let mut edges: BTreeSet<Edge> = BTreeSet::new();
        for j in by_id.values() {
            for d in &j.depends_on {
                if d != &j.job_name && by_id.contains_key(d.as_str()) {
                    edges.insert(Edge {
                        from: d.clone(),
                        to: j.job_name.clone(),
                    });
                }
            }
        }
        // The run's own hand-offs, per region.
        let same_region = |a: &Job, b: &Job| a.region == b.region;
        let handbacks: Vec<&Job> = by_id
            .values()
            .copied()
            .filter(|j| j.kind == JobKind::Handback)
            .collect();
        for h in &handbacks {
            let resources: Vec<&Job> = by_id
                .values()
                .copied()
                .filter(|j| j.kind == JobKind::Resource && same_region(j, h))
                .collect();
            for r in &resources {
                let awaited = edges.iter().any(|e| {
                    e.from == r.job_name
                        && by_id
                            .get(e.to.as_str())
                            .is_some_and(|t| t.kind == JobKind::Resource)
                });
                if !awaited {
                    edges.insert(Edge {
                        from: r.job_name.clone(),
                        to: h.job_name.clone(),
                    });
                }
            }
            for j in by_id
                .values()
                .filter(|j| j.kind == JobKind::Release && same_region(j, h))
            {
                let waits = edges.iter().any(|e| {
                    e.to == j.job_name
                        && by_id
                            .get(e.from.as_str())
                            .is_some_and(|f| f.kind == JobKind::Release)
                });
                if !waits {
                    edges.insert(Edge {
                        from: h.job_name.clone(),
                        to: j.job_name.clone(),
                    });
                }
            }
        }
        let nodes: Vec<Node> = by_id
            .values()
            .map(|j| Node {
                id: j.job_name.clone(),
                label: label_of(j),
                kind: j.kind,
                status: j.status,
                group: group_id(j.kind.batch(), &j.region),
                duration_ms: j.duration_ms,
                folded: 0,
                expected_ms: j.expected_ms,
            })
            .collect();
        let mut members: BTreeMap<(usize, String), Vec<JobStatus>> = BTreeMap::new();
        for j in by_id.values() {
            let phase = PHASES
                .iter()
                .position(|p| *p == j.kind.batch())
                .unwrap_or(PHASES.len());
            members
                .entry((phase, j.region.clone()))
                .or_default()
                .push(j.status);
        }
        let groups = members
            .into_iter()
            .map(|((phase, region), statuses)| {
                let phase = PHASES.get(phase).copied().unwrap_or("other");
                Group {
                    id: group_id(phase, &region),
                    phase: phase.to_string(),
                    region,
                    nodes: statuses.len(),
                    status: rollup(statuses),
                }
            })
            .collect();
        Graph {
            nodes,
            edges: edges.into_iter().collect(),
            groups,
        }
    }

    /// The status of the whole run, rolled up from every node.
    pub fn status(&self) -> JobStatus {
        rollup(self.nodes.iter().map(|n| n.status))
    }

    pub fn node(&self, id: &str) -> Option<&Node> {
        self.nodes
            .binary_search_by(|n| n.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.nodes[i])
    }

    /// The nodes `id` waits for directly.
    pub fn upstream(&self, id: &str) -> Vec<&Node> {
        self.edges
            .iter()
            .filter(|e| e.to == id)
            .filter_map(|e| self.node(&e.from))
            .collect()
    }

    /// The graph with each group in `folded` drawn as one node (`group:<id>`, its rolled-up status, its longest
    /// duration): edges into or out of the group's jobs go to that node, edges inside it disappear. Groups
    /// not in `folded`, and the groups list itself, are unchanged.
    pub fn fold(&self, folded: &BTreeSet<String>) -> Graph {
        if folded.is_empty() {
            return self.clone();
        }
        let id_of = |n: &Node| -> String {
            if folded.contains(&n.group) {
                format!("{FOLDED_PREFIX}{}", n.group)
            } else {
                n.id.clone()
            }
        };
        let mut nodes: BTreeMap<String, Node> = BTreeMap::new();
        for n in &self.nodes {
            let id = id_of(n);
            if id == n.id {
                nodes.insert(id, n.clone());
                continue;
            }
            let status = self
                .groups
                .iter()
                .find(|g| g.id == n.group)
                .map_or(n.status, |g| g.status);
            let entry = nodes.entry(id.clone()).or_insert_with(|| Node {
                id,
                label: n.group.clone(),
                kind: n.kind,
                status,
                group: n.group.clone(),
                duration_ms: 0,
                folded: 0,
                expected_ms: None,
            });
            entry.folded += 1;
            entry.duration_ms = entry.duration_ms.max(n.duration_ms);
        }
        let owner: BTreeMap<&str, String> = self.nodes.iter().map(|n| (n.id.as_str(), id_of(n))).collect();
        let edges: BTreeSet<Edge> = self
            .edges
            .iter()
            .filter_map(|e| {
                let (from, to) = (owner.get(e.from.as_str())?, owner.get(e.to.as_str())?);
                (from != to).then(|| Edge {
                    from: from.clone(),
                    to: to.clone(),
                })
            })
            .collect();
        Graph {
            nodes: nodes.into_values().collect(),
            edges: edges.into_iter().collect(),
            groups: self.groups.clone(),
        }
    }

    /// Changes a node's status and rolls its group up again; false when there is no such node.
    pub fn set_status(&mut self, id: &str, status: JobStatus) -> bool {
        let Ok(i) = self.nodes.binary_search_by(|n| n.id.as_str().cmp(id)) else {
            return false;
        };
        self.nodes[i].status = status;
        let group = self.nodes[i].group.clone();
        let rolled = rollup(self.nodes.iter().filter(|n| n.group == group).map(|n| n.status));
        if let Some(g) = self.groups.iter_mut().find(|g| g.id == group) {
            g.status = rolled;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::HANDBACK_JOB;

    pub(crate) fn job(name: &str, kind: JobKind, status: JobStatus, deps: &[&str]) -> Job {
        Job {
            job_name: name.into(),
            kind,
            app_id: String::new(),
            batch_id: kind.batch().into(),
            region: String::new(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            status,
            started_at: None,
            finished_at: None,
            duration_ms: 0,
            latest_execution_id: None,
            reason: None,
            expected_ms: None,
        }
    }

    #[test]
    fn rollup_follows_the_bottom_up_rules() {
        use JobStatus::*;
        assert_eq!(rollup([]), Pending);
        assert_eq!(rollup([Succeeded, Succeeded]), Succeeded);
        assert_eq!(rollup([Succeeded, Failed, Running]), Failed);
        assert_eq!(rollup([Succeeded, Running, Pending]), Running);
        assert_eq!(rollup([Succeeded, Pending]), Pending);
    }

    #[test]
    fn edges_come_from_dependencies_and_the_run_hand_offs() {
        use JobKind::*;
        use JobStatus::*;
        let g = Graph::from_jobs(&[
            job("tofu:hcloud_network.main", Resource, Succeeded, &[]),
            job(
                "tofu:hcloud_server.cp",
                Resource,
                Running,
                &["tofu:hcloud_network.main"],
            ),
            job("tofu:hcloud_firewall.fw", Resource, Succeeded, &[]),
            job(HANDBACK_JOB, Handback, Pending, &[]),
            job("install-cilium", Release, Pending, &[]),
            job(
                "install-cert-manager",
                Release,
                Pending,
                &["install-cilium", "install-missing"],
            ),
        ]);
        let e: Vec<(&str, &str)> = g.edges.iter().map(|e| (e.from.as_str(), e.to.as_str())).collect();
        assert_eq!(
            e,
            vec![
                ("cluster-handback", "install-cilium"),
                ("install-cilium", "install-cert-manager"),
                ("tofu:hcloud_firewall.fw", "cluster-handback"),
                ("tofu:hcloud_network.main", "tofu:hcloud_server.cp"),
                ("tofu:hcloud_server.cp", "cluster-handback"),
            ]
        );
        let groups: Vec<(&str, JobStatus, usize)> = g
            .groups
            .iter()
            .map(|g| (g.id.as_str(), g.status, g.nodes))
            .collect();
        assert_eq!(
            groups,
            vec![
                ("infrastructure", Running, 3),
                ("cluster", Pending, 1),
                ("components", Pending, 2)
            ]
        );
        assert_eq!(g.status(), Running);
    }

    #[test]
    fn a_folded_group_is_one_node_with_the_edges_of_its_members() {
        use JobKind::*;
        use JobStatus::*;
        let g = Graph::from_jobs(&[
            job("tofu:a", Resource, Succeeded, &[]),
            job("tofu:b", Resource, Running, &["tofu:a"]),
            job(HANDBACK_JOB, Handback, Pending, &[]),
            job("install-cilium", Release, Pending, &[]),
        ]);
        let folded = g.fold(&BTreeSet::from(["infrastructure".to_string()]));
        let ids: Vec<(&str, JobStatus, usize)> = folded
            .nodes
            .iter()
            .map(|n| (n.id.as_str(), n.status, n.folded))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("cluster-handback", Pending, 0),
                ("group:infrastructure", Running, 2),
                ("install-cilium", Pending, 0)
            ]
        );
        let e: Vec<(&str, &str)> = folded
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        // tofu:a → tofu:b is inside the group and goes; tofu:b → hand-back becomes the group's edge.
        assert_eq!(
            e,
            vec![
                ("cluster-handback", "install-cilium"),
                ("group:infrastructure", "cluster-handback"),
            ]
        );
        // The folded graph still lays out, and unfolding gives the graph back.
        assert_eq!(crate::flow::layout::Layout::of(&folded).places.len(), 3);
        assert_eq!(g.fold(&BTreeSet::new()), g);
    }

    #[test]
    fn a_status_change_rolls_its_group_up() {
        use JobKind::*;
        use JobStatus::*;
        let mut g = Graph::from_jobs(&[
            job("install-a", Release, Succeeded, &[]),
            job("install-b", Release, Running, &[]),
        ]);
        assert!(g.set_status("install-b", Succeeded));
        assert_eq!(g.groups[0].status, Succeeded);
        assert!(g.set_status("install-a", Failed));
        assert_eq!((g.groups[0].status, g.status()), (Failed, Failed));
        assert!(!g.set_status("install-x", Failed));
    }
}
