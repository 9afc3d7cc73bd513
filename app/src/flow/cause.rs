//! Why a job is waiting or failed, in one plain sentence with the next step (spec §C.12 "time and cause").
//!
//! The server classifies what it sees when it records a job — a HelmRelease's `Ready` message, OpenTofu's
//! error diagnostic about a resource — into a [`Reason`] (a closed set of kinds with sanitised names, stored
//! with the job); the sentences are written here, never copied from the library's text. A job that waits for
//! others gets its sentence from the graph: the chain of unfinished upstream jobs down to the one that holds
//! everything up, and what that one is doing.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::graph::{Graph, label_of};
use super::{Job, JobKind, JobStatus};
use crate::deployments::ComponentPhase;

/// A known kind of blocked state, as the server classified it (stored with the job as JSON).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Reason {
    /// A HelmRelease waits for one it depends on (Flux: "dependency '<ns>/<name>' is not ready").
    Dependency { on: String },
    /// Hetzner has none of the server type in the location right now (`resource_unavailable`); `size`,
    /// `location` and `role` are empty when the run could not tell which server it was.
    Unavailable {
        size: String,
        location: String,
        role: String,
    },
    /// The Hetzner project reached one of its limits (`resource_limit_exceeded`).
    Limit,
    /// Credentials were refused (the cloud token, or a chart registry's).
    Credentials,
    /// Flux could not fetch the chart (pull, source or artifact errors).
    ChartPull,
    /// The step ran out of time.
    Timeout,
    /// Helm could not install or upgrade the release, for another reason.
    InstallFailed,
    /// Installed, but its health checks do not pass (yet).
    NotHealthy,
}

/// A job's cause: a few words for the canvas node, and the sentence with the next step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub short: String,
    pub sentence: String,
}

/// At most this many characters of a name taken from the cluster or OpenTofu, and only these characters:
/// a name is shown, never the text around it.
const MAX_NAME: usize = 63;

/// A name as it may appear in a sentence: letters, digits, `-`, `_`, `.`, at most [`MAX_NAME`].
pub fn name(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(MAX_NAME)
        .collect()
}

/// The reason in a HelmRelease's `Ready` message for a component in `phase`; `None` when there is nothing
/// to explain (installing, installed).
pub fn classify_release(phase: ComponentPhase, message: &str) -> Option<Reason> {
    let m = message.to_lowercase();
    if let Some(rest) = m.split_once("dependency '").map(|(_, r)| r)
        && m.contains("is not ready")
    {
        let quoted = rest.split('\'').next().unwrap_or_default();
        // `<namespace>/<name>`: the name is everything after the namespace.
        let short = quoted.split_once('/').map_or(quoted, |(_, n)| n);
        let on = name(short.strip_prefix("bp-").unwrap_or(short));
        if !on.is_empty() {
            return Some(Reason::Dependency { on });
        }
    }
    match phase {
        ComponentPhase::Failed => Some(if is_timeout(&m) {
            Reason::Timeout
        } else if is_refused(&m) {
            Reason::Credentials
        } else if m.contains("install failed") || m.contains("upgrade failed") {
            // Helm's own failure names the chart too ("… with chart x@1: …"): not a fetch problem.
            Reason::InstallFailed
        } else if [
            "chart pull",
            "helmchart",
            "pull",
            "artifact",
            "source",
            "fetch",
            "download",
            "no such host",
            "not found",
        ]
        .iter()
        .any(|w| m.contains(w))
        {
            Reason::ChartPull
        } else {
            Reason::InstallFailed
        }),
        ComponentPhase::Degraded => Some(if is_timeout(&m) {
            Reason::Timeout
        } else {
            Reason::NotHealthy
        }),
        ComponentPhase::Pending | ComponentPhase::Installing | ComponentPhase::Installed => None,
    }
}

