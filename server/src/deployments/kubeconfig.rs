//! The kubeconfig PUT-back from a Sovereign's control plane (cloud-init `curl -X PUT` with its region's
//! bearer) and its download.
//!
//! Bearers (`db::bearers`): each run that hands the variables to OpenTofu issues every region still without a
//! kubeconfig a new random bearer (`Engine::issue_bearers`); only its SHA-256 is stored. It works once,
//! for its region, until `--cluster-timeout` after the cluster phase started, and stops working when that
//! phase ends. The body is a kubeconfig the strict rules of `kube::kubeconfig` accept, whose `server` is the
//! region's API address from the OpenTofu outputs; what is stored (encrypted) is the reduced, re-serialised
//! form. Kubeconfigs never appear in events or logs.

use app::deployments::{Actor, DeploymentResult, DeploymentStatus, EventKind, Level, Phase};
use app::error::AppError;
use http::StatusCode;

use super::Engine;
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::db::bearers::{self, Delivery};
use crate::db::deployment_events::NewEvent;
use crate::db::{deployments as store, now_ms, secrets as secret_store};
use crate::error::Error;
use crate::kube::kubeconfig::{self as strict, Accepted};
use crate::tofu::region_keys;

/// The largest kubeconfig accepted.
pub const MAX_BYTES: usize = 1024 * 1024;
/// What a control plane is told to wait before trying again when the API address is not known yet.
pub const RETRY_AFTER_SECS: u64 = 10;

fn name(region: &str) -> String {
    format!("kubeconfig:{region}")
}

fn aad(id: &str, region: &str) -> Vec<u8> {
    format!("{id}/kubeconfig:{region}").into_bytes()
}

/// A refused PUT: status, machine code, sentence, and the kubeconfig field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PutError {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    /// The refused kubeconfig field (`users[0].user.exec`), for 422s about the body.
    pub field: Option<String>,
    /// `Retry-After` seconds, for refusals that a later attempt can overcome.
    pub retry_after: Option<u64>,
}

