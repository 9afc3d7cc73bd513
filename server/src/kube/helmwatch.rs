//! Watching Flux HelmReleases (`helm.toolkit.fluxcd.io/v2`, namespace `flux-system`) on a new Sovereign
//! and deriving each selected component's state from the `Ready` condition.
//!
//! Unlike the earlier system, the expected set is exactly the components the deployment asked for (not
//! "at least 11"), a timeout is a failure (never "ready"), and only changes are reported.

use std::collections::BTreeMap;
use std::time::Duration;

use app::deployments::ComponentPhase;
use futures_util::{Stream, StreamExt};
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::runtime::{WatchStreamExt, watcher};

pub const GROUP: &str = "helm.toolkit.fluxcd.io";
pub const VERSION: &str = "v2";
pub const KIND: &str = "HelmRelease";
pub const NAMESPACE: &str = "flux-system";
/// HelmReleases of catalog components are named `bp-<component id>`.
pub const PREFIX: &str = "bp-";

/// A component state as the watcher sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub state: ComponentPhase,
    pub message: String,
}

/// The `Ready` condition of a HelmRelease (`status.conditions[type=Ready]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadyCondition {
    pub status: String,
    pub reason: String,
    pub message: String,
}

/// The state of a component from its HelmRelease's `Ready` condition.
pub fn derive_state(ready: Option<&ReadyCondition>) -> ComponentPhase {
    let Some(ready) = ready else {
        return ComponentPhase::Pending;
    };
    match ready.status.as_str() {
        "True" => ComponentPhase::Installed,
        "Unknown" => ComponentPhase::Installing,
        "False" => {
            if ready.message.contains("dependency '") && ready.message.contains("is not ready") {
                ComponentPhase::Pending
            } else if matches!(
                ready.reason.as_str(),
                "InstallFailed"
                    | "UpgradeFailed"
                    | "ChartPullError"
                    | "ChartLoadError"
                    | "ArtifactFailed"
                    | "RetriesExceeded"
            ) {
                ComponentPhase::Failed
            } else if matches!(
                ready.reason.as_str(),
                "Progressing" | "ReconcileStarted" | "DependencyNotReady"
            ) {
                ComponentPhase::Installing
            } else {
                ComponentPhase::Degraded
            }
        }
        _ => ComponentPhase::Pending,
    }
}

/// The message shown for a state when the condition has none.
pub fn default_message(state: ComponentPhase) -> &'static str {
    match state {
        ComponentPhase::Pending => "HelmRelease observed, waiting for its first reconcile.",
        ComponentPhase::Installing => "Installing.",
        ComponentPhase::Installed => "Installed.",
        ComponentPhase::Degraded => "Not ready.",
        ComponentPhase::Failed => "The install failed.",
    }
}

/// The condition the watcher acts on: the `Ready` condition, except while a reconcile requested through
/// `reconcile.fluxcd.io/requestedAt` has not been handled yet (`status.lastHandledReconcileAt` differs) —
/// then the release is being retried, whatever its last condition said.
pub fn effective_condition(obj: &DynamicObject) -> Option<ReadyCondition> {
    let requested = obj
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get("reconcile.fluxcd.io/requestedAt"))
        .filter(|v| !v.is_empty());
    if let Some(requested) = requested {
        let handled = obj
            .data
            .get("status")
            .and_then(|s| s.get("lastHandledReconcileAt"))
            .and_then(|v| v.as_str());
        if handled != Some(requested.as_str()) {
            return Some(ReadyCondition {
                status: "Unknown".into(),
                reason: "ReconcileRequested".into(),
                message: "A new reconcile was requested; waiting for Flux to handle it.".into(),
            });
        }
    }
    ready_condition(obj)
}

