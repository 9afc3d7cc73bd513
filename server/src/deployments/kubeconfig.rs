//! The kubeconfig PUT-back from a Sovereign's control plane (cloud-init `curl -X PUT` with the deployment's
//! bearer) and its download.
//!
//! The bearer is derived from the console's key and the deployment id (so it is the same on every
//! `tofu apply`); the database keeps only its SHA-256. Each region's kubeconfig can be delivered once; it is
//! stored encrypted and never appears in events or logs.

use app::deployments::{Actor, DeploymentStatus, EventKind, Level, Phase};
use app::error::AppError;
use http::StatusCode;

use super::Engine;
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::db::deployment_events::NewEvent;
use crate::db::{deployments as store, secrets as secret_store};
use crate::error::Error;
use crate::tofu::region_keys;

/// The largest kubeconfig accepted.
pub const MAX_BYTES: usize = 1024 * 1024;

fn name(region: &str) -> String {
    format!("kubeconfig:{region}")
}

fn aad(id: &str, region: &str) -> Vec<u8> {
    format!("{id}/kubeconfig:{region}").into_bytes()
}

/// A refused PUT: status, machine code, sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
}

impl PutError {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
        }
    }
}

/// The bearer of an `Authorization` header (`Bearer <token>`, scheme case-insensitive, RFC 6750).
pub fn bearer_of(header: Option<&str>) -> Option<&str> {
    let h = header?.trim();
    let (scheme, token) = h.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && !token.contains(' ')).then_some(token)
}

