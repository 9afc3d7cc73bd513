//! `WizardState`: the one state of a wizard run, provided by context to every step. It holds the draft
//! (saved on the server as the user types), the secrets (browser memory only), and the field errors — the
//! live ones from the shared validation and the ones a server answer brought back.

use std::sync::Arc;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api::save_draft;
use super::browser;
use super::types::{
    Availability, OrgChoice, SubdomainCheck, TokenCheck, WizardBootstrap, WizardConfig, WizardDraft,
};
use crate::catalog::Catalog;
use crate::deployments::fields::owner_org;
use crate::error::{AppError, FieldError};
use crate::routes;
use crate::wizard::step::{Step, org_step};

/// Secrets of this run. Never saved: not in the draft, the database or browser storage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Secrets {
    pub hetzner_token: String,
    /// The answer for the token as it is now (cleared when the token is edited).
    pub token_check: Option<TokenCheck>,
    /// The generated private key, offered once as a download.
    pub private_key: Option<String>,
    pub private_key_downloaded: bool,
}

/// The subdomain availability shown beside the input.
#[derive(Debug, Clone, PartialEq)]
pub enum SubdomainState {
    Idle,
    Checking,
    /// Decided in the browser without asking (format, reserved names).
    Local(Availability, String),
    Answer(SubdomainCheck),
    /// The check itself failed (network, server).
    Failed(String),
}

impl SubdomainState {
    pub fn availability(&self) -> Option<Availability> {
        match self {
            SubdomainState::Local(a, _) => Some(*a),
            SubdomainState::Answer(c) => Some(c.status),
            SubdomainState::Failed(_) => Some(Availability::CheckFailed),
            _ => None,
        }
    }
}

/// The Review step's pre-flight of the request as it was when the step opened.
#[derive(Debug, Clone, PartialEq)]
pub enum PreflightState {
    Idle,
    Running,
    Done(crate::preflight::PreflightReport),
    /// The pre-flight could not run (network, permission).
    Failed(String),
}

/// What only steps 2–7 need: their rules as the browser runs them (`later::step_errors`), Launch
/// (`later::launch`), and the region cards' pre-selection from the headquarters
/// ([`WizardDraft::refresh_regions`]). They are code of the `wizard_steps` module, which puts them here when it
/// shows a step, so step 1's module carries neither the other steps' rules nor the catalog's engine nor the
/// create call, nor the providers' region and size tables. (The server refreshes the cards of the draft it
/// hands out, and the module refreshes them when it is installed, so cards left untouched always follow the
/// headquarters the user typed on step 1.)
#[derive(Clone, Copy)]
pub struct LaterSteps {
    pub errors: fn(&WizardState, Step) -> Vec<FieldError>,
    pub launch: fn(&WizardState),
    pub refresh_regions: fn(&mut WizardDraft),
}

#[derive(Clone, Copy)]
pub struct WizardState {
    pub draft: RwSignal<WizardDraft>,
    pub config: StoredValue<WizardConfig>,
    /// The organisations the draft may belong to (the server's list for this user).
    pub orgs: StoredValue<Vec<OrgChoice>>,
    /// The component catalog, once a step that needs it (Components, Review) has loaded it.
    pub catalog: StoredValue<Option<Arc<Catalog>>>,
    /// Footprints and prices, once the Provider or Review step has loaded them ([`super::sizing`]).
    pub sizing: StoredValue<Option<Arc<crate::preflight::SizingData>>>,
    pub secrets: RwSignal<Secrets>,
    /// Messages the server sent back, by field; cleared as the field is edited.
    pub server_errors: RwSignal<Vec<FieldError>>,
    /// Fields the user has edited: their live errors show as they type.
    pub touched: RwSignal<Vec<String>>,
    /// Continue was pressed on this step: every live error of the step shows.
    pub attempted: RwSignal<Option<Step>>,
    /// A save or launch is under way.
    pub busy: RwSignal<bool>,
    /// A problem that belongs to no field (network, engine unavailable).
    pub notice: RwSignal<Option<String>>,
    pub subdomain: RwSignal<SubdomainState>,
    /// Whether the last autosave reached the server.
    pub saved: RwSignal<Option<bool>>,
    /// Steps 2–7's rules and Launch, once their module has shown a step ([`LaterSteps`]).
    pub later: StoredValue<Option<LaterSteps>>,
    /// The Review step's pre-flight; Launch is enabled only once it passed ([`WizardState::may_launch`]).
    pub preflight: RwSignal<PreflightState>,
    /// Ids of the pre-flight warnings the person acknowledged.
    pub acknowledged: RwSignal<Vec<String>>,
    /// Why the organisation's credit does not pay this launch (the Review step's credit check); Launch stays
    /// disabled while it is set, as the server would refuse it with 409.
    pub credit_short: RwSignal<Option<String>>,
    autosave: StoredValue<Option<TimeoutHandle>>,
    /// A save of the draft is on its way: the next one waits for it, so the server never stores an older
    /// draft after a newer one (two requests in flight may be answered in either order).
    saving: StoredValue<bool>,
    /// Edits arrived while a save was on its way: save again once it is back.
    resave: StoredValue<bool>,
    /// Continue was pressed while a save was on its way: continue once it is back.
    continue_after_save: StoredValue<Option<Step>>,
    /// Client-side navigation (keeps the in-memory secrets).
    navigate: Callback<String>,
}

