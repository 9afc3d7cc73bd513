//! When `tofu apply` fails because Hetzner has none of a server type in a location right now
//! (`resource_unavailable` — the pre-flight checks availability, but Hetzner's data can be wrong or change
//! within minutes), the run's error names the server type, the location and the node it was for, and the
//! hint proposes what Hetzner reports as available now: the nearest type in the same location, and the
//! locations that have the type. The terraform-provider-hcloud message this reads is
//! `error during placement (resource_unavailable, <correlation id>)` on the server's address.

use app::deployments::{DeploymentRequest, Phase, Secret};

use crate::deployments::Engine;
use crate::deployments::step::{Diagnosed, StepError};
use crate::hetzner::HetznerClient;
use crate::hetzner::catalogue::{Offer, ServerType, nearest_available};

/// Which node an address names: `hcloud_server.control_plane["fsn1-2-cp1"]` → (`fsn1-2`, control plane).
fn node_of(address: &str) -> Option<(&str, bool)> {
    let (kind, rest) = address.strip_prefix("hcloud_server.")?.split_once("[\"")?;
    let name = rest.strip_suffix("\"]")?;
    let (key, node) = name.rsplit_once('-')?;
    match kind {
        "control_plane" if node.starts_with("cp") => Some((key, true)),
        "worker" if node.starts_with('w') => Some((key, false)),
        _ => None,
    }
}

/// The type, location and role of the server `d` is about, when it failed for `resource_unavailable`.
pub(crate) fn unavailable_server(
    d: &Diagnosed,
    request: &DeploymentRequest,
) -> Option<(String, String, bool)> {
    if !d.message.contains("resource_unavailable") {
        return None;
    }
    let (key, control_plane) = node_of(&d.address)?;
    let keys = crate::tofu::region_keys(&request.regions);
    let region = request.regions.get(keys.iter().position(|k| k == key)?)?;
    let size = if control_plane {
        &region.control_plane_size
    } else {
        &region.worker_size
    };
    Some((size.clone(), region.cloud_region.clone(), control_plane))
}

/// The sentence and hint for a server Hetzner could not place, given what it reports available now
/// (`None`: it could not be asked).
fn explain_with(
    size: &str,
    location: &str,
    control_plane: bool,
    types: Option<&[ServerType]>,
) -> (String, String) {
    let (role, field) = if control_plane {
        ("control plane", "control-plane size")
    } else {
        ("worker", "worker size")
    };
    let message = format!(
        "Hetzner has no {size} available in {location} right now, so it could not create this {role} (resource_unavailable)."
    );
    let mut options = Vec::new();
    if let Some(types) = types {
        if let Some(t) = nearest_available(types, size, location) {
            options.push(format!(
                "{} ({} vCPU, {} GB) as the {field} in {location}",
                t.name, t.cores, t.memory
            ));
        }
        let elsewhere: Vec<&str> = types
            .iter()
            .find(|t| t.name == size)
            .map(|t| {
                t.locations
                    .iter()
                    .filter(|l| l.name != location && matches!(t.offer(&l.name), Offer::Available))
                    .map(|l| l.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        if !elsewhere.is_empty() {
            options.push(format!("{size} in {}", elsewhere.join(", ")));
        }
    }
    let hint = if options.is_empty() {
        format!(
            "Availability changes within hours: retry later, or launch again with another {field} or location. What was created so far stays until you retry or wipe."
        )
    } else {
        format!(
            "Hetzner reports available now: {}. Launch again with that choice, or retry later (availability changes within hours). What was created so far stays until you retry or wipe.",
            options.join("; or ")
        )
    };
    (message, hint)
}

/// The run's error for a failed apply whose last diagnostic was a server Hetzner could not place; `None`
/// for any other failure (the caller keeps OpenTofu's own message).
pub(crate) async fn explain(
    engine: &Engine,
    request: &DeploymentRequest,
    token: &Secret,
    d: &Diagnosed,
) -> Option<StepError> {
    let (size, location, control_plane) = unavailable_server(d, request)?;
    let types = match HetznerClient::new(&engine.config().hetzner_api_url, token.clone()) {
        Ok(client) => match client.server_types().await {
            Ok(types) => Some(types),
            Err(e) => {
                tracing::warn!(error = %e, "apply failed for resource_unavailable; cannot read Hetzner's server types");
                None
            }
        },
        Err(_) => None,
    };
    let (message, hint) = explain_with(&size, &location, control_plane, types.as_deref());
    Some(StepError::failed(Phase::TofuApply, message, hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_the_region_and_the_role() {
        assert_eq!(
            node_of("hcloud_server.control_plane[\"fsn1-cp1\"]"),
            Some(("fsn1", true))
        );
        assert_eq!(
            node_of("hcloud_server.worker[\"fsn1-2-w12\"]"),
            Some(("fsn1-2", false))
        );
        assert_eq!(node_of("hcloud_load_balancer.region[\"fsn1\"]"), None);
        assert_eq!(node_of("hcloud_server.worker"), None);
    }

    #[test]
    fn without_hetzners_answer_the_hint_still_says_what_to_do() {
        let (m, h) = explain_with("cpx32", "hel1", true, None);
        assert_eq!(
            m,
            "Hetzner has no cpx32 available in hel1 right now, so it could not create this control plane (resource_unavailable)."
        );
        assert!(h.contains("another control-plane size or location"), "{h}");
    }
}