/// The reason in OpenTofu's error diagnostic about a resource; `None` for an error of no known kind.
pub fn classify_tofu(message: &str) -> Option<Reason> {
    let m = message.to_lowercase();
    if m.contains("resource_unavailable") {
        Some(Reason::Unavailable {
            size: String::new(),
            location: String::new(),
            role: String::new(),
        })
    } else if m.contains("resource_limit_exceeded") || m.contains("limit reached") {
        Some(Reason::Limit)
    } else if is_refused(&m) {
        Some(Reason::Credentials)
    } else if is_timeout(&m) {
        Some(Reason::Timeout)
    } else {
        None
    }
}

fn is_timeout(m: &str) -> bool {
    ["deadline exceeded", "timed out", "timeout"]
        .iter()
        .any(|w| m.contains(w))
}

fn is_refused(m: &str) -> bool {
    [
        "unauthorized",
        "unauthenticated",
        "forbidden",
        "401",
        "403",
        "invalid token",
        "authentication",
    ]
    .iter()
    .any(|w| m.contains(w))
}

/// The component id of a release job (for the `kubectl` hints).
fn component(job: &Job) -> String {
    name(&label_of(job))
}

/// The sentence for a job that failed.
fn failed(job: &Job) -> Cause {
    let label = label_of(job);
    let c = |short: &str, sentence: String| Cause {
        short: short.to_string(),
        sentence,
    };
    let hr = |id: &str| format!("kubectl -n flux-system describe helmrelease bp-{id}");
    match (job.kind, &job.reason) {
        (_, Some(Reason::Unavailable { size, location, role })) if !size.is_empty() => c(
            &format!("no {size} in {location}"),
            format!(
                "Hetzner has no {size} available in {location} right now, so it could not create this {role}: launch again with another size or location (the run's error lists what Hetzner has now), or retry later."
            ),
        ),
        (_, Some(Reason::Unavailable { .. })) => c(
            "Hetzner has none now",
            "Hetzner has none of what this resource needs available right now (resource_unavailable): retry later, or launch again with another server size or location.".to_string(),
        ),
        (_, Some(Reason::Limit)) => c(
            "Hetzner limit reached",
            "The Hetzner project reached one of its limits (resource_limit_exceeded): remove unused resources in the Hetzner Cloud Console or ask Hetzner to raise the limit, then retry the run.".to_string(),
        ),
        (JobKind::Release, Some(Reason::Credentials)) => c(
            "registry refused",
            format!(
                "The chart registry refused Flux's credentials for {label}: check the registry secret of its source ({}), then retry the component.",
                hr(&component(job))
            ),
        ),
        (_, Some(Reason::Credentials)) => c(
            "token refused",
            "Hetzner refused the API token: check that it is valid and has read & write access, then retry the run.".to_string(),
        ),
        (JobKind::Release, Some(Reason::ChartPull)) => c(
            "chart not fetched",
            format!(
                "Flux could not fetch the chart of {label}: check that its registry is reachable from the cluster and the chart version exists ({}), then retry the component.",
                hr(&component(job))
            ),
        ),
        (JobKind::Release, Some(Reason::Timeout)) => c(
            "install timed out",
            format!(
                "The install of {label} timed out: its pods did not become ready in time; look at them with `kubectl get pods -A | grep {}`, then retry the component.",
                component(job)
            ),
        ),
        (_, Some(Reason::Timeout)) => c(
            "timed out",
            format!(
                "OpenTofu ran out of time creating {label}: retry the run (it resumes where it stopped), or raise --tofu-apply-timeout if the cloud is slow today."
            ),
        ),
        (JobKind::Release, Some(Reason::NotHealthy)) => c(
            "not healthy",
            format!(
                "{label} is installed but its health checks do not pass: look at its pods ({}), then retry the component.",
                hr(&component(job))
            ),
        ),
        (JobKind::Release, _) => c(
            "install failed",
            format!(
                "Helm could not install {label}; the last lines of its log say why ({}): fix that, then retry the component.",
                hr(&component(job))
            ),
        ),
        (JobKind::Handback, _) => c(
            "no report back",
            "The control plane did not report back: it did not boot or cannot reach the console; the deployment's events say which. Retry the run.".to_string(),
        ),
        (JobKind::Resource, _) => c(
            "OpenTofu failed",
            format!(
                "OpenTofu could not create {label}; its log says why: retry the run, or wipe the deployment."
            ),
        ),
    }
}

