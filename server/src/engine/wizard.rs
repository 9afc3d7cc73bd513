//! The wizard's server side: drafts in the database (never secrets), the console facts the browser needs,
//! Ed25519 key generation, and the pool subdomain check.

use std::sync::Arc;

use app::deployments::validate::{ValidationContext, is_reserved_subdomain, subdomain_format};
use app::error::AppError;
use app::ports::{SubdomainCheckPort, WizardPort};
use app::wizard::{Availability, GeneratedKey, SubdomainCheck, WizardConfig, WizardDraft};
use async_trait::async_trait;

use crate::db::{self, Db};
use crate::error::Error;

/// Facts from the configuration (`--pool-domains`, `--nameservers`).
#[derive(Debug, Clone, Default)]
pub struct WizardSettings {
    pub pool_domains: Vec<String>,
    pub nameservers: Vec<String>,
}

impl WizardSettings {
    pub fn config(&self) -> WizardConfig {
        WizardConfig {
            validation: ValidationContext {
                pool_domains: self.pool_domains.clone(),
            },
            nameservers: self.nameservers.clone(),
            default_components: Vec::new(),
        }
    }
}

pub struct Wizard {
    pub db: Db,
    pub settings: Arc<WizardSettings>,
}

impl Wizard {
    async fn load(&self, owner: &str) -> Result<Option<WizardDraft>, Error> {
        let Some(row) = db::drafts::get(&self.db, owner).await? else {
            return Ok(None);
        };
        match serde_json::from_str::<WizardDraft>(&row.draft) {
            Ok(d) => Ok(Some(d)),
            Err(e) => {
                // A draft from an older shape: start over rather than fail the page.
                tracing::warn!(error = %e, "discarding a wizard draft that no longer parses");
                Ok(None)
            }
        }
    }

    async fn save(&self, owner: &str, draft: &WizardDraft) -> Result<(), Error> {
        let json = serde_json::to_string(draft)
            .map_err(|_| AppError::Internal("The draft could not be encoded.".into()))?;
        db::drafts::put(&self.db, owner, &json, i64::from(draft.completed)).await?;
        Ok(())
    }
}

#[async_trait]
impl WizardPort for Wizard {
    fn config(&self) -> WizardConfig {
        self.settings.config()
    }

    async fn load_draft(&self, owner: &str) -> Result<Option<WizardDraft>, AppError> {
        Ok(self.load(owner).await?)
    }

    async fn save_draft(&self, owner: &str, draft: &WizardDraft) -> Result<(), AppError> {
        Ok(self.save(owner, draft).await?)
    }

    async fn delete_draft(&self, owner: &str) -> Result<(), AppError> {
        db::drafts::delete(&self.db, owner).await.map_err(Error::from)?;
        Ok(())
    }

    async fn generate_ssh_key(&self, comment: &str) -> Result<GeneratedKey, AppError> {
        generate_ed25519(comment).map_err(|e| {
            tracing::error!(error = %e, "SSH key generation failed");
            AppError::Internal("The key pair could not be generated; try again.".into())
        })
    }
}

/// A new Ed25519 pair in OpenSSH formats. The private key is unencrypted (the operator stores it) and is
/// returned to the caller only.
pub fn generate_ed25519(comment: &str) -> Result<GeneratedKey, ssh_key::Error> {
    use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey};
    let mut key = PrivateKey::random(&mut rand_core::OsRng, Algorithm::Ed25519)?;
    key.set_comment(comment);
    let private_pem = key.to_openssh(LineEnding::LF)?;
    let public = key.public_key();
    Ok(GeneratedKey {
        public_key: public.to_openssh()?,
        private_key: app::deployments::Secret::new(private_pem.as_str()),
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
    })
}

/// Today's subdomain check: the format rule, the reserved names, the configured pools. Deployments that
/// already hold a subdomain are consulted through `taken`, which the engine's deployment store provides once
/// it exists; the DNS issue replaces this with the PowerDNS pool manager behind the same port.
pub struct PoolSubdomains {
    pub settings: Arc<WizardSettings>,
    pub taken: Option<Arc<dyn TakenSubdomains>>,
}

/// Subdomains in use by existing deployments.
#[async_trait]
pub trait TakenSubdomains: Send + Sync + 'static {
    async fn is_taken(&self, fqdn: &str) -> Result<bool, AppError>;
}

