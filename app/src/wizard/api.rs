//! Server functions of the wizard. Thin: check the caller with the one policy, call a port, run the shared
//! validation. Drafts belong to the signed-in user and to one of their organisations where they may create
//! deployments (`Action::WizardUse` / `Action::DeploymentCreate`: editors and above; viewers may not).
//!
//! The calls step 1 makes (read the draft, save it, discard it) are postcard both ways (`app::wire`): the
//! wizard's first page then carries no JSON parser or writer, no float parsing and no JSON (de)serialisers
//! of the request types (BENCHMARKS.md → "Wizard step 1"). The later steps' checks and Launch speak JSON.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::wire::Postcard;

use super::types::{GeneratedKey, SubdomainCheck, TokenCheck, WizardBootstrap, WizardDraft};
use crate::deployments::CreateDeployment;
use crate::error::AppError;
use crate::wizard::step::Step;

/// The user's draft (a new one with the defaults if there is none), the console facts, and the
/// organisations the draft may belong to.
#[server(input = Postcard, output = Postcard, endpoint = "wizard/get")]
pub async fn get_wizard() -> Result<WizardBootstrap, AppError> {
    let me = crate::auth::require(crate::auth::Action::WizardUse, None)?;
    bootstrap(&*crate::ports::wizard()?, &*crate::ports::catalog()?, &me).await
}

