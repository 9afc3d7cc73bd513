//! Wire types of accounts, organisations, roles and sessions. Shared by the server (which builds them from
//! the database) and the browser (which renders them); no secrets ever travel in these.

use serde::{Deserialize, Serialize};

use crate::time::Millis;

/// A role over the whole console, independent of organisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatformRole {
    /// Everything, including console settings and every organisation's deployments.
    Superadmin,
    /// Operates the console for its organisations: manages organisations, reads every deployment and the
    /// audit log; changes nothing on infrastructure of organisations it is not a member of.
    SovereignAdmin,
}

impl PlatformRole {
    pub const ALL: [PlatformRole; 2] = [PlatformRole::Superadmin, PlatformRole::SovereignAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            PlatformRole::Superadmin => "superadmin",
            PlatformRole::SovereignAdmin => "sovereign-admin",
        }
    }

    pub fn parse(s: &str) -> Option<PlatformRole> {
        PlatformRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            PlatformRole::Superadmin => "Superadmin",
            PlatformRole::SovereignAdmin => "Sovereign admin",
        }
    }
}

/// A role inside one organisation. Ordered: each role can do everything the roles after it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgRole {
    Owner,
    Admin,
    Editor,
    Viewer,
}

impl OrgRole {
    pub const ALL: [OrgRole; 4] = [OrgRole::Owner, OrgRole::Admin, OrgRole::Editor, OrgRole::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            OrgRole::Owner => "owner",
            OrgRole::Admin => "admin",
            OrgRole::Editor => "editor",
            OrgRole::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<OrgRole> {
        OrgRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            OrgRole::Owner => "Owner",
            OrgRole::Admin => "Admin",
            OrgRole::Editor => "Editor",
            OrgRole::Viewer => "Viewer",
        }
    }

    /// 4 for owner down to 1 for viewer.
    pub fn rank(self) -> u8 {
        match self {
            OrgRole::Owner => 4,
            OrgRole::Admin => 3,
            OrgRole::Editor => 2,
            OrgRole::Viewer => 1,
        }
    }

    /// Whether this role includes everything `other` may do.
    pub fn at_least(self, other: OrgRole) -> bool {
        self.rank() >= other.rank()
    }
}

/// An organisation: deployments belong to one, people are members with an [`OrgRole`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: String,
    /// URL-safe short name, unique: `acme`.
    pub slug: String,
    pub name: String,
    #[serde(rename = "createdAt")]
    pub created_at: Millis,
}

/// The caller's role in one organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    #[serde(rename = "orgId")]
    pub org_id: String,
    #[serde(rename = "orgSlug")]
    pub org_slug: String,
    #[serde(rename = "orgName")]
    pub org_name: String,
    pub role: OrgRole,
}

/// How the caller proved who they are on this request.
/// Externally tagged (serde's default), not `tag = "kind"`: it crosses to the browser in postcard
/// (`crate::wire`), which cannot decode internally tagged enums.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Credential {
    /// A browser session (cookie). The id is the session's public id, never its secret.
    Session { id: String },
    /// An API token (`Authorization: Bearer`).
    Token { id: String },
}

/// The signed-in caller of a request, resolved once per request by the server's middleware.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    #[serde(rename = "userId")]
    pub user_id: String,
    pub email: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "platformRole")]
    pub platform_role: Option<PlatformRole>,
    pub memberships: Vec<Membership>,
    pub credential: Credential,
    /// Whether the account has a local password (OIDC-only accounts do not).
    #[serde(rename = "hasPassword")]
    pub has_password: bool,
}

impl Principal {
    pub fn is_superadmin(&self) -> bool {
        self.platform_role == Some(PlatformRole::Superadmin)
    }

    /// The caller's role in an organisation, by id.
    pub fn org_role(&self, org_id: &str) -> Option<OrgRole> {
        self.memberships
            .iter()
            .find(|m| m.org_id == org_id)
            .map(|m| m.role)
    }

    /// The label people see: the display name, or the e-mail.
    pub fn label(&self) -> &str {
        if self.display_name.is_empty() {
            &self.email
        } else {
            &self.display_name
        }
    }
}

/// Facts about the request that security events record: where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestMeta {
    /// Client address as the console sees it (after `--trust-forwarded-for`).
    pub ip: String,
    #[serde(rename = "userAgent")]
    pub user_agent: String,
    #[serde(rename = "requestId")]
    pub request_id: String,
}

