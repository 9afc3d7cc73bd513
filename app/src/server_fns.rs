//! The request encoding every server function decodes, by path (server side). server_fn decodes a body
//! with the function's own codec whatever its `Content-Type` says — a form body labelled JSON signs in all
//! the same — so the server refuses a call whose `Content-Type` is not the function's
//! (`server::http::inputs`). A server function missing here fails `server/tests/it/hostile.rs`.

use leptos::server_fn::{ContentType, Http, ServerFn};

/// The input half of a server function's protocol.
trait InputOf {
    const CONTENT_TYPE: &'static str;
}

impl<I: ContentType, O> InputOf for Http<I, O> {
    const CONTENT_TYPE: &'static str = I::CONTENT_TYPE;
}

macro_rules! inputs {
    ($($f:ty),* $(,)?) => {
        &[$((<$f as ServerFn>::PATH, <<$f as ServerFn>::Protocol as InputOf>::CONTENT_TYPE)),*]
    };
}

/// (path, the `Content-Type` its body must have) of every server function.
pub const INPUT_CONTENT_TYPES: &[(&str, &str)] = inputs![
    crate::auth::api::AuthInfoFn,
    crate::auth::api::CurrentUser,
    crate::auth::api::Login,
    crate::auth::api::Logout,
    crate::auth::api::SsoLinkPreviewFn,
    crate::auth::api::LinkSso,
    crate::auth::api::Signup,
    crate::auth::api::Setup,
    crate::auth::api::PreviewInvite,
    crate::auth::api::AcceptInvitation,
    crate::auth::api::ChangePassword,
    crate::auth::api::ListUsers,
    crate::auth::api::InviteUser,
    crate::auth::api::RevokeInvitation,
    crate::auth::api::SetMemberRole,
    crate::auth::api::SetPlatformRole,
    crate::auth::api::SetUserDisabled,
    crate::auth::api::CreateOrg,
    crate::auth::api::ListTokens,
    crate::auth::api::CreateToken,
    crate::auth::api::TakeCreatedToken,
    crate::auth::api::TakeInviteResult,
    crate::auth::api::RevokeToken,
    crate::auth::api::AuditPage,
    crate::catalog::api::GetCatalog,
    crate::deployments::api::GetDeployment,
    crate::deployments::api::ListDeployments,
    crate::deployments::api::DeploymentStatusCounts,
    crate::deployments::api::RetryDeployment,
    crate::deployments::api::CancelDeployment,
    crate::deployments::api::LoadDeployment,
    crate::flow::api::LoadFlow,
    crate::flow::api::ListJobs,
    crate::flow::api::JobTail,
    crate::flow::api::LoadJob,
    crate::system::api::CheckSystem,
    crate::theme::SetTheme,
    crate::wizard::api::GetWizard,
    crate::wizard::api::SaveDraft,
    crate::wizard::api::DiscardDraft,
    crate::wizard::api::CheckHetznerToken,
    crate::wizard::api::GenerateSshKey,
    crate::wizard::api::CheckSubdomain,
    crate::wizard::api::Launch,
    crate::preflight::api::RunPreflight,
    crate::preflight::api::Sizing,
    crate::vouchers::api::RedeemStateFn,
    crate::vouchers::api::ListVouchers,
    crate::vouchers::api::VoucherDetailFn,
    crate::vouchers::api::IssueVoucher,
    crate::vouchers::api::SetVoucherActive,
    crate::vouchers::api::RevokeVoucher,
    crate::billing::api::BillingOverviewFn,
    crate::billing::api::RedeemVoucher,
    crate::billing::api::CreditQuoteFn,
];

/// The `Content-Type` the server function at `path` decodes, if there is one there.
pub fn input_content_type(path: &str) -> Option<&'static str> {
    INPUT_CONTENT_TYPES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, ct)| *ct)
}
