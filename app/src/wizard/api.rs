//! Server functions of the wizard. Thin: find the draft's owner, call a port, run the shared validation.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::types::{GeneratedKey, SubdomainCheck, TokenCheck, WizardBootstrap, WizardDraft};
use crate::deployments::CreateDeployment;
use crate::deployments::validate::Step;
use crate::error::AppError;

/// The user's draft (a new one with the defaults if there is none) and the console facts.
#[server(input = Json)]
pub async fn get_wizard() -> Result<WizardBootstrap, AppError> {
    let port = crate::ports::wizard()?;
    let owner = ssr::draft_owner();
    let config = port.config();
    let draft = match port.load_draft(&owner).await? {
        Some(mut d) => {
            // A pool domain that is no longer offered falls back to the first configured one.
            let pools = &config.validation.pool_domains;
            if !pools.contains(&d.request.domain.pool_domain)
                && let Some(first) = pools.first()
            {
                d.request.domain.pool_domain = first.clone();
            }
            d
        }
        None => WizardDraft::new(&config),
    };
    Ok(WizardBootstrap { draft, config })
}

/// Saves the draft. With `confirm`, also confirms that step: every step up to it is validated with the
/// shared rules, and the step counts as completed only if they pass (otherwise the field errors come back
/// as `AppError::Invalid`, and the data is still saved so nothing typed is lost).
#[server(input = Json)]
pub async fn save_draft(draft: WizardDraft, confirm: Option<Step>) -> Result<WizardDraft, AppError> {
    use crate::deployments::validate::validate_step;
    let port = crate::ports::wizard()?;
    let owner = ssr::draft_owner();
    let config = port.config();
    let mut draft = draft;
    draft.normalise();
    // How far the user got is the server's fact, not the browser's.
    draft.completed = port.load_draft(&owner).await?.map(|d| d.completed).unwrap_or(0);
    let mut errors = Vec::new();
    if let Some(step) = confirm {
        if !draft.reachable(step) {
            return Err(AppError::BadRequest(format!(
                "Finish “{}” first.",
                draft.first_incomplete().label()
            )));
        }
        for s in Step::ALL.into_iter().filter(|s| *s <= step && *s != Step::Review) {
            errors.extend(validate_step(s, &draft.request, &config.validation));
        }
        if errors.is_empty() && step != Step::Review {
            draft.completed = draft.completed.max(step.number());
        }
    }
    port.save_draft(&owner, &draft).await?;
    if errors.is_empty() {
        Ok(draft)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Throws the draft away (the "Start over" link).
#[server(input = Json)]
pub async fn discard_draft() -> Result<(), AppError> {
    let port = crate::ports::wizard()?;
    port.delete_draft(&ssr::draft_owner()).await
}

/// Asks Hetzner whether the token works. The token is used for this call only.
#[server(input = Json)]
pub async fn check_hetzner_token(token: String) -> Result<TokenCheck, AppError> {
    use super::types::TokenFailure;
    use crate::deployments::Secret;
    let token = Secret::new(token.trim());
    if let Some(message) = crate::deployments::validate::hetzner_token(token.expose()) {
        return Ok(TokenCheck::failed(TokenFailure::TooShort, None, message));
    }
    Ok(crate::ports::cloud_credentials()?
        .check_hetzner_token(&token)
        .await)
}

/// A new Ed25519 key pair for break-glass SSH. The private key is in this answer only.
#[server(input = Json)]
pub async fn generate_ssh_key(fqdn: String) -> Result<GeneratedKey, AppError> {
    let fqdn = fqdn.trim().to_ascii_lowercase();
    let comment = if fqdn.is_empty() || crate::deployments::validate::domain_name(&fqdn).is_some() {
        "catalyst".to_string()
    } else {
        format!("catalyst@{fqdn}")
    };
    crate::ports::wizard()?.generate_ssh_key(&comment).await
}

/// Whether `<subdomain>.<pool_domain>` is free.
#[server(input = Json)]
pub async fn check_subdomain(pool_domain: String, subdomain: String) -> Result<SubdomainCheck, AppError> {
    let sub = subdomain.trim().to_ascii_lowercase();
    crate::ports::subdomain_check()?
        .check(pool_domain.trim(), &sub)
        .await
}

/// Launch: validates the whole request and its secrets again, checks the token with Hetzner, hands the
/// request to the engine and returns the new deployment's id.
#[server(input = Json)]
pub async fn launch(create: CreateDeployment) -> Result<String, AppError> {
    use crate::deployments::validate::validate_create;
    use crate::error::FieldError;
    let port = crate::ports::wizard()?;
    let owner = ssr::draft_owner();
    let config = port.config();
    let mut errors = validate_create(&create, &config.validation);
    // The subdomain must still be free: the check is the same one the Domain step runs.
    if errors.is_empty() && create.request.domain.mode == crate::deployments::DomainMode::Pool {
        let d = &create.request.domain;
        let check = crate::ports::subdomain_check()?
            .check(&d.pool_domain, &d.subdomain)
            .await?;
        if check.status != super::types::Availability::Available {
            errors.push(FieldError::new("domain.subdomain", check.detail));
        }
    }
    if errors.is_empty() {
        let check = crate::ports::cloud_credentials()?
            .check_hetzner_token(&create.secrets.hetzner_token)
            .await;
        if !check.valid {
            errors.push(FieldError::new(
                "secrets.hetznerToken",
                format!("Hetzner did not accept the token: {}", check.message),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let id = ssr::create_deployment(&owner, create).await?;
    // The run is over: the next visit starts a new draft.
    port.delete_draft(&owner).await?;
    Ok(id)
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use leptos::prelude::*;

    use crate::deployments::CreateDeployment;
    use crate::error::AppError;

    /// Until sign-in exists, a draft belongs to the browser that started it (an opaque random id in an
    /// HttpOnly cookie). When the auth module lands, this is the one place that becomes the principal's id.
    pub const DRAFT_COOKIE: &str = "catalyst_wizard";

    #[derive(Clone)]
    struct DraftOwner(String);

    pub fn draft_owner() -> String {
        if let Some(DraftOwner(id)) = use_context::<DraftOwner>() {
            return id;
        }
        let from_cookie = use_context::<http::request::Parts>().and_then(|p| {
            p.headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|h| h.split(';'))
                .filter_map(|kv| kv.trim().split_once('='))
                .find(|(k, _)| *k == DRAFT_COOKIE)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| v.len() == 32 && v.bytes().all(|c| c.is_ascii_hexdigit()))
        });
        let id = match from_cookie {
            Some(id) => id,
            None => {
                let id = uuid::Uuid::new_v4().simple().to_string();
                if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                    let cookie = format!(
                        "{DRAFT_COOKIE}={id}; Path={}; Max-Age=31536000; HttpOnly; SameSite=Lax",
                        crate::routes::BASE
                    );
                    if let Ok(v) = http::HeaderValue::from_str(&cookie) {
                        res.append_header(http::header::SET_COOKIE, v);
                    }
                }
                id
            }
        };
        let owner = format!("browser:{id}");
        provide_context(DraftOwner(owner.clone()));
        owner
    }

    /// The single place Launch hands over to the provisioning engine.
    pub async fn create_deployment(owner: &str, create: CreateDeployment) -> Result<String, AppError> {
        let _ = (owner, create);
        Err(AppError::Unavailable(
            "The provisioning engine is not part of this build yet; your draft is saved — launch again once it is installed."
                .into(),
        ))
    }
}
