//! Deployment pages: the list (`/sovereign/deployments`) and one deployment's live progress
//! (`/sovereign/provision/<id>`).

mod detail;
mod list;
#[cfg(feature = "hydrate")]
mod live;
mod progress;

pub use detail::DeploymentPage;
pub use list::DeploymentsPage;

use leptos::prelude::*;

use super::status::DeploymentStatus;

/// The deployment page of `id`.
pub fn deployment_href(id: &str) -> String {
    crate::routes::page(&format!("provision/{id}"))
}

/// A status as a coloured pill.
#[component]
pub fn StatusBadge(status: DeploymentStatus) -> impl IntoView {
    let tone = match status {
        DeploymentStatus::Ready | DeploymentStatus::Wiped => "ok",
        DeploymentStatus::Failed => "err",
        DeploymentStatus::Pending => "idle",
        _ => "busy",
    };
    view! {
        <span class=format!("pill pill-{tone}") data-status=status.as_str()>
            {(tone == "busy").then(|| view! { <span class="pulse" aria-hidden="true"></span> })}
            {status.label()}
        </span>
    }
}
