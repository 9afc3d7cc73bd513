//! The wizard's server side: drafts in the database (never secrets), the console facts the browser needs,
//! the organisations a user may design a Sovereign for, Ed25519 key generation, the pool subdomain check and
//! the Hetzner token check (through `server::hetzner`).

use std::sync::Arc;

use app::auth::Principal;
use app::auth::policy::{self, Action};
use app::deployments::fields::{is_reserved_subdomain, subdomain_format};
use app::deployments::validate::ValidationContext;
use app::error::AppError;
use app::ports::{SubdomainCheckPort, WizardPort};
use app::wizard::{Availability, GeneratedKey, OrgChoice, SubdomainCheck, WizardConfig, WizardDraft};
use async_trait::async_trait;

use crate::db::{self, Db};

pub mod form;
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
    async fn load(&self, user_id: &str) -> Result<Option<WizardDraft>, Error> {
        let Some(row) = db::drafts::get(&self.db, user_id).await? else {
            return Ok(None);
        };
        match serde_json::from_str::<WizardDraft>(&row.draft) {
            Ok(mut d) => {
                d.org_id = row.org_id;
                Ok(Some(d))
            }
            Err(e) => {
                // A draft from an older shape: start over rather than fail the page.
                tracing::warn!(error = %e, "discarding a wizard draft that no longer parses");
                Ok(None)
            }
        }
    }

    async fn save(&self, user_id: &str, draft: &WizardDraft) -> Result<(), Error> {
        let json = serde_json::to_string(draft)
            .map_err(|_| AppError::Internal("The draft could not be encoded.".into()))?;
        db::drafts::put(
            &self.db,
            user_id,
            &draft.org_id,
            &json,
            i64::from(draft.completed),
        )
        .await?;
        Ok(())
    }

    async fn orgs_for(&self, me: &Principal) -> Result<Vec<OrgChoice>, Error> {
        let mut orgs: Vec<OrgChoice> = if policy::allowed_everywhere(me, Action::DeploymentCreate) {
            db::orgs::list(&self.db)
                .await?
                .into_iter()
                .map(|o| OrgChoice {
                    id: o.id,
                    name: o.name,
                })
                .collect()
        } else {
            let ids = policy::org_ids_allowing(me, Action::DeploymentCreate);
            me.memberships
                .iter()
                .filter(|m| ids.contains(&m.org_id))
                .map(|m| OrgChoice {
                    id: m.org_id.clone(),
                    name: m.org_name.clone(),
                })
                .collect()
        };
        orgs.sort_by(|a, b| {
            a.name
                .to_lowercase()
                .cmp(&b.name.to_lowercase())
                .then(a.id.cmp(&b.id))
        });
        Ok(orgs)
    }
}

#[async_trait]
impl WizardPort for Wizard {
    fn config(&self) -> WizardConfig {
        self.settings.config()
    }

    async fn organisations(&self, me: &Principal) -> Result<Vec<OrgChoice>, AppError> {
        Ok(self.orgs_for(me).await?)
    }

    async fn load_draft(&self, user_id: &str) -> Result<Option<WizardDraft>, AppError> {
        Ok(self.load(user_id).await?)
    }

    async fn save_draft(&self, user_id: &str, draft: &WizardDraft) -> Result<(), AppError> {
        Ok(self.save(user_id, draft).await?)
    }

    async fn delete_draft(&self, user_id: &str) -> Result<(), AppError> {
        db::drafts::delete(&self.db, user_id).await.map_err(Error::from)?;
        Ok(())
    }

    async fn generate_ssh_key(&self, comment: &str) -> Result<GeneratedKey, AppError> {
        crate::crypto::generate_ed25519(comment).map_err(|e| {
            tracing::error!(error = %e, "SSH key generation failed");
            AppError::Internal("The key pair could not be generated; try again.".into())
        })
    }
}

/// The subdomain check: the format rule, the configured pools and the reserved names, then the pool
/// manager (`dns::PoolManager::check`: a reservation in progress, a live Sovereign, a zone PowerDNS already
/// serves) and the deployments that already hold a name (`taken`: [`LiveDeployments`] in the console).
/// Without a PowerDNS (`pools: None`) no name can be promised: the check says so.
pub struct PoolSubdomains {
    pub settings: Arc<WizardSettings>,
    pub pools: Option<Arc<crate::dns::PoolManager>>,
    pub taken: Option<Arc<dyn TakenSubdomains>>,
}

/// Subdomains in use by existing deployments.
#[async_trait]
pub trait TakenSubdomains: Send + Sync + 'static {
    async fn is_taken(&self, fqdn: &str) -> Result<bool, AppError>;
}

/// The engine's deployments: a name is taken while a deployment of it exists and is not wiped.
pub struct LiveDeployments {
    pub db: Db,
}

