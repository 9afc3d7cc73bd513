//! A deployment page's state as the live stream moves it on: the connection shown to the person ([`Link`])
//! and how one event changes the deployment on screen ([`apply_event`]). Used by the page (`detail`) and by
//! the browser's stream follower (`live`).

use crate::deployments::status::DeploymentStatus;
use crate::deployments::types::{
    ComponentPhase, Deployment, DeploymentEvent, EventKind, PhaseProgress, PhaseState,
};

/// Connection to the live stream, as shown to the person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Link {
    /// Server-rendered, not yet connected.
    Static,
    Live,
    Reconnecting,
    /// The deployment settled; nothing more will come.
    Finished,
}

/// Applies one live event to the deployment shown.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub fn apply_event(d: &mut Deployment, e: &DeploymentEvent) {
    d.last_seq = d.last_seq.max(e.seq);
    d.updated_at = d.updated_at.max(e.at);
    match e.kind {
        EventKind::Status => {
            if let Some(s) = e.state.as_deref().and_then(DeploymentStatus::parse) {
                d.status = s;
            }
        }
        EventKind::Phase => {
            if let Some(state) = e.state.as_deref().and_then(PhaseState::parse) {
                let entry = match d.phases.iter_mut().position(|p| p.phase == e.phase) {
                    Some(i) => &mut d.phases[i],
                    None => {
                        d.phases.push(PhaseProgress {
                            phase: e.phase,
                            state,
                            started_at: None,
                            finished_at: None,
                            attempts: 0,
                        });
                        d.phases.sort_by_key(|p| p.phase);
                        let i = d
                            .phases
                            .iter()
                            .position(|p| p.phase == e.phase)
                            .unwrap_or_default();
                        &mut d.phases[i]
                    }
                };
                entry.state = state;
                match state {
                    PhaseState::Running => {
                        entry.started_at = Some(e.at);
                        entry.finished_at = None;
                        entry.attempts += 1;
                    }
                    PhaseState::Succeeded | PhaseState::Failed | PhaseState::Skipped => {
                        entry.finished_at = Some(e.at)
                    }
                    PhaseState::Pending => {}
                }
            }
        }
        EventKind::Resource => {
            if let Some(r) = &e.resource {
                match d.resources.iter_mut().find(|x| x.address == r.address) {
                    Some(x) => {
                        let cloud_id = x.cloud_id.clone();
                        *x = r.clone();
                        if x.cloud_id.is_none() {
                            x.cloud_id = cloud_id;
                        }
                    }
                    None => {
                        d.resources.push(r.clone());
                        d.resources.sort_by(|a, b| a.address.cmp(&b.address));
                    }
                }
            }
        }
        EventKind::Component => {
            if let (Some(id), Some(state)) =
                (&e.component, e.state.as_deref().and_then(ComponentPhase::parse))
            {
                let message = e
                    .message
                    .split_once(": ")
                    .map(|(_, m)| m)
                    .unwrap_or(&e.message)
                    .to_string();
                match d.components.iter_mut().find(|c| &c.id == id) {
                    Some(c) => {
                        c.state = state;
                        c.message = message;
                        c.updated_at = e.at;
                    }
                    None => d.components.push(crate::deployments::types::ComponentProgress {
                        id: id.clone(),
                        state,
                        message,
                        updated_at: e.at,
                    }),
                }
            }
        }
        EventKind::Log => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployments::types::{Level, Phase, ResourceAction, ResourceProgress, ResourceState};

    fn deployment() -> Deployment {
        let body = r#"{"id":"d1","orgId":"o","createdBy":"u","fqdn":"a.example.com","status":"provisioning",
            "request":{"org":{"name":"A","headquarters":"","industry":"other","size":"under-100","compliance":[]},
            "topology":"solo","haEnabled":false,"airgap":false,"regions":[],"hetznerProjectId":"1","sshPublicKey":"",
            "components":[],"domain":{"mode":"byo-manual","byoDomain":"a.example.com"},"adminEmail":""},
            "createdAt":1,"updatedAt":1,"phases":[{"phase":"tofu-apply","state":"pending","attempts":0}],
            "resources":[],"components":[],"lastSeq":3,"streamUrl":"/x"}"#;
        serde_json::from_str(body).expect("deployment json")
    }

    fn event(seq: i64, kind: EventKind, phase: Phase, state: Option<&str>) -> DeploymentEvent {
        DeploymentEvent {
            seq,
            at: seq * 1000,
            kind,
            phase,
            level: Level::Info,
            message: "cert-manager: Helm install succeeded".into(),
            component: None,
            state: state.map(str::to_string),
            resource: None,
        }
    }

    #[test]
    fn live_events_update_status_phases_resources_and_components() {
        let mut d = deployment();
        apply_event(
            &mut d,
            &event(4, EventKind::Phase, Phase::TofuApply, Some("running")),
        );
        let apply = d.phase(Phase::TofuApply).expect("apply").clone();
        assert_eq!(
            (apply.state, apply.started_at, apply.attempts),
            (PhaseState::Running, Some(4000), 1)
        );
        let mut r = event(5, EventKind::Resource, Phase::TofuApply, None);
        r.resource = Some(ResourceProgress {
            address: "hcloud_network.main".into(),
            resource_type: "hcloud_network".into(),
            action: ResourceAction::Create,
            state: ResourceState::Complete,
            elapsed_secs: 2,
            cloud_id: Some("7".into()),
            updated_at: 5000,
        });
        apply_event(&mut d, &r);
        apply_event(
            &mut d,
            &event(6, EventKind::Phase, Phase::TofuApply, Some("succeeded")),
        );
        apply_event(
            &mut d,
            &event(7, EventKind::Status, Phase::Cluster, Some("waiting-for-cluster")),
        );
        let mut c = event(8, EventKind::Component, Phase::Components, Some("installed"));
        c.component = Some("cert-manager".into());
        apply_event(&mut d, &c);
        apply_event(
            &mut d,
            &event(9, EventKind::Phase, Phase::Cluster, Some("running")),
        );
        assert_eq!(d.status, DeploymentStatus::WaitingForCluster);
        assert_eq!(d.last_seq, 9);
        assert_eq!(d.resources[0].cloud_id.as_deref(), Some("7"));
        assert_eq!(d.phase(Phase::TofuApply).and_then(|p| p.duration(0)), Some(2000));
        assert_eq!(
            d.phases.iter().map(|p| p.phase).collect::<Vec<_>>(),
            [Phase::TofuApply, Phase::Cluster]
        );
        assert_eq!(d.components[0].message, "Helm install succeeded");
        assert_eq!(d.components[0].state, ComponentPhase::Installed);
    }
}
