//! The engine's interface as the app sees it. Server functions call these traits; the `server` crate
//! implements them and provides each as `Arc<dyn …>` through Leptos context, so `app` never depends on
//! the engine (no crate cycle) and the engine never depends on Leptos.

use std::sync::Arc;

use async_trait::async_trait;
use leptos::prelude::use_context;

use crate::audit::AuditEntry;
use crate::auth::{
    ApiTokenInfo, AuthInfo, InviteOutcome, InvitePreview, NewApiToken, OrgRole, Organisation, PlatformRole,
    Principal, RequestMeta, SsoLinkPreview, UsersView,
};
use crate::billing::{BillingOverview, CreditQuote, Redemption};
use crate::catalog::Catalog;
use crate::deployments::{
    Actor, CreateDeployment, Created, Deployment, EventPage, ListQuery, RetryRequest, WipeRequest,
};
use crate::error::AppError;
use crate::paging::{Page, PageRequest};
use crate::system::StatusReport;
use crate::vouchers::{IssuedVoucher, NewVoucher, RedeemPreview, Voucher, VoucherDetail, VoucherQuery};

#[async_trait]
pub trait SystemPort: Send + Sync + 'static {
    async fn status(&self) -> Result<StatusReport, AppError>;
}

/// The provisioning engine: deployments, their events and their lifecycle. The REST API and the server
/// functions both go through this one implementation.
#[async_trait]
pub trait DeploymentsPort: Send + Sync + 'static {
    /// Validates, stores (secrets encrypted), and starts the run. `Invalid` names every bad field.
    async fn create(&self, actor: &Actor, body: CreateDeployment) -> Result<Created, AppError>;
    async fn get(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError>;
    /// One keyset page of the deployments the caller may see.
    async fn list(
        &self,
        actor: &Actor,
        query: ListQuery,
    ) -> Result<crate::deployments::DeploymentList, AppError>;
    /// Per-status counts of what `list` would show for the query's search (the status filter left out).
    async fn status_counts(
        &self,
        actor: &Actor,
        query: ListQuery,
    ) -> Result<Vec<crate::deployments::StatusCount>, AppError>;
    /// Events with `seq > after`, oldest first.
    async fn events(
        &self,
        actor: &Actor,
        id: &str,
        after: i64,
        limit: Option<i64>,
    ) -> Result<EventPage, AppError>;
    /// Re-runs a failed phase (Phase 0 from `tofu init` with the stored secrets).
    async fn retry(&self, actor: &Actor, id: &str, body: RetryRequest) -> Result<Deployment, AppError>;
    /// Stops the run in flight (kills OpenTofu's process group) and records the deployment as failed.
    async fn cancel(&self, actor: &Actor, id: &str) -> Result<Deployment, AppError>;
    /// Removes the record only; refused while work is in flight.
    async fn delete(&self, actor: &Actor, id: &str) -> Result<(), AppError>;
    /// `tofu destroy`, then a sweep of left-overs, then a teardown report.
    async fn wipe(&self, actor: &Actor, id: &str, body: WipeRequest) -> Result<Deployment, AppError>;
    /// The run's jobs (the flow canvas), for whoever may read the deployment's events.
    async fn jobs(&self, actor: &Actor, id: &str) -> Result<Vec<crate::flow::Job>, AppError>;
    /// One job with the last lines of its latest execution, for the same readers.
    async fn job_log(&self, actor: &Actor, id: &str, job: &str) -> Result<crate::flow::JobLog, AppError>;
}

/// The validated component catalog and its dependency engine.
pub trait CatalogPort: Send + Sync + 'static {
    fn catalog(&self) -> Arc<Catalog>;
}

/// A new account from the sign-up page.
#[derive(Debug, Clone)]
pub struct SignupInput {
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// The invitation link's secret; required when sign-up is invite-only.
    pub invite: Option<String>,
    /// A voucher code from the redeem page: it counts as the invitation, and is redeemed for the new
    /// account's organisation.
    pub voucher: Option<String>,
}

/// The first account, from the setup page.
#[derive(Debug, Clone)]
pub struct SetupInput {
    /// The setup token printed in the server log.
    pub token: String,
    pub email: String,
    pub password: String,
    pub display_name: String,
    /// The first organisation's name (default "Default").
    pub org_name: String,
}