#[async_trait]
impl TakenSubdomains for LiveDeployments {
    async fn is_taken(&self, fqdn: &str) -> Result<bool, AppError> {
        Ok(db::deployments::live_by_fqdn(&self.db, fqdn)
            .await
            .map_err(Error::from)?
            .is_some())
    }
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
        let Some(pools) = &self.pools else {
            return Ok(answer(
                Availability::CheckFailed,
                "This console has no DNS server configured, so it cannot give out pool subdomains; ask the operator to set --pdns-url, or use your own domain.".into(),
            ));
        };
        match pools.check(pool_domain, subdomain).await {
            Ok(crate::dns::PoolCheck::Free) => {}
            Ok(crate::dns::PoolCheck::InProgress) => {
                return Ok(answer(
                    Availability::Reserved,
                    format!(
                        "{fqdn} is reserved by another deployment in progress — try again in a few minutes, or choose another subdomain."
                    ),
                ));
            }
            Ok(crate::dns::PoolCheck::Active) => {
                return Ok(answer(
                    Availability::Taken,
                    format!("{fqdn} is already taken by a live Sovereign — choose another subdomain."),
                ));
            }
            Ok(crate::dns::PoolCheck::Elsewhere) => {
                return Ok(answer(
                    Availability::Taken,
                    format!("{fqdn} already exists in Catalyst's DNS — choose another subdomain."),
                ));
            }
            Err(app::dns::PoolError::DnsUnavailable(detail)) => {
                return Ok(answer(Availability::CheckFailed, detail));
            }
            Err(e) => return Ok(answer(Availability::Invalid, e.to_string())),
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

/// Checks a Hetzner Cloud token with infra's client (`HetznerClient::validate_token`: a read of the
/// project, then a write Hetzner refuses to read-only tokens before it looks at the body; nothing is
/// created). The token goes in the `Authorization` header only; it is never logged or returned.
pub struct HetznerTokens {
    /// e.g. `https://api.hetzner.cloud/v1` (`--hetzner-api-url`).
    pub base_url: String,
    pub connect_timeout: std::time::Duration,
    pub request_timeout: std::time::Duration,
}

impl HetznerTokens {
    pub fn new(base_url: &str) -> HetznerTokens {
        HetznerTokens {
            base_url: base_url.trim_end_matches('/').to_string(),
            connect_timeout: std::time::Duration::from_secs(5),
            request_timeout: std::time::Duration::from_secs(10),
        }
    }
}

#[async_trait]
impl app::ports::CloudCredentialsPort for HetznerTokens {
    async fn check_hetzner_token(&self, token: &app::deployments::Secret) -> app::wizard::TokenCheck {
        use crate::hetzner::{HetznerClient, TokenProblem};
        use app::wizard::{TokenCheck, TokenFailure};
        let client = match HetznerClient::with_timeouts(
            &self.base_url,
            token.clone(),
            self.connect_timeout,
            self.request_timeout,
        ) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "cannot build the Hetzner API client");
                return TokenCheck::failed(
                    TokenFailure::Unreachable,
                    None,
                    "the console could not set up a connection to the Hetzner API",
                );
            }
        };
        match client.validate_token().await {
            Ok(()) => TokenCheck::ok(),
            Err(TokenProblem::Rejected(detail)) => {
                // Hetzner's error codes: `unauthorized` (401) for an unknown or revoked token,
                // `token_readonly` / `forbidden` (403) for one that may not write.
                let read_only = detail.starts_with("token_readonly") || detail.starts_with("forbidden");
                TokenCheck::failed(
                    TokenFailure::Rejected,
                    Some(if read_only { 403 } else { 401 }),
                    if read_only {
                        format!(
                            "this token is read-only — create a Read & Write token in the project (Hetzner: {detail})"
                        )
                    } else {
                        format!(
                            "token rejected — ensure it is a Read & Write API token of the project (Hetzner: {detail})"
                        )
                    },
                )
            }
            Err(TokenProblem::Unreachable(detail)) => {
                tracing::warn!(api = %self.base_url, problem = %detail, "Hetzner API unreachable");
                TokenCheck::failed(
                    TokenFailure::Unreachable,
                    None,
                    "could not reach the Hetzner API — check network connectivity",
                )
            }
            Err(TokenProblem::Http { status, message }) => TokenCheck::failed(
                TokenFailure::Http,
                Some(status),
                format!("the Hetzner API answered HTTP {status}: {message}"),
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
            pools: None,
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
        // The rules answer without a DNS server; a name that passes them cannot be promised without one
        // (available / taken against the real PowerDNS: it::wizard and it::dns_pool).
        assert_eq!(status("console", "omani.works").await, Availability::Reserved);
        assert_eq!(status("1bad", "omani.works").await, Availability::Invalid);
        assert_eq!(
            status("bank", "other.example").await,
            Availability::UnsupportedPool
        );
        assert_eq!(status("bank", "omani.works").await, Availability::CheckFailed);
        let c = p.check("omani.works", "bank").await.expect("answers");
        assert_eq!(c.fqdn, "bank.omani.works");
        assert!(c.detail.contains("--pdns-url"), "{}", c.detail);
    }

    #[test]
    fn generated_keys_pass_the_shared_rule() {
        let k = crate::crypto::generate_ed25519("catalyst@acme.omani.works").expect("generates");
        assert!(k.public_key.starts_with("ssh-ed25519 "));
        assert!(k.public_key.ends_with(" catalyst@acme.omani.works"));
        assert_eq!(app::deployments::fields::ssh_public_key(&k.public_key), None);
        assert!(
            k.private_key
                .expose()
                .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
        );
        assert!(k.fingerprint.starts_with("SHA256:"));
        // The browser's fingerprint of a key (shown for pasted keys) is ssh-key's, digit for digit.
        assert_eq!(
            app::deployments::fields::ssh_fingerprint(&k.public_key).as_deref(),
            Some(k.fingerprint.as_str())
        );
        let other = crate::crypto::generate_ed25519("catalyst").expect("generates");
        assert_ne!(other.public_key, k.public_key, "every pair is new");
    }
}
