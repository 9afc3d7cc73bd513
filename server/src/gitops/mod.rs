//! GitOps: the Flux tree of one Sovereign, `clusters/<fqdn>/` in the configured Git repository.
//!
//! - [`render`] builds the tree from `clusters/_template` plus one HelmRepository + HelmRelease per
//!   selected component ([`bootstrap_kit`], the same generator that writes the template's own kit);
//! - [`publish`] commits it to the configured branch and pushes it (libgit2; no `git` binary needed), as one
//!   commit that replaces `clusters/<fqdn>/` and touches nothing else. Rendering the same tree again pushes
//!   nothing. A branch that moved meanwhile is fetched again and the commit rebuilt on top (other
//!   Sovereigns' folders are other paths), up to three times.
//!
//! The cloud-init of `infra/hetzner` points Flux at `<gitops_path>` = [`cluster_path`]`(fqdn)` on the same
//! repository and branch. With a forge ([`forge`], `--gitops-forge-url`) that repository is the Sovereign's
//! own (`sovereign-<fqdn>`), pulled over SSH with its read-only deploy key; otherwise the one shared
//! repository (`--gitops-repo-url`).
//!
//! The engine calls:
//! ```text
//! let components = catalog::components_for(&settings.catalog.engine, &request.components)?;
//! let tree = render_request(&settings.gitops.template_dir, &catalog, &request, deployment_id, acme)?;
//! publish(settings.gitops.require_remote()?, &tree, &message).await?;
//! ```

pub mod catalog;
pub mod config;
pub mod forge;
pub mod kit;
pub mod picture;
mod push;
pub mod render;
pub mod spec;
pub mod yaml;

pub use kit::{Acme, BOOTSTRAP_PROVIDED, KitOptions, Unit, bootstrap_kit, kit_order, kit_units};
pub use push::{GitRemote, PushOutcome, probe_push, publish, publish_blocking};
pub use render::{Rendered, render, render_request};

use app::deployments::Secret;

/// One component to install on the Sovereign: a catalog blueprint's chart, namespace, dependencies, values
/// and wiring.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentRelease {
    /// Catalog id (`cert-manager`). The HelmRelease and HelmRepository are named `bp-<id>`.
    pub id: String,
    pub chart: ChartRef,
    /// Namespace the chart is installed into (created if missing).
    pub namespace: String,
    /// Catalog ids this component needs first (become `spec.dependsOn`).
    pub depends_on: Vec<String>,
    /// The chart values without HA: the blueprint's `chart.values`, then `platform/<id>/values.yaml`.
    pub values: Option<serde_json::Value>,
    /// The same with `values-ha.yaml` merged over, for a highly available Sovereign.
    pub values_ha: Option<serde_json::Value>,
    /// `platform/<id>/kit.yaml`: workloads, host, database, buckets, OIDC client, generated secrets.
    pub spec: spec::KitSpec,
}

/// Where a chart comes from: an `https://` Helm repository or an `oci://` registry path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChartRef {
    pub repository: String,
    pub name: String,
    pub version: String,
}

/// What to render for one deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderInput {
    pub fqdn: String,
    pub deployment_id: String,
    /// The selected components (mandatory ones included), any order; dependencies must be selected too.
    pub components: Vec<ComponentRelease>,
    /// HA replicas and the certificate mode.
    pub kit: KitOptions,
}

/// `clusters/<fqdn>`: the Sovereign's folder in the GitOps repository (OpenTofu's `gitops_path`).
pub fn cluster_path(fqdn: &str) -> String {
    format!("clusters/{}", fqdn.trim().to_ascii_lowercase())
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitopsError {
    /// `clusters/_template` is missing or unreadable.
    #[error("the GitOps template is unusable: {0}")]
    Template(String),
    /// The render input is inconsistent (unknown dependency, cycle, bad FQDN …).
    #[error("cannot render the GitOps tree: {0}")]
    Invalid(String),
    /// The Git server refused the credentials.
    #[error(
        "the Git server refused the credentials: {0} — check --gitops-token (it needs write access to the branch)"
    )]
    Auth(String),
    /// The push was refused (branch protection, or it kept moving while we pushed).
    #[error("the Git server refused the push: {0}")]
    Rejected(String),
    /// The Git server could not be reached.
    #[error("cannot reach the Git server: {0}")]
    Unreachable(String),
    /// Anything else libgit2 reports.
    #[error("Git failed: {0}")]
    Git(String),
}

impl GitopsError {
    /// The same error with every occurrence of `secret` masked (libgit2 messages can echo URLs).
    pub(crate) fn scrub(self, secret: Option<&Secret>) -> Self {
        let Some(s) = secret.map(Secret::expose).filter(|s| !s.is_empty()) else {
            return self;
        };
        let clean = |m: String| m.replace(s, "***");
        match self {
            GitopsError::Template(m) => GitopsError::Template(clean(m)),
            GitopsError::Invalid(m) => GitopsError::Invalid(clean(m)),
            GitopsError::Auth(m) => GitopsError::Auth(clean(m)),
            GitopsError::Rejected(m) => GitopsError::Rejected(clean(m)),
            GitopsError::Unreachable(m) => GitopsError::Unreachable(clean(m)),
            GitopsError::Git(m) => GitopsError::Git(clean(m)),
        }
    }
}
