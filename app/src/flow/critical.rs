//! The critical path of a run (spec §C.12): the chain of jobs that decided its total time. It ends at the
//! job that ended last (finished, or still running now) and steps back, each time, to the job it waited for
//! that ended last — the one whose end let it start — until a job that waited for nothing that ran. Shortening
//! any job on it shortens the run; a job off it could take longer without changing when the run ends.

use std::collections::{BTreeMap, BTreeSet};

use super::graph::Graph;
use super::{Job, JobStatus};
use crate::time::Millis;

/// When a started job ended: its finish, or how far it has got while it runs.
fn end_of(j: &Job) -> Option<Millis> {
    let start = j.started_at?;
    Some(match j.finished_at {
        Some(f) if j.status.is_terminal() => f.max(start),
        _ => start + j.duration_ms.max(0),
    })
}

/// The critical path, first job first; empty while nothing has started. Deterministic: ties go to the
/// smaller job name.
pub fn critical_path(jobs: &[Job]) -> Vec<String> {
    let graph = Graph::from_jobs(jobs);
    let ends: BTreeMap<&str, Millis> = jobs
        .iter()
        .filter(|j| j.status != JobStatus::Pending || j.finished_at.is_some())
        .filter_map(|j| Some((j.job_name.as_str(), end_of(j)?)))
        .collect();
    // The latest end; on a tie the smaller name (BTreeMap order, and `>` keeps the first).
    let mut last: Option<(&str, Millis)> = None;
    for (name, end) in &ends {
        if last.is_none_or(|(_, e)| *end > e) {
            last = Some((name, *end));
        }
    }
    let Some((mut at, _)) = last else {
        return Vec::new();
    };
    let mut path = vec![at.to_string()];
    let mut seen = BTreeSet::from([at]);
    loop {
        let mut best: Option<(&str, Millis)> = None;
        for up in graph.upstream(at) {
            if let Some(end) = ends.get(up.id.as_str()).copied()
                && best.is_none_or(|(n, e)| end > e || (end == e && up.id.as_str() < n))
            {
                best = Some((up.id.as_str(), end));
            }
        }
        match best {
            Some((name, _)) if seen.insert(name) => {
                path.push(name.to_string());
                at = name;
            }
            _ => break,
        }
    }
    path.reverse();
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::{HANDBACK_JOB, JobKind};

    fn job(
        name: &str,
        kind: JobKind,
        run: Option<(Millis, Millis)>,
        status: JobStatus,
        deps: &[&str],
    ) -> Job {
        Job {
            job_name: name.into(),
            kind,
            app_id: String::new(),
            batch_id: kind.batch().into(),
            region: String::new(),
            depends_on: deps.iter().map(|d| d.to_string()).collect(),
            status,
            started_at: run.map(|r| r.0),
            finished_at: run.filter(|_| status.is_terminal()).map(|r| r.1),
            duration_ms: run.map_or(0, |(s, e)| e - s),
            latest_execution_id: None,
            reason: None,
            expected_ms: None,
        }
    }

    #[test]
    fn the_path_follows_what_each_job_waited_for_last() {
        use JobKind::*;
        use JobStatus::*;
        let jobs = [
            // Two resources; the server ends later, so the hand-back waited for it.
            job("tofu:net", Resource, Some((0, 10)), Succeeded, &[]),
            job("tofu:server", Resource, Some((0, 40)), Succeeded, &[]),
            job(HANDBACK_JOB, Handback, Some((40, 100)), Succeeded, &[]),
            // cilium is quick, cnpg waits for it and takes long; keycloak waits for cnpg; dns is quick.
            job("install-cilium", Release, Some((100, 120)), Succeeded, &[]),
            job(
                "install-cnpg",
                Release,
                Some((120, 300)),
                Succeeded,
                &["install-cilium"],
            ),
            job(
                "install-keycloak",
                Release,
                Some((300, 350)),
                Succeeded,
                &["install-cnpg"],
            ),
            job("install-dns", Release, Some((100, 110)), Succeeded, &[]),
        ];
        assert_eq!(
            critical_path(&jobs),
            [
                "tofu:server",
                HANDBACK_JOB,
                "install-cilium",
                "install-cnpg",
                "install-keycloak"
            ]
        );
        // Input order does not matter.
        let mut reversed = jobs.to_vec();
        reversed.reverse();
        assert_eq!(critical_path(&reversed), critical_path(&jobs));
    }

    #[test]
    fn while_running_the_path_ends_at_the_job_that_got_furthest() {
        use JobKind::*;
        use JobStatus::*;
        let jobs = [
            job("tofu:net", Resource, Some((0, 10)), Succeeded, &[]),
            job("tofu:server", Resource, Some((5, 70)), Running, &["tofu:net"]),
            job("tofu:lb", Resource, Some((10, 30)), Succeeded, &["tofu:net"]),
            job(HANDBACK_JOB, Handback, None, Pending, &[]),
        ];
        assert_eq!(critical_path(&jobs), ["tofu:net", "tofu:server"]);
        // Nothing started: no path.
        assert!(critical_path(&[job("tofu:net", Resource, None, Pending, &[])]).is_empty());
        // Ties go to the smaller name, both at the end and on the way back.
        let tie = [
            job("tofu:a", Resource, Some((0, 10)), Succeeded, &[]),
            job("tofu:b", Resource, Some((0, 10)), Succeeded, &[]),
            job(
                "tofu:c",
                Resource,
                Some((10, 20)),
                Succeeded,
                &["tofu:a", "tofu:b"],
            ),
            job("tofu:d", Resource, Some((10, 20)), Succeeded, &["tofu:a"]),
        ];
        assert_eq!(critical_path(&tie), ["tofu:a", "tofu:c"]);
    }
}