/// Reads the `Ready` condition out of a HelmRelease object.
pub fn ready_condition(obj: &DynamicObject) -> Option<ReadyCondition> {
    let conditions = obj.data.get("status")?.get("conditions")?.as_array()?;
    let ready = conditions
        .iter()
        .find(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready"))?;
    let s = |k: &str| {
        ready
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    Some(ReadyCondition {
        status: s("status"),
        reason: s("reason"),
        message: s("message"),
    })
}

/// The component id of a HelmRelease name (`bp-cert-manager` → `cert-manager`).
pub fn component_of(name: &str) -> Option<&str> {
    name.strip_prefix(PREFIX).filter(|s| !s.is_empty())
}

/// Tracks the expected components and reports changes.
#[derive(Debug, Clone)]
pub struct Tracker {
    states: BTreeMap<String, Observed>,
}

/// How a watch ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every expected component is installed.
    Ready,
    /// Every expected component is terminal and these failed.
    Failed(Vec<String>),
}

impl Tracker {
    /// `expected`: component ids; `known`: states recorded earlier (a resumed watch does not repeat them).
    pub fn new(expected: &[String], known: &BTreeMap<String, Observed>) -> Self {
        let states = expected
            .iter()
            .map(|id| {
                let o = known.get(id).cloned().unwrap_or(Observed {
                    state: ComponentPhase::Pending,
                    message: String::new(),
                });
                (id.clone(), o)
            })
            .collect();
        Self { states }
    }

    /// Applies one observation; returns it when it changes the component's state (or message).
    /// Components outside the expected set are ignored.
    pub fn observe(&mut self, id: &str, ready: Option<&ReadyCondition>) -> Option<Observed> {
        let slot = self.states.get_mut(id)?;
        let state = derive_state(ready);
        let message = ready
            .map(|r| bounded(&r.message))
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| default_message(state).to_string());
        let next = Observed { state, message };
        if *slot == next {
            return None;
        }
        *slot = next.clone();
        Some(next)
    }

    /// A deleted HelmRelease goes back to pending (Flux will recreate it).
    pub fn deleted(&mut self, id: &str) -> Option<Observed> {
        let slot = self.states.get_mut(id)?;
        let next = Observed {
            state: ComponentPhase::Pending,
            message: "The HelmRelease was deleted; waiting for Flux to recreate it.".into(),
        };
        if *slot == next {
            return None;
        }
        *slot = next.clone();
        Some(next)
    }

    /// `Some` once every expected component is terminal.
    pub fn outcome(&self) -> Option<Outcome> {
        if !self.states.values().all(|o| o.state.terminal()) {
            return None;
        }
        let failed: Vec<String> = self
            .states
            .iter()
            .filter(|(_, o)| o.state == ComponentPhase::Failed)
            .map(|(id, _)| id.clone())
            .collect();
        Some(if failed.is_empty() {
            Outcome::Ready
        } else {
            Outcome::Failed(failed)
        })
    }

    /// Components not yet installed, with their state (for a timeout message).
    pub fn unfinished(&self) -> Vec<(String, ComponentPhase)> {
        self.states
            .iter()
            .filter(|(_, o)| o.state != ComponentPhase::Installed)
            .map(|(id, o)| (id.clone(), o.state))
            .collect()
    }

    pub fn states(&self) -> &BTreeMap<String, Observed> {
        &self.states
    }
}

/// A failure talking to a Sovereign's API. `Display` is the full detail for the server log; what reaches the
/// tenant (events, API answers) is [`KubeError::sentence`]: bounded, and never library text (which can
/// carry the console's own paths, addresses or environment).
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    #[error("the kubeconfig cannot be used: {0}")]
    Kubeconfig(String),
    #[error("the cluster's API answered with an error: {0}")]
    Api(#[from] kube::Error),
}

impl KubeError {
    /// One sentence for the tenant.
    pub fn sentence(&self) -> String {
        match self {
            KubeError::Kubeconfig(_) => {
                "The cluster's stored kubeconfig cannot be used by this console.".to_string()
            }
            KubeError::Api(e) => sentence_for(e).to_string(),
        }
    }
}

/// A fixed sentence for a kube client error: the tenant learns the kind of failure, the log gets the detail.
pub fn sentence_for(e: &kube::Error) -> &'static str {
    match e {
        kube::Error::Api(status) => match status.code {
            401 => "The cluster's API refused the console's credentials (401).",
            403 => "The cluster's API forbids the console this request (403).",
            404 => "The cluster's API does not know the HelmRelease (404).",
            409 => "The cluster's API reported a conflict (409).",
            429 => "The cluster's API is rate-limiting the console (429).",
            500..=599 => "The cluster's API answered with a server error.",
            _ => "The cluster's API refused the request.",
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) => {
            "The console cannot reach the cluster's API (connection failed or timed out)."
        }
        kube::Error::RustlsTls(_) | kube::Error::TlsRequired => {
            "The cluster's API did not present a certificate of the cluster's CA."
        }
        kube::Error::Auth(_) => "The console cannot authenticate to the cluster's API.",
        _ => "The console cannot talk to the cluster's API.",
    }
}