impl Engine {
    /// Checks and stores a kubeconfig sent by a control plane. `region`: `None` for the primary region.
    pub async fn receive_kubeconfig(
        &self,
        id: &str,
        region: Option<&str>,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<(), PutError> {
        let internal = |e: Error| {
            let app: AppError = e.into();
            PutError::new(app.status(), app.code(), app.to_string())
        };
        let row = store::get(self.db(), id)
            .await
            .map_err(|e| internal(e.into()))?
            .ok_or_else(|| {
                PutError::new(StatusCode::NOT_FOUND, "not-found", "There is no such deployment.")
            })?;
        let Some(bearer) = bearer_of(authorization) else {
            return Err(PutError::new(
                StatusCode::UNAUTHORIZED,
                "missing-bearer",
                "Send the deployment's bearer token as `Authorization: Bearer <token>`.",
            ));
        };
        if row.kubeconfig_bearer_sha256.is_empty() {
            return Err(PutError::new(
                StatusCode::FORBIDDEN,
                "no-bearer-hash",
                "This deployment does not accept a kubeconfig.",
            ));
        }
        if !constant_time_eq(
            sha256_hex(bearer.as_bytes()).as_bytes(),
            row.kubeconfig_bearer_sha256.as_bytes(),
        ) {
            return Err(PutError::new(
                StatusCode::FORBIDDEN,
                "invalid-bearer",
                "The bearer token is not this deployment's.",
            ));
        }
        let request: app::deployments::DeploymentRequest = serde_json::from_str(&row.request)
            .map_err(|_| internal(AppError::Internal("The stored request is unreadable.".into()).into()))?;
        // The region keys of `infra/hetzner` (`fsn1`, `fsn1-2` …): cloud-init PUTs with `?region=<key>`,
        // the primary region without it.
        let keys = region_keys(&request.regions);
        let regions: Vec<&str> = keys.iter().map(String::as_str).collect();
        let region = match region.map(str::trim).filter(|r| !r.is_empty()) {
            None => regions.first().copied().unwrap_or_default().to_string(),
            Some(r) if regions.contains(&r) => r.to_string(),
            Some(r) => {
                return Err(PutError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown-region",
                    format!(
                        "“{}” is not a region of this deployment; use one of {}.",
                        r.chars().take(40).collect::<String>(),
                        regions.join(", ")
                    ),
                ));
            }
        };
        if matches!(row.status(), DeploymentStatus::Wiping | DeploymentStatus::Wiped) {
            return Err(PutError::new(
                StatusCode::CONFLICT,
                "not-accepting",
                "The deployment is being wiped; it accepts no kubeconfig.",
            ));
        }
        if body.len() > MAX_BYTES {
            return Err(PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "body-too-large",
                "A kubeconfig is at most 1 MiB.",
            ));
        }
        let text = std::str::from_utf8(body).unwrap_or_default();
        if text.trim().is_empty() {
            return Err(PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty-body",
                "The body is empty; send the kubeconfig.",
            ));
        }
        let parsed = kube::config::Kubeconfig::from_yaml(text).ok();
        if parsed
            .as_ref()
            .is_none_or(|k| k.clusters.is_empty() || k.auth_infos.is_empty())
        {
            return Err(PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not-a-kubeconfig",
                "The body is not a kubeconfig with a cluster and a user.",
            ));
        }
        let (nonce, ct) = self.0.secrets.seal(&aad(id, &region), body);
        let inserted = secret_store::insert_once(self.db(), id, &name(&region), &nonce, &ct)
            .await
            .map_err(|e| internal(e.into()))?;
        if !inserted {
            return Err(PutError::new(
                StatusCode::CONFLICT,
                "already-set",
                format!("The kubeconfig of {region} was already delivered; it can be sent only once."),
            ));
        }
        let mut event = NewEvent::log(
            Phase::Cluster,
            Level::Info,
            format!("The control plane in {region} sent its kubeconfig back."),
        );
        event.kind = EventKind::Log;
        if let Err(e) = self.append(id, &[event], &[]).await {
            tracing::warn!(deployment = %id, error = %e, "cannot record the kubeconfig event");
        }
        tracing::info!(deployment = %id, region = %region, "kubeconfig received");
        // A deployment whose run had already given up waiting can continue: nothing to do here — retrying
        // the cluster phase picks the stored kubeconfig up at once.
        Ok(())
    }

    /// A stored kubeconfig, decrypted (`None` if the region has not delivered one).
    pub async fn kubeconfig_of(&self, id: &str, region: &str) -> Result<Option<String>, Error> {
        load(self, id, region).await
    }

    /// The download for a person: (file name, YAML). Not found when the region has not delivered yet.
    pub async fn download_kubeconfig(
        &self,
        actor: &Actor,
        id: &str,
        region: Option<&str>,
    ) -> Result<(String, String), AppError> {
        let row = self
            .row_for(actor, id, app::auth::Action::DeploymentKubeconfigDownload)
            .await?;
        let request: app::deployments::DeploymentRequest = serde_json::from_str(&row.request)
            .map_err(|_| AppError::Internal("The stored request is unreadable.".into()))?;
        let keys = region_keys(&request.regions);
        let primary = keys.first().cloned().unwrap_or_default();
        let region = region
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(&primary)
            .to_string();
        if !keys.contains(&region) {
            return Err(AppError::invalid(
                "region",
                format!(
                    "“{}” is not a region of this deployment.",
                    region.chars().take(40).collect::<String>()
                ),
            ));
        }
        let yaml = self.kubeconfig_of(id, &region).await?.ok_or_else(|| {
            AppError::NotFound(format!(
                "The control plane in {region} has not sent its kubeconfig yet; it does once the cluster has booted."
            ))
        })?;
        self.audit(
            actor,
            "deployments.kubeconfig.download",
            id,
            &format!("Kubeconfig of {region} downloaded."),
        )
        .await;
        let file = if region == primary {
            format!("{}-kubeconfig.yaml", row.fqdn)
        } else {
            format!("{}-{region}-kubeconfig.yaml", row.fqdn)
        };
        Ok((file, yaml))
    }
}

/// The primary region's key (the first region's): the cluster the engine watches.
pub fn primary_key(request: &app::deployments::DeploymentRequest) -> String {
    region_keys(&request.regions)
        .into_iter()
        .next()
        .unwrap_or_default()
}

/// Decrypts a region's kubeconfig.
pub async fn load(engine: &Engine, id: &str, region: &str) -> Result<Option<String>, Error> {
    let Some(sealed) = secret_store::get(engine.db(), id, &name(region)).await? else {
        return Ok(None);
    };
    let plain = engine
        .0
        .secrets
        .open(&aad(id, region), &sealed.nonce, &sealed.ciphertext)
        .map_err(|_| {
            AppError::Internal("The stored kubeconfig cannot be decrypted with this console's key.".into())
        })?;
    Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bearer_headers() {
        assert_eq!(bearer_of(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer_of(Some("bearer  abc ")), Some("abc"));
        assert_eq!(bearer_of(Some("BEARER abc")), Some("abc"));
        assert_eq!(bearer_of(Some("Basic abc")), None);
        assert_eq!(bearer_of(Some("Bearer")), None);
        assert_eq!(bearer_of(Some("Bearer a b")), None);
        assert_eq!(bearer_of(None), None);
    }
}