impl WizardState {
    pub fn new(boot: WizardBootstrap) -> Self {
        // A step posted as a plain form (no JavaScript) comes back with its errors in the URL
        // (`?e=<field>:<message>`, see `form::errors_query`): they show beside their fields, with every live
        // error of that step.
        let (notice, posted): (Vec<FieldError>, Vec<FieldError>) = leptos_router::hooks::use_query_map()
            .with_untracked(|q| {
                q.get_all("e")
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|e| e.split_once(':').map(|(f, m)| FieldError::new(f, m)))
                    .partition(|e| e.field == "form")
            });
        let attempted = posted.first().map(|e| Step::of_field(&e.field));
        Self {
            // The server refreshed its region cards (`api::get_wizard`).
            draft: RwSignal::new(boot.draft),
            config: StoredValue::new(boot.config),
            orgs: StoredValue::new(boot.orgs),
            catalog: StoredValue::new(None),
            sizing: StoredValue::new(None),
            secrets: RwSignal::new(Secrets::default()),
            server_errors: RwSignal::new(posted),
            touched: RwSignal::new(Vec::new()),
            attempted: RwSignal::new(attempted),
            busy: RwSignal::new(false),
            notice: RwSignal::new(notice.into_iter().next().map(|e| e.message)),
            subdomain: RwSignal::new(SubdomainState::Idle),
            saved: RwSignal::new(None),
            later: StoredValue::new(None),
            preflight: RwSignal::new(PreflightState::Idle),
            acknowledged: RwSignal::new(Vec::new()),
            credit_short: RwSignal::new(None),
            autosave: StoredValue::new(None),
            saving: StoredValue::new(false),
            resave: StoredValue::new(false),
            continue_after_save: StoredValue::new(None),
            navigate: {
                let nav = leptos_router::hooks::use_navigate();
                // Full paths: the router must not prefix its base again.
                Callback::new(move |url: String| {
                    nav(
                        &url,
                        leptos_router::NavigateOptions {
                            resolve: false,
                            ..Default::default()
                        },
                    )
                })
            },
        }
    }

    /// Launch may go ahead: the pre-flight of this request passed, every warning was acknowledged, and the
    /// organisation's credit (if it pays by credit) covers the first month.
    pub fn may_launch(&self) -> bool {
        if self.credit_short.with(Option::is_some) {
            return false;
        }
        self.preflight.with(|p| match p {
            PreflightState::Done(r) => self.acknowledged.with(|a| r.refusal(a).is_empty()),
            _ => false,
        })
    }

    pub fn ctx(&self) -> crate::deployments::validate::ValidationContext {
        self.config.with_value(|c| c.validation.clone())
    }

    /// The errors of a step as the browser sees them: the shared rules, plus the checks that need this
    /// session (the organisation is one of the user's; on later steps, the token was checked with Hetzner
    /// and the subdomain was found free). Steps 2–7 are asked of their own module ([`LaterSteps`]); a step
    /// is only ever shown, and continued from, once that module is here.
    pub fn step_errors(&self, step: Step) -> Vec<FieldError> {
        match step {
            Step::Org => {
                let mut errors = self.draft.with(|d| org_step(&d.request));
                let allowed: Vec<String> = self.orgs.with_value(|o| o.iter().map(|o| o.id.clone()).collect());
                if let Some(m) = self.draft.with(|d| owner_org(&d.org_id, &allowed)) {
                    errors.insert(0, FieldError::new("orgId", m));
                }
                errors
            }
            later => self
                .later
                .get_value()
                .map(|rules| (rules.errors)(self, later))
                .unwrap_or_default(),
        }
    }

    /// The message to show beside `field`, if any (reactive).
    pub fn error(&self, field: &str) -> Option<String> {
        if let Some(e) = self
            .server_errors
            .with(|errs| errs.iter().find(|e| e.field == field).cloned())
        {
            return Some(e.message);
        }
        let step = Step::of_field(field);
        let shown = self.attempted.get() == Some(step) || self.touched.with(|t| t.iter().any(|f| f == field));
        if !shown {
            return None;
        }
        self.step_errors(step)
            .into_iter()
            .find(|e| e.field == field)
            .map(|e| e.message)
    }

    /// Applies an edit of `field`: marks it touched, drops the server's old message for it, and schedules
    /// a save of the draft.
    pub fn edit(&self, field: &str, f: impl FnOnce(&mut WizardDraft)) {
        self.touch(field);
        self.draft.update(f);
        self.schedule_save();
    }

    pub fn touch(&self, field: &str) {
        if !self.touched.with_untracked(|t| t.iter().any(|x| x == field)) {
            self.touched.update(|t| t.push(field.to_string()));
        }
        if self
            .server_errors
            .with_untracked(|e| e.iter().any(|x| x.field == field))
        {
            self.server_errors.update(|e| e.retain(|x| x.field != field));
        }
    }

    /// Saves the draft 600 ms after the last edit (no validation; nothing is confirmed).
    fn schedule_save(&self) {
        if let Some(h) = self.autosave.get_value() {
            h.clear();
        }
        let this = *self;
        let handle = set_timeout_with_handle(move || this.save_now(), Duration::from_millis(600)).ok();
        self.autosave.set_value(handle);
    }

    /// Sends the draft as it is now, one save at a time: while one is on its way, the next waits for it and
    /// then sends the draft as it is then (the newest).
    fn save_now(&self) {
        if self.saving.get_value() {
            self.resave.set_value(true);
            return;
        }
        self.saving.set_value(true);
        let this = *self;
        let draft = self.draft.get_untracked();
        spawn_local(async move {
            let ok = save_draft(draft, None).await.is_ok();
            this.saving.set_value(false);
            if std::mem::take(&mut *this.resave.write_value()) {
                this.save_now();
            } else {
                this.saved.set(Some(ok));
            }
            if let Some(step) = this.continue_after_save.write_value().take() {
                this.continue_from(step);
            }
        });
    }

    /// Continue: check the step here, then have the server check and confirm it, then go on.
    pub fn continue_from(&self, step: Step) {
        if self.busy.get_untracked() {
            return;
        }
        self.attempted.set(Some(step));
        self.notice.set(None);
        if step == Step::Review {
            match self.later.get_value() {
                Some(rules) => (rules.launch)(self),
                // The Review step installs Launch before it renders, so this is a click that beat it.
                None => self.notice.set(Some(
                    "The Review step is still loading; press Launch again in a moment.".into(),
                )),
            }
            return;
        }
        let errors = self.step_errors(step);
        if let Some(first) = errors.first() {
            browser::focus_field(&first.field);
            return;
        }
        if let Some(h) = self.autosave.get_value() {
            h.clear();
        }
        if self.saving.get_value() {
            // The confirmation must not overtake that save (which would store an older draft after it).
            self.continue_after_save.set_value(Some(step));
            return;
        }
        let this = *self;
        let draft = self.draft.get_untracked();
        self.busy.set(true);
        self.saving.set_value(true);
        spawn_local(async move {
            let result = save_draft(draft, Some(step)).await;
            this.busy.set(false);
            this.saving.set_value(false);
            if std::mem::take(&mut *this.resave.write_value()) {
                this.save_now();
            }
            match result {
                Ok(saved) => {
                    this.draft.update(|d| d.completed = saved.completed);
                    this.attempted.set(None);
                    if let Some(next) = step.next() {
                        this.go(&step_url(next));
                    }
                }
                Err(e) => this.show_server_error(e, step),
            }
        });
    }

    /// A rejected call: field messages go beside their fields, on the step they belong to.
    pub fn show_server_error(&self, e: AppError, current: Step) {
        match e {
            AppError::Invalid(fields) if !fields.is_empty() => {
                let target = fields
                    .iter()
                    .map(|f| Step::of_field(&f.field))
                    .min()
                    .unwrap_or(current);
                let first = fields
                    .iter()
                    .find(|f| Step::of_field(&f.field) == target)
                    .map(|f| f.field.clone())
                    .unwrap_or_default();
                self.server_errors.set(fields);
                self.attempted.set(Some(target));
                if target != current {
                    self.go(&step_url(target));
                }
                browser::focus_field_later(&first);
            }
            other => self.notice.set(Some(other.to_string())),
        }
    }

    pub fn go(&self, url: &str) {
        self.navigate.run(url.to_string());
    }
}

pub fn use_wizard() -> WizardState {
    expect_context::<WizardState>()
}

pub fn step_url(step: Step) -> String {
    routes::page(&format!("wizard/{}", step.slug()))
}
