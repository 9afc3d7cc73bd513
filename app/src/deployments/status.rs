//! The deployment state machine: every status a deployment can be in and the transitions between them.
//! The engine checks [`DeploymentStatus::check_transition`] on every status write (in the same statement
//! that writes it), so an illegal transition is an error, never a silent overwrite.
//!
//! ```text
//! pending ─► provisioning ─► waiting-for-cluster ─► installing ─► ready ─► wiping ─► wiped
//!    │            │                  │                   │                   │
//!    └────────────┴──────────────────┴───────────────────┴──► failed ◄──────┘
//!                                                               │
//!        failed ─► provisioning | waiting-for-cluster | installing (retry) | wiping (wipe)
//! ```

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DeploymentStatus {
    /// Accepted and stored; no work has started yet.
    #[serde(rename = "pending")]
    Pending,
    /// Phase 0: rendering the GitOps tree and running OpenTofu against the cloud account.
    #[serde(rename = "provisioning")]
    Provisioning,
    /// The servers exist; waiting for the control plane to send its kubeconfig back.
    #[serde(rename = "waiting-for-cluster")]
    WaitingForCluster,
    /// Phase 1: Flux is installing the selected components; watching their HelmReleases.
    #[serde(rename = "installing")]
    Installing,
    /// Every selected component is installed.
    #[serde(rename = "ready")]
    Ready,
    /// A phase failed (or was cancelled); the error says which and what to do. Retry or wipe from here.
    #[serde(rename = "failed")]
    Failed,
    /// `tofu destroy` and the sweep of left-over cloud resources are running.
    #[serde(rename = "wiping")]
    Wiping,
    /// Everything this deployment created has been removed; the teardown report lists what.
    #[serde(rename = "wiped")]
    Wiped,
}

/// A status write that the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a deployment cannot go from “{from}” to “{to}”")]
pub struct IllegalTransition {
    pub from: DeploymentStatus,
    pub to: DeploymentStatus,
}

impl DeploymentStatus {
    pub const ALL: [DeploymentStatus; 8] = [
        DeploymentStatus::Pending,
        DeploymentStatus::Provisioning,
        DeploymentStatus::WaitingForCluster,
        DeploymentStatus::Installing,
        DeploymentStatus::Ready,
        DeploymentStatus::Failed,
        DeploymentStatus::Wiping,
        DeploymentStatus::Wiped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeploymentStatus::Pending => "pending",
            DeploymentStatus::Provisioning => "provisioning",
            DeploymentStatus::WaitingForCluster => "waiting-for-cluster",
            DeploymentStatus::Installing => "installing",
            DeploymentStatus::Ready => "ready",
            DeploymentStatus::Failed => "failed",
            DeploymentStatus::Wiping => "wiping",
            DeploymentStatus::Wiped => "wiped",
        }
    }

    pub fn parse(s: &str) -> Option<DeploymentStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// For people: "Waiting for the cluster".
    pub fn label(self) -> &'static str {
        match self {
            DeploymentStatus::Pending => "Pending",
            DeploymentStatus::Provisioning => "Provisioning",
            DeploymentStatus::WaitingForCluster => "Waiting for the cluster",
            DeploymentStatus::Installing => "Installing components",
            DeploymentStatus::Ready => "Ready",
            DeploymentStatus::Failed => "Failed",
            DeploymentStatus::Wiping => "Wiping",
            DeploymentStatus::Wiped => "Wiped",
        }
    }

    /// The statuses reachable from this one.
    pub fn next(self) -> &'static [DeploymentStatus] {
        use DeploymentStatus::*;
        match self {
            Pending => &[Provisioning, Failed],
            Provisioning => &[WaitingForCluster, Failed],
            WaitingForCluster => &[Installing, Failed],
            Installing => &[Ready, Failed],
            Ready => &[Wiping],
            Failed => &[Provisioning, WaitingForCluster, Installing, Wiping],
            Wiping => &[Wiped, Failed],
            Wiped => &[],
        }
    }

    pub fn can_become(self, to: DeploymentStatus) -> bool {
        self.next().contains(&to)
    }

    pub fn check_transition(self, to: DeploymentStatus) -> Result<(), IllegalTransition> {
        if self.can_become(to) {
            Ok(())
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// Work is under way (or owed): a replica must hold the run's lease. Such a deployment cannot be
    /// deleted, retried or wiped until it settles or is cancelled.
    pub fn in_flight(self) -> bool {
        matches!(
            self,
            DeploymentStatus::Pending
                | DeploymentStatus::Provisioning
                | DeploymentStatus::WaitingForCluster
                | DeploymentStatus::Installing
                | DeploymentStatus::Wiping
        )
    }

    /// Nothing more happens without a person: the live stream ends with a `done` event.
    pub fn settled(self) -> bool {
        !self.in_flight()
    }

    /// The statuses from which `from` can be reached: what a transition's `WHERE status IN (…)` checks.
    pub fn sources_of(to: DeploymentStatus) -> Vec<DeploymentStatus> {
        Self::ALL.into_iter().filter(|s| s.can_become(to)).collect()
    }
}

impl std::fmt::Display for DeploymentStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeploymentStatus::*;

    #[test]
    fn the_happy_path_is_allowed() {
        let path = [
            Pending,
            Provisioning,
            WaitingForCluster,
            Installing,
            Ready,
            Wiping,
            Wiped,
        ];
        for pair in path.windows(2) {
            assert!(pair[0].check_transition(pair[1]).is_ok(), "{:?}", pair);
        }
    }

    #[test]
    fn every_in_flight_status_can_fail_and_failed_can_be_retried() {
        for s in ALL_IN_FLIGHT {
            assert!(s.can_become(Failed), "{s} → failed");
        }
        for to in [Provisioning, WaitingForCluster, Installing, Wiping] {
            assert!(Failed.can_become(to), "failed → {to}");
        }
    }

    const ALL_IN_FLIGHT: [DeploymentStatus; 5] =
        [Pending, Provisioning, WaitingForCluster, Installing, Wiping];

    #[test]
    fn illegal_transitions_are_errors() {
        for (from, to) in [
            (Pending, Ready),
            (Provisioning, Ready),
            (Provisioning, Installing),
            (Ready, Provisioning),
            (Ready, Failed),
            (Wiped, Provisioning),
            (Wiped, Failed),
            (Installing, Provisioning),
            (Failed, Ready),
            (Failed, Failed),
            (Ready, Ready),
        ] {
            let e = from.check_transition(to).expect_err("illegal");
            assert_eq!(e, IllegalTransition { from, to });
            assert!(e.to_string().contains(from.as_str()), "{e}");
        }
    }

    #[test]
    fn in_flight_and_settled_partition_the_statuses() {
        for s in DeploymentStatus::ALL {
            assert_ne!(s.in_flight(), s.settled());
        }
        assert_eq!(
            DeploymentStatus::ALL.iter().filter(|s| s.in_flight()).count(),
            ALL_IN_FLIGHT.len()
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for s in DeploymentStatus::ALL {
            let json = serde_json::to_string(&s).expect("json");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(DeploymentStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeploymentStatus::parse("phase1-watching"), None);
    }

    #[test]
    fn sources_of_lists_the_allowed_predecessors() {
        assert_eq!(DeploymentStatus::sources_of(Ready), vec![Installing]);
        assert_eq!(
            DeploymentStatus::sources_of(Failed),
            vec![Pending, Provisioning, WaitingForCluster, Installing, Wiping]
        );
        assert!(DeploymentStatus::sources_of(Pending).is_empty());
    }
}
