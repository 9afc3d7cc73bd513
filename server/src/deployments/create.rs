//! Creating a deployment: the one place it is decided (issue 18 item 4, issue 19 item 2).
//!
//! [`Engine::create`] is what every way in goes through — REST `POST /sovereign/api/v1/deployments`, the
//! wizard's Launch (`app::wizard::api::launch`) and `DeploymentsPort::create` for any other server function —
//! so a request refused by one is refused by all with the same messages. In order:
//!
//! 1. the organisation and the permission, checked once (`deployments.create` in that organisation);
//! 2. the whole request and its secrets with the shared rules (`app::deployments::validate::validate_create`)
//!    and the component selection with the catalog's engine: 422 naming every bad field;
//! 3. the organisation's limits (`--max-deployments-in-flight`, `--max-deployments-per-day`): 429 naming the
//!    limit, before anything is asked of the outside world; then the organisation's credit, when it has a
//!    credit account (issue 24): a launch whose first month the credit does not cover is refused (409, the
//!    amount missing);
//! 4. the live checks: the pool subdomain is still free (the wizard's Domain step check) and Hetzner accepts
//!    the token for reading and writing (422 on the field); no live deployment has the name (409); then the
//!    pre-flight (`crate::preflight`, issue 21): a failure, or a warning whose id is not in
//!    `acknowledgedWarnings`, is a 422 on the field that fixes it (`preflight` for the console's own settings);
//! 5. the insert — request, encrypted secrets, phases, first event — with the limits decided again in its
//!    transaction (two concurrent creations cannot both take the last slot) and the launch's charge to the
//!    credit made in it (the order and the ledger's spend: a refused charge stores nothing, a stored
//!    deployment always has its charge); then the audit entry and the run.

use std::sync::Arc;

use app::auth::{Action, policy};
use app::deployments::validate::validate_create;
use app::deployments::{
    Actor, CreateDeployment, Created, DeploymentStatus, DomainMode, EventKind, Level, Phase,
};
use app::error::{AppError, FieldError};
use app::ports::{CloudCredentialsPort, SubdomainCheckPort};
use app::wizard::Availability;

use super::Engine;
use crate::crypto::random_id;
use crate::db::deployment_events::NewEvent;
use crate::db::deployments::{self as store, DeploymentRow, InsertError, LimitReached, NewDeployment};
use crate::error::Error;

/// The live checks of a new deployment, shared with the wizard's own checks (the same instances answer the
/// Domain and Credentials steps and Launch).
#[derive(Clone)]
pub struct CreateChecks {
    /// Whether a pool subdomain is free (`wizard::PoolSubdomains`).
    pub subdomains: Arc<dyn SubdomainCheckPort>,
    /// Whether Hetzner accepts a token for reading and writing (`wizard::HetznerTokens`).
    pub tokens: Arc<dyn CloudCredentialsPort>,
}

impl Engine {
    /// What a launch of `req` is charged for its first month, in cents: the pre-flight's estimate (without VAT)
    /// over the last known Hetzner prices — the same footprints and prices the wizard's Review step loads
    /// (`wizard/sizing`), so the Review step's credit check and this charge agree.
    pub async fn launch_price_cents(&self, req: &app::deployments::DeploymentRequest) -> i64 {
        let sizing = self.0.preflight.sizing().await;
        app::billing::monthly_cost_cents(&app::preflight::cost::estimate(
            req,
            &sizing.footprints,
            &sizing.prices,
        ))
    }