/// How a job waits when nothing it depends on holds it up any more.
fn waiting_alone(job: &Job) -> Option<Cause> {
    let label = label_of(job);
    match (&job.reason, job.kind) {
        (Some(Reason::Dependency { on }), _) => Some(Cause {
            short: format!("waits for {on}"),
            sentence: format!("Waiting for {on}: Flux installs {label} once {on} is ready."),
        }),
        (Some(Reason::NotHealthy), _) => Some(Cause {
            short: "not healthy yet".to_string(),
            sentence: format!(
                "{label} is installed but not healthy yet: Flux keeps checking; if it stays so, look at its pods (kubectl -n flux-system describe helmrelease bp-{}).",
                component(job)
            ),
        }),
        (Some(Reason::Timeout), JobKind::Release) => Some(Cause {
            short: "slow to become ready".to_string(),
            sentence: format!(
                "{label} is taking longer than Helm's timeout to become ready: look at its pods with `kubectl get pods -A | grep {}`.",
                component(job)
            ),
        }),
        (_, _) if job.status != JobStatus::Pending => None,
        (_, JobKind::Resource) => Some(Cause {
            short: "next for OpenTofu".to_string(),
            sentence: format!("Waiting for OpenTofu to create {label}: nothing it depends on is unfinished."),
        }),
        (_, JobKind::Handback) => Some(Cause {
            short: "waits for the run".to_string(),
            sentence: "Waiting for the run to reach the cluster hand-back.".to_string(),
        }),
        (_, JobKind::Release) => Some(Cause {
            short: "waits for Flux".to_string(),
            sentence: format!("Waiting for Flux to start {label}: everything it depends on is done."),
        }),
    }
}

/// The worst unfinished job `id` waits for directly: failed before running before waiting, then by name.
fn blocker<'a>(graph: &'a Graph, id: &str) -> Option<&'a super::graph::Node> {
    let rank = |s: JobStatus| match s {
        JobStatus::Failed => 0,
        JobStatus::Running => 1,
        JobStatus::Pending => 2,
        JobStatus::Succeeded => 3,
    };
    graph
        .upstream(id)
        .into_iter()
        .filter(|n| n.status != JobStatus::Succeeded)
        .min_by(|a, b| rank(a.status).cmp(&rank(b.status)).then_with(|| a.id.cmp(&b.id)))
}

/// Links of a chain named in a sentence at most.
const MAX_CHAIN: usize = 3;