// ---- accounts and access, one port per use case ---------------------------------------------------------
//
// Every method that acts for a caller takes their [`Principal`] and checks the policy itself. Methods that
// start or end a session return the `Set-Cookie` header value to send. The server implements all five on one
// service (`server::auth`), in one file per port.

/// Signing in and out, sign-up, first run and one's own password: what starts or ends a session.
#[async_trait]
pub trait SessionsPort: Send + Sync + 'static {
    /// What the public pages need to know: sign-up policy, single sign-on, first run.
    async fn info(&self) -> Result<AuthInfo, AppError>;
    async fn login(&self, email: &str, password: &str, meta: &RequestMeta) -> Result<String, AppError>;
    async fn logout(&self, me: &Principal, meta: &RequestMeta) -> Result<String, AppError>;
    async fn signup(&self, input: SignupInput, meta: &RequestMeta) -> Result<String, AppError>;
    async fn setup(&self, input: SetupInput, meta: &RequestMeta) -> Result<String, AppError>;
    /// Changes the caller's own password; every other session of theirs ends.
    async fn change_password(
        &self,
        me: &Principal,
        current: &str,
        new: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError>;
}

/// Single sign-on identities that must prove an existing account before they are linked to it (the callback
/// itself is a plain route of the server's, not a server function).
#[async_trait]
pub trait SingleSignOnPort: Send + Sync + 'static {
    /// The pending link a browser's link cookie stands for, if it is still open.
    async fn link_preview(&self, link_secret: &str) -> Result<Option<SsoLinkPreview>, AppError>;
    /// Links the identity to its account if `password` is that account's, and starts a session. Returns the
    /// `Set-Cookie` values to send and the console page to go to.
    async fn link(
        &self,
        link_secret: &str,
        password: &str,
        meta: &RequestMeta,
    ) -> Result<(Vec<String>, String), AppError>;
}

/// Accounts and invitations: the users page, inviting people to an organisation, disabling accounts.
#[async_trait]
pub trait AccountsPort: Send + Sync + 'static {
    /// The accounts, organisations and open invitations the caller may manage.
    async fn users(&self, me: &Principal) -> Result<UsersView, AppError>;
    async fn invite(
        &self,
        me: &Principal,
        email: &str,
        org_id: &str,
        role: OrgRole,
        meta: &RequestMeta,
    ) -> Result<InviteOutcome, AppError>;
    /// What an invitation link offers (anyone holding the link may ask).
    async fn invite_preview(&self, token: &str) -> Result<InvitePreview, AppError>;
    /// The signed-in caller accepts an invitation made out to their e-mail address and joins its
    /// organisation with its role.
    async fn accept_invitation(
        &self,
        me: &Principal,
        token: &str,
        meta: &RequestMeta,
    ) -> Result<(), AppError>;
    async fn revoke_invitation(&self, me: &Principal, id: &str, meta: &RequestMeta) -> Result<(), AppError>;
    async fn set_disabled(
        &self,
        me: &Principal,
        user_id: &str,
        disabled: bool,
        meta: &RequestMeta,
    ) -> Result<(), AppError>;
}

/// Organisations and the roles people hold in them and on the platform.
#[async_trait]
pub trait OrganisationsPort: Send + Sync + 'static {
    async fn create_org(
        &self,
        me: &Principal,
        name: &str,
        meta: &RequestMeta,
    ) -> Result<Organisation, AppError>;
    /// Sets a member's role in an organisation; `None` removes them from it.
    async fn set_member_role(
        &self,
        me: &Principal,
        user_id: &str,
        org_id: &str,
        role: Option<OrgRole>,
        meta: &RequestMeta,
    ) -> Result<(), AppError>;
    async fn set_platform_role(
        &self,
        me: &Principal,
        user_id: &str,
        role: Option<PlatformRole>,
        meta: &RequestMeta,
    ) -> Result<(), AppError>;
}

/// The caller's own API tokens.
#[async_trait]
pub trait ApiTokensPort: Send + Sync + 'static {
    async fn tokens(&self, me: &Principal) -> Result<Vec<ApiTokenInfo>, AppError>;
    /// Creates a token; its secret is in the answer and nowhere else, ever.
    async fn create_token(
        &self,
        me: &Principal,
        name: &str,
        expires_in_days: Option<u32>,
        meta: &RequestMeta,
    ) -> Result<NewApiToken, AppError>;
    async fn revoke_token(&self, me: &Principal, id: &str, meta: &RequestMeta) -> Result<(), AppError>;
}