/// A fixed sentence for a watch error (see [`sentence_for`]).
pub fn watch_sentence(e: &watcher::Error) -> &'static str {
    match e {
        watcher::Error::InitialListFailed(k)
        | watcher::Error::WatchStartFailed(k)
        | watcher::Error::WatchFailed(k) => sentence_for(k),
        watcher::Error::WatchError(_) => "The cluster's API ended the watch with an error.",
        _ => "The console cannot watch the cluster's HelmReleases.",
    }
}

/// Text from the cluster (a condition message) as it may appear in an event: control characters removed,
/// at most `MAX_MESSAGE` characters.
pub fn bounded(text: &str) -> String {
    const MAX_MESSAGE: usize = 300;
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let clean = clean.trim();
    if clean.chars().count() > MAX_MESSAGE {
        let mut cut: String = clean.chars().take(MAX_MESSAGE - 1).collect();
        cut.push('…');
        cut
    } else {
        clean.to_string()
    }
}

/// A client for the Sovereign from its accepted kubeconfig (see [`super::kubeconfig`]): built in memory
/// from the cluster URL, the cluster's CA and data-only credentials; never from a kubeconfig loader. The
/// control plane's certificate is checked against that CA with the API server's in-cluster name: the
/// address is an IP the certificate need not list.
pub fn client(accepted: &super::kubeconfig::Accepted) -> Result<Client, KubeError> {
    let mut config =
        super::kubeconfig::client_config(accepted).map_err(|e| KubeError::Kubeconfig(e.to_string()))?;
    config.connect_timeout = Some(Duration::from_secs(10));
    config.read_timeout = Some(Duration::from_secs(330));
    Client::try_from(config).map_err(KubeError::Api)
}

fn api(client: Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(GROUP, VERSION, KIND);
    let ar = ApiResource::from_gvk_with_plural(&gvk, "helmreleases");
    Api::namespaced_with(client, NAMESPACE, &ar)
}

/// A change seen by the watch.
#[derive(Debug)]
pub enum Change {
    Applied {
        component: String,
        ready: Option<ReadyCondition>,
    },
    Deleted {
        component: String,
    },
    /// The initial list is complete: every existing HelmRelease has been reported.
    Synced,
    /// The watch could not reach the API (it retries with a back-off): a fixed sentence for the tenant and
    /// the full detail for the log.
    Error {
        sentence: &'static str,
        detail: String,
    },
}

/// Watches the `bp-*` HelmReleases of `flux-system` (list, then watch; re-lists after errors with
/// kube-rs' default back-off).
pub fn watch(client: Client) -> impl Stream<Item = Change> + Send {
    watcher(api(client), watcher::Config::default())
        .default_backoff()
        .flat_map(|event| {
            let changes: Vec<Change> = match event {
                Ok(watcher::Event::Apply(obj)) | Ok(watcher::Event::InitApply(obj)) => {
                    let name = obj.metadata.name.clone().unwrap_or_default();
                    component_of(&name)
                        .map(|c| Change::Applied {
                            component: c.to_string(),
                            ready: effective_condition(&obj),
                        })
                        .into_iter()
                        .collect()
                }
                Ok(watcher::Event::Delete(obj)) => {
                    let name = obj.metadata.name.clone().unwrap_or_default();
                    component_of(&name)
                        .map(|c| Change::Deleted {
                            component: c.to_string(),
                        })
                        .into_iter()
                        .collect()
                }
                Ok(watcher::Event::InitDone) => vec![Change::Synced],
                Ok(watcher::Event::Init) => Vec::new(),
                Err(e) => vec![Change::Error {
                    sentence: watch_sentence(&e),
                    detail: e.to_string(),
                }],
            };
            futures_util::stream::iter(changes)
        })
}