    /// Creates a deployment and starts its run: see the module's documentation for the order of checks.
    pub async fn create(&self, actor: &Actor, body: CreateDeployment) -> Result<Created, AppError> {
        let org_id = self.org_for_create(actor, body.org_id.as_deref()).await?;

        let mut errors = validate_create(&body, &self.0.validation);
        if errors.iter().all(|e| e.field != "components") {
            errors.extend(self.0.config.catalog.validate_selection(&body.request.components));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }

        let limits = self.0.config.limits;
        let (in_flight, today, oldest) = store::usage(&self.0.db, &org_id).await.map_err(Error::from)?;
        if let Some(reached) = store::limit_reached(limits, in_flight, today, oldest, crate::db::now_ms()) {
            return Err(limit_error(reached));
        }

        let fqdn = body.request.fqdn();
        let id = random_id(20);
        let monthly = self.launch_price_cents(&body.request).await;
        let charge =
            crate::billing::launch_charge(&self.0.db, &org_id, &id, &fqdn, monthly, actor.user_id()).await?;
        self.live_checks(&body).await?;
        if let Some(existing) = store::live_by_fqdn(&self.0.db, &fqdn)
            .await
            .map_err(Error::from)?
        {
            return Err(fqdn_conflict(&fqdn, &existing, &org_id));
        }
        if self.0.config.preflight.on_create {
            let refusal = self
                .0
                .preflight
                .run(&body)
                .await
                .refusal(&body.acknowledged_warnings);
            if !refusal.is_empty() {
                return Err(AppError::Invalid(refusal));
            }
        }

        let secrets_json = serde_json::to_vec(&body.secrets)
            .map_err(|_| AppError::Internal("Cannot encode the secrets.".into()))?;
        let (nonce, ct) = self.0.secrets.seal(&Self::request_aad(&id), &secrets_json);
        let request_json = serde_json::to_string(&body.request)
            .map_err(|_| AppError::Internal("Cannot encode the request.".into()))?;
        let new = NewDeployment {
            id: id.clone(),
            org_id: org_id.clone(),
            created_by: actor.user_id().to_string(),
            fqdn: fqdn.clone(),
            request: request_json,
            // Bearers are issued per region and run (`db::bearers`); this column of earlier versions stays empty.
            bearer_sha256: String::new(),
            secrets: vec![("request".into(), nonce, ct)],
            first_event: NewEvent::log(
                Phase::Gitops,
                Level::Info,
                format!(
                    "Deployment of {fqdn} created by {} ({} region(s), {} component(s)).",
                    actor.label(),
                    body.request.regions.len(),
                    body.request.components.len()
                ),
            )
            .with_kind(EventKind::Status, Some(DeploymentStatus::Pending.as_str())),
        };
        match store::insert_priced(&self.0.db, &new, limits, charge.as_ref(), monthly).await {
            Ok(()) => {}
            Err(InsertError::NotCovered) => {
                let monthly = charge.as_ref().map_or(0, |c| -c.amount_cents);
                return Err(crate::billing::not_covered_now(&self.0.db, &org_id, monthly).await);
            }
            Err(InsertError::FqdnTaken(_)) => {
                return Err(AppError::Conflict(format!(
                    "Another deployment of {fqdn} was created at the same moment; open it from the deployments list."
                )));
            }
            Err(InsertError::Limit(reached)) => return Err(limit_error(reached)),
            Err(InsertError::Db(e)) => return Err(Error::from(e).into()),
        }
        tracing::info!(deployment = %id, fqdn = %fqdn, org = %org_id, by = %actor.user_id(), "deployment created");
        let paid = charge.as_ref().map_or(String::new(), |c| {
            format!(
                " First month paid by credit: {}.",
                app::billing::format_money(-c.amount_cents, &c.currency)
            )
        });
        self.audit(
            actor,
            "deployments.create",
            &id,
            &format!("Deployment of {fqdn} created.{paid}"),
        )
        .await;
        self.spawn_run(&id).await;
        Ok(Created {
            id: id.clone(),
            status: DeploymentStatus::Pending,
            stream_url: app::deployments::stream_url(&id),
        })
    }

