//! The wizard without JavaScript: each step is a `<form method="post">` to its own URL,
//! `POST /sovereign/wizard/<step>`. The posted fields are applied to the draft as the browser's handlers would
//! (`app::wizard::form::apply`), the draft is saved and checked with the same shared rules as the server
//! function (`app::wizard::api::save_checked`), and the answer is a redirect (POST-redirect-GET): to the next
//! step, or back to this one with the errors in the URL, shown beside their fields with the values kept.
//! Review's Launch takes the Hetzner token from the form (it is never stored) and goes through the one
//! create path, like the browser's Launch and REST. With JavaScript the same forms are handled in the page.

use app::auth::policy::{self, Action};
use app::auth::{Principal, RequestMeta};
use app::deployments::types::Actor;
use app::deployments::{CreateDeployment, DeploymentSecrets, DomainMode, Secret};
use app::error::{AppError, FieldError};
use app::wizard::api::{bootstrap, save_checked};
use app::wizard::form::{Posted, apply, errors_query};
use app::wizard::state::step_url;
use app::wizard::step::Step;
use axum::response::{IntoResponse, Redirect, Response};

use std::sync::Arc;

use app::ports::{CatalogPort, CloudCredentialsPort, DeploymentsPort, SubdomainCheckPort, WizardPort};

/// The ports a posted step needs (the router hands them over: the wizard does not import `http`).
#[derive(Clone)]
pub struct Ports {
    pub wizard: Arc<dyn WizardPort>,
    pub catalog: Arc<dyn CatalogPort>,
    pub subdomains: Arc<dyn SubdomainCheckPort>,
    pub cloud_credentials: Arc<dyn CloudCredentialsPort>,
    pub deployments: Arc<dyn DeploymentsPort>,
}

/// The field a message that belongs to no field comes back under (the page shows it as the step's notice).
pub const NOTICE_FIELD: &str = "form";

/// `POST /sovereign/wizard/<step>`.
pub async fn post_step(
    ports: Ports,
    me: Principal,
    meta: RequestMeta,
    slug: String,
    fields: Vec<(String, String)>,
) -> Response {
    let Some(step) = Step::from_slug(&slug) else {
        return crate::error::ApiError(AppError::NotFound(format!("No wizard step “{slug}”.")))
            .into_response();
    };
    if let Err(e) = policy::require(&me, Action::WizardUse, None) {
        return crate::error::ApiError(e).into_response();
    }
    let posted = Posted(&fields);
    let result = match step {
        Step::Review => launch(&ports, me, meta, &posted).await,
        _ => confirm(&ports, &me, step, &posted).await,
    };
    match result {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(AppError::Invalid(errors)) if !errors.is_empty() => {
            // The step of the first field in error; the token at Launch is Review's own field there.
            let first = errors
                .iter()
                .map(|e| match Step::of_field(&e.field) {
                    _ if step == Step::Review && e.field.starts_with("secrets.") => Step::Review,
                    s => s,
                })
                .min()
                .unwrap_or(step);
            Redirect::to(&format!("{}?{}", step_url(first), errors_query(&errors))).into_response()
        }
        Err(e @ (AppError::Unauthenticated | AppError::Forbidden(_))) => {
            crate::error::ApiError(e).into_response()
        }
        Err(e) => {
            let back = [FieldError::new(NOTICE_FIELD, e.to_string())];
            Redirect::to(&format!("{}?{}", step_url(step), errors_query(&back))).into_response()
        }
    }
}

/// Continue from a step 1–6: apply, check what needs the server (the token with Hetzner, the subdomain's
/// availability), save and confirm. Returns where to go next.
async fn confirm(ports: &Ports, me: &Principal, step: Step, posted: &Posted<'_>) -> Result<String, AppError> {
    let boot = bootstrap(&*ports.wizard, &*ports.catalog, me).await?;
    let mut draft = boot.draft;
    apply(step, &mut draft, posted);
    let mut errors = Vec::new();
    match step {
        // The token is checked if one was entered (it is not kept: Launch asks for it again).
        Step::Credentials => {
            let token = posted.get("secrets.hetznerToken").unwrap_or("").trim();
            if !token.is_empty() {
                let check = ports
                    .cloud_credentials
                    .check_hetzner_token(&Secret::new(token))
                    .await;
                if !check.valid {
                    errors.push(FieldError::new("secrets.hetznerToken", check.message));
                }
            }
        }
        Step::Domain if draft.request.domain.mode == DomainMode::Pool => {
            let d = &draft.request.domain;
            let sub = d.subdomain.trim().to_ascii_lowercase();
            if !sub.is_empty() {
                let check = ports.subdomains.check(d.pool_domain.trim(), &sub).await?;
                if check.status != app::wizard::Availability::Available {
                    errors.push(FieldError::new("domain.subdomain", check.detail));
                }
            }
        }
        _ => {}
    }
    let saved = save_checked(&*ports.wizard, &*ports.catalog, me, draft, Some(step)).await;
    match saved {
        Err(AppError::Invalid(mut more)) => {
            more.retain(|e| !errors.iter().any(|x| x.field == e.field));
            errors.extend(more);
            Err(AppError::Invalid(errors))
        }
        Err(e) => Err(e),
        Ok(_) if !errors.is_empty() => Err(AppError::Invalid(errors)),
        Ok(_) => Ok(step_url(step.next().unwrap_or(Step::Review))),
    }
}

/// Launch without JavaScript: the saved draft, the token from the form and the acknowledged pre-flight
/// warnings go through the one create path; the draft is cleared once the deployment exists.
async fn launch(
    ports: &Ports,
    me: Principal,
    meta: RequestMeta,
    posted: &Posted<'_>,
) -> Result<String, AppError> {
    let boot = bootstrap(&*ports.wizard, &*ports.catalog, &me).await?;
    let draft = boot.draft;
    if draft.first_incomplete() != Step::Review {
        return Err(AppError::BadRequest(format!(
            "Finish “{}” first.",
            draft.first_incomplete().label()
        )));
    }
    let token = posted
        .get("secrets.hetznerToken")
        .unwrap_or("")
        .trim()
        .to_string();
    let domain_field = match draft.request.domain.mode {
        DomainMode::Pool => "domain.subdomain",
        _ => "domain.byoDomain",
    };
    let create = CreateDeployment {
        org_id: Some(draft.org_id.clone()),
        request: draft.request,
        secrets: DeploymentSecrets {
            hetzner_token: Secret::new(token),
            registrar_token: None,
        },
        acknowledged_warnings: posted.all("acknowledged").map(str::to_string).collect(),
    };
    let actor = Actor::new(me, meta);
    let created = match ports.deployments.create(&actor, create).await {
        Ok(created) => created,
        // A name another deployment took since the Domain step: shown beside the domain field.
        Err(AppError::Conflict(message)) => {
            return Err(AppError::Invalid(vec![FieldError::new(domain_field, message)]));
        }
        Err(e) => return Err(e),
    };
    ports.wizard.delete_draft(&actor.principal.user_id).await?;
    Ok(app::routes::page(&format!("provision/{}", created.id)))
}