/// Asks Flux to reconcile a component's HelmRelease again now (and to reset its failure count, so a
/// release whose retries were exhausted tries again).
pub async fn request_reconcile(client: Client, component: &str, at: &str) -> Result<(), KubeError> {
    let patch = serde_json::json!({
        "metadata": {"annotations": {
            "reconcile.fluxcd.io/requestedAt": at,
            "reconcile.fluxcd.io/resetAt": at,
        }}
    });
    api(client)
        .patch(
            &format!("{PREFIX}{component}"),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(status: &str, reason: &str, message: &str) -> ReadyCondition {
        ReadyCondition {
            status: status.into(),
            reason: reason.into(),
            message: message.into(),
        }
    }

    #[test]
    fn derives_states_from_the_ready_condition() {
        use ComponentPhase::*;
        assert_eq!(derive_state(None), Pending);
        assert_eq!(
            derive_state(Some(&cond("True", "InstallSucceeded", ""))),
            Installed
        );
        assert_eq!(
            derive_state(Some(&cond("Unknown", "Progressing", ""))),
            Installing
        );
        assert_eq!(
            derive_state(Some(&cond("False", "InstallFailed", "boom"))),
            Failed
        );
        assert_eq!(derive_state(Some(&cond("False", "UpgradeFailed", ""))), Failed);
        assert_eq!(derive_state(Some(&cond("False", "ChartPullError", ""))), Failed);
        assert_eq!(derive_state(Some(&cond("False", "Progressing", ""))), Installing);
        assert_eq!(
            derive_state(Some(&cond("False", "DependencyNotReady", ""))),
            Installing
        );
        assert_eq!(
            derive_state(Some(&cond(
                "False",
                "Whatever",
                "dependency 'flux-system/bp-cilium' is not ready"
            ))),
            Pending
        );
        assert_eq!(
            derive_state(Some(&cond("False", "HealthCheckFailed", ""))),
            Degraded
        );
    }

    #[test]
    fn tracker_reports_changes_only_and_ends_on_all_terminal() {
        let expected = vec!["cilium".to_string(), "cert-manager".to_string()];
        let mut t = Tracker::new(&expected, &BTreeMap::new());
        assert!(
            t.observe(
                "cilium",
                Some(&cond("Unknown", "Progressing", "Running 'install'"))
            )
            .is_some()
        );
        assert!(
            t.observe(
                "cilium",
                Some(&cond("Unknown", "Progressing", "Running 'install'"))
            )
            .is_none(),
            "no change"
        );
        assert!(
            t.observe("not-selected", Some(&cond("True", "", ""))).is_none(),
            "outside the selection"
        );
        assert_eq!(t.outcome(), None);
        t.observe(
            "cilium",
            Some(&cond("True", "InstallSucceeded", "Helm install succeeded")),
        );
        assert_eq!(t.outcome(), None, "cert-manager is still pending: no early end");
        let c = t
            .observe("cert-manager", Some(&cond("False", "InstallFailed", "timed out")))
            .expect("change");
        assert_eq!(
            (c.state, c.message.as_str()),
            (ComponentPhase::Failed, "timed out")
        );
        assert_eq!(t.outcome(), Some(Outcome::Failed(vec!["cert-manager".into()])));
        assert_eq!(
            t.unfinished(),
            vec![("cert-manager".into(), ComponentPhase::Failed)]
        );
    }

    #[test]
    fn a_resumed_tracker_does_not_repeat_known_states() {
        let expected = vec!["cilium".to_string()];
        let mut known = BTreeMap::new();
        known.insert(
            "cilium".to_string(),
            Observed {
                state: ComponentPhase::Installed,
                message: "Helm install succeeded".into(),
            },
        );
        let mut t = Tracker::new(&expected, &known);
        assert!(
            t.observe(
                "cilium",
                Some(&cond("True", "InstallSucceeded", "Helm install succeeded"))
            )
            .is_none()
        );
        assert_eq!(t.outcome(), Some(Outcome::Ready));
        assert!(t.deleted("cilium").is_some());
        assert_eq!(t.outcome(), None);
    }

    #[test]
    fn names_map_to_components() {
        assert_eq!(component_of("bp-cert-manager"), Some("cert-manager"));
        assert_eq!(component_of("bp-"), None);
        assert_eq!(component_of("cilium"), None);
    }
}