impl PutError {
    fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
            retry_after: None,
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

/// A region's API address from the recorded OpenTofu outputs.
pub fn api_endpoint(result: Option<&str>, region: &str) -> Option<String> {
    let result: DeploymentResult = serde_json::from_str(result?).ok()?;
    result
        .api_endpoints
        .get(region)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// The name of a region's cluster, user and context in the stored kubeconfig.
pub fn kubeconfig_name(fqdn: &str, region: &str) -> String {
    format!("{fqdn}-{region}")
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
                "Send the region's bearer token as `Authorization: Bearer <token>`.",
            ));
        };
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
        // The bearer first: nothing about the deployment's state is told to a caller without it.
        let issued = bearers::get(self.db(), id, &region)
            .await
            .map_err(|e| internal(e.into()))?;
        let Some(issued) = issued else {
            return Err(PutError::new(
                StatusCode::FORBIDDEN,
                "invalid-bearer",
                format!("The bearer token is not the one issued to {region}."),
            ));
        };
        if !constant_time_eq(sha256_hex(bearer.as_bytes()).as_bytes(), issued.sha256.as_bytes()) {
            return Err(PutError::new(
                StatusCode::FORBIDDEN,
                "invalid-bearer",
                format!("The bearer token is not the one issued to {region}."),
            ));
        }
        if issued.used_at.is_some() {
            return Err(PutError::new(
                StatusCode::CONFLICT,
                "already-set",
                format!(
                    "The kubeconfig of {region} was already delivered with this bearer; a bearer works once."
                ),
            ));
        }
        let now = now_ms();
        if issued.expires_at <= now {
            return Err(PutError::new(
                StatusCode::GONE,
                "bearer-expired",
                format!(
                    "This bearer of {region} expired (the cluster phase ended or --cluster-timeout passed); retrying the cluster phase issues a new one to a new control plane."
                ),
            ));
        }
        if !matches!(
            row.status(),
            DeploymentStatus::Provisioning | DeploymentStatus::WaitingForCluster
        ) {
            return Err(PutError::new(
                StatusCode::CONFLICT,
                "not-accepting",
                format!(
                    "The deployment is {}; it accepts a kubeconfig only while its cluster comes up.",
                    row.status().label().to_lowercase()
                ),
            ));
        }
        if body.len() > MAX_BYTES {
            return Err(PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "body-too-large",
                "A kubeconfig is at most 1 MiB.",
            ));
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Err(PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not-a-kubeconfig",
                "The body is not UTF-8 text; send the kubeconfig as YAML.",
            ));
        };
        if text.trim().is_empty() {
            return Err(PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "empty-body",
                "The body is empty; send the kubeconfig.",
            ));
        }
        let Some(expected) = api_endpoint(row.result.as_deref(), &region) else {
            // Apply has not finished yet: the node retries (cloud-init tries again on a 5xx).
            let mut e = PutError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "api-address-unknown",
                format!(
                    "OpenTofu has not reported {region}'s API address yet, so the kubeconfig cannot be checked; try again in {RETRY_AFTER_SECS} seconds."
                ),
            );
            e.retry_after = Some(RETRY_AFTER_SECS);
            return Err(e);
        };
        let accepted = strict::parse(text, &expected).map_err(|refusal| {
            tracing::info!(deployment = %id, region = %region, field = %refusal.field, "kubeconfig refused");
            let mut e = PutError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not-a-kubeconfig",
                refusal.to_string(),
            );
            if !refusal.field.is_empty() {
                e.code = "refused-field";
                e.field = Some(refusal.field);
            }
            e
        })?;
        let reduced = strict::reduce(&accepted, &kubeconfig_name(&row.fqdn, &region));
        let (nonce, ct) = self.0.secrets.seal(&aad(id, &region), reduced.as_bytes());
        let outcome = bearers::deliver(
            self.db(),
            id,
            &region,
            &issued.sha256,
            now,
            &name(&region),
            &nonce,
            &ct,
        )
        .await
        .map_err(|e| internal(e.into()))?;
        match outcome {
            Delivery::Stored => {}
            Delivery::AlreadySet => {
                return Err(PutError::new(
                    StatusCode::CONFLICT,
                    "already-set",
                    format!("The kubeconfig of {region} was already delivered; it can be sent only once."),
                ));
            }
            Delivery::BearerGone => {
                return Err(PutError::new(
                    StatusCode::GONE,
                    "bearer-expired",
                    format!(
                        "This bearer of {region} stopped working meanwhile; retrying the cluster phase issues a new one."
                    ),
                ));
            }
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

impl Engine {
    /// Issues a new single-use bearer to every region of `id` (keys `keys`) that has not delivered its
    /// kubeconfig, valid for `valid_for` unless the cluster phase ends it sooner; returns region key →
    /// bearer for OpenTofu (the bearers reach each region's first control plane through its user data).
    /// Only their SHA-256 is stored; a region's earlier bearer stops working.
    pub(crate) async fn issue_bearers(
        &self,
        id: &str,
        keys: &[String],
        valid_for: std::time::Duration,
    ) -> Result<std::collections::BTreeMap<String, app::deployments::Secret>, Error> {
        let delivered = secret_store::names(self.db(), id, "kubeconfig:").await?;
        let now = now_ms();
        let mut out = std::collections::BTreeMap::new();
        for key in keys {
            if delivered.contains(&name(key)) {
                continue;
            }
            let bearer = hex::encode(crate::crypto::random_bytes::<32>());
            bearers::issue(
                self.db(),
                id,
                key,
                &sha256_hex(bearer.as_bytes()),
                now,
                now + valid_for.as_millis() as i64,
            )
            .await?;
            out.insert(key.clone(), app::deployments::Secret::new(bearer));
        }
        Ok(out)
    }

    /// The cluster phase ended (or never will): unused bearers stop working.
    pub(crate) async fn revoke_bearers(&self, id: &str) {
        if let Err(e) = bearers::revoke_unused(self.db(), id, now_ms()).await {
            tracing::warn!(deployment = %id, error = %e, "cannot revoke the kubeconfig bearers");
        }
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

/// Why a stored kubeconfig cannot be used to reach the cluster (a sentence for the tenant; details are
/// logged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    /// None delivered.
    Missing,
    /// Stored by an earlier version, or not matching the recorded API address: not used.
    Refused,
    /// The console's key cannot decrypt it.
    Undecryptable,
}

/// A region's stored kubeconfig, checked again by the strict rules against the recorded API address
/// (kubeconfigs stored by earlier versions were not reduced: they are never used).
pub async fn load_accepted(
    engine: &Engine,
    row: &store::DeploymentRow,
    region: &str,
) -> Result<Accepted, Unusable> {
    let yaml = match load(engine, &row.id, region).await {
        Ok(Some(yaml)) => yaml,
        Ok(None) => return Err(Unusable::Missing),
        Err(e) => {
            tracing::error!(deployment = %row.id, region, error = %e, "cannot read the stored kubeconfig");
            return Err(Unusable::Undecryptable);
        }
    };
    let Some(expected) = api_endpoint(row.result.as_deref(), region) else {
        tracing::warn!(deployment = %row.id, region, "no recorded API address for the stored kubeconfig");
        return Err(Unusable::Refused);
    };
    strict::parse(&yaml, &expected).map_err(|refusal| {
        tracing::warn!(deployment = %row.id, region, field = %refusal.field, "the stored kubeconfig is not used: {refusal}");
        Unusable::Refused
    })
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