/// The user's draft as the wizard starts from it (a new one with the defaults if there is none), with the
/// console facts and the organisations it may belong to. Shared by [`get_wizard`] and the steps posted as
/// plain forms (`server::wizard::form`).
#[cfg(feature = "ssr")]
pub async fn bootstrap(
    port: &dyn crate::ports::WizardPort,
    catalog: &dyn crate::ports::CatalogPort,
    me: &crate::auth::Principal,
) -> Result<WizardBootstrap, AppError> {
    use crate::auth::Action;
    let orgs = port.organisations(me).await?;
    let Some(first_org) = orgs.first() else {
        return Err(AppError::Forbidden(Action::DeploymentCreate.name().into()));
    };
    let mut config = port.config();
    let catalog = catalog.catalog();
    config.default_components = catalog.selection_ids(&catalog.default_selection());
    let mut draft = match port.load_draft(&me.user_id).await? {
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
    // New drafts, and drafts of an organisation the user has since lost access to, start with the first
    // organisation they may use (their only one, usually).
    if !orgs.iter().any(|o| o.id == draft.org_id) {
        draft.org_id = first_org.id.clone();
    }
    // Region cards left untouched follow the headquarters (step 1 saves the headquarters without them: the
    // browser's first module has no region tables, `state::LaterSteps`).
    draft.refresh_regions();
    Ok(WizardBootstrap { draft, config, orgs })
}

/// Saves the draft. With `confirm`, also confirms that step: every step up to it is validated with the
/// shared rules, and the step counts as completed only if they pass (otherwise the field errors come back
/// as `AppError::Invalid`, and the data is still saved so nothing typed is lost).
#[server(input = Postcard, output = Postcard, endpoint = "wizard/save_draft")]
pub async fn save_draft(draft: WizardDraft, confirm: Option<Step>) -> Result<WizardDraft, AppError> {
    let me = crate::auth::require(crate::auth::Action::WizardUse, None)?;
    let port = crate::ports::wizard()?;
    let catalog = crate::ports::catalog()?;
    save_checked(&*port, &*catalog, &me, draft, confirm).await
}

/// The server's side of saving a draft, for the server function and for a step posted as a plain form
/// (`server::wizard::form`): the draft is kept for one of the user's organisations only, its progress is the
/// server's, and with `confirm` every step up to that one is checked with the shared rules.
#[cfg(feature = "ssr")]
pub async fn save_checked(
    port: &dyn crate::ports::WizardPort,
    catalog: &dyn crate::ports::CatalogPort,
    me: &crate::auth::Principal,
    draft: WizardDraft,
    confirm: Option<Step>,
) -> Result<WizardDraft, AppError> {
    use crate::deployments::fields::owner_org;
    use crate::error::FieldError;
    use crate::wizard::step::validate_step_with_catalog;
    let allowed: Vec<String> = port.organisations(me).await?.into_iter().map(|o| o.id).collect();
    let config = port.config();
    let mut draft = draft;
    draft.normalise();
    // A draft can only be kept for an organisation the user may create Sovereigns in.
    if let Some(message) = owner_org(&draft.org_id, &allowed) {
        return Err(AppError::Invalid(vec![FieldError::new("orgId", message)]));
    }
    // How far the user got is the server's fact, not the browser's.
    draft.completed = port
        .load_draft(&me.user_id)
        .await?
        .map(|d| d.completed)
        .unwrap_or(0);
    let mut errors = Vec::new();
    if let Some(step) = confirm {
        if !draft.reachable(step) {
            return Err(AppError::BadRequest(format!(
                "Finish “{}” first.",
                draft.first_incomplete().label()
            )));
        }
        let catalog = catalog.catalog();
        for s in Step::ALL.into_iter().filter(|s| *s <= step && *s != Step::Review) {
            errors.extend(validate_step_with_catalog(
                s,
                &draft.request,
                &config.validation,
                &catalog,
            ));
        }
        if errors.is_empty() && step != Step::Review {
            draft.completed = draft.completed.max(step.number());
        }
    }
    port.save_draft(&me.user_id, &draft).await?;
    if errors.is_empty() {
        Ok(draft)
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Throws the user's draft away ("Start over").
#[server(input = Postcard, output = Postcard, endpoint = "wizard/discard_draft")]
pub async fn discard_draft() -> Result<(), AppError> {
    let me = crate::auth::require(crate::auth::Action::WizardUse, None)?;
    crate::ports::wizard()?.delete_draft(&me.user_id).await
}

/// Asks Hetzner whether the token works (and may write). The token is used for this call only: it is not
/// stored, logged or sent back.
#[server(input = Json, endpoint = "wizard/check_hetzner_token")]
pub async fn check_hetzner_token(token: String) -> Result<TokenCheck, AppError> {
    use super::types::TokenFailure;
    use crate::deployments::Secret;
    crate::auth::require(crate::auth::Action::WizardUse, None)?;
    let token = Secret::new(token.trim());
    if let Some(message) = crate::deployments::fields::hetzner_token(token.expose()) {
        return Ok(TokenCheck::failed(TokenFailure::TooShort, None, message));
    }
    Ok(crate::ports::cloud_credentials()?
        .check_hetzner_token(&token)
        .await)
}

/// A new Ed25519 key pair for break-glass SSH. The private key is in this answer only.
#[server(input = Json, endpoint = "wizard/generate_ssh_key")]
pub async fn generate_ssh_key(fqdn: String) -> Result<GeneratedKey, AppError> {
    crate::auth::require(crate::auth::Action::WizardUse, None)?;
    let fqdn = fqdn.trim().to_ascii_lowercase();
    let comment = if fqdn.is_empty() || crate::deployments::fields::domain_name(&fqdn).is_some() {
        "catalyst".to_string()
    } else {
        format!("catalyst@{fqdn}")
    };
    crate::ports::wizard()?.generate_ssh_key(&comment).await
}

/// Whether `<subdomain>.<pool_domain>` is free.
#[server(input = Json, endpoint = "wizard/check_subdomain")]
pub async fn check_subdomain(pool_domain: String, subdomain: String) -> Result<SubdomainCheck, AppError> {
    crate::auth::require(crate::auth::Action::WizardUse, None)?;
    let sub = subdomain.trim().to_ascii_lowercase();
    crate::ports::subdomain_check()?
        .check(pool_domain.trim(), &sub)
        .await
}

/// Launch: hands the request, in the organisation the wizard chose, to the one create path
/// (`DeploymentsPort::create`, the same as REST `POST /sovereign/api/v1/deployments`): it checks the permission,
/// validates the request and its secrets, the organisation's limits, that the subdomain is still free and that
/// Hetzner accepts the token, and starts the run. Returns the new deployment's id. The draft is cleared on
/// success and kept on failure.
#[server(input = Json, endpoint = "wizard/launch")]
pub async fn launch(org_id: String, create: CreateDeployment) -> Result<String, AppError> {
    let me = crate::auth::principal()?;
    let actor = crate::deployments::types::Actor::new(me, crate::auth::request_meta());
    let mut create = create;
    create.org_id = Some(org_id);
    // A name another deployment took since the Domain step's check: the conflict is about the domain, so the
    // wizard shows it beside the domain field (same message as REST's 409).
    let domain_field = match create.request.domain.mode {
        crate::deployments::DomainMode::Pool => "domain.subdomain",
        _ => "domain.byoDomain",
    };
    let created = match crate::ports::deployments()?.create(&actor, create).await {
        Ok(created) => created,
        Err(AppError::Conflict(message)) => {
            return Err(AppError::Invalid(vec![crate::error::FieldError::new(
                domain_field,
                message,
            )]));
        }
        Err(e) => return Err(e),
    };
    // The run is over for the wizard: the next visit starts a new draft.
    crate::ports::wizard()?
        .delete_draft(&actor.principal.user_id)
        .await?;
    Ok(created.id)
}
