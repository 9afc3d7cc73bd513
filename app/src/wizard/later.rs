//! Steps 2–7's side of [`WizardState`]: their rules as the browser runs them and Launch. This is code of the
//! `wizard_steps` wasm module (`shell::later_step` calls [`install`] before it renders any of those steps), so
//! the first step's module needs neither these rules, the catalog's dependency engine, nor the create call.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api::launch as launch_call;
use super::state::{LaterSteps, SubdomainState, WizardState, use_wizard};
use super::types::{Availability, WizardDraft};
use crate::deployments::validate::validate_secrets;
use crate::deployments::{CreateDeployment, DeploymentSecrets, DomainMode, Secret};
use crate::error::{AppError, FieldError};
use crate::routes;
use crate::wizard::step::{Step, validate_step, validate_step_with_catalog};

/// Hands steps 2–7's rules, Launch and the region pre-selection to the wizard's state (once per wizard run),
/// and brings the region cards in line with the headquarters typed on step 1 before this step renders.
pub fn install() {
    let state = use_wizard();
    if state.later.with_value(|l| l.is_none()) {
        state.later.set_value(Some(LaterSteps {
            errors: step_errors,
            launch,
            refresh_regions: WizardDraft::refresh_regions,
        }));
        state.draft.update_untracked(WizardDraft::refresh_regions);
    }
}

/// The errors of `step` (2–7) as the browser sees them: the shared rules (with the catalog's, once the
/// Components step loaded it), plus the checks that need this session.
fn step_errors(state: &WizardState, step: Step) -> Vec<FieldError> {
    let ctx = state.ctx();
    let catalog = state.catalog.get_value();
    let mut errors = state.draft.with(|d| match &catalog {
        Some(c) => validate_step_with_catalog(step, &d.request, &ctx, c),
        None => validate_step(step, &d.request, &ctx),
    });
    match step {
        Step::Credentials => {
            let s = state.secrets.get();
            if let Some(m) = crate::deployments::fields::hetzner_token(&s.hetzner_token) {
                errors.insert(0, FieldError::new("secrets.hetznerToken", m));
            } else if !s.token_check.as_ref().is_some_and(|c| c.valid) {
                errors.insert(
                    0,
                    FieldError::new(
                        "secrets.hetznerToken",
                        "Validate the token with Hetzner before you continue.",
                    ),
                );
            }
        }
        Step::Domain => {
            let pool = state.draft.with(|d| d.request.domain.mode == DomainMode::Pool);
            let has_sub_error = errors.iter().any(|e| e.field == "domain.subdomain");
            if pool && !has_sub_error {
                let message = match state.subdomain.get() {
                    SubdomainState::Answer(c) if c.status == Availability::Available => None,
                    SubdomainState::Answer(c) => Some(c.detail),
                    SubdomainState::Local(_, m) | SubdomainState::Failed(m) => Some(m),
                    SubdomainState::Checking | SubdomainState::Idle => {
                        Some("Wait for the availability check to finish.".to_string())
                    }
                };
                if let Some(m) = message {
                    errors.push(FieldError::new("domain.subdomain", m));
                }
            }
        }
        _ => {}
    }
    errors
}

/// The create call's body as the wizard has it now: the draft, this session's token, the acknowledged
/// pre-flight warnings.
pub fn create_of(state: &WizardState) -> CreateDeployment {
    CreateDeployment {
        org_id: Some(state.draft.with_untracked(|d| d.org_id.clone())),
        request: state.draft.with_untracked(|d| d.request.clone()),
        secrets: DeploymentSecrets {
            hetzner_token: Secret::new(
                state
                    .secrets
                    .with_untracked(|s| s.hetzner_token.trim().to_string()),
            ),
            registrar_token: None,
        },
        acknowledged_warnings: state.acknowledged.get_untracked(),
    }
}

/// Launch: everything the browser can check, with the same rules the server runs next (the pre-flight
/// included: the button is enabled only once it passed); then the create call, and on success the live
/// deployment page.
fn launch(state: &WizardState) {
    if let Some(short) = state.credit_short.get_untracked() {
        state.notice.set(Some(short));
        return;
    }
    if !state.may_launch() {
        state.notice.set(Some(
            "Launch waits for the pre-flight: fix what it lists, or acknowledge its warnings.".into(),
        ));
        return;
    }
    let create = create_of(state);
    let org_id = create.org_id.clone().unwrap_or_default();
    let mut errors = Vec::new();
    let ctx = state.ctx();
    for s in Step::ALL.into_iter().filter(|s| *s != Step::Review) {
        // The subdomain's availability is checked again by the server at launch.
        errors.extend(match s {
            Step::Domain => validate_step(s, &create.request, &ctx),
            _ => state.step_errors(s),
        });
    }
    let secret_errors: Vec<FieldError> = validate_secrets(&create.request, &create.secrets)
        .into_iter()
        .filter(|e| !errors.iter().any(|x| x.field == e.field))
        .collect();
    errors.extend(secret_errors);
    if !errors.is_empty() {
        state.show_server_error(AppError::Invalid(errors), Step::Review);
        return;
    }
    let this = *state;
    state.busy.set(true);
    spawn_local(async move {
        let result = launch_call(org_id, create).await;
        this.busy.set(false);
        match result {
            Ok(id) => this.go(&routes::page(&format!("provision/{id}"))),
            Err(e) => this.show_server_error(e, Step::Review),
        }
    });
}