/// The cause of every failed or waiting job (and of a running one that waits for something), by job name.
pub fn explain(jobs: &[Job]) -> BTreeMap<String, Cause> {
    let graph = Graph::from_jobs(jobs);
    let by_name: BTreeMap<&str, &Job> = jobs.iter().map(|j| (j.job_name.as_str(), j)).collect();
    let mut out = BTreeMap::new();
    for job in jobs {
        let cause = match job.status {
            JobStatus::Succeeded => None,
            JobStatus::Failed => Some(failed(job)),
            JobStatus::Running => waiting_alone(job),
            JobStatus::Pending => {
                // Follow the worst unfinished upstream job down to the one nothing unfinished holds up.
                let mut chain: Vec<&super::graph::Node> = Vec::new();
                let mut seen = BTreeSet::from([job.job_name.as_str()]);
                let mut at = job.job_name.as_str();
                while let Some(next) = blocker(&graph, at) {
                    if !seen.insert(next.id.as_str()) {
                        break;
                    }
                    chain.push(next);
                    at = next.id.as_str();
                }
                match chain.last() {
                    None => waiting_alone(job),
                    Some(root) => {
                        let root_job = by_name.get(root.id.as_str()).copied();
                        let first = &chain[0].label;
                        let via = if chain.len() > 1 {
                            let mid: Vec<&str> = chain[1..chain.len() - 1]
                                .iter()
                                .take(MAX_CHAIN - 1)
                                .map(|n| n.label.as_str())
                                .collect();
                            let more = chain.len().saturating_sub(2 + mid.len());
                            let mut s = format!("{first}, which waits for ");
                            for m in &mid {
                                s.push_str(m);
                                s.push_str(", which waits for ");
                            }
                            if more > 0 {
                                s.push_str(&format!("{more} more, then "));
                            }
                            s
                        } else {
                            String::new()
                        };
                        let label = &root.label;
                        Some(match root.status {
                            JobStatus::Failed => Cause {
                                short: format!("blocked: {label} failed"),
                                sentence: format!(
                                    "Blocked: it waits for {via}{label}, which failed; fix {label} (its cause says how), then retry."
                                ),
                            },
                            JobStatus::Running => {
                                let what = root_job
                                    .and_then(waiting_alone)
                                    .map(|c| format!(" ({})", c.short))
                                    .unwrap_or_default();
                                Cause {
                                    short: format!("waits for {first}"),
                                    sentence: format!(
                                        "Waiting for {via}{label}, which is running{what}; it starts once that is done."
                                    ),
                                }
                            }
                            _ => Cause {
                                short: format!("waits for {first}"),
                                sentence: format!(
                                    "Waiting for {via}{label}, which has not started yet; it starts once that is done."
                                ),
                            },
                        })
                    }
                }
            }
        };
        if let Some(c) = cause {
            out.insert(job.job_name.clone(), c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::HANDBACK_JOB;

    fn job(name: &str, kind: JobKind, status: JobStatus, deps: &[&str], reason: Option<Reason>) -> Job {
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
            reason,
            expected_ms: None,
        }
    }

    #[test]
    fn flux_messages_become_reasons_without_their_text() {
        use ComponentPhase::*;
        assert_eq!(
            classify_release(Pending, "dependency 'flux-system/bp-cnpg' is not ready"),
            Some(Reason::Dependency { on: "cnpg".into() })
        );
        // A hostile name keeps only its name characters.
        assert_eq!(
            classify_release(
                Installing,
                "dependency 'flux-system/bp-x<script>alert(1)</script>' is not ready"
            ),
            Some(Reason::Dependency {
                on: "xscriptalert1script".into()
            })
        );
        assert_eq!(
            classify_release(Failed, "Helm install failed: context deadline exceeded"),
            Some(Reason::Timeout)
        );
        assert_eq!(
            classify_release(Failed, "failed to pull chart: 401 Unauthorized"),
            Some(Reason::Credentials)
        );
        assert_eq!(
            classify_release(Failed, "HelmChart 'flux-system/x' is not ready: chart pull error"),
            Some(Reason::ChartPull)
        );
        assert_eq!(classify_release(Failed, "boom"), Some(Reason::InstallFailed));
        assert_eq!(
            classify_release(Degraded, "health check failed"),
            Some(Reason::NotHealthy)
        );
        assert_eq!(classify_release(Installing, "Installing."), None);
        assert_eq!(classify_release(Installed, "ok"), None);
    }

    #[test]
    fn tofu_diagnostics_become_reasons() {
        assert!(matches!(
            classify_tofu("error during placement (resource_unavailable, 0a1b)"),
            Some(Reason::Unavailable { .. })
        ));
        assert_eq!(
            classify_tofu("error creating load balancer: server limit reached (resource_limit_exceeded)"),
            Some(Reason::Limit)
        );
        assert_eq!(
            classify_tofu("unable to authenticate: invalid token (unauthorized)"),
            Some(Reason::Credentials)
        );
        assert_eq!(classify_tofu("something else entirely"), None);
    }

    #[test]
    fn every_failed_job_gets_a_sentence_of_its_own_words() {
        use JobKind::*;
        use JobStatus::*;
        let raw = "Helm install failed for release flux-system/bp-x with chart x@1: <secret raw text>";
        let jobs = [
            job(
                "tofu:hcloud_server.control_plane[\"fsn1-cp1\"]",
                Resource,
                Failed,
                &[],
                Some(Reason::Unavailable {
                    size: "cx22".into(),
                    location: "fsn1".into(),
                    role: "control plane".into(),
                }),
            ),
            job("tofu:hcloud_network.main", Resource, Failed, &[], None),
            job(HANDBACK_JOB, Handback, Failed, &[], None),
            job(
                "install-x",
                Release,
                Failed,
                &[],
                classify_release(ComponentPhase::Failed, raw),
            ),
            job("install-y", Release, Failed, &[], Some(Reason::Timeout)),
        ];
        let c = explain(&jobs);
        assert_eq!(c.len(), 5);
        let cp = &c["tofu:hcloud_server.control_plane[\"fsn1-cp1\"]"];
        assert_eq!(cp.short, "no cx22 in fsn1");
        assert!(
            cp.sentence
                .starts_with("Hetzner has no cx22 available in fsn1 right now")
        );
        assert!(
            c["tofu:hcloud_network.main"]
                .sentence
                .contains("OpenTofu could not create hcloud_network.main")
        );
        assert!(c[HANDBACK_JOB].sentence.contains("did not report back"));
        assert!(c["install-x"].sentence.contains("Helm could not install x"));
        assert!(!c["install-x"].sentence.contains("secret raw"));
        assert!(c["install-y"].sentence.contains("kubectl get pods -A | grep y"));
        // One sentence each (a full stop ends it; none starts another).
        for cause in c.values() {
            assert!(cause.sentence.len() < 320, "{}", cause.sentence);
        }
    }

    #[test]
    fn a_waiting_job_names_the_chain_down_to_what_holds_it_up() {
        use JobKind::*;
        use JobStatus::*;
        let mut jobs = vec![
            job("tofu:a", Resource, Succeeded, &[], None),
            job(HANDBACK_JOB, Handback, Running, &[], None),
            job("install-cilium", Release, Pending, &[], None),
            job("install-cnpg", Release, Pending, &["install-cilium"], None),
            job("install-keycloak", Release, Pending, &["install-cnpg"], None),
        ];
        let c = explain(&jobs);
        assert_eq!(c["install-cnpg"].short, "waits for cilium");
        assert_eq!(
            c["install-keycloak"].sentence,
            "Waiting for cnpg, which waits for cilium, which waits for Cluster hand-back, which is running; it starts once that is done."
        );
        assert!(!c.contains_key("tofu:a"));
        // The hand-back running by itself has nothing to explain.
        assert!(!c.contains_key(HANDBACK_JOB));

        // A failure upstream blocks everything after it, and says so.
        jobs[1].status = Succeeded;
        jobs[2].status = Failed;
        jobs[2].reason = Some(Reason::ChartPull);
        let c = explain(&jobs);
        assert_eq!(c["install-keycloak"].short, "blocked: cilium failed");
        assert!(
            c["install-keycloak"]
                .sentence
                .starts_with("Blocked: it waits for cnpg, which waits for cilium, which failed")
        );
        assert!(
            c["install-cilium"]
                .sentence
                .starts_with("Flux could not fetch the chart of cilium")
        );

        // Flux's own word for a dependency, and a release whose dependencies are all done.
        jobs[2].status = Succeeded;
        jobs[2].reason = None;
        jobs[3].status = Running;
        jobs[3].reason = Some(Reason::Dependency { on: "vault".into() });
        let c = explain(&jobs);
        assert_eq!(
            c["install-cnpg"].sentence,
            "Waiting for vault: Flux installs cnpg once vault is ready."
        );
        assert_eq!(
            c["install-keycloak"].sentence,
            "Waiting for cnpg, which is running (waits for vault); it starts once that is done."
        );
    }

    #[test]
    fn a_long_chain_is_cut_and_a_cycle_ends() {
        use JobKind::*;
        use JobStatus::*;
        let mut jobs: Vec<Job> = (0..8)
            .map(|i| {
                let dep = format!("install-n{}", i + 1);
                let deps: Vec<&str> = if i < 7 { vec![dep.as_str()] } else { vec![] };
                job(&format!("install-n{i}"), Release, Pending, &deps, None)
            })
            .collect();
        let c = explain(&jobs);
        assert_eq!(
            c["install-n0"].sentence,
            "Waiting for n1, which waits for n2, which waits for n3, which waits for 3 more, then n7, which has not started yet; it starts once that is done."
        );
        jobs[7].depends_on = vec!["install-n0".into()];
        let c = explain(&jobs);
        assert_eq!(c.len(), 8);
    }
}