    /// The checks that ask something outside the request: the pool subdomain is still free, and Hetzner
    /// accepts the token (read and write). Each failure is a field error beside the field the wizard shows.
    async fn live_checks(&self, body: &CreateDeployment) -> Result<(), AppError> {
        let mut errors = Vec::new();
        let d = &body.request.domain;
        if d.mode == DomainMode::Pool {
            let check = self
                .0
                .checks
                .subdomains
                .check(&d.pool_domain, &d.subdomain)
                .await?;
            if check.status != Availability::Available {
                errors.push(FieldError::new("domain.subdomain", check.detail));
            }
        }
        let token = self
            .0
            .checks
            .tokens
            .check_hetzner_token(&body.secrets.hetzner_token)
            .await;
        if !token.valid {
            errors.push(FieldError::new(
                "secrets.hetznerToken",
                format!("Hetzner did not accept the token: {}", token.message),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    /// The organisation a new deployment belongs to: the one named (which must exist), or else the caller's
    /// only organisation where they may create deployments (or the console's only organisation, for a
    /// platform role). Then the policy, once: `deployments.create` in that organisation.
    async fn org_for_create(&self, actor: &Actor, named: Option<&str>) -> Result<String, AppError> {
        let p = &actor.principal;
        let org_id = match named.map(str::trim).filter(|s| !s.is_empty()) {
            Some(id) => {
                let known = p.memberships.iter().any(|m| m.org_id == id)
                    || crate::db::orgs::by_id(&self.0.db, id)
                        .await
                        .map_err(Error::from)?
                        .is_some();
                if !known {
                    return Err(AppError::invalid(
                        "orgId",
                        "There is no such organisation; leave orgId out or use the id of one you belong to.",
                    ));
                }
                id.to_string()
            }
            None => {
                let mut candidates = policy::org_ids_allowing(p, Action::DeploymentCreate);
                if candidates.is_empty() && policy::allowed_everywhere(p, Action::DeploymentCreate) {
                    candidates = crate::db::orgs::list(&self.0.db)
                        .await
                        .map_err(Error::from)?
                        .into_iter()
                        .map(|o| o.id)
                        .collect();
                }
                match candidates.as_slice() {
                    [one] => one.clone(),
                    [] => return Err(AppError::Forbidden(Action::DeploymentCreate.name().into())),
                    _ => {
                        return Err(AppError::invalid(
                            "orgId",
                            "You can create deployments in several organisations; say which one with orgId.",
                        ));
                    }
                }
            }
        };
        policy::require(p, Action::DeploymentCreate, Some(&org_id))?;
        Ok(org_id)
    }
}

/// A limit as the caller reads it (429, `Retry-After`): which limit, its value, the option that sets it.
pub fn limit_error(reached: LimitReached) -> AppError {
    match reached {
        LimitReached::InFlight { max } => AppError::RateLimited {
            detail: format!(
                "Limit reached: deployments in flight per organisation ({max}, --max-deployments-in-flight). Wait until one of your organisation's deployments finishes, or cancel one, then launch again."
            ),
            retry_after_secs: 60,
        },
        LimitReached::PerDay { max, retry_after_ms } => {
            let secs = u64::try_from((retry_after_ms + 999) / 1000).unwrap_or(1).max(1);
            AppError::RateLimited {
                detail: format!(
                    "Limit reached: deployments created per organisation in 24 hours ({max}, --max-deployments-per-day). The next one can be created in {}.",
                    app::time::format_duration(retry_after_ms)
                ),
                retry_after_secs: secs,
            }
        }
    }
}

/// Why `fqdn` cannot be deployed: the deployment holding it is named only to its own organisation, so a
/// tenant learns neither the id nor the state of another organisation's Sovereign (issue 18.8).
fn fqdn_conflict(fqdn: &str, existing: &DeploymentRow, org_id: &str) -> AppError {
    if existing.org_id != org_id {
        return AppError::Conflict(format!(
            "{fqdn} is in use by another organisation; choose another domain."
        ));
    }
    if existing.deleted_at.is_some() {
        return AppError::Conflict(format!(
            "{fqdn} is still held by a deployment whose record was deleted before its infrastructure was wiped; a platform superadmin can wipe it or release the domain."
        ));
    }
    AppError::Conflict(format!(
        "{fqdn} already has a deployment ({}, {}). Retry or wipe that one, or choose another domain.",
        existing.id,
        existing.status().label().to_lowercase()
    ))
}