/// Whether strangers may create accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignupPolicy {
    /// Anyone may sign up; they get an organisation of their own.
    Open,
    /// Only people with an invitation link may create an account.
    #[default]
    InviteOnly,
}

impl SignupPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            SignupPolicy::Open => "open",
            SignupPolicy::InviteOnly => "invite-only",
        }
    }
}

/// What the public pages (login, sign-up, setup) need to know about this console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthInfo {
    pub signup: SignupPolicy,
    /// The label of the single sign-on button, when OIDC is configured.
    #[serde(rename = "oidcLabel")]
    pub oidc_label: Option<String>,
    /// True until the first account exists.
    #[serde(rename = "needsSetup")]
    pub needs_setup: bool,
}

/// The signed-in user as the page frame shows them, with what the navigation may offer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub principal: Principal,
    /// May open the users page (superadmin, or owner/admin of some organisation).
    #[serde(rename = "canManageUsers")]
    pub can_manage_users: bool,
    #[serde(rename = "canReadAudit")]
    pub can_read_audit: bool,
}

/// One account as the users page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: String,
    pub email: String,
    #[serde(rename = "displayName")]
    pub display_name: String,
    #[serde(rename = "platformRole")]
    pub platform_role: Option<PlatformRole>,
    pub memberships: Vec<Membership>,
    pub disabled: bool,
    /// `password`, `oidc`, or both (`password+oidc`).
    #[serde(rename = "signIn")]
    pub sign_in: String,
    #[serde(rename = "createdAt")]
    pub created_at: Millis,
    #[serde(rename = "lastLoginAt")]
    pub last_login_at: Option<Millis>,
}

/// An invitation that has not been accepted yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationSummary {
    pub id: String,
    pub email: String,
    #[serde(rename = "orgId")]
    pub org_id: String,
    #[serde(rename = "orgName")]
    pub org_name: String,
    pub role: OrgRole,
    #[serde(rename = "createdBy")]
    pub created_by: String,
    #[serde(rename = "expiresAt")]
    pub expires_at: Millis,
}

/// What the users page shows: the accounts and organisations the caller may manage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsersView {
    pub users: Vec<UserSummary>,
    /// Organisations the caller may manage members of (all of them for a superadmin).
    pub orgs: Vec<Organisation>,
    pub invitations: Vec<InvitationSummary>,
    /// May change platform roles and disable accounts.
    #[serde(rename = "canManagePlatform")]
    pub can_manage_platform: bool,
    /// May create organisations.
    #[serde(rename = "canCreateOrgs")]
    pub can_create_orgs: bool,
}

/// The result of inviting someone: a link to send them, the same whether or not the address has an account
/// (they sign up with it, or accept it signed in), so the answer never tells which.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InviteOutcome {
    /// A one-time link to send to the person (shown once).
    Link {
        email: String,
        url: String,
        #[serde(rename = "expiresAt")]
        expires_at: Millis,
    },
}

/// An invitation as the sign-up page shows it before it is accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitePreview {
    pub email: String,
    #[serde(rename = "orgName")]
    pub org_name: String,
    pub role: OrgRole,
}

/// The browser cookie that carries a single sign-on identity waiting for its account's password (set by the
/// server's single sign-on callback, read by [`crate::auth::api::link_sso`]; path `/sovereign`, 10 minutes).
pub const SSO_LINK_COOKIE: &str = "catalyst_sso_link";

/// A single sign-on identity whose e-mail belongs to an existing account, as the login page asks for that
/// account's password before linking them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoLinkPreview {
    /// The existing account's e-mail address.
    pub email: String,
    /// The provider's name (`--oidc-label`).
    pub provider: String,
}

/// An API token as listed (the secret is shown once, at creation, and never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenInfo {
    pub id: String,
    pub name: String,
    /// The first characters of the token, to recognise it: `cat_Ab3x…`.
    pub prefix: String,
    #[serde(rename = "createdAt")]
    pub created_at: Millis,
    #[serde(rename = "lastUsedAt")]
    pub last_used_at: Option<Millis>,
    #[serde(rename = "expiresAt")]
    pub expires_at: Option<Millis>,
}

/// A freshly created API token: the only time its secret is visible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub info: ApiTokenInfo,
    pub secret: String,
}