#[async_trait]
impl SubdomainCheckPort for PoolSubdomains {
    async fn check(&self, pool_domain: &str, subdomain: &str) -> Result<SubdomainCheck, AppError> {
        let fqdn = format!("{subdomain}.{pool_domain}");
        let answer = |status, detail: String| SubdomainCheck {
            status,
            fqdn: fqdn.clone(),
            detail,
        };
        if let Some(problem) = subdomain_format(subdomain) {
            return Ok(answer(Availability::Invalid, problem));
        }
        if !self.settings.pool_domains.iter().any(|p| p == pool_domain) {
            return Ok(answer(
                Availability::UnsupportedPool,
                format!(
                    "{pool_domain} is not a pool domain of this console — pick one of the offered pools or use your own domain."
                ),
            ));
        }
        if is_reserved_subdomain(subdomain) {
            return Ok(answer(
                Availability::Reserved,
                format!(
                    "“{subdomain}” is reserved for the Sovereign control plane — choose another subdomain."
                ),
            ));
        }
        if let Some(taken) = &self.taken {
            match taken.is_taken(&fqdn).await {
                Ok(true) => {
                    return Ok(answer(
                        Availability::Taken,
                        format!("{fqdn} is already used by another Sovereign — choose another subdomain."),
                    ));
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "subdomain lookup failed");
                    return Ok(answer(
                        Availability::CheckFailed,
                        "The availability check could not run; try again in a moment.".into(),
                    ));
                }
            }
        }
        Ok(answer(Availability::Available, format!("{fqdn} is available.")))
    }
}

/// Checks a Hetzner Cloud token with one read (`GET /servers?per_page=1`): 200 → valid, 401/403 →
/// rejected, another status → HTTP error, no answer in time → unreachable. The token goes in the
/// `Authorization` header only and is never logged.
pub struct HetznerTokens {
    pub client: reqwest::Client,
    /// e.g. `https://api.hetzner.cloud/v1` (`--hetzner-api-url`).
    pub base_url: String,
}

impl HetznerTokens {
    pub fn new(base_url: &str, timeout: std::time::Duration) -> Result<HetznerTokens, reqwest::Error> {
        Ok(HetznerTokens {
            client: reqwest::Client::builder().timeout(timeout).build()?,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }
}

#[async_trait]
impl app::ports::CloudCredentialsPort for HetznerTokens {
    async fn check_hetzner_token(&self, token: &app::deployments::Secret) -> app::wizard::TokenCheck {
        use app::wizard::{TokenCheck, TokenFailure};
        let url = format!("{}/servers?per_page=1", self.base_url);
        let res = self.client.get(&url).bearer_auth(token.expose()).send().await;
        let res = match res {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "Hetzner API unreachable");
                return TokenCheck::failed(
                    TokenFailure::Unreachable,
                    None,
                    "could not reach the Hetzner API — check network connectivity",
                );
            }
        };
        let status = res.status();
        // Hetzner's error body: {"error": {"code": "...", "message": "..."}}
        let detail = res
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_string));
        match status.as_u16() {
            200..=299 => TokenCheck::ok(),
            401 | 403 => TokenCheck::failed(
                TokenFailure::Rejected,
                Some(status.as_u16()),
                format!(
                    "token rejected — ensure it has Read & Write permissions{}",
                    detail.map(|d| format!(" (Hetzner: {d})")).unwrap_or_default()
                ),
            ),
            s => TokenCheck::failed(
                TokenFailure::Http,
                Some(s),
                detail.unwrap_or_else(|| format!("the Hetzner API answered HTTP {s}")),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pools() -> PoolSubdomains {
        PoolSubdomains {
            settings: Arc::new(WizardSettings {
                pool_domains: vec!["omani.works".into()],
                nameservers: vec![],
            }),
            taken: Some(Arc::new(OneTaken)),
        }
    }

    struct OneTaken;

    #[async_trait]
    impl TakenSubdomains for OneTaken {
        async fn is_taken(&self, fqdn: &str) -> Result<bool, AppError> {
            if fqdn == "broken.omani.works" {
                return Err(AppError::Unavailable("db down".into()));
            }
            Ok(fqdn == "acme.omani.works")
        }
    }

    #[tokio::test]
    async fn subdomain_states() {
        let p = pools();
        let status = |s: &'static str, pool: &'static str| {
            let p = &p;
            async move { p.check(pool, s).await.expect("answers").status }
        };
        assert_eq!(status("bank", "omani.works").await, Availability::Available);
        assert_eq!(status("acme", "omani.works").await, Availability::Taken);
        assert_eq!(status("console", "omani.works").await, Availability::Reserved);
        assert_eq!(status("1bad", "omani.works").await, Availability::Invalid);
        assert_eq!(
            status("bank", "other.example").await,
            Availability::UnsupportedPool
        );
        assert_eq!(status("broken", "omani.works").await, Availability::CheckFailed);
        let c = p.check("omani.works", "bank").await.expect("answers");
        assert_eq!(c.fqdn, "bank.omani.works");
    }

    #[test]
    fn generated_keys_pass_the_shared_rule() {
        let k = generate_ed25519("catalyst@acme.omani.works").expect("generates");
        assert!(k.public_key.starts_with("ssh-ed25519 "));
        assert!(k.public_key.ends_with(" catalyst@acme.omani.works"));
        assert_eq!(app::deployments::validate::ssh_public_key(&k.public_key), None);
        assert!(
            k.private_key
                .expose()
                .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
        );
        assert!(k.fingerprint.starts_with("SHA256:"));
        let other = generate_ed25519("catalyst").expect("generates");
        assert_ne!(other.public_key, k.public_key, "every pair is new");
    }
}