/// The security and administration audit log.
#[async_trait]
pub trait AuditPort: Send + Sync + 'static {
    /// One page, newest first, optionally one category (`auth`, `users`, `orgs`, `tokens`, `settings`).
    async fn audit(
        &self,
        me: &Principal,
        category: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AppError>;
}

/// Vouchers: issuing and administering them (superadmins and sovereign admins, `vouchers.*`), and the public
/// preview of a code. Codes are case-insensitive everywhere.
#[async_trait]
pub trait VouchersPort: Send + Sync + 'static {
    /// Issues a voucher; with a recipient, queues the voucher e-mail (a failure to queue never fails this).
    async fn issue(
        &self,
        me: &Principal,
        input: NewVoucher,
        meta: &RequestMeta,
    ) -> Result<IssuedVoucher, AppError>;
    /// Newest first; revoked ones only when asked.
    async fn list(&self, me: &Principal, query: VoucherQuery) -> Result<Page<Voucher>, AppError>;
    /// One voucher (revoked ones too) with its redemptions and e-mails.
    async fn detail(&self, me: &Principal, code: &str) -> Result<VoucherDetail, AppError>;
    async fn set_active(
        &self,
        me: &Principal,
        code: &str,
        active: bool,
        meta: &RequestMeta,
    ) -> Result<Voucher, AppError>;
    /// Revokes for good; the redemption history stays.
    async fn revoke(&self, me: &Principal, code: &str, meta: &RequestMeta) -> Result<(), AppError>;
    /// Anyone: what a code gives. An ended voucher (off or used up) is `Ok` with
    /// `accepting_redemptions: false`; unknown and revoked codes alike are `NotFound`; an empty code is
    /// `BadRequest`. Rate-limited per client address.
    async fn preview(&self, code: &str, meta: &RequestMeta) -> Result<RedeemPreview, AppError>;
    /// Redeems a voucher for an organisation (`billing.redeem` there): order, redemption and ledger entry
    /// in one transaction. Refusals are `Invalid` on field `code`.
    async fn redeem(
        &self,
        me: &Principal,
        org_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Redemption, AppError>;
}

/// An organisation's credit: balance, ledger, orders, and what a launch costs against it.
#[async_trait]
pub trait BillingPort: Send + Sync + 'static {
    /// The billing page of `org_id` (default: the caller's first organisation they may read it of).
    async fn overview(&self, me: &Principal, org_id: Option<&str>) -> Result<BillingOverview, AppError>;
    /// A launch of `monthly_cents` against the organisation's credit.
    async fn quote(&self, me: &Principal, org_id: &str, monthly_cents: i64) -> Result<CreditQuote, AppError>;
}

/// Sign-up's use of vouchers: a voucher link is an invitation. The accounts service holds this (it cannot
/// depend on the vouchers capability), the vouchers capability implements it.
#[async_trait]
pub trait SignupVouchers: Send + Sync + 'static {
    /// The voucher behind a sign-up link, if it accepts redemptions; otherwise `Invalid` on field `voucher`
    /// saying why (not valid, or ended).
    async fn check(&self, code: &str) -> Result<RedeemPreview, AppError>;
    /// Redeems the voucher for the organisation the new account just got.
    async fn redeem_for_new_account(
        &self,
        user_id: &str,
        user_email: &str,
        org_id: &str,
        code: &str,
        meta: &RequestMeta,
    ) -> Result<Redemption, AppError>;
}

pub fn vouchers() -> Result<Arc<dyn VouchersPort>, AppError> {
    port::<dyn VouchersPort>("VouchersPort")
}

pub fn billing() -> Result<Arc<dyn BillingPort>, AppError> {
    port::<dyn BillingPort>("BillingPort")
}

fn port<T: ?Sized + Send + Sync + 'static>(name: &str) -> Result<Arc<T>, AppError> {
    use_context::<Arc<T>>().ok_or_else(|| {
        leptos::logging::error!("port {name} was not provided to the Leptos context");
        AppError::Internal("The console is misconfigured; see the server log.".into())
    })
}

pub fn system() -> Result<Arc<dyn SystemPort>, AppError> {
    port::<dyn SystemPort>("SystemPort")
}

/// The wizard's server side: drafts per user (never secrets), console facts, the organisations a user may
/// design a Sovereign for, SSH key generation.
#[async_trait]
pub trait WizardPort: Send + Sync + 'static {
    /// Pool domains and nameservers (the default component selection comes from the catalog).
    fn config(&self) -> crate::wizard::WizardConfig;
    /// The organisations `me` may create deployments in (`Action::DeploymentCreate`), by name: every
    /// organisation for a superadmin, else those where they are an editor or above.
    async fn organisations(&self, me: &Principal) -> Result<Vec<crate::wizard::OrgChoice>, AppError>;
    async fn load_draft(&self, user_id: &str) -> Result<Option<crate::wizard::WizardDraft>, AppError>;
    /// Saves the user's draft; it belongs to `draft.org_id`, which the caller has checked.
    async fn save_draft(&self, user_id: &str, draft: &crate::wizard::WizardDraft) -> Result<(), AppError>;
    async fn delete_draft(&self, user_id: &str) -> Result<(), AppError>;
    /// A fresh Ed25519 pair; the private key is returned once and kept nowhere.
    async fn generate_ssh_key(&self, comment: &str) -> Result<crate::wizard::GeneratedKey, AppError>;
}

/// Whether `<subdomain>.<pool>` can be given to a new Sovereign. Swappable: today format, reserved names,
/// configured pools and existing deployments; later the PowerDNS pool manager.
#[async_trait]
pub trait SubdomainCheckPort: Send + Sync + 'static {
    async fn check(
        &self,
        pool_domain: &str,
        subdomain: &str,
    ) -> Result<crate::wizard::SubdomainCheck, AppError>;
}

/// Asks the cloud whether a token works. Never logs or returns the token.
#[async_trait]
pub trait CloudCredentialsPort: Send + Sync + 'static {
    async fn check_hetzner_token(&self, token: &crate::deployments::Secret) -> crate::wizard::TokenCheck;
}

/// The pre-flight of a launch (`server::preflight`): every check against Hetzner and Catalyst itself, the
/// capacity fit and the cost estimate; and what the Provider step needs to show fit and cost live.
#[async_trait]
pub trait PreflightPort: Send + Sync + 'static {
    /// Runs every check for `create` (its token is used for these calls only). Problems with the request
    /// are in the report, not errors: errors are for a pre-flight that could not run at all.
    async fn run(
        &self,
        create: &crate::deployments::CreateDeployment,
    ) -> Result<crate::preflight::PreflightReport, AppError>;
    /// Every component's footprint and the last known prices (no token needed).
    async fn sizing(&self) -> Result<crate::preflight::SizingData, AppError>;
}

pub fn preflight() -> Result<Arc<dyn PreflightPort>, AppError> {
    port::<dyn PreflightPort>("PreflightPort")
}

pub fn wizard() -> Result<Arc<dyn WizardPort>, AppError> {
    port::<dyn WizardPort>("WizardPort")
}

pub fn subdomain_check() -> Result<Arc<dyn SubdomainCheckPort>, AppError> {
    port::<dyn SubdomainCheckPort>("SubdomainCheckPort")
}

pub fn cloud_credentials() -> Result<Arc<dyn CloudCredentialsPort>, AppError> {
    port::<dyn CloudCredentialsPort>("CloudCredentialsPort")
}

pub fn deployments() -> Result<Arc<dyn DeploymentsPort>, AppError> {
    port::<dyn DeploymentsPort>("DeploymentsPort")
}

pub fn catalog() -> Result<Arc<dyn CatalogPort>, AppError> {
    port::<dyn CatalogPort>("CatalogPort")
}

pub fn sessions() -> Result<Arc<dyn SessionsPort>, AppError> {
    port::<dyn SessionsPort>("SessionsPort")
}

pub fn single_sign_on() -> Result<Arc<dyn SingleSignOnPort>, AppError> {
    port::<dyn SingleSignOnPort>("SingleSignOnPort")
}

pub fn accounts() -> Result<Arc<dyn AccountsPort>, AppError> {
    port::<dyn AccountsPort>("AccountsPort")
}

pub fn organisations() -> Result<Arc<dyn OrganisationsPort>, AppError> {
    port::<dyn OrganisationsPort>("OrganisationsPort")
}

pub fn api_tokens() -> Result<Arc<dyn ApiTokensPort>, AppError> {
    port::<dyn ApiTokensPort>("ApiTokensPort")
}

pub fn audit_log() -> Result<Arc<dyn AuditPort>, AppError> {
    port::<dyn AuditPort>("AuditPort")
}
